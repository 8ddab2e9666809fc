// SPDX-License-Identifier: GPL-2.0-only
/*
 * The MGCP and H.248 text codecs: every message of the exchange and every protocol-level
 * response survives encode -> decode and re-encodes to the same bytes; what real stacks send
 * (case, blanks, LF, compact tokens, comments, unknown parameters and descriptors) is read;
 * malformed input is refused with the reason that names the fault; no prefix or byte flip of a
 * valid message crashes the decoders; the seed corpora decode to the type their names say; and
 * tshark's MGCP and MEGACO dissectors read every encoded message without a malformed packet or
 * error, with the expected command names.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "kselftest_harness.h"

#include "helper_tool.h"

#include "gatekey/cmd/h248.h"
#include "gatekey/cmd/mgcp.h"

static const struct gk_codec *codec_of(int proto)
{
	return proto == GK_PROTO_MGCP ? &gk_mgcp_codec : &gk_h248_codec;
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + 37 * i);
}

static struct gk_cmd_wire *cw(struct gk_msg *m)
{
	return m->proto == GK_PROTO_MGCP ? &m->wire.mgcp.cmd : &m->wire.h248.cmd;
}

/* The messages of one exchange as the state machines build them, plus the protocol's own. */
#define N_MSGS 15
static struct gk_msg build(int proto, unsigned i)
{
	struct gk_msg m;
	memset(&m, 0, sizeof(m));
	m.proto = (uint8_t)proto;
	snprintf(m.idc, sizeof(m.idc), "alice");
	snprintf(m.idsp, sizeof(m.idsp), "ss1");
	cw(&m)->kind = GK_CMD_REQUEST;
	cw(&m)->tid = 1200 + i;
	if (proto == GK_PROTO_H248) {
		snprintf(m.wire.h248.mid, sizeof(m.wire.h248.mid), "[198.18.1.2]:2944");
		snprintf(m.wire.h248.verb, sizeof(m.wire.h248.verb), "Notify");
		m.wire.h248.n_cmds = 1;
	}
	fill(m.n1, sizeof(m.n1), 1);
	fill(m.n2, sizeof(m.n2), 2);
	fill(m.rand, sizeof(m.rand), 3);
	fill(m.auth, sizeof(m.auth), 4);
	fill(m.blob, sizeof(m.blob), 5);
	fill(m.mac, sizeof(m.mac), 6);
	m.ts = 1732795200;
	m.mechs[0] = (struct gk_mech_offer){GK_MECH_GKMAC, 900};
	m.mechs[1] = (struct gk_mech_offer){GK_MECH_TLS, 500};
	m.mechs[2] = (struct gk_mech_offer){GK_MECH_DIGEST, 125};
	m.n_mechs = 3;
	switch (i) {
	case 0:
		m.type = GK_MSG_REGISTER;
		m.fields = GK_F_N1 | GK_F_TS | GK_F_EXPIRES;
		m.expires = 3600;
		break;
	case 1:
		m.type = GK_MSG_CHALLENGE;
		m.fields = GK_F_N1 | GK_F_N2 | GK_F_TS | GK_F_RAND | GK_F_WANT_MECHS;
		break;
	case 2:
		m.type = GK_MSG_ANSWER;
		m.fields =
		    GK_F_N1 | GK_F_N2 | GK_F_TS | GK_F_RAND | GK_F_AUTH | GK_F_MECHS | GK_F_EXPIRES;
		m.expires = 3600;
		break;
	case 3:
		m.type = GK_MSG_SUCCESS;
		m.fields = GK_F_N1 | GK_F_N2 | GK_F_TS | GK_F_BLOB | GK_F_MECHS | GK_F_CHOSEN |
		           GK_F_MAC | GK_F_INDEX | GK_F_EXPIRES;
		m.chosen = GK_MECH_GKMAC;
		m.index = 4242;
		m.expires = 3600;
		break;
	case 4:
		m.type = GK_MSG_DEREGISTER;
		m.fields = GK_F_TS | GK_F_EXPIRES;
		break;
	case 5:
		m.type = GK_MSG_OTHER;
		m.fields = GK_F_TS;
		break;
	case 6: /* the replies: REJECT, DEREG_OK, OTHER_OK, ACK 200, pending, response ack */
		m.type = GK_MSG_REJECT;
		break;
	case 7:
		m.type = GK_MSG_DEREG_OK;
		m.fields = GK_F_EXPIRES;
		break;
	case 8:
		m.type = GK_MSG_OTHER_OK;
		break;
	case 9:
		m.type = GK_MSG_ACK;
		cw(&m)->kind = GK_CMD_REPLY;
		break;
	case 10:
		m.type = GK_MSG_ACK;
		cw(&m)->kind = GK_CMD_REPLY;
		cw(&m)->flags = GK_CMD_F_WANT_ACK;
		break;
	case 11:
		m.type = GK_MSG_ACK;
		cw(&m)->kind = GK_CMD_PENDING;
		break;
	case 12:
		m.type = GK_MSG_ACK;
		cw(&m)->kind = GK_CMD_RESP_ACK;
		cw(&m)->n_acks = 1;
		cw(&m)->acks[0].first = cw(&m)->acks[0].last = cw(&m)->tid;
		break;
	case 13: /* a keep-alive without IDs in H.248; MGCP names the endpoint anyway */
		m.type = GK_MSG_OTHER;
		if (proto == GK_PROTO_H248)
			m.idc[0] = m.idsp[0] = '\0';
		break;
	case 14: /* shed: MGCP 409, H.248 510, each with the wait */
		m.type = GK_MSG_REJECT;
		m.reason = GK_R_OVERLOAD;
		m.retry_after = 7;
		break;
	}
	if (m.type == GK_MSG_REJECT || m.type == GK_MSG_DEREG_OK || m.type == GK_MSG_OTHER_OK ||
	    m.type == GK_MSG_ACK) {
		m.idc[0] = m.idsp[0] = '\0';
		if (m.type != GK_MSG_DEREG_OK)
			m.fields = 0;
		if (proto == GK_PROTO_H248 && i == 7) {
			snprintf(m.wire.h248.verb, sizeof(m.wire.h248.verb), "ServiceChange");
			m.wire.h248.n_cmds = 2;
		}
	}
	return m;
}

static const char *const wire_name[N_MSGS] = {
    "register",   "challenge", "answer",   "success",        "deregister",
    "keepalive",  "reject",    "dereg-ok", "other-ok",       "ack",
    "ack-immack", "pending",   "resp-ack", "keepalive-bare", "reject-overload"};

static void same(struct __test_metadata *_metadata, const struct gk_msg *a, const struct gk_msg *b)
{
	uint8_t t = a->type == GK_MSG_DEREG_OK || a->type == GK_MSG_OTHER_OK ? GK_MSG_ACK : a->type;
	EXPECT_EQ(t, b->type);
	/* DEREG_OK's zero lifetime is implied by the transaction (cmd_txn restores it). */
	EXPECT_EQ(a->type == GK_MSG_DEREG_OK ? 0 : a->fields, b->fields);
	/* a refusal reads as "refused", but an overload as such, with its wait */
	if (a->type == GK_MSG_REJECT) {
		EXPECT_EQ(a->reason == GK_R_OVERLOAD ? GK_R_OVERLOAD : GK_R_REFUSED, b->reason);
		EXPECT_EQ(a->reason == GK_R_OVERLOAD ? a->retry_after : 0, b->retry_after);
	}
	EXPECT_STREQ(a->idc, b->idc);
	EXPECT_STREQ(a->idsp, b->idsp);
	if (a->fields & GK_F_N1)
		EXPECT_EQ(0, memcmp(a->n1, b->n1, GK_NONCE_LEN));
	if (a->fields & GK_F_N2)
		EXPECT_EQ(0, memcmp(a->n2, b->n2, GK_NONCE_LEN));
	if (a->fields & GK_F_RAND)
		EXPECT_EQ(0, memcmp(a->rand, b->rand, GK_RAND_LEN));
	if (a->fields & GK_F_AUTH)
		EXPECT_EQ(0, memcmp(a->auth, b->auth, GK_AUTH_LEN));
	if (a->fields & GK_F_BLOB)
		EXPECT_EQ(0, memcmp(a->blob, b->blob, GK_BLOB_LEN));
	if (a->fields & GK_F_MAC)
		EXPECT_EQ(0, memcmp(a->mac, b->mac, GK_MAC_LEN));
	if (a->fields & GK_F_TS)
		EXPECT_EQ(a->ts, b->ts);
	if (a->fields & GK_F_EXPIRES && a->type != GK_MSG_DEREG_OK)
		EXPECT_EQ(a->expires, b->expires);
	if (a->fields & GK_F_INDEX)
		EXPECT_EQ(a->index, b->index);
	if (a->fields & GK_F_CHOSEN)
		EXPECT_EQ(a->chosen, b->chosen);
	if (a->fields & GK_F_MECHS) {
		ASSERT_EQ(a->n_mechs, b->n_mechs);
		for (unsigned i = 0; i < a->n_mechs; i++) {
			EXPECT_EQ(a->mechs[i].mech, b->mechs[i].mech);
			EXPECT_EQ(a->mechs[i].q, b->mechs[i].q);
		}
	}
	const struct gk_cmd_wire *x = cw((struct gk_msg *)a), *y = cw((struct gk_msg *)b);
	EXPECT_EQ(x->tid, y->tid);
	uint8_t kind =
	    a->type == GK_MSG_ACK ? x->kind
	    : (a->type == GK_MSG_REJECT || a->type == GK_MSG_DEREG_OK || a->type == GK_MSG_OTHER_OK)
	        ? GK_CMD_REPLY
	        : GK_CMD_REQUEST;
	EXPECT_EQ(kind, y->kind);
	EXPECT_EQ(x->flags, y->flags);
}

static void round_trips(struct __test_metadata *_metadata, int proto)
{
	const struct gk_codec *c = codec_of(proto);
	for (unsigned i = 0; i < N_MSGS; i++) {
		struct gk_msg a = build(proto, i), b, b2;
		uint8_t w1[4096], w2[4096];
		enum gk_reason why;
		int n = c->encode(&a, w1, sizeof(w1));
		ASSERT_LT(0, n) TH_LOG("%s %s", c->name, wire_name[i]);
		ASSERT_EQ(0, c->decode(w1, (size_t)n, &b, &why))
		TH_LOG("%s %s: %s\n%.*s", c->name, wire_name[i], gk_reason_name(why), n, w1);
		same(_metadata, &a, &b);
		if (proto == GK_PROTO_H248)
			snprintf(b.wire.h248.mid, sizeof(b.wire.h248.mid), "%s", a.wire.h248.mid);
		int n2 = c->encode(&b, w2, sizeof(w2));
		ASSERT_EQ(n, n2) TH_LOG("%s %s", c->name, wire_name[i]);
		EXPECT_EQ(0, memcmp(w1, w2, (size_t)n));
		/* the registration class is what the XDP classifier lets through from an unknown
		 * source: the terminal's registration commands and every response (reject ..
		 * resp-ack), since a terminal acknowledges the challenge before it holds a key */
		bool response = (i >= 6 && i <= 12) || i == 14;
		bool reg = b.type == GK_MSG_REGISTER || b.type == GK_MSG_DEREGISTER ||
		           b.type == GK_MSG_ANSWER || (b.type == GK_MSG_OTHER && i >= 5) ||
		           response;
		EXPECT_EQ(reg, !!c->is_registration(w1, (size_t)n)) TH_LOG("%s", wire_name[i]);
		/* a buffer one byte short is refused whole */
		EXPECT_EQ(-ENOSPC, c->encode(&a, w2, (size_t)n - 1));
		/* every prefix and every byte flip is decoded or refused, never a crash */
		for (int k = 0; k < n; k++) {
			if (c->decode(w1, (size_t)k, &b2, &why) < 0)
				EXPECT_TRUE(why >= GK_R_PARSE_TRUNCATED &&
				            why <= GK_R_PARSE_UNSUPPORTED);
			uint8_t save = w1[k];
			w1[k] ^= 0x20;
			c->decode(w1, (size_t)n, &b2, &why);
			w1[k] = 0;
			c->decode(w1, (size_t)n, &b2, &why);
			w1[k] = save;
		}
		/* the s10 MAC input does not depend on the wire */
		if (a.type == GK_MSG_SUCCESS) {
			uint8_t ca[GK_CANON_MAX], cb[GK_CANON_MAX];
			int la = gk_msg_success_canonical(&a, ca, sizeof(ca));
			int lb = gk_msg_success_canonical(&b, cb, sizeof(cb));
			ASSERT_EQ(la, lb);
			EXPECT_EQ(0, memcmp(ca, cb, (size_t)la));
		}
	}
}

TEST(mgcp_round_trips)
{
	round_trips(_metadata, GK_PROTO_MGCP);
}

TEST(h248_round_trips)
{
	round_trips(_metadata, GK_PROTO_H248);
}

/* A command this element does not serve (connection handling, no call control yet) is refused
 * with the protocol's own "not supported" code, never a false OK: MGCP 504 (RFC 3435 §2.4),
 * H.248 error 501 (H.248.8). Only the keep-alive counts as a probe. */
/* A refusal after a Pending asks for an ack (MGCP's empty K:, H.248's ImmAckRequired before the
 * transaction's Error): it still reads back as the refusal, with the ack wanted and the wait. */
TEST(a_slow_refusal_asks_for_an_ack_and_reads_back)
{
	for (int proto = GK_PROTO_MGCP; proto <= GK_PROTO_H248; proto++) {
		const struct gk_codec *c = codec_of(proto);
		for (int overload = 0; overload <= 1; overload++) {
			struct gk_msg a = build(proto, overload ? 14 : 6), b;
			enum gk_reason why = GK_R_OK;
			uint8_t w[1024];
			cw(&a)->flags = GK_CMD_F_WANT_ACK;
			int n = c->encode(&a, w, sizeof(w));
			ASSERT_LT(0, n);
			ASSERT_EQ(0, c->decode(w, (size_t)n, &b, &why))
			TH_LOG("%s: %.*s", c->name, n, w);
			EXPECT_EQ(GK_MSG_REJECT, b.type);
			EXPECT_EQ(GK_CMD_F_WANT_ACK, cw(&b)->flags & GK_CMD_F_WANT_ACK);
			EXPECT_EQ(overload ? GK_R_OVERLOAD : GK_R_REFUSED, b.reason);
			EXPECT_EQ(overload ? 7u : 0u, b.retry_after);
		}
	}
}

TEST(not_served_is_refused_by_the_protocols_code)
{
	static const struct {
		int proto;
		const char *verb, *want;
		enum gk_other_kind kind;
	} cases[] = {
	    {GK_PROTO_MGCP, "CRCX", "504 1205 Unknown or unsupported command\r\n",
	     GK_OTHER_UNSERVED},
	    {GK_PROTO_MGCP, "NTFY", NULL, GK_OTHER_PROBE},
	    {GK_PROTO_H248, "Add", "Error = 501 {", GK_OTHER_UNSERVED},
	    {GK_PROTO_H248, "Notify", NULL, GK_OTHER_PROBE},
	};
	uint8_t w[2048];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct gk_codec *c = codec_of(cases[i].proto);
		struct gk_msg req = build(cases[i].proto, 5), out;
		enum gk_reason why;

		if (cases[i].proto == GK_PROTO_MGCP)
			snprintf(req.wire.mgcp.verb, sizeof(req.wire.mgcp.verb), "%s",
			         cases[i].verb);
		int n = c->encode(&req, w, sizeof(w) - 1);
		ASSERT_LT(0, n) TH_LOG("%s", cases[i].verb);
		w[n] = 0;
		/* gatekey never sends an Add: a gateway's is this keep-alive with the other verb.
		 */
		char *v = cases[i].proto == GK_PROTO_H248 ? strstr((char *)w, "Notify") : NULL;
		if (v && strcmp(cases[i].verb, "Notify") != 0) {
			memmove(v + 3, v + 6, strlen(v + 6) + 1);
			memcpy(v, "Add", 3);
			n -= 3;
		}
		ASSERT_EQ(0, c->decode(w, (size_t)n, &out, &why)) TH_LOG("%s", gk_reason_name(why));
		EXPECT_EQ(GK_MSG_OTHER, out.type);
		EXPECT_EQ(cases[i].kind, gk_codec_other_kind(&out)) TH_LOG("%s", cases[i].verb);
		if (!cases[i].want)
			continue;
		struct gk_msg resp = out;
		memset(&resp, 0, offsetof(struct gk_msg, wire));
		resp.proto = out.proto;
		resp.type = GK_MSG_REJECT;
		resp.reason = GK_R_NOT_SERVED;
		cw(&resp)->kind = GK_CMD_REPLY;
		n = c->encode(&resp, w, sizeof(w) - 1);
		ASSERT_LT(0, n) TH_LOG("%s", cases[i].verb);
		w[n] = 0;
		EXPECT_NE(NULL, strstr((char *)w, cases[i].want)) TH_LOG("%s", (char *)w);
	}
}

TEST(encoders_refuse_what_reads_back_as_something_else)
{
	for (int proto = GK_PROTO_MGCP; proto <= GK_PROTO_H248; proto++) {
		const struct gk_codec *c = codec_of(proto);
		uint8_t w[4096];
		struct gk_msg m;

		m = build(proto, 2);
		m.fields &= ~GK_F_AUTH; /* an ANSWER without AUTH would read as OTHER */
		EXPECT_EQ(-EINVAL, c->encode(&m, w, sizeof(w)));
		m = build(proto, 1);
		m.fields &= ~GK_F_RAND;
		EXPECT_EQ(-EINVAL, c->encode(&m, w, sizeof(w)));
		m = build(proto, 3);
		m.fields &= ~(GK_F_BLOB | GK_F_MAC);
		EXPECT_EQ(-EINVAL, c->encode(&m, w, sizeof(w)));
		m = build(proto, 2);
		m.fields |= GK_F_BLOB_ELEM; /* core leg: SIP only */
		EXPECT_EQ(-EINVAL, c->encode(&m, w, sizeof(w)));
		m = build(proto, 2);
		m.fields |= GK_F_WANT_MECHS;
		EXPECT_EQ(-EINVAL, c->encode(&m, w, sizeof(w)));
		m = build(proto, 2);
		m.mechs[1].q = 1001;
		EXPECT_EQ(-EINVAL, c->encode(&m, w, sizeof(w)));
		m = build(proto, 0);
		cw(&m)->tid = 0;
		EXPECT_EQ(-EINVAL, c->encode(&m, w, sizeof(w)));
		m = build(proto, 0);
		snprintf(m.idc, sizeof(m.idc), "al ice");
		EXPECT_EQ(-EINVAL, c->encode(&m, w, sizeof(w)));
		m = build(proto, 6);
		m.fields = GK_F_TS; /* responses carry no gk1 data */
		EXPECT_EQ(-EINVAL, c->encode(&m, w, sizeof(w)));
		m = build(proto, 0);
		m.type = GK_MSG_NONE;
		EXPECT_EQ(-EINVAL, c->encode(&m, w, sizeof(w)));
	}
	struct gk_msg m = build(GK_PROTO_MGCP, 0);
	snprintf(m.idc, sizeof(m.idc), "a@b"); /* the endpoint name would split elsewhere */
	EXPECT_EQ(-EINVAL, gk_mgcp_encode(&m, (uint8_t[512]){0}, 512));
	m = build(GK_PROTO_MGCP, 5);
	snprintf(m.wire.mgcp.verb, sizeof(m.wire.mgcp.verb), "RSIP");
	EXPECT_EQ(-EINVAL, gk_mgcp_encode(&m, (uint8_t[512]){0}, 512));
	m = build(GK_PROTO_H248, 5);
	snprintf(m.wire.h248.verb, sizeof(m.wire.h248.verb), "ServiceChange");
	EXPECT_EQ(-EINVAL, gk_h248_encode(&m, (uint8_t[512]){0}, 512));
	m = build(GK_PROTO_H248, 8);
	m.wire.h248.verb[0] = '\0'; /* a reply must name the commands it answers */
	EXPECT_EQ(-EINVAL, gk_h248_encode(&m, (uint8_t[512]){0}, 512));
}

/* ---- what real stacks send ------------------------------------------------------------------ */

struct sample {
	int proto;
	const char *text;
	uint8_t type;
	uint8_t kind;
	uint32_t tid;
	uint32_t fields;
};

#define HEX16 "6b1f0c3e9a2d4c57b0e8f1a2c3d4e5f6"
#define HEX32 HEX16 HEX16

static const struct sample samples[] = {
    {GK_PROTO_MGCP, "rsip 7 aaln/1@gw.example.net mgcp 1.0\nrm:restart\n", GK_MSG_REGISTER,
     GK_CMD_REQUEST, 7, 0},
    {GK_PROTO_MGCP,
     "RSIP  1201\talice@[198.18.0.1]   MGCP 1.0 NCS 1.0\r\nRM :  disconnected \r\nRD: 0\r\n"
     "x-gk-n1:" HEX16 "\r\nX-Vendor-Thing: 1\r\nx-gk-ts: 17\r\nX-GK-Future: yes\r\n",
     GK_MSG_REGISTER, GK_CMD_REQUEST, 1201, GK_F_N1 | GK_F_TS},
    {GK_PROTO_MGCP, "RSIP 9 alice@ss1 MGCP 1.0\r\nRM: graceful\r\nRD: 10\r\n", GK_MSG_DEREGISTER,
     GK_CMD_REQUEST, 9, 0},
    {GK_PROTO_MGCP,
     "NTFY 2002 aaln/1@rgw-2567.whatever.net MGCP 1.0\r\nN: ca@ca1.whatever.net:5678\r\n"
     "X: 0123456789AC\r\nO: L/hd,D/9,D/1,D/2\r\n",
     GK_MSG_OTHER, GK_CMD_REQUEST, 2002, 0},
    {GK_PROTO_MGCP,
     "NTFY 3 alice@ss1 MGCP 1.0\r\nX: 1\r\nO: gk/ans\r\nX-GK-Auth: " HEX32 "\r\n"
     "X-GK-Mechs: GK-MAC ; q = 0.9 , ipsec-3gpp;alg=hmac-sha-1-96;q=0.1, unknown-x\r\n",
     GK_MSG_ANSWER, GK_CMD_REQUEST, 3, GK_F_AUTH | GK_F_MECHS},
    {GK_PROTO_MGCP,
     "CRCX 1204 aaln/1@rgw.net MGCP 1.0\r\nC: A3C47F21456789F0\r\nL: p:10, a:PCMU\r\n"
     "M: recvonly\r\n\r\nv=0\r\no=- 25678 753849 IN IP4 128.96.41.1\r\n",
     GK_MSG_OTHER, GK_CMD_REQUEST, 1204, 0},
    {GK_PROTO_MGCP, "200 1201 OK\n", GK_MSG_ACK, GK_CMD_REPLY, 1201, 0},
    {GK_PROTO_MGCP, "250 1206 OK\r\nP: PS=1245, OS=62345, PR=780, OR=45123\r\n", GK_MSG_ACK,
     GK_CMD_REPLY, 1206, 0},
    {GK_PROTO_MGCP, "200 12 OK\r\nK:\r\n", GK_MSG_ACK, GK_CMD_REPLY, 12, 0},
    {GK_PROTO_MGCP, "100 12 Transaction executing\r\n", GK_MSG_ACK, GK_CMD_PENDING, 12, 0},
    {GK_PROTO_MGCP, "000 12\r\n", GK_MSG_ACK, GK_CMD_RESP_ACK, 12, 0},
    {GK_PROTO_MGCP, "510 12 /gk protocol error\r\n", GK_MSG_REJECT, GK_CMD_REPLY, 12, 0},
    {GK_PROTO_MGCP, "NTFY 13 a@b MGCP 1.0\r\nK: 6234-6255, 6257\r\nX: 0\r\nO: L/hu\r\n",
     GK_MSG_OTHER, GK_CMD_REQUEST, 13, 0},
    {GK_PROTO_MGCP, "RSIP 14 a@b MGCP 1.0\r\nRM: restart", GK_MSG_REGISTER, GK_CMD_REQUEST, 14, 0},
    /* H.248: RFC 3525 style, compact, comments, odd case and spacing */
    {GK_PROTO_H248,
     "MEGACO/1 [124.124.124.222]:55555\nTransaction = 9998 {\n Context = - {\n"
     "  ServiceChange = ROOT {Services {Method=Restart, ServiceChangeAddress=55555,"
     " Profile=ResGW/1}}}}\n",
     GK_MSG_REGISTER, GK_CMD_REQUEST, 9998, 0},
    {GK_PROTO_H248, "!/1 [198.18.0.2]:2944\nT=5{C=-{SC=ROOT{SV{MT=RS,RE=\"901\"}}}}",
     GK_MSG_REGISTER, GK_CMD_REQUEST, 5, 0},
    {GK_PROTO_H248,
     "; a comment\r\n!/2 <mg1.example.net>:2944 t=6 { c = - ; ctx\r\n { sc = root { sv { mt = fo,"
     " re = \"905\" } }, n = root { oe = 0 { 20261128T16040300:GK/DEREG { IDC = \"alice\","
     " idsp = ss1, TS = 17 } } } } }",
     GK_MSG_DEREGISTER, GK_CMD_REQUEST, 6, GK_F_TS},
    {GK_PROTO_H248,
     "MEGACO/1 [198.18.0.2]:2944\nTransaction = 7 { Context = - { O-Notify = ROOT {"
     " ObservedEvents = 1 { gk/ans { idc = \"alice\", idsp = \"ss1\", auth = " HEX32 ", vendor = x,"
     " mechs = \"tls;q=0.5\" } } } } }",
     GK_MSG_ANSWER, GK_CMD_REQUEST, 7, GK_F_AUTH | GK_F_MECHS},
    {GK_PROTO_H248,
     "MEGACO/1 [124.124.124.222]:55555\nTransaction = 10000 {\n Context = - {\n"
     "  Notify = A4444 {ObservedEvents =2222 {\n   19990729T22000000:al/of}}\n }\n}",
     GK_MSG_OTHER, GK_CMD_REQUEST, 10000, 0},
    {GK_PROTO_H248,
     "MEGACO/1 [123.123.123.4]:55555\nTransaction = 10003 {\n Context = $ {\n"
     "  Add = A4444 { Media { Stream = 1 { LocalControl { Mode = ReceiveOnly, "
     "nt/jit=40 }, Local { v=0\nc=IN IP4 $\nm=audio $ RTP/AVP 4\na=ptime:30 } } } },"
     " Add = $ { Media { Stream = 1 { Remote { v=0 } } } } } }",
     GK_MSG_OTHER, GK_CMD_REQUEST, 10003, 0},
    {GK_PROTO_H248, "MEGACO/1 [216.33.33.61]:55555\nReply = 10001 { Context = - {Modify = A4444}}",
     GK_MSG_ACK, GK_CMD_REPLY, 10001, 0},
    {GK_PROTO_H248, "!/1 <mgc>\nP=9{IA,C=-{SC=ROOT{SV{SC=2944}}}}", GK_MSG_ACK, GK_CMD_REPLY, 9, 0},
    {GK_PROTO_H248,
     "MEGACO/1 <mgc>\nReply = 5 { Context = - { Notify = ROOT { Error = 402 { \"x\" } } } }",
     GK_MSG_REJECT, GK_CMD_REPLY, 5, 0},
    {GK_PROTO_H248, "MEGACO/1 <mgc>\nPending = 5 { }", GK_MSG_ACK, GK_CMD_PENDING, 5, 0},
    {GK_PROTO_H248, "MEGACO/1 <mgc>\nPN=5{}", GK_MSG_ACK, GK_CMD_PENDING, 5, 0},
    {GK_PROTO_H248, "!/1 [1.2.3.4]\nK{5,7-9}", GK_MSG_ACK, GK_CMD_RESP_ACK, 5, 0},
    {GK_PROTO_H248,
     "Authentication = 0xFEDC1234:0x12345678:0x0123456789ABCDEF MEGACO/1 [1.2.3.4]\n"
     "TransactionResponseAck { 3 } Transaction = 8 { Context = - { Notify = ROOT {"
     " ObservedEvents = 0 { gk/ka } } } }",
     GK_MSG_OTHER, GK_CMD_REQUEST, 8, 0},
};

TEST(decodes_what_real_stacks_send)
{
	for (unsigned i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		const struct sample *s = &samples[i];
		const struct gk_codec *c = codec_of(s->proto);
		struct gk_msg m, b;
		enum gk_reason why;
		uint8_t w[4096];
		int r = c->decode((const uint8_t *)s->text, strlen(s->text), &m, &why);
		ASSERT_EQ(0, r) TH_LOG("sample %u: %s", i, gk_reason_name(why));
		EXPECT_EQ(s->type, m.type) TH_LOG("sample %u", i);
		EXPECT_EQ(s->kind, cw(&m)->kind) TH_LOG("sample %u", i);
		EXPECT_EQ(s->tid, cw(&m)->tid) TH_LOG("sample %u", i);
		EXPECT_EQ(s->fields, m.fields) TH_LOG("sample %u", i);
		/* whatever is accepted re-encodes and reads back the same */
		int n = c->encode(&m, w, sizeof(w));
		ASSERT_LT(0, n) TH_LOG("sample %u", i);
		ASSERT_EQ(0, c->decode(w, (size_t)n, &b, &why)) TH_LOG("sample %u", i);
		EXPECT_EQ(m.type, b.type);
		EXPECT_EQ(m.fields, b.fields);
		EXPECT_STREQ(m.idc, b.idc);
	}
	struct gk_msg m;
	enum gk_reason why;
	ASSERT_EQ(
	    0, gk_mgcp_decode((const uint8_t *)samples[0].text, strlen(samples[0].text), &m, &why));
	EXPECT_STREQ("aaln/1", m.idc);
	EXPECT_STREQ("gw.example.net", m.idsp);
	ASSERT_EQ(
	    0, gk_mgcp_decode((const uint8_t *)samples[4].text, strlen(samples[4].text), &m, &why));
	ASSERT_EQ(2, m.n_mechs);
	EXPECT_EQ(GK_MECH_IPSEC, m.mechs[1].mech);
	EXPECT_EQ(100, m.mechs[1].q);
	ASSERT_EQ(0, gk_mgcp_decode((const uint8_t *)samples[12].text, strlen(samples[12].text), &m,
	                            &why));
	ASSERT_EQ(2, m.wire.mgcp.cmd.n_acks);
	EXPECT_EQ(6255, m.wire.mgcp.cmd.acks[0].last);
	EXPECT_TRUE(samples[8].kind == GK_CMD_REPLY);
	ASSERT_EQ(
	    0, gk_mgcp_decode((const uint8_t *)samples[8].text, strlen(samples[8].text), &m, &why));
	EXPECT_EQ(GK_CMD_F_WANT_ACK, m.wire.mgcp.cmd.flags);
	ASSERT_EQ(0, gk_h248_decode((const uint8_t *)samples[16].text, strlen(samples[16].text), &m,
	                            &why));
	EXPECT_STREQ("alice", m.idc);
	EXPECT_STREQ("ss1", m.idsp);
	EXPECT_STREQ("ServiceChange", m.wire.h248.verb);
	EXPECT_EQ(2, m.wire.h248.n_cmds);
	ASSERT_EQ(0, gk_h248_decode((const uint8_t *)samples[25].text, strlen(samples[25].text), &m,
	                            &why));
	ASSERT_EQ(2, m.wire.h248.cmd.n_acks);
	EXPECT_EQ(9, m.wire.h248.cmd.acks[1].last);
	ASSERT_EQ(0, gk_h248_decode((const uint8_t *)samples[21].text, strlen(samples[21].text), &m,
	                            &why));
	EXPECT_EQ(GK_CMD_F_WANT_ACK, m.wire.h248.cmd.flags);
}

/* ---- malformed corpus ----------------------------------------------------------------------- */

struct bad {
	int proto;
	const char *text;
	enum gk_reason why;
};

#define R   "RSIP 1 alice@ss1 MGCP 1.0\r\n"
#define MH  "MEGACO/1 [1.2.3.4]\n"
#define SCR "ServiceChange = ROOT { Services { Method = Restart } }"

static const struct bad bads[] = {
    {GK_PROTO_MGCP, "", GK_R_PARSE_TRUNCATED},
    {GK_PROTO_MGCP, "RSIP\r\n", GK_R_PARSE_SYNTAX},
    {GK_PROTO_MGCP, "RSIP 1 alice@ss1 MGCP\r\nRM: restart\r\n", GK_R_PARSE_SYNTAX},
    {GK_PROTO_MGCP, "RSIP 1 alice@ss1 SIP 1.0\r\nRM: restart\r\n", GK_R_PARSE_SYNTAX},
    {GK_PROTO_MGCP, "RSIP 0 alice@ss1 MGCP 1.0\r\nRM: restart\r\n", GK_R_PARSE_SYNTAX},
    {GK_PROTO_MGCP, "RSIP 1234567890 alice@ss1 MGCP 1.0\r\nRM: restart\r\n", GK_R_PARSE_SYNTAX},
    {GK_PROTO_MGCP, R "RM: restart\r\nX-GK-N1\r\n", GK_R_PARSE_SYNTAX},
    {GK_PROTO_MGCP, R "RM: re\x01start\r\n", GK_R_PARSE_SYNTAX},
    {GK_PROTO_MGCP, R "RM: restart\rX: 1\r\n", GK_R_PARSE_SYNTAX},
    {GK_PROTO_MGCP, R "RM: restart\r\n.\r\n200 1 OK\r\n", GK_R_PARSE_SYNTAX},
    {GK_PROTO_MGCP, "RSIP 1 alice MGCP 1.0\r\nRM: restart\r\n", GK_R_PARSE_MISSING},
    {GK_PROTO_MGCP, R "X-GK-N1: " HEX16 "\r\n", GK_R_PARSE_MISSING},
    {GK_PROTO_MGCP, R "RM: restart\r\nX-GK-TS:\r\n", GK_R_PARSE_MISSING},
    {GK_PROTO_MGCP, R "RM: restart\r\nRM: forced\r\n", GK_R_PARSE_DUPLICATE},
    {GK_PROTO_MGCP, R "RM: restart\r\nX-GK-TS: 1\r\nx-gk-ts: 1\r\n", GK_R_PARSE_DUPLICATE},
    {GK_PROTO_MGCP, R "RM: restart\r\nX-GK-N1: 6b1f\r\n", GK_R_PARSE_BAD_VALUE},
    {GK_PROTO_MGCP, R "RM: restart\r\nX-GK-N1: " HEX16 "zz\r\n", GK_R_PARSE_BAD_VALUE},
    {GK_PROTO_MGCP, R "RM: restart\r\nX-GK-TS: -5\r\n", GK_R_PARSE_BAD_VALUE},
    {GK_PROTO_MGCP, R "RM: restart\r\nX-GK-Expires: 4294967296\r\n", GK_R_PARSE_BAD_VALUE},
    {GK_PROTO_MGCP, R "RM: restart\r\nX-GK-Mechs: gk-mac;q=1.5\r\n", GK_R_PARSE_BAD_VALUE},
    {GK_PROTO_MGCP, R "RM: restart\r\nX-GK-Mechs: foo, bar\r\n", GK_R_PARSE_BAD_VALUE},
    {GK_PROTO_MGCP, R "RM: restart\r\nX-GK-Chosen: rot13\r\n", GK_R_PARSE_BAD_VALUE},
    {GK_PROTO_MGCP, R "RM: restart\r\nX: xyz\r\n", GK_R_PARSE_BAD_VALUE},
    {GK_PROTO_MGCP, "NTFY 1 a@b MGCP 1.0\r\nK: 5-3\r\n", GK_R_PARSE_BAD_VALUE},
    {GK_PROTO_MGCP, "NTFY 1 a@b MGCP 1.0\r\nK: 1,2,3,4,5\r\n", GK_R_PARSE_TOO_LONG},
    {GK_PROTO_MGCP, "NTFY 1 a\"b@c MGCP 1.0\r\n", GK_R_PARSE_BAD_VALUE},
    {GK_PROTO_MGCP,
     "NTFY 1 a@0123456789012345678901234567890123456789012345678901234567890123456789 MGCP 1.0\r\n",
     GK_R_PARSE_TOO_LONG},
    {GK_PROTO_MGCP, "RSIP 1 alice@ss1 MGCP 2.0\r\nRM: restart\r\n", GK_R_PARSE_UNSUPPORTED},
    {GK_PROTO_MGCP, R "RM: cancel-graceful\r\n", GK_R_PARSE_UNSUPPORTED},
    {GK_PROTO_MGCP, "ABCD 1 a@b MGCP 1.0\r\n", GK_R_PARSE_UNSUPPORTED},
    {GK_PROTO_MGCP, "300 1 Moved\r\n", GK_R_PARSE_UNSUPPORTED},
    {GK_PROTO_H248, "", GK_R_PARSE_TRUNCATED},
    {GK_PROTO_H248, "MEGACO/1", GK_R_PARSE_TRUNCATED},
    {GK_PROTO_H248, "MEGACO/1 [1.2.3.4]", GK_R_PARSE_MISSING},
    {GK_PROTO_H248, "MEGACO/4 [1.2.3.4]\nT=1{C=-{" SCR "}}", GK_R_PARSE_UNSUPPORTED},
    {GK_PROTO_H248, "SIP/2.0 200 OK\r\n", GK_R_PARSE_SYNTAX},
    {GK_PROTO_H248, MH "T=1{C=-{" SCR "}", GK_R_PARSE_TRUNCATED},
    {GK_PROTO_H248, MH "T=1{C=-{" SCR "}}}", GK_R_PARSE_SYNTAX},
    {GK_PROTO_H248, MH "T=x{C=-{" SCR "}}", GK_R_PARSE_BAD_VALUE},
    {GK_PROTO_H248, MH "T=0{C=-{" SCR "}}", GK_R_PARSE_BAD_VALUE},
    {GK_PROTO_H248, MH "T{C=-{" SCR "}}", GK_R_PARSE_SYNTAX},
    {GK_PROTO_H248, MH "T=1{C=-{N=ROOT{OE=0{gk/ans{idc=\"a\x01\"}}}}}", GK_R_PARSE_SYNTAX},
    {GK_PROTO_H248, MH "T=1{C=-{}}", GK_R_PARSE_MISSING},
    {GK_PROTO_H248, MH "T=1{C=-{SC=ROOT{SV{RE=\"901\"}}}}", GK_R_PARSE_MISSING},
    {GK_PROTO_H248, MH "T=1{C=-{N=ROOT{OE=0{gk/ans{idc=a,auth=" HEX32 "}}}}}", GK_R_PARSE_MISSING},
    {GK_PROTO_H248, MH "T=1{C=-{N=ROOT{OE=0{gk/reg{idc=a,idsp=b}}}}}", GK_R_PARSE_MISSING},
    {GK_PROTO_H248, MH "T=1{C=-{" SCR "}} T=2{C=-{" SCR "}}", GK_R_PARSE_DUPLICATE},
    {GK_PROTO_H248, MH "T=1{C=-{" SCR ",N=ROOT{OE=0{gk/reg{idc=a,idsp=b,ts=1,ts=2}}}}}",
     GK_R_PARSE_DUPLICATE},
    {GK_PROTO_H248, MH "T=1{C=-{" SCR ",N=ROOT{OE=0{gk/reg{idc=a,idsp=b,n1=12}}}}}",
     GK_R_PARSE_BAD_VALUE},
    {GK_PROTO_H248, MH "T=1{C=-{" SCR ",N=ROOT{OE=0{gk/ans{idc=a,idsp=b}}}}}",
     GK_R_PARSE_BAD_VALUE},
    {GK_PROTO_H248, MH "T=1{C=-{N=ROOT,N=ROOT,N=ROOT}}", GK_R_PARSE_TOO_LONG},
    {GK_PROTO_H248, MH "K{1,2,3,4,5}", GK_R_PARSE_TOO_LONG},
    {GK_PROTO_H248, MH "K{3-1}", GK_R_PARSE_BAD_VALUE},
    {GK_PROTO_H248, MH "T=1{C=-{SC=ROOT{SV{MT=HO}}}}", GK_R_PARSE_UNSUPPORTED},
    {GK_PROTO_H248, MH "ER=400{\"bad\"}", GK_R_PARSE_UNSUPPORTED},
    {GK_PROTO_H248, MH "P=1{}", GK_R_PARSE_MISSING},
    {GK_PROTO_H248, MH "T=1{C=-{N=ROOT{A{B{C{D{E{F{G{H{I{J{K{L{M{N{O{P{Q{}}}}}}}}}}}}}}}}}}}}",
     GK_R_PARSE_SYNTAX},
    {GK_PROTO_H248, MH "T=1{C=-{N=ROOT{OE=0{gk/ka{x=\"unterminated}}}}}", GK_R_PARSE_TRUNCATED},
};

/* The terminal's ipsec-3gpp end (SPIs and ports, TS 33.203 Annex H) rides on its entry of the
 * mechanism list, in MGCP's X-GK-Mechs and H.248's mechs as in SIP's Security-Client; the first
 * usable variant is the end, and the encoders refuse an end that has no entry to ride on. */
TEST(ipsec_3gpp_end_in_the_mechanism_list)
{
	static const struct gk_ipsec_end end = {
	    .spi_c = 23456789, .spi_s = 12345678, .port_c = 2468, .port_s = 1357};
	for (int proto = GK_PROTO_MGCP; proto <= GK_PROTO_H248; proto++) {
		const struct gk_codec *c = codec_of(proto);
		struct gk_msg a = build(proto, 2), b;
		uint8_t w[4096];
		enum gk_reason why;
		int n;

		if (proto != GK_PROTO_MGCP && proto != GK_PROTO_H248)
			continue;
		a.mechs[1] = (struct gk_mech_offer){GK_MECH_IPSEC, 500};
		a.ipsec_term = end;
		a.fields |= GK_F_IPSEC_TERM;
		n = c->encode(&a, w, sizeof(w) - 1);
		ASSERT_LT(0, n) TH_LOG("%s", c->name);
		w[n] = 0;
		EXPECT_NE(NULL,
		          strstr((const char *)w, "ipsec-3gpp;q=0.5;prot=esp;mod=trans;"
		                                  "ealg=aes-gcm;spi-c=23456789;spi-s=12345678;"
		                                  "port-c=2468;port-s=1357"))
		TH_LOG("%s", w);
		ASSERT_EQ(0, c->decode(w, (size_t)n, &b, &why)) TH_LOG("%s", gk_reason_name(why));
		same(_metadata, &a, &b);
		ASSERT_TRUE(b.fields & GK_F_IPSEC_TERM);
		EXPECT_EQ(0, memcmp(&end, &b.ipsec_term, sizeof(end)));
		/* no entry to ride on, or nothing usable: refused, never sent without it */
		a.mechs[1] = (struct gk_mech_offer){GK_MECH_TLS, 500};
		EXPECT_EQ(-EINVAL, c->encode(&a, w, sizeof(w)));
		a.mechs[1] = (struct gk_mech_offer){GK_MECH_IPSEC, 500};
		a.ipsec_term.spi_s = 255;
		EXPECT_EQ(-EINVAL, c->encode(&a, w, sizeof(w)));

		/* The SUCCESS: the echo with the terminal's end, the element's on the chosen one.
		 */
		struct gk_msg s = build(proto, 3);
		static const struct gk_ipsec_end net = {
		    .spi_c = 4294967295u, .spi_s = 256, .port_c = 65535, .port_s = 5064};
		uint8_t ca[GK_CANON_MAX], cb[GK_CANON_MAX];
		s.mechs[1] = (struct gk_mech_offer){GK_MECH_IPSEC, 500};
		s.chosen = GK_MECH_IPSEC;
		s.ipsec_term = end;
		s.ipsec_net = net;
		s.fields |= GK_F_IPSEC_TERM | GK_F_IPSEC_NET;
		n = c->encode(&s, w, sizeof(w) - 1);
		ASSERT_LT(0, n) TH_LOG("%s", c->name);
		w[n] = 0;
		EXPECT_NE(NULL,
		          strstr((const char *)w, "ipsec-3gpp;prot=esp;mod=trans;ealg=aes-gcm;"
		                                  "spi-c=4294967295;spi-s=256;port-c=65535;"
		                                  "port-s=5064"))
		TH_LOG("%s", w);
		ASSERT_EQ(0, c->decode(w, (size_t)n, &b, &why))
		TH_LOG("%s\n%s", gk_reason_name(why), w);
		same(_metadata, &s, &b);
		EXPECT_EQ(s.fields, b.fields);
		EXPECT_EQ(0, memcmp(&net, &b.ipsec_net, sizeof(net)));
		ASSERT_EQ(gk_msg_success_canonical(&s, ca, sizeof(ca)),
		          gk_msg_success_canonical(&b, cb, sizeof(cb)));
		EXPECT_EQ(0, memcmp(ca, cb, (size_t)gk_msg_success_canonical(&s, ca, sizeof(ca))));
		/* an end on another chosen mechanism is refused */
		s.chosen = GK_MECH_GKMAC;
		EXPECT_EQ(-EINVAL, c->encode(&s, w, sizeof(w)));
	}
	static const char *const variants =
	    "NTFY 3 alice@ss1 MGCP 1.0\r\nX: 1\r\nO: gk/ans\r\nX-GK-Auth: " HEX32 "\r\n"
	    "X-GK-Mechs: ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1;spi-s=2;port-c=3;port-s=4, "
	    "ipsec-3gpp ; ealg = aes-gcm ; spi-c=1111;spi-s=2222;port-c=5062;port-s=5064, "
	    "gk-mac\r\n";
	struct gk_msg m;
	enum gk_reason why;
	ASSERT_EQ(0, gk_mgcp_decode((const uint8_t *)variants, strlen(variants), &m, &why))
	TH_LOG("%s", gk_reason_name(why));
	EXPECT_EQ(3, m.n_mechs);
	ASSERT_TRUE(m.fields & GK_F_IPSEC_TERM);
	EXPECT_EQ(1111, m.ipsec_term.spi_c);
	EXPECT_EQ(5064, m.ipsec_term.port_s);
	static const char *const bad =
	    "NTFY 3 alice@ss1 MGCP 1.0\r\nX: 1\r\nO: gk/ans\r\nX-GK-Auth: " HEX32 "\r\n"
	    "X-GK-Mechs: ipsec-3gpp;ealg=aes-gcm;spi-c=99999999999;spi-s=2;port-c=3;port-s=4\r\n";
	EXPECT_GT(0, gk_mgcp_decode((const uint8_t *)bad, strlen(bad), &m, &why));
	EXPECT_EQ(GK_R_PARSE_BAD_VALUE, why);
}

TEST(malformed_corpus_is_refused_with_its_reason)
{
	for (unsigned i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		struct gk_msg m;
		enum gk_reason why = GK_R_OK;
		const struct gk_codec *c = codec_of(bads[i].proto);
		int r = c->decode((const uint8_t *)bads[i].text, strlen(bads[i].text), &m, &why);
		EXPECT_EQ(-1, r) TH_LOG("%s bad %u accepted", c->name, i);
		EXPECT_STREQ(gk_reason_name(bads[i].why), gk_reason_name(why))
		TH_LOG("%s bad %u: %s", c->name, i, bads[i].text);
	}
}

/* ---- seed corpora --------------------------------------------------------------------------- */

static const char *corpus_dir(const char *name, char *buf, size_t cap)
{
	const char *src = __FILE__;
	const char *tail = strstr(src, "tests/unit/test_cmd_codec.c");
	snprintf(buf, cap, "%.*stests/corpus/%s", tail ? (int)(tail - src) : 0, src, name);
	return buf;
}

static void seed_corpus(struct __test_metadata *_metadata, int proto)
{
	const struct gk_codec *c = codec_of(proto);
	char dir[512], path[1024], ext[8];
	unsigned named = 0;
	struct dirent *de;
	DIR *d = opendir(corpus_dir(c->name, dir, sizeof(dir)));

	snprintf(ext, sizeof(ext), ".%s", c->name);
	ASSERT_NE(NULL, d) TH_LOG("%s: %s", dir, strerror(errno));
	while ((de = readdir(d))) {
		static uint8_t buf[65536];
		struct gk_msg m;
		enum gk_reason why = GK_R_OK;
		size_t l = strlen(de->d_name), el = strlen(ext);

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		FILE *f = fopen(path, "rb");
		ASSERT_NE(NULL, f);
		size_t n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		int r = c->decode(buf, n, &m, &why);
		if (l <= el || strcmp(de->d_name + l - el, ext) != 0)
			continue; /* fuzzer leftovers: only must not crash */
		char type[32] = "";
		const char *dot = memrchr(de->d_name, '.', l - el);
		if (dot)
			snprintf(type, sizeof(type), "%.*s", (int)(de->d_name + l - el - dot - 1),
			         dot + 1);
		EXPECT_EQ(0, r) TH_LOG("%s: %s", de->d_name, gk_reason_name(why));
		EXPECT_STREQ(type, gk_msg_type_name((enum gk_msg_type)m.type))
		TH_LOG("%s", de->d_name);
		if (r == 0) {
			uint8_t w[4096];
			if (proto == GK_PROTO_H248 && strstr(de->d_name, "-gk-"))
				snprintf(m.wire.h248.mid, sizeof(m.wire.h248.mid),
				         "[198.18.1.2]:2944");
			int n2 = c->encode(&m, w, sizeof(w));
			EXPECT_LT(0, n2) TH_LOG("%s", de->d_name);
			if (strstr(de->d_name, "-gk-") && proto == GK_PROTO_MGCP) {
				EXPECT_EQ((int)n, n2) TH_LOG("%s", de->d_name);
				EXPECT_EQ(0, memcmp(buf, w, n)) TH_LOG("%s", de->d_name);
			}
		}
		named++;
	}
	closedir(d);
	EXPECT_LE(8, named);
}

TEST(mgcp_seed_corpus)
{
	seed_corpus(_metadata, GK_PROTO_MGCP);
}

TEST(h248_seed_corpus)
{
	seed_corpus(_metadata, GK_PROTO_H248);
}

/* The seed corpora's -gk- files are what the encoder writes today, byte for byte: a codec change
 * that moves them shows here, and GK_CMD_DUMP=<dir> writes the new ones (<dir>/<codec>/...) to
 * commit instead. */
TEST(seed_corpus_holds_what_the_encoder_writes)
{
	const char *dump = getenv("GK_CMD_DUMP");

	for (int proto = GK_PROTO_MGCP; proto <= GK_PROTO_H248; proto++)
		for (unsigned i = 0; i < N_MSGS; i++) {
			const struct gk_codec *c = codec_of(proto);
			struct gk_msg a = build(proto, i), b;
			static uint8_t w[4096];
			char dir[512], path[1024];
			enum gk_reason why;
			int n = c->encode(&a, w, sizeof(w));

			ASSERT_LT(0, n);
			ASSERT_EQ(0, c->decode(w, (size_t)n, &b, &why));
			if (dump)
				snprintf(dir, sizeof(dir), "%s/%s", dump, c->name);
			else
				corpus_dir(c->name, dir, sizeof(dir));
			snprintf(path, sizeof(path), "%s/%02u-gk-%s.%s.%s", dir, i + 1,
			         wire_name[i], gk_msg_type_name((enum gk_msg_type)b.type), c->name);
			EXPECT_EQ(0, seed_file_check(path, w, (size_t)n, dump)) TH_LOG("%s", path);
		}
}

/* ---- tshark --------------------------------------------------------------------------------- */

static void pcap_put(FILE *f, unsigned i, uint16_t sport, uint16_t dport, const uint8_t *p,
                     size_t n)
{
	uint8_t fr[4200];
	size_t ulen = 8 + n, iplen = 20 + ulen, flen = 14 + iplen;
	uint32_t sum = 0;

	memset(fr, 0, 14 + 28);
	memset(fr, 2, 6);
	memset(fr + 6, 4, 6);
	fr[12] = 0x08;
	uint8_t *ip = fr + 14;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(iplen >> 8);
	ip[3] = (uint8_t)iplen;
	ip[5] = (uint8_t)i;
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, (uint8_t[]){198, 18, 1, 2}, 4);
	memcpy(ip + 16, (uint8_t[]){198, 18, 0, 1}, 4);
	if (dport != 2727 && dport != 2944) { /* network -> terminal */
		memcpy(ip + 12, (uint8_t[]){198, 18, 0, 1}, 4);
		memcpy(ip + 16, (uint8_t[]){198, 18, 1, 2}, 4);
	}
	for (int k = 0; k < 20; k += 2)
		sum += (uint32_t)ip[k] << 8 | ip[k + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	ip[10] = (uint8_t)(~sum >> 8);
	ip[11] = (uint8_t)~sum;
	uint8_t *u = ip + 20;
	u[0] = (uint8_t)(sport >> 8), u[1] = (uint8_t)sport;
	u[2] = (uint8_t)(dport >> 8), u[3] = (uint8_t)dport;
	u[4] = (uint8_t)(ulen >> 8), u[5] = (uint8_t)ulen;
	u[6] = u[7] = 0;
	memcpy(u + 8, p, n);
	pcap_record(f, i, fr, flen);
}

TEST(tshark_dissects_every_message)
{
	char dir[] = "/tmp/gk-cmd-tshark-XXXXXX", path[256], cmd[1024];
	static char out[65536];

	/* make deps installs tshark: without it this is a broken setup, not a skip */
	ASSERT_EQ(0, system("command -v tshark >/dev/null 2>&1")) TH_LOG("tshark not installed");
	ASSERT_NE(NULL, mkdtemp(dir));
	for (int proto = GK_PROTO_MGCP; proto <= GK_PROTO_H248; proto++) {
		const struct gk_codec *c = codec_of(proto);
		snprintf(path, sizeof(path), "%s/%s.pcap", dir, c->name);
		FILE *f = fopen(path, "wb");
		ASSERT_NE(NULL, f);
		pcap_begin(f);
		char expect[1024] = "";
		for (unsigned i = 0; i < N_MSGS; i++) {
			struct gk_msg a = build(proto, i);
			uint8_t w[4096];
			int n = c->encode(&a, w, sizeof(w));
			ASSERT_LT(0, n);
			/* terminal -> network: to 2727 (MGCP call agent) / 2944; else to 2427 */
			bool up = a.type == GK_MSG_REGISTER || a.type == GK_MSG_ANSWER ||
			          a.type == GK_MSG_DEREGISTER || a.type == GK_MSG_OTHER;
			uint16_t sp = proto == GK_PROTO_MGCP ? (up ? 2427 : 2727) : 2944;
			uint16_t dp = proto == GK_PROTO_MGCP ? (up ? 2727 : 2427) : 2944;
			pcap_put(f, i, sp, dp, w, (size_t)n);
		}
		fclose(f);
		snprintf(cmd, sizeof(cmd),
		         "tshark -n -r %s -Y '_ws.malformed || _ws.expert.severity >= \"Error\"' "
		         "2>/dev/null | wc -l",
		         path);
		ASSERT_EQ(0, tool_output(cmd, out, sizeof(out)));
		EXPECT_EQ(0, atoi(out)) TH_LOG("%s: malformed or erroneous frames", c->name);
		if (proto == GK_PROTO_MGCP) {
			snprintf(cmd, sizeof(cmd),
			         "tshark -n -r %s -T fields -e mgcp.req.verb -e mgcp.rsp.rspcode "
			         "-e mgcp.transid 2>/dev/null",
			         path);
			snprintf(
			    expect, sizeof(expect),
			    "RSIP\t\t1200\nRQNT\t\t1201\nNTFY\t\t1202\nRQNT\t\t1203\nRSIP\t\t1204\n"
			    "NTFY\t\t1205\n\t500\t1206\n\t200\t1207\n\t200\t1208\n\t200\t1209\n"
			    "\t200\t1210\n\t100\t1211\n\t0\t1212\nNTFY\t\t1213\n\t409\t1214\n");
		} else {
			snprintf(
			    cmd, sizeof(cmd),
			    "tshark -n -r %s -T fields -e megaco.transaction -e megaco.command "
			    "-e megaco.transid -e megaco.error_code 2>/dev/null",
			    path);
			snprintf(
			    expect, sizeof(expect),
			    "Request\tServiceChange,Notify\t1200\t\nRequest\tModify\t1201\t\n"
			    "Request\tNotify\t1202\t\nRequest\tModify\t1203\t\n"
			    "Request\tServiceChange,Notify\t1204\t\nRequest\tNotify\t1205\t\n"
			    "Reply\t\t1206\t402\nReply\tServiceChange,Notify\t1207\t\n"
			    "Reply\tNotify\t1208\t\nReply\tNotify\t1209\t\nReply\tNotify\t1210\t\n"
			    "Reply\t\t1211\t\nTransactionResponseAck\t\t1212\t\n"
			    "Request\tNotify\t1213\t\nReply\t\t1214\t510\n");
		}
		ASSERT_EQ(0, tool_output(cmd, out, sizeof(out)));
		EXPECT_STREQ(expect, out);
		unlink(path);
	}
	rmdir(dir);
}

TEST_HARNESS_MAIN
