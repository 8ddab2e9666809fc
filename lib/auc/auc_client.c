// SPDX-License-Identifier: GPL-2.0-only
/*
 * The softswitch's RADIUS client (include/gatekey/auc/auc_client.h). Two pools of sockets, one for
 * Access-Requests towards auc.server and one for Accounting-Requests towards its accounting
 * port; a socket's 256 identifiers are its request slots. Keeping the pools apart is what keeps
 * registration working while the accounting server is down: its unanswered Starts and Stops fill
 * only their own pool, and then are dropped and counted rather than queued.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gatekey/auc/auc_client.h"
#include "gatekey/runtime/log.h"

#define IDS_PER_SOCKET 256
#define PKT_MAX        1024
/* Accounting losses are reported at most this often, with the totals: a dead accounting server
 * at registration rate would otherwise log a line per message. */
#define ACCT_WARN_MS 10000

struct pool;

struct outstanding {
	bool in_use;
	bool acct;
	bool digest; /* asked for HA1, not a vector */
	bool lookup; /* asked whether a subscriber exists */
	uint8_t tries;
	uint32_t handle;
	uint64_t deadline_ms; /* loop clock: given up then (transmit) */
	uint64_t sent_ms;     /* loop clock: first sent (the round trip, stats.rtt) */
	uint8_t req_auth[GK_RAD_AUTH_LEN];
	uint16_t len;
	uint8_t pkt[PKT_MAX];
	struct gk_timer timer;
	struct gk_auc_client *c;
	struct sock *sock;
};

struct sock {
	int fd;
	uint8_t next_id;
	uint32_t busy;
	struct pool *pool;
	struct outstanding slots[IDS_PER_SOCKET];
};

/* The sockets of one kind of request, and the server they talk to. */
struct pool {
	struct gk_auc_client *c;
	const struct sockaddr_storage *server;
	struct sock *socks;
	uint32_t n_socks;
	uint32_t rr;
	uint32_t tries;
	uint64_t budget_ms; /* from the first try to giving up */
};

struct gk_auc_client {
	struct gk_loop *loop;
	struct gk_auc_client_cfg cfg;
	struct gk_auc_client_ops ops;
	void *user;
	struct pool auth, acct;
	struct gk_auc_client_stats st;
	bool acct_warned;
	uint64_t acct_warned_ms;
};

static void on_response(void *user, int fd, uint8_t *data, size_t len,
                        const struct sockaddr_storage *from);
static void on_timeout(struct gk_timer *t);

static int pool_open(struct gk_auc_client *c, struct pool *p, const struct sockaddr_storage *server,
                     uint32_t n_socks, uint32_t tries, uint64_t budget_ms, const char *what,
                     char *err, size_t errlen)
{
	p->c = c;
	p->server = server;
	p->tries = tries;
	p->budget_ms = budget_ms;
	p->socks = calloc(n_socks, sizeof(*p->socks));
	if (!p->socks) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (uint32_t i = 0; i < n_socks; i++) {
		struct sockaddr_storage any;
		memset(&any, 0, sizeof(any));
		any.ss_family = server->ss_family;
		struct sock *s = &p->socks[i];
		s->pool = p;
		s->fd = gk_udp_socket(&any);
		int ret = s->fd < 0 ? s->fd : gk_loop_add_udp(c->loop, s->fd, on_response, s);
		if (ret < 0) {
			snprintf(err, errlen, "RADIUS %s client socket: %s", what, strerror(-ret));
			if (s->fd >= 0)
				close(s->fd);
			return -1;
		}
		p->n_socks = i + 1;
		for (unsigned j = 0; j < IDS_PER_SOCKET; j++) {
			s->slots[j].timer.fn = on_timeout;
			s->slots[j].c = c;
			s->slots[j].sock = s;
		}
	}
	return 0;
}

struct gk_auc_client *gk_auc_client_new(struct gk_loop *loop, const struct gk_auc_client_cfg *cfg,
                                        const struct gk_auc_client_ops *ops, void *user, char *err,
                                        size_t errlen)
{
	struct gk_auc_client *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->loop = loop;
	c->cfg = *cfg;
	c->ops = *ops;
	c->user = user;
	if (!c->cfg.timeout_ms)
		c->cfg.timeout_ms = 1000;
	if (!c->cfg.tries)
		c->cfg.tries = 3;
	if (!c->cfg.sockets)
		c->cfg.sockets = 16;
	/* Accounting is fire and forget: after 2 s without an answer the server is down, and
	 * holding the identifier longer only means dropping newer messages instead. */
	if (!c->cfg.acct_tries)
		c->cfg.acct_tries = 2;
	if (!c->cfg.acct_sockets)
		c->cfg.acct_sockets = 4;
	if (pool_open(c, &c->auth, &c->cfg.auth_server, c->cfg.sockets, c->cfg.tries,
	              (uint64_t)c->cfg.timeout_ms * (c->cfg.tries + 1), "authentication", err,
	              errlen) < 0 ||
	    pool_open(c, &c->acct, &c->cfg.acct_server, c->cfg.acct_sockets, c->cfg.acct_tries,
	              (uint64_t)c->cfg.timeout_ms * c->cfg.acct_tries, "accounting", err,
	              errlen) < 0) {
		gk_auc_client_free(c);
		return NULL;
	}
	return c;
}

static void pool_close(struct gk_auc_client *c, struct pool *p)
{
	for (uint32_t i = 0; i < p->n_socks; i++) {
		/* The loop may outlive the client: leave no timer of ours in its heap. */
		for (unsigned j = 0; j < IDS_PER_SOCKET; j++)
			gk_timer_cancel(c->loop, &p->socks[i].slots[j].timer);
		close(p->socks[i].fd);
	}
	free(p->socks);
}

void gk_auc_client_free(struct gk_auc_client *c)
{
	if (!c)
		return;
	pool_close(c, &c->auth);
	pool_close(c, &c->acct);
	gk_wipe(c->cfg.secret, sizeof(c->cfg.secret));
	free(c);
}

const struct gk_auc_client_stats *gk_auc_client_stats(const struct gk_auc_client *c)
{
	return &c->st;
}

static uint32_t pool_busy(const struct pool *p)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < p->n_socks; i++)
		n += p->socks[i].busy;
	return n;
}

void gk_auc_client_in_flight(const struct gk_auc_client *c, uint32_t *auth, uint32_t *acct)
{
	*auth = pool_busy(&c->auth);
	*acct = pool_busy(&c->acct);
}

/* A free identifier of this pool, or NULL (the caller counts it). */
static struct outstanding *slot_alloc(struct pool *p, uint8_t *id)
{
	for (uint32_t n = 0; n < p->n_socks; n++) {
		struct sock *s = &p->socks[p->rr++ % p->n_socks];
		if (s->busy == IDS_PER_SOCKET)
			continue;
		for (unsigned k = 0; k < IDS_PER_SOCKET; k++) {
			uint8_t cand = (uint8_t)(s->next_id + k);
			if (!s->slots[cand].in_use) {
				s->next_id = (uint8_t)(cand + 1);
				s->busy++;
				s->slots[cand].in_use = true;
				*id = cand;
				return &s->slots[cand];
			}
		}
	}
	return NULL;
}

static void slot_free(struct gk_auc_client *c, struct outstanding *o)
{
	gk_timer_cancel(c->loop, &o->timer);
	o->in_use = false;
	o->sock->busy--;
}

/* Sends o's packet (again), and waits: twice as long as the last time, and after the last try
 * until the deadline, so that a late answer is still used. */
static void transmit(struct gk_auc_client *c, struct outstanding *o)
{
	const struct pool *p = o->sock->pool;
	uint64_t now = gk_loop_now(c->loop), wait;

	if (o->tries == 0) {
		o->deadline_ms = now + p->budget_ms;
		o->sent_ms = now;
	}
	gk_loop_sendto(c->loop, o->sock->fd, o->pkt, o->len, p->server);
	o->tries++;
	wait = (uint64_t)c->cfg.timeout_ms << (o->tries < 8 ? o->tries - 1 : 7);
	if (o->tries >= p->tries || now + wait > o->deadline_ms)
		wait = o->deadline_ms > now ? o->deadline_ms - now : 0;
	gk_timer_arm(c->loop, &o->timer, wait);
}

/* Counts a lost Accounting-Request, and says so now and then (not once per message). */
static void acct_lost(struct gk_auc_client *c, uint64_t *why)
{
	uint64_t now = gk_loop_now(c->loop);

	(*why)++;
	c->st.acct_lost++;
	if (c->acct_warned && now - c->acct_warned_ms < ACCT_WARN_MS)
		return;
	c->acct_warned = true;
	c->acct_warned_ms = now;
	gk_warn("accounting requests lost so far: %llu without an answer from the AuC after %u "
	        "tries, %llu not sent with all %u accounting identifiers waiting for answers "
	        "(authentication is not affected)",
	        (unsigned long long)c->st.acct_given_up, c->acct.tries,
	        (unsigned long long)c->st.acct_no_room, c->acct.n_socks * IDS_PER_SOCKET);
}

enum ask { ASK_VECTOR, ASK_HA1, ASK_LOOKUP };

static void auth_request(struct gk_auc_client *c, enum ask ask, uint32_t handle, const char *idc,
                         const char *idsp, const char *realm)
{
	uint8_t id;
	struct outstanding *o = slot_alloc(&c->auth, &id);
	int n;

	if (!o) {
		c->st.no_slot++;
		c->ops.failed(c->user, handle, GK_R_OVERLOAD);
		return;
	}
	if (ask == ASK_HA1)
		n = gk_auc_encode_digest_request(o->pkt, sizeof(o->pkt), id, c->cfg.vendor, idc,
		                                 idsp, realm, c->cfg.nas_id, c->cfg.secret,
		                                 c->cfg.secret_len, o->req_auth);
	else if (ask == ASK_LOOKUP)
		n = gk_auc_encode_lookup_request(o->pkt, sizeof(o->pkt), id, c->cfg.vendor, idc,
		                                 idsp, c->cfg.nas_id, c->cfg.secret,
		                                 c->cfg.secret_len, o->req_auth);
	else
		n = gk_auc_encode_auth_request(o->pkt, sizeof(o->pkt), id, c->cfg.vendor, idc, idsp,
		                               c->cfg.nas_id, c->cfg.secret, c->cfg.secret_len,
		                               o->req_auth);
	if (n < 0) {
		slot_free(c, o);
		c->ops.failed(c->user, handle, GK_R_INTERNAL);
		return;
	}
	o->acct = false;
	o->digest = ask == ASK_HA1;
	o->lookup = ask == ASK_LOOKUP;
	o->handle = handle;
	o->len = (uint16_t)n;
	o->tries = 0;
	c->st.requests++;
	if (o->lookup)
		c->st.lookups++;
	transmit(c, o);
}

void gk_auc_client_request(struct gk_auc_client *c, uint32_t handle, const char *idc,
                           const char *idsp)
{
	auth_request(c, ASK_VECTOR, handle, idc, idsp, NULL);
}

void gk_auc_client_lookup(struct gk_auc_client *c, uint32_t handle, const char *idc,
                          const char *idsp)
{
	if (!c->ops.known) {
		c->ops.failed(c->user, handle, GK_R_INTERNAL);
		return;
	}
	auth_request(c, ASK_LOOKUP, handle, idc, idsp, NULL);
}

void gk_auc_client_digest(struct gk_auc_client *c, uint32_t handle, const char *idc,
                          const char *idsp, const char *realm)
{
	if (!c->ops.ha1) {
		c->ops.failed(c->user, handle, GK_R_INTERNAL);
		return;
	}
	auth_request(c, ASK_HA1, handle, idc, idsp, realm ? realm : idsp);
}

void gk_auc_client_account(struct gk_auc_client *c, const struct gk_auc_acct *a)
{
	uint8_t id;
	struct outstanding *o = slot_alloc(&c->acct, &id);
	if (!o) {
		acct_lost(c, &c->st.acct_no_room);
		return;
	}
	int n =
	    gk_auc_encode_acct_request(o->pkt, sizeof(o->pkt), id, c->cfg.vendor, a, c->cfg.nas_id,
	                               c->cfg.secret, c->cfg.secret_len, o->req_auth);
	if (n < 0) {
		slot_free(c, o);
		c->st.acct_lost++;
		return;
	}
	o->acct = true;
	o->len = (uint16_t)n;
	o->tries = 0;
	c->st.acct_sent++;
	transmit(c, o);
}

static void on_timeout(struct gk_timer *t)
{
	struct outstanding *o =
	    (struct outstanding *)((char *)t - offsetof(struct outstanding, timer));
	struct gk_auc_client *c = o->c;

	if (o->tries < o->sock->pool->tries && gk_loop_now(c->loop) < o->deadline_ms) {
		if (o->acct)
			c->st.acct_retransmits++;
		else
			c->st.retransmits++;
		transmit(c, o);
		return;
	}
	bool acct = o->acct;
	uint32_t handle = o->handle;
	slot_free(c, o);
	if (acct) {
		acct_lost(c, &c->st.acct_given_up);
	} else {
		c->st.timeouts++;
		c->ops.failed(c->user, handle, GK_R_AUC_TIMEOUT);
	}
}

/* The User-Name of the request o keeps, into idc (empty when it cannot be read). */
static void asked_for(const struct outstanding *o, char idc[GK_ID_MAX + 1])
{
	struct gk_rad_pkt q;
	enum gk_reason why;
	const struct gk_rad_attr *a;

	idc[0] = '\0';
	if (gk_rad_decode(o->pkt, o->len, &q, &why) == 0 &&
	    (a = gk_rad_find(&q, GK_RAD_USER_NAME)) && a->len <= GK_ID_MAX) {
		memcpy(idc, a->val, a->len);
		idc[a->len] = '\0';
	}
}

/* The answer to a lookup (authenticators checked): Accept for the IDc asked, or Reject. */
static void lookup_answer(struct gk_auc_client *c, struct outstanding *o,
                          const struct gk_rad_pkt *p)
{
	char idc[GK_ID_MAX + 1], asked[GK_ID_MAX + 1];
	enum gk_reason why;
	uint32_t handle = o->handle;
	int known = gk_auc_decode_lookup_answer(p, idc, &why);

	if (known == 1) {
		asked_for(o, asked);
		if (strcmp(idc, asked) != 0) {
			known = -1; /* authentic, but not about what was asked: a broken AuC */
			why = GK_R_PARSE_BAD_VALUE;
		}
	}
	slot_free(c, o);
	if (known < 0) {
		c->st.bad_responses++;
		c->ops.failed(c->user, handle, why);
		return;
	}
	if (!known)
		c->st.lookups_unknown++;
	c->ops.known(c->user, handle, known == 1);
}

static void on_response(void *user, int fd, uint8_t *data, size_t len,
                        const struct sockaddr_storage *from)
{
	struct sock *s = user;
	struct gk_auc_client *c = s->pool->c;
	struct gk_rad_pkt p;
	enum gk_reason why;
	(void)fd;

	/* A socket only ever asked its own pool's server. */
	if (!gk_sockaddr_equal(from, s->pool->server)) {
		c->st.bad_responses++;
		return;
	}
	if (gk_rad_decode(data, len, &p, &why) < 0) {
		c->st.bad_responses++;
		return;
	}
	struct outstanding *o = &s->slots[p.id];
	if (!o->in_use ||
	    gk_rad_verify_response(&p, o->req_auth, c->cfg.secret, c->cfg.secret_len, &why) < 0) {
		c->st.bad_responses++;
		return;
	}
	if (o->acct) {
		if (p.code == GK_RAD_ACCOUNTING_RESPONSE)
			c->st.acct_acked++;
		slot_free(c, o);
		return;
	}
	c->st.answered_after_retransmit += o->tries > 1;
	gk_histogram_observe_ms(&c->st.rtt, gk_loop_now(c->loop) - o->sent_ms);
	uint32_t handle = o->handle;
	if (o->lookup) {
		lookup_answer(c, o, &p);
		return;
	}
	if (p.code == GK_RAD_ACCESS_ACCEPT && o->digest) {
		struct gk_auc_ha1 h;
		int ret = gk_auc_decode_ha1_accept(&p, c->cfg.vendor, o->req_auth, c->cfg.secret,
		                                   c->cfg.secret_len, &h, &why);
		slot_free(c, o);
		if (ret < 0) {
			c->st.bad_responses++;
			c->ops.failed(c->user, handle, why);
		} else {
			c->ops.ha1(c->user, handle, &h);
		}
		gk_wipe(&h, sizeof(h));
		return;
	}
	if (p.code == GK_RAD_ACCESS_ACCEPT) {
		struct gk_auc_vector v;
		int ret = gk_auc_decode_accept(&p, c->cfg.vendor, o->req_auth, c->cfg.secret,
		                               c->cfg.secret_len, &v, &why);
		slot_free(c, o);
		if (ret < 0) {
			c->st.bad_responses++;
			c->ops.failed(c->user, handle, why);
		} else {
			c->ops.vector(c->user, handle, &v);
		}
		gk_wipe(&v, sizeof(v));
		return;
	}
	slot_free(c, o);
	c->st.rejects++;
	c->ops.failed(c->user, handle, GK_R_AUC_REJECT);
}
