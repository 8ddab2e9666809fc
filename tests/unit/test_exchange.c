// SPDX-License-Identifier: GPL-2.0-only
/*
 * The exchange state machine end to end in one process: the terminal side (lib/exchange/terminal.c)
 * and the network side in its direct topology (front lib/exchange/registrar.c + core
 * lib/exchange/core.c) exchange abstract messages; an in-test AuC computes vectors with the gk1
 * primitives. No codec, no network: this pins the protocol logic itself.
 */
#include <string.h>

#include "kselftest_harness.h"

#include "helper_loop.h"

#include "gatekey/runtime/config.h"
#include "gatekey/exchange/direct.h"
#include "gatekey/exchange/registrar.h"
#include "gatekey/exchange/terminal.h"
#include "gatekey/ipsec/assoc.h"
#include "helper_direct.h"
#include "gatekey/auc/vector.h"

#define MAX_SUBS 4

struct sent {
	struct gk_msg m;
	bool have;
	bool sealed;
};

struct world {
	struct gk_loop *loop;
	struct gk_direct d;
	struct gk_registrar *reg; /* d.front */
	uint8_t kss[GK_KEY_LEN];
	struct {
		char idc[GK_ID_MAX + 1];
		uint8_t kc[GK_KEY_LEN];
	} subs[MAX_SUBS];
	unsigned n_subs;
	struct sent out; /* last message to the terminal */
	uint32_t auc_handle;
	bool auc_pending;
	char auc_idc[GK_ID_MAX + 1];
	unsigned acct_start, acct_stop;
	uint32_t acct_seq[8]; /* statuses in the order accounted */
	unsigned n_acct;
	struct gk_binding *last_up;
	bool wrong_element_key; /* the AuC wraps the element's copy of K for someone else */
	struct {
		unsigned calls, refreshes; /* ipsec_up, and of those with the binding active */
		struct gk_ipsec_end term, net;
		struct gk_ipsec_end cur_net; /* at a refresh: the element's end being replaced */
		struct sockaddr_storage from;
		uint8_t k[GK_KEY_LEN];
		int result; /* what ipsec_up returns */
	} ipsec;
};

static void w_send(void *user, const struct gk_msg *m, const struct sockaddr_storage *to,
                   struct gk_binding *b)
{
	struct world *w = user;
	(void)to;
	memcpy(&w->out.m, m, sizeof(*m));
	w->out.have = true;
	w->out.sealed = b != NULL;
}

static void w_auc_request(void *user, uint32_t handle, const char *idc, const char *idsp)
{
	struct world *w = user;
	(void)idsp;
	w->auc_handle = handle;
	w->auc_pending = true;
	snprintf(w->auc_idc, sizeof(w->auc_idc), "%s", idc);
}

static void w_acct(void *user, const struct gk_auc_acct *a)
{
	struct world *w = user;
	if (a->status == GK_RAD_ACCT_START)
		w->acct_start++;
	else
		w->acct_stop++;
	if (w->n_acct < 8)
		w->acct_seq[w->n_acct++] = a->status;
}

static int w_ipsec_up(void *user, const struct gk_binding *b, const struct sockaddr_storage *from,
                      const struct gk_ipsec_end *term, const struct gk_ipsec_end *net,
                      const uint8_t k[GK_KEY_LEN], uint32_t expires_s)
{
	struct world *w = user;
	struct gk_binding_info bi;

	gk_binding_get_info(b, &bi);
	w->ipsec.calls++;
	if (bi.mech == GK_MECH_IPSEC) { /* a refresh: the binding still has its SAs' ends */
		w->ipsec.refreshes++;
		w->ipsec.cur_net = bi.ipsec_net;
	}
	w->ipsec.term = *term;
	w->ipsec.net = *net;
	w->ipsec.from = *from;
	memcpy(w->ipsec.k, k, GK_KEY_LEN);
	return w->ipsec.result;
}

static void w_up(void *user, struct gk_binding *b)
{
	((struct world *)user)->last_up = b;
}

/* The AuC's part: a vector from the library's AuC computation, Kc from the test's table. */
static void auc_answer(struct world *w)
{
	struct gk_auc_vector v;
	const uint8_t *kc = NULL;

	for (unsigned i = 0; i < w->n_subs; i++)
		if (strcmp(w->subs[i].idc, w->auc_idc) == 0)
			kc = w->subs[i].kc;
	uint8_t other[GK_KEY_LEN];

	gk_random(other, sizeof(other));
	gk_vector_make(kc, w->wrong_element_key ? other : w->kss, GK_ROLE_SOFTSWITCH, w->auc_idc,
	               "ss1", &v);
	w->auc_pending = false;
	gk_core_auc_vector(w->d.core, w->auc_handle, &v);
}

static struct sockaddr_storage addr_of(int host)
{
	struct sockaddr_storage a;
	char err[64], s[32];
	snprintf(s, sizeof(s), "198.18.0.%d:5060", host);
	gk_parse_addr(s, &a, err, sizeof(err));
	return a;
}

struct ticker {
	struct gk_timer t;
	struct gk_loop *loop;
};

static void stop_fn(struct gk_timer *t)
{
	gk_loop_stop(((struct ticker *)((char *)t - offsetof(struct ticker, t)))->loop);
}

/* Lets the loop's clock move on by ms (no other timer is due that soon): attempts and failures
 * are ordered by it, and a clock that never moves hides which one is the oldest. */
static void tick(struct gk_loop *loop, uint64_t ms)
{
	struct ticker k = {.t = {.fn = stop_fn}, .loop = loop};

	gk_timer_arm(loop, &k.t, ms);
	gk_loop_run(loop);
}

/* Any address, "198.18.0.9:40000" or "[2001:db8::1]:5060". */
static struct sockaddr_storage addr_str(const char *s)
{
	struct sockaddr_storage a;
	char err[64];
	gk_parse_addr(s, &a, err, sizeof(err));
	return a;
}

/* Delivers m to the registrar from `from`, answers the AuC if asked, and returns what came
 * back. */
static struct gk_msg *deliver_from(struct world *w, struct gk_msg *m,
                                   const struct sockaddr_storage *from, uint32_t index)
{
	w->out.have = false;
	if (!m->proto)
		m->proto = GK_PROTO_SIP; /* the protocol names its protected ports (ipsec-3gpp) */
	gk_registrar_on_message(w->reg, m, from, index);
	if (w->auc_pending)
		auc_answer(w);
	return w->out.have ? &w->out.m : NULL;
}

static struct gk_msg *deliver(struct world *w, struct gk_msg *m, int host, uint32_t index)
{
	struct sockaddr_storage from = addr_of(host);
	return deliver_from(w, m, &from, index);
}

static void term_init(struct gk_terminal *t, const char *idc, const uint8_t *kc)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->idc, sizeof(t->idc), "%s", idc);
	snprintf(t->idsp, sizeof(t->idsp), "ss1");
	memcpy(t->kc, kc, GK_KEY_LEN);
	t->offer[0] = (struct gk_mech_offer){GK_MECH_GKMAC, 900};
	t->offer[1] = (struct gk_mech_offer){GK_MECH_TLS, 500}; /* offered, never chosen */
	t->offer[2] = (struct gk_mech_offer){GK_MECH_DIGEST, 300};
	t->n_offer = 3;
}

/* The whole exchange from `from`, each message delivered as verified under index (0: bare).
 * Returns the terminal's last on_message result. */
static int run_verified(struct world *w, struct gk_terminal *t, const char *from, uint32_t index)
{
	struct sockaddr_storage a = addr_str(from);
	struct gk_msg req, next;
	struct gk_msg *resp;
	int ret = -2;

	gk_terminal_register(t, &req);
	for (int step = 0; step < 16; step++) {
		resp = deliver_from(w, &req, &a, index);
		if (!resp)
			return -3;
		ret = gk_terminal_on_message(t, resp, &next);
		if (ret != 1)
			return ret;
		req = next;
	}
	return ret;
}

/* Runs the whole exchange from host (198.18.0.<host>:5060), bare. */
static int run(struct world *w, struct gk_terminal *t, int host)
{
	char from[32];

	snprintf(from, sizeof(from), "198.18.0.%d:5060", host);
	return run_verified(w, t, from, 0);
}

static void fpr_of(const struct gk_binding_info *bi, void *arg)
{
	char *out = arg;
	if (strcmp(bi->idc, "alice") == 0)
		memcpy(out, bi->fpr, GK_FPR_HEX_LEN + 1);
}

FIXTURE(exchange)
{
	struct world w;
	struct gk_terminal alice;
};

/* Limits a test may change; 0 keeps the world's own. */
struct limits {
	uint32_t lockout_s, challenge_ttl_s, max_terminals, skew_s;
	bool ipsec; /* the front supports ipsec-3gpp, with w_ipsec_up */
};

/* The direct topology's front and core with alice provisioned. */
static int world_init_limits(struct world *w, const struct limits *lim)
{
	struct gk_registrar_cfg cfg;
	struct gk_core_cfg ccfg;
	static const struct gk_direct_ops ops = {
	    .send_terminal = w_send,
	    .auc_request = w_auc_request,
	    .auc_accounting = w_acct,
	    .binding_up = w_up,
	};
	char err[128];

	memset(w, 0, sizeof(*w));
	w->loop = gk_loop_new(NULL, err, sizeof(err));
	if (!w->loop)
		return -1;
	gk_random(w->kss, GK_KEY_LEN);
	gk_registrar_cfg_defaults(&cfg);
	snprintf(cfg.idsp, sizeof(cfg.idsp), "ss1");
	memcpy(cfg.element_key, w->kss, GK_KEY_LEN);
	cfg.mechs_supported = (1u << GK_MECH_GKMAC) | (1u << GK_MECH_DIGEST);
	cfg.max_terminals = lim->max_terminals ? lim->max_terminals : 64;
	cfg.max_pending = 16;
	cfg.log_registrations = false;
	gk_core_cfg_defaults(&ccfg);
	ccfg.max_terminals = cfg.max_terminals;
	ccfg.max_pending = 16;
	if (lim->lockout_s)
		ccfg.lockout_s = lim->lockout_s;
	if (lim->challenge_ttl_s)
		cfg.challenge_ttl_s = ccfg.challenge_ttl_s = lim->challenge_ttl_s;
	if (lim->skew_s)
		cfg.skew_s = lim->skew_s;
	struct gk_direct_ops o = ops;
	if (lim->ipsec) {
		cfg.mechs_supported |= 1u << GK_MECH_IPSEC;
		for (unsigned p = GK_PROTO_SIP; p < GK_PROTO_COUNT; p++) {
			cfg.ipsec_port_c[p] = 5062;
			cfg.ipsec_port_s[p] = 5064;
		}
		o.ipsec_up = w_ipsec_up;
	}
	if (gk_direct_init(&w->d, &cfg, &ccfg, &o, w, w->loop, err, sizeof(err)) < 0)
		return -1;
	w->reg = w->d.front;
	snprintf(w->subs[0].idc, sizeof(w->subs[0].idc), "alice");
	gk_random(w->subs[0].kc, GK_KEY_LEN);
	w->n_subs = 1;
	return 0;
}

/* lockout_s 0 keeps the default. */
static int world_init(struct world *w, uint32_t lockout_s)
{
	return world_init_limits(w, &(struct limits){.lockout_s = lockout_s});
}

FIXTURE_SETUP(exchange)
{
	ASSERT_EQ(0, world_init(&self->w, 0));
	term_init(&self->alice, "alice", self->w.subs[0].kc);
}

FIXTURE_TEARDOWN(exchange)
{
	gk_direct_fini(&self->w.d);
	gk_loop_free(self->w.loop);
}

TEST_F(exchange, terminal_and_registrar_hold_the_same_key)
{
	char fpr[GK_FPR_HEX_LEN + 1] = "";
	uint8_t buf[256] = "OPTIONS sip:ss1 SIP/2.0\r\n\r\n";
	size_t len = strlen((char *)buf);
	uint32_t index;
	enum gk_reason why;

	ASSERT_EQ(0, run(&self->w, &self->alice, 2));
	ASSERT_EQ(GK_TERM_REGISTERED, self->alice.state);
	EXPECT_EQ(GK_MECH_GKMAC, self->alice.chosen);
	gk_registrar_foreach(self->w.reg, fpr_of, fpr);
	EXPECT_STREQ(self->alice.fpr, fpr);
	EXPECT_EQ(1, self->w.acct_start);
	EXPECT_EQ(1, gk_registrar_stats(self->w.reg)->registrations);

	/* Uplink: the registrar verifies what the terminal sealed, and only once. */
	struct sockaddr_storage from = addr_of(2);
	int n = gk_pkt_seal(self->alice.keys.uplink, self->alice.index, 1, buf, len, sizeof(buf));
	ASSERT_EQ((int)len + GK_TRAILER_LEN, n);
	EXPECT_EQ((long)len, gk_registrar_open(self->w.reg, buf, (size_t)n, &from, &index, &why));
	EXPECT_EQ(self->alice.index, index);
	EXPECT_EQ(-1, gk_registrar_open(self->w.reg, buf, (size_t)n, &from, &index, &why));
	EXPECT_EQ(GK_R_REPLAY_SEQ, why);
	/* From another address the same terminal index is refused. */
	struct sockaddr_storage other = addr_of(9);
	n = gk_pkt_seal(self->alice.keys.uplink, self->alice.index, 2, buf, len, sizeof(buf));
	EXPECT_EQ(-1, gk_registrar_open(self->w.reg, buf, (size_t)n, &other, &index, &why));
	EXPECT_EQ(GK_R_WRONG_SOURCE, why);

	/* Downlink: the terminal verifies what the registrar sealed. */
	ASSERT_NE(NULL, self->w.last_up);
	n = gk_registrar_seal(self->w.reg, self->w.last_up, buf, len, sizeof(buf));
	ASSERT_EQ((int)len + GK_TRAILER_LEN, n);
	EXPECT_EQ((long)len, gk_pkt_open(self->alice.keys.downlink, &self->alice.win_down, buf,
	                                 (size_t)n, &why));
}

TEST_F(exchange, each_registration_gets_a_fresh_key)
{
	char first[GK_FPR_HEX_LEN + 1];
	ASSERT_EQ(0, run(&self->w, &self->alice, 2));
	memcpy(first, self->alice.fpr, sizeof(first));
	ASSERT_EQ(0, run(&self->w, &self->alice, 2));
	EXPECT_STRNE(first, self->alice.fpr);
	EXPECT_EQ(1, gk_registrar_stats(self->w.reg)->refreshes);
}

TEST_F(exchange, wrong_key_is_challenged_afresh_then_locked_out)
{
	uint8_t wrong[GK_KEY_LEN];
	struct gk_terminal mallory;
	gk_random(wrong, sizeof(wrong));
	term_init(&mallory, "alice", wrong);

	EXPECT_EQ(-1, run(&self->w, &mallory, 3));
	EXPECT_EQ(GK_R_REFUSED, mallory.reason);
	const struct gk_registrar_stats *st = gk_registrar_stats(self->w.reg);
	const struct gk_core_stats *cs = gk_core_stats(self->w.d.core);
	EXPECT_EQ(3, st->challenges);
	EXPECT_EQ(3, cs->reasons.n[GK_R_WRONG_AUTH]);
	EXPECT_EQ(1, cs->reasons.n[GK_R_LOCKED_OUT]);
	EXPECT_EQ(1, cs->lockouts);
	/* The source that failed stays locked out of alice's IDc... */
	EXPECT_EQ(-1, run(&self->w, &mallory, 3));
	EXPECT_EQ(2, cs->reasons.n[GK_R_LOCKED_OUT]);
	EXPECT_EQ(0, st->reasons.n[GK_R_LOCKED_OUT]); /* decided by the core, counted once */
	/* ...but the real alice, elsewhere, is not: three wrong answers from a stranger used to
	 * lock her out for 300 s, and four datagrams every five minutes kept her out for good. */
	EXPECT_EQ(0, run(&self->w, &self->alice, 2));
	EXPECT_EQ(GK_TERM_REGISTERED, self->alice.state);
	EXPECT_EQ(2, cs->reasons.n[GK_R_LOCKED_OUT]);
}

TEST_F(exchange, unknown_idc_looks_like_a_wrong_key)
{
	struct gk_terminal bob;
	uint8_t kc[GK_KEY_LEN];
	gk_random(kc, sizeof(kc));
	term_init(&bob, "bob", kc);
	EXPECT_EQ(-1, run(&self->w, &bob, 4));
	EXPECT_EQ(GK_R_REFUSED, bob.reason);
	EXPECT_EQ(3, gk_registrar_stats(self->w.reg)->challenges);
}

TEST_F(exchange, replayed_answer_is_refused)
{
	struct gk_msg req, answer;
	struct gk_msg *resp;

	gk_terminal_register(&self->alice, &req);
	resp = deliver(&self->w, &req, 2, 0);
	ASSERT_NE(NULL, resp);
	ASSERT_EQ(1, gk_terminal_on_message(&self->alice, resp, &answer));
	resp = deliver(&self->w, &answer, 2, 0);
	ASSERT_NE(NULL, resp);
	ASSERT_EQ(GK_MSG_SUCCESS, resp->type);
	uint8_t mac[GK_MAC_LEN];
	memcpy(mac, resp->mac, sizeof(mac));
	/* From the terminal's own address it is a retransmission (its success may have been
	 * lost): the same success again, and nothing else. */
	resp = deliver(&self->w, &answer, 2, 0);
	ASSERT_NE(NULL, resp);
	EXPECT_EQ(GK_MSG_SUCCESS, resp->type);
	EXPECT_EQ(0, memcmp(mac, resp->mac, sizeof(mac)));
	EXPECT_EQ(1u, gk_registrar_stats(self->w.reg)->successes_resent);
	/* From anywhere else its challenge is gone, so it counts as a new request with its N1,
	 * which is spent. */
	resp = deliver(&self->w, &answer, 3, 0);
	ASSERT_NE(NULL, resp);
	EXPECT_EQ(GK_MSG_REJECT, resp->type);
	EXPECT_EQ(GK_R_REPLAY_N1, resp->reason);
	EXPECT_EQ(1, gk_registrar_stats(self->w.reg)->registrations);
	EXPECT_EQ(0, gk_registrar_stats(self->w.reg)->refreshes);
}

TEST_F(exchange, replayed_register_n1)
{
	struct gk_msg req;
	struct gk_msg *resp;

	gk_terminal_register(&self->alice, &req);
	resp = deliver(&self->w, &req, 2, 0);
	ASSERT_NE(NULL, resp);
	EXPECT_EQ(GK_MSG_CHALLENGE, resp->type);
	/* The same request from the same address is a retransmission: the same challenge. */
	uint8_t n2[GK_NONCE_LEN];
	memcpy(n2, resp->n2, sizeof(n2));
	resp = deliver(&self->w, &req, 2, 0);
	ASSERT_NE(NULL, resp);
	EXPECT_EQ(GK_MSG_CHALLENGE, resp->type);
	EXPECT_EQ(0, memcmp(n2, resp->n2, sizeof(n2)));
	/* From anywhere else it is a replay. */
	resp = deliver(&self->w, &req, 7, 0);
	ASSERT_NE(NULL, resp);
	EXPECT_EQ(GK_MSG_REJECT, resp->type);
	EXPECT_EQ(GK_R_REPLAY_N1, resp->reason);
}

TEST_F(exchange, stale_timestamp_is_refused)
{
	self->alice.ts_offset = -31;
	EXPECT_EQ(-1, run(&self->w, &self->alice, 2));
	EXPECT_EQ(1, gk_registrar_stats(self->w.reg)->reasons.n[GK_R_STALE_TS]);
	self->alice.ts_offset = 31;
	EXPECT_EQ(-1, run(&self->w, &self->alice, 2));
	self->alice.ts_offset = 25;
	EXPECT_EQ(0, run(&self->w, &self->alice, 2));
}

TEST_F(exchange, downgraded_offer_is_detected_by_the_terminal)
{
	struct gk_msg req, answer;
	struct gk_msg *resp;

	gk_terminal_register(&self->alice, &req);
	resp = deliver(&self->w, &req, 2, 0);
	ASSERT_EQ(1, gk_terminal_on_message(&self->alice, resp, &answer));
	answer.mechs[0].q = 100; /* an attacker on the way lowers gk-mac below tls and digest */
	resp = deliver(&self->w, &answer, 2, 0);
	ASSERT_NE(NULL, resp);
	ASSERT_EQ(GK_MSG_SUCCESS, resp->type);
	/* The element still takes gk-mac (a GK1 exchange ends only in a mechanism that uses K), and
	 * the terminal sees that the list it sent was changed. */
	EXPECT_EQ(GK_MECH_GKMAC, resp->chosen);
	EXPECT_EQ(-1, gk_terminal_on_message(&self->alice, resp, &answer));
	EXPECT_EQ(GK_R_MECH_DOWNGRADE, self->alice.reason);
}

TEST_F(exchange, tampered_success_is_detected_by_the_terminal)
{
	struct gk_msg req, answer, copy;
	struct gk_msg *resp;

	for (int field = 0; field < 4; field++) {
		gk_terminal_register(&self->alice, &req);
		resp = deliver(&self->w, &req, 2, 0);
		ASSERT_EQ(1, gk_terminal_on_message(&self->alice, resp, &answer));
		resp = deliver(&self->w, &answer, 2, 0);
		ASSERT_NE(NULL, resp);
		memcpy(&copy, resp, sizeof(copy));
		switch (field) {
		case 0:
			copy.mac[5] ^= 1;
			break;
		case 1:
			copy.mechs[1].q = 600;
			break;
		case 2:
			copy.expires += 1;
			break;
		case 3:
			copy.blob[20] ^= 0x80;
			break;
		}
		EXPECT_EQ(-1, gk_terminal_on_message(&self->alice, &copy, &answer));
		EXPECT_EQ(field == 3 ? GK_R_UNWRAP_FAILED : GK_R_BAD_RESPONSE_MAC,
		          self->alice.reason);
	}
}

TEST_F(exchange, request_for_another_element_is_refused)
{
	struct gk_msg req;
	gk_terminal_register(&self->alice, &req);
	snprintf(req.idsp, sizeof(req.idsp), "ss2");
	struct gk_msg *resp = deliver(&self->w, &req, 2, 0);
	ASSERT_NE(NULL, resp);
	EXPECT_EQ(GK_MSG_REJECT, resp->type);
	EXPECT_EQ(GK_R_WRONG_IDSP, resp->reason);
}

TEST_F(exchange, deregistration_needs_the_verified_terminal)
{
	struct gk_msg req;
	ASSERT_EQ(0, run(&self->w, &self->alice, 2));
	gk_terminal_deregister(&self->alice, &req);
	/* Without a verified trailer: ignored, counted. */
	EXPECT_EQ(NULL, deliver(&self->w, &req, 2, 0));
	EXPECT_EQ(0, gk_registrar_stats(self->w.reg)->deregistrations);
	/* With the terminal's verified index: done, answered under the trailer, key gone. */
	struct gk_msg *resp = deliver(&self->w, &req, 2, self->alice.index);
	ASSERT_NE(NULL, resp);
	EXPECT_EQ(GK_MSG_DEREG_OK, resp->type);
	EXPECT_TRUE(self->w.out.sealed);
	EXPECT_EQ(1, gk_registrar_stats(self->w.reg)->deregistrations);
	EXPECT_EQ(1, self->w.acct_stop);
	struct sockaddr_storage from = addr_of(2);
	EXPECT_FALSE(gk_registrar_is_registered_addr(self->w.reg, &from));
}

/* A verified SIP request of alice's, outside the exchange. */
static struct gk_msg *other_request(struct world *w, const char *method, uint32_t index)
{
	struct gk_msg m;

	memset(&m, 0, sizeof(m));
	m.proto = GK_PROTO_SIP;
	m.type = GK_MSG_OTHER;
	snprintf(m.idc, sizeof(m.idc), "alice");
	snprintf(m.idsp, sizeof(m.idsp), "ss1");
	snprintf(m.wire.sip.method, sizeof(m.wire.sip.method), "%s", method);
	return deliver(w, &m, 2, index);
}

/* Under loss: the answer to a deregistration is lost and the terminal repeats it, sealed under
 * the binding it just ended. The binding lingers for that repeat: answered again (sealed),
 * counted once, the session stopped once; and it serves nothing else meanwhile. */
TEST_F(exchange, a_repeated_deregistration_is_answered_again_and_serves_nothing_else)
{
	struct gk_msg req;
	ASSERT_EQ(0, run(&self->w, &self->alice, 2));
	uint32_t index = self->alice.index;
	gk_terminal_deregister(&self->alice, &req);
	struct gk_msg *resp = deliver(&self->w, &req, 2, index);
	ASSERT_NE(NULL, resp);
	EXPECT_EQ(GK_MSG_DEREG_OK, resp->type);
	EXPECT_TRUE(gk_registrar_lingering(self->w.reg, index));
	struct sockaddr_storage from = addr_of(2), elsewhere = addr_of(3);
	EXPECT_FALSE(gk_registrar_gkmac_bound(self->w.reg, index, &from));
	EXPECT_NE(NULL, gk_registrar_gkmac_sealer(self->w.reg, index, &from));
	EXPECT_EQ(NULL, gk_registrar_gkmac_sealer(self->w.reg, index, &elsewhere));

	resp = deliver(&self->w, &req, 2, index); /* the repeat */
	ASSERT_NE(NULL, resp);
	EXPECT_EQ(GK_MSG_DEREG_OK, resp->type);
	EXPECT_TRUE(self->w.out.sealed);
	EXPECT_EQ(1, gk_registrar_stats(self->w.reg)->deregistrations);
	EXPECT_EQ(1, gk_registrar_stats(self->w.reg)->deregistrations_resent);
	EXPECT_EQ(1, self->w.acct_stop);

	uint64_t before = gk_registrar_stats(self->w.reg)->reasons.n[GK_R_NOT_REGISTERED];
	EXPECT_EQ(NULL, other_request(&self->w, "OPTIONS", index));
	EXPECT_EQ(before + 1, gk_registrar_stats(self->w.reg)->reasons.n[GK_R_NOT_REGISTERED]);
	EXPECT_EQ(NULL, gk_registrar_binding_of(self->w.reg, "alice"));

	/* Registering again ends the lingering binding at once. */
	term_init(&self->alice, "alice", self->w.subs[0].kc);
	ASSERT_EQ(0, run(&self->w, &self->alice, 2));
	EXPECT_FALSE(gk_registrar_lingering(self->w.reg, index));
	EXPECT_TRUE(gk_registrar_gkmac_bound(self->w.reg, self->alice.index, &from));
}

/*
 * Issue 13: the registrar answered every request of a registered terminal with a bare 200 OK,
 * INVITE and MESSAGE included: a caller got a fake answer. The probe (OPTIONS) is answered; an
 * ACK is not (it takes no response); anything needing call routing, which is not built yet, is
 * refused NOT_SERVED (SIP 405 or 501 with Allow), under the terminal's trailer, and counted.
 */
TEST_F(exchange, requests_outside_the_exchange_get_no_false_ok)
{
	static const char *const refused[] = {"INVITE", "MESSAGE", "BYE", "SUBSCRIBE", "FOOBAR"};
	const struct gk_registrar_stats *st = gk_registrar_stats(self->w.reg);
	struct gk_msg *resp;

	ASSERT_EQ(0, run(&self->w, &self->alice, 2));
	resp = other_request(&self->w, "OPTIONS", self->alice.index);
	ASSERT_NE(NULL, resp);
	EXPECT_EQ(GK_MSG_OTHER_OK, resp->type);
	EXPECT_TRUE(self->w.out.sealed);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		resp = other_request(&self->w, refused[i], self->alice.index);
		ASSERT_NE(NULL, resp) TH_LOG("%s", refused[i]);
		EXPECT_EQ(GK_MSG_REJECT, resp->type) TH_LOG("%s", refused[i]);
		EXPECT_EQ(GK_R_NOT_SERVED, resp->reason);
		EXPECT_TRUE(self->w.out.sealed);
	}
	EXPECT_EQ(NULL, other_request(&self->w, "ACK", self->alice.index));
	EXPECT_EQ(6u, st->reasons.n[GK_R_NOT_SERVED]);
	/* Without the trailer, nothing at all. */
	EXPECT_EQ(NULL, other_request(&self->w, "INVITE", 0));
}

/* An observer resends alice's ANSWER from his own address, with a mechanism list rewritten to
 * one that does without the key. It used to install alice's binding at his address, and alice's
 * own ANSWER was refused after it. */
TEST_F(exchange, answer_resent_from_another_address_is_refused)
{
	struct gk_msg req, answer, forged;
	struct gk_msg *resp;
	struct sockaddr_storage mallory = addr_of(9), home = addr_of(2);

	gk_terminal_register(&self->alice, &req);
	resp = deliver(&self->w, &req, 2, 0);
	ASSERT_NE(NULL, resp);
	ASSERT_EQ(1, gk_terminal_on_message(&self->alice, resp, &answer));
	forged = answer;
	forged.mechs[0] = (struct gk_mech_offer){GK_MECH_TLS, 1000};
	forged.n_mechs = 1;
	resp = deliver(&self->w, &forged, 9, 0);
	ASSERT_NE(NULL, resp);
	EXPECT_EQ(GK_MSG_REJECT, resp->type);
	EXPECT_EQ(GK_R_WRONG_SOURCE, resp->reason);
	EXPECT_EQ(1, gk_registrar_stats(self->w.reg)->reasons.n[GK_R_WRONG_SOURCE]);
	EXPECT_FALSE(gk_registrar_is_registered_addr(self->w.reg, &mallory));
	/* alice's own answer still completes, with the mechanism she asked for. */
	resp = deliver(&self->w, &answer, 2, 0);
	ASSERT_NE(NULL, resp);
	ASSERT_EQ(GK_MSG_SUCCESS, resp->type);
	EXPECT_EQ(0, gk_terminal_on_message(&self->alice, resp, &answer));
	EXPECT_EQ(GK_MECH_GKMAC, self->alice.chosen);
	EXPECT_TRUE(gk_registrar_is_registered_addr(self->w.reg, &home));
	EXPECT_FALSE(gk_registrar_is_registered_addr(self->w.reg, &mallory));
}

/* The same rewrite from alice's own address (spoofed, or on the path): the element never ends a
 * GK1 exchange in a mechanism that does without K, so the rewrite gets no binding at all. */
TEST_F(exchange, list_rewritten_to_a_keyless_mechanism_gets_no_binding)
{
	struct gk_msg req, answer;
	struct gk_msg *resp;
	struct sockaddr_storage home = addr_of(2);

	gk_terminal_register(&self->alice, &req);
	resp = deliver(&self->w, &req, 2, 0);
	ASSERT_NE(NULL, resp);
	ASSERT_EQ(1, gk_terminal_on_message(&self->alice, resp, &answer));
	answer.mechs[0] = (struct gk_mech_offer){GK_MECH_TLS, 1000};
	answer.n_mechs = 1;
	resp = deliver(&self->w, &answer, 2, 0);
	ASSERT_NE(NULL, resp);
	EXPECT_EQ(GK_MSG_REJECT, resp->type);
	EXPECT_EQ(GK_R_NO_MECH, resp->reason);
	EXPECT_FALSE(gk_registrar_is_registered_addr(self->w.reg, &home));
	EXPECT_EQ(0, self->w.acct_start);
}

/* One unauthenticated REGISTER for alice's IDc, from elsewhere, in the middle of her exchange:
 * it used to supersede her attempt (at the front and at the core), so her answer found no
 * challenge. Each source now has its own attempt. */
TEST_F(exchange, strangers_register_does_not_abort_an_attempt_in_progress)
{
	struct gk_msg req, answer, stranger;
	struct gk_msg *resp;
	struct gk_terminal mallory;
	uint8_t wrong[GK_KEY_LEN];

	gk_random(wrong, sizeof(wrong));
	term_init(&mallory, "alice", wrong);
	gk_terminal_register(&self->alice, &req);
	resp = deliver(&self->w, &req, 2, 0);
	ASSERT_NE(NULL, resp);
	ASSERT_EQ(1, gk_terminal_on_message(&self->alice, resp, &answer));
	gk_terminal_register(&mallory, &stranger);
	resp = deliver(&self->w, &stranger, 9, 0);
	ASSERT_NE(NULL, resp);
	EXPECT_EQ(GK_MSG_CHALLENGE, resp->type); /* he gets a challenge he cannot answer */
	resp = deliver(&self->w, &answer, 2, 0);
	ASSERT_NE(NULL, resp);
	ASSERT_EQ(GK_MSG_SUCCESS, resp->type);
	EXPECT_EQ(0, gk_terminal_on_message(&self->alice, resp, &answer));
	EXPECT_EQ(0, gk_core_stats(self->w.d.core)->reasons.n[GK_R_SUPERSEDED]);
}

/* The same from one host and eight source ports, which cost nothing to make. Attempts were kept
 * per address and port, four per IDc: the stranger's filled alice's places and the oldest, hers,
 * gave way, so her answer came back WRONG_SOURCE. A host has one attempt per IDc now, whatever
 * its port: his REGISTERs supersede one another. */
TEST_F(exchange, strangers_registers_from_many_ports_do_not_abort_an_attempt)
{
	struct gk_msg req, answer, stranger;
	struct gk_msg *resp;
	struct gk_terminal mallory;
	uint8_t wrong[GK_KEY_LEN];
	char a[32];

	gk_random(wrong, sizeof(wrong));
	term_init(&mallory, "alice", wrong);
	gk_terminal_register(&self->alice, &req);
	resp = deliver(&self->w, &req, 2, 0);
	ASSERT_NE(NULL, resp);
	ASSERT_EQ(1, gk_terminal_on_message(&self->alice, resp, &answer));
	for (int port = 40000; port < 40008; port++) {
		tick(self->w.loop, 2);
		snprintf(a, sizeof(a), "198.18.0.9:%d", port);
		struct sockaddr_storage from = addr_str(a);
		gk_terminal_register(&mallory, &stranger);
		resp = deliver_from(&self->w, &stranger, &from, 0);
		ASSERT_NE(NULL, resp);
		EXPECT_EQ(GK_MSG_CHALLENGE, resp->type);
	}
	resp = deliver(&self->w, &answer, 2, 0);
	ASSERT_NE(NULL, resp);
	ASSERT_EQ(GK_MSG_SUCCESS, resp->type) TH_LOG("reason %u", resp->reason);
	EXPECT_EQ(0, gk_terminal_on_message(&self->alice, resp, &answer));
}

/* alice, registered, refreshes; four strangers on four hosts send a REGISTER for her IDc while
 * she answers. With four places per IDc at the front and at the core, the oldest attempt, hers,
 * gave way at both. The attempt from where the IDc is registered (the front) or last answered
 * right (the core) is not the one that gives way. */
TEST_F(exchange, strangers_on_four_hosts_do_not_abort_a_refresh)
{
	struct gk_msg req, answer, stranger;
	struct gk_msg *resp;
	struct gk_terminal mallory;
	uint8_t wrong[GK_KEY_LEN];

	gk_random(wrong, sizeof(wrong));
	term_init(&mallory, "alice", wrong);
	ASSERT_EQ(0, run(&self->w, &self->alice, 2));
	gk_terminal_register(&self->alice, &req);
	resp = deliver(&self->w, &req, 2, 0);
	ASSERT_NE(NULL, resp);
	ASSERT_EQ(1, gk_terminal_on_message(&self->alice, resp, &answer));
	for (int host = 9; host < 13; host++) {
		tick(self->w.loop, 2);
		gk_terminal_register(&mallory, &stranger);
		resp = deliver(&self->w, &stranger, host, 0);
		ASSERT_NE(NULL, resp);
		EXPECT_EQ(GK_MSG_CHALLENGE, resp->type);
	}
	resp = deliver(&self->w, &answer, 2, 0);
	ASSERT_NE(NULL, resp);
	ASSERT_EQ(GK_MSG_SUCCESS, resp->type) TH_LOG("reason %u", resp->reason);
	EXPECT_EQ(0, gk_terminal_on_message(&self->alice, resp, &answer));
	EXPECT_EQ(1, gk_registrar_stats(self->w.reg)->refreshes);
}

/* One wrong answer from an address: REGISTER, challenge, wrong ANSWER (a fresh challenge or a
 * refusal comes back). Returns the type of the last response. */
static int one_wrong_answer(struct world *w, struct gk_terminal *t, const char *addr)
{
	struct sockaddr_storage from = addr_str(addr);
	struct gk_msg req, answer;
	struct gk_msg *resp;

	gk_terminal_register(t, &req);
	resp = deliver_from(w, &req, &from, 0);
	if (!resp || resp->type != GK_MSG_CHALLENGE)
		return resp ? resp->type : -1;
	if (gk_terminal_on_message(t, resp, &answer) != 1)
		return -1;
	resp = deliver_from(w, &answer, &from, 0);
	return resp ? resp->type : -1;
}

/*
 * Issue 12 #4: a lockout counts per source host, and whoever shares the terminal's host (a NAT,
 * a neighbour in its /64) can run it up with three wrong answers; the terminal's refresh was
 * then refused LOCKED_OUT. A refresh sealed under the terminal's standing binding (its REGISTER
 * and ANSWER carry the gk-mac trailer, which the fast path or gk_registrar_open verified: the
 * index passed here) comes from the one terminal holding the current K, and passes. Sealed
 * under another IDc's binding it proves nothing about this one.
 */
TEST_F(exchange, neighbours_lockout_does_not_stop_a_sealed_refresh)
{
	const struct gk_core_stats *cs = gk_core_stats(self->w.d.core);
	struct gk_terminal mallory, bob;
	uint8_t wrong[GK_KEY_LEN];
	uint32_t index;

	snprintf(self->w.subs[1].idc, sizeof(self->w.subs[1].idc), "bob");
	gk_random(self->w.subs[1].kc, GK_KEY_LEN);
	self->w.n_subs = 2;
	term_init(&bob, "bob", self->w.subs[1].kc);
	gk_random(wrong, sizeof(wrong));
	term_init(&mallory, "alice", wrong);

	ASSERT_EQ(0, run_verified(&self->w, &self->alice, "198.18.0.2:5060", 0));
	ASSERT_EQ(0, run_verified(&self->w, &bob, "198.18.0.2:7000", 0));
	for (int i = 0; i < 3; i++)
		one_wrong_answer(&self->w, &mallory, "198.18.0.2:6000"); /* behind the same NAT */
	ASSERT_EQ(1, cs->lockouts);

	/* Bare, alice's refresh is her host's, and her host is locked out. */
	uint64_t locked = cs->reasons.n[GK_R_LOCKED_OUT];
	index = self->alice.index;
	EXPECT_EQ(-1, run_verified(&self->w, &self->alice, "198.18.0.2:5060", 0));
	EXPECT_EQ(GK_R_REFUSED, self->alice.reason); /* a terminal is not told why */
	EXPECT_EQ(locked + 1, cs->reasons.n[GK_R_LOCKED_OUT]);
	/* bob's binding vouches for bob, not for a REGISTER naming alice. */
	EXPECT_EQ(-1, run_verified(&self->w, &mallory, "198.18.0.2:7000", bob.index));
	EXPECT_EQ(locked + 2, cs->reasons.n[GK_R_LOCKED_OUT]);
	/* Nor does alice's index from another address (the fast path would not have passed it). */
	EXPECT_EQ(-1, run_verified(&self->w, &mallory, "198.18.0.2:6000", index));
	EXPECT_EQ(locked + 3, cs->reasons.n[GK_R_LOCKED_OUT]);
	EXPECT_EQ(0, cs->sealed_past_lockout);

	/* Sealed under her own standing binding, from its address: it passes. */
	ASSERT_EQ(0, run_verified(&self->w, &self->alice, "198.18.0.2:5060", index));
	EXPECT_EQ(GK_TERM_REGISTERED, self->alice.state);
	EXPECT_EQ(2, cs->sealed_past_lockout); /* its REGISTER and its ANSWER */
	EXPECT_EQ(1, gk_registrar_stats(self->w.reg)->refreshes);
}

/* Failures count per host: an IPv6 host is its /64 (as for the fast path's buckets), where its
 * owner can take any of 2^64 addresses, so one address per wrong answer no longer escapes the
 * lockout; and an IPv4 client that a dual-stack socket shows as ::ffff:a.b.c.d is that IPv4
 * host, not one /64 with every other IPv4 client. */
TEST_F(exchange, failures_count_per_host_an_ipv6_host_is_its_64)
{
	const struct gk_core_stats *cs = gk_core_stats(self->w.d.core);
	struct gk_terminal mallory;
	uint8_t wrong[GK_KEY_LEN];

	gk_random(wrong, sizeof(wrong));
	term_init(&mallory, "alice", wrong);
	EXPECT_EQ(GK_MSG_CHALLENGE, one_wrong_answer(&self->w, &mallory, "[2001:db8:0:9::1]:5060"));
	EXPECT_EQ(GK_MSG_CHALLENGE, one_wrong_answer(&self->w, &mallory, "[2001:db8:0:9::2]:5060"));
	EXPECT_EQ(GK_MSG_REJECT, one_wrong_answer(&self->w, &mallory, "[2001:db8:0:9::3]:5061"));
	EXPECT_EQ(1, cs->lockouts);
	EXPECT_EQ(GK_MSG_REJECT,
	          one_wrong_answer(&self->w, &mallory, "[2001:db8:0:9:ffff::4]:5060"));
	EXPECT_EQ(3, cs->wrong_auth);
	/* Another /64 is another host. */
	EXPECT_EQ(GK_MSG_CHALLENGE, one_wrong_answer(&self->w, &mallory, "[2001:db8:0:a::1]:5060"));
	EXPECT_EQ(4, cs->wrong_auth);
	/* Mapped IPv4: the host is the IPv4 address, under either spelling. */
	for (int i = 0; i < 3; i++)
		one_wrong_answer(&self->w, &mallory, "[::ffff:198.18.0.20]:5060");
	EXPECT_EQ(2, cs->lockouts);
	EXPECT_EQ(GK_MSG_REJECT, one_wrong_answer(&self->w, &mallory, "198.18.0.20:6000"));
	EXPECT_EQ(7, cs->wrong_auth);
	EXPECT_EQ(GK_MSG_CHALLENGE,
	          one_wrong_answer(&self->w, &mallory, "[::ffff:198.18.0.21]:5060"));
	EXPECT_EQ(8, cs->wrong_auth);
}

/* A refresh ends the standing session before the new one starts: each accounting Start has its
 * Stop. */
TEST_F(exchange, refresh_stops_the_old_session_before_starting_the_new)
{
	ASSERT_EQ(0, run(&self->w, &self->alice, 2));
	EXPECT_EQ(1, self->w.acct_start);
	EXPECT_EQ(0, self->w.acct_stop);
	ASSERT_EQ(0, run(&self->w, &self->alice, 2));
	EXPECT_EQ(2, self->w.acct_start);
	EXPECT_EQ(1, self->w.acct_stop);
	ASSERT_EQ(3, self->w.n_acct);
	EXPECT_EQ(GK_RAD_ACCT_START, self->w.acct_seq[0]);
	EXPECT_EQ(GK_RAD_ACCT_STOP, self->w.acct_seq[1]);
	EXPECT_EQ(GK_RAD_ACCT_START, self->w.acct_seq[2]);
}

static bool never(void *arg)
{
	(void)arg;
	return false;
}

/* The registrar's sweep forgets records idle for twice the skew window. A lingering binding is
 * not idle: its timer is in the loop's heap, and wiping the record under it crashed the daemon
 * at the next timer (a terminal deregistering a minute after it registered). */
TEST(the_sweep_leaves_a_lingering_binding_alone)
{
	struct world w;
	struct gk_terminal alice;
	struct gk_msg req;

	ASSERT_EQ(0, world_init_limits(&w, &(struct limits){.skew_s = 1}));
	term_init(&alice, "alice", w.subs[0].kc);
	ASSERT_EQ(0, run(&w, &alice, 2));
	uint32_t index = alice.index;
	run_until(w.loop, never, NULL, 2500); /* idle for longer than 2 x skew */
	gk_terminal_deregister(&alice, &req);
	ASSERT_NE(NULL, deliver(&w, &req, 2, index));
	ASSERT_TRUE(gk_registrar_lingering(w.reg, index));
	run_until(w.loop, never, NULL, 10500); /* a sweep runs (every 10 s) */
	EXPECT_TRUE(gk_registrar_lingering(w.reg, index));
	struct sockaddr_storage from = addr_of(2);
	EXPECT_NE(NULL, gk_registrar_gkmac_sealer(w.reg, index, &from));
	gk_direct_fini(&w.d);
	gk_loop_free(w.loop);
}

/* Under loss a front's notice that a binding ended can come late, or twice, or name a session a
 * refresh replaced (the core saw two successes, the front only the last). The notice names its
 * session by the Rand of the registration that made it: one for a replaced or ended session ends
 * nothing, so every Start keeps exactly one Stop. */
TEST_F(exchange, a_late_notice_of_a_replaced_session_ends_nothing)
{
	struct gk_msg req;
	uint8_t first[GK_RAND_LEN];

	ASSERT_EQ(0, run(&self->w, &self->alice, 2));
	memcpy(first, self->alice.rand, GK_RAND_LEN);
	ASSERT_EQ(0, run(&self->w, &self->alice, 2)); /* the refresh: Stop, Start */
	EXPECT_EQ(2, self->w.acct_start);
	EXPECT_EQ(1, self->w.acct_stop);
	uint64_t before = gk_core_stats(self->w.d.core)->unbound_ended_already;
	gk_core_unbound(self->w.d.core, "alice", "ss1", "198.18.0.2:5060", first);
	gk_core_unbound(self->w.d.core, "alice", "ss1", "198.18.0.2:5060", first);
	EXPECT_EQ(1, self->w.acct_stop);
	EXPECT_EQ(before + 2, gk_core_stats(self->w.d.core)->unbound_ended_already);

	gk_terminal_deregister(&self->alice, &req);
	ASSERT_NE(NULL, deliver(&self->w, &req, 2, self->alice.index));
	EXPECT_EQ(2, self->w.acct_stop);
	gk_core_unbound(self->w.d.core, "alice", "ss1", "198.18.0.2:5060", self->alice.rand);
	EXPECT_EQ(2, self->w.acct_stop); /* the deregistration's notice again: ended already */
	gk_core_unbound(self->w.d.core, "alice", "ss1", "198.18.0.2:5060", NULL);
	EXPECT_EQ(2, self->w.acct_stop); /* nor an unnamed one, with no session open */
}

/* The element cannot unwrap its copy of K: the registration is refused and the session the core
 * accounted for it is ended. In the direct topology the front's Stop used to reach the AuC
 * before the core's Start, which then stayed open for a terminal that was never registered. */
TEST_F(exchange, refused_after_success_leaves_no_session_open)
{
	self->w.wrong_element_key = true;
	EXPECT_EQ(-1, run(&self->w, &self->alice, 2));
	EXPECT_EQ(1, gk_registrar_stats(self->w.reg)->reasons.n[GK_R_UNWRAP_FAILED]);
	ASSERT_EQ(2, self->w.n_acct);
	EXPECT_EQ(GK_RAD_ACCT_START, self->w.acct_seq[0]);
	EXPECT_EQ(GK_RAD_ACCT_STOP, self->w.acct_seq[1]);
}

/*
 * The SBC topology: the front (sbcd) and the core (softswitchd) in separate processes, each
 * call between them a message over the core leg that arrives after the caller has returned.
 * Here the calls wait in one queue, in order, until pumped.
 */
enum leg_kind { L_REGISTER, L_ANSWER, L_UNBOUND, L_VECTOR, L_CHALLENGE, L_SUCCESS, L_REJECT };

struct leg_call {
	enum leg_kind kind;
	uint64_t ref;
	char idc[GK_ID_MAX + 1], idsp[GK_ID_MAX + 1], address[GK_TXT_SHORT];
	uint8_t rand[GK_RAND_LEN], auth[GK_AUTH_LEN];
	uint8_t bt[GK_BLOB_LEN], be[GK_BLOB_LEN];
	enum gk_reason why;
	bool sealed, has_rand;
};

#define LEG_MAX  32
#define ACCT_MAX 16

struct sbc_world {
	struct gk_loop *loop;
	struct gk_registrar *front;
	struct gk_core *core;
	uint8_t ksp[GK_KEY_LEN], kc[GK_KEY_LEN];
	struct leg_call q[LEG_MAX];
	unsigned q_head, q_tail;
	struct sent out;
	struct {
		uint32_t status;
		char address[GK_TXT_SHORT];
	} acct[ACCT_MAX];
	unsigned n_acct;
	unsigned sealed_calls; /* s2 and s8 that crossed the core leg marked sealed */
	/* Name each call's attempt to the core as sbcd's Call-ID does (gk_registrar_ref_attempt),
	 * so that copies of an attempt join it; else every call is an attempt of its own. */
	bool attempts_named;
};

static struct leg_call *leg_push(struct sbc_world *w, enum leg_kind kind, uint64_t ref)
{
	struct leg_call *c = &w->q[w->q_tail++ % LEG_MAX];

	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->ref = ref;
	return c;
}

static void sf_send(void *user, const struct gk_msg *m, const struct sockaddr_storage *to,
                    struct gk_binding *b)
{
	struct sbc_world *w = user;
	(void)to;
	w->out.m = *m;
	w->out.have = true;
	w->out.sealed = b != NULL;
}

static void sf_register(void *user, uint64_t ref, const char *idc, const char *idsp,
                        const char *address, bool sealed)
{
	struct leg_call *c = leg_push(user, L_REGISTER, ref);
	c->sealed = sealed;
	((struct sbc_world *)user)->sealed_calls += sealed;
	snprintf(c->idc, sizeof(c->idc), "%s", idc);
	snprintf(c->idsp, sizeof(c->idsp), "%s", idsp);
	snprintf(c->address, sizeof(c->address), "%s", address);
}

static void sf_answer(void *user, uint64_t ref, const char *idc, const char *idsp,
                      const uint8_t rand[GK_RAND_LEN], const uint8_t auth[GK_AUTH_LEN],
                      const char *address, bool sealed)
{
	struct leg_call *c = leg_push(user, L_ANSWER, ref);
	c->sealed = sealed;
	((struct sbc_world *)user)->sealed_calls += sealed;
	snprintf(c->idc, sizeof(c->idc), "%s", idc);
	snprintf(c->idsp, sizeof(c->idsp), "%s", idsp);
	snprintf(c->address, sizeof(c->address), "%s", address);
	memcpy(c->rand, rand, GK_RAND_LEN);
	memcpy(c->auth, auth, GK_AUTH_LEN);
}

static void sf_unbound(void *user, const char *idc, const char *idsp, const char *address,
                       const uint8_t *rand)
{
	struct leg_call *c = leg_push(user, L_UNBOUND, 0);
	snprintf(c->idc, sizeof(c->idc), "%s", idc);
	snprintf(c->idsp, sizeof(c->idsp), "%s", idsp);
	snprintf(c->address, sizeof(c->address), "%s", address);
	c->has_rand = rand != NULL;
	if (rand)
		memcpy(c->rand, rand, GK_RAND_LEN);
}

static void sc_auc_request(void *user, uint32_t handle, const char *idc, const char *idsp)
{
	struct leg_call *c = leg_push(user, L_VECTOR, handle);
	snprintf(c->idc, sizeof(c->idc), "%s", idc);
	snprintf(c->idsp, sizeof(c->idsp), "%s", idsp);
}

static void sc_acct(void *user, const struct gk_auc_acct *a)
{
	struct sbc_world *w = user;
	if (w->n_acct < ACCT_MAX) {
		w->acct[w->n_acct].status = a->status;
		snprintf(w->acct[w->n_acct].address, GK_TXT_SHORT, "%s", a->address);
		w->n_acct++;
	}
}

static void sc_challenge(void *user, uint64_t ref, const uint8_t rand[GK_RAND_LEN])
{
	memcpy(leg_push(user, L_CHALLENGE, ref)->rand, rand, GK_RAND_LEN);
}

static void sc_success(void *user, uint64_t ref, const uint8_t rand[GK_RAND_LEN],
                       const uint8_t bt[GK_BLOB_LEN], const uint8_t be[GK_BLOB_LEN])
{
	struct leg_call *c = leg_push(user, L_SUCCESS, ref);
	memcpy(c->rand, rand, GK_RAND_LEN);
	memcpy(c->bt, bt, GK_BLOB_LEN);
	memcpy(c->be, be, GK_BLOB_LEN);
}

static void sc_reject(void *user, uint64_t ref, enum gk_reason why)
{
	leg_push(user, L_REJECT, ref)->why = why;
}

static uint64_t leg_attempt(const struct sbc_world *w, uint64_t ref)
{
	return w->attempts_named ? gk_registrar_ref_attempt(ref) | 1ull << 40 : 0;
}

/* Delivers up to n calls in order, and the AuC's vectors (for the one subscriber, alice). */
static void leg_pump_n(struct sbc_world *w, unsigned n)
{
	while (n-- && w->q_head != w->q_tail) {
		struct leg_call c = w->q[w->q_head++ % LEG_MAX];
		struct gk_auc_vector v;

		switch (c.kind) {
		case L_REGISTER:
			gk_core_register(w->core, c.ref, c.idc, c.idsp, c.address, c.sealed,
			                 leg_attempt(w, c.ref));
			break;
		case L_ANSWER:
			gk_core_answer(w->core, c.ref, c.idc, c.idsp, c.rand, c.auth, c.address,
			               c.sealed, leg_attempt(w, c.ref));
			break;
		case L_UNBOUND:
			gk_core_unbound(w->core, c.idc, c.idsp, c.address,
			                c.has_rand ? c.rand : NULL);
			break;
		case L_VECTOR:
			gk_vector_make(w->kc, w->ksp, GK_ROLE_SBC, c.idc, c.idsp, &v);
			gk_core_auc_vector(w->core, (uint32_t)c.ref, &v);
			break;
		case L_CHALLENGE:
			gk_registrar_core_challenge(w->front, c.ref, c.rand);
			break;
		case L_SUCCESS:
			gk_registrar_core_success(w->front, c.ref, c.rand, c.bt, c.be);
			break;
		case L_REJECT:
			gk_registrar_core_reject(w->front, c.ref, c.why, 0);
			break;
		}
	}
}

/* Delivers every call in order. */
static void leg_pump(struct sbc_world *w)
{
	leg_pump_n(w, ~0u);
}

/* The core's side of the core leg: into the queue leg_pump delivers from. */
static const struct gk_core_ops sbc_core_ops = {
    .auc_request = sc_auc_request,
    .auc_accounting = sc_acct,
    .challenge = sc_challenge,
    .success = sc_success,
    .reject = sc_reject,
};

FIXTURE(sbc)
{
	struct sbc_world w;
	struct gk_terminal alice;
};

FIXTURE_SETUP(sbc)
{
	struct gk_registrar_cfg cfg;
	struct gk_core_cfg ccfg;
	static const struct gk_registrar_ops fops = {
	    .send_terminal = sf_send,
	    .core_register = sf_register,
	    .core_answer = sf_answer,
	    .core_unbound = sf_unbound,
	};
	char err[128];

	memset(&self->w, 0, sizeof(self->w));
	self->w.loop = gk_loop_new(NULL, err, sizeof(err));
	ASSERT_NE(NULL, self->w.loop);
	gk_random(self->w.ksp, GK_KEY_LEN);
	gk_random(self->w.kc, GK_KEY_LEN);
	gk_registrar_cfg_defaults(&cfg);
	snprintf(cfg.idsp, sizeof(cfg.idsp), "ss1");
	memcpy(cfg.element_key, self->w.ksp, GK_KEY_LEN);
	cfg.role = GK_ROLE_SBC;
	cfg.max_terminals = 64;
	cfg.max_pending = 16;
	cfg.core_timeout_ms = 200; /* a core that never answers, in tests that wait for it */
	cfg.log_registrations = false;
	self->w.front = gk_registrar_new(&cfg, &fops, &self->w, self->w.loop, err, sizeof(err));
	ASSERT_NE(NULL, self->w.front);
	gk_core_cfg_defaults(&ccfg);
	ccfg.max_terminals = 64;
	ccfg.max_pending = 16;
	self->w.core = gk_core_new(&ccfg, &sbc_core_ops, &self->w, self->w.loop, err, sizeof(err));
	ASSERT_NE(NULL, self->w.core);
	term_init(&self->alice, "alice", self->w.kc);
}

FIXTURE_TEARDOWN(sbc)
{
	gk_registrar_free(self->w.front);
	gk_core_free(self->w.core);
	gk_loop_free(self->w.loop);
}

/* The whole exchange from host, each request's calls over the core leg pumped before the
 * terminal sees the response. */
static int sbc_run_verified(struct sbc_world *w, struct gk_terminal *t, int host, uint32_t index)
{
	struct sockaddr_storage from = addr_of(host);
	struct gk_msg req, next;
	int ret = -2;

	gk_terminal_register(t, &req);
	for (int step = 0; step < 16; step++) {
		w->out.have = false;
		gk_registrar_on_message(w->front, &req, &from, index);
		leg_pump(w);
		if (!w->out.have)
			return -3;
		ret = gk_terminal_on_message(t, &w->out.m, &next);
		if (ret != 1)
			return ret;
		req = next;
	}
	return ret;
}

static int sbc_run(struct sbc_world *w, struct gk_terminal *t, int host)
{
	return sbc_run_verified(w, t, host, 0);
}

/* A request lost on the core leg: the core leg has no retransmission of its own, so the
 * terminal's retransmission, which the front would otherwise absorb while the core decides,
 * sends it to the core again, and the registration completes. */
TEST_F(sbc, a_request_lost_on_the_core_leg_goes_again_with_the_terminals_retransmission)
{
	struct sockaddr_storage from = addr_of(2);
	struct gk_msg req, next;

	gk_terminal_register(&self->alice, &req);
	self->w.out.have = false;
	gk_registrar_on_message(self->w.front, &req, &from, 0);
	ASSERT_NE(self->w.q_head, self->w.q_tail);
	self->w.q_head = self->w.q_tail; /* lost on the way to the core */
	EXPECT_EQ(0u, gk_registrar_stats(self->w.front)->core_resent);
	gk_registrar_on_message(self->w.front, &req, &from, 0); /* the terminal retransmits */
	EXPECT_EQ(1u, gk_registrar_stats(self->w.front)->core_resent);
	leg_pump(&self->w);
	ASSERT_TRUE(self->w.out.have);
	ASSERT_EQ(GK_MSG_CHALLENGE, self->w.out.m.type);
	ASSERT_EQ(1, gk_terminal_on_message(&self->alice, &self->w.out.m, &next));
	self->w.out.have = false;
	gk_registrar_on_message(self->w.front, &next, &from, 0);
	self->w.q_head = self->w.q_tail; /* the answer is lost too */
	gk_registrar_on_message(self->w.front, &next, &from, 0);
	EXPECT_EQ(2u, gk_registrar_stats(self->w.front)->core_resent);
	leg_pump(&self->w);
	ASSERT_TRUE(self->w.out.have);
	ASSERT_EQ(GK_MSG_SUCCESS, self->w.out.m.type);
	gk_terminal_on_message(&self->alice, &self->w.out.m, &req);
	EXPECT_EQ(GK_TERM_REGISTERED, self->alice.state);
	EXPECT_EQ(1u, gk_registrar_stats(self->w.front)->challenges);
}

static bool sbc_answered(void *arg)
{
	return ((struct sbc_world *)arg)->out.have;
}

/* A refresh's answer outlives the core's time to decide: the front refuses it for now (overload,
 * with a wait), and that refusal is lost. The terminal's retransmission of the answer carries an
 * N1 the front has spent; refused as a replay (403) it would end the registration, as it once
 * did under a soak's load. It gets the same temporary refusal again, and only from where the
 * first one went: a copy from elsewhere is still a replay. */
TEST_F(sbc, a_retransmission_after_a_lost_temporary_refusal_gets_that_refusal_again)
{
	struct sockaddr_storage from = addr_of(2), elsewhere = addr_of(3);
	struct gk_msg req, answer, again;

	ASSERT_EQ(0, sbc_run(&self->w, &self->alice, 2));
	ASSERT_EQ(GK_TERM_REGISTERED, self->alice.state);
	gk_terminal_register(&self->alice, &req); /* the refresh */
	gk_registrar_on_message(self->w.front, &req, &from, 0);
	leg_pump(&self->w);
	ASSERT_TRUE(self->w.out.have);
	ASSERT_EQ(1, gk_terminal_on_message(&self->alice, &self->w.out.m, &answer));
	self->w.out.have = false;
	gk_registrar_on_message(self->w.front, &answer, &from, 0);
	self->w.q_head = self->w.q_tail; /* the core never decides */
	/* the core's timeout (200 ms) passes; the refusal, lost on its way */
	ASSERT_TRUE(run_until(self->w.loop, sbc_answered, &self->w, 5000));
	EXPECT_EQ(GK_MSG_REJECT, self->w.out.m.type);
	EXPECT_EQ(GK_R_OVERLOAD, self->w.out.m.reason);
	uint32_t wait = self->w.out.m.retry_after;
	EXPECT_NE(0u, wait);
	EXPECT_EQ(1u, gk_registrar_stats(self->w.front)->reasons.n[GK_R_AUC_TIMEOUT]);

	self->w.out.have = false;
	gk_registrar_on_message(self->w.front, &answer, &from, 0); /* retransmitted */
	ASSERT_TRUE(self->w.out.have);
	EXPECT_EQ(GK_MSG_REJECT, self->w.out.m.type);
	EXPECT_EQ(GK_R_OVERLOAD, self->w.out.m.reason);
	EXPECT_EQ(wait, self->w.out.m.retry_after);
	EXPECT_EQ(1u, gk_registrar_stats(self->w.front)->refusals_repeated);
	EXPECT_EQ(0u, gk_registrar_stats(self->w.front)->reasons.n[GK_R_REPLAY_N1]);
	EXPECT_EQ(self->w.q_head, self->w.q_tail); /* nothing new asked of the core */
	EXPECT_EQ(-1, gk_terminal_on_message(&self->alice, &self->w.out.m, &again));
	EXPECT_EQ(GK_R_OVERLOAD, self->alice.reason);

	self->w.out.have = false;
	gk_registrar_on_message(self->w.front, &answer, &elsewhere, 0); /* copied elsewhere */
	ASSERT_TRUE(self->w.out.have);
	EXPECT_EQ(GK_MSG_REJECT, self->w.out.m.type);
	EXPECT_NE(GK_R_OVERLOAD, self->w.out.m.reason);
	EXPECT_EQ(1u, gk_registrar_stats(self->w.front)->refusals_repeated);

	/* After the wait, a fresh attempt completes the refresh. */
	ASSERT_EQ(0, sbc_run(&self->w, &self->alice, 2));
	EXPECT_EQ(GK_TERM_REGISTERED, self->alice.state);
}

/* The core's success is lost on the core leg: the terminal's retransmitted answer goes to the
 * core again, which has finished with that attempt and challenges afresh. A copy of the first
 * answer still on its way then meets the fresh challenge at the front: it gets that challenge
 * again, not a refusal that would end the registration, and the terminal completes it. */
TEST_F(sbc, an_answer_to_an_earlier_challenge_gets_the_current_one)
{
	struct sockaddr_storage from = addr_of(2);
	struct gk_msg req, answer, again;

	gk_terminal_register(&self->alice, &req);
	gk_registrar_on_message(self->w.front, &req, &from, 0);
	leg_pump(&self->w);
	ASSERT_TRUE(self->w.out.have);
	ASSERT_EQ(1, gk_terminal_on_message(&self->alice, &self->w.out.m, &answer));
	self->w.out.have = false;
	gk_registrar_on_message(self->w.front, &answer, &from, 0);
	leg_pump_n(&self->w, 1);         /* the core decides: success ... */
	self->w.q_head = self->w.q_tail; /* ... which is lost */
	ASSERT_FALSE(self->w.out.have);
	gk_registrar_on_message(self->w.front, &answer, &from, 0); /* retransmitted */
	leg_pump(&self->w);
	ASSERT_TRUE(self->w.out.have);
	ASSERT_EQ(GK_MSG_CHALLENGE, self->w.out.m.type); /* the core challenged afresh */
	EXPECT_EQ(1u, gk_core_stats(self->w.core)->stale_answers);
	struct gk_msg fresh = self->w.out.m;
	self->w.out.have = false;
	gk_registrar_on_message(self->w.front, &answer, &from, 0); /* the old answer again */
	ASSERT_TRUE(self->w.out.have);
	EXPECT_EQ(GK_MSG_CHALLENGE, self->w.out.m.type);
	EXPECT_EQ(0, memcmp(fresh.n2, self->w.out.m.n2, GK_NONCE_LEN));
	ASSERT_EQ(1, gk_terminal_on_message(&self->alice, &fresh, &again));
	self->w.out.have = false;
	gk_registrar_on_message(self->w.front, &again, &from, 0);
	leg_pump(&self->w);
	ASSERT_TRUE(self->w.out.have);
	ASSERT_EQ(GK_MSG_SUCCESS, self->w.out.m.type);
	gk_terminal_on_message(&self->alice, &self->w.out.m, &req);
	EXPECT_EQ(GK_TERM_REGISTERED, self->alice.state);
}

/* The terminal's REGISTER again while its answer is at the core: an MGCP or H.248 terminal's
 * layer retransmits the REGISTER until its own final response arrives, which comes apart from
 * the challenge and may be lost; a layer that forgot that response hands the copy on as new. It
 * is the REGISTER this attempt began with: it gets the challenge again (which the terminal, past
 * it, ignores), and the attempt is not replaced by a new one, which would have thrown the answer
 * away and refused its retransmission (BAD_N2 or NO_CHALLENGE: the terminal fails, REFUSED). */
TEST_F(sbc, a_register_again_while_its_answer_is_decided_replaces_nothing)
{
	struct sockaddr_storage from = addr_of(2);
	struct gk_msg req, answer, ignored;

	gk_terminal_register(&self->alice, &req);
	gk_registrar_on_message(self->w.front, &req, &from, 0);
	leg_pump(&self->w);
	ASSERT_TRUE(self->w.out.have);
	ASSERT_EQ(1, gk_terminal_on_message(&self->alice, &self->w.out.m, &answer));
	self->w.out.have = false;
	gk_registrar_on_message(self->w.front, &answer, &from, 0); /* on the core leg */
	unsigned leg = self->w.q_tail;
	gk_registrar_on_message(self->w.front, &req, &from, 0); /* the REGISTER again */
	EXPECT_EQ(leg, self->w.q_tail);                         /* nothing new for the core */
	ASSERT_TRUE(self->w.out.have);
	EXPECT_EQ(GK_MSG_CHALLENGE, self->w.out.m.type);
	EXPECT_EQ(0, memcmp(req.n1, self->w.out.m.n1, GK_NONCE_LEN));
	EXPECT_EQ(-2, gk_terminal_on_message(&self->alice, &self->w.out.m, &ignored));
	EXPECT_EQ(1u, gk_registrar_stats(self->w.front)->challenges_resent);
	self->w.out.have = false;
	leg_pump(&self->w);
	ASSERT_TRUE(self->w.out.have);
	ASSERT_EQ(GK_MSG_SUCCESS, self->w.out.m.type);
	EXPECT_EQ(0, gk_terminal_on_message(&self->alice, &self->w.out.m, &ignored));
	EXPECT_EQ(GK_TERM_REGISTERED, self->alice.state);
	EXPECT_EQ(1u, gk_registrar_stats(self->w.front)->registrations);

	/* Once registered, the same REGISTER gets the success it ended in, and nothing else:
	 * no attempt, nothing for the core. */
	self->w.out.have = false;
	leg = self->w.q_tail;
	gk_registrar_on_message(self->w.front, &req, &from, self->alice.index);
	EXPECT_EQ(leg, self->w.q_tail);
	ASSERT_TRUE(self->w.out.have);
	EXPECT_EQ(GK_MSG_SUCCESS, self->w.out.m.type);
	EXPECT_EQ(1u, gk_registrar_stats(self->w.front)->successes_resent);
	uint32_t records, in_progress;
	gk_registrar_gauges(self->w.front, &records, &in_progress);
	EXPECT_EQ(0u, in_progress);
	/* From anywhere else it is still a replay. */
	struct sockaddr_storage elsewhere = addr_of(7);
	self->w.out.have = false;
	gk_registrar_on_message(self->w.front, &req, &elsewhere, 0);
	ASSERT_TRUE(self->w.out.have);
	EXPECT_EQ(GK_MSG_REJECT, self->w.out.m.type);
	EXPECT_EQ(GK_R_REPLAY_N1, self->w.out.m.reason);
}

/* Over a slow core leg, the core's verdict on an earlier request of an attempt can arrive after
 * the terminal has moved on: here a late copy of the REGISTER joins the attempt at the core
 * after the terminal answered, and the core sends its challenge again. The front drops that
 * verdict (it answers the REGISTER, not the answer being decided) and counts it; taken for the
 * answer's, it challenged the terminal's answer while the core was deciding it, the success that
 * followed found the attempt waiting for a new answer, and over a leg slower than the terminal's
 * retransmissions this repeated until the terminal gave up after 8 challenges (REFUSED). */
TEST_F(sbc, a_late_verdict_on_an_earlier_request_is_not_taken_for_the_current_ones)
{
	struct sockaddr_storage from = addr_of(2);
	struct gk_msg req, answer, ignored;

	self->w.attempts_named = true;
	gk_terminal_register(&self->alice, &req);
	gk_registrar_on_message(self->w.front, &req, &from, 0);
	ASSERT_EQ(1u, self->w.q_tail - self->w.q_head);
	struct leg_call register_copy = self->w.q[self->w.q_head % LEG_MAX];
	leg_pump(&self->w);
	ASSERT_TRUE(self->w.out.have);
	ASSERT_EQ(1, gk_terminal_on_message(&self->alice, &self->w.out.m, &answer));
	self->w.out.have = false;
	gk_registrar_on_message(self->w.front, &answer, &from, 0); /* on the core leg */
	/* the REGISTER's late copy reaches the core first, and joins the attempt */
	gk_core_register(self->w.core, register_copy.ref, register_copy.idc, register_copy.idsp,
	                 register_copy.address, false, leg_attempt(&self->w, register_copy.ref));
	EXPECT_EQ(1u, gk_core_stats(self->w.core)->copies_joined);
	leg_pump(&self->w); /* the REGISTER's challenge again, then the answer's success */
	EXPECT_EQ(1u, gk_registrar_stats(self->w.front)->stale_verdicts);
	ASSERT_TRUE(self->w.out.have);
	ASSERT_EQ(GK_MSG_SUCCESS, self->w.out.m.type);
	EXPECT_EQ(0, gk_terminal_on_message(&self->alice, &self->w.out.m, &ignored));
	EXPECT_EQ(GK_TERM_REGISTERED, self->alice.state);
	EXPECT_EQ(1u, self->alice.challenges);
	EXPECT_EQ(1u, gk_registrar_stats(self->w.front)->registrations);
}

/* The softswitch restarts between its challenge and the terminal's answer: the new core holds
 * no challenge with that Rand, and challenges afresh instead of refusing, so the terminal's
 * registration completes with the second challenge. */
TEST_F(sbc, an_answer_the_restarted_core_cannot_place_is_challenged_afresh)
{
	struct sockaddr_storage from = addr_of(2);
	struct gk_core_cfg ccfg;
	struct gk_msg req, next;
	char err[128];

	gk_terminal_register(&self->alice, &req);
	gk_registrar_on_message(self->w.front, &req, &from, 0);
	leg_pump(&self->w);
	ASSERT_TRUE(self->w.out.have);
	ASSERT_EQ(GK_MSG_CHALLENGE, self->w.out.m.type);
	ASSERT_EQ(1, gk_terminal_on_message(&self->alice, &self->w.out.m, &next));

	/* The softswitch dies, and comes back empty. The dead core is freed only at the end: its
	 * timers are still in the loop's heap, as a dead process's would be in nobody's, and a
	 * core frees its own without cancelling them (as softswitchd does when it stops). */
	struct gk_core *dead = self->w.core;
	gk_core_cfg_defaults(&ccfg);
	ccfg.max_terminals = 64;
	ccfg.max_pending = 16;
	self->w.core = gk_core_new(&ccfg, &sbc_core_ops, &self->w, self->w.loop, err, sizeof(err));
	ASSERT_NE(NULL, self->w.core);

	self->w.out.have = false;
	gk_registrar_on_message(self->w.front, &next, &from, 0);
	leg_pump(&self->w);
	ASSERT_TRUE(self->w.out.have);
	ASSERT_EQ(GK_MSG_CHALLENGE, self->w.out.m.type);
	EXPECT_EQ(1u, gk_core_stats(self->w.core)->stale_answers);
	ASSERT_EQ(1, gk_terminal_on_message(&self->alice, &self->w.out.m, &req));
	self->w.out.have = false;
	gk_registrar_on_message(self->w.front, &req, &from, 0);
	leg_pump(&self->w);
	ASSERT_TRUE(self->w.out.have);
	ASSERT_EQ(GK_MSG_SUCCESS, self->w.out.m.type);
	gk_terminal_on_message(&self->alice, &self->w.out.m, &next);
	EXPECT_EQ(GK_TERM_REGISTERED, self->alice.state);
	EXPECT_EQ(1u, gk_registrar_stats(self->w.front)->registrations);
	gk_core_free(dead);
}

/* With an SBC, the SBC verifies the sealed refresh and the core leg says so: the core, not the
 * SBC, knows the lockouts. */
TEST_F(sbc, a_sealed_refresh_is_marked_sealed_on_the_core_leg)
{
	ASSERT_EQ(0, sbc_run(&self->w, &self->alice, 2));
	EXPECT_EQ(0u, self->w.sealed_calls);
	ASSERT_EQ(0, sbc_run(&self->w, &self->alice, 2)); /* bare refresh */
	EXPECT_EQ(0u, self->w.sealed_calls);
	ASSERT_EQ(0, sbc_run_verified(&self->w, &self->alice, 2, self->alice.index));
	EXPECT_EQ(2u, self->w.sealed_calls);
	/* From elsewhere, the index is no proof. */
	ASSERT_EQ(0, sbc_run_verified(&self->w, &self->alice, 3, self->alice.index));
	EXPECT_EQ(2u, self->w.sealed_calls);
}

/* Through an SBC the core's Start reached the AuC before the SBC, told of the success, ended
 * the standing binding and sent its Stop: the AuC saw Start (new), then Stop for the same
 * session (idc@idsp), and took the refreshed terminal for gone. The core, which accounts the
 * Start, knows the session is open and ends it first; the SBC's own Stop for it, arriving after,
 * is already accounted. Deregistering ends the session once. */
TEST_F(sbc, refresh_stops_the_old_session_before_starting_the_new)
{
	struct gk_msg req;

	ASSERT_EQ(0, sbc_run(&self->w, &self->alice, 2));
	ASSERT_EQ(GK_TERM_REGISTERED, self->alice.state);
	ASSERT_EQ(1, self->w.n_acct);
	EXPECT_EQ(GK_RAD_ACCT_START, self->w.acct[0].status);
	ASSERT_EQ(0, sbc_run(&self->w, &self->alice, 3)); /* refreshed from elsewhere */
	ASSERT_EQ(3, self->w.n_acct);
	EXPECT_EQ(GK_RAD_ACCT_STOP, self->w.acct[1].status);
	EXPECT_STREQ("198.18.0.2:5060", self->w.acct[1].address);
	EXPECT_EQ(GK_RAD_ACCT_START, self->w.acct[2].status);
	EXPECT_STREQ("198.18.0.3:5060", self->w.acct[2].address);
	EXPECT_EQ(1, gk_registrar_stats(self->w.front)->refreshes);

	struct sockaddr_storage from = addr_of(3);
	gk_terminal_deregister(&self->alice, &req);
	gk_registrar_on_message(self->w.front, &req, &from, self->alice.index);
	leg_pump(&self->w);
	ASSERT_EQ(4, self->w.n_acct);
	EXPECT_EQ(GK_RAD_ACCT_STOP, self->w.acct[3].status);
	EXPECT_STREQ("198.18.0.3:5060", self->w.acct[3].address);
}

/* Through an SBC the core sees the terminal's address only as the string the SBC relays: a
 * stranger's wrong answers lock out his host there too, not alice's; and an ANSWER retransmitted
 * while the core decides is absorbed, one success coming back. */
TEST_F(sbc, relayed_address_locks_out_the_stranger_and_retransmissions_are_absorbed)
{
	struct gk_terminal mallory;
	struct gk_msg req, answer;
	struct sockaddr_storage home = addr_of(2);
	uint8_t wrong[GK_KEY_LEN];

	gk_random(wrong, sizeof(wrong));
	term_init(&mallory, "alice", wrong);
	EXPECT_EQ(-1, sbc_run(&self->w, &mallory, 9));
	EXPECT_EQ(1, gk_core_stats(self->w.core)->lockouts);
	EXPECT_EQ(-1, sbc_run(&self->w, &mallory, 9));
	EXPECT_EQ(3, gk_core_stats(self->w.core)->wrong_auth);

	gk_terminal_register(&self->alice, &req);
	gk_registrar_on_message(self->w.front, &req, &home, 0);
	leg_pump(&self->w);
	ASSERT_TRUE(self->w.out.have);
	ASSERT_EQ(1, gk_terminal_on_message(&self->alice, &self->w.out.m, &answer));
	self->w.out.have = false;
	gk_registrar_on_message(self->w.front, &answer, &home, 0);
	gk_registrar_on_message(self->w.front, &answer, &home, 0); /* before the core answers */
	EXPECT_FALSE(self->w.out.have);
	leg_pump(&self->w);
	ASSERT_TRUE(self->w.out.have);
	ASSERT_EQ(GK_MSG_SUCCESS, self->w.out.m.type);
	EXPECT_EQ(0, gk_terminal_on_message(&self->alice, &self->w.out.m, &answer));
	EXPECT_EQ(1, gk_core_stats(self->w.core)->successes);
	EXPECT_EQ(1, gk_registrar_stats(self->w.front)->registrations);
}

struct core_seen {
	uint64_t rejected_ref, challenged_ref;
	enum gk_reason why;
	unsigned rejects, auc, challenges;
	uint32_t auc_handle;
	uint8_t rand[GK_RAND_LEN];
};

static void cs_auc(void *user, uint32_t handle, const char *idc, const char *idsp)
{
	(void)idc, (void)idsp;
	((struct core_seen *)user)->auc++;
	((struct core_seen *)user)->auc_handle = handle;
}

static void cs_challenge(void *user, uint64_t ref, const uint8_t rand[GK_RAND_LEN])
{
	struct core_seen *s = user;
	s->challenged_ref = ref;
	memcpy(s->rand, rand, GK_RAND_LEN);
	s->challenges++;
}

static void cs_reject(void *user, uint64_t ref, enum gk_reason why)
{
	struct core_seen *s = user;
	s->rejected_ref = ref;
	s->why = why;
	s->rejects++;
}

/* A second request for the same IDc supersedes the first at the core; the first's requester
 * (over the core leg: an SBC whose relay slot waits for an answer) is told so. Two REGISTERs per
 * made-up IDc used to leak a slot each on the softswitch, until it refused every SBC request. */
TEST(superseded_request_is_answered)
{
	struct gk_core_cfg cfg;
	struct core_seen seen = {0};
	const struct gk_core_ops ops = {.auc_request = cs_auc, .reject = cs_reject};
	char err[128];
	struct gk_loop *loop = gk_loop_new(NULL, err, sizeof(err));
	struct gk_core *c;

	ASSERT_NE(NULL, loop);
	gk_core_cfg_defaults(&cfg);
	cfg.max_terminals = 8;
	cfg.max_pending = 4;
	c = gk_core_new(&cfg, &ops, &seen, loop, err, sizeof(err));
	ASSERT_NE(NULL, c);
	for (uint64_t ref = 1; ref <= 100; ref++)
		gk_core_register(c, ref, "nobody", "sbc1", "198.18.0.9:5060", false, 0);
	EXPECT_EQ(100, seen.auc); /* never OVERLOAD: a superseded slot is free again */
	EXPECT_EQ(99, seen.rejects);
	EXPECT_EQ(99, seen.rejected_ref);
	EXPECT_EQ(GK_R_SUPERSEDED, seen.why);
	EXPECT_EQ(99, gk_core_stats(c)->reasons.n[GK_R_SUPERSEDED]);
	gk_core_free(c);
	gk_loop_free(loop);
}

/* An SBC sends the core a copy of its request when its terminal retransmits before the verdict
 * came (registrar.c, core_resend). A copy joins the attempt it copies: while the AuC is asked it
 * asks no second time, and once challenged it gets the same challenge. Taken for new attempts,
 * copies superseded each other and asked the AuC again; once the AuC answered slower than MGCP
 * terminals retransmit, every answer found its challenge replaced, and terminals gave up after
 * eight challenges (the sanitized soak, 737 of 31,000 refused). */
TEST(copies_of_an_attempt_join_it)
{
	struct gk_core_cfg cfg;
	struct core_seen seen = {0};
	const struct gk_core_ops ops = {
	    .auc_request = cs_auc, .reject = cs_reject, .challenge = cs_challenge};
	char err[128];
	struct gk_loop *loop = gk_loop_new(NULL, err, sizeof(err));
	struct gk_core *c;
	struct gk_auc_vector v = {.idc = "alice", .idsp = "sbc1"};
	const char *from = "198.18.0.9:5060";

	ASSERT_NE(NULL, loop);
	gk_core_cfg_defaults(&cfg);
	c = gk_core_new(&cfg, &ops, &seen, loop, err, sizeof(err));
	ASSERT_NE(NULL, c);
	gk_core_register(c, 1, "alice", "sbc1", from, false, 7);
	gk_core_register(c, 2, "alice", "sbc1", from, false, 7); /* a copy, the AuC still asked */
	EXPECT_EQ(1, seen.auc);
	EXPECT_EQ(1, seen.rejects); /* the first copy's reference let go ... */
	EXPECT_EQ(1, seen.rejected_ref);
	EXPECT_EQ(GK_R_SUPERSEDED, seen.why);
	EXPECT_EQ(0, gk_core_stats(c)->reasons.n[GK_R_SUPERSEDED]); /* ... as no supersession */
	EXPECT_EQ(1, gk_core_stats(c)->copies_joined);
	gk_random(v.rand, sizeof(v.rand));
	gk_core_auc_vector(c, seen.auc_handle, &v);
	EXPECT_EQ(1, seen.challenges); /* the vector answers the latest copy */
	EXPECT_EQ(2, seen.challenged_ref);
	EXPECT_EQ(0, memcmp(seen.rand, v.rand, GK_RAND_LEN));
	memset(seen.rand, 0, sizeof(seen.rand));
	gk_core_register(c, 3, "alice", "sbc1", from, false, 7); /* a copy after the challenge */
	EXPECT_EQ(1, seen.auc);
	EXPECT_EQ(2, seen.challenges);
	EXPECT_EQ(3, seen.challenged_ref);
	EXPECT_EQ(0, memcmp(seen.rand, v.rand, GK_RAND_LEN)); /* the same challenge */
	/* From another source, or another attempt, it is not a copy: a new vector is asked. */
	gk_core_register(c, 4, "alice", "sbc1", "198.18.0.10:5060", false, 7);
	EXPECT_EQ(2, seen.auc);
	gk_core_register(c, 5, "alice", "sbc1", from, false, 8);
	EXPECT_EQ(3, seen.auc);
	EXPECT_EQ(2, gk_core_stats(c)->copies_joined);
	gk_core_free(c);
	gk_loop_free(loop);
}

/* Wrong answers short of a lockout are forgotten lockout_s after the last one. Kept for ever,
 * one REGISTER and one wrong answer per made-up IDc pinned a core record each (never swept),
 * until the table was full and everyone without a record was refused. */
TEST(failures_short_of_a_lockout_are_forgotten)
{
	struct world w;
	struct gk_terminal mallory;
	struct gk_msg req, answer;
	struct gk_msg *resp;
	uint8_t wrong[GK_KEY_LEN];

	ASSERT_EQ(0, world_init(&w, 1));
	gk_random(wrong, sizeof(wrong));
	term_init(&mallory, "alice", wrong);
	gk_terminal_register(&mallory, &req);
	resp = deliver(&w, &req, 3, 0);
	ASSERT_NE(NULL, resp);
	for (int round = 0; round < 2; round++) {
		/* two wrong answers (of the three a lockout takes), then a pause of lockout_s */
		for (int i = 0; i < 2; i++) {
			ASSERT_EQ(GK_MSG_CHALLENGE, resp->type);
			ASSERT_EQ(1, gk_terminal_on_message(&mallory, resp, &answer));
			resp = deliver(&w, &answer, 3, 0);
			ASSERT_NE(NULL, resp);
		}
		tick(w.loop, 1100);
	}
	EXPECT_EQ(GK_MSG_CHALLENGE, resp->type); /* four wrong answers, never three in a row */
	EXPECT_EQ(0, gk_core_stats(w.d.core)->lockouts);
	EXPECT_EQ(4, gk_core_stats(w.d.core)->wrong_auth);
	gk_direct_fini(&w.d);
	gk_loop_free(w.loop);
}

TEST(mechanism_choice_follows_the_terminals_preference)
{
	struct gk_msg m;
	memset(&m, 0, sizeof(m));
	m.mechs[0] = (struct gk_mech_offer){GK_MECH_DIGEST, 100};
	m.mechs[1] = (struct gk_mech_offer){GK_MECH_GKMAC, 900};
	m.mechs[2] = (struct gk_mech_offer){GK_MECH_TLS, 950};
	m.n_mechs = 3;
	EXPECT_EQ(GK_MECH_GKMAC,
	          gk_mech_choose(&m, (1u << GK_MECH_GKMAC) | (1u << GK_MECH_DIGEST)));
	EXPECT_EQ(GK_MECH_DIGEST, gk_mech_choose(&m, 1u << GK_MECH_DIGEST));
	m.mechs[0].q = 920;
	EXPECT_EQ(GK_MECH_DIGEST,
	          gk_mech_choose(&m, (1u << GK_MECH_GKMAC) | (1u << GK_MECH_DIGEST)));
	m.mechs[0].q = 0; /* q=0 means "not acceptable" */
	EXPECT_EQ(GK_MECH_GKMAC,
	          gk_mech_choose(&m, (1u << GK_MECH_GKMAC) | (1u << GK_MECH_DIGEST)));
	EXPECT_EQ(GK_MECH_NONE, gk_mech_choose(&m, 1u << GK_MECH_DIGEST));
}

/*
 * tls has a name and a terminal may offer it, but nothing enforces it: chosen, the terminal would
 * only have been pinned to its address while it believed itself protected. No mask makes the
 * choice return it, nor ipsec-3gpp without the terminal's end (nothing to install SAs for), and
 * the element's configuration cannot name tls.
 */
TEST(mechanism_choice_never_returns_what_is_not_enforced)
{
	struct gk_msg m;
	uint32_t mask;
	char err[256];

	memset(&m, 0, sizeof(m));
	m.mechs[0] = (struct gk_mech_offer){GK_MECH_TLS, 1000};
	m.mechs[1] = (struct gk_mech_offer){GK_MECH_IPSEC, 990};
	m.mechs[2] = (struct gk_mech_offer){GK_MECH_GKMAC, 100};
	m.n_mechs = 3;
	EXPECT_EQ(GK_MECH_GKMAC, gk_mech_choose(&m, UINT32_MAX));
	EXPECT_EQ(GK_MECH_GKMAC, gk_mech_choose(&m, (1u << GK_MECH_TLS) | (1u << GK_MECH_IPSEC) |
	                                                (1u << GK_MECH_GKMAC)));
	EXPECT_EQ(GK_MECH_NONE, gk_mech_choose(&m, (1u << GK_MECH_TLS) | (1u << GK_MECH_IPSEC)));
	m.n_mechs = 2; /* only what nothing enforces */
	EXPECT_EQ(GK_MECH_NONE, gk_mech_choose(&m, UINT32_MAX));

	ASSERT_EQ(0, gk_mechs_parse("gk-mac, digest", &mask, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(GK_MECHS_ENFORCED, mask);
	EXPECT_EQ(-1, gk_mechs_parse("gk-mac tls", &mask, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "\"tls\" is not implemented yet")) TH_LOG("%s", err);
	/* ipsec-3gpp is enforced by the kernel's SAs, which the daemons install */
	ASSERT_EQ(0, gk_mechs_parse("ipsec-3gpp gk-mac", &mask, err, sizeof(err)))
	TH_LOG("%s", err);
	EXPECT_EQ((1u << GK_MECH_IPSEC) | (1u << GK_MECH_GKMAC), mask);
	EXPECT_EQ(-1, gk_mechs_parse("gk-mac bogus", &mask, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "unknown mechanism \"bogus\"")) TH_LOG("%s", err);
}

/* A network that does choose tls (an older or misconfigured one, its SUCCESS properly MACed)
 * is refused by the terminal too, although the terminal offered tls. */
TEST_F(exchange, terminal_refuses_a_mechanism_nobody_enforces)
{
	uint8_t k[GK_KEY_LEN], canon[GK_CANON_MAX];
	struct gk_msg req, answer, copy;
	struct gk_msg *resp;

	gk_terminal_register(&self->alice, &req);
	resp = deliver(&self->w, &req, 2, 0);
	ASSERT_NE(NULL, resp);
	ASSERT_EQ(1, gk_terminal_on_message(&self->alice, resp, &answer));
	resp = deliver(&self->w, &answer, 2, 0);
	ASSERT_NE(NULL, resp);
	ASSERT_EQ(GK_MSG_SUCCESS, resp->type);
	memcpy(&copy, resp, sizeof(copy));
	/* The network's own K, from the terminal's blob: the test plays the network. */
	ASSERT_EQ(0, gk_key_unwrap(self->w.subs[0].kc, copy.blob, "alice", "ss1", self->alice.rand,
	                           GK_ROLE_TERMINAL, k));
	int n = gk_msg_success_canonical(&copy, canon, sizeof(canon));
	ASSERT_LT(0, n);
	ASSERT_EQ(0, gk_response_mac_verify(k, canon, (size_t)n, copy.mac)); /* as the network */
	copy.chosen = GK_MECH_TLS;
	copy.index = 0;
	n = gk_msg_success_canonical(&copy, canon, sizeof(canon));
	ASSERT_LT(0, n);
	ASSERT_EQ(0, gk_response_mac(k, canon, (size_t)n, copy.mac));
	gk_wipe(k, sizeof(k));
	EXPECT_EQ(-1, gk_terminal_on_message(&self->alice, &copy, &answer));
	EXPECT_EQ(GK_R_NO_MECH, self->alice.reason);
	EXPECT_NE(GK_TERM_REGISTERED, self->alice.state);
}

/* A REGISTER for an IDc from `host`, as a stranger makes one: nothing to answer it with. */
static struct gk_msg *stranger_register(struct world *w, const char *idc, int host)
{
	struct gk_terminal t;
	struct gk_msg req;
	uint8_t k[GK_KEY_LEN];

	gk_random(k, sizeof(k));
	term_init(&t, idc, k);
	gk_terminal_register(&t, &req);
	return deliver(w, &req, host, 0);
}

/*
 * Issue 12 #7: every REGISTER used to make a record for its IDc at the front and at the core,
 * kept a minute after its attempt (the N1 cache) and holding a terminal index. A stream of
 * made-up IDcs, more per minute than max_terminals, filled both tables, and every new terminal
 * was refused OVERLOAD. Now an attempt is all a stranger costs, for as long as it lives (its
 * challenge's TTL here: the AuC answers an IDc it does not know with a decoy vector, as aucd
 * does), and the record comes with a right answer.
 */
TEST(made_up_idcs_leave_no_record_and_take_no_index)
{
	struct world w;
	struct gk_terminal alice;
	uint32_t records, in_progress;
	char idc[32];

	ASSERT_EQ(
	    0, world_init_limits(&w, &(struct limits){.challenge_ttl_s = 1, .max_terminals = 8}));
	term_init(&alice, "alice", w.subs[0].kc);
	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < 10; i++) { /* 40 IDcs in all, five times max_terminals */
			snprintf(idc, sizeof(idc), "nobody-%d-%d", round, i);
			struct gk_msg *resp = stranger_register(&w, idc, 50 + i);
			ASSERT_NE(NULL, resp);
			ASSERT_EQ(GK_MSG_CHALLENGE, resp->type)
			TH_LOG("%s: %s", idc, gk_reason_str(resp->reason));
		}
		gk_registrar_gauges(w.reg, &records, &in_progress);
		EXPECT_EQ(0u, records);
		EXPECT_EQ(10u, in_progress);
		gk_core_gauges(w.d.core, &records, &in_progress);
		EXPECT_EQ(0u, records);
		EXPECT_EQ(10u, in_progress);
		tick(w.loop, 1100); /* the challenges expire, and with them all that was kept */
		gk_registrar_gauges(w.reg, &records, &in_progress);
		EXPECT_EQ(0u, in_progress);
		gk_core_gauges(w.d.core, &records, &in_progress);
		EXPECT_EQ(0u, in_progress);
	}
	ASSERT_EQ(0, run(&w, &alice, 2));
	EXPECT_EQ(GK_TERM_REGISTERED, alice.state);
	EXPECT_GE(8u, alice.index);
	gk_registrar_gauges(w.reg, &records, &in_progress);
	EXPECT_EQ(1u, records);
	gk_core_gauges(w.d.core, &records, &in_progress);
	EXPECT_EQ(1u, records);
	gk_direct_fini(&w.d);
	gk_loop_free(w.loop);
}

/* An answer whose challenge this front no longer holds (it expired here; a restarted front holds
 * none at all) is challenged afresh, and the terminal's registration completes instead of
 * failing: its retransmission after a crash of the element is such an answer. */
TEST(an_answer_to_a_forgotten_challenge_is_challenged_afresh)
{
	struct world w;
	struct gk_terminal alice;
	struct gk_msg req, answer, again;
	struct gk_msg *resp;

	ASSERT_EQ(0, world_init_limits(&w, &(struct limits){.challenge_ttl_s = 1}));
	term_init(&alice, "alice", w.subs[0].kc);
	gk_terminal_register(&alice, &req);
	resp = deliver(&w, &req, 2, 0);
	ASSERT_NE(NULL, resp);
	ASSERT_EQ(GK_MSG_CHALLENGE, resp->type);
	ASSERT_EQ(1, gk_terminal_on_message(&alice, resp, &answer));
	tick(w.loop, 1100); /* the challenge expires at the front and at the core */
	resp = deliver(&w, &answer, 2, 0);
	ASSERT_NE(NULL, resp);
	ASSERT_EQ(GK_MSG_CHALLENGE, resp->type);
	EXPECT_EQ(1u, gk_registrar_stats(w.reg)->stale_answers);
	ASSERT_EQ(1, gk_terminal_on_message(&alice, resp, &again));
	resp = deliver(&w, &again, 2, 0);
	ASSERT_NE(NULL, resp);
	ASSERT_EQ(GK_MSG_SUCCESS, resp->type);
	gk_terminal_on_message(&alice, resp, &again);
	EXPECT_EQ(GK_TERM_REGISTERED, alice.state);
	EXPECT_EQ(1u, gk_registrar_stats(w.reg)->registrations);
	gk_direct_fini(&w.d);
	gk_loop_free(w.loop);
}

/*
 * The attempt tables are finite (max_pending), and a stranger who knows IDcs the AuC will
 * challenge can fill them for a challenge's TTL. Their last quarter is kept for the host an IDc
 * is registered from: the refresh of a registered terminal goes through such a flood, at the
 * front and at the core, while a new registration waits for it to pass.
 */
TEST_F(exchange, attempt_table_full_of_strangers_leaves_room_for_a_refresh)
{
	char idc[32];
	struct gk_msg *resp;
	int i;

	ASSERT_EQ(0, run(&self->w, &self->alice, 2));
	for (i = 0; i < 16; i++) {
		snprintf(idc, sizeof(idc), "nobody-%d", i);
		resp = stranger_register(&self->w, idc, 50 + i);
		ASSERT_NE(NULL, resp);
		if (resp->type != GK_MSG_CHALLENGE)
			break;
	}
	EXPECT_EQ(12, i); /* three quarters of max_pending 16 */
	EXPECT_EQ(GK_MSG_REJECT, resp->type);
	EXPECT_EQ(GK_R_OVERLOAD, resp->reason);
	/* The same flood from the terminal's host would not pass: it is the binding's host that
	 * counts, not the IDc it asks for. */
	resp = stranger_register(&self->w, "nobody-else", 2);
	ASSERT_NE(NULL, resp);
	EXPECT_EQ(GK_R_OVERLOAD, resp->reason);
	ASSERT_EQ(0, run(&self->w, &self->alice, 2));
	EXPECT_EQ(GK_TERM_REGISTERED, self->alice.state);
	EXPECT_EQ(1, gk_registrar_stats(self->w.reg)->refreshes);
}

/*
 * An id that names no mechanism (RAS carries them as numbers 0..255) is passed over, never used
 * as a shift count: 1u << 33 is undefined, on x86 it is gk-mac's bit, and with every bit of
 * `supported` set the old choice returned 33 itself. UBSan (make SAN=1) aborts on such a shift.
 */
TEST(mechanism_choice_never_shifts_by_an_undefined_id)
{
	static const unsigned ids[] = {0, 5, 31, 32, 33, 255};
	struct gk_msg m;

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		memset(&m, 0, sizeof(m));
		m.mechs[0] = (struct gk_mech_offer){(uint8_t)ids[i], 1000};
		m.mechs[1] = (struct gk_mech_offer){GK_MECH_GKMAC, 500};
		m.n_mechs = 2;
		EXPECT_EQ(GK_MECH_GKMAC, gk_mech_choose(&m, UINT32_MAX)) TH_LOG("id %u", ids[i]);
		EXPECT_EQ(GK_MECH_GKMAC, gk_mech_choose(&m, 1u << GK_MECH_GKMAC));
		m.n_mechs = 1;
		EXPECT_EQ(GK_MECH_NONE, gk_mech_choose(&m, UINT32_MAX)) TH_LOG("id %u", ids[i]);
	}
}

/* ipsec-3gpp (TS 33.203 sec-agree) in the exchange: the terminal offers it with its end, the
 * element answers with its own in the SUCCESS under the s10 MAC, and installs its side before
 * the SUCCESS goes out. */
static const struct gk_ipsec_end alice_end = {
    .spi_c = 1111, .spi_s = 2222, .port_c = 5062, .port_s = 5064};

static void offer_ipsec(struct gk_terminal *t)
{
	t->offer[0] = (struct gk_mech_offer){GK_MECH_IPSEC, 1000};
	t->offer[1] = (struct gk_mech_offer){GK_MECH_GKMAC, 900};
	t->n_offer = 2;
	t->ipsec_own = alice_end;
}

static void alice_info(const struct gk_binding_info *bi, void *arg)
{
	if (strcmp(bi->idc, "alice") == 0)
		*(struct gk_binding_info *)arg = *bi;
}

/* Both sides' view of the association gives the same four SAs: SPI, ports and key per flow. */
static int sas_differ(const struct gk_terminal *t, const struct world *w)
{
	struct gk_ipsec_assoc at = {.side = GK_IPSEC_AT_TERMINAL,
	                            .term = addr_of(2),
	                            .net = addr_of(1),
	                            .term_end = t->ipsec_own,
	                            .net_end = t->ipsec_net};
	struct gk_ipsec_assoc ae = {.side = GK_IPSEC_AT_ELEMENT,
	                            .term = w->ipsec.from,
	                            .net = addr_of(1),
	                            .term_end = w->ipsec.term,
	                            .net_end = w->ipsec.net};
	return helper_sas_differ(&at, t->k, &ae, w->ipsec.k);
}

TEST(ipsec_3gpp_terminal_and_element_agree_on_both_ends_and_the_key)
{
	struct world w;
	struct gk_terminal alice;
	struct gk_binding_info bi;

	ASSERT_EQ(0, world_init_limits(&w, &(struct limits){.ipsec = true}));
	term_init(&alice, "alice", w.subs[0].kc);
	offer_ipsec(&alice);
	ASSERT_EQ(0, run(&w, &alice, 2));
	ASSERT_EQ(GK_TERM_REGISTERED, alice.state);
	EXPECT_EQ(GK_MECH_IPSEC, alice.chosen);
	ASSERT_EQ(1u, w.ipsec.calls);
	EXPECT_EQ(0u, w.ipsec.refreshes);
	EXPECT_TRUE(gk_ipsec_end_equal(&w.ipsec.term, &alice_end));
	EXPECT_TRUE(gk_ipsec_end_equal(&w.ipsec.net, &alice.ipsec_net));
	EXPECT_TRUE(gk_ipsec_end_ok(&alice.ipsec_net));
	EXPECT_EQ(5062, alice.ipsec_net.port_c);
	EXPECT_EQ(5064, alice.ipsec_net.port_s);
	EXPECT_EQ(0, memcmp(w.ipsec.k, alice.k, GK_KEY_LEN)); /* the SAs' keys come from K */
	EXPECT_EQ(-1, sas_differ(&alice, &w));
	memset(&bi, 0, sizeof(bi));
	gk_registrar_foreach(w.reg, alice_info, &bi);
	EXPECT_EQ(GK_MECH_IPSEC, bi.mech);
	EXPECT_TRUE(gk_ipsec_end_equal(&bi.ipsec_term, &alice_end));
	EXPECT_TRUE(gk_ipsec_end_equal(&bi.ipsec_net, &alice.ipsec_net));

	/* A refresh: the element is told the binding it replaces, and its new end has SPIs of
	 * its own, so the new SAs can stand beside the old until the switch. */
	struct gk_ipsec_end first = alice.ipsec_net;
	ASSERT_EQ(0, run(&w, &alice, 2));
	ASSERT_EQ(2u, w.ipsec.calls);
	EXPECT_EQ(1u, w.ipsec.refreshes);
	EXPECT_TRUE(gk_ipsec_end_equal(&w.ipsec.cur_net, &first));
	EXPECT_NE(first.spi_c, alice.ipsec_net.spi_c);
	EXPECT_NE(first.spi_s, alice.ipsec_net.spi_s);
	EXPECT_NE(alice.ipsec_net.spi_c, alice.ipsec_net.spi_s);
	EXPECT_EQ(-1, sas_differ(&alice, &w));
	gk_direct_fini(&w.d);
	gk_loop_free(w.loop);
}

/*
 * Attack: the kernel's policies protect only the flow between the protected ports, so an
 * ipsec-3gpp binding must not pin its terminal to its address as Digest does. A plaintext request
 * from the address alice registered from (anyone on the path can spoof it) used to be served as
 * hers; it is refused, and only what came in on her protected flow (her address and port-c, to
 * the element's port-s) speaks for her, and for her alone.
 */
TEST(ipsec_3gpp_binding_is_served_only_over_its_protected_flow)
{
	struct world w;
	struct gk_terminal alice;
	struct gk_msg probe, *resp;
	char idc[GK_ID_MAX + 1];

	ASSERT_EQ(0, world_init_limits(&w, &(struct limits){.ipsec = true}));
	term_init(&alice, "alice", w.subs[0].kc);
	offer_ipsec(&alice);
	ASSERT_EQ(0, run(&w, &alice, 2));
	ASSERT_EQ(GK_MECH_IPSEC, alice.chosen);
	struct sockaddr_storage plain = addr_of(2), prot = addr_str("198.18.0.2:5062"),
	                        wrong_port = addr_str("198.18.0.2:5063"),
	                        stranger = addr_str("198.18.0.3:5062");

	/* the plaintext probe from her registration's address: nobody's */
	uint64_t before = gk_registrar_stats(w.reg)->reasons.n[GK_R_BAD_TRAILER];
	EXPECT_EQ(NULL, other_request(&w, "OPTIONS", 0));
	EXPECT_EQ(before + 1, gk_registrar_stats(w.reg)->reasons.n[GK_R_BAD_TRAILER]);
	EXPECT_FALSE(gk_registrar_other_allowed(w.reg, &plain));
	EXPECT_EQ(GK_R_NOT_REGISTERED, gk_registrar_speaks_for(w.reg, 0, &plain, "alice", idc));

	/* her protected flow: port-c to the element's port-s, and nothing else */
	EXPECT_EQ(5064, gk_registrar_ipsec_port(w.reg, &prot));
	uint32_t index = gk_registrar_ipsec_sender(w.reg, &prot, 5064);
	EXPECT_NE(0u, index);
	EXPECT_EQ(0u, gk_registrar_ipsec_sender(w.reg, &prot, 5062));
	EXPECT_EQ(0u, gk_registrar_ipsec_sender(w.reg, &prot, 5060));
	EXPECT_EQ(0u, gk_registrar_ipsec_sender(w.reg, &plain, 5064));
	EXPECT_EQ(0u, gk_registrar_ipsec_sender(w.reg, &wrong_port, 5064));
	EXPECT_EQ(0u, gk_registrar_ipsec_sender(w.reg, &stranger, 5064));
	EXPECT_EQ(0, gk_registrar_ipsec_port(w.reg, &plain));

	memset(&probe, 0, sizeof(probe));
	probe.proto = GK_PROTO_SIP;
	probe.type = GK_MSG_OTHER;
	snprintf(probe.idc, sizeof(probe.idc), "alice");
	snprintf(probe.idsp, sizeof(probe.idsp), "ss1");
	snprintf(probe.wire.sip.method, sizeof(probe.wire.sip.method), "OPTIONS");
	/* under the SAs a SIP request echoes the element's end (Security-Verify) */
	probe.ipsec_net = alice.ipsec_net;
	probe.fields |= GK_F_SEC_VERIFY;
	resp = deliver_from(&w, &probe, &prot, index);
	ASSERT_NE(NULL, resp);
	EXPECT_EQ(GK_MSG_OTHER_OK, resp->type);
	EXPECT_FALSE(w.out.sealed); /* the SAs protect it, not a trailer */
	EXPECT_EQ(GK_R_OK, gk_registrar_speaks_for(w.reg, index, &prot, "alice", idc));
	EXPECT_STREQ("alice", idc);
	EXPECT_EQ(GK_R_IDENTITY_MISMATCH, gk_registrar_speaks_for(w.reg, index, &prot, "bob", idc));
	/* an index is only good with the flow that passed it */
	EXPECT_EQ(GK_R_NOT_REGISTERED, gk_registrar_speaks_for(w.reg, index, &plain, "alice", idc));

	/* deregistered: the flow speaks for nobody any more */
	gk_terminal_deregister(&alice, &probe);
	probe.ipsec_net = alice.ipsec_net;
	probe.fields |= GK_F_SEC_VERIFY;
	resp = deliver_from(&w, &probe, &prot, index);
	ASSERT_NE(NULL, resp);
	EXPECT_EQ(GK_MSG_DEREG_OK, resp->type);
	EXPECT_EQ(0, gk_registrar_ipsec_port(w.reg, &prot));
	EXPECT_EQ(0u, gk_registrar_ipsec_sender(w.reg, &prot, 5064));
	gk_direct_fini(&w.d);
	gk_loop_free(w.loop);
}

/*
 * Attack: bob, behind alice's NAT (or on her host), registers with ipsec-3gpp from her address
 * with her protected client port. His policies would have the same selectors as hers, under which
 * the kernel takes either's SAs, and his datagrams would count as hers. The element refuses him;
 * alice's flow stays hers; with a port of his own he registers.
 */
TEST(ipsec_3gpp_flow_of_another_terminal_is_not_given_away)
{
	struct world w;
	struct gk_terminal alice, bob;
	struct sockaddr_storage prot = addr_str("198.18.0.2:5062");

	ASSERT_EQ(0, world_init_limits(&w, &(struct limits){.ipsec = true}));
	snprintf(w.subs[1].idc, sizeof(w.subs[1].idc), "bob");
	gk_random(w.subs[1].kc, GK_KEY_LEN);
	w.n_subs = 2;
	term_init(&alice, "alice", w.subs[0].kc);
	offer_ipsec(&alice);
	ASSERT_EQ(0, run(&w, &alice, 2));
	uint32_t hers = gk_registrar_ipsec_sender(w.reg, &prot, 5064);
	ASSERT_NE(0u, hers);

	term_init(&bob, "bob", w.subs[1].kc);
	offer_ipsec(&bob);
	bob.ipsec_own.spi_c = 3333;
	bob.ipsec_own.spi_s = 4444; /* her ports, SPIs of his own */
	EXPECT_EQ(-1, run_verified(&w, &bob, "198.18.0.2:5070", 0));
	EXPECT_EQ(1u, w.ipsec.calls); /* nothing installed for him */
	EXPECT_EQ(1u, gk_registrar_stats(w.reg)->reasons.n[GK_R_WRONG_SOURCE]);
	EXPECT_EQ(hers, gk_registrar_ipsec_sender(w.reg, &prot, 5064));
	EXPECT_EQ(NULL, gk_registrar_binding_of(w.reg, "bob"));

	term_init(&bob, "bob", w.subs[1].kc);
	offer_ipsec(&bob);
	bob.ipsec_own =
	    (struct gk_ipsec_end){.spi_c = 3333, .spi_s = 4444, .port_c = 5072, .port_s = 5074};
	EXPECT_EQ(0, run_verified(&w, &bob, "198.18.0.2:5070", 0));
	EXPECT_EQ(GK_MECH_IPSEC, bob.chosen);
	EXPECT_EQ(hers, gk_registrar_ipsec_sender(w.reg, &prot, 5064));
	gk_direct_fini(&w.d);
	gk_loop_free(w.loop);
}

/* The answer again (its SUCCESS was lost): the same SUCCESS again, ends included, which the
 * terminal verifies as it would have the first; the SAs are not installed twice. */
TEST(ipsec_3gpp_success_resent_carries_the_same_ends)
{
	struct world w;
	struct gk_terminal alice, lost;
	struct gk_msg req, answer, ignored;
	struct gk_msg *resp;

	ASSERT_EQ(0, world_init_limits(&w, &(struct limits){.ipsec = true}));
	term_init(&alice, "alice", w.subs[0].kc);
	offer_ipsec(&alice);
	gk_terminal_register(&alice, &req);
	resp = deliver(&w, &req, 2, 0);
	ASSERT_NE(NULL, resp);
	ASSERT_EQ(1, gk_terminal_on_message(&alice, resp, &answer));
	lost = alice; /* the terminal whose SUCCESS is lost */
	resp = deliver(&w, &answer, 2, 0);
	ASSERT_NE(NULL, resp);
	ASSERT_EQ(0, gk_terminal_on_message(&alice, resp, &ignored));
	resp = deliver(&w, &answer, 2, 0); /* retransmitted */
	ASSERT_NE(NULL, resp);
	ASSERT_EQ(GK_MSG_SUCCESS, resp->type);
	EXPECT_EQ(1u, gk_registrar_stats(w.reg)->successes_resent);
	ASSERT_EQ(0, gk_terminal_on_message(&lost, resp, &ignored));
	EXPECT_EQ(GK_MECH_IPSEC, lost.chosen);
	EXPECT_TRUE(gk_ipsec_end_equal(&lost.ipsec_net, &alice.ipsec_net));
	EXPECT_EQ(1u, w.ipsec.calls);
	gk_wipe(&lost, sizeof(lost));
	gk_direct_fini(&w.d);
	gk_loop_free(w.loop);
}

/* An element that does not do ipsec-3gpp picks the terminal's next choice, and echoes the end it
 * was offered, which the terminal finds unchanged. */
TEST_F(exchange, ipsec_3gpp_offered_to_an_element_without_it_ends_in_gk_mac)
{
	offer_ipsec(&self->alice);
	ASSERT_EQ(0, run(&self->w, &self->alice, 2));
	EXPECT_EQ(GK_TERM_REGISTERED, self->alice.state);
	EXPECT_EQ(GK_MECH_GKMAC, self->alice.chosen);
}

/* What an attacker on the way up can do to the offer, each caught by the terminal in the SUCCESS
 * (which the element MACs as it saw the answer): rewrite the end (the element would set up SAs
 * for someone else's ports), strip it (the element would pass over ipsec-3gpp although the list
 * names it), or strip ipsec-3gpp from the list. */
enum ipsec_tamper { END_REWRITTEN, END_STRIPPED, MECH_STRIPPED };

static void tampered_offer(struct __test_metadata *_metadata, enum ipsec_tamper how)
{
	struct world w;
	struct gk_terminal alice;
	struct gk_msg req, answer, ignored;
	struct gk_msg *resp;

	ASSERT_EQ(0, world_init_limits(&w, &(struct limits){.ipsec = true}));
	term_init(&alice, "alice", w.subs[0].kc);
	offer_ipsec(&alice);
	gk_terminal_register(&alice, &req);
	resp = deliver(&w, &req, 2, 0);
	ASSERT_NE(NULL, resp);
	ASSERT_EQ(1, gk_terminal_on_message(&alice, resp, &answer));
	ASSERT_TRUE(answer.fields & GK_F_IPSEC_TERM);
	switch (how) {
	case END_REWRITTEN:
		answer.ipsec_term.port_s = 6000;
		break;
	case END_STRIPPED:
		answer.fields &= ~GK_F_IPSEC_TERM;
		break;
	case MECH_STRIPPED:
		answer.mechs[0] = answer.mechs[1];
		answer.n_mechs = 1;
		break;
	}
	resp = deliver(&w, &answer, 2, 0);
	ASSERT_NE(NULL, resp);
	ASSERT_EQ(GK_MSG_SUCCESS, resp->type);
	EXPECT_EQ(how == END_REWRITTEN ? GK_MECH_IPSEC : GK_MECH_GKMAC, resp->chosen);
	EXPECT_EQ(-1, gk_terminal_on_message(&alice, resp, &ignored));
	EXPECT_EQ(GK_R_MECH_DOWNGRADE, alice.reason);
	EXPECT_NE(GK_TERM_REGISTERED, alice.state);
	gk_direct_fini(&w.d);
	gk_loop_free(w.loop);
}

TEST(ipsec_3gpp_end_rewritten_on_the_way_up_is_detected)
{
	tampered_offer(_metadata, END_REWRITTEN);
}

TEST(ipsec_3gpp_end_stripped_on_the_way_up_is_detected)
{
	tampered_offer(_metadata, END_STRIPPED);
}

TEST(ipsec_3gpp_stripped_from_the_list_is_detected)
{
	tampered_offer(_metadata, MECH_STRIPPED);
}

/* SAs the element could not install end the registration: the terminal is refused, not told
 * it is protected, and no binding is made. */
TEST(ipsec_3gpp_sas_not_installed_refuse_the_registration)
{
	struct world w;
	struct gk_terminal alice;
	struct gk_binding_info bi;

	ASSERT_EQ(0, world_init_limits(&w, &(struct limits){.ipsec = true}));
	w.ipsec.result = -1;
	term_init(&alice, "alice", w.subs[0].kc);
	offer_ipsec(&alice);
	EXPECT_EQ(-1, run(&w, &alice, 2));
	EXPECT_EQ(GK_R_REFUSED, alice.reason);
	EXPECT_EQ(1u, w.ipsec.calls);
	memset(&bi, 0, sizeof(bi));
	gk_registrar_foreach(w.reg, alice_info, &bi);
	EXPECT_EQ(GK_MECH_NONE, bi.mech);
	gk_direct_fini(&w.d);
	gk_loop_free(w.loop);
}

/* ipsec-3gpp is chosen only with the terminal's end, and only an end that can carry SAs. */
TEST(mechanism_choice_takes_ipsec_3gpp_only_with_a_usable_end)
{
	struct gk_msg m;
	const uint32_t both = (1u << GK_MECH_IPSEC) | (1u << GK_MECH_GKMAC);

	memset(&m, 0, sizeof(m));
	m.mechs[0] = (struct gk_mech_offer){GK_MECH_IPSEC, 1000};
	m.mechs[1] = (struct gk_mech_offer){GK_MECH_GKMAC, 500};
	m.n_mechs = 2;
	EXPECT_EQ(GK_MECH_GKMAC, gk_mech_choose(&m, both)); /* no end */
	m.ipsec_term = alice_end;
	m.fields |= GK_F_IPSEC_TERM;
	EXPECT_EQ(GK_MECH_IPSEC, gk_mech_choose(&m, both));
	EXPECT_EQ(GK_MECH_GKMAC, gk_mech_choose(&m, 1u << GK_MECH_GKMAC)); /* not supported */
	m.ipsec_term.spi_s = 255; /* reserved (RFC 4303 §2.1) */
	EXPECT_EQ(GK_MECH_GKMAC, gk_mech_choose(&m, both));
	m.ipsec_term = alice_end;
	m.ipsec_term.port_c = 0;
	EXPECT_EQ(GK_MECH_GKMAC, gk_mech_choose(&m, both));
}

/* A front told to support ipsec-3gpp without a way to install SAs refuses to start. */
TEST(ipsec_3gpp_without_a_way_to_install_sas_is_refused)
{
	struct gk_registrar_cfg cfg;
	static const struct gk_registrar_ops ops = {.send_terminal = w_send};
	struct gk_loop *loop;
	char err[128];

	loop = gk_loop_new(NULL, err, sizeof(err));
	ASSERT_NE(NULL, loop);
	gk_registrar_cfg_defaults(&cfg);
	snprintf(cfg.idsp, sizeof(cfg.idsp), "ss1");
	cfg.mechs_supported |= 1u << GK_MECH_IPSEC;
	for (unsigned p = GK_PROTO_SIP; p < GK_PROTO_COUNT; p++) {
		cfg.ipsec_port_c[p] = 5062;
		cfg.ipsec_port_s[p] = 5064;
	}
	cfg.max_terminals = 64;
	cfg.max_pending = 16;
	EXPECT_EQ(NULL, gk_registrar_new(&cfg, &ops, NULL, loop, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "ipsec-3gpp")) TH_LOG("%s", err);
	gk_loop_free(loop);
}

TEST_HARNESS_MAIN
