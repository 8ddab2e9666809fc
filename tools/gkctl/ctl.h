/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GKCTL_CTL_H
#define GKCTL_CTL_H

/* argv[0] is the socket path, the rest the command. Returns the exit status. */
int gkctl_cmd_ctl(int argc, char **argv);

#endif
