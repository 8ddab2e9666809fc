#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# SIPp as a plain digest UA against a gatekey element (softswitchd or sbcd): one call through it.
#
#   run.sh uac --server IP:PORT --local IP:PORT --user ID --password PW --domain IDSP --target ID
#   run.sh uas --server IP:PORT --local IP:PORT --user ID --password PW --domain IDSP
#              [--expect-pai URI]
#
# uac registers ID, calls TARGET@IDSP, hangs up and deregisters (uac.xml). uas registers ID,
# answers one call and, once it is hung up, deregisters (uas.xml with uas_call.xml as SIPp's
# out-of-call scenario). Both use one UDP socket at --local, the address the registration pins.
#
# Other options: --timeout SECONDS for the whole run (30), --dir DIR for SIPp's message trace,
# log, errors and statistics (a new temporary folder otherwise, kept), -v to show SIPp's message
# table, and its message trace on failure; anything after "--" goes to sipp as it is.
#
# Prints the scenario's log lines as they come ("registered ...": the uas is ready for the call),
# then one line of SIPp's statistics:
#   sipp <mode> <user>@<domain>: rc=<sipp exit> successful=<n> failed=<n> retransmissions=<n> ...
# and exits 0 when SIPp did (every call of the scenario succeeded) and, with --expect-pai, the
# INVITE carried that P-Asserted-Identity; otherwise 1, with SIPp's errors on stderr.
set -u
here=$(cd "$(dirname "$0")" && pwd)

usage() {
	sed -n '3,21s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

mode=${1:-}
[ "$mode" = uac ] || [ "$mode" = uas ] || usage
shift
server='' local='' user='' password='' domain='' target='' timeout=30 dir='' expect_pai=''
verbose=0
while [ $# -gt 0 ]; do
	case $1 in
	--server) server=$2; shift 2 ;;
	--local) local=$2; shift 2 ;;
	--user) user=$2; shift 2 ;;
	--password) password=$2; shift 2 ;;
	--domain) domain=$2; shift 2 ;;
	--target) target=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--dir) dir=$2; shift 2 ;;
	--expect-pai) expect_pai=$2; shift 2 ;;
	-v) verbose=1; shift ;;
	--) shift; break ;;
	-h | --help) usage ;;
	*) echo "run.sh: unknown argument: $1" >&2; usage ;;
	esac
done
if [ -z "$server" ] || [ -z "$local" ] || [ -z "$user" ] || [ -z "$password" ] ||
	[ -z "$domain" ]; then
	usage
fi
[ "$mode" = uas ] || [ -n "$target" ] || { echo "run.sh: uac needs --target" >&2; exit 2; }
command -v sipp >/dev/null || { echo "run.sh: sipp is not installed (Debian: sip-tester)" >&2; exit 2; }

# --local [v6]:port or v4:port
if [[ $local =~ ^\[(.*)\]:([0-9]+)$ ]] || [[ $local =~ ^(.*):([0-9]+)$ ]]; then
	lip=${BASH_REMATCH[1]} lport=${BASH_REMATCH[2]}
else
	echo "run.sh: --local wants ip:port or [ip6]:port, not $local" >&2
	exit 2
fi
[ -n "$dir" ] || dir=$(mktemp -d "${TMPDIR:-/tmp}/gk-sipp.XXXXXX")
mkdir -p "$dir"
pfx=$dir/$mode-$user
rm -f "$pfx".msg "$pfx".log "$pfx".err "$pfx".csv "$pfx".out

args=("$server" -i "$lip" -p "$lport" -t u1 -m 1 -nostdin -key user "$user" -key domain "$domain"
	-au "$user" -ap "$password" -timeout "${timeout}s" -timeout_error
	-trace_msg -message_file "$pfx.msg" -trace_logs -log_file "$pfx.log"
	-trace_err -error_file "$pfx.err" -trace_stat -stf "$pfx.csv")
if [ "$mode" = uac ]; then
	args+=(-sf "$here/uac.xml" -s "$target")
else
	args+=(-sf "$here/uas.xml" -oocsf "$here/uas_call.xml")
fi

sipp "${args[@]}" "$@" >"$pfx.out" 2>&1 &
pid=$!
# The scenario's log lines, as they are written (tail stops with SIPp).
touch "$pfx.log"
tail -n +1 -F --pid=$pid "$pfx.log" 2>/dev/null &
tailer=$!
wait $pid
rc=$?
wait $tailer 2>/dev/null

# SIPp's statistics file: a header line and one line per dump, the last at exit.
stat() { # stat <column>: its value in the last line of the statistics file
	awk -F';' -v c="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i; next }
		{ v = $k } END { print (k && v != "") ? v : "-" }' "$pfx.csv" 2>/dev/null || echo -
}
ok=$rc
pai=
if [ "$mode" = uas ]; then
	pai=$(sed -n 's/^INVITE .* pai=\(<[^>]*>\) .*/\1/p' "$pfx.log" | tail -1)
	if [ -n "$expect_pai" ] && [ "$pai" != "$expect_pai" ]; then
		echo "run.sh: the INVITE's P-Asserted-Identity is ${pai:-missing}, not $expect_pai" >&2
		[ "$ok" = 0 ] && ok=1
	fi
fi
echo "sipp $mode $user@$domain${target:+ -> $target@$domain}: rc=$rc" \
	"successful=$(stat 'SuccessfulCall(C)') failed=$(stat 'FailedCall(C)')" \
	"retransmissions=$(stat 'Retransmissions(C)')" \
	"unexpected=$(stat 'FailedUnexpectedMessage(C)') recv_timeouts=$(stat 'FailedTimeoutOnRecv(C)')" \
	"max_retrans=$(stat 'FailedMaxUDPRetrans(C)') regexp_failures=$(stat 'FailedRegexpDoesntMatch(C)')" \
	"out_of_call_calls=$(stat 'AutoAnswered(C)') dead_call_msgs=$(stat 'DeadCallMsgs(C)')" \
	"${pai:+pai=$pai }dir=$dir"
[ "$verbose" = 1 ] && sed -n '/Messages  Retrans/,/Test Terminated/p' "$pfx.out" | head -40
if [ "$ok" != 0 ]; then
	{
		echo "run.sh: SIPp $mode failed (exit $rc); its errors ($pfx.err):"
		if [ -s "$pfx.err" ]; then
			# SIPp writes its events without a line break between them
			sed 's/\([0-9]\{4\}-[0-9][0-9]-[0-9][0-9]	[0-9]\)/\n\1/g' "$pfx.err" | tail -20
			echo
		else
			tail -5 "$pfx.out"
		fi
		[ "$verbose" = 1 ] && cat "$pfx.msg"
		true
	} >&2
	exit 1
fi
exit 0
