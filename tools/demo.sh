#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# make demo: builds a rig in network namespaces, registers a batch of terminals (20, or a hundred
# thousand: it shows live progress, samples what it prints and still checks every terminal), sends
# protected traffic, and prints what each side holds. Cleans up on exit, also on Ctrl-C.
. "$(cd "$(dirname "$0")" && pwd)/rig-lib.sh"

PROTO=sip
N=20
TOPO=sbc
while [ $# -gt 0 ]; do
	case $1 in
	--proto) PROTO=$2; shift 2 ;;
	-n) N=$2; shift 2 ;;
	--topology) TOPO=$2; shift 2 ;;
	*) echo "usage: demo.sh [--proto sip|mgcp|h248|h323|mix] [-n N] [--topology sbc|direct]" >&2; exit 2 ;;
	esac
done
case $TOPO in
sbc | direct) ;;
*) echo "demo: topology is sbc or direct" >&2; exit 2 ;;
esac
# sbcd's registrar.max_terminals, which also sizes its XDP maps, goes up to 1048576.
case $N in
'' | *[!0-9]*) echo "demo: N is a number of terminals, not '$N'" >&2; exit 2 ;;
esac
[ "$N" -le 1048576 ] || { echo "demo: N is at most 1048576 (what sbcd holds)" >&2; exit 2; }
# The protected request each protocol sends once registered.
other_of() {
	case $1 in
	sip) echo "OPTIONS" ;;
	mgcp) echo "keep-alive NTFY" ;;
	h248) echo "keep-alive Notify" ;;
	h323) echo "keep-alive RRQ" ;;
	esac
}
case $PROTO in
sip | mgcp | h248 | h323) PROTOS=$PROTO ;;
mix) PROTOS="sip mgcp h248 h323" ;; # N split between them, all at once against one rig
*) echo "demo: protocol '$PROTO' is not available (sip, mgcp, h248, h323, mix are)" >&2; exit 2 ;;
esac
set -- $PROTOS
[ "$N" -ge $# ] || { echo "demo: PROTO=$PROTO needs N of at least $#" >&2; exit 2; }
rig_possible || { echo "demo: needs root and network namespaces" >&2; exit 1; }

say() { printf '\n== %s\n' "$*"; }

# How the demo scales with N.
# - Every terminal registers and is compared with the element's binding; only the first SAMPLE
#   of each protocol then send the protected requests and the abusive datagrams (gkterm
#   --sample), which is all of them up to SAMPLE: the counters show the same checks at any N,
#   and the registration rate and latencies at large N are those of registrations.
# - The fingerprint table shows the first ROWS terminals of each protocol (all of a protocol's
#   when it has at most twice that) and up to 20 that do not match.
SAMPLE=1000
ROWS=10
# - Capacity: sbcd's registrar.max_terminals (default 65536, at most 1048576) is how many
#   terminals it holds and what its XDP maps are made for, 544 bytes of kernel memory each;
#   softswitchd's (default 262144) bounds the terminals it authenticates in either topology. Room
#   for N and a margin (the call's two terminals register a second time), set only above the
#   defaults.
cap=$((N + N / 8 + 1024))
[ "$cap" -gt 1048576 ] && cap=1048576
SBCD_CONF_EXTRA=
SOFTSWITCHD_CONF_EXTRA=
[ "$cap" -gt 65536 ] && SBCD_CONF_EXTRA="registrar.max_terminals = $cap"
[ "$cap" -gt 262144 ] && SOFTSWITCHD_CONF_EXTRA="registrar.max_terminals = $cap"
# - Each completed registration is a log line with its fingerprint (log.registrations), kept up
#   to 5000 terminals (the logs are in the work directory with KEEP_WORK=1); the comparison
#   below reads the bindings over the control socket, and a hundred thousand lines would only
#   cost the daemons time.
if [ "$N" -gt 5000 ]; then
	nl=$'\n'
	SBCD_CONF_EXTRA="${SBCD_CONF_EXTRA:+$SBCD_CONF_EXTRA$nl}log.registrations = no"
	SOFTSWITCHD_CONF_EXTRA="${SOFTSWITCHD_CONF_EXTRA:+$SOFTSWITCHD_CONF_EXTRA$nl}log.registrations = no"
fi
export SBCD_CONF_EXTRA SOFTSWITCHD_CONF_EXTRA
# - The terminals all live on one host, as a flood would: write_sbcd_conf (rig-lib.sh) raises
#   the fast path's per-host and global buckets for registration-class datagrams from addresses
#   without a registration (fastpath.source_rate/burst, global_rate/burst; a deployment's are
#   tens a second per host) to 1000000, far above the two or three such datagrams (REGISTER, its
#   answer, a gateway's acknowledgement) each registration costs, so the rig's load is never
#   taken for a flood. Nothing else limits a source: the registrar's attempts and lockouts go by
#   (IDc, host), one registration of each IDc here, and its sealed datagrams pass on their key.
# - gkterm: 4 sockets per protocol (as tools/bench-reg.sh) and at most 2048 registrations in
#   flight in all, split between the protocols: while aucd computes a vector each waits on one
#   of softswitchd's 4096 RADIUS identifiers, and one that finds none left fails with OVERLOAD.
#   The timeout leaves 2 ms a terminal on top of a minute.
WINDOW=$((2048 / $#))
TIMEOUT=$((60 + N / 500))

if [ "$TOPO" = sbc ]; then
	say "rig: terminal host ${RIG}t (198.18.1.2) <-access-> SBC host ${RIG}s (sbcd) <-core-> core host ${RIG}c (softswitchd, aucd)"
	rig_sbc
	ELEMENT=sbcd
	SERVER_IP=$SBC4
	IDSP=sbc1
else
	say "rig: terminal host ${RIG}t (198.18.0.2) <-veth-> core host ${RIG}c (198.18.0.1: softswitchd, aucd)"
	rig_direct
	ELEMENT=softswitchd
	SERVER_IP=$CORE4
	IDSP=ss1
fi
say "provisioning: KEK, softswitch ss1, SBC sbc1 and its core-leg key, $N subscribers (keys encrypted at rest in $WORK/keys.db)"
provision_sbc
# Terminals <proto>-1 .. <proto>-n per protocol (demo1 .. demoN for one protocol).
sampled=0 limited=0
for p in $PROTOS; do
	count=$((N / $#))
	[ "$p" = "$1" ] && count=$((count + N % $#))
	prefix=$p-
	[ $# = 1 ] && prefix=demo
	gkctl bulk-add "$prefix" "$count" --out-dir "$WORK/terms" >/dev/null || exit 1
	eval "COUNT_$p=$count PREFIX_$p=$prefix"
	[ "$count" -gt "$SAMPLE" ] && sampled=1
	[ "$count" -gt $((2 * ROWS)) ] && limited=1
done
settle_writes
gkctl subscriber list | head -n 3 | sed "s/^/   (long-term Kc) /"
echo "   ..."
if [ "$TOPO" = sbc ]; then
	say "starting aucd and softswitchd on the core host, sbcd on the SBC host"
	start_sbc_topology || exit 1
	FP_MODE=$(xdp_fastpath_mode)
	if [ "$FP_MODE" = userspace ]; then
		say "fast path: userspace (XDP is not attached: $(fastpath_fallback_reason))"
	else
		say "fast path: $FP_MODE on $IF_ACCESS (bpftool net show: $(xdp_on_access))"
	fi
else
	say "starting aucd and softswitchd"
	start_core || exit 1
fi
# What the configurations got for N terminals, beyond the rig's (see the top).
if [ "$TOPO" = sbc ] && [ -n "$SBCD_CONF_EXTRA" ]; then
	printf '%s\n' "$SBCD_CONF_EXTRA" | sed 's/^/   sbcd.conf: /'
fi
if [ -n "$SOFTSWITCHD_CONF_EXTRA" ]; then
	printf '%s\n' "$SOFTSWITCHD_CONF_EXTRA" | sed 's/^/   softswitchd.conf: /'
fi
echo "   ready"

who="each then sends"
[ "$sampled" = 1 ] && who="the first $SAMPLE of each protocol then send"
[ $# = 1 ] && [ "$sampled" = 1 ] && who="the first $SAMPLE then send"
if [ $# = 1 ]; then
	say "registering $N terminals over $PROTO ($TOPO topology); $who 3 gk-mac protected $(other_of "$PROTO") and a burst of forged, replayed and stale datagrams"
else
	say "registering $N terminals over $PROTOS at once ($TOPO topology); $who 3 gk-mac protected requests (SIP OPTIONS, keep-alive NTFY, Notify, RRQ) and a burst of forged, replayed and stale datagrams"
fi
PROGRESS_FILES=()
for p in $PROTOS; do
	eval "count=\$COUNT_$p prefix=\$PREFIX_$p"
	rm -f "$WORK/progress.$p"
	PROGRESS_FILES+=("$WORK/progress.$p")
	in_term "$BIN/gkterm" --proto "$p" --server "$SERVER_IP:$(PROTO=$p proto_port)" \
		--idsp "$IDSP" --prefix "$prefix" --count "$count" --key-dir "$WORK/terms" --options 3 \
		--abuse --sample "$SAMPLE" --mechs 'gk-mac;q=0.9,digest;q=0.1' --window "$WINDOW" \
		--sockets 4 --timeout "$TIMEOUT" --histogram --progress-file "$WORK/progress.$p" \
		>"$WORK/gkterm-$p.out" 2>&1 &
	eval "GKTERM_$p=$!"
done

# progress_line: the gkterms' --progress-file lines added up. While they run: registered so
# far, failed, the current rate (the sum of the running ones' rates over their last 2 s) and
# the longest elapsed time; once all are done the rate is that of the whole run, all
# registrations over the time to the last one.
progress_line() {
	cat "${PROGRESS_FILES[@]}" 2>/dev/null | awk -v total="$N" '
		{
			for (i = 1; i <= NF; i++) {
				e = index($i, "=")
				if (e) v[substr($i, 1, e - 1)] = substr($i, e + 1)
			}
			split(v["registered"], rn, "/")
			reg += rn[1]
			failed += v["failed"]
			if (v["done"] == 1) done++
			else live += v["rate"]
			if (v["elapsed"] + 0 > el) el = v["elapsed"] + 0
			if (v["reg_ms"] + 0 > regms) regms = v["reg_ms"] + 0
			files++
		}
		END {
			if (files && done == files)
				printf "registered %d of %d, %d failed, %d reg/s over the run, %.1f s\n",
					reg, total, failed, regms ? reg * 1000 / regms : 0, el
			else
				printf "registering: %d of %d, %d failed, %d reg/s, %.1f s\n", reg, total,
					failed, live, el
		}'
}
# Every half second: in place on a terminal; in a log (not a terminal) a line every 5 s at the
# most, then the last one.
gkterms_running() {
	local p
	for p in $PROTOS; do
		eval "kill -0 \$GKTERM_$p" 2>/dev/null && return 0
	done
	return 1
}
ticks=0
while gkterms_running; do
	if [ -t 1 ]; then
		printf '\r   %s\033[K' "$(progress_line)"
	elif [ "$ticks" -gt 0 ] && [ $((ticks % 10)) = 0 ]; then
		echo "   $(progress_line)"
	fi
	ticks=$((ticks + 1))
	sleep 0.5
done
if [ -t 1 ]; then
	printf '\r   %s\033[K\n' "$(progress_line)"
else
	echo "   $(progress_line)"
fi

rc=0
for p in $PROTOS; do
	eval "wait \$GKTERM_$p" || rc=1
	[ $# = 1 ] || echo "   $p:"
	# its summary and what its sample showed; failures by reason, and the first few by name
	awk '/^(summary|options|abuse|failures\.)/ { print "   " $0 }
		/^failed / && ++f <= 5 { print "   " $0 }
		END { if (f > 5) printf "   ... and %d more failed\n", f - 5 }' "$WORK/gkterm-$p.out"
done

say "registration latency (its first request sent to the success that completes it): terminals per bucket"
# gkterm --histogram lines ("histogram <bound> ms <count> <percent>% <bar>") of every protocol,
# added up by bucket, from the first bucket that has any to the last.
awk -v protos="$PROTOS" '
	BEGIN {
		nb = split("<1 <2 <5 <10 <20 <50 <100 <200 <500 <1000 >=1000", B, " ")
		np = split(protos, P, " ")
	}
	$1 == "histogram" {
		p = FILENAME
		sub(/.*gkterm-/, "", p)
		sub(/\.out$/, "", p)
		c[p, $2] += $4
		all[$2] += $4
		n += $4
	}
	END {
		if (!n) {
			print "   (no registration)"
			exit
		}
		first = 0
		for (b = 1; b <= nb; b++) {
			if (!all[B[b]])
				continue
			if (!first)
				first = b
			last = b
			if (all[B[b]] > most)
				most = all[B[b]]
		}
		if (np > 1) {
			head = sprintf("   %9s", "")
			for (i = 1; i <= np; i++)
				head = head sprintf(" %8s", P[i])
			print head sprintf(" %8s", "all")
		}
		for (b = first; b <= last; b++) {
			line = sprintf("   %6s ms", B[b])
			if (np > 1) for (i = 1; i <= np; i++) line = line sprintf(" %8d", c[P[i], B[b]])
			w = int(all[B[b]] * 40 / most)
			if (all[B[b]] && !w) w = 1
			bar = ""
			for (k = 0; k < w; k++) bar = bar "#"
			printf "%s %8d %5.1f%% %s\n", line, all[B[b]], 100 * all[B[b]] / n, bar
		}
	}' "$WORK"/gkterm-*.out

ctl "$ELEMENT" bindings >"$WORK/bindings"
shown="every terminal"
if [ "$limited" = 1 ]; then
	shown="the first $ROWS and any that differ; every terminal compared"
	[ $# = 1 ] || shown="the first $ROWS of each protocol and any that differ; every terminal compared"
fi
say "who holds which key (fingerprint = first 8 bytes of SHA-256(K)): $shown"
printf '   %-12s %-7s %-7s %-17s %-17s %s\n' terminal index mech "terminal fpr" "$ELEMENT fpr" match
# One pass: the element's bindings (IDc ... fpr=F ...) by IDc, then each terminal's "registered
# IDc index=.. mech=.. expires=.. fpr=F" joined to its binding. The counts per protocol go to
# $WORK/matches ("<proto> <registered> <same key>", then "all <registered> <same key>").
counts=
for p in $PROTOS; do
	eval "counts=\"\$counts $p:\$COUNT_$p\""
done
awk -v protos="$PROTOS" -v counts="$counts" -v rows="$ROWS" -v out="$WORK/matches" '
	BEGIN {
		np = split(protos, P, " ")
		nc = split(counts, C, " ")
		for (i = 1; i <= nc; i++) {
			split(C[i], kv, ":")
			lim[kv[1]] = kv[2] <= 2 * rows ? kv[2] : rows
		}
	}
	FILENAME == ARGV[1] {
		f = $0
		if (sub(/.* fpr=/, "", f)) { sub(/ .*/, "", f); held[$1] = f }
		next
	}
	$1 == "registered" {
		id = $2
		idx = mech = tf = "-"
		for (i = 3; i <= NF; i++) {
			e = index($i, "=")
			k = substr($i, 1, e - 1)
			if (k == "index") idx = substr($i, e + 1)
			else if (k == "mech") mech = substr($i, e + 1)
			else if (k == "fpr") tf = substr($i, e + 1)
		}
		p = np == 1 ? P[1] : substr(id, 1, index(id, "-") - 1)
		num = match(id, /[0-9]+$/) ? substr(id, RSTART) + 0 : 0
		sf = id in held ? held[id] : "-"
		ok = id in held && tf == sf
		reg[p]++
		total++
		if (ok) { same[p]++; matched++ }
		row = sprintf("   %-12s %-7s %-7s %-17s %-17s %s", id, idx, mech, tf, sf, ok ? "yes" : "no")
		if (num >= 1 && num <= lim[p]) shown[p, num] = row
		else if (!ok && nmis < 20) mis[++nmis] = row
	}
	END {
		for (i = 1; i <= np; i++)
			for (k = 1; k <= lim[P[i]]; k++)
				if ((P[i], k) in shown) { print shown[P[i], k]; printed++ }
		for (k = 1; k <= nmis; k++) print mis[k]
		printed += nmis
		if (total > printed)
			printf "   ... %d more, %d of %d registered terminals in all hold the same key\n",
				total - printed, matched, total
		for (i = 1; i <= np; i++) printf "%s %d %d\n", P[i], reg[P[i]], same[P[i]] > out
		printf "all %d %d\n", total, matched > out
	}' "$WORK/bindings" "$WORK"/gkterm-*.out
matched=$(awk '$1 == "all" { print $3 }' "$WORK/matches")
matched=${matched:-0}

say "counters (datagrams passed and dropped by reason)"
# The transaction layers' counters of the command protocols that ran (MGCP, H.248).
txn=$(echo "$PROTOS" | tr ' ' '\n' | grep -E '^(mgcp|h248)$' | paste -sd'|')
txn=${txn:-none}
if [ "$TOPO" = sbc ]; then
	# Fast-path decisions that happened, by name (passes and drops with their reason).
	ctl sbcd stats | grep -E "^(registrations|challenges|protected_passed|($txn)\.txn\.(cmds_in|cmds_sent|retransmissions|gave_up|evicted)|fastpath\.(DROP|PASS)_[A-Z_]*|fastpath.mode|rejects|reason\.)" |
		awk '!($1 ~ /^fastpath\.(DROP|PASS)_/ && $2 == 0)' | sed 's/^/   sbcd        /'
fi
# Through an SBC the softswitch speaks SIP only: its command-protocol layers stay idle.
[ "$TOPO" = sbc ] && txn=none
ctl softswitchd stats | grep -E "^(registrations|sbc_requests|challenges|rejects|accounting_acked|reason\.|($txn)\.txn\.(cmds_in|cmds_sent|retransmissions|duplicates))" | sed 's/^/   softswitchd /'
ctl aucd stats | grep -E '^(access_requests|access_accepts|sessions)' | sed 's/^/   aucd        /'

# One call between two of the SIP terminals, captured on the terminals' side of the access link
# (where the gk-mac trailers are still on: XDP takes them off what it verified) and on the core
# link, then printed as a ladder.
call_rc=0
eval "callcount=\${COUNT_sip:-0} callprefix=\${PREFIX_sip:-}"
if [ "$callcount" -ge 2 ]; then
	caller=${callprefix}1 callee=${callprefix}2
	say "a call: $caller calls $callee through $ELEMENT (both gk-mac terminals)"
	capture_start access "$NS_TERM" "$IF_TERM"
	links="access=$WORK/access.pcapng"
	wait_until 200 capture_canary access "$NS_TERM" "$SERVER_IP" 9
	if [ "$TOPO" = sbc ]; then
		capture_start core "$NS_CORE" "$IF_CORE"
		wait_until 200 capture_canary core "$NS_CORE" "$SBCCORE4" 9
		links="$links core=$WORK/core.pcapng"
	fi
	in_term "$BIN/gkterm" --server "$SERVER_IP:5060" --idsp "$IDSP" \
		--key-file "$WORK/terms/$callee.key" --answer-s 15 >"$WORK/callee.out" 2>&1 &
	CALLEE=$!
	wait_until 100 grep -q "^serving $callee" "$WORK/callee.out"
	in_term "$BIN/gkterm" --server "$SERVER_IP:5060" --idsp "$IDSP" \
		--key-file "$WORK/terms/$caller.key" --call "$callee" --hold-ms 500 >"$WORK/caller.out" 2>&1 ||
		call_rc=1
	kill -TERM "$CALLEE" 2>/dev/null
	wait "$CALLEE" 2>/dev/null
	capture_stop access "$NS_TERM" "$SERVER_IP"
	[ "$TOPO" = sbc ] && capture_stop core "$NS_CORE" "$SBCCORE4"
	grep -E '^(call|downlink_rejected)' "$WORK/caller.out" | sed 's/^/   caller: /'
	grep -E '^(received|downlink_rejected)' "$WORK/callee.out" | sed 's/^/   callee: /'
	callid=$(gk_tshark -n -r "$WORK/access.pcapng" -Y 'sip.Method == "INVITE"' -T fields \
		-e sip.Call-ID 2>/dev/null | head -1)
	echo "   the call's ladder (Call-ID $callid): every datagram, its link, and what protected it"
	printf '   %11s  %-6s %-21s    %-21s  %-44s %s\n' time link from to message protection
	call_ladder "$callid" $links
	grep -q '^call [^ ]* 200 bye 200 ' "$WORK/caller.out" || call_rc=1
fi

say "in sum"
if [ $# -gt 1 ]; then
	printf '   %-6s %10s %10s %12s\n' proto terminals registered "same key"
	while read -r p reg same; do
		[ "$p" = all ] && continue
		eval "count=\$COUNT_$p"
		printf '   %-6s %10s %10s %12s\n' "$p" "$count" "$reg" "$same"
	done <"$WORK/matches"
fi
# Where the fast path ran: a userspace fallback must not pass unnoticed.
fp_ok=0
if [ "$TOPO" = direct ]; then
	echo "   fast path: none in the direct topology (no SBC; softswitchd checks gk-mac itself)"
elif [ "$FP_MODE" = userspace ]; then
	reason=$(fastpath_fallback_reason)
	echo "   fast path: USERSPACE, not XDP: $reason"
	# Where the kernel could run it, the fallback is a defect to look into, not a result.
	[ -r /sys/kernel/btf/vmlinux ] && fp_ok=1
else
	kernel_drops=0
	for c in $(ctl sbcd stats | sed -n 's/^fastpath\.\(DROP_[A-Z_]*\) .*/\1/p'); do
		kernel_drops=$((kernel_drops + $(pinned_stat "$c")))
	done
	echo "   fast path: $FP_MODE on $IF_ACCESS: $kernel_drops abusive datagrams dropped in the kernel," \
		"$(pinned_stat PASS_GKMAC) gk-mac datagrams verified there"
fi
if [ "$callcount" -ge 2 ]; then
	[ "$call_rc" = 0 ] && echo "   call: $caller called $callee, 200 to the INVITE and to the BYE" ||
		echo "   call: FAILED ($(grep -m1 '^call' "$WORK/caller.out"))"
fi
# The last line: how many terminals hold the element's key; what else failed, if anything (the
# lines above say how). The exit status is 0 only when nothing did.
failed=
[ "$rc" = 0 ] || failed="$failed, a terminal's steps (gkterm above)"
[ "$fp_ok" = 0 ] || failed="$failed, the fast path"
[ "$call_rc" = 0 ] || failed="$failed, the call"
echo "result: $matched of $N terminals hold the same key as $ELEMENT${failed:+ (FAILED:${failed#,})}"
[ -z "$failed" ] && [ "$matched" = "$N" ]
