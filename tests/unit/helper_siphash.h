/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reference SipHash-2-4 with 128-bit output, written from the SipHash paper and the reference
 * implementation, sharing no code with OpenSSL. Tests check libgatekey (OpenSSL's EVP_MAC) and
 * the XDP program's own implementation against it.
 */
#ifndef GATEKEY_TEST_HELPER_SIPHASH_H
#define GATEKEY_TEST_HELPER_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

void ref_siphash24_128(const uint8_t key[16], const void *in, size_t len, uint8_t out[16]);

#endif
