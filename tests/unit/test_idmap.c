// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ID map's keyed hash (lib/runtime/idmap.c, include/gatekey/crypto/siphash.h). The security
 * review's finding (issue 12): the map that holds every IDc a REGISTER names hashed with unkeyed
 * FNV-1a, so an attacker could compute offline as many names as wanted sharing one bucket. Here:
 * gk_siphash64 is SipHash-2-4-64 (the paper's vectors, and OpenSSL's EVP_MAC "SIPHASH" of size 8
 * on every length up to 64 under random keys); two maps place the same names in different
 * buckets; 1000 names that all share one FNV-1a bucket spread over the keyed map like any
 * others; and the map keeps its contract at scale (add, find, remove, re-add, full).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "kselftest_harness.h"

#include "gatekey/crypto/crypto.h"
#include "gatekey/runtime/idmap.h"
#include "gatekey/crypto/siphash.h"

/* The SipHash paper (Aumasson, Bernstein 2012), appendix A and the reference implementation's
 * vectors_sip64: key 00 01 .. 0f, message 00 01 .. (len - 1). */
TEST(siphash64_paper_vectors)
{
	uint8_t key[16], msg[15];

	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	EXPECT_EQ(0x726fdb47dd0e0e31ull, gk_siphash64(key, msg, 0));
	EXPECT_EQ(0xa129ca6149be45e5ull, gk_siphash64(key, msg, 15));
}

static uint64_t openssl_siphash64(EVP_MAC *mac, const uint8_t key[16], const uint8_t *msg,
                                  size_t len)
{
	size_t size = 8, outl = 0;
	uint8_t out[8];
	uint64_t v = 0;
	OSSL_PARAM params[] = {OSSL_PARAM_size_t(OSSL_MAC_PARAM_SIZE, &size), OSSL_PARAM_END};
	EVP_MAC_CTX *c = EVP_MAC_CTX_new(mac);

	if (c && EVP_MAC_init(c, key, 16, params) == 1 && EVP_MAC_update(c, msg, len) == 1 &&
	    EVP_MAC_final(c, out, &outl, sizeof(out)) == 1 && outl == 8)
		for (int i = 7; i >= 0; i--)
			v = v << 8 | out[i]; /* OpenSSL writes the 64-bit result little-endian */
	EVP_MAC_CTX_free(c);
	return v;
}

TEST(siphash64_matches_openssl)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
	uint8_t key[16], msg[64];

	ASSERT_NE(NULL, mac);
	for (int round = 0; round < 16; round++) {
		ASSERT_EQ(0, gk_random(key, sizeof(key)));
		ASSERT_EQ(0, gk_random(msg, sizeof(msg)));
		for (size_t len = 0; len <= sizeof(msg); len++) {
			uint64_t want = openssl_siphash64(mac, key, msg, len);
			ASSERT_NE(0, want);
			/* unaligned input too: IDs sit anywhere in a datagram buffer */
			ASSERT_EQ(want, gk_siphash64(key, msg, len)) TH_LOG("length %zu", len);
			if (len < sizeof(msg)) {
				uint8_t shifted[sizeof(msg) + 1];
				memcpy(shifted + 1, msg, len);
				ASSERT_EQ(want, gk_siphash64(key, shifted + 1, len));
			}
		}
	}
	EVP_MAC_free(mac);
}

/* Each map draws its own key: the same names land in other buckets, so what an attacker learns
 * about one process (or one restart) says nothing about the next. */
TEST(buckets_differ_between_maps)
{
	struct gk_idmap *a = gk_idmap_new(4096), *b = gk_idmap_new(4096);
	char id[32];
	unsigned same = 0;

	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	for (int i = 0; i < 64; i++) {
		snprintf(id, sizeof(id), "alice%d", i);
		uint32_t ba = gk_idmap_bucket(a, id);
		EXPECT_EQ(ba, gk_idmap_bucket(a, id)); /* stable within a map */
		if (ba == gk_idmap_bucket(b, id))
			same++;
	}
	/* 64 names in 8192 buckets: one may share its bucket number by chance; four or more
	 * with probability ~1e-10. The unkeyed hash put all 64 in the same place. */
	EXPECT_LE(same, 3) TH_LOG("%u of 64 names in the same bucket in both maps", same);
	gk_idmap_free(a);
	gk_idmap_free(b);
}

/* The hash the map used before, as an attacker computes it. */
static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

#define N_ATTACK 1000

/* The attack: names that all fall in bucket 0 of any FNV-1a table of up to 8192 buckets, found
 * offline by brute force (about 8 million candidates). In the unkeyed map they formed one chain
 * of 1000, walked by every registration that named one of them; in the keyed map they are as
 * spread out as any 1000 names. */
TEST(fnv_colliding_names_spread_out)
{
	static char names[N_ATTACK][24];
	struct gk_idmap *m = gk_idmap_new(4096);
	uint16_t *chain;
	unsigned n = 0, longest = 0;
	int created;

	ASSERT_NE(NULL, m);
	for (uint32_t cand = 0; n < N_ATTACK; cand++) {
		char id[24];
		snprintf(id, sizeof(id), "x%u", cand);
		if ((fnv1a(id) & 8191) == 0)
			memcpy(names[n++], id, sizeof(id));
	}
	chain = calloc(8192, sizeof(*chain));
	ASSERT_NE(NULL, chain);
	for (unsigned i = 0; i < N_ATTACK; i++) {
		ASSERT_NE(0, gk_idmap_get_or_add(m, names[i], &created));
		ASSERT_EQ(1, created);
		uint32_t b = gk_idmap_bucket(m, names[i]);
		ASSERT_LT(b, 8192);
		if (++chain[b] > longest)
			longest = chain[b];
	}
	/* 1000 names in 8192 buckets: the longest chain exceeds 8 with probability ~1e-10. */
	EXPECT_LE(longest, 8) TH_LOG("longest chain %u", longest);
	for (unsigned i = 0; i < N_ATTACK; i++)
		EXPECT_STREQ(names[i], gk_idmap_id(m, gk_idmap_find(m, names[i])));
	free(chain);
	gk_idmap_free(m);
}

#define N_SCALE 200000

TEST(add_find_remove_at_scale)
{
	struct gk_idmap *m = gk_idmap_new(N_SCALE);
	uint32_t *slot = calloc(N_SCALE, sizeof(*slot));
	uint8_t *owner = calloc(N_SCALE + 1, 1);
	char id[32];
	int created;

	ASSERT_NE(NULL, m);
	ASSERT_NE(NULL, slot);
	ASSERT_NE(NULL, owner);
	for (uint32_t i = 0; i < N_SCALE; i++) {
		snprintf(id, sizeof(id), "sub%u@example.net", i);
		slot[i] = gk_idmap_get_or_add(m, id, &created);
		ASSERT_NE(0, slot[i]);
		ASSERT_EQ(1, created);
		ASSERT_EQ(0, owner[slot[i]]) TH_LOG("slot %u handed out twice", slot[i]);
		owner[slot[i]] = 1;
	}
	EXPECT_EQ(N_SCALE, gk_idmap_count(m));
	EXPECT_EQ(0, gk_idmap_get_or_add(m, "one-too-many", &created));
	for (uint32_t i = 0; i < N_SCALE; i++) {
		snprintf(id, sizeof(id), "sub%u@example.net", i);
		ASSERT_EQ(slot[i], gk_idmap_find(m, id));
		ASSERT_EQ(slot[i], gk_idmap_get_or_add(m, id, &created));
		ASSERT_EQ(0, created);
		ASSERT_STREQ(id, gk_idmap_id(m, slot[i]));
	}
	/* Remove every third; the others stay where they were. */
	for (uint32_t i = 0; i < N_SCALE; i += 3)
		gk_idmap_remove(m, slot[i]);
	EXPECT_EQ(N_SCALE - (N_SCALE + 2) / 3, gk_idmap_count(m));
	for (uint32_t i = 0; i < N_SCALE; i++) {
		snprintf(id, sizeof(id), "sub%u@example.net", i);
		ASSERT_EQ(i % 3 ? slot[i] : 0, gk_idmap_find(m, id));
	}
	/* New names take exactly the freed slots; then the map is full again. */
	memset(owner, 0, N_SCALE + 1);
	for (uint32_t i = 0; i < N_SCALE; i += 3)
		owner[slot[i]] = 1;
	for (uint32_t i = 0; i < N_SCALE; i += 3) {
		snprintf(id, sizeof(id), "new%u", i);
		uint32_t s = gk_idmap_get_or_add(m, id, &created);
		ASSERT_NE(0, s);
		ASSERT_EQ(1, owner[s]);
		owner[s] = 0;
	}
	EXPECT_EQ(N_SCALE, gk_idmap_count(m));
	EXPECT_EQ(0, gk_idmap_get_or_add(m, "one-too-many", &created));
	EXPECT_EQ(0, gk_idmap_find(m, "sub0@example.net"));
	EXPECT_EQ(slot[1], gk_idmap_find(m, "sub1@example.net"));
	free(owner);
	free(slot);
	gk_idmap_free(m);
}

TEST_HARNESS_MAIN
