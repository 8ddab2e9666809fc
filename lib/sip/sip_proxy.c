// SPDX-License-Identifier: GPL-2.0-only
/*
 * The edits a stateful proxy makes to the messages it forwards (RFC 3261 §16.6, §16.7), and the
 * branch of its own Via (sip_proxy.h). A message is read by gk_sip_view first and then copied
 * header field by header field, each one as it came but for the few a proxy must change. A new
 * value goes right before the first header field of its name (the new Via before the first Via),
 * so each name's rows stay together; one whose name is not there yet goes first, towards the top
 * where RFC 3261 §7.3.1 recommends the fields proxies process.
 *
 * Copying rather than re-encoding is the point: a proxy that rebuilt messages from what it
 * understood would lose every header field, parameter and body part it does not know. The only
 * byte changed where nothing is edited is a line end of LF alone, written as CRLF: the output is
 * always a message any SIP element reads, and never carries a bare LF to one that reads a lone
 * LF differently from the element that let it through.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "gatekey/sip/sip_proxy.h"
#include "gatekey/crypto/siphash.h"
#include "sip_priv.h"

/* Head bytes as they came, but every LF not already after a CR written as CRLF. The view refused
 * a CR without its LF, so CRLF pairs are then the only control characters written. */
static void put_head(struct sip_out *o, struct sip_span s)
{
	while (s.n) {
		const char *lf = memchr(s.p, '\n', s.n);
		size_t chunk = lf ? (size_t)(lf - s.p) : s.n;
		sip_put(o, s.p, chunk);
		if (!lf)
			return;
		bool after_cr =
		    chunk ? s.p[chunk - 1] == '\r' : !o->full && o->n && o->p[o->n - 1] == '\r';
		sip_put(o, after_cr ? "\n" : "\r\n", after_cr ? 1 : 2);
		s = (struct sip_span){lf + 1, s.n - chunk - 1};
	}
}

/* bytes from a up to (not including) b, both in one header line */
static struct sip_span between(const char *a, const char *b)
{
	return (struct sip_span){a, (size_t)(b - a)};
}

static const char *span_end(struct sip_span s)
{
	return s.p + s.n;
}

static struct sip_span span_of(const char *s)
{
	return (struct sip_span){s, strlen(s)};
}

/* A header field of the caller's: its name (with ": ") and value as given, one line. */
static void put_value(struct sip_out *o, const char *name, const char *value)
{
	sip_puts(o, name);
	sip_puts(o, value);
	sip_put(o, "\r\n", 2);
}

static void put_field(struct sip_out *o, const struct sip_field *f)
{
	put_head(o, f->line);
	sip_put(o, "\r\n", 2);
}

/* A header field without its first value (the top Via of a response, a Route naming this
 * element); nothing at all when that was its only value. */
static void put_field_but_first(struct sip_out *o, const struct sip_field *f)
{
	struct sip_span first;
	size_t pos = 0;

	/* the view read this list: its first element is there and not empty */
	if (sip_list_next(f->value, &pos, &first) <= 0 || pos >= f->value.n)
		return;
	size_t rest = pos;
	while (rest < f->value.n && sip_is_lws((unsigned char)f->value.p[rest]))
		rest++;
	put_head(o, between(f->line.p, f->value.p));
	put_head(o, between(f->value.p + rest, span_end(f->line)));
	sip_put(o, "\r\n", 2);
}

/* A header field whose first value is replaced (the received top Via, stamped); the others
 * follow as they came. */
static void put_field_first_replaced(struct sip_out *o, const struct sip_field *f,
                                     struct sip_span first_value)
{
	struct sip_span first;
	size_t pos = 0;

	if (sip_list_next(f->value, &pos, &first) <= 0)
		return;
	put_head(o, between(f->line.p, f->value.p));
	put_head(o, first_value);
	put_head(o, between(span_end(first), span_end(f->line)));
	sip_put(o, "\r\n", 2);
}

/* Where the header fields start: after the start line and its line break. */
static size_t fields_at(const uint8_t *in, const struct gk_sip_view *v)
{
	const char *e = span_end(v->start_line);
	return (size_t)(e - (const char *)in) + (*e == '\r' ? 2 : 1);
}

/* ---- does a Route name this element? --------------------------------------------------------- */

struct hostport {
	struct sip_span host; /* without brackets */
	uint16_t port;
};

/* "host[:port]" at the start of s; *end is the index just past it. */
static bool hostport_parse(struct sip_span s, uint16_t default_port, struct hostport *hp,
                           size_t *end)
{
	size_t i = 0;

	if (s.n && s.p[0] == '[') {
		const char *rb = memchr(s.p, ']', s.n);
		if (!rb || rb == s.p + 1)
			return false;
		hp->host = (struct sip_span){s.p + 1, (size_t)(rb - s.p) - 1};
		i = (size_t)(rb - s.p) + 1;
	} else {
		while (i < s.n && s.p[i] != ':' && s.p[i] != ';' && s.p[i] != '?' && s.p[i] != '>')
			i++;
		hp->host = (struct sip_span){s.p, i};
	}
	hp->port = default_port;
	if (i < s.n && s.p[i] == ':') {
		unsigned port = 0;
		size_t d = ++i;
		while (i < s.n && sip_is_digit((unsigned char)s.p[i]) && i - d < 6)
			port = port * 10 + (unsigned)(s.p[i++] - '0');
		if (i == d || !port || port > 65535)
			return false; /* six digits are over 65535 too */
		hp->port = (uint16_t)port;
	}
	*end = i;
	return hp->host.n > 0;
}

static bool same_host(struct sip_span a, struct sip_span b)
{
	char ta[INET6_ADDRSTRLEN], tb[INET6_ADDRSTRLEN];
	uint8_t xa[16], xb[16];

	/* addresses by value ("2001:db8::1" is "2001:DB8:0::1"), names by their text */
	if (a.n < sizeof(ta) && b.n < sizeof(tb)) {
		memcpy(ta, a.p, a.n);
		ta[a.n] = '\0';
		memcpy(tb, b.p, b.n);
		tb[b.n] = '\0';
		for (int af = 0; af < 2; af++) {
			int fam = af ? AF_INET6 : AF_INET;
			if (inet_pton(fam, ta, xa) == 1 && inet_pton(fam, tb, xb) == 1)
				return memcmp(xa, xb, fam == AF_INET ? 4 : 16) == 0;
		}
	}
	if (a.n != b.n)
		return false;
	for (size_t i = 0; i < a.n; i++)
		if (sip_lower((unsigned char)a.p[i]) != sip_lower((unsigned char)b.p[i]))
			return false;
	return true;
}

/* Whether the Route value names self ("host[:port]"), ports defaulting as §19.1.2 says. */
static bool names_self(struct sip_span route, const char *self)
{
	struct sip_naddr na;
	struct sip_span user, host;
	struct hostport r, s;
	size_t end;

	if (sip_naddr_parse(route, &na) != GK_R_OK ||
	    sip_uri_user_host(na.uri, &user, &host) != GK_R_OK || !host.n)
		return false; /* not a sip: or sips: URI: no element of ours */
	bool sips = na.uri.n > 5 && sip_span_ieq((struct sip_span){na.uri.p, 5}, "sips:");
	uint16_t def = sips ? 5061 : 5060;
	if (!hostport_parse(between(host.p, span_end(na.uri)), def, &r, &end))
		return false;
	if (!hostport_parse(span_of(self), def, &s, &end))
		return false;
	return r.port == s.port && same_host(r.host, s.host);
}

/* ---- what the caller asks for ---------------------------------------------------------------- */

/* A caller's value to write into a header field: one line of text, no control character, no
 * blank at either end (where a reader would trim it, and a line break could hide). */
static bool one_line(const char *s)
{
	size_t n = strlen(s);

	if (!n || sip_is_ws((unsigned char)s[0]) || sip_is_ws((unsigned char)s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(sip_ctype[(unsigned char)s[i]] & SIP_C_PLAIN))
			return false;
	return true;
}

static bool given(const char *s)
{
	return s && *s;
}

/* A single value of a list header field (nothing a comma would split). */
static bool single_value(struct sip_span s, struct sip_span *elem)
{
	size_t pos = 0;

	return sip_list_next(s, &pos, elem) > 0 && pos == SIZE_MAX && elem->n == s.n;
}

static bool fwd_ok(const struct gk_sip_fwd *f)
{
	struct sip_span e;
	struct sip_via via;
	struct sip_naddr na;

	if (!given(f->via) || !one_line(f->via) || !single_value(span_of(f->via), &e) ||
	    sip_via_parse(e, &via) != GK_R_OK || !via.branch.n)
		return false;
	if (given(f->ruri) && sip_ruri_check(span_of(f->ruri)) != GK_R_OK)
		return false;
	if (given(f->record_route) &&
	    (!one_line(f->record_route) || !single_value(span_of(f->record_route), &e) ||
	     sip_naddr_check(e, true, &na) != GK_R_OK))
		return false;
	if (given(f->pai) && (!one_line(f->pai) || !single_value(span_of(f->pai), &e) ||
	                      sip_naddr_check(e, false, &na) != GK_R_OK))
		return false;
	struct hostport self;
	size_t end;
	if (given(f->self) &&
	    (!one_line(f->self) || !hostport_parse(span_of(f->self), 5060, &self, &end) ||
	     end != strlen(f->self)))
		return false;
	return true;
}

/* ---- forwarding ------------------------------------------------------------------------------ */

static int finish(const struct sip_out *o)
{
	if (o->full)
		return -ENOSPC;
	return o->n > INT_MAX ? -EMSGSIZE : (int)o->n;
}

int gk_sip_fwd_request(const uint8_t *in, size_t len, const struct gk_sip_fwd *f, uint8_t *out,
                       size_t cap)
{
	struct gk_sip_view v;
	struct sip_field fld;
	enum gk_reason why;
	struct sip_out o = {.p = (char *)out, .cap = cap};
	char mf[8];
	int r;

	if (!f || gk_sip_view(in, len, &v) < 0 || !v.request || !fwd_ok(f))
		return -EINVAL;
	/* §16.3 step 3: a request with no hops left is answered 483, never forwarded; so is one
	 * whose Via list no element of ours could read with one more */
	if ((v.has_max_forwards && v.max_forwards == 0) || v.n_via >= GK_SIP_VIA_MAX)
		return -ELOOP;
	if (given(f->record_route) && v.n_record_route >= GK_SIP_ROUTE_MAX)
		return -EMSGSIZE;
	/* §16.4: loose routing, the top Route is this element's own and has been followed */
	bool drop_route = given(f->self) && v.n_route && names_self(v.route[0], f->self);
	/* §18.2.1: the server transport's stamp on the Via the request came with */
	char stamped[GK_SIP_TEXT_MAX];
	size_t stamped_n = 0;
	if (f->from && !(stamped_n = sip_via_stamp(v.via, f->from, stamped, sizeof(stamped))))
		return f->from->ss_family == AF_INET || f->from->ss_family == AF_INET6 ? -EMSGSIZE
		                                                                       : -EINVAL;

	if (given(f->ruri)) {
		sip_put(&o, v.start_line.p, (size_t)(v.ruri.p - v.start_line.p));
		sip_puts(&o, f->ruri);
		put_head(&o, between(span_end(v.ruri), span_end(v.start_line)));
	} else {
		put_head(&o, v.start_line);
	}
	sip_put(&o, "\r\n", 2);
	/* A new value goes right before the first header field of its name, so that each name's
	 * rows stay together and in order; one that has no such field yet goes first of all. */
	bool via_put = false, rr_put = !given(f->record_route);
	if (!rr_put && !v.n_record_route) {
		put_value(&o, "Record-Route: ", f->record_route);
		rr_put = true;
	}
	if (!v.has_max_forwards)
		sip_puts(&o, "Max-Forwards: 69\r\n"); /* §16.6 step 3: 70, decremented */
	if (given(f->pai))
		put_value(&o, "P-Asserted-Identity: ", f->pai);
	size_t pos = fields_at(in, &v);
	while ((r = sip_field_next((const char *)in, len, &pos, &fld, &why)) > 0) {
		if (fld.kind == SIP_H_VIA && !via_put) {
			put_value(&o, "Via: ", f->via);
			via_put = true;
			if (stamped_n) {
				put_field_first_replaced(&o, &fld,
				                         (struct sip_span){stamped, stamped_n});
				continue;
			}
		} else if (fld.kind == SIP_H_RECORD_ROUTE && !rr_put) {
			put_value(&o, "Record-Route: ", f->record_route);
			rr_put = true;
		}
		switch (fld.kind) {
		case SIP_H_MAX_FORWARDS:
			/* only the number changes: its spelling around it stays */
			snprintf(mf, sizeof(mf), "%u", (unsigned)v.max_forwards - 1);
			put_head(&o, between(fld.line.p, fld.value.p));
			sip_puts(&o, mf);
			put_head(&o, between(span_end(fld.value), span_end(fld.line)));
			sip_put(&o, "\r\n", 2);
			break;
		case SIP_H_ROUTE:
			if (drop_route) {
				put_field_but_first(&o, &fld);
				drop_route = false;
			} else {
				put_field(&o, &fld);
			}
			break;
		case SIP_H_PAI:
		case SIP_H_PPI:
			/* RFC 3325 §5: an identity is asserted only inside the trust domain */
			if (!f->strip_pai)
				put_field(&o, &fld);
			break;
		default:
			put_field(&o, &fld);
			break;
		}
	}
	if (r < 0)
		return -EINVAL; /* the view read these same fields: never, but not assumed */
	sip_put(&o, "\r\n", 2);
	sip_put(&o, v.body.p, v.body.n);
	return finish(&o);
}

int gk_sip_fwd_response(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	struct gk_sip_view v;
	struct sip_field fld;
	enum gk_reason why;
	struct sip_out o = {.p = (char *)out, .cap = cap};
	bool top_removed = false;
	int r;

	if (gk_sip_view(in, len, &v) < 0 || v.request || v.n_via < 2)
		return -EINVAL;
	put_head(&o, v.start_line);
	sip_put(&o, "\r\n", 2);
	size_t pos = fields_at(in, &v);
	while ((r = sip_field_next((const char *)in, len, &pos, &fld, &why)) > 0) {
		if (fld.kind == SIP_H_VIA && !top_removed) {
			/* §16.7 step 3: the top Via is this element's own */
			put_field_but_first(&o, &fld);
			top_removed = true;
		} else {
			put_field(&o, &fld);
		}
	}
	if (r < 0)
		return -EINVAL;
	sip_put(&o, "\r\n", 2);
	sip_put(&o, v.body.p, v.body.n);
	return finish(&o);
}

/* ---- this element's branch ------------------------------------------------------------------- */

static void store_le64(uint8_t *p, uint64_t x)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(x >> (8 * i));
}

void gk_sip_branch(char out[GK_SIP_BRANCH_LEN], const struct gk_sip_view *in, uint64_t salt)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t key[GK_SIPHASH_KEY_LEN], tail[8];
	const struct sip_span parts[] = {in->branch, in->via_host, in->call_id};
	uint64_t chain = 0, half[2];

	/* Each part is hashed on its own, keyed by the salt and the hash so far: no two different
	 * splits of the same bytes hash alike, and no part need be copied together with another. */
	store_le64(key, salt);
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		store_le64(key + 8, chain);
		chain = gk_siphash64(key, parts[i].p, parts[i].n);
	}
	store_le64(key + 8, chain);
	/* the numbers, then which half of the 128-bit result this is */
	tail[0] = (uint8_t)in->cseq;
	tail[1] = (uint8_t)(in->cseq >> 8);
	tail[2] = (uint8_t)(in->cseq >> 16);
	tail[3] = (uint8_t)(in->cseq >> 24);
	tail[4] = (uint8_t)in->via_port;
	tail[5] = (uint8_t)(in->via_port >> 8);
	tail[6] = 0;
	for (int h = 0; h < 2; h++) {
		tail[7] = (uint8_t)(h + 1);
		half[h] = gk_siphash64(key, tail, sizeof(tail));
	}
	memcpy(out, "z9hG4bK", 7);
	for (int i = 0; i < 32; i++) {
		uint64_t x = half[i / 16];
		out[7 + i] = hex[(x >> (60 - 4 * (i % 16))) & 0xf];
	}
	out[7 + 32] = '\0';
}

/* ---- requests a proxy makes itself ------------------------------------------------------------
 */

/* ACK or CANCEL of the INVITE inv (§17.1.1.3, §9.1): its Request-URI, top Via (this element's),
 * Route set, From, Call-ID and CSeq number; To from `to`. */
static int build_from_invite(const uint8_t *inv, size_t ilen, const char *method,
                             struct sip_span to, uint8_t *out, size_t cap)
{
	struct gk_sip_view v;
	struct sip_out o = {.p = (char *)out, .cap = cap};
	char num[16];

	if (gk_sip_view(inv, ilen, &v) < 0 || !v.request || v.method.n != 6 ||
	    memcmp(v.method.p, "INVITE", 6) != 0)
		return -EINVAL;
	if (!to.n)
		to = v.to;
	sip_puts(&o, method);
	sip_put(&o, " ", 1);
	put_head(&o, v.ruri);
	sip_puts(&o, " SIP/2.0\r\nVia: ");
	put_head(&o, v.via);
	sip_put(&o, "\r\n", 2);
	for (unsigned i = 0; i < v.n_route; i++) {
		sip_puts(&o, "Route: ");
		put_head(&o, v.route[i]);
		sip_put(&o, "\r\n", 2);
	}
	sip_puts(&o, "Max-Forwards: 70\r\nFrom: ");
	put_head(&o, v.from);
	sip_puts(&o, "\r\nTo: ");
	put_head(&o, to);
	sip_puts(&o, "\r\nCall-ID: ");
	put_head(&o, v.call_id);
	snprintf(num, sizeof(num), "%u ", v.cseq);
	sip_puts(&o, "\r\nCSeq: ");
	sip_puts(&o, num);
	sip_puts(&o, method);
	sip_puts(&o, "\r\nContent-Length: 0\r\n\r\n");
	return finish(&o);
}

int gk_sip_build_ack(const uint8_t *inv, size_t ilen, const uint8_t *rsp, size_t rlen, uint8_t *out,
                     size_t cap)
{
	struct gk_sip_view r;

	if (gk_sip_view(rsp, rlen, &r) < 0 || r.request || r.status < 300)
		return -EINVAL;
	return build_from_invite(inv, ilen, "ACK", r.to, out, cap);
}

int gk_sip_build_cancel(const uint8_t *inv, size_t ilen, uint8_t *out, size_t cap)
{
	return build_from_invite(inv, ilen, "CANCEL", (struct sip_span){NULL, 0}, out, cap);
}
