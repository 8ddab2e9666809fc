// SPDX-License-Identifier: GPL-2.0-only
/* Running a loop until a test's condition holds (helper_loop.h). */
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#include "helper_loop.h"

struct waiter {
	struct gk_timer poll;
	struct gk_loop *loop;
	bool (*done)(void *arg);
	void *arg;
	uint64_t give_up_at;
	bool ok;
};

static void poll_fn(struct gk_timer *t)
{
	struct waiter *w = (struct waiter *)((char *)t - offsetof(struct waiter, poll));
	w->ok = w->done(w->arg);
	if (w->ok || gk_loop_now(w->loop) >= w->give_up_at)
		gk_loop_stop(w->loop);
	else
		gk_timer_arm(w->loop, &w->poll, 1);
}

bool run_until(struct gk_loop *loop, bool (*done)(void *), void *arg, uint64_t give_up_ms)
{
	struct waiter w = {.poll.fn = poll_fn, .loop = loop, .done = done, .arg = arg};

	w.give_up_at = gk_loop_now(loop) + give_up_ms;
	gk_timer_arm(loop, &w.poll, 1);
	if (gk_loop_run(loop) < 0)
		return false;
	gk_timer_cancel(loop, &w.poll);
	return w.ok;
}

long rss_kib(void)
{
	long size, resident;
	FILE *f = fopen("/proc/self/statm", "r");
	int n = f ? fscanf(f, "%ld %ld", &size, &resident) : 0;

	if (f)
		fclose(f);
	return n == 2 ? resident * (sysconf(_SC_PAGESIZE) / 1024) : -1;
}
