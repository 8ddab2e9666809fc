#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The digest benchmark side by side: one plain Digest load (gkterm --digest MD5) on Kamailio
# (tools/kamailio/registrar.cfg), softswitchd and sbcd, each alone in a fresh rig, registrar on the
# core host. Kamailio keeps every password in memory; gatekey's softswitch asks aucd for HA1 over
# RADIUS per registration: the ratio is gatekey against a registrar with no AuC to ask.
# bench-kamailio.sh [all|kamailio|direct|sbc] prints "bench" lines (and "# " diagnostics) only.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
MODE=${1:-all}

if [ "$MODE" = all ]; then
	k=$("$HERE/bench-kamailio.sh" kamailio)
	d=$("$HERE/bench-kamailio.sh" direct)
	s=$("$HERE/bench-kamailio.sh" sbc)
	for x in "$k" "$d" "$s"; do
		[ -n "$x" ] && echo "$x"
	done
	kr=$(echo "$k" | sed -n 's/^bench reg_rate_digest_kamailio \([0-9]*\) .*/\1/p')
	dr=$(echo "$d" | sed -n 's/^bench reg_rate_digest_direct \([0-9]*\) .*/\1/p')
	[ "${kr:-0}" -gt 0 ] && echo "bench digest_ratio_direct_vs_kamailio $(awk -v d="${dr:-0}" -v k="$kr" 'BEGIN { printf "%.2f", d / k }') ratio"
	exit 0
fi
case "$MODE" in
kamailio | direct | sbc) ;;
*)
	echo "usage: bench-kamailio.sh [all|kamailio|direct|sbc]" >&2
	exit 2
	;;
esac

. "$HERE/rig-lib.sh"
BENCH_N=${BENCH_N:-20000}
CFG=$REPO/tools/kamailio/registrar.cfg
rig_possible || { echo "bench: needs root and network namespaces" >&2; exit 1; }

# Kamailio from Debian (scripts/deps.sh lists it); a service the package starts is not this one.
ensure_kamailio() {
	command -v kamailio >/dev/null 2>&1 && return 0
	echo "# installing kamailio" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends kamailio \
		>/dev/null || return 1
	if command -v systemctl >/dev/null 2>&1; then
		systemctl disable --now kamailio >/dev/null 2>&1 || true
	fi
	command -v kamailio >/dev/null 2>&1
}

# kamailio_pw_table <dir>: the db_text table "pw" the htable loads: "<id>:0:0:<password>" rows
# from the key store, written 0600 (they are the passwords).
kamailio_pw_table() {
	local dir=$1
	mkdir -m 700 "$dir" || return 1
	(
		umask 077
		printf 'table_name(str) table_version(int)\npw:1\n' >"$dir/version"
		echo 'key_name(str) key_type(int) value_type(int) key_value(str)' >"$dir/pw"
		gkctl bulk-digest-passwords b "$BENCH_N" | awk '{ print $1 ":0:0:" $2 }' >>"$dir/pw"
	) || return 1
	[ "$(wc -l <"$dir/pw")" -eq $((BENCH_N + 1)) ]
}

kamailio_listening() { # the UDP socket is bound once every module has started
	in_core ss -Hlun "sport = :5060" | grep -q "$CORE4:5060"
}

start_kamailio() {
	ensure_kamailio || { echo "# kamailio is not installed and cannot be" >&2; return 1; }
	kamailio -c -f "$CFG" >"$WORK/kamailio-check.log" 2>&1 || {
		sed 's/^/# /' "$WORK/kamailio-check.log" >&2
		return 1
	}
	kamailio_pw_table "$WORK/kamdb" || { echo "# cannot write Kamailio's password table" >&2; return 1; }
	# children: one per core; memory for BENCH_N AORs with room to spare; in the foreground
	# with its children (-DD), its runtime files in the run's own directory
	ip netns exec "$NS_CORE" kamailio -f "$CFG" -l "udp:$CORE4:5060" -n "$(nproc)" -m 256 \
		-M 32 -DD -E -Y "$WORK/kamrun" -A "PW_DB=\"text://$WORK/kamdb\"" \
		-A "PW_ROWS=$((BENCH_N + 1))" \
		>>"$WORK/kamailio.log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	if ! wait_until 100 kamailio_listening || ! kill -0 "$pid" 2>/dev/null; then
		echo "# kamailio did not start; its log:" >&2
		sed 's/^/# /' "$WORK/kamailio.log" >&2
		return 1
	fi
}

# The gatekey elements negotiate digest only; the softswitch offers MD5 first, then SHA-256.
digest_settings() {
	cat <<EOC
log.registrations = no
registrar.max_terminals = $((BENCH_N * 2))
registrar.mechanisms = digest
EOC
}

if [ "$MODE" = sbc ]; then
	rig_sbc
	provision_sbc
else
	rig_direct
	provision
fi
gkctl bulk-add b "$BENCH_N" --out-dir "$WORK/terms" >/dev/null || exit 1
settle_writes
case "$MODE" in
kamailio)
	start_kamailio || exit 1
	server=$CORE4:5060
	idsp=ss1
	;;
direct)
	write_aucd_conf
	write_softswitchd_conf
	digest_settings >>"$WORK/softswitchd.conf"
	echo "digest.algorithms = MD5, SHA-256" >>"$WORK/softswitchd.conf"
	start_daemon aucd "$NS_CORE" -c "$WORK/aucd.conf" || exit 1
	start_daemon softswitchd "$NS_CORE" -c "$WORK/softswitchd.conf" || exit 1
	server=$CORE4:5060
	idsp=ss1
	;;
sbc)
	write_aucd_conf
	sed -i 's|^radius.client = .*|radius.client = 198.18.2.0/24 '"$RADIUS_SECRET"'|' "$WORK/aucd.conf"
	write_softswitchd_conf
	digest_settings >>"$WORK/softswitchd.conf"
	echo "digest.algorithms = MD5, SHA-256" >>"$WORK/softswitchd.conf"
	echo "sbc.peer = $SBC_PEER" >>"$WORK/softswitchd.conf"
	write_sbcd_conf
	digest_settings >>"$WORK/sbcd.conf"
	# gkterm carries all the terminals over 4 source sockets, and a digest binding pins its
	# source address: each socket's address is charged to the terminal that registered from it
	# last, whose bucket (fastpath.terminal_rate, 50/s: one phone's) would drop the thousands
	# of others behind it. Phones each have their own address; the load generator does not.
	cat >>"$WORK/sbcd.conf" <<EOC
fastpath.terminal_rate = 1000000
fastpath.terminal_burst = 1000000
EOC
	start_daemon aucd "$NS_CORE" -c "$WORK/aucd.conf" || exit 1
	start_daemon softswitchd "$NS_CORE" -c "$WORK/softswitchd.conf" || exit 1
	start_daemon sbcd "$NS_SBC" -c "$WORK/sbcd.conf" || exit 1
	server=$SBC4:5060
	idsp=sbc1
	;;
esac

# The same load for all three: each terminal's password derived from its key file, as gkctl
# derives the ones Kamailio was given and as aucd derives HA1.
out=$(in_term "$BIN/gkterm" --digest MD5 --server "$server" --idsp "$idsp" --prefix b \
	--count "$BENCH_N" --key-dir "$WORK/terms" --quiet --window 2048 --sockets 4 --timeout 120)
echo "$out" | sed 's/^/# /'
# Where retransmissions come from through the SBC: the fast path's drops and the front's refusals.
[ "$MODE" = sbc ] && ctl sbcd stats | grep -E '^(fastpath\.DROP_[A-Z_]* [1-9]|rejects|reason\.[A-Z_]* [1-9]|relayed|core_)' | sed 's/^/# sbcd /'
summary=$(echo "$out" | grep '^summary')
registered=$(echo "$summary" | sed -n 's/.* registered=\([0-9]*\) .*/\1/p')
if [ "${registered:-0}" != "$BENCH_N" ]; then
	echo "# $MODE: ${registered:-0} of $BENCH_N terminals registered" >&2
	[ "$MODE" = kamailio ] && tail -n 20 "$WORK/kamailio.log" | sed 's/^/# kamailio: /' >&2
fi
rate=$(echo "$summary" | sed -n 's/.* rate=\([0-9]*\) reg\/s.*/\1/p')
echo "bench reg_rate_digest_$MODE ${rate:-0} reg/s"
