#!/usr/bin/env python3
"""endpoint.py — a minimal agent softphone for the registrar tests: REGISTER with
digest authentication (RFC 3261 §22.4, RFC 2617 qop=auth) through the proxy, then
answer calls on the same socket / TCP connection (so the proxy must reach it via
its flow), printing one key=value line per event. Loopback only; bounded in time."""
import argparse, hashlib, random, re, socket, sys, time


def md5(s):
    return hashlib.md5(s.encode()).hexdigest()


class Conn:
    def __init__(self, proto, local, proxy):
        self.proto, self.proxy = proto, proxy
        fam = socket.AF_INET6 if ":" in local[0] else socket.AF_INET
        if proto == "udp":
            self.s = socket.socket(fam, socket.SOCK_DGRAM)
            self.s.bind(local)
        else:
            self.s = socket.socket(fam, socket.SOCK_STREAM)
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.s.bind(local)
            self.s.connect(proxy)
        self.buf = b""

    def send(self, msg):
        data = msg.encode()
        if self.proto == "udp":
            self.s.sendto(data, self.proxy)
        else:
            self.s.sendall(data)

    def recv(self, deadline):
        while True:
            left = deadline - time.time()
            if left <= 0:
                return None
            if self.proto == "tcp":
                m = self._frame()
                if m:
                    return m
            self.s.settimeout(left)
            try:
                if self.proto == "udp":
                    data, _ = self.s.recvfrom(65535)
                    return data.decode(errors="replace")
                data = self.s.recv(65535)
            except socket.timeout:
                return None
            if not data:
                return None
            self.buf += data

    def _frame(self):
        self.buf = self.buf.lstrip(b"\r\n")
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = self.buf[:end].decode(errors="replace")
        m = re.search(r"(?im)^(?:content-length|l)\s*:\s*(\d+)", head)
        clen = int(m.group(1)) if m else 0
        total = end + 4 + clen
        if len(self.buf) < total:
            return None
        msg, self.buf = self.buf[:total], self.buf[total:]
        return msg.decode(errors="replace")


def headers(msg, name):
    return re.findall(r"(?im)^%s\s*:\s*(.*?)\r?$" % name, msg)


def first(msg, name):
    h = headers(msg, name)
    return h[0] if h else ""


def status(msg):
    m = re.match(r"SIP/2\.0 (\d{3})", msg)
    return int(m.group(1)) if m else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proto", default="udp")
    ap.add_argument("--local", required=True)
    ap.add_argument("--proxy", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--domain", default="sipproxy.test")
    ap.add_argument("--expires", type=int, default=300)
    ap.add_argument("--answer", type=int, default=0, help="calls to answer before exiting")
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--advertise", default="",
                    help="HOST:PORT for the Contact (a NATed phone's private address)")
    ap.add_argument("--q", default="", help="q-value of the Contact (RFC 3261 §20.10)")
    ap.add_argument("--reject", type=int, default=0, help="answer INVITE with this final status")
    ap.add_argument("--ring-only", action="store_true",
                    help="answer INVITE with 180 only; a CANCEL ends the call (200 + 487)")
    ap.add_argument("--path", default="", help="a Path value to add, as an SBC would (RFC 3327)")
    ap.add_argument("--contact", default="",
                    help="the whole Contact URI to register (e.g. another user's, as an attacker)")
    ap.add_argument("--then", default="", choices=["", "unregister", "unregister-all"],
                    help="after registering: expires=0 for this contact, or Contact: *")
    a = ap.parse_args()
    lh, lp = a.local.rsplit(":", 1)
    ph, pp = a.proxy.rsplit(":", 1)
    local, proxy = (lh, int(lp)), (ph, int(pp))
    c = Conn(a.proto, local, proxy)
    deadline = time.time() + a.timeout
    tp = a.proto.upper()
    aor = "sip:%s@%s" % (a.user, a.domain)
    ch, cp = a.advertise.rsplit(":", 1) if a.advertise else (lh, str(local[1]))
    contact = "<sip:%s@%s:%s;transport=%s>" % (a.user, ch, cp, a.proto)
    if a.contact:
        contact = "<%s>" % a.contact
    callid = "%x@%s" % (random.getrandbits(48), lh)
    tag = "%x" % random.getrandbits(32)
    auth = ""
    for cseq in (1, 2):
        branch = "z9hG4bK%x" % random.getrandbits(48)
        req = ("REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/%s %s:%d;branch=%s;rport\r\n"
               "Max-Forwards: 70\r\nFrom: <%s>;tag=%s\r\nTo: <%s>\r\nCall-ID: %s\r\n"
               "CSeq: %d REGISTER\r\n%sContact: %s;expires=%d\r\n%sContent-Length: 0\r\n\r\n"
               % (a.domain, tp, lh, local[1], branch, aor, tag, aor, callid, cseq,
                  ("Path: %s\r\n" % a.path) if a.path else "",
                  contact + (";q=" + a.q if a.q else ""), a.expires, auth))
        c.send(req)
        while True:
            rsp = c.recv(deadline)
            if rsp is None:
                print("register=timeout")
                return 1
            st = status(rsp)
            if st >= 200:
                break
        if st == 401 and cseq == 1:
            ch = first(rsp, "WWW-Authenticate")
            realm = re.search(r'realm="([^"]*)"', ch).group(1)
            nonce = re.search(r'nonce="([^"]*)"', ch).group(1)
            uri = "sip:%s" % a.domain
            ha1 = md5("%s:%s:%s" % (a.user, realm, a.password))
            ha2 = md5("REGISTER:%s" % uri)
            cnonce, nc = "%x" % random.getrandbits(32), "00000001"
            resp = md5("%s:%s:%s:%s:auth:%s" % (ha1, nonce, nc, cnonce, ha2))
            auth = ('Authorization: Digest username="%s", realm="%s", nonce="%s", uri="%s", '
                    'response="%s", algorithm=MD5, qop=auth, nc=%s, cnonce="%s"\r\n'
                    % (a.user, realm, nonce, uri, resp, nc, cnonce))
            continue
        break
    print("register=%d" % st, flush=True)
    if st != 200:
        return 0 if a.answer == 0 else 1
    if a.then:
        # RFC 3261 §10.2.2: same Call-ID, higher CSeq; expires=0 or "Contact: *".
        branch = "z9hG4bK%x" % random.getrandbits(48)
        cline = "Contact: *\r\nExpires: 0\r\n" if a.then == "unregister-all" else \
            "Contact: %s;expires=0\r\n" % contact
        c.send("REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/%s %s:%d;branch=%s;rport\r\n"
               "Max-Forwards: 70\r\nFrom: <%s>;tag=%s\r\nTo: <%s>\r\nCall-ID: %s\r\n"
               "CSeq: 3 REGISTER\r\n%s%sContent-Length: 0\r\n\r\n"
               % (a.domain, tp, lh, local[1], branch, aor, tag, aor, callid, cline, auth))
        while True:
            rsp = c.recv(deadline)
            if rsp is None:
                print("unregister=timeout")
                return 1
            if status(rsp) >= 200:
                break
        print("unregister=%d" % status(rsp), flush=True)
    answered = 0
    acks = 0
    ringing = ""
    while answered < a.answer:
        msg = c.recv(deadline)
        if msg is None:
            print("calls=%d result=timeout" % answered)
            return 1
        if status(msg):
            continue
        method = msg.split(" ", 1)[0]
        vias = "".join("Via: %s\r\n" % v for v in headers(msg, "Via") + headers(msg, "v"))
        rrs = "".join("Record-Route: %s\r\n" % v for v in headers(msg, "Record-Route"))
        base = "%sFrom: %s\r\nTo: %s%s\r\nCall-ID: %s\r\nCSeq: %s\r\n" % (
            vias, first(msg, "From"), first(msg, "To"),
            "" if "tag=" in first(msg, "To") or method != "INVITE" else ";tag=ep" + tag,
            first(msg, "Call-ID"), first(msg, "CSeq"))
        if method == "INVITE" and a.reject:
            c.send("SIP/2.0 %d Rejected\r\n%sContent-Length: 0\r\n\r\n" % (a.reject, base))
            answered += 1
            print("invite=rejected", flush=True)
        elif method == "INVITE" and a.ring_only:
            c.send("SIP/2.0 180 Ringing\r\n%s%sContent-Length: 0\r\n\r\n" % (base, rrs))
            ringing = base
            print("invite=ringing", flush=True)
        elif method == "CANCEL":
            c.send("SIP/2.0 200 OK\r\n%sContent-Length: 0\r\n\r\n" % base)
            if ringing:
                c.send("SIP/2.0 487 Request Terminated\r\n%sContent-Length: 0\r\n\r\n"
                       % ringing)
                ringing = ""
            answered += 1
            print("cancel=%d" % answered, flush=True)
        elif method == "INVITE":
            c.send("SIP/2.0 180 Ringing\r\n%s%sContent-Length: 0\r\n\r\n" % (base, rrs))
            sdp = "v=0\r\no=ep 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n" % (lh, lh)
            c.send("SIP/2.0 200 OK\r\n%s%sContact: %s\r\nContent-Type: application/sdp\r\n"
                   "Content-Length: %d\r\n\r\n%s" % (base, rrs, contact, len(sdp), sdp))
            print("invite=answered", flush=True)
        elif method == "BYE":
            c.send("SIP/2.0 200 OK\r\n%sContent-Length: 0\r\n\r\n" % base)
            answered += 1
            print("bye=%d" % answered, flush=True)
        elif method == "ACK":
            acks += 1
            print("ack=%d" % acks, flush=True)
        else:
            c.send("SIP/2.0 200 OK\r\n%sContent-Length: 0\r\n\r\n" % base)
    return 0


if __name__ == "__main__":
    sys.exit(main())
