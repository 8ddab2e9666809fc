// SPDX-License-Identifier: GPL-2.0-only
/*
 * RADIUS codec: RFC 2865 packets, RFC 2866 accounting authenticators, RFC 3579 §3.2
 * Message-Authenticator and RFC 2868 §3.5 attribute hiding.
 *
 * MD5 is not our choice: it is what RADIUS specifies, and this leg is authenticated by the shared
 * secret only. What the leg carries that matters (XAUTH, the key blobs) is hidden and, for the
 * blobs, also AES-GCM-wrapped end to end, so RADIUS is not what protects the session keys.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "gatekey/auc/radius.h"
#include "gatekey/crypto/crypto.h"

#define MD5_LEN      16
#define ATTR_MAX_VAL 253 /* 255 minus type and length */
#define VSA_HDR_LEN  6   /* vendor id (4), vendor type, vendor length */
#define VSA_MAX_VAL  (ATTR_MAX_VAL - VSA_HDR_LEN)
#define MA_ATTR_LEN  (2 + MD5_LEN)
#define SALT_LEN     2

/* Everything we hash is a short list of slices of one packet plus a few constants. */
struct seg {
	const void *p;
	size_t n;
};

static const uint8_t zero16[16];

/* The algorithms are fetched once per process; the contexts once per thread, because an
 * EVP context is not safe to share and creating one costs heap allocations we do not want on
 * the packet path. */
static EVP_MD *md5_md;
static EVP_MAC *hmac_mac;
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static __thread EVP_MD_CTX *md5_ctx;
static __thread EVP_MAC_CTX *hmac_ctx;

static void fetch_algorithms(void)
{
	md5_md = EVP_MD_fetch(NULL, "MD5", NULL);
	hmac_mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

static bool crypto_ready(void)
{
	pthread_once(&fetch_once, fetch_algorithms);
	if (!md5_md || !hmac_mac)
		return false;
	if (!md5_ctx)
		md5_ctx = EVP_MD_CTX_new();
	if (!hmac_ctx) {
		hmac_ctx = EVP_MAC_CTX_new(hmac_mac);
		if (hmac_ctx) {
			OSSL_PARAM params[] = {
			    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "MD5", 0),
			    OSSL_PARAM_construct_end(),
			};
			if (!EVP_MAC_CTX_set_params(hmac_ctx, params)) {
				EVP_MAC_CTX_free(hmac_ctx);
				hmac_ctx = NULL;
			}
		}
	}
	return md5_ctx && hmac_ctx;
}

static int md5_segs(const struct seg *s, size_t n, uint8_t out[MD5_LEN])
{
	unsigned int olen = 0;

	if (!crypto_ready() || !EVP_DigestInit_ex2(md5_ctx, md5_md, NULL))
		return -EIO;
	for (size_t i = 0; i < n; i++)
		if (s[i].n && !EVP_DigestUpdate(md5_ctx, s[i].p, s[i].n))
			return -EIO;
	if (!EVP_DigestFinal_ex(md5_ctx, out, &olen) || olen != MD5_LEN)
		return -EIO;
	return 0;
}

/*
 * The Message-Authenticator's HMAC stays keyed with the last shared secret it used. An element
 * talks to one or a few peers, and four of its packets per registration carry the attribute, so
 * keying (two MD5 blocks and three digest-state copies) would repeat for the same secret every
 * time; restarting from the kept pads costs a third of it. The secret itself lives in the
 * daemon's configuration for the daemon's whole life, so the pads keep nothing new.
 */
#define HMAC_KEY_KEPT_MAX 128
static __thread uint8_t hmac_key[HMAC_KEY_KEPT_MAX];
static __thread size_t hmac_key_len; /* 0: the context's key is not one we kept */

static bool hmac_md5_key(const uint8_t *key, size_t klen)
{
	if (hmac_key_len && hmac_key_len == klen && CRYPTO_memcmp(hmac_key, key, klen) == 0)
		return EVP_MAC_init(hmac_ctx, NULL, 0, NULL) == 1;
	OPENSSL_cleanse(hmac_key, sizeof(hmac_key));
	hmac_key_len = 0;
	if (EVP_MAC_init(hmac_ctx, key, klen, NULL) != 1)
		return false;
	if (klen <= sizeof(hmac_key)) {
		memcpy(hmac_key, key, klen);
		hmac_key_len = klen;
	}
	return true;
}

static int hmac_md5_segs(const uint8_t *key, size_t klen, const struct seg *s, size_t n,
                         uint8_t out[MD5_LEN])
{
	size_t olen = 0;

	if (!crypto_ready() || !hmac_md5_key(key, klen))
		return -EIO;
	for (size_t i = 0; i < n; i++)
		if (s[i].n && !EVP_MAC_update(hmac_ctx, s[i].p, s[i].n))
			return -EIO;
	if (!EVP_MAC_final(hmac_ctx, out, &olen, MD5_LEN) || olen != MD5_LEN)
		return -EIO;
	return 0;
}

static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int fail(enum gk_reason *reason, enum gk_reason r)
{
	if (reason)
		*reason = r;
	return -1;
}

/* ---- decoding ---------------------------------------------------------------------------- */

/* RFC 2865 §5.26 recommends vendor-id || (vtype, vlen, value)+; anything else (some vendors use
 * other layouts) stays an opaque type-26 attribute instead of making the packet invalid. */
static bool vsa_wellformed(const uint8_t *v, size_t n)
{
	if (n < VSA_HDR_LEN || v[0] != 0 || get_be32(v) == 0)
		return false;
	for (size_t off = 4; off < n;) {
		if (n - off < 2 || v[off + 1] < 2 || v[off + 1] > n - off)
			return false;
		off += v[off + 1];
	}
	return true;
}

int gk_rad_decode(const uint8_t *buf, size_t len, struct gk_rad_pkt *p, enum gk_reason *reason)
{
	if (!p)
		return fail(reason, GK_R_INTERNAL);
	p->n_attrs = 0;
	p->raw = NULL;
	p->len = 0;
	if (!buf || len < GK_RAD_HDR_LEN)
		return fail(reason, GK_R_PARSE_TRUNCATED);

	size_t plen = get_be16(buf + 2);
	if (plen < GK_RAD_HDR_LEN || plen > GK_RAD_MAX_LEN)
		return fail(reason, GK_R_PARSE_SYNTAX);
	/* RFC 2865 §3: shorter than Length is discarded; octets beyond Length are padding. */
	if (plen > len)
		return fail(reason, GK_R_PARSE_TRUNCATED);

	p->code = buf[0];
	p->id = buf[1];
	p->len = (uint16_t)plen;
	memcpy(p->authenticator, buf + 4, GK_RAD_AUTH_LEN);
	p->raw = buf;

	for (size_t off = GK_RAD_HDR_LEN; off < plen;) {
		if (plen - off < 2)
			return fail(reason, GK_R_PARSE_TRUNCATED);
		uint8_t type = buf[off];
		size_t alen = buf[off + 1];
		if (alen < 2)
			return fail(reason, GK_R_PARSE_SYNTAX);
		if (alen > plen - off)
			return fail(reason, GK_R_PARSE_TRUNCATED);
		const uint8_t *val = buf + off + 2;
		size_t vlen = alen - 2;

		if (type == GK_RAD_VENDOR_SPECIFIC && vsa_wellformed(val, vlen)) {
			uint32_t vendor = get_be32(val);
			for (size_t s = 4; s < vlen; s += val[s + 1]) {
				if (p->n_attrs == GK_RAD_MAX_ATTRS)
					return fail(reason, GK_R_PARSE_TOO_LONG);
				struct gk_rad_attr *a = &p->attrs[p->n_attrs++];
				a->type = type;
				a->vendor = vendor;
				a->vtype = val[s];
				a->len = (uint16_t)(val[s + 1] - 2);
				a->val = val + s + 2;
			}
		} else {
			if (p->n_attrs == GK_RAD_MAX_ATTRS)
				return fail(reason, GK_R_PARSE_TOO_LONG);
			struct gk_rad_attr *a = &p->attrs[p->n_attrs++];
			a->type = type;
			a->vendor = 0;
			a->vtype = 0;
			a->len = (uint16_t)vlen;
			a->val = val;
		}
		off += alen;
	}
	if (reason)
		*reason = GK_R_OK;
	return 0;
}

const struct gk_rad_attr *gk_rad_find(const struct gk_rad_pkt *p, uint8_t type)
{
	for (unsigned i = 0; i < p->n_attrs; i++)
		if (p->attrs[i].type == type && p->attrs[i].vendor == 0)
			return &p->attrs[i];
	return NULL;
}

const struct gk_rad_attr *gk_rad_find_vsa(const struct gk_rad_pkt *p, uint32_t vendor,
                                          uint8_t vtype)
{
	if (vendor == 0)
		return NULL;
	for (unsigned i = 0; i < p->n_attrs; i++)
		if (p->attrs[i].type == GK_RAD_VENDOR_SPECIFIC && p->attrs[i].vendor == vendor &&
		    p->attrs[i].vtype == vtype)
			return &p->attrs[i];
	return NULL;
}

/* ---- authenticators ---------------------------------------------------------------------- */

/*
 * What the authenticator field holds while the Message-Authenticator is computed. RFC 3579 §3.2
 * covers the Access-* codes: the packet's own random authenticator for Access-Request, the
 * request's for Access-Accept/Reject/Challenge. No RFC covers accounting; FreeRADIUS (whose
 * radclient must be able to talk to aucd) uses 16 zero octets for both Accounting-Request and
 * Accounting-Response, as RFC 5176 does for CoA/Disconnect-Request. The Response Authenticator
 * still binds an Accounting-Response to its request.
 */
static const uint8_t *ma_auth(uint8_t code, const uint8_t req_auth[GK_RAD_AUTH_LEN])
{
	return code == GK_RAD_ACCOUNTING_REQUEST || code == GK_RAD_ACCOUNTING_RESPONSE ? zero16
	                                                                               : req_auth;
}

/* RFC 3579 §3.2: HMAC-MD5 under the secret over the packet with the Message-Authenticator value
 * zeroed and `auth` (see ma_auth) in the authenticator field. */
static int check_ma(const struct gk_rad_pkt *p, const uint8_t auth[GK_RAD_AUTH_LEN],
                    const uint8_t *secret, size_t slen, enum gk_reason *reason)
{
	const struct gk_rad_attr *ma = NULL;
	uint8_t calc[MD5_LEN];

	for (unsigned i = 0; i < p->n_attrs; i++) {
		if (p->attrs[i].type != GK_RAD_MESSAGE_AUTHENTICATOR || p->attrs[i].vendor)
			continue;
		if (ma) /* RFC 3579: at most one; which one would we believe? */
			return fail(reason, GK_R_PARSE_BAD_AUTH);
		ma = &p->attrs[i];
	}
	if (!ma)
		return fail(reason, GK_R_PARSE_MISSING);
	if (ma->len != MD5_LEN || !secret || !slen)
		return fail(reason, GK_R_PARSE_BAD_AUTH);

	size_t off = (size_t)(ma->val - p->raw);
	const struct seg s[] = {
	    {p->raw, 4},
	    {auth, GK_RAD_AUTH_LEN},
	    {p->raw + GK_RAD_HDR_LEN, off - GK_RAD_HDR_LEN},
	    {zero16, MD5_LEN},
	    {p->raw + off + MD5_LEN, p->len - off - MD5_LEN},
	};
	if (hmac_md5_segs(secret, slen, s, 5, calc) < 0)
		return fail(reason, GK_R_INTERNAL);
	if (CRYPTO_memcmp(calc, ma->val, MD5_LEN) != 0)
		return fail(reason, GK_R_PARSE_BAD_AUTH);
	return 0;
}

/* MD5(Code|ID|Length|auth|Attributes|Secret): the Response Authenticator with auth = the request's
 * authenticator (RFC 2865 §3), the Accounting-Request authenticator with auth = zeros
 * (RFC 2866 §3). */
static int packet_digest(const uint8_t *raw, size_t len, const uint8_t auth[GK_RAD_AUTH_LEN],
                         const uint8_t *secret, size_t slen, uint8_t out[MD5_LEN])
{
	const struct seg s[] = {
	    {raw, 4},
	    {auth, GK_RAD_AUTH_LEN},
	    {raw + GK_RAD_HDR_LEN, len - GK_RAD_HDR_LEN},
	    {secret, slen},
	};
	return md5_segs(s, 4, out);
}

static int check_digest(const struct gk_rad_pkt *p, const uint8_t auth[GK_RAD_AUTH_LEN],
                        const uint8_t *secret, size_t slen, enum gk_reason *reason)
{
	uint8_t calc[MD5_LEN];

	if (!secret || !slen)
		return fail(reason, GK_R_PARSE_BAD_AUTH);
	if (packet_digest(p->raw, p->len, auth, secret, slen, calc) < 0)
		return fail(reason, GK_R_INTERNAL);
	if (CRYPTO_memcmp(calc, p->authenticator, MD5_LEN) != 0)
		return fail(reason, GK_R_PARSE_BAD_AUTH);
	return 0;
}

int gk_rad_verify_request(const struct gk_rad_pkt *p, const uint8_t *secret, size_t slen,
                          enum gk_reason *reason)
{
	if (!p || !p->raw)
		return fail(reason, GK_R_INTERNAL);
	switch (p->code) {
	case GK_RAD_ACCESS_REQUEST:
		/* Our policy for every request, not only those carrying EAP (RFC 3579) or after
		 * BlastRADIUS (CVE-2024-3596): the Request Authenticator alone protects nothing. */
		if (check_ma(p, p->authenticator, secret, slen, reason) < 0)
			return -1;
		break;
	case GK_RAD_ACCOUNTING_REQUEST:
		if (check_ma(p, zero16, secret, slen, reason) < 0 ||
		    check_digest(p, zero16, secret, slen, reason) < 0)
			return -1;
		break;
	default:
		return fail(reason, GK_R_PARSE_UNSUPPORTED);
	}
	if (reason)
		*reason = GK_R_OK;
	return 0;
}

int gk_rad_verify_response(const struct gk_rad_pkt *p, const uint8_t req_auth[GK_RAD_AUTH_LEN],
                           const uint8_t *secret, size_t slen, enum gk_reason *reason)
{
	if (!p || !p->raw || !req_auth)
		return fail(reason, GK_R_INTERNAL);
	switch (p->code) {
	case GK_RAD_ACCESS_ACCEPT:
	case GK_RAD_ACCESS_REJECT:
	case GK_RAD_ACCESS_CHALLENGE:
	case GK_RAD_ACCOUNTING_RESPONSE:
		break;
	default:
		return fail(reason, GK_R_PARSE_UNSUPPORTED);
	}
	/* The Response Authenticator first: then a response without Message-Authenticator but
	 * with a good authenticator (the RFC 2865 §7 examples) says MISSING, not BAD_AUTH:
	 * the more useful log line, and what lets the unit test pin the digest on its own. */
	if (check_digest(p, req_auth, secret, slen, reason) < 0 ||
	    check_ma(p, ma_auth(p->code, req_auth), secret, slen, reason) < 0)
		return -1;
	if (reason)
		*reason = GK_R_OK;
	return 0;
}

/* ---- hiding (RFC 2868 §3.5) -------------------------------------------------------------- */

/* In place over `data` (a multiple of 16): b1 = MD5(S|R|salt), bi = MD5(S|c(i-1)). Decrypting
 * needs the ciphertext block before it is overwritten, hence `encrypt`. */
static int hide_blocks(uint8_t *data, size_t n, const uint8_t *secret, size_t slen,
                       const uint8_t r[GK_RAD_AUTH_LEN], const uint8_t salt[SALT_LEN], bool encrypt)
{
	uint8_t b[MD5_LEN], prev[MD5_LEN];
	int ret = 0;

	for (size_t off = 0; off < n; off += MD5_LEN) {
		struct seg s[3] = {{secret, slen}};
		if (off == 0) {
			s[1] = (struct seg){r, GK_RAD_AUTH_LEN};
			s[2] = (struct seg){salt, SALT_LEN};
		} else {
			s[1] = (struct seg){prev, MD5_LEN};
		}
		ret = md5_segs(s, off == 0 ? 3 : 2, b);
		if (ret < 0)
			break;
		if (!encrypt)
			memcpy(prev, data + off, MD5_LEN);
		for (size_t i = 0; i < MD5_LEN; i++)
			data[off + i] ^= b[i];
		if (encrypt)
			memcpy(prev, data + off, MD5_LEN);
	}
	OPENSSL_cleanse(b, sizeof(b));
	return ret;
}

static size_t hidden_len(size_t len)
{
	return SALT_LEN + ((1 + len + MD5_LEN - 1) & ~(size_t)(MD5_LEN - 1));
}

int gk_rad_unhide(const struct gk_rad_attr *a, const uint8_t req_auth[GK_RAD_AUTH_LEN],
                  const uint8_t *secret, size_t slen, uint8_t *out, size_t cap)
{
	uint8_t plain[ATTR_MAX_VAL];
	int ret = -EBADMSG;

	if (!a || !req_auth || !secret || !slen || (!out && cap))
		return -EINVAL;
	size_t n = a->len >= SALT_LEN ? (size_t)a->len - SALT_LEN : 0;
	if (n < MD5_LEN || n % MD5_LEN || n > sizeof(plain) || !(a->val[0] & 0x80))
		return -EBADMSG;

	memcpy(plain, a->val + SALT_LEN, n);
	if (hide_blocks(plain, n, secret, slen, req_auth, a->val, false) < 0) {
		ret = -EIO;
		goto out;
	}
	/* Exactly the padding the encoder must have used: one length octet, then zeros up to the
	 * next multiple of 16. Anything else means the wrong secret or R, or a corrupted value. */
	size_t vlen = plain[0];
	uint8_t pad = 0;
	if (hidden_len(vlen) != a->len)
		goto out;
	for (size_t i = 1 + vlen; i < n; i++)
		pad |= plain[i];
	if (pad)
		goto out;
	if (vlen > cap) {
		ret = -ENOSPC;
		goto out;
	}
	if (vlen)
		memcpy(out, plain + 1, vlen);
	ret = (int)vlen;
out:
	OPENSSL_cleanse(plain, sizeof(plain));
	return ret;
}

/* ---- building ---------------------------------------------------------------------------- */

static bool is_response(uint8_t code)
{
	return code == GK_RAD_ACCESS_ACCEPT || code == GK_RAD_ACCESS_REJECT ||
	       code == GK_RAD_ACCESS_CHALLENGE || code == GK_RAD_ACCOUNTING_RESPONSE;
}

static void set_err(struct gk_rad_builder *b, int err)
{
	if (!b->err)
		b->err = err;
}

void gk_rad_begin(struct gk_rad_builder *b, uint8_t *buf, size_t cap, uint8_t code, uint8_t id,
                  const uint8_t req_auth[GK_RAD_AUTH_LEN])
{
	memset(b, 0, sizeof(*b));
	b->buf = buf;
	b->cap = cap < GK_RAD_MAX_LEN ? cap : GK_RAD_MAX_LEN;
	b->code = code;
	if (!buf) {
		b->err = -EINVAL;
		return;
	}
	if (b->cap < GK_RAD_HDR_LEN) {
		b->err = -EMSGSIZE;
		return;
	}
	buf[0] = code;
	buf[1] = id;
	put_be16(buf + 2, GK_RAD_HDR_LEN);
	b->len = GK_RAD_HDR_LEN;

	if (code == GK_RAD_ACCESS_REQUEST) {
		/* RFC 2865 §3: unpredictable and unique over the secret's lifetime; it is also the
		 * R of every hidden attribute the answer carries. */
		if (req_auth || gk_random(b->req_auth, GK_RAD_AUTH_LEN) < 0)
			b->err = req_auth ? -EINVAL : -EIO;
	} else if (code == GK_RAD_ACCOUNTING_REQUEST) {
		if (req_auth)
			b->err = -EINVAL;
	} else if (is_response(code)) {
		if (req_auth)
			memcpy(b->req_auth, req_auth, GK_RAD_AUTH_LEN);
		else
			b->err = -EINVAL;
	} else {
		b->err = -EINVAL;
	}
	memcpy(buf + 4, b->req_auth, GK_RAD_AUTH_LEN);
}

/* Room for `n` more octets, keeping space for the Message-Authenticator finish() appends. */
static uint8_t *reserve(struct gk_rad_builder *b, size_t n)
{
	if (b->err)
		return NULL;
	if (n > b->cap - b->len || b->cap - b->len - n < MA_ATTR_LEN) {
		set_err(b, -EMSGSIZE);
		return NULL;
	}
	uint8_t *p = b->buf + b->len;
	b->len += n;
	return p;
}

void gk_rad_add(struct gk_rad_builder *b, uint8_t type, const void *val, size_t len)
{
	if (b->err)
		return;
	if (type == GK_RAD_MESSAGE_AUTHENTICATOR || (!val && len)) {
		set_err(b, -EINVAL); /* finish() owns the Message-Authenticator */
		return;
	}
	if (len > ATTR_MAX_VAL) {
		set_err(b, -EMSGSIZE);
		return;
	}
	uint8_t *p = reserve(b, 2 + len);
	if (!p)
		return;
	p[0] = type;
	p[1] = (uint8_t)(2 + len);
	if (len)
		memcpy(p + 2, val, len);
}

void gk_rad_add_u32(struct gk_rad_builder *b, uint8_t type, uint32_t v)
{
	uint8_t be[4];
	put_be32(be, v);
	gk_rad_add(b, type, be, sizeof(be));
}

static uint8_t *vsa_header(struct gk_rad_builder *b, uint32_t vendor, uint8_t vtype, size_t len)
{
	if (b->err)
		return NULL;
	if (vendor == 0 || vendor > 0xffffff) {
		set_err(b, -EINVAL);
		return NULL;
	}
	if (len > VSA_MAX_VAL) {
		set_err(b, -EMSGSIZE);
		return NULL;
	}
	uint8_t *p = reserve(b, 2 + VSA_HDR_LEN + len);
	if (!p)
		return NULL;
	p[0] = GK_RAD_VENDOR_SPECIFIC;
	p[1] = (uint8_t)(2 + VSA_HDR_LEN + len);
	put_be32(p + 2, vendor);
	p[6] = vtype;
	p[7] = (uint8_t)(2 + len);
	return p + 2 + VSA_HDR_LEN;
}

void gk_rad_add_vsa(struct gk_rad_builder *b, uint32_t vendor, uint8_t vtype, const void *val,
                    size_t len)
{
	if (!b->err && !val && len)
		set_err(b, -EINVAL);
	uint8_t *p = vsa_header(b, vendor, vtype, len);
	if (p && len)
		memcpy(p, val, len);
}

void gk_rad_add_vsa_hidden(struct gk_rad_builder *b, uint32_t vendor, uint8_t vtype,
                           const void *val, size_t len, const uint8_t *secret, size_t slen)
{
	if (b->err)
		return;
	/* An Accounting-Request's authenticator, the R, is a digest over the finished packet. */
	if ((!val && len) || !secret || !slen || b->code == GK_RAD_ACCOUNTING_REQUEST) {
		set_err(b, -EINVAL);
		return;
	}
	size_t hlen = hidden_len(len);
	if (hlen > VSA_MAX_VAL) {
		set_err(b, -EMSGSIZE);
		return;
	}
	/* The salt must be unique per attribute within a packet (RFC 2868 §3.5); an attribute's
	 * offset is, so it takes the low 12 bits and randomness the rest, like FreeRADIUS's
	 * counter-plus-random. Across packets R differs. */
	uint16_t off = (uint16_t)b->len;
	uint8_t rnd = 0;
	if (gk_random(&rnd, 1) < 0) {
		set_err(b, -EIO);
		return;
	}
	uint8_t *p = vsa_header(b, vendor, vtype, hlen);
	if (!p)
		return;
	uint16_t salt = (uint16_t)(0x8000 | (rnd & 0x07) << 12 | (off & 0x0fff));
	put_be16(p, salt);
	uint8_t *data = p + SALT_LEN;
	memset(data, 0, hlen - SALT_LEN);
	data[0] = (uint8_t)len;
	if (len)
		memcpy(data + 1, val, len);
	if (hide_blocks(data, hlen - SALT_LEN, secret, slen, b->req_auth, p, true) < 0) {
		OPENSSL_cleanse(data, hlen - SALT_LEN);
		set_err(b, -EIO);
	}
}

int gk_rad_finish(struct gk_rad_builder *b, const uint8_t *secret, size_t slen)
{
	uint8_t digest[MD5_LEN];

	if (b->err)
		return b->err;
	if (!secret || !slen)
		return b->err = -EINVAL;
	/* reserve() always kept room for this. */
	uint8_t *ma = b->buf + b->len;
	ma[0] = GK_RAD_MESSAGE_AUTHENTICATOR;
	ma[1] = MA_ATTR_LEN;
	memset(ma + 2, 0, MD5_LEN);
	b->len += MA_ATTR_LEN;
	put_be16(b->buf + 2, (uint16_t)b->len);

	memcpy(b->buf + 4, ma_auth(b->code, b->req_auth), GK_RAD_AUTH_LEN);
	const struct seg s = {b->buf, b->len};
	if (hmac_md5_segs(secret, slen, &s, 1, digest) < 0)
		return b->err = -EIO;
	memcpy(ma + 2, digest, MD5_LEN);

	if (b->code != GK_RAD_ACCESS_REQUEST) {
		const uint8_t *r = b->code == GK_RAD_ACCOUNTING_REQUEST ? zero16 : b->req_auth;
		if (packet_digest(b->buf, b->len, r, secret, slen, digest) < 0)
			return b->err = -EIO;
		memcpy(b->buf + 4, digest, GK_RAD_AUTH_LEN);
	}
	int len = (int)b->len;
	b->err = -EALREADY; /* a packet is finished once: its authenticators cover everything */
	return len;
}
