/* SPDX-License-Identifier: GPL-2.0-only */
/* The configuration keys of a front (registrar.*, log.registrations), shared by its daemons. */
#ifndef GATEKEY_FRONT_SETTINGS_H
#define GATEKEY_FRONT_SETTINGS_H

#include "gatekey/config.h"
#include "gatekey/registrar.h"

struct gk_front_settings {
	uint32_t skew_ms, challenge_ttl_ms, core_timeout_ms;
	uint32_t expires_default, expires_min, expires_max;
	uint32_t max_terminals, max_pending;
	char mechanisms[GK_CFG_STR_MAX];
	bool log_registrations;
};

/* Sets the defaults and appends the keys after the first `used` entries of keys (cap in all);
 * returns the new count, the table stays NULL-terminated. */
size_t gk_front_settings_keys(struct gk_front_settings *s, struct gk_cfg_key *keys, size_t used,
                              size_t cap);
/* Fills the timing, limits, mechanisms and logging of rc. -1 with err on a bad value. */
int gk_front_settings_apply(const struct gk_front_settings *s, struct gk_registrar_cfg *rc,
                            char *err, size_t errlen);

/* A repeated mgcp.listen / h248.listen / ras.listen value into addrs[0..2) (one per address
 * family). */
int gk_front_settings_add_cmd_listen(const char *value, struct sockaddr_storage *addrs, unsigned *n,
                                     const char *key, char *err, size_t errlen);

/* ras.arc: the OID arc of gatekey's H.235 tokens (docs/bindings-h323.md), process-wide. */
int gk_front_settings_ras_arc(const char *value, void *arg, char *err, size_t errlen);

#endif
