#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# sbcd follows its access interface through rtnetlink (lib/runtime/linkwatch.c): while terminals
# of all four protocols send protected keep-alives through the XDP fast path, the access veth is
# taken down and up, then deleted and created again under the same name and addresses (a new
# interface index, and no XDP program on it). sbcd must say so in its log, attach the program
# again and bind its verified sockets to the new interface by itself, and every keep-alive of
# every terminal registered before must be answered without a new registration. Terminals that
# register afterwards pass too.
. "$(dirname "$0")/lib.sh"
need_root
need_tool bpftool "bpftool is not installed (make deps)"
plan 13

LINK_PROTOS="sip mgcp h248 h323"
N=5        # terminals per protocol, registered before the outages
KEEPALIVES=30 # per terminal, 400 ms apart: 12 s, across both outages
rig_sbc
provision_sbc
for p in $LINK_PROTOS; do
	gkctl bulk-add "l$p" "$N" --out-dir "$WORK/keys-$p" >/dev/null &&
		gkctl bulk-add "n$p" "$N" --out-dir "$WORK/keys-n$p" >/dev/null ||
		bail "gkctl bulk-add $p failed"
done
start_sbc_topology || bail "aucd, softswitchd and sbcd do not start"
expect_fastpath
grep -q "following access interface $IF_ACCESS (index [0-9]*, up) through rtnetlink" \
	"$WORK/sbcd.log"
ok $? "sbcd follows its access interface $IF_ACCESS through rtnetlink"

bindings_count() { ctl sbcd bindings | grep -c ' fpr='; }
bindings_at_least() { [ "$(bindings_count)" -ge "$1" ]; }
rx_total() { ctl sbcd bindings | sed -n 's/.* rx=\([0-9]*\) .*/\1/p' | awk '{ s += $1 } END { print s + 0 }'; }
rx_above() { [ "$(rx_total)" -gt "$1" ]; }

pids=()
for p in $LINK_PROTOS; do
	PROTO=$p gkterm_sbc --key-dir "$WORK/keys-$p" --prefix "l$p" --count "$N" \
		--options "$KEEPALIVES" --options-interval 400 >"$WORK/run-$p.out" 2>&1 &
	pids+=($!)
	PIDS+=($!)
done
all=$((4 * N))
wait_until 300 bindings_at_least "$all" && wait_until 100 rx_above "$all"
ok $? "$all terminals of four protocols are registered and sending protected datagrams"

# --- Down and up: the same interface, its XDP program stays; sbcd notices both. -------------
ip -n "$NS_SBC" link set "$IF_ACCESS" down
wait_until 50 stat_at_least sbcd access_link.down 1 &&
	grep -q "access interface $IF_ACCESS is down" "$WORK/sbcd.log"
ok $? "sbcd sees its access interface go down, and logs it"
ip -n "$NS_SBC" link set "$IF_ACCESS" up
wait_until 50 stat_at_least sbcd access_link.up 1 &&
	grep -q "access interface $IF_ACCESS is up" "$WORK/sbcd.log"
ok $? "sbcd sees it come back up, and logs it"
rx=$(rx_total)
wait_until 100 rx_above "$rx"
ok $? "protected datagrams pass again after the link came back up"

# --- Deleted and created again: a new index, no program on it. -------------------------------
index_before=$(ip -n "$NS_SBC" -o link show "$IF_ACCESS" | cut -d: -f1)
ip -n "$NS_SBC" link del "$IF_ACCESS"
wait_until 50 stat_at_least sbcd access_link.gone 1 &&
	grep -q "access interface $IF_ACCESS is gone: the XDP program went with it" "$WORK/sbcd.log"
ok $? "sbcd sees its access interface deleted, and logs that the program went with it"
is "$(stat_of sbcd fastpath.attached)" 0 "sbcd reports the fast path detached while it is gone"
link "$NS_SBC" "$IF_ACCESS" 198.18.1.1/24 2001:db8:0:11::1/64 \
	"$NS_TERM" "$IF_TERM" 198.18.1.2/24 2001:db8:0:11::2/64
index_after=$(ip -n "$NS_SBC" -o link show "$IF_ACCESS" | cut -d: -f1)
wait_until 50 stat_at_least sbcd access_link.xdp_reattached 1
ok $? "sbcd attaches XDP again by itself to $IF_ACCESS, created again (index $index_before -> $index_after)"
seen=$(xdp_on_access)
case "$seen" in
*" gk_xdp") ok 0 "bpftool shows the gatekey program on the new $IF_ACCESS" ;;
*) ok 1 "bpftool shows the gatekey program on the new $IF_ACCESS (saw: ${seen:-none})" ;;
esac
[ "$(stat_of sbcd fastpath.attached)" = 1 ] &&
	[ "$(stat_of sbcd access_link.verified_rebound)" -ge 1 ] &&
	[ "$(stat_of sbcd access_link.verified_rebind_failed)" = 0 ]
ok $? "its verified sockets are bound to the new interface"

failed=0
for pid in "${pids[@]}"; do
	wait "$pid" || failed=$((failed + 1))
done
opts_ok=1
for p in $LINK_PROTOS; do
	diag <"$WORK/run-$p.out"
	grep -q "^summary terminals=$N registered=$N failed=0" "$WORK/run-$p.out" &&
		grep -q "^options sent=$((KEEPALIVES * N)) ok=$((KEEPALIVES * N)) bad_downlink=0" \
			"$WORK/run-$p.out" || opts_ok=0
done
[ $failed = 0 ] && [ $opts_ok = 1 ]
ok $? "every keep-alive of every registered terminal, across both outages, is answered"
[ "$(stat_of sbcd refreshes)" = 0 ] && [ "$(stat_of sbcd registrations)" = "$all" ]
ok $? "no terminal registered again to get through"

# --- New terminals, through the new interface. -----------------------------------------------
new_ok=1
for p in $LINK_PROTOS; do
	PROTO=$p gkterm_sbc --key-dir "$WORK/keys-n$p" --prefix "n$p" --count "$N" --options 2 \
		>"$WORK/new-$p.out" 2>&1
	rc=$?
	diag <"$WORK/new-$p.out"
	[ $rc = 0 ] && grep -q "^options sent=$((2 * N)) ok=$((2 * N)) bad_downlink=0" \
		"$WORK/new-$p.out" || new_ok=0
done
ok $((1 - new_ok)) "terminals of four protocols register through the new interface and pass"

finish
