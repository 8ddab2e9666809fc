/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The direct topology's front and core as the exchange tests set them up: element "ss1" with
 * key kss, tables of 16 terminals and 8 attempts, no registration log; with ipsec-3gpp among
 * the mechanisms, its protected ports are HELPER_IPSEC_PORT_C and _S. A terminal offering
 * ipsec-3gpp to it, and the check that two sides of an association would install the same SAs.
 */
#ifndef GATEKEY_TEST_HELPER_DIRECT_H
#define GATEKEY_TEST_HELPER_DIRECT_H

#include <stddef.h>
#include <stdint.h>

#include "gatekey/exchange/direct.h"
#include "gatekey/exchange/terminal.h"
#include "gatekey/ipsec/assoc.h"

#define HELPER_IPSEC_PORT_C 5200
#define HELPER_IPSEC_PORT_S 5201

/* mechs: bitmask of 1u << enum gk_mech. 0, or -1 with err. */
int helper_direct_init(struct gk_direct *d, struct gk_loop *loop, const uint8_t kss[GK_KEY_LEN],
                       uint32_t mechs, const struct gk_direct_ops *ops, void *user, char *err,
                       size_t errlen);

/* Terminal "alice" of element "ss1" with key kc, offering ipsec-3gpp (q=1) with end own, then
 * gk-mac (q=0.5), for 600 s. */
void helper_ipsec_terminal(struct gk_terminal *t, const uint8_t kc[GK_KEY_LEN],
                           const struct gk_ipsec_end *own);

/* -1 when the two sides' four flows agree on SPI, direction of use and key (k_t, k_e: each
 * side's K); else the first flow that differs (or 4 when a side's flows cannot be made). */
int helper_sas_differ(const struct gk_ipsec_assoc *at_t, const uint8_t k_t[GK_KEY_LEN],
                      const struct gk_ipsec_assoc *at_e, const uint8_t k_e[GK_KEY_LEN]);

#endif
