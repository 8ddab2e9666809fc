// SPDX-License-Identifier: GPL-2.0-only
/*
 * make bench's ipsec-3gpp figures (tools/bench-ipsec.sh runs this in the guest of tests/vm/run.sh,
 * whose kernel has ESP): N terminals (default 24)
 * register through sbcd in the rig of ipsec_rig.h, once with gk-mac and once with ipsec-3gpp, the
 * same gkterm in the same guest, and deregister. Prints, never asserts on time: bench
 * reg_rate_gkmac_sbc_guest <n> reg/s      the baseline, in the same guest bench reg_rate_ipsec_sbc
 * <n> reg/s bench reg_rate_ipsec_vs_gkmac_sbc <r> ratio   what the SAs cost a registration, in
 * proportion bench ipsec_setup_per_registration_us <n> us  sbcd's time in the kernel installing a
 *                                                 registration's four SAs and policies
 * The guest is emulated (TCG) where the host has no usable KVM: its absolute figures are far below
 * the host's, and only the ratio and the setup time's share of a registration carry over. It
 * asserts that every registration completed, with the mechanism asked for.
 */
#include "ipsec_rig.h"

static unsigned bench_n = 24;

/* gkterm's "summary ... rate=R reg/s ..." value in log, and its registered= count. */
static double summary_rate(const char *log, unsigned long *registered)
{
	char line[512];
	double rate = 0;
	FILE *f = fopen(log, "r");

	*registered = 0;
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "summary ", 8) != 0)
			continue;
		const char *r = strstr(line, " rate="), *g = strstr(line, " registered=");
		if (r)
			rate = strtod(r + 6, NULL);
		if (g)
			*registered = strtoul(g + 12, NULL, 10);
	}
	if (f)
		fclose(f);
	return rate;
}

/* sbcd's refusals and ipsec counters, as "#" lines: what a shortfall came from. */
static void stats_print(FIXTURE_DATA(rig) * self, const char *sock)
{
	char *argv[] = {"gkctl", "ctl", (char *)sock, "stats", NULL};
	char path[128], line[256];

	snprintf(path, sizeof(path), "%s/stats.txt", self->dir);
	run(self->ns_home, path, argv, 10000);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "reason.", 7) == 0 || strncmp(line, "ipsec.", 6) == 0 ||
		    strncmp(line, "rejects", 7) == 0 || strncmp(line, "registrations", 13) == 0)
			printf("# sbcd %s", line);
	if (f)
		fclose(f);
}

TEST_F_TIMEOUT(rig, registrations_with_and_without_ipsec, 1800)
{
	char n[16], log[96], sock[96];
	unsigned long reg_gkmac, reg_ipsec;

	if (rig_skips(variant))
		return; /* the bench is sbc_sip's */
	ESP_CAPABLE_OR_SKIP(AF_INET, return );
	snprintf(n, sizeof(n), "%u", bench_n);
	snprintf(sock, sizeof(sock), "%s", self->elem_sock);
	ASSERT_EQ(0,
	          gkctl(self, (const char *[]){"bulk-add", "b", n, "--out-dir", self->dir, NULL}));
	const char *gkmac[] = {"--prefix",     "b",         "--count", n, "--mechanisms", "gk-mac",
	                       "--deregister", "--timeout", "600"};
	snprintf(log, sizeof(log), "%s/gkterm-gkmac.log", self->dir);
	EXPECT_EQ(0, wait_exit(gkterm(self, variant, log, gkmac, 9), 620000)) print_file(log);
	double gkmac_rate = summary_rate(log, &reg_gkmac);
	EXPECT_EQ(bench_n, reg_gkmac);

	const char *ipsec[] = {"--prefix", "b", "--count", n, "--deregister", "--timeout", "600"};
	snprintf(log, sizeof(log), "%s/gkterm-ipsec.log", self->dir);
	EXPECT_EQ(0, wait_exit(gkterm(self, variant, log, ipsec, 7), 620000)) print_file(log);
	double ipsec_rate = summary_rate(log, &reg_ipsec);
	EXPECT_EQ(bench_n, reg_ipsec);
	long installed = ctl_stat(self, sock, "ipsec.installed"),
	     install_us = ctl_stat(self, sock, "ipsec.install_us");
	EXPECT_EQ((long)bench_n, installed);
	EXPECT_EQ((long)bench_n, ctl_stat(self, sock, "ipsec.removed"));
	struct gk_xfrm_sa_info left[4];
	EXPECT_EQ(0, sas(self->he, variant->owner, left, 4)); /* deregistered: none left */

	stats_print(self, sock);
	printf("bench reg_rate_gkmac_sbc_guest %.0f reg/s\n", gkmac_rate);
	printf("bench reg_rate_ipsec_sbc %.0f reg/s\n", ipsec_rate);
	if (gkmac_rate > 0)
		printf("bench reg_rate_ipsec_vs_gkmac_sbc %.2f ratio\n", ipsec_rate / gkmac_rate);
	if (installed > 0)
		printf("bench ipsec_setup_per_registration_us %.0f us\n",
		       (double)install_us / (double)installed);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	if (argc == 2 && atoi(argv[1]) > 0)
		bench_n = (unsigned)atoi(argv[1]);
	else if (argc != 1) {
		fprintf(stderr, "usage: %s [TERMINALS]\n", argv[0]);
		return 2;
	}
	rig_only_proto = "sip";
	rig_only_topo = "sbc";
	rig_max_terminals = bench_n + 16;
	return test_harness_run(argc, argv);
}
