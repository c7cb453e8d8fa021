/* registrations.c — GET /registrations[?aor=sip:user@domain]: the bindings in
 * the registration store as JSON, read through the store interface; each says
 * the proxy holding its flow ("owner") and the SIP Server node that accepted
 * its REGISTER and owns the endpoint ("node", "" when unknown). */
#include "admin/registrations.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "registrar/registrar.h"

struct page {
	struct evbuffer *out;
	unsigned n;
	int64_t now;
};

static int add_binding(void *arg, const struct store_binding *b)
{
	struct page *pg = arg;
	if (b->expires_at <= pg->now)
		return 0;
	char addr[INET6_ADDRSTRLEN + 8];
	evbuffer_add_printf(pg->out, "%s\n  {\"aor\": ", pg->n ? "," : "");
	admin_json_str(pg->out, b->aor);
	evbuffer_add_printf(pg->out, ", \"contact\": ");
	admin_json_str(pg->out, b->contact);
	evbuffer_add_printf(pg->out, ", \"expires_in\": %lld, \"q\": %u.%03u, \"call_id\": ",
			    (long long)((b->expires_at - pg->now + 999) / 1000), b->q / 1000,
			    b->q % 1000);
	admin_json_str(pg->out, b->call_id);
	evbuffer_add_printf(pg->out, ", \"cseq\": %u, \"instance\": ", b->cseq);
	admin_json_str(pg->out, b->instance);
	evbuffer_add_printf(pg->out, ", \"reg_id\": %u, \"path\": ", b->reg_id);
	admin_json_str(pg->out, b->path);
	evbuffer_add_printf(pg->out,
			    ", \"transport\": \"%s\", \"source\": \"%s\", \"conn_id\": %llu, "
			    "\"owner\": ",
			    tp_proto_name(b->proto), tp_addr_str(&b->source, addr, sizeof(addr)),
			    (unsigned long long)b->conn_id);
	admin_json_str(pg->out, b->owner);
	evbuffer_add_printf(pg->out, ", \"node\": ");
	admin_json_str(pg->out, b->node);
	evbuffer_add(pg->out, "}", 1);
	pg->n++;
	return 0;
}

/* ?aor=... with %-escapes decoded. */
static size_t query_aor(const char *query, char *out, size_t cap)
{
	if (!query)
		return 0;
	const char *q = strstr(query, "aor=");
	if (!q || (q != query && q[-1] != '&'))
		return 0;
	q += 4;
	size_t n = 0;
	while (*q && *q != '&' && n + 1 < cap) {
		if (q[0] == '%' && q[1] && q[2]) {
			char hex[3] = {q[1], q[2], 0};
			out[n++] = (char)strtol(hex, NULL, 16);
			q += 3;
		} else {
			out[n++] = *q == '+' ? ' ' : *q;
			q++;
		}
	}
	out[n] = '\0';
	return n;
}

int admin_registrations_page(void *arg, const char *path, const char *query, struct evbuffer *out,
			     const char **content_type)
{
	struct store *s = arg;
	(void)path;
	struct page pg = {out, 0, registrar_now_ms()};
	char aor[512];
	size_t alen = query_aor(query, aor, sizeof(aor));
	*content_type = "application/json";
	evbuffer_add_printf(out, "{\"bindings\": [");
	if (alen)
		store_lookup(s, str_make(aor, alen), pg.now, add_binding, &pg);
	else
		store_iterate(s, add_binding, &pg);
	evbuffer_add_printf(out, "%s], \"count\": %u}\n", pg.n ? "\n" : "", pg.n);
	return alen && pg.n == 0 ? 404 : 200;
}
