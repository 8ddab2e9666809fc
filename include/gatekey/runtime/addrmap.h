/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Open-addressing map from a UDP source address (IPv4 or IPv6, with its port) to a terminal
 * index: fixed size, no tombstones, nothing allocated after creation. The addresses are chosen
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

/* NULL when out of memory, max_entries is over 2^30, or the CSPRNG fails (the slot key). */
struct gk_addrmap *gk_addrmap_new(uint32_t max_entries);
void gk_addrmap_free(struct gk_addrmap *m);
/* The value stored for a, 0 when absent (or a is neither AF_INET nor AF_INET6). */
uint32_t gk_addrmap_find(const struct gk_addrmap *m, const struct sockaddr_storage *a);
/* Maps a to val (not 0), replacing its value if present; -1 when a new address does not fit
 * (half the slots used: at least max_entries), val is 0, or a is neither AF_INET nor AF_INET6. */
int gk_addrmap_put(struct gk_addrmap *m, const struct sockaddr_storage *a, uint32_t val);
/* Removes a only while it still maps to val. */
void gk_addrmap_del(struct gk_addrmap *m, const struct sockaddr_storage *a, uint32_t val);
/* The home slot a hashes to in this map, 0..(gk_addrmap_slots - 1): for tests and diagnostics. */
uint32_t gk_addrmap_bucket(const struct gk_addrmap *m, const struct sockaddr_storage *a);
uint32_t gk_addrmap_slots(const struct gk_addrmap *m);
/* The bytes the map was given (its slots are calloc'ed: touched only as they are used). */
uint64_t gk_addrmap_memory(const struct gk_addrmap *m);

#endif
