// SPDX-License-Identifier: GPL-2.0-only
/*
 * gkbench udp-echo and udp-pingpong: what the kernel charges for one UDP datagram on a rig's
 * path, the first half of a registration's floor (docs/performance.md). The cost is read from
 * /proc/stat as the whole machine's busy time over the run divided by the datagrams carried,
 * because a veth hop spends most of it in softirq on whichever CPU, not in either process.
 * Both ends batch with sendmmsg/recvmmsg, as the daemons batch through io_uring, so the figure
 * is the kernel's part and not the syscalls'.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gatekey/runtime/config.h"
#include "gatekey/runtime/loop.h"
#include "pingpong.h"

#define PP_BATCH 64
#define PP_MAX   1500

/* Busy and total jiffies of all CPUs together (the first line of /proc/stat). */
static int cpu_jiffies(unsigned long long *busy, unsigned long long *total)
{
	unsigned long long v[8] = {0};
	FILE *f = fopen("/proc/stat", "r");

	if (!f)
		return -1;
	int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
	               &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n != 8)
		return -1;
	/* user nice system idle iowait irq softirq steal: idle and iowait are not busy */
	*busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
	*total = *busy + v[3] + v[4];
	return 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int bound_socket(const char *addr, struct sockaddr_storage *ss)
{
	char err[128];

	if (gk_parse_addr(addr, ss, err, sizeof(err)) < 0) {
		fprintf(stderr, "gkbench: %s: %s\n", addr, err);
		return -1;
	}
	int fd = gk_udp_socket(ss);
	if (fd < 0)
		fprintf(stderr, "gkbench: cannot bind %s: %s\n", addr, strerror(-fd));
	return fd < 0 ? -1 : fd;
}

int gkbench_udp_echo(const char *listen, unsigned seconds)
{
	static uint8_t buf[PP_BATCH][PP_MAX];
	static struct sockaddr_storage from[PP_BATCH];
	struct mmsghdr msgs[PP_BATCH];
	struct iovec iov[PP_BATCH];
	struct sockaddr_storage ss;
	int fd = bound_socket(listen, &ss);

	if (fd < 0)
		return 1;
	printf("echo ready %s\n", listen);
	fflush(stdout);
	uint64_t end = mono_ns() + (uint64_t)seconds * 1000000000ull;
	while (mono_ns() < end) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 100) <= 0)
			continue;
		for (int i = 0; i < PP_BATCH; i++) {
			iov[i] = (struct iovec){buf[i], PP_MAX};
			msgs[i].msg_hdr = (struct msghdr){.msg_name = &from[i],
			                                  .msg_namelen = sizeof(from[i]),
			                                  .msg_iov = &iov[i],
			                                  .msg_iovlen = 1};
		}
		int n = recvmmsg(fd, msgs, PP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			continue;
		for (int i = 0; i < n; i++)
			iov[i].iov_len = msgs[i].msg_len;
		for (int sent = 0; sent < n;) {
			int k = sendmmsg(fd, msgs + sent, (unsigned)(n - sent), 0);
			if (k <= 0)
				break;
			sent += k;
		}
	}
	close(fd);
	return 0;
}

int gkbench_udp_pingpong(const char *to, const char *name, uint64_t count, unsigned size,
                         unsigned window)
{
	static uint8_t out[PP_MAX], in[PP_BATCH][PP_MAX];
	struct sockaddr_storage dst, local;
	char err[128];
	struct mmsghdr msgs[PP_BATCH];
	struct iovec iov[PP_BATCH];

	if (size < 16 || size > PP_MAX || window < 1 || window > 4096 || !count) {
		fprintf(stderr, "gkbench: udp-pingpong: size 16..%d, window 1..4096, count > 0\n",
		        PP_MAX);
		return 2;
	}
	if (gk_parse_addr(to, &dst, err, sizeof(err)) < 0) {
		fprintf(stderr, "gkbench: %s: %s\n", to, err);
		return 2;
	}
	memset(&local, 0, sizeof(local));
	local.ss_family = dst.ss_family;
	int fd = gk_udp_socket(&local);
	if (fd < 0 || connect(fd, (struct sockaddr *)&dst, gk_sockaddr_len(&dst)) < 0) {
		fprintf(stderr, "gkbench: udp-pingpong to %s: %s\n", to, strerror(errno));
		return 1;
	}
	memset(out, 'x', size);

	/* Wait for the echo to answer before measuring (it may still be starting). */
	uint64_t give_up = mono_ns() + 5000000000ull;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (send(fd, out, size, 0) < 0 && errno != ECONNREFUSED) {
			perror("gkbench: send");
			return 1;
		}
		if (poll(&p, 1, 50) > 0 && recv(fd, in[0], PP_MAX, MSG_DONTWAIT) > 0)
			break;
		if (mono_ns() > give_up) {
			fprintf(stderr, "gkbench: no echo from %s\n", to);
			return 1;
		}
	}
	while (recv(fd, in[0], PP_MAX, MSG_DONTWAIT) > 0)
		;

	unsigned long long b0, t0, b1, t1;
	uint64_t sent = 0, got = 0, lost = 0;
	uint64_t start = mono_ns();
	cpu_jiffies(&b0, &t0);
	while (got + lost < count) {
		/* Keep `window` datagrams in flight; after 200 ms of silence the ones in flight are
		 * counted lost and replaced. */
		uint64_t inflight = sent - got - lost;
		uint64_t want = inflight < window ? window - inflight : 0;
		if (want > count - sent)
			want = count - sent;
		while (want) {
			unsigned k = want < PP_BATCH ? (unsigned)want : PP_BATCH;
			for (unsigned i = 0; i < k; i++) {
				iov[i] = (struct iovec){out, size};
				msgs[i].msg_hdr =
				    (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
			}
			int n = sendmmsg(fd, msgs, k, MSG_DONTWAIT);
			if (n <= 0)
				break;
			sent += (unsigned)n;
			want -= (unsigned)n;
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 200) <= 0) {
			lost += sent - got - lost;
			continue;
		}
		for (unsigned i = 0; i < PP_BATCH; i++) {
			iov[i] = (struct iovec){in[i], PP_MAX};
			msgs[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
		}
		int n = recvmmsg(fd, msgs, PP_BATCH, MSG_DONTWAIT, NULL);
		if (n > 0)
			got += (unsigned)n;
	}
	uint64_t spent = mono_ns() - start;
	cpu_jiffies(&b1, &t1);
	close(fd);

	/* Both directions are datagrams the kernel carried: 2 per round trip. */
	double dgrams = 2.0 * (double)got;
	double busy_s = (double)(b1 - b0) / (double)sysconf(_SC_CLK_TCK);
	printf("bench udp_cpu_per_dgram_%s %.2f us\n", name, busy_s * 1e6 / dgrams);
	printf("bench udp_dgram_rate_%s %.0f dgram/s\n", name, dgrams * 1e9 / (double)spent);
	if (lost)
		printf("# %s: %llu of %llu round trips lost\n", name, (unsigned long long)lost,
		       (unsigned long long)count);
	return 0;
}
