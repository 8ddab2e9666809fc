/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef HELPER_HEX_H
#define HELPER_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Test-local hex reader, so known answers do not depend on gk_hex_decode(). Aborts unless s is
 * exactly 2 * n hex digits. */
void unhex(const char *s, uint8_t *out, size_t n);

#endif
