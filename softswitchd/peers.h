/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The SBCs this softswitch serves (claims 9-16): who they are, and the core-leg requests of
 * theirs waiting for the core's verdict.
 */
#ifndef SOFTSWITCHD_PEERS_H
#define SOFTSWITCHD_PEERS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "gatekey/msg.h"

#define SS_MAX_PEERS 16

struct ss_peer {
	char id[GK_ID_MAX + 1];
	struct sockaddr_storage ip; /* port ignored */
};

struct ss_peers {
	struct ss_peer p[SS_MAX_PEERS];
	unsigned n;
};

/* Config value "<sbc-id> <ip>". */
int ss_peer_add(const char *value, void *peers, char *err, size_t errlen);
const struct ss_peer *ss_peer_find(const struct ss_peers *peers,
                                   const struct sockaddr_storage *from);

/* Requests from SBCs waiting for the core, referenced as GK_REF_PEER | handle. */
struct ss_relay;
struct ss_relay_txn {
	struct gk_msg req;
	struct sockaddr_storage from;
};

struct ss_relay *ss_relay_new(uint32_t slots);
void ss_relay_free(struct ss_relay *r);
/* A free slot and its reference, or NULL when all are waiting. */
struct ss_relay_txn *ss_relay_alloc(struct ss_relay *r, uint64_t *ref);
/* The slot of a reference (and releases it), NULL when stale. */
struct ss_relay_txn *ss_relay_take(struct ss_relay *r, uint64_t ref);
void ss_relay_release(struct ss_relay *r, struct ss_relay_txn *t);

#endif
