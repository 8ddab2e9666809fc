#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Sends one UDP datagram over IPv4 from any source address and port, through a raw socket, as an
attacker on the core network who spoofs a peer's address would: the SBC's core socket is
connected to the softswitch's ip:port, so only a datagram from exactly that address reaches it.

  udp_inject.py SRC-IP:PORT DST-IP:PORT (--hex HEX | --text TEXT) [--bogus-trailer]
  udp_inject.py --batch FILE

--text takes \\r\\n escapes; --bogus-trailer appends a gk-mac trailer (trailer.h) with a fresh
epoch, sequence 1 and a random tag, i.e. the best an attacker without the key can do. --batch
sends every line "SRC-IP:PORT DST-IP:PORT HEX" of FILE in order, as a replaying attacker sends
a capture back."""
import argparse
import os
import socket
import struct
import time


def addr(s):
    host, port = s.rsplit(":", 1)
    return socket.inet_aton(host), int(port)


def send(s, src, dst, payload):
    (sip, sport), (dip, dport) = addr(src), addr(dst)
    udp = struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload  # IPv4: no checksum
    # The kernel fills in the IP checksum and the total length (raw(7), IP_HDRINCL).
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 0, 0, 0x4000, 64, socket.IPPROTO_UDP, 0, sip, dip)
    s.sendto(ip + udp, (socket.inet_ntoa(dip), 0))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("src", nargs="?")
    p.add_argument("dst", nargs="?")
    p.add_argument("--hex")
    p.add_argument("--text")
    p.add_argument("--bogus-trailer", action="store_true")
    p.add_argument("--batch")
    a = p.parse_args()
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    if a.batch:
        with open(a.batch) as f:
            for line in f:
                src, dst, hexdata = line.split()
                send(s, src, dst, bytes.fromhex(hexdata))
        return
    if not (a.src and a.dst) or not (a.hex or a.text):
        p.error("SRC and DST, and --hex or --text, are needed without --batch")
    payload = bytes.fromhex(a.hex) if a.hex else a.text.encode().decode("unicode_escape").encode("latin-1")
    if a.bogus_trailer:
        payload += b"GK\x01\x00" + struct.pack(">IQ", int(time.time()), 1) + os.urandom(16)
    send(s, a.src, a.dst, payload)


if __name__ == "__main__":
    main()
