#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# make demo MECH=ipsec-3gpp: terminals register with ipsec-3gpp through the real daemons, and each
# side's SAs are shown. ESP with rfc4106(gcm(aes)) must be in the kernel, so this runs in the QEMU
# guest of tests/vm/run.sh (Debian's kernel, the same everywhere), as make check-vm does: the rig
# of test_ipsec_daemons (aucd, softswitchd, sbcd in the SBC topology, gkterm's three terminals per
# protocol), in its demo mode. It prints, per terminal, the mechanism, both sides' SPIs and ports,
# whether the element's and the terminals' kernels hold twin SAs (checked through libnl, keys never
# shown) and `ip xfrm state count` at the element. Exits non-zero if any of that fails.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${GK_BUILD:-$root/build}
PROTO=mix
TOPO=sbc
while [ $# -gt 0 ]; do
	case $1 in
	--proto) PROTO=$2; shift 2 ;;
	--topology) TOPO=$2; shift 2 ;;
	*) echo "usage: demo-ipsec.sh [--proto sip|mgcp|h248|h323|mix] [--topology sbc|direct]" >&2; exit 2 ;;
	esac
done
case $PROTO in sip | mgcp | h248 | h323 | mix) ;; *) echo "demo: protocol '$PROTO' is not available (sip, mgcp, h248, h323, mix are)" >&2; exit 2 ;; esac
case $TOPO in sbc | direct) ;; *) echo "demo: topology is sbc or direct" >&2; exit 2 ;; esac

log=$(mktemp /tmp/gatekey-demo-ipsec.XXXXXX)
trap 'rm -f "$log"' EXIT
echo "== ipsec-3gpp demo: $PROTO, $TOPO topology, in a QEMU guest with Debian's kernel (ESP, rfc4106(gcm(aes)))"
echo "   booting; under emulation (no KVM) this takes a few minutes"
out=$BUILD/demo-ipsec # the guest's captures of the terminals' link, one pcap per protocol
rm -rf "$out"
GK_VM_DIR=$root/build/vm GK_VM_TIMEOUT=900 GK_VM_OUT=$out \
	GK_VM_WITH="$BUILD/bin/aucd $BUILD/bin/softswitchd $BUILD/bin/sbcd $BUILD/bin/gkctl $BUILD/bin/gkterm $(command -v ip)" \
	"$root/tests/vm/run.sh" "$BUILD/tests/test_ipsec_daemons" --demo "$PROTO" "$TOPO" >"$log" 2>&1
rc=$?

echo
echo "== per terminal: mechanism, the terminal's SPIs (uc, us) and ports, the element's (pc, ps)"
printf '   %-5s %-4s %-12s %-23s %-13s %-23s %s\n' proto term mech "terminal spi_uc/us" "ports uc/us" \
	"element spi_pc/ps" "ports pc/ps"
sed -n 's/^# demo //p' "$log" | awk '{
	delete v
	for (i = 4; i <= NF; i++) { e = index($i, "="); if (e) v[substr($i, 1, e - 1)] = substr($i, e + 1) }
	printf "   %-5s %-4s %-12s %-23s %-13s %-23s %s\n", $1, $3, v["mech"],
		v["spi_uc"] "/" v["spi_us"], v["port_uc"] "/" v["port_us"],
		v["spi_pc"] "/" v["spi_ps"], v["port_pc"] "/" v["port_ps"]
}'
echo
echo "== what the test checked in the guest (both kernels hold twin SAs, ESP only on the link, plaintext dropped)"
variants=$([ "$PROTO" = mix ] && echo 'sip|ras|mgcp|h248' || { [ "$PROTO" = h323 ] && echo ras || echo "$PROTO"; })
prefix=$([ "$TOPO" = sbc ] && echo 'sbc_' || echo '')
grep -E "^# (registered|deregistered)?.*ip xfrm state count|^# the terminals. link|^(not )?ok [0-9]+ rig\.$prefix($variants)\.sas_match" "$log" |
	sed 's/^/   /'
if command -v tshark >/dev/null; then
	for f in "$out"/*.pcap; do
		[ -e "$f" ] || continue
		echo
		echo "== tshark -r $f -qz io,phs (the terminals' link once registered)"
		tshark -n -r "$f" -q -z io,phs 2>/dev/null | grep -v '^=*$' | sed 's/^/   /'
	done
fi
if [ "$rc" != 0 ] || ! grep -q '^# demo ' "$log"; then
	echo "demo: the guest run failed (exit status $rc); its output:" >&2
	sed 's/^/   /' "$log" >&2
	exit 1
fi
