#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# make bench: prints figures as "bench <name> <value> <unit>". Never asserts on time; where a
# figure has a baseline measured in the same run, the ratio is printed too.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
GK_BUILD=${GK_BUILD:-$HERE/../build}

"$GK_BUILD/bin/gkbench" user-gkmac --count "${BENCH_PKTS:-200000}"
# What each daemon holds idle, default configuration, before any load (tools/bench-idle.sh).
"$HERE/bench-idle.sh"
direct_reg=$("$HERE/bench-reg.sh" direct)
echo "$direct_reg"
sbc_reg=$("$HERE/bench-reg.sh" sbc)
echo "$sbc_reg"
# The same two figures from the revision the capacity work started at, in this run, and today's
# over them (the machine is shared: only figures of one run compare).
base=$("$HERE/bench-baseline.sh")
echo "$base"
ratio() { # ratio <name> <today's lines> <baseline's lines>
	local t b
	t=$(echo "$2" | sed -n "s/^bench $1 \([0-9.]*\) .*/\1/p")
	b=$(echo "$3" | sed -n "s/^bench baseline_[0-9a-f]*_$1 \([0-9.]*\) .*/\1/p")
	[ -n "$t" ] && [ -n "$b" ] && [ "$b" != 0 ] &&
		echo "bench $1_vs_baseline $(awk -v t="$t" -v b="$b" 'BEGIN { printf "%.2f", t / b }') ratio"
}
ratio reg_rate_sip_direct "$direct_reg" "$base"
ratio reg_rate_sip_sbc "$sbc_reg" "$base"
"$HERE/bench-reg.sh" sbc mgcp
"$HERE/bench-reg.sh" sbc h248
"$HERE/bench-reg.sh" sbc h323
# The floor of one registration on this machine, and how close the SBC run above came to it.
peak=$(echo "$sbc_reg" | sed -n 's/^bench reg_rate_sip_sbc \([0-9]*\) .*/\1/p')
REG_RATE_SBC=$peak "$HERE/bench-limit.sh"
# 80% of that peak offered for 10 s (p99 latency), three times it for 20 s (the fast path sheds strangers' registrations as
# sbcd's queues deepen), then 250,000 terminals through one sbcd and their re-registration
# after the softswitch restarts.
REG_RATE_SBC=$peak "$HERE/bench-scale.sh" latency
REG_RATE_SBC=$peak "$HERE/bench-scale.sh" overload
"$HERE/bench-scale.sh" capacity
# Plain Digest registrations (gkterm --digest MD5) against Kamailio with an in-memory password
# table, softswitchd and sbcd, and gatekey's direct rate over Kamailio's.
"$HERE/bench-kamailio.sh"
# Calls between pairs of gk-mac terminals, directly and through the SBC (where each goes
# terminal -> sbcd -> softswitchd -> sbcd -> terminal): the ratio is what the SBC's two extra
# proxy hops cost on this machine.
direct=$("$HERE/bench-call.sh" direct)
sbc=$("$HERE/bench-call.sh" sbc)
echo "$direct"
echo "$sbc"
d=$(echo "$direct" | sed -n 's/^bench call_rate_sip_direct \([0-9]*\) .*/\1/p')
b=$(echo "$sbc" | sed -n 's/^bench call_rate_sip_sbc \([0-9]*\) .*/\1/p')
[ "${d:-0}" -gt 0 ] && echo "bench call_rate_sbc_vs_direct $(awk -v b="${b:-0}" -v d="$d" 'BEGIN { printf "%.2f", b / d }') ratio"
# Registrations while an attacker floods the SBC: with the XDP fast path, then without it.
"$HERE/bench-flood.sh" xdp
"$HERE/bench-flood.sh" user
# ipsec-3gpp through sbcd, and gk-mac beside it, in a guest whose kernel has ESP.
"$HERE/bench-ipsec.sh"

# XDP fast path under BPF_PROG_TEST_RUN (needs root; the program is loaded unpinned), and the
# same decision function in userspace on the same datagrams.
if [ "$(id -u)" = 0 ]; then
	"$GK_BUILD/bin/gkxdpbench" --repeat "${BENCH_XDP_REPEAT:-1000000}"
	# What the verifier spends on the program (tests/unit/test_verifier.c holds it to a budget).
	"$GK_BUILD/bin/gkxdpbench" --verifier
else
	echo "bench: xdp figures skipped (need root)" >&2
fi
