#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Crashes at random moments through the SBC with XDP attached: sbcd, then softswitchd, then aucd
# are each killed with SIGKILL at three random moments of a four-protocol load run and started
# again (kill_lib.sh). The kernel keeps enforcing the keys and replay windows meanwhile; the
# restarted sbcd takes every binding back from the pinned maps, and its downlink numbering goes
# on past anything the runs before it sealed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restart_lib.sh"
. "$(dirname "$0")/kill_lib.sh"
need_root
need_tool bpftool "bpftool is not installed (make deps)"
need_tool tshark "tshark is not installed (make deps)"
VICTIMS=${KILL_VICTIMS:-sbcd softswitchd aucd}
plan $(($(wc -w <<<"$VICTIMS") * KILL_PLAN_PER_VICTIM + KILL_PLAN_END))

FRONT=sbcd
gkterm_front() { gkterm_sbc "$@"; }
EXPLAINING="sbcd:rejects_overload sbcd:stale_answers sbcd:core_resent sbcd:successes_resent
	sbcd:repeats_while_deciding softswitchd:core_copies_joined
	softswitchd:rejects_overload softswitchd:core_stale_answers softswitchd:sbc_resent
	softswitchd:auc_retransmits softswitchd:accounting_retransmits
	softswitchd:auc_answered_after_retransmit aucd:duplicates_answered"
OVERLOAD_COUNTERS="sbcd:rejects_overload softswitchd:rejects_overload"
rig_up() { rig_sbc && provision_sbc && SERVER4=$SBC4; }
topology_up() { start_sbc_topology && expect_fastpath; }
RIG_UP=rig_up
TOPOLOGY_UP=topology_up
# The fast path's verdicts: what it passed and dropped, by reason.
replay_counts() {
	ctl sbcd stats | awk '$1 ~ /^fastpath\.PASS_/ { sub(/^fastpath\./, "pass."); print $1, $2 }
		$1 ~ /^fastpath\.DROP_/ { sub(/^fastpath\./, "drop."); print $1, $2 }'
}
kill_random_main
finish
