/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The translation layer of a stateful SIP proxy (RFC 3261 §16): it reads a message once into a
 * view of what routing needs, and edits whole messages as a proxy forwards them, keeping every
 * byte it does not have to change (the body, unknown header fields, their order and folding).
 * sbcd and softswitchd route calls with it; which target a request goes to, the transactions
 * and the timers are theirs. No state and no allocation: every output goes to a buffer the
 * caller gives.
 *
 * What a forwarded message never carries, whatever came in: a control character or a bare CR or
 * LF in its head (a head that holds one is refused; line ends of LF alone are written as CRLF),
 * bytes after the body that Content-Length announces (RFC 3261 §18.3 discards them), and the
 * CRLFs before the start line (§7.5).
 */
#ifndef GATEKEY_SIP_PROXY_H
#define GATEKEY_SIP_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gatekey/runtime/limits.h"
#include "gatekey/runtime/reason.h"
#include "gatekey/sip/sip.h"

/* Route and Record-Route values a view holds, each list on its own. Real paths are a few hops;
 * more is refused (GK_R_PARSE_TOO_LONG) rather than routed on a list read in part. */
#define GK_SIP_ROUTE_MAX 16
/* "z9hG4bK" and 32 hex digits (128 bits), NUL-terminated. */
#define GK_SIP_BRANCH_LEN 40

/*
 * A message as routing reads it. Every span points into the viewed buffer and is trimmed; a value
 * that was folded keeps its continuation lines. An absent value is an empty span (n == 0).
 */
struct gk_sip_view {
	bool request;
	uint16_t status;            /* responses: 100..699 */
	struct sip_span start_line; /* without its line break */
	struct sip_span method;     /* requests: the Request-Line's method */
	struct sip_span ruri;       /* requests: the Request-URI */
	struct sip_span via;        /* the top Via value (one value, not the header field) */
	struct sip_span via_transport;
	struct sip_span via_host; /* its sent-by host; an IPv6 reference keeps its brackets */
	uint16_t via_port;        /* its sent-by port, 0 when none is written */
	struct sip_span branch;   /* its branch parameter's value */
	struct sip_span received; /* its received parameter's value */
	bool has_rport;           /* an rport parameter, with a value or bare (RFC 3581) */
	struct sip_span rport;    /* that value, empty when bare */
	unsigned n_via;           /* Via values in the message, 1..GK_SIP_VIA_MAX */
	struct sip_span from, from_tag;
	struct sip_span to, to_tag;
	struct sip_span call_id;
	uint32_t cseq;
	struct sip_span cseq_method;
	bool has_max_forwards;
	uint8_t max_forwards;    /* 0..255, as gk_sip_decode reads it */
	struct sip_span contact; /* URI of the first Contact value ("*" for the wildcard) */
	struct sip_span route[GK_SIP_ROUTE_MAX]; /* Route values, top first */
	unsigned n_route;
	struct sip_span record_route[GK_SIP_ROUTE_MAX]; /* Record-Route values, top first */
	unsigned n_record_route;
	bool has_pai;        /* a P-Asserted-Identity header field (RFC 3325) */
	struct sip_span pai; /* its first value (name-addr or addr-spec) */
	bool has_ppi;        /* a P-Preferred-Identity header field */
	bool has_content_length;
	size_t content_length;
	struct sip_span body; /* what Content-Length announces, or the rest of the datagram */
	struct sip_span head; /* the start line to the empty line, both included */
	/* on failure: why, and which part of the message was refused ("Via", "Request-Line") */
	enum gk_reason why;
	const char *failed_at;
};

/*
 * Reads buf[0..len) into v in one pass. Returns 0, or -1 with v->why (a GK_R_PARSE_* code) and
 * v->failed_at set. Never reads beyond len. Header names are matched case-insensitively and in
 * their compact forms (v f t i m l c k s e). Needs what a proxy needs (Via, From, To, Call-ID,
 * CSeq, for a request a CSeq method equal to its own) and refuses what it would misread: a head
 * holding a control character, an empty Via, Route or Contact value, a duplicate of a header
 * field that may appear once, more than GK_SIP_VIA_MAX Vias or GK_SIP_ROUTE_MAX Route or
 * Record-Route values, a Content-Length beyond the datagram.
 */
int gk_sip_view(const uint8_t *buf, size_t len, struct gk_sip_view *v);

struct sockaddr_storage;

/* What a proxy changes in a request it forwards. Strings are NUL-terminated; NULL or "" leaves
 * that part alone, but for `via`, which every forwarded request gets. */
struct gk_sip_fwd {
	const char *ruri; /* the new Request-URI (§16.6 step 2), e.g. "sip:bob@198.18.2.20:5060" */
	/* This element as Route URIs name it: "host[:port]", an IPv6 address in brackets, the port
	 * 5060 (5061 for sips:) when not written. A top Route naming it is removed (§16.4). */
	const char *self;
	const char *via;          /* the new top Via value, with this element's own branch */
	const char *record_route; /* one value put on top of Record-Route (§16.6 step 4) */
	bool strip_pai;           /* remove P-Asserted-Identity and P-Preferred-Identity */
	const char *pai;          /* a P-Asserted-Identity to insert (RFC 3325) */
	/* Where the request came from: the received top Via gets received= and rport= as §18.2.1
	 * and RFC 3581 ask, so the response finds its way back (gk_sip_via_target). NULL leaves
	 * that Via as it is. */
	const struct sockaddr_storage *from;
};

/*
 * The request in[0..len) as this element forwards it (RFC 3261 §16.6), into out[0..cap): the
 * Request-URI replaced when f->ruri is set, the received top Via stamped for f->from, Max-Forwards
 * decremented (inserted as 69 when absent), a top Route naming f->self removed (only that value
 * when its header field holds several), f->via put on top of the Vias and f->record_route on top
 * of the Record-Routes, P-Asserted-Identity stripped and inserted as f asks. A new value goes
 * right before the first header field of its name, or right after the start line when there is
 * none; everything else is copied as it came, the body and Content-Length included.
 *
 * Returns the length written, or
 *   -ELOOP     the request has come as far as it may: Max-Forwards 0, or as many Vias as
 *              GK_SIP_VIA_MAX (one more and no gatekey element reads it). The caller answers
 *              483 Too Many Hops. Nothing is written.
 *   -EMSGSIZE  one more Record-Route value would be over GK_SIP_ROUTE_MAX (the caller answers
 *              513, or forwards without record-routing), or the stamped top Via would be over
 *              GK_SIP_TEXT_MAX
 *   -EINVAL    in is no request gk_sip_view reads, or an f value is malformed (a control
 *              character, a Via without branch, a Record-Route value without <>)
 *   -ENOSPC    cap is too small; what is in out then is no message
 */
int gk_sip_fwd_request(const uint8_t *in, size_t len, const struct gk_sip_fwd *f, uint8_t *out,
                       size_t cap);

/*
 * The response in[0..len) as it goes back upstream (§16.7 step 3): its top Via value removed, the
 * whole header field when it held only that value. Returns the length, -EINVAL when in is no
 * response gk_sip_view reads or has only one Via (it was for this element: the caller consumes
 * it), -ENOSPC when cap is too small.
 */
int gk_sip_fwd_response(const uint8_t *in, size_t len, uint8_t *out, size_t cap);

/*
 * Where a response to the request whose top Via value is top_via goes (§18.2.2, RFC 3581):
 * maddr when present, else received (with the rport value as port when present), else the sent-by
 * host; the port is the sent-by's, or 5060 (5061 over TLS). Addresses must be numeric IPv4 or
 * IPv6: there is no DNS here. No response goes to an address that is not one host's (unspecified,
 * broadcast, multicast, RFC 4475 §3.3.10), whatever a Via says: a forged one must not make this
 * element a broadcaster. Returns 0 with *to set, or -1 (a name, such an address, a malformed Via).
 * When top_via holds several values, the first is used.
 */
int gk_sip_via_target(struct sip_span top_via, struct sockaddr_storage *to);

/*
 * This element's branch for forwarding the request `in` views: "z9hG4bK" and a SipHash-2-4
 * (keyed by salt) of the request's top Via branch and sent-by, Call-ID and CSeq number. A
 * retransmission gets the same branch, a new request another; a CANCEL, or the ACK of a non-2xx
 * response, carries the INVITE's top Via and CSeq number (§9.1, §17.1.1.3), so it gets the
 * INVITE's branch, as §16.10 and §17.1.1.3 want of the forwarded one. The method is not hashed for
 * that reason. out is NUL-terminated.
 */
void gk_sip_branch(char out[GK_SIP_BRANCH_LEN], const struct gk_sip_view *in, uint64_t salt);

/*
 * Requests a proxy makes itself from the INVITE it forwarded (inv, as sent): the ACK of the
 * non-2xx final rsp (§17.1.1.3: the INVITE's Request-URI, top Via, Route set, From, Call-ID and
 * CSeq number, the response's To) and the CANCEL of the INVITE (§9.1: the same, with the
 * INVITE's To). Length, or -EINVAL (not an INVITE, not a non-2xx final), -ENOSPC.
 */
int gk_sip_build_ack(const uint8_t *inv, size_t ilen, const uint8_t *rsp, size_t rlen, uint8_t *out,
                     size_t cap);
int gk_sip_build_cancel(const uint8_t *inv, size_t ilen, uint8_t *out, size_t cap);

/*
 * What a router reads out of a URI: the user and host of a sip: or sips: URI (empty spans for
 * another scheme), and the URI of a name-addr or addr-spec value (P-Asserted-Identity). Spans
 * into the value given; GK_R_OK, or the reason the value is malformed.
 */
enum gk_reason gk_sip_uri_user_host(struct sip_span uri, struct sip_span *user,
                                    struct sip_span *host);
enum gk_reason gk_sip_naddr_uri(struct sip_span value, struct sip_span *uri);

#endif
