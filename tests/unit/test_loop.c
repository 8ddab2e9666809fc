// SPDX-License-Identifier: GPL-2.0-only
/* The io_uring loop: datagrams in and out on loopback up to the largest UDP payload, the memory
 * behind them, timers in deadline order, cancellation. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helper_loop.h"

#include "gatekey/runtime/config.h"
#include "gatekey/runtime/idmap.h"
#include "gatekey/runtime/addrmap.h"
#include "gatekey/runtime/loop.h"

struct echo {
	struct gk_loop *loop;
	int server, client;
	struct sockaddr_storage srv; /* the server's address */
	unsigned echoed, replies, want;
	const void *expect; /* what the client sends and counts coming back; "hello" unless set */
	size_t expect_len;
	bool chain; /* the client sends the next one when a reply comes back */
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
	if (len == e->expect_len && memcmp(data, e->expect, len) == 0)
		e->replies++;
	if (e->replies == e->want)
		gk_loop_stop(e->loop);
	else if (e->chain)
		gk_loop_sendto(e->loop, e->client, e->expect, e->expect_len, &e->srv);
}

static void guard_fn(struct gk_timer *t)
{
	(void)t;
	current->timed_out = true;
	gk_loop_stop(current->loop);
}

/* A loop with a server that echoes and a client, both on loopback at addr ("127.0.0.1:0"). 1 when
 * the address family is not there (no IPv6), for the caller to skip. */
static int echo_init(struct echo *e, const char *addr)
{
	struct sockaddr_storage a;
	socklen_t len = sizeof(e->srv);
	char err[128];

	current = e;
	e->expect = "hello";
	e->expect_len = 5;
	e->loop = gk_loop_new(NULL, err, sizeof(err));
	if (!e->loop || gk_parse_addr(addr, &a, err, sizeof(err)) < 0)
		return -1;
	e->server = gk_udp_socket(&a);
	e->client = gk_udp_socket(&a);
	if (e->server == -EAFNOSUPPORT || e->server == -EADDRNOTAVAIL)
		return 1;
	if (e->server < 0 || e->client < 0 ||
	    getsockname(e->server, (struct sockaddr *)&e->srv, &len) < 0)
		return -1;
	if (gk_loop_add_udp(e->loop, e->server, on_server, e) < 0 ||
	    gk_loop_add_udp(e->loop, e->client, on_client, e) < 0)
		return -1;
	return 0;
}

static int echo_run(struct echo *e)
{
	e->guard.fn = guard_fn;
	gk_timer_arm(e->loop, &e->guard, 5000);
	return gk_loop_run(e->loop);
}

static void echo_free(struct echo *e)
{
	close(e->server);
	close(e->client);
	gk_loop_free(e->loop);
}

TEST(udp_echo_through_the_loop)
{
	struct echo e = {0};

	ASSERT_EQ(0, echo_init(&e, "127.0.0.1:0"));
	e.want = 3000;
	for (unsigned i = 0; i < e.want; i++)
		ASSERT_EQ(0, gk_loop_sendto(e.loop, e.client, "hello", 5, &e.srv));
	ASSERT_EQ(0, echo_run(&e));
	EXPECT_FALSE(e.timed_out);
	EXPECT_EQ(e.want, e.replies);
	EXPECT_EQ(e.want, e.echoed);
	echo_free(&e);
}

/* A datagram that reached a socket before the loop armed its receive (a peer's retransmission
 * into a daemon that has just bound its ports) is delivered at once, not when the next one
 * comes. */
TEST(a_datagram_waiting_before_the_receive_is_armed_is_delivered_at_once)
{
	struct echo e = {0};
	struct sockaddr_storage a;
	socklen_t len = sizeof(e.srv);
	char err[128];
	struct timespec t0, t1;

	current = &e;
	e.expect = "hello";
	e.expect_len = 5;
	e.want = 1;
	e.loop = gk_loop_new(NULL, err, sizeof(err));
	ASSERT_NE(NULL, e.loop);
	ASSERT_EQ(0, gk_parse_addr("127.0.0.1:0", &a, err, sizeof(err)));
	e.server = gk_udp_socket(&a);
	e.client = gk_udp_socket(&a);
	ASSERT_LE(0, e.server);
	ASSERT_LE(0, e.client);
	ASSERT_EQ(0, getsockname(e.server, (struct sockaddr *)&e.srv, &len));
	/* sent by a plain sendto, before the loop knows either socket */
	ASSERT_EQ(5, sendto(e.client, "hello", 5, 0, (struct sockaddr *)&e.srv, len));
	ASSERT_EQ(0, gk_loop_add_udp(e.loop, e.server, on_server, &e));
	ASSERT_EQ(0, gk_loop_add_udp(e.loop, e.client, on_client, &e));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(0, echo_run(&e));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	EXPECT_FALSE(e.timed_out);
	EXPECT_EQ(1u, e.replies);
	EXPECT_GT(1.0, (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	echo_free(&e);
}

/* The largest UDP payloads: 65,535 bytes of IP datagram less the IPv4 and UDP headers; 65,535 of
 * IPv6 payload less the UDP header (no jumbograms). Loopback's MTU is 65,536: the IPv4 one goes
 * unfragmented, the IPv6 one in two fragments. */
#define UDP4_PAYLOAD_MAX (65535 - 20 - 8)
#define UDP6_PAYLOAD_MAX (65535 - 8)

static uint8_t big[GK_LOOP_DGRAM_MAX]; /* static: 64 KiB is no stack array */

static void fill_big(size_t len)
{
	for (size_t i = 0; i < len; i++)
		big[i] = (uint8_t)(i * 7 + i / 251);
}

/* RFC 3261 §18.1.1: any UDP datagram is received whole, through the loop's provided buffers, and
 * sent whole through its send slots (the server echoes it back); none counts as truncated. */
static void echo_whole(struct __test_metadata *_metadata, const char *addr, const size_t *lens,
                       unsigned n)
{
	struct echo e = {0};
	int ret = echo_init(&e, addr);

	if (ret == 1) {
		/* only a kernel without IPv6 may skip: with it, ::1 missing is a broken setup */
		ASSERT_NE(0, access("/proc/net/if_inet6", F_OK));
		SKIP(return, "no %s on loopback", addr);
	}
	ASSERT_EQ(0, ret);
	for (unsigned i = 0; i < n; i++) {
		ASSERT_GE(GK_LOOP_DGRAM_MAX, lens[i]);
		fill_big(lens[i]);
		e.expect = big;
		e.expect_len = lens[i];
		e.want = 1;
		e.replies = 0;
		ASSERT_EQ(0, gk_loop_sendto(e.loop, e.client, big, lens[i], &e.srv));
		ASSERT_EQ(0, echo_run(&e));
		EXPECT_FALSE(e.timed_out);
		EXPECT_EQ(1u, e.replies)
		TH_LOG("a datagram of %zu bytes did not come back whole", lens[i]);
	}
	EXPECT_EQ(n, e.echoed);
	EXPECT_EQ(0u, gk_loop_stats(e.loop)->rx_truncated);
	EXPECT_EQ(0u, gk_loop_stats(e.loop)->tx_errors);
	EXPECT_EQ(2 * n, gk_loop_stats(e.loop)->rx_dgrams);
	echo_free(&e);
}

TEST(largest_udp4_datagrams_pass_whole)
{
	const size_t lens[] = {4097, 65000, UDP4_PAYLOAD_MAX, 5};
	echo_whole(_metadata, "127.0.0.1:0", lens, 4);
}

TEST(largest_udp6_datagrams_pass_whole)
{
	const size_t lens[] = {65000, UDP6_PAYLOAD_MAX, 5};
	echo_whole(_metadata, "[::1]:0", lens, 3);
}

/* The receive ring starts with 256 buffers and doubles when it runs dry (lib/runtime/loop.c):
 * 1000 datagrams queued in four sockets (250 each) before the loop runs take it through ENOBUFS
 * and one or two steps, and every one of them is received (a datagram the ring had no buffer for
 * waits in its socket). Four sockets, because the kernel receives a bounded number of datagrams
 * per socket each time the loop enters it (deferred task work), and one socket's queue would be
 * taken in bites the ring never runs dry on. Sending 600 back takes the send slots through a step
 * too. */
struct burst {
	struct gk_loop *loop;
	int fd;
	unsigned got;
};

static void burst_rx(void *user, int fd, uint8_t *data, size_t len,
                     const struct sockaddr_storage *from)
{
	struct burst *b = user;
	b->got++;
}

static bool burst_done(void *arg)
{
	return ((struct burst *)arg)->got >= 1000;
}

TEST(buffers_and_slots_grow_in_steps_and_lose_nothing)
{
	struct gk_loop_params lp = {.rx_bufs = 1024, .tx_slots = 1024, .resident = true};
	struct sockaddr_storage srv, to;
	socklen_t sl = sizeof(srv);
	char err[128];
	struct burst b = {0};
	uint8_t msg[200] = {1};

	b.loop = gk_loop_new(&lp, err, sizeof(err));
	ASSERT_NE(NULL, b.loop) TH_LOG("%s", err);
	ASSERT_EQ(0, gk_parse_addr("127.0.0.1:0", &srv, err, sizeof(err)));
	int c = gk_udp_socket(&srv); /* 127.0.0.1, port 0: a port of its own */
	ASSERT_LE(0, c);
	int fds[4];
	for (unsigned k = 0; k < 4; k++) {
		struct sockaddr_storage a = srv;
		fds[k] = gk_udp_socket(&a);
		ASSERT_LE(0, fds[k]);
		sl = sizeof(a);
		ASSERT_EQ(0, getsockname(fds[k], (struct sockaddr *)&a, &sl));
		for (unsigned i = 0; i < 250; i++)
			ASSERT_EQ((ssize_t)sizeof(msg),
			          sendto(c, msg, sizeof(msg), 0, (struct sockaddr *)&a, sl));
	}
	b.fd = fds[0];
	for (unsigned k = 0; k < 4; k++)
		ASSERT_EQ(0, gk_loop_add_udp(b.loop, fds[k], burst_rx, &b));
	EXPECT_TRUE(run_until(b.loop, burst_done, &b, 5000));
	EXPECT_EQ(1000, b.got);
	EXPECT_LE(1, gk_loop_stats(b.loop)->rx_nobufs);
	EXPECT_LE(1, gk_loop_stats(b.loop)->rx_grown);
	EXPECT_GE(2, gk_loop_stats(b.loop)->rx_grown); /* 256 -> 512 -> 1024 at most */
	sl = sizeof(to);
	ASSERT_EQ(0, getsockname(c, (struct sockaddr *)&to, &sl));
	for (unsigned i = 0; i < 600; i++) /* queued before the loop sends any: 600 slots */
		ASSERT_EQ(0, gk_loop_sendto(b.loop, b.fd, msg, sizeof(msg), &to));
	EXPECT_EQ(2, gk_loop_stats(b.loop)->tx_grown); /* 256 -> 512 -> 1024 */
	EXPECT_EQ(0, gk_loop_stats(b.loop)->tx_no_slot);
	close(c);
	for (unsigned k = 0; k < 4; k++)
		close(fds[k]);
	gk_loop_free(b.loop);
}

#define MANY_SOCKETS 300

struct many {
	int fds[MANY_SOCKETS];
	bool heard[MANY_SOCKETS];
	unsigned got;
};

static void many_rx(void *user, int fd, uint8_t *data, size_t len,
                    const struct sockaddr_storage *from)
{
	struct many *m = user;
	for (unsigned i = 0; i < MANY_SOCKETS; i++)
		if (m->fds[i] == fd && !m->heard[i]) {
			m->heard[i] = true;
			m->got++;
		}
}

static bool many_done(void *arg)
{
	return ((struct many *)arg)->got == MANY_SOCKETS;
}

/* One loop reads as many sockets as it is given. A load generator's ipsec-3gpp terminals take two
 * each (their protected ports): when the loop read 64 at most, gkterm's terminals past the 31st
 * registered and then never heard an answer under their SAs. 300 sockets, one datagram each,
 * every one heard. */
TEST(a_loop_reads_every_socket_it_is_given)
{
	static struct many m;
	struct sockaddr_storage any, a;
	socklen_t sl;
	char err[128];
	struct gk_loop *loop = gk_loop_new(NULL, err, sizeof(err));

	ASSERT_NE(NULL, loop) TH_LOG("%s", err);
	ASSERT_EQ(0, gk_parse_addr("127.0.0.1:0", &any, err, sizeof(err)));
	int c = gk_udp_socket(&any);
	ASSERT_LE(0, c);
	for (unsigned i = 0; i < MANY_SOCKETS; i++) {
		a = any;
		m.fds[i] = gk_udp_socket(&a);
		ASSERT_LE(0, m.fds[i]);
		ASSERT_EQ(0, gk_loop_add_udp(loop, m.fds[i], many_rx, &m));
		sl = sizeof(a);
		ASSERT_EQ(0, getsockname(m.fds[i], (struct sockaddr *)&a, &sl));
		ASSERT_EQ(1, sendto(c, "x", 1, 0, (struct sockaddr *)&a, sl));
	}
	EXPECT_TRUE(run_until(loop, many_done, &m, 5000));
	EXPECT_EQ(MANY_SOCKETS, m.got);
	close(c);
	for (unsigned i = 0; i < MANY_SOCKETS; i++)
		close(m.fds[i]);
	gk_loop_free(loop);
}

/* The buffers behind 64 KiB datagrams are address space, not memory (lib/runtime/loop.c, at
 * RX_BUF_SIZE): a fresh loop with the default 4096 receive buffers and 4096 send slots (528 MiB
 * of them) holds about 1.5 MiB, its slot headers and rings; filled eagerly it would hold the
 * 528 MiB, and with each slot's header on its data's first page 16 MiB. After 256 echoes of a
 * 65,000-byte datagram, which go through 512 receive buffers in turn (the ring is FIFO), it holds
 * a page per buffer used: 2 MiB with 4 KiB pages, where 32 MiB more would stay if the pages past
 * each buffer's first were not given back. */
TEST(datagram_buffers_are_resident_only_while_used)
{
	struct echo e = {0};
	long before, fresh, after;

	fill_big(65000);
	before = rss_kib();
	ASSERT_LT(0, before);
	ASSERT_EQ(0, echo_init(&e, "127.0.0.1:0"));
	fresh = rss_kib();
	e.expect = big;
	e.expect_len = 65000;
	e.want = 256;
	e.chain = true;
	ASSERT_EQ(0, gk_loop_sendto(e.loop, e.client, big, 65000, &e.srv));
	ASSERT_EQ(0, echo_run(&e));
	after = rss_kib();
	EXPECT_FALSE(e.timed_out);
	EXPECT_EQ(e.want, e.replies);
	EXPECT_EQ(0u, gk_loop_stats(e.loop)->rx_truncated);
	TH_LOG("resident: +%ld KiB for a fresh loop, +%ld KiB after %u echoes of 65,000 bytes",
	       fresh - before, after - before, e.want);
	EXPECT_GT(8 * 1024, fresh - before);
	EXPECT_GT(8 * 1024 + 2 * (long)e.want * (sysconf(_SC_PAGESIZE) / 1024), after - before);
	echo_free(&e);
}

static unsigned unix_got, unix_other;

static void on_unix(void *user, int fd, uint8_t *data, size_t len,
                    const struct sockaddr_storage *from)
{
	(void)fd;
	(void)from;
	if (len == 5 && memcmp(data, "hello", 5) == 0)
		unix_got++;
	else
		unix_other++;
	gk_loop_stop(user);
}

/* Every UDP datagram fits GK_LOOP_DGRAM_MAX; a longer one can come only on another family's
 * socket, the AF_UNIX control socket. It is dropped unread and counted (rx_truncated, which the
 * daemons' stats show), never handed on cut short; the next one is handled as usual. */
TEST(oversize_datagram_is_counted_not_delivered)
{
	static uint8_t huge[GK_LOOP_DGRAM_MAX + 4096];
	struct gk_loop *l;
	char err[128];
	int sv[2], sndbuf = 4 * (int)sizeof(huge);
	struct gk_timer guard = {.fn = guard_fn};
	struct echo e = {0};

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv));
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	l = gk_loop_new(NULL, err, sizeof(err));
	ASSERT_NE(NULL, l);
	e.loop = l;
	current = &e;
	ASSERT_EQ(0, gk_loop_add_udp(l, sv[0], on_unix, l));
	memset(huge, 'x', sizeof(huge));
	ASSERT_EQ((ssize_t)sizeof(huge), send(sv[1], huge, sizeof(huge), 0));
	ASSERT_EQ(5, send(sv[1], "hello", 5, 0));
	gk_timer_arm(l, &guard, 5000);
	ASSERT_EQ(0, gk_loop_run(l));
	EXPECT_FALSE(e.timed_out);
	EXPECT_EQ(1u, unix_got);
	EXPECT_EQ(0u, unix_other);
	EXPECT_EQ(1u, gk_loop_stats(l)->rx_truncated);
	close(sv[0]);
	close(sv[1]);
	gk_loop_free(l);
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
/* The queue depth sbcd's admission reads: datagrams waiting in a socket raise it, taking them
 * brings it back to nothing. */
TEST(receive_queue_depth)
{
	struct sockaddr_storage a = {0};
	struct sockaddr_in *in = (struct sockaddr_in *)&a;
	socklen_t sl = sizeof(a);
	uint8_t buf[1400] = {0};
	int fd, tx;

	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = gk_udp_socket(&a);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&a, &sl));
	tx = socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT_LE(0, tx);
	EXPECT_EQ(0, gk_udp_rx_depth(fd));
	for (int i = 0; i < 200; i++)
		ASSERT_EQ((ssize_t)sizeof(buf),
		          sendto(tx, buf, sizeof(buf), 0, (struct sockaddr *)&a, sl));
	uint32_t d = gk_udp_rx_depth(fd);
	EXPECT_LT(0, d);
	EXPECT_GE(1000, d);
	while (recv(fd, buf, sizeof(buf), 0) > 0)
		;
	EXPECT_EQ(0, gk_udp_rx_depth(fd));
	close(tx);
	close(fd);
}

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

	struct gk_addrmap *a = gk_addrmap_new(64, "addrs");
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
