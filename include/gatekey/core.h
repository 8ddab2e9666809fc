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

#include "gatekey/auc_proto.h"
#include "gatekey/loop.h"
#include "gatekey/reason.h"

struct gk_core;

struct gk_core_cfg {
	uint32_t max_failures;    /* wrong answers before lockout, default 3 */
	uint32_t lockout_s;       /* default 300 */
	uint32_t challenge_ttl_s; /* how long a vector may be answered, default 30 */
	uint32_t auc_timeout_ms;  /* default 4000 (the AuC client retransmits inside) */
	uint32_t max_terminals;   /* default 262144 */
	uint32_t max_pending;     /* default 65536 */
};

struct gk_core_ops {
	void (*auc_request)(void *user, uint32_t handle, const char *idc, const char *idsp);
	void (*auc_accounting)(void *user, const struct gk_auc_acct *a);
	/* Answers to the front. */
	void (*challenge)(void *user, uint64_t ref, const uint8_t rand[GK_RAND_LEN]);
	void (*success)(void *user, uint64_t ref, const uint8_t rand[GK_RAND_LEN],
	                const uint8_t blob_terminal[GK_BLOB_LEN],
	                const uint8_t blob_element[GK_BLOB_LEN]);
	void (*reject)(void *user, uint64_t ref, enum gk_reason why);
};

struct gk_core_stats {
	uint64_t vectors, challenges, successes, wrong_auth, lockouts, rejects;
	struct gk_reason_counters reasons;
};

void gk_core_cfg_defaults(struct gk_core_cfg *c);
struct gk_core *gk_core_new(const struct gk_core_cfg *cfg, const struct gk_core_ops *ops,
                            void *user, struct gk_loop *loop, char *err, size_t errlen);
void gk_core_free(struct gk_core *c);

/* s2: a terminal wants to register through element idsp. */
void gk_core_register(struct gk_core *c, uint64_t ref, const char *idc, const char *idsp);
/* s8: its answer to the challenge with this rand; address is the terminal as the front saw it. */
void gk_core_answer(struct gk_core *c, uint64_t ref, const char *idc, const char *idsp,
                    const uint8_t rand[GK_RAND_LEN], const uint8_t auth[GK_AUTH_LEN],
                    const char *address);
/* The binding ended (deregistration, expiry, or the front could not complete it). */
void gk_core_unbound(struct gk_core *c, const char *idc, const char *idsp, const char *address);

void gk_core_auc_vector(struct gk_core *c, uint32_t handle, const struct gk_auc_vector *v);
void gk_core_auc_failed(struct gk_core *c, uint32_t handle, enum gk_reason why);

const struct gk_core_stats *gk_core_stats(const struct gk_core *c);

#endif
