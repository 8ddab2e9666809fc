// SPDX-License-Identifier: GPL-2.0-only
/*
 * The codec table (codec.h): every binding, found by protocol or by name. A fixed array walked
 * in order, not a registry codecs add themselves to: there are four, and the exchange must know
 * at build time every protocol it can be reached by.
 */
#include <string.h>

#include "gatekey/codec/codec.h"
#include "gatekey/cmd/h248.h"
#include "gatekey/cmd/mgcp.h"
#include "gatekey/sip/sip.h"

extern const struct gk_codec gk_sip_codec, gk_ras_codec;

static const struct gk_codec *const codecs[] = {
    &gk_sip_codec,
    &gk_mgcp_codec,
    &gk_h248_codec,
    &gk_ras_codec,
};

const struct gk_codec *gk_codec_get(enum gk_proto proto)
{
	for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++)
		if (codecs[i]->proto == proto)
			return codecs[i];
	return NULL;
}

enum gk_other_kind gk_codec_other_kind(const struct gk_msg *m)
{
	const struct gk_codec *c = gk_codec_get((enum gk_proto)m->proto);
	return c && c->other_kind ? c->other_kind(m) : GK_OTHER_PROBE;
}

const struct gk_codec *gk_codec_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++)
		if (strcmp(codecs[i]->name, name) == 0)
			return codecs[i];
	return NULL;
}
