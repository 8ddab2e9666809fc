#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Registrations on a host that is busy with something else: aucd, softswitchd and four CPU-bound
# processes at the same priority all share one CPU for the whole test, so that every daemon
# waits its turn behind the others, and the other CPU is kept busy too. Every registration of every protocol must still complete, none
# refused: a daemon that waits its turn for a CPU makes its peer retransmit (SIP timers, the
# MGCP/H.248 transaction layer, RADIUS with backoff), never give up. This is the scheduling
# stall behind an AUC_TIMEOUT once seen in `make demo PROTO=h248 N=4` on a loaded machine.
. "$(dirname "$0")/lib.sh"
need_root
plan 3

N=200
PROTOS="sip mgcp h248 h323"
rig_direct
provision
for p in $PROTOS; do
	gkctl bulk-add "$p" "$N" --out-dir "$WORK/keys-$p" >/dev/null || bail "gkctl bulk-add $p failed"
done
start_core || bail "aucd and softswitchd do not start"

taskset -p -c 0 "$PID_aucd" >/dev/null && taskset -p -c 0 "$PID_softswitchd" >/dev/null ||
	bail "cannot pin the daemons to CPU 0"
# Four on CPU 0 with the daemons, two on every other CPU. Bounded: the test's cleanup kills
# them, and they stop by themselves after 5 minutes.
hogs=0
for cpu in $(seq 0 $(($(nproc) - 1))); do
	n=2
	[ "$cpu" = 0 ] && n=4
	for _ in $(seq $n); do
		taskset -c "$cpu" timeout 300 sh -c 'while :; do :; done' &
		PIDS+=($!)
		hogs=$((hogs + 1))
	done
done
# The host's idle share over half a second (a measurement window, not a wait), in percent.
idle_pct() {
	local a b
	a=$(awk '/^cpu /{ print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat)
	sleep 0.5
	b=$(awk '/^cpu /{ print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat)
	set -- $a $b
	echo $(((($3 - $1) * 100) / ($4 - $2 + 1)))
}
busy() { [ "$(idle_pct)" -lt 10 ]; }
wait_until 50 busy
ok $? "$hogs CPU-bound processes keep the host's $(nproc) CPUs busy, four of them on the daemons' CPU"

failed=0
for p in $PROTOS; do
	out=$(PROTO=$p gkterm_direct --key-dir "$WORK/keys-$p" --prefix "$p" --count "$N" --window 50)
	rc=$?
	echo "$out" | grep -v '^registered ' | diag
	echo "$out" | grep -q "^summary terminals=$N registered=$N failed=0" && [ $rc = 0 ] ||
		failed=$((failed + 1))
done
is "$failed" 0 "every protocol's $N registrations complete under contention, none failed"
echo "softswitchd: auc_retransmits $(stat_of softswitchd auc_retransmits)" \
	"auc_timeouts $(stat_of softswitchd auc_timeouts)" \
	"auc_answered_after_retransmit $(stat_of softswitchd auc_answered_after_retransmit)" | diag
is "$(stat_of softswitchd auc_timeouts)" 0 "no AuC round ran out"
finish
