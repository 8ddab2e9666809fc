#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The SBC at scale, through a rig (gk1 over SIP, XDP on the access link). Prints "bench" lines
# (and "# " diagnostics) only:
#   bench-scale.sh capacity   BENCH_SCALE_N terminals (default 250,000) through one sbcd:
#     bench terminals_registered_sbc <n>
#     bench sbcd_bytes_per_terminal <bytes>    (sbcd's RSS and its BPF maps, over terminals)
#     bench reregister_storm_sbc <s> s         (all of them again after softswitchd restarts)
#   bench-scale.sh overload   REG_RATE_SBC=<peak reg/s> (bench-reg.sh sbc, same run): three
#     times the peak offered for BENCH_OVERLOAD_S seconds (default 20):
#     bench overload_goodput_sbc <pct> %       (completed in the window over peak x window)
#     and the elements' overload answers and the fast path's shedding as "# " lines.
#   bench-scale.sh latency    REG_RATE_SBC=<peak reg/s>: 80% of the peak offered for 10 s:
#     bench reg_latency_p99_at_80pct_sbc <ms> ms
# For experiments: BENCH_SOCKETS (gkterm's source sockets in overload, default 8) and
# BENCH_SBCD_EXTRA (more lines for sbcd.conf, e.g. "registrar.max_pending = 8192").
. "$(cd "$(dirname "$0")" && pwd)/rig-lib.sh"

MODE=${1:-capacity}
rig_possible || { echo "bench: needs root and network namespaces" >&2; exit 1; }

case "$MODE" in
capacity)
	N=${BENCH_SCALE_N:-250000}
	;;
overload)
	PEAK=${REG_RATE_SBC:-0}
	[ "$PEAK" -gt 0 ] || { echo "bench: overload needs REG_RATE_SBC=<peak reg/s>" >&2; exit 1; }
	WINDOW_S=${BENCH_OVERLOAD_S:-20}
	OFFERED=$((PEAK * 3))
	# every registration offered is a terminal of its own: strangers, as after an outage
	N=$((OFFERED * (WINDOW_S + 2)))
	[ "$N" -le 1000000 ] || N=1000000
	;;
latency)
	PEAK=${REG_RATE_SBC:-0}
	[ "$PEAK" -gt 0 ] || { echo "bench: latency needs REG_RATE_SBC=<peak reg/s>" >&2; exit 1; }
	OFFERED=$((PEAK * 8 / 10))
	N=$((OFFERED * 10))
	;;
*)
	echo "usage: bench-scale.sh capacity|overload|latency" >&2
	exit 2
	;;
esac

rig_sbc
provision_sbc
gkctl bulk-add b "$N" --out-dir "$WORK/terms" >/dev/null || exit 1
settle_writes
# The fast path and the registrar sized for the run, with an eighth of room: what an operator
# would configure for that many terminals, not a table sized for the benchmark's convenience.
max=$((N + N / 8))
[ "$max" -le 1048576 ] || max=1048576
SBCD_CONF_EXTRA="log.registrations = no
registrar.max_terminals = $max
fastpath.admission = ${BENCH_ADMISSION:-yes}
${BENCH_SBCD_EXTRA:-}" \
	SOFTSWITCHD_CONF_EXTRA="log.registrations = no
registrar.max_terminals = $max" \
	start_sbc_topology || exit 1
echo "# fast path: $(xdp_fastpath_mode)"

# rss_kb <pid>
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# The memory sbcd's pinned maps hold, in bytes (bpftool's bytes_memlock, summed).
maps_bytes() {
	local f total=0 b
	for f in "$PIN_ROOT/$IF_ACCESS"/*; do
		b=$(bpftool -j map show pinned "$f" 2>/dev/null |
			python3 -c 'import json, sys; print(json.load(sys.stdin).get("bytes_memlock", 0))' \
				2>/dev/null)
		total=$((total + ${b:-0}))
	done
	echo "$total"
}
# The elements' refusals by reason, for a shortfall's cause.
reasons() {
	local d
	for d in sbcd softswitchd aucd; do
		ctl "$d" stats | grep -E '^(reason|core_auth|failures)\.' | grep -v '\.OK ' |
			sed "s/^/# $d /"
	done
}
# Every counter of the three daemons that says something was lost, late, retried or refused, when
# it is not 0: where a shortfall or a slow tail comes from.
trouble() {
	local d
	for d in sbcd softswitchd aucd; do
		ctl "$d" stats | awk -v d="$d" '$2 ~ /^[0-9]+$/ && $2 != 0 &&
			$1 ~ /retrans|timeout|drop|full|no_slot|nobufs|shed|overload|stray|expired|dup|no_identifier|failed|DROP/ &&
			$1 !~ /^admission\.enabled|^tables\./ { print "# " d " " $1 " " $2 }'
	done
}
field() { echo "$1" | sed -n "s/.* $2=\([0-9.]*\).*/\1/p"; }

if [ "$MODE" = capacity ]; then
	out=$(in_term "$BIN/gkterm" --server "$SBC4:5060" --idsp sbc1 --prefix b --count "$N" \
		--key-dir "$WORK/terms" --quiet --window 1024 --sockets 4 --timeout 600)
	echo "$out" | grep -v '^summary' | sort | uniq -c | sort -rn | head -5 | sed 's/^/# /'
	echo "$out" | grep -E '^summary' | sed 's/^/# first registration: /'
	reasons
	records=$(stat_of sbcd records)
	rss=$(rss_kb "$PID_sbcd")
	maps=$(maps_bytes)
	echo "# sbcd: $records terminals, RSS ${rss} KiB, BPF maps $maps bytes"
	echo "bench terminals_registered_sbc $records"
	[ "$records" -gt 0 ] &&
		echo "bench sbcd_bytes_per_terminal $(((rss * 1024 + maps) / records)) bytes"
	# The storm: the softswitch restarts (its bindings are in memory, issue 16), and every
	# terminal registers again at once, as they would when told to.
	stop_daemon softswitchd
	start_daemon softswitchd "$NS_CORE" -c "$WORK/softswitchd.conf" || exit 1
	out=$(in_term "$BIN/gkterm" --server "$SBC4:5060" --idsp sbc1 --prefix b --count "$N" \
		--key-dir "$WORK/terms" --quiet --window 1024 --sockets 4 --timeout 600)
	echo "$out" | grep -v '^summary' | sort | uniq -c | sort -rn | head -5 | sed 's/^/# /'
	summary=$(echo "$out" | grep '^summary')
	echo "$summary" | sed 's/^/# storm: /'
	reasons
	reg=$(field "$summary" registered)
	rate=$(field "$summary" rate)
	if [ "${reg:-0}" = "$N" ] && [ -n "$rate" ]; then
		echo "bench reregister_storm_sbc $(awk -v n="$N" -v r="$rate" 'BEGIN { printf "%.1f", n / r }') s"
	else
		echo "# storm: ${reg:-0} of $N registered again"
		echo "bench reregister_storm_sbc 0 s"
	fi
	exit 0
fi

if [ "$MODE" = latency ]; then
	out=$(in_term "$BIN/gkterm" --server "$SBC4:5060" --idsp sbc1 --prefix b --count "$N" \
		--key-dir "$WORK/terms" --quiet --window 65536 --sockets 4 --rate "$OFFERED" \
		--timeout 60)
	summary=$(echo "$out" | grep '^summary')
	echo "$summary" | sed "s/^/# offered $OFFERED reg\/s (80% of $PEAK): /"
	trouble
	echo "bench reg_latency_p99_at_80pct_sbc $(field "$summary" p99) ms"
	exit 0
fi

# overload: offered at three times the peak for the window; what completed by its end counts.
echo "# offered $OFFERED reg/s for $WINDOW_S s (peak $PEAK reg/s), $N terminals"
in_term "$BIN/gkterm" --server "$SBC4:5060" --idsp sbc1 --prefix b --count "$N" \
	--key-dir "$WORK/terms" --quiet --window 65536 --sockets 8 --rate "$OFFERED" \
	--timeout $((WINDOW_S + 10)) --progress-file "$WORK/progress" >"$WORK/gkterm.out" 2>&1 &
GKT=$!
PIDS+=("$GKT")
# the progress line at the end of the window: registered=N/M ... elapsed=S s
window_over() {
	local line el
	line=$(cat "$WORK/progress" 2>/dev/null)
	el=$(echo "$line" | sed -n 's/.* elapsed=\([0-9.]*\) s.*/\1/p')
	[ -n "$el" ] && awk -v e="$el" -v w="$WINDOW_S" 'BEGIN { exit !(e >= w) }' || return 1
	echo "$line" >"$WORK/window-end"
}
wait_until $(((WINDOW_S + 30) * 10)) window_over
done_at=$(cat "$WORK/window-end" 2>/dev/null)
shedding=$(ctl sbcd stats | grep -E '^(admission\.|fastpath\.DROP_SHED |rejects_overload |relay_full )')
wait "$GKT"
sed -n 's/^summary/# whole run: summary/p' "$WORK/gkterm.out"
echo "$shedding" | sed 's/^/# sbcd /'
ctl softswitchd stats | grep -E '^(rejects_overload|core\.|uplink\.shed)' | sed 's/^/# softswitchd /'
got=$(echo "$done_at" | sed -n 's/^registered=\([0-9]*\)\/.*/\1/p')
el=$(echo "$done_at" | sed -n 's/.* elapsed=\([0-9.]*\) s.*/\1/p')
echo "# at the end of the window: ${done_at:-no progress line}"
if [ -n "$got" ] && [ -n "$el" ]; then
	echo "bench overload_goodput_sbc $(awk -v g="$got" -v e="$el" -v p="$PEAK" 'BEGIN { printf "%.0f", 100 * g / (e * p) }') %"
else
	echo "bench overload_goodput_sbc 0 %"
fi
