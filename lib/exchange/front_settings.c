// SPDX-License-Identifier: GPL-2.0-only
/*
 * The configuration keys every front shares (sbcd, softswitchd): registrar timing and limits,
 * the Retry-After of its overload refusals, the mechanisms it negotiates, and the listeners of the
 * bindings other than SIP. Values that can be checked alone are checked as their line is read, so a
 * refusal names file:line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatekey/cmd/cmd_txn.h"
#include "gatekey/exchange/front_settings.h"
#include "gatekey/h323/ras.h"

/* registrar.mechanisms: only what the element enforces (gk-mac, digest), see gk_mechs_parse. */
static int set_mechanisms(const char *value, void *arg, char *err, size_t errlen)
{
	char e[200];
	uint32_t mask;

	if (gk_mechs_parse(value, &mask, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "registrar.mechanisms: %s", e);
		return -1;
	}
	snprintf(arg, GK_CFG_STR_MAX, "%s", value); /* given twice, the last one counts */
	return 0;
}

size_t gk_front_settings_keys(struct gk_front_settings *s, struct gk_cfg_key *keys, size_t used,
                              size_t cap)
{
	const struct gk_cfg_key k[] = {
	    GK_CFG_KEY("registrar.skew", GK_CFG_DURATION, &s->skew_ms, "accepted timestamp skew"),
	    GK_CFG_KEY("registrar.challenge_ttl", GK_CFG_DURATION, &s->challenge_ttl_ms,
	               "how long a challenge may be answered"),
	    GK_CFG_KEY("registrar.core_timeout", GK_CFG_DURATION, &s->core_timeout_ms,
	               "how long the authentication may take"),
	    GK_CFG_KEY("registrar.expires_default", GK_CFG_U32, &s->expires_default,
	               "binding lifetime in seconds when the terminal asks none"),
	    GK_CFG_KEY("registrar.expires_min", GK_CFG_U32, &s->expires_min,
	               "shortest binding lifetime granted, seconds"),
	    GK_CFG_KEY("registrar.expires_max", GK_CFG_U32, &s->expires_max,
	               "longest binding lifetime granted, seconds"),
	    {.name = "registrar.mechanisms",
	     .kind = GK_CFG_STR,
	     .help = "mechanisms the element negotiates with terminals: gk-mac, digest, "
	             "ipsec-3gpp (with <proto>.ipsec_ports), e.g. \"ipsec-3gpp gk-mac digest\"; "
	             "tls is not implemented yet and refused",
	     .def = s->mechanisms, /* the current value: its default is set below */
	     .multi = true,
	     .on_multi = set_mechanisms,
	     .multi_arg = s->mechanisms},
	    GK_CFG_KEY("registrar.max_terminals", GK_CFG_U32, &s->max_terminals,
	               "terminals tracked at once"),
	    GK_CFG_KEY("registrar.max_pending", GK_CFG_U32, &s->max_pending,
	               "registrations in progress at once"),
	    GK_CFG_KEY("registrar.binding_store", GK_CFG_STR, s->binding_store,
	               "a file on a tmpfs where registered terminals, their keys and replay "
	               "windows outlive a restart or a crash of the daemon; auto: "
	               "/run/gatekey/<daemon>.bindings when /run is a tmpfs; none: memory only. "
	               "sbcd with XDP attached keeps them in its pinned maps instead"),
	    GK_CFG_RANGE("registrar.retry_after", &s->retry_after, 1, GK_RETRY_AFTER_MAX_S,
	                 "seconds an overloaded element asks a refused terminal to wait before it "
	                 "tries again (SIP 503 Retry-After, MGCP 409, H.248 510, RAS "
	                 "resourceUnavailable)"),
	    GK_CFG_RANGE("registrar.retry_jitter", &s->retry_jitter, 0, GK_RETRY_AFTER_MAX_S,
	                 "at most this many seconds, drawn at random per refusal, added to "
	                 "registrar.retry_after, so that terminals refused together do not all "
	                 "come back together"),
	    GK_CFG_KEY("route.transactions", GK_CFG_U32, &s->route_transactions,
	               "SIP transactions of routed calls at once, server and client each; "
	               "a call holds two of each for up to 32 s (RFC 6026, timer J), which bounds "
	               "the sustained call rate near a sixty-fourth of it"),
	    GK_CFG_KEY("log.registrations", GK_CFG_BOOL, &s->log_registrations,
	               "log each completed registration with its fingerprint"),
	};
	size_t n = sizeof(k) / sizeof(k[0]);
	struct gk_registrar_cfg d;

	if (used + n + 1 > cap)
		abort(); /* a program's key table is sized at compile time */
	memcpy(keys + used, k, sizeof(k));
	keys[used + n] = (struct gk_cfg_key){0};

	gk_registrar_cfg_defaults(&d);
	s->skew_ms = d.skew_s * 1000;
	s->challenge_ttl_ms = d.challenge_ttl_s * 1000;
	s->core_timeout_ms = d.core_timeout_ms;
	s->expires_default = d.expires_default_s;
	s->expires_min = d.expires_min_s;
	s->expires_max = d.expires_max_s;
	s->max_terminals = d.max_terminals;
	s->max_pending = d.max_pending;
	s->retry_after = d.retry_after_s;
	s->retry_jitter = d.retry_jitter_s;
	s->route_transactions = 65536;
	s->log_registrations = d.log_registrations;
	snprintf(s->mechanisms, sizeof(s->mechanisms), "gk-mac");
	snprintf(s->binding_store, sizeof(s->binding_store), "auto");
	return used + n;
}

int gk_front_settings_apply(const struct gk_front_settings *s, struct gk_registrar_cfg *rc,
                            char *err, size_t errlen)
{
	if (s->expires_min > s->expires_max) {
		snprintf(err, errlen,
		         "registrar.expires_min (%u) is above registrar.expires_max (%u)",
		         s->expires_min, s->expires_max);
		return -1;
	}
	if (s->route_transactions < 16 || s->route_transactions > (1u << 22)) {
		snprintf(err, errlen, "route.transactions: expected 16 to %u, got %u", 1u << 22,
		         s->route_transactions);
		return -1;
	}
	rc->skew_s = s->skew_ms / 1000;
	rc->challenge_ttl_s = s->challenge_ttl_ms / 1000 ? s->challenge_ttl_ms / 1000 : 1;
	rc->core_timeout_ms = s->core_timeout_ms;
	rc->expires_default_s = s->expires_default;
	rc->expires_min_s = s->expires_min;
	rc->expires_max_s = s->expires_max;
	rc->max_terminals = s->max_terminals;
	rc->max_pending = s->max_pending;
	rc->retry_after_s = s->retry_after;
	rc->retry_jitter_s = s->retry_jitter;
	rc->log_registrations = s->log_registrations;
	return gk_mechs_parse(s->mechanisms, &rc->mechs_supported, err, errlen);
}

static int add_listen(const char *value, void *arg, char *err, size_t errlen)
{
	struct gk_front_listen *l = arg;
	if (l->n == 2) {
		snprintf(err, errlen, "at most 2 %s addresses (one per address family)", l->key);
		return -1;
	}
	return gk_parse_addr(value, &l->addr[l->n++], err, errlen);
}

#define GK_TXN_POOL_MIN 16
#define GK_TXN_POOL_MAX (1u << 22)

static int set_ras_arc(const char *value, void *arg, char *err, size_t errlen)
{
	(void)arg;
	if (gk_ras_set_arc(value) < 0) {
		snprintf(
		    err, errlen,
		    "ras.arc: expected a dotted object identifier of 2 to %d arcs, e.g. \"%s\"",
		    GK_PER_OID_MAX - 2, GK_RAS_ARC_DEFAULT);
		return -1;
	}
	return 0;
}

size_t gk_front_listener_keys(struct gk_front_listeners *l, struct gk_cfg_key *keys, size_t used,
                              size_t cap)
{
	static const char *const names[3] = {"mgcp.listen", "h248.listen", "ras.listen"};
	const struct gk_cfg_key k[] = {
	    {.name = names[0],
	     .kind = GK_CFG_STR,
	     .help = "MGCP call agent address ip:port for terminals (gateways) (repeatable, one "
	             "per address family; default: none, the standard port is 2727)",
	     .multi = true,
	     .on_multi = add_listen,
	     .multi_arg = &l->proto[0]},
	    {.name = names[1],
	     .kind = GK_CFG_STR,
	     .help = "H.248 text MGC address ip:port for terminals (MGs) (repeatable, one per "
	             "address family; default: none, the standard port is 2944)",
	     .multi = true,
	     .on_multi = add_listen,
	     .multi_arg = &l->proto[1]},
	    {.name = names[2],
	     .kind = GK_CFG_STR,
	     .help = "H.225.0 RAS gatekeeper address ip:port for terminals (endpoints) "
	             "(repeatable, one per address family; default: none, the standard port is "
	             "1719)",
	     .multi = true,
	     .on_multi = add_listen,
	     .multi_arg = &l->proto[2]},
	    {.name = "ras.arc",
	     .kind = GK_CFG_STR,
	     .help = "OID arc of gatekey's H.235 tokens in RAS",
	     .def = GK_RAS_ARC_DEFAULT,
	     .multi = true,
	     .on_multi = set_ras_arc},
	    GK_CFG_RANGE("cmd.transactions", &l->transactions, GK_TXN_POOL_MIN, GK_TXN_POOL_MAX,
	                 "MGCP and H.248 received commands remembered per socket at most, each "
	                 "with its answer for T-hist (30 s), so that a retransmission gets the "
	                 "same answer (the default holds 30 s of about 35,000 commands a second; "
	                 "memory follows what is remembered, about 150 to 270 bytes each); past it "
	                 "the oldest answer gives way (counted: <proto>.txn.evicted)"),
	    GK_CFG_RANGE("cmd.in_flight", &l->in_flight, GK_TXN_POOL_MIN, GK_TXN_POOL_MAX,
	                 "MGCP and H.248 commands sent per socket (challenges, successes) and "
	                 "retransmitted until answered, at most"),
	    GK_CFG_RANGE("refusals_per_second", &l->refusals_per_s, 0, 100000,
	                 "stateless error responses (SIP 400, 415, 416, 420, 505, 513) sent to "
	                 "terminals per second, at most (0: none): the rest are "
	                 "dropped and counted, so a flood of bad requests is never reflected"),
	};
	size_t n = sizeof(k) / sizeof(k[0]);

	if (used + n + 1 > cap)
		abort(); /* a program's key table is sized at compile time */
	memset(l, 0, sizeof(*l));
	l->transactions = GK_CMD_HISTORY_DEFAULT;
	l->in_flight = GK_CMD_IN_FLIGHT_DEFAULT;
	l->refusals_per_s = 100;
	for (int i = 0; i < 3; i++)
		l->proto[i].key = names[i];
	memcpy(keys + used, k, sizeof(k));
	keys[used + n] = (struct gk_cfg_key){0};
	return used + n;
}
