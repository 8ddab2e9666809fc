#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Makes gatekey.conf(5)'s scdoc source: copies the template on stdin to stdout and replaces each
# line "@KEYS <program>@" with what BINDIR/<program> --config-keys=scdoc prints, its own key
# table with the defaults it starts with. The page and --help come from the same table.
set -eu

bindir=$1
while IFS= read -r line; do
	case $line in
	@KEYS\ *@)
		prog=${line#@KEYS }
		prog=${prog%@}
		out=$("$bindir/$prog" --config-keys=scdoc) || {
			echo "man-conf: $bindir/$prog --config-keys=scdoc failed" >&2
			exit 1
		}
		[ -n "$out" ] || {
			echo "man-conf: $bindir/$prog printed no keys" >&2
			exit 1
		}
		printf '%s\n' "$out"
		;;
	*)
		printf '%s\n' "$line"
		;;
	esac
done
