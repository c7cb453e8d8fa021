#!/usr/bin/env python3
"""sipsink.py — listen on UDP and TCP, log the first line of every SIP message.

Two uses in the integration suite: the open-relay victim (it must receive
nothing, RFC 3261 §16.4/§26.1) and a minimal SIP Server for torture tests (it
answers the request methods given with --reply, copying Via/From/To/Call-ID/CSeq
as RFC 3261 §8.2.6.2 asks, and sends the response back over the socket the
request came in on, to the top Via's received/rport or the packet source).

Each message is appended to --out as "<proto> <first line> | Call-ID: <id>".
For a victim that must see nothing at all, --log-accept also logs every TCP
connection accepted ("tcp-accept <peer> <local>", even one that sends nothing)
and --log-bytes every datagram or TCP read ("udp-bytes <n> <peer> <local>",
"tcp-bytes <n> <peer> <local>", just before the messages in it), blank
keep-alives and non-SIP bytes included; --extra-ports watches more ports of the
same host. --delay holds the answers (to requests whose Call-ID contains
--delay-match, default all) for that many seconds, e.g. so that the request's
TCP connection is gone by then.

Runs until killed.
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


HDR_RE = re.compile(rb"^(via|v|from|f|to|t|call-id|i|cseq)[ \t]*:.*$", re.I | re.M)


def header(msg, names):
    m = re.search(rb"^(" + names + rb")[ \t]*:[ \t]*(.*?)\r?$", msg, re.I | re.M)
    return m.group(2).decode("latin-1") if m else ""


def make_reply(msg, code, reason):
    head = msg.split(b"\r\n\r\n", 1)[0]
    lines = [b"SIP/2.0 %d %s" % (code, reason.encode())]
    for m in HDR_RE.finditer(head):
        line = m.group(0).rstrip(b"\r")
        if re.match(rb"(to|t)[ \t]*:", line, re.I) and b"tag=" not in line:
            line += b";tag=sink1"
        lines.append(line)
    lines.append(b"Content-Length: 0")
    return b"\r\n".join(lines) + b"\r\n\r\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True, help="host:port (UDP and TCP)")
    ap.add_argument("--extra-ports", default="",
                    help="FIRST-LAST: also listen on these ports of the --listen host")
    ap.add_argument("--out", required=True)
    ap.add_argument("--reply", default="",
                    help="methods to answer, comma separated; * = every method but ACK")
    ap.add_argument("--code", type=int, default=200)
    ap.add_argument("--invite-code", type=int, default=486,
                    help="code for INVITE when --reply covers it (a final non-2xx keeps "
                         "the test free of dialogs)")
    ap.add_argument("--log-accept", action="store_true",
                    help='log each accepted TCP connection as "tcp-accept <peer> <local>"')
    ap.add_argument("--log-bytes", action="store_true",
                    help="log every datagram and TCP read, SIP or not")
    ap.add_argument("--delay", type=float, default=0.0,
                    help="seconds to hold each answer before sending it")
    ap.add_argument("--delay-match", default="",
                    help="delay only answers to requests whose Call-ID contains this")
    a = ap.parse_args()
    methods = set(x.strip().upper() for x in a.reply.split(",") if x.strip())
    host, port = split_hostport(a.listen)
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    ports = []
    if a.extra_ports:
        first, _, last = a.extra_ports.partition("-")
        ports += range(int(first), int(last or first) + 1)
    ports.append(port)  # last: once it is bound (what it_sink waits for) all are
    udps, tcps = [], []
    for port in ports:
        u = socket.socket(fam, socket.SOCK_DGRAM)
        u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        u.bind((host, port))
        t = socket.socket(fam, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind((host, port))
        t.listen(16)
        udps.append(u)
        tcps.append(t)
    out = open(a.out, "a", buffering=1)
    conns = {}
    pending = []  # (due, send, message) of delayed answers
    names = {}  # TCP connection -> its peer, for the log

    def peer(addr):
        return "[%s]:%d" % addr[:2] if ":" in addr[0] else "%s:%d" % addr[:2]

    def handle(msg, proto, reply):
        first = msg.split(b"\r\n", 1)[0].decode("latin-1")
        out.write("%s %s | Call-ID: %s\n" % (proto, first, header(msg, rb"call-id|i")))
        method = first.split(" ", 1)[0].upper()
        if first.startswith("SIP/") or method == "ACK":
            return
        if method in methods or "*" in methods:
            code = a.invite_code if method == "INVITE" else a.code
            rsp = make_reply(msg, code, "OK" if code == 200 else "Sink")
            if a.delay > 0 and a.delay_match in header(msg, rb"call-id|i"):
                pending.append((time.monotonic() + a.delay, reply, rsp))
            else:
                reply(rsp)

    while True:
        timeout = None
        if pending:
            timeout = max(0.0, min(p[0] for p in pending) - time.monotonic())
        r, _, _ = select.select(udps + tcps + list(conns), [], [], timeout)
        now = time.monotonic()
        for item in [p for p in pending if p[0] <= now]:
            pending.remove(item)
            try:
                item[1](item[2])
            except OSError:
                pass  # its TCP connection is gone
        for s in r:
            if s in udps:
                data, src = s.recvfrom(262144)
                if a.log_bytes:
                    out.write("udp-bytes %d %s %s\n" % (len(data), peer(src),
                                                        peer(s.getsockname())))
                if data.strip():
                    handle(data, "udp", lambda m, s=s, src=src: s.sendto(m, src))
            elif s in tcps:
                c, src = s.accept()
                names[c] = "%s %s" % (peer(src), peer(c.getsockname()))
                if a.log_accept:
                    out.write("tcp-accept %s\n" % names[c])
                conns[c] = b""
            else:
                try:
                    data = s.recv(262144)
                except OSError:
                    data = b""
                if data and a.log_bytes:
                    out.write("tcp-bytes %d %s\n" % (len(data), names[s]))
                if not data:
                    s.close()
                    del conns[s]
                    names.pop(s, None)
                    continue
                buf = conns[s] + data
                while True:
                    buf = buf.lstrip(b"\r\n")
                    end = buf.find(b"\r\n\r\n")
                    if end < 0:
                        break
                    m = re.search(rb"^(content-length|l)[ \t]*:[ \t]*(\d+)", buf[:end],
                                  re.I | re.M)
                    total = end + 4 + (int(m.group(2)) if m else 0)
                    if len(buf) < total:
                        break
                    handle(buf[:total], "tcp", lambda msg, s=s: s.sendall(msg))
                    buf = buf[total:]
                conns[s] = buf


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
