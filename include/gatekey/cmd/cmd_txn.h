/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Transactions of the command/response bindings (MGCP RFC 3435 §3.5, H.248.1 §8.2 and Annex D),
 * between a daemon's socket and the protocol-free state machines (docs/bindings-mgcp.md):
 *
 *   datagram -> codec->decode -> gk_cmd_txn_input() -> 1: hand m to the registrar/terminal
 *                                                      0: consumed (duplicate answered again,
 *                                                         acknowledgement, pending)
 *   registrar/terminal output -> gk_cmd_txn_output() -> the final response of the command it
 *                                                        answers, and/or a new command sent
 *                                                        and retransmitted until acknowledged
 *
 * Received commands are remembered with their answers for T-hist (t_hist_ms) in a history that
 * grows in steps up to max_in (lib/cmd/cmd_txn.c says how it stays small); sent commands wait in
 * slots that grow the same way up to max_out. No allocation per message; timers on the gk_loop.
 * One instance per socket (or per protocol of a daemon). Single-threaded, like the loop.
 */
#ifndef GATEKEY_CMD_TXN_H
#define GATEKEY_CMD_TXN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "gatekey/codec/codec.h"
#include "gatekey/runtime/loop.h"
#include "gatekey/codec/msg.h"

#define GK_CMD_BUF 1400 /* largest encoded message kept for retransmission */

/* Received commands remembered at most, per instance, by default: T-hist (30 s) of about 35,000
 * commands a second, more than one sbcd socket sustains; memory follows what is remembered. */
#define GK_CMD_HISTORY_DEFAULT (1u << 20)
/* Sent commands in flight at most, by default. */
#define GK_CMD_IN_FLIGHT_DEFAULT 65536u
/* What max_in and max_out may be. */
#define GK_CMD_POOL_MAX (1u << 24)

struct gk_cmd_txn_cfg {
	/* names its tables in the stats ("<label>_history", ...): lower-case letters, digits and
	 * '_', unique in the process; empty: the codec's name */
	char label[24];
	uint32_t t_init_ms;    /* first retransmission (200) */
	uint32_t t_max_ms;     /* longest gap between retransmissions (4000) */
	uint32_t max_retx;     /* retransmissions before giving up (7) */
	uint32_t t_pending_ms; /* after a provisional/Pending: wait this long before the next try
	                          (5000), max_retx times a command at most */
	uint32_t t_hist_ms;    /* replies kept for duplicates (30000: MGCP T-hist, H.248
	                          LONG-TIMER) */
	uint32_t t_work_ms;    /* a command the state machine never answers is forgotten after
	                          this (30000) */
	uint32_t max_out;      /* commands in flight, at most (GK_CMD_IN_FLIGHT_DEFAULT) */
	uint32_t max_in;       /* commands received, working or answered, at most: past it the
	                          oldest answer gives way (GK_CMD_HISTORY_DEFAULT) */
	/* Network side: commands of request-class messages (REGISTER, ANSWER, DEREGISTER, OTHER)
	 * wait for the state machine's answer, retransmissions meanwhile get a provisional
	 * response. Terminal side (false): every command is answered at once. */
	bool defer;
	char local_mid[64]; /* H.248: this element's mId ("[198.18.0.1]:2944"); "" = the codec's */
};

enum gk_cmd_outcome {
	GK_CMD_OK = 0,      /* acknowledged */
	GK_CMD_REFUSED = 1, /* answered with an error code */
	GK_CMD_GAVE_UP = 2, /* no answer after every retransmission */
};

struct gk_cmd_txn_ops {
	/* Puts buf on the wire. seal: what output() was given for this message (e.g. a terminal
	 * index whose gk-mac trailer to add; 0 = plain), again on every retransmission so each
	 * copy can be sealed afresh. */
	void (*xmit)(void *user, const struct sockaddr_storage *to, const uint8_t *buf, size_t len,
	             uint32_t seal);
	/* A command sent by output() ended (optional). code: the response code, 0 when none. */
	void (*done)(void *user, uint64_t cookie, enum gk_cmd_outcome outcome, uint16_t code);
	/* Network side (defer): a new command of the exchange found every slot working, none
	 * answered to give way. Returns the Retry-After (seconds, 0: none said) of the overload
	 * refusal (REJECT, GK_R_OVERLOAD: MGCP 409, H.248 510) the layer then sends at once
	 * without keeping it; the caller counts it. Optional: without it such a command is dropped,
	 * and its sender retransmits into the full pool. */
	uint32_t (*shed)(void *user);
};

struct gk_cmd_txn_stats {
	uint64_t cmds_sent, retransmissions, gave_up;
	uint64_t acks_in, pending_in, resp_acks_in, stray_responses;
	uint64_t cmds_in, duplicates, pending_sent, replies_sent, replies_forgotten;
	uint64_t pool_full, encode_errors;
	uint64_t evicted;       /* answered commands forgotten to make room (history at max_in) */
	uint64_t shed;          /* of pool_full: refused at once as overload (ops.shed) */
	uint64_t evicted_young; /* of evicted: answered less than T-hist before, so a copy of its
	                         * command may still come and be taken for a new one */
	uint64_t grown;         /* steps the history took after its first (slots or bytes) */
};

struct gk_cmd_txn;

void gk_cmd_txn_cfg_defaults(struct gk_cmd_txn_cfg *c);
/* codec: gk_mgcp_codec or gk_h248_codec. NULL with err. */
struct gk_cmd_txn *gk_cmd_txn_new(const struct gk_codec *codec, const struct gk_cmd_txn_cfg *cfg,
                                  const struct gk_cmd_txn_ops *ops, void *user,
                                  struct gk_loop *loop, char *err, size_t errlen);
void gk_cmd_txn_free(struct gk_cmd_txn *t);

/*
 * A decoded message from `from`. Returns 1 when m goes on to the state machine (a new command;
 * with defer, also a duplicate of an exchange command still being worked on, which the state
 * machine recognises as a retransmission; or a response that means something to it: REJECT,
 * and the 2xx of a DEREGISTER or OTHER, which becomes DEREG_OK / OTHER_OK, with the IDs of the
 * command filled in), 0 when the layer consumed it. seal: how to seal what the layer answers by
 * itself (duplicates, provisional, 200).
 */
int gk_cmd_txn_input(struct gk_cmd_txn *t, struct gk_msg *m, const struct sockaddr_storage *from,
                     uint32_t seal);
/*
 * A message of the state machine to `to`. When its wire context is a command received from `to`
 * and not yet answered, that command gets its final response (REJECT: the error; DEREG_OK,
 * OTHER_OK: 200; anything else: 200 and then the message itself as a new command). Every command
 * gets a fresh transaction id and is retransmitted until acknowledged; `done` reports it with
 * cookie. 0, or -ENOBUFS (pool full), -EINVAL (the codec cannot express m).
 */
int gk_cmd_txn_output(struct gk_cmd_txn *t, const struct gk_msg *m,
                      const struct sockaddr_storage *to, uint32_t seal, uint64_t cookie);

const struct gk_cmd_txn_stats *gk_cmd_txn_stats(const struct gk_cmd_txn *t);
/* Commands in flight, commands received and remembered (for tests and the stats socket). */
unsigned gk_cmd_txn_out_count(const struct gk_cmd_txn *t);
unsigned gk_cmd_txn_in_count(const struct gk_cmd_txn *t);
/* Bytes its tables hold resident: what the history and the commands in flight cost now. */
uint64_t gk_cmd_txn_resident_bytes(const struct gk_cmd_txn *t);

/* The shared part of m's wire context (NULL for protocols without commands). */
struct gk_cmd_wire *gk_cmd_wire_of(struct gk_msg *m);

#endif
