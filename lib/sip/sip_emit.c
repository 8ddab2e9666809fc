// SPDX-License-Identifier: GPL-2.0-only
/*
 * struct gk_msg -> SIP datagram. Emits only what gk_sip_decode() reads back to the same
 * message: a gk_msg that the wire cannot express (a REGISTER with Expires 0, an ANSWER without
 * AUTH, a SUCCESS without MAC, ...) is refused with -EINVAL rather than sent as something else.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gatekey/sip/sip.h"
#include "sip_priv.h"

/* A value of the context (msg.h): the encoder reads only contexts ctx_ok() accepted. */
#define CTX(s, k) gk_sip_get(s, GK_SIP_##k)

static void putu(struct sip_out *o, uint64_t v)
{
	char b[24];
	size_t i = sizeof(b);

	do {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	sip_put(o, b + i, sizeof(b) - i);
}

static void puthex(struct sip_out *o, const uint8_t *v, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char b[2 * GK_BLOB_LEN];

	for (size_t i = 0; i < n; i++) {
		b[2 * i] = digits[v[i] >> 4];
		b[2 * i + 1] = digits[v[i] & 15];
	}
	sip_put(o, b, 2 * n);
}

static void putq(struct sip_out *o, uint16_t q)
{
	char b[8];
	sip_put(o, b, sip_q_format(q, b));
}

/* name="hex", the separator first unless it opens the list. */
static void put_hexparam(struct sip_out *o, bool *first, const char *name, const uint8_t *v,
                         size_t n)
{
	sip_puts(o, *first ? "" : ", ");
	*first = false;
	sip_puts(o, name);
	sip_puts(o, "=\"");
	puthex(o, v, n);
	sip_puts(o, "\"");
}

static void put_numparam(struct sip_out *o, bool *first, const char *name, uint64_t v)
{
	sip_puts(o, *first ? "" : ", ");
	*first = false;
	sip_puts(o, name);
	sip_puts(o, "=\"");
	putu(o, v);
	sip_puts(o, "\"");
}

/* ---- checks on what is echoed ---------------------------------------------------------------- */

/* Every offset inside the text in use, and every value ended by a NUL there: a context built by
 * hand (or damaged) is refused rather than read beyond its text. */
static bool ctx_ok(const struct gk_sip_ctx *s)
{
	size_t end = s->used ? s->used : 1;

	if (end > sizeof(s->text) || s->text[0] != '\0' || s->n_via > GK_SIP_VIA_MAX || s->altered)
		return false;
	for (unsigned k = 0; k < (unsigned)GK_SIP__STRS + s->n_via; k++) {
		size_t off = k < GK_SIP__STRS ? s->str[k] : s->via[k - GK_SIP__STRS];
		if (off >= end || !memchr(s->text + off, '\0', end - off))
			return false;
	}
	return true;
}

/* Whether s is terminated inside its cap bytes and all PLAIN before that (tab, space,
 * printable ASCII and UTF-8: one line, no control character); its length in *n. One scan. */
static bool plain_text(const char *s, size_t cap, size_t *n)
{
	size_t i = 0;

	while (i < cap && (sip_ctype[(unsigned char)s[i]] & SIP_C_PLAIN))
		i++;
	*n = i;
	return i < cap && s[i] == '\0';
}

/* A context string echoed verbatim: terminated inside its array, one line, no edge blanks. */
static bool line_ok(const char *s, size_t cap)
{
	size_t n;

	if (!plain_text(s, cap, &n))
		return false;
	return !n || (!sip_is_ws((unsigned char)s[0]) && !sip_is_ws((unsigned char)s[n - 1]));
}

static bool id_ok(const char *s, bool need)
{
	size_t n = strnlen(s, GK_ID_MAX + 1);

	if (n > GK_ID_MAX || (need && !n))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!sip_id_char((unsigned char)s[i]))
			return false;
	return true;
}

/* A value quoted without escapes (the address of the core leg): like an ID, up to cap - 1. */
static bool text_ok(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (!n || n == cap)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!sip_id_char((unsigned char)s[i]))
			return false;
	return true;
}

static bool token_ok(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (!n || n == cap)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!sip_is_token_char((unsigned char)s[i]))
			return false;
	return true;
}

/* Characters that keep <sip:IDc@IDsp> a plain URI whose user and host read back unchanged. */
static bool uri_user_ok(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || sip_is_digit(c) ||
		      strchr("-_.!~*()&=+$/%", c)))
			return false;
	}
	return true;
}

static bool uri_host_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || sip_is_digit(c) ||
		      strchr("-.[]:", c)))
			return false;
	}
	return true;
}

/* One Via value: the decoder splits on commas outside quotes, so there must be none. */
static bool via_ok(const char *v, size_t cap)
{
	struct sip_span e;
	size_t pos = 0;

	if (!line_ok(v, cap) || !v[0])
		return false;
	struct sip_span s = {v, strlen(v)};
	return sip_list_next(s, &pos, &e) == 1 && e.n == s.n;
}

/* From, To and the R-URI must read back: the decoder refuses what it cannot take apart. */
static bool parses_back(const struct gk_sip_ctx *s)
{
	struct sip_naddr na;
	struct sip_span user, host;

	if (sip_naddr_parse((struct sip_span){CTX(s, FROM), strlen(CTX(s, FROM))}, &na) != GK_R_OK)
		return false;
	if (CTX(s, TO)[0] &&
	    (sip_naddr_parse((struct sip_span){CTX(s, TO), strlen(CTX(s, TO))}, &na) != GK_R_OK ||
	     sip_uri_user_host(na.uri, &user, &host) != GK_R_OK))
		return false;
	return !CTX(s, RURI)[0] ||
	       sip_uri_user_host((struct sip_span){CTX(s, RURI), strlen(CTX(s, RURI))}, &user,
	                         &host) == GK_R_OK;
}

static bool mechs_ok(const struct gk_msg *m)
{
	if (m->n_mechs > GK_MECH_MAX)
		return false;
	for (unsigned i = 0; i < m->n_mechs; i++)
		if (m->mechs[i].mech < GK_MECH_GKMAC || m->mechs[i].mech > GK_MECH_DIGEST ||
		    m->mechs[i].q > 1000)
			return false;
	return true;
}

/* Digest text sent as a quoted-string: terminated in its array, no control characters but HT
 * ('"' and '\\' are escaped). */
static bool dg_text_ok(const char *s, size_t cap)
{
	size_t n;

	return plain_text(s, cap, &n);
}

static bool dg_hex_ok(const char *s, size_t cap, size_t n1, size_t n2)
{
	size_t n = strnlen(s, cap);

	if (n == cap || (n != n1 && n != n2))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdefABCDEF", s[i]))
			return false;
	return true;
}

bool sip_dg_cred_ok(const struct gk_digest *g)
{
	if (!dg_text_ok(g->username, sizeof(g->username)) ||
	    !dg_text_ok(g->realm, sizeof(g->realm)) || !dg_text_ok(g->nonce, sizeof(g->nonce)) ||
	    !dg_text_ok(g->uri, sizeof(g->uri)) || !dg_text_ok(g->opaque, sizeof(g->opaque)) ||
	    !dg_hex_ok(g->response, sizeof(g->response), 32, 64))
		return false;
	if (g->algorithm[0] && !token_ok(g->algorithm, sizeof(g->algorithm)))
		return false;
	if (!g->qop[0]) /* cnonce and nc go with qop only */
		return !g->cnonce[0] && !g->nc[0];
	return token_ok(g->qop, sizeof(g->qop)) && dg_text_ok(g->cnonce, sizeof(g->cnonce)) &&
	       dg_hex_ok(g->nc, sizeof(g->nc), 8, 8);
}

/* A challenge's algorithm is a comma-separated list of tokens, one challenge each. */
static bool alg_list_ok(const char *s, size_t cap)
{
	char buf[sizeof(((struct gk_digest *)0)->algorithm)];
	size_t n = strnlen(s, cap);

	if (n == cap || n >= sizeof(buf) || s[0] == ',' || (n && s[n - 1] == ','))
		return false;
	memcpy(buf, s, n + 1);
	for (char *p = buf, *e; p; p = e ? e + 1 : NULL) {
		e = strchr(p, ',');
		if (e)
			*e = '\0';
		if (!token_ok(p, sizeof(buf)))
			return false;
	}
	return true;
}

static bool dg_chal_ok(const struct gk_digest *g)
{
	return dg_text_ok(g->realm, sizeof(g->realm)) && dg_text_ok(g->nonce, sizeof(g->nonce)) &&
	       dg_text_ok(g->opaque, sizeof(g->opaque)) &&
	       (!g->algorithm[0] || alg_list_ok(g->algorithm, sizeof(g->algorithm))) &&
	       (!g->qop[0] || strcmp(g->qop, "auth") == 0);
}

/* ---- header builders ------------------------------------------------------------------------- */

/* What an ipsec-3gpp entry says of its end (TS 33.203 Annex H). */
static void put_ipsec_end(struct sip_out *o, const struct gk_ipsec_end *e)
{
	char t[GK_IPSEC_END_TEXT];

	sip_put(o, t, gk_ipsec_end_format(e, t));
}

static void put_mechs(struct sip_out *o, const struct gk_msg *m)
{
	bool ipsec_said = false;

	for (unsigned i = 0; i < m->n_mechs; i++) {
		sip_puts(o, i ? ", " : "");
		sip_puts(o, gk_mech_name((enum gk_mech)m->mechs[i].mech));
		sip_puts(o, ";q=");
		putq(o, m->mechs[i].q);
		/* the terminal's end, after the first ipsec-3gpp entry (the decoder's) */
		if (m->mechs[i].mech == GK_MECH_IPSEC && (m->fields & GK_F_IPSEC_TERM) &&
		    !ipsec_said) {
			put_ipsec_end(o, &m->ipsec_term);
			ipsec_said = true;
		}
	}
}

/* , name="text" with '"' and '\\' escaped; no separator when name starts the list. */
static void put_dgq(struct sip_out *o, const char *name, const char *v)
{
	sip_puts(o, name);
	sip_puts(o, "=\"");
	for (const char *p = v; *p; p++) {
		if (*p == '"' || *p == '\\')
			sip_puts(o, "\\");
		sip_put(o, p, 1);
	}
	sip_puts(o, "\"");
}

/* Authorization: Digest (RFC 7616 §3.4; the quoted and token parameters as it has them). */
void sip_put_dg_cred(struct sip_out *o, const struct gk_digest *g, bool proxy)
{
	sip_puts(o, proxy ? "Proxy-Authorization: Digest " : "Authorization: Digest ");
	put_dgq(o, "username", g->username);
	put_dgq(o, ", realm", g->realm);
	put_dgq(o, ", nonce", g->nonce);
	put_dgq(o, ", uri", g->uri);
	put_dgq(o, ", response", g->response);
	if (g->algorithm[0]) {
		sip_puts(o, ", algorithm=");
		sip_puts(o, g->algorithm);
	}
	if (g->qop[0]) {
		sip_puts(o, ", qop=");
		sip_puts(o, g->qop);
		sip_puts(o, ", nc=");
		sip_puts(o, g->nc);
		put_dgq(o, ", cnonce", g->cnonce);
	}
	if (g->opaque[0])
		put_dgq(o, ", opaque", g->opaque);
	sip_puts(o, "\r\n");
}

static void put_dg_chal1(struct sip_out *o, const struct gk_digest *g, const char *alg)
{
	sip_puts(o, "WWW-Authenticate: Digest ");
	put_dgq(o, "realm", g->realm);
	put_dgq(o, ", nonce", g->nonce);
	sip_puts(o, ", algorithm=");
	sip_puts(o, alg);
	if (g->qop[0])
		sip_puts(o, ", qop=\"auth\"");
	if (g->opaque[0])
		put_dgq(o, ", opaque", g->opaque);
	if (g->stale)
		sip_puts(o, ", stale=true");
	sip_puts(o, "\r\n");
}

/* One challenge per listed algorithm, in order; without an algorithm the challenge offers
 * both, SHA-256 first (RFC 8760 §3). */
static void put_dg_chal(struct sip_out *o, const struct gk_digest *g)
{
	char list[sizeof(g->algorithm)];

	snprintf(list, sizeof(list), "%s", g->algorithm[0] ? g->algorithm : "SHA-256,MD5");
	for (char *p = list, *e; p; p = e ? e + 1 : NULL) {
		e = strchr(p, ',');
		if (e)
			*e = '\0';
		put_dg_chal1(o, g, p);
	}
}

/*
 * Contact list, each entry without its expires parameter (the Expires header field carries the
 * value, so the two cannot disagree) and, when add is set, with ";expires=<value>" appended.
 */
static int put_contact(struct sip_out *o, const char *c, bool add, uint32_t value)
{
	struct sip_span list = {c, strlen(c)}, e;
	size_t pos = 0;
	bool first = true;
	int r;

	if (list.n == 1 && c[0] == '*') {
		sip_puts(o, "*");
		return 0;
	}
	while ((r = sip_list_next(list, &pos, &e)) > 0) {
		struct sip_naddr na;
		struct sip_param p;
		size_t ppos = 0;
		int pr;

		if (sip_naddr_parse(e, &na) != GK_R_OK)
			return -EINVAL;
		size_t hn = (size_t)(na.params.p - e.p);
		struct sip_span head = sip_trim((struct sip_span){e.p, hn});
		sip_puts(o, first ? "" : ", ");
		first = false;
		sip_put(o, head.p, head.n);
		while ((pr = sip_param_next(na.params, &ppos, &p)) > 0)
			if (!sip_span_ieq(p.name, "expires"))
				sip_put(o, p.raw.p, p.raw.n);
		if (pr < 0)
			return -EINVAL;
		if (add) {
			sip_puts(o, ";expires=");
			putu(o, value);
		}
	}
	return r < 0 || first ? -EINVAL : 0;
}

/* Does this From/To already carry a tag parameter? -1 when it is not a name-addr at all. */
static int has_tag(const char *v)
{
	struct sip_naddr na;
	struct sip_param p;
	size_t pos = 0;
	int r;

	if (sip_naddr_parse((struct sip_span){v, strlen(v)}, &na) != GK_R_OK)
		return -1;
	while ((r = sip_param_next(na.params, &pos, &p)) > 0)
		if (sip_span_ieq(p.name, "tag"))
			return 1;
	return r < 0 ? -1 : 0;
}

static void put_to(struct sip_out *o, const struct gk_msg *m, const char *to)
{
	sip_puts(o, "To: ");
	if (to[0]) {
		sip_puts(o, to);
		return;
	}
	sip_puts(o, "<sip:");
	if (m->idc[0]) {
		sip_puts(o, m->idc);
		sip_puts(o, "@");
	}
	sip_puts(o, m->idsp);
	sip_puts(o, ">");
}

static void put_common(struct sip_out *o, const struct gk_msg *m, const char *method)
{
	const struct gk_sip_ctx *s = &m->wire.sip;

	sip_puts(o, "Call-ID: ");
	sip_puts(o, CTX(s, CALL_ID));
	sip_puts(o, "\r\nCSeq: ");
	putu(o, s->cseq);
	sip_puts(o, " ");
	sip_puts(o, method);
	sip_puts(o, "\r\n");
}

static void put_vias(struct sip_out *o, const struct gk_sip_ctx *s)
{
	for (unsigned i = 0; i < s->n_via; i++) {
		sip_puts(o, "Via: ");
		sip_puts(o, gk_sip_via(s, i));
		sip_puts(o, "\r\n");
	}
}

/* Is idc the user part of the To URI? (parses_back() has checked the syntax) */
static bool to_names(const char *to, const char *idc)
{
	struct sip_naddr na;
	struct sip_span user, host;

	if (sip_naddr_parse((struct sip_span){to, strlen(to)}, &na) != GK_R_OK ||
	    sip_uri_user_host(na.uri, &user, &host) != GK_R_OK)
		return false;
	return user.n == strlen(idc) && memcmp(user.p, idc, user.n) == 0;
}

/* Is idsp the host of the To URI? */
static bool to_host_is(const char *to, const char *idsp)
{
	struct sip_naddr na;
	struct sip_span user, host;

	if (sip_naddr_parse((struct sip_span){to, strlen(to)}, &na) != GK_R_OK ||
	    sip_uri_user_host(na.uri, &user, &host) != GK_R_OK)
		return false;
	return host.n == strlen(idsp) && memcmp(host.p, idsp, host.n) == 0;
}

static bool is_register(const char *method)
{
	return strcmp(method, "REGISTER") == 0;
}

static int encode_request(struct sip_out *o, const struct gk_msg *m)
{
	const struct gk_sip_ctx *s = &m->wire.sip;
	const uint32_t gk = GK_F_N1 | GK_F_N2 | GK_F_TS | GK_F_RAND | GK_F_AUTH | GK_F_ADDR;
	bool reg = m->type != GK_MSG_OTHER;
	const char *method = reg ? "REGISTER" : s->method;
	bool star = strcmp(CTX(s, CONTACT), "*") == 0;

	if (reg) {
		if (s->method[0] && !is_register(s->method))
			return -EINVAL;
		if (!id_ok(m->idc, true) || !id_ok(m->idsp, true))
			return -EINVAL;
		/* Each of these would read back as another message type. */
		if (m->type == GK_MSG_DEREGISTER) {
			if ((m->fields & GK_F_EXPIRES) && m->expires)
				return -EINVAL;
		} else if (star || ((m->fields & GK_F_EXPIRES) && !m->expires) ||
		           (m->type == GK_MSG_REGISTER) == !!(m->fields & GK_F_AUTH)) {
			return -EINVAL;
		}
	} else if (!token_ok(s->method, sizeof(s->method)) || is_register(s->method)) {
		return -EINVAL;
	}
	/* Credentials name IDc and IDsp authoritatively; an OTHER that has both carries them
	 * even without gk1 values, or they would read back from To and R-URI instead. */
	bool auth = reg || (m->fields & gk) || (m->idc[0] && m->idsp[0]);
	if (auth && !(id_ok(m->idc, true) && id_ok(m->idsp, true)))
		return -EINVAL;
	if ((m->fields & GK_F_MECHS) && (!m->n_mechs || !mechs_ok(m)))
		return -EINVAL;
	if ((m->fields & GK_F_ADDR) && !text_ok(m->address, sizeof(m->address)))
		return -EINVAL;
	if (!CTX(s, RURI)[0] && !uri_host_ok(m->idsp))
		return -EINVAL;
	if ((m->fields & GK_F_DIGEST_CHAL) ||
	    ((m->fields & GK_F_DIGEST) && !sip_dg_cred_ok(&m->digest)))
		return -EINVAL;
	/* The decoder refuses a REGISTER that authenticates one IDc for another's AOR. */
	if (reg && CTX(s, TO)[0] && !to_names(CTX(s, TO), m->idc))
		return -EINVAL;

	sip_puts(o, method);
	sip_puts(o, " ");
	if (CTX(s, RURI)[0]) {
		sip_puts(o, CTX(s, RURI));
	} else {
		sip_puts(o, "sip:");
		sip_puts(o, m->idsp);
	}
	sip_puts(o, " SIP/2.0\r\n");
	put_vias(o, s);
	sip_puts(o, "Max-Forwards: 70\r\nFrom: ");
	sip_puts(o, CTX(s, FROM));
	sip_puts(o, "\r\n");
	put_to(o, m, CTX(s, TO));
	sip_puts(o, "\r\n");
	put_common(o, m, method);
	if (CTX(s, CONTACT)[0]) {
		sip_puts(o, "Contact: ");
		if (put_contact(o, CTX(s, CONTACT), false, 0) < 0)
			return -EINVAL;
		sip_puts(o, "\r\n");
	}
	if (m->type == GK_MSG_DEREGISTER) {
		sip_puts(o, "Expires: 0\r\n");
	} else if (reg && (m->fields & GK_F_EXPIRES)) {
		sip_puts(o, "Expires: ");
		putu(o, m->expires);
		sip_puts(o, "\r\n");
	}
	if (auth) {
		bool first = false;
		sip_puts(o, "Authorization: GK1 username=\"");
		sip_puts(o, m->idc);
		sip_puts(o, "\", realm=\"");
		sip_puts(o, m->idsp);
		sip_puts(o, "\"");
		if (m->fields & GK_F_RAND)
			put_hexparam(o, &first, "nonce", m->rand, GK_RAND_LEN);
		if (m->fields & GK_F_N1)
			put_hexparam(o, &first, "n1", m->n1, GK_NONCE_LEN);
		if (m->fields & GK_F_N2)
			put_hexparam(o, &first, "n2", m->n2, GK_NONCE_LEN);
		if (m->fields & GK_F_TS)
			put_numparam(o, &first, "ts", m->ts);
		if (m->fields & GK_F_AUTH)
			put_hexparam(o, &first, "response", m->auth, GK_AUTH_LEN);
		if (m->fields & GK_F_ADDR) {
			sip_puts(o, ", address=\"");
			sip_puts(o, m->address);
			sip_puts(o, "\"");
		}
		if (reg && (m->fields & GK_F_SEALED))
			sip_puts(o, ", sealed=\"gk-mac\"");
		sip_puts(o, "\r\n");
	}
	if (m->fields & GK_F_DIGEST)
		sip_put_dg_cred(o, &m->digest, false);
	if (m->fields & GK_F_MECHS) {
		/* RFC 3329 §2.3.1: the client lists its mechanisms and insists on sec-agree. */
		sip_puts(o, "Security-Client: ");
		put_mechs(o, m);
		sip_puts(o, "\r\nRequire: sec-agree\r\nProxy-Require: sec-agree\r\n");
	}
	if (m->fields & GK_F_SEC_VERIFY) {
		/* RFC 3329 §2.3.1: under the SAs, the element's end as its Security-Server said */
		sip_puts(o, "Security-Verify: ipsec-3gpp");
		put_ipsec_end(o, &m->ipsec_net);
		sip_puts(o, "\r\n");
	}
	sip_puts(o, "User-Agent: gatekey\r\nContent-Length: 0\r\n\r\n");
	return 0;
}

static int encode_response(struct sip_out *o, const struct gk_msg *m)
{
	const struct gk_sip_ctx *s = &m->wire.sip;
	const uint32_t info = GK_F_N1 | GK_F_N2 | GK_F_TS | GK_F_BLOB | GK_F_MECHS | GK_F_INDEX |
	                      GK_F_RAND | GK_F_BLOB_ELEM;
	const uint32_t key = GK_F_MAC | GK_F_BLOB | GK_F_BLOB_ELEM;
	const char *method = s->method[0] ? s->method : "REGISTER";
	const char *status;

	const uint32_t gkchal = GK_F_N1 | GK_F_N2 | GK_F_TS | GK_F_RAND | GK_F_WANT_MECHS;
	bool gk1 = true;
	char prov[32];

	if (s->method[0] && !token_ok(s->method, sizeof(s->method)))
		return -EINVAL;
	if ((m->fields & GK_F_DIGEST) ||
	    ((m->fields & GK_F_DIGEST_CHAL) && m->type != GK_MSG_CHALLENGE))
		return -EINVAL;
	switch (m->type) {
	case GK_MSG_CHALLENGE:
		if (!id_ok(m->idsp, true))
			return -EINVAL;
		if (m->fields & GK_F_DIGEST_CHAL) {
			if (!dg_chal_ok(&m->digest))
				return -EINVAL;
			/* Digest alone (for SIP phones) when the To URI names IDsp as the
			 * decoder reads it back; else GK1 carries IDsp in its realm. */
			gk1 = (m->fields & gkchal) ||
			      (CTX(s, TO)[0] && !to_host_is(CTX(s, TO), m->idsp));
		}
		status = "401 Unauthorized";
		break;
	case GK_MSG_SUCCESS:
		/* a key or the MAC; a lone rspauth would read back as a Digest one. A Digest
		 * registration has neither: its binding's mechanism and lifetime say success. */
		if ((m->fields & GK_F_CHOSEN) && m->chosen == GK_MECH_DIGEST &&
		    !(m->fields & (key | info))) {
			if ((m->fields & GK_F_EXPIRES) && !m->expires)
				return -EINVAL;
		} else if (!(m->fields & key) || !(m->fields & info)) {
			return -EINVAL;
		}
		/* fall through */
	case GK_MSG_DEREG_OK:
		if (!is_register(method) || (m->type == GK_MSG_DEREG_OK && (m->fields & key)))
			return -EINVAL;
		if ((m->fields & GK_F_MECHS) && !mechs_ok(m))
			return -EINVAL;
		if ((m->fields & GK_F_CHOSEN) &&
		    (m->chosen < GK_MECH_GKMAC || m->chosen > GK_MECH_DIGEST))
			return -EINVAL;
		status = "200 OK";
		break;
	case GK_MSG_OTHER_OK:
		if (!s->method[0] || is_register(method))
			return -EINVAL;
		status = "200 OK";
		break;
	case GK_MSG_PROVISIONAL:
		if (s->status < 100 || s->status > 199)
			return -EINVAL;
		snprintf(prov, sizeof(prov), "%u %s", s->status,
		         s->status == 100   ? "Trying"
		         : s->status == 180 ? "Ringing"
		         : s->status == 183 ? "Session Progress"
		                            : "Provisional");
		status = prov;
		break;
	case GK_MSG_REJECT:
		if (m->reason == GK_R_NOT_SERVED)
			status = sip_method_known((struct sip_span){method, strlen(method)})
			             ? "405 Method Not Allowed"
			             : "501 Not Implemented";
		else if (m->reason == GK_R_OVERLOAD)
			status = "503 Service Unavailable"; /* RFC 3261 §21.5.4 */
		else
			status = "403 Forbidden";
		break;
	default:
		return -EINVAL;
	}

	sip_puts(o, "SIP/2.0 ");
	sip_puts(o, status);
	sip_puts(o, "\r\n");
	put_vias(o, s);
	sip_puts(o, "From: ");
	sip_puts(o, CTX(s, FROM));
	sip_puts(o, "\r\n");
	put_to(o, m, CTX(s, TO));
	if (s->to_tag[0]) {
		int t = CTX(s, TO)[0] ? has_tag(CTX(s, TO)) : 0;
		if (t < 0)
			return -EINVAL;
		if (!t) {
			sip_puts(o, ";tag=");
			sip_puts(o, s->to_tag);
		}
	}
	sip_puts(o, "\r\n");
	put_common(o, m, method);

	if (m->type == GK_MSG_CHALLENGE && gk1) {
		bool first = false;
		sip_puts(o, "WWW-Authenticate: GK1 realm=\"");
		sip_puts(o, m->idsp);
		sip_puts(o, "\"");
		if (m->fields & GK_F_RAND)
			put_hexparam(o, &first, "nonce", m->rand, GK_RAND_LEN);
		if (m->fields & GK_F_N1)
			put_hexparam(o, &first, "n1", m->n1, GK_NONCE_LEN);
		if (m->fields & GK_F_N2)
			put_hexparam(o, &first, "n2", m->n2, GK_NONCE_LEN);
		if (m->fields & GK_F_TS)
			put_numparam(o, &first, "ts", m->ts);
		sip_puts(o, ", algorithm=gk1");
		if (m->fields & GK_F_WANT_MECHS)
			sip_puts(o, ", mechanisms=\"required\"");
		sip_puts(o, "\r\n");
	}
	if (m->type == GK_MSG_CHALLENGE) {
		if (m->fields & GK_F_DIGEST_CHAL)
			put_dg_chal(o, &m->digest);
	} else if (m->type == GK_MSG_SUCCESS || m->type == GK_MSG_DEREG_OK) {
		if (m->fields & (info | GK_F_MAC)) {
			bool first = true;
			sip_puts(o, "Authentication-Info: ");
			if (m->fields & GK_F_N1)
				put_hexparam(o, &first, "n1", m->n1, GK_NONCE_LEN);
			if (m->fields & GK_F_N2)
				put_hexparam(o, &first, "n2", m->n2, GK_NONCE_LEN);
			if (m->fields & GK_F_TS)
				put_numparam(o, &first, "ts", m->ts);
			if (m->fields & GK_F_RAND)
				put_hexparam(o, &first, "nonce", m->rand, GK_RAND_LEN);
			if (m->fields & GK_F_BLOB)
				put_hexparam(o, &first, "key", m->blob, GK_BLOB_LEN);
			if (m->fields & GK_F_BLOB_ELEM)
				put_hexparam(o, &first, "element-key", m->blob_element,
				             GK_BLOB_LEN);
			if (m->fields & GK_F_MECHS) {
				sip_puts(o, first ? "mechanisms=\"" : ", mechanisms=\"");
				first = false;
				put_mechs(o, m);
				sip_puts(o, "\"");
			}
			if (m->fields & GK_F_INDEX)
				put_numparam(o, &first, "index", m->index);
			if (m->fields & GK_F_MAC)
				put_hexparam(o, &first, "rspauth", m->mac, GK_MAC_LEN);
			sip_puts(o, "\r\n");
		}
		if (m->fields & GK_F_CHOSEN) {
			sip_puts(o, "Security-Server: ");
			sip_puts(o, gk_mech_name((enum gk_mech)m->chosen));
			for (unsigned i = 0; (m->fields & GK_F_MECHS) && i < m->n_mechs; i++) {
				if (m->mechs[i].mech == m->chosen) {
					sip_puts(o, ";q=");
					putq(o, m->mechs[i].q);
					break;
				}
			}
			if (m->chosen == GK_MECH_IPSEC && (m->fields & GK_F_IPSEC_NET))
				put_ipsec_end(o, &m->ipsec_net);
			sip_puts(o, "\r\n");
		}
		/* RFC 3261 §10.3 step 8: the 200 lists the binding with its lifetime. That is a
		 * SHOULD, and Expires says the same: a list that the added expires parameters make
		 * too long for a receiver's context (GK_SIP_TEXT_MAX, shared with the Vias, From,
		 * To and Call-ID echoed beside it) is left out rather than cut. */
		if (m->type == GK_MSG_SUCCESS && CTX(s, CONTACT)[0] &&
		    strcmp(CTX(s, CONTACT), "*") != 0) {
			char c[GK_SIP_TEXT_MAX];
			size_t echoed = (s->used ? s->used : 1u) - strlen(CTX(s, RURI)) -
			                strlen(CTX(s, CONTACT)) + sizeof(s->to_tag) + 6;
			struct sip_out co = {
			    .p = c, .cap = echoed < sizeof(c) - 2 ? sizeof(c) - 2 - echoed : 0};
			if (put_contact(&co, CTX(s, CONTACT), m->fields & GK_F_EXPIRES,
			                m->expires) < 0)
				return -EINVAL;
			if (!co.full) {
				sip_puts(o, "Contact: ");
				sip_put(o, c, co.n);
				sip_puts(o, "\r\n");
			}
		}
		if (m->fields & GK_F_EXPIRES) {
			sip_puts(o, "Expires: ");
			putu(o, m->expires);
			sip_puts(o, "\r\n");
		}
	}
	if (m->type == GK_MSG_REJECT && m->reason == GK_R_NOT_SERVED)
		sip_puts(o, "Allow: " SIP_ALLOWED_METHODS
		            "\r\n"); /* a MUST for 405, a SHOULD for 501 */
	if (m->type == GK_MSG_REJECT && m->reason == GK_R_OVERLOAD && m->retry_after) {
		sip_puts(o, "Retry-After: "); /* RFC 3261 §20.33: when to send the request again */
		putu(o, m->retry_after);
		sip_puts(o, "\r\n");
	}
	sip_puts(o, "Server: gatekey\r\nContent-Length: 0\r\n\r\n");
	return 0;
}

int gk_sip_encode(const struct gk_msg *m, uint8_t *buf, size_t cap)
{
	const struct gk_sip_ctx *s = &m->wire.sip;
	struct sip_out o = {.p = (char *)buf, .cap = cap};
	int r;

	if (!id_ok(m->idc, false) || !id_ok(m->idsp, false))
		return -EINVAL;
	if (!ctx_ok(s) || !s->n_via || s->n_via > GK_SIP_VIA_MAX)
		return -EINVAL;
	for (unsigned i = 0; i < s->n_via; i++)
		if (!via_ok(gk_sip_via(s, i), sizeof(s->text)))
			return -EINVAL;
	if (!line_ok(CTX(s, CALL_ID), sizeof(s->text)) || !CTX(s, CALL_ID)[0] ||
	    strpbrk(CTX(s, CALL_ID), " \t"))
		return -EINVAL;
	if (!line_ok(CTX(s, FROM), sizeof(s->text)) || !CTX(s, FROM)[0] ||
	    !line_ok(CTX(s, TO), sizeof(s->text)) || !line_ok(CTX(s, CONTACT), sizeof(s->text)) ||
	    !line_ok(CTX(s, RURI), sizeof(s->text)) || strpbrk(CTX(s, RURI), " \t") ||
	    strnlen(s->method, sizeof(s->method)) == sizeof(s->method))
		return -EINVAL;
	if (s->to_tag[0] && !token_ok(s->to_tag, sizeof(s->to_tag)))
		return -EINVAL;
	if (!parses_back(s))
		return -EINVAL;
	/* Without a To of its own the message names the terminal as <sip:IDc@IDsp>. */
	if (!CTX(s, TO)[0] && (!uri_user_ok(m->idc) || !uri_host_ok(m->idsp)))
		return -EINVAL;

	switch (m->type) {
	case GK_MSG_REGISTER:
	case GK_MSG_ANSWER:
	case GK_MSG_DEREGISTER:
	case GK_MSG_OTHER:
		r = encode_request(&o, m);
		break;
	default:
		r = encode_response(&o, m);
		break;
	}
	if (r < 0)
		return r;
	return o.full ? -ENOSPC : (int)o.n;
}
