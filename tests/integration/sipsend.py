#!/usr/bin/env python3
"""sipsend.py — send raw SIP message(s) over UDP or TCP and print what comes back.

For malformed-message and torture tests (RFC 3261 §16.3, RFC 4475): the bytes are
sent as they are (files or stdin), except that --rport adds ";rport" to the first
Via value (RFC 3581) so the answer comes back to our socket instead of the Via's
sent-by, and --subst KEY=VALUE replaces the text KEY.

Output, one line per message received within --wait seconds:
    STATUS <code> <reason>        for a response
    REQUEST <method> <uri>        for a request
    IGNORED <first line>          for a message of another call (its Call-ID is none
                                  of those sent: e.g. a late retransmitted 483 of an
                                  earlier INVITE sent from the same port)
followed by the full message when --full is given. Exit 0 always, unless the
socket could not be opened (2).
"""
import argparse
import re
import select
import socket
import sys
import time


def split_hostport(s):
    if s.startswith("["):
        host, _, port = s[1:].partition("]:")
        return host, int(port)
    host, _, port = s.rpartition(":")
    return host, int(port)


VIA_RE = re.compile(rb"^(via|v)[ \t]*:", re.I | re.M)


def add_rport(msg):
    """Insert ';rport' after the first value of the first Via header field."""
    m = VIA_RE.search(msg)
    if not m:
        return msg
    i = m.end()
    # The first via-parm ends at a comma (outside quotes), or at a CRLF that is
    # not followed by folding whitespace.
    quoted = False
    n = len(msg)
    while i < n:
        c = msg[i:i + 1]
        if c == b'"':
            quoted = not quoted
        elif not quoted and c == b",":
            break
        elif c in (b"\r", b"\n"):
            j = i + (2 if msg[i:i + 2] == b"\r\n" else 1)
            if j < n and msg[j:j + 1] in (b" ", b"\t"):
                i = j
                continue
            break
        i += 1
    # Step back over trailing whitespace before the separator.
    k = i
    while k > m.end() and msg[k - 1:k] in (b" ", b"\t"):
        k -= 1
    return msg[:k] + b";rport" + msg[k:]


def parse_messages(buf):
    """Split a TCP byte stream into complete messages (by Content-Length)."""
    out = []
    while True:
        buf = buf.lstrip(b"\r\n")
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return out, buf
        head = buf[:end]
        m = re.search(rb"^(content-length|l)[ \t]*:[ \t]*(\d+)", head, re.I | re.M)
        clen = int(m.group(2)) if m else 0
        total = end + 4 + clen
        if len(buf) < total:
            return out, buf
        out.append(buf[:total])
        buf = buf[total:]


def call_id(msg):
    head = msg.split(b"\r\n\r\n", 1)[0]
    m = re.search(rb"^(call-id|i)[ \t]*:[ \t]*(\S+)", head, re.I | re.M)
    return m.group(2) if m else None


def describe(msg):
    first = msg.split(b"\r\n", 1)[0].decode("latin-1")
    parts = first.split(" ", 2)
    if first.startswith("SIP/"):
        return "STATUS %s %s" % (parts[1] if len(parts) > 1 else "?",
                                 parts[2] if len(parts) > 2 else "")
    return "REQUEST %s %s" % (parts[0], parts[1] if len(parts) > 1 else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--to", required=True, help="host:port or [v6]:port")
    ap.add_argument("--bind", default="127.0.0.1:0", help="local host:port")
    ap.add_argument("--proto", choices=("udp", "tcp"), default="udp")
    ap.add_argument("--wait", type=float, default=1.0, help="seconds to wait for answers")
    ap.add_argument("--count", type=int, default=0,
                    help="stop after this many non-100 answers (0 = wait the full time)")
    ap.add_argument("--rport", action="store_true", help="add ;rport to the first Via")
    ap.add_argument("--subst", action="append", default=[], help="KEY=VALUE text replacement")
    ap.add_argument("--full", action="store_true", help="print whole messages")
    ap.add_argument("--any-call", action="store_true",
                    help="report answers whatever their Call-ID (no IGNORED lines)")
    ap.add_argument("files", nargs="*", help="message files (default: stdin)")
    a = ap.parse_args()

    msgs = []
    for f in a.files or ["-"]:
        data = sys.stdin.buffer.read() if f == "-" else open(f, "rb").read()
        for kv in a.subst:
            k, _, v = kv.partition("=")
            data = data.replace(k.encode(), v.encode())
        if a.rport:
            data = add_rport(data)
        msgs.append(data)

    sent_ids = set(filter(None, (call_id(m) for m in msgs)))

    host, port = split_hostport(a.to)
    lhost, lport = split_hostport(a.bind)
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    kind = socket.SOCK_DGRAM if a.proto == "udp" else socket.SOCK_STREAM
    try:
        s = socket.socket(fam, kind)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((lhost, lport))
        if a.proto == "tcp":
            s.settimeout(a.wait)
            s.connect((host, port))
            s.settimeout(None)
    except OSError as e:
        print("ERROR %s" % e, file=sys.stderr)
        return 2
    for m in msgs:
        if a.proto == "udp":
            s.sendto(m, (host, port))
        else:
            s.sendall(m)

    deadline = time.monotonic() + a.wait
    finals = 0
    buf = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or (a.count and finals >= a.count):
            break
        r, _, _ = select.select([s], [], [], left)
        if not r:
            break
        try:
            data = s.recv(262144)
        except OSError:
            break
        if a.proto == "udp":
            got = [data]
        else:
            if not data:
                print("CLOSED")
                break
            got, buf = parse_messages(buf + data)
        for m in got:
            cid = call_id(m)
            if not a.any_call and sent_ids and cid is not None and cid not in sent_ids:
                print("IGNORED " + m.split(b"\r\n", 1)[0].decode("latin-1"), flush=True)
                continue
            d = describe(m)
            print(d, flush=True)
            if a.full:
                sys.stdout.write(m.decode("latin-1") + "\n")
            if not d.startswith("STATUS 100"):
                finals += 1
    s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
