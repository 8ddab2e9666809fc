// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target for the MGCP codec (docs/bindings-mgcp.md); the checks are in cmd_fuzz.h. */
#define CMD_FUZZ_NAME  "fuzz_mgcp"
#define CMD_FUZZ_CODEC gk_mgcp_codec
#include "cmd_fuzz.h"
