/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The user agent's half of a SIP dialog (RFC 3261 §12, §13, §15), as gkterm places and answers
 * calls through gatekey's router: the dialog a caller keeps from the 2xx to its INVITE (remote
 * target, the To with the callee's tag, the route set), where a request inside it goes first, the
 * requests it sends (INVITE, ACK, BYE, ...) and the answers a callee gives (the 1xx and 2xx that
 * copy the request's Record-Route, with a Contact and a body). The proxy's side is sip_proxy.h.
 * No state and no allocation: every output goes to a buffer the caller gives.
 *
 * Loose routing only (every route gatekey records carries ;lr): a route set whose first value is
 * a strict router is kept, but gk_sip_ua_next_hop refuses it, and the request still names the
 * remote target. No DNS: a next hop must be a numeric address.
 */
#ifndef GATEKEY_SIP_UA_H
#define GATEKEY_SIP_UA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gatekey/crypto/digest.h"
#include "gatekey/sip/sip_proxy.h"

#define GK_SIP_UA_URI_MAX    256  /* bytes of a remote target or a To value, NUL included */
#define GK_SIP_UA_ROUTES_MAX 1024 /* bytes of a route set's values together, NULs included */

/*
 * A dialog as its UAC keeps it (§12.1.2): requests inside it go to `target` along `route`, with
 * `to` (the remote URI and tag) as their To. Also the out-of-dialog request that opens it: target
 * the callee's AOR, to "<AOR>", no route. Strings are NUL-terminated and hold no line break.
 */
struct gk_sip_ua_dialog {
	char target[GK_SIP_UA_URI_MAX];
	char to[GK_SIP_UA_URI_MAX];
	char routes[GK_SIP_UA_ROUTES_MAX];   /* the route set's values, top first, each NUL-ended */
	uint16_t route_at[GK_SIP_ROUTE_MAX]; /* where each value starts in routes */
	unsigned n_routes;
};

/*
 * d as the out-of-dialog request to aor ("sip:bob@example") opens it: target aor, To "<aor>",
 * no route set. -EINVAL for an empty aor or one holding a control character or <>, -ENOSPC.
 */
int gk_sip_ua_dialog_init(struct gk_sip_ua_dialog *d, const char *aor);

/*
 * d as the 2xx response rsp to an INVITE sent with Request-URI `ruri` makes it (§12.1.2): the
 * route set is rsp's Record-Route values in reverse order, the remote target its Contact URI
 * (ruri when it has none), the To its To value with the callee's tag. Folded values are written
 * on one line. 0, or -EINVAL (not a 2xx, no To tag, a control character), -ENOSPC (a value
 * longer than d holds).
 */
int gk_sip_ua_dialog_uac(struct gk_sip_ua_dialog *d, const struct gk_sip_view *rsp,
                         const char *ruri);

/*
 * Where a request inside d goes first (§12.2.1.1, §8.1.2): the address of the first route, a
 * loose router's (it carries lr) sip: or sips: URI with a numeric host; its port, or 5060 (5061
 * for sips:). 0 with *to set; -ENOENT when the route set is empty (the request then goes to the
 * UA's outbound proxy, or the remote target); -EINVAL when the first route is a strict router or
 * names its host by a name.
 */
int gk_sip_ua_next_hop(const struct gk_sip_ua_dialog *d, struct sockaddr_storage *to);

/* A request's own parts; strings NUL-terminated, NULL or "" for none where allowed. */
struct gk_sip_ua_req {
	const char *method; /* "INVITE", "ACK", "BYE", ... */
	uint32_t cseq;      /* the CSeq number (an ACK's is its INVITE's, §13.2.2.4) */
	const char
	    *via; /* the whole Via value, e.g. "SIP/2.0/UDP 198.18.0.2:5060;branch=...;rport" */
	const char *from;         /* the From value, with this UA's tag */
	const char *call_id;      /* Call-ID */
	const char *contact;      /* a Contact URI (INVITE, 2xx), or none */
	const char *pai;          /* a P-Asserted-Identity value, or none */
	const char *content_type; /* with a body */
	const uint8_t *body;
	size_t body_len;
	bool has_expires; /* an Expires header field (a REGISTER's: 0 deregisters) */
	uint32_t expires;
	const struct gk_digest *auth; /* Digest credentials (gk_sip_ua_digest_answer), or NULL */
	bool proxy_auth;              /* ... sent as Proxy-Authorization: they answer a 407 */
};

/*
 * The request q inside (or opening) dialog d, into out[0..cap): Request-URI d->target, q's Via,
 * one Route header field per route-set value in order, Max-Forwards 70, From, To d->to, Call-ID,
 * CSeq, Contact, P-Asserted-Identity, Expires, the credentials, Content-Type and Content-Length,
 * then the body. Length, or -EINVAL (a missing part, a control character in a value, credentials
 * the decoder would not read back), -ENOSPC.
 */
int gk_sip_ua_request(const struct gk_sip_ua_dialog *d, const struct gk_sip_ua_req *q, uint8_t *out,
                      size_t cap);

/* What an answer carries over and above gk_sip_answer's Vias, From, To (with a tag), Call-ID and
 * CSeq; NULL or "" for none. */
struct gk_sip_ua_reply {
	bool record_route;   /* copy the request's Record-Route values, in order (§12.1.1) */
	const char *contact; /* a Contact URI */
	const char *allow;   /* an Allow list (a 405 must carry one, §21.4.6) */
	const char *content_type;
	const uint8_t *body;
	size_t body_len;
};

/*
 * The answer with status and phrase to the request req[0..len) (viewed as v) into out[0..cap):
 * gk_sip_answer's (the To tag it adds is derived from the Call-ID, so a 180 and the 200 after it
 * carry the same one, and so does the answer to a retransmission), with x's parts added. Length,
 * or -EINVAL (v is no request, a control character in x's values), -ENOSPC.
 */
int gk_sip_ua_answer(const uint8_t *req, size_t len, const struct gk_sip_view *v, unsigned status,
                     const char *phrase, const struct gk_sip_ua_reply *x, uint8_t *out, size_t cap);

/*
 * A plain Digest UA's credentials (RFC 3261 §22, RFC 7616 §3.4, RFC 8760) answering challenge c
 * (as gk_sip_decode_ua reads it; a list of algorithms as gk_sip_decode reads it is taken too, ""
 * being RFC 8760's SHA-256 and MD5) with algorithm alg, for the request `method` whose digest-uri
 * is `uri` (in SIP the Request-URI, §22.4): username `user`, c's realm, nonce and opaque echoed,
 * alg's token, and qop=auth with nc (1 for a nonce answered the first time, one more at each
 * reuse, RFC 7616 §3.4) and cnonce when c offers qop=auth, else the RFC 2069 form without them.
 * HA1 is computed from `password` here and wiped. 0 with *out set; -ENOENT when c does not offer
 * alg (the -sess variants are not answered), -ENOTSUP when this OpenSSL lacks alg, -EINVAL (nc 0
 * with qop, a value too long for struct gk_digest or one Authorization cannot carry), -EIO.
 */
int gk_sip_ua_digest_answer(const struct gk_digest *c, enum gk_digest_alg alg, const char *user,
                            const char *password, const char *method, const char *uri, uint32_t nc,
                            const char *cnonce, struct gk_digest *out);

#endif
