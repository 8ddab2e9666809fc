/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every size limit a decoder of network input enforces, named once. A message over a limit is
 * refused, never cut: the decoder fails with GK_R_PARSE_TOO_LONG and names the limit in
 * gk_msg.limit; the daemons count each limit they see hit and show it in `stats` as
 * limit.<name>. The values leave room for what real traffic carries (RFC 4475's longreq has 34
 * Vias and a 44-byte method) and keep every context a fixed size a pending slot can hold.
 */
#ifndef GATEKEY_LIMITS_H
#define GATEKEY_LIMITS_H

#define GK_DGRAM_MAX      65535 /* bytes of a datagram received or sent (loop.h) */
#define GK_ID_MAX         63    /* IDc, IDsp: printable, no whitespace, no quotes */
#define GK_MECH_MAX       8     /* mechanisms in an offer */
#define GK_SIP_VIA_MAX    64    /* Via values in one SIP message */
#define GK_SIP_METHOD_MAX 64    /* bytes of a SIP method name */
#define GK_SIP_TEXT_MAX   8192  /* bytes of R-URI, Vias, From, To, Call-ID and Contact together */
#define GK_SIP_PARAM_MAX  512   /* bytes of one unescaped GK1 or Digest auth-param value */
#define GK_SIP_TAG_MAX    63    /* bytes of a To tag */

/* What the SIP transaction layer (sip_txn.h) keeps per transaction. These refuse nothing a
 * decoder sees, so they are not in GK_LIMITS: a key that does not fit makes the caller handle the
 * request statelessly, and a message longer than GK_SIP_TXN_MSG_MAX is sent once but not kept
 * for retransmission (counted as too_long_to_store). */
#define GK_SIP_BRANCH_MAX  64   /* bytes of a Via branch that keys a transaction */
#define GK_SIP_SENT_BY_MAX 80   /* bytes of a Via sent-by (host:port) that keys one */
#define GK_SIP_TXN_MSG_MAX 4096 /* bytes of a request or response a transaction keeps */

/* X(enum suffix, stats name, value, what is limited) */
#define GK_LIMITS(X)                                                                               \
	X(NONE, "none", 0, "no limit")                                                             \
	X(DATAGRAM, "datagram", GK_DGRAM_MAX,                                                      \
	  "bytes of a datagram (only an AF_UNIX one can be longer: dropped unread)")               \
	X(SIP_VIAS, "sip_vias", GK_SIP_VIA_MAX, "Via values in one SIP message")                   \
	X(SIP_METHOD, "sip_method", GK_SIP_METHOD_MAX, "bytes of a SIP method name")               \
	X(SIP_TEXT, "sip_text", GK_SIP_TEXT_MAX,                                                   \
	  "bytes of R-URI, Vias, From, To, Call-ID and Contact of one SIP message")                \
	X(SIP_PARAM, "sip_auth_param", GK_SIP_PARAM_MAX, "bytes of one GK1/Digest auth-param")     \
	X(SIP_TAG, "sip_to_tag", GK_SIP_TAG_MAX, "bytes of a SIP To tag")                          \
	X(SIP_DIGEST, "sip_digest_value", 63,                                                      \
	  "bytes of a Digest nonce, cnonce, opaque, username or realm (uri: 255)")                 \
	X(ADDRESS, "address", 63, "bytes of a terminal's ip:port on the core leg")                 \
	X(ID, "identity", GK_ID_MAX, "bytes of an IDc or IDsp")                                    \
	X(MECHS, "mechanisms", 2 * GK_MECH_MAX,                                                    \
	  "entries of a mechanism list, unknown ones included")

enum gk_limit {
#define GK_LIMIT_ENUM(n, name, v, what) GK_LIMIT_##n,
	GK_LIMITS(GK_LIMIT_ENUM)
#undef GK_LIMIT_ENUM
	    GK_LIMIT__COUNT
};

/* "sip_vias", the value and the description of a limit ("none" for an unknown one). */
const char *gk_limit_name(enum gk_limit l);
unsigned gk_limit_value(enum gk_limit l);
const char *gk_limit_what(enum gk_limit l);

#endif
