#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# What each daemon holds in RAM idle: the SBC rig with the default configuration (default
# registrar.max_terminals, no terminal registered), sbcd on its userspace fast path (whose tables
# live in sbcd's memory; in XDP they are BPF maps, kernel memory), VmRSS read from /proc once every
# daemon answers on its control socket. The tables grow in steps as terminals register
# (include/gatekey/runtime/steps.h), so this is what an idle daemon costs, not what a full one
# does. Prints "bench <daemon>_idle_rss <MB> MB" lines (and "# " diagnostics) only.
. "$(cd "$(dirname "$0")" && pwd)/rig-lib.sh"

rig_possible || { echo "bench: needs root and network namespaces" >&2; exit 1; }
rig_sbc
provision_sbc
SBC_FASTPATH=${SBC_FASTPATH:-userspace}
start_sbc_topology || exit 1
# The daemons answer their control socket once their tables are set up: read them then.
for d in aucd softswitchd sbcd; do
	eval "pid=\${PID_$d:-}"
	kib=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
	echo "# $d: $(grep -E '^(VmRSS|RssAnon|RssFile|RssShmem):' "/proc/$pid/status" 2>/dev/null |
		tr -s ' \t' ' ' | tr '\n' ' ')"
	echo "bench ${d}_idle_rss $(awk -v k="${kib:-0}" 'BEGIN { printf "%.1f", k / 1024 }') MB"
done
