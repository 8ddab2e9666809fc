#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Direct topology over SIP (patent claims 1-8): terminal <-> softswitchd <-> aucd in network
# namespaces. The terminal and the softswitch end up with the same fresh key, and every negative
# path is refused with its reason counted.
. "$(dirname "$0")/lib.sh"
need_root
plan 28

rig_direct
provision term1 term2 term3 term4 term5 term6
gkctl bulk-add bulk 50 --out-dir "$WORK/bulk" >/dev/null
start_core || bail "aucd and softswitchd do not start"
ok 0 "aucd and softswitchd start in the core namespace"

# --- One terminal: the fingerprints match at both ends. -------------------------------------
out=$(gkterm_direct --key-file "$WORK/term1.key")
rc=$?
echo "$out" | diag
ok $rc "term1 registers with softswitchd over SIP"
tfpr=$(echo "$out" | sed -n 's/^registered term1 .*fpr=\([0-9a-f]*\).*/\1/p')
sfpr=$(ctl softswitchd bindings | sed -n 's/^term1 .*fpr=\([0-9a-f]*\).*/\1/p')
[ -n "$tfpr" ] && [ ${#tfpr} = 16 ]
ok $? "gkterm prints a 16-hex-digit key fingerprint ($tfpr)"
is "$sfpr" "$tfpr" "softswitchd holds the same session key as the terminal"
grep -q "registered term1 .*fpr=$tfpr" "$WORK/softswitchd.log"
ok $? "softswitchd logs the same fingerprint for the registration"

# A second registration delivers a fresh key.
out2=$(gkterm_direct --key-file "$WORK/term1.key")
tfpr2=$(echo "$out2" | sed -n 's/^registered term1 .*fpr=\([0-9a-f]*\).*/\1/p')
[ -n "$tfpr2" ] && [ "$tfpr2" != "$tfpr" ]
ok $? "re-registration delivers a fresh key ($tfpr2)"

# --- Over IPv6 too. -------------------------------------------------------------------------
out=$(in_term "$BIN/gkterm" --server "[$CORE6]:5060" --idsp ss1 --key-file "$WORK/term2.key")
ok $? "term2 registers over IPv6"

# --- A batch: every fingerprint matches softswitchd's binding. -------------------------------
out=$(gkterm_direct --prefix bulk --count 50 --key-dir "$WORK/bulk" --window 16)
rc=$?
echo "$out" | tail -n 1 | diag
ok $rc "50 terminals register in one run"
ctl softswitchd bindings >"$WORK/bindings"
mismatch=0
while read -r word id rest; do
	[ "$word" = registered ] || continue
	f=${rest##*fpr=}
	grep -q "^$id .*fpr=$f" "$WORK/bindings" || mismatch=$((mismatch + 1))
done <<<"$out"
is "$mismatch" 0 "all 50 terminal fingerprints match softswitchd's bindings"

# --- Protected traffic and deregistration. ---------------------------------------------------
out=$(gkterm_direct --key-file "$WORK/term3.key" --options 5 --deregister)
rc=$?
echo "$out" | diag
ok $rc "term3 exchanges 5 gk-mac protected OPTIONS and deregisters"
ctl softswitchd bindings | grep -q '^term3 '
is $? 1 "after deregistration softswitchd has no binding for term3"

# --- Wrong Kc: refused, then locked out. ----------------------------------------------------
gkctl subscriber add evil --out "$WORK/evil-real.key" >/dev/null
printf 'id term4\nkey %064d\n' 0 >"$WORK/term4-wrong.key"
chmod 600 "$WORK/term4-wrong.key"
before=$(stat_of softswitchd reason.WRONG_AUTH)
out=$(gkterm_direct --key-file "$WORK/term4-wrong.key")
rc=$?
echo "$out" | diag
is $rc 1 "a terminal with the wrong Kc does not register"
echo "$out" | grep -q '^failed term4 reason=REFUSED'
ok $? "gkterm reports the refusal"
after=$(stat_of softswitchd reason.WRONG_AUTH)
is $((after - before)) 3 "softswitchd counted 3 wrong answers (a fresh challenge after each)"
ge=$(stat_of softswitchd reason.LOCKED_OUT)
[ "$ge" -ge 1 ]
ok $? "term4 is locked out after 3 wrong answers"
out=$(gkterm_direct --key-file "$WORK/term4.key")
is $? 1 "while locked out, even the right key is refused"

# An unknown IDc gets the same treatment as a wrong key.
printf 'id nobody\nkey %064d\n' 1 >"$WORK/nobody.key"
chmod 600 "$WORK/nobody.key"
before=$(stat_of softswitchd challenges)
out=$(gkterm_direct --key-file "$WORK/nobody.key")
after=$(stat_of softswitchd challenges)
echo "$out" | grep -q '^failed nobody reason=REFUSED' && [ $((after - before)) = 3 ]
ok $? "an unknown IDc is challenged 3 times and refused, like a wrong key"

# --- Replay of the ANSWER (same N1'/N2). -----------------------------------------------------
out=$(gkterm_direct --key-file "$WORK/term5.key" --replay-answer)
rc=$?
echo "$out" | diag
echo "$out" | grep -q '^replay refused=1 accepted=0'
ok $? "a replayed second REGISTER (same N1/N2) registers nothing new (the same success again)"

# --- Stale timestamp. -----------------------------------------------------------------------
before=$(stat_of softswitchd reason.STALE_TS)
out=$(gkterm_direct --key-file "$WORK/term6.key" --ts-offset -120)
rc=$?
after=$(stat_of softswitchd reason.STALE_TS)
[ $rc = 1 ] && [ $((after - before)) -ge 1 ]
ok $? "a timestamp 120 s in the past is refused (STALE_TS counted)"

# --- Tampered mechanism lists. ---------------------------------------------------------------
# The man in the middle downgrades the offer on its way up; the softswitch then MACs the
# tampered list, and the terminal sees its own list changed.
# softswitchd allows digest so that the downgraded offer changes its choice (tls, offered above
# digest, is never chosen: registrar.mechanisms refuses it, not implemented).
stop_daemon softswitchd
sed -i 's/^registrar.lockout.*/&\nregistrar.mechanisms = gk-mac digest/' "$WORK/softswitchd.conf"
start_daemon softswitchd "$NS_CORE" -c "$WORK/softswitchd.conf"
ip netns exec "$NS_CORE" "$BIN/gkmitm" --listen "$CORE4:5070" --forward "$CORE4:5060" \
	--edit-up 'gk-mac;q=0.9|gk-mac;q=0.1' 2>>"$WORK/mitm.log" &
mitm=$!
PIDS+=($mitm)
wait_until 50 grep -q ready "$WORK/mitm.log"
out=$(in_term "$BIN/gkterm" --server "$CORE4:5070" --idsp ss1 --key-file "$WORK/term5.key" \
	--mechs 'gk-mac;q=0.9,tls;q=0.7,digest;q=0.5')
rc=$?
echo "$out" | diag
echo "$out" | grep -q 'reason=MECH_DOWNGRADE'
ok $? "a mechanism list tampered on the way up is detected by the terminal"
kill $mitm

# The man in the middle changes the echoed list in the 200 OK: the MAC no longer verifies.
ip netns exec "$NS_CORE" "$BIN/gkmitm" --listen "$CORE4:5071" --forward "$CORE4:5060" \
	--edit-down 'digest;q=0.5|digest;q=0.6' 2>>"$WORK/mitm2.log" &
PIDS+=($!)
wait_until 50 grep -q ready "$WORK/mitm2.log"
out=$(in_term "$BIN/gkterm" --server "$CORE4:5071" --idsp ss1 --key-file "$WORK/term5.key" \
	--mechs 'gk-mac;q=0.9,tls;q=0.7,digest;q=0.5')
echo "$out" | diag
echo "$out" | grep -q 'reason=BAD_RESPONSE_MAC'
ok $? "a mechanism list tampered in the 200 OK fails the response MAC at the terminal"

# --- RADIUS: Message-Authenticator is required; radclient interoperates. ---------------------
mkdir -p "$WORK/dict"
printf '$INCLUDE /usr/share/freeradius/dictionary\n$INCLUDE %s/docs/dictionary.gatekey\n' \
	"$REPO" >"$WORK/dict/dictionary"
radreq() { # radreq <secret> <attributes>
	printf '%s\n' "$2" | in_core radclient -d "$WORK/dict" -r 1 -t 1 -x "$CORE4:1812" auth "$1" 2>&1
}
before=$(stat_of aucd drop.PARSE_MISSING)
out=$(radreq "$RADIUS_SECRET" 'User-Name = "term1", GK-Element-Id = "ss1"')
after=$(stat_of aucd drop.PARSE_MISSING)
echo "$out" | grep -q 'Received Access-Accept'
is $? 1 "aucd does not answer a request without Message-Authenticator"
is $((after - before)) 1 "aucd counts it under PARSE_MISSING"
before=$(stat_of aucd drop.PARSE_BAD_AUTH)
out=$(radreq "wrong-$RADIUS_SECRET" 'User-Name = "term1", GK-Element-Id = "ss1", Message-Authenticator = 0x00')
after=$(stat_of aucd drop.PARSE_BAD_AUTH)
echo "$out" | grep -q 'Received Access-Accept'
[ $? = 1 ] && [ $((after - before)) -ge 1 ]
ok $? "a request with a wrong Message-Authenticator is dropped and counted"
out=$(radreq "$RADIUS_SECRET" 'User-Name = "term1", GK-Element-Id = "ss1", Message-Authenticator = 0x00')
echo "$out" | diag
echo "$out" | grep -q 'Received Access-Accept' && echo "$out" | grep -q 'GK-Rand'
ok $? "radclient gets a valid Access-Accept with a vector for a provisioned IDc"

# --- A retransmitted request gets the first answer again (RFC 5080 §2.2.2), not a second vector.
# One Access-Request, byte for byte twice, from the same socket: two identical Access-Accepts.
resend_same_request() { # resend_same_request <secret>: prints "<len> <same?>" of the two answers
	in_core python3 -c '
import hashlib, hmac, os, socket, struct, sys
secret = sys.argv[1].encode()
def attr(t, v): return bytes([t, 2 + len(v)]) + v
vsa = attr(26, struct.pack(">I", 32473) + attr(1, b"ss1"))
body = attr(1, b"term1") + vsa + attr(80, bytes(16))
auth = os.urandom(16)
pkt = bytearray(struct.pack(">BBH", 1, 42, 20 + len(body)) + auth + body)
pkt[-16:] = hmac.new(secret, bytes(pkt), hashlib.md5).digest()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.bind((sys.argv[2], 0))
got = []
for _ in range(2):
    s.sendto(pkt, (sys.argv[2], 1812))
    got.append(s.recv(4096))
print(len(got[0]), got[0][0], "same" if got[0] == got[1] else "different")
' "$1" "$CORE4"
}
before_req=$(stat_of aucd access_requests)
before_dup=$(stat_of aucd duplicates_answered)
out=$(resend_same_request "$RADIUS_SECRET")
echo "$out" | diag
[[ "$out" =~ ^[0-9]+\ 2\ same$ ]]
ok $? "a retransmitted Access-Request gets the same Access-Accept, byte for byte"
is "$(($(stat_of aucd access_requests) - before_req)) $(($(stat_of aucd duplicates_answered) - before_dup))" \
	"1 1" "aucd processes it once and counts the retransmission"

# --- Subscribers survive an aucd restart. ---------------------------------------------------
stop_daemon aucd
start_daemon aucd "$NS_CORE" -c "$WORK/aucd.conf"
out=$(gkterm_direct --key-file "$WORK/term2.key")
rc=$?
# Seen once in a full run and never alone: what gkterm and both daemons said, should it recur.
if [ $rc != 0 ]; then
	echo "$out" | diag
	tail -n 20 "$WORK/softswitchd.log" | diag
	tail -n 20 "$WORK/aucd.log" | diag
fi
ok $rc "after an aucd restart the subscribers are still there and register"

finish
