# SPDX-License-Identifier: GPL-2.0-only
# Crashes at random moments, shared by t_kill_random*.sh: terminals of all four protocols register,
# refresh once and keep sending protected keep-alives, while one daemon at a time is killed with
# SIGKILL at random moments and started again, several times in one load run. Whatever the
# moment, every terminal must end registered with the key the front (the element that holds the
# terminals' keys) holds for it, and every retry a terminal made must be explained: each
# retransmission repeats a copy sent while the victim was down or about to die (gkterm
# --retry-log says when that copy left), and the overload answers the terminals waited out were
# each counted by an element. At the end every protected datagram the terminals sent, in all
# the runs, is replayed from its own source: none may be accepted a second time.
#
# The caller sources lib.sh and restart_lib.sh, sets FRONT, SERVER4 (the front's address as
# terminals see it), gkterm_front, VICTIMS (in kill order), EXPLAINING (daemon:counter pairs that
# explain retries), OVERLOAD_COUNTERS (those of them that count overload refusals), RIG_UP and
# TOPOLOGY_UP (commands that build the rig and start the daemons) and replay_counts (prints
# "pass.<name> n" and "drop.<name> n" lines: what the front's datagram check passed and dropped,
# by reason), and FRONT_CHECKS_IN_PROCESS=1 when no kernel program checks datagrams while the
# front is down, then runs kill_random_main. KILL_SEED=<n> repeats a run's random moments (the seed
# is printed); KILL_VICTIMS=<daemons> kills only those.
N=60    # terminals per protocol and run
RATE=15 # registrations started per second and protocol
KILLS=3 # per run
PROTOS="sip mgcp h248 h323"
KILL_PLAN_PER_VICTIM=5
KILL_PLAN_END=4

now_ms() { date +%s%3N; }
sum_lines() { awk '{ s += $1 } END { print s + 0 }'; }
namespace_of() {
	case $1 in
	sbcd) echo "$NS_SBC" ;;
	*) echo "$NS_CORE" ;;
	esac
}
now_ms() { date +%s%3N; }
sum_lines() { awk '{ s += $1 } END { print s + 0 }'; }
# The longest a copy sent just after the victim came back may go unanswered for the victim's
# sake: for aucd, softswitchd's RADIUS client backs off up to 4 s between Access-Requests, so a
# terminal retransmits meanwhile; elsewhere the first retransmission after the restart is
# answered.
# Under the sanitizers every daemon runs several times slower: copies wait longer in queues.
SLACK_SCALE=1
[[ "${GK_BUILD:-}" == */san ]] && SLACK_SCALE=3
after_slack_ms() { echo $((SLACK_SCALE * $([ "$1" = aucd ] && echo 4500 || echo 1000))); }
before_slack_ms() { echo $((SLACK_SCALE * 1000)); }

# terminals <victim> <proto>: that run's terminals of one protocol, through the front.
terminals() {
	PROTO=$2 gkterm_front --key-dir "$WORK/keys-$1$2" --prefix "$1$2" --count "$N" \
		--rate "$RATE" --refresh 1 --refresh-interval 1500 --options 4 --options-interval 600 \
		--retry-log "$WORK/retries-$1-$2" --timeout 90 >"$WORK/run-$1-$2.out" 2>&1
}
gkterms_running() { pgrep -f -- "--retry-log $WORK/retries-$1-" >/dev/null; }

sleep_ms() { sleep "$(($1 / 1000)).$(printf '%03d' $(($1 % 1000)))"; }

# kill_at_random <victim>: KILLS times, at a random moment 0.7 to 2.2 s after the last (re)start,
# SIGKILL, and a restart after a random 0.1 to 0.8 s down, as a supervisor would; "<killed_ms>
# <ready_ms>" per kill in $WORK/outages-<victim>, and the victim's counters just before each
# kill in $WORK/stats-<victim>.<i>. These sleeps choose the moments; no wait for readiness is one.
kill_at_random() {
	local v=$1 i up_ms down_ms killed ready
	: >"$WORK/outages-$v"
	for ((i = 1; i <= KILLS; i++)); do
		up_ms=$((700 + RANDOM % 1500))
		down_ms=$((100 + RANDOM % 700))
		sleep_ms "$up_ms"
		gkterms_running "$v" || break
		ctl "$v" stats >"$WORK/stats-$v.$i"
		killed=$(now_ms)
		kill_daemon "$v" || return 1
		sleep_ms "$down_ms"
		start_daemon "$v" "$(namespace_of "$v")" -c "$WORK/$v.conf" || return 1
		[ "$v" = sbcd ] && expect_fastpath
		ready=$(now_ms)
		echo "$killed $ready" >>"$WORK/outages-$v"
		echo "$v: killed after $up_ms ms up, back $((ready - killed)) ms later" | diag
	done
}

# tail_snapshot <victim>: the counters (as counters() prints them) once the last outage's window
# has closed, its restart plus after_slack_ms, into $WORK/counters-<victim>.tail. What the
# elements count from then on explains the retries after every window. This sleep chooses a
# moment; it waits for no readiness.
tail_snapshot() {
	local v=$1 last_ready end now
	last_ready=$(awk 'END { print $2 }' "$WORK/outages-$v")
	[ -n "$last_ready" ] || return 0
	end=$((last_ready + $(after_slack_ms "$v")))
	now=$(now_ms)
	[ "$end" -le "$now" ] || sleep_ms $((end - now))
	counters >"$WORK/counters-$v.tail.tmp" && mv "$WORK/counters-$v.tail.tmp" "$WORK/counters-$v.tail"
}

# summed <daemon> <counter>: the counter over every incarnation of the daemon since the test
# began (the killed ones' as read just before their kill).
summed() {
	local f sum
	sum=$(stat_of "$1" "$2")
	for f in "$WORK/stats-$1".*; do
		[ -e "$f" ] || continue
		sum=$((sum + $(awk -v k="$2" '$1 == k { print $2; exit }' "$f" | grep . || echo 0)))
	done
	echo "$sum"
}

# unexplained_retries <victim>: retry lines whose unanswered copy left neither during an outage
# (from 1 s before the kill, the time a copy may spend queued and worked on, to the restart
# plus after_slack_ms) nor in answer to anything the elements said.
unexplained_retries() {
	cat "$WORK/retries-$1-"* 2>/dev/null |
		awk -v slack="$(after_slack_ms "$1")" -v before="$(before_slack_ms)" \
			-v outages="$WORK/outages-$1" '
		BEGIN { while ((getline l < outages) > 0) { split(l, o, " "); k[++n] = o[1]; r[n] = o[2] } }
		{
			# A copy answered provisionally (MGCP 100, H.248 Pending) is sent again 5 s after
			# that answer, a longer wait than any retransmission interval (at most 4 s): the
			# element held it from then on, and that is the moment the outage must cover.
			t = $3
			if ($2 - $3 > 4500) t = $2 - 5000
			ok = 0
			for (i = 1; i <= n; i++)
				if (t >= k[i] - before && t <= r[i] + slack) ok = 1
			if (!ok) print
		}'
}

# last_fprs <gkterm output>: "IDc fingerprint" of each terminal's last registration (a refresh
# brings a new key), sorted.
last_fprs() {
	sed -n 's/^registered \([^ ]*\) .*fpr=\([0-9a-f]*\).*/\1 \2/p' "$1" |
		awk '{ f[$1] = $2 } END { for (i in f) print i, f[i] }' | sort
}

# counters: the counters of $EXPLAINING (daemon:counter) that explain retries, each summed over
# every incarnation of its daemon.
counters() {
	local dc
	for dc in $EXPLAINING; do
		echo "$dc $(summed "${dc%%:*}" "${dc#*:}")"
	done | sort
}
# delta <before> <after> <daemon:counter>: how much it grew over a run.
delta() { join "$1" "$2" | awk -v k="$3" '$1 == k { d = $3 - $2 } END { print d + 0 }'; }

run_with_kills() {
	local v=$1 p failed=0 regs_ok=1 opts_ok=1 refresh_ok=1 keys_ok=1 retries unexplained
	counters >"$WORK/counters-$v.before"
	in_parallel terminals "$v" &
	local load=$!
	PIDS+=($load)
	kill_at_random "$v"
	ok $? "$v is killed with SIGKILL at $(wc -l <"$WORK/outages-$v") random moments of the run and comes back each time"
	tail_snapshot "$v" &
	local snap=$!
	wait "$load" || failed=1
	# a load over before the last window closed has nothing after it to explain
	kill "$snap" 2>/dev/null
	wait "$snap" 2>/dev/null

	ctl "$FRONT" bindings | sed -n 's/^\([^ ]*\) .* fpr=\([0-9a-f]*\) .*/\1 \2/p' |
		sort >"$WORK/front-fprs-$v"
	for p in $PROTOS; do
		grep -v '^registered ' "$WORK/run-$v-$p.out" | diag
		grep -q "^summary terminals=$N registered=$N failed=0" "$WORK/run-$v-$p.out" || regs_ok=0
		grep -q "^refreshed $N\$" "$WORK/run-$v-$p.out" || refresh_ok=0
		grep -q "^options sent=$((4 * N)) ok=$((4 * N)) bad_downlink=0" "$WORK/run-$v-$p.out" ||
			opts_ok=0
		last_fprs "$WORK/run-$v-$p.out" >"$WORK/term-fprs-$v-$p"
		[ "$(wc -l <"$WORK/term-fprs-$v-$p")" = "$N" ] &&
			[ -z "$(comm -23 "$WORK/term-fprs-$v-$p" "$WORK/front-fprs-$v")" ] || keys_ok=0
	done
	[ $failed = 0 ] && [ $regs_ok = 1 ] && [ $refresh_ok = 1 ] && [ $opts_ok = 1 ]
	ok $? "$v killed: all $((4 * N)) terminals of four protocols registered, refreshed and had every keep-alive answered"
	[ $failed = 0 ] && [ $regs_ok = 1 ] || registration_failures "$WORK/run-$v-"*.out
	[ $keys_ok = 1 ]
	ok $? "$v killed: each of them holds the key $FRONT holds for it"

	counters >"$WORK/counters-$v.after"
	local b="$WORK/counters-$v.before" a="$WORK/counters-$v.after" overloaded refused radius
	retries=$(cat "$WORK/retries-$v-"* 2>/dev/null | wc -l)
	unexplained=$(unexplained_retries "$v" | wc -l)
	unexplained_retries "$v" | head -5 | diag
	# on stderr too, so that a failure shows them under prove (and in CI's log), with the outages
	if [ "$unexplained" != 0 ]; then
		{
			echo "unexplained retries (retry <resent at ms> <unanswered copy sent at ms> <IDc> <phase>):"
			unexplained_retries "$v" | head -10
			echo "outages (<killed ms> <ready ms>), slack $(before_slack_ms) ms before, $(after_slack_ms "$v") ms after:"
			cat "$WORK/outages-$v"
		} | sed 's/^/# /' >&2
	fi
	overloaded=$(cat "$WORK/run-$v-"*.out |
		sed -n 's/^summary .* overloaded=\([0-9]*\).*/\1/p' | sum_lines)
	refused=0
	for p in $OVERLOAD_COUNTERS; do
		refused=$((refused + $(delta "$b" "$a" "$p")))
	done
	radius=$(($(delta "$b" "$a" softswitchd:auc_retransmits) + $(delta "$b" "$a" softswitchd:accounting_retransmits)))
	# A retry outside every outage is explained only by the AuC answering late: each RADIUS
	# retransmission of softswitchd's (its first after 1 s without an answer) held a registration
	# for a second or more, over which its terminal sends at most four copies again (MGCP and
	# H.248 after 0.2 and 0.6 s and once after a 100/Pending, SIP and RAS after 0.5 and 1.5 s).
	local auc_late explained_by_auc t="$WORK/counters-$v.tail" slow=0
	# (When aucd is the victim its outages cause them, and its window already runs past them:
	# only those after the last window count.)
	auc_late=$(delta "$b" "$a" softswitchd:auc_retransmits)
	if [ "$v" = aucd ]; then
		auc_late=0
		[ -s "$t" ] && auc_late=$(delta "$t" "$a" softswitchd:auc_retransmits)
	fi
	# After the last window, a copy that reached the front while the core was still deciding on
	# the first (repeats_while_deciding) shows the first arrived and waited: the elements were
	# slow there, and lost nothing. Under the sanitizers an AuC round trip can pass MGCP's first
	# retransmission at 200 ms without any RADIUS retransmission.
	[ -s "$t" ] && slow=$(delta "$t" "$a" "$FRONT:repeats_while_deciding")
	explained_by_auc=$((4 * auc_late + slow))
	{
		echo "$v killed: the terminals sent $retries copies again ($unexplained outside an outage," \
			"$explained_by_auc explainable by $auc_late RADIUS retransmissions and $slow copies" \
			"that found the first still being decided)" \
			"and waited out $overloaded overload answers; the elements over the run:"
		join "$b" "$a" | awk '$3 != $2 { printf "  %s +%d\n", $1, $3 - $2 }'
	} | diag
	[ "$unexplained" -le "$explained_by_auc" ] && { [ "$retries" -gt 0 ] || [ "$v" = aucd ]; }
	ok $? "$v killed: each of the $retries retransmissions repeats a copy the outage swallowed, or one the AuC answered late ($unexplained)"
	# The elements' own retries and refusals, on the other side of the same outages.
	if [ "$v" = aucd ]; then
		[ "$radius" -gt 0 ] && [ "$overloaded" -le "$refused" ]
	else
		[ "$overloaded" -le "$refused" ]
	fi
	ok $? "$v killed: the elements count what the terminals waited out ($overloaded of $refused overload refusals)$([ "$v" = aucd ] && echo ", and softswitchd's $radius RADIUS retransmissions")"
}


kill_random_main() {
	local v p sent rx_before rx_after regs_before replay_class
	local seed=${KILL_SEED:-$(((RANDOM << 15) | RANDOM))}
	RANDOM=$seed
	echo "random moments from KILL_SEED=$seed" | diag
	"$RIG_UP"
	for v in $VICTIMS; do
		for p in $PROTOS; do
			gkctl bulk-add "$v$p" "$N" --out-dir "$WORK/keys-$v$p" >/dev/null ||
				bail "gkctl bulk-add $v$p failed"
		done
	done
	"$TOPOLOGY_UP" || bail "the daemons do not start"
	capture_start up "$NS_TERM" "$IF_TERM"
	wait_until 200 capture_canary up "$NS_TERM" "$SERVER4" 9 || bail "tshark does not capture"

	for v in $VICTIMS; do
		run_with_kills "$v"
	done

	# Every protected datagram the terminals sent, replayed from its own address and port.
	capture_stop up "$NS_TERM" "$SERVER4"
	# Where the front checks datagrams in its own process (no XDP), one that reached it while
	# it was dead, or about to die, was never accepted, and the window may rightly take it
	# once, late: those are left out, and the rest must all be refused.
	local skip_outages=/dev/null skipped
	[ -n "${FRONT_CHECKS_IN_PROCESS:-}" ] && skip_outages=$WORK/outages-$FRONT
	gk_tshark -n -r "$WORK/up.pcapng" -Y "ip.dst == $SERVER4 && gatekey.index" \
		-T fields -e frame.time_epoch -e ip.src -e udp.srcport -e udp.dstport -e udp.payload \
		2>/dev/null |
		awk -v dst="$SERVER4" -v outages="$skip_outages" -v before="$(before_slack_ms)" \
			-v skipped="$WORK/replays.skipped" '
		BEGIN { while ((getline l < outages) > 0) { split(l, o, " "); k[++n] = o[1]; r[n] = o[2] } }
		{
			ms = int($1 * 1000)
			for (i = 1; i <= n; i++)
				if (ms >= k[i] - before && ms <= r[i]) { print >skipped; next }
			gsub(":", "", $5)
			print $2 ":" $3, dst ":" $4, $5
		}' >"$WORK/replays"
	sent=$(wc -l <"$WORK/replays")
	skipped=$(cat "$WORK/replays.skipped" 2>/dev/null | wc -l)
	[ "$skipped" = 0 ] ||
		echo "left out: $skipped sent while $FRONT was down or in the second before" | diag
	[ $((sent + skipped)) -gt $(($(wc -w <<<"$VICTIMS") * 4 * N * 4)) ] && [ "$sent" -gt 0 ]
	ok $? "the capture holds the $((sent + skipped)) protected datagrams the terminals sent"
	replay_counts | sort >"$WORK/fp.before"
	rx_before=$(ctl "$FRONT" bindings | sed -n 's/.* rx=\([0-9]*\) .*/\1/p' | sum_lines)
	regs_before=$(stat_of "$FRONT" registrations)
	in_term python3 "$INJECT" --batch "$WORK/replays"
	wait_until 100 replays_dropped "$sent"
	ok $? "all $sent replayed datagrams are dropped by $FRONT"
	grown "$WORK/fp.before" "$WORK/fp.after" | awk '{ print $1, "+" $2 }' | diag
	rx_after=$(ctl "$FRONT" bindings | sed -n 's/.* rx=\([0-9]*\) .*/\1/p' | sum_lines)
	[ "$(counted pass "$WORK/fp.after")" = "$(counted pass "$WORK/fp.before")" ] &&
		[ "$rx_after" = "$rx_before" ] && [ "$(stat_of "$FRONT" registrations)" = "$regs_before" ]
	ok $? "none of them is accepted a second time: nothing passed, no binding verified more"
	replay_class=$(grown "$WORK/fp.before" "$WORK/fp.after" |
		awk '$1 ~ /^drop\..*(REPLAY|OLD_SEQ)/ { s += $2 } END { print s + 0 }')
	[ "$replay_class" -gt 0 ]
	ok $? "$FRONT counts them as replays ($replay_class of $sent; the rest under keys since replaced)"
}

# grown <before> <after>: "name growth" for each line of two replay_counts listings that grew (a
# counter a daemon prints only once it is not 0 counts as 0 before).
grown() {
	awk 'FILENAME == ARGV[1] { b[$1] = $2; next } $2 != b[$1] { print $1, $2 - b[$1] }' "$1" "$2"
}
# counted pass|drop <file>: the sum of those lines of a replay_counts listing.
counted() { awk -v k="$1." 'index($1, k) == 1 { s += $2 } END { print s + 0 }' "$2"; }
replays_dropped() {
	replay_counts | sort >"$WORK/fp.after"
	[ $(($(counted drop "$WORK/fp.after") - $(counted drop "$WORK/fp.before"))) -ge "$1" ]
}
