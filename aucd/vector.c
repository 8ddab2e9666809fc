// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vector.h"

static enum gk_role role_of(enum gk_element_type t)
{
	return t == GK_ELEMENT_SBC ? GK_ROLE_SBC : GK_ROLE_SOFTSWITCH;
}

int auc_make_vector(struct gk_keystore *ks, const char *idc, const char *idsp,
		    struct gk_auc_vector *v, bool *known_idc)
{
	uint8_t kc[GK_KEY_LEN], kel[GK_KEY_LEN], k[GK_KEY_LEN];
	enum gk_element_type type;
	int ret;

	memset(v, 0, sizeof(*v));
	snprintf(v->idc, sizeof(v->idc), "%s", idc);
	snprintf(v->idsp, sizeof(v->idsp), "%s", idsp);
	ret = gk_ks_element_get(ks, idsp, &type, kel);
	if (ret < 0)
		return ret;
	if (gk_random(v->rand, GK_RAND_LEN) < 0 || gk_random(k, GK_KEY_LEN) < 0) {
		ret = -EIO;
		goto out;
	}
	ret = gk_ks_subscriber_get(ks, idc, kc);
	*known_idc = ret == 0;
	if (ret == -ENOENT) {
		/* Same shape, same cost as a real vector, but nothing can ever verify it. */
		ret = gk_random(kc, GK_KEY_LEN);
	}
	if (ret < 0)
		goto out;
	ret = gk_auth_compute(kc, v->rand, idc, v->xauth);
	if (!ret)
		ret = gk_key_wrap(kc, k, idc, idsp, v->rand, GK_ROLE_TERMINAL, v->blob_terminal);
	if (!ret)
		ret = gk_key_wrap(kel, k, idc, idsp, v->rand, role_of(type), v->blob_element);
	if (!*known_idc && !ret)
		gk_random(v->xauth, GK_AUTH_LEN);
out:
	gk_wipe(kc, sizeof(kc));
	gk_wipe(kel, sizeof(kel));
	gk_wipe(k, sizeof(k));
	return ret;
}
