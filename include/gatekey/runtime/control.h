/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The control socket every daemon offers for inspection (gkctl stats/bindings): a UNIX datagram
 * socket, one command per datagram ("stats", "bindings", ...), answered with text lines in as many
 * datagrams as needed and a final datagram ".end". Served on the daemon's io_uring loop.
 */
#ifndef GATEKEY_CONTROL_H
#define GATEKEY_CONTROL_H

#include <stddef.h>

#include "gatekey/runtime/loop.h"

struct gk_control;
struct gk_ctl_reply;

typedef void (*gk_ctl_fn)(void *user, const char *args, struct gk_ctl_reply *out);

/* Binds path (replacing a stale socket file), mode 0600. NULL with err on failure. */
struct gk_control *gk_control_new(struct gk_loop *loop, const char *path, char *err, size_t errlen);
void gk_control_free(struct gk_control *c);
int gk_control_add(struct gk_control *c, const char *command, gk_ctl_fn fn, void *user);
void gk_ctl_printf(struct gk_ctl_reply *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Client side (gkctl, tests): sends one command and writes the reply lines to fd.
 * Returns 0, or -1 with err. */
int gk_control_query(const char *path, const char *command, int fd, int timeout_ms, char *err,
                     size_t errlen);

#endif
