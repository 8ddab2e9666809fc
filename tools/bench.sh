#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# make bench: prints figures as "bench <name> <value> <unit>". Never asserts on time; where a
# figure has a baseline measured in the same run, the ratio is printed too.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
GK_BUILD=${GK_BUILD:-$HERE/../build}

"$GK_BUILD/bin/gkbench" user-gkmac --count "${BENCH_PKTS:-200000}"
"$HERE/bench-reg.sh" direct
"$HERE/bench-reg.sh" sbc
