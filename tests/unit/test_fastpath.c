// SPDX-License-Identifier: GPL-2.0-only
/*
 * The shared fast-path decision (include/gatekey/fastpath/fastpath.h) in userspace: its SipHash
 * against OpenSSL and the reference, the registration classifiers of the four protocols, the token
 * bucket, the replay window and the decision flow.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"

#include "gatekey/crypto/crypto.h"
#include "gatekey/fastpath/admission.h"
#include "gatekey/fastpath/fastpath.h"
#include "gatekey/fastpath/pktmac.h"
#include "helper_siphash.h"

TEST(siphash_agrees_with_openssl_and_reference)
{
	static uint8_t buf[1500];
	uint8_t key[16], a[16], b[16], c[16];

	srand(7);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
	for (size_t len = 0; len <= sizeof(buf); len++) {
		size_t split = len >= 16 ? len - 16 : len;

		for (int i = 0; i < 16; i++)
			key[i] = (uint8_t)(len * 31 + (size_t)i);
		gk_fp_siphash128(key, buf, (__u32)len, a);
		ref_siphash24_128(key, buf, len, b);
		ASSERT_EQ(0, gk_siphash128(key, buf, split, buf + split, len - split, c));
		ASSERT_EQ(0, memcmp(a, b, 16)) TH_LOG("reference differs at len %zu", len);
		ASSERT_EQ(0, memcmp(a, c, 16)) TH_LOG("OpenSSL differs at len %zu", len);
	}
}

TEST(tag_compare)
{
	uint8_t a[16] = {1, 2, 3}, b[16] = {1, 2, 3};

	EXPECT_EQ(1, gk_fp_tag_equal(a, b));
	for (int i = 0; i < 128; i++) {
		b[i / 8] ^= (uint8_t)(1 << (i % 8));
		EXPECT_EQ(0, gk_fp_tag_equal(a, b));
		b[i / 8] ^= (uint8_t)(1 << (i % 8));
	}
}

static int reg(int proto, const void *msg, size_t len)
{
	struct gk_fp_dfa ws;

	return gk_fp_is_registration((__u32)proto, msg, (__u32)len, &ws);
}

#define REG(p, s) reg((p), (s), sizeof(s) - 1)

/* The shortest prefix that classifies as registration, -1 if a longer one then fails again:
 * truncated before the decisive byte means "not registration". */
static long min_prefix(int proto, const char *msg)
{
	size_t n = strlen(msg);
	long m = -1;

	for (size_t i = 0; i <= n; i++) {
		char *copy = malloc(i + 1);
		int r;

		memcpy(copy, msg, i);
		r = reg(proto, copy, i);
		free(copy);
		if (r && m < 0)
			m = (long)i;
		if (!r && m >= 0)
			return -1;
	}
	return m;
}

static const char *const sip_yes[] = {
    "REGISTER sip:sbc1.example.net SIP/2.0\r\nVia: SIP/2.0/UDP 198.18.0.2\r\n\r\n",
    "\r\n\r\nREGISTER sip:a SIP/2.0\r\n",
    "REGISTER sip:a sip/2.0\r\n",
    "REGISTER sips:user@[2001:db8::1]:5061;transport=udp SIP/2.0\r\n",
};
static const char *const sip_no[] = {
    "register sip:a SIP/2.0\r\n",
    "Register sip:a SIP/2.0\r\n",
    "INVITE sip:a SIP/2.0\r\n",
    "REGISTERX sip:a SIP/2.0\r\n",
    "REGISTER  sip:a SIP/2.0\r\n",
    "REGISTER sip:a SIP/2.0\n",
    "REGISTER sip:a SIP/3.0\r\n",
    "REGISTER sip:a  SIP/2.0\r\n",
    "REGISTER\tsip:a SIP/2.0\r\n",
    "SIP/2.0 200 OK\r\n",
    "\r\n\r\n\r\n\r\n\rREGISTER sip:a SIP/2.0\r\n",
    "OPTIONS sip:a SIP/2.0\r\n",
    "",
};

TEST(classify_sip)
{
	for (size_t i = 0; i < sizeof(sip_yes) / sizeof(sip_yes[0]); i++) {
		EXPECT_EQ(1, reg(GK_FP_PROTO_SIP, sip_yes[i], strlen(sip_yes[i])))
		TH_LOG("%s", sip_yes[i]);
		EXPECT_EQ(strchr(strstr(sip_yes[i], "REGISTER"), '\n') - sip_yes[i] + 1,
		          min_prefix(GK_FP_PROTO_SIP, sip_yes[i]));
		/* right syntax, wrong port: each classifier only knows its own protocol */
		EXPECT_EQ(0, reg(GK_FP_PROTO_MGCP, sip_yes[i], strlen(sip_yes[i])));
	}
	for (size_t i = 0; i < sizeof(sip_no) / sizeof(sip_no[0]); i++) {
		EXPECT_EQ(0, reg(GK_FP_PROTO_SIP, sip_no[i], strlen(sip_no[i])))
		TH_LOG("%s", sip_no[i]);
	}
}

static const char *const mgcp_yes[] = {
    "RSIP 1200 aaln/1@gw1.example.net MGCP 1.0\r\nRM: restart\r\n",
    "rsip 1 *@[198.18.0.2] mgcp 1.0\n",
    "NTFY  999999999\tep@gw  MGCP\t1.0 NCS 1.0\r\n",
    "ntfy 44 a@b MGCP 10.12\r\n",
};
static const char *const mgcp_no[] = {
    "RQNT 1200 aaln/1@gw MGCP 1.0\r\n", "RSIP 1234567890 a@b MGCP 1.0\r\n",
    "RSIP 12 ab MGCP 1.0\r\n",          "RSIP12 a@b MGCP 1.0\r\n",
    "RSIP 12a a@b MGCP 1.0\r\n",        "RSIP 12 a@b MGCP1.0\r\n",
    "RSIP 12 a@b SIP 1.0\r\n",          "RSIP 12 a@b MGCP 1\r\n",
    "RSIPX 1 a@b MGCP 1.0\r\n",         " RSIP 1 a@b MGCP 1.0\r\n",
    "RSIP 1 a@b MGCP .0\r\n",
};

/* Responses: a gateway acknowledges the challenge RQNT before it holds a key. */
static const char *const mgcp_response_yes[] = {
    "200 1200 OK\r\n", "000 7\r\n", "100 999999999 Pending\n", "510\t12 \r\nK:\r\n", "200 1\nK:\n",
};
static const char *const mgcp_response_no[] = {
    "20 1200 OK\r\n", "2000 1200 OK\r\n", "200 OK\r\n",      "200 1234567890 OK\r\n",
    "200 12a OK\r\n", "200 1200",         "200\r\n1200\r\n", "2x0 1 OK\r\n",
};

TEST(classify_mgcp_responses)
{
	for (size_t i = 0; i < sizeof(mgcp_response_yes) / sizeof(mgcp_response_yes[0]); i++) {
		EXPECT_EQ(1,
		          reg(GK_FP_PROTO_MGCP, mgcp_response_yes[i], strlen(mgcp_response_yes[i])))
		TH_LOG("%s", mgcp_response_yes[i]);
	}
	for (size_t i = 0; i < sizeof(mgcp_response_no) / sizeof(mgcp_response_no[0]); i++) {
		EXPECT_EQ(0,
		          reg(GK_FP_PROTO_MGCP, mgcp_response_no[i], strlen(mgcp_response_no[i])))
		TH_LOG("%s", mgcp_response_no[i]);
	}
}

TEST(classify_mgcp)
{
	for (size_t i = 0; i < sizeof(mgcp_yes) / sizeof(mgcp_yes[0]); i++) {
		EXPECT_EQ(1, reg(GK_FP_PROTO_MGCP, mgcp_yes[i], strlen(mgcp_yes[i])))
		TH_LOG("%s", mgcp_yes[i]);
		EXPECT_EQ(strchr(strcasestr(mgcp_yes[i], "mgcp"), '.') - mgcp_yes[i] + 2,
		          min_prefix(GK_FP_PROTO_MGCP, mgcp_yes[i]));
		EXPECT_EQ(0, reg(GK_FP_PROTO_SIP, mgcp_yes[i], strlen(mgcp_yes[i])));
	}
	for (size_t i = 0; i < sizeof(mgcp_no) / sizeof(mgcp_no[0]); i++) {
		EXPECT_EQ(0, reg(GK_FP_PROTO_MGCP, mgcp_no[i], strlen(mgcp_no[i])))
		TH_LOG("%s", mgcp_no[i]);
	}
}

static const char *const h248_yes[] = {
    "MEGACO/1 [198.18.0.2]:2944\r\nTransaction = 9998 {\r\n  Context = - {\r\n"
    "    ServiceChange = ROOT {Services {Method=Restart, ServiceChangeAddress=55555}}}}\r\n",
    "!/1 [198.18.0.2] T=1{C=-{SC=ROOT{SV{MT=RS,RE=\"901\"}}}}",
    "megaco/1 <mg1.example.net>\ntransaction=2{context=7{notify=a/1{ObservedEvents=1{}}}}",
    "; a comment\r\n  MEGACO/1 mg1 ; another\r\n T = 3 ; c\n { C = 5 { O-W-N = x {}}}",
    "AU = 0x1a2b:0x00000001:0xdeadbeef MEGACO/1 [198.18.0.2] T=1{C=-{SC=ROOT{}}}",
    "Authentication=0x1:0x2:0x3\r\n!/2 [2001:db8::2]:2944 Transaction=4 {Context=*{W-Notify=R}}",
};
static const char *const h248_no[] = {
    "MEGACO/1 [198.18.0.2] T=1{C=-{MF=a/1{}}}",       "MEGACO/123 [198.18.0.2] T=1{C=-{SC=ROOT{}}}",
    "MEGACO/1[198.18.0.2] T=1{C=-{SC=ROOT{}}}",       "MEGACO 1 [198.18.0.2] T=1{C=-{SC=ROOT{}}}",
    "MEGACO/1 [198.18.0.2] T=x{C=-{SC=ROOT{}}}",      "MEGACO/1 [198.18.0.2] T=1{C=-{SCX=ROOT{}}}",
    "MEGACO/1 [198.18.0.2] T=1{C=-{PR=1,SC=ROOT{}}}", "MEGAC/1 [198.18.0.2] T=1{C=-{SC=ROOT{}}}",
    "XX=1 MEGACO/1 [198.18.0.2] T=1{C=-{SC=ROOT{}}}", "RSIP 1 a@b MGCP 1.0\r\n",
};

/* Replies, pendings and response acknowledgements: an MG answers the challenge Modify before it
 * holds a key. */
static const char *const h248_reply_yes[] = {
    "MEGACO/1 [198.18.0.2] Reply=1{C=-{SC=ROOT{}}}",
    "MEGACO/1 [198.18.0.2] P=1{C=-{SC=ROOT{}}}",
    "!/1 [198.18.0.2]:2944 P=7{C=-{MF=gk/1}}",
    "MEGACO/1 mg1\r\nPending=12{}\r\n",
    "!/1 mg1 PN=12{}",
    "MEGACO/1 [2001:db8::2]:2944 TransactionResponseAck{12}",
    "!/1 mg1 K{12-14}",
    "; c\r\nmegaco/1 mg1 ; c\r\n reply = 3 {context=-{modify=ROOT}}",
};
static const char *const h248_reply_no[] = {
    "MEGACO/1 [198.18.0.2] Replies=1{C=-{SC=ROOT{}}}",
    "MEGACO/1 [198.18.0.2] R=1{C=-{SC=ROOT{}}}",
    "MEGACO/1 [198.18.0.2] PX=1{}",
    "MEGACO/1[198.18.0.2] P=1{}",
    "MEGACO/1 Reply=1{}",
    "Reply=1{C=-{SC=ROOT{}}}",
};

TEST(classify_h248_replies)
{
	for (size_t i = 0; i < sizeof(h248_reply_yes) / sizeof(h248_reply_yes[0]); i++) {
		EXPECT_EQ(1, reg(GK_FP_PROTO_H248, h248_reply_yes[i], strlen(h248_reply_yes[i])))
		TH_LOG("%s", h248_reply_yes[i]);
	}
	for (size_t i = 0; i < sizeof(h248_reply_no) / sizeof(h248_reply_no[0]); i++) {
		EXPECT_EQ(0, reg(GK_FP_PROTO_H248, h248_reply_no[i], strlen(h248_reply_no[i])))
		TH_LOG("%s", h248_reply_no[i]);
	}
}

TEST(classify_h248)
{
	for (size_t i = 0; i < sizeof(h248_yes) / sizeof(h248_yes[0]); i++) {
		EXPECT_EQ(1, reg(GK_FP_PROTO_H248, h248_yes[i], strlen(h248_yes[i])))
		TH_LOG("%s", h248_yes[i]);
		EXPECT_LT(20, min_prefix(GK_FP_PROTO_H248, h248_yes[i]));
	}
	for (size_t i = 0; i < sizeof(h248_no) / sizeof(h248_no[0]); i++) {
		EXPECT_EQ(0, reg(GK_FP_PROTO_H248, h248_no[i], strlen(h248_no[i])))
		TH_LOG("%s", h248_no[i]);
	}
}

TEST(classify_ras)
{
	/* GRQ: choice 0, seq num 1, protocolIdentifier 0.0.8.2250.0.4, ... */
	static const uint8_t grq[] = {0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x08,
	                              0x91, 0x4a, 0x00, 0x04, 0x00, 0xc6, 0x12};
	/* RRQ: choice 3, sequence extension bit set */
	static const uint8_t rrq[] = {0x0e, 0x00, 0x00, 0x01, 0x06, 0x00, 0x08,
	                              0x91, 0x4a, 0x00, 0x05, 0x01, 0x00};
	uint8_t m[sizeof(rrq)];

	EXPECT_EQ(1, reg(GK_FP_PROTO_RAS, grq, sizeof(grq)));
	EXPECT_EQ(1, reg(GK_FP_PROTO_RAS, rrq, sizeof(rrq)));
	EXPECT_EQ(0, reg(GK_FP_PROTO_RAS, rrq, 10)); /* truncated */
	EXPECT_EQ(0, reg(GK_FP_PROTO_SIP, rrq, sizeof(rrq)));
	for (int first = 0; first < 256; first++) {
		memcpy(m, rrq, sizeof(m));
		m[0] = (uint8_t)first;
		EXPECT_EQ(first < 4 || (first >= 0x0c && first < 0x10),
		          reg(GK_FP_PROTO_RAS, m, sizeof(m)))
		TH_LOG("first octet %#x", first);
	}
	for (int i = 4; i < 10; i++) {
		memcpy(m, rrq, sizeof(m));
		m[i] ^= 0x20;
		EXPECT_EQ(0, reg(GK_FP_PROTO_RAS, m, sizeof(m))) TH_LOG("octet %d", i);
	}
}

/* XDP copies the whole classifier prefix only when gk_fp_head_decides() says the head is not
 * enough: when it says it is, what lies beyond the head must not change the classification. */
static void head_check(struct __test_metadata *_metadata, uint32_t proto, const void *msg,
                       size_t len)
{
	uint8_t poisoned[GK_FP_SCAN + 64];
	struct gk_fp_dfa d;
	size_t n = len < sizeof(poisoned) ? len : sizeof(poisoned);

	if (!gk_fp_head_decides(proto, msg, (uint32_t)len, &d))
		return;
	memcpy(poisoned, msg, n);
	for (size_t i = GK_FP_HEAD; i < n; i++)
		poisoned[i] = (uint8_t)(i * 7 + 1);
	EXPECT_EQ(reg(proto, msg, len), reg(proto, poisoned, n))
	TH_LOG("%.*s", (int)n, (char *)msg);
}

TEST(head_decides_only_what_the_head_decides)
{
	static const struct {
		uint32_t proto;
		const char *const *msgs;
		size_t n;
	} sets[] = {
	    {GK_FP_PROTO_SIP, sip_yes, sizeof(sip_yes) / sizeof(sip_yes[0])},
	    {GK_FP_PROTO_SIP, sip_no, sizeof(sip_no) / sizeof(sip_no[0])},
	    {GK_FP_PROTO_MGCP, mgcp_yes, sizeof(mgcp_yes) / sizeof(mgcp_yes[0])},
	    {GK_FP_PROTO_MGCP, mgcp_no, sizeof(mgcp_no) / sizeof(mgcp_no[0])},
	    {GK_FP_PROTO_H248, h248_yes, sizeof(h248_yes) / sizeof(h248_yes[0])},
	    {GK_FP_PROTO_H248, h248_no, sizeof(h248_no) / sizeof(h248_no[0])},
	};
	struct gk_fp_dfa d;
	uint8_t junk[64];

	for (size_t s = 0; s < sizeof(sets) / sizeof(sets[0]); s++)
		for (size_t i = 0; i < sets[s].n; i++)
			for (uint32_t p = GK_FP_PROTO_SIP; p <= GK_FP_PROTO_RAS; p++)
				head_check(_metadata, p, sets[s].msgs[i], strlen(sets[s].msgs[i]));
	srand(7);
	for (int k = 0; k < 20000; k++) {
		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] =
			    (uint8_t)(k & 1 ? rand() : " RAEGISTMNPQ0123456789\r\n/!"[rand() % 26]);
		for (uint32_t p = GK_FP_PROTO_SIP; p <= GK_FP_PROTO_RAS; p++)
			head_check(_metadata, p, junk, 1 + (size_t)k % sizeof(junk));
	}
	/* What it is for: a stranger's OPTIONS is refused on its head; a REGISTER needs more. */
	EXPECT_EQ(1, gk_fp_head_decides(GK_FP_PROTO_SIP, (const uint8_t *)sip_no[11],
	                                strlen(sip_no[11]), &d));
	EXPECT_EQ(0, gk_fp_head_decides(GK_FP_PROTO_SIP, (const uint8_t *)sip_yes[0],
	                                strlen(sip_yes[0]), &d));
}

TEST(bucket_burst_then_refill)
{
	struct gk_fp_bucket b = {0};
	struct gk_fp_rate r = {.rate = 10, .burst = 5};
	__u64 t0 = 1000 * GK_FP_NS;

	for (int i = 0; i < 5; i++)
		EXPECT_EQ(1, gk_fp_bucket_take(&b, &r, t0));
	EXPECT_EQ(0, gk_fp_bucket_take(&b, &r, t0));
	EXPECT_EQ(0, gk_fp_bucket_take(&b, &r, t0 + 99999999)); /* 0.99999999 token */
	EXPECT_EQ(1, gk_fp_bucket_take(&b, &r, t0 + 100000000));
	EXPECT_EQ(0, gk_fp_bucket_take(&b, &r, t0 + 100000000));
	/* a long pause refills to the burst, not beyond */
	for (int i = 0; i < 5; i++)
		EXPECT_EQ(1, gk_fp_bucket_take(&b, &r, t0 + 3600 * GK_FP_NS));
	EXPECT_EQ(0, gk_fp_bucket_take(&b, &r, t0 + 3600 * GK_FP_NS));
	/* time going backwards refills nothing */
	EXPECT_EQ(0, gk_fp_bucket_take(&b, &r, t0));
	/* burst 0: unlimited; rate 0: the burst only */
	r.burst = 0;
	EXPECT_EQ(1, gk_fp_bucket_take(&b, &r, t0));
	memset(&b, 0, sizeof(b));
	r = (struct gk_fp_rate){.rate = 0, .burst = 2};
	EXPECT_EQ(1, gk_fp_bucket_take(&b, &r, t0));
	EXPECT_EQ(1, gk_fp_bucket_take(&b, &r, t0 + GK_FP_NS));
	EXPECT_EQ(0, gk_fp_bucket_take(&b, &r, t0 + 1000 * GK_FP_NS));
	/* extremes do not overflow */
	memset(&b, 0, sizeof(b));
	r = (struct gk_fp_rate){.rate = 0xffffffffu, .burst = 1000000000u};
	EXPECT_EQ(1, gk_fp_bucket_take(&b, &r, 1));
	EXPECT_EQ(1, gk_fp_bucket_take(&b, &r, ~0ull));
}

TEST(window)
{
	struct gk_fp_window w = {0};
	__u64 seqs[] = {1, 2, 5, 4, 70, 7, 6, 69};
	__u32 want[] = {GK_FP_PASS_GKMAC, GK_FP_PASS_GKMAC, GK_FP_PASS_GKMAC,   GK_FP_PASS_GKMAC,
	                GK_FP_PASS_GKMAC, GK_FP_PASS_GKMAC, GK_FP_DROP_OLD_SEQ, GK_FP_PASS_GKMAC};

	EXPECT_EQ(GK_FP_DROP_OLD_SEQ, gk_fp_window_check(&w, 0));
	for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
		__u32 got = gk_fp_window_check(&w, seqs[i]);
		EXPECT_EQ(want[i], got) TH_LOG("seq %llu", (unsigned long long)seqs[i]);
		if (got == GK_FP_PASS_GKMAC)
			gk_fp_window_update(&w, seqs[i]);
		EXPECT_EQ(GK_FP_PASS_GKMAC == got ? GK_FP_DROP_REPLAY : got,
		          gk_fp_window_check(&w, seqs[i]));
	}
	EXPECT_EQ(GK_FP_DROP_REPLAY, gk_fp_window_check(&w, 7));
	EXPECT_EQ(GK_FP_PASS_GKMAC, gk_fp_window_check(&w, 8));
	gk_fp_window_update(&w, 1000);
	EXPECT_EQ(GK_FP_DROP_OLD_SEQ, gk_fp_window_check(&w, 936));
	EXPECT_EQ(GK_FP_PASS_GKMAC, gk_fp_window_check(&w, 937));
}

/* The whole decision, as sbcd's userspace fallback makes it. */
TEST(decide_flow)
{
	struct gk_fp_config cfg;
	struct gk_fp_port slot;
	struct gk_fp_terminal t = {0};
	struct gk_fp_source src = {.family = GK_FP_AF_INET, .port = 5062, .addr = {198, 18, 0, 2}};
	struct gk_fp_source other = src;
	struct gk_fp_bucket host = {0}, global = {0};
	struct gk_fp_verdict v;
	uint8_t key[16] = {9}, buf[256], poisoned[256];
	struct gk_fp_frame fr;
	struct gk_fp_dfa ws;
	const char *opt = "OPTIONS sip:sbc SIP/2.0\r\n\r\n",
	           *regm = "REGISTER sip:sbc SIP/2.0\r\n\r\n";
	size_t n = strlen(opt);
	int len;

	gk_fp_config_default(&cfg);
	ASSERT_EQ(GK_FP_PORT_SIGNALLING, gk_fp_port_class(&cfg, 5060, &slot));
	EXPECT_EQ(15060, slot.verified);
	EXPECT_EQ(GK_FP_PORT_VERIFIED, gk_fp_port_class(&cfg, 15060, &slot));
	EXPECT_EQ(GK_FP_PORT_OTHER, gk_fp_port_class(&cfg, 5061, &slot));
	gk_fp_port_class(&cfg, 5060, &slot);
	other.port = 5063;

	/* unknown source */
	EXPECT_EQ(GK_FP_DROP_NOT_REGISTRATION, gk_fp_decide(&cfg, &slot, &src, NULL, &host, &global,
	                                                    (const __u8 *)opt, (__u32)n, 1, &v));
	EXPECT_EQ(GK_FP_PASS_REGISTRATION,
	          gk_fp_decide(&cfg, &slot, &src, NULL, &host, &global, (const __u8 *)regm,
	                       (__u32)strlen(regm), 1, &v));

	/* gk-mac terminal */
	t.index = 7;
	t.mech = GK_FP_MECH_GKMAC;
	t.family = src.family;
	t.port = src.port;
	memcpy(t.addr, src.addr, 16);
	memcpy(t.key, key, 16);
	memcpy(buf, opt, n);
	len = gk_pkt_seal(key, 7, 1, buf, n, sizeof(buf));
	ASSERT_EQ((int)n + GK_TRAILER_LEN, len);
	EXPECT_EQ(GK_FP_DROP_WRONG_SOURCE,
	          gk_fp_decide(&cfg, &slot, &other, &t, &host, &global, buf, (__u32)len, 1, &v));
	/* XDP hashes the tag only where the decision reaches it: not for another address */
	gk_fp_frame_parse(buf, (__u32)len, &fr);
	EXPECT_EQ(0, gk_fp_hashes_tag(&slot, &other, &t, &fr));
	EXPECT_EQ(1, gk_fp_hashes_tag(&slot, &src, &t, &fr));
	memcpy(poisoned, buf, (size_t)len);
	memset(poisoned, 0x5a, n); /* what XDP leaves unread there */
	gk_fp_inspect_all(&slot, &other, &t, poisoned, (__u32)len, &fr, &ws, &v);
	EXPECT_EQ(GK_FP_DROP_WRONG_SOURCE, v.stat);
	EXPECT_EQ(GK_FP_PASS_GKMAC,
	          gk_fp_decide(&cfg, &slot, &src, &t, &host, &global, buf, (__u32)len, 1, &v));
	EXPECT_EQ(n + GK_VERIFIED_TAIL_LEN, v.len); /* the verified tail stays */
	EXPECT_EQ(15060, v.dport);
	EXPECT_EQ(GK_FP_DROP_REPLAY,
	          gk_fp_decide(&cfg, &slot, &src, &t, &host, &global, buf, (__u32)len, 1, &v));
	buf[3] ^= 1;
	EXPECT_EQ(GK_FP_DROP_BAD_TAG,
	          gk_fp_decide(&cfg, &slot, &src, &t, &host, &global, buf, (__u32)len, 1, &v));
	/* framed, index unknown: dropped unless registration-class */
	EXPECT_EQ(GK_FP_DROP_UNKNOWN_INDEX,
	          gk_fp_decide(&cfg, &slot, &src, NULL, &host, &global, buf, (__u32)len, 1, &v));
	/* no trailer from a gk-mac terminal: only its re-registration passes */
	EXPECT_EQ(GK_FP_DROP_BAD_TRAILER, gk_fp_decide(&cfg, &slot, &src, &t, &host, &global,
	                                               (const __u8 *)opt, (__u32)n, 1, &v));
	EXPECT_EQ(GK_FP_PASS_REGISTRATION,
	          gk_fp_decide(&cfg, &slot, &src, &t, &host, &global, (const __u8 *)regm,
	                       (__u32)strlen(regm), 1, &v));
	EXPECT_EQ(5060, v.dport);

	/* digest terminal: its own bucket */
	t.mech = GK_FP_MECH_DIGEST;
	cfg.terminal = (struct gk_fp_rate){.rate = 1, .burst = 2};
	EXPECT_EQ(GK_FP_PASS_DIGEST, gk_fp_decide(&cfg, &slot, &src, &t, &host, &global,
	                                          (const __u8 *)opt, (__u32)n, 5, &v));
	EXPECT_EQ(GK_FP_PASS_DIGEST, gk_fp_decide(&cfg, &slot, &src, &t, &host, &global,
	                                          (const __u8 *)opt, (__u32)n, 5, &v));
	EXPECT_EQ(GK_FP_DROP_RATE_TERMINAL, gk_fp_decide(&cfg, &slot, &src, &t, &host, &global,
	                                                 (const __u8 *)opt, (__u32)n, 5, &v));
}

/* gk_fp_shed: the share asked of strangers' registrations, never a registered address's lane,
 * nothing when the share is 0; and the controller that sets the share from sbcd's queues. */
TEST(admission_shed_and_controller)
{
	struct gk_fp_config cfg;
	struct gk_fp_verdict v;
	struct gk_admission a = {0};
	uint32_t dropped = 0;

	gk_fp_config_default(&cfg);
	cfg.shed = 250;
	for (uint32_t i = 0; i < 4000; i++) {
		v = (struct gk_fp_verdict){.stat = GK_FP_PASS_REGISTRATION,
		                           .step = GK_FP_STEP_ADMIT};
		gk_fp_shed(&cfg, i * 1073742u, &v); /* draws spread evenly over 2^32 */
		dropped += v.stat == GK_FP_DROP_SHED;
		EXPECT_EQ(v.stat == GK_FP_DROP_SHED ? GK_FP_STEP_DONE : GK_FP_STEP_ADMIT, v.step);
	}
	EXPECT_EQ(1000, dropped);
	cfg.shed = 1000;
	v = (struct gk_fp_verdict){
	    .stat = GK_FP_PASS_REGISTRATION, .step = GK_FP_STEP_ADMIT, .lane = 1};
	gk_fp_shed(&cfg, 0, &v);
	EXPECT_EQ(GK_FP_PASS_REGISTRATION, v.stat);
	cfg.shed = 0;
	v = (struct gk_fp_verdict){.stat = GK_FP_PASS_REGISTRATION, .step = GK_FP_STEP_ADMIT};
	gk_fp_shed(&cfg, 0, &v);
	EXPECT_EQ(GK_FP_PASS_REGISTRATION, v.stat);

	EXPECT_EQ(0, gk_admission_depth(5, 0));
	EXPECT_EQ(500, gk_admission_depth(5, 10));
	EXPECT_EQ(1000, gk_admission_depth(11, 10));
	/* deep queues: the share rises fast, never to all */
	EXPECT_EQ(237, gk_admission_step(&a, GK_ADMISSION_HIGH));
	for (int i = 0; i < 30; i++)
		gk_admission_step(&a, 1000);
	EXPECT_EQ(GK_ADMISSION_MAX, a.shed);
	/* between the marks it holds; drained, it comes back in steps, to nothing */
	EXPECT_EQ(GK_ADMISSION_MAX, gk_admission_step(&a, GK_ADMISSION_LOW));
	EXPECT_EQ(GK_ADMISSION_MAX - GK_ADMISSION_STEP_DOWN, gk_admission_step(&a, 0));
	for (int i = 0; i < 200; i++)
		gk_admission_step(&a, 0);
	EXPECT_EQ(0, a.shed);
	EXPECT_LT(0, a.raised);
	EXPECT_LT(0, a.lowered);
}

TEST(stat_names)
{
	for (int i = 0; i < GK_FP_STAT__COUNT; i++) {
		ASSERT_NE(NULL, gk_fp_stat_name((enum gk_fp_stat)i));
		ASSERT_NE(NULL, gk_fp_stat_str((enum gk_fp_stat)i));
	}
	EXPECT_EQ(NULL, gk_fp_stat_name(GK_FP_STAT__COUNT));
	EXPECT_STREQ("DROP_BAD_TAG", gk_fp_stat_name(GK_FP_DROP_BAD_TAG));
	EXPECT_EQ(GK_R_BAD_TAG, gk_fp_stat_reason(GK_FP_DROP_BAD_TAG));
	EXPECT_EQ(GK_R_NOT_REGISTERED, gk_fp_stat_reason(GK_FP_DROP_NOT_REGISTRATION));
	EXPECT_EQ(GK_R_OK, gk_fp_stat_reason(GK_FP_PASS_GKMAC));
	EXPECT_EQ(GK_R__COUNT, gk_fp_stat_reason(GK_FP_DROP_RATE_GLOBAL));
}

TEST_HARNESS_MAIN
