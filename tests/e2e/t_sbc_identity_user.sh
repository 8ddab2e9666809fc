#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The identity test again with sbcd's userspace fast path (no XDP): the request reaches the
# identity check through the userspace gk-mac verification instead of the verified port.
SBC_FASTPATH=userspace exec bash "$(dirname "$0")/t_sbc_identity.sh"
