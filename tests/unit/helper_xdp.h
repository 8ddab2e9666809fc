/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Opening the XDP program in a unit test (kselftest harness). A test may skip only where the
 * capability is truly absent (not root, no BTF, no XDP: gk_xdp_capable). On a machine that has
 * it, a program the kernel refuses is a FAILURE that quotes the end of the verifier's log: a
 * skip there once hid that the product's main feature was off.
 */
#ifndef GK_TEST_HELPER_XDP_H
#define GK_TEST_HELPER_XDP_H

#include <string.h>

#include "gatekey/fastpath/xdp.h"

/* *xp = the program, loaded unpinned; otherwise SKIP (running skip_stmt) or ASSERT failure. */
#define XDP_OPEN_OR_SKIP(xp, skip_stmt)                                                            \
	do {                                                                                       \
		char why_[128];                                                                    \
		int err_;                                                                          \
                                                                                                   \
		*(xp) = NULL;                                                                      \
		if (gk_xdp_capable(why_, sizeof(why_)) != 0)                                       \
			SKIP(skip_stmt, "cannot load XDP programs here: %s", why_);                \
		err_ = gk_xdp_open((xp), NULL, NULL, 0);                                           \
		ASSERT_EQ(0, err_)                                                                 \
		{                                                                                  \
			TH_LOG("the kernel refused the XDP program (%s); the verifier's last "     \
			       "lines:\n%s",                                                       \
			       strerror(-err_), gk_xdp_load_log());                                \
		}                                                                                  \
	} while (0)

#endif
