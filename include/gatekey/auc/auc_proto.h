/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The softswitch <-> AuC leg on RADIUS (DESIGN §7): what gatekey puts in which attribute.
 *   s3  Access-Request:  User-Name = IDc, GK-Element-Id = IDsp, NAS-Identifier = softswitch ID,
 *                        Message-Authenticator
 *   s4  Access-Accept:   User-Name, GK-Element-Id, GK-Rand, GK-XAUTH (hidden),
 *                        GK-Blob-Terminal = E_Kc[K] (hidden), GK-Blob-Element = E_Ksp/E_Kss[K]
 *                        (hidden), Message-Authenticator
 *       Access-Reject:   the element is unknown or not allowed (never for an unknown IDc: the AuC
 *                        answers those with a vector that can never verify)
 *   digest Access-Request: as s3 plus GK-Digest-Realm: the softswitch checks a plain RFC 7616
 *                        Digest answer and needs HA1 for (IDc, realm)
 *       Access-Accept:   User-Name, GK-Element-Id, GK-Digest-Realm, GK-HA1-MD5 (hidden),
 *                        GK-HA1-SHA-256 (hidden), Message-Authenticator. An unknown IDc gets
 *                        random HA1s, like the unverifiable vector.
 *   lookup Access-Request: User-Name = IDc, GK-Element-Id = the softswitch's ID,
 *                        NAS-Identifier, Service-Type = Authorize-Only (17, RFC 5176 §3.2),
 *                        Message-Authenticator: does this subscriber exist? (SIP routing: 404
 *                        for a user nobody provisioned, 480 for one without a binding)
 *       Access-Accept:   User-Name, Message-Authenticator: it does. No secret, no vector.
 *       Access-Reject:   it does not (Reply-Message `not authorised`, as every Reject).
 *   s11 Accounting-Request Start (Stop on deregistration): User-Name, GK-Element-Id,
 *                        GK-Terminal-Address, Acct-Session-Id, NAS-Identifier, Event-Timestamp
 * Vendor-specific attributes use the PEN in `vendor` (default 32473).
 *
 * Why a lookup may say what a vector request must not. The vector and HA1 requests are asked on
 * behalf of whoever sends a REGISTER: a stranger on the access side chooses the IDc. Were an
 * unknown IDc refused there, the registration exchange would tell anyone which IDcs exist (an
 * enumeration oracle), so the AuC answers it as it answers a wrong key: a vector that never
 * verifies, random HA1s. A lookup is asked for a different party: the softswitch, an authenticated
 * RADIUS client whose element the key store names as a softswitch, asks it only for the Request-URI
 * of a request from a terminal with a standing binding (sip_route.h: a stranger's request is
 * dropped before it costs anything, let alone a lookup). Such a terminal authenticated itself with
 * a key the AuC gave out, and telling it that a user does not exist (404, RFC 3261 §21.4.5) rather
 * than that it cannot be reached now (480, §21.4.18) is what a SIP proxy owes its users. A
 * subscriber could still enumerate IDcs that way, one request and one counted route.not_found at a
 * time: an operator who would rather not sets route.lookup = no in softswitchd.conf, and every user
 * without a binding is 480 again. aucd hands out nothing for a lookup: it reads whether the
 * subscriber's row exists, decrypts no key, and a lookup that names an element that is not a
 * provisioned softswitch is dropped unanswered (counted), so that no Reject can be mistaken for
 * "unknown subscriber".
 */
#ifndef GATEKEY_AUC_PROTO_H
#define GATEKEY_AUC_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "gatekey/crypto/crypto.h"
#include "gatekey/codec/msg.h"
#include "gatekey/auc/radius.h"

#define GK_PEN_DEFAULT 32473

enum gk_vsa {
	GK_VSA_ELEMENT_ID = 1,
	GK_VSA_RAND = 2,
	GK_VSA_XAUTH = 3,
	GK_VSA_BLOB_TERMINAL = 4,
	GK_VSA_BLOB_ELEMENT = 5,
	GK_VSA_TERMINAL_ADDRESS = 6,
	GK_VSA_DIGEST_REALM = 7,
	GK_VSA_HA1_MD5 = 8,
	GK_VSA_HA1_SHA256 = 9,
};

struct gk_auc_vector {
	char idc[GK_ID_MAX + 1];
	char idsp[GK_ID_MAX + 1];
	uint8_t rand[GK_RAND_LEN];
	uint8_t xauth[GK_AUTH_LEN];
	uint8_t blob_terminal[GK_BLOB_LEN];
	uint8_t blob_element[GK_BLOB_LEN];
};

/* What a softswitch needs to check a Digest answer: HA1 as lower-case hex, never a password. */
struct gk_auc_ha1 {
	char idc[GK_ID_MAX + 1];
	char idsp[GK_ID_MAX + 1];
	char realm[GK_ID_MAX + 1];
	char md5[33];
	char sha256[65];
};

struct gk_auc_acct {
	char idc[GK_ID_MAX + 1];
	char idsp[GK_ID_MAX + 1];
	char address[GK_TXT_SHORT]; /* terminal address as seen by the SBC/softswitch: ip:port */
	char session_id[GK_TXT_SHORT];
	uint32_t status; /* GK_RAD_ACCT_START / STOP */
	uint32_t timestamp;
};

/* Encoders return the packet length, or a negative errno. req_auth_out receives the Request
 * Authenticator the response must be checked against. */
int gk_auc_encode_auth_request(uint8_t *buf, size_t cap, uint8_t id, uint32_t vendor,
                               const char *idc, const char *idsp, const char *nas_id,
                               const uint8_t *secret, size_t slen,
                               uint8_t req_auth_out[GK_RAD_AUTH_LEN]);
/* The digest variant of the Access-Request: names the realm whose HA1 is wanted. */
int gk_auc_encode_digest_request(uint8_t *buf, size_t cap, uint8_t id, uint32_t vendor,
                                 const char *idc, const char *idsp, const char *realm,
                                 const char *nas_id, const uint8_t *secret, size_t slen,
                                 uint8_t req_auth_out[GK_RAD_AUTH_LEN]);
int gk_auc_encode_ha1_accept(uint8_t *buf, size_t cap, const struct gk_rad_pkt *req,
                             uint32_t vendor, const struct gk_auc_ha1 *h, const uint8_t *secret,
                             size_t slen);
int gk_auc_encode_accept(uint8_t *buf, size_t cap, const struct gk_rad_pkt *req, uint32_t vendor,
                         const struct gk_auc_vector *v, const uint8_t *secret, size_t slen);
int gk_auc_encode_reject(uint8_t *buf, size_t cap, const struct gk_rad_pkt *req,
                         const uint8_t *secret, size_t slen);
/* The lookup Access-Request (Service-Type Authorize-Only): does idc exist? idsp is the asking
 * softswitch's element ID. Answered by gk_auc_encode_lookup_accept (it does) or
 * gk_auc_encode_reject (it does not). */
int gk_auc_encode_lookup_request(uint8_t *buf, size_t cap, uint8_t id, uint32_t vendor,
                                 const char *idc, const char *idsp, const char *nas_id,
                                 const uint8_t *secret, size_t slen,
                                 uint8_t req_auth_out[GK_RAD_AUTH_LEN]);
/* The Accept of a lookup: User-Name = idc and nothing secret. */
int gk_auc_encode_lookup_accept(uint8_t *buf, size_t cap, const struct gk_rad_pkt *req,
                                const char *idc, const uint8_t *secret, size_t slen);
int gk_auc_encode_acct_request(uint8_t *buf, size_t cap, uint8_t id, uint32_t vendor,
                               const struct gk_auc_acct *a, const char *nas_id,
                               const uint8_t *secret, size_t slen,
                               uint8_t req_auth_out[GK_RAD_AUTH_LEN]);
int gk_auc_encode_acct_response(uint8_t *buf, size_t cap, const struct gk_rad_pkt *req,
                                const uint8_t *secret, size_t slen);

/* Decoders work on a packet that gk_rad_decode accepted and whose authenticators were checked. */
int gk_auc_decode_auth_request(const struct gk_rad_pkt *p, uint32_t vendor, char idc[GK_ID_MAX + 1],
                               char idsp[GK_ID_MAX + 1], enum gk_reason *reason);
/* 1 with realm filled when an Access-Request asks for HA1, 0 when it asks for a vector, -1 with
 * reason when its GK-Digest-Realm is malformed or repeated. */
int gk_auc_decode_digest_realm(const struct gk_rad_pkt *p, uint32_t vendor,
                               char realm[GK_ID_MAX + 1], enum gk_reason *reason);
/* 1 when an Access-Request is a lookup (Service-Type Authorize-Only), 0 when it has no
 * Service-Type (a vector or HA1 request), -1 with reason when its Service-Type is repeated
 * (PARSE_DUPLICATE), not 4 octets (PARSE_BAD_VALUE) or another service (PARSE_UNSUPPORTED). */
int gk_auc_decode_lookup(const struct gk_rad_pkt *p, enum gk_reason *reason);
/* The answer to a lookup, whose authenticators were checked against its request: 1 for an
 * Access-Accept (the subscriber exists; its User-Name into idc), 0 for an Access-Reject (it does
 * not; idc empty), -1 with reason for anything else (PARSE_UNSUPPORTED for another code; an
 * Accept without exactly one valid User-Name as the request decoders refuse it). */
int gk_auc_decode_lookup_answer(const struct gk_rad_pkt *p, char idc[GK_ID_MAX + 1],
                                enum gk_reason *reason);
int gk_auc_decode_ha1_accept(const struct gk_rad_pkt *p, uint32_t vendor,
                             const uint8_t req_auth[GK_RAD_AUTH_LEN], const uint8_t *secret,
                             size_t slen, struct gk_auc_ha1 *h, enum gk_reason *reason);
int gk_auc_decode_accept(const struct gk_rad_pkt *p, uint32_t vendor,
                         const uint8_t req_auth[GK_RAD_AUTH_LEN], const uint8_t *secret,
                         size_t slen, struct gk_auc_vector *v, enum gk_reason *reason);
int gk_auc_decode_acct_request(const struct gk_rad_pkt *p, uint32_t vendor, struct gk_auc_acct *a,
                               enum gk_reason *reason);

#endif
