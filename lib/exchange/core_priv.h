/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The core's records and transactions, shared by the GK1 exchange (core.c) and the Digest check
 * (core_digest.c) so that both count failures towards the same lockout.
 */
#ifndef GATEKEY_CORE_PRIV_H
#define GATEKEY_CORE_PRIV_H

#include <stdbool.h>

#include "gatekey/exchange/attempts.h"
#include "gatekey/exchange/core.h"
#include "gatekey/crypto/digest.h"
#include "gatekey/runtime/idmap.h"
#include "gatekey/runtime/steps.h"
#include "gatekey/crypto/siphash.h"

#define TXN_IDX_BITS 17
#define TXN_IDX_MASK ((1u << TXN_IDX_BITS) - 1)
#define SWEEP_MS     10000

enum txn_state { T_FREE = 0, T_WAIT_VECTOR, T_WAIT_ANSWER };

/* Digest nonces remembered per IDc (see core_digest.c). */
#define CORE_DG_NONCES 3

/* A Digest nonce under which an answer was accepted: a later answer under it must count higher
 * (qop=auth), or is a replay (no qop: a nonce answers once). */
struct core_dg_seen {
	char nonce[64]; /* as in struct gk_digest; "" = free */
	uint32_t nc;
	uint64_t issued_ms;
};

/* Wrong answers are counted per (IDc, source host), so that a stranger who answers wrongly for
 * a victim's IDc locks out himself, not the victim. The host (gk_sockaddr_host: an IPv6 host is
 * its /64) is kept as a keyed hash.
 *
 * A host's failures are never forgotten to make room for another host's: that let hosts taking
 * turns answer wrongly without end, none of them ever reaching the limit. Hosts that find no
 * room share `others`, one budget for all of them. The host that last answered right (the
 * terminal's own, most likely) keeps an entry of its own, `good`, so strangers who use up the
 * shared budget do not lock it out; it is remembered for CORE_GOOD_HOLD_MS. */
#define CORE_FAIL_SOURCES 4
#define CORE_GOOD_HOLD_MS (24ull * 3600 * 1000) /* a day: registrar.expires_max's default */

struct core_fail {
	uint64_t source; /* keyed hash of the source host; 0 = free (fail[]), unused (others) */
	uint8_t failures;
	uint8_t lockouts; /* so far: each doubles the next lockout */
	uint64_t locked_until_ms;
	uint64_t last_ms;
};

struct core_rec {
	struct core_fail fail[CORE_FAIL_SOURCES];
	struct core_fail others; /* every host without an entry in fail[] */
	struct core_fail good;   /* the host of the last right answer, 0 = none */
	uint64_t good_ms;        /* when it answered right */
	uint64_t last_seen_ms;
	struct core_dg_seen dg_seen[CORE_DG_NONCES];
	/* Nonces issued before this were forgotten to make room: they are answered no more. */
	uint64_t dg_floor_ms;
	/* The accounting session this core started for the IDc through element sess_idsp, until
	 * its Stop (core_session_start, gk_core_unbound). */
	bool sess_open;
	/* The Rand of the registration that opened it (a gk-mac or digest-less one): a notice
	 * from the front naming another Rand is of an earlier session, ended already. */
	bool sess_has_rand;
	uint8_t sess_rand[GK_RAND_LEN];
	uint64_t sess_tag; /* its Acct-Session-Id's tag (core_account) */
	uint8_t stops_ahead; /* Stops accounted before the front sent them (a refresh) */
	uint64_t stops_ahead_until_ms;
	char sess_idsp[GK_ID_MAX + 1];
	char sess_address[GK_TXT_SHORT];
};

/* Attempts per IDc at once, each from its own source (see core_rec_for). */
#define CORE_ATTEMPTS_PER_IDC 4

struct core_txn {
	uint8_t state;
	bool digest; /* waits for HA1 (core_digest.c), not a vector */
	uint16_t gen;
	uint32_t next_free;
	uint64_t source; /* the requester's host, as core_fail.source */
	uint64_t started_ms;
	uint64_t ref;
	uint64_t attempt; /* the front's name for the attempt (gk_core_register), 0 if none */
	char idsp[GK_ID_MAX + 1];
	uint8_t rand[GK_RAND_LEN];
	uint8_t xauth[GK_AUTH_LEN];
	uint8_t blob_terminal[GK_BLOB_LEN];
	uint8_t blob_element[GK_BLOB_LEN];
	struct gk_timer timer;
	struct gk_core *c;
};

/* A Digest answer waiting for its HA1; one per transaction slot, used only when digest is set. */
struct core_dg {
	enum gk_digest_alg alg;
	bool sess;
	bool stale;
	uint32_t nc;
	char nonce[64]; /* sizes as in struct gk_digest */
	char nc_hex[9];
	char cnonce[64];
	char qop[8];
	char uri[GK_TXT_LONG];
	char response[129];
	char method[16];
	char address[GK_TXT_SHORT];
};

struct gk_core {
	struct gk_core_cfg cfg;
	struct gk_core_ops ops;
	void *user;
	struct gk_loop *loop;
	struct gk_idmap *ids;  /* IDcs the AuC knows that answered, right or wrong */
	struct core_rec *recs; /* rec_steps.base: resident as far as ids' slots */
	struct core_txn *txns; /* txn_steps.base */
	struct core_dg *dgs;   /* parallel to txns: dg_steps.base, grown with them */
	struct gk_steps rec_steps, txn_steps, dg_steps;
	uint32_t txn_free, txn_used;
	struct gk_attempts *attempts; /* the transactions, by the IDc they claim */
	struct gk_timer sweep;
	struct gk_core_stats st;
	uint8_t nonce_key[GK_DIGEST_NONCE_KEY_LEN];
	uint8_t source_key[GK_SIPHASH_KEY_LEN]; /* keys the hash of core_fail.source */
	/* Accounting session tags: a random epoch per start, then a count (core_account). */
	uint32_t sess_epoch, sess_count;
};

void core_reject(struct gk_core *c, uint64_t ref, enum gk_reason why);
uint32_t core_txn_handle(const struct gk_core *c, const struct core_txn *t);
struct core_txn *core_txn_from_handle(struct gk_core *c, uint32_t h);
void core_txn_free(struct gk_core *c, struct core_txn *t);
/* A transaction for an attempt at idc from address, with the IDc's other attempts; NULL when
 * the table has no room for it (its last quarter is kept for the host that last answered right
 * for idc: the terminal's refresh). */
struct core_txn *core_txn_alloc(struct gk_core *c, const char *idc, const char *address);
/* The IDc a transaction is for. */
const char *core_txn_idc(const struct gk_core *c, const struct core_txn *t);
/* The first transaction for idc and the next, NULL at the end. */
struct core_txn *core_txn_first(struct gk_core *c, const char *idc);
struct core_txn *core_txn_next(struct gk_core *c, const struct core_txn *t);
/* The record of idc, made now if it has none: only once the AuC has answered for the IDc (a
 * vector or an HA1) and an answer is to be counted, so made-up IDcs never get one. NULL when
 * all max_terminals are taken. */
struct core_rec *core_rec_get(struct gk_core *c, const char *idc);
/* An Accounting-Request for the session of idc through idsp tagged tag (Acct-Session-Id
 * "<IDc>.<tag in hex>"); core_session_tag gives a session its tag. */
void core_account(struct gk_core *c, uint32_t status, const char *idc, const char *idsp,
                  const char *address, uint64_t tag);
uint64_t core_session_tag(struct gk_core *c);
/* Accounts the Start of the session a right answer opens; call it before telling the front. */
void core_session_start(struct gk_core *c, struct core_rec *rc, const char *idc, const char *idsp,
                        const char *address, const uint8_t *rand);
/* A wrong answer for rc from address ("host:port" as the front saw it; NULL or "-" when
 * unknown): true when it used up that source's budget, which is now locked out of this IDc. */
bool core_failure(struct gk_core *c, struct core_rec *rc, const char *idc, const char *address);
/* A right answer from address: that source's failures are forgotten. */
void core_success(struct gk_core *c, struct core_rec *rc, const char *address);
/* True while address is locked out of rc. */
bool core_locked(struct gk_core *c, const struct core_rec *rc, const char *address);
/* Whether a new request for idc from address may go on: false after answering ref with a
 * reject (locked out and not sealed, or a bad IDsp). The same source's attempt in progress is
 * superseded (its requester told so), and the oldest gives way when CORE_ATTEMPTS_PER_IDC sources
 * are at it, never the good host's; another source's is left alone. Nothing is kept for idc here.
 */
bool core_admit(struct gk_core *c, uint64_t ref, const char *idc, const char *idsp,
                const char *address, bool sealed);
/* Whether a request from address may not go on for rc: its source is locked out, and the
 * request is not sealed under the IDc's standing binding (which passes, counted). */
bool core_refused_locked(struct gk_core *c, const struct core_rec *rc, const char *address,
                         bool sealed);

#endif
