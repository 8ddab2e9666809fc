// SPDX-License-Identifier: GPL-2.0-only
/*
 * gkflood: the attacker of the fast-path tests and benchmarks. Sends, as fast as it can or at a
 * given rate, datagrams an SBC must drop cheaply: non-registration requests from unregistered
 * sources, gk-mac datagrams with forged trailers, registration requests from many ports, and
 * datagrams aimed at the verified ports. Always bounded: it stops after --count datagrams or
 * --duration seconds, whichever comes first.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gatekey/runtime/config.h"
#include "gatekey/crypto/crypto.h"
#include "gatekey/runtime/loop.h"
#include "gatekey/fastpath/trailer.h"

#define BATCH    64
#define MAX_SOCK 64

enum kind { K_UNKNOWN, K_FORGED, K_REGISTER, K_VERIFIED, K_MIX };

static const char usage[] =
    "usage: gkflood --target IP:PORT [--kind unknown|forged|register|verified|mix]\n"
    "               [--count N] [--duration SECONDS] [--rate PKT/S] [--sockets N]\n"
    "               [--bind IP] [--size BYTES] [--max-index N]\n"
    "Stops after --count datagrams (default 1000000) or --duration seconds (default 10).\n";

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A plausible SIP request of about `size` bytes (padded with a header). */
static size_t sip_request(uint8_t *buf, size_t cap, const char *method, unsigned n, size_t size)
{
	int len =
	    snprintf((char *)buf, cap,
	             "%s sip:sbc1 SIP/2.0\r\nVia: SIP/2.0/UDP 198.18.3.2;branch=z9hG4bKf%08x\r\n"
	             "From: <sip:flood%u@sbc1>;tag=%x\r\nTo: <sip:flood%u@sbc1>\r\n"
	             "Call-ID: %08x@flood\r\nCSeq: 1 %s\r\nMax-Forwards: 70\r\n",
	             method, n, n, n, n, n, method);
	if (len < 0 || (size_t)len >= cap)
		return 0;
	size_t l = (size_t)len;
	if (size > l + 24 && size < cap) {
		l += (size_t)snprintf((char *)buf + l, cap - l, "X-Pad: ");
		while (l < size - 4)
			buf[l++] = 'x';
	}
	l += (size_t)snprintf((char *)buf + l, cap - l, "\r\nContent-Length: 0\r\n\r\n");
	return l;
}

static size_t make(enum kind k, uint8_t *buf, size_t cap, unsigned n, size_t size,
                   uint32_t max_index)
{
	size_t l;

	switch (k) {
	case K_REGISTER:
		return sip_request(buf, cap, "REGISTER", n, size);
	case K_FORGED: {
		l = sip_request(buf, cap, "OPTIONS", n,
		                size > GK_TRAILER_LEN ? size - GK_TRAILER_LEN : 0);
		if (!l || l + GK_TRAILER_LEN > cap)
			return 0;
		struct gk_trailer *t = (struct gk_trailer *)(buf + l);
		uint32_t index = 1 + n % (max_index ? max_index : 1);
		t->magic[0] = GK_TRAILER_MAGIC0;
		t->magic[1] = GK_TRAILER_MAGIC1;
		t->version = GK_TRAILER_VERSION;
		t->flags = 0;
		for (int i = 0; i < 4; i++)
			t->index[i] = (uint8_t)(index >> (24 - 8 * i));
		uint64_t seq = (uint64_t)n + 1;
		for (int i = 0; i < 8; i++)
			t->seq[i] = (uint8_t)(seq >> (56 - 8 * i));
		gk_random(t->tag, sizeof(t->tag));
		return l + GK_TRAILER_LEN;
	}
	default:
		return sip_request(buf, cap, "OPTIONS", n, size);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"target", required_argument, 0, 't'},
	                                     {"kind", required_argument, 0, 'k'},
	                                     {"count", required_argument, 0, 'c'},
	                                     {"duration", required_argument, 0, 'd'},
	                                     {"rate", required_argument, 0, 'r'},
	                                     {"sockets", required_argument, 0, 's'},
	                                     {"bind", required_argument, 0, 'b'},
	                                     {"size", required_argument, 0, 'z'},
	                                     {"max-index", required_argument, 0, 'i'},
	                                     {"help", no_argument, 0, 'h'},
	                                     {0, 0, 0, 0}};
	struct sockaddr_storage target, verified, bind;
	const char *target_s = NULL, *bind_s = NULL;
	enum kind kind = K_UNKNOWN;
	uint64_t count = 1000000, rate = 0;
	double duration = 10;
	unsigned nsock = 16, max_index = 1024;
	size_t size = 0;
	char err[128];
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			target_s = optarg;
			break;
		case 'k':
			kind = !strcmp(optarg, "forged")     ? K_FORGED
			       : !strcmp(optarg, "register") ? K_REGISTER
			       : !strcmp(optarg, "verified") ? K_VERIFIED
			       : !strcmp(optarg, "mix")      ? K_MIX
			       : !strcmp(optarg, "unknown")  ? K_UNKNOWN
			                                     : (enum kind) - 1;
			if ((int)kind < 0) {
				fprintf(stderr, "gkflood: unknown --kind \"%s\"\n%s", optarg,
				        usage);
				return 2;
			}
			break;
		case 'c':
			count = strtoull(optarg, NULL, 10);
			break;
		case 'd':
			duration = atof(optarg);
			break;
		case 'r':
			rate = strtoull(optarg, NULL, 10);
			break;
		case 's':
			nsock = (unsigned)atoi(optarg);
			break;
		case 'b':
			bind_s = optarg;
			break;
		case 'z':
			size = (size_t)atoi(optarg);
			break;
		case 'i':
			max_index = (unsigned)atoi(optarg);
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (!target_s || gk_parse_addr(target_s, &target, err, sizeof(err)) < 0 || nsock < 1 ||
	    nsock > MAX_SOCK || duration <= 0 || size > 1500) {
		fprintf(stderr, "gkflood: %s\n%s", target_s ? err : "--target is required", usage);
		return 2;
	}
	verified = target;
	uint16_t *port = target.ss_family == AF_INET6
	                     ? &((struct sockaddr_in6 *)&verified)->sin6_port
	                     : &((struct sockaddr_in *)&verified)->sin_port;
	*port = htons((uint16_t)(ntohs(*port) + 10000));
	memset(&bind, 0, sizeof(bind));
	bind.ss_family = target.ss_family;
	if (bind_s) {
		char b[96];
		snprintf(b, sizeof(b), target.ss_family == AF_INET6 ? "[%s]:0" : "%s:0", bind_s);
		if (gk_parse_addr(b, &bind, err, sizeof(err)) < 0) {
			fprintf(stderr, "gkflood: --bind: %s\n", err);
			return 2;
		}
	}

	int fds[MAX_SOCK];
	for (unsigned i = 0; i < nsock; i++) {
		fds[i] = gk_udp_socket(&bind);
		if (fds[i] < 0) {
			fprintf(stderr, "gkflood: socket: %s\n", strerror(-fds[i]));
			return 1;
		}
	}
	static uint8_t bufs[BATCH][2048];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	uint64_t sent = 0, failed = 0, n = 0;
	uint64_t start = now_ns(), end = start + (uint64_t)(duration * 1e9);

	while (sent + failed < count) {
		uint64_t t = now_ns();
		if (t >= end)
			break;
		if (rate && (sent + failed) * 1000000000ull > (t - start) * rate) {
			struct timespec ts = {0, 50000};
			nanosleep(&ts, NULL);
			continue;
		}
		unsigned b = BATCH;
		if (count - sent - failed < b)
			b = (unsigned)(count - sent - failed);
		for (unsigned i = 0; i < b; i++, n++) {
			enum kind k = kind == K_MIX ? (enum kind)(n % 4) : kind;
			size_t l = make(k, bufs[i], sizeof(bufs[i]), (unsigned)n, size, max_index);
			iov[i] = (struct iovec){bufs[i], l};
			memset(&msgs[i], 0, sizeof(msgs[i]));
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = k == K_VERIFIED ? &verified : &target;
			msgs[i].msg_hdr.msg_namelen = gk_sockaddr_len(&target);
		}
		int r = sendmmsg(fds[n / BATCH % nsock], msgs, b, 0);
		if (r < 0) {
			failed += b;
			continue;
		}
		sent += (uint64_t)r;
		failed += b - (unsigned)r;
	}
	double el = (double)(now_ns() - start) / 1e9;
	printf("flood sent=%llu failed=%llu elapsed_s=%.3f rate=%.0f pkt/s\n",
	       (unsigned long long)sent, (unsigned long long)failed, el, el > 0 ? sent / el : 0.0);
	return 0;
}
