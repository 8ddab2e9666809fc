// SPDX-License-Identifier: GPL-2.0-only
/* Tables that grow in steps (runtime/steps.h): a table starts with its first step resident and
 * the rest reserved only, each step doubles it, it never grows past its maximum and refuses there,
 * the entries it held survive every step at the same address, and what it held is wiped at the
 * end. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helper_pages.h"

#include "gatekey/runtime/steps.h"

struct ent {
	uint32_t index;
	uint8_t key[60];
};

TEST(grows_in_doubling_steps_and_never_past_its_maximum)
{
	struct gk_steps t;
	uint32_t expect = 1000, steps = 0;

	ASSERT_EQ(0, gk_steps_init(&t, "test", 100000, sizeof(struct ent), 1000));
	EXPECT_EQ(1000, t.cap);
	EXPECT_EQ(100000, t.max);
	while (t.cap < t.max) {
		uint32_t old = t.cap, first = gk_steps_grow(&t);

		ASSERT_EQ(old, first);
		expect = expect * 2 > 100000 ? 100000 : expect * 2;
		ASSERT_EQ(expect, t.cap);
		steps++;
	}
	/* 1000 -> 2000 -> ... -> 64000 -> 100000: ceil(log2(100000 / 1000)) steps. */
	EXPECT_EQ(7, steps);
	EXPECT_EQ(7, t.grows);
	EXPECT_EQ(0, t.failed);
	gk_steps_free(&t);
}

TEST(refuses_at_its_maximum)
{
	struct gk_steps t;

	ASSERT_EQ(0, gk_steps_init(&t, "test", 10, sizeof(struct ent), 4));
	EXPECT_EQ(0, gk_steps_reach(&t, 10));
	EXPECT_EQ(10, t.cap);
	EXPECT_EQ(0, gk_steps_grow(&t)); /* at max: no step */
	EXPECT_EQ(10, t.cap);
	EXPECT_EQ(-ENOSPC, gk_steps_reach(&t, 11));
	EXPECT_EQ(10, t.cap);
	EXPECT_EQ(0, t.failed); /* the maximum is not a shortage of memory */
	gk_steps_free(&t);

	/* A first step larger than the maximum is the maximum. */
	ASSERT_EQ(0, gk_steps_init(&t, "test", 3, sizeof(struct ent), 1000));
	EXPECT_EQ(3, t.cap);
	EXPECT_EQ(0, gk_steps_grow(&t));
	gk_steps_free(&t);
	EXPECT_EQ(-EINVAL, gk_steps_init(&t, "test", 0, sizeof(struct ent), 1));
}

TEST(reach_grows_only_as_far_as_asked)
{
	struct gk_steps t;

	ASSERT_EQ(0, gk_steps_init(&t, "test", 1u << 20, sizeof(struct ent), 256));
	EXPECT_EQ(0, gk_steps_reach(&t, 256)); /* already there */
	EXPECT_EQ(256, t.cap);
	EXPECT_EQ(0, gk_steps_reach(&t, 257));
	EXPECT_EQ(512, t.cap);
	EXPECT_EQ(0, gk_steps_reach(&t, 5000));
	EXPECT_EQ(8192, t.cap);
	EXPECT_EQ(5, t.grows);
	gk_steps_free(&t);
}

/* Entries keep their contents and their addresses across every step: owners hold pointers and
 * hand out indices. */
TEST(entries_survive_growth_in_place)
{
	struct gk_steps t;
	struct ent *e0, *e999;

	ASSERT_EQ(0, gk_steps_init(&t, "test", 1u << 18, sizeof(struct ent), 1000));
	for (uint32_t i = 0; i < t.cap; i++) {
		struct ent *e = gk_steps_at(&t, i);
		e->index = i;
		memset(e->key, (int)(i & 0xff), sizeof(e->key));
	}
	e0 = gk_steps_at(&t, 0);
	e999 = gk_steps_at(&t, 999);
	ASSERT_EQ(0, gk_steps_reach(&t, t.max));
	EXPECT_EQ(e0, gk_steps_at(&t, 0));
	EXPECT_EQ(e999, gk_steps_at(&t, 999));
	for (uint32_t i = 0; i < 1000; i++) {
		struct ent *e = gk_steps_at(&t, i);
		ASSERT_EQ(i, e->index);
		ASSERT_EQ(i & 0xff, e->key[59]);
	}
	/* What a step adds reads as zeros, as calloc's memory did. */
	for (uint32_t i = 1000; i < t.max; i += 977) {
		struct ent *e = gk_steps_at(&t, i);
		ASSERT_EQ(0, e->index);
		ASSERT_EQ(0, e->key[0]);
	}
	gk_steps_free(&t);
}

/* What is resident is the steps taken, not the maximum: 64 MiB reserved, 256 KiB resident, then
 * each step's pages resident before their first use. */
TEST(only_the_steps_taken_are_resident)
{
	struct gk_steps t;
	size_t page = (size_t)sysconf(_SC_PAGESIZE), in;

	ASSERT_EQ(0, gk_steps_init(&t, "test", (64u << 20) / 64, 64, (256u << 10) / 64));
	in = resident_pages(t.base, (size_t)t.max * t.size, NULL);
	TH_LOG("after the first step: %zu KiB of %u MiB resident", in * page / 1024,
	       (unsigned)(gk_steps_max_bytes(&t) >> 20));
	EXPECT_EQ((256u << 10) / page, in);
	ASSERT_EQ(0, gk_steps_reach(&t, t.cap + 1));
	EXPECT_EQ((512u << 10) / page, resident_pages(t.base, (size_t)t.max * t.size, NULL));
	EXPECT_EQ((512u << 10) / page, resident_pages(t.base, (size_t)t.cap * t.size, NULL));
	EXPECT_EQ((uint64_t)512 << 10, gk_steps_bytes(&t));
	gk_steps_free(&t);
}

/* Attached to a mapping the caller owns: the steps make it resident, freeing wipes what they
 * made resident and leaves the mapping to its owner. */
TEST(attached_tables_are_wiped_not_unmapped)
{
	size_t len = 1u << 20;
	uint8_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct gk_steps t;

	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(0, gk_steps_attach(&t, "attached", m, (uint32_t)(len / 64), 64, 16));
	EXPECT_EQ(16, t.cap);
	ASSERT_EQ(0, gk_steps_reach(&t, 100));
	EXPECT_EQ(128, t.cap);
	memset(m, 0xa5, 128 * 64);
	m[128 * 64] = 0x5a; /* past the steps: not wiped */
	gk_steps_free(&t);
	for (size_t i = 0; i < 128 * 64; i++)
		ASSERT_EQ(0, m[i]);
	EXPECT_EQ(0x5a, m[128 * 64]);
	EXPECT_EQ(NULL, t.base);
	munmap(m, len);
}

/* A freed table is empty, and freeing it again does nothing. */
TEST(free_is_idempotent)
{
	struct gk_steps t;

	ASSERT_EQ(0, gk_steps_init(&t, "test", 100, 32, 10));
	memset(gk_steps_at(&t, 0), 0xff, 10 * 32);
	gk_steps_free(&t);
	EXPECT_EQ(NULL, t.base);
	EXPECT_EQ(0, t.cap);
	gk_steps_free(&t);
}

TEST_HARNESS_MAIN
