/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internals shared by the SIP decoder (sip_parse.c) and encoder (sip_emit.c). The encoder runs
 * the decoder's own grammar over the context it echoes, so what it emits is what the decoder
 * reads back.
 */
#ifndef GATEKEY_SIP_PRIV_H
#define GATEKEY_SIP_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gatekey/msg.h"

/* Unknown mechanism names are skipped, but they still cost parsing time: bound them too. */
#define SIP_MECH_ENTRIES_MAX (2 * GK_MECH_MAX)
/* Unescaped value of one gk1 auth-param (the longest is the key blob, 122 hex digits, or a
 * mechanism list). */
#define SIP_PARAM_MAX GK_SIP_PARAM_MAX

struct sip_span {
	const char *p;
	size_t n;
};

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

/* Case-insensitive compare with a lower-case literal (inline, so strlen folds). */
static inline bool sip_span_ieq(struct sip_span s, const char *lit)
{
	size_t n = __builtin_strlen(lit);

	if (s.n != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (sip_lower((unsigned char)s.p[i]) != (unsigned char)lit[i])
			return false;
	return true;
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
/* What a 405 or 501 lists in Allow: the methods of sip_method_served. */
#define SIP_ALLOWED_METHODS "REGISTER, OPTIONS"
/* The methods of RFC 3261 and its extensions that a request may name: one this element does not
 * serve is 405 Method Not Allowed, any other 501 Not Implemented (§21.4.6, §21.5.2). */
bool sip_method_known(struct sip_span method);
/* Option tags this element supports in Require / Proxy-Require: sec-agree (RFC 3329). */
bool sip_option_supported(struct sip_span tag);

/* RFC 3261 qvalue in thousandths: "0.9" -> 900, "1" -> 1000. -1 when malformed. */
int sip_q_parse(struct sip_span v, uint16_t *q);
/* Shortest qvalue text for q (<= 1000); writes at most 6 bytes and a NUL. */
size_t sip_q_format(uint16_t q, char out[8]);

/* The top Via of a response to a request from `from` (RFC 3261 §18.2.1, RFC 3581): received=
 * the source address when the sent-by host is another (always with rport), and a bare rport
 * filled with the source port. Writes a NUL-terminated value to out; its length, or 0 when the
 * Via cannot be read or the result does not fit. */
struct sockaddr_storage;
size_t sip_via_stamp(struct sip_span via, const struct sockaddr_storage *from, char *out,
                     size_t cap);

#endif
