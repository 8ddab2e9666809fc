#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""A minimal plain SIP UA for the Digest tests: registers with RFC 7616 / RFC 8760 Digest
(SHA-256 or MD5, qop=auth) and no GK1, written from the RFCs independently of gatekey's C code,
so that it checks gatekey's challenge and verification rather than agreeing with itself.

Prints one line per step ("registered ...", "options 200", "options-as <user> 0" (no answer),
"replay 401", "request <METHOD> <status> allow=<Allow>", "deregistered ...") and exits 0 when
every step got the expected answer (--request only prints what came back).

--corpus DIR then sends every DIR/*.dat as it is, one at a time from the same address (RFC 4475's
torture messages), and prints "corpus <name> <status>" with the status of the first final
response within --corpus-wait seconds (half a second by default), or "none"; --no-register
sends it from an address that never registered."""
import argparse
import hashlib
import os
import re
import socket
import sys
import time


def h(alg, text):
    name = {"MD5": "md5", "SHA-256": "sha256"}[alg.upper().replace("-SESS", "")]
    return hashlib.new(name, text.encode()).hexdigest()


def parse_challenges(msg):
    out = []
    for line in msg.split("\r\n"):
        m = re.match(r"(?i)www-authenticate:\s*digest\s+(.*)", line)
        if not m:
            continue
        params = dict((k.lower(), v1 if v1 else v2) for k, v1, v2 in
                      re.findall(r'([A-Za-z-]+)=(?:"([^"]*)"|([^,\s]*))', m.group(1)))
        out.append(params)
    return out


class UA:
    def __init__(self, a):
        self.a = a
        fam = socket.AF_INET6 if ":" in a.local_ip else socket.AF_INET
        self.s = socket.socket(fam, socket.SOCK_DGRAM)
        self.s.bind((a.local_ip, a.local_port))
        self.s.settimeout(0.5)
        self.local = "[%s]:%d" % (a.local_ip, a.local_port) if fam == socket.AF_INET6 else \
            "%s:%d" % (a.local_ip, a.local_port)
        self.call_id = os.urandom(8).hex() + "@gatekey-test"
        self.tag = os.urandom(4).hex()
        self.cseq = 0

    def uri(self, user):
        """user at the domain, or user@host as it is"""
        return "sip:" + user if "@" in user else "sip:%s@%s" % (user, self.a.domain)

    def request(self, method, expires=None, auth=None, to_self=True, to_user=None, body=None):
        self.cseq += 1
        aor = "sip:%s@%s" % (self.a.user, self.a.domain)
        lines = [
            "%s %s SIP/2.0" % (method, self.uri(to_user) if to_user and method == "MESSAGE"
                                else "sip:" + self.a.domain),
            "Via: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport" % (self.local, os.urandom(6).hex()),
            "Max-Forwards: 70",
            "From: <%s>;tag=%s" % (aor, self.tag),
            "To: <%s>" % (self.uri(to_user) if to_user else
                          aor if to_self else "sip:" + self.a.domain),
            "Call-ID: " + self.call_id,
            "CSeq: %d %s" % (self.cseq, method),
        ]
        if method == "REGISTER":
            lines.append("Contact: <sip:%s@%s>" % (self.a.user, self.local))
            lines.append("Expires: %d" % expires)
        if auth:
            lines.append("Authorization: " + auth)
        if body and getattr(self.a, "pai", None):
            lines.append("P-Asserted-Identity: " + self.a.pai)
        if body:
            lines += ["User-Agent: gatekey-test-ua", "Content-Type: text/plain",
                      "Content-Length: %d" % len(body), "", body]
            return "\r\n".join(lines)
        lines += ["User-Agent: gatekey-test-ua", "Content-Length: 0", "", ""]
        return "\r\n".join(lines)

    def send(self, text, timer_f=False):
        """Sends text, retransmitting, until a final response to it arrives; returns it.
        Six copies 0.5 s apart (3 s: what a check that expects no answer waits); with timer_f,
        as RFC 3261 17.1.2.2 retransmits a non-INVITE request (T1 doubling up to T2) until
        Timer F, 32 s: a registration on a busy host is given the time a real UA gives it."""
        want_cseq = re.search(r"\r\nCSeq: (\d+ \w+)", text).group(1)
        dest = (self.a.server_ip, self.a.server_port)
        waits = [min(0.5 * 2 ** i, 4.0) for i in range(11)] if timer_f else [0.5] * 6
        try:
            for wait in waits:
                self.s.sendto(text.encode(), dest)
                self.s.settimeout(wait)
                try:
                    while True:
                        data, _src = self.s.recvfrom(65535)
                        msg = data.decode(errors="replace")
                        m = re.search(r"\r\nCSeq:\s*(\d+ \w+)", msg)
                        if msg.startswith("SIP/2.0 ") and m and m.group(1) == want_cseq:
                            code = int(msg.split()[1])
                            if code >= 200:
                                return code, msg
                except socket.timeout:
                    continue
            return 0, ""
        finally:
            self.s.settimeout(0.5)

    def credentials(self, ch, nc=1):
        alg = ch.get("algorithm", "MD5")
        uri = "sip:" + self.a.domain
        cnonce = os.urandom(8).hex()
        ncs = "%08x" % nc
        ha1 = h(alg, "%s:%s:%s" % (self.a.user, ch["realm"], self.a.password))
        ha2 = h(alg, "REGISTER:" + uri)
        resp = h(alg, ":".join([ha1, ch["nonce"], ncs, cnonce, "auth", ha2]))
        return ('Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", '
                'algorithm=%s, qop=auth, nc=%s, cnonce="%s"' %
                (self.a.user, ch["realm"], ch["nonce"], uri, resp, alg, ncs, cnonce))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--server", required=True, help="ip:port or [ip6]:port")
    p.add_argument("--local", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--domain", required=True)
    p.add_argument("--alg", default="SHA-256")
    p.add_argument("--options", action="store_true")
    p.add_argument("--replay", action="store_true")
    p.add_argument("--options-as", metavar="USER",
                   help="then an OPTIONS from the pinned address naming another subscriber: "
                        "it must get no answer")
    p.add_argument("--deregister", action="store_true")
    p.add_argument("--request", metavar="METHOD", action="append", default=[],
                   help="after registering, send METHOD to the domain and print the answer")
    p.add_argument("--corpus", metavar="DIR",
                   help="then send each DIR/*.dat verbatim and print the status it got")
    p.add_argument("--corpus-wait", metavar="S", type=float, default=0.5,
                   help="how long each corpus message waits for its answer (0.5 s)")
    p.add_argument("--message", metavar="USER", action="append", default=[],
                   help="after registering, send a MESSAGE to USER at the domain and print "
                        "the status it got")
    p.add_argument("--call", metavar="USER", action="append", default=[],
                   help="after registering, call USER at the domain: INVITE, ACK its 200 along "
                        "the Record-Route, BYE; prints \"call USER <INVITE status> bye <BYE "
                        "status>\"")
    p.add_argument("--raw", metavar="FILE", action="append", default=[],
                   help="after registering: send FILE's request as it is and print "
                   "'raw <final status>' (0: none)")
    p.add_argument("--cancel", metavar="USER", action="append", default=[],
                   help="after registering: call USER, and once it rings CANCEL the call; "
                   "prints 'cancel USER cancel=<status> invite=<status>'")
    p.add_argument("--ring", action="store_true",
                   help="with --serve: an INVITE only rings (180), until it is cancelled")
    p.add_argument("--hold", metavar="SECONDS", type=float, default=0,
                   help="in each call: wait this long between the ACK and the BYE, after "
                   "printing the dialog (Call-ID and tags) as an in-call line")
    p.add_argument("--pai", metavar="URI",
                   help="put P-Asserted-Identity: URI in the MESSAGEs (an identity it claims)")
    p.add_argument("--serve", metavar="SECONDS", type=float,
                   help="after registering, answer every request 200 for SECONDS and print "
                        "\"received METHOD from=<From> pai=<P-Asserted-Identity> body=<body>\"")
    p.add_argument("--no-register", action="store_true",
                   help="send only the corpus, from an address that never registered")
    a = p.parse_args()

    def split(hp):
        m = re.match(r"\[(.*)\]:(\d+)$", hp) or re.match(r"(.*):(\d+)$", hp)
        return m.group(1), int(m.group(2))

    a.server_ip, a.server_port = split(a.server)
    a.local_ip, a.local_port = split(a.local)
    ua = UA(a)
    ok = True

    if a.no_register:
        return send_corpus(ua, a)
    code, msg = ua.send(ua.request("REGISTER", 600), timer_f=True)
    chals = parse_challenges(msg) if code == 401 else []
    print("challenge %d algorithms=%s" % (code, ",".join(c.get("algorithm", "MD5")
                                                          for c in chals)))
    mine = [c for c in chals if c.get("algorithm", "MD5").upper() == a.alg.upper()]
    if not mine:
        print("no %s challenge" % a.alg)
        return 1
    auth = ua.credentials(mine[0])
    reg = ua.request("REGISTER", 600, auth)
    code, msg = ua.send(reg, timer_f=True)
    m = re.search(r"\r\nExpires:\s*(\d+)", msg)
    print("registered %s alg=%s status=%d expires=%s" %
          (a.user, a.alg, code, m.group(1) if m else "-") if code == 200 else
          "register failed status=%d" % code)
    ok &= code == 200
    if a.options:
        code, _ = ua.send(ua.request("OPTIONS", to_self=False))
        print("options %d" % code)
        ok &= code == 200
    if a.options_as:
        code, _ = ua.send(ua.request("OPTIONS", to_user=a.options_as))
        print("options-as %s %d" % (a.options_as, code))
        ok &= code == 0
    if a.replay:
        # The same credentials again (same nonce and nc) in a new transaction: a replay.
        code, _ = ua.send(ua.request("REGISTER", 600, auth))
        print("replay %d" % code)
        ok &= code == 401
    for method in a.request:
        req = ua.request(method, to_self=False)
        code, msg = ua.send(req)
        m = re.search(r"\r\nAllow:\s*([^\r]*)", msg)
        print("request %s %d allow=%s" % (method, code, m.group(1) if m else "-"))
        if method == "INVITE" and code >= 300:
            # RFC 3261 §17.1.1.3: a final non-2xx answer to INVITE is acknowledged, with the
            # INVITE's branch and CSeq number and the To of the answer.
            to = re.search(r"\r\nTo:\s*([^\r]*)", msg).group(1)
            ack = re.sub(r"^INVITE ", "ACK ", req)
            ack = re.sub(r"\r\nTo: [^\r]*", "\r\nTo: " + to.replace("\\", "\\\\"), ack)
            ack = re.sub(r"\r\nCSeq: (\d+) INVITE", r"\r\nCSeq: \1 ACK", ack)
            ua.s.sendto(ack.encode(), (a.server_ip, a.server_port))
    for path in a.raw:
        with open(path, newline="") as f:  # its CRLFs as they are
            code, _ = ua.send(f.read())
        print("raw %d" % code)
        sys.stdout.flush()
    for user in a.call:
        call(ua, user)
    for user in a.cancel:
        cancel(ua, user)
    for user in a.message:
        req = ua.request("MESSAGE", to_user=user, body="hello " + user)
        # An answer is due, so retransmitted until Timer F, as a UA does: the softswitch may
        # wait for the AuC (a lookup) longer than six copies 0.5 s apart on a loaded host.
        code, msg = ua.send(req, timer_f=True)
        print("message %s %d" % (user, code))
        sys.stdout.flush()
    if a.serve:
        serve(ua, a.serve)
    if a.corpus:
        send_corpus(ua, a)
    if a.deregister:
        code, _ = ua.send(ua.request("REGISTER", 0))
        print("deregistered %s status=%d" % (a.user, code))
        ok &= code == 200
    return 0 if ok else 1


SDP = ("v=0\r\no=- 1 1 IN IP4 198.18.0.2\r\ns=-\r\nc=IN IP4 198.18.0.2\r\nt=0 0\r\n"
       "m=audio 40000 RTP/AVP 0\r\n")


def in_dialog(ua, method, cseq, target, routes, to):
    """A request inside the dialog: to the remote target, along the route set (§12.2.1.1)."""
    lines = ["%s %s SIP/2.0" % (method, target),
             "Via: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport" % (ua.local, os.urandom(6).hex())]
    lines += ["Route: " + r for r in routes]
    lines += ["Max-Forwards: 70", "From: <sip:%s@%s>;tag=%s" % (ua.a.user, ua.a.domain, ua.tag),
              "To: " + to, "Call-ID: " + ua.call_id, "CSeq: %d %s" % (cseq, method),
              "Content-Length: 0", "", ""]
    return "\r\n".join(lines)


def call(ua, user):
    ua.cseq += 1
    inv = "\r\n".join([
        "INVITE %s SIP/2.0" % ua.uri(user),
        "Via: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport" % (ua.local, os.urandom(6).hex()),
        "Max-Forwards: 70",
        "From: <sip:%s@%s>;tag=%s" % (ua.a.user, ua.a.domain, ua.tag),
        "To: <%s>" % ua.uri(user), "Call-ID: " + ua.call_id, "CSeq: %d INVITE" % ua.cseq,
        "Contact: <sip:%s@%s>" % (ua.a.user, ua.local), "Content-Type: application/sdp",
        "Content-Length: %d" % len(SDP), "", SDP])
    code, msg = ua.send(inv)
    if code != 200:
        print("call %s %d" % (user, code))
        return
    to = header(msg, "(?:To|t)")
    contact = re.search(r"<([^>]*)>", header(msg, "(?:Contact|m)"))
    rr = re.findall(r"\r\nRecord-Route:\s*([^\r]*)", msg, re.I)
    routes = list(reversed([v.strip() for h in rr for v in h.split(",")]))
    target = contact.group(1) if contact else ua.uri(user)
    ua.s.sendto(in_dialog(ua, "ACK", ua.cseq, target, routes, to).encode(),
                (ua.a.server_ip, ua.a.server_port))
    if ua.a.hold:
        import time
        ttag = re.search(r";tag=([^;>\s]*)", to)
        print("in-call %s call-id=%s from-tag=%s to-tag=%s target=%s" %
              (user, ua.call_id, ua.tag, ttag.group(1) if ttag else "-", target))
        sys.stdout.flush()
        time.sleep(ua.a.hold)
    ua.cseq += 1
    bcode, _ = ua.send(in_dialog(ua, "BYE", ua.cseq, target, routes, to))
    print("call %s %d bye %d route=%s" % (user, code, bcode, ",".join(routes) or "-"))
    sys.stdout.flush()


def cancel(ua, user):
    """INVITE user, CANCEL it once it rings (§9.1), ACK the 487 (§17.1.1.3)."""
    ua.cseq += 1
    via = "Via: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport" % (ua.local, os.urandom(6).hex())
    common = ["Max-Forwards: 70", "From: <sip:%s@%s>;tag=%s" % (ua.a.user, ua.a.domain, ua.tag),
              "To: <%s>" % ua.uri(user), "Call-ID: " + ua.call_id]
    inv = "\r\n".join(["INVITE %s SIP/2.0" % ua.uri(user), via] + common + [
        "CSeq: %d INVITE" % ua.cseq, "Contact: <sip:%s@%s>" % (ua.a.user, ua.local),
        "Content-Type: application/sdp", "Content-Length: %d" % len(SDP), "", SDP])
    dest = (ua.a.server_ip, ua.a.server_port)
    got = {}
    ua.s.sendto(inv.encode(), dest)
    import time
    end = time.time() + 8
    sent_cancel = False
    while time.time() < end and not ("CANCEL" in got and "INVITE" in got):
        try:
            data, _src = ua.s.recvfrom(65535)
        except socket.timeout:
            continue
        msg = data.decode(errors="replace")
        m = re.search(r"\r\nCSeq:\s*(\d+) (\w+)", msg)
        if not msg.startswith("SIP/2.0 ") or not m or int(m.group(1)) != ua.cseq:
            continue
        code = int(msg.split()[1])
        if m.group(2) == "INVITE" and 100 < code < 200 and not sent_cancel:
            can = "\r\n".join(["CANCEL %s SIP/2.0" % ua.uri(user), via] + common + [
                "CSeq: %d CANCEL" % ua.cseq, "Content-Length: 0", "", ""])
            ua.s.sendto(can.encode(), dest)
            sent_cancel = True
        elif code >= 200:
            got[m.group(2)] = code
            if m.group(2) == "INVITE" and code >= 300:
                to = header(msg, "(?:To|t)")
                ack = "\r\n".join(["ACK %s SIP/2.0" % ua.uri(user), via] + common[:2] + [
                    "To: " + to, "Call-ID: " + ua.call_id, "CSeq: %d ACK" % ua.cseq,
                    "Content-Length: 0", "", ""])
                ua.s.sendto(ack.encode(), dest)
    print("cancel %s cancel=%d invite=%d" % (user, got.get("CANCEL", 0), got.get("INVITE", 0)))
    sys.stdout.flush()


def header(msg, name):
    m = re.search(r"\r\n%s:\s*([^\r]*)" % name, msg, re.I)
    return m.group(1) if m else "-"


def serve(ua, seconds):
    """Answers each request 200 (its Vias, From, To with a tag, Call-ID and CSeq)."""
    import time
    end = time.time() + seconds
    ringing = {}  # Call-ID: (the INVITE's Vias..CSeq, its To with our tag, its source)
    print("serving")
    sys.stdout.flush()
    while time.time() < end:
        ua.s.settimeout(max(0.05, end - time.time()))
        try:
            data, src = ua.s.recvfrom(65535)
        except socket.timeout:
            break
        msg = data.decode(errors="replace")
        if msg.startswith("SIP/2.0"):
            continue
        head, _, body = msg.partition("\r\n\r\n")
        lines = head.split("\r\n")
        method = lines[0].split(" ")[0]
        keep = [l for l in lines[1:] if re.match(r"(?i)(via|v|from|f|call-id|i|cseq):", l)]
        to = [l for l in lines[1:] if re.match(r"(?i)(to|t):", l)]
        to = to[0] + ("" if ";tag=" in to[0] else ";tag=" + ua.tag) if to else "To: -"
        if method == "ACK":
            pass
        elif method == "CANCEL":
            resp = ["SIP/2.0 200 OK"] + keep + [to, "Content-Length: 0", "", ""]
            ua.s.sendto("\r\n".join(resp).encode(), src)
            inv = ringing.pop(header(msg, "(?:Call-ID|i)"), None)
            if inv:  # §9.2: the INVITE it cancels ends with 487
                ended = ["SIP/2.0 487 Request Terminated"] + inv[0] + [inv[1], "Content-Length: 0",
                                                                       "", ""]
                ua.s.sendto("\r\n".join(ended).encode(), inv[2])
        elif method == "INVITE":
            rr = [l for l in lines[1:] if re.match(r"(?i)record-route:", l)]
            ring = ["SIP/2.0 180 Ringing"] + keep + [to] + rr + ["Content-Length: 0", "", ""]
            ua.s.sendto("\r\n".join(ring).encode(), src)
            if ua.a.ring:
                ringing[header(msg, "(?:Call-ID|i)")] = (keep, to, src)
                print("received INVITE from=%s pai=%s ringing" % (header(msg, "(?:From|f)"),
                      header(msg, "P-Asserted-Identity")))
                sys.stdout.flush()
                continue
            ok = ["SIP/2.0 200 OK"] + keep + [to] + rr + [
                "Contact: <sip:%s@%s>" % (ua.a.user, ua.local), "Content-Type: application/sdp",
                "Content-Length: %d" % len(SDP), "", SDP]
            ua.s.sendto("\r\n".join(ok).encode(), src)
        else:
            resp = ["SIP/2.0 200 OK"] + keep + [to, "Content-Length: 0", "", ""]
            ua.s.sendto("\r\n".join(resp).encode(), src)
        print("received %s from=%s pai=%s body=%s" % (lines[0].split(" ")[0],
              header(msg, "(?:From|f)"), header(msg, "P-Asserted-Identity"), body.strip()))
        sys.stdout.flush()


def call_id_of(data):
    m = re.search(rb"\r?\n(?:Call-ID|i)[ \t]*:[ \t]*([^\r\n]*)", data, re.I)
    return m.group(1).strip() if m else None


def send_corpus(ua, a):
    """Each message once, as it is; the first answer within --corpus-wait is its answer."""
    for name in sorted(f for f in os.listdir(a.corpus) if f.endswith(".dat")):
        with open(os.path.join(a.corpus, name), "rb") as f:
            data = f.read()
        ua.s.setblocking(False)  # what came late for the previous one is not this one's
        try:
            while True:
                ua.s.recvfrom(65535)
        except (BlockingIOError, socket.timeout):
            pass
        ua.s.sendto(data, (a.server_ip, a.server_port))
        cid = call_id_of(data)
        status = "none"
        deadline = time.monotonic() + a.corpus_wait
        try:
            while True:
                ua.s.settimeout(max(deadline - time.monotonic(), 0.001))
                got, _src = ua.s.recvfrom(65535)
                # a provisional (a proxy's 100 Trying) is not the answer, nor a final the
                # element repeats for an earlier message (an INVITE's, until its ACK)
                if (got.startswith(b"SIP/2.0 ") and len(got) > 11 and got[8:9] != b"1"
                        and call_id_of(got) in (cid, None)):
                    status = got[8:11].decode(errors="replace")
                    break
        except socket.timeout:
            pass
        print("corpus %s %s" % (name[:-4], status))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
