/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Whether an ESP test can run here (kselftest harness), decided as for XDP (helper_xdp.h): a test
 * skips only where the kernel is proven to lack ESP or rfc4106(gcm(aes)) (CONFIG_INET_ESP,
 * CONFIG_INET6_ESP, CONFIG_CRYPTO_GCM), and then says which option and that the guest of
 * tests/vm/run.sh (make check-vm) runs it. A kernel configured with them that still refuses an SA
 * is a FAILURE quoting the kernel's words.
 */
#ifndef GK_TEST_HELPER_XFRM_H
#define GK_TEST_HELPER_XFRM_H

#include <stddef.h>

/* Adds an ESP SA (rfc4106(gcm(aes)), family AF_INET or AF_INET6) in a network namespace of a
 * child's own and reads the kernel's configuration (/proc/config.gz, /boot/config-<release>).
 * Returns 0 when the SA was taken; 1 when the kernel lacks ESP or GCM, why naming the options
 * (or, with no configuration to read, the kernel's refusal); a negative errno when the kernel
 * refused otherwise or refused although configured with both, why quoting it. */
int gk_test_esp_capable(int family, char *why, size_t len);

/* SKIP (running skip_stmt) where ESP or GCM is proven absent; an ASSERT failure where the kernel
 * refuses an SA for any other reason. */
#define ESP_CAPABLE_OR_SKIP(family, skip_stmt)                                                     \
	do {                                                                                       \
		char ewhy_[384];                                                                   \
		int erc_ = gk_test_esp_capable((family), ewhy_, sizeof(ewhy_));                    \
                                                                                                   \
		ASSERT_LE(0, erc_)                                                                 \
		{                                                                                  \
			TH_LOG("%s", ewhy_);                                                       \
		}                                                                                  \
		if (erc_ > 0)                                                                      \
			SKIP(skip_stmt, "%s", ewhy_);                                              \
	} while (0)

#endif
