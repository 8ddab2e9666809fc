#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Wire conformance: every SIP and RADIUS datagram of one registration (and its deregistration),
# captured on the core host, dissects in tshark with zero malformed packets and with the
# expected methods, status codes and RADIUS codes.
. "$(dirname "$0")/lib.sh"
need_root
need_tool tshark "tshark is not installed (make deps)"
plan 7

rig_direct
provision term1
start_core || bail "aucd and softswitchd do not start"
ok 0 "aucd and softswitchd start"

cap=$WORK/reg.pcapng
ip netns exec "$NS_CORE" tshark -n -l -P -i any -f 'udp' -w "$cap" \
	>"$WORK/tshark.out" 2>"$WORK/tshark.log" &
tshark_pid=$!
PIDS+=($tshark_pid)
# "Capturing on" comes before the capture really runs: send canaries to the discard port over
# the loopback and the veth until tshark has seen both.
canaries_seen() { # canaries_seen <discard-like port>
	in_core bash -c "echo gk-canary >/dev/udp/127.0.0.1/$1; echo gk-canary >/dev/udp/$TERM4/$1" \
		2>/dev/null
	grep -q " → 127.0.0.1 .* $1 Len" "$WORK/tshark.out" &&
		grep -q " → $TERM4 .* $1 Len" "$WORK/tshark.out"
}
wait_until 200 canaries_seen 9
ok $? "tshark captures on the core host"

out=$(gkterm_direct --key-file "$WORK/term1.key" --deregister)
ok $? "term1 registers and deregisters"
# The accounting Stop follows the deregistration. Its response is on the wire once softswitchd
# has counted both Start and Stop acknowledged (aucd counting the Stop is not enough: its answer
# may still be queued).
wait_until 100 stat_at_least softswitchd accounting_acked 2
# Everything before a second canary has been written once tshark shows that canary.
wait_until 100 canaries_seen 19
kill -INT $tshark_pid
wait_gone $tshark_pid 100

# SIP crosses the veth; RADIUS stays inside the core host and is seen once, on its loopback.
# A retransmission (tshark marks it sip.resend) is the same message again, not another one.
sipmsgs=$(gk_tshark -n -r "$cap" -Y 'sip && !(sip.resend == 1)' -T fields -e sip.Method \
	-e sip.Status-Code 2>/dev/null |
	awk -F '\t' '{ printf "%s,", $1 $2 }')
is "$sipmsgs" "REGISTER,401,REGISTER,200,REGISTER,200," \
	"SIP on the wire: REGISTER, 401, REGISTER, 200, then REGISTER (Expires: 0) and 200"
# Each message once, named by what it is, answers by the request they answer (tshark pairs them:
# radius.reqframe). A retransmission (a loaded machine can delay an answer past the client's timer)
# is the same message again: same code, identifier and authenticator, counted once. The order is
# not asserted beyond that: on a loaded machine the Stop may leave before the Start's answer.
radmsgs=$(gk_tshark -n -r "$cap" -Y radius -T fields -e frame.number -e radius.code -e radius.id \
	-e radius.authenticator -e radius.Acct_Status_Type -e radius.reqframe 2>/dev/null |
	awk -F '\t' '
	{
		name = $2 == 1 ? "access-request" : \
		       $2 == 4 && $5 == 1 ? "start" : $2 == 4 && $5 == 2 ? "stop" : "code" $2
		what[$1] = name # every frame, so that an answer paired with a retransmission is named
		if ($2 == 2 || $2 == 5) # an Access-Accept, an Accounting-Response
			name = "answer-to-" what[$6]
		if (!seen[$2 "/" $3 "/" $4]++)
			print name
	}' | sort | tr '\n' ',')
is "$radmsgs" "access-request,answer-to-access-request,answer-to-start,answer-to-stop,start,stop," \
	"RADIUS on the wire: Access-Request/Accept, Accounting Start and Stop, each answered" ||
	gk_tshark -n -r "$cap" -Y radius 2>&1 | diag >&2
# A tshark failure (a bad filter, say) adds a line, so it cannot pass as "nothing malformed".
capture_clean "$cap" "no SIP or RADIUS datagram is malformed for tshark"
gk_tshark -n -r "$cap" -V -Y 'radius.code == 2' 2>/dev/null | grep -q 'Message-Authenticator'
ok $? "the Access-Accept carries a Message-Authenticator"
gk_tshark -n -r "$cap" -Y 'sip || radius' 2>/dev/null | diag

finish
