#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# gkterm's plain Digest load mode (the client of the Kamailio comparison in make bench): a few
# hundred SIP UAs without GK1 register through sbcd with MD5 and then SHA-256, refresh once on
# the nonce they hold, and every one ends with a binding of mechanism digest at the SBC, its
# password derived from the same key file as `gkctl subscriber digest-password` gives a phone.
. "$(dirname "$0")/lib.sh"
need_root
plan 9

N=300
rig_sbc
provision_sbc
gkctl bulk-add d "$N" --out-dir "$WORK/terms" >/dev/null || bail "gkctl bulk-add failed"
MECHANISMS="digest" DIGEST_ALGORITHMS="MD5, SHA-256" start_sbc_topology ||
	bail "aucd, softswitchd and sbcd do not start"
expect_fastpath

# load <algorithm> <refreshes>: the summary line of one run over all N terminals
load() {
	gkterm_sbc --digest "$1" --prefix d --count "$N" --key-dir "$WORK/terms" --quiet \
		--window 64 --sockets 4 --refresh "$2" --timeout 60 | grep '^summary'
}

md5=$(load MD5 0)
echo "# $md5"
[[ $md5 == *" registered=$N failed=0 "* ]]
ok $? "$N Digest UAs register through sbcd with MD5"
is "$(ctl sbcd bindings | grep -c ' mech=digest ')" "$N" "sbcd holds a digest binding for each"
is "$(stat_of aucd digest_accepts)" "$N" "the AuC supplied HA1 once per registration"

sha=$(load SHA-256 1)
echo "# $sha"
[[ $sha == *" registered=$N failed=0 "* ]]
ok $? "the same UAs register again with SHA-256 and refresh once"
is "$(ctl sbcd bindings | grep -c ' mech=digest ')" "$N" "still one binding each, replaced, not added"
is "$(stat_of softswitchd wrong_answers)" 0 "no answer was wrong"

# A UA with another password is challenged again and never registers.
bad=$(gkterm_sbc --digest MD5 --user d1 --password 0123456789abcdef0123456789abcdef --quiet \
	--timeout 10 2>&1)
echo "$bad" | sed 's/^/# /'
[[ $bad == *"registered=0 failed=1"* ]]
ok $? "a wrong password fails with a clear reason"
echo "$bad" | grep -q 'WRONG_AUTH'
ok $? "gkterm names the reason (WRONG_AUTH)"
is "$(stat_of softswitchd wrong_answers)" 1 "the wrong answer is counted towards lockout"
