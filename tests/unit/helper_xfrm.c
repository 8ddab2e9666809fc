// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ESP probe of helper_xfrm.h: one SA add in a throwaway network namespace, and the kernel's
 * configuration to tell "this kernel has no ESP or GCM" (a skip) from "it has them and refuses"
 * (a failure). The refusal alone does not say which: a kernel configured with ESP as modules
 * answers the same -ENOSYS when the modules cannot be loaded.
 */
#include <errno.h>
#include <stdbool.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <zlib.h>

#include "gatekey/ipsec/xfrm.h"
#include "helper_xfrm.h"

struct probe {
	int rc;
	char why[160];
};

/* In the child: the SA add, in a namespace of its own (it goes when the child exits). */
static void probe_sa(int family, struct probe *p)
{
	struct gk_xfrm_flow f = {.dir = GK_XFRM_OUT, .spi = 0x100, .owner = 0xffff};
	uint8_t key[GK_XFRM_KEY_LEN];
	struct gk_xfrm *h = NULL;

	memset(key, 0x5a, sizeof(key)); /* not a secret: the SA lives as long as this process */
	f.local.ss_family = f.peer.ss_family = (sa_family_t)family;
	if (family == AF_INET) {
		struct sockaddr_in *l = (struct sockaddr_in *)&f.local,
		                   *r = (struct sockaddr_in *)&f.peer;
		inet_pton(AF_INET, "127.0.0.1", &l->sin_addr);
		inet_pton(AF_INET, "127.0.0.2", &r->sin_addr);
		l->sin_port = htons(1);
		r->sin_port = htons(2);
	} else {
		struct sockaddr_in6 *l = (struct sockaddr_in6 *)&f.local;
		struct sockaddr_in6 *r = (struct sockaddr_in6 *)&f.peer;
		l->sin6_addr = in6addr_loopback;
		r->sin6_addr = in6addr_loopback;
		l->sin6_port = htons(1);
		r->sin6_port = htons(2);
	}
	if (unshare(CLONE_NEWNET) != 0) {
		p->rc = -errno;
		snprintf(p->why, sizeof(p->why), "unshare(CLONE_NEWNET): %s (run as root)",
		         strerror(errno));
		return;
	}
	p->rc = gk_xfrm_open(&h);
	if (!p->rc)
		p->rc = gk_xfrm_sa_add(h, &f, key, sizeof(key));
	snprintf(p->why, sizeof(p->why), "%s", gk_xfrm_error(h));
	gk_xfrm_close(h);
}

static int probe(int family, struct probe *p)
{
	int fds[2], status;
	pid_t pid;
	ssize_t n;

	memset(p, 0, sizeof(*p));
	if (pipe(fds) != 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -errno;
	}
	if (pid == 0) {
		close(fds[0]);
		probe_sa(family, p);
		_exit(write(fds[1], p, sizeof(*p)) == (ssize_t)sizeof(*p) ? 0 : 1);
	}
	close(fds[1]);
	n = read(fds[0], p, sizeof(*p));
	close(fds[0]);
	if (waitpid(pid, &status, 0) < 0 || n != (ssize_t)sizeof(*p))
		return -ECHILD;
	p->why[sizeof(p->why) - 1] = '\0';
	return 0;
}

/* 'y', 'm' or 'n' (not set, or absent) for CONFIG_<name> in the running kernel's configuration;
 * '?' when there is none to read (no file, or one without a single option). */
static char kconfig(const char *name)
{
	char path[300], line[512], want[128];
	struct utsname u;
	gzFile f = gzopen("/proc/config.gz", "rb");
	char v = '?'; /* until a line of the configuration is seen */
	size_t wl;

	if (!f && uname(&u) == 0) {
		snprintf(path, sizeof(path), "/boot/config-%s", u.release);
		f = gzopen(path, "rb"); /* zlib reads a plain file as it is */
	}
	if (!f)
		return '?';
	wl = (size_t)snprintf(want, sizeof(want), "CONFIG_%s=", name);
	while (gzgets(f, line, sizeof(line))) {
		if (strncmp(line, want, wl) == 0) {
			v = line[wl] == 'y' || line[wl] == 'm' ? line[wl] : 'n';
			break;
		}
		if (strncmp(line, "CONFIG_", 7) == 0 || strncmp(line, "# CONFIG_", 9) == 0)
			v = 'n';
	}
	gzclose(f);
	return v;
}

int gk_test_esp_capable(int family, char *why, size_t len)
{
	const char *opts[] = {family == AF_INET ? "INET_ESP" : "INET6_ESP", "CRYPTO_GCM"};
	char missing[96] = "", configured[96] = "";
	bool unknown = false;
	struct probe p;
	int rc = probe(family, &p);

	if (rc) {
		snprintf(why, len, "probing for ESP: %s", strerror(-rc));
		return rc;
	}
	if (p.rc == 0)
		return 0;
	if (p.rc != -ENOSYS && p.rc != -EPROTONOSUPPORT) {
		snprintf(why, len, "the kernel refuses an ESP SA: %s (kernel: \"%s\")",
		         strerror(-p.rc), p.why);
		return p.rc;
	}
	/* ENOSYS: "Requested AEAD algorithm not found"; EPROTONOSUPPORT: no ESP type. */
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		char v = kconfig(opts[i]);
		char *to = v == 'n' ? missing : configured;
		size_t at = strlen(to);

		if (v == '?')
			unknown = true;
		else if (v == 'n')
			snprintf(to + at, sizeof(missing) - at, "%sCONFIG_%s", at ? ", " : "",
			         opts[i]);
		else
			snprintf(to + at, sizeof(configured) - at, "%sCONFIG_%s=%c", at ? ", " : "",
			         opts[i], v);
	}
	if (missing[0]) {
		snprintf(why, len,
		         "this kernel has no %s: the ESP cases run in the VM (make check-vm, "
		         "tests/vm/run.sh)",
		         missing);
		return 1;
	}
	if (unknown) {
		snprintf(
		    why, len,
		    "this kernel has no ESP or GCM (\"%s\"; no configuration to name "
		    "CONFIG_INET_ESP, CONFIG_INET6_ESP or CONFIG_CRYPTO_GCM): the ESP cases run "
		    "in the VM (make check-vm, tests/vm/run.sh)",
		    p.why);
		return 1;
	}
	snprintf(why, len,
	         "the kernel is configured with %s, yet refuses an ESP SA: %s (kernel: "
	         "\"%s\"); are its modules installed and loadable?",
	         configured, strerror(-p.rc), p.why);
	return p.rc;
}
