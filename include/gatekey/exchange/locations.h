/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Which SBC holds each terminal that registered through one: the softswitch's location service
 * for routing a request to a terminal it does not face itself (sip_route.h). An entry is made
 * when the core's success verdict goes back to the SBC that asked for it, and replaced when the
 * terminal registers through another; the SBC stays the authority on its own bindings (it
 * answers 480 for one that has ended since), so an entry only has to outlive the longest
 * registration: every entry expires ttl_s after it was last made. A registration with the
 * softswitch itself removes the terminal's entry: the newest registration wins. Fixed capacity, no
 * allocation after creation; keys are hashed under a secret key (idmap.h).
 */
#ifndef GATEKEY_LOCATIONS_H
#define GATEKEY_LOCATIONS_H

#include <stdint.h>
#include <sys/socket.h>

#include "gatekey/runtime/loop.h"

struct gk_locations;

struct gk_locations_stats {
	uint64_t set;     /* entries made or renewed */
	uint64_t full;    /* entries that could not be made: every slot in use */
	uint64_t expired; /* entries dropped ttl_s after they were last made */
};

/* NULL when out of memory (or capacity 0). */
struct gk_locations *gk_locations_new(struct gk_loop *loop, uint32_t capacity, uint32_t ttl_s);
void gk_locations_free(struct gk_locations *l);
/* idc is now reached through the SBC at `peer`: 0, or -1 when full (counted). */
int gk_locations_set(struct gk_locations *l, const char *idc, const struct sockaddr_storage *peer);
/* idc registered elsewhere since (with the softswitch itself): its entry goes. */
void gk_locations_remove(struct gk_locations *l, const char *idc);
/* The SBC holding idc: 0 with *peer set, or -1 when none (or its entry expired). */
int gk_locations_get(struct gk_locations *l, const char *idc, struct sockaddr_storage *peer);
uint32_t gk_locations_count(const struct gk_locations *l);
const struct gk_locations_stats *gk_locations_stats(const struct gk_locations *l);

#endif
