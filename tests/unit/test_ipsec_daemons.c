// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipsec-3gpp end to end, with the daemons (issue 17), in all four protocols, directly and through
 * sbcd: the rig of ipsec_rig.h. It runs in the guest of tests/vm/run.sh (make check-vm), whose
 * kernel has ESP, and on any host whose kernel has it; where the kernel is proven to lack ESP or
 * GCM it skips and says so (helper_xfrm.h), as test_xfrm does.
 *
 * What it asserts is what an operator relies on:
 *  - after registering with --mechanisms ipsec-3gpp,gk-mac, the terminals hold SAs matching the
 *    element's (the same SPI and flow for each of the four per terminal), checked through libnl
 *    on both sides, never with a key in sight; their requests pass under them, and their link
 *    carries only ESP (the capture, which tshark reads on the host: tests/vm/t_esp_captures.sh);
 *  - a plaintext datagram from a terminal's protected port to the element's is dropped by the
 *    kernel (XfrmInTmplMismatch), and never reaches the daemon;
 *  - a terminal that lost its SAs (gkterm ran again) registers again, a refresh rolls to new
 *    SPIs with no loss, and deregistration removes the element's SAs;
 *  - the element restarts while the terminals send, and takes its SAs back.
 * "--demo PROTO TOPO" (make demo MECH=ipsec-3gpp) runs only the first, in those variants, and
 * prints each terminal's line with both sides' SPIs.
 */

#include "ipsec_rig.h"

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

/* The capture's IP packets as a pcap file (LINKTYPE_RAW: each record an IPv4 or IPv6 packet),
 * which tshark reads on the host (tests/vm/t_esp_captures.sh): the guest has no tshark. */
static FILE *pcap_open(const char *path)
{
	struct {
		uint32_t magic;
		uint16_t major, minor;
		int32_t zone;
		uint32_t sigfigs, snaplen, linktype;
	} hdr = {0xa1b2c3d4, 2, 4, 0, 0, 65535, 101 /* LINKTYPE_RAW */};
	FILE *f = fopen(path, "wb");

	if (f && fwrite(&hdr, sizeof(hdr), 1, f) != 1) {
		fclose(f);
		f = NULL;
	}
	return f;
}

static void pcap_add(FILE *f, const uint8_t *pkt, size_t len)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint32_t rec[4] = {(uint32_t)ts.tv_sec, (uint32_t)(ts.tv_nsec / 1000), (uint32_t)len,
	                   (uint32_t)len};
	fwrite(rec, sizeof(rec), 1, f);
	fwrite(pkt, len, 1, f);
}

/* A file as "# gk-vm-file NAME BASE64" lines on stderr, which tests/vm/run.sh collects from the
 * guest's console into its output directory. */
static void print_file_base64(const char *path, const char *name)
{
	uint8_t in[48];
	unsigned char out[4 * sizeof(in) / 3 + 1];
	size_t n;
	FILE *f = fopen(path, "rb");

	while (f && (n = fread(in, 1, sizeof(in), f)) > 0) {
		EVP_EncodeBlock(out, in, (int)n);
		fprintf(stderr, "# gk-vm-file %s %s\n", name, out);
	}
	if (f)
		fclose(f);
}

/* What the capture holds: ESP packets, and UDP ones to or from a protected port (the terminals'
 * or the element's) which the SAs should have carried. With pcap, every IP packet goes there
 * too. */
static void capture_count(int fd, const FIXTURE_VARIANT(rig) * variant, unsigned *esp,
                          unsigned *plain, FILE *pcap)
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
		if (pcap &&
		    (ll.sll_protocol == htons(ETH_P_IP) || ll.sll_protocol == htons(ETH_P_IPV6)))
			pcap_add(pcap, pkt, (size_t)n);
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

/* Until the terminals registered (four SAs per terminal on each side) or RUN_S passed: both
 * sides' SAs (64 at most) and their counts. */
static void wait_registered(FIXTURE_DATA(rig) * self, const FIXTURE_VARIANT(rig) * variant,
                            struct gk_xfrm_sa_info *e, int *ne, struct gk_xfrm_sa_info *t, int *nt)
{
	uint64_t end = now_ms() + 1000 * RUN_S;

	do {
		*ne = sas(self->he, variant->owner, e, 64);
		*nt = sas(self->ht, GK_XFRM_ANY_OWNER, t, 64);
		if (*ne == 4 * TERMINALS && *nt == 4 * TERMINALS)
			return;
		usleep(50000);
	} while (now_ms() < end);
}

/* In a demo, only its variants' sas_match runs; the other tests end at once. */
#define IN_DEMO_OR_RETURN(runs_in_demo)                                                            \
	do {                                                                                       \
		if (rig_only_proto && (!(runs_in_demo) || rig_skips(variant)))                     \
			return;                                                                    \
	} while (0)

/* The terminals' lines of gkterm's log (their mechanism, and both sides' SPIs and ports), as
 * "# demo" lines for tools/demo-ipsec.sh. */
static void demo_print(const FIXTURE_VARIANT(rig) * variant, const char *log)
{
	char line[512];
	FILE *f = fopen(log, "r");

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "registered ", 11) == 0)
			fprintf(stderr, "# demo %s %s %s", variant->proto,
			        variant->sbc ? "sbc" : "direct", line + 11);
	if (f)
		fclose(f);
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

	IN_DEMO_OR_RETURN(true);
	ESP_CAPABLE_OR_SKIP(AF_INET, return );
	snprintf(log, sizeof(log), "%s/gkterm1.log", self->dir);
	snprintf(sock, sizeof(sock), "%s", self->elem_sock);
	pid_t pid = gkterm(self, variant, log, extra, 4);
	ASSERT_LT(0, pid);
	wait_registered(self, variant, e, &ne, t, &nt);
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
	if (rig_only_proto)
		demo_print(variant, log);
	unsigned esp = 0, plain = 0;
	char pcap_path[128], pcap_name[64];
	snprintf(pcap_name, sizeof(pcap_name), "%s-%s.pcap", variant->proto,
	         variant->sbc ? "sbc" : "direct");
	snprintf(pcap_path, sizeof(pcap_path), "%s/%s", self->dir, pcap_name);
	FILE *pcap = pcap_open(pcap_path);
	EXPECT_NE(NULL, pcap);
	if (cap >= 0)
		capture_count(cap, variant, &esp, &plain, pcap);
	if (pcap) {
		fclose(pcap);
		print_file_base64(pcap_path, pcap_name);
	}
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
	uint64_t end = now_ms() + 5000;
	while (now_ms() < end &&
	       xfrm_stat_in(self, self->ns_e, "XfrmInTmplMismatch") < mismatch + 3)
		usleep(20000);
	EXPECT_EQ(mismatch + 3, xfrm_stat_in(self, self->ns_e, "XfrmInTmplMismatch"));
	EXPECT_EQ(rx, ctl_stat(self, sock, variant->rx_stat));
	EXPECT_EQ(unprotected, ctl_stat(self, sock, "ipsec.unprotected"));
	/* and the capture, which found no plaintext before, sees these three */
	if (cap >= 0) {
		capture_count(cap, variant, &esp, &plain, NULL);
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

	IN_DEMO_OR_RETURN(false);
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

/* Whether file holds text, waited for up to timeout_ms. */
static bool file_says(const char *file, const char *text, uint64_t timeout_ms)
{
	char line[512];
	uint64_t end = now_ms() + timeout_ms;

	do {
		FILE *f = fopen(file, "r");
		bool found = false;
		while (f && !found && fgets(line, sizeof(line), f))
			found = strstr(line, text) != NULL;
		if (f)
			fclose(f);
		if (found)
			return true;
		usleep(50000);
	} while (now_ms() < end);
	return false;
}

/*
 * While the terminals send a request (OPTIONS, or the keep-alive) a second under their SAs:
 *  - the access veth is deleted and created again under the same names and addresses (a new
 *    interface index): sbcd, which follows it through rtnetlink, says so; the SAs, which name
 *    addresses and not interfaces, stay on both sides;
 *  - the element holding K (sbcd, or softswitchd without an SBC) stops and starts again: it
 *    leaves its SAs in the kernel as it stops and takes them back from its binding store
 *    (ipsec.adopted), the same SPIs;
 * and every request sent across both is answered (gkterm retransmits what went unanswered), under
 * the SAs. Then the terminals, whose SAs went with gkterm, register again and pass.
 */
TEST_F_TIMEOUT(rig, the_link_comes_back_and_the_element_restarts_and_traffic_passes, 500)
{
	static const char *const extra[] = {"--options", "20",        "--options-interval",
	                                    "1000",      "--timeout", "150"};
	static const char *const again[] = {"--options", "2", "--deregister"};
	struct gk_xfrm_sa_info before[64], after[64], t[64];
	char log[96], sock[96], elem_log[96];
	int nb = 0, nt = 0;

	IN_DEMO_OR_RETURN(false);
	ESP_CAPABLE_OR_SKIP(AF_INET, return );
	pid_t *elem = variant->sbc ? &self->sbc : &self->ss;
	const char *name = variant->sbc ? "sbcd" : "softswitchd";
	snprintf(log, sizeof(log), "%s/gkterm1.log", self->dir);
	snprintf(sock, sizeof(sock), "%s", self->elem_sock);
	snprintf(elem_log, sizeof(elem_log), "%s/%s.log", self->dir, name);
	pid_t pid = gkterm(self, variant, log, extra, 6);
	ASSERT_LT(0, pid);
	wait_registered(self, variant, before, &nb, t, &nt);
	ASSERT_EQ(4 * TERMINALS, nb)
	{
		print_file(log);
		dump_daemons(self);
	}

	/* the access link, deleted and created again */
	ASSERT_EQ(0, helper_in_ns(self->ns_e));
	EXPECT_EQ(0, helper_link_delete(IF_E));
	EXPECT_EQ(0, helper_veth_to(IF_E, IF_T, self->ns_t));
	EXPECT_EQ(0, helper_link_address_up(IF_E, AF_INET, ADDR_E, 24));
	ASSERT_EQ(0, helper_in_ns(self->ns_t));
	EXPECT_EQ(0, helper_link_address_up(IF_T, AF_INET, ADDR_T, 24));
	ASSERT_EQ(0, helper_in_ns(self->ns_home));
	if (variant->sbc) {
		EXPECT_TRUE(file_says(elem_log, "access interface " IF_E " is there again", 20000))
		{
			print_file(elem_log);
		}
	}
	EXPECT_EQ(4 * TERMINALS, sas(self->he, variant->owner, after, 64));
	EXPECT_EQ(4 * TERMINALS, sas(self->ht, GK_XFRM_ANY_OWNER, t, 64));

	/* the element, stopped: the SAs stay; started again: it takes them back */
	stop(elem);
	EXPECT_EQ(4 * TERMINALS, sas(self->he, variant->owner, after, 64));
	ip_xfrm_count(self, self->ns_e, "element stopped");
	*elem = daemon_run(self, name, self->ns_e);
	ASSERT_LT(0, *elem);
	EXPECT_EQ(TERMINALS, ctl_stat(self, sock, "ipsec.adopted"));
	EXPECT_EQ(0, ctl_stat(self, sock, "ipsec.adopt_missing"));
	int na = sas(self->he, variant->owner, after, 64);
	EXPECT_EQ(4 * TERMINALS, na);
	EXPECT_EQ(-1, sa_without_twin(before, nb, after, na)); /* the same SPIs and flows */

	/* every OPTIONS answered, those sent while the link or the element was away too */
	EXPECT_EQ(0, wait_exit(pid, 160000))
	{
		print_file(log);
		dump_daemons(self);
		dump_sas(self);
	}
	EXPECT_EQ(0, ctl_stat(self, sock, "ipsec.failed"));
	EXPECT_EQ(0, ctl_stat(self, sock, "ipsec.unprotected"));
	/* the restarted element answered under the SAs it took back: their counts grew */
	uint64_t p0 = 0, p1 = 0;
	for (int i = 0; i < nb; i++)
		p0 += before[i].packets;
	na = sas(self->he, variant->owner, after, 64);
	for (int i = 0; i < na; i++)
		p1 += after[i].packets;
	EXPECT_LT(p0, p1);

	/* the terminals, without SAs now, register again and pass */
	snprintf(log, sizeof(log), "%s/gkterm2.log", self->dir);
	EXPECT_EQ(0, wait_exit(gkterm(self, variant, log, again, 3), 1000 * RUN_S))
	{
		print_file(log);
		dump_daemons(self);
		dump_sas(self);
	}
	EXPECT_EQ(TERMINALS, ctl_stat(self, sock, "ipsec.reinstalled"));
	EXPECT_EQ(0, sas(self->he, variant->owner, after, 64)); /* deregistered */
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--demo") == 0) {
		rig_only_proto = argv[2];
		rig_only_topo = argv[3];
	} else if (argc > 1) {
		fprintf(stderr, "usage: %s [--demo sip|mgcp|h248|h323|mix sbc|direct]\n", argv[0]);
		return 2;
	}
	return test_harness_run(argc, argv);
}
