// SPDX-License-Identifier: GPL-2.0-only
/*
 * Userspace companions of include/gatekey/fastpath/fastpath.h: counter names for logs and `gkctl`,
 * the mapping onto gatekey's reasons, and the default port plan.
 */
#include <string.h>

#include "gatekey/fastpath/fastpath.h"

_Static_assert(sizeof(struct gk_fp_terminal) == 80, "terminals map value is ABI");
/* 184 until the ipsec-3gpp ends were appended: maps pinned before are refused as another layout */
_Static_assert(sizeof(struct gk_fp_session) == 208, "sessions map value is ABI");
_Static_assert(sizeof(struct gk_fp_source) == 20, "sources map key is ABI");
_Static_assert(sizeof(struct gk_fp_host) == 20, "src_buckets map key is ABI");
_Static_assert(sizeof(struct gk_fp_config) == 8 * GK_FP_NPORTS + 28, "config map value is ABI");

#define GK_R_NONE GK_R__COUNT

static const struct {
	const char *name, *str;
	enum gk_reason reason;
} stats[GK_FP_STAT__COUNT] = {
#define GK_FP_STAT_ROW(n, s, r) [GK_FP_##n] = {#n, s, GK_R_##r},
    GK_FP_STATS(GK_FP_STAT_ROW)
#undef GK_FP_STAT_ROW
};

const char *gk_fp_stat_name(enum gk_fp_stat s)
{
	return (unsigned)s < GK_FP_STAT__COUNT ? stats[s].name : NULL;
}

const char *gk_fp_stat_str(enum gk_fp_stat s)
{
	return (unsigned)s < GK_FP_STAT__COUNT ? stats[s].str : NULL;
}

enum gk_reason gk_fp_stat_reason(enum gk_fp_stat s)
{
	return (unsigned)s < GK_FP_STAT__COUNT ? stats[s].reason : GK_R_NONE;
}

void gk_fp_config_default(struct gk_fp_config *cfg)
{
	static const struct {
		uint16_t port;
		uint8_t proto;
	} plan[] = {
	    {5060, GK_FP_PROTO_SIP},  {2427, GK_FP_PROTO_MGCP}, {2727, GK_FP_PROTO_MGCP},
	    {2944, GK_FP_PROTO_H248}, {2945, GK_FP_PROTO_H248}, {1719, GK_FP_PROTO_RAS},
	};

	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < sizeof(plan) / sizeof(plan[0]); i++) {
		cfg->ports[i].port = plan[i].port;
		cfg->ports[i].verified = (uint16_t)(plan[i].port + 10000);
		cfg->ports[i].proto = plan[i].proto;
	}
	cfg->source = (struct gk_fp_rate){.rate = 10, .burst = 20};
	cfg->global = (struct gk_fp_rate){.rate = 2000, .burst = 4000};
	cfg->terminal = (struct gk_fp_rate){.rate = 50, .burst = 100};
}
