#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Durability of the AuC: aucd is killed with SIGKILL while terminals of all four protocols
# register with softswitchd (direct topology), and started again on the same key store. No
# provisioned key is lost (SQLite commits before gkctl returns), and every registration
# completes: the Access-Requests in flight are retransmitted by softswitchd's RADIUS client and
# answered by the new aucd, and a registration whose AuC round ran out hears the overload answer
# with a Retry-After and comes back (the counters say which).
. "$(dirname "$0")/lib.sh"
need_root
plan 6

N=300   # terminals per protocol
RATE=100 # registrations started per second and protocol
PROTOS="sip mgcp h248 h323"
rig_direct
provision
for p in $PROTOS; do
	gkctl bulk-add "$p" "$N" --out-dir "$WORK/keys-$p" >/dev/null || bail "gkctl bulk-add $p failed"
done
subscribers_before=$(gkctl subscriber list | sort | md5sum)
start_core || bail "aucd and softswitchd do not start"

pids=()
for p in $PROTOS; do
	PROTO=$p gkterm_direct --key-dir "$WORK/keys-$p" --prefix "$p" --count "$N" --rate "$RATE" \
		>"$WORK/run-$p.out" 2>&1 &
	pids+=($!)
	PIDS+=($!)
done
registrations_at_least() { [ "$(stat_of softswitchd registrations)" -ge "$1" ]; }
wait_until 300 registrations_at_least "$N"
done_at=$(stat_of softswitchd registrations)
kill -KILL "$PID_aucd"
wait "$PID_aucd" 2>/dev/null
! kill -0 "$PID_aucd" 2>/dev/null
ok $? "aucd is killed with SIGKILL with $done_at of $((4 * N)) registrations done"
start_daemon aucd "$NS_CORE" -c "$WORK/aucd.conf" || bail "aucd does not restart"
[ "$(gkctl subscriber list | sort | md5sum)" = "$subscribers_before" ]
ok $? "the key store holds every subscriber it held before the kill"

failed=0
regs_ok=1
for pid in "${pids[@]}"; do
	wait "$pid" || failed=$((failed + 1))
done
for p in $PROTOS; do
	grep -v '^registered ' "$WORK/run-$p.out" | diag
	grep -q "^summary terminals=$N registered=$N failed=0" "$WORK/run-$p.out" || regs_ok=0
done
[ $failed = 0 ] && [ $regs_ok = 1 ]
ok $? "all $((4 * N)) registrations of four protocols complete, none failed"
[ $failed = 0 ] && [ $regs_ok = 1 ] || registration_failures "$WORK"/run-*.out
is "$(ctl softswitchd bindings | grep -c ' fpr=')" $((4 * N)) "softswitchd holds a binding for each"
retx=$(stat_of softswitchd auc_retransmits)
timeouts=$(stat_of softswitchd auc_timeouts)
overload=$(stat_of softswitchd rejects_overload)
echo "softswitchd: auc_retransmits $retx auc_timeouts $timeouts rejects_overload $overload" \
	"auc_answered_after_retransmit $(stat_of softswitchd auc_answered_after_retransmit)" | diag
[ "$retx" -gt 0 ]
ok $? "softswitchd retransmitted the Access-Requests that were in flight ($retx)"
# Every AuC round that ran out ended in an overload answer, which the terminal waited out.
overloaded=0
for p in $PROTOS; do
	o=$(sed -n 's/^summary .* overloaded=\([0-9]*\).*/\1/p' "$WORK/run-$p.out")
	overloaded=$((overloaded + ${o:-0}))
done
[ "$overloaded" -ge "$timeouts" ] && [ "$overload" -ge "$timeouts" ]
ok $? "each AuC round that ran out ($timeouts) was answered as an overload and retried ($overloaded)"
finish
