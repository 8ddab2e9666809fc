/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Attempts in progress, grouped by the ID they claim: the registrar's pending registrations and
 * the core's transactions. An ID names a group only while it has attempts: the group goes when
 * its last attempt does. This is what lets the exchange keep no record of an IDc before a valid
 * answer proves it (DESIGN §3): a stream of made-up IDcs costs a slot each for as long as the
 * attempt lives (the core's round trip, for an IDc the AuC does not know), never a record, an
 * index the fast path must hold, or anything that outlives the attempt.
 *
 * Items are the caller's slot numbers 1..capacity; an item is in at most one group. The arrays
 * grow in steps with the items and IDs in use (runtime/steps.h); nothing else is allocated after
 * creation.
 */
#ifndef GATEKEY_ATTEMPTS_H
#define GATEKEY_ATTEMPTS_H

#include <stdint.h>

struct gk_attempts;

/* NULL when out of memory or capacity is 0 or over 2^28. key names the tables in the stats
 * (runtime/steps.h): the items are key, the groups key_groups, their IDs key_ids. */
struct gk_attempts *gk_attempts_new(uint32_t capacity, const char *key);
void gk_attempts_free(struct gk_attempts *a);
/* Puts item into id's group (first in it): 0, or -1 when item is out of range or already in
 * a group, or memory for a step is short. */
int gk_attempts_link(struct gk_attempts *a, const char *id, uint32_t item);
/* Takes item out of its group, and forgets the group's ID with its last item. */
void gk_attempts_unlink(struct gk_attempts *a, uint32_t item);
/* The first item of id's group and the one after item, 0 at the end. */
uint32_t gk_attempts_first(const struct gk_attempts *a, const char *id);
uint32_t gk_attempts_next(const struct gk_attempts *a, uint32_t item);
/* The ID of item's group, NULL when item is in none. */
const char *gk_attempts_id(const struct gk_attempts *a, uint32_t item);
/* IDs with attempts, and items in groups. */
uint32_t gk_attempts_ids(const struct gk_attempts *a);
uint32_t gk_attempts_items(const struct gk_attempts *a);

#endif
