# SPDX-License-Identifier: GPL-2.0-only
# What the network-namespace tests share: the rig (tools/rig-lib.sh) and TAP output.
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../../tools/rig-lib.sh"

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/tap.sh"

# Skips only where the capability is proven absent (not root); as root, a namespace that cannot
# be made is a failure.
need_root() {
	[ "$(id -u)" = 0 ] || skip_all "needs root"
	rig_possible || bail "root, yet no network namespace can be made"
}

# need_tool <command> <what>: a tool make deps installs. Missing, it is a broken setup that
# would hide what the test proves: a failure, not a skip.
need_tool() {
	command -v "$1" >/dev/null || bail "$2"
}

# udp_send <ns> <dest ip> <port> <text>: the text (with \r\n escapes) sent from ns as one
# datagram. bash's printf into /dev/udp writes as it goes, so a message would leave as several.
udp_send() {
	ip netns exec "$1" python3 -c 'import socket, sys
d = sys.argv[3].encode().decode("unicode_escape").encode("latin-1")
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(d, (sys.argv[1], int(sys.argv[2])))' "$2" "$3" "$4"
}

# expect_fastpath: after sbcd started, its fast path is what the test asked for. With
# SBC_FASTPATH=userspace, nothing to check. Otherwise the gatekey XDP program must be attached to
# the access interface: where the machine can run XDP (root, BTF) anything else bails out, a
# FAILURE with sbcd's reason and the verifier's last words, never a skip that leaves the product's
# main feature untested.
expect_fastpath() {
	[ "${SBC_FASTPATH:-auto}" = userspace ] && return 0
	[ -r /sys/kernel/btf/vmlinux ] || skip_all "the kernel has no BTF: the XDP fast path cannot load"
	need_tool bpftool "bpftool is not installed (make deps)"
	local seen
	seen=$(xdp_on_access)
	case "$seen" in
	*" gk_xdp") return 0 ;;
	esac
	{
		echo "XDP is not attached to $IF_ACCESS (bpftool net show: ${seen:-no XDP program})"
		ctl sbcd stats | grep -E '^fastpath\.(mode|fallback_reason) '
		grep -E 'fast path' "$WORK/sbcd.log" | tail -25
	} | diag >&2
	bail "the XDP fast path is not attached to $IF_ACCESS: $(fastpath_fallback_reason)"
}

# registration_failures <gkterm output>...: on stderr, so that CI's log shows why registrations
# failed: each run's summary and first failures (gkterm says which refusal it got), and what
# every running daemon counted against them.
registration_failures() {
	local f d
	{
		for f in "$@"; do
			grep -q '^summary .* failed=0' "$f" 2>/dev/null && continue
			echo "${f##*/}: $(grep '^summary ' "$f" 2>/dev/null || echo 'no summary')"
			grep '^failed ' "$f" 2>/dev/null | head -8 | sed 's/^/  /'
		done
		for d in aucd softswitchd sbcd; do
			[ -S "$WORK/$d.sock" ] || continue
			echo "$d: $(ctl "$d" stats 2>/dev/null |
				awk '$2 != 0 && $1 ~ /^(reason\.|rejects|in_progress|core_in_progress|auc_|stale|sbc_auth\.)/ {
					printf " %s=%s", $1, $2 }')"
		done
	} | diag >&2
}

# --- Packet captures (tshark): gk_tshark, capture_start/_canary/_stop are in tools/rig-lib.sh --
# capture_problems <pcap>: the datagrams tshark finds malformed or in error, one line each. ICMP
# errors quote truncated datagrams and are not ours, nor are the capture canaries
# (capture_canary), which tshark reads as whatever protocol their random source port belongs to
# (44818: EtherNet/IP, malformed). A tshark failure prints a line too, so it cannot pass as clean,
# and so does a dissector tshark could not load: it says so on stderr and goes on without it.
capture_problems() {
	local filter='(_ws.malformed || _ws.expert.severity >= "Error") && !icmp && !icmpv6'
	filter="$filter && !(udp contains \"gk-canary\")"
	# H.248.1's ABNF lets ImmAckRequired precede a transaction's errorDescriptor
	# (transactionReply = ... LBRKT [ImmAckRequiredToken COMMA] (errorDescriptor / ...)), and
	# softswitchd asks for that ack when a Pending went first (a slow answer). tshark's text
	# MEGACO dissector expects a Context after ImmAckRequired and calls it malformed, so exactly
	# that layout is let through; gkterm's own decoder reads it in the same run.
	filter="$filter && !(megaco && udp.payload matches"
	filter="$filter \"^MEGACO/[0-9][^\\r]*\\r\\nReply = [0-9]+ \\\\{\\r\\n\\tImmAckRequired,\\r\\n\\tError = [0-9]+ \\\\{\")"
	gk_tshark -n -r "$1" -Y "$filter" 2>"$1.tshark-read.err" ||
		echo "tshark failed on $1: $(head -c 300 "$1.tshark-read.err")"
	if grep -qE 'Lua:|\.lua' "$1.tshark-read.err"; then
		echo "tshark did not load $GK_LUA:" \
			"$(grep -E -m 3 'Lua:|\.lua' "$1.tshark-read.err" | tr '\n' ' ')"
	fi
}
# capture_clean <pcap> <description>: one TAP line; on failure, the offenders and the first one
# dissected in full.
capture_clean() {
	local bad first
	bad=$(capture_problems "$1")
	[ -z "$bad" ]
	ok $? "$2"
	[ -z "$bad" ] && return 0
	# on stderr, where prove shows it without -v
	echo "$bad" | head -20 | diag >&2
	first=$(echo "$bad" | awk '$1 ~ /^[0-9]+$/ { print $1; exit }')
	[ -n "$first" ] &&
		gk_tshark -n -r "$1" -V -x -Y "frame.number == $first" 2>/dev/null | diag >&2
	return 1
}
# contains_bytes <file> <hex>: the raw bytes occur in the file.
contains_bytes() {
	perl -e 'open(my $f, "<", $ARGV[0]) or exit 2; binmode $f; local $/; my $d = <$f>;
		exit(index($d, pack("H*", $ARGV[1])) >= 0 ? 0 : 1)' "$1" "$2"
}

# tamper_cases <ns> <server-ip> <idsp>: for each protocol of $PROTOS, a man in the middle in <ns>
# in front of the server's port downgrades the terminal's mechanism list on its way up (the
# terminal must see MECH_DOWNGRADE), then changes the echo in the SUCCESS on its way down (the
# terminal must see BAD_RESPONSE_MAC). Two TAP lines a protocol; uses $WORK/<proto>-a.key.
# The terminal offers tls too (a terminal may; no element chooses it): where the server allows
# digest, the downgraded offer makes it pick digest, passing over tls.
# In RAS the list is a gk1-mechs profileInfo (docs/bindings-h323.md): ProfileElement elementID 1
# (gk-mac) with integer 900 is 20 01 10 02 03 84, elementID 4 (digest) with 500 is
# 20 04 10 02 01 f4.
tamper_cases() {
	local ns=$1 ip=$2 idsp=$3 port=6000 dir edit want what out mitm seen
	for PROTO in $PROTOS; do
		export PROTO
		for dir in up down; do
			port=$((port + 1))
			if [ $dir = up ]; then
				edit=(--edit-up 'gk-mac;q=0.9|gk-mac;q=0.1')
				[ "$PROTO" = h323 ] && edit=(--edit-up 'hex:200110020384|200110020320')
				want=MECH_DOWNGRADE
				what="a mechanism list tampered on the way up is detected by the terminal"
			else
				edit=(--edit-down 'digest;q=0.5|digest;q=0.6')
				[ "$PROTO" = h323 ] && edit=(--edit-down 'hex:2004100201f4|200410020258')
				want=BAD_RESPONSE_MAC
				what="a mechanism list tampered in the SUCCESS fails its MAC at the terminal"
			fi
			ip netns exec "$ns" "$BIN/gkmitm" --listen "$ip:$port" \
				--forward "$ip:$(proto_port)" "${edit[@]}" 2>>"$WORK/mitm-$port.log" &
			mitm=$!
			PIDS+=($mitm)
			wait_until 50 grep -q ready "$WORK/mitm-$port.log"
			out=$(in_term "$BIN/gkterm" --proto "$PROTO" --server "$ip:$port" --idsp "$idsp" \
				--key-file "$WORK/$PROTO-a.key" --mechs 'gk-mac;q=0.9,tls;q=0.7,digest;q=0.5' \
				--timeout 5)
			echo "$out" | diag
			echo "$out" | grep -q "reason=$want"
			seen=$?
			ok $seen "$PROTO: $what"
			# on failure, what the terminal and the man in the middle saw, on stderr
			# and, for a refusal no one meant (an overload: the AuC's answer never came),
			# what the elements counted and logged last
			[ $seen = 0 ] || {
				echo "$out"
				cat "$WORK/mitm-$port.log"
				ctl softswitchd stats | grep -E '^(auc|core_|reason\.|rejects)' | grep -v ' 0$'
				[ -f "$WORK/aucd.log" ] && ctl aucd stats | grep -v ' 0$' | head -40
				tail -n 15 "$WORK/softswitchd.log"
				[ -f "$WORK/aucd.log" ] && tail -n 15 "$WORK/aucd.log"
			} 2>&1 | diag >&2
			kill $mitm
		done
	done
}

# wire_names <pcap> [tshark options]: one TAP line: the $PROTO messages of a registration
# exchange are on the wire as tshark's own dissector names them (MGCP verbs, MEGACO commands,
# H.225.0 RAS messages).
wire_names() {
	local names pcap=$1
	shift
	case $PROTO in
	mgcp)
		names=$(gk_tshark -n "$@" -r "$pcap" -Y mgcp -T fields -e mgcp.req.verb \
			2>/dev/null | sort -u | tr '\n' ' ')
		is "$names" " NTFY RQNT RSIP " "$PROTO: the commands on the wire are RSIP, RQNT, NTFY"
		;;
	h248)
		names=$(gk_tshark -n "$@" -r "$pcap" -Y megaco -T fields -e megaco.command \
			2>/dev/null | tr ',' '\n' | sort -u | tr '\n' ' ')
		echo "$names" | grep -q ServiceChange && echo "$names" | grep -q Notify
		ok $? "$PROTO: the wire carries ServiceChange and Notify transactions ($names)"
		;;
	h323)
		# RasMessage alternatives: GRQ 0, GRJ 2, RRQ 3, RCF 4, URQ 6, UCF 7.
		names=$(gk_tshark -n "$@" -r "$pcap" -Y h225 -T fields -e h225.RasMessage \
			2>/dev/null | sort -un | tr '\n' ' ')
		echo " $names" | grep -q ' 0 2 3 4 ' && echo " $names" | grep -q ' 6 7 '
		ok $? "$PROTO: the wire carries GRQ, GRJ, RRQ, RCF, URQ, UCF (RasMessage $names)"
		;;
	esac
}

# ras_tokens_visible <pcap>: one TAP line: tshark decodes gatekey's H.235 tokens in RAS (the
# default arc's tokenOIDs, the IDs, N1/N2/Rand as challenges, TS as timeStamp).
ras_tokens_visible() {
	local oids ids chal ts
	oids=$(gk_tshark -n -r "$1" -Y h225 -T fields -e h235.tokenOID 2>/dev/null | tr ',' '\n' |
		grep -c '^1\.3\.6\.1\.4\.1\.32473\.323\.[1-9]$')
	ids=$(gk_tshark -n -r "$1" -Y 'h235.generalID && h235.sendersID' 2>/dev/null | wc -l)
	chal=$(gk_tshark -n -r "$1" -Y 'h235.challenge' 2>/dev/null | wc -l)
	ts=$(gk_tshark -n -r "$1" -Y 'h235.timeStamp' 2>/dev/null | wc -l)
	[ "$oids" -gt 0 ] && [ "$ids" -gt 0 ] && [ "$chal" -gt 0 ] && [ "$ts" -gt 0 ]
	ok $? "$PROTO: tshark decodes our H.235 tokens ($oids tokenOIDs under the arc; IDs, challenges and timestamps in $ids, $chal, $ts datagrams)"
}

# promtool_clean <file>: `promtool check metrics` finds the exposition page valid and says
# nothing else, for a lint remark counts as a failure too; what it said goes to the diagnostics.
promtool_clean() {
	local lint rc
	lint=$(promtool check metrics <"$1" 2>&1)
	rc=$?
	[ -n "$lint" ] && echo "$lint" | diag
	[ "$rc" = 0 ] && [ -z "$lint" ]
}
