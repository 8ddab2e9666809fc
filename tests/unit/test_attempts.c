// SPDX-License-Identifier: GPL-2.0-only
/*
 * Attempts grouped by the ID they claim (lib/exchange/attempts.c): what the registrar and the core
 * keep for an IDc before an answer proves it. The group's ID is held only while it has attempts, so
 * that made-up IDcs leave nothing behind; an item is in one group at most; and every item of a
 * full table can be in a group of its own.
 */
#include <stdio.h>
#include <string.h>

#include "kselftest_harness.h"

#include "gatekey/exchange/attempts.h"

static unsigned group_size(const struct gk_attempts *a, const char *id)
{
	unsigned n = 0;
	for (uint32_t i = gk_attempts_first(a, id); i; i = gk_attempts_next(a, i))
		n++;
	return n;
}

TEST(a_group_lives_as_long_as_its_attempts)
{
	struct gk_attempts *a = gk_attempts_new(8, "attempts");

	ASSERT_NE(NULL, a);
	EXPECT_EQ(0u, gk_attempts_first(a, "alice"));
	ASSERT_EQ(0, gk_attempts_link(a, "alice", 3));
	ASSERT_EQ(0, gk_attempts_link(a, "alice", 5));
	ASSERT_EQ(0, gk_attempts_link(a, "bob", 1));
	EXPECT_EQ(2u, group_size(a, "alice"));
	EXPECT_EQ(1u, group_size(a, "bob"));
	EXPECT_EQ(2u, gk_attempts_ids(a));
	EXPECT_EQ(3u, gk_attempts_items(a));
	EXPECT_STREQ("alice", gk_attempts_id(a, 5));
	EXPECT_EQ(NULL, gk_attempts_id(a, 2));

	gk_attempts_unlink(a, 3);
	EXPECT_EQ(1u, group_size(a, "alice"));
	EXPECT_EQ(5u, gk_attempts_first(a, "alice"));
	gk_attempts_unlink(a, 5);
	EXPECT_EQ(0u, gk_attempts_first(a, "alice"));
	EXPECT_EQ(1u, gk_attempts_ids(a)); /* alice is forgotten with her last attempt */
	gk_attempts_unlink(a, 5);          /* twice: nothing */
	EXPECT_EQ(1u, gk_attempts_items(a));
	gk_attempts_free(a);
}

TEST(an_item_is_in_one_group_and_in_range)
{
	struct gk_attempts *a = gk_attempts_new(4, "attempts");

	ASSERT_NE(NULL, a);
	EXPECT_EQ(0, gk_attempts_link(a, "alice", 1));
	EXPECT_EQ(-1, gk_attempts_link(a, "bob", 1));
	EXPECT_EQ(-1, gk_attempts_link(a, "bob", 0));
	EXPECT_EQ(-1, gk_attempts_link(a, "bob", 5));
	EXPECT_EQ(0u, gk_attempts_first(a, "bob"));
	EXPECT_EQ(0u, gk_attempts_next(a, 99));
	gk_attempts_free(a);
	EXPECT_EQ(NULL, gk_attempts_new(0, "attempts"));
}

/* As many groups as items, churned: a full table always has room for the next item freed. */
TEST(every_item_can_have_a_group_of_its_own)
{
	enum { N = 4096 };
	struct gk_attempts *a = gk_attempts_new(N, "attempts");
	char id[32];

	ASSERT_NE(NULL, a);
	for (uint32_t round = 0; round < 3; round++) {
		for (uint32_t i = 1; i <= N; i++) {
			snprintf(id, sizeof(id), "made-up-%u-%u", round, i);
			ASSERT_EQ(0, gk_attempts_link(a, id, i));
		}
		EXPECT_EQ((uint32_t)N, gk_attempts_ids(a));
		for (uint32_t i = 1; i <= N; i++)
			gk_attempts_unlink(a, i);
		EXPECT_EQ(0u, gk_attempts_ids(a));
		EXPECT_EQ(0u, gk_attempts_items(a));
	}
	gk_attempts_free(a);
}

TEST_HARNESS_MAIN
