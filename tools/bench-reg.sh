#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Registration rate through a rig: bench-reg.sh direct|sbc [sip|mgcp|h248|h323]. Prints "bench"
# lines (and "# " diagnostics) only.
. "$(cd "$(dirname "$0")" && pwd)/rig-lib.sh"

TOPO=${1:-direct}
PROTO=${2:-sip}
export PROTO
BENCH_N=${BENCH_N:-20000}
BENCH_WINDOW=${BENCH_WINDOW:-2048} # registrations in flight at once
rig_possible || { echo "bench: needs root and network namespaces" >&2; exit 1; }

if [ "$TOPO" = sbc ]; then
	rig_sbc
	provision_sbc
else
	rig_direct
	provision
fi
gkctl bulk-add b "$BENCH_N" --out-dir "$WORK/terms" >/dev/null || exit 1
settle_writes
write_aucd_conf
write_softswitchd_conf
cat >>"$WORK/softswitchd.conf" <<EOC
log.registrations = no
registrar.max_terminals = $((BENCH_N * 2))
EOC
if [ "$TOPO" = sbc ]; then
	sed -i 's|^radius.client = .*|radius.client = 198.18.2.0/24 '"$RADIUS_SECRET"'|' "$WORK/aucd.conf"
	echo "sbc.peer = $SBC_PEER" >>"$WORK/softswitchd.conf"
	write_sbcd_conf
	cat >>"$WORK/sbcd.conf" <<EOC
log.registrations = no
registrar.max_terminals = $((BENCH_N * 2))
EOC
fi
start_daemon aucd "$NS_CORE" -c "$WORK/aucd.conf" || exit 1
start_daemon softswitchd "$NS_CORE" -c "$WORK/softswitchd.conf" || exit 1
if [ "$TOPO" = sbc ]; then
	start_daemon sbcd "$NS_SBC" -c "$WORK/sbcd.conf" || exit 1
	server=$SBC4:$(proto_port)
	idsp=sbc1
else
	server=$CORE4:$(proto_port)
	idsp=ss1
fi

out=$(in_term "$BIN/gkterm" --proto "$PROTO" --server "$server" --idsp "$idsp" --prefix b --count "$BENCH_N" \
	--key-dir "$WORK/terms" --quiet --window "$BENCH_WINDOW" --sockets 4 --timeout 120)
echo "$out" | sed 's/^/# /'
# The command protocols' transaction layers show where a shortfall comes from (pools, retries).
if [ "$PROTO" != sip ]; then
	element=softswitchd
	[ "$TOPO" = sbc ] && element=sbcd
	ctl $element stats | grep -E "^$PROTO\.txn\." | sed "s/^/# $element /"
fi
summary=$(echo "$out" | grep '^summary')
rate=$(echo "$summary" | sed -n 's/.* rate=\([0-9]*\) reg\/s.*/\1/p')
p50=$(echo "$summary" | sed -n 's/.* p50=\([0-9.]*\).*/\1/p')
p99=$(echo "$summary" | sed -n 's/.* p99=\([0-9.]*\).*/\1/p')
echo "bench reg_rate_${PROTO}_$TOPO ${rate:-0} reg/s"
echo "bench reg_latency_p50_${PROTO}_$TOPO ${p50:-0} ms"
echo "bench reg_latency_p99_${PROTO}_$TOPO ${p99:-0} ms"
