#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The systemd units (contrib/systemd/) and the daemons' side of them (lib/runtime/notify.c):
# - `make install` into a scratch root, where `systemd-analyze verify` finds nothing to say about
#   the three units (a deliberately broken copy shows that it would);
# - the installed sysusers.d file creates the units' users;
# - `systemd-analyze security --offline=true` scores each unit under a ceiling (README.md,
#   "Running under systemd", quotes the scores and explains what is left);
# - aucd, softswitchd and sbcd in the SBC rig, each with NOTIFY_SOCKET on a datagram socket this
#   test reads and WATCHDOG_USEC=2000000, and each with no more capabilities than its unit
#   leaves it (CapabilityBoundingSet=, read from the installed unit; sbcd's XDP fast path must
#   still attach): READY=1 once the control socket answers, a STATUS= line, WATCHDOG=1 every
#   second (half the interval), STOPPING=1 and exit status 0 on SIGTERM.
# PID 1 need not be systemd: nothing here talks to a running manager.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || bail "needs root (network namespaces, XDP)"
rig_possible || bail "root, yet no network namespace can be made"
need_tool systemd-analyze "systemd-analyze is not installed (make deps)"
need_tool systemd-sysusers "systemd-sysusers is not installed (make deps)"
need_tool python3 "python3 is not installed (make deps)"
need_tool setpriv "setpriv is not installed (make deps)"
need_tool bpftool "bpftool is not installed (make deps)"
[ -x /usr/bin/kill ] || bail "/usr/bin/kill is missing (procps; make deps)"
[ -r /sys/kernel/btf/vmlinux ] || bail "the kernel has no BTF: sbcd's XDP fast path cannot load"
DAEMONS="aucd softswitchd sbcd"
# The exposure each unit may reach (systemd-analyze's 0-10 scale; measured 1.1, 1.1, 1.9 with
# systemd 252). sbcd runs as root with CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN: the rest of its
# score.
declare -A CEILING=([aucd]=1.5 [softswitchd]=1.5 [sbcd]=2.5)
plan 28

# --- install, verify -------------------------------------------------------------------------
# The scratch root holds the host's own units (the targets the units' default dependencies name)
# and /usr/bin/kill (ExecReload=); `verify --root` looks for both there, not on the host.
ROOT=$WORK/root
UNITS=$ROOT/usr/lib/systemd/system
mkdir -p "$UNITS" "$ROOT/usr/bin" "$ROOT/etc/systemd/system"
cp -a /usr/lib/systemd/system/. "$UNITS/"
ln -s usr/bin "$ROOT/bin"
ln -s usr/lib "$ROOT/lib"
cp /usr/bin/kill "$ROOT/usr/bin/"
# -o all: install what is built, never rebuild it here.
make -s -C "$REPO" -o all BUILD="$GK_BUILD" DESTDIR="$ROOT" PREFIX=/usr install >"$WORK/install.log" 2>&1 ||
	{ diag <"$WORK/install.log"; bail "make install DESTDIR=$ROOT failed"; }
for d in $DAEMONS; do
	[ -f "$UNITS/$d.service" ] && [ -x "$ROOT/usr/sbin/$d" ] || bail "make install left no $d.service or $d"
done

out=$(systemd-analyze verify --root="$ROOT" aucd.service softswitchd.service sbcd.service 2>&1)
rc=$?
[ -n "$out" ] && echo "$out" | diag >&2
[ $rc = 0 ] && [ -z "$out" ]
ok $? "systemd-analyze verify: the three installed units, no warning and no error"

# The same check on a broken copy must speak, or the silence above proves nothing.
sed -e 's/^ProtectSystem=/ProtectSystm=/' -e 's|^ExecStart=/usr/sbin/aucd|ExecStart=/usr/sbin/gk-none|' \
	"$UNITS/aucd.service" >"$ROOT/etc/systemd/system/gk-broken.service"
out=$(systemd-analyze verify --root="$ROOT" gk-broken.service 2>&1)
echo "$out" | grep -q 'ProtectSystm' && echo "$out" | grep -q 'gk-none'
ok $? "systemd-analyze verify reports a misspelt directive and a missing binary (control)"
rm -f "$ROOT/etc/systemd/system/gk-broken.service"

# Every User= but root is one that the installed sysusers.d file creates.
out=$(systemd-sysusers --root="$ROOT" --dry-run "$ROOT/usr/lib/sysusers.d/gatekey.conf" 2>&1)
missing=
for d in $DAEMONS; do
	u=$(sed -n 's/^User=//p' "$UNITS/$d.service")
	[ "$u" = root ] || echo "$out" | grep -q "Creating user '$u'" || missing="$missing $d:$u"
done
[ -z "$missing" ] || echo "$out" | diag >&2
is "$missing" "" "systemd-sysusers (gatekey.conf) creates every unit's user but root"

# --- security scores -------------------------------------------------------------------------
for d in $DAEMONS; do
	out=$(systemd-analyze security --offline=true --root="$ROOT" "$d.service" 2>&1)
	score=$(echo "$out" | sed -n "s/.*Overall exposure level for $d.service: \([0-9.]*\) .*/\1/p")
	echo "$d.service exposure ${score:-?} (ceiling ${CEILING[$d]}):" \
		"$(echo "$out" | grep -c '^✗') settings exposed" | diag
	echo "$out" | awk '/^✗/ { print $2 }' | xargs | fmt -w 94 | sed 's/^/  /' | diag
	[ -n "$score" ] && awk -v s="$score" -v c="${CEILING[$d]}" 'BEGIN { exit !(s <= c) }'
	ok $? "systemd-analyze security: $d.service exposure ${score:-unknown} <= ${CEILING[$d]}"
done

# --- the daemons under a notify socket -------------------------------------------------------
# notify_listen <name>: a datagram socket at $WORK/<name>.notify; every line of every datagram
# goes to $WORK/<name>.notified as "<monotonic seconds> <line>".
notify_listen() {
	local sock=$WORK/$1.notify
	python3 -u -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[1] + ".bound", "w").close()
while True:
    for line in s.recv(65536).decode(errors="replace").split("\n"):
        if line:
            print("%.3f %s" % (time.monotonic(), line), flush=True)
' "$sock" >"$WORK/$1.notified" 2>"$WORK/$1.notify.err" &
	PIDS+=($!)
	wait_until 50 test -e "$sock.bound"
}
# caps_of <name>: the unit's CapabilityBoundingSet= as setpriv's --bounding-set (-all, then each
# capability the unit keeps).
caps_of() {
	local c set=-all
	for c in $(sed -n 's/^CapabilityBoundingSet=//p' "$UNITS/$1.service"); do
		c=${c#CAP_}
		set="$set,+${c,,}"
	done
	echo "$set"
}
# start_notified <name> <ns>: the daemon as its unit would run it, but from the build and in the
# rig: its configuration, NOTIFY_SOCKET, a 2 s watchdog and no WATCHDOG_PID, no new privileges
# and only the unit's capabilities.
start_notified() {
	local name=$1 ns=$2
	notify_listen "$name" || return 1
	ip netns exec "$ns" env -u WATCHDOG_PID NOTIFY_SOCKET="$WORK/$name.notify" \
		WATCHDOG_USEC=2000000 setpriv --no-new-privs --inh-caps=-all \
		--bounding-set="$(caps_of "$name")" "$BIN/$name" -c "$WORK/$name.conf" \
		>>"$WORK/$name.log" 2>&1 &
	PIDS+=($!)
	eval "PID_$name=$!"
}
notified() { grep -q " $2\$" "$WORK/$1.notified"; }
count_notified() { grep -c " $2\$" "$WORK/$1.notified"; }
count_at_least() { [ "$(count_notified "$1" "$2")" -ge "$3" ]; }

rig_sbc
provision_sbc alice
write_aucd_conf
sed -i 's|^radius.client = .*|radius.client = 198.18.2.0/24 '"$RADIUS_SECRET"'|' "$WORK/aucd.conf"
write_softswitchd_conf
echo "sbc.peer = $SBC_PEER" >>"$WORK/softswitchd.conf"
write_sbcd_conf
declare -A NS=([aucd]=$NS_CORE [softswitchd]=$NS_CORE [sbcd]=$NS_SBC)

for d in $DAEMONS; do
	start_notified "$d" "${NS[$d]}" || bail "no notify socket for $d"
	wait_until 100 notified "$d" READY=1
	rc=$?
	ok $rc "$d sends READY=1 (capabilities: $(caps_of "$d"))"
	[ $rc = 0 ] || {
		diag <"$WORK/$d.log" >&2
		bail "$d did not become ready"
	}
	# Once, no retry: READY=1 comes after the listeners and the control socket are open.
	ctl "$d" stats >/dev/null 2>&1
	ok $? "$d: its control socket answers as soon as READY=1 has come"
	status=$(sed -n 's/^[0-9.]* STATUS=//p' "$WORK/$d.notified" | head -1)
	echo "$d STATUS=$status" | diag
	[ -n "$status" ]
	ok $? "$d sends a STATUS= line"
	[ "$d" = sbcd ] && {
		seen=$(xdp_on_access)
		echo "$seen" | grep -q ' gk_xdp$'
		rc=$?
		ok $rc "sbcd attaches its XDP program with only $(caps_of sbcd) (${seen:-nothing attached})"
		[ $rc = 0 ] || grep 'fast path' "$WORK/sbcd.log" | tail -5 | diag >&2
	}
done

# WATCHDOG=1 at ready and then every second: at least three within 3 s of READY=1.
for d in $DAEMONS; do
	t0=$(awk '$2 == "READY=1" { print $1; exit }' "$WORK/$d.notified")
	wait_until 30 count_at_least "$d" WATCHDOG=1 3
	n=$(awk -v t0="$t0" '$2 == "WATCHDOG=1" && $1 - t0 <= 3.0 { n++ } END { print n + 0 }' \
		"$WORK/$d.notified")
	[ "$n" -ge 3 ]
	ok $? "$d: $n WATCHDOG=1 within 3 s of READY=1 (WATCHDOG_USEC=2000000)"
	gaps=$(awk '$2 == "WATCHDOG=1" { if (p) printf "%.2f ", $1 - p; p = $1 }' "$WORK/$d.notified")
	echo "$d watchdog gaps (s): $gaps" | diag
	[ -n "$gaps" ] && awk -v g="$gaps" 'BEGIN { n = split(g, a, " ")
		for (i = 1; i <= n; i++) if (a[i] < 0.8 || a[i] > 1.5) exit 1 }'
	ok $? "$d: WATCHDOG=1 every second, half the watchdog interval"
done

# SIGTERM: STOPPING=1, and a clean exit. The SBC first, the AuC last, as systemd would order them.
for d in sbcd softswitchd aucd; do
	v=PID_$d
	pid=${!v}
	kill -TERM "$pid"
	wait_until 100 notified "$d" STOPPING=1
	ok $? "$d sends STOPPING=1 on SIGTERM"
	wait_gone "$pid" 100
	wait "$pid"
	is "$?" 0 "$d exits with status 0"
done

finish
