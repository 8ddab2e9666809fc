// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ID map (include/gatekey/runtime/idmap.h): chained buckets in arrays, a doubly linked free
 * list. The IDs come from the network (any REGISTER names one, before anything is verified), so the
 * bucket hash is keyed: SipHash-2-4-64 under 16 bytes from the CSPRNG, drawn per table
 * (include/gatekey/crypto/siphash.h). With the unkeyed FNV-1a this replaced, anyone could compute
 * offline thousands of names sharing one bucket and make every registration walk that chain.
 */
#include <stdlib.h>
#include <string.h>

#include "gatekey/crypto/crypto.h"
#include "gatekey/runtime/idmap.h"
#include "gatekey/runtime/resident.h"
#include "gatekey/crypto/siphash.h"

struct entry {
	char id[GK_ID_MAX + 1];
	uint32_t next;                 /* next slot in the bucket chain */
	uint32_t free_prev, free_next; /* the free list is doubly linked: gk_idmap_add_at */
	uint32_t bucket;
	uint8_t used;
	uint8_t reserved; /* never handed out: gk_idmap_reserve */
};

struct gk_idmap {
	uint32_t capacity, count, mask, free_head;
	uint32_t *buckets;
	struct entry *entries; /* index 1..capacity */
	uint8_t key[GK_SIPHASH_KEY_LEN];
};

static uint32_t bucket_of(const struct gk_idmap *m, const char *id, size_t len)
{
	return (uint32_t)gk_siphash64(m->key, id, len) & m->mask;
}

struct gk_idmap *gk_idmap_new(uint32_t capacity)
{
	struct gk_idmap *m = calloc(1, sizeof(*m));
	uint32_t nb = 1;

	if (!m || capacity == 0 || capacity > (1u << 28))
		goto fail;
	/* At most half as many entries as buckets: a keyed hash spreads names at random, so
	 * chain lengths follow a Poisson law of the load, and every lookup walks its chain. */
	while (nb < 2 * capacity)
		nb <<= 1;
	if (gk_random(m->key, sizeof(m->key)) < 0)
		goto fail;
	m->capacity = capacity;
	m->mask = nb - 1;
	m->buckets = gk_table_alloc(nb, sizeof(*m->buckets));
	m->entries = gk_table_alloc((size_t)capacity + 1, sizeof(*m->entries));
	if (!m->buckets || !m->entries)
		goto fail;
	for (uint32_t i = 1; i <= capacity; i++) {
		m->entries[i].free_prev = i - 1;
		m->entries[i].free_next = i < capacity ? i + 1 : 0;
	}
	m->free_head = 1;
	return m;
fail:
	gk_idmap_free(m);
	return NULL;
}

void gk_idmap_free(struct gk_idmap *m)
{
	if (!m)
		return;
	free(m->buckets);
	free(m->entries);
	free(m);
}

uint32_t gk_idmap_bucket(const struct gk_idmap *m, const char *id)
{
	return bucket_of(m, id, strlen(id));
}

uint32_t gk_idmap_find(const struct gk_idmap *m, const char *id)
{
	for (uint32_t s = m->buckets[bucket_of(m, id, strlen(id))]; s; s = m->entries[s].next)
		if (strcmp(m->entries[s].id, id) == 0)
			return s;
	return 0;
}

static void free_unlink(struct gk_idmap *m, uint32_t s)
{
	struct entry *e = &m->entries[s];
	if (e->free_prev)
		m->entries[e->free_prev].free_next = e->free_next;
	else
		m->free_head = e->free_next;
	if (e->free_next)
		m->entries[e->free_next].free_prev = e->free_prev;
	e->free_prev = e->free_next = 0;
}

static void insert(struct gk_idmap *m, uint32_t s, const char *id, uint32_t b)
{
	struct entry *e = &m->entries[s];
	free_unlink(m, s);
	strcpy(e->id, id);
	e->bucket = b;
	e->used = 1;
	e->next = m->buckets[b];
	m->buckets[b] = s;
	m->count++;
}

uint32_t gk_idmap_get_or_add(struct gk_idmap *m, const char *id, int *created)
{
	size_t len = strlen(id);
	uint32_t b = bucket_of(m, id, len);
	*created = 0;
	for (uint32_t s = m->buckets[b]; s; s = m->entries[s].next)
		if (strcmp(m->entries[s].id, id) == 0)
			return s;
	uint32_t s = m->free_head;
	if (!s || len > GK_ID_MAX)
		return 0;
	insert(m, s, id, b);
	*created = 1;
	return s;
}

int gk_idmap_add_at(struct gk_idmap *m, const char *id, uint32_t slot)
{
	if (!slot || slot > m->capacity || m->entries[slot].used || m->entries[slot].reserved ||
	    strlen(id) > GK_ID_MAX || gk_idmap_find(m, id))
		return -1;
	insert(m, slot, id, gk_idmap_bucket(m, id));
	return 0;
}

void gk_idmap_reserve(struct gk_idmap *m, uint32_t slot)
{
	if (!slot || slot > m->capacity || m->entries[slot].used || m->entries[slot].reserved)
		return;
	free_unlink(m, slot);
	m->entries[slot].reserved = 1;
}

void gk_idmap_remove(struct gk_idmap *m, uint32_t slot)
{
	if (!slot || slot > m->capacity || !m->entries[slot].used)
		return;
	struct entry *e = &m->entries[slot];
	uint32_t *link = &m->buckets[e->bucket];
	while (*link && *link != slot)
		link = &m->entries[*link].next;
	if (*link)
		*link = e->next;
	memset(e, 0, sizeof(*e));
	e->free_next = m->free_head;
	if (m->free_head)
		m->entries[m->free_head].free_prev = slot;
	m->free_head = slot;
	m->count--;
}

const char *gk_idmap_id(const struct gk_idmap *m, uint32_t slot)
{
	return slot && slot <= m->capacity && m->entries[slot].used ? m->entries[slot].id : NULL;
}

uint32_t gk_idmap_count(const struct gk_idmap *m)
{
	return m->count;
}

uint32_t gk_idmap_capacity(const struct gk_idmap *m)
{
	return m->capacity;
}
