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

--jobs FILE runs many such sends at once (one per line: NAME PROTO BIND_HOST TO
WAIT COUNT MESSAGE_FILE), each from its own port of --ports FIRST-LAST (a port
goes back to the pool when its send is done), "@SP@" in the message replaced by
that port; each send's report goes to --outdir/NAME.out (as with --full), and
one line per send to stdout: "NAME PORT FIRST FINAL", FIRST the code (or
method) of the first answer, FINAL the first final status code, "-" for none,
FIRST "ERROR" when the socket could not be opened.
"""
import argparse
import errno
import os
import queue
import re
import select
import socket
import sys
import threading
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


def exchange(proto, bind, to, wait, count, msgs, full, any_call, out):
    """Sends msgs from bind to to and reports what comes back within wait seconds
    on out. Returns (status, first, final, errno): status 0, or 2 when the socket
    could not be opened (errno says why); first is the code (or method) of the
    first answer reported, final the code of the first non-100 status, each None
    when there was none."""
    sent_ids = set(filter(None, (call_id(m) for m in msgs)))
    host, port = split_hostport(to)
    lhost, lport = split_hostport(bind)
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    s = None
    try:
        s = socket.socket(fam, kind)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((lhost, lport))
        if proto == "tcp":
            s.settimeout(wait)
            s.connect((host, port))
            s.settimeout(None)
    except OSError as e:
        print("ERROR %s" % e, file=sys.stderr if out is sys.stdout else out)
        if s:
            s.close()
        return 2, None, None, e.errno
    for m in msgs:
        if proto == "udp":
            s.sendto(m, (host, port))
        else:
            s.sendall(m)

    deadline = time.monotonic() + wait
    finals = 0
    first = final = None
    buf = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or (count and finals >= count):
            break
        r, _, _ = select.select([s], [], [], left)
        if not r:
            break
        try:
            data = s.recv(262144)
        except OSError:
            break
        if proto == "udp":
            got = [data]
        else:
            if not data:
                print("CLOSED", file=out)
                break
            got, buf = parse_messages(buf + data)
        for m in got:
            cid = call_id(m)
            if not any_call and sent_ids and cid is not None and cid not in sent_ids:
                print("IGNORED " + m.split(b"\r\n", 1)[0].decode("latin-1"), file=out,
                      flush=True)
                continue
            d = describe(m)
            print(d, file=out, flush=True)
            if full:
                out.write(m.decode("latin-1") + "\n")
            word = d.split(" ")[1] if " " in d else "?"
            if first is None:
                first = word
            if not d.startswith("STATUS 100"):
                finals += 1
                if final is None and d.startswith("STATUS "):
                    final = word
    s.close()
    return 0, first, final, None


# A TCP source port is reused (same 4-tuple, in TIME_WAIT) only a second after
# its last use (net.ipv4.tcp_tw_reuse), so a TCP send waits that long for it.
REUSE_AFTER = 1.1


def run_jobs(a):
    """--jobs: many exchanges at once, each from a port of the --ports pool that
    no running job holds (ports are reused in turn, oldest released first)."""
    first_port, _, last_port = a.ports.partition("-")
    free = queue.Queue()
    for p in range(int(first_port), int(last_port or first_port) + 1):
        free.put((p, 0.0))
    jobs = []
    for line in open(a.jobs):
        f = line.split()
        if f and not f[0].startswith("#"):
            jobs.append(f)
    results = {}

    def one(job, slot):
        name, proto, host, to, wait, count, path = job[:7]
        port = slot[0]
        try:
            for attempt in range(5):
                port, released = slot
                pause = released + REUSE_AFTER - time.monotonic()
                if proto == "tcp" and pause > 0:
                    time.sleep(pause)
                data = open(path, "rb").read().replace(b"@SP@", str(port).encode())
                bind = "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)
                with open(os.path.join(a.outdir, name + ".out"), "w") as out:
                    rc, first, final, err = exchange(proto, bind, to, float(wait), int(count),
                                                     [data], True, False, out)
                if rc == 0 or err not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL) or attempt == 4:
                    break
                # That port is still held: give it back, take the next one.
                free.put((port, time.monotonic()))
                slot = free.get()
                port = slot[0]
            results[name] = (port, "ERROR" if rc else (first or "-"), final or "-")
        except Exception as e:  # a job's failure is its own result, not the run's
            results[name] = (port, "ERROR", type(e).__name__)
        finally:
            free.put((port, time.monotonic()))

    threads = []
    for job in jobs:
        t = threading.Thread(target=one, args=(job, free.get()))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    for job in jobs:
        port, first, final = results[job[0]]
        print("%s %d %s %s" % (job[0], port, first, final))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--to", help="host:port or [v6]:port (required unless --jobs)")
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
    ap.add_argument("--jobs", help="file of sends to run at once, one per line: "
                    "NAME PROTO BIND_HOST TO WAIT COUNT MESSAGE_FILE")
    ap.add_argument("--ports", help="with --jobs: FIRST-LAST, the source ports to use")
    ap.add_argument("--outdir", default=".", help="with --jobs: where NAME.out files go")
    ap.add_argument("files", nargs="*", help="message files (default: stdin)")
    a = ap.parse_args()
    if a.jobs:
        if not a.ports:
            ap.error("--jobs needs --ports")
        return run_jobs(a)
    if not a.to:
        ap.error("--to is required")

    msgs = []
    for f in a.files or ["-"]:
        data = sys.stdin.buffer.read() if f == "-" else open(f, "rb").read()
        for kv in a.subst:
            k, _, v = kv.partition("=")
            data = data.replace(k.encode(), v.encode())
        if a.rport:
            data = add_rport(data)
        msgs.append(data)
    rc, _, _, _ = exchange(a.proto, a.bind, a.to, a.wait, a.count, msgs, a.full, a.any_call,
                        sys.stdout)
    return rc


if __name__ == "__main__":
    sys.exit(main())
