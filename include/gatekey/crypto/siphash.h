/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SipHash-2-4 with its original 64-bit output, for hash tables whose keys come from the network
 * (IDc in lib/idmap.c, source addresses in lib/addrmap.c). An unkeyed hash (FNV) lets anyone
 * who can choose names compute which names share a bucket and send thousands of them, so that
 * every lookup walks one long chain.
 * Keyed with 16 random bytes per table, SipHash is a PRF: from outside, where a name lands is
 * unpredictable, and it differs from table to table and from run to run.
 *
 * Why not a second implementation: the rounds, the key schedule and the word absorption are
 * fastpath.h's (gk_fp_sip_*, also the XDP program's gk-mac tag). That code runs SipHash's
 * 128-bit mode; the 64-bit one differs only in two domain constants (v1 ^= 0xee at the start,
 * v2 ^= 0xee instead of 0xff before finalisation) and in stopping after one output word, which
 * is what is done here. tests/unit/test_idmap.c checks it against the paper's test vectors and
 * OpenSSL's EVP_MAC "SIPHASH" (size 8).
 *
 * Why not OpenSSL's EVP_MAC: a fetch, an init with the key and a final per lookup cost far more
 * than hashing a 10-byte name, and this runs once per registration message.
 */
#ifndef GATEKEY_SIPHASH_H
#define GATEKEY_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#include "gatekey/fastpath.h"

#define GK_SIPHASH_KEY_LEN 16

static inline uint64_t gk_siphash64(const uint8_t key[GK_SIPHASH_KEY_LEN], const void *in,
                                    size_t len)
{
	const uint8_t *p = in;
	uint64_t last = (uint64_t)len << 56;
	struct gk_fp_sip s;
	size_t i;

	gk_fp_sip_init(&s, key);
	s.v1 ^= 0xee; /* back to the 64-bit mode's initial state */
	for (i = 0; i + 8 <= len; i += 8)
		gk_fp_sip_word(&s, gk_fp_ld64le(p + i));
	switch (len & 7) {
	case 7:
		last |= (uint64_t)p[i + 6] << 48;
		__attribute__((fallthrough));
	case 6:
		last |= (uint64_t)p[i + 5] << 40;
		__attribute__((fallthrough));
	case 5:
		last |= (uint64_t)p[i + 4] << 32;
		__attribute__((fallthrough));
	case 4:
		last |= (uint64_t)p[i + 3] << 24;
		__attribute__((fallthrough));
	case 3:
		last |= (uint64_t)p[i + 2] << 16;
		__attribute__((fallthrough));
	case 2:
		last |= (uint64_t)p[i + 1] << 8;
		__attribute__((fallthrough));
	case 1:
		last |= (uint64_t)p[i];
		break;
	default:
		break;
	}
	gk_fp_sip_word(&s, last);
	s.v2 ^= 0xff;
	for (int r = 0; r < 4; r++)
		GK_FP_SIPROUND(s.v0, s.v1, s.v2, s.v3);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

#endif
