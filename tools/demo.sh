#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# make demo: builds a rig in network namespaces, registers a batch of terminals, sends protected
# traffic, and prints what each side holds. Cleans up on exit, also on Ctrl-C.
. "$(cd "$(dirname "$0")" && pwd)/rig-lib.sh"

PROTO=sip
N=20
while [ $# -gt 0 ]; do
	case $1 in
	--proto) PROTO=$2; shift 2 ;;
	-n) N=$2; shift 2 ;;
	*) echo "usage: demo.sh [--proto sip] [-n N]" >&2; exit 2 ;;
	esac
done
case $PROTO in
sip) ;;
*) echo "demo: protocol '$PROTO' is not available yet (sip is)" >&2; exit 2 ;;
esac
rig_possible || { echo "demo: needs root and network namespaces" >&2; exit 1; }

say() { printf '\n== %s\n' "$*"; }

say "rig: terminal host $RIG""t (198.18.0.2) <-veth-> core host $RIG""c (198.18.0.1: softswitchd, aucd)"
rig_direct
say "provisioning: KEK, softswitch ss1, $N subscribers (keys encrypted at rest in $WORK/keys.db)"
provision
gkctl bulk-add demo "$N" --out-dir "$WORK/terms" >/dev/null || exit 1
gkctl subscriber list | head -n 3 | sed "s/^/   (long-term Kc) /"
echo "   ..."
say "starting aucd and softswitchd"
start_core || exit 1
echo "   ready"

say "registering $N terminals over $PROTO (direct topology), 3 gk-mac protected OPTIONS each"
out=$(gkterm_direct --prefix demo --count "$N" --key-dir "$WORK/terms" --options 3 \
	--mechs 'gk-mac;q=0.9,digest;q=0.1')
rc=$?
echo "$out" | grep -E '^(summary|options|failed)' | sed 's/^/   /'

ctl softswitchd bindings >"$WORK/bindings"
say "who holds which key (fingerprint = first 8 bytes of SHA-256(K))"
printf '   %-10s %-6s %-7s %-17s %-17s %s\n' terminal index mech "terminal fpr" "softswitch fpr" match
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

say "counters"
ctl softswitchd stats | grep -E '^(registrations|challenges|rejects|auc_requests|accounting_acked|reason\.)' | sed 's/^/   softswitchd /'
ctl aucd stats | grep -E '^(access_requests|access_accepts|sessions)' | sed 's/^/   aucd        /'

say "result: $matched of $N terminals hold the same key as the softswitch"
[ "$rc" = 0 ] && [ "$matched" = "$N" ]
