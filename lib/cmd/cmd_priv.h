/* SPDX-License-Identifier: GPL-2.0-only */
/* Text helpers shared by the MGCP and H.248 codecs (lib/cmd/cmd_text.c). */
#ifndef GATEKEY_CMD_PRIV_H
#define GATEKEY_CMD_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gatekey/codec/msg.h"

/* An output buffer that fails as a whole: once full, err stays set. */
struct gk_out {
	char *p;
	size_t len, cap;
	bool err;
};

void gk_out_mem(struct gk_out *o, const void *s, size_t n);
void gk_out_str(struct gk_out *o, const char *s);
void gk_out_fmt(struct gk_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gk_out_hex(struct gk_out *o, const uint8_t *b, size_t n);

/* Lower-case or upper-case hex of exactly 2n digits into b; -1 otherwise. */
int gk_hex_parse(const char *s, size_t len, uint8_t *b, size_t n);
/* Decimal without sign, at most max; -1 otherwise. */
int gk_dec_parse(const char *s, size_t len, uint64_t max, uint64_t *v);
/* "gk-mac;q=0.9, tls;q=0.5" (the SIP binding's rules); a GK_R_PARSE_* code or GK_R_OK. */
enum gk_reason gk_mechs_text_parse(const char *s, size_t len, struct gk_msg *m);
void gk_mechs_text_out(struct gk_out *o, const struct gk_msg *m);
/* A list the encoders can send: 1..8 known mechanisms, q <= 1000. */
bool gk_mechs_ok(const struct gk_msg *m);
/* An ID as the state machine allows it: 1..63 printable bytes, no blanks, quotes, backslash. */
bool gk_id_ok(const char *s, size_t len);
/* The gk1 values both command bindings carry, by name (MGCP X-GK-<name>, H.248 gk parameter). */
enum gk_cmd_field {
	GK_CF_N1,
	GK_CF_N2,
	GK_CF_TS,
	GK_CF_RAND,
	GK_CF_AUTH,
	GK_CF_KEY,
	GK_CF_MECHS,
	GK_CF_CHOSEN,
	GK_CF_INDEX,
	GK_CF_EXPIRES,
	GK_CF_MAC,
	GK_CF__N
};
/* The codecs note the fields they have seen as bits 1u << k of a uint32_t. */
_Static_assert(GK_CF__N <= 32, "a field's bit must fit the seen mask");
/* Sets the field k of m from its text value (sets its bit): GK_R_OK or a GK_R_PARSE_* code. */
enum gk_reason gk_cmd_field_parse(struct gk_msg *m, unsigned k, const char *v, size_t n);
bool gk_cmd_field_has(const struct gk_msg *m, unsigned k);
/* The chosen mechanism, and the element's ipsec-3gpp end after it when there is one. */
void gk_chosen_text_out(struct gk_out *o, const struct gk_msg *m);
/* The text of field k (MECHS, and CHOSEN with an end, between `quote`s). */
void gk_cmd_field_out(struct gk_out *o, const struct gk_msg *m, unsigned k, const char *quote);
/* Only GK_CMD_FIELDS, a sendable mechanism list, a known chosen mechanism, and the fields that
 * make the message's type read back as that type. */
bool gk_cmd_fields_ok(const struct gk_msg *m);
/* The fields a command binding can carry (the rest is the SIP core leg and Digest). */
#define GK_CMD_FIELDS                                                                              \
	(GK_F_N1 | GK_F_N2 | GK_F_TS | GK_F_RAND | GK_F_AUTH | GK_F_BLOB | GK_F_MECHS |            \
	 GK_F_CHOSEN | GK_F_MAC | GK_F_EXPIRES | GK_F_WANT_MECHS | GK_F_INDEX | GK_F_IPSEC_TERM |  \
	 GK_F_IPSEC_NET)

#endif
