/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What every daemon's main() shares: command line (-c FILE, --set key=value, -f/--foreground,
 * -v), config loading with the common keys (log.level, log.syslog, control.socket,
 * metrics.listen), signals (SIGTERM/SIGINT drain and stop, SIGHUP reloads, SIGUSR1 logs counters),
 * and RADIUS client lists.
 */
#ifndef GATEKEY_DAEMON_H
#define GATEKEY_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "gatekey/runtime/config.h"
#include "gatekey/runtime/loop.h"

struct gk_daemon_common {
	char log_level[32];
	bool log_syslog;
	char control_socket[GK_CFG_STR_MAX];
	struct sockaddr_storage metrics_listen; /* ss_family 0: no /metrics (metrics.h) */
};

/* Appends the common keys to a program's key table (the table must have room for 5 more
 * entries before its NULL terminator). */
void gk_daemon_common_keys(struct gk_cfg_key *keys, size_t cap, struct gk_daemon_common *c,
                           const char *name);
/* Parses argv: loads -c FILE then applies --set key=value in order. Exits with usage text on
 * error (status 2) or after --help (status 0). */
void gk_daemon_parse_args(int argc, char **argv, const struct gk_cfg_key *keys, const char *name,
                          const char *summary);
/* Sets up logging from the common keys; returns -1 with a message on a bad level. */
int gk_daemon_log_setup(const struct gk_daemon_common *c, const char *name);

/* RADIUS peers: "ip[/prefix] secret" entries (radius.client / auc.secret). */
#define GK_SECRET_MAX 128
struct gk_radius_peer {
	struct sockaddr_storage net;
	uint8_t prefix;
	uint8_t secret[GK_SECRET_MAX];
	size_t secret_len;
};
struct gk_radius_peers {
	struct gk_radius_peer p[32];
	unsigned n;
};
int gk_radius_peer_add(const char *value, void *peers, char *err, size_t errlen);
const struct gk_radius_peer *gk_radius_peer_find(const struct gk_radius_peers *peers,
                                                 const struct sockaddr_storage *from);
void gk_radius_peers_wipe(struct gk_radius_peers *peers);

#endif
