# SPDX-License-Identifier: GPL-2.0-only
# What the network-namespace tests share: the rig (tools/rig-lib.sh) and TAP output.
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../../tools/rig-lib.sh"

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/tap.sh"

need_root() {
	rig_possible || skip_all "needs root and network namespaces"
}

# --- Packet captures (tshark) ---------------------------------------------------------------------
# capture_start <name> <ns> <iface>: captures UDP on iface into $WORK/<name>.pcapng.
capture_start() {
	ip netns exec "$2" tshark -n -l -P -i "$3" -f udp -w "$WORK/$1.pcapng" \
		>"$WORK/$1.tshark.out" 2>"$WORK/$1.tshark.log" &
	PIDS+=($!)
	eval "CAP_PID_$1=$!"
}
# capture_canary <name> <ns> <dest-ip> <port>: a datagram sent from ns shows in the capture. tshark
# prints "Capturing on" before it really captures, so readiness is only proven by traffic.
capture_canary() {
	ip netns exec "$2" bash -c "echo gk-canary >/dev/udp/$3/$4" 2>/dev/null
	grep -q " → $3 .* $4 Len" "$WORK/$1.tshark.out"
}
# capture_stop <name> <ns> <dest-ip>: waits until everything sent so far is in, then stops.
capture_stop() {
	wait_until 100 capture_canary "$1" "$2" "$3" 19
	local pid
	eval "pid=\$CAP_PID_$1"
	kill -INT "$pid"
	wait_gone "$pid" 100
}
# tshark's MEGACO dissector takes a gk-mac trailer ("GK" 01 ...) after the closing brace for the
# start of another transaction list and flags it; a test may excuse exactly that complaint.
GK_H248_TRAILER_EXCUSE='frame contains 7d:0d:0a:47:4b:01 && _ws.expert.message contains "transactionList = GK"'
# capture_problems <pcap> [excused-filter]: the datagrams tshark finds malformed or in error, one
# line each, minus those the display filter excuses. ICMP errors quote truncated datagrams and are
# not ours. A tshark failure prints a line too, so it cannot pass as clean.
capture_problems() {
	local filter='(_ws.malformed || _ws.expert.severity >= "Error") && !icmp && !icmpv6'
	[ -n "${2:-}" ] && filter="$filter && !($2)"
	tshark -n -r "$1" -Y "$filter" 2>"$1.tshark-read.err" ||
		echo "tshark failed on $1: $(head -c 300 "$1.tshark-read.err")"
}
# capture_clean <pcap> <description> [excused-filter]: one TAP line; on failure, the offenders and
# the first one dissected in full.
capture_clean() {
	local bad first
	bad=$(capture_problems "$1" "${3:-}")
	[ -z "$bad" ]
	ok $? "$2"
	[ -z "$bad" ] && return 0
	echo "$bad" | head -20 | diag
	first=$(echo "$bad" | awk '$1 ~ /^[0-9]+$/ { print $1; exit }')
	[ -n "$first" ] && tshark -n -r "$1" -V -x -Y "frame.number == $first" 2>/dev/null | diag
	return 1
}
# contains_bytes <file> <hex>: the raw bytes occur in the file.
contains_bytes() {
	perl -e 'open(my $f, "<", $ARGV[0]) or exit 2; binmode $f; local $/; my $d = <$f>;
		exit(index($d, pack("H*", $ARGV[1])) >= 0 ? 0 : 1)' "$1" "$2"
}
