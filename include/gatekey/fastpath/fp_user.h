/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The fast path in userspace: what sbcd runs on every access datagram when no XDP program is
 * attached. It holds the same state as the XDP maps (terminals by index, sources, per-host and
 * global buckets, per-decision counters) and calls the same decision (gatekey/fastpath.h), so a
 * datagram gets the same verdict in both places.
 */
#ifndef GATEKEY_FP_USER_H
#define GATEKEY_FP_USER_H

#include <stdint.h>
#include <sys/socket.h>

#include "gatekey/fastpath/fastpath.h"

struct gk_fp_user;

/* Sized as the XDP maps are for max_terminals (gk_fp_sizes_of): terminal indexes 1..that many,
 * host buckets in a fixed table (rounded up to a power of two) where a new host takes the slot
 * of the one it collides with, like an LRU. NULL when out of memory or max_terminals is over
 * GK_FP_TERMINALS_MAX. */
struct gk_fp_user *gk_fp_user_new(uint32_t max_terminals);
void gk_fp_user_free(struct gk_fp_user *u);
void gk_fp_user_set_config(struct gk_fp_user *u, const struct gk_fp_config *cfg);
const struct gk_fp_config *gk_fp_user_config(const struct gk_fp_user *u);
/* The terminal indexes it holds: 1..this. */
uint32_t gk_fp_user_terminals(const struct gk_fp_user *u);
/* The bytes its tables were given (calloc: pages are touched only as they are used). */
uint64_t gk_fp_user_memory(const struct gk_fp_user *u);

/* As gk_xdp_terminal_add/_del. key may be NULL for a digest terminal. */
int gk_fp_user_terminal_add(struct gk_fp_user *u, uint32_t index,
                            const struct sockaddr_storage *source, enum gk_fp_mech mech,
                            const uint8_t key[16]);
void gk_fp_user_terminal_del(struct gk_fp_user *u, uint32_t index);
/* The highest sequence number accepted from terminal index (0: none, or no such terminal). */
uint64_t gk_fp_user_window_top(const struct gk_fp_user *u, uint32_t index);
/* A restarted sbcd's window for index (bindstore.h): every sequence number up to top counts
 * as seen. */
void gk_fp_user_window_restore(struct gk_fp_user *u, uint32_t index, uint64_t top);

/*
 * The decision on one datagram of len bytes that arrived at local UDP port dport from `from`.
 * Returns the payload length to hand on (trailer stripped after a gk-mac pass) and sets *index
 * to the verified terminal (0 unless the trailer verified), or -1 to drop. *stat says which
 * decision, and is counted.
 */
long gk_fp_user_check(struct gk_fp_user *u, uint16_t dport, const struct sockaddr_storage *from,
                      const uint8_t *buf, uint32_t len, uint64_t now_ns, uint32_t *index,
                      enum gk_fp_stat *stat);

const uint64_t *gk_fp_user_stats(const struct gk_fp_user *u); /* GK_FP_STAT__COUNT entries */

#endif
