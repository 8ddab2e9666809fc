// SPDX-License-Identifier: GPL-2.0-only
/*
 * The softswitch <-> AuC leg on RADIUS: which gatekey field goes in which attribute (see
 * auc_proto.h and docs/radius.md). Decoders are strict: every attribute gatekey reads must be
 * present exactly once and have exactly its length, so a confused or hostile peer is refused
 * with a reason instead of being half understood.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/crypto.h>

#include "gatekey/auc/auc_proto.h"

static const char reject_text[] = "not authorised";

/* The identifier alphabet of the key store and every binding: printable ASCII without
 * whitespace, quotes or backslash, so that any protocol can carry it unescaped. */
static bool id_char_ok(uint8_t c)
{
	return c > 0x20 && c < 0x7f && c != '"' && c != '\'' && c != '\\';
}

static bool id_ok(const char *s, size_t n)
{
	if (n == 0 || n > GK_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!id_char_ok((uint8_t)s[i]))
			return false;
	return true;
}

/* A C string that must fit a field of `cap` bytes (NUL included) and be a non-empty token. */
static bool str_ok(const char *s, size_t cap, size_t *len)
{
	if (!s)
		return false;
	size_t n = strnlen(s, cap);
	if (n == 0 || n == cap || n > 253)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!id_char_ok((uint8_t)s[i]))
			return false;
	*len = n;
	return true;
}

static int fail(enum gk_reason *reason, enum gk_reason r)
{
	if (reason)
		*reason = r;
	return -1;
}

static int ok(enum gk_reason *reason)
{
	if (reason)
		*reason = GK_R_OK;
	return 0;
}

/* ---- encoders ---------------------------------------------------------------------------- */

static void add_id(struct gk_rad_builder *b, const char *id)
{
	size_t n = id ? strnlen(id, GK_ID_MAX + 1) : 0;
	if (!id_ok(id, n)) {
		if (!b->err)
			b->err = -EINVAL;
		return;
	}
	gk_rad_add(b, GK_RAD_USER_NAME, id, n);
}

static void add_vsa_id(struct gk_rad_builder *b, uint32_t vendor, uint8_t vtype, const char *id)
{
	size_t n = id ? strnlen(id, GK_ID_MAX + 1) : 0;
	if (!id_ok(id, n)) {
		if (!b->err)
			b->err = -EINVAL;
		return;
	}
	gk_rad_add_vsa(b, vendor, vtype, id, n);
}

static void add_str(struct gk_rad_builder *b, uint8_t type, const char *s, size_t cap)
{
	size_t n;
	if (!str_ok(s, cap, &n)) {
		if (!b->err)
			b->err = -EINVAL;
		return;
	}
	gk_rad_add(b, type, s, n);
}

/* An Access-Request to the AuC: User-Name = IDc, GK-Element-Id = IDsp, the NAS (RFC 2865 §4.1:
 * an Access-Request names its NAS), and what kind it is: a GK-Digest-Realm asks for HA1, a
 * Service-Type of Authorize-Only asks only whether the subscriber exists, neither for a vector. */
static int access_request(uint8_t *buf, size_t cap, uint8_t id, uint32_t vendor, const char *idc,
                          const char *idsp, const char *realm, bool lookup, const char *nas_id,
                          const uint8_t *secret, size_t slen, uint8_t req_auth_out[GK_RAD_AUTH_LEN])
{
	struct gk_rad_builder b;

	gk_rad_begin(&b, buf, cap, GK_RAD_ACCESS_REQUEST, id, NULL);
	add_id(&b, idc);
	add_vsa_id(&b, vendor, GK_VSA_ELEMENT_ID, idsp);
	if (realm)
		add_vsa_id(&b, vendor, GK_VSA_DIGEST_REALM, realm);
	add_str(&b, GK_RAD_NAS_IDENTIFIER, nas_id, 254);
	/* Authorization without authentication: no credential, and none wanted back. */
	if (lookup)
		gk_rad_add_u32(&b, GK_RAD_SERVICE_TYPE, GK_RAD_SERVICE_AUTHORIZE_ONLY);
	int n = gk_rad_finish(&b, secret, slen);
	if (n >= 0 && req_auth_out)
		memcpy(req_auth_out, buf + 4, GK_RAD_AUTH_LEN);
	return n;
}

int gk_auc_encode_auth_request(uint8_t *buf, size_t cap, uint8_t id, uint32_t vendor,
                               const char *idc, const char *idsp, const char *nas_id,
                               const uint8_t *secret, size_t slen,
                               uint8_t req_auth_out[GK_RAD_AUTH_LEN])
{
	return access_request(buf, cap, id, vendor, idc, idsp, NULL, false, nas_id, secret, slen,
	                      req_auth_out);
}

int gk_auc_encode_digest_request(uint8_t *buf, size_t cap, uint8_t id, uint32_t vendor,
                                 const char *idc, const char *idsp, const char *realm,
                                 const char *nas_id, const uint8_t *secret, size_t slen,
                                 uint8_t req_auth_out[GK_RAD_AUTH_LEN])
{
	return access_request(buf, cap, id, vendor, idc, idsp, realm, false, nas_id, secret, slen,
	                      req_auth_out);
}

int gk_auc_encode_lookup_request(uint8_t *buf, size_t cap, uint8_t id, uint32_t vendor,
                                 const char *idc, const char *idsp, const char *nas_id,
                                 const uint8_t *secret, size_t slen,
                                 uint8_t req_auth_out[GK_RAD_AUTH_LEN])
{
	return access_request(buf, cap, id, vendor, idc, idsp, NULL, true, nas_id, secret, slen,
	                      req_auth_out);
}

int gk_auc_encode_lookup_accept(uint8_t *buf, size_t cap, const struct gk_rad_pkt *req,
                                const char *idc, const uint8_t *secret, size_t slen)
{
	struct gk_rad_builder b;

	if (!req || req->code != GK_RAD_ACCESS_REQUEST)
		return -EINVAL;
	gk_rad_begin(&b, buf, cap, GK_RAD_ACCESS_ACCEPT, req->id, req->authenticator);
	add_id(&b, idc);
	return gk_rad_finish(&b, secret, slen);
}

static bool hex_ok(const char *s, size_t want)
{
	if (!s || strnlen(s, want + 1) != want)
		return false;
	for (size_t i = 0; i < want; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int gk_auc_encode_ha1_accept(uint8_t *buf, size_t cap, const struct gk_rad_pkt *req,
                             uint32_t vendor, const struct gk_auc_ha1 *h, const uint8_t *secret,
                             size_t slen)
{
	struct gk_rad_builder b;

	if (!req || !h || req->code != GK_RAD_ACCESS_REQUEST || !hex_ok(h->md5, 32) ||
	    !hex_ok(h->sha256, 64))
		return -EINVAL;
	gk_rad_begin(&b, buf, cap, GK_RAD_ACCESS_ACCEPT, req->id, req->authenticator);
	add_id(&b, h->idc);
	add_vsa_id(&b, vendor, GK_VSA_ELEMENT_ID, h->idsp);
	add_vsa_id(&b, vendor, GK_VSA_DIGEST_REALM, h->realm);
	/* HA1 opens every nonce of that realm: as secret as the password itself. */
	gk_rad_add_vsa_hidden(&b, vendor, GK_VSA_HA1_MD5, h->md5, 32, secret, slen);
	gk_rad_add_vsa_hidden(&b, vendor, GK_VSA_HA1_SHA256, h->sha256, 64, secret, slen);
	return gk_rad_finish(&b, secret, slen);
}

int gk_auc_encode_accept(uint8_t *buf, size_t cap, const struct gk_rad_pkt *req, uint32_t vendor,
                         const struct gk_auc_vector *v, const uint8_t *secret, size_t slen)
{
	struct gk_rad_builder b;

	if (!req || !v || req->code != GK_RAD_ACCESS_REQUEST)
		return -EINVAL;
	gk_rad_begin(&b, buf, cap, GK_RAD_ACCESS_ACCEPT, req->id, req->authenticator);
	add_id(&b, v->idc);
	add_vsa_id(&b, vendor, GK_VSA_ELEMENT_ID, v->idsp);
	/* Rand goes to the terminal in the clear anyway (s5, s6); hiding it would buy nothing. */
	gk_rad_add_vsa(&b, vendor, GK_VSA_RAND, v->rand, sizeof(v->rand));
	gk_rad_add_vsa_hidden(&b, vendor, GK_VSA_XAUTH, v->xauth, sizeof(v->xauth), secret, slen);
	gk_rad_add_vsa_hidden(&b, vendor, GK_VSA_BLOB_TERMINAL, v->blob_terminal,
	                      sizeof(v->blob_terminal), secret, slen);
	gk_rad_add_vsa_hidden(&b, vendor, GK_VSA_BLOB_ELEMENT, v->blob_element,
	                      sizeof(v->blob_element), secret, slen);
	return gk_rad_finish(&b, secret, slen);
}

int gk_auc_encode_reject(uint8_t *buf, size_t cap, const struct gk_rad_pkt *req,
                         const uint8_t *secret, size_t slen)
{
	struct gk_rad_builder b;

	if (!req || req->code != GK_RAD_ACCESS_REQUEST)
		return -EINVAL;
	gk_rad_begin(&b, buf, cap, GK_RAD_ACCESS_REJECT, req->id, req->authenticator);
	/* For an operator with radclient; deliberately says nothing about why. */
	gk_rad_add(&b, GK_RAD_REPLY_MESSAGE, reject_text, sizeof(reject_text) - 1);
	return gk_rad_finish(&b, secret, slen);
}

int gk_auc_encode_acct_request(uint8_t *buf, size_t cap, uint8_t id, uint32_t vendor,
                               const struct gk_auc_acct *a, const char *nas_id,
                               const uint8_t *secret, size_t slen,
                               uint8_t req_auth_out[GK_RAD_AUTH_LEN])
{
	struct gk_rad_builder b;

	if (!a || (a->status != GK_RAD_ACCT_START && a->status != GK_RAD_ACCT_STOP))
		return -EINVAL;
	gk_rad_begin(&b, buf, cap, GK_RAD_ACCOUNTING_REQUEST, id, NULL);
	gk_rad_add_u32(&b, GK_RAD_ACCT_STATUS_TYPE, a->status);
	add_id(&b, a->idc);
	add_vsa_id(&b, vendor, GK_VSA_ELEMENT_ID, a->idsp);
	size_t n;
	if (str_ok(a->address, sizeof(a->address), &n))
		gk_rad_add_vsa(&b, vendor, GK_VSA_TERMINAL_ADDRESS, a->address, n);
	else if (!b.err)
		b.err = -EINVAL;
	add_str(&b, GK_RAD_ACCT_SESSION_ID, a->session_id, sizeof(a->session_id));
	add_str(&b, GK_RAD_NAS_IDENTIFIER, nas_id, 254);
	gk_rad_add_u32(&b, GK_RAD_EVENT_TIMESTAMP, a->timestamp);
	int len = gk_rad_finish(&b, secret, slen);
	if (len >= 0 && req_auth_out)
		memcpy(req_auth_out, buf + 4, GK_RAD_AUTH_LEN);
	return len;
}

int gk_auc_encode_acct_response(uint8_t *buf, size_t cap, const struct gk_rad_pkt *req,
                                const uint8_t *secret, size_t slen)
{
	struct gk_rad_builder b;

	if (!req || req->code != GK_RAD_ACCOUNTING_REQUEST)
		return -EINVAL;
	gk_rad_begin(&b, buf, cap, GK_RAD_ACCOUNTING_RESPONSE, req->id, req->authenticator);
	return gk_rad_finish(&b, secret, slen);
}

/* ---- decoders ---------------------------------------------------------------------------- */

/* The single instance of a standard (vendor == 0) or vendor attribute. */
static int one(const struct gk_rad_pkt *p, uint8_t type, uint32_t vendor, uint8_t vtype,
               const struct gk_rad_attr **out, enum gk_reason *reason)
{
	const struct gk_rad_attr *found = NULL;

	for (unsigned i = 0; i < p->n_attrs; i++) {
		const struct gk_rad_attr *a = &p->attrs[i];
		if (a->type != type || a->vendor != vendor || (vendor && a->vtype != vtype))
			continue;
		if (found)
			return fail(reason, GK_R_PARSE_DUPLICATE);
		found = a;
	}
	if (!found)
		return fail(reason, GK_R_PARSE_MISSING);
	*out = found;
	return 0;
}

static int get_id(const struct gk_rad_attr *a, char out[GK_ID_MAX + 1], enum gk_reason *reason)
{
	if (a->len > GK_ID_MAX)
		return fail(reason, GK_R_PARSE_TOO_LONG);
	if (!id_ok((const char *)a->val, a->len))
		return fail(reason, GK_R_PARSE_BAD_VALUE);
	memcpy(out, a->val, a->len);
	out[a->len] = '\0';
	return 0;
}

static int get_str(const struct gk_rad_attr *a, char *out, size_t cap, enum gk_reason *reason)
{
	if (a->len >= cap)
		return fail(reason, GK_R_PARSE_TOO_LONG);
	if (a->len == 0)
		return fail(reason, GK_R_PARSE_BAD_VALUE);
	for (size_t i = 0; i < a->len; i++)
		if (!id_char_ok(a->val[i]))
			return fail(reason, GK_R_PARSE_BAD_VALUE);
	memcpy(out, a->val, a->len);
	out[a->len] = '\0';
	return 0;
}

static int get_u32(const struct gk_rad_attr *a, uint32_t *v, enum gk_reason *reason)
{
	if (a->len != 4)
		return fail(reason, GK_R_PARSE_BAD_VALUE);
	*v = (uint32_t)a->val[0] << 24 | (uint32_t)a->val[1] << 16 | (uint32_t)a->val[2] << 8 |
	     a->val[3];
	return 0;
}

/* User-Name and the element's identifier, shared by every request and the Accept. */
static int get_ids(const struct gk_rad_pkt *p, uint32_t vendor, char idc[GK_ID_MAX + 1],
                   char idsp[GK_ID_MAX + 1], enum gk_reason *reason)
{
	const struct gk_rad_attr *a;

	if (vendor == 0 || vendor > 0xffffff)
		return fail(reason, GK_R_INTERNAL);
	if (one(p, GK_RAD_USER_NAME, 0, 0, &a, reason) < 0 || get_id(a, idc, reason) < 0)
		return -1;
	if (one(p, GK_RAD_VENDOR_SPECIFIC, vendor, GK_VSA_ELEMENT_ID, &a, reason) < 0 ||
	    get_id(a, idsp, reason) < 0)
		return -1;
	return 0;
}

int gk_auc_decode_auth_request(const struct gk_rad_pkt *p, uint32_t vendor, char idc[GK_ID_MAX + 1],
                               char idsp[GK_ID_MAX + 1], enum gk_reason *reason)
{
	if (!p || !idc || !idsp)
		return fail(reason, GK_R_INTERNAL);
	if (p->code != GK_RAD_ACCESS_REQUEST)
		return fail(reason, GK_R_PARSE_UNSUPPORTED);
	if (get_ids(p, vendor, idc, idsp, reason) < 0)
		return -1;
	return ok(reason);
}

int gk_auc_decode_digest_realm(const struct gk_rad_pkt *p, uint32_t vendor,
                               char realm[GK_ID_MAX + 1], enum gk_reason *reason)
{
	const struct gk_rad_attr *a;
	enum gk_reason why;

	if (!p || !realm)
		return fail(reason, GK_R_INTERNAL);
	if (one(p, GK_RAD_VENDOR_SPECIFIC, vendor, GK_VSA_DIGEST_REALM, &a, &why) < 0) {
		if (why == GK_R_PARSE_MISSING) {
			realm[0] = '\0';
			ok(reason);
			return 0;
		}
		return fail(reason, why);
	}
	if (get_id(a, realm, reason) < 0)
		return -1;
	ok(reason);
	return 1;
}

int gk_auc_decode_lookup(const struct gk_rad_pkt *p, enum gk_reason *reason)
{
	const struct gk_rad_attr *a;
	enum gk_reason why;
	uint32_t service;

	if (!p)
		return fail(reason, GK_R_INTERNAL);
	if (one(p, GK_RAD_SERVICE_TYPE, 0, 0, &a, &why) < 0) {
		if (why != GK_R_PARSE_MISSING)
			return fail(reason, why);
		ok(reason);
		return 0;
	}
	if (get_u32(a, &service, reason) < 0)
		return -1;
	/* Framed-User, Login-User ...: valid RADIUS, but nothing the AuC serves. */
	if (service != GK_RAD_SERVICE_AUTHORIZE_ONLY)
		return fail(reason, GK_R_PARSE_UNSUPPORTED);
	ok(reason);
	return 1;
}

int gk_auc_decode_lookup_answer(const struct gk_rad_pkt *p, char idc[GK_ID_MAX + 1],
                                enum gk_reason *reason)
{
	const struct gk_rad_attr *a;

	if (!p || !idc)
		return fail(reason, GK_R_INTERNAL);
	idc[0] = '\0';
	if (p->code == GK_RAD_ACCESS_REJECT) {
		ok(reason);
		return 0;
	}
	if (p->code != GK_RAD_ACCESS_ACCEPT)
		return fail(reason, GK_R_PARSE_UNSUPPORTED);
	if (one(p, GK_RAD_USER_NAME, 0, 0, &a, reason) < 0 || get_id(a, idc, reason) < 0) {
		idc[0] = '\0';
		return -1;
	}
	ok(reason);
	return 1;
}

static int get_hidden(const struct gk_rad_pkt *p, uint32_t vendor, uint8_t vtype,
                      const uint8_t req_auth[GK_RAD_AUTH_LEN], const uint8_t *secret, size_t slen,
                      uint8_t *out, size_t len, enum gk_reason *reason)
{
	const struct gk_rad_attr *a;
	uint8_t plain[256]; /* any hidden value fits */

	if (one(p, GK_RAD_VENDOR_SPECIFIC, vendor, vtype, &a, reason) < 0)
		return -1;
	int n = gk_rad_unhide(a, req_auth, secret, slen, plain, sizeof(plain));
	if (n == -EBADMSG) {
		/* The Message-Authenticator was good, so this is the wrong R or a broken peer. */
		return fail(reason, GK_R_PARSE_BAD_AUTH);
	}
	if (n < 0)
		return fail(reason, GK_R_INTERNAL);
	if ((size_t)n != len) {
		OPENSSL_cleanse(plain, sizeof(plain));
		return fail(reason, GK_R_PARSE_BAD_VALUE);
	}
	memcpy(out, plain, len);
	OPENSSL_cleanse(plain, sizeof(plain));
	return 0;
}

int gk_auc_decode_accept(const struct gk_rad_pkt *p, uint32_t vendor,
                         const uint8_t req_auth[GK_RAD_AUTH_LEN], const uint8_t *secret,
                         size_t slen, struct gk_auc_vector *v, enum gk_reason *reason)
{
	const struct gk_rad_attr *a;

	if (!p || !v || !req_auth || !secret || !slen)
		return fail(reason, GK_R_INTERNAL);
	if (p->code != GK_RAD_ACCESS_ACCEPT)
		return fail(reason, GK_R_PARSE_UNSUPPORTED);
	if (get_ids(p, vendor, v->idc, v->idsp, reason) < 0)
		goto bad;
	if (one(p, GK_RAD_VENDOR_SPECIFIC, vendor, GK_VSA_RAND, &a, reason) < 0)
		goto bad;
	if (a->len != GK_RAND_LEN) {
		fail(reason, GK_R_PARSE_BAD_VALUE);
		goto bad;
	}
	memcpy(v->rand, a->val, GK_RAND_LEN);
	if (get_hidden(p, vendor, GK_VSA_XAUTH, req_auth, secret, slen, v->xauth, sizeof(v->xauth),
	               reason) < 0 ||
	    get_hidden(p, vendor, GK_VSA_BLOB_TERMINAL, req_auth, secret, slen, v->blob_terminal,
	               sizeof(v->blob_terminal), reason) < 0 ||
	    get_hidden(p, vendor, GK_VSA_BLOB_ELEMENT, req_auth, secret, slen, v->blob_element,
	               sizeof(v->blob_element), reason) < 0)
		goto bad;
	return ok(reason);
bad:
	/* Never leave half a vector (an XAUTH without its blobs) for a careless caller. */
	OPENSSL_cleanse(v, sizeof(*v));
	return -1;
}

/* Lower-case hex of exactly want digits, as the AuC sends it. */
static int get_hidden_hex(const struct gk_rad_pkt *p, uint32_t vendor, uint8_t vtype,
                          const uint8_t req_auth[GK_RAD_AUTH_LEN], const uint8_t *secret,
                          size_t slen, char *out, size_t want, enum gk_reason *reason)
{
	if (get_hidden(p, vendor, vtype, req_auth, secret, slen, (uint8_t *)out, want, reason) < 0)
		return -1;
	out[want] = '\0';
	if (!hex_ok(out, want)) {
		OPENSSL_cleanse(out, want);
		return fail(reason, GK_R_PARSE_BAD_VALUE);
	}
	return 0;
}

int gk_auc_decode_ha1_accept(const struct gk_rad_pkt *p, uint32_t vendor,
                             const uint8_t req_auth[GK_RAD_AUTH_LEN], const uint8_t *secret,
                             size_t slen, struct gk_auc_ha1 *h, enum gk_reason *reason)
{
	const struct gk_rad_attr *a;

	if (!p || !h || !req_auth || !secret || !slen)
		return fail(reason, GK_R_INTERNAL);
	memset(h, 0, sizeof(*h));
	if (p->code != GK_RAD_ACCESS_ACCEPT)
		return fail(reason, GK_R_PARSE_UNSUPPORTED);
	if (get_ids(p, vendor, h->idc, h->idsp, reason) < 0 ||
	    one(p, GK_RAD_VENDOR_SPECIFIC, vendor, GK_VSA_DIGEST_REALM, &a, reason) < 0 ||
	    get_id(a, h->realm, reason) < 0 ||
	    get_hidden_hex(p, vendor, GK_VSA_HA1_MD5, req_auth, secret, slen, h->md5, 32, reason) <
	        0 ||
	    get_hidden_hex(p, vendor, GK_VSA_HA1_SHA256, req_auth, secret, slen, h->sha256, 64,
	                   reason) < 0) {
		OPENSSL_cleanse(h, sizeof(*h));
		return -1;
	}
	return ok(reason);
}

int gk_auc_decode_acct_request(const struct gk_rad_pkt *p, uint32_t vendor, struct gk_auc_acct *a,
                               enum gk_reason *reason)
{
	const struct gk_rad_attr *at;

	if (!p || !a)
		return fail(reason, GK_R_INTERNAL);
	if (p->code != GK_RAD_ACCOUNTING_REQUEST)
		return fail(reason, GK_R_PARSE_UNSUPPORTED);
	memset(a, 0, sizeof(*a));
	if (one(p, GK_RAD_ACCT_STATUS_TYPE, 0, 0, &at, reason) < 0 ||
	    get_u32(at, &a->status, reason) < 0)
		return -1;
	/* Interim-Update, Accounting-On/Off...: valid RADIUS, but not something gatekey sends. */
	if (a->status != GK_RAD_ACCT_START && a->status != GK_RAD_ACCT_STOP)
		return fail(reason, GK_R_PARSE_UNSUPPORTED);
	if (get_ids(p, vendor, a->idc, a->idsp, reason) < 0)
		return -1;
	if (one(p, GK_RAD_VENDOR_SPECIFIC, vendor, GK_VSA_TERMINAL_ADDRESS, &at, reason) < 0 ||
	    get_str(at, a->address, sizeof(a->address), reason) < 0)
		return -1;
	if (one(p, GK_RAD_ACCT_SESSION_ID, 0, 0, &at, reason) < 0 ||
	    get_str(at, a->session_id, sizeof(a->session_id), reason) < 0)
		return -1;
	if (one(p, GK_RAD_EVENT_TIMESTAMP, 0, 0, &at, reason) < 0 ||
	    get_u32(at, &a->timestamp, reason) < 0)
		return -1;
	return ok(reason);
}
