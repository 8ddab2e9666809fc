// SPDX-License-Identifier: GPL-2.0-only
/*
 * gkterm's engine: many terminals on one io_uring loop. Each terminal runs the protocol-free
 * terminal state machine (lib/exchange/terminal.c), or with --digest a plain Digest UA's steps
 * (digest.c); this file only paces, transmits, retransmits (RFC 3261 timer E: T1 doubling to T2,
 * given up after timer F), finds the terminal a datagram is for, and reports: the summary, the
 * latency histogram, the progress while it runs. An overload refusal (SIP 503 + Retry-After,
 * MGCP 409, H.248 510, RAS resourceUnavailable) is honoured: the terminal waits as asked and
 * tries again, within --timeout. A terminal's SIP calls (placing, answering, the load run) are
 * call.c's, between its other steps and deregistering.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gatekey/crypto/crypto.h"
#include "gatekey/runtime/config.h"
#include "gatekey/runtime/idmap.h"
#include "gatekey/runtime/log.h"
#include "gatekey/fastpath/pktmac.h"
#include "gkterm.h"

#define T1_MS      500
#define T2_MS      4000
#define TIMER_F_MS 32000
/* The wait after an overload refusal that names none (RFC 3261 §21.5.4 leaves it to the UA). */
#define BACKOFF_DEFAULT_S GK_RETRY_AFTER_DEFAULT_S

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t gkt_now_us(void)
{
	return now_us();
}

static struct gkt_run *run_of_timer; /* the engine runs one run at a time */

static struct gkt_term *term_of_timer(struct gk_timer *t)
{
	return (struct gkt_term *)((char *)t - offsetof(struct gkt_term, timer));
}

static void term_finish(struct gkt_run *r, struct gkt_term *x);
static void start_more(struct gkt_run *r);

static bool sealed(const struct gkt_term *x)
{
	return x->t.state == GK_TERM_REGISTERED || x->t.state == GK_TERM_WAIT_DEREG
	           ? x->t.chosen == GK_MECH_GKMAC
	           : false;
}

/* The protected request after registering: SIP OPTIONS; MGCP and H.248 use their codec's own
 * (a keep-alive NTFY, a Notify). */
static const char *other_method(const struct gkt_run *r)
{
	return r->o.codec->proto == GK_PROTO_SIP ? "OPTIONS" : NULL;
}

/* Seals buf (len bytes of a request of x) as it must go out: under the binding's uplink key
 * once registered with gk-mac; a refresh under the binding it replaces; else bare. */
/* again: a retransmission. A refresh's ANSWER sent again goes bare every other time: when only
 * the success was lost, the element already switched to the new binding, and the standing one's
 * key no longer verifies there; bare, it reaches the registrar, which repeats the success it
 * keeps for the answer's N1 and address. When the answer itself was lost, the sealed copies
 * keep what sealing is for: they pass a lockout of the terminal's address. */
static int seal_uplink(struct gkt_term *x, uint8_t *buf, size_t len, bool again)
{
	if (x->phase == PH_REGISTERING && x->standing_index) {
		if (again && x->t.state == GK_TERM_WAIT_SUCCESS) {
			x->bare_next = !x->bare_next;
			if (x->bare_next)
				return (int)len;
		}
		return gk_pkt_seal_next(x->standing_uplink, x->standing_index, &x->standing_seq,
		                        buf, len, GK_LOOP_DGRAM_MAX);
	}
	if (sealed(x) && x->phase != PH_REGISTERING)
		return gk_pkt_seal_next(x->t.keys.uplink, x->t.index, &x->t.seq_up, buf, len,
		                        GK_LOOP_DGRAM_MAX);
	return (int)len;
}

/* In a transaction layer's seal: the datagram answers the network's command. */
#define SEAL_RESPONSE (1u << 31)

static void standing_forget(struct gkt_term *x)
{
	gk_wipe(x->standing_uplink, sizeof(x->standing_uplink));
	x->standing_index = 0;
	x->standing_seq = 0;
}

static const char *const phase_names[] = {
    [PH_IDLE] = "idle",
    [PH_REGISTERING] = "registering",
    [PH_BACKOFF] = "backoff",
    [PH_REGISTERED] = "registered",
    [PH_OPTIONS] = "options",
    [PH_PAUSED] = "paused",
    [PH_REFRESH_PAUSED] = "refresh_paused",
    [PH_REPLAY] = "replay",
    [PH_ABUSE] = "abuse",
    [PH_IMPERSONATE] = "impersonate",
    [PH_POSTDEREG] = "postdereg",
    [PH_CALLS] = "calls",
    [PH_LOAD] = "load",
    [PH_ANSWERING] = "answering",
    [PH_DEREGISTERING] = "deregistering",
    [PH_DONE] = "done",
    [PH_FAILED] = "failed",
};

static const char *phase_name(const struct gkt_term *x)
{
	const char *p =
	    x->phase < sizeof(phase_names) / sizeof(phase_names[0]) ? phase_names[x->phase] : NULL;
	return p ? p : "?";
}

/* A request of x goes out (again: a retransmission): --retry-log says when the copy that went
 * unanswered left, so that a test can match every retry to the outage that swallowed it. */
static void note_request_sent(struct gkt_run *r, struct gkt_term *x, bool again)
{
	struct timespec ts;
	uint64_t now_ms;

	if (!r->retry_log)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	now_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	if (again) {
		fprintf(r->retry_log, "retry %llu %llu %s %s\n", (unsigned long long)now_ms,
		        (unsigned long long)x->last_tx_ms, x->t.idc, phase_name(x));
	}
	x->last_tx_ms = now_ms;
}

/* A downlink datagram x could not take as its element's: counted, and the first few said with
 * what they were and why, since each is a fault a test must be able to name. */
static void bad_downlink(struct gkt_run *r, struct gkt_term *x, int type, enum gk_reason why)
{
	if (r->st.bad_downlink++ < 5 && !r->o.quiet)
		printf("bad_downlink %s phase=%s type=%s reason=%s\n", x->t.idc, phase_name(x),
		       type < 0 ? "?" : gk_msg_type_name((enum gk_msg_type)type),
		       gk_reason_name(why));
}

static void transmit(struct gkt_run *r, struct gkt_term *x)
{
	uint8_t *buf = gk_loop_send_buf(r->loop);
	int n;

	if (!buf)
		return; /* the retransmission timer tries again */
	memcpy(buf, x->req, x->req_len);
	n = seal_uplink(x, buf, x->req_len, x->tries > 0);
	if (n < 0) {
		gk_loop_send_abort(r->loop, buf);
		return;
	}
	note_request_sent(r, x, x->tries > 0);
	int fd;
	struct sockaddr_storage to;
	if (gkt_ipsec_route(r, x, &fd, &to))
		gk_loop_send(r->loop, fd, buf, (size_t)n, &to); /* under its SAs */
	else
		gk_loop_send(r->loop, r->fds[x->sock], buf, (size_t)n, &r->o.server);
}

static void retransmit_timer(struct gk_timer *t)
{
	struct gkt_term *x = term_of_timer(t);
	struct gkt_run *r = run_of_timer;
	uint64_t interval = (uint64_t)T1_MS << x->tries;
	uint64_t spent = 0;

	for (unsigned i = 0; i <= x->tries; i++)
		spent += (uint64_t)T1_MS << i > T2_MS ? T2_MS : (uint64_t)T1_MS << i;
	if (spent >= TIMER_F_MS) {
		x->t.reason = GK_R_TIMEOUT;
		x->phase = PH_FAILED;
		term_finish(r, x);
		return;
	}
	x->tries++;
	r->st.retransmits++;
	transmit(r, x);
	interval = (uint64_t)T1_MS << x->tries;
	gk_timer_arm(r->loop, &x->timer, interval > T2_MS ? T2_MS : interval);
}

/* A request under the terminal's SAs names the element's end as the SUCCESS gave it, where the
 * codec carries that echo (SIP's Security-Verify, RFC 3329 §2.3.1); the others have no such field
 * and refuse to encode one. */
static void verify_under_sas(const struct gkt_run *r, const struct gkt_term *x, struct gk_msg *m)
{
	if (!x->ipsec.up || !r->o.codec->sec_verify)
		return;
	m->ipsec_net = x->ipsec.cur.net_end;
	m->fields |= GK_F_SEC_VERIFY;
}

/* Encodes m with a fresh transaction and sends it, remembering it for retransmission. */
static int send_request(struct gkt_run *r, struct gkt_term *x, struct gk_msg *m, const char *method)
{
	char call_id[GKT_CALL_ID_MAX], tag[GKT_TAG_MAX];
	uint32_t idx = (uint32_t)(x - r->terms);
	struct gk_request_ctx c = {
	    .idc = x->t.idc,
	    .idsp = x->t.idsp,
	    .local = &r->local[x->sock],
	    .dialog_id = call_id,
	    .local_tag = tag,
	    .seq = ++x->cseq,
	    .unique = ++x->unique ^ ((uint64_t)idx << 32),
	    .method = method,
	};

	gkt_call_id(r, idx, call_id);
	gkt_tag(idx, tag);
	m->proto = (uint8_t)r->o.codec->proto;
	r->o.codec->request_init(m, &c);
	verify_under_sas(r, x, m);
	if (r->txn[x->sock]) {
		/* The transaction layer encodes, sends (through cmd_xmit, or ipsec_cmd_xmit under
		 * the terminal's SAs) and retransmits. */
		uint64_t cookie = ((uint64_t)(idx + 1) << 32) | (uint32_t)x->unique;
		struct gk_cmd_txn *txn = r->txn[x->sock];
		struct sockaddr_storage to = r->o.server;
		int fd;
		if (x->ipsec.txn && gkt_ipsec_route(r, x, &fd, &to))
			txn = x->ipsec.txn;
		if (gk_cmd_txn_output(txn, m, &to, idx + 1, cookie) < 0) {
			x->t.reason = GK_R_INTERNAL;
			return -1;
		}
		return 0;
	}
	int n = r->o.codec->encode(m, x->req, sizeof(x->req) - GK_TRAILER_LEN);
	if (n < 0) {
		x->t.reason = GK_R_INTERNAL;
		return -1;
	}
	x->req_len = (uint16_t)n;
	x->tries = 0;
	transmit(r, x);
	gk_timer_arm(r->loop, &x->timer, T1_MS);
	return 0;
}

/* Sends the request x->req holds (a Digest UA's, digest.c) as a new transaction. */
static void send_prepared(struct gkt_run *r, struct gkt_term *x)
{
	x->tries = 0;
	transmit(r, x);
	gk_timer_arm(r->loop, &x->timer, T1_MS);
}

/* A step's request: with --digest digest.c's of that kind, else the state machine's m encoded.
 * -1 when it cannot be made (x->t.reason says why). */
static int send_step(struct gkt_run *r, struct gkt_term *x, struct gk_msg *m, const char *method,
                     enum gkt_dg_kind kind)
{
	if (!r->o.digest)
		return send_request(r, x, m, method);
	if (gkt_digest_request(r, x, kind) < 0)
		return -1;
	send_prepared(r, x);
	return 0;
}

static void print_registered(struct gkt_run *r, struct gkt_term *x)
{
	if (r->o.quiet)
		return;
	printf("registered %s index=%u mech=%s expires=%u fpr=%s", x->t.idc, x->t.index,
	       gk_mech_name(x->t.chosen), x->t.granted_expires, x->t.fpr[0] ? x->t.fpr : "-");
	if (x->t.chosen == GK_MECH_IPSEC) {
		/* both ends, as TS 33.203 names them: whom each SA belongs to, never a key */
		const struct gk_ipsec_end *t = &x->t.ipsec_own, *n = &x->t.ipsec_net;
		printf(" spi_uc=0x%08x spi_us=0x%08x port_uc=%u port_us=%u spi_pc=0x%08x "
		       "spi_ps=0x%08x port_pc=%u port_ps=%u",
		       t->spi_c, t->spi_s, t->port_c, t->port_s, n->spi_c, n->spi_s, n->port_c,
		       n->port_s);
	}
	printf("\n");
}

static void next_step(struct gkt_run *r, struct gkt_term *x);

/* The wait an overload refusal asking for retry_after_s seconds (0: none said) means, in ms; 0
 * when it would outlast --timeout. Counted either way. */
static uint64_t overload_wait_ms(struct gkt_run *r, uint32_t retry_after_s)
{
	uint64_t deadline_ms = r->t0_us / 1000 + (uint64_t)r->o.timeout_s * 1000;

	r->st.overloaded++;
	return gk_retry_wait_ms(retry_after_s, BACKOFF_DEFAULT_S, now_us() / 1000, deadline_ms);
}

/* The registration (or refresh; with --digest also the deregistration) was refused for overload:
 * wait as asked, out of the window (others may start meanwhile), then send it again
 * (backoff_over). false when the wait would outlast --timeout: the terminal fails now, reason
 * OVERLOAD. */
static bool backoff(struct gkt_run *r, struct gkt_term *x)
{
	uint64_t wait_ms = overload_wait_ms(r, x->t.retry_after);

	if (!wait_ms)
		return false;
	gk_timer_cancel(r->loop, &x->timer);
	x->phase = PH_BACKOFF;
	gk_timer_arm(r->loop, &x->timer, wait_ms);
	gkt_park(r, x);
	return true;
}

/* An OPTIONS was refused for overload: the same OPTIONS again once the wait is over (a pause
 * between two), the terminal staying in the window as between any two. false when the wait
 * would outlast --timeout. */
static bool options_backoff(struct gkt_run *r, struct gkt_term *x, uint32_t retry_after_s)
{
	uint64_t wait_ms = overload_wait_ms(r, retry_after_s);

	if (!wait_ms)
		return false;
	x->options_sent--;
	x->phase = PH_PAUSED;
	gk_timer_cancel(r->loop, &x->timer);
	gk_timer_arm(r->loop, &x->timer, wait_ms);
	return true;
}

/* The sequence (and so, for MGCP and H.248, the transaction id) of a request encoded here,
 * outside the transaction layer: for the command protocols unique across the terminals sharing
 * a socket, whose transaction ids the network tells apart only by source address. */
static uint32_t options_seq(const struct gkt_run *r, struct gkt_term *x, uint32_t idx)
{
	++x->cseq;
	if (r->o.codec->proto == GK_PROTO_SIP)
		return x->cseq;
	return 500000000u + (idx % 400000u) * 1000u + x->cseq % 1000u;
}

/* One OPTIONS of this terminal naming idc (its own, or another's for --impersonate), encoded
 * without a trailer, into x->req. */
static int encode_options_as(struct gkt_run *r, struct gkt_term *x, const char *idc)
{
	struct gk_msg m;
	gk_msg_clear(&m);
	m.type = GK_MSG_OTHER;
	snprintf(m.idc, sizeof(m.idc), "%s", idc);
	memcpy(m.idsp, x->t.idsp, sizeof(m.idsp));
	x->tries = 0;
	char call_id[GKT_CALL_ID_MAX], tag[GKT_TAG_MAX];
	uint32_t idx = (uint32_t)(x - r->terms);
	struct gk_request_ctx c = {.idc = m.idc,
	                           .idsp = x->t.idsp,
	                           .local = &r->local[x->sock],
	                           .dialog_id = call_id,
	                           .local_tag = tag,
	                           .seq = options_seq(r, x, idx),
	                           .unique = ++x->unique ^ ((uint64_t)idx << 32),
	                           .method = other_method(r)};
	gkt_call_id(r, idx, call_id);
	gkt_tag(idx, tag);
	m.proto = (uint8_t)r->o.codec->proto;
	r->o.codec->request_init(&m, &c);
	verify_under_sas(r, x, &m);
	int n = r->o.codec->encode(&m, x->req, sizeof(x->req) - GK_TRAILER_LEN);
	if (n < 0)
		return -1;
	x->req_len = (uint16_t)n;
	return 0;
}

static int encode_options(struct gkt_run *r, struct gkt_term *x)
{
	return encode_options_as(r, x, x->t.idc);
}

/* How an abusive variant may be altered to keep its trailer free of empty lines (see
 * gk_pkt_seal_next), so that captures of the abuse still dissect cleanly: without changing what
 * makes it abusive. */
enum variant_freedom {
	VARY_NOTHING,
	VARY_SEQ_UP,   /* any later sequence number does */
	VARY_SEQ_DOWN, /* any earlier one does (behind the window) */
	VARY_KEY,      /* key is a random wrong key: any other does */
};

/* Sends x->req sealed with (key, index, seq); key NULL sends it bare. Returns the sequence number
 * it was sealed with. */
static uint64_t send_variant(struct gkt_run *r, struct gkt_term *x, uint8_t *key, uint32_t index,
                             uint64_t seq, enum variant_freedom vary)
{
	uint8_t *buf = gk_loop_send_buf(r->loop);
	int n = x->req_len;
	if (!buf)
		return seq;
	memcpy(buf, x->req, x->req_len);
	for (int tries = 0; key && tries < 8; tries++) {
		n = gk_pkt_seal(key, index, seq, buf, x->req_len, GK_LOOP_DGRAM_MAX);
		if (n < 0 || vary == VARY_NOTHING || gk_pkt_trailer_text_safe(buf, (size_t)n))
			break;
		if (vary == VARY_KEY)
			gk_random(key, GK_SIPKEY_LEN);
		else
			seq = vary == VARY_SEQ_UP ? seq + 1 : seq - 1;
	}
	if (n < 0) {
		gk_loop_send_abort(r->loop, buf);
		return seq;
	}
	gk_loop_send(r->loop, r->fds[x->sock], buf, (size_t)n, &r->o.server);
	r->st.abuse_sent++;
	return seq;
}

/*
 * What an attacker (or a broken network) sends, each of which must be dropped: a forged tag, an
 * unknown terminal index, a replayed sequence, a sequence behind the window, a bare datagram from
 * the registered address. One valid datagram that jumps the window ahead is answered.
 */
static void abuse(struct gkt_run *r, struct gkt_term *x)
{
	uint8_t wrong[GK_SIPKEY_LEN];
	uint8_t *up = x->t.keys.uplink;
	uint32_t idx = x->t.index;
	uint64_t last = x->t.seq_up; /* the last sequence number sent, so accepted */

	x->abused = true;
	x->phase = PH_ABUSE;
	if (encode_options(r, x) < 0 || !idx)
		return next_step(r, x);
	gk_random(wrong, sizeof(wrong));
	send_variant(r, x, wrong, idx, last + 1, VARY_KEY);          /* forged tag */
	send_variant(r, x, up, idx + 100000, last + 1, VARY_SEQ_UP); /* unknown index */
	if (last) /* an earlier one is a replay too (a skipped one, 1 in 700, would be new) */
		send_variant(r, x, up, idx, last, VARY_SEQ_DOWN); /* replayed sequence */
	else
		r->st.abuse_sent++;
	x->t.seq_up =
	    send_variant(r, x, up, idx, last + 100, VARY_SEQ_UP); /* far ahead: answered */
	r->st.abuse_expected++;
	send_variant(r, x, up, idx, x->t.seq_up - 90, VARY_SEQ_DOWN); /* behind the window */
	send_variant(r, x, NULL, 0, 0, VARY_NOTHING);                 /* no trailer at all */
	gk_timer_arm(r->loop, &x->timer, 300);
}

/*
 * A request that passes every access check (the terminal's own key, index, fresh sequence and
 * address) but names another subscriber: whoever passes it on must refuse it, or this terminal
 * acts as that subscriber. No answer may come.
 */
static void impersonate(struct gkt_run *r, struct gkt_term *x)
{
	x->impersonated = true;
	x->phase = PH_IMPERSONATE;
	if (encode_options_as(r, x, r->o.impersonate) < 0)
		return next_step(r, x);
	transmit(r, x); /* sealed like any request of a registered gk-mac terminal */
	r->st.impersonate_sent++;
	gk_timer_arm(r->loop, &x->timer, 500);
}

/* After registering: the optional steps, in a fixed order. */
/* A re-registration; with gk-mac it goes sealed under the binding it replaces. */
static void refresh(struct gkt_run *r, struct gkt_term *x)
{
	struct gk_msg m;

	x->refreshes++;
	x->refreshing = true;
	if (sealed(x)) {
		x->standing_index = x->t.index;
		memcpy(x->standing_uplink, x->t.keys.uplink, sizeof(x->standing_uplink));
		x->standing_seq = x->t.seq_up;
	}
	x->phase = PH_REGISTERING;
	if (!r->o.digest) {
		gkt_ipsec_offer(r, x);
		gk_terminal_register(&x->t, &m);
	}
	if (send_step(r, x, &m, NULL, GKT_DG_REGISTER) < 0) {
		x->phase = PH_FAILED;
		term_finish(r, x);
	}
}

/* Whether x takes the steps that test its binding: every terminal, or with --sample K the first
 * K. */
static bool sampled(const struct gkt_run *r, const struct gkt_term *x)
{
	return !r->o.sample || (uint32_t)(x - r->terms) < r->o.sample;
}

static uint32_t n_sampled(const struct gkt_run *r)
{
	return r->o.sample && r->o.sample < r->n_terms ? r->o.sample : r->n_terms;
}

static void next_step(struct gkt_run *r, struct gkt_term *x)
{
	struct gk_msg m;
	bool probe = sampled(r, x);

	if ((x->phase == PH_REGISTERED || x->phase == PH_REFRESH_PAUSED) &&
	    x->refreshes < r->o.refresh) {
		if (r->o.refresh_interval_ms && x->phase != PH_REFRESH_PAUSED) {
			x->phase = PH_REFRESH_PAUSED;
			gk_timer_arm(r->loop, &x->timer, r->o.refresh_interval_ms);
			return;
		}
		return refresh(r, x);
	}
	if (x->phase == PH_REGISTERED && r->o.replay_answer && probe) {
		x->phase = PH_REPLAY;
		memcpy(x->req, x->answer, x->answer_len);
		x->req_len = x->answer_len;
		x->tries = 0;
		/* The replay goes out bare, exactly as the original ANSWER did. */
		uint8_t *buf = gk_loop_send_buf(r->loop);
		if (buf) {
			memcpy(buf, x->answer, x->answer_len);
			gk_loop_send(r->loop, r->fds[x->sock], buf, x->answer_len, &r->o.server);
		}
		gk_timer_arm(r->loop, &x->timer, 2000);
		return;
	}
	if ((x->phase == PH_REGISTERED || x->phase == PH_REPLAY || x->phase == PH_OPTIONS ||
	     x->phase == PH_PAUSED) &&
	    x->options_sent < r->o.options && probe) {
		if (r->o.options_interval_ms && x->options_sent && x->phase != PH_PAUSED) {
			x->phase = PH_PAUSED;
			gk_timer_arm(r->loop, &x->timer, r->o.options_interval_ms);
			return;
		}
		x->phase = PH_OPTIONS;
		gk_msg_clear(&m);
		m.type = GK_MSG_OTHER;
		memcpy(m.idc, x->t.idc, sizeof(m.idc));
		memcpy(m.idsp, x->t.idsp, sizeof(m.idsp));
		x->options_sent++;
		if (send_step(r, x, &m, other_method(r), GKT_DG_OPTIONS) < 0) {
			x->phase = PH_FAILED;
			term_finish(r, x);
		}
		return;
	}
	if (r->o.impersonate[0] && !x->impersonated && x->t.chosen == GK_MECH_GKMAC && probe)
		return impersonate(r, x);
	if (r->o.abuse && !x->abused && x->t.chosen == GK_MECH_GKMAC && probe)
		return abuse(r, x);
	if (gkt_calls_step(r, x))
		return; /* calls, the load run, answering: call.c comes back here when done */
	if (r->o.deregister && x->phase != PH_DEREGISTERING) {
		x->phase = PH_DEREGISTERING;
		x->old_index = x->t.index;
		memcpy(x->old_uplink, x->t.keys.uplink, sizeof(x->old_uplink));
		if (!r->o.digest)
			gk_terminal_deregister(&x->t, &m);
		if (send_step(r, x, &m, NULL, GKT_DG_DEREGISTER) < 0) {
			x->phase = PH_FAILED;
			term_finish(r, x);
		}
		return;
	}
	x->phase = PH_DONE;
	term_finish(r, x);
}

void gkt_next_step(struct gkt_run *r, struct gkt_term *x)
{
	next_step(r, x);
}

void gkt_park(struct gkt_run *r, struct gkt_term *x)
{
	if (x->parked)
		return;
	x->parked = true;
	r->in_flight--;
	start_more(r); /* a parked terminal leaves its place in the window to the next */
}

void gkt_unpark(struct gkt_run *r, struct gkt_term *x)
{
	if (!x->parked)
		return;
	x->parked = false;
	r->in_flight++;
}

/* The wait after an overload refusal is over: the same registration (or refresh, sealed under
 * the binding it replaces) starts again with a fresh request. A --digest terminal sends the
 * kind of request refused (digest.c kept it), a REGISTER or its deregistration, as a new
 * transaction: with the cached credentials, and a new challenge is answered when it comes. */
static void backoff_over(struct gkt_run *r, struct gkt_term *x)
{
	struct gk_msg m;
	enum gkt_dg_kind kind = (enum gkt_dg_kind)x->dg.kind;

	gkt_unpark(r, x);
	x->phase = r->o.digest && kind == GKT_DG_DEREGISTER ? PH_DEREGISTERING : PH_REGISTERING;
	if (!r->o.digest) {
		gkt_ipsec_offer(r, x);
		gk_terminal_register(&x->t, &m);
	}
	if (send_step(r, x, &m, NULL, kind) < 0) {
		x->phase = PH_FAILED;
		term_finish(r, x);
	}
}

static void replay_timer_or_retransmit(struct gk_timer *t)
{
	struct gkt_term *x = term_of_timer(t);
	struct gkt_run *r = run_of_timer;

	if (x->phase == PH_BACKOFF) {
		backoff_over(r, x);
		return;
	}

	if (x->phase == PH_ANSWERING) { /* --answer-s is over */
		x->answer_done = true;
		gkt_unpark(r, x);
		next_step(r, x);
		return;
	}
	if (x->phase == PH_ABUSE || x->phase == PH_PAUSED || x->phase == PH_IMPERSONATE ||
	    x->phase == PH_REFRESH_PAUSED) {
		next_step(r, x); /* no answer (for an impersonation, as it must be) */
		return;
	}
	if (x->phase == PH_POSTDEREG) {
		gk_wipe(x->old_uplink, sizeof(x->old_uplink));
		x->phase = PH_DONE;
		term_finish(r, x);
		return;
	}
	if (x->phase == PH_REPLAY) {
		/* No answer to the replay at all: it was dropped, which is also a refusal. */
		x->replay_refused = true;
		r->st.replay_refused++;
		next_step(r, x);
		return;
	}
	retransmit_timer(t);
}

static void term_start(struct gkt_run *r, struct gkt_term *x)
{
	struct gk_msg m;

	x->phase = PH_REGISTERING;
	x->started_us = now_us();
	x->timer.fn = replay_timer_or_retransmit;
	if (!r->o.digest) {
		gkt_ipsec_offer(r, x);
		gk_terminal_register(&x->t, &m);
	}
	r->in_flight++;
	if (send_step(r, x, &m, NULL, GKT_DG_REGISTER) < 0) {
		x->phase = PH_FAILED;
		term_finish(r, x);
	}
}

static void term_finish(struct gkt_run *r, struct gkt_term *x)
{
	gk_timer_cancel(r->loop, &x->timer);
	standing_forget(x);
	if (x->done_us == 0)
		x->done_us = now_us();
	if (x->phase == PH_FAILED) {
		/* A step still unanswered when the binding's lifetime ran out cannot be answered:
		 * the element drops what comes under a binding that expired. Said so, as that is
		 * the terminal's (or its user's --expires) doing, not a loss the element caused. */
		if (x->t.reason == GK_R_TIMEOUT && x->reg_ok && x->t.granted_expires &&
		    now_us() - x->bound_us > (uint64_t)x->t.granted_expires * 1000000)
			x->detail = "no answer before its binding expired";
		r->st.failed++;
		r->st.reasons[x->t.reason < GK_R__COUNT ? x->t.reason : GK_R_INTERNAL]++;
		if (!r->o.quiet || r->st.failed <= 10) {
			printf("failed %s reason=%s (%s)", x->t.idc,
			       gk_reason_name((enum gk_reason)x->t.reason),
			       x->detail ? x->detail : gk_reason_str((enum gk_reason)x->t.reason));
			if (x->status)
				printf(" status=%u", x->status);
			/* how far it got: which step ran out, and after how long */
			printf(" registered=%d options=%u/%u refreshes=%u after_ms=%llu\n",
			       x->reg_ok, x->options_ok, x->options_sent, x->refreshes,
			       (unsigned long long)((now_us() - x->started_us) / 1000));
		}
	}
	r->in_flight--;
	r->finished++;
	gkt_calls_finished(r);
	if (r->finished == r->n_terms)
		gk_loop_stop(r->loop);
	else
		start_more(r);
}

/* ---- the terminals by their bindings' trailer index ------------------------------------------ */

/* Every sealed datagram from the server is matched to its terminal by the index in its trailer:
 * one probe of this table, whatever the number of terminals. An index maps to the terminal that
 * got it last; entries are never removed, only found stale (gkt_term_by_index checks), and when
 * three quarters are taken the table is made again from the indices the terminals hold, which
 * are at most n_terms of the 4 * n_terms slots or more. */
static uint32_t ix_hash(const struct gkt_run *r, uint32_t index)
{
	return (index * 2654435761u) & r->ix_mask;
}

static void ix_insert(struct gkt_run *r, uint32_t index, uint32_t slot1)
{
	uint32_t i = ix_hash(r, index);

	while (r->ix_key[i] && r->ix_key[i] != index)
		i = (i + 1) & r->ix_mask;
	if (!r->ix_key[i])
		r->ix_used++;
	r->ix_key[i] = index;
	r->ix_slot[i] = slot1;
}

/* The index a terminal answers to now: its old binding's after deregistering with --abuse. */
static uint32_t index_held(const struct gkt_term *x)
{
	return x->phase == PH_POSTDEREG ? x->old_index : x->t.index;
}

static void ix_put(struct gkt_run *r, struct gkt_term *x)
{
	uint32_t index = index_held(x);

	if (!index)
		return;
	if ((uint64_t)(r->ix_used + 1) * 4 > (uint64_t)(r->ix_mask + 1) * 3) {
		/* full of indices that refreshes replaced: the ones held now, again */
		memset(r->ix_key, 0, sizeof(*r->ix_key) * ((size_t)r->ix_mask + 1));
		r->ix_used = 0;
		for (uint32_t s = 0; s < r->n_terms; s++)
			if (index_held(&r->terms[s]))
				ix_insert(r, index_held(&r->terms[s]), s + 1);
	}
	ix_insert(r, index, (uint32_t)(x - r->terms) + 1);
}

void gkt_call_id(const struct gkt_run *r, uint32_t idx, char out[GKT_CALL_ID_MAX])
{
	char hex[17], *p = out;

	gk_hex_encode_u64((uint32_t)r->t0_us, hex); /* eight zeros, then the low 32 bits */
	memcpy(p, "gk-", 3);
	memcpy(p + 3, hex + 8, 8);
	p[11] = '-';
	p = gk_put_decimal(p + 12, idx);
	memcpy(p, "@gkterm", sizeof("@gkterm"));
}

void gkt_tag(uint32_t idx, char out[GKT_TAG_MAX])
{
	out[0] = 't';
	*gk_put_decimal(out + 1, idx) = '\0';
}

struct gkt_term *gkt_term_by_index(struct gkt_run *r, uint32_t index)
{
	if (!index)
		return NULL;
	for (uint32_t i = ix_hash(r, index); r->ix_key[i]; i = (i + 1) & r->ix_mask) {
		if (r->ix_key[i] != index)
			continue;
		struct gkt_term *x = &r->terms[r->ix_slot[i] - 1];
		return index_held(x) == index ? x : NULL;
	}
	return NULL;
}

static void on_registered(struct gkt_run *r, struct gkt_term *x)
{
	gk_timer_cancel(r->loop, &x->timer);
	standing_forget(x);
	if (gkt_ipsec_registered(r, x) < 0) {
		x->phase = PH_FAILED;
		term_finish(r, x);
		return;
	}
	x->bound_us = now_us();
	if (x->refreshing) {
		x->refreshing = false;
		r->st.refreshed++; /* latency stays that of the first registration */
	} else {
		x->done_us = now_us();
		x->reg_ok = true;
		r->st.registered++;
		r->last_reg_us = x->done_us;
	}
	x->phase = PH_REGISTERED;
	ix_put(r, x);
	print_registered(r, x);
	if (r->keylog) {
		char hex[2 * GK_KEY_LEN + 1];
		gk_hex_encode(x->t.k, GK_KEY_LEN, hex);
		fprintf(r->keylog, "%s %s\n", x->t.idc, hex);
		gk_wipe(hex, sizeof(hex));
	}
	next_step(r, x);
}

static void on_msg(struct gkt_run *r, struct gkt_term *x, const struct gk_msg *mp, uint8_t *data,
                   size_t len, bool has_trailer, bool opened, bool via_sa);

/* MGCP, H.248: commands name their terminal (IDc); responses are matched by the transaction
 * layer, or by the trailer's index when sealed. */
static void on_cmd_dgram(struct gkt_run *r, int fd, struct gk_msg *m, uint8_t *data, size_t len,
                         const uint32_t *tidx)
{
	struct gk_cmd_wire *w = gk_cmd_wire_of(m);
	struct gkt_term *x = NULL;
	uint32_t sock = 0;
	enum gk_reason why;

	for (uint32_t i = 0; i < r->o.sockets; i++)
		if (r->fds[i] == fd)
			sock = i;
	if (w->kind == GK_CMD_REQUEST) {
		uint32_t slot = gk_idmap_find(r->by_id, m->idc);
		x = slot ? &r->terms[slot - 1] : NULL;
	} else if (tidx) {
		x = gkt_term_by_index(r, *tidx);
	}
	if (tidx) {
		if (!x) {
			r->st.stray++;
			return;
		}
		if (x->phase == PH_POSTDEREG) {
			r->st.abuse_answered++; /* the old keys were taken */
			return;
		}
		why = GK_R_NO_MECH; /* not a gk-mac binding: nothing sealed may come */
		if (x->t.chosen != GK_MECH_GKMAC ||
		    gk_pkt_open(x->t.keys.downlink, &x->t.win_down, data, len, &why) < 0) {
			bad_downlink(r, x, -1, why);
			return;
		}
		if (x->phase == PH_ABUSE && w->kind != GK_CMD_REQUEST) {
			/* the answer to one of the abuse datagrams (not sent through the layer) */
			if (w->kind == GK_CMD_REPLY && w->code < 300)
				r->st.abuse_answered++;
			return;
		}
	}
	uint32_t seal = x ? ((uint32_t)(x - r->terms) + 1) | SEAL_RESPONSE : 0;
	if (gk_cmd_txn_input(r->txn[sock], m, &r->o.server, seal) != 1)
		return;
	if (!x) {
		uint32_t slot = gk_idmap_find(r->by_id, m->idc);
		if (!slot) {
			r->st.stray++;
			return;
		}
		x = &r->terms[slot - 1];
	}
	on_msg(r, x, m, data, len, tidx != NULL, true, false);
}

/* The transaction layer's datagrams; seal: the terminal (slot + 1), sealed under its uplink key
 * while its binding is gk-mac; with SEAL_RESPONSE, an answer to the network's command. While a
 * refresh is on, answers go bare: the acknowledgement of the success command follows the switch
 * to the new binding at the SBC, and the standing one's key would no longer verify. */
static void cmd_xmit(void *user, const struct sockaddr_storage *to, const uint8_t *data, size_t len,
                     uint32_t seal)
{
	struct gkt_sock *sk = user;
	struct gkt_run *r = sk->r;
	bool response = seal & SEAL_RESPONSE;
	uint32_t slot = seal & ~SEAL_RESPONSE;
	struct gkt_term *x = slot && slot <= r->n_terms ? &r->terms[slot - 1] : NULL;
	uint8_t *buf;
	int n = (int)len;

	if (len > GKT_REQ_MAX || !(buf = gk_loop_send_buf(r->loop)))
		return;
	memcpy(buf, data, len);
	/* the layer counts a retransmission just before it hands the copy over */
	uint64_t retx = gk_cmd_txn_stats(r->txn[sk->i])->retransmissions;
	if (x && !response)
		note_request_sent(r, x, retx != r->cmd_retx_seen[sk->i]);
	r->cmd_retx_seen[sk->i] = retx;
	if (x) {
		/* the transaction layer retransmits the same bytes */
		bool again = x->req_len == len && memcmp(x->req, data, len) == 0;
		memcpy(x->req, data, len); /* the last one sent, e.g. the ANSWER to replay */
		x->req_len = (uint16_t)len;
		if (!(response && x->phase == PH_REGISTERING))
			n = seal_uplink(x, buf, len, again);
	}
	if (n < 0) {
		gk_loop_send_abort(r->loop, buf);
		return;
	}
	gk_loop_send(r->loop, r->fds[sk->i], buf, (size_t)n, to);
}

/* The transaction layer of a terminal's protected port (ipsec.c): from its port-c, under its
 * SAs; nothing to seal. */
static void ipsec_cmd_xmit(void *user, const struct sockaddr_storage *to, const uint8_t *data,
                           size_t len, uint32_t seal)
{
	struct gkt_sock *sk = user;
	struct gkt_run *r = sk->r;
	struct gkt_term *x = &r->terms[sk->i];
	uint8_t *buf;

	if (len > GKT_REQ_MAX || !(buf = gk_loop_send_buf(r->loop)))
		return;
	memcpy(buf, data, len);
	if (!(seal & SEAL_RESPONSE)) {
		note_request_sent(r, x, x->req_len == len && memcmp(x->req, data, len) == 0);
		memcpy(x->req, data, len);
		x->req_len = (uint16_t)len;
	}
	gk_loop_send(r->loop, x->ipsec.fd_c, buf, len, to);
}

/* A terminal's command ended; only giving up matters (answers arrive as messages). */
static void cmd_done(void *user, uint64_t cookie, enum gk_cmd_outcome o, uint16_t code)
{
	struct gkt_sock *sk = user;
	struct gkt_run *r = sk->r;
	uint32_t slot = (uint32_t)(cookie >> 32);
	(void)code;

	if (o != GK_CMD_GAVE_UP || !slot || slot > r->n_terms)
		return;
	struct gkt_term *x = &r->terms[slot - 1];
	if ((uint32_t)x->unique != (uint32_t)cookie || x->phase == PH_DONE ||
	    x->phase == PH_FAILED || x->phase == PH_IDLE)
		return;
	x->t.reason = GK_R_TIMEOUT;
	x->phase = PH_FAILED;
	term_finish(r, x);
}

/* The terminal m is for. Its transaction reference (the SIP branch) carries the index the
 * terminal's requests put in the high 32 bits of their unique value (send_request); confirmed by
 * the IDc, that finds nearly every response without a lookup in the ID table, whose random
 * entry costs a cache miss of its own. Anything else is looked up by its IDc. */
static struct gkt_term *term_of(struct gkt_run *r, const struct gk_msg *m)
{
	if (r->o.codec->transaction_ref) {
		uint64_t ref = r->o.codec->transaction_ref(m);
		uint32_t idx = (uint32_t)(ref >> 32);
		if (ref && idx < r->n_terms && strcmp(r->terms[idx].t.idc, m->idc) == 0)
			return &r->terms[idx];
	}
	uint32_t slot = gk_idmap_find(r->by_id, m->idc);
	return slot ? &r->terms[slot - 1] : NULL;
}

static void on_dgram(void *user, int fd, uint8_t *data, size_t len,
                     const struct sockaddr_storage *from)
{
	struct gkt_run *r = user;
	struct gk_msg m;
	enum gk_reason why;
	uint32_t tidx;
	uint64_t tseq;
	bool has_trailer = gk_pkt_peek(data, len, &tidx, &tseq) == 0;

	if (!gk_sockaddr_equal(from, &r->o.server)) {
		r->st.stray++;
		return;
	}
	/* a call's request or response (call.c), before the registration's decoder sees it */
	if (r->calls && gkt_calls_dgram(r, data, len, from, has_trailer ? &tidx : NULL))
		return;
	size_t plen = has_trailer ? len - GK_TRAILER_LEN : len;
	int dec = r->o.digest ? gk_sip_decode_ua(data, plen, gkt_digest_alg(r), &m, &why)
	                      : r->o.codec->decode(data, plen, &m, &why);
	if (dec < 0) {
		r->st.stray++;
		return;
	}
	/* The answer to an impersonation names the other subscriber, not this terminal: found by
	 * the trailer sealed for it. */
	struct gkt_term *imp = has_trailer ? gkt_term_by_index(r, tidx) : NULL;
	if (imp && imp->phase == PH_IMPERSONATE) {
		struct gk_cmd_wire *w = r->txn[0] ? gk_cmd_wire_of(&m) : NULL;
		if (w ? w->kind == GK_CMD_REPLY && w->code < 300 : m.type == GK_MSG_OTHER_OK)
			r->st.impersonate_answered++;
		return;
	}
	if (r->txn[0]) {
		on_cmd_dgram(r, fd, &m, data, len, has_trailer ? &tidx : NULL);
		return;
	}
	struct gkt_term *x = term_of(r, &m);
	if (!x) {
		r->st.stray++;
		return;
	}
	on_msg(r, x, &m, data, len, has_trailer, false, false);
}

/* A terminal's protected port (ipsec.c): from the element's port-s, the kernel let it in under
 * the terminal's SAs. */
static void on_ipsec_dgram(void *user, int fd, uint8_t *data, size_t len,
                           const struct sockaddr_storage *from)
{
	struct gkt_sock *sk = user;
	struct gkt_run *r = sk->r;
	struct gkt_term *x = &r->terms[sk->i];
	struct gk_msg m;
	enum gk_reason why;

	(void)fd;
	if (!gkt_ipsec_from_element(r, x, from) || r->o.codec->decode(data, len, &m, &why) < 0) {
		r->st.stray++;
		return;
	}
	/* MGCP, H.248: the port's own transactions (a response names its terminal only through
	 * the command it answers, which the layer fills in) */
	uint32_t seal = ((uint32_t)(x - r->terms) + 1) | SEAL_RESPONSE;
	if (x->ipsec.txn && gk_cmd_txn_input(x->ipsec.txn, &m, from, seal) != 1)
		return;
	if (x->ipsec.txn ? strcmp(m.idc, x->t.idc) != 0 : term_of(r, &m) != x) {
		r->st.stray++;
		return;
	}
	on_msg(r, x, &m, data, len, false, false, true);
}

/* --digest: a response to the terminal's plain request, read by digest.c. */
static void digest_msg(struct gkt_run *r, struct gkt_term *x, const struct gk_msg *m)
{
	if (x->phase != PH_REGISTERING && x->phase != PH_OPTIONS && x->phase != PH_DEREGISTERING) {
		r->st.stray++;
		return;
	}
	switch (gkt_digest_response(r, x, m)) {
	case GKT_DG_IGNORE:
		return;
	case GKT_DG_RESEND:
		send_prepared(r, x);
		return;
	case GKT_DG_OVERLOAD:
		/* waited out as the GK1 steps' refusals are; a wait past --timeout fails it now,
		 * reason OVERLOAD (its 503 ended the transaction: nothing left to retransmit) */
		if (x->phase == PH_OPTIONS ? options_backoff(r, x, x->t.retry_after)
		                           : backoff(r, x))
			return;
		x->phase = PH_FAILED;
		term_finish(r, x);
		return;
	case GKT_DG_FAILED:
		x->phase = PH_FAILED;
		term_finish(r, x);
		return;
	case GKT_DG_DONE:
		break;
	}
	gk_timer_cancel(r->loop, &x->timer);
	if (x->phase == PH_REGISTERING) {
		on_registered(r, x);
	} else if (x->phase == PH_OPTIONS) {
		x->options_ok++;
		r->st.options_ok++;
		next_step(r, x);
	} else {
		r->st.deregistered++;
		if (!r->o.quiet)
			printf("deregistered %s\n", x->t.idc);
		x->phase = PH_DONE;
		term_finish(r, x);
	}
}

/* A decoded message for terminal x (data, len: the datagram, trailer included). */
static void on_msg(struct gkt_run *r, struct gkt_term *x, const struct gk_msg *mp, uint8_t *data,
                   size_t len, bool has_trailer, bool opened, bool via_sa)
{
	struct gk_msg m, out;
	enum gk_reason why;

	memcpy(&m, mp, sizeof(m));
	bool protected_phase =
	    x->phase == PH_OPTIONS || x->phase == PH_DEREGISTERING || x->phase == PH_ABUSE;
	if (has_trailer && x->phase == PH_POSTDEREG) {
		r->st.abuse_answered++;
		return;
	}
	if (has_trailer) {
		why = GK_R_NO_MECH;
		if (!opened &&
		    (x->t.chosen != GK_MECH_GKMAC ||
		     gk_pkt_open(x->t.keys.downlink, &x->t.win_down, data, len, &why) < 0)) {
			bad_downlink(r, x, m.type, why);
			return;
		}
	} else if (protected_phase && x->t.chosen == GK_MECH_GKMAC &&
	           (m.type == GK_MSG_OTHER_OK || m.type == GK_MSG_DEREG_OK ||
	            m.type == GK_MSG_REJECT)) {
		/* must have come with a trailer: a bare refusal (an overload's wait too) is
		 * anybody's */
		bad_downlink(r, x, m.type, GK_R_BAD_TRAILER);
		return;
	} else if (x->ipsec.up && !via_sa && x->phase != PH_IDLE) {
		/* once its SAs stand, the element answers from its port-s under them: this came
		 * in the clear, from anybody */
		bad_downlink(r, x, m.type, GK_R_WRONG_SOURCE);
		return;
	}
	if (r->o.digest)
		return digest_msg(r, x, &m);

	switch (x->phase) {
	case PH_REGISTERING: {
		int ret = gk_terminal_on_message(&x->t, &m, &out);
		if (ret == 1) {
			if (send_request(r, x, &out, NULL) < 0) {
				x->phase = PH_FAILED;
				term_finish(r, x);
				return;
			}
			memcpy(x->answer, x->req, x->req_len);
			x->answer_len = x->req_len;
		} else if (ret == 0) {
			memcpy(x->success_mac, m.mac, GK_MAC_LEN);
			on_registered(r, x);
		} else if (ret == -1 && !(x->t.reason == GK_R_OVERLOAD && backoff(r, x))) {
			/* REFUSED has two sources; which one tells an overload apart from a "no" */
			if (x->t.reason == GK_R_REFUSED && m.type == GK_MSG_CHALLENGE)
				x->detail = "challenged again after each of 8 answers";
			else if (x->t.reason == GK_R_REFUSED)
				x->detail = "the network refused it";
			x->phase = PH_FAILED;
			term_finish(r, x);
		}
		break;
	}
	case PH_REPLAY:
		if (m.type == GK_MSG_REJECT) {
			x->replay_refused = true;
			r->st.replay_refused++;
		} else if (m.type == GK_MSG_SUCCESS &&
		           memcmp(m.mac, x->success_mac, GK_MAC_LEN) == 0) {
			/* The element repeated its final answer: no new registration, no new
			 * key. */
			x->replay_refused = true;
			r->st.replay_refused++;
			r->st.replay_repeated++;
		} else if (m.type == GK_MSG_SUCCESS || m.type == GK_MSG_CHALLENGE) {
			r->st.replay_accepted++;
		} else {
			return;
		}
		gk_timer_cancel(r->loop, &x->timer);
		next_step(r, x);
		break;
	case PH_OPTIONS:
		if (m.type == GK_MSG_REJECT && m.reason == GK_R_OVERLOAD) {
			/* unless the wait would outlast --timeout: then timer F ends it */
			options_backoff(r, x, m.retry_after);
			return;
		}
		if (m.type != GK_MSG_OTHER_OK)
			return;
		x->options_ok++;
		r->st.options_ok++;
		gk_timer_cancel(r->loop, &x->timer);
		next_step(r, x);
		break;
	case PH_DEREGISTERING:
		if (gk_terminal_on_message(&x->t, &m, &out) == 0) {
			gkt_ipsec_down(r, x);
			r->st.deregistered++;
			if (!r->o.quiet)
				printf("deregistered %s\n", x->t.idc);
			if (r->o.abuse && sampled(r, x) && x->old_index &&
			    encode_options(r, x) == 0) {
				/* The old keys must be worth nothing now. */
				x->phase = PH_POSTDEREG;
				send_variant(r, x, x->old_uplink, x->old_index, 1000000,
				             VARY_SEQ_UP);
				gk_timer_arm(r->loop, &x->timer, 300);
				return;
			}
			x->phase = PH_DONE;
			term_finish(r, x);
		}
		break;
	case PH_ABUSE:
	case PH_POSTDEREG:
		if (m.type == GK_MSG_OTHER_OK)
			r->st.abuse_answered++;
		break;
	default:
		r->st.stray++;
		break;
	}
}

static void start_more(struct gkt_run *r)
{
	uint64_t allowed = r->n_terms;

	if (r->stopping)
		return;
	if (r->o.rate) {
		uint64_t elapsed = now_us() - r->t0_us;
		allowed = 1 + elapsed * r->o.rate / 1000000;
	}
	while (r->next_start < r->n_terms && r->next_start < allowed && r->in_flight < r->o.window)
		term_start(r, &r->terms[r->next_start++]);
}

static void pacer_fn(struct gk_timer *t)
{
	struct gkt_run *r = run_of_timer;
	(void)t;
	start_more(r);
	if (r->next_start < r->n_terms)
		gk_timer_arm(r->loop, &r->pacer, 1);
}

/* ---- progress (--progress, --progress-file) ------------------------------------------------- */

#define PROGRESS_MS     500  /* a tick */
#define PROGRESS_LOG_MS 5000 /* stderr not a terminal: a line this often at the most */
#define PROGRESS_SPAN   4    /* ticks the live rate is taken over */

/* "registered=N/M failed=F rate=R reg/s elapsed=S s": the rate over the last ticks while the run
 * goes on, at the end that of the whole run (as the summary's). */
static void progress_line(struct gkt_run *r, uint64_t now, bool final, char *buf, size_t cap)
{
	uint64_t rate = 0, dn, dt;

	if (final) {
		dn = r->st.registered;
		dt = r->last_reg_us > r->t0_us ? r->last_reg_us - r->t0_us : 0;
	} else {
		/* the ring holds PROGRESS_SPAN + 1 samples, the oldest still in it the base */
		uint32_t k = r->prog_ticks, span = k < PROGRESS_SPAN ? k : PROGRESS_SPAN;
		uint32_t old = (k - span) % (PROGRESS_SPAN + 1);
		dn = r->st.registered - r->prog_reg[old];
		dt = now - r->prog_us[old];
	}
	if (dt)
		rate = dn * 1000000 / dt;
	snprintf(buf, cap, "registered=%llu/%u failed=%llu rate=%llu reg/s elapsed=%.1f s",
	         (unsigned long long)r->st.registered, r->n_terms, (unsigned long long)r->st.failed,
	         (unsigned long long)rate, (double)(now - r->t0_us) / 1e6);
}

/* --progress-file: the line, then "reg_ms=T" (the run's start to the latest registration) and
 * "done=0|1", replaced whole (written aside, renamed over) so a reader never sees half of one. */
static int progress_file_write(struct gkt_run *r, const char *line, bool done)
{
	char tmp[4096], buf[512];
	uint64_t reg_ms = r->last_reg_us > r->t0_us ? (r->last_reg_us - r->t0_us) / 1000 : 0;
	int n = snprintf(buf, sizeof(buf), "%s reg_ms=%llu done=%d\n", line,
	                 (unsigned long long)reg_ms, done);

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", r->o.progress_file) >= sizeof(tmp))
		return -ENAMETOOLONG;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	ssize_t w = write(fd, buf, (size_t)n);
	int e = w < 0 ? errno : EIO;
	close(fd);
	if (w != n)
		return -e;
	return rename(tmp, r->o.progress_file) < 0 ? -errno : 0;
}

static void progress_show(struct gkt_run *r, bool final)
{
	uint64_t now = now_us();
	char line[256];

	progress_line(r, now, final, line, sizeof(line));
	if (r->o.progress_file)
		progress_file_write(r, line, final); /* a failure now and then shows as staleness */
	if (!r->o.progress)
		return;
	if (r->progress_tty) {
		fprintf(stderr, "\r%s\033[K%s", line, final ? "\n" : "");
	} else if (final || now - r->prog_logged_us >= (uint64_t)PROGRESS_LOG_MS * 1000) {
		fprintf(stderr, "%s\n", line);
		r->prog_logged_us = now;
	}
}

static void progress_fn(struct gk_timer *t)
{
	struct gkt_run *r = run_of_timer;
	uint32_t k = ++r->prog_ticks % (PROGRESS_SPAN + 1);

	r->prog_us[k] = now_us();
	r->prog_reg[k] = r->st.registered;
	progress_show(r, false);
	gk_timer_arm(r->loop, t, PROGRESS_MS);
}

/* The first tick's base, and a first line in the file so that a bad path fails the run at once. */
static int progress_start(struct gkt_run *r)
{
	char line[256];

	r->prog_us[0] = r->t0_us;
	r->prog_reg[0] = 0;
	r->prog_logged_us = r->t0_us;
	r->progress_tty = isatty(STDERR_FILENO);
	r->progress.fn = progress_fn;
	if (r->o.progress_file) {
		progress_line(r, r->t0_us, false, line, sizeof(line));
		int e = progress_file_write(r, line, false);
		if (e < 0) {
			fprintf(stderr, "gkterm: --progress-file %s: %s\n", r->o.progress_file,
			        strerror(-e));
			return -1;
		}
	}
	gk_timer_arm(r->loop, &r->progress, PROGRESS_MS);
	return 0;
}

/* The run ends (--timeout, or SIGINT/SIGTERM): a terminal answering is done; any other still on
 * its steps failed. */
static void run_end(struct gkt_run *r)
{
	r->stopping = true;
	gkt_calls_stop(r);
	for (uint32_t i = 0; i < r->n_terms; i++) {
		struct gkt_term *x = &r->terms[i];
		if (x->phase == PH_DONE || x->phase == PH_FAILED)
			continue;
		if (x->phase == PH_IDLE)
			r->in_flight++; /* term_finish counts it out */
		gkt_unpark(r, x);
		if (x->phase == PH_ANSWERING) {
			x->phase = PH_DONE;
		} else {
			/* still waiting out an overload refusal: that is why it did not register */
			x->t.reason = x->phase == PH_BACKOFF ? GK_R_OVERLOAD : GK_R_TIMEOUT;
			x->phase = PH_FAILED;
		}
		term_finish(r, x);
	}
	gk_loop_stop(r->loop);
}

static void deadline_fn(struct gk_timer *t)
{
	(void)t;
	run_end(run_of_timer);
}

static void on_signal(void *user, int signo)
{
	(void)signo;
	run_end(user);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* --histogram: registration latencies (lat, n of them, in microseconds, sorted) by bucket, each
 * from the bound before it up to its own, in milliseconds; from the first bucket with a
 * registration in it to the last, each with its count, its share and a bar:
 * "histogram     <5 ms      1234  12.3% ########". */
static void print_histogram(const uint64_t *lat, uint32_t n)
{
	static const uint32_t bound_ms[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000};
	enum { N_BOUNDS = sizeof(bound_ms) / sizeof(bound_ms[0]), BAR_MAX = 40 };
	uint64_t count[N_BOUNDS + 1] = {0}, most = 0;
	unsigned b = 0, first = N_BOUNDS + 1, last = 0;

	for (uint32_t i = 0; i < n; i++) {
		while (b < N_BOUNDS && lat[i] >= (uint64_t)bound_ms[b] * 1000)
			b++;
		count[b]++;
	}
	for (b = 0; b <= N_BOUNDS; b++) {
		if (!count[b])
			continue;
		first = first > b ? b : first;
		last = b;
		most = count[b] > most ? count[b] : most;
	}
	for (b = first; b <= last; b++) {
		char bound[16], bar[BAR_MAX + 1];
		unsigned w = (unsigned)(count[b] * BAR_MAX / most);
		if (count[b] && !w)
			w = 1;
		memset(bar, '#', w);
		bar[w] = '\0';
		if (b < N_BOUNDS)
			snprintf(bound, sizeof(bound), "<%u", bound_ms[b]);
		else
			snprintf(bound, sizeof(bound), ">=%u", bound_ms[N_BOUNDS - 1]);
		printf("histogram %6s ms %9llu %5.1f%%%s%s\n", bound, (unsigned long long)count[b],
		       100.0 * (double)count[b] / n, w ? " " : "", bar);
	}
}

static void report(struct gkt_run *r, uint64_t elapsed_us)
{
	uint64_t *lat = calloc(r->n_terms ? r->n_terms : 1, sizeof(*lat));
	uint32_t n = 0;
	uint64_t reg_end = r->t0_us;

	for (uint32_t i = 0; i < r->n_terms; i++) {
		struct gkt_term *x = &r->terms[i];
		if (x->reg_ok && x->done_us) {
			if (lat)
				lat[n++] = x->done_us - x->started_us;
			if (x->done_us > reg_end)
				reg_end = x->done_us;
		}
	}
	double p50 = 0, p90 = 0, p99 = 0;
	if (lat && n) {
		qsort(lat, n, sizeof(*lat), cmp_u64);
		p50 = (double)lat[n / 2] / 1000.0;
		p90 = (double)lat[(uint64_t)n * 90 / 100] / 1000.0;
		p99 = (double)lat[(uint64_t)n * 99 / 100] / 1000.0;
	}
	double reg_s = (double)(reg_end - r->t0_us) / 1e6;
	/* overloaded= last: tools/bench-reg.sh reads the fields before it by name */
	printf("summary terminals=%u registered=%llu failed=%llu retransmits=%llu elapsed_ms=%.1f "
	       "rate=%.0f reg/s latency_ms p50=%.2f p90=%.2f p99=%.2f overloaded=%llu\n",
	       r->n_terms, (unsigned long long)r->st.registered, (unsigned long long)r->st.failed,
	       (unsigned long long)r->st.retransmits, (double)elapsed_us / 1000.0,
	       reg_s > 0 ? (double)r->st.registered / reg_s : 0.0, p50, p90, p99,
	       (unsigned long long)r->st.overloaded);
	if (r->o.histogram && lat)
		print_histogram(lat, n);
	free(lat);
	if (r->o.options)
		printf("options sent=%llu ok=%llu bad_downlink=%llu\n",
		       (unsigned long long)n_sampled(r) * r->o.options,
		       (unsigned long long)r->st.options_ok,
		       (unsigned long long)r->st.bad_downlink);
	if (r->o.replay_answer)
		printf("replay refused=%llu accepted=%llu repeated=%llu\n",
		       (unsigned long long)r->st.replay_refused,
		       (unsigned long long)r->st.replay_accepted,
		       (unsigned long long)r->st.replay_repeated);
	if (r->o.refresh)
		printf("refreshed %llu\n", (unsigned long long)r->st.refreshed);
	if (r->o.deregister)
		printf("deregistered %llu\n", (unsigned long long)r->st.deregistered);
	if (r->xfrm)
		printf("ipsec installed=%llu replaced=%llu removed=%llu failed=%llu\n",
		       (unsigned long long)r->st.ipsec_installed,
		       (unsigned long long)r->st.ipsec_replaced,
		       (unsigned long long)r->st.ipsec_removed,
		       (unsigned long long)r->st.ipsec_failed);
	if (r->o.impersonate[0])
		printf("impersonate %s sent=%llu answered=%llu\n", r->o.impersonate,
		       (unsigned long long)r->st.impersonate_sent,
		       (unsigned long long)r->st.impersonate_answered);
	if (r->o.abuse)
		printf("abuse sent=%llu answered=%llu expected=%llu\n",
		       (unsigned long long)r->st.abuse_sent,
		       (unsigned long long)r->st.abuse_answered,
		       (unsigned long long)r->st.abuse_expected);
	for (int i = 1; i < GK_R__COUNT; i++)
		if (r->st.reasons[i])
			printf("failures.%s %llu\n", gk_reason_name((enum gk_reason)i),
			       (unsigned long long)r->st.reasons[i]);
	gkt_calls_report(r);
}

/* H.248: the terminal's mId is its own address ("[198.18.1.2]:2944"). */
void gkt_mid_of(const struct sockaddr_storage *a, char *out, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];
	const void *raw = a->ss_family == AF_INET6
	                      ? (const void *)&((const struct sockaddr_in6 *)a)->sin6_addr
	                      : (const void *)&((const struct sockaddr_in *)a)->sin_addr;
	uint16_t port = ntohs(a->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)a)->sin6_port
	                                               : ((const struct sockaddr_in *)a)->sin_port);
	out[0] = '\0';
	if (inet_ntop(a->ss_family, raw, ip, sizeof(ip)))
		snprintf(out, cap, "[%s]:%u", ip, port);
}

int gkt_run(struct gkt_run *r)
{
	char err[256];
	/* A load run pays for its buffers up front, as the daemons do, so that its latency figures
	 * are the elements' and not the generator's own page faults. A handful of terminals does
	 * not need the 96 MiB. */
	struct gk_loop_params lp = {
	    .sq_entries = 4096, .rx_bufs = 8192, .tx_slots = 16384, .resident = r->n_terms >= 1000};

	run_of_timer = r;
	r->ix_mask = 15;
	while (r->ix_mask + 1 < 4 * (uint64_t)r->n_terms)
		r->ix_mask = r->ix_mask * 2 + 1;
	r->ix_key = calloc((size_t)r->ix_mask + 1, sizeof(*r->ix_key));
	r->ix_slot = calloc((size_t)r->ix_mask + 1, sizeof(*r->ix_slot));
	if (!r->ix_key || !r->ix_slot) {
		fprintf(stderr, "gkterm: out of memory for %u terminals\n", r->n_terms);
		return 2;
	}
	r->loop = gk_loop_new(&lp, err, sizeof(err));
	if (!r->loop) {
		fprintf(stderr, "gkterm: %s\n", err);
		return 2;
	}
	for (uint32_t i = 0; i < r->o.sockets; i++)
		gk_loop_add_udp(r->loop, r->fds[i], on_dgram, r);
	if (r->o.codec->proto == GK_PROTO_MGCP || r->o.codec->proto == GK_PROTO_H248) {
		static const struct gk_cmd_txn_ops ops = {.xmit = cmd_xmit, .done = cmd_done};
		struct gk_cmd_txn_cfg tc;
		gk_cmd_txn_cfg_defaults(&tc);
		tc.defer = false;
		tc.max_out = tc.max_in = r->n_terms < 1u << 18 ? r->n_terms * 4 + 64 : 1u << 20;
		for (uint32_t i = 0; i < r->o.sockets; i++) {
			r->sk[i] = (struct gkt_sock){.r = r, .i = i};
			gkt_mid_of(&r->local[i], tc.local_mid, sizeof(tc.local_mid));
			r->txn[i] = gk_cmd_txn_new(r->o.codec, &tc, &ops, &r->sk[i], r->loop, err,
			                           sizeof(err));
			if (!r->txn[i]) {
				fprintf(stderr, "gkterm: %s\n", err);
				return 2;
			}
		}
	}
	static const struct gk_cmd_txn_ops ipsec_ops = {.xmit = ipsec_cmd_xmit, .done = cmd_done};
	if (gkt_ipsec_open(r, on_ipsec_dgram, &ipsec_ops) < 0) {
		gkt_ipsec_close(r);
		return 2;
	}
	if (!r->o.digest && gkt_calls_init(r) < 0) { /* a Digest terminal answers no call */
		fprintf(stderr, "gkterm: out of memory for the calls\n");
		return 2;
	}
	if (r->o.answer || r->o.calls || r->o.n_call_to) {
		/* a terminal that stays to answer is ended by a signal: the summary still comes */
		static const int sigs[] = {SIGINT, SIGTERM};
		gk_loop_on_signals(r->loop, sigs, 2, on_signal, r);
	}
	r->pacer.fn = pacer_fn;
	r->deadline.fn = deadline_fn;
	gk_timer_arm(r->loop, &r->deadline, (uint64_t)r->o.timeout_s * 1000);
	r->t0_us = now_us();
	if ((r->o.progress || r->o.progress_file) && progress_start(r) < 0)
		return 2;
	start_more(r);
	if (r->next_start < r->n_terms)
		gk_timer_arm(r->loop, &r->pacer, 1);
	gk_loop_run(r->loop);
	uint64_t elapsed = now_us() - r->t0_us;
	for (uint32_t i = 0; i < r->o.sockets; i++)
		if (r->txn[i])
			r->st.retransmits += gk_cmd_txn_stats(r->txn[i])->retransmissions;
	if (r->o.progress || r->o.progress_file)
		progress_show(r, true);
	report(r, elapsed);
	fflush(stdout);

	bool ok = r->st.failed == 0 && r->st.registered == r->n_terms;
	if (r->o.options)
		ok = ok && r->st.options_ok == (uint64_t)n_sampled(r) * r->o.options;
	if (r->o.replay_answer)
		ok = ok && r->st.replay_accepted == 0;
	if (r->o.refresh)
		ok = ok && r->st.refreshed == (uint64_t)r->n_terms * r->o.refresh;
	if (r->o.deregister)
		ok = ok && r->st.deregistered == r->n_terms;
	if (r->o.abuse)
		ok = ok && r->st.abuse_answered == r->st.abuse_expected;
	ok = ok && gkt_calls_ok(r);
	gkt_calls_free(r);
	gkt_ipsec_close(r); /* the SAs of terminals that did not deregister */
	for (uint32_t i = 0; i < r->o.sockets; i++)
		gk_cmd_txn_free(r->txn[i]);
	gk_loop_free(r->loop);
	free(r->ix_key);
	free(r->ix_slot);
	return ok ? 0 : 1;
}
