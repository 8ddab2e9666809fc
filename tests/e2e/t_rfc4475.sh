#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# RFC 4475's 50 torture messages, bit for bit, sent to softswitchd from an address that never
# registered and from one registered with digest: every one gets the answer
# tests/corpus/rfc4475/outcomes gives (none where the protocol wants none), tshark finds every
# answer well formed, nothing crashes, and each refusal is counted. Then a flood of bad requests
# is answered no faster than refusals_per_second (sbcd's refusals on the access side:
# t_sbc_digest.sh).
. "$(dirname "$0")/lib.sh"
need_root
need_tool tshark "tshark is not installed (make deps)"
need_tool python3 "python3 is not installed"
plan 17

CORPUS=$REPO/tests/corpus/rfc4475
OUTCOMES=$CORPUS/outcomes
UA=$REPO/tests/e2e/digest_ua.py

# The messages address example.com: the softswitch is that element, so a REGISTER reaches the
# exchange instead of being refused as addressed elsewhere.
rig_direct
"$BIN/gkctl" kek generate "$WORK/kek" >/dev/null
gkctl element add example.com --type softswitch --out "$WORK/ss1.key" >/dev/null
gkctl subscriber add term1 >/dev/null
write_aucd_conf
write_softswitchd_conf
echo "registrar.mechanisms = gk-mac digest" >>"$WORK/softswitchd.conf"
start_daemon aucd "$NS_CORE" -c "$WORK/aucd.conf" || bail "aucd does not start"
start_daemon softswitchd "$NS_CORE" -c "$WORK/softswitchd.conf" || bail "softswitchd does not start"
capture_start core "$NS_CORE" "$IF_CORE"
wait_until 200 capture_canary core "$NS_CORE" "$TERM4" 9
ok $? "softswitchd (example.com) runs and tshark captures its link"

# compare <column> <file of "corpus name status" lines>: prints each mismatch, returns their count
compare() {
	local col=$1 got=$2 bad=0 name sec rfc codec stranger registered why
	while read -r name sec rfc codec stranger registered why; do
		[[ $name = \#* || -z $name ]] && continue
		local want=$stranger
		[ "$col" = registered ] && want=$registered
		local have
		have=$(awk -v n="$name" '$1 == "corpus" && $2 == n {print $3}' "$got")
		if [ "$have" != "$want" ]; then
			echo "# $name (RFC 4475 $sec): wanted $want, got ${have:-nothing}" >&2
			bad=$((bad + 1))
		fi
	done <"$OUTCOMES"
	return $bad
}

# --- From an address that never registered ---------------------------------------------------
in_term python3 "$UA" --server "$CORE4:5060" --local "$TERM4:5091" --user x --password x \
	--domain example.com --corpus "$CORPUS" --no-register >"$WORK/stranger.out"
is "$(grep -c '^corpus ' "$WORK/stranger.out")" 50 "all 50 messages were sent from an unregistered address"
compare stranger "$WORK/stranger.out"
ok $? "from an unregistered address each message gets the answer the table gives"
kill -0 "$PID_softswitchd"
ok $? "softswitchd is still running"
answered=$(awk '$1 == "corpus" && $3 ~ /^[4-6][0-9][0-9]$/ && $3 != 401' "$WORK/stranger.out" | wc -l)
is "$(stat_of softswitchd refusals_sent)" "$answered" "every refusal sent is counted (refusals_sent)"
# The element's own 420: a REGISTER (not routed: the registrar is its UAS) with a Require it
# does not support (bext01 is an OPTIONS for a user, which a proxy routes and leaves the
# Require of to the UAS).
udp_send "$NS_TERM" "$CORE4" 5060 'REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP terminal.invalid:5091;branch=z9hG4bK420\r\nMax-Forwards: 70\r\nFrom: <sip:x@example.com>;tag=r420\r\nTo: <sip:x@example.com>\r\nCall-ID: req420\r\nCSeq: 8 REGISTER\r\nRequire: nothingSupportsThis, nothingSupportsThisEither\r\nContent-Length: 0\r\n\r\n'
wait_until 30 stat_at_least softswitchd reason.BAD_EXTENSION 1
[ "$(stat_of softswitchd reason.BAD_VERSION)" -ge 1 ] &&
	[ "$(stat_of softswitchd reason.BAD_SCHEME)" -ge 2 ] &&
	[ "$(stat_of softswitchd reason.BAD_EXTENSION)" -ge 1 ]
ok $? "505, 416 and 420 are counted under their reasons"
ctl softswitchd stats | grep -q '^limit.sip_vias 0$' && ctl softswitchd stats | grep -q '^limit.datagram 0$'
ok $? "stats names every limit (limit.sip_vias, limit.datagram ...), none hit by RFC 4475"

# --- From a terminal registered with digest at that address ------------------------------------
pw=$(gkctl subscriber digest-password term1)
# A routed request's answer may wait on the AuC (is there such a user?): 2 s each, not 0.5.
in_term python3 "$UA" --server "$CORE4:5060" --local "$TERM4:5092" --user term1 --password "$pw" \
	--domain example.com --corpus "$CORPUS" --corpus-wait 2 >"$WORK/registered.out"
grep -q '^registered term1 alg=SHA-256 status=200' "$WORK/registered.out"
ok $? "term1 registers with digest from the address the messages then come from"
is "$(grep -c '^corpus ' "$WORK/registered.out")" 50 "all 50 messages were sent from the registered address"
compare registered "$WORK/registered.out"
ok $? "from the registered address each message gets the answer the table gives"
kill -0 "$PID_softswitchd"
ok $? "softswitchd is still running"

# --- What tshark makes of the answers ----------------------------------------------------------
capture_stop core "$NS_CORE" "$TERM4"
PCAP=$WORK/core.pcapng
n=$(gk_tshark -n -r "$PCAP" -Y "ip.src == $CORE4 && sip.Status-Code" 2>/dev/null | wc -l)
[ "$n" -ge 40 ]
ok $? "tshark sees softswitchd's answers ($n)"
# (the torture messages themselves are malformed on purpose: only the answers are judged)
bad=$(gk_tshark -n -r "$PCAP" -Y "ip.src == $CORE4 && (_ws.malformed || _ws.expert.severity >= \"Error\")" 2>/dev/null)
[ -z "$bad" ]
ok $? "tshark finds none of softswitchd's answers malformed"
[ -n "$bad" ] && echo "$bad" | head -5 | diag
# The top Via of every answer names where the request came from (RFC 3261 §18.2.1, RFC 3581),
# but the one to badinv01, whose Via cannot be read and goes back as it came.
vias=$(gk_tshark -n -r "$PCAP" -Y "ip.src == $CORE4 && sip.Status-Code >= 400 && sip.Status-Code != 401 && !(sip.Call-ID contains \"badinv01\")" \
	-T fields -e sip.Via 2>/dev/null | cut -d, -f1)
nvia=$(echo "$vias" | grep -c .)
nrecv=$(echo "$vias" | grep -c "received=$TERM4")
[ "$nvia" -ge 20 ] && [ "$nvia" = "$nrecv" ]
ok $? "each refusal's top Via carries received=$TERM4 ($nrecv of $nvia)"
v=$(gk_tshark -n -r "$PCAP" -Y "ip.src == $CORE4 && sip.CSeq.seq == 8 && sip.Status-Code == 420" \
	-T fields -e sip.Unsupported 2>/dev/null | head -n 1)
[ -n "$v" ] && [[ $v == *nothingSupportsThis* ]]
ok $? "tshark reads the 420's Unsupported: $v"

# --- A flood of bad requests is never reflected faster than configured -------------------------
stop_daemon softswitchd
echo "refusals_per_second = 20" >>"$WORK/softswitchd.conf"
start_daemon softswitchd "$NS_CORE" -c "$WORK/softswitchd.conf" || bail "softswitchd does not restart"
flood=$(in_term python3 - "$CORE4" "$CORPUS/badvers.dat" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("", 5093))
data = open(sys.argv[2], "rb").read()
t = time.time()
for i in range(500):
    s.sendto(data, (sys.argv[1], 5060))
s.settimeout(0.5)
n = 0
try:
    while True:
        s.recvfrom(65535)
        n += 1
except socket.timeout:
    pass
print(n, round(time.time() - t, 2))
EOF
)
got=${flood% *}
secs=${flood#* }
echo "# 500 bad requests in ${secs}s: $got answered"
max=$(awk -v s="$secs" 'BEGIN { printf "%d", 20 + 20 * s + 2 }')
[ "$got" -ge 15 ] && [ "$got" -le "$max" ]
ok $? "a burst of 500 bad requests gets $got answers, no more than the bucket allows ($max)"
[ "$(stat_of softswitchd refusals_rate_limited)" -ge $((500 - max)) ]
ok $? "the rest are counted as refusals_rate_limited ($(stat_of softswitchd refusals_rate_limited))"
finish
