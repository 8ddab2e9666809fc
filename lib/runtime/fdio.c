// SPDX-License-Identifier: GPL-2.0-only
/*
 * Writing a whole buffer to a descriptor (fdio.h): the loop every writer of a file or a stream
 * socket needs, once.
 */
#include <errno.h>
#include <unistd.h>

#include "gatekey/runtime/fdio.h"

int gk_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (w == 0)
			return -EIO;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}
