// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ID map (include/gatekey/runtime/idmap.h): chained buckets in arrays, a doubly linked free
 * list. The IDs come from the network (any REGISTER names one, before anything is verified), so the
 * bucket hash is keyed: SipHash-2-4-64 under 16 bytes from the CSPRNG, drawn per table
 * (include/gatekey/crypto/siphash.h). With the unkeyed FNV-1a this replaced, anyone could compute
 * offline thousands of names sharing one bucket and make every registration walk that chain.
 *
 * Both arrays grow in steps (runtime/steps.h). The entries double when the free list runs out (or
 * a restore names a slot past them), and the new slots join the free list lowest first. The
 * buckets then double too, keeping at least two per slot. Each entry keeps its hash, so a rehash
 * re-links the chains without hashing an ID again: O(slots), at most log2(capacity) times.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatekey/crypto/crypto.h"
#include "gatekey/runtime/idmap.h"
#include "gatekey/runtime/steps.h"
#include "gatekey/crypto/siphash.h"

/* Slots in the first step: 1,024 entries are 84 KiB. */
#define FIRST_SLOTS 1024u

struct entry {
	char id[GK_ID_MAX + 1];
	uint32_t next;                 /* next slot in the bucket chain */
	uint32_t free_prev, free_next; /* the free list is doubly linked: gk_idmap_add_at */
	uint32_t hash;                 /* the bucket is hash & mask */
	uint8_t used;
	uint8_t reserved; /* never handed out: gk_idmap_reserve */
};

struct gk_idmap {
	uint32_t capacity, count, mask, free_head;
	uint32_t reserved;       /* slots never handed out (unusable, or gk_idmap_reserve) */
	struct gk_steps buckets; /* mask + 1 of them resident and in use */
	struct gk_steps entries; /* index 1..capacity; 1..entries.cap - 1 resident */
	struct gk_idmap_opts opts;
	uint8_t key[GK_SIPHASH_KEY_LEN];
};

static uint32_t hash_of(const struct gk_idmap *m, const char *id, size_t len)
{
	return (uint32_t)gk_siphash64(m->key, id, len);
}

static struct entry *ent(const struct gk_idmap *m, uint32_t s)
{
	return gk_steps_at(&m->entries, s);
}

static uint32_t *bucket(const struct gk_idmap *m, uint32_t hash)
{
	return gk_steps_at(&m->buckets, hash & m->mask);
}

/* Buckets for slots 1..top: a power of two, at least twice top (a keyed hash spreads names at
 * random, so chain lengths follow a Poisson law of the load, and every lookup walks its chain). */
static uint32_t buckets_for(uint32_t top)
{
	uint32_t nb = 1;
	while (nb < 2 * top)
		nb <<= 1;
	return nb;
}

static void link_bucket(struct gk_idmap *m, uint32_t s)
{
	uint32_t *b = bucket(m, ent(m, s)->hash);
	ent(m, s)->next = *b;
	*b = s;
}

/* Slots from..to join the free list, lowest first at its head; unusable ones are reserved. */
static void link_free(struct gk_idmap *m, uint32_t from, uint32_t to)
{
	for (uint32_t s = to; s >= from; s--) {
		struct entry *e = ent(m, s);
		if (m->opts.usable && !m->opts.usable(s)) {
			e->reserved = 1;
			m->reserved++;
			continue;
		}
		e->free_prev = 0;
		e->free_next = m->free_head;
		if (m->free_head)
			ent(m, m->free_head)->free_prev = s;
		m->free_head = s;
	}
}

/* One step: slots up to the next doubling, joined to the free list; the buckets doubled with them
 * and every chain re-linked. -1 at capacity, out of memory, or refused by the owner. */
static int grow(struct gk_idmap *m)
{
	uint32_t old = m->entries.cap, n = gk_steps_next(&m->entries), nb = buckets_for(n - 1);

	if (old >= m->entries.max || (m->opts.grow && m->opts.grow(m->opts.arg, n - 1) != 0) ||
	    gk_steps_reach(&m->buckets, nb) < 0 || !gk_steps_grow(&m->entries))
		return -1;
	if (nb > m->mask + 1) {
		m->mask = nb - 1;
		memset(m->buckets.base, 0, (size_t)nb * sizeof(uint32_t));
		for (uint32_t s = 1; s < old; s++)
			if (ent(m, s)->used)
				link_bucket(m, s);
	}
	link_free(m, old, n - 1);
	return 0;
}

struct gk_idmap *gk_idmap_new_opts(uint32_t capacity, const struct gk_idmap_opts *opts)
{
	struct gk_idmap *m = calloc(1, sizeof(*m));
	char buckets_key[GK_STEPS_KEY_MAX];
	const char *name;
	uint32_t top;

	if (!m || capacity == 0 || capacity > (1u << 28))
		goto fail;
	if (opts)
		m->opts = *opts;
	name = m->opts.name ? m->opts.name : "ids";
	snprintf(buckets_key, sizeof(buckets_key), "%s_buckets", name);
	if (gk_random(m->key, sizeof(m->key)) < 0 ||
	    gk_steps_init(&m->entries, name, capacity + 1, sizeof(struct entry), FIRST_SLOTS) < 0)
		goto fail;
	top = m->entries.cap - 1;
	if (gk_steps_init(&m->buckets, buckets_key, buckets_for(capacity), sizeof(uint32_t),
	                  buckets_for(top)) < 0 ||
	    (m->opts.grow && m->opts.grow(m->opts.arg, top) != 0))
		goto fail;
	m->capacity = capacity;
	m->mask = m->buckets.cap - 1;
	link_free(m, 1, top);
	return m;
fail:
	gk_idmap_free(m);
	return NULL;
}

struct gk_idmap *gk_idmap_new(uint32_t capacity)
{
	return gk_idmap_new_opts(capacity, NULL);
}

void gk_idmap_free(struct gk_idmap *m)
{
	if (!m)
		return;
	gk_steps_free(&m->buckets);
	gk_steps_free(&m->entries);
	gk_wipe(m->key, sizeof(m->key));
	free(m);
}

uint32_t gk_idmap_bucket(const struct gk_idmap *m, const char *id)
{
	return hash_of(m, id, strlen(id)) & m->mask;
}

uint32_t gk_idmap_find(const struct gk_idmap *m, const char *id)
{
	for (uint32_t s = *bucket(m, hash_of(m, id, strlen(id))); s; s = ent(m, s)->next)
		if (strcmp(ent(m, s)->id, id) == 0)
			return s;
	return 0;
}

static void free_unlink(struct gk_idmap *m, uint32_t s)
{
	struct entry *e = ent(m, s);
	if (e->free_prev)
		ent(m, e->free_prev)->free_next = e->free_next;
	else
		m->free_head = e->free_next;
	if (e->free_next)
		ent(m, e->free_next)->free_prev = e->free_prev;
	e->free_prev = e->free_next = 0;
}

static void insert(struct gk_idmap *m, uint32_t s, const char *id, uint32_t hash)
{
	struct entry *e = ent(m, s);
	free_unlink(m, s);
	strcpy(e->id, id);
	e->hash = hash;
	e->used = 1;
	link_bucket(m, s);
	m->count++;
	/* slot 0, the reserved slots and every ID held: the free list runs out past that */
	gk_steps_need(&m->entries, m->count + m->reserved + 1);
}

uint32_t gk_idmap_get_or_add(struct gk_idmap *m, const char *id, int *created)
{
	size_t len = strlen(id);
	uint32_t h = hash_of(m, id, len);
	*created = 0;
	for (uint32_t s = *bucket(m, h); s; s = ent(m, s)->next)
		if (strcmp(ent(m, s)->id, id) == 0)
			return s;
	if (len > GK_ID_MAX)
		return 0;
	while (!m->free_head)
		if (grow(m) < 0)
			return 0;
	uint32_t s = m->free_head;
	insert(m, s, id, h);
	*created = 1;
	return s;
}

/* Steps until slot is resident, which is then needed: -1 when it cannot be. */
static int reach(struct gk_idmap *m, uint32_t slot)
{
	if (!slot || slot > m->capacity)
		return -1;
	gk_steps_need(&m->entries, slot + 1);
	while (slot >= m->entries.cap)
		if (grow(m) < 0)
			return -1;
	return 0;
}

int gk_idmap_add_at(struct gk_idmap *m, const char *id, uint32_t slot)
{
	if (strlen(id) > GK_ID_MAX || reach(m, slot) < 0 || ent(m, slot)->used ||
	    ent(m, slot)->reserved || gk_idmap_find(m, id))
		return -1;
	insert(m, slot, id, hash_of(m, id, strlen(id)));
	return 0;
}

void gk_idmap_reserve(struct gk_idmap *m, uint32_t slot)
{
	if (reach(m, slot) < 0 || ent(m, slot)->used || ent(m, slot)->reserved)
		return;
	free_unlink(m, slot);
	ent(m, slot)->reserved = 1;
	m->reserved++;
}

void gk_idmap_remove(struct gk_idmap *m, uint32_t slot)
{
	if (!slot || slot >= m->entries.cap || !ent(m, slot)->used)
		return;
	struct entry *e = ent(m, slot);
	uint32_t *link = bucket(m, e->hash);
	while (*link && *link != slot)
		link = &ent(m, *link)->next;
	if (*link)
		*link = e->next;
	memset(e, 0, sizeof(*e));
	e->free_next = m->free_head;
	if (m->free_head)
		ent(m, m->free_head)->free_prev = slot;
	m->free_head = slot;
	m->count--;
}

const char *gk_idmap_id(const struct gk_idmap *m, uint32_t slot)
{
	return slot && slot < m->entries.cap && ent(m, slot)->used ? ent(m, slot)->id : NULL;
}

uint32_t gk_idmap_count(const struct gk_idmap *m)
{
	return m->count;
}

uint32_t gk_idmap_capacity(const struct gk_idmap *m)
{
	return m->capacity;
}

uint32_t gk_idmap_top(const struct gk_idmap *m)
{
	return m->entries.cap - 1;
}

uint64_t gk_idmap_memory(const struct gk_idmap *m)
{
	return gk_steps_bytes(&m->entries) + gk_steps_bytes(&m->buckets);
}
