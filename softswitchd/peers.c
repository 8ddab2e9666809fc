// SPDX-License-Identifier: GPL-2.0-only
/*
 * The SBC peers of softswitchd (peers.h): "sbc.peer = <sbc-id> <ip> <key-file>", each with its
 * core-leg key, required, so that no peer is ever served on its address alone.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatekey/runtime/config.h"
#include "gatekey/crypto/crypto.h"
#include "gatekey/exchange/direct.h"
#include "gatekey/runtime/loop.h"
#include "peers.h"

int ss_peer_add(const char *value, void *arg, char *err, size_t errlen)
{
	struct ss_peers *peers = arg;
	char id[GK_ID_MAX + 2], ip[64], file[GK_CFG_STR_MAX], extra[2], e[320];

	if (peers->n == SS_MAX_PEERS) {
		snprintf(err, errlen, "at most %d sbc.peer entries", SS_MAX_PEERS);
		return -1;
	}
	_Static_assert(GK_CFG_STR_MAX == 256, "the %255s below");
	int n = sscanf(value, "%64s %63s %255s %1s", id, ip, file, extra);
	if (n == 2) {
		snprintf(err, errlen,
		         "expected \"<sbc-id> <ip> <key-file>\": the core-leg key file is required "
		         "(gkctl core-key generate %s --out FILE)",
		         id);
		return -1;
	}
	if (n != 3 || strlen(id) > GK_ID_MAX || strlen(file) >= GK_CFG_STR_MAX - 1) {
		snprintf(err, errlen, "expected \"<sbc-id> <ip> <key-file>\"");
		return -1;
	}
	struct ss_peer *p = &peers->p[peers->n];
	memset(p, 0, sizeof(*p));
	struct sockaddr_in *v4 = (struct sockaddr_in *)&p->ip;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&p->ip;
	if (inet_pton(AF_INET, ip, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
	} else if (inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
	} else {
		snprintf(err, errlen, "\"%s\" is not an IPv4 or IPv6 address", ip);
		return -1;
	}
	/* One address, one key: a datagram must find its peer from its source alone. */
	bool dup = ss_peer_find(peers, &p->ip) != NULL;
	for (unsigned i = 0; i < peers->n; i++)
		dup = dup || !strcmp(peers->p[i].id, id);
	if (dup) {
		snprintf(err, errlen, "sbc.peer %s %s: that SBC or address is listed already", id,
		         ip);
		memset(p, 0, sizeof(*p));
		return -1;
	}
	if (gk_coreleg_key_read(file, id, p->leg_key, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "sbc.peer %s: %s", id, e);
		memset(p, 0, sizeof(*p));
		return -1;
	}
	strcpy(p->id, id);
	peers->n++;
	return 0;
}

int ss_peers_start(struct ss_peers *peers, uint32_t epoch)
{
	int ret = 0;
	for (unsigned i = 0; i < peers->n; i++) {
		struct ss_peer *p = &peers->p[i];
		if (!ret)
			ret = gk_coreleg_init(&p->leg, p->leg_key, false);
		gk_wipe(p->leg_key, sizeof(p->leg_key));
		gk_coreleg_start(&p->leg, epoch);
	}
	return ret;
}

void ss_peers_wipe(struct ss_peers *peers)
{
	gk_wipe(peers, sizeof(*peers));
}

struct ss_peer *ss_peer_find(struct ss_peers *peers, const struct sockaddr_storage *from)
{
	for (unsigned i = 0; i < peers->n; i++) {
		struct ss_peer *p = &peers->p[i];
		if (p->ip.ss_family != from->ss_family)
			continue;
		if (from->ss_family == AF_INET) {
			const struct sockaddr_in *a = (const void *)&p->ip, *b = (const void *)from;
			if (a->sin_addr.s_addr == b->sin_addr.s_addr)
				return p;
		} else {
			const struct sockaddr_in6 *a = (const void *)&p->ip,
			                          *b = (const void *)from;
			if (!memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(a->sin6_addr)))
				return p;
		}
	}
	return NULL;
}
