// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gatekey/vector.h"
#include "vector.h"

static enum gk_role role_of(enum gk_element_type t)
{
	return t == GK_ELEMENT_SBC ? GK_ROLE_SBC : GK_ROLE_SOFTSWITCH;
}

int auc_make_vector(struct gk_keystore *ks, const char *idc, const char *idsp,
                    struct gk_auc_vector *v, bool *known_idc)
{
	uint8_t kc[GK_KEY_LEN], kel[GK_KEY_LEN];
	enum gk_element_type type;
	int ret;

	ret = gk_ks_element_get(ks, idsp, &type, kel);
	if (ret < 0)
		return ret;
	ret = gk_ks_subscriber_get(ks, idc, kc);
	*known_idc = ret == 0;
	if (ret == 0 || ret == -ENOENT)
		ret = gk_vector_make(*known_idc ? kc : NULL, kel, role_of(type), idc, idsp, v);
	gk_wipe(kc, sizeof(kc));
	gk_wipe(kel, sizeof(kel));
	return ret;
}
