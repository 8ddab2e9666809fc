#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Registrations over lossy links: every link of the SBC topology runs through tools/gkimpair (5 %
# loss, 1 % duplication, 20 ms +/- 10 ms, so frames are also reordered, both ways), and
# terminals of all four protocols register through sbcd. Each protocol's retransmission rules
# (SIP timers, the MGCP and H.248 transaction layer, RAS), carried across the core leg by the
# front, must complete every registration; nothing may be left pending; and the AuC must hold
# exactly one open session per terminal however often its Start was sent. Then the same terminals
# register again, refresh, send a protected request and deregister, all under the same loss: every
# step completes (a refresh's answer repeated bare, a deregistration repeated under its lingering
# binding), and at the end every Start has its Stop.
. "$(dirname "$0")/lib.sh"
need_root
plan 7

N=50 # terminals per protocol
PROTOS="sip mgcp h248 h323"
export IMPAIR="5 1 20 10"
rig_sbc
[ "$LINKS_IMPAIRED" = 2 ]
ok $? "both links of the rig run through gkimpair (loss 5 %, duplicate 1 %, 20 +/- 10 ms)"
provision_sbc
for p in $PROTOS; do
	gkctl bulk-add "$p" "$N" --out-dir "$WORK/keys-$p" >/dev/null || bail "gkctl bulk-add $p failed"
done
start_sbc_topology || bail "aucd, softswitchd and sbcd do not start"
expect_fastpath

# terminals <name> <gkterm options...> <proto>: the protocol's N terminals, output in
# $WORK/<name>-<proto>.out. all_protocols: every protocol at once; failed: how many runs failed.
terminals() {
	local name=$1 p=${*: -1}
	PROTO=$p gkterm_sbc --key-dir "$WORK/keys-$p" --prefix "$p" --count "$N" --window 25 \
		"${@:2:$#-2}" >"$WORK/$name-$p.out" 2>&1
}
all_protocols() {
	in_parallel terminals "$@"
	failed=$PARALLEL_FAILED
}

all_protocols run --histogram
regs_ok=1
for p in $PROTOS; do
	echo "$p:" | diag
	grep -v '^registered ' "$WORK/run-$p.out" | diag
	grep -q "^summary terminals=$N registered=$N failed=0" "$WORK/run-$p.out" || regs_ok=0
done
[ $failed = 0 ] && [ $regs_ok = 1 ]
ok $? "all $((4 * N)) registrations of four protocols complete, none failed"
[ $failed = 0 ] && [ $regs_ok = 1 ] || registration_failures "$WORK"/run-*.out

nothing_pending() {
	[ "$(stat_of sbcd in_progress)" = 0 ] && [ "$(stat_of softswitchd core_in_progress)" = 0 ]
}
wait_until 400 nothing_pending
ok $? "nothing is left pending: no registration in progress at sbcd, no attempt at the core"
for d in sbcd softswitchd; do
	ctl $d stats | grep -E '^(in_progress|core_in_progress|core_resent|successes_resent|stale_answers|stale_verdicts|core_stale_answers|rejects_overload|sbc_resent) ' |
		sed "s/^/$d /" | diag
done

open_sessions() {
	[ $(($(stat_of aucd accounting_start) - $(stat_of aucd accounting_stop))) = $((4 * N)) ]
}
wait_until 100 open_sessions
ok $? "the AuC holds one open session per terminal ($(stat_of aucd accounting_start) Starts, $(stat_of aucd accounting_stop) Stops)"

# --- Every step under loss: register again, refresh, protected request, deregister. -----------
all_protocols steps --refresh 1 --options 1 --deregister --quiet
steps_ok=1
for p in $PROTOS; do
	echo "$p, every step:" | diag
	diag <"$WORK/steps-$p.out"
	{ grep -q "^summary terminals=$N registered=$N failed=0" "$WORK/steps-$p.out" &&
		grep -q "^refreshed $N$" "$WORK/steps-$p.out" &&
		grep -q "^options sent=$N ok=$N " "$WORK/steps-$p.out" &&
		grep -q "^deregistered $N$" "$WORK/steps-$p.out"; } && continue
	steps_ok=0
	# prove shows stderr: a failure that happens once in many runs says what it was
	sed "s/^/# $p, every step: /" "$WORK/steps-$p.out" >&2
done
if [ $steps_ok = 0 ]; then
	for d in sbcd softswitchd aucd; do
		ctl $d stats | grep -E '^(rejects|reject_|core_|unbound_|deregistrations|accounting_|sessions|successes_resent|stale_)' |
			sed "s/^/# $d /" >&2
	done
fi
[ $failed = 0 ] && [ $steps_ok = 1 ]
ok $? "all $((4 * N)) terminals register again, refresh, send a protected request and deregister"
ctl sbcd stats | grep -E '^(deregistrations|deregistrations_resent|successes_resent|unbound_resent|unbound_given_up) ' |
	sed 's/^/sbcd /' | diag
paired() {
	[ "$(stat_of sbcd unbound_waiting)" = 0 ] && [ "$(stat_of aucd sessions)" = 0 ] &&
		[ "$(stat_of aucd accounting_start)" = "$(stat_of aucd accounting_stop)" ]
}
wait_until 300 paired
paired_rc=$?
[ $paired_rc = 0 ] || for d in sbcd aucd; do
	ctl $d stats | grep -E '^(unbound_|sessions|accounting_|deregistrations)' | sed "s/^/# $d /" >&2
done
ok $paired_rc "accounting pairs up: every Start has its Stop ($(stat_of aucd accounting_start) Starts, $(stat_of aucd accounting_stop) Stops), no session open"

impair_report >"$WORK/impair.report"
diag <"$WORK/impair.report"
ok_links=0
while read -r _ _ _ _ _ lost dup reord _; do
	[ "${lost#lost=}" -gt 0 ] && [ "${dup#duplicated=}" -gt 0 ] && [ "${reord#reordered=}" -gt 0 ] &&
		ok_links=$((ok_links + 1))
done <"$WORK/impair.report"
is "$ok_links" 2 "on both links frames were lost, duplicated and reordered"
finish
