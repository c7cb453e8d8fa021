/* test_txn_client.c — client transactions (RFC 3261 §17.1, RFC 6026) over a
 * real transport on 127.0.0.1 with a raw UDP peer, both on ports the kernel
 * picks (txn_fixture.h): Timers A/B/E/F, the ACK for a non-2xx, stray responses,
 * an abandoned request no longer retransmitted, and 100,000 concurrent
 * transactions. */
#include "txn_fixture.h"

static struct txn_client *client_send(struct fx *f, enum sip_method method, const char *branch,
				      uint16_t port)
{
	char tmp[1024];
	const char *mname = sip_method_name(method);
	int n = snprintf(tmp, sizeof(tmp),
			 "%s sip:bob@127.0.0.1:%u SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=%s\r\n"
			 "Max-Forwards: 70\r\n"
			 "From: <sip:alice@127.0.0.1>;tag=c1\r\n"
			 "To: <sip:bob@127.0.0.1>\r\n"
			 "Call-ID: cli-%s\r\n"
			 "CSeq: 1 %s\r\n"
			 "Content-Length: 0\r\n\r\n",
			 mname, port, f->udp_port, branch, branch, mname);
	char *buf = malloc((size_t)n);
	memcpy(buf, tmp, (size_t)n);
	struct tp_dest d = {.proto = TP_UDP};
	assert_int_equal(tp_addr_from_ip(str_cstr("127.0.0.1"), port, &d.addr), 0);
	struct txn_client *ct =
	    txn_client_send(f->L, &d, method, str_cstr(branch), buf, (size_t)n, f);
	assert_non_null(ct);
	return ct;
}

static void peer_respond(const struct fx *f, const char *branch, const char *method, int status,
			 const char *totag)
{
	char m[1024];
	snprintf(m, sizeof(m),
		 "SIP/2.0 %d X\r\n"
		 "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=%s\r\n"
		 "From: <sip:alice@127.0.0.1>;tag=c1\r\n"
		 "To: <sip:bob@127.0.0.1>%s%s\r\n"
		 "Call-ID: cli-%s\r\n"
		 "CSeq: 1 %s\r\n"
		 "Content-Length: 0\r\n\r\n",
		 status, f->udp_port, branch, totag ? ";tag=" : "", totag ? totag : "", branch,
		 method);
	peer_send(f, m);
}

static const char *const P_REQ[] = {"INVITE ", "ACK ", "OPTIONS "};

/* §17.1.1.2: Timer A retransmits the INVITE until a provisional response;
 * §17.1.1.3: a 486 is ACKed (To tag of the response, same branch), the ACK is
 * repeated for a retransmitted 486 which the TU does not see again. */
static void test_client_invite(void **state)
{
	(void)state;
	struct fx *f = fx_new(20, 40);
	struct inbox in = {0};
	struct txn_client *ct = client_send(f, SIP_METHOD_INVITE, "z9hG4bKcli1", f->peer_port);
	for (int i = 0; i < 400 && in.count[0] < 3; i++) {
		spin(f);
		peer_read(f->peer, &in, P_REQ, 3);
	}
	assert_true(in.count[0] >= 3); /* the INVITE and at least two Timer A copies */
	peer_respond(f, "z9hG4bKcli1", "INVITE", 180, "r1");
	for (int i = 0; i < 200 && f->n_rsp < 1; i++)
		spin(f);
	assert_int_equal(f->n_rsp, 1);
	assert_int_equal(f->rsp_status[0], 180);
	peer_read(f->peer, &in, P_REQ, 3);
	int after_1xx = in.count[0];
	run_steps(f, 60); /* long enough for several more Timer A firings */
	peer_read(f->peer, &in, P_REQ, 3);
	assert_int_equal(in.count[0], after_1xx);

	peer_respond(f, "z9hG4bKcli1", "INVITE", 486, "r1");
	for (int i = 0; i < 200 && in.count[1] < 1; i++) {
		spin(f);
		peer_read(f->peer, &in, P_REQ, 3);
	}
	assert_int_equal(in.count[1], 1);
	assert_non_null(strstr(in.last[1], "branch=z9hG4bKcli1"));
	assert_non_null(strstr(in.last[1], "tag=r1"));
	assert_non_null(strstr(in.last[1], "CSeq: 1 ACK"));
	peer_respond(f, "z9hG4bKcli1", "INVITE", 486, "r1");
	for (int i = 0; i < 200 && in.count[1] < 2; i++) {
		spin(f);
		peer_read(f->peer, &in, P_REQ, 3);
	}
	assert_int_equal(in.count[1], 2);
	assert_int_equal(f->n_rsp, 2);
	assert_int_equal(f->rsp_status[1], 486);
	assert_int_equal(txn_client_status(ct), 486);
	txn_client_release(ct);
	fx_free(f);
}

/* §17.1.1.2 Timer B and §17.1.2.2 Timer F: no answer at all -> the TU is told
 * TXN_FAIL_TIMEOUT; §17.1.2.2: Timer E retransmits the OPTIONS meanwhile. */
static void test_client_timeouts(void **state)
{
	(void)state;
	struct fx *f = fx_new(20, 40);
	struct inbox in = {0};
	client_send(f, SIP_METHOD_INVITE, "z9hG4bKcliB", f->peer_port);
	client_send(f, SIP_METHOD_OPTIONS, "z9hG4bKcliF", f->peer_port);
	run_until(f, &f->n_fail, 2);
	assert_int_equal(f->last_fail, TXN_FAIL_TIMEOUT);
	peer_read(f->peer, &in, P_REQ, 3);
	assert_true(in.count[0] >= 4);
	assert_true(in.count[2] >= 4);
	assert_int_equal(f->n_rsp, 0);
	size_t s, c;
	txn_layer_counts(f->L, &s, &c);
	assert_int_equal(c, 0);
	fx_free(f);
}

/* §17.1.3: a response whose branch matches no client transaction, or whose
 * CSeq method differs, is stray (§18.1.2 hands it to the core). */
static void test_stray_response(void **state)
{
	(void)state;
	struct fx *f = fx_new(20, 40);
	struct txn_client *ct = client_send(f, SIP_METHOD_OPTIONS, "z9hG4bKcliS", f->peer_port);
	peer_respond(f, "z9hG4bKnobody", "OPTIONS", 200, "x");
	run_until(f, &f->n_stray, 1);
	peer_respond(f, "z9hG4bKcliS", "INVITE", 200, "x"); /* method differs */
	run_until(f, &f->n_stray, 2);
	assert_int_equal(f->n_rsp, 0);
	peer_respond(f, "z9hG4bKcliS", "OPTIONS", 200, "x");
	run_until(f, &f->n_rsp, 1);
	assert_int_equal(f->n_stray, 2);
	txn_client_release(ct);
	fx_free(f);
}

/* §9.2: a CANCEL is its own server transaction and finds the INVITE it
 * cancels by the §17.2.3 rules with the method taken as INVITE. */
static void test_100k_clients(void **state)
{
	(void)state;
	enum { N = 100000 };
	struct fx *f = fx_new(5000, 10);
	struct tp_packet pkt = {.proto = TP_UDP};
	assert_int_equal(tp_addr_from_ip(str_cstr("127.0.0.1"), f->peer_port, &pkt.src), 0);
	char m[1024];
	size_t s, c;
	struct mallinfo2 mi0, mi1;
	/* Clients: sent to the sink, each answered in memory with a 200. */
	struct txn_client **cts = calloc(N, sizeof(*cts));
	assert_non_null(cts);
	mi0 = mallinfo2();
	char br[32];
	for (int i = 0; i < N; i++) {
		snprintf(br, sizeof(br), "z9hG4bKc%d", i);
		cts[i] = client_send(f, SIP_METHOD_OPTIONS, br, f->sink_port);
	}
	mi1 = mallinfo2();
	txn_layer_counts(f->L, &s, &c);
	assert_int_equal(c, N);
	printf("# client transactions: struct %zu bytes, heap %lld bytes/txn incl. request "
	       "(0 under ASan)\n",
	       txn_client_struct_size(), ((long long)mi1.uordblks - (long long)mi0.uordblks) / N);
	for (int i = 0; i < N; i++) {
		snprintf(br, sizeof(br), "z9hG4bKc%d", i);
		int n = snprintf(m, sizeof(m),
				 "SIP/2.0 200 OK\r\n"
				 "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=%s\r\n"
				 "From: <sip:alice@127.0.0.1>;tag=c1\r\n"
				 "To: <sip:bob@127.0.0.1>;tag=x\r\n"
				 "Call-ID: cli-%s\r\n"
				 "CSeq: 1 OPTIONS\r\n"
				 "Content-Length: 0\r\n\r\n",
				 f->udp_port, br, br);
		txn_layer_receive(f->L, msg_parse(m, (size_t)n), &pkt, false);
		txn_client_release(cts[i]);
	}
	free(cts);
	assert_int_equal(f->n_rsp_total, N);
	assert_int_equal(f->n_stray, 0);
	for (int i = 0; i < 4000; i++) {
		txn_layer_counts(f->L, &s, &c);
		if (c == 0)
			break;
		spin(f);
	}
	assert_int_equal(c, 0);
	fx_free(f);
}
/* §17.1.1.2 / §17.1.2.2 transport errors: a send that fails at once and a
 * TCP connection that cannot be set up (nothing listens at 15319) both end in
 * on_client_fail(TXN_FAIL_TRANSPORT), reported from the loop, never from
 * inside txn_client_send. */
static void test_client_transport_fail(void **state)
{
	(void)state;
	struct fx *f = fx_new(20, 40);
	const char *req = "OPTIONS sip:x@[::1]:15319 SIP/2.0\r\n"
			  "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKtf1\r\n"
			  "Max-Forwards: 70\r\n"
			  "From: <sip:a@127.0.0.1>;tag=1\r\n"
			  "To: <sip:x@127.0.0.1>\r\n"
			  "Call-ID: tf-1\r\n"
			  "CSeq: 1 OPTIONS\r\n"
			  "Content-Length: 0\r\n\r\n";
	/* IPv6 destination with only an IPv4 UDP listener: tp_send fails. */
	struct tp_dest d6 = {.proto = TP_UDP};
	assert_int_equal(tp_addr_from_ip(str_cstr("::1"), 15319, &d6.addr), 0);
	struct txn_client *ct = txn_client_send(
	    f->L, &d6, SIP_METHOD_OPTIONS, str_cstr("z9hG4bKtf1"), strdup(req), strlen(req), f);
	assert_non_null(ct);
	assert_int_equal(f->n_fail, 0);
	run_until(f, &f->n_fail, 1);
	assert_int_equal(f->last_fail, TXN_FAIL_TRANSPORT);

	struct tp_dest dt = {.proto = TP_TCP};
	assert_int_equal(tp_addr_from_ip(str_cstr("127.0.0.1"), 15319, &dt.addr), 0);
	ct = txn_client_send(f->L, &dt, SIP_METHOD_INVITE, str_cstr("z9hG4bKtf2"), strdup(req),
			     strlen(req), f);
	assert_non_null(ct);
	assert_int_equal(f->n_fail, 1);
	run_until(f, &f->n_fail, 2);
	assert_int_equal(f->last_fail, TXN_FAIL_TRANSPORT);
	size_t s, c;
	txn_layer_counts(f->L, &s, &c);
	assert_int_equal(c, 0);
	fx_free(f);
}

/* §17.1.2.2: a TU that releases the transaction inside on_response gets no
 * further callbacks; the transaction still absorbs the retransmitted final. */
static void test_client_release_in_callback(void **state)
{
	(void)state;
	struct fx *f = fx_new(20, 40);
	f->release_in_response = true;
	client_send(f, SIP_METHOD_OPTIONS, "z9hG4bKrel1", f->peer_port);
	peer_respond(f, "z9hG4bKrel1", "OPTIONS", 200, "x");
	run_until(f, &f->n_rsp, 1);
	peer_respond(f, "z9hG4bKrel1", "OPTIONS", 200, "x");
	run_steps(f, 5);
	assert_int_equal(f->n_rsp, 1);
	assert_int_equal(f->n_stray, 0); /* absorbed by the Completed transaction */
	size_t s, c;
	for (int i = 0; i < 200; i++) {
		txn_layer_counts(f->L, &s, &c);
		if (c == 0)
			break;
		spin(f);
	}
	assert_int_equal(c, 0); /* Timer K */
	fx_free(f);
}

/* §16.8 ("as if a 408 had come") and passive detection: a TU that gives up on
 * an unanswered INVITE (txn_client_abandon) stops its Timer A copies at once,
 * so a member that comes back later is not sent a request already moved
 * elsewhere; a late 486 is still ACKed (§17.1.1.3), the TU is not told. */
static void test_client_abandon(void **state)
{
	(void)state;
	struct fx *f = fx_new(20, 40);
	struct inbox in = {0};
	struct txn_client *ct = client_send(f, SIP_METHOD_INVITE, "z9hG4bKab1", f->peer_port);
	for (int i = 0; i < 400 && in.count[0] < 2; i++) {
		spin(f);
		peer_read(f->peer, &in, P_REQ, 3);
	}
	assert_true(in.count[0] >= 2);
	txn_client_abandon(ct);
	peer_read(f->peer, &in, P_REQ, 3);
	int sent = in.count[0];
	run_steps(f, 60); /* Timer A would have fired several times more */
	peer_read(f->peer, &in, P_REQ, 3);
	assert_int_equal(in.count[0], sent);
	peer_respond(f, "z9hG4bKab1", "INVITE", 486, "r1");
	for (int i = 0; i < 200 && in.count[1] < 1; i++) {
		spin(f);
		peer_read(f->peer, &in, P_REQ, 3);
	}
	assert_int_equal(in.count[1], 1);
	assert_non_null(strstr(in.last[1], "CSeq: 1 ACK"));
	assert_int_equal(f->n_rsp, 0);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_client_invite),
	    cmocka_unit_test(test_client_timeouts),
	    cmocka_unit_test(test_stray_response),
	    cmocka_unit_test(test_client_transport_fail),
	    cmocka_unit_test(test_client_release_in_callback),
	    cmocka_unit_test(test_client_abandon),
	    cmocka_unit_test(test_100k_clients),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
