/* proxy_harness.c — see proxy_harness.h: one app on an event base nobody
 * dispatches, a capture transport recording every send, and a clock that
 * only harness_advance moves. Nothing reaches the network: sends are
 * captured, and DNS goes to a loopback port nobody answers on. */
#include "proxy_harness.h"

#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "config/config.h"
#include "sip/build.h"
#include "transport/capture.h"
#include "txn/txn.h"
#include "util/log.h"

/* The base config, one top-level group per entry: a group the caller's extra
 * text defines replaces the base's (libconfig refuses a group twice). */
static const char *const harness_groups[] = {
    "proxy = { name = \"h-proxy\"; sip-address = \"127.0.0.1\"; sip-port = 5060;\n"
    "  transports = [ \"udp\", \"tcp\" ];\n"
    "  listen = ( { transport = \"udp\"; address = \"::1\"; port = 5060; },\n"
    "             { transport = \"tcp\"; address = \"::1\"; port = 5060; } ); };\n",
    "cluster = {\n"
    "  proxies = ( { name = \"h-proxy\"; sip-address = \"127.0.0.1\"; sip-port = 5060; },\n"
    "              { name = \"h-peer\"; sip-address = \"127.0.0.6\"; sip-port = 5060; } );\n"
    "  sip-servers = ( { name = \"s1\"; sip-address = \"127.0.0.3\"; sip-port = 5090;\n"
    "    backup-sip-address = \"127.0.0.4\"; transport = \"udp\"; oos-check = 0; } );\n"
    "  sbcs = ( { name = \"sbc\"; sip-address = \"127.0.0.7\"; } );\n"
    "  peer-check = 0;\n"
    "};\n",
    "sip = { t1 = 500; timer-c = 180000; };\n",
    "registrar = { domains = [ \"sipproxy.test\" ]; };\n",
    "dns = { servers = \"127.0.0.1:9\"; timeout = 100; tries = 1; };\n",
    "log = { level = \"error\"; };\n",
    "admin = { port = 0; };\n",
    "shutdown-timeout = 1;\n",
};

/* Does text set the top-level key that group starts with ("name =")? */
static bool extra_defines(const char *extra, const char *group)
{
	size_t klen = strcspn(group, " =");
	for (const char *p = extra; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, group, klen) == 0 && (p[klen] == ' ' || p[klen] == '='))
			return true;
	}
	return false;
}

static char *harness_config_text(const char *extra)
{
	size_t n = (extra ? strlen(extra) : 0) + 2;
	for (size_t i = 0; i < sizeof(harness_groups) / sizeof(harness_groups[0]); i++)
		n += strlen(harness_groups[i]);
	char *text = malloc(n);
	if (!text)
		return NULL;
	text[0] = '\0';
	for (size_t i = 0; i < sizeof(harness_groups) / sizeof(harness_groups[0]); i++)
		if (!extra || !extra_defines(extra, harness_groups[i]))
			strcat(text, harness_groups[i]);
	if (extra)
		strcat(text, extra);
	strcat(text, "\n");
	return text;
}

#define HARNESS_MAX_OUT 4096

struct harness {
	struct event_base *base;
	struct config cfg;
	struct app *app;
	uint64_t now;
	struct harness_out out[HARNESS_MAX_OUT];
	size_t n_out;
};

static uint64_t harness_clock(void *arg)
{
	return ((struct harness *)arg)->now;
}

static void harness_capture(void *arg, const struct tp_dest *dest, uint64_t conn_id,
			    const char *buf, size_t len)
{
	struct harness *h = arg;
	if (h->n_out == HARNESS_MAX_OUT) {
		/* keep the newest: drop the oldest half */
		for (size_t i = 0; i < HARNESS_MAX_OUT / 2; i++) {
			free(h->out[i].buf);
			sip_msg_free(h->out[i].msg);
		}
		memmove(h->out, h->out + HARNESS_MAX_OUT / 2,
			(HARNESS_MAX_OUT / 2) * sizeof(h->out[0]));
		h->n_out = HARNESS_MAX_OUT / 2;
	}
	struct harness_out *o = &h->out[h->n_out++];
	o->dest = *dest;
	o->conn_id = conn_id;
	o->buf = malloc(len + 1);
	if (o->buf) {
		memcpy(o->buf, buf, len);
		o->buf[len] = '\0';
	}
	o->len = len;
	o->msg = o->buf ? sip_msg_new(o->buf, len) : NULL;
	if (o->msg && sip_msg_parse(o->msg, NULL) < 0) {
		sip_msg_free(o->msg);
		o->msg = NULL;
	}
}

struct harness *harness_new(const char *extra)
{
	struct harness *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	char *text = harness_config_text(extra);
	char err[512];
	if (!text)
		goto fail;
	int rc = config_load_string(text, "harness.conf", &h->cfg, err, sizeof(err));
	free(text);
	if (rc < 0) {
		fprintf(stderr, "harness config: %s\n", err);
		goto fail;
	}
	log_setup((enum log_level)h->cfg.log_level, false, "harness");
	h->now = 1000000;
	h->base = event_base_new();
	struct proxy_env env = {
	    .capture = harness_capture,
	    .capture_arg = h,
	    .now_ms = harness_clock,
	    .clock_arg = h,
	};
	h->app = h->base ? app_new(h->base, &h->cfg, &env, err, sizeof(err)) : NULL;
	if (!h->app || app_start(h->app, err, sizeof(err)) < 0) {
		fprintf(stderr, "harness: %s\n", err);
		goto fail;
	}
	return h;
fail:
	harness_free(h);
	return NULL;
}

void harness_free(struct harness *h)
{
	if (!h)
		return;
	app_free(h->app);
	harness_clear(h);
	if (h->base)
		event_base_free(h->base);
	free(h);
}

union tp_sockaddr harness_addr(const char *hostport)
{
	union tp_sockaddr a;
	const char *colon = strrchr(hostport, ':');
	unsigned port = colon ? (unsigned)strtoul(colon + 1, NULL, 10) : 5060;
	struct str host = str_make(hostport, colon ? (size_t)(colon - hostport) : strlen(hostport));
	if (!colon || tp_addr_from_ip(host, (uint16_t)port, &a) < 0) {
		fprintf(stderr, "harness: bad address %s\n", hostport);
		abort();
	}
	return a;
}

static struct tp *harness_tp(struct harness *h)
{
	return proxy_transport(app_proxy(h->app));
}

void harness_udp_raw(struct harness *h, const union tp_sockaddr *src, const char *buf, size_t len)
{
	tp_capture_inject(harness_tp(h), TP_UDP, src, 0, buf, len);
}

void harness_udp(struct harness *h, const char *src, const char *msg)
{
	union tp_sockaddr a = harness_addr(src);
	harness_udp_raw(h, &a, msg, strlen(msg));
}

uint64_t harness_tcp_open_addr(struct harness *h, const union tp_sockaddr *src)
{
	return tp_capture_accept(harness_tp(h), TP_TCP, src);
}

uint64_t harness_tcp_open(struct harness *h, const char *src)
{
	union tp_sockaddr a = harness_addr(src);
	return harness_tcp_open_addr(h, &a);
}

void harness_tcp_raw(struct harness *h, uint64_t conn, const char *buf, size_t len)
{
	/* the capture transport knows the peer of conn */
	tp_capture_inject_conn(harness_tp(h), conn, buf, len);
}

void harness_tcp(struct harness *h, uint64_t conn, const char *msg)
{
	harness_tcp_raw(h, conn, msg, strlen(msg));
}

void harness_tcp_close(struct harness *h, uint64_t conn)
{
	tp_capture_close(harness_tp(h), conn);
}

void harness_advance(struct harness *h, uint64_t ms)
{
	h->now += ms;
	txn_layer_run_timers(proxy_txn_layer(app_proxy(h->app)));
}

void harness_poll(struct harness *h)
{
	event_base_loop(h->base, EVLOOP_NONBLOCK);
}

uint64_t harness_now(const struct harness *h)
{
	return h->now;
}

size_t harness_count(const struct harness *h)
{
	return h->n_out;
}

const struct harness_out *harness_out(const struct harness *h, size_t i)
{
	return i < h->n_out ? &h->out[i] : NULL;
}

void harness_clear(struct harness *h)
{
	for (size_t i = 0; i < h->n_out; i++) {
		free(h->out[i].buf);
		sip_msg_free(h->out[i].msg);
	}
	h->n_out = 0;
}

static bool out_matches(const struct harness_out *o, const char *prefix, const char *dest)
{
	if (!o->buf || strncmp(o->buf, prefix, strlen(prefix)) != 0)
		return false;
	if (!dest)
		return true;
	char a[64];
	return strcmp(tp_addr_str(&o->dest.addr, a, sizeof(a)), dest) == 0;
}

const struct harness_out *harness_find(const struct harness *h, const char *prefix,
				       const char *dest)
{
	for (size_t i = h->n_out; i-- > 0;)
		if (out_matches(&h->out[i], prefix, dest))
			return &h->out[i];
	return NULL;
}

size_t harness_count_of(const struct harness *h, const char *prefix, const char *dest)
{
	size_t n = 0;
	for (size_t i = 0; i < h->n_out; i++)
		n += out_matches(&h->out[i], prefix, dest);
	return n;
}

const struct harness_out *harness_sent_elsewhere(const struct harness *h,
						 const char *const *allowed_ips)
{
	for (size_t i = 0; i < h->n_out; i++) {
		bool ok = false;
		for (const char *const *ip = allowed_ips; *ip && !ok; ip++) {
			union tp_sockaddr a;
			ok = tp_addr_from_ip(str_cstr(*ip), 0, &a) == 0 &&
			     tp_addr_same_ip(&a, &h->out[i].dest.addr);
		}
		if (!ok)
			return &h->out[i];
	}
	return NULL;
}

void harness_reply(struct harness *h, const struct harness_out *out, int status, const char *extra)
{
	if (!out || !out->msg || !out->msg->is_request)
		return;
	char buf[16384];
	size_t n = sip_build_response(out->msg, status, NULL, STR_LIT("h-uas-tag"), str_cstr(extra),
				      buf, sizeof(buf));
	if (!n)
		return;
	if (tp_proto_is_stream(out->dest.proto) && out->conn_id)
		harness_tcp_raw(h, out->conn_id, buf, n);
	else
		harness_udp_raw(h, &out->dest.addr, buf, n);
}

/* Appends printf output to buf (len tracks it; on overflow len goes past cap). */
static void bw_printf(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void bw_printf(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + (*len < cap ? *len : cap), *len < cap ? cap - *len : 0, fmt, ap);
	va_end(ap);
	*len += n > 0 ? (size_t)n : 0;
}

size_t harness_dialog_request(const struct harness_out *out, const char *method, unsigned seq,
			      char *buf, size_t cap)
{
	const struct sip_msg *m = out ? out->msg : NULL;
	if (!m || !m->from || !m->to || !m->call_id.len)
		return 0;
	bool callee = m->is_request;
	const struct sip_addr *local = callee ? m->to : m->from;
	const struct sip_addr *remote = callee ? m->from : m->to;
	struct str target = m->contact && !m->contact->star ? m->contact->uri_str : remote->uri_str;
	bool ack = strcmp(method, "ACK") == 0;
	char a[64];
	size_t n = 0;
	bw_printf(buf, cap, &n, "%s %.*s SIP/2.0\r\n", method, STR_FMT(target));
	bw_printf(buf, cap, &n, "Via: SIP/2.0/%s %s;branch=z9hG4bK-hd%u;rport\r\n",
		  tp_proto_name(out->dest.proto), tp_addr_str(&out->dest.addr, a, sizeof(a)), seq);
	bw_printf(buf, cap, &n, "Max-Forwards: 70\r\n");
	/* §12.1.1 / §12.1.2: the callee's route set is the Record-Route in
	 * order, the caller's the same values reversed. */
	const struct sip_addr *rr[16];
	unsigned nrr = 0;
	for (const struct sip_addr *r = m->record_route; r && nrr < 16; r = r->next)
		rr[nrr++] = r;
	for (unsigned i = 0; i < nrr; i++) {
		const struct sip_addr *r = rr[callee ? i : nrr - 1 - i];
		bw_printf(buf, cap, &n, "Route: <%.*s>\r\n", STR_FMT(r->uri_str));
	}
	bw_printf(buf, cap, &n, "From: %.*s%s\r\n", STR_FMT(local->raw),
		  local->tag.len ? "" : ";tag=h-uas-tag");
	bw_printf(buf, cap, &n, "To: %.*s\r\n", STR_FMT(remote->raw));
	bw_printf(buf, cap, &n, "Call-ID: %.*s\r\n", STR_FMT(m->call_id));
	bw_printf(buf, cap, &n, "CSeq: %u %s\r\n", ack ? m->cseq : m->cseq + 1 + seq, method);
	bw_printf(buf, cap, &n, "Content-Length: 0\r\n\r\n");
	return n < cap ? n : 0;
}

void harness_dialog(struct harness *h, const struct harness_out *out, const char *method,
		    unsigned seq)
{
	char buf[16384];
	size_t n = harness_dialog_request(out, method, seq, buf, sizeof(buf));
	if (!n)
		return;
	if (tp_proto_is_stream(out->dest.proto) && out->conn_id &&
	    tp_conn_alive(harness_tp(h), out->conn_id))
		harness_tcp_raw(h, out->conn_id, buf, n);
	else
		harness_udp_raw(h, &out->dest.addr, buf, n);
}

struct app *harness_app(struct harness *h)
{
	return h->app;
}

void harness_stats(struct harness *h, struct proxy_stats *out)
{
	proxy_get_stats(app_proxy(h->app), out);
}
