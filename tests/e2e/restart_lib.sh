# SPDX-License-Identifier: GPL-2.0-only
# The crash test shared by t_restart_*.sh: the element that holds the terminals' keys (FRONT:
# softswitchd in the direct topology, sbcd in the SBC one) is killed with SIGKILL while
# terminals of all four protocols exchange protected datagrams with it, and started again. It
# must take every binding back with the same key, the terminals must keep passing without
# registering again, a datagram it accepted before the kill must be refused after it, and a
# binding that expired while it was down must be dropped.
#
# restart_midway, after restart_run: the front is killed again while terminals of all four
# protocols are half-way through registering. Those registrations must complete through the
# terminals' retransmissions: a request the dead front never answered is answered by the new
# one, and an answer to a challenge the new one never issued is challenged afresh
# (stale_answers).
#
# The caller has built the rig, set FRONT, SERVER4 (the front's address as terminals see it) and
# gkterm_front (gkterm_direct or gkterm_sbc), and started the topology with
# registrar.expires_min = 1 on the front. replay_drops prints the front's count of replayed
# gk-mac datagrams.
RESTART_PLAN=15
RESTART_PROTOS="sip mgcp h248 h323"
RESTART_N=20   # terminals per protocol, registered before the kill
MIDWAY_N=300   # terminals per protocol, registering while the front is killed
MIDWAY_RATE=100 # registrations started per second and protocol
INJECT=$REPO/tests/e2e/udp_inject.py

restart_provision() { # restart_provision provision|provision_sbc
	local p
	"$1" termr short
	for p in $RESTART_PROTOS; do
		gkctl bulk-add "$p" "$RESTART_N" --out-dir "$WORK/keys-$p" >/dev/null ||
			bail "gkctl bulk-add $p failed"
		gkctl bulk-add "m$p" "$MIDWAY_N" --out-dir "$WORK/keys-m$p" >/dev/null ||
			bail "gkctl bulk-add m$p failed"
		if [ -n "${NS_SBC:-}" ]; then
			gkctl bulk-add "c$p" "$MIDWAY_N" --out-dir "$WORK/keys-c$p" >/dev/null ||
				bail "gkctl bulk-add c$p failed"
		fi
	done
}

# "IDc fingerprint" of every binding the front holds, sorted.
front_fprs() {
	ctl "$FRONT" bindings | sed -n 's/^\([^ ]*\) .* fpr=\([0-9a-f]*\) .*/\1 \2/p' | sort
}
bindings_count() { ctl "$FRONT" bindings | grep -v '^short ' | grep -c ' fpr='; }
bindings_at_least() { [ "$(bindings_count)" -ge "$1" ]; }
# rx of IDc's binding: the protected datagrams the front verified from it.
binding_rx() { ctl "$FRONT" bindings | sed -n "s/^$1 .* rx=\([0-9]*\) .*/\1/p"; }
binding_rx_at_least() { [ "$(binding_rx "$1")" -ge "$2" ]; }
time_after() { [ "$(date +%s)" -gt "$1" ]; }

restart_run() {
	local p n pid all=$((4 * RESTART_N + 1)) started

	capture_start acc "$NS_TERM" "$IF_TERM"
	wait_until 200 capture_canary acc "$NS_TERM" "$SERVER4" 9 || bail "tshark does not capture"

	# A terminal with a 2-second binding: it must be gone after the restart.
	PROTO=sip gkterm_front --key-file "$WORK/short.key" --expires 2 >"$WORK/short.out" 2>&1 ||
		bail "the short-lived terminal does not register: $(cat "$WORK/short.out")"
	started=$(date +%s)

	# Every protocol's terminals register and then keep sending protected keep-alives for
	# some 8 s, across the kill; termr, alone on its socket, is the one whose datagram is
	# replayed.
	local pids=()
	for p in $RESTART_PROTOS; do
		PROTO=$p gkterm_front --key-dir "$WORK/keys-$p" --prefix "$p" --count "$RESTART_N" \
			--options 8 --options-interval 1000 >"$WORK/run-$p.out" 2>&1 &
		pids+=($!)
		PIDS+=($!)
	done
	PROTO=sip gkterm_front --key-file "$WORK/termr.key" --options 16 --options-interval 500 \
		>"$WORK/run-termr.out" 2>&1 &
	pids+=($!)
	PIDS+=($!)
	wait_until 300 bindings_at_least "$all" && wait_until 100 binding_rx_at_least termr 2
	ok $? "$all terminals of four protocols are registered and sending protected datagrams"
	front_fprs | grep -v '^short ' >"$WORK/fprs.before"

	kill_front
	ok $? "$FRONT is killed with SIGKILL in the middle of the run"
	# Until the short binding has expired, with the front down.
	wait_until 100 time_after $((started + 2))
	cp "$WORK/$FRONT.log" "$WORK/$FRONT.log.before-kill"
	: >"$WORK/$FRONT.log"
	start_daemon "$FRONT" "$FRONT_NS" -c "$WORK/$FRONT.conf" || bail "$FRONT does not restart"
	[ "${FRONT}" = sbcd ] && expect_fastpath

	grep -q "took back $all registered terminal(s) from .*, dropped 1 expired" "$WORK/$FRONT.log"
	ok $? "the restarted $FRONT takes the $all terminals back and drops the expired one"
	grep "took back" "$WORK/$FRONT.log" | diag
	front_fprs | grep -v '^short ' >"$WORK/fprs.after"
	cmp -s "$WORK/fprs.before" "$WORK/fprs.after" && [ "$(wc -l <"$WORK/fprs.after")" = "$all" ]
	ok $? "every binding is back with the same key fingerprint"
	! ctl "$FRONT" bindings | grep -q '^short '
	ok $? "the binding that expired while $FRONT was down is gone"

	local failed=0
	for pid in "${pids[@]}"; do
		wait "$pid" || failed=$((failed + 1))
	done
	local opts_ok=1 regs_ok=1 fpr_ok=1
	for p in $RESTART_PROTOS termr; do
		diag <"$WORK/run-$p.out"
		n=$RESTART_N
		[ "$p" = termr ] && n=1
		grep -q "^summary terminals=$n registered=$n failed=0" "$WORK/run-$p.out" || regs_ok=0
		if [ "$p" = termr ]; then
			grep -q '^options sent=16 ok=16 bad_downlink=0' "$WORK/run-$p.out" || opts_ok=0
		else
			grep -q "^options sent=$((8 * n)) ok=$((8 * n)) bad_downlink=0" \
				"$WORK/run-$p.out" || opts_ok=0
		fi
		# The terminal's own key is the one the restarted front holds.
		keys_match "$WORK/run-$p.out" "$WORK/fprs.after" || fpr_ok=0
	done
	[ $failed = 0 ] && [ $regs_ok = 1 ]
	ok $? "every gkterm run ends with all its terminals registered, none failed"
	[ $failed = 0 ] && [ $regs_ok = 1 ] || registration_failures "$WORK"/run-*.out
	[ $opts_ok = 1 ]
	ok $? "every protected keep-alive of every protocol, before and after the kill, is answered"
	[ $fpr_ok = 1 ]
	ok $? "each terminal holds the key the restarted $FRONT holds for it"
	[ "$(stat_of "$FRONT" registrations)" = 0 ] && [ "$(stat_of "$FRONT" refreshes)" = 0 ]
	ok $? "no terminal registered again with the restarted $FRONT"
	is "$(stat_of "$FRONT" restored)" "$all" "$FRONT counts the $all restored bindings"

	# A protected datagram termr sent before the kill, sent again from termr's address and port.
	capture_stop acc "$NS_TERM" "$SERVER4"
	local line src sport hex
	line=$(gk_tshark -n -r "$WORK/acc.pcapng" \
		-Y "ip.dst == $SERVER4 && udp.dstport == 5060 && sip.Method == \"OPTIONS\"" \
		-T fields -e frame.time_epoch -e ip.src -e udp.srcport -e udp.payload 2>/dev/null |
		awk -v port="$(termr_port)" '$3 == port { print; exit }')
	read -r _ src sport hex <<<"$line"
	hex=$(echo "$hex" | tr -d ':')
	[ -n "$hex" ]
	ok $? "a protected OPTIONS termr sent before the kill was captured ($src:$sport)"
	local rx_before drops_before
	rx_before=$(binding_rx termr)
	drops_before=$(replay_drops)
	in_term python3 "$INJECT" "$src:$sport" "$SERVER4:5060" --hex "$hex"
	wait_until 50 eval '[ "$(replay_drops)" -gt "$drops_before" ]' &&
		[ "$(binding_rx termr)" = "$rx_before" ]
	ok $? "replayed after the restart, it is dropped as a replay, not accepted a second time"
}

# keys_match <gkterm output> <"IDc fingerprint" list>: every terminal gkterm registered holds
# the key the list gives for it.
keys_match() {
	! sed -n 's/^registered \([^ ]*\) .*fpr=\([0-9a-f]*\).*/\1 \2/p' "$1" |
		while read -r id f; do
			grep -qx "$id $f" "$2" || echo "$id"
		done | grep -q .
}

# termr's source port, from the front's binding.
termr_port() {
	ctl "$FRONT" bindings | sed -n 's/^termr .* addr=[^ ]*:\([0-9]*\) .*/\1/p'
}

kill_daemon() { # kill_daemon <name>: SIGKILL, and reaped here so that the shell reports nothing
	local pid
	eval "pid=\$PID_$1"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	! kill -0 "$pid" 2>/dev/null
}
kill_front() { kill_daemon "$FRONT"; }
registrations_at_least() { [ "$(stat_of "$FRONT" registrations)" -ge "$1" ]; }

# restart_midway [<daemon> <namespace> <prefix>]: the front by default; in the SBC topology also
# softswitchd, which holds the core's half of the registrations sbcd relays.
restart_midway() {
	local victim=${1:-$FRONT} victim_ns=${2:-$FRONT_NS} m=${3:-m}
	local p pid pids=() failed=0 regs_ok=1 fpr_ok=1 n=$MIDWAY_N killed_at

	for p in $RESTART_PROTOS; do
		PROTO=$p gkterm_front --key-dir "$WORK/keys-$m$p" --prefix "$m$p" --count "$n" \
			--rate "$MIDWAY_RATE" >"$WORK/$m-$p.out" 2>&1 &
		pids+=($!)
		PIDS+=($!)
	done
	# A quarter of the way through, counted by the front from its start.
	local base
	base=$(stat_of "$FRONT" registrations)
	wait_until 300 registrations_at_least $((base + n))
	killed_at=$(($(stat_of "$FRONT" registrations) - base))
	kill_daemon "$victim"
	ok $? "$victim is killed with SIGKILL with $killed_at of $((4 * n)) registrations done"
	start_daemon "$victim" "$victim_ns" -c "$WORK/$victim.conf" || bail "$victim does not restart"
	[ "$victim" = sbcd ] && expect_fastpath
	for pid in "${pids[@]}"; do
		wait "$pid" || failed=$((failed + 1))
	done
	ctl "$FRONT" bindings | sed -n 's/^\([^ ]*\) .* fpr=\([0-9a-f]*\) .*/\1 \2/p' |
		sort >"$WORK/fprs.$m"
	for p in $RESTART_PROTOS; do
		grep -v '^registered ' "$WORK/$m-$p.out" | diag
		grep -q "^summary terminals=$n registered=$n failed=0" "$WORK/$m-$p.out" || regs_ok=0
		keys_match "$WORK/$m-$p.out" "$WORK/fprs.$m" || fpr_ok=0
	done
	[ $failed = 0 ] && [ $regs_ok = 1 ]
	ok $? "all $((4 * n)) registrations of four protocols complete, none failed"
	[ $failed = 0 ] && [ $regs_ok = 1 ] || registration_failures "$WORK/$m"-*.out
	[ $fpr_ok = 1 ]
	ok $? "each of them holds the key $FRONT holds for it"
	echo "$FRONT: restored $(stat_of "$FRONT" restored)" \
		"registrations $(stat_of "$FRONT" registrations)" \
		"stale_answers $(stat_of "$FRONT" stale_answers)" \
		"rejects_overload $(stat_of "$FRONT" rejects_overload)" | diag
	[ "$victim" = softswitchd ] &&
		echo "softswitchd: core_stale_answers $(stat_of softswitchd core_stale_answers)" | diag
	return 0
}
