// SPDX-License-Identifier: GPL-2.0-only
/*
 * The AuC's authentication vector (vector.h): fresh Rand and K, XAUTH, and K wrapped for the
 * terminal and for the element. For an unknown IDc the vector is made under a random key, with
 * the same shape and the same cost, so that neither the answer nor its timing tells a prober
 * which IDc exist.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gatekey/auc/vector.h"

int gk_vector_make(const uint8_t *kc, const uint8_t element_key[GK_KEY_LEN],
                   enum gk_role element_role, const char *idc, const char *idsp,
                   struct gk_auc_vector *v)
{
	uint8_t fake[GK_KEY_LEN], k[GK_KEY_LEN];
	int ret;

	memset(v, 0, sizeof(*v));
	if (strlen(idc) > GK_ID_MAX || strlen(idsp) > GK_ID_MAX)
		return -EINVAL;
	strcpy(v->idc, idc);
	strcpy(v->idsp, idsp);
	if (!kc) {
		/* Same shape, same cost as a real vector, but nothing can ever verify it. */
		if (gk_random(fake, sizeof(fake)) < 0)
			return -EIO;
		kc = fake;
	}
	ret = gk_random(v->rand, GK_RAND_LEN) < 0 || gk_random(k, GK_KEY_LEN) < 0 ? -EIO : 0;
	if (!ret)
		ret = gk_auth_compute(kc, v->rand, idc, v->xauth);
	if (!ret)
		ret = gk_key_wrap(kc, k, idc, idsp, v->rand, GK_ROLE_TERMINAL, v->blob_terminal);
	if (!ret)
		ret =
		    gk_key_wrap(element_key, k, idc, idsp, v->rand, element_role, v->blob_element);
	if (kc == fake && !ret)
		ret = gk_random(v->xauth, GK_AUTH_LEN) < 0 ? -EIO : 0;
	gk_wipe(fake, sizeof(fake));
	gk_wipe(k, sizeof(k));
	if (ret)
		gk_wipe(v, sizeof(*v));
	return ret;
}
