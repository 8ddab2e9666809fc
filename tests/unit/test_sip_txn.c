// SPDX-License-Identifier: GPL-2.0-only
/*
 * The SIP transaction layer (lib/route/sip_txn.c) on a real loop, its timers scaled down a
 * hundredfold (T1 5 ms, T2 40 ms, T4 50 ms, 64*T1 320 ms), every datagram it sends captured with
 * the loop time it went at. Server INVITE: 100 Trying after its timer, repeated for a
 * retransmission; a 486 repeated by timer G until the ACK, then timer I; no ACK: timer H; a 2xx:
 * Accepted until timer L. Server non-INVITE: the final repeated during timer J. Client INVITE:
 * timer A until a provisional, the ACK of a 486 built by the caller and repeated, timer B once, 2xx
 * passed in Accepted (RFC 6026), timer C. Client non-INVITE: timer E capped at T2, timer F. Pools
 * that fill, handles that outlive their slot, and the keys: ACK to its INVITE, CANCEL on its own,
 * sent-by in the server's key only.
 *
 * Counts of copies are taken after the end timer of a transaction has passed: retransmissions
 * keep to their schedule even when the loop runs late, so those counts do not depend on the
 * machine's load. A copy's time is only checked against when it was due (it is never early).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kselftest_harness.h"

#include "gatekey/runtime/config.h"
#include "gatekey/runtime/loop.h"
#include "gatekey/route/sip_txn.h"

#define T1       5
#define T2       40
#define T4       50
#define T64      (64 * T1)
#define SENT_MAX 64

struct sent {
	uint64_t at;
	uint32_t seal;
	size_t len;
	struct sockaddr_storage to;
	char text[160];
};

struct rig {
	struct gk_loop *loop;
	struct gk_sip_txn *t;
	struct sockaddr_storage caller, callee;
	struct sent sent[SENT_MAX];
	unsigned n_sent;
	unsigned timeouts;
	gk_sip_txn_handle timeout_h;
	uint64_t timeout_ref;
	enum gk_sip_txn_expiry timeout_why;
	/* When a client transaction times out, answer the server transaction its user_ref names
	 * with a 408 from inside the callback, as a proxy does. */
	bool answer_timeouts;
	int answer_ret;
	struct gk_timer guard;
};

static struct rig *current;

static const char invite[] = "INVITE sip:bob@198.18.2.2 SIP/2.0\r\n"
                             "Via: SIP/2.0/UDP 198.18.1.2:5060;branch=z9hG4bKa1\r\n"
                             "CSeq: 1 INVITE\r\n\r\n";
static const char message[] = "MESSAGE sip:bob@198.18.2.2 SIP/2.0\r\n"
                              "Via: SIP/2.0/UDP 198.18.1.2:5060;branch=z9hG4bKm1\r\n"
                              "CSeq: 2 MESSAGE\r\n\r\nhello";
static const char ringing[] = "SIP/2.0 180 Ringing\r\nCSeq: 1 INVITE\r\n\r\n";
static const char trying100[] = "SIP/2.0 100 Trying\r\nCSeq: 2 MESSAGE\r\n\r\n";
static const char busy[] = "SIP/2.0 486 Busy Here\r\nCSeq: 1 INVITE\r\n\r\n";
static const char terminated[] = "SIP/2.0 487 Request Terminated\r\nCSeq: 1 INVITE\r\n\r\n";
static const char ok_invite[] = "SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\n\r\n";
static const char ok_message[] = "SIP/2.0 200 OK\r\nCSeq: 2 MESSAGE\r\n\r\n";
static const char timeout408[] = "SIP/2.0 408 Request Timeout\r\nCSeq: 1 INVITE\r\n\r\n";

#define BYTES(s) (const uint8_t *)(s), sizeof(s) - 1

static void xmit(void *user, const struct sockaddr_storage *to, const uint8_t *data, size_t len,
                 uint32_t seal)
{
	struct rig *r = user;
	if (r->n_sent == SENT_MAX)
		return;
	struct sent *s = &r->sent[r->n_sent++];
	s->at = gk_loop_now(r->loop);
	s->seal = seal;
	s->len = len;
	s->to = *to;
	snprintf(s->text, sizeof(s->text), "%.*s", (int)len, (const char *)data);
}

/* The 100 names the request it was built from by its length, to show which bytes it was given. */
static int build_trying(void *user, const uint8_t *req, size_t req_len, uint8_t *out, size_t cap)
{
	(void)user;
	(void)req;
	return snprintf((char *)out, cap, "SIP/2.0 100 Trying\r\nX-Request-Bytes: %zu\r\n\r\n",
	                req_len);
}

/* The ACK names the request's method and the response's status line start. */
static int build_ack(void *user, const uint8_t *req, size_t req_len, const uint8_t *rsp,
                     size_t rsp_len, uint8_t *out, size_t cap)
{
	(void)user;
	return snprintf((char *)out, cap,
	                "ACK sip:bob@198.18.2.2 SIP/2.0\r\nX-For: %.6s %.11s\r\n\r\n",
	                req && req_len >= 6 ? (const char *)req : "none",
	                rsp_len >= 11 ? (const char *)rsp : "?");
}

static void on_timeout(void *user, gk_sip_txn_handle h, uint64_t user_ref,
                       enum gk_sip_txn_expiry why)
{
	struct rig *r = user;
	r->timeouts++;
	r->timeout_h = h;
	r->timeout_ref = user_ref;
	r->timeout_why = why;
	if (r->answer_timeouts)
		r->answer_ret = gk_sip_txn_server_respond(r->t, user_ref, 408, BYTES(timeout408));
}

static void stop_fn(struct gk_timer *tm)
{
	(void)tm;
	gk_loop_stop(current->loop);
}

/* Runs the loop until `at` (loop milliseconds) has passed. */
static void run_until(struct rig *r, uint64_t at)
{
	uint64_t now = gk_loop_now(r->loop);
	current = r;
	r->guard.fn = stop_fn;
	gk_timer_arm(r->loop, &r->guard, at > now ? at - now : 0);
	gk_loop_run(r->loop);
}

static uint64_t now_of(struct rig *r)
{
	return gk_loop_now(r->loop);
}

static int rig_open(struct rig *r, uint32_t timer_c_ms, uint32_t trying_ms)
{
	static const struct gk_sip_txn_ops ops = {.xmit = xmit,
	                                          .build_trying = build_trying,
	                                          .build_ack = build_ack,
	                                          .timeout = on_timeout};
	struct gk_sip_txn_cfg cfg;
	char err[128];

	memset(r, 0, sizeof(*r));
	r->loop = gk_loop_new(NULL, err, sizeof(err));
	if (!r->loop)
		return -1;
	gk_sip_txn_cfg_defaults(&cfg);
	cfg.time_divisor = 100;
	cfg.max_server = 8;
	cfg.max_client = 8;
	if (timer_c_ms)
		cfg.timer_c_ms = timer_c_ms;
	cfg.trying_ms = trying_ms;
	r->t = gk_sip_txn_new(&cfg, &ops, r, r->loop, err, sizeof(err));
	if (!r->t)
		return -1;
	gk_parse_addr("198.18.1.2:5060", &r->caller, err, sizeof(err));
	gk_parse_addr("198.18.2.2:5060", &r->callee, err, sizeof(err));
	return 0;
}

static void rig_close(struct rig *r)
{
	gk_sip_txn_free(r->t);
	gk_loop_free(r->loop);
}

static struct gk_sip_txn_key key_of(enum gk_sip_method m, const char *branch, const char *sent_by)
{
	struct gk_sip_txn_key k;
	if (gk_sip_txn_key_set(&k, m, branch, strlen(branch), sent_by, strlen(sent_by)) < 0)
		abort();
	return k;
}

static enum gk_sip_txn_input request_in(struct rig *r, const struct gk_sip_txn_key *k,
                                        const char *req, gk_sip_txn_handle *h)
{
	return gk_sip_txn_server_input(r->t, k, (const uint8_t *)req, strlen(req), &r->caller, 7,
	                               h);
}

static bool starts(const struct sent *s, const char *prefix)
{
	return strncmp(s->text, prefix, strlen(prefix)) == 0;
}

FIXTURE(sip)
{
	struct rig r;
};

FIXTURE_SETUP(sip)
{
	ASSERT_EQ(0, rig_open(&self->r, 0, 200));
}

FIXTURE_TEARDOWN(sip)
{
	rig_close(&self->r);
}

TEST_F(sip, invite_server_sends_trying_then_repeats_a_486_until_the_ack)
{
	struct rig *r = &self->r;
	const struct gk_sip_txn_stats *st = gk_sip_txn_stats(r->t);
	struct gk_sip_txn_key k = key_of(GK_SIP_INVITE, "z9hG4bKa1", "198.18.1.2:5060");
	struct gk_sip_txn_key ack = key_of(GK_SIP_ACK, "z9hG4bKa1", "198.18.1.2:5060");
	gk_sip_txn_handle h, h2;
	char want[64];

	ASSERT_EQ(GK_SIP_TXN_NEW, request_in(r, &k, invite, &h));
	ASSERT_NE(0, h);
	EXPECT_EQ(GK_SIP_TXN_PROCEEDING, gk_sip_txn_state(r->t, h));
	EXPECT_EQ(1, st->server_in_use);
	/* Retransmitted before the 100 went: absorbed, nothing to repeat. */
	EXPECT_EQ(GK_SIP_TXN_RETRANSMISSION, request_in(r, &k, invite, &h2));
	EXPECT_EQ(h, h2);
	EXPECT_EQ(0, r->n_sent);

	/* The 100 after trying_ms (2 ms here), built from the whole request. */
	uint64_t t0 = now_of(r);
	run_until(r, t0 + 10);
	ASSERT_EQ(1, r->n_sent);
	snprintf(want, sizeof(want), "SIP/2.0 100 Trying\r\nX-Request-Bytes: %zu", strlen(invite));
	EXPECT_TRUE(starts(&r->sent[0], want));
	EXPECT_LE(t0 + 2, r->sent[0].at);
	EXPECT_EQ(7, r->sent[0].seal);
	EXPECT_TRUE(gk_sockaddr_equal(&r->caller, &r->sent[0].to));
	EXPECT_EQ(1, st->trying_sent);
	EXPECT_EQ(-EALREADY, gk_sip_txn_server_trying(r->t, h));

	/* Retransmitted after: the 100 again, the same bytes. */
	EXPECT_EQ(GK_SIP_TXN_RETRANSMISSION, request_in(r, &k, invite, &h2));
	ASSERT_EQ(2, r->n_sent);
	EXPECT_STREQ(r->sent[0].text, r->sent[1].text);
	EXPECT_EQ(2, st->retransmissions_absorbed);
	EXPECT_EQ(1, st->responses_resent);

	/* 486: sent, then timer G at 5, 15, 35 ms (T1 doubling) while no ACK comes. */
	uint64_t r0 = now_of(r);
	ASSERT_EQ(0, gk_sip_txn_server_respond(r->t, h, 486, BYTES(busy)));
	ASSERT_EQ(3, r->n_sent);
	EXPECT_TRUE(starts(&r->sent[2], "SIP/2.0 486"));
	EXPECT_EQ(GK_SIP_TXN_COMPLETED, gk_sip_txn_state(r->t, h));
	EXPECT_EQ(-EALREADY, gk_sip_txn_server_respond(r->t, h, 600, BYTES(busy)));
	run_until(r, r0 + 55);
	ASSERT_EQ(6, r->n_sent);
	static const unsigned due[] = {T1, 3 * T1, 7 * T1};
	for (unsigned i = 0; i < 3; i++) {
		EXPECT_STREQ(r->sent[2].text, r->sent[3 + i].text);
		EXPECT_LE(r0 + due[i], r->sent[3 + i].at);
		EXPECT_EQ(7, r->sent[3 + i].seal);
	}
	/* The INVITE again: the final again. */
	EXPECT_EQ(GK_SIP_TXN_RETRANSMISSION, request_in(r, &k, invite, &h2));
	ASSERT_EQ(7, r->n_sent);
	EXPECT_TRUE(starts(&r->sent[6], "SIP/2.0 486"));

	/* The ACK: Confirmed, timer G stops; its repeat and the INVITE's are absorbed silently. */
	EXPECT_EQ(GK_SIP_TXN_ACK_ABSORBED, request_in(r, &ack, "ACK", &h2));
	EXPECT_EQ(h, h2);
	EXPECT_EQ(GK_SIP_TXN_CONFIRMED, gk_sip_txn_state(r->t, h));
	EXPECT_EQ(GK_SIP_TXN_ACK_ABSORBED, request_in(r, &ack, "ACK", &h2));
	EXPECT_EQ(GK_SIP_TXN_RETRANSMISSION, request_in(r, &k, invite, &h2));
	EXPECT_EQ(2, st->acks_absorbed);
	uint64_t a0 = now_of(r);
	run_until(r, a0 + T4 - 20);
	EXPECT_EQ(7, r->n_sent);
	EXPECT_EQ(GK_SIP_TXN_CONFIRMED, gk_sip_txn_state(r->t, h));

	/* Timer I (T4): gone, nothing reported. */
	run_until(r, a0 + T4 + 5);
	EXPECT_EQ(GK_SIP_TXN_GONE, gk_sip_txn_state(r->t, h));
	EXPECT_EQ(0, st->server_in_use);
	EXPECT_EQ(0, r->timeouts);
	EXPECT_EQ(-ENOENT, gk_sip_txn_server_respond(r->t, h, 486, BYTES(busy)));
	/* Now the INVITE would be a new transaction. */
	EXPECT_EQ(0, gk_sip_txn_server_find(r->t, &k));
}

TEST_F(sip, invite_server_gives_up_an_unacked_final_at_timer_h)
{
	struct rig *r = &self->r;
	const struct gk_sip_txn_stats *st = gk_sip_txn_stats(r->t);
	struct gk_sip_txn_key k = key_of(GK_SIP_INVITE, "z9hG4bKh1", "198.18.1.2:5060");
	gk_sip_txn_handle h;

	ASSERT_EQ(GK_SIP_TXN_NEW, request_in(r, &k, invite, &h));
	ASSERT_EQ(0, gk_sip_txn_set_ref(r->t, h, 0xfeed));
	/* Answered before trying_ms: no 100 from the layer. */
	uint64_t r0 = now_of(r);
	ASSERT_EQ(0, gk_sip_txn_server_respond(r->t, h, 486, BYTES(busy)));
	run_until(r, r0 + T64 + 20);
	EXPECT_EQ(0, st->trying_sent);
	/* G at 5, 15, 35, then capped at T2: 75, 115, ..., 315; H at 320. Uncapped doubling would
	 * make 6, no doubling 63. */
	EXPECT_EQ(1 + 10, r->n_sent);
	EXPECT_EQ(10, st->responses_resent);
	uint64_t due = 0, gap = T1;
	for (unsigned i = 1; i < r->n_sent; i++) {
		due += gap;
		EXPECT_LE(r0 + due, r->sent[i].at);
		EXPECT_TRUE(starts(&r->sent[i], "SIP/2.0 486"));
		gap = 2 * gap < T2 ? 2 * gap : T2;
	}
	EXPECT_EQ(1, r->timeouts);
	EXPECT_EQ(GK_SIP_TXN_TIMER_H, r->timeout_why);
	EXPECT_EQ(h, r->timeout_h);
	EXPECT_EQ(0xfeed, r->timeout_ref);
	EXPECT_EQ(1, st->server_timeouts);
	EXPECT_EQ(GK_SIP_TXN_GONE, gk_sip_txn_state(r->t, h));
	EXPECT_EQ(0, st->server_in_use);
}

TEST_F(sip, invite_server_accepts_a_2xx_and_absorbs_retransmissions_until_timer_l)
{
	struct rig *r = &self->r;
	const struct gk_sip_txn_stats *st = gk_sip_txn_stats(r->t);
	struct gk_sip_txn_key k = key_of(GK_SIP_INVITE, "z9hG4bKl1", "198.18.1.2:5060");
	struct gk_sip_txn_key ack = key_of(GK_SIP_ACK, "z9hG4bKl1", "198.18.1.2:5060");
	gk_sip_txn_handle h, h2;

	ASSERT_EQ(GK_SIP_TXN_NEW, request_in(r, &k, invite, &h));
	ASSERT_EQ(0, gk_sip_txn_server_respond(r->t, h, 180, BYTES(ringing)));
	EXPECT_EQ(GK_SIP_TXN_PROCEEDING, gk_sip_txn_state(r->t, h));
	/* The last provisional goes again for a retransmission. */
	EXPECT_EQ(GK_SIP_TXN_RETRANSMISSION, request_in(r, &k, invite, &h2));
	ASSERT_EQ(2, r->n_sent);
	EXPECT_TRUE(starts(&r->sent[1], "SIP/2.0 180"));

	uint64_t r0 = now_of(r);
	ASSERT_EQ(0, gk_sip_txn_server_respond(r->t, h, 200, BYTES(ok_invite)));
	EXPECT_EQ(GK_SIP_TXN_ACCEPTED, gk_sip_txn_state(r->t, h));
	ASSERT_EQ(3, r->n_sent);
	/* RFC 6026: retransmitted INVITEs absorbed, nothing sent again... */
	EXPECT_EQ(GK_SIP_TXN_RETRANSMISSION, request_in(r, &k, invite, &h2));
	EXPECT_EQ(3, r->n_sent);
	/* ...but the 2xx the proxy forwards again go out, and nothing else does. */
	EXPECT_EQ(0, gk_sip_txn_server_respond(r->t, h, 200, BYTES(ok_invite)));
	EXPECT_EQ(4, r->n_sent);
	EXPECT_EQ(-EALREADY, gk_sip_txn_server_respond(r->t, h, 486, BYTES(busy)));
	EXPECT_EQ(-EALREADY, gk_sip_txn_server_respond(r->t, h, 180, BYTES(ringing)));
	/* An ACK on the INVITE's branch is the caller's to forward. */
	EXPECT_EQ(GK_SIP_TXN_ACK_PASS, request_in(r, &ack, "ACK", &h2));
	EXPECT_EQ(h, h2);
	EXPECT_EQ(1, st->acks_passed);

	run_until(r, r0 + T64 - 20);
	EXPECT_EQ(GK_SIP_TXN_ACCEPTED, gk_sip_txn_state(r->t, h));
	EXPECT_EQ(4, r->n_sent); /* the layer never repeats a 2xx */
	run_until(r, r0 + T64 + 10);
	EXPECT_EQ(GK_SIP_TXN_GONE, gk_sip_txn_state(r->t, h));
	EXPECT_EQ(0, r->timeouts);
	EXPECT_EQ(0, st->server_in_use);
	EXPECT_EQ(0, st->trying_sent);
}

TEST_F(sip, non_invite_server_repeats_its_final_during_timer_j)
{
	struct rig *r = &self->r;
	const struct gk_sip_txn_stats *st = gk_sip_txn_stats(r->t);
	struct gk_sip_txn_key k = key_of(GK_SIP_MESSAGE, "z9hG4bKm1", "198.18.1.2:5060");
	gk_sip_txn_handle h, h2;

	ASSERT_EQ(GK_SIP_TXN_NEW, request_in(r, &k, message, &h));
	EXPECT_EQ(GK_SIP_TXN_TRYING, gk_sip_txn_state(r->t, h));
	/* Trying: a retransmission is absorbed with nothing to send; no 100 for a non-INVITE. */
	run_until(r, now_of(r) + 20);
	EXPECT_EQ(GK_SIP_TXN_RETRANSMISSION, request_in(r, &k, message, &h2));
	EXPECT_EQ(0, r->n_sent);
	EXPECT_EQ(-EINVAL, gk_sip_txn_server_trying(r->t, h));

	uint64_t r0 = now_of(r);
	ASSERT_EQ(0, gk_sip_txn_server_respond(r->t, h, 200, BYTES(ok_message)));
	EXPECT_EQ(GK_SIP_TXN_COMPLETED, gk_sip_txn_state(r->t, h));
	for (unsigned i = 0; i < 3; i++) {
		run_until(r, now_of(r) + 30);
		EXPECT_EQ(GK_SIP_TXN_RETRANSMISSION, request_in(r, &k, message, &h2));
	}
	ASSERT_EQ(4, r->n_sent);
	for (unsigned i = 1; i < 4; i++)
		EXPECT_STREQ(r->sent[0].text, r->sent[i].text);
	EXPECT_EQ(3, st->responses_resent);
	/* Only for retransmissions: nothing by timer. */
	run_until(r, r0 + T64 - 25);
	EXPECT_EQ(4, r->n_sent);
	EXPECT_EQ(GK_SIP_TXN_COMPLETED, gk_sip_txn_state(r->t, h));
	run_until(r, r0 + T64 + 10);
	EXPECT_EQ(GK_SIP_TXN_GONE, gk_sip_txn_state(r->t, h));
	EXPECT_EQ(0, r->timeouts);
	EXPECT_EQ(0, st->server_in_use);
}

TEST_F(sip, invite_client_retransmits_until_a_provisional_and_acks_a_486)
{
	struct rig *r = &self->r;
	const struct gk_sip_txn_stats *st = gk_sip_txn_stats(r->t);
	struct gk_sip_txn_key k = key_of(GK_SIP_INVITE, "z9hG4bKc1", "198.18.0.1:5060");
	gk_sip_txn_handle h, h2;
	uint64_t ref;
	size_t len;

	uint64_t s0 = now_of(r);
	ASSERT_EQ(0, gk_sip_txn_client_send(r->t, &k, BYTES(invite), &r->callee, 9, 42, &h));
	EXPECT_EQ(GK_SIP_TXN_CALLING, gk_sip_txn_state(r->t, h));
	EXPECT_EQ(-EEXIST, gk_sip_txn_client_send(r->t, &k, BYTES(invite), &r->callee, 9, 42, &h2));
	EXPECT_FALSE(gk_sip_txn_client_cancellable(r->t, h)); /* §9.1: not before a provisional */
	ASSERT_EQ(1, r->n_sent);
	EXPECT_TRUE(gk_sockaddr_equal(&r->callee, &r->sent[0].to));

	/* Timer A: 5, 15, 35 ms. */
	run_until(r, s0 + 50);
	ASSERT_EQ(4, r->n_sent);
	static const unsigned due[] = {T1, 3 * T1, 7 * T1};
	for (unsigned i = 0; i < 3; i++) {
		EXPECT_STREQ(r->sent[0].text, r->sent[1 + i].text);
		EXPECT_LE(s0 + due[i], r->sent[1 + i].at);
		EXPECT_EQ(9, r->sent[1 + i].seal);
	}
	EXPECT_EQ(3, st->client_retransmissions);

	/* A 180 stops it; it passes, and so does the next provisional. */
	EXPECT_EQ(GK_SIP_TXN_PASS,
	          gk_sip_txn_client_response(r->t, &k, 180, BYTES(ringing), &h2, &ref));
	EXPECT_EQ(h, h2);
	EXPECT_EQ(42, ref);
	EXPECT_EQ(GK_SIP_TXN_PROCEEDING, gk_sip_txn_state(r->t, h));
	EXPECT_TRUE(gk_sip_txn_client_cancellable(r->t, h));
	EXPECT_EQ(GK_SIP_TXN_PASS,
	          gk_sip_txn_client_response(r->t, &k, 180, BYTES(ringing), NULL, NULL));
	const uint8_t *kept = gk_sip_txn_client_request(r->t, h, &len);
	ASSERT_NE(NULL, kept);
	EXPECT_EQ(sizeof(invite) - 1, len);
	EXPECT_EQ(0, memcmp(kept, invite, len));
	run_until(r, now_of(r) + 200);
	EXPECT_EQ(4, r->n_sent);

	/* A 486 passes once and is ACKed by the layer with what build_ack made. */
	EXPECT_EQ(GK_SIP_TXN_PASS,
	          gk_sip_txn_client_response(r->t, &k, 486, BYTES(busy), NULL, NULL));
	EXPECT_EQ(GK_SIP_TXN_COMPLETED, gk_sip_txn_state(r->t, h));
	EXPECT_FALSE(gk_sip_txn_client_cancellable(r->t, h));
	EXPECT_EQ(NULL, gk_sip_txn_client_request(r->t, h, &len));
	ASSERT_EQ(5, r->n_sent);
	EXPECT_TRUE(
	    starts(&r->sent[4], "ACK sip:bob@198.18.2.2 SIP/2.0\r\nX-For: INVITE SIP/2.0 486"));
	EXPECT_TRUE(gk_sockaddr_equal(&r->callee, &r->sent[4].to));
	EXPECT_EQ(9, r->sent[4].seal);
	EXPECT_EQ(1, st->acks_sent);
	/* Its retransmission is absorbed, and the same ACK goes again. */
	uint64_t d0 = now_of(r);
	EXPECT_EQ(GK_SIP_TXN_ABSORBED,
	          gk_sip_txn_client_response(r->t, &k, 486, BYTES(busy), NULL, NULL));
	ASSERT_EQ(6, r->n_sent);
	EXPECT_STREQ(r->sent[4].text, r->sent[5].text);
	EXPECT_EQ(2, st->acks_sent);
	EXPECT_EQ(3, st->responses_passed);
	EXPECT_EQ(1, st->responses_absorbed);

	/* Timer D (32 s, 320 ms here), then gone without a report. */
	run_until(r, d0 + 320 - 20);
	EXPECT_EQ(GK_SIP_TXN_COMPLETED, gk_sip_txn_state(r->t, h));
	run_until(r, d0 + 320 + 10);
	EXPECT_EQ(GK_SIP_TXN_GONE, gk_sip_txn_state(r->t, h));
	EXPECT_EQ(6, r->n_sent);
	EXPECT_EQ(0, r->timeouts);
	EXPECT_EQ(0, st->client_in_use);
	EXPECT_EQ(GK_SIP_TXN_STRAY,
	          gk_sip_txn_client_response(r->t, &k, 486, BYTES(busy), NULL, NULL));
}

TEST_F(sip, invite_client_times_out_once_at_timer_b)
{
	struct rig *r = &self->r;
	const struct gk_sip_txn_stats *st = gk_sip_txn_stats(r->t);
	struct gk_sip_txn_key up = key_of(GK_SIP_INVITE, "z9hG4bKup", "198.18.1.2:5060");
	struct gk_sip_txn_key down = key_of(GK_SIP_INVITE, "z9hG4bKdown", "198.18.0.1:5060");
	gk_sip_txn_handle hs, hc;

	/* A proxy's pair: the server transaction upstream, the client one downstream naming it. */
	ASSERT_EQ(GK_SIP_TXN_NEW, request_in(r, &up, invite, &hs));
	r->n_sent = 0;
	r->answer_timeouts = true;
	uint64_t s0 = now_of(r);
	ASSERT_EQ(0, gk_sip_txn_client_send(r->t, &down, BYTES(invite), &r->callee, 0, hs, &hc));
	run_until(r, s0 + T64 + 30);

	/* Timer A at 5, 15, 35, 75, 155, 315 ms: uncapped doubling; then B at 320 ms. */
	EXPECT_EQ(6, st->client_retransmissions);
	EXPECT_EQ(1, r->timeouts);
	EXPECT_EQ(GK_SIP_TXN_TIMER_B, r->timeout_why);
	EXPECT_EQ(hc, r->timeout_h);
	EXPECT_EQ(hs, r->timeout_ref);
	EXPECT_EQ(1, st->client_timeouts);
	EXPECT_EQ(GK_SIP_TXN_GONE, gk_sip_txn_state(r->t, hc));
	/* The callback could answer upstream at once. */
	EXPECT_EQ(0, r->answer_ret);
	EXPECT_EQ(GK_SIP_TXN_COMPLETED, gk_sip_txn_state(r->t, hs));
	unsigned invites = 0;
	for (unsigned i = 0; i < r->n_sent; i++)
		invites += starts(&r->sent[i], "INVITE");
	EXPECT_EQ(7, invites);

	/* Reported once: nothing more later, and a late response is stray. */
	r->answer_timeouts = false;
	run_until(r, now_of(r) + 50);
	EXPECT_EQ(1, r->timeouts);
	EXPECT_EQ(GK_SIP_TXN_STRAY,
	          gk_sip_txn_client_response(r->t, &down, 180, BYTES(ringing), NULL, NULL));
	EXPECT_EQ(1, st->stray_responses);

	/* Upstream ACKs the 408; timer I ends it. */
	struct gk_sip_txn_key ack = key_of(GK_SIP_ACK, "z9hG4bKup", "198.18.1.2:5060");
	gk_sip_txn_handle h2;
	EXPECT_EQ(GK_SIP_TXN_ACK_ABSORBED, request_in(r, &ack, "ACK", &h2));
	run_until(r, now_of(r) + T4 + 10);
	EXPECT_EQ(0, st->server_in_use);
	EXPECT_EQ(0, st->client_in_use);
}

TEST_F(sip, invite_client_passes_every_2xx_in_accepted)
{
	struct rig *r = &self->r;
	const struct gk_sip_txn_stats *st = gk_sip_txn_stats(r->t);
	struct gk_sip_txn_key k = key_of(GK_SIP_INVITE, "z9hG4bKok", "198.18.0.1:5060");
	gk_sip_txn_handle h;

	ASSERT_EQ(0, gk_sip_txn_client_send(r->t, &k, BYTES(invite), &r->callee, 0, 1, &h));
	uint64_t r0 = now_of(r);
	EXPECT_EQ(GK_SIP_TXN_PASS,
	          gk_sip_txn_client_response(r->t, &k, 200, BYTES(ok_invite), NULL, NULL));
	EXPECT_EQ(GK_SIP_TXN_ACCEPTED, gk_sip_txn_state(r->t, h));
	/* RFC 6026: the 2xx's retransmission goes to the caller too, to forward end to end. */
	EXPECT_EQ(GK_SIP_TXN_PASS,
	          gk_sip_txn_client_response(r->t, &k, 200, BYTES(ok_invite), NULL, NULL));
	EXPECT_EQ(GK_SIP_TXN_ABSORBED,
	          gk_sip_txn_client_response(r->t, &k, 180, BYTES(ringing), NULL, NULL));
	EXPECT_EQ(GK_SIP_TXN_ABSORBED,
	          gk_sip_txn_client_response(r->t, &k, 486, BYTES(busy), NULL, NULL));
	EXPECT_FALSE(gk_sip_txn_client_cancellable(r->t, h));
	EXPECT_EQ(0, st->acks_sent); /* the ACK of a 2xx is end to end, not the layer's */
	run_until(r, r0 + T64 - 20);
	EXPECT_EQ(GK_SIP_TXN_ACCEPTED, gk_sip_txn_state(r->t, h));
	EXPECT_EQ(1, r->n_sent); /* no timer A after the response */
	EXPECT_EQ(GK_SIP_TXN_PASS,
	          gk_sip_txn_client_response(r->t, &k, 200, BYTES(ok_invite), NULL, NULL));
	run_until(r, r0 + T64 + 10); /* timer M */
	EXPECT_EQ(GK_SIP_TXN_GONE, gk_sip_txn_state(r->t, h));
	EXPECT_EQ(0, r->timeouts);
	EXPECT_EQ(0, st->client_in_use);
}

TEST_F(sip, non_invite_client_caps_timer_e_at_t2_and_times_out_at_f)
{
	struct rig *r = &self->r;
	const struct gk_sip_txn_stats *st = gk_sip_txn_stats(r->t);
	struct gk_sip_txn_key k = key_of(GK_SIP_MESSAGE, "z9hG4bKe1", "198.18.0.1:5060");
	gk_sip_txn_handle h;

	uint64_t s0 = now_of(r);
	ASSERT_EQ(0, gk_sip_txn_client_send(r->t, &k, BYTES(message), &r->callee, 3, 77, &h));
	EXPECT_EQ(GK_SIP_TXN_TRYING, gk_sip_txn_state(r->t, h));
	run_until(r, s0 + T64 + 20);
	/* E at 5, 15, 35 ms, then every T2: 75, ..., 315; F at 320. Uncapped would make 6. */
	ASSERT_EQ(1 + 10, r->n_sent);
	uint64_t due = 0, gap = T1;
	for (unsigned i = 1; i < r->n_sent; i++) {
		due += gap;
		EXPECT_LE(s0 + due, r->sent[i].at);
		EXPECT_STREQ(r->sent[0].text, r->sent[i].text);
		gap = 2 * gap < T2 ? 2 * gap : T2;
	}
	EXPECT_EQ(1, r->timeouts);
	EXPECT_EQ(GK_SIP_TXN_TIMER_F, r->timeout_why);
	EXPECT_EQ(77, r->timeout_ref);
	EXPECT_EQ(GK_SIP_TXN_GONE, gk_sip_txn_state(r->t, h));
	EXPECT_EQ(0, st->client_in_use);
}

TEST_F(sip, non_invite_client_after_a_provisional_repeats_every_t2_then_completes)
{
	struct rig *r = &self->r;
	const struct gk_sip_txn_stats *st = gk_sip_txn_stats(r->t);
	struct gk_sip_txn_key k = key_of(GK_SIP_MESSAGE, "z9hG4bKe2", "198.18.0.1:5060");
	gk_sip_txn_handle h;

	uint64_t s0 = now_of(r);
	ASSERT_EQ(0, gk_sip_txn_client_send(r->t, &k, BYTES(message), &r->callee, 0, 0, &h));
	EXPECT_EQ(GK_SIP_TXN_PASS,
	          gk_sip_txn_client_response(r->t, &k, 100, BYTES(trying100), NULL, NULL));
	EXPECT_EQ(GK_SIP_TXN_PROCEEDING, gk_sip_txn_state(r->t, h));
	run_until(r, s0 + 185);
	/* E due at 5 still goes, then every T2: 45, 85, 125, 165 (the next at 205). */
	EXPECT_EQ(1 + 5, r->n_sent);
	EXPECT_EQ(GK_SIP_TXN_PASS,
	          gk_sip_txn_client_response(r->t, &k, 200, BYTES(ok_message), NULL, NULL));
	EXPECT_EQ(GK_SIP_TXN_COMPLETED, gk_sip_txn_state(r->t, h));
	EXPECT_EQ(GK_SIP_TXN_ABSORBED,
	          gk_sip_txn_client_response(r->t, &k, 200, BYTES(ok_message), NULL, NULL));
	uint64_t k0 = now_of(r);
	run_until(r, k0 + T4 + 10); /* timer K */
	EXPECT_EQ(GK_SIP_TXN_GONE, gk_sip_txn_state(r->t, h));
	EXPECT_EQ(1 + 5, r->n_sent);
	EXPECT_EQ(0, r->timeouts);
	EXPECT_EQ(0, st->client_in_use);
}

TEST_F(sip, full_pools_refuse_and_every_slot_comes_back)
{
	struct rig *r = &self->r;
	const struct gk_sip_txn_stats *st = gk_sip_txn_stats(r->t);
	gk_sip_txn_handle hs[8], hc[8], h;
	char branch[32];

	for (unsigned i = 0; i < 8; i++) {
		snprintf(branch, sizeof(branch), "z9hG4bKs%u", i);
		struct gk_sip_txn_key k = key_of(GK_SIP_MESSAGE, branch, "198.18.1.2:5060");
		ASSERT_EQ(GK_SIP_TXN_NEW, request_in(r, &k, message, &hs[i]));
		snprintf(branch, sizeof(branch), "z9hG4bKc%u", i);
		k = key_of(GK_SIP_MESSAGE, branch, "198.18.0.1:5060");
		ASSERT_EQ(
		    0, gk_sip_txn_client_send(r->t, &k, BYTES(message), &r->callee, 0, i, &hc[i]));
	}
	EXPECT_EQ(8, st->server_in_use);
	EXPECT_EQ(8, st->client_in_use);
	struct gk_sip_txn_key more = key_of(GK_SIP_MESSAGE, "z9hG4bKs8", "198.18.1.2:5060");
	EXPECT_EQ(GK_SIP_TXN_NONE_AVAILABLE, request_in(r, &more, message, &h));
	EXPECT_EQ(0, h);
	EXPECT_EQ(1, st->pool_full);
	more = key_of(GK_SIP_MESSAGE, "z9hG4bKc8", "198.18.0.1:5060");
	EXPECT_EQ(-ENOBUFS,
	          gk_sip_txn_client_send(r->t, &more, BYTES(message), &r->callee, 0, 8, &h));
	EXPECT_EQ(2, st->pool_full);
	/* A retransmission still finds its transaction in a full pool. */
	struct gk_sip_txn_key again = key_of(GK_SIP_MESSAGE, "z9hG4bKs3", "198.18.1.2:5060");
	EXPECT_EQ(GK_SIP_TXN_RETRANSMISSION, request_in(r, &again, message, &h));
	EXPECT_EQ(hs[3], h);

	for (unsigned i = 0; i < 8; i++)
		ASSERT_EQ(0, gk_sip_txn_server_respond(r->t, hs[i], 200, BYTES(ok_message)));
	run_until(r, now_of(r) + T64 + 30); /* timers J, and F for the unanswered client ones */
	EXPECT_EQ(0, st->server_in_use);
	EXPECT_EQ(0, st->client_in_use);
	EXPECT_EQ(8, r->timeouts);
	EXPECT_EQ(8, st->client_timeouts);

	/* The slots serve again; the old handle of the slot taken names nothing. */
	EXPECT_EQ(GK_SIP_TXN_NEW, request_in(r, &more, message, &h));
	gk_sip_txn_handle old = 0;
	for (unsigned i = 0; i < 8; i++)
		if ((uint32_t)hs[i] == (uint32_t)h)
			old = hs[i];
	ASSERT_NE(0, old);
	EXPECT_NE(old, h);
	EXPECT_EQ(GK_SIP_TXN_GONE, gk_sip_txn_state(r->t, old));
	EXPECT_EQ(-ENOENT, gk_sip_txn_server_respond(r->t, old, 200, BYTES(ok_message)));
	EXPECT_EQ(-ENOENT, gk_sip_txn_set_ref(r->t, old, 1));
	EXPECT_EQ(GK_SIP_TXN_TRYING, gk_sip_txn_state(r->t, h));
	EXPECT_EQ(1, st->server_in_use);
}

TEST_F(sip, keys_match_ack_to_its_invite_and_cancel_on_its_own)
{
	struct rig *r = &self->r;
	const struct gk_sip_txn_stats *st = gk_sip_txn_stats(r->t);
	struct gk_sip_txn_key inv = key_of(GK_SIP_INVITE, "z9hG4bKk1", "198.18.1.2:5060");
	struct gk_sip_txn_key cancel = key_of(GK_SIP_CANCEL, "z9hG4bKk1", "198.18.1.2:5060");
	struct gk_sip_txn_key other_host = key_of(GK_SIP_INVITE, "z9hG4bKk1", "198.18.1.3:5060");
	struct gk_sip_txn_key ack = key_of(GK_SIP_ACK, "z9hG4bKk1", "198.18.1.2:5060");
	struct gk_sip_txn_key stray_ack = key_of(GK_SIP_ACK, "z9hG4bKzz", "198.18.1.2:5060");
	struct gk_sip_txn_key shouted = key_of(GK_SIP_INVITE, "Z9HG4BKK1", "198.18.1.2:5060");
	gk_sip_txn_handle hi, hc, ho, h;

	ASSERT_EQ(GK_SIP_TXN_NEW, request_in(r, &inv, invite, &hi));
	/* CANCEL: its own transaction on the same branch; the INVITE it cancels by §9.2. */
	ASSERT_EQ(GK_SIP_TXN_NEW, request_in(r, &cancel, "CANCEL", &hc));
	EXPECT_NE(hi, hc);
	struct gk_sip_txn_key cancelled = cancel;
	cancelled.method = GK_SIP_INVITE;
	EXPECT_EQ(hi, gk_sip_txn_server_find(r->t, &cancelled));
	EXPECT_EQ(hc, gk_sip_txn_server_find(r->t, &cancel));
	/* The same branch from another sent-by is another transaction. */
	ASSERT_EQ(GK_SIP_TXN_NEW, request_in(r, &other_host, invite, &ho));
	EXPECT_NE(hi, ho);
	EXPECT_EQ(3, st->server_new);
	/* Branches and hosts compare without case. */
	EXPECT_EQ(GK_SIP_TXN_RETRANSMISSION, request_in(r, &shouted, invite, &h));
	EXPECT_EQ(hi, h);

	/* An ACK finds the INVITE's transaction, not the CANCEL's; one matching none passes. */
	ASSERT_EQ(0, gk_sip_txn_server_respond(r->t, hi, 487, BYTES(terminated)));
	EXPECT_EQ(GK_SIP_TXN_ACK_ABSORBED, request_in(r, &ack, "ACK", &h));
	EXPECT_EQ(hi, h);
	EXPECT_EQ(GK_SIP_TXN_CONFIRMED, gk_sip_txn_state(r->t, hi));
	EXPECT_EQ(GK_SIP_TXN_TRYING, gk_sip_txn_state(r->t, hc));
	EXPECT_EQ(GK_SIP_TXN_ACK_PASS, request_in(r, &stray_ack, "ACK", &h));
	EXPECT_EQ(0, h);
	EXPECT_EQ(3, st->server_in_use); /* ACKs make no transaction */

	/* Client side: the key is branch and method, the sent-by is ours and not compared. */
	struct gk_sip_txn_key cinv = key_of(GK_SIP_INVITE, "z9hG4bKk2", "198.18.0.1:5060");
	struct gk_sip_txn_key ccancel = key_of(GK_SIP_CANCEL, "z9hG4bKk2", "198.18.0.1:5060");
	struct gk_sip_txn_key cresp = key_of(GK_SIP_INVITE, "z9hG4bKk2", "");
	struct gk_sip_txn_key cack = key_of(GK_SIP_ACK, "z9hG4bKk2", "198.18.0.1:5060");
	gk_sip_txn_handle ci, cc;
	ASSERT_EQ(0, gk_sip_txn_client_send(r->t, &cinv, BYTES(invite), &r->callee, 0, 0, &ci));
	EXPECT_EQ(ci, gk_sip_txn_client_find(r->t, &cresp));
	EXPECT_EQ(-EINVAL, gk_sip_txn_client_send(r->t, &cack, BYTES("ACK"), &r->callee, 0, 0, &h));
	ASSERT_EQ(0,
	          gk_sip_txn_client_send(r->t, &ccancel, BYTES("CANCEL"), &r->callee, 0, 0, &cc));
	EXPECT_NE(ci, cc);
	EXPECT_EQ(GK_SIP_TXN_PASS,
	          gk_sip_txn_client_response(r->t, &ccancel, 200, BYTES(ok_message), &h, NULL));
	EXPECT_EQ(cc, h);
	EXPECT_EQ(GK_SIP_TXN_COMPLETED, gk_sip_txn_state(r->t, cc));
	EXPECT_EQ(GK_SIP_TXN_CALLING, gk_sip_txn_state(r->t, ci));
	EXPECT_EQ(0, gk_sip_txn_client_find(r->t, &inv)); /* a server key is not a client one */

	/* Keys that do not fit are refused for the caller to go stateless. */
	struct gk_sip_txn_key bad;
	char longer[GK_SIP_BRANCH_MAX + 2];
	memset(longer, 'a', sizeof(longer));
	EXPECT_EQ(-E2BIG, gk_sip_txn_key_set(&bad, GK_SIP_INVITE, longer, sizeof(longer), "h", 1));
	EXPECT_EQ(0, gk_sip_txn_key_set(&bad, GK_SIP_INVITE, longer, GK_SIP_BRANCH_MAX, "h", 1));
	EXPECT_EQ(-EINVAL, gk_sip_txn_key_set(&bad, GK_SIP_INVITE, "", 0, "h", 1));
	EXPECT_EQ(-EINVAL, gk_sip_txn_key_set(&bad, GK_SIP_NONE, "z9hG4bK1", 8, "h", 1));
	EXPECT_EQ(GK_SIP_INVITE, gk_sip_method_of("INVITE", 6));
	EXPECT_EQ(GK_SIP_SUBSCRIBE, gk_sip_method_of("SUBSCRIBE", 9));
	EXPECT_EQ(GK_SIP_OTHER, gk_sip_method_of("invite", 6)); /* methods are case-sensitive */
	EXPECT_EQ(GK_SIP_OTHER, gk_sip_method_of("FOO", 3));
	EXPECT_EQ(GK_SIP_NONE, gk_sip_method_of("", 0));
}

/* Timer C on the client side, and the server that never hears a final from its caller. */
TEST(timer_c_lets_the_cancel_finish_and_silent_callers_are_given_up)
{
	struct rig rr, *r = &rr;
	ASSERT_EQ(0, rig_open(r, 10000, 200)); /* timer C 100 ms */
	const struct gk_sip_txn_stats *st = gk_sip_txn_stats(r->t);
	struct gk_sip_txn_key c = key_of(GK_SIP_INVITE, "z9hG4bKtc", "198.18.0.1:5060");
	struct gk_sip_txn_key s = key_of(GK_SIP_INVITE, "z9hG4bKts", "198.18.1.2:5060");
	struct gk_sip_txn_key m = key_of(GK_SIP_MESSAGE, "z9hG4bKtm", "198.18.1.2:5060");
	gk_sip_txn_handle hc, hs, hm;

	ASSERT_EQ(0, gk_sip_txn_client_send(r->t, &c, BYTES(invite), &r->callee, 0, 5, &hc));
	ASSERT_EQ(GK_SIP_TXN_NEW, request_in(r, &s, invite, &hs));
	ASSERT_EQ(GK_SIP_TXN_NEW, request_in(r, &m, message, &hm));
	uint64_t p0 = now_of(r);
	EXPECT_EQ(GK_SIP_TXN_PASS,
	          gk_sip_txn_client_response(r->t, &c, 180, BYTES(ringing), NULL, NULL));

	/* Timer C: reported, but the transaction stays for the CANCEL's 487. */
	run_until(r, p0 + 100 + 10);
	ASSERT_EQ(1, r->timeouts);
	EXPECT_EQ(GK_SIP_TXN_TIMER_C, r->timeout_why);
	EXPECT_EQ(hc, r->timeout_h);
	EXPECT_EQ(5, r->timeout_ref);
	EXPECT_EQ(1, st->timer_c);
	EXPECT_EQ(GK_SIP_TXN_PROCEEDING, gk_sip_txn_state(r->t, hc));
	EXPECT_TRUE(gk_sip_txn_client_cancellable(r->t, hc));
	unsigned before = r->n_sent;
	EXPECT_EQ(GK_SIP_TXN_PASS,
	          gk_sip_txn_client_response(r->t, &c, 487, BYTES(terminated), NULL, NULL));
	ASSERT_EQ(before + 1, r->n_sent);
	EXPECT_TRUE(starts(&r->sent[before], "ACK"));

	/* The non-INVITE server's caller never answers: given up after 64*T1 + T4. */
	run_until(r, p0 + T64 + T4 + 25);
	EXPECT_EQ(GK_SIP_TXN_GONE, gk_sip_txn_state(r->t, hm));
	EXPECT_EQ(2, r->timeouts);
	EXPECT_EQ(GK_SIP_TXN_NO_FINAL, r->timeout_why);
	EXPECT_EQ(hm, r->timeout_h);
	/* The INVITE server's caller: timer C plus 64*T1 plus T4. */
	EXPECT_EQ(GK_SIP_TXN_PROCEEDING, gk_sip_txn_state(r->t, hs));
	run_until(r, p0 + 100 + T64 + T4 + 10);
	EXPECT_EQ(GK_SIP_TXN_GONE, gk_sip_txn_state(r->t, hs));
	EXPECT_EQ(3, r->timeouts);
	EXPECT_EQ(GK_SIP_TXN_NO_FINAL, r->timeout_why);
	EXPECT_EQ(2, st->server_timeouts);
	run_until(r, now_of(r) + 320 + 10); /* timer D of the 487 */
	EXPECT_EQ(0, st->client_in_use);
	EXPECT_EQ(0, st->server_in_use);
	EXPECT_EQ(1, st->trying_sent); /* the INVITE server's 100 */
	rig_close(r);
}

/* A callee that rings and then answers nothing, not even the CANCEL timer C brings: 64*T1 after
 * timer C the client INVITE reports timer B (§9.1: taken as cancelled), and the proxy's server
 * transaction, which waits T4 longer than that, still takes the 408 for the caller. */
TEST(a_cancelled_invite_without_a_final_reports_timer_b_while_its_server_can_answer)
{
	struct rig rr, *r = &rr;
	ASSERT_EQ(0, rig_open(r, 10000, 200)); /* timer C 100 ms */
	const struct gk_sip_txn_stats *st = gk_sip_txn_stats(r->t);
	struct gk_sip_txn_key up = key_of(GK_SIP_INVITE, "z9hG4bKup", "198.18.1.2:5060");
	struct gk_sip_txn_key down = key_of(GK_SIP_INVITE, "z9hG4bKdown", "198.18.0.1:5060");
	gk_sip_txn_handle hs, hc;

	ASSERT_EQ(GK_SIP_TXN_NEW, request_in(r, &up, invite, &hs));
	ASSERT_EQ(0, gk_sip_txn_client_send(r->t, &down, BYTES(invite), &r->callee, 0, hs, &hc));
	uint64_t p0 = now_of(r);
	EXPECT_EQ(GK_SIP_TXN_PASS,
	          gk_sip_txn_client_response(r->t, &down, 180, BYTES(ringing), NULL, NULL));
	EXPECT_EQ(0, gk_sip_txn_server_respond(r->t, hs, 180, BYTES(ringing))); /* forwarded */

	run_until(r, p0 + 100 + 10);
	ASSERT_EQ(1, r->timeouts);
	EXPECT_EQ(GK_SIP_TXN_TIMER_C, r->timeout_why);
	/* the proxy would CANCEL now; nothing answers it */
	r->answer_timeouts = true;
	run_until(r, p0 + 100 + T64 + T4 - 5);
	ASSERT_EQ(2, r->timeouts);
	EXPECT_EQ(GK_SIP_TXN_TIMER_B, r->timeout_why);
	EXPECT_EQ(hc, r->timeout_h);
	EXPECT_EQ(hs, r->timeout_ref);
	EXPECT_EQ(0, r->answer_ret); /* the 408 went upstream */
	EXPECT_EQ(GK_SIP_TXN_COMPLETED, gk_sip_txn_state(r->t, hs));
	EXPECT_EQ(GK_SIP_TXN_GONE, gk_sip_txn_state(r->t, hc));
	EXPECT_EQ(1, st->client_timeouts);
	EXPECT_EQ(0, st->server_timeouts);
	rig_close(r);
}

/* trying_ms 0: the 100 goes with the request; and gk_sip_txn_server_trying sends it early. */
TEST(trying_at_once_or_on_demand)
{
	struct rig rr, *r = &rr;
	ASSERT_EQ(0, rig_open(r, 0, 0));
	struct gk_sip_txn_key a = key_of(GK_SIP_INVITE, "z9hG4bKt0", "198.18.1.2:5060");
	gk_sip_txn_handle h;
	ASSERT_EQ(GK_SIP_TXN_NEW, request_in(r, &a, invite, &h));
	ASSERT_EQ(1, r->n_sent);
	EXPECT_TRUE(starts(&r->sent[0], "SIP/2.0 100 Trying"));
	EXPECT_EQ(-EALREADY, gk_sip_txn_server_trying(r->t, h));
	rig_close(r);

	ASSERT_EQ(0, rig_open(r, 0, 200));
	ASSERT_EQ(GK_SIP_TXN_NEW, request_in(r, &a, invite, &h));
	EXPECT_EQ(0, r->n_sent);
	EXPECT_EQ(0, gk_sip_txn_server_trying(r->t, h));
	ASSERT_EQ(1, r->n_sent);
	EXPECT_TRUE(starts(&r->sent[0], "SIP/2.0 100 Trying"));
	run_until(r, now_of(r) + 10);
	EXPECT_EQ(1, r->n_sent); /* not again by the timer */
	EXPECT_EQ(1, gk_sip_txn_stats(r->t)->trying_sent);
	rig_close(r);
}

/* A response too long to keep is sent and counted, and not repeated. */
TEST_F(sip, a_response_too_long_to_keep_is_sent_once)
{
	struct rig *r = &self->r;
	static uint8_t big[GK_SIP_TXN_MSG_MAX + 1];
	struct gk_sip_txn_key k = key_of(GK_SIP_MESSAGE, "z9hG4bKbig", "198.18.1.2:5060");
	gk_sip_txn_handle h, h2;

	memset(big, 'x', sizeof(big));
	ASSERT_EQ(GK_SIP_TXN_NEW, request_in(r, &k, message, &h));
	ASSERT_EQ(0, gk_sip_txn_server_respond(r->t, h, 200, big, sizeof(big)));
	EXPECT_EQ(1, r->n_sent);
	EXPECT_EQ(sizeof(big), r->sent[0].len);
	EXPECT_EQ(1, gk_sip_txn_stats(r->t)->too_long_to_store);
	EXPECT_EQ(GK_SIP_TXN_RETRANSMISSION, request_in(r, &k, message, &h2));
	EXPECT_EQ(1, r->n_sent);
	EXPECT_EQ(GK_SIP_TXN_COMPLETED, gk_sip_txn_state(r->t, h));
}

TEST_HARNESS_MAIN
