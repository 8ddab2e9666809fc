#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Call rate through a rig: bench-call.sh direct|sbc. Pairs of registered gk-mac terminals call
# each other (gkterm --calls: INVITE, 200, ACK, BYE, 200, every datagram sealed), as fast as a
# window of calls in progress allows, with the load generator on the same machine. Prints
# "bench" lines (and "# " diagnostics) only.
. "$(cd "$(dirname "$0")" && pwd)/rig-lib.sh"

TOPO=${1:-sbc}
PAIRS=${BENCH_CALL_PAIRS:-200}
CALLS=${BENCH_CALLS:-20000}
WINDOW=${BENCH_CALL_WINDOW:-256}
rig_possible || { echo "bench: needs root and network namespaces" >&2; exit 1; }

if [ "$TOPO" = sbc ]; then
	rig_sbc
	provision_sbc
else
	rig_direct
	provision
fi
gkctl bulk-add c $((2 * PAIRS)) --out-dir "$WORK/terms" >/dev/null || exit 1
settle_writes
write_aucd_conf
write_softswitchd_conf
# Every call holds its INVITE and BYE transactions for 32 s (RFC 6026 Accepted state, timer J),
# twice at an SBC whose terminals call each other: room for a whole run's calls.
cat >>"$WORK/softswitchd.conf" <<EOC
log.registrations = no
route.transactions = 262144
EOC
if [ "$TOPO" = sbc ]; then
	sed -i 's|^radius.client = .*|radius.client = 198.18.2.0/24 '"$RADIUS_SECRET"'|' "$WORK/aucd.conf"
	echo "sbc.peer = $SBC_PEER" >>"$WORK/softswitchd.conf"
	write_sbcd_conf
	printf 'log.registrations = no\nroute.transactions = 262144\n' >>"$WORK/sbcd.conf"
fi
start_daemon aucd "$NS_CORE" -c "$WORK/aucd.conf" || exit 1
start_daemon softswitchd "$NS_CORE" -c "$WORK/softswitchd.conf" || exit 1
if [ "$TOPO" = sbc ]; then
	start_daemon sbcd "$NS_SBC" -c "$WORK/sbcd.conf" || exit 1
	server=$SBC4:5060
	idsp=sbc1
else
	server=$CORE4:5060
	idsp=ss1
fi

out=$(in_term "$BIN/gkterm" --server "$server" --idsp "$idsp" --prefix c --count $((2 * PAIRS)) \
	--key-dir "$WORK/terms" --quiet --calls "$CALLS" --window "$WINDOW" --timeout 120)
echo "$out" | sed 's/^/# /'
element=softswitchd
[ "$TOPO" = sbc ] && element=sbcd
ctl $element stats | grep -E '^(route\.(requests|forwarded|dialogs|dialogs_ended|timeouts)|sip\.txn\.(pool_full|client_retransmissions)) ' |
	sed "s/^/# $element /"
calls=$(echo "$out" | grep '^calls ')
rate=$(echo "$calls" | sed -n 's/.* rate=\([0-9.]*\).*/\1/p')
ok=$(echo "$calls" | sed -n 's/.* ok=\([0-9]*\).*/\1/p')
p50=$(echo "$calls" | sed -n 's/.* setup_p50_ms=\([0-9.]*\).*/\1/p')
p99=$(echo "$calls" | sed -n 's/.* setup_p99_ms=\([0-9.]*\).*/\1/p')
echo "bench call_rate_sip_$TOPO ${rate%.*} calls/s"
echo "bench call_ok_sip_$TOPO $((100 * ${ok:-0} / CALLS)) %"
echo "bench call_setup_p50_sip_$TOPO ${p50:-0} ms"
echo "bench call_setup_p99_sip_$TOPO ${p99:-0} ms"
