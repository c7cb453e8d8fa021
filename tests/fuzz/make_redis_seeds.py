#!/usr/bin/env python3
"""make_redis_seeds.py OUTDIR — seeds for fuzz_redis: what a real Redis 7 would
answer a starting proxy (fuzz_redis.c's header has the input layout: one byte
splitting the rest between the command connection and the log connection).

Command connection, in the order the proxy asks: SCRIPT LOAD (a digest), XINFO
STREAM per partition (2), the full load (an HGETALL of each bucket, in order;
each group's records framed as src/store/repl.h documents), the write script's
answers ({"ok", version} / {"stale", ...} / errors). Log
connection: XREAD answers carrying change entries (save, remove, expiry, remove
all) of bindings in the product's encoding (src/store/binding_codec.c), plus
variants: empty streams, errors, nil (a blocking read's timeout)."""
import os
import struct
import sys


def bulk(b):
    if isinstance(b, str):
        b = b.encode()
    return b"$%d\r\n%s\r\n" % (len(b), b)


def arr(*items):
    return b"*%d\r\n" % len(items) + b"".join(items)


def integer(n):
    return b":%d\r\n" % n


NIL = b"$-1\r\n"
NIL_ARR = b"*-1\r\n"


def binding_payload(aor, contact, call_id, cseq, expires, owner="p2", node="n1"):
    fixed = struct.pack("<qIIHBB", expires, cseq, 0, 1000, 0, 2)  # UDP, AF_INET
    fixed += bytes([0x13, 0xc4])  # port 5060, network order
    fixed += struct.pack("<I", 0) + bytes([127, 0, 0, 2]) + bytes(12)
    assert len(fixed) == 42
    s = b""
    for f in (aor, contact, "", call_id, "", owner, node):
        f = f.encode()
        s += struct.pack("<H", len(f)) + f
    return fixed + s + struct.pack("<QQ", 7, 99)


def value(ver, exp, cseq, cid, payload):
    return b"%d %d %d %s\n" % (ver, exp, cseq, cid.encode()) + payload


def record(aor, contact, ver=1796000000000000, exp=4102444800000, cseq=1, cid="c1"):
    field = ("c:" + contact).encode()  # binding_key: the Contact's sip_uri_key
    return field, value(ver, exp, cseq, cid, binding_payload(aor, contact, cid, cseq, exp))


def group(*records, maxexp=4102444800000):
    """A bucket field's value: "<max expires>\\n", then "<klen> <vlen>\\n<key><value>"."""
    g = b"%d\n" % maxexp
    for k, v in records:
        g += b"%d %d\n" % (len(k), len(v)) + k + v
    return g


def xinfo(last="0-0", length=0, first=None):
    return arr(bulk("length"), integer(length), bulk("last-generated-id"), bulk(last),
               bulk("first-entry"), first if first else NIL)


def entry(eid, **f):
    flat = []
    for k, v in f.items():
        flat += [bulk(k), bulk(v)]
    return arr(bulk(eid), arr(*flat))


def seed(cmd, tail):
    # The harness gives the command connection data[1 : 1 + b*len/255]: pad the
    # command part with empty arrays until some b lands exactly on its end.
    while True:
        data = cmd + tail
        for b in range(256):
            if b * len(data) // 255 == len(cmd):
                return bytes([b]) + data
        cmd += b"*0\r\n"


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    sha = bulk("a" * 40)
    f1, v1 = record("sip:alice@example.com", "sip:alice@127.0.0.2:5060")
    f2, v2 = record("sip:bob@example.com", "sip:bob@127.0.0.2:5070", ver=1796000000000001)
    seeds = {}
    # a fresh start: empty logs, a full load finding two AORs, writes answered
    # (the first bucket holds both groups here; the others answer empty)
    load = arr(bulk("sip:alice@example.com"), bulk(group((f1, v1))),
               bulk("sip:bob@example.com"), bulk(group((f2, v2))))
    # replies in the order the proxy asks: the script, the logs, its two
    # queued writes (sent once the script is loaded), then the load
    cmd = (sha + xinfo() + xinfo() + arr(bulk("ok"), integer(1796000000000005)) +
           arr(bulk("ok"), integer(1796000000000006)) + load + arr() * 127)
    log = arr(arr(bulk("sp:{0}:log"), arr(
        entry("1796000000000-0", o="s", t="r", g="sip:alice@example.com", k=f1, v="1796000000000007",
              b=value(1796000000000007, 4102444800000, 2, "c1",
                      binding_payload("sip:alice@example.com", "sip:alice@127.0.0.2:5060", "c1", 2,
                                      4102444800000)), p="p2"),
        entry("1796000000000-1", o="r", t="r", g="sip:bob@example.com", k=f2, v="1796000000000008",
              b="", p="p2"),
        entry("1796000000000-2", o="a", t="r", g="sip:carol@example.com", k="", v="1796000000000009",
              b="", p="p2"),
        entry("1796000000000-3", o="x", t="d", g="call-1", k="t1;t2", v="1796000000000010", b="",
              p="p2"))))
    seeds["fresh_start"] = seed(cmd, log + NIL_ARR)
    # resuming after a restart of Redis: behind us, lost data
    cmd = (sha + xinfo("5-0", 1) + b"-ERR no such key\r\n" + arr(bulk("ok"), integer(7)) +
           arr(bulk("ok"), integer(8)) + arr() * 128)
    seeds["lost_data"] = seed(cmd, NIL_ARR)
    # errors on writes: OOM, READONLY, WRONGTYPE, stale with the current record
    cmd = (sha + xinfo() + xinfo() +
           b"-OOM command not allowed when used memory > 'maxmemory'.\r\n" +
           b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n" +
           arr() + arr(bulk("stale"), bulk("1796000000000001"), bulk(v1)) +
           b"-READONLY You can't write against a read only replica.\r\n")
    seeds["write_errors"] = seed(cmd, NIL_ARR)
    # garbage in records and entries
    cmd = (sha + xinfo() + xinfo() + arr(bulk("ok"), integer(5)) + arr(bulk("ok"), integer(6)) +
           arr(bulk("sip:x@y"), bulk(group((b"c:sip:x@y:0", b"99 notanumber\nxx")))) +
           arr(bulk("sip:x@z"), bulk(b"1\n9 99999\nc:trunc"), bulk("sip:no-head"), bulk("x")) +
           b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n" + NIL)
    log = arr(arr(bulk("sp:{1}:log"), arr(entry("1-1", o="s", t="r", g="sip:x@y", k="c:z", v="1",
                                                b="1 2 3 c\n" + "\x00" * 30),
                                          entry("1-2", o="q"), arr(bulk("1-3")))),
              arr(bulk("sp:{7}:log"), arr()))
    seeds["garbage"] = seed(cmd, log + b"+OK\r\n" + b"*99999999\r\n")
    # a subscribe-like push and a huge bulk length
    seeds["unasked"] = seed(sha + b">3\r\n" + b"$9999999999\r\n", b":1\r\n:2\r\n")
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
