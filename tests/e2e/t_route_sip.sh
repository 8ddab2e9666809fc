#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# SIP requests routed between registered terminals (lib/route/sip_route.c): two digest UAs register
# with softswitchd, one sends a MESSAGE to the other, which gets it from the address its binding
# holds, with the sender's identity asserted by the softswitch and not by the sender; then it
# calls the other (INVITE, 100/180/200, ACK and BYE along the Record-Route). A subscriber without a
# binding gets 480 and a user nobody provisioned 404 (softswitchd asks aucd which it is), another
# domain 403, a BYE outside any dialog of its sender 481, and a stranger nothing at all.
. "$(dirname "$0")/lib.sh"
need_root
need_tool python3 "python3 is not installed"
plan 19

UA=$REPO/tests/e2e/digest_ua.py
rig_direct
provision term1 term2 term3
write_aucd_conf
write_softswitchd_conf
echo "registrar.mechanisms = gk-mac digest" >>"$WORK/softswitchd.conf"
start_daemon aucd "$NS_CORE" -c "$WORK/aucd.conf" || bail "aucd does not start"
start_daemon softswitchd "$NS_CORE" -c "$WORK/softswitchd.conf" || bail "softswitchd does not start"
pw1=$(gkctl subscriber digest-password term1)
pw2=$(gkctl subscriber digest-password term2)

# term2 registers and answers whatever comes for 20 s (the test is over well before)
in_term python3 "$UA" --server "$CORE4:5060" --local "$TERM4:5102" --user term2 --password "$pw2" \
	--domain ss1 --serve 20 >"$WORK/term2.out" 2>&1 &
PIDS+=($!)
wait_until 100 grep -q '^serving' "$WORK/term2.out"
# the UA serves whatever its registration got: only a 200 makes term2 reachable
grep -q '^registered term2 .*status=200' "$WORK/term2.out"
ok $? "term2 registers with digest and waits for requests"
grep -q '^registered term2 .*status=200' "$WORK/term2.out" || diag <"$WORK/term2.out"

out=$(in_term python3 "$UA" --server "$CORE4:5060" --local "$TERM4:5101" --user term1 \
	--password "$pw1" --domain ss1 --pai "<sip:term3@ss1>" --message term2 --message term3 \
	--message nobody --message term2@elsewhere.example --call term2 --call term3 --call nobody)
echo "$out" | diag
echo "$out" | grep -q '^message term2 200$'
ok $? "term1's MESSAGE to term2 is routed to term2's binding and term2's 200 comes back"
wait_until 50 grep -q '^received MESSAGE' "$WORK/term2.out"
ok $? "term2 receives the MESSAGE"
grep '^received MESSAGE' "$WORK/term2.out" | diag
grep -q '^received MESSAGE .* pai=<sip:term1@ss1> body=hello term2$' "$WORK/term2.out"
ok $? "the softswitch asserts term1's identity from its binding; the P-Asserted-Identity term1 claimed (term3) is gone"
echo "$out" | grep -q '^message term3 480$'
ok $? "a subscriber without a binding (term3, provisioned, never registered) gets 480"
echo "$out" | grep -q '^message nobody 404$'
ok $? "a user nobody provisioned gets 404"
echo "$out" | grep -q '^message term2@elsewhere.example 403$'
ok $? "a request for another domain gets 403: no open relay"
[ "$(stat_of softswitchd route.forwarded)" -ge 4 ]
ok $? "softswitchd counts the forwarded requests (MESSAGE, INVITE, ACK, BYE: $(stat_of softswitchd route.forwarded))"
is "$(stat_of softswitchd route.unavailable)" 2 "two answered 480 (term3's MESSAGE and INVITE)"
is "$(stat_of softswitchd route.not_found)" 2 "two answered 404 (nobody's MESSAGE and INVITE)"
[ "$(stat_of softswitchd route.lookups)" -eq 4 ] && [ "$(stat_of aucd lookups)" -eq 4 ] &&
	[ "$(stat_of aucd lookups_unknown)" -eq 2 ] && [ "$(stat_of softswitchd route.lookup_timeouts)" -eq 0 ]
ok $? "softswitchd asked aucd about each of the four, which knew term3 and not nobody (lookups, lookups_unknown)"

# --- A call --------------------------------------------------------------------------------------
echo "$out" | grep -q "^call term2 200 bye 200 route=<sip:$CORE4:5060;lr>$"
ok $? "term1 calls term2: 200 to the INVITE, the ACK and BYE go along softswitchd's Record-Route, 200 to the BYE"
wait_until 50 grep -q '^received BYE' "$WORK/term2.out"
grep -q '^received INVITE .* pai=<sip:term1@ss1> body=v=0' "$WORK/term2.out" &&
	grep -q '^received ACK' "$WORK/term2.out" && grep -q '^received BYE' "$WORK/term2.out"
ok $? "term2 gets the INVITE with its SDP and term1's asserted identity, then the ACK and the BYE"
echo "$out" | grep -q '^call term3 480$' && echo "$out" | grep -q '^call nobody 404$'
ok $? "a call to a subscriber without a binding gets 480, to a user nobody provisioned 404"
is "$(stat_of softswitchd route.dialogs)" 1 "the 200 made one dialog"
is "$(stat_of softswitchd route.dialogs_ended)" 1 "the BYE's 200 ended it"
[ "$(stat_of softswitchd sip.txn.trying_sent)" -ge 2 ]
ok $? "softswitchd sent 100 Trying for each INVITE"

# A stranger (never registered from this address) is not routed, and not answered.
before=$(stat_of softswitchd route.not_registered)
udp_send "$NS_TERM" "$CORE4" 5060 'MESSAGE sip:term2@ss1 SIP/2.0\r\nVia: SIP/2.0/UDP '"$TERM4"':5109;branch=z9hG4bKs1\r\nFrom: <sip:x@ss1>;tag=1\r\nTo: <sip:term2@ss1>\r\nCall-ID: s1\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n'
wait_until 30 stat_at_least softswitchd route.not_registered $((before + 1))
ok $? "a stranger's MESSAGE is dropped and counted (route.not_registered)"
out=$(in_term python3 "$UA" --server "$CORE4:5060" --local "$TERM4:5101" --user term1 \
	--password "$pw1" --domain ss1 --message term2)
echo "$out" | grep -q '^message term2 200$'
ok $? "the router still serves term1 afterwards"
finish
