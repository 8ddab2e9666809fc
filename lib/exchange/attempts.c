// SPDX-License-Identifier: GPL-2.0-only
/*
 * Attempts grouped by ID (include/gatekey/exchange/attempts.h): a keyed ID map as big as the item
 * space (each group holds at least one item, so it never fills first), a group head per ID slot and
 * a singly linked list through the items.
 */
#include <stdlib.h>

#include "gatekey/exchange/attempts.h"
#include "gatekey/runtime/idmap.h"
#include "gatekey/runtime/resident.h"

struct gk_attempts {
	struct gk_idmap *ids;
	uint32_t capacity, items;
	uint32_t *head;  /* [ID slot] first item, 0 = none */
	uint32_t *next;  /* [item] next item of the same group, 0 = last */
	uint32_t *group; /* [item] ID slot, 0 = in no group */
};

struct gk_attempts *gk_attempts_new(uint32_t capacity)
{
	struct gk_attempts *a;

	if (!capacity || capacity > (1u << 28))
		return NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->capacity = capacity;
	a->ids = gk_idmap_new(capacity);
	a->head = gk_table_alloc((size_t)capacity + 1, sizeof(*a->head));
	a->next = gk_table_alloc((size_t)capacity + 1, sizeof(*a->next));
	a->group = gk_table_alloc((size_t)capacity + 1, sizeof(*a->group));
	if (!a->ids || !a->head || !a->next || !a->group) {
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
	free(a->head);
	free(a->next);
	free(a->group);
	free(a);
}

int gk_attempts_link(struct gk_attempts *a, const char *id, uint32_t item)
{
	int created;
	uint32_t g;

	if (!item || item > a->capacity || a->group[item])
		return -1;
	g = gk_idmap_get_or_add(a->ids, id, &created);
	if (!g) /* cannot happen: fewer groups than items in them */
		return -1;
	if (created)
		a->head[g] = 0;
	a->next[item] = a->head[g];
	a->head[g] = item;
	a->group[item] = g;
	a->items++;
	return 0;
}

void gk_attempts_unlink(struct gk_attempts *a, uint32_t item)
{
	uint32_t g, *link;

	if (!item || item > a->capacity || !(g = a->group[item]))
		return;
	for (link = &a->head[g]; *link && *link != item; link = &a->next[*link])
		;
	if (*link == item)
		*link = a->next[item];
	a->group[item] = 0;
	a->next[item] = 0;
	a->items--;
	if (!a->head[g])
		gk_idmap_remove(a->ids, g);
}

uint32_t gk_attempts_first(const struct gk_attempts *a, const char *id)
{
	uint32_t g = gk_idmap_find(a->ids, id);
	return g ? a->head[g] : 0;
}

uint32_t gk_attempts_next(const struct gk_attempts *a, uint32_t item)
{
	return item && item <= a->capacity ? a->next[item] : 0;
}

const char *gk_attempts_id(const struct gk_attempts *a, uint32_t item)
{
	if (!item || item > a->capacity || !a->group[item])
		return NULL;
	return gk_idmap_id(a->ids, a->group[item]);
}

uint32_t gk_attempts_ids(const struct gk_attempts *a)
{
	return gk_idmap_count(a->ids);
}

uint32_t gk_attempts_items(const struct gk_attempts *a)
{
	return a->items;
}
