#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# make bench's ipsec-3gpp figures: tests/unit/bench_ipsec_daemons.c in the guest of tests/vm/run.sh
# (ESP needs a kernel that has it; the guest's is Debian's). Prints its "bench" lines:
# reg_rate_gkmac_sbc_guest (the same registrations with gk-mac in the same guest: the baseline),
# reg_rate_ipsec_sbc, their ratio, and ipsec_setup_per_registration_us. Never asserts.
# Environment: GK_BUILD, BENCH_IPSEC_TERMINALS (24).
root=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${GK_BUILD:-$root/build}
make -C "$root" -s BUILD="$BUILD" "$BUILD/tests/bench_ipsec_daemons" >/dev/null || exit 1
log=$(mktemp /tmp/gatekey-bench-ipsec.XXXXXX)
trap 'rm -f "$log"' EXIT
GK_VM_DIR=$root/build/vm GK_VM_TIMEOUT=1800 GK_VM_OUT=$BUILD/bench-ipsec \
	GK_VM_WITH="$BUILD/bin/aucd $BUILD/bin/softswitchd $BUILD/bin/sbcd $BUILD/bin/gkctl $BUILD/bin/gkterm" \
	"$root/tests/vm/run.sh" "$BUILD/tests/bench_ipsec_daemons" "${BENCH_IPSEC_TERMINALS:-24}" >"$log" 2>&1
rc=$?
grep '^bench ' "$log"
if [ $rc != 0 ]; then
	echo "bench-ipsec: the guest run failed (exit status $rc):" >&2
	grep -E '^(not ok|#)' "$log" | tail -40 >&2
fi
exit 0
