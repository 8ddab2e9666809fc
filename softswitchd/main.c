// SPDX-License-Identifier: GPL-2.0-only
/*
 * softswitchd: the registrar. In the direct topology it faces the terminals itself: challenge,
 * compare, bindings, and the key hand-off under its own long-term key Kss.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "gatekey/auc/auc_client.h"
#include "gatekey/codec/codec.h"
#include "gatekey/runtime/control.h"
#include "gatekey/exchange/coreleg.h"
#include "gatekey/runtime/daemon.h"
#include "gatekey/exchange/direct.h"
#include "gatekey/exchange/front_io.h"
#include "gatekey/auc/keystore.h"
#include "gatekey/exchange/locations.h"
#include "gatekey/runtime/log.h"
#include "gatekey/runtime/loop.h"
#include "gatekey/runtime/metrics.h"
#include "gatekey/runtime/notify.h"
#include "gatekey/exchange/bindstore.h"
#include "gatekey/exchange/registrar.h"
#include "gatekey/route/sip_route.h"
#include "gatekey/exchange/uplink_core.h"
#include "settings.h"

/* SBCs' requests waiting for the core at once, and how much longer than the core's own AuC
 * timeout one may wait before its slot is taken back. */
#define SS_PEER_SLOTS    16384
#define SS_PEER_GRACE_MS 1000
/* The AuC client's handles are the core's (core.h: bit 31 always clear) and the router's lookups
 * (a lookup's ref, sip_route.h: 31 bits, tagged with bit 31). */
#define SS_LOOKUP GK_CORE_HANDLE_SPARE

struct softswitchd {
	struct gk_daemon_common common;
	struct ss_settings set;
	struct gk_loop *loop;
	struct gk_direct direct;    /* front and core of the direct topology */
	struct gk_registrar *reg;   /* = direct.front */
	struct gk_bindstore *store; /* registrar.binding_store, or NULL */
	struct gk_front_io io;
	struct gk_front_ipsec ipsec; /* ipsec-3gpp's protected ports and SAs, when on */
	struct gk_auc_client *auc;
	struct gk_control *ctl;
	struct gk_metrics *metrics;
	struct gk_uplink_core peers;  /* the SBCs' requests waiting for the core */
	struct gk_sip_router *router; /* SIP requests between terminals (sip_route.h) */
	struct gk_locations *where;   /* which SBC holds a terminal registered through one */
	const struct gk_codec *sip;
	int fds[SS_MAX_LISTEN + 6];
	struct {
		uint64_t rx, parse_errors, responses_ignored;
		struct gk_reason_counters parse;
	} st;
};

static void send_terminal(void *user, const struct gk_msg *m, const struct sockaddr_storage *to,
                          struct gk_binding *b)
{
	gk_front_io_send(&((struct softswitchd *)user)->io, m, to, b);
}

static int seal_peer(void *arg, uint8_t *buf, size_t len, size_t cap)
{
	return gk_coreleg_seal(&((struct ss_peer *)arg)->leg, gk_coreleg_now(), buf, len, cap);
}

/* The core leg, serving SBCs (uplink_core.h): their requests go to the core, its verdicts go
 * back from the slot that waited for them, sealed under that SBC's downlink key. */
static void send_peer(void *user, struct gk_msg *m, const struct sockaddr_storage *to)
{
	struct softswitchd *s = user;
	struct ss_peer *peer = ss_peer_find(&s->set.peers, to);

	if (!peer)
		return; /* not reached: requests come only from listed peers */
	gk_front_io_send_sealed(&s->io, m, to, seal_peer, peer);
}

static void peer_challenge(void *user, uint64_t ref, const uint8_t rand[GK_RAND_LEN])
{
	gk_uplink_core_challenge(&((struct softswitchd *)user)->peers, ref, rand);
}

static void peer_success(void *user, uint64_t ref, const uint8_t rand[GK_RAND_LEN],
                         const uint8_t bt[GK_BLOB_LEN], const uint8_t be[GK_BLOB_LEN])
{
	gk_uplink_core_success(&((struct softswitchd *)user)->peers, ref, rand, bt, be);
}

static void peer_digest_challenge(void *user, uint64_t ref, const struct gk_digest *chal)
{
	gk_uplink_core_digest_challenge(&((struct softswitchd *)user)->peers, ref, chal);
}

static void peer_digest_success(void *user, uint64_t ref)
{
	gk_uplink_core_digest_success(&((struct softswitchd *)user)->peers, ref);
}

static void peer_reject(void *user, uint64_t ref, enum gk_reason why)
{
	gk_uplink_core_reject(&((struct softswitchd *)user)->peers, ref, why);
}

static void auc_request(void *user, uint32_t handle, const char *idc, const char *idsp)
{
	struct softswitchd *s = user;
	gk_auc_client_request(s->auc, handle, idc, idsp);
}

static void auc_digest(void *user, uint32_t handle, const char *idc, const char *idsp,
                       const char *realm)
{
	struct softswitchd *s = user;
	gk_auc_client_digest(s->auc, handle, idc, idsp, realm);
}

static void auc_accounting(void *user, const struct gk_auc_acct *a)
{
	struct softswitchd *s = user;
	gk_auc_client_account(s->auc, a);
}

static void on_vector(void *user, uint32_t handle, const struct gk_auc_vector *v)
{
	struct softswitchd *s = user;
	gk_core_auc_vector(s->direct.core, handle, v);
}

static void on_ha1(void *user, uint32_t handle, const struct gk_auc_ha1 *h)
{
	struct softswitchd *s = user;
	gk_core_auc_ha1(s->direct.core, handle, h);
}

static void on_auc_failed(void *user, uint32_t handle, enum gk_reason why)
{
	struct softswitchd *s = user;

	if (handle & SS_LOOKUP)
		gk_sip_router_lookup_failed(s->router, handle & ~SS_LOOKUP);
	else
		gk_core_auc_failed(s->direct.core, handle, why);
}

/* The AuC's answer to a routing lookup: the request waiting for it gets 480 or 404. */
static void on_known(void *user, uint32_t handle, bool known)
{
	struct softswitchd *s = user;

	if (handle & SS_LOOKUP)
		gk_sip_router_looked_up(s->router, handle & ~SS_LOOKUP, known);
}

/* ---- routing: its own terminals, and those of its SBCs over the core leg ------------------- */

/* A request over the core leg speaks as the identity its SBC asserts, and an SBC asserts only
 * terminals registered through it: that one is the SBC this softswitch last located it at. */
static enum gk_reason route_sender(void *user, const struct gk_sip_view *v,
                                   const struct sockaddr_storage *from, uint32_t index,
                                   char idc[GK_ID_MAX + 1])
{
	struct softswitchd *s = user;

	if (index != GK_SIP_CORE_LEG)
		return gk_sip_router_terminal_sender(s->router, from, index, idc);
	/* a response: whether it is the one awaited is the router's check */
	return v ? gk_sip_router_peer_sender(v, from, s->where, idc) : GK_R_OK;
}

/* The SBC holding the terminal, else its binding here: an entry at an SBC is newer than any
 * binding here, as a registration here removes it (direct_binding_up). */
static int route_locate(void *user, const char *idc, uint32_t in, struct gk_sip_hop *hop)
{
	struct softswitchd *s = user;
	(void)in;

	if (gk_locations_get(s->where, idc, &hop->addr) == 0) {
		struct ss_peer *peer = ss_peer_find(&s->set.peers, &hop->addr);
		if (peer && peer->have_last)
			hop->addr = peer->last;
		hop->seal = GK_SIP_CORE_LEG;
		return 0;
	}
	return gk_sip_router_terminal_locate(s->router, idc, hop);
}

/* A terminal registered with the softswitch itself is no longer where an SBC had it. */
static void direct_binding_up(void *user, struct gk_binding *b)
{
	struct softswitchd *s = user;
	struct gk_binding_info bi;

	gk_binding_get_info(b, &bi);
	if (s->where)
		gk_locations_remove(s->where, bi.idc);
}

static void direct_binding_down(void *user, struct gk_binding *b)
{
	gk_front_ipsec_down(&((struct softswitchd *)user)->ipsec, b);
}

static int ipsec_up(void *user, const struct gk_binding *b, const struct sockaddr_storage *from,
                    const struct gk_ipsec_end *term, const struct gk_ipsec_end *net,
                    const uint8_t k[GK_KEY_LEN], uint32_t expires_s)
{
	return gk_front_ipsec_up(&((struct softswitchd *)user)->ipsec, b, from, term, net, k,
	                         expires_s);
}

static int ipsec_adopt(void *user, const struct gk_binding *b)
{
	return gk_front_ipsec_adopt(&((struct softswitchd *)user)->ipsec, b);
}

/* Whether a called user without a binding here or at an SBC exists at all: the AuC knows. Asked
 * as this softswitch's element (aucd answers only a provisioned softswitch). */
static int route_lookup(void *user, const char *idc, uint32_t ref)
{
	struct softswitchd *s = user;

	gk_auc_client_lookup(s->auc, SS_LOOKUP | ref, idc, s->set.id);
	return 0;
}

static int route_self(void *user, const struct gk_sip_hop *hop, char *out, size_t cap)
{
	return gk_sip_router_terminal_self(((struct softswitchd *)user)->router, &hop->addr, out,
	                                   cap);
}

/* Its own domain, and each SBC's, which its terminals know as theirs. */
static bool route_serves(void *user, struct sip_span host)
{
	struct softswitchd *s = user;
	const char *ids[SS_MAX_PEERS + 1];
	unsigned n = 0;

	ids[n++] = s->set.id;
	for (unsigned i = 0; i < s->set.peers.n; i++)
		ids[n++] = s->set.peers.p[i].id;
	for (unsigned i = 0; i < n; i++)
		if (host.n == strlen(ids[i]) && strncasecmp(host.p, ids[i], host.n) == 0)
			return true;
	return false;
}

static void route_xmit(void *user, const struct sockaddr_storage *to, const uint8_t *data,
                       size_t len, uint32_t seal)
{
	struct softswitchd *s = user;
	struct ss_peer *peer;

	if (seal != GK_SIP_CORE_LEG) {
		gk_front_io_xmit(&s->io, GK_PROTO_SIP, to, data, len, seal);
		return;
	}
	if ((peer = ss_peer_find(&s->set.peers, to)))
		gk_front_io_xmit_sealed(&s->io, GK_PROTO_SIP, to, data, len, seal_peer, peer);
}

/* A datagram on a terminal-facing socket (SIP, MGCP or H.248), or from an SBC peer (SIP). */
static void on_terminal(void *user, int fd, uint8_t *data, size_t len,
                        const struct sockaddr_storage *from)
{
	struct softswitchd *s = user;
	struct gk_front_sock *sock = gk_front_io_sock(&s->io, fd);
	struct gk_msg m;
	enum gk_reason why;
	uint32_t index;
	long n;

	if (!sock)
		return;
	s->st.rx++;
	/* An SBC's address on the SIP socket: its datagrams count only under the core-leg trailer
	 * (coreleg.h), whoever else could send from that address; the others are dropped and
	 * counted in the peer's leg (stats: sbc_auth_dropped, sbc_auth.*). */
	struct ss_peer *peer =
	    sock->txn || sock->ipsec_port ? NULL : ss_peer_find(&s->set.peers, from);
	if (sock->ipsec_port) {
		/* a protected port of ipsec-3gpp: the kernel's inbound policy let it in under the
		 * SAs of the binding whose flow it came on */
		if (!(index = gk_front_ipsec_input(&s->ipsec, sock, from)))
			return;
		if (gk_sip_router_input(s->router, sock, data, len, from, index))
			return;
	} else if (peer) {
		n = gk_coreleg_open(&peer->leg, gk_coreleg_now(), data, len, &why);
		if (n < 0) {
			gk_debug("core leg: dropped a datagram from SBC %s: %s", peer->id,
			         gk_reason_str(why));
			return;
		}
		len = (size_t)n;
		peer->last = *from;
		peer->have_last = true;
		/* a call's request or response between terminals, asserted by the SBC */
		if (gk_sip_router_input(s->router, sock, data, len, from, GK_SIP_CORE_LEG))
			return;
		index = 0;
	} else {
		n = gk_registrar_open(s->reg, data, len, from, &index, &why);
		if (n < 0)
			return; /* counted by the registrar under its reason */
		if (index)
			len = (size_t)n;
		/* a request between terminals, or a response to one, is routed, not decoded (not a
		 * deregistered terminal's: gk_front_io_input drops them) */
		if (!gk_registrar_lingering(s->reg, index) &&
		    gk_sip_router_input(s->router, sock, data, len, from, index))
			return;
	}
	if (sock->codec->decode(data, len, &m, &why) < 0) {
		s->st.parse_errors++;
		s->st.parse.n[why]++;
		gk_registrar_count(s->reg, why);
		/* the access side is answered as the protocol requires; an SBC's core-leg
		 * request comes from our own encoder, and a refusal would only echo a bug */
		if (!peer)
			gk_front_io_refuse(sock, data, len, &m, why, from, index);
		else
			gk_front_io_count_limit(&s->io, &m, why);
		return;
	}
	if (!peer && gk_front_io_input(sock, &m, from, index) != 1)
		return; /* the transaction layer answered or absorbed it */
	switch (m.type) {
	case GK_MSG_REGISTER:
	case GK_MSG_ANSWER:
	case GK_MSG_DEREGISTER:
	case GK_MSG_OTHER:
		if (peer)
			gk_uplink_core_request(&s->peers, peer->id, &m, from);
		else
			gk_registrar_on_message(s->reg, &m, from, index);
		break;
	default:
		s->st.responses_ignored++;
		break;
	}
}

static void ctl_stats(void *user, const char *args, struct gk_ctl_reply *out)
{
	struct softswitchd *s = user;
	const struct gk_registrar_stats *r = gk_registrar_stats(s->reg);
	const struct gk_core_stats *c = gk_core_stats(s->direct.core);
	const struct gk_auc_client_stats *a = gk_auc_client_stats(s->auc);
	const struct gk_relay_stats *pr = gk_relay_stats(s->peers.relay);
	(void)args;

#define P(name, v) gk_ctl_printf(out, "%s %llu", name, (unsigned long long)(v))
	P("rx_datagrams", s->st.rx);
	P("parse_errors", s->st.parse_errors);
	P("sbc_requests", s->peers.st.requests);
	P("sbc_refused", s->peers.st.refused);
	P("sbc_shed", s->peers.st.shed);     /* of sbc_refused: no slot, answered as overload */
	P("sbc_resent", s->peers.st.resent); /* sent again by the SBC: the first let go */
	P("sbc_dereg_repeats", s->peers.st.dereg_repeats); /* acknowledged again, ended once */
	P("sbc_waiting", pr->waiting);
	P("sbc_expired", pr->expired);
	uint64_t auth_ok = 0, auth_dropped = 0;
	struct gk_reason_counters auth_why = {{0}};
	for (unsigned i = 0; i < s->set.peers.n; i++) {
		const struct gk_coreleg *l = &s->set.peers.p[i].leg;
		auth_ok += l->st.ok;
		auth_dropped += l->st.dropped;
		for (int k = 0; k < GK_R__COUNT; k++)
			auth_why.n[k] += l->st.why.n[k];
	}
	P("sbc_auth_ok", auth_ok);
	P("sbc_auth_dropped", auth_dropped);
	for (int k = 1; k < GK_R__COUNT; k++)
		if (auth_why.n[k])
			gk_ctl_printf(out, "sbc_auth.%s %llu", gk_reason_name((enum gk_reason)k),
			              (unsigned long long)auth_why.n[k]);
	P("wrong_answers", c->wrong_auth);
	P("lockouts", c->lockouts);
	P("sealed_past_lockout", c->sealed_past_lockout);
	P("core_stale_answers", c->stale_answers);
	P("core_copies_joined", c->copies_joined); /* an SBC's copy of an attempt in progress */
	P("core_unbound_ended_already", c->unbound_ended_already);
	uint32_t core_records, core_in_progress;
	gk_core_gauges(s->direct.core, &core_records, &core_in_progress);
	P("core_records", core_records);
	P("core_in_progress", core_in_progress);
	P("auc_requests", a->requests);
	P("auc_retransmits", a->retransmits);
	P("auc_answered_after_retransmit", a->answered_after_retransmit);
	P("auc_timeouts", a->timeouts);
	P("auc_rejects", a->rejects);
	P("auc_bad_responses", a->bad_responses);
	P("auc_lookups", a->lookups);
	P("auc_lookups_unknown", a->lookups_unknown);
	/* vector and HA1 requests refused for want of a RADIUS identifier (OVERLOAD) */
	P("auc_no_identifier", a->no_slot);
	P("accounting_sent", a->acct_sent);
	P("accounting_acked", a->acct_acked);
	P("accounting_retransmits", a->acct_retransmits);
	/* lost = given up + dropped for want of an accounting identifier (+ unencodable) */
	P("accounting_lost", a->acct_lost);
	P("accounting_given_up", a->acct_given_up);
	P("accounting_dropped_no_identifier", a->acct_no_room);
	uint32_t auc_in_flight, accounting_in_flight;
	gk_auc_client_in_flight(s->auc, &auc_in_flight, &accounting_in_flight);
	P("auc_in_flight", auc_in_flight);
	P("accounting_in_flight", accounting_in_flight);
#undef P
	gk_front_io_ctl_stats(&s->io, out);
	gk_front_ipsec_ctl_stats(&s->ipsec, out);
	gk_sip_router_ctl_stats(s->router, out);
	const struct gk_locations_stats *ls = gk_locations_stats(s->where);
	gk_ctl_printf(out, "route.located %u", gk_locations_count(s->where));
	gk_ctl_printf(out, "route.located_full %llu", (unsigned long long)ls->full);
	gk_ctl_printf(out, "route.located_expired %llu", (unsigned long long)ls->expired);
	/* The front and the core each count the reasons they decide on. */
	for (int i = 1; i < GK_R__COUNT; i++)
		if (r->reasons.n[i] + c->reasons.n[i])
			gk_ctl_printf(out, "reason.%s %llu", gk_reason_name((enum gk_reason)i),
			              (unsigned long long)(r->reasons.n[i] + c->reasons.n[i]));
	gk_ctl_tables(out);
}

/* /metrics: the stats lines, then what only metrics show (metrics.h). The front's histogram and
 * terminals are those of the direct topology; behind an SBC they are sbcd's. */
static void metrics_fill(void *user, struct gk_metrics_page *pg)
{
	struct softswitchd *s = user;

	gk_metrics_stats(pg, ctl_stats, s);
	gk_front_io_metrics(&s->io, pg);
	gk_metrics_histogram(pg, "radius_rtt_seconds",
	                     "RADIUS round trip to aucd: the request first sent to the answer used",
	                     &gk_auc_client_stats(s->auc)->rtt);
}

int main(int argc, char **argv)
{
	static struct softswitchd s;
	char err[512];
	struct gk_cfg_key keys[80] = {{0}};

	ss_settings_keys(&s.set, keys, sizeof(keys) / sizeof(keys[0]) - 5);
	gk_daemon_common_keys(keys, sizeof(keys) / sizeof(keys[0]), &s.common, "softswitchd");
	gk_daemon_parse_args(argc, argv, keys, "softswitchd",
	                     "gatekey softswitch: registrar with registration-bound key delivery");
	if (gk_daemon_log_setup(&s.common, "softswitchd") < 0)
		return 2;
	struct gk_registrar_cfg rc;
	struct gk_core_cfg cc;
	struct gk_auc_client_cfg ac;
	if (ss_settings_finish(&s.set, &rc, &cc, &ac, err, sizeof(err)) < 0) {
		fprintf(stderr, "softswitchd: %s\n", err);
		return 2;
	}
	if (gk_crypto_init() < 0) {
		gk_err("OpenSSL algorithms unavailable");
		return 1;
	}
	/* One fresh epoch for every peer's downlink: a second no earlier run can have used. */
	if (s.set.peers.n && ss_peers_start(&s.set.peers, gk_coreleg_fresh_epoch()) < 0) {
		gk_err("core-leg keys: cannot derive");
		return 1;
	}
	s.sip = gk_codec_get(GK_PROTO_SIP);
	s.loop = gk_loop_new(&(struct gk_loop_params){.resident = true}, err, sizeof(err));
	if (!s.loop) {
		gk_err("%s", err);
		return 1;
	}
	s.io.loop = s.loop;
	if (gk_front_io_listen(&s.io, s.sip, s.set.listen, s.set.n_listen, on_terminal, &s, s.fds) <
	        0 ||
	    gk_front_io_listen_bindings(&s.io, &s.set.bindings, on_terminal, &s,
	                                s.fds + s.set.n_listen) < 0)
		return 1;

	static const struct gk_direct_ops dops = {
	    .send_terminal = send_terminal,
	    .binding_up = direct_binding_up,
	    .auc_request = auc_request,
	    .auc_accounting = auc_accounting,
	    .peer_challenge = peer_challenge,
	    .peer_success = peer_success,
	    .peer_reject = peer_reject,
	    .auc_digest = auc_digest,
	    .peer_digest_challenge = peer_digest_challenge,
	    .peer_digest_success = peer_digest_success,
	    .binding_down = direct_binding_down,
	    .ipsec_up = ipsec_up,
	    .ipsec_adopt = ipsec_adopt,
	};
	static const struct gk_auc_client_ops aops = {
	    .vector = on_vector, .failed = on_auc_failed, .ha1 = on_ha1, .known = on_known};
	uint32_t rc_max_terminals = rc.max_terminals, rc_expires_max_s = rc.expires_max_s;
	uint32_t rc_retry_after_s = rc.retry_after_s, rc_retry_jitter_s = rc.retry_jitter_s;
	/* ipsec-3gpp's element before the front, which adopts its bindings' SAs as it takes them
	 * back */
	if (gk_front_ipsec_start(&s.ipsec, &s.io, &s.set.ipsec, &rc, on_terminal, &s, err,
	                         sizeof(err)) < 0) {
		gk_wipe(&rc, sizeof(rc));
		gk_err("%s", err);
		return 1;
	}
	int dret = gk_direct_init(&s.direct, &rc, &cc, &dops, &s, s.loop, err, sizeof(err));
	gk_wipe(&rc, sizeof(rc));
	s.reg = s.direct.front;
	s.io.front = s.reg;
	if (dret < 0) {
		gk_err("%s", err);
		return 1;
	}
	/* The core decides within its AuC timeout; a verdict later than that never comes. */
	if (gk_uplink_core_init(&s.peers, s.direct.core, s.loop, SS_PEER_SLOTS,
	                        cc.auc_timeout_ms + SS_PEER_GRACE_MS, send_peer, &s) < 0) {
		gk_err("out of memory");
		return 1;
	}
	/* The core's overload refusals ask an SBC's terminal for the same wait as this front's. */
	s.peers.retry_after_s = rc_retry_after_s;
	s.peers.retry_jitter_s = rc_retry_jitter_s;
	/* An SBC's terminal is located until the longest registration would have expired. */
	s.where = gk_locations_new(s.loop, rc_max_terminals, rc_expires_max_s + 60);
	if (!s.where) {
		gk_err("out of memory");
		return 1;
	}
	s.peers.where = s.where;
	/* The terminals registered here directly, taken back from where the last run left them. */
	if (gk_bindstore_from_setting(s.set.front.binding_store, "softswitchd", rc_max_terminals,
	                              &s.store, err, sizeof(err)) < 0) {
		gk_err("%s", err);
		return 1;
	}
	if (s.store) {
		unsigned dropped, restored = gk_registrar_attach_store(s.reg, s.store, &dropped);
		if (restored || dropped)
			gk_notice("took back %u registered terminal(s) from %s, dropped %u expired",
			          restored, gk_bindstore_path(s.store), dropped);
	}
	static const struct gk_sip_router_ops rops = {.sender = route_sender,
	                                              .locate = route_locate,
	                                              .self = route_self,
	                                              .serves = route_serves,
	                                              .xmit = route_xmit,
	                                              .lookup = route_lookup};
	struct gk_sip_router_ops ops = rops;
	if (!s.set.route_lookup)
		ops.lookup = NULL; /* route.lookup = no: every user without a binding is 480 */
	struct gk_sip_txn_cfg tc;
	gk_sip_txn_cfg_defaults(&tc);
	tc.max_server = tc.max_client = s.set.front.route_transactions;
	s.router = gk_sip_router_new(s.set.id, &s.io, &tc, &ops, &s, err, sizeof(err));
	if (!s.router) {
		gk_err("SIP routing: %s", err);
		return 1;
	}
	/* As long as the core waits for the AuC: the client gives up first (auc.timeout x
	 * auc.tries) and the request hears 480 from that; this only bounds a lost answer. */
	gk_sip_router_set_lookup_wait(s.router, cc.auc_timeout_ms);
	s.auc = gk_auc_client_new(s.loop, &ac, &aops, &s, err, sizeof(err));
	gk_wipe(&ac, sizeof(ac));
	if (!s.auc) {
		gk_err("%s", err);
		return 1;
	}
	s.ctl = gk_control_new(s.loop, s.common.control_socket, err, sizeof(err));
	if (!s.ctl) {
		gk_err("%s", err);
		return 1;
	}
	gk_control_add(s.ctl, "stats", ctl_stats, &s);
	if (gk_metrics_serve(&s.metrics, s.loop, &s.common.metrics_listen, metrics_fill, &s) < 0)
		return 1;
	gk_control_add(s.ctl, "bindings", gk_front_io_ctl_bindings, &s.io);
	const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1};
	gk_loop_on_signals(s.loop, sigs, 4, gk_front_io_on_signal, &s.io);
	gk_notice("ready: softswitch %s (direct topology%s)", s.set.id,
	          s.set.peers.n ? ", and SBC peers" : "");
	uint32_t terminals, pending;
	gk_registrar_gauges(s.reg, &terminals, &pending);
	gk_notify_ready(s.loop, "softswitch %s, %u SBC peer(s): %u listener(s), %u terminal(s)",
	                s.set.id, s.set.peers.n, s.io.n_sock, terminals);

	int ret = gk_loop_run(s.loop);
	gk_notify_stopping();
	gk_metrics_stop(s.metrics);
	/* first: its timers go before anything else frees its own */
	gk_front_io_close(&s.io);
	/* the relay cancels its timer, which moves others in the loop's heap: before the core
	 * and the front, which free their own without cancelling them */
	gk_uplink_core_fini(&s.peers);
	gk_sip_router_free(s.router); /* cancels its transactions' timers, like the relay */
	gk_locations_free(s.where);
	gk_control_free(s.ctl);
	gk_auc_client_free(s.auc);
	gk_direct_fini(&s.direct);
	gk_front_ipsec_stop(&s.ipsec); /* its SAs stay for the next start to adopt */
	gk_bindstore_close(s.store);
	gk_loop_free(s.loop);
	ss_peers_wipe(&s.set.peers);
	gk_notice("stopped");
	return ret < 0 ? 1 : 0;
}
