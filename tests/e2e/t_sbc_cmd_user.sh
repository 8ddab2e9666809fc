#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The MGCP/H.248/RAS SBC topology test again with sbcd's userspace fast path (no XDP): the same
# decisions and counters from the shared logic (include/gatekey/fastpath/fastpath.h).
SBC_FASTPATH=userspace exec bash "$(dirname "$0")/t_sbc_cmd.sh"
