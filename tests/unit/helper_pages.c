// SPDX-License-Identifier: GPL-2.0-only
/* Resident pages of a range, for the memory tests (helper_pages.h). */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "helper_pages.h"

size_t resident_pages(const void *p, size_t len, size_t *total)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uintptr_t first = (uintptr_t)p / page * page;
	size_t n = ((uintptr_t)p + len - first + page - 1) / page, in = 0;
	unsigned char *vec = malloc(n);

	if (total)
		*total = n;
	if (!vec || mincore((void *)first, n * page, vec) != 0) {
		free(vec);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		in += vec[i] & 1;
	free(vec);
	return in;
}
