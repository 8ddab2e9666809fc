/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * gkterm's shared state: the options, the terminals, the run; the engine (engine.c) registers and
 * exercises the terminals, call.c places and answers their SIP calls, digest.c speaks plain
 * Digest for them instead of GK1 (--digest).
 */
#ifndef GKTERM_H
#define GKTERM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "gatekey/cmd/cmd_txn.h"
#include "gatekey/codec/codec.h"
#include "gatekey/crypto/digest.h"
#include "gatekey/runtime/loop.h"
#include "gatekey/sip/sip_ua.h"
#include "gatekey/exchange/terminal.h"
#include "gatekey/ipsec/assoc.h"

#define GKT_REQ_MAX      1500
#define GKT_TARGETS_MAX  16   /* --call targets */
#define GKT_CALL_MSG_MAX 2048 /* a call's request or answer, as kept for retransmission */

struct gkt_opts {
	struct sockaddr_storage server;
	struct sockaddr_storage bind;
	bool bind_set;
	const struct gk_codec *codec;
	char idsp[GK_ID_MAX + 1];
	uint32_t rate;    /* registrations started per second, 0 = window-limited */
	uint32_t window;  /* registrations in flight */
	uint32_t sockets; /* source sockets shared by the terminals */
	uint32_t expires;
	uint32_t options;             /* protected OPTIONS per terminal after registering */
	uint32_t options_interval_ms; /* pause between them */
	uint32_t refresh;             /* re-registrations per terminal after those */
	uint32_t refresh_interval_ms; /* pause before each */
	uint32_t timeout_s;           /* whole run */
	int64_t ts_offset;
	bool deregister;
	bool replay_answer;
	bool abuse; /* after registering: forged, replayed, stale and unknown datagrams */
	/* after registering: one request sealed with the terminal's own key, naming this IDc */
	char impersonate[GK_ID_MAX + 1];
	const char *keylog; /* test aid: "IDc K-hex" lines, like SSLKEYLOGFILE */
	/* test aid: one line per retransmission, "retry <now_ms> <previous_ms> <IDc> <phase>"
	 * (wall-clock ms), so that a test can tell which outage each retry answers for */
	const char *retry_log;
	bool quiet;
	/* only terminals 1..sample take the steps that test a binding (--options, --replay-answer,
	 * --impersonate, --abuse); 0: all */
	uint32_t sample;
	bool progress;             /* registrations so far on stderr, every half second */
	const char *progress_file; /* the same, as one line replaced every half second */
	bool histogram;            /* registration latencies by bucket after the summary */
	/* SIP calls (call.c): each terminal calls these AORs in turn ("bob", "bob@sbc1") */
	const char *call_to[GKT_TARGETS_MAX];
	uint32_t n_call_to;
	uint32_t hold_ms;   /* between a call's ACK and its BYE */
	bool answer;        /* stay registered and answer, printing what comes */
	uint32_t answer_s;  /* for this long (0: until the run ends) */
	uint32_t calls;     /* load mode: calls between the pairs of terminals, in total */
	uint32_t call_rate; /* calls started per second, 0 = window-limited */
	struct gk_mech_offer offer[GK_MECH_MAX];
	uint8_t n_offer;
	/* --digest: plain RFC 7616 / RFC 8760 Digest with this algorithm instead of GK1 (0: GK1) */
	enum gk_digest_alg digest;
	char *password; /* --password: every terminal's (else each one's, derived from its Kc) */
	/* ipsec-3gpp in the offer: terminal i's protected ports are ipsec_base + 2i (port-c) and
	 * the next (port-s), at the address the terminals send from (--ipsec-ports) */
	uint16_t ipsec_base;
};

enum gkt_phase {
	PH_IDLE = 0,
	PH_REGISTERING,
	/* refused for overload: waits as asked, then registers again (parked); a --digest
	 * terminal sends the refused request again, a REGISTER or its deregistration */
	PH_BACKOFF,
	PH_REGISTERED,
	PH_OPTIONS,
	PH_PAUSED,         /* between two OPTIONS */
	PH_REFRESH_PAUSED, /* before a refresh */
	PH_REPLAY,
	PH_ABUSE,
	PH_IMPERSONATE,
	PH_POSTDEREG,
	PH_CALLS,     /* placing its --call calls, one after the other */
	PH_LOAD,      /* in the load run: calling or called, until all calls ended */
	PH_ANSWERING, /* --answer: staying to answer */
	PH_DEREGISTERING,
	PH_DONE,
	PH_FAILED,
};

/* A Digest terminal's last challenge (digest.c), kept to answer it and to reuse its nonce for
 * the next requests as a phone does (nc counting up), until the registrar challenges again. */
struct gkt_dg {
	char realm[sizeof(((struct gk_digest *)0)->realm)];
	char nonce[sizeof(((struct gk_digest *)0)->nonce)];
	char opaque[sizeof(((struct gk_digest *)0)->opaque)];
	uint32_t nc;   /* the last nc sent under nonce; 0: no challenge known */
	bool qop;      /* it offered qop=auth */
	bool proxy;    /* it came in a 407: answered with Proxy-Authorization */
	uint8_t kind;  /* the request under way (enum gkt_dg_kind) */
	uint8_t fresh; /* challenges this request answered: a second one not stale is a refusal */
};

struct gkt_sock {
	struct gkt_run *r;
	uint32_t i;
};

/* A terminal's side of ipsec-3gpp (ipsec.c). */
struct gkt_ipsec {
	int fd_c, fd_s; /* its protected client and server ports; -1: none */
	bool up;        /* its SAs stand: everything goes from port-c to the element's port-s */
	struct gk_ipsec_assoc cur; /* the association they carry */
	struct gkt_sock sk;        /* fd_c's and fd_s's receiver */
	/* MGCP, H.248: the transaction layer of its protected port (the shared sockets' layers
	 * speak for those sockets only), NULL for SIP and RAS */
	struct gk_cmd_txn *txn;
};

struct gkt_term {
	struct gk_terminal t;
	struct gkt_ipsec ipsec;
	uint8_t phase;
	uint8_t sock;
	uint8_t tries;
	bool replay_refused;
	bool abused;
	/* The success's MAC, for --replay-answer: the element may answer the replayed ANSWER with
	 * that same success again (a repeated final response), which registers nothing new. */
	uint8_t success_mac[GK_MAC_LEN];
	bool impersonated;
	uint32_t old_index; /* kept across deregistration for --abuse */
	uint8_t old_uplink[GK_SIPKEY_LEN];
	uint32_t cseq;
	uint32_t options_sent, options_ok;
	uint8_t call_next;  /* the --call target it places next */
	bool load_done;     /* its part of the load run is over */
	bool answer_done;   /* --answer-s has passed */
	bool parked;        /* waiting in PH_LOAD or PH_ANSWERING: no longer counted in flight */
	uint32_t wait_next; /* in the queue of terminals waiting for a call slot (slot + 1) */
	/* A refresh of a gk-mac binding is sealed under it until the new one stands: the index,
	 * uplink key and sequence of the binding being replaced (index 0: none). */
	uint32_t refreshes;
	bool refreshing;
	uint32_t standing_index;
	bool bare_next; /* a refresh's repeated ANSWER: bare and sealed by turns (seal_uplink) */
	uint8_t standing_uplink[GK_SIPKEY_LEN];
	uint64_t standing_seq;
	uint64_t started_us, done_us;
	uint64_t bound_us;   /* when its registration or last refresh succeeded */
	uint64_t last_tx_ms; /* wall clock of its last request sent, for --retry-log */
	bool reg_ok;         /* it registered once: its latency counts */
	const char *detail;  /* a failure's own words (a static string), printed after its reason */
	uint16_t status;     /* the final status a failure came with, 0 when none */
	struct gkt_dg dg;
	char pw[GK_DIGEST_PW_LEN + 1]; /* --digest without --password: derived from Kc */
	uint64_t unique;
	struct gk_timer timer;
	uint16_t req_len, answer_len;
	uint8_t req[GKT_REQ_MAX];    /* last request sent, for retransmission */
	uint8_t answer[GKT_REQ_MAX]; /* the ANSWER, for --replay-answer */
};

struct gkt_run {
	struct gkt_opts o;
	struct gk_loop *loop;
	struct gkt_term *terms;
	uint32_t n_terms;
	struct gk_idmap *by_id;
	int fds[8];
	struct sockaddr_storage local[8];
	/* MGCP, H.248: a terminal-side transaction layer per socket (it retransmits the
	 * terminals' commands, answers the network's at once); NULL for SIP */
	struct gk_cmd_txn *txn[8];
	struct gkt_sock sk[8];
	struct gk_xfrm *xfrm; /* ipsec-3gpp: this namespace's SAs and policies, NULL without */
	uint32_t next_start, in_flight, finished;
	bool stopping; /* the deadline or a signal: nothing new starts */
	uint64_t t0_us;
	struct gkt_calls *calls; /* call.c's state, NULL when no terminal calls or answers */
	struct gk_timer pacer, deadline;
	FILE *keylog;
	FILE *retry_log;
	uint64_t cmd_retx_seen[8]; /* per socket: the transaction layer's retransmissions so far */
	/* the terminals by their binding's trailer index: index -> slot + 1, open addressing,
	 * 0 is no index; made once for the run */
	uint32_t *ix_key, *ix_slot, ix_mask, ix_used;
	uint64_t last_reg_us; /* when the latest first registration completed */
	/* --progress, --progress-file: a tick each half second, the registrations counted at the
	 * last ticks for the live rate (a ring), when stderr last had a line (not a terminal) */
	struct gk_timer progress;
	bool progress_tty;
	uint32_t prog_ticks;
	uint64_t prog_us[5], prog_reg[5], prog_logged_us;
	struct {
		uint64_t registered, refreshed, failed, retransmits, options_ok, options_failed;
		uint64_t replay_refused, replay_accepted, deregistered, bad_downlink, stray;
		uint64_t replay_repeated; /* of replay_refused: answered with the same success */
		uint64_t abuse_sent, abuse_answered, abuse_expected;
		uint64_t impersonate_sent, impersonate_answered;
		uint64_t overloaded; /* overload refusals honoured: waited, then tried again */
		uint64_t ipsec_installed, ipsec_replaced, ipsec_removed, ipsec_failed;
		uint64_t reasons[GK_R__COUNT];
	} st;
};

int gkt_run(struct gkt_run *r);

/* engine.c, for call.c */
uint64_t gkt_now_us(void);
/* The terminal's next step after the one that just ended. */
void gkt_next_step(struct gkt_run *r, struct gkt_term *x);
/* A parked terminal (PH_LOAD, PH_ANSWERING) counts as in flight again / no longer. */
void gkt_park(struct gkt_run *r, struct gkt_term *x);
void gkt_unpark(struct gkt_run *r, struct gkt_term *x);
/* The terminal a downlink trailer's index names: the one whose binding has it, or after
 * deregistering with --abuse the one whose old binding had it; NULL when none. */
struct gkt_term *gkt_term_by_index(struct gkt_run *r, uint32_t index);
/* Terminal idx's Call-ID ("gk-<run start as 8 hex digits>-<idx>@gkterm", GKT_CALL_ID_MAX bytes
 * with the NUL) and From tag ("t<idx>", GKT_TAG_MAX), written without printf: every request
 * and every Digest response carries them. */
#define GKT_CALL_ID_MAX 64
#define GKT_TAG_MAX     24
void gkt_call_id(const struct gkt_run *r, uint32_t idx, char out[GKT_CALL_ID_MAX]);
/* H.248: the mId of a terminal at a, "[ip]:port". */
void gkt_mid_of(const struct sockaddr_storage *a, char *out, size_t cap);
void gkt_tag(uint32_t idx, char out[GKT_TAG_MAX]);

/* digest.c: a plain Digest UA (--digest) for the engine's terminals, SIP only. */
enum gkt_dg_kind {
	GKT_DG_REGISTER,   /* REGISTER, Expires: --expires when given */
	GKT_DG_DEREGISTER, /* REGISTER, Expires: 0 */
	GKT_DG_OPTIONS,    /* the plain OPTIONS of --options */
};
/* x's next request of that kind into x->req, a new transaction (CSeq, branch): with credentials
 * for the last challenge's nonce (nc one more) when a REGISTER has one, as phones cache them,
 * else none. 0, or -1 with x->t.reason set. */
int gkt_digest_request(struct gkt_run *r, struct gkt_term *x, enum gkt_dg_kind kind);
enum gkt_dg_verdict {
	GKT_DG_IGNORE, /* not the answer to the request under way, or provisional */
	GKT_DG_RESEND, /* challenged: x->req holds the request again, answering it */
	GKT_DG_DONE,   /* a 2xx */
	GKT_DG_FAILED, /* x->t.reason, x->detail and x->status say why */
	/* a 503 (overload): the same request again, a new transaction, after x->t.retry_after
	 * seconds (0: none said); x->t.reason (OVERLOAD), x->detail and x->status say why not
	 * when the engine cannot wait that long */
	GKT_DG_OVERLOAD,
};
/* A response for x, as gk_sip_decode_ua read it. */
enum gkt_dg_verdict gkt_digest_response(struct gkt_run *r, struct gkt_term *x,
                                        const struct gk_msg *m);
/* The algorithm's token ("MD5", "SHA-256"), for gk_sip_decode_ua. */
const char *gkt_digest_alg(const struct gkt_run *r);

/* ipsec.c: the terminals' side of ipsec-3gpp, when the offer names it (SIP and RAS). */
bool gkt_ipsec_offered(const struct gkt_opts *o);
/* XFRM netlink, and each terminal's protected ports, received with fn; for MGCP and H.248 each
 * with a transaction layer of its own, whose ops get the terminal's gkt_sock. 0, or -1 after
 * saying why on stderr. */
int gkt_ipsec_open(struct gkt_run *r, gk_dgram_fn fn, const struct gk_cmd_txn_ops *cmd_ops);
/* Removes the SAs still standing (a terminal that did not deregister), closes the sockets. */
void gkt_ipsec_close(struct gkt_run *r);
/* Before x's REGISTER (first or refresh): its end with SPIs it holds no SA under yet. */
void gkt_ipsec_offer(struct gkt_run *r, struct gkt_term *x);
/* x's registration succeeded: with ipsec-3gpp chosen its SAs are installed, or replace the
 * standing ones (make-before-break); with another mechanism the standing ones go. -1 with
 * x->t.reason and x->detail set when the kernel refused. */
int gkt_ipsec_registered(struct gkt_run *r, struct gkt_term *x);
/* x's binding ended (deregistered): its SAs go. */
void gkt_ipsec_down(struct gkt_run *r, struct gkt_term *x);
/* Where x's requests go: from port-c to the element's port-s once its SAs stand (true), else
 * the engine's socket and the server (false). */
bool gkt_ipsec_route(const struct gkt_run *r, const struct gkt_term *x, int *fd,
                     struct sockaddr_storage *to);
/* Whether `from` is the element's protected server port of x's association. */
bool gkt_ipsec_from_element(const struct gkt_run *r, const struct gkt_term *x,
                            const struct sockaddr_storage *from);

/* call.c: SIP calls between registered terminals, protected as everything they send. */
int gkt_calls_init(struct gkt_run *r);
void gkt_calls_free(struct gkt_run *r);
/* The terminal's call steps (placing, the load run, answering); false when it has none left. */
bool gkt_calls_step(struct gkt_run *r, struct gkt_term *x);
/* A terminal finished: the load run may start now. */
void gkt_calls_finished(struct gkt_run *r);
/* A datagram from the server that may be call.c's (tidx: its trailer's index, NULL without);
 * true when it took it. */
bool gkt_calls_dgram(struct gkt_run *r, uint8_t *data, size_t len,
                     const struct sockaddr_storage *from, const uint32_t *tidx);
/* The run ends: calls still going are given up. */
void gkt_calls_stop(struct gkt_run *r);
void gkt_calls_report(struct gkt_run *r);
/* Every call ended well (true when none was asked for). */
bool gkt_calls_ok(const struct gkt_run *r);

#endif
