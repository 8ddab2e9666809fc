#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Sends one UDP datagram over IPv4 from any source address and port, through a raw socket, as an
attacker on the core network who spoofs a peer's address would: the SBC's core socket is
connected to the softswitch's ip:port, so only a datagram from exactly that address reaches it.

  udp_inject.py SRC-IP:PORT DST-IP:PORT (--hex HEX | --text TEXT) [--bogus-trailer]

--text takes \\r\\n escapes; --bogus-trailer appends a gk-mac trailer (trailer.h) with a fresh
epoch, sequence 1 and a random tag, i.e. the best an attacker without the key can do."""
import argparse
import os
import socket
import struct
import time


def addr(s):
    host, port = s.rsplit(":", 1)
    return socket.inet_aton(host), int(port)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("--hex")
    p.add_argument("--text")
    p.add_argument("--bogus-trailer", action="store_true")
    a = p.parse_args()
    payload = bytes.fromhex(a.hex) if a.hex else a.text.encode().decode("unicode_escape").encode("latin-1")
    if a.bogus_trailer:
        payload += b"GK\x01\x00" + struct.pack(">IQ", int(time.time()), 1) + os.urandom(16)
    (sip, sport), (dip, dport) = addr(a.src), addr(a.dst)
    udp = struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload  # IPv4: no checksum
    # The kernel fills in the IP checksum and the total length (raw(7), IP_HDRINCL).
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 0, 0, 0x4000, 64, socket.IPPROTO_UDP, 0, sip, dip)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.sendto(ip + udp, (socket.inet_ntoa(dip), 0))


if __name__ == "__main__":
    main()
