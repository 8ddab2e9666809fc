/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The front half of the exchange (DESIGN §3), the part that faces the terminal: s1 -> s2,
 * s5 -> s6 (N2, TS2, "send your mechanism list"), s7 -> s8, s9 -> s10 (unwrap K with the element's
 * key, pick the mechanism, MAC the success), and from then on the binding and its gk-mac checks.
 * The core half (core.h) authenticates; the two talk through ops (core_*) and the
 * gk_registrar_core_* entry points, directly in one process or over SIP between sbcd and
 * softswitchd. Driven by abstract messages (msg.h); it knows nothing of any wire format.
 *
 * Before an answer proves an IDc, all it keeps for it is the registrations in progress (one per
 * source host, a few hosts at once, attempts.h), each gone when it ends. A right answer makes
 * the IDc's record: its N1 replay cache and its binding. A binding has a terminal
 * index (for the gk-mac trailer), the address it registered from, the per-direction packet keys
 * derived from K, the negotiated mechanism and its expiry. The front obtains K only by unwrapping
 * its own copy, E_Ksp[K] (an SBC) or E_Kss[K] (a softswitch in the direct topology), with its
 * long-term key.
 */
#ifndef GATEKEY_REGISTRAR_H
#define GATEKEY_REGISTRAR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "gatekey/auc/auc_proto.h"
#include "gatekey/runtime/loop.h"
#include "gatekey/runtime/metrics.h"
#include "gatekey/codec/msg.h"
#include "gatekey/fastpath/pktmac.h"
#include "gatekey/runtime/reason.h"

struct gk_registrar;
struct gk_binding;

struct gk_registrar_cfg {
	char idsp[GK_ID_MAX + 1];        /* this element's ID (IDsp / IDss) */
	uint8_t element_key[GK_KEY_LEN]; /* Ksp or Kss: unwraps the element's copy of K */
	enum gk_role role;               /* GK_ROLE_SOFTSWITCH (direct) or GK_ROLE_SBC */
	uint32_t skew_s;                 /* accepted timestamp skew, default 30 */
	uint32_t challenge_ttl_s;        /* how long a challenge can be answered, default 30 */
	uint32_t core_timeout_ms;        /* how long the core may take to decide, default 5000 */
	uint32_t expires_default_s;      /* default 3600 */
	uint32_t expires_min_s;          /* default 60 */
	uint32_t expires_max_s;          /* default 86400 */
	uint32_t mechs_supported;        /* bitmask of 1u << enum gk_mech */
	uint32_t max_terminals;          /* records (terminals registered), default 262144 */
	uint32_t max_pending;            /* registrations in progress, default 65536; the last
	                                  * quarter only for hosts refreshing their binding */
	bool log_registrations;          /* one info line per completed registration */
	/* An overload refusal (GK_R_OVERLOAD: no room for the request now) asks the terminal to
	 * come back after retry_after_s plus 0..retry_jitter_s seconds (gk_retry_after_pick),
	 * defaults 5 and 5. */
	uint32_t retry_after_s, retry_jitter_s;
	/* ipsec-3gpp (in mechs_supported only with ops.ipsec_up): per protocol (enum gk_proto),
	 * the element's protected client and server ports, the port-c and port-s of its end in
	 * every SUCCESS of that protocol. A protocol without them (0) never chooses ipsec-3gpp:
	 * each protocol's protected ports are sockets of its own codec. */
	uint16_t ipsec_port_c[GK_PROTO_COUNT], ipsec_port_s[GK_PROTO_COUNT];
};

/* A reference the registrar sends a request to the core under (and the core quotes in its
 * verdict) names the attempt in its low 32 bits and, above them, which of the attempt's requests
 * it is: a verdict on an earlier one is not taken for the current request's. Bits from
 * GK_REGISTRAR_REF_BITS up are never set, free for the daemon's own references (GK_REF_PEER). */
#define GK_REGISTRAR_REF_STEP_SHIFT 32
#define GK_REGISTRAR_REF_BITS       48

/* What stays the same across an attempt's requests: copies of one attempt are told from a new
 * attempt by it (the core leg's Call-ID). */
static inline uint64_t gk_registrar_ref_attempt(uint64_t ref)
{
	return (uint32_t)ref;
}

/* What the daemon does for the registrar. */
struct gk_registrar_ops {
	/* Send m to the terminal at `to`. b is the terminal's binding when the datagram must carry
	 * a gk-mac trailer (gk_registrar_seal), NULL otherwise. */
	void (*send_terminal)(void *user, const struct gk_msg *m, const struct sockaddr_storage *to,
	                      struct gk_binding *b);
	/* s2, s8 and the end of a binding, to the core. The core answers a register or an answer
	 * with gk_registrar_core_challenge, _success or _reject, quoting ref. sealed: the request
	 * came under the gk-mac trailer of the IDc's standing binding, from its address (a sealed
	 * refresh: the terminal holds the current K). */
	void (*core_register)(void *user, uint64_t ref, const char *idc, const char *idsp,
	                      const char *address, bool sealed);
	void (*core_answer)(void *user, uint64_t ref, const char *idc, const char *idsp,
	                    const uint8_t rand[GK_RAND_LEN], const uint8_t auth[GK_AUTH_LEN],
	                    const char *address, bool sealed);
	/* A binding ended (deregistered, expired, replaced by a refresh, or refused after the
	 * core's yes): the core ends its session. rand: the Rand of the registration that made
	 * it, which names that session, so that a late or repeated notice cannot end the one
	 * that replaced it; NULL where none is known. */
	void (*core_unbound)(void *user, const char *idc, const char *idsp, const char *address,
	                     const uint8_t *rand);
	/* A plain Digest REGISTER (no GK1 values) when `digest` is supported: cred is NULL when it
	 * carried no credentials. Answered with gk_registrar_core_digest_challenge, _digest_success
	 * or _reject. Optional: without it such a REGISTER is refused. */
	void (*core_digest)(void *user, uint64_t ref, const char *idc, const char *idsp,
	                    const struct gk_digest *cred, const char *address);
	/* ipsec-3gpp: the SAs of a registration about to complete with it, installed before the
	 * SUCCESS goes out so that the terminal's first protected datagram finds them. from: the
	 * terminal's address; term: its end as it offered it; net: the element's, which the
	 * SUCCESS carries; k: the session key (the caller wipes it); expires_s: the binding's
	 * lifetime, which the SAs' should cover. b is the IDc's binding as it
	 * stands: active, with its own ends (gk_binding_get_info), when this is a refresh, which
	 * the daemon makes before it breaks (ipsec/assoc.h). Non-zero refuses the registration
	 * (INTERNAL). Required when mechs_supported has ipsec-3gpp; the SAs go at binding_down. */
	int (*ipsec_up)(void *user, const struct gk_binding *b, const struct sockaddr_storage *from,
	                const struct gk_ipsec_end *term, const struct gk_ipsec_end *net,
	                const uint8_t k[GK_KEY_LEN], uint32_t expires_s);
	/* ipsec-3gpp, after a restart: a binding taken back from the store (gk_registrar_restore)
	 * whose SAs the daemon must find in the kernel and take back (gk_ipsec_element_adopt).
	 * Non-zero: they are gone, and the binding is not restored (the terminal registers again):
	 * without its SAs its protected ports would take anyone's plaintext as the terminal's.
	 * Without this op no ipsec-3gpp binding is restored. */
	int (*ipsec_adopt)(void *user, const struct gk_binding *b);
	/* A registration completed or a binding ended (for the fast path and inspection). */
	void (*binding_up)(void *user, struct gk_binding *b);
	void (*binding_down)(void *user, struct gk_binding *b);
	/* A deregistered binding starts to linger (its key still verifies, until binding_down):
	 * whatever would bring it back after a restart goes now. Optional. */
	void (*binding_lingers)(void *user, struct gk_binding *b);
};

struct gk_registrar_stats {
	uint64_t registrations, refreshes, deregistrations, expirations;
	uint64_t challenges, core_requests, rejects, restored;
	uint64_t rejects_overload;  /* of rejects: overload answers (its own, the core's, shed) */
	uint64_t sealed_requests;   /* REGISTERs and ANSWERs sealed under their IDc's own binding */
	uint64_t successes_resent;  /* a repeated answer, or the REGISTER its registration began
	                             * with, got the success its binding was made with */
	uint64_t challenges_resent; /* the REGISTER an attempt began with, repeated after the
	                             * terminal answered its challenge: that challenge again */
	uint64_t
	    deregistrations_resent; /* a repeated deregistration (its answer lost) got it again */
	uint64_t core_resent;       /* requests sent to the core again: the terminal retransmitted
	                             * while the core had not decided (an SBC's front) */
	uint64_t repeats_while_deciding; /* a terminal's copy of a request the core was still
	                                  * deciding on: the first copy arrived and waits (any
	                                  * front; at an SBC's, each is also core_resent) */
	uint64_t refusals_repeated; /* a request repeated after its temporary refusal (overload,
	                             * the core's timeout): that refusal again, not a replay's */
	uint64_t stale_answers;     /* ANSWERs to a challenge this front no longer holds (it
	                             * restarted, or the challenge expired): challenged afresh */
	uint64_t repeats_ignored; /* the REGISTER a completed registration began with, again, over a
	                           * binding whose SUCCESS MAC covers its transaction (RAS): the
	                           * success could not be repeated in it; dropped */
	uint64_t stale_verdicts;  /* the core's verdicts on an earlier request of an attempt than
	                           * the one it is deciding, which arrived late: dropped */
	struct gk_reason_counters reasons;
	/* request first seen to success sent, each success (new, refresh, Digest): /metrics */
	struct gk_histogram latency;
};

/* Information about a binding, for logs, inspection and tests. Never contains K. */
struct gk_binding_info {
	char idc[GK_ID_MAX + 1];
	uint32_t index;
	struct sockaddr_storage addr;
	uint8_t mech;
	uint64_t expires_at_ms; /* loop clock */
	char fpr[GK_FPR_HEX_LEN + 1];
	uint64_t rx_ok, tx;
	struct gk_ipsec_end ipsec_term, ipsec_net; /* mech ipsec-3gpp: both ends, as exchanged */
};

void gk_registrar_cfg_defaults(struct gk_registrar_cfg *c);
struct gk_registrar *gk_registrar_new(const struct gk_registrar_cfg *cfg,
                                      const struct gk_registrar_ops *ops, void *user,
                                      struct gk_loop *loop, char *err, size_t errlen);
void gk_registrar_free(struct gk_registrar *r);

/* A request from a terminal, already decoded. verified_index is the binding whose protection
 * covered this datagram: the gk-mac trailer verified (gk_registrar_open), or the ipsec-3gpp flow
 * it came in on (gk_registrar_ipsec_sender); 0 for none. */
void gk_registrar_on_message(struct gk_registrar *r, struct gk_msg *m,
                             const struct sockaddr_storage *from, uint32_t verified_index);
/* The core's verdicts (s5, s9, or a refusal the terminal only sees as "forbidden", or, for
 * GK_R_OVERLOAD, as the protocol's overload answer: retry_after_s is then the wait the core
 * asked for, 0 for the registrar's own; other reasons ignore it). */
void gk_registrar_core_challenge(struct gk_registrar *r, uint64_t ref,
                                 const uint8_t rand[GK_RAND_LEN]);
void gk_registrar_core_success(struct gk_registrar *r, uint64_t ref,
                               const uint8_t rand[GK_RAND_LEN],
                               const uint8_t blob_terminal[GK_BLOB_LEN],
                               const uint8_t blob_element[GK_BLOB_LEN]);
void gk_registrar_core_reject(struct gk_registrar *r, uint64_t ref, enum gk_reason why,
                              uint32_t retry_after_s);
/* The core's verdicts on a Digest REGISTER: a 401 with this challenge, or a binding with
 * mechanism `digest`, pinned to the address it came from and without keys. */
void gk_registrar_core_digest_challenge(struct gk_registrar *r, uint64_t ref,
                                        const struct gk_digest *chal);
void gk_registrar_core_digest_success(struct gk_registrar *r, uint64_t ref);

/*
 * The gk-mac check of an incoming datagram (DESIGN §6, the userspace path). When buf ends in a
 * trailer: finds the binding by index, checks that the source is the registered address, verifies
 * the tag and the replay window, and returns the payload length with *index set. Returns 0 with
 * *index = 0 for a datagram without a trailer, and -1 with *reason when a trailer is present
 * but fails any check (the datagram must be dropped).
 */
long gk_registrar_open(struct gk_registrar *r, const uint8_t *buf, size_t len,
                       const struct sockaddr_storage *from, uint32_t *index,
                       enum gk_reason *reason);
/* Appends the downlink trailer for b. Returns the new length or -errno. */
int gk_registrar_seal(struct gk_registrar *r, struct gk_binding *b, uint8_t *buf, size_t len,
                      size_t cap);
/* True when this source address belongs to a binding (for the unknown-source policy). */
bool gk_registrar_is_registered_addr(struct gk_registrar *r, const struct sockaddr_storage *a);
/* True when requests without a trailer are acceptable from this address: its binding is
 * Digest's, which pins the terminal to its address instead of protecting its datagrams. Never for
 * ipsec-3gpp: the kernel protects only the flow between the protected ports, and a plaintext
 * datagram from the registration's address could come from anyone who can spoof it. */
bool gk_registrar_other_allowed(struct gk_registrar *r, const struct sockaddr_storage *a);
/*
 * ipsec-3gpp: when a is the protected client address of a standing ipsec-3gpp binding (the
 * terminal's address and port-c), the element's protected server port (port-s) of that binding;
 * 0 otherwise. A datagram from a that reached port-s passed the kernel's inbound policy for
 * exactly this flow, which requires ESP under the binding's SAs: it is that binding's
 * (gk_registrar_ipsec_sender). One to a goes out from port-s, under the outbound policy.
 */
uint16_t gk_registrar_ipsec_port(struct gk_registrar *r, const struct sockaddr_storage *a);
/* The index of the ipsec-3gpp binding a datagram from `from` to local port `port` came under, or
 * 0 when none covers that flow (the datagram was not protected: drop it). */
uint32_t gk_registrar_ipsec_sender(struct gk_registrar *r, const struct sockaddr_storage *from,
                                   uint16_t port);

/*
 * A binding with its keys, as sbcd keeps it beside the pinned fast-path maps so that a restarted
 * sbcd takes its terminals back without making them register again. It holds key material: it
 * may only live in root-only kernel memory (a pinned BPF map), never in a file or a log.
 */
struct gk_binding_record {
	char idc[GK_ID_MAX + 1];
	uint32_t index;
	uint8_t mech;
	/* enum gk_proto it registered over, 0 where not known. It sits in what was padding before
	 * addr, zero in the records of stores written before it was kept: those still load. */
	uint8_t proto;
	struct sockaddr_storage addr;
	struct gk_pkt_keys keys;
	uint64_t seq_down;     /* downlink sequence numbers used so far */
	uint64_t expires_at_s; /* CLOCK_REALTIME */
	char fpr[GK_FPR_HEX_LEN + 1];
	/* The Rand of the registration that made it, which names its session at the core
	 * (core_unbound); has_rand 0 where none is known (Digest, maps pinned by XDP). */
	uint8_t rand[GK_RAND_LEN];
	uint8_t has_rand;
	/* mech ipsec-3gpp: both ends of the association the SAs in the kernel carry, which a
	 * restarted element adopts (gk_ipsec_element_adopt) */
	struct gk_ipsec_end ipsec_term, ipsec_net;
};
void gk_binding_record_of(const struct gk_binding *b, struct gk_binding_record *out);
/* Re-creates a binding from its record: 0, -EEXIST when the index or IDc is taken, -ESTALE when
 * it has expired, -EINVAL for a record that cannot be one, -ENOENT for an ipsec-3gpp one whose
 * SAs were not adopted (ops.ipsec_adopt). The downlink sequence continues
 * past rec->seq_down with a margin for datagrams sealed after the record was written. */
int gk_registrar_restore(struct gk_registrar *r, const struct gk_binding_record *rec);

struct gk_bindstore;
/* Keeps every binding in store from now on (bindstore.h), after taking back the bindings it
 * holds: each is restored (gk_registrar_restore), with its replay window, and announced through
 * ops.binding_up. Returns how many; *dropped counts those that expired meanwhile or no longer
 * fit, which leave the store. The store must outlive the registrar. */
unsigned gk_registrar_attach_store(struct gk_registrar *r, struct gk_bindstore *store,
                                   unsigned *dropped);

/* True when index is a gk-mac binding registered from a. */
bool gk_registrar_gkmac_bound(struct gk_registrar *r, uint32_t index,
                              const struct sockaddr_storage *a);
/* That binding (to seal a datagram for it again, e.g. a retransmission), or NULL. */
struct gk_binding *gk_registrar_gkmac_binding(struct gk_registrar *r, uint32_t index,
                                              const struct sockaddr_storage *a);
/* The same, or a deregistered one still lingering for its deregistration's repeat: what may
 * verify and seal a datagram of the terminal at a, never what authorizes a request. */
struct gk_binding *gk_registrar_gkmac_sealer(struct gk_registrar *r, uint32_t index,
                                             const struct sockaddr_storage *a);
/* True when index names such a lingering binding: its datagrams are for nothing but the
 * deregistration's repeat (gk_front_io_input drops the rest, the SIP router never sees them). */
bool gk_registrar_lingering(struct gk_registrar *r, uint32_t index);
/* The standing binding of idc, or NULL: the location service of routed requests (sip_route.h). */
struct gk_binding *gk_registrar_binding_of(struct gk_registrar *r, const char *idc);
/*
 * Whom a request may speak for (DESIGN §5: a verified datagram speaks only for the identity of
 * the binding whose key verified it). index: the gk-mac binding whose trailer verified it, from
 * `from`; 0: the binding pinned to `from` (mechanisms without a per-datagram MAC). GK_R_OK with
 * idc set to that binding's IDc when claimed is it or empty (the request names nobody: it speaks
 * for its binding); GK_R_IDENTITY_MISMATCH when it claims another; GK_R_NOT_REGISTERED when no
 * binding stands behind it. An element passing requests on (sbcd to the softswitch) sends them
 * under idc, or any registered terminal could act towards the core as any other subscriber.
 */
enum gk_reason gk_registrar_speaks_for(struct gk_registrar *r, uint32_t index,
                                       const struct sockaddr_storage *from, const char *claimed,
                                       char idc[GK_ID_MAX + 1]);
/* A datagram of binding index verified by the fast path outside the registrar. */
void gk_registrar_count_rx(struct gk_registrar *r, uint32_t index);

void gk_binding_get_info(const struct gk_binding *b, struct gk_binding_info *out);
/* Calls fn for every binding. */
void gk_registrar_foreach(struct gk_registrar *r,
                          void (*fn)(const struct gk_binding_info *bi, void *arg), void *arg);
/* The binding with the lowest index above `after` (0: the first one) into out; false when there
 * is none. A binding keeps its index while it stands (refreshes included), so a walk that goes on
 * after the last index it saw neither repeats nor skips one that stands throughout: the paged
 * "bindings" listing (gk_front_io_ctl_bindings). */
bool gk_registrar_next(struct gk_registrar *r, uint32_t after, struct gk_binding_info *out);
/* Registered terminals (lingering ones not) by mechanism and protocol, for /metrics: one pass
 * over the bindings' slots, a few ms for a million. n[mech][proto]; proto 0: not known (a
 * binding taken back from a store written before the protocol was kept, or from the pinned
 * fast-path maps alone). */
struct gk_terminal_counts {
	uint32_t n[GK_MECH_DIGEST + 1][GK_PROTO_COUNT];
};
void gk_registrar_terminals(const struct gk_registrar *r, struct gk_terminal_counts *out);
const struct gk_registrar_stats *gk_registrar_stats(const struct gk_registrar *r);
/* Now: IDcs with a record (registered, or until the sweep after their binding ended), and
 * registrations in progress. Strangers' requests show in the second only. */
void gk_registrar_gauges(const struct gk_registrar *r, uint32_t *records, uint32_t *in_progress);
/* Count a reason from outside the state machine (parse errors, trailer drops). */
void gk_registrar_count(struct gk_registrar *r, enum gk_reason why);
/* An overload refusal decided outside the registrar (a relay or transaction table of its daemon
 * with no room) about to go to a terminal: counts it as the registrar's own (reason.OVERLOAD,
 * rejects, rejects_overload) and returns the Retry-After it carries (retry_after_s plus
 * 0..retry_jitter_s). */
uint32_t gk_registrar_shed(struct gk_registrar *r);

#endif
