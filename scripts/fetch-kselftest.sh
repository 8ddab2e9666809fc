#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Extracts the kernel's kselftest headers (kselftest.h, kselftest_harness.h) from Debian's
# linux-source-6.1 package into $1 (the build tree). Cached: does nothing when both exist.
set -eu
dest=$1
[ -f "$dest/kselftest.h" ] && [ -f "$dest/kselftest_harness.h" ] && exit 0
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
if ! apt-get download linux-source-6.1 >/dev/null 2>&1; then
	apt-get update -qq && apt-get download linux-source-6.1 >/dev/null 2>&1
fi
deb=$(ls linux-source-6.1_*.deb)
tarball=$(dpkg-deb -c "$deb" | awk '/linux-source-6.1.tar.xz$/ {print $NF}')
dpkg-deb --fsys-tarfile "$deb" | tar -xO "$tarball" |
	tar -xJ --wildcards --strip-components=4 \
		'linux-source-6.1/tools/testing/selftests/kselftest.h' \
		'linux-source-6.1/tools/testing/selftests/kselftest_harness.h'
cp kselftest.h kselftest_harness.h "$dest/"
