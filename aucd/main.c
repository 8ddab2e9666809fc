// SPDX-License-Identifier: GPL-2.0-only
/*
 * aucd: the authentication centre. Answers Access-Requests (s3) with authentication vectors and
 * wrapped session keys (s4), the softswitch's routing lookups (does this subscriber exist?), and
 * records accounting (s11) of where terminals registered from.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gatekey/auc/auc_proto.h"
#include "gatekey/runtime/control.h"
#include "gatekey/runtime/daemon.h"
#include "gatekey/auc/keystore.h"
#include "gatekey/runtime/log.h"
#include "gatekey/runtime/loop.h"
#include "gatekey/runtime/metrics.h"
#include "gatekey/runtime/notify.h"
#include "gatekey/auc/rad_dedup.h"
#include "gatekey/auc/radius.h"
#include "vector.h"

struct aucd {
	struct gk_daemon_common common;
	struct sockaddr_storage listen_auth, listen_acct;
	char db[GK_CFG_STR_MAX], kek[GK_CFG_STR_MAX];
	uint32_t vendor;
	struct gk_radius_peers clients;
	uint32_t dedup_slots, dedup_ms;

	struct gk_loop *loop;
	struct gk_keystore *ks;
	struct gk_control *ctl;
	struct gk_metrics *metrics;
	struct gk_rad_dedup *dedup;
	int fd_auth, fd_acct;
	bool snapshot; /* a key store read snapshot is open for this batch */

	struct {
		uint64_t access_requests, accepts, digest_accepts, rejects, unknown_idc;
		uint64_t lookups, lookups_unknown; /* routing lookups, and those answered Reject */
		uint64_t acct_start, acct_stop, sessions;
		struct gk_reason_counters drops;
	} st;
};

static void drop(struct aucd *a, enum gk_reason why, const struct sockaddr_storage *from)
{
	char addr[64];
	a->st.drops.n[why]++;
	gk_format_addr(from, addr, sizeof(addr));
	gk_debug("dropped datagram from %s: %s", addr, gk_reason_str(why));
}

static const struct gk_radius_peer *accept_request(struct aucd *a, int fd, const uint8_t *data,
                                                   size_t len, const struct sockaddr_storage *from,
                                                   struct gk_rad_pkt *p)
{
	const struct gk_radius_peer *peer = gk_radius_peer_find(&a->clients, from);
	enum gk_reason why;

	if (!peer) {
		drop(a, GK_R_UNKNOWN_CLIENT, from);
		return NULL;
	}
	if (gk_rad_decode(data, len, p, &why) < 0 ||
	    gk_rad_verify_request(p, peer->secret, peer->secret_len, &why) < 0) {
		drop(a, why, from);
		return NULL;
	}
	size_t len_seen;
	const uint8_t *seen = gk_rad_dedup_find(a->dedup, from, p, gk_loop_now(a->loop), &len_seen);
	if (seen) {
		/* A retransmission: the client missed our answer. Processing it again would hand
		 * out a second vector or count a second Start. */
		gk_loop_sendto(a->loop, fd, seen, len_seen, from);
		return NULL;
	}
	return peer;
}

/* Sends the answer to p and remembers it for p's retransmissions. */
static void answer(struct aucd *a, int fd, const struct gk_rad_pkt *p, uint8_t *out, size_t n,
                   const struct sockaddr_storage *from)
{
	gk_rad_dedup_put(a->dedup, from, p, out, n, gk_loop_now(a->loop));
	gk_loop_send(a->loop, fd, out, n, from);
}

/* A routing lookup (auc_proto.h): Accept when idc is provisioned, Reject when not; nothing secret
 * either way, and no key decrypted. A lookup aucd cannot answer truthfully (an element that is
 * not a provisioned softswitch, a key store failure) gets no answer at all: a Reject would tell
 * the softswitch that the subscriber does not exist, and its caller 404. */
static void on_lookup(struct aucd *a, int fd, const struct gk_radius_peer *peer,
                      const struct gk_rad_pkt *p, const char *idc, const char *idsp,
                      const struct sockaddr_storage *from)
{
	bool known;
	int n;

	a->st.lookups++;
	if (!a->snapshot && gk_ks_read_begin(a->ks) == 0)
		a->snapshot = true;
	int ret = auc_lookup(a->ks, idc, idsp, &known);
	if (ret < 0) {
		bool element = ret == -ENOENT || ret == -EPERM;
		if (element)
			gk_notice(
			    "lookup of %s unanswered: element %s is not a provisioned softswitch",
			    idc, idsp);
		else
			gk_err("key store lookup for %s failed: %s", idc, gk_ks_errmsg(a->ks));
		drop(a, element ? GK_R_UNKNOWN_ELEMENT : GK_R_INTERNAL, from);
		return;
	}
	uint8_t *out = gk_loop_send_buf(a->loop);
	if (!out) {
		drop(a, GK_R_OVERLOAD, from);
		return;
	}
	if (known) {
		n = gk_auc_encode_lookup_accept(out, GK_LOOP_DGRAM_MAX, p, idc, peer->secret,
		                                peer->secret_len);
	} else {
		a->st.lookups_unknown++;
		n = gk_auc_encode_reject(out, GK_LOOP_DGRAM_MAX, p, peer->secret, peer->secret_len);
	}
	if (n < 0) {
		gk_loop_send_abort(a->loop, out);
		drop(a, GK_R_INTERNAL, from);
		return;
	}
	answer(a, fd, p, out, (size_t)n, from);
}

static void on_auth(void *user, int fd, uint8_t *data, size_t len,
                    const struct sockaddr_storage *from)
{
	struct aucd *a = user;
	struct gk_rad_pkt p;
	struct gk_auc_vector v;
	char idc[GK_ID_MAX + 1], idsp[GK_ID_MAX + 1];
	enum gk_reason why;
	bool known = false;
	int n;

	const struct gk_radius_peer *peer = accept_request(a, fd, data, len, from, &p);
	if (!peer)
		return;
	if (p.code != GK_RAD_ACCESS_REQUEST) {
		drop(a, GK_R_PARSE_UNSUPPORTED, from);
		return;
	}
	if (gk_auc_decode_auth_request(&p, a->vendor, idc, idsp, &why) < 0) {
		drop(a, why, from);
		return;
	}
	char realm[GK_ID_MAX + 1];
	int digest = gk_auc_decode_digest_realm(&p, a->vendor, realm, &why);
	if (digest < 0) {
		drop(a, why, from);
		return;
	}
	int lookup = gk_auc_decode_lookup(&p, &why);
	if (lookup < 0 || (lookup && digest)) {
		drop(a, lookup < 0 ? why : GK_R_PARSE_UNSUPPORTED, from);
		return;
	}
	if (lookup) {
		on_lookup(a, fd, peer, &p, idc, idsp, from);
		return;
	}
	a->st.access_requests++;
	uint8_t *out = gk_loop_send_buf(a->loop);
	if (!out) {
		drop(a, GK_R_OVERLOAD, from);
		return;
	}
	if (!a->snapshot && gk_ks_read_begin(a->ks) == 0)
		a->snapshot = true;
	struct gk_auc_ha1 h;
	int ret = digest ? auc_make_ha1(a->ks, idc, idsp, realm, &h, &known)
	                 : auc_make_vector(a->ks, idc, idsp, &v, &known);
	if (ret == 0) {
		if (digest)
			n = gk_auc_encode_ha1_accept(out, GK_LOOP_DGRAM_MAX, &p, a->vendor, &h,
			                             peer->secret, peer->secret_len);
		else
			n = gk_auc_encode_accept(out, GK_LOOP_DGRAM_MAX, &p, a->vendor, &v,
			                         peer->secret, peer->secret_len);
		a->st.accepts++;
		if (digest)
			a->st.digest_accepts++;
		if (!known)
			a->st.unknown_idc++;
	} else {
		if (ret == -ENOENT)
			gk_notice("refused %s for %s: element %s is not provisioned",
			          digest ? "HA1" : "vector", idc, idsp);
		else
			gk_err("key store lookup for %s failed: %s", idc, gk_ks_errmsg(a->ks));
		a->st.drops.n[ret == -ENOENT ? GK_R_UNKNOWN_ELEMENT : GK_R_INTERNAL]++;
		n = gk_auc_encode_reject(out, GK_LOOP_DGRAM_MAX, &p, peer->secret,
		                         peer->secret_len);
		a->st.rejects++;
	}
	gk_wipe(&v, sizeof(v));
	gk_wipe(&h, sizeof(h));
	if (n < 0) {
		gk_loop_send_abort(a->loop, out);
		drop(a, GK_R_INTERNAL, from);
		return;
	}
	answer(a, fd, &p, out, (size_t)n, from);
}

static void end_snapshot(void *user)
{
	struct aucd *a = user;
	if (a->snapshot) {
		gk_ks_commit(a->ks);
		a->snapshot = false;
	}
}

static void on_acct(void *user, int fd, uint8_t *data, size_t len,
                    const struct sockaddr_storage *from)
{
	struct aucd *a = user;
	struct gk_rad_pkt p;
	struct gk_auc_acct acct;
	enum gk_reason why;

	const struct gk_radius_peer *peer = accept_request(a, fd, data, len, from, &p);
	if (!peer)
		return;
	if (p.code != GK_RAD_ACCOUNTING_REQUEST ||
	    gk_auc_decode_acct_request(&p, a->vendor, &acct, &why) < 0) {
		drop(a, p.code != GK_RAD_ACCOUNTING_REQUEST ? GK_R_PARSE_UNSUPPORTED : why, from);
		return;
	}
	if (acct.status == GK_RAD_ACCT_START) {
		a->st.acct_start++;
		a->st.sessions++;
	} else if (acct.status == GK_RAD_ACCT_STOP) {
		a->st.acct_stop++;
		if (a->st.sessions)
			a->st.sessions--;
	}
	gk_debug("accounting %s %s via %s from %s",
	         acct.status == GK_RAD_ACCT_START ? "start" : "stop", acct.idc, acct.idsp,
	         acct.address);
	uint8_t *out = gk_loop_send_buf(a->loop);
	if (!out)
		return;
	int n =
	    gk_auc_encode_acct_response(out, GK_LOOP_DGRAM_MAX, &p, peer->secret, peer->secret_len);
	if (n < 0) {
		gk_loop_send_abort(a->loop, out);
		return;
	}
	answer(a, fd, &p, out, (size_t)n, from);
}

static void ctl_stats(void *user, const char *args, struct gk_ctl_reply *out)
{
	struct aucd *a = user;
	const struct gk_loop_stats *ls = gk_loop_stats(a->loop);
	(void)args;
	gk_ctl_printf(out, "access_requests %llu", (unsigned long long)a->st.access_requests);
	gk_ctl_printf(out, "access_accepts %llu", (unsigned long long)a->st.accepts);
	gk_ctl_printf(out, "digest_accepts %llu", (unsigned long long)a->st.digest_accepts);
	gk_ctl_printf(out, "access_rejects %llu", (unsigned long long)a->st.rejects);
	gk_ctl_printf(out, "unknown_idc_vectors %llu", (unsigned long long)a->st.unknown_idc);
	gk_ctl_printf(out, "lookups %llu", (unsigned long long)a->st.lookups);
	gk_ctl_printf(out, "lookups_unknown %llu", (unsigned long long)a->st.lookups_unknown);
	gk_ctl_printf(out, "accounting_start %llu", (unsigned long long)a->st.acct_start);
	gk_ctl_printf(out, "accounting_stop %llu", (unsigned long long)a->st.acct_stop);
	gk_ctl_printf(out, "sessions %llu", (unsigned long long)a->st.sessions);
	const struct gk_rad_dedup_stats *ds = gk_rad_dedup_stats(a->dedup);
	gk_ctl_printf(out, "duplicates_answered %llu", (unsigned long long)ds->duplicates);
	gk_ctl_printf(out, "duplicate_cache_grown %llu", (unsigned long long)ds->grown);
	gk_ctl_printf(out, "rx_datagrams %llu", (unsigned long long)ls->rx_dgrams);
	gk_ctl_printf(out, "tx_datagrams %llu", (unsigned long long)ls->tx_dgrams);
	for (int r = 1; r < GK_R__COUNT; r++)
		if (a->st.drops.n[r])
			gk_ctl_printf(out, "drop.%s %llu", gk_reason_name((enum gk_reason)r),
			              (unsigned long long)a->st.drops.n[r]);
	gk_ctl_tables(out);
}

/* /metrics: the stats lines (metrics.h) */
static void metrics_fill(void *user, struct gk_metrics_page *pg)
{
	gk_metrics_stats(pg, ctl_stats, user);
}

static void on_signal(void *user, int signo)
{
	struct aucd *a = user;
	if (signo == SIGTERM || signo == SIGINT) {
		gk_notice("signal %d: stopping", signo);
		gk_loop_stop(a->loop);
	} else if (signo == SIGUSR1) {
		gk_notice("access requests %llu, accepts %llu, rejects %llu, sessions %llu",
		          (unsigned long long)a->st.access_requests,
		          (unsigned long long)a->st.accepts, (unsigned long long)a->st.rejects,
		          (unsigned long long)a->st.sessions);
	} else if (signo == SIGHUP) {
		/* Subscribers and elements are read from the store on every request, so gkctl
		 * changes apply at once; there is nothing else to reload. */
		gk_notice("SIGHUP: the key store is read live; nothing to reload");
	}
}

static int open_socket(const struct sockaddr_storage *addr, const char *what)
{
	char s[64];
	int fd = gk_udp_socket(addr);
	gk_format_addr(addr, s, sizeof(s));
	if (fd < 0)
		gk_err("cannot listen for %s on %s: %s", what, s, strerror(-fd));
	else
		gk_info("listening for %s on %s", what, s);
	return fd;
}

int main(int argc, char **argv)
{
	static struct aucd a;
	char err[512];
	struct gk_cfg_key keys[16] = {
	    GK_CFG_KEY("auc.listen", GK_CFG_ADDR, &a.listen_auth, "RADIUS authentication address"),
	    GK_CFG_KEY("auc.accounting_listen", GK_CFG_ADDR, &a.listen_acct,
	               "RADIUS accounting address"),
	    GK_CFG_KEY("auc.vendor", GK_CFG_U32, &a.vendor,
	               "IANA PEN of the vendor-specific attributes"),
	    GK_CFG_KEY("keystore.db", GK_CFG_STR, a.db, "SQLite key store"),
	    GK_CFG_KEY("keystore.kek", GK_CFG_STR, a.kek, "key-encryption key file (0600)"),
	    {.name = "radius.client",
	     .kind = GK_CFG_STR,
	     .help = "\"<ip>[/prefix] <secret>\": a softswitch allowed to ask (repeatable)",
	     .multi = true,
	     .on_multi = gk_radius_peer_add,
	     .multi_arg = &a.clients},
	    GK_CFG_KEY("auc.duplicate_cache", GK_CFG_U32, &a.dedup_slots,
	               "answers remembered for retransmitted requests"),
	    GK_CFG_KEY("auc.duplicate_ms", GK_CFG_U32, &a.dedup_ms,
	               "how long a retransmission gets the same answer, in milliseconds"),
	};

	a.vendor = GK_PEN_DEFAULT;
	a.dedup_slots = 65536;
	a.dedup_ms = 5000;
	gk_parse_addr("0.0.0.0:1812", &a.listen_auth, err, sizeof(err));
	gk_parse_addr("0.0.0.0:1813", &a.listen_acct, err, sizeof(err));
	snprintf(a.db, sizeof(a.db), "/var/lib/gatekey/keys.db");
	snprintf(a.kek, sizeof(a.kek), "/etc/gatekey/kek");
	gk_daemon_common_keys(keys, sizeof(keys) / sizeof(keys[0]), &a.common, "aucd");
	gk_daemon_parse_args(argc, argv, keys, "aucd",
	                     "gatekey authentication centre: vectors and session keys over RADIUS");
	if (gk_daemon_log_setup(&a.common, "aucd") < 0)
		return 2;
	if (a.clients.n == 0) {
		fprintf(stderr,
		        "aucd: no radius.client configured: nobody could ask for vectors\n");
		return 2;
	}
	if (gk_crypto_init() < 0) {
		gk_err("OpenSSL algorithms unavailable");
		return 1;
	}
	if (gk_ks_open(&a.ks, a.db, a.kek, err, sizeof(err)) < 0) {
		gk_err("key store: %s", err);
		return 1;
	}
	if (gk_ks_migration_describe(a.ks, err, sizeof(err))) {
		if (gk_ks_migration(a.ks)->unreadable)
			gk_warn("key store %s: %s", a.db, err);
		else
			gk_notice("key store %s: %s", a.db, err);
	}
	a.dedup = gk_rad_dedup_new(a.dedup_slots ? a.dedup_slots : 1, a.dedup_ms);
	if (!a.dedup) {
		gk_err("no memory for %u remembered answers", a.dedup_slots);
		return 1;
	}
	a.loop = gk_loop_new(&(struct gk_loop_params){.resident = true}, err, sizeof(err));
	if (!a.loop) {
		gk_err("%s", err);
		return 1;
	}
	a.fd_auth = open_socket(&a.listen_auth, "authentication");
	a.fd_acct = open_socket(&a.listen_acct, "accounting");
	if (a.fd_auth < 0 || a.fd_acct < 0)
		return 1;
	gk_loop_add_udp(a.loop, a.fd_auth, on_auth, &a);
	gk_loop_add_udp(a.loop, a.fd_acct, on_acct, &a);
	gk_loop_on_batch_end(a.loop, end_snapshot, &a);
	a.ctl = gk_control_new(a.loop, a.common.control_socket, err, sizeof(err));
	if (!a.ctl) {
		gk_err("%s", err);
		return 1;
	}
	gk_control_add(a.ctl, "stats", ctl_stats, &a);
	if (gk_metrics_serve(&a.metrics, a.loop, &a.common.metrics_listen, metrics_fill, &a) < 0)
		return 1;
	const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1};
	gk_loop_on_signals(a.loop, sigs, 4, on_signal, &a);
	gk_notice("ready: %u RADIUS client(s), vendor %u", a.clients.n, a.vendor);
	char auth[64], acct[64];
	gk_format_addr(&a.listen_auth, auth, sizeof(auth));
	gk_format_addr(&a.listen_acct, acct, sizeof(acct));
	gk_notify_ready(a.loop, "AuC: RADIUS on %s, accounting on %s, %u client(s)", auth, acct,
	                a.clients.n);

	int ret = gk_loop_run(a.loop);
	gk_notify_stopping();
	gk_metrics_stop(a.metrics);
	gk_control_free(a.ctl);
	gk_loop_free(a.loop);
	gk_ks_close(a.ks);
	gk_rad_dedup_free(a.dedup);
	gk_radius_peers_wipe(&a.clients);
	close(a.fd_auth);
	close(a.fd_acct);
	gk_notice("stopped");
	return ret < 0 ? 1 : 0;
}
