// SPDX-License-Identifier: GPL-2.0-only
/*
 * ESP transport-mode SAs and policies through libnl-xfrm (lib/ipsec/xfrm.c), against the kernel.
 * Each test runs in a network namespace of its own (the harness forks per test and the fixture
 * unshares), so the host's SAD and SPD are never read or written and the namespace goes with the
 * process, whatever fails.
 *
 * One namespace holds both ends: the terminal T at a:PORT_C and the element P at b:PORT_S
 * (127.0.0.1 and 127.0.0.2, or ::1 twice). An SA is then the sender's and the receiver's at once,
 * so each direction has one SA (added as the sender's flow), the sender's outbound policy and the
 * receiver's inbound one. IPv4 on lo skips XFRM unless told otherwise (the kernel sets lo's
 * disable_xfrm and disable_policy), so the fixture turns both off in its namespace. The pair
 * fixture (at the end) instead gives the terminal and the element a namespace each, joined by
 * veth, and has the exchange negotiate the SAs both install.
 *
 * The SA tests need ESP and rfc4106(gcm(aes)) in the kernel (CONFIG_INET_ESP, CONFIG_INET6_ESP,
 * CONFIG_CRYPTO_GCM). They skip only on a kernel proven to lack them, naming the option, and run
 * there in the guest of tests/vm/run.sh (make check-vm); a kernel that has them and refuses an SA
 * fails them (helper_xfrm.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/xfrm.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "gatekey/auc/vector.h"
#include "gatekey/crypto/crypto.h"
#include "gatekey/exchange/bindstore.h"
#include "gatekey/exchange/direct.h"
#include "gatekey/exchange/terminal.h"
#include "gatekey/ipsec/assoc.h"
#include "gatekey/ipsec/element.h"
#include "gatekey/ipsec/xfrm.h"
#include "helper_direct.h"
#include "helper_netns.h"
#include "helper_xfrm.h"
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>

#define PORT_C  6100    /* T's protected port */
#define PORT_S  6101    /* P's protected port */
#define PORT_X  6102    /* P's unprotected port */
#define SPI_S   0x1000u /* P's SPI: T -> P */
#define SPI_C   0x2000u /* T's SPI: P -> T */
#define SPI_S2  0x1001u /* P's next SPI, for the rekey */
#define OWNER   7
#define WAIT_MS 1000 /* for a datagram that should arrive */
#define DROP_MS 300  /* for one that should not */

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (!f)
		return -errno;
	rc = fputs(text, f) < 0 ? -EIO : 0;
	if (fclose(f) != 0 && !rc)
		rc = -errno;
	return rc;
}

/* A counter of /proc/net/xfrm_stat (this namespace's), or -1. */
static long xfrm_stat(const char *name)
{
	FILE *f = fopen("/proc/net/xfrm_stat", "r");
	char key[64];
	long v, found = -1;

	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", key, &v) == 2)
		if (strcmp(key, name) == 0)
			found = v;
	fclose(f);
	return found;
}

static void addr_at(struct sockaddr_storage *ss, int family, const char *ip, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = family;
	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;
		inet_pton(AF_INET, ip, &s->sin_addr);
		s->sin_port = htons(port);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
		inet_pton(AF_INET6, ip, &s->sin6_addr);
		s->sin6_port = htons(port);
	}
}

static socklen_t addr_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	return a->ss_family == b->ss_family && memcmp(a, b, addr_len(a)) == 0;
}

static int udp_at(const struct sockaddr_storage *ss)
{
	int fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd >= 0 && bind(fd, (const struct sockaddr *)ss, addr_len(ss)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends msg from fd `from` to dst and says whether it reaches fd `to` within ms. */
static bool arrives(int from, int to, const struct sockaddr_storage *dst, const char *msg, int ms)
{
	struct pollfd p = {.fd = to, .events = POLLIN};
	char buf[256];
	ssize_t n;

	if (sendto(from, msg, strlen(msg), 0, (const struct sockaddr *)dst, addr_len(dst)) < 0)
		return false;
	if (poll(&p, 1, ms) != 1)
		return false;
	n = recv(to, buf, sizeof(buf), 0);
	return n == (ssize_t)strlen(msg) && memcmp(buf, msg, (size_t)n) == 0;
}

FIXTURE(xfrm)
{
	struct gk_xfrm *h;
	struct sockaddr_storage t, p, px; /* T at a:PORT_C, P at b:PORT_S and b:PORT_X */
	int ft, fp, fpx;
	/* t_out and p_in are the two ends of T -> P (SA under SPI_S); p_out and t_in of P -> T. */
	struct gk_xfrm_flow t_out, p_in, p_out, t_in;
	uint8_t key_tp[GK_XFRM_KEY_LEN], key_pt[GK_XFRM_KEY_LEN];
};

FIXTURE_VARIANT(xfrm)
{
	int family;
	const char *a, *b;
};

FIXTURE_VARIANT_ADD(xfrm, ipv4){
    .family = AF_INET,
    .a = "127.0.0.1",
    .b = "127.0.0.2",
};

FIXTURE_VARIANT_ADD(xfrm, ipv6){
    .family = AF_INET6,
    .a = "::1",
    .b = "::1",
};

static struct gk_xfrm_flow flow(enum gk_xfrm_dir dir, const struct sockaddr_storage *local,
                                const struct sockaddr_storage *peer, uint32_t spi)
{
	struct gk_xfrm_flow f = {.dir = dir, .spi = spi, .owner = OWNER};

	f.local = *local;
	f.peer = *peer;
	return f;
}

FIXTURE_SETUP(xfrm)
{
	ASSERT_EQ(0, unshare(CLONE_NEWNET))
	{
		TH_LOG("unshare(CLONE_NEWNET): %s (run as root)", strerror(errno));
	}
	ASSERT_EQ(0, helper_lo_up());
	ASSERT_EQ(0, write_file("/proc/sys/net/ipv4/conf/lo/disable_xfrm", "0"));
	ASSERT_EQ(0, write_file("/proc/sys/net/ipv4/conf/lo/disable_policy", "0"));
	ASSERT_EQ(0, gk_xfrm_open(&self->h));
	addr_at(&self->t, variant->family, variant->a, PORT_C);
	addr_at(&self->p, variant->family, variant->b, PORT_S);
	addr_at(&self->px, variant->family, variant->b, PORT_X);
	self->ft = udp_at(&self->t);
	self->fp = udp_at(&self->p);
	self->fpx = udp_at(&self->px);
	ASSERT_LE(0, self->ft);
	ASSERT_LE(0, self->fp);
	ASSERT_LE(0, self->fpx);
	self->t_out = flow(GK_XFRM_OUT, &self->t, &self->p, SPI_S);
	self->p_in = flow(GK_XFRM_IN, &self->p, &self->t, SPI_S);
	self->p_out = flow(GK_XFRM_OUT, &self->p, &self->t, SPI_C);
	self->t_in = flow(GK_XFRM_IN, &self->t, &self->p, SPI_C);
	ASSERT_EQ(0, gk_random(self->key_tp, sizeof(self->key_tp)));
	ASSERT_EQ(0, gk_random(self->key_pt, sizeof(self->key_pt)));
}

FIXTURE_TEARDOWN(xfrm)
{
	gk_wipe(self->key_tp, sizeof(self->key_tp));
	gk_wipe(self->key_pt, sizeof(self->key_pt));
	gk_xfrm_close(self->h);
}

/* Both SAs and the four policies of the pair T <-> P. */
static int install_pair(struct __test_metadata *_metadata, FIXTURE_DATA(xfrm) * self)
{
	int rc = gk_xfrm_sa_add(self->h, &self->t_out, self->key_tp, GK_XFRM_KEY_LEN);

	if (rc) {
		TH_LOG("adding an ESP SA: %s (kernel: \"%s\")%s", strerror(-rc),
		       gk_xfrm_error(self->h),
		       rc == -ENOSYS || rc == -EPROTONOSUPPORT
		           ? "; this kernel lacks ESP or rfc4106(gcm(aes)): CONFIG_INET_ESP, "
		             "CONFIG_INET6_ESP, CONFIG_CRYPTO_GCM"
		           : "");
		return rc;
	}
	rc = gk_xfrm_sa_add(self->h, &self->p_out, self->key_pt, GK_XFRM_KEY_LEN);
	if (!rc)
		rc = gk_xfrm_policy_set(self->h, &self->t_out);
	if (!rc)
		rc = gk_xfrm_policy_set(self->h, &self->p_in);
	if (!rc)
		rc = gk_xfrm_policy_set(self->h, &self->p_out);
	if (!rc)
		rc = gk_xfrm_policy_set(self->h, &self->t_in);
	if (rc)
		TH_LOG("installing the pair: %s (kernel: \"%s\")", strerror(-rc),
		       gk_xfrm_error(self->h));
	return rc;
}

/* n datagrams each way between T and P, all of which must arrive. */
static bool traffic(FIXTURE_DATA(xfrm) * self, int n)
{
	for (int i = 0; i < n; i++) {
		if (!arrives(self->ft, self->fp, &self->p, "REGISTER sip:example.test", WAIT_MS))
			return false;
		if (!arrives(self->fp, self->ft, &self->t, "SIP/2.0 200 OK", WAIT_MS))
			return false;
	}
	return true;
}

TEST_F(xfrm, refuses_bad_input_and_changes_nothing)
{
	struct gk_xfrm_flow f;
	int other = variant->family == AF_INET ? AF_INET6 : AF_INET;

	/* Something to leave unchanged: the one policy that works on any XFRM kernel. */
	ASSERT_EQ(0, gk_xfrm_policy_set(self->h, &self->p_in));

	f = self->t_out;
	f.local.ss_family = AF_UNIX;
	EXPECT_EQ(-EINVAL, gk_xfrm_sa_add(self->h, &f, self->key_tp, GK_XFRM_KEY_LEN));
	EXPECT_EQ(-EINVAL, gk_xfrm_policy_set(self->h, &f));
	f = self->t_out;
	f.peer.ss_family = other;
	EXPECT_EQ(-EINVAL, gk_xfrm_sa_add(self->h, &f, self->key_tp, GK_XFRM_KEY_LEN));
	EXPECT_EQ(-EINVAL, gk_xfrm_policy_set(self->h, &f));
	f = self->t_out;
	f.spi = 0;
	EXPECT_EQ(-EINVAL, gk_xfrm_sa_add(self->h, &f, self->key_tp, GK_XFRM_KEY_LEN));
	EXPECT_EQ(-EINVAL, gk_xfrm_sa_update(self->h, &f, self->key_tp, GK_XFRM_KEY_LEN));
	EXPECT_EQ(-EINVAL, gk_xfrm_sa_del(self->h, &f));
	EXPECT_EQ(-EINVAL,
	          gk_xfrm_policy_set(self->h, &f)); /* outbound: the SPI is the template's */
	f.spi = 255;                                /* reserved by IANA */
	EXPECT_EQ(-EINVAL, gk_xfrm_sa_add(self->h, &f, self->key_tp, GK_XFRM_KEY_LEN));
	f = self->t_out;
	EXPECT_EQ(-EINVAL, gk_xfrm_sa_add(self->h, &f, self->key_tp, 32));
	EXPECT_EQ(-EINVAL, gk_xfrm_sa_add(self->h, &f, self->key_tp, GK_XFRM_KEY_LEN - 1));
	EXPECT_EQ(-EINVAL, gk_xfrm_sa_add(self->h, &f, self->key_tp, GK_XFRM_KEY_LEN + 1));
	EXPECT_EQ(-EINVAL, gk_xfrm_sa_add(self->h, &f, NULL, GK_XFRM_KEY_LEN));
	f = self->t_out;
	((struct sockaddr_in *)&f.local)->sin_port = 0; /* same offset in sockaddr_in6 */
	EXPECT_EQ(-EINVAL, gk_xfrm_sa_add(self->h, &f, self->key_tp, GK_XFRM_KEY_LEN));
	EXPECT_EQ(-EINVAL, gk_xfrm_policy_set(self->h, &f));
	f = self->t_out;
	f.dir = (enum gk_xfrm_dir)5;
	EXPECT_EQ(-EINVAL, gk_xfrm_policy_set(self->h, &f));
	EXPECT_EQ(-EINVAL, gk_xfrm_sa_list(self->h, -2, NULL, 0));
	EXPECT_EQ(-EINVAL, gk_xfrm_policy_list(self->h, 0x10000, NULL, 0));
	EXPECT_EQ(-EINVAL, gk_xfrm_flush(self->h, -2));

	EXPECT_EQ(0, gk_xfrm_sa_list(self->h, GK_XFRM_ANY_OWNER, NULL, 0));
	EXPECT_EQ(1, gk_xfrm_policy_list(self->h, GK_XFRM_ANY_OWNER, NULL, 0));
	EXPECT_STREQ("", gk_xfrm_error(self->h));
}

/* A datagram to P's protected port that the inbound policy covers (from T's port-c), sent without
 * ESP: the kernel drops it, counting XfrmInTmplMismatch (a policy whose template no SA of the
 * datagram's satisfies: it has none). */
TEST_F(xfrm, inbound_policy_drops_unprotected)
{
	struct gk_xfrm_flow got[4];
	long before;

	ASSERT_TRUE(arrives(self->ft, self->fp, &self->p, "before", WAIT_MS));
	ASSERT_EQ(0, gk_xfrm_policy_set(self->h, &self->p_in));
	before = xfrm_stat("XfrmInTmplMismatch");
	ASSERT_LE(0, before)
	{
		TH_LOG("no XfrmInTmplMismatch in /proc/net/xfrm_stat (CONFIG_XFRM_STATISTICS)");
	}
	EXPECT_FALSE(arrives(self->ft, self->fp, &self->p, "plain", DROP_MS));
	EXPECT_EQ(before + 1, xfrm_stat("XfrmInTmplMismatch"));
	/* The same source to a port no policy covers still gets through. */
	EXPECT_TRUE(arrives(self->ft, self->fpx, &self->px, "other port", WAIT_MS));

	ASSERT_EQ(1, gk_xfrm_policy_list(self->h, OWNER, got, 4));
	EXPECT_EQ(GK_XFRM_IN, got[0].dir);
	EXPECT_TRUE(same_addr(&got[0].local, &self->p));
	EXPECT_TRUE(same_addr(&got[0].peer, &self->t));
	EXPECT_EQ(0, got[0].spi); /* inbound: any SA of ours for this flow */
	EXPECT_EQ(OWNER, got[0].owner);

	ASSERT_EQ(0, gk_xfrm_policy_del(self->h, &self->p_in));
	EXPECT_TRUE(arrives(self->ft, self->fp, &self->p, "after", WAIT_MS));
	EXPECT_EQ(before + 1, xfrm_stat("XfrmInTmplMismatch"));
	EXPECT_EQ(0, gk_xfrm_policy_list(self->h, GK_XFRM_ANY_OWNER, NULL, 0));
	EXPECT_EQ(-ENOENT, gk_xfrm_policy_del(self->h, &self->p_in));
}

/* Policies alone: listed as installed, replaced in place, flushed per owner. */
TEST_F(xfrm, policies_list_replace_and_flush_per_owner)
{
	const struct gk_xfrm_flow *want[4] = {&self->t_out, &self->p_in, &self->p_out, &self->t_in};
	struct gk_xfrm_flow got[8], other = self->t_out, next = self->t_out;
	int n;

	for (int i = 0; i < 4; i++)
		ASSERT_EQ(0, gk_xfrm_policy_set(self->h, want[i]));
	/* Another element's flow on other ports. */
	other.owner = OWNER + 1;
	addr_at(&other.peer, variant->family, variant->b, PORT_X);
	ASSERT_EQ(0, gk_xfrm_policy_set(self->h, &other));

	n = gk_xfrm_policy_list(self->h, OWNER, got, 8);
	ASSERT_EQ(4, n);
	for (int i = 0; i < 4; i++) {
		bool seen = false;
		for (int k = 0; k < n; k++)
			seen |= got[k].dir == want[i]->dir &&
			        same_addr(&got[k].local, &want[i]->local) &&
			        same_addr(&got[k].peer, &want[i]->peer) &&
			        got[k].spi == (want[i]->dir == GK_XFRM_OUT ? want[i]->spi : 0) &&
			        got[k].owner == OWNER;
		EXPECT_TRUE(seen)
		{
			TH_LOG("policy %d (dir %d, spi %#x) not listed as installed", i,
			       want[i]->dir, want[i]->spi);
		}
	}
	EXPECT_EQ(5, gk_xfrm_policy_list(self->h, GK_XFRM_ANY_OWNER, NULL, 0));

	/* Replacing the outbound policy moves it to another SPI; it stays one policy. */
	next.spi = SPI_S2;
	ASSERT_EQ(0, gk_xfrm_policy_set(self->h, &next));
	n = gk_xfrm_policy_list(self->h, OWNER, got, 8);
	ASSERT_EQ(4, n);
	for (int k = 0; k < n; k++)
		if (got[k].dir == GK_XFRM_OUT && same_addr(&got[k].local, &self->t))
			EXPECT_EQ(SPI_S2, got[k].spi);

	EXPECT_EQ(4, gk_xfrm_flush(self->h, OWNER));
	EXPECT_EQ(0, gk_xfrm_policy_list(self->h, OWNER, NULL, 0));
	ASSERT_EQ(1, gk_xfrm_policy_list(self->h, GK_XFRM_ANY_OWNER, got, 8));
	EXPECT_EQ(OWNER + 1, got[0].owner);
	EXPECT_EQ(1, gk_xfrm_flush(self->h, GK_XFRM_ANY_OWNER));
	EXPECT_EQ(0, gk_xfrm_policy_list(self->h, GK_XFRM_ANY_OWNER, NULL, 0));
}

/* The first 4 bytes after the IP header (IPv4 raw sockets see it, IPv6 ones do not) of an ESP
 * packet: its SPI. 0 when none came. */
static uint32_t esp_spi_seen(int raw, int family, const char *plain)
{
	struct pollfd p = {.fd = raw, .events = POLLIN};
	uint8_t buf[2048];
	uint32_t spi = 0;
	ssize_t n;
	size_t off = 0;

	while (poll(&p, 1, 0) == 1 && (n = recv(raw, buf, sizeof(buf), 0)) > 0) {
		if (family == AF_INET)
			off = (size_t)(buf[0] & 0x0f) * 4;
		if ((size_t)n < off + 8 || memmem(buf, (size_t)n, plain, strlen(plain)))
			return 0; /* short, or the plaintext in clear */
		memcpy(&spi, buf + off, 4);
		spi = ntohl(spi);
	}
	return spi;
}

TEST_F(xfrm, esp_pair_carries_traffic_both_ways)
{
	struct gk_xfrm_sa_info in_tp, in_pt;
	long mismatch = xfrm_stat("XfrmInTmplMismatch");
	int raw;

	ESP_CAPABLE_OR_SKIP(variant->family, return );
	raw = socket(variant->family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ESP);
	ASSERT_LE(0, raw);
	ASSERT_EQ(0, install_pair(_metadata, self));
	ASSERT_EQ(2, gk_xfrm_sa_list(self->h, OWNER, NULL, 0));
	ASSERT_EQ(4, gk_xfrm_policy_list(self->h, OWNER, NULL, 0));

	ASSERT_TRUE(traffic(self, 5));
	/* What crossed lo was ESP under the SPIs, and never the plaintext. */
	EXPECT_TRUE(arrives(self->ft, self->fp, &self->p, "REGISTER sip:example.test", WAIT_MS));
	EXPECT_EQ(SPI_S, esp_spi_seen(raw, variant->family, "REGISTER"));
	EXPECT_TRUE(arrives(self->fp, self->ft, &self->t, "SIP/2.0 200 OK", WAIT_MS));
	EXPECT_EQ(SPI_C, esp_spi_seen(raw, variant->family, "SIP/2.0"));
	close(raw);

	/* Each datagram passed its SA on the way out and on the way in. */
	ASSERT_EQ(0, gk_xfrm_sa_get(self->h, &self->t_out, &in_tp));
	ASSERT_EQ(0, gk_xfrm_sa_get(self->h, &self->p_out, &in_pt));
	EXPECT_LE(12, in_tp.packets);
	EXPECT_LE(12, in_pt.packets);
	EXPECT_LT(0, in_tp.bytes);
	EXPECT_EQ(SPI_S, in_tp.spi);
	EXPECT_TRUE(same_addr(&in_tp.src, &self->t));
	EXPECT_TRUE(same_addr(&in_tp.dst, &self->p));
	EXPECT_EQ(mismatch, xfrm_stat("XfrmInTmplMismatch"));
}

/* Make-before-break to a new SPI for T -> P: the new SA first, then the outbound policy moves to
 * it, then the old SA goes; datagrams get through at every step. */
TEST_F(xfrm, rekey_to_a_new_spi_keeps_traffic)
{
	struct gk_xfrm_flow next = self->t_out;
	struct gk_xfrm_sa_info info;
	uint8_t key2[GK_XFRM_KEY_LEN];

	ESP_CAPABLE_OR_SKIP(variant->family, return );
	ASSERT_EQ(0, install_pair(_metadata, self));
	ASSERT_TRUE(traffic(self, 2));
	ASSERT_EQ(0, gk_random(key2, sizeof(key2)));
	next.spi = SPI_S2;
	ASSERT_EQ(0, gk_xfrm_sa_add(self->h, &next, key2, sizeof(key2)));
	gk_wipe(key2, sizeof(key2));
	EXPECT_TRUE(traffic(self, 2));
	ASSERT_EQ(0, gk_xfrm_sa_get(self->h, &next, &info));
	EXPECT_EQ(0, info.packets); /* not used before the policy names it */

	ASSERT_EQ(0, gk_xfrm_policy_set(self->h, &next));
	EXPECT_TRUE(traffic(self, 2));
	ASSERT_EQ(0, gk_xfrm_sa_get(self->h, &next, &info));
	EXPECT_LE(4, info.packets);

	ASSERT_EQ(0, gk_xfrm_sa_del(self->h, &self->t_out));
	EXPECT_TRUE(traffic(self, 2));
	EXPECT_EQ(-ENOENT, gk_xfrm_sa_get(self->h, &self->t_out, &info));
	EXPECT_EQ(2, gk_xfrm_sa_list(self->h, OWNER, NULL, 0));
}

TEST_F(xfrm, delete_and_flush_leave_nothing_of_ours)
{
	const struct gk_xfrm_flow *pols[4] = {&self->t_out, &self->p_in, &self->p_out, &self->t_in};

	ESP_CAPABLE_OR_SKIP(variant->family, return );
	ASSERT_EQ(0, install_pair(_metadata, self));
	EXPECT_EQ(0, gk_xfrm_sa_del(self->h, &self->t_out));
	EXPECT_EQ(0, gk_xfrm_sa_del(self->h, &self->p_out));
	for (int i = 0; i < 4; i++)
		EXPECT_EQ(0, gk_xfrm_policy_del(self->h, pols[i]));
	EXPECT_EQ(0, gk_xfrm_sa_list(self->h, GK_XFRM_ANY_OWNER, NULL, 0));
	EXPECT_EQ(0, gk_xfrm_policy_list(self->h, GK_XFRM_ANY_OWNER, NULL, 0));
	EXPECT_EQ(-ESRCH, gk_xfrm_sa_del(self->h, &self->t_out));
	EXPECT_EQ(-ENOENT, gk_xfrm_policy_del(self->h, &self->t_out));
	/* Nothing protects the ports now: plain datagrams pass again. */
	EXPECT_TRUE(traffic(self, 1));

	ASSERT_EQ(0, install_pair(_metadata, self));
	EXPECT_EQ(6, gk_xfrm_flush(self->h, OWNER));
	EXPECT_EQ(0, gk_xfrm_sa_list(self->h, GK_XFRM_ANY_OWNER, NULL, 0));
	EXPECT_EQ(0, gk_xfrm_policy_list(self->h, GK_XFRM_ANY_OWNER, NULL, 0));
}

/* An update takes the new lifetime and keeps the key; a second add of the same SPI is refused. */
TEST_F(xfrm, update_takes_lifetime_and_add_refuses_duplicates)
{
	struct gk_xfrm_flow f = self->t_out, missing = self->t_out;
	struct gk_xfrm_sa_info info;

	ESP_CAPABLE_OR_SKIP(variant->family, return );
	ASSERT_EQ(0, install_pair(_metadata, self));
	ASSERT_EQ(0, gk_xfrm_sa_get(self->h, &f, &info));
	EXPECT_EQ(0, info.lifetime_s);
	EXPECT_EQ(0, info.expires);
	EXPECT_EQ(-EEXIST, gk_xfrm_sa_add(self->h, &f, self->key_tp, GK_XFRM_KEY_LEN));

	f.lifetime_s = 600;
	ASSERT_EQ(0, gk_xfrm_sa_update(self->h, &f, self->key_tp, GK_XFRM_KEY_LEN));
	ASSERT_EQ(0, gk_xfrm_sa_get(self->h, &f, &info));
	EXPECT_EQ(600, info.lifetime_s);
	EXPECT_EQ(info.added + 600, info.expires);
	EXPECT_LT(0, info.added);
	EXPECT_TRUE(traffic(self, 2));

	missing.spi = SPI_S2;
	EXPECT_EQ(-ESRCH, gk_xfrm_sa_update(self->h, &missing, self->key_tp, GK_XFRM_KEY_LEN));
	EXPECT_EQ(2, gk_xfrm_sa_list(self->h, OWNER, NULL, 0));
}

/* The kernel's dump carries every SA's key; what the module hands back carries none of it. */
TEST_F(xfrm, listing_never_returns_key_bytes)
{
	struct gk_xfrm_sa_info list[4], one;
	const uint8_t *keys[2] = {self->key_tp, self->key_pt};

	ESP_CAPABLE_OR_SKIP(variant->family, return );
	ASSERT_EQ(0, install_pair(_metadata, self));
	ASSERT_EQ(2, gk_xfrm_sa_list(self->h, OWNER, list, 4));
	ASSERT_EQ(0, gk_xfrm_sa_get(self->h, &self->t_out, &one));
	for (int k = 0; k < 2; k++) {
		/* Any 8 consecutive bytes of the key (AES key or salt) would be a leak. */
		for (size_t at = 0; at + 8 <= GK_XFRM_KEY_LEN; at++) {
			EXPECT_TRUE(memmem(list, sizeof(list), keys[k] + at, 8) == NULL);
			EXPECT_TRUE(memmem(&one, sizeof(one), keys[k] + at, 8) == NULL);
		}
	}
}

/* ---- a terminal's association: four flows (gatekey/ipsec/assoc.h) ---- */

#define A_TERM_C  6200 /* the terminal's protected client and server ports */
#define A_TERM_S  6201
#define A_TERM_C2 6202 /* its client port after a refresh */
#define A_NET_C   6300 /* the element's */
#define A_NET_S   6301

static struct gk_ipsec_assoc assoc(const FIXTURE_VARIANT(xfrm) * variant, enum gk_ipsec_side side,
                                   uint32_t spi_base)
{
	struct gk_ipsec_assoc a = {
	    .side = side,
	    .term_end = {.spi_c = spi_base,
	                 .spi_s = spi_base + 1,
	                 .port_c = A_TERM_C,
	                 .port_s = A_TERM_S},
	    .net_end = {.spi_c = spi_base + 0x100,
	                .spi_s = spi_base + 0x101,
	                .port_c = A_NET_C,
	                .port_s = A_NET_S},
	    .owner = OWNER,
	    .lifetime_s = 600,
	};

	addr_at(&a.term, variant->family, variant->a, 0);
	addr_at(&a.net, variant->family, variant->b, 0);
	return a;
}

/* The terminal and the element derive the same four SAs from K: each flow under the SPI its
 * receiver chose, seen from the two ends, in opposite directions, with the same key; no two
 * flows share a key. Ends that cannot carry SAs are refused. */
TEST_F(xfrm, assoc_sides_derive_the_same_sas)
{
	struct gk_ipsec_assoc at_t = assoc(variant, GK_IPSEC_AT_TERMINAL, 0x3000);
	struct gk_ipsec_assoc at_e = assoc(variant, GK_IPSEC_AT_ELEMENT, 0x3000);
	struct gk_ipsec_flow ft[GK_IPSEC_FLOWS], fe[GK_IPSEC_FLOWS];
	uint8_t k[GK_KEY_LEN], kt[GK_IPSEC_FLOWS][GK_XFRM_KEY_LEN], ke[GK_XFRM_KEY_LEN];
	const uint32_t spi[GK_IPSEC_FLOWS] = {0x3101, 0x3000, 0x3001, 0x3100};
	struct sockaddr_storage t_c, n_s;

	ASSERT_EQ(0, gk_random(k, sizeof(k)));
	ASSERT_EQ(0, gk_ipsec_flows(&at_t, ft));
	ASSERT_EQ(0, gk_ipsec_flows(&at_e, fe));
	for (int i = 0; i < GK_IPSEC_FLOWS; i++) {
		EXPECT_EQ(spi[i], ft[i].xfrm.spi);
		EXPECT_EQ(spi[i], fe[i].xfrm.spi);
		EXPECT_EQ(ft[i].uplink, fe[i].uplink);
		EXPECT_EQ(ft[i].uplink ? GK_XFRM_OUT : GK_XFRM_IN, ft[i].xfrm.dir);
		EXPECT_NE(ft[i].xfrm.dir, fe[i].xfrm.dir);
		EXPECT_TRUE(same_addr(&ft[i].xfrm.local, &fe[i].xfrm.peer));
		EXPECT_TRUE(same_addr(&ft[i].xfrm.peer, &fe[i].xfrm.local));
		EXPECT_EQ(600, ft[i].xfrm.lifetime_s);
		ASSERT_EQ(0, gk_ipsec_flow_key(k, &ft[i], kt[i]));
		ASSERT_EQ(0, gk_ipsec_flow_key(k, &fe[i], ke));
		EXPECT_EQ(0, memcmp(kt[i], ke, sizeof(ke)));
		for (int j = 0; j < i; j++)
			EXPECT_NE(0, memcmp(kt[i], kt[j], sizeof(ke)));
	}
	/* flow 0: the terminal's port-c to the element's port-s */
	addr_at(&t_c, variant->family, variant->a, A_TERM_C);
	addr_at(&n_s, variant->family, variant->b, A_NET_S);
	EXPECT_TRUE(same_addr(&ft[0].xfrm.local, &t_c));
	EXPECT_TRUE(same_addr(&ft[0].xfrm.peer, &n_s));
	gk_wipe(k, sizeof(k));
	gk_wipe(kt, sizeof(kt));
	gk_wipe(ke, sizeof(ke));

	struct gk_ipsec_assoc bad = at_t;
	bad.term_end.spi_c = 255; /* reserved */
	EXPECT_EQ(-EINVAL, gk_ipsec_flows(&bad, ft));
	bad = at_t;
	bad.net_end.spi_s = bad.net_end.spi_c; /* one SPI for two SAs at one receiver */
	EXPECT_EQ(-EINVAL, gk_ipsec_flows(&bad, ft));
	bad = at_t;
	bad.net_end.port_s = 0;
	EXPECT_EQ(-EINVAL, gk_ipsec_flows(&bad, ft));
	bad = at_t;
	addr_at(&bad.net, variant->family == AF_INET ? AF_INET6 : AF_INET,
	        variant->family == AF_INET ? "::1" : "127.0.0.2", 0);
	EXPECT_EQ(-EINVAL, gk_ipsec_flows(&bad, ft));
	EXPECT_EQ(-EINVAL, gk_ipsec_install(self->h, &bad, k));
	EXPECT_EQ(0, gk_xfrm_sa_list(self->h, GK_XFRM_ANY_OWNER, NULL, 0));
}

/* The four sockets of an association: the terminal's port-c and port-s, the element's. */
struct assoc_socks {
	struct sockaddr_storage t_c, t_s, n_c, n_s;
	int ft_c, ft_s, fn_c, fn_s;
};

static void assoc_socks_open(struct __test_metadata *_metadata,
                             const FIXTURE_VARIANT(xfrm) * variant, struct assoc_socks *k,
                             uint16_t term_c)
{
	addr_at(&k->t_c, variant->family, variant->a, term_c);
	addr_at(&k->t_s, variant->family, variant->a, A_TERM_S);
	addr_at(&k->n_c, variant->family, variant->b, A_NET_C);
	addr_at(&k->n_s, variant->family, variant->b, A_NET_S);
	k->ft_c = udp_at(&k->t_c);
	k->ft_s = udp_at(&k->t_s);
	k->fn_c = udp_at(&k->n_c);
	k->fn_s = udp_at(&k->n_s);
	ASSERT_TRUE(k->ft_c >= 0 && k->ft_s >= 0 && k->fn_c >= 0 && k->fn_s >= 0);
}

static void assoc_socks_close(struct assoc_socks *k)
{
	close(k->ft_c);
	close(k->ft_s);
	close(k->fn_c);
	close(k->fn_s);
}

/* The terminal's side alone in this namespace: what it sends on its two uplink flows leaves as
 * ESP under the element's SPIs and arrives; what reaches its protected ports in clear (the
 * element's side, which would have sent it under ESP, is not installed here) is dropped by its
 * inbound policies and counted. Removing the association leaves nothing of it, and clear
 * datagrams pass again. A failed install leaves nothing behind. */
TEST_F(xfrm, assoc_terminal_side_protects_its_flows)
{
	struct gk_ipsec_assoc a = assoc(variant, GK_IPSEC_AT_TERMINAL, 0x3000);
	struct assoc_socks k;
	uint8_t key[GK_KEY_LEN];
	long mismatch;
	int raw;

	ESP_CAPABLE_OR_SKIP(variant->family, return );
	ASSERT_EQ(0, gk_random(key, sizeof(key)));
	assoc_socks_open(_metadata, variant, &k, A_TERM_C);
	raw = socket(variant->family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ESP);
	ASSERT_LE(0, raw);
	ASSERT_EQ(0, gk_ipsec_install(self->h, &a, key));
	EXPECT_EQ(4, gk_xfrm_sa_list(self->h, OWNER, NULL, 0));
	EXPECT_EQ(4, gk_xfrm_policy_list(self->h, OWNER, NULL, 0));

	EXPECT_TRUE(arrives(k.ft_c, k.fn_s, &k.n_s, "REGISTER sip:example.test", WAIT_MS));
	EXPECT_EQ(a.net_end.spi_s, esp_spi_seen(raw, variant->family, "REGISTER"));
	EXPECT_TRUE(arrives(k.ft_s, k.fn_c, &k.n_c, "SIP/2.0 200 OK", WAIT_MS));
	EXPECT_EQ(a.net_end.spi_c, esp_spi_seen(raw, variant->family, "SIP/2.0"));
	mismatch = xfrm_stat("XfrmInTmplMismatch");
	EXPECT_FALSE(arrives(k.fn_s, k.ft_c, &k.t_c, "SIP/2.0 200 OK", DROP_MS));
	EXPECT_FALSE(arrives(k.fn_c, k.ft_s, &k.t_s, "OPTIONS sip:t", DROP_MS));
	EXPECT_EQ(mismatch + 2, xfrm_stat("XfrmInTmplMismatch"));

	/* the same again: each SA is there, so the second install is refused and undone */
	EXPECT_EQ(-EEXIST, gk_ipsec_install(self->h, &a, key));
	EXPECT_EQ(4, gk_xfrm_sa_list(self->h, OWNER, NULL, 0));

	EXPECT_EQ(8, gk_ipsec_remove(self->h, &a));
	EXPECT_EQ(0, gk_xfrm_sa_list(self->h, GK_XFRM_ANY_OWNER, NULL, 0));
	EXPECT_EQ(0, gk_xfrm_policy_list(self->h, GK_XFRM_ANY_OWNER, NULL, 0));
	EXPECT_EQ(0, gk_ipsec_remove(self->h, &a));
	EXPECT_TRUE(arrives(k.fn_s, k.ft_c, &k.t_c, "SIP/2.0 200 OK", WAIT_MS));
	gk_wipe(key, sizeof(key));
	close(raw);
	assoc_socks_close(&k);
}

/* A refresh with new SPIs and a new client port, make-before-break: after prepare the uplink
 * still leaves under the old SPIs and both sets of SAs are there; after the switch it leaves
 * under the new ones from the new port, and only the new SAs and policies are left. */
TEST_F(xfrm, assoc_refresh_is_make_before_break)
{
	struct gk_ipsec_assoc cur = assoc(variant, GK_IPSEC_AT_TERMINAL, 0x3000);
	struct gk_ipsec_assoc next = assoc(variant, GK_IPSEC_AT_TERMINAL, 0x5000);
	struct assoc_socks k;
	uint8_t key[GK_KEY_LEN], key2[GK_KEY_LEN];
	int raw, fc2;
	struct sockaddr_storage t_c2;

	ESP_CAPABLE_OR_SKIP(variant->family, return );
	next.term_end.port_c = A_TERM_C2;
	ASSERT_EQ(0, gk_random(key, sizeof(key)));
	ASSERT_EQ(0, gk_random(key2, sizeof(key2)));
	assoc_socks_open(_metadata, variant, &k, A_TERM_C);
	addr_at(&t_c2, variant->family, variant->a, A_TERM_C2);
	fc2 = udp_at(&t_c2);
	ASSERT_LE(0, fc2);
	raw = socket(variant->family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ESP);
	ASSERT_LE(0, raw);
	ASSERT_EQ(0, gk_ipsec_install(self->h, &cur, key));
	/* next must not reuse an SA of cur */
	EXPECT_EQ(-EEXIST, gk_ipsec_prepare(self->h, &cur, &cur, key2));

	ASSERT_EQ(0, gk_ipsec_prepare(self->h, &cur, &next, key2));
	EXPECT_EQ(8, gk_xfrm_sa_list(self->h, OWNER, NULL, 0));
	EXPECT_TRUE(arrives(k.ft_c, k.fn_s, &k.n_s, "REGISTER sip:example.test", WAIT_MS));
	EXPECT_EQ(cur.net_end.spi_s, esp_spi_seen(raw, variant->family, "REGISTER"));

	ASSERT_EQ(0, gk_ipsec_switch(self->h, &cur, &next));
	EXPECT_TRUE(arrives(fc2, k.fn_s, &k.n_s, "REGISTER sip:example.test", WAIT_MS));
	EXPECT_EQ(next.net_end.spi_s, esp_spi_seen(raw, variant->family, "REGISTER"));
	EXPECT_TRUE(arrives(k.ft_s, k.fn_c, &k.n_c, "SIP/2.0 200 OK", WAIT_MS));
	EXPECT_EQ(next.net_end.spi_c, esp_spi_seen(raw, variant->family, "SIP/2.0"));
	EXPECT_EQ(4, gk_xfrm_sa_list(self->h, OWNER, NULL, 0));
	EXPECT_EQ(4, gk_xfrm_policy_list(self->h, OWNER, NULL, 0));
	/* the old client port is no longer protected: nothing of cur is left */
	EXPECT_TRUE(arrives(k.fn_s, k.ft_c, &k.t_c, "SIP/2.0 200 OK", WAIT_MS));
	EXPECT_EQ(8, gk_ipsec_remove(self->h, &next));

	/* a prepared refresh that is abandoned leaves cur whole */
	ASSERT_EQ(0, gk_ipsec_install(self->h, &cur, key));
	ASSERT_EQ(0, gk_ipsec_prepare(self->h, &cur, &next, key2));
	gk_ipsec_abandon(self->h, &cur, &next);
	EXPECT_EQ(4, gk_xfrm_sa_list(self->h, OWNER, NULL, 0));
	EXPECT_EQ(4, gk_xfrm_policy_list(self->h, OWNER, NULL, 0));
	EXPECT_TRUE(arrives(k.ft_c, k.fn_s, &k.n_s, "REGISTER sip:example.test", WAIT_MS));
	EXPECT_EQ(cur.net_end.spi_s, esp_spi_seen(raw, variant->family, "REGISTER"));
	gk_wipe(key, sizeof(key));
	gk_wipe(key2, sizeof(key2));
	close(fc2);
	close(raw);
	assoc_socks_close(&k);
}

/* ---- a registration's SAs, negotiated and installed on both sides ----------------------------
 *
 * The terminal and the element each in a network namespace of their own, joined by a veth pair
 * (198.18.9.0/24, 2001:db8:9::/64), as on a real access link. The exchange (the direct
 * topology's front and core, and the terminal's state machine, in this process) negotiates
 * ipsec-3gpp; the element installs its side from ops.ipsec_up before its SUCCESS, the terminal
 * its own once registered. Then the signalling between their protected ports crosses the link
 * under ESP, and a datagram in clear from the terminal's protected port is dropped by the
 * element's inbound policy and counted in its namespace's /proc/net/xfrm_stat.
 */
#define PAIR_IF_E "gke0"
#define PAIR_IF_T "gkt0"

struct pair_world {
	struct gk_loop *loop;
	struct gk_direct d;
	uint8_t kss[GK_KEY_LEN], kc[GK_KEY_LEN];
	struct gk_msg out;
	bool have;
	uint32_t auc_handle;
	bool auc_pending;
	struct gk_xfrm *he;          /* the element's namespace's XFRM */
	struct sockaddr_storage net; /* the element's address */
	struct gk_ipsec_element *el; /* its side, as a daemon wires it */
	int install_rc;
};

FIXTURE(pair)
{
	int ns_e, ns_t; /* the element's and the terminal's namespaces */
	struct gk_xfrm *ht;
	struct pair_world w;
	struct gk_terminal t;
	struct sockaddr_storage term;
};

FIXTURE_VARIANT(pair)
{
	int family;
	const char *e, *t;
	int prefix;
};

FIXTURE_VARIANT_ADD(pair, ipv4){
    .family = AF_INET,
    .e = "198.18.9.1",
    .t = "198.18.9.2",
    .prefix = 24,
};

FIXTURE_VARIANT_ADD(pair, ipv6){
    .family = AF_INET6,
    .e = "2001:db8:9::1",
    .t = "2001:db8:9::2",
    .prefix = 64,
};

static void pair_send(void *user, const struct gk_msg *m, const struct sockaddr_storage *to,
                      struct gk_binding *b)
{
	struct pair_world *w = user;
	(void)to;
	(void)b;
	w->out = *m;
	w->have = true;
}

static void pair_auc_request(void *user, uint32_t handle, const char *idc, const char *idsp)
{
	struct pair_world *w = user;
	(void)idc;
	(void)idsp;
	w->auc_handle = handle;
	w->auc_pending = true;
}

/* The element's side, as a daemon wires it: the registrar's hooks into lib/ipsec/element.c. */
static int pair_ipsec_up(void *user, const struct gk_binding *b,
                         const struct sockaddr_storage *from, const struct gk_ipsec_end *term,
                         const struct gk_ipsec_end *net, const uint8_t k[GK_KEY_LEN],
                         uint32_t expires_s)
{
	struct pair_world *w = user;
	struct gk_binding_info bi;

	gk_binding_get_info(b, &bi);
	w->install_rc = gk_ipsec_element_up(w->el, &bi, from, term, net, k, expires_s);
	return w->install_rc;
}

static int pair_ipsec_adopt(void *user, const struct gk_binding *b)
{
	struct pair_world *w = user;
	struct gk_binding_info bi;

	gk_binding_get_info(b, &bi);
	return gk_ipsec_element_adopt(w->el, &bi);
}

static void pair_down(void *user, struct gk_binding *b)
{
	struct pair_world *w = user;
	struct gk_binding_info bi;

	gk_binding_get_info(b, &bi);
	gk_ipsec_element_down(w->el, &bi);
}

static const struct gk_direct_ops pair_ops = {.send_terminal = pair_send,
                                              .auc_request = pair_auc_request,
                                              .ipsec_up = pair_ipsec_up,
                                              .ipsec_adopt = pair_ipsec_adopt,
                                              .binding_down = pair_down};

static struct gk_msg *pair_deliver_as(struct pair_world *w, struct gk_msg *m,
                                      const struct sockaddr_storage *from, uint32_t index)
{
	w->have = false;
	m->proto = GK_PROTO_SIP; /* the terminal's messages travel as SIP (its protected ports) */
	gk_registrar_on_message(w->d.front, m, from, index);
	if (w->auc_pending) {
		struct gk_auc_vector v;
		gk_vector_make(w->kc, w->kss, GK_ROLE_SOFTSWITCH, "alice", "ss1", &v);
		w->auc_pending = false;
		gk_core_auc_vector(w->d.core, w->auc_handle, &v);
	}
	return w->have ? &w->out : NULL;
}

/* From the terminal's ordinary address, as a registration starts. */
static struct gk_msg *pair_deliver(struct pair_world *w, struct gk_msg *m,
                                   const struct sockaddr_storage *from)
{
	return pair_deliver_as(w, m, from, 0);
}

/* From the terminal's protected client port to the element's protected server port, as the
 * element's protected socket hands it on (gk_front_io_ipsec_sender): under the binding whose
 * SAs cover that flow, echoing the element's end as a SIP request under them does
 * (Security-Verify). */
static struct gk_msg *pair_deliver_protected(struct pair_world *w, struct gk_msg *m,
                                             const struct sockaddr_storage *term,
                                             const struct gk_terminal *t)
{
	struct sockaddr_storage from = *term;

	m->ipsec_net = t->ipsec_net;
	m->fields |= GK_F_SEC_VERIFY;

	gk_sockaddr_set_port(&from, t->ipsec_own.port_c);
	return pair_deliver_as(w, m, &from,
	                       gk_registrar_ipsec_sender(w->d.front, &from, t->ipsec_net.port_s));
}

FIXTURE_SETUP(pair)
{
	char err[128];

	self->ns_e = self->ns_t = -1;
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	self->ns_e = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->ns_e);
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	self->ns_t = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->ns_t);
	ASSERT_EQ(0, helper_lo_up());
	ASSERT_EQ(0, helper_in_ns(self->ns_e));
	ASSERT_EQ(0, helper_lo_up());
	ASSERT_EQ(0, helper_veth_to(PAIR_IF_E, PAIR_IF_T, self->ns_t));
	ASSERT_EQ(0,
	          helper_link_address_up(PAIR_IF_E, variant->family, variant->e, variant->prefix));
	ASSERT_EQ(0, gk_xfrm_open(&self->w.he));
	ASSERT_EQ(0, helper_in_ns(self->ns_t));
	ASSERT_EQ(0,
	          helper_link_address_up(PAIR_IF_T, variant->family, variant->t, variant->prefix));
	ASSERT_EQ(0, gk_xfrm_open(&self->ht));
	ASSERT_EQ(0, helper_in_ns(self->ns_e));
	addr_at(&self->w.net, variant->family, variant->e, 0);
	addr_at(&self->term, variant->family, variant->t, 5060);

	self->w.loop = gk_loop_new(NULL, err, sizeof(err));
	ASSERT_NE(NULL, self->w.loop);
	struct gk_ipsec_element_cfg ec = {.owner = OWNER, .max_pending = 4};
	if (variant->family == AF_INET)
		ec.addr4 = self->w.net;
	else
		ec.addr6 = self->w.net;
	self->w.el = gk_ipsec_element_new(self->w.he, self->w.loop, &ec, 16, err, sizeof(err));
	ASSERT_NE(NULL, self->w.el)
	{
		TH_LOG("%s", err);
	}
	gk_random(self->w.kss, GK_KEY_LEN);
	gk_random(self->w.kc, GK_KEY_LEN);
	ASSERT_EQ(0, helper_direct_init(&self->w.d, self->w.loop, self->w.kss,
	                                (1u << GK_MECH_GKMAC) | (1u << GK_MECH_IPSEC), &pair_ops,
	                                &self->w, err, sizeof(err)))
	{
		TH_LOG("%s", err);
	}
	helper_ipsec_terminal(
	    &self->t, self->w.kc,
	    &(struct gk_ipsec_end){
	        .spi_c = 0x7000, .spi_s = 0x7001, .port_c = 6101, .port_s = 6102});
}

FIXTURE_TEARDOWN(pair)
{
	gk_ipsec_element_free(self->w.el);
	if (self->w.loop) {
		gk_direct_fini(&self->w.d);
		gk_loop_free(self->w.loop);
	}
	gk_xfrm_close(self->ht);
	gk_xfrm_close(self->w.he);
	gk_wipe(&self->t, sizeof(self->t));
	if (self->ns_e >= 0)
		close(self->ns_e);
	if (self->ns_t >= 0)
		close(self->ns_t);
}

/* A UDP socket at ip:port in namespace ns (the caller's namespace is the element's after). */
static int udp_in(int ns, int ns_back, int family, const char *ip, uint16_t port)
{
	struct sockaddr_storage a;
	int fd;

	if (helper_in_ns(ns) < 0)
		return -1;
	addr_at(&a, family, ip, port);
	fd = udp_at(&a);
	helper_in_ns(ns_back);
	return fd;
}

/* fd sends in clear from now on, whatever the policies of its namespace say (a per-socket
 * policy that allows without a template: what a terminal without the SAs would send). */
static int bypass_policies(int fd, int family)
{
	struct xfrm_userpolicy_info pol;

	memset(&pol, 0, sizeof(pol));
	pol.action = XFRM_POLICY_ALLOW;
	pol.dir = XFRM_POLICY_OUT;
	pol.sel.family = (uint16_t)family;
	pol.lft.soft_byte_limit = pol.lft.hard_byte_limit = XFRM_INF;
	pol.lft.soft_packet_limit = pol.lft.hard_packet_limit = XFRM_INF;
	return setsockopt(fd, family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
	                  family == AF_INET ? IP_XFRM_POLICY : IPV6_XFRM_POLICY, &pol, sizeof(pol));
}

/* One registration (or refresh) of the terminal, with ipsec-3gpp: the exchange, the element's
 * side installed from ipsec_up; the terminal's side is the caller's. 0 when registered. */
static int pair_register(struct __test_metadata *_metadata, FIXTURE_DATA(pair) * self)
{
	struct gk_msg req, answer, ignored, *resp;

	gk_terminal_register(&self->t, &req);
	resp = pair_deliver(&self->w, &req, &self->term);
	if (!resp || gk_terminal_on_message(&self->t, resp, &answer) != 1)
		return -1;
	resp = pair_deliver(&self->w, &answer, &self->term);
	if (!resp)
		return -1;
	if (self->w.install_rc)
		TH_LOG("element side: %s (kernel: \"%s\")", strerror(-self->w.install_rc),
		       gk_xfrm_error(self->w.he));
	if (gk_terminal_on_message(&self->t, resp, &ignored) != 0 ||
	    self->t.chosen != GK_MECH_IPSEC)
		return -1;
	return 0;
}

static void index_of(const struct gk_binding_info *bi, void *arg)
{
	*(uint32_t *)arg = bi->index;
}

static void info_of(const struct gk_binding_info *bi, void *arg)
{
	*(struct gk_binding_info *)arg = *bi;
}

/* The terminal's binding index at the element (the only binding there). */
static uint32_t binding_index(FIXTURE_DATA(pair) * self)
{
	uint32_t index = 0;
	gk_registrar_foreach(self->w.d.front, index_of, &index);
	return index;
}

/* The terminal's side of its current association. */
static struct gk_ipsec_assoc pair_term_side(FIXTURE_DATA(pair) * self)
{
	return (struct gk_ipsec_assoc){.side = GK_IPSEC_AT_TERMINAL,
	                               .term = self->term,
	                               .net = self->w.net,
	                               .term_end = self->t.ipsec_own,
	                               .net_end = self->t.ipsec_net,
	                               .owner = OWNER,
	                               .lifetime_s = 600};
}

/* The four sockets of the association's protected ports, and where each sends. */
struct pair_socks {
	int t_c, t_s, e_c, e_s;
	struct sockaddr_storage to_e_s, to_e_c, to_t_c, to_t_s;
};

static void pair_socks_open(struct __test_metadata *_metadata, FIXTURE_DATA(pair) * self,
                            const FIXTURE_VARIANT(pair) * variant, struct pair_socks *k)
{
	const struct gk_ipsec_end *te = &self->t.ipsec_own, *ne = &self->t.ipsec_net;
	int fam = variant->family;

	k->t_c = udp_in(self->ns_t, self->ns_e, fam, variant->t, te->port_c);
	k->t_s = udp_in(self->ns_t, self->ns_e, fam, variant->t, te->port_s);
	k->e_c = udp_in(self->ns_e, self->ns_e, fam, variant->e, ne->port_c);
	k->e_s = udp_in(self->ns_e, self->ns_e, fam, variant->e, ne->port_s);
	ASSERT_TRUE(k->t_c >= 0 && k->t_s >= 0 && k->e_c >= 0 && k->e_s >= 0);
	addr_at(&k->to_e_s, fam, variant->e, ne->port_s);
	addr_at(&k->to_e_c, fam, variant->e, ne->port_c);
	addr_at(&k->to_t_c, fam, variant->t, te->port_c);
	addr_at(&k->to_t_s, fam, variant->t, te->port_s);
}

static void pair_socks_close(struct pair_socks *k)
{
	close(k->t_c);
	close(k->t_s);
	close(k->e_c);
	close(k->e_s);
}

TEST_F(pair, negotiated_sas_protect_the_terminals_signalling_both_ways)
{
	struct gk_msg req, ignored, *resp;
	struct pair_socks k;
	int fam = variant->family;

	ESP_CAPABLE_OR_SKIP(fam, return );
	ASSERT_EQ(0, pair_register(_metadata, self));
	struct gk_ipsec_assoc at_term = pair_term_side(self);
	ASSERT_EQ(0, gk_ipsec_install(self->ht, &at_term, self->t.k))
	{
		TH_LOG("terminal side: %s", gk_xfrm_error(self->ht));
	}
	EXPECT_EQ(4, gk_xfrm_sa_list(self->ht, OWNER, NULL, 0));
	EXPECT_EQ(4, gk_xfrm_sa_list(self->w.he, OWNER, NULL, 0));
	EXPECT_EQ(1u, gk_ipsec_element_stats(self->w.el)->installed);

	/* the four flows of TS 33.203 cross the link under ESP */
	pair_socks_open(_metadata, self, variant, &k);
	long mismatch = xfrm_stat("XfrmInTmplMismatch"); /* the element's namespace */
	EXPECT_TRUE(arrives(k.t_c, k.e_s, &k.to_e_s, "REGISTER sip:ss1", WAIT_MS));
	EXPECT_TRUE(arrives(k.e_s, k.t_c, &k.to_t_c, "SIP/2.0 200 OK", WAIT_MS));
	EXPECT_TRUE(arrives(k.e_c, k.t_s, &k.to_t_s, "OPTIONS sip:alice", WAIT_MS));
	EXPECT_TRUE(arrives(k.t_s, k.e_c, &k.to_e_c, "SIP/2.0 200 OK", WAIT_MS));
	EXPECT_EQ(mismatch, xfrm_stat("XfrmInTmplMismatch"));

	/* the terminal's protected port in clear: the element's inbound policy drops it */
	ASSERT_EQ(0, bypass_policies(k.t_c, fam))
	{
		TH_LOG("IP_XFRM_POLICY: %s", strerror(errno));
	}
	EXPECT_FALSE(arrives(k.t_c, k.e_s, &k.to_e_s, "REGISTER sip:ss1", DROP_MS));
	EXPECT_EQ(mismatch + 1, xfrm_stat("XfrmInTmplMismatch"));

	/* deregistration: the element's SAs and policies go with the binding */
	gk_terminal_deregister(&self->t, &req);
	resp = pair_deliver_protected(&self->w, &req, &self->term, &self->t);
	ASSERT_NE(NULL, resp);
	ASSERT_EQ(0, gk_terminal_on_message(&self->t, resp, &ignored));
	EXPECT_EQ(1u, gk_ipsec_element_stats(self->w.el)->removed);
	EXPECT_EQ(0, gk_xfrm_sa_list(self->w.he, GK_XFRM_ANY_OWNER, NULL, 0));
	EXPECT_EQ(0, gk_xfrm_policy_list(self->w.he, GK_XFRM_ANY_OWNER, NULL, 0));
	EXPECT_EQ(8, gk_ipsec_remove(self->ht, &at_term));
	EXPECT_EQ(0, gk_xfrm_sa_list(self->ht, GK_XFRM_ANY_OWNER, NULL, 0));
	EXPECT_TRUE(arrives(k.t_c, k.e_s, &k.to_e_s, "REGISTER sip:ss1", WAIT_MS));
	pair_socks_close(&k);
}

/* A refresh, make-before-break on both sides: the element adds the new SAs beside the old and
 * keeps sending under the old until the terminal, which takes the new ones with the SUCCESS,
 * has sent under them; then it switches, and only the new SAs are left on either side. No
 * datagram is lost on the way, in either direction. */
TEST_F(pair, refresh_switches_once_the_terminal_uses_the_new_sas)
{
	struct pair_socks k;
	int fam = variant->family;

	ESP_CAPABLE_OR_SKIP(fam, return );
	ASSERT_EQ(0, pair_register(_metadata, self));
	struct gk_ipsec_assoc old_t = pair_term_side(self);
	ASSERT_EQ(0, gk_ipsec_install(self->ht, &old_t, self->t.k));
	pair_socks_open(_metadata, self, variant, &k);
	EXPECT_TRUE(arrives(k.t_c, k.e_s, &k.to_e_s, "REGISTER sip:ss1", WAIT_MS));

	/* the refresh: the terminal keeps its ports and offers SPIs of its own anew (each SA is
	 * new: a new key is a new SPI), and gets the element's next SPIs */
	self->t.ipsec_own.spi_c = 0x7100;
	self->t.ipsec_own.spi_s = 0x7101;
	ASSERT_EQ(0, pair_register(_metadata, self));
	EXPECT_EQ(1u, gk_ipsec_element_stats(self->w.el)->refreshed);
	EXPECT_EQ(1u, gk_ipsec_element_pending(self->w.el));
	EXPECT_EQ(8, gk_xfrm_sa_list(self->w.he, OWNER, NULL, 0)); /* old and new side by side */
	EXPECT_NE(old_t.net_end.spi_s, self->t.ipsec_net.spi_s);
	/* before the terminal has the new SAs, the element still sends under the old ones */
	EXPECT_TRUE(arrives(k.e_s, k.t_c, &k.to_t_c, "SIP/2.0 200 OK", WAIT_MS));
	uint32_t index = binding_index(self);
	ASSERT_NE(0u, index);
	gk_ipsec_element_seen(self->w.el, index);
	EXPECT_EQ(1u, gk_ipsec_element_pending(self->w.el)); /* nothing under the new SAs yet */

	/* the terminal takes the new SAs (prepare and switch at once) and sends under them */
	struct gk_ipsec_assoc new_t = pair_term_side(self);
	ASSERT_EQ(0, gk_ipsec_replace(self->ht, &old_t, &new_t, self->t.k));
	EXPECT_EQ(4, gk_xfrm_sa_list(self->ht, OWNER, NULL, 0));
	EXPECT_TRUE(arrives(k.t_c, k.e_s, &k.to_e_s, "OPTIONS sip:ss1", WAIT_MS));
	/* as the daemon does on that datagram: the element sees it came under the new SAs */
	gk_ipsec_element_seen(self->w.el, index);
	EXPECT_EQ(0u, gk_ipsec_element_pending(self->w.el));
	EXPECT_EQ(1u, gk_ipsec_element_stats(self->w.el)->switched);
	EXPECT_EQ(4, gk_xfrm_sa_list(self->w.he, OWNER, NULL, 0));
	EXPECT_TRUE(arrives(k.e_s, k.t_c, &k.to_t_c, "SIP/2.0 200 OK", WAIT_MS));
	EXPECT_TRUE(arrives(k.e_c, k.t_s, &k.to_t_s, "OPTIONS sip:alice", WAIT_MS));
	EXPECT_TRUE(arrives(k.t_s, k.e_c, &k.to_e_c, "SIP/2.0 200 OK", WAIT_MS));
	EXPECT_EQ(8, gk_ipsec_remove(self->ht, &new_t));
	pair_socks_close(&k);
}

/* The element dies: its loop, front and ipsec module go, what it put in the kernel and its
 * store stay. */
static void pair_element_dies(FIXTURE_DATA(pair) * self, struct gk_bindstore *store)
{
	gk_ipsec_element_free(self->w.el);
	gk_direct_fini(&self->w.d);
	gk_loop_free(self->w.loop);
	gk_bindstore_close(store);
	self->w.el = NULL;
	self->w.loop = NULL;
}

/* And starts again, as a daemon does: its ipsec module first, then its front, which takes the
 * bindings back from the store at path (adopting their SAs through ops.ipsec_adopt). */
static int pair_element_starts(FIXTURE_DATA(pair) * self, int fam, const char *path,
                               struct gk_bindstore **store, unsigned *dropped)
{
	struct gk_ipsec_element_cfg ec = {.owner = OWNER, .max_pending = 4};
	char err[256];
	uint32_t none;

	if (fam == AF_INET)
		ec.addr4 = self->w.net;
	else
		ec.addr6 = self->w.net;
	if (!(self->w.loop = gk_loop_new(NULL, err, sizeof(err))) ||
	    !(self->w.el =
	          gk_ipsec_element_new(self->w.he, self->w.loop, &ec, 16, err, sizeof(err))) ||
	    helper_direct_init(&self->w.d, self->w.loop, self->w.kss,
	                       (1u << GK_MECH_GKMAC) | (1u << GK_MECH_IPSEC), &pair_ops, &self->w,
	                       err, sizeof(err)) < 0 ||
	    gk_bindstore_open(path, 16, store, &none, err, sizeof(err)) < 0)
		return -1;
	gk_registrar_attach_store(self->w.d.front, *store, dropped);
	return 0;
}

/* The element restarts while a refresh waits for its switch (the terminal already holds only
 * the new SAs): the SAs stay in the kernel, the binding comes back from the store with its ends,
 * and the restarted element adopts its association instead of installing it (K is not kept):
 * its outbound flows move to the binding's SAs, so it reaches the terminal again, and the
 * deregistration that follows removes them. */
TEST_F(pair, a_restarted_element_adopts_the_sas_of_its_bindings)
{
	struct gk_bindstore *store;
	struct pair_socks k;
	unsigned dropped;
	char path[64], err[256];
	int fam = variant->family;

	ESP_CAPABLE_OR_SKIP(fam, return );
	/* a memory file system for the store: /dev/shm, or the guest's root (rootfs) */
	snprintf(path, sizeof(path), "%s/gk-pair-%d/bindings",
	         access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", (int)getpid());
	uint32_t none;
	ASSERT_EQ(0, gk_bindstore_open(path, 16, &store, &none, err, sizeof(err)))
	{
		TH_LOG("%s", err);
	}
	gk_registrar_attach_store(self->w.d.front, store, &dropped);
	ASSERT_EQ(0, pair_register(_metadata, self));
	struct gk_ipsec_assoc old_t = pair_term_side(self);
	ASSERT_EQ(0, gk_ipsec_install(self->ht, &old_t, self->t.k));
	self->t.ipsec_own.spi_c = 0x7100;
	self->t.ipsec_own.spi_s = 0x7101;
	ASSERT_EQ(0, pair_register(_metadata, self));
	struct gk_ipsec_assoc new_t = pair_term_side(self);
	ASSERT_EQ(0, gk_ipsec_replace(self->ht, &old_t, &new_t, self->t.k));
	EXPECT_EQ(1u, gk_ipsec_element_pending(self->w.el));

	/* the element dies: nothing of it runs, its SAs and its store stay */
	pair_element_dies(self, store);
	EXPECT_EQ(8, gk_xfrm_sa_list(self->w.he, OWNER, NULL, 0));

	/* and starts again: the registrar takes the binding back, and the element its SAs */
	ASSERT_EQ(0, pair_element_starts(self, variant->family, path, &store, &dropped));
	EXPECT_EQ(1u, gk_registrar_stats(self->w.d.front)->restored);
	EXPECT_EQ(0u, dropped);
	EXPECT_EQ(1u, gk_ipsec_element_stats(self->w.el)->adopted);
	uint32_t index = binding_index(self);
	ASSERT_NE(0u, index);
	struct gk_binding_info bi;
	memset(&bi, 0, sizeof(bi));
	gk_registrar_foreach(self->w.d.front, info_of, &bi);
	EXPECT_EQ(GK_MECH_IPSEC, bi.mech);
	EXPECT_TRUE(gk_ipsec_end_equal(&bi.ipsec_net, &self->t.ipsec_net));

	pair_socks_open(_metadata, self, variant, &k);
	EXPECT_TRUE(arrives(k.e_s, k.t_c, &k.to_t_c, "SIP/2.0 200 OK", WAIT_MS));
	EXPECT_TRUE(arrives(k.t_c, k.e_s, &k.to_e_s, "OPTIONS sip:ss1", WAIT_MS));
	EXPECT_TRUE(arrives(k.e_c, k.t_s, &k.to_t_s, "OPTIONS sip:alice", WAIT_MS));

	/* the binding's end removes what it adopted; the replaced SAs of the interrupted switch
	 * are left to their lifetime (the old binding's, plus the margin) */
	struct gk_msg req, ignored, *resp;
	gk_terminal_deregister(&self->t, &req);
	resp = pair_deliver_protected(&self->w, &req, &self->term, &self->t);
	ASSERT_NE(NULL, resp);
	EXPECT_EQ(0, gk_terminal_on_message(&self->t, resp, &ignored));
	EXPECT_EQ(4, gk_xfrm_sa_list(self->w.he, OWNER, NULL, 0));
	struct gk_ipsec_assoc old_e = {.side = GK_IPSEC_AT_ELEMENT,
	                               .term = self->term,
	                               .net = self->w.net,
	                               .term_end = old_t.term_end,
	                               .net_end = old_t.net_end,
	                               .owner = OWNER};
	EXPECT_EQ(4, gk_ipsec_remove(self->w.he, &old_e)); /* its SAs; its policies went */
	gk_bindstore_close(store);
	unlink(path);
	*strrchr(path, '/') = '\0';
	rmdir(path);
	EXPECT_EQ(8, gk_ipsec_remove(self->ht, &new_t));
	pair_socks_close(&k);
}

/* Attack (an outage): the element restarts and its SAs are gone meanwhile (flushed by hand,
 * or expired). Restoring the binding would leave its protected port without a policy, taking
 * anyone's plaintext from the terminal's address and port-c as the terminal's: the binding is
 * not restored, the store forgets it, and the flow speaks for nobody. */
TEST_F(pair, a_restarted_element_without_the_sas_does_not_restore_the_binding)
{
	struct gk_bindstore *store;
	unsigned dropped;
	char path[64], err[256];
	uint32_t none;

	ESP_CAPABLE_OR_SKIP(variant->family, return );
	snprintf(path, sizeof(path), "%s/gk-pair-gone-%d/bindings",
	         access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", (int)getpid());
	ASSERT_EQ(0, gk_bindstore_open(path, 16, &store, &none, err, sizeof(err)))
	{
		TH_LOG("%s", err);
	}
	gk_registrar_attach_store(self->w.d.front, store, &dropped);
	ASSERT_EQ(0, pair_register(_metadata, self));
	struct sockaddr_storage prot = self->term;
	gk_sockaddr_set_port(&prot, self->t.ipsec_own.port_c);
	EXPECT_EQ(self->t.ipsec_net.port_s, gk_registrar_ipsec_port(self->w.d.front, &prot));

	pair_element_dies(self, store);
	EXPECT_EQ(8, gk_xfrm_flush(self->w.he, OWNER));
	ASSERT_EQ(0, pair_element_starts(self, variant->family, path, &store, &dropped));
	EXPECT_EQ(1u, dropped);
	EXPECT_EQ(0u, gk_registrar_stats(self->w.d.front)->restored);
	EXPECT_EQ(1u, gk_ipsec_element_stats(self->w.el)->adopt_missing);
	EXPECT_EQ(0u, binding_index(self));
	EXPECT_EQ(0, gk_registrar_ipsec_port(self->w.d.front, &prot));
	EXPECT_EQ(0, gk_xfrm_sa_list(self->w.he, OWNER, NULL, 0));
	gk_bindstore_close(store);
	/* the store forgot it: a second start restores nothing */
	ASSERT_EQ(0, gk_bindstore_open(path, 16, &store, &none, err, sizeof(err)));
	EXPECT_EQ(0u, gk_bindstore_count(store));
	gk_bindstore_close(store);
	unlink(path);
	*strrchr(path, '/') = '\0';
	rmdir(path);
}

TEST_HARNESS_MAIN
