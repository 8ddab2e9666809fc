/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The SIP transaction layer (RFC 3261 §17, with RFC 6026's Accepted state) for the stateful
 * proxies, sbcd and softswitchd, over UDP. It works on raw datagrams and a key the caller takes
 * from the top Via and the CSeq method, so it needs no parser and edits no message: what it must
 * build itself (a 100 Trying, the ACK of a non-2xx final) it asks the caller for through ops.
 *
 *   request in  -> gk_sip_txn_server_input()   -> NEW: the caller works on it and answers with
 *                                                  gk_sip_txn_server_respond(); anything else
 *                                                  was absorbed (or is an ACK to pass on)
 *   request out -> gk_sip_txn_client_send()    -> sent, retransmitted, timed out
 *   response in -> gk_sip_txn_client_response() -> PASS: forward it upstream; ABSORBED: a
 *                                                  retransmission; STRAY: no transaction
 *
 * Fixed pools allocated once, a free list, a keyed hash index, one timer per transaction and
 * nothing that outlives its timer; no allocation per message. One instance per proxy, on the
 * loop's thread. Callbacks must not call into the layer, except `timeout`, which may (to answer
 * the server transaction a timed-out client transaction served, or to send a CANCEL).
 */
#ifndef GATEKEY_SIP_TXN_H
#define GATEKEY_SIP_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "gatekey/runtime/limits.h"
#include "gatekey/runtime/loop.h"

/* Methods as a key holds them. Unknown methods share GK_SIP_OTHER: two of them with the same
 * branch would be one transaction, which needs a client reusing a branch across requests, which
 * RFC 3261 §8.1.1.7 forbids. */
enum gk_sip_method {
	GK_SIP_NONE = 0,
	GK_SIP_INVITE,
	GK_SIP_ACK,
	GK_SIP_CANCEL,
	GK_SIP_BYE,
	GK_SIP_REGISTER,
	GK_SIP_OPTIONS,
	GK_SIP_MESSAGE,
	GK_SIP_SUBSCRIBE,
	GK_SIP_NOTIFY,
	GK_SIP_REFER,
	GK_SIP_INFO,
	GK_SIP_UPDATE,
	GK_SIP_PRACK,
	GK_SIP_PUBLISH,
	GK_SIP_OTHER,
};

/* A method name as the wire spells it (case-sensitive, RFC 3261 §7.1): GK_SIP_OTHER for one
 * not listed, GK_SIP_NONE for an empty one. */
enum gk_sip_method gk_sip_method_of(const char *name, size_t len);

/*
 * What matches a message to its transaction (§17.1.3, §17.2.3): the branch of the top Via, the
 * sent-by of the top Via, and the method (of the request line; of the CSeq in a response). Only
 * RFC 3261 branches (z9hG4bK...) are unique; for an RFC 2543 client the caller may synthesise a
 * branch from what §17.2.3 compares instead (Request-URI, tags, Call-ID, CSeq, top Via).
 * Server transactions match on all three; an ACK finds the INVITE's transaction (give the key
 * method ACK: the layer looks for INVITE), a CANCEL has its own. Client transactions match on
 * branch and method only, as §17.1.3 says: the sent-by is ours, and ignored.
 * Fill it with gk_sip_txn_key_set, which makes equal keys equal bytes.
 */
struct gk_sip_txn_key {
	uint8_t method; /* enum gk_sip_method */
	uint8_t branch_len, sent_by_len;
	char branch[GK_SIP_BRANCH_MAX];
	char sent_by[GK_SIP_SENT_BY_MAX];
};

/* Fills k, lower-casing branch and sent-by (tokens and host names compare case-insensitively,
 * §7.3.1, §20.42). -E2BIG when one of them does not fit (the caller handles that request
 * statelessly), -EINVAL for an empty branch or GK_SIP_NONE. */
int gk_sip_txn_key_set(struct gk_sip_txn_key *k, enum gk_sip_method method, const char *branch,
                       size_t branch_len, const char *sent_by, size_t sent_by_len);

struct gk_sip_txn_cfg {
	uint32_t t1_ms; /* RTT estimate (500) */
	uint32_t t2_ms; /* longest retransmission gap of non-INVITE requests and finals (4000) */
	uint32_t t4_ms; /* how long a message may live in the network (5000): timers I, K */
	uint32_t timer_d_ms; /* client INVITE: retransmitted finals answered with the ACK (32000) */
	/* Server INVITE: the 100 Trying goes this long after the request unless the caller answered
	 * first (200, §17.2.1); 0 sends it at once. Needs ops.build_trying. */
	uint32_t trying_ms;
	/* A proxy's timer C (§16.6 step 11, §16.8; 180000): a client INVITE transaction with no
	 * final this long after its last provisional reports GK_SIP_TXN_TIMER_C. A server INVITE
	 * transaction gives the caller this plus 64*T1 plus T4 after its last provisional to send a
	 * final: it outlasts the client transaction it serves, so the 408 for that one still goes.
	 */
	uint32_t timer_c_ms;
	uint32_t max_server, max_client; /* transactions at once (16384 each) */
	/* Divides every duration above (tests: 100 makes T1 5 ms); 1 in service. */
	uint32_t time_divisor;
};

/* How a transaction ended without what it waited for (ops.timeout). */
enum gk_sip_txn_expiry {
	GK_SIP_TXN_TIMER_B,  /* client INVITE: no response at all, or no final 64*T1 after timer
	                        C (§9.1: taken as cancelled); either as a 408 Request Timeout */
	GK_SIP_TXN_TIMER_F,  /* client non-INVITE: no final */
	GK_SIP_TXN_TIMER_C,  /* client INVITE: no final after a provisional (the transaction stays
	                        64*T1 longer so the final the CANCEL brings is matched and ACKed) */
	GK_SIP_TXN_TIMER_H,  /* server INVITE: a non-2xx final never ACKed */
	GK_SIP_TXN_NO_FINAL, /* server: the caller never sent a final response */
};

/* Transactions are named by handles: an index and a generation, so the handle of an ended
 * transaction never reaches the one that took its slot. 0 names none. */
typedef uint64_t gk_sip_txn_handle;

struct gk_sip_txn_ops {
	/* Puts data on the wire to `to`. seal: what the caller gave for this transaction, again on
	 * every retransmission so each copy is sealed afresh. Required. */
	void (*xmit)(void *user, const struct sockaddr_storage *to, const uint8_t *data, size_t len,
	             uint32_t seal);
	/* Writes the 100 Trying for request req into out; its length, or <= 0 for none. Optional:
	 * without it no 100 is sent by the layer. */
	int (*build_trying)(void *user, const uint8_t *req, size_t req_len, uint8_t *out,
	                    size_t cap);
	/* Writes the ACK of the non-2xx final rsp to the INVITE req (§17.1.1.3: the INVITE's
	 * Request-URI, Call-ID, From, CSeq number and top Via, the response's To); its length, or
	 * <= 0 for none. req is NULL when the INVITE was too long to keep. Optional, but without
	 * it the next hop retransmits every non-2xx final until its timer H. */
	int (*build_ack)(void *user, const uint8_t *req, size_t req_len, const uint8_t *rsp,
	                 size_t rsp_len, uint8_t *out, size_t cap);
	/* A transaction ended on `why`; except for GK_SIP_TXN_TIMER_C its handle is already gone.
	 * Optional. */
	void (*timeout)(void *user, gk_sip_txn_handle h, uint64_t user_ref,
	                enum gk_sip_txn_expiry why);
};

enum gk_sip_txn_state {
	GK_SIP_TXN_GONE = 0, /* no such transaction (ended, or never was) */
	GK_SIP_TXN_TRYING,   /* non-INVITE, no response yet */
	GK_SIP_TXN_CALLING,  /* client INVITE, no response yet */
	GK_SIP_TXN_PROCEEDING,
	GK_SIP_TXN_COMPLETED,
	GK_SIP_TXN_CONFIRMED, /* server INVITE: its non-2xx final was ACKed */
	GK_SIP_TXN_ACCEPTED,  /* INVITE: a 2xx went through (RFC 6026) */
};

struct gk_sip_txn_stats {
	/* server transactions */
	uint64_t server_new;
	uint64_t retransmissions_absorbed; /* requests matching a transaction */
	uint64_t responses_sent;           /* by server_respond */
	uint64_t responses_resent;         /* by the layer: for a retransmission, or by timer G */
	uint64_t trying_sent;              /* 100 Trying built through ops.build_trying */
	uint64_t acks_absorbed;            /* ACKs of a non-2xx final, and their retransmissions */
	uint64_t acks_passed;              /* ACKs no transaction absorbs (of a 2xx) */
	uint64_t server_timeouts;          /* timer H, or no final from the caller */
	/* client transactions */
	uint64_t client_sent;
	uint64_t client_retransmissions; /* timers A and E */
	uint64_t client_timeouts;        /* timers B, F (C is counted apart) */
	uint64_t timer_c;
	uint64_t responses_passed, responses_absorbed, stray_responses;
	uint64_t acks_sent; /* ACKs of non-2xx finals, first ones and repeats */
	/* both */
	uint64_t pool_full;         /* a transaction refused for want of a slot */
	uint64_t too_long_to_store; /* messages over GK_SIP_TXN_MSG_MAX: sent, not kept */
	uint64_t build_failures;    /* build_trying or build_ack gave nothing */
	/* gauges */
	uint32_t server_in_use, client_in_use;
};

struct gk_sip_txn;

void gk_sip_txn_cfg_defaults(struct gk_sip_txn_cfg *c);
/* NULL with err for bad settings or no memory. */
struct gk_sip_txn *gk_sip_txn_new(const struct gk_sip_txn_cfg *cfg,
                                  const struct gk_sip_txn_ops *ops, void *user,
                                  struct gk_loop *loop, char *err, size_t errlen);
void gk_sip_txn_free(struct gk_sip_txn *t);

/* ---- server transactions: requests received ---------------------------------------------- */

enum gk_sip_txn_input {
	GK_SIP_TXN_NEW,            /* a new transaction: the caller works on the request */
	GK_SIP_TXN_RETRANSMISSION, /* absorbed; the last response, if any, was sent again */
	GK_SIP_TXN_ACK_ABSORBED,   /* the ACK of a non-2xx final (or a repeat of it) */
	GK_SIP_TXN_ACK_PASS,       /* an ACK no transaction absorbs: of a 2xx, for the caller to
	                              forward (RFC 6026 §7.1 for one matching an Accepted INVITE) */
	GK_SIP_TXN_NONE_AVAILABLE, /* pool full (counted): answer 503 statelessly, or drop */
};

/*
 * A request received. reply_to: where its responses go (§18.2.2: the source for a request whose
 * top Via has received/rport, else the sent-by; the caller decides); seal: how to seal them.
 * *h: the transaction the request made or matched (0 for ACK_PASS and NONE_AVAILABLE). An ACK
 * never makes a transaction.
 */
enum gk_sip_txn_input gk_sip_txn_server_input(struct gk_sip_txn *t, const struct gk_sip_txn_key *k,
                                              const uint8_t *req, size_t len,
                                              const struct sockaddr_storage *reply_to,
                                              uint32_t seal, gk_sip_txn_handle *h);

/*
 * The caller's response (status 100-699) on server transaction h: sent to its reply_to, kept
 * for retransmission (unless longer than GK_SIP_TXN_MSG_MAX: sent, not kept, counted), and the
 * state machine moves. INVITE: 1xx Proceeding; 2xx Accepted for 64*T1 (timer L), where further
 * 2xx are sent (a proxy forwards each) and retransmitted INVITEs absorbed; 3xx-6xx Completed,
 * retransmitted by timer G until the ACK, given up by timer H. Non-INVITE: 1xx Proceeding; a
 * final Completed for 64*T1 (timer J), sent again for each retransmitted request.
 * 0, -ENOENT (h has ended: nothing sent), -EALREADY (a final went already: nothing sent, but a
 * 2xx in Accepted), -EINVAL (status).
 */
int gk_sip_txn_server_respond(struct gk_sip_txn *t, gk_sip_txn_handle h, unsigned status,
                              const uint8_t *rsp, size_t len);

/* Sends the 100 Trying of INVITE server transaction h now rather than after trying_ms. 0, or
 * -ENOENT, -EINVAL (not an INVITE), -EALREADY (a 100 or another response went already),
 * -ENOTSUP (no build_trying). */
int gk_sip_txn_server_trying(struct gk_sip_txn *t, gk_sip_txn_handle h);

/* The server transaction of k, or 0 (for a CANCEL: set k's method to INVITE to find the INVITE
 * it cancels, §9.2). */
gk_sip_txn_handle gk_sip_txn_server_find(struct gk_sip_txn *t, const struct gk_sip_txn_key *k);

/* ---- client transactions: requests sent --------------------------------------------------- */

/*
 * Sends request req (not an ACK) to `to` and keeps it: INVITE retransmitted by timer A (T1,
 * doubling) until a response, given up by timer B (64*T1); non-INVITE by timer E (T1 doubling
 * to T2, then T2) until a final, given up by timer F (64*T1). A request longer than
 * GK_SIP_TXN_MSG_MAX is sent once and not retransmitted (counted). user_ref comes back with its
 * responses and timeout. 0, -ENOBUFS (pool full, counted), -EEXIST (k is in use: a branch
 * reused), -EINVAL (an ACK).
 */
int gk_sip_txn_client_send(struct gk_sip_txn *t, const struct gk_sip_txn_key *k, const uint8_t *req,
                           size_t len, const struct sockaddr_storage *to, uint32_t seal,
                           uint64_t user_ref, gk_sip_txn_handle *h);

enum gk_sip_txn_response {
	GK_SIP_TXN_PASS,     /* for the caller: forward it */
	GK_SIP_TXN_ABSORBED, /* a retransmission the layer dealt with */
	GK_SIP_TXN_STRAY,    /* no transaction (or a status outside 100-699); RFC 6026 has a proxy
	                        drop it rather than forward it statelessly */
};

/*
 * A response received, with status and bytes. INVITE: every 1xx passes (the first stops timer
 * A); a 2xx passes and moves to Accepted for 64*T1 (timer M), where every 2xx passes too (RFC
 * 6026: the proxy forwards each end to end); a 3xx-6xx passes once, is ACKed through
 * ops.build_ack, and its retransmissions during timer D are absorbed and ACKed again.
 * Non-INVITE: 1xx pass; the first final passes and moves to Completed for T4 (timer K), where
 * repeats are absorbed. *h and *user_ref (either may be NULL) name the transaction.
 */
enum gk_sip_txn_response gk_sip_txn_client_response(struct gk_sip_txn *t,
                                                    const struct gk_sip_txn_key *k, unsigned status,
                                                    const uint8_t *rsp, size_t len,
                                                    gk_sip_txn_handle *h, uint64_t *user_ref);

/* The client transaction of k, or 0. */
gk_sip_txn_handle gk_sip_txn_client_find(struct gk_sip_txn *t, const struct gk_sip_txn_key *k);

/* Whether a CANCEL may go for client transaction h: an INVITE with a provisional response and
 * no final (§9.1). */
bool gk_sip_txn_client_cancellable(const struct gk_sip_txn *t, gk_sip_txn_handle h);

/* The request client transaction h keeps (to build its CANCEL from), or NULL once it is no
 * longer kept (too long; after a non-2xx final the slot keeps the ACK instead). */
const uint8_t *gk_sip_txn_client_request(const struct gk_sip_txn *t, gk_sip_txn_handle h,
                                         size_t *len);

/* ---- either ------------------------------------------------------------------------------- */

enum gk_sip_txn_state gk_sip_txn_state(const struct gk_sip_txn *t, gk_sip_txn_handle h);
/* Attaches the caller's reference to h (server transactions start with 0). 0 or -ENOENT. */
int gk_sip_txn_set_ref(struct gk_sip_txn *t, gk_sip_txn_handle h, uint64_t user_ref);
/* The caller's reference attached to h, 0 when none or h has ended. */
uint64_t gk_sip_txn_ref(const struct gk_sip_txn *t, gk_sip_txn_handle h);
const struct gk_sip_txn_stats *gk_sip_txn_stats(const struct gk_sip_txn *t);

#endif
