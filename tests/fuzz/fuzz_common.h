/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What every codec fuzz target checks the same way. The including file defines FUZZ_NAME first.
 * CHECK aborts with the failed condition, which libFuzzer reports as a crash with the input.
 */
#ifndef GATEKEY_FUZZ_COMMON_H
#define GATEKEY_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatekey/codec/msg.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s: %s:%d: %s\n", FUZZ_NAME, __FILE__, __LINE__, #cond);  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The abstract message fields every binding carries: a message decoded from a re-encoding must
 * hold the same ones. Decoders zero what is absent, so whole-field compares are exact. The
 * binding-specific fields (and those not every binding carries) are each target's own. */
static inline void same_exchange_fields(const struct gk_msg *a, const struct gk_msg *b)
{
	CHECK(a->proto == b->proto);
	CHECK(a->type == b->type);
	CHECK(a->fields == b->fields);
	CHECK(strcmp(a->idc, b->idc) == 0);
	CHECK(strcmp(a->idsp, b->idsp) == 0);
	CHECK(memcmp(a->n1, b->n1, sizeof(a->n1)) == 0);
	CHECK(memcmp(a->n2, b->n2, sizeof(a->n2)) == 0);
	CHECK(a->ts == b->ts);
	CHECK(memcmp(a->rand, b->rand, sizeof(a->rand)) == 0);
	CHECK(memcmp(a->auth, b->auth, sizeof(a->auth)) == 0);
	CHECK(memcmp(a->blob, b->blob, sizeof(a->blob)) == 0);
	CHECK(a->n_mechs == b->n_mechs);
	for (unsigned i = 0; i < a->n_mechs && i < GK_MECH_MAX; i++)
		CHECK(a->mechs[i].mech == b->mechs[i].mech && a->mechs[i].q == b->mechs[i].q);
	CHECK(a->chosen == b->chosen);
	CHECK(memcmp(a->mac, b->mac, sizeof(a->mac)) == 0);
	CHECK(a->expires == b->expires);
	CHECK(a->index == b->index);
	CHECK(!(a->fields & GK_F_IPSEC_TERM) ||
	      memcmp(&a->ipsec_term, &b->ipsec_term, sizeof(a->ipsec_term)) == 0);
	CHECK(!(a->fields & GK_F_IPSEC_NET) ||
	      memcmp(&a->ipsec_net, &b->ipsec_net, sizeof(a->ipsec_net)) == 0);
	/* a refusal reads as "refused", or as an overload with the same wait */
	CHECK(a->reason == b->reason);
	CHECK(a->retry_after == b->retry_after);
	CHECK(a->retry_after == 0 || (a->type == GK_MSG_REJECT && a->reason == GK_R_OVERLOAD));
}

#endif
