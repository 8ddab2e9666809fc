#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# make check's soak: tools/soak.sh for 60 seconds (make soak runs it for ten minutes), samples every
# 2 s (a table's median wants a dozen samples after the warm-up). Registration churn in all four protocols at half of what the rig registers at most, over
# links that lose 1 % of frames: every terminal registers and does all its steps, nothing grows
# after the warm-up (fds, table sizes; RSS only by its stepped tables' steps, each needed by a peak
# of use), and once the last bindings expired nothing is left and accounting pairs up. Each of the
# soak's checks is a TAP line here.
. "$(dirname "$0")/tap.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root"
command -v gnuplot >/dev/null || bail "gnuplot is not installed (make deps)"

# Against the sanitized build, a quarter of what the rig registers at most, not half. That
# capacity is SIP's, and ASan slows the other protocols' paths more (MGCP and H.248 keep every
# answer in a history; RAS MACs the received bytes): at half, the sanitized four-protocol mix
# waited 0.8 s per registration at the median (31 ms unsanitized), past MGCP's first
# retransmission at 200 ms, so that the soak measured overload instead of growth. Overload has
# its own test (t_overload.sh).
[[ "${GK_BUILD:-}" == */san ]] && export SOAK_LOAD_PCT=${SOAK_LOAD_PCT:-25}
out=$(mktemp /tmp/gatekey-soak.XXXXXX)
trap 'rm -f "$out"' EXIT
SOAK_S=${SOAK_S:-60} SOAK_SAMPLE_S=${SOAK_SAMPLE_S:-2} SOAK_ROUND_S=${SOAK_ROUND_S:-3} \
	"$(dirname "$0")/../../tools/soak.sh" >"$out" 2>&1
rc=$?
grep -v '^soak check ' "$out" | diag
n=$(grep -c '^soak check ' "$out")
[ "$n" -gt 0 ] || bail "tools/soak.sh ran no check (exit status $rc)"
plan $((n + 1))
while read -r _ _ verdict what; do
	[ "$verdict" = ok ]
	ok $? "$what"
done < <(grep '^soak check ' "$out")
# prove shows a test's stderr, not its diagnostics: what a failure needs to be traced goes there
[ "$rc" = 0 ] || grep -v -e '^soak check ' -e '^soak table ' "$out" | sed 's/^/# /' >&2
[ "$rc" = 0 ]
ok $? "tools/soak.sh passed (exit status $rc)"
finish
