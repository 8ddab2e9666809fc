#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# SBC topology over SIP (patent claims 9-16): terminal <-> sbcd <-> softswitchd <-> aucd on three
# hosts. The terminal and the SBC end up with the same key; the softswitch only ever sees it
# wrapped; sbcd enforces gk-mac on every datagram in userspace.
. "$(dirname "$0")/lib.sh"
need_root
need_tool tshark "tshark is not installed (make deps)"
plan 30

rig_sbc
provision_sbc term1 term2 term3 term4
start_sbc_topology || bail "aucd, softswitchd and sbcd do not start"
expect_fastpath
ok 0 "aucd and softswitchd (core host) and sbcd (SBC host) start"

# Capture both links for the whole run, to look for K on the core link afterwards.
capture_start core "$NS_CORE" "$IF_CORE"
capture_start access "$NS_SBC" "$IF_ACCESS"
cap=$WORK/core.pcapng
acap=$WORK/access.pcapng
wait_until 200 capture_canary core "$NS_CORE" "$SBCCORE4" 9 &&
	wait_until 200 capture_canary access "$NS_SBC" "$TERM4" 9
ok $? "tshark captures the core link and the access link"

# --- Registration through the SBC: the terminal and sbcd hold the same key. ---------------
out=$(gkterm_sbc --key-file "$WORK/term1.key" --keylog "$WORK/keylog")
rc=$?
echo "$out" | diag
ok $rc "term1 registers through sbcd"
tfpr=$(echo "$out" | sed -n 's/^registered term1 .*fpr=\([0-9a-f]*\).*/\1/p')
sfpr=$(ctl sbcd bindings | sed -n 's/^term1 .*fpr=\([0-9a-f]*\).*/\1/p')
[ -n "$tfpr" ]
ok $? "gkterm prints the key fingerprint ($tfpr)"
is "$sfpr" "$tfpr" "sbcd holds the same session key as the terminal"
ctl softswitchd bindings | grep -q '^term1 '
is $? 1 "softswitchd keeps no binding (and no key) of its own for term1"
is "$(stat_of aucd accounting_start)" 1 "the AuC got the accounting start (s11)"
grep -q "GK-Terminal-Address\|accounting start term1" "$WORK/aucd.log" || true

out=$(in_term "$BIN/gkterm" --server "[$SBC6]:5060" --idsp sbc1 --key-file "$WORK/term2.key")
ok $? "term2 registers through sbcd over IPv6"

# --- Protected traffic, abuse, deregistration. ------------------------------------------------
before_tag=$(stat_of sbcd fastpath.DROP_BAD_TAG)
before_idx=$(stat_of sbcd fastpath.DROP_UNKNOWN_INDEX)
before_rep=$(stat_of sbcd fastpath.DROP_REPLAY)
before_old=$(stat_of sbcd fastpath.DROP_OLD_SEQ)
before_bare=$(stat_of sbcd fastpath.DROP_BAD_TRAILER)
before_nreg=$(stat_of sbcd reason.NOT_REGISTERED)
out=$(gkterm_sbc --key-file "$WORK/term3.key" --options 5 --abuse --deregister)
rc=$?
echo "$out" | diag
echo "$out" | grep -q '^options sent=5 ok=5 bad_downlink=0'
ok $? "5 gk-mac protected OPTIONS pass, and their answers verify at the terminal"
echo "$out" | grep -q '^abuse sent=7 answered=1 expected=1'
ok $? "of the abusive datagrams only the valid one (far ahead in sequence) is answered"
is "$(stat_of sbcd relayed_to_core)" 6 \
	"the 6 verified OPTIONS went on to the softswitch, trailer stripped, and were answered from there"
is $(($(stat_of sbcd fastpath.DROP_BAD_TAG) - before_tag)) 1 "a forged tag is dropped and counted"
is $(($(stat_of sbcd fastpath.DROP_REPLAY) - before_rep)) 1 "a replayed sequence is dropped and counted"
is $(($(stat_of sbcd fastpath.DROP_OLD_SEQ) - before_old)) 1 \
	"a sequence behind the replay window is dropped and counted"
is $(($(stat_of sbcd fastpath.DROP_BAD_TRAILER) - before_bare)) 1 \
	"a bare datagram from a gk-mac terminal is dropped and counted"
is $(($(stat_of sbcd fastpath.DROP_UNKNOWN_INDEX) - before_idx)) 1 \
	"an unknown index is dropped and counted"
# The deregistered binding lingers, so that the terminal's repeat of its deregistration (the
# answer lost) is answered: the old key still verifies, but serves nothing.
is $(($(stat_of sbcd reason.NOT_REGISTERED) - before_nreg)) 1 \
	"the old key after deregistration gets no answer, counted NOT_REGISTERED"

# --- A neighbour behind the terminal's address locks it out; its sealed refresh passes. --------
# Wrong answers are counted per (IDc, source host), so whoever shares the terminal's address (a
# NAT) can lock it out. The terminal seals its refresh under the binding it replaces: the SBC
# verifies that trailer and tells the core, which lets it through the lockout.
printf 'id term1\nkey %064d\n' 0 >"$WORK/term1-wrong.key"
chmod 600 "$WORK/term1-wrong.key"
before_sealed=$(stat_of softswitchd sealed_past_lockout)
before_lock=$(stat_of softswitchd lockouts)
gkterm_sbc --key-file "$WORK/term1.key" --refresh 1 --refresh-interval 6000 \
	>"$WORK/refresh.out" 2>&1 &
refresher=$!
PIDS+=($refresher)
wait_until 100 grep -q '^registered term1 ' "$WORK/refresh.out"
ok $? "term1 registers, and will refresh in 6 s"
out=$(gkterm_sbc --key-file "$WORK/term1-wrong.key")
echo "$out" | diag
[ $(($(stat_of softswitchd lockouts) - before_lock)) = 1 ]
ok $? "a neighbour on term1's address answers wrongly three times and locks that address out"
before_locked=$(stat_of softswitchd reason.LOCKED_OUT)
out=$(gkterm_sbc --key-file "$WORK/term1.key")
rc=$?
echo "$out" | diag
[ $rc = 1 ] && [ "$(stat_of softswitchd reason.LOCKED_OUT)" -gt "$before_locked" ]
ok $? "a bare registration of term1 from that address is refused LOCKED_OUT"
wait "$refresher"
rc=$?
diag <"$WORK/refresh.out"
[ $rc = 0 ] && grep -q '^refreshed 1$' "$WORK/refresh.out"
ok $? "term1's refresh, sealed under its standing binding, registers through the lockout"
is $(($(stat_of softswitchd sealed_past_lockout) - before_sealed)) 2 \
	"the core let its sealed REGISTER and ANSWER past the lockout, and counted them"

# --- Unknown sources. ---------------------------------------------------------------------------
before=$(stat_of sbcd fastpath.DROP_NOT_REGISTRATION)
udp_send "$NS_TERM" "$SBC4" 5060 'OPTIONS sip:sbc1 SIP/2.0\r\nVia: SIP/2.0/UDP '"$TERM4"':5999;branch=z9hG4bKx\r\nFrom: <sip:x@sbc1>;tag=1\r\nTo: <sip:x@sbc1>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n'
wait_until 30 stat_at_least sbcd fastpath.DROP_NOT_REGISTRATION $((before + 1))
ok $? "a non-registration request from an unknown source is dropped and counted"

# --- An SBC with the wrong Ksp cannot complete a registration. --------------------------------
stop_daemon sbcd
cp "$WORK/sbc1.key" "$WORK/sbc1.good"
printf 'id sbc1\nkey %064d\n' 7 >"$WORK/sbc1.key"
start_daemon sbcd "$NS_SBC" -c "$WORK/sbcd.conf" || bail "sbcd does not restart"
expect_fastpath
out=$(gkterm_sbc --key-file "$WORK/term4.key")
rc=$?
echo "$out" | diag
[ $rc = 1 ] && [ "$(stat_of sbcd reason.UNWRAP_FAILED)" -ge 1 ]
ok $? "with a wrong Ksp the SBC cannot unwrap K and the registration fails"
stop_daemon sbcd
cp "$WORK/sbc1.good" "$WORK/sbc1.key"
start_daemon sbcd "$NS_SBC" -c "$WORK/sbcd.conf" || bail "sbcd does not restart"
expect_fastpath

# --- A forged MAC on the 200 OK is detected by the terminal. ----------------------------------
in_sbc "$BIN/gkmitm" --listen "$SBC4:5070" --forward "$SBC4:5060" \
	--flip-down 'rspauth="' 2>>"$WORK/mitm.log" &
PIDS+=($!)
wait_until 50 grep -q ready "$WORK/mitm.log"
out=$(in_term "$BIN/gkterm" --server "$SBC4:5070" --idsp sbc1 --key-file "$WORK/term4.key")
echo "$out" | diag
echo "$out" | grep -q 'reason=BAD_RESPONSE_MAC'
ok $? "a 200 OK whose MAC was tampered with is refused by the terminal"

# --- The core link never carried K. ---------------------------------------------------------
capture_stop core "$NS_CORE" "$SBCCORE4"
capture_stop access "$NS_SBC" "$TERM4"
key=$(awk '$1 == "term1" { print $2 }' "$WORK/keylog")
[ ${#key} = 64 ] && ! contains_bytes "$cap" "$key" && ! contains_bytes "$cap" "$(echo -n "$key" |
	perl -ne 'print unpack("H*", $_)')"
ok $? "no datagram on the core link contains term1's session key, raw or as hex text"
sipcount=$(gk_tshark -n -r "$cap" -Y sip 2>/dev/null | wc -l)
[ "$sipcount" -ge 8 ]
ok $? "the core leg is SIP ($sipcount datagrams)"
capture_clean "$cap" "the core leg dissects in tshark without errors"

# gk-mac protected datagrams carry their trailer after the SIP body, which the gatekey dissector
# takes off before tshark's SIP dissector reads the message; nothing may be malformed.
asip=$(gk_tshark -n -r "$acap" -Y sip 2>/dev/null | wc -l)
[ "$asip" -ge 20 ]
ok $? "the access link carries the terminals' SIP ($asip SIP datagrams)"
capture_clean "$acap" "every datagram on the access link dissects without errors"

finish
