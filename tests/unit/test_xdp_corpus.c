// SPDX-License-Identifier: GPL-2.0-only
/*
 * The same datagrams, in the same order, through the XDP program and through the userspace
 * decision sbcd falls back to (gk_fp_decide with state mirrored by hand): identical verdicts,
 * identical counters and identical delivered bytes and ports. Needs root (skips).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "kselftest_harness.h"

#include "gatekey/fastpath/pktmac.h"
#include "gatekey/fastpath/xdp.h"
#include "helper_frame.h"
#include "helper_xdp.h"

#define KEY "fedcba9876543210"

static const char *const payloads[] = {
    "OPTIONS sip:sbc SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n",
    "REGISTER sip:sbc SIP/2.0\r\nCSeq: 2 REGISTER\r\n\r\n",
    "INVITE sip:bob@sbc SIP/2.0\r\n\r\n",
    "\r\n\r\n",
    "",
    "REGISTER sip:sbc SIP/2.0\r\n",
};

struct who {
	uint8_t addr[4];
	uint16_t port;
};

static const struct who sources[] = {
    {{198, 18, 0, 2}, 5062}, /* gk-mac terminal 7 */
    {{198, 18, 0, 2}, 5063}, /* its host, another port */
    {{198, 18, 0, 5}, 5070}, /* digest terminal 20 */
    {{198, 18, 0, 9}, 40000},
};

static void term(struct gk_fp_terminal *t, uint32_t index, enum gk_fp_mech mech,
                 const struct who *w)
{
	memset(t, 0, sizeof(*t));
	t->index = index;
	t->mech = (uint8_t)mech;
	t->family = GK_FP_AF_INET;
	t->port = w->port;
	memcpy(t->addr, w->addr, 4);
	if (mech == GK_FP_MECH_GKMAC)
		memcpy(t->key, KEY, 16);
}

static int add(struct gk_xdp *x, const struct gk_fp_terminal *t)
{
	struct gk_fp_source src = {.family = t->family, .port = t->port};
	struct sockaddr_storage ss;

	memcpy(src.addr, t->addr, 16);
	gk_xdp_sockaddr_of(&src, &ss);
	return gk_xdp_terminal_add(x, t->index, &ss, (enum gk_fp_mech)t->mech, t->key);
}

static int stat_delta(const uint64_t *a, const uint64_t *b)
{
	int which = -1;

	for (int i = 0; i < GK_FP_STAT__COUNT; i++) {
		if (b[i] == a[i])
			continue;
		if (b[i] != a[i] + 1 || which >= 0)
			return -2;
		which = i;
	}
	return which;
}

static int find7(const struct gk_xdp_terminal_info *ti, void *arg)
{
	if (ti->index == 7)
		*(struct gk_xdp_terminal_info *)arg = *ti;
	return 0;
}

TEST(xdp_and_userspace_agree)
{
	struct gk_xdp *x = NULL;
	struct gk_fp_config cfg;
	struct gk_fp_terminal t7, t20;
	struct gk_fp_bucket host = {0}, global = {0};
	uint64_t before[GK_FP_STAT__COUNT], after[GK_FP_STAT__COUNT];
	uint8_t buf[1600], frame[2048], out[2048];
	uint64_t seq = 1;
	int agreed = 0;

	XDP_OPEN_OR_SKIP(&x, return );
	gk_fp_config_default(&cfg);
	/* Buckets that never run dry: time differs between the two runs. */
	cfg.source = cfg.global = cfg.terminal = (struct gk_fp_rate){1000000, 1000000};
	ASSERT_EQ(0, gk_xdp_set_config(x, &cfg));
	term(&t7, 7, GK_FP_MECH_GKMAC, &sources[0]);
	term(&t20, 20, GK_FP_MECH_DIGEST, &sources[2]);
	ASSERT_EQ(0, add(x, &t7));
	ASSERT_EQ(0, add(x, &t20));

	srand(42);
	for (int i = 0; i < 3000; i++) {
		const struct who *w = &sources[rand() % 4];
		const char *p = payloads[rand() % 6];
		struct frame_spec s = {.sport = w->port, .dport = rand() % 8 ? 5060 : 2427};
		struct gk_fp_source src = {.family = GK_FP_AF_INET, .port = w->port};
		struct gk_fp_port slot;
		struct gk_fp_frame fr;
		struct gk_fp_terminal *t = NULL;
		struct gk_fp_verdict v;
		size_t n = strlen(p), flen, l4;
		int r, mode = rand() % 4;
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_out = out,
		            .data_size_out = sizeof(out), .repeat = 1);

		memcpy(s.src, w->addr, 4);
		memcpy(s.dst, "\xc6\x12\x00\x01", 4);
		memcpy(src.addr, w->addr, 4);
		memcpy(buf, p, n);
		if (mode) { /* sealed: fresh, replayed, or for another index */
			uint32_t index = mode == 3 ? (rand() % 2 ? 20 : 8) : 7;
			uint64_t sq = mode == 2 && seq > 3 ? seq - 1 - rand() % 3 : seq++;
			n = (size_t)gk_pkt_seal((const uint8_t *)KEY, index, sq, buf, n,
			                        sizeof(buf));
		}
		if (n && rand() % 5 == 0) /* and sometimes damaged */
			buf[rand() % n] ^= (uint8_t)(1 << (rand() % 8));
		flen = frame_build(&s, buf, n, frame, sizeof(frame));
		l4 = frame_l4(&s);

		ASSERT_EQ(0, gk_xdp_stats(x, before));
		o.data_size_in = (uint32_t)flen;
		ASSERT_EQ(0, bpf_prog_test_run_opts(gk_xdp_prog_fd(x), &o));
		ASSERT_EQ(0, gk_xdp_stats(x, after));

		ASSERT_EQ(GK_FP_PORT_SIGNALLING, gk_fp_port_class(&cfg, s.dport, &slot));
		gk_fp_frame_parse(buf, (__u32)n, &fr);
		if (fr.framed)
			t = fr.index == 7 ? &t7 : fr.index == 20 ? &t20 : NULL;
		else if (!memcmp(w, &sources[0], sizeof(*w)))
			t = &t7;
		else if (!memcmp(w, &sources[2], sizeof(*w)))
			t = &t20;
		gk_fp_decide(&cfg, &slot, &src, t, &host, &global, buf, (__u32)n, 1, &v);

		r = stat_delta(before, after);
		ASSERT_EQ((int)v.stat, r)
		TH_LOG("datagram %d: XDP %s, userspace %s", i, r >= 0 ? gk_fp_stat_name(r) : "?",
		       gk_fp_stat_name(v.stat));
		if (v.stat == GK_FP_PASS_GKMAC || v.stat == GK_FP_PASS_DIGEST ||
		    v.stat == GK_FP_PASS_REGISTRATION) {
			ASSERT_EQ(XDP_PASS, o.retval);
			ASSERT_EQ(l4 + 8 + v.len, o.data_size_out);
			ASSERT_EQ(v.dport, out[l4 + 2] << 8 | out[l4 + 3]);
			ASSERT_EQ(0, memcmp(buf, out + l4 + 8, v.len));
			ASSERT_EQ(1, frame_check(&s, out, o.data_size_out));
		} else {
			ASSERT_EQ(XDP_DROP, o.retval);
		}
		agreed++;
	}
	/* The windows moved the same way. */
	{
		struct gk_xdp_terminal_info got = {0};
		EXPECT_EQ(2, gk_xdp_terminal_foreach(x, find7, &got));
		EXPECT_EQ(t7.win.top, got.seq_top);
		EXPECT_EQ(0, memcmp(got.key, KEY, 16));
	}
	EXPECT_EQ(3000, agreed);
	gk_xdp_close(x);
}

TEST_HARNESS_MAIN
