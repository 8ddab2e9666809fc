/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The core leg between an SBC's front and the softswitch's core, on the wire (DESIGN §3 s2, s5,
 * s8, s9 and the end of a binding): which abstract message carries which step. Both sides use
 * the same codec as the terminal leg; only the fields differ.
 *
 *   s2  REGISTER    IDc, IDsp                        (no N1/TS: the SBC checked those)
 *   s5  CHALLENGE   IDc, IDsp, Rand
 *   s8  ANSWER      IDc, IDsp, Rand, AUTH, address   (the terminal as the SBC saw it, for s11)
 *   s9  SUCCESS     IDc, IDsp, Rand, E_Kc[K], E_Ksp[K]
 *       REJECT      the core refused (lockout, timeout ...)
 *   end DEREGISTER  IDc, IDsp, address               answered DEREG_OK
 *
 * The SBC's transaction reference travels in the transaction identifier the codec echoes (the
 * SIP Via branch), so a response finds its registration without any lookup table.
 */
#ifndef GATEKEY_UPLINK_H
#define GATEKEY_UPLINK_H

#include <stdint.h>

#include "gatekey/codec.h"
#include "gatekey/msg.h"

/* Builds the abstract message of a core-leg request. rand/auth/address may be NULL. */
void gk_uplink_request(struct gk_msg *m, enum gk_msg_type type, const char *idc, const char *idsp,
                       const uint8_t *rand, const uint8_t *auth, const char *address);
/* Builds the abstract message of the core's verdict, answering req. */
void gk_uplink_verdict(struct gk_msg *m, const struct gk_msg *req, enum gk_msg_type type,
                       const uint8_t *rand, const uint8_t *blob_terminal,
                       const uint8_t *blob_element);

#endif
