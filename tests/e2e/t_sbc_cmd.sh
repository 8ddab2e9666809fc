#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# SBC topology over the MGCP, H.248 and RAS bindings: gkterm --proto mgcp|h248|h323 <-> sbcd
# (mgcp.listen, h248.listen, ras.listen; gk-mac enforced by the fast path, XDP by default) <->
# softswitchd over SIP <-> aucd, each protocol in turn (PROTOS, default "mgcp h248 h323").
# The terminal and sbcd hold the same key, the softswitch none; protected requests pass and go
# on to the softswitch, abusive ones are dropped by the fast path and counted (with XDP, also
# read from the pinned maps); a wrong key is refused then locked out, replayed and stale
# registrations are refused; the access link dissects cleanly with tshark.
. "$(dirname "$0")/lib.sh"
need_root
need_tool tshark "tshark is not installed (make deps)"
PROTOS=${PROTOS:-mgcp h248 h323}
set -- $PROTOS
plan $((1 + 25 * $#))
xdp=1
[ "${SBC_FASTPATH:-auto}" = userspace ] && xdp=0
[ $xdp = 0 ] || need_tool bpftool "bpftool is not installed (make deps)"

rig_sbc
ids=
for p in $PROTOS; do
	ids="$ids $p-a $p-b $p-c $p-d $p-e $p-f"
done
provision_sbc $ids
start_sbc_topology || bail "aucd, softswitchd and sbcd do not start"
expect_fastpath
ok 0 "aucd and softswitchd (core host) and sbcd (SBC host) start"

for PROTO in $PROTOS; do
	export PROTO
	port=$(proto_port)
	capture_start "$PROTO" "$NS_SBC" "$IF_ACCESS"
	capture_start "${PROTO}_core" "$NS_CORE" "$IF_CORE"
	wait_until 200 capture_canary "$PROTO" "$NS_SBC" "$TERM4" 9 &&
		wait_until 200 capture_canary "${PROTO}_core" "$NS_CORE" "$SBCCORE4" 9
	ok $? "$PROTO: tshark captures the access link and the core link"

	# --- Registration through the SBC: the terminal and sbcd hold the same key. ----------
	out=$(gkterm_sbc --key-file "$WORK/$PROTO-a.key")
	rc=$?
	echo "$out" | diag
	ok $rc "$PROTO: a terminal registers through sbcd on port $port"
	tfpr=$(echo "$out" | sed -n "s/^registered $PROTO-a .*fpr=\([0-9a-f]*\).*/\1/p")
	sfpr=$(ctl sbcd bindings | sed -n "s/^$PROTO-a .*fpr=\([0-9a-f]*\).*/\1/p")
	[ -n "$tfpr" ] && [ ${#tfpr} = 16 ]
	ok $? "$PROTO: gkterm prints a 16-hex-digit key fingerprint ($tfpr)"
	is "$sfpr" "$tfpr" "$PROTO: sbcd holds the same session key as the terminal"
	! ctl softswitchd bindings | grep -q "^$PROTO-a "
	ok $? "$PROTO: softswitchd keeps no binding (and no key) of its own"

	out=$(in_term "$BIN/gkterm" --proto "$PROTO" --server "[$SBC6]:$port" --idsp sbc1 \
		--key-file "$WORK/$PROTO-b.key")
	ok $? "$PROTO: a terminal registers through sbcd over IPv6"

	# --- Protected requests, abuse, deregistration. --------------------------------------
	before_tag=$(stat_of sbcd fastpath.DROP_BAD_TAG)
	before_rep=$(stat_of sbcd fastpath.DROP_REPLAY)
	before_old=$(stat_of sbcd fastpath.DROP_OLD_SEQ)
	before_rel=$(stat_of sbcd relayed_to_core)
	before_idx=$(stat_of sbcd reason.UNKNOWN_INDEX)
	before_nreg=$(stat_of sbcd reason.NOT_REGISTERED)
	before_syn=$(stat_of sbcd reason.PARSE_SYNTAX)
	if [ "$xdp" = 1 ]; then
		pin_before="$(pinned_stat DROP_BAD_TAG) $(pinned_stat DROP_REPLAY) $(pinned_stat DROP_OLD_SEQ)"
	fi
	before_sealed=$(stat_of sbcd sealed_requests)
	out=$(gkterm_sbc --key-file "$WORK/$PROTO-c.key" --options 3 --refresh 1 --abuse --deregister)
	rc=$?
	echo "$out" | diag
	echo "$out" | grep -q '^refreshed 1$' &&
		[ $(($(stat_of sbcd sealed_requests) - before_sealed)) = 2 ]
	ok $? "$PROTO: the terminal refreshes sealed under its binding (sbcd verified REGISTER and ANSWER)"
	echo "$out" | grep -q '^options sent=3 ok=3 bad_downlink=0'
	ok $? "$PROTO: 3 gk-mac protected requests pass, their answers verify at the terminal"
	echo "$out" | grep -q '^abuse sent=7 answered=1 expected=1'
	ok $? "$PROTO: of the abusive datagrams only the valid one (far ahead) is answered"
	is $(($(stat_of sbcd relayed_to_core) - before_rel)) 4 \
		"$PROTO: the 4 verified requests went on to the softswitch (SIP) and were answered from there"
	[ $(($(stat_of sbcd fastpath.DROP_BAD_TAG) - before_tag)) = 1 ] &&
		[ $(($(stat_of sbcd fastpath.DROP_REPLAY) - before_rep)) = 1 ] &&
		[ $(($(stat_of sbcd fastpath.DROP_OLD_SEQ) - before_old)) = 1 ]
	ok $? "$PROTO: the fast path drops and counts a forged tag, a replayed and an old sequence"
	# In the kernel, read through the pinned maps (bpftool), not only sbcd's view of them.
	if [ "$xdp" = 1 ]; then
		read -r t0 r0 o0 <<<"$pin_before"
		[ $(($(pinned_stat DROP_BAD_TAG) - t0)) = 1 ] &&
			[ $(($(pinned_stat DROP_REPLAY) - r0)) = 1 ] &&
			[ $(($(pinned_stat DROP_OLD_SEQ) - o0)) = 1 ]
		ok $? "$PROTO: XDP dropped them: the pinned stats map counts 1 bad tag, 1 replay, 1 old sequence"
	else
		[ "$(ctl sbcd stats | sed -n 's/^fastpath\.mode //p')" = userspace ] &&
			! ip -n "$NS_SBC" -d link show "$IF_ACCESS" | grep -q "prog/xdp"
		ok $? "$PROTO: sbcd's userspace fast path dropped them (no XDP program on the access link)"
	fi
	# The keep-alive is registration-class, so one with a trailer naming no terminal (an unknown
	# index) passes the unknown-source policy; sbcd then counts it by what it is, not as
	# unparseable. The old index after deregistration still verifies while the binding lingers
	# for the deregistration's repeat, and serves nothing: NOT_REGISTERED.
	[ $(($(stat_of sbcd reason.UNKNOWN_INDEX) - before_idx)) = 1 ] &&
		[ $(($(stat_of sbcd reason.NOT_REGISTERED) - before_nreg)) = 1 ] &&
		[ $(($(stat_of sbcd reason.PARSE_SYNTAX) - before_syn)) = 0 ]
	ok $? "$PROTO: a keep-alive naming no terminal is counted UNKNOWN_INDEX, the old key's NOT_REGISTERED"
	echo "$out" | grep -q '^deregistered 1' && ! ctl sbcd bindings | grep -q "^$PROTO-c "
	ok $? "$PROTO: the terminal deregisters and sbcd drops its binding"

	# --- Wrong Kc: refused, then locked out (decided by the softswitch). ----------------
	printf 'id %s\nkey %064d\n' "$PROTO-d" 0 >"$WORK/$PROTO-d-wrong.key"
	chmod 600 "$WORK/$PROTO-d-wrong.key"
	before=$(stat_of softswitchd reason.WRONG_AUTH)
	before_lock=$(stat_of softswitchd lockouts)
	out=$(gkterm_sbc --key-file "$WORK/$PROTO-d-wrong.key")
	rc=$?
	echo "$out" | diag
	[ $rc = 1 ] && echo "$out" | grep -q "^failed $PROTO-d reason=REFUSED" &&
		[ $(($(stat_of softswitchd reason.WRONG_AUTH) - before)) = 3 ]
	ok $? "$PROTO: the wrong Kc is refused after 3 wrong answers (counted by the softswitch)"
	out=$(gkterm_sbc --key-file "$WORK/$PROTO-d.key")
	rc=$?
	[ $rc = 1 ] && [ $(($(stat_of softswitchd lockouts) - before_lock)) = 1 ]
	ok $? "$PROTO: locked out: even the right key is refused"

	# --- Replayed ANSWER, stale timestamp. ----------------------------------------------
	out=$(gkterm_sbc --key-file "$WORK/$PROTO-e.key" --replay-answer)
	echo "$out" | diag
	echo "$out" | grep -q '^replay refused=1 accepted=0'
	ok $? "$PROTO: a replayed ANSWER command gets no new registration"
	before=$(stat_of sbcd reason.STALE_TS)
	out=$(gkterm_sbc --key-file "$WORK/$PROTO-f.key" --ts-offset -120)
	rc=$?
	[ $rc = 1 ] && [ $(($(stat_of sbcd reason.STALE_TS) - before)) -ge 1 ]
	ok $? "$PROTO: a timestamp 120 s in the past is refused by sbcd (STALE_TS counted)"

	# --- The wire. -----------------------------------------------------------------------
	capture_stop "$PROTO" "$NS_SBC" "$TERM4"
	capture_stop "${PROTO}_core" "$NS_CORE" "$SBCCORE4"
	if [ "$PROTO" = h323 ]; then
		ras_tokens_visible "$WORK/$PROTO.pcapng"
	else
		# A terminal acknowledges sbcd's challenge before it holds a key: the unknown-source
		# policy lets those responses through, so no challenge had to be sent twice.
		is "$(stat_of sbcd "$PROTO.txn.retransmissions")" 0 \
			"$PROTO: sbcd retransmitted no command (the terminals' acknowledgements all arrived)"
	fi
	# Sealed ones too: the gatekey dissector takes the trailer off before tshark's own reads it.
	capture_clean "$WORK/$PROTO.pcapng" \
		"$PROTO: tshark finds no malformed datagram on the access link, sealed or not"
	# A capture on the access interface sees what XDP made of a verified datagram: trailer
	# stripped, sent on to the verified port (port + 10000), where tshark needs telling it is RAS.
	if [ "$PROTO" = h323 ]; then
		wire_names "$WORK/$PROTO.pcapng" -d "udp.port==$((port + 10000)),h225"
	else
		wire_names "$WORK/$PROTO.pcapng"
	fi
	capture_clean "$WORK/${PROTO}_core.pcapng" "$PROTO: the core leg dissects without errors"
	gk_tshark -n -r "$WORK/${PROTO}_core.pcapng" -Y sip 2>/dev/null | grep -q REGISTER &&
		! gk_tshark -n -r "$WORK/${PROTO}_core.pcapng" -Y "mgcp || megaco || h225" \
			2>/dev/null | grep -q .
	ok $? "$PROTO: the core leg is clean SIP only"
done

# --- Tampered mechanism lists (sbcd chooses the mechanism in this topology). ------------------
tamper_cases "$NS_SBC" "$SBC4" sbc1
