#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `gkctl init`, the operator's first step (README.md, "Running it by hand"): on one host it writes
# the KEK, the key store with both elements and the first subscriber, the core-leg key and the
# three daemons' configurations, each 0600. The daemons start from exactly those files (only
# the control sockets and the pins are this rig's), and the subscriber registers through sbcd
# with the key file init gave it, holding the same session key as the SBC. A second init on the
# same host refuses, naming the file, and changes nothing; a usage error says what is missing.
. "$(dirname "$0")/lib.sh"
need_root
plan 9

NS_TERM=${RIG}t
NS_SBC=${RIG}h # the single host: aucd, softswitchd and sbcd
IF_ACCESS=${RIG}h0
netns_add "$NS_TERM"
netns_add "$NS_SBC"
link "$NS_SBC" "$IF_ACCESS" 198.18.1.1/24 2001:db8:0:11::1/64 \
	"$NS_TERM" "${RIG}t0" 198.18.1.2/24 2001:db8:0:11::2/64
# The legs between the daemons: a host-local address (init's --local; 127.0.0.1 by default).
ip -n "$NS_SBC" addr add 198.18.9.1/32 dev lo
mkdir -p "$PIN_ROOT" && mount -t bpf bpf "$PIN_ROOT" -o mode=0700
run_dir_mount || bail "no tmpfs for the binding store"

ETC=$WORK/etc
STATE=$WORK/state
init_args=(--etc "$ETC" --state "$STATE" --access 198.18.1.1:5060 --interface "$IF_ACCESS"
	--local 198.18.9.1)
out=$("$BIN/gkctl" init "${init_args[@]}" --subscriber alice --out "$WORK/alice.key" 2>&1)
rc=$?
echo "$out" | diag
[ $rc = 0 ]
ok $? "gkctl init sets up the host"

bad=""
for f in kek ss1.key sbc1.key sbc1.core ss1-sbc1.core aucd.conf softswitchd.conf sbcd.conf; do
	[ "$(stat -c %a "$ETC/$f" 2>/dev/null)" = 600 ] || bad="$bad $f"
done
[ "$(stat -c %a "$STATE/keys.db" 2>/dev/null)" = 600 ] || bad="$bad keys.db"
[ "$(stat -c %a "$WORK/alice.key" 2>/dev/null)" = 600 ] || bad="$bad alice.key"
[ -z "$bad" ]
ok $? "every file it wrote is 0600${bad:+ (not:$bad)}"

! grep -q 'secret' <<<"$out"
ok $? "it prints no secret"

before=$(cd "$WORK" && find etc state -type f -exec sha256sum {} + | sort)
out=$("$BIN/gkctl" init "${init_args[@]}" --subscriber bob --out "$WORK/bob.key" 2>&1)
rc=$?
after=$(cd "$WORK" && find etc state -type f -exec sha256sum {} + | sort)
[ $rc = 1 ] && grep -q "$ETC/kek exists already" <<<"$out" && [ "$before" = "$after" ] &&
	[ ! -e "$WORK/bob.key" ]
ok $? "a second init refuses, naming the file, and changes nothing ($out)"

out=$("$BIN/gkctl" init --etc "$WORK/other" --subscriber carol 2>&1)
rc=$?
[ $rc = 2 ] && grep -q -- '--out and --access are required' <<<"$out" && [ ! -e "$WORK/other" ]
ok $? "without --out and --access: a usage error, nothing written"

# The daemons from init's own files; only where this rig keeps sockets, pins and bindings.
start_daemon aucd "$NS_SBC" -c "$ETC/aucd.conf" --set control.socket="$WORK/aucd.sock" &&
	start_daemon softswitchd "$NS_SBC" -c "$ETC/softswitchd.conf" \
		--set control.socket="$WORK/softswitchd.sock" \
		--set registrar.binding_store="$RUN_DIR/softswitchd.bindings" &&
	start_daemon sbcd "$NS_SBC" -c "$ETC/sbcd.conf" --set control.socket="$WORK/sbcd.sock" \
		--set fastpath.pin_root="$PIN_ROOT" \
		--set registrar.binding_store="$RUN_DIR/sbcd.bindings"
ok $? "aucd, softswitchd and sbcd start from the configurations init wrote"

out=$(ip netns exec "$NS_TERM" "$BIN/gkterm" --server 198.18.1.1:5060 --idsp sbc1 \
	--key-file "$WORK/alice.key" 2>&1)
rc=$?
echo "$out" | diag
tfpr=$(echo "$out" | sed -n 's/^registered alice .*fpr=\([0-9a-f]*\).*/\1/p')
[ $rc = 0 ] && [ -n "$tfpr" ]
ok $? "the first subscriber registers through sbcd with the key file init gave it"
sfpr=$(ctl sbcd bindings | sed -n 's/^alice .*fpr=\([0-9a-f]*\).*/\1/p')
is "$sfpr" "$tfpr" "sbcd holds the same session key as the terminal"

[ "$(xdp_fastpath_mode)" != userspace ]
ok $? "sbcd's fast path runs in XDP on the interface init named ($(xdp_fastpath_mode))"
finish
