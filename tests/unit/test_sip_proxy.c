// SPDX-License-Identifier: GPL-2.0-only
/*
 * The proxy's view and editing of SIP messages (lib/sip/sip_view.c, lib/sip/sip_proxy.c): a
 * forwarded request is the one received with exactly the edits RFC 3261 §16.6 asks for
 * (Request-URI, Max-Forwards, a Route naming this element, the new Via and Record-Route, RFC 3325
 * identities) and every other byte as it came; a response going upstream loses exactly its top Via
 * value (§16.7); where a response goes (§18.2.2, RFC 3581); the proxy's branch is the same for a
 * retransmission and for the CANCEL of a request. What gatekey's decoder read before forwarding
 * it still reads after, RFC 4475's torture messages included, and a buffer too small is refused
 * whole.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "kselftest_harness.h"

#include "gatekey/sip/sip.h"
#include "gatekey/sip/sip_proxy.h"

#define PROXY_VIA "SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bKpx01"
#define PROXY_RR  "<sip:198.18.0.1;lr>"

#define INVITE_LINE "INVITE sip:bob@198.18.2.20:5060 SIP/2.0\r\n"
#define UA_VIA      "Via: SIP/2.0/UDP 198.18.1.10:5060;branch=z9hG4bK74bf9a1;rport\r\n"
#define DIALOG                                                                                     \
	"From: \"Alice\" <sip:alice@198.18.1.10>;tag=9fxced76sl\r\n"                               \
	"To: <sip:bob@198.18.2.20>\r\n"                                                            \
	"Call-ID: 3848276298220188511@198.18.1.10\r\n"
#define INVITE_CSEQ "CSeq: 1 INVITE\r\n"
#define REST                                                                                       \
	"Contact: <sip:alice@198.18.1.10:5060>\r\n"                                                \
	"X-Unknown-To-Gatekey: keep ;me, as=\"I came\"\r\n"                                        \
	"Content-Type: application/sdp\r\n"
#define SDP                                                                                        \
	"v=0\r\n"                                                                                  \
	"o=alice 2890844526 2890844526 IN IP4 198.18.1.10\r\n"                                     \
	"s=-\r\n"                                                                                  \
	"c=IN IP4 198.18.1.10\r\n"                                                                 \
	"t=0 0\r\n"                                                                                \
	"m=audio 49170 RTP/AVP 0 101\r\n"                                                          \
	"a=rtpmap:0 PCMU/8000\r\n"                                                                 \
	"a=rtpmap:101 telephone-event/8000\r\n"

static uint8_t out[65536], out2[65536];

/* head + Content-Length of body + the empty line + body, NUL-terminated; the length. */
static size_t with_body(char *buf, size_t cap, const char *head, const char *body)
{
	int n = snprintf(buf, cap, "%sContent-Length: %zu\r\n\r\n%s", head, strlen(body), body);
	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

static int fwd_str(const char *msg, const struct gk_sip_fwd *f)
{
	int n = gk_sip_fwd_request((const uint8_t *)msg, strlen(msg), f, out, sizeof(out) - 1);
	if (n >= 0)
		out[n] = '\0';
	return n;
}

static int back_str(const char *msg)
{
	int n = gk_sip_fwd_response((const uint8_t *)msg, strlen(msg), out, sizeof(out) - 1);
	if (n >= 0)
		out[n] = '\0';
	return n;
}

static bool span_is(struct sip_span s, const char *text)
{
	return s.n == strlen(text) && memcmp(s.p, text, s.n) == 0;
}

static unsigned occurrences(const char *hay, const char *needle)
{
	unsigned n = 0;
	for (const char *p = strcasestr(hay, needle); p; p = strcasestr(p + 1, needle))
		n++;
	return n;
}

/* Whether the lines appear in this order in the text. */
static bool in_order(const char *text, const char *const *lines, size_t n)
{
	const char *at = text;
	for (size_t i = 0; i < n; i++) {
		at = strstr(at, lines[i]);
		if (!at)
			return false;
		at += strlen(lines[i]);
	}
	return true;
}

static const char *corpus_dir(const char *name, char *buf, size_t cap)
{
	const char *src = __FILE__; /* .../tests/unit/test_sip_proxy.c */
	const char *tail = strstr(src, "tests/unit/test_sip_proxy.c");
	snprintf(buf, cap, "%.*stests/corpus/%s", tail ? (int)(tail - src) : 0, src, name);
	return buf;
}

static size_t read_file(const char *path, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

/* ---- requests: the edits of §16.6 and nothing else ------------------------------------------- */

TEST(forwarded_invite_is_the_received_one_with_a_new_via_and_one_hop_less)
{
	char in[4096], want[4096];
	size_t n = with_body(
	    in, sizeof(in), INVITE_LINE UA_VIA "Max-Forwards: 70\r\n" DIALOG INVITE_CSEQ REST, SDP);
	size_t w = with_body(want, sizeof(want),
	                     INVITE_LINE "Via: " PROXY_VIA "\r\n" UA_VIA
	                                 "Max-Forwards: 69\r\n" DIALOG INVITE_CSEQ REST,
	                     SDP);
	struct gk_sip_fwd f = {.via = PROXY_VIA};
	struct gk_sip_view vi, vo;

	ASSERT_LT(0, n);
	int k = fwd_str(in, &f);
	ASSERT_EQ((int)w, k) TH_LOG("forwarded:\n%s", out);
	EXPECT_EQ(0, memcmp(want, out, w))
	TH_LOG("the forwarded INVITE must differ from the received one only in its new top Via and "
	       "Max-Forwards:\n%s",
	       out);
	ASSERT_EQ(0, gk_sip_view((uint8_t *)in, n, &vi));
	ASSERT_EQ(0, gk_sip_view(out, (size_t)k, &vo)) TH_LOG("%s", gk_reason_name(vo.why));
	EXPECT_EQ(vi.body.n, vo.body.n);
	EXPECT_EQ(0, memcmp(vi.body.p, vo.body.p, vi.body.n))
	TH_LOG("the SDP must arrive byte for byte");
	EXPECT_EQ(vi.content_length, vo.content_length);
	EXPECT_NE(NULL,
	          strstr((char *)out, "\r\nX-Unknown-To-Gatekey: keep ;me, as=\"I came\"\r\n"))
	TH_LOG("a header field nobody here knows passes as it came");
}

TEST(request_uri_is_replaced_when_asked_and_kept_otherwise)
{
	char in[4096];
	struct gk_sip_fwd f = {.via = PROXY_VIA, .ruri = "sip:bob@198.18.2.21:5070;transport=udp"};
	struct gk_sip_view v;

	with_body(in, sizeof(in), INVITE_LINE UA_VIA DIALOG INVITE_CSEQ, "");
	ASSERT_LT(0, fwd_str(in, &f));
	static const char line[] = "INVITE sip:bob@198.18.2.21:5070;transport=udp SIP/2.0\r\n";
	EXPECT_EQ(0, strncmp((char *)out, line, sizeof(line) - 1))
	TH_LOG("the new Request-URI, method and version as they were:\n%s", out);
	f.ruri = NULL;
	ASSERT_LT(0, fwd_str(in, &f));
	EXPECT_EQ(0, strncmp((char *)out, INVITE_LINE, strlen(INVITE_LINE)));
	ASSERT_EQ(0, gk_sip_view(out, strlen((char *)out), &v));
	EXPECT_TRUE(span_is(v.ruri, "sip:bob@198.18.2.20:5060"));
}

TEST(max_forwards_is_decremented_inserted_as_69_or_ends_the_request)
{
	char in[4096];
	struct gk_sip_fwd f = {.via = PROXY_VIA};
	struct gk_sip_view v;

	with_body(in, sizeof(in), INVITE_LINE UA_VIA "Max-Forwards: 0068\r\n" DIALOG INVITE_CSEQ,
	          "");
	ASSERT_LT(0, fwd_str(in, &f));
	EXPECT_NE(NULL, strstr((char *)out, "\r\nMax-Forwards: 67\r\n"))
	TH_LOG("0068 hops left (RFC 4475's spelling) become 67:\n%s", out);

	with_body(in, sizeof(in), INVITE_LINE UA_VIA DIALOG INVITE_CSEQ, "");
	ASSERT_LT(0, fwd_str(in, &f));
	EXPECT_EQ(1, occurrences((char *)out, "Max-Forwards: 69\r\n"))
	TH_LOG("a request without Max-Forwards leaves with 70 - 1:\n%s", out);
	ASSERT_EQ(0, gk_sip_view(out, strlen((char *)out), &v));
	EXPECT_TRUE(v.has_max_forwards);
	EXPECT_EQ(69, v.max_forwards);

	with_body(in, sizeof(in), INVITE_LINE UA_VIA "Max-Forwards: 1\r\n" DIALOG INVITE_CSEQ, "");
	int k = fwd_str(in, &f);
	ASSERT_LT(0, k);
	EXPECT_NE(NULL, strstr((char *)out, "\r\nMax-Forwards: 0\r\n"))
	TH_LOG("the last hop gets 0");
	memcpy(in, out, (size_t)k + 1);
	memset(out, 0xa5, sizeof(out));
	EXPECT_EQ(-ELOOP, gk_sip_fwd_request((uint8_t *)in, (size_t)k, &f, out, sizeof(out)))
	TH_LOG("a request with 0 hops left is answered 483 by the caller, not forwarded");
	for (size_t i = 0; i < sizeof(out); i++)
		if (out[i] != 0xa5) {
			EXPECT_EQ(0xa5, out[i]) TH_LOG("-ELOOP wrote byte %zu", i);
			break;
		}
}

TEST(request_with_vias_up_to_the_limit_is_a_loop)
{
	static char in[32768];
	size_t o = (size_t)snprintf(in, sizeof(in), INVITE_LINE);
	struct gk_sip_fwd f = {.via = PROXY_VIA};

	for (int i = 0; i < GK_SIP_VIA_MAX; i++)
		o += (size_t)snprintf(in + o, sizeof(in) - o,
		                      "Via: SIP/2.0/UDP 198.18.5.%d;branch=z9hG4bKhop%d\r\n", i, i);
	with_body(in + o, sizeof(in) - o, DIALOG INVITE_CSEQ, "");
	EXPECT_EQ(-ELOOP, fwd_str(in, &f))
	TH_LOG("with %d Vias one more would make a message no gatekey element reads",
	       GK_SIP_VIA_MAX);
}

TEST(top_route_naming_this_element_is_removed_and_any_other_kept)
{
	static const struct {
		const char *route, *self;
		bool removed;
	} cases[] = {
	    {"<sip:198.18.0.1;lr>", "198.18.0.1:5060", true},
	    {"<sip:198.18.0.1;lr>", "198.18.0.1", true},
	    {"<sip:198.18.0.1:5060;lr;ftag=x>", "198.18.0.1", true},
	    {"\"edge\" <sip:sbc@198.18.0.1;lr>", "198.18.0.1:5060", true},
	    {"<sips:198.18.0.1;lr>", "198.18.0.1:5061", true},
	    {"<sips:198.18.0.1;lr>", "198.18.0.1:5060", false},
	    {"<sip:[2001:db8::1]:5062;lr>", "[2001:DB8:0::1]:5062", true},
	    {"<sip:198.18.0.1:5070;lr>", "198.18.0.1:5060", false},
	    {"<sip:198.18.0.2;lr>", "198.18.0.1", false},
	    {"<sip:PROXY.example.net;lr>", "proxy.example.net", true},
	    {"<tel:+15550100>", "198.18.0.1", false},
	};
	char head[1024], in[2048];
	struct gk_sip_view v;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gk_sip_fwd f = {.via = PROXY_VIA, .self = cases[i].self};
		snprintf(head, sizeof(head),
		         INVITE_LINE UA_VIA
		         "Route: %s\r\nRoute: <sip:198.18.3.30;lr>\r\n" DIALOG INVITE_CSEQ,
		         cases[i].route);
		with_body(in, sizeof(in), head, "");
		int k = fwd_str(in, &f);
		ASSERT_LT(0, k) TH_LOG("%s", cases[i].route);
		ASSERT_EQ(0, gk_sip_view(out, (size_t)k, &v));
		EXPECT_EQ(cases[i].removed ? 1u : 2u, v.n_route)
		TH_LOG("Route %s with self %s: %s", cases[i].route, cases[i].self,
		       cases[i].removed ? "this element's, must go" : "another's, must stay");
		EXPECT_TRUE(span_is(v.route[v.n_route - 1], "<sip:198.18.3.30;lr>"))
		TH_LOG("the next hop's Route always stays");
	}
}

TEST(route_field_with_two_values_loses_only_the_first)
{
	static const char *const fields[] = {
	    "Route: <sip:198.18.0.1;lr>, <sip:198.18.3.30;lr>\r\n",
	    "Route: <sip:198.18.0.1;lr>,\r\n <sip:198.18.3.30;lr>\r\n",
	    "route :  <sip:198.18.0.1;lr>  ,<sip:198.18.3.30;lr>\r\n",
	};
	static const char *const want[] = {
	    "\r\nRoute: <sip:198.18.3.30;lr>\r\n",
	    "\r\nRoute: <sip:198.18.3.30;lr>\r\n",
	    "\r\nroute :  <sip:198.18.3.30;lr>\r\n",
	};
	struct gk_sip_fwd f = {.via = PROXY_VIA, .self = "198.18.0.1"};
	char head[1024], in[2048];

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		snprintf(head, sizeof(head), INVITE_LINE UA_VIA "%s" DIALOG INVITE_CSEQ, fields[i]);
		with_body(in, sizeof(in), head, "");
		ASSERT_LT(0, fwd_str(in, &f));
		EXPECT_NE(NULL, strstr((char *)out, want[i]))
		TH_LOG("only the first value goes, the field and its other value stay:\n%s", out);
		EXPECT_EQ(1, occurrences((char *)out, "198.18.3.30"));
		EXPECT_EQ(0, occurrences((char *)out, "<sip:198.18.0.1;lr>"));
	}
}

TEST(record_route_goes_on_top_of_the_existing_ones)
{
	char in[8192];
	struct gk_sip_fwd f = {.via = PROXY_VIA, .record_route = PROXY_RR};
	struct gk_sip_view v;

	with_body(in, sizeof(in),
	          INVITE_LINE UA_VIA "Record-Route: <sip:198.18.4.40;lr>, <sip:198.18.4.41;lr>\r\n"
	                             "Record-Route: <sip:198.18.4.42;lr>\r\n" DIALOG INVITE_CSEQ,
	          "");
	int k = fwd_str(in, &f);
	ASSERT_LT(0, k);
	ASSERT_EQ(0, gk_sip_view(out, (size_t)k, &v));
	ASSERT_EQ(4, v.n_record_route);
	EXPECT_TRUE(span_is(v.record_route[0], PROXY_RR))
	TH_LOG("this element's value is the top one");
	EXPECT_TRUE(span_is(v.record_route[1], "<sip:198.18.4.40;lr>"));
	EXPECT_TRUE(span_is(v.record_route[3], "<sip:198.18.4.42;lr>"));
	const char *order[] = {"Record-Route: " PROXY_RR "\r\n",
	                       "Record-Route: <sip:198.18.4.40;lr>, <sip:198.18.4.41;lr>\r\n"};
	EXPECT_TRUE(in_order((char *)out, order, 2))
	TH_LOG("the new field goes right before the first one:\n%s", out);

	with_body(in, sizeof(in), INVITE_LINE UA_VIA DIALOG INVITE_CSEQ, "");
	ASSERT_LT(0, fwd_str(in, &f));
	EXPECT_NE(NULL, strstr((char *)out, INVITE_LINE "Record-Route: " PROXY_RR "\r\n"))
	TH_LOG("with no Record-Route yet, it comes first:\n%s", out);

	/* GK_SIP_ROUTE_MAX values already: one more would be refused by every reader */
	char head[4096];
	size_t o = (size_t)snprintf(head, sizeof(head), INVITE_LINE UA_VIA);
	for (int i = 0; i < GK_SIP_ROUTE_MAX; i++)
		o += (size_t)snprintf(head + o, sizeof(head) - o,
		                      "Record-Route: <sip:198.18.6.%d;lr>\r\n", i);
	snprintf(head + o, sizeof(head) - o, DIALOG INVITE_CSEQ);
	with_body(in, sizeof(in), head, "");
	EXPECT_EQ(-EMSGSIZE, fwd_str(in, &f));
	f.record_route = NULL;
	EXPECT_LT(0, fwd_str(in, &f)) TH_LOG("it can still go without being record-routed");
}

TEST(asserted_identities_are_stripped_and_inserted_as_asked)
{
	char in[2048];
	struct gk_sip_fwd f = {.via = PROXY_VIA, .strip_pai = true};
	struct gk_sip_view v;

	with_body(in, sizeof(in),
	          INVITE_LINE UA_VIA
	          "P-Asserted-Identity: \"Alice\" <sip:alice@198.18.1.10>\r\n" DIALOG
	          "p-asserted-identity: <tel:+15550100>\r\n"
	          "P-Preferred-Identity: <sip:mallory@198.18.1.66>\r\n"
	          "Privacy: none\r\n" INVITE_CSEQ,
	          "");
	ASSERT_EQ(0, gk_sip_view((uint8_t *)in, strlen(in), &v));
	EXPECT_TRUE(v.has_pai && v.has_ppi);
	int k = fwd_str(in, &f);
	ASSERT_LT(0, k);
	ASSERT_EQ(0, gk_sip_view(out, (size_t)k, &v));
	EXPECT_FALSE(v.has_pai) TH_LOG("every P-Asserted-Identity field goes, any case:\n%s", out);
	EXPECT_FALSE(v.has_ppi) TH_LOG("and P-Preferred-Identity with them");
	EXPECT_NE(NULL, strstr((char *)out, "\r\nPrivacy: none\r\n"));

	f.pai = "\"Alice\" <sip:+15550100@198.18.0.1;user=phone>";
	k = fwd_str(in, &f);
	ASSERT_LT(0, k);
	EXPECT_EQ(1, occurrences((char *)out, "-Identity"))
	TH_LOG("exactly the asserted identity of this element:\n%s", out);
	EXPECT_NE(
	    NULL,
	    strstr((char *)out,
	           "\r\nP-Asserted-Identity: \"Alice\" <sip:+15550100@198.18.0.1;user=phone>\r\n"));

	f.strip_pai = false;
	f.pai = NULL;
	k = fwd_str(in, &f);
	ASSERT_LT(0, k);
	EXPECT_EQ(3, occurrences((char *)out, "-Identity")) TH_LOG("untouched when not asked");
}

TEST(new_via_goes_first_and_the_received_ones_follow_in_order)
{
	char in[2048];
	struct gk_sip_fwd f = {.via = PROXY_VIA};
	struct gk_sip_view vi, vo;

	with_body(in, sizeof(in),
	          INVITE_LINE "Max-Forwards: 70\r\n" UA_VIA
	                      "Via: SIP/2.0/TCP 198.18.1.9;branch=z9hG4bKfirst, SIP/2.0/UDP "
	                      "198.18.1.8;branch=z9hG4bKzero\r\n" DIALOG INVITE_CSEQ,
	          "");
	int k = fwd_str(in, &f);
	ASSERT_LT(0, k);
	ASSERT_EQ(0, gk_sip_view((uint8_t *)in, strlen(in), &vi));
	ASSERT_EQ(0, gk_sip_view(out, (size_t)k, &vo));
	EXPECT_EQ(vi.n_via + 1, vo.n_via);
	EXPECT_TRUE(span_is(vo.via, PROXY_VIA)) TH_LOG("the top Via is this element's");
	EXPECT_TRUE(span_is(vo.branch, "z9hG4bKpx01"));
	const char *order[] = {"Max-Forwards: 69\r\n", "Via: " PROXY_VIA "\r\n", UA_VIA,
	                       "Via: SIP/2.0/TCP 198.18.1.9;branch=z9hG4bKfirst, SIP/2.0/UDP "
	                       "198.18.1.8;branch=z9hG4bKzero\r\n"};
	EXPECT_TRUE(in_order((char *)out, order, 4))
	TH_LOG("new Via right before the first received one, the rest as they came:\n%s", out);
}

/* ---- responses: the top Via value goes (§16.7 step 3) ---------------------------------------- */

#define RSP_DIALOG                                                                                 \
	"From: \"Alice\" <sip:alice@198.18.1.10>;tag=9fxced76sl\r\n"                               \
	"To: <sip:bob@198.18.2.20>;tag=8321234356\r\n"                                             \
	"Call-ID: 3848276298220188511@198.18.1.10\r\n"                                             \
	"CSeq: 1 INVITE\r\n"
#define PROXY_VIA_RSP "SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bKpx01"
#define UA_VIA_RSP                                                                                 \
	"SIP/2.0/UDP 198.18.1.10:5060;branch=z9hG4bK74bf9a1;rport=5060;received=198.18.1.10"

TEST(response_loses_exactly_its_top_via_value)
{
	static const struct {
		const char *what, *vias, *after;
	} cases[] = {
	    {"a field of its own", "Via: " PROXY_VIA_RSP "\r\nVia: " UA_VIA_RSP "\r\n",
	     "Via: " UA_VIA_RSP "\r\n"},
	    {"the first of two values", "Via: " PROXY_VIA_RSP ", " UA_VIA_RSP "\r\n",
	     "Via: " UA_VIA_RSP "\r\n"},
	    {"the first of three values, folded",
	     "v: " PROXY_VIA_RSP " ,\r\n\t" UA_VIA_RSP
	     ",\r\n SIP/2.0/UDP 198.18.1.1;branch=z9hG4bKa\r\n",
	     "v: " UA_VIA_RSP ",\r\n SIP/2.0/UDP 198.18.1.1;branch=z9hG4bKa\r\n"},
	};
	char head[2048], in[4096], want[4096];
	struct gk_sip_view vi, vo;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(head, sizeof(head), "SIP/2.0 200 OK\r\n%s" RSP_DIALOG REST, cases[i].vias);
		with_body(in, sizeof(in), head, SDP);
		snprintf(head, sizeof(head), "SIP/2.0 200 OK\r\n%s" RSP_DIALOG REST,
		         cases[i].after);
		size_t w = with_body(want, sizeof(want), head, SDP);
		int k = back_str(in);
		ASSERT_EQ((int)w, k) TH_LOG("%s:\n%s", cases[i].what, out);
		EXPECT_EQ(0, memcmp(want, out, w))
		TH_LOG("top Via as %s: it alone must go, all else stay:\n%s", cases[i].what, out);
		ASSERT_EQ(0, gk_sip_view((uint8_t *)in, strlen(in), &vi));
		ASSERT_EQ(0, gk_sip_view(out, (size_t)k, &vo));
		EXPECT_EQ(vi.n_via - 1, vo.n_via);
		EXPECT_TRUE(span_is(vo.via, UA_VIA_RSP));
	}

	/* 180 and 487 the same way; a response with one Via was this element's own */
	with_body(in, sizeof(in),
	          "SIP/2.0 180 Ringing\r\nVia: " PROXY_VIA_RSP "\r\nVia: " UA_VIA_RSP
	          "\r\n" RSP_DIALOG,
	          "");
	EXPECT_LT(0, back_str(in));
	with_body(in, sizeof(in),
	          "SIP/2.0 487 Request Terminated\r\nVia: " UA_VIA_RSP "\r\n" RSP_DIALOG, "");
	EXPECT_EQ(-EINVAL, back_str(in)) TH_LOG("one Via: the response was for this element");
	with_body(in, sizeof(in), INVITE_LINE UA_VIA DIALOG INVITE_CSEQ, "");
	EXPECT_EQ(-EINVAL, back_str(in)) TH_LOG("a request is no response to send back");
	struct gk_sip_fwd f = {.via = PROXY_VIA};
	with_body(in, sizeof(in),
	          "SIP/2.0 180 Ringing\r\nVia: " PROXY_VIA_RSP "\r\nVia: " UA_VIA_RSP
	          "\r\n" RSP_DIALOG,
	          "");
	EXPECT_EQ(-EINVAL, fwd_str(in, &f)) TH_LOG("and a response is no request to forward");
}

/* ---- reading: compact forms, folding, line ends, refusals ------------------------------------ */

TEST(compact_forms_and_folded_values_are_read_and_forwarded)
{
	static const char msg[] = "BYE sip:alice@198.18.1.10 SIP/2.0\r\n"
	                          "v: SIP/2.0/UDP 198.18.2.20\r\n"
	                          " ;branch=z9hG4bKfold ; rport\r\n"
	                          "V : SIP/2.0/UDP 198.18.2.21:5062;branch=z9hG4bKsecond\r\n"
	                          "MAX-FORWARDS:\r\n\t70\r\n"
	                          "f: <sip:bob@198.18.2.20>\r\n ;tag=b1\r\n"
	                          "T: \"Alice\" <sip:alice@198.18.1.10>;TAG=a1\r\n"
	                          "i: fold1@198.18.2.20\r\n"
	                          "cseq: 3\r\n BYE\r\n"
	                          "m: <sip:bob@198.18.2.20:5060>;expires=60\r\n"
	                          "c: text/plain\r\n"
	                          "e: identity\r\n"
	                          "k: timer\r\n"
	                          "s: \r\n"
	                          "ROUTE: <sip:198.18.0.1;lr>\r\n"
	                          "l: 4\r\n\r\nbye!";
	struct gk_sip_view v;
	struct gk_sip_fwd f = {.via = PROXY_VIA, .self = "198.18.0.1"};

	ASSERT_EQ(0, gk_sip_view((const uint8_t *)msg, sizeof(msg) - 1, &v))
	TH_LOG("%s at %s", gk_reason_name(v.why), v.failed_at);
	EXPECT_TRUE(v.request);
	EXPECT_TRUE(span_is(v.method, "BYE"));
	EXPECT_EQ(2, v.n_via);
	EXPECT_TRUE(span_is(v.branch, "z9hG4bKfold")) TH_LOG("a Via folded before its parameters");
	EXPECT_TRUE(span_is(v.via_host, "198.18.2.20"));
	EXPECT_EQ(0, v.via_port);
	EXPECT_TRUE(v.has_rport);
	EXPECT_EQ(0, v.rport.n);
	EXPECT_EQ(70, v.max_forwards);
	EXPECT_TRUE(span_is(v.from_tag, "b1"));
	EXPECT_TRUE(span_is(v.to_tag, "a1"));
	EXPECT_TRUE(span_is(v.call_id, "fold1@198.18.2.20"));
	EXPECT_EQ(3, v.cseq);
	EXPECT_TRUE(span_is(v.cseq_method, "BYE"));
	EXPECT_TRUE(span_is(v.contact, "sip:bob@198.18.2.20:5060"));
	EXPECT_EQ(1, v.n_route);
	EXPECT_TRUE(v.has_content_length);
	EXPECT_TRUE(span_is(v.body, "bye!"));

	int k = fwd_str(msg, &f);
	ASSERT_LT(0, k);
	EXPECT_NE(NULL, strstr((char *)out, "\r\nMAX-FORWARDS:\r\n\t69\r\n"))
	TH_LOG("the number changes, its folding stays:\n%s", out);
	EXPECT_EQ(NULL, strstr((char *)out, "ROUTE:")) TH_LOG("the Route naming this element goes");
	EXPECT_NE(NULL,
	          strstr((char *)out,
	                 "\r\nv: SIP/2.0/UDP 198.18.2.20\r\n ;branch=z9hG4bKfold ; rport\r\n"));
	ASSERT_EQ(0, gk_sip_view(out, (size_t)k, &v));
	EXPECT_EQ(3, v.n_via);
	EXPECT_TRUE(span_is(v.body, "bye!"));
}

TEST(line_ends_of_lf_alone_leave_as_crlf_and_the_body_as_it_was)
{
	static const char msg[] = "MESSAGE sip:carol@198.18.2.30 SIP/2.0\n"
	                          "Via: SIP/2.0/UDP 198.18.1.12;branch=z9hG4bKlf\n"
	                          "From: <sip:dave@198.18.1.12>;tag=1\n"
	                          "To: <sip:carol@198.18.2.30>\n"
	                          "Subject: two\n lines\n"
	                          "Call-ID: lf1@198.18.1.12\n"
	                          "CSeq: 1 MESSAGE\n"
	                          "Content-Length: 7\n\n"
	                          "a\nb\r\nc\n";
	struct gk_sip_fwd f = {.via = PROXY_VIA};
	struct gk_sip_view v;

	int k = fwd_str(msg, &f);
	ASSERT_LT(0, k);
	ASSERT_EQ(0, gk_sip_view(out, (size_t)k, &v));
	for (size_t i = 0; i < v.head.n; i++) {
		if (out[i] == '\n' && (i == 0 || out[i - 1] != '\r')) {
			EXPECT_EQ('\r', i ? out[i - 1] : 0) TH_LOG("bare LF at %zu in the head", i);
			break;
		}
	}
	EXPECT_NE(NULL, strstr((char *)out, "\r\nSubject: two\r\n lines\r\n"));
	EXPECT_TRUE(span_is(v.body, "a\nb\r\nc\n")) TH_LOG("a body is never rewritten");
	EXPECT_EQ(0, memcmp(out + k - 7, "a\nb\r\nc\n", 7));
}

TEST(view_refuses_what_it_would_misread)
{
	static const struct {
		const char *what, *msg;
		enum gk_reason why;
	} bad[] = {
	    {"no Via", INVITE_LINE DIALOG INVITE_CSEQ "\r\n", GK_R_PARSE_MISSING},
	    {"no Call-ID",
	     INVITE_LINE UA_VIA
	     "From: <sip:a@198.18.1.1>;tag=1\r\nTo: <sip:b@198.18.1.2>\r\n" INVITE_CSEQ "\r\n",
	     GK_R_PARSE_MISSING},
	    {"CSeq of another method", INVITE_LINE UA_VIA DIALOG "CSeq: 1 BYE\r\n\r\n",
	     GK_R_PARSE_BAD_VALUE},
	    {"two Call-IDs",
	     INVITE_LINE UA_VIA DIALOG "i: again@198.18.1.10\r\n" INVITE_CSEQ "\r\n",
	     GK_R_PARSE_DUPLICATE},
	    {"an empty Via value", INVITE_LINE UA_VIA "Via: \r\n" DIALOG INVITE_CSEQ "\r\n",
	     GK_R_PARSE_SYNTAX},
	    {"a Via list with an empty element",
	     INVITE_LINE "Via: SIP/2.0/UDP 198.18.1.10;branch=z9hG4bKa,\r\n" DIALOG INVITE_CSEQ
	                 "\r\n",
	     GK_R_PARSE_SYNTAX},
	    {"a Via without sent-by",
	     INVITE_LINE "Via: SIP/2.0/UDP ;branch=z9hG4bKa\r\n" DIALOG INVITE_CSEQ "\r\n",
	     GK_R_PARSE_SYNTAX},
	    {"two branches",
	     INVITE_LINE
	     "Via: SIP/2.0/UDP 198.18.1.10;branch=z9hG4bKa;branch=b\r\n" DIALOG INVITE_CSEQ "\r\n",
	     GK_R_PARSE_DUPLICATE},
	    {"a Route without <>",
	     INVITE_LINE UA_VIA "Route: sip:198.18.0.1;lr\r\n" DIALOG INVITE_CSEQ "\r\n",
	     GK_R_PARSE_SYNTAX},
	    {"an escaped control character",
	     INVITE_LINE UA_VIA
	     "From: \"A\\\x01\" <sip:a@198.18.1.1>;tag=1\r\nTo: <sip:b@198.18.1.2>\r\n"
	     "Call-ID: c1@198.18.1.1\r\n" INVITE_CSEQ "\r\n",
	     GK_R_PARSE_SYNTAX},
	    {"a bare CR", INVITE_LINE UA_VIA DIALOG "Subject: a\rb\r\n" INVITE_CSEQ "\r\n",
	     GK_R_PARSE_SYNTAX},
	    {"a body beyond the datagram",
	     INVITE_LINE UA_VIA DIALOG INVITE_CSEQ "Content-Length: 10\r\n\r\nshort",
	     GK_R_PARSE_TRUNCATED},
	    {"Max-Forwards over 255",
	     INVITE_LINE UA_VIA "Max-Forwards: 300\r\n" DIALOG INVITE_CSEQ "\r\n",
	     GK_R_PARSE_BAD_VALUE},
	    {"no empty line", INVITE_LINE UA_VIA DIALOG INVITE_CSEQ, GK_R_PARSE_TRUNCATED},
	    {"SIP/3.0", "INVITE sip:bob@198.18.2.20 SIP/3.0\r\n" UA_VIA DIALOG INVITE_CSEQ "\r\n",
	     GK_R_BAD_VERSION},
	    {"status 99", "SIP/2.0 099 Odd\r\n" UA_VIA DIALOG INVITE_CSEQ "\r\n",
	     GK_R_PARSE_BAD_VALUE},
	};
	struct gk_sip_view v;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-1, gk_sip_view((const uint8_t *)bad[i].msg, strlen(bad[i].msg), &v))
		TH_LOG("%s: must be refused", bad[i].what);
		EXPECT_EQ(bad[i].why, v.why)
		TH_LOG("%s: refused as %s at %s", bad[i].what, gk_reason_name(v.why), v.failed_at);
		struct gk_sip_fwd f = {.via = PROXY_VIA};
		EXPECT_EQ(-EINVAL, fwd_str(bad[i].msg, &f))
		TH_LOG("%s: never forwarded", bad[i].what);
	}

	/* GK_SIP_ROUTE_MAX Route values are read, one more is refused, not read in part */
	char head[4096], in[8192];
	for (int extra = 0; extra < 2; extra++) {
		size_t o = (size_t)snprintf(head, sizeof(head), INVITE_LINE UA_VIA "Route: ");
		for (int i = 0; i < GK_SIP_ROUTE_MAX + extra; i++)
			o += (size_t)snprintf(head + o, sizeof(head) - o, "%s<sip:198.18.7.%d;lr>",
			                      i ? ", " : "", i);
		snprintf(head + o, sizeof(head) - o, "\r\n" DIALOG INVITE_CSEQ);
		with_body(in, sizeof(in), head, "");
		int r = gk_sip_view((uint8_t *)in, strlen(in), &v);
		EXPECT_EQ(extra ? -1 : 0, r) TH_LOG("%d Route values", GK_SIP_ROUTE_MAX + extra);
		if (extra) {
			EXPECT_EQ(GK_R_PARSE_TOO_LONG, v.why);
		} else {
			EXPECT_EQ(GK_SIP_ROUTE_MAX, v.n_route);
		}
	}
}

TEST(values_from_the_caller_are_checked_before_anything_is_written)
{
	static const struct {
		const char *what;
		struct gk_sip_fwd f;
	} bad[] = {
	    {"no Via", {.via = NULL}},
	    {"a Via hiding a header field",
	     {.via = "SIP/2.0/UDP 198.18.0.1;branch=z9hG4bKx\r\nX-Injected: 1"}},
	    {"a Via without branch", {.via = "SIP/2.0/UDP 198.18.0.1"}},
	    {"two Vias in one", {.via = PROXY_VIA ", " PROXY_VIA}},
	    {"a Request-URI with a space", {.via = PROXY_VIA, .ruri = "sip:bob@198.18.2.20 x"}},
	    {"a Request-URI without scheme", {.via = PROXY_VIA, .ruri = "bob@198.18.2.20"}},
	    {"a Record-Route without <>", {.via = PROXY_VIA, .record_route = "sip:198.18.0.1;lr"}},
	    {"a P-Asserted-Identity with a LF",
	     {.via = PROXY_VIA, .pai = "<sip:a@198.18.0.1>\nVia: SIP/2.0/UDP 198.18.66.6"}},
	    {"self with a bad port", {.via = PROXY_VIA, .self = "198.18.0.1:99999"}},
	};
	char in[2048];

	with_body(in, sizeof(in), INVITE_LINE UA_VIA DIALOG INVITE_CSEQ, "");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-EINVAL, fwd_str(in, &bad[i].f)) TH_LOG("%s: refused", bad[i].what);
	}
	EXPECT_EQ(-EINVAL, fwd_str(in, NULL));
}

/* ---- where responses go ---------------------------------------------------------------------- */

static struct sip_span span_of(const char *s)
{
	return (struct sip_span){s, strlen(s)};
}

TEST(via_target_follows_received_rport_maddr_and_sent_by)
{
	static const struct {
		const char *via, *addr;
		unsigned port;
	} ok[] = {
	    {"SIP/2.0/UDP 198.18.1.10:5060;branch=z9hG4bKa;received=198.18.9.10;rport=40110",
	     "198.18.9.10", 40110},
	    {"SIP/2.0/UDP 198.18.1.10:5062;branch=z9hG4bKa;received=198.18.9.10", "198.18.9.10",
	     5062},
	    {"SIP/2.0/UDP 198.18.1.10;branch=z9hG4bKa;received=198.18.9.10;rport", "198.18.9.10",
	     5060},
	    {"SIP/2.0/UDP 198.18.1.10:5070;branch=z9hG4bKa", "198.18.1.10", 5070},
	    {"SIP/2.0/UDP 198.18.1.10;branch=z9hG4bKa", "198.18.1.10", 5060},
	    {"SIP/2.0/TLS 198.18.1.10;branch=z9hG4bKa", "198.18.1.10", 5061},
	    {"SIP/2.0/UDP [2001:db8::1]:5062;branch=z9hG4bKa", "2001:db8::1", 5062},
	    {"SIP/2.0/UDP [2001:db8::1];branch=z9hG4bKa;received=[2001:db8::99];rport=5999",
	     "2001:db8::99", 5999},
	    {"SIP/2.0/UDP ua.example.net;branch=z9hG4bKa;received=198.18.9.11", "198.18.9.11",
	     5060},
	    {"SIP/2.0/UDP 198.18.1.10:5064;maddr=198.18.200.1;received=198.18.9.10;rport=1",
	     "198.18.200.1", 5064},
	    {"SIP/2.0/UDP 198.18.1.10 : 5066 ;branch=z9hG4bKa", "198.18.1.10", 5066},
	    {"SIP/2.0/UDP 198.18.1.1;branch=z9hG4bKa, SIP/2.0/UDP 198.18.1.2", "198.18.1.1", 5060},
	};
	static const char *const refused[] = {
	    "SIP/2.0/UDP ua.example.net:5060;branch=z9hG4bKa",
	    "SIP/2.0/UDP ua.example.net;maddr=proxy.example.net;received=198.18.9.10",
	    "SIP/2.0/UDP 198.18.1.10:0;branch=z9hG4bKa",
	    "SIP/2.0/UDP 198.18.1.10;rport=70000",
	    "SIP/2.0/UDP",
	    "",
	    "SIP/2.0/UDP 255.255.255.255;branch=z9hG4bK1saber23",
	    "SIP/2.0/UDP 198.18.1.10;branch=z9hG4bKa;received=0.0.0.0",
	    "SIP/2.0/UDP 198.18.1.10;branch=z9hG4bKa;maddr=224.0.1.75",
	    "SIP/2.0/UDP [ff02::1]:5060;branch=z9hG4bKa",
	    "SIP/2.0/UDP [::ffff:255.255.255.255];branch=z9hG4bKa",
	};
	struct sockaddr_storage to;
	char text[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ASSERT_EQ(0, gk_sip_via_target(span_of(ok[i].via), &to)) TH_LOG("%s", ok[i].via);
		unsigned port;
		if (to.ss_family == AF_INET) {
			struct sockaddr_in *a = (struct sockaddr_in *)&to;
			inet_ntop(AF_INET, &a->sin_addr, text, sizeof(text));
			port = ntohs(a->sin_port);
		} else {
			ASSERT_EQ(AF_INET6, to.ss_family);
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&to;
			inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof(text));
			port = ntohs(a->sin6_port);
		}
		EXPECT_STREQ(ok[i].addr, text) TH_LOG("%s", ok[i].via);
		EXPECT_EQ(ok[i].port, port)
		TH_LOG("%s: the response goes to %s port %u", ok[i].via, ok[i].addr, ok[i].port);
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		EXPECT_EQ(-1, gk_sip_via_target(span_of(refused[i]), &to))
		TH_LOG("%s: no numeric address to answer to (there is no DNS here)", refused[i]);
	}
}

TEST(a_response_going_back_to_a_broadcast_via_goes_nowhere)
{
	static uint8_t in[4096];
	char dir[512], path[1024];
	struct gk_sip_view v;
	struct sockaddr_storage to;

	/* RFC 4475 §3.3.10: past the top Via (this element's), the next is 255.255.255.255 */
	snprintf(path, sizeof(path), "%s/bcast.dat", corpus_dir("rfc4475", dir, sizeof(dir)));
	size_t n = read_file(path, in, sizeof(in));
	ASSERT_LT(0, n);
	int k = gk_sip_fwd_response(in, n, out, sizeof(out));
	ASSERT_LT(0, k);
	ASSERT_EQ(0, gk_sip_view(out, (size_t)k, &v));
	EXPECT_TRUE(span_is(v.via_host, "255.255.255.255"));
	EXPECT_EQ(-1, gk_sip_via_target(v.via, &to)) TH_LOG("a response is never broadcast");
}

static struct sockaddr_storage address(const char *ip, unsigned port)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, ip, &a->sin6_addr);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, ip, &a->sin_addr);
	}
	return ss;
}

/* The whole way: a request from behind a NAT is forwarded with its Via stamped, the next hop
 * answers echoing the Vias, and the response, its top Via removed, goes to where the request
 * came from rather than to the private sent-by. */
TEST(stamped_via_brings_the_response_back_to_the_source)
{
	struct sockaddr_storage src = address("198.18.9.10", 40110), to;
	struct gk_sip_fwd f = {.via = PROXY_VIA, .from = &src};
	char in[4096], rsp[4096];
	struct gk_sip_view v;

	with_body(in, sizeof(in),
	          INVITE_LINE "Via: SIP/2.0/UDP 198.18.1.10:5060;branch=z9hG4bK74bf9a1;rport, "
	                      "SIP/2.0/UDP 198.18.1.9;branch=z9hG4bKolder\r\n" DIALOG INVITE_CSEQ,
	          "");
	int k = fwd_str(in, &f);
	ASSERT_LT(0, k);
	EXPECT_NE(NULL,
	          strstr((char *)out, "\r\nVia: " PROXY_VIA "\r\nVia: SIP/2.0/UDP "
	                              "198.18.1.10:5060;branch=z9hG4bK74bf9a1;received=198.18.9."
	                              "10;rport=40110, SIP/2.0/UDP "
	                              "198.18.1.9;branch=z9hG4bKolder\r\n"))
	TH_LOG("the received Via gets received= and rport=, the one after it stays:\n%s", out);

	/* the next hop's 180: the start line and a To tag, every Via echoed */
	ASSERT_EQ(0, gk_sip_view(out, (size_t)k, &v));
	const char *vias = strstr((char *)out, "\r\nVia: ") + 2;
	const char *after = strstr(vias, "\r\nFrom: ") + 2;
	snprintf(rsp, sizeof(rsp),
	         "SIP/2.0 180 Ringing\r\n%.*s" RSP_DIALOG "Content-Length: 0\r\n\r\n",
	         (int)(after - vias), vias);
	k = back_str(rsp);
	ASSERT_LT(0, k) TH_LOG("%s", rsp);
	ASSERT_EQ(0, gk_sip_view(out, (size_t)k, &v));
	ASSERT_EQ(0, gk_sip_via_target(v.via, &to));
	struct sockaddr_in *a = (struct sockaddr_in *)&to;
	EXPECT_EQ(AF_INET, to.ss_family);
	EXPECT_EQ(htonl(0xc612090a), a->sin_addr.s_addr) TH_LOG("to 198.18.9.10, the source");
	EXPECT_EQ(40110, ntohs(a->sin_port)) TH_LOG("at the port the request came from");

	/* an IPv6 source, a Via without rport: received only (RFC 3261 §18.2.1) */
	src = address("2001:db8::99", 5062);
	with_body(in, sizeof(in),
	          INVITE_LINE
	          "Via: SIP/2.0/UDP [2001:db8::10]:5062;branch=z9hG4bKv6\r\n" DIALOG INVITE_CSEQ,
	          "");
	ASSERT_LT(0, fwd_str(in, &f));
	EXPECT_NE(NULL, strstr((char *)out,
	                       "\r\nVia: SIP/2.0/UDP "
	                       "[2001:db8::10]:5062;branch=z9hG4bKv6;received=2001:db8::99\r\n"))
	TH_LOG("%s", out);

	/* a source that is no IP address is a caller's mistake; a Via too long to stamp within
	 * what a gatekey decoder keeps (GK_SIP_TEXT_MAX) is refused, not cut */
	struct sockaddr_storage unix_src = {.ss_family = AF_UNIX};
	f.from = &unix_src;
	EXPECT_EQ(-EINVAL, fwd_str(in, &f));
	static char big[GK_SIP_TEXT_MAX + 1024], head[GK_SIP_TEXT_MAX + 512];
	char branch[GK_SIP_TEXT_MAX];
	memset(branch, 'a', sizeof(branch) - 1);
	branch[sizeof(branch) - 1] = '\0';
	snprintf(head, sizeof(head),
	         INVITE_LINE "Via: SIP/2.0/UDP 198.18.1.10;branch=z9hG4bK%s\r\n" DIALOG INVITE_CSEQ,
	         branch);
	with_body(big, sizeof(big), head, "");
	f.from = &src;
	EXPECT_EQ(-EMSGSIZE, fwd_str(big, &f));
	f.from = NULL;
	EXPECT_LT(0, fwd_str(big, &f)) TH_LOG("unstamped, it goes as it came");
}

/* ---- this element's branch ------------------------------------------------------------------- */

TEST(branch_is_the_same_for_a_retransmission_and_its_cancel_and_new_for_a_new_request)
{
	char in[4096], again[4096], cancel[2048], next[4096], ack2xx[2048];
	char b1[GK_SIP_BRANCH_LEN], b2[GK_SIP_BRANCH_LEN], b3[GK_SIP_BRANCH_LEN];
	struct gk_sip_view v, w;

	with_body(in, sizeof(in), INVITE_LINE UA_VIA DIALOG INVITE_CSEQ REST, SDP);
	memcpy(again, in, sizeof(in)); /* another buffer: the hash reads bytes, not pointers */
	with_body(cancel, sizeof(cancel),
	          "CANCEL sip:bob@198.18.2.20:5060 SIP/2.0\r\n" UA_VIA DIALOG "CSeq: 1 CANCEL\r\n",
	          "");
	with_body(next, sizeof(next), INVITE_LINE UA_VIA DIALOG "CSeq: 2 INVITE\r\n" REST, SDP);
	with_body(ack2xx, sizeof(ack2xx),
	          "ACK sip:bob@198.18.2.20:5060 SIP/2.0\r\n"
	          "Via: SIP/2.0/UDP 198.18.1.10:5060;branch=z9hG4bKnewtxn;rport\r\n" DIALOG
	          "CSeq: 1 ACK\r\n",
	          "");

	ASSERT_EQ(0, gk_sip_view((uint8_t *)in, strlen(in), &v));
	gk_sip_branch(b1, &v, 0x5eed);
	EXPECT_EQ(39, strlen(b1));
	EXPECT_EQ(0, strncmp(b1, "z9hG4bK", 7)) TH_LOG("%s: RFC 3261's magic cookie first", b1);
	EXPECT_EQ(32, strspn(b1 + 7, "0123456789abcdef"));

	ASSERT_EQ(0, gk_sip_view((uint8_t *)again, strlen(again), &w));
	gk_sip_branch(b2, &w, 0x5eed);
	EXPECT_STREQ(b1, b2) TH_LOG("a retransmission is forwarded with the same branch");
	gk_sip_branch(b2, &w, 0x5eee);
	EXPECT_STRNE(b1, b2) TH_LOG("another salt (another run) gives other branches");

	ASSERT_EQ(0, gk_sip_view((uint8_t *)cancel, strlen(cancel), &w));
	gk_sip_branch(b2, &w, 0x5eed);
	EXPECT_STREQ(b1, b2) TH_LOG("the CANCEL carries the INVITE's top Via: the INVITE's branch");

	ASSERT_EQ(0, gk_sip_view((uint8_t *)next, strlen(next), &w));
	gk_sip_branch(b3, &w, 0x5eed);
	EXPECT_STRNE(b1, b3) TH_LOG("a new CSeq is a new transaction: a new branch");

	ASSERT_EQ(0, gk_sip_view((uint8_t *)ack2xx, strlen(ack2xx), &w));
	gk_sip_branch(b3, &w, 0x5eed);
	EXPECT_STRNE(b1, b3) TH_LOG("the ACK of a 2xx is a transaction of its own");
}

/* ---- what gatekey read before forwarding it still reads after -------------------------------- */

TEST(rfc4475_messages_forwarded_still_decode_with_their_bodies)
{
	static const char *const names[] = {"wsinv", "longreq", "transports", "mpart01"};
	static uint8_t in[65536];
	static struct gk_msg a, b;
	char dir[512], path[1024];
	struct gk_sip_fwd f = {
	    .via = PROXY_VIA, .record_route = PROXY_RR, .self = "198.18.0.1:5060"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		enum gk_reason why;
		struct gk_sip_view vi, vo;
		snprintf(path, sizeof(path), "%s/%s.dat", corpus_dir("rfc4475", dir, sizeof(dir)),
		         names[i]);
		size_t n = read_file(path, in, sizeof(in));
		ASSERT_LT(0, n) TH_LOG("%s", path);
		ASSERT_EQ(0, gk_sip_decode(in, n, &a, &why))
		TH_LOG("%s: %s", names[i], gk_reason_name(why));
		ASSERT_EQ(0, gk_sip_view(in, n, &vi))
		TH_LOG("%s: %s at %s", names[i], gk_reason_name(vi.why), vi.failed_at);
		int k = gk_sip_fwd_request(in, n, &f, out, sizeof(out));
		ASSERT_LT(0, k) TH_LOG("%s: %d", names[i], k);
		EXPECT_EQ(0, gk_sip_decode(out, (size_t)k, &b, &why))
		TH_LOG("%s forwarded: %s at %s\n%.*s", names[i], gk_reason_name(why),
		       b.wire.sip.bad, k, out);
		EXPECT_EQ(a.type, b.type);
		EXPECT_EQ(a.wire.sip.n_via + 1, b.wire.sip.n_via)
		TH_LOG("%s: one more Via", names[i]);
		EXPECT_EQ(a.wire.sip.cseq, b.wire.sip.cseq);
		EXPECT_STREQ(gk_sip_get(&a.wire.sip, GK_SIP_CALL_ID),
		             gk_sip_get(&b.wire.sip, GK_SIP_CALL_ID));
		ASSERT_EQ(0, gk_sip_view(out, (size_t)k, &vo));
		EXPECT_EQ(vi.body.n, vo.body.n);
		EXPECT_EQ(0, memcmp(vi.body.p, vo.body.p, vi.body.n))
		TH_LOG("%s: the body (mpart01's is binary) must arrive intact", names[i]);
		EXPECT_EQ(vi.n_record_route + 1, vo.n_record_route);
		EXPECT_EQ(vi.n_route, vo.n_route)
		TH_LOG("%s: no Route names this element", names[i]);
	}
}

/* Every message of RFC 4475 the decoder refuses for its syntax (400, 505) or discards (a broken
 * response) the view refuses too; every valid one it reads, but intmeth, whose To escapes NUL,
 * BEL and DEL: a proxy would copy them into what it forwards. */
TEST(rfc4475_verdicts_agree_with_the_decoder)
{
	static uint8_t in[65536];
	char dir[512], path[1024], line[512];
	unsigned refused = 0, read = 0;

	snprintf(path, sizeof(path), "%s/outcomes", corpus_dir("rfc4475", dir, sizeof(dir)));
	FILE *f = fopen(path, "r");
	ASSERT_NE(NULL, f) TH_LOG("%s", path);
	while (fgets(line, sizeof(line), f)) {
		char name[32], section[16], rfc[16], codec[16];
		struct gk_sip_view v;
		if (line[0] == '#' ||
		    sscanf(line, "%31s %15s %15s %15s", name, section, rfc, codec) != 4)
			continue;
		snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
		size_t n = read_file(path, in, sizeof(in));
		ASSERT_LT(0, n) TH_LOG("%s", path);
		int r = gk_sip_view(in, n, &v);
		/* unksm2's To (a REGISTER's address of record) is isbn:, which a registrar refuses
		 * (§10.3) and a proxy forwards; bcast is discarded by where it goes (below) */
		bool syntax = (!strcmp(codec, "400") && strcmp(name, "unksm2")) ||
		              !strcmp(codec, "505") ||
		              (!strcmp(rfc, "discard") && !strcmp(codec, "none"));
		if (syntax) {
			EXPECT_EQ(-1, r)
			TH_LOG("%s (RFC 4475 §%s): refused by the decoder, read here", name,
			       section);
			refused++;
		} else if (!strcmp(rfc, "valid") && strcmp(name, "intmeth")) {
			EXPECT_EQ(0, r)
			TH_LOG("%s (RFC 4475 §%s): valid, refused as %s at %s", name, section,
			       gk_reason_name(v.why), v.failed_at);
			read++;
		}
	}
	fclose(f);
	EXPECT_LE(18, refused);
	EXPECT_LE(14, read);
}

TEST(buffers_one_byte_short_are_refused_whole)
{
	static uint8_t in[65536];
	char dir[512], path[1024];
	struct gk_sip_fwd f = {.via = PROXY_VIA,
	                       .record_route = PROXY_RR,
	                       .self = "198.18.0.1",
	                       .strip_pai = true,
	                       .pai = "<sip:erin@198.18.0.1>",
	                       .ruri = "sip:bob@198.18.2.21"};
	unsigned tried = 0;
	struct dirent *de;
	DIR *d = opendir(corpus_dir("sip_proxy", dir, sizeof(dir)));

	ASSERT_NE(NULL, d) TH_LOG("%s: %s", dir, strerror(errno));
	while ((de = readdir(d))) {
		struct gk_sip_view v;
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		size_t n = read_file(path, in, sizeof(in));
		if (gk_sip_view(in, n, &v) < 0)
			continue;
		int k = v.request ? gk_sip_fwd_request(in, n, &f, out, sizeof(out))
		                  : gk_sip_fwd_response(in, n, out, sizeof(out));
		if (k <= 0)
			continue;
		for (size_t cap = 0; cap < (size_t)k; cap++) {
			int r = v.request ? gk_sip_fwd_request(in, n, &f, out2, cap)
			                  : gk_sip_fwd_response(in, n, out2, cap);
			if (r != -ENOSPC) {
				EXPECT_EQ(-ENOSPC, r)
				TH_LOG("%s into %zu of %d bytes: never a partial message",
				       de->d_name, cap, k);
				break;
			}
		}
		EXPECT_EQ(k, v.request ? gk_sip_fwd_request(in, n, &f, out2, (size_t)k)
		                       : gk_sip_fwd_response(in, n, out2, (size_t)k))
		TH_LOG("%s: exactly enough room is enough", de->d_name);
		tried++;
	}
	closedir(d);
	EXPECT_LE(10, tried) TH_LOG("%u seed messages forwarded", tried);
}

TEST(seed_corpus_reads_forwards_and_still_decodes)
{
	static uint8_t in[65536];
	static struct gk_msg m;
	char dir[512], path[1024];
	struct gk_sip_fwd f = {.via = PROXY_VIA, .record_route = PROXY_RR, .self = "198.18.0.1"};
	unsigned files = 0;
	struct dirent *de;
	DIR *d = opendir(corpus_dir("sip_proxy", dir, sizeof(dir)));

	ASSERT_NE(NULL, d);
	while ((de = readdir(d))) {
		struct gk_sip_view v, o;
		enum gk_reason why;
		size_t l = strlen(de->d_name);
		if (l < 5 || strcmp(de->d_name + l - 4, ".sip") != 0)
			continue; /* what a fuzzing run may leave there */
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		size_t n = read_file(path, in, sizeof(in));
		ASSERT_EQ(0, gk_sip_view(in, n, &v))
		TH_LOG("%s: %s at %s", de->d_name, gk_reason_name(v.why), v.failed_at);
		ASSERT_EQ(0, gk_sip_decode(in, n, &m, &why))
		TH_LOG("%s: %s", de->d_name, gk_reason_name(why));
		int k = v.request ? gk_sip_fwd_request(in, n, &f, out, sizeof(out))
		                  : gk_sip_fwd_response(in, n, out, sizeof(out));
		if (v.request && v.has_max_forwards && !v.max_forwards) {
			EXPECT_EQ(-ELOOP, k) TH_LOG("%s", de->d_name);
			continue;
		}
		ASSERT_LT(0, k) TH_LOG("%s: %d", de->d_name, k);
		ASSERT_EQ(0, gk_sip_view(out, (size_t)k, &o)) TH_LOG("%s forwarded", de->d_name);
		EXPECT_EQ(v.request ? v.n_via + 1 : v.n_via - 1, o.n_via) TH_LOG("%s", de->d_name);
		EXPECT_TRUE(v.body.n == o.body.n && !memcmp(v.body.p, o.body.p, v.body.n))
		TH_LOG("%s: body", de->d_name);
		EXPECT_EQ(0, gk_sip_decode(out, (size_t)k, &m, &why))
		TH_LOG("%s forwarded: %s", de->d_name, gk_reason_name(why));
		files++;
	}
	closedir(d);
	EXPECT_LE(12, files);
}

TEST_HARNESS_MAIN
