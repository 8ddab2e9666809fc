// SPDX-License-Identifier: GPL-2.0-only
/*
 * gkxdpbench: the XDP fast path under BPF_PROG_TEST_RUN with repeat, and the same decision in
 * userspace (gk_fp_decide) on the same datagrams. Prints "bench <name> <value> <unit>".
 * S is the UDP payload size, trailer included. The program is loaded without pinning.
 *
 *   gkxdpbench [--repeat N]
 *   gkxdpbench --verifier     what the verifier spends on each program of the embedded object:
 *                             xdp_verifier_insns_<prog> (processed instructions), _states, _us
 *
 * xdp_gkmac_verify_<S>B repeats one sealed datagram: the first run passes, the others compute
 * and check the tag in full and are then refused by the replay window, so the figure is the
 * verification cost without the trailer strip; xdp_gkmac_pass_<S>B runs fresh sequence numbers
 * one at a time (each run includes the kernel's per-run timer overhead).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "gatekey/fastpath/pktmac.h"
#include "gatekey/fastpath/xdp.h"

#define KEY       "0123456789abcdef"
#define TERM_PORT 5062

static const uint8_t term_addr[4] = {198, 18, 0, 2}, stranger[4] = {198, 18, 0, 9};

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint32_t sum16(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

/* Ethernet + IPv4 + UDP with both checksums. */
static size_t frame(const uint8_t src[4], uint16_t sport, const void *pay, size_t plen, uint8_t *f)
{
	uint8_t *ip = f + 14, *udp = ip + 20;
	uint32_t s;
	uint16_t c;

	memset(f, 0, 42);
	memcpy(f, "\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00", 14);
	ip[0] = 0x45;
	ip[2] = (uint8_t)((28 + plen) >> 8);
	ip[3] = (uint8_t)(28 + plen);
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, "\xc6\x12\x00\x01", 4);
	c = (uint16_t)~fold(sum16(0, ip, 20));
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	udp[0] = (uint8_t)(sport >> 8);
	udp[1] = (uint8_t)sport;
	udp[2] = 5060 >> 8;
	udp[3] = 5060 & 0xff;
	udp[4] = (uint8_t)((8 + plen) >> 8);
	udp[5] = (uint8_t)(8 + plen);
	memcpy(udp + 8, pay, plen);
	s = sum16(0, ip + 12, 8) + 17 + (uint32_t)(8 + plen);
	c = (uint16_t)~fold(sum16(s, udp, 8 + plen));
	c = c ? c : 0xffff;
	udp[6] = (uint8_t)(c >> 8);
	udp[7] = (uint8_t)c;
	return 42 + plen;
}

/* A SIP request of exactly size bytes (trailer included when sealed). */
static size_t sip(const char *method, size_t size, uint8_t *buf)
{
	int n =
	    snprintf((char *)buf, size + 1, "%s sip:sbc1.example.net SIP/2.0\r\nX-Pad: ", method);

	if (n < 0 || (size_t)n + 4 > size)
		return 0;
	memset(buf + n, 'a', size - (size_t)n - 4);
	memcpy(buf + size - 4, "\r\n\r\n", 4);
	return size;
}

static double xdp_ns(int fd, const uint8_t *f, size_t len, unsigned repeat, int *retval)
{
	uint8_t out[4096];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = (uint32_t)len,
	            .data_out = out, .data_size_out = sizeof(out), .repeat = repeat);

	if (bpf_prog_test_run_opts(fd, &o) < 0)
		return -1;
	if (retval)
		*retval = (int)o.retval;
	return o.duration;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int print_verifier(const struct gk_xdp_verifier_stats *st, void *arg)
{
	int *failed = arg;

	if (st->err) {
		fprintf(stderr, "gkxdpbench: the kernel refused %s (%s):\n%s\n", st->prog,
		        strerror(-st->err), gk_xdp_load_log());
		*failed = 1;
		return 0;
	}
	printf("bench xdp_verifier_insns_%s %llu insns\n", st->prog, (unsigned long long)st->insns);
	printf("bench xdp_verifier_states_%s %llu states\n", st->prog,
	       (unsigned long long)st->total_states);
	printf("bench xdp_verifier_time_%s %llu us\n", st->prog, (unsigned long long)st->usec);
	return 0;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = {200, 600, 1400};
	unsigned repeat = 1000000;
	struct gk_xdp *x;
	struct gk_fp_config cfg;
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	uint8_t buf[1600], f[2048];
	size_t n;
	int fd, err, rv = 0;
	uint64_t seq = 1;

	if (argc == 2 && strcmp(argv[1], "--verifier") == 0) {
		int failed = 0, n = gk_xdp_verifier_stats(NULL, print_verifier, &failed);

		if (n < 0)
			fprintf(stderr, "gkxdpbench: %s\n", strerror(-n));
		return n < 0 || failed;
	}
	if (argc == 3 && strcmp(argv[1], "--repeat") == 0)
		repeat = (unsigned)strtoul(argv[2], NULL, 10);
	else if (argc != 1) {
		fprintf(stderr, "usage: gkxdpbench [--repeat N] | --verifier\n");
		return 2;
	}
	err = gk_xdp_open(&x, NULL, NULL, 0);
	if (err) {
		/* No figure named xdp without the program: say why instead. */
		fprintf(stderr,
		        "gkxdpbench: cannot load the XDP program (%s); no xdp figures:\n%s\n",
		        strerror(-err), gk_xdp_load_log());
		return 1;
	}
	fd = gk_xdp_prog_fd(x);
	gk_fp_config_default(&cfg);
	/* Buckets that never run dry but still do their arithmetic. */
	cfg.source = cfg.global = (struct gk_fp_rate){1000000000u, 1000000000u};
	in->sin_family = AF_INET;
	in->sin_port = htons(TERM_PORT);
	memcpy(&in->sin_addr, term_addr, 4);
	if (gk_xdp_set_config(x, &cfg) ||
	    gk_xdp_terminal_add(x, 7, &ss, GK_FP_MECH_GKMAC, (const uint8_t *)KEY)) {
		fprintf(stderr, "gkxdpbench: cannot fill the maps\n");
		gk_xdp_close(x);
		return 1;
	}

	n = frame(stranger, 40000, buf, sip("OPTIONS", 200, buf), f);
	/* The harness's own cost per run, on the same frame: the baseline of every figure below. */
	double base = xdp_ns(gk_xdp_baseline_prog_fd(x), f, n, repeat, NULL);
	double drop = xdp_ns(fd, f, n, repeat, NULL);
	printf("bench xdp_testrun_baseline %.0f ns/pkt\n", base);
	printf("bench xdp_unknown_drop %.0f ns/pkt\n", drop);
	printf("bench xdp_unknown_drop_above_baseline %.0f ns/pkt\n", drop - base);
	n = frame(stranger, 40000, buf, sip("REGISTER", 200, buf), f);
	printf("bench xdp_ratelimit_pass %.0f ns/pkt\n", xdp_ns(fd, f, n, repeat, NULL));

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t plen = sip("OPTIONS", sizes[i] - GK_TRAILER_LEN, buf);
		struct gk_fp_terminal t = {.index = 7, .mech = GK_FP_MECH_GKMAC};
		struct gk_fp_source src = {.family = GK_FP_AF_INET, .port = TERM_PORT};
		struct gk_fp_bucket hb = {0}, gb = {0};
		struct gk_fp_verdict v;
		struct gk_fp_port slot = {0};
		unsigned runs = repeat / 10 ? repeat / 10 : 1;
		double total = 0;
		uint64_t t0;
		int len = gk_pkt_seal((const uint8_t *)KEY, 7, seq++, buf, plen, sizeof(buf));

		n = frame(term_addr, TERM_PORT, buf, (size_t)len, f);
		/* Once through (it passes and is rewritten in place), then repeated from a fresh
		 * copy: each run verifies the tag in full and stops at the replay window, leaving
		 * the frame untouched for the next run. */
		xdp_ns(fd, f, n, 1, &rv);
		if (rv != XDP_PASS)
			fprintf(stderr, "gkxdpbench: the sealed datagram did not pass\n");
		n = frame(term_addr, TERM_PORT, buf, (size_t)len, f);
		printf("bench xdp_gkmac_verify_%zuB %.0f ns/pkt\n", sizes[i],
		       xdp_ns(fd, f, n, repeat, NULL));
		/* The same datagram from another address: refused before its tag is hashed. */
		n = frame(stranger, 40000, buf, (size_t)len, f);
		printf("bench xdp_gkmac_forged_source_%zuB %.0f ns/pkt\n", sizes[i],
		       xdp_ns(fd, f, n, repeat, &rv));
		if (rv != XDP_DROP)
			fprintf(stderr,
			        "gkxdpbench: a terminal's datagram from elsewhere passed\n");
		for (unsigned r = 0; r < runs / 10; r++) {
			len = gk_pkt_seal((const uint8_t *)KEY, 7, seq++, buf, plen, sizeof(buf));
			n = frame(term_addr, TERM_PORT, buf, (size_t)len, f);
			total += xdp_ns(fd, f, n, 1, &rv);
			if (rv != XDP_PASS)
				fprintf(stderr, "gkxdpbench: a fresh datagram did not pass\n");
		}
		printf("bench xdp_gkmac_pass_%zuB %.0f ns/pkt\n", sizes[i], total / (runs / 10));

		/* userspace: the same decision on the same datagram, window reset each time */
		t.family = GK_FP_AF_INET;
		t.port = TERM_PORT;
		memcpy(t.addr, term_addr, 4);
		memcpy(t.key, KEY, 16);
		memcpy(src.addr, term_addr, 4);
		gk_fp_port_class(&cfg, 5060, &slot);
		t0 = now_ns();
		for (unsigned r = 0; r < runs; r++) {
			t.win.top = t.win.bitmap = 0;
			gk_fp_decide(&cfg, &slot, &src, &t, &hb, &gb, buf, (__u32)len, r + 1, &v);
			if (v.stat != GK_FP_PASS_GKMAC)
				fprintf(stderr, "gkxdpbench: userspace refused the datagram\n");
		}
		printf("bench userfn_gkmac_verify_%zuB %.0f ns/pkt\n", sizes[i],
		       (double)(now_ns() - t0) / runs);
	}
	gk_xdp_close(x);
	return 0;
}
