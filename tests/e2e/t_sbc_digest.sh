#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Plain digest interop (mechanism `digest`): ordinary SIP UAs without GK1 register with RFC 7616 /
# RFC 8760 Digest through sbcd and directly with softswitchd; the softswitch checks the answer
# with HA1 from the AuC. SIPp (Debian's sip-tester, MD5 only) and an independent SHA-256 UA.
. "$(dirname "$0")/lib.sh"
need_root
need_tool tshark "tshark is not installed (make deps)"
need_tool sipp "SIPp is not installed (make deps: sip-tester)"
need_tool python3 "python3 is not installed"
plan 27

SCENARIO=$REPO/tests/sipp/register_digest.xml
UA=$REPO/tests/e2e/digest_ua.py

rig_sbc
provision_sbc term1 term2 term3
# SIPp 3.6 reads only the first challenge and knows only MD5; RFC 8760 UAs pick SHA-256.
MECHANISMS="gk-mac digest" DIGEST_ALGORITHMS="MD5, SHA-256" start_sbc_topology ||
	bail "aucd, softswitchd and sbcd do not start"
expect_fastpath

# "any" on the core host: the RADIUS leg to aucd stays on that host.
capture_start core "$NS_CORE" any
capture_start access "$NS_SBC" "$IF_ACCESS"
wait_until 200 capture_canary core "$NS_CORE" "$SBCCORE4" 9 &&
	wait_until 200 capture_canary access "$NS_SBC" "$TERM4" 9
ok $? "the rig runs and tshark captures the access and core links"

pw1=$(gkctl subscriber digest-password term1)
[[ $pw1 =~ ^[0-9a-f]{32}$ ]]
ok $? "gkctl prints term1's digest password for configuring a phone"

sipp_run() { # sipp_run <user> <password> <local port>: one SIPp registration through sbcd
	in_term sipp "$SBC4:5060" -sf "$SCENARIO" -s "$1" -au "$1" -ap "$2" -key domain sbc1 \
		-i "$TERM4" -p "$3" -m 1 -nostdin -timeout 15s -timeout_error \
		-trace_err -error_file "$WORK/sipp-$1-$3.err" >"$WORK/sipp-$1-$3.out" 2>&1
}

# --- SIPp, MD5 --------------------------------------------------------------------------------
sipp_run term1 "$pw1" 5070
ok $? "SIPp registers term1 with MD5 Digest through sbcd, sends OPTIONS and deregisters"
grep -q "registered term1 from $TERM4:5070 mech=digest index=[0-9]* fpr=-" "$WORK/sbcd.log"
ok $? "sbcd bound term1 to the address SIPp registered from, with mechanism digest and no key"
is "$(stat_of sbcd relayed_to_core)" 1 "SIPp's OPTIONS from the pinned address went on to the softswitch"
is "$(stat_of sbcd deregistrations)" 1 "SIPp's deregistration ended the binding"
is "$(stat_of aucd digest_accepts)" 1 "the AuC supplied HA1 once"
wait_until 50 stat_at_least aucd accounting_stop 1
ok $? "the AuC got accounting start and stop for the digest terminal"

# --- SIPp with a wrong password: challenged again, never registered ----------------------------
before=$(stat_of softswitchd wrong_answers)
sipp_run term2 0123456789abcdef0123456789abcdef 5071
rc=$?
[ $rc != 0 ] && ! ctl sbcd bindings | grep -q '^term2 '
ok $? "SIPp with a wrong password does not register (rc=$rc)"
is $(($(stat_of softswitchd wrong_answers) - before)) 1 "the wrong answer is counted towards lockout"

# --- An independent RFC 8760 UA with SHA-256 ---------------------------------------------------
pw3=$(gkctl subscriber digest-password term3)
out=$(in_term python3 "$UA" --server "$SBC4:5060" --local "$TERM4:5080" --user term3 \
	--password "$pw3" --domain sbc1 --alg SHA-256 --options --replay --request INVITE \
	--request MESSAGE --request FOOBAR)
rc=$?
echo "$out" | diag
echo "$out" | grep -q '^challenge 401 algorithms=MD5,SHA-256$'
ok $? "the challenge offers MD5 and SHA-256 in the configured order"
echo "$out" | grep -q '^registered term3 alg=SHA-256 status=200 expires=600$'
ok $? "a SHA-256 Digest UA registers through sbcd"
ctl sbcd bindings | grep -q "^term3 index=[0-9]* addr=$TERM4:5080 mech=digest .*fpr=-"
ok $? "sbcd lists term3 with its pinned address and mechanism digest"
echo "$out" | grep -q '^options 200$'
ok $? "OPTIONS from term3's registered address are relayed and answered"
echo "$out" | grep -q '^replay 401$' && [ "$(stat_of softswitchd reason.REPLAY_N1)" -ge 1 ]
ok $? "a replayed Authorization (same nonce and count) is challenged again and counted"
# Requests for the domain itself (no user) are routed to the softswitch, which has nobody to
# give them to; never a false 200 (t_route_sbc.sh has the calls that go through).
echo "$out" | grep -q '^request INVITE 404 allow=-$' &&
	echo "$out" | grep -q '^request MESSAGE 404 allow=-$'
ok $? "an INVITE and a MESSAGE for the domain itself get 404 from the softswitch, not 200"
allow="REGISTER, OPTIONS, INVITE, ACK, BYE, CANCEL, UPDATE, INFO, PRACK, MESSAGE, SUBSCRIBE, NOTIFY, REFER"
echo "$out" | grep -q "^request FOOBAR 501 allow=$allow\$" &&
	[ "$(stat_of sbcd reason.NOT_SERVED)" -ge 1 ]
ok $? "an unknown method gets 501 with Allow; sbcd counts it NOT_SERVED"

before=$(stat_of sbcd fastpath.DROP_NOT_REGISTRATION)
udp_send "$NS_TERM" "$SBC4" 5060 'OPTIONS sip:sbc1 SIP/2.0\r\nVia: SIP/2.0/UDP '"$TERM4"':5081;branch=z9hG4bKx\r\nFrom: <sip:term3@sbc1>;tag=1\r\nTo: <sip:sbc1>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n'
wait_until 30 stat_at_least sbcd fastpath.DROP_NOT_REGISTRATION $((before + 1))
ok $? "an OPTIONS from another port of the same host is not term3's and is dropped"

# --- sbcd answers what it cannot take as RFC 3261 §8.2 asks, statelessly ------------------------
mkdir -p "$WORK/bad"
req() { # req <to> <extra header line>: a REGISTER from a stranger's port
	printf 'REGISTER sip:sbc1 SIP/2.0\r\nVia: SIP/2.0/UDP %s:5085;rport;branch=z9hG4bK%s\r\n' "$TERM4" "$RANDOM"
	printf 'Max-Forwards: 70\r\nFrom: <sip:term1@sbc1>;tag=b1\r\nTo: %s\r\n' "$1"
	printf 'Call-ID: bad-%s@test\r\nCSeq: 1 REGISTER\r\n%sContent-Length: 0\r\n\r\n' "$RANDOM" "$2"
}
req "isbn:2983792873" "" >"$WORK/bad/aor.dat"
req "<sip:term1@sbc1>" $'Require: nothing-here\r\n' >"$WORK/bad/require.dat"
before=$(stat_of sbcd refusals_sent)
out=$(in_term python3 "$UA" --server "$SBC4:5060" --local "$TERM4:5085" --user x --password x \
	--domain sbc1 --no-register --corpus "$WORK/bad")
echo "$out" | diag
echo "$out" | grep -q '^corpus aor 400$' && echo "$out" | grep -q '^corpus require 420$'
ok $? "sbcd answers a REGISTER whose AOR is no SIP URI 400, and one requiring an unknown extension 420"
is "$(($(stat_of sbcd refusals_sent) - before))" 2 "sbcd counts both refusals (refusals_sent)"

# --- Direct topology: a UA registering with softswitchd itself ---------------------------------
pw2=$(gkctl subscriber digest-password term2)
out=$(in_sbc python3 "$UA" --server "[$CORE6]:5060" --local "[2001:db8:0:12::1]:5090" \
	--user term2 --password "$pw2" --domain ss1 --alg SHA-256 --request INVITE --deregister)
rc=$?
echo "$out" | diag
[ $rc = 0 ] && echo "$out" | grep -q '^registered term2 alg=SHA-256 status=200'
ok $? "a SHA-256 Digest UA registers directly with softswitchd (realm ss1) and deregisters"
echo "$out" | grep -q '^request INVITE 404 allow=-$'
ok $? "softswitchd routes the registered UA's INVITE (docs/routing.md): one for the domain itself gets 404, not 200"

# --- What the wire shows -------------------------------------------------------------------------
capture_stop core "$NS_CORE" "$SBCCORE4"
capture_stop access "$NS_SBC" "$TERM4"
ha1=$(printf '%s' "term3:sbc1:$pw3" | sha256sum | cut -d' ' -f1)
! contains_bytes "$WORK/core.pcapng" "$(printf '%s' "$ha1" | perl -ne 'print unpack("H*", $_)')"
ok $? "term3's HA1 is never on the wire in the clear (RADIUS carries it hidden)"
is "$(gk_tshark -n -r "$WORK/core.pcapng" -Y 'radius.code == 2' 2>/dev/null | wc -l)" 4 \
	"4 Access-Accepts carried HA1 (SIPp, SIPp with a wrong password, term3, term2; not the replay)"
asip=$(gk_tshark -n -r "$WORK/access.pcapng" -Y 'sip.Status-Code == 401 && sip.WWW-Authenticate' \
	2>/dev/null | wc -l)
[ "$asip" -ge 4 ]
ok $? "the access link carries the Digest challenges ($asip)"
capture_clean "$WORK/access.pcapng" "the access link dissects in tshark without errors"
capture_clean "$WORK/core.pcapng" "the core link dissects in tshark without errors"

finish
