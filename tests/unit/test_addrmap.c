// SPDX-License-Identifier: GPL-2.0-only
/*
 * The address map's keyed hash (lib/runtime/addrmap.c). It hashed source addresses with unkeyed FNV
 * under linear probing, so whoever can register from addresses and ports of his choosing could
 * compute offline a set that all start at one slot: one cluster that every insert, and every
 * lookup of a spoofed source aimed at it, walks to the end. Here: 1000 addresses that share a
 * home slot under that FNV spread over the keyed map like any others; two maps place the same
 * addresses differently; and the map keeps its contract (put, find, del only while the value
 * matches, full, backward-shift deletion across the wrap-around) at scale and against a model.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"

#include "gatekey/runtime/addrmap.h"
#include "gatekey/crypto/crypto.h"

static void v4(struct sockaddr_storage *ss, uint32_t ip, uint16_t port)
{
	struct sockaddr_in *a = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	a->sin_addr.s_addr = htonl(ip);
}

static void v6(struct sockaddr_storage *ss, uint32_t low, uint16_t port)
{
	struct sockaddr_in6 *a = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	a->sin6_family = AF_INET6;
	a->sin6_port = htons(port);
	a->sin6_addr.s6_addr[0] = 0x20; /* 2001:db8::/32 */
	a->sin6_addr.s6_addr[1] = 0x01;
	a->sin6_addr.s6_addr[2] = 0x0d;
	a->sin6_addr.s6_addr[3] = 0xb8;
	memcpy(&a->sin6_addr.s6_addr[12], &low, 4);
}

/* The hash the map used before, as an attacker computes it (the port in network order). */
static uint32_t old_fnv(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *a = (const void *)ss;
	const uint8_t *p = (const uint8_t *)&a->sin_addr;
	uint32_t h = 2166136261u;

	h = (h ^ a->sin_port) * 16777619u;
	for (int i = 0; i < 4; i++)
		h = (h ^ p[i]) * 16777619u;
	return h ^ (h >> 15);
}

/* Linear probing occupies the same set of slots whatever the insertion order, so the longest
 * run of occupied slots (the longest walk of any lookup) follows from the home slots alone. */
static unsigned longest_cluster(const uint32_t *home, unsigned n, uint32_t slots)
{
	uint8_t *used = calloc(slots, 1);
	unsigned longest = 0, run = 0;

	if (!used)
		return ~0u;
	for (unsigned i = 0; i < n; i++) {
		uint32_t s = home[i];
		while (used[s])
			s = (s + 1) % slots;
		used[s] = 1;
	}
	/* two passes, so that a run across the wrap-around is counted whole */
	for (uint32_t i = 0; i < 2 * slots; i++) {
		run = used[i % slots] ? run + 1 : 0;
		if (run > longest)
			longest = run;
	}
	free(used);
	return longest < slots ? longest : slots;
}

#define N_ATTACK     1000
#define ATTACK_SLOTS 8192 /* a map for 4096 entries: twice as many slots, a power of two */

/* The attack: 1000 addresses from 198.18.0.0/15 with chosen ports, all at slot 0 of the old
 * hash (found by brute force among about 8 million). Under FNV they were one cluster of 1000:
 * every insert walked it, and so did each lookup of a spoofed source that hashed to its start.
 * Under the keyed map they are as spread out as any 1000 addresses. */
TEST(fnv_colliding_addresses_spread_out)
{
	static struct sockaddr_storage addr[N_ATTACK];
	static uint32_t home[N_ATTACK], old_home[N_ATTACK];
	struct gk_addrmap *m = gk_addrmap_new(4096, "addrs");
	unsigned n = 0;

	ASSERT_NE(NULL, m);
	ASSERT_EQ(ATTACK_SLOTS, gk_addrmap_slots(m));
	for (uint32_t c = 0; n < N_ATTACK; c++) {
		v4(&addr[n], 0xc6120000u | (c >> 16), (uint16_t)c);
		if ((old_fnv(&addr[n]) & (ATTACK_SLOTS - 1)) == 0)
			old_home[n++] = 0;
	}
	EXPECT_EQ(N_ATTACK, longest_cluster(old_home, N_ATTACK, ATTACK_SLOTS));
	for (unsigned i = 0; i < N_ATTACK; i++)
		ASSERT_EQ(0, gk_addrmap_put(m, &addr[i], i + 1));
	/* The map grows in steps, doubling when a new key would fill more than a quarter of it:
	 * 1000 keys live in 4096 of its 8192 slots (load 0.24), where a run of 42 has probability
	 * ~1e-9 ((0.24 e^0.76)^42 per start, 1000 starts). */
	for (unsigned i = 0; i < N_ATTACK; i++) {
		home[i] = gk_addrmap_bucket(m, &addr[i]);
		ASSERT_LT(home[i], ATTACK_SLOTS / 2);
	}
	unsigned longest = longest_cluster(home, N_ATTACK, ATTACK_SLOTS / 2);
	EXPECT_LE(longest, 42) TH_LOG("longest cluster %u", longest);
	for (unsigned i = 0; i < N_ATTACK; i++) {
		EXPECT_EQ(i + 1, gk_addrmap_find(m, &addr[i]));
	}
	gk_addrmap_free(m);
}

/* Each map draws its own key: what an attacker learns about one process (or one restart) says
 * nothing about the next, and sbcd's two maps (registrar, userspace fast path) differ too. */
TEST(buckets_differ_between_maps)
{
	struct gk_addrmap *a = gk_addrmap_new(4096, "addrs"), *b = gk_addrmap_new(4096, "addrs");
	struct sockaddr_storage ss;
	unsigned same = 0;

	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	for (uint32_t i = 0; i < 64; i++) {
		if (i % 2)
			v4(&ss, 0xc6120001u, (uint16_t)(5060 + i));
		else
			v6(&ss, i, 5060);
		uint32_t ba = gk_addrmap_bucket(a, &ss);
		EXPECT_EQ(ba, gk_addrmap_bucket(a, &ss)); /* stable within a map */
		if (ba == gk_addrmap_bucket(b, &ss))
			same++;
	}
	/* 64 addresses in 8192 slots: four or more in the same place by chance ~1e-10. */
	EXPECT_LE(same, 3) TH_LOG("%u of 64 addresses at the same slot in both maps", same);
	gk_addrmap_free(a);
	gk_addrmap_free(b);
}

/* What a slot stands for: family, address and port, all three, and nothing else. */
TEST(keys_are_family_address_and_port)
{
	struct gk_addrmap *m = gk_addrmap_new(16, "addrs");
	struct sockaddr_storage a, b, odd;
	struct sockaddr_in6 *a6 = (void *)&a;

	ASSERT_NE(NULL, m);
	v4(&a, 0xc6120001u, 5060);
	ASSERT_EQ(0, gk_addrmap_put(m, &a, 7));
	v4(&b, 0xc6120001u, 5061);
	EXPECT_EQ(0, gk_addrmap_find(m, &b));
	v4(&b, 0xc6120002u, 5060);
	EXPECT_EQ(0, gk_addrmap_find(m, &b));
	/* bytes of the sockaddr_storage beyond the address are not part of the key */
	v4(&b, 0xc6120001u, 5060);
	memset((uint8_t *)&b + sizeof(struct sockaddr_in), 0xa5,
	       sizeof(b) - sizeof(struct sockaddr_in));
	EXPECT_EQ(7, gk_addrmap_find(m, &b));
	/* ::ffff:198.18.0.1 is not 198.18.0.1, and ::c612:1 neither */
	memset(&a, 0, sizeof(a));
	a6->sin6_family = AF_INET6;
	a6->sin6_port = htons(5060);
	a6->sin6_addr.s6_addr[10] = a6->sin6_addr.s6_addr[11] = 0xff;
	memcpy(&a6->sin6_addr.s6_addr[12], "\xc6\x12\x00\x01", 4);
	EXPECT_EQ(0, gk_addrmap_find(m, &a));
	ASSERT_EQ(0, gk_addrmap_put(m, &a, 8));
	EXPECT_EQ(8, gk_addrmap_find(m, &a));
	EXPECT_EQ(7, gk_addrmap_find(m, &b));
	a6->sin6_addr.s6_addr[10] = a6->sin6_addr.s6_addr[11] = 0;
	EXPECT_EQ(0, gk_addrmap_find(m, &a));
	/* neither family: never stored, never found; 0 is the empty value, never stored */
	memset(&odd, 0, sizeof(odd));
	odd.ss_family = AF_UNIX;
	EXPECT_EQ(-1, gk_addrmap_put(m, &odd, 9));
	EXPECT_EQ(0, gk_addrmap_find(m, &odd));
	gk_addrmap_del(m, &odd, 9);
	v4(&b, 0xc6120003u, 5060);
	EXPECT_EQ(-1, gk_addrmap_put(m, &b, 0));
	EXPECT_EQ(0, gk_addrmap_find(m, &b));
	gk_addrmap_free(m);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 32);
}

#define MODEL_KEYS 24

/* A map of 16 slots (8 entries) against a plain array, under random put, replace, del with the
 * right and the wrong value, and find: the smallest table has the most wrap-around and the
 * longest shifts, where backward-shift deletion goes wrong if it ever does. */
TEST(small_map_matches_a_model)
{
	struct gk_addrmap *m = gk_addrmap_new(8, "addrs");
	struct sockaddr_storage addr[MODEL_KEYS];
	uint32_t model[MODEL_KEYS] = {0};
	unsigned count = 0;

	ASSERT_NE(NULL, m);
	ASSERT_EQ(16, gk_addrmap_slots(m));
	for (uint32_t i = 0; i < MODEL_KEYS; i++) {
		if (i % 3)
			v4(&addr[i], 0xc6120000u + i, (uint16_t)(5060 + i % 5));
		else
			v6(&addr[i], i, 5060);
	}
	for (int step = 0; step < 200000; step++) {
		uint32_t k = rng() % MODEL_KEYS, val = 1 + rng() % 1000;
		switch (rng() % 4) {
		case 0:
		case 1: {
			int want = model[k] || count < 8 ? 0 : -1;
			ASSERT_EQ(want, gk_addrmap_put(m, &addr[k], val)) TH_LOG("step %d", step);
			if (!want) {
				count += !model[k];
				model[k] = val;
			}
			break;
		}
		case 2: /* del with the stored value, or with another (a moved address) */
			if (model[k] && rng() % 2)
				val = model[k];
			gk_addrmap_del(m, &addr[k], val);
			if (model[k] == val) {
				model[k] = 0;
				count--;
			}
			break;
		default:
			break;
		}
		/* braces: the harness's ASSERT is two statements */
		for (uint32_t i = 0; i < MODEL_KEYS; i++) {
			ASSERT_EQ(model[i], gk_addrmap_find(m, &addr[i]))
			TH_LOG("step %d key %u", step, i);
		}
	}
	gk_addrmap_free(m);
}

#define N_SCALE 200000

static void scale_addr(struct sockaddr_storage *ss, uint32_t i)
{
	/* half IPv4 (a few hosts, many ports: terminals behind NAT), half IPv6 */
	if (i % 2)
		v4(ss, 0xc6120000u + i % 251, (uint16_t)(1024 + i / 2 % 64000));
	else
		v6(ss, i, (uint16_t)(5060 + i % 7));
}

TEST(add_find_del_at_scale)
{
	struct gk_addrmap *m = gk_addrmap_new(N_SCALE, "addrs");
	struct sockaddr_storage ss, extra;

	ASSERT_NE(NULL, m);
	for (uint32_t i = 0; i < N_SCALE; i++) {
		scale_addr(&ss, i);
		ASSERT_EQ(0, gk_addrmap_put(m, &ss, i + 1)) TH_LOG("address %u", i);
	}
	for (uint32_t i = 0; i < N_SCALE; i++) {
		scale_addr(&ss, i);
		ASSERT_EQ(i + 1, gk_addrmap_find(m, &ss));
	}
	/* Full to half its slots: no new address, but an address present can change terminal. */
	uint32_t room = gk_addrmap_slots(m) / 2 - N_SCALE, added = 0;
	for (uint32_t i = 0; i < room + 1; i++) {
		v6(&extra, 0x80000000u + i, 1);
		if (gk_addrmap_put(m, &extra, 1) == 0)
			added++;
	}
	EXPECT_EQ(room, added);
	scale_addr(&ss, 5);
	EXPECT_EQ(0, gk_addrmap_put(m, &ss, 4242));
	EXPECT_EQ(4242, gk_addrmap_find(m, &ss));
	gk_addrmap_del(m, &ss, 6); /* it moved: the old terminal's del leaves it */
	EXPECT_EQ(4242, gk_addrmap_find(m, &ss));
	EXPECT_EQ(0, gk_addrmap_put(m, &ss, 6));
	for (uint32_t i = 0; i < room; i++) {
		v6(&extra, 0x80000000u + i, 1);
		gk_addrmap_del(m, &extra, 1);
	}
	/* Delete every third; the others are still found wherever the shifts moved them. */
	for (uint32_t i = 0; i < N_SCALE; i += 3) {
		scale_addr(&ss, i);
		gk_addrmap_del(m, &ss, i + 1);
	}
	for (uint32_t i = 0; i < N_SCALE; i++) {
		scale_addr(&ss, i);
		ASSERT_EQ(i % 3 ? i + 1 : 0, gk_addrmap_find(m, &ss)) TH_LOG("address %u", i);
	}
	/* Back in, under new values; then delete all of them in another order. */
	for (uint32_t i = 0; i < N_SCALE; i += 3) {
		scale_addr(&ss, i);
		ASSERT_EQ(0, gk_addrmap_put(m, &ss, i + 2));
	}
	for (uint32_t i = N_SCALE; i-- > 0;) {
		scale_addr(&ss, i);
		ASSERT_EQ(i % 3 ? i + 1 : i + 2, gk_addrmap_find(m, &ss));
		gk_addrmap_del(m, &ss, i % 3 ? i + 1 : i + 2);
	}
	for (uint32_t i = 0; i < N_SCALE; i++) {
		scale_addr(&ss, i);
		ASSERT_EQ(0, gk_addrmap_find(m, &ss));
	}
	gk_addrmap_free(m);
}

TEST_HARNESS_MAIN
