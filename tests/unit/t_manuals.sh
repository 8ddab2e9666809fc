#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The manuals (docs/man/, built into $GK_BUILD/man/ by make): mandoc -Tlint -W warning says
# nothing about any page, each renders without a warning (man --warnings -l, as lintian runs it;
# mandoc -Tutf8 where man-db is missing), and every key that aucd, softswitchd, sbcd and gkctl
# list in --help is in gatekey.conf(5). No namespaces, no root: check-unit runs it.
set -u

build=${GK_BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
man=$build/man
bin=$build/bin
pages="aucd.8 softswitchd.8 sbcd.8 gkctl.8 gkterm.1 gatekey.conf.5"
progs="aucd softswitchd sbcd gkctl"
n=0
failed=0

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
}

set -- $pages
echo "1..$(($# * 3 + 4 + 1))"

if ! command -v mandoc >/dev/null 2>&1; then
	echo "Bail out! mandoc is not installed (make deps)"
	exit 1
fi

for p in $pages; do
	f=$man/$p
	if [ ! -s "$f" ]; then
		not_ok "$p built"
		not_ok "$p: mandoc -Tlint -W warning is clean"
		not_ok "$p renders"
		continue
	fi
	ok "$p built"
	lint=$(mandoc -Tlint -W warning "$f" 2>&1)
	if [ -z "$lint" ]; then
		ok "$p: mandoc -Tlint -W warning is clean"
	else
		not_ok "$p: mandoc -Tlint -W warning is clean"
		printf '%s\n' "$lint" | sed 's/^/# /'
	fi
	# man-db with groff's warnings on, as lintian runs it: any warning fails; mandoc without it.
	warn=$(mktemp)
	if command -v man >/dev/null 2>&1; then
		out=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l "$f" \
			2>"$warn" </dev/null)
	else
		out=$(mandoc -Tutf8 "$f" 2>"$warn")
	fi
	rc=$?
	name=${p%.*}
	if [ $rc -eq 0 ] && [ ! -s "$warn" ] && printf '%s\n' "$out" | grep -q "^NAME" &&
		printf '%s\n' "$out" | grep -q "$name"; then
		ok "$p renders without warnings"
	else
		not_ok "$p renders without warnings"
		head -5 "$warn" | sed 's/^/# /'
		printf '%s\n' "$out" | head -3 | sed 's/^/# /'
	fi
	rm -f "$warn"
done

# Every key each program prints (--config-keys=text, the same table as --help) is on the page,
# in that program's section, with the default the program prints.
conf=$(mandoc -Tascii "$man/gatekey.conf.5" | sed 's/.\x08//g')
for prog in $progs; do
	keys=$("$bin/$prog" --help 2>/dev/null | awk '/^configuration keys/ { on = 1; next }
		on && /^  [a-z]/ { print $1 }')
	missing=""
	count=0
	section=$(printf '%s\n' "$conf" | awk -v p="$prog" '
		/^   [a-z]/ { on = ($1 == p) ; next }
		/^[A-Z]/ { on = 0 }
		on')
	for k in $keys; do
		count=$((count + 1))
		printf '%s\n' "$section" | grep -q "^       $k (" || missing="$missing $k"
	done
	if [ "$count" -gt 0 ] && [ -z "$missing" ]; then
		ok "gatekey.conf(5) lists all $count keys of $prog --help"
	else
		not_ok "gatekey.conf(5) lists all keys of $prog --help ($count keys)"
		echo "# missing:$missing"
	fi
done

# And the page is what the programs print now: regenerated, the key sections are the same.
tmp=$(mktemp)
if "$(dirname "$0")/../../scripts/man-conf.sh" "$bin" \
	<"$(dirname "$0")/../../docs/man/gatekey.conf.5.scd.in" >"$tmp" 2>&1 &&
	cmp -s "$tmp" "$man/gatekey.conf.5.scd"; then
	ok "gatekey.conf.5.scd is the programs' current output"
else
	not_ok "gatekey.conf.5.scd is the programs' current output"
	diff "$tmp" "$man/gatekey.conf.5.scd" | head -10 | sed 's/^/# /'
fi
rm -f "$tmp"

[ "$failed" -eq 0 ]
