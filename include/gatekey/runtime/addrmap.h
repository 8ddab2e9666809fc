/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Open-addressing map from a UDP source address (IPv4 or IPv6, with its port) to a terminal
 * index: no tombstones, slots that grow in steps up to twice max_entries (runtime/steps.h), and
 * nothing allocated but in a step. The addresses are chosen
 * by whoever registers, and spoofed sources are looked up on every datagram, so slots are
 * chosen by SipHash under a random key per map: which addresses collide cannot be known outside
 * the process.
 */
#ifndef GATEKEY_ADDRMAP_H
#define GATEKEY_ADDRMAP_H

#include <stdint.h>
#include <sys/socket.h>

#include "gatekey/runtime/loop.h"

struct gk_addrmap;

/* NULL when out of memory, max_entries is over 2^30, or the CSPRNG fails (the slot key). key
 * names the slots' table in the stats (runtime/steps.h). */
struct gk_addrmap *gk_addrmap_new(uint32_t max_entries, const char *key);
void gk_addrmap_free(struct gk_addrmap *m);
/* The value stored for a, 0 when absent (or a is neither AF_INET nor AF_INET6). */
uint32_t gk_addrmap_find(const struct gk_addrmap *m, const struct sockaddr_storage *a);
/* Maps a to val (not 0), replacing its value if present; -1 when a new address does not fit
 * (half the slots used: at least max_entries), val is 0, or a is neither AF_INET nor AF_INET6. */
int gk_addrmap_put(struct gk_addrmap *m, const struct sockaddr_storage *a, uint32_t val);
/* Removes a only while it still maps to val. */
void gk_addrmap_del(struct gk_addrmap *m, const struct sockaddr_storage *a, uint32_t val);
/* The home slot a hashes to in this map as it is now, 0..(gk_addrmap_slots - 1): for tests and
 * diagnostics. */
uint32_t gk_addrmap_bucket(const struct gk_addrmap *m, const struct sockaddr_storage *a);
/* The slots at the map's maximum (twice max_entries, a power of two). */
uint32_t gk_addrmap_slots(const struct gk_addrmap *m);
/* The bytes the map holds at its maximum (its slots grow in steps up to it). */
uint64_t gk_addrmap_memory(const struct gk_addrmap *m);

#endif
