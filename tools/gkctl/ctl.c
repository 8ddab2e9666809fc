// SPDX-License-Identifier: GPL-2.0-only
/*
 * gkctl ctl SOCKET COMMAND...: asks a running daemon over its control socket. The words are
 * joined into one command and sent as is: the daemon, not gkctl, knows its commands and
 * answers an unknown one with the list of those it has. A listing (bindings) comes in pages,
 * which gk_control_query asks for one after another, 3 s allowed for each.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gatekey/runtime/control.h"
#include "ctl.h"

int gkctl_cmd_ctl(int argc, char **argv)
{
	char cmd[256] = "", err[256];
	size_t len = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: gkctl ctl SOCKET COMMAND [ARGS]   (COMMAND: stats, "
		                "bindings [after INDEX])\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		int n = snprintf(cmd + len, sizeof(cmd) - len, "%s%s", i > 1 ? " " : "", argv[i]);
		if (n < 0 || (size_t)n >= sizeof(cmd) - len) {
			fprintf(stderr, "gkctl: command too long\n");
			return 2;
		}
		len += (size_t)n;
	}
	if (gk_control_query(argv[0], cmd, STDOUT_FILENO, 3000, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "gkctl: %s\n", err);
		return 1;
	}
	return 0;
}
