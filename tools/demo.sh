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
	*) echo "usage: demo.sh [--proto sip|mgcp|h248] [-n N] [--topology sbc|direct]" >&2; exit 2 ;;
	esac
done
case $TOPO in
sbc | direct) ;;
*) echo "demo: topology is sbc or direct" >&2; exit 2 ;;
esac
case $PROTO in
sip) OTHER="OPTIONS" ;;
mgcp) OTHER="keep-alive NTFY" ;;
h248) OTHER="keep-alive Notify" ;;
*) echo "demo: protocol '$PROTO' is not available (sip, mgcp, h248 are)" >&2; exit 2 ;;
esac
export PROTO
rig_possible || { echo "demo: needs root and network namespaces" >&2; exit 1; }

say() { printf '\n== %s\n' "$*"; }

if [ "$TOPO" = sbc ]; then
	say "rig: terminal host ${RIG}t (198.18.1.2) <-access-> SBC host ${RIG}s (sbcd) <-core-> core host ${RIG}c (softswitchd, aucd)"
	rig_sbc
	ELEMENT=sbcd
	SERVER=$SBC4:$(proto_port)
	IDSP=sbc1
else
	say "rig: terminal host ${RIG}t (198.18.0.2) <-veth-> core host ${RIG}c (198.18.0.1: softswitchd, aucd)"
	rig_direct
	ELEMENT=softswitchd
	SERVER=$CORE4:$(proto_port)
	IDSP=ss1
fi
say "provisioning: KEK, softswitch ss1, SBC sbc1, $N subscribers (keys encrypted at rest in $WORK/keys.db)"
provision
gkctl element add sbc1 --type sbc --out "$WORK/sbc1.key" >/dev/null
gkctl bulk-add demo "$N" --out-dir "$WORK/terms" >/dev/null || exit 1
gkctl subscriber list | head -n 3 | sed "s/^/   (long-term Kc) /"
echo "   ..."
if [ "$TOPO" = sbc ]; then
	say "starting aucd and softswitchd on the core host, sbcd on the SBC host"
	start_sbc_topology || exit 1
else
	say "starting aucd and softswitchd"
	start_core || exit 1
fi
echo "   ready"

say "registering $N terminals over $PROTO ($TOPO topology); each then sends 3 gk-mac protected $OTHER and 7 abusive datagrams"
out=$(in_term "$BIN/gkterm" --proto "$PROTO" --server "$SERVER" --idsp "$IDSP" --prefix demo --count "$N" \
	--key-dir "$WORK/terms" --options 3 --abuse --mechs 'gk-mac;q=0.9,digest;q=0.1')
rc=$?
echo "$out" | grep -E '^(summary|options|abuse|failed)' | sed 's/^/   /'

ctl "$ELEMENT" bindings >"$WORK/bindings"
say "who holds which key (fingerprint = first 8 bytes of SHA-256(K))"
printf '   %-10s %-6s %-7s %-17s %-17s %s\n' terminal index mech "terminal fpr" "$ELEMENT fpr" match
matched=0
while read -r word id rest; do
	[ "$word" = registered ] || continue
	tf=${rest##*fpr=}
	idx=$(echo "$rest" | sed -n 's/.*index=\([0-9]*\).*/\1/p')
	mech=$(echo "$rest" | sed -n 's/.*mech=\([^ ]*\).*/\1/p')
	sf=$(awk -v id="$id" '$1 == id { sub(/.*fpr=/, ""); print $1 }' "$WORK/bindings")
	m=no
	[ "$tf" = "$sf" ] && { m=yes; matched=$((matched + 1)); }
	printf '   %-10s %-6s %-7s %-17s %-17s %s\n' "$id" "$idx" "$mech" "$tf" "${sf:--}" "$m"
done <<<"$out"

say "counters (datagrams passed and dropped by reason)"
if [ "$TOPO" = sbc ]; then
	# Fast-path decisions that happened, by name (passes and drops with their reason).
	ctl sbcd stats | grep -E '^(registrations|challenges|protected_passed|(mgcp|h248)\.txn\.(cmds_in|cmds_sent|retransmissions|gave_up)|fastpath\.(DROP|PASS)_[A-Z_]*|fastpath.mode|rejects|reason\.)' |
		awk '!($1 ~ /^fastpath\.(DROP|PASS)_/ && $2 == 0)' | sed 's/^/   sbcd        /'
fi
ctl softswitchd stats | grep -E '^(registrations|sbc_requests|challenges|rejects|accounting_acked|reason\.|(mgcp|h248)\.txn\.(cmds_in|cmds_sent|retransmissions|duplicates))' | sed 's/^/   softswitchd /'
ctl aucd stats | grep -E '^(access_requests|access_accepts|sessions)' | sed 's/^/   aucd        /'

say "result: $matched of $N terminals hold the same key as $ELEMENT"
[ "$rc" = 0 ] && [ "$matched" = "$N" ]
