#!/usr/bin/env python3
"""probe.py — the raw SIP and RTP checks of sipsim_ha/run.sh against one sipsim.

    probe.py backup SIM LOCAL          a backup answers INVITE, REGISTER, BYE with 503
    probe.py dead SIM LOCAL SIPSIM CTL  "role dead" silences UDP and TCP (no answer, no
                                        ICMP error, no RST, connections stay open),
                                        "role active" brings the same connections back
    probe.py media SIM LOCAL            SDP answers (RFC 3264 §6), an offer for an
                                        INVITE without one, an RTP echo per call
    probe.py digest SIM LOCAL USER PW   every challenge has its own nonce; a right
                                        digest on an expired nonce -> 401 stale=true,
                                        a wrong one -> 401 without; then 200

SIM and LOCAL are HOST:PORT (LOCAL: where our UDP socket binds); SIPSIM the
binary and CTL its control address (the dead check switches roles itself).
Prints "ok <check>" lines; exits 1 after "bad <check>: <why>".
"""
import hashlib
import random
import re
import select
import socket
import subprocess
import sys
import time


def hostport(s):
    h, _, p = s.rpartition(":")
    return h, int(p)


def bad(what, why):
    print("bad %s: %s" % (what, why))
    sys.exit(1)


def tok():
    return "%x" % random.getrandbits(40)


def request(method, ruri, local, callid, cseq=1, proto="UDP", to_tag="", extra="",
            body="", branch=""):
    lh, lp = local
    msg = ("%s %s SIP/2.0\r\n" % (method, ruri) +
           "Via: SIP/2.0/%s %s:%d;branch=z9hG4bK%s;rport\r\n" % (proto, lh, lp,
                                                               branch or tok()) +
           "Max-Forwards: 70\r\n"
           "From: <sip:probe@%s>;tag=p%s\r\n" % (lh, callid[:8]) +
           "To: <%s>%s\r\n" % (ruri, ";tag=" + to_tag if to_tag else "") +
           "Call-ID: %s\r\nCSeq: %d %s\r\n" % (callid, cseq, method) +
           "Contact: <sip:probe@%s:%d>\r\n" % (lh, lp) + extra)
    if body:
        msg += "Content-Type: application/sdp\r\n"
    return (msg + "Content-Length: %d\r\n\r\n" % len(body) + body).encode()


def status(msg):
    return int(msg.split(b" ", 2)[1]) if msg.startswith(b"SIP/2.0 ") else 0


def header(msg, name):
    m = re.search(rb"^" + name.encode() + rb"[ \t]*:[ \t]*(.*?)\r?$", msg, re.I | re.M)
    return m.group(1).decode() if m else ""


def body(msg):
    return msg.split(b"\r\n\r\n", 1)[1].decode()


def to_tag(msg):
    m = re.search(r";tag=([^;>\s]+)", header(msg, "To"))
    return m.group(1) if m else ""


class Udp:
    def __init__(self, local, sim):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind(local)
        self.local, self.sim = local, sim

    def final(self, msg, what, wait=5.0):
        """Sends msg, returns the first final response to it."""
        self.s.sendto(msg, self.sim)
        callid = header(msg, "Call-ID")
        deadline = time.time() + wait
        while time.time() < deadline:
            self.s.settimeout(max(0.01, deadline - time.time()))
            try:
                data = self.s.recv(65536)
            except socket.timeout:
                break
            if header(data, "Call-ID") == callid and status(data) >= 200:
                return data
        bad(what, "no final response")


# ---- backup -------------------------------------------------------------------

def check_backup(sim, local):
    u = Udp(local, sim)
    ruri = "sip:bob@%s:%d" % sim
    for method in ("INVITE", "REGISTER", "BYE"):
        rsp = u.final(request(method, ruri, local, tok()), "backup " + method)
        if status(rsp) != 503:
            bad("backup", "%s answered %d, not 503" % (method, status(rsp)))
    print("ok backup answers 503")


# ---- dead ---------------------------------------------------------------------

def ctl(sipsim, addr, *words):
    out = subprocess.run([sipsim, "ctl", addr] + list(words), capture_output=True,
                         text=True, timeout=10)
    if out.returncode != 0 or not out.stdout.startswith("ok"):
        bad("ctl", "%s -> %r %r" % (" ".join(words), out.stdout, out.stderr))
    return out.stdout.strip()


def tcp_read_msg(c, wait):
    """One SIP message from a TCP connection, None on timeout, b"" on EOF."""
    buf = b""
    deadline = time.time() + wait
    while True:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            cl = re.search(rb"^content-length[ \t]*:[ \t]*(\d+)", buf[:end], re.I | re.M)
            total = end + 4 + (int(cl.group(1)) if cl else 0)
            if len(buf) >= total:
                return buf[:total]
        left = deadline - time.time()
        if left <= 0:
            return None
        c.settimeout(left)
        try:
            data = c.recv(65536)
        except socket.timeout:
            return None
        if not data:
            return b""
        buf += data


def options(local, sim, proto):
    return request("OPTIONS", "sip:%s:%d" % sim, local, tok(), proto=proto)


def check_dead(sim, local, sipsim, ctl_addr):
    ruri = "sip:bob@%s:%d" % sim
    old = socket.create_connection(sim, timeout=5)
    old.sendall(options(old.getsockname(), sim, "TCP"))
    rsp = tcp_read_msg(old, 5)
    if not rsp or status(rsp) != 200:
        bad("dead", "no 200 to OPTIONS over TCP while active: %r" % rsp)
    ctl(sipsim, ctl_addr, "role", "dead")
    # A connected UDP socket reports an ICMP port unreachable as an error.
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(local)
    u.connect(sim)
    u.send(options(local, sim, "UDP"))
    u.send(request("INVITE", ruri, local, tok()))
    u.send(request("REGISTER", ruri, local, tok()))
    old.sendall(options(old.getsockname(), sim, "TCP"))
    try:
        new = socket.create_connection(sim, timeout=5)
    except OSError as e:
        bad("dead", "a new TCP connection is refused: %s" % e)
    new.sendall(options(new.getsockname(), sim, "TCP"))
    # Nothing may become readable: an answer, an ICMP error, an EOF or a RST would.
    r, _, _ = select.select([u, old, new], [], [], 2.0)
    for s in r:
        try:
            data = s.recv(65536)
        except OSError as e:
            bad("dead", "socket error while dead: %s" % e)
        bad("dead", "got %r while dead" % data[:60])
    print("ok dead: no answer, no ICMP error, TCP connections open and silent")
    ctl(sipsim, ctl_addr, "role", "active")
    for name, c in (("old", old), ("new", new)):
        c.sendall(options(c.getsockname(), sim, "TCP"))
        rsp = tcp_read_msg(c, 5)
        if not rsp or status(rsp) != 200:
            bad("dead", "the %s TCP connection does not answer once active: %r" % (name, rsp))
    u.send(options(local, sim, "UDP"))
    u.settimeout(5)
    if status(u.recv(65536)) != 200:
        bad("dead", "no 200 over UDP once active")
    print("ok active again on the same connections")


# ---- media --------------------------------------------------------------------

def sdp_of(rsp, what):
    if header(rsp, "Content-Type") != "application/sdp":
        bad(what, "no SDP in %r" % rsp[:200])
    return body(rsp)


def m_lines(sdp):
    return [l.split(" ") for l in sdp.splitlines() if l.startswith("m=")]


def offer(port, fmts, attrs, extra=""):
    return ("v=0\r\no=probe 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP %s\r\n%s%s" % (port, fmts, attrs, extra))


def invite(u, sim, local, what, sdp):
    callid = tok()
    ruri = "sip:echo@%s:%d" % sim
    rsp = u.final(request("INVITE", ruri, local, callid, body=sdp), what)
    if status(rsp) != 200:
        bad(what, "INVITE answered %d" % status(rsp))
    return callid, ruri, rsp


def ack(u, ruri, local, callid, rsp, sdp=""):
    u.s.sendto(request("ACK", ruri, local, callid, to_tag=to_tag(rsp), body=sdp), u.sim)


def echo(sock, dst, n, what):
    got = 0
    for i in range(n):
        pkt = bytes([0x80, 0x00, 0, i]) + b"\x00" * 8 + ("%s-%d" % (what, i)).encode() * 8
        sock.sendto(pkt, dst)
        sock.settimeout(2)
        try:
            data, src = sock.recvfrom(4096)
        except socket.timeout:
            bad("media", "%s: packet %d not echoed" % (what, i))
        if data != pkt or src != dst:
            bad("media", "%s: echo %r from %s, not our packet from %s" % (what, data[:20], src, dst))
        got += 1
    return got


def check_media(sim, local):
    u = Udp(local, sim)
    host = sim[0]
    rsp = u.final(options(local, sim, "UDP"), "options")
    rsp = u.final(options(local, sim, "UDP"), "options")
    rsp = u.final(request("REGISTER", "sip:%s:%d" % sim, local, tok()), "register")
    if status(rsp) != 401:
        bad("media", "REGISTER without credentials: %d" % status(rsp))
    # A: the answer keeps the offer's formats in its order (RFC 3264 §6.1).
    a_id, a_ruri, a_rsp = invite(u, sim, local, "offer A", offer(
        40000, "8 0 101", "a=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n"
        "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=sendrecv\r\n"))
    a_sdp = sdp_of(a_rsp, "answer A")
    ms = m_lines(a_sdp)
    if len(ms) != 1 or ms[0][0] != "m=audio" or ms[0][2:] != ["RTP/AVP", "8", "0", "101"]:
        bad("media", "answer A m= lines %r" % ms)
    for want in ("c=IN IP4 %s" % host, "a=rtpmap:8 PCMA/8000", "a=fmtp:101 0-16", "a=sendrecv"):
        if want not in a_sdp.splitlines():
            bad("media", "answer A lacks %r:\n%s" % (want, a_sdp))
    ack(u, a_ruri, local, a_id, a_rsp)
    pa = int(ms[0][1])
    # B: sendonly is answered recvonly, the video stream refused with port 0 (§6).
    b_id, b_ruri, b_rsp = invite(u, sim, local, "offer B", offer(
        40002, "0", "a=rtpmap:0 PCMU/8000\r\na=sendonly\r\n",
        "m=video 40004 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"))
    b_sdp = sdp_of(b_rsp, "answer B")
    ms = m_lines(b_sdp)
    if len(ms) != 2 or ms[0][2:] != ["RTP/AVP", "0"] or ms[1] != ["m=video", "0", "RTP/AVP", "96"]:
        bad("media", "answer B m= lines %r" % ms)
    if "a=recvonly" not in b_sdp.splitlines():
        bad("media", "answer B is not recvonly:\n%s" % b_sdp)
    ack(u, b_ruri, local, b_id, b_rsp)
    pb = int(ms[0][1])
    # C: no offer in the INVITE -> an offer in the 200, the answer in the ACK.
    c_id, c_ruri, c_rsp = invite(u, sim, local, "no offer C", "")
    c_sdp = sdp_of(c_rsp, "offer C")
    ms = m_lines(c_sdp)
    if len(ms) != 1 or ms[0][0] != "m=audio" or "0" not in ms[0][3:] or \
            "c=IN IP4 %s" % host not in c_sdp.splitlines():
        bad("media", "offer C:\n%s" % c_sdp)
    ack(u, c_ruri, local, c_id, c_rsp, offer(40006, "0", "a=rtpmap:0 PCMU/8000\r\n"))
    pc = int(ms[0][1])
    if len({pa, pb, pc}) != 3:
        bad("media", "calls share an RTP port: %d %d %d" % (pa, pb, pc))
    # Each call's socket echoes to its own sender only.
    ra, rb, rc = (socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(3))
    for s in (ra, rb, rc):
        s.bind((local[0], 0))
    n = echo(ra, (host, pa), 5, "A") + echo(rb, (host, pb), 3, "B") + echo(rc, (host, pc), 2, "C")
    r, _, _ = select.select([ra, rb, rc], [], [], 0.3)
    if r:
        bad("media", "an echo reached another call's socket")
    print("ok media: answers, offer, %d packets echoed, each to its own sender" % n)
    for callid, ruri, rsp in ((a_id, a_ruri, a_rsp), (b_id, b_ruri, b_rsp), (c_id, c_ruri, c_rsp)):
        bye = u.final(request("BYE", ruri, local, callid, cseq=2, to_tag=to_tag(rsp)), "BYE")
        if status(bye) != 200:
            bad("media", "BYE answered %d" % status(bye))
    # The echo socket is gone with the call.
    ra.sendto(b"\x80\x00\x00\x09after-bye", (host, pa))
    ra.settimeout(0.5)
    try:
        data = ra.recv(4096)
        bad("media", "echo after BYE: %r" % data)
    except (socket.timeout, ConnectionRefusedError):
        pass
    print("ok media: echo closed at BYE")


# ---- digest -------------------------------------------------------------------

def md5(s):
    return hashlib.md5(s.encode()).hexdigest()


def challenge(rsp, what):
    if status(rsp) != 401:
        bad(what, "status %d, not 401" % status(rsp))
    ch = header(rsp, "WWW-Authenticate")
    return (re.search(r'realm="([^"]*)"', ch).group(1), re.search(r'nonce="([^"]*)"', ch).group(1),
            "stale=true" in ch.lower())


def register(local, sim, user, callid, cseq, auth=""):
    ruri = "sip:%s:%d" % sim
    return request("REGISTER", ruri, local, callid, cseq=cseq,
                   extra=auth).replace(b"To: <" + ruri.encode() + b">",
                                       ("To: <sip:%s@sipproxy.test>" % user).encode())


def digest(user, pw, realm, nonce, uri):
    ha1, ha2 = md5("%s:%s:%s" % (user, realm, pw)), md5("REGISTER:%s" % uri)
    cnonce, nc = tok(), "00000001"
    resp = md5("%s:%s:%s:%s:auth:%s" % (ha1, nonce, nc, cnonce, ha2))
    return ('Authorization: Digest username="%s", realm="%s", nonce="%s", uri="%s", '
            'response="%s", algorithm=MD5, qop=auth, nc=%s, cnonce="%s"\r\n'
            % (user, realm, nonce, uri, resp, nc, cnonce))


def check_digest(sim, local, user, pw, ttl):
    u = Udp(local, sim)
    uri = "sip:%s:%d" % sim
    callid = tok()
    nonces = []
    for cseq in (1, 2, 3):
        realm, nonce, stale = challenge(u.final(register(local, sim, user, callid, cseq), "401"),
                                        "challenge")
        nonces.append(nonce)
    if len(set(nonces)) != 3:
        bad("digest", "challenges repeat a nonce: %r" % nonces)
    old = nonces[0]
    time.sleep(ttl + 1.2)
    _, fresh, stale = challenge(u.final(register(local, sim, user, callid, 4,
                                                 digest(user, pw, realm, old, uri)), "stale"),
                                "stale nonce")
    if not stale:
        bad("digest", "right digest on an expired nonce: 401 without stale=true")
    _, _, stale = challenge(u.final(register(local, sim, user, callid, 5,
                                             digest(user, pw + "x", realm, old, uri)), "stale"),
                            "stale nonce, wrong password")
    if stale:
        bad("digest", "wrong password on an expired nonce: stale=true")
    rsp = u.final(register(local, sim, user, callid, 6, digest(user, pw, realm, fresh, uri)), "200")
    if status(rsp) != 200:
        bad("digest", "right digest on the fresh nonce: %d" % status(rsp))
    print("ok digest: own nonce per challenge, stale=true only for a right digest, then 200")


def main():
    what = sys.argv[1]
    sim, local = hostport(sys.argv[2]), hostport(sys.argv[3])
    if what == "backup":
        check_backup(sim, local)
    elif what == "dead":
        check_dead(sim, local, sys.argv[4], sys.argv[5])
    elif what == "media":
        check_media(sim, local)
    elif what == "digest":
        check_digest(sim, local, sys.argv[4], sys.argv[5], float(sys.argv[6]))
    else:
        bad("usage", what)


if __name__ == "__main__":
    main()
