/* SPDX-License-Identifier: GPL-2.0-only */
/* Open-addressing map from a UDP source address to a terminal index (fixed size, no tombstones). */
#ifndef GATEKEY_ADDRMAP_H
#define GATEKEY_ADDRMAP_H

#include <stdint.h>
#include <sys/socket.h>

#include "gatekey/loop.h"

struct gk_addrmap;

struct gk_addrmap *gk_addrmap_new(uint32_t max_entries);
void gk_addrmap_free(struct gk_addrmap *m);
uint32_t gk_addrmap_find(const struct gk_addrmap *m, const struct sockaddr_storage *a);
int gk_addrmap_put(struct gk_addrmap *m, const struct sockaddr_storage *a, uint32_t val);
/* Removes a only while it still maps to val. */
void gk_addrmap_del(struct gk_addrmap *m, const struct sockaddr_storage *a, uint32_t val);

#endif
