#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Attack tools as a user's adversary would run them: SIPVicious OSS (Debian's sipvicious: svmap,
# svwar, svcrack) from an attacker host against sbcd with XDP attached, while 500 real terminals
# register and refresh from the terminal host. Digest is enabled next to gk-mac, with MD5 first
# (for old phones, as an operator may set it): the one mechanism these tools can speak, so the
# worst case for the SBC. What must hold:
# - svmap finds nothing with its OPTIONS probe: XDP drops every non-registration request from a
#   stranger (DROP_NOT_REGISTRATION);
# - svwar cannot tell provisioned extensions from unprovisioned ones: it reports none, and the
#   SIP answer every extension gets is the same once the per-request values are blanked out;
# - svcrack finds no password: the softswitch checks exactly registrar.max_failures (3) guesses
#   per ID from the attacker's host, for a provisioned and a made-up ID alike, then locks that
#   host out of that ID; XDP drops the excess of svcrack's REGISTERs at the per-host limit
#   (DROP_RATE_SOURCE); the real subscriber keeps its binding and registers from its own host
#   during the lockout, which holds against its own key from the attacker's host;
# - every terminal of the load registers (0 failed), and no daemon crashes or reports a
#   sanitizer error.
# A control run shows svcrack does work against gatekey: given a dictionary with a subscriber's
# Digest password in it, it finds it. SBC_FASTPATH=userspace runs the same against sbcd's
# userspace fast path.
. "$(dirname "$0")/lib.sh"
need_root
need_tool svmap "sipvicious is not installed (make deps)"
need_tool svwar "sipvicious is not installed (make deps)"
need_tool svcrack "sipvicious is not installed (make deps)"
need_tool bpftool "bpftool is not installed (make deps)"
need_tool python3 "python3 is not installed"
plan 21

# The per-host limit on strangers' registration-class datagrams, near a deployment's
# (README 3d: 10/s): the load below sends about 20 a second from the terminals' host (a REGISTER
# and an answer per registration at 10 registrations/s; the refreshes are sealed and pass on
# their key), svcrack several hundred from the attacker's.
export SBC_SOURCE_RATE=60 SBC_SOURCE_BURST=150
# The rig's 60 s lockout could run out before the test looks at it on a slow (sanitizer) build;
# later lines of the configuration win.
export SOFTSWITCHD_CONF_EXTRA="registrar.lockout = 300s"
N=500 # terminals of the load, started at RATE a second: it lasts N / RATE s, longer than the attack
RATE=10
MAX_FAILURES=3 # registrar.max_failures in the rig's softswitchd.conf
# Extensions svwar scans: provisioned (1000 and 1001 registered with gk-mac, 1002 with Digest,
# 1005 and 1010 not registered) and unprovisioned (the rest). 1001 is also svcrack's victim;
# 1003, never provisioned, gets the same treatment; 2001 is the control's.
RANGE_LO=1000 RANGE_HI=1019
PROVISIONED=(1000 1001 1002 1005 1010)

rig_sbc
rig_attacker
provision_sbc "${PROVISIONED[@]}" 2001
gkctl bulk-add load "$N" --out-dir "$WORK/terms" >/dev/null || bail "gkctl bulk-add failed"
settle_writes
MECHANISMS="gk-mac digest" DIGEST_ALGORITHMS="MD5, SHA-256" start_sbc_topology ||
	bail "aucd, softswitchd and sbcd do not start"
expect_fastpath
grep -q '^registrar.max_failures = '"$MAX_FAILURES"'$' "$WORK/softswitchd.conf" ||
	bail "the rig's softswitchd.conf no longer sets registrar.max_failures = $MAX_FAILURES"

# sv <seconds> <tool> <args...>: a SIPVicious tool on the attacker host, stopped with SIGINT after
# <seconds> at the latest, on which it prints what it found so far (as on Ctrl-C). Its output,
# stderr (its log) included, on stdout; the status is timeout's (124: it was stopped).
sv() {
	local secs=$1
	shift
	in_atk timeout -s INT -k 10 "$secs" "$@" 2>&1
}
# sv_rows <file>: the first column of the result table a tool printed (svmap: devices; svwar:
# extensions; svcrack: extensions cracked), one a line; nothing for "found nothing".
sv_rows() { awk -F'|' '/^\| *[0-9]/ { gsub(/ /, "", $2); print $2 }' "$1"; }
# sv_sane <file>: the tool ran to its end, without a Python exception.
sv_sane() { ! grep -qE 'Traceback|Unhandled exception|CRITICAL' "$1"; }
# sv_stopped_sane <file>: the same for a run that timeout stopped with SIGINT, which may land
# outside the tool's own handler: a traceback that ends in KeyboardInterrupt is that, and only
# that. Any other exception, or a CRITICAL line, is the tool failing on what it received.
sv_stopped_sane() {
	! grep -qE 'Unhandled exception|CRITICAL' "$1" &&
		{ ! grep -q 'Traceback' "$1" || [ "$(grep -E '^[A-Za-z_.]+(Error|Exception|Interrupt)' "$1" |
			sort -u)" = KeyboardInterrupt ]; }
}
# kstat <COUNTER>: a fast-path counter read from the kernel's pinned stats map (from sbcd's own
# stats with SBC_FASTPATH=userspace, which this test runs under too).
kstat() {
	local v
	if [ "${SBC_FASTPATH:-auto}" = userspace ]; then
		v=$(stat_of sbcd "fastpath.$1")
	else
		v=$(pinned_stat "$1")
	fi
	echo "${v:-0}"
}
# ext_range: the extensions svwar scans, one a line.
ext_range() { seq "$RANGE_LO" "$RANGE_HI"; }

# --- Subscribers register before the attack ----------------------------------------------------
pre1000=$(gkterm_sbc --key-file "$WORK/1000.key" --timeout 10 2>&1)
rc1=$?
pre1001=$(gkterm_sbc --key-file "$WORK/1001.key" --timeout 10 2>&1)
rc2=$?
pre1002=$(gkterm_sbc --digest MD5 --key-file "$WORK/1002.key" --timeout 10 2>&1)
rc3=$?
printf '%s\n' "$pre1000" "$pre1001" "$pre1002" | diag
fpr1001=$(echo "$pre1001" | sed -n 's/^registered 1001 .*fpr=\([0-9a-f]*\).*/\1/p')
[ $rc1 = 0 ] && [ $rc2 = 0 ] && [ $rc3 = 0 ] && [ -n "$fpr1001" ]
ok $? "1000 and 1001 (gk-mac) and 1002 (Digest) register from the terminal host"

# --- The load: real terminals register and refresh throughout ----------------------------------
gkterm_sbc --prefix load --count "$N" --key-dir "$WORK/terms" --rate "$RATE" --window 64 \
	--sockets 2 --refresh 1 --refresh-interval 2000 --quiet --timeout 120 >"$WORK/load.out" 2>&1 &
load=$!
PIDS+=("$load")
registrations_at_least() { [ "$(stat_of sbcd registrations)" -ge "$1" ]; }
wait_until 100 registrations_at_least $(($(stat_of sbcd registrations) + 10)) ||
	echo "# the load has not registered 10 terminals in 10 s; the attack starts anyway" >&2

# --- svmap: is there a SIP device? ----------------------------------------------------------------
nr0=$(kstat DROP_NOT_REGISTRATION)
sv 60 svmap -v -x "$ATK4" -P 5070 "$SBC4" >"$WORK/svmap.out"
rc=$?
diag <"$WORK/svmap.out"
nr1=$(kstat DROP_NOT_REGISTRATION)
[ $rc = 0 ] && sv_sane "$WORK/svmap.out" && [ -z "$(sv_rows "$WORK/svmap.out")" ] &&
	grep -q 'found nothing' "$WORK/svmap.out" && [ "$nr1" -gt "$nr0" ]
ok $? "svmap (OPTIONS) finds no SIP device: XDP drops a stranger's OPTIONS (DROP_NOT_REGISTRATION $nr0 -> $nr1)"

# A REGISTER is what a stranger may send; svmap's has "Contact: None", which sbcd refuses (400),
# statelessly (RFC 3261 8.2). Whatever svmap makes of that is recorded, not judged.
sv 60 svmap -v -x "$ATK4" -P 5070 -m REGISTER "$SBC4" >"$WORK/svmap-register.out"
rc=$?
diag <"$WORK/svmap-register.out"
rows=$(sv_rows "$WORK/svmap-register.out" | xargs)
[ $rc = 0 ] && sv_sane "$WORK/svmap-register.out"
ok $? "svmap -m REGISTER runs to its end (it lists: ${rows:-nothing})"

# --- svwar: which extensions exist? ---------------------------------------------------------------
# OPTIONS and INVITE from a stranger never reach sbcd: svwar hears nothing.
nr0=$(kstat DROP_NOT_REGISTRATION)
sv 60 svwar -v -x "$ATK4" -P 5071 -e "$RANGE_LO-$RANGE_HI" --domain sbc1 -m OPTIONS "$SBC4" \
	>"$WORK/svwar-options.out"
rc1=$?
sv 60 svwar -v -x "$ATK4" -P 5071 -e "$RANGE_LO-$RANGE_HI" --domain sbc1 -m INVITE "$SBC4" \
	>"$WORK/svwar-invite.out"
rc2=$?
cat "$WORK/svwar-options.out" "$WORK/svwar-invite.out" | diag
nr1=$(kstat DROP_NOT_REGISTRATION)
[ $rc1 = 0 ] && [ $rc2 = 0 ] && sv_sane "$WORK/svwar-options.out" &&
	sv_sane "$WORK/svwar-invite.out" && [ -z "$(sv_rows "$WORK/svwar-options.out")" ] &&
	[ -z "$(sv_rows "$WORK/svwar-invite.out")" ] && [ "$nr1" -ge $((nr0 + 2)) ]
ok $? "svwar -m OPTIONS and -m INVITE get no answer and report nothing: XDP drops them (DROP_NOT_REGISTRATION $nr0 -> $nr1)"

# REGISTER, svwar's default, passes as any stranger's registration would. svwar first asks for a
# random extension to learn what an unknown one gets; then, with --force, the range.
sv 60 svwar -v -x "$ATK4" -P 5072 -e "$RANGE_LO-$RANGE_HI" --domain sbc1 "$SBC4" \
	>"$WORK/svwar-register.out"
rc1=$?
sv 60 svwar -v -x "$ATK4" -P 5072 -e "$RANGE_LO-$RANGE_HI" --domain sbc1 --force "$SBC4" \
	>"$WORK/svwar-force.out"
rc2=$?
cat "$WORK/svwar-register.out" "$WORK/svwar-force.out" | diag
# svwar stops at the first answer it cannot place, so each extension also gets a run of its own:
# the random extension's answer, then the extension's. Their own ports; all at once.
mkdir -p "$WORK/svwar-each"
pids=()
for ext in $(ext_range); do
	sv 60 svwar -x "$ATK4" -P $((5000 + ext)) -e "$ext" --domain sbc1 --force --debug "$SBC4" \
		>"$WORK/svwar-each/$ext.out" &
	pids+=($!)
	PIDS+=($!)
done
each_rc=0
for pid in "${pids[@]}"; do
	wait "$pid" || each_rc=$?
done
reported=$(for f in "$WORK/svwar-register.out" "$WORK/svwar-force.out" "$WORK"/svwar-each/*.out; do
	sv_rows "$f"
done | sort -un | tr '\n' ' ')
insane=$(for f in "$WORK/svwar-register.out" "$WORK/svwar-force.out" "$WORK"/svwar-each/*.out; do
	sv_sane "$f" || echo "$f"
done)
all=$(ext_range | tr '\n' ' ')
[ $rc1 = 0 ] && [ $rc2 = 0 ] && [ "$each_rc" = 0 ] && [ -z "$insane" ] &&
	{ [ -z "$reported" ] || [ "$reported" = "$all" ]; }
ok $? "svwar REGISTER over $RANGE_LO-$RANGE_HI (provisioned: ${PROVISIONED[*]}) reports ${reported:-no extension}: it cannot single out the provisioned ones"
[ -z "$insane" ] || echo "# svwar did not run to its end in: $insane" >&2

python3 "$REPO/tests/e2e/svwar_answers.py" "$WORK"/svwar-each/*.out >"$WORK/svwar-answers.txt"
diag <"$WORK/svwar-answers.txt"
answered=$(grep -cv ' none$' "$WORK/svwar-answers.txt")
is "$answered" $((RANGE_HI - RANGE_LO + 1)) "sbcd answers svwar's REGISTER for every extension of the range"
kinds=$(cut -d' ' -f2- "$WORK/svwar-answers.txt" | grep -v '^none$' | sort -u | wc -l)
is "$kinds" 1 "the answers are the same for provisioned, registered and unknown extensions (status, header fields, challenges)"
[ "$kinds" = 1 ] || cut -d' ' -f2- "$WORK/svwar-answers.txt" | sort | uniq -c | diag >&2

# --- svcrack: a control, then the attack ----------------------------------------------------------
# The control shows svcrack speaks Digest with gatekey: given 2001's password (gkctl subscriber
# digest-password, derived from its key) after two wrong ones, it finds it.
pw2001=$(gkctl subscriber digest-password 2001)
printf '%s\n' 2001 password "$pw2001" >"$WORK/control.dict"
sv 30 svcrack -v -x "$ATK4" -P 5074 -u 2001 -d "$WORK/control.dict" --domain sbc1 "$SBC4" \
	>"$WORK/svcrack-control.out"
diag <"$WORK/svcrack-control.out"
grep -q "The password for 2001 is $pw2001" "$WORK/svcrack-control.out" &&
	[ "$(sv_rows "$WORK/svcrack-control.out")" = 2001 ]
ok $? "control: svcrack finds a Digest password that is in its dictionary (svcrack works against gatekey)"

# The attack: the usual guesses, the user's name among them, for 1001 (provisioned, registered)
# and 1003 (never provisioned) at once. A Digest password is 32 hex digits derived from the
# subscriber's 256-bit key: no dictionary holds it.
{
	printf '%s\n' 1001 1003 1234 12345 123456 password secret admin sbc1
	seq -w 0 999
} >"$WORK/attack.dict"
if grep -qxF "$(gkctl subscriber digest-password 1001)" "$WORK/attack.dict"; then
	bail "the attack dictionary holds 1001's password"
fi
wa0=$(stat_of softswitchd wrong_answers)
lo0=$(stat_of softswitchd lockouts)
lr0=$(stat_of softswitchd reason.LOCKED_OUT)
rs0=$(kstat DROP_RATE_SOURCE)
SVCRACK_S=15
sv "$SVCRACK_S" svcrack -v -x "$ATK4" -P 5080 -u 1001 -d "$WORK/attack.dict" --domain sbc1 "$SBC4" \
	>"$WORK/svcrack-1001.out" &
crack1=$!
sv "$SVCRACK_S" svcrack -v -x "$ATK4" -P 5081 -u 1003 -d "$WORK/attack.dict" --domain sbc1 "$SBC4" \
	>"$WORK/svcrack-1003.out" &
crack2=$!
PIDS+=("$crack1" "$crack2")

# While svcrack goes on against its lockout, the subscriber, from its own host.
wait_until 100 stat_at_least softswitchd lockouts $((lo0 + 2)) ||
	echo "# no 2 lockouts within 10 s of svcrack's start" >&2
now=$(ctl sbcd bindings | grep '^1001 ')
echo "# during the attack: $now"
[[ $now == *" addr=$TERM4:"*" mech=gk-mac "*"fpr=$fpr1001 "* ]]
ok $? "1001's binding is untouched by the attack: still at the terminal host, same key (fpr=$fpr1001)"
out=$(gkterm_sbc --key-file "$WORK/1001.key" --timeout 10 2>&1)
rc1=$?
echo "$out" | diag
out=$(gkterm_sbc --digest MD5 --key-file "$WORK/1001.key" --timeout 10 2>&1)
rc2=$?
echo "$out" | diag
kill -0 "$crack1" 2>/dev/null && kill -0 "$crack2" 2>/dev/null
during=$?
[ $rc1 = 0 ] && [ $rc2 = 0 ]
ok $? "1001 registers again from the terminal host with gk-mac and with Digest while the attacker's host is locked out$([ $during = 0 ] && echo ", svcrack still running")"

wait "$crack1"
rc1=$?
wait "$crack2"
rc2=$?
attack_end_load_running=1
kill -0 "$load" 2>/dev/null && attack_end_load_running=0
cat "$WORK/svcrack-1001.out" "$WORK/svcrack-1003.out" | diag
# 124: stopped by timeout's SIGINT, as planned; 0: it ended by itself (it may not hang). Its
# "found nothing" is printed after its handler, so a SIGINT that lands outside it leaves only
# the KeyboardInterrupt; what counts is that no password and no cracked row came out.
crack_ok() { # <file> <rc>
	{ [ "$2" = 124 ] || [ "$2" = 0 ]; } && sv_stopped_sane "$1" &&
		! grep -q 'The password for' "$1" && [ -z "$(sv_rows "$1")" ] &&
		{ grep -q 'found nothing' "$1" || grep -qx KeyboardInterrupt "$1"; }
}
crack_ok "$WORK/svcrack-1001.out" "$rc1" && crack_ok "$WORK/svcrack-1003.out" "$rc2"
r=$?
ok $r "svcrack finds no password for 1001 (provisioned) nor for 1003 (unknown) in ${SVCRACK_S} s each (rc $rc1, $rc2)"
if [ $r != 0 ]; then
	sed 's/^/# svcrack 1001: /' "$WORK/svcrack-1001.out" >&2
	sed 's/^/# svcrack 1003: /' "$WORK/svcrack-1003.out" >&2
fi

wa=$(($(stat_of softswitchd wrong_answers) - wa0))
lo=$(($(stat_of softswitchd lockouts) - lo0))
[ "$wa" = $((2 * MAX_FAILURES)) ] && [ "$lo" = 2 ]
ok $? "the softswitch checked $MAX_FAILURES guesses for each ID, no more ($wa wrong answers), then locked the attacker's host out of both ($lo lockouts)"
grep 'locked out' "$WORK/softswitchd.log" | diag
grep -q "locked out 1001 from $ATK4:[0-9]* for 300s" "$WORK/softswitchd.log" &&
	grep -q "locked out 1003 from $ATK4:[0-9]* for 300s" "$WORK/softswitchd.log" &&
	! grep -q "locked out [0-9a-z]* from $TERM4:" "$WORK/softswitchd.log"
ok $? "the lockouts name the attacker's host, for the provisioned ID and the unknown one alike, never the terminal host"
lr=$(($(stat_of softswitchd reason.LOCKED_OUT) - lr0))
[ "$lr" -gt 0 ]
ok $? "svcrack's REGISTERs during the lockout are refused without a challenge ($lr, reason.LOCKED_OUT)"
rs=$(($(kstat DROP_RATE_SOURCE) - rs0))
[ "$rs" -ge 100 ]
ok $? "XDP drops the excess of svcrack's REGISTERs at the per-host limit ($rs, DROP_RATE_SOURCE)"

out=$(in_atk "$BIN/gkterm" --server "$SBC4:5060" --idsp sbc1 --key-file "$WORK/1001.key" \
	--timeout 15 2>&1)
rc=$?
echo "$out" | diag
[ $rc != 0 ] && echo "$out" | grep -q 'reason=REFUSED'
ok $? "from the locked-out host even 1001's own key is refused: the lockout holds for that host"

# --- The load ------------------------------------------------------------------------------------
ok $attack_end_load_running "the load was still registering when the attack ended"
wait "$load"
summary=$(grep '^summary' "$WORK/load.out")
echo "# load: $summary"
grep -E '^(failed|failures)' "$WORK/load.out" | head -20 | diag
[[ $summary == *" registered=$N failed=0 "* ]]
ok $? "all $N terminals of the load register and refresh during the attack, none fails"

# --- No crash ------------------------------------------------------------------------------------
alive=0
for d in aucd softswitchd sbcd; do
	eval "pid=\$PID_$d"
	if ! kill -0 "$pid" 2>/dev/null || ! ctl "$d" stats >/dev/null; then
		alive=1
		echo "# $d is gone or does not answer" >&2
	fi
done
fp=$(xdp_fastpath_mode)
[ $alive = 0 ] && { [ "${SBC_FASTPATH:-auto}" = userspace ] || [ "$fp" != userspace ]; }
ok $? "aucd, softswitchd and sbcd are alive and answer; the fast path is still $fp"

clean=0
for d in sbcd softswitchd aucd; do
	eval "pid=\$PID_$d"
	stop_daemon "$d"
	if kill -0 "$pid" 2>/dev/null; then
		clean=1
		echo "# $d did not stop on SIGTERM" >&2
		continue
	fi
	wait "$pid"
	rc=$?
	[ $rc = 0 ] || {
		clean=1
		echo "# $d exited with status $rc" >&2
	}
done
ok $clean "SIGTERM stops each daemon with status 0"
crash='AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:|Segmentation fault|SIGSEGV|SIGABRT|core dumped|stack smashing'
bad=$(grep -EH "$crash" "$WORK/aucd.log" "$WORK/softswitchd.log" "$WORK/sbcd.log" | head -20)
[ -z "$bad" ]
ok $? "no sanitizer report or crash in the daemons' logs"
[ -z "$bad" ] || echo "$bad" | diag >&2

finish
