// SPDX-License-Identifier: GPL-2.0-only
/*
 * Stateless SIP refusals (RFC 3261 §8.2, §21): the answer to a request that never reached the
 * exchange because the decoder refused it (400 naming the problem, 505, 416, 420 + Unsupported,
 * 415 + Accept, 513) or because nothing here serves its method (405/501 + Allow). Built from the
 * received bytes, not from a decoded message: a request refused for a bad header still has the
 * Via, From, To, Call-ID and CSeq a UAC matches the response by (§8.2.6.2), and those are
 * copied as they came, header by header, with the top Via stamped as §18.2.1 and RFC 3581 ask.
 *
 * Nothing is answered that has no Via to answer by, that is a response or an ACK (§17.2.3), or
 * that carries control characters in what would be echoed: a refusal must never become the
 * vehicle of an injected header. Rate limiting is the caller's (front_io.c): this file only
 * translates.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gatekey/sip/sip.h"
#include "sip_priv.h"

/* What may be echoed, over and above the request's own Via, From, To, Call-ID and CSeq. */
#define REFUSE_TAGS_MAX 256 /* bytes of the Unsupported list */

struct echo {
	struct sip_span via[GK_SIP_VIA_MAX]; /* Via header fields, each as it came */
	unsigned n_via;
	bool via_over; /* more Via header fields than a response may carry: not answered */
	struct sip_span from, to, call_id, cseq;
	char unsupported[REFUSE_TAGS_MAX];
	size_t n_unsupported;
};

/* A value echoed as it came, its folding undone: one line, no control character. */
static bool put_value(struct sip_out *o, struct sip_span v)
{
	for (size_t i = 0; i < v.n; i++) {
		unsigned char c = (unsigned char)v.p[i];
		if (c == '\r' || c == '\n') {
			while (i + 1 < v.n && sip_is_lws((unsigned char)v.p[i + 1]))
				i++;
			sip_put(o, " ", 1);
			continue;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
		sip_put(o, (const char *)&c, 1);
	}
	return true;
}

static void add_unsupported(struct echo *e, struct sip_span v)
{
	struct sip_span t;
	size_t pos = 0;

	while (sip_list_next(v, &pos, &t) > 0) {
		bool token = t.n > 0;
		for (size_t i = 0; i < t.n; i++)
			token = token && sip_is_token_char((unsigned char)t.p[i]);
		if (!token || sip_option_supported(t))
			continue;
		if (e->n_unsupported + t.n + 2 >= sizeof(e->unsupported))
			return; /* the list says enough; a refusal is never cut mid-tag */
		if (e->n_unsupported) {
			memcpy(e->unsupported + e->n_unsupported, ", ", 2);
			e->n_unsupported += 2;
		}
		memcpy(e->unsupported + e->n_unsupported, t.p, t.n);
		e->n_unsupported += t.n;
	}
}

/*
 * The header fields a refusal echoes, read leniently: the request is broken somewhere, so a
 * line that cannot be read is skipped rather than ending the scan. Returns the position after
 * the request line, or 0 when this is no request to answer.
 */
static size_t scan(const char *b, size_t len, struct echo *e, struct sip_span *method)
{
	size_t pos = 0, end;

	while (pos < len && (b[pos] == '\r' || b[pos] == '\n'))
		pos++;
	/* Request-Line: Method SP ...; a response ("SIP/...") is never answered */
	size_t m = pos;
	while (m < len && sip_is_token_char((unsigned char)b[m]))
		m++;
	if (m == pos || m >= len || b[m] != ' ')
		return 0;
	/* "SIP/2.0 200 OK" stops at the '/', which is no token character: not a request */
	*method = (struct sip_span){b + pos, m - pos};
	end = pos;
	while (end < len && b[end] != '\n')
		end++;
	if (end >= len)
		return 0;
	size_t after = end + 1;
	for (pos = after; pos < len;) {
		/* one logical line: continuation lines start with SP or HT */
		size_t s = pos, e2 = pos;
		for (;;) {
			while (e2 < len && b[e2] != '\n')
				e2++;
			/* the empty line ends the head whatever follows: a body line that starts
			 * with a space continues nothing (its header fields are no request's) */
			if (e2 == s || (e2 == s + 1 && b[s] == '\r'))
				break;
			if (e2 + 1 < len && (b[e2 + 1] == ' ' || b[e2 + 1] == '\t')) {
				e2++;
				continue;
			}
			break;
		}
		size_t le = e2 > s && b[e2 - 1] == '\r' ? e2 - 1 : e2;
		pos = e2 + 1;
		if (le == s)
			break; /* the empty line: the headers end */
		size_t i = s;
		while (i < le && sip_is_token_char((unsigned char)b[i]))
			i++;
		struct sip_span name = {b + s, i - s};
		while (i < le && sip_is_lws((unsigned char)b[i]))
			i++;
		if (!name.n || i >= le || b[i] != ':')
			continue;
		struct sip_span v = sip_trim((struct sip_span){b + i + 1, le - i - 1});
		enum sip_hdr h = sip_hdr_of(name);
		if (h == SIP_H_VIA) {
			if (!v.n)
				continue;
			if (e->n_via == GK_SIP_VIA_MAX)
				e->via_over = true;
			else
				e->via[e->n_via++] = v;
		} else if (h == SIP_H_FROM && !e->from.p) {
			e->from = v;
		} else if (h == SIP_H_TO && !e->to.p) {
			e->to = v;
		} else if (h == SIP_H_CALL_ID && !e->call_id.p) {
			e->call_id = v;
		} else if (h == SIP_H_CSEQ && !e->cseq.p) {
			e->cseq = v;
		} else if (h == SIP_H_REQUIRE || h == SIP_H_PROXY_REQUIRE) {
			add_unsupported(e, v);
		}
	}
	return after;
}

size_t sip_via_stamp(struct sip_span via, const struct sockaddr_storage *from, char *out,
                     size_t cap)
{
	char ip[INET6_ADDRSTRLEN];
	uint16_t port;
	struct sip_out o = {.p = out, .cap = cap ? cap - 1 : 0};

	if (!cap || !from)
		return 0; /* no source to stamp: the Via goes back as it came */
	if (from->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)from;
		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		port = ntohs(a->sin6_port);
	} else if (from->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)from;
		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		port = ntohs(a->sin_port);
	} else {
		return 0;
	}
	/* the sent-by host as the view reads it (sip_via_parse); a Via it cannot read goes back
	 * as it came */
	struct sip_via pv;
	if (sip_via_parse(via, &pv) != GK_R_OK)
		return 0;
	struct sip_span host = pv.host;
	if (host.n >= 2 && host.p[0] == '[')
		host = (struct sip_span){host.p + 1, host.n - 2};
	bool same = host.n == strlen(ip) && strncasecmp(host.p, ip, host.n) == 0;

	/* The parameters: a bare rport gets the port it came from; received= is added (a
	 * request's own received or rport value is the previous hop's, replaced). */
	const char *semi = memchr(via.p, ';', via.n);
	size_t head = semi ? (size_t)(semi - via.p) : via.n;
	sip_put(&o, via.p, head);
	struct sip_span params = {via.p + head, via.n - head};
	struct sip_param p;
	size_t pos = 0;
	bool rport = false;
	int r;
	while ((r = sip_param_next(params, &pos, &p)) > 0) {
		if (sip_span_ieq(p.name, "rport")) {
			rport = true;
			continue;
		}
		if (sip_span_ieq(p.name, "received"))
			continue;
		sip_put(&o, p.raw.p, p.raw.n);
	}
	if (r < 0)
		return 0;
	if (!same || rport) {
		sip_puts(&o, ";received=");
		sip_puts(&o, ip);
	}
	if (rport) {
		char n[8];
		snprintf(n, sizeof(n), "%u", port);
		sip_puts(&o, ";rport=");
		sip_puts(&o, n);
	}
	if (o.full)
		return 0;
	out[o.n] = '\0';
	return o.n;
}

/* Whether a To value has a tag parameter already, however it is written (RFC 4475 §3.1.1.1 has
 * "; tag = 1918181833n"): a second one would make the answer one no UAC reads. A value that is
 * no name-addr is looked at as text. */
static bool has_tag(struct sip_span v)
{
	struct sip_naddr na;
	struct sip_param p;
	size_t pos = 0;

	if (sip_naddr_parse(v, &na) != GK_R_OK)
		return memmem(v.p, v.n, ";tag=", 5) || memmem(v.p, v.n, ";TAG=", 5);
	while (sip_param_next(na.params, &pos, &p) > 0)
		if (sip_span_ieq(p.name, "tag"))
			return true;
	return false;
}

/* Status and reason phrase for why; phrase names the problem for a 400 ("Missing Call-ID"). */
static unsigned status_of(enum gk_reason why, const struct gk_msg *failed, struct sip_span method,
                          char *phrase, size_t cap)
{
	const char *bad = failed && failed->wire.sip.bad[0] ? failed->wire.sip.bad : "Message";
	const char *problem;

	static const struct {
		enum gk_reason why;
		unsigned status;
		const char *phrase;
	} fixed[] = {
	    {GK_R_BAD_VERSION, 505, "Version Not Supported"},
	    {GK_R_BAD_SCHEME, 416, "Unsupported URI Scheme"},
	    {GK_R_BAD_EXTENSION, 420, "Bad Extension"},
	    {GK_R_BAD_MEDIA, 415, "Unsupported Media Type"},
	};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if (fixed[i].why == why) {
			snprintf(phrase, cap, "%s", fixed[i].phrase);
			return fixed[i].status;
		}
	}
	switch (why) {
	case GK_R_NOT_SERVED: {
		char m[GK_SIP_METHOD_MAX + 1];
		snprintf(m, sizeof(m), "%.*s", (int)(method.n < GK_SIP_METHOD_MAX ? method.n : 0),
		         method.p);
		bool known = sip_method_known((struct sip_span){m, strlen(m)});
		snprintf(phrase, cap, known ? "Method Not Allowed" : "Not Implemented");
		return known ? 405 : 501;
	}
	case GK_R_PARSE_TOO_LONG:
		if (failed &&
		    (failed->limit == GK_LIMIT_SIP_TEXT || failed->limit == GK_LIMIT_SIP_VIAS)) {
			snprintf(phrase, cap, "Message Too Large");
			return 513;
		}
		problem = "Too Long:";
		break;
	case GK_R_PARSE_TRUNCATED:
		if (strcmp(bad, "Content-Length") == 0) {
			snprintf(phrase, cap, "Content-Length Beyond Datagram");
			return 400;
		}
		problem = "Truncated";
		break;
	case GK_R_PARSE_MISSING:
		problem = "Missing";
		break;
	case GK_R_PARSE_DUPLICATE:
		problem = "Duplicate";
		break;
	case GK_R_PARSE_BAD_VALUE:
		problem = "Bad Value in";
		break;
	default:
		problem = "Bad";
		break;
	}
	snprintf(phrase, cap, "%s %s", problem, bad);
	return 400;
}

/* The answer with status and phrase to the request in buf, as gk_sip_refuse describes; a
 * `failed`/`why` pair decides them when status is 0. */
static int build(const uint8_t *buf, size_t len, unsigned status, const char *fixed_phrase,
                 const struct gk_msg *failed, enum gk_reason why,
                 const struct sockaddr_storage *from, uint8_t *outbuf, size_t cap)
{
	const char *b = (const char *)buf;
	struct echo e;
	struct sip_span method;
	char phrase[64], code[8], top[GK_SIP_TEXT_MAX];
	struct sip_out o = {.p = (char *)outbuf, .cap = cap};

	memset(&e, 0, sizeof(e));
	if (!scan(b, len, &e, &method) || !e.n_via || e.via_over)
		return 0;
	if (method.n == 3 && memcmp(method.p, "ACK", 3) == 0)
		return 0; /* §17.2.3: an ACK is never answered */
	if (status)
		snprintf(phrase, sizeof(phrase), "%s", fixed_phrase);
	else
		status = status_of(why, failed, method, phrase, sizeof(phrase));

	snprintf(code, sizeof(code), "%u ", status);
	sip_puts(&o, "SIP/2.0 ");
	sip_puts(&o, code);
	sip_puts(&o, phrase);
	/* The top Via value gets received/rport; one too broken to read (RFC 4475 §3.1.2.1's
	 * ";;,;,,") goes back as it came, which is all a UAC can match anyway. */
	struct sip_span first, rest = e.via[0];
	size_t vp = 0, tn = 0;
	if (sip_list_next(e.via[0], &vp, &first) > 0 && first.n &&
	    (tn = sip_via_stamp(first, from, top, sizeof(top)))) {
		/* pos is past the comma, or SIZE_MAX after the last element */
		rest = vp < e.via[0].n ? (struct sip_span){e.via[0].p + vp, e.via[0].n - vp}
		                       : (struct sip_span){e.via[0].p, 0};
		while (rest.n && (sip_is_lws((unsigned char)rest.p[0]) || rest.p[0] == ','))
			rest = (struct sip_span){rest.p + 1, rest.n - 1};
		sip_puts(&o, "\r\nVia: ");
		if (!put_value(&o, (struct sip_span){top, tn}))
			return 0;
		if (rest.n)
			sip_puts(&o, ", ");
	} else {
		sip_puts(&o, "\r\nVia: ");
	}
	if (rest.n && !put_value(&o, rest))
		return 0;
	for (unsigned i = 1; i < e.n_via; i++) {
		sip_puts(&o, "\r\nVia: ");
		if (!put_value(&o, e.via[i]))
			return 0;
	}
	const struct {
		const char *name;
		struct sip_span v;
	} copy[] = {{"From", e.from}, {"To", e.to}, {"Call-ID", e.call_id}, {"CSeq", e.cseq}};
	for (size_t i = 0; i < sizeof(copy) / sizeof(copy[0]); i++) {
		if (!copy[i].v.p)
			continue; /* missing: answered by what is there (RFC 4475 §3.3.1) */
		sip_puts(&o, "\r\n");
		sip_puts(&o, copy[i].name);
		sip_puts(&o, ": ");
		if (!put_value(&o, copy[i].v))
			return 0;
		/* §8.2.6.2: a To without a tag gets one; derived from the Call-ID, so a
		 * retransmission is refused with the same tag */
		if (i == 1 && status > 100 && !has_tag(copy[i].v)) {
			uint32_t h = 2166136261u;
			char tag[16];
			for (size_t k = 0; e.call_id.p && k < e.call_id.n; k++)
				h = (h ^ (uint8_t)e.call_id.p[k]) * 16777619u;
			snprintf(tag, sizeof(tag), ";tag=gk%08x", h);
			sip_puts(&o, tag);
		}
	}
	sip_puts(&o, "\r\n");
	switch (status) {
	case 420:
		sip_puts(&o, "Unsupported: ");
		sip_put(&o, e.unsupported, e.n_unsupported);
		sip_puts(&o, "\r\n");
		break;
	case 415:
		sip_puts(&o,
		         "Accept: \r\n"); /* no body is accepted with what this element serves */
		break;
	case 405:
	case 501:
		sip_puts(&o, "Allow: " SIP_ALLOWED_METHODS "\r\n");
		break;
	default:
		break;
	}
	sip_puts(&o, "Server: gatekey\r\nContent-Length: 0\r\n\r\n");
	return o.full ? -ENOSPC : (int)o.n;
}

int gk_sip_refuse(const uint8_t *buf, size_t len, const struct gk_msg *failed, enum gk_reason why,
                  const struct sockaddr_storage *from, uint8_t *out, size_t cap)
{
	return build(buf, len, 0, NULL, failed, why, from, out, cap);
}

int gk_sip_answer(const uint8_t *req, size_t len, unsigned status, const char *phrase,
                  const struct sockaddr_storage *from, uint8_t *out, size_t cap)
{
	if (status < 100 || status > 699 || !phrase)
		return -EINVAL;
	return build(req, len, status, phrase, NULL, GK_R_OK, from, out, cap);
}
