# SPDX-License-Identifier: GPL-2.0-only
# TAP output for the end-to-end tests (sourced; needs nothing else).
T_N=0
T_FAILED=0

plan() { echo "1..$1"; }
diag() { sed 's/^/# /'; }
ok() { # ok <0|1 exit status> <description>
	T_N=$((T_N + 1))
	if [ "$1" = 0 ]; then
		echo "ok $T_N - $2"
	else
		echo "not ok $T_N - $2"
		T_FAILED=$((T_FAILED + 1))
	fi
}
is() { # is <got> <expected> <description>
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		# On stderr, so that prove shows them without -v (CI logs).
		echo "#   expected: '$2'" >&2
		echo "#        got: '$1'" >&2
		return 1
	fi
}
finish() { exit $((T_FAILED > 0)); }
bail() { echo "Bail out! $*"; exit 1; }
skip_all() { echo "1..0 # SKIP $1"; exit 0; }
