#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# This machine's floor for one registration through the SBC (docs/performance.md): the kernel's
# cost per datagram on each of the rig's paths, times the datagrams a registration sends there,
# plus the CPU of the exchange itself (terminal, front, core and AuC in one process, no network).
# Prints "bench" lines only, and "# " lines for the parts:
#   bench reg_floor_sbc <us> us/reg
#   bench reg_rate_limit_sbc <n> reg/s     (the CPUs divided by the floor)
# With REG_RATE_SBC=<reg/s> (what bench-reg.sh sbc measured in the same run) also:
#   bench reg_efficiency_sbc <pct> %
. "$(cd "$(dirname "$0")" && pwd)/rig-lib.sh"

rig_possible || { echo "bench: needs root and network namespaces" >&2; exit 1; }
rig_sbc

# Datagrams of one gk1 registration through the SBC, by path (docs/performance.md):
#   access link: REGISTER, 401, REGISTER (ANSWER), 200               4
#   core leg:    the same four, relayed under the core-leg trailer    4
#   RADIUS:      Access-Request, Access-Accept (aucd in the core ns)  2
ACCESS_DGRAMS=4 CORE_DGRAMS=4 RADIUS_DGRAMS=2
N=${BENCH_PINGPONG_N:-200000}

# pingpong <name> <echo ns> <echo addr> <client ns> <size>: prints the cost in us per datagram.
pingpong() {
	local name=$1 ens=$2 addr=$3 cns=$4 size=$5 out
	ip netns exec "$ens" "$BIN/gkbench" udp-echo --listen "$addr" --seconds 120 \
		>"$WORK/echo-$name.out" 2>&1 &
	local epid=$!
	PIDS+=("$epid")
	wait_until 50 grep -q '^echo ready' "$WORK/echo-$name.out" || {
		echo "bench: echo on $addr did not start" >&2
		return 1
	}
	out=$(ip netns exec "$cns" "$BIN/gkbench" udp-pingpong --to "$addr" --name "$name" \
		--count "$N" --size "$size" --window 256) || return 1
	kill "$epid" 2>/dev/null
	echo "$out" | sed 's/^/# /' >&2
	echo "$out" | sed -n "s/^bench udp_cpu_per_dgram_$name \([0-9.]*\) us/\1/p"
}

# Representative sizes: a gk1 SIP message on the access link and the core leg is 500-900 bytes,
# a RADIUS exchange 200-400.
access=$(pingpong access "$NS_SBC" "$SBC4:9000" "$NS_TERM" 700) || exit 1
core=$(pingpong core "$NS_CORE" "$CORE4:9001" "$NS_SBC" 800) || exit 1
radius=$(pingpong radius "$NS_CORE" "127.0.0.1:9002" "$NS_CORE" 300) || exit 1
cpu=$("$BIN/gkbench" reg-cpu --count "${BENCH_REGCPU_N:-20000}" |
	sed -n 's/^bench reg_cpu_inprocess \([0-9.]*\) .*/\1/p')
[ -n "$cpu" ] || { echo "bench: gkbench reg-cpu failed" >&2; exit 1; }
cpus=$(nproc)

awk -v a="$access" -v c="$core" -v r="$radius" -v x="$cpu" -v n="$cpus" \
	-v na="$ACCESS_DGRAMS" -v nc="$CORE_DGRAMS" -v nr="$RADIUS_DGRAMS" \
	-v got="${REG_RATE_SBC:-}" 'BEGIN {
	kernel = na * a + nc * c + nr * r
	floor = kernel + x
	printf "# floor per registration: access %d x %.2f + core leg %d x %.2f + RADIUS %d x %.2f = %.1f us kernel, + %.1f us exchange CPU\n", na, a, nc, c, nr, r, kernel, x
	printf "bench reg_floor_sbc %.1f us/reg\n", floor
	limit = n * 1e6 / floor
	printf "bench reg_rate_limit_sbc %.0f reg/s\n", limit
	if (got != "")
		printf "bench reg_efficiency_sbc %.0f %%\n", 100 * got / limit
}'
