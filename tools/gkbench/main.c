// SPDX-License-Identifier: GPL-2.0-only
/*
 * gkbench: micro-benchmarks of gatekey's own paths, printed as "bench <name> <value> <unit>".
 *
 *   gkbench user-gkmac [--count N]
 *     sbcd's userspace gk-mac path for one datagram (its fast path without XDP): receive
 *     (io_uring multishot recvmsg on loopback UDP), the fast-path decision (gk_fp_user_check:
 *     source, SipHash-2-4-128 trailer, replay window, strip), decode the SIP request. A terminal is
 * registered in-process first (front, core and AuC computation from libgatekey). The baseline in
 * the same run is the receive alone on the same loop, so the ratio is what gk-mac costs on top of
 * UDP.
 *
 *   gkbench reg-cpu [--count N]
 *     CPU time of one whole gk1 registration without the network: terminal, front, core and AuC
 *     in one process, messages handed over as structures. With the kernel's cost per datagram
 *     (udp-pingpong, pingpong.c) it makes the floor of docs/performance.md.
 *
 *   gkbench udp-echo --listen IP:PORT [--seconds S]
 *   gkbench udp-pingpong --to IP:PORT --name NAME [--count N] [--size B] [--window W]
 *     the kernel's cost per datagram on a path (pingpong.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gatekey/codec/codec.h"
#include "gatekey/runtime/config.h"
#include "gatekey/exchange/direct.h"
#include "gatekey/fastpath/fp_user.h"
#include "gatekey/runtime/log.h"
#include "gatekey/exchange/terminal.h"
#include "gatekey/auc/vector.h"
#include "pingpong.h"

#define BATCH 256

struct bench {
	struct gk_loop *loop;
	struct gk_direct d;
	uint8_t kc[GK_KEY_LEN], kss[GK_KEY_LEN];
	struct gk_terminal t;
	struct gk_msg out;
	bool have_out;
	uint32_t auc_handle;
	bool auc_pending;
	const struct gk_codec *sip;
	/* measurement */
	bool verify;
	uint64_t seen, want, passed, dropped;
	struct gk_fp_user *fp;
	uint16_t port; /* the receiving socket's: the signalling port of the fast path */
	struct gk_binding *bound;
};

static void b_up(void *user, struct gk_binding *b)
{
	((struct bench *)user)->bound = b;
}

static void b_send(void *user, const struct gk_msg *m, const struct sockaddr_storage *to,
                   struct gk_binding *b)
{
	struct bench *x = user;
	(void)to;
	(void)b;
	memcpy(&x->out, m, sizeof(*m));
	x->have_out = true;
}

static void b_auc(void *user, uint32_t handle, const char *idc, const char *idsp)
{
	struct bench *x = user;
	(void)idc;
	(void)idsp;
	x->auc_handle = handle;
	x->auc_pending = true;
}

static int register_terminal(struct bench *x, const struct sockaddr_storage *from)
{
	struct gk_msg req, next;
	gk_terminal_register(&x->t, &req);
	for (int step = 0; step < 4; step++) {
		x->have_out = false;
		gk_registrar_on_message(x->d.front, &req, from, 0);
		if (x->auc_pending) {
			struct gk_auc_vector v;
			x->auc_pending = false;
			gk_vector_make(x->kc, x->kss, GK_ROLE_SBC, x->t.idc, "sbc1", &v);
			gk_core_auc_vector(x->d.core, x->auc_handle, &v);
		}
		if (!x->have_out)
			return -1;
		int ret = gk_terminal_on_message(&x->t, &x->out, &next);
		if (ret == 0)
			return 0;
		if (ret != 1)
			return -1;
		req = next;
	}
	return -1;
}

static uint64_t now_ns(void);

static void on_dgram(void *user, int fd, uint8_t *data, size_t len,
                     const struct sockaddr_storage *from)
{
	struct bench *x = user;
	(void)fd;
	if (x->verify) {
		struct gk_msg m;
		enum gk_reason why;
		uint32_t index;
		enum gk_fp_stat stat;
		long n = gk_fp_user_check(x->fp, x->port, from, data, (uint32_t)len, now_ns(),
		                          &index, &stat);
		if (n > 0 && index && x->sip->decode(data, (size_t)n, &m, &why) == 0 &&
		    m.type == GK_MSG_OTHER)
			x->passed++;
		else
			x->dropped++;
	}
	if (++x->seen == x->want)
		gk_loop_stop(x->loop);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * An OPTIONS of this terminal in compact form (as a phone short of MTU would send it), padded
 * to `size` bytes including the trailer with a Subject header field: an OPTIONS may not carry a
 * body here (the SIP codec refuses one it would not read).
 */
static int make_datagram(struct bench *x, size_t size, uint8_t *buf, size_t cap)
{
	char head[512];
	int h =
	    snprintf(head, sizeof(head),
	             "OPTIONS sip:%s SIP/2.0\r\nv: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n"
	             "f: <sip:%s@%s>;tag=1\r\nt: <sip:%s@%s>\r\ni: b1\r\nCSeq: 1 OPTIONS\r\n",
	             x->t.idsp, x->t.idc, x->t.idsp, x->t.idc, x->t.idsp);
	const char *pad_name = "s: ", *tail = "\r\nl: 0\r\n\r\n";
	size_t fixed = (size_t)h + strlen(pad_name) + 1 + strlen(tail) + GK_TRAILER_LEN;
	if (size < fixed || size > cap) {
		fprintf(stderr, "gkbench: a datagram needs %zu..%zu bytes\n", fixed, cap);
		return -1;
	}
	size_t pad = size - fixed + 1;
	int w = snprintf((char *)buf, cap, "%s%s", head, pad_name);
	memset(buf + w, 'x', pad);
	w += (int)pad;
	memcpy(buf + w, tail, strlen(tail));
	return w + (int)strlen(tail);
}

static double run(struct bench *x, int tx, int rx, const struct sockaddr_storage *dst,
                  uint8_t *dgram, size_t len, uint64_t count, bool verify)
{
	uint8_t pkt[2048];
	uint64_t spent = 0;

	x->verify = verify;
	x->passed = x->dropped = 0;
	for (uint64_t done = 0; done < count; done += BATCH) {
		for (int i = 0; i < BATCH; i++) {
			memcpy(pkt, dgram, len);
			int n = gk_pkt_seal_next(x->t.keys.uplink, x->t.index, &x->t.seq_up, pkt,
			                         len, sizeof(pkt));
			if (sendto(tx, pkt, (size_t)n, 0, (const struct sockaddr *)dst,
			           gk_sockaddr_len(dst)) < 0) {
				perror("gkbench: sendto");
				return -1;
			}
		}
		x->seen = 0;
		x->want = BATCH;
		uint64_t t0 = now_ns();
		gk_loop_run(x->loop);
		spent += now_ns() - t0;
	}
	(void)rx;
	return (double)spent / (double)count;
}

/* The front, core and AuC of one process (struct gk_direct), as sbcd's own registrar. */
static int setup(struct bench *x, uint32_t max_terminals)
{
	char err[256];

	gk_log_init("gkbench", false, GK_LOG_WARN);
	gk_crypto_init();
	x->sip = gk_codec_get(GK_PROTO_SIP);
	x->loop = gk_loop_new(NULL, err, sizeof(err));
	if (!x->loop) {
		fprintf(stderr, "gkbench: %s\n", err);
		return -1;
	}

	struct gk_registrar_cfg rc;
	struct gk_core_cfg cc;
	gk_registrar_cfg_defaults(&rc);
	gk_core_cfg_defaults(&cc);
	strcpy(rc.idsp, "sbc1");
	rc.role = GK_ROLE_SBC;
	rc.log_registrations = false;
	rc.max_terminals = cc.max_terminals = max_terminals;
	rc.max_pending = cc.max_pending = 64;
	gk_random(x->kss, sizeof(x->kss));
	gk_random(x->kc, sizeof(x->kc));
	memcpy(rc.element_key, x->kss, GK_KEY_LEN);
	static const struct gk_direct_ops ops = {
	    .send_terminal = b_send, .auc_request = b_auc, .binding_up = b_up};
	if (gk_direct_init(&x->d, &rc, &cc, &ops, x, x->loop, err, sizeof(err)) < 0) {
		fprintf(stderr, "gkbench: %s\n", err);
		return -1;
	}

	return 0;
}

static int user_gkmac(struct bench *x, uint64_t count)
{
	char err[256];

	if (setup(x, 1024) < 0)
		return 1;
	struct sockaddr_storage any, src, dst;
	socklen_t sl = sizeof(src);
	gk_parse_addr("127.0.0.1:0", &any, err, sizeof(err));
	int rx = gk_udp_socket(&any), tx = gk_udp_socket(&any);
	getsockname(rx, (struct sockaddr *)&dst, &sl);
	sl = sizeof(src);
	getsockname(tx, (struct sockaddr *)&src, &sl);
	gk_loop_add_udp(x->loop, rx, on_dgram, x);
	/* The sender fills the receive queue between measured batches only; it may block. */
	fcntl(tx, F_SETFL, fcntl(tx, F_GETFL) & ~O_NONBLOCK);

	strcpy(x->t.idc, "b1");
	strcpy(x->t.idsp, "sbc1");
	memcpy(x->t.kc, x->kc, GK_KEY_LEN);
	x->t.offer[0] = (struct gk_mech_offer){GK_MECH_GKMAC, 1000};
	x->t.n_offer = 1;
	if (register_terminal(x, &src) < 0 || x->t.state != GK_TERM_REGISTERED || !x->bound) {
		fprintf(stderr, "gkbench: in-process registration failed\n");
		return 1;
	}
	/* sbcd's fast path without XDP: the port plan names the receiving socket's port. */
	struct gk_fp_config fc;
	struct gk_binding_record br;
	gk_fp_config_default(&fc);
	x->port = ntohs(((struct sockaddr_in *)&dst)->sin_port);
	fc.ports[0].port = x->port;
	x->fp = gk_fp_user_new(1024);
	gk_binding_record_of(x->bound, &br);
	if (!x->fp) {
		fprintf(stderr, "gkbench: out of memory\n");
		return 1;
	}
	gk_fp_user_set_config(x->fp, &fc);
	if (gk_fp_user_terminal_add(x->fp, br.index, &br.addr, GK_FP_MECH_GKMAC, br.keys.uplink) <
	    0) {
		fprintf(stderr, "gkbench: installing the terminal failed\n");
		return 1;
	}
	gk_wipe(&br, sizeof(br));

	static const size_t sizes[] = {200, 600, 1400};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t dgram[2048];
		int n = make_datagram(x, sizes[i], dgram, sizeof(dgram));
		if (n < 0) {
			fprintf(stderr, "gkbench: cannot build a %zu-byte datagram\n", sizes[i]);
			return 1;
		}
		double base = run(x, tx, rx, &dst, dgram, (size_t)n, count, false);
		double full = run(x, tx, rx, &dst, dgram, (size_t)n, count, true);
		if (base < 0 || full < 0 || x->passed != count || x->dropped) {
			fprintf(stderr, "gkbench: %llu of %llu datagrams passed, %llu dropped\n",
			        (unsigned long long)x->passed, (unsigned long long)count,
			        (unsigned long long)x->dropped);
			return 1;
		}
		printf("bench user_recv_only_%zuB %.0f ns/pkt\n", sizes[i], base);
		printf("bench user_gkmac_verify_%zuB %.0f ns/pkt\n", sizes[i], full);
		printf("bench user_gkmac_verify_ratio_%zuB %.2f x\n", sizes[i], full / base);
	}
	gk_fp_user_free(x->fp);
	gk_direct_fini(&x->d);
	gk_loop_free(x->loop);
	close(rx);
	close(tx);
	return 0;
}

/* Registrations of distinct terminals, one after the other, and the process CPU they took. */
static int reg_cpu(struct bench *x, uint64_t count)
{
	struct sockaddr_storage from;
	char err[128];
	struct timespec c0, c1;

	if (setup(x, (uint32_t)count + 16) < 0)
		return 1;
	gk_parse_addr("198.18.1.2:5060", &from, err, sizeof(err));
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	for (uint64_t i = 0; i < count; i++) {
		memset(&x->t, 0, sizeof(x->t));
		snprintf(x->t.idc, sizeof(x->t.idc), "b%llu", (unsigned long long)i + 1);
		strcpy(x->t.idsp, "sbc1");
		memcpy(x->t.kc, x->kc, GK_KEY_LEN);
		x->t.offer[0] = (struct gk_mech_offer){GK_MECH_GKMAC, 1000};
		x->t.n_offer = 1;
		gk_terminal_reset(&x->t);
		x->bound = NULL;
		if (register_terminal(x, &from) < 0 || x->t.state != GK_TERM_REGISTERED ||
		    !x->bound) {
			fprintf(stderr, "gkbench: in-process registration %llu failed\n",
			        (unsigned long long)i + 1);
			return 1;
		}
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	double ns = (double)(c1.tv_sec - c0.tv_sec) * 1e9 + (double)(c1.tv_nsec - c0.tv_nsec);
	printf("bench reg_cpu_inprocess %.1f us/reg\n", ns / (double)count / 1e3);
	gk_terminal_wipe(&x->t);
	gk_direct_fini(&x->d);
	gk_loop_free(x->loop);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: gkbench user-gkmac [--count N]\n"
	        "       gkbench reg-cpu [--count N]\n"
	        "       gkbench udp-echo --listen IP:PORT [--seconds S]\n"
	        "       gkbench udp-pingpong --to IP:PORT --name NAME [--count N] [--size B]"
	        " [--window W]\n");
}

int main(int argc, char **argv)
{
	static struct bench x;
	uint64_t count = 0;
	const char *listen = NULL, *to = NULL, *name = NULL;
	unsigned seconds = 60, size = 600, window = 256;

	if (argc < 2 || (argc - 2) % 2) {
		usage();
		return 2;
	}
	for (int i = 2; i + 1 < argc; i += 2) {
		const char *o = argv[i], *v = argv[i + 1];
		if (!strcmp(o, "--count"))
			count = strtoull(v, NULL, 10);
		else if (!strcmp(o, "--listen"))
			listen = v;
		else if (!strcmp(o, "--seconds"))
			seconds = (unsigned)strtoul(v, NULL, 10);
		else if (!strcmp(o, "--to"))
			to = v;
		else if (!strcmp(o, "--name"))
			name = v;
		else if (!strcmp(o, "--size"))
			size = (unsigned)strtoul(v, NULL, 10);
		else if (!strcmp(o, "--window"))
			window = (unsigned)strtoul(v, NULL, 10);
		else {
			usage();
			return 2;
		}
	}
	if (!strcmp(argv[1], "user-gkmac"))
		return user_gkmac(&x, count ? (count + BATCH - 1) / BATCH * BATCH : 200192);
	if (!strcmp(argv[1], "reg-cpu"))
		return reg_cpu(&x, count ? count : 20000);
	if (!strcmp(argv[1], "udp-echo") && listen)
		return gkbench_udp_echo(listen, seconds);
	if (!strcmp(argv[1], "udp-pingpong") && to && name)
		return gkbench_udp_pingpong(to, name, count ? count : 200000, size, window);
	usage();
	return 2;
}
