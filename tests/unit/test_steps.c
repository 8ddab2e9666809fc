// SPDX-License-Identifier: GPL-2.0-only
/* Tables that grow in steps (runtime/steps.h): a table starts with its first step resident and
 * the rest reserved only, each step doubles it, it never grows past its maximum and refuses there,
 * the entries it held survive every step at the same address, and what it held is wiped at the
 * end. Each live table is listed under its key with its peak, which explains its steps (what a
 * daemon's stats print and the soak checks), and a table of buffers keeps only their first page
 * resident. */
#include <errno.h>
#include <pthread.h>
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

/* Appends each live table's key and a space to the string at arg. */
static void list_keys(const struct gk_steps *t, void *arg)
{
	char *keys = arg;

	strcat(keys, t->key);
	strcat(keys, " ");
}

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

/* Once half full, a table's next step is made resident a budget at a time before it is needed
 * (the loop calls gk_steps_prepare between batches), and the step then finds it resident: a
 * whole step at once held sbcd's loop for 100-300 ms. Nothing is prepared for a table under
 * half full, and the bytes resident count what is prepared. */
TEST(the_next_step_is_prepared_once_half_full)
{
	struct gk_steps t;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	const size_t step = 1u << 20, budget = 256u << 10;

	ASSERT_EQ(0, gk_steps_init(&t, "test", (64u << 20) / 64, 64, step / 64));
	gk_steps_need(&t, t.cap / 2 - 1);
	while (gk_steps_prepare(budget))
		;
	EXPECT_EQ(t.cap, t.ready);
	EXPECT_EQ(step / page, resident_pages(t.base, (size_t)t.max * t.size, NULL));

	gk_steps_need(&t, t.cap / 2);
	EXPECT_EQ(budget, gk_steps_prepare(budget));
	EXPECT_EQ(t.cap + budget / 64, t.ready);
	EXPECT_EQ((step + budget) / page, resident_pages(t.base, (size_t)t.max * t.size, NULL));
	EXPECT_EQ((uint64_t)step + budget, gk_steps_bytes(&t));
	unsigned bites = 1;
	while (gk_steps_prepare(budget))
		bites++;
	EXPECT_EQ(step / budget, bites); /* the whole next step, and no more */
	EXPECT_EQ(2 * step / page, resident_pages(t.base, (size_t)t.max * t.size, NULL));
	EXPECT_EQ(step / 64, t.cap); /* prepared is not taken: the owner's capacity stays */

	/* The step takes what was prepared: nothing more becomes resident. */
	uint32_t old = t.cap;
	ASSERT_EQ(old, gk_steps_grow(&t));
	EXPECT_EQ(2 * old, t.cap);
	EXPECT_EQ(t.cap, t.ready);
	EXPECT_EQ(2 * step / page, resident_pages(t.base, (size_t)t.max * t.size, NULL));
	EXPECT_EQ((uint64_t)2 * step, gk_steps_bytes(&t));
	gk_steps_free(&t);
}

static void *make_half_full_table(void *arg)
{
	struct gk_steps *t = arg;

	if (gk_steps_init(t, "other_thread", 1024, 64, 16) == 0)
		gk_steps_need(t, 16);
	return NULL;
}

/* Tables belong to their thread's loop: one thread never prepares another's, which it may be
 * using at that very moment. */
TEST(a_thread_prepares_only_its_own_tables)
{
	struct gk_steps t;
	pthread_t th;

	ASSERT_EQ(0, pthread_create(&th, NULL, make_half_full_table, &t));
	ASSERT_EQ(0, pthread_join(th, NULL));
	ASSERT_NE(NULL, t.base);
	EXPECT_EQ(0, gk_steps_prepare(1u << 20));
	EXPECT_EQ(16, t.ready);
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

/* A detached table (the binding store closing its file) leaves what it held to the mapping's
 * owner, unwiped, and is no longer listed. */
TEST(detached_tables_keep_their_contents_and_leave_the_list)
{
	size_t len = 1u << 20;
	uint8_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct gk_steps t;
	char keys[256] = "";

	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(0, gk_steps_attach(&t, "kept", m, (uint32_t)(len / 64), 64, 16));
	memset(m, 0xa5, 16 * 64);
	gk_steps_each(list_keys, keys);
	EXPECT_NE(NULL, strstr(keys, "kept "));
	gk_steps_detach(&t);
	EXPECT_EQ(NULL, t.base);
	for (size_t i = 0; i < 16 * 64; i++)
		ASSERT_EQ(0xa5, m[i]);
	keys[0] = '\0';
	gk_steps_each(list_keys, keys);
	EXPECT_EQ(NULL, strstr(keys, "kept"));
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

/* Keys name a table in the stats (tables.<key>.*): snake_case, and short enough to be whole. */
TEST(keys_are_snake_case)
{
	struct gk_steps t;
	char long_key[GK_STEPS_KEY_MAX + 1];

	memset(long_key, 'a', sizeof(long_key) - 1);
	long_key[sizeof(long_key) - 1] = '\0';
	EXPECT_EQ(-EINVAL, gk_steps_init(&t, "", 10, 8, 1));
	EXPECT_EQ(-EINVAL, gk_steps_init(&t, NULL, 10, 8, 1));
	EXPECT_EQ(-EINVAL, gk_steps_init(&t, "relay slots", 10, 8, 1));
	EXPECT_EQ(-EINVAL, gk_steps_init(&t, "Relay", 10, 8, 1));
	EXPECT_EQ(-EINVAL, gk_steps_init(&t, "tables.relay", 10, 8, 1));
	EXPECT_EQ(-EINVAL, gk_steps_init(&t, long_key, 10, 8, 1));
	long_key[GK_STEPS_KEY_MAX - 1] = '\0';
	ASSERT_EQ(0, gk_steps_init(&t, long_key, 10, 8, 1));
	EXPECT_STREQ(long_key, t.key);
	gk_steps_free(&t);
	ASSERT_EQ(0, gk_steps_init(&t, "core_ids_2", 10, 8, 1));
	gk_steps_free(&t);
}

/* What the soak calls explained: a step is taken only once the peak is past the capacity before
 * it, first * 2^(steps - 1) (at most max). */
static uint32_t before_last_step(const struct gk_steps *t)
{
	uint64_t c = t->first;

	for (uint32_t i = 1; i < t->grows; i++)
		c *= 2;
	return c > t->max ? t->max : (uint32_t)c;
}

/* The peak is the most entries the owner said it needed: gk_steps_need, or what gk_steps_reach
 * reached for; a step on its own (gk_steps_grow) needs nothing by itself. */
TEST(the_peak_is_the_most_needed_and_explains_the_steps)
{
	struct gk_steps t;

	ASSERT_EQ(0, gk_steps_init(&t, "test", 100, sizeof(struct ent), 4));
	EXPECT_EQ(0, t.peak);
	gk_steps_need(&t, 3);
	EXPECT_EQ(3, t.peak);
	EXPECT_EQ(4, t.cap); /* needing is not growing */
	ASSERT_EQ(0, gk_steps_reach(&t, 9));
	EXPECT_EQ(16, t.cap);
	EXPECT_EQ(2, t.grows);
	EXPECT_EQ(9, t.peak);
	EXPECT_LT(before_last_step(&t), t.peak);
	gk_steps_need(&t, 5);
	EXPECT_EQ(9, t.peak); /* the most, not the last */
	ASSERT_NE(0, gk_steps_grow(&t));
	EXPECT_EQ(32, t.cap);
	EXPECT_GE(before_last_step(&t), t.peak); /* a step no need asked for: unexplained */
	EXPECT_EQ(-ENOSPC, gk_steps_reach(&t, 101));
	EXPECT_EQ(9, t.peak); /* what could never be had is not a peak */
	gk_steps_need(&t, 1000);
	EXPECT_EQ(100, t.peak); /* never more than the maximum */
	ASSERT_EQ(0, gk_steps_reach(&t, 100));
	EXPECT_EQ(100, t.cap);
	EXPECT_EQ(64, before_last_step(&t)); /* 4, 8, 16, 32, 64, 100 */
	gk_steps_free(&t);
}

/* Every table made and not yet freed is listed, oldest first, with what it holds. */
TEST(live_tables_are_listed_oldest_first_until_freed)
{
	struct gk_steps a, b, c;
	char keys[256] = "";

	ASSERT_EQ(0, gk_steps_init(&a, "first", 10, 64, 2));
	ASSERT_EQ(0, gk_steps_init(&b, "second", 10, 64, 2));
	ASSERT_EQ(0, gk_steps_init(&c, "third", 10, 64, 2));
	gk_steps_each(list_keys, keys);
	EXPECT_NE(NULL, strstr(keys, "first second third "));
	gk_steps_free(&b);
	keys[0] = '\0';
	gk_steps_each(list_keys, keys);
	EXPECT_NE(NULL, strstr(keys, "first third "));
	EXPECT_EQ(NULL, strstr(keys, "second"));
	gk_steps_free(&a);
	gk_steps_free(&c);
	keys[0] = '\0';
	gk_steps_each(list_keys, keys);
	EXPECT_EQ(NULL, strstr(keys, "first"));
	EXPECT_EQ(NULL, strstr(keys, "third"));
	/* a table that failed to be made is not listed */
	EXPECT_EQ(-EINVAL, gk_steps_init(&a, "first", 0, 64, 2));
	keys[0] = '\0';
	gk_steps_each(list_keys, keys);
	EXPECT_EQ(NULL, strstr(keys, "first"));
}

/* Buffers of four pages, of which a step makes only the first page resident (as the loop's
 * datagram buffers): that page is what the table counts, and all that is resident; a lazy table
 * of them makes nothing resident until it is written. */
TEST(buffers_keep_only_their_first_page_resident)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), total;
	struct gk_steps t;

	ASSERT_EQ(0, gk_steps_init_opts(&t, "buffers", 64, 4 * page, 8,
	                                &(struct gk_steps_opts){.resident_size = page}));
	EXPECT_EQ(8, resident_pages(t.base, (size_t)t.max * t.size, &total));
	EXPECT_EQ(64 * 4, total);
	EXPECT_EQ(8 * page, gk_steps_bytes(&t));
	ASSERT_EQ(8, gk_steps_grow(&t));
	EXPECT_EQ(16, resident_pages(t.base, (size_t)t.max * t.size, NULL));
	for (uint32_t i = 0; i < t.cap; i++)
		EXPECT_EQ(1, resident_pages(gk_steps_at(&t, i), page, NULL));
	EXPECT_EQ(16 * page, gk_steps_bytes(&t));
	EXPECT_EQ(64 * page, gk_steps_max_bytes(&t));
	gk_steps_free(&t);
	EXPECT_EQ(NULL, t.base);

	ASSERT_EQ(0,
	          gk_steps_init_opts(&t, "lazy_buffers", 64, 4 * page, 8,
	                             &(struct gk_steps_opts){.resident_size = page, .lazy = true}));
	EXPECT_EQ(0, resident_pages(t.base, (size_t)t.max * t.size, NULL));
	EXPECT_EQ(8 * page, gk_steps_bytes(&t)); /* what it may hold once written */
	gk_steps_free(&t);
	EXPECT_EQ(-EINVAL, gk_steps_init_opts(&t, "buffers", 64, page, 8,
	                                      &(struct gk_steps_opts){.resident_size = 2 * page}));
}

TEST_HARNESS_MAIN
