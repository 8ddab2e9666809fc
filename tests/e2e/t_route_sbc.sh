#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Calls through the SBC (lib/route/sip_route.c in sbcd and softswitchd): two digest UAs register through
# sbcd; a MESSAGE and a call from one reach the other by way of the softswitch, which locates the
# callee at the SBC its registration succeeded through. Every core-leg datagram carries the
# core-leg trailer, each element asserts the caller's identity (never the caller itself), and the
# Record-Route keeps sbcd and the softswitch in the dialog. A subscriber without a binding gets
# 480 and a user nobody provisioned 404, both decided by the softswitch (it asks aucd) and passed
# back by sbcd, which asks nobody. Inside the call, a BYE with the
# dialog's Call-ID and tags from another registered terminal gets 481 and one from an attacker
# host is dropped at the SBC; the call still ends normally.
. "$(dirname "$0")/lib.sh"
need_root
need_tool python3 "python3 is not installed"
need_tool tshark "tshark is not installed (make deps)"
plan 32

UA=$REPO/tests/e2e/digest_ua.py
rig_sbc
rig_attacker
provision_sbc term1 term2 term3
MECHANISMS="gk-mac digest" start_sbc_topology ||
	bail "aucd, softswitchd and sbcd do not start"
expect_fastpath

capture_start core "$NS_CORE" "$IF_CORE"
capture_start access "$NS_SBC" "$IF_ACCESS"
wait_until 200 capture_canary core "$NS_CORE" "$SBCCORE4" 9 &&
	wait_until 200 capture_canary access "$NS_SBC" "$TERM4" 9
ok $? "the rig runs and tshark captures the access and core links"

pw1=$(gkctl subscriber digest-password term1)
pw2=$(gkctl subscriber digest-password term2)
pw3=$(gkctl subscriber digest-password term3)

# term2 registers through sbcd and answers whatever comes until the test ends (its cleanup stops it;
# a fixed window ran out before the call on a slow host)
in_term python3 "$UA" --server "$SBC4:5060" --local "$TERM4:5102" --user term2 --password "$pw2" \
	--domain sbc1 --serve 600 >"$WORK/term2.out" 2>&1 &
PIDS+=($!)
wait_until 100 grep -q '^serving' "$WORK/term2.out"
ok $? "term2 registers through sbcd with digest and waits for requests"
wait_until 50 stat_at_least softswitchd route.located 1
ok $? "softswitchd locates term2 at sbc1"

out=$(in_term python3 "$UA" --server "$SBC4:5060" --local "$TERM4:5101" --user term1 \
	--password "$pw1" --domain sbc1 --pai "<sip:term3@sbc1>" --message term2 --message term3 \
	--message nobody --message term2@elsewhere.example)
echo "$out" | diag
echo "$out" | grep -q '^message term2 200$'
ok $? "term1's MESSAGE to term2 goes sbcd -> softswitchd -> sbcd -> term2, and term2's 200 back"
wait_until 50 grep -q '^received MESSAGE' "$WORK/term2.out"
grep '^received MESSAGE' "$WORK/term2.out" | diag
grep -q '^received MESSAGE .* pai=<sip:term1@sbc1> body=hello term2$' "$WORK/term2.out"
ok $? "term2 sees term1's identity as the SBC asserted it; the one term1 claimed (term3) is gone"
echo "$out" | grep -q '^message term3 480$'
ok $? "a subscriber without a binding (term3, provisioned, not registered) gets 480 from the softswitch, through the SBC"
echo "$out" | grep -q '^message nobody 404$'
ok $? "a user nobody provisioned gets 404 from the softswitch, through the SBC"
[ "$(stat_of softswitchd route.lookups)" -eq 2 ] && [ "$(stat_of softswitchd route.not_found)" -eq 1 ] &&
	[ "$(stat_of softswitchd route.unavailable)" -eq 1 ] && [ "$(stat_of aucd lookups_unknown)" -eq 1 ] &&
	[ "$(stat_of sbcd route.lookups)" -eq 0 ] && [ "$(stat_of sbcd route.not_found)" -eq 0 ]
ok $? "the softswitch asked aucd about term3 and nobody (route.lookups, not_found, unavailable); sbcd asked nobody"
ctl softswitchd stats | grep -E '^(route\.lookup|auc_retransmits|lookups)' | diag
echo "$out" | grep -q '^message term2@elsewhere.example 403$'
ok $? "another domain gets 403: no open relay"

# A call that fails: the 480 goes back hop by hop, and each element's ACK of it (built from the
# INVITE it forwarded, no identity asserted) is absorbed by the next element's transaction.
out=$(in_term python3 "$UA" --server "$SBC4:5060" --local "$TERM4:5101" --user term1 \
	--password "$pw1" --domain sbc1 --call term3)
echo "$out" | grep -q '^call term3 480$'
ok $? "a call to term3 (no binding) gets 480 through the SBC"
sleep 1.2 # nothing may come: over twice T1, when a final whose ACK was lost is sent again
is "$(stat_of softswitchd reason.IDENTITY_MISSING)/$(stat_of softswitchd sip.txn.responses_resent)" 0/0 \
	"softswitchd took sbcd's ACK of the 480: nothing dropped, the 480 not sent again"

# --- a call, held while a third terminal and an attacker try to end it ----------------------------
in_term python3 "$UA" --server "$SBC4:5060" --local "$TERM4:5101" --user term1 --password "$pw1" \
	--domain sbc1 --call term2 --hold 3 >"$WORK/term1.out" 2>&1 &
PIDS+=($!)
wait_until 100 grep -q '^in-call term2' "$WORK/term1.out"
ok $? "term1 calls term2 through sbcd and the call is up"
read -r callid ftag ttag < <(sed -n 's/^in-call term2 call-id=\([^ ]*\) from-tag=\([^ ]*\) to-tag=\([^ ]*\) .*/\1 \2 \3/p' \
	"$WORK/term1.out")
bye() { # bye <from-host> <port>: a BYE claiming term1's side of the dialog
	printf 'BYE sip:term2@%s:5102 SIP/2.0\r\nVia: SIP/2.0/UDP %s:%s;branch=z9hG4bKforged%s\r\nMax-Forwards: 70\r\nFrom: <sip:term1@sbc1>;tag=%s\r\nTo: <sip:term2@sbc1>;tag=%s\r\nCall-ID: %s\r\nCSeq: 99 BYE\r\nContent-Length: 0\r\n\r\n' \
		"$TERM4" "$1" "$2" "$2" "$ftag" "$ttag" "$callid"
}
# term3, registered through sbcd, sends it from its own binding: the SBC knows the dialog, and
# term3 is neither of its parties
bye "$TERM4" 5103 >"$WORK/bye3.txt"
out3=$(in_term python3 "$UA" --server "$SBC4:5060" --local "$TERM4:5103" --user term3 \
	--password "$pw3" --domain sbc1 --raw "$WORK/bye3.txt")
echo "$out3" | diag
echo "$out3" | grep -q '^raw 481$'
ok $? "a BYE with the dialog's Call-ID and tags from another registered terminal gets 481"
[ "$(stat_of sbcd route.no_dialog)" -ge 1 ]
ok $? "sbcd counts it (route.no_dialog)"
# the attacker host sends the same BYE straight to the SBC's access port
before_fp=$(stat_of sbcd fastpath.DROP_NOT_REGISTRATION)
bye "$ATK4" 5060 >"$WORK/bye-atk.txt"
# and a re-INVITE into the dialog, moving term1's media to the attacker
bye "$ATK4" 5060 | sed -e 's/^BYE /INVITE /' -e 's/CSeq: 99 BYE/CSeq: 98 INVITE/' \
	-e 's/Content-Length: 0/Contact: <sip:term1@'"$ATK4"':5060>\r\nContent-Length: 0/' >"$WORK/reinvite-atk.txt"
in_atk python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 5060))
for f in sys.argv[3:]:
    s.sendto(open(f, "rb").read(), (sys.argv[2], 5060))' "$ATK4" "$SBC4" "$WORK/bye-atk.txt" \
	"$WORK/reinvite-atk.txt"
wait_until 50 stat_at_least sbcd fastpath.DROP_NOT_REGISTRATION $((before_fp + 2))
ok $? "the attacker's BYE and re-INVITE are dropped by the SBC's fast path and counted (DROP_NOT_REGISTRATION)"
wait_until 100 grep -q '^call term2 ' "$WORK/term1.out"
cat "$WORK/term1.out" | diag
grep -q "^call term2 200 bye 200 route=<sip:$SBC4:5060;lr>,<sip:$CORE4:5060;lr>,<sip:$SBC4:5060;lr>$" \
	"$WORK/term1.out"
ok $? "the call ends with term1's own BYE, along sbcd's, softswitchd's and sbcd's Record-Route"
is "$(grep -c '^received BYE' "$WORK/term2.out")" 1 "term2 got exactly one BYE: term1's"
is "$(grep -c '^received INVITE' "$WORK/term2.out")" 1 "and one INVITE: no re-INVITE reached it"
grep -q '^received INVITE .* pai=<sip:term1@sbc1> body=v=0' "$WORK/term2.out" &&
	grep -q '^received ACK' "$WORK/term2.out"
ok $? "term2 got the INVITE with its SDP and term1's asserted identity, then the ACK"
is "$(stat_of softswitchd route.dialogs)" 1 "softswitchd made one dialog"
is "$(stat_of softswitchd route.dialogs_ended)" 1 "and the BYE's 200 ended it"
is "$(stat_of sbcd route.dialogs_ended)" "$(stat_of sbcd route.dialogs)" "sbcd's dialogs ended too"
[ "$(stat_of sbcd sip.txn.trying_sent)" -ge 2 ]
ok $? "sbcd sent 100 Trying for the INVITE on each of its legs"
is "$(stat_of softswitchd route.not_registered)" 0 "softswitchd took no request without an identity its SBC asserted"

# --- a call cancelled while it rings: the CANCEL goes hop by hop, each element's own -------------
in_term python3 "$UA" --server "$SBC4:5060" --local "$TERM4:5105" --user term3 --password "$pw3" \
	--domain sbc1 --serve 600 --ring >"$WORK/term3ring.out" 2>&1 &
PIDS+=($!)
wait_until 100 grep -q '^serving' "$WORK/term3ring.out"
out=$(in_term python3 "$UA" --server "$SBC4:5060" --local "$TERM4:5101" --user term1 \
	--password "$pw1" --domain sbc1 --cancel term3)
echo "$out" | diag
echo "$out" | grep -q '^cancel term3 cancel=200 invite=487$'
ok $? "term1 cancels a ringing call to term3: 200 to the CANCEL, 487 to the INVITE"
wait_until 50 grep -q '^received CANCEL' "$WORK/term3ring.out"
ok $? "the CANCEL reached term3 through sbcd, softswitchd and sbcd"
[ "$(stat_of sbcd route.cancels)" -ge 2 ] && [ "$(stat_of softswitchd route.cancels)" -ge 1 ]
ok $? "each element sent its own CANCEL downstream (sbcd twice, softswitchd once)"

capture_stop core "$NS_CORE" "$SBCCORE4"
capture_stop access "$NS_SBC" "$TERM4"
n=$(gk_tshark -n -r "$WORK/core.pcapng" -Y 'sip.Method == "INVITE" && gatekey' 2>/dev/null | wc -l)
[ "$n" -ge 2 ]
ok $? "the INVITE crosses the core leg twice, both times under the core-leg trailer ($n)"
callid=$(sed -n 's/^in-call term2 call-id=\([^ ]*\) .*/\1/p' "$WORK/term1.out")
is "$(gk_tshark -n -r "$WORK/access.pcapng" -Y "sip.Status-Code == 100 && udp.dstport == 5101 && sip.Call-ID == \"$callid\"" 2>/dev/null | wc -l)" 1 \
	"term1 hears one 100 Trying, sbcd's own: a 100 goes hop by hop, never forwarded"
call_ladder "$callid" access="$WORK/access.pcapng" core="$WORK/core.pcapng" >"$WORK/ladder"
diag <"$WORK/ladder"
[ "$(grep -c ' core .*core-leg trailer$' "$WORK/ladder")" -ge 12 ] && ! grep -q ' core .* none$' "$WORK/ladder"
ok $? "the call's ladder shows every core-leg datagram under the core-leg trailer"
capture_clean "$WORK/access.pcapng" "the access link dissects in tshark without errors"
capture_clean "$WORK/core.pcapng" "the core link dissects in tshark without errors"
finish
