/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The core half of the exchange, the softswitch's part (DESIGN §3 s2-s5, s8-s9, s11): it asks
 * the AuC for a vector, keeps XAUTH, compares the terminal's AUTH in constant time, gives a fresh
 * challenge after a wrong answer, locks an IDc out after too many, hands over the wrapped keys
 * on success and reports the terminal's address to the AuC.
 *
 * The other half, the front (registrar.h), faces the terminal. In the direct topology both run
 * in softswitchd and call each other; with an SBC the front runs in sbcd and the two talk SIP.
 * Each request of the front carries an opaque 64-bit reference that the core's answer returns.
 */
#ifndef GATEKEY_CORE_H
#define GATEKEY_CORE_H

#include <stdint.h>

#include "gatekey/auc/auc_proto.h"
#include "gatekey/crypto/digest.h"
#include "gatekey/runtime/loop.h"
#include "gatekey/runtime/reason.h"

struct gk_core;

struct gk_core_cfg {
	uint32_t max_failures;    /* wrong answers before lockout, default 3 */
	uint32_t lockout_s;       /* default 300 */
	uint32_t challenge_ttl_s; /* how long a vector may be answered, default 30 */
	uint32_t auc_timeout_ms;  /* default 4000 (the AuC client retransmits inside) */
	uint32_t max_terminals;   /* default 262144 */
	uint32_t max_pending;     /* default 65536 */
	/* Plain Digest (RFC 7616/8760) for terminals without GK1: the algorithms offered, in the
	 * order of the challenges ("SHA-256" by default; MD5 is opt-in for phones that know
	 * nothing else, and an old UA may only read the first), and how long a nonce may be
	 * answered before it is stale. */
	char digest_algorithms[24];
	uint32_t digest_nonce_ttl_s; /* default 300 */
};

/* Bit 31 is never set in a handle the core gives its AuC requests (auc_request, auc_digest):
 * an element sharing the AuC client with the core may tag its own requests with it
 * (softswitchd's routing lookups), and a handle so tagged never reaches a core transaction. */
#define GK_CORE_HANDLE_SPARE 0x80000000u

struct gk_core_ops {
	void (*auc_request)(void *user, uint32_t handle, const char *idc, const char *idsp);
	void (*auc_accounting)(void *user, const struct gk_auc_acct *a);
	/* Answers to the front. */
	void (*challenge)(void *user, uint64_t ref, const uint8_t rand[GK_RAND_LEN]);
	void (*success)(void *user, uint64_t ref, const uint8_t rand[GK_RAND_LEN],
	                const uint8_t blob_terminal[GK_BLOB_LEN],
	                const uint8_t blob_element[GK_BLOB_LEN]);
	void (*reject)(void *user, uint64_t ref, enum gk_reason why);
	/* Digest (optional: a core without them refuses Digest registrations). */
	void (*auc_digest)(void *user, uint32_t handle, const char *idc, const char *idsp,
	                   const char *realm);
	void (*digest_challenge)(void *user, uint64_t ref, const struct gk_digest *chal);
	void (*digest_success)(void *user, uint64_t ref);
};

struct gk_core_stats {
	uint64_t vectors, challenges, successes, wrong_auth, lockouts, rejects;
	uint64_t digest_challenges, digest_successes, digest_stale;
	uint64_t sealed_past_lockout;   /* sealed refreshes let through their source's lockout */
	uint64_t stale_answers;         /* answers to a challenge the core no longer holds (it
	                                 * restarted, or the challenge expired): challenged afresh */
	uint64_t unbound_ended_already; /* a front's notice of a session ended before (replaced
	                                 * by a refresh, or the notice came again): no Stop */
	uint64_t copies_joined;         /* a front's copy of an attempt in progress, joined to it
	                                 * (gk_core_register) instead of starting it again */
	struct gk_reason_counters reasons;
};

void gk_core_cfg_defaults(struct gk_core_cfg *c);
struct gk_core *gk_core_new(const struct gk_core_cfg *cfg, const struct gk_core_ops *ops,
                            void *user, struct gk_loop *loop, char *err, size_t errlen);
void gk_core_free(struct gk_core *c);

/* s2: a terminal wants to register through element idsp, from address ("host:port" as the
 * front saw it, or NULL): wrong answers lock out a source, not the IDc. sealed: the front
 * verified the request under the key of the IDc's standing binding, so it is the terminal's own
 * refresh, and a lockout of its source (by whoever shares its address) does not stop it.
 * attempt: what names the attempt at the front, the same on every copy the front sends again
 * (an SBC's core-leg Call-ID, hashed), or 0 where the front never sends a copy. A copy of an
 * attempt in progress joins it: it is answered when the AuC answers, or with the challenge
 * already made, instead of superseding it and asking the AuC again. */
void gk_core_register(struct gk_core *c, uint64_t ref, const char *idc, const char *idsp,
                      const char *address, bool sealed, uint64_t attempt);
/* s8: its answer to the challenge with this rand; address is the terminal as the front saw it;
 * sealed and attempt as for gk_core_register. */
void gk_core_answer(struct gk_core *c, uint64_t ref, const char *idc, const char *idsp,
                    const uint8_t rand[GK_RAND_LEN], const uint8_t auth[GK_AUTH_LEN],
                    const char *address, bool sealed, uint64_t attempt);
/* The binding ended (deregistration, expiry, a refresh replaced it, or the front could not
 * complete it). rand: the Rand of the registration that made it, NULL when the front does not
 * know it; a notice naming another session than the open one ends nothing. */
void gk_core_unbound(struct gk_core *c, const char *idc, const char *idsp, const char *address,
                     const uint8_t *rand);

/*
 * A Digest registration through element idsp (the realm). cred NULL: the terminal sent no
 * credentials, answer with a challenge. Otherwise the core checks the nonce it issued, asks the
 * AuC for HA1 and verifies; a wrong answer counts as a failure towards lockout like a wrong
 * AUTH, and is answered with a fresh challenge until then. address: as the front saw it (s11).
 */
void gk_core_digest(struct gk_core *c, uint64_t ref, const char *idc, const char *idsp,
                    const struct gk_digest *cred, const char *method, const char *address);
/* Parses "SHA-256, MD5" into the canonical list the core offers; -1 with err when a name is not
 * one the AuC provides HA1 for. */
int gk_core_digest_algorithms(const char *list, char out[24], char *err, size_t errlen);

void gk_core_auc_ha1(struct gk_core *c, uint32_t handle, const struct gk_auc_ha1 *h);
void gk_core_auc_vector(struct gk_core *c, uint32_t handle, const struct gk_auc_vector *v);
void gk_core_auc_failed(struct gk_core *c, uint32_t handle, enum gk_reason why);

const struct gk_core_stats *gk_core_stats(const struct gk_core *c);
/* Now: IDcs with a record (answers counted for them), and transactions in progress. */
void gk_core_gauges(const struct gk_core *c, uint32_t *records, uint32_t *in_progress);

#endif
