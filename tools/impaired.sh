#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Registrations over impaired links (make impaired): every link of the SBC topology runs through
# tools/gkimpair, which loses, duplicates, delays and reorders frames both ways (IMPAIR, default
# "5 1 20 10": 5 % loss, 1 % duplication, 20 ms +/- 10 ms). IMPAIRED_N terminals of each of the
# four protocols register through sbcd and deregister. Prints, per protocol, how many completed
# and the latency distribution, then the AuC's Start and Stop counts, what is left pending, and
# what each link did. Prints "impaired" lines only, and asserts nothing: docs/durability.md says
# what this run still shows to fail, and why.
. "$(cd "$(dirname "$0")" && pwd)/rig-lib.sh"

N=${IMPAIRED_N:-100}
PROTOS="sip mgcp h248 h323"
export IMPAIR=${IMPAIR:-5 1 20 10}
rig_possible || { echo "impaired: needs root and network namespaces" >&2; exit 1; }
rig_sbc
provision_sbc
for p in $PROTOS; do
	gkctl bulk-add "$p" "$N" --out-dir "$WORK/keys-$p" >/dev/null || exit 1
done
start_sbc_topology || exit 1
echo "impaired links $LINKS_IMPAIRED loss_pct dup_pct delay_ms jitter_ms: $IMPAIR"

register_deregister() { # register_deregister <proto>
	PROTO=$1 gkterm_sbc --key-dir "$WORK/keys-$1" --prefix "$1" --count "$N" --window 25 \
		--deregister --histogram >"$WORK/run-$1.out" 2>&1
}
in_parallel register_deregister
for p in $PROTOS; do
	sed -n "s/^summary /impaired $p /p; s/^deregistered \([0-9][0-9]*\)$/impaired $p deregistered=\1/p; s/^failures\./impaired $p failures./p; s/^histogram /impaired $p histogram /p" \
		"$WORK/run-$p.out"
done
nothing_pending() {
	[ "$(stat_of sbcd in_progress)" = 0 ] && [ "$(stat_of softswitchd core_in_progress)" = 0 ]
}
wait_until 400 nothing_pending
echo "impaired aucd accounting_start=$(stat_of aucd accounting_start)" \
	"accounting_stop=$(stat_of aucd accounting_stop) (of $((4 * N)) sessions)"
echo "impaired sbcd in_progress=$(stat_of sbcd in_progress) records=$(stat_of sbcd records)" \
	"rejects_overload=$(stat_of sbcd rejects_overload) core_resent=$(stat_of sbcd core_resent)" \
	"stale_answers=$(stat_of sbcd stale_answers) unbound_resent=$(stat_of sbcd unbound_resent)" \
	"unbound_given_up=$(stat_of sbcd unbound_given_up)"
echo "impaired softswitchd core_in_progress=$(stat_of softswitchd core_in_progress)" \
	"sbc_resent=$(stat_of softswitchd sbc_resent)" \
	"core_stale_answers=$(stat_of softswitchd core_stale_answers)"
impair_report | sed 's/^/impaired /'
