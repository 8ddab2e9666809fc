// SPDX-License-Identifier: GPL-2.0-only
/*
 * aucd's decisions on what the key store holds: vectors (s4), HA1 for Digest, and whether a
 * subscriber exists (a routing lookup). See vector.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gatekey/crypto/digest.h"
#include "gatekey/auc/vector.h"
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

static void random_hex(char *out, size_t digits)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t r[32];

	gk_random(r, digits / 2);
	for (size_t i = 0; i < digits / 2; i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 15];
	}
	out[digits] = '\0';
	gk_wipe(r, sizeof(r));
}

int auc_make_ha1(struct gk_keystore *ks, const char *idc, const char *idsp, const char *realm,
                 struct gk_auc_ha1 *h, bool *known_idc)
{
	uint8_t kc[GK_KEY_LEN], kel[GK_KEY_LEN];
	char pw[GK_DIGEST_PW_LEN + 1];
	enum gk_element_type type;
	int ret;

	memset(h, 0, sizeof(*h));
	ret = gk_ks_element_get(ks, idsp, &type, kel);
	gk_wipe(kel, sizeof(kel));
	if (ret < 0)
		return ret;
	snprintf(h->idc, sizeof(h->idc), "%s", idc);
	snprintf(h->idsp, sizeof(h->idsp), "%s", idsp);
	snprintf(h->realm, sizeof(h->realm), "%s", realm);
	ret = gk_ks_subscriber_get(ks, idc, kc);
	*known_idc = ret == 0;
	if (ret == -ENOENT) {
		random_hex(h->md5, 32);
		random_hex(h->sha256, 64);
		return 0;
	}
	if (ret == 0)
		ret = gk_digest_password(kc, pw);
	char hex[GK_DIGEST_HEX_BUF];
	if (ret == 0)
		ret = gk_digest_ha1(GK_DIGEST_MD5, idc, realm, pw, hex);
	if (ret == 0) {
		memcpy(h->md5, hex, sizeof(h->md5));
		ret = gk_digest_ha1(GK_DIGEST_SHA256, idc, realm, pw, h->sha256);
	}
	gk_wipe(hex, sizeof(hex));
	gk_wipe(kc, sizeof(kc));
	gk_wipe(pw, sizeof(pw));
	return ret;
}

int auc_lookup(struct gk_keystore *ks, const char *idc, const char *idsp, bool *known)
{
	enum gk_element_type type;
	int ret;

	*known = false;
	ret = gk_ks_element_type(ks, idsp, &type);
	if (ret < 0)
		return ret;
	if (type != GK_ELEMENT_SOFTSWITCH)
		return -EPERM;
	ret = gk_ks_subscriber_exists(ks, idc);
	if (ret < 0)
		return ret;
	*known = ret == 1;
	return 0;
}
