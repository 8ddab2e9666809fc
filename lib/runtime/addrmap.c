// SPDX-License-Identifier: GPL-2.0-only
/*
 * The address map (include/gatekey/runtime/addrmap.h): open addressing with linear probing and
 * backward-shift deletion, so there are no tombstones to clean up.
 *
 * The keys are UDP source addresses of registered terminals, and every datagram from an unknown
 * source looks one up (lib/fastpath/fp_user.c, lib/exchange/registrar.c). With the unkeyed FNV this
 * replaced, an attacker who can register from addresses and ports of his choice (a few
 * subscriptions, any NAT) computes offline which of them share a home slot; linear probing then
 * joins them into one cluster that every insert, and every lookup of a spoofed source aimed at its
 * start, walks to its end. So the slot comes from SipHash-2-4-64 under 16 bytes from the CSPRNG
 * drawn per map (include/gatekey/crypto/siphash.h, as lib/runtime/idmap.c): where an address lands
 * is unpredictable from outside and differs between maps and runs.
 *
 * A slot holds the address in compact form (20 bytes instead of a 128-byte sockaddr_storage)
 * and the full hash: probing compares the hash before the address, and deletion finds each
 * shifted entry's home slot without hashing it again.
 *
 * The slots grow in steps (runtime/steps.h): the map starts at 1,024 slots and doubles whenever
 * a new address would fill more than a quarter of them, so probes stay short while it grows; at
 * its maximum (twice max_entries, as before) it takes addresses up to half full. A step moves
 * the entries into the doubled table through a copy on the heap (28 bytes an entry, taken and
 * given back in the step): at most log2 of the maximum times in the map's life.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "gatekey/runtime/addrmap.h"
#include "gatekey/runtime/steps.h"
#include "gatekey/crypto/crypto.h"
#include "gatekey/crypto/siphash.h"

/* port and addr are adjacent, so the hash input is the first 2 + address length bytes. */
struct key {
	uint16_t port; /* network order, as in the sockaddr */
	uint8_t addr[16];
	uint8_t family; /* 4 or 6; 0 = not an address this map holds */
	uint8_t zero;   /* always 0: keys compare with memcmp */
};

struct slot {
	uint32_t val; /* 0 = empty */
	uint32_t hash;
	struct key k;
};

/* Slots in the first step (28 KiB). */
#define FIRST_SLOTS 1024u

struct gk_addrmap {
	uint32_t mask; /* slots in use: mask + 1, resident */
	uint32_t count;
	struct slot *slots; /* steps.base */
	struct gk_steps steps;
	uint8_t key[GK_SIPHASH_KEY_LEN];
};

/* Returns the length of the hashed prefix of k, 0 for a family the map does not hold. */
static size_t key_of(const struct sockaddr_storage *a, struct key *k)
{
	memset(k, 0, sizeof(*k));
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *v4 = (const void *)a;
		k->port = v4->sin_port;
		memcpy(k->addr, &v4->sin_addr, 4);
		k->family = 4;
		return 2 + 4;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *v6 = (const void *)a;
		k->port = v6->sin6_port;
		memcpy(k->addr, &v6->sin6_addr, 16);
		k->family = 6;
		return 2 + 16;
	}
	return 0;
}

static uint32_t hash_key(const struct gk_addrmap *m, const struct key *k, size_t len)
{
	return (uint32_t)gk_siphash64(m->key, k, len);
}

/* The slot holding k, or the empty slot that ends its probe sequence. */
static uint32_t probe(const struct gk_addrmap *m, const struct key *k, uint32_t h)
{
	for (uint32_t i = h & m->mask;; i = (i + 1) & m->mask) {
		const struct slot *s = &m->slots[i];
		if (!s->val || (s->hash == h && memcmp(&s->k, k, sizeof(*k)) == 0))
			return i;
	}
}

struct gk_addrmap *gk_addrmap_new(uint32_t max_entries, const char *key)
{
	struct gk_addrmap *m = calloc(1, sizeof(*m));
	uint32_t n = 16;

	if (!m || max_entries > (1u << 30))
		goto fail;
	while (n < 2 * max_entries)
		n <<= 1;
	/* A map without its key would be the predictable table this replaced: no map at all. */
	if (gk_random(m->key, sizeof(m->key)) < 0)
		goto fail;
	if (gk_steps_init(&m->steps, key, n, sizeof(*m->slots), FIRST_SLOTS) < 0)
		goto fail;
	m->slots = (struct slot *)m->steps.base;
	m->mask = m->steps.cap - 1;
	return m;
fail:
	gk_addrmap_free(m);
	return NULL;
}

void gk_addrmap_free(struct gk_addrmap *m)
{
	if (!m)
		return;
	gk_steps_free(&m->steps);
	gk_wipe(m->key, sizeof(m->key));
	free(m);
}

uint32_t gk_addrmap_bucket(const struct gk_addrmap *m, const struct sockaddr_storage *a)
{
	struct key k;
	size_t len = key_of(a, &k);

	return len ? hash_key(m, &k, len) & m->mask : 0;
}

uint32_t gk_addrmap_slots(const struct gk_addrmap *m)
{
	return m->steps.max;
}

uint64_t gk_addrmap_memory(const struct gk_addrmap *m)
{
	return sizeof(*m) + gk_steps_max_bytes(&m->steps);
}

/* One step: the slots doubled and every entry placed again under the new mask. -1 at the
 * maximum or out of memory (the map stays as it was). */
static int grow(struct gk_addrmap *m)
{
	uint32_t old = m->mask + 1, n = 0;
	struct slot *keep;

	if (old >= m->steps.max)
		return -1;
	keep = malloc((size_t)m->count * sizeof(*keep));
	if ((m->count && !keep) || !gk_steps_grow(&m->steps)) {
		free(keep);
		return -1;
	}
	for (uint32_t i = 0; i < old; i++)
		if (m->slots[i].val)
			keep[n++] = m->slots[i];
	memset(m->slots, 0, (size_t)old * sizeof(*m->slots));
	m->mask = 2 * old - 1;
	for (uint32_t j = 0; j < n; j++) {
		uint32_t i = keep[j].hash & m->mask;
		while (m->slots[i].val)
			i = (i + 1) & m->mask;
		m->slots[i] = keep[j];
	}
	gk_wipe(keep, (size_t)n * sizeof(*keep));
	free(keep);
	return 0;
}

uint32_t gk_addrmap_find(const struct gk_addrmap *m, const struct sockaddr_storage *a)
{
	struct key k;
	size_t len = key_of(a, &k);

	if (!len)
		return 0;
	return m->slots[probe(m, &k, hash_key(m, &k, len))].val;
}

int gk_addrmap_put(struct gk_addrmap *m, const struct sockaddr_storage *a, uint32_t val)
{
	struct key k;
	size_t len = key_of(a, &k);

	if (!len || !val)
		return -1;
	uint32_t h = hash_key(m, &k, len);
	struct slot *s = &m->slots[probe(m, &k, h)];
	if (!s->val) {
		/* A quarter full while the map can grow, at most half at its maximum: linear
		 * probing's expected walk grows as 1/(1-load)^2. */
		if (m->count + 1 > (m->mask + 1) / 4 && grow(m) == 0)
			s = &m->slots[probe(m, &k, h)];
		if (m->count + 1 > (m->mask + 1) / 2)
			return -1;
		m->count++;
		/* the slots this many addresses need, a quarter full */
		gk_steps_need(&m->steps, m->count > m->steps.max / 4 ? m->steps.max : 4 * m->count);
		s->hash = h;
		s->k = k;
	}
	s->val = val;
	return 0;
}

void gk_addrmap_del(struct gk_addrmap *m, const struct sockaddr_storage *a, uint32_t val)
{
	struct key k;
	size_t len = key_of(a, &k);

	if (!len)
		return;
	uint32_t i = probe(m, &k, hash_key(m, &k, len));
	if (!m->slots[i].val || m->slots[i].val != val)
		return; /* absent, or the address moved to another terminal since */
	m->slots[i].val = 0;
	m->count--;
	/* Backward-shift deletion keeps probe chains intact without tombstones: an entry further
	 * along moves into the hole unless the hole lies before its home slot (cyclically). */
	for (uint32_t j = (i + 1) & m->mask; m->slots[j].val; j = (j + 1) & m->mask) {
		uint32_t home = m->slots[j].hash & m->mask;
		if (((j - home) & m->mask) >= ((j - i) & m->mask)) {
			m->slots[i] = m->slots[j];
			m->slots[j].val = 0;
			i = j;
		}
	}
}
