/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SipHash-2-4, written once for the XDP program and for userspace. Two uses:
 *  - the gk-mac tag, SipHash-2-4 with its 128-bit output (gk_siphash_init, _word, _final128),
 *    which fastpath.h runs over a datagram in the kernel and in the userspace fast path alike;
 *  - hash tables whose keys come from the network (IDc in lib/runtime/idmap.c, source addresses
 *    in lib/runtime/addrmap.c), SipHash's original 64-bit output (gk_siphash64, userspace only).
 *    An unkeyed hash (FNV) lets anyone who can choose names compute which names share a bucket
 *    and send thousands of them, so that every lookup walks one long chain. Keyed with 16 random
 *    bytes per table, SipHash is a PRF: from outside, where a name lands is unpredictable, and it
 *    differs from table to table and from run to run.
 *
 * Why in three steps: the XDP program feeds the rounds words straight from the packet, the rest
 * from a buffer. Why freestanding (kernel types, no libc, always inlined): the BPF program
 * compiles this file. The 64-bit mode differs from the 128-bit one only in two domain constants
 * (v1 ^= 0xee at the start, v2 ^= 0xee instead of 0xff before finalisation) and in stopping after
 * one output word. tests/unit/test_idmap.c checks it against the paper's test vectors and
 * OpenSSL's EVP_MAC "SIPHASH" (size 8), tests/unit/test_crypto.c the 128-bit mode.
 *
 * Why not OpenSSL's EVP_MAC for the tables: a fetch, an init with the key and a final per lookup
 * cost far more than hashing a 10-byte name, and this runs once per registration message.
 */
#ifndef GATEKEY_SIPHASH_H
#define GATEKEY_SIPHASH_H

#ifdef __bpf__
/* vmlinux.h (included by the BPF program first) provides the __u* types. */
#define GK_SIPHASH_INLINE static __always_inline
#else
#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>
#define GK_SIPHASH_INLINE static inline __attribute__((always_inline))
#endif

GK_SIPHASH_INLINE __u64 gk_ld64le(const __u8 *p)
{
	__u64 v;
#ifdef __bpf__
	v = *(const __u64 *)p; /* callers pass 8-aligned scratch offsets */
#else
	__builtin_memcpy(&v, p, 8);
#endif
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

GK_SIPHASH_INLINE void gk_st64le(__u8 *p, __u64 v)
{
#if defined(__bpf__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	*(__u64 *)p = v; /* callers pass 8-aligned places (the scratch's tag) */
#else
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (__u8)v;
#endif
}

#define GK_SIPHASH_ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))
#define GK_SIPROUND(v0, v1, v2, v3)                                                                \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = GK_SIPHASH_ROTL(v1, 13);                                                      \
		v1 ^= v0;                                                                          \
		v0 = GK_SIPHASH_ROTL(v0, 32);                                                      \
		v2 += v3;                                                                          \
		v3 = GK_SIPHASH_ROTL(v3, 16);                                                      \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = GK_SIPHASH_ROTL(v3, 21);                                                      \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = GK_SIPHASH_ROTL(v1, 17);                                                      \
		v1 ^= v2;                                                                          \
		v2 = GK_SIPHASH_ROTL(v2, 32);                                                      \
	} while (0)

/* SipHash-2-4-128 in three steps, so that the XDP program can feed it words straight from the
 * packet (see gatekey.bpf.c) while everything else feeds it from a buffer. */
struct gk_siphash {
	__u64 v0, v1, v2, v3;
};

GK_SIPHASH_INLINE void gk_siphash_init(struct gk_siphash *s, const __u8 key[16])
{
	__u64 k0 = gk_ld64le(key), k1 = gk_ld64le(key + 8);

	s->v0 = k0 ^ 0x736f6d6570736575ull;
	s->v1 = k1 ^ 0x646f72616e646f6dull ^ 0xee;
	s->v2 = k0 ^ 0x6c7967656e657261ull;
	s->v3 = k1 ^ 0x7465646279746573ull;
}

/* One 8-byte message word, little-endian. */
GK_SIPHASH_INLINE void gk_siphash_word(struct gk_siphash *s, __u64 m)
{
	s->v3 ^= m;
	GK_SIPROUND(s->v0, s->v1, s->v2, s->v3);
	GK_SIPROUND(s->v0, s->v1, s->v2, s->v3);
	s->v0 ^= m;
}

/* last: the final 0..7 bytes, little-endian, with the total length in its top byte. */
GK_SIPHASH_INLINE void gk_siphash_final128(struct gk_siphash *s, __u64 last, __u8 out[16])
{
	gk_siphash_word(s, last);
	s->v2 ^= 0xee;
	for (int i = 0; i < 4; i++)
		GK_SIPROUND(s->v0, s->v1, s->v2, s->v3);
	gk_st64le(out, s->v0 ^ s->v1 ^ s->v2 ^ s->v3);
	s->v1 ^= 0xdd;
	for (int i = 0; i < 4; i++)
		GK_SIPROUND(s->v0, s->v1, s->v2, s->v3);
	gk_st64le(out + 8, s->v0 ^ s->v1 ^ s->v2 ^ s->v3);
}

#ifndef __bpf__

#define GK_SIPHASH_KEY_LEN 16

static inline uint64_t gk_siphash64(const uint8_t key[GK_SIPHASH_KEY_LEN], const void *in,
                                    size_t len)
{
	const uint8_t *p = in;
	uint64_t last = (uint64_t)len << 56;
	struct gk_siphash s;
	size_t i;

	gk_siphash_init(&s, key);
	s.v1 ^= 0xee; /* back to the 64-bit mode's initial state */
	for (i = 0; i + 8 <= len; i += 8)
		gk_siphash_word(&s, gk_ld64le(p + i));
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
	gk_siphash_word(&s, last);
	s.v2 ^= 0xff;
	for (int r = 0; r < 4; r++)
		GK_SIPROUND(s.v0, s.v1, s.v2, s.v3);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

#endif /* !__bpf__ */

#endif
