/* SPDX-License-Identifier: GPL-2.0-only */
/* The AuC's computation of an authentication vector (DESIGN §3 s4, §4), independent of storage. */
#ifndef GATEKEY_VECTOR_H
#define GATEKEY_VECTOR_H

#include "gatekey/auc/auc_proto.h"

/*
 * Fresh Rand and K; XAUTH = AUTH(Kc, Rand, IDc); K wrapped for the terminal under Kc and for the
 * element under its key with its role. kc NULL means an unknown IDc: the vector has the same
 * shape and cost, but XAUTH and the terminal's blob can never verify. 0 or a negative errno.
 */
int gk_vector_make(const uint8_t *kc, const uint8_t element_key[GK_KEY_LEN],
                   enum gk_role element_role, const char *idc, const char *idsp,
                   struct gk_auc_vector *v);

#endif
