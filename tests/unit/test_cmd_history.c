// SPDX-License-Identifier: GPL-2.0-only
/*
 * The received-command history of the command bindings (lib/cmd/cmd_txn.c) under load, MGCP and
 * H.248: every answer is kept for T-hist at command rates far above what the fixed pool of 4096
 * held for a second, in memory that grows in steps with what is remembered, starts small and
 * stops at max_in; at max_in the oldest answer gives way, counted, and a copy of its command is
 * then handed on as new; commands still being worked on never give way; answers go at T-hist,
 * not before, and an acknowledged one gives its bytes back at once.
 */
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "kselftest_harness.h"

#include "helper_loop.h"

#include "gatekey/cmd/cmd_txn.h"
#include "gatekey/cmd/h248.h"
#include "gatekey/cmd/mgcp.h"
#include "gatekey/runtime/config.h"

/* What the layer put on the wire last, and how often. */
struct wire_log {
	unsigned sent;
	uint8_t last[GK_CMD_BUF];
	size_t last_len;
	struct sockaddr_storage last_to;
};

static void xmit(void *user, const struct sockaddr_storage *to, const uint8_t *buf, size_t len,
                 uint32_t seal)
{
	struct wire_log *w = user;
	(void)seal;
	w->sent++;
	w->last_len = len;
	memcpy(w->last, buf, len);
	w->last_to = *to;
}

static uint32_t no_wait(void *user)
{
	(void)user;
	return 0;
}

FIXTURE(hist)
{
	struct gk_loop *loop;
	struct gk_cmd_txn *t;
	struct wire_log log;
	struct gk_msg ka; /* a keep-alive, decoded: every command fed is a copy with its own tid */
	struct sockaddr_storage peer[4];
};

FIXTURE_VARIANT(hist)
{
	const struct gk_codec *codec;
};

FIXTURE_VARIANT_ADD(hist, mgcp){.codec = &gk_mgcp_codec};
FIXTURE_VARIANT_ADD(hist, h248){.codec = &gk_h248_codec};

FIXTURE_SETUP(hist)
{
	static const char *const addrs[4] = {"198.18.1.2:2427", "198.18.1.2:2428",
	                                     "198.18.1.3:2427", "[2001:db8::7]:2427"};
	char err[128], text[512];
	enum gk_reason why;
	int n =
	    variant->codec->proto == GK_PROTO_MGCP
	        ? snprintf(
	              text, sizeof(text),
	              "NTFY 1 alice@ss1 MGCP 1.0\r\nX: 0\r\nO: gk/ka\r\nX-GK-TS: 1732795200\r\n")
	        : snprintf(text, sizeof(text),
	                   "MEGACO/1 [198.18.1.2]:2944\r\nTransaction = 1 { Context = - { Notify = "
	                   "ROOT { ObservedEvents = 0 { gk/ka { idc = \"alice\", idsp = \"ss1\", "
	                   "ts = 1732795200 } } } } }\r\n");

	memset(&self->log, 0, sizeof(self->log));
	self->loop = gk_loop_new(NULL, err, sizeof(err));
	ASSERT_NE(NULL, self->loop) TH_LOG("%s", err);
	ASSERT_EQ(0, variant->codec->decode((const uint8_t *)text, (size_t)n, &self->ka, &why));
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(0, gk_parse_addr(addrs[i], &self->peer[i], err, sizeof(err)));
	self->t = NULL;
}

FIXTURE_TEARDOWN(hist)
{
	gk_cmd_txn_free(self->t);
	gk_loop_free(self->loop);
}

/* A history answering every command at once (a terminal's side), or with defer (the network's
 * side: the exchange's commands wait for the state machine). */
static struct gk_cmd_txn *history(struct gk_loop *loop, const struct gk_codec *codec,
                                  struct wire_log *log, uint32_t max_in, uint32_t t_hist_ms,
                                  bool defer)
{
	static const struct gk_cmd_txn_ops ops = {.xmit = xmit, .shed = no_wait};
	struct gk_cmd_txn_cfg tc;
	char err[128];

	gk_cmd_txn_cfg_defaults(&tc);
	if (max_in)
		tc.max_in = max_in;
	tc.t_hist_ms = t_hist_ms;
	tc.defer = defer;
	return gk_cmd_txn_new(codec, &tc, &ops, log, loop, err, sizeof(err));
}

/* The keep-alive with transaction id tid from peer p: what gk_cmd_txn_input returns. */
static int feed(FIXTURE_DATA(hist) * self, uint32_t tid, int p)
{
	struct gk_msg m = self->ka;
	gk_cmd_wire_of(&m)->tid = tid;
	return gk_cmd_txn_input(self->t, &m, &self->peer[p], 0);
}

struct ticker {
	struct gk_timer t;
	struct gk_loop *loop;
};

static void stop_fn(struct gk_timer *t)
{
	gk_loop_stop(((struct ticker *)(void *)((char *)t - offsetof(struct ticker, t)))->loop);
}

/* Lets the loop's clock move on by ms, its timers firing as they come due. */
static void tick(struct gk_loop *loop, uint64_t ms)
{
	struct ticker k = {.t = {.fn = stop_fn}, .loop = loop};

	gk_timer_arm(loop, &k.t, ms);
	gk_loop_run(loop);
}

static bool history_empty(void *arg)
{
	return gk_cmd_txn_in_count(arg) == 0;
}

/* 24,000 commands in a fraction of T-hist (the old pool held 4,096 answers, about a second at the
 * soak's rate): each keeps its answer until T-hist, the first one's copy gets the very same
 * bytes, none is evicted; then every answer goes, at T-hist and not before. */
TEST_F(hist, every_answer_is_kept_for_t_hist_at_a_high_rate)
{
	enum { ROUNDS = 6, PER_ROUND = 4000, T_HIST_MS = 1500 };
	uint8_t first[GK_CMD_BUF];
	size_t first_len = 0;
	uint32_t tid = 1;

	self->t = history(self->loop, variant->codec, &self->log, 0, T_HIST_MS, false);
	ASSERT_NE(NULL, self->t);
	uint64_t t0 = gk_loop_now(self->loop);
	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < PER_ROUND; i++, tid++) {
			ASSERT_EQ(1, feed(self, tid, (int)(tid % 4)));
			if (tid == 1) {
				first_len = self->log.last_len;
				memcpy(first, self->log.last, first_len);
			}
		}
		tick(self->loop, 20);
	}
	ASSERT_LT(gk_loop_now(self->loop) - t0, T_HIST_MS) TH_LOG("the machine is too slow");
	EXPECT_EQ(ROUNDS * PER_ROUND, gk_cmd_txn_in_count(self->t));
	EXPECT_EQ(0, gk_cmd_txn_stats(self->t)->evicted);

	unsigned sent = self->log.sent;
	EXPECT_EQ(0, feed(self, 1, 1)); /* the oldest, again: remembered */
	EXPECT_EQ(sent + 1, self->log.sent);
	ASSERT_EQ(first_len, self->log.last_len);
	EXPECT_EQ(0, memcmp(first, self->log.last, first_len));
	EXPECT_TRUE(gk_sockaddr_equal(&self->peer[1], &self->log.last_to));
	EXPECT_EQ(1, gk_cmd_txn_stats(self->t)->duplicates);

	ASSERT_TRUE(run_until(self->loop, history_empty, self->t, 5 * T_HIST_MS));
	EXPECT_GE(gk_loop_now(self->loop) - t0, T_HIST_MS);
	EXPECT_EQ(0, gk_cmd_txn_stats(self->t)->evicted);
	EXPECT_EQ(1, feed(self, 1, 1)); /* past T-hist a copy is a new command */
}

/* Memory follows what is remembered: the default maximum (a million commands) costs nothing
 * until used, 100,000 remembered answers cost a few hundred bytes each, the old pool's 1.7 KB
 * a slot long gone, and the history got there in a handful of doubling steps. */
TEST_F(hist, the_history_grows_in_steps_with_what_it_remembers)
{
	enum { N = 100000 };

	self->t = history(self->loop, variant->codec, &self->log, 0, 30000, false);
	ASSERT_NE(NULL, self->t);
	uint64_t idle = gk_cmd_txn_resident_bytes(self->t);
	EXPECT_LT(idle, 128 * 1024) TH_LOG("idle: %llu bytes", (unsigned long long)idle);
	EXPECT_EQ(0, gk_cmd_txn_stats(self->t)->grown);

	for (uint32_t tid = 1; tid <= N; tid++)
		ASSERT_EQ(1, feed(self, tid, (int)(tid % 4)));
	EXPECT_EQ(N, gk_cmd_txn_in_count(self->t));
	EXPECT_EQ(0, gk_cmd_txn_stats(self->t)->evicted);
	uint64_t used = gk_cmd_txn_resident_bytes(self->t) - idle;
	/* a 64-byte slot, two hash heads, one to three 60-byte cells: under 300 bytes each, and a
	 * step may have doubled what is needed */
	EXPECT_LT(used, 2ull * N * 300)
	TH_LOG("%llu bytes a command", (unsigned long long)used / N);
	EXPECT_GT(used, 64ull * N);
	unsigned grown = (unsigned)gk_cmd_txn_stats(self->t)->grown;
	EXPECT_GE(grown, 8u); /* slots from 256 past 100,000 */
	EXPECT_LE(grown, 40u);
	TH_LOG("%s: %llu bytes a remembered command, %u steps", variant->codec->name,
	       (unsigned long long)used / N, grown);
}

/* At max_in memory stops growing whatever comes; the oldest answers give way, counted as evicted
 * before T-hist; a copy of an evicted command is new (handed on), a copy of a kept one is not. */
TEST_F(hist, at_its_maximum_the_oldest_answer_gives_way)
{
	enum { MAX = 64 };

	self->t = history(self->loop, variant->codec, &self->log, MAX, 30000, false);
	ASSERT_NE(NULL, self->t);
	for (uint32_t tid = 1; tid <= MAX; tid++)
		ASSERT_EQ(1, feed(self, tid, 0));
	EXPECT_EQ(0, gk_cmd_txn_stats(self->t)->evicted);
	for (uint32_t tid = MAX + 1; tid <= MAX + 10; tid++)
		ASSERT_EQ(1, feed(self, tid, 0));
	uint64_t full = gk_cmd_txn_resident_bytes(self->t);
	EXPECT_EQ(MAX, gk_cmd_txn_in_count(self->t));
	EXPECT_EQ(10, gk_cmd_txn_stats(self->t)->evicted);
	EXPECT_EQ(10, gk_cmd_txn_stats(self->t)->evicted_young);

	for (uint32_t tid = 1000; tid < 11000; tid++)
		ASSERT_EQ(1, feed(self, tid, (int)(tid % 4)));
	EXPECT_EQ(full, gk_cmd_txn_resident_bytes(self->t));
	EXPECT_EQ(MAX, gk_cmd_txn_in_count(self->t));

	EXPECT_EQ(1, feed(self, 1, 0));             /* evicted long ago: new */
	EXPECT_EQ(0, feed(self, 10999, 10999 % 4)); /* among the newest: kept */
}

static int other_ok(FIXTURE_DATA(hist) * self, uint32_t tid, int p)
{
	struct gk_msg m = self->ka, ok;

	gk_cmd_wire_of(&m)->tid = tid;
	memset(&ok, 0, offsetof(struct gk_msg, wire));
	ok.proto = m.proto;
	ok.type = GK_MSG_OTHER_OK;
	memcpy(ok.idc, m.idc, sizeof(ok.idc));
	memcpy(ok.idsp, m.idsp, sizeof(ok.idsp));
	gk_msg_copy_wire(&ok, &m);
	return gk_cmd_txn_output(self->t, &ok, &self->peer[p], 0, 0);
}

/* On the network's side, commands of the exchange wait for the state machine: those never give
 * way, an answered one does; with every slot working, a new command is refused as overload at
 * once (shed), not kept. */
TEST_F(hist, commands_being_worked_on_never_give_way)
{
	enum { MAX = 16 };

	self->t = history(self->loop, variant->codec, &self->log, MAX, 30000, true);
	ASSERT_NE(NULL, self->t);
	for (uint32_t tid = 1; tid <= MAX; tid++)
		ASSERT_EQ(1, feed(self, tid, 0));
	EXPECT_EQ(0, self->log.sent);
	EXPECT_EQ(0, feed(self, 100, 0));
	EXPECT_EQ(1, gk_cmd_txn_stats(self->t)->shed);
	EXPECT_EQ(0, gk_cmd_txn_stats(self->t)->evicted);
	EXPECT_EQ(MAX, gk_cmd_txn_in_count(self->t));

	ASSERT_EQ(0, other_ok(self, 7, 0)); /* the state machine answers 7 and 8 */
	ASSERT_EQ(0, other_ok(self, 8, 0));
	EXPECT_EQ(1, feed(self, 101, 0)); /* 7 gives way, not a working one */
	EXPECT_EQ(1, gk_cmd_txn_stats(self->t)->evicted);
	EXPECT_EQ(1, feed(self, 7, 0)); /* so a copy of 7 is new: 8 gives way to it */
	EXPECT_EQ(2, gk_cmd_txn_stats(self->t)->evicted);
	EXPECT_EQ(0, feed(self, 102, 0)); /* nothing answered left to give way */
	EXPECT_EQ(2, gk_cmd_txn_stats(self->t)->shed);
	EXPECT_EQ(1, feed(self, 9, 0)); /* 9 still works: its copy goes on, with a pending */
	EXPECT_EQ(1, gk_cmd_txn_stats(self->t)->pending_sent);
}

/* Commands the state machine never answers are forgotten after t_work_ms, answers after T-hist;
 * the timers of both lists end what is due and nothing else. */
TEST_F(hist, working_commands_and_answers_expire_on_their_own_clocks)
{
	static const struct gk_cmd_txn_ops ops = {.xmit = xmit};
	struct gk_cmd_txn_cfg tc;
	char err[128];

	gk_cmd_txn_cfg_defaults(&tc);
	tc.defer = true;
	tc.t_work_ms = 100;
	tc.t_hist_ms = 300;
	self->t =
	    gk_cmd_txn_new(variant->codec, &tc, &ops, &self->log, self->loop, err, sizeof(err));
	ASSERT_NE(NULL, self->t) TH_LOG("%s", err);
	ASSERT_EQ(1, feed(self, 1, 0));
	ASSERT_EQ(1, feed(self, 2, 0));
	ASSERT_EQ(0, other_ok(self, 2, 0));
	tick(self->loop, 200);
	EXPECT_EQ(1, gk_cmd_txn_in_count(self->t)); /* 1 forgotten, 2 kept */
	EXPECT_EQ(1, gk_cmd_txn_stats(self->t)->replies_forgotten);
	EXPECT_EQ(0, feed(self, 2, 0));
	ASSERT_TRUE(run_until(self->loop, history_empty, self->t, 2000));
	EXPECT_EQ(1, gk_cmd_txn_stats(self->t)->replies_forgotten);
	EXPECT_EQ(0, gk_cmd_txn_stats(self->t)->evicted);
}

/* The peer's acknowledgement of our answers (MGCP 000 or K:, H.248 TransactionResponseAck)
 * frees them at once, bytes included: cycles of commands acknowledged as they come use the same
 * memory over and over. */
TEST_F(hist, acknowledged_answers_give_their_room_back)
{
	self->t = history(self->loop, variant->codec, &self->log, 0, 30000, false);
	ASSERT_NE(NULL, self->t);
	uint64_t after_first = 0;
	for (uint32_t cycle = 0; cycle < 10; cycle++) {
		uint32_t base = 1 + cycle * 1000;
		for (uint32_t tid = base; tid < base + 1000; tid++)
			ASSERT_EQ(1, feed(self, tid, 2));
		struct gk_msg ack = self->ka;
		struct gk_cmd_wire *w = gk_cmd_wire_of(&ack);
		w->kind = GK_CMD_RESP_ACK;
		w->n_acks = 2;
		w->acks[0].first = base; /* two ranges, 1,000 ids in all */
		w->acks[0].last = base + 99;
		w->acks[1].first = base + 100;
		w->acks[1].last = base + 999;
		EXPECT_EQ(0, gk_cmd_txn_input(self->t, &ack, &self->peer[2], 0));
		EXPECT_EQ(0, gk_cmd_txn_in_count(self->t));
		if (!cycle)
			after_first = gk_cmd_txn_resident_bytes(self->t);
	}
	EXPECT_EQ(after_first, gk_cmd_txn_resident_bytes(self->t));
	EXPECT_EQ(10, gk_cmd_txn_stats(self->t)->resp_acks_in);

	/* An acknowledgement of every id there is frees what the first 1,024 ids name, at the cost
	 * of those lookups: the rest of the answers expire at T-hist. */
	for (uint32_t tid = 1; tid <= 2000; tid++)
		ASSERT_EQ(1, feed(self, tid, 2));
	struct gk_msg all = self->ka;
	struct gk_cmd_wire *w = gk_cmd_wire_of(&all);
	w->kind = GK_CMD_RESP_ACK;
	w->n_acks = 1;
	w->acks[0].first = 1;
	w->acks[0].last = GK_CMD_TID_MAX;
	EXPECT_EQ(0, gk_cmd_txn_input(self->t, &all, &self->peer[2], 0));
	EXPECT_EQ(2000 - 1024, gk_cmd_txn_in_count(self->t));
}

/* The same transaction id from different peers (ports, hosts, IPv6 with a scope) is a different
 * command, and each copy is answered to where it came from. */
TEST_F(hist, a_transaction_id_is_per_peer)
{
	char err[64];
	struct sockaddr_storage scoped;

	self->t = history(self->loop, variant->codec, &self->log, 0, 30000, false);
	ASSERT_NE(NULL, self->t);
	for (int p = 0; p < 4; p++)
		ASSERT_EQ(1, feed(self, 42, p));
	EXPECT_EQ(4, gk_cmd_txn_in_count(self->t));
	for (int p = 3; p >= 0; p--) {
		EXPECT_EQ(0, feed(self, 42, p));
		EXPECT_TRUE(gk_sockaddr_equal(&self->peer[p], &self->log.last_to));
	}
	/* an IPv6 peer's scope comes back with its answer */
	ASSERT_EQ(0, gk_parse_addr("[fe80::1]:2427", &scoped, err, sizeof(err)));
	((struct sockaddr_in6 *)&scoped)->sin6_scope_id = 3;
	struct gk_msg m = self->ka;
	gk_cmd_wire_of(&m)->tid = 43;
	ASSERT_EQ(1, gk_cmd_txn_input(self->t, &m, &scoped, 0));
	EXPECT_EQ(0, gk_cmd_txn_input(self->t, &m, &scoped, 0));
	EXPECT_EQ(3u, ((struct sockaddr_in6 *)&self->log.last_to)->sin6_scope_id);
}

/* Commands from n hosts on one port, host i sending transaction id tid(i), each then copied once:
 * the seconds it takes. */
static double hosts_and_copies(FIXTURE_DATA(hist) * self, const struct gk_codec *codec, uint32_t n,
                               bool same_tid)
{
	struct timespec a, b;
	struct gk_msg m = self->ka;

	gk_cmd_txn_free(self->t);
	self->t = history(self->loop, codec, &self->log, 0, 30000, false);
	if (!self->t)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int copy = 0; copy < 2; copy++) {
		for (uint32_t i = 0; i < n; i++) {
			struct sockaddr_storage ss;
			struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;

			memset(&ss, 0, sizeof(ss));
			v4->sin_family = AF_INET;
			v4->sin_port = htons(2427);
			v4->sin_addr.s_addr = htonl(0x0a000000u + i);
			gk_cmd_wire_of(&m)->tid = same_tid ? 1 : 1 + i;
			if (gk_cmd_txn_input(self->t, &m, &ss, 0) != !copy)
				return -1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
}

/* Every MGCP gateway sends from 2427, and after a mass restart thousands of them start their
 * transaction ids at the same number; a stranger picks its ids and hosts as it likes. Where a
 * command lands in the history must not follow from what its peer chose: the same id from 16,384
 * hosts, each copied once, costs about what 16,384 different ids do, where one chain through
 * them all would cost 16,384 / 2 steps a lookup. */
TEST_F(hist, one_transaction_id_from_many_hosts_costs_no_more_than_many_ids)
{
	enum { N = 16384 };
	double spread = hosts_and_copies(self, variant->codec, N, false);
	double same = hosts_and_copies(self, variant->codec, N, true);

	ASSERT_LE(0, spread);
	ASSERT_LE(0, same);
	EXPECT_EQ(N, gk_cmd_txn_in_count(self->t));
	EXPECT_EQ(N, gk_cmd_txn_stats(self->t)->duplicates);
	TH_LOG("%s: %.1f ms for %u different ids, %.1f ms for one id from as many hosts",
	       variant->codec->name, spread * 1e3, N, same * 1e3);
	EXPECT_GT(4 * spread + 0.02, same);
}

/* A command we send ends with its peer's final response, or after max_retx retransmissions; a
 * provisional response (MGCP 100, H.248 TransactionPending) restarts the wait. The peer may be
 * anyone who sent us a command (a stranger's REGISTER gets a CHALLENGE command): one that answers
 * every copy with a provisional response must not hold the command, and with max_out of them
 * every command's room, for ever. */
TEST_F(hist, a_peer_answering_pending_for_ever_does_not_hold_a_command)
{
	static const struct gk_cmd_txn_ops ops = {.xmit = xmit};
	struct gk_cmd_txn_cfg tc;
	struct gk_msg m = self->ka, sent;
	enum gk_reason why;
	char err[128];

	gk_cmd_txn_cfg_defaults(&tc);
	tc.defer = true;
	tc.t_init_ms = 5;
	tc.t_max_ms = 10;
	tc.max_retx = 3;
	tc.t_pending_ms = 40;
	self->t =
	    gk_cmd_txn_new(variant->codec, &tc, &ops, &self->log, self->loop, err, sizeof(err));
	ASSERT_NE(NULL, self->t) TH_LOG("%s", err);
	ASSERT_EQ(0, gk_cmd_txn_output(self->t, &m, &self->peer[0], 0, 1));
	ASSERT_EQ(0, variant->codec->decode(self->log.last, self->log.last_len, &sent, &why));
	uint32_t tid = gk_cmd_wire_of(&sent)->tid;
	ASSERT_EQ(1, gk_cmd_txn_out_count(self->t));

	/* 3 s of a provisional response every 20 ms: without one the command would have ended
	 * after about 35 ms */
	for (int i = 0; i < 150 && gk_cmd_txn_out_count(self->t); i++) {
		struct gk_msg p = self->ka;
		struct gk_cmd_wire *w = gk_cmd_wire_of(&p);
		w->kind = GK_CMD_PENDING;
		w->tid = tid;
		EXPECT_EQ(0, gk_cmd_txn_input(self->t, &p, &self->peer[0], 0));
		tick(self->loop, 20);
	}
	EXPECT_EQ(0, gk_cmd_txn_out_count(self->t));
	EXPECT_EQ(1, gk_cmd_txn_stats(self->t)->gave_up);
	EXPECT_LT(0, gk_cmd_txn_stats(self->t)->pending_in);
}

/* A small deterministic generator, so that a failure can be run again. */
static uint32_t next_rand(uint32_t *state)
{
	*state = *state * 1664525u + 1013904223u;
	return *state >> 8;
}

/* Random traffic on a small history (32 commands, a few milliseconds of T-hist), the network's
 * side: new commands and copies from two peers over a few hundred ids, answers, acknowledgements
 * and time passing, so slots and cells are evicted, expired, acknowledged and reused in every
 * order. Whatever goes out for a copy is the response of that very transaction, to its own peer
 * (cells never cross), and the history never holds more than its maximum. Under the sanitizer
 * build this is also the history's memory-safety check. */
TEST_F(hist, random_traffic_keeps_every_answer_its_own)
{
	static const struct gk_cmd_txn_ops ops = {.xmit = xmit, .shed = no_wait};
	enum { MAX = 32, STEPS = 20000, IDS = 300 };
	struct gk_cmd_txn_cfg tc;
	uint32_t seed = 20261207;
	char err[128];
	uint64_t resident_max = 0;

	gk_cmd_txn_cfg_defaults(&tc);
	tc.defer = true;
	tc.max_in = MAX;
	tc.t_work_ms = 5;
	tc.t_hist_ms = 10;
	self->t =
	    gk_cmd_txn_new(variant->codec, &tc, &ops, &self->log, self->loop, err, sizeof(err));
	ASSERT_NE(NULL, self->t) TH_LOG("%s", err);
	for (int step = 0; step < STEPS; step++) {
		uint32_t r = next_rand(&seed) % 100, tid = 1 + next_rand(&seed) % IDS;
		int p = (int)(next_rand(&seed) % 2);

		if (r < 55) {
			unsigned sent = self->log.sent;
			feed(self, tid, p);
			if (self->log.sent == sent)
				continue;
			struct gk_msg m;
			enum gk_reason why;
			ASSERT_EQ(
			    0, variant->codec->decode(self->log.last, self->log.last_len, &m, &why))
			TH_LOG("step %d: undecodable", step);
			EXPECT_EQ(tid, gk_cmd_wire_of(&m)->tid) TH_LOG("step %d", step);
			EXPECT_TRUE(gk_sockaddr_equal(&self->peer[p], &self->log.last_to));
		} else if (r < 85) {
			ASSERT_EQ(0, other_ok(self, tid, p));
		} else if (r < 97) {
			struct gk_msg ack = self->ka;
			struct gk_cmd_wire *w = gk_cmd_wire_of(&ack);
			w->kind = GK_CMD_RESP_ACK;
			w->n_acks = 1;
			w->acks[0].first = tid;
			w->acks[0].last = tid + next_rand(&seed) % 8;
			EXPECT_EQ(0, gk_cmd_txn_input(self->t, &ack, &self->peer[p], 0));
		} else {
			tick(self->loop, next_rand(&seed) % 4);
		}
		ASSERT_LE(gk_cmd_txn_in_count(self->t), MAX);
		uint64_t resident = gk_cmd_txn_resident_bytes(self->t);
		resident_max = resident > resident_max ? resident : resident_max;
	}
	EXPECT_LT(resident_max, 256 * 1024);
	EXPECT_GT(gk_cmd_txn_stats(self->t)->evicted, 0);
	EXPECT_GT(gk_cmd_txn_stats(self->t)->duplicates, 0);
	EXPECT_GT(gk_cmd_txn_stats(self->t)->replies_forgotten, 0);
	ASSERT_TRUE(run_until(self->loop, history_empty, self->t, 2000));
}

TEST_HARNESS_MAIN
