#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The Debian package (debian/, `make deb`):
# - it builds, with dpkg-buildpackage and no network, as gatekey_<version>_amd64.deb;
# - it holds the daemons, the tools, the units (in /lib/systemd/system, as bookworm wants), the
#   sysusers.d file, the manuals, the dictionary, the dissector, and the example configurations,
#   0600 where they name secrets;
# - lintian finds no error and no warning (the overrides in debian/ say why each is kept);
# - its postinst, run against a scratch root (DPKG_ROOT), creates the units' users and the key
#   store's directory (0700, aucd's user), twice in a row without complaint, and never enables
#   or starts a unit: deb-systemd-helper is a recording stand-in here, and `systemctl` never runs.
# Nothing is installed on this host.
. "$(dirname "$0")/tap.sh"
REPO=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${GK_BUILD:-$REPO/build}
[ "$(id -u)" = 0 ] || skip_all "needs root (file ownership in the package and the scratch root)"
for t in dpkg-buildpackage dh lintian systemd-sysusers fakeroot; do
	command -v "$t" >/dev/null || bail "$t is not installed (make deps)"
done
WORK=$(mktemp -d /tmp/gatekey-deb.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
plan 12

# The package's own build dir: never the one the tests run from (BUILD=... make deb).
DEBDIR=$WORK/pkg
version=$(cd "$REPO" && dpkg-parsechangelog -S Version)
make -s -C "$REPO" BUILD="$DEBDIR" deb >"$WORK/make.log" 2>&1
rc=$?
[ $rc = 0 ] || diag <"$WORK/make.log"
DEB=$DEBDIR/deb/gatekey_${version}_amd64.deb
[ $rc = 0 ] && [ -f "$DEB" ]
ok $? "make deb builds gatekey_${version}_amd64.deb"
[ -f "$DEB" ] || bail "no package to check"

dpkg-deb -c "$DEB" | awk '{ print $1, $2, $6 }' | sed 's|^\(.*\) \./|\1 /|' >"$WORK/contents"
has() { grep -q " $1\$" "$WORK/contents"; }
mode_of() { awk -v p="$1" '$3 == p { print $1 " " $2 }' "$WORK/contents"; }

missing=""
for f in /usr/sbin/aucd /usr/sbin/softswitchd /usr/sbin/sbcd /usr/bin/gkctl /usr/bin/gkterm; do
	has "$f" && [ "$(mode_of "$f" | cut -c1-10)" = "-rwxr-xr-x" ] || missing="$missing $f"
done
[ -z "$missing" ]
ok $? "the three daemons in /usr/sbin, gkctl and gkterm in /usr/bin, executable${missing:+ (missing:$missing)}"

missing=""
for f in /lib/systemd/system/aucd.service /lib/systemd/system/softswitchd.service \
	/lib/systemd/system/sbcd.service /usr/lib/sysusers.d/gatekey.conf; do
	has "$f" || missing="$missing $f"
done
[ -z "$missing" ]
ok $? "the three units and the sysusers.d file${missing:+ (missing:$missing)}"

missing=""
for f in aucd.8 softswitchd.8 sbcd.8 gkctl.8 gkterm.1 gatekey.conf.5; do
	sec=${f##*.}
	has "/usr/share/man/man$sec/$f.gz" || missing="$missing $f"
done
[ -z "$missing" ]
ok $? "the manuals: aucd(8), softswitchd(8), sbcd(8), gkctl(8), gkterm(1), gatekey.conf(5)${missing:+ (missing:$missing)}"

has /usr/share/gatekey/dictionary.gatekey && has /usr/share/gatekey/wireshark/gatekey.lua
ok $? "the RADIUS dictionary and the Wireshark dissector"

[ "$(mode_of /etc/gatekey/aucd.conf.example)" = "-rw------- root/root" ] &&
	[ "$(mode_of /etc/gatekey/softswitchd.conf.example)" = "-rw------- root/root" ] &&
	[ "$(mode_of /etc/gatekey/sbcd.conf.example)" = "-rw-r--r-- root/root" ]
ok $? "example configurations under /etc/gatekey: 0600 where they name secrets (aucd, softswitchd)"

dpkg-deb -e "$DEB" "$WORK/control"
grep -qx /etc/gatekey/aucd.conf.example "$WORK/control/conffiles" &&
	grep -qx /etc/gatekey/sbcd.conf.example "$WORK/control/conffiles"
ok $? "the examples are conffiles: an operator's edits survive an upgrade"

lintian --fail-on error,warning --tag-display-limit 0 "$DEB" >"$WORK/lintian.log" 2>&1
rc=$?
diag <"$WORK/lintian.log"
[ $rc = 0 ]
ok $? "lintian: no error and no warning"

# --- the maintainer scripts, against a scratch root --------------------------------------------
ROOT=$WORK/root
mkdir -p "$ROOT/etc" "$WORK/bin"
dpkg-deb -x "$DEB" "$ROOT"
# A root file system's user database before the package: root alone.
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\n' >"$ROOT/etc/group"
printf 'root:*:19000:0:99999:7:::\n' >"$ROOT/etc/shadow"
printf 'root:*::\n' >"$ROOT/etc/gshadow"
chmod 0640 "$ROOT/etc/shadow" "$ROOT/etc/gshadow"
# Stand-ins that record what the scripts ask of the host's service manager, and answer "no"
# to every question (not installed before, not enabled).
for t in deb-systemd-helper deb-systemd-invoke systemctl; do
	printf '#!/bin/sh\necho "%s $*" >>"%s/calls"\nexit 1\n' "$t" "$WORK" >"$WORK/bin/$t"
	chmod 0755 "$WORK/bin/$t"
done
: >"$WORK/calls"
run_postinst() {
	DPKG_ROOT=$ROOT PATH="$WORK/bin:$PATH" DPKG_MAINTSCRIPT_NAME=postinst \
		DPKG_MAINTSCRIPT_PACKAGE=gatekey sh -e "$WORK/control/postinst" configure "" >>"$WORK/postinst.log" 2>&1
}
run_postinst
rc1=$?
run_postinst
rc2=$?
diag <"$WORK/postinst.log"
[ $rc1 = 0 ] && [ $rc2 = 0 ]
ok $? "postinst configure succeeds, and again on a configured root"

auc_uid=$(awk -F: '$1 == "gatekey-auc" { print $3 }' "$ROOT/etc/passwd")
ss_uid=$(awk -F: '$1 == "gatekey-ss" { print $3 }' "$ROOT/etc/passwd")
[ -n "$auc_uid" ] && [ -n "$ss_uid" ] && [ "$auc_uid" != 0 ] && [ "$ss_uid" != 0 ] &&
	[ "$(grep -c '^gatekey-' "$ROOT/etc/passwd")" = 2 ]
ok $? "the units' users exist once each: gatekey-auc ($auc_uid), gatekey-ss ($ss_uid)"

[ "$(stat -c '%a %u' "$ROOT/var/lib/gatekey")" = "700 $auc_uid" ] &&
	[ "$(stat -c '%a' "$ROOT/etc/gatekey")" = 755 ]
ok $? "/var/lib/gatekey is 0700 and aucd's user's; /etc/gatekey is 0755 (its files are 0600)"

diag <"$WORK/calls"
! grep -Eq 'deb-systemd-helper (enable|unmask)|deb-systemd-invoke|systemctl' "$WORK/calls"
ok $? "no unit is enabled or started by the package"
finish
