#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# A verified request speaks only for the binding that verified it (issue 12, DESIGN §5). A
# registered terminal sends a request that passes every access check (its own gk-mac key, index,
# fresh sequence and registered address; for a plain Digest phone, its own pinned address) but
# names another subscriber (SIP To user, MGCP endpoint, H.248 idc, RAS alias): sbcd must drop it
# before the softswitch sees it, count it as IDENTITY_MISMATCH, and never answer it; the
# terminal's requests in its own name still pass. Each protocol of PROTOS (default all four),
# then a plain Digest UA. SBC_FASTPATH=userspace runs it on sbcd's userspace fast path.
. "$(dirname "$0")/lib.sh"
need_root
need_tool python3 "python3 is not installed"
PROTOS=${PROTOS:-sip mgcp h248 h323}
set -- $PROTOS
plan $((1 + 4 * $# + 4))

UA=$REPO/tests/e2e/digest_ua.py

rig_sbc
ids="dg-victim dg-attacker"
for p in $PROTOS; do
	ids="$ids $p-victim $p-attacker"
done
provision_sbc $ids
MECHANISMS="gk-mac digest" start_sbc_topology ||
	bail "aucd, softswitchd and sbcd do not start"
expect_fastpath
ok 0 "aucd and softswitchd (core host) and sbcd (SBC host) start, offering gk-mac and digest"

# --- gk-mac terminals, each protocol. ---------------------------------------------------------
for PROTO in $PROTOS; do
	export PROTO
	out=$(gkterm_sbc --key-file "$WORK/$PROTO-victim.key")
	rc=$?
	echo "$out" | diag
	ok $rc "$PROTO: the victim registers through sbcd"

	before_mis=$(stat_of sbcd reason.IDENTITY_MISMATCH)
	before_rel=$(stat_of sbcd relayed_to_core)
	out=$(gkterm_sbc --key-file "$WORK/$PROTO-attacker.key" --options 1 \
		--impersonate "$PROTO-victim")
	rc=$?
	echo "$out" | diag
	[ $rc = 0 ] && echo "$out" | grep -q '^options sent=1 ok=1 bad_downlink=0'
	ok $? "$PROTO: the attacker registers, and its protected request in its own name is answered"
	echo "$out" | grep -q "^impersonate $PROTO-victim sent=1 answered=0"
	ok $? "$PROTO: its request sealed with its own key but naming the victim gets no answer"
	mis=$(($(stat_of sbcd reason.IDENTITY_MISMATCH) - before_mis))
	rel=$(($(stat_of sbcd relayed_to_core) - before_rel))
	[ "$mis" = 1 ] && [ "$rel" = 1 ]
	ok $? "$PROTO: sbcd dropped it as IDENTITY_MISMATCH ($mis) before the softswitch; only the request in the attacker's own name went on ($rel)"
done

# --- A plain Digest phone: pinned to its address, it speaks only for its binding. -------------
PROTO=sip
pw=$(gkctl subscriber digest-password dg-attacker)
before_mis=$(stat_of sbcd reason.IDENTITY_MISMATCH)
before_rel=$(stat_of sbcd relayed_to_core)
out=$(in_term python3 "$UA" --server "$SBC4:5060" --local "$TERM4:5080" --user dg-attacker \
	--password "$pw" --domain sbc1 --options --options-as dg-victim)
rc=$?
echo "$out" | diag
echo "$out" | grep -q '^registered dg-attacker alg=SHA-256 status=200' &&
	echo "$out" | grep -q '^options 200$'
ok $? "digest: a plain UA registers through sbcd, and its OPTIONS in nobody's name is answered"
echo "$out" | grep -q '^options-as dg-victim 0$'
ok $? "digest: an OPTIONS from its pinned address naming another subscriber gets no answer"
mis=$(($(stat_of sbcd reason.IDENTITY_MISMATCH) - before_mis))
rel=$(($(stat_of sbcd relayed_to_core) - before_rel))
[ "$mis" -ge 1 ] && [ "$rel" = 1 ]
ok $? "digest: sbcd dropped it and its retransmissions as IDENTITY_MISMATCH ($mis); only the UA's own OPTIONS went on ($rel)"
is $rc 0 "digest: the UA got every answer it expected, and none it must not"

finish
