// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gatekey/auc_client.h"
#include "gatekey/log.h"

#define IDS_PER_SOCKET 256
#define PKT_MAX        1024

struct outstanding {
	bool in_use;
	bool acct;
	bool digest; /* asked for HA1, not a vector */
	uint8_t tries;
	uint32_t handle;
	uint8_t req_auth[GK_RAD_AUTH_LEN];
	uint16_t len;
	uint8_t pkt[PKT_MAX];
	struct gk_timer timer;
	struct gk_auc_client *c;
	uint32_t sock;
};

struct sock {
	int fd;
	uint8_t next_id;
	uint32_t busy;
	struct gk_auc_client *c;
	struct outstanding slots[IDS_PER_SOCKET];
};

struct gk_auc_client {
	struct gk_loop *loop;
	struct gk_auc_client_cfg cfg;
	struct gk_auc_client_ops ops;
	void *user;
	struct sock *socks;
	uint32_t n_socks;
	uint32_t rr;
	struct gk_auc_client_stats st;
};

static void on_response(void *user, int fd, uint8_t *data, size_t len,
                        const struct sockaddr_storage *from);
static void on_timeout(struct gk_timer *t);

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
	c->n_socks = c->cfg.sockets;
	c->socks = calloc(c->n_socks, sizeof(*c->socks));
	if (!c->socks) {
		snprintf(err, errlen, "out of memory");
		free(c);
		return NULL;
	}
	for (uint32_t i = 0; i < c->n_socks; i++) {
		struct sockaddr_storage any;
		memset(&any, 0, sizeof(any));
		any.ss_family = c->cfg.auth_server.ss_family;
		struct sock *s = &c->socks[i];
		s->c = c;
		s->fd = gk_udp_socket(&any);
		int ret = s->fd < 0 ? s->fd : gk_loop_add_udp(loop, s->fd, on_response, s);
		if (ret < 0) {
			snprintf(err, errlen, "RADIUS client socket: %s", strerror(-ret));
			c->n_socks = i;
			gk_auc_client_free(c);
			return NULL;
		}
		for (unsigned j = 0; j < IDS_PER_SOCKET; j++) {
			s->slots[j].timer.fn = on_timeout;
			s->slots[j].c = c;
			s->slots[j].sock = i;
		}
	}
	return c;
}

void gk_auc_client_free(struct gk_auc_client *c)
{
	if (!c)
		return;
	for (uint32_t i = 0; i < c->n_socks; i++)
		close(c->socks[i].fd);
	gk_wipe(c->cfg.secret, sizeof(c->cfg.secret));
	free(c->socks);
	free(c);
}

const struct gk_auc_client_stats *gk_auc_client_stats(const struct gk_auc_client *c)
{
	return &c->st;
}

static struct outstanding *slot_alloc(struct gk_auc_client *c, uint8_t *id)
{
	for (uint32_t n = 0; n < c->n_socks; n++) {
		struct sock *s = &c->socks[c->rr++ % c->n_socks];
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
	c->st.no_slot++;
	return NULL;
}

static void slot_free(struct gk_auc_client *c, struct outstanding *o)
{
	gk_timer_cancel(c->loop, &o->timer);
	o->in_use = false;
	c->socks[o->sock].busy--;
}

static void transmit(struct gk_auc_client *c, struct outstanding *o)
{
	const struct sockaddr_storage *to = o->acct ? &c->cfg.acct_server : &c->cfg.auth_server;
	gk_loop_sendto(c->loop, c->socks[o->sock].fd, o->pkt, o->len, to);
	o->tries++;
	gk_timer_arm(c->loop, &o->timer, c->cfg.timeout_ms);
}

static void auth_request(struct gk_auc_client *c, uint32_t handle, const char *idc,
                         const char *idsp, const char *realm)
{
	uint8_t id;
	struct outstanding *o = slot_alloc(c, &id);
	int n;

	if (!o) {
		c->ops.failed(c->user, handle, GK_R_OVERLOAD);
		return;
	}
	if (realm)
		n = gk_auc_encode_digest_request(o->pkt, sizeof(o->pkt), id, c->cfg.vendor, idc,
		                                 idsp, realm, c->cfg.nas_id, c->cfg.secret,
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
	o->digest = realm != NULL;
	o->handle = handle;
	o->len = (uint16_t)n;
	o->tries = 0;
	c->st.requests++;
	transmit(c, o);
}

void gk_auc_client_request(struct gk_auc_client *c, uint32_t handle, const char *idc,
                           const char *idsp)
{
	auth_request(c, handle, idc, idsp, NULL);
}

void gk_auc_client_digest(struct gk_auc_client *c, uint32_t handle, const char *idc,
                          const char *idsp, const char *realm)
{
	if (!c->ops.ha1) {
		c->ops.failed(c->user, handle, GK_R_INTERNAL);
		return;
	}
	auth_request(c, handle, idc, idsp, realm ? realm : idsp);
}

void gk_auc_client_account(struct gk_auc_client *c, const struct gk_auc_acct *a)
{
	uint8_t id;
	struct outstanding *o = slot_alloc(c, &id);
	if (!o) {
		c->st.acct_lost++;
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

	if (o->tries < c->cfg.tries) {
		c->st.retransmits++;
		transmit(c, o);
		return;
	}
	bool acct = o->acct;
	uint32_t handle = o->handle;
	slot_free(c, o);
	if (acct) {
		c->st.acct_lost++;
		gk_warn("accounting request lost: no answer from the AuC");
	} else {
		c->st.timeouts++;
		c->ops.failed(c->user, handle, GK_R_AUC_TIMEOUT);
	}
}

static void on_response(void *user, int fd, uint8_t *data, size_t len,
                        const struct sockaddr_storage *from)
{
	struct sock *s = user;
	struct gk_auc_client *c = s->c;
	struct gk_rad_pkt p;
	enum gk_reason why;
	(void)fd;

	if (!gk_sockaddr_equal(from, &c->cfg.auth_server) &&
	    !gk_sockaddr_equal(from, &c->cfg.acct_server)) {
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
	uint32_t handle = o->handle;
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
