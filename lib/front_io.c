// SPDX-License-Identifier: GPL-2.0-only
#include <signal.h>
#include <string.h>

#include "gatekey/config.h"
#include "gatekey/front_io.h"
#include "gatekey/log.h"

static int fd_for(const struct gk_front_io *io, const struct sockaddr_storage *to)
{
	return io->fd_by_family[to->ss_family == AF_INET6 ? 1 : 0];
}

int gk_front_io_listen(struct gk_front_io *io, const struct sockaddr_storage *addrs, unsigned n,
                       gk_dgram_fn fn, void *user, int *fds)
{
	io->fd_by_family[0] = io->fd_by_family[1] = -1;
	for (unsigned i = 0; i < n; i++) {
		char a[64];
		gk_format_addr(&addrs[i], a, sizeof(a));
		int fd = gk_udp_socket(&addrs[i]);
		if (fd < 0) {
			gk_err("cannot listen for terminals on %s: %s", a, strerror(-fd));
			return -1;
		}
		fds[i] = fd;
		io->fd_by_family[addrs[i].ss_family == AF_INET6 ? 1 : 0] = fd;
		gk_loop_add_udp(io->loop, fd, fn, user);
		gk_info("listening for terminals on %s (%s)", a, io->codec->name);
	}
	return 0;
}

static void send_msg(struct gk_front_io *io, struct gk_msg *m, const struct sockaddr_storage *to,
                     struct gk_binding *b)
{
	int fd = fd_for(io, to);
	uint8_t *buf;
	int n;

	if (fd < 0 || !(buf = gk_loop_send_buf(io->loop)))
		return;
	io->codec->response_init(m);
	n = io->codec->encode(m, buf, GK_LOOP_DGRAM_MAX - GK_TRAILER_LEN);
	if (n > 0 && b)
		n = gk_registrar_seal(io->front, b, buf, (size_t)n, GK_LOOP_DGRAM_MAX);
	if (n <= 0) {
		gk_warn("cannot encode %s for %s", gk_msg_type_name(m->type), m->idc);
		gk_loop_send_abort(io->loop, buf);
		return;
	}
	gk_loop_send(io->loop, fd, buf, (size_t)n, to);
}

void gk_front_io_send(void *user, const struct gk_msg *m, const struct sockaddr_storage *to,
                      struct gk_binding *b)
{
	struct gk_msg copy;
	memcpy(&copy, m, sizeof(copy));
	send_msg(user, &copy, to, b);
}

void gk_front_io_send_plain(struct gk_front_io *io, struct gk_msg *m,
                            const struct sockaddr_storage *to)
{
	send_msg(io, m, to, NULL);
}

struct list_ctx {
	struct gk_ctl_reply *out;
	uint64_t now;
};

static void list_one(const struct gk_binding_info *bi, void *arg)
{
	struct list_ctx *lc = arg;
	char addr[64];
	gk_format_addr(&bi->addr, addr, sizeof(addr));
	long long left = (long long)(bi->expires_at_ms - lc->now) / 1000;
	gk_ctl_printf(lc->out, "%s index=%u addr=%s mech=%s expires_in=%lld fpr=%s rx=%llu tx=%llu",
	              bi->idc, bi->index, addr, gk_mech_name(bi->mech), left, bi->fpr,
	              (unsigned long long)bi->rx_ok, (unsigned long long)bi->tx);
}

void gk_front_io_ctl_bindings(void *user, const char *args, struct gk_ctl_reply *out)
{
	struct gk_front_io *io = user;
	struct list_ctx lc = {.out = out, .now = gk_loop_now(io->loop)};
	(void)args;
	gk_registrar_foreach(io->front, list_one, &lc);
}

void gk_front_io_ctl_stats(struct gk_front_io *io, struct gk_ctl_reply *out)
{
	const struct gk_registrar_stats *r = gk_registrar_stats(io->front);
	const struct gk_loop_stats *l = gk_loop_stats(io->loop);

#define P(name, v) gk_ctl_printf(out, "%s %llu", name, (unsigned long long)(v))
	P("registrations", r->registrations);
	P("refreshes", r->refreshes);
	P("deregistrations", r->deregistrations);
	P("expirations", r->expirations);
	P("challenges", r->challenges);
	P("core_requests", r->core_requests);
	P("rejects", r->rejects);
	P("restored", r->restored);
	P("tx_datagrams", l->tx_dgrams);
	P("rx_nobufs", l->rx_nobufs);
	P("tx_no_slot", l->tx_no_slot);
#undef P
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
