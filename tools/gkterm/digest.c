// SPDX-License-Identifier: GPL-2.0-only
/*
 * gkterm --digest: each terminal a plain RFC 3261 / 7616 / 8760 Digest UA, as phones are: no GK1
 * header field, no key, nothing sealed; requests and credentials from lib/sip/sip_ua.c, paced and
 * retransmitted by the engine. Like a phone it caches the last challenge and sends its next
 * REGISTER with that nonce, nc one more; a second challenge to an answer not stale is a refusal.
 * A 503 is no refusal: the engine waits out its Retry-After and sends the request again.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gatekey/crypto/crypto.h"
#include "gatekey/runtime/config.h"
#include "gatekey/sip/sip_ua.h"
#include "gkterm.h"

#define CNONCE_BYTES 8
#define FRESH_MAX    3 /* stale nonces answered in a row before a terminal gives up */

const char *gkt_digest_alg(const struct gkt_run *r)
{
	return gk_digest_alg_name(r->o.digest, false);
}

static const char *method_of(enum gkt_dg_kind kind)
{
	return kind == GKT_DG_OPTIONS ? "OPTIONS" : "REGISTER";
}

static int fail(struct gkt_term *x, enum gk_reason why, const char *detail)
{
	x->t.reason = (uint16_t)why;
	x->detail = detail;
	return -1;
}

/* The credentials for x's cached challenge, for a request `method` to ruri; nc counts on. */
static int credentials(struct gkt_run *r, struct gkt_term *x, const char *method, const char *ruri,
                       struct gk_digest *cred)
{
	struct gk_digest c;
	uint8_t raw[CNONCE_BYTES];
	char cnonce[2 * CNONCE_BYTES + 1];
	const char *pw = r->o.password ? r->o.password : x->pw;

	memset(&c, 0, sizeof(c));
	memcpy(c.realm, x->dg.realm, sizeof(c.realm));
	memcpy(c.nonce, x->dg.nonce, sizeof(c.nonce));
	memcpy(c.opaque, x->dg.opaque, sizeof(c.opaque));
	memcpy(c.algorithm, gkt_digest_alg(r), strlen(gkt_digest_alg(r)) + 1);
	if (x->dg.qop)
		memcpy(c.qop, "auth", 5);
	if (gk_random(raw, sizeof(raw)) < 0)
		return fail(x, GK_R_INTERNAL, "no random cnonce");
	gk_hex_encode(raw, sizeof(raw), cnonce);
	x->dg.nc++;
	if (gk_sip_ua_digest_answer(&c, r->o.digest, x->t.idc, pw, method, ruri, x->dg.nc, cnonce,
	                            cred) < 0)
		return fail(x, GK_R_INTERNAL, "the challenge cannot be answered");
	return 0;
}

/* x's request of its current kind into x->req, answering the cached challenge when with_auth. */
static int build(struct gkt_run *r, struct gkt_term *x, bool with_auth)
{
	uint32_t idx = (uint32_t)(x - r->terms);
	enum gkt_dg_kind kind = (enum gkt_dg_kind)x->dg.kind;
	const char *method = method_of(kind);
	char local[80], via[160], from[2 * GK_ID_MAX + 32], call_id[GKT_CALL_ID_MAX],
	    contact[GK_ID_MAX + 96];
	struct gk_sip_ua_dialog d;
	struct gk_digest cred;

	gk_format_addr(&r->local[x->sock], local, sizeof(local));
	memset(&d, 0, sizeof(d));
	/* RFC 3261 §10.2: the registrar's domain as the Request-URI, the AOR as To */
	snprintf(d.target, sizeof(d.target), "sip:%s", x->t.idsp);
	snprintf(d.to, sizeof(d.to), "<sip:%s@%s>", x->t.idc, x->t.idsp);
	x->cseq++;
	x->unique++;
	snprintf(via, sizeof(via), "SIP/2.0/UDP %s;branch=z9hG4bK%016llx;rport", local,
	         (unsigned long long)(x->unique ^ ((uint64_t)idx << 32)));
	snprintf(from, sizeof(from), "<sip:%s@%s>;tag=t%u", x->t.idc, x->t.idsp, idx);
	gkt_call_id(r, idx, call_id);
	snprintf(contact, sizeof(contact), "sip:%s@%s", x->t.idc, local);
	struct gk_sip_ua_req q = {
	    .method = method,
	    .cseq = x->cseq,
	    .via = via,
	    .from = from,
	    .call_id = call_id,
	    .contact = kind == GKT_DG_OPTIONS ? NULL : contact,
	    .has_expires = kind == GKT_DG_DEREGISTER || (kind == GKT_DG_REGISTER && r->o.expires),
	    .expires = kind == GKT_DG_DEREGISTER ? 0 : r->o.expires,
	    .proxy_auth = x->dg.proxy,
	};
	if (with_auth) {
		if (credentials(r, x, method, d.target, &cred) < 0)
			return -1;
		q.auth = &cred;
	}
	int n = gk_sip_ua_request(&d, &q, x->req, sizeof(x->req));
	if (n < 0)
		return fail(x, GK_R_INTERNAL, "the request does not fit");
	x->req_len = (uint16_t)n;
	return 0;
}

int gkt_digest_request(struct gkt_run *r, struct gkt_term *x, enum gkt_dg_kind kind)
{
	x->dg.kind = (uint8_t)kind;
	x->dg.fresh = 0;
	x->detail = NULL;
	x->status = 0;
	/* Cached credentials go with REGISTERs only; an OPTIONS is answered when challenged. */
	return build(r, x, kind != GKT_DG_OPTIONS && x->dg.nc);
}

/* Whether m answers x's request under way: its Call-ID (the terminal's one), CSeq and method. */
static bool ours(const struct gkt_run *r, const struct gkt_term *x, const struct gk_msg *m)
{
	const struct gk_sip_ctx *s = &m->wire.sip;
	char call_id[GKT_CALL_ID_MAX];

	gkt_call_id(r, (uint32_t)(x - r->terms), call_id);
	return s->cseq == x->cseq && strcmp(s->method, method_of(x->dg.kind)) == 0 &&
	       strcmp(gk_sip_get(s, GK_SIP_CALL_ID), call_id) == 0;
}

/* A 401 or 407: remember its challenge and answer it, or say why not. */
static enum gkt_dg_verdict challenged(struct gkt_run *r, struct gkt_term *x, const struct gk_msg *m)
{
	const struct gk_digest *g = &m->digest;

	if (!(m->fields & GK_F_DIGEST_CHAL)) {
		fail(x, GK_R_NO_MECH, "challenged without a Digest challenge");
		return GKT_DG_FAILED;
	}
	if (strcasecmp(g->algorithm, gkt_digest_alg(r)) != 0) {
		fail(x, GK_R_NO_MECH,
		     r->o.digest == GK_DIGEST_MD5 ? "no Digest challenge with algorithm MD5"
		                                  : "no Digest challenge with algorithm SHA-256");
		return GKT_DG_FAILED;
	}
	/* An answer to a fresh challenge that is challenged again was wrong, unless only its
	 * nonce had aged (stale=true, RFC 7616 §3.3): then the password was right. */
	if (x->dg.fresh && !g->stale) {
		fail(x, GK_R_WRONG_AUTH,
		     "challenged again after answering: wrong user or password");
		return GKT_DG_FAILED;
	}
	if (x->dg.fresh >= FRESH_MAX) {
		fail(x, GK_R_WRONG_AUTH, "stale nonces only");
		return GKT_DG_FAILED;
	}
	memcpy(x->dg.realm, g->realm, sizeof(x->dg.realm));
	memcpy(x->dg.nonce, g->nonce, sizeof(x->dg.nonce));
	memcpy(x->dg.opaque, g->opaque, sizeof(x->dg.opaque));
	x->dg.qop = g->qop[0] != '\0';
	x->dg.proxy = m->wire.sip.status == 407;
	x->dg.nc = 0;
	x->dg.fresh++;
	return build(r, x, true) < 0 ? GKT_DG_FAILED : GKT_DG_RESEND;
}

enum gkt_dg_verdict gkt_digest_response(struct gkt_run *r, struct gkt_term *x,
                                        const struct gk_msg *m)
{
	uint16_t status = m->wire.sip.status;

	if (m->type == GK_MSG_PROVISIONAL || !ours(r, x, m))
		return GKT_DG_IGNORE;
	if (m->type == GK_MSG_CHALLENGE)
		return challenged(r, x, m);
	if (status >= 200 && status < 300) {
		if (x->dg.kind == GKT_DG_REGISTER) {
			x->t.chosen = GK_MECH_DIGEST;
			x->t.index = 0;
			x->t.granted_expires = (m->fields & GK_F_EXPIRES) ? m->expires : 0;
		}
		return GKT_DG_DONE;
	}
	x->status = status;
	if (m->type == GK_MSG_REJECT && m->reason == GK_R_OVERLOAD) {
		/* RFC 3261 §21.5.4: not refused, only not now. The engine waits as asked and
		 * sends the request again; these words are for when it cannot wait that long. */
		x->t.retry_after = m->retry_after;
		fail(x, GK_R_OVERLOAD, "503 Service Unavailable: its wait outlasts --timeout");
		return GKT_DG_OVERLOAD;
	}
	fail(x, GK_R_REFUSED,
	     status == 401 || status == 407 ? "challenged without a challenge"
	                                    : "a final response other than 2xx");
	return GKT_DG_FAILED;
}
