/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GKCTL_XDP_H
#define GKCTL_XDP_H

/* gkctl xdp ...: returns the exit status. */
int gkctl_cmd_xdp(int argc, char **argv);

#endif
