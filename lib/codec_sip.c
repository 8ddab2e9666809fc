// SPDX-License-Identifier: GPL-2.0-only
/* The SIP entry of the codec table: wire context for new requests and for responses. */
#include <stdio.h>
#include <string.h>

#include "gatekey/codec.h"
#include "gatekey/config.h"
#include "gatekey/sip.h"

static void sip_request_init(struct gk_msg *m, const struct gk_request_ctx *c)
{
	struct gk_sip_ctx *s = &m->wire.sip;
	char local[80];

	memset(s, 0, sizeof(*s));
	gk_format_addr(c->local, local, sizeof(local));
	snprintf(s->method, sizeof(s->method), "%s", c->method ? c->method : "REGISTER");
	snprintf(s->ruri, sizeof(s->ruri), "sip:%s", c->idsp);
	snprintf(s->via[0], sizeof(s->via[0]), "SIP/2.0/UDP %s;branch=z9hG4bK%016llx;rport", local,
	         (unsigned long long)c->unique);
	s->n_via = 1;
	snprintf(s->from, sizeof(s->from), "<sip:%s@%s>;tag=%s", c->idc, c->idsp, c->local_tag);
	snprintf(s->to, sizeof(s->to), "<sip:%s@%s>", c->idc, c->idsp);
	snprintf(s->call_id, sizeof(s->call_id), "%s", c->dialog_id);
	s->cseq = c->seq;
	snprintf(s->contact, sizeof(s->contact), "<sip:%s@%s>", c->idc, local);
}

static void sip_response_init(struct gk_msg *m)
{
	struct gk_sip_ctx *s = &m->wire.sip;
	uint32_t h = 2166136261u;

	if (s->to_tag[0])
		return;
	/* REGISTER creates no dialog; a tag derived from the Call-ID keeps retransmitted
	 * responses identical. */
	for (const char *p = s->call_id; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	snprintf(s->to_tag, sizeof(s->to_tag), "gk%08x", h);
}

static uint64_t sip_transaction_ref(const struct gk_msg *m)
{
	const char *b = strstr(m->wire.sip.via[0], "branch=z9hG4bK");
	unsigned long long v;
	int n = 0;

	if (!m->wire.sip.n_via || !b)
		return 0;
	if (sscanf(b + 14, "%16llx%n", &v, &n) != 1 || n != 16)
		return 0;
	return v;
}

static const char *sip_request_method(const struct gk_msg *m)
{
	return m->wire.sip.method;
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
    .decode = gk_sip_decode,
    .encode = gk_sip_encode,
    .is_registration = gk_sip_is_register,
    .request_init = sip_request_init,
    .response_init = sip_response_init,
    .transaction_ref = sip_transaction_ref,
    .request_method = sip_request_method,
    .other_kind = sip_other_kind,
};
