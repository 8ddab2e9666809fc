/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The softswitch's RADIUS client towards aucd: auth requests (s3 -> s4) and accounting (s11),
 * with RFC 5080 retransmission (same ID and authenticator) and pools of source sockets so that
 * thousands of requests can be outstanding (the RADIUS ID is only 8 bits per socket).
 *
 * Authentication and accounting have a pool each, on sockets of their own: an identifier held
 * by an unanswered Accounting-Request can never be one an Access-Request needed. With one
 * shared pool a dead accounting server starved registration: every Start waited for
 * timeout x tries, and from about 1,400 accounting messages/s every vector request failed
 * with OVERLOAD. Accounting also gives up sooner (acct_tries); what it gives up or cannot send
 * is counted (acct_given_up, acct_no_room), and what registration cannot send is no_slot.
 */
#ifndef GATEKEY_AUC_CLIENT_H
#define GATEKEY_AUC_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "gatekey/auc/auc_proto.h"
#include "gatekey/runtime/daemon.h"
#include "gatekey/runtime/loop.h"
#include "gatekey/runtime/metrics.h"

struct gk_auc_client_cfg {
	struct sockaddr_storage auth_server, acct_server;
	uint8_t secret[GK_SECRET_MAX];
	size_t secret_len;
	uint32_t vendor;
	char nas_id[GK_ID_MAX + 1];
	/* The wait after the first try, default 1000; each retransmission waits twice as long as
	 * the one before (RFC 5080 §2.2.1), so that a server slowed by load is not also sent
	 * copies at the same pace. An Access-Request is given up timeout_ms x (tries + 1) after it
	 * was first sent, when the core stops waiting for it too (softswitchd's settings), and an
	 * answer to any of its copies is used until then, however late: after a scheduling
	 * stall on either side it is still the answer. An Accounting-Request is given up after
	 * timeout_ms x acct_tries. */
	uint32_t timeout_ms;
	uint32_t tries;        /* Access-Requests: default 3 */
	uint32_t sockets;      /* Access-Requests: default 16, 256 identifiers each */
	uint32_t acct_tries;   /* Accounting-Requests: default 2 */
	uint32_t acct_sockets; /* Accounting-Requests: default 4, 256 identifiers each */
};

struct gk_auc_client_ops {
	void (*vector)(void *user, uint32_t handle, const struct gk_auc_vector *v);
	void (*failed)(void *user, uint32_t handle, enum gk_reason why);
	/* Answer to gk_auc_client_digest (optional: only a core that checks Digest needs it). */
	void (*ha1)(void *user, uint32_t handle, const struct gk_auc_ha1 *h);
	/* Answer to gk_auc_client_lookup: whether the subscriber exists (optional: only a router
	 * that tells 404 from 480 asks). A lookup with no answer ends in `failed`, as any. */
	void (*known)(void *user, uint32_t handle, bool known);
};

struct gk_auc_client_stats {
	/* no_slot: Access-Requests refused (OVERLOAD), every authentication identifier in use.
	 * requests counts lookups too; rejects only what a Reject refused (a Reject answering a
	 * lookup is an answer: lookups_unknown). */
	uint64_t requests, retransmits, timeouts, rejects, bad_responses, no_slot;
	uint64_t answered_after_retransmit; /* answers used although a copy had been resent */
	uint64_t lookups, lookups_unknown;
	/* acct_lost = acct_given_up (no answer after acct_tries) + acct_no_room (every accounting
	 * identifier in use, not sent) + the few that could not be encoded */
	uint64_t acct_sent, acct_acked, acct_lost, acct_given_up, acct_no_room, acct_retransmits;
	/* first Access-Request sent to the answer used, retransmissions included (/metrics) */
	struct gk_histogram rtt;
};

struct gk_auc_client;

struct gk_auc_client *gk_auc_client_new(struct gk_loop *loop, const struct gk_auc_client_cfg *cfg,
                                        const struct gk_auc_client_ops *ops, void *user, char *err,
                                        size_t errlen);
void gk_auc_client_free(struct gk_auc_client *c);
/* Sends an auth request; the answer arrives through ops. Fails at once (ops->failed, OVERLOAD)
 * when every authentication identifier is in use; accounting never takes one of them. */
void gk_auc_client_request(struct gk_auc_client *c, uint32_t handle, const char *idc,
                           const char *idsp);
/* Asks for the HA1 of (idc, realm) to check a Digest answer; the answer arrives through ops->ha1
 * or ops->failed. */
void gk_auc_client_digest(struct gk_auc_client *c, uint32_t handle, const char *idc,
                          const char *idsp, const char *realm);
/* Asks whether subscriber idc exists (auc_proto.h's lookup; idsp: this softswitch's element ID).
 * The answer arrives through ops->known, or ops->failed (at once with OVERLOAD when every
 * authentication identifier is in use: lookups share them, and their retransmissions, with
 * the vector and HA1 requests). */
void gk_auc_client_lookup(struct gk_auc_client *c, uint32_t handle, const char *idc,
                          const char *idsp);
/* Fire and forget: sent when an accounting identifier is free, retransmitted up to acct_tries,
 * otherwise counted as lost. */
void gk_auc_client_account(struct gk_auc_client *c, const struct gk_auc_acct *a);
const struct gk_auc_client_stats *gk_auc_client_stats(const struct gk_auc_client *c);
/* Requests sent and not yet answered or given up: vector, HA1 and lookup requests; accounting. */
void gk_auc_client_in_flight(const struct gk_auc_client *c, uint32_t *auth, uint32_t *acct);

#endif
