#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# What tshark sees on the terminals' link once they registered with ipsec-3gpp, in each protocol and
# topology: test_ipsec_daemons captures it in the guest (which has no tshark) and prints it as a
# pcap, which tests/vm/run.sh writes into GK_VM_OUT. Here, on the host, Wireshark's dissectors read
# each one: ESP, no signalling and no UDP in the clear, and no malformed packet. The protocol
# hierarchy of each is printed. Run by make check-vm after the guest.
. "$(dirname "$0")/../e2e/tap.sh"
out=${GK_VM_OUT:?GK_VM_OUT names the directory of the guest\'s captures}
command -v tshark >/dev/null || bail "tshark is not installed (make deps)"
captures=(sip-direct sip-sbc h323-direct h323-sbc mgcp-direct mgcp-sbc h248-direct h248-sbc)
plan $((3 * ${#captures[@]}))

count() { # count <pcap> <display filter>: frames that match
	tshark -n -r "$1" -Y "$2" 2>/dev/null | wc -l
}
for c in "${captures[@]}"; do
	f=$out/$c.pcap
	if ! tshark -n -r "$f" -q 2>/dev/null; then
		ok 1 "$c: the guest's capture is there and tshark reads it ($f)"
		ok 1 "$c: ESP carried the terminals' signalling"
		ok 1 "$c: nothing in the clear, nothing malformed"
		continue
	fi
	ok 0 "$c: the guest's capture is there and tshark reads it"
	tshark -n -r "$f" -q -z io,phs 2>/dev/null | grep -v '^=*$' | sed "s/^/$c: /" | diag
	esp=$(count "$f" esp)
	[ "$esp" -ge 3 ]
	ok $? "$c: ESP carried the terminals' signalling ($esp ESP packets)"
	clear=$(count "$f" 'udp || sip || mgcp || megaco || h225 || radius')
	malformed=$(count "$f" '_ws.malformed || _ws.expert.severity == error')
	[ "$clear" = 0 ] && [ "$malformed" = 0 ]
	ok $? "$c: nothing in the clear ($clear UDP or signalling packets), nothing malformed ($malformed)"
done
finish
