// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helper_hex.h"

void unhex(const char *s, uint8_t *out, size_t n)
{
	if (strlen(s) != 2 * n)
		abort();
	for (size_t i = 0; i < n; i++) {
		unsigned int v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			abort();
		out[i] = (uint8_t)v;
	}
}
