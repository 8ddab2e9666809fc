#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The core leg is authenticated, not just addressed (issue 12 finding 11): an attacker on the core
# network who spoofs the softswitch's address (and port) cannot make sbcd take a verdict, and one
# who spoofs the SBC's address cannot make softswitchd take a request; a captured core datagram
# does not replay, not even across a restart of its sender. Each is dropped and counted under its
# reason, and registrations go on working, also after either daemon restarts.
. "$(dirname "$0")/lib.sh"
need_root
need_tool tshark "tshark is not installed (make deps)"
need_tool python3 "python3 is not installed"
plan 19

INJECT=$REPO/tests/e2e/udp_inject.py

rig_sbc
provision_sbc term1 term2 term3 term4 term5
start_sbc_topology || bail "aucd, softswitchd and sbcd do not start"
expect_fastpath
ok 0 "aucd and softswitchd (core host) and sbcd (SBC host) start, each with the core-leg key"

capture_start core "$NS_CORE" "$IF_CORE"
cap=$WORK/core.pcapng
wait_until 200 capture_canary core "$NS_CORE" "$SBCCORE4" 9
ok $? "tshark captures the core link"

out=$(gkterm_sbc --key-file "$WORK/term1.key")
ok $? "term1 registers through sbcd"
[ "$(stat_of sbcd core_auth_ok)" -ge 2 ] && [ "$(stat_of softswitchd sbc_auth_ok)" -ge 2 ]
ok $? "every core datagram verified, both ways (sbcd core_auth_ok, softswitchd sbc_auth_ok)"

# The SBC's core socket (connected to the softswitch): its port, and what was on the leg so far.
sbcport=$(in_sbc ss -Hun dst "$CORE4:5060" |
	awk -v ip="$SBCCORE4" '{ for (i = 1; i <= NF; i++) if (index($i, ip ":") == 1) { print substr($i, length(ip) + 2); exit } }')
[ -n "$sbcport" ]
ok $? "sbcd's core socket is $SBCCORE4:$sbcport"
capture_stop core "$NS_CORE" "$SBCCORE4"
down=$(gk_tshark -n -r "$cap" -Y "ip.src == $CORE4 && udp.srcport == 5060 && ip.dst == $SBCCORE4" \
	-T fields -e udp.payload 2>/dev/null | tr -d ':' | tail -n 1)
up=$(gk_tshark -n -r "$cap" -Y "ip.src == $SBCCORE4 && ip.dst == $CORE4 && udp.dstport == 5060" \
	-T fields -e udp.payload 2>/dev/null | tr -d ':' | tail -n 1)
[ -n "$down" ] && [ -n "$up" ]
ok $? "a verdict and a request of the core leg were captured"

# --- Into sbcd, from the softswitch's own address and port. ----------------------------------
stray=$(stat_of sbcd core_stray)
verdict="SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP $SBCCORE4:$sbcport;branch=z9hG4bK0000000000000001\r\nFrom: <sip:term5@sbc1>;tag=sbc1\r\nTo: <sip:term5@sbc1>;tag=x\r\nCall-ID: 0000000000000001@sbc1\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n"
in_core python3 "$INJECT" "$CORE4:5060" "$SBCCORE4:$sbcport" --text "$verdict"
wait_until 30 stat_at_least sbcd core_auth.BAD_TRAILER 1
ok $? "a forged verdict without a trailer, from the softswitch's ip:port, is dropped (BAD_TRAILER)"
in_core python3 "$INJECT" "$CORE4:5060" "$SBCCORE4:$sbcport" --text "$verdict" --bogus-trailer
wait_until 30 stat_at_least sbcd core_auth.BAD_TAG 1
ok $? "a forged verdict with a made-up trailer is dropped (BAD_TAG)"
in_core python3 "$INJECT" "$CORE4:5060" "$SBCCORE4:$sbcport" --hex "$down"
wait_until 30 stat_at_least sbcd core_auth_dropped 3
# REPLAY_SEQ while the verdict is in the 64-entry window, OLD_SEQ behind it: both are replays.
is $(($(stat_of sbcd core_auth.REPLAY_SEQ) + $(stat_of sbcd core_auth.OLD_SEQ))) 1 \
	"a captured verdict replayed is dropped (REPLAY_SEQ)"
is "$(stat_of sbcd core_auth_dropped)" 3 "sbcd counted the three (core_auth_dropped)"
is "$(stat_of sbcd core_stray)" "$stray" "none of them reached the verdict parser"

# --- Into softswitchd, from the SBC's address. ------------------------------------------------
reqs=$(stat_of softswitchd sbc_requests)
register="REGISTER sip:sbc1 SIP/2.0\r\nVia: SIP/2.0/UDP $SBCCORE4:5999;branch=z9hG4bKforged1\r\nFrom: <sip:term5@sbc1>;tag=sbc1\r\nTo: <sip:term5@sbc1>\r\nCall-ID: forged1@sbc1\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n"
in_sbc python3 "$INJECT" "$SBCCORE4:5999" "$CORE4:5060" --text "$register"
wait_until 30 stat_at_least softswitchd sbc_auth.BAD_TRAILER 1
ok $? "a forged request without a trailer from the SBC's address is dropped (BAD_TRAILER)"
in_sbc python3 "$INJECT" "$SBCCORE4:$sbcport" "$CORE4:5060" --text "$register" --bogus-trailer
wait_until 30 stat_at_least softswitchd sbc_auth.BAD_TAG 1
ok $? "a forged request with a made-up trailer, from the SBC's own ip:port, is dropped (BAD_TAG)"
in_sbc python3 "$INJECT" "$SBCCORE4:$sbcport" "$CORE4:5060" --hex "$up"
wait_until 30 stat_at_least softswitchd sbc_auth_dropped 3
ok $? "a captured request replayed is dropped ($(ctl softswitchd stats | grep '^sbc_auth\.' | tr '\n' ' '))"
is "$(stat_of softswitchd sbc_requests)" "$reqs" "softswitchd served none of them"

out=$(gkterm_sbc --key-file "$WORK/term2.key")
ok $? "term2 registers after the attacks"

# --- Restarts: a new epoch is taken, the old one is not. --------------------------------------
stop_daemon sbcd
start_daemon sbcd "$NS_SBC" -c "$WORK/sbcd.conf" || bail "sbcd does not restart"
expect_fastpath
out=$(gkterm_sbc --key-file "$WORK/term3.key")
ok $? "term3 registers after sbcd restarted (softswitchd takes its new epoch)"
old=$(stat_of softswitchd sbc_auth.OLD_SEQ)
in_sbc python3 "$INJECT" "$SBCCORE4:$sbcport" "$CORE4:5060" --hex "$up"
wait_until 30 stat_at_least softswitchd sbc_auth.OLD_SEQ $((old + 1))
ok $? "the request captured before the restart, replayed, is of an old epoch and dropped (OLD_SEQ)"

stop_daemon softswitchd
start_daemon softswitchd "$NS_CORE" -c "$WORK/softswitchd.conf" || bail "softswitchd does not restart"
out=$(gkterm_sbc --key-file "$WORK/term4.key")
ok $? "term4 registers after softswitchd restarted (each side takes the other's epoch)"

finish
