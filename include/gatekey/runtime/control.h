/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The control socket every daemon offers for inspection (gkctl stats/bindings): a UNIX datagram
 * socket, one command per datagram ("stats", "bindings", ...), answered with exactly one datagram
 * of text lines whose last line is ".end" (the answer is complete) or ".more CURSOR" (a page of a
 * listing: ask "COMMAND after CURSOR" for the next one). Served on the daemon's io_uring loop.
 *
 * A page and its cursor travel in one datagram, so a reply lost to a full socket is a missing
 * answer (the client times out), never a silently skipped page. A listing's cursor is the
 * position of the last item sent; positions are stable while an item exists (a binding's slot
 * index), so a walk resumed after the cursor neither repeats nor skips an item that stays.
 */
#ifndef GATEKEY_CONTROL_H
#define GATEKEY_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gatekey/runtime/loop.h"

/* The largest reply datagram, and so a listing's page. 250,000 bindings (25 MB of lines) are 194
 * pages, dumped in about 0.2 s (tests/unit/test_control.c). Medians on a busy 2-CPU host: 4 KiB
 * pages 455 ms, 16 KiB 289, 64 KiB 252, 128 KiB 202, 200 KiB 230; the daemon's loop is held
 * for one page at a time, 0.25 ms at 64 KiB, 0.5 at 128, 1 at 200. AF_UNIX takes a datagram up
 * to the sender's SO_SNDBUF less 32 bytes, and replies not yet read count against it: a daemon
 * asks for two pages' worth and, if the host's net.core.wmem_max grants less, sends smaller
 * pages (gk_control_page). A client receives into this many bytes. */
#define GK_CTL_PAGE_MAX (128 * 1024)

struct gk_control;
struct gk_ctl_reply;

typedef void (*gk_ctl_fn)(void *user, const char *args, struct gk_ctl_reply *out);

/* Binds path (replacing a stale socket file), mode 0600. NULL with err on failure. */
struct gk_control *gk_control_new(struct gk_loop *loop, const char *path, char *err, size_t errlen);
void gk_control_free(struct gk_control *c);
int gk_control_add(struct gk_control *c, const char *command, gk_ctl_fn fn, void *user);
/* The size of this socket's reply datagrams: GK_CTL_PAGE_MAX, or less on a host whose
 * net.core.wmem_max does not allow that. */
size_t gk_control_page(const struct gk_control *c);

/* Adds one line (a missing '\n' is supplied). A reply is one datagram: a line that does not fit
 * is left out, with every line after it, and the reply ends with an error line saying so. */
void gk_ctl_printf(struct gk_ctl_reply *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Runs a command's fn (as registered with gk_control_add) into buf instead of a datagram: its
 * lines, each ended by '\n', then a NUL. Returns the length; lines that do not fit are left
 * out as in a reply, and *cut (unless NULL) says so. /metrics renders `stats` this way
 * (metrics.h), so that the two never differ. */
size_t gk_ctl_render(gk_ctl_fn fn, void *user, const char *args, char *buf, size_t cap, bool *cut);

/* Every live stepped table of the process (runtime/steps.h), six lines each, then their total:
 *   tables.<key>.capacity  entries resident now     tables.<key>.bytes  bytes resident now
 *   tables.<key>.max       entries at most          tables.<key>.first  entries of the first step
 *   tables.<key>.steps     steps after the first    tables.<key>.peak   most entries needed at once
 *   tables.bytes           the resident bytes of all of them
 * A step is explained by the peak when the peak is past the capacity before it, first * 2^(steps
 * - 1) (at most max): tools/soak.sh checks that. */
void gk_ctl_tables(struct gk_ctl_reply *out);

/*
 * A listing in pages: item(user, after, &pos, out) prints the first item whose position is above
 * `after` as one line (gk_ctl_printf), sets *pos to that position and returns true; false when no
 * item is left. Positions are above 0 and stay an item's while it exists.
 * gk_ctl_list serves a command's args, "" (from the start) or "after CURSOR": it fills the reply
 * with whole lines until the next does not fit, then ends it with ".more" and the last position
 * sent; after the last item, with ".end". Anything else in args gets an error line.
 */
typedef bool (*gk_ctl_item_fn)(void *user, uint64_t after, uint64_t *pos, struct gk_ctl_reply *out);
void gk_ctl_list(struct gk_ctl_reply *out, const char *args, gk_ctl_item_fn item, void *user);

/* Client side (gkctl, tests): sends one command and writes the reply lines to fd, without the
 * ".end"/".more" lines. A listing is followed page after page ("COMMAND after CURSOR") until its
 * end; timeout_ms applies to each page. A request left unanswered is sent again after 250 ms,
 * then after each doubled wait (the commands only read; a page answered twice is taken once: the
 * next request goes from a new socket). pages, unless NULL, gets the number of reply datagrams
 * read. Returns 0, or -1 with err. */
int gk_control_query(const char *path, const char *command, int fd, int timeout_ms, unsigned *pages,
                     char *err, size_t errlen);

#endif
