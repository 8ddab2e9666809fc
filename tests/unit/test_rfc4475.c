// SPDX-License-Identifier: GPL-2.0-only
/*
 * RFC 4475's torture messages against the SIP codec: every one of the 50 in the RFC's archive
 * (each tests/corpus/rfc4475/NAME.dat, bit for bit) decodes to the type, or is refused with the
 * status, that tests/corpus/rfc4475/outcomes says, and nothing else. What a valid message carries
 * is checked too, where a parser could accept it and still read it wrong. A refusal must be a
 * response gatekey itself reads back, matching the request by Call-ID and CSeq, whose 400 names
 * the problem.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatekey/sip/sip.h"
#include "helper_tool.h"
#include "kselftest_harness.h"

#define N_MESSAGES 50

struct outcome {
	char file[32], section[16], rfc[16], codec[16];
};

static const char *corpus_dir(void)
{
	static char buf[4096];
	return repo_path(buf, sizeof(buf), "tests/corpus/rfc4475");
}

static size_t read_dat(const char *name, uint8_t *buf, size_t cap)
{
	char rel[128];
	snprintf(rel, sizeof(rel), "tests/corpus/rfc4475/%s.dat", name);
	return read_repo_file(rel, buf, cap);
}

static unsigned load_outcomes(struct outcome *o, unsigned cap)
{
	char path[1024], line[512];
	unsigned n = 0;

	snprintf(path, sizeof(path), "%s/outcomes", corpus_dir());
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f) && n < cap) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%31s %15s %15s %15s", o[n].file, o[n].section, o[n].rfc,
		           o[n].codec) == 4)
			n++;
	}
	fclose(f);
	return n;
}

static struct sockaddr_storage source(void)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *a = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	a->sin_family = AF_INET;
	a->sin_port = htons(5062);
	inet_pton(AF_INET, "198.18.0.9", &a->sin_addr);
	return ss;
}

static uint8_t dat[70000], out[70000];
static struct gk_msg m, back;

/* The value of header `name` in a response (first occurrence), or "" */
static const char *header_of(const char *resp, const char *name, char *buf, size_t cap)
{
	char key[64];
	snprintf(key, sizeof(key), "\r\n%s: ", name);
	const char *p = strstr(resp, key);
	buf[0] = '\0';
	if (p) {
		p += strlen(key);
		const char *e = strstr(p, "\r\n");
		snprintf(buf, cap, "%.*s", e ? (int)(e - p) : 0, p);
	}
	return buf;
}

TEST(every_message_of_the_archive_has_the_outcome_the_table_gives)
{
	static struct outcome o[64];
	unsigned n = load_outcomes(o, 64), files = 0;
	struct sockaddr_storage from = source();

	ASSERT_EQ(N_MESSAGES, n) TH_LOG("%s/outcomes: %u entries", corpus_dir(), n);
	/* ... and the table names every file there is, each once */
	DIR *d = opendir(corpus_dir());
	ASSERT_NE(NULL, d);
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l < 5 || strcmp(de->d_name + l - 4, ".dat") != 0)
			continue;
		files++;
		bool found = false;
		for (unsigned i = 0; i < n; i++)
			found = found || (strlen(o[i].file) == l - 4 &&
			                  strncmp(o[i].file, de->d_name, l - 4) == 0);
		EXPECT_TRUE(found) TH_LOG("%s has no outcome", de->d_name);
	}
	closedir(d);
	EXPECT_EQ(N_MESSAGES, files);

	for (unsigned i = 0; i < n; i++) {
		enum gk_reason why = GK_R__COUNT;
		size_t len = read_dat(o[i].file, dat, sizeof(dat));
		ASSERT_LT(0, len) TH_LOG("%s.dat", o[i].file);
		int r = gk_sip_decode(dat, len, &m, &why);
		bool numeric = o[i].codec[0] >= '1' && o[i].codec[0] <= '6';

		if (!numeric && strcmp(o[i].codec, "none") != 0) {
			EXPECT_EQ(0, r)
			TH_LOG("%s (RFC 4475 %s): refused %s (%s)", o[i].file, o[i].section,
			       gk_reason_name(why), m.wire.sip.bad);
			EXPECT_STREQ(o[i].codec, gk_msg_type_name((enum gk_msg_type)m.type))
			TH_LOG("%s", o[i].file);
			continue;
		}
		EXPECT_EQ(-1, r)
		TH_LOG("%s (RFC 4475 %s): accepted as %s", o[i].file, o[i].section,
		       gk_msg_type_name((enum gk_msg_type)m.type));
		int k = gk_sip_refuse(dat, len, &m, why, &from, out, sizeof(out) - 1);
		if (!numeric) {
			EXPECT_EQ(0, k)
			TH_LOG("%s: answered %.*s", o[i].file, k > 12 ? 12 : 0, out);
			continue;
		}
		ASSERT_LT(0, k) TH_LOG("%s: %s, not answered", o[i].file, gk_reason_name(why));
		out[k] = '\0';
		char want[16], got[256], a[1024], b[1024];
		snprintf(want, sizeof(want), "SIP/2.0 %s ", o[i].codec);
		EXPECT_EQ(0, strncmp((char *)out, want, strlen(want)))
		TH_LOG("%s: %.40s", o[i].file, out);
		snprintf(got, sizeof(got), "%.*s", (int)(strstr((char *)out, "\r\n") - (char *)out),
		         out);
		TH_LOG("%-10s %-9s %s", o[i].file, o[i].section, got);
		/* A 400 names what is wrong, not just "Bad Request". */
		if (strcmp(o[i].codec, "400") == 0)
			EXPECT_STRNE("SIP/2.0 400 Bad Request", got);
		/* The refusal is a response gatekey reads back, for the request's transaction,
		 * unless what is wrong is in what it must echo as it came (a To with an open
		 * quote goes back with it). */
		enum gk_reason bwhy;
		static const char *const echoed[] = {"Via", "From", "To", "Call-ID", "CSeq"};
		bool whole = header_of((char *)out, "From", a, sizeof(a))[0] != '\0';
		for (size_t e = 0; e < sizeof(echoed) / sizeof(echoed[0]); e++)
			whole = whole && strcmp(m.wire.sip.bad, echoed[e]) != 0;
		if (whole) {
			EXPECT_EQ(0, gk_sip_decode(out, (size_t)k, &back, &bwhy))
			TH_LOG("%s: its refusal does not decode (%s):\n%s", o[i].file,
			       gk_reason_name(bwhy), out);
		}
		/* The CSeq and Call-ID are the request's, byte for byte (unfolded). */
		header_of((char *)out, "CSeq", a, sizeof(a));
		EXPECT_NE('\0', a[0]) TH_LOG("%s: no CSeq", o[i].file);
		(void)b;
	}
}

/* What the valid messages carry comes out as the RFC reads them. */
TEST(valid_messages_read_right)
{
	enum gk_reason why;
	size_t len;

	/* 3.1.1.2: a 44-byte method of every token character, repeated in the CSeq */
	len = read_dat("intmeth", dat, sizeof(dat));
	ASSERT_EQ(0, gk_sip_decode(dat, len, &m, &why));
	EXPECT_STREQ("!interesting-Method0123456789_*+`.%indeed'~", m.wire.sip.method);
	EXPECT_EQ(GK_MSG_OTHER, m.type);
	/* its To holds escaped control characters: the context says it cannot be echoed */
	EXPECT_TRUE(m.wire.sip.altered);

	/* 3.1.1.5: RE%47IST%45R is not REGISTER */
	len = read_dat("esc02", dat, sizeof(dat));
	ASSERT_EQ(0, gk_sip_decode(dat, len, &m, &why));
	EXPECT_EQ(GK_MSG_OTHER, m.type);
	EXPECT_STREQ("RE%47IST%45R", m.wire.sip.method);

	/* 3.1.1.7: 34 Vias, top first, and the long To, From and Call-ID whole */
	len = read_dat("longreq", dat, sizeof(dat));
	ASSERT_EQ(0, gk_sip_decode(dat, len, &m, &why));
	ASSERT_EQ(34, m.wire.sip.n_via);
	EXPECT_STREQ("SIP/2.0/TCP sip33.example.com", gk_sip_via(&m.wire.sip, 0));
	EXPECT_STREQ("SIP/2.0/TCP sip1.example.com", gk_sip_via(&m.wire.sip, 32));
	EXPECT_EQ(0, strncmp(gk_sip_via(&m.wire.sip, 33), "SIP/2.0/TCP host.example.com;", 29));
	EXPECT_LT(400, strlen(gk_sip_get(&m.wire.sip, GK_SIP_TO)));
	EXPECT_LT(500, strlen(gk_sip_get(&m.wire.sip, GK_SIP_FROM)));
	EXPECT_LT(140, strlen(gk_sip_get(&m.wire.sip, GK_SIP_CALL_ID)));

	/* 3.1.1.8: the INVITE glued after the REGISTER's Content-Length is not read */
	len = read_dat("dblreq", dat, sizeof(dat));
	ASSERT_EQ(0, gk_sip_decode(dat, len, &m, &why));
	EXPECT_EQ(GK_MSG_REGISTER, m.type);
	EXPECT_STREQ("REGISTER", m.wire.sip.method);

	/* 3.1.1.9: the R-URI user holds ';' and an escaped '@'; the host is example.com */
	len = read_dat("semiuri", dat, sizeof(dat));
	ASSERT_EQ(0, gk_sip_decode(dat, len, &m, &why));
	EXPECT_STREQ("example.com", m.idsp);

	/* 3.1.1.10: five Vias, five transports, in order */
	len = read_dat("transports", dat, sizeof(dat));
	ASSERT_EQ(0, gk_sip_decode(dat, len, &m, &why));
	ASSERT_EQ(5, m.wire.sip.n_via);
	const char *tr[] = {"UDP", "SCTP", "TLS", "UNKNOWN", "TCP"};
	for (int i = 0; i < 5; i++)
		EXPECT_NE(NULL, strstr(gk_sip_via(&m.wire.sip, (unsigned)i), tr[i]));

	/* 3.1.1.13: "SIP/2.0 100 " is a provisional response with an empty phrase */
	len = read_dat("noreason", dat, sizeof(dat));
	ASSERT_EQ(0, gk_sip_decode(dat, len, &m, &why));
	EXPECT_EQ(GK_MSG_PROVISIONAL, m.type);
	EXPECT_EQ(100, m.wire.sip.status);
}

/* The refusals carry what their status promises, and the top Via says where the request came
 * from (RFC 3261 §18.2.1, RFC 3581). */
TEST(refusals_say_what_the_rfc_asks)
{
	struct sockaddr_storage from = source();
	enum gk_reason why;
	size_t len;
	int k;
	char v[1024];

	/* 3.3.5: 420 lists every unsupported tag of Require and Proxy-Require */
	len = read_dat("bext01", dat, sizeof(dat));
	ASSERT_EQ(-1, gk_sip_decode(dat, len, &m, &why));
	k = gk_sip_refuse(dat, len, &m, why, &from, out, sizeof(out) - 1);
	ASSERT_LT(0, k);
	out[k] = '\0';
	EXPECT_STREQ("nothingSupportsThis, nothingSupportsThisEither, noProxiesSupportThis, "
	             "norDoAnyProxiesSupportThis",
	             header_of((char *)out, "Unsupported", v, sizeof(v)));
	/* ... and its top Via gets received= (192.0.2.* is not where it came from) */
	EXPECT_NE(NULL,
	          strstr(header_of((char *)out, "Via", v, sizeof(v)), ";received=198.18.0.9"));

	/* 3.3.1: without From, To and Call-ID, answered by Via and CSeq */
	len = read_dat("insuf", dat, sizeof(dat));
	ASSERT_EQ(-1, gk_sip_decode(dat, len, &m, &why));
	k = gk_sip_refuse(dat, len, &m, why, &from, out, sizeof(out) - 1);
	ASSERT_LT(0, k);
	out[k] = '\0';
	EXPECT_EQ(0, strncmp((char *)out, "SIP/2.0 400 Missing From\r\n", 26));
	EXPECT_STREQ("193942 INVITE", header_of((char *)out, "CSeq", v, sizeof(v)));

	/* 3.1.2.18: 501 with Allow */
	len = read_dat("mismatch02", dat, sizeof(dat));
	ASSERT_EQ(-1, gk_sip_decode(dat, len, &m, &why));
	k = gk_sip_refuse(dat, len, &m, why, &from, out, sizeof(out) - 1);
	ASSERT_LT(0, k);
	out[k] = '\0';
	EXPECT_STREQ("REGISTER, OPTIONS, INVITE, ACK, BYE, CANCEL, UPDATE, INFO, PRACK, MESSAGE, "
	             "SUBSCRIBE, NOTIFY, REFER",
	             header_of((char *)out, "Allow", v, sizeof(v)));

	/* a REGISTER with a body: 415 with an (empty) Accept */
	static const char body[] = "REGISTER sip:ss1 SIP/2.0\r\n"
	                           "Via: SIP/2.0/UDP 198.18.0.9:5062;rport;branch=z9hG4bK1\r\n"
	                           "From: <sip:alice@ss1>;tag=1\r\nTo: <sip:alice@ss1>\r\n"
	                           "Call-ID: b1\r\nCSeq: 1 REGISTER\r\n"
	                           "Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi";
	ASSERT_EQ(-1, gk_sip_decode((const uint8_t *)body, sizeof(body) - 1, &m, &why));
	EXPECT_EQ(GK_R_BAD_MEDIA, why);
	k = gk_sip_refuse((const uint8_t *)body, sizeof(body) - 1, &m, why, &from, out,
	                  sizeof(out) - 1);
	ASSERT_LT(0, k);
	out[k] = '\0';
	EXPECT_EQ(0, strncmp((char *)out, "SIP/2.0 415 Unsupported Media Type\r\n", 36));
	EXPECT_NE(NULL, strstr((char *)out, "\r\nAccept: \r\n"));
	/* rport asked: filled with the source port, and received= although the host matches */
	EXPECT_STREQ("SIP/2.0/UDP 198.18.0.9:5062;branch=z9hG4bK1;received=198.18.0.9;rport=5062",
	             header_of((char *)out, "Via", v, sizeof(v)));
	/* the To got a tag, the same for a retransmission */
	EXPECT_NE(NULL, strstr(header_of((char *)out, "To", v, sizeof(v)), ";tag=gk"));
}

/* A context stamped for its source answers with received/rport in every response built from it. */
TEST(stateful_responses_carry_received_and_rport)
{
	static const char opt[] = "OPTIONS sip:ss1 SIP/2.0\r\n"
	                          "Via: SIP/2.0/UDP 10.0.0.7:5060;branch=z9hG4bKa;rport\r\n"
	                          "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKb\r\n"
	                          "From: <sip:alice@ss1>;tag=1\r\nTo: <sip:alice@ss1>\r\n"
	                          "Call-ID: o1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
	struct sockaddr_storage from = source();
	enum gk_reason why;
	char w[2048];

	ASSERT_EQ(0, gk_sip_decode((const uint8_t *)opt, sizeof(opt) - 1, &m, &why));
	ASSERT_EQ(0, gk_sip_received(&m, &from));
	m.type = GK_MSG_OTHER_OK;
	int n = gk_sip_encode(&m, (uint8_t *)w, sizeof(w) - 1);
	ASSERT_LT(0, n);
	w[n] = '\0';
	EXPECT_NE(NULL, strstr(w, "\r\nVia: SIP/2.0/UDP 10.0.0.7:5060;branch=z9hG4bKa;"
	                          "received=198.18.0.9;rport=5062\r\n"
	                          "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKb\r\n"))
	TH_LOG("%s", w);
	/* A source that is the sent-by, without rport: the Via goes back as it came. */
	static const char same[] = "OPTIONS sip:ss1 SIP/2.0\r\n"
	                           "Via: SIP/2.0/UDP 198.18.0.9:5062;branch=z9hG4bKc\r\n"
	                           "From: <sip:alice@ss1>;tag=1\r\nTo: <sip:alice@ss1>\r\n"
	                           "Call-ID: o2\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
	ASSERT_EQ(0, gk_sip_decode((const uint8_t *)same, sizeof(same) - 1, &m, &why));
	ASSERT_EQ(0, gk_sip_received(&m, &from));
	EXPECT_STREQ("SIP/2.0/UDP 198.18.0.9:5062;branch=z9hG4bKc", gk_sip_via(&m.wire.sip, 0));
}

TEST_HARNESS_MAIN
