// SPDX-License-Identifier: GPL-2.0-only
/*
 * gkterm's SIP calls between registered terminals, every datagram protected as the rest of what a
 * gk-mac terminal sends: sealed under its uplink key, and nothing taken that does not verify under
 * its downlink key (counted as bad_downlink, printed as downlink_rejected).
 *
 * Caller (--call AOR, and the load run's callers): INVITE with an SDP offer, retransmitted by
 * RFC 3261 timer A until a provisional or a final comes (timer B gives up); a 2xx makes the dialog
 * (lib/sip/sip_ua.c: the route set from its Record-Route, the remote target from its Contact), is
 * ACKed along that route set, and after --hold-ms the call ends with a BYE (timer E and F), whose
 * final ends the call. A non-2xx final is ACKed hop by hop (gk_sip_build_ack). A final that comes
 * again is ACKed again (§13.2.2.4, §17.1.1.2).
 *
 * Callee (every registered terminal; --answer prints what comes and stays): an INVITE gets 180 and
 * a 200 with an SDP answer, both copying the Record-Route (§12.1.1); the 200 is sent again (T1
 * doubling to T2) until its ACK comes, for 64*T1 at most (§13.3.1.4); a retransmitted INVITE gets
 * the 200 again. BYE, MESSAGE, OPTIONS and the other requests inside a call get 200, anything else
 * 405. Answers go to where the request came from.
 *
 * Load run (--calls N with an even --count 2M): once every terminal has registered (or failed),
 * terminal i calls terminal M+i, pairs taken in turn, N calls in total at --call-rate a second,
 * at most --window at once; the summary gives the setup time (INVITE sent to 2xx received).
 *
 * Every call, answer and timer lives in tables allocated once at the start: no allocation per
 * message. A call's slot is given back at the end of a free list, so that a final repeated late
 * still finds its call (and its ACK) for as long as possible; its Call-ID names the slot and the
 * slot's generation, so a response for a reused slot is a stray.
 *
 * In order: sending and verifying; the terminals by their bindings' index; what a call's messages
 * say; call slots; the caller; the load run; the callee; life and the report.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatekey/runtime/config.h"
#include "gatekey/crypto/crypto.h"
#include "gatekey/runtime/idmap.h"
#include "gatekey/fastpath/pktmac.h"
#include "gatekey/sip/sip.h"
#include "gatekey/sip/sip_ua.h"
#include "gatekey/crypto/siphash.h"
#include "gkterm.h"

#define T1_MS       500
#define T2_MS       4000
#define TIMER_B_MS  (64 * T1_MS) /* an INVITE that nothing answers */
#define RING_MAX_MS (180 * 1000) /* after a provisional, as a proxy's timer C */
#define TIMER_F_MS  (64 * T1_MS) /* a BYE; a 2xx repeated without its ACK (§13.3.1.4) */
#define FAIL_LINES  10           /* calls that failed, printed also under --quiet */
#define ALLOWED     "INVITE, ACK, BYE, CANCEL, OPTIONS, MESSAGE, INFO, UPDATE, NOTIFY, PRACK"

enum call_state {
	CS_FREE = 0,
	CS_INVITING,   /* INVITE sent, nothing back yet: timer A */
	CS_PROCEEDING, /* a provisional came: waiting for the final */
	CS_HOLDING,    /* confirmed, ACK sent: --hold-ms before the BYE */
	CS_BYE,        /* BYE sent: timer E */
	CS_DONE,       /* ended; the slot keeps its ACK for a repeated final until it is reused */
};

struct gkt_call {
	uint32_t gen;
	uint8_t state;
	uint8_t tries;
	bool bye_sent;
	uint16_t status;     /* the INVITE's final, 0 while none came */
	uint16_t bye_status; /* the BYE's final, 0 while none came */
	uint32_t caller;     /* terminal slot */
	uint32_t target;     /* --call: index into o.call_to; load run: the callee's slot */
	bool load;           /* one of the load run's */
	uint32_t next_free;
	uint32_t cseq; /* the INVITE's; the BYE's is one more */
	uint64_t invite_us, ok_us, bye_us;
	struct gk_timer timer;
	struct sockaddr_storage hop; /* where the ACK and the BYE go */
	struct gk_sip_ua_dialog d;
	uint16_t req_len, ack_len;
	uint8_t req[GKT_CALL_MSG_MAX]; /* the INVITE, then the BYE: to retransmit */
	uint8_t ack[GKT_CALL_MSG_MAX]; /* the ACK, sent again for a repeated final */
};

/* A callee's 2xx to an INVITE, repeated until its ACK comes (§13.3.1.4). */
struct gkt_uas {
	bool used;
	uint8_t tries;
	uint64_t key; /* SipHash of the Call-ID and the caller's tag */
	uint32_t term, next_hash, next_free;
	uint64_t since_us;
	struct gk_timer timer;
	struct sockaddr_storage to;
	uint16_t len;
	uint8_t rsp[GKT_CALL_MSG_MAX];
};

struct gkt_calls {
	struct gkt_run *r;
	struct gkt_call *call;                             /* 1..n_call */
	uint32_t n_call, fresh_call, free_head, free_tail; /* fresh: the first never used */
	uint32_t wait_head, wait_tail; /* terminals waiting for a call slot (slot + 1) */
	struct gkt_uas *uas;           /* 1..n_uas */
	uint32_t n_uas, fresh_uas, uas_free, *uas_hash, uas_mask;
	uint8_t hash_key[GK_SIPHASH_KEY_LEN];
	uint64_t *setup_us; /* setup times of the calls a 2xx answered */
	uint32_t n_setup, cap_setup;
	uint32_t started, ended;
	uint64_t first_us, last_us;
	uint64_t branch;
	/* the load run */
	bool load_on, load_over;
	uint32_t load_parked, load_started, load_ended, load_in_flight;
	uint32_t *pairs, n_pairs, half;
	uint64_t load_t0_us;
	struct gk_timer pacer;
	char local[8][64]; /* each socket as "ip:port" ("[ip]:port") */
	char ip[8][48];    /* and its address alone, for SDP */
	bool v6[8];
	struct {
		uint64_t ok, failed, retransmits, acks_resent, stray, printed_failures;
		uint64_t rx_invite, rx_ack, rx_bye, rx_other, no_ack, uas_full, resent_2xx;
	} st;
};

static struct gkt_calls *C; /* one run at a time, as the engine */

static bool span_is(struct sip_span s, const char *z)
{
	return s.n == strlen(z) && memcmp(s.p, z, s.n) == 0;
}

static struct gkt_call *call_of_timer(struct gk_timer *t)
{
	return (struct gkt_call *)((char *)t - offsetof(struct gkt_call, timer));
}

static struct gkt_uas *uas_of_timer(struct gk_timer *t)
{
	return (struct gkt_uas *)((char *)t - offsetof(struct gkt_uas, timer));
}

static uint32_t slot_of(const struct gkt_run *r, const struct gkt_term *x)
{
	return (uint32_t)(x - r->terms);
}

/* Sends msg[0..len) as terminal x does: sealed under its uplink key, from its socket. */
static void send_as(struct gkt_run *r, struct gkt_term *x, const uint8_t *msg, size_t len,
                    const struct sockaddr_storage *to)
{
	uint8_t *buf = gk_loop_send_buf(r->loop);
	int n = (int)len;

	if (!buf)
		return; /* a timer sends it again, or the peer asks again */
	memcpy(buf, msg, len);
	if (x->t.chosen == GK_MECH_GKMAC)
		n = gk_pkt_seal_next(x->t.keys.uplink, x->t.index, &x->t.seq_up, buf, len,
		                     GK_LOOP_DGRAM_MAX);
	if (n < 0) {
		gk_loop_send_abort(r->loop, buf);
		return;
	}
	gk_loop_send(r->loop, r->fds[x->sock], buf, (size_t)n, to);
}

/* Whether a datagram for x (data[0..len), trailer included; tidx its index) verifies under x's
 * downlink key; the window moves only when it does. */
static bool verified(struct gkt_term *x, const uint8_t *data, size_t len, const uint32_t *tidx)
{
	enum gk_reason why;

	if ((x->t.state != GK_TERM_REGISTERED && x->t.state != GK_TERM_WAIT_DEREG) ||
	    x->t.chosen != GK_MECH_GKMAC || !tidx || *tidx != x->t.index)
		return false;
	return gk_pkt_open(x->t.keys.downlink, &x->t.win_down, data, len, &why) >= 0;
}

/* ---- the terminals by their bindings' index -------------------------------------------------- */

/* The terminal whose current binding has this index (the engine's map), NULL when none. */
static struct gkt_term *term_of_index(struct gkt_run *r, uint32_t index)
{
	struct gkt_term *x = gkt_term_by_index(r, index);

	return x && x->t.index == index ? x : NULL;
}

/* ---- what a call's messages say -------------------------------------------------------------- */

static uint32_t call_slot(const struct gkt_call *c)
{
	return (uint32_t)(c - C->call);
}

static void call_id_of(const struct gkt_run *r, const struct gkt_call *c, char *out, size_t cap)
{
	snprintf(out, cap, "gkc-%08x-%u-%u@gkterm", (unsigned)r->t0_us, call_slot(c), c->gen);
}

/* The call a Call-ID names: this run's, a slot in use or ended, of the generation it names. */
static struct gkt_call *call_of(const struct gkt_run *r, struct sip_span id)
{
	char want[16], text[64];
	uint64_t slot = 0, gen = 0;
	size_t i;

	int n = snprintf(want, sizeof(want), "gkc-%08x-", (unsigned)r->t0_us);
	if (id.n >= sizeof(text) || id.n <= (size_t)n || memcmp(id.p, want, (size_t)n) != 0)
		return NULL;
	memcpy(text, id.p, id.n);
	text[id.n] = '\0';
	for (i = (size_t)n; text[i] >= '0' && text[i] <= '9' && slot <= UINT32_MAX; i++)
		slot = slot * 10 + (uint64_t)(text[i] - '0');
	if (text[i++] != '-')
		return NULL;
	for (; text[i] >= '0' && text[i] <= '9' && gen <= UINT32_MAX; i++)
		gen = gen * 10 + (uint64_t)(text[i] - '0');
	if (text[i] != '@' || !slot || slot > C->n_call)
		return NULL;
	struct gkt_call *c = &C->call[slot];
	return c->state != CS_FREE && c->gen == gen ? c : NULL;
}

static void from_of(const struct gkt_run *r, const struct gkt_call *c, char *out, size_t cap)
{
	const struct gkt_term *x = &r->terms[c->caller];
	snprintf(out, cap, "<sip:%s@%s>;tag=gk%ux%u", x->t.idc, x->t.idsp, call_slot(c), c->gen);
}

static void via_of(struct gkt_run *r, const struct gkt_term *x, char *out, size_t cap)
{
	snprintf(out, cap, "SIP/2.0/UDP %s;branch=z9hG4bKgk%08x%010llx;rport", C->local[x->sock],
	         (unsigned)r->t0_us, (unsigned long long)++C->branch);
}

static void contact_of(const struct gkt_term *x, char *out, size_t cap)
{
	snprintf(out, cap, "sip:%s@%s", x->t.idc, C->local[x->sock]);
}

/* A small SDP (RFC 4566) offering or answering one PCMU stream at the terminal's address. */
static size_t sdp_of(const struct gkt_term *x, uint32_t session, char *out, size_t cap)
{
	const char *af = C->v6[x->sock] ? "IP6" : "IP4";
	int n = snprintf(out, cap,
	                 "v=0\r\no=gkterm %u 1 IN %s %s\r\ns=gkterm\r\nc=IN %s %s\r\nt=0 0\r\n"
	                 "m=audio %u RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
	                 session, af, C->ip[x->sock], af, C->ip[x->sock],
	                 40000u + 2u * (session % 10000u));
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* "sip:bob@idsp" for "bob", "sip:bob@sbc1" for "bob@sbc1"; a sip: or sips: URI as it is. */
static void uri_of_aor(const struct gkt_run *r, const char *aor, char *out, size_t cap)
{
	if (strncmp(aor, "sip:", 4) == 0 || strncmp(aor, "sips:", 5) == 0)
		snprintf(out, cap, "%s", aor);
	else if (strchr(aor, '@'))
		snprintf(out, cap, "sip:%s", aor);
	else
		snprintf(out, cap, "sip:%s@%s", aor, r->o.idsp);
}

/* ---- call slots ------------------------------------------------------------------------------ */

static void call_timer(struct gk_timer *t);

static struct gkt_call *slot_take(void)
{
	struct gkt_call *c;

	/* never used ones first (their pages are touched only now), then the longest ended */
	if (C->fresh_call < C->n_call) {
		c = &C->call[++C->fresh_call];
		c->timer.fn = call_timer;
	} else if (C->free_head) {
		c = &C->call[C->free_head];
		C->free_head = c->next_free;
		if (!C->free_head)
			C->free_tail = 0;
	} else {
		return NULL;
	}
	c->gen++;
	c->state = CS_INVITING;
	c->tries = 0;
	c->bye_sent = false;
	c->status = c->bye_status = 0;
	c->ok_us = c->bye_us = 0;
	c->req_len = c->ack_len = 0;
	c->load = false;
	return c;
}

/* Last in the free list: reused as late as possible. The call stays CS_DONE until then. */
static void slot_give(struct gkt_call *c)
{
	uint32_t i = call_slot(c);

	c->next_free = 0;
	if (C->free_tail)
		C->call[C->free_tail].next_free = i;
	else
		C->free_head = i;
	C->free_tail = i;
}

/* ---- the caller ------------------------------------------------------------------------------ */

static void call_end(struct gkt_run *r, struct gkt_call *c);
static void load_more(struct gkt_run *r);
static void place(struct gkt_run *r, struct gkt_term *x);

static const char *label_of(const struct gkt_run *r, const struct gkt_call *c)
{
	return c->load ? r->terms[c->target].t.idc : r->o.call_to[c->target];
}

/* Sends the INVITE of call c from its caller to uri and starts timer A. */
static void call_start(struct gkt_run *r, struct gkt_call *c, const char *uri)
{
	struct gkt_term *x = &r->terms[c->caller];
	char via[160], from[2 * GK_ID_MAX + 48], call_id[64], contact[2 * GK_ID_MAX + 80];
	char sdp[400];

	c->cseq = 1;
	c->invite_us = gkt_now_us();
	if (!C->first_us)
		C->first_us = c->invite_us;
	C->started++;
	via_of(r, x, via, sizeof(via));
	from_of(r, c, from, sizeof(from));
	call_id_of(r, c, call_id, sizeof(call_id));
	contact_of(x, contact, sizeof(contact));
	size_t sn = sdp_of(x, call_slot(c), sdp, sizeof(sdp));
	struct gk_sip_ua_req q = {.method = "INVITE",
	                          .cseq = c->cseq,
	                          .via = via,
	                          .from = from,
	                          .call_id = call_id,
	                          .contact = contact,
	                          .content_type = "application/sdp",
	                          .body = (const uint8_t *)sdp,
	                          .body_len = sn};
	int n = gk_sip_ua_dialog_init(&c->d, uri);
	if (n == 0)
		n = gk_sip_ua_request(&c->d, &q, c->req, sizeof(c->req));
	if (n <= 0) {
		call_end(r, c); /* status 0: never sent */
		return;
	}
	c->req_len = (uint16_t)n;
	send_as(r, x, c->req, c->req_len, &r->o.server);
	gk_timer_arm(r->loop, &c->timer, T1_MS);
}

/* The BYE along the dialog's route set, with timer E. */
static void send_bye(struct gkt_run *r, struct gkt_call *c)
{
	struct gkt_term *x = &r->terms[c->caller];
	char via[160], from[2 * GK_ID_MAX + 48], call_id[64];

	via_of(r, x, via, sizeof(via));
	from_of(r, c, from, sizeof(from));
	call_id_of(r, c, call_id, sizeof(call_id));
	struct gk_sip_ua_req q = {
	    .method = "BYE", .cseq = c->cseq + 1, .via = via, .from = from, .call_id = call_id};
	int n = gk_sip_ua_request(&c->d, &q, c->req, sizeof(c->req));
	if (n <= 0) {
		call_end(r, c);
		return;
	}
	c->req_len = (uint16_t)n;
	c->state = CS_BYE;
	c->bye_sent = true;
	c->bye_us = gkt_now_us();
	c->tries = 0;
	send_as(r, x, c->req, c->req_len, &c->hop);
	gk_timer_arm(r->loop, &c->timer, T1_MS);
}

static void call_timer(struct gk_timer *t)
{
	struct gkt_call *c = call_of_timer(t);
	struct gkt_run *r = C->r;
	struct gkt_term *x = &r->terms[c->caller];
	uint64_t now = gkt_now_us(), next;

	switch (c->state) {
	case CS_INVITING: /* timer A: T1 doubling, until timer B */
		if (now - c->invite_us >= (uint64_t)TIMER_B_MS * 1000)
			return call_end(r, c);
		c->tries++;
		C->st.retransmits++;
		send_as(r, x, c->req, c->req_len, &r->o.server);
		next = (uint64_t)T1_MS << c->tries;
		if (next > TIMER_B_MS)
			next = TIMER_B_MS;
		gk_timer_arm(r->loop, &c->timer, next);
		return;
	case CS_PROCEEDING: /* rang for as long as a proxy lets a call ring */
		return call_end(r, c);
	case CS_HOLDING:
		return send_bye(r, c);
	case CS_BYE: /* timer E: T1 doubling to T2, until timer F */
		if (now - c->bye_us >= (uint64_t)TIMER_F_MS * 1000)
			return call_end(r, c);
		c->tries++;
		C->st.retransmits++;
		send_as(r, x, c->req, c->req_len, &c->hop);
		next = (uint64_t)T1_MS << c->tries;
		gk_timer_arm(r->loop, &c->timer, next > T2_MS ? T2_MS : next);
		return;
	default:
		return;
	}
}

/* The 2xx to the INVITE: the dialog, its ACK, then the BYE after the hold. */
static void confirmed(struct gkt_run *r, struct gkt_call *c, const struct gk_sip_view *v)
{
	struct gkt_term *x = &r->terms[c->caller];
	char ruri[GK_SIP_UA_URI_MAX], via[160], from[2 * GK_ID_MAX + 48], call_id[64];

	c->ok_us = gkt_now_us();
	if (C->n_setup < C->cap_setup)
		C->setup_us[C->n_setup++] = c->ok_us - c->invite_us;
	snprintf(ruri, sizeof(ruri), "%s", c->d.target);
	if (gk_sip_ua_dialog_uac(&c->d, v, ruri) < 0)
		return call_end(r, c); /* a 2xx no dialog can be made of: no BYE either */
	/* the first route (loose routing), else the server: the terminal's outbound proxy */
	if (gk_sip_ua_next_hop(&c->d, &c->hop) < 0)
		c->hop = r->o.server;
	via_of(r, x, via, sizeof(via));
	from_of(r, c, from, sizeof(from));
	call_id_of(r, c, call_id, sizeof(call_id));
	struct gk_sip_ua_req q = {
	    .method = "ACK", .cseq = c->cseq, .via = via, .from = from, .call_id = call_id};
	int n = gk_sip_ua_request(&c->d, &q, c->ack, sizeof(c->ack));
	if (n <= 0)
		return call_end(r, c);
	c->ack_len = (uint16_t)n;
	send_as(r, x, c->ack, c->ack_len, &c->hop);
	if (r->o.hold_ms) {
		c->state = CS_HOLDING;
		gk_timer_arm(r->loop, &c->timer, r->o.hold_ms);
		return;
	}
	send_bye(r, c);
}

/* A response for call c (data[0..plen) viewed as v). */
static void call_response(struct gkt_run *r, struct gkt_call *c, const uint8_t *data, size_t plen,
                          const struct gk_sip_view *v)
{
	struct gkt_term *x = &r->terms[c->caller];
	bool invite = span_is(v->cseq_method, "INVITE");

	if (v->cseq != (invite ? c->cseq : c->cseq + 1)) {
		C->st.stray++;
		return;
	}
	if (!invite) {
		if (c->state == CS_BYE && v->status >= 200) {
			c->bye_status = v->status;
			call_end(r, c);
		}
		return;
	}
	if (c->state != CS_INVITING && c->state != CS_PROCEEDING) {
		/* a final repeated (its ACK was lost): ACKed again */
		if (v->status >= 200 && c->ack_len) {
			C->st.acks_resent++;
			send_as(r, x, c->ack, c->ack_len, &c->hop);
		}
		return;
	}
	if (v->status < 200) {
		if (c->state == CS_INVITING) {
			c->state = CS_PROCEEDING; /* timer A stops */
			gk_timer_arm(r->loop, &c->timer, RING_MAX_MS);
		}
		return;
	}
	gk_timer_cancel(r->loop, &c->timer);
	c->status = v->status;
	if (v->status < 300)
		return confirmed(r, c, v);
	/* §17.1.1.3: a non-2xx final is ACKed where the INVITE went, in its transaction */
	int n = gk_sip_build_ack(c->req, c->req_len, data, plen, c->ack, sizeof(c->ack));
	c->hop = r->o.server;
	if (n > 0) {
		c->ack_len = (uint16_t)n;
		send_as(r, x, c->ack, c->ack_len, &c->hop);
	}
	call_end(r, c);
}

static void print_call(struct gkt_run *r, const struct gkt_call *c)
{
	char line[GK_SIP_UA_ROUTES_MAX + 512];
	int n = snprintf(line, sizeof(line), "call %s ", label_of(r, c));

	if (c->status)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%u", c->status);
	else
		n += snprintf(line + n, sizeof(line) - (size_t)n, "timeout");
	if (c->status >= 200 && c->status < 300) {
		if (c->bye_status)
			n += snprintf(line + n, sizeof(line) - (size_t)n, " bye %u", c->bye_status);
		else
			n += snprintf(line + n, sizeof(line) - (size_t)n, " bye %s",
			              c->bye_sent ? "timeout" : "-");
	}
	if (c->ok_us)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " setup_ms=%.2f",
		              (double)(c->ok_us - c->invite_us) / 1000.0);
	if (c->status >= 200 && c->status < 300) {
		/* the route set the ACK and the BYE took, first hop first */
		n += snprintf(line + n, sizeof(line) - (size_t)n, " route=%s",
		              c->d.n_routes ? "" : "-");
		for (unsigned i = 0; i < c->d.n_routes && (size_t)n < sizeof(line); i++)
			n += snprintf(line + n, sizeof(line) - (size_t)n, "%s%s", i ? "," : "",
			              c->d.routes + c->d.route_at[i]);
	}
	if ((size_t)n < sizeof(line) && r->n_terms > 1)
		snprintf(line + n, sizeof(line) - (size_t)n, " caller=%s",
		         r->terms[c->caller].t.idc);
	printf("%s\n", line);
}

/* Call c is over, however it went: counted, printed, its slot given back, and its caller (or the
 * load run) goes on. */
static void call_end(struct gkt_run *r, struct gkt_call *c)
{
	bool ok =
	    c->status >= 200 && c->status < 300 && c->bye_status >= 200 && c->bye_status < 300;
	struct gkt_term *x = &r->terms[c->caller];

	gk_timer_cancel(r->loop, &c->timer);
	c->state = CS_DONE;
	C->ended++;
	C->last_us = gkt_now_us();
	if (ok)
		C->st.ok++;
	else
		C->st.failed++;
	if ((!r->o.quiet && !c->load) ||
	    (!ok && C->st.printed_failures++ < FAIL_LINES && (r->o.quiet || c->load)))
		print_call(r, c);
	slot_give(c);
	if (c->load) {
		C->load_ended++;
		C->load_in_flight--;
		if (!r->stopping)
			load_more(r);
	} else if (!r->stopping) {
		x->call_next++;
		gkt_next_step(r, x);
	}
	/* terminals that waited for a slot */
	while (!r->stopping && C->wait_head && (C->free_head || C->fresh_call < C->n_call)) {
		struct gkt_term *w = &r->terms[C->wait_head - 1];
		C->wait_head = w->wait_next;
		if (!C->wait_head)
			C->wait_tail = 0;
		w->wait_next = 0;
		place(r, w);
	}
}

/* Terminal x's next --call call, or its place in the queue for a slot. */
static void place(struct gkt_run *r, struct gkt_term *x)
{
	char uri[GK_SIP_UA_URI_MAX];
	struct gkt_call *c = slot_take();

	x->phase = PH_CALLS;
	if (!c) {
		uint32_t s1 = slot_of(r, x) + 1;
		x->wait_next = 0;
		if (C->wait_tail)
			r->terms[C->wait_tail - 1].wait_next = s1;
		else
			C->wait_head = s1;
		C->wait_tail = s1;
		return;
	}
	c->caller = slot_of(r, x);
	c->target = x->call_next;
	uri_of_aor(r, r->o.call_to[c->target], uri, sizeof(uri));
	call_start(r, c, uri);
}

/* ---- the load run ---------------------------------------------------------------------------- */

static void load_finish(struct gkt_run *r)
{
	C->load_on = false;
	C->load_over = true;
	gk_timer_cancel(r->loop, &C->pacer);
	for (uint32_t i = 0; i < r->n_terms && !r->stopping; i++) {
		struct gkt_term *x = &r->terms[i];
		if (x->phase != PH_LOAD)
			continue;
		x->load_done = true;
		gkt_unpark(r, x);
		gkt_next_step(r, x);
	}
}

static void load_more(struct gkt_run *r)
{
	uint64_t allowed = r->o.calls;

	if (!C->load_on || r->stopping)
		return;
	if (r->o.call_rate)
		allowed = 1 + (gkt_now_us() - C->load_t0_us) * r->o.call_rate / 1000000;
	while (C->load_started < r->o.calls && C->load_started < allowed &&
	       C->load_in_flight < r->o.window) {
		struct gkt_call *c = slot_take();
		if (!c)
			break;
		uint32_t p = C->pairs[C->load_started % C->n_pairs];
		char uri[GK_SIP_UA_URI_MAX];
		c->load = true;
		c->caller = p;
		c->target = p + C->half;
		snprintf(uri, sizeof(uri), "sip:%s@%s", r->terms[c->target].t.idc,
		         r->terms[c->target].t.idsp);
		C->load_started++;
		C->load_in_flight++;
		call_start(r, c, uri);
	}
	if (C->load_started < r->o.calls) {
		if (!gk_timer_armed(&C->pacer))
			gk_timer_arm(r->loop, &C->pacer, 1);
	} else if (C->load_ended == C->load_started) {
		load_finish(r);
	}
}

static void pacer_fn(struct gk_timer *t)
{
	(void)t;
	load_more(C->r);
}

/* The load run starts once no terminal is still registering or on its earlier steps. */
static void load_gate(struct gkt_run *r)
{
	if (!C || !r->o.calls || C->load_on || C->load_over || r->stopping ||
	    C->load_parked + r->finished < r->n_terms)
		return;
	C->half = r->n_terms / 2;
	for (uint32_t p = 0; p < C->half; p++)
		if (r->terms[p].phase == PH_LOAD && r->terms[p + C->half].phase == PH_LOAD)
			C->pairs[C->n_pairs++] = p;
	C->load_on = true;
	C->load_t0_us = gkt_now_us();
	if (!r->o.quiet)
		printf("load pairs=%u calls=%u rate=%u window=%u\n", C->n_pairs, r->o.calls,
		       r->o.call_rate, r->o.window);
	if (!C->n_pairs)
		return load_finish(r);
	load_more(r);
}

void gkt_calls_finished(struct gkt_run *r)
{
	load_gate(r);
}

bool gkt_calls_step(struct gkt_run *r, struct gkt_term *x)
{
	if (!C || r->stopping)
		return false;
	if (x->call_next < r->o.n_call_to) {
		place(r, x);
		return true;
	}
	if (r->o.calls && !x->load_done) {
		x->phase = PH_LOAD;
		C->load_parked++;
		gkt_park(r, x);
		load_gate(r);
		return true;
	}
	if (r->o.answer && !x->answer_done) {
		x->phase = PH_ANSWERING;
		if (!r->o.quiet)
			printf("serving %s\n", x->t.idc);
		gkt_park(r, x);
		if (r->o.answer_s)
			gk_timer_arm(r->loop, &x->timer, (uint64_t)r->o.answer_s * 1000);
		return true;
	}
	return false;
}

/* ---- the callee ------------------------------------------------------------------------------ */

static uint64_t uas_key(const struct gk_sip_view *v)
{
	char in[512];

	if (v->call_id.n + v->from_tag.n + 1 > sizeof(in))
		return gk_siphash64(C->hash_key, v->call_id.p, v->call_id.n);
	memcpy(in, v->call_id.p, v->call_id.n);
	in[v->call_id.n] = '\0';
	memcpy(in + v->call_id.n + 1, v->from_tag.p, v->from_tag.n);
	return gk_siphash64(C->hash_key, in, v->call_id.n + 1 + v->from_tag.n);
}

static struct gkt_uas *uas_find(uint64_t key, uint32_t term)
{
	for (uint32_t i = C->uas_hash[key & C->uas_mask]; i; i = C->uas[i].next_hash)
		if (C->uas[i].key == key && C->uas[i].term == term)
			return &C->uas[i];
	return NULL;
}

static void uas_free(struct gkt_run *r, struct gkt_uas *u)
{
	uint32_t idx = (uint32_t)(u - C->uas);
	uint32_t *pp = &C->uas_hash[u->key & C->uas_mask];

	while (*pp && *pp != idx)
		pp = &C->uas[*pp].next_hash;
	if (*pp)
		*pp = u->next_hash;
	gk_timer_cancel(r->loop, &u->timer);
	u->used = false;
	u->next_free = C->uas_free;
	C->uas_free = idx;
}

static void uas_timer(struct gk_timer *t)
{
	struct gkt_uas *u = uas_of_timer(t);
	struct gkt_run *r = C->r;

	if (gkt_now_us() - u->since_us >= (uint64_t)TIMER_F_MS * 1000) {
		C->st.no_ack++; /* §13.3.1.4 would end the call with a BYE; gkterm forgets it */
		uas_free(r, u);
		return;
	}
	u->tries++;
	C->st.resent_2xx++;
	send_as(r, &r->terms[u->term], u->rsp, u->len, &u->to);
	uint64_t next = (uint64_t)T1_MS << u->tries;
	gk_timer_arm(r->loop, &u->timer, next > T2_MS ? T2_MS : next);
}

static void print_received(struct gkt_run *r, const struct gkt_term *x, const struct gk_sip_view *v)
{
	if (!r->o.answer || r->o.quiet)
		return;
	printf("received %.*s from=%.*s pai=%.*s term=%s\n", (int)v->method.n, v->method.p,
	       (int)v->from.n, v->from.p, v->has_pai ? (int)v->pai.n : 1,
	       v->has_pai ? v->pai.p : "-", x->t.idc);
}

/* An INVITE to x: 180, then the 200 with an SDP answer, repeated until the ACK. */
static void uas_invite(struct gkt_run *r, struct gkt_term *x, const uint8_t *data, size_t plen,
                       const struct gk_sip_view *v, const struct sockaddr_storage *from)
{
	uint64_t key = uas_key(v);
	struct gkt_uas *u = uas_find(key, slot_of(r, x));
	char contact[2 * GK_ID_MAX + 80], sdp[400];
	uint8_t out[GKT_CALL_MSG_MAX];

	if (u) { /* a retransmission: the 200 again */
		C->st.resent_2xx++;
		send_as(r, x, u->rsp, u->len, from);
		return;
	}
	C->st.rx_invite++;
	print_received(r, x, v);
	contact_of(x, contact, sizeof(contact));
	struct gk_sip_ua_reply ring = {.record_route = true, .contact = contact};
	if (!v->to_tag.n) { /* a re-INVITE is answered at once */
		int n = gk_sip_ua_answer(data, plen, v, 180, "Ringing", &ring, out, sizeof(out));
		if (n > 0)
			send_as(r, x, out, (size_t)n, from);
	}
	size_t sn = sdp_of(x, (uint32_t)key, sdp, sizeof(sdp));
	struct gk_sip_ua_reply ok = {.record_route = true,
	                             .contact = contact,
	                             .content_type = "application/sdp",
	                             .body = (const uint8_t *)sdp,
	                             .body_len = sn};
	int n = gk_sip_ua_answer(data, plen, v, 200, "OK", &ok, out, sizeof(out));
	if (n <= 0)
		return;
	send_as(r, x, out, (size_t)n, from);
	uint32_t i = 0;
	if (C->fresh_uas < C->n_uas)
		i = ++C->fresh_uas;
	else if ((i = C->uas_free))
		C->uas_free = C->uas[i].next_free;
	if (!i) {
		C->st.uas_full++; /* answered once, not repeated */
		return;
	}
	u = &C->uas[i];
	u->timer.fn = uas_timer;
	u->used = true;
	u->key = key;
	u->term = slot_of(r, x);
	u->tries = 0;
	u->since_us = gkt_now_us();
	u->to = *from;
	u->len = (uint16_t)n;
	memcpy(u->rsp, out, (size_t)n);
	u->next_hash = C->uas_hash[key & C->uas_mask];
	C->uas_hash[key & C->uas_mask] = i;
	gk_timer_arm(r->loop, &u->timer, T1_MS);
}

/* A request for one of the terminals (data[0..len), plen of it the message; tidx its trailer's
 * index): answered when it verifies for the terminal it names, else dropped and counted. */
static void uas_request(struct gkt_run *r, const uint8_t *data, size_t len, size_t plen,
                        const struct gk_sip_view *v, const struct sockaddr_storage *from,
                        const uint32_t *tidx)
{
	struct gkt_term *x = tidx ? term_of_index(r, *tidx) : NULL;
	uint8_t out[GKT_CALL_MSG_MAX];
	int n;

	if (!x || !verified(x, data, len, tidx)) {
		r->st.bad_downlink++;
		return;
	}
	if (span_is(v->method, "INVITE"))
		return uas_invite(r, x, data, plen, v, from);
	print_received(r, x, v);
	if (span_is(v->method, "ACK")) {
		struct gkt_uas *u = uas_find(uas_key(v), slot_of(r, x));
		C->st.rx_ack++;
		if (u)
			uas_free(r, u);
		return;
	}
	static const char *const ok_methods[] = {"BYE",  "CANCEL", "OPTIONS", "MESSAGE",
	                                         "INFO", "UPDATE", "NOTIFY",  "PRACK"};
	bool known = false;
	for (size_t i = 0; i < sizeof(ok_methods) / sizeof(ok_methods[0]); i++)
		known = known || span_is(v->method, ok_methods[i]);
	if (span_is(v->method, "BYE")) {
		/* its INVITE's 200 needs no more repeating (the ACK may have been lost) */
		struct gkt_uas *u = uas_find(uas_key(v), slot_of(r, x));
		C->st.rx_bye++;
		if (u)
			uas_free(r, u);
	} else {
		C->st.rx_other++;
	}
	struct gk_sip_ua_reply none = {.allow = known ? NULL : ALLOWED};
	n = known ? gk_sip_ua_answer(data, plen, v, 200, "OK", &none, out, sizeof(out))
	          : gk_sip_ua_answer(data, plen, v, 405, "Method Not Allowed", &none, out,
	                             sizeof(out));
	if (n > 0)
		send_as(r, x, out, (size_t)n, from);
}

bool gkt_calls_dgram(struct gkt_run *r, uint8_t *data, size_t len,
                     const struct sockaddr_storage *from, const uint32_t *tidx)
{
	struct gk_sip_view v;
	size_t plen = len;

	if (!C)
		return false;
	if (tidx) {
		if (len < GK_TRAILER_LEN)
			return false;
		plen -= GK_TRAILER_LEN;
	}
	/* Registration answers are the engine's; only a caller looks at responses at all. */
	bool response = plen >= 8 && memcmp(data, "SIP/2.0 ", 8) == 0;
	if (response && !C->n_call)
		return false;
	if (gk_sip_view(data, plen, &v) < 0) {
		if (response)
			return false;
		C->st.stray++; /* a request no terminal here could answer */
		return true;
	}
	if (!v.request) {
		if (!span_is(v.cseq_method, "INVITE") && !span_is(v.cseq_method, "BYE"))
			return false;
		struct gkt_call *c = call_of(r, v.call_id);
		if (!c) {
			C->st.stray++;
			return true;
		}
		if (!verified(&r->terms[c->caller], data, len, tidx)) {
			r->st.bad_downlink++;
			return true;
		}
		call_response(r, c, data, plen, &v);
		return true;
	}
	uas_request(r, data, len, plen, &v, from, tidx);
	return true;
}

/* ---- life ------------------------------------------------------------------------------------ */

int gkt_calls_init(struct gkt_run *r)
{
	if (r->o.codec->proto != GK_PROTO_SIP)
		return 0;
	C = calloc(1, sizeof(*C));
	if (!C)
		return -1;
	C->r = r;
	r->calls = C;
	bool serve = r->o.answer || r->o.calls;
	/* calls at once: the window, but never more than there can be */
	uint64_t most = r->o.calls ? r->o.calls : (uint64_t)r->n_terms * (r->o.n_call_to > 0);
	C->n_call = (uint32_t)(most < r->o.window ? most : r->o.window);
	C->n_uas = serve ? (r->o.window > 256 ? r->o.window : 256) : 64;
	if (C->n_uas > 65536)
		C->n_uas = 65536;
	C->uas_mask = 1;
	while (C->uas_mask < C->n_uas)
		C->uas_mask <<= 1;
	C->uas_mask--;
	C->cap_setup = r->o.calls + r->n_terms * r->o.n_call_to;
	C->call = calloc((size_t)C->n_call + 1, sizeof(*C->call));
	C->uas = calloc((size_t)C->n_uas + 1, sizeof(*C->uas));
	C->uas_hash = calloc((size_t)C->uas_mask + 1, sizeof(*C->uas_hash));
	C->setup_us = calloc((size_t)C->cap_setup + 1, sizeof(*C->setup_us));
	C->pairs = calloc((size_t)r->n_terms / 2 + 1, sizeof(*C->pairs));
	if (!C->call || !C->uas || !C->uas_hash || !C->setup_us || !C->pairs)
		return -1;
	gk_random(C->hash_key, sizeof(C->hash_key));
	C->pacer.fn = pacer_fn;
	for (uint32_t i = 0; i < r->o.sockets; i++) {
		const struct sockaddr_storage *a = &r->local[i];
		gk_format_addr(a, C->local[i], sizeof(C->local[i]));
		C->v6[i] = a->ss_family == AF_INET6;
		inet_ntop(a->ss_family,
		          C->v6[i] ? (const void *)&((const struct sockaddr_in6 *)a)->sin6_addr
		                   : (const void *)&((const struct sockaddr_in *)a)->sin_addr,
		          C->ip[i], sizeof(C->ip[i]));
	}
	return 0;
}

void gkt_calls_stop(struct gkt_run *r)
{
	if (!C)
		return;
	gk_timer_cancel(r->loop, &C->pacer);
	for (uint32_t i = 1; i <= C->fresh_call; i++) {
		struct gkt_call *c = &C->call[i];
		if (c->state != CS_FREE && c->state != CS_DONE)
			call_end(r, c); /* r->stopping: nothing follows */
	}
	for (uint32_t i = 1; i <= C->fresh_uas; i++)
		gk_timer_cancel(r->loop, &C->uas[i].timer);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

void gkt_calls_report(struct gkt_run *r)
{
	if (!C)
		return;
	if (C->started || r->o.n_call_to || r->o.calls) {
		double p50 = 0, p99 = 0, secs = (double)(C->last_us - C->first_us) / 1e6;
		if (C->n_setup) {
			qsort(C->setup_us, C->n_setup, sizeof(*C->setup_us), cmp_u64);
			p50 = (double)C->setup_us[C->n_setup / 2] / 1000.0;
			p99 = (double)C->setup_us[(uint64_t)C->n_setup * 99 / 100] / 1000.0;
		}
		printf("calls attempted=%u ok=%llu failed=%llu setup_p50_ms=%.2f setup_p99_ms=%.2f "
		       "rate=%.1f retransmits=%llu acks_resent=%llu\n",
		       C->started, (unsigned long long)C->st.ok, (unsigned long long)C->st.failed,
		       p50, p99, secs > 0 ? (double)C->st.ok / secs : 0.0,
		       (unsigned long long)C->st.retransmits,
		       (unsigned long long)C->st.acks_resent);
	}
	if (r->o.answer || r->o.calls)
		printf(
		    "answered invite=%llu ack=%llu bye=%llu other=%llu no_ack=%llu resent_2xx=%llu "
		    "full=%llu\n",
		    (unsigned long long)C->st.rx_invite, (unsigned long long)C->st.rx_ack,
		    (unsigned long long)C->st.rx_bye, (unsigned long long)C->st.rx_other,
		    (unsigned long long)C->st.no_ack, (unsigned long long)C->st.resent_2xx,
		    (unsigned long long)C->st.uas_full);
	if (r->o.answer || r->o.calls || r->o.n_call_to)
		printf("downlink_rejected %llu\n", (unsigned long long)r->st.bad_downlink);
}

bool gkt_calls_ok(const struct gkt_run *r)
{
	if (!C)
		return true;
	uint64_t want = r->o.calls + (uint64_t)r->n_terms * r->o.n_call_to;
	return C->st.failed == 0 && C->st.ok == want;
}

void gkt_calls_free(struct gkt_run *r)
{
	if (!C)
		return;
	free(C->call);
	free(C->uas);
	free(C->uas_hash);
	free(C->setup_us);
	free(C->pairs);
	free(C);
	C = NULL;
	r->calls = NULL;
}
