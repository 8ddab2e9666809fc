// SPDX-License-Identifier: GPL-2.0-only
/*
 * The user agent's half of a dialog (lib/sip/sip_ua.c), as gkterm places and answers calls: the
 * route set is the 2xx's Record-Route reversed and its first loose route is where the ACK and BYE
 * go (the server when there is none, nothing when it is a strict router or a name); the remote
 * target is the 2xx's Contact; requests inside the dialog carry that route set in order, the To
 * with the callee's tag, and what gatekey's proxy view reads back; a callee's 180 and 200 copy the
 * request's Record-Route, carry its Contact and body, and one To tag for both.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "kselftest_harness.h"

#include "gatekey/sip/sip.h"
#include "gatekey/sip/sip_proxy.h"
#include "gatekey/sip/sip_ua.h"

#define OK_HEAD                                                                                    \
	"SIP/2.0 200 OK\r\n"                                                                       \
	"Via: SIP/2.0/UDP 198.18.0.2:5060;branch=z9hG4bKgk1;rport=5060\r\n"                        \
	"Record-Route: <sip:198.18.1.1:5060;lr>\r\n"                                               \
	"Record-Route: <sip:198.18.2.2:5060;lr>, <sip:[2001:db8::1]:5070;lr>\r\n"                  \
	"From: <sip:alice@sbc1>;tag=a1\r\n"                                                        \
	"To: <sip:bob@sbc1>;tag=b2\r\n"                                                            \
	"Call-ID: c1@gkterm\r\n"                                                                   \
	"CSeq: 1 INVITE\r\n"                                                                       \
	"Contact: <sip:bob@198.18.0.3:5062>\r\n"                                                   \
	"Content-Length: 0\r\n\r\n"

#define INVITE                                                                                     \
	"INVITE sip:bob@198.18.0.3:5062 SIP/2.0\r\n"                                               \
	"Via: SIP/2.0/UDP 198.18.2.2:5060;branch=z9hG4bKpx2\r\n"                                   \
	"Via: SIP/2.0/UDP 198.18.0.2:5060;branch=z9hG4bKgk1;rport=5060\r\n"                        \
	"Record-Route: <sip:198.18.1.1:5060;lr>\r\n"                                               \
	"Record-Route: <sip:198.18.2.2:5060;lr>\r\n"                                               \
	"Max-Forwards: 68\r\n"                                                                     \
	"From: <sip:alice@sbc1>;tag=a1\r\n"                                                        \
	"To: <sip:bob@sbc1>\r\n"                                                                   \
	"Call-ID: c1@gkterm\r\n"                                                                   \
	"CSeq: 1 INVITE\r\n"                                                                       \
	"P-Asserted-Identity: <sip:alice@sbc1>\r\n"                                                \
	"Content-Type: application/sdp\r\n"                                                        \
	"Content-Length: 4\r\n\r\n"                                                                \
	"v=0\n"

static uint8_t out[4096];

static bool span_is(struct sip_span s, const char *text)
{
	return s.n == strlen(text) && memcmp(s.p, text, s.n) == 0;
}

static int view_str(const char *msg, struct gk_sip_view *v)
{
	return gk_sip_view((const uint8_t *)msg, strlen(msg), v);
}

static const char *route(const struct gk_sip_ua_dialog *d, unsigned i)
{
	return d->routes + d->route_at[i];
}

static uint16_t port_of(const struct sockaddr_storage *a)
{
	return ntohs(a->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)a)->sin6_port
	                                      : ((const struct sockaddr_in *)a)->sin_port);
}

/* The dialog of a 200 whose Record-Route is rr (one header line, or none). */
static int dialog_of(struct gk_sip_ua_dialog *d, const char *rr, const char *contact)
{
	static char msg[2048];
	struct gk_sip_view v;

	snprintf(msg, sizeof(msg),
	         "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.18.0.2:5060;branch=z9hG4bKgk1\r\n%s"
	         "From: <sip:alice@ss1>;tag=a1\r\nTo: <sip:bob@ss1>;tag=b2\r\nCall-ID: c2\r\n"
	         "CSeq: 1 INVITE\r\n%sContent-Length: 0\r\n\r\n",
	         rr, contact);
	if (view_str(msg, &v) < 0)
		return -100;
	return gk_sip_ua_dialog_uac(d, &v, "sip:bob@ss1");
}

TEST(route_set_is_the_record_route_reversed_and_the_target_the_contact)
{
	struct gk_sip_ua_dialog d;
	struct gk_sip_view v;

	ASSERT_EQ(0, view_str(OK_HEAD, &v));
	ASSERT_EQ(0, gk_sip_ua_dialog_uac(&d, &v, "sip:bob@sbc1"));
	ASSERT_EQ(3, d.n_routes);
	EXPECT_STREQ("<sip:[2001:db8::1]:5070;lr>", route(&d, 0));
	EXPECT_STREQ("<sip:198.18.2.2:5060;lr>", route(&d, 1));
	EXPECT_STREQ("<sip:198.18.1.1:5060;lr>", route(&d, 2));
	EXPECT_STREQ("sip:bob@198.18.0.3:5062", d.target);
	EXPECT_STREQ("<sip:bob@sbc1>;tag=b2", d.to);
}

TEST(without_record_route_the_route_set_is_empty_and_without_contact_the_target_is_the_uri)
{
	struct gk_sip_ua_dialog d;
	struct sockaddr_storage to;

	ASSERT_EQ(0, dialog_of(&d, "", ""));
	EXPECT_EQ(0, d.n_routes);
	EXPECT_STREQ("sip:bob@ss1", d.target);
	EXPECT_EQ(-ENOENT, gk_sip_ua_next_hop(&d, &to));
}

TEST(a_dialog_needs_a_2xx_with_the_callees_tag)
{
	struct gk_sip_ua_dialog d;
	struct gk_sip_view v;
	char msg[1024];

	snprintf(msg, sizeof(msg), "%s", OK_HEAD);
	memcpy(strstr(msg, ";tag=b2"), "       ", 7); /* no To tag */
	ASSERT_EQ(0, view_str(msg, &v));
	EXPECT_EQ(-EINVAL, gk_sip_ua_dialog_uac(&d, &v, "sip:bob@sbc1"));
	snprintf(msg, sizeof(msg), "SIP/2.0 180 Ringing%s", strchr(OK_HEAD, '\r'));
	ASSERT_EQ(0, view_str(msg, &v));
	EXPECT_EQ(180, v.status);
	EXPECT_EQ(-EINVAL, gk_sip_ua_dialog_uac(&d, &v, "sip:bob@sbc1"));
}

TEST(folded_record_route_is_kept_on_one_line)
{
	struct gk_sip_ua_dialog d;

	ASSERT_EQ(
	    0, dialog_of(&d, "Record-Route: <sip:198.18.1.1;lr>,\r\n <sip:198.18.2.2;lr>\r\n", ""));
	ASSERT_EQ(2, d.n_routes);
	EXPECT_STREQ("<sip:198.18.2.2;lr>", route(&d, 0));
	EXPECT_STREQ("<sip:198.18.1.1;lr>", route(&d, 1));
	EXPECT_EQ(NULL, strpbrk(d.routes, "\r\n"));
}

TEST(next_hop_is_the_first_loose_route_with_its_port_or_the_default)
{
	struct gk_sip_ua_dialog d;
	struct sockaddr_storage to;
	char ip[INET6_ADDRSTRLEN];

	ASSERT_EQ(0,
	          dialog_of(&d, "Record-Route: <sip:198.18.2.2;lr>, <sip:198.18.1.1:5070;lr>\r\n",
	                    "Contact: <sip:bob@198.18.0.3:5062>\r\n"));
	ASSERT_EQ(0, gk_sip_ua_next_hop(&d, &to));
	ASSERT_EQ(AF_INET, to.ss_family);
	inet_ntop(AF_INET, &((struct sockaddr_in *)&to)->sin_addr, ip, sizeof(ip));
	EXPECT_STREQ("198.18.1.1", ip);
	EXPECT_EQ(5070, port_of(&to));

	ASSERT_EQ(0, dialog_of(&d, "Record-Route: <sip:198.18.2.2;lr>\r\n", ""));
	ASSERT_EQ(0, gk_sip_ua_next_hop(&d, &to));
	EXPECT_EQ(5060, port_of(&to));

	ASSERT_EQ(0, dialog_of(&d, "Record-Route: <sips:[2001:db8::1];lr;transport=tcp>\r\n", ""));
	ASSERT_EQ(0, gk_sip_ua_next_hop(&d, &to));
	ASSERT_EQ(AF_INET6, to.ss_family);
	inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&to)->sin6_addr, ip, sizeof(ip));
	EXPECT_STREQ("2001:db8::1", ip);
	EXPECT_EQ(5061, port_of(&to));

	ASSERT_EQ(0, dialog_of(&d, "Record-Route: \"edge\" <sip:sbc@198.18.1.1:5080;lr>\r\n", ""));
	ASSERT_EQ(0, gk_sip_ua_next_hop(&d, &to));
	EXPECT_EQ(5080, port_of(&to));
}

TEST(strict_routers_names_and_non_hosts_are_no_next_hop)
{
	struct gk_sip_ua_dialog d;
	struct sockaddr_storage to;

	ASSERT_EQ(0, dialog_of(&d, "Record-Route: <sip:198.18.1.1:5060>\r\n", ""));
	EXPECT_EQ(-EINVAL, gk_sip_ua_next_hop(&d, &to)); /* no lr: a strict router */
	ASSERT_EQ(0, dialog_of(&d, "Record-Route: <sip:proxy.example.com;lr>\r\n", ""));
	EXPECT_EQ(-EINVAL, gk_sip_ua_next_hop(&d, &to)); /* no DNS here */
	ASSERT_EQ(0, dialog_of(&d, "Record-Route: <sip:255.255.255.255;lr>\r\n", ""));
	EXPECT_EQ(-EINVAL, gk_sip_ua_next_hop(&d, &to)); /* a broadcaster */
	ASSERT_EQ(0, dialog_of(&d, "Record-Route: <sip:198.18.1.1:0;lr>\r\n", ""));
	EXPECT_EQ(-EINVAL, gk_sip_ua_next_hop(&d, &to));
	ASSERT_EQ(0, dialog_of(&d, "Record-Route: <sip:198.18.1.1:5060?lr=1>\r\n", ""));
	EXPECT_EQ(-EINVAL, gk_sip_ua_next_hop(&d, &to)); /* a header, not a parameter */
	/* a port that would wrap an unsigned long into 5060, and one with junk after it */
	ASSERT_EQ(0,
	          dialog_of(&d, "Record-Route: <sip:198.18.1.1:18446744073709556676;lr>\r\n", ""));
	EXPECT_EQ(-EINVAL, gk_sip_ua_next_hop(&d, &to));
	ASSERT_EQ(0, dialog_of(&d, "Record-Route: <sip:198.18.1.1:5060x;lr>\r\n", ""));
	EXPECT_EQ(-EINVAL, gk_sip_ua_next_hop(&d, &to));
}

TEST(requests_inside_the_dialog_carry_its_route_set_target_and_to)
{
	struct gk_sip_ua_dialog d;
	struct gk_sip_view v;

	ASSERT_EQ(0, view_str(OK_HEAD, &v));
	ASSERT_EQ(0, gk_sip_ua_dialog_uac(&d, &v, "sip:bob@sbc1"));
	struct gk_sip_ua_req q = {.method = "BYE",
	                          .cseq = 2,
	                          .via = "SIP/2.0/UDP 198.18.0.2:5060;branch=z9hG4bKgk2;rport",
	                          .from = "<sip:alice@sbc1>;tag=a1",
	                          .call_id = "c1@gkterm"};
	int n = gk_sip_ua_request(&d, &q, out, sizeof(out));
	ASSERT_GT(n, 0);
	ASSERT_EQ(0, gk_sip_view(out, (size_t)n, &v));
	EXPECT_TRUE(v.request);
	EXPECT_TRUE(span_is(v.method, "BYE"));
	EXPECT_TRUE(span_is(v.ruri, "sip:bob@198.18.0.3:5062"));
	ASSERT_EQ(3, v.n_route);
	EXPECT_TRUE(span_is(v.route[0], "<sip:[2001:db8::1]:5070;lr>"));
	EXPECT_TRUE(span_is(v.route[1], "<sip:198.18.2.2:5060;lr>"));
	EXPECT_TRUE(span_is(v.route[2], "<sip:198.18.1.1:5060;lr>"));
	EXPECT_TRUE(span_is(v.to_tag, "b2"));
	EXPECT_TRUE(span_is(v.from_tag, "a1"));
	EXPECT_TRUE(span_is(v.branch, "z9hG4bKgk2"));
	EXPECT_EQ(2, v.cseq);
	EXPECT_TRUE(span_is(v.cseq_method, "BYE"));
	EXPECT_EQ(70, v.max_forwards);
	EXPECT_EQ(0, v.content_length);
	/* and gatekey's own decoder reads it as well */
	struct gk_msg m;
	enum gk_reason why;
	EXPECT_EQ(0, gk_sip_decode(out, (size_t)n, &m, &why));
}

TEST(the_initial_invite_names_the_aor_and_carries_its_body)
{
	static const char sdp[] = "v=0\r\no=- 1 1 IN IP4 198.18.0.2\r\ns=-\r\n";
	struct gk_sip_ua_dialog d;
	struct gk_sip_view v;

	ASSERT_EQ(0, gk_sip_ua_dialog_init(&d, "sip:bob@ss1"));
	EXPECT_EQ(0, d.n_routes);
	struct gk_sip_ua_req q = {.method = "INVITE",
	                          .cseq = 1,
	                          .via = "SIP/2.0/UDP 198.18.0.2:5060;branch=z9hG4bKgk1;rport",
	                          .from = "<sip:alice@ss1>;tag=a1",
	                          .call_id = "c3@gkterm",
	                          .contact = "sip:alice@198.18.0.2:5060",
	                          .content_type = "application/sdp",
	                          .body = (const uint8_t *)sdp,
	                          .body_len = strlen(sdp)};
	int n = gk_sip_ua_request(&d, &q, out, sizeof(out));
	ASSERT_GT(n, 0);
	ASSERT_EQ(0, gk_sip_view(out, (size_t)n, &v));
	EXPECT_TRUE(span_is(v.ruri, "sip:bob@ss1"));
	EXPECT_TRUE(span_is(v.to, "<sip:bob@ss1>"));
	EXPECT_EQ(0, v.to_tag.n);
	EXPECT_TRUE(span_is(v.contact, "sip:alice@198.18.0.2:5060"));
	EXPECT_EQ(strlen(sdp), v.content_length);
	EXPECT_TRUE(span_is(v.body, sdp));
	EXPECT_EQ(0, v.n_route);

	EXPECT_EQ(-EINVAL, gk_sip_ua_dialog_init(&d, ""));
	EXPECT_EQ(-EINVAL, gk_sip_ua_dialog_init(&d, "sip:bob@ss1>\r\nX: y"));
	q.via = "SIP/2.0/UDP 198.18.0.2:5060;branch=z9hG4bKgk1\r\nX-Injected: 1";
	ASSERT_EQ(0, gk_sip_ua_dialog_init(&d, "sip:bob@ss1"));
	EXPECT_EQ(-EINVAL, gk_sip_ua_request(&d, &q, out, sizeof(out)));
	q.via = "SIP/2.0/UDP 198.18.0.2:5060;branch=z9hG4bKgk1";
	EXPECT_EQ(-ENOSPC, gk_sip_ua_request(&d, &q, out, 100));
}

TEST(callee_answers_copy_the_record_route_and_carry_contact_body_and_one_tag)
{
	static const char sdp[] = "v=0\r\n";
	struct gk_sip_view req, v;
	uint8_t ring[2048];

	ASSERT_EQ(0, view_str(INVITE, &req));
	struct gk_sip_ua_reply x = {.record_route = true, .contact = "sip:bob@198.18.0.3:5062"};
	int rn = gk_sip_ua_answer((const uint8_t *)INVITE, strlen(INVITE), &req, 180, "Ringing", &x,
	                          ring, sizeof(ring));
	ASSERT_GT(rn, 0);
	x.content_type = "application/sdp";
	x.body = (const uint8_t *)sdp;
	x.body_len = strlen(sdp);
	int n = gk_sip_ua_answer((const uint8_t *)INVITE, strlen(INVITE), &req, 200, "OK", &x, out,
	                         sizeof(out));
	ASSERT_GT(n, 0);
	ASSERT_EQ(0, gk_sip_view(out, (size_t)n, &v));
	EXPECT_FALSE(v.request);
	EXPECT_EQ(200, v.status);
	EXPECT_EQ(2, v.n_via); /* every Via, in order */
	EXPECT_TRUE(span_is(v.branch, "z9hG4bKpx2"));
	ASSERT_EQ(2, v.n_record_route);
	EXPECT_TRUE(span_is(v.record_route[0], "<sip:198.18.1.1:5060;lr>"));
	EXPECT_TRUE(span_is(v.record_route[1], "<sip:198.18.2.2:5060;lr>"));
	EXPECT_TRUE(span_is(v.contact, "sip:bob@198.18.0.3:5062"));
	EXPECT_TRUE(span_is(v.body, sdp));
	EXPECT_EQ(strlen(sdp), v.content_length);
	EXPECT_TRUE(span_is(v.cseq_method, "INVITE"));
	ASSERT_GT(v.to_tag.n, 0);
	char tag[64];
	snprintf(tag, sizeof(tag), "%.*s", (int)v.to_tag.n, v.to_tag.p);

	ASSERT_EQ(0, gk_sip_view(ring, (size_t)rn, &v));
	EXPECT_EQ(180, v.status);
	EXPECT_EQ(2, v.n_record_route);
	EXPECT_EQ(0, v.content_length);
	EXPECT_TRUE(span_is(v.to_tag, tag)); /* the same dialog */

	/* The caller's dialog from that 200 routes back the way the INVITE came. */
	struct gk_sip_ua_dialog d;
	struct sockaddr_storage to;
	ASSERT_EQ(0, gk_sip_view(out, (size_t)n, &v));
	ASSERT_EQ(0, gk_sip_ua_dialog_uac(&d, &v, "sip:bob@sbc1"));
	ASSERT_EQ(2, d.n_routes);
	EXPECT_STREQ("<sip:198.18.2.2:5060;lr>", route(&d, 0));
	ASSERT_EQ(0, gk_sip_ua_next_hop(&d, &to));
	EXPECT_EQ(5060, port_of(&to));
}

TEST(answers_without_record_route_and_with_allow)
{
	static const char bye[] = "BYE sip:bob@198.18.0.3:5062 SIP/2.0\r\n"
	                          "Via: SIP/2.0/UDP 198.18.1.1:5060;branch=z9hG4bKpx3\r\n"
	                          "Record-Route: <sip:198.18.1.1:5060;lr>\r\n"
	                          "From: <sip:alice@ss1>;tag=a1\r\n"
	                          "To: <sip:bob@ss1>;tag=b2\r\n"
	                          "Call-ID: c1@gkterm\r\n"
	                          "CSeq: 2 BYE\r\n"
	                          "Content-Length: 0\r\n\r\n";
	struct gk_sip_view req, v;
	struct gk_sip_ua_reply none = {0}, allow = {.allow = "INVITE, ACK, BYE"};

	ASSERT_EQ(0, view_str(bye, &req));
	int n = gk_sip_ua_answer((const uint8_t *)bye, strlen(bye), &req, 200, "OK", &none, out,
	                         sizeof(out));
	ASSERT_GT(n, 0);
	ASSERT_EQ(0, gk_sip_view(out, (size_t)n, &v));
	EXPECT_EQ(0, v.n_record_route);
	EXPECT_TRUE(span_is(v.to_tag, "b2")); /* kept, not a second one */
	EXPECT_EQ(0, v.contact.n);
	n = gk_sip_ua_answer((const uint8_t *)bye, strlen(bye), &req, 405, "Method Not Allowed",
	                     &allow, out, sizeof(out));
	ASSERT_GT(n, 0);
	out[n] = '\0';
	EXPECT_NE(NULL, strstr((char *)out, "\r\nAllow: INVITE, ACK, BYE\r\n"));
	ASSERT_EQ(0, gk_sip_view(out, (size_t)n, &v));
	EXPECT_EQ(405, v.status);

	/* never an answer to an ACK, nor to a response */
	static const char ack[] = "ACK sip:bob@198.18.0.3:5062 SIP/2.0\r\n"
	                          "Via: SIP/2.0/UDP 198.18.1.1:5060;branch=z9hG4bKpx4\r\n"
	                          "From: <sip:alice@ss1>;tag=a1\r\nTo: <sip:bob@ss1>;tag=b2\r\n"
	                          "Call-ID: c1@gkterm\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n";
	ASSERT_EQ(0, view_str(ack, &req));
	EXPECT_EQ(-EINVAL, gk_sip_ua_answer((const uint8_t *)ack, strlen(ack), &req, 200, "OK",
	                                    &none, out, sizeof(out)));
	ASSERT_EQ(0, view_str(OK_HEAD, &req));
	EXPECT_EQ(-EINVAL, gk_sip_ua_answer((const uint8_t *)OK_HEAD, strlen(OK_HEAD), &req, 200,
	                                    "OK", &none, out, sizeof(out)));
	/* nor one cut short */
	ASSERT_EQ(0, view_str(bye, &req));
	EXPECT_EQ(-ENOSPC, gk_sip_ua_answer((const uint8_t *)bye, strlen(bye), &req, 200, "OK",
	                                    &none, out, 120));
}

/* Found by fuzzing these answers: gk_sip_answer added a second To tag when the first was written
 * "; tag = x", and read header fields on from a body whose first line starts with a space. */
TEST(answers_keep_a_spaced_to_tag_and_take_nothing_from_the_body)
{
	static const char spaced[] = "MESSAGE sip:bob@198.18.0.3:5062 SIP/2.0\r\n"
	                             "Via: SIP/2.0/UDP 198.18.1.1:5060;branch=z9hG4bKpx5\r\n"
	                             "From: <sip:alice@ss1>;tag=a1\r\n"
	                             "To: <sip:bob@ss1> ; TAG = b9\r\n"
	                             "Call-ID: c5@gkterm\r\nCSeq: 3 MESSAGE\r\n"
	                             "Content-Length: 0\r\n\r\n";
	static const char body[] = "MESSAGE sip:bob@198.18.0.3:5062 SIP/2.0\r\n"
	                           "Via: SIP/2.0/UDP 198.18.1.1:5060;branch=z9hG4bKpx6\r\n"
	                           "From: <sip:alice@ss1>;tag=a1\r\n"
	                           "To: <sip:bob@ss1>\r\n"
	                           "Call-ID: c6@gkterm\r\nCSeq: 4 MESSAGE\r\n"
	                           "Content-Type: text/plain\r\n"
	                           "Content-Length: 57\r\n\r\n"
	                           " x\r\nVia: SIP/2.0/UDP 203.0.113.9;branch=z9hG4bKevil\r\n\r\n"
	                           "  ";
	struct gk_sip_view req, v;
	struct gk_sip_ua_reply none = {0};

	ASSERT_EQ(0, view_str(spaced, &req));
	int n = gk_sip_ua_answer((const uint8_t *)spaced, strlen(spaced), &req, 200, "OK", &none,
	                         out, sizeof(out));
	ASSERT_GT(n, 0);
	ASSERT_EQ(0, gk_sip_view(out, (size_t)n, &v));
	EXPECT_TRUE(span_is(v.to_tag, "b9"));

	ASSERT_EQ(strlen(body) - (strstr(body, "\r\n\r\n") + 4 - body), 57);
	ASSERT_EQ(0, view_str(body, &req));
	n = gk_sip_ua_answer((const uint8_t *)body, strlen(body), &req, 200, "OK", &none, out,
	                     sizeof(out));
	ASSERT_GT(n, 0);
	out[n] = '\0';
	EXPECT_EQ(NULL, strstr((char *)out, "203.0.113.9"));
	ASSERT_EQ(0, gk_sip_view(out, (size_t)n, &v));
	EXPECT_EQ(1, v.n_via);
}

TEST_HARNESS_MAIN
