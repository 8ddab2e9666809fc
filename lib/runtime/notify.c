// SPDX-License-Identifier: GPL-2.0-only
/*
 * notify.h: systemd's readiness, status and watchdog protocol for the daemons, over libsystemd's
 * sd_notify. The watchdog is a timer on the daemon's loop rather than a thread: WATCHDOG=1 goes
 * out only while the loop turns, which is the liveness systemd should judge.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "gatekey/runtime/log.h"
#include "gatekey/runtime/notify.h"

static struct {
	struct gk_loop *loop; /* set while the watchdog timer is armed */
	struct gk_timer timer;
	uint64_t period_ms;
} wd;

/* Whether systemd listens: checked on every call, since the check is one getenv. */
static bool notifying(void)
{
	return getenv("NOTIFY_SOCKET") != NULL;
}

static void vstatus(const char *prefix, const char *fmt, va_list ap)
{
	char status[512];

	vsnprintf(status, sizeof(status), fmt, ap);
	if (sd_notifyf(0, "%sSTATUS=%s", prefix, status) < 0)
		gk_warn("sd_notify: cannot reach systemd at %s", getenv("NOTIFY_SOCKET"));
}

static void watchdog_tick(struct gk_timer *t)
{
	sd_notify(0, "WATCHDOG=1");
	gk_timer_arm(wd.loop, t, wd.period_ms);
}

void gk_notify_ready(struct gk_loop *l, const char *fmt, ...)
{
	uint64_t usec = 0;
	va_list ap;

	if (!notifying())
		return;
	va_start(ap, fmt);
	vstatus("READY=1\n", fmt, ap);
	va_end(ap);
	/* > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID, if set, is this process */
	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return;
	wd.loop = l;
	wd.period_ms = usec / 2000 ? usec / 2000 : 1;
	wd.timer.fn = watchdog_tick;
	sd_notify(0, "WATCHDOG=1");
	/* The loop's clock is the one it read last (gk_loop_new, before a slow start such as an
	 * XDP load): a period from now is that much further on it. */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	uint64_t behind = now > gk_loop_now(l) ? now - gk_loop_now(l) : 0;
	gk_timer_arm(l, &wd.timer, wd.period_ms + behind);
	gk_info("systemd watchdog: WATCHDOG=1 every %llu ms", (unsigned long long)wd.period_ms);
}

void gk_notify_stopping(void)
{
	if (wd.loop) {
		gk_timer_cancel(wd.loop, &wd.timer);
		wd.loop = NULL;
	}
	if (notifying())
		sd_notify(0, "STOPPING=1");
}
