// SPDX-License-Identifier: GPL-2.0-only
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "gatekey/keystore.h"
#include "settings.h"

static int add_listen(const char *value, void *arg, char *err, size_t errlen)
{
	struct ss_settings *s = arg;
	if (s->n_listen == SS_MAX_LISTEN) {
		snprintf(err, errlen, "at most %d sip.listen addresses", SS_MAX_LISTEN);
		return -1;
	}
	return gk_parse_addr(value, &s->listen[s->n_listen++], err, errlen);
}

void ss_settings_keys(struct ss_settings *s, struct gk_cfg_key *keys, size_t cap)
{
	char e[128];
	const struct gk_cfg_key k[] = {
		GK_CFG_KEY("softswitch.id", GK_CFG_STR, s->id,
			   "this softswitch's ID (IDsp); default: the id in the key file"),
		GK_CFG_KEY("softswitch.key_file", GK_CFG_STR, s->key_file,
			   "provisioning file with the softswitch's long-term key (0600)"),
		{.name = "sip.listen",
		 .kind = GK_CFG_STR,
		 .help = "SIP address ip:port (repeatable; default 0.0.0.0:5060)",
		 .multi = true,
		 .on_multi = add_listen,
		 .multi_arg = s},
		GK_CFG_KEY("auc.server", GK_CFG_ADDR, &s->auc_server,
			   "aucd RADIUS authentication address (default 127.0.0.1:1812)"),
		GK_CFG_KEY("auc.accounting_server", GK_CFG_ADDR, &s->auc_acct_server,
			   "aucd RADIUS accounting address (default: auc.server's port + 1)"),
		GK_CFG_KEY("auc.secret", GK_CFG_STR, s->auc_secret, "RADIUS shared secret with aucd"),
		GK_CFG_KEY("auc.vendor", GK_CFG_U32, &s->auc_vendor, "vendor PEN (default 32473)"),
		GK_CFG_KEY("auc.timeout", GK_CFG_DURATION, &s->auc_timeout_ms,
			   "RADIUS retransmission interval (default 1s)"),
		GK_CFG_KEY("auc.tries", GK_CFG_U32, &s->auc_tries, "RADIUS tries (default 3)"),
		GK_CFG_KEY("registrar.skew", GK_CFG_DURATION, &s->skew_ms,
			   "accepted timestamp skew (default 30s)"),
		GK_CFG_KEY("registrar.max_failures", GK_CFG_U32, &s->max_failures,
			   "wrong answers before lockout (default 3)"),
		GK_CFG_KEY("registrar.lockout", GK_CFG_DURATION, &s->lockout_ms,
			   "lockout after too many wrong answers (default 5m)"),
		GK_CFG_KEY("registrar.challenge_ttl", GK_CFG_DURATION, &s->challenge_ttl_ms,
			   "how long a challenge may be answered (default 30s)"),
		GK_CFG_KEY("registrar.expires_default", GK_CFG_U32, &s->expires_default,
			   "binding lifetime in seconds when the terminal asks none (3600)"),
		GK_CFG_KEY("registrar.expires_min", GK_CFG_U32, &s->expires_min,
			   "shortest binding lifetime granted, seconds (60)"),
		GK_CFG_KEY("registrar.expires_max", GK_CFG_U32, &s->expires_max,
			   "longest binding lifetime granted, seconds (86400)"),
		GK_CFG_KEY("registrar.mechanisms", GK_CFG_STR, s->mechanisms,
			   "mechanisms offered, best first is the terminal's choice (gk-mac)"),
		GK_CFG_KEY("registrar.max_terminals", GK_CFG_U32, &s->max_terminals,
			   "terminals tracked at once (262144)"),
		GK_CFG_KEY("registrar.max_pending", GK_CFG_U32, &s->max_pending,
			   "registrations in progress at once (65536)"),
		{.name = "sbc.peer",
		 .kind = GK_CFG_STR,
		 .help = "\"<sbc-id> <ip>\": an SBC whose terminals this softswitch serves (repeatable)",
		 .multi = true,
		 .on_multi = ss_peer_add,
		 .multi_arg = &s->peers},
		GK_CFG_KEY("log.registrations", GK_CFG_BOOL, &s->log_registrations,
			   "log each completed registration with its fingerprint (yes)"),
	};
	size_t n = sizeof(k) / sizeof(k[0]);
	if (n + 1 > cap)
		n = cap - 1;
	memcpy(keys, k, n * sizeof(k[0]));
	keys[n] = (struct gk_cfg_key){0};

	struct gk_registrar_cfg d;
	struct gk_core_cfg dc;
	gk_registrar_cfg_defaults(&d);
	gk_core_cfg_defaults(&dc);
	gk_parse_addr("127.0.0.1:1812", &s->auc_server, e, sizeof(e));
	s->auc_vendor = GK_PEN_DEFAULT;
	s->auc_timeout_ms = 1000;
	s->auc_tries = 3;
	s->skew_ms = d.skew_s * 1000;
	s->max_failures = dc.max_failures;
	s->lockout_ms = dc.lockout_s * 1000;
	s->challenge_ttl_ms = d.challenge_ttl_s * 1000;
	s->expires_default = d.expires_default_s;
	s->expires_min = d.expires_min_s;
	s->expires_max = d.expires_max_s;
	s->max_terminals = d.max_terminals;
	s->max_pending = d.max_pending;
	s->log_registrations = true;
	snprintf(s->mechanisms, sizeof(s->mechanisms), "gk-mac");
}

int ss_settings_finish(struct ss_settings *s, struct gk_registrar_cfg *rc, struct gk_core_cfg *cc,
		       struct gk_auc_client_cfg *ac, char *err, size_t errlen)
{
	char id[GK_ID_MAX + 1], e[256];
	uint8_t key[GK_KEY_LEN];

	if (!s->key_file[0]) {
		snprintf(err, errlen, "softswitch.key_file is required (write it with gkctl element "
				      "add ID --type softswitch --out FILE)");
		return -1;
	}
	if (gk_provision_read(s->key_file, id, key, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "softswitch.key_file: %s", e);
		return -1;
	}
	if (!s->id[0])
		snprintf(s->id, sizeof(s->id), "%s", id);
	if (strcmp(s->id, id) != 0) {
		snprintf(err, errlen, "softswitch.id \"%s\" differs from the key file's id \"%s\"",
			 s->id, id);
		gk_wipe(key, sizeof(key));
		return -1;
	}
	if (strlen(s->id) > GK_ID_MAX) {
		snprintf(err, errlen, "softswitch.id longer than %d characters", GK_ID_MAX);
		gk_wipe(key, sizeof(key));
		return -1;
	}
	if (!s->auc_secret[0]) {
		snprintf(err, errlen, "auc.secret is required (the RADIUS secret shared with aucd)");
		gk_wipe(key, sizeof(key));
		return -1;
	}
	if (s->n_listen == 0)
		gk_parse_addr("0.0.0.0:5060", &s->listen[s->n_listen++], e, sizeof(e));

	gk_registrar_cfg_defaults(rc);
	snprintf(rc->idsp, sizeof(rc->idsp), "%.*s", GK_ID_MAX, s->id);
	memcpy(rc->element_key, key, GK_KEY_LEN);
	gk_wipe(key, sizeof(key));
	rc->role = GK_ROLE_SOFTSWITCH;
	rc->skew_s = s->skew_ms / 1000;
	rc->challenge_ttl_s = s->challenge_ttl_ms / 1000 ? s->challenge_ttl_ms / 1000 : 1;
	gk_core_cfg_defaults(cc);
	cc->max_failures = s->max_failures ? s->max_failures : 1;
	cc->lockout_s = s->lockout_ms / 1000;
	cc->challenge_ttl_s = rc->challenge_ttl_s + 5;
	cc->max_terminals = s->max_terminals;
	cc->max_pending = s->max_pending;
	rc->expires_default_s = s->expires_default;
	rc->expires_min_s = s->expires_min;
	rc->expires_max_s = s->expires_max;
	rc->max_terminals = s->max_terminals;
	rc->max_pending = s->max_pending;
	rc->log_registrations = s->log_registrations;
	cc->auc_timeout_ms = s->auc_timeout_ms * (s->auc_tries + 1);
	rc->core_timeout_ms = cc->auc_timeout_ms + 1000;
	if (gk_mechs_parse(s->mechanisms, &rc->mechs_supported, err, errlen) < 0)
		return -1;

	memset(ac, 0, sizeof(*ac));
	ac->auth_server = s->auc_server;
	if (s->auc_acct_server.ss_family) {
		ac->acct_server = s->auc_acct_server;
	} else {
		ac->acct_server = s->auc_server;
		struct sockaddr_in *v4 = (struct sockaddr_in *)&ac->acct_server;
		struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ac->acct_server;
		if (ac->acct_server.ss_family == AF_INET6)
			v6->sin6_port = htons((uint16_t)(ntohs(v6->sin6_port) + 1));
		else
			v4->sin_port = htons((uint16_t)(ntohs(v4->sin_port) + 1));
	}
	ac->secret_len = strlen(s->auc_secret);
	if (ac->secret_len > sizeof(ac->secret)) {
		snprintf(err, errlen, "auc.secret longer than %zu bytes", sizeof(ac->secret));
		return -1;
	}
	memcpy(ac->secret, s->auc_secret, ac->secret_len);
	gk_wipe(s->auc_secret, sizeof(s->auc_secret));
	ac->vendor = s->auc_vendor;
	snprintf(ac->nas_id, sizeof(ac->nas_id), "%.*s", GK_ID_MAX, s->id);
	ac->timeout_ms = s->auc_timeout_ms;
	ac->tries = s->auc_tries;
	return 0;
}
