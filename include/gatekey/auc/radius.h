/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * RADIUS codec (RFC 2865, RFC 2866, RFC 3579 §3.2 Message-Authenticator, RFC 2868 §3.5 hiding).
 * Generic: packets, attributes, vendor-specific attributes, authenticators. The gatekey mapping
 * of the softswitch <-> AuC leg is in auc_proto.h.
 */
#ifndef GATEKEY_RADIUS_H
#define GATEKEY_RADIUS_H

#include <stddef.h>
#include <stdint.h>

#include "gatekey/runtime/reason.h"

#define GK_RAD_MAX_LEN   4096
#define GK_RAD_HDR_LEN   20
#define GK_RAD_AUTH_LEN  16
#define GK_RAD_MAX_ATTRS 64

enum gk_rad_code {
	GK_RAD_ACCESS_REQUEST = 1,
	GK_RAD_ACCESS_ACCEPT = 2,
	GK_RAD_ACCESS_REJECT = 3,
	GK_RAD_ACCOUNTING_REQUEST = 4,
	GK_RAD_ACCOUNTING_RESPONSE = 5,
	GK_RAD_ACCESS_CHALLENGE = 11,
};

enum gk_rad_attr_type {
	GK_RAD_USER_NAME = 1,
	GK_RAD_NAS_IP_ADDRESS = 4,
	GK_RAD_SERVICE_TYPE = 6,
	GK_RAD_REPLY_MESSAGE = 18,
	GK_RAD_STATE = 24,
	GK_RAD_VENDOR_SPECIFIC = 26,
	GK_RAD_CALLING_STATION_ID = 31,
	GK_RAD_NAS_IDENTIFIER = 32,
	GK_RAD_ACCT_STATUS_TYPE = 40,
	GK_RAD_ACCT_SESSION_ID = 44,
	GK_RAD_EVENT_TIMESTAMP = 55,
	GK_RAD_MESSAGE_AUTHENTICATOR = 80,
};

enum { GK_RAD_ACCT_START = 1, GK_RAD_ACCT_STOP = 2 };

/* Service-Type values (RFC 2865 §5.6; 17 is RFC 5176 §3.2's, first RFC 3576's): Authorize-Only
 * asks whether a user may be served, with no credential and no authentication. */
enum { GK_RAD_SERVICE_AUTHORIZE_ONLY = 17 };

/* One attribute as found in a packet; val points into the decoded buffer. For a
 * Vendor-Specific attribute in the RFC 2865 §5.26 recommended format, vendor/vtype are set and
 * val/len are the vendor attribute's value; otherwise vendor = 0 and vtype = 0. */
struct gk_rad_attr {
	uint8_t type;
	uint8_t vtype;
	uint16_t len;
	uint32_t vendor;
	const uint8_t *val;
};

struct gk_rad_pkt {
	uint8_t code;
	uint8_t id;
	uint16_t len;
	uint8_t authenticator[GK_RAD_AUTH_LEN];
	struct gk_rad_attr attrs[GK_RAD_MAX_ATTRS];
	unsigned n_attrs;
	const uint8_t *raw; /* the whole packet, for authenticator checks */
};

/* Structural decode: header, length field, attribute walk. Returns 0 or -1 with *reason. */
int gk_rad_decode(const uint8_t *buf, size_t len, struct gk_rad_pkt *p, enum gk_reason *reason);

/* First attribute of a type (vendor = 0) or of a vendor attribute; NULL when absent. */
const struct gk_rad_attr *gk_rad_find(const struct gk_rad_pkt *p, uint8_t type);
const struct gk_rad_attr *gk_rad_find_vsa(const struct gk_rad_pkt *p, uint32_t vendor,
                                          uint8_t vtype);

/* Checks of a received request under the client's secret: Message-Authenticator must be present
 * and correct (Access-Request and Accounting-Request); for Accounting-Request the Request
 * Authenticator too (RFC 2866 §3). 0, or -1 with *reason = GK_R_PARSE_BAD_AUTH/PARSE_MISSING. */
int gk_rad_verify_request(const struct gk_rad_pkt *p, const uint8_t *secret, size_t slen,
                          enum gk_reason *reason);
/* Checks of a received response against the request's authenticator: Response Authenticator and
 * Message-Authenticator (required; over the request's authenticator for Access-*, over 16 zero
 * octets for Accounting-Response as FreeRADIUS computes it). */
int gk_rad_verify_response(const struct gk_rad_pkt *p, const uint8_t req_auth[GK_RAD_AUTH_LEN],
                           const uint8_t *secret, size_t slen, enum gk_reason *reason);

/* Builder. For Access-Request, begin() fills the Request Authenticator with random bytes; for
 * responses pass the request's authenticator as req_auth; for Accounting-Request pass NULL
 * (computed at finish). Errors are sticky and reported by finish(): -EMSGSIZE (a value over 253
 * octets, 247 in a VSA, or the packet over cap or 4096), -EINVAL (misuse: a hand-made
 * Message-Authenticator, a hidden attribute in an Accounting-Request, a wrong req_auth),
 * -EIO (OpenSSL), -EALREADY (finished twice). */
struct gk_rad_builder {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int err;
	uint8_t code;
	uint8_t req_auth[GK_RAD_AUTH_LEN]; /* R for hiding and for response authenticators */
};

void gk_rad_begin(struct gk_rad_builder *b, uint8_t *buf, size_t cap, uint8_t code, uint8_t id,
                  const uint8_t req_auth[GK_RAD_AUTH_LEN]);
void gk_rad_add(struct gk_rad_builder *b, uint8_t type, const void *val, size_t len);
void gk_rad_add_u32(struct gk_rad_builder *b, uint8_t type, uint32_t v);
void gk_rad_add_vsa(struct gk_rad_builder *b, uint32_t vendor, uint8_t vtype, const void *val,
                    size_t len);
/* A VSA whose value is hidden as RFC 2868 §3.5 does for Tunnel-Password: salt || encrypted. */
void gk_rad_add_vsa_hidden(struct gk_rad_builder *b, uint32_t vendor, uint8_t vtype,
                           const void *val, size_t len, const uint8_t *secret, size_t slen);
/* Adds Message-Authenticator and computes the packet authenticator. Returns the length or a
 * negative errno. */
int gk_rad_finish(struct gk_rad_builder *b, const uint8_t *secret, size_t slen);

/* Reverse of add_vsa_hidden. Returns the plaintext length, or -EBADMSG (wrong secret or R,
 * bad length, embedded length or padding); -ENOSPC when cap is too small for a good value. */
int gk_rad_unhide(const struct gk_rad_attr *a, const uint8_t req_auth[GK_RAD_AUTH_LEN],
                  const uint8_t *secret, size_t slen, uint8_t *out, size_t cap);

#endif
