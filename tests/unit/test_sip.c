// SPDX-License-Identifier: GPL-2.0-only
/*
 * The SIP codec: every message of the exchange survives encode -> decode with all its fields;
 * what real UAs send (compact forms, folding, odd case and spacing, LF-only, several Vias) is
 * read; malformed input is refused with the reason that names the fault, and no prefix or
 * mutation of a valid message crashes the decoder. With GK_SIP_DUMP=<dir> the encoded messages
 * are also written there, one file per datagram (for a tshark check).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The harness's own callbacks leave parameters unused, and its EXPECT_EQ compares an int
 * literal with the unsigned fields under test: -Wextra -Werror would stop on both. */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "kselftest_harness.h"

#include "gatekey/codec/codec.h"
#include "gatekey/sip/sip.h"

#define N1_HEX   "6b1f0c3e9a2d4c57b0e8f1a2c3d4e5f6"
#define N2_HEX   "0f9e8d7c6b5a49382716a5b4c3d2e1f0"
#define RAND_HEX "c4a1f2e3d4b5c6a7e8f9a0b1c2d3e4f5"
#define AUTH_HEX "7d1e3a9c0b6f5e2d8c4a1b7e9f3d6c2a5b8e0f1d4c7a9b2e6f3d0c8a1b5e7f9d"
#define MAC_HEX  "3e5d7c9b1a2f4e6d8c0b9a7f5e3d1c2b4a6f8e0d9c7b5a3f1e2d4c6b8a0f9e7d"
#define BLOB_HEX                                                                                   \
	"019c3f1a7e2b5d8c0f4e6a1b3d5e7f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e" \
	"8f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d"

/* Pieces of hand-written datagrams. */
#define REQ  "REGISTER sip:ss1 SIP/2.0\r\n"
#define VIA  "Via: SIP/2.0/UDP 198.18.1.2:5060;branch=z9hG4bK776asdhds;rport\r\n"
#define FROM "From: <sip:alice@ss1>;tag=1928301774\r\n"
#define TO   "To: <sip:alice@ss1>\r\n"
#define CID  "Call-ID: a84b4c76e66710@198.18.1.2\r\n"
#define CSEQ "CSeq: 1 REGISTER\r\n"
#define CT   "Contact: <sip:alice@198.18.1.2:5060>\r\n"
#define GKA                                                                                        \
	"Authorization: GK1 username=\"alice\", realm=\"ss1\", n1=\"" N1_HEX                       \
	"\", ts=\"1732795200\"\r\n"
#define END   "Content-Length: 0\r\n\r\n"
#define HEAD  VIA FROM TO CID CSEQ CT
#define RSP   "SIP/2.0 200 OK\r\n"
#define RTO   "To: <sip:alice@ss1>;tag=gk1234\r\n"
#define RHEAD VIA FROM RTO CID CSEQ

static const char *corpus_dir(char *buf, size_t cap);

static int decode_str(const char *s, struct gk_msg *m, enum gk_reason *why)
{
	return gk_sip_decode((const uint8_t *)s, strlen(s), m, why);
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + 37 * i);
}

static void hex_of(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

/* ---- the messages of one exchange, as the state machines build them -------------------------- */

static void request_ctx(struct gk_msg *m, const char *method, uint32_t cseq)
{
	struct gk_sip_ctx *s = &m->wire.sip;

	m->proto = GK_PROTO_SIP;
	snprintf(s->method, sizeof(s->method), "%s", method);
	gk_sip_setf(s, GK_SIP_RURI, "sip:ss1");
	s->n_via = 0;
	gk_sip_add_viaf(s, "SIP/2.0/UDP 198.18.1.2:5060;branch=z9hG4bK%016x;rport", cseq);
	gk_sip_setf(s, GK_SIP_FROM, "<sip:alice@ss1>;tag=t0");
	gk_sip_setf(s, GK_SIP_TO, "<sip:alice@ss1>");
	gk_sip_setf(s, GK_SIP_CALL_ID, "gk-5f2c81a0-0@gkterm");
	s->cseq = cseq;
	gk_sip_setf(s, GK_SIP_CONTACT, "<sip:alice@198.18.1.2:5060>");
}

static void ids(struct gk_msg *m)
{
	snprintf(m->idc, sizeof(m->idc), "alice");
	snprintf(m->idsp, sizeof(m->idsp), "ss1");
}

static struct gk_msg msg_register(void)
{
	struct gk_msg m = {0};
	ids(&m);
	m.type = GK_MSG_REGISTER;
	request_ctx(&m, "REGISTER", 1);
	m.fields = GK_F_N1 | GK_F_TS | GK_F_EXPIRES;
	fill(m.n1, sizeof(m.n1), 1);
	m.ts = 1732795200;
	m.expires = 3600;
	return m;
}

/* A response built from a request the way the registrar does it: context copied, To tag set. */
static struct gk_msg respond(const struct gk_msg *req, enum gk_msg_type type)
{
	struct gk_msg m = {0};
	m.proto = GK_PROTO_SIP;
	m.type = (uint8_t)type;
	memcpy(m.idc, req->idc, sizeof(m.idc));
	memcpy(m.idsp, req->idsp, sizeof(m.idsp));
	m.wire = req->wire;
	snprintf(m.wire.sip.to_tag, sizeof(m.wire.sip.to_tag), "gk8c2d41f0");
	return m;
}

static struct gk_msg msg_challenge(void)
{
	struct gk_msg req = msg_register();
	struct gk_msg m = respond(&req, GK_MSG_CHALLENGE);
	m.fields = GK_F_N1 | GK_F_N2 | GK_F_TS | GK_F_RAND | GK_F_WANT_MECHS;
	memcpy(m.n1, req.n1, sizeof(m.n1));
	fill(m.n2, sizeof(m.n2), 2);
	fill(m.rand, sizeof(m.rand), 3);
	m.ts = 1732795201;
	return m;
}

static struct gk_msg msg_answer(void)
{
	struct gk_msg m = {0};
	ids(&m);
	m.type = GK_MSG_ANSWER;
	request_ctx(&m, "REGISTER", 2);
	m.fields = GK_F_N1 | GK_F_N2 | GK_F_TS | GK_F_RAND | GK_F_AUTH | GK_F_MECHS | GK_F_EXPIRES;
	fill(m.n1, sizeof(m.n1), 4);
	fill(m.n2, sizeof(m.n2), 2);
	fill(m.rand, sizeof(m.rand), 3);
	fill(m.auth, sizeof(m.auth), 5);
	m.ts = 1732795202;
	m.mechs[0] = (struct gk_mech_offer){GK_MECH_GKMAC, 900};
	m.mechs[1] = (struct gk_mech_offer){GK_MECH_TLS, 500};
	m.n_mechs = 2;
	m.expires = 3600;
	return m;
}

static struct gk_msg msg_success(void)
{
	struct gk_msg req = msg_answer();
	struct gk_msg m = respond(&req, GK_MSG_SUCCESS);
	m.fields = GK_F_N1 | GK_F_N2 | GK_F_TS | GK_F_BLOB | GK_F_CHOSEN | GK_F_MECHS |
	           GK_F_EXPIRES | GK_F_MAC | GK_F_INDEX;
	memcpy(m.n1, req.n1, sizeof(m.n1));
	fill(m.n2, sizeof(m.n2), 6);
	m.ts = 1732795203;
	fill(m.blob, sizeof(m.blob), 7);
	m.chosen = GK_MECH_GKMAC;
	memcpy(m.mechs, req.mechs, sizeof(m.mechs));
	m.n_mechs = req.n_mechs;
	m.expires = 1800;
	m.index = 42;
	fill(m.mac, sizeof(m.mac), 8);
	return m;
}

static struct gk_msg msg_reject(void)
{
	struct gk_msg req = msg_answer();
	struct gk_msg m = respond(&req, GK_MSG_REJECT);
	m.reason = GK_R_WRONG_AUTH; /* for logs only: the wire says 403 */
	return m;
}

static struct gk_msg msg_deregister(void)
{
	struct gk_msg m = {0};
	ids(&m);
	m.type = GK_MSG_DEREGISTER;
	request_ctx(&m, "REGISTER", 4);
	m.fields = GK_F_TS | GK_F_EXPIRES;
	m.ts = 1732795260;
	return m;
}

static struct gk_msg msg_dereg_ok(void)
{
	struct gk_msg req = msg_deregister();
	struct gk_msg m = respond(&req, GK_MSG_DEREG_OK);
	m.fields = GK_F_EXPIRES;
	return m;
}

static struct gk_msg msg_other(void)
{
	struct gk_msg m = {0};
	ids(&m);
	m.type = GK_MSG_OTHER;
	request_ctx(&m, "OPTIONS", 3);
	return m;
}

static struct gk_msg msg_other_ok(void)
{
	struct gk_msg req = msg_other();
	return respond(&req, GK_MSG_OTHER_OK);
}

/* ---------------------------------------------------------------------------------------------- */

static bool is_request(uint8_t type)
{
	return type == GK_MSG_REGISTER || type == GK_MSG_ANSWER || type == GK_MSG_DEREGISTER ||
	       type == GK_MSG_OTHER;
}

/* What the decoder must give back for an encoded m. */
static struct gk_msg expected_of(const struct gk_msg *in)
{
	struct gk_msg e = *in;
	struct gk_sip_ctx *s = &e.wire.sip;

	e.proto = GK_PROTO_SIP;
	if (is_request(in->type)) {
		s->status = 0;
		return e;
	}
	if (s->to_tag[0] && !strstr(gk_sip_get(s, GK_SIP_TO), ";tag="))
		gk_sip_setf(s, GK_SIP_TO, "%s;tag=%s", gk_sip_get(s, GK_SIP_TO), s->to_tag);
	switch (in->type) {
	case GK_MSG_CHALLENGE:
		s->status = 401;
		break;
	case GK_MSG_REJECT:
		s->status = in->reason == GK_R_OVERLOAD ? 503 : 403;
		break;
	default:
		s->status = 200;
		break;
	}
	if (in->type == GK_MSG_SUCCESS && (in->fields & GK_F_EXPIRES))
		gk_sip_setf(s, GK_SIP_CONTACT, "%s;expires=%u", gk_sip_get(s, GK_SIP_CONTACT),
		            in->expires);
	else if (in->type != GK_MSG_SUCCESS)
		s->str[GK_SIP_CONTACT] = 0;
	if (in->type == GK_MSG_REJECT) {
		e.reason = in->reason == GK_R_OVERLOAD ? GK_R_OVERLOAD : GK_R_REFUSED;
		e.retry_after = in->reason == GK_R_OVERLOAD ? in->retry_after : 0;
		e.fields = 0;
	}
	return e;
}

/* "" when a and b agree, else what differs first. */
static const char *msg_diff(const struct gk_msg *a, const struct gk_msg *b)
{
	const struct gk_sip_ctx *x = &a->wire.sip, *y = &b->wire.sip;
	static char why[128];

#define D(cond, what)                                                                              \
	do {                                                                                       \
		if (cond) {                                                                        \
			snprintf(why, sizeof(why), "%s", what);                                    \
			return why;                                                                \
		}                                                                                  \
	} while (0)
	D(a->proto != b->proto, "proto");
	D(a->type != b->type, "type");
	D(a->fields != b->fields, "fields");
	D(strcmp(a->idc, b->idc), "idc");
	D(strcmp(a->idsp, b->idsp), "idsp");
	D((a->fields & GK_F_N1) && memcmp(a->n1, b->n1, sizeof(a->n1)), "n1");
	D((a->fields & GK_F_N2) && memcmp(a->n2, b->n2, sizeof(a->n2)), "n2");
	D((a->fields & GK_F_TS) && a->ts != b->ts, "ts");
	D((a->fields & GK_F_RAND) && memcmp(a->rand, b->rand, sizeof(a->rand)), "rand");
	D((a->fields & GK_F_AUTH) && memcmp(a->auth, b->auth, sizeof(a->auth)), "auth");
	D((a->fields & GK_F_BLOB) && memcmp(a->blob, b->blob, sizeof(a->blob)), "blob");
	D((a->fields & GK_F_BLOB_ELEM) &&
	      memcmp(a->blob_element, b->blob_element, sizeof(a->blob_element)),
	  "blob_element");
	D((a->fields & GK_F_ADDR) && strcmp(a->address, b->address), "address");
	D((a->fields & GK_F_MECHS) &&
	      (a->n_mechs != b->n_mechs ||
	       memcmp(a->mechs, b->mechs, a->n_mechs * sizeof(a->mechs[0]))),
	  "mechs");
	D((a->fields & GK_F_CHOSEN) && a->chosen != b->chosen, "chosen");
	D((a->fields & GK_F_MAC) && memcmp(a->mac, b->mac, sizeof(a->mac)), "mac");
	D((a->fields & GK_F_EXPIRES) && a->expires != b->expires, "expires");
	D((a->fields & GK_F_INDEX) && a->index != b->index, "index");
	D(a->type == GK_MSG_REJECT && a->reason != b->reason, "reason");
	D(a->type == GK_MSG_REJECT && a->retry_after != b->retry_after, "retry_after");
	D((a->fields & (GK_F_DIGEST | GK_F_DIGEST_CHAL)) &&
	      memcmp(&a->digest, &b->digest, sizeof(a->digest)),
	  "digest");
	D((a->fields & GK_F_IPSEC_TERM) &&
	      memcmp(&a->ipsec_term, &b->ipsec_term, sizeof(a->ipsec_term)),
	  "ipsec_term");
	D((a->fields & GK_F_IPSEC_NET) &&
	      memcmp(&a->ipsec_net, &b->ipsec_net, sizeof(a->ipsec_net)),
	  "ipsec_net");
	D(strcmp(x->method, y->method), "method");
	D(is_request(a->type) && strcmp(gk_sip_get(x, GK_SIP_RURI), gk_sip_get(y, GK_SIP_RURI)),
	  "ruri");
	D(x->n_via != y->n_via, "n_via");
	for (unsigned i = 0; i < x->n_via; i++)
		D(strcmp(gk_sip_via(x, i), gk_sip_via(y, i)), "via");
	D(strcmp(gk_sip_get(x, GK_SIP_FROM), gk_sip_get(y, GK_SIP_FROM)), "from");
	D(strcmp(gk_sip_get(x, GK_SIP_TO), gk_sip_get(y, GK_SIP_TO)), "to");
	D(strcmp(x->to_tag, y->to_tag), "to_tag");
	D(strcmp(gk_sip_get(x, GK_SIP_CALL_ID), gk_sip_get(y, GK_SIP_CALL_ID)), "call_id");
	D(x->cseq != y->cseq, "cseq");
	D(strcmp(gk_sip_get(x, GK_SIP_CONTACT), gk_sip_get(y, GK_SIP_CONTACT)), "contact");
	D(x->status != y->status, "status");
#undef D
	return "";
}

static void dump(const char *name, const char *wire, int n)
{
	const char *dir = getenv("GK_SIP_DUMP");
	char path[512];
	FILE *f;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%s.sip", dir, name);
	f = fopen(path, "wb");
	if (f) {
		fwrite(wire, 1, (size_t)n, f);
		fclose(f);
	}
}

/* Encodes in, decodes it back into *out; the wire text is left in wire (NUL-terminated). */
static void roundtrip(struct __test_metadata *_metadata, const char *name, const struct gk_msg *in,
                      struct gk_msg *out, char *wire, size_t cap)
{
	enum gk_reason why = GK_R_INTERNAL;
	struct gk_msg want = expected_of(in);
	int n = gk_sip_encode(in, (uint8_t *)wire, cap - 1);

	ASSERT_LT(0, n) TH_LOG("%s: encode failed: %d", name, n);
	wire[n] = '\0';
	dump(name, wire, n);
	ASSERT_EQ(0, gk_sip_decode((const uint8_t *)wire, (size_t)n, out, &why))
	TH_LOG("%s: %s\n%s", name, gk_reason_name(why), wire);
	EXPECT_EQ(GK_R_OK, (int)why);
	EXPECT_STREQ("", msg_diff(&want, out)) TH_LOG("%s:\n%s", name, wire);

	/* Encoding what was decoded gives the same bytes. */
	char again[4096];
	int n2 = gk_sip_encode(out, (uint8_t *)again, sizeof(again));
	ASSERT_EQ(n, n2);
	EXPECT_EQ(0, memcmp(wire, again, (size_t)n));

	/* Each strictly shorter buffer is refused, and nothing is written past it. */
	for (int cap2 = 0; cap2 < n; cap2 += (cap2 < n - 64 ? 13 : 1)) {
		memset(again, 0x5a, sizeof(again));
		EXPECT_EQ(-ENOSPC, gk_sip_encode(in, (uint8_t *)again, (size_t)cap2));
		EXPECT_EQ(0x5a, (unsigned char)again[cap2]);
	}
}

/* ---------------------------------------------------------------------------------------------- */

TEST(roundtrip_register)
{
	struct gk_msg in = msg_register(), out;
	char w[4096], h[80];

	roundtrip(_metadata, "01-register", &in, &out, w, sizeof(w));
	EXPECT_EQ(0, strncmp(w, "REGISTER sip:ss1 SIP/2.0\r\n", 26));
	hex_of(in.n1, sizeof(in.n1), h);
	char line[256];
	snprintf(line, sizeof(line),
	         "\r\nAuthorization: GK1 username=\"alice\", realm=\"ss1\", n1=\"%s\", "
	         "ts=\"1732795200\"\r\n",
	         h);
	EXPECT_NE(NULL, strstr(w, line)) TH_LOG("%s", w);
	EXPECT_NE(NULL, strstr(w, "\r\nExpires: 3600\r\n"));
	EXPECT_NE(NULL, strstr(w, "\r\nMax-Forwards: 70\r\n"));
	EXPECT_NE(NULL, strstr(w, "\r\nUser-Agent: gatekey\r\n"));
	EXPECT_NE(NULL, strstr(w, "\r\nContent-Length: 0\r\n\r\n"));
	EXPECT_EQ(1, gk_sip_is_register((const uint8_t *)w, strlen(w)));
}

TEST(roundtrip_challenge)
{
	struct gk_msg in = msg_challenge(), out;
	char w[4096];

	roundtrip(_metadata, "02-challenge", &in, &out, w, sizeof(w));
	EXPECT_EQ(0, strncmp(w, "SIP/2.0 401 Unauthorized\r\n", 26));
	EXPECT_NE(NULL, strstr(w, "\r\nWWW-Authenticate: GK1 realm=\"ss1\", nonce=\""));
	EXPECT_NE(NULL,
	          strstr(w, "\", ts=\"1732795201\", algorithm=gk1, mechanisms=\"required\"\r\n"));
	EXPECT_NE(NULL, strstr(w, "\r\nTo: <sip:alice@ss1>;tag=gk8c2d41f0\r\n"));
	EXPECT_NE(NULL, strstr(w, "\r\nServer: gatekey\r\n"));
	EXPECT_STREQ("alice", out.idc);
	EXPECT_EQ(0, gk_sip_is_register((const uint8_t *)w, strlen(w)));

	/* Without the request for a mechanism list. */
	in.fields &= ~GK_F_WANT_MECHS;
	roundtrip(_metadata, "02b-challenge", &in, &out, w, sizeof(w));
	EXPECT_EQ(NULL, strstr(w, "mechanisms"));
}

TEST(roundtrip_answer)
{
	struct gk_msg in = msg_answer(), out;
	char w[4096];

	roundtrip(_metadata, "03-answer", &in, &out, w, sizeof(w));
	EXPECT_NE(NULL, strstr(w, "\r\nSecurity-Client: gk-mac;q=0.9, tls;q=0.5\r\n"));
	EXPECT_NE(NULL, strstr(w, "\r\nRequire: sec-agree\r\nProxy-Require: sec-agree\r\n"));
	EXPECT_NE(NULL, strstr(w, "\", response=\""));
	EXPECT_EQ(GK_MSG_ANSWER, out.type);

	/* Every mechanism and the q-value extremes. */
	in.mechs[0] = (struct gk_mech_offer){GK_MECH_IPSEC, 0};
	in.mechs[1] = (struct gk_mech_offer){GK_MECH_DIGEST, 1};
	in.mechs[2] = (struct gk_mech_offer){GK_MECH_TLS, 1000};
	in.mechs[3] = (struct gk_mech_offer){GK_MECH_GKMAC, 123};
	in.mechs[4] = (struct gk_mech_offer){GK_MECH_GKMAC, 50};
	in.n_mechs = 5;
	roundtrip(_metadata, "03b-answer", &in, &out, w, sizeof(w));
	EXPECT_NE(NULL, strstr(w, "Security-Client: ipsec-3gpp;q=0, digest;q=0.001, tls;q=1, "
	                          "gk-mac;q=0.123, gk-mac;q=0.05\r\n"));
	in.n_mechs = GK_MECH_MAX;
	for (unsigned i = 0; i < GK_MECH_MAX; i++)
		in.mechs[i] = (struct gk_mech_offer){(uint8_t)(1 + i % 4), (uint16_t)(i * 111)};
	roundtrip(_metadata, "03c-answer", &in, &out, w, sizeof(w));
}

/* ipsec-3gpp: the terminal's end (SPIs and ports) travels with its offer in Security-Client and
 * in the SUCCESS's echo of it, the element's in Security-Server, both as TS 33.203 Annex H
 * writes them; the s10 MAC's canonical bytes cover both ends. */
TEST(ipsec_3gpp_ends_travel_in_the_offer_and_the_success)
{
	struct gk_msg in = msg_answer(), out, s;
	const struct gk_ipsec_end term = {
	    .spi_c = 23456789, .spi_s = 12345678, .port_c = 2468, .port_s = 1357};
	const struct gk_ipsec_end net = {
	    .spi_c = 4294967295u, .spi_s = 256, .port_c = 65535, .port_s = 5064};
	uint8_t c1[GK_CANON_MAX], c2[GK_CANON_MAX];
	char w[4096];
	int n1, n2;

	in.mechs[1] = (struct gk_mech_offer){GK_MECH_IPSEC, 500};
	in.ipsec_term = term;
	in.fields |= GK_F_IPSEC_TERM;
	roundtrip(_metadata, "03e-answer-ipsec", &in, &out, w, sizeof(w));
	EXPECT_NE(NULL, strstr(w, "Security-Client: gk-mac;q=0.9, ipsec-3gpp;q=0.5;prot=esp;"
	                          "mod=trans;ealg=aes-gcm;spi-c=23456789;spi-s=12345678;"
	                          "port-c=2468;port-s=1357\r\n"))
	TH_LOG("%s", w);

	s = msg_success();
	s.mechs[1] = (struct gk_mech_offer){GK_MECH_IPSEC, 500};
	s.chosen = GK_MECH_IPSEC;
	s.ipsec_term = term;
	s.ipsec_net = net;
	s.fields |= GK_F_IPSEC_TERM | GK_F_IPSEC_NET;
	roundtrip(_metadata, "04f-success-ipsec", &s, &out, w, sizeof(w));
	EXPECT_NE(NULL, strstr(w, "Security-Server: ipsec-3gpp;q=0.5;prot=esp;mod=trans;"
	                          "ealg=aes-gcm;spi-c=4294967295;spi-s=256;port-c=65535;"
	                          "port-s=5064\r\n"))
	TH_LOG("%s", w);
	EXPECT_NE(NULL, strstr(w, "mechanisms=\"gk-mac;q=0.9, ipsec-3gpp;q=0.5;prot=esp;"))
	TH_LOG("%s", w);

	/* The MAC covers each SPI and port of both ends. */
	n1 = gk_msg_success_canonical(&s, c1, sizeof(c1));
	ASSERT_LT(0, n1);
	s.ipsec_net.port_s++;
	n2 = gk_msg_success_canonical(&s, c2, sizeof(c2));
	EXPECT_TRUE(n1 != n2 || memcmp(c1, c2, (size_t)n1) != 0);
	s.ipsec_net.port_s--;
	s.ipsec_term.spi_c++;
	n2 = gk_msg_success_canonical(&s, c2, sizeof(c2));
	EXPECT_TRUE(n1 != n2 || memcmp(c1, c2, (size_t)n1) != 0);
	s.fields &= ~GK_F_IPSEC_TERM;
	n2 = gk_msg_success_canonical(&s, c2, sizeof(c2));
	EXPECT_EQ(n1 - 13, n2);
}

/* What a UE may write that gives no end: the mechanism stays in the list, which is echoed as
 * it came, but nothing could protect the terminal under it. A malformed value is refused. */
TEST(ipsec_3gpp_unusable_and_malformed_ends)
{
	struct gk_msg m;
	enum gk_reason why;
	static const char *const no_end[] = {
	    "ipsec-3gpp;spi-c=1111;spi-s=2222;port-c=5062;port-s=5064", /* no ealg */
	    "ipsec-3gpp;ealg=aes-cbc;spi-c=1111;spi-s=2222;port-c=5062;port-s=5064",
	    "ipsec-3gpp;ealg=aes-gcm;prot=ah;spi-c=1111;spi-s=2222;port-c=5062;port-s=5064",
	    "ipsec-3gpp;ealg=aes-gcm;mod=tun;spi-c=1111;spi-s=2222;port-c=5062;port-s=5064",
	    "ipsec-3gpp;ealg=aes-gcm;spi-c=1111;spi-s=2222;port-c=5062",            /* no port-s */
	    "ipsec-3gpp;ealg=aes-gcm;spi-c=255;spi-s=2222;port-c=5062;port-s=5064", /* reserved */
	    "ipsec-3gpp;ealg=aes-gcm;spi-c=1111;spi-s=2222;port-c=0;port-s=5064",
	};
	static const char *const refused[] = {
	    "ipsec-3gpp;ealg=aes-gcm;spi-c=4294967296;spi-s=2222;port-c=5062;port-s=5064",
	    "ipsec-3gpp;ealg=aes-gcm;spi-c=1111;spi-s=2222;port-c=65536;port-s=5064",
	    "ipsec-3gpp;ealg=aes-gcm;spi-c=1111;spi-c=1111;spi-s=2222;port-c=1;port-s=2",
	    "ipsec-3gpp;ealg=aes-gcm;spi-c=-1;spi-s=2222;port-c=5062;port-s=5064",
	    "ipsec-3gpp;ealg=aes-gcm;spi-c=\"1111\";spi-s=2222;port-c=5062;port-s=5064",
	    "ipsec-3gpp;ealg;spi-c=1111;spi-s=2222;port-c=5062;port-s=5064",
	    "ipsec-3gpp;ealg=aes-gcm;ealg=aes-gcm;spi-c=1;spi-s=2;port-c=1;port-s=2",
	};
	char s[1024];

	for (size_t i = 0; i < sizeof(no_end) / sizeof(no_end[0]); i++) {
		snprintf(s, sizeof(s), REQ HEAD GKA "Security-Client: gk-mac, %s\r\n" END,
		         no_end[i]);
		ASSERT_EQ(0, decode_str(s, &m, &why))
		TH_LOG("%s: %s", no_end[i], gk_reason_name(why));
		EXPECT_EQ(2, m.n_mechs);
		EXPECT_EQ(GK_MECH_IPSEC, m.mechs[1].mech);
		EXPECT_FALSE(m.fields & GK_F_IPSEC_TERM) TH_LOG("%s", no_end[i]);
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		snprintf(s, sizeof(s), REQ HEAD GKA "Security-Client: gk-mac, %s\r\n" END,
		         refused[i]);
		EXPECT_GT(0, decode_str(s, &m, &why)) TH_LOG("%s", refused[i]);
		EXPECT_EQ(GK_R_PARSE_BAD_VALUE, why)
		TH_LOG("%s: %s", refused[i], gk_reason_name(why));
	}
	/* Variants, one per algorithm (RFC 3329 §2.2): the first usable one is the end. */
	ASSERT_EQ(0, decode_str(REQ HEAD GKA "Security-Client: ipsec-3gpp;alg=hmac-sha-1-96;"
	                                     "spi-c=1;spi-s=2;port-c=3;port-s=4, ipsec-3gpp;"
	                                     "alg=aes-gmac;ealg=aes-gcm;spi-c=1111;spi-s=2222;"
	                                     "port-c=5062;port-s=5064, ipsec-3gpp;ealg=aes-gcm;"
	                                     "spi-c=3333;spi-s=4444;port-c=1;port-s=2\r\n" END,
	                        &m, &why))
	TH_LOG("%s", gk_reason_name(why));
	EXPECT_EQ(3, m.n_mechs);
	ASSERT_TRUE(m.fields & GK_F_IPSEC_TERM);
	EXPECT_EQ(1111, m.ipsec_term.spi_c);
	EXPECT_EQ(2222, m.ipsec_term.spi_s);
	EXPECT_EQ(5062, m.ipsec_term.port_c);
	EXPECT_EQ(5064, m.ipsec_term.port_s);
}

TEST(roundtrip_success)
{
	struct gk_msg in = msg_success(), out;
	char w[4096], blob[2 * GK_BLOB_LEN + 1], line[512];

	roundtrip(_metadata, "04-success", &in, &out, w, sizeof(w));
	hex_of(in.blob, sizeof(in.blob), blob);
	snprintf(line, sizeof(line),
	         "\", key=\"%s\", mechanisms=\"gk-mac;q=0.9, tls;q=0.5\", "
	         "index=\"42\", rspauth=\"",
	         blob);
	EXPECT_NE(NULL, strstr(w, "\r\nAuthentication-Info: n1=\"")) TH_LOG("%s", w);
	EXPECT_NE(NULL, strstr(w, line)) TH_LOG("%s", w);
	EXPECT_NE(NULL, strstr(w, "\r\nSecurity-Server: gk-mac;q=0.9\r\n"));
	EXPECT_NE(NULL, strstr(w, "\r\nContact: <sip:alice@198.18.1.2:5060>;expires=1800\r\n"));
	EXPECT_NE(NULL, strstr(w, "\r\nExpires: 1800\r\n"));
	EXPECT_STREQ("alice", out.idc);
	EXPECT_STREQ("ss1", out.idsp);

	/* The MAC input is the same on both sides of the wire. */
	uint8_t c1[GK_CANON_MAX], c2[GK_CANON_MAX];
	int l1 = gk_msg_success_canonical(&in, c1, sizeof(c1));
	int l2 = gk_msg_success_canonical(&out, c2, sizeof(c2));
	ASSERT_LT(0, l1);
	ASSERT_EQ(l1, l2);
	EXPECT_EQ(0, memcmp(c1, c2, (size_t)l1));

	/* A chosen mechanism that is not in the echoed list carries no q; index 0 is kept. */
	in.chosen = GK_MECH_DIGEST;
	in.index = 0;
	roundtrip(_metadata, "04b-success", &in, &out, w, sizeof(w));
	EXPECT_NE(NULL, strstr(w, "\r\nSecurity-Server: digest\r\n"));
	EXPECT_NE(NULL, strstr(w, "index=\"0\""));
	/* An empty echoed list is still an echo. */
	in.n_mechs = 0;
	roundtrip(_metadata, "04c-success", &in, &out, w, sizeof(w));
	EXPECT_NE(NULL, strstr(w, "mechanisms=\"\""));

	/* A Digest registration's success: no key, no MAC, its mechanism and lifetime. */
	in.fields = GK_F_CHOSEN | GK_F_EXPIRES;
	in.chosen = GK_MECH_DIGEST;
	roundtrip(_metadata, "04d-digest-success", &in, &out, w, sizeof(w));
	EXPECT_EQ(GK_MSG_SUCCESS, out.type);
	EXPECT_EQ(NULL, strstr(w, "Authentication-Info"));
	EXPECT_NE(NULL, strstr(w, "\r\nExpires: 1800\r\n"));
	/* Without a lifetime (the core leg), still a success; with lifetime 0 it cannot be one. */
	in.fields = GK_F_CHOSEN;
	roundtrip(_metadata, "04e-digest-success-core", &in, &out, w, sizeof(w));
	EXPECT_EQ(GK_MSG_SUCCESS, out.type);
	in.fields = GK_F_CHOSEN | GK_F_EXPIRES;
	in.expires = 0;
	EXPECT_EQ(-EINVAL, gk_sip_encode(&in, (uint8_t *)w, sizeof(w)));
}

TEST(roundtrip_reject_and_deregistration)
{
	struct gk_msg in = msg_reject(), out;
	char w[4096];

	roundtrip(_metadata, "05-reject", &in, &out, w, sizeof(w));
	EXPECT_EQ(0, strncmp(w, "SIP/2.0 403 Forbidden\r\n", 23));
	EXPECT_EQ(NULL, strstr(w, "WRONG")); /* no detail on the wire */
	EXPECT_EQ(GK_R_REFUSED, out.reason);

	in = msg_deregister();
	roundtrip(_metadata, "06-deregister", &in, &out, w, sizeof(w));
	EXPECT_NE(NULL, strstr(w, "\r\nExpires: 0\r\n"));
	EXPECT_EQ(GK_MSG_DEREGISTER, out.type);
	EXPECT_EQ(1, gk_sip_is_register((const uint8_t *)w, strlen(w)));

	/* Contact: * is a deregistration too. */
	gk_sip_setf(&in.wire.sip, GK_SIP_CONTACT, "*");
	roundtrip(_metadata, "06b-deregister", &in, &out, w, sizeof(w));
	EXPECT_NE(NULL, strstr(w, "\r\nContact: *\r\n"));

	in = msg_dereg_ok();
	roundtrip(_metadata, "07-dereg-ok", &in, &out, w, sizeof(w));
	EXPECT_NE(NULL, strstr(w, "\r\nExpires: 0\r\n"));
	EXPECT_EQ(NULL, strstr(w, "Contact:"));
}

/* Shed under overload: 503 with Retry-After (RFC 3261 §21.5.4, §20.33), which reads back as an
 * overload with its wait; no other reason reaches the wire. */
TEST(roundtrip_overload_is_503_with_retry_after)
{
	struct gk_msg in = msg_reject(), out;
	char w[4096];

	in.reason = GK_R_OVERLOAD;
	in.retry_after = 7;
	roundtrip(_metadata, "10-gk-reject-overload.reject", &in, &out, w, sizeof(w));
	EXPECT_EQ(0, strncmp(w, "SIP/2.0 503 Service Unavailable\r\n", 33));
	EXPECT_NE(NULL, strstr(w, "\r\nRetry-After: 7\r\n"));
	EXPECT_EQ(GK_R_OVERLOAD, out.reason);
	EXPECT_EQ(7u, out.retry_after);

	/* without a wait: a 503 alone */
	in.retry_after = 0;
	roundtrip(_metadata, "overload-no-wait", &in, &out, w, sizeof(w));
	EXPECT_EQ(NULL, strstr(w, "Retry-After"));
	EXPECT_EQ(GK_R_OVERLOAD, out.reason);
	EXPECT_EQ(0u, out.retry_after);

	/* a wait on any other refusal is not said */
	in = msg_reject();
	in.retry_after = 7;
	ASSERT_LT(0, gk_sip_encode(&in, (uint8_t *)w, sizeof(w)));
	EXPECT_EQ(0, strncmp(w, "SIP/2.0 403 Forbidden\r\n", 23));
	EXPECT_EQ(NULL, strstr(w, "Retry-After"));
}

/* Other servers' Retry-After: a comment, parameters, a huge value; only a 503's counts. */
TEST(retry_after_as_other_servers_write_it)
{
	static const struct {
		unsigned status;
		const char *value; /* NULL: two header fields */
		int ok;
		uint32_t want;
		enum gk_reason why;
	} cases[] = {
	    {503, "18000;duration=3600", 0, 18000, GK_R_OK},
	    {503, "120 (I'm in a meeting)", 0, 120, GK_R_OK},
	    {503, "120(in a meeting);duration=60", 0, 120, GK_R_OK},
	    {503, "99999999999", 0, UINT32_MAX, GK_R_OK},
	    {503, "0", 0, 0, GK_R_OK},
	    {503, "soon", -1, 0, GK_R_PARSE_BAD_VALUE},
	    {503, "", -1, 0, GK_R_PARSE_BAD_VALUE},
	    {503, "12x", -1, 0, GK_R_PARSE_BAD_VALUE},
	    {503, NULL, -1, 0, GK_R_PARSE_DUPLICATE},
	    {500, "30", 0, 0, GK_R_OK}, /* a refusal, its Retry-After not read */
	    {480, "soon", 0, 0, GK_R_OK},
	};
	char w[1024];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gk_msg m;
		enum gk_reason why = GK_R_OK;
		int n = snprintf(
		    w, sizeof(w),
		    "SIP/2.0 %u Whatever\r\nVia: SIP/2.0/UDP 198.18.0.2;branch=z9hG4bK1\r\n"
		    "From: <sip:alice@ss1>;tag=1\r\nTo: <sip:alice@ss1>;tag=2\r\n"
		    "Call-ID: c1\r\nCSeq: 1 REGISTER\r\n%s%s%s%s"
		    "Content-Length: 0\r\n\r\n",
		    cases[i].status, "Retry-After: ", cases[i].value ? cases[i].value : "5", "\r\n",
		    cases[i].value ? "" : "Retry-After: 6\r\n");
		int r = gk_sip_decode((uint8_t *)w, (size_t)n, &m, &why);
		EXPECT_EQ(cases[i].ok, r) TH_LOG("case %zu: %s", i, gk_reason_name(why));
		EXPECT_EQ(cases[i].why, why) TH_LOG("case %zu", i);
		if (r == 0) {
			EXPECT_EQ(GK_MSG_REJECT, m.type);
			EXPECT_EQ(cases[i].status == 503 ? GK_R_OVERLOAD : GK_R_REFUSED, m.reason);
			EXPECT_EQ(cases[i].want, m.retry_after) TH_LOG("case %zu", i);
		}
	}
}

TEST(roundtrip_other)
{
	struct gk_msg in = msg_other(), out;
	char w[4096];

	roundtrip(_metadata, "08-options", &in, &out, w, sizeof(w));
	EXPECT_EQ(0, strncmp(w, "OPTIONS sip:ss1 SIP/2.0\r\n", 25));
	EXPECT_NE(NULL, strstr(w, "\r\nAuthorization: GK1 username=\"alice\", realm=\"ss1\"\r\n"));
	EXPECT_NE(NULL, strstr(w, "\r\nCSeq: 3 OPTIONS\r\n"));
	EXPECT_EQ(0, gk_sip_is_register((const uint8_t *)w, strlen(w)));

	/* Without IDs (an OPTIONS ping to the server itself) there is nobody to name. */
	in.idc[0] = '\0';
	gk_sip_setf(&in.wire.sip, GK_SIP_TO, "<sip:ss1>");
	roundtrip(_metadata, "08c-options", &in, &out, w, sizeof(w));
	EXPECT_EQ(NULL, strstr(w, "Authorization"));
	in = msg_other();
	EXPECT_EQ(0, gk_sip_is_register((const uint8_t *)w, strlen(w)));

	/* An OTHER with a timestamp carries gk1 credentials. */
	in.fields = GK_F_TS;
	in.ts = 99;
	roundtrip(_metadata, "08b-options", &in, &out, w, sizeof(w));
	EXPECT_NE(NULL,
	          strstr(w, "Authorization: GK1 username=\"alice\", realm=\"ss1\", ts=\"99\""));

	in = msg_other_ok();
	roundtrip(_metadata, "09-options-ok", &in, &out, w, sizeof(w));
	EXPECT_NE(NULL, strstr(w, "\r\nCSeq: 3 OPTIONS\r\n"));
}

/* The core leg (SBC <-> softswitch, DESIGN §3 s2/s5/s8/s9) uses the same codec with other
 * fields: no N1/TS, the terminal's address, a success with both blobs and no MAC. */
TEST(roundtrip_core_leg)
{
	struct gk_msg in, out;
	char w[4096];

	in = (struct gk_msg){0};
	ids(&in);
	in.type = GK_MSG_REGISTER; /* s2 */
	request_ctx(&in, "REGISTER", 11);
	in.wire.sip.str[GK_SIP_CONTACT] = 0;
	roundtrip(_metadata, "20-core-register", &in, &out, w, sizeof(w));
	EXPECT_NE(NULL, strstr(w, "\r\nAuthorization: GK1 username=\"alice\", realm=\"ss1\"\r\n"));
	EXPECT_EQ(0, out.fields);

	struct gk_msg req = in;
	in = respond(&req, GK_MSG_CHALLENGE); /* s5 */
	in.fields = GK_F_RAND;
	fill(in.rand, sizeof(in.rand), 3);
	roundtrip(_metadata, "21-core-challenge", &in, &out, w, sizeof(w));

	in = req; /* s8 */
	in.type = GK_MSG_ANSWER;
	in.wire.sip.cseq = 12;
	in.fields = GK_F_RAND | GK_F_AUTH | GK_F_ADDR;
	fill(in.rand, sizeof(in.rand), 3);
	fill(in.auth, sizeof(in.auth), 5);
	snprintf(in.address, sizeof(in.address), "[2001:db8::20]:5062");
	roundtrip(_metadata, "22-core-answer", &in, &out, w, sizeof(w));
	EXPECT_NE(NULL, strstr(w, "\", address=\"[2001:db8::20]:5062\"\r\n"));

	/* A sealed refresh's answer: the SBC vouches that the terminal's own binding verified it.
	 */
	struct gk_msg sealed = in;
	sealed.fields |= GK_F_SEALED;
	roundtrip(_metadata, "22-core-answer-sealed", &sealed, &out, w, sizeof(w));
	EXPECT_NE(NULL, strstr(w, "\", sealed=\"gk-mac\"\r\n")) TH_LOG("%s", w);
	EXPECT_TRUE(out.fields & GK_F_SEALED);
	/* Only gk-mac has a key to seal with: any other value is a malformed request. */
	char *v = strstr(w, "sealed=\"gk-mac\"");
	ASSERT_NE(NULL, v);
	memcpy(v + 8, "digest", 6);
	enum gk_reason why = GK_R_OK;
	EXPECT_EQ(-1, gk_sip_decode((const uint8_t *)w, strlen(w), &out, &why));
	EXPECT_EQ(GK_R_PARSE_BAD_VALUE, (int)why);

	req = in;
	in = respond(&req, GK_MSG_SUCCESS); /* s9 */
	in.fields = GK_F_RAND | GK_F_BLOB | GK_F_BLOB_ELEM;
	fill(in.rand, sizeof(in.rand), 3);
	fill(in.blob, sizeof(in.blob), 7);
	fill(in.blob_element, sizeof(in.blob_element), 9);
	roundtrip(_metadata, "23-core-success", &in, &out, w, sizeof(w));
	EXPECT_NE(NULL, strstr(w, "\r\nAuthentication-Info: nonce=\""));
	EXPECT_NE(NULL, strstr(w, "\", element-key=\"")) TH_LOG("%s", w);
	EXPECT_EQ(NULL, strstr(w, "rspauth"));

	in = (struct gk_msg){0};
	ids(&in);
	in.type = GK_MSG_DEREGISTER; /* end of a binding */
	request_ctx(&in, "REGISTER", 13);
	in.wire.sip.str[GK_SIP_CONTACT] = 0;
	in.fields = GK_F_ADDR | GK_F_EXPIRES;
	snprintf(in.address, sizeof(in.address), "198.18.1.2:5060");
	roundtrip(_metadata, "24-core-deregister", &in, &out, w, sizeof(w));
	req = in;
	in = respond(&req, GK_MSG_DEREG_OK);
	in.fields = GK_F_EXPIRES;
	roundtrip(_metadata, "25-core-dereg-ok", &in, &out, w, sizeof(w));
}

/* What the element does not serve is refused by the book: 405 for a method of RFC 3261 and its
 * extensions, 501 for any other, each with Allow naming what is served (RFC 3261 §21.4.6,
 * §21.5.2); a 405 without Allow would break the MUST. */
TEST(not_served_is_405_or_501_with_allow)
{
	static const struct {
		const char *method, *status;
	} cases[] = {{"INVITE", "SIP/2.0 405 Method Not Allowed\r\n"},
	             {"MESSAGE", "SIP/2.0 405 Method Not Allowed\r\n"},
	             {"SUBSCRIBE", "SIP/2.0 405 Method Not Allowed\r\n"},
	             {"FOOBAR", "SIP/2.0 501 Not Implemented\r\n"}};
	char w[4096];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gk_msg in = {0}, out;
		enum gk_reason why;

		ids(&in);
		in.type = GK_MSG_OTHER;
		request_ctx(&in, cases[i].method, 7);
		struct gk_msg resp = respond(&in, GK_MSG_REJECT);
		resp.reason = GK_R_NOT_SERVED;
		int n = gk_sip_encode(&resp, (uint8_t *)w, sizeof(w) - 1);
		ASSERT_LT(0, n) TH_LOG("%s", cases[i].method);
		w[n] = '\0';
		EXPECT_EQ(0, strncmp(w, cases[i].status, strlen(cases[i].status))) TH_LOG("%s", w);
		EXPECT_NE(NULL,
		          strstr(w, "\r\nAllow: REGISTER, OPTIONS, INVITE, ACK, BYE, CANCEL, "
		                    "UPDATE, INFO, PRACK, MESSAGE, SUBSCRIBE, NOTIFY, REFER\r\n"))
		TH_LOG("%s", w);
		EXPECT_NE(NULL, strstr(w, cases[i].method)); /* in the CSeq */
		ASSERT_EQ(0, gk_sip_decode((const uint8_t *)w, (size_t)n, &out, &why));
		EXPECT_EQ(GK_MSG_REJECT, out.type);
		/* Any other refusal stays 403 and says no more. */
		resp.reason = GK_R_REFUSED;
		n = gk_sip_encode(&resp, (uint8_t *)w, sizeof(w) - 1);
		ASSERT_LT(0, n);
		w[n] = '\0';
		EXPECT_EQ(0, strncmp(w, "SIP/2.0 403 Forbidden\r\n", 23));
		EXPECT_EQ(NULL, strstr(w, "Allow:"));
	}
}

TEST(roundtrip_rich_context)
{
	struct gk_msg in = msg_answer(), out;
	struct gk_sip_ctx *s = &in.wire.sip;
	char w[4096];

	/* Four Vias (an SBC and two proxies on the way), IPv6, display names, long IDs. */
	gk_sip_add_viaf(s,
	                "SIP/2.0/UDP [2001:db8::5]:5060;branch=z9hG4bKsbc1;received=2001:db8::9");
	gk_sip_add_viaf(s, "SIP/2.0/TCP p2.example.net;branch=z9hG4bKp2");
	gk_sip_add_viaf(s, "SIP/2.0/UDP 198.18.7.7:5070;branch=z9hG4bKx;x=\"a,b\"");
	memset(in.idc, 'a', GK_ID_MAX);
	in.idc[GK_ID_MAX] = '\0';
	gk_sip_setf(s, GK_SIP_FROM, "\"Alice \\\"A\\\" Smith\" <sip:%s@ss1>;tag=x1", in.idc);
	gk_sip_setf(s, GK_SIP_TO, "Alice <sip:%s@ss1>", in.idc);
	gk_sip_setf(s, GK_SIP_CONTACT, "<sip:a@[2001:db8::2]:5062;transport=udp>;q=0.7");
	s->cseq = 4294967295u;
	in.ts = UINT64_MAX;
	in.expires = 4294967295u;
	roundtrip(_metadata, "10-rich-answer", &in, &out, w, sizeof(w));

	struct gk_msg ok = respond(&in, GK_MSG_SUCCESS), ok_out;
	ok.fields = GK_F_N1 | GK_F_MAC | GK_F_EXPIRES | GK_F_INDEX;
	ok.index = 4294967295u;
	ok.expires = 7;
	roundtrip(_metadata, "11-rich-success", &ok, &ok_out, w, sizeof(w));
	EXPECT_EQ(4, ok_out.wire.sip.n_via);
	EXPECT_NE(NULL, strstr(w, ";transport=udp>;q=0.7;expires=7\r\n"));
}

/* ---- hand-written variants ---------------------------------------------------------------- */

TEST(compact_forms_case_and_spacing)
{
	struct gk_msg m;
	enum gk_reason why;
	const char *s = "REGISTER sip:ss1 SIP/2.0\r\n"
	                "v: SIP/2.0/UDP 198.18.1.2:5060;branch=z9hG4bKa\r\n"
	                "f:<sip:alice@ss1>;tag=1\r\n"
	                "t :   <sip:alice@ss1>  \r\n"
	                "i: abc@host\r\n"
	                "cseq  :  7   REGISTER\r\n"
	                "m: <sip:alice@198.18.1.2>\r\n"
	                "EXPIRES:60\r\n"
	                "k: path, sec-agree\r\n"
	                "aUtHoRiZaTiOn: gk1   username = \"alice\" ,realm=\"ss1\",  n1 = \"" N1_HEX
	                "\" , ts=1732795200\r\n"
	                "l: 0\r\n\r\n";

	ASSERT_EQ(0, decode_str(s, &m, &why)) TH_LOG("%s", gk_reason_name(why));
	EXPECT_EQ(GK_MSG_REGISTER, m.type);
	EXPECT_EQ(GK_F_N1 | GK_F_TS | GK_F_EXPIRES, m.fields);
	EXPECT_STREQ("alice", m.idc);
	EXPECT_STREQ("ss1", m.idsp);
	EXPECT_EQ(1732795200, m.ts);
	EXPECT_EQ(60, m.expires);
	EXPECT_EQ(7, m.wire.sip.cseq);
	EXPECT_STREQ("abc@host", gk_sip_get(&m.wire.sip, GK_SIP_CALL_ID));
	EXPECT_STREQ("<sip:alice@ss1>", gk_sip_get(&m.wire.sip, GK_SIP_TO));
	EXPECT_STREQ("<sip:alice@ss1>;tag=1", gk_sip_get(&m.wire.sip, GK_SIP_FROM));
	EXPECT_STREQ("SIP/2.0/UDP 198.18.1.2:5060;branch=z9hG4bKa", gk_sip_via(&m.wire.sip, 0));
	EXPECT_EQ(0x6b, m.n1[0]);
	EXPECT_EQ(0xf6, m.n1[15]);
}

TEST(folded_headers)
{
	struct gk_msg m;
	enum gk_reason why;
	const char *s = REQ "Via: SIP/2.0/UDP 198.18.1.2:5060\r\n"
	                    "\t;branch=z9hG4bKfold\r\n" FROM TO CID CSEQ CT
	                    "Authorization: GK1 username=\"alice\",\r\n"
	                    "   realm=\"ss1\",\r\n"
	                    " \t n1=\"" N1_HEX "\",\r\n"
	                    " ts=\"1732795200\"\r\n"
	                    "Subject: first\r\n"
	                    "  second\r\n" END;

	ASSERT_EQ(0, decode_str(s, &m, &why)) TH_LOG("%s", gk_reason_name(why));
	EXPECT_EQ(GK_F_N1 | GK_F_TS, m.fields);
	EXPECT_STREQ("SIP/2.0/UDP 198.18.1.2:5060 ;branch=z9hG4bKfold", gk_sip_via(&m.wire.sip, 0));

	/* The folded Via echoes on one line. */
	struct gk_msg r = respond(&m, GK_MSG_OTHER_OK);
	snprintf(r.wire.sip.method, sizeof(r.wire.sip.method), "OPTIONS");
	char w[2048];
	int n = gk_sip_encode(&r, (uint8_t *)w, sizeof(w) - 1);
	ASSERT_LT(0, n);
	w[n] = 0;
	EXPECT_NE(NULL, strstr(w, "\r\nVia: SIP/2.0/UDP 198.18.1.2:5060 ;branch=z9hG4bKfold\r\n"));
}

TEST(lf_only_and_leading_crlf)
{
	struct gk_msg m;
	enum gk_reason why;
	const char *s = "\r\n\r\nREGISTER sip:ss1 SIP/2.0\n"
	                "Via: SIP/2.0/UDP 198.18.1.2;branch=z9hG4bKlf\n"
	                "From: <sip:alice@ss1>;tag=1\nTo: <sip:alice@ss1>\nCall-ID: lf@x\n"
	                "CSeq: 1 REGISTER\n"
	                "Authorization: GK1 username=\"alice\", realm=\"ss1\", "
	                "n1=\"" N1_HEX "\"\n\n";

	ASSERT_EQ(0, decode_str(s, &m, &why)) TH_LOG("%s", gk_reason_name(why));
	EXPECT_EQ(GK_MSG_REGISTER, m.type);
	EXPECT_EQ(GK_F_N1, m.fields);
	/* mixed line ends */
	const char *t = REQ "Via: SIP/2.0/UDP h;branch=z9hG4bK1\n" FROM
	                    "To: <sip:alice@ss1>\n" CID CSEQ GKA "\n";
	ASSERT_EQ(0, decode_str(t, &m, &why)) TH_LOG("%s", gk_reason_name(why));
}

TEST(reordered_headers_and_params)
{
	struct gk_msg m;
	enum gk_reason why;
	const char *s = REQ "Content-Length: 0\r\n"
	                    "Authorization: GK1 response=\"" AUTH_HEX "\", ts=\"5\", n2=\"" N2_HEX
	                    "\", realm=\"ss1\", nonce=\"" RAND_HEX "\", n1=\"" N1_HEX
	                    "\", username=\"alice\", opaque=\"ignored\", uri=\"sip:ss1\"\r\n"
	                    "Security-Client: gk-mac;q=0.9\r\n" CSEQ CT
	                    "Expires: 600\r\n" TO FROM CID VIA "\r\n";

	ASSERT_EQ(0, decode_str(s, &m, &why)) TH_LOG("%s", gk_reason_name(why));
	EXPECT_EQ(GK_MSG_ANSWER, m.type);
	EXPECT_EQ(GK_F_N1 | GK_F_N2 | GK_F_TS | GK_F_RAND | GK_F_AUTH | GK_F_MECHS | GK_F_EXPIRES,
	          m.fields);
	EXPECT_EQ(5, m.ts);
	EXPECT_EQ(0x7d, m.auth[0]);
	EXPECT_EQ(0xc4, m.rand[0]);
	EXPECT_EQ(0x0f, m.n2[0]);
	EXPECT_EQ(1, m.n_mechs);
	EXPECT_EQ(600, m.expires);
}

TEST(several_vias)
{
	struct gk_msg m;
	enum gk_reason why;
	const char *s = RSP "Via: SIP/2.0/UDP a.example;branch=z9hG4bK1, SIP / 2.0 / UDP "
	                    "b.example:5070;branch=z9hG4bK2;received=198.18.0.9\r\n"
	                    "v: SIP/2.0/TCP [2001:db8::1];branch=z9hG4bK3\r\n" FROM RTO CID
	                    "CSeq: 9 OPTIONS\r\n" END;

	ASSERT_EQ(0, decode_str(s, &m, &why)) TH_LOG("%s", gk_reason_name(why));
	EXPECT_EQ(GK_MSG_OTHER_OK, m.type);
	ASSERT_EQ(3, m.wire.sip.n_via);
	EXPECT_STREQ("SIP/2.0/UDP a.example;branch=z9hG4bK1", gk_sip_via(&m.wire.sip, 0));
	EXPECT_STREQ("SIP / 2.0 / UDP b.example:5070;branch=z9hG4bK2;received=198.18.0.9",
	             gk_sip_via(&m.wire.sip, 1));
	EXPECT_STREQ("SIP/2.0/TCP [2001:db8::1];branch=z9hG4bK3", gk_sip_via(&m.wire.sip, 2));
	EXPECT_STREQ("OPTIONS", m.wire.sip.method);
	EXPECT_STREQ("gk1234", m.wire.sip.to_tag);
	EXPECT_EQ(200, m.wire.sip.status);
}

/* The SBC finds its transaction from a core response's top Via: the 64-bit value it wrote after
 * the branch cookie comes back whole, in either case, and any other branch gives 0. */
TEST(transaction_ref_from_the_branch)
{
	const struct gk_codec *c = gk_codec_get(GK_PROTO_SIP);
	struct sockaddr_storage local = {0};
	struct sockaddr_in *sin = (struct sockaddr_in *)&local;
	const uint64_t refs[] = {1, 0x0123456789abcdefULL, ~0ULL};
	struct gk_msg m;
	enum gk_reason why;
	char w[4096];

	sin->sin_family = AF_INET;
	sin->sin_port = htons(5060);
	sin->sin_addr.s_addr = htonl(0xc6120102); /* 198.18.1.2 */
	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
		struct gk_request_ctx ctx = {.idc = "alice",
		                             .idsp = "ss1",
		                             .local = &local,
		                             .dialog_id = "d1@test",
		                             .local_tag = "t1",
		                             .seq = 1,
		                             .unique = refs[i]};
		m = (struct gk_msg){.type = GK_MSG_REGISTER, .proto = GK_PROTO_SIP};
		ids(&m);
		c->request_init(&m, &ctx);
		EXPECT_EQ(refs[i], c->transaction_ref(&m));
	}

	const char *const branches[] = {"z9hG4bKABCDEF0123456789", "z9hG4bK0123",
	                                "z9hG4bK0123456789abcdeg", "xyz"};
	const uint64_t want[] = {0xabcdef0123456789ULL, 0, 0, 0};
	for (size_t i = 0; i < sizeof(branches) / sizeof(branches[0]); i++) {
		snprintf(w, sizeof(w),
		         RSP "Via: SIP/2.0/UDP 198.18.1.2;branch=%s\r\n" FROM RTO CID
		             "CSeq: 9 OPTIONS\r\n" END,
		         branches[i]);
		ASSERT_EQ(0, decode_str(w, &m, &why)) TH_LOG("%s", gk_reason_name(why));
		EXPECT_EQ(want[i], c->transaction_ref(&m)) TH_LOG("%s", branches[i]);
	}
}

/* RFC 3261 §25: ';' and '?' are legal in a URI's user part, and only '@' ends it. The user part
 * was cut at the first ';', so RFC 4475 §3.1.1.12's "semiuri" read the host from inside the user
 * part ("user"), and "sip:wat;son@..." had no user at all. */
TEST(uri_user_part_may_hold_semicolons_and_question_marks)
{
	static const struct {
		const char *ruri, *to, *idsp, *idc;
	} cases[] = {
	    {"sip:user;par=u%40example.net@ss1", "<sip:alice@ss1>", "ss1", "alice"},
	    {"sip:ss1;transport=udp", "<sip:alice@ss1>", "ss1", "alice"},
	    {"sip:a?b@ss1;lr", "<sip:alice@ss1;user=phone>", "ss1", "alice"},
	    {"sip:x:pw@ss1;lr", "<sip:alice@ss1>", "ss1", "alice"},
	};
	char buf[1024];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gk_msg m;
		enum gk_reason why;

		snprintf(buf, sizeof(buf),
		         "OPTIONS %s SIP/2.0\r\n" VIA FROM "To: %s\r\n" CID
		         "CSeq: 1 OPTIONS\r\n" END,
		         cases[i].ruri, cases[i].to);
		ASSERT_EQ(0, decode_str(buf, &m, &why))
		TH_LOG("%s: %s", cases[i].ruri, gk_reason_name(why));
		EXPECT_STREQ(cases[i].idsp, m.idsp) TH_LOG("%s", cases[i].ruri);
		EXPECT_STREQ(cases[i].idc, m.idc) TH_LOG("%s", cases[i].ruri);
	}
	/* A To user with ';' is a user of the URI, but no IDc gatekey can hold: refused as such. */
	struct gk_msg m;
	enum gk_reason why;
	snprintf(buf, sizeof(buf),
	         "OPTIONS sip:ss1 SIP/2.0\r\n" VIA FROM "To: <sip:wat;son@ss1>\r\n" CID
	         "CSeq: 1 OPTIONS\r\n" END);
	int r = decode_str(buf, &m, &why);
	EXPECT_TRUE(r == 0 ? strcmp(m.idc, "wat;son") == 0 : why == GK_R_PARSE_BAD_VALUE)
	TH_LOG("r=%d idc=%s why=%s", r, m.idc, gk_reason_name(why));
}

TEST(quoted_strings_and_hex_case)
{
	struct gk_msg m;
	enum gk_reason why;
	const char *s = REQ HEAD "Authorization: GK1 username=\"al\\ice\", realm=\"s\\s1\", n1=\""
	                         "6B1F0C3E9A2D4C57B0E8F1A2C3D4E5F6\", ts=\"1732795200\"\r\n" END;

	ASSERT_EQ(0, decode_str(s, &m, &why)) TH_LOG("%s", gk_reason_name(why));
	EXPECT_STREQ("alice", m.idc);
	EXPECT_STREQ("ss1", m.idsp);
	EXPECT_EQ(0x6b, m.n1[0]);
}

TEST(expires_rules)
{
	struct gk_msg m;
	enum gk_reason why;

	/* The Expires header field */
	ASSERT_EQ(0, decode_str(REQ HEAD GKA "Expires: 0\r\n" END, &m, &why));
	EXPECT_EQ(GK_MSG_DEREGISTER, m.type);
	EXPECT_TRUE(m.fields & GK_F_EXPIRES);
	/* the Contact's expires parameter, which wins over the header field (RFC 3261
	 * §10.2.1.1) */
	ASSERT_EQ(0, decode_str(REQ VIA FROM TO CID CSEQ GKA
	                        "Contact: <sip:alice@198.18.1.2>;expires=0\r\nExpires: 60\r\n" END,
	                        &m, &why));
	EXPECT_EQ(GK_MSG_DEREGISTER, m.type);
	ASSERT_EQ(0, decode_str(REQ VIA FROM TO CID CSEQ GKA
	                        "Contact: <sip:alice@198.18.1.2>;expires=60\r\nExpires: 0\r\n" END,
	                        &m, &why));
	EXPECT_EQ(GK_MSG_REGISTER, m.type);
	EXPECT_EQ(60, m.expires);
	/* addr-spec Contact: the parameters are the Contact's */
	ASSERT_EQ(0, decode_str(REQ VIA FROM TO CID CSEQ GKA
	                        "Contact: sip:alice@198.18.1.2;expires=0\r\n" END,
	                        &m, &why));
	EXPECT_EQ(GK_MSG_DEREGISTER, m.type);
	/* Contact: * */
	ASSERT_EQ(0, decode_str(REQ VIA FROM TO CID CSEQ GKA "Contact: *\r\nExpires: 0\r\n" END, &m,
	                        &why));
	EXPECT_EQ(GK_MSG_DEREGISTER, m.type);
	EXPECT_STREQ("*", gk_sip_get(&m.wire.sip, GK_SIP_CONTACT));
	/* No expiry at all: the registrar's default applies. */
	ASSERT_EQ(0, decode_str(REQ HEAD GKA END, &m, &why));
	EXPECT_EQ(GK_MSG_REGISTER, m.type);
	EXPECT_FALSE(m.fields & GK_F_EXPIRES);
	/* Larger than 2^32-1 means 2^32-1 (RFC 3261 §20.19). */
	ASSERT_EQ(0, decode_str(REQ HEAD GKA "Expires: 99999999999999999999999\r\n" END, &m, &why));
	EXPECT_EQ(4294967295u, m.expires);
	/* Two Contact header fields are one list. */
	ASSERT_EQ(0, decode_str(REQ VIA FROM TO CID CSEQ GKA "Contact: <sip:a@h1>;expires=30\r\n"
	                                                     "m: <sip:a@h2>;expires=40\r\n" END,
	                        &m, &why));
	EXPECT_STREQ("<sip:a@h1>;expires=30, <sip:a@h2>;expires=40",
	             gk_sip_get(&m.wire.sip, GK_SIP_CONTACT));
	EXPECT_EQ(30, m.expires);
}

TEST(mechanism_lists)
{
	struct gk_msg m;
	enum gk_reason why;
	const char *s = REQ HEAD GKA "Security-Client: foo;q=1;bar=\"x;y,z\", gk-mac ; q = 0.9\r\n"
	                             "Security-Client: TLS;q=0.05, "
	                             "ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1;port-c=5062;q=1.000, "
	                             "digest\r\n" END;

	ASSERT_EQ(0, decode_str(s, &m, &why)) TH_LOG("%s", gk_reason_name(why));
	ASSERT_EQ(4, m.n_mechs);
	EXPECT_TRUE(m.fields & GK_F_MECHS);
	EXPECT_EQ(GK_MECH_GKMAC, m.mechs[0].mech);
	EXPECT_EQ(900, m.mechs[0].q);
	EXPECT_EQ(GK_MECH_TLS, m.mechs[1].mech);
	EXPECT_EQ(50, m.mechs[1].q);
	EXPECT_EQ(GK_MECH_IPSEC, m.mechs[2].mech);
	EXPECT_EQ(1000, m.mechs[2].q);
	EXPECT_EQ(GK_MECH_DIGEST, m.mechs[3].mech);
	EXPECT_EQ(1000, m.mechs[3].q); /* no q: most preferred */

	/* Only unknown names: no offer. */
	ASSERT_EQ(0, decode_str(REQ HEAD GKA "Security-Client: foo, bar;q=0.1\r\n" END, &m, &why));
	EXPECT_FALSE(m.fields & GK_F_MECHS);

	/* q-values: all the spellings RFC 3261 allows. */
	static const struct {
		const char *q;
		uint16_t v;
	} qs[] = {{"0", 0},    {"0.", 0},    {"0.9", 900},  {"0.90", 900},   {"0.905", 905},
	          {"1", 1000}, {"1.", 1000}, {"1.0", 1000}, {"1.000", 1000}, {"0.001", 1}};
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		char b[1024];
		snprintf(b, sizeof(b), REQ HEAD GKA "Security-Client: tls;q=%s\r\n" END, qs[i].q);
		ASSERT_EQ(0, decode_str(b, &m, &why)) TH_LOG("q=%s", qs[i].q);
		EXPECT_EQ(qs[i].v, m.mechs[0].q) TH_LOG("q=%s", qs[i].q);
	}
}

TEST(challenge_next_to_digest)
{
	struct gk_msg m;
	enum gk_reason why;
	const char *s = "SIP/2.0 401 Unauthorized\r\n" VIA FROM RTO CID CSEQ
	                "WWW-Authenticate: Digest realm=\"ss1\", nonce=\"abc\", algorithm=SHA-256, "
	                "qop=\"auth\", GK1 realm=\"ss1\", nonce=\"" RAND_HEX "\", n1=\"" N1_HEX
	                "\", n2=\"" N2_HEX "\", ts=\"7\", algorithm=GK1, "
	                "mechanisms=\"required\"\r\n"
	                "WWW-Authenticate: Basic YWxhZGRpbjpvcGVuc2VzYW1l==\r\n" END;

	ASSERT_EQ(0, decode_str(s, &m, &why)) TH_LOG("%s", gk_reason_name(why));
	EXPECT_EQ(GK_MSG_CHALLENGE, m.type);
	EXPECT_EQ(GK_F_N1 | GK_F_N2 | GK_F_TS | GK_F_RAND | GK_F_WANT_MECHS | GK_F_DIGEST_CHAL,
	          m.fields);
	EXPECT_STREQ("alice", m.idc);
	EXPECT_STREQ("ss1", m.idsp);
	EXPECT_STREQ("abc", m.digest.nonce);
	EXPECT_STREQ("SHA-256", m.digest.algorithm);
	EXPECT_STREQ("auth", m.digest.qop);

	/* A 401 that only speaks Digest is a challenge too; IDsp is the To host, and a missing
	 * algorithm means MD5 (RFC 7616 §3.3). */
	ASSERT_EQ(0, decode_str("SIP/2.0 401 Unauthorized\r\n" RHEAD
	                        "WWW-Authenticate: Digest realm=\"r x\", nonce=\"abc\", "
	                        "qop=\"auth-int, auth\", stale=TRUE, opaque=\"o\\\"q\"\r\n" END,
	                        &m, &why));
	EXPECT_EQ(GK_MSG_CHALLENGE, m.type);
	EXPECT_EQ(GK_F_DIGEST_CHAL, m.fields);
	EXPECT_STREQ("ss1", m.idsp);
	EXPECT_STREQ("r x", m.digest.realm);
	EXPECT_STREQ("MD5", m.digest.algorithm);
	EXPECT_STREQ("auth", m.digest.qop);
	EXPECT_STREQ("o\"q", m.digest.opaque);
	EXPECT_TRUE(m.digest.stale);
	/* Several challenges: the first is kept. */
	ASSERT_EQ(0,
	          decode_str("SIP/2.0 401 Unauthorized\r\n" RHEAD
	                     "WWW-Authenticate: Digest realm=\"a\", nonce=\"n1\", algorithm=MD5\r\n"
	                     "WWW-Authenticate: Digest realm=\"b\", nonce=\"n2\", "
	                     "algorithm=SHA-256\r\n" END,
	                     &m, &why));
	EXPECT_STREQ("a", m.digest.realm);
	EXPECT_STREQ("n1", m.digest.nonce);
	EXPECT_STREQ("MD5", m.digest.algorithm);
	/* Any other final failure is a refusal. */
	ASSERT_EQ(0, decode_str("SIP/2.0 404 Not Found\r\n" RHEAD END, &m, &why));
	EXPECT_EQ(GK_MSG_REJECT, m.type);
	ASSERT_EQ(0, decode_str("SIP/2.0 503 Service Unavailable\r\n" RHEAD END, &m, &why));
	EXPECT_EQ(GK_MSG_REJECT, m.type);
	EXPECT_EQ(503, m.wire.sip.status);
}

#define DG_RESP "8c5e0c2a4b1d6e9f7a3c5b2d8e1f4a6c"

TEST(digest_credentials)
{
	struct gk_msg m;
	enum gk_reason why;
	const char *s = REQ HEAD "Authorization: Digest username=\"alice\",realm=\"ss1\","
	                         "nonce=\"5f9a\",uri=\"sip:ss1\",response=\"" DG_RESP "\","
	                         "algorithm=MD5\r\n" GKA END;

	ASSERT_EQ(0, decode_str(s, &m, &why)) TH_LOG("%s", gk_reason_name(why));
	EXPECT_EQ(GK_MSG_REGISTER, m.type);
	EXPECT_EQ(GK_F_N1 | GK_F_TS | GK_F_DIGEST, m.fields);
	EXPECT_STREQ("alice", m.digest.username);
	EXPECT_STREQ("MD5", m.digest.algorithm);
	EXPECT_STREQ("", m.digest.qop);

	/* Digest alone: IDc from the To URI, IDsp from the request URI; token forms. */
	ASSERT_EQ(0,
	          decode_str("REGISTER sip:ss1:5060;transport=udp SIP/2.0\r\n" HEAD
	                     "Authorization: Digest username=x, realm=r, nonce=n, uri=\"sip:ss1\", "
	                     "response=" DG_RESP ", qop=\"auth\", nc=0000000A, cnonce=c, "
	                     "opaque=o, foo=\"bar\"\r\n" END,
	                     &m, &why));
	EXPECT_EQ(GK_MSG_REGISTER, m.type);
	EXPECT_STREQ("alice", m.idc);
	EXPECT_STREQ("ss1", m.idsp);
	EXPECT_EQ(GK_F_DIGEST, m.fields);
	EXPECT_STREQ("x", m.digest.username);
	EXPECT_STREQ("r", m.digest.realm);
	EXPECT_STREQ("auth", m.digest.qop);
	EXPECT_STREQ("0000000A", m.digest.nc);
	EXPECT_STREQ("c", m.digest.cnonce);
	EXPECT_STREQ("o", m.digest.opaque);
	/* Expires: 0 is still a deregistration. */
	ASSERT_EQ(0, decode_str(REQ HEAD "Expires: 0\r\n"
	                                 "Authorization: Digest username=\"alice\",realm=\"ss1\","
	                                 "nonce=\"5f9a\",uri=\"sip:ss1\",response=\"" DG_RESP
	                                 "\"\r\n" END,
	                        &m, &why));
	EXPECT_EQ(GK_MSG_DEREGISTER, m.type);
	EXPECT_EQ(GK_F_EXPIRES | GK_F_DIGEST, m.fields);
}

TEST(digest_refusals)
{
	char x64[80], x300[320], b[2048];
	static const struct {
		const char *name, *params;
		enum gk_reason why;
	} bad[] = {
	    {"username too long", "username=\"%s\", realm=r, nonce=n, uri=u, response=" DG_RESP,
	     GK_R_PARSE_TOO_LONG},
	    {"nonce too long", "username=a, realm=r, nonce=\"%s\", uri=u, response=" DG_RESP,
	     GK_R_PARSE_TOO_LONG},
	    {"uri too long", "username=a, realm=r, nonce=n, uri=\"%s\", response=" DG_RESP,
	     GK_R_PARSE_TOO_LONG},
	    {"duplicate realm",
	     "username=a, realm=r, realm=r, nonce=n, uri=u, response=" DG_RESP "%.0s",
	     GK_R_PARSE_DUPLICATE},
	    {"response of 31",
	     "username=a, realm=r, nonce=n, uri=u, "
	     "response=\"8c5e0c2a4b1d6e9f7a3c5b2d8e1f4a6\"%.0s",
	     GK_R_PARSE_BAD_VALUE},
	    {"response not hex",
	     "username=a, realm=r, nonce=n, uri=u, "
	     "response=\"8c5x0c2a4b1d6e9f7a3c5b2d8e1f4a6c\"%.0s",
	     GK_R_PARSE_BAD_VALUE},
	    {"nc of 7",
	     "username=a, realm=r, nonce=n, uri=u, response=" DG_RESP
	     ", qop=auth, nc=0000001, cnonce=c%.0s",
	     GK_R_PARSE_BAD_VALUE},
	    {"nc not hex",
	     "username=a, realm=r, nonce=n, uri=u, response=" DG_RESP
	     ", qop=auth, nc=0000000g, cnonce=c%.0s",
	     GK_R_PARSE_BAD_VALUE},
	    {"qop not a token",
	     "username=a, realm=r, nonce=n, uri=u, response=" DG_RESP
	     ", qop=\"a b\", nc=00000001, cnonce=c%.0s",
	     GK_R_PARSE_BAD_VALUE},
	    {"qop too long",
	     "username=a, realm=r, nonce=n, uri=u, response=" DG_RESP
	     ", qop=auth-int, nc=00000001, cnonce=c%.0s",
	     GK_R_PARSE_TOO_LONG},
	    {"qop without nc",
	     "username=a, realm=r, nonce=n, uri=u, response=" DG_RESP ", qop=auth, cnonce=c%.0s",
	     GK_R_PARSE_MISSING},
	    {"nc without qop",
	     "username=a, realm=r, nonce=n, uri=u, response=" DG_RESP ", nc=00000001, cnonce=c%.0s",
	     GK_R_PARSE_BAD_VALUE},
	    {"no response", "username=a, realm=r, nonce=n, uri=u%.0s", GK_R_PARSE_MISSING},
	    {"missing comma", "username=a realm=r, nonce=n, uri=u, response=" DG_RESP "%.0s",
	     GK_R_PARSE_SYNTAX},
	};

	memset(x64, 'a', 64);
	x64[64] = '\0';
	memset(x300, 'a', 300);
	x300[300] = '\0';
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct gk_msg m;
		enum gk_reason why = GK_R_OK;
		char p[1024];
		snprintf(p, sizeof(p), bad[i].params, strstr(bad[i].name, "uri") ? x300 : x64);
		snprintf(b, sizeof(b), REQ HEAD "Authorization: Digest %s\r\n" END, p);
		EXPECT_EQ(-1, decode_str(b, &m, &why)) TH_LOG("%s: accepted", bad[i].name);
		EXPECT_STREQ(gk_reason_name(bad[i].why), gk_reason_name(why))
		TH_LOG("%s", bad[i].name);
	}
	/* Two Digest credentials in one request. */
	snprintf(b, sizeof(b),
	         REQ HEAD
	         "Authorization: Digest username=a, realm=r, nonce=n, uri=u, response=" DG_RESP
	         "\r\nAuthorization: Digest username=a, realm=r, nonce=n, uri=u, "
	         "response=" DG_RESP "\r\n" END);
	struct gk_msg m;
	enum gk_reason why = GK_R_OK;
	EXPECT_EQ(-1, decode_str(b, &m, &why));
	EXPECT_EQ(GK_R_PARSE_DUPLICATE, why);
	/* A challenge: realm too long, stale not a boolean, no nonce. */
	snprintf(b, sizeof(b),
	         "SIP/2.0 401 Unauthorized\r\n" RHEAD "WWW-Authenticate: Digest realm=\"%s\", "
	         "nonce=n\r\n" END,
	         x64);
	EXPECT_EQ(-1, decode_str(b, &m, &why));
	EXPECT_EQ(GK_R_PARSE_TOO_LONG, why);
	EXPECT_EQ(-1, decode_str("SIP/2.0 401 Unauthorized\r\n" RHEAD
	                         "WWW-Authenticate: Digest realm=r, nonce=n, stale=maybe\r\n" END,
	                         &m, &why));
	EXPECT_EQ(GK_R_PARSE_BAD_VALUE, why);
	EXPECT_EQ(-1, decode_str("SIP/2.0 401 Unauthorized\r\n" RHEAD
	                         "WWW-Authenticate: Digest realm=r\r\n" END,
	                         &m, &why));
	EXPECT_EQ(GK_R_PARSE_MISSING, why);
}

static struct gk_msg msg_digest_register(void)
{
	struct gk_msg m = msg_register();
	struct gk_digest *g = &m.digest;
	m.fields = GK_F_DIGEST | GK_F_EXPIRES;
	snprintf(g->username, sizeof(g->username), "alice");
	snprintf(g->realm, sizeof(g->realm), "ss1 \"realm\" \\ x");
	snprintf(g->nonce, sizeof(g->nonce), "5f9a7c1e0b3d,x");
	snprintf(g->uri, sizeof(g->uri), "sip:ss1");
	snprintf(g->response, sizeof(g->response), "%s", AUTH_HEX);
	snprintf(g->cnonce, sizeof(g->cnonce), "6b8b4567");
	snprintf(g->nc, sizeof(g->nc), "00000001");
	snprintf(g->qop, sizeof(g->qop), "auth");
	snprintf(g->algorithm, sizeof(g->algorithm), "SHA-256");
	snprintf(g->opaque, sizeof(g->opaque), "op");
	return m;
}

TEST(roundtrip_digest)
{
	struct gk_msg in = msg_digest_register(), out;
	char w[4096];

	roundtrip(_metadata, "digest-register", &in, &out, w, sizeof(w));
	EXPECT_NE(NULL, strstr(w, "\r\nAuthorization: Digest username=\"alice\", "
	                          "realm=\"ss1 \\\"realm\\\" \\\\ x\", nonce=\"5f9a7c1e0b3d,x\", "
	                          "uri=\"sip:ss1\", response=\"" AUTH_HEX "\", algorithm=SHA-256, "
	                          "qop=auth, nc=00000001, cnonce=\"6b8b4567\", opaque=\"op\"\r\n"))
	TH_LOG("%s", w);
	EXPECT_STREQ("ss1 \"realm\" \\ x", out.digest.realm);

	/* Without qop or opaque or algorithm: just the five. */
#define CLR(f) memset(f, 0, sizeof(f))
	CLR(in.digest.qop);
	CLR(in.digest.nc);
	CLR(in.digest.cnonce);
	CLR(in.digest.opaque);
	CLR(in.digest.algorithm);
	roundtrip(_metadata, "digest-register-min", &in, &out, w, sizeof(w));
	EXPECT_NE(NULL, strstr(w, "response=\"" AUTH_HEX "\"\r\n"));
	/* What cannot read back is refused. */
	in.digest.nc[0] = '1';
	EXPECT_EQ(-EINVAL, gk_sip_encode(&in, (uint8_t *)w, sizeof(w)));
	in.digest.nc[0] = '\0';
	in.digest.response[5] = '\0';
	EXPECT_EQ(-EINVAL, gk_sip_encode(&in, (uint8_t *)w, sizeof(w)));

	/* The challenge, Digest only (To names IDsp) and with one algorithm. */
	struct gk_msg req = msg_register();
	struct gk_msg c = respond(&req, GK_MSG_CHALLENGE);
	c.fields = GK_F_DIGEST_CHAL;
	snprintf(c.digest.realm, sizeof(c.digest.realm), "ss1");
	snprintf(c.digest.nonce, sizeof(c.digest.nonce), "5f9a7c1e0b3d");
	snprintf(c.digest.algorithm, sizeof(c.digest.algorithm), "SHA-256");
	snprintf(c.digest.qop, sizeof(c.digest.qop), "auth");
	snprintf(c.digest.opaque, sizeof(c.digest.opaque), "op");
	c.digest.stale = true;
	roundtrip(_metadata, "digest-challenge", &c, &out, w, sizeof(w));
	EXPECT_NE(NULL, strstr(w, "\r\nWWW-Authenticate: Digest realm=\"ss1\", "
	                          "nonce=\"5f9a7c1e0b3d\", algorithm=SHA-256, qop=\"auth\", "
	                          "opaque=\"op\", stale=true\r\n"))
	TH_LOG("%s", w);
	EXPECT_EQ(NULL, strstr(w, "GK1"));
	/* No algorithm: SHA-256 then MD5 with the same nonce (RFC 8760 §3), read back as one. */
	CLR(c.digest.algorithm);
	CLR(c.digest.opaque);
#undef CLR
	c.digest.stale = false;
	roundtrip(_metadata, "digest-challenge-pair", &c, &out, w, sizeof(w));
	const char *sha =
	    strstr(w, "WWW-Authenticate: Digest realm=\"ss1\", nonce=\"5f9a7c1e0b3d\", "
	              "algorithm=SHA-256, qop=\"auth\"\r\n");
	const char *md5 =
	    strstr(w, "WWW-Authenticate: Digest realm=\"ss1\", nonce=\"5f9a7c1e0b3d\", "
	              "algorithm=MD5, qop=\"auth\"\r\n");
	EXPECT_NE(NULL, sha) TH_LOG("%s", w);
	EXPECT_NE(NULL, md5);
	EXPECT_LT(sha, md5);
	EXPECT_STREQ("", out.digest.algorithm);
	/* An explicit list: one challenge per algorithm in the order given, read back as sent. */
	snprintf(c.digest.algorithm, sizeof(c.digest.algorithm), "MD5,SHA-256");
	roundtrip(_metadata, "digest-challenge-list", &c, &out, w, sizeof(w));
	sha = strstr(w, "algorithm=SHA-256, qop");
	md5 = strstr(w, "algorithm=MD5, qop");
	EXPECT_NE(NULL, sha);
	EXPECT_LT(md5, sha);
	EXPECT_STREQ("MD5,SHA-256", out.digest.algorithm);
	snprintf(c.digest.algorithm, sizeof(c.digest.algorithm), "MD5,,SHA-256");
	EXPECT_EQ(-EINVAL, gk_sip_encode(&c, (uint8_t *)w, sizeof(w)));
	snprintf(c.digest.algorithm, sizeof(c.digest.algorithm), "MD5,");
	EXPECT_EQ(-EINVAL, gk_sip_encode(&c, (uint8_t *)w, sizeof(w)));
	memset(c.digest.algorithm, 0, sizeof(c.digest.algorithm));
	/* Next to a gk1 challenge. */
	struct gk_msg g = msg_challenge();
	g.fields |= GK_F_DIGEST_CHAL;
	g.digest = c.digest;
	roundtrip(_metadata, "gk1-and-digest-challenge", &g, &out, w, sizeof(w));
	EXPECT_NE(NULL, strstr(w, "WWW-Authenticate: GK1 realm"));
}

TEST(sipp_digest_register)
{
	static const char s[] =
	    "REGISTER sip:198.18.0.1:5060 SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 198.18.1.10:5061;branch=z9hG4bK-2431-1-2\r\n"
	    "From: <sip:1001@198.18.0.1>;tag=2431SIPpTag001\r\n"
	    "To: <sip:1001@198.18.0.1>\r\n"
	    "Call-ID: 1-2431@198.18.1.10\r\n"
	    "CSeq: 2 REGISTER\r\n"
	    "Contact: sip:1001@198.18.1.10:5061\r\n"
	    "Authorization: Digest "
	    "username=\"1001\",realm=\"198.18.0.1\",cnonce=\"6b8b4567\",nc=00000001,qop=auth,"
	    "uri=\"sip:198.18.0.1:5060\",nonce=\"5f9a7c1e0b3d\",response="
	    "\"8c5e0c2a4b1d6e9f7a3c5b2d8e1f4a6c9b7d0e3f2a5c8b1d4e7f0a3c6b9d2e5f\","
	    "algorithm=SHA-256\r\n"
	    "Max-Forwards: 10\r\n"
	    "Expires: 120\r\n"
	    "User-Agent: SIPp/Linux\r\n"
	    "Content-Length: 0\r\n\r\n";
	char dir[512], path[1024], buf[4096];
	struct gk_msg m;
	enum gk_reason why;
	FILE *f;

	/* the same bytes as the capture in the seed corpus */
	snprintf(path, sizeof(path), "%s/12-sipp-digest-register.register.sip",
	         corpus_dir(dir, sizeof(dir)));
	f = fopen(path, "rb");
	ASSERT_NE(NULL, f);
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	ASSERT_EQ(sizeof(s) - 1, n);
	ASSERT_EQ(0, memcmp(s, buf, n));

	ASSERT_EQ(0, gk_sip_decode((const uint8_t *)buf, n, &m, &why))
	TH_LOG("%s", gk_reason_name(why));
	EXPECT_EQ(GK_MSG_REGISTER, m.type);
	EXPECT_EQ(GK_F_DIGEST | GK_F_EXPIRES, m.fields);
	EXPECT_STREQ("1001", m.digest.username);
	EXPECT_STREQ("198.18.0.1", m.digest.realm);
	EXPECT_STREQ("5f9a7c1e0b3d", m.digest.nonce);
	EXPECT_STREQ("sip:198.18.0.1:5060", m.digest.uri);
	EXPECT_STREQ("8c5e0c2a4b1d6e9f7a3c5b2d8e1f4a6c9b7d0e3f2a5c8b1d4e7f0a3c6b9d2e5f",
	             m.digest.response);
	EXPECT_STREQ("6b8b4567", m.digest.cnonce);
	EXPECT_STREQ("00000001", m.digest.nc);
	EXPECT_STREQ("auth", m.digest.qop);
	EXPECT_STREQ("SHA-256", m.digest.algorithm);
}

TEST(success_and_its_lookalikes)
{
	struct gk_msg m;
	enum gk_reason why;
	const char *s = RSP RHEAD "Authentication-Info: n1=\"" N1_HEX "\", n2=\"" N2_HEX
	                          "\", ts=\"9\", key=\"" BLOB_HEX "\", "
	                          "mechanisms=\"gk-mac;q=0.9, tls;q=0.5\", index=\"3\", "
	                          "rspauth=\"" MAC_HEX "\"\r\n"
	                          "Security-Server: gk-mac;q=0.9\r\n"
	                          "Contact: <sip:alice@198.18.1.2>;expires=300\r\n" END;

	ASSERT_EQ(0, decode_str(s, &m, &why)) TH_LOG("%s", gk_reason_name(why));
	EXPECT_EQ(GK_MSG_SUCCESS, m.type);
	EXPECT_EQ(GK_F_N1 | GK_F_N2 | GK_F_TS | GK_F_BLOB | GK_F_MECHS | GK_F_INDEX | GK_F_MAC |
	              GK_F_CHOSEN | GK_F_EXPIRES,
	          m.fields);
	EXPECT_EQ(GK_MECH_GKMAC, m.chosen);
	EXPECT_EQ(2, m.n_mechs);
	EXPECT_EQ(3, m.index);
	EXPECT_EQ(300, m.expires);
	EXPECT_EQ(0x01, m.blob[0]);
	EXPECT_EQ(0x3d, m.blob[60]);

	/* A Digest Authentication-Info: its rspauth is not the s10 MAC. */
	ASSERT_EQ(0, decode_str(RSP RHEAD "Authentication-Info: rspauth=\"0a9b\", qop=auth, "
	                                  "cnonce=\"6b8b4567\", nc=00000001\r\nExpires: 0\r\n" END,
	                        &m, &why));
	EXPECT_EQ(GK_MSG_DEREG_OK, m.type);
	EXPECT_EQ(GK_F_EXPIRES, m.fields);
	/* A 200 to OPTIONS carries nothing of the exchange, whatever its headers say. */
	ASSERT_EQ(0, decode_str(RSP VIA FROM RTO CID "CSeq: 2 OPTIONS\r\n"
	                                             "Authentication-Info: n1=\"" N1_HEX "\", "
	                                             "rspauth=\"" MAC_HEX "\"\r\n"
	                                             "Expires: 5\r\n" END,
	                        &m, &why));
	EXPECT_EQ(GK_MSG_OTHER_OK, m.type);
	EXPECT_EQ(0, m.fields);
}

TEST(trailing_bytes_and_body)
{
	struct gk_msg m;
	enum gk_reason why;
	char b[1024];
	size_t n;

	/* A stripped datagram may still have bytes after the message (here, a trailer's worth,
	 * with NULs): what Content-Length leaves out is not the message's. */
	n = (size_t)snprintf(b, sizeof(b), REQ HEAD GKA "Content-Length: 0\r\n\r\n");
	memcpy(b + n, "GK\x01\x00\x00\x00\x00\x07\x00\x00\x00\x00\x00\x00\x00\x01", 16);
	memset(b + n + 16, 0xee, 16);
	ASSERT_EQ(0, gk_sip_decode((const uint8_t *)b, n + 32, &m, &why));
	EXPECT_EQ(GK_MSG_REGISTER, m.type);
	/* A body within Content-Length is one: no request this element serves takes one, so it
	 * is refused as RFC 3261 §8.2.3 asks (415), whatever its type. */
	n = (size_t)snprintf(b, sizeof(b), REQ HEAD GKA "Content-Length: 5\r\n\r\nhello");
	EXPECT_EQ(-1, gk_sip_decode((const uint8_t *)b, n, &m, &why));
	EXPECT_EQ(GK_R_BAD_MEDIA, why);
	/* Without Content-Length the rest of the datagram is the body (UDP, RFC 3261 §18.3). */
	n = (size_t)snprintf(b, sizeof(b), REQ HEAD GKA "\r\nbody");
	EXPECT_EQ(-1, gk_sip_decode((const uint8_t *)b, n, &m, &why));
	EXPECT_EQ(GK_R_BAD_MEDIA, why);
	/* A request this element does not serve is refused for its method, body or not. */
	n = (size_t)snprintf(
	    b, sizeof(b),
	    "MESSAGE sip:alice@ss1 SIP/2.0\r\n" VIA FROM TO CID
	    "CSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi");
	ASSERT_EQ(0, gk_sip_decode((const uint8_t *)b, n, &m, &why))
	TH_LOG("%s", gk_reason_name(why));
	EXPECT_EQ(GK_MSG_OTHER, m.type);
}

TEST(is_register)
{
	static const struct {
		const char *s;
		int want;
	} t[] = {
	    {"REGISTER sip:ss1 SIP/2.0\r\n", 1},
	    {"REGISTER sip:ss1 SIP/2.0\n", 1},
	    {"REGISTER sip:ss1 SIP/2.0", 0},
	    {"REGISTER sip:ss1 SIP/2.0\r", 0},
	    {"REGISTER sip:ss1 SIP/2.1\r\n", 0},
	    {"REGISTER  SIP/2.0\r\n", 0},
	    {"register sip:ss1 SIP/2.0\r\n", 0},
	    {"OPTIONS sip:ss1 SIP/2.0\r\n", 0},
	    {"SIP/2.0 200 OK\r\n", 0},
	    {"REGISTER", 0},
	    {"", 0},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		EXPECT_EQ(t[i].want, gk_sip_is_register((const uint8_t *)t[i].s, strlen(t[i].s)))
		TH_LOG("%s", t[i].s);
	}
}

/* ---------------------------------------------------------------------------------------------- */

#define A64          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define X300         A64 A64 A64 A64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define X3000        X300 X300 X300 X300 X300 X300 X300 X300 X300 X300
#define X9000        X3000 X3000 X3000 /* over GK_SIP_TEXT_MAX */
#define VIAS8        VIA VIA VIA VIA VIA VIA VIA VIA
#define VIAS64       VIAS8 VIAS8 VIAS8 VIAS8 VIAS8 VIAS8 VIAS8 VIAS8 /* GK_SIP_VIA_MAX */
#define GKAX(params) "Authorization: GK1 username=\"alice\", realm=\"ss1\"" params "\r\n"
#define SUCC(info)   RSP RHEAD "Authentication-Info: " info "\r\n" END

static const struct bad {
	const char *name;
	const char *s;
	size_t len; /* 0: strlen */
	enum gk_reason why;
} bad[] = {
    {"empty datagram", "", 0, GK_R_PARSE_TRUNCATED},
    {"keep-alive CRLFs only", "\r\n\r\n", 0, GK_R_PARSE_TRUNCATED},
    {"start line only", "REGISTER sip:ss1 SIP/2.0", 0, GK_R_PARSE_TRUNCATED},
    {"no blank line", REQ HEAD GKA "Content-Length: 0\r\n", 0, GK_R_PARSE_TRUNCATED},
    {"lone CR at the end", REQ HEAD GKA "Content-Length: 0\r\n\r", 0, GK_R_PARSE_TRUNCATED},
    {"not SIP", "HELLO\r\n\r\n", 0, GK_R_PARSE_SYNTAX},
    {"HTTP", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0, GK_R_PARSE_SYNTAX},
    {"SIP/3.0", "REGISTER sip:ss1 SIP/3.0\r\n" HEAD GKA END, 0, GK_R_BAD_VERSION},
    {"SIP/x", "REGISTER sip:ss1 SIP/x\r\n" HEAD GKA END, 0, GK_R_PARSE_SYNTAX},
    {"two spaces in request line", "REGISTER  sip:ss1 SIP/2.0\r\n" HEAD GKA END, 0,
     GK_R_PARSE_SYNTAX},
    {"request URI without scheme", "REGISTER ss1 SIP/2.0\r\n" HEAD GKA END, 0, GK_R_PARSE_SYNTAX},
    {"status code not numeric", "SIP/2.0 2x0 OK\r\n" RHEAD END, 0, GK_R_PARSE_SYNTAX},
    {"status code 099", "SIP/2.0 099 Odd\r\n" RHEAD END, 0, GK_R_PARSE_BAD_VALUE},
    {"status code 700", "SIP/2.0 700 Odd\r\n" RHEAD END, 0, GK_R_PARSE_BAD_VALUE},
    {"redirect", "SIP/2.0 302 Moved\r\n" RHEAD END, 0, GK_R_PARSE_UNSUPPORTED},
    {"missing Via", REQ FROM TO CID CSEQ GKA END, 0, GK_R_PARSE_MISSING},
    {"an empty Via is none", REQ "Via:\r\n" FROM TO CID CSEQ GKA END, 0, GK_R_PARSE_MISSING},
    {"escaped control character in a Digest value",
     REQ HEAD "Authorization: Digest username=\"a\\\x18\", realm=\"ss1\", nonce=\"n\", "
              "uri=\"sip:ss1\", response=\"8c5e0c2a4b1d6e9f7a3c5b2d8e1f4a6c\"\r\n" END,
     0, GK_R_PARSE_BAD_VALUE},
    {"escaped control character in a Call-ID",
     REQ VIA FROM TO "Call-ID: a\\\x07"
                     "b\r\n" CSEQ GKA END,
     0, GK_R_PARSE_SYNTAX},
    {"escaped control character in a Via",
     REQ "Via: SIP/2.0/UDP h;x=\"\\\x01\";branch=z9hG4bK1\r\n" FROM TO CID CSEQ GKA END, 0,
     GK_R_PARSE_SYNTAX},
    {"missing From", REQ VIA TO CID CSEQ GKA END, 0, GK_R_PARSE_MISSING},
    {"missing To", REQ VIA FROM CID CSEQ GKA END, 0, GK_R_PARSE_MISSING},
    {"missing Call-ID", REQ VIA FROM TO CSEQ GKA END, 0, GK_R_PARSE_MISSING},
    {"missing CSeq", REQ VIA FROM TO CID GKA END, 0, GK_R_PARSE_MISSING},
    {"CSeq method mismatch", REQ VIA FROM TO CID "CSeq: 1 INVITE\r\n" GKA END, 0,
     GK_R_PARSE_BAD_VALUE},
    {"CSeq method in lower case", REQ VIA FROM TO CID "CSeq: 1 register\r\n" GKA END, 0,
     GK_R_PARSE_BAD_VALUE},
    {"CSeq not numeric", REQ VIA FROM TO CID "CSeq: one REGISTER\r\n" GKA END, 0,
     GK_R_PARSE_BAD_VALUE},
    {"CSeq above 2^32", REQ VIA FROM TO CID "CSeq: 4294967296 REGISTER\r\n" GKA END, 0,
     GK_R_PARSE_BAD_VALUE},
    {"CSeq without method", REQ VIA FROM TO CID "CSeq: 1\r\n" GKA END, 0, GK_R_PARSE_SYNTAX},
    {"duplicate From", REQ HEAD FROM GKA END, 0, GK_R_PARSE_DUPLICATE},
    {"duplicate Call-ID in compact form", REQ HEAD "i: other@x\r\n" GKA END, 0,
     GK_R_PARSE_DUPLICATE},
    {"duplicate CSeq", REQ HEAD CSEQ GKA END, 0, GK_R_PARSE_DUPLICATE},
    {"duplicate Content-Length", REQ HEAD GKA "l: 0\r\n" END, 0, GK_R_PARSE_DUPLICATE},
    {"header without colon", REQ HEAD "Expires 60\r\n" GKA END, 0, GK_R_PARSE_SYNTAX},
    {"empty header name", REQ HEAD ": x\r\n" GKA END, 0, GK_R_PARSE_SYNTAX},
    {"embedded NUL", REQ VIA FROM "To: <sip:alice@ss1>\0junk\r\n" CID CSEQ GKA END,
     sizeof(REQ VIA FROM "To: <sip:alice@ss1>\0junk\r\n" CID CSEQ GKA END) - 1, GK_R_PARSE_SYNTAX},
    {"NUL in the start line", "REGISTER sip:ss1\0 SIP/2.0\r\n" HEAD GKA END,
     sizeof("REGISTER sip:ss1\0 SIP/2.0\r\n" HEAD GKA END) - 1, GK_R_PARSE_SYNTAX},
    {"bare CR", REQ HEAD "Subject: a\rb\r\n" GKA END, 0, GK_R_PARSE_SYNTAX},
    {"control character", REQ HEAD "Subject: a\x01z\r\n" GKA END, 0, GK_R_PARSE_SYNTAX},
    {"DEL character", REQ HEAD "Subject: a\x7fz\r\n" GKA END, 0, GK_R_PARSE_SYNTAX},
    {"folded start line", REQ " continued\r\n" HEAD GKA END, 0, GK_R_PARSE_SYNTAX},
    {"Content-Length beyond the datagram", REQ HEAD GKA "Content-Length: 10\r\n\r\nshort", 0,
     GK_R_PARSE_TRUNCATED},
    {"Content-Length huge", REQ HEAD GKA "Content-Length: 99999999999999999999999\r\n\r\n", 0,
     GK_R_PARSE_TRUNCATED},
    {"Content-Length not numeric", REQ HEAD GKA "Content-Length: -1\r\n\r\n", 0,
     GK_R_PARSE_BAD_VALUE},
    {"Max-Forwards not numeric", REQ HEAD GKA "Max-Forwards: many\r\n" END, 0,
     GK_R_PARSE_BAD_VALUE},
    {"n1 too short", REQ HEAD GKAX(", n1=\"6b1f0c3e9a2d4c57b0e8f1a2c3d4e5\"") END, 0,
     GK_R_PARSE_BAD_VALUE},
    {"n1 too long", REQ HEAD GKAX(", n1=\"" N1_HEX "00\"") END, 0, GK_R_PARSE_BAD_VALUE},
    {"n1 far too long", REQ HEAD GKAX(", n1=\"" X300 X300 "\"") END, 0, GK_R_PARSE_BAD_VALUE},
    {"n1 not hex", REQ HEAD GKAX(", n1=\"6b1f0c3e9a2d4c57b0e8f1a2c3d4e5fg\"") END, 0,
     GK_R_PARSE_BAD_VALUE},
    {"n1 with a blank", REQ HEAD GKAX(", n1=\"6b1f0c3e9a2d4c57b0e8f1a2c3d4e5 f\"") END, 0,
     GK_R_PARSE_BAD_VALUE},
    {"n2 odd length", REQ HEAD GKAX(", n2=\"0f9e8d7c6b5a49382716a5b4c3d2e1f\"") END, 0,
     GK_R_PARSE_BAD_VALUE},
    {"nonce 15 bytes", REQ HEAD GKAX(", nonce=\"c4a1f2e3d4b5c6a7e8f9a0b1c2d3e4\"") END, 0,
     GK_R_PARSE_BAD_VALUE},
    {"response 31 bytes",
     REQ HEAD GKAX(", response=\"7d1e3a9c0b6f5e2d8c4a1b7e9f3d6c2a"
                   "5b8e0f1d4c7a9b2e6f3d0c8a1b5e7f\"") END,
     0, GK_R_PARSE_BAD_VALUE},
    {"rspauth 31 bytes",
     SUCC("n1=\"" N1_HEX "\", rspauth=\"3e5d7c9b1a2f4e6d8c0b9a7f5e3d1c2b"
          "4a6f8e0d9c7b5a3f1e2d4c6b8a0f9e\""),
     0, GK_R_PARSE_BAD_VALUE},
    {"key 60 bytes",
     SUCC("key=\"019c3f1a7e2b5d8c0f4e6a1b3d5e7f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0"
          "d1e2f3a4b5c6d7e8f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c\", rspauth=\"" MAC_HEX "\""),
     0, GK_R_PARSE_BAD_VALUE},
    {"username of 64 bytes",
     REQ HEAD "Authorization: GK1 username=\"" A64 "\", realm=\"ss1\"\r\n" END, 0,
     GK_R_PARSE_TOO_LONG},
    {"username with a blank",
     REQ HEAD "Authorization: GK1 username=\"al ice\", realm=\"ss1\"\r\n" END, 0,
     GK_R_PARSE_BAD_VALUE},
    {"username with a quote",
     REQ HEAD "Authorization: GK1 username=\"al\\\"ice\", realm=\"ss1\"\r\n" END, 0,
     GK_R_PARSE_BAD_VALUE},
    {"username with a tab",
     REQ HEAD "Authorization: GK1 username=\"al\\\tice\", realm=\"ss1\"\r\n" END, 0,
     GK_R_PARSE_BAD_VALUE},
    {"empty realm", REQ HEAD "Authorization: GK1 username=\"alice\", realm=\"\"\r\n" END, 0,
     GK_R_PARSE_BAD_VALUE},
    {"realm too long", REQ HEAD "Authorization: GK1 username=\"alice\", realm=\"" A64 "\"\r\n" END,
     0, GK_R_PARSE_TOO_LONG},
    {"To user too long", REQ VIA FROM "To: <sip:" A64 "@ss1>\r\n" CID CSEQ END, 0,
     GK_R_PARSE_TOO_LONG},
    {"duplicate n1", REQ HEAD GKAX(", n1=\"" N1_HEX "\", N1=\"" N1_HEX "\"") END, 0,
     GK_R_PARSE_DUPLICATE},
    {"duplicate username", REQ HEAD GKAX(", username=\"alice\"") END, 0, GK_R_PARSE_DUPLICATE},
    {"two GK1 credentials", REQ HEAD GKA GKA END, 0, GK_R_PARSE_DUPLICATE},
    {"two Authentication-Info", SUCC("n1=\"" N1_HEX "\"\r\nAuthentication-Info: ts=1"), 0,
     GK_R_PARSE_DUPLICATE},
    {"ts not numeric", REQ HEAD GKAX(", ts=\"17327952OO\"") END, 0, GK_R_PARSE_BAD_VALUE},
    {"ts negative", REQ HEAD GKAX(", ts=\"-1\"") END, 0, GK_R_PARSE_BAD_VALUE},
    {"ts empty", REQ HEAD GKAX(", ts=\"\"") END, 0, GK_R_PARSE_BAD_VALUE},
    {"ts beyond 64 bits", REQ HEAD GKAX(", ts=\"18446744073709551616\"") END, 0,
     GK_R_PARSE_BAD_VALUE},
    {"index not numeric", SUCC("n1=\"" N1_HEX "\", index=\"x\""), 0, GK_R_PARSE_BAD_VALUE},
    {"element-key 62 bytes", SUCC("element-key=\"" BLOB_HEX "00\""), 0, GK_R_PARSE_BAD_VALUE},
    {"address with a blank", REQ HEAD GKAX(", address=\"198.18.1.2 5060\"") END, 0,
     GK_R_PARSE_BAD_VALUE},
    {"address too long", REQ HEAD GKAX(", address=\"" A64 "\"") END, 0, GK_R_PARSE_TOO_LONG},
    {"address twice", REQ HEAD GKAX(", address=\"a:1\", address=\"a:1\"") END, 0,
     GK_R_PARSE_DUPLICATE},
    {"Expires not numeric", REQ HEAD GKA "Expires: soon\r\n" END, 0, GK_R_PARSE_BAD_VALUE},
    {"Expires as a date", REQ HEAD GKA "Expires: Thu, 01 Dec 1994 16:00:00 GMT\r\n" END, 0,
     GK_R_PARSE_BAD_VALUE},
    {"duplicate Expires", REQ HEAD GKA "Expires: 60\r\nExpires: 60\r\n" END, 0,
     GK_R_PARSE_DUPLICATE},
    {"Contact expires not numeric",
     REQ VIA FROM TO CID CSEQ GKA "Contact: <sip:a@h>;expires=x\r\n" END, 0, GK_R_PARSE_BAD_VALUE},
    {"Contact expires twice",
     REQ VIA FROM TO CID CSEQ GKA "Contact: <sip:a@h>;expires=1;expires=2\r\n" END, 0,
     GK_R_PARSE_DUPLICATE},
    {"Contact * with Expires 60", REQ VIA FROM TO CID CSEQ GKA "Contact: *\r\nExpires: 60\r\n" END,
     0, GK_R_PARSE_BAD_VALUE},
    {"Contact * in a list", REQ VIA FROM TO CID CSEQ GKA "Contact: *, <sip:a@h>\r\n" END, 0,
     GK_R_PARSE_SYNTAX},
    {"Contact q above 1", REQ VIA FROM TO CID CSEQ GKA "Contact: <sip:a@h>;q=2\r\n" END, 0,
     GK_R_PARSE_BAD_VALUE},
    {"q above 1", REQ HEAD GKA "Security-Client: gk-mac;q=1.5\r\n" END, 0, GK_R_PARSE_BAD_VALUE},
    {"q 1.001", REQ HEAD GKA "Security-Client: gk-mac;q=1.001\r\n" END, 0, GK_R_PARSE_BAD_VALUE},
    {"q four decimals", REQ HEAD GKA "Security-Client: gk-mac;q=0.1234\r\n" END, 0,
     GK_R_PARSE_BAD_VALUE},
    {"q negative", REQ HEAD GKA "Security-Client: gk-mac;q=-0.5\r\n" END, 0, GK_R_PARSE_BAD_VALUE},
    {"q without leading digit", REQ HEAD GKA "Security-Client: gk-mac;q=.5\r\n" END, 0,
     GK_R_PARSE_BAD_VALUE},
    {"q twice", REQ HEAD GKA "Security-Client: gk-mac;q=0.5;q=0.6\r\n" END, 0,
     GK_R_PARSE_DUPLICATE},
    {"q in echoed list above 1", SUCC("mechanisms=\"tls;q=7\", rspauth=\"" MAC_HEX "\""), 0,
     GK_R_PARSE_BAD_VALUE},
    {"nine mechanisms",
     REQ HEAD GKA "Security-Client: tls, tls, tls, tls, tls, tls, tls, tls, "
                  "tls\r\n" END,
     0, GK_R_PARSE_TOO_LONG},
    {"seventeen unknown mechanisms",
     REQ HEAD GKA "Security-Client: a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q\r\n" END, 0,
     GK_R_PARSE_TOO_LONG},
    {"mechanism list with junk", REQ HEAD GKA "Security-Client: gk-mac junk\r\n" END, 0,
     GK_R_PARSE_SYNTAX},
    {"two chosen mechanisms",
     SUCC("n1=\"" N1_HEX "\", rspauth=\"" MAC_HEX "\"\r\n"
          "Security-Server: tls;q=0.5, gk-mac;q=0.9"),
     0, GK_R_PARSE_DUPLICATE},
    {"65 Vias", REQ VIAS64 VIA FROM TO CID CSEQ GKA END, 0, GK_R_PARSE_TOO_LONG},
    {"Via without sent-by", REQ "Via: SIP/2.0/UDP\r\n" FROM TO CID CSEQ GKA END, 0,
     GK_R_PARSE_SYNTAX},
    {"Via without transport", REQ "Via: SIP/2.0 host\r\n" FROM TO CID CSEQ GKA END, 0,
     GK_R_PARSE_SYNTAX},
    {"Via too long", REQ "Via: SIP/2.0/UDP " X9000 "\r\n" FROM TO CID CSEQ GKA END, 0,
     GK_R_PARSE_TOO_LONG},
    {"Call-ID too long", REQ VIA FROM TO "Call-ID: " X9000 "\r\n" CSEQ GKA END, 0,
     GK_R_PARSE_TOO_LONG},
    {"Call-ID with a blank", REQ VIA FROM TO "Call-ID: a b\r\n" CSEQ GKA END, 0, GK_R_PARSE_SYNTAX},
    {"empty Call-ID", REQ VIA FROM TO "Call-ID:\r\n" CSEQ GKA END, 0, GK_R_PARSE_SYNTAX},
    {"From too long", REQ VIA "From: <sip:" X9000 "@ss1>\r\n" TO CID CSEQ GKA END, 0,
     GK_R_PARSE_TOO_LONG},
    {"method too long",
     "REGISTERREGISTERREGISTERREGISTERREGISTERREGISTERREGISTERREGISTERX sip:ss1 SIP/2.0\r\n" HEAD
         END,
     0, GK_R_PARSE_TOO_LONG},
    {"request URI too long", "OPTIONS sip:" X9000 " SIP/2.0\r\n" HEAD END, 0, GK_R_PARSE_TOO_LONG},
    {"To tag too long", RSP VIA FROM "To: <sip:alice@ss1>;tag=" A64 "\r\n" CID CSEQ END, 0,
     GK_R_PARSE_TOO_LONG},
    {"two To tags", RSP VIA FROM "To: <sip:alice@ss1>;tag=a;tag=b\r\n" CID CSEQ END, 0,
     GK_R_PARSE_DUPLICATE},
    {"To without closing bracket", REQ VIA FROM "To: <sip:alice@ss1\r\n" CID CSEQ GKA END, 0,
     GK_R_PARSE_SYNTAX},
    {"To without URI scheme", REQ VIA FROM "To: <alice>\r\n" CID CSEQ GKA END, 0,
     GK_R_PARSE_SYNTAX},
    {"To with junk after the URI", REQ VIA FROM "To: <sip:alice@ss1> junk\r\n" CID CSEQ GKA END, 0,
     GK_R_PARSE_SYNTAX},
    {"unterminated quote", REQ HEAD "Authorization: GK1 realm=\"ss1\", username=\"alice\r\n" END, 0,
     GK_R_PARSE_SYNTAX},
    {"quote closing in the wrong place",
     REQ HEAD "Authorization: GK1 username=\"alice, realm=\"ss1\"\r\n" END, 0,
     GK_R_PARSE_BAD_VALUE},
    {"missing comma between params",
     REQ HEAD "Authorization: GK1 username=\"alice\" realm=\"ss1\"\r\n" END, 0, GK_R_PARSE_SYNTAX},
    {"param before the scheme", REQ HEAD "Authorization: username=\"alice\"\r\n" END, 0,
     GK_R_PARSE_SYNTAX},
    {"GK1 without realm", REQ HEAD "Authorization: GK1 username=\"alice\"\r\n" END, 0,
     GK_R_PARSE_MISSING},
    {"GK1 without username", REQ HEAD "Authorization: GK1 realm=\"ss1\"\r\n" END, 0,
     GK_R_PARSE_MISSING},
    {"username is not the To user", REQ VIA FROM "To: <sip:bob@ss1>\r\n" CID CSEQ GKA END, 0,
     GK_R_PARSE_BAD_VALUE},
    {"GK1 with another algorithm", REQ HEAD GKAX(", algorithm=MD5") END, 0, GK_R_PARSE_UNSUPPORTED},
    {"challenge asking something else",
     "SIP/2.0 401 Unauthorized\r\n" RHEAD
     "WWW-Authenticate: GK1 realm=\"ss1\", mechanisms=\"maybe\"\r\n" END,
     0, GK_R_PARSE_BAD_VALUE},
    {"challenge without realm",
     "SIP/2.0 401 Unauthorized\r\n" RHEAD "WWW-Authenticate: GK1 nonce=\"" RAND_HEX "\"\r\n" END, 0,
     GK_R_PARSE_MISSING},
    {"REGISTER for nobody", REQ VIA FROM "To: <sip:ss1>\r\n" CID CSEQ END, 0, GK_R_PARSE_MISSING},
    /* found by fuzz_sip: joined with the next Contact field it made an empty list element */
    {"Contact with a trailing comma",
     REQ VIA FROM TO CID CSEQ GKA
     "Contact: sip:1001@198.18.1.10:5061,\r\nContact: <sip:alice@198.18.1.2:5060>\r\n" END,
     0, GK_R_PARSE_SYNTAX},
    {"Contact with an empty element",
     REQ VIA FROM TO CID CSEQ GKA "Contact: <sip:a@h1>, , <sip:a@h2>\r\n" END, 0,
     GK_R_PARSE_SYNTAX},
};

TEST(malformed_corpus)
{
	EXPECT_LE(30, sizeof(bad) / sizeof(bad[0]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = bad[i].len ? bad[i].len : strlen(bad[i].s);
		struct gk_msg m;
		enum gk_reason why = GK_R_OK;
		int r = gk_sip_decode((const uint8_t *)bad[i].s, len, &m, &why);
		EXPECT_EQ(-1, r) TH_LOG("%s: accepted", bad[i].name);
		EXPECT_STREQ(gk_reason_name(bad[i].why), gk_reason_name(why))
		TH_LOG("%s", bad[i].name);
	}
}

/* The datagram is read from a buffer of exactly len bytes (ASan sees any overread). */
static int decode_exact(const char *s, size_t len, struct gk_msg *m, enum gk_reason *why)
{
	uint8_t *p = malloc(len ? len : 1);
	int r;

	memcpy(p, s, len);
	r = gk_sip_decode(p, len, m, why);
	free(p);
	return r;
}

TEST(every_prefix_is_refused)
{
	struct gk_msg msgs[] = {msg_register(), msg_challenge(), msg_answer(),
	                        msg_success(),  msg_reject(),    msg_deregister(),
	                        msg_dereg_ok(), msg_other(),     msg_other_ok()};
	char w[4096];

	for (size_t k = 0; k < sizeof(msgs) / sizeof(msgs[0]); k++) {
		int n = gk_sip_encode(&msgs[k], (uint8_t *)w, sizeof(w));
		ASSERT_LT(0, n);
		for (int cut = 0; cut < n; cut++) {
			struct gk_msg m;
			enum gk_reason why = GK_R_OK;
			/* Every prefix lacks the blank line that ends the head. */
			EXPECT_EQ(-1, decode_exact(w, (size_t)cut, &m, &why))
			TH_LOG("type %zu cut at %d", k, cut);
			EXPECT_NE(GK_R_OK, why);
		}
	}
}

TEST(mutations_do_not_crash)
{
	static const unsigned char vals[] = {0,   '\r', '\n', ' ', '\t', '"', '\\', ',',  ';', '=',
	                                     ':', '<',  '>',  '@', '0',  'f', 'z',  0x80, 0xff};
	struct gk_msg msgs[] = {msg_register(), msg_challenge(),  msg_answer(),
	                        msg_success(),  msg_deregister(), msg_other_ok()};
	char w[4096], w2[4096];
	unsigned accepted = 0, refused = 0;

	for (size_t k = 0; k < sizeof(msgs) / sizeof(msgs[0]); k++) {
		int n = gk_sip_encode(&msgs[k], (uint8_t *)w, sizeof(w));
		ASSERT_LT(0, n);
		for (int i = 0; i < n; i++) {
			for (size_t v = 0; v < sizeof(vals); v++) {
				struct gk_msg m, m2;
				enum gk_reason why;
				char saved = w[i];
				w[i] = (char)vals[v];
				if (decode_exact(w, (size_t)n, &m, &why) == 0) {
					/* whatever is accepted re-encodes and reads back */
					int n2 = gk_sip_encode(&m, (uint8_t *)w2, sizeof(w2));
					ASSERT_LT(0, n2) TH_LOG("type %zu byte %d", k, i);
					ASSERT_EQ(
					    0, gk_sip_decode((uint8_t *)w2, (size_t)n2, &m2, &why));
					EXPECT_EQ(m.type, m2.type);
					EXPECT_EQ(m.fields, m2.fields);
					accepted++;
				} else {
					refused++;
				}
				w[i] = saved;
			}
		}
	}
	TH_LOG("mutants: %u accepted, %u refused", accepted, refused);
	EXPECT_LT(0, refused);
}

/* Inputs fuzz_sip found, reduced: whatever decodes re-encodes to the same message. */
TEST(fuzz_found_cases)
{
	static const char *const cases[] = {
	    /* gk1 credentials naming only the IDs, in a request whose R-URI is not SIP: the
	     * encoder dropped them and IDsp then read back from the R-URI (empty). */
	    "REdigest skp:ss1 SIP/2.0\r\n" VIA FROM TO CID "CSeq: 2 REdigest\r\n"
	    "Authorization: GK1 username=\"alice\", realm=\"ss1\", necurity-Client: gk\r\n" END,
	    "ERGISTER si:pss1 SIP/2.0\r\n" VIA "From: <sip:carol@ss1>;tag=1\r\n"
	    "To: <sip:carol@ss1>\r\n" CID "CSeq: 2 ERGISTER\r\n"
	    "Authorization: GK1 username=\"carol\", realm=\"ss1\", no,ce=\"c3\"\r\n" END,
	    "MESSAGE tel:+15551234 SIP/2.0\r\n" VIA FROM TO CID "CSeq: 1 MESSAGE\r\n"
	    "Authorization: GK1 username=\"alice\", realm=\"elsewhere\"\r\n" END,
	    /* a 200 whose contact list only just fits: ";expires=" on each entry overflowed
	     * the receiver's Contact buffer */
	    RSP RHEAD "Authentication-Info: index=\"7\", rspauth=\"" MAC_HEX "\"\r\n"
	              "Contact: <sip:alice@h01.example>, <sip:alice@h02.example>, "
	              "<sip:alice@h03.example>, <sip:alice@h04.example>, <sip:alice@h05.example>, "
	              "<sip:alice@h06.example>, <sip:alice@h07.example>, <sip:alice@h08.example>, "
	              "<sip:alice@h09.example>, <sip:alice@h10.example>\r\nExpires: 0\r\n" END,
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gk_msg a, b;
		enum gk_reason why;
		char w[4096], w2[4096];

		ASSERT_EQ(0, decode_str(cases[i], &a, &why))
		TH_LOG("%zu: %s", i, gk_reason_name(why));
		int n = gk_sip_encode(&a, (uint8_t *)w, sizeof(w));
		ASSERT_LT(0, n) TH_LOG("%zu", i);
		ASSERT_EQ(0, gk_sip_decode((uint8_t *)w, (size_t)n, &b, &why)) TH_LOG("%zu", i);
		/* as in fuzz_sip: the Contact list is normalised, not kept verbatim */
		struct gk_msg a2 = a, b2 = b;
		a2.wire.sip.str[GK_SIP_CONTACT] = b2.wire.sip.str[GK_SIP_CONTACT] = 0;
		EXPECT_STREQ("", msg_diff(&a2, &b2)) TH_LOG("%zu", i);
		EXPECT_STREQ(a.idsp, b.idsp);
		EXPECT_EQ(n, gk_sip_encode(&b, (uint8_t *)w2, sizeof(w2)));
		EXPECT_EQ(0, memcmp(w, w2, (size_t)n));
	}
}

/* ---------------------------------------------------------------------------------------------- */

TEST(encode_refuses_what_cannot_read_back)
{
	uint8_t w[4096];
	struct gk_msg m;

	m = msg_register();
	m.expires = 0; /* would read back as a DEREGISTER */
	EXPECT_EQ(-EINVAL, gk_sip_encode(&m, w, sizeof(w)));
	m = msg_register();
	m.fields |= GK_F_AUTH; /* would read back as an ANSWER */
	EXPECT_EQ(-EINVAL, gk_sip_encode(&m, w, sizeof(w)));
	m = msg_register();
	gk_sip_setf(&m.wire.sip, GK_SIP_CONTACT, "*");
	EXPECT_EQ(-EINVAL, gk_sip_encode(&m, w, sizeof(w)));
	m = msg_answer();
	m.fields &= ~GK_F_AUTH;
	EXPECT_EQ(-EINVAL, gk_sip_encode(&m, w, sizeof(w)));
	m = msg_answer();
	m.mechs[1].q = 1001;
	EXPECT_EQ(-EINVAL, gk_sip_encode(&m, w, sizeof(w)));
	m = msg_answer();
	m.mechs[0].mech = GK_MECH_NONE;
	EXPECT_EQ(-EINVAL, gk_sip_encode(&m, w, sizeof(w)));
	m = msg_answer();
	m.n_mechs = 0;
	EXPECT_EQ(-EINVAL, gk_sip_encode(&m, w, sizeof(w)));
	m = msg_deregister();
	m.expires = 5;
	EXPECT_EQ(-EINVAL, gk_sip_encode(&m, w, sizeof(w)));
	m = msg_success();
	m.fields &= ~(GK_F_MAC | GK_F_BLOB); /* neither MAC nor key: a DEREG_OK */
	EXPECT_EQ(-EINVAL, gk_sip_encode(&m, w, sizeof(w)));
	m = msg_success();
	m.chosen = 9;
	EXPECT_EQ(-EINVAL, gk_sip_encode(&m, w, sizeof(w)));
	m = msg_dereg_ok();
	m.fields |= GK_F_MAC;
	EXPECT_EQ(-EINVAL, gk_sip_encode(&m, w, sizeof(w)));
	m = msg_dereg_ok();
	m.fields |= GK_F_BLOB; /* a key makes it a SUCCESS */
	EXPECT_EQ(-EINVAL, gk_sip_encode(&m, w, sizeof(w)));
	m = msg_success();
	m.fields = GK_F_MAC; /* a lone rspauth reads back as a Digest one */
	EXPECT_EQ(-EINVAL, gk_sip_encode(&m, w, sizeof(w)));
	m = msg_answer();
	m.fields |= GK_F_ADDR;
	snprintf(m.address, sizeof(m.address), "a b");
	EXPECT_EQ(-EINVAL, gk_sip_encode(&m, w, sizeof(w)));
	m = msg_other();
	snprintf(m.wire.sip.method, sizeof(m.wire.sip.method), "REGISTER");
	EXPECT_EQ(-EINVAL, gk_sip_encode(&m, w, sizeof(w)));
	m = msg_other_ok();
	snprintf(m.wire.sip.method, sizeof(m.wire.sip.method), "REGISTER");
	EXPECT_EQ(-EINVAL, gk_sip_encode(&m, w, sizeof(w)));
	m = msg_register();
	m.wire.sip.n_via = 0;
	EXPECT_EQ(-EINVAL, gk_sip_encode(&m, w, sizeof(w)));
	m = msg_register();
	m.wire.sip.n_via = GK_SIP_VIA_MAX + 1;
	EXPECT_EQ(-EINVAL, gk_sip_encode(&m, w, sizeof(w)));
	m = msg_register();
	gk_sip_setf(&m.wire.sip, GK_SIP_FROM, "<sip:a@b>\r\nX-Injected: 1");
	EXPECT_EQ(-EINVAL, gk_sip_encode(&m, w, sizeof(w)));
	m = msg_register();
	m.wire.sip.n_via = 0;
	gk_sip_add_viaf(&m.wire.sip, "SIP/2.0/UDP a, SIP/2.0/UDP b");
	EXPECT_EQ(-EINVAL, gk_sip_encode(&m, w, sizeof(w)));
	m = msg_register();
	m.wire.sip.str[GK_SIP_CALL_ID] = 0;
	EXPECT_EQ(-EINVAL, gk_sip_encode(&m, w, sizeof(w)));
	m = msg_register();
	snprintf(m.idc, sizeof(m.idc), "al ice");
	EXPECT_EQ(-EINVAL, gk_sip_encode(&m, w, sizeof(w)));
	m = msg_register();
	snprintf(m.idsp, sizeof(m.idsp), "s\"s");
	EXPECT_EQ(-EINVAL, gk_sip_encode(&m, w, sizeof(w)));
	m = msg_register();
	memset(m.idc, 'a', sizeof(m.idc)); /* not terminated */
	EXPECT_EQ(-EINVAL, gk_sip_encode(&m, w, sizeof(w)));
	m = msg_register();
	m.idc[0] = '\0';
	EXPECT_EQ(-EINVAL, gk_sip_encode(&m, w, sizeof(w)));
	m = msg_challenge();
	snprintf(m.wire.sip.to_tag, sizeof(m.wire.sip.to_tag), "a b");
	EXPECT_EQ(-EINVAL, gk_sip_encode(&m, w, sizeof(w)));
	m = msg_register();
	gk_sip_setf(&m.wire.sip, GK_SIP_TO, "<sip:bob@ss1>"); /* not IDc's AOR */
	EXPECT_EQ(-EINVAL, gk_sip_encode(&m, w, sizeof(w)));
	m = msg_register();
	m.type = GK_MSG_NONE;
	EXPECT_EQ(-EINVAL, gk_sip_encode(&m, w, sizeof(w)));
}

TEST(encode_context_defaults_and_tags)
{
	struct gk_msg m = msg_register(), out;
	char w[4096];

	/* Without R-URI and To of its own the request is addressed from the IDs. */
	m.wire.sip.str[GK_SIP_RURI] = 0;
	m.wire.sip.str[GK_SIP_TO] = 0;
	m.wire.sip.method[0] = '\0';
	int n = gk_sip_encode(&m, (uint8_t *)w, sizeof(w) - 1);
	ASSERT_LT(0, n);
	w[n] = 0;
	EXPECT_EQ(0, strncmp(w, "REGISTER sip:ss1 SIP/2.0\r\n", 26));
	EXPECT_NE(NULL, strstr(w, "\r\nTo: <sip:alice@ss1>\r\n"));
	enum gk_reason why;
	ASSERT_EQ(0, gk_sip_decode((uint8_t *)w, (size_t)n, &out, &why));
	EXPECT_STREQ("sip:ss1", gk_sip_get(&out.wire.sip, GK_SIP_RURI));

	/* A To that already has a tag keeps it; to_tag is not added twice. */
	struct gk_msg r = msg_challenge();
	gk_sip_setf(&r.wire.sip, GK_SIP_TO, "<sip:alice@ss1>;tag=old");
	n = gk_sip_encode(&r, (uint8_t *)w, sizeof(w) - 1);
	ASSERT_LT(0, n);
	w[n] = 0;
	EXPECT_NE(NULL, strstr(w, "\r\nTo: <sip:alice@ss1>;tag=old\r\n"));
	EXPECT_EQ(NULL, strstr(w, "gk8c2d41f0"));

	/* The success response restates the lifetime on every contact it lists. */
	struct gk_msg s = msg_success();
	gk_sip_setf(&s.wire.sip, GK_SIP_CONTACT,
	            "<sip:alice@h1>;expires=99;+sip.instance=\"<urn:uuid:1>\", "
	            "sip:alice@h2;Expires=5");
	n = gk_sip_encode(&s, (uint8_t *)w, sizeof(w) - 1);
	ASSERT_LT(0, n);
	w[n] = 0;
	EXPECT_NE(NULL, strstr(w, "\r\nContact: <sip:alice@h1>;+sip.instance=\"<urn:uuid:1>\";"
	                          "expires=1800, sip:alice@h2;expires=1800\r\n"))
	TH_LOG("%s", w);

	/* ... unless that makes the list too long to read back: then Expires alone says it. */
	s = msg_success();
	char list[GK_SIP_TEXT_MAX];
	size_t ln = 0;
	for (int i = 0; ln < sizeof(list) - 700; i++)
		ln += (size_t)snprintf(list + ln, sizeof(list) - ln, "%s<sip:a@h%d>", i ? ", " : "",
		                       i);
	ASSERT_EQ(0, gk_sip_set(&s.wire.sip, GK_SIP_CONTACT, list, ln));
	char big[3 * GK_SIP_TEXT_MAX];
	n = gk_sip_encode(&s, (uint8_t *)big, sizeof(big) - 1);
	ASSERT_LT(0, n);
	big[n] = 0;
	EXPECT_EQ(NULL, strstr(big, "Contact:"));
	ASSERT_EQ(0, gk_sip_decode((uint8_t *)big, (size_t)n, &out, &why));
	EXPECT_EQ(GK_MSG_SUCCESS, out.type);
	EXPECT_EQ(1800, out.expires);
}

/* ---------------------------------------------------------------------------------------------- */

static const char *corpus_dir(char *buf, size_t cap)
{
	const char *src = __FILE__; /* .../tests/unit/test_sip.c */
	const char *tail = strstr(src, "tests/unit/test_sip.c");
	snprintf(buf, cap, "%.*stests/corpus/sip", tail ? (int)(tail - src) : 0, src);
	return buf;
}

TEST(seed_corpus)
{
	char dir[512], path[1024];
	unsigned named = 0, other = 0;
	struct dirent *de;
	DIR *d = opendir(corpus_dir(dir, sizeof(dir)));

	ASSERT_NE(NULL, d) TH_LOG("%s: %s", dir, strerror(errno));
	while ((de = readdir(d))) {
		static uint8_t buf[65536];
		struct gk_msg m;
		enum gk_reason why = GK_R_OK;
		size_t n;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = fopen(path, "rb");
		ASSERT_NE(NULL, f);
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		int r = decode_exact((const char *)buf, n, &m, &why);
		/* <nn>-<what>.<type>.sip: a capture that must decode to <type> and re-encode.
		 * Other files (what a fuzzing run may leave there) only must not crash. */
		size_t l = strlen(de->d_name);
		if (l > 4 && strcmp(de->d_name + l - 4, ".sip") == 0) {
			char type[32] = "";
			const char *dot = memrchr(de->d_name, '.', l - 4);
			if (dot) {
				int tl = (int)(de->d_name + l - 4 - (dot + 1));
				snprintf(type, sizeof(type), "%.*s", tl, dot + 1);
			}
			EXPECT_EQ(0, r) TH_LOG("%s: %s", de->d_name, gk_reason_name(why));
			EXPECT_STREQ(type, gk_msg_type_name((enum gk_msg_type)m.type))
			TH_LOG("%s", de->d_name);
			if (r == 0) {
				char w[4096];
				struct gk_msg m2;
				int n2 = gk_sip_encode(&m, (uint8_t *)w, sizeof(w));
				EXPECT_LT(0, n2) TH_LOG("%s", de->d_name);
				/* gatekey's own captures are exactly what the encoder sends */
				if (strstr(de->d_name, "-gk-")) {
					EXPECT_EQ((int)n, n2) TH_LOG("%s", de->d_name);
					EXPECT_EQ(0, memcmp(buf, w, n)) TH_LOG("%s", de->d_name);
				}
				if (n2 > 0) {
					EXPECT_EQ(
					    0, gk_sip_decode((uint8_t *)w, (size_t)n2, &m2, &why));
					EXPECT_EQ(m.type, m2.type);
					EXPECT_EQ(m.fields, m2.fields);
				}
			}
			named++;
		} else {
			other++;
		}
	}
	closedir(d);
	TH_LOG("%u captures, %u other inputs", named, other);
	EXPECT_LE(9, named);
}

TEST_HARNESS_MAIN
