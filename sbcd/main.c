// SPDX-License-Identifier: GPL-2.0-only
/*
 * sbcd: the signalling border controller. Its front faces the terminals (nonces, timestamps,
 * mechanism choice, the success MAC under K, the bindings and their gk-mac checks); the
 * authentication itself is the softswitch's, reached over the core leg (uplink.h). K reaches
 * sbcd only as E_Ksp[K], unwrapped with its own long-term key.
 */
#include <errno.h>
#include <net/if.h>
#include <stddef.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gatekey/codec/codec.h"
#include "gatekey/runtime/control.h"
#include "gatekey/exchange/coreleg.h"
#include "gatekey/runtime/daemon.h"
#include "gatekey/exchange/front_io.h"
#include "gatekey/runtime/log.h"
#include "gatekey/runtime/steps.h"
#include "gatekey/runtime/loop.h"
#include "gatekey/runtime/metrics.h"
#include "gatekey/runtime/notify.h"
#include "gatekey/fastpath/pktmac.h"
#include "gatekey/exchange/bindstore.h"
#include "gatekey/exchange/registrar.h"
#include "gatekey/runtime/resident.h"
#include "gatekey/exchange/relay.h"
#include "gatekey/route/sip_route.h"
#include "gatekey/exchange/uplink.h"
#include "fastpath.h"
#include "settings.h"

#define SBC_MAX_ACCESS (SBC_MAX_LISTEN + 6)
/* Terminals' requests waiting for the softswitch's answer at once. */
#define SBC_RELAY_SLOTS 16384

/* A deregistration told to the core, sent again until the core acknowledges it: lost on the core
 * leg, it would leave the session open at the AuC, its Stop never accounted. The core ends a
 * session once, so a copy that arrives twice ends nothing twice. The table grows in steps up to
 * one entry per terminal the registrar may hold: a mass expiry (every terminal of a pool
 * registered in the same minute) must not push out notifications still waiting for their
 * acknowledgement. */
#define UNBOUND_FIRST 1024
#define UNBOUND_TRIES 6 /* sent at 0, 0.5, 1.5, 3.5, 7.5 and 11.5 s, given up at 15.5 s */
#define UNBOUND_T1_MS 500
#define UNBOUND_T2_MS 4000
/* Notices in flight at once; the rest wait their turn in order. A mass expiry (tens of thousands
 * of bindings in the same second) sent all at once, and again at each retransmission, overflows
 * the core's socket in bursts that repeat until some notices run out of tries: their Stops are
 * lost although the core never went away. A window keeps the bursts within what the core takes. */
#define UNBOUND_WINDOW 256
/* Not a front reference (no registration waits for it): the flag, a use count in bits 32-61 so
 * that a late acknowledgement of an entry's earlier use frees nothing, and the entry's index. */
#define UNBOUND_REF      (1ull << 62)
#define UNBOUND_GEN_MASK ((1ull << 30) - 1)

struct unbound {
	uint64_t ref; /* 0: free */
	uint32_t next_free;
	uint8_t tries;
	char idc[GK_ID_MAX + 1], idsp[GK_ID_MAX + 1], address[GK_TXT_SHORT];
	bool has_rand;
	uint8_t rand[GK_RAND_LEN]; /* names the session that ends (gk_core_unbound) */
	struct gk_timer timer;
	struct sbcd *s;
};

struct sbcd {
	struct gk_daemon_common common;
	struct sbc_settings set;
	struct gk_loop *loop;
	struct gk_registrar *front;
	struct gk_front_io io;
	struct gk_control *ctl;
	struct gk_metrics *metrics;
	struct gk_relay *relay; /* terminals' requests forwarded to the softswitch */
	struct gk_sip_router
	    *router; /* calls: terminals to the softswitch and back (sip_route.h) */
	const struct gk_codec *sip;
	/* every terminal-facing socket: SIP, then MGCP, then H.248, then RAS */
	int access_fd[SBC_MAX_ACCESS];
	unsigned n_access;
	uint16_t access_port[SBC_MAX_ACCESS];
	int verified_fd[SBC_MAX_ACCESS]; /* datagrams XDP verified and stripped; -1 = none */
	struct sbc_fastpath fp;
	struct gk_front_ipsec ipsec;      /* ipsec-3gpp's protected ports and SAs, when on */
	struct gk_linkwatch *access_link; /* fastpath.interface through its changes */
	struct gk_timer admission;        /* sbc_fp_admission_tick every GK_ADMISSION_TICK_MS */
	uint32_t max_pending; /* registrar.max_pending: registrations in progress at most */
	int core_fd;
	struct sockaddr_storage core_local;
	struct gk_coreleg core;  /* the core leg's trailer both ways (coreleg.h) */
	struct gk_steps unbound; /* struct unbound, entry 0 unused */
	uint32_t unbound_free;   /* first free entry, 0: none resident */
	uint32_t unbound_gen;
	uint32_t
	    unbound_waiting; /* entries in use: deregistrations the core has not acknowledged */
	uint32_t unbound_in_flight;                /* of those, sent (at most UNBOUND_WINDOW) */
	uint32_t unbound_queue, unbound_queue_end; /* the others, first to last; 0: none */
	struct {
		uint64_t rx_access, rx_verified, rx_protected, rx_core, parse_errors, core_stray,
		    core_send_failed;
		uint64_t passed, fastpath_dropped, verified_unbound, relayed, relay_refused;
		uint64_t core_overload; /* the core's overload refusals, passed on as such */
		uint64_t unbound_resent, unbound_given_up;         /* deregistrations to the core */
		uint64_t verified_rebound, verified_rebind_failed; /* access_link_event */
	} st;
};

static void send_terminal(void *user, const struct gk_msg *m, const struct sockaddr_storage *to,
                          struct gk_binding *b)
{
	gk_front_io_send(&((struct sbcd *)user)->io, m, to, b);
}

/* Seals the n bytes encoded in buf (a loop send buffer) under the core leg's trailer and sends
 * them to the softswitch; a failure (n <= 0, or no room for the trailer) gives the buffer back
 * and is counted. */
static bool core_seal_send(struct sbcd *s, uint8_t *buf, int n)
{
	if (n > 0)
		n = gk_coreleg_seal(&s->core, gk_coreleg_now(), buf, (size_t)n, GK_LOOP_DGRAM_MAX);
	if (n <= 0) {
		s->st.core_send_failed++;
		gk_loop_send_abort(s->loop, buf);
		return false;
	}
	gk_loop_send(s->loop, s->core_fd, buf, (size_t)n, &s->set.softswitch);
	return true;
}

/* "<ref as 16 hex digits>@<our id>" (at most 78 bytes), without printf: one per request on the
 * core leg. */
static void core_dialog_id(const struct sbcd *s, uint64_t ref, char *out)
{
	gk_hex_encode_u64(ref, out);
	out[16] = '@';
	gk_copy_text(out + 17, 61, s->set.id);
}

/* A request on the core leg; its reference comes back in the response's transaction id. The
 * Call-ID names what stays the same across the requests it belongs to (attempt: the front's
 * gk_registrar_ref_attempt), by which the core tells copies of an attempt from a new one. */
static void send_core(struct sbcd *s, struct gk_msg *m, uint64_t ref, uint64_t attempt)
{
	char dialog[96];
	struct gk_request_ctx c = {
	    .idc = m->idc,
	    .idsp = m->idsp,
	    .local = &s->core_local,
	    .dialog_id = dialog,
	    .local_tag = s->set.id,
	    .seq = 1,
	    .unique = ref,
	};
	uint8_t *buf = gk_loop_send_buf(s->loop);

	if (!buf) {
		s->st.core_send_failed++;
		return;
	}
	core_dialog_id(s, attempt, dialog);
	m->proto = GK_PROTO_SIP;
	s->sip->request_init(m, &c);
	core_seal_send(s, buf, s->sip->encode(m, buf, GK_LOOP_DGRAM_MAX - GK_TRAILER_LEN));
}

static void core_register(void *user, uint64_t ref, const char *idc, const char *idsp,
                          const char *address, bool sealed)
{
	struct gk_msg m;
	gk_uplink_request(&m, GK_MSG_REGISTER, idc, idsp, NULL, NULL, address);
	if (sealed)
		m.fields |= GK_F_SEALED;
	send_core(user, &m, ref, gk_registrar_ref_attempt(ref));
}

static void core_answer(void *user, uint64_t ref, const char *idc, const char *idsp,
                        const uint8_t rand[GK_RAND_LEN], const uint8_t auth[GK_AUTH_LEN],
                        const char *address, bool sealed)
{
	struct gk_msg m;
	gk_uplink_request(&m, GK_MSG_ANSWER, idc, idsp, rand, auth, address);
	if (sealed)
		m.fields |= GK_F_SEALED;
	send_core(user, &m, ref, gk_registrar_ref_attempt(ref));
}

static void core_digest(void *user, uint64_t ref, const char *idc, const char *idsp,
                        const struct gk_digest *cred, const char *address)
{
	struct gk_msg m;
	gk_uplink_digest_request(&m, idc, idsp, cred, address);
	send_core(user, &m, ref, gk_registrar_ref_attempt(ref));
}

static void unbound_send(struct unbound *u)
{
	struct gk_msg m;

	gk_uplink_request(&m, GK_MSG_DEREGISTER, u->idc, u->idsp, u->has_rand ? u->rand : NULL,
	                  NULL, u->address);
	send_core(u->s, &m, u->ref, u->ref);
	uint64_t wait = (uint64_t)UNBOUND_T1_MS << u->tries;
	u->tries++;
	gk_timer_arm(u->s->loop, &u->timer, wait > UNBOUND_T2_MS ? UNBOUND_T2_MS : wait);
}

/* An entry the core acknowledged or that ran out of tries goes back; its place in the window goes
 * to the longest waiting. */
static void unbound_release(struct sbcd *s, struct unbound *u)
{
	uint32_t i = (uint32_t)u->ref;

	u->ref = 0;
	u->next_free = s->unbound_free;
	s->unbound_free = i;
	s->unbound_waiting--;
	s->unbound_in_flight--;
	while (s->unbound_queue && s->unbound_in_flight < UNBOUND_WINDOW) {
		struct unbound *next = gk_steps_at(&s->unbound, s->unbound_queue);
		s->unbound_queue = next->next_free;
		if (!s->unbound_queue)
			s->unbound_queue_end = 0;
		s->unbound_in_flight++;
		unbound_send(next);
	}
}

static void unbound_timer(struct gk_timer *t)
{
	struct unbound *u = (struct unbound *)((char *)t - offsetof(struct unbound, timer));

	if (u->tries >= UNBOUND_TRIES) {
		u->s->st.unbound_given_up++;
		unbound_release(u->s, u);
		return;
	}
	u->s->st.unbound_resent++;
	unbound_send(u);
}

/* Entries [first, cap) join the free list, lowest first out. */
static void unbound_link(struct sbcd *s, uint32_t first)
{
	for (uint32_t i = s->unbound.cap - 1; i >= first; i--) {
		struct unbound *n = gk_steps_at(&s->unbound, i);
		n->next_free = s->unbound_free;
		s->unbound_free = i;
	}
}

/* A free entry, the table grown a step when none is left; NULL at its maximum. */
static struct unbound *unbound_take(struct sbcd *s)
{
	if (!s->unbound_free) {
		uint32_t first = gk_steps_grow(&s->unbound);
		if (!first)
			return NULL;
		unbound_link(s, first);
	}
	uint32_t i = s->unbound_free;
	struct unbound *u = gk_steps_at(&s->unbound, i);
	s->unbound_free = u->next_free;
	s->unbound_gen = (s->unbound_gen + 1) & UNBOUND_GEN_MASK;
	u->ref = UNBOUND_REF | (uint64_t)s->unbound_gen << 32 | i;
	s->unbound_waiting++;
	gk_steps_need(&s->unbound, s->unbound_waiting + 1); /* and entry 0 */
	return u;
}

static void core_unbound(void *user, const char *idc, const char *idsp, const char *address,
                         const uint8_t *rand)
{
	struct sbcd *s = user;
	struct unbound *u = unbound_take(s);

	if (!u) { /* as many waiting as terminals may be held: told once, not followed */
		struct gk_msg m;
		s->st.unbound_given_up++;
		s->unbound_gen = (s->unbound_gen + 1) & UNBOUND_GEN_MASK;
		gk_uplink_request(&m, GK_MSG_DEREGISTER, idc, idsp, rand, NULL, address);
		uint64_t ref = UNBOUND_REF | (uint64_t)s->unbound_gen << 32; /* entry 0: none */
		send_core(s, &m, ref, ref);
		return;
	}
	u->tries = 0;
	u->s = s;
	u->timer.fn = unbound_timer;
	snprintf(u->idc, sizeof(u->idc), "%s", idc);
	snprintf(u->idsp, sizeof(u->idsp), "%s", idsp);
	snprintf(u->address, sizeof(u->address), "%s", address ? address : "-");
	u->has_rand = rand != NULL;
	if (rand)
		memcpy(u->rand, rand, GK_RAND_LEN);
	if (s->unbound_in_flight < UNBOUND_WINDOW) {
		s->unbound_in_flight++;
		unbound_send(u);
		return;
	}
	u->next_free = 0; /* at the end of the queue */
	if (s->unbound_queue_end)
		((struct unbound *)gk_steps_at(&s->unbound, s->unbound_queue_end))->next_free =
		    (uint32_t)u->ref;
	else
		s->unbound_queue = (uint32_t)u->ref;
	s->unbound_queue_end = (uint32_t)u->ref;
}

/* The core's acknowledgement of a deregistration: nothing more to send for it. */
static void unbound_acked(struct sbcd *s, uint64_t ref)
{
	uint32_t i = (uint32_t)ref;

	if (!(ref & UNBOUND_REF) || !i || i >= s->unbound.cap)
		return;
	struct unbound *u = gk_steps_at(&s->unbound, i);
	if (u->ref == ref) {
		gk_timer_cancel(s->loop, &u->timer);
		unbound_release(s, u);
	}
}

/* The SIP method of the core-leg request for a terminal's OTHER: its own when it is a SIP token
 * (SIP's, or e.g. MGCP's "AUEP"), else OPTIONS. */
static const char *core_method(const struct sbcd *s, const struct gk_msg *m)
{
	const struct gk_codec *c = gk_codec_get((enum gk_proto)m->proto);
	const char *method = c && c->request_method ? c->request_method(m) : NULL;
	(void)s;
	if (!method || !*method || strlen(method) > 32)
		return "OPTIONS";
	for (const char *p = method; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || strchr("-.!%*_+`'~", *p)))
			return "OPTIONS";
	return method;
}

/* A verified request of a registered terminal goes on to the softswitch, trailer stripped; the
 * front answers it (under the downlink trailer) once the softswitch has. It goes under the
 * identity of the binding whose key verified it (or whose address pinned it): one that names
 * another subscriber is dropped and counted (IDENTITY_MISMATCH), as the softswitch would act on
 * it as that subscriber (gk_registrar_speaks_for). */
static void relay_request(struct sbcd *s, const struct gk_msg *m,
                          const struct sockaddr_storage *from, uint32_t index)
{
	char idc[GK_ID_MAX + 1];
	enum gk_reason why = gk_registrar_speaks_for(s->front, index, from, m->idc, idc);

	if (why != GK_R_OK) {
		gk_registrar_count(s->front, why);
		if (gk_log_level >= GK_LOG_DEBUG) {
			char a[GK_TXT_SHORT];
			gk_format_addr(from, a, sizeof(a));
			gk_debug("dropped a request from %s (index %u) naming \"%s\": %s", a, index,
			         m->idc, gk_reason_str(why));
		}
		return;
	}
	uint64_t ref;
	struct gk_msg fwd;
	struct gk_relay_txn *t = gk_relay_alloc(s->relay, &ref);

	if (!t) {
		/* relay_full: shed at once, and said to the terminal as its protocol's overload
		 * refusal (counted: reason.OVERLOAD, rejects_overload), under its trailer */
		struct gk_msg resp;
		gk_uplink_verdict(&resp, m, GK_MSG_REJECT, NULL, NULL, NULL);
		resp.reason = GK_R_OVERLOAD;
		resp.retry_after = gk_registrar_shed(s->front);
		gk_front_io_send(&s->io, &resp, from,
		                 index ? gk_registrar_gkmac_binding(s->front, index, from) : NULL);
		return;
	}
	gk_msg_copy(&t->req, m);
	t->from = *from;
	t->index = index;
	gk_uplink_request(&fwd, GK_MSG_OTHER, idc, s->set.id, NULL, NULL, NULL);
	fwd.proto = GK_PROTO_SIP;
	char dialog[96];
	struct gk_request_ctx c = {
	    .idc = idc,
	    .idsp = s->set.id,
	    .local = &s->core_local,
	    .dialog_id = dialog,
	    .local_tag = s->set.id,
	    .seq = 1,
	    .unique = ref,
	    .method = core_method(s, m),
	};
	core_dialog_id(s, ref, dialog);
	s->sip->request_init(&fwd, &c);
	uint8_t *buf = gk_loop_send_buf(s->loop);
	if (!buf || !core_seal_send(
	                s, buf, s->sip->encode(&fwd, buf, GK_LOOP_DGRAM_MAX - GK_TRAILER_LEN))) {
		if (!buf)
			s->st.core_send_failed++;
		gk_relay_release(s->relay, t);
		return;
	}
	s->st.relayed++;
}

static void relay_answer(struct sbcd *s, uint64_t ref)
{
	struct gk_relay_txn *t = gk_relay_take(s->relay, ref);
	if (!t)
		return; /* stale: answered already, or expired (relay_expired) */
	/* The front answers from the terminal's own request, if its binding still stands. */
	gk_registrar_on_message(s->front, &t->req, &t->from, t->index);
	gk_relay_release(s->relay, t);
}

/* The softswitch refused a relayed request: the terminal hears "forbidden", or the overload
 * refusal with the core's Retry-After (under its downlink trailer when it is a gk-mac
 * terminal), and the slot is free at once rather than at expiry. */
static void relay_refused(struct sbcd *s, uint64_t ref, enum gk_reason why, uint32_t retry_after)
{
	struct gk_relay_txn *t = gk_relay_take(s->relay, ref);
	struct gk_msg resp;

	if (!t)
		return;
	s->st.relay_refused++;
	gk_uplink_verdict(&resp, &t->req, GK_MSG_REJECT, NULL, NULL, NULL);
	resp.reason = (uint16_t)why;
	resp.retry_after = retry_after;
	gk_front_io_send(&s->io, &resp, &t->from,
	                 t->index ? gk_registrar_gkmac_binding(s->front, t->index, &t->from)
	                          : NULL);
	gk_relay_release(s->relay, t);
}

static void on_core(void *user, int fd, uint8_t *data, size_t len,
                    const struct sockaddr_storage *from)
{
	struct sbcd *s = user;
	struct gk_msg m;
	enum gk_reason why;
	(void)fd;

	s->st.rx_core++;
	if (!gk_sockaddr_equal(from, &s->set.softswitch)) {
		s->st.core_stray++;
		return;
	}
	/* The address alone can be spoofed on the core network: only a datagram sealed under the
	 * leg's downlink key, of the softswitch's current epoch and not seen before, is a verdict.
	 * Counted in s->core.st under its reason (stats: core_auth_dropped, core_auth.*). */
	long plen = gk_coreleg_open(&s->core, gk_coreleg_now(), data, len, &why);
	if (plen < 0) {
		gk_debug("core leg: dropped a datagram: %s", gk_reason_str(why));
		return;
	}
	/* a call's request for one of our terminals, or the response to one of theirs */
	if (gk_sip_router_input(s->router, NULL, data, (size_t)plen, from, GK_SIP_CORE_LEG))
		return;
	if (s->sip->decode(data, (size_t)plen, &m, &why) < 0) {
		s->st.core_stray++;
		gk_front_io_count_limit(&s->io, &m, why);
		return;
	}
	uint64_t ref = s->sip->transaction_ref(&m);
	switch (m.type) {
	case GK_MSG_CHALLENGE:
		if (m.fields & GK_F_RAND)
			gk_registrar_core_challenge(s->front, ref, m.rand);
		else if (m.fields & GK_F_DIGEST_CHAL)
			gk_registrar_core_digest_challenge(s->front, ref, &m.digest);
		else
			s->st.core_stray++;
		break;
	case GK_MSG_SUCCESS:
		if ((m.fields & GK_F_CHOSEN) && m.chosen == GK_MECH_DIGEST &&
		    !(m.fields & (GK_F_BLOB | GK_F_BLOB_ELEM | GK_F_MAC)))
			gk_registrar_core_digest_success(s->front, ref);
		else if ((m.fields & (GK_F_RAND | GK_F_BLOB | GK_F_BLOB_ELEM)) ==
		         (GK_F_RAND | GK_F_BLOB | GK_F_BLOB_ELEM))
			gk_registrar_core_success(s->front, ref, m.rand, m.blob, m.blob_element);
		else
			s->st.core_stray++;
		break;
	case GK_MSG_REJECT: {
		/* "forbidden", or overloaded: the terminal hears the same as from the core itself
		 * (503 + Retry-After, 409, 510, resourceUnavailable), not a 403 */
		uint32_t retry_after;
		enum gk_reason why = gk_uplink_refusal(&m, &retry_after);

		s->st.core_overload += why == GK_R_OVERLOAD;
		if (ref & GK_REF_PEER)
			relay_refused(s, ref, why, retry_after);
		else
			gk_registrar_core_reject(s->front, ref, why, retry_after);
		break;
	}
	case GK_MSG_DEREG_OK:
		unbound_acked(s, ref);
		break;
	case GK_MSG_OTHER_OK:
		if (ref & GK_REF_PEER)
			relay_answer(s, ref);
		else
			s->st.core_stray++;
		break;
	default:
		s->st.core_stray++;
		break;
	}
}

/* ---- routing: the SBC is a proxy between its terminals and the softswitch ------------------ */

/* A terminal speaks as its binding; the softswitch, authenticated by the core leg's trailer,
 * asserts who calls. */
static enum gk_reason route_sender(void *user, const struct gk_sip_view *v,
                                   const struct sockaddr_storage *from, uint32_t index,
                                   char idc[GK_ID_MAX + 1])
{
	struct sbcd *s = user;

	if (index != GK_SIP_CORE_LEG)
		return gk_sip_router_terminal_sender(s->router, from, index, idc);
	return v ? gk_sip_router_asserted(v, idc) : GK_R_OK;
}

/* From a terminal, every request goes to the softswitch, which locates the callee; from the
 * softswitch, to this SBC's binding of the callee. */
static int route_locate(void *user, const char *idc, uint32_t in, struct gk_sip_hop *hop)
{
	struct sbcd *s = user;

	if (in == GK_SIP_CORE_LEG)
		return gk_sip_router_terminal_locate(s->router, idc, hop);
	hop->addr = s->set.softswitch;
	hop->seal = GK_SIP_CORE_LEG;
	return 0;
}

static int route_self(void *user, const struct gk_sip_hop *hop, char *out, size_t cap)
{
	struct sbcd *s = user;

	if (hop->seal != GK_SIP_CORE_LEG)
		return gk_sip_router_terminal_self(s->router, &hop->addr, out, cap);
	gk_format_addr(&s->core_local, out, cap);
	return 0;
}

/* Which domains are served is the softswitch's decision (it answers 403 for the others). */
static bool route_serves(void *user, struct sip_span host)
{
	(void)user;
	(void)host;
	return true;
}

static void route_xmit(void *user, const struct sockaddr_storage *to, const uint8_t *data,
                       size_t len, uint32_t seal)
{
	struct sbcd *s = user;

	if (seal != GK_SIP_CORE_LEG) {
		gk_front_io_xmit(&s->io, GK_PROTO_SIP, to, data, len, seal);
		return;
	}
	uint8_t *buf = gk_loop_send_buf(s->loop);
	if (!buf) {
		s->st.core_send_failed++;
		return;
	}
	bool fits = len <= GK_LOOP_DGRAM_MAX - GK_TRAILER_LEN;
	if (fits)
		memcpy(buf, data, len);
	core_seal_send(s, buf, fits ? (int)len : -1);
}

/* A datagram the fast path let through; index: the gk-mac terminal it was verified for. */
static void from_terminal(struct sbcd *s, struct gk_front_sock *sock, uint8_t *data, size_t len,
                          const struct sockaddr_storage *from, uint32_t index)
{
	struct gk_msg m;
	enum gk_reason why;

	if (!sock)
		return;
	/* a call's request or response, routed on to the softswitch (not a deregistered
	 * terminal's: gk_front_io_input drops them) */
	if (!gk_registrar_lingering(s->front, index) &&
	    gk_sip_router_input(s->router, sock, data, len, from, index))
		return;
	if (sock->codec->decode(data, len, &m, &why) < 0) {
		s->st.parse_errors++;
		gk_registrar_count(s->front, why);
		gk_front_io_refuse(sock, data, len, &m, why, from, index);
		return;
	}
	if (index) {
		s->st.passed++;
		gk_registrar_count_rx(s->front, index);
	}
	if (gk_front_io_input(sock, &m, from, index) != 1)
		return; /* the transaction layer answered or absorbed it */
	switch (m.type) {
	case GK_MSG_OTHER:
		/* Probes go to the softswitch, which answers them; what nobody here serves yet
		 * (calls, messages, connection handling) the registrar refuses, or drops an ACK;
		 * requests that passed no check are counted and dropped there too. */
		if ((index || gk_registrar_other_allowed(s->front, from)) &&
		    gk_codec_other_kind(&m) == GK_OTHER_PROBE)
			relay_request(s, &m, from, index);
		else
			gk_registrar_on_message(s->front, &m, from, index);
		break;
	case GK_MSG_REGISTER:
	case GK_MSG_ANSWER:
	case GK_MSG_DEREGISTER:
		gk_registrar_on_message(s->front, &m, from, index);
		break;
	default:
		gk_registrar_count(s->front, GK_R_PARSE_UNSUPPORTED);
		break;
	}
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint16_t local_port(const struct sbcd *s, int fd)
{
	for (unsigned i = 0; i < s->n_access; i++)
		if (s->access_fd[i] == fd)
			return s->access_port[i];
	return 0;
}

/* The terminal-facing port: with XDP attached the kernel has decided already; otherwise the
 * same decision runs here (fastpath.h), trailer check and unknown-source policy included. */
static void on_access(void *user, int fd, uint8_t *data, size_t len,
                      const struct sockaddr_storage *from)
{
	struct sbcd *s = user;
	enum gk_fp_stat stat = GK_FP_PASS_OTHER_TRAFFIC;
	uint32_t index;

	s->st.rx_access++;
	long n = sbc_fp_check(&s->fp, local_port(s, fd), from, data, len, mono_ns(), &index, &stat);
	if (n < 0) {
		enum gk_reason why = gk_fp_stat_reason(stat);
		s->st.fastpath_dropped++;
		if (why != GK_R_OK && why < GK_R__COUNT)
			gk_registrar_count(s->front, why);
		return;
	}
	uint32_t named;
	uint64_t seq;
	if (!index && gk_pkt_peek(data, (size_t)n, &named, &seq) == 0) {
		/* Only a registration-class message passes with a trailer that was not verified: a
		 * terminal registers without one, so this one names no terminal we hold (as
		 * softswitchd counts it in gk_registrar_open), rather than being a message we
		 * cannot parse. */
		s->st.fastpath_dropped++;
		gk_registrar_count(s->front, GK_R_UNKNOWN_INDEX);
		return;
	}
	from_terminal(s, gk_front_io_sock(&s->io, fd), data, (size_t)n, from, index);
}

/* The verified port: only XDP delivers here (nothing from outside reaches it, see
 * open_verified), after checking the trailer; the datagram ends in the verified tail that names
 * the terminal (trailer.h), which must still be registered from `from`. */
static void on_verified(void *user, int fd, uint8_t *data, size_t len,
                        const struct sockaddr_storage *from)
{
	struct sbcd *s = user;
	uint32_t index;
	int access = -1;

	for (unsigned i = 0; i < s->n_access; i++)
		if (s->verified_fd[i] == fd)
			access = s->access_fd[i];
	s->st.rx_verified++;
	if (len < GK_VERIFIED_TAIL_LEN || gk_pkt_peek_tail(data, len, &index) < 0) {
		s->st.verified_unbound++;
		gk_registrar_count(s->front, GK_R_BAD_TRAILER);
		return;
	}
	if (!gk_registrar_gkmac_sealer(s->front, index, from)) {
		/* Deregistered between the kernel's check and this read (a deregistered binding
		 * that lingers passes: the registrar answers its deregistration's repeat and
		 * serves nothing else). */
		s->st.verified_unbound++;
		gk_registrar_count(s->front, GK_R_NOT_REGISTERED);
		return;
	}
	from_terminal(s, gk_front_io_sock(&s->io, access), data, len - GK_VERIFIED_TAIL_LEN, from,
	              index);
}

/* A protected port of ipsec-3gpp: XDP passed the ESP untouched and the kernel's inbound policy
 * let the datagram in under the SAs of the binding whose flow it came on, which names it. */
static void on_protected(void *user, int fd, uint8_t *data, size_t len,
                         const struct sockaddr_storage *from)
{
	struct sbcd *s = user;
	struct gk_front_sock *sock = gk_front_io_sock(&s->io, fd);
	uint32_t index;

	s->st.rx_protected++;
	if (sock && (index = gk_front_ipsec_input(&s->ipsec, sock, from)) != 0)
		from_terminal(s, sock, data, len, from, index);
}

/* The verified socket of a terminal-facing address: bound to the access interface, so that
 * only datagrams that came in through it, and hence through XDP, which drops anything sent to
 * this port from outside, can arrive. */
static int open_verified(struct sbcd *s, const struct sockaddr_storage *listen, uint16_t vport)
{
	struct sockaddr_storage a = *listen;
	const char *ifname = s->fp.set.interface;

	gk_sockaddr_set_port(&a, vport);
	int fd = gk_udp_socket(&a);
	if (fd < 0)
		return fd;
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname)) < 0 ||
	    gk_loop_add_udp(s->loop, fd, on_verified, s) < 0) {
		int e = -errno;
		close(fd);
		return e ? e : -EIO;
	}
	return fd;
}

/* The access interface is usable again, perhaps under a new index: the verified sockets were
 * bound to the old one (SO_BINDTODEVICE keeps an index, not a name), so each is bound to it
 * afresh. The sockets of the signalling ports are bound to addresses, which the kernel matches
 * again as soon as they are configured again. */
static void access_link_event(void *user, enum gk_link_event ev, int ifindex)
{
	struct sbcd *s = user;
	const char *ifname = s->fp.set.interface;

	if (!sbc_fp_link_event(&s->fp, ev, ifindex))
		return;
	for (unsigned i = 0; i < s->n_access; i++) {
		if (s->verified_fd[i] < 0)
			continue;
		if (setsockopt(s->verified_fd[i], SOL_SOCKET, SO_BINDTODEVICE, ifname,
		               (socklen_t)strlen(ifname)) < 0) {
			s->st.verified_rebind_failed++;
			gk_err("verified port of %u: binding to %s again: %s", s->access_port[i],
			       ifname, strerror(errno));
		} else {
			s->st.verified_rebound++;
		}
	}
}

static void access_link_readable(void *user, int fd)
{
	(void)fd;
	gk_linkwatch_read(((struct sbcd *)user)->access_link);
}

/* Follows fastpath.interface (none configured: nothing to follow). */
static int watch_access_link(struct sbcd *s)
{
	char err[160];
	int ifindex;
	bool up;

	if (!s->fp.set.interface[0])
		return 0;
	if (gk_linkwatch_open(&s->access_link, s->fp.set.interface, access_link_event, s, &ifindex,
	                      &up, err, sizeof(err)) < 0 ||
	    gk_loop_on_readable(s->loop, gk_linkwatch_fd(s->access_link), access_link_readable, s) <
	        0) {
		gk_err("following %s: %s", s->fp.set.interface, err);
		return -1;
	}
	gk_info("following access interface %s (index %d, %s) through rtnetlink",
	        s->fp.set.interface, ifindex, up ? "up" : "not up");
	return 0;
}

static void binding_up(void *user, struct gk_binding *b)
{
	sbc_fp_binding_up(&((struct sbcd *)user)->fp, b);
}

static void binding_down(void *user, struct gk_binding *b)
{
	sbc_fp_binding_down(&((struct sbcd *)user)->fp, b);
	gk_front_ipsec_down(&((struct sbcd *)user)->ipsec, b);
}

static int ipsec_up(void *user, const struct gk_binding *b, const struct sockaddr_storage *from,
                    const struct gk_ipsec_end *term, const struct gk_ipsec_end *net,
                    const uint8_t k[GK_KEY_LEN], uint32_t expires_s)
{
	return gk_front_ipsec_up(&((struct sbcd *)user)->ipsec, b, from, term, net, k, expires_s);
}

static int ipsec_adopt(void *user, const struct gk_binding *b)
{
	return gk_front_ipsec_adopt(&((struct sbcd *)user)->ipsec, b);
}

static void binding_lingers(void *user, struct gk_binding *b)
{
	sbc_fp_binding_lingers(&((struct sbcd *)user)->fp, b);
}

/* The admission's tick: the deepest of the queues a registration waits in at sbcd (an access
 * socket's receive queue, the registrations in progress, the requests relayed to the
 * softswitch) decides how many strangers' registrations the fast path sheds. */
static void admission_tick(struct gk_timer *t)
{
	struct sbcd *s = (struct sbcd *)(void *)((char *)t - offsetof(struct sbcd, admission));
	uint32_t records, in_progress, depth;

	gk_registrar_gauges(s->front, &records, &in_progress);
	depth = gk_admission_depth(in_progress, s->max_pending);
	uint32_t relay = gk_admission_depth(gk_relay_stats(s->relay)->waiting, SBC_RELAY_SLOTS);
	if (relay > depth)
		depth = relay;
	for (unsigned i = 0; i < s->n_access; i++) {
		uint32_t d = gk_udp_rx_depth(s->access_fd[i]);
		if (d > depth)
			depth = d;
	}
	sbc_fp_admission_tick(&s->fp, depth);
	gk_timer_arm(s->loop, t, GK_ADMISSION_TICK_MS);
}

static void ctl_stats(void *user, const char *args, struct gk_ctl_reply *out)
{
	struct sbcd *s = user;
	const struct gk_registrar_stats *r = gk_registrar_stats(s->front);
	const struct gk_relay_stats *rs = gk_relay_stats(s->relay);
	(void)args;

#define P(name, v) gk_ctl_printf(out, "%s %llu", name, (unsigned long long)(v))
	P("rx_access", s->st.rx_access);
	P("rx_core", s->st.rx_core);
	P("parse_errors", s->st.parse_errors);
	P("rx_verified", s->st.rx_verified);
	P("rx_protected", s->st.rx_protected);
	P("protected_passed", s->st.passed);
	P("fastpath_dropped", s->st.fastpath_dropped);
	P("verified_unbound", s->st.verified_unbound);
	P("core_stray", s->st.core_stray);
	P("core_send_failed", s->st.core_send_failed);
	P("core_auth_ok", s->core.st.ok);
	P("core_auth_dropped", s->core.st.dropped);
	P("relayed_to_core", s->st.relayed);
	P("relay_full", rs->full);
	P("relay_waiting", rs->waiting);
	P("relay_expired", rs->expired);
	P("relay_refused", s->st.relay_refused);
	P("core_overload", s->st.core_overload);
	P("unbound_resent", s->st.unbound_resent);
	P("unbound_given_up", s->st.unbound_given_up);
	P("unbound_waiting", s->unbound_waiting);
	P("unbound_in_flight", s->unbound_in_flight);
	P("access_link.verified_rebound", s->st.verified_rebound);
	P("access_link.verified_rebind_failed", s->st.verified_rebind_failed);
#undef P
	for (int i = 1; i < GK_R__COUNT; i++)
		if (s->core.st.why.n[i])
			gk_ctl_printf(out, "core_auth.%s %llu", gk_reason_name((enum gk_reason)i),
			              (unsigned long long)s->core.st.why.n[i]);
	gk_front_io_ctl_stats(&s->io, out);
	gk_sip_router_ctl_stats(s->router, out);
	sbc_fp_ctl_stats(&s->fp, out);
	gk_front_ipsec_ctl_stats(&s->ipsec, out);
	for (int i = 1; i < GK_R__COUNT; i++)
		if (r->reasons.n[i])
			gk_ctl_printf(out, "reason.%s %llu", gk_reason_name((enum gk_reason)i),
			              (unsigned long long)r->reasons.n[i]);
	gk_ctl_tables(out);
}

/* /metrics: the stats lines (the fast path's per-decision counters among them, XDP's summed over
 * the CPUs), then what only metrics show (metrics.h). */
static void metrics_fill(void *user, struct gk_metrics_page *pg)
{
	struct sbcd *s = user;

	gk_metrics_stats(pg, ctl_stats, s);
	gk_front_io_metrics(&s->io, pg);
}

int main(int argc, char **argv)
{
	static struct sbcd s;
	char err[1024];
	struct gk_cfg_key keys[96] = {{0}};

	sbc_settings_keys(&s.set, keys, sizeof(keys) / sizeof(keys[0]) - 5);
	gk_daemon_common_keys(keys, sizeof(keys) / sizeof(keys[0]), &s.common, "sbcd");
	gk_daemon_parse_args(
	    argc, argv, keys, "sbcd",
	    "gatekey SBC: registration relay, key hand-off and gk-mac enforcement");
	if (gk_daemon_log_setup(&s.common, "sbcd") < 0)
		return 2;
	struct gk_registrar_cfg rc;
	if (sbc_settings_finish(&s.set, &rc, err, sizeof(err)) < 0) {
		fprintf(stderr, "sbcd: %s\n", err);
		return 2;
	}
	if (gk_crypto_init() < 0) {
		gk_err("OpenSSL algorithms unavailable");
		return 1;
	}
	int cret = gk_coreleg_init(&s.core, s.set.core_key, true);
	gk_wipe(s.set.core_key, sizeof(s.set.core_key));
	if (cret < 0) {
		gk_err("core-leg key: %s", strerror(-cret));
		return 1;
	}
	/* A second no earlier run of this SBC can have used: the softswitch takes it as newer. */
	gk_coreleg_start(&s.core, gk_coreleg_fresh_epoch());
	s.sip = gk_codec_get(GK_PROTO_SIP);
	s.loop = gk_loop_new(&(struct gk_loop_params){.resident = true}, err, sizeof(err));
	if (!s.loop) {
		gk_err("%s", err);
		return 1;
	}
	s.io.loop = s.loop;
	int others;
	if (gk_front_io_listen(&s.io, s.sip, s.set.listen, s.set.n_listen, on_access, &s,
	                       s.access_fd) < 0 ||
	    (others = gk_front_io_listen_bindings(&s.io, &s.set.bindings, on_access, &s,
	                                          s.access_fd + s.set.n_listen)) < 0)
		return 1;
	s.n_access = s.set.n_listen + (unsigned)others;
	s.core_fd = gk_udp_socket(&s.set.core_bind);
	socklen_t sl = sizeof(s.core_local);
	if (s.core_fd < 0 || getsockname(s.core_fd, (struct sockaddr *)&s.core_local, &sl) < 0) {
		gk_err("core side socket: %s", strerror(s.core_fd < 0 ? -s.core_fd : errno));
		return 1;
	}
	/* With a wildcard bind, Via needs the address the route to the softswitch uses. */
	if (connect(s.core_fd, (struct sockaddr *)&s.set.softswitch,
	            gk_sockaddr_len(&s.set.softswitch)) == 0) {
		sl = sizeof(s.core_local);
		getsockname(s.core_fd, (struct sockaddr *)&s.core_local, &sl);
	}
	gk_loop_add_udp(s.loop, s.core_fd, on_core, &s);

	static const struct gk_registrar_ops ops = {
	    .send_terminal = send_terminal,
	    .core_register = core_register,
	    .core_answer = core_answer,
	    .core_unbound = core_unbound,
	    .core_digest = core_digest,
	    .binding_up = binding_up,
	    .binding_down = binding_down,
	    .binding_lingers = binding_lingers,
	    .ipsec_up = ipsec_up,
	    .ipsec_adopt = ipsec_adopt,
	};
	/* The fast path first, sized for every index the registrar can hand out: one it could
	 * not hold would tell a terminal "registered" while every datagram it sends is dropped. */
	s.fp.set = s.set.fp;
	if (sbc_fp_start(&s.fp, rc.max_terminals, err, sizeof(err)) < 0) {
		gk_wipe(&rc, sizeof(rc));
		gk_err("%s", err);
		return 1;
	}
	/* ipsec-3gpp's element before the registrar, which adopts its bindings' SAs as it takes
	 * them back */
	if (gk_front_ipsec_start(&s.ipsec, &s.io, &s.set.ipsec, &rc, on_protected, &s, err,
	                         sizeof(err)) < 0) {
		gk_wipe(&rc, sizeof(rc));
		gk_err("%s", err);
		return 1;
	}
	s.max_pending = rc.max_pending;
	uint32_t max_terminals = rc.max_terminals;
	s.front = gk_registrar_new(&rc, &ops, &s, s.loop, err, sizeof(err));
	gk_wipe(&rc, sizeof(rc));
	if (!s.front) {
		gk_err("%s", err);
		return 1;
	}
	s.io.front = s.front;
	sbc_fp_restore(&s.fp, s.front);
	if (!s.fp.xdp) {
		/* Without XDP nothing in the kernel holds the terminals: the store does. */
		unsigned dropped, restored;
		if (gk_bindstore_from_setting(s.set.front.binding_store, "sbcd", max_terminals,
		                              &s.fp.store, err, sizeof(err)) < 0) {
			gk_err("%s", err);
			return 1;
		}
		if (s.fp.store) {
			restored = gk_registrar_attach_store(s.front, s.fp.store, &dropped);
			if (restored || dropped)
				gk_notice("took back %u registered terminal(s) from %s, dropped %u "
				          "expired",
				          restored, gk_bindstore_path(s.fp.store), dropped);
		}
	}
	for (unsigned i = 0; i < s.n_access; i++) {
		const struct sockaddr_storage *a = &gk_front_io_sock(&s.io, s.access_fd[i])->addr;
		s.access_port[i] = gk_sockaddr_port(a);
		uint16_t v = sbc_fp_verified_port(&s.fp, s.access_port[i]);
		s.verified_fd[i] = -1;
		if (!v)
			continue;
		s.verified_fd[i] = open_verified(&s, a, v);
		if (s.verified_fd[i] < 0) {
			char as[64];
			gk_format_addr(a, as, sizeof(as));
			gk_err("verified port %u next to %s: %s", v, as,
			       strerror(-s.verified_fd[i]));
			return 1;
		}
	}
	/* The softswitch answers a relayed request at once; one whose answer has not come after
	 * the time a registration may take at the core is not coming (lost on the core leg). */
	s.relay = gk_relay_new(s.loop, SBC_RELAY_SLOTS, s.set.front.core_timeout_ms, "relay");
	if (!s.relay || gk_steps_init(&s.unbound, "unbound", s.set.front.max_terminals + 1,
	                              sizeof(struct unbound), UNBOUND_FIRST) < 0) {
		gk_err("out of memory");
		return 1;
	}
	unbound_link(&s, 1);
	/* core-leg transactions of this run never repeat those of the one before (its notices
	 * may still be remembered at the softswitch as acknowledged) */
	gk_random((uint8_t *)&s.unbound_gen, sizeof(s.unbound_gen));
	s.unbound_gen &= UNBOUND_GEN_MASK;
	static const struct gk_sip_router_ops rops = {.sender = route_sender,
	                                              .locate = route_locate,
	                                              .self = route_self,
	                                              .serves = route_serves,
	                                              .xmit = route_xmit};
	struct gk_sip_txn_cfg tc;
	gk_sip_txn_cfg_defaults(&tc);
	tc.max_server = tc.max_client = s.set.front.route_transactions;
	s.router = gk_sip_router_new(s.set.id, &s.io, &tc, &rops, &s, err, sizeof(err));
	if (!s.router) {
		gk_err("SIP routing: %s", err);
		return 1;
	}
	if (watch_access_link(&s) < 0)
		return 1;
	s.ctl = gk_control_new(s.loop, s.common.control_socket, err, sizeof(err));
	if (!s.ctl) {
		gk_err("%s", err);
		return 1;
	}
	gk_control_add(s.ctl, "stats", ctl_stats, &s);
	if (gk_metrics_serve(&s.metrics, s.loop, &s.common.metrics_listen, metrics_fill, &s) < 0)
		return 1;
	gk_control_add(s.ctl, "bindings", gk_front_io_ctl_bindings, &s.io);
	const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1};
	gk_loop_on_signals(s.loop, sigs, 4, gk_front_io_on_signal, &s.io);
	if (s.fp.set.admission) {
		s.admission.fn = admission_tick;
		gk_timer_arm(s.loop, &s.admission, GK_ADMISSION_TICK_MS);
	}
	char ss[64];
	gk_format_addr(&s.set.softswitch, ss, sizeof(ss));
	gk_notice("ready: SBC %s, softswitch %s; gk-mac enforced %s", s.set.id, ss,
	          s.fp.xdp ? "in XDP" : "in userspace");
	uint32_t terminals, pending;
	gk_registrar_gauges(s.front, &terminals, &pending);
	gk_notify_ready(s.loop, "SBC %s, softswitch %s, gk-mac %s: %u listener(s), %u terminal(s)",
	                s.set.id, ss, s.fp.xdp ? "in XDP" : "in userspace", s.io.n_sock, terminals);

	int ret = gk_loop_run(s.loop);
	gk_notify_stopping();
	gk_metrics_stop(s.metrics);
	gk_timer_cancel(s.loop, &s.admission);
	/* first: its timers go before anything else frees its own */
	gk_front_io_close(&s.io);
	for (uint32_t i = 1; i < s.unbound.cap; i++) {
		struct unbound *u = gk_steps_at(&s.unbound, i);
		if (u->ref)
			gk_timer_cancel(s.loop, &u->timer);
	}
	gk_steps_free(&s.unbound);
	/* the relay cancels its timer, which moves others in the loop's heap: before the
	 * registrar, which frees its own without cancelling them */
	gk_relay_free(s.relay);
	gk_sip_router_free(s.router); /* cancels its transactions' timers, like the relay */
	gk_control_free(s.ctl);
	gk_registrar_free(s.front);
	gk_front_ipsec_stop(&s.ipsec); /* its SAs stay for the next start to adopt */
	gk_bindstore_close(s.fp.store);
	gk_linkwatch_close(s.access_link);
	sbc_fp_stop(&s.fp);
	gk_loop_free(s.loop);
	gk_coreleg_wipe(&s.core);
	for (unsigned i = 0; i < s.n_access; i++)
		if (s.verified_fd[i] >= 0)
			close(s.verified_fd[i]);
	close(s.core_fd);
	gk_notice("stopped");
	return ret < 0 ? 1 : 0;
}
