// SPDX-License-Identifier: GPL-2.0-only
/*
 * The H.323 RAS binding: the abstract message (msg.h) <-> RAS PDUs (ras.h) with gatekey's data in
 * H.235 tokens under the gatekey arc. The mapping is docs/bindings-h323.md.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gatekey/codec/codec.h"
#include "gatekey/codec/msg.h"
#include "gatekey/h323/ras.h"

enum {
	TOK_ID = 1,
	TOK_N2 = 2,
	TOK_RAND = 3,
	TOK_KEY = 4,
	TOK_MECHS = 5,
	TOK_WANT_MECHS = 6,
	TOK_PARAMS = 7,
	TOK_AUTH = 8,
	TOK_MAC = 9,
	TOK_IPSEC_TERM = 10, /* the terminal's ipsec-3gpp end (profile: END_*) */
	TOK_IPSEC_NET = 11,  /* the element's */
};
enum { PRM_CHOSEN = 1, PRM_INDEX = 2, PRM_EXPIRES = 3, PRM_RETRY_AFTER = 4 };
enum { END_SPI_C = 1, END_SPI_S = 2, END_PORT_C = 3, END_PORT_S = 4 };
/* The decoder notes tokens and parameters it has seen as bits 1u << k of a uint32_t, k checked
 * against these ranges first; mechanism ids from the wire are checked with gk_mech_valid. */
_Static_assert(TOK_IPSEC_NET < 32 && PRM_RETRY_AFTER < 32, "a token's bit must fit the seen mask");
/* The clear tokens a message may need at once: ID, N2, RAND, KEY, MECHS, WANT_MECHS, PARAMS and
 * the two ends (AUTH and MAC are hashed tokens). */
_Static_assert(GK_RAS_TOKEN_MAX >= 9, "room for every clear token gatekey writes");

static struct gk_oid arc;
static bool arc_set;

static const struct gk_oid h225_proto = {{0, 0, 8, 2250, 0, GK_RAS_VERSION}, 6};

int gk_ras_set_arc(const char *dotted)
{
	struct gk_oid o;
	if (gk_oid_parse(dotted, &o) < 0 || o.n > GK_PER_OID_MAX - 2)
		return -1;
	arc = o;
	arc_set = true;
	return 0;
}

const struct gk_oid *gk_ras_arc(void)
{
	if (!arc_set)
		gk_ras_set_arc(GK_RAS_ARC_DEFAULT);
	return &arc;
}

static struct gk_oid arc_oid(unsigned k, unsigned sub)
{
	struct gk_oid o = *gk_ras_arc();
	o.arc[o.n++] = k;
	if (sub)
		o.arc[o.n++] = sub;
	return o;
}

uint16_t gk_ras_seq_of(uint64_t unique)
{
	return (uint16_t)(1 + (unique - 1) % 65535);
}

static bool is_request_pdu(unsigned pdu)
{
	return pdu == GK_RAS_GRQ || pdu == GK_RAS_RRQ || pdu == GK_RAS_URQ;
}

/* The PDU of an abstract message; responses follow the request (or response) in ctx.pdu. */
static int pdu_of(const struct gk_msg *m)
{
	unsigned ctx = m->wire.ras.pdu;
	switch (m->type) {
	case GK_MSG_REGISTER:
		return GK_RAS_GRQ;
	case GK_MSG_ANSWER:
	case GK_MSG_OTHER:
		return GK_RAS_RRQ;
	case GK_MSG_DEREGISTER:
		return GK_RAS_URQ;
	case GK_MSG_CHALLENGE:
	case GK_MSG_REJECT:
		return ctx == GK_RAS_RRQ || ctx == GK_RAS_RRJ ? GK_RAS_RRJ : GK_RAS_GRJ;
	case GK_MSG_SUCCESS:
	case GK_MSG_OTHER_OK:
		return GK_RAS_RCF;
	case GK_MSG_DEREG_OK:
		return GK_RAS_UCF;
	default:
		return -1;
	}
}

static struct gk_ras_token *new_token(struct gk_ras_pdu *p, unsigned k)
{
	struct gk_ras_token *t = &p->tokens[p->n_tokens++];
	memset(t, 0, sizeof(*t));
	t->oid = arc_oid(k, 0);
	return t;
}

static void prof_add(struct gk_ras_token *t, unsigned id, int64_t v)
{
	t->has |= GK_RAS_T_PROFILE;
	t->prof[t->n_prof].id = (uint8_t)id;
	t->prof[t->n_prof].has_int = true;
	t->prof[t->n_prof].v = v;
	t->n_prof++;
}

/* An ipsec-3gpp end as a token of its own: its SPIs and ports as profile integers. */
static void end_token(struct gk_ras_pdu *p, unsigned k, const struct gk_ipsec_end *e)
{
	struct gk_ras_token *t = new_token(p, k);

	prof_add(t, END_SPI_C, e->spi_c);
	prof_add(t, END_SPI_S, e->spi_s);
	prof_add(t, END_PORT_C, e->port_c);
	prof_add(t, END_PORT_S, e->port_s);
}

/* The end a token of end_token's carries: every element once, in range, and usable. */
static enum gk_reason end_of(const struct gk_ras_token *t, struct gk_ipsec_end *e)
{
	uint32_t seen = 0;

	memset(e, 0, sizeof(*e));
	if (!(t->has & GK_RAS_T_PROFILE))
		return GK_R_PARSE_BAD_VALUE;
	for (unsigned j = 0; j < t->n_prof; j++) {
		unsigned id = t->prof[j].id;
		int64_t v = t->prof[j].v;
		int64_t max = id <= END_SPI_S ? 4294967295LL : 65535;

		if (id < END_SPI_C || id > END_PORT_S || (seen & 1u << id) || !t->prof[j].has_int ||
		    v < 0 || v > max)
			return GK_R_PARSE_BAD_VALUE;
		seen |= 1u << id;
		if (id == END_SPI_C)
			e->spi_c = (uint32_t)v;
		else if (id == END_SPI_S)
			e->spi_s = (uint32_t)v;
		else if (id == END_PORT_C)
			e->port_c = (uint16_t)v;
		else
			e->port_s = (uint16_t)v;
	}
	return gk_ipsec_end_ok(e) ? GK_R_OK : GK_R_PARSE_BAD_VALUE;
}

static bool mechs_name(const struct gk_msg *m, enum gk_mech mech)
{
	for (unsigned i = 0; (m->fields & GK_F_MECHS) && i < m->n_mechs && i < GK_MECH_MAX; i++)
		if (m->mechs[i].mech == mech)
			return true;
	return false;
}

static int build_pdu(const struct gk_msg *m, struct gk_ras_pdu *p, bool zero_mac)
{
	const struct gk_ras_ctx *c = &m->wire.ras;
	int type = pdu_of(m);
	char epid[GK_ID_MAX + 4];

	memset(p, 0, sizeof(*p));
	if (type < 0 || !m->idc[0] || !m->idsp[0] || !c->seq)
		return -EINVAL;
	p->type = (uint8_t)type;
	p->seq = c->seq;
	p->proto = h225_proto;
	snprintf(epid, sizeof(epid), "gk-%s", m->idc);
	bool req = is_request_pdu((unsigned)type);

	switch (type) {
	case GK_RAS_GRQ:
		p->ras = c->ras;
		p->has_alias = p->has_gkid = true;
		break;
	case GK_RAS_RRQ:
		p->ras = c->ras;
		p->csa = c->csa;
		p->has_alias = p->has_gkid = true;
		p->keep_alive = m->type == GK_MSG_OTHER;
		p->has_epid = p->keep_alive;
		/* An empty rasAddress or callSignalAddress list is legal PER (SEQUENCE OF without a
		 * SIZE) and the decoder takes it: what it decodes must encode again. Our own RRQs
		 * always carry both (request_init). */
		break;
	case GK_RAS_URQ:
		p->csa = c->csa;
		p->has_alias = p->has_gkid = p->has_epid = true;
		break;
	case GK_RAS_RCF:
		p->has_alias = p->has_gkid = p->has_epid = true;
		break;
	case GK_RAS_GRJ:
	case GK_RAS_RRJ:
		p->has_gkid = true;
		/* H.225.0: a gatekeeper out of resources says resourceUnavailable; every other
		 * refusal (and the challenge) is securityDenial */
		if (m->type == GK_MSG_REJECT && m->reason == GK_R_OVERLOAD)
			p->reason = type == GK_RAS_GRJ ? GK_RAS_GRJ_RESOURCE_UNAVAILABLE
			                               : GK_RAS_RRJ_RESOURCE_UNAVAILABLE;
		else
			p->reason = type == GK_RAS_GRJ ? GK_RAS_GRJ_SECURITY_DENIAL
			                               : GK_RAS_RRJ_SECURITY_DENIAL;
		break;
	}
	snprintf(p->alias, sizeof(p->alias), "%s", m->idc);
	snprintf(p->gkid, sizeof(p->gkid), "%s", m->idsp);
	snprintf(p->epid, sizeof(p->epid), "%s", epid);

	bool ttl = (type == GK_RAS_RRQ || type == GK_RAS_RCF) && (m->fields & GK_F_EXPIRES) &&
	           m->expires >= 1;
	if (ttl) {
		p->has_ttl = true;
		p->ttl = m->expires;
	}

	struct gk_ras_token *t = new_token(p, TOK_ID);
	t->has = GK_RAS_T_GENERAL | GK_RAS_T_SENDERS;
	snprintf(t->senders, sizeof(t->senders), "%s", req ? m->idc : m->idsp);
	snprintf(t->general, sizeof(t->general), "%s", req ? m->idsp : m->idc);
	if (m->fields & GK_F_TS) {
		if (m->ts < 1 || m->ts > 4294967295u)
			return -EINVAL;
		t->has |= GK_RAS_T_TS;
		t->ts = (uint32_t)m->ts;
	}
	if (m->fields & GK_F_N1) {
		t->has |= GK_RAS_T_CHALLENGE;
		t->challenge_len = GK_NONCE_LEN;
		memcpy(t->challenge, m->n1, GK_NONCE_LEN);
	}
	if (m->fields & GK_F_N2) {
		t = new_token(p, TOK_N2);
		t->has = GK_RAS_T_CHALLENGE;
		t->challenge_len = GK_NONCE_LEN;
		memcpy(t->challenge, m->n2, GK_NONCE_LEN);
	}
	if (m->fields & GK_F_RAND) {
		t = new_token(p, TOK_RAND);
		t->has = GK_RAS_T_CHALLENGE;
		t->challenge_len = GK_RAND_LEN;
		memcpy(t->challenge, m->rand, GK_RAND_LEN);
	}
	if (m->fields & GK_F_BLOB) {
		t = new_token(p, TOK_KEY);
		if (m->blob[0] == 0)
			return -EINVAL;
		t->has = GK_RAS_T_KEY;
		snprintf(t->key_gid, sizeof(t->key_gid), "%s", m->idc);
		t->key_alg = arc_oid(TOK_KEY, m->blob[0]);
		t->key_iv_len = GK_IV_LEN;
		memcpy(t->key_iv, m->blob + 1, GK_IV_LEN);
		t->key_ct_len = GK_KEY_LEN + GK_GCM_TAG_LEN;
		memcpy(t->key_ct, m->blob + 1 + GK_IV_LEN, GK_KEY_LEN + GK_GCM_TAG_LEN);
	}
	if (m->fields & GK_F_MECHS) {
		if (m->n_mechs > GK_MECH_MAX)
			return -EINVAL;
		t = new_token(p, TOK_MECHS);
		t->has = GK_RAS_T_PROFILE;
		for (unsigned i = 0; i < m->n_mechs; i++) {
			if (!gk_mech_valid(m->mechs[i].mech) || m->mechs[i].q > 1000)
				return -EINVAL;
			prof_add(t, m->mechs[i].mech, m->mechs[i].q);
		}
	}
	if (m->fields & GK_F_WANT_MECHS)
		new_token(p, TOK_WANT_MECHS);
	/* an end rides with an ipsec-3gpp entry (the terminal's) or choice (the element's) */
	if (m->fields & GK_F_IPSEC_TERM) {
		if (!mechs_name(m, GK_MECH_IPSEC) || !gk_ipsec_end_ok(&m->ipsec_term))
			return -EINVAL;
		end_token(p, TOK_IPSEC_TERM, &m->ipsec_term);
	}
	if (m->fields & GK_F_IPSEC_NET) {
		if (!(m->fields & GK_F_CHOSEN) || m->chosen != GK_MECH_IPSEC ||
		    !gk_ipsec_end_ok(&m->ipsec_net))
			return -EINVAL;
		end_token(p, TOK_IPSEC_NET, &m->ipsec_net);
	}
	bool exp_prm = (m->fields & GK_F_EXPIRES) && !ttl;
	bool retry_prm = m->type == GK_MSG_REJECT && m->reason == GK_R_OVERLOAD && m->retry_after;
	if (m->fields & (GK_F_CHOSEN | GK_F_INDEX) || exp_prm || retry_prm) {
		t = new_token(p, TOK_PARAMS);
		if (m->fields & GK_F_CHOSEN) {
			if (!gk_mech_valid(m->chosen))
				return -EINVAL; /* the decoder would refuse it */
			prof_add(t, PRM_CHOSEN, m->chosen);
		}
		if (m->fields & GK_F_INDEX)
			prof_add(t, PRM_INDEX, m->index);
		if (exp_prm)
			prof_add(t, PRM_EXPIRES, m->expires);
		if (retry_prm)
			prof_add(t, PRM_RETRY_AFTER, m->retry_after);
	}
	if (m->fields & GK_F_AUTH) {
		struct gk_ras_hashed *h = &p->hashed[p->n_hashed++];
		h->oid = arc_oid(TOK_AUTH, 0);
		h->alg = arc_oid(TOK_AUTH, 1);
		h->hash_bits = GK_AUTH_LEN * 8;
		memcpy(h->hash, m->auth, GK_AUTH_LEN);
	}
	if (m->fields & GK_F_MAC) {
		struct gk_ras_hashed *h = &p->hashed[p->n_hashed++];
		h->oid = arc_oid(TOK_MAC, 0);
		h->alg = arc_oid(TOK_MAC, 1);
		h->hash_bits = GK_MAC_LEN * 8;
		if (!zero_mac)
			memcpy(h->hash, m->mac, GK_MAC_LEN);
	}
	return 0;
}

static int encode(const struct gk_msg *m, uint8_t *buf, size_t cap, bool zero_mac)
{
	struct gk_ras_pdu p;
	int n = build_pdu(m, &p, zero_mac);
	return n < 0 ? n : gk_ras_pdu_encode(&p, buf, cap);
}

int gk_ras_encode(const struct gk_msg *m, uint8_t *buf, size_t cap)
{
	return encode(m, buf, cap, false);
}

/* ---- decoder ---- */

static int take_id(char *dst, const char *native, bool has_native, const char *tok, bool has_tok)
{
	const char *v = has_native ? native : has_tok ? tok : NULL;
	if (!v)
		return GK_R_PARSE_MISSING;
	if (has_native && has_tok && strcmp(native, tok) != 0)
		return GK_R_PARSE_BAD_VALUE;
	if (strlen(v) > GK_ID_MAX)
		return GK_R_PARSE_TOO_LONG;
	if (strpbrk(v, " \"'"))
		return GK_R_PARSE_BAD_VALUE;
	strcpy(dst, v);
	return GK_R_OK;
}

static int map_tokens(const struct gk_ras_pdu *p, struct gk_msg *m, const struct gk_ras_token **id,
                      uint32_t *retry_after_out)
{
	uint32_t seen = 0, retry_after = 0;
	bool ttl_exp = false;

	*id = NULL;
	if (p->has_ttl) {
		m->expires = p->ttl;
		m->fields |= GK_F_EXPIRES;
		ttl_exp = true;
	}
	for (unsigned i = 0; i < p->n_tokens; i++) {
		const struct gk_ras_token *t = &p->tokens[i];
		if (gk_oid_under(&t->oid, gk_ras_arc()) != 1)
			continue; /* another profile's token */
		uint32_t k = t->oid.arc[t->oid.n - 1];
		if ((k < TOK_ID || k > TOK_PARAMS) && k != TOK_IPSEC_TERM && k != TOK_IPSEC_NET)
			continue;
		if (seen & 1u << k)
			return GK_R_PARSE_DUPLICATE;
		seen |= 1u << k;
		bool ch16 = (t->has & GK_RAS_T_CHALLENGE) && t->challenge_len == 16;
		switch (k) {
		case TOK_ID:
			*id = t;
			if (t->has & GK_RAS_T_TS) {
				m->ts = t->ts;
				m->fields |= GK_F_TS;
			}
			if (t->has & GK_RAS_T_CHALLENGE) {
				if (!ch16)
					return GK_R_PARSE_BAD_VALUE;
				memcpy(m->n1, t->challenge, GK_NONCE_LEN);
				m->fields |= GK_F_N1;
			}
			break;
		case TOK_N2:
		case TOK_RAND:
			if (!ch16)
				return GK_R_PARSE_BAD_VALUE;
			memcpy(k == TOK_N2 ? m->n2 : m->rand, t->challenge, 16);
			m->fields |= k == TOK_N2 ? GK_F_N2 : GK_F_RAND;
			break;
		case TOK_KEY: {
			struct gk_oid base = arc_oid(TOK_KEY, 0);
			if (!(t->has & GK_RAS_T_KEY) || gk_oid_under(&t->key_alg, &base) != 1 ||
			    t->key_iv_len != GK_IV_LEN ||
			    t->key_ct_len != GK_KEY_LEN + GK_GCM_TAG_LEN)
				return GK_R_PARSE_BAD_VALUE;
			uint32_t ver = t->key_alg.arc[t->key_alg.n - 1];
			if (ver < 1 || ver > 255)
				return GK_R_PARSE_BAD_VALUE;
			m->blob[0] = (uint8_t)ver;
			memcpy(m->blob + 1, t->key_iv, GK_IV_LEN);
			memcpy(m->blob + 1 + GK_IV_LEN, t->key_ct, t->key_ct_len);
			m->fields |= GK_F_BLOB;
			break;
		}
		case TOK_MECHS:
			if (!(t->has & GK_RAS_T_PROFILE) || t->n_prof > GK_MECH_MAX)
				return GK_R_PARSE_BAD_VALUE;
			for (unsigned j = 0; j < t->n_prof; j++) {
				/* elementID is INTEGER (0..255) on the wire but names one of four
				 * mechanisms; anything else is refused here, before any code can
				 * shift or index by it. */
				if (!gk_mech_valid(t->prof[j].id) || !t->prof[j].has_int ||
				    t->prof[j].v < 0 || t->prof[j].v > 1000)
					return GK_R_PARSE_BAD_VALUE;
				m->mechs[j].mech = t->prof[j].id;
				m->mechs[j].q = (uint16_t)t->prof[j].v;
			}
			m->n_mechs = t->n_prof;
			m->fields |= GK_F_MECHS;
			break;
		case TOK_WANT_MECHS:
			m->fields |= GK_F_WANT_MECHS;
			break;
		case TOK_IPSEC_TERM:
		case TOK_IPSEC_NET: {
			bool term = k == TOK_IPSEC_TERM;
			enum gk_reason r = end_of(t, term ? &m->ipsec_term : &m->ipsec_net);
			if (r != GK_R_OK)
				return r;
			m->fields |= term ? GK_F_IPSEC_TERM : GK_F_IPSEC_NET;
			break;
		}
		case TOK_PARAMS: {
			uint32_t ids = 0;
			for (unsigned j = 0; j < t->n_prof; j++) {
				unsigned e = t->prof[j].id;
				int64_t v = t->prof[j].v;
				if (e < PRM_CHOSEN || e > PRM_RETRY_AFTER)
					continue;
				if (ids & 1u << e || (e == PRM_EXPIRES && ttl_exp))
					return GK_R_PARSE_DUPLICATE;
				ids |= 1u << e;
				if (!t->prof[j].has_int || v < 0 || v > 4294967295LL ||
				    (e == PRM_CHOSEN && !gk_mech_valid((unsigned)v)))
					return GK_R_PARSE_BAD_VALUE;
				if (e == PRM_CHOSEN) {
					m->chosen = (uint8_t)v;
					m->fields |= GK_F_CHOSEN;
				} else if (e == PRM_INDEX) {
					m->index = (uint32_t)v;
					m->fields |= GK_F_INDEX;
				} else if (e == PRM_RETRY_AFTER) {
					retry_after = (uint32_t)v; /* an overload refusal's only */
				} else {
					m->expires = (uint32_t)v;
					m->fields |= GK_F_EXPIRES;
				}
			}
			break;
		}
		}
	}
	/* as the encoder: an end without its entry or choice would not be sent back */
	if (((m->fields & GK_F_IPSEC_TERM) && !mechs_name(m, GK_MECH_IPSEC)) ||
	    ((m->fields & GK_F_IPSEC_NET) &&
	     (!(m->fields & GK_F_CHOSEN) || m->chosen != GK_MECH_IPSEC)))
		return GK_R_PARSE_BAD_VALUE;
	*retry_after_out = retry_after;
	return GK_R_OK;
}

static int map_hashed(const struct gk_ras_pdu *p, struct gk_msg *m, uint32_t *mac_off)
{
	for (unsigned i = 0; i < p->n_hashed; i++) {
		const struct gk_ras_hashed *h = &p->hashed[i];
		if (gk_oid_under(&h->oid, gk_ras_arc()) != 1)
			continue;
		uint32_t k = h->oid.arc[h->oid.n - 1];
		if (k != TOK_AUTH && k != TOK_MAC)
			continue;
		struct gk_oid alg = arc_oid(k, 1);
		uint32_t f = k == TOK_AUTH ? GK_F_AUTH : GK_F_MAC;
		if (m->fields & f)
			return GK_R_PARSE_DUPLICATE;
		if (!gk_oid_equal(&h->alg, &alg) || h->hash_bits != 256)
			return GK_R_PARSE_BAD_VALUE;
		memcpy(k == TOK_AUTH ? m->auth : m->mac, h->hash, 32);
		m->fields |= f;
		if (k == TOK_MAC)
			*mac_off = h->hash_off;
	}
	return GK_R_OK;
}

static int decode_pdu(const uint8_t *buf, size_t len, struct gk_msg *m, struct gk_ras_pdu *p)
{
	enum gk_reason why;
	const struct gk_ras_token *id;
	uint32_t mac_off = 0, retry_after = 0;
	int rc;

	memset(m, 0, offsetof(struct gk_msg, wire));
	memset(&m->wire.ras, 0, offsetof(struct gk_ras_ctx, raw));
	m->proto = GK_PROTO_H323;
	if (gk_ras_pdu_decode(buf, len, p, &why) < 0)
		return why;
	if (p->type == GK_RAS_GCF)
		return GK_R_PARSE_UNSUPPORTED;
	/* A GRQ's rasAddress is one TransportAddress: where it is not IPv4 or IPv6 (NetBIOS, IPX,
	 * NSAP, an extension alternative) the endpoint is on a network we do not serve, and the
	 * message could not be encoded again. */
	if (p->type == GK_RAS_GRQ && !p->ras.family)
		return GK_R_PARSE_UNSUPPORTED;
	if (p->type != GK_RAS_URQ && p->type != GK_RAS_UCF) {
		struct gk_oid base = h225_proto;
		base.n--;
		if (gk_oid_under(&p->proto, &base) != 1)
			return GK_R_PARSE_UNSUPPORTED;
	}
	if ((rc = map_tokens(p, m, &id, &retry_after)) || (rc = map_hashed(p, m, &mac_off)))
		return rc;

	bool req = is_request_pdu(p->type);
	bool has_s = id && (id->has & GK_RAS_T_SENDERS), has_g = id && (id->has & GK_RAS_T_GENERAL);
	const char *s = has_s ? id->senders : "", *g = has_g ? id->general : "";
	if ((rc = take_id(m->idc, p->alias, p->has_alias, req ? s : g, req ? has_s : has_g)) ||
	    (rc = take_id(m->idsp, p->gkid, p->has_gkid, req ? g : s, req ? has_g : has_s)))
		return rc;

	struct gk_ras_ctx *c = &m->wire.ras;
	c->pdu = p->type;
	c->seq = p->seq;
	c->keep_alive = p->keep_alive;
	switch (p->type) {
	case GK_RAS_GRQ:
		m->type = GK_MSG_REGISTER;
		c->ras = p->ras;
		break;
	case GK_RAS_RRQ:
		m->type = p->keep_alive && !(m->fields & GK_F_AUTH) ? GK_MSG_OTHER : GK_MSG_ANSWER;
		c->ras = p->ras;
		c->csa = p->csa;
		break;
	case GK_RAS_URQ:
		m->type = GK_MSG_DEREGISTER;
		c->csa = p->csa;
		break;
	case GK_RAS_UCF:
		m->type = GK_MSG_DEREG_OK;
		break;
	case GK_RAS_RCF:
		m->type = m->fields & GK_F_MAC ? GK_MSG_SUCCESS : GK_MSG_OTHER_OK;
		if (m->type == GK_MSG_SUCCESS && len <= GK_RAS_RAW_MAX && mac_off + 32 <= len) {
			memcpy(c->raw, buf, len);
			c->raw_len = (uint16_t)len;
			c->mac_off = (uint16_t)mac_off;
		}
		break;
	default: /* GRJ, RRJ */
		if ((m->fields & (GK_F_N2 | GK_F_RAND)) == (GK_F_N2 | GK_F_RAND)) {
			m->type = GK_MSG_CHALLENGE;
		} else if (p->reason == (p->type == GK_RAS_GRJ ? GK_RAS_GRJ_RESOURCE_UNAVAILABLE
		                                               : GK_RAS_RRJ_RESOURCE_UNAVAILABLE)) {
			m->type = GK_MSG_REJECT;
			m->reason = GK_R_OVERLOAD;
			m->retry_after = retry_after;
		} else {
			m->type = GK_MSG_REJECT;
			m->reason = GK_R_REFUSED;
		}
		break;
	}
	return GK_R_OK;
}

int gk_ras_decode(const uint8_t *buf, size_t len, struct gk_msg *m, enum gk_reason *why)
{
	static __thread struct gk_ras_pdu p; /* 6 KB: kept off the stack of the packet path */
	int rc = decode_pdu(buf, len, m, &p);
	*why = (enum gk_reason)rc;
	if (rc) {
		m->type = GK_MSG_NONE;
		return -1;
	}
	return 0;
}

int gk_ras_is_registration(const uint8_t *buf, size_t len)
{
	int t = gk_ras_peek_type(buf, len);
	return t == GK_RAS_GRQ || t == GK_RAS_RRQ;
}

int gk_ras_success_canonical(const struct gk_msg *m, uint8_t *out, size_t cap)
{
	const struct gk_ras_ctx *c = &m->wire.ras;

	if (m->type != GK_MSG_SUCCESS)
		return -EINVAL;
	if (c->pdu == GK_RAS_RCF && c->raw_len) {
		/* Received: the bytes as they came, MAC zeroed, if they carry the IDs of m. */
		static __thread struct gk_msg d;
		enum gk_reason why;
		if (c->raw_len > GK_RAS_RAW_MAX || c->mac_off + GK_MAC_LEN > c->raw_len ||
		    c->raw_len > cap)
			return -EINVAL;
		if (gk_ras_decode(c->raw, c->raw_len, &d, &why) < 0 || strcmp(d.idc, m->idc) ||
		    strcmp(d.idsp, m->idsp))
			return -EBADMSG;
		memcpy(out, c->raw, c->raw_len);
		memset(out + c->mac_off, 0, GK_MAC_LEN);
		return c->raw_len;
	}
	struct gk_msg tmp;
	memcpy(&tmp, m, offsetof(struct gk_msg, wire));
	memcpy(&tmp.wire.ras, c, offsetof(struct gk_ras_ctx, raw));
	tmp.fields |= GK_F_MAC;
	return encode(&tmp, out, cap, true);
}

/* ---- codec entry ---- */

static void ras_request_init(struct gk_msg *m, const struct gk_request_ctx *rc)
{
	struct gk_ras_ctx *c = &m->wire.ras;
	memset(c, 0, offsetof(struct gk_ras_ctx, raw));
	c->raw_len = 0;
	c->pdu = (uint8_t)pdu_of(m);
	c->keep_alive = m->type == GK_MSG_OTHER;
	c->seq = gk_ras_seq_of(rc->unique);
	c->ras.family = 4;
	c->ras.port = GK_RAS_PORT;
	if (rc->local && rc->local->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)rc->local;
		c->ras.family = 6;
		memcpy(c->ras.ip, &s->sin6_addr, 16);
		c->ras.port = ntohs(s->sin6_port);
	} else if (rc->local && rc->local->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)rc->local;
		memcpy(c->ras.ip, &s->sin_addr, 4);
		c->ras.port = ntohs(s->sin_port);
	}
	c->csa = c->ras;
	c->csa.port = GK_RAS_CS_PORT;
}

static void ras_response_init(struct gk_msg *m)
{
	m->wire.ras.raw_len = 0; /* the request's bytes, if any, are not this message's */
}

static uint64_t ras_transaction_ref(const struct gk_msg *m)
{
	return is_request_pdu(m->wire.ras.pdu) ? 0 : m->wire.ras.seq;
}

static const char *ras_request_method(const struct gk_msg *m)
{
	static const char *const names[] = {"GRQ", "GCF", "GRJ", "RRQ", "RCF",
	                                    "RRJ", "URQ", "UCF", "URJ"};
	unsigned p = m->wire.ras.pdu;
	return p < sizeof(names) / sizeof(names[0]) ? names[p] : "";
}

const struct gk_codec gk_ras_codec = {
    .proto = GK_PROTO_H323,
    .name = "h323",
    .default_port = GK_RAS_PORT,
    .decode = gk_ras_decode,
    .encode = gk_ras_encode,
    .is_registration = gk_ras_is_registration,
    .request_init = ras_request_init,
    .response_init = ras_response_init,
    .transaction_ref = ras_transaction_ref,
    .request_method = ras_request_method,
    .success_canonical = gk_ras_success_canonical,
};
