// SPDX-License-Identifier: GPL-2.0-only
/*
 * The softswitch's map of terminals to the SBCs holding them (lib/exchange/locations.c): an entry
 * follows the terminal to the SBC it last registered through, expires when nothing renews it (also
 * when nobody looks it up again: the sweep gives the slot back), and a full map refuses new entries
 * without touching the ones it holds.
 */
#include <arpa/inet.h>
#include <string.h>

#include "helper_loop.h"
#include "kselftest_harness.h"

#include "gatekey/runtime/config.h"
#include "gatekey/exchange/locations.h"

static struct sockaddr_storage addr4(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *a = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	inet_pton(AF_INET, ip, &a->sin_addr);
	return ss;
}

static bool emptied(void *arg)
{
	return gk_locations_count(arg) == 0;
}

FIXTURE(loc)
{
	struct gk_loop *loop;
};

FIXTURE_SETUP(loc)
{
	char err[256];

	self->loop = gk_loop_new(NULL, err, sizeof(err));
	ASSERT_NE(NULL, self->loop) TH_LOG("%s", err);
}

FIXTURE_TEARDOWN(loc)
{
	gk_loop_free(self->loop);
}

TEST_F(loc, a_terminal_is_found_at_the_sbc_it_last_registered_through)
{
	struct gk_locations *l = gk_locations_new(self->loop, 8, 3600);
	struct sockaddr_storage sbc1 = addr4("198.18.2.1", 5060), sbc2 = addr4("198.18.2.9", 5060);
	struct sockaddr_storage got;

	ASSERT_NE(NULL, l);
	EXPECT_EQ(-1, gk_locations_get(l, "term1", &got));
	EXPECT_EQ(0, gk_locations_set(l, "term1", &sbc1));
	EXPECT_EQ(0, gk_locations_get(l, "term1", &got));
	EXPECT_TRUE(gk_sockaddr_equal(&got, &sbc1));
	/* it moves: the newer registration wins, one entry still */
	EXPECT_EQ(0, gk_locations_set(l, "term1", &sbc2));
	EXPECT_EQ(0, gk_locations_get(l, "term1", &got));
	EXPECT_TRUE(gk_sockaddr_equal(&got, &sbc2));
	EXPECT_EQ(1u, gk_locations_count(l));
	EXPECT_EQ(-1, gk_locations_get(l, "term2", &got));
	/* it registers with the softswitch itself: no SBC holds it any more */
	gk_locations_remove(l, "term1");
	gk_locations_remove(l, "term2"); /* never there: nothing happens */
	EXPECT_EQ(-1, gk_locations_get(l, "term1", &got));
	EXPECT_EQ(0u, gk_locations_count(l));
	EXPECT_EQ(0u, gk_locations_stats(l)->expired);
	gk_locations_free(l);
}

TEST_F(loc, a_full_map_refuses_new_terminals_and_keeps_the_others)
{
	struct gk_locations *l = gk_locations_new(self->loop, 2, 3600);
	struct sockaddr_storage sbc1 = addr4("198.18.2.1", 5060), got;

	ASSERT_NE(NULL, l);
	EXPECT_EQ(0, gk_locations_set(l, "a", &sbc1));
	EXPECT_EQ(0, gk_locations_set(l, "b", &sbc1));
	EXPECT_EQ(-1, gk_locations_set(l, "c", &sbc1));
	EXPECT_EQ(1u, gk_locations_stats(l)->full);
	EXPECT_EQ(0, gk_locations_set(l, "a", &sbc1)); /* a renewal needs no new slot */
	EXPECT_EQ(0, gk_locations_get(l, "b", &got));
	gk_locations_free(l);
}

TEST_F(loc, entries_expire_without_being_looked_up)
{
	struct gk_locations *l = gk_locations_new(self->loop, 4, 1);
	struct sockaddr_storage sbc1 = addr4("198.18.2.1", 5060), got;

	ASSERT_NE(NULL, l);
	EXPECT_EQ(0, gk_locations_set(l, "term1", &sbc1));
	EXPECT_EQ(0, gk_locations_set(l, "term2", &sbc1));
	/* the sweep, not a lookup, gives the slots back (ttl 1 s, swept every second) */
	EXPECT_TRUE(run_until(self->loop, emptied, l, 5000));
	EXPECT_EQ(2u, gk_locations_stats(l)->expired);
	EXPECT_EQ(-1, gk_locations_get(l, "term1", &got));
	gk_locations_free(l);
}

TEST_HARNESS_MAIN
