#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Direct topology over the MGCP, H.248 and RAS bindings: gkterm --proto mgcp|h248|h323 <->
# softswitchd (mgcp.listen, h248.listen, ras.listen) <-> aucd in network namespaces, each protocol
# in turn (PROTOS, default "mgcp h248 h323"). The same claims as t_direct_sip.sh: both ends hold
# the same key, protected requests pass and abusive ones are dropped, a wrong key is refused then
# locked out, replayed and stale registrations are refused; every datagram on the link dissects
# cleanly with tshark.
. "$(dirname "$0")/lib.sh"
need_root
need_tool tshark "tshark is not installed (make deps)"
PROTOS=${PROTOS:-mgcp h248 h323}
set -- $PROTOS
ras=0
case " $PROTOS " in *" h323 "*) ras=1 ;; esac
plan $((1 + 22 * $# + 3 * ras))

rig_direct
ids=
for p in $PROTOS; do
	ids="$ids $p-a $p-b $p-c $p-d $p-e $p-f"
done
provision $ids
start_core || bail "aucd and softswitchd do not start"
ok 0 "aucd and softswitchd start in the core namespace"

for PROTO in $PROTOS; do
	export PROTO
	port=$(proto_port)
	capture_start "$PROTO" "$NS_TERM" "$IF_TERM"
	wait_until 200 capture_canary "$PROTO" "$NS_TERM" "$CORE4" 9
	ok $? "$PROTO: tshark captures the terminal link"

	# --- Registration: the same key at both ends. ----------------------------------------
	out=$(gkterm_direct --key-file "$WORK/$PROTO-a.key")
	rc=$?
	echo "$out" | diag
	ok $rc "$PROTO: a terminal registers with softswitchd on port $port"
	tfpr=$(echo "$out" | sed -n "s/^registered $PROTO-a .*fpr=\([0-9a-f]*\).*/\1/p")
	sfpr=$(ctl softswitchd bindings | sed -n "s/^$PROTO-a .*fpr=\([0-9a-f]*\).*/\1/p")
	[ -n "$tfpr" ] && [ ${#tfpr} = 16 ]
	ok $? "$PROTO: gkterm prints a 16-hex-digit key fingerprint ($tfpr)"
	is "$sfpr" "$tfpr" "$PROTO: softswitchd holds the same session key as the terminal"
	grep -q "registered $PROTO-a .*fpr=$tfpr" "$WORK/softswitchd.log"
	ok $? "$PROTO: softswitchd logs the same fingerprint"

	out=$(in_term "$BIN/gkterm" --proto "$PROTO" --server "[$CORE6]:$port" --idsp ss1 \
		--key-file "$WORK/$PROTO-b.key")
	ok $? "$PROTO: a terminal registers over IPv6"

	# --- A batch on one socket: the transaction layer keeps the terminals apart. --------
	gkctl bulk-add "${PROTO}bulk" 30 --out-dir "$WORK/${PROTO}bulk" >/dev/null
	out=$(gkterm_direct --prefix "${PROTO}bulk" --count 30 --key-dir "$WORK/${PROTO}bulk" \
		--window 10)
	rc=$?
	echo "$out" | tail -n 1 | diag
	ok $rc "$PROTO: 30 terminals register in one run over one socket"
	ctl softswitchd bindings >"$WORK/bindings"
	mismatch=0
	while read -r word id rest; do
		[ "$word" = registered ] || continue
		f=${rest##*fpr=}
		grep -q "^$id .*fpr=$f" "$WORK/bindings" || mismatch=$((mismatch + 1))
	done <<<"$out"
	is "$mismatch" 0 "$PROTO: all 30 fingerprints match softswitchd's bindings"

	# --- Protected requests, abuse, deregistration. --------------------------------------
	before_tag=$(stat_of softswitchd reason.BAD_TAG)
	before_rep=$(stat_of softswitchd reason.REPLAY_SEQ)
	before_old=$(stat_of softswitchd reason.OLD_SEQ)
	out=$(gkterm_direct --key-file "$WORK/$PROTO-c.key" --options 3 --abuse --deregister)
	rc=$?
	echo "$out" | diag
	echo "$out" | grep -q '^options sent=3 ok=3 bad_downlink=0'
	ok $? "$PROTO: 3 gk-mac protected requests pass, their answers verify at the terminal"
	echo "$out" | grep -q '^abuse sent=7 answered=1 expected=1'
	ok $? "$PROTO: of the abusive datagrams only the valid one (far ahead) is answered"
	[ $(($(stat_of softswitchd reason.BAD_TAG) - before_tag)) = 1 ] &&
		[ $(($(stat_of softswitchd reason.REPLAY_SEQ) - before_rep)) = 1 ] &&
		[ $(($(stat_of softswitchd reason.OLD_SEQ) - before_old)) = 1 ]
	ok $? "$PROTO: forged tag, replayed and old sequence numbers are dropped and counted"
	echo "$out" | grep -q '^deregistered 1' && ! ctl softswitchd bindings | grep -q "^$PROTO-c "
	ok $? "$PROTO: the terminal deregisters and softswitchd drops its binding"

	# --- Wrong Kc: refused, then locked out. --------------------------------------------
	printf 'id %s\nkey %064d\n' "$PROTO-d" 0 >"$WORK/$PROTO-d-wrong.key"
	chmod 600 "$WORK/$PROTO-d-wrong.key"
	before=$(stat_of softswitchd reason.WRONG_AUTH)
	before_lock=$(stat_of softswitchd lockouts)
	out=$(gkterm_direct --key-file "$WORK/$PROTO-d-wrong.key")
	rc=$?
	echo "$out" | diag
	[ $rc = 1 ] && echo "$out" | grep -q "^failed $PROTO-d reason=REFUSED"
	ok $? "$PROTO: a terminal with the wrong Kc is refused (an error response)"
	after=$(stat_of softswitchd reason.WRONG_AUTH)
	is $((after - before)) 3 "$PROTO: softswitchd counted 3 wrong answers (a fresh challenge after each)"
	out=$(gkterm_direct --key-file "$WORK/$PROTO-d.key")
	rc=$?
	[ $rc = 1 ] && [ $(($(stat_of softswitchd lockouts) - before_lock)) = 1 ]
	ok $? "$PROTO: locked out: even the right key is refused"

	# --- Replayed ANSWER, stale timestamp. ----------------------------------------------
	out=$(gkterm_direct --key-file "$WORK/$PROTO-e.key" --replay-answer)
	echo "$out" | diag
	echo "$out" | grep -q '^replay refused=1 accepted=0'
	ok $? "$PROTO: a replayed ANSWER command gets no new registration (the same success again)"
	before=$(stat_of softswitchd reason.STALE_TS)
	out=$(gkterm_direct --key-file "$WORK/$PROTO-f.key" --ts-offset -120)
	rc=$?
	[ $rc = 1 ] && [ $(($(stat_of softswitchd reason.STALE_TS) - before)) -ge 1 ]
	ok $? "$PROTO: a timestamp 120 s in the past is refused (STALE_TS counted)"

	# --- The transaction layer (MGCP, H.248) and the wire. ------------------------------
	capture_stop "$PROTO" "$NS_TERM" "$CORE4"
	if [ "$PROTO" = h323 ]; then
		ras_tokens_visible "$WORK/$PROTO.pcapng"
	else
		[ "$(stat_of softswitchd "$PROTO.txn.cmds_in")" -gt 0 ] &&
			[ "$(stat_of softswitchd "$PROTO.txn.gave_up")" = 0 ]
		ok $? "$PROTO: softswitchd's transaction layer counts commands in, none given up"
	fi
	# Sealed ones too: the gatekey dissector takes the trailer off before tshark's own reads it.
	capture_clean "$WORK/$PROTO.pcapng" \
		"$PROTO: tshark finds no malformed datagram, sealed or not"
	wire_names "$WORK/$PROTO.pcapng"
done

# --- Tampered mechanism lists. ---------------------------------------------------------------
# A man in the middle downgrades the terminal's offer on its way up (the softswitch then MACs the
# tampered list and the terminal sees its own list changed), or changes the echo on its way down
# (the SUCCESS MAC no longer verifies). softswitchd must allow digest too for the downgrade to
# bite (tls, which the terminal also offers, is refused in registrar.mechanisms: not implemented).
stop_daemon softswitchd
sed -i 's/^registrar.lockout.*/&\nregistrar.mechanisms = gk-mac digest/' "$WORK/softswitchd.conf"
start_daemon softswitchd "$NS_CORE" -c "$WORK/softswitchd.conf" ||
	bail "softswitchd does not restart"
tamper_cases "$NS_CORE" "$CORE4" ss1
# Back to gk-mac alone at the next restart: with digest allowed, a registration without gk1 data
# (the GRQ under another arc below) would be taken for a plain Digest UA's, not refused
# PARSE_MISSING.
sed -i '/^registrar.mechanisms = /d' "$WORK/softswitchd.conf"

# --- RAS: the arc of gatekey's tokens is the operator's (ras.arc, gkterm --ras-arc). -----------
if [ $ras = 1 ]; then
	export PROTO=h323
	arc=1.3.6.1.4.1.32473.999
	{ cat "$WORK/softswitchd.conf"; echo "ras.arc = banana"; } >"$WORK/bad-arc.conf"
	out=$(ip netns exec "$NS_CORE" "$BIN/softswitchd" -c "$WORK/bad-arc.conf" 2>&1)
	[ $? = 2 ] && echo "$out" | grep -q "bad-arc.conf:[0-9]*: ras.arc: expected a dotted object"
	ok $? "h323: a bad ras.arc is refused, naming file:line and what was expected"
	stop_daemon softswitchd
	echo "ras.arc = $arc" >>"$WORK/softswitchd.conf"
	start_daemon softswitchd "$NS_CORE" -c "$WORK/softswitchd.conf" ||
		bail "softswitchd does not restart"
	before=$(stat_of softswitchd reason.PARSE_MISSING)
	out=$(gkterm_direct --key-file "$WORK/h323-b.key" --timeout 2)
	rc=$?
	[ $rc != 0 ] && [ "$(stat_of softswitchd reason.PARSE_MISSING)" -gt "$before" ]
	ok $? "h323: tokens under another arc are not ours: the GRQ misses its gk1 data (PARSE_MISSING)"
	out=$(gkterm_direct --key-file "$WORK/h323-b.key" --ras-arc "$arc")
	ok $? "h323: with the same ras.arc at both ends the terminal registers"
fi
