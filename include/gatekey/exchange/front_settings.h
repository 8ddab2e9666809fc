/* SPDX-License-Identifier: GPL-2.0-only */
/* The configuration keys of a front (registrar.*, log.registrations), shared by its daemons. */
#ifndef GATEKEY_FRONT_SETTINGS_H
#define GATEKEY_FRONT_SETTINGS_H

#include "gatekey/runtime/config.h"
#include "gatekey/exchange/registrar.h"

struct gk_front_settings {
	uint32_t skew_ms, challenge_ttl_ms, core_timeout_ms;
	uint32_t expires_default, expires_min, expires_max;
	uint32_t max_terminals, max_pending;
	uint32_t retry_after, retry_jitter; /* seconds: registrar.retry_after, .retry_jitter */
	uint32_t route_transactions;        /* the call router's SIP transactions, each way */
	char mechanisms[GK_CFG_STR_MAX];
	char binding_store[GK_CFG_STR_MAX]; /* registrar.binding_store: a path, auto or none */
	bool log_registrations;
};

/* Sets the defaults and appends the keys after the first `used` entries of keys (cap in all);
 * returns the new count, the table stays NULL-terminated. */
size_t gk_front_settings_keys(struct gk_front_settings *s, struct gk_cfg_key *keys, size_t used,
                              size_t cap);
/* Fills the timing, limits, Retry-After, mechanisms and logging of rc. -1 with err on a bad
 * value. */
int gk_front_settings_apply(const struct gk_front_settings *s, struct gk_registrar_cfg *rc,
                            char *err, size_t errlen);

/* The terminal-facing addresses of one binding other than SIP: none unless configured, one per
 * address family (replies leave from the socket of the request's protocol and family, and for
 * MGCP and H.248 the transaction that answers a command must be the one that received it). */
struct gk_front_listen {
	const char *key; /* "mgcp.listen", ... */
	struct sockaddr_storage addr[2];
	unsigned n;
};

/* Those of MGCP, H.248 and RAS, in that order; a daemon configures SIP's itself. */
struct gk_front_listeners {
	struct gk_front_listen proto[3];
	uint32_t transactions;   /* MGCP and H.248: received commands remembered per socket */
	uint32_t in_flight;      /* MGCP and H.248: sent commands in flight per socket */
	uint32_t refusals_per_s; /* stateless error responses per second (front_io.h) */
};

/* Appends mgcp.listen, h248.listen, ras.listen, ras.arc (the OID arc of gatekey's H.235 tokens,
 * process-wide), cmd.transactions, cmd.in_flight and refusals_per_second after the first `used`
 * entries of keys; returns the new count, the table stays NULL-terminated. */
size_t gk_front_listener_keys(struct gk_front_listeners *l, struct gk_cfg_key *keys, size_t used,
                              size_t cap);

#endif
