#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# make check's soak: tools/soak.sh for 60 seconds (make soak runs it for ten minutes), samples every
# 5 s. Registration churn in all four protocols at half of what the rig registers at most, over
# links that lose 1 % of frames: every terminal registers and does all its steps, nothing grows
# after the warm-up (fds, table sizes; RSS only by its stepped tables' steps, each needed by a peak
# of use), and once the last bindings expired nothing is left and accounting pairs up. Each of the
# soak's checks is a TAP line here.
. "$(dirname "$0")/tap.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root"
command -v gnuplot >/dev/null || bail "gnuplot is not installed (make deps)"

out=$(mktemp /tmp/gatekey-soak.XXXXXX)
trap 'rm -f "$out"' EXIT
SOAK_S=${SOAK_S:-60} SOAK_SAMPLE_S=${SOAK_SAMPLE_S:-5} SOAK_ROUND_S=${SOAK_ROUND_S:-3} \
	"$(dirname "$0")/../../tools/soak.sh" >"$out" 2>&1
rc=$?
grep -v '^soak check ' "$out" | diag
n=$(grep -c '^soak check ' "$out")
[ "$n" -gt 0 ] || bail "tools/soak.sh ran no check (exit status $rc)"
plan $((n + 1))
# Under the sanitizers (several times slower, so registrations time out at the front and are
# retried) one accounting session in about 10^5 was once left open: the drain and accounting
# checks are TODO there too, until that is understood (docs/durability.md).
todo_san="under the sanitizers one session in about 10^5 was left open (docs/durability.md)"
san=0
[[ "${GK_BUILD:-}" == */san ]] && san=1
known=0
while read -r _ _ verdict what; do
	if [ "$verdict" != ok ] && [ $san = 1 ] &&
		[[ "$what" == "accounting pairs up"* || "$what" == "once the last bindings expired"* ]]; then
		T_N=$((T_N + 1))
		echo "not ok $T_N - $what # TODO $todo_san"
		known=$((known + 1))
		continue
	fi
	[ "$verdict" = ok ]
	ok $? "$what"
done < <(grep '^soak check ' "$out")
[ "$rc" = 0 ] || [ "$T_FAILED" = 0 ]
ok $? "tools/soak.sh passed, but for the known failures above ($known)"
finish
