// SPDX-License-Identifier: GPL-2.0-only
#include <stdbool.h>
#include <stdlib.h>

#include "gatekey/relay.h"

struct slot {
	struct gk_relay_txn t;
	uint32_t gen;
	uint32_t next_free;
	bool used;
};

struct gk_relay {
	struct slot *slots;
	uint32_t n, free_head;
};

struct gk_relay *gk_relay_new(uint32_t n)
{
	struct gk_relay *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->slots = calloc((size_t)n + 1, sizeof(*r->slots));
	if (!r->slots) {
		free(r);
		return NULL;
	}
	r->n = n;
	for (uint32_t i = n; i >= 1; i--) {
		r->slots[i].next_free = r->free_head;
		r->free_head = i;
	}
	return r;
}

void gk_relay_free(struct gk_relay *r)
{
	if (!r)
		return;
	free(r->slots);
	free(r);
}

struct gk_relay_txn *gk_relay_alloc(struct gk_relay *r, uint64_t *ref)
{
	uint32_t i = r->free_head;
	if (!i)
		return NULL;
	struct slot *s = &r->slots[i];
	r->free_head = s->next_free;
	s->used = true;
	s->gen++;
	*ref = GK_REF_PEER | ((uint64_t)(s->gen & 0x7fffffff) << 32) | i;
	return &s->t;
}

void gk_relay_release(struct gk_relay *r, struct gk_relay_txn *t)
{
	struct slot *s = (struct slot *)t;
	uint32_t i = (uint32_t)(s - r->slots);
	s->used = false;
	s->next_free = r->free_head;
	r->free_head = i;
}

struct gk_relay_txn *gk_relay_take(struct gk_relay *r, uint64_t ref)
{
	uint32_t i = (uint32_t)ref;
	uint32_t gen = (uint32_t)((ref & ~GK_REF_PEER) >> 32);
	if (!i || i > r->n || !r->slots[i].used || (r->slots[i].gen & 0x7fffffff) != gen)
		return NULL;
	return &r->slots[i].t;
}
