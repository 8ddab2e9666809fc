// SPDX-License-Identifier: GPL-2.0-only
/*
 * The core half of the exchange (core.h). The attempts in progress, grouped by IDc
 * (attempts.h), one per host and a few hosts at once, each with its vector: WAIT_VECTOR ->
 * WAIT_ANSWER, and a wrong answer asks for a fresh one. A record per IDc (struct core_rec:
 * failures and lockouts per source host, the session, Digest nonces) only once an answer for an
 * IDc the AuC knows is counted: a made-up IDc costs a transaction until the AuC refuses it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core_priv.h"
#include "gatekey/runtime/config.h"
#include "gatekey/runtime/log.h"
#include "gatekey/crypto/siphash.h"

void gk_core_cfg_defaults(struct gk_core_cfg *c)
{
	c->max_failures = 3;
	c->lockout_s = 300;
	c->challenge_ttl_s = 30;
	c->auc_timeout_ms = 4000;
	c->max_terminals = 262144;
	c->max_pending = 65536;
	strcpy(c->digest_algorithms, "SHA-256"); /* MD5 only when configured, for old phones */
	c->digest_nonce_ttl_s = 300;
}

static void txn_timeout(struct gk_timer *t);
static void sweep_fn(struct gk_timer *t);

/* Transactions resident from the start (900 bytes each with their Digest part); the tables
 * double from there. */
#define FIRST_TXNS 256

/* The ID map is about to hand out slots up to top: the records cover them first. */
static int recs_grow(void *arg, uint32_t top)
{
	struct gk_core *c = arg;
	return gk_steps_reach(&c->rec_steps, top + 1);
}

/* One more step of transactions, their Digest parts with them, onto the free list lowest first:
 * false at max_pending or out of memory. */
static bool txns_grow(struct gk_core *c, uint32_t from)
{
	if (!from && (gk_steps_reach(&c->dg_steps, gk_steps_next(&c->txn_steps)) < 0 ||
	              !(from = gk_steps_grow(&c->txn_steps))))
		return false;
	for (uint32_t i = c->txn_steps.cap - 1; i >= from; i--) {
		c->txns[i].next_free = c->txn_free;
		c->txn_free = i;
		c->txns[i].c = c;
		c->txns[i].timer.fn = txn_timeout;
	}
	return true;
}

struct gk_core *gk_core_new(const struct gk_core_cfg *cfg, const struct gk_core_ops *ops,
                            void *user, struct gk_loop *loop, char *err, size_t errlen)
{
	struct gk_core *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->cfg = *cfg;
	c->ops = *ops;
	c->user = user;
	c->loop = loop;
	if (!cfg->max_pending || cfg->max_pending >= TXN_IDX_MASK || !cfg->max_terminals) {
		snprintf(err, errlen, "max_pending must be 1..%u", TXN_IDX_MASK - 1);
		goto fail;
	}
	if (gk_steps_init(&c->rec_steps, "core_records", cfg->max_terminals + 1, sizeof(*c->recs),
	                  1) < 0 ||
	    gk_steps_init(&c->txn_steps, "core_transactions", cfg->max_pending + 1,
	                  sizeof(*c->txns), FIRST_TXNS) < 0 ||
	    gk_steps_init(&c->dg_steps, "core_digest_transactions", cfg->max_pending + 1,
	                  sizeof(*c->dgs), FIRST_TXNS) < 0) {
		snprintf(err, errlen, "out of memory for %u terminals", cfg->max_terminals);
		goto fail;
	}
	c->recs = (struct core_rec *)c->rec_steps.base;
	c->txns = (struct core_txn *)c->txn_steps.base;
	c->dgs = (struct core_dg *)c->dg_steps.base;
	c->ids = gk_idmap_new_opts(
	    cfg->max_terminals,
	    &(struct gk_idmap_opts){.name = "core_ids", .grow = recs_grow, .arg = c});
	c->attempts = gk_attempts_new(cfg->max_pending, "core_attempts");
	if (!c->ids || !c->attempts) {
		snprintf(err, errlen, "out of memory for %u terminals", cfg->max_terminals);
		goto fail;
	}
	txns_grow(c, 1);
	/* Nonces only need to verify here, for as long as this core runs. */
	if (gk_random(c->nonce_key, sizeof(c->nonce_key)) < 0 ||
	    gk_random(c->source_key, sizeof(c->source_key)) < 0 ||
	    gk_random(&c->sess_epoch, sizeof(c->sess_epoch)) < 0) {
		snprintf(err, errlen, "no randomness for the core's keys");
		goto fail;
	}
	if (!c->cfg.digest_algorithms[0])
		strcpy(c->cfg.digest_algorithms, "SHA-256");
	if (!c->cfg.digest_nonce_ttl_s)
		c->cfg.digest_nonce_ttl_s = 300;
	c->sweep.fn = sweep_fn;
	gk_timer_arm(loop, &c->sweep, SWEEP_MS);
	return c;
fail:
	gk_core_free(c);
	return NULL;
}

void gk_core_free(struct gk_core *c)
{
	if (!c)
		return;
	gk_wipe(c->nonce_key, sizeof(c->nonce_key));
	gk_wipe(c->source_key, sizeof(c->source_key));
	gk_idmap_free(c->ids);
	gk_attempts_free(c->attempts);
	/* Each wipes what it held (the transactions' XAUTH, the Digest parts) before unmapping. */
	gk_steps_free(&c->dg_steps);
	gk_steps_free(&c->rec_steps);
	gk_steps_free(&c->txn_steps);
	free(c);
}

const struct gk_core_stats *gk_core_stats(const struct gk_core *c)
{
	return &c->st;
}

void gk_core_gauges(const struct gk_core *c, uint32_t *records, uint32_t *in_progress)
{
	*records = gk_idmap_count(c->ids);
	*in_progress = c->txn_used;
}

void core_reject(struct gk_core *c, uint64_t ref, enum gk_reason why)
{
	c->st.reasons.n[why]++;
	c->st.rejects++;
	c->ops.reject(c->user, ref, why);
}

uint32_t core_txn_handle(const struct gk_core *c, const struct core_txn *t)
{
	return (uint32_t)(t - c->txns) | ((uint32_t)t->gen << TXN_IDX_BITS);
}

struct core_txn *core_txn_from_handle(struct gk_core *c, uint32_t h)
{
	uint32_t i = h & TXN_IDX_MASK;
	if (!i || i >= c->txn_steps.cap)
		return NULL;
	struct core_txn *t = &c->txns[i];
	return t->state != T_FREE && t->gen == h >> TXN_IDX_BITS ? t : NULL;
}

void core_txn_free(struct gk_core *c, struct core_txn *t)
{
	uint32_t i = (uint32_t)(t - c->txns);
	gk_timer_cancel(c->loop, &t->timer);
	gk_attempts_unlink(c->attempts, i);
	gk_wipe(t->xauth, sizeof(t->xauth));
	if (t->digest)
		gk_wipe(&c->dgs[i], sizeof(c->dgs[i]));
	t->state = T_FREE;
	t->next_free = c->txn_free;
	c->txn_free = i;
	c->txn_used--;
}

const char *core_txn_idc(const struct gk_core *c, const struct core_txn *t)
{
	const char *idc = gk_attempts_id(c->attempts, (uint32_t)(t - c->txns));
	return idc ? idc : "";
}

struct core_txn *core_txn_first(struct gk_core *c, const char *idc)
{
	uint32_t i = gk_attempts_first(c->attempts, idc);
	return i ? &c->txns[i] : NULL;
}

struct core_txn *core_txn_next(struct gk_core *c, const struct core_txn *t)
{
	uint32_t i = gk_attempts_next(c->attempts, (uint32_t)(t - c->txns));
	return i ? &c->txns[i] : NULL;
}

struct core_rec *core_rec_get(struct gk_core *c, const char *idc)
{
	int created;
	uint32_t slot = gk_idmap_get_or_add(c->ids, idc, &created);

	if (!slot)
		return NULL;
	struct core_rec *rc = &c->recs[slot];
	if (created)
		memset(rc, 0, sizeof(*rc));
	rc->last_seen_ms = gk_loop_now(c->loop);
	return rc;
}

static struct core_rec *rec_find(struct gk_core *c, const char *idc)
{
	uint32_t slot = gk_idmap_find(c->ids, idc);
	return slot ? &c->recs[slot] : NULL;
}

static uint64_t source_of(const struct gk_core *c, const char *address);

struct core_txn *core_txn_alloc(struct gk_core *c, const char *idc, const char *address)
{
	uint32_t i;
	uint64_t src = source_of(c, address);

	if (c->txn_used >= c->cfg.max_pending - c->cfg.max_pending / 4) {
		const struct core_rec *rc = rec_find(c, idc);

		if (!rc || rc->good.source != src)
			return NULL;
	}
	if (!c->txn_free && !txns_grow(c, 0))
		return NULL;
	i = c->txn_free;
	struct core_txn *t = &c->txns[i];
	c->txn_free = t->next_free;
	c->txn_used++;
	gk_steps_need(&c->txn_steps, c->txn_used + 1); /* and slot 0 */
	/* 31 - TXN_IDX_BITS bits: bit 31 of a handle stays clear (GK_CORE_HANDLE_SPARE) */
	t->gen = (uint16_t)((t->gen + 1) & ((1u << (31 - TXN_IDX_BITS)) - 1));
	if (!t->gen)
		t->gen = 1;
	t->source = src;
	t->started_ms = gk_loop_now(c->loop);
	(void)gk_attempts_link(c->attempts, idc, i); /* a free slot is in no group */
	return t;
}

static void ask_vector(struct gk_core *c, struct core_txn *t, uint64_t ref, const char *idc)
{
	t->state = T_WAIT_VECTOR;
	t->ref = ref;
	gk_timer_arm(c->loop, &t->timer, c->cfg.auc_timeout_ms);
	c->ops.auc_request(c->user, core_txn_handle(c, t), idc, t->idsp);
}

/* The host of "host:port" or "[v6]:port" (gk_sockaddr_host: an IPv6 host is its /64, a mapped
 * IPv4 address is that address) as a keyed 64-bit hash, never 0; 1 for an address the front did
 * not give. Per host, not per port: a new socket is free to make, and so is an address within
 * one's /64. */
static uint64_t source_of(const struct gk_core *c, const char *address)
{
	struct sockaddr_storage ss;
	uint8_t host[GK_HOST_KEY_MAX];
	char err[64];
	size_t n = 0;
	uint64_t v;

	if (!address || !address[0] || strcmp(address, "-") == 0)
		return 1;
	if (gk_parse_addr(address, &ss, err, sizeof(err)) == 0)
		n = gk_sockaddr_host(&ss, host);
	if (n)
		v = gk_siphash64(c->source_key, host, n);
	else
		v = gk_siphash64(c->source_key, address,
		                 strlen(address)); /* not an address: as is */
	return v > 1 ? v : 2;
}

/* Whether an entry still counts for something: failures towards the limit, a lockout, or a past
 * lockout that makes the next one longer (until it has run out once more). Failures short of a
 * lockout are forgotten lockout_s after the last one: kept for ever, one wrong answer per
 * made-up IDc would pin a record each, until the table is full. */
static bool fail_held(const struct gk_core *c, const struct core_fail *f, uint64_t now)
{
	uint64_t hold_ms = f->locked_until_ms ? 2 * (f->locked_until_ms - f->last_ms) : 0;
	uint64_t forget_ms = (uint64_t)c->cfg.lockout_s * 1000;

	return (f->failures && f->last_ms + forget_ms > now) || f->last_ms + hold_ms > now;
}

/* The entry that counts src's failures at rc: the good host's own, src's in fail[], else (with
 * claim) a free one or one that no longer counts, taken for src, else the one all hosts without
 * room share. Without claim, NULL where src would get a fresh entry. */
static struct core_fail *fail_of(struct gk_core *c, struct core_rec *rc, uint64_t src, bool claim)
{
	uint64_t now = gk_loop_now(c->loop);
	struct core_fail *room = NULL;

	if (rc->good.source == src)
		return &rc->good;
	for (unsigned i = 0; i < CORE_FAIL_SOURCES; i++) {
		struct core_fail *f = &rc->fail[i];

		if (f->source == src)
			return f;
		if (!room && (!f->source || !fail_held(c, f, now)))
			room = f;
	}
	if (!room)
		return &rc->others;
	if (!claim)
		return NULL;
	memset(room, 0, sizeof(*room));
	room->source = src;
	return room;
}

bool core_locked(struct gk_core *c, const struct core_rec *rc, const char *address)
{
	const struct core_fail *f = fail_of(c, (struct core_rec *)rc, source_of(c, address), false);

	return f && f->locked_until_ms > gk_loop_now(c->loop);
}

void core_success(struct gk_core *c, struct core_rec *rc, const char *address)
{
	uint64_t src = source_of(c, address);

	/* That host is the good one now, with a clean slate; the one before (if another) is a
	 * stranger again, and forgets what it had. */
	for (unsigned i = 0; i < CORE_FAIL_SOURCES; i++)
		if (rc->fail[i].source == src)
			memset(&rc->fail[i], 0, sizeof(rc->fail[i]));
	memset(&rc->good, 0, sizeof(rc->good));
	rc->good.source = src;
	rc->good_ms = gk_loop_now(c->loop);
}

/* A lockout counts wrong answers from a source host; whoever shares the terminal's address (a
 * NAT, a neighbour on its /64) can run it up. A request the front verified under the IDc's
 * standing binding comes from the one terminal that holds the current K: its refresh passes. */
bool core_refused_locked(struct gk_core *c, const struct core_rec *rc, const char *address,
                         bool sealed)
{
	if (!rc || !core_locked(c, rc, address))
		return false;
	if (!sealed)
		return true;
	c->st.sealed_past_lockout++;
	return false;
}

bool core_admit(struct gk_core *c, uint64_t ref, const char *idc, const char *idsp,
                const char *address, bool sealed)
{
	struct core_rec *rc = rec_find(c, idc);

	if (strlen(idsp) > GK_ID_MAX) {
		core_reject(c, ref, GK_R_PARSE_BAD_VALUE);
		return false;
	}
	if (core_refused_locked(c, rc, address, sealed)) {
		core_reject(c, ref, GK_R_LOCKED_OUT);
		return false;
	}
	/* A source's new attempt supersedes its last one; another source's is left alone, so
	 * that a stranger's request cannot abort a terminal's. Whoever is superseded is told so:
	 * over the core leg its reference holds a relay slot that only an answer frees. */
	uint64_t src = source_of(c, address);
	uint64_t good = rc ? rc->good.source : 0;
	struct core_txn *old = NULL;
	unsigned n = 0;

	for (struct core_txn *t = core_txn_first(c, idc); t; t = core_txn_next(c, t), n++) {
		if (t->source == src) {
			old = t;
			break;
		}
		/* The good host's attempt is most likely the terminal's refresh. */
		if (t->source != good && (!old || t->started_ms < old->started_ms))
			old = t;
	}
	if (old && (old->source == src || n >= CORE_ATTEMPTS_PER_IDC)) {
		uint64_t old_ref = old->ref;
		/* Only a request still waiting for the AuC is owed a verdict: once challenged,
		 * its reference was answered, and the answer to come carries a new one. */
		bool owed = old->state == T_WAIT_VECTOR;

		core_txn_free(c, old);
		if (owed)
			core_reject(c, old_ref, GK_R_SUPERSEDED);
		else
			c->st.reasons.n[GK_R_SUPERSEDED]++;
	}
	return true;
}

/* A copy of an attempt the core is working on, from the same front and terminal: the front
 * sent it again because its terminal retransmitted before the verdict came back. It joins the
 * attempt under its new reference. Still waiting for the AuC, the attempt answers it when the
 * vector comes, and the earlier copy's reference is let go (uplink_core.c, earlier_copy);
 * already challenged, it gets the same challenge again, which tells nobody anything new.
 * Taken for a new attempt, each copy would supersede the last and ask the AuC again, so that
 * once the AuC answers slower than terminals retransmit (MGCP's first retransmission is at
 * 200 ms), the answer to every challenge would find it replaced, and no registration would
 * complete. Returns false when there is no such attempt. */
static bool core_rejoin(struct gk_core *c, uint64_t ref, const char *idc, const char *idsp,
                        const char *address, bool sealed, uint64_t attempt)
{
	uint64_t src = source_of(c, address);
	struct core_txn *t;

	for (t = core_txn_first(c, idc); t; t = core_txn_next(c, t))
		if (t->attempt == attempt && t->source == src && !t->digest &&
		    strcmp(t->idsp, idsp) == 0)
			break;
	if (!t)
		return false;
	if (core_refused_locked(c, rec_find(c, idc), address, sealed)) {
		core_reject(c, ref, GK_R_LOCKED_OUT);
		return true;
	}
	uint64_t earlier = t->ref;

	t->ref = ref;
	c->st.copies_joined++;
	if (t->state == T_WAIT_VECTOR)
		c->ops.reject(c->user, earlier, GK_R_SUPERSEDED);
	else
		c->ops.challenge(c->user, ref, t->rand);
	return true;
}

void gk_core_register(struct gk_core *c, uint64_t ref, const char *idc, const char *idsp,
                      const char *address, bool sealed, uint64_t attempt)
{
	if (attempt && core_rejoin(c, ref, idc, idsp, address, sealed, attempt))
		return;
	if (!core_admit(c, ref, idc, idsp, address, sealed))
		return;
	struct core_txn *t = core_txn_alloc(c, idc, address);
	if (!t)
		return core_reject(c, ref, GK_R_OVERLOAD);
	strcpy(t->idsp, idsp);
	t->digest = false;
	t->attempt = attempt;
	ask_vector(c, t, ref, idc);
}

void gk_core_auc_vector(struct gk_core *c, uint32_t handle, const struct gk_auc_vector *v)
{
	struct core_txn *t = core_txn_from_handle(c, handle);
	if (!t || t->state != T_WAIT_VECTOR || t->digest)
		return; /* late: the registration timed out or was superseded */
	if (strcmp(v->idc, core_txn_idc(c, t)) != 0 || strcmp(v->idsp, t->idsp) != 0) {
		uint64_t ref = t->ref;
		core_txn_free(c, t);
		return core_reject(c, ref, GK_R_AUC_REJECT);
	}
	memcpy(t->rand, v->rand, GK_RAND_LEN);
	memcpy(t->xauth, v->xauth, GK_AUTH_LEN);
	memcpy(t->blob_terminal, v->blob_terminal, GK_BLOB_LEN);
	memcpy(t->blob_element, v->blob_element, GK_BLOB_LEN);
	t->state = T_WAIT_ANSWER;
	gk_timer_arm(c->loop, &t->timer, (uint64_t)c->cfg.challenge_ttl_s * 1000);
	c->st.vectors++;
	c->st.challenges++;
	c->ops.challenge(c->user, t->ref, t->rand);
}

void gk_core_auc_failed(struct gk_core *c, uint32_t handle, enum gk_reason why)
{
	struct core_txn *t = core_txn_from_handle(c, handle);
	if (!t || t->state != T_WAIT_VECTOR)
		return;
	uint64_t ref = t->ref;
	core_txn_free(c, t);
	core_reject(c, ref, why);
}

static void txn_timeout(struct gk_timer *tm)
{
	struct core_txn *t = (struct core_txn *)((char *)tm - offsetof(struct core_txn, timer));
	struct gk_core *c = t->c;
	uint64_t ref = t->ref;
	bool waiting_auc = t->state == T_WAIT_VECTOR;

	core_txn_free(c, t);
	if (waiting_auc)
		core_reject(c, ref, GK_R_AUC_TIMEOUT);
	else
		c->st.reasons.n[GK_R_NO_CHALLENGE]++; /* the challenge was never answered */
}

/* Each session's Acct-Session-Id is its own (RFC 2866 §5.5: unique, the same in its Start and
 * Stop): named by IDc alone, a refresh's Start could repeat the previous Start byte for byte,
 * RADIUS identifier included, and the AuC would take it for a retransmission and not count it. */
uint64_t core_session_tag(struct gk_core *c)
{
	return (uint64_t)c->sess_epoch << 32 | ++c->sess_count;
}

void core_account(struct gk_core *c, uint32_t status, const char *idc, const char *idsp,
                  const char *address, uint64_t tag)
{
	struct gk_auc_acct a;
	if (!c->ops.auc_accounting)
		return;
	memset(&a, 0, sizeof(a));
	snprintf(a.idc, sizeof(a.idc), "%s", idc);
	snprintf(a.idsp, sizeof(a.idsp), "%s", idsp);
	snprintf(a.address, sizeof(a.address), "%s", address);
	snprintf(a.session_id, sizeof(a.session_id), "%.46s.%016llx", idc, (unsigned long long)tag);
	a.status = status;
	a.timestamp = (uint32_t)time(NULL);
	c->ops.auc_accounting(c->user, &a);
}

/* How long the front's own Stop for a session the core ended at a refresh may take to arrive:
 * the core leg's round trip, with the front's core timeout (5 s by default) to spare. */
#define STOP_AHEAD_MS 10000

/*
 * Accounting order at a refresh. A terminal has one session through an element at a time, so
 * the AuC must see the old one's Stop before the new one's Start (each has its own tag). The
 * front ends the old binding, and sends its notice, only once it has the success; with an SBC
 * that is after the core's Start has gone out, and a Stop for it would end, for the AuC, the
 * session just started. So the core, which knows the session is open, ends it itself before the
 * Start. The front's notice names the old session by its registration's Rand (gk_core_unbound),
 * so it ends nothing when it comes, however late, however often (a lost verdict makes the core
 * challenge and succeed again, and the front sees only the last success). Where the front names
 * no Rand (Digest), the core swallows as many notices as it ended sessions itself in the last
 * STOP_AHEAD_MS (stops_ahead). The Start is accounted before the front hears of the success, so
 * that in both topologies whatever the front does with it (a refresh, a failure that ends the
 * new session at once) comes after.
 */
void core_session_start(struct gk_core *c, struct core_rec *rc, const char *idc, const char *idsp,
                        const char *address, const uint8_t *rand)
{
	uint64_t now = gk_loop_now(c->loop);

	if (rc->sess_open && strcmp(rc->sess_idsp, idsp) == 0) {
		core_account(c, GK_RAD_ACCT_STOP, idc, idsp, rc->sess_address, rc->sess_tag);
		if (!rc->sess_has_rand) {
			if (rc->stops_ahead_until_ms <= now)
				rc->stops_ahead = 0;
			if (rc->stops_ahead < UINT8_MAX)
				rc->stops_ahead++;
			rc->stops_ahead_until_ms = now + STOP_AHEAD_MS;
		}
	}
	rc->sess_tag = core_session_tag(c);
	core_account(c, GK_RAD_ACCT_START, idc, idsp, address, rc->sess_tag);
	rc->sess_open = true;
	rc->sess_has_rand = rand != NULL;
	if (rand)
		memcpy(rc->sess_rand, rand, GK_RAND_LEN);
	snprintf(rc->sess_idsp, sizeof(rc->sess_idsp), "%s", idsp);
	snprintf(rc->sess_address, sizeof(rc->sess_address), "%s", address ? address : "-");
}

/* Longest lockout: lockout_s doubled this many times. */
#define LOCKOUT_DOUBLINGS_MAX 6

bool core_failure(struct gk_core *c, struct core_rec *rc, const char *idc, const char *address)
{
	uint64_t now = gk_loop_now(c->loop);
	struct core_fail *f = fail_of(c, rc, source_of(c, address), true);

	c->st.wrong_auth++;
	c->st.reasons.n[GK_R_WRONG_AUTH]++;
	if (f->failures && f->last_ms + (uint64_t)c->cfg.lockout_s * 1000 <= now)
		f->failures = 0; /* forgotten (fail_held) */
	f->last_ms = now;
	if (++f->failures < c->cfg.max_failures)
		return false;
	uint64_t lock_s =
	    (uint64_t)c->cfg.lockout_s
	    << (f->lockouts < LOCKOUT_DOUBLINGS_MAX ? f->lockouts : LOCKOUT_DOUBLINGS_MAX);
	f->locked_until_ms = now + lock_s * 1000;
	f->failures = 0;
	if (f->lockouts < 255)
		f->lockouts++;
	c->st.lockouts++;
	gk_notice("locked out %s from %s%s for %llus after %u wrong answers", idc,
	          address ? address : "-",
	          f == &rc->others ? " and every other host without a place of its own" : "",
	          (unsigned long long)lock_s, c->cfg.max_failures);
	return true;
}

void gk_core_answer(struct gk_core *c, uint64_t ref, const char *idc, const char *idsp,
                    const uint8_t rand[GK_RAND_LEN], const uint8_t auth[GK_AUTH_LEN],
                    const char *address, bool sealed, uint64_t attempt)
{
	struct core_rec *rc = rec_find(c, idc);
	struct core_txn *t;

	if (core_refused_locked(c, rc, address, sealed))
		return core_reject(c, ref, GK_R_LOCKED_OUT);
	/* The attempt this answers: the one whose challenge carried this Rand. */
	for (t = core_txn_first(c, idc); t; t = core_txn_next(c, t))
		if (t->state == T_WAIT_ANSWER && !t->digest && strcmp(t->idsp, idsp) == 0 &&
		    gk_ct_equal(t->rand, rand, GK_RAND_LEN))
			break;
	if (!t) {
		/* No challenge of ours carried this Rand: the core restarted since (its front
		 * checked N2 and Rand against the challenge it relayed), or the challenge expired.
		 * Challenged afresh, as the front does with an answer it cannot place
		 * (registrar.c), so that the registration completes instead of failing: a new
		 * attempt with a new vector, under the same admission as a REGISTER. */
		c->st.stale_answers++;
		return gk_core_register(c, ref, idc, idsp, address, sealed, attempt);
	}
	/* The AuC answered for the IDc (a vector, maybe a decoy for an IDc it does not know): from
	 * here on its answers are counted, in a record made now. */
	rc = core_rec_get(c, idc);
	if (!gk_ct_equal(t->xauth, auth, GK_AUTH_LEN)) {
		if (!rc || core_failure(c, rc, idc, address)) {
			/* Without room to count it, a wrong answer gets no further challenge. */
			core_txn_free(c, t);
			return core_reject(c, ref, rc ? GK_R_LOCKED_OUT : GK_R_TABLE_FULL);
		}
		/* A fresh challenge with a fresh vector: a wrong answer teaches nothing about the
		 * next Rand, and an unknown IDc looks exactly the same from outside. */
		ask_vector(c, t, ref, idc);
		return;
	}
	c->st.successes++;
	uint8_t r[GK_RAND_LEN], bt[GK_BLOB_LEN], be[GK_BLOB_LEN];
	memcpy(r, t->rand, sizeof(r));
	memcpy(bt, t->blob_terminal, sizeof(bt));
	memcpy(be, t->blob_element, sizeof(be));
	char sp[GK_ID_MAX + 1];
	strcpy(sp, t->idsp);
	core_txn_free(c, t);
	if (rc) {
		core_success(c, rc, address);
		core_session_start(c, rc, idc, sp, address, r);
	} else {
		/* Records full of strangers' failures: the right answer still counts, with its
		 * session accounted but not followed (its Stop comes from the front). */
		core_account(c, GK_RAD_ACCT_START, idc, sp, address, 0);
	}
	c->ops.success(c->user, ref, r, bt, be);
}

void gk_core_unbound(struct gk_core *c, const char *idc, const char *idsp, const char *address,
                     const uint8_t *rand)
{
	struct core_rec *rc = rec_find(c, idc);

	if (rc && rand) {
		/* The notice names its session: it ends the open one if it is that one, and
		 * nothing otherwise (ended at the refresh that replaced it, by Digest too, or
		 * already). */
		if (!rc->sess_open || !rc->sess_has_rand || strcmp(rc->sess_idsp, idsp) != 0 ||
		    !gk_ct_equal(rc->sess_rand, rand, GK_RAND_LEN)) {
			c->st.unbound_ended_already++;
			return;
		}
		rc->sess_open = false;
		core_account(c, GK_RAD_ACCT_STOP, idc, idsp, address, rc->sess_tag);
		return;
	}
	if (rc) {
		/* An unnamed notice (Digest): the open session, unless the core ended it itself
		 * at a refresh; none open, it ended already. */
		if (!rc->sess_open || strcmp(rc->sess_idsp, idsp) != 0) {
			c->st.unbound_ended_already++;
			return;
		}
		if (rc->stops_ahead && rc->stops_ahead_until_ms > gk_loop_now(c->loop)) {
			rc->stops_ahead--; /* accounted at the refresh, before its Start */
			return;
		}
		rc->stops_ahead = 0;
		rc->sess_open = false;
		core_account(c, GK_RAD_ACCT_STOP, idc, idsp, address, rc->sess_tag);
		return;
	}
	/* No record: its session was accounted but not followed (records full); its Stop is
	 * the front's to give. */
	core_account(c, GK_RAD_ACCT_STOP, idc, idsp, address, 0);
}

/* Records with nothing left to remember go back to the map, so made-up IDcs cannot fill it. */
static void sweep_fn(struct gk_timer *tm)
{
	struct gk_core *c = (struct gk_core *)((char *)tm - offsetof(struct gk_core, sweep));
	uint64_t now = gk_loop_now(c->loop);

	for (uint32_t i = 1; i <= gk_idmap_top(c->ids); i++) {
		if (!gk_idmap_id(c->ids, i))
			continue;
		struct core_rec *rc = &c->recs[i];
		/* A Digest nonce stays replay-protected for as long as it may be answered. */
		uint64_t keep_ms = rc->dg_floor_ms ? (uint64_t)c->cfg.digest_nonce_ttl_s * 1000 : 0;

		for (unsigned k = 0; k < CORE_DG_NONCES; k++)
			if (rc->dg_seen[k].nonce[0])
				keep_ms = (uint64_t)c->cfg.digest_nonce_ttl_s * 1000;
		/* A host's record of failures is kept as long as its next lockout would be longer
		 * than the first: until its last lockout has run out once more. The good host is
		 * remembered for its terminal's refreshes, so that strangers who lock out the
		 * shared budget meanwhile do not lock it out too. */
		bool keep = fail_held(c, &rc->others, now) || fail_held(c, &rc->good, now) ||
		            (rc->good.source && rc->good_ms + CORE_GOOD_HOLD_MS > now) ||
		            rc->sess_open;

		for (unsigned k = 0; k < CORE_FAIL_SOURCES; k++)
			keep |= rc->fail[k].source && fail_held(c, &rc->fail[k], now);
		if (keep || rc->last_seen_ms + 60000 > now || rc->last_seen_ms + keep_ms > now)
			continue;
		gk_idmap_remove(c->ids, i);
		memset(rc, 0, sizeof(*rc));
	}
	gk_timer_arm(c->loop, &c->sweep, SWEEP_MS);
}
