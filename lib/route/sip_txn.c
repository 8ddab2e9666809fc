// SPDX-License-Identifier: GPL-2.0-only
/*
 * The SIP transaction layer (include/gatekey/route/sip_txn.h): RFC 3261 §17 over UDP with RFC
 * 6026's Accepted state, for the proxies. Two fixed pools, server and client, each with a free list
 * and hash chains under a SipHash key drawn per instance: the keys are branches and sent-bys
 * anyone can choose, and an unkeyed hash would let them pile every transaction into one chain.
 *
 * Each transaction has one gk_timer and two instants: retx_at, when it next sends something by
 * itself (timers A, E, G, or the 100 Trying), and end_at, when its state ends (B, C, D, F, H, I,
 * J, K, L, M, or the wait for the caller's final). The timer is armed for the earlier. Every
 * state has an end_at, so no transaction outlives its timer.
 *
 * Retransmission instants follow the schedule (the previous instant plus the interval), not the
 * moment the timer ran: a late loop then does not stretch the schedule, so a transaction sends
 * exactly the copies RFC 3261 schedules before its end (timer A fires six times before B).
 *
 * The message a slot keeps lives in a separate array, one GK_SIP_TXN_MSG_MAX buffer per slot,
 * and slots are taken from never-used ones only when the free list is empty: both arrays are
 * calloc'ed (mapped lazily), so memory grows with the transactions in use at the peak, not
 * with the pool size.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatekey/crypto/crypto.h"
#include "gatekey/crypto/siphash.h"
#include "gatekey/route/sip_txn.h"

/* What a slot's buffer holds. */
enum held { HELD_NOTHING = 0, HELD_REQUEST, HELD_RESPONSE, HELD_ACK };

struct txn {
	struct gk_sip_txn_key key;
	uint32_t hash;
	uint32_t next; /* hash chain while in use, free list after */
	uint32_t gen;  /* bumped on every use, so old handles miss */
	uint8_t state; /* enum gk_sip_txn_state; GONE while free */
	uint8_t held;  /* enum held */
	bool server, invite;
	bool trying_due;    /* server INVITE: retx_at is when the 100 Trying goes */
	bool timer_c_fired; /* client INVITE: only the grace for the CANCEL's final is left */
	uint16_t len;       /* bytes held */
	uint32_t seal;
	uint32_t interval;        /* the current retransmission gap */
	uint64_t retx_at, end_at; /* loop milliseconds; retx_at 0 = nothing to send */
	uint64_t user_ref;
	struct sockaddr_storage peer; /* where the server's responses or the client's request go */
	struct gk_timer timer;
	struct gk_sip_txn *t;
};

struct pool {
	struct txn *slots;                   /* 1..max */
	uint8_t (*bufs)[GK_SIP_TXN_MSG_MAX]; /* bufs[i] belongs to slots[i] */
	uint32_t *chains, mask;
	uint32_t max, free_head, fresh; /* fresh: the lowest never-used index */
};

struct gk_sip_txn {
	struct gk_sip_txn_cfg cfg;
	struct gk_sip_txn_ops ops;
	void *user;
	struct gk_loop *loop;
	/* durations after time_divisor, in loop milliseconds */
	uint64_t t1, t2, t4, timer_d, trying, timer_c;
	struct pool server, client;
	uint8_t hash_key[GK_SIPHASH_KEY_LEN];
	struct gk_sip_txn_stats stats;
	uint8_t scratch[GK_SIP_TXN_MSG_MAX]; /* what build_trying and build_ack write */
};

/* Handles: generation in the high word, the pool in bit 31, the 1-based index below. */
#define HANDLE_CLIENT  0x80000000u
#define HANDLE_INDEX   0x7fffffffu
#define POOL_MAX_SLOTS (1u << 24)

static const struct {
	const char *name;
	enum gk_sip_method method;
} method_names[] = {
    {"INVITE", GK_SIP_INVITE},     {"ACK", GK_SIP_ACK},
    {"CANCEL", GK_SIP_CANCEL},     {"BYE", GK_SIP_BYE},
    {"REGISTER", GK_SIP_REGISTER}, {"OPTIONS", GK_SIP_OPTIONS},
    {"MESSAGE", GK_SIP_MESSAGE},   {"SUBSCRIBE", GK_SIP_SUBSCRIBE},
    {"NOTIFY", GK_SIP_NOTIFY},     {"REFER", GK_SIP_REFER},
    {"INFO", GK_SIP_INFO},         {"UPDATE", GK_SIP_UPDATE},
    {"PRACK", GK_SIP_PRACK},       {"PUBLISH", GK_SIP_PUBLISH},
};

enum gk_sip_method gk_sip_method_of(const char *name, size_t len)
{
	if (!len)
		return GK_SIP_NONE;
	for (size_t i = 0; i < sizeof(method_names) / sizeof(method_names[0]); i++)
		if (strlen(method_names[i].name) == len &&
		    memcmp(method_names[i].name, name, len) == 0)
			return method_names[i].method;
	return GK_SIP_OTHER;
}

static void copy_lower(char *dst, const char *src, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = src[i];
		dst[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
}

int gk_sip_txn_key_set(struct gk_sip_txn_key *k, enum gk_sip_method method, const char *branch,
                       size_t branch_len, const char *sent_by, size_t sent_by_len)
{
	memset(k, 0, sizeof(*k));
	if (method == GK_SIP_NONE || method > GK_SIP_OTHER || !branch_len)
		return -EINVAL;
	if (branch_len > GK_SIP_BRANCH_MAX || sent_by_len > GK_SIP_SENT_BY_MAX)
		return -E2BIG;
	k->method = (uint8_t)method;
	k->branch_len = (uint8_t)branch_len;
	k->sent_by_len = (uint8_t)sent_by_len;
	copy_lower(k->branch, branch, branch_len);
	copy_lower(k->sent_by, sent_by, sent_by_len);
	return 0;
}

/* A key whose lengths overrun its arrays would make the hash read past them. */
static bool key_usable(const struct gk_sip_txn_key *k)
{
	return k->method != GK_SIP_NONE && k->method <= GK_SIP_OTHER && k->branch_len &&
	       k->branch_len <= GK_SIP_BRANCH_MAX && k->sent_by_len <= GK_SIP_SENT_BY_MAX;
}

void gk_sip_txn_cfg_defaults(struct gk_sip_txn_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->t1_ms = 500;
	c->t2_ms = 4000;
	c->t4_ms = 5000;
	c->timer_d_ms = 32000;
	c->trying_ms = 200;
	c->timer_c_ms = 180000;
	c->max_server = 16384;
	c->max_client = 16384;
	c->time_divisor = 1;
}

/* A configured duration after the test divisor; never 0 unless configured 0, since a 0 would
 * turn a retransmission timer into a busy loop. */
static uint64_t scaled(const struct gk_sip_txn_cfg *c, uint32_t ms)
{
	uint64_t v = ms / c->time_divisor;
	return ms && !v ? 1 : v;
}

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 1;
	while (p < n)
		p <<= 1;
	return p;
}

static int pool_init(struct pool *p, uint32_t max)
{
	p->max = max;
	p->fresh = 1;
	p->mask = pow2_at_least(2 * max) - 1;
	p->slots = calloc((size_t)max + 1, sizeof(*p->slots));
	p->bufs = calloc((size_t)max + 1, sizeof(*p->bufs));
	p->chains = calloc((size_t)p->mask + 1, sizeof(*p->chains));
	return p->slots && p->bufs && p->chains ? 0 : -ENOMEM;
}

static void pool_fini(struct gk_sip_txn *t, struct pool *p)
{
	if (p->slots)
		for (uint32_t i = 1; i < p->fresh; i++)
			gk_timer_cancel(t->loop, &p->slots[i].timer);
	free(p->slots);
	free(p->bufs);
	free(p->chains);
}

struct gk_sip_txn *gk_sip_txn_new(const struct gk_sip_txn_cfg *cfg,
                                  const struct gk_sip_txn_ops *ops, void *user,
                                  struct gk_loop *loop, char *err, size_t errlen)
{
	struct gk_sip_txn *t;

	if (!ops || !ops->xmit || !loop || !cfg->time_divisor || !cfg->t1_ms ||
	    cfg->t2_ms < cfg->t1_ms || !cfg->t4_ms || !cfg->max_server || !cfg->max_client ||
	    cfg->max_server > POOL_MAX_SLOTS || cfg->max_client > POOL_MAX_SLOTS) {
		snprintf(err, errlen, "bad SIP transaction settings");
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->cfg = *cfg;
	t->ops = *ops;
	t->user = user;
	t->loop = loop;
	t->t1 = scaled(cfg, cfg->t1_ms);
	t->t2 = scaled(cfg, cfg->t2_ms);
	t->t4 = scaled(cfg, cfg->t4_ms);
	t->timer_d = scaled(cfg, cfg->timer_d_ms);
	t->trying = scaled(cfg, cfg->trying_ms);
	t->timer_c = scaled(cfg, cfg->timer_c_ms);
	if (pool_init(&t->server, cfg->max_server) < 0 ||
	    pool_init(&t->client, cfg->max_client) < 0) {
		snprintf(err, errlen, "out of memory for %u SIP transactions",
		         cfg->max_server + cfg->max_client);
		gk_sip_txn_free(t);
		return NULL;
	}
	if (gk_random(t->hash_key, sizeof(t->hash_key)) < 0) {
		snprintf(err, errlen, "no randomness for the SIP transaction hash key");
		gk_sip_txn_free(t);
		return NULL;
	}
	return t;
}

void gk_sip_txn_free(struct gk_sip_txn *t)
{
	if (!t)
		return;
	pool_fini(t, &t->server);
	pool_fini(t, &t->client);
	gk_wipe(t->hash_key, sizeof(t->hash_key));
	free(t);
}

/* ---- pools ------------------------------------------------------------------------------ */

static uint32_t key_hash(const struct gk_sip_txn *t, const struct gk_sip_txn_key *k, bool server)
{
	uint8_t in[3 + GK_SIP_BRANCH_MAX + GK_SIP_SENT_BY_MAX];
	size_t n = 0;

	in[n++] = k->method;
	in[n++] = k->branch_len;
	memcpy(in + n, k->branch, k->branch_len);
	n += k->branch_len;
	if (server) {
		in[n++] = k->sent_by_len;
		memcpy(in + n, k->sent_by, k->sent_by_len);
		n += k->sent_by_len;
	}
	return (uint32_t)gk_siphash64(t->hash_key, in, n);
}

static bool key_equal(const struct gk_sip_txn_key *a, const struct gk_sip_txn_key *b, bool server)
{
	if (a->method != b->method || a->branch_len != b->branch_len ||
	    memcmp(a->branch, b->branch, a->branch_len) != 0)
		return false;
	return !server || (a->sent_by_len == b->sent_by_len &&
	                   memcmp(a->sent_by, b->sent_by, a->sent_by_len) == 0);
}

static struct pool *pool_of(struct gk_sip_txn *t, const struct txn *x)
{
	return x->server ? &t->server : &t->client;
}

static uint32_t index_of(struct gk_sip_txn *t, const struct txn *x)
{
	return (uint32_t)(x - pool_of(t, x)->slots);
}

static uint8_t *buf_of(struct gk_sip_txn *t, const struct txn *x)
{
	return pool_of(t, x)->bufs[index_of(t, x)];
}

static gk_sip_txn_handle handle_of(struct gk_sip_txn *t, const struct txn *x)
{
	return (uint64_t)x->gen << 32 | (x->server ? 0 : HANDLE_CLIENT) | index_of(t, x);
}

static struct txn *find(const struct pool *p, const struct gk_sip_txn_key *k, uint32_t hash,
                        bool server)
{
	for (uint32_t i = p->chains[hash & p->mask]; i; i = p->slots[i].next) {
		struct txn *x = &p->slots[i];
		if (x->hash == hash && key_equal(&x->key, k, server))
			return x;
	}
	return NULL;
}

static struct txn *lookup(const struct gk_sip_txn *t, gk_sip_txn_handle h)
{
	const struct pool *p = (uint32_t)h & HANDLE_CLIENT ? &t->client : &t->server;
	uint32_t idx = (uint32_t)h & HANDLE_INDEX;

	if (!idx || idx >= p->fresh)
		return NULL;
	struct txn *x = &p->slots[idx];
	return x->state != GK_SIP_TXN_GONE && x->gen == (uint32_t)(h >> 32) ? x : NULL;
}

static void gauge(struct gk_sip_txn *t, bool server, int by)
{
	if (server)
		t->stats.server_in_use += (uint32_t)by;
	else
		t->stats.client_in_use += (uint32_t)by;
}

static void on_timer(struct gk_timer *tm);

static struct txn *alloc(struct gk_sip_txn *t, bool server, const struct gk_sip_txn_key *k,
                         uint32_t hash)
{
	struct pool *p = server ? &t->server : &t->client;
	uint32_t idx;
	struct txn *x;

	if (p->free_head) {
		idx = p->free_head;
		p->free_head = p->slots[idx].next;
	} else if (p->fresh <= p->max) {
		idx = p->fresh++;
		p->slots[idx].t = t;
		p->slots[idx].timer.fn = on_timer;
	} else {
		t->stats.pool_full++;
		return NULL;
	}
	x = &p->slots[idx];
	x->key = *k;
	x->hash = hash;
	x->gen++;
	x->server = server;
	x->invite = k->method == GK_SIP_INVITE;
	x->held = HELD_NOTHING;
	x->trying_due = false;
	x->timer_c_fired = false;
	x->len = 0;
	x->interval = 0;
	x->retx_at = 0;
	x->user_ref = 0;
	x->next = p->chains[hash & p->mask];
	p->chains[hash & p->mask] = idx;
	gauge(t, server, 1);
	return x;
}

static void release(struct gk_sip_txn *t, struct txn *x)
{
	struct pool *p = pool_of(t, x);
	uint32_t idx = index_of(t, x), *pp = &p->chains[x->hash & p->mask];

	while (*pp && *pp != idx)
		pp = &p->slots[*pp].next;
	if (*pp)
		*pp = x->next;
	gk_timer_cancel(t->loop, &x->timer);
	x->state = GK_SIP_TXN_GONE;
	x->next = p->free_head;
	p->free_head = idx;
	gauge(t, x->server, -1);
}

/* ---- timers ----------------------------------------------------------------------------- */

static uint64_t now(const struct gk_sip_txn *t)
{
	return gk_loop_now(t->loop);
}

static void schedule(struct gk_sip_txn *t, struct txn *x)
{
	uint64_t at = x->end_at, n = now(t);

	if (x->retx_at && x->retx_at < at)
		at = x->retx_at;
	gk_timer_arm(t->loop, &x->timer, at > n ? at - n : 0);
}

/* Keeps msg in x's buffer when it fits; false (counted) when it does not. */
static bool keep(struct gk_sip_txn *t, struct txn *x, const uint8_t *msg, size_t len,
                 enum held what)
{
	if (len > GK_SIP_TXN_MSG_MAX) {
		t->stats.too_long_to_store++;
		x->held = HELD_NOTHING;
		x->len = 0;
		return false;
	}
	memmove(buf_of(t, x), msg, len);
	x->held = (uint8_t)what;
	x->len = (uint16_t)len;
	return true;
}

static void send_held(struct gk_sip_txn *t, struct txn *x)
{
	t->ops.xmit(t->user, &x->peer, buf_of(t, x), x->len, x->seal);
}

/* The 100 Trying of server INVITE x, built from its request req (possibly x's own buffer). */
static void send_trying(struct gk_sip_txn *t, struct txn *x, const uint8_t *req, size_t req_len)
{
	int n = t->ops.build_trying(t->user, req, req_len, t->scratch, sizeof(t->scratch));

	x->trying_due = false;
	x->retx_at = 0;
	if (n <= 0 || (size_t)n > sizeof(t->scratch)) {
		t->stats.build_failures++;
		x->held = HELD_NOTHING; /* the request was kept only to build this */
		x->len = 0;
		return;
	}
	keep(t, x, t->scratch, (size_t)n, HELD_RESPONSE);
	t->stats.trying_sent++;
	send_held(t, x);
}

/* The next retransmission instant, from the schedule rather than from now. */
static void next_retx(struct txn *x, uint64_t interval)
{
	x->interval = (uint32_t)interval;
	x->retx_at += interval;
}

/* retx_at has come: whatever x sends by itself in its state. */
static void retransmit(struct gk_sip_txn *t, struct txn *x)
{
	if (x->server && x->trying_due) {
		send_trying(t, x, buf_of(t, x), x->len);
		return;
	}
	if (x->server && x->state == GK_SIP_TXN_COMPLETED && x->held == HELD_RESPONSE) {
		/* timer G: doubling up to T2 (§17.2.1) */
		uint64_t gap = 2 * (uint64_t)x->interval;
		next_retx(x, gap < t->t2 ? gap : t->t2);
		t->stats.responses_resent++;
		send_held(t, x);
		return;
	}
	if (!x->server && x->held == HELD_REQUEST &&
	    (x->state == GK_SIP_TXN_CALLING || x->state == GK_SIP_TXN_TRYING ||
	     (x->state == GK_SIP_TXN_PROCEEDING && !x->invite))) {
		uint64_t gap;
		if (x->invite)
			gap = 2 * (uint64_t)x->interval; /* timer A: doubling, no cap (§17.1.1.2) */
		else if (x->state == GK_SIP_TXN_PROCEEDING)
			gap = t->t2; /* timer E after a provisional (§17.1.2.2) */
		else
			gap = 2 * (uint64_t)x->interval < t->t2 ? 2 * (uint64_t)x->interval : t->t2;
		next_retx(x, gap);
		t->stats.client_retransmissions++;
		send_held(t, x);
		return;
	}
	x->retx_at = 0;
}

/* Reports x's end to the caller after freeing it, so the callback may start what it likes. */
static void end_reported(struct gk_sip_txn *t, struct txn *x, enum gk_sip_txn_expiry why)
{
	gk_sip_txn_handle h = handle_of(t, x);
	uint64_t ref = x->user_ref;

	if (x->server)
		t->stats.server_timeouts++;
	else
		t->stats.client_timeouts++;
	release(t, x);
	if (t->ops.timeout)
		t->ops.timeout(t->user, h, ref, why);
}

/* end_at has come. */
static void expire(struct gk_sip_txn *t, struct txn *x)
{
	switch (x->state) {
	case GK_SIP_TXN_TRYING:
		end_reported(t, x, x->server ? GK_SIP_TXN_NO_FINAL : GK_SIP_TXN_TIMER_F);
		return;
	case GK_SIP_TXN_CALLING:
		end_reported(t, x, GK_SIP_TXN_TIMER_B);
		return;
	case GK_SIP_TXN_PROCEEDING:
		if (x->server) {
			end_reported(t, x, GK_SIP_TXN_NO_FINAL);
		} else if (!x->invite) {
			end_reported(t, x, GK_SIP_TXN_TIMER_F);
		} else if (!x->timer_c_fired) {
			/* The caller cancels and answers 408 (§16.8); the transaction stays for the
			 * 487 the CANCEL brings, so that it is matched and ACKed. */
			x->timer_c_fired = true;
			x->end_at = now(t) + 64 * t->t1;
			t->stats.timer_c++;
			schedule(t, x);
			if (t->ops.timeout)
				t->ops.timeout(t->user, handle_of(t, x), x->user_ref,
				               GK_SIP_TXN_TIMER_C);
		} else {
			/* The CANCEL brought no final either (§9.1: the INVITE is then taken as
			 * cancelled). Reported as timer B, so the proxy answers its caller 408 and
			 * lets go of the call: ended silently, the caller never heard a final and
			 * what the proxy kept for the call stayed for good. */
			end_reported(t, x, GK_SIP_TXN_TIMER_B);
		}
		return;
	case GK_SIP_TXN_COMPLETED:
		if (x->server && x->invite) {
			end_reported(t, x, GK_SIP_TXN_TIMER_H);
			return;
		}
		release(t, x); /* timers D, J, K */
		return;
	default:
		release(t, x); /* timers I, L, M */
		return;
	}
}

static void on_timer(struct gk_timer *tm)
{
	struct txn *x = (struct txn *)(void *)((char *)tm - offsetof(struct txn, timer));
	struct gk_sip_txn *t = x->t;
	uint64_t n = now(t);

	/* Every instant that has come, in order, an end winning a tie: a late loop sends the
	 * copies it owes before the end it reached, so the number of copies never depends on
	 * the loop's punctuality. */
	for (;;) {
		bool retx_due = x->retx_at && x->retx_at <= n;
		if (x->end_at <= n && (!retx_due || x->end_at <= x->retx_at)) {
			expire(t, x);
			return;
		}
		if (!retx_due)
			break;
		retransmit(t, x);
	}
	schedule(t, x);
}

/* ---- server transactions ---------------------------------------------------------------- */

/* How long the caller may take to send a final from now: after the last provisional of an
 * INVITE, the caller's own timer C plus the time for the CANCEL it sends then; after a
 * non-INVITE request, the client's timer F. Both plus T4: the client transaction the caller
 * forwarded the request on started its timers at the same instant or later (timer C restarts
 * when it runs, late or not), and the 408 the caller sends when that one gives up must find
 * this transaction still there. */
static uint64_t server_wait(const struct gk_sip_txn *t, bool invite)
{
	return (invite ? t->timer_c + 64 * t->t1 : 64 * t->t1) + t->t4;
}

enum gk_sip_txn_input gk_sip_txn_server_input(struct gk_sip_txn *t, const struct gk_sip_txn_key *k,
                                              const uint8_t *req, size_t len,
                                              const struct sockaddr_storage *reply_to,
                                              uint32_t seal, gk_sip_txn_handle *h)
{
	struct txn *x;

	*h = 0;
	if (!key_usable(k))
		return GK_SIP_TXN_NONE_AVAILABLE;
	if (k->method == GK_SIP_ACK) {
		/* §17.2.3: an ACK matches the INVITE it acknowledges */
		struct gk_sip_txn_key inv = *k;
		inv.method = GK_SIP_INVITE;
		x = find(&t->server, &inv, key_hash(t, &inv, true), true);
		if (!x || x->state == GK_SIP_TXN_ACCEPTED) {
			if (x)
				*h = handle_of(t, x);
			t->stats.acks_passed++;
			return GK_SIP_TXN_ACK_PASS;
		}
		*h = handle_of(t, x);
		t->stats.acks_absorbed++;
		if (x->state == GK_SIP_TXN_COMPLETED) {
			x->state = GK_SIP_TXN_CONFIRMED;
			x->retx_at = 0;             /* timer G stops */
			x->end_at = now(t) + t->t4; /* timer I */
			schedule(t, x);
		}
		return GK_SIP_TXN_ACK_ABSORBED;
	}

	uint32_t hash = key_hash(t, k, true);
	x = find(&t->server, k, hash, true);
	if (x) {
		*h = handle_of(t, x);
		t->stats.retransmissions_absorbed++;
		/* The last provisional (Proceeding) or the final (Completed) goes again; in Trying
		 * nothing was sent, Accepted absorbs (RFC 6026: the 2xx is end to end), Confirmed
		 * has had its ACK. */
		if (x->held == HELD_RESPONSE &&
		    (x->state == GK_SIP_TXN_PROCEEDING || x->state == GK_SIP_TXN_COMPLETED)) {
			t->stats.responses_resent++;
			send_held(t, x);
		}
		return GK_SIP_TXN_RETRANSMISSION;
	}

	x = alloc(t, true, k, hash);
	if (!x)
		return GK_SIP_TXN_NONE_AVAILABLE;
	t->stats.server_new++;
	x->state = x->invite ? GK_SIP_TXN_PROCEEDING : GK_SIP_TXN_TRYING;
	x->peer = *reply_to;
	x->seal = seal;
	x->end_at = now(t) + server_wait(t, x->invite);
	*h = handle_of(t, x);
	if (x->invite && t->ops.build_trying) {
		/* The request is kept only until the 100 is built from it; one too long to keep
		 * gets its 100 at once. */
		if (t->trying && keep(t, x, req, len, HELD_REQUEST)) {
			x->trying_due = true;
			x->retx_at = now(t) + t->trying;
		} else {
			schedule(t, x);
			send_trying(t, x, req, len);
			return GK_SIP_TXN_NEW;
		}
	}
	schedule(t, x);
	return GK_SIP_TXN_NEW;
}

int gk_sip_txn_server_respond(struct gk_sip_txn *t, gk_sip_txn_handle h, unsigned status,
                              const uint8_t *rsp, size_t len)
{
	struct txn *x = lookup(t, h);

	if (!x || !x->server)
		return -ENOENT;
	if (status < 100 || status > 699)
		return -EINVAL;
	if (x->state == GK_SIP_TXN_ACCEPTED && status / 100 == 2) {
		/* RFC 6026 §7.1: further 2xx (a proxy forwards each) go out, unkept */
		t->stats.responses_sent++;
		t->ops.xmit(t->user, &x->peer, rsp, len, x->seal);
		return 0;
	}
	if (x->state != GK_SIP_TXN_TRYING && x->state != GK_SIP_TXN_PROCEEDING)
		return -EALREADY;

	x->trying_due = false; /* the caller answered first */
	x->retx_at = 0;
	if (status < 200) {
		x->state = GK_SIP_TXN_PROCEEDING;
		if (x->invite) /* a proxy restarts timer C on each provisional */
			x->end_at = now(t) + server_wait(t, true);
		keep(t, x, rsp, len, HELD_RESPONSE);
	} else if (x->invite && status < 300) {
		x->state = GK_SIP_TXN_ACCEPTED;
		x->held = HELD_NOTHING; /* never sent again by the layer */
		x->len = 0;
		x->end_at = now(t) + 64 * t->t1; /* timer L */
	} else {
		x->state = GK_SIP_TXN_COMPLETED;
		x->end_at = now(t) + 64 * t->t1; /* timer H, or timer J (UDP) */
		if (keep(t, x, rsp, len, HELD_RESPONSE) && x->invite) {
			x->interval = (uint32_t)t->t1; /* timer G */
			x->retx_at = now(t) + t->t1;
		}
	}
	schedule(t, x);
	t->stats.responses_sent++;
	t->ops.xmit(t->user, &x->peer, rsp, len, x->seal);
	return 0;
}

int gk_sip_txn_server_trying(struct gk_sip_txn *t, gk_sip_txn_handle h)
{
	struct txn *x = lookup(t, h);

	if (!x || !x->server)
		return -ENOENT;
	if (!x->invite)
		return -EINVAL;
	if (!t->ops.build_trying)
		return -ENOTSUP;
	if (!x->trying_due)
		return -EALREADY;
	send_trying(t, x, buf_of(t, x), x->len);
	schedule(t, x);
	return 0;
}

gk_sip_txn_handle gk_sip_txn_server_find(struct gk_sip_txn *t, const struct gk_sip_txn_key *k)
{
	struct txn *x;

	if (!key_usable(k))
		return 0;
	x = find(&t->server, k, key_hash(t, k, true), true);
	return x ? handle_of(t, x) : 0;
}

/* ---- client transactions ---------------------------------------------------------------- */

int gk_sip_txn_client_send(struct gk_sip_txn *t, const struct gk_sip_txn_key *k, const uint8_t *req,
                           size_t len, const struct sockaddr_storage *to, uint32_t seal,
                           uint64_t user_ref, gk_sip_txn_handle *h)
{
	struct txn *x;
	uint32_t hash;

	if (h)
		*h = 0;
	if (!key_usable(k) || k->method == GK_SIP_ACK)
		return -EINVAL;
	hash = key_hash(t, k, false);
	if (find(&t->client, k, hash, false))
		return -EEXIST;
	x = alloc(t, false, k, hash);
	if (!x)
		return -ENOBUFS;
	x->state = x->invite ? GK_SIP_TXN_CALLING : GK_SIP_TXN_TRYING;
	x->peer = *to;
	x->seal = seal;
	x->user_ref = user_ref;
	x->end_at = now(t) + 64 * t->t1; /* timer B or F */
	if (keep(t, x, req, len, HELD_REQUEST)) {
		x->interval = (uint32_t)t->t1; /* timer A or E */
		x->retx_at = now(t) + t->t1;
	}
	schedule(t, x);
	if (h)
		*h = handle_of(t, x);
	t->stats.client_sent++;
	t->ops.xmit(t->user, to, req, len, seal);
	return 0;
}

/* §17.1.1.3: the ACK of a non-2xx final, built by the caller, kept for the final's repeats. */
static void ack_final(struct gk_sip_txn *t, struct txn *x, const uint8_t *rsp, size_t len)
{
	const uint8_t *req = x->held == HELD_REQUEST ? buf_of(t, x) : NULL;
	int n = -1;

	if (t->ops.build_ack)
		n = t->ops.build_ack(t->user, req, req ? x->len : 0, rsp, len, t->scratch,
		                     sizeof(t->scratch));
	if (n <= 0 || (size_t)n > sizeof(t->scratch)) {
		t->stats.build_failures++;
		x->held = HELD_NOTHING;
		x->len = 0;
		return;
	}
	keep(t, x, t->scratch, (size_t)n, HELD_ACK);
	t->stats.acks_sent++;
	send_held(t, x);
}

static enum gk_sip_txn_response client_invite_response(struct gk_sip_txn *t, struct txn *x,
                                                       unsigned status, const uint8_t *rsp,
                                                       size_t len)
{
	switch (x->state) {
	case GK_SIP_TXN_CALLING:
	case GK_SIP_TXN_PROCEEDING:
		x->retx_at = 0; /* timer A stops on any response */
		if (status < 200) {
			x->state = GK_SIP_TXN_PROCEEDING;
			if (!x->timer_c_fired)
				x->end_at = now(t) + t->timer_c;
		} else if (status < 300) {
			x->state = GK_SIP_TXN_ACCEPTED;
			x->end_at = now(t) + 64 * t->t1; /* timer M */
		} else {
			x->state = GK_SIP_TXN_COMPLETED;
			x->end_at = now(t) + t->timer_d;
			ack_final(t, x, rsp, len);
		}
		schedule(t, x);
		return GK_SIP_TXN_PASS;
	case GK_SIP_TXN_ACCEPTED:
		/* RFC 6026 §7.2: every 2xx goes up, the proxy forwards each end to end */
		return status / 100 == 2 ? GK_SIP_TXN_PASS : GK_SIP_TXN_ABSORBED;
	case GK_SIP_TXN_COMPLETED:
		if (status >= 300 && x->held == HELD_ACK) {
			t->stats.acks_sent++;
			send_held(t, x);
		}
		return GK_SIP_TXN_ABSORBED;
	default:
		return GK_SIP_TXN_ABSORBED;
	}
}

static enum gk_sip_txn_response client_other_response(struct gk_sip_txn *t, struct txn *x,
                                                      unsigned status)
{
	if (x->state != GK_SIP_TXN_TRYING && x->state != GK_SIP_TXN_PROCEEDING)
		return GK_SIP_TXN_ABSORBED;
	if (status < 200) {
		x->state = GK_SIP_TXN_PROCEEDING; /* timer E goes on, at T2 from its next firing */
		return GK_SIP_TXN_PASS;
	}
	x->state = GK_SIP_TXN_COMPLETED;
	x->retx_at = 0;
	x->held = HELD_NOTHING;
	x->len = 0;
	x->end_at = now(t) + t->t4; /* timer K */
	schedule(t, x);
	return GK_SIP_TXN_PASS;
}

enum gk_sip_txn_response gk_sip_txn_client_response(struct gk_sip_txn *t,
                                                    const struct gk_sip_txn_key *k, unsigned status,
                                                    const uint8_t *rsp, size_t len,
                                                    gk_sip_txn_handle *h, uint64_t *user_ref)
{
	struct txn *x = NULL;
	enum gk_sip_txn_response r;

	if (h)
		*h = 0;
	if (user_ref)
		*user_ref = 0;
	if (status >= 100 && status <= 699 && key_usable(k))
		x = find(&t->client, k, key_hash(t, k, false), false);
	if (!x) {
		t->stats.stray_responses++;
		return GK_SIP_TXN_STRAY;
	}
	if (h)
		*h = handle_of(t, x);
	if (user_ref)
		*user_ref = x->user_ref;
	r = x->invite ? client_invite_response(t, x, status, rsp, len)
	              : client_other_response(t, x, status);
	if (r == GK_SIP_TXN_PASS)
		t->stats.responses_passed++;
	else
		t->stats.responses_absorbed++;
	return r;
}

gk_sip_txn_handle gk_sip_txn_client_find(struct gk_sip_txn *t, const struct gk_sip_txn_key *k)
{
	struct txn *x;

	if (!key_usable(k))
		return 0;
	x = find(&t->client, k, key_hash(t, k, false), false);
	return x ? handle_of(t, x) : 0;
}

bool gk_sip_txn_client_cancellable(const struct gk_sip_txn *t, gk_sip_txn_handle h)
{
	const struct txn *x = lookup(t, h);
	return x && !x->server && x->invite && x->state == GK_SIP_TXN_PROCEEDING;
}

const uint8_t *gk_sip_txn_client_request(const struct gk_sip_txn *t, gk_sip_txn_handle h,
                                         size_t *len)
{
	const struct txn *x = lookup(t, h);

	if (!x || x->server || x->held != HELD_REQUEST)
		return NULL;
	*len = x->len;
	return t->client.bufs[h & HANDLE_INDEX];
}

/* ---- either ----------------------------------------------------------------------------- */

enum gk_sip_txn_state gk_sip_txn_state(const struct gk_sip_txn *t, gk_sip_txn_handle h)
{
	const struct txn *x = lookup(t, h);
	return x ? (enum gk_sip_txn_state)x->state : GK_SIP_TXN_GONE;
}

int gk_sip_txn_set_ref(struct gk_sip_txn *t, gk_sip_txn_handle h, uint64_t user_ref)
{
	struct txn *x = lookup(t, h);

	if (!x)
		return -ENOENT;
	x->user_ref = user_ref;
	return 0;
}

uint64_t gk_sip_txn_ref(const struct gk_sip_txn *t, gk_sip_txn_handle h)
{
	const struct txn *x = lookup(t, h);
	return x ? x->user_ref : 0;
}

const struct gk_sip_txn_stats *gk_sip_txn_stats(const struct gk_sip_txn *t)
{
	return &t->stats;
}
