# SPDX-License-Identifier: GPL-2.0-only
# Drops the paragraph macros scdoc writes where there is no paragraph (after .TH, .SH or .SS,
# before another .P or a heading, at the end), which mandoc -Tlint -W warning reports as "PP
# empty" and "PP after SH"; a .P before .RE moves after it, so the next item still starts a
# paragraph. Everything else passes through unchanged.
function flush() {
	if (pending) {
		print ".P"
		pending = 0
	}
}
/^\.\\"/ { print; next }
/^\.P$/ {
	if (last !~ /^\.(TH|SH|SS|P)( |$)/ && last != "")
		pending = 1
	next
}
/^\.RE$/ { print; last = $0; next }
/^\.(SH|SS)( |$)/ { pending = 0; print; last = $0; next }
{ flush(); print; last = $0 }
