// SPDX-License-Identifier: GPL-2.0-only
/*
 * One interface followed through rtnetlink (gatekey/runtime/linkwatch.h), with libnl-route-3:
 * link messages from RTNLGRP_LINK are parsed into rtnl_link objects, and the state read on
 * opening, or afresh after an overrun, comes from rtnl_link_get_kernel.
 *
 * The watcher keeps the index and the operational state it last reported, and reports only
 * changes of them, so it does not matter whether the kernel sent one message or ten, or whether
 * some were lost and the state was read again.
 */
#include <errno.h>
#include <linux/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>

#include "gatekey/runtime/linkwatch.h"
#include "gatekey/runtime/log.h"

/* A burst of link messages (a hundred veths created at once) fits the socket's queue. */
#define RCVBUF (1 << 20)

struct gk_linkwatch {
	struct nl_sock *sk;
	struct nl_cb *cb;
	char ifname[IFNAMSIZ];
	gk_link_fn fn;
	void *user;
	int ifindex; /* as last reported; 0 = no such interface */
	bool up;
	bool lost; /* a read failed: read the state afresh */
	struct gk_linkwatch_stats st;
};

const char *gk_link_event_str(enum gk_link_event ev)
{
	switch (ev) {
	case GK_LINK_GONE:
		return "gone";
	case GK_LINK_NEW:
		return "new";
	case GK_LINK_UP:
		return "up";
	case GK_LINK_DOWN:
		return "down";
	}
	return "?";
}

static bool oper_up(unsigned flags)
{
	return (flags & IFF_UP) && (flags & IFF_RUNNING);
}

static void report(struct gk_linkwatch *w, enum gk_link_event ev)
{
	w->st.events++;
	w->fn(w->user, ev, w->ifindex);
}

/* What the interface is now (ifindex 0: there is none of this name): reports the changes. */
static void become(struct gk_linkwatch *w, int ifindex, bool up)
{
	if (ifindex != w->ifindex) {
		if (w->ifindex) {
			w->ifindex = 0;
			w->up = false;
			report(w, GK_LINK_GONE);
		}
		if (ifindex) {
			w->ifindex = ifindex;
			w->up = false;
			report(w, GK_LINK_NEW);
		}
	}
	if (w->ifindex && up != w->up) {
		w->up = up;
		report(w, up ? GK_LINK_UP : GK_LINK_DOWN);
	}
}

/* The state from the kernel, by name, on a socket of its own (requests on the watching socket
 * would have their answers mixed with the events). */
static int read_state(const char *ifname, int *ifindex, bool *up)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct rtnl_link *link = NULL;
	int rc;

	*ifindex = 0;
	*up = false;
	if (!sk)
		return -ENOMEM;
	rc = nl_connect(sk, NETLINK_ROUTE);
	if (rc == 0)
		rc = rtnl_link_get_kernel(sk, 0, ifname, &link);
	if (rc == 0) {
		*ifindex = rtnl_link_get_ifindex(link);
		*up = oper_up(rtnl_link_get_flags(link));
		rtnl_link_put(link);
	} else if (rc == -NLE_NODEV || rc == -NLE_OBJ_NOTFOUND) {
		rc = 0; /* not there: that is a state too */
	}
	nl_socket_free(sk);
	return rc < 0 ? -EIO : 0;
}

struct parsed {
	struct gk_linkwatch *w;
	int type; /* RTM_NEWLINK or RTM_DELLINK */
};

static void on_link(struct nl_object *obj, void *arg)
{
	struct parsed *p = arg;
	struct gk_linkwatch *w = p->w;
	struct rtnl_link *link = (struct rtnl_link *)obj;
	int ifindex = rtnl_link_get_ifindex(link);
	const char *name = rtnl_link_get_name(link);
	bool ours = name && strcmp(name, w->ifname) == 0;

	if (p->type == RTM_DELLINK) {
		if (ifindex == w->ifindex)
			become(w, 0, false);
		return;
	}
	if (ours)
		become(w, ifindex, oper_up(rtnl_link_get_flags(link)));
	else if (ifindex == w->ifindex)
		become(w, 0, false); /* renamed away: the name is free again */
}

static int on_message(struct nl_msg *msg, void *arg)
{
	struct gk_linkwatch *w = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct parsed p = {.w = w, .type = h->nlmsg_type};

	if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK)
		return NL_SKIP;
	w->st.messages++;
	if (nl_msg_parse(msg, on_link, &p) < 0)
		w->lost = true; /* not understood: the state read afresh says what it was */
	return NL_OK;
}

void gk_linkwatch_read(struct gk_linkwatch *w)
{
	int rc;

	/* A non-blocking socket: nl_recvmsgs_report returns 0 once nothing more is waiting. */
	while ((rc = nl_recvmsgs_report(w->sk, w->cb)) > 0)
		;
	if (rc < 0)
		w->lost = true; /* an overrun (ENOBUFS) or a broken message: events were lost */
	if (w->lost) {
		int ifindex;
		bool up;

		w->lost = false;
		w->st.resyncs++;
		if (read_state(w->ifname, &ifindex, &up) == 0)
			become(w, ifindex, up);
		else
			gk_warn("link %s: its state cannot be read again", w->ifname);
	}
}

int gk_linkwatch_open(struct gk_linkwatch **out, const char *ifname, gk_link_fn fn, void *user,
                      int *ifindex, bool *up, char *err, size_t errlen)
{
	struct gk_linkwatch *w;
	int rc;

	*out = NULL;
	if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ) {
		snprintf(err, errlen, "\"%s\" is not an interface name", ifname ? ifname : "");
		return -EINVAL;
	}
	w = calloc(1, sizeof(*w));
	if (!w || !(w->cb = nl_cb_alloc(NL_CB_DEFAULT)) || !(w->sk = nl_socket_alloc_cb(w->cb))) {
		gk_linkwatch_close(w);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(w->ifname, sizeof(w->ifname), "%s", ifname);
	w->fn = fn;
	w->user = user;
	nl_socket_disable_seq_check(w->sk); /* events carry no sequence of ours */
	nl_cb_set(w->cb, NL_CB_VALID, NL_CB_CUSTOM, on_message, w);
	rc = nl_connect(w->sk, NETLINK_ROUTE);
	if (rc == 0)
		rc = nl_socket_add_membership(w->sk, RTNLGRP_LINK);
	if (rc == 0)
		rc = nl_socket_set_nonblocking(w->sk);
	if (rc == 0)
		rc = nl_socket_set_buffer_size(w->sk, RCVBUF, 0);
	if (rc < 0) {
		snprintf(err, errlen, "rtnetlink: %s", nl_geterror(rc));
		gk_linkwatch_close(w);
		return -EIO;
	}
	/* Joined before reading, so that no change falls between the read and the events. */
	if (read_state(w->ifname, &w->ifindex, &w->up) < 0) {
		snprintf(err, errlen, "rtnetlink: cannot read the state of %s", ifname);
		gk_linkwatch_close(w);
		return -EIO;
	}
	if (ifindex)
		*ifindex = w->ifindex;
	if (up)
		*up = w->up;
	*out = w;
	return 0;
}

int gk_linkwatch_fd(const struct gk_linkwatch *w)
{
	return nl_socket_get_fd(w->sk);
}

const struct gk_linkwatch_stats *gk_linkwatch_stats(const struct gk_linkwatch *w)
{
	return &w->st;
}

void gk_linkwatch_close(struct gk_linkwatch *w)
{
	if (!w)
		return;
	if (w->sk)
		nl_socket_free(w->sk);
	if (w->cb)
		nl_cb_put(w->cb);
	free(w);
}
