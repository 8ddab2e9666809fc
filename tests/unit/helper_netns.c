// SPDX-License-Identifier: GPL-2.0-only
/* A two-namespace rig's pieces for the tests (helper_netns.h). */
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_addr.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>

#include "helper_netns.h"

int helper_lo_up(void)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
	if (rc == 0) {
		ifr.ifr_flags |= IFF_UP;
		rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	rc = rc ? -errno : 0;
	close(fd);
	return rc;
}

int helper_veth_to(const char *here, const char *there, int ns_there)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct rtnl_link *veth = rtnl_link_veth_alloc();
	int rc = -ENOMEM;

	if (sk && veth && nl_connect(sk, NETLINK_ROUTE) == 0) {
		struct rtnl_link *peer = rtnl_link_veth_get_peer(veth);
		rtnl_link_set_name(veth, here);
		rtnl_link_set_name(peer, there);
		rtnl_link_set_ns_fd(peer, ns_there);
		rtnl_link_put(peer);
		rc = rtnl_link_add(sk, veth, NLM_F_CREATE | NLM_F_EXCL) < 0 ? -EIO : 0;
	}
	rtnl_link_veth_release(veth);
	nl_socket_free(sk);
	return rc;
}

int helper_link_delete(const char *ifname)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct rtnl_link *link = rtnl_link_alloc();
	int rc = -ENOMEM;

	if (sk && link && nl_connect(sk, NETLINK_ROUTE) == 0) {
		rtnl_link_set_name(link, ifname);
		rc = rtnl_link_delete(sk, link) < 0 ? -ENODEV : 0;
	}
	rtnl_link_put(link);
	nl_socket_free(sk);
	return rc;
}

int helper_link_address_up(const char *ifname, int family, const char *ip, int prefix)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct rtnl_link *link = NULL, *change = rtnl_link_alloc();
	struct rtnl_addr *addr = rtnl_addr_alloc();
	struct nl_addr *local = NULL;
	char text[64];
	int rc = -ENOMEM;

	if (!sk || !change || !addr || nl_connect(sk, NETLINK_ROUTE) < 0)
		goto out;
	rc = -ENODEV;
	if (rtnl_link_get_kernel(sk, 0, ifname, &link) < 0)
		goto out;
	snprintf(text, sizeof(text), "%s/%d", ip, prefix);
	rc = -EINVAL;
	if (nl_addr_parse(text, family, &local) < 0)
		goto out;
	rtnl_addr_set_ifindex(addr, rtnl_link_get_ifindex(link));
	rtnl_addr_set_local(addr, local);
	if (family == AF_INET6)
		rtnl_addr_set_flags(addr, IFA_F_NODAD); /* usable at once, no DAD wait */
	rtnl_link_set_flags(change, IFF_UP);
	rc = rtnl_addr_add(sk, addr, 0);
	if (!rc)
		rc = rtnl_link_change(sk, link, change, 0);
	rc = rc < 0 ? -EIO : 0;
out:
	nl_addr_put(local);
	rtnl_addr_put(addr);
	rtnl_link_put(change);
	rtnl_link_put(link);
	nl_socket_free(sk);
	return rc;
}

int helper_in_ns(int ns)
{
	return setns(ns, CLONE_NEWNET) == 0 ? 0 : -errno;
}
