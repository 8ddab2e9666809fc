// SPDX-License-Identifier: GPL-2.0-only
/*
 * gkimpair: a lossy, duplicating, delaying and reordering wire between two interfaces, for the
 * tests that prove every protocol's retransmission rules (tests/e2e/t_impaired.sh). It runs in a
 * namespace of its own in the middle of a rig link and carries every Ethernet frame from one
 * interface to the other, both ways: a frame is lost with --loss per cent, sent twice with
 * --duplicate per cent, and held for --delay ms plus or minus up to --jitter ms, drawn per frame,
 * so that frames overtake each other as they do on a real path.
 *
 * That is what tc netem does. This tool exists because kernels built without sch_netem (and
 * without sch_fq, which would let a BPF program delay packets by timestamp) cannot impair a link
 * otherwise, and the tests must run on such a kernel as well as on any other. It is bounded:
 * the queue holds QUEUE_MAX frames (a frame arriving to a full queue is lost and counted), and it
 * stops after --duration seconds or on SIGTERM/SIGINT, printing what it did.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define QUEUE_MAX 16384
/* An MTU of 1500, the Ethernet header and the virtio-net header in front of the frame (see
 * open_if); anything longer is counted, not sent. */
#define FRAME_MAX 2048

static const char usage[] =
    "usage: gkimpair --between IF_A IF_B [--loss PCT] [--duplicate PCT] [--delay MS]\n"
    "                [--jitter MS] [--duration S] [--seed N]\n"
    "Carries frames between IF_A and IF_B, both ways, losing --loss %, sending --duplicate %\n"
    "twice, and holding each for --delay ms +/- up to --jitter ms (drawn per frame, so frames\n"
    "are reordered). Stops after --duration seconds (default 600) or on SIGTERM.\n";

struct frame {
	uint64_t due_ns, seq;
	uint16_t len;
	uint8_t to; /* 0: out of IF_A, 1: out of IF_B */
	uint8_t data[FRAME_MAX];
};

/* A binary min-heap of frame indexes by due time, then arrival order. */
static struct frame *frames;
static uint32_t heap[QUEUE_MAX], n_heap, free_list[QUEUE_MAX], n_free;

static volatile sig_atomic_t stop;

static struct {
	uint64_t received, forwarded, lost, duplicated, reordered, queue_full, too_long,
	    send_errors;
} st;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rng;

/* xorshift64*: test traffic impairment, not anything secret. */
static uint64_t draw(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ull;
}

/* True with probability ppm millionths (so that 0.1 % is 1000). */
static int chance(uint32_t ppm)
{
	return ppm && draw() % 1000000u < ppm;
}

static int before(uint32_t a, uint32_t b)
{
	const struct frame *x = &frames[a], *y = &frames[b];
	return x->due_ns < y->due_ns || (x->due_ns == y->due_ns && x->seq < y->seq);
}

static void heap_push(uint32_t f)
{
	uint32_t i = n_heap++;
	heap[i] = f;
	while (i && before(heap[i], heap[(i - 1) / 2])) {
		uint32_t p = (i - 1) / 2, t = heap[p];
		heap[p] = heap[i];
		heap[i] = t;
		i = p;
	}
}

static uint32_t heap_pop(void)
{
	uint32_t top = heap[0], i = 0;
	heap[0] = heap[--n_heap];
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < n_heap && before(heap[l], heap[m]))
			m = l;
		if (r < n_heap && before(heap[r], heap[m]))
			m = r;
		if (m == i)
			break;
		uint32_t t = heap[m];
		heap[m] = heap[i];
		heap[i] = t;
		i = m;
	}
	return top;
}

static int open_if(const char *name, int *ifindex)
{
	struct sockaddr_ll sll;
	int one = 1, fd;

	*ifindex = (int)if_nametoindex(name);
	if (!*ifindex) {
		fprintf(stderr, "gkimpair: no interface %s\n", name);
		return -1;
	}
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0) {
		perror("gkimpair: packet socket");
		return -1;
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = *ifindex;
	/* What this socket sends must not come back to it as received. Each frame comes with its
	 * virtio-net header, and goes out with it: a veth hands its peer datagrams whose checksum
	 * is still to be filled in (CHECKSUM_PARTIAL), and the header is what tells the kernel to
	 * fill it in when the frame is sent on, instead of the receiver dropping it as corrupt. */
	if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0) {
		fprintf(stderr, "gkimpair: %s: %s\n", name, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Every frame waiting on fd goes into the queue (or is lost), bound for the other side. */
static void take(int fd, uint8_t to, uint32_t loss, uint32_t dup, uint64_t delay_ns,
                 uint64_t jitter_ns, uint64_t *seq)
{
	uint8_t buf[65536];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
		st.received++;
		if ((size_t)n > FRAME_MAX) {
			st.too_long++;
			continue;
		}
		if (chance(loss)) {
			st.lost++;
			continue;
		}
		int copies = 1 + chance(dup);
		st.duplicated += copies - 1;
		for (int c = 0; c < copies; c++) {
			if (!n_free) {
				st.queue_full++;
				break;
			}
			uint32_t f = free_list[--n_free];
			uint64_t d = delay_ns;
			if (jitter_ns) {
				uint64_t j = draw() % (2 * jitter_ns + 1);
				d = d + j >= jitter_ns ? d + j - jitter_ns : 0;
			}
			frames[f].due_ns = now_ns() + d;
			frames[f].seq = (*seq)++;
			frames[f].len = (uint16_t)n;
			frames[f].to = to;
			memcpy(frames[f].data, buf, (size_t)n);
			heap_push(f);
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"between", required_argument, 0, 'b'},
	                                     {"loss", required_argument, 0, 'l'},
	                                     {"duplicate", required_argument, 0, 'u'},
	                                     {"delay", required_argument, 0, 'd'},
	                                     {"jitter", required_argument, 0, 'j'},
	                                     {"duration", required_argument, 0, 't'},
	                                     {"seed", required_argument, 0, 's'},
	                                     {"help", no_argument, 0, 'h'},
	                                     {0, 0, 0, 0}};
	const char *ifs[2] = {NULL, NULL};
	double loss = 0, dup = 0, delay_ms = 0, jitter_ms = 0, duration_s = 600;
	uint64_t seed = 0, seq = 0, last_sent[2] = {0, 0};
	int c, fd[2], ifindex[2];

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (optind >= argc) {
				fputs(usage, stderr);
				return 2;
			}
			ifs[0] = optarg;
			ifs[1] = argv[optind++];
			break;
		case 'l':
			loss = atof(optarg);
			break;
		case 'u':
			dup = atof(optarg);
			break;
		case 'd':
			delay_ms = atof(optarg);
			break;
		case 'j':
			jitter_ms = atof(optarg);
			break;
		case 't':
			duration_s = atof(optarg);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (!ifs[0] || loss < 0 || loss > 100 || dup < 0 || dup > 100 || delay_ms < 0 ||
	    jitter_ms < 0 || jitter_ms > delay_ms || duration_s <= 0) {
		fputs(usage, stderr);
		fputs("gkimpair: percentages are 0 to 100, and --jitter at most --delay\n", stderr);
		return 2;
	}
	rng = seed ? seed : now_ns() ^ ((uint64_t)getpid() << 32);
	if (!rng)
		rng = 1;
	frames = calloc(QUEUE_MAX, sizeof(*frames));
	if (!frames) {
		fputs("gkimpair: out of memory\n", stderr);
		return 1;
	}
	for (uint32_t i = 0; i < QUEUE_MAX; i++)
		free_list[n_free++] = QUEUE_MAX - 1 - i;
	for (int i = 0; i < 2; i++)
		if ((fd[i] = open_if(ifs[i], &ifindex[i])) < 0)
			return 1;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	uint32_t loss_ppm = (uint32_t)(loss * 10000), dup_ppm = (uint32_t)(dup * 10000);
	uint64_t delay_ns = (uint64_t)(delay_ms * 1e6), jitter_ns = (uint64_t)(jitter_ms * 1e6);
	uint64_t end = now_ns() + (uint64_t)(duration_s * 1e9);
	printf("impairing %s <-> %s: loss %.2f%% duplicate %.2f%% delay %.1f ms +/- %.1f ms\n",
	       ifs[0], ifs[1], loss, dup, delay_ms, jitter_ms);
	fflush(stdout);
	while (!stop) {
		uint64_t now = now_ns();
		if (now >= end)
			break;
		while (n_heap && frames[heap[0]].due_ns <= now) {
			uint32_t f = heap_pop();
			struct frame *fr = &frames[f];
			if (fr->seq < last_sent[fr->to])
				st.reordered++;
			else
				last_sent[fr->to] = fr->seq;
			if (send(fd[fr->to], fr->data, fr->len, 0) == fr->len)
				st.forwarded++;
			else
				st.send_errors++;
			free_list[n_free++] = f;
		}
		int wait_ms = 100;
		if (n_heap) {
			uint64_t due = frames[heap[0]].due_ns;
			wait_ms = due > now ? (int)((due - now + 999999) / 1000000) : 0;
		}
		struct pollfd p[2] = {{.fd = fd[0], .events = POLLIN},
		                      {.fd = fd[1], .events = POLLIN}};
		if (poll(p, 2, wait_ms) < 0 && errno != EINTR) {
			perror("gkimpair: poll");
			break;
		}
		if (p[0].revents & POLLIN)
			take(fd[0], 1, loss_ppm, dup_ppm, delay_ns, jitter_ns, &seq);
		if (p[1].revents & POLLIN)
			take(fd[1], 0, loss_ppm, dup_ppm, delay_ns, jitter_ns, &seq);
	}
	printf("impaired received=%llu forwarded=%llu lost=%llu duplicated=%llu reordered=%llu "
	       "queue_full=%llu too_long=%llu send_errors=%llu\n",
	       (unsigned long long)st.received, (unsigned long long)st.forwarded,
	       (unsigned long long)st.lost, (unsigned long long)st.duplicated,
	       (unsigned long long)st.reordered, (unsigned long long)st.queue_full,
	       (unsigned long long)st.too_long, (unsigned long long)st.send_errors);
	free(frames);
	return 0;
}
