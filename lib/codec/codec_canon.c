// SPDX-License-Identifier: GPL-2.0-only
/*
 * The input of the s10 MAC: the codec's own form where it has one (RAS, which MACs the bytes
 * it received), else msg.h's canonical bytes. Kept apart from codec.c so the terminal and the
 * registrar compute it through one function and cannot disagree on what the MAC covers.
 */
#include "gatekey/codec/codec.h"

int gk_codec_success_canonical(const struct gk_msg *m, uint8_t *out, size_t cap)
{
	const struct gk_codec *c = gk_codec_get((enum gk_proto)m->proto);
	if (c && c->success_canonical)
		return c->success_canonical(m, out, cap);
	return gk_msg_success_canonical(m, out, cap);
}
