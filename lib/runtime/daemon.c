// SPDX-License-Identifier: GPL-2.0-only
/*
 * The command line, logging and RADIUS peer lists every daemon shares (daemon.h). argv is read
 * twice: first for -c and the flags, then for --set, so the file always comes first and --set
 * overrides it whatever the order on the command line. A RADIUS peer is the first configured
 * network that holds the source, in the order given, not the longest prefix.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatekey/crypto/crypto.h"
#include "gatekey/runtime/daemon.h"
#include "gatekey/runtime/log.h"

void gk_daemon_common_keys(struct gk_cfg_key *keys, size_t cap, struct gk_daemon_common *c,
                           const char *name)
{
	size_t n = 0;
	while (keys[n].name)
		n++;
	if (n + 5 > cap)
		abort();
	snprintf(c->log_level, sizeof(c->log_level), "info");
	snprintf(c->control_socket, sizeof(c->control_socket), "/run/gatekey/%s.sock", name);
	keys[n++] = (struct gk_cfg_key)GK_CFG_KEY("log.level", GK_CFG_STR, c->log_level,
	                                          "err, warn, notice, info or debug");
	keys[n++] = (struct gk_cfg_key)GK_CFG_KEY("log.syslog", GK_CFG_BOOL, &c->log_syslog,
	                                          "log to syslog instead of stderr");
	keys[n++] = (struct gk_cfg_key)GK_CFG_KEY("control.socket", GK_CFG_STR, c->control_socket,
	                                          "UNIX socket for gkctl stats/bindings");
	keys[n++] = (struct gk_cfg_key)GK_CFG_KEY(
	    "metrics.listen", GK_CFG_ADDR, &c->metrics_listen,
	    "ip:port to serve Prometheus /metrics on over HTTP (unset: none)");
	keys[n] = (struct gk_cfg_key){0};
}

static void usage(const struct gk_cfg_key *keys, const char *name, const char *summary, FILE *f)
{
	fprintf(f,
	        "usage: %s [-c FILE] [--set key=value]... [-v]\n%s\n\n"
	        "  -c FILE          configuration file (key = value lines)\n"
	        "  --set key=value  override one configuration key (repeatable)\n"
	        "  -v               log at debug level\n"
	        "  --config-keys=text|scdoc\n"
	        "                   print only the configuration keys (scdoc: gatekey.conf(5))\n"
	        "\nconfiguration keys (see gatekey.conf(5)):\n",
	        name, summary);
	gk_cfg_print_table(keys, GK_CFG_STYLE_TEXT, f);
}

void gk_daemon_parse_args(int argc, char **argv, const struct gk_cfg_key *keys, const char *name,
                          const char *summary)
{
	static const struct option opts[] = {{"config", required_argument, 0, 'c'},
	                                     {"set", required_argument, 0, 's'},
	                                     {"help", no_argument, 0, 'h'},
	                                     {"verbose", no_argument, 0, 'v'},
	                                     {"config-keys", required_argument, 0, 'K'},
	                                     {0, 0, 0, 0}};
	char err[512];
	int o;
	bool verbose = false;

	/* --help and --config-keys print the defaults: before any file is read, whatever the
	 * order on the command line, so that they never show a file's values (or secrets). */
	optind = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "c:s:hv", opts, NULL)) != -1) {
		if (o == 'h') {
			usage(keys, name, summary, stdout);
			exit(0);
		} else if (o == 'K') {
			int style = gk_cfg_style_parse(optarg);
			if (style < 0) {
				fprintf(stderr, "%s: --config-keys expects text or scdoc\n", name);
				exit(2);
			}
			gk_cfg_print_table(keys, (enum gk_cfg_style)style, stdout);
			exit(fflush(stdout) == 0 ? 0 : 1);
		}
	}
	opterr = 1;

	/* The file first, then --set in order, whatever the order on the command line. */
	optind = 1;
	while ((o = getopt_long(argc, argv, "c:s:hv", opts, NULL)) != -1) {
		if (o == 'c') {
			if (gk_cfg_load(keys, optarg, err, sizeof(err)) < 0) {
				fprintf(stderr, "%s: %s\n", name, err);
				exit(2);
			}
		} else if (o == 'v') {
			verbose = true;
		} else if (o != 's') {
			usage(keys, name, summary, stderr);
			exit(2);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: unexpected argument \"%s\"\n", name, argv[optind]);
		exit(2);
	}
	optind = 1;
	while ((o = getopt_long(argc, argv, "c:s:hv", opts, NULL)) != -1) {
		if (o == 's' && gk_cfg_set(keys, optarg, "--set", err, sizeof(err)) < 0) {
			fprintf(stderr, "%s: %s\n", name, err);
			exit(2);
		}
	}
	if (verbose)
		for (const struct gk_cfg_key *k = keys; k->name; k++)
			if (strcmp(k->name, "log.level") == 0)
				strcpy(k->target, "debug");
}

int gk_daemon_log_setup(const struct gk_daemon_common *c, const char *name)
{
	int level = gk_log_level_parse(c->log_level);
	if (level < 0) {
		fprintf(stderr,
		        "%s: log.level \"%s\" is not one of err, warn, notice, info, debug\n", name,
		        c->log_level);
		return -1;
	}
	gk_log_init(name, c->log_syslog, level);
	return 0;
}

int gk_radius_peer_add(const char *value, void *arg, char *err, size_t errlen)
{
	struct gk_radius_peers *peers = arg;
	char addr[128];
	const char *sp = strpbrk(value, " \t");

	if (!sp || (size_t)(sp - value) >= sizeof(addr)) {
		snprintf(err, errlen, "expected \"<ip>[/prefix] <shared secret>\"");
		return -1;
	}
	if (peers->n == sizeof(peers->p) / sizeof(peers->p[0])) {
		snprintf(err, errlen, "too many RADIUS peers (at most %zu)",
		         sizeof(peers->p) / sizeof(peers->p[0]));
		return -1;
	}
	memcpy(addr, value, (size_t)(sp - value));
	addr[sp - value] = '\0';
	while (*sp == ' ' || *sp == '\t')
		sp++;
	size_t slen = strlen(sp);
	if (slen == 0 || slen > GK_SECRET_MAX) {
		snprintf(err, errlen, "the shared secret must be 1..%d characters", GK_SECRET_MAX);
		return -1;
	}
	struct gk_radius_peer *p = &peers->p[peers->n];
	memset(p, 0, sizeof(*p));
	char *slash = strchr(addr, '/');
	long prefix = -1;
	if (slash) {
		*slash = '\0';
		char *end;
		prefix = strtol(slash + 1, &end, 10);
		if (*end || prefix < 0) {
			snprintf(err, errlen, "bad prefix length \"%s\"", slash + 1);
			return -1;
		}
	}
	struct sockaddr_in *v4 = (struct sockaddr_in *)&p->net;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&p->net;
	if (inet_pton(AF_INET, addr, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		if (prefix < 0)
			prefix = 32;
		if (prefix > 32)
			goto badprefix;
	} else if (inet_pton(AF_INET6, addr, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		if (prefix < 0)
			prefix = 128;
		if (prefix > 128)
			goto badprefix;
	} else {
		snprintf(err, errlen, "\"%s\" is not an IPv4 or IPv6 address", addr);
		return -1;
	}
	p->prefix = (uint8_t)prefix;
	memcpy(p->secret, sp, slen);
	p->secret_len = slen;
	peers->n++;
	return 0;
badprefix:
	snprintf(err, errlen, "prefix length %ld too long for %s", prefix, addr);
	return -1;
}

static bool prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned bytes = bits / 8, rest = bits % 8;
	if (memcmp(a, b, bytes) != 0)
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[bytes] & mask) == (b[bytes] & mask);
}

const struct gk_radius_peer *gk_radius_peer_find(const struct gk_radius_peers *peers,
                                                 const struct sockaddr_storage *from)
{
	for (unsigned i = 0; i < peers->n; i++) {
		const struct gk_radius_peer *p = &peers->p[i];
		if (p->net.ss_family != from->ss_family)
			continue;
		if (from->ss_family == AF_INET) {
			const struct sockaddr_in *x = (const void *)&p->net,
			                         *y = (const void *)from;
			if (prefix_match((const uint8_t *)&x->sin_addr,
			                 (const uint8_t *)&y->sin_addr, p->prefix))
				return p;
		} else {
			const struct sockaddr_in6 *x = (const void *)&p->net,
			                          *y = (const void *)from;
			if (prefix_match(x->sin6_addr.s6_addr, y->sin6_addr.s6_addr, p->prefix))
				return p;
		}
	}
	return NULL;
}

void gk_radius_peers_wipe(struct gk_radius_peers *peers)
{
	gk_wipe(peers, sizeof(*peers));
}
