#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The registration figures of an earlier revision, measured in the same run as today's: the
# revision (BENCH_BASELINE_REV, default 01fbc89, where the capacity work started) is checked out
# from this clone's history into a temporary worktree, built there, and run with its own rig
# scripts. Prints its "bench" lines renamed "bench baseline_<rev>_<name> <value> <unit>".
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
REV=${BENCH_BASELINE_REV:-01fbc89}

if ! git -C "$REPO" cat-file -e "$REV^{commit}" 2>/dev/null; then
	echo "bench: baseline $REV is not in this clone's history (a shallow clone?)" >&2
	exit 1
fi
DIR=$(mktemp -d /tmp/gk-baseline.XXXXXX)
trap 'git -C "$REPO" worktree remove --force "$DIR" >/dev/null 2>&1; rm -rf "$DIR" "$DIR.log"' EXIT
git -C "$REPO" worktree add --detach "$DIR" "$REV" >/dev/null 2>&1 || {
	echo "bench: cannot check out $REV" >&2
	exit 1
}
if ! make -C "$DIR" -j"$(nproc)" all >"$DIR.log" 2>&1; then
	echo "bench: baseline $REV does not build here; the end of its log:" >&2
	tail -n 20 "$DIR.log" >&2
	exit 1
fi
for topo in direct sbc; do
	GK_BUILD="$DIR/build" "$DIR/tools/bench-reg.sh" "$topo" |
		sed -n "s/^bench \(.*\)/bench baseline_${REV}_\1/p"
done
