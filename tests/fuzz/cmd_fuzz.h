/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The body of the libFuzzer targets of the command bindings (fuzz_mgcp.c, fuzz_h248.c): whatever
 * the decoder accepts must re-encode, decode again to the same message and re-encode to the same
 * bytes; refusals carry a GK_R_PARSE_* reason; is_registration never crashes. The including file
 * defines CMD_FUZZ_NAME and CMD_FUZZ_CODEC first.
 */
#include <stdbool.h>

#include "gatekey/codec/codec.h"
#include "gatekey/cmd/h248.h"
#include "gatekey/cmd/mgcp.h"

#define FUZZ_NAME CMD_FUZZ_NAME
#include "fuzz_common.h"

static const struct gk_cmd_wire *cw(const struct gk_msg *m)
{
	return m->proto == GK_PROTO_MGCP ? &m->wire.mgcp.cmd : &m->wire.h248.cmd;
}

static void same_msg(const struct gk_msg *a, const struct gk_msg *b)
{
	same_exchange_fields(a, b);
	const struct gk_cmd_wire *x = cw(a), *y = cw(b);
	CHECK(x->kind == y->kind && x->tid == y->tid && x->flags == y->flags);
	CHECK(x->code == y->code || a->type == GK_MSG_ACK || a->type == GK_MSG_REJECT);
	CHECK(x->n_acks == y->n_acks);
	CHECK(memcmp(x->acks, y->acks, sizeof(x->acks[0]) * x->n_acks) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gk_msg a, b;
	static uint8_t out1[8192], out2[8192];
	enum gk_reason why = GK_R__COUNT;
	int n1, n2;

	CMD_FUZZ_CODEC.is_registration(data, size);
	if (CMD_FUZZ_CODEC.decode(data, size, &a, &why) < 0) {
		CHECK(why >= GK_R_PARSE_TRUNCATED && why <= GK_R_PARSE_UNSUPPORTED);
		return 0;
	}
	CHECK(why == GK_R_OK);
	CHECK(a.type != GK_MSG_NONE);
	n1 = CMD_FUZZ_CODEC.encode(&a, out1, sizeof(out1));
	CHECK(n1 > 0);
	CHECK(CMD_FUZZ_CODEC.decode(out1, (size_t)n1, &b, &why) == 0);
	same_msg(&a, &b);
	n2 = CMD_FUZZ_CODEC.encode(&b, out2, sizeof(out2));
	CHECK(n2 == n1 && memcmp(out1, out2, (size_t)n1) == 0);
	CHECK(CMD_FUZZ_CODEC.encode(&a, out2, (size_t)n1 - 1) < 0);
	return 0;
}
