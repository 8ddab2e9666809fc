/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A fixed-capacity map from an ID string to a slot number 1..capacity, with the slots allocated
 * from a free list. Chained through arrays, so lookups, inserts and removals allocate nothing
 * after creation. Used for the registrar's and the core's per-IDc records, whose IDs anyone can
 * send: the buckets are chosen by SipHash under a random key per map, so which names collide
 * cannot be known outside the process.
 */
#ifndef GATEKEY_IDMAP_H
#define GATEKEY_IDMAP_H

#include <stdint.h>

#include "gatekey/runtime/limits.h"

struct gk_idmap;

/* NULL when out of memory, capacity is 0 or over 2^28, or the CSPRNG fails (the bucket key). */
struct gk_idmap *gk_idmap_new(uint32_t capacity);
void gk_idmap_free(struct gk_idmap *m);
/* Slot of id, or 0 when absent. */
uint32_t gk_idmap_find(const struct gk_idmap *m, const char *id);
/* Slot of id, inserting it when absent; 0 when full. *created tells which. */
uint32_t gk_idmap_get_or_add(struct gk_idmap *m, const char *id, int *created);
/* Puts id at a given free slot (restoring state saved elsewhere); -1 when the slot is taken,
 * out of range, or id is already present. */
int gk_idmap_add_at(struct gk_idmap *m, const char *id, uint32_t slot);
/* Takes a free slot out of use for good (a terminal index that must never be handed out). */
void gk_idmap_reserve(struct gk_idmap *m, uint32_t slot);
void gk_idmap_remove(struct gk_idmap *m, uint32_t slot);
const char *gk_idmap_id(const struct gk_idmap *m, uint32_t slot);
/* The bucket id hashes to in this map, 0..(buckets - 1): for tests and diagnostics. */
uint32_t gk_idmap_bucket(const struct gk_idmap *m, const char *id);
uint32_t gk_idmap_count(const struct gk_idmap *m);
uint32_t gk_idmap_capacity(const struct gk_idmap *m);

#endif
