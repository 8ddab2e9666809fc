// SPDX-License-Identifier: GPL-2.0-only
/*
 * The exchange state machine, network side (DESIGN §3). A registration in progress (struct
 * pending, grouped by IDc in attempts.h) moves WAIT_CORE -> WAIT_ANSWER -> WAIT_CORE ->
 * (binding); wrong answers get a fresh challenge until the core locks the source out. Only a
 * right answer creates the IDc's record (N1 cache, binding, terminal index): a stranger's
 * REGISTER costs an attempt slot for as long as the attempt lives, never a record.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gatekey/runtime/addrmap.h"
#include "gatekey/exchange/attempts.h"
#include "gatekey/codec/codec.h"
#include "gatekey/runtime/config.h"
#include "gatekey/runtime/idmap.h"
#include "gatekey/runtime/log.h"
#include "gatekey/runtime/steps.h"
#include "gatekey/exchange/registrar.h"
#include "gatekey/exchange/bindstore.h"

#define N1_CACHE         8
#define PENDING_IDX_BITS 17
#define PENDING_IDX_MASK ((1u << PENDING_IDX_BITS) - 1)
#define SWEEP_MS         10000
/* How long a temporary refusal is repeated to a retransmission of the request it answered: a
 * SIP non-INVITE transaction's life (64 x T1, Timer F), the longest any binding retransmits. */
#define REFUSAL_KEPT_MS 32000
/* Registrations in progress resident from the start (10 KiB each); the table doubles from there. */
#define FIRST_PENDING 64

/* The mechanisms a GK1 exchange may end in: those that use the key it delivers. The list they
 * are chosen from is not covered by AUTH (the AuC computes XAUTH before the terminal answers), so
 * choosing from it a mechanism that does without K would let whoever rewrites the list throw the
 * key away: a downgrade the terminal detects in s10 only once the binding exists. With this, a
 * rewritten list ends in a gk-mac binding nobody but the terminal can use, or in NO_MECH.
 * Address pinning (`digest`) is for terminals without GK1, through the Digest path. */
#define GK1_MECHS ((1u << GK_MECH_GKMAC) | (1u << GK_MECH_IPSEC))

/* The element's SPIs for a slot's ipsec-3gpp binding: a pair of its own per slot, and the other
 * pair at the slot's next ipsec-3gpp registration (ipsec_flip), so that a refresh's SAs never
 * reuse those they replace (gk_ipsec_prepare refuses that). From 2^30 up: clear of RFC 4303's
 * reserved 1..255 and of the low numbers other keying daemons on a host start from. */
#define IPSEC_SPI_BASE 0x40000000u

/* WAIT_CORE: the core has the request (s2 or s8) and owes a challenge, success or reject. */
enum pending_state { P_FREE = 0, P_WAIT_CORE, P_WAIT_ANSWER };

struct gk_binding {
	uint32_t index; /* record slot */
	bool active;
	/* Deregistered, kept BINDING_LINGER_MS longer (binding_linger): it verifies and seals,
	 * but serves nothing but its deregistration's repeat. */
	bool lingering;
	bool has_rand;
	uint8_t rand[GK_RAND_LEN]; /* of the registration that made it: names its session */
	uint8_t mech;
	uint8_t proto; /* enum gk_proto it registered over; 0 where not known (metrics only) */
	struct sockaddr_storage addr;
	struct gk_pkt_keys keys;
	struct gk_replay_window win_up;
	uint64_t seq_down;
	uint64_t expires_at_ms;
	char fpr[GK_FPR_HEX_LEN + 1];
	uint64_t rx_ok, tx;
	struct gk_ipsec_end ipsec_term, ipsec_net; /* mech ipsec-3gpp: both ends, as exchanged */
	uint8_t ipsec_flip; /* which of the slot's SPI pairs the next ipsec-3gpp binding takes */
	struct gk_timer expiry;
	struct gk_registrar *r;
};

/* The success a binding was made with, kept for a challenge's lifetime: a retransmitted answer
 * (the success was lost, or the network duplicated the answer) gets the same success again, as
 * a SIP server transaction answers a retransmission with the same final response. A refusal
 * instead (the answer's N1 is spent) could overtake the success on its way and undo it. */
struct sent_success {
	uint64_t until_ms; /* loop clock; 0: none */
	uint64_t ts;
	uint32_t expires;
	uint8_t chosen;
	bool has_reg_n1;
	uint8_t n1[GK_NONCE_LEN], n2[GK_NONCE_LEN];
	uint8_t reg_n1[GK_NONCE_LEN];            /* of the REGISTER the registration began with */
	struct gk_mech_offer mechs[GK_MECH_MAX]; /* the echo the MAC covers */
	uint8_t n_mechs;
	uint8_t blob[GK_BLOB_LEN];
	uint8_t mac[GK_MAC_LEN];
	uint32_t ipsec_fields; /* GK_F_IPSEC_TERM, GK_F_IPSEC_NET: the ends the MAC covers */
	struct gk_ipsec_end ipsec_term, ipsec_net;
};

/* The temporary refusal (overload, the core's timeout) the front gave the record's latest
 * request, to whom. Its N1 is spent (seen_n1): without this, a retransmission after the refusal
 * was lost would be refused as a replay (403), ending a registration the network only asked to
 * wait. A sockaddr_in6 holds either family's address, in a quarter of a sockaddr_storage. */
struct refusal {
	uint8_t n1[GK_NONCE_LEN];
	struct sockaddr_in6 to;
	uint32_t retry_after_s;
	uint64_t until_ms;
};

struct record {
	uint8_t seen_n1[N1_CACHE][GK_NONCE_LEN];
	uint8_t n1_pos, n1_count;
	uint64_t last_seen_ms;
	struct sent_success sent;
	struct refusal refused;
	struct gk_binding b;
};

struct pending {
	uint8_t state;
	uint16_t gen;
	uint32_t next_free;
	uint64_t started_ms;
	struct sockaddr_storage from;
	uint8_t n1[GK_NONCE_LEN]; /* N1 of the request being answered */
	/* N1 of the REGISTER the attempt began with, kept once the ANSWER's N1 takes its place:
	 * the REGISTER is what a command protocol's terminal may still retransmit (on_register). */
	uint8_t reg_n1[GK_NONCE_LEN];
	bool has_reg_n1;
	uint8_t n2[GK_NONCE_LEN]; /* N2 of the challenge issued */
	uint64_t ts2;
	uint8_t rand[GK_RAND_LEN];
	uint8_t chosen; /* mechanism picked from the ANSWER, while the core decides */
	bool sealed;    /* the request came under the IDc's own binding's trailer (is_sealed) */
	uint16_t step;  /* which of the attempt's requests went to the core last (pending_ref) */
	struct gk_timer timer;
	struct gk_registrar *r;
	struct gk_msg req; /* the request owed a response: its wire context answers it */
};

struct gk_registrar {
	struct gk_registrar_cfg cfg;
	struct gk_registrar_ops ops;
	void *user;
	struct gk_loop *loop;
	struct gk_idmap *ids;
	struct record
	    *records; /* 1..max_terminals: rec_steps.base, resident as far as ids' slots */
	struct pending *pending; /* 1..max_pending: pend_steps.base */
	struct gk_steps rec_steps, pend_steps;
	uint32_t pending_free, pending_used;
	struct gk_attempts *attempts; /* the pending slots, by the IDc they claim */
	struct gk_addrmap *addrs;
	/* ipsec-3gpp bindings by their protected client address (the terminal's address and
	 * port-c): NULL unless ipsec-3gpp is supported */
	struct gk_addrmap *ipsec_srcs;
	struct gk_timer sweep;
	struct gk_registrar_stats stats;
	struct gk_bindstore *store; /* where bindings outlive the daemon, or NULL (bindstore.h) */
};

/* Some protocol has two distinct protected ports, and none has only one of them; SPIs for every
 * slot fit above IPSEC_SPI_BASE. */
static bool ipsec_cfg_ok(const struct gk_registrar_cfg *cfg, const struct gk_registrar_ops *ops)
{
	bool some = false;

	for (unsigned p = 0; p < GK_PROTO_COUNT; p++) {
		uint16_t c = cfg->ipsec_port_c[p], sv = cfg->ipsec_port_s[p];
		if (!c != !sv || (c && (c == sv || p == 0)))
			return false;
		some |= c != 0;
	}
	return some && ops->ipsec_up && cfg->max_terminals <= (UINT32_MAX - IPSEC_SPI_BASE) / 4;
}

/* The address a binding's protected datagrams come from: its address with the terminal's
 * port-c. */
static void ipsec_src(const struct gk_binding *b, struct sockaddr_storage *out)
{
	*out = b->addr;
	gk_sockaddr_set_port(out, b->ipsec_term.port_c);
}

static void ipsec_src_put(struct gk_registrar *r, const struct gk_binding *b)
{
	struct sockaddr_storage a;

	if (b->mech != GK_MECH_IPSEC || !r->ipsec_srcs)
		return;
	ipsec_src(b, &a);
	gk_addrmap_put(r->ipsec_srcs, &a, b->index);
}

static void ipsec_src_del(struct gk_registrar *r, const struct gk_binding *b)
{
	struct sockaddr_storage a;

	if (b->mech != GK_MECH_IPSEC || !r->ipsec_srcs)
		return;
	ipsec_src(b, &a);
	gk_addrmap_del(r->ipsec_srcs, &a, b->index);
}

void gk_registrar_cfg_defaults(struct gk_registrar_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->role = GK_ROLE_SOFTSWITCH;
	c->skew_s = 30;
	c->challenge_ttl_s = 30;
	c->core_timeout_ms = 5000;
	c->expires_default_s = 3600;
	c->expires_min_s = 60;
	c->expires_max_s = 86400;
	c->mechs_supported = 1u << GK_MECH_GKMAC;
	c->max_terminals = 262144;
	c->max_pending = 65536;
	c->log_registrations = true;
	c->retry_after_s = GK_RETRY_AFTER_DEFAULT_S;
	c->retry_jitter_s = GK_RETRY_JITTER_DEFAULT_S;
}

static void sweep_fn(struct gk_timer *t);

/* The ID map is about to hand out slots up to top: the records cover them first. */
static int records_grow(void *arg, uint32_t top)
{
	struct gk_registrar *r = arg;
	return gk_steps_reach(&r->rec_steps, top + 1);
}

/* The resident pending slots from `from` on join the free list, lowest first. */
static void pending_link(struct gk_registrar *r, uint32_t from)
{
	for (uint32_t i = r->pend_steps.cap - 1; i >= from; i--) {
		r->pending[i].next_free = r->pending_free;
		r->pending_free = i;
	}
}

struct gk_registrar *gk_registrar_new(const struct gk_registrar_cfg *cfg,
                                      const struct gk_registrar_ops *ops, void *user,
                                      struct gk_loop *loop, char *err, size_t errlen)
{
	struct gk_registrar *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->cfg = *cfg;
	r->ops = *ops;
	r->user = user;
	r->loop = loop;
	if (cfg->max_pending == 0 || cfg->max_pending > PENDING_IDX_MASK - 1) {
		snprintf(err, errlen, "max_pending must be 1..%u", PENDING_IDX_MASK - 1);
		goto fail;
	}
	if (cfg->retry_after_s > GK_RETRY_AFTER_MAX_S ||
	    cfg->retry_jitter_s > GK_RETRY_AFTER_MAX_S) {
		snprintf(err, errlen, "retry_after and retry_jitter must be 0..%u s",
		         GK_RETRY_AFTER_MAX_S);
		goto fail;
	}
	if ((cfg->mechs_supported & (1u << GK_MECH_IPSEC)) && !ipsec_cfg_ok(cfg, ops)) {
		snprintf(
		    err, errlen,
		    "ipsec-3gpp needs a way to install SAs and, for at least one protocol, two "
		    "distinct protected ports (and none for a protocol without both)");
		goto fail;
	}
	if (cfg->max_terminals == 0 ||
	    gk_steps_init(&r->rec_steps, "registrar_records", cfg->max_terminals + 1,
	                  sizeof(*r->records), 1) < 0 ||
	    gk_steps_init(&r->pend_steps, "registrar_pending", cfg->max_pending + 1,
	                  sizeof(*r->pending), FIRST_PENDING) < 0) {
		snprintf(err, errlen, "out of memory for %u terminals", cfg->max_terminals);
		goto fail;
	}
	r->records = (struct record *)r->rec_steps.base;
	r->pending = (struct pending *)r->pend_steps.base;
	/* The records follow the ID map's slots step by step; indices whose bytes hold a line end
	 * are never handed out (gk_pkt_index_text_safe). */
	r->ids = gk_idmap_new_opts(cfg->max_terminals,
	                           &(struct gk_idmap_opts){.name = "registrar_ids",
	                                                   .grow = records_grow,
	                                                   .arg = r,
	                                                   .usable = gk_pkt_index_text_safe});
	r->addrs = gk_addrmap_new(cfg->max_terminals, "registrar_addrs");
	if (cfg->mechs_supported & (1u << GK_MECH_IPSEC))
		r->ipsec_srcs = gk_addrmap_new(cfg->max_terminals, "registrar_ipsec_srcs");
	r->attempts = gk_attempts_new(cfg->max_pending, "registrar_attempts");
	if (!r->ids || !r->addrs || !r->attempts ||
	    (!r->ipsec_srcs && (cfg->mechs_supported & (1u << GK_MECH_IPSEC)))) {
		snprintf(err, errlen, "out of memory for %u terminals", cfg->max_terminals);
		goto fail;
	}
	pending_link(r, 1);
	r->sweep.fn = sweep_fn;
	gk_timer_arm(loop, &r->sweep, SWEEP_MS);
	return r;
fail:
	gk_registrar_free(r);
	return NULL;
}

void gk_registrar_free(struct gk_registrar *r)
{
	if (!r)
		return;
	/* gk_steps_free wipes the records' keys and the requests in progress with the rest. */
	gk_wipe(r->cfg.element_key, sizeof(r->cfg.element_key));
	gk_idmap_free(r->ids);
	gk_addrmap_free(r->addrs);
	gk_addrmap_free(r->ipsec_srcs);
	gk_attempts_free(r->attempts);
	gk_steps_free(&r->rec_steps);
	gk_steps_free(&r->pend_steps);
	free(r);
}

static uint64_t wall_s(void)
{
	return (uint64_t)time(NULL);
}

static void count(struct gk_registrar *r, enum gk_reason why)
{
	if ((unsigned)why < GK_R__COUNT)
		r->stats.reasons.n[why]++;
}

void gk_registrar_count(struct gk_registrar *r, enum gk_reason why)
{
	count(r, why);
}

static uint32_t retry_after(const struct gk_registrar *r)
{
	return gk_retry_after_pick(r->cfg.retry_after_s, r->cfg.retry_jitter_s);
}

uint32_t gk_registrar_shed(struct gk_registrar *r)
{
	count(r, GK_R_OVERLOAD);
	r->stats.rejects++;
	r->stats.rejects_overload++;
	return retry_after(r);
}

const struct gk_registrar_stats *gk_registrar_stats(const struct gk_registrar *r)
{
	return &r->stats;
}

void gk_registrar_gauges(const struct gk_registrar *r, uint32_t *records, uint32_t *in_progress)
{
	*records = gk_idmap_count(r->ids);
	*in_progress = r->pending_used;
}

/* Responses: the wire context of the request answers it; the codec does the rest. */
static void respond_init(struct gk_msg *resp, const struct gk_msg *req, enum gk_msg_type type)
{
	memset(resp, 0, offsetof(struct gk_msg, wire));
	resp->proto = req->proto;
	resp->type = (uint8_t)type;
	memcpy(resp->idc, req->idc, sizeof(resp->idc));
	memcpy(resp->idsp, req->idsp, sizeof(resp->idsp));
	gk_msg_copy_wire(resp, req);
}

/* A refusal decided by the core: the core counted its reason. An overload refusal carries the
 * wait the core asked for (retry_after_s), or this registrar's own. */
static uint32_t relay_reject(struct gk_registrar *r, const struct gk_msg *req,
                             const struct sockaddr_storage *to, enum gk_reason why,
                             uint32_t retry_after_s)
{
	struct gk_msg resp;
	char a[64];

	r->stats.rejects++;
	if (gk_log_level >= GK_LOG_DEBUG) {
		gk_format_addr(to, a, sizeof(a));
		gk_debug("reject %s from %s: %s", req->idc, a, gk_reason_str(why));
	}
	respond_init(&resp, req, GK_MSG_REJECT);
	resp.reason = (uint16_t)why;
	if (gk_reason_is_temporary(why)) {
		resp.reason = GK_R_OVERLOAD; /* on the wire; counted under why */
		r->stats.rejects_overload++;
		resp.retry_after = retry_after_s ? retry_after_s : retry_after(r);
	}
	r->ops.send_terminal(r->user, &resp, to, NULL);
	return resp.retry_after;
}

static void reject(struct gk_registrar *r, const struct gk_msg *req,
                   const struct sockaddr_storage *to, enum gk_reason why)
{
	count(r, why);
	relay_reject(r, req, to, why, 0);
}

static struct record *rec(struct gk_registrar *r, uint32_t slot)
{
	return &r->records[slot];
}

/* A terminal index that may have a record: one the ID map has handed out so far. An index read
 * off the wire past that has none, and its entry is not resident. */
static bool index_known(const struct gk_registrar *r, uint32_t idx)
{
	return idx && idx <= gk_idmap_top(r->ids);
}

static bool n1_seen(const struct record *rc, const uint8_t n1[GK_NONCE_LEN])
{
	for (unsigned i = 0; i < rc->n1_count; i++)
		if (memcmp(rc->seen_n1[i], n1, GK_NONCE_LEN) == 0)
			return true;
	return false;
}

static void n1_remember(struct record *rc, const uint8_t n1[GK_NONCE_LEN])
{
	memcpy(rc->seen_n1[rc->n1_pos], n1, GK_NONCE_LEN);
	rc->n1_pos = (uint8_t)((rc->n1_pos + 1) % N1_CACHE);
	if (rc->n1_count < N1_CACHE)
		rc->n1_count++;
}

static bool ts_fresh(const struct gk_registrar *r, const struct gk_msg *m)
{
	uint64_t now = wall_s();
	if (!(m->fields & GK_F_TS))
		return false;
	return m->ts + r->cfg.skew_s >= now && m->ts <= now + r->cfg.skew_s;
}

static void pending_free(struct gk_registrar *r, struct pending *p);

/* Attempts per IDc, each from its own host: a request from one host never supersedes another
 * host's attempt, so a stranger cannot abort a terminal's registration with one REGISTER.
 * Per host, not per address: a port costs nothing, and a stranger with one per attempt used to
 * fill the IDc's places until the terminal's gave way. Beyond this many hosts at once, the
 * oldest attempt gives way, never the one from where the IDc is registered (its refresh). */
#define ATTEMPTS_PER_IDC 4

/* The binding of idc, if it has one. */
static struct gk_binding *binding_of(struct gk_registrar *r, const char *idc)
{
	uint32_t slot = gk_idmap_find(r->ids, idc);
	return slot && rec(r, slot)->b.active ? &rec(r, slot)->b : NULL;
}

/* The attempt in progress for idc from exactly `from`, or NULL. */
static struct pending *pending_of(struct gk_registrar *r, const char *idc,
                                  const struct sockaddr_storage *from)
{
	for (uint32_t i = gk_attempts_first(r->attempts, idc); i;
	     i = gk_attempts_next(r->attempts, i))
		if (gk_sockaddr_equal(&r->pending[i].from, from))
			return &r->pending[i];
	return NULL;
}

/* The attempt in progress for idc from from's host, at any port, or NULL. */
static struct pending *pending_of_host(struct gk_registrar *r, const char *idc,
                                       const struct sockaddr_storage *from)
{
	for (uint32_t i = gk_attempts_first(r->attempts, idc); i;
	     i = gk_attempts_next(r->attempts, i))
		if (gk_sockaddr_same_host(&r->pending[i].from, from))
			return &r->pending[i];
	return NULL;
}

/* Whether an attempt in progress for idc came with this N1: a copy of its request, from
 * elsewhere (from the same address it is a retransmission: on_register). Before a binding
 * exists these are the only N1s of the IDc remembered; afterwards the record's cache is. */
static bool n1_in_progress(struct gk_registrar *r, const char *idc, const uint8_t n1[GK_NONCE_LEN])
{
	for (uint32_t i = gk_attempts_first(r->attempts, idc); i;
	     i = gk_attempts_next(r->attempts, i))
		if (memcmp(r->pending[i].n1, n1, GK_NONCE_LEN) == 0 ||
		    (r->pending[i].has_reg_n1 &&
		     memcmp(r->pending[i].reg_n1, n1, GK_NONCE_LEN) == 0))
			return true;
	return false;
}

/* Room for a new attempt at idc from `from`: it supersedes its host's last one (a new socket of
 * the same terminal, or whoever shares its address: the core keys the same way); else, when all
 * ATTEMPTS_PER_IDC places are taken, the oldest attempt gives way, except one from the host
 * the IDc is registered from. */
static void pending_make_room(struct gk_registrar *r, const char *idc,
                              const struct sockaddr_storage *from)
{
	struct pending *oldest = NULL, *p = pending_of_host(r, idc, from);
	const struct gk_binding *b = binding_of(r, idc);
	unsigned n = 0;

	if (p)
		return pending_free(r, p);
	for (uint32_t i = gk_attempts_first(r->attempts, idc); i;
	     i = gk_attempts_next(r->attempts, i), n++) {
		p = &r->pending[i];
		if (b && gk_sockaddr_same_host(&b->addr, &p->from))
			continue;
		if (!oldest || p->started_ms < oldest->started_ms)
			oldest = p;
	}
	if (n >= ATTEMPTS_PER_IDC && oldest)
		pending_free(r, oldest);
}

static uint32_t pending_handle(const struct gk_registrar *r, const struct pending *p)
{
	uint32_t idx = (uint32_t)(p - r->pending);
	return idx | ((uint32_t)p->gen << PENDING_IDX_BITS);
}

/* The reference p's current request goes to the core under: its handle, and which request of
 * the attempt it is (gk_registrar_ref_attempt). */
static uint64_t pending_ref(const struct gk_registrar *r, const struct pending *p)
{
	return pending_handle(r, p) | (uint64_t)p->step << GK_REGISTRAR_REF_STEP_SHIFT;
}

static void pending_timeout(struct gk_timer *t);

/* The last quarter of the attempt table is kept for hosts refreshing a binding they hold:
 * strangers who fill the rest with requests for IDcs the AuC knows (each lives until its
 * challenge expires) do not stop registered terminals from refreshing. */
static bool pending_room_for(struct gk_registrar *r, const char *idc,
                             const struct sockaddr_storage *from)
{
	const struct gk_binding *b;

	if (r->pending_used < r->cfg.max_pending - r->cfg.max_pending / 4)
		return true;
	b = binding_of(r, idc);
	return b && gk_sockaddr_same_host(&b->addr, from);
}

/* A new attempt for idc from `from`, or NULL when the table has no room for it. */
static struct pending *pending_alloc(struct gk_registrar *r, const char *idc,
                                     const struct sockaddr_storage *from)
{
	uint32_t i;
	if (!pending_room_for(r, idc, from))
		return NULL;
	if (!r->pending_free) {
		uint32_t first = gk_steps_grow(&r->pend_steps);
		if (!first)
			return NULL; /* all max_pending taken, or no memory for more */
		pending_link(r, first);
	}
	i = r->pending_free;
	struct pending *p = &r->pending[i];
	r->pending_free = p->next_free;
	r->pending_used++;
	gk_steps_need(&r->pend_steps, r->pending_used + 1); /* and slot 0 */
	uint16_t gen = (uint16_t)((p->gen + 1) & ((1u << (32 - PENDING_IDX_BITS)) - 1));
	memset(p, 0, offsetof(struct pending, req));
	p->gen = gen ? gen : 1;
	p->r = r;
	p->timer.fn = pending_timeout;
	p->started_ms = gk_loop_now(r->loop);
	p->from = *from;
	(void)gk_attempts_link(r->attempts, idc, i); /* a free slot is in no group */
	return p;
}

static void pending_free(struct gk_registrar *r, struct pending *p)
{
	uint32_t i = (uint32_t)(p - r->pending);

	/* The generation stays: a handle to the slot's last use is never taken for a later one. */
	uint16_t gen = p->gen;

	gk_attempts_unlink(r->attempts, i);
	gk_timer_cancel(r->loop, &p->timer);
	gk_wipe(p, offsetof(struct pending, req));
	p->gen = gen;
	p->state = P_FREE;
	p->next_free = r->pending_free;
	r->pending_free = i;
	r->pending_used--;
}

static struct pending *pending_from_handle(struct gk_registrar *r, uint32_t handle)
{
	uint32_t i = handle & PENDING_IDX_MASK;
	if (!i || i >= r->pend_steps.cap)
		return NULL;
	struct pending *p = &r->pending[i];
	if (p->state == P_FREE || p->gen != (handle >> PENDING_IDX_BITS))
		return NULL;
	return p;
}

/* Hands the request to the core; p->req keeps it so the core's verdict can answer it. */
static void to_core(struct gk_registrar *r, struct pending *p, const struct gk_msg *req,
                    const struct sockaddr_storage *from)
{
	p->state = P_WAIT_CORE;
	p->from = *from;
	memcpy(p->n1, req->n1, GK_NONCE_LEN);
	if (req->type == GK_MSG_REGISTER) {
		memcpy(p->reg_n1, req->n1, GK_NONCE_LEN);
		p->has_reg_n1 = true;
	}
	p->step++;
	gk_msg_copy(&p->req, req);
	gk_timer_arm(r->loop, &p->timer, r->cfg.core_timeout_ms);
	r->stats.core_requests++;
	char a[GK_TXT_SHORT];

	gk_format_addr(from, a, sizeof(a));
	if (req->type == GK_MSG_REGISTER)
		r->ops.core_register(r->user, pending_ref(r, p), req->idc, r->cfg.idsp, a,
		                     p->sealed);
	else
		r->ops.core_answer(r->user, pending_ref(r, p), req->idc, r->cfg.idsp, req->rand,
		                   req->auth, a, p->sealed);
}

/* The terminal retransmitted a request the core has not decided yet. Across a network (an SBC's
 * front) the request to the core, or the core's verdict, may be what was lost, and the core leg
 * has no retransmission of its own: the terminal's timers drive it, end to end, so a copy goes
 * again under the same reference. The core treats it as the same attempt, or, for an answer it
 * decided already, challenges afresh (core.c), and the first verdict to arrive is the one used.
 * In one process (softswitchd facing terminals itself) nothing is lost between the two. */
static void core_resend(struct gk_registrar *r, struct pending *p)
{
	char a[GK_TXT_SHORT];

	r->stats.repeats_while_deciding++;
	if (r->cfg.role != GK_ROLE_SBC)
		return; /* the core in this process holds the request: nothing was lost */
	r->stats.core_resent++;
	gk_format_addr(&p->from, a, sizeof(a));
	if (p->req.type == GK_MSG_REGISTER)
		r->ops.core_register(r->user, pending_ref(r, p), p->req.idc, r->cfg.idsp, a,
		                     p->sealed);
	else
		r->ops.core_answer(r->user, pending_ref(r, p), p->req.idc, r->cfg.idsp, p->req.rand,
		                   p->req.auth, a, p->sealed);
}

/* The attempt waiting for the core's verdict on ref, or NULL. A verdict answers the request it
 * was sent for, and only the attempt's current request is owed one: over a slow core leg, a
 * verdict on an earlier request (the REGISTER's challenge again, sent because a late copy of the
 * REGISTER joined the attempt; or the challenge for an answer whose success overtook it) can
 * arrive after the terminal has moved on. Taken for the current request's, it would challenge
 * the terminal's latest answer while the core is deciding it, and the success that follows
 * would find the attempt waiting for a new answer; each such challenge brought more late copies
 * of the same kind, until the terminal gave up (REFUSED after 8 challenges). */
static struct pending *pending_of_verdict(struct gk_registrar *r, uint64_t ref)
{
	if (ref >> GK_REGISTRAR_REF_BITS)
		return NULL; /* not a reference of ours */
	struct pending *p = pending_from_handle(r, (uint32_t)ref);
	if (!p || p->state != P_WAIT_CORE)
		return NULL; /* late: the registration timed out, moved on or finished */
	if ((uint16_t)(ref >> GK_REGISTRAR_REF_STEP_SHIFT) != p->step) {
		r->stats.stale_verdicts++;
		return NULL;
	}
	return p;
}

/* p's challenge, in the transaction of req (the request it answers, or a copy of it), echoing
 * n1: the N1 of that request. */
static void send_challenge(struct gk_registrar *r, struct pending *p, const struct gk_msg *req,
                           const uint8_t n1[GK_NONCE_LEN])
{
	struct gk_msg c;

	respond_init(&c, req, GK_MSG_CHALLENGE);
	memcpy(c.n1, n1, GK_NONCE_LEN);
	memcpy(c.n2, p->n2, GK_NONCE_LEN);
	memcpy(c.rand, p->rand, GK_RAND_LEN);
	c.ts = p->ts2;
	c.fields = GK_F_N1 | GK_F_N2 | GK_F_TS | GK_F_RAND | GK_F_WANT_MECHS;
	r->ops.send_terminal(r->user, &c, &p->from, NULL);
}

void gk_registrar_core_challenge(struct gk_registrar *r, uint64_t ref,
                                 const uint8_t rand[GK_RAND_LEN])
{
	struct pending *p = pending_of_verdict(r, ref);
	if (!p || p->chosen == GK_MECH_DIGEST)
		return;
	memcpy(p->rand, rand, GK_RAND_LEN);
	if (gk_random(p->n2, GK_NONCE_LEN) < 0) {
		/* A predictable N2 would make the challenge replayable: refuse instead. */
		reject(r, &p->req, &p->from, GK_R_INTERNAL);
		pending_free(r, p);
		return;
	}
	p->ts2 = wall_s();
	p->state = P_WAIT_ANSWER;
	gk_timer_arm(r->loop, &p->timer, (uint64_t)r->cfg.challenge_ttl_s * 1000);
	r->stats.challenges++;
	send_challenge(r, p, &p->req, p->n1);
}

/* An attempt ended in a temporary refusal (retry_after_s, 0 for a final one): where the IDc
 * has a record, that refusal is what a retransmission of its request gets (refusal_repeat). */
static void refusal_keep(struct gk_registrar *r, const struct pending *p, uint32_t retry_after_s)
{
	uint32_t slot = gk_idmap_find(r->ids, p->req.idc);
	struct refusal *rf;

	if (!retry_after_s || !slot)
		return;
	rf = &rec(r, slot)->refused;
	memcpy(rf->n1, p->n1, GK_NONCE_LEN);
	memset(&rf->to, 0, sizeof(rf->to));
	memcpy(&rf->to, &p->from,
	       p->from.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                     : sizeof(struct sockaddr_in));
	rf->retry_after_s = retry_after_s;
	rf->until_ms = gk_loop_now(r->loop) + REFUSAL_KEPT_MS;
}

/* A retransmission of the request rc's latest temporary refusal answered, from where that
 * refusal went: the same refusal again (true), and nothing else changes. */
static bool refusal_repeat(struct gk_registrar *r, struct record *rc, const struct gk_msg *m,
                           const struct sockaddr_storage *from)
{
	const struct refusal *rf = &rc->refused;
	struct sockaddr_storage to;
	struct gk_msg resp;

	if (!rf->until_ms || gk_loop_now(r->loop) >= rf->until_ms ||
	    memcmp(rf->n1, m->n1, GK_NONCE_LEN) != 0)
		return false;
	memset(&to, 0, sizeof(to));
	memcpy(&to, &rf->to, sizeof(rf->to));
	if (!gk_sockaddr_equal(&to, from))
		return false;
	r->stats.refusals_repeated++;
	respond_init(&resp, m, GK_MSG_REJECT);
	resp.reason = GK_R_OVERLOAD;
	resp.retry_after = rf->retry_after_s;
	r->ops.send_terminal(r->user, &resp, from, NULL);
	return true;
}

void gk_registrar_core_reject(struct gk_registrar *r, uint64_t ref, enum gk_reason why,
                              uint32_t retry_after_s)
{
	struct pending *p = pending_of_verdict(r, ref);
	if (!p)
		return;
	refusal_keep(r, p, relay_reject(r, &p->req, &p->from, why, retry_after_s));
	pending_free(r, p);
}

static void pending_timeout(struct gk_timer *t)
{
	struct pending *p = (struct pending *)((char *)t - offsetof(struct pending, timer));
	struct gk_registrar *r = p->r;

	if (p->state == P_WAIT_CORE) {
		count(r, GK_R_AUC_TIMEOUT);
		refusal_keep(r, p, relay_reject(r, &p->req, &p->from, GK_R_AUC_TIMEOUT, 0));
	} else {
		count(r, GK_R_NO_CHALLENGE); /* challenge never answered */
	}
	pending_free(r, p);
}

static void binding_expired(struct gk_timer *t);

/* The rest of a binding's end: out of the fast path, its keys wiped. */
static void binding_gone(struct gk_registrar *r, struct gk_binding *b)
{
	if (r->ops.binding_down)
		r->ops.binding_down(r->user, b);
	gk_wipe(&b->keys, sizeof(b->keys));
	memset(&b->win_up, 0, sizeof(b->win_up));
	b->lingering = false;
}

static void binding_linger_end(struct gk_timer *t)
{
	struct gk_binding *b =
	    (struct gk_binding *)((char *)t - offsetof(struct gk_binding, expiry));
	if (b->lingering)
		binding_gone(b->r, b);
}

/* A lingering binding ends now: its record takes a new one. */
static void linger_stop(struct gk_registrar *r, struct gk_binding *b)
{
	if (!b->lingering)
		return;
	gk_timer_cancel(r->loop, &b->expiry);
	binding_gone(r, b);
}

/* A gk-mac binding the terminal deregistered lingers for as long as the terminal may repeat its
 * deregistration (SIP's timer F, the command protocols' and RAS's retransmissions end sooner):
 * when the answer was lost, the repeat is sealed under this binding's key, and without it the
 * fast path would drop the repeat as naming no terminal, and the terminal would give up
 * (TIMEOUT) on a deregistration that was done. Everything else ends at once: the address map,
 * the session (core_unbound), the store, so the binding serves nothing more, and an expired one
 * (no terminal waits for an answer) goes at once. */
#define BINDING_LINGER_MS 32000

static void binding_end(struct gk_registrar *r, struct gk_binding *b, bool expired)
{
	char addr[GK_TXT_SHORT];
	const char *idc = gk_idmap_id(r->ids, b->index);

	if (!b->active)
		return;
	gk_format_addr(&b->addr, addr, sizeof(addr));
	r->ops.core_unbound(r->user, idc, r->cfg.idsp, addr, b->has_rand ? b->rand : NULL);
	if (r->cfg.log_registrations)
		gk_info("%s %s fpr=%s", expired ? "expired" : "deregistered", idc, b->fpr);
	gk_addrmap_del(r->addrs, &b->addr, b->index);
	ipsec_src_del(r, b);
	gk_timer_cancel(r->loop, &b->expiry);
	memset(&rec(r, b->index)->sent, 0, sizeof(rec(r, b->index)->sent));
	b->active = false;
	if (!expired && b->mech == GK_MECH_GKMAC) {
		if (r->ops.binding_lingers)
			r->ops.binding_lingers(r->user, b);
		b->lingering = true;
		b->expiry.fn = binding_linger_end;
		gk_timer_arm(r->loop, &b->expiry, BINDING_LINGER_MS);
	} else {
		binding_gone(r, b);
	}
	if (r->store)
		gk_bindstore_del(r->store, b->index);
	if (expired)
		r->stats.expirations++;
	else
		r->stats.deregistrations++;
}

static void binding_expired(struct gk_timer *t)
{
	struct gk_binding *b =
	    (struct gk_binding *)((char *)t - offsetof(struct gk_binding, expiry));
	binding_end(b->r, b, true);
}

static uint32_t clamp_expires(const struct gk_registrar *r, const struct gk_msg *m)
{
	uint32_t e = (m->fields & GK_F_EXPIRES) ? m->expires : r->cfg.expires_default_s;
	if (e < r->cfg.expires_min_s)
		e = r->cfg.expires_min_s;
	if (e > r->cfg.expires_max_s)
		e = r->cfg.expires_max_s;
	return e;
}

static void on_digest_register(struct gk_registrar *r, struct gk_msg *m,
                               const struct sockaddr_storage *from);
static bool resend_success(struct gk_registrar *r, struct record *rc, const struct gk_msg *m,
                           const struct sockaddr_storage *from);

/* The mechanisms a request of protocol proto may be given: ipsec-3gpp only where that protocol
 * has protected ports. */
static uint32_t mechs_for(const struct gk_registrar *r, uint8_t proto)
{
	uint32_t m = r->cfg.mechs_supported & GK1_MECHS;

	if (proto >= GK_PROTO_COUNT || !r->cfg.ipsec_port_s[proto])
		m &= ~(1u << GK_MECH_IPSEC);
	return m;
}

/* The standing binding index whose protection covered a datagram from `from`: its gk-mac
 * trailer, from its address, or its ipsec-3gpp SAs, from its protected client address. NULL for
 * index 0 or any other binding. */
static struct gk_binding *protected_binding(struct gk_registrar *r, uint32_t index,
                                            const struct sockaddr_storage *from)
{
	struct sockaddr_storage src;

	if (!index_known(r, index) || !rec(r, index)->b.active)
		return NULL;
	struct gk_binding *b = &rec(r, index)->b;
	if (b->mech == GK_MECH_GKMAC)
		return gk_sockaddr_equal(&b->addr, from) ? b : NULL;
	if (b->mech != GK_MECH_IPSEC)
		return NULL;
	ipsec_src(b, &src);
	return gk_sockaddr_equal(&src, from) ? b : NULL;
}

/* Whether m came under the protection of its own IDc's standing binding (verified_index names
 * it: its gk-mac trailer, or its ipsec-3gpp SAs), from that binding's address: a refresh by the
 * terminal that holds the current K. The core lets it through a lockout of its source, which
 * anyone sharing the address can cause. Under another IDc's binding it is an ordinary request. */
static bool is_sealed(struct gk_registrar *r, const struct gk_msg *m,
                      const struct sockaddr_storage *from, uint32_t verified_index)
{
	bool sealed = verified_index && verified_index == gk_idmap_find(r->ids, m->idc) &&
	              protected_binding(r, verified_index, from);

	r->stats.sealed_requests += sealed;
	return sealed;
}

static void on_register(struct gk_registrar *r, struct gk_msg *m,
                        const struct sockaddr_storage *from, uint32_t verified_index)
{
	uint32_t slot;
	struct record *rc;
	struct pending *p;

	if (strcmp(m->idsp, r->cfg.idsp) != 0)
		return reject(r, m, from, GK_R_WRONG_IDSP);
	if (!(m->fields & GK_F_N1)) {
		/* No GK1 values at all: an ordinary UA, if Digest is allowed here and its binding
		 * has a Digest exchange (a codec without one could not carry the challenge). */
		const struct gk_codec *c = gk_codec_get((enum gk_proto)m->proto);

		if (c && c->digest && (r->cfg.mechs_supported & (1u << GK_MECH_DIGEST)) &&
		    r->ops.core_digest &&
		    !(m->fields & (GK_F_N2 | GK_F_AUTH | GK_F_TS | GK_F_MECHS)))
			return on_digest_register(r, m, from);
		return reject(r, m, from, GK_R_PARSE_MISSING);
	}
	if (!ts_fresh(r, m))
		return reject(r, m, from, GK_R_STALE_TS);
	/* Nothing is kept for the IDc beyond the attempt itself until an answer proves it: the
	 * record (and the index the fast path holds) come with the binding (complete). */
	p = pending_of(r, m->idc, from);
	if (p && memcmp(p->n1, m->n1, GK_NONCE_LEN) == 0) {
		/* A retransmission of the request we are working on: the challenge is public, send
		 * it again; while the core decides, the request to it may be what was lost. */
		if (p->state == P_WAIT_ANSWER)
			send_challenge(r, p, m, p->n1);
		else
			core_resend(r, p);
		return;
	}
	/* The REGISTER this attempt began with, after the terminal answered its challenge. An
	 * MGCP or H.248 terminal retransmits a command until its own final response comes, which
	 * travels apart from the challenge and may be lost; its transaction layer hands the copy on
	 * as new when it no longer holds that response (cmd_txn.c). Taken for a new attempt, it
	 * would replace this one and throw away the answer the core is deciding; refused, the
	 * refusal would reach the terminal as the REGISTER's final response and end its
	 * registration. It was answered with the challenge: it gets the challenge again, which the
	 * terminal, past it, ignores. */
	if (p && p->has_reg_n1 && memcmp(p->reg_n1, m->n1, GK_NONCE_LEN) == 0) {
		r->stats.challenges_resent++;
		send_challenge(r, p, m, p->reg_n1);
		return;
	}
	slot = gk_idmap_find(r->ids, m->idc);
	rc = slot ? rec(r, slot) : NULL;
	/* The same after the registration it began has made the binding: the success it ended
	 * in, while that is kept, from the binding's address (resend_success). */
	if (rc && resend_success(r, rc, m, from))
		return;
	if (rc && refusal_repeat(r, rc, m, from))
		return;
	if ((rc && n1_seen(rc, m->n1)) || n1_in_progress(r, m->idc, m->n1))
		return reject(r, m, from, GK_R_REPLAY_N1);
	if (rc) {
		rc->last_seen_ms = gk_loop_now(r->loop);
		n1_remember(rc, m->n1);
	}
	pending_make_room(r, m->idc, from);
	p = pending_alloc(r, m->idc, from);
	if (!p)
		return reject(r, m, from, GK_R_OVERLOAD);
	p->sealed = is_sealed(r, m, from, verified_index);
	to_core(r, p, m, from);
}

/* A binding's record into the store, before anyone hears of the binding: a crash after the
 * terminal is told it is registered cannot lose it. */
static void store_put(struct gk_registrar *r, const struct gk_binding *b)
{
	struct gk_binding_record rec;

	if (!r->store)
		return;
	gk_binding_record_of(b, &rec);
	gk_bindstore_put(r->store, &rec);
	gk_wipe(&rec, sizeof(rec));
}

/* The binding of record `slot` now belongs to `from` with mechanism mech and, unless k is NULL
 * (Digest), the keys derived from K. 0, or -1 when the keys cannot be derived: then nothing
 * changed, and the registration must be refused (a binding with all-zero keys would pass
 * anyone's datagrams). A standing binding is a refresh: its session ends first, accounted as
 * such (core_unbound: the Stop that pairs with its Start). */
static int binding_install(struct gk_registrar *r, uint32_t slot,
                           const struct sockaddr_storage *from, enum gk_mech mech, const uint8_t *k,
                           const uint8_t *rand, uint32_t expires, const struct gk_msg *success)
{
	struct gk_binding *b = &rec(r, slot)->b;
	bool refresh = b->active;
	struct gk_pkt_keys keys;

	/* A Digest binding has no success to repeat: one kept from a gk-mac binding it replaces
	 * must not be handed to a replay of that binding's exchange from the new address. */
	if (!k)
		gk_wipe(&rec(r, slot)->sent, sizeof(rec(r, slot)->sent));
	linger_stop(r, b);
	char fpr[GK_FPR_HEX_LEN + 1] = "-"; /* no key to fingerprint (Digest) */

	memset(&keys, 0, sizeof(keys));
	if (k && gk_pkt_keys_derive(k, &keys) < 0) {
		gk_wipe(&keys, sizeof(keys));
		return -1;
	}
	if (k)
		gk_fingerprint(k, fpr);
	if (refresh) {
		char a[GK_TXT_SHORT];

		/* Re-registration: the old key ends here, the new one takes over. */
		if (r->ops.binding_down)
			r->ops.binding_down(r->user, b);
		gk_format_addr(&b->addr, a, sizeof(a));
		r->ops.core_unbound(r->user, gk_idmap_id(r->ids, slot), r->cfg.idsp, a,
		                    b->has_rand ? b->rand : NULL);
		gk_addrmap_del(r->addrs, &b->addr, slot);
		ipsec_src_del(r, b);
		gk_wipe(&b->keys, sizeof(b->keys));
	}
	b->r = r;
	b->index = slot;
	b->active = true;
	b->mech = (uint8_t)mech;
	b->proto = success->proto;
	b->addr = *from;
	b->keys = keys;
	gk_wipe(&keys, sizeof(keys));
	memcpy(b->fpr, fpr, sizeof(b->fpr));
	b->has_rand = rand != NULL;
	if (rand)
		memcpy(b->rand, rand, GK_RAND_LEN);
	else
		memset(b->rand, 0, GK_RAND_LEN);
	memset(&b->win_up, 0, sizeof(b->win_up));
	memset(&b->ipsec_term, 0, sizeof(b->ipsec_term));
	memset(&b->ipsec_net, 0, sizeof(b->ipsec_net));
	if (mech == GK_MECH_IPSEC) {
		b->ipsec_term = success->ipsec_term;
		b->ipsec_net = success->ipsec_net;
		b->ipsec_flip ^= 1;
	}
	b->seq_down = 0;
	b->rx_ok = b->tx = 0;
	b->expires_at_ms = gk_loop_now(r->loop) + (uint64_t)expires * 1000;
	b->expiry.fn = binding_expired;
	gk_timer_arm(r->loop, &b->expiry, (uint64_t)expires * 1000);
	gk_addrmap_put(r->addrs, from, slot);
	ipsec_src_put(r, b);
	store_put(r, b);
	if (refresh)
		r->stats.refreshes++;
	else
		r->stats.registrations++;
	return 0;
}

static void log_registered(struct gk_registrar *r, const char *idc,
                           const struct sockaddr_storage *from, const struct gk_binding *b)
{
	char a[GK_TXT_SHORT];

	if (!r->cfg.log_registrations)
		return;
	gk_format_addr(from, a, sizeof(a));
	gk_info("registered %s from %s mech=%s index=%u fpr=%s", idc, a,
	        gk_mech_name((enum gk_mech)b->mech), b->index, b->fpr);
}

/* The record the binding of p's IDc goes into, created now that the core has accepted its
 * answer: 0 when all max_terminals are taken (sbcd caps it to what the fast path holds, so an
 * index handed out is always one XDP can enforce). */
static uint32_t record_for_binding(struct gk_registrar *r, const struct pending *p)
{
	int created;
	uint32_t slot = gk_idmap_get_or_add(r->ids, p->req.idc, &created);

	if (!slot)
		return 0;
	struct record *rc = rec(r, slot);
	if (created)
		memset(rc, 0, sizeof(*rc));
	rc->last_seen_ms = gk_loop_now(r->loop);
	if (!n1_seen(rc, p->n1))
		n1_remember(rc, p->n1);
	/* and the REGISTER's, so that a late copy of it never opens a new attempt */
	if (p->has_reg_n1 && !n1_seen(rc, p->reg_n1))
		n1_remember(rc, p->reg_n1);
	return slot;
}

/* The core said yes, but the binding cannot be made: the session it accounted (Start) ends. */
static void refuse_success(struct gk_registrar *r, struct pending *p, enum gk_reason why)
{
	char a[GK_TXT_SHORT];

	gk_format_addr(&p->from, a, sizeof(a));
	r->ops.core_unbound(r->user, p->req.idc, r->cfg.idsp, a,
	                    p->chosen == GK_MECH_DIGEST ? NULL : p->rand);
	reject(r, &p->req, &p->from, why);
	pending_free(r, p);
}

/* The ipsec-3gpp ends a SUCCESS carries, under its MAC. The terminal's end as it arrived, whenever
 * the answer offered one on an ipsec-3gpp entry of its list: echoed, so that an end rewritten or
 * removed on the way up (which would also take ipsec-3gpp out of the choice) is caught by the
 * terminal, which compares it with what it sent. (A list without the entry has no place for the
 * end in any binding; its echo shows the terminal the entry is gone.) The element's own end when
 * ipsec-3gpp was chosen: the configured protected ports, and the slot's next pair of SPIs. */
static void ipsec_ends(struct gk_registrar *r, uint32_t slot, const struct gk_msg *answer,
                       enum gk_mech mech, struct gk_msg *s)
{
	bool listed = false;

	for (unsigned i = 0; i < answer->n_mechs && i < GK_MECH_MAX; i++)
		listed |= answer->mechs[i].mech == GK_MECH_IPSEC;
	if (listed && (answer->fields & GK_F_IPSEC_TERM)) {
		s->ipsec_term = answer->ipsec_term;
		s->fields |= GK_F_IPSEC_TERM;
	}
	if (mech != GK_MECH_IPSEC)
		return;
	uint32_t spi = IPSEC_SPI_BASE + slot * 4 + (uint32_t)rec(r, slot)->b.ipsec_flip * 2;
	s->ipsec_net = (struct gk_ipsec_end){.spi_c = spi,
	                                     .spi_s = spi + 1,
	                                     .port_c = r->cfg.ipsec_port_c[answer->proto],
	                                     .port_s = r->cfg.ipsec_port_s[answer->proto]};
	s->fields |= GK_F_IPSEC_NET;
}

/* Whether another IDc's standing ipsec-3gpp binding has the protected client address a
 * registration from `from` with end term would take. Its terminal (behind the same NAT, or on the
 * same host) would get policies with the same selectors, under which the kernel takes either's
 * SAs: its datagrams would count as the other's. The later one is refused. */
static bool ipsec_src_taken(struct gk_registrar *r, const struct sockaddr_storage *from,
                            const struct gk_ipsec_end *term, uint32_t slot)
{
	struct sockaddr_storage a = *from;
	uint32_t other;

	gk_sockaddr_set_port(&a, term->port_c);
	other = r->ipsec_srcs ? gk_addrmap_find(r->ipsec_srcs, &a) : 0;
	return other && other != slot && rec(r, other)->b.active &&
	       rec(r, other)->b.mech == GK_MECH_IPSEC;
}

static void complete(struct gk_registrar *r, struct pending *p,
                     const uint8_t blob_terminal[GK_BLOB_LEN],
                     const uint8_t blob_element[GK_BLOB_LEN])
{
	uint32_t slot;
	struct gk_binding *b;
	struct gk_msg *m = &p->req;
	const struct sockaddr_storage *from = &p->from;
	enum gk_mech mech = (enum gk_mech)p->chosen;
	uint8_t k[GK_KEY_LEN];
	uint8_t canon[GK_CANON_MAX];
	struct gk_msg s;
	int n;

	if (gk_key_unwrap(r->cfg.element_key, blob_element, m->idc, r->cfg.idsp, p->rand,
	                  r->cfg.role, k) < 0)
		return refuse_success(r, p, GK_R_UNWRAP_FAILED);
	slot = record_for_binding(r, p);
	if (!slot) {
		gk_wipe(k, sizeof(k));
		return refuse_success(r, p, GK_R_TABLE_FULL);
	}
	b = &rec(r, slot)->b;
	b->r = r; /* a new record's binding names its slot before it is made (ops.ipsec_up) */
	b->index = slot;

	respond_init(&s, m, GK_MSG_SUCCESS);
	memcpy(s.n1, m->n1, GK_NONCE_LEN);
	s.ts = wall_s();
	memcpy(s.blob, blob_terminal, GK_BLOB_LEN);
	s.chosen = (uint8_t)mech;
	memcpy(s.mechs, m->mechs, sizeof(s.mechs));
	s.n_mechs = m->n_mechs;
	s.expires = clamp_expires(r, m);
	s.index = mech == GK_MECH_GKMAC ? slot : 0;
	s.fields = GK_F_N1 | GK_F_N2 | GK_F_TS | GK_F_BLOB | GK_F_CHOSEN | GK_F_MECHS |
	           GK_F_EXPIRES | GK_F_MAC | GK_F_INDEX;
	ipsec_ends(r, slot, m, mech, &s);
	if (mech == GK_MECH_IPSEC && ipsec_src_taken(r, from, &s.ipsec_term, slot)) {
		gk_wipe(k, sizeof(k));
		return refuse_success(r, p, GK_R_WRONG_SOURCE);
	}
	n = gk_random(s.n2, GK_NONCE_LEN) < 0
	        ? -1
	        : gk_codec_success_canonical(&s, canon, sizeof(canon));
	if (n < 0 || gk_response_mac(k, canon, (size_t)n, s.mac) < 0 ||
	    (mech == GK_MECH_IPSEC &&
	     r->ops.ipsec_up(r->user, b, from, &s.ipsec_term, &s.ipsec_net, k, s.expires) != 0) ||
	    binding_install(r, slot, from, mech, k, p->rand, s.expires, &s) < 0) {
		gk_wipe(k, sizeof(k));
		return refuse_success(r, p, GK_R_INTERNAL);
	}
	gk_wipe(k, sizeof(k));
	struct sent_success *kept = &rec(r, slot)->sent;
	kept->until_ms = gk_loop_now(r->loop) + (uint64_t)r->cfg.challenge_ttl_s * 1000;
	kept->ts = s.ts;
	kept->expires = s.expires;
	kept->chosen = s.chosen;
	memcpy(kept->n1, s.n1, GK_NONCE_LEN);
	memcpy(kept->n2, s.n2, GK_NONCE_LEN);
	kept->has_reg_n1 = p->has_reg_n1;
	memcpy(kept->reg_n1, p->reg_n1, GK_NONCE_LEN);
	memcpy(kept->mechs, s.mechs, sizeof(kept->mechs));
	kept->n_mechs = s.n_mechs;
	memcpy(kept->blob, s.blob, GK_BLOB_LEN);
	memcpy(kept->mac, s.mac, GK_MAC_LEN);
	kept->ipsec_fields = s.fields & (GK_F_IPSEC_TERM | GK_F_IPSEC_NET);
	kept->ipsec_term = s.ipsec_term;
	kept->ipsec_net = s.ipsec_net;
	r->ops.send_terminal(r->user, &s, from, NULL);
	gk_histogram_observe_ms(&r->stats.latency, gk_loop_now(r->loop) - p->started_ms);
	if (r->ops.binding_up)
		r->ops.binding_up(r->user, b);
	log_registered(r, m->idc, from, b);
	pending_free(r, p);
}

/* m repeats the answer that made rc's binding, or the REGISTER its registration began with, from
 * the binding's address, while that success is kept: the same success goes again, in m's own
 * transaction, byte for byte what the terminal verified (the mechanism list it echoes is the
 * kept one: a REGISTER carries none). */
static bool resend_success(struct gk_registrar *r, struct record *rc, const struct gk_msg *m,
                           const struct sockaddr_storage *from)
{
	const struct sent_success *kept = &rc->sent;
	bool same = m->type == GK_MSG_ANSWER
	                ? memcmp(kept->n1, m->n1, GK_NONCE_LEN) == 0
	                : kept->has_reg_n1 && memcmp(kept->reg_n1, m->n1, GK_NONCE_LEN) == 0;
	struct gk_msg s;

	if (!rc->b.active || kept->until_ms <= gk_loop_now(r->loop) || !same ||
	    !gk_sockaddr_equal(&rc->b.addr, from))
		return false;
	/* Where the SUCCESS's MAC covers its transaction (RAS MACs the encoded message), one in the
	 * REGISTER's transaction (a GRQ's) would fail the terminal still waiting for the real one,
	 * which a reordering network may deliver after it. The terminal is past that REGISTER; the
	 * copy is dropped. (A repeated answer is a retransmission of the very request the SUCCESS
	 * answered, in the same transaction: byte for byte the same SUCCESS.) */
	const struct gk_codec *codec = gk_codec_get((enum gk_proto)m->proto);
	if (m->type != GK_MSG_ANSWER && codec && codec->success_canonical) {
		r->stats.repeats_ignored++;
		return true;
	}
	respond_init(&s, m, GK_MSG_SUCCESS);
	memcpy(s.n1, kept->n1, GK_NONCE_LEN);
	memcpy(s.n2, kept->n2, GK_NONCE_LEN);
	s.ts = kept->ts;
	memcpy(s.blob, kept->blob, GK_BLOB_LEN);
	s.chosen = kept->chosen;
	memcpy(s.mechs, kept->mechs, sizeof(s.mechs));
	s.n_mechs = kept->n_mechs;
	s.expires = kept->expires;
	s.index = kept->chosen == GK_MECH_GKMAC ? rc->b.index : 0;
	memcpy(s.mac, kept->mac, GK_MAC_LEN);
	s.ipsec_term = kept->ipsec_term;
	s.ipsec_net = kept->ipsec_net;
	s.fields = GK_F_N1 | GK_F_N2 | GK_F_TS | GK_F_BLOB | GK_F_CHOSEN | GK_F_MECHS |
	           GK_F_EXPIRES | GK_F_MAC | GK_F_INDEX | kept->ipsec_fields;
	r->stats.successes_resent++;
	r->ops.send_terminal(r->user, &s, from, NULL);
	return true;
}

void gk_registrar_core_success(struct gk_registrar *r, uint64_t ref,
                               const uint8_t rand[GK_RAND_LEN],
                               const uint8_t blob_terminal[GK_BLOB_LEN],
                               const uint8_t blob_element[GK_BLOB_LEN])
{
	struct pending *p = pending_of_verdict(r, ref);
	if (!p || p->req.type != GK_MSG_ANSWER || !gk_ct_equal(p->rand, rand, GK_RAND_LEN))
		return;
	complete(r, p, blob_terminal, blob_element);
}

/* Same credentials from the same host while the core still decides: a retransmission (from
 * another port if a NAT moved the terminal), or a copy by whoever shares its address. Either
 * way the first decides, as at the core (same_answer_in_check); superseding it would leave its
 * success without an attempt to complete. */
static bool same_digest_attempt(const struct pending *p, const struct gk_msg *m)
{
	return p->state == P_WAIT_CORE && p->chosen == GK_MECH_DIGEST &&
	       (p->req.fields & GK_F_DIGEST) && (m->fields & GK_F_DIGEST) &&
	       strcmp(p->req.digest.nonce, m->digest.nonce) == 0 &&
	       strcmp(p->req.digest.nc, m->digest.nc) == 0 &&
	       strcmp(p->req.digest.response, m->digest.response) == 0;
}

static void on_digest_register(struct gk_registrar *r, struct gk_msg *m,
                               const struct sockaddr_storage *from)
{
	char a[GK_TXT_SHORT];
	struct pending *p = pending_of_host(r, m->idc, from);

	if (p && same_digest_attempt(p, m)) {
		r->stats.repeats_while_deciding++;
		return;
	}
	pending_make_room(r, m->idc, from);
	p = pending_alloc(r, m->idc, from);
	if (!p)
		return reject(r, m, from, GK_R_OVERLOAD);
	p->chosen = GK_MECH_DIGEST;
	p->state = P_WAIT_CORE;
	p->step = 1;
	gk_msg_copy(&p->req, m);
	gk_timer_arm(r->loop, &p->timer, r->cfg.core_timeout_ms);
	r->stats.core_requests++;
	gk_format_addr(from, a, sizeof(a));
	r->ops.core_digest(r->user, pending_ref(r, p), m->idc, r->cfg.idsp,
	                   (m->fields & GK_F_DIGEST) ? &m->digest : NULL, a);
}

static struct pending *digest_pending(struct gk_registrar *r, uint64_t ref)
{
	struct pending *p = pending_of_verdict(r, ref);
	if (!p || p->chosen != GK_MECH_DIGEST)
		return NULL;
	return p;
}

void gk_registrar_core_digest_challenge(struct gk_registrar *r, uint64_t ref,
                                        const struct gk_digest *chal)
{
	struct pending *p = digest_pending(r, ref);
	struct gk_msg c;

	if (!p)
		return;
	respond_init(&c, &p->req, GK_MSG_CHALLENGE);
	c.digest = *chal;
	c.fields = GK_F_DIGEST_CHAL;
	r->stats.challenges++;
	r->ops.send_terminal(r->user, &c, &p->from, NULL);
	pending_free(r, p); /* the nonce carries what the core needs to check the answer */
}

void gk_registrar_core_digest_success(struct gk_registrar *r, uint64_t ref)
{
	struct pending *p = digest_pending(r, ref);
	struct gk_msg s;

	if (!p)
		return;
	uint32_t slot = record_for_binding(r, p);
	if (!slot)
		return refuse_success(r, p, GK_R_TABLE_FULL);
	struct gk_binding *b = &rec(r, slot)->b;
	respond_init(&s, &p->req, GK_MSG_SUCCESS);
	s.chosen = GK_MECH_DIGEST;
	s.expires = clamp_expires(r, &p->req);
	s.fields = GK_F_CHOSEN | GK_F_EXPIRES;
	(void)binding_install(r, slot, &p->from, GK_MECH_DIGEST, NULL, NULL, s.expires,
	                      &s); /* no K, no Rand */
	r->ops.send_terminal(r->user, &s, &p->from, NULL);
	gk_histogram_observe_ms(&r->stats.latency, gk_loop_now(r->loop) - p->started_ms);
	if (r->ops.binding_up)
		r->ops.binding_up(r->user, b);
	log_registered(r, p->req.idc, &p->from, b);
	pending_free(r, p);
}

static void on_answer(struct gk_registrar *r, struct gk_msg *m, const struct sockaddr_storage *from,
                      uint32_t verified_index)
{
	uint32_t slot;
	struct record *rc;
	struct pending *p;
	enum gk_mech mech;

	if (strcmp(m->idsp, r->cfg.idsp) != 0)
		return reject(r, m, from, GK_R_WRONG_IDSP);
	if ((m->fields & (GK_F_N1 | GK_F_N2 | GK_F_AUTH)) != (GK_F_N1 | GK_F_N2 | GK_F_AUTH))
		return reject(r, m, from, GK_R_PARSE_MISSING);
	if (!ts_fresh(r, m))
		return reject(r, m, from, GK_R_STALE_TS);
	slot = gk_idmap_find(r->ids, m->idc);
	rc = slot ? rec(r, slot) : NULL;
	/* The answer that made the binding, again: its success again, whatever the terminal has
	 * begun since. An MGCP or H.248 terminal retransmits it until its own final response
	 * comes, which may be lost while the success arrives; its refresh may then be in progress
	 * when a copy arrives that the transaction layer no longer recognises, and a refusal in
	 * that copy's transaction would end the refresh. */
	if (rc && resend_success(r, rc, m, from))
		return;
	if (rc && refusal_repeat(r, rc, m, from))
		return;
	/* An answer counts only from where its challenge went: resent from elsewhere it would
	 * install the binding at the sender's address. Attempts in progress are left alone. */
	p = pending_of(r, m->idc, from);
	if (!p && gk_attempts_first(r->attempts, m->idc))
		return reject(r, m, from, GK_R_WRONG_SOURCE);
	if (p && p->state == P_WAIT_CORE && p->req.type == GK_MSG_ANSWER &&
	    memcmp(p->n1, m->n1, GK_NONCE_LEN) == 0)
		return core_resend(r, p); /* retransmitted while the core decides */
	if (!p) {
		/* No challenge of ours is waiting for it: this front restarted since the challenge
		 * went out, or the challenge expired. Like a stale nonce in Digest (RFC 7616,
		 * stale=true), the answer gets a fresh challenge, and the terminal's registration
		 * completes instead of failing. It is a request as good as a REGISTER with its N1:
		 * same checks (a replayed N1 is refused there), same state, same proof needed. */
		r->stats.stale_answers++;
		m->type = GK_MSG_REGISTER;
		m->fields &= ~(GK_F_N2 | GK_F_AUTH | GK_F_RAND);
		return on_register(r, m, from, verified_index);
	}
	if (p->state != P_WAIT_ANSWER)
		return reject(r, m, from, GK_R_NO_CHALLENGE);
	if (!gk_ct_equal(p->n2, m->n2, GK_NONCE_LEN)) {
		/* Its own N1, another N2: the terminal's answer to an earlier challenge of this
		 * attempt, retransmitted while a fresh one was on its way (the core challenged
		 * again after its verdict was lost). A refusal could reach the terminal after it
		 * took the fresh challenge, and end the registration: the challenge goes again. */
		if (memcmp(p->n1, m->n1, GK_NONCE_LEN) == 0) {
			r->stats.stale_answers++;
			send_challenge(r, p, m, p->n1);
			return;
		}
		return reject(r, m, from, GK_R_BAD_N2);
	}
	if ((m->fields & GK_F_RAND) && !gk_ct_equal(p->rand, m->rand, GK_RAND_LEN))
		return reject(r, m, from, GK_R_BAD_N2);
	if (rc && n1_seen(rc, m->n1))
		return reject(r, m, from, GK_R_REPLAY_N1);
	if (rc) {
		n1_remember(rc, m->n1);
		rc->last_seen_ms = gk_loop_now(r->loop);
	}
	/* The mechanism is settled before the core is asked, so that a terminal we cannot serve
	 * never opens a session at the AuC. */
	mech = gk_mech_choose(m, mechs_for(r, m->proto));
	if (mech == GK_MECH_NONE) {
		pending_free(r, p);
		return reject(r, m, from, GK_R_NO_MECH);
	}
	p->chosen = (uint8_t)mech;
	p->sealed = is_sealed(r, m, from, verified_index);
	memcpy(m->rand, p->rand, GK_RAND_LEN);
	to_core(r, p, m, from);
}

static void send_sealed(struct gk_registrar *r, struct gk_msg *resp,
                        const struct sockaddr_storage *to, struct gk_binding *b)
{
	r->ops.send_terminal(r->user, resp, to, b->mech == GK_MECH_GKMAC ? b : NULL);
}

static struct gk_binding *verified_binding(struct gk_registrar *r, uint32_t index,
                                           const struct sockaddr_storage *from)
{
	if (index)
		return protected_binding(r, index, from);
	/* Digest, which protects no datagram, pins the terminal to its address. */
	uint32_t slot = gk_addrmap_find(r->addrs, from);
	if (slot && rec(r, slot)->b.active && rec(r, slot)->b.mech == GK_MECH_DIGEST)
		return &rec(r, slot)->b;
	return NULL;
}

struct gk_binding *gk_registrar_binding_of(struct gk_registrar *r, const char *idc)
{
	uint32_t slot = gk_idmap_find(r->ids, idc);
	return slot && rec(r, slot)->b.active ? &rec(r, slot)->b : NULL;
}

enum gk_reason gk_registrar_speaks_for(struct gk_registrar *r, uint32_t index,
                                       const struct sockaddr_storage *from, const char *claimed,
                                       char idc[GK_ID_MAX + 1])
{
	struct gk_binding *b = verified_binding(r, index, from);
	const char *own = b ? gk_idmap_id(r->ids, b->index) : NULL;

	idc[0] = '\0';
	if (!own)
		return GK_R_NOT_REGISTERED;
	if (claimed && claimed[0] && strcmp(claimed, own) != 0)
		return GK_R_IDENTITY_MISMATCH;
	snprintf(idc, GK_ID_MAX + 1, "%s", own);
	return GK_R_OK;
}

static void on_deregister(struct gk_registrar *r, struct gk_msg *m,
                          const struct sockaddr_storage *from, uint32_t index)
{
	struct gk_binding *b = verified_binding(r, index, from);
	struct gk_msg resp;
	bool again = false;

	if (!b && index && (b = gk_registrar_gkmac_sealer(r, index, from)) != NULL)
		again = true; /* its answer was lost: the terminal repeats it, sealed as before */
	if (!b) {
		count(r, index ? GK_R_NOT_REGISTERED : GK_R_BAD_TRAILER);
		return;
	}
	if (strcmp(gk_idmap_id(r->ids, b->index), m->idc) != 0) {
		count(r, GK_R_IDENTITY_MISMATCH);
		return;
	}
	respond_init(&resp, m, GK_MSG_DEREG_OK);
	resp.expires = 0;
	resp.fields = GK_F_EXPIRES;
	send_sealed(r, &resp, from, b);
	if (again)
		r->stats.deregistrations_resent++;
	else
		binding_end(r, b, false);
}

static void on_other(struct gk_registrar *r, struct gk_msg *m, const struct sockaddr_storage *from,
                     uint32_t index)
{
	struct gk_binding *b = verified_binding(r, index, from);
	struct gk_msg resp;

	if (!b) {
		count(r, gk_addrmap_find(r->addrs, from) ? GK_R_BAD_TRAILER : GK_R_NOT_REGISTERED);
		return;
	}
	enum gk_other_kind kind = gk_codec_other_kind(m);
	/* A verified request speaks only for the binding that passed it (DESIGN §5): a probe
	 * answered OK would. A refusal speaks for nobody, and the method is looked at first
	 * (RFC 3261 §8.2.1): a call to someone else is refused as a call, not as an identity. */
	if (kind == GK_OTHER_PROBE && m->idc[0] &&
	    strcmp(gk_idmap_id(r->ids, b->index), m->idc) != 0) {
		count(r, GK_R_IDENTITY_MISMATCH);
		return;
	}
	switch (kind) {
	case GK_OTHER_PROBE:
		respond_init(&resp, m, GK_MSG_OTHER_OK);
		break;
	case GK_OTHER_NO_ANSWER:
		count(r, GK_R_NOT_SERVED);
		return;
	default:
		/* Not built yet (calls, messages, connections): said so, never a false OK. */
		count(r, GK_R_NOT_SERVED);
		r->stats.rejects++;
		respond_init(&resp, m, GK_MSG_REJECT);
		resp.reason = GK_R_NOT_SERVED;
		break;
	}
	send_sealed(r, &resp, from, b);
}

/*
 * RFC 3329 §2.3.1: a SIP request that came under a binding's ipsec-3gpp SAs echoes, in its
 * Security-Verify, the end the element's Security-Server gave that binding: its protected ports
 * for the protocol and one of its slot's two SPI pairs (the current one, or the one a refresh is
 * replacing: a request sent before the terminal switched may arrive after the registrar did). The
 * SUCCESS's MAC already covers what the terminal learnt; this is the check a sec-agree client
 * expects of its server. A request whose sender does not echo the agreement is refused.
 * Other bindings, and codecs without the echo (gk_codec.sec_verify), are not checked.
 */
static bool sec_verified(struct gk_registrar *r, const struct gk_msg *m,
                         const struct sockaddr_storage *from, uint32_t verified_index)
{
	const struct gk_codec *c = gk_codec_get((enum gk_proto)m->proto);
	const struct gk_binding *b;

	if (!verified_index || !c || !c->sec_verify ||
	    !(b = protected_binding(r, verified_index, from)) || b->mech != GK_MECH_IPSEC)
		return true;
	if (!(m->fields & GK_F_SEC_VERIFY))
		return false;
	const struct gk_ipsec_end *v = &m->ipsec_net;
	uint32_t pair0 = IPSEC_SPI_BASE + b->index * 4;
	return v->port_c == r->cfg.ipsec_port_c[m->proto] &&
	       v->port_s == r->cfg.ipsec_port_s[m->proto] &&
	       (v->spi_c == pair0 || v->spi_c == pair0 + 2) && v->spi_s == v->spi_c + 1;
}

void gk_registrar_on_message(struct gk_registrar *r, struct gk_msg *m,
                             const struct sockaddr_storage *from, uint32_t verified_index)
{
	if (!sec_verified(r, m, from, verified_index))
		return reject(r, m, from, GK_R_SEC_VERIFY); /* "forbidden", under the SAs */
	switch (m->type) {
	case GK_MSG_REGISTER:
		on_register(r, m, from, verified_index);
		break;
	case GK_MSG_ANSWER:
		on_answer(r, m, from, verified_index);
		break;
	case GK_MSG_DEREGISTER:
		on_deregister(r, m, from, verified_index);
		break;
	case GK_MSG_OTHER:
		on_other(r, m, from, verified_index);
		break;
	default:
		count(r, GK_R_PARSE_UNSUPPORTED);
		break;
	}
}

long gk_registrar_open(struct gk_registrar *r, const uint8_t *buf, size_t len,
                       const struct sockaddr_storage *from, uint32_t *index, enum gk_reason *reason)
{
	uint32_t idx;
	uint64_t seq;
	long n;

	*index = 0;
	if (gk_pkt_peek(buf, len, &idx, &seq) < 0)
		return 0; /* no trailer: the caller applies the policy for plain datagrams */
	if (!index_known(r, idx) || !(rec(r, idx)->b.active || rec(r, idx)->b.lingering) ||
	    rec(r, idx)->b.mech != GK_MECH_GKMAC) {
		*reason = GK_R_UNKNOWN_INDEX;
		count(r, *reason);
		return -1;
	}
	struct gk_binding *b = &rec(r, idx)->b;
	if (!gk_sockaddr_equal(&b->addr, from)) {
		*reason = GK_R_WRONG_SOURCE;
		count(r, *reason);
		return -1;
	}
	n = gk_pkt_open(b->keys.uplink, &b->win_up, buf, len, reason);
	if (n < 0) {
		count(r, *reason);
		return -1;
	}
	if (r->store)
		gk_bindstore_seen(r->store, idx, b->win_up.top);
	b->rx_ok++;
	*index = idx;
	return n;
}

int gk_registrar_seal(struct gk_registrar *r, struct gk_binding *b, uint8_t *buf, size_t len,
                      size_t cap)
{
	(void)r;
	b->tx++;
	return gk_pkt_seal_next(b->keys.downlink, b->index, &b->seq_down, buf, len, cap);
}

bool gk_registrar_other_allowed(struct gk_registrar *r, const struct sockaddr_storage *a)
{
	uint32_t slot = gk_addrmap_find(r->addrs, a);
	return slot && rec(r, slot)->b.active && rec(r, slot)->b.mech == GK_MECH_DIGEST;
}

uint16_t gk_registrar_ipsec_port(struct gk_registrar *r, const struct sockaddr_storage *a)
{
	uint32_t slot = r->ipsec_srcs ? gk_addrmap_find(r->ipsec_srcs, a) : 0;
	const struct gk_binding *b = slot ? &rec(r, slot)->b : NULL;

	return b && protected_binding(r, slot, a) == b ? b->ipsec_net.port_s : 0;
}

uint32_t gk_registrar_ipsec_sender(struct gk_registrar *r, const struct sockaddr_storage *from,
                                   uint16_t port)
{
	uint16_t want = gk_registrar_ipsec_port(r, from);

	return want && want == port ? gk_addrmap_find(r->ipsec_srcs, from) : 0;
}

bool gk_registrar_gkmac_bound(struct gk_registrar *r, uint32_t index,
                              const struct sockaddr_storage *a)
{
	if (!index_known(r, index))
		return false;
	const struct gk_binding *b = &rec(r, index)->b;
	return b->active && b->mech == GK_MECH_GKMAC && gk_sockaddr_equal(&b->addr, a);
}

struct gk_binding *gk_registrar_gkmac_binding(struct gk_registrar *r, uint32_t index,
                                              const struct sockaddr_storage *a)
{
	if (!gk_registrar_gkmac_bound(r, index, a))
		return NULL;
	return &rec(r, index)->b;
}

bool gk_registrar_lingering(struct gk_registrar *r, uint32_t index)
{
	return index_known(r, index) && rec(r, index)->b.lingering;
}

struct gk_binding *gk_registrar_gkmac_sealer(struct gk_registrar *r, uint32_t index,
                                             const struct sockaddr_storage *a)
{
	if (!index_known(r, index))
		return NULL;
	struct gk_binding *b = &rec(r, index)->b;
	if (!(b->active || b->lingering) || b->mech != GK_MECH_GKMAC ||
	    !gk_sockaddr_equal(&b->addr, a))
		return NULL;
	return b;
}

void gk_registrar_count_rx(struct gk_registrar *r, uint32_t index)
{
	if (index_known(r, index) && rec(r, index)->b.active)
		rec(r, index)->b.rx_ok++;
}

bool gk_registrar_is_registered_addr(struct gk_registrar *r, const struct sockaddr_storage *a)
{
	uint32_t slot = gk_addrmap_find(r->addrs, a);
	return slot && rec(r, slot)->b.active;
}

/* Sealed downlink datagrams since the record was written cannot be known after a crash; the
 * terminal's window only needs higher numbers, so the restored count jumps well past them. The
 * owner of the record writes the jumped count back before sealing anything, so that each
 * restart jumps past the last one's numbers too. */
#define RESTORE_SEQ_MARGIN (1ull << 32)

/* The protocol byte took what was padding: the stores of earlier versions keep their layout. */
_Static_assert(offsetof(struct gk_binding_record, proto) <
                       offsetof(struct gk_binding_record, addr) &&
                   offsetof(struct gk_binding_record, addr) == 72,
               "a binding record's layout is the binding store's (bindstore.c STORE_VERSION)");

void gk_binding_record_of(const struct gk_binding *b, struct gk_binding_record *out)
{
	uint64_t now_ms = gk_loop_now(b->r->loop);

	memset(out, 0, sizeof(*out));
	snprintf(out->idc, sizeof(out->idc), "%s", gk_idmap_id(b->r->ids, b->index));
	out->index = b->index;
	out->mech = b->mech;
	out->proto = b->proto;
	out->addr = b->addr;
	out->keys = b->keys;
	out->seq_down = b->seq_down;
	out->expires_at_s = (uint64_t)time(NULL) +
	                    (b->expires_at_ms > now_ms ? (b->expires_at_ms - now_ms) / 1000 : 0);
	memcpy(out->fpr, b->fpr, sizeof(out->fpr));
	out->has_rand = b->has_rand;
	memcpy(out->rand, b->rand, GK_RAND_LEN);
	out->ipsec_term = b->ipsec_term;
	out->ipsec_net = b->ipsec_net;
}

int gk_registrar_restore(struct gk_registrar *r, const struct gk_binding_record *br)
{
	uint64_t now = wall_s();

	if (!br->index || br->index > r->cfg.max_terminals || !br->idc[0] ||
	    memchr(br->idc, 0, sizeof(br->idc)) == NULL ||
	    (br->mech != GK_MECH_GKMAC && br->mech != GK_MECH_DIGEST &&
	     br->mech != GK_MECH_IPSEC) ||
	    (br->mech == GK_MECH_IPSEC &&
	     (!gk_ipsec_end_ok(&br->ipsec_term) || !gk_ipsec_end_ok(&br->ipsec_net))) ||
	    memchr(br->fpr, 0, sizeof(br->fpr)) == NULL)
		return -EINVAL;
	if (br->expires_at_s <= now)
		return -ESTALE;
	if (gk_idmap_add_at(r->ids, br->idc, br->index) < 0)
		return -EEXIST;
	struct record *rc = &r->records[br->index];
	memset(rc, 0, sizeof(*rc));
	rc->last_seen_ms = gk_loop_now(r->loop);
	struct gk_binding *b = &rc->b;
	uint64_t left_ms = (br->expires_at_s - now) * 1000;
	b->r = r;
	b->index = br->index;
	b->active = true;
	b->mech = br->mech;
	b->proto = br->proto < GK_PROTO_COUNT ? br->proto : 0;
	b->addr = br->addr;
	b->keys = br->keys;
	b->seq_down = br->seq_down + RESTORE_SEQ_MARGIN;
	memcpy(b->fpr, br->fpr, sizeof(b->fpr));
	b->has_rand = br->has_rand != 0;
	memcpy(b->rand, br->rand, GK_RAND_LEN);
	if (b->mech == GK_MECH_IPSEC) {
		b->ipsec_term = br->ipsec_term;
		b->ipsec_net = br->ipsec_net;
		/* the next registration takes the slot's other pair of SPIs (ipsec_ends) */
		b->ipsec_flip = ((b->ipsec_net.spi_c - IPSEC_SPI_BASE) >> 1 & 1) ^ 1;
		if (!r->ops.ipsec_adopt || r->ops.ipsec_adopt(r->user, b) != 0) {
			gk_idmap_remove(r->ids, br->index);
			gk_wipe(rc, sizeof(*rc));
			return -ENOENT;
		}
	}
	b->expires_at_ms = gk_loop_now(r->loop) + left_ms;
	b->expiry.fn = binding_expired;
	gk_timer_arm(r->loop, &b->expiry, left_ms);
	gk_addrmap_put(r->addrs, &b->addr, b->index);
	ipsec_src_put(r, b);
	r->stats.restored++;
	return 0;
}

void gk_binding_get_info(const struct gk_binding *b, struct gk_binding_info *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->idc, sizeof(out->idc), "%s", gk_idmap_id(b->r->ids, b->index));
	out->index = b->index;
	out->addr = b->addr;
	out->mech = b->mech;
	out->expires_at_ms = b->expires_at_ms;
	memcpy(out->fpr, b->fpr, sizeof(out->fpr));
	out->rx_ok = b->rx_ok;
	out->tx = b->tx;
	out->ipsec_term = b->ipsec_term;
	out->ipsec_net = b->ipsec_net;
}

void gk_registrar_foreach(struct gk_registrar *r,
                          void (*fn)(const struct gk_binding_info *bi, void *arg), void *arg)
{
	struct gk_binding_info bi;
	for (uint32_t i = 1; i <= gk_idmap_top(r->ids); i++) {
		if (!gk_idmap_id(r->ids, i) || !r->records[i].b.active)
			continue;
		gk_binding_get_info(&r->records[i].b, &bi);
		fn(&bi, arg);
	}
}

void gk_registrar_terminals(const struct gk_registrar *r, struct gk_terminal_counts *out)
{
	memset(out, 0, sizeof(*out));
	for (uint32_t i = 1; i <= gk_idmap_top(r->ids); i++) {
		const struct gk_binding *b = &r->records[i].b;
		if (b->active && !b->lingering && gk_idmap_id(r->ids, i) &&
		    b->mech <= GK_MECH_DIGEST && b->proto < GK_PROTO_COUNT)
			out->n[b->mech][b->proto]++;
	}
}

bool gk_registrar_next(struct gk_registrar *r, uint32_t after, struct gk_binding_info *out)
{
	for (uint32_t i = after + 1; i && i <= gk_idmap_top(r->ids); i++) {
		if (!gk_idmap_id(r->ids, i) || !r->records[i].b.active)
			continue;
		gk_binding_get_info(&r->records[i].b, out);
		return true;
	}
	return false;
}

/* Records of IDcs with nothing left to remember are returned to the map, so a stream of
 * made-up IDcs cannot fill it for good. */
static void sweep_fn(struct gk_timer *t)
{
	struct gk_registrar *r =
	    (struct gk_registrar *)((char *)t - offsetof(struct gk_registrar, sweep));
	uint64_t now = gk_loop_now(r->loop);
	uint64_t idle_ms = (uint64_t)r->cfg.skew_s * 2000;

	for (uint32_t i = 1; i <= gk_idmap_top(r->ids); i++) {
		struct record *rc = &r->records[i];
		/* a lingering binding's timer is in the loop's heap: it ends it, then this */
		if (!gk_idmap_id(r->ids, i) || rc->b.active || rc->b.lingering ||
		    rc->last_seen_ms + idle_ms > now)
			continue;
		gk_idmap_remove(r->ids, i);
		memset(rc, 0, sizeof(*rc));
	}
	gk_timer_arm(r->loop, &r->sweep, SWEEP_MS);
}

struct attach_ctx {
	struct gk_registrar *r;
	unsigned restored, dropped;
};

static int attach_one(const struct gk_binding_record *br, uint64_t top, void *arg)
{
	struct attach_ctx *c = arg;
	struct gk_registrar *r = c->r;

	if (gk_registrar_restore(r, br) < 0) {
		/* Expired while the daemon was down, or no longer fits the configuration. */
		gk_bindstore_del(r->store, br->index);
		c->dropped++;
		return 0;
	}
	struct gk_binding *b = &rec(r, br->index)->b;
	/* The next restart must start past what this run may seal: the jump is kept at once, before
	 * any datagram goes out. */
	gk_bindstore_seq_down(r->store, br->index, b->seq_down);
	/* Only the top survives (one atomic store, bindstore.h): everything at or below it counts
	 * as seen, so nothing accepted before the restart is accepted again, at the price of a
	 * datagram that was still on its way out of order. */
	b->win_up.top = top;
	b->win_up.bitmap = top ? ~0ull : 0;
	if (r->ops.binding_up)
		r->ops.binding_up(r->user, b);
	c->restored++;
	return 0;
}

unsigned gk_registrar_attach_store(struct gk_registrar *r, struct gk_bindstore *store,
                                   unsigned *dropped)
{
	struct attach_ctx c = {.r = r};

	r->store = store;
	gk_bindstore_foreach(store, attach_one, &c);
	*dropped = c.dropped;
	return c.restored;
}
