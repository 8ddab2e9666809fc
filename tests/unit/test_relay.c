// SPDX-License-Identifier: GPL-2.0-only
/*
 * Relay slots (lib/relay.c), against the attack of issue 12: requests whose answer never comes
 * (two REGISTERs per IDc through an SBC, the first one superseded inside the core; datagrams
 * lost on the core leg) must not hold the slots, and with them every later request, until the
 * daemon restarts. Each slot waits a bounded time, is then freed and counted, and a
 * late answer finds nothing. Timings are short and real (the loop's clock); the tests wait for
 * conditions, never for a fixed time alone.
 */
#include <string.h>

#include "kselftest_harness.h"

#include "gatekey/relay.h"

/* Runs the loop until done(arg) holds or give_up_ms has passed; true when done held. */
struct waiter {
	struct gk_timer poll;
	struct gk_loop *loop;
	bool (*done)(void *arg);
	void *arg;
	uint64_t give_up_at;
	bool ok;
};

static void poll_fn(struct gk_timer *t)
{
	struct waiter *w = (struct waiter *)((char *)t - offsetof(struct waiter, poll));
	w->ok = w->done(w->arg);
	if (w->ok || gk_loop_now(w->loop) >= w->give_up_at)
		gk_loop_stop(w->loop);
	else
		gk_timer_arm(w->loop, &w->poll, 2);
}

static bool run_until(struct gk_loop *loop, bool (*done)(void *), void *arg, uint64_t give_up_ms)
{
	struct waiter w = {.poll.fn = poll_fn, .loop = loop, .done = done, .arg = arg};

	w.give_up_at = gk_loop_now(loop) + give_up_ms;
	gk_timer_arm(loop, &w.poll, 1);
	if (gk_loop_run(loop) < 0)
		return false;
	gk_timer_cancel(loop, &w.poll);
	return w.ok;
}

static bool never(void *arg)
{
	(void)arg;
	return false;
}

static bool none_waiting(void *arg)
{
	return gk_relay_stats(arg)->waiting == 0;
}

static bool one_expired(void *arg)
{
	return gk_relay_stats(arg)->expired >= 1;
}

#define SLOTS 16

TEST(unanswered_requests_expire_and_new_requests_get_slots_again)
{
	char err[128];
	struct gk_loop *loop = gk_loop_new(NULL, err, sizeof(err));
	ASSERT_NE(NULL, loop);
	struct gk_relay *r = gk_relay_new(loop, SLOTS, 40);
	ASSERT_NE(NULL, r);
	const struct gk_relay_stats *st = gk_relay_stats(r);
	uint64_t refs[SLOTS], ref;
	unsigned got = 0;

	/* The attack: three times as many requests as slots, none ever answered. */
	for (unsigned i = 0; i < 3 * SLOTS; i++) {
		struct gk_relay_txn *t = gk_relay_alloc(r, &ref);
		if (t)
			refs[got++] = ref;
	}
	EXPECT_EQ(SLOTS, got);
	EXPECT_EQ(2 * SLOTS, st->full);
	EXPECT_EQ(SLOTS, st->waiting);
	EXPECT_EQ(0, st->expired);
	EXPECT_EQ(NULL, gk_relay_alloc(r, &ref)); /* the relay refuses everyone now */

	/* Once they have waited their time, every slot is free again, and counted. */
	ASSERT_TRUE(run_until(loop, none_waiting, r, 2000));
	EXPECT_EQ(SLOTS, st->expired);
	EXPECT_EQ(0, st->waiting);
	for (unsigned i = 0; i < SLOTS; i++)
		EXPECT_EQ(NULL, gk_relay_take(r, refs[i])); /* an answer now finds nothing */
	for (unsigned i = 0; i < SLOTS; i++) {
		uint64_t fresh;
		ASSERT_NE(NULL, gk_relay_alloc(r, &fresh));
		EXPECT_NE(refs[i], fresh);
	}
	EXPECT_EQ(2 * SLOTS, st->taken);

	gk_relay_free(r);
	gk_loop_free(loop);
}

TEST(answered_slots_never_expire_and_slots_expire_oldest_first)
{
	char err[128];
	struct gk_loop *loop = gk_loop_new(NULL, err, sizeof(err));
	ASSERT_NE(NULL, loop);
	struct gk_relay *r = gk_relay_new(loop, 4, 150);
	ASSERT_NE(NULL, r);
	const struct gk_relay_stats *st = gk_relay_stats(r);
	uint64_t a, b, c, d;

	ASSERT_NE(NULL, gk_relay_alloc(r, &a));
	ASSERT_NE(NULL, gk_relay_alloc(r, &b));
	/* b is answered in time, from behind a in the waiting list */
	struct gk_relay_txn *tb = gk_relay_take(r, b);
	ASSERT_NE(NULL, tb);
	gk_relay_release(r, tb);
	EXPECT_EQ(NULL, gk_relay_take(r, b)); /* answered once only */
	/* c and d are taken 100 ms after a */
	run_until(loop, never, NULL, 100);
	ASSERT_NE(NULL, gk_relay_alloc(r, &c));
	ASSERT_NE(NULL, gk_relay_alloc(r, &d));
	struct gk_relay_txn *td = gk_relay_take(r, d);
	ASSERT_NE(NULL, td);
	gk_relay_release(r, td); /* the newest answered: c is both ends of the list now */

	ASSERT_TRUE(run_until(loop, one_expired, r, 2000));
	EXPECT_EQ(1, st->expired); /* a, at its deadline; c has about 100 ms to go */
	EXPECT_EQ(NULL, gk_relay_take(r, a));
	struct gk_relay_txn *tc = gk_relay_take(r, c);
	EXPECT_NE(NULL, tc);
	EXPECT_EQ(1, st->waiting);

	ASSERT_TRUE(run_until(loop, none_waiting, r, 2000));
	EXPECT_EQ(2, st->expired); /* a and c; never b or d */
	EXPECT_EQ(NULL, gk_relay_take(r, c));
	EXPECT_EQ(4, st->taken);
	EXPECT_EQ(0, st->full);

	gk_relay_free(r);
	gk_loop_free(loop);
}

TEST_HARNESS_MAIN
