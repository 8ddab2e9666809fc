// SPDX-License-Identifier: GPL-2.0-only
/*
 * Making a table's pages resident once, at start-up (runtime/resident.h says why).
 *
 * MADV_POPULATE_WRITE (Linux 5.14) faults the range in as a write would, in one call, without
 * writing: the contents stay what they were, and a page another allocation shares keeps its
 * bytes. Where the kernel predates it, each page is touched by writing back a byte it already
 * holds, which is the same thing one page at a time (this runs before the loop starts, in one
 * thread).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gatekey/runtime/resident.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define HUGE_PAGE (2u << 20)

static uintptr_t round_down(uintptr_t v, uintptr_t to)
{
	return v / to * to;
}

int gk_make_resident(void *p, size_t len)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), first, end;

	if (!p || !len)
		return 0;
	first = round_down((uintptr_t)p, page);
	end = round_down((uintptr_t)p + len - 1, page) + page;
	/* Only the huge pages wholly inside: the memory around the range may be another's. */
	uintptr_t huge_first = round_down((uintptr_t)p + HUGE_PAGE - 1, HUGE_PAGE);
	uintptr_t huge_end = round_down((uintptr_t)p + len, HUGE_PAGE);
	if (huge_end > huge_first)
		madvise((void *)huge_first, huge_end - huge_first, MADV_HUGEPAGE);
	if (madvise((void *)first, end - first, MADV_POPULATE_WRITE) == 0)
		return 0;
	if (errno != EINVAL)
		return -ENOMEM;
	volatile uint8_t *b = p;
	size_t step = (size_t)page - ((uintptr_t)p - first);

	for (size_t off = 0; off < len; off += step, step = (size_t)page)
		b[off] = b[off];
	return 0;
}

void *gk_table_alloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb, size);

	if (p && gk_make_resident(p, nmemb * size) != 0) {
		free(p);
		return NULL;
	}
	return p;
}
