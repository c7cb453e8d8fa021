/* test_probe.c — the HA pair's detection end to end (cluster/probe.c through
 * the proxy's OPTIONS, on the whole-proxy harness and its virtual clock):
 * oos-check OPTIONS to the known primary; no answer -> OPTIONS alternating
 * between the members every oos-force until one answers 200, which is then
 * the primary; none answering -> out of service, logged "HA pair
 * unavailable", new requests 503 with Retry-After, probing going on; a
 * passive failure (no response within cluster.no-response-timeout) and a
 * request from the backup switch at once. Node "s1": primary 127.0.0.3:5090,
 * backup 127.0.0.4:5090. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "proxy_harness.h"

#define EP "127.0.0.20:5000"

/* s1 probed every 5 s while known, every 2 s while not; more: other
 * cluster settings (no-response-timeout = 0 where requests are left
 * unanswered but the pair is not to notice). */
static struct harness *probing_harness(const char *more)
{
	char text[2048];
	snprintf(
	    text, sizeof(text),
	    "cluster = {\n"
	    "  proxies = ( { name = \"h-proxy\"; sip-address = \"127.0.0.1\"; sip-port = "
	    "5060; } );\n"
	    "  sip-servers = ( { name = \"s1\"; sip-address = \"127.0.0.3\"; sip-port = 5090;\n"
	    "    backup-sip-address = \"127.0.0.4\"; oos-check = 5; oos-force = 2; } );\n"
	    "  %s\n"
	    "};\n"
	    "log = { level = \"warn\"; };\n",
	    more ? more : "");
	struct harness *h = harness_new(text);
	assert_non_null(h);
	return h;
}

/* The probes sent so far, in order, one entry per OPTIONS transaction
 * (retransmissions share the Call-ID; OPTIONS the proxy only forwards do
 * not count): "3 4 3" for .3, .4, .3. */
static const char *probes(struct harness *h)
{
	static char seq[512];
	static char ids[64][96];
	size_t n_ids = 0;
	seq[0] = '\0';
	for (size_t i = 0; i < harness_count(h); i++) {
		const struct harness_out *o = harness_out(h, i);
		if (!o->msg || !o->msg->is_request || o->msg->method != SIP_METHOD_OPTIONS ||
		    !strstr(o->buf, "\r\nUser-Agent: sipproxy\r\n"))
			continue;
		char id[96];
		snprintf(id, sizeof(id), "%.*s", (int)o->msg->call_id.len, o->msg->call_id.p);
		bool seen = false;
		for (size_t k = 0; k < n_ids && !seen; k++)
			seen = strcmp(ids[k], id) == 0;
		if (seen || n_ids == 64)
			continue;
		snprintf(ids[n_ids++], sizeof(ids[0]), "%s", id);
		char a[64], step[8];
		tp_addr_str(&o->dest.addr, a, sizeof(a));
		snprintf(step, sizeof(step), "%s%c", seq[0] ? " " : "", a[8]); /* 127.0.0.N */
		strncat(seq, step, sizeof(seq) - strlen(seq) - 1);
	}
	return seq;
}

/* Runs the clock for ms, in small steps (timers started at 0 fire). */
static void run(struct harness *h, uint64_t ms)
{
	for (uint64_t t = 0; t < ms; t += 50)
		harness_advance(h, 50);
}

/* Answers the last OPTIONS sent to dest with status. */
static void answer(struct harness *h, const char *dest, int status)
{
	const struct harness_out *o = harness_find(h, "OPTIONS ", dest);
	assert_non_null(o);
	harness_reply(h, o, status, NULL);
}

static const char *invite(char *buf, size_t cap, const char *call_id)
{
	snprintf(buf, cap,
		 "INVITE sip:bob@sipproxy.test SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP " EP ";branch=z9hG4bK-%s;rport\r\n"
		 "Max-Forwards: 70\r\n"
		 "From: <sip:caller@example.com>;tag=f-%s\r\n"
		 "To: <sip:bob@sipproxy.test>\r\n"
		 "Call-ID: %s\r\nCSeq: 1 INVITE\r\n"
		 "Contact: <sip:caller@" EP ">\r\nContent-Length: 0\r\n\r\n",
		 call_id, call_id, call_id);
	return buf;
}

/* The status of the last response sent to the endpoint, 0 if none. */
static int last_status(struct harness *h)
{
	const struct harness_out *o = harness_find(h, "SIP/2.0 ", EP);
	return o && o->msg ? o->msg->status : 0;
}

/* stderr into a file for the duration: the log lines. */
struct log_capture {
	FILE *f;
	int saved;
};

static void capture_start(struct log_capture *lc)
{
	fflush(stderr);
	lc->f = tmpfile();
	assert_non_null(lc->f);
	lc->saved = dup(2);
	assert_true(lc->saved >= 0);
	assert_true(dup2(fileno(lc->f), 2) >= 0);
}

/* Stops capturing; true when the log had a line containing what. */
static bool capture_has(struct log_capture *lc, const char *what)
{
	fflush(stderr);
	dup2(lc->saved, 2);
	close(lc->saved);
	rewind(lc->f);
	char line[2048];
	bool found = false;
	while (fgets(line, sizeof(line), lc->f))
		found = found || strstr(line, what) != NULL;
	fclose(lc->f);
	return found;
}

/* oos-check: only the known primary is probed, every 5 s, while it answers. */
static void test_known_primary_every_oos_check(void **state)
{
	(void)state;
	struct harness *h = probing_harness(NULL);
	run(h, 100);
	assert_string_equal(probes(h), "3");
	for (int i = 0; i < 4; i++) {
		answer(h, "127.0.0.3:5090", 200);
		run(h, 4800);
		assert_int_equal(harness_count_of(h, "OPTIONS ", "127.0.0.4:5090"), 0);
		run(h, 200);
	}
	assert_string_equal(probes(h), "3 3 3 3 3");
	harness_free(h);
}

/* No answer within oos-check: unknown, the backup probed at once, then the
 * members in turn every oos-force; neither answering: out of service ("HA
 * pair unavailable"), 503 with Retry-After; the backup's 200 makes it the
 * primary, where requests and the oos-check probes then go. */
static void test_unknown_alternates_out_and_back(void **state)
{
	(void)state;
	struct harness *h = probing_harness("retry-after = 7; no-response-timeout = 0;");
	struct log_capture lc;
	capture_start(&lc);
	run(h, 100);
	assert_string_equal(probes(h), "3");
	run(h, 5000); /* t = 5.1 s: the first probe timed out */
	assert_string_equal(probes(h), "3 4");
	run(h, 2000);
	assert_string_equal(probes(h), "3 4 3");
	bool early = capture_has(&lc, "ha_pair_unavailable");
	capture_start(&lc);
	run(h, 2000); /* t = 9.1 s: neither answered */
	assert_string_equal(probes(h), "3 4 3 4");
	bool logged = capture_has(&lc, "HA pair unavailable");
	assert_false(early);
	assert_true(logged);

	char msg[2048];
	harness_udp(h, EP, invite(msg, sizeof(msg), "out-1"));
	assert_int_equal(last_status(h), 503);
	const struct harness_out *r = harness_find(h, "SIP/2.0 503", EP);
	assert_non_null(strstr(r->buf, "\r\nRetry-After: 7\r\n"));
	assert_int_equal(harness_count_of(h, "INVITE ", NULL), 0);

	/* Probing goes on; the backup answers as active. */
	run(h, 2000);
	assert_string_equal(probes(h), "3 4 3 4 3");
	run(h, 2000);
	assert_string_equal(probes(h), "3 4 3 4 3 4");
	answer(h, "127.0.0.4:5090", 200);
	harness_udp(h, EP, invite(msg, sizeof(msg), "back-1"));
	assert_non_null(harness_find(h, "INVITE ", "127.0.0.4:5090"));
	assert_int_equal(harness_count_of(h, "INVITE ", "127.0.0.3:5090"), 0);
	run(h, 4800);
	assert_string_equal(probes(h), "3 4 3 4 3 4");
	run(h, 300);
	assert_string_equal(probes(h), "3 4 3 4 3 4 4");
	harness_free(h);
}

/* A backup's 503 is no active answer: the primary answering 200 again is
 * the primary. */
static void test_backup_503_primary_back(void **state)
{
	(void)state;
	struct harness *h = probing_harness(NULL);
	run(h, 100);
	answer(h, "127.0.0.3:5090", 503);
	run(h, 100);
	assert_string_equal(probes(h), "3 4");
	answer(h, "127.0.0.4:5090", 503);
	run(h, 2000);
	assert_string_equal(probes(h), "3 4 3");
	answer(h, "127.0.0.3:5090", 200);
	run(h, 4800);
	assert_string_equal(probes(h), "3 4 3");
	run(h, 300);
	assert_string_equal(probes(h), "3 4 3 3");
	harness_free(h);
}

/* Passive: the primary does not answer a request within
 * cluster.no-response-timeout: the pair is unknown at once (the backup is
 * probed now) and the request is retried on the member not suspected. */
static void test_passive_no_response(void **state)
{
	(void)state;
	struct harness *h = probing_harness("no-response-timeout = 1000;");
	run(h, 100);
	answer(h, "127.0.0.3:5090", 200);
	char msg[2048];
	harness_udp(h, EP, invite(msg, sizeof(msg), "passive-1"));
	assert_non_null(harness_find(h, "INVITE ", "127.0.0.3:5090"));
	run(h, 900);
	assert_null(harness_find(h, "INVITE ", "127.0.0.4:5090"));
	run(h, 200);
	assert_string_equal(probes(h), "3 4");
	assert_non_null(harness_find(h, "INVITE ", "127.0.0.4:5090"));
	assert_int_equal(last_status(h), 100); /* the caller waits on */
	/* The backup says it is active: later requests go there. */
	answer(h, "127.0.0.4:5090", 200);
	harness_udp(h, EP, invite(msg, sizeof(msg), "passive-2"));
	const struct harness_out *o = harness_find(h, "INVITE ", NULL);
	assert_non_null(o->msg);
	assert_int_equal((int)o->msg->call_id.len, 9);
	assert_memory_equal(o->msg->call_id.p, "passive-2", 9);
	char a[64];
	assert_string_equal(tp_addr_str(&o->dest.addr, a, sizeof(a)), "127.0.0.4:5090");
	harness_free(h);
}

/* A request from the backup: it took over; requests and the oos-check
 * probes go to it from then on. */
static void test_request_from_backup(void **state)
{
	(void)state;
	struct harness *h = probing_harness("no-response-timeout = 0;");
	run(h, 100);
	answer(h, "127.0.0.3:5090", 200);
	char msg[2048];
	snprintf(msg, sizeof(msg),
		 "OPTIONS sip:h-proxy@127.0.0.1 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 127.0.0.4:5090;branch=z9hG4bK-fromb\r\n"
		 "Max-Forwards: 70\r\nFrom: <sip:s1@127.0.0.4>;tag=b\r\n"
		 "To: <sip:h-proxy@127.0.0.1>\r\nCall-ID: fromb\r\nCSeq: 1 OPTIONS\r\n"
		 "Content-Length: 0\r\n\r\n");
	harness_udp(h, HARNESS_BACKUP, msg);
	harness_udp(h, EP, invite(msg, sizeof(msg), "after-takeover"));
	assert_non_null(harness_find(h, "INVITE ", "127.0.0.4:5090"));
	assert_int_equal(harness_count_of(h, "INVITE ", "127.0.0.3:5090"), 0);
	run(h, 4800);
	assert_string_equal(probes(h), "3");
	run(h, 300);
	assert_string_equal(probes(h), "3 4");
	harness_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_known_primary_every_oos_check),
	    cmocka_unit_test(test_unknown_alternates_out_and_back),
	    cmocka_unit_test(test_backup_503_primary_back),
	    cmocka_unit_test(test_passive_no_response),
	    cmocka_unit_test(test_request_from_backup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
