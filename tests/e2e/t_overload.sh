#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Overload is said, not hidden: sbcd with a tiny attempt table (registrar.max_pending = 16) takes
# bursts of registrations far deeper than that in all four protocols. The ones it has no room for
# get the protocol's "try again later" with a wait (SIP 503 + Retry-After, MGCP 409, H.248 510,
# RAS resourceUnavailable), never a refusal; gkterm waits as told and registers, so every
# terminal ends registered, and sbcd's counters show each overload answer. Then the fast path's
# admission: with the softswitch stalled, sbcd's registrations in progress fill up, and XDP sheds
# strangers' registrations before sbcd sees them; once the softswitch answers again the share
# shed comes back to nothing and every terminal registers.
. "$(dirname "$0")/lib.sh"
need_root
plan 18

N=200
rig_sbc
provision_sbc
for p in sip mgcp h248 h323 adm; do
	gkctl bulk-add "$p-" "$N" --out-dir "$WORK/terms" >/dev/null || bail "gkctl bulk-add failed"
done
SBCD_CONF_EXTRA=$(printf '%s\n' 'registrar.max_pending = 16' 'registrar.retry_after = 1' \
	'registrar.retry_jitter = 1') start_sbc_topology || bail "aucd, softswitchd and sbcd do not start"
expect_fastpath

total_overload=0
for p in sip mgcp h248 h323; do
	before=$(stat_of sbcd rejects_overload)
	out=$(PROTO=$p gkterm_sbc --prefix "$p-" --count "$N" --key-dir "$WORK/terms" --quiet \
		--window 200 --timeout 60 2>&1)
	summary=$(echo "$out" | grep '^summary')
	echo "# $p: $summary"
	overloaded=$(echo "$summary" | sed -n 's/.* overloaded=\([0-9]*\).*/\1/p')
	[[ $summary == *" registered=$N failed=0 "* ]]
	ok $? "$p: all $N terminals register through an attempt table of 16"
	[ "${overloaded:-0}" -gt 0 ]
	ok $? "$p: ${overloaded:-0} were told to wait and came back"
	shed=$(($(stat_of sbcd rejects_overload) - before))
	total_overload=$((total_overload + shed))
	[ "$shed" -gt 0 ]
	ok $? "$p: sbcd counted $shed overload answers"
done
is "$(stat_of sbcd rejects)" "$total_overload" "every refusal sbcd made was an overload answer"
is "$(ctl sbcd bindings | grep -c ' mech=gk-mac ')" $((4 * N)) "sbcd holds all $((4 * N)) bindings"

# --- Admission follows sbcd's queue depth --------------------------------------------------------
shed_is() { [ "$(stat_of sbcd admission.shed_permille)" = "$1" ]; }
shed_raised() { [ "$(stat_of sbcd admission.shed_permille)" -gt 0 ]; }
kill -STOP "$PID_softswitchd"
gkterm_sbc --prefix adm- --count "$N" --key-dir "$WORK/terms" --quiet --window "$N" \
	--timeout 90 >"$WORK/adm.out" 2>&1 &
gkt=$!
PIDS+=("$gkt")
wait_until 150 stat_at_least sbcd fastpath.DROP_SHED 1
ok $? "softswitch stalled: the fast path sheds strangers' registrations ($(stat_of sbcd fastpath.DROP_SHED) shed)"
# the share follows the queue, which empties as the stalled attempts time out: poll for it
wait_until 100 shed_raised
ok $? "sbcd reports the share it asks the fast path to shed"
kill -CONT "$PID_softswitchd"
wait "$gkt"
summary=$(grep '^summary' "$WORK/adm.out")
echo "# adm: $summary"
[[ $summary == *" registered=$N failed=0 "* ]]
ok $? "softswitch back: every shed terminal registers"
wait_until 100 shed_is 0
ok $? "queues drained: the share shed is back to 0 (raised $(stat_of sbcd admission.raised), lowered $(stat_of sbcd admission.lowered) times)"
