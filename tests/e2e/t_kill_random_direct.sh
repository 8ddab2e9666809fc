#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Crashes at random moments without an SBC: softswitchd, which then holds the terminals' keys
# itself, and after it aucd, are each killed with SIGKILL at three random moments of a
# four-protocol load run and started again (kill_lib.sh). softswitchd takes every binding, replay
# window and downlink position back from its binding store (a tmpfs file).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restart_lib.sh"
. "$(dirname "$0")/kill_lib.sh"
need_root
need_tool tshark "tshark is not installed (make deps)"
VICTIMS=${KILL_VICTIMS:-softswitchd aucd}
plan $(($(wc -w <<<"$VICTIMS") * KILL_PLAN_PER_VICTIM + KILL_PLAN_END))

FRONT=softswitchd
gkterm_front() { gkterm_direct "$@"; }
EXPLAINING="softswitchd:rejects_overload softswitchd:stale_answers softswitchd:successes_resent
	softswitchd:repeats_while_deciding
	softswitchd:auc_retransmits softswitchd:accounting_retransmits
	softswitchd:auc_answered_after_retransmit aucd:duplicates_answered"
OVERLOAD_COUNTERS="softswitchd:rejects_overload"
rig_up() { rig_direct && provision && SERVER4=$CORE4; }
RIG_UP=rig_up
TOPOLOGY_UP=start_core
# softswitchd's verdicts on protected datagrams: every refusal by reason (nothing passes but
# what a binding's rx counts).
replay_counts() {
	ctl softswitchd stats | awk '$1 ~ /^reason\./ { sub(/^reason\./, "drop."); print $1, $2 }'
}
FRONT_CHECKS_IN_PROCESS=1
kill_random_main
finish
