/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What every daemon that runs a front (softswitchd in the direct topology, sbcd) does the same
 * way: send the front's messages to terminals (encode, gk-mac trailer, queue), and list its
 * bindings and counters on the control socket.
 */
#ifndef GATEKEY_FRONT_IO_H
#define GATEKEY_FRONT_IO_H

#include "gatekey/codec.h"
#include "gatekey/control.h"
#include "gatekey/registrar.h"

struct gk_front_io {
	struct gk_loop *loop;
	struct gk_registrar *front;
	const struct gk_codec *codec;
	int fd_by_family[2]; /* [0] IPv4, [1] IPv6; -1 when not listening */
};

/* Opens a UDP socket on each of the n addresses, receives on it with fn(user, ...), and sets
 * fd_by_family; fds receives the sockets. 0, or -1 after logging the address that failed.
 * io->loop must be set. */
int gk_front_io_listen(struct gk_front_io *io, const struct sockaddr_storage *addrs, unsigned n,
                       gk_dgram_fn fn, void *user, int *fds);

/* The registrar's send_terminal, given the io as user. */
void gk_front_io_send(void *io, const struct gk_msg *m, const struct sockaddr_storage *to,
                      struct gk_binding *b);
/* Sends a message that answers a request from `to` with no trailer (core-leg verdicts). */
void gk_front_io_send_plain(struct gk_front_io *io, struct gk_msg *m,
                            const struct sockaddr_storage *to);
/* The control socket's "bindings" command: one line per terminal, never the key. */
void gk_front_io_ctl_bindings(void *io, const char *args, struct gk_ctl_reply *out);
/* The signals of a front daemon: SIGTERM/SIGINT stop the loop, SIGUSR1 logs the counters,
 * SIGHUP says that settings are read at start. Usable as a gk_signal_fn with the io as user. */
void gk_front_io_on_signal(void *io, int signo);
/* The front's counters and reasons, as "name value" lines. */
void gk_front_io_ctl_stats(struct gk_front_io *io, struct gk_ctl_reply *out);

#endif
