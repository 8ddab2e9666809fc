// SPDX-License-Identifier: GPL-2.0-only
/*
 * Relay slots (lib/exchange/relay.c) and the softswitch's end of the core leg that keeps its SBCs'
 * requests in them (lib/exchange/uplink_core.c), against the attack of issue 12: requests whose
 * answer never comes (two REGISTERs per IDc through an SBC, the first one superseded inside the
 * core; datagrams lost on the core leg) must not hold the slots, and with them every later request,
 * until the daemon restarts. Each slot waits a bounded time, is then freed and counted, and a
 * late answer finds nothing. Timings are short and real (the loop's clock); the tests wait for
 * conditions, never for a fixed time alone. The slots grow in steps only as far as the most
 * requests that waited at once, which is the step the ten-minute soak saw sbcd take (tables.relay
 * in the stats).
 */
#include <string.h>

#include "gatekey/runtime/steps.h"

#include "helper_loop.h"
#include "kselftest_harness.h"

#include "gatekey/runtime/config.h"
#include "gatekey/exchange/direct.h"
#include "gatekey/exchange/relay.h"
#include "gatekey/exchange/uplink.h"
#include "gatekey/exchange/uplink_core.h"

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
	struct gk_relay *r = gk_relay_new(loop, SLOTS, 40, "relay");
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
	struct gk_relay *r = gk_relay_new(loop, 4, 150, "relay");
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

/*
 * The softswitch serving an SBC: the SBC's core-leg requests go through lib/exchange/uplink_core.c
 * into the real core (lib/exchange/core.c); the AuC never answers, so the core refuses each request
 * it keeps after auc_timeout_ms, and a request it drops without a verdict can only be freed by
 * expiry.
 */
#define PEER_SLOTS     8
#define AUC_TIMEOUT_MS 40
#define PEER_TTL_MS    (AUC_TIMEOUT_MS + 100)

struct ss {
	struct gk_loop *loop;
	struct gk_direct d;
	struct gk_uplink_core up;
	struct sockaddr_storage sbc;
	unsigned sent, rejects, auc_asked, stops;
	uint16_t last_reason;
	uint32_t last_retry_after;
	char auc_idc[GK_ID_MAX + 1];
};

static void ss_send(void *user, struct gk_msg *m, const struct sockaddr_storage *to)
{
	struct ss *w = user;
	(void)to;
	w->sent++;
	if (m->type == GK_MSG_REJECT)
		w->rejects++;
	w->last_reason = m->reason;
	w->last_retry_after = m->retry_after;
}

static void ss_auc_request(void *user, uint32_t handle, const char *idc, const char *idsp)
{
	struct ss *w = user;
	(void)handle, (void)idsp;
	w->auc_asked++;
	snprintf(w->auc_idc, sizeof(w->auc_idc), "%s", idc);
}

static void ss_acct(void *user, const struct gk_auc_acct *a)
{
	if (a->status != GK_RAD_ACCT_START)
		((struct ss *)user)->stops++;
}

static void ss_terminal(void *user, const struct gk_msg *m, const struct sockaddr_storage *to,
                        struct gk_binding *b)
{
	(void)user, (void)m, (void)to, (void)b;
}

static void ss_challenge(void *user, uint64_t ref, const uint8_t rand[GK_RAND_LEN])
{
	gk_uplink_core_challenge(&((struct ss *)user)->up, ref, rand);
}

static void ss_success(void *user, uint64_t ref, const uint8_t rand[GK_RAND_LEN],
                       const uint8_t bt[GK_BLOB_LEN], const uint8_t be[GK_BLOB_LEN])
{
	gk_uplink_core_success(&((struct ss *)user)->up, ref, rand, bt, be);
}

static void ss_reject(void *user, uint64_t ref, enum gk_reason why)
{
	gk_uplink_core_reject(&((struct ss *)user)->up, ref, why);
}

static void sbc_register(struct ss *w, const char *idc)
{
	struct gk_msg m;
	gk_uplink_request(&m, GK_MSG_REGISTER, idc, "sbc1", NULL, NULL, NULL);
	m.proto = GK_PROTO_SIP;
	gk_uplink_core_request(&w->up, "sbc1", &m, &w->sbc);
}

FIXTURE(softswitch)
{
	struct ss w;
};

FIXTURE_SETUP(softswitch)
{
	static const struct gk_direct_ops ops = {
	    .send_terminal = ss_terminal,
	    .auc_request = ss_auc_request,
	    .auc_accounting = ss_acct,
	    .peer_challenge = ss_challenge,
	    .peer_success = ss_success,
	    .peer_reject = ss_reject,
	};
	struct gk_registrar_cfg rc;
	struct gk_core_cfg cc;
	char err[128];
	struct ss *w = &self->w;

	memset(w, 0, sizeof(*w));
	w->loop = gk_loop_new(NULL, err, sizeof(err));
	ASSERT_NE(NULL, w->loop);
	gk_registrar_cfg_defaults(&rc);
	snprintf(rc.idsp, sizeof(rc.idsp), "ss1");
	gk_random(rc.element_key, GK_KEY_LEN);
	rc.max_terminals = 256;
	rc.max_pending = 16;
	rc.log_registrations = false;
	gk_core_cfg_defaults(&cc);
	cc.max_terminals = 256;
	cc.max_pending = 64;
	cc.auc_timeout_ms = AUC_TIMEOUT_MS;
	ASSERT_EQ(0, gk_direct_init(&w->d, &rc, &cc, &ops, w, w->loop, err, sizeof(err)));
	ASSERT_EQ(0, gk_uplink_core_init(&w->up, w->d.core, w->loop, PEER_SLOTS, PEER_TTL_MS,
	                                 ss_send, w));
	ASSERT_EQ(0, gk_parse_addr("198.18.2.1:5060", &w->sbc, err, sizeof(err)));
}

FIXTURE_TEARDOWN(softswitch)
{
	/* the relay cancels its timer, which moves others in the loop's heap: before the core
	 * and the front free theirs without cancelling them (as softswitchd stops) */
	gk_uplink_core_fini(&self->w.up);
	gk_direct_fini(&self->w.d);
	gk_loop_free(self->w.loop);
}

/* An SBC's deregistration on the core leg, in the transaction named call_id. */
static void sbc_deregister(struct ss *w, const char *idc, const char *call_id)
{
	struct gk_msg m;
	gk_uplink_request(&m, GK_MSG_DEREGISTER, idc, "sbc1", NULL, NULL, "198.18.1.2:5060");
	m.proto = GK_PROTO_SIP;
	gk_sip_set(&m.wire.sip, GK_SIP_CALL_ID, call_id, strlen(call_id));
	gk_uplink_core_request(&w->up, "sbc1", &m, &w->sbc);
}

/* Under loss the SBC sends a deregistration again when its acknowledgement was lost, and the
 * network may duplicate it: each copy is acknowledged, the core ends the session once. Another
 * transaction is another deregistration. */
TEST_F(softswitch, a_repeated_deregistration_is_acknowledged_and_ends_the_session_once)
{
	struct ss *w = &self->w;

	sbc_deregister(w, "alice", "gk-unbound-7@sbc1");
	sbc_deregister(w, "alice", "gk-unbound-7@sbc1");
	sbc_deregister(w, "alice", "gk-unbound-7@sbc1");
	EXPECT_EQ(3, w->sent);
	EXPECT_EQ(0, w->rejects);
	EXPECT_EQ(2, w->up.st.dereg_repeats);
	EXPECT_EQ(1, w->stops);
	sbc_deregister(w, "alice", "gk-unbound-8@sbc1");
	EXPECT_EQ(2, w->up.st.dereg_repeats);
	EXPECT_EQ(2, w->stops);
	/* the same transaction from another SBC address is not a repeat */
	ASSERT_EQ(0, gk_parse_addr("198.18.2.9:5060", &w->sbc, NULL, 0));
	sbc_deregister(w, "alice", "gk-unbound-8@sbc1");
	EXPECT_EQ(3, w->stops);
}

TEST_F(softswitch, two_registers_per_unknown_idc_do_not_keep_the_slots)
{
	struct ss *w = &self->w;
	const struct gk_relay_stats *rs = gk_relay_stats(w->up.relay);
	char idc[32];

	/* Two REGISTERs per made-up IDc, for three times as many IDcs as there are slots: the
	 * second supersedes the first inside the core. */
	for (unsigned i = 0; i < 3 * PEER_SLOTS; i++) {
		snprintf(idc, sizeof(idc), "nobody%u", i);
		sbc_register(w, idc);
		sbc_register(w, idc);
	}
	EXPECT_EQ(6 * PEER_SLOTS, w->up.st.requests);
	EXPECT_EQ(PEER_SLOTS, rs->waiting); /* every slot is held ... */
	EXPECT_LT(0, w->up.st.refused);
	unsigned asked = w->auc_asked;
	sbc_register(w, "alice");
	EXPECT_EQ(asked, w->auc_asked); /* ... and a real subscriber is refused for now */
	EXPECT_EQ(w->rejects, w->sent);

	/* The core refuses what it kept once the AuC has timed out, and what it dropped without
	 * a verdict expires: afterwards no slot is held, each one accounted for. */
	ASSERT_TRUE(run_until(w->loop, none_waiting, w->up.relay, 3000));
	EXPECT_EQ(0, rs->waiting);
	EXPECT_EQ(0, rs->expired); /* the core answers every reference it drops (SUPERSEDED) */
	EXPECT_EQ(rs->taken, (w->sent - w->up.st.refused) + rs->expired);
	TH_LOG("%llu slots taken: %llu freed by the core's verdict, %llu expired",
	       (unsigned long long)rs->taken, (unsigned long long)(w->sent - w->up.st.refused),
	       (unsigned long long)rs->expired);

	/* And the softswitch serves again. */
	sbc_register(w, "alice");
	EXPECT_EQ(asked + 1, w->auc_asked);
	EXPECT_STREQ("alice", w->auc_idc);
	EXPECT_EQ(1, rs->waiting);
}

TEST_F(softswitch, a_verdict_after_expiry_finds_nothing_and_sends_nothing)
{
	struct ss *w = &self->w;
	const struct gk_relay_stats *rs = gk_relay_stats(w->up.relay);
	struct gk_relay_txn *t;
	uint64_t ref;
	uint8_t rand[GK_RAND_LEN] = {0};

	/* A slot taken as gk_uplink_core_request takes one, whose verdict never comes. */
	t = gk_relay_alloc(w->up.relay, &ref);
	ASSERT_NE(NULL, t);
	gk_uplink_request(&t->req, GK_MSG_REGISTER, "alice", "sbc1", NULL, NULL, NULL);
	t->from = w->sbc;
	ASSERT_TRUE(run_until(w->loop, one_expired, w->up.relay, 2000));
	EXPECT_EQ(0, rs->waiting);
	gk_uplink_core_challenge(&w->up, ref, rand);
	gk_uplink_core_reject(&w->up, ref, GK_R_AUC_TIMEOUT);
	EXPECT_EQ(0, w->sent);

	/* A verdict in time is sent, once, and frees the slot. */
	t = gk_relay_alloc(w->up.relay, &ref);
	ASSERT_NE(NULL, t);
	gk_uplink_request(&t->req, GK_MSG_REGISTER, "alice", "sbc1", NULL, NULL, NULL);
	t->from = w->sbc;
	gk_uplink_core_reject(&w->up, ref, GK_R_LOCKED_OUT);
	gk_uplink_core_reject(&w->up, ref, GK_R_LOCKED_OUT);
	EXPECT_EQ(1, w->sent);
	EXPECT_EQ(1, w->rejects);
	EXPECT_NE(GK_R_OVERLOAD, w->last_reason); /* "forbidden": the SBC hears no more */
	EXPECT_EQ(0, rs->waiting);
	EXPECT_EQ(1, rs->expired);

	/* The AuC did not answer in time: not the subscriber's fault, and the SBC is told "not
	 * now" (overload, with a wait), so its terminal comes back instead of giving up. */
	t = gk_relay_alloc(w->up.relay, &ref);
	ASSERT_NE(NULL, t);
	gk_uplink_request(&t->req, GK_MSG_REGISTER, "alice", "sbc1", NULL, NULL, NULL);
	t->from = w->sbc;
	gk_uplink_core_reject(&w->up, ref, GK_R_AUC_TIMEOUT);
	EXPECT_EQ(2, w->rejects);
	EXPECT_EQ(GK_R_OVERLOAD, w->last_reason);
	EXPECT_LT(0, w->last_retry_after);
}

static void find_relay(const struct gk_steps *t, void *arg)
{
	if (strcmp(t->key, "relay") == 0)
		*(const struct gk_steps **)arg = t;
}

/* 300 requests waiting at once take the slots from 64 to 512 (slot 0 is never handed out); fewer
 * waiting later reuse them, and only a higher peak takes another step. */
TEST(slots_step_only_past_the_most_requests_that_waited_at_once)
{
	char err[128];
	struct gk_loop *loop = gk_loop_new(NULL, err, sizeof(err));
	ASSERT_NE(NULL, loop);
	struct gk_relay *r = gk_relay_new(loop, 16384, 60000, "relay");
	ASSERT_NE(NULL, r);
	const struct gk_steps *t = NULL;
	static uint64_t refs[600];

	gk_steps_each(find_relay, &t);
	ASSERT_NE(NULL, t);
	EXPECT_EQ(64, t->cap);
	EXPECT_EQ(16385, t->max);
	for (unsigned i = 0; i < 300; i++)
		ASSERT_NE(NULL, gk_relay_alloc(r, &refs[i]));
	EXPECT_EQ(512, t->cap);
	EXPECT_EQ(3, t->grows);
	EXPECT_EQ(301, t->peak);
	for (unsigned i = 0; i < 200; i++)
		gk_relay_release(r, gk_relay_take(r, refs[i]));
	for (unsigned i = 0; i < 400; i++) /* 500 waiting: still within the 511 slots */
		ASSERT_NE(NULL, gk_relay_alloc(r, &refs[i]));
	EXPECT_EQ(512, t->cap);
	EXPECT_EQ(501, t->peak);
	for (unsigned i = 400; i < 520; i++) /* 620 waiting: one step more */
		ASSERT_NE(NULL, gk_relay_alloc(r, &refs[i - 400]));
	EXPECT_EQ(1024, t->cap);
	EXPECT_EQ(4, t->grows);
	EXPECT_EQ(621, t->peak);
	gk_relay_free(r);
	gk_loop_free(loop);
}

TEST_HARNESS_MAIN
