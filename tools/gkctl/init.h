/* SPDX-License-Identifier: GPL-2.0-only */
/* gkctl init (init.c): a single-host deployment in one step. */
#ifndef GKCTL_INIT_H
#define GKCTL_INIT_H

#include <stdbool.h>

struct gkctl_init_args {
	const char *etc;    /* configurations and keys (/etc/gatekey) */
	const char *state;  /* the key store (/var/lib/gatekey) */
	const char *idc;    /* the first subscriber */
	const char *out;    /* its provisioning file */
	const char *access; /* where terminals register, ip:port */
	const char *iface;  /* sbcd's fastpath.interface, or NULL */
	const char *local;  /* the address of the legs between the daemons (127.0.0.1) */
	bool direct;        /* no SBC: terminals register at the softswitch */
};

/* gkctl init ARGS: 0, 1 with stderr saying why and nothing left behind, 2 usage. */
int gkctl_cmd_init(int argc, char **argv);

#endif
