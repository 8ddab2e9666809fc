/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The io_uring event loop every daemon and gkterm runs on (DESIGN §8): multishot recvmsg on UDP
 * sockets from a provided-buffer ring, sends queued into a preallocated slot pool and submitted
 * in one batch per loop iteration, a timer heap driving the wait timeout, and signals through a
 * signalfd. Single-threaded; callbacks run on the loop's thread and must not block.
 */
#ifndef GATEKEY_LOOP_H
#define GATEKEY_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "gatekey/runtime/limits.h"

/* The largest datagram received or sent: the 16-bit length every UDP datagram fits in. RFC 3261
 * §18.1.1 has an element handle any UDP datagram; the largest payloads are 65,507 bytes over IPv4
 * (65,535 less the IPv4 and UDP headers) and 65,527 over IPv6 without jumbograms, so none is ever
 * cut. Only a datagram of another family (the AF_UNIX control socket) can be longer: it is
 * dropped unread and counted (rx_truncated). The buffers behind it are mapped lazily, so this
 * costs address space, not memory (lib/runtime/loop.c, before RX_BUF_SIZE). */
#define GK_LOOP_DGRAM_MAX GK_DGRAM_MAX

struct gk_loop;

typedef void (*gk_dgram_fn)(void *user, int fd, uint8_t *data, size_t len,
                            const struct sockaddr_storage *from);
typedef void (*gk_signal_fn)(void *user, int signo);
typedef void (*gk_readable_fn)(void *user, int fd);

struct gk_timer {
	uint64_t deadline_ms;
	uint32_t heap_idx; /* 0 = not armed; otherwise 1-based position in the heap */
	void (*fn)(struct gk_timer *t);
};

struct gk_loop_stats {
	uint64_t rx_dgrams, rx_truncated, rx_nobufs;
	uint64_t tx_dgrams, tx_errors, tx_no_slot;
	uint64_t rx_grown, tx_grown; /* steps of receive buffers and send slots after the first */
};

struct gk_loop_params {
	unsigned sq_entries; /* default 1024 */
	unsigned rx_bufs;    /* provided buffers, power of two, default 4096 (68 KiB each, lazy) */
	unsigned tx_slots;   /* send slots, default 4096 (64 KiB each, lazy) */
	/* The first page of every receive buffer and send slot made resident as it is handed out
	 * (resident.h), which is where every datagram of up to a page lands: a burst then takes no
	 * page fault in the loop. Buffers and slots are handed out in steps, 256 of each first and
	 * doubling when the ring or the free list runs dry (loop.c), so an idle loop holds 2 MiB of
	 * them and a busy one up to 4 KiB per buffer and slot (32 MiB with the defaults); the pages
	 * past the first stay lazy. */
	bool resident;
};

struct gk_loop *gk_loop_new(const struct gk_loop_params *p, char *err, size_t errlen);
void gk_loop_free(struct gk_loop *l);

/* Opens a UDP socket bound to addr (SO_REUSEADDR, large buffers, non-blocking). -errno. */
int gk_udp_socket(const struct sockaddr_storage *addr);
/* How full fd's receive queue is, in permille of its buffer (SO_MEMINFO): the datagrams the
 * kernel holds that the loop has not taken yet. 0 when the kernel does not say. */
uint32_t gk_udp_rx_depth(int fd);
/* Starts multishot receive on fd; fn is called once per datagram. data stays valid only during
 * the call (it is a provided buffer, returned to the kernel afterwards); fn may modify it. */
int gk_loop_add_udp(struct gk_loop *l, int fd, gk_dgram_fn fn, void *user);

/* A free send buffer of GK_LOOP_DGRAM_MAX bytes, or NULL when all are in flight (counted).
 * Every buffer obtained must be passed to gk_loop_send or gk_loop_send_abort. Write only what is
 * sent (no clearing the whole buffer): its pages become resident as they are written. */
uint8_t *gk_loop_send_buf(struct gk_loop *l);
void gk_loop_send_abort(struct gk_loop *l, uint8_t *buf);
/* Queues buf[0..len) to `to` on fd; submitted with the next batch. */
void gk_loop_send(struct gk_loop *l, int fd, uint8_t *buf, size_t len,
                  const struct sockaddr_storage *to);
/* Copies data into a send buffer and queues it; -ENOBUFS when none is free. */
int gk_loop_sendto(struct gk_loop *l, int fd, const void *data, size_t len,
                   const struct sockaddr_storage *to);

/* Monotonic milliseconds, refreshed once per loop iteration. */
uint64_t gk_loop_now(struct gk_loop *l);
void gk_timer_arm(struct gk_loop *l, struct gk_timer *t, uint64_t delay_ms);
void gk_timer_cancel(struct gk_loop *l, struct gk_timer *t);
static inline bool gk_timer_armed(const struct gk_timer *t)
{
	return t->heap_idx != 0;
}

/* Delivers these signals (blocked for normal delivery) to fn on the loop. */
int gk_loop_on_signals(struct gk_loop *l, const int *signals, unsigned n, gk_signal_fn fn,
                       void *user);

/* fn runs after each batch of completions has been handled, before the loop waits again: the
 * place to end per-batch work (a database snapshot, a flush). One per loop. */
/* Calls fn whenever fd is readable; fn reads it (non-blocking) until it would block. For a
 * descriptor that another library reads, such as libnl's netlink socket. At most 4. -errno. */
int gk_loop_on_readable(struct gk_loop *l, int fd, gk_readable_fn fn, void *user);
void gk_loop_on_batch_end(struct gk_loop *l, void (*fn)(void *user), void *user);

/* Runs until gk_loop_stop. Returns 0, or -errno on a fatal ring error. */
int gk_loop_run(struct gk_loop *l);
void gk_loop_stop(struct gk_loop *l);
/* Submits what is queued without waiting (for callers that queue outside callbacks). */
void gk_loop_flush(struct gk_loop *l);
const struct gk_loop_stats *gk_loop_stats(const struct gk_loop *l);

socklen_t gk_sockaddr_len(const struct sockaddr_storage *ss);
bool gk_sockaddr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b);
/* The UDP port of an IPv4 or IPv6 address, host order (0 for any other family), and setting it. */
uint16_t gk_sockaddr_port(const struct sockaddr_storage *ss);
void gk_sockaddr_set_port(struct sockaddr_storage *ss, uint16_t port);
/* Whether ss is the wildcard address of its family (0.0.0.0, ::). */
bool gk_sockaddr_any(const struct sockaddr_storage *ss);

/* The host an address belongs to, as bytes to compare or hash: the IPv4 address (also when a
 * dual-stack socket shows it as ::ffff:a.b.c.d), or an IPv6 address cut to its /64, which is
 * what one host is given (as the fast path's per-host buckets count, gk_fp_host_of). Per-host
 * limits key on this, never on the port, which a sender changes at will. Returns the length
 * (a family byte, then 4 or 8 bytes), 0 for an address of neither family. */
#define GK_HOST_KEY_MAX 9
size_t gk_sockaddr_host(const struct sockaddr_storage *a, uint8_t out[GK_HOST_KEY_MAX]);
bool gk_sockaddr_same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b);

#endif
