/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What every daemon that runs a front (softswitchd in the direct topology, sbcd) does the same
 * way: its terminal-facing sockets, each with the codec of its protocol (and, for the
 * command/response protocols MGCP and H.248, its transaction layer, cmd_txn.h); sending the
 * front's messages to terminals (encode, gk-mac trailer, queue); listing its bindings and
 * counters on the control socket, and what only /metrics shows of it.
 */
#ifndef GATEKEY_FRONT_IO_H
#define GATEKEY_FRONT_IO_H

#include "gatekey/cmd/cmd_txn.h"
#include "gatekey/codec/codec.h"
#include "gatekey/runtime/control.h"
#include "gatekey/exchange/front_settings.h"
#include "gatekey/exchange/registrar.h"

#define GK_FRONT_SOCKS 16

struct gk_front_io;

struct gk_front_sock {
	int fd;
	struct sockaddr_storage addr;
	const struct gk_codec *codec;
	struct gk_cmd_txn *txn; /* MGCP, H.248: network side (defer), NULL for SIP */
	struct gk_front_io *io;
	/* ipsec-3gpp: this socket's port when it is a protected server port (port-s), whose
	 * datagrams count only from the binding whose SAs cover the flow
	 * (gk_front_io_ipsec_sender); 0 for an ordinary port. Sends to a binding's protected client
	 * address leave from here. */
	uint16_t ipsec_port;
};

/* Requests refused before the exchange (gk_front_io_refuse). */
struct gk_front_refusals {
	uint64_t sent;    /* stateless error responses sent */
	uint64_t limited; /* not sent: over refusals_per_second */
	uint64_t
	    unanswered; /* not sent: the protocol wants no answer (a response, an ACK, no Via) */
	uint64_t limits[GK_LIMIT__COUNT]; /* decodes refused over each named limit (limits.h) */
};

struct gk_front_io {
	struct gk_loop *loop;
	struct gk_registrar *front;
	struct gk_front_sock sock[GK_FRONT_SOCKS];
	unsigned n_sock;
	uint32_t transactions; /* per MGCP or H.248 socket: received commands remembered at most;
	                          0: the transaction layer's default */
	uint32_t in_flight;    /* and commands sent, in flight at most; 0: the default */
	/* stateless refusals: a token bucket of refusals_per_s tokens, refilled every ms */
	uint32_t refusals_per_s;
	uint64_t refusal_tokens_milli, refusal_last_ms;
	struct gk_front_refusals refusals;
};

/* Opens a UDP socket speaking `codec` on each of the n addresses and receives on it with
 * fn(user, ...); fds receives the sockets. For MGCP and H.248 the socket gets its transaction
 * layer; each of those protocols may listen once per address family (the transaction that
 * answers a command is the one that received it). Called once per protocol. 0, or -1 after
 * logging what failed. io->loop and io->front must be set. */
int gk_front_io_listen(struct gk_front_io *io, const struct gk_codec *codec,
                       const struct sockaddr_storage *addrs, unsigned n, gk_dgram_fn fn, void *user,
                       int *fds);
/* The same for the protected server port (port-s) of ipsec-3gpp: a socket on each of the n
 * addresses at `port`, marked as protected (gk_front_sock.ipsec_port). Each protocol has ports of
 * its own, so the socket speaks one codec and, for MGCP and H.248, has its own transactions. */
int gk_front_io_listen_protected(struct gk_front_io *io, const struct gk_codec *codec,
                                 const struct sockaddr_storage *addrs, unsigned n, uint16_t port,
                                 gk_dgram_fn fn, void *user, int *fds);
/* The ipsec-3gpp binding a datagram from `from` on protected socket s came under: the kernel let
 * it in under that binding's SAs, the only ones whose policy covers this flow. 0 when the flow
 * is nobody's (a plaintext datagram the policies do not cover): drop it. */
uint32_t gk_front_io_ipsec_sender(const struct gk_front_sock *s,
                                  const struct sockaddr_storage *from);
/* gk_front_io_listen for MGCP, H.248 and RAS in turn; fds receives the sockets. The number of
 * sockets opened, or -1 after logging what failed. */
int gk_front_io_listen_bindings(struct gk_front_io *io, const struct gk_front_listeners *l,
                                gk_dgram_fn fn, void *user, int *fds);
/* The socket the io opened as fd, or NULL. */
struct gk_front_sock *gk_front_io_sock(struct gk_front_io *io, int fd);
/*
 * A datagram received on s, decoded into m, from `from`, verified for gk-mac binding `index`
 * (0: none). Returns 1 when m goes on to the registrar (always for SIP), 0 when the transaction
 * layer consumed it (duplicate answered again, acknowledgement, provisional response).
 */
int gk_front_io_input(struct gk_front_sock *s, struct gk_msg *m,
                      const struct sockaddr_storage *from, uint32_t index);

/*
 * A datagram from `from` on s that the codec refused with why (m: what decode left) or that
 * nobody serves (GK_R_NOT_SERVED): counts the limit it hit, and sends the codec's stateless
 * answer (codec.h `refuse`) unless the protocol wants none or refusals_per_second is spent. A
 * refusal to a gk-mac terminal (index) is sealed for its binding.
 */
/* Counts the named limit a refused decode hit (limit.<name> in stats), when why says one was. */
void gk_front_io_count_limit(struct gk_front_io *io, const struct gk_msg *m, enum gk_reason why);
void gk_front_io_refuse(struct gk_front_sock *s, const uint8_t *data, size_t len,
                        const struct gk_msg *m, enum gk_reason why,
                        const struct sockaddr_storage *from, uint32_t index);

/* Puts data (a whole message already) on the wire to `to` from the io's socket of proto and
 * to's family, sealed for gk-mac binding `seal` when not 0 (and that binding is still bound to
 * `to`; else nothing goes). */
void gk_front_io_xmit(struct gk_front_io *io, uint8_t proto, const struct sockaddr_storage *to,
                      const uint8_t *data, size_t len, uint32_t seal);

/* The registrar's send_terminal, given the io as user: the socket and codec of m->proto for
 * the family of `to`. */
void gk_front_io_send(void *io, const struct gk_msg *m, const struct sockaddr_storage *to,
                      struct gk_binding *b);
/* Sends a message that answers a request from `to` under the trailer seal() appends (core-leg
 * verdicts, coreleg.h): seal returns the new length or a negative errno, buf has cap bytes. */
typedef int (*gk_front_io_seal_fn)(void *arg, uint8_t *buf, size_t len, size_t cap);
void gk_front_io_send_sealed(struct gk_front_io *io, struct gk_msg *m,
                             const struct sockaddr_storage *to, gk_front_io_seal_fn seal,
                             void *seal_arg);
/* Sends bytes already encoded (a routed SIP message) under the trailer seal() appends. */
void gk_front_io_xmit_sealed(struct gk_front_io *io, uint8_t proto,
                             const struct sockaddr_storage *to, const uint8_t *data, size_t len,
                             gk_front_io_seal_fn seal, void *seal_arg);
/* The control socket's "bindings [after CURSOR]" command (sbcd and softswitchd): one line per
 * terminal, never the key, "IDc index=N addr=A mech=M expires_in=S fpr=F rx=N tx=N", in pages
 * of gk_ctl_list whose cursor is the binding index. */
void gk_front_io_ctl_bindings(void *io, const char *args, struct gk_ctl_reply *out);
/* The signals of a front daemon: SIGTERM/SIGINT stop the loop, SIGUSR1 logs the counters,
 * SIGHUP says that settings are read at start. Usable as a gk_signal_fn with the io as user. */
void gk_front_io_on_signal(void *io, int signo);
/* The front's counters and reasons, as "name value" lines, and the transaction layers'
 * counters as "<proto>.txn.<name> value" (summed over the protocol's sockets). */
void gk_front_io_ctl_stats(struct gk_front_io *io, struct gk_ctl_reply *out);
/* The front's part of /metrics beyond its stats lines (runtime/metrics.h):
 * gatekey_registration_latency_seconds, and gatekey_terminals_registered{mech,proto} for every
 * mechanism a binding can have and every protocol, zeros too (a dashboard's series exist from the
 * start; proto="unknown": restored from before a restart). */
void gk_front_io_metrics(struct gk_front_io *io, struct gk_metrics_page *pg);
/* Frees the transaction layers and closes the sockets. */
void gk_front_io_close(struct gk_front_io *io);

#endif
