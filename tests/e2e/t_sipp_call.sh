#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Calls through the SBC between an independent plain SIP UA and gatekey's own terminal: SIPp
# (Debian's sip-tester, tests/sipp/), registered with Digest, calls a gk-mac gkterm, and a gk-mac
# gkterm calls SIPp; then two gk-mac gkterms call each other, and every access datagram of that
# call carries a trailer the XDP fast path verified (uplink) or sbcd sealed (downlink). tshark
# dissects both links without a malformed datagram.
. "$(dirname "$0")/lib.sh"
need_root
need_tool sipp "SIPp is not installed (make deps: sip-tester)"
need_tool tshark "tshark is not installed (make deps)"
plan 17

RUN=$REPO/tests/sipp/run.sh
rig_sbc
provision_sbc gk1 gk2 sp1 sp2
# SIPp 3.6 reads only the first challenge and knows only MD5.
MECHANISMS="gk-mac digest" DIGEST_ALGORITHMS="MD5, SHA-256" start_sbc_topology ||
	bail "aucd, softswitchd and sbcd do not start"
expect_fastpath

capture_start core "$NS_CORE" "$IF_CORE"
capture_start access "$NS_SBC" "$IF_ACCESS"
wait_until 200 capture_canary core "$NS_CORE" "$SBCCORE4" 9 &&
	wait_until 200 capture_canary access "$NS_SBC" "$TERM4" 9
ok $? "the rig runs and tshark captures the access and core links"
pw1=$(gkctl subscriber digest-password sp1)
pw2=$(gkctl subscriber digest-password sp2)

# --- SIPp calls a gk-mac terminal ----------------------------------------------------------------
gkterm_sbc --key-file "$WORK/gk1.key" --answer-s 40 >"$WORK/gk1.out" 2>&1 &
GK1=$!
PIDS+=($GK1)
wait_until 100 grep -q '^serving gk1' "$WORK/gk1.out"
ok $? "gk1 registers through sbcd with gk-mac and answers calls"
out=$(in_term "$RUN" uac --server "$SBC4:5060" --local "$TERM4:5070" --user sp1 --password "$pw1" \
	--domain sbc1 --target gk1 --dir "$WORK/sipp-uac" 2>&1)
rc=$?
echo "$out" | diag
[ $rc = 0 ]
ok $? "SIPp registers sp1 with Digest and calls gk1 through sbcd: 200, ACK, BYE, 200"
wait_until 50 grep -q '^received BYE' "$WORK/gk1.out"
grep '^received' "$WORK/gk1.out" | diag
grep -q '^received INVITE from=<sip:sp1@sbc1>;tag=[^ ]* pai=<sip:sp1@sbc1>' "$WORK/gk1.out"
ok $? "gk1 gets the INVITE under its downlink trailer, with sp1's identity asserted by sbcd"
grep -q '^received ACK' "$WORK/gk1.out" && grep -q '^received BYE' "$WORK/gk1.out"
ok $? "then the ACK and the BYE"

# --- a gk-mac terminal calls SIPp ----------------------------------------------------------------
in_term "$RUN" uas --server "$SBC4:5060" --local "$TERM4:5071" --user sp2 --password "$pw2" \
	--domain sbc1 --expect-pai "<sip:gk2@sbc1>" --dir "$WORK/sipp-uas" >"$WORK/uas.out" 2>&1 &
UAS=$!
PIDS+=($UAS)
wait_until 100 grep -q '^registered' "$WORK/uas.out"
ok $? "SIPp registers sp2 and waits for a call"
out=$(gkterm_sbc --key-file "$WORK/gk2.key" --call sp2 2>&1)
echo "$out" | diag
echo "$out" | grep -q '^call sp2 200 bye 200 '
ok $? "gk2 calls sp2 through sbcd: 200 to the INVITE and to the BYE, all its datagrams sealed"
wait "$UAS"
ok $? "SIPp answered the call, saw gk2's asserted identity, took the ACK and the BYE"
cat "$WORK/uas.out" | diag

# --- two gk-mac terminals: every access datagram protected ----------------------------------------
# On the terminals' side of the link: on the SBC's, XDP has already taken the trailer off
# what it verified and passed it to the verified port.
capture_stop access "$NS_SBC" "$TERM4"
capture_start access2 "$NS_TERM" "$IF_TERM"
wait_until 200 capture_canary access2 "$NS_TERM" "$SBC4" 9
ok $? "a fresh capture of the access link, on the terminals' side, for the gk-mac call"
before=$(stat_of sbcd fastpath.PASS_GKMAC)
out=$(gkterm_sbc --key-file "$WORK/gk2.key" --call gk1 --hold-ms 200 2>&1)
echo "$out" | diag
echo "$out" | grep -q '^call gk1 200 bye 200 ' && echo "$out" | grep -q '^downlink_rejected 0$'
ok $? "gk2 calls gk1: 200 and 200, and every downlink datagram verified at gk2"
capture_stop access2 "$NS_TERM" "$SBC4"
capture_stop core "$NS_CORE" "$SBCCORE4"
callid=$(gk_tshark -n -r "$WORK/access2.pcapng" -Y 'sip.Method == "INVITE"' -T fields \
	-e sip.Call-ID 2>/dev/null | head -1)
call_ladder "$callid" access="$WORK/access2.pcapng" core="$WORK/core.pcapng" >"$WORK/ladder"
diag <"$WORK/ladder"
n_access=$(grep -c '  access ' "$WORK/ladder")
n_sealed=$(grep -c '  access .*gk-mac trailer, terminal [0-9]*$' "$WORK/ladder")
[ "$n_access" -ge 12 ] && [ "$n_access" = "$n_sealed" ]
ok $? "all $n_access access datagrams of the call carry a terminal's gk-mac trailer ($n_sealed)"
n_core=$(grep -c '  core ' "$WORK/ladder")
[ "$n_core" -ge 12 ] && [ "$(grep -c '  core .*core-leg trailer$' "$WORK/ladder")" = "$n_core" ]
ok $? "and all $n_core core-leg datagrams the core leg's trailer"
up=$(grep -c "  access  *$TERM4:[0-9]* *-> *$SBC4:5060 " "$WORK/ladder")
[ $(($(stat_of sbcd fastpath.PASS_GKMAC) - before)) -ge "$up" ]
ok $? "the XDP fast path verified the $up uplink datagrams (PASS_GKMAC +$(($(stat_of sbcd fastpath.PASS_GKMAC) - before)))"
# gkterm prints its summary on the way out: stopped (it is the child of the background
# function's shell, GK1) and waited for here, in this shell, before the summary is read.
pkill -TERM -P "$GK1" 2>/dev/null
wait "$GK1" 2>/dev/null
grep -q '^downlink_rejected 0$' "$WORK/gk1.out"
ok $? "gk1 rejected no downlink datagram in either call"

capture_clean "$WORK/access.pcapng" "the access link of the SIPp calls dissects without errors"
capture_clean "$WORK/access2.pcapng" "the access link of the gk-mac call dissects without errors"
capture_clean "$WORK/core.pcapng" "the core link dissects without errors"
finish
