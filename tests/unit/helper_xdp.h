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
#include <unistd.h>

#include "gatekey/fastpath/xdp.h"

/* SKIP (running skip_stmt) only where the capability is proven absent: not root, or a kernel
 * without BTF. As root on a kernel with BTF, an XDP program that cannot load is a FAILURE. */
#define XDP_CAPABLE_OR_SKIP(skip_stmt)                                                             \
	do {                                                                                       \
		char cwhy_[128];                                                                   \
                                                                                                   \
		if (gk_xdp_capable(cwhy_, sizeof(cwhy_)) != 0) {                                   \
			ASSERT_FALSE(geteuid() == 0 && access(GK_XDP_VMLINUX_BTF, R_OK) == 0)      \
			{                                                                          \
				TH_LOG("root on a kernel with BTF, yet %s", cwhy_);                \
			}                                                                          \
			SKIP(skip_stmt, "cannot load XDP programs here: %s", cwhy_);               \
		}                                                                                  \
	} while (0)

/* *xp = the program, loaded unpinned; otherwise SKIP (running skip_stmt) or ASSERT failure. */
#define XDP_OPEN_OR_SKIP(xp, skip_stmt)                                                            \
	do {                                                                                       \
		int err_;                                                                          \
                                                                                                   \
		*(xp) = NULL;                                                                      \
		XDP_CAPABLE_OR_SKIP(skip_stmt);                                                    \
		err_ = gk_xdp_open((xp), NULL, NULL, 0);                                           \
		ASSERT_EQ(0, err_)                                                                 \
		{                                                                                  \
			TH_LOG("the kernel refused the XDP program (%s); the verifier's last "     \
			       "lines:\n%s",                                                       \
			       strerror(-err_), gk_xdp_load_log());                                \
		}                                                                                  \
	} while (0)

#endif
