/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The abstract registration message (DESIGN §3). The exchange state machine reads and writes
 * only these fields; protocol codecs translate them to and from their wire format. Whatever a
 * codec needs to build a correct response (SIP Via/Call-ID/tags, MGCP transaction id, ...) lives
 * in the opaque per-protocol context `wire`, which the state machine copies from request to
 * response without looking inside.
 */
#ifndef GATEKEY_MSG_H
#define GATEKEY_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gatekey/cmd/cmd_wire.h"
#include "gatekey/crypto/crypto.h"
#include "gatekey/runtime/limits.h"
#include "gatekey/h323/ras.h"
#include "gatekey/runtime/reason.h"

#define GK_TXT_SHORT 64
#define GK_TXT_LONG  256

enum gk_proto {
	GK_PROTO_SIP = 1,
	GK_PROTO_MGCP = 2,
	GK_PROTO_H248 = 3,
	GK_PROTO_H323 = 4,
};
#define GK_PROTO_COUNT 5 /* arrays indexed by enum gk_proto (0 unused) */

enum gk_msg_type {
	GK_MSG_NONE = 0,
	GK_MSG_REGISTER,  /* s1: IDc, IDsp, N1, TS (no AUTH) */
	GK_MSG_CHALLENGE, /* s6: IDc, IDsp, N1 echo, N2, TS, Rand, mechanism list requested */
	GK_MSG_ANSWER,    /* s7: IDc, IDsp, N1', N2 echo, TS, AUTH, mechanism offer */
	GK_MSG_SUCCESS,   /* s10: IDc, IDsp, N1' echo, N2', TS, E_Kc[K], chosen, echoed list, MAC */
	GK_MSG_REJECT,    /* final refusal; reason is for logs, the wire says only "forbidden",
	                     but for GK_R_OVERLOAD: "try again in retry_after seconds" */
	GK_MSG_DEREGISTER, /* binding removal; must arrive with a valid gk-mac trailer */
	GK_MSG_DEREG_OK,   /* answer to DEREGISTER */
	GK_MSG_OTHER,      /* any other request (e.g. SIP OPTIONS): only for registered terminals */
	GK_MSG_OTHER_OK,   /* answer to OTHER */
	GK_MSG_ACK,        /* MGCP/H.248 only: a protocol-level response (cmd_wire.h), for
	                      lib/cmd/cmd_txn.c, never for the state machines */
	GK_MSG_PROVISIONAL, /* SIP 1xx: the transaction goes on; nothing for the state machines */
};

enum gk_mech {
	GK_MECH_NONE = 0,
	GK_MECH_GKMAC = 1,
	GK_MECH_TLS = 2,
	GK_MECH_IPSEC = 3,
	GK_MECH_DIGEST = 4,
};

/* Whether id names a mechanism at all (1..4). In RAS ids arrive as numbers (0..255): test one
 * before it is a shift count or an index; 1u << 33 is undefined, and x86 would make it 1u << 1. */
static inline bool gk_mech_valid(unsigned id)
{
	return id >= GK_MECH_GKMAC && id <= GK_MECH_DIGEST;
}

/*
 * The mechanisms every element enforces (DESIGN §5): gk-mac (the per-datagram MAC) and digest (the
 * terminal pinned to its address). ipsec-3gpp is enforced by the kernel's SAs, which an element
 * and a terminal install only where the exchange gave both ends (gk_mech_choose, terminal.c), and
 * tls by nothing yet: a terminal may offer either, and the echoed list carries them, but an
 * element that chose one it cannot set up would only pin the address while the terminal believed
 * it protected.
 */
#define GK_MECHS_ENFORCED ((1u << GK_MECH_GKMAC) | (1u << GK_MECH_DIGEST))

static inline bool gk_mech_enforced(unsigned id)
{
	return gk_mech_valid(id) && (GK_MECHS_ENFORCED & (1u << id)) != 0;
}

struct gk_mech_offer {
	uint8_t mech; /* enum gk_mech */
	uint16_t q;   /* preference in thousandths: q=0.9 -> 900 */
};

/* Which optional fields are present. */
enum gk_field {
	GK_F_N1 = 1u << 0,
	GK_F_N2 = 1u << 1,
	GK_F_TS = 1u << 2,
	GK_F_RAND = 1u << 3,
	GK_F_AUTH = 1u << 4,
	GK_F_BLOB = 1u << 5,
	GK_F_MECHS = 1u << 6, /* terminal's list (offer, or the echo in SUCCESS) */
	GK_F_CHOSEN = 1u << 7,
	GK_F_MAC = 1u << 8,
	GK_F_EXPIRES = 1u << 9,
	GK_F_WANT_MECHS = 1u << 10, /* challenge asks for the mechanism list */
	GK_F_INDEX = 1u << 11,      /* SUCCESS: the terminal index for gk-mac trailers */
	GK_F_BLOB_ELEM = 1u << 12,  /* core leg, s9: E_Ksp[K] for the SBC */
	GK_F_ADDR = 1u << 13,   /* core leg, s8/deregistration: the terminal as the SBC sees it */
	GK_F_DIGEST = 1u << 14, /* request: Digest credentials in `digest` */
	GK_F_DIGEST_CHAL = 1u << 15, /* 401: a Digest challenge in `digest` (realm, nonce,
	                                algorithm, qop, opaque, stale) */
	GK_F_SEALED = 1u << 16, /* core leg, s2/s8: the SBC verified the request under the gk-mac
	                           key of the IDc's standing binding (a sealed refresh) */
	GK_F_IPSEC_TERM = 1u << 17, /* ipsec_term: the terminal's end, with ipsec-3gpp in its
	                               offer, and in the SUCCESS's echo of that offer */
	GK_F_IPSEC_NET = 1u << 18,  /* ipsec_net: the element's end, in a SUCCESS */
	GK_F_SEC_VERIFY = 1u << 19, /* request under ipsec-3gpp SAs: ipsec_net holds the element's
	                               end as the terminal echoes it (SIP's Security-Verify, RFC
	                               3329 §2.3.1), which the element checks against its own */
};

/* One end of ipsec-3gpp (TS 33.203 §7.1, RFC 3329 sec-agree): its protected client and server
 * ports, and the SPIs of the SAs it receives on, spi-c on port-c and spi-s on port-s. The
 * terminal offers its end with the mechanism; the element answers with its own in the SUCCESS,
 * whose s10 MAC covers both ends. */
struct gk_ipsec_end {
	uint32_t spi_c, spi_s; /* >= 256: 1..255 are reserved (RFC 4303 §2.1) */
	uint16_t port_c, port_s;
};

/* RFC 3261 §22 / RFC 7616 / RFC 8760 Digest credentials or challenge, as text. */
struct gk_digest {
	char username[GK_ID_MAX + 1];
	char realm[GK_ID_MAX + 1];
	char nonce[64];
	char uri[GK_TXT_LONG];
	char response[129];
	char cnonce[64];
	char nc[9];
	char qop[8];
	char algorithm[24];
	char opaque[64];
	bool stale;
};

/*
 * SIP transaction context: enough to answer a request and to match a response. The text values
 * (R-URI, every Via, From, To, Call-ID, Contact) are packed into one buffer, so a message may
 * spend its room as it needs (34 Vias of RFC 4475's longreq, or one long From) while the context
 * stays one fixed size that pending slots can hold. Each value is NUL-terminated; offset 0 is
 * the empty string, so a zeroed context reads as all values empty. The limits are in limits.h.
 */
enum gk_sip_str {
	GK_SIP_RURI,    /* request URI */
	GK_SIP_FROM,    /* From value verbatim (includes tag) */
	GK_SIP_TO,      /* To value verbatim */
	GK_SIP_CALL_ID, /* Call-ID */
	GK_SIP_CONTACT, /* Contact values verbatim, several header fields joined by ", " */
	GK_SIP__STRS
};

struct gk_sip_ctx {
	char method[GK_SIP_METHOD_MAX + 1]; /* request method, or the CSeq method of a response */
	char to_tag[GK_SIP_TAG_MAX + 1];    /* tag the UAS adds to To in responses */
	char
	    bad[24]; /* a decode that failed: the header or part refused ("CSeq", "Request-Line") */
	uint32_t cseq;
	uint16_t status; /* responses: status code */
	uint8_t n_via;
	/* a value held an escaped control character (a quoted-pair, RFC 3261 §25.1), kept as '?':
	 * the message reads as what it is, but its context is never echoed into a response */
	bool altered;
	uint16_t used;                /* bytes of text in use (0 or 1: none) */
	uint16_t str[GK_SIP__STRS];   /* offsets into text, by enum gk_sip_str */
	uint16_t via[GK_SIP_VIA_MAX]; /* offsets into text: Via values, top first, verbatim */
	char text[GK_SIP_TEXT_MAX];
};

static inline const char *gk_sip_get(const struct gk_sip_ctx *s, enum gk_sip_str k)
{
	return s->text + s->str[k];
}

static inline const char *gk_sip_via(const struct gk_sip_ctx *s, unsigned i)
{
	return s->text + s->via[i];
}

/* Stores n bytes of p as value k, or appends them as the next Via (gk_sip_add_via). -1 when the
 * text (GK_SIP_TEXT_MAX) or the Via list (GK_SIP_VIA_MAX) is full; the context is unchanged then.
 * Setting a value again leaves the old bytes in place: set each once per message. */
int gk_sip_set(struct gk_sip_ctx *s, enum gk_sip_str k, const char *p, size_t n);
int gk_sip_setf(struct gk_sip_ctx *s, enum gk_sip_str k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int gk_sip_add_via(struct gk_sip_ctx *s, const char *p, size_t n);
int gk_sip_add_viaf(struct gk_sip_ctx *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The same for the strings that follow, up to a NULL, joined: no format to interpret, for the
 * values every request is built from. */
int gk_sip_setcat(struct gk_sip_ctx *s, enum gk_sip_str k, ...) __attribute__((sentinel));
int gk_sip_add_viacat(struct gk_sip_ctx *s, ...) __attribute__((sentinel));

struct gk_msg {
	uint8_t proto;   /* enum gk_proto */
	uint8_t type;    /* enum gk_msg_type */
	uint32_t fields; /* enum gk_field bits */

	char idc[GK_ID_MAX + 1];
	char idsp[GK_ID_MAX + 1];
	uint8_t n1[GK_NONCE_LEN];
	uint8_t n2[GK_NONCE_LEN];
	uint64_t ts; /* seconds since the epoch, sender's clock */
	uint8_t rand[GK_RAND_LEN];
	uint8_t auth[GK_AUTH_LEN];
	uint8_t blob[GK_BLOB_LEN];         /* E_Kc[K] */
	uint8_t blob_element[GK_BLOB_LEN]; /* core leg only: E_Ksp[K] */
	char address[GK_TXT_SHORT];        /* core leg only: "ip:port" of the terminal */
	struct gk_mech_offer mechs[GK_MECH_MAX];
	uint8_t n_mechs;
	uint8_t chosen; /* enum gk_mech */
	uint8_t mac[GK_MAC_LEN];
	uint32_t expires; /* seconds */
	uint32_t index;   /* SUCCESS: terminal index (gk-mac trailer), 0 when none */
	uint16_t reason;  /* enum gk_reason, for REJECT (never put on the wire in detail) */
	uint8_t limit;    /* a decode that failed GK_R_PARSE_TOO_LONG: the enum gk_limit hit */
	/* REJECT with reason GK_R_OVERLOAD: the element shed the request, and asks for it again
	 * after this many seconds (SIP 503 + Retry-After, MGCP 409, H.248 510, RAS
	 * resourceUnavailable: docs/bindings*.md); 0 = no time said. Overload is the one reason the
	 * wire tells: a well-behaved terminal waits instead of retransmitting into the overload.
	 * Decoded, an overload answer reads back as GK_R_OVERLOAD, any other refusal as
	 * GK_R_REFUSED with retry_after 0. */
	uint32_t retry_after;
	struct gk_digest digest;        /* GK_F_DIGEST, GK_F_DIGEST_CHAL */
	struct gk_ipsec_end ipsec_term; /* GK_F_IPSEC_TERM */
	struct gk_ipsec_end ipsec_net;  /* GK_F_IPSEC_NET, GK_F_SEC_VERIFY */

	union {
		struct gk_sip_ctx sip;
		struct gk_mgcp_ctx mgcp;
		struct gk_h248_ctx h248;
		struct gk_ras_ctx ras;
	} wire;
};

/* The Retry-After of overload refusals (registrar.retry_after, registrar.retry_jitter): at
 * least base_s, at most base_s + jitter_s seconds. */
#define GK_RETRY_AFTER_DEFAULT_S  5
#define GK_RETRY_JITTER_DEFAULT_S 5
#define GK_RETRY_AFTER_MAX_S      3600
/* base_s plus 0..jitter_s seconds drawn uniformly: terminals refused in the same burst come
 * back spread over jitter_s + 1 seconds instead of all in the same one, which would be the
 * burst again. */
uint32_t gk_retry_after_pick(uint32_t base_s, uint32_t jitter_s);
/* The other end: how long a terminal refused for overload waits before it sends again, in ms:
 * retry_after_s as the element said, default_s when it said none (0). 0 when the wait would not
 * end before deadline_ms (now_ms on the same clock): it gives up instead. */
uint64_t gk_retry_wait_ms(uint32_t retry_after_s, uint32_t default_s, uint64_t now_ms,
                          uint64_t deadline_ms);

static inline bool gk_ipsec_end_equal(const struct gk_ipsec_end *a, const struct gk_ipsec_end *b)
{
	return a->spi_c == b->spi_c && a->spi_s == b->spi_s && a->port_c == b->port_c &&
	       a->port_s == b->port_s;
}

/* Whether e can carry SAs: SPIs >= 256 and ports set. */
static inline bool gk_ipsec_end_ok(const struct gk_ipsec_end *e)
{
	return e->spi_c >= 256 && e->spi_s >= 256 && e->port_c && e->port_s;
}

/* The parameters of one ipsec-3gpp entry of a mechanism list (TS 33.203 Annex H), read one at a
 * time by every binding that writes the list as text: spi-c, spi-s, port-c, port-s, and prot,
 * mod and ealg, which must say what the kernel SAs are (ESP, transport mode, AES-GCM); prot and
 * mod may be left out (esp and trans by default), ealg may not (without it the SA would not
 * encrypt). Start from {0}. */
struct gk_ipsec_read {
	struct gk_ipsec_end end;
	unsigned seen; /* bit per parameter read */
	bool unusable; /* another protocol, mode or cipher */
};
/* One parameter; value NULL when it had none, quoted when it was a quoted string. 1 when it
 * was one of the entry's, 0 when not (alg, which names an integrity algorithm AES-GCM does
 * without, and anything unknown: the caller passes over it), -1 when its value is malformed or
 * it came twice. */
int gk_ipsec_param(struct gk_ipsec_read *r, const char *name, size_t namelen, const char *value,
                   size_t valuelen, bool quoted);
/* The end the entry gave, into *out: false when a parameter is missing or the entry is
 * unusable, and then nothing could protect the terminal under it. */
bool gk_ipsec_read_end(const struct gk_ipsec_read *r, struct gk_ipsec_end *out);
/* ";prot=esp;mod=trans;ealg=aes-gcm;spi-c=<>;spi-s=<>;port-c=<>;port-s=<>", as gatekey writes an
 * end after its entry's name and q; returns the length, out NUL-terminated. */
#define GK_IPSEC_END_TEXT 112
size_t gk_ipsec_end_format(const struct gk_ipsec_end *e, char out[GK_IPSEC_END_TEXT]);

const char *gk_mech_name(enum gk_mech m);
enum gk_mech gk_mech_from_name(const char *s, size_t len); /* GK_MECH_NONE when unknown */
/* "gk-mac, digest" -> bitmask of 1u << enum gk_mech; -1 with err on an unknown name or one the
 * element does not enforce (tls: not implemented yet). ipsec-3gpp is accepted: the daemons that
 * take it install its SAs (front_ipsec.h). For the element's own list (registrar.mechanisms); a
 * terminal's offer is read by the codecs and may name any of the four. */
int gk_mechs_parse(const char *list, uint32_t *mask, char *err, size_t errlen);
const char *gk_msg_type_name(enum gk_msg_type t);

/* Copies src to dst: the abstract fields and the wire context, of which only the bytes in use
 * (a SIP context's text up to `used`), so a slot that keeps a request touches no more memory
 * than the request needs. gk_msg_copy_wire copies the wire context alone. */
void gk_msg_copy(struct gk_msg *dst, const struct gk_msg *src);
void gk_msg_copy_wire(struct gk_msg *dst, const struct gk_msg *src);
/* Zeroes m as memset would, but a SIP context's text only as far as a decoder needs it. */
void gk_msg_clear(struct gk_msg *m);

/*
 * Canonical bytes of a SUCCESS message, the input of the s10 MAC. Independent of the wire
 * format, so every binding MACs the same thing and re-serialisation cannot break it:
 *   "gk1-success" || lp(IDc) || lp(IDsp) || N1 || N2 || be64(TS) || blob || chosen(1)
 *   || n_mechs(1) || n_mechs * (mech(1) || be16(q)) || be32(expires) || be32(index)
 *   [ || "T" || end ] [ || "N" || end ], end = be32(spi-c) || be32(spi-s) || be16(port-c)
 *   || be16(port-s): the terminal's and the element's ipsec-3gpp ends, each when present
 * Returns the length written, or -ENOSPC.
 */
#define GK_CANON_MAX 1280 /* also the RAS form: an encoded RCF (docs/bindings-h323.md) */
int gk_msg_success_canonical(const struct gk_msg *m, uint8_t *out, size_t cap);

/* Pick the terminal's most preferred mechanism that `supported` (bitmask of 1u << mech) allows
 * and the element can enforce, whatever `supported` says: one of GK_MECHS_ENFORCED, or
 * ipsec-3gpp when the offer carries the terminal's end and that end can carry SAs
 * (gk_ipsec_end_ok). Ties keep the terminal's order. GK_MECH_NONE when none is acceptable. */
enum gk_mech gk_mech_choose(const struct gk_msg *offer, uint32_t supported);

#endif
