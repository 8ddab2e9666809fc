/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The SBCs this softswitch serves (claims 9-16): who they are, and the core-leg key each one
 * shares with it (coreleg.h), since the source address alone can be spoofed on the core network.
 */
#ifndef SOFTSWITCHD_PEERS_H
#define SOFTSWITCHD_PEERS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "gatekey/exchange/coreleg.h"
#include "gatekey/codec/msg.h"

#define SS_MAX_PEERS 16

struct ss_peer {
	char id[GK_ID_MAX + 1];
	struct sockaddr_storage ip; /* port ignored: the trailer, not the address, authenticates */
	uint8_t leg_key[GK_CORELEG_KEY_LEN]; /* until ss_peers_start; wiped then */
	struct gk_coreleg leg;
	/* where its last authenticated datagram came from: requests for its terminals go there,
	 * whatever port it used when they registered (it may have restarted since) */
	struct sockaddr_storage last;
	bool have_last;
};

struct ss_peers {
	struct ss_peer p[SS_MAX_PEERS];
	unsigned n;
};

/* Config value "<sbc-id> <ip> <key-file>"; the key file is read at once, so a missing or bad one
 * is reported at its file:line. */
int ss_peer_add(const char *value, void *peers, char *err, size_t errlen);
/* Derives every peer's direction keys (after gk_crypto_init), wipes the leg keys, and starts the
 * downlink epoch. Returns 0 or a negative errno. */
int ss_peers_start(struct ss_peers *peers, uint32_t epoch);
void ss_peers_wipe(struct ss_peers *peers);
struct ss_peer *ss_peer_find(struct ss_peers *peers, const struct sockaddr_storage *from);

#endif
