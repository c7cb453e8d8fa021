/* test_txn_server.c — server transactions (RFC 3261 §17.2, RFC 6026) over a
 * real transport on 127.0.0.1 (UDP and TCP) with a raw UDP peer, all on ports
 * the kernel picks (txn_fixture.h):
 * 100 Trying, absorption, Timers G/H/I/J/L, ACK handling, CANCEL matching, the
 * RFC 2543 rules and 100,000 concurrent transactions. */
#include "txn_fixture.h"

#define INVITE_FMT                                                                                 \
	"INVITE sip:bob@127.0.0.1:%u SIP/2.0\r\n"                                                  \
	"Via: SIP/2.0/UDP 127.0.0.1:%u;branch=%s\r\n"                                              \
	"Max-Forwards: 70\r\n"                                                                     \
	"From: <sip:alice@127.0.0.1>;tag=a1\r\n"                                                   \
	"To: <sip:bob@127.0.0.1>\r\n"                                                              \
	"Call-ID: %s\r\n"                                                                          \
	"CSeq: 1 INVITE\r\n"                                                                       \
	"Contact: <sip:alice@127.0.0.1:%u>\r\n"                                                    \
	"Content-Length: 0\r\n\r\n"

/* The INVITE from the peer (Via and Contact at its port). */
static void invite_text(const struct fx *f, char *m, size_t cap, const char *branch,
			const char *callid)
{
	snprintf(m, cap, INVITE_FMT, f->udp_port, f->peer_port, branch, callid, f->peer_port);
}

static void send_invite(const struct fx *f, const char *branch, const char *callid)
{
	char m[1024];
	invite_text(f, m, sizeof(m), branch, callid);
	peer_send(f, m);
}

static void send_ack(const struct fx *f, const char *branch, const char *callid, const char *totag)
{
	char m[1024];
	snprintf(m, sizeof(m),
		 "ACK sip:bob@127.0.0.1:%u SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=%s\r\n"
		 "Max-Forwards: 70\r\n"
		 "From: <sip:alice@127.0.0.1>;tag=a1\r\n"
		 "To: <sip:bob@127.0.0.1>;tag=%s\r\n"
		 "Call-ID: %s\r\n"
		 "CSeq: 1 ACK\r\n"
		 "Content-Length: 0\r\n\r\n",
		 f->udp_port, f->peer_port, branch, totag, callid);
	peer_send(f, m);
}

static void send_bye(const struct fx *f, const char *branch)
{
	char m[1024];
	snprintf(m, sizeof(m),
		 "BYE sip:bob@127.0.0.1:%u SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=%s\r\n"
		 "Max-Forwards: 70\r\n"
		 "From: <sip:alice@127.0.0.1>;tag=a1\r\n"
		 "To: <sip:bob@127.0.0.1>;tag=b1\r\n"
		 "Call-ID: bye-1\r\n"
		 "CSeq: 2 BYE\r\n"
		 "Content-Length: 0\r\n\r\n",
		 f->udp_port, f->peer_port, branch);
	peer_send(f, m);
}

static const char *const P_RSP[] = {"SIP/2.0 100", "SIP/2.0 486", "SIP/2.0 200", "SIP/2.0 404"};

/* §17.2.1 and §17.2.3: 100 Trying at once, a retransmitted INVITE is absorbed
 * (TU sees it once) and answered with the last response; after a 486 Timer G
 * retransmits it and Timer H ends the transaction when no ACK comes. */
static void test_invite_server_trying_g_h(void **state)
{
	(void)state;
	struct fx *f = fx_new(20, 40);
	struct inbox in = {0};
	send_invite(f, "z9hG4bKinv1", "inv-1");
	run_until(f, &f->n_request, 1);
	send_invite(f, "z9hG4bKinv1", "inv-1");
	for (int i = 0; i < 200 && in.count[0] < 2; i++) {
		spin(f);
		peer_read(f->peer, &in, P_RSP, 4);
	}
	assert_int_equal(in.count[0], 2); /* 100 for the INVITE and its retransmission */
	assert_int_equal(f->n_request, 1);
	assert_int_equal(txn_server_status(f->invite_st), 100);

	reply(f, f->invite_st, 486, "srv1");
	run_until(f, &f->n_gone, 1); /* Timer H = 64*T1 */
	peer_read(f->peer, &in, P_RSP, 4);
	/* The first 486 plus Timer G retransmissions at T1, 2T1, 4T1, 8T1 (T2 =
	 * 8T1 caps the rest) before H at 64T1: 1 + about 8. */
	assert_true(in.count[1] >= 5);
	assert_true(in.count[1] <= 12);
	assert_non_null(strstr(in.last[1], "tag=srv1"));
	size_t s, c;
	txn_layer_counts(f->L, &s, &c);
	assert_int_equal(s, 0);
	fx_free(f);
}

/* §17.2.1: the ACK for a non-2xx final matches the transaction, is absorbed
 * (never reaches the TU), stops Timer G and Timer I then ends it. */
static void test_invite_server_ack_absorbed(void **state)
{
	(void)state;
	struct fx *f = fx_new(20, 40);
	struct inbox in = {0};
	f->auto_status = 404;
	f->auto_tag = "t404";
	send_invite(f, "z9hG4bKinv2", "inv-2");
	for (int i = 0; i < 200 && in.count[3] < 1; i++) {
		spin(f);
		peer_read(f->peer, &in, P_RSP, 4);
	}
	assert_int_equal(in.count[3], 1);
	send_ack(f, "z9hG4bKinv2", "inv-2", "t404");
	send_ack(f, "z9hG4bKinv2", "inv-2", "t404"); /* retransmitted ACK */
	run_until(f, &f->n_gone, 1);		     /* Timer I = T4 */
	peer_read(f->peer, &in, P_RSP, 4);
	assert_int_equal(f->n_ack, 0);
	/* ACK sent right after the first 404: at most one G retransmission raced it,
	 * far fewer than the ~9 sent without an ACK. */
	assert_true(in.count[3] <= 3);
	fx_free(f);
}

/* RFC 6026 §7.1, §8.7: after a 2xx the transaction is Accepted; retransmitted
 * INVITEs are absorbed silently, further 2xx from the TU are sent, and the ACK
 * (new branch, §13.2.2.4) goes to the TU; Timer L ends it. */
static void test_invite_server_accepted(void **state)
{
	(void)state;
	struct fx *f = fx_new(20, 40);
	struct inbox in = {0};
	f->auto_status = 200;
	f->auto_tag = "ok1";
	send_invite(f, "z9hG4bKinv3", "inv-3");
	for (int i = 0; i < 200 && in.count[2] < 1; i++) {
		spin(f);
		peer_read(f->peer, &in, P_RSP, 4);
	}
	assert_int_equal(in.count[2], 1);
	struct txn_server *st = f->invite_st;
	assert_non_null(st);
	send_invite(f, "z9hG4bKinv3", "inv-3");
	run_steps(f, 10);
	peer_read(f->peer, &in, P_RSP, 4);
	assert_int_equal(in.count[2], 1); /* absorbed, not answered */
	assert_int_equal(f->n_request, 1);
	reply(f, st, 200, "ok1"); /* the TU's own 2xx retransmission */
	send_ack(f, "z9hG4bKack3", "inv-3", "ok1");
	run_until(f, &f->n_ack, 1);
	/* A non-2xx after the 2xx is refused. */
	char buf[2048];
	size_t n = sip_build_response(txn_server_request(st), 500, NULL, STR_NULL, STR_NULL, buf,
				      sizeof(buf));
	assert_true(txn_server_reply(st, 500, buf, n) < 0);
	run_until(f, &f->n_gone, 1); /* Timer L */
	peer_read(f->peer, &in, P_RSP, 4);
	assert_int_equal(in.count[2], 2);
	assert_int_equal(f->n_ack, 1);
	fx_free(f);
}

/* §17.2.2: a retransmitted BYE is absorbed and answered with the last
 * response; Timer J (64*T1 on UDP) ends the transaction. */
static void test_bye_absorbed(void **state)
{
	(void)state;
	struct fx *f = fx_new(20, 40);
	struct inbox in = {0};
	f->auto_status = 200;
	send_bye(f, "z9hG4bKbye1");
	run_until(f, &f->n_request, 1);
	send_bye(f, "z9hG4bKbye1");
	for (int i = 0; i < 200 && in.count[2] < 2; i++) {
		spin(f);
		peer_read(f->peer, &in, P_RSP, 4);
	}
	assert_int_equal(in.count[2], 2);
	assert_int_equal(f->n_request, 1);
	assert_int_equal(in.count[0], 0); /* no 100 for a non-INVITE */
	run_until(f, &f->n_gone, 1);
	fx_free(f);
}

static int tcp_connect(const struct fx *f)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(f->tcp_port)};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* Reads what is available on a TCP socket, appending to acc. */
static void tcp_read(int fd, char *acc, size_t cap)
{
	size_t have = strlen(acc);
	ssize_t n;
	while (have + 1 < cap && (n = recv(fd, acc + have, cap - have - 1, MSG_DONTWAIT)) > 0) {
		have += (size_t)n;
		acc[have] = '\0';
	}
}

static int count_str(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* §17.2.1 / §17.2.2 on a reliable transport: no Timer G, and Timers I and J
 * are 0 — with T1 = 10 s (so J and H would be 640 s on UDP) the transactions
 * still end at once. Responses go back over the request's connection (§18.2.2). */
static void test_tcp_timer_values(void **state)
{
	(void)state;
	struct fx *f = fx_new(10000, 5000);
	int fd = tcp_connect(f);
	f->auto_status = 200;
	const char *bye = "BYE sip:bob@127.0.0.1 SIP/2.0\r\n"
			  "Via: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKtcpbye\r\n"
			  "Max-Forwards: 70\r\n"
			  "From: <sip:alice@127.0.0.1>;tag=a1\r\n"
			  "To: <sip:bob@127.0.0.1>;tag=b1\r\n"
			  "Call-ID: tcp-1\r\n"
			  "CSeq: 2 BYE\r\n"
			  "Content-Length: 0\r\n\r\n";
	assert_int_equal(send(fd, bye, strlen(bye), 0), (ssize_t)strlen(bye));
	run_until(f, &f->n_gone, 1); /* Timer J = 0 */
	char acc[8192] = "";
	for (int i = 0; i < 100 && count_str(acc, "SIP/2.0 200") < 1; i++) {
		spin(f);
		tcp_read(fd, acc, sizeof(acc));
	}
	assert_int_equal(count_str(acc, "SIP/2.0 200"), 1);

	f->auto_status = 486;
	f->auto_tag = "tt";
	const char *inv = "INVITE sip:bob@127.0.0.1 SIP/2.0\r\n"
			  "Via: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKtcpinv\r\n"
			  "Max-Forwards: 70\r\n"
			  "From: <sip:alice@127.0.0.1>;tag=a1\r\n"
			  "To: <sip:bob@127.0.0.1>\r\n"
			  "Call-ID: tcp-2\r\n"
			  "CSeq: 1 INVITE\r\n"
			  "Content-Length: 0\r\n\r\n";
	assert_int_equal(send(fd, inv, strlen(inv), 0), (ssize_t)strlen(inv));
	for (int i = 0; i < 200 && count_str(acc, "SIP/2.0 486") < 1; i++) {
		spin(f);
		tcp_read(fd, acc, sizeof(acc));
	}
	const char *ack = "ACK sip:bob@127.0.0.1 SIP/2.0\r\n"
			  "Via: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKtcpinv\r\n"
			  "Max-Forwards: 70\r\n"
			  "From: <sip:alice@127.0.0.1>;tag=a1\r\n"
			  "To: <sip:bob@127.0.0.1>;tag=tt\r\n"
			  "Call-ID: tcp-2\r\n"
			  "CSeq: 1 ACK\r\n"
			  "Content-Length: 0\r\n\r\n";
	assert_int_equal(send(fd, ack, strlen(ack), 0), (ssize_t)strlen(ack));
	run_until(f, &f->n_gone, 2); /* Timer I = 0 */
	run_steps(f, 10);
	tcp_read(fd, acc, sizeof(acc));
	assert_int_equal(count_str(acc, "SIP/2.0 100"), 1);
	assert_int_equal(count_str(acc, "SIP/2.0 486"), 1); /* no Timer G */
	assert_int_equal(f->n_ack, 0);
	close(fd);
	fx_free(f);
}

static void test_cancel_finds_invite(void **state)
{
	(void)state;
	struct fx *f = fx_new(20, 40);
	send_invite(f, "z9hG4bKcan1", "can-1");
	run_until(f, &f->n_request, 1);
	char m[1024];
	snprintf(m, sizeof(m),
		 "CANCEL sip:bob@127.0.0.1:%u SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKcan1\r\n"
		 "Max-Forwards: 70\r\n"
		 "From: <sip:alice@127.0.0.1>;tag=a1\r\n"
		 "To: <sip:bob@127.0.0.1>\r\n"
		 "Call-ID: can-1\r\n"
		 "CSeq: 1 CANCEL\r\n"
		 "Content-Length: 0\r\n\r\n",
		 f->udp_port, f->peer_port);
	peer_send(f, m);
	run_until(f, &f->n_request, 2);
	assert_int_equal(f->n_cancel_found, 1);
	/* A CANCEL for another branch finds nothing. */
	char *p = strstr(m, "can1;");
	(void)p;
	char *b = strstr(m, "z9hG4bKcan1");
	memcpy(b, "z9hG4bKcan9", 11);
	peer_send(f, m);
	run_until(f, &f->n_request, 3);
	assert_int_equal(f->n_cancel_found, 1);
	fx_free(f);
}

/* §17.2.3 RFC 2543 rules, with RFC 4475 §3.2.1 "badbranch" (a branch that is
 * only the magic cookie): the retransmission is still recognised, and the ACK
 * carrying our 404's To tag is absorbed by the INVITE transaction. */
static void test_rfc2543_matching(void **state)
{
	(void)state;
	struct fx *f = fx_new(20, 40);
	struct inbox in = {0};
	f->auto_status = 404;
	f->auto_tag = "old";
	send_invite(f, "z9hG4bK", "old-1");
	run_until(f, &f->n_request, 1);
	send_invite(f, "z9hG4bK", "old-1");
	for (int i = 0; i < 200 && in.count[3] < 2; i++) {
		spin(f);
		peer_read(f->peer, &in, P_RSP, 4);
	}
	assert_true(in.count[3] >= 2);
	assert_int_equal(f->n_request, 1);
	/* Same Call-ID and CSeq but another From tag: a different transaction. */
	char m[1024];
	invite_text(f, m, sizeof(m), "z9hG4bK", "old-1");
	char *t = strstr(m, "tag=a1");
	memcpy(t, "tag=a2", 6);
	peer_send(f, m);
	run_until(f, &f->n_request, 2);
	send_ack(f, "z9hG4bK", "old-1", "old");
	run_until(f, &f->n_gone, 1); /* Confirmed then Timer I */
	assert_int_equal(f->n_ack, 0);
	/* An ACK with a To tag we never sent is not ours: it goes to the TU. */
	send_ack(f, "z9hG4bK", "old-1", "other");
	run_until(f, &f->n_ack, 1);
	fx_free(f);
}

/* RFC 4475 §3.2.1, the "badbranch" message itself (branch = the bare cookie):
 * its retransmission is matched by the RFC 2543 rules and absorbed; the same
 * request with another CSeq is a new transaction. Nothing is answered, so
 * nothing is sent outside the test's ports. */
static void test_rfc4475_badbranch(void **state)
{
	(void)state;
	struct fx *f = fx_new(20, 40);
	struct tp_packet pkt = {.proto = TP_UDP};
	assert_int_equal(tp_addr_from_ip(str_cstr("127.0.0.1"), f->sink_port, &pkt.src), 0);
	const char *text = "OPTIONS sip:user@example.com SIP/2.0\r\n"
			   "To: sip:user@example.com\r\n"
			   "From: sip:caller@example.org;tag=33242\r\n"
			   "Max-Forwards: 3\r\n"
			   "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK\r\n"
			   "Accept: application/sdp\r\n"
			   "Call-ID: badbranch.sadonfo23i420jv0as0derf3j3n\r\n"
			   "CSeq: 8 OPTIONS\r\n"
			   "l: 0\r\n\r\n";
	for (int i = 0; i < 2; i++) {
		struct sip_msg *m = msg_parse(text, strlen(text));
		assert_non_null(m);
		txn_layer_receive(f->L, m, &pkt, false);
	}
	assert_int_equal(f->n_request, 1);
	char other[1024];
	snprintf(other, sizeof(other), "%s", text);
	memcpy(strstr(other, "CSeq: 8"), "CSeq: 9", 7);
	struct sip_msg *m = msg_parse(other, strlen(other));
	assert_non_null(m);
	txn_layer_receive(f->L, m, &pkt, false);
	assert_int_equal(f->n_request, 2);
	size_t s, c;
	txn_layer_counts(f->L, &s, &c);
	assert_int_equal(s, 2);
	fx_free(f);
}

/* §17.2.3 at scale: 100,000 concurrent server transactions — the table grows
 * incrementally, every transaction is found again, and all expire. Prints
 * the bytes per transaction (glibc heap, non-ASan builds). */
static void test_100k_servers(void **state)
{
	(void)state;
	enum { N = 100000 };
	struct fx *f = fx_new(100, 10); /* guard 128*T1 outlasts creation */
	f->keep = calloc(N, sizeof(*f->keep));
	assert_non_null(f->keep);
	struct tp_packet pkt = {.proto = TP_UDP};
	assert_int_equal(tp_addr_from_ip(str_cstr("127.0.0.1"), f->sink_port, &pkt.src), 0);
	char m[1024];
	struct mallinfo2 mi0 = mallinfo2();
	for (int i = 0; i < N; i++) {
		int n = snprintf(m, sizeof(m),
				 "MESSAGE sip:bob@127.0.0.1 SIP/2.0\r\n"
				 "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK%d\r\n"
				 "Max-Forwards: 70\r\n"
				 "From: <sip:alice@127.0.0.1>;tag=a1\r\n"
				 "To: <sip:bob@127.0.0.1>\r\n"
				 "Call-ID: k-%d\r\n"
				 "CSeq: 1 MESSAGE\r\n"
				 "Content-Length: 0\r\n\r\n",
				 f->sink_port, i, i);
		struct sip_msg *msg = msg_parse(m, (size_t)n);
		assert_non_null(msg);
		txn_layer_receive(f->L, msg, &pkt, false);
	}
	struct mallinfo2 mi1 = mallinfo2();
	size_t s, c;
	txn_layer_counts(f->L, &s, &c);
	assert_int_equal(s, N);
	assert_int_equal(f->n_request, N);
	/* Every one is found again: a retransmission is absorbed. */
	for (int i = 0; i < N; i += 997) {
		int n = snprintf(m, sizeof(m),
				 "MESSAGE sip:bob@127.0.0.1 SIP/2.0\r\n"
				 "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK%d\r\n"
				 "Max-Forwards: 70\r\n"
				 "From: <sip:alice@127.0.0.1>;tag=a1\r\n"
				 "To: <sip:bob@127.0.0.1>\r\n"
				 "Call-ID: k-%d\r\n"
				 "CSeq: 1 MESSAGE\r\n"
				 "Content-Length: 0\r\n\r\n",
				 f->sink_port, i, i);
		txn_layer_receive(f->L, msg_parse(m, (size_t)n), &pkt, false);
	}
	assert_int_equal(f->n_request, N);
	long long per_server = ((long long)mi1.uordblks - (long long)mi0.uordblks) / N;
	printf("# server transactions: struct %zu bytes, heap %lld bytes/txn incl. request "
	       "(0 under ASan)\n",
	       txn_server_struct_size(), per_server);

	/* Trying has no timer; answered now, Timer J (64*T1) ends them all. */
	for (size_t i = 0; i < f->n_keep; i++)
		reply(f, f->keep[i], 200, "k");
	free(f->keep);
	f->keep = NULL;
	for (int i = 0; i < 4000; i++) {
		txn_layer_counts(f->L, &s, &c);
		if (s == 0)
			break;
		spin(f);
	}
	assert_int_equal(s, 0);
	assert_int_equal(f->n_gone, N);
	fx_free(f);
}

/* §17.1.3 at scale: 100,000 client transactions, each response finds its
 * transaction; Timer K then ends each (T1 is long so that no Timer E
 * retransmission happens while the test feeds the responses). */
int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_invite_server_trying_g_h),
	    cmocka_unit_test(test_invite_server_ack_absorbed),
	    cmocka_unit_test(test_invite_server_accepted),
	    cmocka_unit_test(test_bye_absorbed),
	    cmocka_unit_test(test_tcp_timer_values),
	    cmocka_unit_test(test_cancel_finds_invite),
	    cmocka_unit_test(test_rfc2543_matching),
	    cmocka_unit_test(test_rfc4475_badbranch),
	    cmocka_unit_test(test_100k_servers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
