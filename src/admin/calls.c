/* calls.c — GET /calls (every call the dialog records hold, newest first is
 * not promised: table order) and GET /calls/CALL-ID (%-escapes decoded; 404
 * when no call has it): Call-ID, tags, SIP Server node, the proxy holding
 * the endpoint's flow, caller, callee, the proxy that recorded it, state,
 * start and age. */
#include "admin/calls.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin/admin.h"
#include "cluster/calls.h"

struct calls_page {
	struct evbuffer *out;
	unsigned n;
	int64_t now_ms;
};

static int add_call(void *arg, const struct call_info *c)
{
	struct calls_page *pg = arg;
	evbuffer_add_printf(pg->out, "%s\n  {\"call_id\": ", pg->n ? "," : "");
	admin_json_str(pg->out, c->call_id);
	evbuffer_add_printf(pg->out, ", \"tags\": ");
	admin_json_str(pg->out, c->tags);
	evbuffer_add_printf(pg->out, ", \"state\": \"confirmed\", \"node\": ");
	admin_json_str(pg->out, c->node);
	evbuffer_add_printf(pg->out, ", \"flow_proxy\": ");
	admin_json_str(pg->out, c->flow);
	evbuffer_add_printf(pg->out, ", \"caller\": ");
	admin_json_str(pg->out, c->caller);
	evbuffer_add_printf(pg->out, ", \"callee\": ");
	admin_json_str(pg->out, c->callee);
	evbuffer_add_printf(pg->out, ", \"recorded_by\": ");
	admin_json_str(pg->out, c->origin);
	evbuffer_add_printf(pg->out, ", \"start\": %lld, \"age_s\": %lld, \"replicated\": %s}",
			    (long long)(c->start_ms / 1000),
			    (long long)((pg->now_ms - c->start_ms) / 1000),
			    c->version ? "true" : "false");
	pg->n++;
	return 0;
}

/* "%40" -> "@" */
static size_t decode(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	while (*in && n + 1 < cap) {
		if (in[0] == '%' && in[1] && in[2]) {
			char hex[3] = {in[1], in[2], 0};
			out[n++] = (char)strtol(hex, NULL, 16);
			in += 3;
		} else {
			out[n++] = *in++;
		}
	}
	out[n] = '\0';
	return n;
}

int admin_calls_page(void *arg, const char *path, const char *query, struct evbuffer *out,
		     const char **content_type)
{
	(void)query;
	struct calls *k = arg;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct calls_page pg = {out, 0, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000};
	char id[1024] = "";
	size_t idlen = 0;
	if (strncmp(path, "/calls/", 7) == 0)
		idlen = decode(path + 7, id, sizeof(id));
	*content_type = "application/json";
	evbuffer_add_printf(out, "{\"calls\": [");
	calls_each(k, str_make(id, idlen), add_call, &pg);
	evbuffer_add_printf(out, "%s], \"count\": %u}\n", pg.n ? "\n" : "", pg.n);
	return idlen && pg.n == 0 ? 404 : 200;
}
