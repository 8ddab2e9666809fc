/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The SBCs this softswitch serves (claims 9-16): who they are.
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

#endif
