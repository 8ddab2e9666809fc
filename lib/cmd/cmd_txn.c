// SPDX-License-Identifier: GPL-2.0-only
/*
 * Transactions of the command/response bindings (MGCP, H.248 text): include/gatekey/cmd/cmd_txn.h.
 *
 * Commands we sent: a slot each with its bytes and a timer, retransmitted with exponential
 * backoff until a response (RFC 3435 §3.5.3 / H.248.1 D.1.2). Few are in flight at once (a
 * command ends with its peer's response, a round trip); the slots grow in steps up to max_out.
 *
 * Commands we received: the history. A duplicate must get exactly the answer its command got for
 * as long as the sender may retransmit it, T-hist (RFC 3435 §3.5.4, 30 s; H.248.1 LONG-TIMER):
 * processed again, it would meet an exchange that has moved on, and its new answer would be
 * taken for the final response of a command the peer still waits on. At the rates an SBC takes,
 * T-hist is hundreds of thousands of answers, so the history costs what it holds:
 * - a slot is 64 bytes: the peer in compact form and no timer of its own. Each slot is on one of
 *   two lists, working (in the order received) or answered (in the order answered), which are
 *   then also in the order of their deadlines (t_work_ms, t_hist_ms): one timer per list ends
 *   what is due at its head, and answered slots are also evicted from that end;
 * - an answer's bytes go to a separate store of 60-byte cells, chained: an MGCP "200 <tid> OK" is
 *   one cell, an H.248 Reply one to three, where a buffer for the largest (GK_CMD_BUF) would
 *   waste over 1,300 bytes on each;
 * - slots, cells and hash heads grow in steps (runtime/steps.h) up to max_in, so memory follows
 *   the command rate times T-hist and stays small while idle.
 * Only at max_in does a new command take the slot of the oldest answered one (counted: evicted,
 * and evicted_young when that answer was younger than T-hist) rather than being dropped, which
 * under load would turn every retransmission into another drop. Anyone's command takes a slot,
 * so the history is bounded by max_in and gives way oldest first: a stranger can cost no more.
 *
 * Map: settings and compact peers; the byte store; the received history (lists, growth,
 * eviction, expiry); the sent commands; output (answers and new commands); input.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "gatekey/cmd/cmd_txn.h"
#include "gatekey/crypto/crypto.h"
#include "gatekey/crypto/siphash.h"
#include "gatekey/runtime/steps.h"

/* First steps: what an idle socket holds (16 KiB of slots, 32 KiB of cells, 8 commands' room to
 * send). Each table doubles from there when it runs out. */
#define FIRST_IN    256
#define FIRST_CELLS 512
#define FIRST_OUT   8
/* Cells the store may hold per received command at most: enough for a history full of H.248
 * replies; past it, the oldest answers give way to the new, as slots do at max_in. */
#define CELLS_PER_CMD 3
#define CELL_BYTES    60

enum in_state { IN_FREE = 0, IN_WORKING, IN_ANSWERED };

/* A peer as the history compares it (gk_sockaddr_equal: family, port and address) plus what it
 * takes to send to it again (the IPv6 scope): 24 bytes where a sockaddr_storage is 128. */
struct peer {
	uint16_t family;
	uint16_t port; /* network order */
	uint32_t scope;
	uint8_t addr[16];
};

struct in_slot {
	uint32_t tid;
	uint32_t next;         /* hash chain, or the free list */
	uint32_t older, newer; /* its list: working or answered */
	uint32_t cells;        /* the kept answer's first cell; 0: none */
	uint32_t seal;
	uint64_t at_ms; /* when it joined its list (loop clock): its deadline's start */
	uint16_t len;   /* bytes of the kept answer */
	uint8_t state;
	bool pending_sent;
	struct peer from;
};

_Static_assert(sizeof(struct in_slot) <= 64, "a remembered command stays within 64 bytes");

struct cell {
	uint32_t next; /* the answer's next cell, or the free list; 0: none */
	uint8_t data[CELL_BYTES];
};

/* Slots by age: the oldest is the first due and the first to give way. */
struct age_list {
	uint32_t oldest, newest;
};

struct out_slot {
	bool used;
	uint8_t type; /* enum gk_msg_type of the command */
	uint16_t len;
	uint32_t tid, seal, tries, next;
	uint32_t pendings; /* provisional responses that restarted the wait */
	uint64_t cookie;
	struct sockaddr_storage to;
	char idc[GK_ID_MAX + 1], idsp[GK_ID_MAX + 1];
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

	/* Sent: slots 1..out_steps.cap - 1, hash heads by tid. */
	struct gk_steps out_steps, out_hash_steps;
	struct out_slot *out;
	uint32_t *out_hash, out_mask;
	uint32_t out_free, n_out;

	/* Received: slots 1..in_steps.cap - 1, hash heads by (peer, tid), the cells. */
	struct gk_steps in_steps, in_hash_steps, cell_steps;
	struct in_slot *in;
	uint32_t *in_hash, in_mask;
	uint8_t in_key[GK_SIPHASH_KEY_LEN]; /* where (peer, tid) lands: in_bucket */
	struct cell *cells;
	uint32_t in_free, n_in, cell_free, cells_free_n;
	struct age_list working, answered;
	struct gk_timer work_timer, hist_timer;

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
	c->max_out = GK_CMD_IN_FLIGHT_DEFAULT;
	c->max_in = GK_CMD_HISTORY_DEFAULT;
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

/* ---- compact peers -------------------------------------------------------------------------- */

static struct peer peer_of(const struct sockaddr_storage *a)
{
	struct peer p = {.family = a->ss_family};

	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *v4 = (const void *)a;
		p.port = v4->sin_port;
		memcpy(p.addr, &v4->sin_addr, 4);
	} else if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *v6 = (const void *)a;
		p.port = v6->sin6_port;
		p.scope = v6->sin6_scope_id;
		memcpy(p.addr, &v6->sin6_addr, 16);
	}
	return p;
}

/* gk_sockaddr_equal's comparison: the scope does not count. */
static bool peer_same(const struct peer *x, const struct peer *y)
{
	return x->family == y->family && x->port == y->port &&
	       memcmp(x->addr, y->addr, sizeof(x->addr)) == 0;
}

static void peer_addr(const struct peer *p, struct sockaddr_storage *a)
{
	memset(a, 0, sizeof(*a));
	a->ss_family = p->family;
	if (p->family == AF_INET) {
		struct sockaddr_in *v4 = (void *)a;
		v4->sin_port = p->port;
		memcpy(&v4->sin_addr, p->addr, 4);
	} else if (p->family == AF_INET6) {
		struct sockaddr_in6 *v6 = (void *)a;
		v6->sin6_port = p->port;
		v6->sin6_scope_id = p->scope;
		memcpy(&v6->sin6_addr, p->addr, 16);
	}
}

/* The smallest power of two at least n (at most 2^31). */
static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 1;
	while (p < n && p < 1u << 31)
		p <<= 1;
	return p;
}

/* ---- the byte store ------------------------------------------------------------------------- */

/* The cells from `from` to the top of what is resident join the free list. */
static void cells_link(struct gk_cmd_txn *t, uint32_t from)
{
	for (uint32_t i = t->cell_steps.cap - 1; i >= from; i--) {
		t->cells[i].next = t->cell_free;
		t->cell_free = i;
		t->cells_free_n++;
	}
}

/* A chain of n free cells, growing the store if it must; 0 when it is at its size. */
static uint32_t cells_take(struct gk_cmd_txn *t, uint32_t n)
{
	uint32_t head = 0, *tail = &head;

	while (t->cells_free_n < n) {
		uint32_t from = gk_steps_grow(&t->cell_steps);
		if (!from)
			return 0;
		cells_link(t, from);
		t->stats.grown++;
	}
	for (uint32_t k = 0; k < n; k++) {
		uint32_t i = t->cell_free;
		t->cell_free = t->cells[i].next;
		t->cells_free_n--;
		t->cells[i].next = 0;
		*tail = i;
		tail = &t->cells[i].next;
	}
	/* in use, and cell 0, which is never handed out: what justifies the steps (steps.h) */
	gk_steps_need(&t->cell_steps, t->cell_steps.cap - t->cells_free_n);
	return head;
}

static void cells_give_back(struct gk_cmd_txn *t, uint32_t head)
{
	while (head) {
		uint32_t next = t->cells[head].next;
		t->cells[head].next = t->cell_free;
		t->cell_free = head;
		t->cells_free_n++;
		head = next;
	}
}

static void cells_write(struct gk_cmd_txn *t, uint32_t head, const uint8_t *buf, size_t len)
{
	for (uint32_t i = head; i && len; i = t->cells[i].next) {
		size_t n = len < CELL_BYTES ? len : CELL_BYTES;
		memcpy(t->cells[i].data, buf, n);
		buf += n;
		len -= n;
	}
}

static void cells_read(const struct gk_cmd_txn *t, uint32_t head, uint8_t *buf, size_t len)
{
	for (uint32_t i = head; i && len; i = t->cells[i].next) {
		size_t n = len < CELL_BYTES ? len : CELL_BYTES;
		memcpy(buf, t->cells[i].data, n);
		buf += n;
		len -= n;
	}
}

/* ---- the received history ------------------------------------------------------------------- */

static void work_expired(struct gk_timer *tm);
static void hist_expired(struct gk_timer *tm);

static void list_append(struct gk_cmd_txn *t, struct age_list *l, struct in_slot *s)
{
	uint32_t idx = (uint32_t)(s - t->in);

	s->older = l->newest;
	s->newer = 0;
	if (l->newest)
		t->in[l->newest].newer = idx;
	else
		l->oldest = idx;
	l->newest = idx;
}

static void list_unlink(struct gk_cmd_txn *t, struct age_list *l, struct in_slot *s)
{
	if (s->older)
		t->in[s->older].newer = s->newer;
	else
		l->oldest = s->newer;
	if (s->newer)
		t->in[s->newer].older = s->older;
	else
		l->newest = s->older;
	s->older = s->newer = 0;
}

static struct age_list *list_of(struct gk_cmd_txn *t, const struct in_slot *s)
{
	return s->state == IN_ANSWERED ? &t->answered : &t->working;
}

/* s joins the end of its state's list now; a list's timer, armed, fires for a slot at least as
 * old, and re-arms for the rest (expire). */
static void list_join(struct gk_cmd_txn *t, struct in_slot *s)
{
	bool answered = s->state == IN_ANSWERED;
	struct gk_timer *tm = answered ? &t->hist_timer : &t->work_timer;

	s->at_ms = gk_loop_now(t->loop);
	list_append(t, list_of(t, s), s);
	if (!gk_timer_armed(tm))
		gk_timer_arm(t->loop, tm, answered ? t->cfg.t_hist_ms : t->cfg.t_work_ms);
}

/* The bucket of a command: SipHash of the whole key, its peer (family, port, address) and tid,
 * under 16 random bytes of this history (crypto/siphash.h, as the ID and address maps). Peers
 * choose both: hashed from the port and tid alone, every gateway that starts its ids at 1 after
 * a mass restart would share one chain (they all send from 2427), and a stranger could compute
 * ids that do; each lookup would then walk up to max_in slots, an acknowledgement's 1,024 of
 * them 1,024 times. */
static uint32_t in_bucket(const struct gk_cmd_txn *t, const struct peer *p, uint32_t tid)
{
	uint8_t k[24];

	memcpy(k, &tid, 4);
	memcpy(k + 4, &p->family, 2);
	memcpy(k + 6, &p->port, 2);
	memcpy(k + 8, p->addr, 16);
	return (uint32_t)gk_siphash64(t->in_key, k, sizeof(k)) & t->in_mask;
}

static void in_hash_insert(struct gk_cmd_txn *t, uint32_t idx)
{
	struct in_slot *s = &t->in[idx];
	uint32_t b = in_bucket(t, &s->from, s->tid);
	s->next = t->in_hash[b];
	t->in_hash[b] = idx;
}

/* The hash heads for as many slots as are resident (two heads a slot), when they can be had;
 * else the chains just grow longer. */
static void in_rehash(struct gk_cmd_txn *t)
{
	uint32_t want = pow2_at_least(2 * t->in_steps.cap);

	if (want <= t->in_mask + 1 || gk_steps_reach(&t->in_hash_steps, want) < 0)
		return;
	t->in_mask = want - 1;
	memset(t->in_hash, 0, (size_t)want * sizeof(*t->in_hash));
	for (uint32_t i = 1; i < t->in_steps.cap; i++)
		if (t->in[i].state != IN_FREE)
			in_hash_insert(t, i);
}

/* The resident slots from `from` on join the free list, lowest first. */
static void in_link(struct gk_cmd_txn *t, uint32_t from)
{
	for (uint32_t i = t->in_steps.cap - 1; i >= from; i--) {
		t->in[i].next = t->in_free;
		t->in_free = i;
	}
}

/* One step of slots: false at max_in or without memory. */
static bool in_grow(struct gk_cmd_txn *t)
{
	uint32_t from = gk_steps_grow(&t->in_steps);

	if (!from)
		return false;
	in_link(t, from);
	in_rehash(t);
	t->stats.grown++;
	return true;
}

static struct in_slot *in_find(struct gk_cmd_txn *t, const struct sockaddr_storage *a, uint32_t tid)
{
	struct peer p = peer_of(a);

	for (uint32_t i = t->in_hash[in_bucket(t, &p, tid)]; i; i = t->in[i].next)
		if (t->in[i].tid == tid && peer_same(&t->in[i].from, &p))
			return &t->in[i];
	return NULL;
}

static void in_release(struct gk_cmd_txn *t, struct in_slot *s)
{
	uint32_t idx = (uint32_t)(s - t->in), *pp = &t->in_hash[in_bucket(t, &s->from, s->tid)];

	while (*pp && *pp != idx)
		pp = &t->in[*pp].next;
	if (*pp)
		*pp = s->next;
	list_unlink(t, list_of(t, s), s);
	cells_give_back(t, s->cells);
	s->cells = 0;
	s->len = 0;
	s->state = IN_FREE;
	s->next = t->in_free;
	t->in_free = idx;
	t->n_in--;
}

/* The oldest answer gives way (to a new command, or to a new answer's bytes). false when there is
 * none: every slot is still being worked on. */
static bool evict_oldest(struct gk_cmd_txn *t)
{
	struct in_slot *s = t->answered.oldest ? &t->in[t->answered.oldest] : NULL;

	if (!s)
		return false;
	t->stats.evicted++;
	if (gk_loop_now(t->loop) - s->at_ms < t->cfg.t_hist_ms)
		t->stats.evicted_young++;
	in_release(t, s);
	return true;
}

/* A slot for a new command, working: a free one, else the next step, else (at max_in) the oldest
 * answered one's. NULL when every slot is working. */
static struct in_slot *in_alloc(struct gk_cmd_txn *t, const struct sockaddr_storage *a,
                                uint32_t tid)
{
	struct in_slot *s;

	if (!t->in_free && !in_grow(t) && !evict_oldest(t))
		return NULL;
	s = &t->in[t->in_free];
	t->in_free = s->next;
	memset(s, 0, sizeof(*s));
	s->tid = tid;
	s->from = peer_of(a);
	s->state = IN_WORKING;
	in_hash_insert(t, (uint32_t)(s - t->in));
	list_join(t, s);
	t->n_in++;
	gk_steps_need(&t->in_steps, t->n_in + 1);
	return s;
}

/* Keeps len bytes of buf as s's answer: in cells, freeing older answers when the store is at its
 * size. false when even that leaves no room (the answer goes out but is not kept). */
static bool keep_answer(struct gk_cmd_txn *t, struct in_slot *s, const uint8_t *buf, size_t len)
{
	uint32_t n = (uint32_t)((len + CELL_BYTES - 1) / CELL_BYTES), head;

	while (!(head = cells_take(t, n)))
		if (!evict_oldest(t))
			return false;
	cells_write(t, head, buf, len);
	s->cells = head;
	s->len = (uint16_t)len;
	return true;
}

/* Ends every slot of list l whose deadline (joined + ttl_ms) has come; re-arms tm for the next. */
static void expire(struct gk_cmd_txn *t, struct age_list *l, struct gk_timer *tm, uint32_t ttl_ms,
                   uint64_t *forgotten)
{
	uint64_t now = gk_loop_now(t->loop);

	while (l->oldest && t->in[l->oldest].at_ms + ttl_ms <= now) {
		if (forgotten)
			(*forgotten)++;
		in_release(t, &t->in[l->oldest]);
	}
	if (l->oldest)
		gk_timer_arm(t->loop, tm, t->in[l->oldest].at_ms + ttl_ms - now);
}

/* A command the state machine never answered: forgotten (its sender's next copy is new). */
static void work_expired(struct gk_timer *tm)
{
	struct gk_cmd_txn *t =
	    (struct gk_cmd_txn *)(void *)((char *)tm - offsetof(struct gk_cmd_txn, work_timer));
	expire(t, &t->working, tm, t->cfg.t_work_ms, &t->stats.replies_forgotten);
}

/* Answers past T-hist: no copy of their commands can come any more. */
static void hist_expired(struct gk_timer *tm)
{
	struct gk_cmd_txn *t =
	    (struct gk_cmd_txn *)(void *)((char *)tm - offsetof(struct gk_cmd_txn, hist_timer));
	expire(t, &t->answered, tm, t->cfg.t_hist_ms, NULL);
}

/* ---- the sent commands ---------------------------------------------------------------------- */

static void out_timer(struct gk_timer *tm);

static void out_hash_insert(struct gk_cmd_txn *t, uint32_t idx)
{
	struct out_slot *o = &t->out[idx];
	o->next = t->out_hash[o->tid & t->out_mask];
	t->out_hash[o->tid & t->out_mask] = idx;
}

static void out_rehash(struct gk_cmd_txn *t)
{
	uint32_t want = pow2_at_least(2 * t->out_steps.cap);

	if (want <= t->out_mask + 1 || gk_steps_reach(&t->out_hash_steps, want) < 0)
		return;
	t->out_mask = want - 1;
	memset(t->out_hash, 0, (size_t)want * sizeof(*t->out_hash));
	for (uint32_t i = 1; i < t->out_steps.cap; i++)
		if (t->out[i].used)
			out_hash_insert(t, i);
}

static void out_link(struct gk_cmd_txn *t, uint32_t from)
{
	for (uint32_t i = t->out_steps.cap - 1; i >= from; i--) {
		t->out[i].next = t->out_free;
		t->out_free = i;
		t->out[i].t = t;
		t->out[i].timer.fn = out_timer;
	}
}

/* A free slot to send a command from (not taken yet), growing by a step if none is free; NULL at
 * max_out or without memory. */
static struct out_slot *out_room(struct gk_cmd_txn *t)
{
	if (!t->out_free) {
		uint32_t from = gk_steps_grow(&t->out_steps);
		if (!from)
			return NULL;
		out_link(t, from);
		out_rehash(t);
	}
	return &t->out[t->out_free];
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

static uint32_t new_tid(struct gk_cmd_txn *t)
{
	for (;;) {
		uint32_t tid = t->next_tid;
		t->next_tid = tid >= GK_CMD_TID_MAX ? 1 : tid + 1;
		if (!out_find(t, tid))
			return tid;
	}
}

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

/* ---- creation ------------------------------------------------------------------------------- */

struct gk_cmd_txn *gk_cmd_txn_new(const struct gk_codec *codec, const struct gk_cmd_txn_cfg *cfg,
                                  const struct gk_cmd_txn_ops *ops, void *user,
                                  struct gk_loop *loop, char *err, size_t errlen)
{
	struct gk_cmd_txn *t;
	uint32_t max_cells;

	if (!codec || (codec->proto != GK_PROTO_MGCP && codec->proto != GK_PROTO_H248)) {
		snprintf(err, errlen, "transactions are for the MGCP and H.248 codecs");
		return NULL;
	}
	if (!cfg->max_out || !cfg->max_in || cfg->max_out > GK_CMD_POOL_MAX ||
	    cfg->max_in > GK_CMD_POOL_MAX || !cfg->t_init_ms || !ops->xmit) {
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
	t->work_timer.fn = work_expired;
	t->hist_timer.fn = hist_expired;
	/* Without its key the history would be the predictable table in_bucket says it is not. */
	if (gk_random(t->in_key, sizeof(t->in_key)) < 0) {
		snprintf(err, errlen, "no random bytes for the history's hash");
		gk_cmd_txn_free(t);
		return NULL;
	}
	/* Entry 0 of each table is unused: index 0 is "none". */
	max_cells = cfg->max_in * CELLS_PER_CMD + 1;
	const char *label = cfg->label[0] ? cfg->label : codec->name;
	char k_in[GK_STEPS_KEY_MAX], k_in_hash[GK_STEPS_KEY_MAX], k_cells[GK_STEPS_KEY_MAX],
	    k_out[GK_STEPS_KEY_MAX], k_out_hash[GK_STEPS_KEY_MAX];
	snprintf(k_in, sizeof(k_in), "%s_history", label);
	snprintf(k_in_hash, sizeof(k_in_hash), "%s_history_hash", label);
	snprintf(k_cells, sizeof(k_cells), "%s_history_bytes", label);
	snprintf(k_out, sizeof(k_out), "%s_in_flight", label);
	snprintf(k_out_hash, sizeof(k_out_hash), "%s_in_flight_hash", label);
	if (gk_steps_init(&t->in_steps, k_in, cfg->max_in + 1, sizeof(*t->in), FIRST_IN) < 0 ||
	    gk_steps_init(&t->in_hash_steps, k_in_hash, pow2_at_least(2 * cfg->max_in + 2),
	                  sizeof(*t->in_hash), pow2_at_least(2 * FIRST_IN)) < 0 ||
	    gk_steps_init(&t->cell_steps, k_cells, max_cells, sizeof(*t->cells), FIRST_CELLS) < 0 ||
	    gk_steps_init(&t->out_steps, k_out, cfg->max_out + 1, sizeof(*t->out), FIRST_OUT) < 0 ||
	    gk_steps_init(&t->out_hash_steps, k_out_hash, pow2_at_least(2 * cfg->max_out + 2),
	                  sizeof(*t->out_hash), pow2_at_least(2 * FIRST_OUT)) < 0) {
		snprintf(err, errlen, "out of memory for %u transactions",
		         cfg->max_out + cfg->max_in);
		gk_cmd_txn_free(t);
		return NULL;
	}
	t->in = (struct in_slot *)t->in_steps.base;
	t->in_hash = (uint32_t *)t->in_hash_steps.base;
	t->in_mask = t->in_hash_steps.cap - 1;
	t->cells = (struct cell *)t->cell_steps.base;
	t->out = (struct out_slot *)t->out_steps.base;
	t->out_hash = (uint32_t *)t->out_hash_steps.base;
	t->out_mask = t->out_hash_steps.cap - 1;
	if (t->in_steps.cap > 1)
		in_link(t, 1);
	if (t->cell_steps.cap > 1)
		cells_link(t, 1);
	if (t->out_steps.cap > 1)
		out_link(t, 1);
	gk_random((uint8_t *)&t->next_tid, sizeof(t->next_tid));
	t->next_tid = t->next_tid % GK_CMD_TID_MAX + 1;
	return t;
}

void gk_cmd_txn_free(struct gk_cmd_txn *t)
{
	if (!t)
		return;
	if (t->loop) {
		gk_timer_cancel(t->loop, &t->work_timer);
		gk_timer_cancel(t->loop, &t->hist_timer);
	}
	for (uint32_t i = 1; t->out && i < t->out_steps.cap; i++)
		if (t->out[i].used)
			gk_timer_cancel(t->loop, &t->out[i].timer);
	gk_steps_free(&t->in_steps);
	gk_steps_free(&t->in_hash_steps);
	gk_steps_free(&t->cell_steps);
	gk_steps_free(&t->out_steps);
	gk_steps_free(&t->out_hash_steps);
	gk_wipe(t->in_key, sizeof(t->in_key));
	free(t);
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

/* Answers the received command s with what m is (an ACK built here, or m itself), keeps the
 * answer for T-hist and sends it. */
static void answer(struct gk_cmd_txn *t, struct in_slot *s, const struct gk_msg *m, bool as_is)
{
	uint8_t buf[GK_CMD_BUF];
	uint8_t flags = s->pending_sent ? GK_CMD_F_WANT_ACK : 0;
	struct sockaddr_storage to;
	int n;

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
		n = t->codec->encode(r, buf, sizeof(buf));
		if (n < 0)
			t->stats.encode_errors++;
	} else {
		n = encode_ack(t, m, GK_CMD_REPLY, flags, buf, sizeof(buf));
	}
	/* Off the working list while its bytes find room, so that making room never takes it. */
	list_unlink(t, &t->working, s);
	if (n > 0 && !keep_answer(t, s, buf, (size_t)n))
		t->stats.pool_full++; /* sent, not kept: its duplicates go unanswered */
	s->state = IN_ANSWERED;
	list_join(t, s);
	if (n <= 0)
		return;
	t->stats.replies_sent++;
	peer_addr(&s->from, &to);
	t->ops.xmit(t->user, &to, buf, (size_t)n, s->seal);
}

int gk_cmd_txn_output(struct gk_cmd_txn *t, const struct gk_msg *m,
                      const struct sockaddr_storage *to, uint32_t seal, uint64_t cookie)
{
	const struct gk_cmd_wire *w = gk_cmd_wire_of((struct gk_msg *)m);
	bool reply_type =
	    m->type == GK_MSG_REJECT || m->type == GK_MSG_DEREG_OK || m->type == GK_MSG_OTHER_OK;
	struct in_slot *s = NULL;

	if (!w || m->proto != t->codec->proto || (!reply_type && !command_type(m->type)))
		return -EINVAL;
	if (w->kind == GK_CMD_REQUEST && w->tid) {
		s = in_find(t, to, w->tid);
		if (s && s->state != IN_WORKING)
			s = NULL;
	}
	if (reply_type) {
		if (s) {
			s->seal = seal;
			answer(t, s, m, true);
			return 0;
		}
		/* The command is no longer remembered: answer it anyway, without keeping it. */
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

	/* A new command, after the final response of the command it follows (if that one is still
	 * being worked on). Its room comes first: a command answered 200 whose CHALLENGE or SUCCESS
	 * then found no room would leave its sender waiting for what never comes, while one left
	 * working gets a provisional response and comes back to the state machine. */
	struct out_slot *o = out_room(t);
	if (!o) {
		t->stats.pool_full++;
		return -ENOBUFS;
	}
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
	if (s) {
		s->seal = seal;
		answer(t, s, m, false);
	}
	t->out_free = o->next;
	o->used = true;
	o->type = m->type;
	o->len = (uint16_t)n;
	o->tid = tid;
	o->seal = seal;
	o->tries = 0;
	o->pendings = 0;
	o->cookie = cookie;
	o->to = *to;
	memcpy(o->idc, m->idc, sizeof(o->idc));
	memcpy(o->idsp, m->idsp, sizeof(o->idsp));
	out_hash_insert(t, (uint32_t)(o - t->out));
	t->n_out++;
	gk_steps_need(&t->out_steps, t->n_out + 1);
	t->stats.cmds_sent++;
	gk_timer_arm(t->loop, &o->timer, t->cfg.t_init_ms);
	t->ops.xmit(t->user, to, o->buf, o->len, seal);
	return 0;
}

/* ---- receiving ------------------------------------------------------------------------------ */

/* Transaction ids looked up per acknowledgement at most. A peer acknowledges the answers it got
 * lately, a few ids or a short range; an acknowledgement only frees answers before T-hist would,
 * so what lies past this many is left to expire, and a range of a billion ids costs no more than
 * this (a sweep of the history for it would cost up to max_in per datagram). */
#define ACK_LOOKUPS_MAX 1024

/* The peer has our replies to these transactions: forget them. */
static void release_acked(struct gk_cmd_txn *t, const struct gk_cmd_wire *w,
                          const struct sockaddr_storage *from)
{
	unsigned budget = ACK_LOOKUPS_MAX;

	for (unsigned r = 0; r < w->n_acks && r < GK_CMD_ACKS_MAX && budget; r++) {
		uint32_t a = w->acks[r].first, b = w->acks[r].last;
		for (uint64_t tid = a; tid <= b && budget; tid++, budget--) {
			struct in_slot *s = in_find(t, from, (uint32_t)tid);
			if (s && s->state == IN_ANSWERED)
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

/* A copy of a command we remember: the answer it got, or while it is worked on a provisional
 * one. Returns what gk_cmd_txn_input returns. */
static int duplicate(struct gk_cmd_txn *t, struct in_slot *s, struct gk_msg *m,
                     const struct sockaddr_storage *from, uint32_t seal)
{
	t->stats.duplicates++;
	if (s->state == IN_WORKING) {
		uint8_t buf[256];
		int n = encode_ack(t, m, GK_CMD_PENDING, 0, buf, sizeof(buf));
		if (n > 0) {
			s->pending_sent = true;
			t->stats.pending_sent++;
			t->ops.xmit(t->user, from, buf, (size_t)n, seal);
		}
		/* The exchange's command is still being worked on, and what it waits for may be
		 * what was lost (an SBC's request to the core): the state machine hears of the
		 * retransmission, as it does of a SIP one, and knows it by its N1. */
		if (t->cfg.defer && request_class(m->type))
			return 1;
	} else if (s->len) {
		uint8_t buf[GK_CMD_BUF];
		cells_read(t, s->cells, buf, s->len);
		t->ops.xmit(t->user, from, buf, s->len, s->seal);
	}
	return 0;
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
		if (s)
			return duplicate(t, s, m, from, seal);
		t->stats.cmds_in++;
		s = in_alloc(t, from, w->tid);
		if (!s) {
			t->stats.pool_full++;
			if (t->cfg.defer && request_class(m->type) && t->ops.shed)
				shed(t, m, from, seal); /* and the peer waits, if it listens */
			return 0;                       /* else the peer retransmits */
		}
		s->seal = seal;
		if (!(t->cfg.defer && request_class(m->type)))
			answer(t, s, m, false);
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
			/* The wait starts over max_retx times at most: the peer is anyone who sent
			 * us a command (a stranger's REGISTER gets a CHALLENGE command), and one
			 * answering every copy with a provisional response would otherwise hold the
			 * slot for ever, max_out of them every command's room. Past that, the
			 * retransmissions go on and end as for a peer that never answers. */
			if (o->pendings < t->cfg.max_retx) {
				o->pendings++;
				o->tries = 0;
				gk_timer_arm(t->loop, &o->timer, t->cfg.t_pending_ms);
			}
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

uint64_t gk_cmd_txn_resident_bytes(const struct gk_cmd_txn *t)
{
	return gk_steps_bytes(&t->in_steps) + gk_steps_bytes(&t->in_hash_steps) +
	       gk_steps_bytes(&t->cell_steps) + gk_steps_bytes(&t->out_steps) +
	       gk_steps_bytes(&t->out_hash_steps);
}
