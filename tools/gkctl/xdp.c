// SPDX-License-Identifier: GPL-2.0-only
/* `gkctl xdp detach IFNAME [--pin-root DIR]`: the explicit way to take the fast path off an
 * interface (sbcd never detaches by itself unless fastpath.detach_on_exit says so). */
#include <stdio.h>
#include <string.h>

#include "gatekey/fastpath/xdp.h"
#include "xdp.h"

int gkctl_cmd_xdp(int argc, char **argv)
{
	const char *ifname = NULL, *pin_root = "";

	if (argc < 2 || strcmp(argv[0], "detach") != 0) {
		fprintf(stderr, "gkctl: usage: gkctl xdp detach IFNAME [--pin-root DIR]\n");
		return 2;
	}
	ifname = argv[1];
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--pin-root") && i + 1 < argc) {
			pin_root = argv[++i];
		} else {
			fprintf(stderr, "gkctl: xdp detach: unexpected \"%s\"\n", argv[i]);
			return 2;
		}
	}
	int ret = gk_xdp_detach(ifname, pin_root);
	if (ret < 0) {
		fprintf(stderr, "gkctl: xdp detach %s: %s\n", ifname, strerror(-ret));
		return 1;
	}
	printf("detached the fast path from %s and removed its pinned maps\n", ifname);
	return 0;
}
