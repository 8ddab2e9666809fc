/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef SOFTSWITCHD_SETTINGS_H
#define SOFTSWITCHD_SETTINGS_H

#include "gatekey/auc/auc_client.h"
#include "gatekey/runtime/config.h"
#include "gatekey/exchange/core.h"
#include "gatekey/exchange/front_ipsec.h"
#include "gatekey/exchange/front_settings.h"
#include "gatekey/exchange/registrar.h"
#include "peers.h"

#define SS_MAX_LISTEN  4
#define SS_IPSEC_OWNER 2 /* ipsec.owner's default: sbcd's is 1 */

struct ss_settings {
	char id[GK_CFG_STR_MAX];
	char key_file[GK_CFG_STR_MAX];
	struct sockaddr_storage listen[SS_MAX_LISTEN];
	unsigned n_listen;
	struct gk_front_listeners bindings; /* MGCP, H.248, RAS */
	struct sockaddr_storage auc_server, auc_acct_server;
	char auc_secret[GK_CFG_STR_MAX];
	uint32_t auc_vendor, auc_timeout_ms, auc_tries, auc_acct_tries;
	uint32_t max_failures, lockout_ms;
	char digest_algorithms[GK_CFG_STR_MAX];
	uint32_t digest_nonce_ttl_ms;
	bool route_lookup; /* ask aucd whether an unbound Request-URI user exists (404 vs 480) */
	struct gk_front_settings front;
	struct gk_front_ipsec_settings ipsec;
	struct ss_peers peers;
};

/* Fills keys (NULL-terminated, at most cap entries) with softswitchd's own keys and defaults. */
void ss_settings_keys(struct ss_settings *s, struct gk_cfg_key *keys, size_t cap);
/* Validates, reads the element key file, and produces the component configurations. */
int ss_settings_finish(struct ss_settings *s, struct gk_registrar_cfg *rc, struct gk_core_cfg *cc,
                       struct gk_auc_client_cfg *ac, char *err, size_t errlen);

#endif
