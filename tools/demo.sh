#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# make demo: builds a rig in network namespaces, registers a batch of terminals, sends protected
# traffic, and prints what each side holds. Cleans up on exit, also on Ctrl-C.
. "$(cd "$(dirname "$0")" && pwd)/rig-lib.sh"

PROTO=sip
N=20
TOPO=sbc
while [ $# -gt 0 ]; do
	case $1 in
	--proto) PROTO=$2; shift 2 ;;
	-n) N=$2; shift 2 ;;
	--topology) TOPO=$2; shift 2 ;;
	*) echo "usage: demo.sh [--proto sip|mgcp|h248|h323|mix] [-n N] [--topology sbc|direct]" >&2; exit 2 ;;
	esac
done
case $TOPO in
sbc | direct) ;;
*) echo "demo: topology is sbc or direct" >&2; exit 2 ;;
esac
# The protected request each protocol sends once registered.
other_of() {
	case $1 in
	sip) echo "OPTIONS" ;;
	mgcp) echo "keep-alive NTFY" ;;
	h248) echo "keep-alive Notify" ;;
	h323) echo "keep-alive RRQ" ;;
	esac
}
case $PROTO in
sip | mgcp | h248 | h323) PROTOS=$PROTO ;;
mix) PROTOS="sip mgcp h248 h323" ;; # N split between them, all at once against one rig
*) echo "demo: protocol '$PROTO' is not available (sip, mgcp, h248, h323, mix are)" >&2; exit 2 ;;
esac
set -- $PROTOS
[ "$N" -ge $# ] || { echo "demo: PROTO=$PROTO needs N of at least $#" >&2; exit 2; }
rig_possible || { echo "demo: needs root and network namespaces" >&2; exit 1; }

say() { printf '\n== %s\n' "$*"; }

if [ "$TOPO" = sbc ]; then
	say "rig: terminal host ${RIG}t (198.18.1.2) <-access-> SBC host ${RIG}s (sbcd) <-core-> core host ${RIG}c (softswitchd, aucd)"
	rig_sbc
	ELEMENT=sbcd
	SERVER_IP=$SBC4
	IDSP=sbc1
else
	say "rig: terminal host ${RIG}t (198.18.0.2) <-veth-> core host ${RIG}c (198.18.0.1: softswitchd, aucd)"
	rig_direct
	ELEMENT=softswitchd
	SERVER_IP=$CORE4
	IDSP=ss1
fi
say "provisioning: KEK, softswitch ss1, SBC sbc1 and its core-leg key, $N subscribers (keys encrypted at rest in $WORK/keys.db)"
provision_sbc
# Terminals <proto>-1 .. <proto>-n per protocol (demo1 .. demoN for one protocol).
left=$N
for p in $PROTOS; do
	count=$((N / $#))
	[ "$p" = "$1" ] && count=$((count + N % $#))
	prefix=$p-
	[ $# = 1 ] && prefix=demo
	gkctl bulk-add "$prefix" "$count" --out-dir "$WORK/terms" >/dev/null || exit 1
	eval "COUNT_$p=$count PREFIX_$p=$prefix"
done
gkctl subscriber list | head -n 3 | sed "s/^/   (long-term Kc) /"
echo "   ..."
if [ "$TOPO" = sbc ]; then
	say "starting aucd and softswitchd on the core host, sbcd on the SBC host"
	start_sbc_topology || exit 1
	FP_MODE=$(xdp_fastpath_mode)
	if [ "$FP_MODE" = userspace ]; then
		say "fast path: userspace (XDP is not attached: $(fastpath_fallback_reason))"
	else
		say "fast path: $FP_MODE on $IF_ACCESS (bpftool net show: $(xdp_on_access))"
	fi
else
	say "starting aucd and softswitchd"
	start_core || exit 1
fi
echo "   ready"

if [ $# = 1 ]; then
	say "registering $N terminals over $PROTO ($TOPO topology); each then sends 3 gk-mac protected $(other_of "$PROTO") and 7 abusive datagrams"
else
	say "registering $N terminals over $PROTOS at once ($TOPO topology); each then sends 3 gk-mac protected requests (SIP OPTIONS, keep-alive NTFY, Notify, RRQ) and 7 abusive datagrams"
fi
rc=0
for p in $PROTOS; do
	eval "count=\$COUNT_$p prefix=\$PREFIX_$p"
	in_term "$BIN/gkterm" --proto "$p" --server "$SERVER_IP:$(PROTO=$p proto_port)" \
		--idsp "$IDSP" --prefix "$prefix" --count "$count" --key-dir "$WORK/terms" --options 3 \
		--abuse --mechs 'gk-mac;q=0.9,digest;q=0.1' >"$WORK/gkterm-$p.out" 2>&1 &
	eval "GKTERM_$p=$!"
done
for p in $PROTOS; do
	eval "wait \$GKTERM_$p" || rc=1
	[ $# = 1 ] || echo "   $p:"
	grep -E '^(summary|options|abuse|failed)' "$WORK/gkterm-$p.out" | sed 's/^/   /'
done
out=$(cat "$WORK"/gkterm-*.out)

ctl "$ELEMENT" bindings >"$WORK/bindings"
say "who holds which key (fingerprint = first 8 bytes of SHA-256(K))"
printf '   %-10s %-6s %-7s %-17s %-17s %s\n' terminal index mech "terminal fpr" "$ELEMENT fpr" match
matched=0
for p in $PROTOS; do eval "REG_$p=0 MATCH_$p=0"; done
while read -r word id rest; do
	[ "$word" = registered ] || continue
	tf=${rest##*fpr=}
	idx=$(echo "$rest" | sed -n 's/.*index=\([0-9]*\).*/\1/p')
	mech=$(echo "$rest" | sed -n 's/.*mech=\([^ ]*\).*/\1/p')
	sf=$(awk -v id="$id" '$1 == id { sub(/.*fpr=/, ""); print $1 }' "$WORK/bindings")
	m=no
	[ "$tf" = "$sf" ] && { m=yes; matched=$((matched + 1)); }
	# per protocol: the terminals of one are named after it (<proto>-<n>) when several run
	for p in $PROTOS; do
		case $id in "$p"-* | demo*) eval "REG_$p=\$((REG_$p + 1))"
			[ $m = yes ] && eval "MATCH_$p=\$((MATCH_$p + 1))" ;; esac
	done
	printf '   %-10s %-6s %-7s %-17s %-17s %s\n' "$id" "$idx" "$mech" "$tf" "${sf:--}" "$m"
done <<<"$out"

say "counters (datagrams passed and dropped by reason)"
# The transaction layers' counters of the command protocols that ran (MGCP, H.248).
txn=$(echo "$PROTOS" | tr ' ' '\n' | grep -E '^(mgcp|h248)$' | paste -sd'|')
txn=${txn:-none}
if [ "$TOPO" = sbc ]; then
	# Fast-path decisions that happened, by name (passes and drops with their reason).
	ctl sbcd stats | grep -E "^(registrations|challenges|protected_passed|($txn)\.txn\.(cmds_in|cmds_sent|retransmissions|gave_up|evicted)|fastpath\.(DROP|PASS)_[A-Z_]*|fastpath.mode|rejects|reason\.)" |
		awk '!($1 ~ /^fastpath\.(DROP|PASS)_/ && $2 == 0)' | sed 's/^/   sbcd        /'
fi
# Through an SBC the softswitch speaks SIP only: its command-protocol layers stay idle.
[ "$TOPO" = sbc ] && txn=none
ctl softswitchd stats | grep -E "^(registrations|sbc_requests|challenges|rejects|accounting_acked|reason\.|($txn)\.txn\.(cmds_in|cmds_sent|retransmissions|duplicates))" | sed 's/^/   softswitchd /'
ctl aucd stats | grep -E '^(access_requests|access_accepts|sessions)' | sed 's/^/   aucd        /'

# One call between two of the SIP terminals, captured on the terminals' side of the access link
# (where the gk-mac trailers are still on: XDP takes them off what it verified) and on the core
# link, then printed as a ladder.
call_rc=0
eval "callcount=\${COUNT_sip:-0} callprefix=\${PREFIX_sip:-}"
if [ "$callcount" -ge 2 ]; then
	caller=${callprefix}1 callee=${callprefix}2
	say "a call: $caller calls $callee through $ELEMENT (both gk-mac terminals)"
	capture_start access "$NS_TERM" "$IF_TERM"
	links="access=$WORK/access.pcapng"
	wait_until 200 capture_canary access "$NS_TERM" "$SERVER_IP" 9
	if [ "$TOPO" = sbc ]; then
		capture_start core "$NS_CORE" "$IF_CORE"
		wait_until 200 capture_canary core "$NS_CORE" "$SBCCORE4" 9
		links="$links core=$WORK/core.pcapng"
	fi
	in_term "$BIN/gkterm" --server "$SERVER_IP:5060" --idsp "$IDSP" \
		--key-file "$WORK/terms/$callee.key" --answer-s 15 >"$WORK/callee.out" 2>&1 &
	CALLEE=$!
	wait_until 100 grep -q "^serving $callee" "$WORK/callee.out"
	in_term "$BIN/gkterm" --server "$SERVER_IP:5060" --idsp "$IDSP" \
		--key-file "$WORK/terms/$caller.key" --call "$callee" --hold-ms 500 >"$WORK/caller.out" 2>&1 ||
		call_rc=1
	kill -TERM "$CALLEE" 2>/dev/null
	wait "$CALLEE" 2>/dev/null
	capture_stop access "$NS_TERM" "$SERVER_IP"
	[ "$TOPO" = sbc ] && capture_stop core "$NS_CORE" "$SBCCORE4"
	grep -E '^(call|downlink_rejected)' "$WORK/caller.out" | sed 's/^/   caller: /'
	grep -E '^(received|downlink_rejected)' "$WORK/callee.out" | sed 's/^/   callee: /'
	callid=$(gk_tshark -n -r "$WORK/access.pcapng" -Y 'sip.Method == "INVITE"' -T fields \
		-e sip.Call-ID 2>/dev/null | head -1)
	echo "   the call's ladder (Call-ID $callid): every datagram, its link, and what protected it"
	printf '   %11s  %-6s %-21s    %-21s  %-44s %s\n' time link from to message protection
	call_ladder "$callid" $links
	grep -q '^call [^ ]* 200 bye 200 ' "$WORK/caller.out" || call_rc=1
fi

say "result: $matched of $N terminals hold the same key as $ELEMENT"
if [ $# -gt 1 ]; then
	printf '   %-6s %10s %10s %12s\n' proto terminals registered "same key"
	for p in $PROTOS; do
		eval "count=\$COUNT_$p reg=\$REG_$p match=\$MATCH_$p"
		printf '   %-6s %10s %10s %12s\n' "$p" "$count" "$reg" "$match"
	done
fi
# The last line says where the fast path ran: a userspace fallback must not pass unnoticed.
fp_ok=0
if [ "$TOPO" = direct ]; then
	echo "   fast path: none in the direct topology (no SBC; softswitchd checks gk-mac itself)"
elif [ "$FP_MODE" = userspace ]; then
	reason=$(fastpath_fallback_reason)
	echo "   fast path: USERSPACE, not XDP: $reason"
	# Where the kernel could run it, the fallback is a defect to look into, not a result.
	[ -r /sys/kernel/btf/vmlinux ] && fp_ok=1
else
	kernel_drops=0
	for c in $(ctl sbcd stats | sed -n 's/^fastpath\.\(DROP_[A-Z_]*\) .*/\1/p'); do
		kernel_drops=$((kernel_drops + $(pinned_stat "$c")))
	done
	echo "   fast path: $FP_MODE on $IF_ACCESS: $kernel_drops abusive datagrams dropped in the kernel," \
		"$(pinned_stat PASS_GKMAC) gk-mac datagrams verified there"
fi
if [ "$callcount" -ge 2 ]; then
	[ "$call_rc" = 0 ] && echo "   call: $caller called $callee, 200 to the INVITE and to the BYE" ||
		echo "   call: FAILED ($(grep -m1 '^call' "$WORK/caller.out"))"
fi
[ "$rc" = 0 ] && [ "$matched" = "$N" ] && [ "$fp_ok" = 0 ] && [ "$call_rc" = 0 ]
