#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Prometheus /metrics (issue 18): aucd, softswitchd and sbcd in the SBC topology, each with
# metrics.listen set, serve exposition text that promtool accepts without a lint remark, and that
# says what happened: 4 terminals registered over SIP, MGCP and H.248 show as registrations, in
# the latency histogram and per mechanism and protocol; a fifth, with the wrong key, as reasons;
# softswitchd's RADIUS round trips are counted; sbcd's fast-path decisions (XDP per-CPU counters,
# summed) are exported per reason and agree with `gkctl stats`; and every metric the Grafana
# dashboard (contrib/grafana/gatekey.json) queries exists.
. "$(dirname "$0")/lib.sh"
need_root
need_tool curl "curl is not installed (make deps)"
need_tool promtool "promtool is not installed (make deps: prometheus)"
plan 22

rig_sbc
provision_sbc sip1 sip2 mgcp1 h2481
AUCD_CONF_EXTRA="metrics.listen = $CORE4:9461"
SOFTSWITCHD_CONF_EXTRA="metrics.listen = $CORE4:9462"
SBCD_CONF_EXTRA="metrics.listen = $SBCCORE4:9463"
start_sbc_topology || bail "aucd, softswitchd and sbcd do not start"
expect_fastpath
ok 0 "aucd, softswitchd and sbcd start with metrics.listen set"

# scrape <daemon>: its /metrics into $WORK/<daemon>.prom, from its own namespace.
scrape() {
	local ns=$NS_CORE url
	case $1 in
	aucd) url=http://$CORE4:9461/metrics ;;
	softswitchd) url=http://$CORE4:9462/metrics ;;
	sbcd) ns=$NS_SBC url=http://$SBCCORE4:9463/metrics ;;
	esac
	ip netns exec "$ns" curl -sf --max-time 5 -o "$WORK/$1.prom" "$url"
}
# metric <daemon> <sample, as written before its value>: the value, or "absent".
metric() {
	awk -v k="$2" '$1 == k { print $2; found = 1 } END { if (!found) print "absent" }' \
		"$WORK/$1.prom"
}

# --- Four terminals over three protocols, one of them abusive. --------------------------------
n=0
for t in sip1:sip sip2:sip mgcp1:mgcp h2481:h248; do
	id=${t%%:*}
	proto=${t#*:}
	extra=()
	[ "$id" = sip2 ] && extra=(--abuse)
	out=$(PROTO=$proto gkterm_sbc --key-file "$WORK/$id.key" "${extra[@]}" 2>&1)
	if echo "$out" | grep -q "^registered $id "; then
		n=$((n + 1))
	else
		echo "$out" | diag
	fi
done
is "$n" 4 "4 terminals register through sbcd (SIP, SIP, MGCP, H.248)"
# and one with the wrong key, which the core refuses with a reason
printf 'id sip1\nkey %064d\n' 0 >"$WORK/wrong.key"
chmod 600 "$WORK/wrong.key"
gkterm_sbc --key-file "$WORK/wrong.key" >"$WORK/wrong.out" 2>&1
is $? 1 "a terminal with the wrong key is refused"

for d in aucd softswitchd sbcd; do
	scrape "$d"
	ok $? "$d serves /metrics"
	promtool_clean "$WORK/$d.prom"
	ok $? "promtool check metrics: $d's page is valid, without a lint remark"
done

# --- What the pages say. -----------------------------------------------------------------------
is "$(metric sbcd gatekey_registrations_total)" 4 "sbcd: gatekey_registrations_total is 4"
is "$(metric sbcd gatekey_registration_latency_seconds_count)" 4 \
	"sbcd: the registration-latency histogram counted the 4"
is "$(metric sbcd 'gatekey_registration_latency_seconds_bucket{le="+Inf"}')" 4 \
	"sbcd: its +Inf bucket holds all 4"
is "$(metric sbcd 'gatekey_terminals_registered{mech="gk-mac",proto="sip"}') \
$(metric sbcd 'gatekey_terminals_registered{mech="gk-mac",proto="mgcp"}') \
$(metric sbcd 'gatekey_terminals_registered{mech="gk-mac",proto="h248"}') \
$(metric sbcd 'gatekey_terminals_registered{mech="gk-mac",proto="h323"}')" "2 1 1 0" \
	"sbcd: terminals per mechanism and protocol: gk-mac sip 2, mgcp 1, h248 1, h323 0"
tag=$(metric sbcd 'gatekey_fastpath_datagrams_total{reason="drop_bad_tag"}')
is "$tag" "$(stat_of sbcd fastpath.DROP_BAD_TAG)" \
	"sbcd: the fast path's forged-tag drops ($tag) are gkctl stats' fastpath.DROP_BAD_TAG"
[ "$tag" != absent ] && [ "$tag" -ge 1 ]
ok $? "sbcd: the abusive terminal's forged tag is counted in gatekey_fastpath_datagrams_total"
reasons=$(grep -c '^gatekey_fastpath_datagrams_total{reason="' "$WORK/sbcd.prom")
is "$reasons" "$(ctl sbcd stats | grep -c '^fastpath\.[A-Z]')" \
	"sbcd: every fast-path decision counter is exported, one reason label each"
pass=$(metric sbcd 'gatekey_fastpath_datagrams_total{reason="pass_registration"}')
[ "$pass" != absent ] && [ "$pass" -ge 4 ]
ok $? "sbcd: registration-class datagrams passed by the fast path ($pass)"
rtt=$(metric softswitchd gatekey_radius_rtt_seconds_count)
req=$(metric aucd gatekey_access_requests_total)
[ "$rtt" != absent ] && [ "$rtt" -ge 4 ] && [ "$rtt" = "$req" ]
ok $? "softswitchd: the RADIUS round-trip histogram counted each of aucd's $req requests ($rtt)"
grep -q '^# TYPE gatekey_in_progress gauge$' "$WORK/sbcd.prom" &&
	grep -q '^# TYPE gatekey_limit_refusals_total counter$' "$WORK/sbcd.prom" &&
	grep -q '^# HELP gatekey_registrations_total ' "$WORK/sbcd.prom"
ok $? "sbcd: gauges typed gauge, counters counter, each with HELP"
bad=$(metric softswitchd 'gatekey_reasons_total{reason="WRONG_AUTH"}')
[ "$bad" != absent ] && [ "$bad" -ge 1 ] && [ "$bad" = "$(stat_of softswitchd reason.WRONG_AUTH)" ]
ok $? "softswitchd: its wrong answers are gatekey_reasons_total{reason=\"WRONG_AUTH\"} ($bad), as in stats"
# Every metric the Grafana dashboard's queries draw exists on one of the pages.
missing=""
for m in $(grep '"expr"' "$REPO/contrib/grafana/gatekey.json" | grep -o 'gatekey_[a-z0-9_]*' | sort -u); do
	cat "$WORK"/{aucd,softswitchd,sbcd}.prom | grep -q "^$m[{ ]" || missing="$missing $m"
done
is "${missing:-none}" none "every metric contrib/grafana/gatekey.json uses is exported"
code=$(in_sbc curl -s -o /dev/null -w '%{http_code}' "http://$SBCCORE4:9463/")
is "$code" 404 "sbcd: any other path is 404"

exit 0
