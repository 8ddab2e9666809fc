// SPDX-License-Identifier: GPL-2.0-only
/*
 * The RADIUS duplicate cache (rad_dedup.h). The slot is the first four bytes of the Request
 * Authenticator XOR the identifier, unkeyed: a client that picks authenticators to collide only
 * evicts its own entries, and a match still needs code, identifier, the whole authenticator and
 * the client's address and port. Entries are wiped on free, as Accepts carry hidden key blobs.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "gatekey/crypto/crypto.h"
#include "gatekey/runtime/resident.h"
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

struct gk_rad_dedup {
	uint32_t mask;
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
	if (!d || !(d->slots = gk_table_alloc(n, sizeof(*d->slots)))) {
		free(d);
		return NULL;
	}
	d->mask = n - 1;
	d->lifetime_ms = lifetime_ms;
	return d;
}

void gk_rad_dedup_free(struct gk_rad_dedup *d)
{
	if (!d)
		return;
	/* Accepts hold hidden attributes: encrypted, but still key material's ciphertext. */
	gk_wipe(d->slots, (size_t)(d->mask + 1) * sizeof(*d->slots));
	free(d->slots);
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

static struct entry *slot_of(struct gk_rad_dedup *d, const struct gk_rad_pkt *req)
{
	uint32_t h;
	memcpy(&h, req->authenticator, sizeof(h));
	return &d->slots[(h ^ req->id) & d->mask];
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
