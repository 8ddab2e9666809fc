// SPDX-License-Identifier: GPL-2.0-only
/* Tables made resident at start-up (runtime/resident.h): every page of a table is in memory before
 * its first use, its contents are what calloc promised, and a loop built resident holds the first
 * page of each datagram buffer before any datagram arrives. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helper_pages.h"

#include "helper_loop.h"

#include "gatekey/runtime/loop.h"
#include "gatekey/runtime/resident.h"

/* 64 MiB of 40-byte entries: glibc maps a table that large on its own, lazily, so without
 * gk_make_resident hardly a page of it would be in memory yet. */
TEST(a_table_is_resident_before_its_first_use)
{
	const size_t n = (64u << 20) / 40;
	size_t total = 0, in;
	uint8_t *t = gk_table_alloc(n, 40);

	ASSERT_NE(NULL, t);
	in = resident_pages(t, n * 40, &total);
	TH_LOG("%zu of %zu pages resident", in, total);
	EXPECT_EQ(total, in);
	for (size_t i = 0; i < n * 40; i += 4093)
		ASSERT_EQ(0, t[i]);
	ASSERT_EQ(0, t[n * 40 - 1]);
	free(t);
}

/* The range need not be page-aligned, and what it holds stays: making a table resident is not
 * writing to it. */
TEST(making_memory_resident_keeps_its_contents)
{
	size_t len = 3u << 20, total = 0, in;
	uint8_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, m);
	memset(m + 100, 0xa5, 5000);
	ASSERT_EQ(0, gk_make_resident(m + 100, len - 200));
	in = resident_pages(m + 100, len - 200, &total);
	EXPECT_EQ(total, in);
	for (size_t i = 100; i < 5100; i++)
		ASSERT_EQ(0xa5, m[i]);
	for (size_t i = 5100; i < len; i += 511)
		ASSERT_EQ(0, m[i]);
	EXPECT_EQ(0, gk_make_resident(m, 0));
	EXPECT_EQ(0, gk_make_resident(NULL, 10));
	munmap(m, len);
}

/* A daemon's loop (resident) holds a page per receive buffer and per send slot it has handed out,
 * from the moment it hands them out: the first step, 256 + 256 pages (2 MiB with 4 KiB pages), not
 * the 1024 + 1024 it may grow to (runtime/loop.c). One built lazily holds none of them (test_loop's
 * datagram_buffers_are_resident_only_while_used). */
TEST(a_resident_loop_holds_a_page_per_buffer_before_any_datagram)
{
	struct gk_loop_params lp = {.rx_bufs = 1024, .tx_slots = 1024, .resident = true};
	long page_kib = sysconf(_SC_PAGESIZE) / 1024, before = rss_kib(), after;
	char err[128];
	struct gk_loop *l = gk_loop_new(&lp, err, sizeof(err));

	ASSERT_NE(NULL, l) TH_LOG("%s", err);
	after = rss_kib();
	TH_LOG("resident loop: +%ld KiB", after - before);
	EXPECT_LE(512 * page_kib, after - before);
	EXPECT_GT(2048 * page_kib, after - before);
	gk_loop_free(l);
}

TEST_HARNESS_MAIN
