// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the proxy's view and editing of SIP messages (lib/sip/sip_view.c,
 * lib/sip/sip_proxy.c). Every request the view accepts is forwarded, every response has its top Via
 * removed, with edits chosen from the input's own bytes. What comes out must be a message the view
 * reads again, with the same body byte for byte, one Via more (a request) or one less (a
 * response), exactly the edits asked for and otherwise the same dialog, and no control character
 * in its head but CRLF pairs: a forwarded message must never smuggle a header field or a second
 * message past the element that reads it next. One byte less of room is always -ENOSPC.
 *
 * The user agent's half (lib/sip/sip_ua.c) reads the same messages: a 2xx's dialog makes a BYE the
 * view reads back with that route set, To tag and nothing smuggled; a callee's answer to a request
 * copies its Record-Route and reads back as clean.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <strings.h>
#include <sys/socket.h>

#include "gatekey/sip/sip.h"
#include "gatekey/sip/sip_proxy.h"
#include "gatekey/sip/sip_ua.h"

#define FUZZ_NAME "fuzz_sip_proxy"
#include "fuzz_common.h"

#define IN_MAX  65536
#define OUT_MAX (2 * IN_MAX + 4096) /* every LF may become CRLF, and a few fields are added */

static const char proxy_via[] = "SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bKfz";
static const char proxy_rr[] = "<sip:198.18.0.1;lr>";
static const char proxy_pai[] = "\"Fuzz\" <sip:+15550100@198.18.0.1;user=phone>";
static const char new_ruri[] = "sip:bob@198.18.2.21:5070";

/* Two spans alike but for CRs: LF-only line ends are written as CRLF, and the view refused every
 * other CR, so dropping the CRs leaves what was there before. */
static bool same_text(struct sip_span a, struct sip_span b)
{
	size_t i = 0, j = 0;

	for (;;) {
		while (i < a.n && a.p[i] == '\r')
			i++;
		while (j < b.n && b.p[j] == '\r')
			j++;
		if (i == a.n || j == b.n)
			return i == a.n && j == b.n;
		if (a.p[i++] != b.p[j++])
			return false;
	}
}

static bool is_text(struct sip_span s, const char *t)
{
	return s.n == strlen(t) && (!s.n || memcmp(s.p, t, s.n) == 0);
}

/* An absent value is an empty span with no pointer: never handed to memcmp. */
static bool same_bytes(struct sip_span a, struct sip_span b)
{
	return a.n == b.n && (!a.n || memcmp(a.p, b.p, a.n) == 0);
}

/* The head holds printable text, HT and CRLF pairs only. */
static void clean_head(struct sip_span head)
{
	const uint8_t *p = (const uint8_t *)head.p;

	CHECK(head.n >= 4 && memcmp(p + head.n - 4, "\r\n\r\n", 4) == 0);
	for (size_t i = 0; i < head.n; i++) {
		uint8_t c = p[i];
		if (c == '\r')
			CHECK(i + 1 < head.n && p[i + 1] == '\n');
		else if (c == '\n')
			CHECK(i > 0 && p[i - 1] == '\r');
		else
			CHECK((c >= 0x20 && c != 0x7f) || c == '\t');
	}
}

/* Everything a forward leaves alone, and the body where it must be. */
static void same_dialog(const struct gk_sip_view *in, const struct gk_sip_view *o,
                        const uint8_t *out, int n)
{
	CHECK(o->request == in->request);
	CHECK(o->status == in->status);
	CHECK(same_text(o->from, in->from));
	CHECK(same_bytes(o->from_tag, in->from_tag));
	CHECK(same_text(o->to, in->to));
	CHECK(same_bytes(o->to_tag, in->to_tag));
	CHECK(same_bytes(o->call_id, in->call_id));
	CHECK(o->cseq == in->cseq);
	CHECK(same_bytes(o->cseq_method, in->cseq_method));
	CHECK(same_bytes(o->body, in->body));
	CHECK(o->body.p + o->body.n == (const char *)out + n); /* nothing after the body */
	CHECK(o->head.p == (const char *)out);                 /* nothing before the start line */
	clean_head(o->head);
}

static bool same_host(struct sip_span host, const char *ip)
{
	if (host.n >= 2 && host.p[0] == '[')
		host = (struct sip_span){host.p + 1, host.n - 2};
	return host.n == strlen(ip) && strncasecmp(host.p, ip, host.n) == 0;
}

/* The stamp of §18.2.1 and RFC 3581, read back the way a response meets it: the forwarded
 * request turned into a response, which loses this element's Via, leaving the stamped one on top.
 */
static void check_stamp(const uint8_t *out, int n, const struct gk_sip_view *in, const char *ip,
                        const char *port)
{
	static uint8_t rsp[OUT_MAX + 32], back[OUT_MAX + 32];
	static const char status[] = "SIP/2.0 200 OK\r\n";
	const uint8_t *eol = memchr(out, '\n', (size_t)n);
	struct gk_sip_view r;

	CHECK(eol);
	size_t rest = (size_t)n - (size_t)(eol + 1 - out);
	memcpy(rsp, status, sizeof(status) - 1);
	memcpy(rsp + sizeof(status) - 1, eol + 1, rest);
	int m = gk_sip_fwd_response(rsp, sizeof(status) - 1 + rest, back, sizeof(back));
	CHECK(m > 0);
	CHECK(gk_sip_view(back, (size_t)m, &r) == 0);
	CHECK(r.n_via == in->n_via);
	CHECK(same_bytes(r.branch, in->branch));
	/* received= the source, unless sent-by named it already and no rport asked for it */
	CHECK(r.received.n ? is_text(r.received, ip) : same_host(r.via_host, ip) && !in->has_rport);
	CHECK(r.has_rport == in->has_rport);
	CHECK(!r.has_rport || is_text(r.rport, port));
}

static void check_request(const uint8_t *data, size_t size, const struct gk_sip_view *in,
                          unsigned pick)
{
	static uint8_t out[OUT_MAX];
	struct sockaddr_storage from;
	static const char *const ips[] = {"198.18.9.10", "2001:db8::99"};
	const char *ip = NULL;

	memset(&from, 0, sizeof(from));
	if (pick & 32) {
		struct sockaddr_in *a = (struct sockaddr_in *)&from;
		ip = ips[0];
		a->sin_family = AF_INET;
		a->sin_port = htons(40110);
		inet_pton(AF_INET, ip, &a->sin_addr);
	} else if (pick & 64) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&from;
		ip = ips[1];
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(40110);
		inet_pton(AF_INET6, ip, &a->sin6_addr);
	}
	struct gk_sip_fwd f = {
	    .via = proxy_via,
	    .ruri = pick & 1 ? new_ruri : NULL,
	    .record_route = pick & 2 ? proxy_rr : NULL,
	    .strip_pai = pick & 4,
	    .pai = pick & 8 ? proxy_pai : NULL,
	    .self = pick & 16 ? "198.18.0.1" : "[2001:db8::1]:5062",
	    .from = ip ? &from : NULL,
	};
	struct gk_sip_view o;

	int n = gk_sip_fwd_request(data, size, &f, out, sizeof(out));
	if ((in->has_max_forwards && !in->max_forwards) || in->n_via >= GK_SIP_VIA_MAX) {
		CHECK(n == -ELOOP);
		return;
	}
	if (f.record_route && in->n_record_route >= GK_SIP_ROUTE_MAX) {
		CHECK(n == -EMSGSIZE);
		return;
	}
	/* a stamped Via must fit the text a gatekey decoder keeps */
	if (ip && in->via.n + sizeof(";received=;rport=65535") + 46 > GK_SIP_TEXT_MAX &&
	    n == -EMSGSIZE)
		return;
	CHECK(n > 0);
	CHECK(gk_sip_view(out, (size_t)n, &o) == 0);
	same_dialog(in, &o, out, n);
	CHECK(same_bytes(o.method, in->method));
	CHECK(f.ruri ? is_text(o.ruri, f.ruri) : same_bytes(o.ruri, in->ruri));

	CHECK(o.n_via == in->n_via + 1);
	CHECK(is_text(o.via, proxy_via));
	CHECK(o.has_max_forwards);
	CHECK(o.max_forwards == (in->has_max_forwards ? in->max_forwards - 1 : 69));

	/* the Route list as it came, or without its top value and otherwise as it came */
	CHECK(o.n_route == in->n_route || o.n_route + 1 == in->n_route);
	unsigned dropped = in->n_route - o.n_route;
	for (unsigned i = 0; i < o.n_route; i++)
		CHECK(same_text(o.route[i], in->route[i + dropped]));

	CHECK(o.n_record_route == in->n_record_route + (f.record_route ? 1 : 0));
	unsigned added = f.record_route ? 1 : 0;
	if (added)
		CHECK(is_text(o.record_route[0], proxy_rr));
	for (unsigned i = added; i < o.n_record_route; i++)
		CHECK(same_text(o.record_route[i], in->record_route[i - added]));

	CHECK(o.has_pai == (f.pai || (in->has_pai && !f.strip_pai)));
	CHECK(o.has_ppi == (in->has_ppi && !f.strip_pai));
	if (ip)
		check_stamp(out, n, in, ip, "40110");

	/* the same request with one byte less of room is refused whole */
	static uint8_t small[OUT_MAX];
	CHECK(gk_sip_fwd_request(data, size, &f, small, (size_t)n - 1) == -ENOSPC);

	char branch[GK_SIP_BRANCH_LEN], again[GK_SIP_BRANCH_LEN];
	gk_sip_branch(branch, in, pick);
	gk_sip_branch(again, in, pick);
	CHECK(strlen(branch) == GK_SIP_BRANCH_LEN - 1 && memcmp(branch, "z9hG4bK", 7) == 0);
	CHECK(strcmp(branch, again) == 0);
}

static void check_response(const uint8_t *data, size_t size, const struct gk_sip_view *in)
{
	static uint8_t out[OUT_MAX], small[OUT_MAX];
	struct gk_sip_view o;

	int n = gk_sip_fwd_response(data, size, out, sizeof(out));
	if (in->n_via < 2) {
		CHECK(n == -EINVAL);
		return;
	}
	CHECK(n > 0);
	CHECK(gk_sip_view(out, (size_t)n, &o) == 0);
	same_dialog(in, &o, out, n);
	CHECK(o.n_via + 1 == in->n_via);
	CHECK(o.n_route == in->n_route && o.n_record_route == in->n_record_route);
	for (unsigned i = 0; i < o.n_record_route; i++)
		CHECK(same_text(o.record_route[i], in->record_route[i]));
	CHECK(gk_sip_fwd_response(data, size, small, (size_t)n - 1) == -ENOSPC);
}

/* The user agent's reading: the caller's dialog from a 2xx, the callee's answer to a request. */
static void check_ua(const uint8_t *data, size_t size, const struct gk_sip_view *in)
{
	static uint8_t out[OUT_MAX];
	struct gk_sip_view o;
	struct sockaddr_storage to;
	int n;

	if (!in->request) {
		static struct gk_sip_ua_dialog d;
		if (gk_sip_ua_dialog_uac(&d, in, "sip:bob@198.18.2.21") < 0)
			return;
		CHECK(in->status >= 200 && in->status < 300 && in->to_tag.n);
		CHECK(d.n_routes == in->n_record_route);
		if (gk_sip_ua_next_hop(&d, &to) == 0)
			CHECK(to.ss_family == AF_INET || to.ss_family == AF_INET6);
		struct gk_sip_ua_req q = {.method = "BYE",
		                          .cseq = 2,
		                          .via = proxy_via,
		                          .from = "<sip:alice@198.18.0.2>;tag=fz",
		                          .call_id = "fz@198.18.0.2"};
		n = gk_sip_ua_request(&d, &q, out, sizeof(out));
		if (n < 0) {
			/* only a remote target the view would refuse as a Request-URI */
			CHECK(n == -EINVAL || n == -ENOSPC);
			return;
		}
		if (gk_sip_view(out, (size_t)n, &o) < 0)
			return; /* e.g. a Contact URI that is no Request-URI: the peer's to give */
		CHECK(o.request && o.n_route == d.n_routes);
		CHECK(same_bytes(o.to_tag, in->to_tag));
		CHECK(o.n_via == 1 && o.cseq == 2 && is_text(o.cseq_method, "BYE"));
		clean_head(o.head);
		return;
	}
	struct gk_sip_ua_reply x = {.record_route = true,
	                            .contact = "sip:bob@198.18.0.3:5062",
	                            .content_type = "application/sdp",
	                            .body = (const uint8_t *)"v=0\r\n",
	                            .body_len = 5};
	n = gk_sip_ua_answer(data, size, in, 200, "OK", &x, out, sizeof(out));
	if (n <= 0)
		return; /* an ACK, or a request whose echo would carry a control character */
	CHECK(gk_sip_view(out, (size_t)n, &o) == 0);
	CHECK(!o.request && o.status == 200);
	CHECK(o.n_record_route == in->n_record_route);
	CHECK(same_bytes(o.call_id, in->call_id) && o.cseq == in->cseq);
	CHECK(is_text(o.body, "v=0\r\n"));
	clean_head(o.head);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gk_sip_view in;
	struct sockaddr_storage to;
	unsigned pick = 0;

	if (size > IN_MAX)
		return 0;
	/* which edits to ask for: from the input, so a run can be replayed */
	for (size_t i = 0; i < size; i++)
		pick = pick * 31 + data[i];
	if (gk_sip_view(data, size, &in) < 0) {
		CHECK(in.why != GK_R_OK && in.failed_at);
		struct gk_sip_fwd f = {.via = proxy_via};
		static uint8_t out[OUT_MAX];
		CHECK(gk_sip_fwd_request(data, size, &f, out, sizeof(out)) == -EINVAL);
		CHECK(gk_sip_fwd_response(data, size, out, sizeof(out)) == -EINVAL);
		return 0;
	}
	CHECK(in.n_via >= 1 && in.n_via <= GK_SIP_VIA_MAX);
	CHECK(in.n_route <= GK_SIP_ROUTE_MAX && in.n_record_route <= GK_SIP_ROUTE_MAX);
	CHECK(in.body.p + in.body.n <= (const char *)data + size);
	if (gk_sip_via_target(in.via, &to) == 0)
		CHECK(to.ss_family == AF_INET || to.ss_family == AF_INET6);
	if (in.request)
		check_request(data, size, &in, pick);
	else
		check_response(data, size, &in);
	check_ua(data, size, &in);
	return 0;
}
