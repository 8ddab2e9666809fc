// SPDX-License-Identifier: GPL-2.0-only
/*
 * Routing SIP requests between registered terminals (include/gatekey/route/sip_route.h): who may
 * send (a standing binding), to whom (the Request-URI user's binding at this domain, or, inside a
 * dialog, the other party's), under which identity (the sender's binding, asserted), and the
 * answers the router owes when it cannot (403, 404, 480, 481, 483, 503, 408). The transactions
 * are sip_txn.c's, the edits sip_proxy.c's; this file only decides.
 *
 * A forwarded request holds a route slot until its final response went back or it timed out:
 * the slot keeps the request as it came (a timeout is answered from it, after the client
 * transaction is gone), who sent it and which binding must answer, so a response from anyone
 * else is a stray. A 2xx to an INVITE makes a dialog: its two parties (IDc and tag each), so that
 * a request inside it is routed only from one party to the other, whatever its Request-URI
 * says, and anything else claiming the dialog gets 481. Every slot and every dialog has a timer.
 *
 * A new request whose callee has no binding may first wait in its slot for the element's lookup
 * (ops.lookup: does that user exist?), under a timer of its own: 404 or 480 from the answer, 480
 * when none comes in time. The question goes out with a 31-bit ref, the slot's index and the low
 * bits of its generation, which the answer must bring back while the slot still waits.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "gatekey/runtime/config.h"
#include "gatekey/runtime/control.h"
#include "gatekey/crypto/crypto.h"
#include "gatekey/exchange/locations.h"
#include "gatekey/runtime/log.h"
#include "gatekey/crypto/siphash.h"
#include "gatekey/runtime/resident.h"
#include "gatekey/runtime/steps.h"
#include "gatekey/sip/sip.h"
#include "gatekey/sip/sip_proxy.h"
#include "gatekey/route/sip_route.h"

#define DIALOG_IDLE_MS (4ull * 3600 * 1000) /* a dialog with no request this long is gone */
#define CALL_ID_MAX    128                  /* bytes of a Call-ID a dialog keeps */
#define TAG_MAX        64
#define FIRST_ROUTES   64 /* routes and dialogs resident from the start (runtime/steps.h) */

struct route {
	uint32_t gen;
	bool used;
	bool invite; /* an initial INVITE: its 2xx makes a dialog */
	uint32_t next_free;
	gk_sip_txn_handle server;
	struct gk_sip_txn_key client; /* to CANCEL it */
	char caller[GK_ID_MAX + 1], callee[GK_ID_MAX + 1];
	struct gk_sip_hop next;      /* where it went: only from there may it be answered */
	uint32_t dialog, dialog_gen; /* a BYE's dialog, ended by its final response */
	/* An INVITE's route outlives its first 2xx as long as the client transaction stays in
	 * RFC 6026's Accepted state, so that a repeated 2xx still finds the caller. */
	struct gk_timer linger;
	/* Waiting for ops.lookup's answer about callee (no client transaction yet), at most until
	 * `wait` fires; `from` is the caller's address, for the received= of the answer. */
	bool looking;
	struct gk_timer wait;
	/* Where the request came from: the caller's address and its link (a binding's index, 0, or
	 * GK_SIP_CORE_LEG); only from there may it be cancelled. */
	struct sockaddr_storage from;
	uint32_t from_seal;
	bool cancel_pending; /* a CANCEL came before any provisional: sent with the first one */
	bool dialog_made;    /* the dialog of its first 2xx; later 2xx (forked) make none */
	struct gk_sip_router *r;
	uint16_t len;
	uint8_t req[GK_SIP_TXN_MSG_MAX]; /* the request as it came, to answer a timeout from */
};

struct dialog {
	uint32_t gen;
	bool used;
	uint32_t next_free, next_hash;
	char call_id[CALL_ID_MAX];
	char tag[2][TAG_MAX];       /* the caller's (From) and the callee's (To) tag */
	char idc[2][GK_ID_MAX + 1]; /* the caller's and the callee's binding */
	struct gk_timer idle;
	struct gk_sip_router *r;
};

struct gk_sip_router {
	char idsp[GK_ID_MAX + 1];
	struct gk_front_io *io;
	struct gk_sip_router_ops ops;
	void *user;
	struct gk_sip_txn *txn;
	uint64_t salt;
	uint8_t hash_key[GK_SIPHASH_KEY_LEN];
	struct route *routes; /* 1..n_routes: route_steps.base, grown when the free list runs out */
	uint32_t n_routes, free_head;
	struct dialog *dialogs; /* 1..n_dialogs: dialog_steps.base, likewise */
	struct gk_steps route_steps, dialog_steps;
	uint32_t routes_used, dialogs_used; /* taken and not yet freed: what the steps need */
	uint32_t n_dialogs, dialog_free, *dialog_hash, hash_mask;
	uint64_t linger_ms; /* 64*T1: the Accepted state's length (timers L and M) */
	uint32_t divisor;   /* the transaction layer's time_divisor */
	uint64_t lookup_ms; /* how long a request waits for its lookup */
	unsigned ref_bits;  /* bits of a lookup ref that name the slot; the rest, its generation */
	struct gk_sip_route_stats st;
};

/* ---- route slots --------------------------------------------------------------------------- */

/* A route's reference: generation and slot, so a late event never reaches a reused slot. */
static uint64_t route_ref(const struct gk_sip_router *r, const struct route *rt)
{
	return (uint64_t)rt->gen << 32 | (uint32_t)(rt - r->routes);
}

static struct route *route_of(struct gk_sip_router *r, uint64_t ref)
{
	uint32_t i = (uint32_t)ref;

	if (!i || i >= r->route_steps.cap || !r->routes[i].used ||
	    r->routes[i].gen != (uint32_t)(ref >> 32))
		return NULL;
	return &r->routes[i];
}

/* A lookup's ref (sip_route.h: 31 bits): the slot, and its generation's low bits above it. */
static uint32_t lookup_ref(const struct gk_sip_router *r, const struct route *rt)
{
	uint32_t gen_mask = (1u << (31 - r->ref_bits)) - 1;
	return (rt->gen & gen_mask) << r->ref_bits | (uint32_t)(rt - r->routes);
}

/* The slot waiting for the answer to ref, or NULL. */
static struct route *route_of_lookup(struct gk_sip_router *r, uint32_t ref)
{
	uint32_t gen_mask = (1u << (31 - r->ref_bits)) - 1;
	uint32_t i = ref & ((1u << r->ref_bits) - 1);

	if (ref > GK_SIP_LOOKUP_REF_MAX || !i || i >= r->route_steps.cap)
		return NULL;
	struct route *rt = &r->routes[i];
	if (!rt->used || !rt->looking || (rt->gen & gen_mask) != ref >> r->ref_bits)
		return NULL;
	return rt;
}

static void route_linger_end(struct gk_timer *t);
static void lookup_expired(struct gk_timer *t);

/* The resident routes from `from` on join the free list, lowest first. */
static void routes_link(struct gk_sip_router *r, uint32_t from)
{
	for (uint32_t i = r->route_steps.cap - 1; i >= from; i--) {
		r->routes[i].next_free = r->free_head;
		r->routes[i].r = r;
		r->routes[i].linger.fn = route_linger_end;
		r->routes[i].wait.fn = lookup_expired;
		r->free_head = i;
	}
}

static void dialogs_link(struct gk_sip_router *r, uint32_t from)
{
	for (uint32_t i = r->dialog_steps.cap - 1; i >= from; i--) {
		r->dialogs[i].next_free = r->dialog_free;
		r->dialog_free = i;
	}
}

static struct route *route_take(struct gk_sip_router *r)
{
	uint32_t i, from;

	if (!r->free_head) {
		if (!(from = gk_steps_grow(&r->route_steps)))
			return NULL;
		routes_link(r, from);
	}
	i = r->free_head;
	struct route *rt = &r->routes[i];
	r->free_head = rt->next_free;
	rt->used = true;
	gk_steps_need(&r->route_steps, ++r->routes_used + 1); /* and slot 0 */
	rt->gen++;
	rt->invite = false;
	rt->looking = false;
	rt->cancel_pending = false;
	rt->dialog_made = false;
	rt->dialog = 0;
	rt->dialog_gen = 0;
	return rt;
}

static void route_free(struct gk_sip_router *r, struct route *rt)
{
	if (gk_timer_armed(&rt->linger))
		gk_timer_cancel(r->io->loop, &rt->linger);
	if (gk_timer_armed(&rt->wait))
		gk_timer_cancel(r->io->loop, &rt->wait);
	r->routes_used -= rt->used;
	rt->used = false;
	rt->looking = false;
	rt->len = 0;
	rt->next_free = r->free_head;
	r->free_head = (uint32_t)(rt - r->routes);
}

static void route_linger_end(struct gk_timer *t)
{
	struct route *rt = (struct route *)((char *)t - offsetof(struct route, linger));
	route_free(rt->r, rt);
}

/* ---- dialogs ------------------------------------------------------------------------------- */

static uint32_t dialog_bucket(const struct gk_sip_router *r, struct sip_span call_id)
{
	return (uint32_t)gk_siphash64(r->hash_key, call_id.p, call_id.n) & r->hash_mask;
}

static bool span_is(struct sip_span s, const char *z)
{
	return s.n == strlen(z) && memcmp(s.p, z, s.n) == 0;
}

/* The dialog of call_id with these two tags (either way round), or NULL; *side: which party
 * the tag `from_tag` is (0 caller, 1 callee). */
static struct dialog *dialog_find(struct gk_sip_router *r, struct sip_span call_id,
                                  struct sip_span from_tag, struct sip_span to_tag, int *side)
{
	for (uint32_t i = r->dialog_hash[dialog_bucket(r, call_id)]; i;
	     i = r->dialogs[i].next_hash) {
		struct dialog *d = &r->dialogs[i];
		if (!span_is(call_id, d->call_id))
			continue;
		for (int s = 0; s < 2; s++) {
			if (span_is(from_tag, d->tag[s]) && span_is(to_tag, d->tag[!s])) {
				*side = s;
				return d;
			}
		}
	}
	return NULL;
}

static void dialog_free(struct gk_sip_router *r, struct dialog *d)
{
	uint32_t idx = (uint32_t)(d - r->dialogs);
	uint32_t *pp =
	    &r->dialog_hash[dialog_bucket(r, (struct sip_span){d->call_id, strlen(d->call_id)})];
	while (*pp && *pp != idx)
		pp = &r->dialogs[*pp].next_hash;
	if (*pp)
		*pp = d->next_hash;
	gk_timer_cancel(r->io->loop, &d->idle);
	r->dialogs_used -= d->used;
	d->used = false;
	d->next_free = r->dialog_free;
	r->dialog_free = idx;
	r->st.dialogs_ended++;
}

static void dialog_idle(struct gk_timer *t)
{
	struct dialog *d = (struct dialog *)((char *)t - offsetof(struct dialog, idle));
	dialog_free(d->r, d);
}

/* The dialog a 2xx to an initial INVITE makes (RFC 3261 §12.1): kept once however many 2xx come. */
static void dialog_make(struct gk_sip_router *r, const struct route *rt,
                        const struct gk_sip_view *rsp)
{
	struct gk_sip_view inv;
	int side;

	if (gk_sip_view(rt->req, rt->len, &inv) < 0 || !inv.from_tag.n || !rsp->to_tag.n ||
	    rsp->call_id.n >= CALL_ID_MAX || inv.from_tag.n >= TAG_MAX || rsp->to_tag.n >= TAG_MAX)
		return;
	if (dialog_find(r, rsp->call_id, inv.from_tag, rsp->to_tag, &side))
		return;
	uint32_t from;
	if (!r->dialog_free) {
		if (!(from = gk_steps_grow(&r->dialog_steps))) {
			r->st.dialogs_full++;
			return; /* the call goes on, but nothing inside it will be routed: counted
			         */
		}
		dialogs_link(r, from);
	}
	uint32_t i = r->dialog_free;
	struct dialog *d = &r->dialogs[i];
	r->dialog_free = d->next_free;
	d->used = true;
	gk_steps_need(&r->dialog_steps, ++r->dialogs_used + 1); /* and slot 0 */
	d->gen++;
	snprintf(d->call_id, sizeof(d->call_id), "%.*s", (int)rsp->call_id.n, rsp->call_id.p);
	snprintf(d->tag[0], sizeof(d->tag[0]), "%.*s", (int)inv.from_tag.n, inv.from_tag.p);
	snprintf(d->tag[1], sizeof(d->tag[1]), "%.*s", (int)rsp->to_tag.n, rsp->to_tag.p);
	snprintf(d->idc[0], sizeof(d->idc[0]), "%s", rt->caller);
	snprintf(d->idc[1], sizeof(d->idc[1]), "%s", rt->callee);
	d->r = r;
	d->idle.fn = dialog_idle;
	uint32_t *head = &r->dialog_hash[dialog_bucket(r, rsp->call_id)];
	d->next_hash = *head;
	*head = i;
	gk_timer_arm(r->io->loop, &d->idle, DIALOG_IDLE_MS);
	r->st.dialogs++;
}

/* The dialog a BYE's route ends, if it is still that one. */
static void dialog_end_by(struct gk_sip_router *r, const struct route *rt)
{
	if (rt->dialog && r->dialogs[rt->dialog].used &&
	    r->dialogs[rt->dialog].gen == rt->dialog_gen)
		dialog_free(r, &r->dialogs[rt->dialog]);
}

/* ---- sending --------------------------------------------------------------------------------- */

static void xmit(void *user, const struct sockaddr_storage *to, const uint8_t *data, size_t len,
                 uint32_t seal)
{
	struct gk_sip_router *r = user;
	r->ops.xmit(r->user, to, data, len, seal);
}

static int build_trying(void *user, const uint8_t *req, size_t len, uint8_t *out, size_t cap)
{
	(void)user;
	return gk_sip_answer(req, len, 100, "Trying", NULL, out, cap);
}

static int build_ack(void *user, const uint8_t *req, size_t req_len, const uint8_t *rsp,
                     size_t rsp_len, uint8_t *out, size_t cap)
{
	(void)user;
	return req ? gk_sip_build_ack(req, req_len, rsp, rsp_len, out, cap) : -1;
}

/* The router's own answer (status and phrase) to request req on server transaction h. */
static void answer(struct gk_sip_router *r, gk_sip_txn_handle h, const uint8_t *req, size_t len,
                   unsigned status, const char *phrase, const struct sockaddr_storage *from)
{
	uint8_t out[GK_SIP_TXN_MSG_MAX];
	int n = gk_sip_answer(req, len, status, phrase, from, out, sizeof(out));

	if (n > 0)
		gk_sip_txn_server_respond(r->txn, h, status, out, (size_t)n);
}

/* CANCELs the INVITE route rt forwarded, when it may be (§9.1: after a provisional). */
static void cancel_downstream(struct gk_sip_router *r, struct route *rt)
{
	gk_sip_txn_handle ch = gk_sip_txn_client_find(r->txn, &rt->client);
	size_t ilen;
	const uint8_t *inv;
	uint8_t out[GK_SIP_TXN_MSG_MAX];
	struct gk_sip_txn_key ck = rt->client;
	gk_sip_txn_handle h;

	if (!ch)
		return;
	if (!gk_sip_txn_client_cancellable(r->txn, ch)) {
		/* §9.1: not before a provisional; the first one sends it (route_response) */
		rt->cancel_pending = true;
		return;
	}
	rt->cancel_pending = false;
	if (!(inv = gk_sip_txn_client_request(r->txn, ch, &ilen)))
		return;
	int n = gk_sip_build_cancel(inv, ilen, out, sizeof(out));
	ck.method = GK_SIP_CANCEL;
	if (n > 0 && gk_sip_txn_client_send(r->txn, &ck, out, (size_t)n, &rt->next.addr,
	                                    rt->next.seal, 0, &h) == 0)
		r->st.cancels++;
}

static void on_timeout(void *user, gk_sip_txn_handle h, uint64_t ref, enum gk_sip_txn_expiry why)
{
	struct gk_sip_router *r = user;
	struct route *rt = route_of(r, ref);

	(void)h;
	if (!rt)
		return;
	if (why == GK_SIP_TXN_TIMER_C) {
		cancel_downstream(r, rt); /* its 487 comes back and ends the route */
		return;
	}
	if (why == GK_SIP_TXN_TIMER_B || why == GK_SIP_TXN_TIMER_F) {
		/* the callee never answered: the caller hears 408 (§16.7 step 6 for a proxy) */
		r->st.timeouts++;
		answer(r, rt->server, rt->req, rt->len, 408, "Request Timeout", NULL);
		dialog_end_by(r, rt); /* a BYE nobody answered still ends its dialog (§15.1.2) */
		route_free(r, rt);
	} else if (why == GK_SIP_TXN_NO_FINAL) {
		/* the caller can be answered no more: whatever still comes for the route is stray,
		 * and its slot is not held for good by a client transaction that ended unheard */
		route_free(r, rt);
	}
}

/* ---- lookups: does a callee without a binding exist? ---------------------------------------- */

/* Answers the request waiting in rt 404 (its user does not exist) or 480 (it does, or nobody
 * could say in time), and gives the slot back. */
static void lookup_end(struct gk_sip_router *r, struct route *rt, unsigned status)
{
	if (status == 404) {
		r->st.not_found++;
		answer(r, rt->server, rt->req, rt->len, 404, "Not Found", &rt->from);
	} else {
		r->st.unavailable++;
		answer(r, rt->server, rt->req, rt->len, 480, "Temporarily Unavailable", &rt->from);
	}
	route_free(r, rt);
}

static void lookup_expired(struct gk_timer *t)
{
	struct route *rt = (struct route *)((char *)t - offsetof(struct route, wait));
	struct gk_sip_router *r = rt->r;

	r->st.lookup_timeouts++;
	lookup_end(r, rt, 480);
}

/* Asks whether callee exists, for the new request in rt (from `from`) that no binding takes. */
static void lookup_start(struct gk_sip_router *r, struct route *rt,
                         const struct sockaddr_storage *from, const char *callee)
{
	uint32_t ref = lookup_ref(r, rt);

	rt->looking = true;
	rt->from = *from;
	snprintf(rt->callee, sizeof(rt->callee), "%s", callee);
	gk_timer_arm(r->io->loop, &rt->wait, r->lookup_ms);
	r->st.lookups++;
	/* the answer may have come already, from inside the call: then rt is gone */
	if (r->ops.lookup(r->user, callee, ref) < 0 && (rt = route_of_lookup(r, ref))) {
		r->st.lookup_failures++;
		lookup_end(r, rt, 480);
	}
}

void gk_sip_router_looked_up(struct gk_sip_router *r, uint32_t ref, bool known)
{
	struct route *rt = route_of_lookup(r, ref);

	if (rt)
		lookup_end(r, rt, known ? 480 : 404);
}

void gk_sip_router_lookup_failed(struct gk_sip_router *r, uint32_t ref)
{
	struct route *rt = route_of_lookup(r, ref);

	if (!rt)
		return;
	r->st.lookup_failures++;
	lookup_end(r, rt, 480);
}

void gk_sip_router_set_lookup_wait(struct gk_sip_router *r, uint32_t ms)
{
	/* 64*T1 is when the caller's own transaction gives up (timers B and F): waiting longer
	 * would answer nobody */
	uint64_t wait = ms ? ms / r->divisor : r->linger_ms / 8;

	r->lookup_ms = wait < 1 ? 1 : wait > r->linger_ms ? r->linger_ms : wait;
}

/* ---- the direct topology: the element's own registrar is the location service ------------- */

enum gk_reason gk_sip_router_terminal_sender(struct gk_sip_router *r,
                                             const struct sockaddr_storage *from, uint32_t index,
                                             char idc[GK_ID_MAX + 1])
{
	if (index == GK_SIP_CORE_LEG)
		return GK_R_NOT_REGISTERED;
	return gk_registrar_speaks_for(r->io->front, index, from, NULL, idc);
}

int gk_sip_router_terminal_locate(struct gk_sip_router *r, const char *idc, struct gk_sip_hop *hop)
{
	struct gk_binding *b = gk_registrar_binding_of(r->io->front, idc);
	struct gk_binding_info bi;

	if (!b)
		return -ENOENT;
	gk_binding_get_info(b, &bi);
	/* An ipsec-3gpp terminal takes requests only from the element's port-c on its port-s,
	 * under the SAs, which nothing here sends from yet: it is unavailable for calls, never
	 * sent one in the clear. */
	if (bi.mech == GK_MECH_IPSEC)
		return -EPROTONOSUPPORT;
	hop->addr = bi.addr;
	hop->seal = bi.mech == GK_MECH_GKMAC ? bi.index : 0;
	return 0;
}

/* The address of the SIP socket this element sends from towards `to`, as "ip:port". */
/* A socket bound to the wildcard address has no address to put in a Via or a Record-Route: the
 * one the kernel's route to `to` leaves from stands in for it, with the socket's port. Asked of
 * the kernel by connecting a UDP socket, which sends nothing. */
static int local_toward(const struct sockaddr_storage *to, const struct sockaddr_storage *bound,
                        char *out, size_t cap)
{
	struct sockaddr_storage local;
	socklen_t sl = sizeof(local);
	int fd = socket(to->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	int ret = connect(fd, (const struct sockaddr *)to, gk_sockaddr_len(to));
	if (ret == 0)
		ret = getsockname(fd, (struct sockaddr *)&local, &sl);
	close(fd);
	if (ret < 0)
		return -1;
	if (local.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&local)->sin6_port =
		    ((const struct sockaddr_in6 *)bound)->sin6_port;
	else
		((struct sockaddr_in *)&local)->sin_port =
		    ((const struct sockaddr_in *)bound)->sin_port;
	gk_format_addr(&local, out, cap);
	return 0;
}

int gk_sip_router_terminal_self(struct gk_sip_router *r, const struct sockaddr_storage *to,
                                char *out, size_t cap)
{
	for (unsigned i = 0; i < r->io->n_sock; i++) {
		const struct gk_front_sock *s = &r->io->sock[i];
		if (s->codec->proto == GK_PROTO_SIP && s->addr.ss_family == to->ss_family) {
			if (gk_sockaddr_any(&s->addr))
				return local_toward(to, &s->addr, out, cap);
			gk_format_addr(&s->addr, out, cap);
			return 0;
		}
	}
	return -1;
}

enum gk_reason gk_sip_router_asserted(const struct gk_sip_view *v, char idc[GK_ID_MAX + 1])
{
	struct sip_span uri, user, host;

	if (!v->has_pai || !v->pai.n || gk_sip_naddr_uri(v->pai, &uri) != GK_R_OK ||
	    gk_sip_uri_user_host(uri, &user, &host) != GK_R_OK || !user.n || user.n > GK_ID_MAX)
		return GK_R_IDENTITY_MISSING;
	memcpy(idc, user.p, user.n);
	idc[user.n] = '\0';
	return GK_R_OK;
}

/* The same host, whatever the port: an SBC is its address, and after a restart it sends from
 * another ephemeral port than the one its terminals registered through. */
static bool same_ip(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return a->ss_family == AF_INET6 &&
	       memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
	              &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
}

enum gk_reason gk_sip_router_peer_sender(const struct gk_sip_view *v,
                                         const struct sockaddr_storage *from,
                                         struct gk_locations *where, char idc[GK_ID_MAX + 1])
{
	struct sockaddr_storage at;
	enum gk_reason why = gk_sip_router_asserted(v, idc);

	if (why != GK_R_OK)
		return why;
	if (gk_locations_get(where, idc, &at) < 0 || !same_ip(&at, from))
		return GK_R_IDENTITY_MISMATCH;
	return GK_R_OK;
}

static enum gk_reason direct_sender(void *user, const struct gk_sip_view *v,
                                    const struct sockaddr_storage *from, uint32_t index,
                                    char idc[GK_ID_MAX + 1])
{
	(void)v;
	return gk_sip_router_terminal_sender(user, from, index, idc);
}

static int direct_locate(void *user, const char *idc, uint32_t in, struct gk_sip_hop *hop)
{
	(void)in;
	return gk_sip_router_terminal_locate(user, idc, hop);
}

static int direct_self(void *user, const struct gk_sip_hop *hop, char *out, size_t cap)
{
	return gk_sip_router_terminal_self(user, &hop->addr, out, cap);
}

static bool same_host(struct sip_span host, const char *name)
{
	return host.n == strlen(name) && strncasecmp(host.p, name, host.n) == 0;
}

static bool direct_serves(void *user, struct sip_span host)
{
	return same_host(host, ((struct gk_sip_router *)user)->idsp);
}

static void direct_xmit(void *user, const struct sockaddr_storage *to, const uint8_t *data,
                        size_t len, uint32_t seal)
{
	gk_front_io_xmit(((struct gk_sip_router *)user)->io, GK_PROTO_SIP, to, data, len, seal);
}

/* ---- life ------------------------------------------------------------------------------------ */

struct gk_sip_router *gk_sip_router_new(const char *idsp, struct gk_front_io *io,
                                        const struct gk_sip_txn_cfg *txn,
                                        const struct gk_sip_router_ops *ops, void *user, char *err,
                                        size_t errlen)
{
	static const struct gk_sip_router_ops direct = {.sender = direct_sender,
	                                                .locate = direct_locate,
	                                                .self = direct_self,
	                                                .serves = direct_serves,
	                                                .xmit = direct_xmit};
	static const struct gk_sip_txn_ops txn_ops = {.xmit = xmit,
	                                              .timeout = on_timeout,
	                                              .build_trying = build_trying,
	                                              .build_ack = build_ack};
	struct gk_sip_router *r = calloc(1, sizeof(*r));

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(r->idsp, sizeof(r->idsp), "%s", idsp);
	r->io = io;
	r->ops = ops ? *ops : direct;
	r->user = ops ? user : r;
	gk_random((uint8_t *)&r->salt, sizeof(r->salt));
	gk_random(r->hash_key, sizeof(r->hash_key));
	r->txn = gk_sip_txn_new(txn, &txn_ops, r, io->loop, err, errlen);
	r->divisor = txn->time_divisor ? txn->time_divisor : 1;
	r->linger_ms = 64ull * txn->t1_ms / r->divisor;
	gk_sip_router_set_lookup_wait(r, 0);
	r->n_routes = txn->max_client;
	/* the slot's index in a lookup's ref, the generation above it (at least 6 bits, with the
	 * transaction layer's 2^24 slots at most; 16 bits with its default 16384) */
	while (r->ref_bits < 25 && (1u << r->ref_bits) <= r->n_routes)
		r->ref_bits++;
	r->n_dialogs = txn->max_server;
	r->hash_mask = 1;
	while (r->hash_mask < r->n_dialogs)
		r->hash_mask <<= 1;
	r->hash_mask--;
	/* The routes (4.6 KiB each: each keeps the request it routes) and the dialogs grow in
	 * steps from FIRST_ROUTES (runtime/steps.h); the dialogs' buckets are small, and whole. */
	if (r->txn) {
		gk_steps_init(&r->route_steps, "sip_routes", r->n_routes + 1, sizeof(*r->routes),
		              FIRST_ROUTES);
		gk_steps_init(&r->dialog_steps, "sip_dialogs", r->n_dialogs + 1,
		              sizeof(*r->dialogs), FIRST_ROUTES);
	}
	r->routes = (struct route *)r->route_steps.base;
	r->dialogs = (struct dialog *)r->dialog_steps.base;
	r->dialog_hash = gk_table_alloc((size_t)r->hash_mask + 1, sizeof(*r->dialog_hash));
	if (!r->txn || !r->routes || !r->dialogs || !r->dialog_hash) {
		if (r->txn)
			snprintf(err, errlen, "out of memory for %u routes", r->n_routes);
		gk_sip_router_free(r);
		return NULL;
	}
	routes_link(r, 1);
	dialogs_link(r, 1);
	return r;
}

void gk_sip_router_free(struct gk_sip_router *r)
{
	if (!r)
		return;
	if (r->dialogs)
		for (uint32_t i = 1; i < r->dialog_steps.cap; i++)
			if (r->dialogs[i].used)
				gk_timer_cancel(r->io->loop, &r->dialogs[i].idle);
	if (r->routes)
		for (uint32_t i = 1; i < r->route_steps.cap; i++)
			for (int k = 0; k < 2; k++) {
				struct gk_timer *t = k ? &r->routes[i].wait : &r->routes[i].linger;
				if (gk_timer_armed(t))
					gk_timer_cancel(r->io->loop, t);
			}
	gk_sip_txn_free(r->txn);
	gk_steps_free(&r->route_steps);
	gk_steps_free(&r->dialog_steps);
	free(r->dialog_hash);
	free(r);
}

bool gk_sip_router_routes(const char *method)
{
	static const char *const routed[] = {"MESSAGE", "INVITE", "ACK",      "BYE",
	                                     "CANCEL",  "UPDATE", "INFO",     "PRACK",
	                                     "NOTIFY",  "REFER",  "SUBSCRIBE"};
	for (size_t i = 0; i < sizeof(routed) / sizeof(routed[0]); i++)
		if (strcmp(method, routed[i]) == 0)
			return true;
	return false;
}

/* ---- requests ------------------------------------------------------------------------------- */

/* "host:port" of a Via's sent-by, the transaction key's second half. */
static size_t sent_by(const struct gk_sip_view *v, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%.*s:%u", (int)v->via_host.n, v->via_host.p,
	                 v->via_port ? v->via_port : 5060);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* A request's transaction key. One from an RFC 2543 element has no branch with the magic cookie
 * (RFC 4475 §3.4.1, and longreq's top Via): §17.2.3 then matches on the Request-URI, From tag,
 * Call-ID, CSeq number and top Via, which a branch made of their hash stands for (the To tag is
 * left out, as the ACK of a non-2xx carries the response's). */
static int key_of(struct gk_sip_router *r, const struct gk_sip_view *v, struct gk_sip_txn_key *k)
{
	char sb[GK_SIP_SENT_BY_MAX + 8], made[40];
	size_t n = sent_by(v, sb, sizeof(sb));
	enum gk_sip_method m = gk_sip_method_of(v->cseq_method.p, v->cseq_method.n);
	struct sip_span branch = v->branch;

	if (!n)
		return -1;
	if (branch.n < 7 || memcmp(branch.p, "z9hG4bK", 7) != 0) {
		char in[1024];
		int w = snprintf(in, sizeof(in), "%.*s|%.*s|%.*s|%u|%.*s", (int)v->ruri.n,
		                 v->ruri.p, (int)v->from_tag.n, v->from_tag.p, (int)v->call_id.n,
		                 v->call_id.p, v->cseq, (int)v->via.n, v->via.p);
		if (w < 0 || (size_t)w >= sizeof(in))
			return -1;
		snprintf(made, sizeof(made), "gk2543.%016llx",
		         (unsigned long long)gk_siphash64(r->hash_key, in, (size_t)w));
		branch = (struct sip_span){made, strlen(made)};
	}
	return gk_sip_txn_key_set(k, m, branch.p, branch.n, sb, n);
}

/* Forwards request data (from `from`, by `in`) to whoever stands for to_idc as a proxy does, for
 * route rt when the request makes a client transaction (rt NULL: an ACK of a 2xx, which never
 * does). */
static void forward(struct gk_sip_router *r, struct route *rt, gk_sip_txn_handle h,
                    const uint8_t *data, size_t len, const struct gk_sip_view *v,
                    const struct sockaddr_storage *from, uint32_t in, const char *caller,
                    const char *to_idc, bool initial)
{
	struct gk_sip_hop hop, back = {.addr = *from, .seal = in};
	char self[64], self_in[64], target[64], ruri[GK_ID_MAX + 80], via[160], rr[80];
	char pai[2 * GK_ID_MAX + 16], branch[GK_SIP_BRANCH_LEN];

	int located = r->ops.locate(r->user, to_idc, in, &hop);
	if (located < 0) {
		/* (registered, but not reachable for calls: no lookup says otherwise) */
		if (initial && rt && r->ops.lookup && located != -EPROTONOSUPPORT) {
			lookup_start(r, rt, from, to_idc); /* 404 or 480 once it is known */
			return;
		}
		r->st.unavailable++;
		if (rt) {
			answer(r, h, data, len, 480, "Temporarily Unavailable", from);
			route_free(r, rt);
		}
		return;
	}
	if (r->ops.self(r->user, &hop, self, sizeof(self)) < 0 ||
	    r->ops.self(r->user, &back, self_in, sizeof(self_in)) < 0) {
		if (rt) {
			answer(r, h, data, len, 503, "Service Unavailable", from);
			route_free(r, rt);
		}
		return;
	}
	gk_format_addr(&hop.addr, target, sizeof(target));
	gk_sip_branch(branch, v, r->salt);
	snprintf(ruri, sizeof(ruri), "sip:%s@%s", to_idc, target);
	snprintf(via, sizeof(via), "SIP/2.0/UDP %s;branch=%s", self, branch);
	/* One Record-Route, naming the side a terminal reaches this element by: the terminal's
	 * in-dialog requests come to it, and the elements behind route inside a dialog by the
	 * dialog, not by their Route set. Between two core hops, the core side. */
	const char *rr_self = hop.seal != GK_SIP_CORE_LEG ? self : self_in;
	snprintf(rr, sizeof(rr), "<sip:%s;lr>", rr_self);
	snprintf(pai, sizeof(pai), "<sip:%s@%s>", caller, r->idsp);
	bool dialog_forming =
	    initial && (span_is(v->method, "INVITE") || span_is(v->method, "SUBSCRIBE") ||
	                span_is(v->method, "REFER"));
	/* An initial request for a terminal goes to its binding; towards the core it keeps its
	 * Request-URI (the next element locates the callee); inside a dialog the Request-URI is
	 * the remote target the other party gave, and stays (§16.6 step 2 only for the first). */
	struct gk_sip_fwd f = {.ruri = initial && hop.seal != GK_SIP_CORE_LEG ? ruri : NULL,
	                       /* the Route a terminal puts for this element names what it
	                        * record-routed, whichever side the request comes in by */
	                       .self = rr_self,
	                       .via = via,
	                       .record_route = dialog_forming ? rr : NULL,
	                       .strip_pai = true,
	                       .pai = pai,
	                       .from = in == GK_SIP_CORE_LEG ? NULL : from};
	uint8_t out[GK_SIP_TXN_MSG_MAX];
	int n = gk_sip_fwd_request(data, len, &f, out, sizeof(out));
	if (n == -ELOOP) {
		r->st.loops++;
		if (rt) {
			answer(r, h, data, len, 483, "Too Many Hops", from);
			route_free(r, rt);
		}
		return;
	}
	if (n <= 0) {
		r->st.malformed++;
		if (rt) {
			answer(r, h, data, len, 513, "Message Too Large", from);
			route_free(r, rt);
		}
		return;
	}
	if (!rt) { /* the ACK of a 2xx: end to end, no transaction (§17.1.1.3) */
		r->ops.xmit(r->user, &hop.addr, out, (size_t)n, hop.seal);
		r->st.forwarded++;
		return;
	}
	rt->next = hop;
	snprintf(rt->callee, sizeof(rt->callee), "%s", to_idc);
	gk_sip_txn_handle ch;
	if (gk_sip_txn_key_set(&rt->client, gk_sip_method_of(v->cseq_method.p, v->cseq_method.n),
	                       branch, strlen(branch), self, strlen(self)) < 0 ||
	    gk_sip_txn_client_send(r->txn, &rt->client, out, (size_t)n, &hop.addr, hop.seal,
	                           route_ref(r, rt), &ch) < 0) {
		answer(r, h, data, len, 503, "Service Unavailable", from);
		route_free(r, rt);
		return;
	}
	r->st.forwarded++;
}

/* A route slot for request data on server transaction h from caller, which keeps the request
 * to answer a timeout from; NULL after answering 503 or 513 when there is none or it is too
 * long to keep. */
static struct route *route_open(struct gk_sip_router *r, gk_sip_txn_handle h, const uint8_t *data,
                                size_t len, const char *caller, const struct sockaddr_storage *from,
                                uint32_t index)
{
	struct route *rt = route_take(r);

	if (!rt) {
		answer(r, h, data, len, 503, "Service Unavailable", from);
		return NULL;
	}
	if (len > sizeof(rt->req)) {
		route_free(r, rt);
		answer(r, h, data, len, 513, "Message Too Large", from);
		return NULL;
	}
	memcpy(rt->req, data, len);
	rt->len = (uint16_t)len;
	rt->server = h;
	rt->from = *from;
	rt->from_seal = index;
	snprintf(rt->caller, sizeof(rt->caller), "%s", caller);
	gk_sip_txn_set_ref(r->txn, h, route_ref(r, rt));
	return rt;
}

/* CANCEL (§9.2, §16.10): answered here at once, and the INVITE it names cancelled downstream. */
static void route_cancel(struct gk_sip_router *r, const struct gk_sip_txn_key *k,
                         gk_sip_txn_handle h, const uint8_t *data, size_t len,
                         const struct sockaddr_storage *from, uint32_t index)
{
	struct gk_sip_txn_key ik = *k;

	ik.method = GK_SIP_INVITE;
	gk_sip_txn_handle ih = gk_sip_txn_server_find(r->txn, &ik);
	struct route *rt = ih ? route_of(r, gk_sip_txn_ref(r->txn, ih)) : NULL;
	/* Only where the INVITE came from cancels it (the caller's binding, or the element before
	 * this one on the core leg, whose CANCEL asserts nobody): the branch and sent-by that name
	 * it are in every copy of the INVITE, and any terminal that saw one could otherwise end
	 * the call. */
	if (!rt || rt->from_seal != index || !gk_sockaddr_equal(&rt->from, from)) {
		answer(r, h, data, len, 481, "Call/Transaction Does Not Exist", from);
		return;
	}
	answer(r, h, data, len, 200, "OK", from);
	if (rt->looking) {
		/* nothing went downstream yet: the INVITE ends here (§9.2's 487) */
		r->st.cancels++;
		answer(r, rt->server, rt->req, rt->len, 487, "Request Terminated", &rt->from);
		route_free(r, rt);
		return;
	}
	cancel_downstream(r, rt);
}

static void route_request(struct gk_sip_router *r, const uint8_t *data, size_t len,
                          const struct gk_sip_view *v, const struct sockaddr_storage *from,
                          uint32_t index)
{
	struct gk_registrar *reg = r->io->front;
	struct gk_sip_txn_key k;
	gk_sip_txn_handle h = 0;
	char caller[GK_ID_MAX + 1];

	/* Only a standing binding may send, and it speaks as itself (DESIGN §5); over the core leg,
	 * as the peer that authenticated it asserts. No state, not even a transaction, for anyone
	 * else. */
	enum gk_reason why = r->ops.sender(r->user, v, from, index, caller);
	/* The ACK of a non-2xx final and a CANCEL are the previous element's own (§17.1.1.3,
	 * §16.10), built from the INVITE with no identity asserted: over the authenticated core
	 * leg the ACK may match its transaction, which absorbs it, and the CANCEL is taken only
	 * from where its INVITE came (route_cancel); without a dialog party's name nothing else
	 * passes. */
	if (why == GK_R_IDENTITY_MISSING && index == GK_SIP_CORE_LEG &&
	    (span_is(v->method, "ACK") || span_is(v->method, "CANCEL"))) {
		why = GK_R_OK;
		caller[0] = '\0';
	}
	if (why != GK_R_OK) {
		r->st.not_registered++;
		gk_registrar_count(reg, why);
		return;
	}
	if (key_of(r, v, &k) < 0) {
		r->st.malformed++;
		return;
	}
	enum gk_sip_txn_input in = gk_sip_txn_server_input(r->txn, &k, data, len, from, index, &h);
	bool ack = span_is(v->method, "ACK");
	if (in == GK_SIP_TXN_NONE_AVAILABLE) {
		uint8_t out[1024];
		int n =
		    gk_sip_answer(data, len, 503, "Service Unavailable", from, out, sizeof(out));
		if (n > 0)
			r->ops.xmit(r->user, from, out, (size_t)n, index);
		return;
	}
	if (in != GK_SIP_TXN_NEW && !(ack && in == GK_SIP_TXN_ACK_PASS))
		return; /* a retransmission the layer answered, or the ACK of a non-2xx */
	r->st.requests++;
	/* §16.3 step 3: no hops left is answered before the target is even looked for */
	if (!ack && v->has_max_forwards && v->max_forwards == 0) {
		r->st.loops++;
		answer(r, h, data, len, 483, "Too Many Hops", from);
		return;
	}
	/* §16.2: a proxy answers an INVITE 100 Trying at once, so the caller stops retransmitting
	 * while the callee rings (the layer sends it again for a retransmission) */
	if (span_is(v->method, "INVITE"))
		gk_sip_txn_server_trying(r->txn, h);
	if (span_is(v->method, "CANCEL")) {
		route_cancel(r, &k, h, data, len, from, index);
		return;
	}

	/* Inside a dialog (a To tag): only between its two parties, each as itself. */
	if (v->to_tag.n) {
		int side;
		struct dialog *d = dialog_find(r, v->call_id, v->from_tag, v->to_tag, &side);
		if (!d || strcmp(d->idc[side], caller) != 0) {
			r->st.no_dialog++;
			if (!ack)
				answer(r, h, data, len, 481, "Call/Transaction Does Not Exist",
				       from);
			return;
		}
		gk_timer_arm(r->io->loop, &d->idle, DIALOG_IDLE_MS);
		struct route *rt = NULL;
		if (!ack) {
			if (!(rt = route_open(r, h, data, len, caller, from, index)))
				return;
			if (span_is(v->method, "BYE")) {
				rt->dialog = (uint32_t)(d - r->dialogs);
				rt->dialog_gen = d->gen;
			}
		}
		forward(r, rt, h, data, len, v, from, index, caller, d->idc[!side], false);
		return;
	}
	if (ack)
		return; /* an ACK outside any dialog of ours: nothing to route it by */

	/* A new request: the callee is the Request-URI's user at this domain (§16.5, with the
	 * registrar as the location service). */
	struct sip_span user, host;
	if (gk_sip_uri_user_host(v->ruri, &user, &host) != GK_R_OK || !host.n) {
		r->st.foreign++;
		answer(r, h, data, len, 416, "Unsupported URI Scheme", from);
		return;
	}
	if (!r->ops.serves(r->user, host)) {
		r->st.foreign++; /* no open relay */
		answer(r, h, data, len, 403, "Forbidden", from);
		return;
	}
	if (!user.n || user.n > GK_ID_MAX) {
		r->st.not_found++; /* the domain itself, or no user any binding could have */
		answer(r, h, data, len, 404, "Not Found", from);
		return;
	}
	char callee[GK_ID_MAX + 1];
	snprintf(callee, sizeof(callee), "%.*s", (int)user.n, user.p);
	struct route *rt = route_open(r, h, data, len, caller, from, index);
	if (!rt)
		return;
	rt->invite = span_is(v->method, "INVITE");
	forward(r, rt, h, data, len, v, from, index, caller, callee, true);
}

/* ---- responses ------------------------------------------------------------------------------ */

/* Whether a response comes from where route rt's request went: the same binding (its key
 * verified it), the same pinned address, or the same core-leg peer. */
static bool from_hop(const struct route *rt, const struct sockaddr_storage *from, uint32_t index)
{
	return index == rt->next.seal && gk_sockaddr_equal(from, &rt->next.addr);
}

static bool route_response(struct gk_sip_router *r, const uint8_t *data, size_t len,
                           const struct gk_sip_view *v, const struct sockaddr_storage *from,
                           uint32_t index)
{
	struct gk_sip_txn_key k;
	gk_sip_txn_handle ch;
	uint64_t ref = 0;

	if (key_of(r, v, &k) < 0 || !(ch = gk_sip_txn_client_find(r->txn, &k)))
		return false; /* not ours: the registration exchange's, or nobody's */
	/* Before the transaction moves, only the binding the request went to may answer: anyone
	 * else who saw the branch (a stranger, or another registered terminal) would otherwise
	 * end the transaction with a final the caller never gets, the callee's real one would
	 * then be absorbed as a repeat, and the route slot would never be given back. Our CANCEL
	 * (the INVITE's branch) is answered by the INVITE's callee. Once the route is gone (a
	 * repeated final, to be ACKed again) the transaction layer alone decides, and nothing
	 * is passed on. */
	char who[GK_ID_MAX + 1];
	if (r->ops.sender(r->user, NULL, from, index, who) != GK_R_OK) {
		r->st.stray_responses++;
		return true;
	}
	struct gk_sip_txn_key ik = k;
	ik.method = GK_SIP_INVITE;
	gk_sip_txn_handle owner =
	    k.method == GK_SIP_CANCEL ? gk_sip_txn_client_find(r->txn, &ik) : ch;
	struct route *expected = owner ? route_of(r, gk_sip_txn_ref(r->txn, owner)) : NULL;
	if (expected && !from_hop(expected, from, index)) {
		r->st.stray_responses++;
		return true;
	}
	switch (gk_sip_txn_client_response(r->txn, &k, v->status, data, len, NULL, &ref)) {
	case GK_SIP_TXN_PASS:
		break;
	case GK_SIP_TXN_ABSORBED:
		return true;
	default:
		r->st.stray_responses++;
		return true;
	}
	if (!ref)
		return true; /* the 200 to a CANCEL of ours: the caller had its own */
	struct route *rt = route_of(r, ref);
	if (!rt || !from_hop(rt, from, index)) {
		r->st.stray_responses++;
		return true;
	}
	if (rt->cancel_pending && v->status < 200)
		cancel_downstream(r, rt); /* asked for before this first provisional (§9.1) */
	if (v->status == 100)
		return true; /* hop by hop: the caller had ours (§16.7 step 5 forwards no 100) */
	uint8_t out[GK_SIP_TXN_MSG_MAX];
	int n = gk_sip_fwd_response(data, len, out, sizeof(out));
	if (n <= 0) {
		r->st.malformed++;
		return true;
	}
	if (rt->invite && v->status >= 200 && v->status < 300) {
		/* the first 2xx makes the dialog; it and each repeat go to the caller (RFC 6026
		 * §7.2), and the route stays while the client transaction accepts them. Only one
		 * dialog an INVITE: 2xx with other To tags (a callee forking on its own) pass, but
		 * make none, or one answer could fill the dialog table for hours. */
		if (!rt->dialog_made) {
			dialog_make(r, rt, v);
			rt->dialog_made = true;
		}
		gk_sip_txn_server_respond(r->txn, rt->server, v->status, out, (size_t)n);
		r->st.responses++;
		if (!gk_timer_armed(&rt->linger))
			gk_timer_arm(r->io->loop, &rt->linger, r->linger_ms);
		return true;
	}
	gk_sip_txn_server_respond(r->txn, rt->server, v->status, out, (size_t)n);
	r->st.responses++;
	if (v->status >= 200) {
		dialog_end_by(r, rt); /* the BYE's final ends it (§15.1.2) */
		route_free(r, rt);
	}
	return true;
}

/* Whether a response's CSeq names REGISTER, found without reading the message whole: the
 * registration exchange's responses are most of what comes back, and none is routed. */
static bool answers_register(const uint8_t *data, size_t len)
{
	static const char name[] = "\ncseq:";
	const size_t nl = sizeof(name) - 1;

	for (size_t i = 0; i + nl < len; i++) {
		if (data[i] != '\n' || strncasecmp((const char *)data + i, name, nl) != 0)
			continue;
		size_t p = i + nl;
		while (p < len &&
		       (data[p] == ' ' || data[p] == '\t' || (data[p] >= '0' && data[p] <= '9')))
			p++;
		return len - p >= 8 && memcmp(data + p, "REGISTER", 8) == 0;
	}
	return false;
}

/* An OPTIONS for a user (RFC 3261 §11: what can that UA do?) is routed to it like any request;
 * one for the element or the domain itself (no user: a terminal's keep-alive probe) is the
 * registrar's to answer. Read from the request line alone: "OPTIONS <uri> SIP/2.0". */
static bool options_for_user(const uint8_t *data, size_t len)
{
	static const char m[] = "OPTIONS ";
	size_t i = sizeof(m) - 1;

	if (len < i || memcmp(data, m, i) != 0)
		return false;
	for (; i < len && data[i] != ' ' && data[i] != '\r' && data[i] != '\n'; i++)
		if (data[i] == '@')
			return true;
	return false;
}

bool gk_sip_router_input(struct gk_sip_router *r, struct gk_front_sock *s, const uint8_t *data,
                         size_t len, const struct sockaddr_storage *from, uint32_t index)
{
	struct gk_sip_view v;

	if (s && s->codec->proto != GK_PROTO_SIP)
		return false;
	/* Registrations are most of the traffic and none is routed: their method is looked at
	 * before the message is read whole (a response, or a method routed, is read). */
	if (len >= 8 && memcmp(data, "SIP/2.0 ", 8) == 0 && answers_register(data, len))
		return false; /* a registration verdict or challenge: never one of ours */
	if (len < 8 || memcmp(data, "SIP/2.0 ", 8) != 0) {
		char method[GK_SIP_METHOD_MAX + 1];
		size_t m = 0;
		while (m < len && m < GK_SIP_METHOD_MAX && data[m] != ' ' && data[m] != '\r')
			m++;
		memcpy(method, data, m);
		method[m] = '\0';
		if (!gk_sip_router_routes(method) && !options_for_user(data, len))
			return false;
	}
	if (gk_sip_view(data, len, &v) < 0)
		return false; /* the codec refuses it, as it would anything else */
	if (!v.request)
		return route_response(r, data, len, &v, from, index);
	char method[GK_SIP_METHOD_MAX + 1];
	snprintf(method, sizeof(method), "%.*s",
	         (int)(v.method.n < GK_SIP_METHOD_MAX ? v.method.n : 0), v.method.p);
	if (!gk_sip_router_routes(method) && !options_for_user(data, len))
		return false;
	route_request(r, data, len, &v, from, index);
	return true;
}

const struct gk_sip_route_stats *gk_sip_router_stats(const struct gk_sip_router *r)
{
	return &r->st;
}

const struct gk_sip_txn_stats *gk_sip_router_txn_stats(const struct gk_sip_router *r)
{
	return gk_sip_txn_stats(r->txn);
}

void gk_sip_router_ctl_stats(const struct gk_sip_router *r, struct gk_ctl_reply *out)
{
	const struct gk_sip_route_stats *rs = &r->st;
	const struct gk_sip_txn_stats *ts = gk_sip_txn_stats(r->txn);
#define R(f) gk_ctl_printf(out, "route.%s %llu", #f, (unsigned long long)rs->f)
	R(requests);
	R(forwarded);
	R(responses);
	R(not_registered);
	R(unavailable);
	R(not_found);
	R(lookups);
	R(lookup_timeouts);
	R(lookup_failures);
	R(foreign);
	R(timeouts);
	R(loops);
	R(stray_responses);
	R(malformed);
	R(dialogs);
	R(dialogs_ended);
	R(dialogs_full);
	R(no_dialog);
	R(cancels);
#undef R
#define T(f) gk_ctl_printf(out, "sip.txn.%s %llu", #f, (unsigned long long)ts->f)
	T(server_new);
	T(retransmissions_absorbed);
	T(responses_resent);
	T(client_sent);
	T(client_retransmissions);
	T(client_timeouts);
	T(trying_sent);
	T(acks_sent);
	T(pool_full);
#undef T
}
