#!/usr/bin/env python3
"""abuse.py — what an attacker on the network does to a SIP proxy, bounded in count
and time, loopback only: many idle TCP connections, slow senders that dribble a
message a byte at a time, connections past the cap, and a burst of garbage and
truncated datagrams. Prints key=value counts; the driver checks the proxy."""
import argparse, socket, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("--proxy", required=True)
ap.add_argument("--src", default="127.0.0.5")
ap.add_argument("--idle", type=int, default=1500)
ap.add_argument("--dribble", type=int, default=100)
ap.add_argument("--garbage", type=int, default=20000)
ap.add_argument("--hold", type=float, default=2, help="seconds to keep connections open at the end")
a = ap.parse_args()
host, port = a.proxy.rsplit(":", 1)
dst = (host, int(port))

idle, refused = [], 0
for i in range(a.idle):
    s = socket.socket()
    s.bind((a.src, 0))
    try:
        s.settimeout(2)
        s.connect(dst)
        idle.append(s)
    except OSError:
        refused += 1
        s.close()
print("idle_open=%d idle_refused=%d" % (len(idle), refused), flush=True)

dribblers = []
partial = (b"INVITE sip:x@%s SIP/2.0\r\nVia: SIP/2.0/TCP %s:1;branch=z9hG4bKslow\r\n"
           % (host.encode(), a.src.encode()))
for i in range(a.dribble):
    s = socket.socket()
    s.bind((a.src, 0))
    try:
        s.settimeout(2)
        s.connect(dst)
        dribblers.append(s)
    except OSError:
        s.close()
for k in range(6):  # one byte per connection every 0.5 s for 3 s
    for s in dribblers:
        try:
            s.send(partial[k:k + 1])
        except OSError:
            pass
    time.sleep(0.5)
print("dribblers=%d" % len(dribblers), flush=True)

u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind((a.src, 0))
junk = [b"\x00" * 10, b"INVITE", b"SIP/2.0 200 OK\r\n\r\n", b"\r\n\r\n",
        b"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4\r\nContent-Length: 99999\r\n\r\n",
        bytes(range(256)) * 4]
for i in range(a.garbage):
    u.sendto(junk[i % len(junk)], dst)
    if i % 2000 == 0:
        time.sleep(0.01)
print("garbage_sent=%d" % a.garbage, flush=True)
# keep the connections open while the driver checks the proxy still serves calls
time.sleep(a.hold)
