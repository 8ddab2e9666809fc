#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Prometheus /metrics in the direct topology (issue 18), where softswitchd is the front itself:
# its page passes promtool, and its registration-latency histogram and terminals per mechanism
# and protocol show a gk-mac terminal over SIP, one over MGCP and a plain Digest UA over SIP,
# beside its RADIUS round trips (t_metrics.sh covers the SBC topology).
. "$(dirname "$0")/lib.sh"
need_root
need_tool curl "curl is not installed (make deps)"
need_tool promtool "promtool is not installed (make deps: prometheus)"
plan 8

rig_direct
provision s1 m1 dg1
SOFTSWITCHD_CONF_EXTRA="metrics.listen = [$CORE6]:9462
registrar.mechanisms = gk-mac digest"
start_core || bail "aucd and softswitchd do not start"
ok 0 "aucd and softswitchd start, softswitchd with metrics.listen on IPv6"

n=0
PROTO=sip gkterm_direct --key-file "$WORK/s1.key" >"$WORK/s1.out" 2>&1 && n=$((n + 1))
PROTO=mgcp gkterm_direct --key-file "$WORK/m1.key" >"$WORK/m1.out" 2>&1 && n=$((n + 1))
PROTO=sip gkterm_direct --digest SHA-256 --key-file "$WORK/dg1.key" >"$WORK/dg1.out" 2>&1 &&
	n=$((n + 1))
[ "$n" = 3 ] || cat "$WORK"/{s1,m1,dg1}.out | diag
is "$n" 3 "3 terminals register with softswitchd (gk-mac SIP, gk-mac MGCP, Digest SIP)"

in_core curl -sf --max-time 5 -o "$WORK/softswitchd.prom" "http://[$CORE6]:9462/metrics"
ok $? "softswitchd serves /metrics over IPv6"
promtool_clean "$WORK/softswitchd.prom"
ok $? "promtool check metrics: the page is valid, without a lint remark"

metric() {
	awk -v k="$1" '$1 == k { print $2; found = 1 } END { if (!found) print "absent" }' \
		"$WORK/softswitchd.prom"
}
is "$(metric gatekey_registrations_total)" 3 "gatekey_registrations_total is 3"
is "$(metric gatekey_registration_latency_seconds_count)" 3 "the latency histogram counted the 3"
is "$(metric 'gatekey_terminals_registered{mech="gk-mac",proto="sip"}') \
$(metric 'gatekey_terminals_registered{mech="gk-mac",proto="mgcp"}') \
$(metric 'gatekey_terminals_registered{mech="digest",proto="sip"}')" "1 1 1" \
	"terminals per mechanism and protocol: gk-mac sip 1, gk-mac mgcp 1, digest sip 1"
rtt=$(metric gatekey_radius_rtt_seconds_count)
is "$rtt" "$(stat_of softswitchd auc_requests)" "the RADIUS round-trip histogram counted every request ($rtt)"

exit 0
