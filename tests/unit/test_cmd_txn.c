// SPDX-License-Identifier: GPL-2.0-only
/*
 * The command bindings end to end: the terminal side (lib/exchange/terminal.c) and the network side
 * in its direct topology (lib/exchange/registrar.c + lib/exchange/core.c via gk_direct) exchange
 * real MGCP and H.248 datagrams through their codecs and a transaction layer each
 * (lib/cmd/cmd_txn.c). Both ends must hold the same key; retransmitted commands get the same answer
 * (or a provisional one while the network works, then a final one that is acknowledged); a refusal
 * reaches the terminal as an error response; deregistration's 200 becomes DEREG_OK; with the loop
 * running, commands nobody answers are retransmitted with backoff and then given up. A copy of a
 * command that comes after the network's history forgot its answer (crowd()) is answered as the
 * command was, so the terminal's registration or refresh still completes: the soak's MGCP and
 * H.248 REFUSED failures, reproduced.
 */
#include <string.h>

#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "kselftest_harness.h"

#include "gatekey/cmd/cmd_txn.h"
#include "gatekey/runtime/config.h"
#include "gatekey/exchange/direct.h"
#include "gatekey/cmd/h248.h"
#include "gatekey/cmd/mgcp.h"
#include "gatekey/exchange/registrar.h"
#include "gatekey/exchange/terminal.h"
#include "gatekey/auc/vector.h"

#define ASSERT_EQ_LOCAL(a, b)                                                                      \
	do {                                                                                       \
		if ((a) != (b))                                                                    \
			abort();                                                                   \
	} while (0)

#define QMAX 64

struct dgram {
	bool to_net;
	uint16_t len;
	uint8_t buf[GK_CMD_BUF];
};

struct world {
	const struct gk_codec *codec;
	struct gk_loop *loop;
	struct gk_direct d;
	struct gk_cmd_txn *net, *term;
	uint8_t kss[GK_KEY_LEN], kc[GK_KEY_LEN];
	struct gk_terminal alice;
	struct sockaddr_storage term_addr, net_addr;
	struct dgram q[QMAX];
	unsigned qn;
	char wire[2048]; /* first word of every datagram, in order */
	uint32_t auc_handle;
	char auc_idc[GK_ID_MAX + 1];
	bool auc_pending, hold_auc;
	unsigned seq;
	unsigned dones, gave_up;
	int last_ret;
	bool drop_next_to_term;
};

static void note(struct world *w, const uint8_t *b, size_t n)
{
	char first[40];
	size_t k = 0;
	/* MGCP: the verb or code; H.248: the first token after the header line */
	const uint8_t *p = b, *e = b + n;
	if (w->codec->proto == GK_PROTO_H248) {
		while (p < e && *p != '\n')
			p++;
		p++;
	}
	while (p < e && k + 1 < sizeof(first) && *p != ' ' && *p != '\r' && *p != '\n')
		first[k++] = (char)*p++;
	first[k] = '\0';
	strncat(w->wire, first, sizeof(w->wire) - strlen(w->wire) - 2);
	strcat(w->wire, " ");
}

static void xmit_net(void *user, const struct sockaddr_storage *to, const uint8_t *buf, size_t len,
                     uint32_t seal)
{
	struct world *w = user;
	if (!gk_sockaddr_equal(to, &w->term_addr))
		return; /* to the other terminals of crowd() */
	if (w->drop_next_to_term) {
		w->drop_next_to_term = false;
		return;
	}
	if (w->qn == QMAX)
		return;
	w->q[w->qn].to_net = false;
	w->q[w->qn].len = (uint16_t)len;
	memcpy(w->q[w->qn++].buf, buf, len);
	note(w, buf, len);
}

static void xmit_term(void *user, const struct sockaddr_storage *to, const uint8_t *buf, size_t len,
                      uint32_t seal)
{
	struct world *w = user;
	if (w->qn == QMAX)
		return;
	w->q[w->qn].to_net = true;
	w->q[w->qn].len = (uint16_t)len;
	memcpy(w->q[w->qn++].buf, buf, len);
	note(w, buf, len);
}

static void done(void *user, uint64_t cookie, enum gk_cmd_outcome o, uint16_t code)
{
	struct world *w = user;
	w->dones++;
	w->gave_up += o == GK_CMD_GAVE_UP;
}

static void w_send(void *user, const struct gk_msg *m, const struct sockaddr_storage *to,
                   struct gk_binding *b)
{
	struct world *w = user;
	gk_cmd_txn_output(w->net, m, to, 0, 0);
}

static void w_auc_request(void *user, uint32_t handle, const char *idc, const char *idsp)
{
	struct world *w = user;
	w->auc_handle = handle;
	w->auc_pending = true;
	snprintf(w->auc_idc, sizeof(w->auc_idc), "%s", idc);
}

static void auc_answer(struct world *w)
{
	struct gk_auc_vector v;
	uint8_t other[GK_KEY_LEN] = {1};
	gk_vector_make(strcmp(w->auc_idc, "alice") == 0 ? w->kc : other, w->kss, GK_ROLE_SOFTSWITCH,
	               w->auc_idc, "ss1", &v);
	w->auc_pending = false;
	gk_core_auc_vector(w->d.core, w->auc_handle, &v);
}

/* The terminal's next request, through request_init and its transaction layer. */
static void term_send(struct world *w, struct gk_msg *m)
{
	struct gk_request_ctx c = {.idc = w->alice.idc,
	                           .idsp = w->alice.idsp,
	                           .local = &w->term_addr,
	                           .seq = ++w->seq,
	                           .unique = w->seq};
	m->proto = (uint8_t)w->codec->proto;
	w->codec->request_init(m, &c);
	ASSERT_EQ_LOCAL(0, gk_cmd_txn_output(w->term, m, &w->net_addr, 0, w->seq));
}

/* Delivers queued datagrams until none is left (or `max` were delivered). */
static void pump(struct world *w, unsigned max, uint32_t index)
{
	static struct gk_msg m, out;
	enum gk_reason why;
	for (unsigned k = 0; k < max && w->qn; k++) {
		struct dgram d = w->q[0];
		memmove(&w->q[0], &w->q[1], (--w->qn) * sizeof(w->q[0]));
		if (w->codec->decode(d.buf, d.len, &m, &why) < 0) {
			fprintf(stderr, "# undecodable: %s\n%.*s\n", gk_reason_name(why), d.len,
			        d.buf);
			abort();
		}
		if (d.to_net) {
			if (gk_cmd_txn_input(w->net, &m, &w->term_addr, 0) == 1) {
				gk_registrar_on_message(w->d.front, &m, &w->term_addr, index);
				if (w->auc_pending && !w->hold_auc)
					auc_answer(w);
			}
		} else if (gk_cmd_txn_input(w->term, &m, &w->net_addr, 0) == 1) {
			w->last_ret = gk_terminal_on_message(&w->alice, &m, &out);
			if (w->last_ret == 1)
				term_send(w, &out);
		}
	}
}

FIXTURE(cmd)
{
	struct world w;
};

FIXTURE_VARIANT(cmd)
{
	int proto;
	const char *exchange;
};

FIXTURE_VARIANT_ADD(cmd, mgcp){
    .proto = GK_PROTO_MGCP,
    .exchange = "RSIP 200 RQNT 200 NTFY 200 RQNT 200 ",
};

FIXTURE_VARIANT_ADD(cmd, h248){
    .proto = GK_PROTO_H248,
    .exchange = "Transaction Reply Transaction Reply Transaction Reply Transaction Reply ",
};

FIXTURE_SETUP(cmd)
{
	struct gk_registrar_cfg cfg;
	struct gk_core_cfg ccfg;
	struct gk_cmd_txn_cfg tc;
	static const struct gk_direct_ops ops = {.send_terminal = w_send,
	                                         .auc_request = w_auc_request};
	struct gk_cmd_txn_ops nops = {.xmit = xmit_net, .done = done},
	                      tops = {.xmit = xmit_term, .done = done};
	char err[128];
	struct world *w = &self->w;

	memset(w, 0, sizeof(*w));
	w->codec = variant->proto == GK_PROTO_MGCP ? &gk_mgcp_codec : &gk_h248_codec;
	w->loop = gk_loop_new(NULL, err, sizeof(err));
	ASSERT_NE(NULL, w->loop);
	gk_random(w->kss, GK_KEY_LEN);
	gk_random(w->kc, GK_KEY_LEN);
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
	gk_cmd_txn_cfg_defaults(&tc);
	tc.max_in = tc.max_out = 64;
	tc.t_init_ms = 5;
	tc.t_max_ms = 20;
	tc.max_retx = 3;
	tc.defer = true;
	snprintf(tc.local_mid, sizeof(tc.local_mid), "<ss1>:2944");
	w->net = gk_cmd_txn_new(w->codec, &tc, &nops, w, w->loop, err, sizeof(err));
	ASSERT_NE(NULL, w->net) TH_LOG("%s", err);
	tc.defer = false;
	snprintf(tc.local_mid, sizeof(tc.local_mid), "[198.18.1.2]:2944");
	w->term = gk_cmd_txn_new(w->codec, &tc, &tops, w, w->loop, err, sizeof(err));
	ASSERT_NE(NULL, w->term);
	gk_parse_addr("198.18.1.2:2427", &w->term_addr, err, sizeof(err));
	gk_parse_addr("198.18.0.1:2727", &w->net_addr, err, sizeof(err));
	snprintf(w->alice.idc, sizeof(w->alice.idc), "alice");
	snprintf(w->alice.idsp, sizeof(w->alice.idsp), "ss1");
	memcpy(w->alice.kc, w->kc, GK_KEY_LEN);
	w->alice.offer[0] = (struct gk_mech_offer){GK_MECH_GKMAC, 900};
	w->alice.offer[1] = (struct gk_mech_offer){GK_MECH_TLS, 500};
	w->alice.n_offer = 2;
}

FIXTURE_TEARDOWN(cmd)
{
	gk_cmd_txn_free(self->w.net);
	gk_cmd_txn_free(self->w.term);
	gk_direct_fini(&self->w.d);
	gk_loop_free(self->w.loop);
}

static void fpr_of(const struct gk_binding_info *bi, void *arg)
{
	if (strcmp(bi->idc, "alice") == 0)
		memcpy(arg, bi->fpr, GK_FPR_HEX_LEN + 1);
}

static void start(struct world *w)
{
	struct gk_msg req;
	gk_terminal_register(&w->alice, &req);
	term_send(w, &req);
}

TEST_F(cmd, both_ends_hold_the_same_key_and_every_command_is_acknowledged)
{
	struct world *w = &self->w;
	char fpr[GK_FPR_HEX_LEN + 1] = "";

	start(w);
	pump(w, 100, 0);
	ASSERT_EQ(GK_TERM_REGISTERED, w->alice.state);
	gk_registrar_foreach(w->d.front, fpr_of, fpr);
	EXPECT_STREQ(w->alice.fpr, fpr);
	EXPECT_STREQ(variant->exchange, w->wire);
	/* nothing left to retransmit on either side */
	EXPECT_EQ(0, gk_cmd_txn_out_count(w->net));
	EXPECT_EQ(0, gk_cmd_txn_out_count(w->term));
	EXPECT_EQ(4, w->dones);
	EXPECT_EQ(2, gk_cmd_txn_stats(w->net)->cmds_sent);
	EXPECT_EQ(2, gk_cmd_txn_stats(w->term)->cmds_sent);

	/* Deregistration: RSIP forced / ServiceChange Forced, its 200 becomes DEREG_OK. */
	struct gk_msg req;
	w->wire[0] = '\0';
	gk_terminal_deregister(&w->alice, &req);
	term_send(w, &req);
	pump(w, 100, w->alice.index);
	EXPECT_EQ(GK_TERM_IDLE, w->alice.state);
	EXPECT_EQ(0, w->last_ret);
	EXPECT_EQ(1, gk_registrar_stats(w->d.front)->deregistrations);
}

TEST_F(cmd, retransmissions_get_pending_then_the_same_answer)
{
	struct world *w = &self->w;

	w->hold_auc = true;
	start(w);
	struct dgram rsip = w->q[0];
	pump(w, 1, 0); /* the registrar works: the core asks the AuC */
	EXPECT_EQ(0, w->qn);
	/* the terminal retransmits: a provisional response, not a second registration */
	w->q[w->qn++] = rsip;
	pump(w, 1, 0);
	ASSERT_EQ(1, w->qn);
	EXPECT_EQ(1, gk_cmd_txn_stats(w->net)->pending_sent);
	pump(w, 1, 0);
	EXPECT_EQ(1, gk_cmd_txn_stats(w->term)->pending_in);
	EXPECT_EQ(1, gk_cmd_txn_out_count(w->term)); /* still waiting for the final one */
	/* the AuC answers: final response (asking for an ack), then the challenge command */
	w->hold_auc = false;
	w->wire[0] = '\0';
	auc_answer(w);
	ASSERT_EQ(2, w->qn);
	EXPECT_EQ(1, gk_cmd_txn_in_count(w->net));
	pump(w, 1, 0); /* the final response: the terminal acknowledges it */
	EXPECT_EQ(0, gk_cmd_txn_out_count(w->term));
	ASSERT_EQ(2, w->qn); /* the challenge command, then the acknowledgement */
	struct dgram ack = w->q[1];
	w->q[1] = w->q[0];
	w->q[0] = ack;
	pump(w, 1, 0); /* the acknowledgement: the network forgets its reply early */
	EXPECT_EQ(0, gk_cmd_txn_in_count(w->net));
	EXPECT_EQ(1, gk_cmd_txn_stats(w->net)->resp_acks_in);
	pump(w, 100, 0);
	EXPECT_EQ(GK_TERM_REGISTERED, w->alice.state);
	EXPECT_EQ(1, gk_registrar_stats(w->d.front)->challenges);

	/* A duplicate of an answered command gets the very same bytes, and nothing else. */
	struct gk_msg req;
	gk_terminal_deregister(&w->alice, &req);
	term_send(w, &req);
	struct dgram dereg = w->q[0];
	pump(w, 1, w->alice.index);
	ASSERT_EQ(1, w->qn);
	struct dgram first = w->q[0];
	w->qn = 0;
	w->q[w->qn++] = dereg;
	pump(w, 1, w->alice.index);
	ASSERT_EQ(1, w->qn);
	EXPECT_EQ(first.len, w->q[0].len);
	EXPECT_EQ(0, memcmp(first.buf, w->q[0].buf, first.len));
	EXPECT_EQ(1, gk_registrar_stats(w->d.front)->deregistrations);
}

TEST_F(cmd, a_wrong_key_is_refused_by_an_error_response)
{
	struct world *w = &self->w;
	gk_random(w->alice.kc, GK_KEY_LEN);
	start(w);
	pump(w, 200, 0);
	EXPECT_EQ(GK_TERM_FAILED, w->alice.state);
	EXPECT_EQ(GK_R_REFUSED, w->alice.reason);
	EXPECT_EQ(3, gk_registrar_stats(w->d.front)->challenges);
	EXPECT_NE(NULL, strstr(w->wire, variant->proto == GK_PROTO_MGCP ? "500" : "Reply"));
}

static struct world *current;

static void stop_fn(struct gk_timer *t)
{
	gk_loop_stop(current->loop);
}

TEST_F(cmd, unanswered_commands_are_retransmitted_then_given_up)
{
	struct world *w = &self->w;
	struct gk_timer guard = {.fn = stop_fn};

	current = w;
	start(w);
	w->qn = 0; /* the network never hears it */
	gk_timer_arm(w->loop, &guard, 300);
	ASSERT_EQ(0, gk_loop_run(w->loop));
	/* 5, 10, 20 ms apart, then given up after the last wait */
	EXPECT_EQ(3, gk_cmd_txn_stats(w->term)->retransmissions);
	EXPECT_EQ(1, gk_cmd_txn_stats(w->term)->gave_up);
	EXPECT_EQ(1, w->gave_up);
	EXPECT_EQ(0, gk_cmd_txn_out_count(w->term));
	EXPECT_EQ(3, w->qn); /* 3 copies of the command (the first was lost) */
	for (unsigned i = 1; i < w->qn; i++)
		EXPECT_EQ(0, memcmp(w->q[0].buf, w->q[i].buf, w->q[0].len));
}

TEST_F(cmd, a_lost_challenge_is_retransmitted_by_the_network)
{
	struct world *w = &self->w;
	struct gk_timer guard = {.fn = stop_fn};

	current = w;
	start(w);
	pump(w, 1, 0); /* RSIP in; 200 and RQNT out */
	ASSERT_EQ(2, w->qn);
	w->qn = 1;     /* the challenge command is lost */
	pump(w, 1, 0); /* the 200 reaches the terminal */
	EXPECT_EQ(1, gk_cmd_txn_out_count(w->net));
	gk_timer_arm(w->loop, &guard, 8);
	ASSERT_EQ(0, gk_loop_run(w->loop));
	EXPECT_LE(1, gk_cmd_txn_stats(w->net)->retransmissions);
	pump(w, 100, 0);
	EXPECT_EQ(GK_TERM_REGISTERED, w->alice.state);
	EXPECT_EQ(1, gk_registrar_stats(w->d.front)->challenges);
}

/* ---- late retransmissions: a command whose answer the network's layer no longer holds ---- */

/* The other terminals behind the same network element: n keep-alives of theirs, each answered at
 * once. A history that holds fewer answers than that forgets every older one. */
static void crowd(struct world *w, unsigned n)
{
	static unsigned tid = 700000;
	struct sockaddr_storage other;
	char err[64], text[512];
	enum gk_reason why;
	struct gk_msg m, ok;

	gk_parse_addr("198.18.1.9:2427", &other, err, sizeof(err));
	for (unsigned i = 0; i < n; i++, tid++) {
		int len =
		    w->codec->proto == GK_PROTO_MGCP
		        ? snprintf(text, sizeof(text),
		                   "NTFY %u bob@ss1 MGCP 1.0\r\nX: 0\r\nO: gk/ka\r\n"
		                   "X-GK-TS: 1732795200\r\n",
		                   tid)
		        : snprintf(text, sizeof(text),
		                   "MEGACO/1 [198.18.1.9]:2944\r\nTransaction = %u { Context = - "
		                   "{ Notify = ROOT { ObservedEvents = 0 { gk/ka { idc = \"bob\", "
		                   "idsp = \"ss1\", ts = 1732795200 } } } } }\r\n",
		                   tid);
		ASSERT_EQ_LOCAL(0,
		                w->codec->decode((const uint8_t *)text, (size_t)len, &m, &why) < 0);
		ASSERT_EQ_LOCAL(1, gk_cmd_txn_input(w->net, &m, &other, 0));
		memset(&ok, 0, offsetof(struct gk_msg, wire));
		ok.proto = m.proto;
		ok.type = GK_MSG_OTHER_OK;
		memcpy(ok.idc, m.idc, sizeof(ok.idc));
		memcpy(ok.idsp, m.idsp, sizeof(ok.idsp));
		gk_msg_copy_wire(&ok, &m);
		ASSERT_EQ_LOCAL(0, gk_cmd_txn_output(w->net, &ok, &other, 0, 0));
	}
}

/* The queued datagram at i, taken out of the queue. */
static struct dgram take(struct world *w, unsigned i)
{
	struct dgram d = w->q[i];
	memmove(&w->q[i], &w->q[i + 1], (--w->qn - i) * sizeof(w->q[0]));
	return d;
}

/* d first in the queue: a retransmission arriving before what is queued. */
static void push_front(struct world *w, const struct dgram *d)
{
	memmove(&w->q[1], &w->q[0], w->qn++ * sizeof(w->q[0]));
	w->q[0] = *d;
}

/* A refresh: the terminal's REGISTER takes long enough at the network to be retransmitted and
 * answered as pending, so its final response asks for an acknowledgement, and that response is
 * lost. The terminal's layer keeps retransmitting the REGISTER (every 5 s after the pending one,
 * RFC 3435 §3.5.5), while the terminal answers the challenge. When the network's history has
 * forgotten the REGISTER's answer by the time a copy arrives, the copy reaches the registrar as
 * a new command; its N1 is spent, and a refusal would reach the terminal's layer as the final
 * response of a REGISTER it still retransmits, and end the refresh (REFUSED). The network must
 * answer it as it was answered: the terminal completes. */
TEST_F(cmd, a_refresh_completes_when_its_register_comes_again_after_its_answer_was_forgotten)
{
	struct world *w = &self->w;
	struct gk_msg req;
	char fpr[GK_FPR_HEX_LEN + 1] = "";

	start(w);
	pump(w, 100, 0);
	ASSERT_EQ(GK_TERM_REGISTERED, w->alice.state);
	uint32_t index = w->alice.index;

	w->hold_auc = true;
	gk_terminal_register(&w->alice, &req);
	term_send(w, &req);
	struct dgram reg = w->q[0];
	pump(w, 1, index);
	w->q[w->qn++] = reg; /* retransmitted: pending */
	pump(w, 2, index);
	EXPECT_EQ(1, gk_cmd_txn_stats(w->term)->pending_in);
	w->hold_auc = false;
	auc_answer(w); /* the final response, then the challenge */
	ASSERT_EQ(2, w->qn);
	take(w, 0);        /* the final response is lost */
	pump(w, 1, index); /* the challenge: its acknowledgement and the answer */
	pump(w, 2, index); /* ... reach the network: the success is on its way */
	ASSERT_EQ(GK_TERM_WAIT_SUCCESS, w->alice.state);
	struct dgram held[QMAX];
	unsigned n_held = w->qn;
	memcpy(held, w->q, sizeof(held));
	w->qn = 0;

	crowd(w, 64);        /* the history forgets the REGISTER's answer */
	push_front(w, &reg); /* the terminal's layer retransmits it */
	pump(w, 100, index); /* and hears what the network answers */
	memcpy(w->q + w->qn, held, n_held * sizeof(held[0]));
	w->qn += n_held;
	pump(w, 100, index);

	EXPECT_EQ(GK_TERM_REGISTERED, w->alice.state);
	EXPECT_EQ(GK_R_OK, w->alice.reason);
	gk_registrar_foreach(w->d.front, fpr_of, fpr);
	EXPECT_STREQ(w->alice.fpr, fpr);
	EXPECT_EQ(1, gk_registrar_stats(w->d.front)->refreshes);
	EXPECT_EQ(0, gk_cmd_txn_out_count(w->term)); /* every command of the terminal answered */
}

/* The first registration's answer, whose final response was lost, still retransmitted by the
 * terminal's layer when the terminal has begun its refresh: after the network's history forgot
 * its answer, it meets the refresh's attempt at the registrar. A refusal would end the refresh;
 * the success it made is what it gets again, and the refresh completes. */
TEST_F(cmd, a_refresh_completes_when_the_last_answer_comes_again_after_its_answer_was_forgotten)
{
	struct world *w = &self->w;
	struct gk_msg req;

	start(w);
	pump(w, 1, 0); /* the REGISTER: its final response and the challenge */
	pump(w, 2, 0); /* ... at the terminal: the challenge's acknowledgement and the answer */
	ASSERT_EQ(2, w->qn);
	struct dgram answer = w->q[1];
	pump(w, 2, 0); /* at the network: the answer's final response and the success */
	ASSERT_EQ(2, w->qn);
	take(w, 0); /* the final response is lost */
	pump(w, 100, 0);
	ASSERT_EQ(GK_TERM_REGISTERED, w->alice.state);
	ASSERT_EQ(1, gk_cmd_txn_out_count(w->term)); /* the answer, still retransmitted */
	uint32_t index = w->alice.index;

	gk_terminal_register(&w->alice, &req);
	term_send(w, &req);
	pump(w, 2, index); /* the refresh's REGISTER in, its final response back */
	ASSERT_EQ(GK_TERM_WAIT_CHALLENGE, w->alice.state);
	crowd(w, 64);
	push_front(w, &answer);
	pump(w, 100, index);

	EXPECT_EQ(GK_TERM_REGISTERED, w->alice.state);
	EXPECT_EQ(GK_R_OK, w->alice.reason);
	EXPECT_EQ(1, gk_registrar_stats(w->d.front)->refreshes);
	EXPECT_EQ(1, gk_registrar_stats(w->d.front)->successes_resent);
	EXPECT_EQ(0, gk_cmd_txn_out_count(w->term));
}

/* The first registration's REGISTER, whose final response was lost, arriving after the network's
 * history forgot its answer while the refresh's REGISTER waits for the AuC: taken for a new
 * attempt from the same host, it used to replace the refresh's attempt, whose REGISTER was then
 * refused as a replay when it came again. It gets the success its registration ended in, and
 * the refresh goes on. */
TEST_F(cmd, a_refresh_completes_when_the_first_register_comes_again_after_its_answer_was_forgotten)
{
	struct world *w = &self->w;
	struct gk_msg req;

	start(w);
	struct dgram first = w->q[0];
	pump(w, 1, 0);
	ASSERT_EQ(2, w->qn);
	take(w, 0); /* the REGISTER's final response is lost */
	pump(w, 100, 0);
	ASSERT_EQ(GK_TERM_REGISTERED, w->alice.state);
	ASSERT_EQ(1, gk_cmd_txn_out_count(w->term));
	uint32_t index = w->alice.index;

	w->hold_auc = true;
	gk_terminal_register(&w->alice, &req);
	term_send(w, &req);
	struct dgram refresh = w->q[0];
	pump(w, 1, index); /* the refresh's REGISTER waits for the AuC */
	crowd(w, 64);
	push_front(w, &first);
	pump(w, 100, index);
	w->hold_auc = false;
	if (w->auc_pending)
		auc_answer(w);
	pump(w, 100, index);
	w->q[w->qn++] = refresh; /* retransmitted, had it no answer yet */
	pump(w, 100, index);

	EXPECT_EQ(GK_TERM_REGISTERED, w->alice.state);
	EXPECT_EQ(GK_R_OK, w->alice.reason);
	EXPECT_EQ(1, gk_registrar_stats(w->d.front)->refreshes);
	EXPECT_EQ(0, gk_cmd_txn_out_count(w->term));
}

/* The keep-alive and the deregistration, answered, their final responses lost, come again after
 * the history forgot those answers: the registrar answers them again (the binding still stands;
 * the deregistered one lingers for its repeat), and the terminal's commands end. */
TEST_F(cmd, a_keepalive_and_a_deregistration_come_again_after_their_answers_were_forgotten)
{
	struct world *w = &self->w;
	struct gk_msg m;

	start(w);
	pump(w, 100, 0);
	ASSERT_EQ(GK_TERM_REGISTERED, w->alice.state);
	uint32_t index = w->alice.index;

	gk_msg_clear(&m);
	m.type = GK_MSG_OTHER;
	memcpy(m.idc, w->alice.idc, sizeof(m.idc));
	memcpy(m.idsp, w->alice.idsp, sizeof(m.idsp));
	term_send(w, &m);
	struct dgram ka = w->q[0];
	pump(w, 1, index);
	ASSERT_EQ(1, w->qn);
	take(w, 0); /* OTHER_OK lost */
	crowd(w, 64);
	w->q[w->qn++] = ka;
	pump(w, 100, index);
	EXPECT_EQ(0, gk_cmd_txn_out_count(w->term));

	gk_terminal_deregister(&w->alice, &m);
	term_send(w, &m);
	struct dgram dereg = w->q[0];
	pump(w, 1, index);
	ASSERT_EQ(1, w->qn);
	take(w, 0); /* DEREG_OK lost */
	crowd(w, 64);
	w->q[w->qn++] = dereg;
	pump(w, 100, index);
	EXPECT_EQ(GK_TERM_IDLE, w->alice.state);
	EXPECT_EQ(0, gk_cmd_txn_out_count(w->term));
	EXPECT_EQ(1, gk_registrar_stats(w->d.front)->deregistrations);
	EXPECT_EQ(1, gk_registrar_stats(w->d.front)->deregistrations_resent);
}

/* The answers of a full pool: what a peer hears back, for the eviction test. */
static unsigned evict_sent;
static uint8_t evict_last[GK_CMD_BUF];
static size_t evict_last_len;

static void xmit_record(void *user, const struct sockaddr_storage *to, const uint8_t *buf,
                        size_t len, uint32_t seal)
{
	evict_sent++;
	evict_last_len = len < sizeof(evict_last) ? len : sizeof(evict_last);
	memcpy(evict_last, buf, evict_last_len);
}

static int keepalive_in(struct gk_cmd_txn *t, const struct sockaddr_storage *from, unsigned tid)
{
	char text[128];
	struct gk_msg m;
	enum gk_reason why;
	int n = snprintf(
	    text, sizeof(text),
	    "NTFY %u alice@ss1 MGCP 1.0\r\nX: 0\r\nO: gk/ka\r\nX-GK-TS: 1732795200\r\n", tid);
	if (gk_mgcp_codec.decode((const uint8_t *)text, (size_t)n, &m, &why) < 0)
		return -1;
	return gk_cmd_txn_input(t, &m, from, 0);
}

/* A full pool of received commands makes room by forgetting the oldest answered one, so new
 * commands are never dropped (which under load would turn each retransmission into another
 * drop); a duplicate of a remembered command still gets the same bytes again. */
TEST(a_full_pool_forgets_the_oldest_answered_command)
{
	static const struct gk_cmd_txn_ops ops = {.xmit = xmit_record};
	struct sockaddr_storage peer;
	struct gk_cmd_txn_cfg tc;
	char err[128];
	uint8_t copy[GK_CMD_BUF];
	size_t copy_len;

	struct gk_loop *loop = gk_loop_new(NULL, err, sizeof(err));
	ASSERT_NE(NULL, loop) TH_LOG("%s", err);
	ASSERT_EQ(0, gk_parse_addr("198.18.1.2:2427", &peer, err, sizeof(err)));
	gk_cmd_txn_cfg_defaults(&tc);
	tc.max_in = 4;
	tc.defer = false; /* every command answered at once, as a terminal does */
	struct gk_cmd_txn *t =
	    gk_cmd_txn_new(&gk_mgcp_codec, &tc, &ops, NULL, loop, err, sizeof(err));
	ASSERT_NE(NULL, t) TH_LOG("%s", err);

	for (unsigned tid = 1; tid <= 4; tid++)
		ASSERT_EQ(1, keepalive_in(t, &peer, tid));
	EXPECT_EQ(4, gk_cmd_txn_in_count(t));
	EXPECT_EQ(0, gk_cmd_txn_stats(t)->evicted);
	copy_len = evict_last_len;
	memcpy(copy, evict_last, copy_len); /* the answer to 4 */

	EXPECT_EQ(1, keepalive_in(t, &peer, 5)); /* takes the slot of 1 */
	EXPECT_EQ(1, gk_cmd_txn_stats(t)->evicted);
	EXPECT_EQ(0, gk_cmd_txn_stats(t)->pool_full);
	EXPECT_EQ(4, gk_cmd_txn_in_count(t));

	unsigned sent = evict_sent;
	EXPECT_EQ(0, keepalive_in(t, &peer, 4)); /* remembered: the same bytes again */
	EXPECT_EQ(sent + 1, evict_sent);
	ASSERT_EQ(copy_len, evict_last_len);
	EXPECT_EQ(0, memcmp(copy, evict_last, copy_len));
	EXPECT_EQ(1, gk_cmd_txn_stats(t)->duplicates);

	EXPECT_EQ(1, keepalive_in(t, &peer, 1)); /* forgotten: handed on as new, evicting 2 */
	EXPECT_EQ(2, gk_cmd_txn_stats(t)->evicted);
	EXPECT_EQ(1, keepalive_in(t, &peer, 6)); /* evicts 3, not 4 or 5: oldest first */
	EXPECT_EQ(0, keepalive_in(t, &peer, 4));
	EXPECT_EQ(0, keepalive_in(t, &peer, 5));
	EXPECT_EQ(3, gk_cmd_txn_stats(t)->duplicates);

	gk_cmd_txn_free(t);
	gk_loop_free(loop);
}

TEST_HARNESS_MAIN
