/* SPDX-License-Identifier: GPL-2.0-only */
/* The kernel's cost per UDP datagram on a path (pingpong.c), for docs/performance.md's floor. */
#ifndef GKBENCH_PINGPONG_H
#define GKBENCH_PINGPONG_H

#include <stdint.h>

/* Echo every datagram received on listen (ip:port) back to its sender, for seconds. */
int gkbench_udp_echo(const char *listen, unsigned seconds);
/* count round trips of size bytes to an echo at `to`, window in flight; prints
 * "bench udp_cpu_per_dgram_<name>" (machine busy time per datagram) and the datagram rate. */
int gkbench_udp_pingpong(const char *to, const char *name, uint64_t count, unsigned size,
                         unsigned window);

#endif
