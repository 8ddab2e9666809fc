// SPDX-License-Identifier: GPL-2.0-only
/*
 * Attempts grouped by ID (include/gatekey/exchange/attempts.h): a keyed ID map as big as the item
 * space (each group holds at least one item, so it never fills first), a group head per ID slot and
 * a singly linked list through the items.
 */
#include <stdio.h>
#include <stdlib.h>

#include "gatekey/exchange/attempts.h"
#include "gatekey/runtime/idmap.h"
#include "gatekey/runtime/steps.h"

/* Items resident from the start; the owner's table grows in steps, and these with it. */
#define FIRST_ITEMS 256

struct item {
	uint32_t next;  /* next item of the same group, 0 = last */
	uint32_t group; /* ID slot, 0 = in no group */
};

struct gk_attempts {
	struct gk_idmap *ids;
	uint32_t capacity, items;
	struct gk_steps heads; /* uint32_t [ID slot]: first item, 0 = none; grown with ids' slots */
	struct gk_steps item;  /* struct item [item] */
};

static uint32_t *head(const struct gk_attempts *a, uint32_t g)
{
	return gk_steps_at(&a->heads, g);
}

static struct item *it(const struct gk_attempts *a, uint32_t i)
{
	return gk_steps_at(&a->item, i);
}

static int heads_grow(void *arg, uint32_t top)
{
	struct gk_attempts *a = arg;
	return gk_steps_reach(&a->heads, top + 1);
}

struct gk_attempts *gk_attempts_new(uint32_t capacity, const char *key)
{
	char groups[GK_STEPS_KEY_MAX], ids[GK_STEPS_KEY_MAX];
	struct gk_attempts *a;

	if (!capacity || capacity > (1u << 28) || !key ||
	    snprintf(groups, sizeof(groups), "%s_groups", key) >= (int)sizeof(groups) ||
	    snprintf(ids, sizeof(ids), "%s_ids", key) >= (int)sizeof(ids))
		return NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->capacity = capacity;
	if (gk_steps_init(&a->heads, groups, capacity + 1, sizeof(uint32_t), 1) < 0 ||
	    gk_steps_init(&a->item, key, capacity + 1, sizeof(struct item), FIRST_ITEMS) < 0 ||
	    !(a->ids = gk_idmap_new_opts(
	          capacity, &(struct gk_idmap_opts){.name = ids, .grow = heads_grow, .arg = a}))) {
		gk_attempts_free(a);
		return NULL;
	}
	return a;
}

void gk_attempts_free(struct gk_attempts *a)
{
	if (!a)
		return;
	gk_idmap_free(a->ids);
	gk_steps_free(&a->heads);
	gk_steps_free(&a->item);
	free(a);
}

int gk_attempts_link(struct gk_attempts *a, const char *id, uint32_t item)
{
	int created;
	uint32_t g;

	if (!item || item > a->capacity || gk_steps_reach(&a->item, item + 1) < 0 ||
	    it(a, item)->group)
		return -1;
	g = gk_idmap_get_or_add(a->ids, id, &created);
	if (!g) /* fewer groups than items in them: only when memory for a step is short */
		return -1;
	if (created)
		*head(a, g) = 0;
	it(a, item)->next = *head(a, g);
	*head(a, g) = item;
	it(a, item)->group = g;
	a->items++;
	return 0;
}

void gk_attempts_unlink(struct gk_attempts *a, uint32_t item)
{
	uint32_t g, *link;

	if (!item || item >= a->item.cap || !(g = it(a, item)->group))
		return;
	for (link = head(a, g); *link && *link != item; link = &it(a, *link)->next)
		;
	if (*link == item)
		*link = it(a, item)->next;
	it(a, item)->group = 0;
	it(a, item)->next = 0;
	a->items--;
	if (!*head(a, g))
		gk_idmap_remove(a->ids, g);
}

uint32_t gk_attempts_first(const struct gk_attempts *a, const char *id)
{
	uint32_t g = gk_idmap_find(a->ids, id);
	return g ? *head(a, g) : 0;
}

uint32_t gk_attempts_next(const struct gk_attempts *a, uint32_t item)
{
	return item && item < a->item.cap ? it(a, item)->next : 0;
}

const char *gk_attempts_id(const struct gk_attempts *a, uint32_t item)
{
	if (!item || item >= a->item.cap || !it(a, item)->group)
		return NULL;
	return gk_idmap_id(a->ids, it(a, item)->group);
}

uint32_t gk_attempts_ids(const struct gk_attempts *a)
{
	return gk_idmap_count(a->ids);
}

uint32_t gk_attempts_items(const struct gk_attempts *a)
{
	return a->items;
}
