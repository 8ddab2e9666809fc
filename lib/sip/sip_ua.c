// SPDX-License-Identifier: GPL-2.0-only
/*
 * The user agent's half of a SIP dialog (include/gatekey/sip/sip_ua.h): the caller's dialog from
 * the 2xx to its INVITE, its first hop, the requests a UA writes and the answers a callee gives.
 * Reads with the proxy's view (sip_view.c) and the SIP pieces of sip_util.c, so that what a UA
 * sends is what gatekey's router reads; answers are gk_sip_answer's (sip_refuse.c) with the parts a
 * dialog needs added.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gatekey/sip/sip.h"
#include "gatekey/sip/sip_ua.h"
#include "sip_priv.h"

/* v written into out[0..cap) on one line (folding undone, as a line break and the whitespace
 * after it become one space), NUL-terminated. Its length, -EINVAL for a control character or an
 * empty value, -ENOSPC. */
static int put_line(char *out, size_t cap, struct sip_span v)
{
	size_t n = 0;

	if (!v.n)
		return -EINVAL;
	for (size_t i = 0; i < v.n; i++) {
		unsigned char c = (unsigned char)v.p[i];
		if (c == '\r' || c == '\n') {
			while (i + 1 < v.n && sip_is_lws((unsigned char)v.p[i + 1]))
				i++;
			c = ' ';
		} else if ((c < 0x20 && c != '\t') || c == 0x7f) {
			return -EINVAL;
		}
		if (n + 1 >= cap)
			return -ENOSPC;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return (int)n;
}

/* A string the caller gives for a header value: no control character, no line break. */
static bool plain(const char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return false;
	return true;
}

static bool given(const char *s)
{
	return s && *s;
}

int gk_sip_ua_dialog_init(struct gk_sip_ua_dialog *d, const char *aor)
{
	if (!given(aor) || !plain(aor) || strpbrk(aor, "<>"))
		return -EINVAL;
	memset(d, 0, sizeof(*d));
	if ((size_t)snprintf(d->target, sizeof(d->target), "%s", aor) >= sizeof(d->target) ||
	    (size_t)snprintf(d->to, sizeof(d->to), "<%s>", aor) >= sizeof(d->to))
		return -ENOSPC;
	return 0;
}

int gk_sip_ua_dialog_uac(struct gk_sip_ua_dialog *d, const struct gk_sip_view *rsp,
                         const char *ruri)
{
	size_t at = 0;
	int n;

	if (rsp->request || rsp->status < 200 || rsp->status >= 300 || !rsp->to_tag.n)
		return -EINVAL;
	memset(d, 0, sizeof(*d));
	/* §12.1.2: the route set is the Record-Route values, in reverse order */
	for (unsigned i = rsp->n_record_route; i-- > 0;) {
		n = put_line(d->routes + at, sizeof(d->routes) - at, rsp->record_route[i]);
		if (n < 0)
			return n;
		d->route_at[d->n_routes++] = (uint16_t)at;
		at += (size_t)n + 1;
	}
	n = put_line(d->to, sizeof(d->to), rsp->to);
	if (n < 0)
		return n;
	if (rsp->contact.n && !(rsp->contact.n == 1 && rsp->contact.p[0] == '*'))
		n = put_line(d->target, sizeof(d->target), rsp->contact);
	else if (given(ruri) && plain(ruri))
		n = (size_t)snprintf(d->target, sizeof(d->target), "%s", ruri) < sizeof(d->target)
		        ? 0
		        : -ENOSPC;
	else
		n = -EINVAL;
	return n < 0 ? n : 0;
}

int gk_sip_ua_next_hop(const struct gk_sip_ua_dialog *d, struct sockaddr_storage *to)
{
	struct sip_naddr na;
	struct sip_span user, host;

	if (!d->n_routes)
		return -ENOENT;
	const char *v = d->routes + d->route_at[0];
	if (sip_naddr_parse((struct sip_span){v, strlen(v)}, &na) != GK_R_OK ||
	    sip_uri_user_host(na.uri, &user, &host) != GK_R_OK || !host.n)
		return -EINVAL;
	/* host, then an optional :port, then the URI parameters up to the headers ('?') */
	const char *end = na.uri.p + na.uri.n, *p = host.p + host.n;
	unsigned long port = 0;
	if (p < end && *p == ':') {
		/* digits only, and no more than a port has: 99999999999999999999 must not wrap */
		for (p++; p < end && *p >= '0' && *p <= '9' && port <= 65535; p++)
			port = port * 10 + (unsigned long)(*p - '0');
		if (port == 0 || port > 65535 || (p < end && *p != ';' && *p != '?'))
			return -EINVAL;
	}
	bool sips = na.uri.n > 5 && strncasecmp(na.uri.p, "sips:", 5) == 0;
	const char *q = memchr(p, '?', (size_t)(end - p));
	struct sip_span params = {p, (size_t)((q ? q : end) - p)};
	struct sip_param prm;
	size_t pos = 0;
	bool lr = false;
	int r;
	while ((r = sip_param_next(params, &pos, &prm)) > 0)
		if (sip_span_ieq(prm.name, "lr"))
			lr = true;
	if (r < 0 || !lr)
		return -EINVAL; /* a strict router (§16.4) is not served here */
	if (!port)
		port = sips ? 5061 : 5060;
	return sip_numeric_address(host, (uint16_t)port, to) < 0 ? -EINVAL : 0;
}

int gk_sip_ua_request(const struct gk_sip_ua_dialog *d, const struct gk_sip_ua_req *q, uint8_t *out,
                      size_t cap)
{
	struct sip_out o = {.p = (char *)out, .cap = cap};
	char num[16];

	if (!given(q->method) || !given(q->via) || !given(q->from) || !given(q->call_id) ||
	    !d->target[0] || !d->to[0] || !plain(q->method) || !plain(q->via) || !plain(q->from) ||
	    !plain(q->call_id) || (given(q->contact) && !plain(q->contact)) ||
	    (given(q->pai) && !plain(q->pai)) ||
	    (given(q->content_type) && !plain(q->content_type)) || (q->body_len && !q->body) ||
	    (q->auth && !sip_dg_cred_ok(q->auth)))
		return -EINVAL;
	sip_puts(&o, q->method);
	sip_puts(&o, " ");
	sip_puts(&o, d->target);
	sip_puts(&o, " SIP/2.0\r\nVia: ");
	sip_puts(&o, q->via);
	for (unsigned i = 0; i < d->n_routes; i++) {
		sip_puts(&o, "\r\nRoute: ");
		sip_puts(&o, d->routes + d->route_at[i]);
	}
	sip_puts(&o, "\r\nMax-Forwards: 70\r\nFrom: ");
	sip_puts(&o, q->from);
	sip_puts(&o, "\r\nTo: ");
	sip_puts(&o, d->to);
	sip_puts(&o, "\r\nCall-ID: ");
	sip_puts(&o, q->call_id);
	snprintf(num, sizeof(num), "%u ", q->cseq);
	sip_puts(&o, "\r\nCSeq: ");
	sip_puts(&o, num);
	sip_puts(&o, q->method);
	if (given(q->contact)) {
		sip_puts(&o, "\r\nContact: <");
		sip_puts(&o, q->contact);
		sip_puts(&o, ">");
	}
	if (given(q->pai)) {
		sip_puts(&o, "\r\nP-Asserted-Identity: ");
		sip_puts(&o, q->pai);
	}
	if (q->has_expires) {
		snprintf(num, sizeof(num), "%u", q->expires);
		sip_puts(&o, "\r\nExpires: ");
		sip_puts(&o, num);
	}
	sip_puts(&o, "\r\n");
	if (q->auth)
		sip_put_dg_cred(&o, q->auth, q->proxy_auth); /* a whole line, CRLF included */
	if (q->body_len && given(q->content_type)) {
		sip_puts(&o, "Content-Type: ");
		sip_puts(&o, q->content_type);
		sip_puts(&o, "\r\n");
	}
	snprintf(num, sizeof(num), "%zu", q->body_len);
	sip_puts(&o, "Content-Length: ");
	sip_puts(&o, num);
	sip_puts(&o, "\r\n\r\n");
	if (q->body_len)
		sip_put(&o, (const char *)q->body, q->body_len);
	return o.full ? -ENOSPC : (int)o.n;
}

int gk_sip_ua_answer(const uint8_t *req, size_t len, const struct gk_sip_view *v, unsigned status,
                     const char *phrase, const struct gk_sip_ua_reply *x, uint8_t *out, size_t cap)
{
	static const char tail[] = "Content-Length: 0\r\n\r\n";
	const size_t tn = sizeof(tail) - 1;
	char num[24];

	if (!v->request || (given(x->contact) && !plain(x->contact)) ||
	    (given(x->allow) && !plain(x->allow)) ||
	    (given(x->content_type) && !plain(x->content_type)) || (x->body_len && !x->body))
		return -EINVAL;
	int n = gk_sip_answer(req, len, status, phrase, NULL, out, cap);
	if (n < 0)
		return n;
	if (n == 0 || (size_t)n < tn || memcmp(out + n - tn, tail, tn) != 0)
		return -EINVAL; /* nothing may be answered (gk_sip_answer's reasons) */
	struct sip_out o = {.p = (char *)out, .cap = cap, .n = (size_t)n - tn};
	char line[GK_SIP_UA_URI_MAX];
	for (unsigned i = 0; x->record_route && i < v->n_record_route; i++) {
		int w = put_line(line, sizeof(line), v->record_route[i]);
		if (w < 0)
			return w;
		sip_puts(&o, "Record-Route: ");
		sip_put(&o, line, (size_t)w);
		sip_puts(&o, "\r\n");
	}
	if (given(x->allow)) {
		sip_puts(&o, "Allow: ");
		sip_puts(&o, x->allow);
		sip_puts(&o, "\r\n");
	}
	if (given(x->contact)) {
		sip_puts(&o, "Contact: <");
		sip_puts(&o, x->contact);
		sip_puts(&o, ">\r\n");
	}
	if (x->body_len && given(x->content_type)) {
		sip_puts(&o, "Content-Type: ");
		sip_puts(&o, x->content_type);
		sip_puts(&o, "\r\n");
	}
	snprintf(num, sizeof(num), "Content-Length: %zu\r\n\r\n", x->body_len);
	sip_puts(&o, num);
	if (x->body_len)
		sip_put(&o, (const char *)x->body, x->body_len);
	return o.full ? -ENOSPC : (int)o.n;
}

/* Whether the challenge's algorithm list (one token, several joined by commas, or "" for RFC
 * 8760's SHA-256 and MD5) offers alg itself, not its -sess variant. */
static bool offers(const char *list, enum gk_digest_alg alg)
{
	if (!list[0])
		return alg == GK_DIGEST_SHA256 || alg == GK_DIGEST_MD5;
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ",");
		enum gk_digest_alg a;
		bool sess;
		if (gk_digest_alg_parse(p, n, &a, &sess) == 0 && a == alg && !sess)
			return true;
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

/* s into dst[0..cap) whole, or -EINVAL: a value cut short would answer another challenge. */
static int put_field(char *dst, size_t cap, const char *s)
{
	size_t n = strlen(s);

	if (n >= cap)
		return -EINVAL;
	memcpy(dst, s, n + 1);
	return 0;
}

int gk_sip_ua_digest_answer(const struct gk_digest *c, enum gk_digest_alg alg, const char *user,
                            const char *password, const char *method, const char *uri, uint32_t nc,
                            const char *cnonce, struct gk_digest *out)
{
	char ha1[GK_DIGEST_HEX_BUF];
	const char *name = gk_digest_alg_name(alg, false);
	bool qop = c->qop[0] != '\0'; /* the decoder keeps qop-options' "auth" alone */
	int err;

	if (!name || !user || !password || !method || !uri || (qop && (!nc || !cnonce)))
		return -EINVAL;
	if (!offers(c->algorithm, alg))
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	if (put_field(out->username, sizeof(out->username), user) < 0 ||
	    put_field(out->realm, sizeof(out->realm), c->realm) < 0 ||
	    put_field(out->nonce, sizeof(out->nonce), c->nonce) < 0 ||
	    put_field(out->uri, sizeof(out->uri), uri) < 0 ||
	    put_field(out->opaque, sizeof(out->opaque), c->opaque) < 0 ||
	    put_field(out->algorithm, sizeof(out->algorithm), name) < 0)
		return -EINVAL;
	if (qop) {
		memcpy(out->qop, "auth", 5);
		snprintf(out->nc, sizeof(out->nc), "%08x", nc);
		if (put_field(out->cnonce, sizeof(out->cnonce), cnonce) < 0)
			return -EINVAL;
	}
	err = gk_digest_ha1(alg, user, c->realm, password, ha1);
	if (!err)
		err = gk_digest_response(alg, false, ha1, out->nonce, qop ? out->nc : NULL,
		                         qop ? out->cnonce : NULL, qop ? out->qop : NULL, method,
		                         out->uri, out->response);
	gk_wipe(ha1, sizeof(ha1));
	if (err)
		return err;
	return sip_dg_cred_ok(out) ? 0 : -EINVAL;
}
