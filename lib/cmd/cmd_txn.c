// SPDX-License-Identifier: GPL-2.0-only
/*
 * Transactions of the command/response bindings (MGCP, H.248 text): include/gatekey/cmd/cmd_txn.h.
 * Two fixed pools with hash chains: commands we sent (retransmitted with exponential backoff
 * until a response, RFC 3435 §3.5.3 / H.248.1 D.1.2) and commands we received (working, then
 * answered: the reply bytes are kept so a duplicate gets exactly the same answer). Answered
 * commands also sit on a FIFO, oldest first: when the pool is full a new command takes the slot
 * of the oldest answered one, which costs only the same-bytes answer to a very late duplicate,
 * instead of being dropped, which under load would turn every retransmission into another drop.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "gatekey/cmd/cmd_txn.h"
#include "gatekey/crypto/crypto.h"

enum in_state { IN_FREE = 0, IN_WORKING, IN_ANSWERED };

struct out_slot {
	bool used;
	uint8_t type; /* enum gk_msg_type of the command */
	uint16_t len;
	uint32_t tid, seal, tries, next;
	uint64_t cookie;
	struct sockaddr_storage to;
	char idc[GK_ID_MAX + 1], idsp[GK_ID_MAX + 1];
	struct gk_timer timer;
	struct gk_cmd_txn *t;
	uint8_t buf[GK_CMD_BUF];
};

struct in_slot {
	uint8_t state;
	bool pending_sent;
	uint16_t len;
	uint32_t tid, seal, next;
	uint32_t older, newer; /* the answered FIFO (IN_ANSWERED only) */
	struct sockaddr_storage from;
	struct gk_timer timer;
	struct gk_cmd_txn *t;
	uint8_t buf[GK_CMD_BUF];
};

struct gk_cmd_txn {
	const struct gk_codec *codec;
	struct gk_cmd_txn_cfg cfg;
	struct gk_cmd_txn_ops ops;
	void *user;
	struct gk_loop *loop;
	struct out_slot *out; /* 1..max_out */
	struct in_slot *in;   /* 1..max_in */
	uint32_t *out_hash, *in_hash, out_mask, in_mask;
	uint32_t out_free, in_free, n_out, n_in;
	uint32_t answered_oldest, answered_newest;
	uint32_t next_tid;
	struct gk_msg scratch;
	struct gk_cmd_txn_stats stats;
};

void gk_cmd_txn_cfg_defaults(struct gk_cmd_txn_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->t_init_ms = 200;
	c->t_max_ms = 4000;
	c->max_retx = 7;
	c->t_pending_ms = 5000;
	c->t_hist_ms = 30000;
	c->t_work_ms = 30000;
	c->max_out = 4096;
	c->max_in = 4096;
}

struct gk_cmd_wire *gk_cmd_wire_of(struct gk_msg *m)
{
	switch (m->proto) {
	case GK_PROTO_MGCP:
		return &m->wire.mgcp.cmd;
	case GK_PROTO_H248:
		return &m->wire.h248.cmd;
	default:
		return NULL;
	}
}

static uint16_t port_of(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)a)->sin_port;
	if (a->ss_family == AF_INET6)
		return ((const struct sockaddr_in6 *)(const void *)a)->sin6_port;
	return 0;
}

static uint32_t pow2(uint32_t n)
{
	uint32_t p = 1;
	while (p < 2 * n)
		p <<= 1;
	return p;
}

static void out_timer(struct gk_timer *tm);
static void in_timer(struct gk_timer *tm);

struct gk_cmd_txn *gk_cmd_txn_new(const struct gk_codec *codec, const struct gk_cmd_txn_cfg *cfg,
                                  const struct gk_cmd_txn_ops *ops, void *user,
                                  struct gk_loop *loop, char *err, size_t errlen)
{
	struct gk_cmd_txn *t;

	if (!codec || (codec->proto != GK_PROTO_MGCP && codec->proto != GK_PROTO_H248)) {
		snprintf(err, errlen, "transactions are for the MGCP and H.248 codecs");
		return NULL;
	}
	if (!cfg->max_out || !cfg->max_in || cfg->max_out > 1u << 24 || cfg->max_in > 1u << 24 ||
	    !cfg->t_init_ms || !ops->xmit) {
		snprintf(err, errlen, "bad transaction settings");
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->codec = codec;
	t->cfg = *cfg;
	t->ops = *ops;
	t->user = user;
	t->loop = loop;
	t->out_mask = pow2(cfg->max_out) - 1;
	t->in_mask = pow2(cfg->max_in) - 1;
	t->out = calloc((size_t)cfg->max_out + 1, sizeof(*t->out));
	t->in = calloc((size_t)cfg->max_in + 1, sizeof(*t->in));
	t->out_hash = calloc((size_t)t->out_mask + 1, sizeof(uint32_t));
	t->in_hash = calloc((size_t)t->in_mask + 1, sizeof(uint32_t));
	if (!t->out || !t->in || !t->out_hash || !t->in_hash) {
		snprintf(err, errlen, "out of memory for %u transactions",
		         cfg->max_out + cfg->max_in);
		gk_cmd_txn_free(t);
		return NULL;
	}
	for (uint32_t i = cfg->max_out; i >= 1; i--) {
		t->out[i].next = t->out_free;
		t->out_free = i;
		t->out[i].t = t;
		t->out[i].timer.fn = out_timer;
	}
	for (uint32_t i = cfg->max_in; i >= 1; i--) {
		t->in[i].next = t->in_free;
		t->in_free = i;
		t->in[i].t = t;
		t->in[i].timer.fn = in_timer;
	}
	gk_random((uint8_t *)&t->next_tid, sizeof(t->next_tid));
	t->next_tid = t->next_tid % GK_CMD_TID_MAX + 1;
	return t;
}

void gk_cmd_txn_free(struct gk_cmd_txn *t)
{
	if (!t)
		return;
	if (t->out)
		for (uint32_t i = 1; i <= t->cfg.max_out; i++)
			if (t->out[i].used)
				gk_timer_cancel(t->loop, &t->out[i].timer);
	if (t->in)
		for (uint32_t i = 1; i <= t->cfg.max_in; i++)
			if (t->in[i].state != IN_FREE)
				gk_timer_cancel(t->loop, &t->in[i].timer);
	free(t->out);
	free(t->in);
	free(t->out_hash);
	free(t->in_hash);
	free(t);
}

/* ---- pools ---------------------------------------------------------------------------------- */

static uint32_t in_bucket(const struct gk_cmd_txn *t, const struct sockaddr_storage *a,
                          uint32_t tid)
{
	return ((tid * 2654435761u) ^ port_of(a)) & t->in_mask;
}

static struct out_slot *out_find(struct gk_cmd_txn *t, uint32_t tid)
{
	for (uint32_t i = t->out_hash[tid & t->out_mask]; i; i = t->out[i].next)
		if (t->out[i].tid == tid)
			return &t->out[i];
	return NULL;
}

static void out_release(struct gk_cmd_txn *t, struct out_slot *o)
{
	uint32_t idx = (uint32_t)(o - t->out), *pp = &t->out_hash[o->tid & t->out_mask];
	while (*pp && *pp != idx)
		pp = &t->out[*pp].next;
	if (*pp)
		*pp = o->next;
	gk_timer_cancel(t->loop, &o->timer);
	o->used = false;
	o->next = t->out_free;
	t->out_free = idx;
	t->n_out--;
}

static struct in_slot *in_find(struct gk_cmd_txn *t, const struct sockaddr_storage *a, uint32_t tid)
{
	for (uint32_t i = t->in_hash[in_bucket(t, a, tid)]; i; i = t->in[i].next)
		if (t->in[i].tid == tid && gk_sockaddr_equal(&t->in[i].from, a))
			return &t->in[i];
	return NULL;
}

static void answered_unlink(struct gk_cmd_txn *t, struct in_slot *s)
{
	if (s->older)
		t->in[s->older].newer = s->newer;
	else
		t->answered_oldest = s->newer;
	if (s->newer)
		t->in[s->newer].older = s->older;
	else
		t->answered_newest = s->older;
	s->older = s->newer = 0;
}

static void answered_append(struct gk_cmd_txn *t, struct in_slot *s)
{
	uint32_t idx = (uint32_t)(s - t->in);
	s->older = t->answered_newest;
	s->newer = 0;
	if (t->answered_newest)
		t->in[t->answered_newest].newer = idx;
	else
		t->answered_oldest = idx;
	t->answered_newest = idx;
}

static void in_release(struct gk_cmd_txn *t, struct in_slot *s)
{
	uint32_t idx = (uint32_t)(s - t->in), *pp = &t->in_hash[in_bucket(t, &s->from, s->tid)];
	while (*pp && *pp != idx)
		pp = &t->in[*pp].next;
	if (*pp)
		*pp = s->next;
	gk_timer_cancel(t->loop, &s->timer);
	if (s->state == IN_ANSWERED)
		answered_unlink(t, s);
	s->state = IN_FREE;
	s->next = t->in_free;
	t->in_free = idx;
	t->n_in--;
}

static struct in_slot *in_alloc(struct gk_cmd_txn *t, const struct sockaddr_storage *a,
                                uint32_t tid)
{
	uint32_t idx, b;
	struct in_slot *s;
	if (!t->in_free && t->answered_oldest) {
		in_release(t, &t->in[t->answered_oldest]);
		t->stats.evicted++;
	}
	idx = t->in_free;
	if (!idx)
		return NULL;
	s = &t->in[idx];
	t->in_free = s->next;
	s->tid = tid;
	s->from = *a;
	s->pending_sent = false;
	s->len = 0;
	b = in_bucket(t, a, tid);
	s->next = t->in_hash[b];
	t->in_hash[b] = idx;
	t->n_in++;
	return s;
}

static uint32_t new_tid(struct gk_cmd_txn *t)
{
	for (;;) {
		uint32_t tid = t->next_tid;
		t->next_tid = tid >= GK_CMD_TID_MAX ? 1 : tid + 1;
		if (!out_find(t, tid))
			return tid;
	}
}

/* ---- sending -------------------------------------------------------------------------------- */

static void stamp(struct gk_cmd_txn *t, struct gk_msg *m)
{
	if (m->proto == GK_PROTO_H248 && t->cfg.local_mid[0])
		snprintf(m->wire.h248.mid, sizeof(m->wire.h248.mid), "%s", t->cfg.local_mid);
}

/* A protocol-level response (kind REPLY 200, PENDING or RESP_ACK) for the command whose wire
 * context is w. */
static int encode_ack(struct gk_cmd_txn *t, const struct gk_msg *cmd, uint8_t kind, uint8_t flags,
                      uint8_t *buf, size_t cap)
{
	struct gk_msg *a = &t->scratch;
	if (a != cmd) {
		memset(a, 0, offsetof(struct gk_msg, wire));
		a->proto = cmd->proto;
		gk_msg_copy_wire(a, cmd);
	} else {
		memset(a, 0, offsetof(struct gk_msg, wire));
		a->proto = (uint8_t)t->codec->proto;
	}
	a->type = GK_MSG_ACK;
	struct gk_cmd_wire *w = gk_cmd_wire_of(a);
	uint32_t tid = w->tid;
	w->kind = kind;
	w->flags = flags;
	w->code = 0;
	w->n_acks = 0;
	if (kind == GK_CMD_RESP_ACK) {
		w->n_acks = 1;
		w->acks[0].first = w->acks[0].last = tid;
	}
	if (a->proto == GK_PROTO_H248)
		a->wire.h248.mid[0] = '\0';
	stamp(t, a);
	int n = t->codec->encode(a, buf, cap);
	if (n < 0)
		t->stats.encode_errors++;
	return n;
}

static void send_resp_ack(struct gk_cmd_txn *t, struct gk_msg *m, const struct sockaddr_storage *to,
                          uint32_t seal)
{
	uint8_t buf[256];
	int n = encode_ack(t, m, GK_CMD_RESP_ACK, 0, buf, sizeof(buf));
	if (n > 0)
		t->ops.xmit(t->user, to, buf, (size_t)n, seal);
}

static bool request_class(uint8_t type)
{
	return type == GK_MSG_REGISTER || type == GK_MSG_ANSWER || type == GK_MSG_DEREGISTER ||
	       type == GK_MSG_OTHER;
}

static bool command_type(uint8_t type)
{
	return request_class(type) || type == GK_MSG_CHALLENGE || type == GK_MSG_SUCCESS;
}

/* Answers the received command s with what m is (an ACK built here, or m itself). */
static void answer(struct gk_cmd_txn *t, struct in_slot *s, const struct gk_msg *m, bool as_is)
{
	int n;
	uint8_t flags = s->pending_sent ? GK_CMD_F_WANT_ACK : 0;

	if (as_is) {
		struct gk_msg *r = &t->scratch;
		if (r != m)
			memcpy(r, m, sizeof(*r));
		struct gk_cmd_wire *w = gk_cmd_wire_of(r);
		w->kind = GK_CMD_REPLY;
		w->flags = flags;
		w->n_acks = 0;
		if (r->proto == GK_PROTO_H248)
			r->wire.h248.mid[0] = '\0';
		stamp(t, r);
		n = t->codec->encode(r, s->buf, sizeof(s->buf));
		if (n < 0)
			t->stats.encode_errors++;
	} else {
		n = encode_ack(t, m, GK_CMD_REPLY, flags, s->buf, sizeof(s->buf));
	}
	if (s->state == IN_ANSWERED)
		answered_unlink(t, s);
	s->state = IN_ANSWERED;
	answered_append(t, s);
	s->len = n > 0 ? (uint16_t)n : 0;
	gk_timer_cancel(t->loop, &s->timer);
	gk_timer_arm(t->loop, &s->timer, t->cfg.t_hist_ms);
	if (s->len) {
		t->stats.replies_sent++;
		t->ops.xmit(t->user, &s->from, s->buf, s->len, s->seal);
	}
}

int gk_cmd_txn_output(struct gk_cmd_txn *t, const struct gk_msg *m,
                      const struct sockaddr_storage *to, uint32_t seal, uint64_t cookie)
{
	const struct gk_cmd_wire *w = gk_cmd_wire_of((struct gk_msg *)m);
	bool reply_type =
	    m->type == GK_MSG_REJECT || m->type == GK_MSG_DEREG_OK || m->type == GK_MSG_OTHER_OK;
	bool answered = false;

	if (!w || m->proto != t->codec->proto || (!reply_type && !command_type(m->type)))
		return -EINVAL;
	if (w->kind == GK_CMD_REQUEST && w->tid) {
		struct in_slot *s = in_find(t, to, w->tid);
		if (s && s->state == IN_WORKING) {
			s->seal = seal;
			answer(t, s, m, reply_type);
			answered = true;
		}
	}
	if (reply_type) {
		if (answered)
			return 0;
		/* The command is no longer remembered: answer it anyway, without caching. */
		uint8_t buf[GK_CMD_BUF];
		struct gk_msg *r = &t->scratch;
		memcpy(r, m, sizeof(*r));
		struct gk_cmd_wire *rw = gk_cmd_wire_of(r);
		rw->kind = GK_CMD_REPLY;
		rw->n_acks = 0;
		stamp(t, r);
		int n = t->codec->encode(r, buf, sizeof(buf));
		if (n < 0) {
			t->stats.encode_errors++;
			return -EINVAL;
		}
		t->stats.replies_sent++;
		t->ops.xmit(t->user, to, buf, (size_t)n, seal);
		return 0;
	}

	uint32_t idx = t->out_free;
	if (!idx) {
		t->stats.pool_full++;
		return -ENOBUFS;
	}
	struct out_slot *o = &t->out[idx];
	struct gk_msg *c = &t->scratch;
	memcpy(c, m, sizeof(*c));
	struct gk_cmd_wire *cw = gk_cmd_wire_of(c);
	uint32_t tid = new_tid(t);
	cw->kind = GK_CMD_REQUEST;
	cw->tid = tid;
	cw->flags = 0;
	cw->code = 0;
	cw->n_acks = 0;
	if (c->proto == GK_PROTO_H248 && (m->type == GK_MSG_CHALLENGE || m->type == GK_MSG_SUCCESS))
		c->wire.h248.mid[0] = '\0'; /* a context copied from the terminal's request */
	stamp(t, c);
	int n = t->codec->encode(c, o->buf, sizeof(o->buf));
	if (n < 0) {
		t->stats.encode_errors++;
		return n == -ENOSPC ? -ENOBUFS : -EINVAL;
	}
	t->out_free = o->next;
	o->used = true;
	o->type = m->type;
	o->len = (uint16_t)n;
	o->tid = tid;
	o->seal = seal;
	o->tries = 0;
	o->cookie = cookie;
	o->to = *to;
	memcpy(o->idc, m->idc, sizeof(o->idc));
	memcpy(o->idsp, m->idsp, sizeof(o->idsp));
	o->next = t->out_hash[tid & t->out_mask];
	t->out_hash[tid & t->out_mask] = idx;
	t->n_out++;
	t->stats.cmds_sent++;
	gk_timer_arm(t->loop, &o->timer, t->cfg.t_init_ms);
	t->ops.xmit(t->user, to, o->buf, o->len, seal);
	return 0;
}

/* ---- timers --------------------------------------------------------------------------------- */

static void out_timer(struct gk_timer *tm)
{
	struct out_slot *o =
	    (struct out_slot *)(void *)((char *)tm - offsetof(struct out_slot, timer));
	struct gk_cmd_txn *t = o->t;

	if (o->tries >= t->cfg.max_retx) {
		uint64_t cookie = o->cookie;
		t->stats.gave_up++;
		out_release(t, o);
		if (t->ops.done)
			t->ops.done(t->user, cookie, GK_CMD_GAVE_UP, 0);
		return;
	}
	o->tries++;
	uint64_t d = (uint64_t)t->cfg.t_init_ms << (o->tries < 20 ? o->tries : 20);
	if (d > t->cfg.t_max_ms)
		d = t->cfg.t_max_ms;
	t->stats.retransmissions++;
	gk_timer_arm(t->loop, &o->timer, d);
	t->ops.xmit(t->user, &o->to, o->buf, o->len, o->seal);
}

static void in_timer(struct gk_timer *tm)
{
	struct in_slot *s =
	    (struct in_slot *)(void *)((char *)tm - offsetof(struct in_slot, timer));
	if (s->state == IN_WORKING)
		s->t->stats.replies_forgotten++;
	in_release(s->t, s);
}

/* ---- receiving ------------------------------------------------------------------------------ */

/* The peer has our replies to these transactions: forget them. */
static void release_acked(struct gk_cmd_txn *t, const struct gk_cmd_wire *w,
                          const struct sockaddr_storage *from)
{
	for (unsigned r = 0; r < w->n_acks && r < GK_CMD_ACKS_MAX; r++) {
		uint32_t a = w->acks[r].first, b = w->acks[r].last;
		if (b - a <= 256) {
			for (uint64_t tid = a; tid <= b; tid++) {
				struct in_slot *s = in_find(t, from, (uint32_t)tid);
				if (s && s->state == IN_ANSWERED)
					in_release(t, s);
			}
			continue;
		}
		for (uint32_t i = 1; i <= t->cfg.max_in; i++) {
			struct in_slot *s = &t->in[i];
			if (s->state == IN_ANSWERED && s->tid >= a && s->tid <= b &&
			    gk_sockaddr_equal(&s->from, from))
				in_release(t, s);
		}
	}
}

/* A command of the exchange with no slot to work in: refused at once as overload, the answer
 * not kept (a retransmission is refused the same way while the pool stays full). */
static void shed(struct gk_cmd_txn *t, const struct gk_msg *m, const struct sockaddr_storage *from,
                 uint32_t seal)
{
	uint8_t buf[512];
	struct gk_msg *r = &t->scratch;

	memset(r, 0, offsetof(struct gk_msg, wire));
	r->proto = m->proto;
	gk_msg_copy_wire(r, m);
	r->type = GK_MSG_REJECT;
	r->reason = GK_R_OVERLOAD;
	r->retry_after = t->ops.shed(t->user);
	struct gk_cmd_wire *w = gk_cmd_wire_of(r);
	w->kind = GK_CMD_REPLY;
	w->flags = 0;
	w->n_acks = 0;
	if (r->proto == GK_PROTO_H248)
		r->wire.h248.mid[0] = '\0';
	stamp(t, r);
	int n = t->codec->encode(r, buf, sizeof(buf));
	if (n < 0) {
		t->stats.encode_errors++;
		return;
	}
	t->stats.shed++;
	t->stats.replies_sent++;
	t->ops.xmit(t->user, from, buf, (size_t)n, seal);
}

int gk_cmd_txn_input(struct gk_cmd_txn *t, struct gk_msg *m, const struct sockaddr_storage *from,
                     uint32_t seal)
{
	struct gk_cmd_wire *w = gk_cmd_wire_of(m);

	if (!w || m->proto != t->codec->proto)
		return 1;
	switch (w->kind) {
	case GK_CMD_REQUEST: {
		release_acked(t, w, from);
		struct in_slot *s = in_find(t, from, w->tid);
		if (s) {
			t->stats.duplicates++;
			if (s->state == IN_WORKING) {
				uint8_t buf[256];
				int n = encode_ack(t, m, GK_CMD_PENDING, 0, buf, sizeof(buf));
				if (n > 0) {
					s->pending_sent = true;
					t->stats.pending_sent++;
					t->ops.xmit(t->user, from, buf, (size_t)n, seal);
				}
				/* The exchange's command is still being worked on, and what it
				 * waits for may be what was lost (an SBC's request to the core):
				 * the state machine hears of the retransmission, as it does of a
				 * SIP one, and knows it by its N1. */
				if (t->cfg.defer && request_class(m->type))
					return 1;
			} else if (s->len) {
				t->ops.xmit(t->user, from, s->buf, s->len, s->seal);
			}
			return 0;
		}
		t->stats.cmds_in++;
		s = in_alloc(t, from, w->tid);
		if (!s) {
			t->stats.pool_full++;
			if (t->cfg.defer && request_class(m->type) && t->ops.shed)
				shed(t, m, from, seal); /* and the peer waits, if it listens */
			return 0;                       /* else the peer retransmits */
		}
		s->seal = seal;
		if (t->cfg.defer && request_class(m->type)) {
			s->state = IN_WORKING;
			gk_timer_arm(t->loop, &s->timer, t->cfg.t_work_ms);
		} else {
			answer(t, s, m, false);
		}
		return 1;
	}
	case GK_CMD_PENDING:
	case GK_CMD_REPLY: {
		struct out_slot *o = out_find(t, w->tid);
		if (!o || !gk_sockaddr_equal(&o->to, from)) {
			t->stats.stray_responses++;
			if (w->kind == GK_CMD_REPLY && (w->flags & GK_CMD_F_WANT_ACK))
				send_resp_ack(t, m, from, seal);
			return 0;
		}
		if (w->kind == GK_CMD_PENDING) {
			t->stats.pending_in++;
			o->tries = 0;
			gk_timer_cancel(t->loop, &o->timer);
			gk_timer_arm(t->loop, &o->timer, t->cfg.t_pending_ms);
			return 0;
		}
		t->stats.acks_in++;
		if (w->flags & GK_CMD_F_WANT_ACK)
			send_resp_ack(t, m, from, seal);
		uint8_t type = o->type;
		uint64_t cookie = o->cookie;
		bool refused = m->type == GK_MSG_REJECT;
		memcpy(m->idc, o->idc, sizeof(m->idc));
		memcpy(m->idsp, o->idsp, sizeof(m->idsp));
		out_release(t, o);
		if (t->ops.done)
			t->ops.done(t->user, cookie, refused ? GK_CMD_REFUSED : GK_CMD_OK, w->code);
		if (refused)
			return request_class(type) ? 1 : 0;
		if (type == GK_MSG_DEREGISTER) {
			m->type = GK_MSG_DEREG_OK;
			m->fields = GK_F_EXPIRES;
			m->expires = 0;
			return 1;
		}
		if (type == GK_MSG_OTHER) {
			m->type = GK_MSG_OTHER_OK;
			return 1;
		}
		return 0;
	}
	case GK_CMD_RESP_ACK:
		t->stats.resp_acks_in++;
		release_acked(t, w, from);
		return 0;
	default:
		return 0;
	}
}

const struct gk_cmd_txn_stats *gk_cmd_txn_stats(const struct gk_cmd_txn *t)
{
	return &t->stats;
}

unsigned gk_cmd_txn_out_count(const struct gk_cmd_txn *t)
{
	return t->n_out;
}

unsigned gk_cmd_txn_in_count(const struct gk_cmd_txn *t)
{
	return t->n_in;
}
