/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Requests waiting for an answer from the other side of the core leg: the request itself (whose
 * wire context answers it) and where it came from, under a 64-bit reference with GK_REF_PEER set
 * that travels in the transaction id. Fixed size; a stale reference finds nothing.
 *
 * A slot whose answer never comes (a datagram lost on the core leg, a peer that drops a request
 * without a verdict) would otherwise be held until the daemon stops, and with every slot held
 * nothing is relayed any more. So every slot waits at most ttl_ms: then it is freed and counted
 * as expired, and its reference goes stale. All slots wait equally long, so they expire in the
 * order they were taken: the waiting slots form a list in that order, and one loop timer,
 * armed for the oldest, serves them all (no timer and no allocation per request).
 */
#ifndef GATEKEY_RELAY_H
#define GATEKEY_RELAY_H

#include <stdint.h>
#include <sys/socket.h>

#include "gatekey/runtime/loop.h"
#include "gatekey/codec/msg.h"

/* References of requests that crossed the core leg (the other side's, or relayed ones). */
#define GK_REF_PEER (1ull << 63)

struct gk_relay;
struct gk_relay_txn {
	struct gk_msg req;
	struct sockaddr_storage from;
	uint32_t index; /* the terminal index the request was verified for, 0 if none */
};

struct gk_relay_stats {
	uint64_t taken;   /* slots handed out */
	uint64_t full;    /* requests refused because every slot was waiting */
	uint64_t expired; /* slots freed because their answer did not come within ttl_ms */
	uint32_t waiting; /* slots waiting now */
};

/* slots: how many requests may wait at once; ttl_ms: how long each may wait (at least 1); key:
 * the slots' table in the stats (runtime/steps.h). */
struct gk_relay *gk_relay_new(struct gk_loop *loop, uint32_t slots, uint32_t ttl_ms,
                              const char *key);
void gk_relay_free(struct gk_relay *r);
/* A free slot and its reference, or NULL when all are waiting (counted as full). */
struct gk_relay_txn *gk_relay_alloc(struct gk_relay *r, uint64_t *ref);
/* The slot of a reference, NULL when stale (answered, expired or never issued); release it
 * when done. */
struct gk_relay_txn *gk_relay_take(struct gk_relay *r, uint64_t ref);
void gk_relay_release(struct gk_relay *r, struct gk_relay_txn *t);
const struct gk_relay_stats *gk_relay_stats(const struct gk_relay *r);

#endif
