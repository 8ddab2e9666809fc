#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# gkctl end to end: KEK, subscribers, elements, bulk provisioning, configuration files, exit
# codes. No namespaces and no root needed. Every gkctl output is kept, to check at the end that
# no key ever appears in it.
GK_BUILD=${GK_BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
GKCTL=$GK_BUILD/bin/gkctl

W=$(mktemp -d /tmp/gk-t_gkctl.XXXXXX) || exit 1
trap 'rm -rf "$W"' EXIT
ALL=$W/all-output

. "$(dirname "$0")/tap.sh"

# run ARGS...: gkctl with the test's store; sets rc, out (stdout) and err (stderr).
run() {
	"$GKCTL" "$@" >"$W/out" 2>"$W/err"
	rc=$?
	out=$(cat "$W/out")
	err=$(cat "$W/err")
	cat "$W/out" "$W/err" >>"$ALL"
}
gk() { run --db "$W/keys.db" --kek "$W/kek" "$@"; }
mode() { stat -c %a "$1"; }
keyhex() { sed -n 's/^key //p' "$1"; }
# The fingerprint as DESIGN §10 defines it: the first 8 bytes of SHA-256(K), in hex.
fpr_of() { printf '%b' "$(keyhex "$1" | sed 's/../\\x&/g')" | sha256sum | cut -c1-16; }

# make check builds gkctl first: missing, the build is broken, which is a failure.
[ -x "$GKCTL" ] || bail "$GKCTL not built (make check builds it)"
echo "1..42"

# --- KEK -------------------------------------------------------------------------------------
run kek generate "$W/kek"
ok $rc "kek generate writes a new KEK"
is "$(mode "$W/kek")" 600 "the KEK file is 0600"
is "$(tr -d '\n' <"$W/kek" | grep -c '^[0-9a-f]\{64\}$')" 1 "the KEK file holds 64 hex digits"
cp "$W/kek" "$W/kek.orig"
run kek generate "$W/kek"
is "$rc" 1 "kek generate refuses to overwrite an existing KEK"
cmp -s "$W/kek" "$W/kek.orig"
ok $? "the existing KEK is left untouched"

# --- subscribers -----------------------------------------------------------------------------
gk subscriber add alice --out "$W/alice.key"
ok $rc "subscriber add alice --out"
is "$(mode "$W/alice.key")" 600 "the provisioning file is 0600"
is "$(mode "$W/keys.db")" 600 "the key store is 0600"
is "$out" "added alice fpr=$(fpr_of "$W/alice.key")" \
	"add prints the fingerprint of the key in the provisioning file"
is "$(sed -n 1p "$W/alice.key")" "id alice" "the provisioning file names the subscriber"

gk subscriber list
ok $rc "subscriber list"
echo "$out" | grep -q "^alice created=[0-9T:-]*Z rotated=[0-9T:-]*Z fpr=$(fpr_of "$W/alice.key")$"
ok $? "list shows id, created, rotated and fingerprint"

gk subscriber add alice
is "$rc" 1 "adding an existing subscriber fails with status 1"
echo "$err" | grep -q 'alice.*already exists'
ok $? "and says it already exists"

hex=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
gk subscriber add bob --key "$hex"
ok $rc "subscriber add with --key"
gk subscriber export bob --out "$W/bob.key"
is "$(keyhex "$W/bob.key")" "$hex" "export writes the key given with --key"
echo "$hex" >"$W/given-key" # so the final check also covers it

old=$(fpr_of "$W/alice.key")
gk subscriber rotate alice --out "$W/alice.key"
new=$(fpr_of "$W/alice.key")
[ $rc = 0 ] && [ "$old" != "$new" ] && [ "$out" = "rotated alice fpr=$new" ]
ok $? "rotate writes a new key and prints its fingerprint"
is "$(mode "$W/alice.key")" 600 "the rewritten provisioning file is still 0600"
gk subscriber export alice --out "$W/alice2.key"
cmp -s "$W/alice.key" "$W/alice2.key"
ok $? "export re-writes the same provisioning file as the rotation"

gk subscriber add carol --out "$W/nodir/carol.key"
[ $rc = 1 ] && echo "$err" | grep -q "cannot write $W/nodir/carol.key"
ok $? "add fails with status 1 when the provisioning file cannot be written"
gk subscriber list
echo "$out" | grep -q '^carol '
is "$?" 1 "a failed --out write leaves no subscriber behind"

gk subscriber remove alice
ok $rc "subscriber remove"
gk subscriber list
echo "$out" | grep -q '^alice '
is "$?" 1 "a removed subscriber is no longer listed"
gk subscriber remove alice
is "$rc" 1 "removing an unknown subscriber fails with status 1"

# --- elements --------------------------------------------------------------------------------
gk element add ss1 --type softswitch --out "$W/ss1.key"
ok $rc "element add --type softswitch --out"
gk element add sbc1 --type=sbc
ok $rc "element add --type=sbc"
gk element list
echo "$out" | grep -q "^ss1 type=softswitch .*fpr=$(fpr_of "$W/ss1.key")$" &&
	echo "$out" | grep -q "^sbc1 type=sbc "
ok $? "element list shows the types and fingerprints"
gk subscriber list
echo "$out" | grep -q '^ss1 '
is "$?" 1 "elements and subscribers are separate namespaces"
gk element add x --type router
is "$rc" 2 "an unknown element type is a usage error"

# --- bulk ------------------------------------------------------------------------------------
gk bulk-add load 300 --out-dir "$W/terms"
ok $rc "bulk-add 300 subscribers"
is "$(ls "$W/terms" | wc -l)" 300 "one provisioning file each"
is "$(find "$W/terms" -type f ! -perm 0600 | wc -l)" 0 "all of them 0600"
gk subscriber list
is "$(echo "$out" | grep -c '^load')" 300 "all 300 are listed"
gk bulk-add load 400 --out-dir "$W/terms2"
gk subscriber list
[ $rc = 0 ] && [ "$(echo "$out" | grep -c '^load')" = 300 ] && [ ! -e "$W/terms2/load301.key" ]
ok $? "a bulk-add that collides adds nothing and leaves no files"

# --- usage errors ----------------------------------------------------------------------------
bad=0
for args in "" "frob" "subscriber" "subscriber add" "subscriber add a b" "subscriber add a\\'b" \
	"subscriber add x --bogus" "subscriber export x" "element add x" "bulk-add p 0 --out-dir d" \
	"bulk-add p 10" "subscriber add x --key 12" "--nope subscriber list" "kek" "--db"; do
	eval "gk $args"
	if [ "$rc" != 2 ]; then
		echo "# gkctl $args: status $rc"
		bad=1
	fi
done
ok $bad "usage errors exit with status 2"
run --help
[ $rc = 0 ] && echo "$out" | grep -q '^usage: gkctl'
ok $? "--help prints the usage and exits 0"

# --- configuration and KEK errors ------------------------------------------------------------
printf 'keystore.db = %s\nkeystore.kek = %s\n' "$W/keys.db" "$W/kek" >"$W/gkctl.conf"
run -c "$W/gkctl.conf" element list
[ $rc = 0 ] && echo "$out" | grep -q '^ss1 '
ok $? "-c reads keystore.db and keystore.kek"
cat >"$W/aucd.conf" <<EOF
# written for aucd; gkctl takes what it needs
auc.listen = 127.0.0.1:1812
keystore.db = $W/keys.db
keystore.kek = $W/kek
radius.client = 127.0.0.1 a-long-random-secret
log.level = info
EOF
run -c "$W/aucd.conf" element list
[ $rc = 0 ] && echo "$out" | grep -q '^ss1 '
ok $? "an aucd configuration file is accepted"
printf 'keystore.db = %s\nkeystore.kke = oops\n' "$W/keys.db" >"$W/bad.conf"
run -c "$W/bad.conf" subscriber list
[ $rc = 2 ] && echo "$err" | grep -q "$W/bad.conf:2:"
ok $? "a bad configuration line is reported as file:line"

chmod 644 "$W/kek"
gk subscriber list
[ $rc = 1 ] && echo "$err" | grep -q '0644' && echo "$err" | grep -q '0600'
ok $? "a KEK file with mode 0644 is refused, naming the modes"
chmod 600 "$W/kek"
run kek generate "$W/kek2"
run --db "$W/keys.db" --kek "$W/kek2" subscriber list
[ $rc = 1 ] && echo "$err" | grep -q 'KEK'
ok $? "the wrong KEK is refused at open"

# --- no key in any output --------------------------------------------------------------------
leaked=0
for f in "$W"/*.key "$W"/terms/load1.key "$W"/terms/load300.key "$W/given-key"; do
	k=$(keyhex "$f")
	[ -n "$k" ] || k=$(cat "$f")
	if grep -qi "$k" "$ALL"; then
		echo "# the key of $f appears in gkctl output"
		leaked=1
	fi
done
ok $leaked "no key from any provisioning file appears in gkctl's output"

finish
