// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatekey/direct.h"
#include "gatekey/loop.h"
#include "peers.h"

int ss_peer_add(const char *value, void *arg, char *err, size_t errlen)
{
	struct ss_peers *peers = arg;
	char id[GK_ID_MAX + 2], ip[64];

	if (peers->n == SS_MAX_PEERS) {
		snprintf(err, errlen, "at most %d sbc.peer entries", SS_MAX_PEERS);
		return -1;
	}
	if (sscanf(value, "%64s %63s", id, ip) != 2 || strlen(id) > GK_ID_MAX) {
		snprintf(err, errlen, "expected \"<sbc-id> <ip>\"");
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
	strcpy(p->id, id);
	peers->n++;
	return 0;
}

const struct ss_peer *ss_peer_find(const struct ss_peers *peers,
                                   const struct sockaddr_storage *from)
{
	for (unsigned i = 0; i < peers->n; i++) {
		const struct ss_peer *p = &peers->p[i];
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
