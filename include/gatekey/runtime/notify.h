/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The daemons' side of systemd's Type=notify (sd_notify(3) through libsystemd): READY=1 once the
 * listeners are open and the loop is about to run, a STATUS= line for `systemctl status`,
 * STOPPING=1 on the way out, and WATCHDOG=1 from a timer on the daemon's own event loop, so that a
 * loop that stops turning (a callback stuck, a ring error) is what systemd sees as hung. Without
 * NOTIFY_SOCKET in the environment (not started by systemd) every call is a no-op.
 */
#ifndef GATEKEY_NOTIFY_H
#define GATEKEY_NOTIFY_H

#include "gatekey/runtime/loop.h"

/* READY=1 with STATUS=<fmt...>, and, when the service has a watchdog (WatchdogSec=, seen through
 * WATCHDOG_USEC), a repeating timer on l sending WATCHDOG=1 at half its interval. Call once, just
 * before gk_loop_run. */
void gk_notify_ready(struct gk_loop *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* STOPPING=1, and the watchdog timer cancelled: call once gk_loop_run has returned, before
 * gk_loop_free. */
void gk_notify_stopping(void);

#endif
