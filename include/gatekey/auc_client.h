/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The softswitch's RADIUS client towards aucd: auth requests (s3 -> s4) and accounting (s11),
 * with RFC 5080 retransmission (same ID and authenticator) and a pool of source sockets so that
 * thousands of requests can be outstanding (the RADIUS ID is only 8 bits per socket).
 */
#ifndef GATEKEY_AUC_CLIENT_H
#define GATEKEY_AUC_CLIENT_H

#include <stdint.h>
#include <sys/socket.h>

#include "gatekey/auc_proto.h"
#include "gatekey/daemon.h"
#include "gatekey/loop.h"

struct gk_auc_client_cfg {
	struct sockaddr_storage auth_server, acct_server;
	uint8_t secret[GK_SECRET_MAX];
	size_t secret_len;
	uint32_t vendor;
	char nas_id[GK_ID_MAX + 1];
	uint32_t timeout_ms; /* per try, default 1000 */
	uint32_t tries;      /* default 3 */
	uint32_t sockets;    /* default 16 */
};

struct gk_auc_client_ops {
	void (*vector)(void *user, uint32_t handle, const struct gk_auc_vector *v);
	void (*failed)(void *user, uint32_t handle, enum gk_reason why);
	/* Answer to gk_auc_client_digest (optional: only a core that checks Digest needs it). */
	void (*ha1)(void *user, uint32_t handle, const struct gk_auc_ha1 *h);
};

struct gk_auc_client_stats {
	uint64_t requests, retransmits, timeouts, rejects, bad_responses, no_slot;
	uint64_t acct_sent, acct_acked, acct_lost;
};

struct gk_auc_client;

struct gk_auc_client *gk_auc_client_new(struct gk_loop *loop, const struct gk_auc_client_cfg *cfg,
                                        const struct gk_auc_client_ops *ops, void *user, char *err,
                                        size_t errlen);
void gk_auc_client_free(struct gk_auc_client *c);
/* Sends an auth request; the answer arrives through ops. Fails at once (ops->failed) when no
 * request slot is free. */
void gk_auc_client_request(struct gk_auc_client *c, uint32_t handle, const char *idc,
                           const char *idsp);
/* Asks for the HA1 of (idc, realm) to check a Digest answer; the answer arrives through ops->ha1
 * or ops->failed. */
void gk_auc_client_digest(struct gk_auc_client *c, uint32_t handle, const char *idc,
                          const char *idsp, const char *realm);
void gk_auc_client_account(struct gk_auc_client *c, const struct gk_auc_acct *a);
const struct gk_auc_client_stats *gk_auc_client_stats(const struct gk_auc_client *c);

#endif
