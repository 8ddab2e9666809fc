/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the memory tests share: how much of a range of memory is resident (mincore(2)), to check
 * that tables are in memory before their first use, and only as much of them as was grown.
 */
#ifndef GATEKEY_TEST_HELPER_PAGES_H
#define GATEKEY_TEST_HELPER_PAGES_H

#include <stddef.h>

/* How many of the pages behind [p, p + len) are resident; *total (when not NULL) gets how many
 * pages that is. 0 when mincore fails. */
size_t resident_pages(const void *p, size_t len, size_t *total);

#endif
