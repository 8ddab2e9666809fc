// SPDX-License-Identifier: GPL-2.0-only
/*
 * The userspace copy of the fast path's state (fp_user.h). The decision itself is in
 * gatekey/fastpath.h and shared with the XDP program; this file only does the lookups the
 * program does with its maps. The terminals' array grows in steps with the indices the registrar
 * hands out (runtime/steps.h); the host buckets are a small direct-mapped cache, whole.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "gatekey/runtime/addrmap.h"
#include "gatekey/runtime/resident.h"
#include "gatekey/runtime/steps.h"
#include "gatekey/crypto/crypto.h"
#include "gatekey/fastpath/fp_user.h"
#include "gatekey/crypto/siphash.h"
#include "gatekey/fastpath/xdp.h"

struct host_slot {
	struct gk_fp_host host;
	struct gk_fp_bucket bucket;
	uint8_t used;
};

struct gk_fp_user {
	struct gk_fp_config cfg;
	uint32_t max;
	struct gk_fp_terminal *terms; /* 1..max; mech NONE = free: term_steps.base */
	struct gk_steps term_steps;   /* resident as far as the highest index added */
	struct gk_addrmap *sources;
	struct host_slot *hosts;
	uint32_t host_mask;
	uint8_t host_key[GK_SIPHASH_KEY_LEN]; /* keys the slot of a host */
	struct gk_fp_bucket global;
	uint64_t stats[GK_FP_STAT__COUNT];
	uint64_t draws; /* xorshift64* state: the admission's draws (gk_fp_shed), as XDP's
	                 * bpf_get_prandom_u32 (not secret: a shed datagram is retransmitted) */
};

struct gk_fp_user *gk_fp_user_new(uint32_t max_terminals)
{
	struct gk_fp_user *u;
	struct gk_fp_sizes z;
	uint32_t n = 16;

	if (max_terminals > GK_FP_TERMINALS_MAX)
		return NULL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	/* The XDP maps' sizes (gk_fp_sizes_of), the host table rounded up to a power of two. */
	gk_fp_sizes_of(max_terminals, &z);
	while (n < z.hosts)
		n <<= 1;
	u->max = z.terminals;
	u->host_mask = n - 1;
	if (gk_steps_init(&u->term_steps, "fp_terminals", u->max + 1, sizeof(*u->terms), 1024) == 0)
		u->terms = (struct gk_fp_terminal *)u->term_steps.base;
	u->hosts = gk_table_alloc(n, sizeof(*u->hosts));
	u->sources = gk_addrmap_new(u->max, "fp_sources");
	if (!u->terms || !u->hosts || !u->sources ||
	    gk_random(u->host_key, sizeof(u->host_key)) < 0 ||
	    gk_random(&u->draws, sizeof(u->draws)) < 0) {
		gk_fp_user_free(u);
		return NULL;
	}
	gk_fp_config_default(&u->cfg);
	return u;
}

void gk_fp_user_free(struct gk_fp_user *u)
{
	if (!u)
		return;
	gk_steps_free(&u->term_steps); /* wipes the keys */
	free(u->hosts);
	gk_addrmap_free(u->sources);
	free(u);
}

void gk_fp_user_set_config(struct gk_fp_user *u, const struct gk_fp_config *cfg)
{
	u->cfg = *cfg;
}

const struct gk_fp_config *gk_fp_user_config(const struct gk_fp_user *u)
{
	return &u->cfg;
}

uint32_t gk_fp_user_terminals(const struct gk_fp_user *u)
{
	return u->max;
}

uint64_t gk_fp_user_memory(const struct gk_fp_user *u)
{
	return sizeof(*u) + gk_steps_max_bytes(&u->term_steps) +
	       ((uint64_t)u->host_mask + 1) * sizeof(*u->hosts) + gk_addrmap_memory(u->sources);
}

const uint64_t *gk_fp_user_stats(const struct gk_fp_user *u)
{
	return u->stats;
}

int gk_fp_user_terminal_add(struct gk_fp_user *u, uint32_t index,
                            const struct sockaddr_storage *source, enum gk_fp_mech mech,
                            const uint8_t key[16])
{
	struct gk_fp_source src;

	if (!index || index > u->max || (mech != GK_FP_MECH_GKMAC && mech != GK_FP_MECH_DIGEST) ||
	    (mech == GK_FP_MECH_GKMAC && !key) || gk_xdp_source_of(source, &src) < 0)
		return -EINVAL;
	if (gk_steps_reach(&u->term_steps, index + 1) < 0)
		return -ENOMEM;
	gk_fp_user_terminal_del(u, index);
	struct gk_fp_terminal *t = &u->terms[index];
	memset(t, 0, sizeof(*t));
	t->index = index;
	t->mech = (uint8_t)mech;
	t->family = src.family;
	t->port = src.port;
	memcpy(t->addr, src.addr, sizeof(t->addr));
	if (key)
		memcpy(t->key, key, sizeof(t->key));
	return gk_addrmap_put(u->sources, source, index);
}

void gk_fp_user_terminal_del(struct gk_fp_user *u, uint32_t index)
{
	struct sockaddr_storage ss;
	struct gk_fp_source src;

	if (!index || index >= u->term_steps.cap || u->terms[index].mech == GK_FP_MECH_NONE)
		return;
	struct gk_fp_terminal *t = &u->terms[index];
	memset(&src, 0, sizeof(src));
	src.family = t->family;
	src.port = t->port;
	memcpy(src.addr, t->addr, sizeof(src.addr));
	gk_xdp_sockaddr_of(&src, &ss);
	gk_addrmap_del(u->sources, &ss, index);
	gk_wipe(t, sizeof(*t));
}

uint64_t gk_fp_user_window_top(const struct gk_fp_user *u, uint32_t index)
{
	if (!index || index >= u->term_steps.cap || u->terms[index].mech == GK_FP_MECH_NONE)
		return 0;
	return u->terms[index].win.top;
}

void gk_fp_user_window_restore(struct gk_fp_user *u, uint32_t index, uint64_t top)
{
	if (!index || index >= u->term_steps.cap || u->terms[index].mech == GK_FP_MECH_NONE)
		return;
	u->terms[index].win.top = top;
	u->terms[index].win.bitmap = top ? ~0ull : 0;
}

static struct gk_fp_bucket *host_bucket(struct gk_fp_user *u, const struct gk_fp_source *src)
{
	struct gk_fp_host h;

	/* Keyed: with a hash anyone can compute, two hosts of an attacker's that share a slot
	 * would displace each other's bucket and each come back to a full one. */
	gk_fp_host_of(src, &h);
	struct host_slot *s = &u->hosts[gk_siphash64(u->host_key, &h, sizeof(h)) & u->host_mask];
	if (!s->used || memcmp(&s->host, &h, sizeof(h)) != 0) {
		/* A new host (or one that displaced this one): a full bucket, as in the LRU map. */
		s->host = h;
		memset(&s->bucket, 0, sizeof(s->bucket));
		s->used = 1;
	}
	return &s->bucket;
}

static uint32_t next_draw(struct gk_fp_user *u)
{
	u->draws |= !u->draws; /* xorshift never leaves 0 */
	u->draws ^= u->draws >> 12;
	u->draws ^= u->draws << 25;
	u->draws ^= u->draws >> 27;
	return (uint32_t)((u->draws * 0x2545f4914f6cdd1dull) >> 32);
}

long gk_fp_user_check(struct gk_fp_user *u, uint16_t dport, const struct sockaddr_storage *from,
                      const uint8_t *buf, uint32_t len, uint64_t now_ns, uint32_t *index,
                      enum gk_fp_stat *stat)
{
	struct gk_fp_port slot;
	struct gk_fp_source src;
	struct gk_fp_frame fr;
	struct gk_fp_dfa ws;
	struct gk_fp_verdict v;
	struct gk_fp_terminal *t = NULL;

	*index = 0;
	switch (gk_fp_port_class(&u->cfg, dport, &slot)) {
	case GK_FP_PORT_SIGNALLING:
		break;
	case GK_FP_PORT_VERIFIED:
		*stat = GK_FP_DROP_SPOOFED_VERIFIED;
		u->stats[*stat]++;
		return -1;
	default:
		*stat = GK_FP_PASS_OTHER_TRAFFIC;
		u->stats[*stat]++;
		return len;
	}
	if (gk_xdp_source_of(from, &src) < 0) {
		*stat = GK_FP_DROP_MALFORMED;
		u->stats[*stat]++;
		return -1;
	}
	gk_fp_frame_parse(buf, len, &fr);
	if (fr.framed) {
		if (fr.index && fr.index < u->term_steps.cap &&
		    u->terms[fr.index].mech != GK_FP_MECH_NONE)
			t = &u->terms[fr.index];
	} else {
		uint32_t i = gk_addrmap_find(u->sources, from);
		if (i && i < u->term_steps.cap && u->terms[i].mech != GK_FP_MECH_NONE)
			t = &u->terms[i];
	}
	gk_fp_inspect_all(&slot, &src, t, buf, len, &fr, &ws, &v);
	if (v.step == GK_FP_STEP_COMMIT)
		gk_fp_commit(&u->cfg, t, now_ns, &v);
	if (v.step == GK_FP_STEP_ADMIT && u->cfg.shed)
		gk_fp_shed(&u->cfg, next_draw(u), &v);
	if (v.step == GK_FP_STEP_ADMIT)
		gk_fp_admit(&u->cfg, host_bucket(u, &src), &u->global, now_ns, &v);
	*stat = (enum gk_fp_stat)v.stat;
	u->stats[*stat]++;
	switch (*stat) {
	case GK_FP_PASS_GKMAC:
		/* XDP leaves the verified tail for sbcd's verified socket; here it is known. */
		*index = t->index;
		return v.len - GK_VERIFIED_TAIL_LEN;
	case GK_FP_PASS_REGISTRATION:
	case GK_FP_PASS_DIGEST:
		return v.len;
	default:
		return -1;
	}
}
