// SPDX-License-Identifier: GPL-2.0-only
/* The io_uring loop: datagrams in and out on loopback, timers in deadline order, cancellation. */
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "gatekey/config.h"
#include "gatekey/idmap.h"
#include "gatekey/addrmap.h"
#include "gatekey/loop.h"

struct echo {
	struct gk_loop *loop;
	int server, client;
	unsigned echoed, replies, want;
	struct gk_timer guard;
	bool timed_out;
};

static struct echo *current;

static void on_server(void *user, int fd, uint8_t *data, size_t len,
                      const struct sockaddr_storage *from)
{
	struct echo *e = user;
	e->echoed++;
	gk_loop_sendto(e->loop, fd, data, len, from);
}

static void on_client(void *user, int fd, uint8_t *data, size_t len,
                      const struct sockaddr_storage *from)
{
	struct echo *e = user;
	(void)fd;
	(void)from;
	if (len == 5 && memcmp(data, "hello", 5) == 0)
		e->replies++;
	if (e->replies == e->want)
		gk_loop_stop(e->loop);
}

static void guard_fn(struct gk_timer *t)
{
	(void)t;
	current->timed_out = true;
	gk_loop_stop(current->loop);
}

/* A loop with a server that echoes and a client, both on loopback; srv: the server's address. */
static int echo_init(struct echo *e, struct sockaddr_storage *srv)
{
	struct sockaddr_storage a;
	socklen_t len = sizeof(*srv);
	char err[128];

	current = e;
	e->loop = gk_loop_new(NULL, err, sizeof(err));
	if (!e->loop || gk_parse_addr("127.0.0.1:0", &a, err, sizeof(err)) < 0)
		return -1;
	e->server = gk_udp_socket(&a);
	e->client = gk_udp_socket(&a);
	if (e->server < 0 || e->client < 0 ||
	    getsockname(e->server, (struct sockaddr *)srv, &len) < 0)
		return -1;
	if (gk_loop_add_udp(e->loop, e->server, on_server, e) < 0 ||
	    gk_loop_add_udp(e->loop, e->client, on_client, e) < 0)
		return -1;
	return 0;
}

TEST(udp_echo_through_the_loop)
{
	struct echo e = {0};
	struct sockaddr_storage srv;

	ASSERT_EQ(0, echo_init(&e, &srv));
	e.want = 3000;
	for (unsigned i = 0; i < e.want; i++)
		ASSERT_EQ(0, gk_loop_sendto(e.loop, e.client, "hello", 5, &srv));
	e.guard.fn = guard_fn;
	gk_timer_arm(e.loop, &e.guard, 5000);
	ASSERT_EQ(0, gk_loop_run(e.loop));
	EXPECT_FALSE(e.timed_out);
	EXPECT_EQ(e.want, e.replies);
	EXPECT_EQ(e.want, e.echoed);
	close(e.server);
	close(e.client);
	gk_loop_free(e.loop);
}

/* A datagram longer than GK_LOOP_DGRAM_MAX is dropped unread and counted (rx_truncated, which
 * the daemons' stats show), never handed on cut short; the next one is handled as usual. */
TEST(oversize_datagram_is_counted_not_delivered)
{
	static uint8_t big[GK_LOOP_DGRAM_MAX + 100];
	struct echo e = {0};
	struct sockaddr_storage srv;
	socklen_t len = sizeof(srv);

	ASSERT_EQ(0, echo_init(&e, &srv));
	memset(big, 'x', sizeof(big));
	ASSERT_EQ((ssize_t)sizeof(big),
	          sendto(e.client, big, sizeof(big), 0, (struct sockaddr *)&srv, len));
	ASSERT_EQ(5, sendto(e.client, "hello", 5, 0, (struct sockaddr *)&srv, len));
	e.want = 1;
	e.guard.fn = guard_fn;
	gk_timer_arm(e.loop, &e.guard, 5000);
	ASSERT_EQ(0, gk_loop_run(e.loop));
	EXPECT_FALSE(e.timed_out);
	EXPECT_EQ(1u, e.echoed);
	EXPECT_EQ(1u, gk_loop_stats(e.loop)->rx_truncated);
	close(e.server);
	close(e.client);
	gk_loop_free(e.loop);
}

struct tick {
	struct gk_timer t;
	int id;
};
static int order[8], n_order;
static struct gk_loop *tloop;

static void tick_fn(struct gk_timer *t)
{
	order[n_order++] = ((struct tick *)t)->id;
	if (n_order == 3)
		gk_loop_stop(tloop);
}

TEST(timers_fire_in_deadline_order_and_cancel)
{
	char err[128];
	struct tick ticks[4];
	tloop = gk_loop_new(NULL, err, sizeof(err));
	ASSERT_NE(NULL, tloop);
	const int delay[4] = {30, 10, 20, 15};
	for (int i = 0; i < 4; i++) {
		ticks[i].t = (struct gk_timer){.fn = tick_fn};
		ticks[i].id = i;
		gk_timer_arm(tloop, &ticks[i].t, (uint64_t)delay[i]);
	}
	gk_timer_cancel(tloop, &ticks[3].t);
	EXPECT_FALSE(gk_timer_armed(&ticks[3].t));
	ASSERT_EQ(0, gk_loop_run(tloop));
	ASSERT_EQ(3, n_order);
	EXPECT_EQ(1, order[0]);
	EXPECT_EQ(2, order[1]);
	EXPECT_EQ(0, order[2]);
	gk_loop_free(tloop);
}

/* A reserved slot (a terminal index the registrar never hands out) stays out of use. */
TEST(idmap_reserved_slots_are_never_handed_out)
{
	struct gk_idmap *m = gk_idmap_new(4);
	int created;
	ASSERT_NE(NULL, m);
	gk_idmap_reserve(m, 3);
	gk_idmap_reserve(m, 3); /* twice is harmless */
	EXPECT_EQ(1, gk_idmap_get_or_add(m, "a", &created));
	EXPECT_EQ(2, gk_idmap_get_or_add(m, "b", &created));
	EXPECT_EQ(4, gk_idmap_get_or_add(m, "c", &created));
	EXPECT_EQ(0, gk_idmap_get_or_add(m, "d", &created));
	EXPECT_EQ(-1, gk_idmap_add_at(m, "d", 3));
	gk_idmap_remove(m, 2);
	EXPECT_EQ(2, gk_idmap_get_or_add(m, "d", &created));
	gk_idmap_free(m);
}

TEST(idmap_and_addrmap)
{
	struct gk_idmap *m = gk_idmap_new(100);
	int created;
	char id[16];
	ASSERT_NE(NULL, m);
	for (int i = 0; i < 100; i++) {
		snprintf(id, sizeof(id), "t%d", i);
		ASSERT_NE(0, gk_idmap_get_or_add(m, id, &created));
		EXPECT_EQ(1, created);
	}
	EXPECT_EQ(0, gk_idmap_get_or_add(m, "one-too-many", &created));
	uint32_t s = gk_idmap_find(m, "t42");
	ASSERT_NE(0, s);
	EXPECT_STREQ("t42", gk_idmap_id(m, s));
	gk_idmap_remove(m, s);
	EXPECT_EQ(0, gk_idmap_find(m, "t42"));
	EXPECT_NE(0, gk_idmap_find(m, "t41"));
	EXPECT_NE(0, gk_idmap_get_or_add(m, "new", &created));
	gk_idmap_free(m);

	/* Restoring at given slots, then allocating around them: every slot exactly once. */
	m = gk_idmap_new(10);
	ASSERT_EQ(0, gk_idmap_add_at(m, "r7", 7));
	ASSERT_EQ(0, gk_idmap_add_at(m, "r1", 1));
	ASSERT_EQ(0, gk_idmap_add_at(m, "r10", 10));
	EXPECT_EQ(-1, gk_idmap_add_at(m, "again", 7)); /* taken */
	EXPECT_EQ(-1, gk_idmap_add_at(m, "r1", 2));    /* already present */
	EXPECT_EQ(-1, gk_idmap_add_at(m, "out", 11));
	EXPECT_EQ(7u, gk_idmap_find(m, "r7"));
	uint32_t seen = 0;
	for (int i = 0; i < 7; i++) {
		snprintf(id, sizeof(id), "n%d", i);
		uint32_t slot = gk_idmap_get_or_add(m, id, &created);
		ASSERT_NE(0, slot);
		EXPECT_EQ(0u, seen & (1u << slot));
		EXPECT_TRUE(slot != 1 && slot != 7 && slot != 10);
		seen |= 1u << slot;
	}
	EXPECT_EQ(0, gk_idmap_get_or_add(m, "full", &created));
	gk_idmap_remove(m, 7);
	EXPECT_EQ(7u, gk_idmap_get_or_add(m, "again", &created));
	gk_idmap_free(m);

	struct gk_addrmap *a = gk_addrmap_new(64);
	struct sockaddr_storage addr[64];
	char err[64], s2[64];
	for (int i = 0; i < 64; i++) {
		snprintf(s2, sizeof(s2), "198.18.%d.%d:%d", i / 8, i % 8, 5000 + i);
		gk_parse_addr(s2, &addr[i], err, sizeof(err));
		ASSERT_EQ(0, gk_addrmap_put(a, &addr[i], (uint32_t)i + 1));
	}
	for (int i = 0; i < 64; i += 2)
		gk_addrmap_del(a, &addr[i], (uint32_t)i + 1);
	for (int i = 0; i < 64; i++)
		EXPECT_EQ(i % 2 ? (uint32_t)i + 1 : 0, gk_addrmap_find(a, &addr[i]));
	gk_addrmap_free(a);
}

static bool same_host(const char *a, const char *b)
{
	struct sockaddr_storage x, y;
	char err[64];

	gk_parse_addr(a, &x, err, sizeof(err));
	gk_parse_addr(b, &y, err, sizeof(err));
	return gk_sockaddr_same_host(&x, &y);
}

/* What per-host limits count as one host: never the port; an IPv6 /64; an IPv4 client under
 * either spelling a dual-stack socket may give it. */
TEST(hosts_of_addresses)
{
	struct sockaddr_storage un = {.ss_family = AF_UNIX};
	uint8_t key[GK_HOST_KEY_MAX];

	EXPECT_TRUE(same_host("198.18.0.9:5060", "198.18.0.9:40000"));
	EXPECT_FALSE(same_host("198.18.0.9:5060", "198.18.0.10:5060"));
	EXPECT_TRUE(same_host("[2001:db8:0:9::1]:5060", "[2001:db8:0:9:ffff::2]:1"));
	EXPECT_FALSE(same_host("[2001:db8:0:9::1]:5060", "[2001:db8:0:a::1]:5060"));
	EXPECT_TRUE(same_host("[::ffff:198.18.0.9]:5060", "198.18.0.9:6000"));
	EXPECT_FALSE(same_host("[::ffff:198.18.0.9]:5060", "[::ffff:198.18.0.10]:5060"));
	EXPECT_FALSE(same_host("[::c612:9]:5060", "198.18.0.9:5060"));
	EXPECT_EQ(0, gk_sockaddr_host(&un, key));
	EXPECT_FALSE(gk_sockaddr_same_host(&un, &un));
}

TEST_HARNESS_MAIN
