// SPDX-License-Identifier: GPL-2.0-only
/*
 * The interface watcher (lib/runtime/linkwatch.c) against the kernel: in a network namespace of
 * the test's own (the harness forks per test and the fixture unshares), a veth pair named as the
 * watched interface is created, set up, taken down, deleted, created again and renamed, all
 * through libnl-route, and the watcher must report each change once, with the interface's index
 * as it is. The last test drives it from the io_uring loop, as sbcd does.
 */
#include <errno.h>
#include <linux/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>

#include "kselftest_harness.h"

#include "gatekey/runtime/linkwatch.h"
#include "gatekey/runtime/loop.h"

#define WATCHED "gkw0"
#define PEER    "gkw1"
#define MAX_EV  16

struct seen {
	unsigned n;
	enum gk_link_event ev[MAX_EV];
	int ifindex[MAX_EV];
};

static void on_event(void *user, enum gk_link_event ev, int ifindex)
{
	struct seen *s = user;
	if (s->n < MAX_EV) {
		s->ev[s->n] = ev;
		s->ifindex[s->n] = ifindex;
	}
	s->n++;
}

static int veth_add(struct nl_sock *sk)
{
	return rtnl_link_veth_add(sk, WATCHED, PEER, getpid());
}

/* Applies chg (flags or name) to the link called name, and drops chg. */
static int change_link(struct nl_sock *sk, const char *name, struct rtnl_link *chg)
{
	struct rtnl_link *cur = NULL;
	int rc = chg ? rtnl_link_get_kernel(sk, 0, name, &cur) : -NLE_NOMEM;

	if (rc == 0)
		rc = rtnl_link_change(sk, cur, chg, 0);
	if (cur)
		rtnl_link_put(cur);
	if (chg)
		rtnl_link_put(chg);
	return rc;
}

/* Sets name's IFF_UP on or off. */
static int set_up(struct nl_sock *sk, const char *name, bool up)
{
	struct rtnl_link *chg = rtnl_link_alloc();

	if (chg && up)
		rtnl_link_set_flags(chg, IFF_UP);
	else if (chg)
		rtnl_link_unset_flags(chg, IFF_UP);
	return change_link(sk, name, chg);
}

static int rename_link(struct nl_sock *sk, const char *from, const char *to)
{
	struct rtnl_link *chg = rtnl_link_alloc();

	if (chg)
		rtnl_link_set_name(chg, to);
	return change_link(sk, from, chg);
}

static int link_delete(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *l = rtnl_link_alloc();
	int rc;

	rtnl_link_set_name(l, name);
	rc = rtnl_link_delete(sk, l);
	rtnl_link_put(l);
	return rc;
}

static int index_of(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *l = NULL;
	int ifindex = 0;

	if (rtnl_link_get_kernel(sk, 0, name, &l) == 0) {
		ifindex = rtnl_link_get_ifindex(l);
		rtnl_link_put(l);
	}
	return ifindex;
}

/* Reads what the watcher has until it has reported want events in all, or 2 s pass. */
static void read_until(struct gk_linkwatch *w, struct seen *s, unsigned want)
{
	struct pollfd p = {.fd = gk_linkwatch_fd(w), .events = POLLIN};

	for (int i = 0; i < 200 && s->n < want; i++) {
		if (poll(&p, 1, 10) > 0)
			gk_linkwatch_read(w);
	}
}

FIXTURE(linkwatch)
{
	struct nl_sock *sk;
	struct gk_linkwatch *w;
	struct seen seen;
};

FIXTURE_SETUP(linkwatch)
{
	ASSERT_EQ(0, unshare(CLONE_NEWNET))
	{
		TH_LOG("unshare(CLONE_NEWNET): %s (run as root)", strerror(errno));
	}
	self->sk = nl_socket_alloc();
	ASSERT_NE(NULL, self->sk);
	ASSERT_EQ(0, nl_connect(self->sk, NETLINK_ROUTE));
	memset(&self->seen, 0, sizeof(self->seen));
	self->w = NULL;
}

FIXTURE_TEARDOWN(linkwatch)
{
	gk_linkwatch_close(self->w);
	nl_socket_free(self->sk);
}

/* Absent at first, then created, up, down, deleted: NEW, UP, DOWN, GONE, in that order. */
TEST_F(linkwatch, follows_a_link_from_creation_to_deletion)
{
	char err[128];
	int ifindex = -1;
	bool up = true;

	ASSERT_EQ(0, gk_linkwatch_open(&self->w, WATCHED, on_event, &self->seen, &ifindex, &up, err,
	                               sizeof(err)))
	{
		TH_LOG("%s", err);
	}
	EXPECT_EQ(0, ifindex);
	EXPECT_FALSE(up);

	ASSERT_EQ(0, veth_add(self->sk));
	int first = index_of(self->sk, WATCHED);
	ASSERT_LT(0, first);
	read_until(self->w, &self->seen, 1);
	ASSERT_EQ(1, self->seen.n);
	EXPECT_EQ(GK_LINK_NEW, self->seen.ev[0]);
	EXPECT_EQ(first, self->seen.ifindex[0]);

	/* Up only once both ends are: a veth has no carrier while its peer is down. */
	ASSERT_EQ(0, set_up(self->sk, WATCHED, true));
	read_until(self->w, &self->seen, 2);
	EXPECT_EQ(1, self->seen.n);
	ASSERT_EQ(0, set_up(self->sk, PEER, true));
	read_until(self->w, &self->seen, 2);
	ASSERT_EQ(2, self->seen.n);
	EXPECT_EQ(GK_LINK_UP, self->seen.ev[1]);

	ASSERT_EQ(0, set_up(self->sk, WATCHED, false));
	read_until(self->w, &self->seen, 3);
	ASSERT_EQ(3, self->seen.n);
	EXPECT_EQ(GK_LINK_DOWN, self->seen.ev[2]);

	ASSERT_EQ(0, link_delete(self->sk, WATCHED));
	read_until(self->w, &self->seen, 4);
	ASSERT_EQ(4, self->seen.n);
	EXPECT_EQ(GK_LINK_GONE, self->seen.ev[3]);
	EXPECT_EQ(0, self->seen.ifindex[3]);
	EXPECT_LE(4u, gk_linkwatch_stats(self->w)->messages);
	EXPECT_EQ(4u, gk_linkwatch_stats(self->w)->events);
}

/* Deleted and created again under the same name: GONE, then NEW with the new index. Another
 * interface's messages change nothing. */
TEST_F(linkwatch, a_recreated_link_is_new_with_its_new_index)
{
	char err[128];
	int ifindex = 0;

	ASSERT_EQ(0, veth_add(self->sk));
	int first = index_of(self->sk, WATCHED);
	ASSERT_EQ(0, gk_linkwatch_open(&self->w, WATCHED, on_event, &self->seen, &ifindex, NULL,
	                               err, sizeof(err)));
	EXPECT_EQ(first, ifindex);

	ASSERT_EQ(0, link_delete(self->sk, WATCHED));
	ASSERT_EQ(0, rtnl_link_veth_add(self->sk, "gkx0", "gkx1", getpid()));
	ASSERT_EQ(0, veth_add(self->sk));
	int second = index_of(self->sk, WATCHED);
	ASSERT_NE(first, second);
	read_until(self->w, &self->seen, 2);
	ASSERT_EQ(2, self->seen.n);
	EXPECT_EQ(GK_LINK_GONE, self->seen.ev[0]);
	EXPECT_EQ(GK_LINK_NEW, self->seen.ev[1]);
	EXPECT_EQ(second, self->seen.ifindex[1]);
	ASSERT_EQ(0, set_up(self->sk, "gkx0", true));
	read_until(self->w, &self->seen, 3);
	EXPECT_EQ(2, self->seen.n);
}

/* Renamed away, the name is free: GONE; another link renamed to it: NEW with that index. */
TEST_F(linkwatch, a_rename_moves_the_name)
{
	char err[128];

	ASSERT_EQ(0, veth_add(self->sk));
	ASSERT_EQ(0, gk_linkwatch_open(&self->w, WATCHED, on_event, &self->seen, NULL, NULL, err,
	                               sizeof(err)));
	ASSERT_EQ(0, rename_link(self->sk, WATCHED, "gkold"));
	read_until(self->w, &self->seen, 1);
	ASSERT_EQ(1, self->seen.n);
	EXPECT_EQ(GK_LINK_GONE, self->seen.ev[0]);

	ASSERT_EQ(0, rename_link(self->sk, PEER, WATCHED));
	int now = index_of(self->sk, WATCHED);
	read_until(self->w, &self->seen, 2);
	ASSERT_EQ(2, self->seen.n);
	EXPECT_EQ(GK_LINK_NEW, self->seen.ev[1]);
	EXPECT_EQ(now, self->seen.ifindex[1]);
}

struct in_loop {
	struct gk_linkwatch *w;
	struct gk_loop *loop;
	struct seen seen;
};

static void in_loop_readable(void *user, int fd)
{
	struct in_loop *t = user;
	(void)fd;
	gk_linkwatch_read(t->w);
}

static void in_loop_event(void *user, enum gk_link_event ev, int ifindex)
{
	struct in_loop *t = user;
	on_event(&t->seen, ev, ifindex);
	if (ev == GK_LINK_NEW)
		gk_loop_stop(t->loop);
}

static void give_up(struct gk_timer *t)
{
	(void)t;
}

/* The watcher's socket in the io_uring loop: a link created while the loop waits wakes it. */
TEST_F(linkwatch, wakes_the_loop)
{
	struct gk_loop_params p = {0};
	struct in_loop t = {0};
	struct gk_timer deadline = {.fn = give_up};
	char err[128];

	t.loop = gk_loop_new(&p, err, sizeof(err));
	ASSERT_NE(NULL, t.loop);
	ASSERT_EQ(
	    0, gk_linkwatch_open(&t.w, WATCHED, in_loop_event, &t, NULL, NULL, err, sizeof(err)));
	ASSERT_EQ(0, gk_loop_on_readable(t.loop, gk_linkwatch_fd(t.w), in_loop_readable, &t));
	gk_loop_flush(t.loop);
	ASSERT_EQ(0, veth_add(self->sk));
	gk_timer_arm(t.loop, &deadline, 2000);
	ASSERT_EQ(0, gk_loop_run(t.loop));
	EXPECT_EQ(1, t.seen.n);
	EXPECT_EQ(GK_LINK_NEW, t.seen.ev[0]);
	EXPECT_EQ(index_of(self->sk, WATCHED), t.seen.ifindex[0]);
	gk_linkwatch_close(t.w);
	gk_loop_free(t.loop);
}

TEST_HARNESS_MAIN
