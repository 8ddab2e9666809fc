// SPDX-License-Identifier: GPL-2.0-only
/*
 * The soak's growth checks (tools/soak-growth.awk), fed made-up runs: the ten-minute soak itself
 * needs network namespaces and ten minutes, and its verdict on growth is only as good as these
 * few lines of awk. The runs are shaped after the ten-minute one at 6929733 (docs/durability.md),
 * where sbcd's RSS stepped from 191,000 to 226,016 kB at 470 s with every table size flat: its
 * relay slots had stepped from 512 to 4,096 (34,664 kB) for a peak of requests waiting on the
 * core. With the tables' accounting that is growth towards a maximum, and passes; the same RSS
 * with the tables flat is a leak, and so is a step no peak needed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helper_tool.h"

#define RELAY_SLOT 9904 /* bytes of a relay slot (struct slot in lib/exchange/relay.c) */

/* One made-up run: samples every 10 s to 600 s, the warm-up ending at 120 s. */
struct run {
	long rss_step_kb;      /* RSS from 470 s on is this much higher */
	long tables_step_kb;   /* and the tables' bytes this much */
	unsigned relay_after;  /* the relay's capacity from 470 s on (512 before) */
	unsigned peak_after;   /* its peak from 470 s on (354 before) */
	unsigned fds_after;    /* fds from 470 s on (38 before) */
	bool no_tables;        /* the stats list no table */
	bool unreadable_table; /* one sample of tables_kb is -1 */
	enum {
		WAITING_BREATHES, /* relay_waiting goes up and down with the rounds */
		WAITING_PEAKS,    /* and once, after the warm-up, well above its earlier peaks */
		WAITING_CLIMBS,   /* or it climbs: entries never let go */
	} waiting;
};

/* Requests waiting in the relay at sample t. */
static unsigned relay_waiting(const struct run *r, unsigned t)
{
	unsigned breathing = 100 + (t * 7) % 150;

	switch (r->waiting) {
	case WAITING_PEAKS:
		return t == 500 ? 600 : breathing;
	case WAITING_CLIMBS:
		return breathing + (t > 120 ? (t - 120) * 2 : 0);
	default:
		return breathing;
	}
}

FIXTURE(soak)
{
	char dir[64], out[16384];
};

FIXTURE_SETUP(soak)
{
	snprintf(self->dir, sizeof(self->dir), "/tmp/gk-test-soak-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
}

FIXTURE_TEARDOWN(soak)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/soak.tsv", self->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/soak-tables.tsv", self->dir);
	unlink(path);
	rmdir(self->dir);
}

static unsigned steps_to(unsigned cap)
{
	unsigned s = 0;

	for (unsigned c = 64; c < cap; c *= 2)
		s++;
	return s;
}

/* Writes the run's two files and runs the checks on them: awk's exit status. */
static int check_run(char *dir, const struct run *r, char *out, size_t cap)
{
	char path[128], repo[4096], cmd[8192];
	FILE *f, *g;

	snprintf(path, sizeof(path), "%s/soak.tsv", dir);
	f = fopen(path, "w");
	snprintf(path, sizeof(path), "%s/soak-tables.tsv", dir);
	g = fopen(path, "w");
	if (!f || !g)
		return -1;
	fprintf(f, "t sbcd_rss_kb sbcd_tables_kb sbcd_fds sbcd.relay_waiting\n");
	fprintf(g, "t daemon table capacity bytes max first steps peak\n");
	for (unsigned t = 0; t <= 600; t += 10) {
		bool late = t >= 470;
		unsigned relay = late ? r->relay_after : 512, peak = late ? r->peak_after : 354;
		long tables = 40000 + (late ? r->tables_step_kb : 0);

		if (r->unreadable_table && t == 300)
			tables = -1;
		fprintf(f, "%u %ld %ld %u %u\n", t, 191000 + (late ? r->rss_step_kb : 0), tables,
		        late ? r->fds_after : 38, relay_waiting(r, t));
		if (r->no_tables)
			continue;
		fprintf(g, "%u sbcd relay %u %lu 16385 64 %u %u\n", t, relay,
		        (unsigned long)relay * RELAY_SLOT, steps_to(relay), peak);
		fprintf(g, "%u sbcd unbound 8192 2097152 262145 1024 3 5000\n", t);
	}
	fclose(f);
	fclose(g);
	snprintf(cmd, sizeof(cmd),
	         "awk -v warm=120 -v end=611 -f %s %s/soak.tsv %s/soak-tables.tsv 2>&1",
	         repo_path(repo, sizeof(repo), "tools/soak-growth.awk"), dir, dir);
	return tool_output(cmd, out, cap);
}

/* What the checks printed has (or has not) this text; all of it is shown when not. */
#define EXPECT_SAID(text)     EXPECT_NE(NULL, strstr(self->out, text)) TH_LOG("%s", self->out)
#define EXPECT_NOT_SAID(text) EXPECT_EQ(NULL, strstr(self->out, text)) TH_LOG("%s", self->out)

/* That run with its tables accounted: the relay's steps explain RSS's, and are reported. */
TEST_F(soak, a_step_towards_a_tables_maximum_is_explained_growth)
{
	const struct run r = {.rss_step_kb = 35016,
	                      .tables_step_kb = 34664,
	                      .relay_after = 4096,
	                      .peak_after = 2301,
	                      .fds_after = 38};

	ASSERT_EQ(0, check_run(self->dir, &r, self->out, sizeof(self->out)));
	EXPECT_NOT_SAID("FAIL");
	EXPECT_SAID("soak growth sbcd tables.relay: 512 -> 4096 entries (max 16385), +34664 kB, "
	            "peak 2301\n");
	EXPECT_SAID(
	    "soak check ok sbcd_rss_kb grew after the warm-up only as its tables stepped "
	    "towards their maximum: 191000, then 226016; tables +34664 kB (limit 231532)\n");
	EXPECT_SAID("soak check ok sbcd_fds flat after the warm-up: 38, then 38\n");
	EXPECT_SAID("soak check ok sbcd.relay_waiting flat");
	EXPECT_SAID(
	    "soak check ok sbcd: each step of its 2 stepped tables was needed by their peak "
	    "of use\n");
	EXPECT_NOT_SAID("tables_kb flat"); /* RSS's explanation, not a check of its own */
}

/* The same RSS while no table stepped: a leak, as the soak of then called it. */
TEST_F(soak, growth_the_tables_do_not_explain_is_a_leak)
{
	const struct run r = {
	    .rss_step_kb = 35016, .relay_after = 512, .peak_after = 354, .fds_after = 38};

	ASSERT_EQ(0, check_run(self->dir, &r, self->out, sizeof(self->out)));
	EXPECT_SAID("soak check FAIL sbcd_rss_kb grew after the warm-up more than its tables took: "
	            "191000, then 226016; tables +0 kB (limit 196868): unexplained growth\n");
	EXPECT_NOT_SAID("soak growth");
	EXPECT_SAID("soak check ok sbcd: each step");
}

/* Tables that stepped by less than RSS grew explain that much, and the slack (2 % and 2 MB)
 * no more; growth within the slack is flat. */
TEST_F(soak, only_the_slack_is_left_unexplained)
{
	struct run r = {.rss_step_kb = 35016,
	                .tables_step_kb = 34664 - 9904 - 4952,
	                .relay_after = 4096,
	                .peak_after = 2301,
	                .fds_after = 38};

	ASSERT_EQ(0, check_run(self->dir, &r, self->out, sizeof(self->out)));
	EXPECT_SAID("soak check FAIL sbcd_rss_kb grew after the warm-up more than its tables took");
	r = (struct run){
	    .rss_step_kb = 5800, .relay_after = 512, .peak_after = 354, .fds_after = 38};
	ASSERT_EQ(0, check_run(self->dir, &r, self->out, sizeof(self->out)));
	EXPECT_SAID("soak check ok sbcd_rss_kb flat after the warm-up: 191000, then 196800\n");
}

/* A step past what the peak of use needed (the relay at 4,096 slots while no more than 1,000
 * requests ever waited) fails, even when RSS is explained by it. */
TEST_F(soak, a_step_no_peak_needed_fails)
{
	const struct run r = {.rss_step_kb = 35016,
	                      .tables_step_kb = 34664,
	                      .relay_after = 4096,
	                      .peak_after = 1000,
	                      .fds_after = 38};

	ASSERT_EQ(0, check_run(self->dir, &r, self->out, sizeof(self->out)));
	EXPECT_SAID(
	    "soak check FAIL sbcd: a table stepped with no peak of use that needed it: relay "
	    "(4096 of 16385 entries after 6 steps, peak 1000, 2048 before the last step, at "
	    "470 s)\n");
	EXPECT_SAID("soak check ok sbcd_rss_kb grew after the warm-up only");
}

/* A table's size breathes: a peak after the warm-up well above every earlier one is load, not a
 * leak (registrations in progress once read 100, then 227, in make check's 60-second soak). A
 * table whose typical size climbs holds entries it never lets go. */
TEST_F(soak, a_table_that_climbs_fails_and_a_peak_does_not)
{
	struct run r = {
	    .relay_after = 512, .peak_after = 354, .fds_after = 38, .waiting = WAITING_PEAKS};

	ASSERT_EQ(0, check_run(self->dir, &r, self->out, sizeof(self->out)));
	EXPECT_SAID("soak check ok sbcd.relay_waiting flat after the warm-up: median 170, then "
	            "180\n");
	r.waiting = WAITING_CLIMBS;
	ASSERT_EQ(0, check_run(self->dir, &r, self->out, sizeof(self->out)));
	EXPECT_SAID("soak check FAIL sbcd.relay_waiting grew after the warm-up: median 400, then "
	            "910 (limit 564)\n");
}

/* The checks that were there stay: fds that grow fail; a sample that cannot be read fails; a
 * daemon whose stats list no table fails (not this build, or the accounting is gone). */
TEST_F(soak, fds_unread_samples_and_missing_tables_fail)
{
	struct run r = {.relay_after = 512, .peak_after = 354, .fds_after = 60};

	ASSERT_EQ(0, check_run(self->dir, &r, self->out, sizeof(self->out)));
	EXPECT_SAID("soak check FAIL sbcd_fds grew after the warm-up: 38, then 60 (limit 42)\n");
	r = (struct run){
	    .relay_after = 512, .peak_after = 354, .fds_after = 38, .unreadable_table = true};
	ASSERT_EQ(0, check_run(self->dir, &r, self->out, sizeof(self->out)));
	EXPECT_SAID(
	    "soak check FAIL sbcd_rss_kb: a sample of RSS or of its tables (sbcd_tables_kb) "
	    "could not be read\n");
	r = (struct run){.relay_after = 512, .peak_after = 354, .fds_after = 38, .no_tables = true};
	ASSERT_EQ(0, check_run(self->dir, &r, self->out, sizeof(self->out)));
	EXPECT_SAID("soak check FAIL sbcd: its stats list no stepped table (tables.*)\n");
}

TEST_HARNESS_MAIN
