// SPDX-License-Identifier: GPL-2.0-only
/*
 * The read-only view of a SIP message that a proxy routes by (gk_sip_view, sip_proxy.h), and
 * where a response to a Via goes (gk_sip_via_target). One pass over the head; every value is a
 * span into the datagram, which sip_proxy.c then copies and edits.
 *
 * Why not gk_sip_decode: the decoder copies what the registration exchange keeps into a
 * fixed-size context and knows nothing of Route, Record-Route or asserted identities, while a
 * proxy needs to know where each value lies in the bytes it is about to copy. The view reads with
 * the decoder's pieces (sip_util.c) and is the stricter of the two where forwarding needs it: a
 * control character is refused even when escaped (the decoder keeps a stand-in, a proxy would
 * copy it), and so is any value it would otherwise have to guess at.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "gatekey/sip/sip_proxy.h"
#include "sip_priv.h"

int sip_field_next(const char *b, size_t len, size_t *pos, struct sip_field *f, enum gk_reason *why)
{
	struct sip_span line;
	size_t i = 0;

	*why = sip_line_next(b, len, pos, true, false, &line);
	if (*why != GK_R_OK)
		return -1;
	if (!line.n)
		return 0;
	/* A continuation right after the start line continues nothing a proxy may fold. */
	if (sip_is_ws((unsigned char)line.p[0])) {
		*why = GK_R_PARSE_SYNTAX;
		return -1;
	}
	while (i < line.n && sip_is_token_char((unsigned char)line.p[i]))
		i++;
	f->name = (struct sip_span){line.p, i};
	while (i < line.n && sip_is_lws((unsigned char)line.p[i]))
		i++;
	if (!f->name.n || i >= line.n || line.p[i] != ':') {
		*why = GK_R_PARSE_SYNTAX;
		return -1;
	}
	f->line = line;
	f->value = sip_trim((struct sip_span){line.p + i + 1, line.n - i - 1});
	f->kind = sip_hdr_of(f->name);
	return 1;
}

/* ---- values ---------------------------------------------------------------------------------- */

/* Decimal digits only, at most max_digits of them, value <= max. */
static bool parse_uint(struct sip_span s, size_t max_digits, uint64_t max, uint64_t *out)
{
	uint64_t x = 0;

	if (!s.n || s.n > max_digits)
		return false;
	for (size_t i = 0; i < s.n; i++) {
		if (!sip_is_digit((unsigned char)s.p[i]))
			return false;
		x = x * 10 + (uint64_t)(s.p[i] - '0');
	}
	if (x > max)
		return false;
	*out = x;
	return true;
}

static bool all_token(struct sip_span s)
{
	if (!s.n)
		return false;
	for (size_t i = 0; i < s.n; i++)
		if (!sip_is_token_char((unsigned char)s.p[i]))
			return false;
	return true;
}

static bool alnum(unsigned char c)
{
	return sip_is_digit(c) || (sip_lower(c) >= 'a' && sip_lower(c) <= 'z');
}

/* host = hostname / IPv4address / IPv6reference. Returns its length at the start of s (0 when
 * there is none). Underscores are let through: some deployments name hosts with them. */
static size_t host_len(struct sip_span s)
{
	size_t i = 0;

	if (s.n && s.p[0] == '[') {
		for (i = 1; i < s.n && s.p[i] != ']'; i++) {
			unsigned char c = (unsigned char)s.p[i];
			if (!(sip_is_digit(c) || (sip_lower(c) >= 'a' && sip_lower(c) <= 'f') ||
			      c == ':' || c == '.'))
				return 0;
		}
		return i < s.n && i > 1 ? i + 1 : 0;
	}
	while (i < s.n &&
	       (alnum((unsigned char)s.p[i]) || s.p[i] == '-' || s.p[i] == '.' || s.p[i] == '_'))
		i++;
	return i;
}

static bool is_host(struct sip_span s)
{
	return s.n && host_len(s) == s.n;
}

/* received = IPv4address / IPv6address (RFC 3261 §20.42); brackets are tolerated. */
static bool is_address(struct sip_span s)
{
	if (!s.n)
		return false;
	for (size_t i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (!(sip_is_digit(c) || (sip_lower(c) >= 'a' && sip_lower(c) <= 'f') || c == ':' ||
		      c == '.' || c == '[' || c == ']'))
			return false;
	}
	return true;
}

static size_t skip_lws(struct sip_span s, size_t i)
{
	while (i < s.n && sip_is_lws((unsigned char)s.p[i]))
		i++;
	return i;
}

enum gk_reason sip_via_parse(struct sip_span e, struct sip_via *out)
{
	size_t i = 0, t = 0;

	memset(out, 0, sizeof(*out));
	/* sent-protocol = name SLASH version SLASH transport, SLASH = SWS "/" SWS */
	for (int part = 0; part < 3; part++) {
		t = i;
		while (i < e.n && sip_is_token_char((unsigned char)e.p[i]))
			i++;
		if (i == t)
			return GK_R_PARSE_SYNTAX;
		out->transport = (struct sip_span){e.p + t, i - t};
		size_t after = i;
		i = skip_lws(e, i);
		if (part < 2) {
			if (i >= e.n || e.p[i] != '/')
				return GK_R_PARSE_SYNTAX;
			i = skip_lws(e, i + 1);
		} else if (i == after) {
			return GK_R_PARSE_SYNTAX; /* LWS before sent-by */
		}
	}
	/* sent-by = host [ COLON port ], COLON = SWS ":" SWS */
	size_t h = host_len((struct sip_span){e.p + i, e.n - i});
	if (!h)
		return GK_R_PARSE_SYNTAX;
	out->host = (struct sip_span){e.p + i, h};
	i = skip_lws(e, i + h);
	if (i < e.n && e.p[i] == ':') {
		uint64_t port;
		i = skip_lws(e, i + 1);
		size_t d = i;
		while (i < e.n && sip_is_digit((unsigned char)e.p[i]))
			i++;
		if (!parse_uint((struct sip_span){e.p + d, i - d}, 5, 65535, &port) || !port)
			return GK_R_PARSE_BAD_VALUE;
		out->port = (uint16_t)port;
	}
	/* *( SEMI via-params ): the ones a response is routed by, each at most once */
	struct sip_span params = {e.p + i, e.n - i};
	struct sip_param p;
	size_t pos = 0;
	bool seen_branch = false, seen_received = false, seen_maddr = false;
	int r;
	while ((r = sip_param_next(params, &pos, &p)) > 0) {
		if (sip_span_ieq(p.name, "branch")) {
			if (seen_branch)
				return GK_R_PARSE_DUPLICATE;
			seen_branch = true;
			if (!p.has_value || p.quoted || !all_token(p.value))
				return GK_R_PARSE_BAD_VALUE;
			out->branch = p.value;
		} else if (sip_span_ieq(p.name, "received")) {
			if (seen_received)
				return GK_R_PARSE_DUPLICATE;
			seen_received = true;
			if (!p.has_value || p.quoted || !is_address(p.value))
				return GK_R_PARSE_BAD_VALUE;
			out->received = p.value;
		} else if (sip_span_ieq(p.name, "rport")) {
			uint64_t port;
			if (out->has_rport)
				return GK_R_PARSE_DUPLICATE;
			out->has_rport = true;
			if (p.has_value &&
			    (p.quoted || !parse_uint(p.value, 5, 65535, &port) || !port))
				return GK_R_PARSE_BAD_VALUE;
			out->rport = p.has_value ? p.value : (struct sip_span){p.value.p, 0};
		} else if (sip_span_ieq(p.name, "maddr")) {
			if (seen_maddr)
				return GK_R_PARSE_DUPLICATE;
			seen_maddr = true;
			if (!p.has_value || p.quoted || !is_host(p.value))
				return GK_R_PARSE_BAD_VALUE;
			out->maddr = p.value;
		}
	}
	return r < 0 ? GK_R_PARSE_SYNTAX : GK_R_OK;
}

/* Parameters after a URI: ";name[=value]" each, nothing else. */
static bool params_ok(struct sip_span params)
{
	struct sip_param p;
	size_t pos = 0;
	int r;

	while ((r = sip_param_next(params, &pos, &p)) > 0)
		;
	return r == 0;
}

enum gk_reason sip_naddr_check(struct sip_span e, bool angle, struct sip_naddr *na)
{
	if (!e.n || sip_naddr_parse(e, na) != GK_R_OK || !params_ok(na->params))
		return GK_R_PARSE_SYNTAX;
	/* sip_naddr_parse trims, so an addr-spec starts where the value does */
	if (angle && (na->uri.p == e.p || na->uri.p[-1] != '<'))
		return GK_R_PARSE_SYNTAX;
	return GK_R_OK;
}

enum gk_reason sip_ruri_check(struct sip_span uri)
{
	size_t i = 0;

	if (!uri.n)
		return GK_R_PARSE_SYNTAX;
	for (size_t k = 0; k < uri.n; k++)
		if ((unsigned char)uri.p[k] <= 0x20 || (unsigned char)uri.p[k] >= 0x7f)
			return GK_R_PARSE_SYNTAX;
	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3261 §25.1) */
	if (!alnum((unsigned char)uri.p[0]) || sip_is_digit((unsigned char)uri.p[0]))
		return GK_R_PARSE_SYNTAX;
	while (i < uri.n && (alnum((unsigned char)uri.p[i]) || uri.p[i] == '+' || uri.p[i] == '-' ||
	                     uri.p[i] == '.'))
		i++;
	if (i >= uri.n || uri.p[i] != ':' || i + 1 >= uri.n)
		return GK_R_PARSE_SYNTAX;
	struct sip_span scheme = {uri.p, i}, user, host;
	if (!sip_span_ieq(scheme, "sip") && !sip_span_ieq(scheme, "sips"))
		return GK_R_OK;
	if (sip_uri_user_host(uri, &user, &host) != GK_R_OK)
		return GK_R_PARSE_SYNTAX;
	const char *end = uri.p + uri.n, *after = host.p + host.n;
	if (memchr(after, '?', (size_t)(end - after)))
		return GK_R_PARSE_SYNTAX;
	return GK_R_OK;
}

/* ---- the view -------------------------------------------------------------------------------- */

static int refuse(struct gk_sip_view *v, enum gk_reason why, const char *at)
{
	v->why = why;
	v->failed_at = at;
	return -1;
}

/* SIP-Version: 2.0 is read; another well-formed one is a version not supported (505 for a
 * request), anything else a syntax error. */
static enum gk_reason version_check(struct sip_span s, bool request)
{
	size_t i = 4, dot = 0;

	if (sip_span_ieq(s, "sip/2.0"))
		return GK_R_OK;
	if (s.n <= 4 || !sip_span_ieq((struct sip_span){s.p, 4}, "sip/"))
		return GK_R_PARSE_SYNTAX;
	for (; i < s.n; i++) {
		if (s.p[i] == '.' && !dot && i > 4)
			dot = i;
		else if (!sip_is_digit((unsigned char)s.p[i]))
			return GK_R_PARSE_SYNTAX;
	}
	if (!dot || dot + 1 >= s.n)
		return GK_R_PARSE_SYNTAX;
	return request ? GK_R_BAD_VERSION : GK_R_PARSE_UNSUPPORTED;
}

static int view_start_line(struct gk_sip_view *v, struct sip_span l)
{
	const char *sp1 = memchr(l.p, ' ', l.n);
	enum gk_reason why;

	if (!sp1)
		return refuse(v, GK_R_PARSE_SYNTAX, "Start-Line");
	struct sip_span a = {l.p, (size_t)(sp1 - l.p)};
	struct sip_span rest = {sp1 + 1, l.n - a.n - 1};

	if (a.n > 4 && sip_span_ieq((struct sip_span){a.p, 4}, "sip/")) {
		/* Status-Line = SIP-Version SP Status-Code SP Reason-Phrase */
		if ((why = version_check(a, false)) != GK_R_OK)
			return refuse(v, why, "Status-Line");
		if (rest.n < 3 || (rest.n > 3 && rest.p[3] != ' '))
			return refuse(v, GK_R_PARSE_SYNTAX, "Status-Line");
		uint64_t status;
		if (!parse_uint((struct sip_span){rest.p, 3}, 3, 699, &status) || status < 100)
			return refuse(v, GK_R_PARSE_BAD_VALUE, "Status-Line");
		v->status = (uint16_t)status;
		return 0;
	}
	/* Request-Line = Method SP Request-URI SP SIP-Version */
	v->request = true;
	if (!all_token(a))
		return refuse(v, GK_R_PARSE_SYNTAX, "Request-Line");
	if (a.n >= GK_SIP_METHOD_MAX)
		return refuse(v, GK_R_PARSE_TOO_LONG, "Request-Line");
	v->method = a;
	const char *sp2 = memchr(rest.p, ' ', rest.n);
	if (!sp2)
		return refuse(v, GK_R_PARSE_SYNTAX, "Request-Line");
	struct sip_span uri = {rest.p, (size_t)(sp2 - rest.p)};
	struct sip_span ver = {sp2 + 1, rest.n - uri.n - 1};
	if ((why = version_check(ver, true)) != GK_R_OK)
		return refuse(v, why, "Request-Line");
	if (sip_ruri_check(uri) != GK_R_OK)
		return refuse(v, GK_R_PARSE_SYNTAX, "Request-URI");
	v->ruri = uri;
	return 0;
}

/* Route / Record-Route: route-param *(COMMA route-param), each a name-addr. */
static enum gk_reason view_routes(struct sip_span value, struct sip_span *list, unsigned *n)
{
	struct sip_span e;
	struct sip_naddr na;
	size_t pos = 0;
	int r;

	while ((r = sip_list_next(value, &pos, &e)) > 0) {
		if (sip_naddr_check(e, true, &na) != GK_R_OK)
			return GK_R_PARSE_SYNTAX;
		if (*n >= GK_SIP_ROUTE_MAX)
			return GK_R_PARSE_TOO_LONG;
		list[(*n)++] = e;
	}
	return r < 0 ? GK_R_PARSE_SYNTAX : GK_R_OK;
}

static enum gk_reason view_vias(struct gk_sip_view *v, struct sip_span value)
{
	struct sip_span e;
	struct sip_via via;
	size_t pos = 0;
	enum gk_reason why;
	int r;

	while ((r = sip_list_next(value, &pos, &e)) > 0) {
		if (!e.n)
			return GK_R_PARSE_SYNTAX; /* an empty value is no Via to route by */
		if ((why = sip_via_parse(e, &via)) != GK_R_OK)
			return why;
		if (v->n_via >= GK_SIP_VIA_MAX)
			return GK_R_PARSE_TOO_LONG;
		if (!v->n_via++) {
			v->via = e;
			v->via_transport = via.transport;
			v->via_host = via.host;
			v->via_port = via.port;
			v->branch = via.branch;
			v->received = via.received;
			v->has_rport = via.has_rport;
			v->rport = via.rport;
		}
	}
	return r < 0 ? GK_R_PARSE_SYNTAX : GK_R_OK;
}

static enum gk_reason view_fromto(struct sip_span value, struct sip_span *tag)
{
	struct sip_naddr na;
	struct sip_param p;
	size_t pos = 0;
	bool seen = false;
	int r;

	if (sip_naddr_check(value, false, &na) != GK_R_OK)
		return GK_R_PARSE_SYNTAX;
	while ((r = sip_param_next(na.params, &pos, &p)) > 0) {
		if (!sip_span_ieq(p.name, "tag"))
			continue;
		if (seen)
			return GK_R_PARSE_DUPLICATE;
		seen = true;
		if (!p.has_value || p.quoted || !all_token(p.value))
			return GK_R_PARSE_BAD_VALUE;
		*tag = p.value;
	}
	return r < 0 ? GK_R_PARSE_SYNTAX : GK_R_OK;
}

/* CSeq = 1*DIGIT LWS Method, the number below 2**31 by RFC 3261 §8.1.1.5 but read up to 2**32-1
 * as the decoder does. */
static enum gk_reason view_cseq(struct gk_sip_view *v, struct sip_span value)
{
	size_t i = 0;
	uint64_t x;

	while (i < value.n && sip_is_digit((unsigned char)value.p[i]))
		i++;
	if (!parse_uint((struct sip_span){value.p, i}, 10, UINT32_MAX, &x))
		return GK_R_PARSE_BAD_VALUE;
	size_t m = skip_lws(value, i);
	if (m == i)
		return GK_R_PARSE_SYNTAX;
	struct sip_span method = {value.p + m, value.n - m};
	if (!all_token(method))
		return GK_R_PARSE_SYNTAX;
	if (method.n >= GK_SIP_METHOD_MAX)
		return GK_R_PARSE_TOO_LONG;
	v->cseq = (uint32_t)x;
	v->cseq_method = method;
	return GK_R_OK;
}

static enum gk_reason view_contact(struct gk_sip_view *v, struct sip_span value)
{
	struct sip_span e;
	struct sip_naddr na;
	size_t pos = 0;
	unsigned n = 0;
	int r;

	while ((r = sip_list_next(value, &pos, &e)) > 0) {
		if (e.n == 1 && e.p[0] == '*') {
			/* the wildcard stands alone (RFC 3261 §10.2.2) */
			if (n++ || v->contact.n || pos != SIZE_MAX)
				return GK_R_PARSE_SYNTAX;
			v->contact = e;
			continue;
		}
		if (sip_naddr_check(e, false, &na) != GK_R_OK)
			return GK_R_PARSE_SYNTAX;
		if (v->contact.n == 1 && v->contact.p[0] == '*')
			return GK_R_PARSE_SYNTAX;
		if (!v->contact.n)
			v->contact = na.uri;
		n++;
	}
	return r < 0 ? GK_R_PARSE_SYNTAX : GK_R_OK;
}

static bool call_id_ok(struct sip_span s)
{
	/* a word, or two joined by "@" (RFC 3261 §25.1): visible characters, no quote */
	if (!s.n)
		return false;
	for (size_t i = 0; i < s.n; i++)
		if ((unsigned char)s.p[i] <= 0x20 || (unsigned char)s.p[i] >= 0x7f)
			return false;
	return true;
}

/* One header field into the view. seen: the single-valued ones read so far. */
static int view_field(struct gk_sip_view *v, const struct sip_field *f, uint32_t *seen)
{
	enum gk_reason why = GK_R_OK;
	uint64_t x = 0;

	switch (f->kind) {
	case SIP_H_FROM:
	case SIP_H_TO:
	case SIP_H_CALL_ID:
	case SIP_H_CSEQ:
	case SIP_H_MAX_FORWARDS:
	case SIP_H_CONTENT_LENGTH:
	case SIP_H_CONTENT_TYPE:
		if (*seen & (1u << f->kind))
			return refuse(v, GK_R_PARSE_DUPLICATE, sip_hdr_name(f->kind));
		*seen |= 1u << f->kind;
		break;
	default:
		break;
	}
	switch (f->kind) {
	case SIP_H_VIA:
		why = view_vias(v, f->value);
		break;
	case SIP_H_FROM:
		v->from = f->value;
		why = view_fromto(f->value, &v->from_tag);
		break;
	case SIP_H_TO:
		v->to = f->value;
		why = view_fromto(f->value, &v->to_tag);
		break;
	case SIP_H_CALL_ID:
		if (!call_id_ok(f->value))
			why = GK_R_PARSE_SYNTAX;
		v->call_id = f->value;
		break;
	case SIP_H_CSEQ:
		why = view_cseq(v, f->value);
		break;
	case SIP_H_MAX_FORWARDS: {
		/* RFC 3261 §20.22 suggests 70; 255 is as far as the decoder reads. "0068" is 68
		 * (RFC 4475 §3.1.1.1): leading zeros are no digits of the value. */
		size_t z = 0;
		while (z + 1 < f->value.n && f->value.p[z] == '0')
			z++;
		if (!parse_uint((struct sip_span){f->value.p + z, f->value.n - z}, 3, 255, &x))
			why = GK_R_PARSE_BAD_VALUE;
		v->has_max_forwards = true;
		v->max_forwards = (uint8_t)x;
		break;
	}
	case SIP_H_CONTENT_LENGTH: {
		/* saturated: any length beyond the datagram is refused the same way */
		size_t i;
		x = 0;
		for (i = 0; i < f->value.n && sip_is_digit((unsigned char)f->value.p[i]); i++)
			x = x > (UINT64_MAX - 9) / 10 ? UINT64_MAX
			                              : x * 10 + (uint64_t)(f->value.p[i] - '0');
		if (!f->value.n || i != f->value.n)
			why = GK_R_PARSE_BAD_VALUE;
		v->has_content_length = true;
		v->content_length = x > SIZE_MAX ? SIZE_MAX : (size_t)x;
		break;
	}
	case SIP_H_CONTACT:
		why = view_contact(v, f->value);
		break;
	case SIP_H_ROUTE:
		why = view_routes(f->value, v->route, &v->n_route);
		break;
	case SIP_H_RECORD_ROUTE:
		why = view_routes(f->value, v->record_route, &v->n_record_route);
		break;
	case SIP_H_PAI: {
		size_t pos = 0;
		struct sip_span first;
		if (!v->has_pai && sip_list_next(f->value, &pos, &first) > 0)
			v->pai = first;
		v->has_pai = true;
		break;
	}
	case SIP_H_PPI:
		v->has_ppi = true;
		break;
	default:
		break;
	}
	return why == GK_R_OK ? 0 : refuse(v, why, sip_hdr_name(f->kind));
}

int gk_sip_view(const uint8_t *buf, size_t len, struct gk_sip_view *v)
{
	const char *b = (const char *)buf;
	struct sip_span line;
	struct sip_field f;
	enum gk_reason why;
	uint32_t seen = 0;
	size_t pos = 0;
	int r;

	_Static_assert(SIP_H__COUNT <= 32, "a header field's bit must fit the seen mask");
	memset(v, 0, sizeof(*v));
	/* RFC 3261 §7.5: CRLFs before the start line are no part of the message */
	while (pos < len && (b[pos] == '\r' || b[pos] == '\n'))
		pos++;
	size_t start = pos;
	if ((why = sip_line_next(b, len, &pos, false, false, &line)) != GK_R_OK)
		return refuse(v, why, "Start-Line");
	v->start_line = line;
	if (view_start_line(v, line) < 0)
		return -1;
	while ((r = sip_field_next(b, len, &pos, &f, &why)) > 0)
		if (view_field(v, &f, &seen) < 0)
			return -1;
	if (r < 0)
		return refuse(v, why, "Header");
	v->head = (struct sip_span){b + start, pos - start};
	if (v->has_content_length && v->content_length > len - pos)
		return refuse(v, GK_R_PARSE_TRUNCATED, "Content-Length");
	/* RFC 3261 §18.3: without Content-Length a datagram's body runs to its end */
	v->body = (struct sip_span){b + pos, v->has_content_length ? v->content_length : len - pos};

	if (!v->n_via)
		return refuse(v, GK_R_PARSE_MISSING, "Via");
	static const enum sip_hdr needed[] = {SIP_H_FROM, SIP_H_TO, SIP_H_CALL_ID, SIP_H_CSEQ};
	for (size_t k = 0; k < sizeof(needed) / sizeof(needed[0]); k++)
		if (!(seen & (1u << needed[k])))
			return refuse(v, GK_R_PARSE_MISSING, sip_hdr_name(needed[k]));
	/* RFC 3261 §8.1.1.5: a request's CSeq names its own method (methods are case-sensitive) */
	if (v->request &&
	    (v->cseq_method.n != v->method.n || memcmp(v->cseq_method.p, v->method.p, v->method.n)))
		return refuse(v, GK_R_PARSE_BAD_VALUE, "CSeq");
	v->why = GK_R_OK;
	return 0;
}

/* ---- where a response goes ------------------------------------------------------------------- */

/* Not 0.0.0.0, 255.255.255.255 or 224.0.0.0/4: an address a response may go to. */
static bool one_host_v4(uint32_t a)
{
	return a != 0 && a != UINT32_MAX && (a >> 28) != 0xe;
}

int sip_numeric_address(struct sip_span host, uint16_t port, struct sockaddr_storage *to)
{
	char text[INET6_ADDRSTRLEN];

	if (host.n >= 2 && host.p[0] == '[' && host.p[host.n - 1] == ']')
		host = (struct sip_span){host.p + 1, host.n - 2};
	if (!host.n || host.n >= sizeof(text) || !port)
		return -1;
	memcpy(text, host.p, host.n);
	text[host.n] = '\0';
	memset(to, 0, sizeof(*to));
	struct sockaddr_in *a4 = (struct sockaddr_in *)to;
	if (inet_pton(AF_INET, text, &a4->sin_addr) == 1) {
		if (!one_host_v4(ntohl(a4->sin_addr.s_addr)))
			goto not_one_host;
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		return 0;
	}
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)to;
	if (inet_pton(AF_INET6, text, &a6->sin6_addr) == 1) {
		const struct in6_addr *x = &a6->sin6_addr;
		uint32_t mapped;
		memcpy(&mapped, x->s6_addr + 12, 4);
		if (IN6_IS_ADDR_UNSPECIFIED(x) || IN6_IS_ADDR_MULTICAST(x) ||
		    (IN6_IS_ADDR_V4MAPPED(x) && !one_host_v4(ntohl(mapped))))
			goto not_one_host;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		return 0;
	}
	/* a name: resolving it (RFC 3263) is not this layer's */
not_one_host:
	memset(to, 0, sizeof(*to));
	return -1;
}

int gk_sip_via_target(struct sip_span top_via, struct sockaddr_storage *to)
{
	struct sip_span first;
	struct sip_via via;
	size_t pos = 0;
	uint64_t rport = 0;

	if (!top_via.p || sip_list_next(top_via, &pos, &first) <= 0 ||
	    sip_via_parse(first, &via) != GK_R_OK)
		return -1;
	/* RFC 3261 §18.2.2: the sent-by port, else the transport's default (§19.1.2) */
	uint16_t port = via.port ? via.port : sip_span_ieq(via.transport, "tls") ? 5061 : 5060;
	if (via.maddr.n)
		return sip_numeric_address(via.maddr, port, to);
	/* RFC 3581 §4: the port the request came from, when the previous hop stamped it */
	if (via.rport.n && parse_uint(via.rport, 5, 65535, &rport))
		port = (uint16_t)rport;
	return sip_numeric_address(via.received.n ? via.received : via.host, port, to);
}

enum gk_reason gk_sip_uri_user_host(struct sip_span uri, struct sip_span *user,
                                    struct sip_span *host)
{
	return sip_uri_user_host(uri, user, host);
}

enum gk_reason gk_sip_naddr_uri(struct sip_span value, struct sip_span *uri)
{
	struct sip_naddr na;
	enum gk_reason r = sip_naddr_parse(value, &na);

	*uri = r == GK_R_OK ? na.uri : (struct sip_span){0};
	return r;
}
