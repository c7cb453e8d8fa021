#!/usr/bin/env python3
"""hawatch.py — time an HA switchover: run the switch actions, then poll until
what should follow it is seen, and print how long each thing took.

Actions (--act, in order; the clock starts just before the first one):
    ctl HOST:PORT WORDS...   one sipsim control command (its reply must be "ok ...")
    kill PID                 SIGKILL
    sleep MS
Watches (polled every --poll ms, each reported once, seconds since the start):
    --reach HOST:PORT        the member with this control port received a new
                             INVITE (its stats "invites" grew): new calls reach it
    --primary NAME=ADMIN=ADDR
                             the sipproxy whose admin is ADMIN shows ADDR
                             ("UDP:ip:port") as the primary of --node (GET /nodes)
    --until NAME=CMD         the shell command CMD exits 0 (e.g. kamcmd | grep)
    --old HOST:PORT          the old member: after everything else was seen, its
                             "invites" are watched --settle s more and the time
                             of their last growth is printed (old=S, "-" none)
Before the actions, --stats HOST:PORT (repeatable) prints "stats HOST:PORT invites=N
byes=N" per member, for the caller's bookkeeping (calls open at the switch).
Output: one line "reach=S NAME=S ... old=S", "timeout" for what was not seen
within --timeout s (exit 1). Exit 2 on a bad action.
"""
import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time


def ctl(hostport, words, timeout=2.0):
    host, _, port = hostport.rpartition(":")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(" ".join(words).encode(), (host, int(port)))
        return s.recv(2048).decode().strip()
    finally:
        s.close()


def stats(hostport):
    reply = ctl(hostport, ["stats"])
    out = {}
    for kv in reply.split()[1:]:
        k, _, v = kv.partition("=")
        out[k] = v
    return out


def primary(admin, node):
    host, _, port = admin.rpartition(":")
    c = http.client.HTTPConnection(host, int(port), timeout=2)
    try:
        c.request("GET", "/nodes?format=json")
        doc = json.loads(c.getresponse().read())
    finally:
        c.close()
    for n in doc["nodes"]:
        if n["name"] == node:
            if not n["in_service"]:
                return "none"
            p = [m["address"] for m in n["members"] if m["role"] == "primary"]
            return p[0] if p else "none"
    return "none"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--act", action="append", default=[])
    ap.add_argument("--stats", action="append", default=[])
    ap.add_argument("--reach")
    ap.add_argument("--primary", action="append", default=[])
    ap.add_argument("--until", action="append", default=[])
    ap.add_argument("--old")
    ap.add_argument("--node", default="n1")
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("--settle", type=float, default=0)
    ap.add_argument("--poll", type=float, default=10)
    a = ap.parse_args()

    for hp in a.stats:
        st = stats(hp)
        print("stats %s invites=%s byes=%s" % (hp, st.get("invites"), st.get("byes")))
    base = int(stats(a.reach)["invites"]) if a.reach else 0
    old_base = int(stats(a.old)["invites"]) if a.old else 0

    # name -> check(); the values found, in seconds
    checks = {}
    if a.reach:
        checks["reach"] = lambda: int(stats(a.reach)["invites"]) > base
    for p in a.primary:
        name, admin, addr = p.split("=", 2)
        checks[name] = lambda admin=admin, addr=addr: primary(admin, a.node) == addr
    for u in a.until:
        name, cmd = u.split("=", 1)
        checks[name] = lambda cmd=cmd: subprocess.call(
            cmd, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0
    found = {}

    t0 = time.monotonic()
    for act in a.act:
        w = act.split()
        if w[0] == "ctl" and len(w) >= 3:
            r = ctl(w[1], w[2:])
            if not r.startswith("ok"):
                print("action %r: %s" % (act, r), file=sys.stderr)
                sys.exit(2)
        elif w[0] == "kill" and len(w) == 2:
            os.kill(int(w[1]), signal.SIGKILL)
        elif w[0] == "sleep" and len(w) == 2:
            time.sleep(float(w[1]) / 1000)
        else:
            print("bad action %r" % act, file=sys.stderr)
            sys.exit(2)

    deadline = t0 + a.timeout
    while len(found) < len(checks) and time.monotonic() < deadline:
        for name, check in checks.items():
            if name not in found:
                try:
                    if check():
                        found[name] = time.monotonic() - t0
                except (OSError, ValueError, KeyError):
                    pass  # a member or proxy busy or gone: try again
        time.sleep(a.poll / 1000)

    old_last = None
    if a.old:
        end = time.monotonic() + a.settle
        last = old_base
        while time.monotonic() < end:
            try:
                n = int(stats(a.old)["invites"])
                if n > last:
                    last, old_last = n, time.monotonic() - t0
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(a.poll / 1000)

    parts = ["%s=%s" % (k, "%.3f" % found[k] if k in found else "timeout") for k in checks]
    if a.old:
        parts.append("old=%s" % ("%.3f" % old_last if old_last is not None else "-"))
    print(" ".join(parts))
    sys.exit(0 if len(found) == len(checks) else 1)


if __name__ == "__main__":
    main()
