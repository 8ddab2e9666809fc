// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipsec-3gpp negotiated over each binding's wire: SIP, MGCP, H.248 and H.323 RAS. The terminal's
 * state machine and the direct topology's front and core exchange encoded datagrams, so the ends
 * (SPIs and ports) travel as each binding writes them (docs/bindings*.md) and the s10 MAC covers
 * them as each binding defines it. test_exchange.c pins the same logic without a codec.
 */
#include <string.h>

#include "kselftest_harness.h"
#include "gatekey/auc/vector.h"
#include "gatekey/codec/codec.h"
#include "gatekey/exchange/direct.h"
#include "gatekey/exchange/terminal.h"
#include "gatekey/ipsec/assoc.h"
#include "gatekey/runtime/config.h"
#include "helper_direct.h"

struct world {
	const struct gk_codec *codec;
	struct gk_loop *loop;
	struct gk_direct d;
	uint8_t kss[GK_KEY_LEN], kc[GK_KEY_LEN];
	struct sockaddr_storage term;
	struct gk_msg out; /* the last response, as the terminal decoded it */
	bool have;
	uint32_t auc_handle;
	bool auc_pending;
	uint64_t unique;
	/* ipsec_up's last call */
	unsigned ipsec_calls;
	struct gk_ipsec_end term_end, net_end;
	uint8_t k[GK_KEY_LEN];
};

/* m encoded by one side and decoded by the other, as a datagram would be. */
static int through_wire(const struct world *w, const struct gk_msg *m, struct gk_msg *out)
{
	uint8_t buf[GK_LOOP_DGRAM_MAX];
	enum gk_reason why;
	int n = w->codec->encode(m, buf, sizeof(buf));

	if (n < 0 || w->codec->decode(buf, (size_t)n, out, &why) < 0)
		return -1;
	return 0;
}

static void w_send(void *user, const struct gk_msg *m, const struct sockaddr_storage *to,
                   struct gk_binding *b)
{
	struct world *w = user;
	struct gk_msg resp = *m;
	(void)to;
	(void)b;
	if (w->codec->response_init)
		w->codec->response_init(&resp);
	w->have = through_wire(w, &resp, &w->out) == 0;
}

static void w_auc_request(void *user, uint32_t handle, const char *idc, const char *idsp)
{
	struct world *w = user;
	(void)idc;
	(void)idsp;
	w->auc_handle = handle;
	w->auc_pending = true;
}

static int w_ipsec_up(void *user, const struct gk_binding *b, const struct sockaddr_storage *from,
                      const struct gk_ipsec_end *term, const struct gk_ipsec_end *net,
                      const uint8_t k[GK_KEY_LEN], uint32_t expires_s)
{
	struct world *w = user;
	(void)b;
	(void)from;
	w->ipsec_calls++;
	w->term_end = *term;
	w->net_end = *net;
	memcpy(w->k, k, GK_KEY_LEN);
	return 0;
}

/* The terminal's request over the wire to the element, the AuC's vector when asked, and the
 * element's response as the terminal decodes it; NULL when none came. `tamper`, when set, edits
 * the request as the element received it: what an attacker on the way up could do. */
static struct gk_msg *deliver_as(struct world *w, struct gk_msg *req,
                                 void (*tamper)(struct gk_msg *), const char *method,
                                 const struct sockaddr_storage *from, uint32_t verified_index)
{
	char call_id[32], tag[16];
	struct gk_request_ctx rc = {.idc = req->idc,
	                            .idsp = req->idsp,
	                            .local = &w->term,
	                            .dialog_id = call_id,
	                            .local_tag = tag,
	                            .seq = (uint32_t)++w->unique,
	                            .unique = w->unique,
	                            .method = method};
	struct gk_msg m;

	snprintf(call_id, sizeof(call_id), "ipsec-negotiation-1");
	snprintf(tag, sizeof(tag), "t1");
	req->proto = (uint8_t)w->codec->proto;
	w->codec->request_init(req, &rc);
	if (through_wire(w, req, &m) < 0)
		return NULL;
	if (w->codec->received)
		w->codec->received(&m, from);
	if (tamper)
		tamper(&m);
	w->have = false;
	gk_registrar_on_message(w->d.front, &m, from, verified_index);
	if (w->auc_pending) {
		struct gk_auc_vector v;
		gk_vector_make(w->kc, w->kss, GK_ROLE_SOFTSWITCH, "alice", "ss1", &v);
		w->auc_pending = false;
		gk_core_auc_vector(w->d.core, w->auc_handle, &v);
	}
	return w->have ? &w->out : NULL;
}

static struct gk_msg *deliver(struct world *w, struct gk_msg *req, void (*tamper)(struct gk_msg *))
{
	return deliver_as(w, req, tamper, NULL, &w->term, 0);
}

static const struct gk_ipsec_end alice_end = {
    .spi_c = 0x1000, .spi_s = 0x1001, .port_c = 5100, .port_s = 5101};

FIXTURE(over)
{
	struct world w;
	struct gk_terminal t;
};

FIXTURE_VARIANT(over)
{
	enum gk_proto proto;
	const char *term_addr;
};

FIXTURE_VARIANT_ADD(over, sip){
    .proto = GK_PROTO_SIP,
    .term_addr = "198.18.0.2:5060",
};
FIXTURE_VARIANT_ADD(over, mgcp){
    .proto = GK_PROTO_MGCP,
    .term_addr = "198.18.0.2:2427",
};
FIXTURE_VARIANT_ADD(over, h248){
    .proto = GK_PROTO_H248,
    .term_addr = "198.18.0.2:2944",
};
FIXTURE_VARIANT_ADD(over, h323_ras){
    .proto = GK_PROTO_H323,
    .term_addr = "198.18.0.2:1719",
};

FIXTURE_SETUP(over)
{
	static const struct gk_direct_ops ops = {
	    .send_terminal = w_send, .auc_request = w_auc_request, .ipsec_up = w_ipsec_up};
	char err[128];

	memset(&self->w, 0, sizeof(self->w));
	self->w.codec = gk_codec_get(variant->proto);
	ASSERT_NE(NULL, self->w.codec);
	ASSERT_EQ(0, gk_parse_addr(variant->term_addr, &self->w.term, err, sizeof(err)));
	self->w.loop = gk_loop_new(NULL, err, sizeof(err));
	ASSERT_NE(NULL, self->w.loop);
	gk_random(self->w.kss, GK_KEY_LEN);
	gk_random(self->w.kc, GK_KEY_LEN);
	ASSERT_EQ(0, helper_direct_init(&self->w.d, self->w.loop, self->w.kss,
	                                (1u << GK_MECH_GKMAC) | (1u << GK_MECH_IPSEC), &ops,
	                                &self->w, err, sizeof(err)))
	TH_LOG("%s", err);

	helper_ipsec_terminal(&self->t, self->w.kc, &alice_end);
}

FIXTURE_TEARDOWN(over)
{
	gk_direct_fini(&self->w.d);
	gk_loop_free(self->w.loop);
	gk_wipe(&self->t, sizeof(self->t));
}

/* REGISTER -> challenge -> answer (with the terminal's end) -> SUCCESS (with both) -> the
 * terminal's verdict: 0 registered, -1 failed. */
static int register_over(struct world *w, struct gk_terminal *t, void (*tamper)(struct gk_msg *))
{
	struct gk_msg req, answer, ignored, *resp;

	gk_terminal_register(t, &req);
	resp = deliver(w, &req, NULL);
	if (!resp || gk_terminal_on_message(t, resp, &answer) != 1)
		return -3;
	resp = deliver(w, &answer, tamper);
	if (!resp)
		return -3;
	return gk_terminal_on_message(t, resp, &ignored);
}

TEST_F(over, both_ends_hold_the_same_sas)
{
	ASSERT_EQ(0, register_over(&self->w, &self->t, NULL))
	TH_LOG("reason %s", gk_reason_name(self->t.reason));
	EXPECT_EQ(GK_MECH_IPSEC, self->t.chosen);
	ASSERT_EQ(1u, self->w.ipsec_calls);
	EXPECT_TRUE(gk_ipsec_end_equal(&self->w.term_end, &alice_end));
	EXPECT_TRUE(gk_ipsec_end_equal(&self->w.net_end, &self->t.ipsec_net));
	EXPECT_EQ(HELPER_IPSEC_PORT_C, self->t.ipsec_net.port_c);
	EXPECT_EQ(HELPER_IPSEC_PORT_S, self->t.ipsec_net.port_s);
	EXPECT_EQ(0, memcmp(self->w.k, self->t.k, GK_KEY_LEN));

	/* the four SAs, as each side would install them, are the same */
	struct sockaddr_storage net;
	char err[64];
	ASSERT_EQ(0, gk_parse_addr("198.18.0.1:0", &net, err, sizeof(err)));
	struct gk_ipsec_assoc at = {.side = GK_IPSEC_AT_TERMINAL,
	                            .term = self->w.term,
	                            .net = net,
	                            .term_end = self->t.ipsec_own,
	                            .net_end = self->t.ipsec_net};
	struct gk_ipsec_assoc ae = {.side = GK_IPSEC_AT_ELEMENT,
	                            .term = self->w.term,
	                            .net = net,
	                            .term_end = self->w.term_end,
	                            .net_end = self->w.net_end};
	EXPECT_EQ(-1, helper_sas_differ(&at, self->t.k, &ae, self->w.k));
}

static void strip_ipsec_from_list(struct gk_msg *m)
{
	unsigned n = 0;
	for (unsigned i = 0; i < m->n_mechs; i++)
		if (m->mechs[i].mech != GK_MECH_IPSEC)
			m->mechs[n++] = m->mechs[i];
	m->n_mechs = (uint8_t)n;
}

static void rewrite_end(struct gk_msg *m)
{
	m->ipsec_term.port_c++;
}

static void strip_end(struct gk_msg *m)
{
	m->fields &= ~GK_F_IPSEC_TERM;
}

/* A list downgraded on the way up: the element registers the terminal with gk-mac, and the
 * terminal, which finds its list changed under the MAC, does not accept it. */
TEST_F(over, ipsec_3gpp_removed_on_the_way_up_is_detected)
{
	EXPECT_EQ(-1, register_over(&self->w, &self->t, strip_ipsec_from_list));
	EXPECT_EQ(GK_R_MECH_DOWNGRADE, self->t.reason);
	EXPECT_EQ(0u, self->w.ipsec_calls);
}

TEST_F(over, the_terminals_end_rewritten_on_the_way_up_is_detected)
{
	EXPECT_EQ(-1, register_over(&self->w, &self->t, rewrite_end));
	EXPECT_EQ(GK_R_MECH_DOWNGRADE, self->t.reason);
}

TEST_F(over, the_terminals_end_stripped_on_the_way_up_is_detected)
{
	EXPECT_EQ(-1, register_over(&self->w, &self->t, strip_end));
	EXPECT_EQ(GK_R_MECH_DOWNGRADE, self->t.reason);
	EXPECT_EQ(0u, self->w.ipsec_calls);
}

/* An OPTIONS (or the protocol's keep-alive) from the terminal's protected client address, as the
 * element's protected port receives it under the binding's SAs, with `verify` as its echo of the
 * element's end (NULL: none): the response, NULL when none came. */
static struct gk_msg *probe_under_sas(FIXTURE_DATA(over) * self, const struct gk_ipsec_end *verify)
{
	struct gk_binding *b = gk_registrar_binding_of(self->w.d.front, "alice");
	struct sockaddr_storage src = self->w.term;
	struct gk_binding_info bi;
	struct gk_msg req;

	if (!b)
		return NULL;
	gk_binding_get_info(b, &bi);
	gk_sockaddr_set_port(&src, alice_end.port_c);
	gk_msg_clear(&req);
	req.type = GK_MSG_OTHER;
	snprintf(req.idc, sizeof(req.idc), "alice");
	snprintf(req.idsp, sizeof(req.idsp), "ss1");
	if (verify) {
		req.ipsec_net = *verify;
		req.fields |= GK_F_SEC_VERIFY;
	}
	static const char *const method[GK_PROTO_COUNT] = {
	    [GK_PROTO_SIP] = "OPTIONS", [GK_PROTO_MGCP] = "NTFY", [GK_PROTO_H248] = "Notify"};
	return deliver_as(&self->w, &req, NULL, method[self->w.codec->proto], &src, bi.index);
}

/*
 * RFC 3329 §2.3.1 over SIP: a request under the SAs must echo the element's end in its
 * Security-Verify. Without it, or with an end the element did not give this binding, it is
 * refused ("forbidden", counted SEC_VERIFY); with it, the probe is answered. The other bindings
 * carry no such echo, and their probes under the SAs are answered without one.
 */
TEST_F(over, a_request_under_the_sas_must_echo_the_elements_end)
{
	ASSERT_EQ(0, register_over(&self->w, &self->t, NULL))
	TH_LOG("reason %s", gk_reason_name(self->t.reason));
	const struct gk_registrar_stats *st = gk_registrar_stats(self->w.d.front);
	struct gk_ipsec_end other_spis = self->t.ipsec_net, other_port = self->t.ipsec_net;
	other_spis.spi_c += 4;
	other_spis.spi_s += 4;
	other_port.port_s++;
	struct gk_msg *resp;

	if (self->w.codec->proto != GK_PROTO_SIP) {
		resp = probe_under_sas(self, NULL);
		ASSERT_NE(NULL, resp);
		EXPECT_NE(GK_MSG_REJECT, resp->type); /* MGCP's and H.248's answer reads as ACK */
		EXPECT_EQ(0u, st->reasons.n[GK_R_SEC_VERIFY]);
		return;
	}
	resp = probe_under_sas(self, NULL);
	ASSERT_NE(NULL, resp);
	EXPECT_EQ(GK_MSG_REJECT, resp->type);
	EXPECT_EQ(1u, st->reasons.n[GK_R_SEC_VERIFY]);
	resp = probe_under_sas(self, &other_spis);
	ASSERT_NE(NULL, resp);
	EXPECT_EQ(GK_MSG_REJECT, resp->type);
	resp = probe_under_sas(self, &other_port);
	ASSERT_NE(NULL, resp);
	EXPECT_EQ(GK_MSG_REJECT, resp->type);
	EXPECT_EQ(3u, st->reasons.n[GK_R_SEC_VERIFY]);
	resp = probe_under_sas(self, &self->t.ipsec_net);
	ASSERT_NE(NULL, resp);
	EXPECT_EQ(GK_MSG_OTHER_OK, resp->type);
	EXPECT_EQ(3u, st->reasons.n[GK_R_SEC_VERIFY]);
}

TEST_HARNESS_MAIN
