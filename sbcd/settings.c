// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>
#include <string.h>

#include "gatekey/keystore.h"
#include "settings.h"

static int add_listen(const char *value, void *arg, char *err, size_t errlen)
{
	struct sbc_settings *s = arg;
	if (s->n_listen == SBC_MAX_LISTEN) {
		snprintf(err, errlen, "at most %d access.listen addresses", SBC_MAX_LISTEN);
		return -1;
	}
	return gk_parse_addr(value, &s->listen[s->n_listen++], err, errlen);
}

void sbc_settings_keys(struct sbc_settings *s, struct gk_cfg_key *keys, size_t cap)
{
	const struct gk_cfg_key k[] = {
		GK_CFG_KEY("sbc.id", GK_CFG_STR, s->id,
			   "this SBC's ID (IDsp); default: the id in the key file"),
		GK_CFG_KEY("sbc.key_file", GK_CFG_STR, s->key_file,
			   "provisioning file with the SBC's long-term key Ksp (0600)"),
		{.name = "access.listen",
		 .kind = GK_CFG_STR,
		 .help = "terminal-facing SIP address ip:port (repeatable; default 0.0.0.0:5060)",
		 .multi = true,
		 .on_multi = add_listen,
		 .multi_arg = s},
		GK_CFG_KEY("core.softswitch", GK_CFG_ADDR, &s->softswitch,
			   "the softswitch's SIP address (required)"),
		GK_CFG_KEY("core.bind", GK_CFG_ADDR, &s->core_bind,
			   "local address towards the softswitch (default: any, ephemeral port)"),
		GK_CFG_KEY("registrar.skew", GK_CFG_DURATION, &s->skew_ms,
			   "accepted timestamp skew (default 30s)"),
		GK_CFG_KEY("registrar.challenge_ttl", GK_CFG_DURATION, &s->challenge_ttl_ms,
			   "how long a challenge may be answered (default 30s)"),
		GK_CFG_KEY("registrar.core_timeout", GK_CFG_DURATION, &s->core_timeout_ms,
			   "how long the softswitch may take to decide (default 5s)"),
		GK_CFG_KEY("registrar.expires_default", GK_CFG_U32, &s->expires_default,
			   "binding lifetime in seconds when the terminal asks none (3600)"),
		GK_CFG_KEY("registrar.expires_min", GK_CFG_U32, &s->expires_min,
			   "shortest binding lifetime granted, seconds (60)"),
		GK_CFG_KEY("registrar.expires_max", GK_CFG_U32, &s->expires_max,
			   "longest binding lifetime granted, seconds (86400)"),
		GK_CFG_KEY("registrar.mechanisms", GK_CFG_STR, s->mechanisms,
			   "mechanisms this SBC enforces (gk-mac)"),
		GK_CFG_KEY("registrar.max_terminals", GK_CFG_U32, &s->max_terminals,
			   "terminals tracked at once (262144)"),
		GK_CFG_KEY("registrar.max_pending", GK_CFG_U32, &s->max_pending,
			   "registrations in progress at once (65536)"),
		GK_CFG_KEY("log.registrations", GK_CFG_BOOL, &s->log_registrations,
			   "log each completed registration with its fingerprint (yes)"),
	};
	size_t n = sizeof(k) / sizeof(k[0]);
	if (n + 1 > cap)
		n = cap - 1;
	memcpy(keys, k, n * sizeof(k[0]));
	keys[n] = (struct gk_cfg_key){0};

	struct gk_registrar_cfg d;
	gk_registrar_cfg_defaults(&d);
	s->skew_ms = d.skew_s * 1000;
	s->challenge_ttl_ms = d.challenge_ttl_s * 1000;
	s->core_timeout_ms = d.core_timeout_ms;
	s->expires_default = d.expires_default_s;
	s->expires_min = d.expires_min_s;
	s->expires_max = d.expires_max_s;
	s->max_terminals = d.max_terminals;
	s->max_pending = d.max_pending;
	s->log_registrations = true;
	snprintf(s->mechanisms, sizeof(s->mechanisms), "gk-mac");
}

int sbc_settings_finish(struct sbc_settings *s, struct gk_registrar_cfg *rc, char *err,
			size_t errlen)
{
	char id[GK_ID_MAX + 1], e[256];
	uint8_t key[GK_KEY_LEN];

	if (!s->key_file[0]) {
		snprintf(err, errlen, "sbc.key_file is required (write it with gkctl element add ID "
				      "--type sbc --out FILE)");
		return -1;
	}
	if (!s->softswitch.ss_family) {
		snprintf(err, errlen, "core.softswitch is required (the softswitch's ip:port)");
		return -1;
	}
	if (gk_provision_read(s->key_file, id, key, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "sbc.key_file: %s", e);
		return -1;
	}
	if (!s->id[0])
		snprintf(s->id, sizeof(s->id), "%s", id);
	if (strcmp(s->id, id) != 0 || strlen(s->id) > GK_ID_MAX) {
		snprintf(err, errlen, "sbc.id \"%.64s\" differs from the key file's id \"%s\"", s->id,
			 id);
		gk_wipe(key, sizeof(key));
		return -1;
	}
	if (s->n_listen == 0)
		gk_parse_addr("0.0.0.0:5060", &s->listen[s->n_listen++], e, sizeof(e));
	if (!s->core_bind.ss_family)
		s->core_bind.ss_family = s->softswitch.ss_family;

	gk_registrar_cfg_defaults(rc);
	snprintf(rc->idsp, sizeof(rc->idsp), "%.*s", GK_ID_MAX, s->id);
	memcpy(rc->element_key, key, GK_KEY_LEN);
	gk_wipe(key, sizeof(key));
	rc->role = GK_ROLE_SBC;
	rc->skew_s = s->skew_ms / 1000;
	rc->challenge_ttl_s = s->challenge_ttl_ms / 1000 ? s->challenge_ttl_ms / 1000 : 1;
	rc->core_timeout_ms = s->core_timeout_ms;
	rc->expires_default_s = s->expires_default;
	rc->expires_min_s = s->expires_min;
	rc->expires_max_s = s->expires_max;
	rc->max_terminals = s->max_terminals;
	rc->max_pending = s->max_pending;
	rc->log_registrations = s->log_registrations;
	return gk_mechs_parse(s->mechanisms, &rc->mechs_supported, err, errlen);
}
