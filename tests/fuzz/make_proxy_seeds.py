#!/usr/bin/env python3
"""make_proxy_seeds.py — seeds for tests/fuzz/fuzz_proxy.c (its header comment
defines the record format) from SIP messages:

  *.dat  an RFC 4475 message (tests/data/rfc4475): two seeds, the message as a
         PACKET from an untrusted endpoint and from the SIP Server, each followed
         by DNS (addresses), REPLY 200 and ADVANCE;
  *.log  a sipproxy log with log.sip-trace = true (what every integration test
         writes, src/proxy/receive.c proxy_trace): one seed per log, its dir=in
         messages in order as PACKETs from the closest source of fuzz_proxy's
         table, each response also as a REPLY with its status and header
         fields (its branch would not match ours), each in-dialog request also
         as a DIALOG, an ADVANCE where the log shows time passing, and the
         proxy's and SIP Server's ports rewritten to the harness's (5060, 5090).

  --scenarios  hand-written sequences the logs lack: forking to several
         bindings (parallel and by q), Path from the SBC, a CANCEL while DNS
         is pending, a TCP close mid-call, in-dialog requests both ways, loops,
         answers from the wrong host, retransmissions.

Directories are searched for both. --dump FILE prints a seed's (or a
reproducer's) records instead. Standard library only.
usage: make_proxy_seeds.py OUT_DIR [INPUT...] [--scenarios] [--max-seeds N] | --dump FILE...
"""
import argparse
import hashlib
import os
import re
import struct
import sys
from datetime import datetime

OP_PACKET, OP_REPLY, OP_REPLY_FROM, OP_ADVANCE = 0, 1, 2, 3
OP_DNS, OP_DIALOG = 7, 8
NOPS = 9
# fuzz_proxy.c fz_methods
DIALOG_METHODS = [b"BYE", b"ACK", b"INVITE", b"INFO", b"UPDATE", b"NOTIFY", b"PRACK", b"MESSAGE"]
# what harness_reply writes itself (RFC 3261 compact forms too)
REPLY_OWN = {b"via", b"v", b"from", b"f", b"to", b"t", b"call-id", b"i", b"cseq",
             b"content-length", b"l"}
DNS_ADDRESS = 2
# fuzz_proxy.c fz_steps (ms) and fz_sources (selectors)
STEPS = [10, 100, 500, 4000, 32000, 64000, 180000]
SRC_SERVER, SRC_BACKUP, SRC_PEER, SRC_SBC = 0, 1, 2, 3
SRC_EP1, SRC_EP2, SRC_EP6, SRC_PROXY_HOST = 4, 5, 6, 7
BY_IP = {
    "127.0.0.3": SRC_SERVER,  # the integration tests' SIP Server (A_UAS)
    "127.0.0.4": SRC_BACKUP,
    "127.0.0.6": SRC_PEER,
    "127.0.0.7": SRC_SBC,
    "127.0.0.2": SRC_EP1,  # their UACs
    "127.0.0.5": SRC_EP2,
    "127.0.0.1": SRC_PROXY_HOST,
}
HARNESS_PROXY_PORT, HARNESS_SERVER_PORT = 5060, 5090
SEED_CAP = 64 * 1024

TRACE = re.compile(
    r'^ts=(\S+) .*event=sip_trace dir=(in|out) proto=(\S+) peer=(\S+) len=(\d+) msg="(.*)"\s*$'
)
LISTEN = re.compile(r"event=listening proto=\S+ address=\S+ port=(\d+)")


def packet(src, tp, data):
    data = data[:0xFFFF]
    return bytes([OP_PACKET, src, tp]) + struct.pack(">H", len(data)) + data


def reply(k, status, extra=b""):
    return (bytes([OP_REPLY, k]) + struct.pack(">H", (status - 100) % 600)
            + struct.pack(">H", len(extra)) + extra)


def advance(ms):
    idx = 0
    for i, step in enumerate(STEPS):
        if step <= ms:
            idx = i
    return bytes([OP_ADVANCE, idx])


def dns(mode=DNS_ADDRESS):
    return bytes([OP_DNS, mode])


def dialog(k, method):
    return bytes([OP_DIALOG, k, DIALOG_METHODS.index(method)])


def reply_extra(msg):
    """A response's header fields but those harness_reply writes itself."""
    head = msg.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]
    keep = [h for h in head if h.split(b":", 1)[0].strip().lower() not in REPLY_OWN]
    return b"".join(h + b"\r\n" for h in keep)[:4096]


def in_dialog_method(msg):
    """The method of a request with a To tag that DIALOG can send, else None."""
    m = re.match(rb"([A-Z]+) ", msg)
    if not m or m.group(1) not in DIALOG_METHODS:
        return None
    to = re.search(rb"\r\n(?:To|t)\s*:([^\r]*)", msg, re.I)
    return m.group(1) if to and b"tag=" in to.group(1).lower() else None


def unescape(s):
    """Inverse of proxy_trace's escaping: \\r \\n \\" \\\\ \\xNN."""
    out = bytearray()
    i = 0
    raw = s.encode("latin-1", "replace")
    while i < len(raw):
        c = raw[i]
        if c == 0x5C and i + 1 < len(raw):
            n = raw[i + 1]
            if n == ord("r"):
                out += b"\r"
            elif n == ord("n"):
                out += b"\n"
            elif n == ord("x") and i + 3 < len(raw):
                try:
                    out.append(int(raw[i + 2:i + 4], 16))
                    i += 4
                    continue
                except ValueError:
                    out += b"\\x"
            else:
                out.append(n)
            i += 2
            continue
        out.append(c)
        i += 1
    return bytes(out)


def split_peer(peer):
    if peer.startswith("["):
        host, _, port = peer[1:].partition("]:")
        return host, int(port or 0)
    host, _, port = peer.rpartition(":")
    return host, int(port or 0)


def selector(host, port):
    if host in BY_IP:
        return BY_IP[host]
    if ":" in host:
        return SRC_EP6
    return SRC_EP1 if port % 2 == 0 else SRC_EP2


def reply_from(k, src, tp, status, extra=b""):
    return (bytes([OP_REPLY_FROM, k, src, tp]) + struct.pack(">H", (status - 100) % 600)
            + struct.pack(">H", len(extra)) + extra)


def sip_request(method, ruri, src_hostport, call_id, extra=b"", proto=b"UDP", cseq=1,
                to_tag=b""):
    return (b"%s %s SIP/2.0\r\nVia: SIP/2.0/%s %s;branch=z9hG4bK-%s-%d;rport\r\n"
            b"Max-Forwards: 70\r\nFrom: <sip:caller@example.com>;tag=f-%s\r\n"
            b"To: <%s>%s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n"
            b"Contact: <sip:caller@%s>\r\n%sContent-Length: 0\r\n\r\n"
            % (method, ruri, proto, src_hostport, call_id, cseq, call_id, ruri,
               b";tag=" + to_tag if to_tag else b"", call_id, cseq, method, src_hostport, extra))


def register(src_hostport, user, contacts, call_id, extra=b"", proto=b"UDP"):
    aor = b"sip:%s@sipproxy.test" % user
    head = b"".join(b"Contact: %s\r\n" % c for c in contacts)
    msg = sip_request(b"REGISTER", b"sip:sipproxy.test", src_hostport, call_id,
                      head + b"Expires: 3600\r\n" + extra, proto)
    # To/From of a REGISTER name the AOR
    return msg.replace(b"To: <sip:sipproxy.test>", b"To: <%s>" % aor).replace(
        b"Contact: <sip:caller@%s>\r\n" % src_hostport, b"", 1)


def scenario_seeds():
    """Sequences the integration logs lack (see the module comment)."""
    ep1, ep2, srv = b"127.0.0.20:5000", b"127.0.0.21:5001", b"127.0.0.3:5090"
    reg2 = register(ep1, b"alice", [b"<sip:alice@127.0.0.20:5000>;q=0.5",
                                     b"<sip:alice@127.0.0.21:5001>;q=0.5"], b"reg1")
    inv_alice = sip_request(b"INVITE", b"sip:alice@sipproxy.test", srv, b"inv1")
    both = (b"Contact: <sip:alice@127.0.0.20:5000>;expires=3600\r\n"
            b"Contact: <sip:alice@127.0.0.21:5001>;expires=3600\r\n")
    yield "scn-fork-parallel", (
        packet(SRC_EP1, 0, reg2) + reply(0, 200, both)
        + packet(SRC_SERVER, 0, inv_alice) + reply(0, 180) + reply(1, 183)
        + reply(0, 200) + reply(1, 486) + advance(4000) + dialog(0, b"ACK") + dialog(0, b"BYE")
        + reply(0, 200) + advance(32000))
    yield "scn-fork-challenges", (
        packet(SRC_EP1, 0, reg2) + reply(0, 200, both)
        + packet(SRC_SERVER, 0, inv_alice)
        + reply(0, 401, b'WWW-Authenticate: Digest realm="a", nonce="1"\r\n')
        + reply(1, 407, b'Proxy-Authenticate: Digest realm="b", nonce="2"\r\n') + advance(4000)
        + packet(SRC_SERVER, 0, inv_alice.replace(b"inv1", b"inv9")) + reply(1, 401, b'WWW-Authenticate: Digest realm="c"\r\n')
        + reply(0, 603) + advance(32000))
    regl = register(ep2, b"lee", [b"<sip:lee@127.0.0.21:5001>", b"<sip:lee@127.0.0.21:5003>;expires=30"],
                    b"reg4", b"Path: <sip:127.0.0.21:5001;lr>\r\n")
    unreg = register(ep2, b"lee", [b"*"], b"reg4").replace(b"Expires: 3600", b"Expires: 0").replace(
        b"CSeq: 1 REGISTER", b"CSeq: 2 REGISTER").replace(b"z9hG4bK-reg4-1", b"z9hG4bK-reg4-2")
    inv_lee = sip_request(b"INVITE", b"sip:lee@sipproxy.test", srv, b"inv11")
    yield "scn-register-lifecycle", (
        packet(SRC_EP2, 0, regl) + reply(0, 200, b"Expires: 60\r\n") + packet(SRC_SERVER, 0, inv_lee)
        + reply(0, 486) + reply(1, 180) + advance(4000) + packet(SRC_EP2, 0, unreg) + reply(0, 200)
        + packet(SRC_SERVER, 0, inv_lee.replace(b"inv11", b"inv12")) + advance(32000))
    inv_c = sip_request(b"INVITE", b"sip:kim@sipproxy.test", ep1, b"inv8")
    yield "scn-cancel-early", (
        packet(SRC_EP1, 0, inv_c) + packet(SRC_EP1, 0, inv_c.replace(b"INVITE", b"CANCEL"))
        + reply(0, 180) + reply(0, 200) + reply(1, 487) + advance(4000)
        + packet(SRC_EP1, 1, inv_c.replace(b"inv8", b"inv10")) + packet(SRC_EP1, 1, inv_c.replace(b"inv8", b"inv10").replace(b"INVITE", b"CANCEL"))
        + advance(32000) + reply(0, 100) + advance(180000))
    regq = register(ep1, b"bob", [b"<sip:bob@127.0.0.20:5000>;q=1.0",
                                   b"<sip:bob@127.0.0.21:5001>;q=0.7",
                                   b"<sip:bob@[::2]:5002>;q=0.1"], b"reg2")
    inv_bob = sip_request(b"INVITE", b"sip:bob@sipproxy.test", srv, b"inv2")
    yield "scn-fork-q-groups", (
        packet(SRC_EP1, 0, regq) + reply(0, 200) + packet(SRC_SERVER, 0, inv_bob)
        + reply(0, 180) + reply(0, 486) + reply(0, 401, b'WWW-Authenticate: Digest realm="a", nonce="1"\r\n')
        + reply(0, 407, b'Proxy-Authenticate: Digest realm="b", nonce="2"\r\n') + advance(180000)
        + advance(32000))
    regp = register(b"127.0.0.7:5060", b"carol", [b"<sip:carol@10.0.0.9:5070;ob>;+sip.instance=\"<urn:uuid:1>\";reg-id=1"],
                    b"reg3", b"Path: <sip:127.0.0.7:5060;lr>\r\nSupported: path, outbound\r\n")
    yield "scn-path-sbc", (
        packet(SRC_SBC, 0, regp) + reply(0, 200) + packet(SRC_SERVER, 0,
            sip_request(b"MESSAGE", b"sip:carol@sipproxy.test", srv, b"msg1"))
        + reply(0, 200) + advance(4000))
    yield "scn-dns-cancel", (
        packet(SRC_SERVER, 0, sip_request(b"INVITE", b"sip:dave@example.org", srv, b"inv3"))
        + packet(SRC_SERVER, 0, sip_request(b"CANCEL", b"sip:dave@example.org", srv, b"inv3"))
        + dns(DNS_ADDRESS) + packet(SRC_SERVER, 0, sip_request(b"INVITE", b"sip:erin@example.net", srv, b"inv4"))
        + dns(DNS_ADDRESS) + reply(0, 180) + advance(100) + bytes([OP_DNS, 1]) + advance(180000))
    inv_tcp = sip_request(b"INVITE", b"sip:frank@sipproxy.test", ep1, b"inv5", proto=b"TCP")
    yield "scn-tcp-close", (
        packet(SRC_EP1, 1, inv_tcp) + reply(0, 180) + reply(0, 200, b"Record-Route: <sip:127.0.0.3:5090;lr>\r\n")
        + dialog(0, b"BYE") + bytes([6, SRC_EP1, 0]) + dialog(1, b"BYE") + advance(4000)
        + bytes([6, 0, 128]) + advance(32000))
    inv6 = sip_request(b"INVITE", b"sip:gina@sipproxy.test", b"[::2]:5002", b"inv6")
    yield "scn-dialog-flow", (
        packet(SRC_EP6, 0, inv6) + reply(0, 200) + dialog(0, b"ACK") + dialog(1, b"BYE")
        + dialog(2, b"INFO") + reply(0, 200) + dialog(0, b"UPDATE") + advance(4000))
    yield "scn-loop", (
        packet(SRC_EP2, 0, sip_request(b"OPTIONS", b"sip:hank@sipproxy.test", ep2, b"opt1"))
        + bytes([5, 0]) + bytes([5, 0]) + bytes([5, 1]) + reply(0, 200) + advance(500))
    yield "scn-wrong-host", (
        packet(SRC_EP1, 0, sip_request(b"INVITE", b"sip:ivy@sipproxy.test", ep1, b"inv7"))
        + reply_from(0, SRC_EP2, 0, 200) + reply_from(0, SRC_BACKUP, 0, 180)
        + reply_from(0, SRC_PROXY_HOST, 0, 200) + reply(0, 503) + advance(4000) + reply(0, 200))
    msg = sip_request(b"MESSAGE", b"sip:jo@sipproxy.test", ep1, b"msg2")
    yield "scn-retransmit", (
        packet(SRC_EP1, 0, msg) + bytes([4]) + advance(500) + bytes([4]) + reply(0, 100)
        + bytes([4]) + reply(0, 200) + bytes([4]) + advance(4000) + bytes([4]))


def rfc4475_seeds(path):
    msg = open(path, "rb").read()
    name = os.path.splitext(os.path.basename(path))[0]
    for tag, src in (("ep", SRC_EP1), ("srv", SRC_SERVER)):
        yield ("rfc4475-%s-%s" % (name, tag),
               packet(src, 0, msg) + dns() + reply(0, 200) + advance(4000))


def ts_ms(ts):
    try:
        return datetime.strptime(ts.rstrip("Z"), "%Y-%m-%dT%H:%M:%S.%f").timestamp() * 1000
    except ValueError:
        return None


def rewrite_ports(msg, proxy_port, server_port):
    """Names of the test's proxy and SIP Server become the harness's."""
    if proxy_port and proxy_port != HARNESS_PROXY_PORT:
        msg = re.sub(rb"(127\.0\.0\.1|\[::1\]):%d(?!\d)" % proxy_port,
                     rb"\g<1>:%d" % HARNESS_PROXY_PORT, msg)
    if server_port and server_port != HARNESS_SERVER_PORT:
        msg = re.sub(rb"127\.0\.0\.3:%d(?!\d)" % server_port,
                     rb"127.0.0.3:%d" % HARNESS_SERVER_PORT, msg)
    return msg


def log_seed(path):
    lines = open(path, encoding="latin-1").read().splitlines()
    proxy_port = None
    server_port = None
    events = []
    for line in lines:
        m = LISTEN.search(line)
        if m and proxy_port is None:
            proxy_port = int(m.group(1))
        m = TRACE.match(line)
        if not m or m.group(2) != "in":
            continue
        host, port = split_peer(m.group(4))
        if host == "127.0.0.3" and server_port is None:
            server_port = port
        events.append((ts_ms(m.group(1)), m.group(3).upper(), host, port,
                       unescape(m.group(6))))
    if not events:
        return None
    out = bytearray()
    slots = {}  # (selector, port) -> TCP slot 1..3
    last_ts = None
    for ts, proto, host, port, msg in events:
        src = selector(host, port)
        tp = 0
        if proto != "UDP":
            key = (src, port)
            if key not in slots:
                slots[key] = 1 + sum(1 for k in slots if k[0] == src) % 3
            tp = slots[key]
        msg = rewrite_ports(msg, proxy_port, server_port)
        rec = bytearray()
        if ts is not None and last_ts is not None and ts - last_ts >= 100:
            rec += advance(ts - last_ts)
        last_ts = ts if ts is not None else last_ts
        m = re.match(rb"SIP/2\.0 (\d{3})", msg)
        if m:
            rec += reply(0, int(m.group(1)), reply_extra(msg))
        method = in_dialog_method(msg)
        if method:
            rec += dialog(0, method)
        rec += packet(src, tp, msg)
        if len(out) + len(rec) > SEED_CAP:
            break
        out += rec
    return bytes(out)


def log_name(path):
    """$IT_NAME-proxy.log (IT_HARVEST_DIR) or /tmp/sipit.$IT_NAME.XXXXXX/proxy.log."""
    base = os.path.splitext(os.path.basename(path))[0]
    m = re.match(r"sipit\.(.+)\.[A-Za-z0-9]{6}$", os.path.basename(os.path.dirname(path)))
    return m.group(1) + "-" + base if m else base


def inputs(paths):
    for p in paths:
        if os.path.isdir(p):
            for f in sorted(os.listdir(p)):
                if f.endswith((".dat", ".log")):
                    yield os.path.join(p, f)
        else:
            yield p


OPS = ["PACKET", "REPLY", "REPLY_FROM", "ADVANCE", "RESEND", "LOOP", "CLOSE", "DNS", "DIALOG"]


def dump(path):
    """The records of an input, one a line, as fuzz_proxy reads them."""
    d = open(path, "rb").read()
    i = 0

    def take(n):
        nonlocal i
        if i + n > len(d):
            raise EOFError
        v = d[i:i + n]
        i += n
        return v

    def u16():
        return struct.unpack(">H", take(2))[0]

    try:
        while i < len(d):
            op = take(1)[0] % NOPS
            name = OPS[op]
            if op == OP_PACKET:
                src, tp = take(1)[0] % 10, take(1)[0] % 4
                body = take(u16())
                print("%s src=%d tp=%d %r" % (name, src, tp, body[:160]))
            elif op in (OP_REPLY, OP_REPLY_FROM):
                k = take(1)[0]
                frm = " src=%d tp=%d" % (take(1)[0] % 10, take(1)[0] % 4) if op == OP_REPLY_FROM else ""
                st = 100 + u16() % 600
                extra = take(u16())
                print("%s k=%d%s status=%d extra=%r" % (name, k, frm, st, extra[:160]))
            elif op == OP_ADVANCE:
                print("%s %d ms" % (name, STEPS[take(1)[0] % 7]))
            elif op == 4:
                print(name)
            elif op in (5, 7):
                print("%s %d" % (name, take(1)[0]))
            elif op == OP_DIALOG:
                k, m = take(1)[0], take(1)[0]
                print("%s k=%d %s" % (name, k, DIALOG_METHODS[m % 8].decode()))
            else:
                a, b = take(1)[0], take(1)[0]
                print("%s a=%d b=%d" % (name, a, b))
    except EOFError:
        print("(truncated record: end)")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--dump":
        for p in sys.argv[2:]:
            dump(p)
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("inputs", nargs="*")
    ap.add_argument("--max-seeds", type=int, default=0, help="stop after N seeds (0: all)")
    ap.add_argument("--scenarios", action="store_true", help="the hand-written sequences too")
    a = ap.parse_intermixed_args()
    os.makedirs(a.out, exist_ok=True)
    n = 0
    seen = set()
    for path in (["--scenarios"] if a.scenarios else []) + list(inputs(a.inputs)):
        if path == "--scenarios":
            seeds = list(scenario_seeds())
        elif path.endswith(".dat"):
            seeds = list(rfc4475_seeds(path))
        else:
            data = log_seed(path)
            name = "it-" + log_name(path)
            seeds = [(name, data)] if data else []
        for name, data in seeds:
            digest = hashlib.sha1(data).hexdigest()
            if digest in seen:
                continue
            seen.add(digest)
            with open(os.path.join(a.out, name), "wb") as f:
                f.write(data)
            n += 1
            if a.max_seeds and n >= a.max_seeds:
                print("make_proxy_seeds: %d seeds in %s" % (n, a.out))
                return 0
    print("make_proxy_seeds: %d seeds in %s" % (n, a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
