/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Driving a daemon's io_uring loop from a test: run it until a condition holds, polled every
 * millisecond, or until the test gives up. Tests wait on outcomes this way, never by sleeping.
 * Also what the process holds in RAM, for the tests that measure the loop's buffers.
 */
#ifndef GATEKEY_TEST_HELPER_LOOP_H
#define GATEKEY_TEST_HELPER_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "gatekey/runtime/loop.h"

/* Runs loop until done(arg) holds or give_up_ms has passed; true when done held. */
bool run_until(struct gk_loop *loop, bool (*done)(void *arg), void *arg, uint64_t give_up_ms);

/* Resident memory: what this process holds in RAM (/proc/self/statm, field 2), in KiB; -1 when
 * unreadable. */
long rss_kib(void);

#endif
