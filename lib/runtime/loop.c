// SPDX-License-Identifier: GPL-2.0-only
/* The io_uring event loop (include/gatekey/runtime/loop.h): datagrams in through a provided-buffer
 * ring, out through a pool of send slots, timers and signals. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sock_diag.h>
#include <liburing.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "gatekey/runtime/loop.h"
#include "gatekey/runtime/resident.h"
#include "gatekey/runtime/steps.h"

#define RX_GROUP    1
#define FIRST_SOCKS 16

/* Datagram memory. Every receive buffer and every send buffer holds the largest datagram, about
 * 64 KiB: with the default 4096 of each that is 272 + 256 MiB, where 4 KiB buffers took 34 MiB,
 * yet a signalling message is a few hundred bytes to a few KiB. So each side is one private
 * anonymous mapping, reserved but not populated (MAP_NORESERVE: no commit charge under the
 * default overcommit policy; under vm.overcommit_memory=2 it is charged in full, and rx_bufs and
 * tx_slots are the knobs). A page becomes resident only when the kernel writes a datagram into
 * it or a sender encodes one into it:
 * - Each buffer starts on a page of its own, so a message that fits a page touches one page.
 * - The send slots' headers (op, msghdr, iovec, address, free-list link) are a separate small
 *   array: building the pool and queueing a datagram write those, never the data pages.
 * - Transparent huge pages are refused for both mappings: one 2 MiB page would make the first
 *   write to any buffer in it resident for the 30 or so buffers around it.
 * - What a datagram wrote past a buffer's first page is given back (MADV_DONTNEED) before the
 *   buffer is used again. The provided-buffer ring hands its buffers out in FIFO order, so all of
 *   them are used in turn: without this a burst of large datagrams would leave the whole receive
 *   side resident for good. The send free list is LIFO (the same few slots serve a quiet loop),
 *   and a large send is given back likewise once the kernel has copied it. Such datagrams are
 *   rare (they were dropped unread when the limit was 4096), so the madvise is too.
 * Steady state is thus one page per receive buffer (16 MiB for 4096, as 4 KiB buffers cost)
 * plus one per send slot ever in flight at once; a fresh loop holds no buffer page at all, about
 * 1.3 MiB in all with the slot headers and rings (tests/unit/test_loop.c measures both). The
 * daemons hold the first page of each buffer and slot they use from the moment it is handed out
 * (gk_loop_params.resident), so that a burst of datagrams pays no page fault (runtime/resident.h).
 *
 * Buffers and slots are handed out in steps, and are tables of steps like the daemons' own
 * (runtime/steps.h: rx_buffers, tx_buffers and the slots' tx_headers in the stats, each buffer
 * counted as the page of it a step makes resident): the ring starts with FIRST_BUFS receive
 * buffers and the free list with FIRST_BUFS send slots, and each doubles up to rx_bufs and
 * tx_slots when it runs dry: the ring when a receive completes with ENOBUFS (the datagram waits in
 * the socket, and the receive is armed again), the send slots when none is free. A step makes the
 * first page of each new buffer resident in one pass. An idle daemon's loop thus holds 2 MiB of
 * buffer pages, and a busy one what its bursts needed. */
#define FIRST_BUFS 256
#define RX_BUF_SIZE                                                                                \
	(GK_LOOP_DGRAM_MAX + sizeof(struct io_uring_recvmsg_out) + sizeof(struct sockaddr_storage))

/* The next step of a half-full table is made resident a bite at a time (runtime/steps.h): at
 * most this much every this often, about 1.4 ms in every 10 while a step is being prepared. */
#define STEP_PREPARE_BYTES    (1u << 20)
#define STEP_PREPARE_EVERY_MS 10

/* Every SQE's user_data points at one of these, so a completion knows what it finishes. */
enum op_kind { OP_RECV = 1, OP_SEND, OP_SIGNAL, OP_READABLE };

struct op {
	uint8_t kind;
};

struct rx_sock {
	struct op op;
	int fd;
	gk_dgram_fn fn;
	void *user;
	struct msghdr msg; /* template for multishot: only namelen matters */
};

/* A send slot's header; its data, GK_LOOP_DGRAM_MAX bytes, is in the lazily mapped tx_mem. */
struct tx_slot {
	struct op op;
	struct msghdr msg;
	struct iovec iov;
	struct sockaddr_storage to;
	int fd;
	struct tx_slot *next_free;
	uint8_t *data;
};

struct sig_watch {
	struct op op;
	int fd;
	gk_signal_fn fn;
	void *user;
	struct signalfd_siginfo info;
};

/* A descriptor another library reads (a netlink socket): the loop only says when it is readable. */
struct fd_watch {
	struct op op;
	int fd;
	gk_readable_fn fn;
	void *user;
};

#define MAX_WATCHES 4

struct gk_loop {
	struct io_uring ring;
	struct io_uring_buf_ring *br;
	size_t br_size;
	size_t page;
	uint64_t prepared_ms;     /* when this thread's tables last prepared a step (steps.h) */
	struct gk_steps rx_steps; /* the receive buffers, rx_stride apart: cap given to the ring */
	uint8_t *rx_mem;          /* rx_steps.base */
	size_t rx_stride;
	unsigned rx_bufs; /* buffers the ring can hold */
	bool resident;

	/* The sockets read, each allocated on its own: its op is the user data of a multishot
	 * receive in flight, so it never moves when the table of them grows. No fixed number: a
	 * load generator's ipsec-3gpp terminals take two each. */
	struct rx_sock **socks;
	unsigned n_socks, cap_socks;

	struct gk_steps tx_steps;  /* the send buffers, tx_stride apart: cap on the free list */
	struct gk_steps hdr_steps; /* their headers, grown with them */
	struct tx_slot *slots;     /* hdr_steps.base */
	uint8_t *tx_mem;           /* tx_steps.base */
	size_t tx_stride;
	unsigned tx_used; /* slots taken and not yet sent or given back */
	struct tx_slot *free_slots;

	struct sig_watch sig;
	struct fd_watch watches[MAX_WATCHES];
	unsigned n_watches;

	struct gk_timer **heap; /* 1-based min-heap on deadline */
	uint32_t heap_len, heap_cap;

	uint64_t now_ms;
	bool stop;
	void (*batch_end)(void *user);
	void *batch_end_user;
	unsigned pending_sqes;
	bool send_with_addr; /* IORING_OP_SEND takes the destination (prep_send) */
	struct gk_loop_stats stats;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

socklen_t gk_sockaddr_len(const struct sockaddr_storage *ss)
{
	switch (ss->ss_family) {
	case AF_INET6:
		return sizeof(struct sockaddr_in6);
	case AF_UNIX:
		return sizeof(struct sockaddr_un);
	default:
		return sizeof(struct sockaddr_in);
	}
}

bool gk_sockaddr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
	}
	return false;
}

uint16_t gk_sockaddr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)(const void *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)(const void *)ss)->sin6_port);
	return 0;
}

void gk_sockaddr_set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)(void *)ss)->sin_port = htons(port);
	else if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)(void *)ss)->sin6_port = htons(port);
}

bool gk_sockaddr_any(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(
		    &((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr);
	return ss->ss_family == AF_INET &&
	       ((const struct sockaddr_in *)(const void *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
}

size_t gk_sockaddr_host(const struct sockaddr_storage *a, uint8_t out[GK_HOST_KEY_MAX])
{
	if (a->ss_family == AF_INET) {
		out[0] = 4;
		memcpy(out + 1, &((const struct sockaddr_in *)(const void *)a)->sin_addr, 4);
		return 5;
	}
	if (a->ss_family == AF_INET6) {
		const struct in6_addr *v6 =
		    &((const struct sockaddr_in6 *)(const void *)a)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(v6)) {
			/* Cut to a /64 it would be every IPv4 client of the socket at once. */
			out[0] = 4;
			memcpy(out + 1, &v6->s6_addr[12], 4);
			return 5;
		}
		out[0] = 6;
		memcpy(out + 1, v6->s6_addr, 8);
		return 9;
	}
	return 0;
}

bool gk_sockaddr_same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	uint8_t x[GK_HOST_KEY_MAX], y[GK_HOST_KEY_MAX];
	size_t n = gk_sockaddr_host(a, x);

	return n && n == gk_sockaddr_host(b, y) && memcmp(x, y, n) == 0;
}

static size_t round_up(size_t n, size_t to)
{
	return (n + to - 1) / to * to;
}

/* Gives back what a datagram of `used` bytes wrote past the first page of buf (page-aligned):
 * the next use faults in zero pages as needed. */
static void release_tail(const struct gk_loop *l, uint8_t *buf, size_t used)
{
	if (used > l->page)
		madvise(buf + l->page, round_up(used, l->page) - l->page, MADV_DONTNEED);
}

/* Receive buffers [from, rx_steps.cap) given to the ring (the step made their first pages
 * resident, when the loop is). */
static void rx_give(struct gk_loop *l, unsigned from)
{
	unsigned n = l->rx_steps.cap;

	for (unsigned i = from; i < n; i++)
		io_uring_buf_ring_add(l->br, l->rx_mem + (size_t)i * l->rx_stride, RX_BUF_SIZE,
		                      (unsigned short)i, io_uring_buf_ring_mask(l->rx_bufs),
		                      (int)(i - from));
	io_uring_buf_ring_advance(l->br, (int)(n - from));
}

/* One step of receive buffers: the next doubling, up to rx_bufs, given to the ring. Every buffer
 * the ring had was in use, and one more was needed. -ENOBUFS when the ring has them all, or
 * -ENOMEM. */
static int rx_grow(struct gk_loop *l)
{
	uint32_t from;

	if (l->rx_steps.cap >= l->rx_steps.max)
		return -ENOBUFS;
	gk_steps_need(&l->rx_steps, l->rx_steps.cap + 1);
	if (!(from = gk_steps_grow(&l->rx_steps)))
		return -ENOMEM;
	rx_give(l, from);
	return 0;
}

/* Send slots [from, tx_steps.cap) onto the free list, their headers made resident as far. */
static int tx_give(struct gk_loop *l, unsigned from)
{
	unsigned n = l->tx_steps.cap;

	if (gk_steps_reach(&l->hdr_steps, n) < 0)
		return -ENOMEM;
	for (unsigned i = from; i < n; i++) {
		l->slots[i].op.kind = OP_SEND;
		l->slots[i].data = l->tx_mem + (size_t)i * l->tx_stride;
		l->slots[i].next_free = l->free_slots;
		l->free_slots = &l->slots[i];
	}
	return 0;
}

/* One step of send slots, likewise, onto the free list. */
static int tx_grow(struct gk_loop *l)
{
	uint32_t from;

	if (l->tx_steps.cap >= l->tx_steps.max)
		return -ENOBUFS;
	if (gk_steps_reach(&l->hdr_steps, gk_steps_next(&l->tx_steps)) < 0 ||
	    !(from = gk_steps_grow(&l->tx_steps)))
		return -ENOMEM;
	return tx_give(l, from);
}

struct gk_loop *gk_loop_new(const struct gk_loop_params *p, char *err, size_t errlen)
{
	struct gk_loop_params def = {.sq_entries = 1024, .rx_bufs = 4096, .tx_slots = 4096};
	struct gk_loop *l = calloc(1, sizeof(*l));
	int ret;

	if (p) {
		if (p->sq_entries)
			def.sq_entries = p->sq_entries;
		if (p->rx_bufs)
			def.rx_bufs = p->rx_bufs;
		if (p->tx_slots)
			def.tx_slots = p->tx_slots;
		def.resident = p->resident;
	}
	if (!l)
		goto nomem;
	if (def.rx_bufs & (def.rx_bufs - 1) || def.rx_bufs > 32768) {
		snprintf(err, errlen, "rx_bufs must be a power of two up to 32768");
		free(l);
		return NULL;
	}

	/* DEFER_TASKRUN: the kernel runs this ring's completion work (receives, sends) only when
	 * the loop enters it to wait, all of it in one batch, rather than at whatever kernel entry
	 * comes next as each datagram arrives. With four busy processes on two cores that is about
	 * +15 % of registrations, through the SBC and direct alike (docs/performance.md). Kernels
	 * before 6.1 refuse the flag (EINVAL): the loop then runs without it. */
	unsigned base = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN |
	                IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_CQSIZE;
	struct io_uring_params up = {.flags = base | IORING_SETUP_DEFER_TASKRUN,
	                             .cq_entries = def.sq_entries * 8};
	ret = io_uring_queue_init_params(def.sq_entries, &l->ring, &up);
	if (ret == -EINVAL) {
		up = (struct io_uring_params){.flags = base, .cq_entries = def.sq_entries * 8};
		ret = io_uring_queue_init_params(def.sq_entries, &l->ring, &up);
	}
	if (ret < 0) {
		snprintf(err, errlen, "io_uring_queue_init: %s", strerror(-ret));
		free(l);
		return NULL;
	}
	l->send_with_addr = up.flags & IORING_SETUP_DEFER_TASKRUN;

	l->page = (size_t)sysconf(_SC_PAGESIZE);
	l->rx_bufs = def.rx_bufs;
	l->resident = def.resident;
	/* Each buffer on pages of its own, its first page resident from the step that adds it
	 * when the loop is resident (else faulted in by the first datagram). */
	const struct gk_steps_opts bufs = {.resident_size = l->page, .lazy = !l->resident};
	l->br_size = def.rx_bufs * sizeof(struct io_uring_buf);
	l->br = mmap(NULL, l->br_size, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	l->rx_stride = round_up(RX_BUF_SIZE, l->page);
	if (l->br == MAP_FAILED || gk_steps_init_opts(&l->rx_steps, "rx_buffers", def.rx_bufs,
	                                              l->rx_stride, FIRST_BUFS, &bufs) < 0) {
		snprintf(err, errlen, "cannot allocate receive buffers");
		goto fail;
	}
	l->rx_mem = l->rx_steps.base;
	struct io_uring_buf_reg reg = {
	    .ring_addr = (unsigned long)l->br, .ring_entries = def.rx_bufs, .bgid = RX_GROUP};
	ret = io_uring_register_buf_ring(&l->ring, &reg, 0);
	if (ret < 0) {
		snprintf(err, errlen, "io_uring_register_buf_ring: %s", strerror(-ret));
		goto fail;
	}
	io_uring_buf_ring_init(l->br);
	rx_give(l, 0);

	l->tx_stride = round_up(GK_LOOP_DGRAM_MAX, l->page);
	if (!def.tx_slots ||
	    gk_steps_init_opts(&l->hdr_steps, "tx_headers", def.tx_slots, sizeof(*l->slots),
	                       FIRST_BUFS, &(struct gk_steps_opts){.lazy = !l->resident}) < 0 ||
	    gk_steps_init_opts(&l->tx_steps, "tx_buffers", def.tx_slots, l->tx_stride, FIRST_BUFS,
	                       &bufs) < 0)
		goto nomem_fail;
	l->slots = (struct tx_slot *)l->hdr_steps.base;
	l->tx_mem = l->tx_steps.base;
	if (tx_give(l, 0) < 0)
		goto nomem_fail;
	l->heap_cap = 1024;
	l->heap = calloc(l->heap_cap + 1, sizeof(*l->heap));
	if (!l->heap)
		goto nomem_fail;
	l->sig.fd = -1;
	l->now_ms = mono_ms();
	return l;

nomem_fail:
	snprintf(err, errlen, "out of memory");
fail:
	gk_loop_free(l);
	return NULL;
nomem:
	snprintf(err, errlen, "out of memory");
	return NULL;
}

void gk_loop_free(struct gk_loop *l)
{
	if (!l)
		return;
	io_uring_queue_exit(&l->ring);
	if (l->br && l->br != MAP_FAILED)
		munmap(l->br, l->br_size);
	if (l->sig.fd >= 0)
		close(l->sig.fd);
	gk_steps_free(&l->rx_steps);
	gk_steps_free(&l->tx_steps);
	gk_steps_free(&l->hdr_steps);
	for (unsigned i = 0; i < l->n_socks; i++)
		free(l->socks[i]);
	free(l->socks);
	free(l->heap);
	free(l);
}

uint32_t gk_udp_rx_depth(int fd)
{
	uint32_t mem[SK_MEMINFO_VARS] = {0};
	socklen_t len = sizeof(mem);

	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) < 0 ||
	    len <= SK_MEMINFO_RCVBUF * sizeof(mem[0]) || !mem[SK_MEMINFO_RCVBUF])
		return 0;
	if (mem[SK_MEMINFO_RMEM_ALLOC] >= mem[SK_MEMINFO_RCVBUF])
		return 1000;
	return (uint32_t)((uint64_t)mem[SK_MEMINFO_RMEM_ALLOC] * 1000 / mem[SK_MEMINFO_RCVBUF]);
}

int gk_udp_socket(const struct sockaddr_storage *addr)
{
	int fd = socket(addr->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1, bufsz = 8 << 20;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Bursts of thousands of registrations must not overflow the socket queue. FORCE needs
	 * CAP_NET_ADMIN; the plain option is the fallback. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsz, sizeof(bufsz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bufsz, sizeof(bufsz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	if (addr->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)addr, gk_sockaddr_len(addr)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static struct io_uring_sqe *get_sqe(struct gk_loop *l)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&l->ring);
	if (!sqe) {
		io_uring_submit(&l->ring);
		l->pending_sqes = 0;
		sqe = io_uring_get_sqe(&l->ring);
	}
	if (sqe)
		l->pending_sqes++;
	return sqe;
}

static int arm_recv(struct gk_loop *l, struct rx_sock *s)
{
	struct io_uring_sqe *sqe = get_sqe(l);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_recvmsg_multishot(sqe, s->fd, &s->msg, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = RX_GROUP;
	io_uring_sqe_set_data(sqe, &s->op);
	return 0;
}

int gk_loop_add_udp(struct gk_loop *l, int fd, gk_dgram_fn fn, void *user)
{
	if (l->n_socks == l->cap_socks) {
		unsigned cap = l->cap_socks ? 2 * l->cap_socks : FIRST_SOCKS;
		struct rx_sock **socks = realloc(l->socks, cap * sizeof(*socks));
		if (!socks)
			return -ENOMEM;
		l->socks = socks;
		l->cap_socks = cap;
	}
	struct rx_sock *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	l->socks[l->n_socks++] = s;
	s->op.kind = OP_RECV;
	s->fd = fd;
	s->fn = fn;
	s->user = user;
	memset(&s->msg, 0, sizeof(s->msg));
	s->msg.msg_namelen = sizeof(struct sockaddr_storage);
	return arm_recv(l, s);
}

static void recycle_rx(struct gk_loop *l, unsigned bid)
{
	io_uring_buf_ring_add(l->br, l->rx_mem + (size_t)bid * l->rx_stride, RX_BUF_SIZE,
	                      (unsigned short)bid, io_uring_buf_ring_mask(l->rx_bufs), 0);
	io_uring_buf_ring_advance(l->br, 1);
}

static void on_recv(struct gk_loop *l, struct rx_sock *s, struct io_uring_cqe *cqe)
{
	if (cqe->flags & IORING_CQE_F_BUFFER) {
		unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
		uint8_t *buf = l->rx_mem + (size_t)bid * l->rx_stride;
		if (cqe->res > 0) {
			struct io_uring_recvmsg_out *out =
			    io_uring_recvmsg_validate(buf, cqe->res, &s->msg);
			if (out && !(out->flags & MSG_TRUNC) &&
			    out->namelen <= sizeof(struct sockaddr_storage)) {
				struct sockaddr_storage from;
				memset(&from, 0, sizeof(from));
				memcpy(&from, io_uring_recvmsg_name(out), out->namelen);
				l->stats.rx_dgrams++;
				s->fn(s->user, s->fd, io_uring_recvmsg_payload(out, &s->msg),
				      io_uring_recvmsg_payload_length(out, cqe->res, &s->msg),
				      &from);
			} else {
				l->stats.rx_truncated++;
			}
			/* cqe->res: all the kernel wrote, header and name included. */
			release_tail(l, buf, (size_t)cqe->res);
		}
		recycle_rx(l, bid);
	} else if (cqe->res == -ENOBUFS) {
		/* The ring ran dry: the datagram waits in the socket, the receive is armed again
		 * below, and the ring takes its next step if it has one. */
		l->stats.rx_nobufs++;
		if (rx_grow(l) == 0)
			l->stats.rx_grown++;
	}
	if (!(cqe->flags & IORING_CQE_F_MORE))
		arm_recv(l, s);
}

uint8_t *gk_loop_send_buf(struct gk_loop *l)
{
	struct tx_slot *t = l->free_slots;
	if (!t) {
		if (tx_grow(l) < 0) {
			l->stats.tx_no_slot++;
			return NULL;
		}
		l->stats.tx_grown++;
		t = l->free_slots;
	}
	l->free_slots = t->next_free;
	gk_steps_need(&l->tx_steps, ++l->tx_used);
	return t->data;
}

static struct tx_slot *slot_of(struct gk_loop *l, uint8_t *buf)
{
	return &l->slots[(size_t)(buf - l->tx_mem) / l->tx_stride];
}

void gk_loop_send_abort(struct gk_loop *l, uint8_t *buf)
{
	struct tx_slot *t = slot_of(l, buf);
	t->next_free = l->free_slots;
	l->free_slots = t;
	l->tx_used--;
}

/*
 * A datagram with its destination in the SQE itself (IORING_OP_SEND with an address, Linux
 * 6.0): no msghdr and iovec for the kernel to copy in and check on every send. A ring that took
 * DEFER_TASKRUN is on 6.1 or later; on an older kernel every send is a sendmsg.
 */
static void prep_send(struct gk_loop *l, struct io_uring_sqe *sqe, struct tx_slot *t)
{
	if (l->send_with_addr) {
		io_uring_prep_send(sqe, t->fd, t->data, t->iov.iov_len, 0);
		io_uring_prep_send_set_addr(sqe, (const struct sockaddr *)&t->to,
		                            (uint16_t)gk_sockaddr_len(&t->to));
	} else {
		memset(&t->msg, 0, sizeof(t->msg));
		t->msg.msg_name = &t->to;
		t->msg.msg_namelen = gk_sockaddr_len(&t->to);
		t->msg.msg_iov = &t->iov;
		t->msg.msg_iovlen = 1;
		io_uring_prep_sendmsg(sqe, t->fd, &t->msg, 0);
	}
	io_uring_sqe_set_data(sqe, &t->op);
}

void gk_loop_send(struct gk_loop *l, int fd, uint8_t *buf, size_t len,
                  const struct sockaddr_storage *to)
{
	struct tx_slot *t = slot_of(l, buf);
	struct io_uring_sqe *sqe = get_sqe(l);

	if (!sqe) {
		l->stats.tx_errors++;
		gk_loop_send_abort(l, buf);
		return;
	}
	t->to = *to;
	t->fd = fd;
	t->iov.iov_base = t->data;
	t->iov.iov_len = len;
	prep_send(l, sqe, t);
}

int gk_loop_sendto(struct gk_loop *l, int fd, const void *data, size_t len,
                   const struct sockaddr_storage *to)
{
	if (len > GK_LOOP_DGRAM_MAX)
		return -EMSGSIZE;
	uint8_t *buf = gk_loop_send_buf(l);
	if (!buf)
		return -ENOBUFS;
	memcpy(buf, data, len);
	gk_loop_send(l, fd, buf, len, to);
	return 0;
}

static void on_send(struct gk_loop *l, struct tx_slot *t, struct io_uring_cqe *cqe)
{
	if (cqe->res < 0)
		l->stats.tx_errors++;
	else
		l->stats.tx_dgrams++;
	release_tail(l, t->data, t->iov.iov_len); /* the kernel has its copy */
	t->next_free = l->free_slots;
	l->free_slots = t;
	l->tx_used--;
}

/* Timer heap. */

static void heap_place(struct gk_loop *l, uint32_t i, struct gk_timer *t)
{
	l->heap[i] = t;
	t->heap_idx = i;
}

static void heap_up(struct gk_loop *l, uint32_t i)
{
	struct gk_timer *t = l->heap[i];
	while (i > 1 && l->heap[i / 2]->deadline_ms > t->deadline_ms) {
		heap_place(l, i, l->heap[i / 2]);
		i /= 2;
	}
	heap_place(l, i, t);
}

static void heap_down(struct gk_loop *l, uint32_t i)
{
	struct gk_timer *t = l->heap[i];
	for (;;) {
		uint32_t c = 2 * i;
		if (c > l->heap_len)
			break;
		if (c + 1 <= l->heap_len && l->heap[c + 1]->deadline_ms < l->heap[c]->deadline_ms)
			c++;
		if (l->heap[c]->deadline_ms >= t->deadline_ms)
			break;
		heap_place(l, i, l->heap[c]);
		i = c;
	}
	heap_place(l, i, t);
}

void gk_timer_cancel(struct gk_loop *l, struct gk_timer *t)
{
	uint32_t i = t->heap_idx;
	if (!i)
		return;
	t->heap_idx = 0;
	struct gk_timer *last = l->heap[l->heap_len--];
	if (i > l->heap_len)
		return;
	heap_place(l, i, last);
	heap_up(l, i);
	heap_down(l, last->heap_idx);
}

void gk_timer_arm(struct gk_loop *l, struct gk_timer *t, uint64_t delay_ms)
{
	gk_timer_cancel(l, t);
	if (l->heap_len == l->heap_cap) {
		/* Grows rarely (doubling); the steady state allocates nothing. */
		struct gk_timer **h = realloc(l->heap, (2 * (size_t)l->heap_cap + 1) * sizeof(*h));
		if (!h)
			abort();
		l->heap = h;
		l->heap_cap *= 2;
	}
	t->deadline_ms = l->now_ms + delay_ms;
	l->heap_len++;
	heap_place(l, l->heap_len, t);
	heap_up(l, l->heap_len);
}

uint64_t gk_loop_now(struct gk_loop *l)
{
	return l->now_ms;
}

static void run_timers(struct gk_loop *l)
{
	while (l->heap_len && l->heap[1]->deadline_ms <= l->now_ms) {
		struct gk_timer *t = l->heap[1];
		gk_timer_cancel(l, t);
		t->fn(t);
	}
}

static int arm_signal(struct gk_loop *l)
{
	struct io_uring_sqe *sqe = get_sqe(l);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_read(sqe, l->sig.fd, &l->sig.info, sizeof(l->sig.info), 0);
	io_uring_sqe_set_data(sqe, &l->sig.op);
	return 0;
}

int gk_loop_on_signals(struct gk_loop *l, const int *signals, unsigned n, gk_signal_fn fn,
                       void *user)
{
	sigset_t set;
	sigemptyset(&set);
	for (unsigned i = 0; i < n; i++)
		sigaddset(&set, signals[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	l->sig.fd = signalfd(-1, &set, SFD_CLOEXEC);
	if (l->sig.fd < 0)
		return -errno;
	l->sig.op.kind = OP_SIGNAL;
	l->sig.fn = fn;
	l->sig.user = user;
	return arm_signal(l);
}

static int arm_watch(struct gk_loop *l, struct fd_watch *w)
{
	struct io_uring_sqe *sqe = get_sqe(l);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_poll_multishot(sqe, w->fd, POLLIN);
	io_uring_sqe_set_data(sqe, &w->op);
	return 0;
}

int gk_loop_on_readable(struct gk_loop *l, int fd, gk_readable_fn fn, void *user)
{
	if (l->n_watches == MAX_WATCHES)
		return -ENOSPC;
	struct fd_watch *w = &l->watches[l->n_watches++];
	w->op.kind = OP_READABLE;
	w->fd = fd;
	w->fn = fn;
	w->user = user;
	return arm_watch(l, w);
}

void gk_loop_on_batch_end(struct gk_loop *l, void (*fn)(void *user), void *user)
{
	l->batch_end = fn;
	l->batch_end_user = user;
}

void gk_loop_stop(struct gk_loop *l)
{
	l->stop = true;
}

void gk_loop_flush(struct gk_loop *l)
{
	if (l->pending_sqes) {
		io_uring_submit(&l->ring);
		l->pending_sqes = 0;
	}
}

const struct gk_loop_stats *gk_loop_stats(const struct gk_loop *l)
{
	return &l->stats;
}

int gk_loop_run(struct gk_loop *l)
{
	l->stop = false; /* a loop can be run again after a stop */
	while (!l->stop) {
		struct io_uring_cqe *cqe;
		struct __kernel_timespec ts, *tsp = NULL;
		int ret;

		l->now_ms = mono_ms();
		run_timers(l);
		if (l->stop)
			break;
		if (l->heap_len) {
			uint64_t wait = l->heap[1]->deadline_ms - l->now_ms;
			ts.tv_sec = (long long)(wait / 1000);
			ts.tv_nsec = (long long)(wait % 1000) * 1000000;
			tsp = &ts;
		}
		l->pending_sqes = 0;
		ret = io_uring_submit_and_wait_timeout(&l->ring, &cqe, 1, tsp, NULL);
		if (ret < 0 && ret != -ETIME && ret != -EINTR && ret != -EBUSY)
			return ret;
		l->now_ms = mono_ms();

		unsigned head, seen = 0;
		io_uring_for_each_cqe(&l->ring, head, cqe)
		{
			struct op *op = io_uring_cqe_get_data(cqe);
			seen++;
			if (!op)
				continue;
			switch (op->kind) {
			case OP_RECV:
				on_recv(l, (struct rx_sock *)op, cqe);
				break;
			case OP_SEND:
				on_send(l, (struct tx_slot *)op, cqe);
				break;
			case OP_SIGNAL:
				if (cqe->res == (int)sizeof(l->sig.info))
					l->sig.fn(l->sig.user, (int)l->sig.info.ssi_signo);
				arm_signal(l);
				break;
			case OP_READABLE: {
				struct fd_watch *w = (struct fd_watch *)op;
				if (cqe->res > 0)
					w->fn(w->user, w->fd);
				/* A multishot poll ends on an error or when the kernel drops it. */
				if (!(cqe->flags & IORING_CQE_F_MORE))
					arm_watch(l, w);
				break;
			}
			}
		}
		io_uring_cq_advance(&l->ring, seen);
		if (l->batch_end)
			l->batch_end(l->batch_end_user);
		/* A bounded bite between batches instead of a whole step in the middle of one. */
		if (l->now_ms - l->prepared_ms >= STEP_PREPARE_EVERY_MS) {
			l->prepared_ms = l->now_ms;
			gk_steps_prepare(STEP_PREPARE_BYTES);
		}
	}
	gk_loop_flush(l);
	return 0;
}
