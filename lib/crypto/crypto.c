// SPDX-License-Identifier: GPL-2.0-only
/*
 * Crypto suite "gk1" (DESIGN §4) on OpenSSL 3 EVP. The encodings are fixed by the comment at the
 * top of include/gatekey/crypto/crypto.h; the KATs in tests/unit/test_crypto.c pin them.
 *
 * Fetching an algorithm costs a locked lookup in the provider store, which would dominate a
 * registration at 40k/s, so every algorithm is fetched once and contexts are reused:
 *  - HMAC-SHA-256 is RFC 2104 over per-thread SHA-256 digest contexts (struct hmac): OpenSSL's
 *    HMAC MAC copies each new key into a heap buffer and frees the last (an allocation, a
 *    cleanse and a free per keying, and again to scrub it), which cost more than the hashing.
 *    A digest context re-initialised for the same digest allocates nothing, and re-initialising
 *    it after the final is the scrub.
 *  - HKDF is RFC 5869 over that HMAC (see hkdf_info()).
 *  - The packet MAC keeps its key between calls, see gk_siphash128().
 * So no long-term key or subkey outlives a call in a cached context, except the packet keys.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "gatekey/crypto/crypto.h"

#define LP_MAX 0xffff /* a length prefix is 16 bits */

_Static_assert(GK_AUTH_LEN == GK_MAC_LEN, "AUTH and the s10 MAC share the HMAC helpers");

static struct {
	int status; /* 0 after a successful init, -EIO if it failed */
	EVP_MAC *hmac;
	EVP_MAC *siphash;
	EVP_CIPHER *gcm;
	EVP_MD *sha256;
} gk;

#define SHA256_BLOCK_LEN 64

/* One HMAC-SHA-256 under way: the digest context, and the outer pad (key XOR 0x5c) between the
 * key and the final. */
struct hmac {
	EVP_MD_CTX *md;
	uint8_t opad[SHA256_BLOCK_LEN];
};

/*
 * Contexts that change state on every use: per thread, so callers need no locking. Never freed:
 * the daemons keep their one thread for their whole life.
 */
static _Thread_local EVP_MAC_CTX *sip_ctx;
/* HMAC: one for the one-shot hmac2 and one for hmac_start..hmac_end, which calls hmac2
 * (through hkdf) while it is open. */
static _Thread_local struct hmac hmac_once, hmac_stream;

static pthread_once_t gk_once = PTHREAD_ONCE_INIT;

static void crypto_init_once(void)
{
	gk.status = -EIO;
	gk.siphash = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_SIPHASH, NULL);
	gk.gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	gk.sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!gk.siphash || !gk.gcm || !gk.sha256)
		return;
	gk.status = 0;
}

int gk_crypto_init(void)
{
	if (pthread_once(&gk_once, crypto_init_once) != 0)
		return -EIO;
	return gk.status;
}

/*
 * Random bytes come from OpenSSL's DRBG through a small per-thread pool: each RAND_bytes call
 * checks for a fork with getpid(), a system call that cost a tenth of a registration's CPU when
 * every nonce, Rand, key and IV was drawn on its own. Bytes handed out are wiped from the pool at
 * once, so the pool never holds a secret that was already used, and a forked child wipes the pool
 * it inherited (pthread_atfork) instead of handing out the parent's bytes again.
 */
#define RANDOM_POOL 1024

static __thread struct {
	uint8_t bytes[RANDOM_POOL];
	size_t used; /* bytes[used..] not yet handed out */
} pool = {.used = RANDOM_POOL};
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static void pool_forget(void)
{
	OPENSSL_cleanse(pool.bytes, sizeof(pool.bytes));
	pool.used = RANDOM_POOL;
}

static void pool_register(void)
{
	pthread_atfork(NULL, NULL, pool_forget);
}

static int random_direct(uint8_t *p, size_t len)
{
	while (len) {
		int n = len > INT_MAX ? INT_MAX : (int)len;
		if (RAND_bytes(p, n) != 1)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int gk_random(void *out, size_t len)
{
	uint8_t *p = out;

	if (!out && len)
		return -EINVAL;
	if (!len)
		return 0; /* memcpy may not be given out == NULL, even for no bytes */
	if (len > RANDOM_POOL / 4)
		return random_direct(p, len);
	pthread_once(&pool_once, pool_register);
	if (RANDOM_POOL - pool.used < len) {
		if (random_direct(pool.bytes, RANDOM_POOL) < 0) {
			pool_forget();
			return -EIO;
		}
		pool.used = 0;
	}
	memcpy(p, pool.bytes + pool.used, len);
	OPENSSL_cleanse(pool.bytes + pool.used, len);
	pool.used += len;
	return 0;
}

bool gk_ct_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

void gk_wipe(void *p, size_t len)
{
	if (p)
		OPENSSL_cleanse(p, len);
}

static void be16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Starts h's MAC under key (at most a block; the suite's keys are 32 bytes). */
static bool hmac_begin(struct hmac *h, const uint8_t *key, size_t keylen)
{
	uint8_t ipad[SHA256_BLOCK_LEN];
	bool ok;

	if (!h->md && gk_crypto_init() == 0)
		h->md = EVP_MD_CTX_new();
	if (!h->md || keylen > SHA256_BLOCK_LEN)
		return false;
	memset(ipad, 0x36, sizeof(ipad));
	memset(h->opad, 0x5c, sizeof(h->opad));
	for (size_t i = 0; i < keylen; i++) {
		ipad[i] ^= key[i];
		h->opad[i] ^= key[i];
	}
	ok = EVP_DigestInit_ex2(h->md, gk.sha256, NULL) == 1 &&
	     EVP_DigestUpdate(h->md, ipad, sizeof(ipad)) == 1;
	OPENSSL_cleanse(ipad, sizeof(ipad));
	if (!ok)
		OPENSSL_cleanse(h->opad, sizeof(h->opad));
	return ok;
}

static bool hmac_update(struct hmac *h, const void *data, size_t len)
{
	return !len || EVP_DigestUpdate(h->md, data, len) == 1;
}

/*
 * Ends h's MAC (ok: everything before it succeeded) into out, or wipes out. Either way nothing
 * of the key stays: the outer pad is wiped, and the context is initialised afresh, which
 * replaces the state that held the inner hash and the MAC.
 */
static int hmac_end(struct hmac *h, bool ok, uint8_t out[GK_MAC_LEN])
{
	uint8_t inner[GK_MAC_LEN];
	unsigned n = 0, m = 0;

	ok = ok && EVP_DigestFinal_ex(h->md, inner, &n) == 1 && n == GK_MAC_LEN &&
	     EVP_DigestInit_ex2(h->md, gk.sha256, NULL) == 1 &&
	     EVP_DigestUpdate(h->md, h->opad, sizeof(h->opad)) == 1 &&
	     EVP_DigestUpdate(h->md, inner, sizeof(inner)) == 1 &&
	     EVP_DigestFinal_ex(h->md, out, &m) == 1 && m == GK_MAC_LEN;
	EVP_DigestInit_ex2(h->md, gk.sha256, NULL);
	OPENSSL_cleanse(inner, sizeof(inner));
	OPENSSL_cleanse(h->opad, sizeof(h->opad));
	if (!ok) {
		OPENSSL_cleanse(out, GK_MAC_LEN);
		return -EIO;
	}
	return 0;
}

/* One HMAC-SHA-256 over up to two buffers. */
static int hmac2(const uint8_t *key, size_t keylen, const void *a, size_t alen, const void *b,
                 size_t blen, uint8_t out[GK_MAC_LEN])
{
	bool ok = hmac_begin(&hmac_once, key, keylen);

	if (!ok && !hmac_once.md) {
		OPENSSL_cleanse(out, GK_MAC_LEN);
		return -EIO;
	}
	ok = ok && hmac_update(&hmac_once, a, alen) && hmac_update(&hmac_once, b, blen);
	return hmac_end(&hmac_once, ok, out);
}

/* HKDF-Extract with the empty salt, which RFC 5869 replaces by HashLen zeros: PRK = HMAC(0^32,
 * IKM). */
static int hkdf_extract(const uint8_t ikm[GK_KEY_LEN], uint8_t prk[GK_KEY_LEN])
{
	static const uint8_t zero_salt[GK_KEY_LEN];

	return hmac2(zero_salt, sizeof(zero_salt), ikm, GK_KEY_LEN, NULL, 0, prk);
}

/*
 * HKDF-SHA-256 (RFC 5869) with an empty salt and L = 32, so one expand block:
 *   PRK = HMAC(0^32, IKM), OKM = HMAC(PRK, info || 0x01).
 * Built on OpenSSL's HMAC rather than its "HKDF" KDF: the KDF object allocates and re-keys on
 * every call and costs twice as much, and a registration derives half a dozen subkeys.
 */
/* HKDF-Expand for L = 32: one block, HMAC(PRK, info || 0x01). */
static int hkdf_expand(const uint8_t prk[GK_KEY_LEN], const void *info, size_t infolen,
                       uint8_t out[GK_KEY_LEN])
{
	static const uint8_t one = 0x01;

	return hmac2(prk, GK_KEY_LEN, info, infolen, &one, 1, out);
}

static int hkdf_info(const uint8_t *key, const void *info, size_t infolen, uint8_t out[GK_KEY_LEN])
{
	uint8_t prk[GK_KEY_LEN];
	int ret;

	ret = hkdf_extract(key, prk);
	if (!ret)
		ret = hkdf_expand(prk, info, infolen, out);
	OPENSSL_cleanse(prk, sizeof(prk));
	if (ret)
		OPENSSL_cleanse(out, GK_KEY_LEN);
	return ret;
}

static int hkdf(const uint8_t *key, const char *label, uint8_t out[GK_KEY_LEN])
{
	return hkdf_info(key, label, strlen(label), out);
}

int gk_hkdf(const uint8_t key[GK_KEY_LEN], const char *label, uint8_t out[GK_KEY_LEN])
{
	if (!key || !label || !out)
		return -EINVAL;
	return hkdf(key, label, out);
}

int gk_esp_key_derive(const uint8_t k[GK_KEY_LEN], bool uplink, uint32_t spi,
                      uint8_t out[GK_ESP_KEY_LEN])
{
	/* info = label || be32(spi); the second expand block is HMAC(PRK, T1 || info || 0x02) */
	uint8_t info[16], prk[GK_KEY_LEN], t1[GK_KEY_LEN], t2[GK_KEY_LEN];
	const char *label = uplink ? "esp-uplink" : "esp-downlink";
	size_t n = strlen(label);
	int ret;

	if (!k || !out)
		return -EINVAL;
	memcpy(info, label, n);
	info[n] = (uint8_t)(spi >> 24);
	info[n + 1] = (uint8_t)(spi >> 16);
	info[n + 2] = (uint8_t)(spi >> 8);
	info[n + 3] = (uint8_t)spi;
	n += 4;
	ret = hkdf_extract(k, prk);
	if (!ret)
		ret = hkdf_expand(prk, info, n, t1);
	if (!ret) {
		uint8_t in[GK_KEY_LEN + sizeof(info) + 1];

		memcpy(in, t1, sizeof(t1));
		memcpy(in + sizeof(t1), info, n);
		in[sizeof(t1) + n] = 0x02;
		ret = hmac2(prk, sizeof(prk), in, sizeof(t1) + n + 1, NULL, 0, t2);
		OPENSSL_cleanse(in, sizeof(in));
	}
	if (!ret) {
		memcpy(out, t1, GK_KEY_LEN);
		memcpy(out + GK_KEY_LEN, t2, GK_ESP_KEY_LEN - GK_KEY_LEN);
	} else {
		OPENSSL_cleanse(out, GK_ESP_KEY_LEN);
	}
	OPENSSL_cleanse(prk, sizeof(prk));
	OPENSSL_cleanse(t1, sizeof(t1));
	OPENSSL_cleanse(t2, sizeof(t2));
	return ret;
}

/* Starts the stream HMAC keyed with HKDF(key, label); the subkey only lives inside this call. */
static int hmac_start(const uint8_t key[GK_KEY_LEN], const char *label)
{
	uint8_t sub[GK_KEY_LEN];
	int err = hkdf(key, label, sub);

	if (!err && !hmac_begin(&hmac_stream, sub, sizeof(sub)))
		err = -EIO;
	OPENSSL_cleanse(sub, sizeof(sub));
	return err;
}

int gk_auth_compute(const uint8_t kc[GK_KEY_LEN], const uint8_t rand[GK_RAND_LEN], const char *idc,
                    uint8_t out[GK_AUTH_LEN])
{
	uint8_t lr[2], li[2];
	size_t idlen;
	bool ok;
	int err;

	if (!kc || !rand || !idc || !out)
		return -EINVAL;
	idlen = strlen(idc);
	if (idlen > LP_MAX)
		return -EINVAL;
	err = hmac_start(kc, "auth");
	if (err)
		return err;
	be16(lr, GK_RAND_LEN);
	be16(li, idlen);
	ok = hmac_update(&hmac_stream, lr, 2) && hmac_update(&hmac_stream, rand, GK_RAND_LEN) &&
	     hmac_update(&hmac_stream, li, 2) && hmac_update(&hmac_stream, idc, idlen);
	return hmac_end(&hmac_stream, ok, out);
}

static bool role_valid(enum gk_role role)
{
	return role == GK_ROLE_TERMINAL || role == GK_ROLE_SBC || role == GK_ROLE_SOFTSWITCH;
}

/* AAD = ver || lp(IDc) || lp(IDsp) || lp(Rand) || role, fed in pieces: GCM accepts that. */
static bool gcm_aad(EVP_CIPHER_CTX *c, const char *idc, size_t idclen, const char *idsp,
                    size_t idsplen, const uint8_t rand[GK_RAND_LEN], enum gk_role role)
{
	uint8_t head[3], mid[2], tail[2 + GK_RAND_LEN + 1];
	int n;

	head[0] = GK_BLOB_VERSION;
	be16(head + 1, idclen);
	be16(mid, idsplen);
	be16(tail, GK_RAND_LEN);
	memcpy(tail + 2, rand, GK_RAND_LEN);
	tail[2 + GK_RAND_LEN] = (uint8_t)role;
	return EVP_CipherUpdate(c, NULL, &n, head, sizeof(head)) == 1 &&
	       (!idclen || EVP_CipherUpdate(c, NULL, &n, (const uint8_t *)idc, (int)idclen) == 1) &&
	       EVP_CipherUpdate(c, NULL, &n, mid, sizeof(mid)) == 1 &&
	       (!idsplen ||
	        EVP_CipherUpdate(c, NULL, &n, (const uint8_t *)idsp, (int)idsplen) == 1) &&
	       EVP_CipherUpdate(c, NULL, &n, tail, sizeof(tail)) == 1;
}

/*
 * The key that wraps one blob: HKDF(X, info = "wrap" || lp(Rand)). One key per long-term key and
 * Rand, not per long-term key: AES-GCM with random 96-bit IVs is good for 2^32 encryptions under
 * one key (SP 800-38D §8.3), and a fixed HKDF(Ksp,"wrap") would reach that after about 30 hours
 * of registrations at 40k/s. Rand is fresh for every vector, and the AuC wraps K once under each
 * of two long-term keys (Kc and the element's), so each derived key wraps one blob. The IV stays
 * random: it costs nothing and keeps the blob layout.
 */
static int wrap_key(const uint8_t longterm[GK_KEY_LEN], const uint8_t rand[GK_RAND_LEN],
                    uint8_t wk[GK_KEY_LEN])
{
	static const char label[] = "wrap";
	uint8_t info[sizeof(label) - 1 + 2 + GK_RAND_LEN];

	memcpy(info, label, sizeof(label) - 1);
	be16(info + sizeof(label) - 1, GK_RAND_LEN);
	memcpy(info + sizeof(label) - 1 + 2, rand, GK_RAND_LEN);
	return hkdf_info(longterm, info, sizeof(info), wk);
}

static int wrap_args(const uint8_t *longterm, const uint8_t *blob, const char *idc,
                     const char *idsp, const uint8_t *rand, enum gk_role role, const uint8_t *k,
                     size_t *idclen, size_t *idsplen)
{
	if (!longterm || !blob || !idc || !idsp || !rand || !k || !role_valid(role))
		return -EINVAL;
	*idclen = strlen(idc);
	*idsplen = strlen(idsp);
	if (*idclen > LP_MAX || *idsplen > LP_MAX)
		return -EINVAL;
	return 0;
}

int gk_key_wrap(const uint8_t longterm[GK_KEY_LEN], const uint8_t k[GK_KEY_LEN], const char *idc,
                const char *idsp, const uint8_t rand[GK_RAND_LEN], enum gk_role role,
                uint8_t blob[GK_BLOB_LEN])
{
	uint8_t wk[GK_KEY_LEN], *iv, *ct, *tag;
	size_t idclen, idsplen;
	EVP_CIPHER_CTX *c;
	int n = 0, fin = 0;
	int ret;

	ret = wrap_args(longterm, blob, idc, idsp, rand, role, k, &idclen, &idsplen);
	if (ret < 0)
		return ret;
	iv = blob + 1;
	ct = iv + GK_IV_LEN;
	tag = ct + GK_KEY_LEN;
	ret = wrap_key(longterm, rand, wk);
	if (ret < 0)
		return ret;
	ret = gk_random(iv, GK_IV_LEN);
	if (ret < 0)
		goto out;
	blob[0] = GK_BLOB_VERSION;
	ret = -EIO;
	c = EVP_CIPHER_CTX_new();
	if (!c)
		goto out;
	if (EVP_EncryptInit_ex2(c, gk.gcm, wk, iv, NULL) == 1 &&
	    gcm_aad(c, idc, idclen, idsp, idsplen, rand, role) &&
	    EVP_EncryptUpdate(c, ct, &n, k, GK_KEY_LEN) == 1 && n == GK_KEY_LEN &&
	    EVP_EncryptFinal_ex(c, ct + n, &fin) == 1 && fin == 0 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, GK_GCM_TAG_LEN, tag) == 1)
		ret = 0;
	EVP_CIPHER_CTX_free(c);
out:
	OPENSSL_cleanse(wk, sizeof(wk));
	if (ret < 0)
		OPENSSL_cleanse(blob, GK_BLOB_LEN);
	return ret;
}

int gk_key_unwrap(const uint8_t longterm[GK_KEY_LEN], const uint8_t blob[GK_BLOB_LEN],
                  const char *idc, const char *idsp, const uint8_t rand[GK_RAND_LEN],
                  enum gk_role role, uint8_t k[GK_KEY_LEN])
{
	uint8_t wk[GK_KEY_LEN], pt[GK_KEY_LEN], tag[GK_GCM_TAG_LEN];
	const uint8_t *iv, *ct;
	size_t idclen, idsplen;
	EVP_CIPHER_CTX *c;
	int n = 0, fin = 0;
	int ret;

	if (k)
		memset(k, 0, GK_KEY_LEN);
	ret = wrap_args(longterm, blob, idc, idsp, rand, role, k, &idclen, &idsplen);
	if (ret < 0)
		return ret;
	/* The version is in the AAD too; refusing early just saves the work. */
	if (blob[0] != GK_BLOB_VERSION)
		return -EBADMSG;
	iv = blob + 1;
	ct = iv + GK_IV_LEN;
	ret = wrap_key(longterm, rand, wk);
	if (ret < 0)
		return ret;
	memcpy(tag, ct + GK_KEY_LEN, sizeof(tag)); /* SET_TAG wants a writable buffer */
	ret = -EIO;
	c = EVP_CIPHER_CTX_new();
	if (!c)
		goto out;
	if (EVP_DecryptInit_ex2(c, gk.gcm, wk, iv, NULL) == 1 &&
	    gcm_aad(c, idc, idclen, idsp, idsplen, rand, role) &&
	    EVP_DecryptUpdate(c, pt, &n, ct, GK_KEY_LEN) == 1 && n == GK_KEY_LEN &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, GK_GCM_TAG_LEN, tag) == 1)
		ret = EVP_DecryptFinal_ex(c, pt + n, &fin) == 1 && fin == 0 ? 0 : -EBADMSG;
	EVP_CIPHER_CTX_free(c);
	if (ret == 0)
		memcpy(k, pt, GK_KEY_LEN);
out:
	OPENSSL_cleanse(pt, sizeof(pt));
	OPENSSL_cleanse(wk, sizeof(wk));
	return ret;
}

int gk_response_mac(const uint8_t k[GK_KEY_LEN], const uint8_t *data, size_t len,
                    uint8_t mac[GK_MAC_LEN])
{
	int err;

	if (!k || (!data && len) || !mac)
		return -EINVAL;
	err = hmac_start(k, "response");
	if (err)
		return err;
	return hmac_end(&hmac_stream, hmac_update(&hmac_stream, data, len), mac);
}

int gk_response_mac_verify(const uint8_t k[GK_KEY_LEN], const uint8_t *data, size_t len,
                           const uint8_t mac[GK_MAC_LEN])
{
	uint8_t want[GK_MAC_LEN];
	int ret;

	if (!mac)
		return -EINVAL;
	ret = gk_response_mac(k, data, len, want);
	if (ret == 0 && CRYPTO_memcmp(want, mac, GK_MAC_LEN) != 0)
		ret = -EBADMSG;
	OPENSSL_cleanse(want, sizeof(want));
	return ret;
}

int gk_pkt_keys_derive(const uint8_t k[GK_KEY_LEN], struct gk_pkt_keys *out)
{
	uint8_t prk[GK_KEY_LEN], up[GK_KEY_LEN], down[GK_KEY_LEN];
	int ret;

	if (!k || !out)
		return -EINVAL;
	/* Both directions expand the same PRK: one extract, not two. */
	ret = hkdf_extract(k, prk);
	if (ret == 0)
		ret = hkdf_expand(prk, "uplink", strlen("uplink"), up);
	if (ret == 0)
		ret = hkdf_expand(prk, "downlink", strlen("downlink"), down);
	OPENSSL_cleanse(prk, sizeof(prk));
	if (ret == 0) {
		memcpy(out->uplink, up, GK_SIPKEY_LEN);
		memcpy(out->downlink, down, GK_SIPKEY_LEN);
	} else {
		OPENSSL_cleanse(out, sizeof(*out));
	}
	OPENSSL_cleanse(up, sizeof(up));
	OPENSSL_cleanse(down, sizeof(down));
	return ret;
}

/*
 * Runs per datagram, so the context is kept and re-keyed instead of duplicated. It keeps the
 * state of the last key used; direction keys live in the registrar's table for as long as the
 * registration anyway, so that residue does not widen their exposure.
 */
int gk_siphash128(const uint8_t key[GK_SIPKEY_LEN], const void *a, size_t alen, const void *b,
                  size_t blen, uint8_t tag[GK_PKT_TAG_LEN])
{
	size_t n = 0;

	if (!key || !tag || (!a && alen) || (!b && blen))
		return -EINVAL;
	if (!sip_ctx) {
		size_t size = GK_PKT_TAG_LEN;
		OSSL_PARAM p[] = {
		    OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
		    OSSL_PARAM_construct_end(),
		};
		if (gk_crypto_init() < 0)
			return -EIO;
		sip_ctx = EVP_MAC_CTX_new(gk.siphash);
		if (!sip_ctx)
			return -EIO;
		if (EVP_MAC_CTX_set_params(sip_ctx, p) != 1) {
			EVP_MAC_CTX_free(sip_ctx);
			sip_ctx = NULL;
			return -EIO;
		}
	}
	if (EVP_MAC_init(sip_ctx, key, GK_SIPKEY_LEN, NULL) != 1 ||
	    (alen && EVP_MAC_update(sip_ctx, a, alen) != 1) ||
	    (blen && EVP_MAC_update(sip_ctx, b, blen) != 1) ||
	    EVP_MAC_final(sip_ctx, tag, &n, GK_PKT_TAG_LEN) != 1 || n != GK_PKT_TAG_LEN) {
		OPENSSL_cleanse(tag, GK_PKT_TAG_LEN);
		return -EIO;
	}
	return 0;
}

void gk_fingerprint(const uint8_t k[GK_KEY_LEN], char out[GK_FPR_HEX_LEN + 1])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!out)
		return;
	out[0] = '\0';
	if (!k || gk_crypto_init() < 0)
		return;
	if (EVP_Digest(k, GK_KEY_LEN, md, &n, gk.sha256, NULL) == 1 && n >= GK_FPR_HEX_LEN / 2)
		gk_hex_encode(md, GK_FPR_HEX_LEN / 2, out);
	OPENSSL_cleanse(md, sizeof(md));
}

/*
 * Hex is used for keys in configuration and the key store, so both directions avoid table
 * lookups and branches on the data.
 */
static char hex_digit(unsigned int x)
{
	/* x < 10: (9 - x) >> 8 is 0; x >= 10: the wrapped difference has bits above 8 set. */
	return (char)(x + '0' + (((9u - x) >> 8) & ('a' - '0' - 10)));
}

void gk_hex_encode(const uint8_t *in, size_t len, char *out)
{
	if (!out)
		return;
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex_digit(in[i] >> 4);
		out[2 * i + 1] = hex_digit(in[i] & 0xf);
	}
	out[2 * len] = '\0';
}

void gk_hex_encode_u64(uint64_t v, char out[17])
{
	for (int i = 15; i >= 0; i--, v >>= 4)
		out[i] = hex_digit(v & 0xf);
	out[16] = '\0';
}

/* Returns the nibble value, and sets *bad when c is not a hex digit. */
static unsigned int hex_value(unsigned char c, unsigned int *bad)
{
	unsigned int d = (unsigned int)c - '0';
	unsigned int l = ((unsigned int)c | 0x20) - 'a';
	unsigned int is_d = d < 10;
	unsigned int is_l = l < 6;

	*bad |= (is_d | is_l) ^ 1;
	return (d & -is_d) | ((l + 10) & -is_l);
}

int gk_hex_decode(const char *in, size_t inlen, uint8_t *out, size_t outcap)
{
	unsigned int bad = 0;
	size_t n = inlen / 2;

	if ((!in && inlen) || (!out && n) || inlen % 2 || n > outcap || n > INT_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned int hi = hex_value((unsigned char)in[2 * i], &bad);
		unsigned int lo = hex_value((unsigned char)in[2 * i + 1], &bad);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	if (bad) {
		OPENSSL_cleanse(out, n);
		return -EINVAL;
	}
	return (int)n;
}
