// SPDX-License-Identifier: GPL-2.0-only
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "gatekey/addrmap.h"

struct gk_addrmap {
	uint32_t mask;
	uint32_t count;
	struct sockaddr_storage *keys;
	uint32_t *vals; /* 0 = empty */
};

static uint32_t hash_addr(const struct sockaddr_storage *a)
{
	uint32_t h = 2166136261u;
	const uint8_t *p;
	size_t n;

	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *v4 = (const void *)a;
		p = (const uint8_t *)&v4->sin_addr;
		n = 4;
		h = (h ^ v4->sin_port) * 16777619u;
	} else {
		const struct sockaddr_in6 *v6 = (const void *)a;
		p = (const uint8_t *)&v6->sin6_addr;
		n = 16;
		h = (h ^ v6->sin6_port) * 16777619u;
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h ^ (h >> 15);
}

struct gk_addrmap *gk_addrmap_new(uint32_t max_entries)
{
	struct gk_addrmap *m = calloc(1, sizeof(*m));
	uint32_t n = 16;
	if (!m)
		return NULL;
	while (n < 2 * max_entries)
		n <<= 1;
	m->mask = n - 1;
	m->keys = calloc(n, sizeof(*m->keys));
	m->vals = calloc(n, sizeof(*m->vals));
	if (!m->keys || !m->vals) {
		gk_addrmap_free(m);
		return NULL;
	}
	return m;
}

void gk_addrmap_free(struct gk_addrmap *m)
{
	if (!m)
		return;
	free(m->keys);
	free(m->vals);
	free(m);
}

uint32_t gk_addrmap_find(const struct gk_addrmap *m, const struct sockaddr_storage *a)
{
	for (uint32_t i = hash_addr(a) & m->mask;; i = (i + 1) & m->mask) {
		if (!m->vals[i])
			return 0;
		if (gk_sockaddr_equal(&m->keys[i], a))
			return m->vals[i];
	}
}

int gk_addrmap_put(struct gk_addrmap *m, const struct sockaddr_storage *a, uint32_t val)
{
	if (m->count + 1 > (m->mask + 1) / 2)
		return -1;
	for (uint32_t i = hash_addr(a) & m->mask;; i = (i + 1) & m->mask) {
		if (!m->vals[i] || gk_sockaddr_equal(&m->keys[i], a)) {
			if (!m->vals[i])
				m->count++;
			m->keys[i] = *a;
			m->vals[i] = val;
			return 0;
		}
	}
}

void gk_addrmap_del(struct gk_addrmap *m, const struct sockaddr_storage *a, uint32_t val)
{
	uint32_t i = hash_addr(a) & m->mask;
	for (;; i = (i + 1) & m->mask) {
		if (!m->vals[i])
			return;
		if (gk_sockaddr_equal(&m->keys[i], a))
			break;
	}
	if (m->vals[i] != val)
		return; /* the address moved to another terminal since */
	m->vals[i] = 0;
	m->count--;
	/* Backward-shift deletion keeps probe chains intact without tombstones. */
	for (uint32_t j = (i + 1) & m->mask; m->vals[j]; j = (j + 1) & m->mask) {
		uint32_t home = hash_addr(&m->keys[j]) & m->mask;
		if (((j - home) & m->mask) >= ((j - i) & m->mask)) {
			m->keys[i] = m->keys[j];
			m->vals[i] = m->vals[j];
			m->vals[j] = 0;
			i = j;
		}
	}
}
