# SPDX-License-Identifier: GPL-2.0-only
# The network-namespace rig shared by the end-to-end tests and the demo: namespaces and veth
# links, provisioning, daemon configuration, start and stop. Everything it creates is removed by
# the EXIT trap, also when the caller fails half-way or is interrupted.

set -u
RIG_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$RIG_LIB_DIR/.." && pwd)
GK_BUILD=${GK_BUILD:-$REPO/build}
BIN=$GK_BUILD/bin

# Rig names are unique per run so that concurrent runs never collide.
RIG=gk$(printf '%x' $(( ($$ ^ RANDOM) & 0xfffff )))
WORK=$(mktemp -d "/tmp/gatekey-e2e.XXXXXX")
# Pinned fast-path maps of this run only, never shared with another run or a real sbcd, on a
# bpffs mounted here: `ip netns exec` gives each daemon its own /sys, so /sys/fs/bpf would not
# outlive the daemon that pinned there.
PIN_ROOT=$WORK/bpf
# The daemons' binding stores (registrar.binding_store) hold session keys, so they live on a
# tmpfs of this run only, mounted by run_dir_mount.
RUN_DIR=$WORK/run
chmod 700 "$WORK"
PIDS=()
NETNS=()

# The shell that sourced this file owns the rig. A subshell that a signal reaches in the instant
# after its fork, before bash resets the traps it inherited, runs this EXIT trap too (a
# `job & kill $!` does that): it must leave the rig alone, or it tears it down under the test.
RIG_OWNER=$BASHPID
cleanup() {
	local pid ns
	[ "$BASHPID" = "$RIG_OWNER" ] || return 0
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${PIDS[@]}"; do
		wait_gone "$pid" 50 || kill -KILL "$pid" 2>/dev/null
	done
	for ns in "${NETNS[@]}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	# The XDP program went with its veth; the pinned maps go with their bpffs.
	mountpoint -q "$PIN_ROOT" 2>/dev/null && umount -l "$PIN_ROOT"
	mountpoint -q "$RUN_DIR" 2>/dev/null && umount -l "$RUN_DIR"
	if [ "${KEEP_WORK:-0}" = 1 ]; then
		echo "# work directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_until <tenths of a second> <command...>: polls a condition, never a blind sleep.
wait_until() {
	local tries=$1
	shift
	while [ "$tries" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		tries=$((tries - 1))
	done
	return 1
}
wait_gone() { # wait_gone <pid> <tenths>
	local tries=$2
	while [ "$tries" -gt 0 ]; do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
		tries=$((tries - 1))
	done
	return 1
}

rig_possible() {
	[ "$(id -u)" = 0 ] || return 1
	ip netns add "${RIG}probe" 2>/dev/null || return 1
	ip netns del "${RIG}probe"
}

# netns_add <name>: a namespace with loopback up.
netns_add() {
	ip netns add "$1"
	NETNS+=("$1")
	ip -n "$1" link set lo up
}

# link <ns-a> <if-a> <addr4-a> <addr6-a> <ns-b> <if-b> <addr4-b> <addr6-b>
# With IMPAIR set, the link goes through gkimpair instead (link_impaired).
link() {
	if [ -n "${IMPAIR:-}" ]; then
		link_impaired "$@"
		return
	fi
	ip link add "$2" type veth peer name "$6"
	ip link set "$2" netns "$1"
	ip link set "$6" netns "$5"
	link_ends "$@"
}

# link_ends <the arguments of link>: addresses and neighbours at both ends, interfaces up.
link_ends() {
	ip -n "$1" addr add "$3" dev "$2"
	ip -n "$1" addr add "$4" dev "$2" nodad
	ip -n "$5" addr add "$7" dev "$6"
	ip -n "$5" addr add "$8" dev "$6" nodad
	ip -n "$1" link set "$2" up
	ip -n "$5" link set "$6" up
	# Each side knows the other's MAC from the start: a burst of thousands of datagrams to a
	# neighbour still being resolved would lose all but the few the kernel queues meanwhile,
	# and the first window of every load run would wait out a retransmission.
	local mac_a mac_b
	mac_b=$(ip netns exec "$5" cat "/sys/class/net/$6/address")
	mac_a=$(ip netns exec "$1" cat "/sys/class/net/$2/address")
	ip -n "$1" neigh replace "${7%/*}" lladdr "$mac_b" dev "$2" nud permanent
	ip -n "$1" neigh replace "${8%/*}" lladdr "$mac_b" dev "$2" nud permanent
	ip -n "$5" neigh replace "${3%/*}" lladdr "$mac_a" dev "$6" nud permanent
	ip -n "$5" neigh replace "${4%/*}" lladdr "$mac_a" dev "$6" nud permanent
}

# IMPAIR="<loss %> <duplicate %> <delay ms> <jitter ms>", e.g. "5 1 20 10": every link of the rig
# runs through tools/gkimpair, in a namespace of its own between the link's two ends, which
# loses, duplicates, delays and reorders frames both ways (tc netem's job, on kernels with or
# without sch_netem). The ends know each other's MACs, as on a plain link, and the middle
# namespace only carries frames: it has no address.
LINKS_IMPAIRED=0
link_impaired() {
	local mid=${RIG}m$LINKS_IMPAIRED ma=${RIG}m${LINKS_IMPAIRED}a mb=${RIG}m${LINKS_IMPAIRED}b
	local loss dup delay jitter
	read -r loss dup delay jitter <<<"$IMPAIR"
	LINKS_IMPAIRED=$((LINKS_IMPAIRED + 1))
	netns_add "$mid"
	ip link add "$2" type veth peer name "$ma"
	ip link add "$6" type veth peer name "$mb"
	ip link set "$2" netns "$1"
	ip link set "$6" netns "$5"
	ip link set "$ma" netns "$mid"
	ip link set "$mb" netns "$mid"
	ip netns exec "$mid" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip -n "$mid" link set "$ma" up
	ip -n "$mid" link set "$mb" up
	link_ends "$@"
	ip netns exec "$mid" "$BIN/gkimpair" --between "$ma" "$mb" --loss "$loss" \
		--duplicate "$dup" --delay "$delay" --jitter "$jitter" --duration 1800 \
		>"$WORK/$mid.impair" 2>&1 &
	PIDS+=($!)
	wait_until 50 grep -q '^impairing ' "$WORK/$mid.impair"
}
# impair_report: what every impaired link did (gkimpair prints it when stopped).
impair_report() {
	local i
	for i in $(seq 0 $((LINKS_IMPAIRED - 1))); do
		ip netns pids "${RIG}m$i" 2>/dev/null | xargs -r kill -TERM
	done
	for i in $(seq 0 $((LINKS_IMPAIRED - 1))); do
		wait_until 50 grep -q '^impaired ' "$WORK/${RIG}m$i.impair"
		grep '^impaired ' "$WORK/${RIG}m$i.impair" | sed "s/^/link $i: /"
	done
}

# The direct topology: a terminal host and a core host (softswitchd + aucd) on one veth pair.
#   core 198.18.0.1 / 2001:db8:0:1::1     terminal 198.18.0.2 / 2001:db8:0:1::2
rig_direct() {
	NS_CORE=${RIG}c
	NS_TERM=${RIG}t
	IF_CORE=${RIG}c0
	IF_TERM=${RIG}t0
	netns_add "$NS_CORE"
	netns_add "$NS_TERM"
	link "$NS_CORE" "$IF_CORE" 198.18.0.1/24 2001:db8:0:1::1/64 \
		"$NS_TERM" "$IF_TERM" 198.18.0.2/24 2001:db8:0:1::2/64
	CORE4=198.18.0.1
	TERM4=198.18.0.2
	CORE6=2001:db8:0:1::1
}

in_core() { ip netns exec "$NS_CORE" "$@"; }
in_term() { ip netns exec "$NS_TERM" "$@"; }

gkctl() { "$BIN/gkctl" --db "$WORK/keys.db" --kek "$WORK/kek" "$@"; }

# settle_writes: what provisioning just wrote (thousands of key files, the key store) goes to disk
# now, before a measurement starts: left to the kernel's writeback, it stalled the daemons and
# the load generator mid-run (one registration in ten took 100-500 ms at 2,500 reg/s, against a
# p99 of 25 ms once flushed).
settle_writes() { sync; }

# Key store with a KEK, one softswitch element "ss1" and subscribers given as arguments.
provision() {
	"$BIN/gkctl" kek generate "$WORK/kek" >/dev/null
	gkctl element add ss1 --type softswitch --out "$WORK/ss1.key" >/dev/null
	local id
	for id in "$@"; do
		gkctl subscriber add "$id" --out "$WORK/$id.key" >/dev/null
	done
}

RADIUS_SECRET=gk-test-$RANDOM$RANDOM

run_dir_mount() {
	mountpoint -q "$RUN_DIR" 2>/dev/null && return 0
	mkdir -p "$RUN_DIR" && mount -t tmpfs -o mode=0700,size=4g gatekey-run "$RUN_DIR"
}

write_aucd_conf() {
	cat >"$WORK/aucd.conf" <<EOF
auc.listen = $CORE4:1812
auc.accounting_listen = $CORE4:1813
keystore.db = $WORK/keys.db
keystore.kek = $WORK/kek
radius.client = 198.18.0.0/24 $RADIUS_SECRET
control.socket = $WORK/aucd.sock
EOF
	# AUCD_CONF_EXTRA: more lines for it (t_metrics.sh: metrics.listen).
	if [ -n "${AUCD_CONF_EXTRA:-}" ]; then
		printf '%s\n' "$AUCD_CONF_EXTRA" >>"$WORK/aucd.conf"
	fi
	chmod 600 "$WORK/aucd.conf"
}

write_softswitchd_conf() {
	run_dir_mount || return 1
	cat >"$WORK/softswitchd.conf" <<EOF
softswitch.key_file = $WORK/ss1.key
sip.listen = $CORE4:5060
sip.listen = [$CORE6]:5060
mgcp.listen = $CORE4:2727
mgcp.listen = [$CORE6]:2727
h248.listen = $CORE4:2944
h248.listen = [$CORE6]:2944
ras.listen = $CORE4:1719
ras.listen = [$CORE6]:1719
auc.server = $CORE4:1812
auc.secret = $RADIUS_SECRET
registrar.max_failures = 3
registrar.lockout = 60s
registrar.binding_store = $RUN_DIR/softswitchd.bindings
control.socket = $WORK/softswitchd.sock
EOF
	# SOFTSWITCHD_CONF_EXTRA: more lines for it (the demo's capacity for N terminals).
	if [ -n "${SOFTSWITCHD_CONF_EXTRA:-}" ]; then
		printf '%s\n' "$SOFTSWITCHD_CONF_EXTRA" >>"$WORK/softswitchd.conf"
	fi
	chmod 600 "$WORK/softswitchd.conf"
}

ctl() { # ctl <daemon> <command>: the daemon's control socket answer
	"$BIN/gkctl" ctl "$WORK/$1.sock" "$2"
}
stat_at_least() { # stat_at_least <daemon> <counter> <n>: for wait_until, re-read each time
	[ "$(stat_of "$1" "$2")" -ge "$3" ]
}
stat_of() { # stat_of <daemon> <counter>
	ctl "$1" stats | awk -v k="$2" '$1 == k { print $2; found = 1 } END { if (!found) print 0 }'
}
# pinned_stat <COUNTER>: a fast-path counter (DROP_BAD_TAG, ...) summed over the CPUs, read with
# bpftool from the stats map sbcd pinned for the access interface (XDP modes only); the counter
# names, in map order, are those of sbcd's own stats.
pinned_stat() {
	local names
	names=$(ctl sbcd stats | sed -n 's/^fastpath\.\([A-Z][A-Z_]*\) .*/\1/p' | tr '\n' ' ')
	bpftool -j map dump pinned "$PIN_ROOT/$IF_ACCESS/stats" | python3 -c '
import json, sys
def num(v):
    return v if isinstance(v, int) else int.from_bytes(bytes(int(x, 16) for x in v), "little")
names = sys.argv[1].split()
entries = json.load(sys.stdin)
if not isinstance(entries, list):  # {"error": ...}: no such map
    sys.exit("pinned_stat: " + str(entries))
for e in entries:
    k = num(e["key"])
    if k < len(names) and names[k] == sys.argv[2]:
        print(sum(num(v["value"]) for v in e["values"]))
' "$names" "$1"
}

# xdp_on_access: "<mode> <program id> <program name>" of the XDP program attached to the SBC's
# access interface, as bpftool sees it (net show in the SBC's namespace, then prog show); mode is
# driver (native XDP) or generic. Prints nothing and fails when none is attached.
xdp_on_access() {
	local mode_id name
	mode_id=$(ip netns exec "$NS_SBC" bpftool -j net show dev "$IF_ACCESS" 2>/dev/null |
		python3 -c '
import json, sys
try:
    for e in json.load(sys.stdin):
        for x in e.get("xdp", []):
            print(x["mode"], x["id"])
except ValueError:
    pass
' | head -1)
	[ -n "$mode_id" ] || return 1
	name=$(bpftool -j prog show id "${mode_id#* }" 2>/dev/null |
		python3 -c 'import json, sys; print(json.load(sys.stdin).get("name", "?"))' 2>/dev/null)
	echo "$mode_id ${name:-?}"
}
# xdp_fastpath_mode: what the SBC's fast path is, in words, from bpftool and sbcd: "native XDP",
# "generic XDP" or "userspace".
xdp_fastpath_mode() {
	case "$(xdp_on_access)" in
	"driver "*" gk_xdp") echo "native XDP" ;;
	"generic "*" gk_xdp") echo "generic XDP" ;;
	*) echo "userspace" ;;
	esac
}
# fastpath_fallback_reason: why sbcd runs its userspace fast path, in its own words.
fastpath_fallback_reason() {
	ctl sbcd stats | sed -n 's/^fastpath\.fallback_reason //p'
}

# start_daemon <name> <ns> <args...>: runs it in the namespace, logs to $WORK/<name>.log, waits
# until its control socket answers.
start_daemon() {
	local name=$1 ns=$2
	shift 2
	ip netns exec "$ns" "$BIN/$name" "$@" >>"$WORK/$name.log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	eval "PID_$name=$pid"
	if ! wait_until 100 ctl "$name" stats; then
		echo "# $name did not become ready; its log:"
		sed 's/^/# /' <"$WORK/$name.log"
		return 1
	fi
}
stop_daemon() { # stop_daemon <name>
	local pid
	eval "pid=\${PID_$1:-}"
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	wait_gone "$pid" 100
}

start_core() {
	write_aucd_conf
	write_softswitchd_conf
	start_daemon aucd "$NS_CORE" -c "$WORK/aucd.conf" || return 1
	start_daemon softswitchd "$NS_CORE" -c "$WORK/softswitchd.conf" "$@"
}

# The server port of a protocol (PROTO: sip by default, mgcp, h248, h323).
proto_port() {
	case "${PROTO:-sip}" in
	mgcp) echo 2727 ;;
	h248) echo 2944 ;;
	h323) echo 1719 ;;
	*) echo 5060 ;;
	esac
}

gkterm_direct() { # gkterm_direct <args...>: a terminal registering with softswitchd over $PROTO
	in_term "$BIN/gkterm" --server "$CORE4:$(proto_port)" --idsp ss1 --proto "${PROTO:-sip}" "$@"
}

# The SBC topology: terminal host -- access link -- SBC host -- core link -- core host.
#   terminal 198.18.1.2 / 2001:db8:0:11::2   SBC access 198.18.1.1 / 2001:db8:0:11::1
#   SBC core 198.18.2.1 / 2001:db8:0:12::1   core (softswitchd, aucd) 198.18.2.2 / 2001:db8:0:12::2
rig_sbc() {
	mkdir -p "$PIN_ROOT" && mount -t bpf bpf "$PIN_ROOT" -o mode=0700
	NS_TERM=${RIG}t
	NS_SBC=${RIG}s
	NS_CORE=${RIG}c
	IF_TERM=${RIG}t0
	IF_ACCESS=${RIG}s0
	IF_SBCCORE=${RIG}s1
	IF_CORE=${RIG}c1
	netns_add "$NS_TERM"
	netns_add "$NS_SBC"
	netns_add "$NS_CORE"
	link "$NS_SBC" "$IF_ACCESS" 198.18.1.1/24 2001:db8:0:11::1/64 \
		"$NS_TERM" "$IF_TERM" 198.18.1.2/24 2001:db8:0:11::2/64
	link "$NS_SBC" "$IF_SBCCORE" 198.18.2.1/24 2001:db8:0:12::1/64 \
		"$NS_CORE" "$IF_CORE" 198.18.2.2/24 2001:db8:0:12::2/64
	TERM4=198.18.1.2
	SBC4=198.18.1.1
	SBC6=2001:db8:0:11::1
	SBCCORE4=198.18.2.1
	CORE4=198.18.2.2
	CORE6=2001:db8:0:12::2
}

in_sbc() { ip netns exec "$NS_SBC" "$@"; }

# Key store with the softswitch ss1, the SBC sbc1 and the given subscribers, and the core-leg key
# sbc1 and ss1 share (sbcd core.key_file, softswitchd sbc.peer: SBC_PEER).
provision_sbc() {
	provision "$@"
	gkctl element add sbc1 --type sbc --out "$WORK/sbc1.key" >/dev/null
	"$BIN/gkctl" core-key generate sbc1 --out "$WORK/sbc1.core" >/dev/null
	SBC_PEER="sbc1 ${SBCCORE4:-} $WORK/sbc1.core"
}

# rig_attacker (after rig_sbc): an attacker host behind the terminal host, which routes for it,
# so that its datagrams reach the SBC on the same access interface as the terminals'.
rig_attacker() {
	NS_ATK=${RIG}a
	netns_add "$NS_ATK"
	link "$NS_TERM" "${RIG}t1" 198.18.3.1/24 2001:db8:0:13::1/64 "$NS_ATK" "${RIG}a0" \
		198.18.3.2/24 2001:db8:0:13::2/64
	ip netns exec "$NS_TERM" sysctl -qw net.ipv4.ip_forward=1
	ip -n "$NS_ATK" route add default via 198.18.3.1
	ip -n "$NS_SBC" route add 198.18.3.0/24 via "$TERM4"
	ATK4=198.18.3.2
}
in_atk() { ip netns exec "$NS_ATK" "$@"; }
# sbcd_cpu_ticks: user + system clock ticks sbcd has used so far.
sbcd_cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$PID_sbcd/stat"
}

write_sbcd_conf() {
	run_dir_mount || return 1
	# SBC_FASTPATH: auto (XDP on the access veth, the default), native, generic or userspace.
	cat >"$WORK/sbcd.conf" <<EOC
sbc.key_file = $WORK/sbc1.key
access.listen = $SBC4:5060
access.listen = [$SBC6]:5060
mgcp.listen = $SBC4:2727
mgcp.listen = [$SBC6]:2727
h248.listen = $SBC4:2944
h248.listen = [$SBC6]:2944
ras.listen = $SBC4:1719
ras.listen = [$SBC6]:1719
core.softswitch = $CORE4:5060
core.key_file = $WORK/sbc1.core
control.socket = $WORK/sbcd.sock
registrar.binding_store = $RUN_DIR/sbcd.bindings
fastpath.interface = $IF_ACCESS
fastpath.mode = ${SBC_FASTPATH:-auto}
fastpath.pin_root = $PIN_ROOT
# The rig's terminals all live on one host: the per-host limit is for real deployments.
fastpath.source_rate = ${SBC_SOURCE_RATE:-1000000}
fastpath.source_burst = ${SBC_SOURCE_BURST:-1000000}
fastpath.global_rate = ${SBC_GLOBAL_RATE:-1000000}
fastpath.global_burst = ${SBC_GLOBAL_BURST:-1000000}
EOC
	# SBCD_CONF_EXTRA: more lines for it (the demo's capacity for N terminals).
	if [ -n "${SBCD_CONF_EXTRA:-}" ]; then
		printf '%s\n' "$SBCD_CONF_EXTRA" >>"$WORK/sbcd.conf"
	fi
	chmod 600 "$WORK/sbcd.conf"
}

# start_sbc_topology [sbcd options]: aucd and softswitchd on the core host, sbcd on the SBC host.
# MECHANISMS (e.g. "gk-mac digest") is what both elements negotiate, gk-mac alone when unset;
# DIGEST_ALGORITHMS the softswitch's digest.algorithms when set.
start_sbc_topology() {
	write_aucd_conf
	sed -i 's|^radius.client = .*|radius.client = 198.18.2.0/24 '"$RADIUS_SECRET"'|' "$WORK/aucd.conf"
	write_softswitchd_conf
	echo "sbc.peer = $SBC_PEER" >>"$WORK/softswitchd.conf"
	write_sbcd_conf
	if [ -n "${MECHANISMS:-}" ]; then
		echo "registrar.mechanisms = $MECHANISMS" >>"$WORK/softswitchd.conf"
		echo "registrar.mechanisms = $MECHANISMS" >>"$WORK/sbcd.conf"
	fi
	[ -n "${DIGEST_ALGORITHMS:-}" ] &&
		echo "digest.algorithms = $DIGEST_ALGORITHMS" >>"$WORK/softswitchd.conf"
	start_daemon aucd "$NS_CORE" -c "$WORK/aucd.conf" || return 1
	start_daemon softswitchd "$NS_CORE" -c "$WORK/softswitchd.conf" || return 1
	start_daemon sbcd "$NS_SBC" -c "$WORK/sbcd.conf" "$@"
}

gkterm_sbc() { # gkterm_sbc <args...>: a terminal registering through sbcd over $PROTO
	in_term "$BIN/gkterm" --server "$SBC4:$(proto_port)" --idsp sbc1 --proto "${PROTO:-sip}" "$@"
}
# in_parallel <command> [args...]: "<command> [args...] <proto>" for every protocol of $PROTOS at
# once, in the background (stopped with the rig if the caller dies), then waits for all of them;
# PARALLEL_FAILED is how many exited non-zero.
in_parallel() {
	local pids=() pid p
	for p in $PROTOS; do
		"$@" "$p" &
		pids+=($!)
		PIDS+=($!)
	done
	PARALLEL_FAILED=0
	for pid in "${pids[@]}"; do
		wait "$pid" || PARALLEL_FAILED=$((PARALLEL_FAILED + 1))
	done
}

# --- Packet captures (tshark) ---------------------------------------------------------------------
# Captures are read with gatekey's dissector for the gk-mac trailer (contrib/wireshark/gatekey.lua):
# it shows the trailer apart and hands tshark's SIP, MGCP, MEGACO and RAS dissectors the message
# alone, so protected datagrams must dissect as cleanly as plain ones, with nothing excused.
GK_LUA=$REPO/contrib/wireshark/gatekey.lua
# gk_tshark <tshark options>: tshark with that dissector. HOME is the run's own, so that a copy in
# a personal plugin folder is not loaded too (tshark would refuse the second and keep the first).
gk_tshark() {
	env -u XDG_CONFIG_HOME HOME="$WORK" tshark -X "lua_script:$GK_LUA" "$@"
}
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

# call_ladder <Call-ID> <link>=<pcap>...: every SIP datagram of one call on each captured link,
# in the order they were sent: milliseconds since the first, the link, source and destination,
# the request or status line, and what protected it (a terminal's gk-mac trailer and its index,
# the core leg's trailer, or nothing: a digest terminal's pinned address).
call_ladder() {
	local callid=$1 spec
	shift
	for spec in "$@"; do
		gk_tshark -n -r "${spec#*=}" -Y "sip.Call-ID == \"$callid\"" -T fields -E separator='|' \
			-e frame.time_epoch -e ip.src -e udp.srcport -e ip.dst -e udp.dstport \
			-e sip.Request-Line -e sip.Status-Line -e gatekey.index 2>/dev/null |
			sed "s/^/${spec%%=*}|/"
	done | sort -t'|' -k2,2g | awk -F'|' '
		NR == 1 { t0 = $2 }
		{
			line = $7 != "" ? $7 : $8
			sub(/ SIP\/2\.0$/, "", line)
			if ($9 == "") prot = "none"
			else if ($9 + 0 >= 1000000000) prot = "core-leg trailer"
			else prot = "gk-mac trailer, terminal " $9
			printf "   %8.1f ms  %-6s %15s:%-5s -> %15s:%-5s  %-44.44s %s\n", ($2 - t0) * 1000, $1, \
				$3, $4, $5, $6, line, prot
		}'
}
