// SPDX-License-Identifier: GPL-2.0-only
/*
 * The rig of the ipsec-3gpp end-to-end runs with the daemons (issue 17), shared by the tests
 * (test_ipsec_daemons.c) and the bench (bench_ipsec_daemons.c), each one binary that includes it
 * once. aucd and softswitchd in one network namespace, gkterm's terminals in another, a veth
 * between them; through an SBC, sbcd in a third, holding K. Built through libnl
 * (helper_netns.h), the programs started by fork and exec, so that it runs in the guest of
 * tests/vm/run.sh, whose kernel has ESP, as well as on any host whose kernel has it. The binaries
 * are found beside the program (the guest's /test) or in ../bin (the build tree).
 */
#ifndef GK_TEST_IPSEC_RIG_H
#define GK_TEST_IPSEC_RIG_H
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "kselftest_harness.h"

#include "gatekey/ipsec/xfrm.h"
#include "gatekey/runtime/config.h"
#include "gatekey/runtime/loop.h"
#include "helper_netns.h"
#include "helper_xfrm.h"

#define IF_E      "gkie0"
#define IF_S      "gkis0" /* the SBC's core side, and the core host's */
#define IF_C      "gkic0"
#define CORE_S    "198.18.8.1"
#define CORE_C    "198.18.8.2"
#define IF_T      "gkit0"
#define ADDR_E    "198.18.7.1"
#define ADDR_T    "198.18.7.2"
#define TERMINALS 3
#define BASE_PORT 21000 /* gkterm --ipsec-ports: terminal i's port-c is BASE_PORT + 2i */
#define START_MS  60000 /* a daemon's start, emulated (TCG) in the guest */
#define RUN_S     40    /* gkterm --timeout */
#define SECRET    "gk-ipsec-e2e-secret"

FIXTURE(rig)
{
	int ns_e, ns_t, ns_c, ns_home; /* the element holding K, the terminals, the core */
	char dir[64];
	char elem_sock[96]; /* the control socket of the element holding K */
	pid_t aucd, ss, sbc;
	struct gk_xfrm *he, *ht; /* XFRM netlink in the element's and the terminal's namespace */
};

FIXTURE_VARIANT(rig)
{
	bool sbc;             /* through sbcd, which then holds K; else softswitchd does */
	const char *proto;    /* gkterm --proto */
	uint16_t server_port; /* the element's ordinary port of that protocol */
	uint16_t port_c, port_s;
	const char *listen_key, *ports_key;
	uint16_t owner;      /* the element's ipsec.owner (its default) */
	const char *rx_stat; /* its counter of datagrams its protected ports received */
};

#define SIP_VARIANT                                                                                \
	.proto = "sip", .server_port = 5060, .port_c = 5062, .port_s = 5064,                       \
	.listen_key = "sip.listen", .ports_key = "sip.ipsec_ports"
#define RAS_VARIANT                                                                                \
	.proto = "h323", .server_port = 1719, .port_c = 1722, .port_s = 1724,                      \
	.listen_key = "ras.listen", .ports_key = "ras.ipsec_ports"

FIXTURE_VARIANT_ADD(rig, sbc_sip){.sbc = true, SIP_VARIANT, .owner = 1, .rx_stat = "rx_protected"};
FIXTURE_VARIANT_ADD(rig, sbc_ras){.sbc = true, RAS_VARIANT, .owner = 1, .rx_stat = "rx_protected"};
#define MGCP_VARIANT                                                                               \
	.proto = "mgcp", .server_port = 2727, .port_c = 2722, .port_s = 2724,                      \
	.listen_key = "mgcp.listen", .ports_key = "mgcp.ipsec_ports"
#define H248_VARIANT                                                                               \
	.proto = "h248", .server_port = 2944, .port_c = 2946, .port_s = 2948,                      \
	.listen_key = "h248.listen", .ports_key = "h248.ipsec_ports"
FIXTURE_VARIANT_ADD(rig,
                    sbc_mgcp){.sbc = true, MGCP_VARIANT, .owner = 1, .rx_stat = "rx_protected"};
FIXTURE_VARIANT_ADD(rig,
                    sbc_h248){.sbc = true, H248_VARIANT, .owner = 1, .rx_stat = "rx_protected"};
FIXTURE_VARIANT_ADD(rig, sip){SIP_VARIANT, .owner = 2, .rx_stat = "rx_datagrams"};
FIXTURE_VARIANT_ADD(rig, ras){RAS_VARIANT, .owner = 2, .rx_stat = "rx_datagrams"};
FIXTURE_VARIANT_ADD(rig, mgcp){MGCP_VARIANT, .owner = 2, .rx_stat = "rx_datagrams"};
FIXTURE_VARIANT_ADD(rig, h248){H248_VARIANT, .owner = 2, .rx_stat = "rx_datagrams"};

/* The variants a run is limited to (make demo MECH=ipsec-3gpp, the bench): the protocol (gkterm's
 * name; mix: all four) and topology ("sbc" or "direct"). NULL: every variant. The rig of another
 * is not built, and each test returns at once there. */
static const char *rig_only_proto, *rig_only_topo;
/* registrar.max_terminals and max_pending of the element and the core */
static unsigned rig_max_terminals = 64;

static bool rig_skips(const FIXTURE_VARIANT(rig) * variant)
{
	if (!rig_only_proto)
		return false;
	return (strcmp(rig_only_proto, "mix") != 0 &&
	        strcmp(rig_only_proto, variant->proto) != 0) ||
	       strcmp(rig_only_topo, variant->sbc ? "sbc" : "direct") != 0;
}

/* A program beside this test (the guest) or in ../bin (build/tests -> build/bin). */
static void bin_path(const char *name, char *out, size_t cap)
{
	char self[PATH_MAX / 2];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	self[n > 0 ? n : 0] = '\0';
	char *slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	if ((size_t)snprintf(out, cap, "%s/%.64s", self, name) >= cap || access(out, X_OK) != 0)
		snprintf(out, cap, "%s/../bin/%.64s", self, name);
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Starts argv (argv[0] a program name, found by bin_path) in namespace ns, its output to log. */
static pid_t spawn(int ns, const char *log, char *const argv[])
{
	char path[PATH_MAX];
	pid_t pid;

	bin_path(argv[0], path, sizeof(path));
	pid = fork();
	if (pid != 0)
		return pid;
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0 || helper_in_ns(ns) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		_exit(126);
	execv(path, argv);
	_exit(127);
}

/* Its exit status, or -1 after killing it when it outlived timeout_ms. */
static int wait_exit(pid_t pid, uint64_t timeout_ms)
{
	uint64_t end = now_ms() + timeout_ms;
	int st;

	while (now_ms() < end) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (w < 0)
			return -1;
		usleep(20000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

/* Runs argv to its end in namespace ns: its exit status (-1: it had to be killed). */
static int run(int ns, const char *log, char *const argv[], uint64_t timeout_ms)
{
	pid_t pid = spawn(ns, log, argv);
	return pid < 0 ? -1 : wait_exit(pid, timeout_ms);
}

static void stop(pid_t *pid)
{
	if (*pid <= 0)
		return;
	kill(*pid, SIGTERM);
	if (wait_exit(*pid, 10000) < 0)
		fprintf(stderr, "# pid %d did not stop on SIGTERM\n", (int)*pid);
	*pid = 0;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ssize_t n = fd < 0 ? -1 : write(fd, text, strlen(text));
	if (fd >= 0)
		close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* The value of counter `name` in a daemon's "stats", or -1. */
static long ctl_stat(FIXTURE_DATA(rig) * self, const char *sock, const char *name)
{
	char log[128], gkctl[PATH_MAX], line[256];
	char *argv[] = {"gkctl", "ctl", (char *)sock, "stats", NULL};
	long v = -1;

	snprintf(log, sizeof(log), "%s/stats.out", self->dir);
	unlink(log);
	bin_path("gkctl", gkctl, sizeof(gkctl));
	if (run(self->ns_home, log, argv, 10000) != 0)
		return -1;
	FILE *f = fopen(log, "r");
	size_t n = strlen(name);
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, name, n) == 0 && line[n] == ' ')
			v = strtol(line + n + 1, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

/* Waits until the daemon's control socket answers. */
static bool ready(FIXTURE_DATA(rig) * self, const char *sock)
{
	char *argv[] = {"gkctl", "ctl", (char *)sock, "stats", NULL};
	char log[128];
	uint64_t end = now_ms() + START_MS;

	snprintf(log, sizeof(log), "%s/ready.out", self->dir);
	while (now_ms() < end) {
		if (run(self->ns_home, log, argv, 10000) == 0)
			return true;
		usleep(100000);
	}
	return false;
}

static void print_file(const char *path)
{
	char line[512];
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		fprintf(stderr, "#   %s", line);
	if (f)
		fclose(f);
}

/* gkctl with the key store's options first, then args (NULL-terminated). */
static int gkctl(FIXTURE_DATA(rig) * self, const char *const args[])
{
	char db[96], kek[96], log[96];
	char *argv[16] = {"gkctl", "--db", db, "--kek", kek};
	int n = 5;

	snprintf(db, sizeof(db), "%s/keys.db", self->dir);
	snprintf(kek, sizeof(kek), "%s/kek", self->dir);
	snprintf(log, sizeof(log), "%s/provision.log", self->dir);
	for (; *args && n < 15; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	return run(self->ns_home, log, argv, 30000);
}

/* Starts the daemon with <dir>/<name>.conf in namespace ns: its pid once its control socket
 * <dir>/<name>.sock answers, else -1 after printing its log. */
static pid_t daemon_run(FIXTURE_DATA(rig) * self, const char *name, int ns)
{
	char path[96], log[96], sock[96];
	char *argv[] = {(char *)name, "-c", path, NULL};

	snprintf(path, sizeof(path), "%s/%s.conf", self->dir, name);
	snprintf(log, sizeof(log), "%s/%s.log", self->dir, name);
	snprintf(sock, sizeof(sock), "%s/%s.sock", self->dir, name);
	pid_t pid = spawn(ns, log, argv);
	if (pid > 0 && ready(self, sock))
		return pid;
	print_file(log);
	if (pid > 0)
		stop(&pid);
	return -1;
}

/* Writes <dir>/<name>.conf and starts the daemon with it (daemon_run). */
static pid_t daemon_start(FIXTURE_DATA(rig) * self, const char *name, int ns, const char *conf)
{
	char path[96];

	snprintf(path, sizeof(path), "%s/%s.conf", self->dir, name);
	if (write_file(path, conf) < 0)
		return -1;
	return daemon_run(self, name, ns);
}

/* A new network namespace with lo up: its fd (the caller is in it afterwards). */
static int new_ns(void)
{
	if (unshare(CLONE_NEWNET) < 0 || helper_lo_up() < 0)
		return -1;
	return open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
}

/*
 * The rig. Direct: terminal host ADDR_T -- ADDR_E softswitchd (with aucd). Through an SBC:
 * terminal host ADDR_T -- ADDR_E sbcd, whose core side CORE_S -- CORE_C reaches softswitchd and
 * aucd. Either way the element holding K, whose SAs the tests look at, is at ADDR_E in ns_e.
 */
FIXTURE_SETUP(rig)
{
	char conf[1536], core[64];

	self->ns_e = self->ns_t = self->ns_c = self->ns_home = -1;
	if (rig_skips(variant))
		return; /* not in this run: each test returns at once */
	/* without ESP nothing is built: each test says why it skips (ESP_CAPABLE_OR_SKIP) */
	char why[384];
	if (gk_test_esp_capable(AF_INET, why, sizeof(why)) != 0)
		return;
	self->ns_home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->ns_home);
	ASSERT_LE(0, self->ns_t = new_ns());
	if (variant->sbc)
		ASSERT_LE(0, self->ns_c = new_ns());
	ASSERT_LE(0, self->ns_e = new_ns());
	if (!variant->sbc)
		self->ns_c = dup(self->ns_e);
	ASSERT_EQ(0, helper_veth_to(IF_E, IF_T, self->ns_t));
	ASSERT_EQ(0, helper_link_address_up(IF_E, AF_INET, ADDR_E, 24));
	if (variant->sbc) {
		ASSERT_EQ(0, helper_veth_to(IF_S, IF_C, self->ns_c));
		ASSERT_EQ(0, helper_link_address_up(IF_S, AF_INET, CORE_S, 24));
	}
	ASSERT_EQ(0, gk_xfrm_open(&self->he));
	ASSERT_EQ(0, helper_in_ns(self->ns_t));
	ASSERT_EQ(0, helper_link_address_up(IF_T, AF_INET, ADDR_T, 24));
	ASSERT_EQ(0, gk_xfrm_open(&self->ht));
	if (variant->sbc) {
		ASSERT_EQ(0, helper_in_ns(self->ns_c));
		ASSERT_EQ(0, helper_link_address_up(IF_C, AF_INET, CORE_C, 24));
	}
	ASSERT_EQ(0, helper_in_ns(self->ns_home));

	snprintf(self->dir, sizeof(self->dir), "/tmp/gk-ipsec-e2e-%d", (int)getpid());
	ASSERT_EQ(0, mkdir(self->dir, 0700));
	snprintf(self->elem_sock, sizeof(self->elem_sock), "%s/%s.sock", self->dir,
	         variant->sbc ? "sbcd" : "softswitchd");
	/* the key store: a KEK, the softswitch (and the SBC), the subscribers t1..tN */
	char kek[96], log[96], ss_key[96], sbc_key[96], core_key[96];
	snprintf(kek, sizeof(kek), "%s/kek", self->dir);
	snprintf(log, sizeof(log), "%s/provision.log", self->dir);
	snprintf(ss_key, sizeof(ss_key), "%s/ss1.key", self->dir);
	snprintf(sbc_key, sizeof(sbc_key), "%s/sbc1.key", self->dir);
	snprintf(core_key, sizeof(core_key), "%s/sbc1.core", self->dir);
	char *kekgen[] = {"gkctl", "kek", "generate", kek, NULL};
	ASSERT_EQ(0, run(self->ns_home, log, kekgen, 30000));
	ASSERT_EQ(0, gkctl(self, (const char *[]){"element", "add", "ss1", "--type", "softswitch",
	                                          "--out", ss_key, NULL}));
	for (int i = 1; i <= TERMINALS; i++) {
		char id[16], out[96];
		snprintf(id, sizeof(id), "t%d", i);
		snprintf(out, sizeof(out), "%s/%s.key", self->dir, id);
		ASSERT_EQ(
		    0, gkctl(self, (const char *[]){"subscriber", "add", id, "--out", out, NULL}));
	}
	if (variant->sbc) {
		ASSERT_EQ(0, gkctl(self, (const char *[]){"element", "add", "sbc1", "--type", "sbc",
		                                          "--out", sbc_key, NULL}));
		char *coregen[] = {"gkctl", "core-key", "generate", "sbc1",
		                   "--out", core_key,   NULL};
		ASSERT_EQ(0, run(self->ns_home, log, coregen, 30000));
	}

	/* aucd and softswitchd on the core host; with ipsec-3gpp at the element that holds K */
	snprintf(conf, sizeof(conf),
	         "auc.listen = 127.0.0.1:1812\nauc.accounting_listen = 127.0.0.1:1813\n"
	         "keystore.db = %s/keys.db\nkeystore.kek = %s\n"
	         "radius.client = 127.0.0.0/8 " SECRET "\ncontrol.socket = %s/aucd.sock\n",
	         self->dir, kek, self->dir);
	ASSERT_LT(0, self->aucd = daemon_start(self, "aucd", self->ns_c, conf));
	char small[160];
	snprintf(small, sizeof(small),
	         "registrar.max_terminals = %u\nregistrar.max_pending = %u\n"
	         "route.transactions = 64\n",
	         rig_max_terminals, rig_max_terminals);
	/* The element holding K keeps its bindings in a store, so that a restart takes them back
	 * (the_element_restarts_and_keeps_its_sas); the store must be on a tmpfs or ramfs, as the
	 * guest's root is. */
	char front[384], store[128];
	struct statfs fs;
	bool memory_fs =
	    statfs(self->dir, &fs) == 0 && (fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC);
	if (memory_fs)
		snprintf(store, sizeof(store), "registrar.binding_store = %s/bindings\n",
		         self->dir);
	else
		snprintf(store, sizeof(store),
		         "registrar.binding_store = /dev/shm/gk-ipsec-e2e-%d\n", (int)getpid());
	/* sbcd's SIP listener is its access side's */
	const char *listen = variant->sbc && strcmp(variant->listen_key, "sip.listen") == 0
	                         ? "access.listen"
	                         : variant->listen_key;
	snprintf(front, sizeof(front),
	         "%s = " ADDR_E ":%u\nregistrar.mechanisms = ipsec-3gpp gk-mac\n%s = %u %u\n%s",
	         listen, variant->server_port, variant->ports_key, variant->port_c, variant->port_s,
	         store);
	snprintf(core, sizeof(core), "%s", variant->sbc ? CORE_C : ADDR_E);
	snprintf(conf, sizeof(conf),
	         "softswitch.key_file = %s\nauc.server = 127.0.0.1:1812\nauc.secret = " SECRET "\n"
	         "control.socket = %s/softswitchd.sock\n%s%s",
	         ss_key, self->dir, small,
	         variant->sbc ? "registrar.binding_store = none\n" : front);
	if (variant->sbc)
		snprintf(conf + strlen(conf), sizeof(conf) - strlen(conf),
		         "sip.listen = " CORE_C ":5060\nsbc.peer = sbc1 " CORE_S " %s\n", core_key);
	ASSERT_LT(0, self->ss = daemon_start(self, "softswitchd", self->ns_c, conf));
	if (variant->sbc) {
		snprintf(conf, sizeof(conf),
		         "sbc.key_file = %s\ncore.softswitch = " CORE_C
		         ":5060\ncore.key_file = %s\n"
		         "control.socket = %s/sbcd.sock\nfastpath.mode = userspace\n"
		         "fastpath.interface = " IF_E "\n%s%s",
		         sbc_key, core_key, self->dir, small, front);
		ASSERT_LT(0, self->sbc = daemon_start(self, "sbcd", self->ns_e, conf));
	}
}

FIXTURE_TEARDOWN(rig)
{
	char cmd[128];

	stop(&self->sbc);
	stop(&self->ss);
	stop(&self->aucd);
	gk_xfrm_close(self->he);
	gk_xfrm_close(self->ht);
	if (self->dir[0]) {
		snprintf(cmd, sizeof(cmd), "/dev/shm/gk-ipsec-e2e-%d", (int)getpid());
		unlink(cmd);
		snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", self->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "# could not remove %s\n", self->dir);
	}
	/* the namespaces go with their last reference: the fds, and no process left in them */
	int *fds[] = {&self->ns_e, &self->ns_t, &self->ns_c, &self->ns_home};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
}

/* gkterm's terminals t1..tN from the terminal's namespace, with extra arguments; started, not
 * waited for. */
static pid_t gkterm(FIXTURE_DATA(rig) * self, const FIXTURE_VARIANT(rig) * variant, const char *log,
                    const char *const extra[], int n_extra)
{
	char server[64], timeout[16], base[16], count[16];
	char *argv[40];
	int n = 0;

	snprintf(server, sizeof(server), ADDR_E ":%u", variant->server_port);
	snprintf(timeout, sizeof(timeout), "%d", RUN_S);
	snprintf(base, sizeof(base), "%d", BASE_PORT);
	snprintf(count, sizeof(count), "%d", TERMINALS);
	const char *fixed[] = {"gkterm",
	                       "--server",
	                       server,
	                       "--idsp",
	                       variant->sbc ? "sbc1" : "ss1",
	                       "--proto",
	                       variant->proto,
	                       "--prefix",
	                       "t",
	                       "--count",
	                       count,
	                       "--key-dir",
	                       self->dir,
	                       "--bind",
	                       ADDR_T,
	                       "--mechanisms",
	                       "ipsec-3gpp,gk-mac",
	                       "--ipsec-ports",
	                       base,
	                       "--timeout",
	                       timeout};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		argv[n++] = (char *)fixed[i];
	for (int i = 0; i < n_extra; i++)
		argv[n++] = (char *)extra[i];
	argv[n] = NULL;
	return spawn(self->ns_t, log, argv);
}

/* SAs of owner in h (GK_XFRM_ANY_OWNER: gatekey's), into out. */
static int sas(struct gk_xfrm *h, int owner, struct gk_xfrm_sa_info *out, size_t max)
{
	int n = gk_xfrm_sa_list(h, owner, out, max);
	return n > (int)max ? (int)max : n;
}

#endif
