#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Reads what svwar (SIPVicious OSS) printed with --debug, one run per extension, and prints the
SIP answer each extension got, with everything that differs by design from one request to the
next blanked out, so that answers a registrar gives a provisioned and an unprovisioned extension
compare as plain strings:

  svwar_answers.py FILE...      (each FILE named <extension>.out)

prints one line per file: "<extension> <answer>", the answer's lines joined by " | ", or
"<extension> none" when no answer to that extension is in the file. svwar --debug prints every
datagram it receives as a Python bytes literal (b'SIP/2.0 ...') on a line of its own; the answer
to the extension is the one whose From names it (svwar first sends a REGISTER for a random
number, to learn what an unknown extension gets).

Blanked: tags, Via branch, Call-ID, nonces (fresh per challenge), the scanner's ports (one per
run) and the extension itself. Kept: status line, every header field name in order, the
challenges' realm, algorithms and qop, Server, Content-Length."""
import ast
import os
import re
import sys


def answer_of(path, ext):
    found = None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if not (line.startswith("b'") or line.startswith('b"')):
                continue
            try:
                text = ast.literal_eval(line).decode("utf-8", "replace")
            except (ValueError, SyntaxError):
                continue
            if re.search(r"^(From|f):[^\r\n]*<sip:%s@" % re.escape(ext), text, re.M | re.I):
                found = text
    return found


def normalise(text, ext):
    t = re.sub(r'nonce="[^"]*"', 'nonce="N"', text)
    t = re.sub(r'opaque="[^"]*"', 'opaque="O"', t)
    t = re.sub(r"tag=[^;\s]*", "tag=T", t)
    t = re.sub(r"branch=[^;\s]*", "branch=B", t)
    t = re.sub(r"^(Call-ID|i):.*$", r"\1: C", t, flags=re.M | re.I)
    t = re.sub(r"rport=\d+", "rport=P", t)
    t = re.sub(r"(SIP/2\.0/UDP [^;\s]*):\d+", r"\1:P", t)
    t = re.sub(r"\b%s\b" % re.escape(ext), "X", t)
    return " | ".join(l for l in t.replace("\r\n", "\n").split("\n") if l)


def main():
    for path in sys.argv[1:]:
        ext = os.path.basename(path)
        if ext.endswith(".out"):
            ext = ext[: -len(".out")]
        a = answer_of(path, ext)
        print(ext, normalise(a, ext) if a is not None else "none")


if __name__ == "__main__":
    main()
