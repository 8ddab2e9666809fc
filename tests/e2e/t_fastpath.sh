#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The XDP fast path end to end (native XDP on the SBC's access veth): an attacker host floods
# the SBC with unknown-source, forged, registration-class and verified-port datagrams while real
# terminals register and exchange protected traffic; every real registration and protected
# datagram must succeed, the flood must be dropped in the kernel (counters read through the
# pinned maps), and terminals must keep passing across an sbcd restart.
. "$(dirname "$0")/lib.sh"
need_root
need_tool bpftool "bpftool is not installed (make deps)"
plan 23

# The per-host limit is what stops one attacker's registration flood; the rig's terminals share
# one host, so it is set above what they need and far below what the attacker sends.
export SBC_SOURCE_RATE=2000 SBC_SOURCE_BURST=4000
rig_sbc
rig_attacker
provision_sbc termr
gkctl bulk-add load 100 --out-dir "$WORK/keys" >/dev/null
start_sbc_topology || bail "aucd, softswitchd and sbcd do not start"
expect_fastpath
grep -q "fast path: XDP (native) on $IF_ACCESS" "$WORK/sbcd.log" &&
	[ "$(xdp_fastpath_mode)" = "native XDP" ] &&
	[ "$(ctl sbcd stats | sed -n 's/^fastpath\.mode //p')" = native ] &&
	[ "$(fastpath_fallback_reason)" = none ]
ok $? "sbcd attaches gk_xdp natively to the access interface (bpftool net show) and says so"

MAPS=$PIN_ROOT/$IF_ACCESS
bpftool map dump pinned "$MAPS/config" | grep -q '"verified": 15060'
ok $? "the pinned maps carry BTF: bpftool shows the config with named fields"

# --- A flood while real terminals register and talk ------------------------------------------
rx_before=$(stat_of sbcd rx_access)
in_atk "$BIN/gkflood" --target "$SBC4:5060" --kind mix --duration 15 --count 2000000 \
	--sockets 8 >"$WORK/flood.out" 2>&1 &
flood_pid=$!
PIDS+=($flood_pid)
flood_seen() { [ "$(pinned_stat DROP_NOT_REGISTRATION)" -gt 1000 ]; }
wait_until 50 flood_seen
ok $? "the flood reaches the SBC and XDP drops it"
out=$(gkterm_sbc --key-dir "$WORK/keys" --prefix load --count 100 --options 3 --window 50 --quiet)
rc=$?
echo "$out" | diag
echo "$out" | grep -q 'summary terminals=100 registered=100 failed=0'
ok $? "all 100 terminals register through the SBC during the flood"
echo "$out" | grep -q '^options sent=300 ok=300 bad_downlink=0'
ok $? "all 300 protected OPTIONS pass and are answered during the flood"
[ $rc = 0 ]
ok $? "gkterm reports success"
wait "$flood_pid"
cat "$WORK/flood.out" | diag
sent=$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' "$WORK/flood.out")
[ "${sent:-0}" -ge 100000 ]
ok $? "the attacker sent at least 100000 datagrams (${sent:-0})"

dropped=0
for c in DROP_NOT_REGISTRATION DROP_UNKNOWN_INDEX DROP_WRONG_SOURCE DROP_SPOOFED_VERIFIED \
	DROP_RATE_SOURCE DROP_RATE_GLOBAL DROP_BAD_TAG; do
	n=$(pinned_stat $c)
	echo "$c $n" | diag
	dropped=$((dropped + n))
done
[ "$dropped" -ge $((sent * 9 / 10)) ]
ok $? "XDP dropped at least 90% of the flood ($dropped of $sent)"
rx=$(($(stat_of sbcd rx_access) - rx_before))
# What may reach sbcd's userspace: the attacker host's share of registration-class datagrams,
# which its bucket bounds by time (burst, then rate for as long as the flood lasts), not by how
# fast the attacker sends, and the real terminals' own datagrams (100 registrations of two
# requests, 300 OPTIONS, termr's, retransmissions: 1,000 at most).
el=$(sed -n 's/.* elapsed_s=\([0-9.]*\) .*/\1/p' "$WORK/flood.out")
allowed=$(awk -v b="$SBC_SOURCE_BURST" -v r="$SBC_SOURCE_RATE" -v e="${el:-15}" \
	'BEGIN { printf "%d", b + r * (e + 1) + 1000 }')
[ "$rx" -le "$allowed" ]
ok $? "sbcd's userspace saw only what the attacker host's bucket lets through: $rx datagrams of $sent, at most $allowed in ${el:-?} s"
[ "$(pinned_stat DROP_SPOOFED_VERIFIED)" -gt 0 ] && [ "$(pinned_stat DROP_RATE_SOURCE)" -gt 0 ]
ok $? "datagrams aimed at the verified port and the attacker's registration flood are dropped"
[ "$(pinned_stat DROP_WRONG_SOURCE)" -gt 0 ] && [ "$(pinned_stat DROP_UNKNOWN_INDEX)" -gt 0 ]
ok $? "forged trailers are dropped: wrong source for real indexes, unknown index otherwise"
is "$(pinned_stat PASS_GKMAC)" "$(stat_of sbcd fastpath.PASS_GKMAC)" \
	"sbcd's counters are the pinned map's"
[ "$(pinned_stat PASS_GKMAC)" -ge 300 ]
ok $? "XDP verified the terminals' protected datagrams ($(pinned_stat PASS_GKMAC))"

# --- Other traffic is none of the fast path's business ------------------------------------------
in_sbc timeout 10 python3 -c '
import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("'"$SBC4"'", 9999))
s.settimeout(8); print(s.recv(100).decode())' >"$WORK/other.out" 2>&1 &
other_pid=$!
wait_until 50 in_sbc bash -c "ss -uln | grep -q ':9999 '"
in_term bash -c "echo not-signalling >/dev/udp/$SBC4/9999"
wait "$other_pid"
grep -q not-signalling "$WORK/other.out" && [ "$(pinned_stat PASS_OTHER_TRAFFIC)" -ge 1 ]
ok $? "a datagram to a non-signalling port passes untouched"

# --- Restart: the kernel keeps enforcing, the new sbcd takes its terminals back ---------------
gkterm_sbc --key-file "$WORK/termr.key" --options 8 --options-interval 400 >"$WORK/termr.out" 2>&1 &
termr_pid=$!
wait_until 50 bash -c "ctl sbcd bindings | grep -q '^termr '"
stop_daemon sbcd
ip -n "$NS_SBC" -d link show "$IF_ACCESS" | grep -q "prog/xdp"
ok $? "with sbcd stopped the XDP program stays attached (detaching is explicit)"
start_daemon sbcd "$NS_SBC" -c "$WORK/sbcd.conf" || bail "sbcd does not restart"
expect_fastpath
grep -q "took back [1-9][0-9]* registered terminal" "$WORK/sbcd.log"
ok $? "the restarted sbcd takes the registered terminals back from the pinned maps"
wait "$termr_pid"
rc=$?
diag <"$WORK/termr.out"
[ $rc = 0 ] && grep -q '^options sent=8 ok=8 bad_downlink=0' "$WORK/termr.out"
ok $? "a terminal registered before the restart keeps exchanging protected OPTIONS after it"

# --- Pinned maps of another size: refused, named, left alone ----------------------------------
stop_daemon sbcd
in_sbc timeout 20 "$BIN/sbcd" -c "$WORK/sbcd.conf" --set registrar.max_terminals=131072 \
	>"$WORK/sbcd-size.out" 2>&1
rc=$?
diag <"$WORK/sbcd-size.out"
pinned_entries() {
	bpftool -j map show pinned "$MAPS/terminals" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["max_entries"])'
}
[ $rc != 0 ] &&
	grep -q "maps pinned in $MAPS do not fit registrar.max_terminals = 131072: they were made for 65536 terminals" \
		"$WORK/sbcd-size.out" &&
	grep -q "set registrar.max_terminals = 65536 (or less) to keep them, or remove them with 'gkctl xdp detach $IF_ACCESS --pin-root $PIN_ROOT'" \
		"$WORK/sbcd-size.out" &&
	[ "$(pinned_entries)" = 65537 ] && ip -n "$NS_SBC" -d link show "$IF_ACCESS" | grep -q "prog/xdp"
ok $? "sbcd refuses pinned maps made for another size, says what to do, and leaves maps and program be"
: >"$WORK/sbcd.log"
start_daemon sbcd "$NS_SBC" -c "$WORK/sbcd.conf" || bail "sbcd does not restart"
expect_fastpath
grep -q "took back [1-9][0-9]* registered terminal" "$WORK/sbcd.log" &&
	grep -q "fast path: the XDP maps hold 65536 terminals and take [0-9.]* MiB of kernel memory" \
		"$WORK/sbcd.log"
ok $? "with the size set back, sbcd takes the terminals back and logs what the maps take"

# --- Explicit detach --------------------------------------------------------------------------
stop_daemon sbcd
in_sbc "$BIN/gkctl" xdp detach "$IF_ACCESS" --pin-root "$PIN_ROOT" | diag
! ip -n "$NS_SBC" -d link show "$IF_ACCESS" | grep -q "prog/xdp" && [ ! -e "$MAPS/terminals" ]
ok $? "gkctl xdp detach takes the program off and removes the pinned maps"
sed -i 's/^fastpath.mode = .*/fastpath.mode = generic/' "$WORK/sbcd.conf"
start_daemon sbcd "$NS_SBC" -c "$WORK/sbcd.conf" || bail "sbcd does not start in generic mode"
expect_fastpath
grep -q "fast path: XDP (generic) on $IF_ACCESS" "$WORK/sbcd.log" &&
	[ "$(xdp_fastpath_mode)" = "generic XDP" ] &&
	gkterm_sbc --key-file "$WORK/termr.key" --options 2 | grep -q '^options sent=2 ok=2'
ok $? "fastpath.mode = generic attaches in SKB mode, and protected traffic passes there too"

# --- auto falls back to userspace when XDP cannot be had, and says why ------------------------
stop_daemon sbcd
in_sbc "$BIN/gkctl" xdp detach "$IF_ACCESS" --pin-root "$PIN_ROOT" >/dev/null
sed -i -e 's/^fastpath.mode = .*/fastpath.mode = auto/' \
	-e 's/^fastpath.interface = .*/fastpath.interface = gk-absent0/' "$WORK/sbcd.conf"
: >"$WORK/sbcd.log"
start_daemon sbcd "$NS_SBC" -c "$WORK/sbcd.conf" || bail "sbcd does not start in fallback"
reason=$(fastpath_fallback_reason)
echo "fallback_reason: $reason" | diag
grep -q "warning.*fast path: userspace fallback, XDP not attached: .*No such device" \
	"$WORK/sbcd.log" &&
	[ "$(ctl sbcd stats | sed -n 's/^fastpath\.mode //p')" = userspace ] &&
	echo "$reason" | grep -q "No such device" && [ "$(xdp_fastpath_mode)" = userspace ]
ok $? "fastpath.mode = auto without XDP: a warning with the reason, and stats show mode and reason"
gkterm_sbc --key-file "$WORK/termr.key" --options 2 | grep -q '^options sent=2 ok=2'
ok $? "the userspace fallback still enforces gk-mac for a terminal that registers again"

finish
