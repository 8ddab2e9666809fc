/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef AUCD_VECTOR_H
#define AUCD_VECTOR_H

#include "gatekey/auc_proto.h"
#include "gatekey/keystore.h"

/* The AuC's decision for one auth request (s3 -> s4). Returns 0 with v filled (for an unknown
 * IDc too: a vector that can never verify, so the outside cannot tell), -ENOENT when the
 * element is not provisioned, or another negative errno. */
int auc_make_vector(struct gk_keystore *ks, const char *idc, const char *idsp,
                    struct gk_auc_vector *v, bool *known_idc);

#endif
