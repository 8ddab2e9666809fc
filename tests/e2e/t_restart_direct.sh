#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Durability in the direct topology: softswitchd, holding the terminals of all four protocols
# itself, is killed with SIGKILL in the middle of their protected traffic and takes every binding
# back from its binding store (registrar.binding_store, a tmpfs file): restart_lib.sh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restart_lib.sh"
need_root
need_tool tshark "tshark is not installed (make deps)"
plan $RESTART_PLAN

FRONT=softswitchd
rig_direct
FRONT_NS=$NS_CORE
SERVER4=$CORE4
gkterm_front() { gkterm_direct "$@"; }
replay_drops() {
	echo $(($(stat_of softswitchd reason.REPLAY_SEQ) + $(stat_of softswitchd reason.OLD_SEQ)))
}
restart_provision provision
export SOFTSWITCHD_CONF_EXTRA="registrar.expires_min = 1"
start_core || bail "aucd and softswitchd do not start"
restart_run
restart_midway
finish
