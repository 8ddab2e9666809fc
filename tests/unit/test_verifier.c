// SPDX-License-Identifier: GPL-2.0-only
/*
 * The XDP program's verifier budget. Each program of the object, built by each compiler that
 * `make check` builds it with (clang-14 and clang-19) and as embedded in libgatekey, is loaded on
 * its own with the kernel's verifier statistics, and must verify within GK_VERIFIER_BUDGET
 * processed instructions: a fifth of the kernel's limit, so that another kernel's pruning or
 * another compiler's code cannot push it over (one version of the program sat at the limit,
 * loaded on one kernel and was refused on the next). Prints each program's figures.
 *
 * Skips only where the capability is absent (not root, no BTF, no XDP); on a machine that has
 * it, a program that does not load fails, quoting the end of the verifier's log.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"

#include "helper_xdp.h"

#include "gatekey/fastpath/xdp.h"

#define GK_VERIFIER_BUDGET 200000u

struct seen {
	struct __test_metadata *meta;
	const char *label;
	int programs;
	int main_seen;
};

static int check_one(const struct gk_xdp_verifier_stats *st, void *arg)
{
	struct seen *s = arg;
	struct __test_metadata *_metadata = s->meta;

	s->programs++;
	s->main_seen |= strcmp(st->prog, "gk_xdp") == 0;
	/* The figures, for the log of every run, not only of a failing one. */
	fprintf(stderr,
	        "# verifier %s %s: %llu processed insns (budget %u), %llu states (peak %llu), "
	        "%llu us\n",
	        s->label, st->prog, (unsigned long long)st->insns, GK_VERIFIER_BUDGET,
	        (unsigned long long)st->total_states, (unsigned long long)st->peak_states,
	        (unsigned long long)st->usec);
	EXPECT_EQ(0, st->err)
	{
		TH_LOG("%s %s refused (%s); the verifier's last lines:\n%s", s->label, st->prog,
		       strerror(-st->err), gk_xdp_load_log());
	}
	EXPECT_GT(st->insns, 0u)
	TH_LOG("%s %s: no statistics in the verifier's log", s->label, st->prog);
	EXPECT_LE(st->insns, GK_VERIFIER_BUDGET)
	{
		TH_LOG("%s %s: %llu processed instructions, over the budget of %u", s->label,
		       st->prog, (unsigned long long)st->insns, GK_VERIFIER_BUDGET);
	}
	return 0;
}

static void check_object(struct __test_metadata *_metadata, const char *path, const char *label)
{
	struct seen s = {.meta = _metadata, .label = label};
	int n;

	XDP_CAPABLE_OR_SKIP(return );
	if (path)
		ASSERT_EQ(0, access(path, R_OK))
		{
			TH_LOG("%s: %s (make check builds it)", path, strerror(errno));
		}
	n = gk_xdp_verifier_stats(path, check_one, &s);
	ASSERT_LT(0, n) TH_LOG("%s: cannot open the object: %s", label, strerror(-n));
	EXPECT_EQ(1, s.main_seen) TH_LOG("%s: no program gk_xdp in the object", label);
}

/* The object built by compiler cc for the budget check: $GK_BUILD/bpf/verify/gatekey.<cc>.bpf.o */
static void check_compiler(struct __test_metadata *_metadata, const char *cc)
{
	const char *build = getenv("GK_BUILD");
	char path[4096];

	snprintf(path, sizeof(path), "%s/bpf/verify/gatekey.%s.bpf.o", build ? build : "build", cc);
	check_object(_metadata, path, cc);
}

TEST(embedded_object_within_budget)
{
	check_object(_metadata, NULL, "embedded");
}

TEST(clang14_object_within_budget)
{
	check_compiler(_metadata, "clang-14");
}

TEST(clang19_object_within_budget)
{
	check_compiler(_metadata, "clang-19");
}

TEST_HARNESS_MAIN
