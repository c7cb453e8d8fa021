/* parse_bench.c — parses realistic messages N times (default 20000) to measure
 * the parser's cost per message (sip_msg_new + sip_msg_parse + sip_msg_free).
 * Meant for callgrind on an optimised, unsanitised build:
 *   cc -O2 -I src bench/parser/parse_bench.c src/sip/{chars,frame,msg,parse,parse_addr,
 *      parse_hdr,uri,uri_cmp}.c src/util/str.c src/util/arena.c -o /tmp/parse_bench
 *   valgrind --tool=callgrind /tmp/parse_bench 0 invite     (baseline: start-up only)
 *   valgrind --tool=callgrind /tmp/parse_bench 1000 invite  (1000 INVITEs)
 * Instructions per message = (Ir of the second - Ir of the first) / 1000.
 * (or via bench/parser/CMakeLists.txt once the lead adds it to the root). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip/msg.h"

/* ~900 octets: 4 Vias, Route, Record-Route, Contact, SDP body. */
static const char invite[] =
    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP proxy3.example.net:5060;branch=z9hG4bK8f2a7c.1\r\n"
    "Via: SIP/2.0/TCP proxy2.example.org;branch=z9hG4bK3e21.2;received=192.0.2.12\r\n"
    "Via: SIP/2.0/UDP proxy1.example.com;branch=z9hG4bK77ef4c2312983.1;rport=5060\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bKnashds8;rport\r\n"
    "Max-Forwards: 67\r\n"
    "Route: <sip:proxy4.biloxi.example.com;lr>\r\n"
    "Record-Route: <sip:proxy3.example.net;lr>, <sip:proxy2.example.org;lr>\r\n"
    "To: Bob <sip:bob@biloxi.example.com>\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:alice@pc33.atlanta.example.com;transport=udp>\r\n"
    "Supported: replaces, timer\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 149\r\n"
    "\r\n"
    "v=0\r\n"
    "o=alice 2890844526 2890844526 IN IP4 pc33.atlanta.example.com\r\n"
    "s=-\r\n"
    "c=IN IP4 192.0.2.101\r\n"
    "t=0 0\r\n"
    "m=audio 49172 RTP/AVP 0\r\n"
    "a=rtpmap:0 PCMU/8000\r\n";

static const char ok200[] =
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8;received=192.0.2.101\r\n"
    "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:bob@192.0.2.4>\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

static const char reg[] =
    "REGISTER sip:registrar.biloxi.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP bobspc.biloxi.example.com:5060;branch=z9hG4bKnashds7\r\n"
    "Max-Forwards: 70\r\n"
    "To: Bob <sip:bob@biloxi.example.com>\r\n"
    "From: Bob <sip:bob@biloxi.example.com>;tag=456248\r\n"
    "Call-ID: 843817637684230@998sdasdh09\r\n"
    "CSeq: 1826 REGISTER\r\n"
    "Contact: <sip:bob@192.0.2.4>;expires=7200\r\n"
    "Expires: 7200\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 20000;
	int only_invite = argc > 2 && strcmp(argv[2], "invite") == 0;
	const struct {
		const char *p;
		size_t len;
	} msgs[] = {
	    {invite, sizeof(invite) - 1}, {ok200, sizeof(ok200) - 1}, {reg, sizeof(reg) - 1}};
	size_t nmsgs = only_invite ? 1 : 3;
	long parsed = 0, failed = 0;
	for (long i = 0; i < n; i++) {
		for (size_t k = 0; k < nmsgs; k++) {
			struct sip_msg *m = sip_msg_new(msgs[k].p, msgs[k].len);
			if (!m || sip_msg_parse(m, NULL) != 0)
				failed++;
			parsed++;
			sip_msg_free(m);
		}
	}
	printf("messages=%ld failed=%ld invite_bytes=%zu\n", parsed, failed, sizeof(invite) - 1);
	return failed ? 1 : 0;
}
