// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the SIP codec. Whatever the decoder accepts must re-encode, decode again
 * to the same message, and re-encode to the same bytes: the exchange relies on decode(encode(m))
 * == m, and a second encode that differed would mean the first one lost or invented something.
 * What the decoder refuses goes through the stateless refusal (lib/sip/sip_refuse.c), which reads
 * the same bytes leniently and must never write a control character or a second message. A Digest
 * UA's reading (gk_sip_decode_ua) runs on every input too.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "gatekey/sip/sip.h"

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
	CHECK(strcmp(gk_sip_get(x, GK_SIP_RURI), gk_sip_get(y, GK_SIP_RURI)) == 0);
	CHECK(x->n_via == y->n_via);
	for (unsigned i = 0; i < x->n_via && i < GK_SIP_VIA_MAX; i++)
		CHECK(strcmp(gk_sip_via(x, i), gk_sip_via(y, i)) == 0);
	CHECK(strcmp(gk_sip_get(x, GK_SIP_FROM), gk_sip_get(y, GK_SIP_FROM)) == 0);
	CHECK(strcmp(gk_sip_get(x, GK_SIP_TO), gk_sip_get(y, GK_SIP_TO)) == 0);
	CHECK(strcmp(x->to_tag, y->to_tag) == 0);
	CHECK(strcmp(gk_sip_get(x, GK_SIP_CALL_ID), gk_sip_get(y, GK_SIP_CALL_ID)) == 0);
	CHECK(x->cseq == y->cseq);
	/* A REJECT is always sent as 403 (503 for an overload), whatever 4xx-6xx was read. */
	CHECK(a->type == GK_MSG_REJECT || x->status == y->status);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gk_msg a, b;
	static uint8_t out1[3 * GK_SIP_TEXT_MAX], out2[3 * GK_SIP_TEXT_MAX];
	enum gk_reason why = GK_R__COUNT;
	int n1, n2;

	gk_sip_is_register(data, size);
	/* A Digest UA's reading (gkterm --digest): the same grammar, 407s and the challenge of its
	 * algorithm too; it must never crash, and what it takes is a message. */
	if (gk_sip_decode_ua(data, size, "MD5", &b, &why) == 0)
		CHECK(b.type != GK_MSG_NONE && why == GK_R_OK);
	why = GK_R__COUNT;
	if (gk_sip_decode(data, size, &a, &why) < 0) {
		CHECK((why >= GK_R_PARSE_TRUNCATED && why <= GK_R_PARSE_UNSUPPORTED) ||
		      why == GK_R_BAD_VERSION || why == GK_R_BAD_SCHEME ||
		      why == GK_R_BAD_EXTENSION || why == GK_R_BAD_MEDIA || why == GK_R_NOT_SERVED);
		CHECK(why != GK_R_PARSE_TOO_LONG ||
		      (a.limit > GK_LIMIT_NONE && a.limit < GK_LIMIT__COUNT));
		/* The stateless refusal reads the same bytes leniently: it must never write a
		 * control character, a bare CR or LF, or anything after the empty line. */
		struct sockaddr_storage from = {0};
		struct sockaddr_in *sin = (struct sockaddr_in *)&from;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(5060);
		sin->sin_addr.s_addr = htonl(0xc6120009);
		int k = gk_sip_refuse(data, size, &a, why, &from, out1, sizeof(out1));
		CHECK(k >= 0 || k == -ENOSPC);
		if (k > 0) {
			CHECK(k >= 12 && memcmp(out1, "SIP/2.0 ", 8) == 0);
			CHECK(memcmp(out1 + k - 4, "\r\n\r\n", 4) == 0);
			for (int i = 0; i < k - 4; i++) {
				uint8_t c = out1[i];
				CHECK(c >= 0x20 || c == '\t' ||
				      (c == '\r' && out1[i + 1] == '\n') ||
				      (c == '\n' && i && out1[i - 1] == '\r'));
				CHECK(
				    !(c == '\r' && out1[i + 2] == '\r')); /* no empty line inside */
			}
		}
		return 0;
	}
	CHECK(why == GK_R_OK);
	CHECK(a.type != GK_MSG_NONE);
	CHECK(strnlen(a.idc, sizeof(a.idc)) < sizeof(a.idc));
	n1 = gk_sip_encode(&a, out1, sizeof(out1));
	if (a.wire.sip.altered) {
		/* an escaped control character is never written back: nothing is encoded */
		CHECK(n1 == -EINVAL);
		return 0;
	}
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
