/* test_ha.c — the proxy with the cluster's HA pairs, on the harness (the whole
 * proxy on a capture transport and a virtual clock): OPTIONS probing finds
 * the primary (oos-check, then oos-force alternating the members), a 503 or
 * silence is never an active answer, a pair with no answering member is out
 * of service (503 with Retry-After), a request from the backup switches at
 * once, passive detection retries a request on the new primary, a dialog
 * (BYE, the 2xx's ACK) follows its node to the current primary, and new
 * INVITEs over proxy.overload-ctrl-dialog-rate get 503. */
#include "proxy_test.h"

#include "app/app.h"

#define EP "127.0.0.50:5070"

/* s1 = 127.0.0.3 (primary) / 127.0.0.4 (backup), probing every second. */
#define HA_CLUSTER(extra)                                                                          \
	"cluster = {\n"                                                                            \
	"  proxies = ( { name = \"h-proxy\"; sip-address = \"127.0.0.1\"; sip-port = 5060; } );\n" \
	"  sip-servers = ( { name = \"s1\"; sip-address = \"127.0.0.3\"; sip-port = 5090;\n"       \
	"    backup-sip-address = \"127.0.0.4\"; oos-check = 1; oos-force = 1; } );\n" extra       \
	"};\n"

static const char *const probe_prefix[2] = {"OPTIONS sip:127.0.0.3:5090",
					    "OPTIONS sip:127.0.0.4:5090"};
static const char *const member[2] = {HARNESS_SERVER, HARNESS_BACKUP};

/* The probe to member m sent at this instant (timers due now run first). */
static const struct harness_out *probe(struct harness *h, int m)
{
	harness_clear(h);
	harness_advance(h, 0);
	return test_sent(h, probe_prefix[m], member[m]);
}

static const struct harness_out *invite(struct harness *h, const char *call_id)
{
	char msg[4096];
	harness_clear(h);
	harness_udp(h, EP,
		    test_req(msg, sizeof(msg), "INVITE", "sip:bob@" TEST_DOMAIN, EP, call_id, ""));
	return harness_find(h, "INVITE ", NULL);
}

static const char *dest_of(const struct harness_out *o, char *buf, size_t cap)
{
	return tp_addr_str(&o->dest.addr, buf, cap);
}

static void test_probe_finds_primary(void **state)
{
	(void)state;
	struct harness *h = test_harness(HA_CLUSTER(""));
	char a[64];
	harness_reply(h, probe(h, 0), 200, NULL);
	assert_string_equal(dest_of(invite(h, "p1"), a, sizeof(a)), HARNESS_SERVER);
	/* oos-check later the primary answers 503: demoted. The backup is
	 * asked at once and, answering 200, becomes the primary. */
	harness_advance(h, 1000);
	harness_reply(h, test_sent(h, probe_prefix[0], member[0]), 503, NULL);
	harness_reply(h, probe(h, 1), 200, NULL);
	assert_string_equal(dest_of(invite(h, "p2"), a, sizeof(a)), HARNESS_BACKUP);
	/* From then on the probes go to the new primary. */
	harness_clear(h);
	harness_advance(h, 1000);
	assert_non_null(harness_find(h, probe_prefix[1], HARNESS_BACKUP));
	assert_null(harness_find(h, probe_prefix[0], NULL));
	harness_free(h);
}

/* Silence is no answer (our own 408 never counts): unknown, then the
 * members alternately every oos-force; neither answering: out of service,
 * 503 with Retry-After; probing goes on and brings it back. */
static void test_silence_out_of_service(void **state)
{
	(void)state;
	struct harness *h = test_harness(HA_CLUSTER("  retry-after = 7;\n"));
	probe(h, 0);
	harness_advance(h, 1000); /* no answer within oos-check */
	probe(h, 1);		  /* unknown: the backup at once */
	harness_clear(h);
	harness_advance(h, 1000);
	test_sent(h, probe_prefix[0], member[0]); /* alternating */
	harness_clear(h);
	harness_advance(h, 1000); /* the third miss: out of service */
	char msg[4096];
	harness_udp(h, EP,
		    test_req(msg, sizeof(msg), "INVITE", "sip:bob@" TEST_DOMAIN, EP, "oos", ""));
	assert_null(harness_find(h, "INVITE ", NULL));
	const struct harness_out *r = test_sent(h, "SIP/2.0 503", EP);
	assert_non_null(strstr(r->buf, "Retry-After: 7\r\n"));
	/* Probing goes on; the backup answers: in service again, as primary. */
	harness_reply(h, test_sent(h, probe_prefix[1], member[1]), 200, NULL);
	char a[64];
	assert_string_equal(dest_of(invite(h, "back"), a, sizeof(a)), HARNESS_BACKUP);
	harness_free(h);
}

/* The vendor's second method: a request from the backup means it took
 * over, before any probe says so. */
static void test_request_from_backup(void **state)
{
	(void)state;
	struct harness *h = test_harness(HA_CLUSTER(""));
	harness_reply(h, probe(h, 0), 200, NULL);
	char msg[4096], a[64];
	harness_udp(
	    h, HARNESS_BACKUP,
	    test_req(msg, sizeof(msg), "OPTIONS", "sip:127.0.0.1:5060", HARNESS_BACKUP, "bk", ""));
	assert_int_equal(test_last_status(h, HARNESS_BACKUP), 200);
	assert_string_equal(dest_of(invite(h, "after-bk"), a, sizeof(a)), HARNESS_BACKUP);
	harness_free(h);
}

/* Passive detection: the primary does not answer an INVITE within
 * cluster.no-response-timeout: the pair is unknown at once and the INVITE is
 * retried on the other member, whose answer reaches the caller. */
static void test_passive_retry(void **state)
{
	(void)state;
	struct harness *h = test_harness(HA_CLUSTER("  no-response-timeout = 500;\n"));
	harness_reply(h, probe(h, 0), 200, NULL);
	const struct harness_out *first = invite(h, "pas");
	char a[64];
	assert_string_equal(dest_of(first, a, sizeof(a)), HARNESS_SERVER);
	harness_clear(h);
	harness_advance(h, 500);
	const struct harness_out *again = test_sent(h, "INVITE ", HARNESS_BACKUP);
	harness_reply(h, again, 200, "Contact: <sip:srv@127.0.0.4:5090>\r\n");
	assert_int_equal(test_last_status(h, EP), 200);
	assert_int_equal(test_stats(h).server_retries, 1);
	/* and the probe went to the backup too: it answers, it is primary */
	harness_reply(h, test_sent(h, probe_prefix[1], member[1]), 200, NULL);
	assert_string_equal(dest_of(invite(h, "pas2"), a, sizeof(a)), HARNESS_BACKUP);
	harness_free(h);
}

/* Our Record-Route names the node; the BYE and the 2xx's ACK of a call set
 * up on the primary go to the node's current primary after a switchover,
 * with the Request-URI (the old member's Contact) unchanged. */
static void test_dialog_follows_node(void **state)
{
	(void)state;
	struct harness *h = test_harness(HA_CLUSTER(""));
	harness_reply(h, probe(h, 0), 200, NULL);
	const struct harness_out *inv = invite(h, "dlg");
	assert_non_null(inv);
	assert_non_null(strstr(inv->buf, ";sn=s1>"));
	harness_reply(h, inv, 200, "Contact: <sip:srv@127.0.0.3:5090>\r\n");
	const struct harness_out *ok = test_sent(h, "SIP/2.0 200", EP);
	/* the 2xx keeps its Record-Route with the node for the caller */
	char ack[4096], bye[4096];
	harness_dialog_request(ok, "ACK", 1, ack, sizeof(ack));
	harness_dialog_request(ok, "BYE", 2, bye, sizeof(bye));
	/* the backup takes over */
	char msg[4096];
	harness_udp(
	    h, HARNESS_BACKUP,
	    test_req(msg, sizeof(msg), "OPTIONS", "sip:127.0.0.1:5060", HARNESS_BACKUP, "tk", ""));
	harness_clear(h);
	harness_udp(h, EP, ack);
	const struct harness_out *a = test_sent(h, "ACK sip:srv@127.0.0.3:5090 ", HARNESS_BACKUP);
	assert_non_null(a);
	harness_udp(h, EP, bye);
	const struct harness_out *b = test_sent(h, "BYE sip:srv@127.0.0.3:5090 ", HARNESS_BACKUP);
	assert_null(harness_find(h, "BYE ", HARNESS_SERVER));
	harness_reply(h, b, 200, NULL);
	assert_int_equal(test_last_status(h, EP), 200);
	harness_free(h);
}

/* A call from the SIP Server to a registered endpoint is Record-Routed with
 * the server's node: the endpoint's BYE goes to that node's current primary. */
static void test_server_call_names_node(void **state)
{
	(void)state;
	struct harness *h = test_harness(HA_CLUSTER(""));
	harness_reply(h, probe(h, 0), 200, NULL);
	test_register(h, "alice", EP, "<sip:alice@127.0.0.50:5070>");
	harness_clear(h);
	test_server_call(h, "INVITE", "alice", "srv-call", "");
	const struct harness_out *inv = test_sent(h, "INVITE sip:alice@127.0.0.50:5070", EP);
	assert_non_null(strstr(inv->buf, ";sn=s1>"));
	harness_free(h);
}

/* proxy.overload-ctrl-dialog-rate: new INVITEs above it get 503 with
 * Retry-After; in-dialog requests never; the budget refills with time. */
static void test_overload(void **state)
{
	(void)state;
	struct harness *h = test_harness(
	    "proxy = { name = \"h-proxy\"; sip-address = \"127.0.0.1\"; sip-port = 5060;\n"
	    "  overload-ctrl-dialog-rate = 2; };\n");
	char msg[4096], cid[32];
	int accepted = 0, refused = 0;
	for (int i = 0; i < 5; i++) {
		snprintf(cid, sizeof(cid), "ov%d", i);
		harness_clear(h);
		harness_udp(
		    h, EP,
		    test_req(msg, sizeof(msg), "INVITE", "sip:bob@" TEST_DOMAIN, EP, cid, ""));
		if (harness_find(h, "INVITE ", HARNESS_SERVER))
			accepted++;
		const struct harness_out *r = harness_find(h, "SIP/2.0 503", EP);
		if (r) {
			refused++;
			assert_non_null(strstr(r->buf, "Retry-After: 5\r\n"));
		}
	}
	assert_int_equal(accepted, 2);
	assert_int_equal(refused, 3);
	assert_int_equal(test_stats(h).overload_rejected, 3);
	/* in-dialog: never refused */
	harness_clear(h);
	harness_udp(
	    h, EP,
	    test_dialog_req(msg, sizeof(msg), "BYE", "sip:srv@127.0.0.3:5090", EP, "", "ov0", 2));
	assert_non_null(harness_find(h, "BYE ", HARNESS_SERVER));
	/* half a second later one more INVITE fits */
	harness_advance(h, 500);
	harness_clear(h);
	harness_udp(
	    h, EP, test_req(msg, sizeof(msg), "INVITE", "sip:bob@" TEST_DOMAIN, EP, "ov-late", ""));
	assert_non_null(harness_find(h, "INVITE ", HARNESS_SERVER));
	harness_free(h);
}

/* SIGTERM: the proxy's own probes hold no drain, even towards a member that
 * never answers, and no probe goes out once draining. */
static void test_probes_do_not_hold_drain(void **state)
{
	(void)state;
	struct harness *h = test_harness(HA_CLUSTER(""));
	probe(h, 0); /* outstanding: nobody answers */
	app_drain(harness_app(h));
	assert_true(app_drained(harness_app(h)));
	harness_clear(h);
	harness_advance(h, 3000);
	assert_null(harness_find(h, "OPTIONS sip:127.0.0.4", NULL));
	assert_int_equal(harness_count_of(h, "OPTIONS sip:127.0.0.3:5090 ", NULL),
			 harness_count(h)); /* only retransmissions of the abandoned one */
	harness_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_probe_finds_primary),
	    cmocka_unit_test(test_silence_out_of_service),
	    cmocka_unit_test(test_request_from_backup),
	    cmocka_unit_test(test_passive_retry),
	    cmocka_unit_test(test_dialog_follows_node),
	    cmocka_unit_test(test_server_call_names_node),
	    cmocka_unit_test(test_overload),
	    cmocka_unit_test(test_probes_do_not_hold_drain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
