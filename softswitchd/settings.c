// SPDX-License-Identifier: GPL-2.0-only
/*
 * softswitchd's configuration keys and how they become the front's, the core's and the AuC
 * client's settings. The timeouts are derived from one another rather than set alone: the core
 * waits for every AuC try, and the front waits at least a second longer than the core, so a
 * registration is never given up on while its answer is still coming.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "gatekey/auc/keystore.h"
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
	     .help = "SIP address ip:port (repeatable)",
	     .def = "0.0.0.0:5060",
	     .multi = true,
	     .on_multi = add_listen,
	     .multi_arg = s},
	    GK_CFG_KEY("auc.server", GK_CFG_ADDR, &s->auc_server,
	               "aucd RADIUS authentication address"),
	    GK_CFG_KEY("auc.accounting_server", GK_CFG_ADDR, &s->auc_acct_server,
	               "aucd RADIUS accounting address (default: auc.server's port + 1)"),
	    GK_CFG_KEY("auc.secret", GK_CFG_STR, s->auc_secret, "RADIUS shared secret with aucd"),
	    GK_CFG_KEY("auc.vendor", GK_CFG_U32, &s->auc_vendor,
	               "IANA PEN of the vendor-specific attributes"),
	    GK_CFG_KEY("auc.timeout", GK_CFG_DURATION, &s->auc_timeout_ms,
	               "RADIUS retransmission interval"),
	    GK_CFG_KEY("auc.tries", GK_CFG_U32, &s->auc_tries, "RADIUS tries"),
	    GK_CFG_RANGE("auc.accounting_tries", &s->auc_acct_tries, 1, 10,
	                 "tries of an Accounting-Request"),
	    GK_CFG_KEY("registrar.max_failures", GK_CFG_U32, &s->max_failures,
	               "wrong answers before lockout"),
	    GK_CFG_KEY("registrar.lockout", GK_CFG_DURATION, &s->lockout_ms,
	               "lockout after too many wrong answers"),
	    GK_CFG_KEY(
	        "digest.algorithms", GK_CFG_STR, s->digest_algorithms,
	        "Digest challenges offered to plain SIP UAs, in order (\"SHA-256, MD5\" lets "
	        "phones that only know MD5 in)"),
	    GK_CFG_KEY("digest.nonce_ttl", GK_CFG_DURATION, &s->digest_nonce_ttl_ms,
	               "how long a Digest nonce may be answered before it is stale"),
	    GK_CFG_KEY("route.lookup", GK_CFG_BOOL, &s->route_lookup,
	               "ask aucd whether a called user without a binding exists: 404 when not, "
	               "480 when it does (no: 480 for every user without a binding)"),
	    {.name = "sbc.peer",
	     .kind = GK_CFG_STR,
	     .help =
	         "\"<sbc-id> <ip> <key-file>\": an SBC whose terminals this softswitch serves, and "
	         "the core-leg key it shares with it (gkctl core-key generate; repeatable)",
	     .multi = true,
	     .on_multi = ss_peer_add,
	     .multi_arg = &s->peers},
	};
	size_t n = sizeof(k) / sizeof(k[0]);
	memcpy(keys, k, n * sizeof(k[0]));
	keys[n] = (struct gk_cfg_key){0};
	n = gk_front_listener_keys(&s->bindings, keys, n, cap);
	n = gk_front_settings_keys(&s->front, keys, n, cap);
	gk_front_ipsec_keys(&s->ipsec, SS_IPSEC_OWNER, keys, n, cap);

	struct gk_core_cfg dc;
	gk_core_cfg_defaults(&dc);
	gk_parse_addr("127.0.0.1:1812", &s->auc_server, e, sizeof(e));
	s->auc_vendor = GK_PEN_DEFAULT;
	s->auc_timeout_ms = 1000;
	s->auc_tries = 3;
	s->auc_acct_tries = 2;
	s->max_failures = dc.max_failures;
	s->lockout_ms = dc.lockout_s * 1000;
	/* The core's default (SHA-256 alone), so the daemon and the library cannot drift apart. */
	snprintf(s->digest_algorithms, sizeof(s->digest_algorithms), "%s", dc.digest_algorithms);
	s->digest_nonce_ttl_ms = dc.digest_nonce_ttl_s * 1000;
	s->route_lookup = true;
}

int ss_settings_finish(struct ss_settings *s, struct gk_registrar_cfg *rc, struct gk_core_cfg *cc,
                       struct gk_auc_client_cfg *ac, char *err, size_t errlen)
{
	char id[GK_ID_MAX + 1], e[256];
	uint8_t key[GK_KEY_LEN];

	if (!s->key_file[0]) {
		snprintf(err, errlen,
		         "softswitch.key_file is required (write it with gkctl element "
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
		snprintf(err, errlen,
		         "auc.secret is required (the RADIUS secret shared with aucd)");
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
	if (gk_front_settings_apply(&s->front, rc, err, errlen) < 0 ||
	    gk_front_ipsec_apply(&s->ipsec, rc, err, errlen) < 0)
		return -1;
	gk_core_cfg_defaults(cc);
	cc->max_failures = s->max_failures ? s->max_failures : 1;
	cc->lockout_s = s->lockout_ms / 1000;
	cc->challenge_ttl_s = rc->challenge_ttl_s + 5;
	cc->max_terminals = s->front.max_terminals;
	cc->max_pending = s->front.max_pending;
	cc->auc_timeout_ms = s->auc_timeout_ms * (s->auc_tries + 1);
	if (gk_core_digest_algorithms(s->digest_algorithms, cc->digest_algorithms, e, sizeof(e)) <
	    0) {
		snprintf(err, errlen, "digest.algorithms: %s", e);
		return -1;
	}
	cc->digest_nonce_ttl_s = s->digest_nonce_ttl_ms / 1000 ? s->digest_nonce_ttl_ms / 1000 : 1;
	/* The front must not give up before the core has heard from the AuC. */
	if (rc->core_timeout_ms < cc->auc_timeout_ms + 1000)
		rc->core_timeout_ms = cc->auc_timeout_ms + 1000;

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
	ac->acct_tries = s->auc_acct_tries;
	return 0;
}
