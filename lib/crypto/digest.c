// SPDX-License-Identifier: GPL-2.0-only
/*
 * HTTP/SIP digest (RFC 7616, RFC 8760) on OpenSSL 3 EVP. Formulas, nonce layout and the password
 * derivation are specified at the top of include/gatekey/crypto/digest.h; tests/unit/test_digest.c
 * pins them with values computed outside libgatekey.
 *
 * Algorithms are fetched once (a fetch is a locked provider-store lookup) and a missing one only
 * disables itself: a FIPS build without MD5 must still serve SHA-256 phones. Hashes stream their
 * colon-separated parts into the digest rather than assembling them in a buffer, so the password
 * and HA1 are never copied; the raw hash outputs that are secret get wiped.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "gatekey/crypto/crypto.h"
#include "gatekey/crypto/digest.h"

#define NONCE_TS_LEN   8
#define NONCE_RAND_LEN 12
#define NONCE_TAG_LEN  16
#define NONCE_MSG_LEN  (NONCE_TS_LEN + NONCE_RAND_LEN)
#define NONCE_BIN_LEN  (NONCE_MSG_LEN + NONCE_TAG_LEN)
#define MAX_PARTS      6 /* HA1:nonce:nc:cnonce:qop:HA2 */
#define NC_LEN         8

_Static_assert(NONCE_BIN_LEN % 3 == 0, "base64 of the nonce has neither padding nor spare bits");
_Static_assert(NONCE_BIN_LEN / 3 * 4 == GK_DIGEST_NONCE_LEN, "nonce length in digest.h");
_Static_assert(GK_DIGEST_PW_LEN / 2 <= GK_KEY_LEN, "password comes from one HKDF output");

static const struct {
	const char *name;    /* RFC 7616 token */
	const char *sess;    /* the same with "-sess" */
	const char *ossl;    /* OpenSSL fetch name */
	unsigned int hexlen; /* 2 * output bytes */
} algs[] = {
    [GK_DIGEST_MD5] = {"MD5", "MD5-sess", "MD5", 32},
    [GK_DIGEST_SHA256] = {"SHA-256", "SHA-256-sess", "SHA256", 64},
    [GK_DIGEST_SHA512_256] = {"SHA-512-256", "SHA-512-256-sess", "SHA512-256", 64},
};
#define N_ALGS (sizeof(algs) / sizeof(algs[0]))

static struct {
	EVP_MD *md[N_ALGS]; /* NULL when the provider lacks it */
	EVP_MAC *hmac;
	/* Digest set and keyed with zeros: 3.0.0 cannot dup an unkeyed one (openssl#17117). */
	EVP_MAC_CTX *hmac_tmpl;
} dg;

static pthread_once_t dg_once = PTHREAD_ONCE_INIT;

static void digest_init_once(void)
{
	static const uint8_t zero[GK_DIGEST_NONCE_KEY_LEN];
	char sha256[] = "SHA256";
	OSSL_PARAM dp[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_ALG_PARAM_DIGEST, sha256, 0),
	    OSSL_PARAM_construct_end(),
	};

	for (size_t i = 1; i < N_ALGS; i++)
		dg.md[i] = EVP_MD_fetch(NULL, algs[i].ossl, NULL);
	dg.hmac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
	if (!dg.hmac)
		return;
	dg.hmac_tmpl = EVP_MAC_CTX_new(dg.hmac);
	if (dg.hmac_tmpl && EVP_MAC_init(dg.hmac_tmpl, zero, sizeof(zero), dp) != 1) {
		EVP_MAC_CTX_free(dg.hmac_tmpl);
		dg.hmac_tmpl = NULL;
	}
}

static bool alg_known(enum gk_digest_alg alg)
{
	return alg >= GK_DIGEST_MD5 && (size_t)alg < N_ALGS && algs[alg].name;
}

/* The fetched digest, or NULL with *err set. */
static const EVP_MD *alg_md(enum gk_digest_alg alg, int *err)
{
	if (!alg_known(alg)) {
		*err = -EINVAL;
		return NULL;
	}
	if (pthread_once(&dg_once, digest_init_once) != 0) {
		*err = -EIO;
		return NULL;
	}
	if (!dg.md[alg])
		*err = -ENOTSUP;
	return dg.md[alg];
}

bool gk_digest_alg_available(enum gk_digest_alg alg)
{
	int err;

	return alg_md(alg, &err) != NULL;
}

int gk_digest_hex_len(enum gk_digest_alg alg)
{
	return alg_known(alg) ? (int)algs[alg].hexlen : -EINVAL;
}

const char *gk_digest_alg_name(enum gk_digest_alg alg, bool sess)
{
	if (!alg_known(alg))
		return NULL;
	return sess ? algs[alg].sess : algs[alg].name;
}

int gk_digest_alg_parse(const char *tok, size_t len, enum gk_digest_alg *alg, bool *sess)
{
	static const char suffix[] = "-sess";
	const size_t slen = sizeof(suffix) - 1;

	if (!alg || !sess)
		return -EINVAL;
	if (!tok) {
		*alg = GK_DIGEST_MD5;
		*sess = false;
		return 0;
	}
	if (len >= 2 && tok[0] == '"' && tok[len - 1] == '"') {
		tok++;
		len -= 2;
	}
	if (!len || len > GK_DIGEST_FIELD_MAX || memchr(tok, '\0', len))
		return -EINVAL;
	*sess = len > slen && !strncasecmp(tok + len - slen, suffix, slen);
	if (*sess)
		len -= slen;
	for (size_t i = 1; i < N_ALGS; i++) {
		if (strlen(algs[i].name) == len && !strncasecmp(tok, algs[i].name, len)) {
			*alg = (enum gk_digest_alg)i;
			return 0;
		}
	}
	*sess = false;
	return -ENOTSUP;
}

/* Length of s if it is a valid field: not NULL, NUL within GK_DIGEST_FIELD_MAX, non-empty when
 * required. Otherwise -EINVAL. Never reads past GK_DIGEST_FIELD_MAX + 1 bytes. */
static int field(const char *s, bool required)
{
	size_t n;

	if (!s)
		return -EINVAL;
	n = strnlen(s, GK_DIGEST_FIELD_MAX + 1);
	if (n > GK_DIGEST_FIELD_MAX || (required && !n))
		return -EINVAL;
	return (int)n;
}

static bool is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/*
 * Copies exactly n hex digits of s, lower-cased, into out (n + 1 bytes). OR-ing 0x20 lower-cases
 * A-F and leaves 0-9 alone, so the copy has no data-dependent branch beyond the validity check;
 * it serves for the secret HA1 and for the response compared in constant time.
 */
static int hex_lower(const char *s, size_t n, char *out)
{
	if (!s || strnlen(s, n + 1) != n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!is_hex((unsigned char)s[i]))
			return -EINVAL;
		out[i] = (char)(s[i] | 0x20);
	}
	out[n] = '\0';
	return 0;
}

/* out_hex = lower-case hex of H(parts[0] ":" parts[1] ":" ... parts[n-1]). */
static int hash_parts(const EVP_MD *md, const char *const *parts, size_t n, char *out_hex)
{
	uint8_t raw[EVP_MAX_MD_SIZE];
	unsigned int rawlen = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	bool ok = c && EVP_DigestInit_ex2(c, md, NULL) == 1;

	for (size_t i = 0; ok && i < n; i++) {
		if (i)
			ok = EVP_DigestUpdate(c, ":", 1) == 1;
		ok = ok && EVP_DigestUpdate(c, parts[i], strlen(parts[i])) == 1;
	}
	ok = ok && EVP_DigestFinal_ex(c, raw, &rawlen) == 1 && rawlen <= GK_DIGEST_HEX_MAX / 2;
	/* Frees the provider context with OPENSSL_clear_free, so no hash state survives. */
	EVP_MD_CTX_free(c);
	if (ok)
		gk_hex_encode(raw, rawlen, out_hex);
	OPENSSL_cleanse(raw, sizeof(raw));
	return ok ? 0 : -EIO;
}

int gk_digest_ha1(enum gk_digest_alg alg, const char *user, const char *realm, const char *password,
                  char out_hex[GK_DIGEST_HEX_BUF])
{
	const char *parts[] = {user, realm, password};
	const EVP_MD *md;
	int err = 0;

	if (!out_hex)
		return -EINVAL;
	md = alg_md(alg, &err);
	if (!md)
		return err;
	if (field(user, false) < 0 || field(realm, false) < 0 || field(password, false) < 0)
		return -EINVAL;
	return hash_parts(md, parts, 3, out_hex);
}

int gk_digest_response(enum gk_digest_alg alg, bool sess, const char *ha1_hex, const char *nonce,
                       const char *nc, const char *cnonce, const char *qop, const char *method,
                       const char *uri, char out_hex[GK_DIGEST_HEX_BUF])
{
	char ha1[GK_DIGEST_HEX_BUF], ha2[GK_DIGEST_HEX_BUF], ncl[NC_LEN + 1];
	const char *parts[MAX_PARTS];
	const EVP_MD *md;
	size_t n;
	int err = 0;

	if (!out_hex)
		return -EINVAL;
	md = alg_md(alg, &err);
	if (!md)
		return err;
	if (field(nonce, true) < 0 || field(method, true) < 0 || field(uri, true) < 0)
		return -EINVAL;
	if (qop) {
		if (field(qop, true) < 0)
			return -EINVAL;
		if (strcasecmp(qop, "auth"))
			return -ENOTSUP;
		/* nc is hashed as sent; the lower-cased copy is only for validation. */
		if (hex_lower(nc, NC_LEN, ncl) < 0)
			return -EINVAL;
	}
	if ((qop || sess) && field(cnonce, true) < 0)
		return -EINVAL;
	if (hex_lower(ha1_hex, algs[alg].hexlen, ha1) < 0)
		return -EINVAL;

	if (sess) {
		parts[0] = ha1;
		parts[1] = nonce;
		parts[2] = cnonce;
		/* In place: hash_parts() writes its output only after the last update. */
		err = hash_parts(md, parts, 3, ha1);
		if (err)
			goto out;
	}
	parts[0] = method;
	parts[1] = uri;
	err = hash_parts(md, parts, 2, ha2);
	if (err)
		goto out;

	n = 0;
	parts[n++] = ha1;
	parts[n++] = nonce;
	if (qop) {
		parts[n++] = nc;
		parts[n++] = cnonce;
		parts[n++] = qop;
	}
	parts[n++] = ha2;
	err = hash_parts(md, parts, n, out_hex);
out:
	OPENSSL_cleanse(ha1, sizeof(ha1));
	return err;
}

bool gk_digest_verify(enum gk_digest_alg alg, bool sess, const char *ha1_hex, const char *nonce,
                      const char *nc, const char *cnonce, const char *qop, const char *method,
                      const char *uri, const char *response_hex)
{
	char want[GK_DIGEST_HEX_BUF], got[GK_DIGEST_HEX_BUF];
	bool ok = false;

	if (gk_digest_response(alg, sess, ha1_hex, nonce, nc, cnonce, qop, method, uri, want) < 0)
		goto out;
	if (hex_lower(response_hex, algs[alg].hexlen, got) < 0)
		goto out;
	ok = CRYPTO_memcmp(want, got, algs[alg].hexlen) == 0;
out:
	/* The expected response is as good as the password for this nonce until it expires. */
	OPENSSL_cleanse(want, sizeof(want));
	return ok;
}

/* HMAC-SHA-256(key, msg) truncated, on a duplicate of the keyed template. */
static int nonce_tag(const uint8_t key[GK_DIGEST_NONCE_KEY_LEN], const uint8_t msg[NONCE_MSG_LEN],
                     uint8_t tag[NONCE_TAG_LEN])
{
	uint8_t full[GK_MAC_LEN];
	EVP_MAC_CTX *c;
	size_t n = 0;
	bool ok;

	if (pthread_once(&dg_once, digest_init_once) != 0 || !dg.hmac_tmpl)
		return -EIO;
	c = EVP_MAC_CTX_dup(dg.hmac_tmpl);
	ok = c && EVP_MAC_init(c, key, GK_DIGEST_NONCE_KEY_LEN, NULL) == 1 &&
	     EVP_MAC_update(c, msg, NONCE_MSG_LEN) == 1 &&
	     EVP_MAC_final(c, full, &n, sizeof(full)) == 1 && n == sizeof(full);
	EVP_MAC_CTX_free(c);
	if (ok)
		memcpy(tag, full, NONCE_TAG_LEN);
	OPENSSL_cleanse(full, sizeof(full));
	return ok ? 0 : -EIO;
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* len must be a multiple of 3; out gets len / 3 * 4 characters and a NUL. */
static void b64url_encode(const uint8_t *in, size_t len, char *out)
{
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		*out++ = b64url[v >> 18];
		*out++ = b64url[(v >> 12) & 0x3f];
		*out++ = b64url[(v >> 6) & 0x3f];
		*out++ = b64url[v & 0x3f];
	}
	*out = '\0';
}

static int b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* The ts a nonce was made with (big endian, its first NONCE_TS_LEN bytes). */
static uint64_t nonce_ts(const uint8_t bin[NONCE_BIN_LEN])
{
	uint64_t ts = 0;

	for (int i = 0; i < NONCE_TS_LEN; i++)
		ts = ts << 8 | bin[i];
	return ts;
}

/* Exactly GK_DIGEST_NONCE_LEN characters into NONCE_BIN_LEN bytes; -EBADMSG otherwise. */
static int b64url_decode_nonce(const char *s, uint8_t out[NONCE_BIN_LEN])
{
	if (strnlen(s, GK_DIGEST_NONCE_LEN + 1) != GK_DIGEST_NONCE_LEN)
		return -EBADMSG;
	for (size_t i = 0, o = 0; i < GK_DIGEST_NONCE_LEN; i += 4, o += 3) {
		uint32_t v = 0;

		for (size_t j = 0; j < 4; j++) {
			int d = b64url_value((unsigned char)s[i + j]);

			if (d < 0)
				return -EBADMSG;
			v = v << 6 | (uint32_t)d;
		}
		out[o] = (uint8_t)(v >> 16);
		out[o + 1] = (uint8_t)(v >> 8);
		out[o + 2] = (uint8_t)v;
	}
	return 0;
}

int gk_digest_nonce_make(const uint8_t key[GK_DIGEST_NONCE_KEY_LEN], uint64_t now_s,
                         char out[GK_DIGEST_NONCE_BUF])
{
	uint8_t bin[NONCE_BIN_LEN];
	int err;

	if (!key || !out)
		return -EINVAL;
	for (int i = 0; i < NONCE_TS_LEN; i++)
		bin[i] = (uint8_t)(now_s >> (8 * (NONCE_TS_LEN - 1 - i)));
	err = gk_random(bin + NONCE_TS_LEN, NONCE_RAND_LEN);
	if (!err)
		err = nonce_tag(key, bin, bin + NONCE_MSG_LEN);
	if (!err)
		b64url_encode(bin, sizeof(bin), out);
	return err;
}

int gk_digest_nonce_check(const uint8_t key[GK_DIGEST_NONCE_KEY_LEN], const char *nonce,
                          uint64_t now_s, uint32_t max_age_s)
{
	uint8_t bin[NONCE_BIN_LEN], tag[NONCE_TAG_LEN];
	uint64_t ts;
	int err;

	if (!key || !nonce)
		return -EINVAL;
	err = b64url_decode_nonce(nonce, bin);
	if (err)
		return err;
	err = nonce_tag(key, bin, tag);
	if (err)
		return err;
	if (CRYPTO_memcmp(tag, bin + NONCE_MSG_LEN, NONCE_TAG_LEN))
		return -EBADMSG;
	ts = nonce_ts(bin);
	if (ts <= now_s ? now_s - ts > max_age_s : ts - now_s > max_age_s)
		return -ESTALE;
	return 0;
}

int gk_digest_nonce_issued(const char *nonce, uint64_t *ts_s)
{
	uint8_t bin[NONCE_BIN_LEN];
	int err;

	if (!nonce || !ts_s)
		return -EINVAL;
	err = b64url_decode_nonce(nonce, bin);
	if (err)
		return err;
	*ts_s = nonce_ts(bin);
	return 0;
}

int gk_digest_password(const uint8_t kc[32], char out[GK_DIGEST_PW_LEN + 1])
{
	uint8_t okm[GK_KEY_LEN];
	int err;

	if (!kc || !out)
		return -EINVAL;
	err = gk_hkdf(kc, GK_DIGEST_PW_LABEL, okm);
	if (!err)
		gk_hex_encode(okm, GK_DIGEST_PW_LEN / 2, out);
	OPENSSL_cleanse(okm, sizeof(okm));
	return err;
}
