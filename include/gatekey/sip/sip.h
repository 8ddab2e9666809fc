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
 *              index, rspauth=MAC; Security-Server: chosen mechanism; Expires, Contact;expires
 *   REJECT     403 Forbidden (decoded: any 4xx-6xx but a GK1/Digest 401; reason GK_R_REFUSED);
 *              reason GK_R_OVERLOAD: 503 Service Unavailable, Retry-After: retry_after (decoded
 *              from a 503 the same way)
 *   DEREGISTER REGISTER with Expires: 0 (protected by the gk-mac trailer)
 *   DEREG_OK   200 to REGISTER without the s10 MAC, Expires: 0
 *   OTHER      any other request (OPTIONS ...), answered 200 (OTHER_OK)
 * Digest (RFC 7616/8760): requests carry `Authorization: Digest` in m->digest (GK_F_DIGEST); a
 * 401 its first `WWW-Authenticate: Digest` (GK_F_DIGEST_CHAL; a Digest-only 401 is a CHALLENGE);
 * gk_sip_decode_ua reads them as a UA answering them does.
 * Core leg (uplink.h): the same messages with nonce/key/element-key (s9 SUCCESS, no MAC) and
 * address (s8 ANSWER, DEREGISTER) as further GK1 parameters.
 * Binary fields are lower-case hex; TS is decimal seconds since the epoch. IDc/IDsp come from
 * the GK1 username/realm in requests and from the To URI (user, host) in responses.
 */
#ifndef GATEKEY_SIP_H
#define GATEKEY_SIP_H

#include <stddef.h>
#include <stdint.h>

#include "gatekey/codec/msg.h"

/* A run of bytes inside a received datagram, as the parsers hand values out: not NUL-terminated
 * and never owned, so it lives as long as the datagram does. */
struct sip_span {
	const char *p;
	size_t n;
};

/* Parse one SIP datagram into m (m->proto = GK_PROTO_SIP). Returns 0, or -1 with *reason set to
 * a GK_R_PARSE_* code. Never reads beyond len; the buffer need not be NUL-terminated. Bytes after
 * the body that Content-Length announces are ignored. Fields not set in m->fields are zero. */
int gk_sip_decode(const uint8_t *buf, size_t len, struct gk_msg *m, enum gk_reason *reason);

/*
 * gk_sip_decode for a plain Digest UA (gkterm --digest), which answers with one algorithm
 * (digest_alg, an RFC 7616 token such as "SHA-256"): a 401's WWW-Authenticate and a 407's
 * Proxy-Authenticate challenges are read (a 407 with a Digest challenge is a CHALLENGE too, the
 * status in wire.sip.status says which), and m->digest is the first challenge whose algorithm is
 * digest_alg (absent meaning MD5), its algorithm that token alone, whatever the nonces of the
 * others; when none offers it, the first challenge, so the caller can say what was offered. No
 * list of algorithms is joined as gk_sip_decode does. Only for reading: a 407 does not encode.
 */
int gk_sip_decode_ua(const uint8_t *buf, size_t len, const char *digest_alg, struct gk_msg *m,
                     enum gk_reason *reason);

/* Serialise m. Requests use m->wire.sip for Via/From/To/Call-ID/CSeq/Contact/R-URI (an empty
 * R-URI or To is made from IDsp/IDc); responses echo the request's context (the caller copies it
 * and sets to_tag). Returns the length, or -ENOSPC (nothing usable in buf), or -EINVAL for a
 * message the wire cannot carry as that type (see docs/bindings.md). */
int gk_sip_encode(const struct gk_msg *m, uint8_t *buf, size_t cap);

/*
 * The stateless answer to a request the exchange never saw: refused by gk_sip_decode (why, with
 * the decode's message `failed` naming the header and the limit) or for its method
 * (GK_R_NOT_SERVED). 400 names the problem in its reason phrase ("Missing Call-ID"); 505, 416,
 * 420 + Unsupported, 415 + Accept, 513 and 405/501 + Allow as RFC 3261 §8.2 and §21 name them.
 * Built from the received bytes (see lib/sip/sip_refuse.c), the top Via stamped with received/rport
 * for `from`. Returns the length written to out, 0 when nothing may be answered (a response, an
 * ACK, no Via, control characters in what would be echoed), or -ENOSPC.
 */
struct sockaddr_storage;
int gk_sip_refuse(const uint8_t *buf, size_t len, const struct gk_msg *failed, enum gk_reason why,
                  const struct sockaddr_storage *from, uint8_t *out, size_t cap);

/* The same, for an answer the caller chose (a proxy's 100 Trying, 403, 480, 408 ...): status
 * 100..699 with its reason phrase, no further header fields; a 100 gets no To tag (it makes no
 * dialog). -EINVAL for another status. */
int gk_sip_answer(const uint8_t *req, size_t len, unsigned status, const char *phrase,
                  const struct sockaddr_storage *from, uint8_t *out, size_t cap);

/* Stamps the top Via of a decoded request with received/rport for its source (RFC 3261
 * §18.2.1, RFC 3581), so every response built from its context carries them. -1 when the
 * context has no room for the stamped value (GK_SIP_TEXT_MAX). */
int gk_sip_received(struct gk_msg *m, const struct sockaddr_storage *from);

/* Cheap classification for the fast path and unknown-source policy: 1 if buf starts with a SIP
 * REGISTER request line, else 0. */
int gk_sip_is_register(const uint8_t *buf, size_t len);

#endif
