/* test_rfc4475.c — the RFC 4475 torture messages (tests/data/rfc4475/, listed in
 * CASES.tsv) through sip_msg_parse:
 * §3.1.1 (valid) parse cleanly, §3.1.2 (invalid) fail with 4xx/5xx, the
 * semantic groups (§3.2-§3.4) parse and leave the decision to the proxy, except
 * where the section says the message itself is unacceptable (§3.3.1 missing
 * headers, §3.3.8 multiple single-value fields, §3.3.9 Content-Length clash). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sip/msg.h"

#define DIR SIPPROXY_SOURCE_DIR "/tests/data/rfc4475/"

static char *read_file(const char *name, size_t *len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s%s", DIR, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(1 << 16);
	*len = fread(buf, 1, 1 << 16, f);
	fclose(f);
	return buf;
}

static struct sip_msg *parse_file(const char *name, int *rc)
{
	size_t len = 0;
	char *buf = read_file(name, &len);
	assert_non_null(buf);
	struct sip_msg *m = sip_msg_new(buf, len);
	free(buf);
	assert_non_null(m);
	*rc = sip_msg_parse(m, NULL);
	return m;
}

/* Where the semantic groups expect the parser itself to reject. */
static int expected_status(const char *file, const char *group)
{
	if (!strcmp(group, "invalid"))
		return -1; /* any 4xx/5xx */
	if (!strcmp(file, "insuf.dat") || !strcmp(file, "multi01.dat") ||
	    !strcmp(file, "mcl01.dat"))
		return 400;
	return 0;
}

/* RFC 4475 §3 (all sections listed in CASES.tsv). */
static void test_all_cases(void **state)
{
	FILE *f = fopen(DIR "CASES.tsv", "r");
	assert_non_null(f);
	char line[512];
	int n = 0;
	assert_non_null(fgets(line, sizeof(line), f)); /* header row */
	while (fgets(line, sizeof(line), f)) {
		char *file = strtok(line, "\t\n");
		char *section = strtok(NULL, "\t\n");
		strtok(NULL, "\t\n");
		char *group = strtok(NULL, "\t\n");
		if (!file || !group)
			continue;
		int rc;
		struct sip_msg *m = parse_file(file, &rc);
		int want = expected_status(file, group);
		if (want == 0 && rc != 0)
			fail_msg("%s (§%s, %s): unexpected %d %s", file, section, group,
				 m->error.status, m->error.reason);
		if (want == -1 && (rc == 0 || m->error.status < 400 || m->error.status > 599))
			fail_msg("%s (§%s): invalid message accepted", file, section);
		if (want > 0 && m->error.status != want)
			fail_msg("%s (§%s): want %d, got %d %s", file, section, want,
				 m->error.status, m->error.reason ? m->error.reason : "");
		sip_msg_free(m);
		n++;
	}
	fclose(f);
	assert_int_equal(n, 49);
}

/* RFC 4475 §3.1.1.8: trailing octets of a datagram after Content-Length are dropped. */
static void test_dblreq_trailing(void **state)
{
	int rc;
	struct sip_msg *m = parse_file("dblreq.dat", &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(m->method, SIP_METHOD_REGISTER);
	assert_int_equal(m->body.len, 0);
	assert_int_equal(m->len, (size_t)(m->hdrs_end + 2 - m->buf));
	assert_true(str_eq(m->call_id, STR_LIT("dblreq.0ha0isndaksdj99sdfafnl3lk233412")));
	/* The same bytes on a stream (RFC 3261 §18.3) frame as the first message. */
	assert_int_equal(sip_frame_length(m->buf, 750, 65536), (long)m->len);
	sip_msg_free(m);
}

/* RFC 3261 §18.3: on a stream Content-Length is mandatory; inv2543.dat (RFC 4475
 * §3.4.1) has none, clerr.dat (§3.1.2.2) promises more than there is. */
static void test_stream_framing(void **state)
{
	size_t len;
	char *buf = read_file("inv2543.dat", &len);
	assert_non_null(buf);
	assert_int_equal(sip_frame_length(buf, len, 65536), -1);
	free(buf);
	buf = read_file("clerr.dat", &len);
	assert_non_null(buf);
	assert_int_equal(sip_frame_length(buf, len, 65536), 0);
	free(buf);
	buf = read_file("wsinv.dat", &len);
	assert_non_null(buf);
	assert_int_equal(sip_frame_length(buf, len, 65536), (long)len);
	free(buf);
}

/* RFC 4475 §3.1.1.1: folding, LWS around separators, escaped quotes, 4 Vias in
 * 3 fields, compact forms and odd case. */
static void test_wsinv_details(void **state)
{
	int rc;
	struct sip_msg *m = parse_file("wsinv.dat", &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(m->max_forwards, 68);
	assert_int_equal(m->cseq, 9);
	assert_int_equal(m->cseq_method, SIP_METHOD_INVITE);
	assert_int_equal(m->content_length, 150);
	assert_int_equal(m->body.len, 150);
	assert_true(str_eq(m->to->tag, STR_LIT("1918181833n")));
	assert_true(str_eq(m->from->tag, STR_LIT("98asjd8")));
	assert_true(str_eq(m->from->display, STR_LIT("J Rosenberg \\\\\\\"")));
	struct sip_via *v = m->via;
	assert_non_null(v);
	assert_true(str_eq(v->host, STR_LIT("192.0.2.2")));
	assert_true(str_eq(v->branch, STR_LIT("390skdjuw")));
	v = v->next;
	assert_non_null(v);
	assert_true(str_eq(v->transport, STR_LIT("TCP")));
	assert_true(str_eq(v->host, STR_LIT("spindle.example.com")));
	assert_true(str_eq(v->branch, STR_LIT("z9hG4bK9ikj8")));
	v = v->next;
	assert_non_null(v);
	assert_true(str_eq(v->host, STR_LIT("192.168.255.111")));
	assert_true(str_eq(v->branch, STR_LIT("z9hG4bK30239")));
	assert_null(v->next);
	assert_non_null(m->route);
	assert_true(m->route->uri.lr);
	assert_non_null(m->contact);
	assert_true(str_eq(m->contact->q, STR_LIT("0.33")));
	sip_msg_free(m);
}

/* RFC 4475 §3.1.2.16 (505), §3.3.2 (scheme left to the proxy: 416), §3.3.11. */
static void test_specific_outcomes(void **state)
{
	int rc;
	struct sip_msg *m = parse_file("badvers.dat", &rc);
	assert_int_equal(m->error.status, 505);
	assert_true(sip_msg_can_reply(m));
	sip_msg_free(m);
	m = parse_file("unkscm.dat", &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(m->ruri.scheme, SIP_URI_OTHER);
	sip_msg_free(m);
	m = parse_file("zeromf.dat", &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(m->max_forwards, 0);
	sip_msg_free(m);
	m = parse_file("longreq.dat", &rc);
	assert_int_equal(rc, 0);
	int vias = 0;
	for (struct sip_via *v = m->via; v; v = v->next)
		vias++;
	assert_int_equal(vias, 34);
	sip_msg_free(m);
	m = parse_file("esc02.dat", &rc);
	assert_int_equal(rc, 0);
	int contacts = 0;
	for (struct sip_addr *a = m->contact; a; a = a->next)
		contacts++;
	assert_int_equal(contacts, 2); /* "C%6Fntact" is not Contact */
	sip_msg_free(m);
	m = parse_file("mismatch01.dat", &rc);
	assert_int_equal(m->error.status, 400);
	assert_true(sip_msg_can_reply(m));
	sip_msg_free(m);
}

/* test.dat is in the RFC 4475 archive without a section: it must not crash
 * (it has no SIP-Version, so it is rejected). */
static void test_unreferenced_file(void **state)
{
	int rc;
	struct sip_msg *m = parse_file("test.dat", &rc);
	assert_int_equal(rc, -1);
	assert_int_equal(m->error.status, 400);
	sip_msg_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_all_cases),	      cmocka_unit_test(test_dblreq_trailing),
	    cmocka_unit_test(test_stream_framing),    cmocka_unit_test(test_wsinv_details),
	    cmocka_unit_test(test_specific_outcomes), cmocka_unit_test(test_unreferenced_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
