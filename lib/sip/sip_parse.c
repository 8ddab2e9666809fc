// SPDX-License-Identifier: GPL-2.0-only
/*
 * SIP datagram -> struct gk_msg. One pass over the header lines, in place: values are read from
 * the datagram where they lie and only what the message keeps is copied, into its context's
 * packed text. Anything over a limit (limits.h) is refused (GK_R_PARSE_TOO_LONG, the limit in
 * m->limit), never cut: a truncated Via or Call-ID would make a response that matches nothing.
 *
 * Besides syntax, the decoder makes the checks of RFC 3261 §8.2 that need nothing but the
 * message, in the section's order, so the answer to a request that fails several is the one the
 * RFC names first: the method (a request this element does not serve fails GK_R_NOT_SERVED
 * before anything else it asks for is looked at), the version (GK_R_BAD_VERSION, 505), the
 * Request-URI's scheme (GK_R_BAD_SCHEME, 416), Require (GK_R_BAD_EXTENSION, 420) and the body
 * (GK_R_BAD_MEDIA, 415). A syntax error comes first of all (400): nothing else can be trusted.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gatekey/crypto/crypto.h"
#include "gatekey/sip/sip.h"
#include "sip_priv.h"

/* gk1 auth-params. Which header may carry which is in `allowed` below. */
enum gkp {
	P_USERNAME,
	P_REALM,
	P_NONCE,
	P_N1,
	P_N2,
	P_TS,
	P_RESPONSE,
	P_ALGORITHM,
	P_MECHANISMS,
	P_KEY,
	P_RSPAUTH,
	P_INDEX,
	P_ELEMENT_KEY,
	P_ADDRESS,
	P_SEALED,
	P__COUNT
};
_Static_assert(P__COUNT <= 32, "a parameter's bit must fit the mask");

#define GKP(k, s) [k] = {s, sizeof(s) - 1}
static const struct {
	const char *name;
	size_t len;
} gkp[P__COUNT] = {
    GKP(P_USERNAME, "username"),
    GKP(P_REALM, "realm"),
    GKP(P_NONCE, "nonce"),
    GKP(P_N1, "n1"),
    GKP(P_N2, "n2"),
    GKP(P_TS, "ts"),
    GKP(P_RESPONSE, "response"),
    GKP(P_ALGORITHM, "algorithm"),
    GKP(P_MECHANISMS, "mechanisms"),
    GKP(P_KEY, "key"),
    GKP(P_RSPAUTH, "rspauth"),
    GKP(P_INDEX, "index"),
    GKP(P_ELEMENT_KEY, "element-key"),
    GKP(P_ADDRESS, "address"),
    GKP(P_SEALED, "sealed"),
};
#undef GKP

enum actx { A_CRED, A_CHAL, A_INFO };

#define PB(p) (1u << (p))
static const uint32_t allowed[] = {
    [A_CRED] = PB(P_USERNAME) | PB(P_REALM) | PB(P_NONCE) | PB(P_N1) | PB(P_N2) | PB(P_TS) |
               PB(P_RESPONSE) | PB(P_ALGORITHM) | PB(P_ADDRESS) | PB(P_SEALED),
    [A_CHAL] = PB(P_REALM) | PB(P_NONCE) | PB(P_N1) | PB(P_N2) | PB(P_TS) | PB(P_ALGORITHM) |
               PB(P_MECHANISMS),
    [A_INFO] = PB(P_N1) | PB(P_N2) | PB(P_TS) | PB(P_KEY) | PB(P_MECHANISMS) | PB(P_RSPAUTH) |
               PB(P_INDEX) | PB(P_NONCE) | PB(P_ELEMENT_KEY),
};
/* A digest Authentication-Info also has rspauth; only next to one of these is it the s10 MAC. */
#define INFO_GK_PARAMS                                                                             \
	(PB(P_N1) | PB(P_N2) | PB(P_TS) | PB(P_KEY) | PB(P_MECHANISMS) | PB(P_INDEX) |             \
	 PB(P_NONCE) | PB(P_ELEMENT_KEY))

/* Digest auth-params (RFC 3261 §22, RFC 7616, RFC 8760). */
enum dgp {
	D_USERNAME,
	D_REALM,
	D_NONCE,
	D_URI,
	D_RESPONSE,
	D_CNONCE,
	D_NC,
	D_QOP,
	D_ALGORITHM,
	D_OPAQUE,
	D_STALE,
	D__COUNT
};
_Static_assert(D__COUNT <= 32, "a parameter's bit must fit the mask");

#define DGP(k, s) [k] = {s, sizeof(s) - 1}
static const struct {
	const char *name;
	size_t len;
} dgp[D__COUNT] = {
    DGP(D_USERNAME, "username"),
    DGP(D_REALM, "realm"),
    DGP(D_NONCE, "nonce"),
    DGP(D_URI, "uri"),
    DGP(D_RESPONSE, "response"),
    DGP(D_CNONCE, "cnonce"),
    DGP(D_NC, "nc"),
    DGP(D_QOP, "qop"),
    DGP(D_ALGORITHM, "algorithm"),
    DGP(D_OPAQUE, "opaque"),
    DGP(D_STALE, "stale"),
};
#undef DGP

static const uint32_t dg_allowed[] = {
    [A_CRED] = PB(D_USERNAME) | PB(D_REALM) | PB(D_NONCE) | PB(D_URI) | PB(D_RESPONSE) |
               PB(D_CNONCE) | PB(D_NC) | PB(D_QOP) | PB(D_ALGORITHM) | PB(D_OPAQUE),
    [A_CHAL] = PB(D_REALM) | PB(D_NONCE) | PB(D_QOP) | PB(D_ALGORITHM) | PB(D_OPAQUE) | PB(D_STALE),
    [A_INFO] = 0,
};

/* Single-valued headers seen (duplicates are refused). */
#define SEEN(h) (1u << (h))

struct dec {
	struct gk_msg *m;
	enum gk_reason why;
	bool req;
	bool is_register; /* request method REGISTER */
	uint16_t status;
	uint32_t seen;
	struct sip_span cseq_method;
	uint64_t clen;
	bool hdr_exp_set, ct_exp_set, ct_star;
	uint32_t hdr_exp, ct_exp;
	uint32_t retry_after; /* a 503's Retry-After, 0 when it has none */
	unsigned n_contacts;
	bool gk;       /* a GK1 credentials/challenge was seen */
	uint32_t pset; /* gk1 params seen, for duplicates */
	char username[GK_ID_MAX + 1];
	char realm[GK_ID_MAX + 1];
	struct sip_span rspauth;
	unsigned mech_entries;
	unsigned server_known;
	struct sip_span ruri_host;
	struct sip_span to_user, to_host;
	/* Digest: the credentials or challenge being read, and how many were seen */
	bool in_dg;
	unsigned n_dg;
	uint32_t dpset;
	struct gk_digest *dcur;
	struct gk_digest dtmp; /* second and later challenges */
	bool dg_other;         /* a later challenge that is not the first with another algorithm */
	const char *ua_alg;    /* gk_sip_decode_ua: the algorithm the UA answers with */
	bool dg_picked;        /* ... and a challenge offered it */
	/* RFC 3261 §8.2: what the request asks of the element, checked once it is all read */
	bool bad_scheme;  /* Request-URI neither sip: nor sips: */
	bool bad_require; /* an option tag in Require this element does not support */
	bool bad_media;   /* a body of a type or an encoding this element does not take */
	bool has_ctype;
	uint64_t body_len;
	unsigned escaped_ctl; /* quoted control characters stored as '?' (store_folded) */
};

static int fail(struct dec *d, enum gk_reason r)
{
	if (d->why == GK_R_OK)
		d->why = r;
	return -1;
}

/* A value over a named limit: refused, never cut, and the limit said. */
static int too_long(struct dec *d, enum gk_limit l)
{
	if (d->why == GK_R_OK)
		d->m->limit = (uint8_t)l;
	return fail(d, GK_R_PARSE_TOO_LONG);
}

/* ---- small scanners ------------------------------------------------------------------------ */

static int parse_u64(struct sip_span v, uint64_t max, bool saturate, uint64_t *out)
{
	uint64_t x = 0;

	if (!v.n)
		return -1;
	for (size_t i = 0; i < v.n; i++) {
		if (!sip_is_digit((unsigned char)v.p[i]))
			return -1;
		unsigned dg = (unsigned)(v.p[i] - '0');
		if (x > (max - dg) / 10) {
			if (!saturate)
				return -1;
			x = max;
			continue;
		}
		x = x * 10 + dg;
	}
	*out = x;
	return 0;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = sip_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Exactly len bytes in hex. The shared decoder has no branch per digit, which matters here: the
 * key blob and the nonces are most of a GK1 message's bytes. */
static int hex_exact(struct sip_span v, uint8_t *out, size_t len)
{
	return v.n == 2 * len && gk_hex_decode(v.p, v.n, out, len) == (int)len ? 0 : -1;
}

/* Appends a header value to the context's text, each folded line break (and the blanks around
 * it) replaced by one space: the stored text is what a single-line header would have carried.
 * Returns the offset of the value (a NUL ends it), or -1 over GK_SIP_TEXT_MAX. */
static int store_folded(struct dec *d, struct sip_span v)
{
	struct gk_sip_ctx *s = &d->m->wire.sip;
	size_t at = s->used ? s->used : 1, o = at;

	v = sip_trim(v);
	size_t plain = 0;
	while (plain < v.n && (sip_ctype[(unsigned char)v.p[plain]] & SIP_C_PLAIN))
		plain++;
	if (plain == v.n) { /* one line, no control character: nearly every value, copied whole */
		if (at + v.n + 1 > sizeof(s->text))
			return too_long(d, GK_LIMIT_SIP_TEXT);
		memcpy(s->text + at, v.p, v.n);
		o = at + v.n;
		v.n = 0;
	}
	for (size_t i = 0; i < v.n; i++) {
		char c = v.p[i];
		if (c == '\r' || c == '\n') {
			while (i + 1 < v.n && sip_is_lws((unsigned char)v.p[i + 1]))
				i++;
			while (o > at && sip_is_ws((unsigned char)s->text[o - 1]))
				o--;
			c = ' ';
		}
		if (o + 1 >= sizeof(s->text))
			return too_long(d, GK_LIMIT_SIP_TEXT);
		if (((unsigned char)c < 0x20 && c != '\t' && c != ' ') || c == 0x7f) {
			/* an escaped control character (next_line let only those through): the
			 * context holds text, so it keeps a stand-in and is never echoed */
			c = '?';
			d->escaped_ctl++;
			s->altered = true;
		}
		s->text[o++] = c;
	}
	if (o + 1 > sizeof(s->text))
		return too_long(d, GK_LIMIT_SIP_TEXT);
	s->text[0] = '\0';
	s->text[o] = '\0';
	s->used = (uint16_t)(o + 1);
	return (int)at;
}

/* Unescapes an auth-param value (quoted-pair, folding) into out; -1 when it does not fit, -2 when
 * it held an escaped control character (no auth-param gatekey reads may hold one). */
static int unquote_copy(struct sip_span v, bool quoted, char *out, size_t cap, size_t *len)
{
	size_t o = 0;

	for (size_t i = 0; i < v.n; i++) {
		char c = v.p[i];
		if (quoted && c == '\\' && i + 1 < v.n) {
			c = v.p[++i];
		} else if (c == '\r' || c == '\n') {
			while (i + 1 < v.n && sip_is_lws((unsigned char)v.p[i + 1]))
				i++;
			c = ' ';
		}
		if (((unsigned char)c < 0x20 && c != '\t' && c != ' ') || c == 0x7f)
			return -2;
		if (o >= cap)
			return -1;
		out[o++] = c;
	}
	*len = o;
	return 0;
}

/* The value as text: in place when nothing needs unescaping (the common case), else copied
 * into buf. -1 when the copy does not fit, -2 for an escaped control character. */
static int unquote(struct sip_span v, bool quoted, char *buf, size_t cap, struct sip_span *out)
{
	size_t n;

	if (!memchr(v.p, '\\', v.n) && !memchr(v.p, '\n', v.n)) {
		if (v.n > cap)
			return -1;
		*out = v;
		return 0;
	}
	int r = unquote_copy(v, quoted, buf, cap, &n);
	if (r < 0)
		return r;
	*out = (struct sip_span){buf, n};
	return 0;
}

static int set_id(struct dec *d, struct sip_span v, char out[GK_ID_MAX + 1])
{
	if (v.n > GK_ID_MAX)
		return too_long(d, GK_LIMIT_ID);
	if (!v.n)
		return fail(d, GK_R_PARSE_BAD_VALUE);
	for (size_t i = 0; i < v.n; i++)
		if (!sip_id_char((unsigned char)v.p[i]))
			return fail(d, GK_R_PARSE_BAD_VALUE);
	memcpy(out, v.p, v.n);
	out[v.n] = '\0';
	return 0;
}

/* Whether set_id would take v (without failing the decode). */
static bool id_fits(struct sip_span v)
{
	if (!v.n || v.n > GK_ID_MAX)
		return false;
	for (size_t i = 0; i < v.n; i++)
		if (!sip_id_char((unsigned char)v.p[i]))
			return false;
	return true;
}

static bool span_eq(struct sip_span a, struct sip_span b)
{
	return a.n == b.n && memcmp(a.p, b.p, a.n) == 0;
}

/* ---- security mechanism lists (RFC 3329) --------------------------------------------------- */

/* Which list parse_mechs reads. */
enum mech_list {
	MECHS_CLIENT, /* Security-Client: the terminal's offer, into m->mechs */
	MECHS_SERVER, /* Security-Server: the chosen mechanism, its one known entry */
	MECHS_VERIFY, /* Security-Verify: the element's end echoed, its ipsec-3gpp entry only */
};

/* One list: mechanism-name *(";" param), comma-separated. Unknown names are skipped (they do
 * count against SIP_MECH_ENTRIES_MAX). An ipsec-3gpp entry carries its end's SPIs and ports
 * (gk_ipsec_param): into m->ipsec_term from Security-Client, m->ipsec_net from the others. One
 * that lacks them, has an unusable SPI or port, or names another protocol, mode or cipher gives
 * no end: nothing could protect the terminal under it. */
static int parse_mechs(struct dec *d, struct sip_span v, enum mech_list list)
{
	bool server = list != MECHS_CLIENT;
	struct gk_msg *m = d->m;
	struct sip_span e;
	size_t pos = 0;
	int r;

	while ((r = sip_list_next(v, &pos, &e)) > 0) {
		size_t i = 0, ppos;
		struct sip_param p;
		uint16_t q = 1000;
		bool have_q = false;
		int pr;

		if (!e.n)
			continue;
		if (++d->mech_entries > SIP_MECH_ENTRIES_MAX)
			return too_long(d, GK_LIMIT_MECHS);
		while (i < e.n && sip_is_token_char((unsigned char)e.p[i]))
			i++;
		if (!i)
			return fail(d, GK_R_PARSE_SYNTAX);
		enum gk_mech mech = gk_mech_from_name(e.p, i);
		struct sip_span params = {e.p + i, e.n - i};
		struct gk_ipsec_read ipsec = {0};

		ppos = 0;
		while ((pr = sip_param_next(params, &ppos, &p)) > 0) {
			if (mech == GK_MECH_IPSEC) {
				int ir = gk_ipsec_param(&ipsec, p.name.p, p.name.n,
				                        p.has_value ? p.value.p : NULL, p.value.n,
				                        p.quoted);
				if (ir < 0)
					return fail(d, GK_R_PARSE_BAD_VALUE);
				if (ir > 0)
					continue;
			}
			if (!sip_span_ieq(p.name, "q"))
				continue;
			if (have_q)
				return fail(d, GK_R_PARSE_DUPLICATE);
			have_q = true;
			if (!p.has_value || p.quoted || sip_q_parse(p.value, &q) < 0)
				return fail(d, GK_R_PARSE_BAD_VALUE);
		}
		if (pr < 0)
			return fail(d, GK_R_PARSE_SYNTAX);
		if (mech == GK_MECH_IPSEC) {
			uint32_t have = list == MECHS_CLIENT   ? GK_F_IPSEC_TERM
			                : list == MECHS_SERVER ? GK_F_IPSEC_NET
			                                       : GK_F_SEC_VERIFY;

			/* A UE may offer several variants (one per algorithm, RFC 3329 §2.2):
			 * the first usable one is its end. Every entry stays in the list, which
			 * the SUCCESS echoes as it came (the downgrade check). */
			if (!(m->fields & have) &&
			    gk_ipsec_read_end(&ipsec, server ? &m->ipsec_net : &m->ipsec_term))
				m->fields |= have;
		}
		if (mech == GK_MECH_NONE || list == MECHS_VERIFY)
			continue;
		if (server) {
			if (++d->server_known > 1)
				return fail(d, GK_R_PARSE_DUPLICATE);
			m->chosen = (uint8_t)mech;
			m->fields |= GK_F_CHOSEN;
			continue;
		}
		if (m->n_mechs >= GK_MECH_MAX)
			return too_long(d, GK_LIMIT_MECHS);
		m->mechs[m->n_mechs].mech = (uint8_t)mech;
		m->mechs[m->n_mechs].q = q;
		m->n_mechs++;
	}
	if (r < 0)
		return fail(d, GK_R_PARSE_SYNTAX);
	return 0;
}

/* ---- gk1 auth-params ----------------------------------------------------------------------- */

static int gk_param(struct dec *d, enum actx ctx, const struct sip_param *p)
{
	struct gk_msg *m = d->m;
	char buf[SIP_PARAM_MAX];
	struct sip_span v;
	size_t n;
	unsigned k;
	uint64_t x;

	for (k = 0; k < P__COUNT; k++)
		if (p->name.n == gkp[k].len && sip_lower_eq(p->name.p, gkp[k].name, p->name.n))
			break;
	if (k == P__COUNT || !(allowed[ctx] & PB(k)))
		return 0; /* extension parameter: ignored, as RFC 7235 asks */
	if (d->pset & PB(k))
		return fail(d, GK_R_PARSE_DUPLICATE);
	d->pset |= PB(k);
	if (k == P_RSPAUTH) {
		d->rspauth = p->value; /* read once the whole header is known */
		return 0;
	}
	int uq = unquote(p->value, p->quoted, buf, sizeof(buf), &v);
	if (uq == -2)
		return fail(d, GK_R_PARSE_BAD_VALUE);
	if (uq < 0) {
		/* Hex and numbers have a fixed or bounded length: too long is a bad value. */
		bool text = k == P_USERNAME || k == P_REALM || k == P_ALGORITHM || k == P_ADDRESS ||
		            k == P_SEALED;
		return text || k == P_MECHANISMS ? too_long(d, GK_LIMIT_SIP_PARAM)
		                                 : fail(d, GK_R_PARSE_BAD_VALUE);
	}
	n = v.n;
	switch (k) {
	case P_USERNAME:
		return set_id(d, v, d->username);
	case P_REALM:
		return set_id(d, v, d->realm);
	case P_NONCE:
		if (hex_exact(v, m->rand, GK_RAND_LEN) < 0)
			return fail(d, GK_R_PARSE_BAD_VALUE);
		m->fields |= GK_F_RAND;
		return 0;
	case P_N1:
		if (hex_exact(v, m->n1, GK_NONCE_LEN) < 0)
			return fail(d, GK_R_PARSE_BAD_VALUE);
		m->fields |= GK_F_N1;
		return 0;
	case P_N2:
		if (hex_exact(v, m->n2, GK_NONCE_LEN) < 0)
			return fail(d, GK_R_PARSE_BAD_VALUE);
		m->fields |= GK_F_N2;
		return 0;
	case P_RESPONSE:
		if (hex_exact(v, m->auth, GK_AUTH_LEN) < 0)
			return fail(d, GK_R_PARSE_BAD_VALUE);
		m->fields |= GK_F_AUTH;
		return 0;
	case P_KEY:
		if (hex_exact(v, m->blob, GK_BLOB_LEN) < 0)
			return fail(d, GK_R_PARSE_BAD_VALUE);
		m->fields |= GK_F_BLOB;
		return 0;
	case P_ELEMENT_KEY:
		if (hex_exact(v, m->blob_element, GK_BLOB_LEN) < 0)
			return fail(d, GK_R_PARSE_BAD_VALUE);
		m->fields |= GK_F_BLOB_ELEM;
		return 0;
	case P_ADDRESS:
		/* the terminal as the SBC saw it: "ip:port", "[v6]:port" */
		if (v.n >= sizeof(m->address))
			return too_long(d, GK_LIMIT_ADDRESS);
		if (!v.n)
			return fail(d, GK_R_PARSE_BAD_VALUE);
		for (size_t i = 0; i < v.n; i++)
			if (!sip_id_char((unsigned char)v.p[i]))
				return fail(d, GK_R_PARSE_BAD_VALUE);
		memcpy(m->address, v.p, v.n);
		m->address[v.n] = '\0';
		m->fields |= GK_F_ADDR;
		return 0;
	case P_SEALED:
		/* core leg: the mechanism whose key verified the request; only gk-mac has one */
		if (!sip_span_ieq(v, "gk-mac"))
			return fail(d, GK_R_PARSE_BAD_VALUE);
		m->fields |= GK_F_SEALED;
		return 0;
	case P_TS:
		if (n > 20 || parse_u64(v, UINT64_MAX, false, &x) < 0)
			return fail(d, GK_R_PARSE_BAD_VALUE);
		m->ts = x;
		m->fields |= GK_F_TS;
		return 0;
	case P_INDEX:
		if (n > 10 || parse_u64(v, UINT32_MAX, false, &x) < 0)
			return fail(d, GK_R_PARSE_BAD_VALUE);
		m->index = (uint32_t)x;
		m->fields |= GK_F_INDEX;
		return 0;
	case P_ALGORITHM:
		if (!sip_span_ieq(v, "gk1"))
			return fail(d, GK_R_PARSE_UNSUPPORTED);
		return 0;
	case P_MECHANISMS:
		if (ctx == A_CHAL) {
			if (!sip_span_ieq(v, "required"))
				return fail(d, GK_R_PARSE_BAD_VALUE);
			m->fields |= GK_F_WANT_MECHS;
			return 0;
		}
		if (parse_mechs(d, v, false) < 0)
			return -1;
		m->fields |= GK_F_MECHS;
		return 0;
	default:
		return 0;
	}
}

/* ---- Digest auth-params ---------------------------------------------------------------------- */

static int dg_text(struct dec *d, struct sip_span v, char *out, size_t cap)
{
	if (v.n >= cap)
		return too_long(d, GK_LIMIT_SIP_DIGEST);
	memcpy(out, v.p, v.n);
	out[v.n] = '\0';
	return 0;
}

static bool all_hex(struct sip_span v)
{
	for (size_t i = 0; i < v.n; i++)
		if (hexval((unsigned char)v.p[i]) < 0)
			return false;
	return true;
}

static bool all_token(struct sip_span v)
{
	if (!v.n)
		return false;
	for (size_t i = 0; i < v.n; i++)
		if (!sip_is_token_char((unsigned char)v.p[i]))
			return false;
	return true;
}

/* qop-options of a challenge: a list of tokens; only "auth" is kept (RFC 7616 §3.3). */
static int dg_qop_options(struct dec *d, struct sip_span v, char out[8])
{
	size_t i = 0;

	for (;;) {
		while (i < v.n && sip_is_lws((unsigned char)v.p[i]))
			i++;
		size_t t = i;
		while (i < v.n && sip_is_token_char((unsigned char)v.p[i]))
			i++;
		if (i == t)
			return fail(d, GK_R_PARSE_BAD_VALUE);
		if (sip_span_ieq((struct sip_span){v.p + t, i - t}, "auth"))
			memcpy(out, "auth", 5);
		while (i < v.n && sip_is_lws((unsigned char)v.p[i]))
			i++;
		if (i >= v.n)
			return 0;
		if (v.p[i++] != ',')
			return fail(d, GK_R_PARSE_BAD_VALUE);
	}
}

static int dg_param(struct dec *d, enum actx ctx, const struct sip_param *p)
{
	struct gk_digest *g = d->dcur;
	char buf[SIP_PARAM_MAX];
	struct sip_span v;
	unsigned k;

	for (k = 0; k < D__COUNT; k++)
		if (p->name.n == dgp[k].len && sip_lower_eq(p->name.p, dgp[k].name, p->name.n))
			break;
	if (k == D__COUNT || !(dg_allowed[ctx] & PB(k)))
		return 0; /* extension parameter: ignored */
	if (d->dpset & PB(k))
		return fail(d, GK_R_PARSE_DUPLICATE);
	d->dpset |= PB(k);
	int uq = unquote(p->value, p->quoted, buf, sizeof(buf), &v);
	if (uq == -2)
		return fail(d, GK_R_PARSE_BAD_VALUE);
	if (uq < 0)
		return k == D_RESPONSE || k == D_NC || k == D_STALE
		           ? fail(d, GK_R_PARSE_BAD_VALUE)
		           : too_long(d, GK_LIMIT_SIP_PARAM);
	switch (k) {
	case D_USERNAME:
		return dg_text(d, v, g->username, sizeof(g->username));
	case D_REALM:
		return dg_text(d, v, g->realm, sizeof(g->realm));
	case D_NONCE:
		return dg_text(d, v, g->nonce, sizeof(g->nonce));
	case D_URI:
		return dg_text(d, v, g->uri, sizeof(g->uri));
	case D_CNONCE:
		return dg_text(d, v, g->cnonce, sizeof(g->cnonce));
	case D_OPAQUE:
		return dg_text(d, v, g->opaque, sizeof(g->opaque));
	case D_RESPONSE:
		/* MD5: 32 hex digits; SHA-256 and SHA-512-256: 64 */
		if ((v.n != 32 && v.n != 64) || !all_hex(v))
			return fail(d, GK_R_PARSE_BAD_VALUE);
		return dg_text(d, v, g->response, sizeof(g->response));
	case D_NC:
		if (v.n != 8 || !all_hex(v))
			return fail(d, GK_R_PARSE_BAD_VALUE);
		return dg_text(d, v, g->nc, sizeof(g->nc));
	case D_QOP:
		if (ctx == A_CHAL)
			return dg_qop_options(d, v, g->qop);
		if (!all_token(v))
			return fail(d, GK_R_PARSE_BAD_VALUE);
		return dg_text(d, v, g->qop, sizeof(g->qop));
	case D_ALGORITHM:
		if (!all_token(v))
			return fail(d, GK_R_PARSE_BAD_VALUE);
		return dg_text(d, v, g->algorithm, sizeof(g->algorithm));
	case D_STALE:
		if (sip_span_ieq(v, "true"))
			g->stale = true;
		else if (!sip_span_ieq(v, "false"))
			return fail(d, GK_R_PARSE_BAD_VALUE);
		return 0;
	default:
		return 0;
	}
}

static int dg_open(struct dec *d, enum actx ctx)
{
	if (ctx == A_CRED && d->n_dg)
		return fail(d, GK_R_PARSE_DUPLICATE); /* one set of credentials */
	d->in_dg = true;
	d->dpset = 0;
	if (d->n_dg++) {
		memset(&d->dtmp, 0, sizeof(d->dtmp));
		d->dcur = &d->dtmp;
	} else {
		d->dcur = &d->m->digest;
	}
	return 0;
}

static bool dg_same_but_algorithm(const struct gk_digest *a, const struct gk_digest *b)
{
	return strcmp(a->realm, b->realm) == 0 && strcmp(a->nonce, b->nonce) == 0 &&
	       strcmp(a->qop, b->qop) == 0 && strcmp(a->opaque, b->opaque) == 0 &&
	       a->stale == b->stale;
}

static int dg_close(struct dec *d, enum actx ctx)
{
	struct gk_digest *g = d->dcur;
	const uint32_t need =
	    ctx == A_CRED ? PB(D_USERNAME) | PB(D_REALM) | PB(D_NONCE) | PB(D_URI) | PB(D_RESPONSE)
	                  : PB(D_REALM) | PB(D_NONCE);

	d->in_dg = false;
	if ((d->dpset & need) != need)
		return fail(d, GK_R_PARSE_MISSING);
	if (ctx == A_CRED) {
		/* RFC 7616 §3.4: cnonce and nc go with qop, and only with it */
		bool q = d->dpset & PB(D_QOP);
		if (q && (d->dpset & (PB(D_CNONCE) | PB(D_NC))) != (PB(D_CNONCE) | PB(D_NC)))
			return fail(d, GK_R_PARSE_MISSING);
		if (!q && (d->dpset & (PB(D_CNONCE) | PB(D_NC))))
			return fail(d, GK_R_PARSE_BAD_VALUE);
		d->m->fields |= GK_F_DIGEST;
		return 0;
	}
	if (!(d->dpset & PB(D_ALGORITHM)))
		memcpy(g->algorithm, "MD5", 4); /* RFC 7616 §3.3: absent means MD5 */
	if (d->n_dg == 1)
		d->m->fields |= GK_F_DIGEST_CHAL;
	if (d->ua_alg) {
		/* A UA answers the first challenge of its algorithm, whatever its nonce; when
		 * none offers it, the first stays, to say what was offered. */
		if (!d->dg_picked && strcasecmp(g->algorithm, d->ua_alg) == 0) {
			if (g != &d->m->digest)
				d->m->digest = *g;
			d->dg_picked = true;
		}
		return 0;
	}
	if (d->n_dg == 1)
		return 0;
	/* Challenges that differ only in their algorithm are one offer, read back as the list
	 * "SHA-256,MD5" in the order sent; the RFC 8760 pair (SHA-256, then MD5) is what an empty
	 * algorithm is sent as, so it reads back empty. Any other later challenge is ignored. */
	struct gk_digest *first = &d->m->digest;
	if (d->dg_other || !dg_same_but_algorithm(first, g)) {
		d->dg_other = true;
		return 0;
	}
	size_t have = strlen(first->algorithm), add = strlen(g->algorithm);
	if (have && have + 1 + add < sizeof(first->algorithm)) {
		first->algorithm[have] = ',';
		memcpy(first->algorithm + have + 1, g->algorithm, add + 1);
	} else {
		d->dg_other = true; /* too long to keep: the first algorithm alone stands */
		return 0;
	}
	return 0;
}

/*
 * Authorization (one credentials), WWW-Authenticate (one or more challenges) or
 * Authentication-Info (bare auth-params). GK1 and Digest (SIP phones and SIPp) are read;
 * other schemes are stepped over without judging their contents.
 */
static int parse_auth(struct dec *d, struct sip_span v, enum actx ctx)
{
	bool in_gk = ctx == A_INFO, have_scheme = ctx == A_INFO, need_sep = false;
	size_t i = 0;

	for (;;) {
		while (i < v.n && sip_is_lws((unsigned char)v.p[i]))
			i++;
		if (i >= v.n)
			break;
		if (v.p[i] == ',') {
			i++;
			need_sep = false;
			continue;
		}
		if (need_sep || !sip_is_token_char((unsigned char)v.p[i])) {
			if (in_gk || d->in_dg)
				return fail(d, GK_R_PARSE_SYNTAX);
			/* Inside a foreign scheme (token68, odd syntax): skip to the next item. */
			if (v.p[i] == '"') {
				size_t q = sip_quoted_end(v, i + 1);
				if (q >= v.n)
					return fail(d, GK_R_PARSE_SYNTAX);
				i = q + 1;
			} else {
				i++;
			}
			continue;
		}
		size_t t0 = i;
		while (i < v.n && sip_is_token_char((unsigned char)v.p[i]))
			i++;
		struct sip_span tok = {v.p + t0, i - t0};
		size_t j = i;
		while (j < v.n && sip_is_lws((unsigned char)v.p[j]))
			j++;
		if (j < v.n && v.p[j] == '=') {
			struct sip_param p = {.name = tok};
			if (!have_scheme)
				return fail(d, GK_R_PARSE_SYNTAX);
			for (j++; j < v.n && sip_is_lws((unsigned char)v.p[j]); j++)
				;
			if (j < v.n && v.p[j] == '"') {
				size_t q = sip_quoted_end(v, j + 1);
				if (q >= v.n)
					return fail(d, GK_R_PARSE_SYNTAX);
				p.value = (struct sip_span){v.p + j + 1, q - j - 1};
				p.quoted = true;
				j = q + 1;
			} else {
				size_t s = j;
				while (j < v.n && sip_is_token_char((unsigned char)v.p[j]))
					j++;
				if (j == s && (in_gk || d->in_dg))
					return fail(d, GK_R_PARSE_SYNTAX);
				p.value = (struct sip_span){v.p + s, j - s};
			}
			p.has_value = true;
			i = j;
			need_sep = true;
			if (in_gk && gk_param(d, ctx, &p) < 0)
				return -1;
			if (d->in_dg && dg_param(d, ctx, &p) < 0)
				return -1;
			continue;
		}
		/* A bare token starts a new challenge or credentials: its scheme. */
		if (ctx == A_INFO)
			return fail(d, GK_R_PARSE_SYNTAX);
		if (d->in_dg && dg_close(d, ctx) < 0)
			return -1;
		if (sip_span_ieq(tok, "digest") && dg_open(d, ctx) < 0)
			return -1;
		in_gk = sip_span_ieq(tok, "gk1");
		if (in_gk && d->gk)
			return fail(d, GK_R_PARSE_DUPLICATE);
		d->gk |= in_gk;
		have_scheme = true;
	}
	if (d->in_dg && dg_close(d, ctx) < 0)
		return -1;
	if (ctx == A_INFO && d->rspauth.p && (d->pset & INFO_GK_PARAMS)) {
		char buf[2 * GK_MAC_LEN];
		struct sip_span mv;
		if (unquote(d->rspauth, true, buf, sizeof(buf), &mv) < 0 ||
		    hex_exact(mv, d->m->mac, GK_MAC_LEN) < 0)
			return fail(d, GK_R_PARSE_BAD_VALUE);
		d->m->fields |= GK_F_MAC;
	}
	return 0;
}

/* ---- headers ------------------------------------------------------------------------------- */

static int parse_via(struct dec *d, struct sip_span v)
{
	struct gk_sip_ctx *s = &d->m->wire.sip;
	struct sip_span e;
	size_t pos = 0;
	int r;

	while ((r = sip_list_next(v, &pos, &e)) > 0) {
		size_t i = 0;
		if (!e.n)
			continue;
		/* sent-protocol: name "/" version "/" transport, LWS allowed around the slashes */
		for (int part = 0; part < 3; part++) {
			size_t t = i;
			while (i < e.n && sip_is_token_char((unsigned char)e.p[i]))
				i++;
			if (i == t)
				return fail(d, GK_R_PARSE_SYNTAX);
			while (i < e.n && sip_is_lws((unsigned char)e.p[i]))
				i++;
			if (part < 2) {
				if (i >= e.n || e.p[i] != '/')
					return fail(d, GK_R_PARSE_SYNTAX);
				for (i++; i < e.n && sip_is_lws((unsigned char)e.p[i]); i++)
					;
			}
		}
		if (i >= e.n || !sip_is_lws((unsigned char)e.p[i - 1]) || e.p[i] == ';')
			return fail(d, GK_R_PARSE_SYNTAX); /* no sent-by */
		if (s->n_via >= GK_SIP_VIA_MAX)
			return too_long(d, GK_LIMIT_SIP_VIAS);
		unsigned ctl = d->escaped_ctl;
		int at = store_folded(d, e);
		if (at < 0)
			return -1;
		if (d->escaped_ctl != ctl)
			return fail(d,
			            GK_R_PARSE_SYNTAX); /* no quoted string in a Via is echoed so */
		s->via[s->n_via++] = (uint16_t)at;
	}
	if (r < 0)
		return fail(d, GK_R_PARSE_SYNTAX);
	return 0;
}

/* From / To: kept verbatim; To also yields IDc/IDsp of responses and the To tag. */
static int parse_fromto(struct dec *d, struct sip_span v, bool to)
{
	struct gk_sip_ctx *s = &d->m->wire.sip;
	struct sip_naddr na;
	struct sip_param p;
	size_t pos = 0;
	bool tag = false;
	int r, at = store_folded(d, v);

	if (at < 0)
		return -1;
	s->str[to ? GK_SIP_TO : GK_SIP_FROM] = (uint16_t)at;
	const char *dst = s->text + at;
	enum gk_reason why = sip_naddr_parse((struct sip_span){dst, strlen(dst)}, &na);
	if (why != GK_R_OK)
		return fail(d, why);
	while ((r = sip_param_next(na.params, &pos, &p)) > 0) {
		if (!sip_span_ieq(p.name, "tag"))
			continue;
		if (tag)
			return fail(d, GK_R_PARSE_DUPLICATE);
		tag = true;
		if (!p.has_value || p.quoted)
			return fail(d, GK_R_PARSE_SYNTAX);
		for (size_t i = 0; i < p.value.n; i++)
			if (!sip_is_token_char((unsigned char)p.value.p[i]))
				return fail(d, GK_R_PARSE_SYNTAX);
		if (to) {
			if (p.value.n >= sizeof(s->to_tag))
				return too_long(d, GK_LIMIT_SIP_TAG);
			memcpy(s->to_tag, p.value.p, p.value.n);
			s->to_tag[p.value.n] = '\0';
		}
	}
	if (r < 0)
		return fail(d, GK_R_PARSE_SYNTAX);
	if (to) {
		why = sip_uri_user_host(na.uri, &d->to_user, &d->to_host);
		if (why != GK_R_OK)
			return fail(d, why);
	}
	return 0;
}

static int parse_cseq(struct dec *d, struct sip_span v)
{
	size_t i = 0;
	uint64_t x;

	while (i < v.n && sip_is_digit((unsigned char)v.p[i]))
		i++;
	if (!i || i > 10 || parse_u64((struct sip_span){v.p, i}, UINT32_MAX, false, &x) < 0)
		return fail(d, GK_R_PARSE_BAD_VALUE);
	d->m->wire.sip.cseq = (uint32_t)x;
	size_t s = i;
	while (i < v.n && sip_is_lws((unsigned char)v.p[i]))
		i++;
	if (i == s)
		return fail(d, GK_R_PARSE_SYNTAX);
	size_t t = i;
	while (i < v.n && sip_is_token_char((unsigned char)v.p[i]))
		i++;
	if (i == t || i != v.n)
		return fail(d, GK_R_PARSE_SYNTAX);
	d->cseq_method = (struct sip_span){v.p + t, i - t};
	if (d->cseq_method.n >= sizeof(d->m->wire.sip.method))
		return too_long(d, GK_LIMIT_SIP_METHOD);
	return 0;
}

static int parse_delta(struct dec *d, struct sip_span v, uint32_t *out)
{
	uint64_t x;

	/* RFC 3261 §20.19: larger than 2**32-1 means 2**32-1. */
	if (parse_u64(v, UINT32_MAX, true, &x) < 0)
		return fail(d, GK_R_PARSE_BAD_VALUE);
	*out = (uint32_t)x;
	return 0;
}

/* Several Contact header fields are one list (RFC 3261 §7.3.1): kept as one value, joined by
 * ", ". Returns the new field's value (in the context's text), or NULL over the limit. */
static const char *contact_append(struct dec *d, struct sip_span v, size_t *len)
{
	struct gk_sip_ctx *s = &d->m->wire.sip;
	const char *have = gk_sip_get(s, GK_SIP_CONTACT);
	size_t hn = strlen(have);

	if (hn) {
		/* The list must be contiguous: unless it ends the text, move it to the end. */
		size_t end = s->str[GK_SIP_CONTACT] + hn + 1;
		if (end != s->used) {
			int at = store_folded(d, (struct sip_span){have, hn});
			if (at < 0)
				return NULL;
			s->str[GK_SIP_CONTACT] = (uint16_t)at;
		}
		if ((size_t)s->used + 2 >= sizeof(s->text)) {
			too_long(d, GK_LIMIT_SIP_TEXT);
			return NULL;
		}
		/* ", " over the NUL, then the new value where store_folded will put it */
		s->text[s->used - 1] = ',';
		s->text[s->used] = ' ';
		s->used = (uint16_t)(s->used + 1);
		int at = store_folded(d, v);
		if (at < 0)
			return NULL;
		/* store_folded starts at `used`, which is the space's successor: contiguous */
		*len = strlen(s->text + at);
		return s->text + at;
	}
	int at = store_folded(d, v);
	if (at < 0)
		return NULL;
	s->str[GK_SIP_CONTACT] = (uint16_t)at;
	*len = strlen(s->text + at);
	return s->text + at;
}

static int parse_contact(struct dec *d, struct sip_span v)
{
	struct sip_span e;
	size_t pos = 0, n = 0;
	int r;
	const char *one = contact_append(d, v, &n);

	if (!one)
		return -1;
	if (!n)
		return fail(d, GK_R_PARSE_SYNTAX);

	struct sip_span list = {one, n};
	while ((r = sip_list_next(list, &pos, &e)) > 0) {
		struct sip_naddr na;
		struct sip_param p;
		size_t ppos = 0;
		bool exp = false, q = false;
		int pr;

		if (!e.n)
			return fail(d, GK_R_PARSE_SYNTAX);
		if (e.n == 1 && e.p[0] == '*') {
			if (d->n_contacts++)
				return fail(d, GK_R_PARSE_SYNTAX); /* '*' stands alone */
			d->ct_star = true;
			continue;
		}
		if (d->ct_star)
			return fail(d, GK_R_PARSE_SYNTAX);
		enum gk_reason why = sip_naddr_parse(e, &na);
		if (why != GK_R_OK)
			return fail(d, why);
		while ((pr = sip_param_next(na.params, &ppos, &p)) > 0) {
			if (sip_span_ieq(p.name, "expires")) {
				uint32_t x;
				if (exp)
					return fail(d, GK_R_PARSE_DUPLICATE);
				exp = true;
				if (!p.has_value || p.quoted || parse_delta(d, p.value, &x) < 0)
					return fail(d, GK_R_PARSE_BAD_VALUE);
				if (!d->n_contacts) {
					d->ct_exp = x;
					d->ct_exp_set = true;
				}
			} else if (sip_span_ieq(p.name, "q")) {
				uint16_t qv;
				if (q)
					return fail(d, GK_R_PARSE_DUPLICATE);
				q = true;
				if (!p.has_value || p.quoted || sip_q_parse(p.value, &qv) < 0)
					return fail(d, GK_R_PARSE_BAD_VALUE);
			}
		}
		if (pr < 0)
			return fail(d, GK_R_PARSE_SYNTAX);
		d->n_contacts++;
	}
	if (r < 0)
		return fail(d, GK_R_PARSE_SYNTAX);
	return 0;
}

/* Call-ID = word ["@" word] (RFC 3261 §25.1). */
static int callid_check(struct dec *d, const char *c)
{
	static const char extra[] = "-.!%*_+`'~()<>:\\\"/[]?{}";
	bool at = false;

	if (!*c)
		return fail(d, GK_R_PARSE_SYNTAX);
	for (const char *p = c; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch == '@' && !at && p != c && p[1]) {
			at = true;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || sip_is_digit(ch) ||
		      (ch && strchr(extra, ch))))
			return fail(d, GK_R_PARSE_SYNTAX);
	}
	return 0;
}

/* Require / Proxy-Require: a list of option tags; any but those this element supports
 * (sip_option_supported) makes the request a 420. */
static int parse_require(struct dec *d, struct sip_span v)
{
	struct sip_span e;
	size_t pos = 0;
	int r;

	while ((r = sip_list_next(v, &pos, &e)) > 0) {
		if (!e.n)
			continue;
		for (size_t i = 0; i < e.n; i++)
			if (!sip_is_token_char((unsigned char)e.p[i]))
				return fail(d, GK_R_PARSE_SYNTAX);
		if (!sip_option_supported(e))
			d->bad_require = true;
	}
	return r < 0 ? fail(d, GK_R_PARSE_SYNTAX) : 0;
}

/* Content-Type = media-type: type "/" subtype *(SEMI m-parameter), LWS allowed around "/". */
static int parse_ctype(struct dec *d, struct sip_span v)
{
	size_t i = 0;

	for (int part = 0; part < 2; part++) {
		size_t t = i;
		while (i < v.n && sip_is_token_char((unsigned char)v.p[i]))
			i++;
		if (i == t)
			return fail(d, GK_R_PARSE_SYNTAX);
		while (i < v.n && sip_is_lws((unsigned char)v.p[i]))
			i++;
		if (part == 0) {
			if (i >= v.n || v.p[i] != '/')
				return fail(d, GK_R_PARSE_SYNTAX);
			for (i++; i < v.n && sip_is_lws((unsigned char)v.p[i]); i++)
				;
		}
	}
	struct sip_param p;
	size_t pos = 0;
	struct sip_span params = {v.p + i, v.n - i};
	int r;
	while ((r = sip_param_next(params, &pos, &p)) > 0)
		;
	return r < 0 ? fail(d, GK_R_PARSE_SYNTAX) : 0;
}

/* Names what finish_request/finish_response refuse (the decode's `what` is empty then). */
static int fail_at(struct dec *d, enum gk_reason r, const char *what)
{
	if (!d->m->wire.sip.bad[0])
		snprintf(d->m->wire.sip.bad, sizeof(d->m->wire.sip.bad), "%s", what);
	return r == GK_R_OK ? -1 : fail(d, r); /* GK_R_OK: the reason is set already */
}

/* RFC 3261 §20.33: Retry-After = delta-seconds [ comment ] *( SEMI retry-param ). Only the
 * delta-seconds matter here; what may follow them is read past. */
static int parse_retry_after(struct dec *d, struct sip_span v)
{
	size_t i = 0;
	uint64_t x;

	while (i < v.n && sip_is_digit((unsigned char)v.p[i]))
		i++;
	if (i < v.n && !sip_is_lws((unsigned char)v.p[i]) && v.p[i] != '(' && v.p[i] != ';')
		return fail(d, GK_R_PARSE_BAD_VALUE);
	/* RFC 3261 §20.33 refers to §20.19: beyond 2**32-1 is 2**32-1 */
	if (parse_u64((struct sip_span){v.p, i}, UINT32_MAX, true, &x) < 0)
		return fail(d, GK_R_PARSE_BAD_VALUE);
	d->retry_after = (uint32_t)x;
	return 0;
}

static int once(struct dec *d, enum sip_hdr h)
{
	if (d->seen & SEEN(h))
		return fail(d, GK_R_PARSE_DUPLICATE);
	d->seen |= SEEN(h);
	return 0;
}

static int header(struct dec *d, struct sip_span name, struct sip_span v)
{
	struct gk_sip_ctx *s = &d->m->wire.sip;
	enum sip_hdr h = sip_hdr_of(name);
	bool ok200 = !d->req && d->status == 200;
	uint64_t x;

	switch (h) {
	case SIP_H_VIA:
		d->seen |= SEEN(h);
		return parse_via(d, v);
	case SIP_H_FROM:
	case SIP_H_TO:
		if (once(d, h) < 0)
			return -1;
		return parse_fromto(d, v, h == SIP_H_TO);
	case SIP_H_CALL_ID: {
		int at;
		unsigned ctl = d->escaped_ctl;
		if (once(d, h) < 0 || (at = store_folded(d, v)) < 0)
			return -1;
		if (d->escaped_ctl != ctl)
			return fail(d, GK_R_PARSE_SYNTAX); /* a Call-ID is a word: no quoted-pair */
		s->str[GK_SIP_CALL_ID] = (uint16_t)at;
		return callid_check(d, s->text + at);
	}
	case SIP_H_CSEQ:
		if (once(d, h) < 0)
			return -1;
		return parse_cseq(d, v);
	case SIP_H_MAX_FORWARDS:
		if (once(d, h) < 0)
			return -1;
		/* RFC 4475 §3.1.2.4: 300 hops cannot be meant; RFC 3261 §20.22 suggests 70 */
		if (parse_u64(v, 255, false, &x) < 0)
			return fail(d, GK_R_PARSE_BAD_VALUE);
		return 0;
	case SIP_H_CONTENT_LENGTH:
		if (once(d, h) < 0)
			return -1;
		if (parse_u64(v, UINT64_MAX, true, &d->clen) < 0)
			return fail(d, GK_R_PARSE_BAD_VALUE);
		return 0;
	case SIP_H_CONTACT:
		if (!d->req && !ok200)
			return 0;
		return parse_contact(d, v);
	case SIP_H_EXPIRES:
		if (!(d->req && d->is_register) && !ok200)
			return 0;
		if (once(d, h) < 0 || parse_delta(d, v, &d->hdr_exp) < 0)
			return -1;
		d->hdr_exp_set = true;
		return 0;
	case SIP_H_AUTHORIZATION:
		return d->req ? parse_auth(d, v, A_CRED) : 0;
	case SIP_H_WWW_AUTHENTICATE:
		return !d->req && d->status == 401 ? parse_auth(d, v, A_CHAL) : 0;
	case SIP_H_PROXY_AUTHENTICATE: /* a UA's only: the exchange's challenges are 401s */
		return d->ua_alg && !d->req && d->status == 407 ? parse_auth(d, v, A_CHAL) : 0;
	case SIP_H_AUTHENTICATION_INFO:
		if (!ok200)
			return 0;
		if (once(d, h) < 0)
			return -1;
		return parse_auth(d, v, A_INFO);
	case SIP_H_SECURITY_CLIENT:
		return d->req ? parse_mechs(d, v, MECHS_CLIENT) : 0;
	case SIP_H_SECURITY_SERVER:
		return ok200 ? parse_mechs(d, v, MECHS_SERVER) : 0;
	case SIP_H_SECURITY_VERIFY:
		return d->req ? parse_mechs(d, v, MECHS_VERIFY) : 0;
	case SIP_H_REQUIRE:
	case SIP_H_PROXY_REQUIRE:
		return d->req ? parse_require(d, v) : 0;
	case SIP_H_CONTENT_TYPE:
		if (once(d, h) < 0)
			return -1;
		d->has_ctype = true;
		return parse_ctype(d, v);
	case SIP_H_CONTENT_ENCODING:
		return 0; /* matters only with a body, and every body is refused (below) */
	case SIP_H_RETRY_AFTER:
		if (d->req || d->status != 503)
			return 0; /* read where it says how long an overload lasts */
		if (once(d, h) < 0)
			return -1;
		return parse_retry_after(d, v);
	default:
		return 0;
	}
}

/* ---- lines --------------------------------------------------------------------------------- */

/* One logical line of the head (sip_line_next), a failure recorded as the decode's reason. An
 * escaped control character is let through: store_folded keeps a stand-in for it. */
static int next_line(struct dec *d, const char *b, size_t len, size_t *pos, bool fold,
                     struct sip_span *line)
{
	enum gk_reason why = sip_line_next(b, len, pos, fold, true, line);

	return why == GK_R_OK ? 0 : fail(d, why);
}

/* SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT: another version than 2.0 is a 505 in a request. */
static bool version_ok(struct dec *d, struct sip_span v)
{
	size_t i = 4, dot = 0;

	if (sip_span_ieq(v, "sip/2.0"))
		return true;
	if (v.n > 4 && sip_span_ieq((struct sip_span){v.p, 4}, "sip/")) {
		for (; i < v.n; i++) {
			if (v.p[i] == '.' && !dot && i > 4)
				dot = i;
			else if (!sip_is_digit((unsigned char)v.p[i]))
				break;
		}
		if (i == v.n && dot && dot + 1 < v.n) {
			fail(d, d->req ? GK_R_BAD_VERSION : GK_R_PARSE_UNSUPPORTED);
			return false;
		}
	}
	fail(d, GK_R_PARSE_SYNTAX);
	return false;
}

static int start_line(struct dec *d, struct sip_span l)
{
	struct gk_sip_ctx *s = &d->m->wire.sip;
	const char *sp1 = memchr(l.p, ' ', l.n);
	if (!sp1)
		return fail(d, GK_R_PARSE_SYNTAX);
	struct sip_span a = {l.p, (size_t)(sp1 - l.p)};
	struct sip_span rest = {sp1 + 1, l.n - a.n - 1};

	if (a.n > 4 && sip_span_ieq((struct sip_span){a.p, 4}, "sip/")) {
		/* Status-Line = SIP-Version SP Status-Code SP Reason-Phrase */
		if (!version_ok(d, a))
			return -1;
		if (rest.n < 3 || (rest.n > 3 && rest.p[3] != ' '))
			return fail(d, GK_R_PARSE_SYNTAX);
		for (int i = 0; i < 3; i++)
			if (!sip_is_digit((unsigned char)rest.p[i]))
				return fail(d, GK_R_PARSE_SYNTAX);
		d->status = (uint16_t)((rest.p[0] - '0') * 100 + (rest.p[1] - '0') * 10 +
		                       (rest.p[2] - '0'));
		if (d->status < 100 || d->status > 699)
			return fail(d, GK_R_PARSE_BAD_VALUE);
		s->status = d->status;
		return 0;
	}
	/* Request-Line = Method SP Request-URI SP SIP-Version */
	d->req = true;
	if (!a.n)
		return fail(d, GK_R_PARSE_SYNTAX);
	for (size_t i = 0; i < a.n; i++)
		if (!sip_is_token_char((unsigned char)a.p[i]))
			return fail(d, GK_R_PARSE_SYNTAX);
	if (a.n >= sizeof(s->method))
		return too_long(d, GK_LIMIT_SIP_METHOD);
	memcpy(s->method, a.p, a.n);
	d->is_register = a.n == 8 && memcmp(a.p, "REGISTER", 8) == 0;
	const char *sp2 = memchr(rest.p, ' ', rest.n);
	if (!sp2)
		return fail(d, GK_R_PARSE_SYNTAX);
	struct sip_span uri = {rest.p, (size_t)(sp2 - rest.p)};
	struct sip_span ver = {sp2 + 1, rest.n - uri.n - 1};
	if (!version_ok(d, ver))
		return -1;
	if (!uri.n)
		return fail(d, GK_R_PARSE_SYNTAX);
	for (size_t i = 0; i < uri.n; i++)
		if ((unsigned char)uri.p[i] <= 0x20 || (unsigned char)uri.p[i] >= 0x7f)
			return fail(d, GK_R_PARSE_SYNTAX);
	if (gk_sip_set(s, GK_SIP_RURI, uri.p, uri.n) < 0)
		return too_long(d, GK_LIMIT_SIP_TEXT);
	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" (RFC 3261 §25.1) */
	size_t i = 0;
	while (i < uri.n && ((uri.p[i] | 0x20) >= 'a' && (uri.p[i] | 0x20) <= 'z'))
		i++;
	if (!i)
		return fail(d, GK_R_PARSE_SYNTAX); /* RFC 4475 §3.1.2.7: <> around the R-URI */
	while (i < uri.n && (sip_is_digit((unsigned char)uri.p[i]) ||
	                     ((uri.p[i] | 0x20) >= 'a' && (uri.p[i] | 0x20) <= 'z') ||
	                     uri.p[i] == '+' || uri.p[i] == '-' || uri.p[i] == '.'))
		i++;
	if (i >= uri.n || uri.p[i] != ':')
		return fail(d, GK_R_PARSE_SYNTAX);
	struct sip_span scheme = {uri.p, i};
	if (!sip_span_ieq(scheme, "sip") && !sip_span_ieq(scheme, "sips")) {
		d->bad_scheme = true; /* a 416 once the request is known to be one we serve */
		return 0;
	}
	struct sip_span user;
	enum gk_reason why = sip_uri_user_host((struct sip_span){gk_sip_get(s, GK_SIP_RURI), uri.n},
	                                       &user, &d->ruri_host);
	if (why != GK_R_OK)
		return fail(d, why);
	/* RFC 3261 §19.1.1: a Request-URI has no headers part (RFC 4475 §3.1.2.11) */
	const char *h = d->ruri_host.p + d->ruri_host.n;
	const char *end = gk_sip_get(s, GK_SIP_RURI) + uri.n;
	if (memchr(h, '?', (size_t)(end - h)))
		return fail(d, GK_R_PARSE_SYNTAX);
	return 0;
}

/* ---- the message --------------------------------------------------------------------------- */

/* Drops what a message type does not carry, so a field set always means "on the wire". */
static void keep_only(struct gk_msg *m, uint32_t fields)
{
	m->fields &= fields;
	if (!(fields & GK_F_N1))
		memset(m->n1, 0, sizeof(m->n1));
	if (!(fields & GK_F_N2))
		memset(m->n2, 0, sizeof(m->n2));
	if (!(fields & GK_F_TS))
		m->ts = 0;
	if (!(fields & GK_F_RAND))
		memset(m->rand, 0, sizeof(m->rand));
	if (!(fields & GK_F_AUTH))
		memset(m->auth, 0, sizeof(m->auth));
	if (!(fields & GK_F_BLOB))
		memset(m->blob, 0, sizeof(m->blob));
	if (!(fields & GK_F_BLOB_ELEM))
		memset(m->blob_element, 0, sizeof(m->blob_element));
	if (!(fields & GK_F_ADDR))
		memset(m->address, 0, sizeof(m->address));
	if (!(fields & GK_F_MECHS)) {
		memset(m->mechs, 0, sizeof(m->mechs));
		m->n_mechs = 0;
	}
	if (!(fields & GK_F_CHOSEN))
		m->chosen = 0;
	if (!(fields & GK_F_MAC))
		memset(m->mac, 0, sizeof(m->mac));
	if (!(fields & GK_F_EXPIRES))
		m->expires = 0;
	if (!(fields & GK_F_INDEX))
		m->index = 0;
	if (!(fields & (GK_F_DIGEST | GK_F_DIGEST_CHAL)))
		memset(&m->digest, 0, sizeof(m->digest));
}

static int finish_request(struct dec *d)
{
	struct gk_msg *m = d->m;
	struct gk_sip_ctx *s = &m->wire.sip;

	struct sip_span method = {s->method, strlen(s->method)};
	if (!span_eq(d->cseq_method, method)) {
		/* RFC 4475 §3.1.2.18: of the two answers a method nobody knows may get, 501 says
		 * more than 400 and stays right once the method is known; a known one is 400
		 * (§3.1.2.17) */
		if (!sip_method_known(method))
			return fail_at(d, GK_R_NOT_SERVED, "Request-Line");
		return fail_at(d, GK_R_PARSE_BAD_VALUE, "CSeq");
	}
	/* RFC 3261 §8.2 in its order, for what this element serves; anything else is refused
	 * for its method first (405/501 by the exchange, gk_other_kind). */
	if (sip_method_served(method)) {
		if (d->bad_scheme)
			return fail_at(d, GK_R_BAD_SCHEME, "Request-URI");
		if (d->bad_require)
			return fail_at(d, GK_R_BAD_EXTENSION, "Require");
		if (d->body_len) /* no request this element serves has one */
			return fail_at(d, GK_R_BAD_MEDIA, "Content-Type");
	}
	if (d->gk) {
		if (!d->username[0] || !d->realm[0])
			return fail_at(d, GK_R_PARSE_MISSING, "Authorization");
		memcpy(m->idc, d->username, sizeof(m->idc));
		memcpy(m->idsp, d->realm, sizeof(m->idsp));
		/* The response names the terminal by its To URI: it must be the one that
		 * authenticated, or the answer would go to another terminal's transaction. */
		if (d->is_register &&
		    !span_eq(d->to_user, (struct sip_span){d->username, strlen(d->username)}))
			return fail_at(d, GK_R_PARSE_BAD_VALUE, "To");
	} else if (!d->is_register && !id_fits(d->to_user)) {
		/* Outside registration the To user is only who the request is for: one that
		 * cannot be an IDc (RFC 4475 §3.1.1.2's is all punctuation) names none. */
		if (d->ruri_host.n && set_id(d, d->ruri_host, m->idsp) < 0)
			return fail_at(d, GK_R_OK, "Request-URI");
	} else {
		if (d->to_user.n && set_id(d, d->to_user, m->idc) < 0)
			return fail_at(d, GK_R_OK, "To");
		if (d->ruri_host.n && set_id(d, d->ruri_host, m->idsp) < 0)
			return fail_at(d, GK_R_OK, "Request-URI");
	}
	if (m->n_mechs)
		m->fields |= GK_F_MECHS;
	if (!d->is_register) {
		m->type = GK_MSG_OTHER;
		keep_only(m, GK_F_N1 | GK_F_N2 | GK_F_TS | GK_F_RAND | GK_F_AUTH | GK_F_MECHS |
		                 GK_F_ADDR | GK_F_DIGEST | GK_F_SEC_VERIFY);
		return 0;
	}
	/* RFC 3261 §10.3: a REGISTER's To is the address of record, a SIP or SIPS URI (RFC 4475
	 * §3.3.4: a registrar answers another scheme 400) */
	if (!d->to_host.n)
		return fail_at(d, GK_R_PARSE_BAD_VALUE, "To");
	if (!m->idc[0] || !m->idsp[0])
		return fail_at(d, GK_R_PARSE_MISSING, m->idc[0] ? "Request-URI" : "To");
	/* RFC 3261 §10.2.1.1: a Contact's own expires wins over the Expires header field. */
	bool set = true;
	if (d->ct_star) {
		if (d->hdr_exp_set && d->hdr_exp != 0)
			return fail_at(d, GK_R_PARSE_BAD_VALUE,
			               "Contact"); /* '*' only with Expires 0 */
		m->expires = 0;
	} else if (d->ct_exp_set) {
		m->expires = d->ct_exp;
	} else if (d->hdr_exp_set) {
		m->expires = d->hdr_exp;
	} else {
		set = false;
	}
	if (set)
		m->fields |= GK_F_EXPIRES;
	if (set && m->expires == 0)
		m->type = GK_MSG_DEREGISTER;
	else if (m->fields & GK_F_AUTH)
		m->type = GK_MSG_ANSWER;
	else
		m->type = GK_MSG_REGISTER;
	return 0;
}

static int finish_response(struct dec *d)
{
	struct gk_msg *m = d->m;
	struct gk_sip_ctx *s = &m->wire.sip;

	memcpy(s->method, d->cseq_method.p, d->cseq_method.n);
	s->method[d->cseq_method.n] = '\0';
	if (d->to_user.n && set_id(d, d->to_user, m->idc) < 0)
		return -1;
	if (d->to_host.n && set_id(d, d->to_host, m->idsp) < 0)
		return -1;

	bool chal_status = d->status == 401 || (d->ua_alg && d->status == 407);
	if (chal_status && (d->gk || (m->fields & GK_F_DIGEST_CHAL))) {
		/* GK1 names IDsp in its realm; a Digest-only 401 by its To URI */
		if (d->gk) {
			if (!d->realm[0])
				return fail(d, GK_R_PARSE_MISSING);
			memcpy(m->idsp, d->realm, sizeof(m->idsp));
		} else if (!m->idsp[0]) {
			return fail(d, GK_R_PARSE_MISSING);
		}
		struct gk_digest *g = &m->digest;
		if (sip_span_ieq((struct sip_span){g->algorithm, strlen(g->algorithm)},
		                 "sha-256,md5"))
			memset(g->algorithm, 0, sizeof(g->algorithm));
		m->type = GK_MSG_CHALLENGE;
		keep_only(m, GK_F_N1 | GK_F_N2 | GK_F_TS | GK_F_RAND | GK_F_WANT_MECHS |
		                 GK_F_DIGEST_CHAL);
		return 0;
	}
	if (d->status == 200 && strcmp(s->method, "REGISTER") == 0) {
		bool set = true;
		if (d->ct_exp_set)
			m->expires = d->ct_exp;
		else if (d->hdr_exp_set)
			m->expires = d->hdr_exp;
		else
			set = false;
		if (set)
			m->fields |= GK_F_EXPIRES;
		/* A key or the s10 MAC makes it a success: from the network to the terminal
		 * (s10: MAC, E_Kc[K]) or from the core to the SBC (s9: both blobs, no MAC).
		 * A binding with mechanism digest and a lifetime is the success of a Digest
		 * registration, which delivers no key. */
		const uint32_t gk_info = GK_F_N1 | GK_F_N2 | GK_F_TS | GK_F_BLOB | GK_F_MECHS |
		                         GK_F_INDEX | GK_F_RAND | GK_F_BLOB_ELEM;
		bool digest_ok = (m->fields & GK_F_CHOSEN) && m->chosen == GK_MECH_DIGEST &&
		                 !(set && m->expires == 0) && !(m->fields & gk_info);
		m->type = (m->fields & (GK_F_MAC | GK_F_BLOB | GK_F_BLOB_ELEM)) || digest_ok
		              ? GK_MSG_SUCCESS
		              : GK_MSG_DEREG_OK;
		return 0;
	}
	if (d->status == 200) {
		m->type = GK_MSG_OTHER_OK;
		keep_only(m, 0);
		return 0;
	}
	if (d->status >= 400) {
		m->type = GK_MSG_REJECT;
		keep_only(m, 0);
		/* The wire says no more than "refused", or, with 503, "overloaded: try again after
		 * Retry-After seconds" (RFC 3261 §21.5.4). */
		m->reason = d->status == 503 ? GK_R_OVERLOAD : GK_R_REFUSED;
		m->retry_after = d->status == 503 ? d->retry_after : 0;
		return 0;
	}
	if (d->status < 200) {
		m->type = GK_MSG_PROVISIONAL; /* the transaction goes on (RFC 4475 §3.1.1.13) */
		keep_only(m, 0);
		return 0;
	}
	return fail(d, GK_R_PARSE_UNSUPPORTED); /* redirect, other 2xx */
}

static int decode(const uint8_t *buf, size_t len, struct gk_msg *m, enum gk_reason *reason,
                  const char *ua_alg)
{
	const char *b = (const char *)buf;
	struct dec d = {.m = m, .ua_alg = ua_alg};
	struct sip_span line, what = {"Start-Line", 10};
	size_t pos = 0;

	gk_msg_clear(m);
	m->proto = GK_PROTO_SIP;
	/* RFC 3261 §7.5: CRLFs before the start line are ignored (keep-alives look like this). */
	while (pos < len && (b[pos] == '\r' || b[pos] == '\n'))
		pos++;
	if (next_line(&d, b, len, &pos, false, &line) < 0 || start_line(&d, line) < 0)
		goto bad;
	for (;;) {
		what = (struct sip_span){"Header", 6};
		if (next_line(&d, b, len, &pos, true, &line) < 0)
			goto bad;
		if (!line.n)
			break;
		if (sip_is_ws((unsigned char)line.p[0])) {
			what = (struct sip_span){"Start-Line", 10};
			fail(&d, GK_R_PARSE_SYNTAX); /* continuation of the start line */
			goto bad;
		}
		size_t i = 0;
		while (i < line.n && sip_is_token_char((unsigned char)line.p[i]))
			i++;
		struct sip_span name = {line.p, i};
		while (i < line.n && sip_is_lws((unsigned char)line.p[i]))
			i++;
		if (!name.n || i >= line.n || line.p[i] != ':') {
			fail(&d, GK_R_PARSE_SYNTAX);
			goto bad;
		}
		struct sip_span v = sip_trim((struct sip_span){line.p + i + 1, line.n - i - 1});
		enum sip_hdr h = sip_hdr_of(name);
		what = h == SIP_H_OTHER
		           ? name
		           : (struct sip_span){sip_hdr_name(h), strlen(sip_hdr_name(h))};
		if (header(&d, name, v) < 0)
			goto bad;
	}
	/* The body is not read, but what Content-Length announces must be in the datagram;
	 * bytes after it (a stripped trailer's neighbours, padding) are tolerated. */
	what = (struct sip_span){"Content-Length", 14};
	if ((d.seen & SEEN(SIP_H_CONTENT_LENGTH)) && d.clen > len - pos) {
		fail(&d, GK_R_PARSE_TRUNCATED);
		goto bad;
	}
	/* RFC 3261 §18.3: without Content-Length a datagram's body runs to its end. */
	d.body_len = (d.seen & SEEN(SIP_H_CONTENT_LENGTH)) ? d.clen : len - pos;
	static const enum sip_hdr needed[] = {SIP_H_VIA, SIP_H_FROM, SIP_H_TO, SIP_H_CALL_ID,
	                                      SIP_H_CSEQ};
	for (size_t k = 0; k < sizeof(needed) / sizeof(needed[0]); k++) {
		/* an empty Via header field is no Via */
		if (needed[k] == SIP_H_VIA ? !m->wire.sip.n_via : !(d.seen & SEEN(needed[k]))) {
			what = (struct sip_span){sip_hdr_name(needed[k]),
			                         strlen(sip_hdr_name(needed[k]))};
			fail(&d, GK_R_PARSE_MISSING);
			goto bad;
		}
	}
	what = (struct sip_span){"", 0}; /* finish_*() name what they refuse */
	if ((d.req ? finish_request(&d) : finish_response(&d)) < 0)
		goto bad;
	*reason = GK_R_OK;
	return 0;
bad:
	*reason = d.why == GK_R_OK ? GK_R_PARSE_SYNTAX : d.why;
	if (what.n == 10 && memcmp(what.p, "Start-Line", 10) == 0)
		what = d.req || !len || b[0] != 'S' ? (struct sip_span){"Request-Line", 12}
		                                    : (struct sip_span){"Status-Line", 11};
	if (!m->wire.sip.bad[0]) {
		char *o = m->wire.sip.bad;
		size_t n = 0;
		for (size_t k = 0; k < what.n && n + 1 < sizeof(m->wire.sip.bad); k++)
			if (sip_is_token_char((unsigned char)what.p[k]))
				o[n++] = what.p[k];
		o[n] = '\0';
	}
	return -1;
}

int gk_sip_decode(const uint8_t *buf, size_t len, struct gk_msg *m, enum gk_reason *reason)
{
	return decode(buf, len, m, reason, NULL);
}

int gk_sip_decode_ua(const uint8_t *buf, size_t len, const char *digest_alg, struct gk_msg *m,
                     enum gk_reason *reason)
{
	if (!digest_alg || !digest_alg[0]) {
		*reason = GK_R_INTERNAL;
		return -1;
	}
	return decode(buf, len, m, reason, digest_alg);
}

int gk_sip_is_register(const uint8_t *buf, size_t len)
{
	static const char m[] = "REGISTER ";
	size_t i = sizeof(m) - 1;

	if (len < i || memcmp(buf, m, i) != 0)
		return 0;
	size_t u = i;
	while (i < len && buf[i] > 0x20 && buf[i] < 0x7f)
		i++;
	if (i == u || len - i < 9 || memcmp(buf + i, " SIP/2.0", 8) != 0)
		return 0;
	i += 8;
	return buf[i] == '\n' || (buf[i] == '\r' && i + 1 < len && buf[i + 1] == '\n');
}
