/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * HTTP digest authentication (RFC 7616, RFC 8760 for SIP, RFC 3261 §22) for terminals that do
 * not speak GK1: DESIGN §5 requires that a plain SIP phone or SIPp can register with the
 * `digest` mechanism. Primitives only; parsing the Authorization header and choosing the
 * mechanism belong to the codec and the exchange.
 *
 * What the server stores is HA1 = H(username ":" realm ":" password) as lower-case hex, never the
 * password; every function below that needs the secret takes that HA1. For the "-sess"
 * algorithms the session HA1, H(HA1 ":" nonce ":" cnonce), is computed here from it.
 *
 * Response (RFC 7616 §3.4.1), HA2 = H(method ":" uri):
 *   qop=auth:  H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2)
 *   no qop:    H(HA1 ":" nonce ":" HA2)  (RFC 2069; some old UAs still answer this way)
 * qop=auth-int and userhash=true are not supported: SIP phones do not need them, and auth-int
 * would need the body here.
 *
 * Digest password of a gatekey subscriber (a sixth HKDF label next to the five of DESIGN §4:
 * "auth", "wrap" (followed by Rand, see crypto.h), "response", "uplink", "downlink", and now
 * "digest"):
 *   password = lower-case hex of the first 16 bytes of HKDF-SHA-256(Kc, info = "digest")
 * (empty salt, as every gk1 HKDF, see crypto.h). So a subscriber provisioned for GK1 can also
 * configure an ordinary phone without a second secret, and the phone's password reveals nothing
 * about Kc or the other subkeys. The username is IDc and the realm IDsp.
 *
 * Stateless nonces, so a softswitch can check a nonce it issued without remembering it:
 *   nonce = base64url, no padding, of ts(8, big endian) || R(12 random bytes)
 *           || first 16 bytes of HMAC-SHA-256(key, ts || R)
 *   -> 36 bytes, GK_DIGEST_NONCE_LEN = 48 characters, only [A-Za-z0-9_-], so it needs no
 *   escaping inside the quoted nonce parameter. The key is a 32-byte server secret used for
 *   nothing else; every softswitch that may see the answer to a challenge must share it. Replay
 *   within max_age is not prevented here: the caller tracks nc per nonce if it cares. ts is
 *   the caller's clock in whatever unit it passes to both make and check (the core uses
 *   milliseconds, so that nonces issued one after the other are ordered by ts).
 *
 * A registrar checking an Authorization header: gk_digest_alg_parse() (-ENOTSUP: challenge
 * again), gk_digest_nonce_check() (-EBADMSG: challenge again; -ESTALE: verify anyway, and if the
 * response is right answer 401 with stale=true so the UA retries without asking its user), then
 * gk_digest_verify() with the HA1 stored for username and realm.
 *
 * Every function returns 0 or a negative errno unless its comment says otherwise:
 *   -EINVAL  NULL, empty where a value is required, a field longer than GK_DIGEST_FIELD_MAX
 *            bytes (or without a NUL within that), HA1 or nc that is not hex of the right length
 *   -ENOTSUP algorithm unknown or not provided by this OpenSSL (MD5 in FIPS mode), qop not "auth"
 *   -EIO     OpenSSL failed
 */
#ifndef GATEKEY_DIGEST_H
#define GATEKEY_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GK_DIGEST_FIELD_MAX     256 /* bytes of any string input, without the NUL */
#define GK_DIGEST_HEX_MAX       64  /* hex digits of the longest hash (SHA-256, SHA-512-256) */
#define GK_DIGEST_HEX_BUF       (GK_DIGEST_HEX_MAX + 1)
#define GK_DIGEST_NONCE_LEN     48 /* characters of a nonce from gk_digest_nonce_make() */
#define GK_DIGEST_NONCE_BUF     (GK_DIGEST_NONCE_LEN + 1)
#define GK_DIGEST_PW_LEN        32 /* hex characters of gk_digest_password() */
#define GK_DIGEST_PW_LABEL      "digest"
#define GK_DIGEST_NONCE_KEY_LEN 32

enum gk_digest_alg {
	GK_DIGEST_MD5 = 1,
	GK_DIGEST_SHA256 = 2,
	GK_DIGEST_SHA512_256 = 3, /* RFC 7616 "SHA-512-256", i.e. SHA-512/256 */
};

/*
 * Algorithm token from a challenge or an Authorization header: "MD5", "SHA-256", "SHA-512-256",
 * each optionally with "-sess", compared case-insensitively. tok need not be NUL-terminated; one
 * pair of surrounding double quotes is tolerated because some UAs quote the token. tok == NULL
 * means the parameter was absent, which RFC 7616 §3.3 defines as MD5. -EINVAL for an empty or
 * overlong token, -ENOTSUP for a well-formed token naming something else (e.g. "AKAv1-MD5"), so
 * the caller can answer with a fresh challenge instead of 400.
 */
int gk_digest_alg_parse(const char *tok, size_t len, enum gk_digest_alg *alg, bool *sess);

/* Canonical token for a challenge ("SHA-256-sess"), a static string; NULL for an unknown alg. */
const char *gk_digest_alg_name(enum gk_digest_alg alg, bool sess);

/* Hex digits of the hash (32 or 64), or -EINVAL. Output buffers need this + 1 bytes;
 * GK_DIGEST_HEX_BUF always suffices. */
int gk_digest_hex_len(enum gk_digest_alg alg);

/* true when this OpenSSL provides alg, so a server can leave it out of its challenges. */
bool gk_digest_alg_available(enum gk_digest_alg alg);

/* out_hex = lower-case hex of H(user ":" realm ":" password). user, realm and password may be
 * empty. */
int gk_digest_ha1(enum gk_digest_alg alg, const char *user, const char *realm, const char *password,
                  char out_hex[GK_DIGEST_HEX_BUF]);

/*
 * The response a UA should send. ha1_hex: the stored (non-session) HA1, either case. qop:
 * "auth" (case-insensitive, hashed as given) or NULL for the RFC 2069 form. nc (exactly 8 hex
 * digits) and cnonce (non-empty) are required with a qop, cnonce also with sess; otherwise they
 * are ignored and may be NULL. nonce, method and uri must be non-empty; all of them are hashed
 * exactly as they appeared on the wire (the uri is the digest "uri" parameter, not the
 * Request-URI).
 */
int gk_digest_response(enum gk_digest_alg alg, bool sess, const char *ha1_hex, const char *nonce,
                       const char *nc, const char *cnonce, const char *qop, const char *method,
                       const char *uri, char out_hex[GK_DIGEST_HEX_BUF]);

/*
 * true when response_hex (either case, exactly gk_digest_hex_len(alg) digits) is the response
 * for these inputs; compared in constant time. The one function here that does not return an
 * errno: any invalid input, non-hex response included, is simply false. Call
 * gk_digest_response() first if the reason matters.
 */
bool gk_digest_verify(enum gk_digest_alg alg, bool sess, const char *ha1_hex, const char *nonce,
                      const char *nc, const char *cnonce, const char *qop, const char *method,
                      const char *uri, const char *response_hex);

/* A fresh nonce stamped with now_s (seconds, any epoch the caller also uses for checking). */
int gk_digest_nonce_make(const uint8_t key[GK_DIGEST_NONCE_KEY_LEN], uint64_t now_s,
                         char out[GK_DIGEST_NONCE_BUF]);

/*
 * 0 when nonce was made with key and is at most max_age_s old; -ESTALE when it was made with key
 * but is older (answer 401 with stale=true: the password was right), or stamped more than
 * max_age_s in the future (a clock stepped back); -EBADMSG when it was not made with key, or is
 * not a nonce at all; -EINVAL for NULL arguments. The MAC is checked before the age, so a forged
 * nonce never earns stale=true.
 */
int gk_digest_nonce_check(const uint8_t key[GK_DIGEST_NONCE_KEY_LEN], const char *nonce,
                          uint64_t now_s, uint32_t max_age_s);
/* When a nonce of gk_digest_nonce_make() was issued (its ts, in the caller's unit), for a caller
 * that checked it with gk_digest_nonce_check() and keeps per-nonce state (nc) for as long as it
 * may be answered. */
int gk_digest_nonce_issued(const char *nonce, uint64_t *ts_s);

/* out = the subscriber's digest password derived from Kc (see the top of this file), 32
 * lower-case hex characters and a NUL. */
int gk_digest_password(const uint8_t kc[32], char out[GK_DIGEST_PW_LEN + 1]);

#endif
