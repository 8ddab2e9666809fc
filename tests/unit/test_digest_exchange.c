// SPDX-License-Identifier: GPL-2.0-only
/*
 * Plain Digest registration (mechanism `digest`) through the front and the core in one process:
 * a UA without GK1 is challenged with the core's stateless nonce, answers with RFC 7616
 * credentials, and the core checks them with HA1 from an in-test AuC. Pins the decisions: who
 * gets a binding, what is challenged again, what counts towards lockout, what is a replay.
 */
#include <string.h>
#include <time.h>

#include "kselftest_harness.h"

#include "gatekey/runtime/config.h"
#include "gatekey/crypto/digest.h"
#include "gatekey/exchange/direct.h"
#include "gatekey/exchange/registrar.h"

struct world {
	struct gk_loop *loop;
	struct gk_direct d;
	uint8_t kc[GK_KEY_LEN];
	struct gk_msg out;
	bool have_out;
	bool auc_pending;
	uint32_t auc_handle;
	char auc_idc[GK_ID_MAX + 1], auc_realm[GK_ID_MAX + 1];
	unsigned acct_start, auc_asked;
};

static void w_send(void *user, const struct gk_msg *m, const struct sockaddr_storage *to,
                   struct gk_binding *b)
{
	struct world *w = user;
	(void)to, (void)b;
	w->out = *m;
	w->have_out = true;
}

static void w_auc_request(void *user, uint32_t handle, const char *idc, const char *idsp)
{
	(void)user, (void)handle, (void)idc, (void)idsp;
}

static void w_auc_digest(void *user, uint32_t handle, const char *idc, const char *idsp,
                         const char *realm)
{
	struct world *w = user;
	(void)idsp;
	w->auc_pending = true;
	w->auc_handle = handle;
	w->auc_asked++;
	snprintf(w->auc_idc, sizeof(w->auc_idc), "%s", idc);
	snprintf(w->auc_realm, sizeof(w->auc_realm), "%s", realm);
}

static void w_acct(void *user, const struct gk_auc_acct *a)
{
	struct world *w = user;
	if (a->status == GK_RAD_ACCT_START)
		w->acct_start++;
}

/* The AuC: HA1 from alice's Kc through her digest password; anyone else gets random HA1. */
static void auc_answer(struct world *w)
{
	struct gk_auc_ha1 h;
	char pw[GK_DIGEST_PW_LEN + 1], hex[GK_DIGEST_HEX_BUF];

	memset(&h, 0, sizeof(h));
	snprintf(h.idc, sizeof(h.idc), "%s", w->auc_idc);
	snprintf(h.idsp, sizeof(h.idsp), "ss1");
	snprintf(h.realm, sizeof(h.realm), "%s", w->auc_realm);
	if (strcmp(w->auc_idc, "alice") == 0) {
		gk_digest_password(w->kc, pw);
		gk_digest_ha1(GK_DIGEST_MD5, h.idc, h.realm, pw, hex);
		memcpy(h.md5, hex, sizeof(h.md5));
		gk_digest_ha1(GK_DIGEST_SHA256, h.idc, h.realm, pw, h.sha256);
	} else {
		memset(h.md5, 'a', 32);
		memset(h.sha256, 'b', 64);
	}
	w->auc_pending = false;
	gk_core_auc_ha1(w->d.core, w->auc_handle, &h);
}

static struct sockaddr_storage addr_of(int host)
{
	struct sockaddr_storage a;
	char err[64], s[32];
	snprintf(s, sizeof(s), "198.18.0.%d:5060", host);
	gk_parse_addr(s, &a, err, sizeof(err));
	return a;
}

static struct gk_msg *deliver(struct world *w, struct gk_msg *m, int host)
{
	struct sockaddr_storage from = addr_of(host);
	w->have_out = false;
	gk_registrar_on_message(w->d.front, m, &from, 0);
	if (w->auc_pending)
		auc_answer(w);
	return w->have_out ? &w->out : NULL;
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

/* A plain REGISTER as the SIP codec reads it from a phone: IDc from To, IDsp from the R-URI. */
static struct gk_msg plain_register(const char *idc)
{
	struct gk_msg m;
	memset(&m, 0, sizeof(m));
	m.proto = GK_PROTO_SIP;
	m.type = GK_MSG_REGISTER;
	snprintf(m.idc, sizeof(m.idc), "%s", idc);
	snprintf(m.idsp, sizeof(m.idsp), "ss1");
	m.expires = 600;
	m.fields = GK_F_EXPIRES;
	return m;
}

/* The UA's answer to chal with password pw, algorithm alg, nonce count nc. */
static struct gk_msg answer(const char *idc, const struct gk_digest *chal, const char *pw,
                            enum gk_digest_alg alg, unsigned nc)
{
	struct gk_msg m = plain_register(idc);
	struct gk_digest *g = &m.digest;
	char ha1[GK_DIGEST_HEX_BUF];

	snprintf(g->username, sizeof(g->username), "%s", idc);
	snprintf(g->realm, sizeof(g->realm), "%s", chal->realm);
	snprintf(g->nonce, sizeof(g->nonce), "%s", chal->nonce);
	snprintf(g->uri, sizeof(g->uri), "sip:ss1");
	snprintf(g->algorithm, sizeof(g->algorithm), "%s", gk_digest_alg_name(alg, false));
	snprintf(g->qop, sizeof(g->qop), "auth");
	snprintf(g->nc, sizeof(g->nc), "%08x", nc);
	snprintf(g->cnonce, sizeof(g->cnonce), "c0ffee%u", nc);
	gk_digest_ha1(alg, idc, chal->realm, pw, ha1);
	gk_digest_response(alg, false, ha1, g->nonce, g->nc, g->cnonce, g->qop, "REGISTER", g->uri,
	                   g->response);
	m.fields |= GK_F_DIGEST;
	return m;
}

FIXTURE(dg)
{
	struct world w;
	char pw[GK_DIGEST_PW_LEN + 1];
	struct gk_digest chal;
};

static void setup(struct __test_metadata *_metadata, struct world *w, uint32_t mechs,
                  const char *algs)
{
	struct gk_registrar_cfg cfg;
	struct gk_core_cfg ccfg;
	static const struct gk_direct_ops ops = {
	    .send_terminal = w_send,
	    .auc_request = w_auc_request,
	    .auc_digest = w_auc_digest,
	    .auc_accounting = w_acct,
	};
	char err[128];

	memset(w, 0, sizeof(*w));
	w->loop = gk_loop_new(NULL, err, sizeof(err));
	ASSERT_NE(NULL, w->loop);
	gk_registrar_cfg_defaults(&cfg);
	snprintf(cfg.idsp, sizeof(cfg.idsp), "ss1");
	gk_random(cfg.element_key, GK_KEY_LEN);
	cfg.mechs_supported = mechs;
	cfg.max_terminals = 64;
	cfg.max_pending = 16;
	cfg.log_registrations = false;
	gk_core_cfg_defaults(&ccfg);
	ccfg.max_terminals = 64;
	ccfg.max_pending = 16;
	/* algs NULL keeps the defaults; "" leaves the list unset, for gk_core_new to fill in. */
	if (algs && !algs[0]) {
		ccfg.digest_algorithms[0] = '\0';
	} else if (algs) {
		ASSERT_EQ(
		    0, gk_core_digest_algorithms(algs, ccfg.digest_algorithms, err, sizeof(err)));
	}
	ASSERT_EQ(0, gk_direct_init(&w->d, &cfg, &ccfg, &ops, w, w->loop, err, sizeof(err)));
	gk_random(w->kc, GK_KEY_LEN);
}

FIXTURE_SETUP(dg)
{
	setup(_metadata, &self->w, (1u << GK_MECH_GKMAC) | (1u << GK_MECH_DIGEST), "SHA-256, MD5");
	ASSERT_EQ(0, gk_digest_password(self->w.kc, self->pw));
	struct gk_msg reg = plain_register("alice");
	struct gk_msg *r = deliver(&self->w, &reg, 2);
	ASSERT_NE(NULL, r);
	ASSERT_EQ(GK_MSG_CHALLENGE, r->type);
	self->chal = r->digest;
}

FIXTURE_TEARDOWN(dg)
{
	gk_direct_fini(&self->w.d);
	gk_loop_free(self->w.loop);
}

TEST_F(dg, challenge_names_realm_nonce_and_algorithms)
{
	EXPECT_EQ(GK_F_DIGEST_CHAL, self->w.out.fields);
	EXPECT_STREQ("ss1", self->chal.realm);
	EXPECT_STREQ("SHA-256,MD5", self->chal.algorithm);
	EXPECT_STREQ("auth", self->chal.qop);
	EXPECT_EQ(GK_DIGEST_NONCE_LEN, strlen(self->chal.nonce));
	EXPECT_FALSE(self->chal.stale);
	EXPECT_EQ(0u, self->w.auc_asked); /* a challenge costs the AuC nothing */
}

TEST_F(dg, right_password_binds_the_address_without_a_key)
{
	const enum gk_digest_alg algs[] = {GK_DIGEST_SHA256, GK_DIGEST_MD5};
	for (unsigned i = 0; i < 2; i++) {
		struct gk_msg a = answer("alice", &self->chal, self->pw, algs[i], i + 1);
		struct gk_msg *r = deliver(&self->w, &a, 2);
		ASSERT_NE(NULL, r);
		ASSERT_EQ(GK_MSG_SUCCESS, r->type) TH_LOG("algorithm %u", i);
		EXPECT_EQ(GK_MECH_DIGEST, r->chosen);
		EXPECT_EQ(600u, r->expires);
		EXPECT_EQ(0u, r->fields & (GK_F_BLOB | GK_F_MAC | GK_F_INDEX));
	}
	struct sockaddr_storage a2 = addr_of(2), a3 = addr_of(3);
	EXPECT_TRUE(gk_registrar_other_allowed(self->w.d.front, &a2));
	EXPECT_FALSE(gk_registrar_other_allowed(self->w.d.front, &a3));
	EXPECT_EQ(2u, self->w.acct_start);
	EXPECT_EQ(1u, gk_registrar_stats(self->w.d.front)->registrations);
	EXPECT_EQ(1u, gk_registrar_stats(self->w.d.front)->refreshes);
}

TEST_F(dg, wrong_password_is_challenged_again_then_locked_out)
{
	struct gk_msg *r;
	for (int i = 0; i < 2; i++) {
		struct gk_msg a = answer("alice", &self->chal, "0123456789abcdef0123456789abcdef",
		                         GK_DIGEST_MD5, 1);
		r = deliver(&self->w, &a, 2);
		ASSERT_NE(NULL, r);
		ASSERT_EQ(GK_MSG_CHALLENGE, r->type);
		EXPECT_STRNE(self->chal.nonce, r->digest.nonce); /* a fresh nonce each time */
		self->chal = r->digest;
	}
	struct gk_msg a =
	    answer("alice", &self->chal, "0123456789abcdef0123456789abcdef", GK_DIGEST_MD5, 1);
	r = deliver(&self->w, &a, 2);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(GK_MSG_REJECT, r->type);
	EXPECT_EQ(1u, gk_core_stats(self->w.d.core)->lockouts);
	/* Locked out: even the right password is refused now, without asking the AuC. */
	unsigned asked = self->w.auc_asked;
	a = answer("alice", &self->chal, self->pw, GK_DIGEST_MD5, 2);
	r = deliver(&self->w, &a, 2);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(GK_MSG_REJECT, r->type);
	EXPECT_EQ(asked, self->w.auc_asked);
}

TEST_F(dg, replayed_credentials_are_challenged_again)
{
	struct gk_msg a = answer("alice", &self->chal, self->pw, GK_DIGEST_SHA256, 1);
	struct gk_msg *r = deliver(&self->w, &a, 2);
	ASSERT_EQ(GK_MSG_SUCCESS, r->type);
	/* The same nonce and count again, even from the same place: a replay. */
	r = deliver(&self->w, &a, 3);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(GK_MSG_CHALLENGE, r->type);
	EXPECT_EQ(1u, gk_core_stats(self->w.d.core)->reasons.n[GK_R_REPLAY_N1]);
	/* A higher count on the same nonce is how a UA refreshes: accepted. */
	a = answer("alice", &self->chal, self->pw, GK_DIGEST_SHA256, 2);
	r = deliver(&self->w, &a, 2);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(GK_MSG_SUCCESS, r->type);
}

static void next_millisecond(void)
{
	struct timespec a, b;

	clock_gettime(CLOCK_REALTIME, &a);
	do
		clock_gettime(CLOCK_REALTIME, &b);
	while (a.tv_sec == b.tv_sec && a.tv_nsec / 1000000 == b.tv_nsec / 1000000);
}

/* An eavesdropper keeps alice's answer under one nonce and plays it, from his own address, once
 * she has registered again under another: that nonce is still valid, and only the last one used
 * to be remembered. Every nonce answered is remembered with its count; so is, when room runs
 * out, how old a forgotten one was. */
TEST_F(dg, answer_under_an_older_nonce_is_not_played_again)
{
	struct gk_msg first = answer("alice", &self->chal, self->pw, GK_DIGEST_SHA256, 1);
	struct gk_msg *r = deliver(&self->w, &first, 2);
	struct sockaddr_storage home = addr_of(2), away = addr_of(9);

	ASSERT_NE(NULL, r);
	ASSERT_EQ(GK_MSG_SUCCESS, r->type);
	for (int round = 0; round < 4; round++) {
		struct gk_msg reg = plain_register("alice"), next;

		/* A UA answering more than CORE_DG_NONCES nonces within one millisecond is
		 * challenged until the clock moves on (forgetting a nonce forgets every one
		 * issued no later); a real one never does, this loop would. */
		next_millisecond();

		r = deliver(&self->w, &reg, 2);
		ASSERT_NE(NULL, r);
		ASSERT_EQ(GK_MSG_CHALLENGE, r->type);
		ASSERT_STRNE(self->chal.nonce, r->digest.nonce);
		struct gk_digest chal = r->digest;
		next = answer("alice", &chal, self->pw, GK_DIGEST_SHA256, 1);
		r = deliver(&self->w, &next, 2);
		ASSERT_NE(NULL, r);
		ASSERT_EQ(GK_MSG_SUCCESS, r->type);
		/* The first answer again, from elsewhere: challenged, counted, nothing moves. */
		uint64_t before = gk_core_stats(self->w.d.core)->reasons.n[GK_R_REPLAY_N1];
		r = deliver(&self->w, &first, 9);
		ASSERT_NE(NULL, r);
		EXPECT_EQ(GK_MSG_CHALLENGE, r->type);
		EXPECT_EQ(before + 1, gk_core_stats(self->w.d.core)->reasons.n[GK_R_REPLAY_N1]);
		EXPECT_FALSE(gk_registrar_is_registered_addr(self->w.d.front, &away));
		EXPECT_TRUE(gk_registrar_is_registered_addr(self->w.d.front, &home));
	}
}

/* Five hosts take turns at alice's password, two guesses each and never a third. The core kept
 * the failures of four hosts and forgot the idlest to make room for a fifth, so nobody was ever
 * locked out: guesses without end, at whatever rate the fast path lets strangers through.
 * Failures are no longer forgotten to make room; hosts beyond the table share one budget. The
 * host alice last registered from keeps a budget of its own and registers throughout; a host
 * new to her waits with the strangers until their lockout ends. */
TEST_F(dg, hosts_taking_turns_do_not_escape_the_lockout)
{
	const struct gk_core_stats *cs = gk_core_stats(self->w.d.core);
	struct gk_msg reg = plain_register("alice"), a;
	struct gk_msg *r;
	unsigned nc = 1;

	a = answer("alice", &self->chal, self->pw, GK_DIGEST_SHA256, nc++);
	r = deliver(&self->w, &a, 2);
	ASSERT_NE(NULL, r);
	ASSERT_EQ(GK_MSG_SUCCESS, r->type);
	for (int round = 0; round < 6; round++) {
		for (int host = 10; host < 15; host++) {
			for (int guess = 0; guess < 2; guess++) {
				tick(self->w.loop, 2);
				r = deliver(&self->w, &reg, host);
				ASSERT_NE(NULL, r);
				if (r->type == GK_MSG_REJECT)
					break; /* locked out */
				ASSERT_EQ(GK_MSG_CHALLENGE, r->type);
				struct gk_digest ch = r->digest;
				a = answer("alice", &ch, "0123456789abcdef0123456789abcdef",
				           GK_DIGEST_SHA256, 1);
				r = deliver(&self->w, &a, host);
				ASSERT_NE(NULL, r);
			}
		}
	}
	/* Four hosts with a budget of their own and the rest sharing one: three guesses each. */
	EXPECT_EQ(15u, cs->wrong_auth);
	EXPECT_EQ(5u, cs->lockouts);
	/* alice, from where she registered, refreshes... */
	r = deliver(&self->w, &reg, 2);
	ASSERT_NE(NULL, r);
	ASSERT_EQ(GK_MSG_CHALLENGE, r->type);
	struct gk_digest ch = r->digest;
	a = answer("alice", &ch, self->pw, GK_DIGEST_SHA256, 1);
	r = deliver(&self->w, &a, 2);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(GK_MSG_SUCCESS, r->type);
	/* ...and a host she never used shares the strangers' lockout. */
	r = deliver(&self->w, &reg, 30);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(GK_MSG_REJECT, r->type);
}

/* alice's answer, copied by someone behind her NAT (her host, another port) while the AuC is
 * asked for HA1. The front keeps one attempt per host, so the copy superseded hers there, while
 * the core, seeing the same credentials in check, let the first decide: her success came back
 * for an attempt the front had dropped, and nobody was registered. The same credentials from
 * her host are a copy (or a retransmission after her NAT moved her) and change nothing. */
TEST_F(dg, copy_of_an_answer_in_check_from_her_host_does_not_supersede_it)
{
	struct gk_msg a = answer("alice", &self->chal, self->pw, GK_DIGEST_SHA256, 1);
	struct sockaddr_storage home = addr_of(2), copy;
	char err[64];

	gk_parse_addr("198.18.0.2:6000", &copy, err, sizeof(err));
	gk_registrar_on_message(self->w.d.front, &a, &home, 0);
	ASSERT_TRUE(self->w.auc_pending);
	gk_registrar_on_message(self->w.d.front, &a, &copy, 0);
	self->w.have_out = false;
	auc_answer(&self->w);
	ASSERT_TRUE(self->w.have_out);
	EXPECT_EQ(GK_MSG_SUCCESS, self->w.out.type);
	EXPECT_TRUE(gk_registrar_is_registered_addr(self->w.d.front, &home));
	EXPECT_FALSE(gk_registrar_is_registered_addr(self->w.d.front, &copy));
	EXPECT_EQ(1u, gk_registrar_stats(self->w.d.front)->registrations);
}

TEST_F(dg, forged_nonce_wrong_user_and_wrong_realm_are_challenged)
{
	struct gk_digest forged = self->chal;
	forged.nonce[5] ^= 1;
	struct gk_msg a = answer("alice", &forged, self->pw, GK_DIGEST_MD5, 1);
	struct gk_msg *r = deliver(&self->w, &a, 2);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(GK_MSG_CHALLENGE, r->type);
	EXPECT_EQ(1u, gk_core_stats(self->w.d.core)->reasons.n[GK_R_NO_CHALLENGE]);

	/* Bob's credentials in a REGISTER for alice's AOR. */
	a = answer("bob", &self->chal, self->pw, GK_DIGEST_MD5, 1);
	snprintf(a.idc, sizeof(a.idc), "alice");
	r = deliver(&self->w, &a, 2);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(GK_MSG_CHALLENGE, r->type);

	struct gk_digest other = self->chal;
	snprintf(other.realm, sizeof(other.realm), "elsewhere");
	a = answer("alice", &other, self->pw, GK_DIGEST_MD5, 1);
	r = deliver(&self->w, &a, 2);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(GK_MSG_CHALLENGE, r->type);
	EXPECT_EQ(2u, gk_core_stats(self->w.d.core)->reasons.n[GK_R_PARSE_BAD_VALUE]);
	EXPECT_EQ(0u, self->w.auc_asked);
	EXPECT_EQ(0u, gk_core_stats(self->w.d.core)->wrong_auth);
}

TEST_F(dg, unknown_subscriber_looks_like_a_wrong_password)
{
	struct gk_msg reg = plain_register("mallory");
	struct gk_msg *r = deliver(&self->w, &reg, 4);
	ASSERT_EQ(GK_MSG_CHALLENGE, r->type);
	struct gk_digest ch = r->digest;
	struct gk_msg a = answer("mallory", &ch, self->pw, GK_DIGEST_MD5, 1);
	r = deliver(&self->w, &a, 4);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(GK_MSG_CHALLENGE, r->type);
	EXPECT_EQ(1u, gk_core_stats(self->w.d.core)->wrong_auth);
}

TEST(algorithm_not_offered_is_challenged)
{
	struct world w;
	char pw[GK_DIGEST_PW_LEN + 1];

	setup(_metadata, &w, 1u << GK_MECH_DIGEST, "MD5");
	gk_digest_password(w.kc, pw);
	struct gk_msg reg = plain_register("alice");
	struct gk_msg *r = deliver(&w, &reg, 2);
	ASSERT_EQ(GK_MSG_CHALLENGE, r->type);
	EXPECT_STREQ("MD5", r->digest.algorithm);
	struct gk_digest ch = r->digest;
	struct gk_msg a = answer("alice", &ch, pw, GK_DIGEST_SHA256, 1);
	r = deliver(&w, &a, 2);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(GK_MSG_CHALLENGE, r->type);
	EXPECT_EQ(1u, gk_core_stats(w.d.core)->reasons.n[GK_R_NO_MECH]);
	a = answer("alice", &ch, pw, GK_DIGEST_MD5, 1);
	r = deliver(&w, &a, 2);
	EXPECT_EQ(GK_MSG_SUCCESS, r->type);
	gk_direct_fini(&w.d);
	gk_loop_free(w.loop);
}

/*
 * MD5 is opt-in: by default (gk_core_cfg_defaults, and gk_core_new when the list is unset) the
 * challenge offers SHA-256 alone, and an MD5 answer, even with the right password, is challenged
 * again (NO_MECH) without asking the AuC for its HA1. Old phones get MD5 with
 * digest.algorithms = SHA-256, MD5 (FIXTURE dg).
 */
TEST(md5_is_not_offered_by_default)
{
	const char *const how[] = {NULL, ""};
	struct gk_core_cfg ccfg;

	gk_core_cfg_defaults(&ccfg);
	EXPECT_STREQ("SHA-256", ccfg.digest_algorithms);
	for (unsigned i = 0; i < 2; i++) {
		struct world w;
		char pw[GK_DIGEST_PW_LEN + 1];

		setup(_metadata, &w, 1u << GK_MECH_DIGEST, how[i]);
		gk_digest_password(w.kc, pw);
		struct gk_msg reg = plain_register("alice");
		struct gk_msg *r = deliver(&w, &reg, 2);
		ASSERT_NE(NULL, r);
		ASSERT_EQ(GK_MSG_CHALLENGE, r->type);
		EXPECT_STREQ("SHA-256", r->digest.algorithm) TH_LOG("%s", i ? "unset" : "default");
		struct gk_digest ch = r->digest;
		struct gk_msg a = answer("alice", &ch, pw, GK_DIGEST_MD5, 1);
		r = deliver(&w, &a, 2);
		ASSERT_NE(NULL, r);
		EXPECT_EQ(GK_MSG_CHALLENGE, r->type);
		EXPECT_EQ(1u, gk_core_stats(w.d.core)->reasons.n[GK_R_NO_MECH]);
		EXPECT_EQ(0u, w.auc_asked);
		a = answer("alice", &ch, pw, GK_DIGEST_SHA256, 1);
		r = deliver(&w, &a, 2);
		ASSERT_NE(NULL, r);
		EXPECT_EQ(GK_MSG_SUCCESS, r->type);
		gk_direct_fini(&w.d);
		gk_loop_free(w.loop);
	}
}

TEST(without_digest_a_plain_register_is_refused)
{
	struct world w;

	setup(_metadata, &w, 1u << GK_MECH_GKMAC, "SHA-256, MD5");
	struct gk_msg reg = plain_register("alice");
	struct gk_msg *r = deliver(&w, &reg, 2);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(GK_MSG_REJECT, r->type);
	EXPECT_EQ(1u, gk_registrar_stats(w.d.front)->reasons.n[GK_R_PARSE_MISSING]);
	gk_direct_fini(&w.d);
	gk_loop_free(w.loop);
}

/* A registration without GK1 values over a binding that has no Digest exchange (MGCP, H.248,
 * RAS) is refused as before digest existed: its codec could not carry the challenge. */
TEST_F(dg, plain_register_over_a_binding_without_digest_is_refused)
{
	unsigned asked = self->w.auc_asked;
	struct gk_msg reg = plain_register("alice");

	reg.proto = GK_PROTO_MGCP;
	struct gk_msg *r = deliver(&self->w, &reg, 2);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(GK_MSG_REJECT, r->type);
	EXPECT_EQ(1u, gk_registrar_stats(self->w.d.front)->reasons.n[GK_R_PARSE_MISSING]);
	EXPECT_EQ(asked, self->w.auc_asked);
}

TEST(algorithm_lists)
{
	char out[24], err[128];

	ASSERT_EQ(0, gk_core_digest_algorithms("sha-256 ,md5", out, err, sizeof(err)));
	EXPECT_STREQ("SHA-256,MD5", out);
	ASSERT_EQ(0, gk_core_digest_algorithms("MD5-sess", out, err, sizeof(err)));
	EXPECT_STREQ("MD5-sess", out);
	EXPECT_EQ(-1, gk_core_digest_algorithms("SHA-512-256", out, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "SHA-512-256"));
	EXPECT_EQ(-1, gk_core_digest_algorithms("", out, err, sizeof(err)));
	EXPECT_EQ(-1, gk_core_digest_algorithms("AKAv1-MD5", out, err, sizeof(err)));
	EXPECT_EQ(-1, gk_core_digest_algorithms("SHA-256,MD5,SHA-256-sess,MD5-sess", out, err,
	                                        sizeof(err)));
}

TEST_HARNESS_MAIN
