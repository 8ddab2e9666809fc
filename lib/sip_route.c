// SPDX-License-Identifier: GPL-2.0-only
/*
 * Routing SIP requests between registered terminals (include/gatekey/sip_route.h): who may send
 * (a standing binding), to whom (the Request-URI user's binding at this domain), under which
 * identity (the sender's binding, asserted), and the answers the router owes when it cannot
 * (403, 480, 483, 503, 408). The transactions are sip_txn.c's, the edits sip_proxy.c's; this
 * file only decides.
 *
 * A forwarded request holds a route slot until its final response went back or it timed out:
 * the slot keeps the request as it came (a timeout is answered from it, after the client
 * transaction is gone) and which binding must answer, so a response from anyone else is a stray.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gatekey/config.h"
#include "gatekey/crypto.h"
#include "gatekey/log.h"
#include "gatekey/sip.h"
#include "gatekey/sip_proxy.h"
#include "gatekey/sip_route.h"
#include "sip_priv.h"

struct route {
	uint32_t gen;
	bool used;
	uint32_t next_free;
	gk_sip_txn_handle server;
	uint32_t callee_index; /* gk-mac binding that must answer; 0: digest, by address */
	struct sockaddr_storage callee;
	uint16_t len;
	uint8_t req[GK_SIP_TXN_MSG_MAX]; /* the request as it came, to answer a timeout from */
};

struct gk_sip_router {
	char idsp[GK_ID_MAX + 1];
	struct gk_front_io *io;
	struct gk_sip_txn *txn;
	uint64_t salt;
	struct route *routes; /* 1..n_routes */
	uint32_t n_routes, free_head;
	struct gk_sip_route_stats st;
};

/* A route's reference: generation and slot, so a late event never reaches a reused slot. */
static uint64_t route_ref(const struct gk_sip_router *r, const struct route *rt)
{
	return (uint64_t)rt->gen << 32 | (uint32_t)(rt - r->routes);
}

static struct route *route_of(struct gk_sip_router *r, uint64_t ref)
{
	uint32_t i = (uint32_t)ref;

	if (!i || i > r->n_routes || !r->routes[i].used ||
	    r->routes[i].gen != (uint32_t)(ref >> 32))
		return NULL;
	return &r->routes[i];
}

static struct route *route_take(struct gk_sip_router *r)
{
	uint32_t i = r->free_head;

	if (!i)
		return NULL;
	struct route *rt = &r->routes[i];
	r->free_head = rt->next_free;
	rt->used = true;
	rt->gen++;
	return rt;
}

static void route_free(struct gk_sip_router *r, struct route *rt)
{
	rt->used = false;
	rt->len = 0;
	rt->next_free = r->free_head;
	r->free_head = (uint32_t)(rt - r->routes);
}

static void xmit(void *user, const struct sockaddr_storage *to, const uint8_t *data, size_t len,
                 uint32_t seal)
{
	struct gk_sip_router *r = user;
	gk_front_io_xmit(r->io, GK_PROTO_SIP, to, data, len, seal);
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

static void on_timeout(void *user, gk_sip_txn_handle h, uint64_t ref, enum gk_sip_txn_expiry why)
{
	struct gk_sip_router *r = user;
	struct route *rt;

	(void)h;
	if (why == GK_SIP_TXN_TIMER_B || why == GK_SIP_TXN_TIMER_F) {
		/* the callee never answered: the caller hears 408 (§16.7 step 6 for a proxy) */
		if ((rt = route_of(r, ref))) {
			struct sockaddr_storage none = {0};
			r->st.timeouts++;
			answer(r, rt->server, rt->req, rt->len, 408, "Request Timeout", &none);
			route_free(r, rt);
		}
	}
}

struct gk_sip_router *gk_sip_router_new(const char *idsp, struct gk_front_io *io,
                                        const struct gk_sip_txn_cfg *txn, char *err, size_t errlen)
{
	static const struct gk_sip_txn_ops ops = {.xmit = xmit, .timeout = on_timeout};
	struct gk_sip_router *r = calloc(1, sizeof(*r));

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(r->idsp, sizeof(r->idsp), "%s", idsp);
	r->io = io;
	gk_random((uint8_t *)&r->salt, sizeof(r->salt));
	r->txn = gk_sip_txn_new(txn, &ops, r, io->loop, err, errlen);
	r->n_routes = txn->max_client;
	/* lazily mapped: a slot's pages are touched only once it is used */
	r->routes = calloc((size_t)r->n_routes + 1, sizeof(*r->routes));
	if (!r->txn || !r->routes) {
		if (r->txn)
			snprintf(err, errlen, "out of memory for %u routes", r->n_routes);
		gk_sip_router_free(r);
		return NULL;
	}
	for (uint32_t i = r->n_routes; i >= 1; i--) {
		r->routes[i].next_free = r->free_head;
		r->free_head = i;
	}
	return r;
}

void gk_sip_router_free(struct gk_sip_router *r)
{
	if (!r)
		return;
	gk_sip_txn_free(r->txn);
	free(r->routes);
	free(r);
}

bool gk_sip_router_routes(const char *method)
{
	return strcmp(method, "MESSAGE") == 0;
}

/* "host:port" of a Via's sent-by, the transaction key's second half. */
static size_t sent_by(const struct gk_sip_view *v, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%.*s:%u", (int)v->via_host.n, v->via_host.p,
	                 v->via_port ? v->via_port : 5060);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static int key_of(const struct gk_sip_view *v, struct gk_sip_txn_key *k)
{
	char sb[GK_SIP_SENT_BY_MAX + 8];
	size_t n = sent_by(v, sb, sizeof(sb));
	enum gk_sip_method m = gk_sip_method_of(v->cseq_method.p, v->cseq_method.n);

	if (!n || !v->branch.n)
		return -1;
	return gk_sip_txn_key_set(k, m, v->branch.p, v->branch.n, sb, n);
}

/* The socket address this element sends from towards `to`, as "ip:port". */
static int self_for(struct gk_sip_router *r, const struct sockaddr_storage *to, char *out,
                    size_t cap)
{
	for (unsigned i = 0; i < r->io->n_sock; i++) {
		const struct gk_front_sock *s = &r->io->sock[i];
		if (s->codec->proto == GK_PROTO_SIP && s->addr.ss_family == to->ss_family) {
			gk_format_addr(&s->addr, out, cap);
			return 0;
		}
	}
	return -1;
}

static bool same_host(struct sip_span host, const char *name)
{
	return host.n == strlen(name) && strncasecmp(host.p, name, host.n) == 0;
}

static void route_request(struct gk_sip_router *r, const uint8_t *data, size_t len,
                          const struct gk_sip_view *v, const struct sockaddr_storage *from,
                          uint32_t index)
{
	struct gk_registrar *reg = r->io->front;
	struct gk_sip_txn_key k;
	gk_sip_txn_handle h;
	char caller[GK_ID_MAX + 1];

	/* Only a standing binding may send, and it speaks as itself (DESIGN §5): no state, not
	 * even a transaction, for anyone else. */
	enum gk_reason why = gk_registrar_speaks_for(reg, index, from, NULL, caller);
	if (why != GK_R_OK) {
		r->st.not_registered++;
		gk_registrar_count(reg, why);
		return;
	}
	if (key_of(v, &k) < 0) {
		r->st.malformed++;
		return;
	}
	switch (gk_sip_txn_server_input(r->txn, &k, data, len, from, index, &h)) {
	case GK_SIP_TXN_NEW:
		break;
	case GK_SIP_TXN_NONE_AVAILABLE: {
		uint8_t out[1024];
		int n =
		    gk_sip_answer(data, len, 503, "Service Unavailable", from, out, sizeof(out));
		if (n > 0)
			gk_front_io_xmit(r->io, GK_PROTO_SIP, from, out, (size_t)n, index);
		return;
	}
	default:
		return; /* a retransmission the layer answered, or an ACK: nothing routes it */
	}
	r->st.requests++;

	/* The callee: the Request-URI's user at this domain (§16.5 with the registrar as the
	 * location service). */
	struct sip_span user, host;
	if (sip_uri_user_host(v->ruri, &user, &host) != GK_R_OK || !host.n) {
		r->st.foreign++;
		answer(r, h, data, len, 416, "Unsupported URI Scheme", from);
		return;
	}
	if (!same_host(host, r->idsp)) {
		r->st.foreign++; /* no open relay */
		answer(r, h, data, len, 403, "Forbidden", from);
		return;
	}
	char callee_id[GK_ID_MAX + 1];
	snprintf(callee_id, sizeof(callee_id), "%.*s", (int)(user.n < GK_ID_MAX ? user.n : 0),
	         user.p);
	struct gk_binding *cb = callee_id[0] ? gk_registrar_binding_of(reg, callee_id) : NULL;
	if (!cb) {
		r->st.unavailable++;
		answer(r, h, data, len, 480, "Temporarily Unavailable", from);
		return;
	}
	struct gk_binding_info ci;
	gk_binding_get_info(cb, &ci);

	struct route *rt = route_take(r);
	if (!rt) {
		answer(r, h, data, len, 503, "Service Unavailable", from);
		return;
	}
	char self[64], callee_addr[64], ruri[GK_ID_MAX + 80], via[160], pai[2 * GK_ID_MAX + 16];
	char branch[GK_SIP_BRANCH_LEN];
	if (self_for(r, &ci.addr, self, sizeof(self)) < 0) {
		route_free(r, rt);
		answer(r, h, data, len, 503, "Service Unavailable", from);
		return;
	}
	gk_format_addr(&ci.addr, callee_addr, sizeof(callee_addr));
	gk_sip_branch(branch, v, r->salt);
	snprintf(ruri, sizeof(ruri), "sip:%s@%s", callee_id, callee_addr);
	snprintf(via, sizeof(via), "SIP/2.0/UDP %s;branch=%s", self, branch);
	snprintf(pai, sizeof(pai), "<sip:%s@%s>", caller, r->idsp);
	struct gk_sip_fwd f = {
	    .ruri = ruri, .self = self, .via = via, .strip_pai = true, .pai = pai, .from = from};
	uint8_t out[GK_SIP_TXN_MSG_MAX];
	int n = gk_sip_fwd_request(data, len, &f, out, sizeof(out));
	if (n == -ELOOP) {
		route_free(r, rt);
		r->st.loops++;
		answer(r, h, data, len, 483, "Too Many Hops", from);
		return;
	}
	if (n <= 0 || len > sizeof(rt->req)) {
		route_free(r, rt);
		answer(r, h, data, len, 513, "Message Too Large", from);
		return;
	}
	memcpy(rt->req, data, len);
	rt->len = (uint16_t)len;
	rt->server = h;
	rt->callee = ci.addr;
	rt->callee_index = ci.mech == GK_MECH_GKMAC ? ci.index : 0;

	struct gk_sip_txn_key ck;
	gk_sip_txn_handle ch;
	if (gk_sip_txn_key_set(&ck, (enum gk_sip_method)k.method, branch, strlen(branch), self,
	                       strlen(self)) < 0 ||
	    gk_sip_txn_client_send(r->txn, &ck, out, (size_t)n, &ci.addr, rt->callee_index,
	                           route_ref(r, rt), &ch) < 0) {
		route_free(r, rt);
		answer(r, h, data, len, 503, "Service Unavailable", from);
		return;
	}
	r->st.forwarded++;
}

static bool route_response(struct gk_sip_router *r, const uint8_t *data, size_t len,
                           const struct gk_sip_view *v, const struct sockaddr_storage *from,
                           uint32_t index)
{
	struct gk_sip_txn_key k;
	uint64_t ref = 0;

	if (key_of(v, &k) < 0 || !gk_sip_txn_client_find(r->txn, &k))
		return false; /* not ours: the registration exchange's, or nobody's */
	/* Before the transaction moves: only a bound terminal answers (a stranger who saw the
	 * branch cannot end the transaction), and below, only the one the request went to. */
	char who[GK_ID_MAX + 1];
	if (gk_registrar_speaks_for(r->io->front, index, from, NULL, who) != GK_R_OK) {
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
	struct route *rt = route_of(r, ref);
	if (!rt) {
		r->st.stray_responses++;
		return true;
	}
	/* Only the binding the request went to answers it: anyone else is a stray, whatever
	 * branch it guessed or saw. */
	bool right = rt->callee_index ? index == rt->callee_index
	                              : !index && gk_sockaddr_equal(from, &rt->callee);
	if (!right) {
		r->st.stray_responses++;
		return true;
	}
	uint8_t out[GK_SIP_TXN_MSG_MAX];
	int n = gk_sip_fwd_response(data, len, out, sizeof(out));
	if (n <= 0) {
		r->st.malformed++;
		return true;
	}
	gk_sip_txn_server_respond(r->txn, rt->server, v->status, out, (size_t)n);
	r->st.responses++;
	if (v->status >= 200)
		route_free(r, rt);
	return true;
}

bool gk_sip_router_input(struct gk_sip_router *r, struct gk_front_sock *s, const uint8_t *data,
                         size_t len, const struct sockaddr_storage *from, uint32_t index)
{
	struct gk_sip_view v;

	if (s->codec->proto != GK_PROTO_SIP || gk_sip_view(data, len, &v) < 0)
		return false; /* the codec refuses it, as it would anything else */
	if (!v.request)
		return route_response(r, data, len, &v, from, index);
	char method[GK_SIP_METHOD_MAX + 1];
	snprintf(method, sizeof(method), "%.*s",
	         (int)(v.method.n < GK_SIP_METHOD_MAX ? v.method.n : 0), v.method.p);
	if (!gk_sip_router_routes(method))
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
