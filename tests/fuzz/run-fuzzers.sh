#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs every libFuzzer target over its seed corpus (tests/corpus/<name>/, and RFC 4475 for SIP
# and the SIP proxy) and then fuzzes it for FUZZ_TIME seconds. New inputs go to a scratch
# directory, never into the repository.
set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd)
GK_BUILD=${GK_BUILD:-$REPO/build}
FUZZ_TIME=${FUZZ_TIME:-10}
targets=("$GK_BUILD"/fuzz/fuzz_*)
# make check-fuzz builds them first: none is a broken build, a failure rather than a skip.
[ -e "${targets[0]}" ] || { echo "Bail out! no fuzz targets in $GK_BUILD/fuzz (make fuzz)"; exit 1; }
echo "1..${#targets[@]}"
n=0
failed=0
for t in "${targets[@]}"; do
	n=$((n + 1))
	name=$(basename "$t")
	name=${name#fuzz_}
	scratch=$(mktemp -d)
	log=$(mktemp)
	seeds=("$REPO/tests/corpus/$name")
	# SIP and the SIP proxy also start from RFC 4475's torture messages
	case $name in sip | sip_proxy) seeds+=("$REPO/tests/corpus/rfc4475") ;; esac
	if "$t" -max_total_time="$FUZZ_TIME" -rss_limit_mb=1024 -print_final_stats=1 \
		-artifact_prefix="$scratch/" "$scratch" "${seeds[@]}" >"$log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		echo "ok $n - fuzz_$name: corpus and ${FUZZ_TIME}s of fuzzing, ${execs:-?} runs, no crash"
	else
		echo "not ok $n - fuzz_$name crashed; input kept in $scratch"
		tail -n 30 "$log" | sed 's/^/# /'
		failed=$((failed + 1))
		scratch=
	fi
	[ -n "$scratch" ] && rm -rf "$scratch"
	rm -f "$log"
done
exit $((failed > 0))
