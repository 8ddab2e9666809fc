/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * RADIUS server duplicate detection (RFC 5080 §2.2.2): a request seen again from the same client,
 * with the same identifier and Request Authenticator, is a retransmission. It is answered with the
 * response already sent, byte for byte, instead of being processed a second time (a second
 * authentication vector, a second accounting Start).
 *
 * Direct-mapped on the Request Authenticator (random for Access-Requests, an MD5 over the packet
 * for accounting), nothing allocated but in a growth step: a newer request evicts an older one in
 * its slot, and an entry older than the lifetime is never used. The slots grow in steps up to the
 * configured number (runtime/steps.h), a step each time a live entry would be evicted.
 */
#ifndef GATEKEY_RAD_DEDUP_H
#define GATEKEY_RAD_DEDUP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "gatekey/auc/radius.h"

#define GK_RAD_DEDUP_RESP_MAX 512 /* longer responses are sent but not remembered */

struct gk_rad_dedup;

struct gk_rad_dedup_stats {
	uint64_t remembered, duplicates, too_long;
	uint64_t grown; /* steps taken: the cache doubled because a live entry was to be evicted */
};

/* slots is rounded up to a power of two; lifetime_ms is how long a response stays usable. */
struct gk_rad_dedup *gk_rad_dedup_new(uint32_t slots, uint64_t lifetime_ms);
void gk_rad_dedup_free(struct gk_rad_dedup *d);

/* The response remembered for this request, or NULL: *len is set when found. */
const uint8_t *gk_rad_dedup_find(struct gk_rad_dedup *d, const struct sockaddr_storage *from,
                                 const struct gk_rad_pkt *req, uint64_t now_ms, size_t *len);
/* Remembers resp as the answer to req from from. */
void gk_rad_dedup_put(struct gk_rad_dedup *d, const struct sockaddr_storage *from,
                      const struct gk_rad_pkt *req, const uint8_t *resp, size_t len,
                      uint64_t now_ms);
const struct gk_rad_dedup_stats *gk_rad_dedup_stats(const struct gk_rad_dedup *d);

#endif
