/* test_resolver.c — RFC 3263 §4 next-hop resolution: IP literals without DNS,
 * and against a real dnsmasq on 127.0.0.1 (at a port the kernel picks) the
 * NAPTR -> SRV -> A/AAAA chain, explicit port/transport, the no-NAPTR and no-SRV
 * fallbacks, NXDOMAIN, cancel, and the TTL cache (answers survive the server
 * going away). */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include <cmocka.h>

#include "frame_fallback.h"
#include "transport/resolver.h"

struct answer {
	int calls, err;
	struct resolver_result res;
};

static void on_answer(void *arg, int err, const struct resolver_result *res)
{
	struct answer *a = arg;
	a->calls++;
	a->err = err;
	if (res)
		a->res = *res;
}

static struct sip_uri mk_uri(enum sip_uri_scheme scheme, const char *host, uint16_t port,
			     const char *transport, const char *maddr)
{
	struct sip_uri u;
	memset(&u, 0, sizeof(u));
	u.scheme = scheme;
	u.host = str_cstr(host);
	u.port = port;
	if (transport)
		u.transport = str_cstr(transport);
	if (maddr)
		u.maddr = str_cstr(maddr);
	return u;
}

static void expect_dest(const struct answer *a, unsigned i, enum tp_proto p, const char *addr)
{
	char buf[64];
	assert_true(i < a->res.count);
	assert_int_equal(a->res.dest[i].proto, p);
	assert_string_equal(tp_addr_str(&a->res.dest[i].addr, buf, sizeof(buf)), addr);
}

/* Synchronous lookup: the answer must arrive before resolver_lookup returns. */
static struct answer now(struct resolver *r, struct sip_uri u)
{
	struct answer a = {0};
	assert_null(resolver_lookup(r, &u, on_answer, &a));
	assert_int_equal(a.calls, 1);
	return a;
}

/* RFC 3263 §4.1/§4.2: numeric hosts need no DNS; default ports 5060, and 5061
 * for sips (TLS); transport param honoured; maddr overrides host (§4). */
static void test_resolver_ip_literals(void **state)
{
	struct event_base *base = event_base_new();
	struct resolver_config cfg = {.servers = "127.0.0.1:9", /* never asked */
				      .timeout_ms = 500,
				      .tries = 1,
				      .have_udp = true,
				      .have_tcp = true};
	struct resolver *r = resolver_new(base, &cfg);
	assert_non_null(r);
	struct answer a = now(r, mk_uri(SIP_URI_SIP, "192.0.2.1", 0, NULL, NULL));
	assert_int_equal(a.err, 0);
	assert_int_equal(a.res.count, 1);
	expect_dest(&a, 0, TP_UDP, "192.0.2.1:5060");
	a = now(r, mk_uri(SIP_URI_SIP, "192.0.2.1", 5070, "tcp", NULL));
	expect_dest(&a, 0, TP_TCP, "192.0.2.1:5070");
	a = now(r, mk_uri(SIP_URI_SIP, "[2001:db8::1]", 0, NULL, NULL));
	expect_dest(&a, 0, TP_UDP, "[2001:db8::1]:5060");
	a = now(r, mk_uri(SIP_URI_SIP, "[2001:db8::1]", 5080, "TCP", NULL));
	expect_dest(&a, 0, TP_TCP, "[2001:db8::1]:5080");
	/* sips: TLS on 5061 (the TLS transport itself is not built yet) */
	a = now(r, mk_uri(SIP_URI_SIPS, "192.0.2.2", 0, NULL, NULL));
	expect_dest(&a, 0, TP_TLS, "192.0.2.2:5061");
	a = now(r, mk_uri(SIP_URI_SIPS, "192.0.2.2", 0, "tcp", NULL));
	expect_dest(&a, 0, TP_TLS, "192.0.2.2:5061");
	a = now(r, mk_uri(SIP_URI_SIP, "192.0.2.1", 0, "tls", NULL));
	expect_dest(&a, 0, TP_TLS, "192.0.2.1:5061");
	a = now(r, mk_uri(SIP_URI_SIP, "unresolvable.invalid", 5090, NULL, "192.0.2.9"));
	expect_dest(&a, 0, TP_UDP, "192.0.2.9:5090");
	/* bad input is an error value */
	a = now(r, mk_uri(SIP_URI_SIP, "192.0.2.1", 0, "sctp", NULL));
	assert_int_equal(a.err, -EPROTONOSUPPORT);
	a = now(r, mk_uri(SIP_URI_SIP, "", 0, NULL, NULL));
	assert_int_equal(a.err, -EINVAL);
	resolver_free(r);
	event_base_free(base);
}

/* ---- against dnsmasq ---- */

/* The dnsmasq under test and the port it serves on. */
struct dns {
	pid_t pid;
	uint16_t port;
};

/* Binds a UDP socket on 127.0.0.1:port and closes it; returns the port bound
 * (the kernel's pick when port is 0), 0 when the port is taken. */
static uint16_t dns_try_bind(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(sa);
	uint16_t got = 0;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		got = ntohs(sa.sin_port);
	close(fd);
	return got;
}

/* Starts dnsmasq; d->pid is -1 when it cannot run here (skip). dnsmasq takes
 * its port on the command line (0 would turn DNS off), so the test takes a
 * free one from the kernel (bind to port 0, read it back, release it). */
static void dns_start(struct dns *d)
{
	d->port = dns_try_bind(0);
	assert_true(d->port != 0);
	char port_opt[32];
	snprintf(port_opt, sizeof(port_opt), "--port=%u", d->port);
	pid_t pid = fork();
	if (pid == 0) {
		execlp("dnsmasq", "dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
		       port_opt, "--listen-address=127.0.0.1", "--bind-interfaces",
		       "--conf-file=/dev/null", "--pid-file=", "--local=/test/", "--local-ttl=300",
		       "--log-facility=/dev/null",
		       "--naptr-record=example.test,10,50,s,SIP+D2T,,_sip._tcp.example.test",
		       "--naptr-record=example.test,20,50,s,SIP+D2U,,_sip._udp.example.test",
		       "--naptr-record=example.test,5,50,s,X-FOO+D2X,,_foo._tcp.example.test",
		       "--srv-host=_sip._tcp.example.test,b.example.test,5070,10,0",
		       "--srv-host=_sip._tcp.example.test,a.example.test,5080,5,0",
		       "--srv-host=_sip._udp.example.test,c.example.test,5090,1,0",
		       "--host-record=a.example.test,127.0.0.11",
		       "--host-record=b.example.test,127.0.0.12,::12",
		       "--host-record=c.example.test,127.0.0.13",
		       "--host-record=plain.test,127.0.0.20",
		       "--srv-host=_sip._udp.srvonly.test,a.example.test,5100", (char *)NULL);
		_exit(127);
	}
	/* ready when the port is taken */
	for (int i = 0; i < 100; i++) {
		if (dns_try_bind(d->port) == 0) {
			d->pid = pid;
			return;
		}
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid)
			return; /* exited: not installed or failed */
		usleep(50000);
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

static void dns_stop(struct dns *d)
{
	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		waitpid(d->pid, NULL, 0);
	}
	d->pid = -1;
}

static int dns_setup(void **state)
{
	struct dns *d = malloc(sizeof(*d));
	if (!d)
		return -1;
	d->pid = -1;
	d->port = 0;
	*state = d;
	return 0;
}

/* Runs even when an assertion fails, so no server outlives the test. */
static int dns_teardown(void **state)
{
	dns_stop(*state);
	free(*state);
	return 0;
}

static void on_guard(evutil_socket_t fd, short w, void *arg)
{
	event_base_loopbreak(arg);
}

static void wait_answer(struct event_base *base, struct answer *a)
{
	struct event *g = evtimer_new(base, on_guard, base);
	struct timeval tv = {20, 0};
	evtimer_add(g, &tv);
	while (a->calls == 0 && !event_base_got_break(base))
		event_base_loop(base, EVLOOP_ONCE);
	event_free(g);
	assert_int_equal(a->calls, 1);
}

static struct answer later(struct event_base *base, struct resolver *r, struct sip_uri u)
{
	struct answer a = {0};
	struct resolver_query *q = resolver_lookup(r, &u, on_answer, &a);
	if (q)
		wait_answer(base, &a);
	assert_int_equal(a.calls, 1);
	return a;
}

/* Starts the test's dnsmasq (skips the test where it cannot run) and a
 * resolver on base asking it. */
static struct resolver *dns_resolver(struct dns *dns, struct event_base *base, unsigned cache_max,
				     unsigned timeout_ms, unsigned tries)
{
	dns_start(dns);
	if (dns->pid < 0) {
		event_base_free(base);
		skip(); /* dnsmasq missing: scripts/install-deps.sh installs it */
	}
	char server[32];
	snprintf(server, sizeof(server), "127.0.0.1:%u", dns->port);
	struct resolver_config cfg = {.servers = server,
				      .cache_max = cache_max,
				      .timeout_ms = timeout_ms,
				      .tries = tries,
				      .have_udp = true,
				      .have_tcp = true};
	struct resolver *r = resolver_new(base, &cfg);
	assert_non_null(r);
	return r;
}

/* RFC 3263 §4.1 NAPTR (order, unsupported services skipped) -> §4.2 SRV
 * (RFC 2782 priority) -> A then AAAA; cache; merge; cancel; fallbacks. */
static void test_resolver_dns(void **state)
{
	struct dns *dns = *state;
	struct event_base *base = event_base_new();
	struct resolver *r = dns_resolver(dns, base, 100, 500, 2);

	/* two identical lookups in flight share one set of queries; both answered */
	struct sip_uri u = mk_uri(SIP_URI_SIP, "example.test", 0, NULL, NULL);
	struct answer a = {0}, b = {0}, c = {0};
	struct resolver_query *qa = resolver_lookup(r, &u, on_answer, &a);
	struct resolver_query *qb = resolver_lookup(r, &u, on_answer, &b);
	struct resolver_query *qc = resolver_lookup(r, &u, on_answer, &c);
	assert_non_null(qa);
	assert_non_null(qb);
	assert_non_null(qc);
	resolver_cancel(qc); /* cancelled: never called back */
	wait_answer(base, &a);
	wait_answer(base, &b);
	assert_int_equal(c.calls, 0);
	assert_int_equal(a.err, 0);
	assert_int_equal(a.res.count, 4);
	expect_dest(&a, 0, TP_TCP, "127.0.0.11:5080"); /* NAPTR order 10, SRV prio 5 */
	expect_dest(&a, 1, TP_TCP, "127.0.0.12:5070"); /* SRV prio 10: A ... */
	expect_dest(&a, 2, TP_TCP, "[::12]:5070");     /* ... then AAAA */
	expect_dest(&a, 3, TP_UDP, "127.0.0.13:5090"); /* NAPTR order 20 */
	assert_int_equal(b.res.count, 4);

	/* §4.1 explicit transport: SRV for it only */
	a = later(base, r, mk_uri(SIP_URI_SIP, "example.test", 0, "udp", NULL));
	assert_int_equal(a.res.count, 1);
	expect_dest(&a, 0, TP_UDP, "127.0.0.13:5090");
	/* §4.2 explicit port: A/AAAA only, no SRV */
	a = later(base, r, mk_uri(SIP_URI_SIP, "a.example.test", 5999, NULL, NULL));
	assert_int_equal(a.res.count, 1);
	expect_dest(&a, 0, TP_UDP, "127.0.0.11:5999");
	/* no NAPTR: SRV _sip._udp / _sip._tcp */
	a = later(base, r, mk_uri(SIP_URI_SIP, "srvonly.test", 0, NULL, NULL));
	assert_int_equal(a.res.count, 1);
	expect_dest(&a, 0, TP_UDP, "127.0.0.11:5100");
	/* no NAPTR, no SRV: A/AAAA on 5060 over UDP */
	a = later(base, r, mk_uri(SIP_URI_SIP, "plain.test", 0, NULL, NULL));
	assert_int_equal(a.res.count, 1);
	expect_dest(&a, 0, TP_UDP, "127.0.0.20:5060");
	/* maddr overrides the host */
	a = later(base, r, mk_uri(SIP_URI_SIP, "nope.test", 5061, "tcp", "c.example.test"));
	expect_dest(&a, 0, TP_TCP, "127.0.0.13:5061");
	/* NXDOMAIN */
	a = later(base, r, mk_uri(SIP_URI_SIP, "nope.test", 0, NULL, NULL));
	assert_int_equal(a.err, -ENOENT);
	assert_int_equal(a.res.count, 0);

	/* the cache: with the server gone, known names answer at once */
	dns_stop(dns);
	struct answer s = {0};
	u = mk_uri(SIP_URI_SIP, "example.test", 0, NULL, NULL);
	assert_null(resolver_lookup(r, &u, on_answer, &s));
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.err, 0);
	assert_int_equal(s.res.count, 4);
	expect_dest(&s, 0, TP_TCP, "127.0.0.11:5080");
	expect_dest(&s, 3, TP_UDP, "127.0.0.13:5090");
	/* negative answers are cached too (RFC 2308) */
	s = now(r, mk_uri(SIP_URI_SIP, "nope.test", 0, NULL, NULL));
	assert_int_equal(s.err, -ENOENT);
	/* an unknown name now fails (server gone), after the retries */
	a = later(base, r, mk_uri(SIP_URI_SIP, "other.test", 5060, NULL, NULL));
	assert_int_equal(a.err, -EHOSTUNREACH);

	resolver_free(r);
	event_base_free(base);
}

/* dns.cache-size = 0 is no cache (the option table's doc): a name just
 * answered is asked again, so with the server gone it no longer resolves. */
static void test_resolver_no_cache(void **state)
{
	struct dns *dns = *state;
	struct event_base *base = event_base_new();
	struct resolver *r = dns_resolver(dns, base, 0, 200, 1);
	struct sip_uri u = mk_uri(SIP_URI_SIP, "a.example.test", 5999, NULL, NULL);
	struct answer a = later(base, r, u);
	assert_int_equal(a.err, 0);
	expect_dest(&a, 0, TP_UDP, "127.0.0.11:5999");
	dns_stop(dns);
	a = later(base, r, u); /* not from a cache: asked, and nobody answers */
	assert_int_not_equal(a.err, 0);
	resolver_free(r);
	event_base_free(base);
}

/* A query may be cancelled until its callback runs; freeing the resolver with
 * queries outstanding is safe. */
static void test_resolver_cancel_and_free(void **state)
{
	struct event_base *base = event_base_new();
	/* nobody answers: the queries are cancelled or freed before a reply */
	struct resolver_config cfg = {.servers = "127.0.0.1:9",
				      .timeout_ms = 200,
				      .tries = 1,
				      .have_udp = true,
				      .have_tcp = true};
	struct resolver *r = resolver_new(base, &cfg);
	struct answer a = {0}, b = {0};
	struct sip_uri u = mk_uri(SIP_URI_SIP, "x.test", 0, NULL, NULL);
	struct resolver_query *q = resolver_lookup(r, &u, on_answer, &a);
	assert_non_null(q);
	resolver_cancel(q);
	assert_non_null(resolver_lookup(r, &u, on_answer, &b));
	event_base_loop(base, EVLOOP_NONBLOCK);
	resolver_free(r);
	assert_int_equal(a.calls, 0);
	event_base_free(base);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_resolver_ip_literals),
	    cmocka_unit_test_setup_teardown(test_resolver_dns, dns_setup, dns_teardown),
	    cmocka_unit_test_setup_teardown(test_resolver_no_cache, dns_setup, dns_teardown),
	    cmocka_unit_test(test_resolver_cancel_and_free),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
