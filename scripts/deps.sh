#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Installs the Debian packages gatekey needs. Quiet and quick when everything is present:
# apt-get update runs only when something is missing.
set -eu

PKGS="build-essential pkg-config clang clang-14 clang-19 llvm libssl-dev openssl liburing-dev libsqlite3-dev sqlite3
libbpf-dev bpftool libelf-dev zlib1g-dev linux-libc-dev libsystemd-dev libnl-3-dev libnl-route-3-dev libnl-xfrm-3-dev iproute2 tshark sip-tester sipsak
freeradius-utils perl python3 systemd libclang-rt-14-dev xz-utils procps kamailio sipvicious
gnuplot-nox qemu-system-x86 busybox-static cpio debhelper dpkg-dev fakeroot lintian scdoc mandoc"
# qemu-system-x86, busybox-static and cpio: the guest of make check-vm (tests/vm/run.sh), whose
# initramfs holds a static busybox; its kernel is fetched with apt-get download, not installed.
# scdoc builds the manuals (docs/man/); mandoc checks them (tests/unit/t_manuals.sh).
# libmicrohttpd-dev: the daemons' /metrics (lib/runtime/metrics.c); prometheus for promtool and
# curl, which check and scrape it (tests/e2e/t_metrics.sh).
PKGS="$PKGS libmicrohttpd-dev prometheus curl"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing (run 'make deps' as root)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; the answer does not matter to gatekey.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
# Kamailio is the digest benchmark's other registrar (tools/bench-kamailio.sh), started in a rig
# by that script alone: never as the host's service on every address.
# prometheus is there for promtool (tests/e2e/t_metrics.sh): not the host's service.
case " $missing " in
*" prometheus "*)
	if command -v systemctl >/dev/null 2>&1; then
		systemctl disable --now prometheus >/dev/null 2>&1 || true
	fi
	;;
esac
case " $missing " in
*" kamailio "*)
	if command -v systemctl >/dev/null 2>&1; then
		systemctl disable --now kamailio >/dev/null 2>&1 || true
	fi
	;;
esac
