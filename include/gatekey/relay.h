/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Requests waiting for an answer from the other side of the core leg: the request itself (whose
 * wire context answers it) and where it came from, under a 64-bit reference with GK_REF_PEER set
 * that travels in the transaction id. Fixed size; a stale reference finds nothing.
 */
#ifndef GATEKEY_RELAY_H
#define GATEKEY_RELAY_H

#include <stdint.h>
#include <sys/socket.h>

#include "gatekey/msg.h"

/* References of requests that crossed the core leg (the other side's, or relayed ones). */
#define GK_REF_PEER (1ull << 63)

struct gk_relay;
struct gk_relay_txn {
	struct gk_msg req;
	struct sockaddr_storage from;
	uint32_t index; /* the terminal index the request was verified for, 0 if none */
};

struct gk_relay *gk_relay_new(uint32_t slots);
void gk_relay_free(struct gk_relay *r);
/* A free slot and its reference, or NULL when all are waiting. */
struct gk_relay_txn *gk_relay_alloc(struct gk_relay *r, uint64_t *ref);
/* The slot of a reference, NULL when stale; release it when done. */
struct gk_relay_txn *gk_relay_take(struct gk_relay *r, uint64_t ref);
void gk_relay_release(struct gk_relay *r, struct gk_relay_txn *t);

#endif
