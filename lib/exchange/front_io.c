// SPDX-License-Identifier: GPL-2.0-only
/*
 * The sockets and sending of a front (front_io.h). SIP is encoded and sent here; MGCP and H.248
 * go through their transaction layer instead, which owns retransmission and duplicate replies.
 * A datagram meant for a binding's key is sealed with it or not sent at all, and one under a
 * caller's seal (the core leg's) goes out on SIP sockets only, so it never leaves unsealed.
 */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gatekey/runtime/config.h"
#include "gatekey/exchange/front_io.h"
#include "gatekey/runtime/log.h"
#include "gatekey/runtime/metrics.h"

/* The socket of proto for to's family that is protected server port ipsec_port (0: an ordinary
 * one). */
static struct gk_front_sock *sock_of(struct gk_front_io *io, uint8_t proto, sa_family_t family,
                                     uint16_t ipsec_port)
{
	for (unsigned i = 0; i < io->n_sock; i++)
		if (io->sock[i].codec->proto == proto && io->sock[i].addr.ss_family == family &&
		    io->sock[i].ipsec_port == ipsec_port)
			return &io->sock[i];
	return NULL;
}

/* Where a datagram to `to` leaves from: the protected server port of the ipsec-3gpp binding whose
 * protected client address it is (its outbound policy then puts it under ESP), the ordinary
 * socket otherwise. */
static struct gk_front_sock *sock_for(struct gk_front_io *io, uint8_t proto,
                                      const struct sockaddr_storage *to)
{
	return sock_of(io, proto, to->ss_family, gk_registrar_ipsec_port(io->front, to));
}

struct gk_front_sock *gk_front_io_sock(struct gk_front_io *io, int fd)
{
	for (unsigned i = 0; i < io->n_sock; i++)
		if (io->sock[i].fd == fd)
			return &io->sock[i];
	return NULL;
}

static void xmit_on(struct gk_front_sock *s, const struct sockaddr_storage *to, const uint8_t *data,
                    size_t len, uint32_t seal);

/* The transaction layer puts a command or response on the wire; seal: the gk-mac binding index
 * to seal it for, again on every retransmission, while that binding is still up. */
static void cmd_xmit(void *user, const struct sockaddr_storage *to, const uint8_t *data, size_t len,
                     uint32_t seal)
{
	xmit_on(user, to, data, len, seal);
}

/* The transaction layer refuses a command for want of a slot: the registrar's overload refusal,
 * counted as its own. */
static uint32_t cmd_shed(void *user)
{
	struct gk_front_sock *s = user;
	return gk_registrar_shed(s->io->front);
}

void gk_front_io_xmit(struct gk_front_io *io, uint8_t proto, const struct sockaddr_storage *to,
                      const uint8_t *data, size_t len, uint32_t seal)
{
	struct gk_front_sock *s = sock_for(io, proto, to);
	if (s)
		xmit_on(s, to, data, len, seal);
}

struct binding_seal {
	struct gk_registrar *front;
	struct gk_binding *b;
};

static int seal_binding(void *arg, uint8_t *buf, size_t len, size_t cap)
{
	struct binding_seal *bs = arg;
	return gk_registrar_seal(bs->front, bs->b, buf, len, cap);
}

/* Sends data to `to` on socket s, under the trailer seal() appends when there is one. */
static void xmit_sealed_on(struct gk_front_sock *s, const struct sockaddr_storage *to,
                           const uint8_t *data, size_t len, gk_front_io_seal_fn seal, void *arg)
{
	struct gk_front_io *io = s->io;
	uint8_t *buf;
	int n = (int)len;

	if (len > GK_LOOP_DGRAM_MAX - GK_TRAILER_LEN || !(buf = gk_loop_send_buf(io->loop)))
		return;
	memcpy(buf, data, len);
	if (seal)
		n = seal(arg, buf, len, GK_LOOP_DGRAM_MAX);
	if (n <= 0) {
		gk_loop_send_abort(io->loop, buf);
		return;
	}
	gk_loop_send(io->loop, s->fd, buf, (size_t)n, to);
}

static void xmit_on(struct gk_front_sock *s, const struct sockaddr_storage *to, const uint8_t *data,
                    size_t len, uint32_t seal)
{
	struct binding_seal bs = {.front = s->io->front};

	/* What was to go under a binding's key goes nowhere once the binding is gone: never
	 * in the clear to an address the binding no longer holds. */
	if (seal && !(bs.b = gk_registrar_gkmac_sealer(s->io->front, seal, to)))
		return;
	xmit_sealed_on(s, to, data, len, bs.b ? seal_binding : NULL, &bs);
}

void gk_front_io_xmit_sealed(struct gk_front_io *io, uint8_t proto,
                             const struct sockaddr_storage *to, const uint8_t *data, size_t len,
                             gk_front_io_seal_fn seal, void *seal_arg)
{
	struct gk_front_sock *s = sock_for(io, proto, to);
	if (s)
		xmit_sealed_on(s, to, data, len, seal, seal_arg);
}

/* H.248: this element's mId is the address it listens on ("[198.18.0.1]:2944"); a wildcard
 * address leaves the codec's own. */
static void mid_of(const struct sockaddr_storage *a, char *out, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];
	uint16_t port;
	const void *raw;

	out[0] = '\0';
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)a;
		if (IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr))
			return;
		raw = &s6->sin6_addr;
		port = ntohs(s6->sin6_port);
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)a;
		if (s4->sin_addr.s_addr == htonl(INADDR_ANY))
			return;
		raw = &s4->sin_addr;
		port = ntohs(s4->sin_port);
	}
	if (inet_ntop(a->ss_family, raw, ip, sizeof(ip)))
		snprintf(out, cap, "[%s]:%u", ip, port);
}

static int listen_on(struct gk_front_io *io, const struct gk_codec *codec,
                     const struct sockaddr_storage *addrs, unsigned n, uint16_t ipsec_port,
                     gk_dgram_fn fn, void *user, int *fds)
{
	static const struct gk_cmd_txn_ops ops = {.xmit = cmd_xmit, .shed = cmd_shed};
	bool cmd = codec->proto == GK_PROTO_MGCP || codec->proto == GK_PROTO_H248;

	for (unsigned i = 0; i < n; i++) {
		char a[64], err[256];
		struct sockaddr_storage at = addrs[i];
		if (ipsec_port)
			gk_sockaddr_set_port(&at, ipsec_port);
		gk_format_addr(&at, a, sizeof(a));
		if (io->n_sock == GK_FRONT_SOCKS) {
			gk_err("too many terminal-facing sockets (at most %d)", GK_FRONT_SOCKS);
			return -1;
		}
		if ((cmd || ipsec_port) &&
		    sock_of(io, (uint8_t)codec->proto, at.ss_family, ipsec_port)) {
			gk_err("%s listens once per address family%s: %s is one too many",
			       codec->name, ipsec_port ? " on its protected port" : "", a);
			return -1;
		}
		int fd = gk_udp_socket(&at);
		if (fd < 0) {
			gk_err("cannot listen for terminals on %s: %s", a, strerror(-fd));
			return -1;
		}
		struct gk_front_sock *s = &io->sock[io->n_sock];
		memset(s, 0, sizeof(*s));
		s->fd = fd;
		s->addr = at;
		s->codec = codec;
		s->io = io;
		s->ipsec_port = ipsec_port;
		if (cmd) {
			struct gk_cmd_txn_cfg tc;
			gk_cmd_txn_cfg_defaults(&tc);
			tc.defer = true;
			if (io->transactions)
				tc.max_in = io->transactions;
			if (io->in_flight)
				tc.max_out = io->in_flight;
			if (codec->proto == GK_PROTO_H248)
				mid_of(&at, tc.local_mid, sizeof(tc.local_mid));
			/* the stats name each socket's tables: mgcp_history, mgcp1_history, and for
			 * the protected ports' (one socket per call) mgcp_ipsec_history and, for
			 * IPv6, mgcp_ipsec6_history */
			if (ipsec_port)
				snprintf(tc.label, sizeof(tc.label), "%s_ipsec%s", codec->name,
				         at.ss_family == AF_INET6 ? "6" : "");
			else if (i)
				snprintf(tc.label, sizeof(tc.label), "%s%u", codec->name, i);
			s->txn = gk_cmd_txn_new(codec, &tc, &ops, s, io->loop, err, sizeof(err));
			if (!s->txn) {
				gk_err("%s on %s: %s", codec->name, a, err);
				close(fd);
				return -1;
			}
		}
		io->n_sock++;
		fds[i] = fd;
		gk_loop_add_udp(io->loop, fd, fn, user);
		gk_info("listening for terminals on %s (%s%s)", a, codec->name,
		        ipsec_port ? ", ipsec-3gpp protected" : "");
	}
	return 0;
}

int gk_front_io_listen(struct gk_front_io *io, const struct gk_codec *codec,
                       const struct sockaddr_storage *addrs, unsigned n, gk_dgram_fn fn, void *user,
                       int *fds)
{
	return listen_on(io, codec, addrs, n, 0, fn, user, fds);
}

int gk_front_io_listen_protected(struct gk_front_io *io, const struct gk_codec *codec,
                                 const struct sockaddr_storage *addrs, unsigned n, uint16_t port,
                                 gk_dgram_fn fn, void *user, int *fds)
{
	if (!port)
		return -1;
	return listen_on(io, codec, addrs, n, port, fn, user, fds);
}

uint32_t gk_front_io_ipsec_sender(const struct gk_front_sock *s,
                                  const struct sockaddr_storage *from)
{
	return s->ipsec_port ? gk_registrar_ipsec_sender(s->io->front, from, s->ipsec_port) : 0;
}

int gk_front_io_listen_bindings(struct gk_front_io *io, const struct gk_front_listeners *l,
                                gk_dgram_fn fn, void *user, int *fds)
{
	static const enum gk_proto protos[3] = {GK_PROTO_MGCP, GK_PROTO_H248, GK_PROTO_H323};
	int opened = 0;

	io->transactions = l->transactions;
	io->in_flight = l->in_flight;
	io->refusals_per_s = l->refusals_per_s;
	for (int i = 0; i < 3; i++) {
		const struct gk_front_listen *p = &l->proto[i];
		if (gk_front_io_listen(io, gk_codec_get(protos[i]), p->addr, p->n, fn, user,
		                       fds + opened) < 0)
			return -1;
		opened += (int)p->n;
	}
	return opened;
}

/* Takes one refusal from the bucket: refusals_per_s tokens a second, as many in a burst. */
static bool refusal_token(struct gk_front_io *io)
{
	uint64_t now = gk_loop_now(io->loop), cap = (uint64_t)io->refusals_per_s * 1000;

	if (!io->refusals_per_s)
		return false;
	if (now > io->refusal_last_ms || !io->refusal_last_ms) {
		uint64_t add =
		    io->refusal_last_ms ? (now - io->refusal_last_ms) * io->refusals_per_s : cap;
		io->refusal_tokens_milli =
		    io->refusal_tokens_milli + add > cap ? cap : io->refusal_tokens_milli + add;
		io->refusal_last_ms = now;
	}
	if (io->refusal_tokens_milli < 1000)
		return false;
	io->refusal_tokens_milli -= 1000;
	return true;
}

void gk_front_io_count_limit(struct gk_front_io *io, const struct gk_msg *m, enum gk_reason why)
{
	if (why == GK_R_PARSE_TOO_LONG && m->limit < GK_LIMIT__COUNT)
		io->refusals.limits[m->limit]++;
}

void gk_front_io_refuse(struct gk_front_sock *s, const uint8_t *data, size_t len,
                        const struct gk_msg *m, enum gk_reason why,
                        const struct sockaddr_storage *from, uint32_t index)
{
	struct gk_front_io *io = s->io;
	uint8_t *buf;

	gk_front_io_count_limit(io, m, why);
	if (!s->codec->refuse || s->txn) {
		io->refusals.unanswered++; /* MGCP, H.248, RAS: their own layers answer or drop */
		return;
	}
	if (!refusal_token(io)) {
		io->refusals.limited++; /* counted whether or not it would have been answered */
		return;
	}
	if (!(buf = gk_loop_send_buf(io->loop)))
		return;
	int n = s->codec->refuse(data, len, m, why, from, buf, GK_LOOP_DGRAM_MAX - GK_TRAILER_LEN);
	if (n <= 0) {
		io->refusals.unanswered++;
		gk_loop_send_abort(io->loop, buf);
		return;
	}
	if (index && !s->ipsec_port) {
		struct gk_binding *b = gk_registrar_gkmac_binding(io->front, index, from);
		n = b ? gk_registrar_seal(io->front, b, buf, (size_t)n, GK_LOOP_DGRAM_MAX) : -1;
		if (n <= 0) {
			io->refusals.unanswered++;
			gk_loop_send_abort(io->loop, buf);
			return;
		}
	}
	io->refusals.sent++;
	gk_loop_send(io->loop, s->fd, buf, (size_t)n, from);
}

int gk_front_io_input(struct gk_front_sock *s, struct gk_msg *m,
                      const struct sockaddr_storage *from, uint32_t index)
{
	/* A deregistered terminal's binding lingers for the repeat of its deregistration only. */
	if (index && m->type != GK_MSG_DEREGISTER && gk_registrar_lingering(s->io->front, index)) {
		gk_registrar_count(s->io->front, GK_R_NOT_REGISTERED);
		return 0;
	}
	if (s->codec->received && (m->type == GK_MSG_REGISTER || m->type == GK_MSG_ANSWER ||
	                           m->type == GK_MSG_DEREGISTER || m->type == GK_MSG_OTHER))
		s->codec->received(m, from);
	if (!s->txn)
		return 1;
	/* A bare request of a terminal whose binding requires gk-mac is the registrar's to refuse;
	 * the transaction layer must not answer it, not even as a duplicate of a sealed one. */
	if (!index && (m->type == GK_MSG_OTHER || m->type == GK_MSG_DEREGISTER) &&
	    gk_registrar_is_registered_addr(s->io->front, from) &&
	    !gk_registrar_other_allowed(s->io->front, from))
		return 1;
	/* what answers a protected command leaves from s under the SAs: no trailer to add */
	return gk_cmd_txn_input(s->txn, m, from, s->ipsec_port ? 0 : index);
}

static void send_msg(struct gk_front_io *io, struct gk_msg *m, const struct sockaddr_storage *to,
                     struct gk_binding *b, gk_front_io_seal_fn seal, void *seal_arg)
{
	struct gk_front_sock *s = sock_for(io, m->proto, to);
	uint8_t *buf;
	int n;

	if (!s || (s->txn && seal))
		return; /* the core leg is SIP only: never send it unsealed */
	if (s->txn) {
		uint32_t index = 0;
		if (b) {
			struct gk_binding_info bi;
			gk_binding_get_info(b, &bi);
			index = bi.index;
		}
		if (gk_cmd_txn_output(s->txn, m, to, index, 0) < 0)
			gk_warn("cannot send %s for %s (%s)", gk_msg_type_name(m->type), m->idc,
			        s->codec->name);
		return;
	}
	if (!(buf = gk_loop_send_buf(io->loop)))
		return;
	s->codec->response_init(m);
	n = s->codec->encode(m, buf, GK_LOOP_DGRAM_MAX - GK_TRAILER_LEN);
	if (n > 0 && b)
		n = gk_registrar_seal(io->front, b, buf, (size_t)n, GK_LOOP_DGRAM_MAX);
	else if (n > 0 && seal)
		n = seal(seal_arg, buf, (size_t)n, GK_LOOP_DGRAM_MAX);
	if (n <= 0) {
		gk_warn("cannot encode %s for %s", gk_msg_type_name(m->type), m->idc);
		gk_loop_send_abort(io->loop, buf);
		return;
	}
	gk_loop_send(io->loop, s->fd, buf, (size_t)n, to);
}

void gk_front_io_send(void *user, const struct gk_msg *m, const struct sockaddr_storage *to,
                      struct gk_binding *b)
{
	struct gk_msg copy;
	gk_msg_copy(&copy, m); /* only the wire context in use: a SIP one is 8 KiB of room */
	send_msg(user, &copy, to, b, NULL, NULL);
}

void gk_front_io_send_sealed(struct gk_front_io *io, struct gk_msg *m,
                             const struct sockaddr_storage *to, gk_front_io_seal_fn seal,
                             void *seal_arg)
{
	send_msg(io, m, to, NULL, seal, seal_arg);
}

/* One line of the bindings listing: the page after `after` (gk_ctl_list), by binding index. */
static bool list_next(void *user, uint64_t after, uint64_t *pos, struct gk_ctl_reply *out)
{
	struct gk_front_io *io = user;
	struct gk_binding_info bi;
	char addr[64];

	if (after >= UINT32_MAX || !gk_registrar_next(io->front, (uint32_t)after, &bi))
		return false;
	gk_format_addr(&bi.addr, addr, sizeof(addr));
	long long left = (long long)(bi.expires_at_ms - gk_loop_now(io->loop)) / 1000;
	gk_ctl_printf(out, "%s index=%u addr=%s mech=%s expires_in=%lld fpr=%s rx=%llu tx=%llu",
	              bi.idc, bi.index, addr, gk_mech_name(bi.mech), left, bi.fpr,
	              (unsigned long long)bi.rx_ok, (unsigned long long)bi.tx);
	*pos = bi.index;
	return true;
}

void gk_front_io_ctl_bindings(void *user, const char *args, struct gk_ctl_reply *out)
{
	gk_ctl_list(out, args, list_next, user);
}

void gk_front_io_ctl_stats(struct gk_front_io *io, struct gk_ctl_reply *out)
{
	const struct gk_registrar_stats *r = gk_registrar_stats(io->front);
	const struct gk_loop_stats *l = gk_loop_stats(io->loop);
	uint32_t records, in_progress;

	gk_registrar_gauges(io->front, &records, &in_progress);
#define P(name, v) gk_ctl_printf(out, "%s %llu", name, (unsigned long long)(v))
	P("records", records);
	P("in_progress", in_progress);
	P("registrations", r->registrations);
	P("refreshes", r->refreshes);
	P("deregistrations", r->deregistrations);
	P("expirations", r->expirations);
	P("challenges", r->challenges);
	P("core_requests", r->core_requests);
	P("rejects", r->rejects);
	P("rejects_overload", r->rejects_overload);
	P("restored", r->restored);
	P("sealed_requests", r->sealed_requests);
	P("stale_answers", r->stale_answers);
	P("refusals_repeated", r->refusals_repeated);
	P("stale_verdicts", r->stale_verdicts);
	P("repeats_ignored", r->repeats_ignored);
	P("core_resent", r->core_resent);
	P("repeats_while_deciding", r->repeats_while_deciding);
	P("successes_resent", r->successes_resent);
	P("challenges_resent", r->challenges_resent);
	P("deregistrations_resent", r->deregistrations_resent);
	P("tx_datagrams", l->tx_dgrams);
	P("rx_nobufs", l->rx_nobufs);
	P("rx_buffers_grown", l->rx_grown);
	P("tx_slots_grown", l->tx_grown);
	P("tx_no_slot", l->tx_no_slot);
	P("refusals_sent", io->refusals.sent);
	P("refusals_rate_limited", io->refusals.limited);
	P("refusals_unanswered", io->refusals.unanswered);
	/* every named limit, hit or not: an operator sees what there is to hit */
	io->refusals.limits[GK_LIMIT_DATAGRAM] = l->rx_truncated; /* dropped unread */
	for (int i = 1; i < GK_LIMIT__COUNT; i++)
		gk_ctl_printf(out, "limit.%s %llu", gk_limit_name((enum gk_limit)i),
		              (unsigned long long)io->refusals.limits[i]);
#undef P
	/* The transaction layers of the command protocols, summed per protocol. */
	for (unsigned i = 0; i < io->n_sock; i++) {
		const struct gk_codec *c = io->sock[i].codec;
		bool first = true;
		struct gk_cmd_txn_stats sum = {0};
		unsigned in = 0, outn = 0;
		uint64_t resident = 0;
		if (!io->sock[i].txn)
			continue;
		for (unsigned j = 0; j < i; j++)
			first = first && io->sock[j].codec != c;
		if (!first)
			continue;
		for (unsigned j = i; j < io->n_sock; j++) {
			const struct gk_cmd_txn_stats *t;
			if (io->sock[j].codec != c)
				continue;
			t = gk_cmd_txn_stats(io->sock[j].txn);
			const uint64_t *a = (const uint64_t *)t;
			uint64_t *d = (uint64_t *)&sum;
			for (size_t k = 0; k < sizeof(sum) / sizeof(uint64_t); k++)
				d[k] += a[k];
			in += gk_cmd_txn_in_count(io->sock[j].txn);
			outn += gk_cmd_txn_out_count(io->sock[j].txn);
			resident += gk_cmd_txn_resident_bytes(io->sock[j].txn);
		}
#define T(f) gk_ctl_printf(out, "%s.txn." #f " %llu", c->name, (unsigned long long)sum.f)
		T(cmds_sent);
		T(retransmissions);
		T(gave_up);
		T(acks_in);
		T(pending_in);
		T(resp_acks_in);
		T(stray_responses);
		T(cmds_in);
		T(duplicates);
		T(pending_sent);
		T(replies_sent);
		T(replies_forgotten);
		T(pool_full);
		T(evicted);
		T(evicted_young);
		T(grown);
		T(shed);
		T(encode_errors);
#undef T
		gk_ctl_printf(out, "%s.txn.in_flight %u", c->name, outn);
		gk_ctl_printf(out, "%s.txn.remembered %u", c->name, in);
		gk_ctl_printf(out, "%s.txn.resident_bytes %llu", c->name,
		              (unsigned long long)resident);
	}
}

void gk_front_io_metrics(struct gk_front_io *io, struct gk_metrics_page *pg)
{
	static const uint8_t mechs[] = {GK_MECH_GKMAC, GK_MECH_IPSEC, GK_MECH_DIGEST};
	struct gk_terminal_counts tc;
	char labels[64];

	gk_metrics_histogram(pg, "registration_latency_seconds",
	                     "Registration latency: the request first seen to the success sent",
	                     &gk_registrar_stats(io->front)->latency);
	gk_registrar_terminals(io->front, &tc);
	gk_metrics_family(pg, "terminals_registered", "gauge",
	                  "Terminals registered now, by security mechanism and protocol (proto "
	                  "unknown: restored from a store that did not record it)");
	for (size_t i = 0; i < sizeof(mechs); i++)
		for (unsigned p = 0; p < GK_PROTO_COUNT; p++) {
			const struct gk_codec *c = p ? gk_codec_get((enum gk_proto)p) : NULL;
			if (p && !c)
				continue;
			snprintf(labels, sizeof(labels), "mech=\"%s\",proto=\"%s\"",
			         gk_mech_name((enum gk_mech)mechs[i]), c ? c->name : "unknown");
			gk_metrics_sample(pg, "terminals_registered", labels, tc.n[mechs[i]][p]);
		}
}

void gk_front_io_close(struct gk_front_io *io)
{
	for (unsigned i = 0; i < io->n_sock; i++) {
		gk_cmd_txn_free(io->sock[i].txn);
		close(io->sock[i].fd);
	}
	io->n_sock = 0;
}

void gk_front_io_on_signal(void *user, int signo)
{
	struct gk_front_io *io = user;
	const struct gk_registrar_stats *r = gk_registrar_stats(io->front);

	if (signo == SIGTERM || signo == SIGINT) {
		gk_notice("signal %d: stopping", signo);
		gk_loop_stop(io->loop);
	} else if (signo == SIGUSR1) {
		gk_notice("registrations %llu, refreshes %llu, rejects %llu",
		          (unsigned long long)r->registrations, (unsigned long long)r->refreshes,
		          (unsigned long long)r->rejects);
	} else if (signo == SIGHUP) {
		gk_notice("SIGHUP: settings are read at start; restart to change them");
	}
}
