/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef AUCD_VECTOR_H
#define AUCD_VECTOR_H

#include "gatekey/auc/auc_proto.h"
#include "gatekey/auc/keystore.h"

/* The AuC's decision for one auth request (s3 -> s4). Returns 0 with v filled (for an unknown
 * IDc too: a vector that can never verify, so the outside cannot tell), -ENOENT when the
 * element is not provisioned, or another negative errno. */
int auc_make_vector(struct gk_keystore *ks, const char *idc, const char *idsp,
                    struct gk_auc_vector *v, bool *known_idc);

/* The AuC's answer to a Digest request: HA1 of (IDc, realm) for the subscriber's digest password
 * (digest.h), in MD5 and SHA-256. An unknown IDc gets random HA1s, which verify nothing. Same
 * returns as auc_make_vector. */
int auc_make_ha1(struct gk_keystore *ks, const char *idc, const char *idsp, const char *realm,
                 struct gk_auc_ha1 *h, bool *known_idc);

/* The AuC's answer to a routing lookup (auc_proto.h): *known says whether idc is provisioned.
 * Returns 0, -ENOENT when idsp is not a provisioned element, -EPERM when it is one but not a
 * softswitch (only a softswitch routes), or another negative errno. Reads no key. */
int auc_lookup(struct gk_keystore *ks, const char *idc, const char *idsp, bool *known);

#endif
