// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the SIP codec. Whatever the decoder accepts must re-encode, decode again
 * to the same message, and re-encode to the same bytes: the exchange relies on decode(encode(m))
 * == m, and a second encode that differed would mean the first one lost or invented something.
 */
#include <stdbool.h>

#include "gatekey/sip.h"

#define FUZZ_NAME "fuzz_sip"
#include "fuzz_common.h"

static void same_msg(const struct gk_msg *a, const struct gk_msg *b)
{
	const struct gk_sip_ctx *x = &a->wire.sip, *y = &b->wire.sip;

	CHECK(a->proto == GK_PROTO_SIP);
	same_exchange_fields(a, b);
	CHECK(memcmp(a->blob_element, b->blob_element, sizeof(a->blob_element)) == 0);
	CHECK(memcmp(a->address, b->address, sizeof(a->address)) == 0);
	CHECK(a->reason == b->reason);
	CHECK(memcmp(&a->digest, &b->digest, sizeof(a->digest)) == 0);

	CHECK(strcmp(x->method, y->method) == 0);
	CHECK(strcmp(x->ruri, y->ruri) == 0);
	CHECK(x->n_via == y->n_via);
	for (unsigned i = 0; i < x->n_via && i < GK_VIA_MAX; i++)
		CHECK(strcmp(x->via[i], y->via[i]) == 0);
	CHECK(strcmp(x->from, y->from) == 0);
	CHECK(strcmp(x->to, y->to) == 0);
	CHECK(strcmp(x->to_tag, y->to_tag) == 0);
	CHECK(strcmp(x->call_id, y->call_id) == 0);
	CHECK(x->cseq == y->cseq);
	/* A REJECT is always sent as 403, whatever 4xx-6xx was read. */
	CHECK(a->type == GK_MSG_REJECT || x->status == y->status);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gk_msg a, b;
	static uint8_t out1[8192], out2[8192];
	enum gk_reason why = GK_R__COUNT;
	int n1, n2;

	gk_sip_is_register(data, size);
	if (gk_sip_decode(data, size, &a, &why) < 0) {
		CHECK(why >= GK_R_PARSE_TRUNCATED && why <= GK_R_PARSE_UNSUPPORTED);
		return 0;
	}
	CHECK(why == GK_R_OK);
	CHECK(a.type != GK_MSG_NONE);
	CHECK(strnlen(a.idc, sizeof(a.idc)) < sizeof(a.idc));
	n1 = gk_sip_encode(&a, out1, sizeof(out1));
	CHECK(n1 > 0);
	CHECK(gk_sip_decode(out1, (size_t)n1, &b, &why) == 0);
	same_msg(&a, &b);
	n2 = gk_sip_encode(&b, out2, sizeof(out2));
	CHECK(n2 == n1 && memcmp(out1, out2, (size_t)n1) == 0);
	bool reg =
	    a.type == GK_MSG_REGISTER || a.type == GK_MSG_ANSWER || a.type == GK_MSG_DEREGISTER;
	CHECK(gk_sip_is_register(out1, (size_t)n1) == reg);
	/* Every shorter buffer is refused whole, never filled with a partial message. */
	CHECK(gk_sip_encode(&a, out2, (size_t)n1 - 1) < 0);
	return 0;
}
