// SPDX-License-Identifier: GPL-2.0-only
/*
 * sbcd's configuration keys and their checks. Whatever can be checked alone is checked as its
 * line is read; sbc_settings_finish() checks what needs several keys. The core-leg key is required
 * and must be this SBC's own: without it the softswitch's verdicts would be taken from whoever can
 * spoof its address.
 */
#include <stdio.h>
#include <string.h>

#include "gatekey/auc/keystore.h"
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

/* Read as the line is, so a missing, unreadable or group-readable file is reported at its
 * file:line; the id it names is checked once sbc.id is known. */
static int set_core_key(const char *value, void *arg, char *err, size_t errlen)
{
	struct sbc_settings *s = arg;
	char e[256];

	if (s->have_core_key) {
		snprintf(err, errlen, "core.key_file given twice");
		return -1;
	}
	if (gk_provision_read(value, s->core_key_id, s->core_key, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "core.key_file: %s", e);
		return -1;
	}
	snprintf(s->core_key_path, sizeof(s->core_key_path), "%s", value);
	s->have_core_key = true;
	return 0;
}

_Static_assert(GK_FP_TERMINALS_MIN == 65536 && GK_FP_TERMINALS_MAX == 1048576,
               "registrar.max_terminals's help names the fast path's bounds");

void sbc_settings_keys(struct sbc_settings *s, struct gk_cfg_key *keys, size_t cap)
{
	const struct gk_cfg_key k[] = {
	    GK_CFG_KEY("sbc.id", GK_CFG_STR, s->id,
	               "this SBC's ID (IDsp); default: the id in the key file"),
	    GK_CFG_KEY("sbc.key_file", GK_CFG_STR, s->key_file,
	               "provisioning file with the SBC's long-term key Ksp (0600)"),
	    {.name = "access.listen",
	     .kind = GK_CFG_STR,
	     .help = "terminal-facing SIP address ip:port (repeatable)",
	     .def = "0.0.0.0:5060",
	     .multi = true,
	     .on_multi = add_listen,
	     .multi_arg = s},
	    GK_CFG_KEY("core.softswitch", GK_CFG_ADDR, &s->softswitch,
	               "the softswitch's SIP address (required)"),
	    GK_CFG_KEY("core.bind", GK_CFG_ADDR, &s->core_bind,
	               "local address towards the softswitch (default: any, ephemeral port)"),
	    {.name = "core.key_file",
	     .kind = GK_CFG_STR,
	     .help = "core-leg key shared with the softswitch (gkctl core-key generate; 0600; "
	             "required)",
	     .multi = true,
	     .on_multi = set_core_key,
	     .multi_arg = s},
	    GK_CFG_KEY("fastpath.interface", GK_CFG_STR, s->fp_interface,
	               "access interface for the XDP fast path (none: userspace checks)"),
	    {.name = "fastpath.mode",
	     .kind = GK_CFG_STR,
	     .help = "auto (native XDP, else generic, else userspace), native, generic, userspace",
	     .def = "auto", /* sbc_fp_settings_defaults() */
	     .multi = true,
	     .on_multi = sbc_fp_parse_mode,
	     .multi_arg = &s->fp},
	    GK_CFG_KEY("fastpath.pin_root", GK_CFG_STR, s->fp.pin_root,
	               "bpffs directory for the pinned maps"),
	    GK_CFG_KEY("fastpath.detach_on_exit", GK_CFG_BOOL, &s->fp.detach_on_exit,
	               "detach XDP when sbcd stops (no: terminals keep passing across restarts)"),
	    {.name = "fastpath.port",
	     .kind = GK_CFG_STR,
	     .help =
	         "\"sip|mgcp|h248|h323 <port> [<verified port>]\" (repeatable; the verified port "
	         "defaults to port+10000)",
	     .def = "sip 5060, mgcp 2427 2727, h248 2944 2945, h323 1719",
	     .multi = true,
	     .on_multi = sbc_fp_parse_port,
	     .multi_arg = &s->fp},
	    GK_CFG_KEY("fastpath.source_rate", GK_CFG_U32, &s->fp.cfg.source.rate,
	               "registration-class datagrams per second from one host (IPv6: /64)"),
	    GK_CFG_KEY("fastpath.source_burst", GK_CFG_U32, &s->fp.cfg.source.burst,
	               "burst allowed to one host"),
	    GK_CFG_KEY("fastpath.global_rate", GK_CFG_U32, &s->fp.cfg.global.rate,
	               "registration-class datagrams per second from unregistered sources, all"),
	    GK_CFG_KEY("fastpath.global_burst", GK_CFG_U32, &s->fp.cfg.global.burst,
	               "burst of all unregistered sources together"),
	    GK_CFG_KEY("fastpath.terminal_rate", GK_CFG_U32, &s->fp.cfg.terminal.rate,
	               "datagrams per second of one digest terminal"),
	    GK_CFG_KEY("fastpath.terminal_burst", GK_CFG_U32, &s->fp.cfg.terminal.burst,
	               "burst of one digest terminal"),
	    GK_CFG_KEY("fastpath.admission", GK_CFG_BOOL, &s->fp.admission,
	               "shed strangers' registrations in the fast path while sbcd's queues are "
	               "deep"),
	};
	size_t n = sizeof(k) / sizeof(k[0]);
	memcpy(keys, k, n * sizeof(k[0]));
	keys[n] = (struct gk_cfg_key){0};
	n = gk_front_listener_keys(&s->bindings, keys, n, cap);
	n = gk_front_settings_keys(&s->front, keys, n, cap);
	n = gk_front_ipsec_keys(&s->ipsec, SBC_IPSEC_OWNER, keys, n, cap);
	sbc_fp_settings_defaults(&s->fp);
	/* In sbcd registrar.max_terminals also sizes the fast path's tables (gk_fp_sizes_of), so
	 * it has their bounds, checked as the line is read, and their least size as its default:
	 * the XDP maps are what earlier versions made, and the terminals they pinned are kept. */
	s->front.max_terminals = GK_FP_TERMINALS_MIN;
	for (size_t i = 0; i < n; i++)
		if (strcmp(keys[i].name, "registrar.max_terminals") == 0) {
			keys[i].min = 1;
			keys[i].max = GK_FP_TERMINALS_MAX;
			keys[i].help =
			    "terminals registered at once, and what the fast path's tables "
			    "(XDP maps or userspace) hold (the kernel memory it takes is logged "
			    "at start-up)";
		}
}

int sbc_settings_finish(struct sbc_settings *s, struct gk_registrar_cfg *rc, char *err,
                        size_t errlen)
{
	char id[GK_ID_MAX + 1], e[256];
	uint8_t key[GK_KEY_LEN];

	if (!s->key_file[0]) {
		snprintf(err, errlen,
		         "sbc.key_file is required (write it with gkctl element add ID "
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
		snprintf(err, errlen, "sbc.id \"%.64s\" differs from the key file's id \"%s\"",
		         s->id, id);
		gk_wipe(key, sizeof(key));
		return -1;
	}
	/* Without it the softswitch's verdicts would be taken from whoever can spoof its address.
	 */
	if (!s->have_core_key) {
		snprintf(err, errlen,
		         "core.key_file is required (write it with gkctl core-key generate %s "
		         "--out FILE; the softswitch names the same file in sbc.peer)",
		         s->id);
		gk_wipe(key, sizeof(key));
		return -1;
	}
	if (strcmp(s->core_key_id, s->id) != 0) {
		snprintf(err, errlen,
		         "core.key_file: %s is the core-leg key of \"%s\", not of \"%s\"",
		         s->core_key_path, s->core_key_id, s->id);
		gk_wipe(key, sizeof(key));
		gk_wipe(s->core_key, sizeof(s->core_key));
		return -1;
	}
	if (s->n_listen == 0)
		gk_parse_addr("0.0.0.0:5060", &s->listen[s->n_listen++], e, sizeof(e));
	if (!s->core_bind.ss_family)
		s->core_bind.ss_family = s->softswitch.ss_family;

	if (strlen(s->fp_interface) >= sizeof(s->fp.interface)) {
		snprintf(err, errlen, "fastpath.interface: \"%.64s\" is not an interface name",
		         s->fp_interface);
		return -1;
	}
	snprintf(s->fp.interface, sizeof(s->fp.interface), "%s", s->fp_interface);
	if (s->fp.want != SBC_FP_USERSPACE && s->fp.want != SBC_FP_AUTO && !s->fp.interface[0]) {
		snprintf(err, errlen, "fastpath.mode native or generic needs fastpath.interface");
		return -1;
	}

	gk_registrar_cfg_defaults(rc);
	snprintf(rc->idsp, sizeof(rc->idsp), "%.*s", GK_ID_MAX, s->id);
	memcpy(rc->element_key, key, GK_KEY_LEN);
	gk_wipe(key, sizeof(key));
	rc->role = GK_ROLE_SBC;
	if (gk_front_settings_apply(&s->front, rc, err, errlen) < 0)
		return -1;
	return gk_front_ipsec_apply(&s->ipsec, rc, err, errlen);
}
