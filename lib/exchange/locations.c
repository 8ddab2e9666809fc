// SPDX-License-Identifier: GPL-2.0-only
/*
 * The softswitch's map of terminals to the SBCs holding them (locations.h): an idmap for the
 * names, an array of entries by slot, and one timer that sweeps a slice of the slots every
 * second, so that an entry nobody asks for again is still given back within a sweep of its
 * expiry; a lookup drops an expired entry at once. The entries grow in steps with the idmap's
 * slots (runtime/steps.h), and the sweep covers the slots handed out so far.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "gatekey/runtime/idmap.h"
#include "gatekey/runtime/steps.h"
#include "gatekey/exchange/locations.h"

#define SWEEP_MS    1000
#define SWEEP_SLICE 4096

struct entry {
	struct sockaddr_storage peer;
	uint64_t until_ms; /* loop clock; 0: slot free */
};

struct gk_locations {
	struct gk_loop *loop;
	struct gk_idmap *ids;
	struct entry *e; /* 1..capacity: steps.base, resident as far as ids' slots */
	struct gk_steps steps;
	uint32_t capacity, cursor;
	uint64_t ttl_ms;
	struct gk_timer sweep;
	struct gk_locations_stats st;
};

static void drop(struct gk_locations *l, uint32_t slot)
{
	l->e[slot].until_ms = 0;
	gk_idmap_remove(l->ids, slot);
	l->st.expired++;
}

static void sweep_fn(struct gk_timer *t)
{
	struct gk_locations *l =
	    (struct gk_locations *)((char *)t - offsetof(struct gk_locations, sweep));
	uint64_t now = gk_loop_now(l->loop);

	uint32_t top = gk_idmap_top(l->ids);

	for (uint32_t k = 0; k < SWEEP_SLICE && k < top; k++) {
		l->cursor = l->cursor % top + 1;
		struct entry *e = &l->e[l->cursor];
		if (e->until_ms && e->until_ms <= now)
			drop(l, l->cursor);
	}
	gk_timer_arm(l->loop, &l->sweep, SWEEP_MS);
}

/* The ID map is about to hand out slots up to top: the entries cover them first. */
static int entries_grow(void *arg, uint32_t top)
{
	struct gk_locations *l = arg;
	return gk_steps_reach(&l->steps, top + 1);
}

struct gk_locations *gk_locations_new(struct gk_loop *loop, uint32_t capacity, uint32_t ttl_s)
{
	struct gk_locations *l = capacity ? calloc(1, sizeof(*l)) : NULL;

	if (!l)
		return NULL;
	l->loop = loop;
	l->capacity = capacity;
	l->ttl_ms = (uint64_t)(ttl_s ? ttl_s : 1) * 1000;
	if (gk_steps_init(&l->steps, "locations", capacity + 1, sizeof(*l->e), 1) < 0) {
		free(l);
		return NULL;
	}
	l->e = (struct entry *)l->steps.base;
	l->ids = gk_idmap_new_opts(
	    capacity,
	    &(struct gk_idmap_opts){.name = "locations_ids", .grow = entries_grow, .arg = l});
	if (!l->ids) {
		gk_locations_free(l);
		return NULL;
	}
	l->sweep.fn = sweep_fn;
	gk_timer_arm(loop, &l->sweep, SWEEP_MS);
	return l;
}

void gk_locations_free(struct gk_locations *l)
{
	if (!l)
		return;
	if (gk_timer_armed(&l->sweep))
		gk_timer_cancel(l->loop, &l->sweep);
	gk_idmap_free(l->ids);
	gk_steps_free(&l->steps);
	free(l);
}

int gk_locations_set(struct gk_locations *l, const char *idc, const struct sockaddr_storage *peer)
{
	int created;
	uint32_t slot = gk_idmap_get_or_add(l->ids, idc, &created);

	if (!slot) {
		l->st.full++;
		return -1;
	}
	l->e[slot].peer = *peer;
	l->e[slot].until_ms = gk_loop_now(l->loop) + l->ttl_ms;
	l->st.set++;
	return 0;
}

void gk_locations_remove(struct gk_locations *l, const char *idc)
{
	uint32_t slot = gk_idmap_find(l->ids, idc);

	if (slot) {
		l->e[slot].until_ms = 0;
		gk_idmap_remove(l->ids, slot);
	}
}

int gk_locations_get(struct gk_locations *l, const char *idc, struct sockaddr_storage *peer)
{
	uint32_t slot = gk_idmap_find(l->ids, idc);

	if (!slot)
		return -1;
	if (l->e[slot].until_ms <= gk_loop_now(l->loop)) {
		drop(l, slot);
		return -1;
	}
	*peer = l->e[slot].peer;
	return 0;
}

uint32_t gk_locations_count(const struct gk_locations *l)
{
	return gk_idmap_count(l->ids);
}

const struct gk_locations_stats *gk_locations_stats(const struct gk_locations *l)
{
	return &l->st;
}
