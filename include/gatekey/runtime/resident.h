/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Memory made resident before its first use. A daemon's tables are sized by its configuration
 * (max_terminals, max_pending, dedup slots), and memory mapped lazily made the first registrations
 * pay a page fault for each page of a table they touched. On a hypervisor a minor fault costs
 * microseconds: the first 30,000 registrations through the SBC took some 48,000 of them across
 * the three daemons, and their p99 latency was twenty times that of the same registrations run
 * again (docs/performance.md). The tables now grow in steps (runtime/steps.h), each step made
 * resident here in one call before its entries are used; small fixed tables are made resident
 * whole at start-up (gk_table_alloc).
 */
#ifndef GATEKEY_RESIDENT_H
#define GATEKEY_RESIDENT_H

#include <stddef.h>

/* calloc(nmemb, size), with every page of the result resident: NULL when the memory cannot be
 * had, whether calloc or the population fails. Freed with free(). */
void *gk_table_alloc(size_t nmemb, size_t size);

/* Makes the pages behind [p, p + len) resident without changing their contents. Tables of 2 MiB
 * and more are also offered transparent huge pages, which the kernel uses where it is configured
 * to ("madvise" or "always"): fewer faults to populate them and fewer TLB misses on a random
 * lookup. Returns 0, or -ENOMEM when the memory cannot be had (some pages may then be resident). */
int gk_make_resident(void *p, size_t len);

#endif
