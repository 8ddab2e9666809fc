// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target for the H.248 codec (docs/bindings-h248.md); the checks are in cmd_fuzz.h. */
#define CMD_FUZZ_NAME  "fuzz_h248"
#define CMD_FUZZ_CODEC gk_h248_codec
#include "cmd_fuzz.h"
