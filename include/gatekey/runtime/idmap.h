/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A map from an ID string to a slot number 1..capacity, with the slots allocated from a free
 * list. Chained through arrays, so lookups, inserts and removals allocate nothing on their own:
 * the arrays grow in steps up to capacity (runtime/steps.h), a step when the free list runs out,
 * and the buckets double with them (a rehash of the slots in use, from the hash each keeps). Used
 * for the registrar's and the core's per-IDc records, whose IDs anyone can send: the buckets are
 * chosen by SipHash under a random key per map, so which names collide cannot be known outside the
 * process.
 */
#ifndef GATEKEY_IDMAP_H
#define GATEKEY_IDMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "gatekey/runtime/limits.h"

struct gk_idmap;

/* How an owner keeps arrays of its own indexed by slot in step with the map. */
struct gk_idmap_opts {
	/* The slots' table key in the stats and the log (runtime/steps.h), copied; the buckets'
	 * is the same with "_buckets". NULL: "ids". */
	const char *name;
	/* Called before the slots up to `top` are handed out for the first time: the owner's
	 * arrays must then cover 1..top. Nonzero refuses the step (the map stays as it was). */
	int (*grow)(void *arg, uint32_t top);
	void *arg;
	/* A slot for which this is false is never handed out (gk_idmap_reserve, at each step). */
	bool (*usable)(uint32_t slot);
};

/* NULL when out of memory, capacity is 0 or over 2^28, or the CSPRNG fails (the bucket key).
 * opts may be NULL. */
struct gk_idmap *gk_idmap_new(uint32_t capacity);
struct gk_idmap *gk_idmap_new_opts(uint32_t capacity, const struct gk_idmap_opts *opts);
void gk_idmap_free(struct gk_idmap *m);
/* Slot of id, or 0 when absent. */
uint32_t gk_idmap_find(const struct gk_idmap *m, const char *id);
/* Slot of id, inserting it when absent; 0 when full (all capacity slots taken, or the next step
 * could not be had). *created tells which. */
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
/* The highest slot handed out or restorable without another step: every slot in use is at most
 * this, so a walk over the slots in use stops here instead of at capacity. */
uint32_t gk_idmap_top(const struct gk_idmap *m);
/* Bytes resident now, both arrays. */
uint64_t gk_idmap_memory(const struct gk_idmap *m);

#endif
