// SPDX-License-Identifier: GPL-2.0-only
/* Pieces of the RFC 3261 grammar used by the SIP decoder, the encoder and the proxy's view. */
#include <string.h>

#include "sip_priv.h"

#define T SIP_C_TOKEN
#define L SIP_C_LWS
#define I SIP_C_ID
#define P SIP_C_PLAIN
/* clang-format off */
const uint8_t sip_ctype[256] = {
	['\t'] = L | P, ['\n'] = L, ['\r'] = L, [' '] = L | P,
	['!'] = T | I | P, ['"'] = P, ['#'] = I | P, ['$'] = I | P, ['%'] = T | I | P,
	['&'] = I | P, ['\''] = T | P, ['('] = I | P, [')'] = I | P, ['*'] = T | I | P,
	['+'] = T | I | P, [','] = I | P, ['-'] = T | I | P, ['.'] = T | I | P, ['/'] = I | P,
	['0' ... '9'] = T | I | P,
	[':'] = I | P, [';'] = I | P, ['<'] = I | P, ['='] = I | P, ['>'] = I | P, ['?'] = I | P,
	['@'] = I | P,
	['A' ... 'Z'] = T | I | P,
	['['] = I | P, ['\\'] = P, [']'] = I | P, ['^'] = I | P, ['_'] = T | I | P,
	['`'] = T | I | P,
	['a' ... 'z'] = T | I | P,
	['{'] = I | P, ['|'] = I | P, ['}'] = I | P, ['~'] = T | I | P,
	[0x80 ... 0xff] = P, /* UTF-8 in display names and reason phrases */
};
/* clang-format on */
#undef T
#undef L
#undef I
#undef P

struct sip_span sip_trim(struct sip_span s)
{
	while (s.n && sip_is_lws((unsigned char)s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n && sip_is_lws((unsigned char)s.p[s.n - 1]))
		s.n--;
	return s;
}

size_t sip_quoted_end(struct sip_span s, size_t i)
{
	for (;;) {
		const char *q = memchr(s.p + i, '"', s.n - i);
		if (!q)
			return s.n;
		const char *bs = memchr(s.p + i, '\\', (size_t)(q - (s.p + i)));
		if (!bs)
			return (size_t)(q - s.p);
		i = (size_t)(bs - s.p) + 2; /* the quoted-pair's character may be a quote */
		if (i >= s.n)
			return s.n;
	}
}

/* Index just past the quoted string starting at s.p[i] == '"', or 0 when it is unterminated
 * (0 can never be a valid answer: the opening quote is at least one byte). */
static size_t skip_quoted(struct sip_span s, size_t i)
{
	size_t e = sip_quoted_end(s, i + 1);
	return e < s.n ? e + 1 : 0;
}

enum gk_reason sip_line_next(const char *b, size_t len, size_t *pos, bool fold, bool escaped_ctl,
                             struct sip_span *line)
{
	size_t i = *pos;

	for (;;) {
		while (i < len && (sip_ctype[(unsigned char)b[i]] & SIP_C_PLAIN))
			i++;
		if (i >= len)
			return GK_R_PARSE_TRUNCATED;
		unsigned char c = (unsigned char)b[i];
		if (c == '\n') {
			size_t end = i > *pos && b[i - 1] == '\r' ? i - 1 : i;
			bool more = i + 1 < len && sip_is_ws((unsigned char)b[i + 1]);
			if (fold && end > *pos && more) {
				i++;
				continue;
			}
			*line = (struct sip_span){b + *pos, end - *pos};
			*pos = i + 1;
			return GK_R_OK;
		}
		if (c == '\r') {
			if (i + 1 >= len)
				return GK_R_PARSE_TRUNCATED;
			if (b[i + 1] != '\n')
				return GK_R_PARSE_SYNTAX;
		} else if (!escaped_ctl || i == *pos || b[i - 1] != '\\') {
			/* quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F) may escape any control
			 * character but CR and LF (RFC 4475 §3.1.1.2); anywhere else none belongs
			 */
			return GK_R_PARSE_SYNTAX;
		}
		i++;
	}
}

int sip_list_next(struct sip_span s, size_t *pos, struct sip_span *elem)
{
	size_t i = *pos, start = i;
	bool angle = false;

	if (i > s.n)
		return 0;
	while (i < s.n) {
		unsigned char c = (unsigned char)s.p[i];
		if (c == '"') {
			i = skip_quoted(s, i);
			if (!i)
				return -1;
			continue;
		}
		if (c == '<')
			angle = true;
		else if (c == '>')
			angle = false;
		else if (c == ',' && !angle)
			break;
		i++;
	}
	*elem = sip_trim((struct sip_span){s.p + start, i - start});
	/* After a final comma comes one more (empty) element, so callers see "a," as two. */
	*pos = i < s.n ? i + 1 : SIZE_MAX;
	return 1;
}

static bool uri_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '<' && c != '>' && c != '"';
}

static enum gk_reason uri_check(struct sip_span u)
{
	size_t i = 0;

	if (!u.n || !((u.p[0] >= 'a' && u.p[0] <= 'z') || (u.p[0] >= 'A' && u.p[0] <= 'Z')))
		return GK_R_PARSE_SYNTAX;
	while (i < u.n && u.p[i] != ':') {
		unsigned char c = (unsigned char)u.p[i];
		if (!(sip_is_token_char(c) && c != '!' && c != '%' && c != '*' && c != '_' &&
		      c != '`' && c != '\'' && c != '~'))
			return GK_R_PARSE_SYNTAX;
		i++;
	}
	if (i + 1 >= u.n)
		return GK_R_PARSE_SYNTAX; /* no scheme, or nothing after it */
	for (; i < u.n; i++)
		if (!uri_char((unsigned char)u.p[i]))
			return GK_R_PARSE_SYNTAX;
	return GK_R_OK;
}

enum gk_reason sip_naddr_parse(struct sip_span s, struct sip_naddr *out)
{
	size_t i = 0, rest;

	s = sip_trim(s);
	if (!s.n)
		return GK_R_PARSE_SYNTAX;
	if (s.p[0] == '"') {
		i = skip_quoted(s, 0);
		if (!i)
			return GK_R_PARSE_SYNTAX;
		while (i < s.n && sip_is_lws((unsigned char)s.p[i]))
			i++;
		if (i >= s.n || s.p[i] != '<')
			return GK_R_PARSE_SYNTAX;
	} else {
		/* An unquoted display name is tokens and spaces (UTF-8 tolerated); an addr-spec
		 * always has a ':' first, which no token contains. */
		while (i < s.n) {
			unsigned char c = (unsigned char)s.p[i];
			if (!sip_is_token_char(c) && !sip_is_lws(c) && c < 0x80)
				break;
			i++;
		}
		if (i >= s.n || s.p[i] != '<')
			i = SIZE_MAX;
	}
	if (i != SIZE_MAX) {
		const char *gt = memchr(s.p + i + 1, '>', s.n - i - 1);
		if (!gt)
			return GK_R_PARSE_SYNTAX;
		out->uri = (struct sip_span){s.p + i + 1, (size_t)(gt - (s.p + i + 1))};
		rest = (size_t)(gt - s.p) + 1;
	} else {
		const char *semi = memchr(s.p, ';', s.n);
		rest = semi ? (size_t)(semi - s.p) : s.n;
		out->uri = sip_trim((struct sip_span){s.p, rest});
	}
	if (uri_check(out->uri) != GK_R_OK)
		return GK_R_PARSE_SYNTAX;
	while (rest < s.n && sip_is_lws((unsigned char)s.p[rest]))
		rest++;
	if (rest < s.n && s.p[rest] != ';')
		return GK_R_PARSE_SYNTAX;
	out->params = (struct sip_span){s.p + rest, s.n - rest};
	return GK_R_OK;
}

int sip_param_next(struct sip_span s, size_t *pos, struct sip_param *p)
{
	size_t i = *pos, start;

	while (i < s.n && sip_is_lws((unsigned char)s.p[i]))
		i++;
	if (i >= s.n) {
		*pos = i;
		return 0;
	}
	if (s.p[i] != ';')
		return -1;
	start = i++;
	while (i < s.n && sip_is_lws((unsigned char)s.p[i]))
		i++;
	p->name.p = s.p + i;
	while (i < s.n && sip_is_token_char((unsigned char)s.p[i]))
		i++;
	p->name.n = (size_t)(s.p + i - p->name.p);
	if (!p->name.n)
		return -1;
	p->raw = (struct sip_span){s.p + start, i - start};
	p->has_value = p->quoted = false;
	p->value = (struct sip_span){s.p + i, 0};
	size_t j = i;
	while (j < s.n && sip_is_lws((unsigned char)s.p[j]))
		j++;
	if (j < s.n && s.p[j] == '=') {
		j++;
		while (j < s.n && sip_is_lws((unsigned char)s.p[j]))
			j++;
		if (j < s.n && s.p[j] == '"') {
			size_t e = skip_quoted(s, j);
			if (!e)
				return -1;
			p->value = (struct sip_span){s.p + j + 1, e - j - 2};
			p->quoted = true;
			j = e;
		} else {
			size_t v = j;
			while (j < s.n && !sip_is_lws((unsigned char)s.p[j]) && s.p[j] != ';' &&
			       s.p[j] != ',' && s.p[j] != '"' && s.p[j] != '<' && s.p[j] != '>')
				j++;
			if (j == v)
				return -1;
			p->value = (struct sip_span){s.p + v, j - v};
		}
		p->has_value = true;
		i = j;
		p->raw.n = i - start;
	}
	*pos = i;
	return 1;
}

enum gk_reason sip_uri_user_host(struct sip_span uri, struct sip_span *user, struct sip_span *host)
{
	const char *colon = memchr(uri.p, ':', uri.n);
	struct sip_span hp;
	size_t end, i;

	user->p = host->p = uri.p;
	user->n = host->n = 0;
	if (!colon)
		return GK_R_PARSE_SYNTAX;
	struct sip_span scheme = {uri.p, (size_t)(colon - uri.p)};
	if (!sip_span_ieq(scheme, "sip") && !sip_span_ieq(scheme, "sips"))
		return GK_R_OK;
	struct sip_span r = {colon + 1, uri.n - scheme.n - 1};
	/* RFC 3261 §25: the user part may hold ';' and '?' (user-unreserved), while '@' may
	 * appear nowhere else in a SIP URI (not in parameters, headers or the password): the
	 * first '@' ends the userinfo, and only after it do ';' and '?' end the host. */
	const char *at = memchr(r.p, '@', r.n);
	size_t hs = 0;
	if (at) {
		size_t ui = (size_t)(at - r.p);
		const char *pw = memchr(r.p, ':', ui);
		*user = (struct sip_span){r.p, pw ? (size_t)(pw - r.p) : ui};
		hs = ui + 1;
	}
	for (end = hs; end < r.n && r.p[end] != ';' && r.p[end] != '?'; end++)
		;
	hp = (struct sip_span){r.p + hs, end - hs};
	if (!hp.n)
		return GK_R_PARSE_SYNTAX;
	if (hp.p[0] == '[') {
		const char *rb = memchr(hp.p, ']', hp.n);
		if (!rb)
			return GK_R_PARSE_SYNTAX;
		i = (size_t)(rb - hp.p) + 1;
	} else {
		for (i = 0; i < hp.n && hp.p[i] != ':'; i++)
			;
	}
	*host = (struct sip_span){hp.p, i};
	if (!host->n)
		return GK_R_PARSE_SYNTAX;
	if (i < hp.n) {
		if (hp.p[i] != ':' || i + 1 >= hp.n)
			return GK_R_PARSE_SYNTAX;
		for (i++; i < hp.n; i++)
			if (!sip_is_digit((unsigned char)hp.p[i]))
				return GK_R_PARSE_SYNTAX;
	}
	return GK_R_OK;
}

/* ---- header field names: the one table the decoder, the view and the refusal read ---- */

/* clang-format off */
#define FIELD(s, k) {s, sizeof(s) - 1, k}
/* clang-format on */
static const struct {
	const char *name; /* lower case */
	size_t len;
	enum sip_hdr kind;
} field_names[] = {
    FIELD("via", SIP_H_VIA),
    FIELD("from", SIP_H_FROM),
    FIELD("to", SIP_H_TO),
    FIELD("call-id", SIP_H_CALL_ID),
    FIELD("cseq", SIP_H_CSEQ),
    FIELD("max-forwards", SIP_H_MAX_FORWARDS),
    FIELD("contact", SIP_H_CONTACT),
    FIELD("content-length", SIP_H_CONTENT_LENGTH),
    FIELD("content-type", SIP_H_CONTENT_TYPE),
    FIELD("content-encoding", SIP_H_CONTENT_ENCODING),
    FIELD("subject", SIP_H_SUBJECT),
    FIELD("supported", SIP_H_SUPPORTED),
    FIELD("route", SIP_H_ROUTE),
    FIELD("record-route", SIP_H_RECORD_ROUTE),
    FIELD("p-asserted-identity", SIP_H_PAI),
    FIELD("p-preferred-identity", SIP_H_PPI),
    FIELD("expires", SIP_H_EXPIRES),
    FIELD("authorization", SIP_H_AUTHORIZATION),
    FIELD("www-authenticate", SIP_H_WWW_AUTHENTICATE),
    FIELD("proxy-authenticate", SIP_H_PROXY_AUTHENTICATE),
    FIELD("authentication-info", SIP_H_AUTHENTICATION_INFO),
    FIELD("security-client", SIP_H_SECURITY_CLIENT),
    FIELD("security-server", SIP_H_SECURITY_SERVER),
    FIELD("security-verify", SIP_H_SECURITY_VERIFY),
    FIELD("require", SIP_H_REQUIRE),
    FIELD("proxy-require", SIP_H_PROXY_REQUIRE),
    FIELD("retry-after", SIP_H_RETRY_AFTER),
};
#undef FIELD

static const char *const field_display[SIP_H__COUNT] = {
    [SIP_H_OTHER] = "Header",
    [SIP_H_VIA] = "Via",
    [SIP_H_FROM] = "From",
    [SIP_H_TO] = "To",
    [SIP_H_CALL_ID] = "Call-ID",
    [SIP_H_CSEQ] = "CSeq",
    [SIP_H_MAX_FORWARDS] = "Max-Forwards",
    [SIP_H_CONTACT] = "Contact",
    [SIP_H_CONTENT_LENGTH] = "Content-Length",
    [SIP_H_CONTENT_TYPE] = "Content-Type",
    [SIP_H_CONTENT_ENCODING] = "Content-Encoding",
    [SIP_H_SUBJECT] = "Subject",
    [SIP_H_SUPPORTED] = "Supported",
    [SIP_H_ROUTE] = "Route",
    [SIP_H_RECORD_ROUTE] = "Record-Route",
    [SIP_H_PAI] = "P-Asserted-Identity",
    [SIP_H_PPI] = "P-Preferred-Identity",
    [SIP_H_EXPIRES] = "Expires",
    [SIP_H_AUTHORIZATION] = "Authorization",
    [SIP_H_WWW_AUTHENTICATE] = "WWW-Authenticate",
    [SIP_H_PROXY_AUTHENTICATE] = "Proxy-Authenticate",
    [SIP_H_AUTHENTICATION_INFO] = "Authentication-Info",
    [SIP_H_SECURITY_CLIENT] = "Security-Client",
    [SIP_H_SECURITY_SERVER] = "Security-Server",
    [SIP_H_SECURITY_VERIFY] = "Security-Verify",
    [SIP_H_REQUIRE] = "Require",
    [SIP_H_PROXY_REQUIRE] = "Proxy-Require",
    [SIP_H_RETRY_AFTER] = "Retry-After",
};

enum sip_hdr sip_hdr_of(struct sip_span name)
{
	if (name.n == 1) {
		/* RFC 3261 §7.3.3 and §20 */
		switch (sip_lower((unsigned char)name.p[0])) {
		case 'v':
			return SIP_H_VIA;
		case 'f':
			return SIP_H_FROM;
		case 't':
			return SIP_H_TO;
		case 'i':
			return SIP_H_CALL_ID;
		case 'm':
			return SIP_H_CONTACT;
		case 'l':
			return SIP_H_CONTENT_LENGTH;
		case 'c':
			return SIP_H_CONTENT_TYPE;
		case 'e':
			return SIP_H_CONTENT_ENCODING;
		case 's':
			return SIP_H_SUBJECT;
		case 'k':
			return SIP_H_SUPPORTED;
		default:
			return SIP_H_OTHER;
		}
	}
	for (size_t i = 0; i < sizeof(field_names) / sizeof(field_names[0]); i++)
		if (name.n == field_names[i].len &&
		    sip_lower_eq(name.p, field_names[i].name, name.n))
			return field_names[i].kind;
	return SIP_H_OTHER;
}

const char *sip_hdr_name(enum sip_hdr h)
{
	return (unsigned)h < SIP_H__COUNT && field_display[h] ? field_display[h] : "Header";
}

bool sip_method_served(struct sip_span m)
{
	/* methods are case-sensitive (RFC 3261 §7.1) */
	return (m.n == 8 && memcmp(m.p, "REGISTER", 8) == 0) ||
	       (m.n == 7 && memcmp(m.p, "OPTIONS", 7) == 0);
}

bool sip_method_known(struct sip_span m)
{
	static const char *const known[] = {"INVITE",   "ACK",   "BYE",       "CANCEL", "OPTIONS",
	                                    "REGISTER", "PRACK", "SUBSCRIBE", "NOTIFY", "PUBLISH",
	                                    "INFO",     "REFER", "MESSAGE",   "UPDATE"};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (m.n == strlen(known[i]) && memcmp(m.p, known[i], m.n) == 0)
			return true;
	return false;
}

bool sip_option_supported(struct sip_span tag)
{
	return sip_span_ieq(tag, "sec-agree");
}

int sip_q_parse(struct sip_span v, uint16_t *q)
{
	unsigned frac = 0, digits = 0;

	if (!v.n || (v.p[0] != '0' && v.p[0] != '1'))
		return -1;
	if (v.n > 1 && v.p[1] != '.')
		return -1;
	if (v.n > 5)
		return -1; /* at most three decimals */
	for (size_t i = 2; i < v.n; i++) {
		if (!sip_is_digit((unsigned char)v.p[i]))
			return -1;
		frac = frac * 10 + (unsigned)(v.p[i] - '0');
		digits++;
	}
	while (digits++ < 3)
		frac *= 10;
	if (v.p[0] == '1') {
		if (frac)
			return -1;
		*q = 1000;
	} else {
		*q = (uint16_t)frac;
	}
	return 0;
}

size_t sip_q_format(uint16_t q, char out[8])
{
	size_t n;

	if (q >= 1000) {
		memcpy(out, "1", 2);
		return 1;
	}
	if (q == 0) {
		memcpy(out, "0", 2);
		return 1;
	}
	out[0] = '0';
	out[1] = '.';
	out[2] = (char)('0' + q / 100);
	out[3] = (char)('0' + q / 10 % 10);
	out[4] = (char)('0' + q % 10);
	n = 5;
	while (out[n - 1] == '0')
		n--;
	out[n] = '\0';
	return n;
}
