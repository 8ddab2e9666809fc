#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs one test binary (default build/tests/test_xfrm) as root in a QEMU guest booted with
# Debian 12's stock kernel and exits with the binary's status, its output (TAP) streamed here.
#
# Why: the ESP tests need ESP and rfc4106(gcm(aes)) in the kernel (CONFIG_INET_ESP,
# CONFIG_INET6_ESP, CONFIG_CRYPTO_GCM), which the build host's kernel may lack. Debian's kernel
# has them as modules, so the guest gives every machine the same, known kernel.
#
# The kernel package (linux-image-6.1.0-*-amd64, the one linux-image-amd64 currently depends on)
# is fetched once with `apt-get download` into $GK_VM_DIR/cache (default build/vm/cache). From it
# a base initramfs is built once per kernel and per version of this script: static busybox, the
# modules ESP and AES-GCM need with their dependencies (modules.dep from busybox depmod) and
# /init. Each run appends a second archive with the binary, the shared libraries ldd names and
# the dynamic loader, and boots. /init mounts proc, sys and devtmpfs, loads the modules, runs the
# binary, prints "gk-vm-exit-status=<n>" and powers off; no such line (timeout, panic) is a
# failure.
#
# Usage: tests/vm/run.sh [BINARY [ARGS...]]
# Environment: GK_VM_DIR (build/vm), GK_VM_TIMEOUT (120 s), GK_VM_KERNEL_PKG (a package name, to
# pin one instead of asking apt-cache), GK_VM_MEM (guest memory, 1536 MiB), GK_VM_WITH (more programs, space-separated, copied beside
# the binary with their libraries: the daemons and tools an end-to-end test starts), GK_VM_OUT
# (where the files the test prints as "# gk-vm-file NAME BASE64" lines are written, $GK_VM_DIR/out).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
vm_dir=${GK_VM_DIR:-$root/build/vm}
cache=$vm_dir/cache
tmo=${GK_VM_TIMEOUT:-120}
marker=gk-vm-exit-status

# What ESP transport mode with rfc4106(gcm(aes)) needs of Debian's kernel, besides what is built
# in: XFRM netlink, ESP for both families, the GCM templates (rfc4106 lives in gcm), GHASH, CTR,
# AES (aes is built in; aesni-intel and ghash-clmulni-intel are the fast ones, cryptd and
# crypto_simd theirs), the IV generators ESP uses (seqiv, echainiv), the default RNG they take
# their salt from ("stdrng": drbg, HMAC-SHA-512 its preferred core, seeded by jitterentropy_rng,
# which hashes with SHA3-256; without an stdrng every SA add fails with "Kernel was unable to
# initialize cryptographic operations") and authenc for non-AEAD ESP. Their dependencies come
# from modules.dep. A name that is neither a module of the package nor built in is an error.
# veth joins the two namespaces of a registration's terminal and element (test_xfrm's pair).
modules=(xfrm_algo xfrm_user esp4 esp6 gf128mul ghash_generic ghash_clmulni_intel ctr gcm cryptd
	crypto_simd aesni_intel seqiv echainiv sha512_generic sha3_generic jitterentropy_rng drbg
	authenc veth)

say() { printf 'vm: %s\n' "$*" >&2; }
die() {
	say "$*"
	exit 1
}

bin=${1:-$root/build/tests/test_xfrm}
if [[ $# -gt 0 ]]; then
	shift
fi
[[ -f $bin && -x $bin ]] || die "no test binary at $bin (make $bin)"
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

for tool in qemu-system-x86_64 busybox cpio gzip dpkg-deb ldd timeout flock; do
	command -v "$tool" >/dev/null || die "$tool missing (make deps)"
done
# KVM where the host's KVM runs ordinary guests (kvm_intel, kvm_amd). A /dev/kvm served by
# kvm_pvm alone (a host that is itself a PVM guest) only boots kernels built as PVM guests, and
# Debian's hangs there right after the real-mode setup; without a usable /dev/kvm there is no
# KVM at all. QEMU then emulates (TCG), a few seconds slower, so the tests run on every host.
# GK_VM_ACCEL=kvm or tcg decides instead.
mode=${GK_VM_ACCEL:-}
if [[ -z $mode ]]; then
	mode=kvm
	if [[ ! -r /dev/kvm || ! -w /dev/kvm ]]; then
		say "no usable /dev/kvm: emulating (TCG)"
		mode=tcg
	elif [[ -d /sys/module/kvm_pvm && ! -d /sys/module/kvm_intel &&
		! -d /sys/module/kvm_amd ]]; then
		say "this host's KVM is PVM (kvm_pvm), which cannot boot a stock kernel: emulating (TCG)"
		mode=tcg
	fi
fi
case $mode in
kvm)
	[[ -r /dev/kvm && -w /dev/kvm ]] ||
		die "cannot use /dev/kvm (absent, or no permission); GK_VM_ACCEL=tcg emulates"
	accel=(-enable-kvm -cpu host)
	;;
tcg) accel=(-accel tcg -cpu max) ;;
*) die "GK_VM_ACCEL is kvm or tcg, not '$mode'" ;;
esac
busybox_bin=$(command -v busybox)
if ldd "$busybox_bin" >/dev/null 2>&1; then
	die "$busybox_bin is not static (install busybox-static)"
fi

mkdir -p "$cache"
work=$(mktemp -d "$vm_dir/run.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

# One run at a time downloads and builds in the cache.
exec 9>"$cache/.lock"
flock 9

# ---- the kernel package ----
pkg=${GK_VM_KERNEL_PKG:-}
if [[ -z $pkg ]]; then
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-6\.1\.0-[0-9]+-amd64$/ { print $2; exit }') || true
fi
if [[ -z $pkg ]]; then
	# No package lists: the newest kernel already in the cache.
	newest=$(find "$cache" -maxdepth 1 -name 'linux-image-6.1.0-*-amd64_*_amd64.deb' -printf '%f\n' |
		sort -V | tail -n 1)
	[[ -n $newest ]] || die "apt-cache knows no linux-image-amd64 and the cache is empty (apt-get update)"
	pkg=${newest%%_*}
fi
[[ $pkg =~ ^linux-image-(6\.1\.0-[0-9]+-amd64)$ ]] || die "unexpected kernel package '$pkg'"
kver=${BASH_REMATCH[1]}

deb=$(find "$cache" -maxdepth 1 -name "${pkg}_*_amd64.deb" -printf '%p\n' | sort -V | tail -n 1)
if [[ -z $deb ]]; then
	say "downloading $pkg (once; kept in $cache)"
	mkdir -p "$work/dl"
	# As root, apt warns that its sandbox user cannot write here; the download is the same.
	(cd "$work/dl" && apt-get download -q "$pkg" 2>&1 | grep -v 'unsandboxed as root' >&2) || true
	got=$(find "$work/dl" -maxdepth 1 -name "${pkg}_*_amd64.deb" -printf '%p\n' | head -n 1)
	[[ -n $got ]] || die "apt-get download $pkg failed"
	# The kernel it replaces, if any, goes.
	find "$cache" -maxdepth 1 \( -name 'linux-image-*.deb' -o -name 'vmlinuz-*' \
		-o -name 'base-*.cpio.gz' \) -delete
	mv -- "$got" "$cache/"
	deb=$cache/$(basename "$got")
fi

# ---- the base initramfs: busybox, modules, /init (cached) ----
key=$(basename "$deb" .deb)-$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-12)
base=$cache/base-$key.cpio.gz
vmlinuz=$cache/vmlinuz-$kver
if [[ ! -s $base || ! -s $vmlinuz ]]; then
	say "building the base initramfs for $kver"
	x=$work/deb
	stage=$work/base
	mkdir -p "$x" "$stage"
	dpkg-deb -x "$deb" "$x"
	mdir=lib/modules/$kver
	[[ -f $x/boot/vmlinuz-$kver && -d $x/$mdir ]] || die "$deb holds no kernel $kver"
	busybox depmod -b "$x" "$kver"

	# The modules' closure over modules.dep, each after its dependencies.
	declare -A path_of=() deps_of=() seen=()
	while IFS= read -r line; do
		p=${line%%:*}
		n=${p##*/}
		n=${n%.ko}
		path_of[${n//-/_}]=$p
		deps_of[${n//-/_}]=${line#*:}
	done <"$x/$mdir/modules.dep"
	order=()
	visit() {
		local n=$1 p d
		[[ -n ${seen[$n]:-} ]] && return 0
		seen[$n]=1
		p=${path_of[$n]:-}
		if [[ -z $p ]]; then
			grep -Eq "/${n//_/[-_]}\.ko\$" "$x/$mdir/modules.builtin" ||
				die "module $n is neither in $pkg nor built in"
			return 0
		fi
		for d in ${deps_of[$n]}; do
			d=$(basename "$d" .ko)
			visit "${d//-/_}"
		done
		order+=("$n")
	}
	for m in "${modules[@]}"; do
		visit "$m"
	done

	mkdir -p "$stage/bin" "$stage/sbin" "$stage/dev" "$stage/proc" "$stage/sys" "$stage/tmp" \
		"$stage/run" "$stage/boot" "$stage/$mdir" "$stage/etc"
	cp -- "$busybox_bin" "$stage/bin/busybox"
	ln -s busybox "$stage/bin/sh"
	ln -s ../bin/busybox "$stage/sbin/modprobe" # the kernel's request_module() runs it
	for n in "${order[@]}"; do
		p=${path_of[$n]}
		mkdir -p "$stage/$mdir/$(dirname "$p")"
		cp -- "$x/$mdir/$p" "$stage/$mdir/$p"
	done
	cp -- "$x/$mdir/modules.builtin" "$x/$mdir/modules.order" "$stage/$mdir/"
	busybox depmod -b "$stage" "$kver"
	# The kernel's configuration, where the tests look for it (/boot/config-$(uname -r)): a
	# module that failed to load then fails a test instead of passing for an absent option.
	cp -- "$x/boot/config-$kver" "$stage/boot/"
	printf '%s\n' "${order[@]}" >"$stage/etc/gk-vm-modules"
	cat >"$stage/init" <<-EOF
		#!/bin/busybox sh
		# The guest's PID 1 (tests/vm/run.sh): load the modules, run the test, power off.
		/bin/busybox --install -s /bin
		mount -t devtmpfs devtmpfs /dev
		exec 0</dev/console 1>/dev/console 2>&1
		mount -t proc proc /proc
		mount -t sysfs sysfs /sys
		mount -t tmpfs tmpfs /tmp
		mount -t tmpfs tmpfs /run
		modfail=0
		for m in \$(cat /etc/gk-vm-modules); do
			modprobe "\$m" || { echo "vm: modprobe \$m failed"; modfail=1; }
		done
		echo "vm: \$(uname -r), \$(wc -l < /etc/gk-vm-modules) modules"
		cd /test
		export PATH=/bin:/sbin LD_LIBRARY_PATH=\$(cat /etc/gk-vm-libpath)
		sh /etc/gk-vm-run
		rc=\$?
		[ "\$rc" -eq 0 ] && [ "\$modfail" -ne 0 ] && rc=1
		if [ "\$rc" -ne 0 ]; then
			echo "vm: the kernel's last messages:"
			dmesg | tail -n 40
		fi
		echo
		echo "$marker=\$rc"
		sync
		poweroff -f
	EOF
	chmod 0755 "$stage/init"
	(cd "$stage" && find . -print0 | cpio --null -o -H newc -R 0:0 --quiet) | gzip -6 >"$work/base.cpio.gz"
	cp -- "$x/boot/vmlinuz-$kver" "$work/vmlinuz"
	rm -f -- "$cache"/base-*.cpio.gz
	mv -- "$work/base.cpio.gz" "$base"
	mv -- "$work/vmlinuz" "$vmlinuz"
	rm -rf -- "$x" "$stage"
fi

# ---- this run's archive: the binary and GK_VM_WITH's programs, their libraries, the loader ----
stage=$work/payload
mkdir -p "$stage/test" "$stage/etc"
progs=("$bin")
for p in ${GK_VM_WITH:-}; do
	[[ -f $p && -x $p ]] || die "GK_VM_WITH: no program at $p"
	progs+=("$p")
done
libdirs=()
for p in "${progs[@]}"; do
	cp -- "$p" "$stage/test/"
	# A static binary or a script has no libraries (ldd says "not a dynamic executable").
	ldd_out=$(LC_ALL=C ldd "$p" 2>&1) || [[ $ldd_out == *"not a dynamic executable"* ]] ||
		die "ldd $p: $ldd_out"
	libs=$(awk '
		/not found/ { print "MISSING " $1; next }
		$2 == "=>" && $3 ~ /^\// { print $3; next }
		$1 ~ /^\// { print $1 }' <<<"$ldd_out")
	while IFS= read -r lib; do
		[[ -n $lib ]] || continue
		[[ $lib != MISSING* ]] || die "ldd: ${lib#MISSING } not found for $p"
		[[ -e $stage$lib ]] && continue
		mkdir -p "$stage$(dirname "$lib")"
		cp -L -- "$lib" "$stage$lib"
		d=$(dirname "$lib")
		[[ " ${libdirs[*]} " == *" $d "* ]] || libdirs+=("$d")
	done <<<"$libs"
done
(
	IFS=:
	printf '%s\n' "${libdirs[*]}"
) >"$stage/etc/gk-vm-libpath"
{
	printf 'exec ./%q' "$(basename "$bin")"
	if [[ $# -gt 0 ]]; then
		printf ' %q' "$@"
	fi
	printf '\n'
} >"$stage/etc/gk-vm-run"
(cd "$stage" && find . -print0 | cpio --null -o -H newc -R 0:0 --quiet) | gzip -1 >"$work/payload.cpio.gz"
cat -- "$base" "$work/payload.cpio.gz" >"$work/initrd"
flock -u 9

# ---- boot ----
log=$vm_dir/last.log
say "booting $kver ($mode): $(basename "$bin")${*:+ $*} (log: $log)"
set +e
timeout "$tmo" qemu-system-x86_64 "${accel[@]}" -m "${GK_VM_MEM:-1536}" -smp 1 -nographic -no-reboot \
	-nic none -kernel "$vmlinuz" -initrd "$work/initrd" \
	-append "console=ttyS0 panic=-1 quiet" </dev/null 2>&1 |
	sed -u 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g; s/\r$//' | tee "$log"
qemu_rc=${PIPESTATUS[0]}
set -e

# Files the test printed as "# gk-vm-file NAME BASE64" lines (captures the host's tshark reads),
# decoded into GK_VM_OUT.
out_dir=${GK_VM_OUT:-$vm_dir/out}
mkdir -p "$out_dir"
sed -n 's/^# gk-vm-file \([A-Za-z0-9._-]*\) \([A-Za-z0-9+\/=]*\)$/\1 \2/p' "$log" |
	awk -v dir="$out_dir" '{ print $2 > (dir "/" $1 ".b64") }'
for b in "$out_dir"/*.b64; do
	[[ -e $b ]] || continue
	base64 -d "$b" >"${b%.b64}" || die "$b: not base64"
	rm -f -- "$b"
done

status=$(sed -n "s/^$marker=\([0-9][0-9]*\)\$/\1/p" "$log" | tail -n 1)
if [[ -z $status ]]; then
	if [[ $qemu_rc -eq 124 ]]; then
		say "no exit status from the guest: timed out after $tmo s"
	else
		say "no exit status from the guest (qemu exited $qemu_rc): see $log"
	fi
	exit 1
fi
exit "$status"
