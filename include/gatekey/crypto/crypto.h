/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Crypto suite "gk1" (DESIGN §4). Every primitive comes from OpenSSL 3 through EVP; this file
 * only fixes how they are combined: labels, field encodings, blob layout.
 *
 * Encodings (normative, the KATs in tests/unit/test_crypto.c pin them):
 *   HKDF:       HKDF-SHA-256, empty salt, IKM = long-term or session key, info = label bytes
 *               ("auth", "response", "uplink", "downlink"; the wrap key below adds Rand), L = 32.
 *   AUTH:       HMAC-SHA-256(HKDF(Kc,"auth"), lp(Rand) || lp(IDc)), lp(x) = be16(len(x)) || x.
 *   key blob:   ver(1)=0x02 || IV(12) || AES-256-GCM(WK, K)(32) || tag(16)
 *               WK = HKDF(X, "wrap" || lp(Rand)): a wrap key per registration, so no key comes
 *               near GCM's 2^32 random-IV limit (version 0x01, WK = HKDF(X,"wrap") for every
 *               Rand, is refused).
 *               AAD = ver || lp(IDc) || lp(IDsp) || lp(Rand) || role(1).
 *   s10 MAC:    HMAC-SHA-256(HKDF(K,"response"), canonical success bytes, see msg.h).
 *   packet MAC: SipHash-2-4 with 128-bit output, key = first 16 bytes of HKDF(K,"uplink") or
 *               HKDF(K,"downlink").
 *   fingerprint: first 8 bytes of SHA-256(K), lower-case hex.
 *   ESP key:    per SA of ipsec-3gpp, HKDF-SHA-256(K) as above but L = 36 (two expand blocks),
 *               info = "esp-uplink" or "esp-downlink" || be32(SPI): the AES-256 key, then the
 *               4-byte salt (RFC 4106 §8.1). Each SA its own key: two SAs under one key and salt
 *               would draw the same GCM nonces from their sequence numbers.
 */
#ifndef GATEKEY_CRYPTO_H
#define GATEKEY_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GK_KEY_LEN      32 /* Kc, Ksp, Kss, K and every HKDF subkey */
#define GK_RAND_LEN     16
#define GK_NONCE_LEN    16 /* N1, N2 */
#define GK_AUTH_LEN     32
#define GK_MAC_LEN      32 /* s10 response MAC */
#define GK_IV_LEN       12
#define GK_GCM_TAG_LEN  16
#define GK_BLOB_VERSION 0x02 /* 0x01 had one wrap key per long-term key */
#define GK_BLOB_LEN     (1 + GK_IV_LEN + GK_KEY_LEN + GK_GCM_TAG_LEN) /* 61 */
#define GK_SIPKEY_LEN   16
#define GK_PKT_TAG_LEN  16
#define GK_FPR_HEX_LEN  16 /* 8 bytes as hex, without the NUL */
#define GK_ESP_KEY_LEN  36 /* rfc4106(gcm(aes)): AES-256 key || salt(4) */

/* Recipient of a wrapped key; part of the AAD so a blob cannot be replayed to another role. */
enum gk_role {
	GK_ROLE_TERMINAL = 1,
	GK_ROLE_SBC = 2,
	GK_ROLE_SOFTSWITCH = 3,
};

/* Per-direction fast-path keys derived from a session key K. */
struct gk_pkt_keys {
	uint8_t uplink[GK_SIPKEY_LEN];   /* terminal -> network */
	uint8_t downlink[GK_SIPKEY_LEN]; /* network -> terminal */
};

/* All functions return 0 on success and a negative errno on failure (-EBADMSG for an
 * authentication failure, -EINVAL for bad arguments, -EIO for an OpenSSL failure). */

int gk_crypto_init(void); /* fetches algorithms once; optional, every call works without it */
int gk_random(void *out, size_t len);
bool gk_ct_equal(const void *a, const void *b, size_t len);
void gk_wipe(void *p, size_t len);

int gk_hkdf(const uint8_t key[GK_KEY_LEN], const char *label, uint8_t out[GK_KEY_LEN]);

/* The key of the ipsec-3gpp ESP SA that carries the terminal's datagrams to the network
 * (uplink) or the network's to the terminal, under the SPI its receiver chose. */
int gk_esp_key_derive(const uint8_t k[GK_KEY_LEN], bool uplink, uint32_t spi,
                      uint8_t out[GK_ESP_KEY_LEN]);

int gk_auth_compute(const uint8_t kc[GK_KEY_LEN], const uint8_t rand[GK_RAND_LEN], const char *idc,
                    uint8_t out[GK_AUTH_LEN]);

int gk_key_wrap(const uint8_t longterm[GK_KEY_LEN], const uint8_t k[GK_KEY_LEN], const char *idc,
                const char *idsp, const uint8_t rand[GK_RAND_LEN], enum gk_role role,
                uint8_t blob[GK_BLOB_LEN]);
int gk_key_unwrap(const uint8_t longterm[GK_KEY_LEN], const uint8_t blob[GK_BLOB_LEN],
                  const char *idc, const char *idsp, const uint8_t rand[GK_RAND_LEN],
                  enum gk_role role, uint8_t k[GK_KEY_LEN]);

int gk_response_mac(const uint8_t k[GK_KEY_LEN], const uint8_t *data, size_t len,
                    uint8_t mac[GK_MAC_LEN]);
/* 0 when the MAC matches (constant-time compare), -EBADMSG otherwise. */
int gk_response_mac_verify(const uint8_t k[GK_KEY_LEN], const uint8_t *data, size_t len,
                           const uint8_t mac[GK_MAC_LEN]);

int gk_pkt_keys_derive(const uint8_t k[GK_KEY_LEN], struct gk_pkt_keys *out);
/* SipHash-2-4-128 over the concatenation of two buffers (payload, trailer header). */
int gk_siphash128(const uint8_t key[GK_SIPKEY_LEN], const void *a, size_t alen, const void *b,
                  size_t blen, uint8_t tag[GK_PKT_TAG_LEN]);

/* out receives GK_FPR_HEX_LEN hex digits and a NUL. */
void gk_fingerprint(const uint8_t k[GK_KEY_LEN], char out[GK_FPR_HEX_LEN + 1]);

/* Helpers for text encodings of binary fields. hex_decode returns the byte count or -EINVAL. */
void gk_hex_encode(const uint8_t *in, size_t len, char *out /* 2*len+1 */);
/* v as 16 lower-case hex digits, most significant first (printf's %016llx, without printf). */
void gk_hex_encode_u64(uint64_t v, char out[17]);
int gk_hex_decode(const char *in, size_t inlen, uint8_t *out, size_t outcap);

#endif
