// SPDX-License-Identifier: GPL-2.0-only
/*
 * The text and the name of every reason (reason.h), both generated from the one GK_REASONS list
 * so that adding a reason cannot leave a table behind. A value outside the list gets a fixed
 * string rather than an out-of-bounds read.
 */
#include "gatekey/runtime/reason.h"

static const char *const reason_text[GK_R__COUNT] = {
#define GK_REASON_TEXT(n, s) [GK_R_##n] = s,
    GK_REASONS(GK_REASON_TEXT)
#undef GK_REASON_TEXT
};

static const char *const reason_name[GK_R__COUNT] = {
#define GK_REASON_NAME(n, s) [GK_R_##n] = #n,
    GK_REASONS(GK_REASON_NAME)
#undef GK_REASON_NAME
};

const char *gk_reason_str(enum gk_reason r)
{
	return (unsigned)r < GK_R__COUNT ? reason_text[r] : "unknown reason";
}

const char *gk_reason_name(enum gk_reason r)
{
	return (unsigned)r < GK_R__COUNT ? reason_name[r] : "UNKNOWN";
}
