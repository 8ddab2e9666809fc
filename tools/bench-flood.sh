#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Registrations under a flood: bench-flood.sh xdp|user. An attacker host sends unknown-source,
# forged, registration-class and verified-port datagrams as fast as it can while BENCH_FLOOD_N
# terminals register through sbcd; prints the share that succeeded, sbcd's CPU time and the
# offered rate. Prints "bench" lines only; asserts nothing.
. "$(cd "$(dirname "$0")" && pwd)/rig-lib.sh"

MODE=${1:-xdp}
N=${BENCH_FLOOD_N:-2000}
SECS=${BENCH_FLOOD_SECS:-20}
rig_possible || { echo "bench: needs root and network namespaces" >&2; exit 1; }
[ "$MODE" = user ] && export SBC_FASTPATH=userspace
# One attacker host: the per-host limit is what holds its registration flood back.
export SBC_SOURCE_RATE=5000 SBC_SOURCE_BURST=10000
rig_sbc
rig_attacker
provision_sbc
gkctl bulk-add f "$N" --out-dir "$WORK/terms" >/dev/null || exit 1
settle_writes
write_aucd_conf
sed -i 's|^radius.client = .*|radius.client = 198.18.2.0/24 '"$RADIUS_SECRET"'|' "$WORK/aucd.conf"
write_softswitchd_conf
echo "sbc.peer = $SBC_PEER" >>"$WORK/softswitchd.conf"
echo "log.registrations = no" >>"$WORK/softswitchd.conf"
write_sbcd_conf
echo "log.registrations = no" >>"$WORK/sbcd.conf"
start_daemon aucd "$NS_CORE" -c "$WORK/aucd.conf" || exit 1
start_daemon softswitchd "$NS_CORE" -c "$WORK/softswitchd.conf" || exit 1
start_daemon sbcd "$NS_SBC" -c "$WORK/sbcd.conf" || exit 1
# A figure named xdp is the XDP program's or none at all: auto may have fallen back.
if [ "$MODE" = xdp ] && [ "$(xdp_fastpath_mode)" = userspace ]; then
	echo "bench: flood_*_xdp not measured: XDP is not attached to $IF_ACCESS" \
		"($(fastpath_fallback_reason))" >&2
	exit 1
fi
echo "# fast path: $(xdp_fastpath_mode)"

t0=$(sbcd_cpu_ticks)
in_atk "$BIN/gkflood" --target "$SBC4:5060" --kind "${BENCH_FLOOD_KIND:-mix}" --duration "$SECS" \
	--count 100000000 --sockets 8 --size "${BENCH_FLOOD_SIZE:-0}" >"$WORK/flood.out" 2>&1 &
flood=$!
PIDS+=($flood)
flooding() { [ "$(stat_of sbcd fastpath.DROP_NOT_REGISTRATION)" -gt 1000 ] ||
	[ "$(stat_of sbcd rx_access)" -gt 1000 ]; }
wait_until 100 flooding
out=$(in_term "$BIN/gkterm" --server "$SBC4:5060" --idsp sbc1 --prefix f --count "$N" \
	--key-dir "$WORK/terms" --quiet --window 256 --options 1 --timeout $((SECS - 3)))
echo "$out" | sed 's/^/# /'
wait "$flood"
t1=$(sbcd_cpu_ticks)
sed 's/^/# /' "$WORK/flood.out"
reg=$(echo "$out" | sed -n 's/^summary .* registered=\([0-9]*\) .*/\1/p')
offered=$(sed -n 's/.* rate=\([0-9]*\) pkt\/s.*/\1/p' "$WORK/flood.out")
hz=$(getconf CLK_TCK)
awk -v r="${reg:-0}" -v n="$N" -v m="$MODE" 'BEGIN { printf "bench flood_legit_success_%s %.1f %%\n", m, 100 * r / n }'
awk -v d=$((t1 - t0)) -v hz="$hz" -v m="$MODE" 'BEGIN { printf "bench flood_sbcd_cpu_%s %.2f s\n", m, d / hz }'
# The issue's flood_offered is the XDP run's; each run's own is printed with its mode.
[ "$MODE" = xdp ] && echo "bench flood_offered ${offered:-0} pkt/s"
echo "bench flood_offered_$MODE ${offered:-0} pkt/s"
rate=$(echo "$out" | sed -n 's/^summary .* rate=\([0-9]*\) reg\/s.*/\1/p')
echo "bench flood_reg_rate_$MODE ${rate:-0} reg/s"
