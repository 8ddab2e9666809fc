/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SIP binding of the exchange (RFC 3261, RFC 3329). Translation only: no state.
 *
 * Mapping (docs/bindings.md has the full table):
 *   REGISTER   REGISTER, Authorization: GK1 username=IDc, realm=IDsp, n1, ts (no response)
 *   CHALLENGE  401, WWW-Authenticate: GK1 realm, nonce=Rand, n1, n2, ts, algorithm=gk1,
 *              mechanisms="required"
 *   ANSWER     REGISTER, Authorization: GK1 username, realm, nonce=Rand, n1, n2, ts,
 *              response=AUTH; Security-Client list with q-values; Require/Proxy-Require sec-agree
 *   SUCCESS    200, Authentication-Info: n1, n2, ts, key=E_Kc[K], mechanisms=echoed list,
 *              rspauth=MAC; Security-Server: chosen mechanism; Expires
 *   REJECT     403 Forbidden
 *   DEREGISTER REGISTER with Expires: 0 (protected by the gk-mac trailer)
 *   OTHER      any other request (OPTIONS ...), answered 200
 * Binary fields are lower-case hex; TS is decimal seconds since the epoch.
 */
#ifndef GATEKEY_SIP_H
#define GATEKEY_SIP_H

#include <stddef.h>
#include <stdint.h>

#include "gatekey/msg.h"

/* Parse one SIP datagram into m (m->proto = GK_PROTO_SIP). Returns 0, or -1 with *reason set to
 * a GK_R_PARSE_* code. Never reads beyond len; the buffer need not be NUL-terminated. */
int gk_sip_decode(const uint8_t *buf, size_t len, struct gk_msg *m, enum gk_reason *reason);

/* Serialise m. Requests use m->wire.sip for Via/From/To/Call-ID/CSeq/Contact/R-URI; responses
 * echo the request's context (the caller copies it and sets to_tag). Returns the length, or
 * -ENOSPC / -EINVAL. */
int gk_sip_encode(const struct gk_msg *m, uint8_t *buf, size_t cap);

/* Cheap classification for the fast path and unknown-source policy: 1 if buf starts with a SIP
 * REGISTER request line, else 0. */
int gk_sip_is_register(const uint8_t *buf, size_t len);

#endif
