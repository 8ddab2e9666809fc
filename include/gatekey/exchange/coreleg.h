/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The core leg's own authentication (issue 12 finding 11): every datagram between an SBC and the
 * softswitch carries the gk-mac trailer (trailer.h) under a key pre-shared per SBC, so neither
 * side takes a verdict or a request on the strength of a source address an attacker on the core
 * network can spoof.
 *
 * Keys: the leg key (32 random bytes, "gkctl core-key generate") gives the two direction keys
 * of gk_pkt_keys_derive: uplink seals SBC -> softswitch, downlink softswitch -> SBC.
 *
 * Epochs: the trailer's 32-bit index carries the sender's epoch, a CLOCK_REALTIME second no
 * later than the moment the sender chose it; the 64-bit sequence counts within the epoch. A
 * sender starts a new epoch when it starts (after waiting out the current second, so two runs
 * never share one) and whenever its epoch is GK_CORELEG_EPOCH_MAX_S old, so a receiver can refuse
 * anything whose epoch is older than that: the receiver keeps, per peer and direction, the
 * current epoch and the 64-entry replay window; a newer epoch resets the window, an older one is
 * refused, and so is one further than GK_CORELEG_SKEW_S in the future or older than
 * GK_CORELEG_EPOCH_MAX_S + GK_CORELEG_SKEW_S. A receiver that has just started has no epoch yet:
 * it takes the first authentic datagram of any epoch within those bounds, so what it can be made
 * to accept again is at most the peer's traffic of the last GK_CORELEG_EPOCH_MAX_S + skew.
 */
#ifndef GATEKEY_CORELEG_H
#define GATEKEY_CORELEG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gatekey/crypto/crypto.h"
#include "gatekey/fastpath/pktmac.h"
#include "gatekey/runtime/reason.h"

#define GK_CORELEG_KEY_LEN     GK_KEY_LEN
#define GK_CORELEG_SKEW_S      60
#define GK_CORELEG_EPOCH_MAX_S 3600

/* The core leg's anti-replay window, in sequence numbers: wider than a terminal's (64), since one
 * leg carries every terminal's exchange, and a burst that the network, or the sender's own
 * queue, delivers out of order by more than 64 would be dropped as old and cost each of its
 * registrations the SBC's core timeout. 1,024 is 8 ms of reordering at 120,000 datagrams a second
 * (30,000 registrations). A circular bitmap of 64-bit blocks with one block spare (RFC 6479),
 * so moving on costs no shift of the whole map. */
#define GK_CORELEG_WINDOW 1024
struct gk_coreleg_window {
	uint64_t top; /* highest sequence number accepted; 0: none */
	uint64_t blocks[GK_CORELEG_WINDOW / 64 + 1];
};

/* One side of one SBC-softswitch pair. */
struct gk_coreleg {
	uint8_t tx_key[GK_SIPKEY_LEN], rx_key[GK_SIPKEY_LEN];
	uint32_t tx_epoch; /* 0 until gk_coreleg_start */
	uint64_t tx_seq;
	uint32_t rx_epoch; /* 0: nothing accepted yet */
	struct gk_coreleg_window rx_window;
	struct {
		uint64_t ok, dropped;
		struct gk_reason_counters why;
	} st;
};

/* Derives the direction keys from the leg key; sbc: this side is the SBC (it sends uplink).
 * Returns 0 or a negative errno. The caller wipes leg_key. */
int gk_coreleg_init(struct gk_coreleg *c, const uint8_t leg_key[GK_CORELEG_KEY_LEN], bool sbc);
/* Starts the first epoch at now_s (CLOCK_REALTIME seconds). */
void gk_coreleg_start(struct gk_coreleg *c, uint32_t now_s);
/* Waits until the realtime second changes and returns the new one: an epoch no earlier run can
 * have used, since each run chose its own no later than its start. Called once at startup. */
uint32_t gk_coreleg_fresh_epoch(void);
/* CLOCK_REALTIME seconds, as epochs use them. */
uint32_t gk_coreleg_now(void);

/* Appends the trailer to buf[0..len) (cap bytes); returns the new length or a negative errno. */
int gk_coreleg_seal(struct gk_coreleg *c, uint32_t now_s, uint8_t *buf, size_t len, size_t cap);
/* Verifies buf[0..len); returns the payload length, or -1 with *reason set (BAD_TRAILER,
 * BAD_TAG, REPLAY_SEQ, OLD_SEQ, STALE_TS for an epoch out of bounds) and counted in c->st. */
long gk_coreleg_open(struct gk_coreleg *c, uint32_t now_s, const uint8_t *buf, size_t len,
                     enum gk_reason *reason);

void gk_coreleg_wipe(struct gk_coreleg *c);

/* Reads a leg key file (the provisioning format, keystore.h; 0600): the id it names must be
 * sbc_id. Returns 0, or -1 with err saying why. */
int gk_coreleg_key_read(const char *path, const char *sbc_id, uint8_t key[GK_CORELEG_KEY_LEN],
                        char *err, size_t errlen);

#endif
