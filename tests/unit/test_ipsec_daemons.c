// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipsec-3gpp end to end, with the daemons (issue 17): aucd and softswitchd in one network
 * namespace, gkterm's terminals in another, a veth between them, in the direct topology. The rig
 * is built here through libnl (helper_netns.h) and the programs are started by fork and exec, so
 * that the test runs in the guest of tests/vm/run.sh (make check-vm), whose kernel has ESP, as
 * well as on any host whose kernel has it. Where the kernel is proven to lack ESP or GCM it skips
 * and says so (helper_xfrm.h), as test_xfrm does.
 *
 * What it asserts is what an operator relies on:
 *  - after registering with --mechanisms ipsec-3gpp,gk-mac, the terminals hold SAs matching the
 *    element's (the same SPI and flow for each of the four per terminal), checked through libnl
 *    on both sides, never with a key in sight; their requests pass under them;
 *  - a plaintext datagram from a terminal's protected port to the element's is dropped by the
 *    kernel (XfrmInTmplMismatch), and never reaches the daemon;
 *  - a terminal that lost its SAs (gkterm ran again) registers again, a refresh rolls to new
 *    SPIs with no loss, and deregistration removes the element's SAs.
 * The binaries are found beside the test (the guest's /test) or in ../bin (the build tree).
 */
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

/* A counter of /proc/net/xfrm_stat in namespace ns, or -1. */
static long xfrm_stat_in(FIXTURE_DATA(rig) * self, int ns, const char *name)
{
	char key[64];
	long v, found = -1;

	if (helper_in_ns(ns) < 0)
		return -1;
	FILE *f = fopen("/proc/net/xfrm_stat", "r");
	while (f && fscanf(f, "%63s %ld", key, &v) == 2)
		if (strcmp(key, name) == 0)
			found = v;
	if (f)
		fclose(f);
	helper_in_ns(self->ns_home);
	return found;
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

/* Writes <dir>/<name>.conf and starts the daemon with it in namespace ns: its pid once its
 * control socket <dir>/<name>.sock answers, else -1 after printing its log. */
static pid_t daemon_start(FIXTURE_DATA(rig) * self, const char *name, int ns, const char *conf)
{
	char path[96], log[96], sock[96];
	char *argv[] = {(char *)name, "-c", path, NULL};

	snprintf(path, sizeof(path), "%s/%s.conf", self->dir, name);
	snprintf(log, sizeof(log), "%s/%s.log", self->dir, name);
	snprintf(sock, sizeof(sock), "%s/%s.sock", self->dir, name);
	if (write_file(path, conf) < 0)
		return -1;
	pid_t pid = spawn(ns, log, argv);
	if (pid > 0 && ready(self, sock))
		return pid;
	print_file(log);
	if (pid > 0)
		stop(&pid);
	return -1;
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
	const char *small = "registrar.max_terminals = 64\nregistrar.max_pending = 64\n"
	                    "route.transactions = 64\nregistrar.binding_store = none\n";
	char front[256];
	/* sbcd's SIP listener is its access side's */
	const char *listen = variant->sbc && strcmp(variant->listen_key, "sip.listen") == 0
	                         ? "access.listen"
	                         : variant->listen_key;
	snprintf(front, sizeof(front),
	         "%s = " ADDR_E ":%u\nregistrar.mechanisms = ipsec-3gpp gk-mac\n%s = %u %u\n",
	         listen, variant->server_port, variant->ports_key, variant->port_c,
	         variant->port_s);
	snprintf(core, sizeof(core), "%s", variant->sbc ? CORE_C : ADDR_E);
	snprintf(conf, sizeof(conf),
	         "softswitch.key_file = %s\nauc.server = 127.0.0.1:1812\nauc.secret = " SECRET "\n"
	         "control.socket = %s/softswitchd.sock\n%s%s",
	         ss_key, self->dir, small, variant->sbc ? "" : front);
	if (variant->sbc)
		snprintf(conf + strlen(conf), sizeof(conf) - strlen(conf),
		         "sip.listen = " CORE_C ":5060\nsbc.peer = sbc1 " CORE_S " %s\n", core_key);
	ASSERT_LT(0, self->ss = daemon_start(self, "softswitchd", self->ns_c, conf));
	if (variant->sbc) {
		snprintf(conf, sizeof(conf),
		         "sbc.key_file = %s\ncore.softswitch = " CORE_C
		         ":5060\ncore.key_file = %s\n"
		         "control.socket = %s/sbcd.sock\nfastpath.mode = userspace\n%s%s",
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

/* Whether each of the element's SAs has its twin at the terminal: the same SPI, source and
 * destination. -1 when all do, else the first that has none. */
static int sa_without_twin(const struct gk_xfrm_sa_info *e, int ne, const struct gk_xfrm_sa_info *t,
                           int nt)
{
	for (int i = 0; i < ne; i++) {
		bool twin = false;
		for (int j = 0; j < nt && !twin; j++)
			twin = e[i].spi == t[j].spi && gk_sockaddr_equal(&e[i].src, &t[j].src) &&
			       gk_sockaddr_equal(&e[i].dst, &t[j].dst);
		if (!twin)
			return i;
	}
	return -1;
}

/* The daemons' logs and the element's refusals, for a failure's log. */
static void dump_daemons(FIXTURE_DATA(rig) * self)
{
	static const char *const names[] = {"softswitchd", "sbcd"};
	char path[128], line[512];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s.log", self->dir, names[i]);
		if (access(path, R_OK) == 0)
			print_file(path);
	}
	char *argv[] = {"gkctl", "ctl", self->elem_sock, "stats", NULL};
	snprintf(path, sizeof(path), "%s/stats.txt", self->dir);
	run(self->ns_home, path, argv, 10000);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "reason.", 7) == 0 || strncmp(line, "ipsec.", 6) == 0)
			fprintf(stderr, "#   %s", line);
	if (f)
		fclose(f);
}

/* `ip xfrm state count` in namespace ns, as a diagnostic line (what an operator types): the guest
 * has `ip` when check-vm carries it, a host has its own. Nothing when there is none. */
static void ip_xfrm_count(FIXTURE_DATA(rig) * self, int ns, const char *label)
{
	char ip[PATH_MAX], out[96], line[128];

	bin_path("ip", ip, sizeof(ip));
	if (access(ip, X_OK) != 0)
		snprintf(ip, sizeof(ip), "/usr/sbin/ip");
	if (access(ip, X_OK) != 0)
		snprintf(ip, sizeof(ip), "/sbin/ip");
	if (access(ip, X_OK) != 0)
		return;
	char *argv[] = {ip, "xfrm", "state", "count", NULL};
	snprintf(out, sizeof(out), "%s/ip.out", self->dir);
	unlink(out);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0 || helper_in_ns(ns) < 0 || dup2(fd, 1) < 0)
			_exit(126);
		execv(ip, argv);
		_exit(127);
	}
	if (pid < 0 || wait_exit(pid, 10000) != 0)
		return;
	FILE *f = fopen(out, "r");
	if (f && fgets(line, sizeof(line), f))
		fprintf(stderr, "# %s: ip xfrm state count: %s", label, line);
	if (f)
		fclose(f);
}

/* A capture of the packets on the terminal's link, both ways (AF_PACKET, cooked), opened in its
 * namespace: what tshark would see there. */
static int capture_open(FIXTURE_DATA(rig) * self)
{
	int fd = -1, big = 4 << 20;

	if (helper_in_ns(self->ns_t) == 0) {
		/* ETH_P_ALL: a socket of one protocol sees only what comes in, not what leaves */
		fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL));
		struct sockaddr_ll ll = {.sll_family = AF_PACKET,
		                         .sll_protocol = htons(ETH_P_ALL),
		                         .sll_ifindex = (int)if_nametoindex(IF_T)};
		if (fd >= 0 && (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)) < 0 ||
		                bind(fd, (struct sockaddr *)&ll, sizeof(ll)) < 0)) {
			close(fd);
			fd = -1;
		}
	}
	helper_in_ns(self->ns_home);
	return fd;
}

/* What the capture holds: ESP packets, and UDP ones to or from a protected port (the terminals'
 * or the element's) which the SAs should have carried. */
static void capture_count(int fd, const FIXTURE_VARIANT(rig) * variant, unsigned *esp,
                          unsigned *plain)
{
	uint8_t pkt[2048];
	ssize_t n;

	*esp = *plain = 0;
	struct sockaddr_ll ll;
	socklen_t sl = sizeof(ll);
	while ((n = recvfrom(fd, pkt, sizeof(pkt), MSG_DONTWAIT, (struct sockaddr *)&ll, &sl)) >
	       0) {
		const struct iphdr *ih = (const struct iphdr *)pkt;
		size_t hl = (size_t)ih->ihl * 4;
		sl = sizeof(ll);
		if (ll.sll_protocol != htons(ETH_P_IP) || (size_t)n < sizeof(*ih) ||
		    hl < sizeof(*ih) || (size_t)n < hl)
			continue;
		if (ih->protocol == IPPROTO_ESP) {
			(*esp)++;
		} else if (ih->protocol == IPPROTO_UDP && (size_t)n >= hl + sizeof(struct udphdr)) {
			const struct udphdr *uh = (const struct udphdr *)(pkt + hl);
			uint16_t ports[2] = {ntohs(uh->source), ntohs(uh->dest)};
			for (int i = 0; i < 2; i++)
				if ((ports[i] >= BASE_PORT &&
				     ports[i] < BASE_PORT + 2 * TERMINALS) ||
				    ports[i] == variant->port_s || ports[i] == variant->port_c) {
					(*plain)++;
					break;
				}
		}
	}
}

/* Both sides' SAs and XFRM error counters, for a failure's log. */
static void dump_sas(FIXTURE_DATA(rig) * self)
{
	static const char *const stats[] = {
	    "XfrmInNoStates",      "XfrmInTmplMismatch", "XfrmInNoPols",         "XfrmOutNoStates",
	    "XfrmInStateSeqError", "XfrmOutPolBlock",    "XfrmInStateProtoError"};
	struct gk_xfrm_sa_info sa[64];
	struct gk_xfrm *h[2] = {self->he, self->ht};
	int ns[2] = {self->ns_e, self->ns_t};

	for (int side = 0; side < 2; side++) {
		int n = sas(h[side], GK_XFRM_ANY_OWNER, sa, 64);
		for (int i = 0; i < n; i++) {
			char a[64], b[64];
			gk_format_addr(&sa[i].src, a, sizeof(a));
			gk_format_addr(&sa[i].dst, b, sizeof(b));
			fprintf(stderr, "# %s sa %s -> %s spi=0x%08x owner=%u packets=%llu\n",
			        side ? "terminal" : "element", a, b, sa[i].spi, sa[i].owner,
			        (unsigned long long)sa[i].packets);
		}
		for (size_t i = 0; i < sizeof(stats) / sizeof(stats[0]); i++)
			fprintf(stderr, "# %s %s %ld\n", side ? "terminal" : "element", stats[i],
			        xfrm_stat_in(self, ns[side], stats[i]));
	}
}

/*
 * The terminals register with ipsec-3gpp and send their requests under the SAs while the test
 * compares both sides' SAs; once they are gone (gkterm exited and removed its own, the binding
 * stands at the element), a plaintext datagram from a terminal's protected port to the element's
 * is dropped by the kernel's inbound policy and never reaches softswitchd.
 */
TEST_F_TIMEOUT(rig, sas_match_and_the_kernel_drops_plaintext, 300)
{
	static const char *const extra[] = {"--options", "4", "--options-interval", "1000"};
	struct gk_xfrm_sa_info e[64], t[64];
	char log[96], sock[96];
	int ne = 0, nt = 0;

	ESP_CAPABLE_OR_SKIP(AF_INET, return );
	snprintf(log, sizeof(log), "%s/gkterm1.log", self->dir);
	snprintf(sock, sizeof(sock), "%s", self->elem_sock);
	pid_t pid = gkterm(self, variant, log, extra, 4);
	ASSERT_LT(0, pid);
	/* registered: four SAs per terminal on each side */
	uint64_t end = now_ms() + 1000 * RUN_S;
	while (now_ms() < end) {
		ne = sas(self->he, variant->owner, e, 64);
		nt = sas(self->ht, GK_XFRM_ANY_OWNER, t, 64);
		if (ne == 4 * TERMINALS && nt == 4 * TERMINALS)
			break;
		usleep(50000);
	}
	EXPECT_EQ(4 * TERMINALS, ne);
	EXPECT_EQ(4 * TERMINALS, nt);
	EXPECT_EQ(-1, sa_without_twin(e, ne, t, nt));
	EXPECT_EQ(-1, sa_without_twin(t, nt, e, ne));
	/* from now on the terminals' signalling on their link is ESP only */
	int cap = capture_open(self);
	EXPECT_LE(0, cap);
	ip_xfrm_count(self, self->ns_e, "registered, element");
	ip_xfrm_count(self, self->ns_t, "registered, terminal");
	int rc = wait_exit(pid, 1000 * RUN_S);
	EXPECT_EQ(0, rc)
	{
		print_file(log);
		dump_daemons(self);
	}
	unsigned esp = 0, plain = 0;
	if (cap >= 0)
		capture_count(cap, variant, &esp, &plain);
	fprintf(stderr,
	        "# the terminals' link, registered: %u ESP, %u UDP to or from a protected port\n",
	        esp, plain);
	EXPECT_LE(TERMINALS, esp); /* the OPTIONS (keep-alives) and their answers, whichever the
	                            * capture was open for (an emulated guest is slow) */
	EXPECT_EQ(0, plain);
	/* the requests went under the SAs: the terminals' uplink SAs counted them */
	ne = sas(self->he, variant->owner, e, 64);
	uint64_t packets = 0;
	for (int i = 0; i < ne; i++)
		packets += e[i].packets;
	EXPECT_LE(2 * 4 * TERMINALS, packets); /* >= 4 OPTIONS and their answers each */
	EXPECT_EQ(0, sas(self->ht, GK_XFRM_ANY_OWNER, t, 64)); /* gkterm removed its own */
	EXPECT_EQ(4 * TERMINALS, ne);                          /* the bindings stand */

	/* plaintext from t1's protected port to the element's: the policy wants ESP */
	long mismatch = xfrm_stat_in(self, self->ns_e, "XfrmInTmplMismatch");
	long rx = ctl_stat(self, sock, variant->rx_stat),
	     unprotected = ctl_stat(self, sock, "ipsec.unprotected");
	ASSERT_EQ(0, helper_in_ns(self->ns_t));
	struct sockaddr_storage src, dst;
	char err[64];
	char a[64];
	snprintf(a, sizeof(a), ADDR_T ":%d", BASE_PORT);
	gk_parse_addr(a, &src, err, sizeof(err));
	snprintf(a, sizeof(a), ADDR_E ":%u", variant->port_s);
	gk_parse_addr(a, &dst, err, sizeof(err));
	int fd = gk_udp_socket(&src);
	ASSERT_EQ(0, helper_in_ns(self->ns_home));
	ASSERT_LE(0, fd);
	static const char forged[] = "OPTIONS sip:ss1 SIP/2.0\r\nFrom: <sip:t1@ss1>\r\n\r\n";
	for (int i = 0; i < 3; i++)
		EXPECT_EQ((ssize_t)sizeof(forged),
		          sendto(fd, forged, sizeof(forged), 0, (struct sockaddr *)&dst,
		                 gk_sockaddr_len(&dst)));
	close(fd);
	end = now_ms() + 5000;
	while (now_ms() < end &&
	       xfrm_stat_in(self, self->ns_e, "XfrmInTmplMismatch") < mismatch + 3)
		usleep(20000);
	EXPECT_EQ(mismatch + 3, xfrm_stat_in(self, self->ns_e, "XfrmInTmplMismatch"));
	EXPECT_EQ(rx, ctl_stat(self, sock, variant->rx_stat));
	EXPECT_EQ(unprotected, ctl_stat(self, sock, "ipsec.unprotected"));
	/* and the capture, which found no plaintext before, sees these three */
	if (cap >= 0) {
		capture_count(cap, variant, &esp, &plain);
		close(cap);
	}
	EXPECT_EQ(3, plain);
}

/*
 * gkterm again, on terminals whose bindings stand with SAs the terminals no longer hold: each
 * offers the SPIs it used before, and the element replaces the lost association instead of
 * refusing. Then a refresh, which rolls both sides to new SPIs while requests pass, and a
 * deregistration, which leaves no SA on either side.
 */
TEST_F_TIMEOUT(rig, a_terminal_registers_again_refreshes_and_deregisters, 300)
{
	static const char *const first[] = {"--options", "1"};
	static const char *const second[] = {"--refresh", "1", "--options", "2", "--deregister"};
	struct gk_xfrm_sa_info e[64];
	char log[96], sock[96];

	ESP_CAPABLE_OR_SKIP(AF_INET, return );
	snprintf(sock, sizeof(sock), "%s", self->elem_sock);
	snprintf(log, sizeof(log), "%s/gkterm1.log", self->dir);
	EXPECT_EQ(0, wait_exit(gkterm(self, variant, log, first, 2), 1000 * RUN_S))
	{
		print_file(log);
		dump_daemons(self);
	}
	ASSERT_EQ(4 * TERMINALS, sas(self->he, variant->owner, e, 64));

	snprintf(log, sizeof(log), "%s/gkterm2.log", self->dir);
	EXPECT_EQ(0, wait_exit(gkterm(self, variant, log, second, 5), 1000 * RUN_S))
	{
		print_file(log);
		dump_daemons(self);
		dump_sas(self);
	}
	EXPECT_EQ(TERMINALS, ctl_stat(self, sock, "ipsec.reinstalled"));
	EXPECT_LE(TERMINALS, ctl_stat(self, sock, "ipsec.refreshed"));
	EXPECT_EQ(TERMINALS, ctl_stat(self, sock, "ipsec.removed"));
	EXPECT_EQ(0, ctl_stat(self, sock, "ipsec.failed"));
	EXPECT_EQ(0, sas(self->he, variant->owner, e, 64)); /* deregistered: nothing left */
	ip_xfrm_count(self, self->ns_e, "deregistered, element");
	EXPECT_EQ(0, sas(self->ht, GK_XFRM_ANY_OWNER, e, 64));
	FILE *f = fopen(log, "r");
	char line[512];
	bool summary = false;
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "ipsec installed=", 16) == 0) {
			char want[96];
			snprintf(want, sizeof(want),
			         "ipsec installed=%d replaced=%d removed=%d failed=0", TERMINALS,
			         TERMINALS, TERMINALS);
			EXPECT_EQ(0, strncmp(line, want, strlen(want))) TH_LOG("%s", line);
			summary = true;
		}
	if (f)
		fclose(f);
	EXPECT_TRUE(summary);
}

TEST_HARNESS_MAIN
