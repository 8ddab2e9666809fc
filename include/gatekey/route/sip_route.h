/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SIP requests routed between registered terminals: the registrar's bindings are the location
 * service, and the element facing the terminals a stateful proxy (RFC 3261 §16) over the
 * transaction layer (sip_txn.h) and the message-editing layer (sip_proxy.h). A request is routed
 * only from a terminal with a standing binding (its gk-mac trailer verified, or the address a
 * digest registration pinned) and only to one: the callee's binding is its Request-URI user at
 * this element's domain, and the request goes to the address that binding holds, sealed under
 * its downlink key for gk-mac. The caller's identity on the way is its binding's, asserted with
 * P-Asserted-Identity (RFC 3325); whatever identity the request claimed itself is stripped.
 *
 * What is routed: requests outside a dialog (MESSAGE, INVITE, SUBSCRIBE, REFER, ...) by their
 * Request-URI user; INVITE and the others that make dialogs are record-routed, so that what comes
 * inside the dialog (ACK, BYE, re-INVITE, UPDATE, INFO, NOTIFY) passes here too, and is routed
 * only between the dialog's two parties (481 for anyone else). CANCEL is answered here and
 * cancels the forwarded INVITE (§16.10); 100 Trying goes for every INVITE. A user without a
 * binding gets 480 (RFC 3261 §21.4.18), or, when the element can ask whether the user exists at
 * all (ops.lookup: softswitchd asks the AuC), 404 for one that does not (§21.4.5) and 480 for one
 * that does; the domain itself 404, another domain 403 (no open relay), a callee that does not
 * answer 408.
 *
 * A lookup holds the request's route slot, which already keeps the request, until the answer
 * (gk_sip_router_looked_up, gk_sip_router_lookup_failed) or a bounded wait
 * (gk_sip_router_set_lookup_wait) runs out: 480 then, counted. The caller's retransmissions are
 * absorbed by its server transaction meanwhile, an INVITE has had its 100 Trying, and a CANCEL
 * of a waiting INVITE ends it with 487. A request inside a dialog is never looked up: its other
 * party exists, and one without a binding is 480.
 */
#ifndef GATEKEY_SIP_ROUTE_H
#define GATEKEY_SIP_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "gatekey/exchange/front_io.h"
#include "gatekey/sip/sip_proxy.h"
#include "gatekey/route/sip_txn.h"

struct gk_sip_route_stats {
	uint64_t requests;       /* routed requests received from a bound terminal (new ones) */
	uint64_t forwarded;      /* of which forwarded to the callee's binding */
	uint64_t responses;      /* callee responses passed back to the caller */
	uint64_t not_registered; /* requests from a source without a binding: dropped */
	uint64_t unavailable; /* 480: no binding for the Request-URI user (every 480 below too) */
	/* 404: a Request-URI without a user (the domain itself), or a user the lookup says does
	 * not exist */
	uint64_t not_found;
	uint64_t lookups;         /* ops.lookup asked whether an unbound Request-URI user exists */
	uint64_t lookup_timeouts; /* no answer within the lookup wait: 480 */
	uint64_t lookup_failures; /* the lookup could not be asked or answered (AuC down): 480 */
	uint64_t foreign;         /* 403: a Request-URI at another domain */
	uint64_t timeouts;        /* 408: the callee never answered */
	uint64_t loops;           /* 483: Max-Forwards spent */
	uint64_t
	    stray_responses; /* responses that match nothing we forwarded, or not from a binding */
	uint64_t malformed;  /* what the editing layer could not read (counted, dropped) */
	uint64_t dialogs;    /* dialogs made by a 2xx to an INVITE */
	uint64_t dialogs_ended; /* by a BYE's final response, or idle for four hours */
	uint64_t dialogs_full;  /* a 2xx when every dialog slot was taken: nothing inside routed */
	uint64_t no_dialog;     /* 481: a request inside a dialog that is not its sender's */
	/* CANCELs sent downstream (asked for, or timer C), and INVITEs cancelled while their
	 * callee was looked up (487 at once: nothing had gone downstream) */
	uint64_t cancels;
};

struct gk_sip_router;

/* As a datagram's `index` or a hop's `seal`: the core leg between sbcd and softswitchd, whose
 * own trailer (coreleg.h) authenticated the datagram and protects what goes back. */
#define GK_SIP_CORE_LEG UINT32_MAX

/* Where a routed message goes next, and how it is protected there. */
struct gk_sip_hop {
	struct sockaddr_storage addr;
	/* the gk-mac binding whose downlink key seals it, 0 for none (a digest terminal, whose
	 * pinned address is all it has), or GK_SIP_CORE_LEG */
	uint32_t seal;
};

/*
 * What the element the router runs in decides (NULL in gk_sip_router_new: the direct topology,
 * where the element's own registrar is the whole location service). Each gets the `user` given
 * to gk_sip_router_new.
 */
struct gk_sip_router_ops {
	/* The identity a request (v) from `from` speaks with, index as gk_sip_router_input's:
	 * GK_R_OK with idc set, or the reason it is dropped before any state is kept for it. v
	 * NULL: whether a response from there may be read at all. */
	enum gk_reason (*sender)(void *user, const struct gk_sip_view *v,
	                         const struct sockaddr_storage *from, uint32_t index,
	                         char idc[GK_ID_MAX + 1]);
	/* Where a request for idc goes when it came in by `in` (an index as above): 0 with *hop
	 * set, or -ENOENT (nobody by that name stands: 480, or what ops.lookup finds). */
	int (*locate)(void *user, const char *idc, uint32_t in, struct gk_sip_hop *hop);
	/* This element's "ip:port" on the link towards hop (its Via and Record-Route), 0 or -1. */
	int (*self)(void *user, const struct gk_sip_hop *hop, char *out, size_t cap);
	/* Whether a Request-URI host is a domain this element routes for (anything else: 403). */
	bool (*serves)(void *user, struct sip_span host);
	/* Sends data to `to`, protected as `seal` says (a hop's). */
	void (*xmit)(void *user, const struct sockaddr_storage *to, const uint8_t *data, size_t len,
	             uint32_t seal);
	/* Optional (NULL, as in sbcd and the router's own direct-topology ops: every user without
	 * a binding is 480).
	 * Whether idc, the Request-URI user of a new request that `locate` found no binding for,
	 * exists at all: 0 when asked, the answer to come with ref through gk_sip_router_looked_up
	 * or gk_sip_router_lookup_failed (possibly from inside this call); -1 when it cannot be
	 * asked (480 at once). ref never exceeds GK_SIP_LOOKUP_REF_MAX, so that an element can
	 * carry it in a 32-bit handle space it shares with others, its top bit telling them apart
	 * (softswitchd: the AuC client's, with the core; core.h GK_CORE_HANDLE_SPARE). */
	int (*lookup)(void *user, const char *idc, uint32_t ref);
};

/* A lookup's ref uses 31 bits: the route slot and as much of its generation as fits. */
#define GK_SIP_LOOKUP_REF_MAX 0x7fffffffu

/* idsp: this element's domain (asserted identities are <sip:IDc@idsp>); io: its front (sockets,
 * registrar, loop); ops and user: see above (ops NULL for the direct topology). NULL with err on
 * failure. */
struct gk_sip_router *gk_sip_router_new(const char *idsp, struct gk_front_io *io,
                                        const struct gk_sip_txn_cfg *txn,
                                        const struct gk_sip_router_ops *ops, void *user, char *err,
                                        size_t errlen);
void gk_sip_router_free(struct gk_sip_router *r);

/* The direct topology's answers, for an element that adds a leg of its own to them. */
enum gk_reason gk_sip_router_terminal_sender(struct gk_sip_router *r,
                                             const struct sockaddr_storage *from, uint32_t index,
                                             char idc[GK_ID_MAX + 1]);
/* -ENOENT: no binding; -EPROTONOSUPPORT: an ipsec-3gpp binding, not reachable for calls yet
 * (answered 480 without a lookup). */
int gk_sip_router_terminal_locate(struct gk_sip_router *r, const char *idc, struct gk_sip_hop *hop);
int gk_sip_router_terminal_self(struct gk_sip_router *r, const struct sockaddr_storage *to,
                                char *out, size_t cap);
/* The user of an asserted identity (the first P-Asserted-Identity's sip: URI) into idc: GK_R_OK,
 * or GK_R_IDENTITY_MISSING when there is none or it is unreadable. */
enum gk_reason gk_sip_router_asserted(const struct gk_sip_view *v, char idc[GK_ID_MAX + 1]);
struct gk_locations;
/* The softswitch's trust in an SBC (RFC 3325's trust domain, bound to the peer): a request over
 * the core leg from the SBC at `from` speaks as the identity it asserts only when that terminal
 * is located at that same SBC (where; the same address, any port: an SBC restarted sends from a
 * new one), else GK_R_IDENTITY_MISMATCH; GK_R_IDENTITY_MISSING when it
 * asserts none. An SBC thus cannot speak for another SBC's terminals, nor for one that never
 * registered. */
enum gk_reason gk_sip_router_peer_sender(const struct gk_sip_view *v,
                                         const struct sockaddr_storage *from,
                                         struct gk_locations *where, char idc[GK_ID_MAX + 1]);

/* Whether the router takes a request of this method (after gk_sip_decode accepted it). */
bool gk_sip_router_routes(const char *method);

/*
 * A SIP datagram (trailer already verified and stripped: index names the gk-mac binding, 0 for
 * none, GK_SIP_CORE_LEG when it came over the core leg) from `from` on socket s (NULL for the
 * core leg). Returns true when the router took it (a request it routes, or
 * a response to a request it forwarded), false to leave it to the registration exchange.
 */
bool gk_sip_router_input(struct gk_sip_router *r, struct gk_front_sock *s, const uint8_t *data,
                         size_t len, const struct sockaddr_storage *from, uint32_t index);

/* The answer to ops.lookup's question ref: the request waiting for it gets 480 when its user
 * exists (known) and 404 when not. A ref whose request was answered meanwhile (its wait ran
 * out, its caller cancelled, its transaction ended) finds nothing, nor does a stale one whose
 * slot serves another request now: each use of a slot is a new generation. */
void gk_sip_router_looked_up(struct gk_sip_router *r, uint32_t ref, bool known);
/* The question ref was asked but cannot be answered (no reply, an unreadable one): 480,
 * counted as lookup_failures. */
void gk_sip_router_lookup_failed(struct gk_sip_router *r, uint32_t ref);
/* How long a request waits for its lookup before it gets 480 (lookup_timeouts): default 8*T1
 * (4 s), at most 64*T1, when its caller's transaction gives up (timers B and F); 0 sets the
 * default. Durations are divided by the transaction layer's time_divisor, as its own are. */
void gk_sip_router_set_lookup_wait(struct gk_sip_router *r, uint32_t ms);

const struct gk_sip_route_stats *gk_sip_router_stats(const struct gk_sip_router *r);
struct gk_ctl_reply;
/* "route.<counter> n" and "sip.txn.<counter> n" lines for a stats command. */
void gk_sip_router_ctl_stats(const struct gk_sip_router *r, struct gk_ctl_reply *out);
const struct gk_sip_txn_stats *gk_sip_router_txn_stats(const struct gk_sip_router *r);

#endif
