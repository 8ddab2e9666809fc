#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Durability through the SBC with XDP attached: sbcd is killed with SIGKILL in the middle of the
# protected traffic of all four protocols; the kernel keeps enforcing the keys and replay windows
# in the pinned maps, and the restarted sbcd takes every binding back from them: restart_lib.sh.
# Then sbcd, and after it softswitchd, are killed while more terminals register, and those
# registrations complete.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restart_lib.sh"
need_root
need_tool bpftool "bpftool is not installed (make deps)"
need_tool tshark "tshark is not installed (make deps)"
plan $((RESTART_PLAN + 3))

FRONT=sbcd
rig_sbc
FRONT_NS=$NS_SBC
SERVER4=$SBC4
gkterm_front() { gkterm_sbc "$@"; }
replay_drops() {
	echo $(($(stat_of sbcd fastpath.DROP_REPLAY) + $(stat_of sbcd fastpath.DROP_OLD_SEQ)))
}
restart_provision provision_sbc
export SBCD_CONF_EXTRA="registrar.expires_min = 1" SOFTSWITCHD_CONF_EXTRA="registrar.expires_min = 1"
start_sbc_topology || bail "aucd, softswitchd and sbcd do not start"
expect_fastpath
restart_run
restart_midway
# softswitchd too, which holds the core's half of what sbcd relays.
restart_midway softswitchd "$NS_CORE" c
finish
