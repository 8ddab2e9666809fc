/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The pieces of a two-namespace rig that tests build without running `ip` (libnl-route and
 * ioctl), so that they also run in the guest of tests/vm/run.sh, which has no iproute2: loopback
 * up, a veth pair across two namespaces, an address on a link, a link deleted. Each acts in the
 * caller's current network namespace and returns 0 or a negative errno.
 */
#ifndef GATEKEY_TEST_HELPER_NETNS_H
#define GATEKEY_TEST_HELPER_NETNS_H

/* lo up in the current namespace. */
int helper_lo_up(void);
/* A veth pair: `here` in the current namespace, `there` moved into namespace fd ns_there. */
int helper_veth_to(const char *here, const char *there, int ns_there);
/* ifname deleted (a veth takes its peer with it). */
int helper_link_delete(const char *ifname);
/* ifname up with ip/prefix on it (IPv6 without duplicate address detection: usable at once). */
int helper_link_address_up(const char *ifname, int family, const char *ip, int prefix);
/* setns into namespace fd ns: 0 or -errno. */
int helper_in_ns(int ns);

#endif
