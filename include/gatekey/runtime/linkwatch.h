/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One network interface followed by name through rtnetlink (libnl-route-3): an element that
 * serves an interface (sbcd's access interface, with XDP on it and sockets bound to it) learns
 * when it goes down, comes back, or is deleted and created again under the same name, which
 * gives it a new index that nothing bound to the old one follows.
 *
 * The watcher holds a non-blocking netlink socket in RTNLGRP_LINK; its owner puts the socket in
 * its loop (gk_linkwatch_fd, gk_loop_on_readable) and calls gk_linkwatch_read when it is
 * readable. Events are reported as changes of what the watcher last knew, so a burst of
 * messages, or a resynchronisation after the kernel dropped some (ENOBUFS), never reports the
 * same state twice.
 */
#ifndef GATEKEY_LINKWATCH_H
#define GATEKEY_LINKWATCH_H

#include <stdbool.h>
#include <stdint.h>

enum gk_link_event {
	GK_LINK_GONE = 1, /* deleted, or renamed away */
	GK_LINK_NEW,      /* an interface of this name appeared, with a new index */
	GK_LINK_UP,       /* operationally up: administratively up with carrier */
	GK_LINK_DOWN,
};

const char *gk_link_event_str(enum gk_link_event ev);

/* ifindex: the interface's index now (0 for GK_LINK_GONE). */
typedef void (*gk_link_fn)(void *user, enum gk_link_event ev, int ifindex);

struct gk_linkwatch_stats {
	uint64_t messages; /* link messages read, about any interface */
	uint64_t events;   /* reported to the owner */
	uint64_t resyncs;  /* the kernel dropped messages (or a read failed): state read afresh */
};

struct gk_linkwatch;

/* Watches ifname. Reads its state once, so that later events are changes of it: *ifindex and
 * *up (either may be NULL) say what it is now (0 and false when there is no such interface).
 * -errno, with err saying what failed. */
int gk_linkwatch_open(struct gk_linkwatch **out, const char *ifname, gk_link_fn fn, void *user,
                      int *ifindex, bool *up, char *err, size_t errlen);
int gk_linkwatch_fd(const struct gk_linkwatch *w);
/* Reads every message waiting and reports what changed. */
void gk_linkwatch_read(struct gk_linkwatch *w);
const struct gk_linkwatch_stats *gk_linkwatch_stats(const struct gk_linkwatch *w);
void gk_linkwatch_close(struct gk_linkwatch *w);

#endif
