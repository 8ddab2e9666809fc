/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internals shared by the SIP decoder (sip_parse.c) and encoder (sip_emit.c), and by the proxy's
 * view and editing of messages (sip_view.c, sip_proxy.c). The encoder runs the decoder's own
 * grammar over the context it echoes, so what it emits is what the decoder reads back; the
 * proxy reads with the same pieces, so what it forwards is what gatekey reads.
 */
#ifndef GATEKEY_SIP_PRIV_H
#define GATEKEY_SIP_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gatekey/codec/msg.h"
#include "gatekey/sip/sip.h"

/* Unknown mechanism names are skipped, but they still cost parsing time: bound them too. */
#define SIP_MECH_ENTRIES_MAX (2 * GK_MECH_MAX)
/* Unescaped value of one gk1 auth-param (the longest is the key blob, 122 hex digits, or a
 * mechanism list). */
#define SIP_PARAM_MAX GK_SIP_PARAM_MAX

/* Character classes, one table lookup on the hot path (sip_util.c). */
enum {
	SIP_C_TOKEN = 1u << 0, /* RFC 3261 token */
	SIP_C_LWS = 1u << 1,   /* SP HT CR LF */
	SIP_C_ID = 1u << 2,    /* may appear in IDc/IDsp */
	SIP_C_PLAIN = 1u << 3, /* neither a line end nor refused in the head of a message */
};
extern const uint8_t sip_ctype[256];

static inline bool sip_is_ws(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* Whitespace including the line breaks of folded (obsolete LWS) header lines. */
static inline bool sip_is_lws(unsigned char c)
{
	return sip_ctype[c] & SIP_C_LWS;
}

static inline bool sip_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static inline unsigned char sip_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static inline bool sip_is_token_char(unsigned char c)
{
	return sip_ctype[c] & SIP_C_TOKEN;
}

/* IDc/IDsp: printable ASCII, no whitespace, no quotes, no backslash, 1..GK_ID_MAX bytes. */
static inline bool sip_id_char(unsigned char c)
{
	return sip_ctype[c] & SIP_C_ID;
}

/* Case-insensitive compare of n bytes with a lower-case name of that length: for tables that
 * keep each name's length, where strlen would not fold. */
static inline bool sip_lower_eq(const char *p, const char *lower, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (sip_lower((unsigned char)p[i]) != (unsigned char)lower[i])
			return false;
	return true;
}

/* Case-insensitive compare with a lower-case literal (inline, so strlen folds). */
static inline bool sip_span_ieq(struct sip_span s, const char *lit)
{
	size_t n = __builtin_strlen(lit);

	return s.n == n && sip_lower_eq(s.p, lit, n);
}

/* A message being written: what does not fit sets `full` and writes nothing more, so a caller
 * checks once at the end and never sends a message cut short. */
struct sip_out {
	char *p;
	size_t cap, n;
	bool full;
};

static inline void sip_put(struct sip_out *o, const char *s, size_t n)
{
	if (o->full || n > o->cap - o->n) {
		o->full = true;
		return;
	}
	memcpy(o->p + o->n, s, n);
	o->n += n;
}

static inline void sip_puts(struct sip_out *o, const char *s)
{
	sip_put(o, s, strlen(s));
}

struct sip_span sip_trim(struct sip_span s);
/* Index of the DQUOTE closing a quoted string whose content starts at i (quoted-pairs are
 * stepped over), or s.n when there is none. */
size_t sip_quoted_end(struct sip_span s, size_t i);

/* One logical line of a message head from *pos, without its line break ([*pos, end)), *pos
 * moved past it; with `fold`, continuation lines (starting with SP or HT) belong to it. Refuses
 * (GK_R_PARSE_SYNTAX) NUL and every other control character, and a CR that is not part of CRLF;
 * GK_R_PARSE_TRUNCATED when no line break comes before len. `escaped_ctl` lets a control
 * character right after a backslash through (a quoted-pair may escape one, RFC 4475 §3.1.1.2)
 * for a reader that never writes it back. */
enum gk_reason sip_line_next(const char *b, size_t len, size_t *pos, bool fold, bool escaped_ctl,
                             struct sip_span *line);

/* Next element of a comma-separated header list, commas inside quotes and <...> excepted.
 * Returns 1 with *elem trimmed (possibly empty: an empty list is one empty element), 0 at the
 * end, -1 on an unterminated quote. *pos starts at 0. */
int sip_list_next(struct sip_span s, size_t *pos, struct sip_span *elem);

/* name-addr / addr-spec, as in From, To and Contact. `params` starts at the first ';' of the
 * header parameters (empty span at the end when there are none). */
struct sip_naddr {
	struct sip_span uri;
	struct sip_span params;
};
enum gk_reason sip_naddr_parse(struct sip_span s, struct sip_naddr *out);

/* Next ";name[=value]" of a parameter list. Returns 1, 0 at the end, -1 on a syntax error.
 * *raw covers the parameter from its ';' to the end of its value. */
struct sip_param {
	struct sip_span name, value, raw;
	bool has_value, quoted; /* value excludes the quotes when quoted */
};
int sip_param_next(struct sip_span s, size_t *pos, struct sip_param *p);

/* user and host of a sip:/sips: URI (empty spans for other schemes). */
enum gk_reason sip_uri_user_host(struct sip_span uri, struct sip_span *user, struct sip_span *host);

/* The methods this element answers itself: REGISTER and the OPTIONS probe. The codec table's
 * other_kind and the decoder's §8.2 checks agree through this one list. */
bool sip_method_served(struct sip_span method);
/* What a 405 or 501 lists in Allow: the methods of sip_method_served, and those the daemons'
 * routers take before the codec sees them (gk_sip_router_routes; test_sip_route checks that
 * each is here). */
#define SIP_ALLOWED_METHODS                                                                        \
	"REGISTER, OPTIONS, INVITE, ACK, BYE, CANCEL, UPDATE, INFO, PRACK, MESSAGE, SUBSCRIBE, "   \
	"NOTIFY, REFER"
/* The methods of RFC 3261 and its extensions that a request may name: one this element does not
 * serve is 405 Method Not Allowed, any other 501 Not Implemented (§21.4.6, §21.5.2). */
bool sip_method_known(struct sip_span method);
/* Option tags this element supports in Require / Proxy-Require: sec-agree (RFC 3329). */
bool sip_option_supported(struct sip_span tag);

/* RFC 3261 qvalue in thousandths: "0.9" -> 900, "1" -> 1000. -1 when malformed. */
int sip_q_parse(struct sip_span v, uint16_t *q);
/* Shortest qvalue text for q (<= 1000); writes at most 6 bytes and a NUL. */
size_t sip_q_format(uint16_t q, char out[8]);

/* Digest credentials (RFC 7616 §3.4) as the encoder writes them, shared with the UA's requests
 * (sip_ua.c): sip_dg_cred_ok says whether g can be written so that the decoder reads it back, and
 * sip_put_dg_cred writes the header field, "Proxy-Authorization" when `proxy` (a 407's answer),
 * "Authorization" otherwise. */
bool sip_dg_cred_ok(const struct gk_digest *g);
void sip_put_dg_cred(struct sip_out *o, const struct gk_digest *g, bool proxy);

/* The top Via of a response to a request from `from` (RFC 3261 §18.2.1, RFC 3581): received=
 * the source address when the sent-by host is another (always with rport), and a bare rport
 * filled with the source port. Writes a NUL-terminated value to out; its length, or 0 when the
 * Via cannot be read or the result does not fit. */
struct sockaddr_storage;
size_t sip_via_stamp(struct sip_span via, const struct sockaddr_storage *from, char *out,
                     size_t cap);

/* ---- the proxy's reading of a message (sip_view.c), shared with its editing (sip_proxy.c) ---- */

/* The header fields a proxy reads or edits; everything else is SIP_H_OTHER and copied as it
 * came. */
enum sip_hdr {
	SIP_H_OTHER,
	SIP_H_VIA,
	SIP_H_FROM,
	SIP_H_TO,
	SIP_H_CALL_ID,
	SIP_H_CSEQ,
	SIP_H_MAX_FORWARDS,
	SIP_H_CONTACT,
	SIP_H_CONTENT_LENGTH,
	SIP_H_CONTENT_TYPE,
	SIP_H_CONTENT_ENCODING,
	SIP_H_SUBJECT,
	SIP_H_SUPPORTED,
	SIP_H_ROUTE,
	SIP_H_RECORD_ROUTE,
	SIP_H_PAI,
	SIP_H_PPI,
	SIP_H_EXPIRES,
	SIP_H_AUTHORIZATION,
	SIP_H_WWW_AUTHENTICATE,
	SIP_H_PROXY_AUTHENTICATE,
	SIP_H_AUTHENTICATION_INFO,
	SIP_H_SECURITY_CLIENT,
	SIP_H_SECURITY_SERVER,
	SIP_H_SECURITY_VERIFY,
	SIP_H_REQUIRE,
	SIP_H_PROXY_REQUIRE,
	SIP_H_RETRY_AFTER,
	SIP_H__COUNT
};
/* The decoder notes single-valued header fields seen as bits of a uint32_t. */
_Static_assert(SIP_H__COUNT <= 32, "a header field's bit must fit a 32-bit mask");

/* A header field's kind by its name, case-insensitive, compact forms (RFC 3261 §7.3.3) too;
 * SIP_H_OTHER for any other. sip_hdr_name: how a refusal names it ("Call-ID"). */
enum sip_hdr sip_hdr_of(struct sip_span name);
const char *sip_hdr_name(enum sip_hdr h);

/* One header field: `line` runs from its name to the end of its last continuation line, without
 * the line break; `value` is trimmed and keeps the folding inside it. */
struct sip_field {
	enum sip_hdr kind;
	struct sip_span line, name, value;
};

/* The header field at *pos, which is moved past it. Returns 1, 0 at the empty line that ends the
 * head (*pos is then where the body starts), -1 with *why. A control character anywhere is
 * refused, escaped or not: what a proxy reads it writes out again. */
int sip_field_next(const char *b, size_t len, size_t *pos, struct sip_field *f,
                   enum gk_reason *why);

/* One Via value (via-parm): sent-protocol, sent-by and the parameters a response is routed by.
 * An IPv6 host keeps its brackets; port is 0 when none is written. */
struct sip_via {
	struct sip_span transport, host, branch, received, rport, maddr;
	uint16_t port;
	bool has_rport;
};
enum gk_reason sip_via_parse(struct sip_span value, struct sip_via *out);

/* One name-addr or addr-spec value with well-formed parameters (Contact, P-Asserted-Identity);
 * `angle` admits the name-addr form only, as Route and Record-Route values have it. */
enum gk_reason sip_naddr_check(struct sip_span value, bool angle, struct sip_naddr *out);

/* A numeric host (an IPv6 one with or without its brackets) and a port as a socket address: 0, or
 * -1 for a name (no DNS here), a port 0, or an address that is not one host's (unspecified,
 * broadcast, multicast). */
int sip_numeric_address(struct sip_span host, uint16_t port, struct sockaddr_storage *to);

/* A Request-URI: visible ASCII, a scheme and something after it; a sip: or sips: one must have a
 * host and no headers part (RFC 3261 §19.1.1). */
enum gk_reason sip_ruri_check(struct sip_span uri);

#endif
