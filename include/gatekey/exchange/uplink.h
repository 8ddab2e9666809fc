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
 *       REJECT      the core refused (lockout, timeout ...): 403; or was overloaded: 503 with
 *                   Retry-After, which the SBC passes on to its terminal (gk_uplink_refusal)
 *   end DEREGISTER  IDc, IDsp, address               answered DEREG_OK
 *
 * A plain Digest registration (a terminal without GK1) on the same leg:
 *       REGISTER    IDc, IDsp, mechanisms = digest, address [, Digest credentials]
 *       CHALLENGE   IDc, IDsp, Digest challenge          (the core's nonce, for the terminal)
 *       SUCCESS     IDc, IDsp, chosen = digest           (no key: none is delivered)
 *
 * The SBC's transaction reference travels in the transaction identifier the codec echoes (the
 * SIP Via branch), so a response finds its registration without any lookup table.
 */
#ifndef GATEKEY_UPLINK_H
#define GATEKEY_UPLINK_H

#include <stdbool.h>
#include <stdint.h>

#include "gatekey/codec/codec.h"
#include "gatekey/codec/msg.h"

/* Builds the abstract message of a core-leg request. rand/auth/address may be NULL. */
void gk_uplink_request(struct gk_msg *m, enum gk_msg_type type, const char *idc, const char *idsp,
                       const uint8_t *rand, const uint8_t *auth, const char *address);
/* The core-leg REGISTER of a Digest registration; cred may be NULL. */
void gk_uplink_digest_request(struct gk_msg *m, const char *idc, const char *idsp,
                              const struct gk_digest *cred, const char *address);
/* Is this core-leg REGISTER a Digest one? */
bool gk_uplink_is_digest(const struct gk_msg *m);
/* What a core-leg REJECT means for the terminal behind it: GK_R_OVERLOAD with the seconds the
 * core asked it to wait in *retry_after_s (the front answers with its protocol's overload
 * refusal), or GK_R_REFUSED with 0 for any other refusal (the front answers "forbidden"). */
enum gk_reason gk_uplink_refusal(const struct gk_msg *m, uint32_t *retry_after_s);
/* Builds the abstract message of the core's verdict, answering req. */
void gk_uplink_verdict(struct gk_msg *m, const struct gk_msg *req, enum gk_msg_type type,
                       const uint8_t *rand, const uint8_t *blob_terminal,
                       const uint8_t *blob_element);

#endif
