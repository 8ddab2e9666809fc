// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the H.323 RAS codec (aligned PER). Whatever the decoder
 * accepts must re-encode, decode again to the same message, and re-encode to
 * the same bytes; the PDU layer alone must never read out of bounds; the
 * success-MAC input must be computable for a SUCCESS.
 */
#include <stdbool.h>

#include "gatekey/codec/msg.h"
#include "gatekey/h323/ras.h"

#define FUZZ_NAME "fuzz_ras"
#include "fuzz_common.h"

static void same_msg(const struct gk_msg *a, const struct gk_msg *b)
{
	CHECK(a->proto == GK_PROTO_H323);
	same_exchange_fields(a, b);
	CHECK(a->reason == b->reason);
	CHECK(a->wire.ras.pdu == b->wire.ras.pdu);
	CHECK(a->wire.ras.seq == b->wire.ras.seq);
	CHECK(memcmp(&a->wire.ras.ras, &b->wire.ras.ras, sizeof(a->wire.ras.ras)) == 0);
	CHECK(memcmp(&a->wire.ras.csa, &b->wire.ras.csa, sizeof(a->wire.ras.csa)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gk_msg a, b;
	static struct gk_ras_pdu p;
	static uint8_t out1[4096], out2[4096], canon[GK_CANON_MAX];
	enum gk_reason why = GK_R__COUNT;
	int n1, n2;

	gk_ras_is_registration(data, size);
	if (gk_ras_pdu_decode(data, size, &p, &why) == 0 && p.type != GK_RAS_GCF) {
		/* what the PDU layer reads it can write (unless it holds values we never
		 * send) */
		int n = gk_ras_pdu_encode(&p, out1, sizeof(out1));
		CHECK(n > 0 || n == -22 /* EINVAL */);
	}
	if (gk_ras_decode(data, size, &a, &why) < 0) {
		CHECK(why >= GK_R_PARSE_TRUNCATED && why <= GK_R_PARSE_UNSUPPORTED);
		return 0;
	}
	CHECK(why == GK_R_OK);
	CHECK(a.type != GK_MSG_NONE);
	n1 = gk_ras_encode(&a, out1, sizeof(out1));
	CHECK(n1 > 0);
	CHECK(gk_ras_decode(out1, (size_t)n1, &b, &why) == 0);
	same_msg(&a, &b);
	n2 = gk_ras_encode(&b, out2, sizeof(out2));
	CHECK(n2 == n1 && memcmp(out1, out2, (size_t)n1) == 0);
	CHECK(gk_ras_encode(&a, out2, (size_t)n1 - 1) < 0);
	if (a.type == GK_MSG_SUCCESS)
		CHECK(gk_ras_success_canonical(&b, canon, sizeof(canon)) == n1);
	return 0;
}
