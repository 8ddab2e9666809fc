// SPDX-License-Identifier: GPL-2.0-only
/*
 * Whom a verified request speaks for (gk_registrar_speaks_for), against the attack of issue 12: a
 * registered terminal sends a request that passes every access check (its own gk-mac trailer,
 * or its own pinned address) but names another subscriber. The bindings are real ones, made by
 * the exchange through the front and the core in one process (GK1 for gk-mac, RFC 7616 Digest
 * for pinned terminals).
 */
#include <string.h>

#include "kselftest_harness.h"

#include "gatekey/runtime/config.h"
#include "gatekey/crypto/digest.h"
#include "gatekey/exchange/direct.h"
#include "gatekey/exchange/registrar.h"
#include "gatekey/exchange/terminal.h"
#include "gatekey/auc/vector.h"

#define MAX_SUBS 4

struct world {
	struct gk_loop *loop;
	struct gk_direct d;
	uint8_t kss[GK_KEY_LEN];
	struct {
		char idc[GK_ID_MAX + 1];
		uint8_t kc[GK_KEY_LEN];
	} subs[MAX_SUBS];
	unsigned n_subs;
	struct gk_msg out;
	bool have_out;
	bool vector_pending, ha1_pending;
	uint32_t auc_handle;
	char auc_idc[GK_ID_MAX + 1], auc_realm[GK_ID_MAX + 1];
	struct gk_binding *last_up;
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
	struct world *w = user;
	(void)idsp;
	w->vector_pending = true;
	w->auc_handle = handle;
	snprintf(w->auc_idc, sizeof(w->auc_idc), "%s", idc);
}

static void w_auc_digest(void *user, uint32_t handle, const char *idc, const char *idsp,
                         const char *realm)
{
	struct world *w = user;
	(void)idsp;
	w->ha1_pending = true;
	w->auc_handle = handle;
	snprintf(w->auc_idc, sizeof(w->auc_idc), "%s", idc);
	snprintf(w->auc_realm, sizeof(w->auc_realm), "%s", realm);
}

static void w_up(void *user, struct gk_binding *b)
{
	((struct world *)user)->last_up = b;
}

static const uint8_t *kc_of(struct world *w, const char *idc)
{
	for (unsigned i = 0; i < w->n_subs; i++)
		if (strcmp(w->subs[i].idc, idc) == 0)
			return w->subs[i].kc;
	return NULL;
}

/* The AuC's part: a GK1 vector, or HA1 from the subscriber's Digest password. */
static void auc_answer(struct world *w)
{
	const uint8_t *kc = kc_of(w, w->auc_idc);

	if (w->vector_pending) {
		struct gk_auc_vector v;
		w->vector_pending = false;
		gk_vector_make(kc, w->kss, GK_ROLE_SOFTSWITCH, w->auc_idc, "ss1", &v);
		gk_core_auc_vector(w->d.core, w->auc_handle, &v);
	} else if (w->ha1_pending) {
		struct gk_auc_ha1 h;
		char pw[GK_DIGEST_PW_LEN + 1], hex[GK_DIGEST_HEX_BUF];
		w->ha1_pending = false;
		memset(&h, 0, sizeof(h));
		snprintf(h.idc, sizeof(h.idc), "%s", w->auc_idc);
		snprintf(h.idsp, sizeof(h.idsp), "ss1");
		snprintf(h.realm, sizeof(h.realm), "%s", w->auc_realm);
		gk_digest_password(kc, pw);
		gk_digest_ha1(GK_DIGEST_MD5, h.idc, h.realm, pw, hex);
		memcpy(h.md5, hex, sizeof(h.md5));
		gk_digest_ha1(GK_DIGEST_SHA256, h.idc, h.realm, pw, h.sha256);
		gk_core_auc_ha1(w->d.core, w->auc_handle, &h);
	}
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
	auc_answer(w);
	return w->have_out ? &w->out : NULL;
}

static void add_sub(struct world *w, const char *idc)
{
	snprintf(w->subs[w->n_subs].idc, sizeof(w->subs[0].idc), "%s", idc);
	gk_random(w->subs[w->n_subs].kc, GK_KEY_LEN);
	w->n_subs++;
}

/* A gk-mac registration of idc from host; its terminal index, 0 on failure. */
static uint32_t register_gkmac(struct world *w, const char *idc, int host)
{
	struct gk_terminal t;
	struct gk_msg req, next;

	memset(&t, 0, sizeof(t));
	snprintf(t.idc, sizeof(t.idc), "%s", idc);
	snprintf(t.idsp, sizeof(t.idsp), "ss1");
	memcpy(t.kc, kc_of(w, idc), GK_KEY_LEN);
	t.offer[0] = (struct gk_mech_offer){GK_MECH_GKMAC, 1000};
	t.n_offer = 1;
	gk_terminal_register(&t, &req);
	for (int step = 0; step < 4; step++) {
		struct gk_msg *resp = deliver(w, &req, host);
		if (!resp || gk_terminal_on_message(&t, resp, &next) != 1)
			break;
		req = next;
	}
	uint32_t index = t.state == GK_TERM_REGISTERED ? t.index : 0;
	gk_terminal_wipe(&t);
	return index;
}

static struct gk_msg plain(enum gk_msg_type type, const char *idc)
{
	struct gk_msg m;
	memset(&m, 0, sizeof(m));
	m.proto = GK_PROTO_SIP;
	m.type = (uint8_t)type;
	snprintf(m.idc, sizeof(m.idc), "%s", idc);
	snprintf(m.idsp, sizeof(m.idsp), "ss1");
	m.expires = type == GK_MSG_DEREGISTER ? 0 : 600;
	m.fields = GK_F_EXPIRES;
	return m;
}

/* A Digest registration of idc from host (a phone without GK1): pinned to that address. */
static bool register_digest(struct world *w, const char *idc, int host)
{
	struct gk_msg reg = plain(GK_MSG_REGISTER, idc);
	struct gk_msg *chal = deliver(w, &reg, host);
	char pw[GK_DIGEST_PW_LEN + 1], ha1[GK_DIGEST_HEX_BUF];

	if (!chal || chal->type != GK_MSG_CHALLENGE)
		return false;
	struct gk_digest c = chal->digest;
	struct gk_msg ans = plain(GK_MSG_REGISTER, idc);
	struct gk_digest *g = &ans.digest;
	gk_digest_password(kc_of(w, idc), pw);
	snprintf(g->username, sizeof(g->username), "%s", idc);
	snprintf(g->realm, sizeof(g->realm), "%s", c.realm);
	snprintf(g->nonce, sizeof(g->nonce), "%s", c.nonce);
	snprintf(g->uri, sizeof(g->uri), "sip:ss1");
	snprintf(g->algorithm, sizeof(g->algorithm), "SHA-256");
	snprintf(g->qop, sizeof(g->qop), "auth");
	snprintf(g->nc, sizeof(g->nc), "%08x", 1u);
	snprintf(g->cnonce, sizeof(g->cnonce), "c0ffee");
	gk_digest_ha1(GK_DIGEST_SHA256, idc, c.realm, pw, ha1);
	gk_digest_response(GK_DIGEST_SHA256, false, ha1, g->nonce, g->nc, g->cnonce, g->qop,
	                   "REGISTER", g->uri, g->response);
	ans.fields |= GK_F_DIGEST;
	struct gk_msg *ok = deliver(w, &ans, host);
	return ok && ok->type == GK_MSG_SUCCESS && ok->chosen == GK_MECH_DIGEST;
}

static void world_init(struct __test_metadata *_metadata, struct world *w)
{
	static const struct gk_direct_ops ops = {
	    .send_terminal = w_send,
	    .auc_request = w_auc_request,
	    .auc_digest = w_auc_digest,
	    .binding_up = w_up,
	};
	struct gk_registrar_cfg cfg;
	struct gk_core_cfg ccfg;
	char err[128];

	memset(w, 0, sizeof(*w));
	w->loop = gk_loop_new(NULL, err, sizeof(err));
	ASSERT_NE(NULL, w->loop);
	gk_random(w->kss, GK_KEY_LEN);
	gk_registrar_cfg_defaults(&cfg);
	snprintf(cfg.idsp, sizeof(cfg.idsp), "ss1");
	memcpy(cfg.element_key, w->kss, GK_KEY_LEN);
	cfg.mechs_supported = (1u << GK_MECH_GKMAC) | (1u << GK_MECH_DIGEST);
	cfg.max_terminals = 64;
	cfg.max_pending = 16;
	cfg.log_registrations = false;
	gk_core_cfg_defaults(&ccfg);
	ccfg.max_terminals = 64;
	ccfg.max_pending = 16;
	ASSERT_EQ(0, gk_direct_init(&w->d, &cfg, &ccfg, &ops, w, w->loop, err, sizeof(err)));
}

static void world_fini(struct world *w)
{
	gk_direct_fini(&w->d);
	gk_loop_free(w->loop);
}

/* gk_registrar_speaks_for of a request from host, verified for index, naming claimed. */
static enum gk_reason check(struct world *w, uint32_t index, int host, const char *claimed,
                            char idc[GK_ID_MAX + 1])
{
	struct sockaddr_storage from = addr_of(host);
	return gk_registrar_speaks_for(w->d.front, index, &from, claimed, idc);
}

FIXTURE(id)
{
	struct world w;
	char idc[GK_ID_MAX + 1];
};

FIXTURE_SETUP(id)
{
	world_init(_metadata, &self->w);
	add_sub(&self->w, "alice");
	add_sub(&self->w, "bob");
	add_sub(&self->w, "carol");
	add_sub(&self->w, "dave");
}

FIXTURE_TEARDOWN(id)
{
	world_fini(&self->w);
}

TEST_F(id, a_gkmac_request_speaks_only_for_the_binding_whose_key_verified_it)
{
	struct world *w = &self->w;
	char *idc = self->idc;
	uint32_t alice = register_gkmac(w, "alice", 2);
	uint32_t bob = register_gkmac(w, "bob", 3);

	ASSERT_NE(0, alice);
	ASSERT_NE(0, bob);
	/* alice's own trailer and address, naming bob: the attack */
	EXPECT_EQ(GK_R_IDENTITY_MISMATCH, check(w, alice, 2, "bob", idc));
	EXPECT_STREQ("", idc);
	EXPECT_EQ(GK_R_IDENTITY_MISMATCH, check(w, alice, 2, "nobody", idc));
	EXPECT_EQ(GK_R_IDENTITY_MISMATCH, check(w, alice, 2, "Alice", idc));
	/* naming herself, or nobody (then she speaks for her binding) */
	EXPECT_EQ(GK_R_OK, check(w, alice, 2, "alice", idc));
	EXPECT_STREQ("alice", idc);
	EXPECT_EQ(GK_R_OK, check(w, alice, 2, "", idc));
	EXPECT_STREQ("alice", idc);
	EXPECT_EQ(GK_R_OK, check(w, bob, 3, "bob", idc));
	/* an index is bound to its address, and a gk-mac binding pins nothing */
	EXPECT_EQ(GK_R_NOT_REGISTERED, check(w, bob, 2, "bob", idc));
	EXPECT_EQ(GK_R_NOT_REGISTERED, check(w, alice, 3, "alice", idc));
	EXPECT_EQ(GK_R_NOT_REGISTERED, check(w, 0, 2, "alice", idc));
	EXPECT_EQ(GK_R_NOT_REGISTERED, check(w, 63, 2, "alice", idc));
}

TEST_F(id, a_pinned_request_speaks_only_for_the_binding_of_its_address)
{
	struct world *w = &self->w;
	char *idc = self->idc;

	ASSERT_TRUE(register_digest(w, "carol", 4));
	ASSERT_TRUE(register_digest(w, "dave", 5));
	ASSERT_NE(0, register_gkmac(w, "alice", 2));
	/* dave's address, naming carol or alice: the attack */
	EXPECT_EQ(GK_R_IDENTITY_MISMATCH, check(w, 0, 5, "carol", idc));
	EXPECT_EQ(GK_R_IDENTITY_MISMATCH, check(w, 0, 5, "alice", idc));
	EXPECT_EQ(GK_R_OK, check(w, 0, 5, "dave", idc));
	EXPECT_STREQ("dave", idc);
	EXPECT_EQ(GK_R_OK, check(w, 0, 4, "", idc));
	EXPECT_STREQ("carol", idc);
	EXPECT_EQ(GK_R_NOT_REGISTERED, check(w, 0, 9, "dave", idc));

	/* dave moves: his old address speaks for nobody, the new one for him */
	ASSERT_TRUE(register_digest(w, "dave", 6));
	EXPECT_EQ(GK_R_NOT_REGISTERED, check(w, 0, 5, "dave", idc));
	EXPECT_EQ(GK_R_OK, check(w, 0, 6, "dave", idc));
	EXPECT_EQ(GK_R_IDENTITY_MISMATCH, check(w, 0, 6, "carol", idc));

	/* carol deregisters (pinned: from her address, for herself); then nobody speaks there */
	struct gk_msg dereg = plain(GK_MSG_DEREGISTER, "carol");
	struct gk_msg *ok = deliver(w, &dereg, 4);
	ASSERT_NE(NULL, ok);
	EXPECT_EQ(GK_MSG_DEREG_OK, ok->type);
	EXPECT_EQ(GK_R_NOT_REGISTERED, check(w, 0, 4, "carol", idc));
	EXPECT_EQ(GK_R_NOT_REGISTERED, check(w, 0, 4, "", idc));
}

TEST_F(id, bindings_taken_back_after_a_restart_keep_their_identity)
{
	struct world *w = &self->w;
	struct world after;
	struct gk_binding_record rec;
	char *idc = self->idc;

	ASSERT_TRUE(register_digest(w, "dave", 5));
	ASSERT_NE(NULL, w->last_up);
	gk_binding_record_of(w->last_up, &rec);

	/* a restarted element takes dave's binding back from its record (sbc_fp_restore) */
	world_init(_metadata, &after);
	ASSERT_EQ(0, gk_registrar_restore(after.d.front, &rec));
	EXPECT_EQ(GK_R_OK, check(&after, 0, 5, "dave", idc));
	EXPECT_EQ(GK_R_IDENTITY_MISMATCH, check(&after, 0, 5, "carol", idc));
	gk_wipe(&rec, sizeof(rec));
	world_fini(&after);
}

TEST_HARNESS_MAIN
