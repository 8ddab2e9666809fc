#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# make bench: prints figures as "bench <name> <value> <unit>". Never asserts on time.
. "$(cd "$(dirname "$0")" && pwd)/rig-lib.sh"

BENCH_N=${BENCH_N:-20000}
rig_possible || { echo "bench: needs root and network namespaces" >&2; exit 1; }

rig_direct
provision
gkctl bulk-add b "$BENCH_N" --out-dir "$WORK/terms" >/dev/null || exit 1
write_aucd_conf
write_softswitchd_conf
echo "log.registrations = no" >>"$WORK/softswitchd.conf"
echo "registrar.max_terminals = $((BENCH_N * 2))" >>"$WORK/softswitchd.conf"
start_daemon aucd "$NS_CORE" -c "$WORK/aucd.conf" || exit 1
start_daemon softswitchd "$NS_CORE" -c "$WORK/softswitchd.conf" || exit 1

out=$(gkterm_direct --prefix b --count "$BENCH_N" --key-dir "$WORK/terms" --quiet \
	--window 2048 --sockets 4 --timeout 120)
echo "$out" | sed 's/^/# /'
summary=$(echo "$out" | grep '^summary')
rate=$(echo "$summary" | sed -n 's/.* rate=\([0-9]*\) reg\/s.*/\1/p')
p50=$(echo "$summary" | sed -n 's/.* p50=\([0-9.]*\).*/\1/p')
p99=$(echo "$summary" | sed -n 's/.* p99=\([0-9.]*\).*/\1/p')
echo "bench reg_rate_sip_direct ${rate:-0} reg/s"
echo "bench reg_latency_p50_sip_direct ${p50:-0} ms"
echo "bench reg_latency_p99_sip_direct ${p99:-0} ms"
