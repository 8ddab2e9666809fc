// SPDX-License-Identifier: GPL-2.0-only
/*
 * The RADIUS duplicate cache (rad_dedup.h). The slot is the first four bytes of the Request
 * Authenticator XOR the identifier, unkeyed: a client that picks authenticators to collide only
 * evicts its own entries, and a match still needs code, identifier, the whole authenticator and
 * the client's address and port. Entries are wiped on free, as Accepts carry hidden key blobs.
 *
 * The cache grows in steps up to its configured size (runtime/steps.h): it starts at FIRST_SLOTS
 * and doubles when a response would evict one still within its lifetime, which is when a smaller
 * cache starts to forget retransmissions it should answer. A step splits each slot in place: an
 * entry stays or moves to its slot plus the old size, by the one new bit of its index.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "gatekey/crypto/crypto.h"
#include "gatekey/runtime/steps.h"
#include "gatekey/auc/rad_dedup.h"

/* A client's address, compared by family, port and address only (a sockaddr_storage would triple
 * the entry). */
struct peer {
	uint16_t family, port;
	uint8_t addr[16];
};

struct entry {
	struct peer from;
	uint64_t at_ms;
	uint8_t code, id;
	uint16_t len; /* 0 = empty */
	uint8_t authenticator[GK_RAD_AUTH_LEN];
	uint8_t resp[GK_RAD_DEDUP_RESP_MAX];
};

/* Slots resident from the start (568 bytes each). */
#define FIRST_SLOTS 256u

struct gk_rad_dedup {
	uint32_t mask; /* slots in use: mask + 1, resident */
	struct gk_steps steps;
	uint64_t lifetime_ms;
	struct gk_rad_dedup_stats st;
	struct entry *slots;
};

struct gk_rad_dedup *gk_rad_dedup_new(uint32_t slots, uint64_t lifetime_ms)
{
	struct gk_rad_dedup *d = calloc(1, sizeof(*d));
	uint32_t n = 1;
	while (n < slots && n < (1u << 24))
		n <<= 1;
	if (!d || gk_steps_init(&d->steps, "rad_dedup", n, sizeof(*d->slots), FIRST_SLOTS) < 0) {
		free(d);
		return NULL;
	}
	d->slots = (struct entry *)d->steps.base;
	d->mask = d->steps.cap - 1;
	d->lifetime_ms = lifetime_ms;
	return d;
}

void gk_rad_dedup_free(struct gk_rad_dedup *d)
{
	if (!d)
		return;
	/* Accepts hold hidden attributes: encrypted, but still key material's ciphertext.
	 * gk_steps_free wipes every resident slot. */
	gk_steps_free(&d->steps);
	free(d);
}

static struct peer peer_of(const struct sockaddr_storage *ss)
{
	struct peer p = {.family = ss->ss_family};
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *v4 = (const void *)ss;
		p.port = v4->sin_port;
		memcpy(p.addr, &v4->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *v6 = (const void *)ss;
		p.port = v6->sin6_port;
		memcpy(p.addr, &v6->sin6_addr, 16);
	}
	return p;
}

static uint32_t hash_of(const uint8_t authenticator[GK_RAD_AUTH_LEN], uint8_t id)
{
	uint32_t h;
	memcpy(&h, authenticator, sizeof(h));
	return h ^ id;
}

static struct entry *slot_of(struct gk_rad_dedup *d, const struct gk_rad_pkt *req)
{
	return &d->slots[hash_of(req->authenticator, req->id) & d->mask];
}

/* One step: the slots doubled, each entry at its slot under the new mask. -1 at the configured
 * size or out of memory. What the cache needs is what it reaches here: the size at which the
 * live answer it was about to evict stays (its peak, runtime/steps.h). */
static int grow(struct gk_rad_dedup *d)
{
	uint32_t old = d->mask + 1;

	if (old >= d->steps.max || gk_steps_reach(&d->steps, 2 * old) < 0)
		return -1;
	d->mask = 2 * old - 1;
	for (uint32_t i = 0; i < old; i++) {
		struct entry *e = &d->slots[i];
		if (e->len && (hash_of(e->authenticator, e->id) & d->mask) != i) {
			d->slots[i + old] = *e;
			gk_wipe(e, sizeof(*e));
		}
	}
	d->st.grown++;
	return 0;
}

static bool peer_equal(const struct peer *a, const struct sockaddr_storage *ss)
{
	struct peer b = peer_of(ss);
	return !memcmp(a, &b, sizeof(b));
}

static bool same_request(const struct entry *e, const struct sockaddr_storage *from,
                         const struct gk_rad_pkt *req)
{
	return e->len && e->code == req->code && e->id == req->id &&
	       !memcmp(e->authenticator, req->authenticator, GK_RAD_AUTH_LEN) &&
	       peer_equal(&e->from, from);
}

const uint8_t *gk_rad_dedup_find(struct gk_rad_dedup *d, const struct sockaddr_storage *from,
                                 const struct gk_rad_pkt *req, uint64_t now_ms, size_t *len)
{
	struct entry *e = slot_of(d, req);
	if (!same_request(e, from, req) || now_ms - e->at_ms > d->lifetime_ms)
		return NULL;
	d->st.duplicates++;
	*len = e->len;
	return e->resp;
}

void gk_rad_dedup_put(struct gk_rad_dedup *d, const struct sockaddr_storage *from,
                      const struct gk_rad_pkt *req, const uint8_t *resp, size_t len,
                      uint64_t now_ms)
{
	if (len == 0 || len > GK_RAD_DEDUP_RESP_MAX) {
		d->st.too_long++;
		return;
	}
	struct entry *e = slot_of(d, req);
	/* Evicting a response still usable means the cache is too small for the load: a step. */
	if (e->len && now_ms - e->at_ms <= d->lifetime_ms && !same_request(e, from, req) &&
	    grow(d) == 0)
		e = slot_of(d, req);
	e->from = peer_of(from);
	e->at_ms = now_ms;
	e->code = req->code;
	e->id = req->id;
	e->len = (uint16_t)len;
	memcpy(e->authenticator, req->authenticator, GK_RAD_AUTH_LEN);
	memcpy(e->resp, resp, len);
	d->st.remembered++;
}

const struct gk_rad_dedup_stats *gk_rad_dedup_stats(const struct gk_rad_dedup *d)
{
	return &d->st;
}
