// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatekey/direct.h"
#include "gatekey/loop.h"
#include "peers.h"

int ss_peer_add(const char *value, void *arg, char *err, size_t errlen)
{
	struct ss_peers *peers = arg;
	char id[GK_ID_MAX + 2], ip[64];

	if (peers->n == SS_MAX_PEERS) {
		snprintf(err, errlen, "at most %d sbc.peer entries", SS_MAX_PEERS);
		return -1;
	}
	if (sscanf(value, "%64s %63s", id, ip) != 2 || strlen(id) > GK_ID_MAX) {
		snprintf(err, errlen, "expected \"<sbc-id> <ip>\"");
		return -1;
	}
	struct ss_peer *p = &peers->p[peers->n];
	memset(p, 0, sizeof(*p));
	struct sockaddr_in *v4 = (struct sockaddr_in *)&p->ip;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&p->ip;
	if (inet_pton(AF_INET, ip, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
	} else if (inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
	} else {
		snprintf(err, errlen, "\"%s\" is not an IPv4 or IPv6 address", ip);
		return -1;
	}
	strcpy(p->id, id);
	peers->n++;
	return 0;
}

const struct ss_peer *ss_peer_find(const struct ss_peers *peers,
                                   const struct sockaddr_storage *from)
{
	for (unsigned i = 0; i < peers->n; i++) {
		const struct ss_peer *p = &peers->p[i];
		if (p->ip.ss_family != from->ss_family)
			continue;
		if (from->ss_family == AF_INET) {
			const struct sockaddr_in *a = (const void *)&p->ip, *b = (const void *)from;
			if (a->sin_addr.s_addr == b->sin_addr.s_addr)
				return p;
		} else {
			const struct sockaddr_in6 *a = (const void *)&p->ip,
			                          *b = (const void *)from;
			if (!memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(a->sin6_addr)))
				return p;
		}
	}
	return NULL;
}

struct slot {
	struct ss_relay_txn t;
	uint32_t gen;
	uint32_t next_free;
	bool used;
};

struct ss_relay {
	struct slot *slots;
	uint32_t n, free_head;
};

struct ss_relay *ss_relay_new(uint32_t n)
{
	struct ss_relay *r = calloc(1, sizeof(*r));
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

void ss_relay_free(struct ss_relay *r)
{
	if (!r)
		return;
	free(r->slots);
	free(r);
}

struct ss_relay_txn *ss_relay_alloc(struct ss_relay *r, uint64_t *ref)
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

void ss_relay_release(struct ss_relay *r, struct ss_relay_txn *t)
{
	struct slot *s = (struct slot *)t;
	uint32_t i = (uint32_t)(s - r->slots);
	s->used = false;
	s->next_free = r->free_head;
	r->free_head = i;
}

struct ss_relay_txn *ss_relay_take(struct ss_relay *r, uint64_t ref)
{
	uint32_t i = (uint32_t)ref;
	uint32_t gen = (uint32_t)((ref & ~GK_REF_PEER) >> 32);
	if (!i || i > r->n || !r->slots[i].used || (r->slots[i].gen & 0x7fffffff) != gen)
		return NULL;
	return &r->slots[i].t;
}
