#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The soak (make soak): hours of a day's churn compressed into SOAK_S seconds (default 600), to
# show that nothing in the daemons grows with time. Both links of the SBC topology lose 1 % of
# frames both ways (tools/gkimpair; SOAK_IMPAIR to change). The soak first measures what this
# rig registers at most (SIP through sbcd, over those links), then offers half of it
# (SOAK_LOAD_PCT, default 50), split over
# the four protocols (SOAK_PROTOS to run fewer), for SOAK_S seconds, in rounds of SOAK_ROUND_S seconds of terminals per
# protocol taking turns. Half is counted in registrations: a refresh is one, and the protected
# requests and deregistrations ride on top.
#   - churn rounds: register, one protected request, one refresh, another protected request,
#     deregister;
#   - expiry rounds (three pools in turn): register with a short lifetime, one protected request,
#     and go silent, so that the bindings expire.
# Every SOAK_SAMPLE_S seconds (default 10) it samples each daemon's RSS, the resident bytes of its
# stepped tables (tables.bytes in its stats: runtime/steps.h) and its open fds, and its table sizes
# (bindings, registrations in progress, relay, transaction and unbound tables, requests to the AuC
# in flight, AuC sessions); and each stepped table's capacity, bytes, maximum, steps and peak
# ($SOAK_OUT/soak-tables.tsv). It prints the table, draws it into $SOAK_OUT/soak.png (gnuplot),
# and fails:
#   - when RSS grew after the warm-up (SOAK_WARMUP_S, default a fifth of the run, at least the
#     MGCP/H.248 history's 30 s, in which it fills, and two samples) by
#     more than the daemon's stepped tables grew, plus a slack of 2 % and 2 MB: a step towards a
#     table's maximum is explained growth, reported as such ("soak growth" lines), anything more is
#     a leak;
#   - when a table took a step that its peak never needed (the peak is not past the capacity before
#     the step), at any sample;
#   - when fds grew after the warm-up, or a table's median size did;
#   - when any registration or deregistration failed, or when, once the last bindings expired,
#     anything is left: a binding, a registration in progress, an AuC session, a Start without its
#     Stop.
# Before the clock starts every pool registers once and sends its protected request: the core
# remembers a terminal it authenticated for a day, and that table is to be full before it is
# watched; the relay slots that hold protected requests take their usual steps then too.
# Output: "soak ..." lines; "soak check ok|FAIL <what>" for each check (tests/e2e/t_soak.sh turns
# them into TAP); exit status 0 when all passed. With SOAK_RETRY_LOG=1 each round's gkterm writes
# its --retry-log into the work directory (kept with KEEP_WORK=1), to trace a failure.
. "$(cd "$(dirname "$0")" && pwd)/rig-lib.sh"

SOAK_S=${SOAK_S:-600}
SAMPLE_S=${SOAK_SAMPLE_S:-10}
ROUND_S=${SOAK_ROUND_S:-4}
T_HIST_S=30 # how long sbcd keeps MGCP and H.248 answers: the history fills for that long
WARMUP_MIN=$((T_HIST_S + 2 * SAMPLE_S))
WARMUP_S=${SOAK_WARMUP_S:-$((SOAK_S / 5 > WARMUP_MIN ? SOAK_S / 5 : WARMUP_MIN))}
EXPIRES_SHORT=10 # the capacity run's lifetime (registrar.expires_min lowered to it)
# The expiry rounds' lifetime. The one keep-alive a terminal sends before it goes silent must
# never outlive its binding: under loss a step may take up to SIP's Timer F (32 s) or an MGCP or
# H.248 command's 18 s of retransmissions to be answered. At 10 s, 6 keep-alives of 180,000
# did at 3 % loss (and 2 of 870,000 at 1 %): the fast path rightly dropped their last copies as
# of a binding that had expired, and the terminals timed out.
EXPIRES_SILENT=40
# The churn rounds' (deregistered long before, unless a deregistration failed): after its refresh
# a terminal's keep-alive and deregistration may each take a Timer F.
EXPIRES_CHURN=70
CAP_N=${SOAK_CAP_N:-40000}
OUT=${SOAK_OUT:-$GK_BUILD/soak}
PROTOS=${SOAK_PROTOS:-sip mgcp h248 h323}
export IMPAIR=${SOAK_IMPAIR:-1 0 0 0}
DAEMONS="aucd softswitchd sbcd"
# Under ASan a freed block waits in a quarantine (256 MB by default) before it is reused, so RSS
# climbs until the quarantine is full: at a sanitized build's rates that took longer than the
# 60-second soak's warm-up (softswitchd +38 MB with its tables flat). A 16 MB quarantine fills
# within the warm-up and still catches a use of memory freed in the last few thousand frees.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16

rig_possible || { echo "soak: needs root and network namespaces" >&2; exit 1; }
command -v gnuplot >/dev/null || { echo "soak: gnuplot is missing (make deps)" >&2; exit 1; }
mkdir -p "$OUT" || exit 1
FAILED=0
check() { # check <0|1: passed> <what>
	if [ "$1" = 0 ]; then
		echo "soak check ok $2"
	else
		echo "soak check FAIL $2"
		FAILED=1
	fi
}

rig_sbc
provision_sbc
# Room for every pool at once, and lifetimes short enough to see them expire within the run.
MAX_TERMINALS=262144
# No line per registration in the logs: the soak would measure the log's growth.
export SBCD_CONF_EXTRA="registrar.expires_min = $EXPIRES_SHORT
registrar.max_terminals = $MAX_TERMINALS
log.registrations = no"
export SOFTSWITCHD_CONF_EXTRA="registrar.expires_min = $EXPIRES_SHORT
registrar.max_terminals = $MAX_TERMINALS
log.registrations = no"
gkctl bulk-add cap "$CAP_N" --out-dir "$WORK/keys-cap" >/dev/null || exit 1
settle_writes
start_sbc_topology || exit 1
echo "soak links $LINKS_IMPAIRED impaired (loss_pct dup_pct delay_ms jitter_ms: $IMPAIR)"

# --- What this rig registers at most: the best 2-second rate of a window-limited burst. ------
# (The whole run's rate would count the tail waiting out the lost datagrams' retransmissions.)
best_rate() { # best_rate <progress file> <pid>: polls it while the run lasts
	local best=0 r
	while kill -0 "$2" 2>/dev/null; do
		r=$(sed -n 's/.* rate=\([0-9]*\) reg\/s.*/\1/p' "$1" 2>/dev/null)
		[ -n "$r" ] && [ "$r" -gt "$best" ] && best=$r
		sleep 0.5
	done
	echo "$best"
}
PROTO=sip gkterm_sbc --key-dir "$WORK/keys-cap" --prefix cap --count "$CAP_N" --expires \
	"$EXPIRES_SHORT" --quiet --progress-file "$WORK/cap.progress" >"$WORK/cap.out" 2>&1 &
cap_pid=$!
PIDS+=($cap_pid)
capacity=$(best_rate "$WORK/cap.progress" $cap_pid)
wait $cap_pid
sed 's/^summary /soak capacity_run /' "$WORK/cap.out" | grep '^soak '
if [ -n "${SOAK_RATE:-}" ]; then
	RATE=$SOAK_RATE
else
	RATE=$((capacity * ${SOAK_LOAD_PCT:-50} / 100))
fi
[ "$RATE" -ge 40 ] || { echo "soak: measured capacity $capacity reg/s is no base for a soak" >&2; exit 1; }
# terminals started per second and protocol: churn rounds register twice, expiry rounds once
PER_PROTO=$((RATE * 2 / 3 / 4))
[ "$PER_PROTO" -ge 10 ] || PER_PROTO=10
ROUND_N=$((PER_PROTO * ROUND_S))
echo "soak capacity $capacity reg/s; offered $RATE reg/s ($PER_PROTO terminals/s per protocol), rounds of" \
	"$ROUND_N terminals, for $SOAK_S s, warm-up $WARMUP_S s, samples every $SAMPLE_S s"
for p in $PROTOS; do
	for pool in c x0 x1 x2; do
		gkctl bulk-add "$p$pool" "$ROUND_N" --out-dir "$WORK/keys-$p$pool" >/dev/null || exit 1
	done
done
settle_writes
# Each pool registers once and sends one protected request, as the rounds do: without that request
# sbcd's relay slots (10 KiB each, with the request they keep) would take all their steps after
# the warm-up (the ten-minute run at 6929733 saw one of 34 MB at 470 s: docs/durability.md).
prime() { # prime <proto>: each of its pools registers once
	local pool
	for pool in c x0 x1 x2; do
		PROTO=$1 gkterm_sbc --key-dir "$WORK/keys-$1$pool" --prefix "$1$pool" \
			--count "$ROUND_N" --expires "$EXPIRES_SILENT" --options 1 --quiet --timeout 60 \
			>"$WORK/prime-$1$pool.out" 2>&1
	done
}
in_parallel prime
grep -h '^summary ' "$WORK"/prime-*.out | awk '{ split($3, r, "="); n += r[2] } END {
	print "soak primed: " n + 0 " registrations, every pool once" }'

# --- Sampling. ---------------------------------------------------------------------------------
# One line per sample: the seconds since the start, then per daemon RSS (kB), its stepped tables'
# resident kB and fds, then the table sizes. Gauges read from the control sockets; a daemon that
# does not answer reads as -1, which the checks count as a failure. The stats are read before
# RSS, so that a step between the two reads shows in RSS no earlier than in the tables.
# Each stepped table's figures go to $WORK/tables.samples, one line per sample, daemon and table.
TABLES="sbcd:records sbcd:in_progress sbcd:relay_waiting sbcd:unbound_waiting sbcd:mgcp.txn.in_flight
sbcd:mgcp.txn.remembered sbcd:h248.txn.in_flight sbcd:h248.txn.remembered softswitchd:core_records
softswitchd:core_in_progress softswitchd:sbc_waiting softswitchd:auc_in_flight
softswitchd:accounting_in_flight aucd:sessions"
header="t"
for d in $DAEMONS; do
	header="$header ${d}_rss_kb ${d}_tables_kb ${d}_fds"
done
for t in $TABLES; do
	header="$header ${t/:/.}"
done
sample() { # sample <t>: one line of the table
	local line=$1 d pid t
	declare -A st=()
	for d in $DAEMONS; do
		eval "pid=\$PID_$d"
		st[$d]=$(ctl "$d" stats 2>/dev/null)
		line="$line $(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo -1)"
		line="$line $(awk '$1 == "tables.bytes" { v = int($2 / 1024) }
			END { print v == "" ? -1 : v }' <<<"${st[$d]}")"
		line="$line $(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)"
		awk -v t="$1" -v d="$d" '
			$1 ~ /^tables\..+\.[a-z]+$/ {
				k = substr($1, 8); f = k; sub(/\.[a-z]+$/, "", k); sub(/.*\./, "", f)
				if (!(k in seen)) { seen[k] = 1; order[++n] = k }
				v[k, f] = $2
			}
			END {
				for (i = 1; i <= n; i++) {
					k = order[i]
					print t, d, k, v[k, "capacity"], v[k, "bytes"], v[k, "max"],
					    v[k, "first"], v[k, "steps"], v[k, "peak"]
				}
			}' <<<"${st[$d]}" >>"$WORK/tables.samples"
	done
	for t in $TABLES; do
		d=${t%%:*}
		line="$line $(awk -v k="${t#*:}" '$1 == k { v = $2 } END { print v == "" ? -1 : v }' \
			<<<"${st[$d]}")"
	done
	echo "$line"
}
T0=$(date +%s)
sampler() {
	local next=0 now
	while :; do
		now=$(($(date +%s) - T0))
		if [ "$now" -ge "$next" ]; then
			sample "$now" >>"$WORK/samples"
			next=$((next + SAMPLE_S))
		fi
		sleep 0.5
	done
}
echo "$header" >"$WORK/samples.head"
: >"$WORK/samples"
: >"$WORK/tables.samples"
sampler &
SAMPLER=$!
PIDS+=($SAMPLER)

# --- The load: per protocol, rounds in turn until SOAK_S is over. --------------------------------
churn() { # churn <proto>: its rounds, one summary file per round
	local p=$1 round=0 pool args x=0
	while [ $(($(date +%s) - T0)) -lt "$SOAK_S" ]; do
		if [ $((round % 2)) = 0 ]; then
			pool=c
			args=(--options 1 --refresh 1 --deregister --expires "$EXPIRES_CHURN")
		else
			pool=x$x
			x=$(((x + 1) % 3))
			args=(--options 1 --expires "$EXPIRES_SILENT")
		fi
		PROTO=$p gkterm_sbc --key-dir "$WORK/keys-$p$pool" --prefix "$p$pool" \
			--count "$ROUND_N" --rate "$PER_PROTO" --quiet --timeout 60 "${args[@]}" \
			${SOAK_RETRY_LOG:+--retry-log "$WORK/retries-$p-$round"} \
			>"$WORK/round-$p-$round.out" 2>&1
		round=$((round + 1))
	done
}
in_parallel churn
LOAD_S=$(($(date +%s) - T0))

# --- What the load did. ------------------------------------------------------------------------
total_regs=0
total_failed=0
for p in $PROTOS; do
	cat "$WORK"/round-"$p"-*.out | awk -v p="$p" '
		/^summary / {
			rounds++
			for (i = 2; i <= NF; i++) {
				split($i, kv, "=")
				if (kv[1] == "terminals") terms += kv[2]
				else if (kv[1] == "registered") regs += kv[2]
				else if (kv[1] == "failed") failed += kv[2]
				else if (kv[1] == "retransmits") rtx += kv[2]
				else if (kv[1] == "p50" && kv[2] > p50) p50 = kv[2]
				else if (kv[1] == "p99" && kv[2] > p99) p99 = kv[2]
			}
		}
		/^options / { split($2, a, "="); split($3, b, "="); osent += a[2]; ook += b[2] }
		/^refreshed / { refreshed += $2 }
		/^deregistered [0-9]+$/ { dereg += $2 }
		/^failures\./ { sub(/^failures\./, "", $1); why[$1] += $2 }
		END {
			printf "soak %s rounds=%d terminals=%d registered=%d failed=%d retransmits=%d", p,
			    rounds, terms, regs, failed, rtx
			printf " refreshed=%d deregistered=%d options_sent=%d options_ok=%d", refreshed,
			    dereg, osent, ook
			printf " worst_round_p50_ms=%s worst_round_p99_ms=%s", p50, p99
			for (w in why) printf " failures.%s=%d", w, why[w]
			printf "\n"
		}'
done | tee "$WORK/load.summary"
read -r total_regs total_failed total_terms < <(awk '{
	for (i = 2; i <= NF; i++) { split($i, kv, "=")
		if (kv[1] == "registered") r += kv[2]; if (kv[1] == "failed") f += kv[2]
		if (kv[1] == "terminals") t += kv[2] } }
	END { print r + 0, f + 0, t + 0 }' "$WORK/load.summary")
echo "soak load ${LOAD_S} s: $total_regs registrations ($((total_regs / (LOAD_S > 0 ? LOAD_S : 1))) reg/s" \
	"achieved of $RATE offered), $total_failed failed"
while read -r _ p rest; do
	terms=$(sed -n 's/.* terminals=\([0-9]*\) .*/\1/p' <<<" $rest")
	regs=$(sed -n 's/.* registered=\([0-9]*\) .*/\1/p' <<<" $rest")
	failed=$(sed -n 's/.* failed=\([0-9]*\) .*/\1/p' <<<" $rest")
	[ "${failed:-1}" = 0 ] && [ "${regs:-0}" -gt 0 ] && [ "$regs" = "$terms" ]
	check $? "$p: every one of ${terms:-0} terminals registered and did all its steps (failed: ${failed:-?})"
	# gkterm's line for each failed terminal (the first ten of a round): which step ran out
	grep -h '^failed ' "$WORK"/round-"$p"-*.out | head -20 | sed "s/^/soak $p /"
done <"$WORK/load.summary"

# --- Drained: the last bindings expire, nothing is left anywhere. --------------------------------
drained() {
	[ "$(stat_of sbcd records)" = 0 ] && [ "$(stat_of sbcd in_progress)" = 0 ] &&
		[ "$(stat_of softswitchd core_in_progress)" = 0 ] &&
		[ "$(stat_of aucd sessions)" = 0 ] &&
		[ "$(stat_of sbcd mgcp.txn.remembered)" = 0 ] && [ "$(stat_of sbcd h248.txn.remembered)" = 0 ]
}
longest=$((EXPIRES_CHURN > EXPIRES_SILENT ? EXPIRES_CHURN : EXPIRES_SILENT))
wait_until $(((longest + 60) * 10)) drained
drain_rc=$?
if [ $drain_rc != 0 ]; then # what was left, and the first of sbcd's bindings, to trace it
	for c in records in_progress mgcp.txn.remembered h248.txn.remembered; do
		echo "soak left sbcd $c=$(stat_of sbcd $c)"
	done
	echo "soak left softswitchd core_in_progress=$(stat_of softswitchd core_in_progress)" \
		"core_records=$(stat_of softswitchd core_records)"
	echo "soak left aucd sessions=$(stat_of aucd sessions)"
	ctl sbcd bindings | head -20 | sed 's/^/soak left sbcd binding /'
fi
check $drain_rc "once the last bindings expired nothing is left: no binding or registration in progress at sbcd, none at the core, no AuC session, no MGCP or H.248 answer kept"
start_n=$(stat_of aucd accounting_start)
stop_n=$(stat_of aucd accounting_stop)
[ "$start_n" = "$stop_n" ] && [ "$start_n" -gt 0 ]
check $? "accounting pairs up: $start_n Starts, $stop_n Stops"
given_up=$(stat_of sbcd unbound_given_up)
[ "$given_up" = 0 ]
check $? "sbcd gave up no deregistration notice to the core (given up: $given_up, resent: $(stat_of sbcd unbound_resent))"
echo "soak counters sbcd registrations=$(stat_of sbcd registrations) refreshes=$(stat_of sbcd refreshes)" \
	"deregistrations=$(stat_of sbcd deregistrations) expirations=$(stat_of sbcd expirations)" \
	"core_resent=$(stat_of sbcd core_resent) unbound_resent=$(stat_of sbcd unbound_resent)" \
	"unbound_given_up=$(stat_of sbcd unbound_given_up) rejects=$(stat_of sbcd rejects)" \
	"rejects_overload=$(stat_of sbcd rejects_overload) refusals_repeated=$(stat_of sbcd refusals_repeated)"
echo "soak counters softswitchd sbc_resent=$(stat_of softswitchd sbc_resent)" \
	"auc_retransmits=$(stat_of softswitchd auc_retransmits)" \
	"accounting_retransmits=$(stat_of softswitchd accounting_retransmits)" \
	"accounting_given_up=$(stat_of softswitchd accounting_given_up)"
echo "soak counters aucd access_requests=$(stat_of aucd access_requests)" \
	"duplicates_answered=$(stat_of aucd duplicates_answered) accounting_start=$start_n" \
	"accounting_stop=$stop_n"
# Every counter of each daemon, kept with the plot; the reasons each decided on, in the output.
for d in $DAEMONS; do
	ctl "$d" stats >"$OUT/soak-stats-$d.txt" 2>/dev/null
	awk -v d="$d" '$1 ~ /^(reason|sbc_auth)\./ { r = r " " $1 "=" $2 }
		END { print "soak reasons " d (r == "" ? " none" : r) }' "$OUT/soak-stats-$d.txt"
done
kill "$SAMPLER" 2>/dev/null
wait "$SAMPLER" 2>/dev/null
sample "$(($(date +%s) - T0))" >>"$WORK/samples"

# --- The table, the plot, and growth after the warm-up. ------------------------------------------
cat "$WORK/samples.head" "$WORK/samples" >"$OUT/soak.tsv"
{
	echo "t daemon table capacity bytes max first steps peak"
	cat "$WORK/tables.samples"
} >"$OUT/soak-tables.tsv"
column -t "$OUT/soak.tsv" | sed 's/^/soak table /'
# Growth (tools/soak-growth.awk): RSS only by what the stepped tables took, and each step needed by
# its table's peak; fds and table sizes flat.
awk -v warm="$WARMUP_S" -v end="$LOAD_S" -f "$REPO/tools/soak-growth.awk" "$OUT/soak.tsv" \
	"$OUT/soak-tables.tsv" >"$WORK/growth"
cat "$WORK/growth"
grep -q '^soak check FAIL' "$WORK/growth" && FAILED=1

# Columns: t, then rss_kb, tables_kb and fds per daemon, then the table sizes.
NDAEMONS=$(wc -w <<<"$DAEMONS")
RSS_COLS=$(seq -s ' ' 2 3 $((3 * NDAEMONS)))
TABLES_KB_COLS=$(seq -s ' ' 3 3 $((3 * NDAEMONS + 1)))
FD_COLS=$(seq -s ' ' 4 3 $((3 * NDAEMONS + 1)))
FIRST_SIZE_COL=$((3 * NDAEMONS + 2))

gnuplot <<EOF 2>"$WORK/gnuplot.err"
set terminal pngcairo size 1200,1000 font ",9" noenhanced
set output "$OUT/soak.png"
set datafile separator whitespace
set key autotitle columnhead outside right
set multiplot layout 3,1 title "gatekey soak: $SOAK_S s, $RATE reg/s offered, loss $IMPAIR"
set xlabel "s"
set arrow from $WARMUP_S, graph 0 to $WARMUP_S, graph 1 nohead dt 2
set ylabel "RSS, and its stepped tables (MB)"
plot for [i=1:words("$RSS_COLS")] "$OUT/soak.tsv" using 1:(column(int(word("$RSS_COLS", i)))/1024.0) \
	with linespoints lc i title columnhead(int(word("$RSS_COLS", i))), \
	for [i=1:words("$TABLES_KB_COLS")] "$OUT/soak.tsv" using 1:(column(int(word("$TABLES_KB_COLS", i)))/1024.0) \
	with lines dt 2 lc i title columnhead(int(word("$TABLES_KB_COLS", i)))
set ylabel "open fds"
plot for [c in "$FD_COLS"] "$OUT/soak.tsv" using 1:int(c) with linespoints title columnhead(int(c))
set ylabel "entries"
plot for [c=$FIRST_SIZE_COL:$((FIRST_SIZE_COL - 1 + $(wc -w <<<"$TABLES")))] "$OUT/soak.tsv" using 1:c with lines title columnhead(c)
unset multiplot
EOF
[ -s "$OUT/soak.png" ]
check $? "the plot is drawn: $OUT/soak.png (tables: $OUT/soak.tsv, $OUT/soak-tables.tsv)"
[ -s "$WORK/gnuplot.err" ] && sed 's/^/soak gnuplot: /' "$WORK/gnuplot.err" | head -5
for d in $DAEMONS; do
	eval "pid=\$PID_$d"
	kill -0 "$pid" 2>/dev/null
	check $? "$d ran through the soak"
done
impair_report | sed 's/^/soak /'
if [ $FAILED = 0 ]; then echo "soak PASS"; else echo "soak FAIL"; fi
exit $FAILED
