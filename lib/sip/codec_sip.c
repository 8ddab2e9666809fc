// SPDX-License-Identifier: GPL-2.0-only
/* The SIP entry of the codec table: wire context for new requests and for responses. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "gatekey/codec/codec.h"
#include "gatekey/crypto/crypto.h"
#include "gatekey/runtime/config.h"
#include "gatekey/sip/sip.h"
#include "sip_priv.h"

/* Every request the elements and gkterm send starts here, so it joins strings instead of
 * formatting them (gk_sip_setcat). */
static void sip_request_init(struct gk_msg *m, const struct gk_request_ctx *c)
{
	struct gk_sip_ctx *s = &m->wire.sip;
	const char *method = c->method ? c->method : "REGISTER";
	char local[80], branch[17];

	memset(s, 0, offsetof(struct gk_sip_ctx, text) + 1);
	gk_format_addr(c->local, local, sizeof(local));
	gk_copy_text(s->method, sizeof(s->method), method);
	gk_hex_encode_u64(c->unique, branch);
	/* IDs are at most GK_ID_MAX bytes: all of it fits GK_SIP_TEXT_MAX many times over */
	gk_sip_setcat(s, GK_SIP_RURI, "sip:", c->idsp, NULL);
	gk_sip_add_viacat(s, "SIP/2.0/UDP ", local, ";branch=z9hG4bK", branch, ";rport", NULL);
	gk_sip_setcat(s, GK_SIP_FROM, "<sip:", c->idc, "@", c->idsp, ">;tag=", c->local_tag, NULL);
	gk_sip_setcat(s, GK_SIP_TO, "<sip:", c->idc, "@", c->idsp, ">", NULL);
	gk_sip_setcat(s, GK_SIP_CALL_ID, c->dialog_id, NULL);
	s->cseq = c->seq;
	gk_sip_setcat(s, GK_SIP_CONTACT, "<sip:", c->idc, "@", local, ">", NULL);
}

static void sip_response_init(struct gk_msg *m)
{
	struct gk_sip_ctx *s = &m->wire.sip;
	uint32_t h = 2166136261u;

	if (s->to_tag[0])
		return;
	/* REGISTER creates no dialog; a tag derived from the Call-ID keeps retransmitted
	 * responses identical. */
	for (const char *p = gk_sip_get(s, GK_SIP_CALL_ID); *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	snprintf(s->to_tag, sizeof(s->to_tag), "gk%08x", h);
}

/* The 16 hex digits after our branch's magic cookie, as sip_request_init() wrote them; 0 if
 * the branch is not one of ours. No sscanf: this runs on every response from the core. */
static uint64_t sip_transaction_ref(const struct gk_msg *m)
{
	static const char cookie[] = "branch=z9hG4bK";
	uint8_t be[8];
	uint64_t v = 0;

	if (!m->wire.sip.n_via)
		return 0;
	const char *b = strstr(gk_sip_via(&m->wire.sip, 0), cookie);
	if (!b)
		return 0;
	b += sizeof(cookie) - 1;
	if (strnlen(b, 2 * sizeof(be)) < 2 * sizeof(be) ||
	    gk_hex_decode(b, 2 * sizeof(be), be, sizeof(be)) != (int)sizeof(be))
		return 0;
	for (size_t i = 0; i < sizeof(be); i++)
		v = v << 8 | be[i];
	return v;
}

static const char *sip_request_method(const struct gk_msg *m)
{
	return m->wire.sip.method;
}

int gk_sip_received(struct gk_msg *m, const struct sockaddr_storage *from)
{
	struct gk_sip_ctx *s = &m->wire.sip;
	char top[GK_SIP_TEXT_MAX];

	if (!s->n_via)
		return -1;
	const char *v = gk_sip_via(s, 0);
	size_t n = sip_via_stamp((struct sip_span){v, strlen(v)}, from, top, sizeof(top));
	if (!n)
		return -1;
	uint8_t keep = s->n_via;
	uint16_t first = s->via[0];
	/* appended as a Via of its own, then put first: the old top Via's bytes stay unused */
	s->n_via = 0;
	if (gk_sip_add_via(s, top, n) < 0) {
		s->n_via = keep;
		s->via[0] = first;
		return -1;
	}
	s->n_via = keep;
	return 0;
}

static void sip_received(struct gk_msg *m, const struct sockaddr_storage *from)
{
	/* A context too full for the stamp is answered as it came: still routable by rport's
	 * absence of change, and the source address is where the answer goes anyway. */
	(void)gk_sip_received(m, from);
}

/* OPTIONS is the probe every UA sends (RFC 3261 §11); an ACK outside a transaction of ours is
 * dropped (§17.2.3 / §16.4); calls, messages and the rest need routing this element does not do
 * yet, and are refused rather than answered 200 (405 or 501, with Allow). */
static enum gk_other_kind sip_other_kind(const struct gk_msg *m)
{
	if (strcmp(m->wire.sip.method, "OPTIONS") == 0)
		return GK_OTHER_PROBE;
	if (strcmp(m->wire.sip.method, "ACK") == 0)
		return GK_OTHER_NO_ANSWER;
	return GK_OTHER_UNSERVED;
}

const struct gk_codec gk_sip_codec = {
    .proto = GK_PROTO_SIP,
    .name = "sip",
    .default_port = 5060,
    .digest = true,
    .sec_verify = true,
    .decode = gk_sip_decode,
    .encode = gk_sip_encode,
    .is_registration = gk_sip_is_register,
    .request_init = sip_request_init,
    .response_init = sip_response_init,
    .transaction_ref = sip_transaction_ref,
    .request_method = sip_request_method,
    .other_kind = sip_other_kind,
    .refuse = gk_sip_refuse,
    .received = sip_received,
};
