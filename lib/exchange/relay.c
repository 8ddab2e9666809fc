// SPDX-License-Identifier: GPL-2.0-only
/*
 * The relay's slot table (relay.h): a free list, and the waiting slots in a list in the order
 * they were taken, which is also the order of their deadlines (every slot waits ttl_ms on the
 * loop's clock, which never goes back). Taking, answering and expiring a slot are O(1); the one
 * timer is re-armed only when it fires, for the slot that is then the oldest. The table grows in
 * steps (runtime/steps.h): when the free list runs out, the next doubling joins it.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "gatekey/exchange/relay.h"
#include "gatekey/runtime/steps.h"

struct slot {
	struct gk_relay_txn t;
	uint64_t deadline_ms; /* loop clock */
	uint32_t gen;
	uint32_t next_free;
	uint32_t older, newer; /* the waiting list; 0 = none */
	bool used;
};

struct gk_relay {
	struct gk_loop *loop;
	struct slot *slots; /* 1..n: steps.base, resident up to steps.cap - 1 */
	struct gk_steps steps;
	uint32_t n, free_head;
	uint32_t oldest, newest; /* ends of the waiting list */
	uint32_t ttl_ms;
	struct gk_timer expiry;
	struct gk_relay_stats st;
};

static void expiry_fn(struct gk_timer *t);

/* Slots resident from the start (10 KiB each, with the request they carry). */
#define FIRST_SLOTS 64

/* The resident slots from `from` on join the free list, lowest first. */
static void link_free(struct gk_relay *r, uint32_t from)
{
	for (uint32_t i = r->steps.cap - 1; i >= from; i--) {
		r->slots[i].next_free = r->free_head;
		r->free_head = i;
	}
}

struct gk_relay *gk_relay_new(struct gk_loop *loop, uint32_t n, uint32_t ttl_ms, const char *key)
{
	struct gk_relay *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	if (!n || gk_steps_init(&r->steps, key, n + 1, sizeof(*r->slots), FIRST_SLOTS) < 0) {
		free(r);
		return NULL;
	}
	r->slots = (struct slot *)r->steps.base;
	r->loop = loop;
	r->n = n;
	r->ttl_ms = ttl_ms ? ttl_ms : 1;
	r->expiry.fn = expiry_fn;
	link_free(r, 1);
	return r;
}

void gk_relay_free(struct gk_relay *r)
{
	if (!r)
		return;
	gk_timer_cancel(r->loop, &r->expiry);
	gk_steps_free(&r->steps);
	free(r);
}

static uint32_t slot_index(const struct gk_relay *r, const struct slot *s)
{
	return (uint32_t)(s - r->slots);
}

struct gk_relay_txn *gk_relay_alloc(struct gk_relay *r, uint64_t *ref)
{
	uint32_t i, from;
	if (!r->free_head) {
		if (!(from = gk_steps_grow(&r->steps))) {
			r->st.full++; /* all n waiting, or no memory for more */
			return NULL;
		}
		link_free(r, from);
	}
	i = r->free_head;
	struct slot *s = &r->slots[i];
	r->free_head = s->next_free;
	s->used = true;
	s->gen++;
	s->deadline_ms = gk_loop_now(r->loop) + r->ttl_ms;
	s->older = r->newest;
	s->newer = 0;
	if (r->newest)
		r->slots[r->newest].newer = i;
	else
		r->oldest = i;
	r->newest = i;
	r->st.taken++;
	r->st.waiting++;
	gk_steps_need(&r->steps, r->st.waiting + 1); /* and slot 0 */
	/* Armed, it fires for a slot at least as old as this one, and re-arms for the rest. */
	if (!gk_timer_armed(&r->expiry))
		gk_timer_arm(r->loop, &r->expiry, r->ttl_ms);
	*ref = GK_REF_PEER | ((uint64_t)(s->gen & 0x7fffffff) << 32) | i;
	return &s->t;
}

void gk_relay_release(struct gk_relay *r, struct gk_relay_txn *t)
{
	struct slot *s = (struct slot *)t;
	uint32_t i = slot_index(r, s);

	if (s->older)
		r->slots[s->older].newer = s->newer;
	else
		r->oldest = s->newer;
	if (s->newer)
		r->slots[s->newer].older = s->older;
	else
		r->newest = s->older;
	s->older = s->newer = 0;
	s->used = false;
	s->next_free = r->free_head;
	r->free_head = i;
	r->st.waiting--;
}

struct gk_relay_txn *gk_relay_take(struct gk_relay *r, uint64_t ref)
{
	uint32_t i = (uint32_t)ref;
	uint32_t gen = (uint32_t)((ref & ~GK_REF_PEER) >> 32);
	if (!i || i >= r->steps.cap || !r->slots[i].used || (r->slots[i].gen & 0x7fffffff) != gen)
		return NULL;
	return &r->slots[i].t;
}

const struct gk_relay_stats *gk_relay_stats(const struct gk_relay *r)
{
	return &r->st;
}

/* Frees every slot whose answer is overdue; the answer, should it still come, finds nothing. */
static void expiry_fn(struct gk_timer *t)
{
	struct gk_relay *r = (struct gk_relay *)((char *)t - offsetof(struct gk_relay, expiry));
	uint64_t now = gk_loop_now(r->loop);

	while (r->oldest && r->slots[r->oldest].deadline_ms <= now) {
		gk_relay_release(r, &r->slots[r->oldest].t);
		r->st.expired++;
	}
	if (r->oldest)
		gk_timer_arm(r->loop, &r->expiry, r->slots[r->oldest].deadline_ms - now);
}
