/* admin.c — the admin HTTP endpoint on evhttp: routes GET requests (pages)
 * and POST requests (actions) by exact path, or by prefix for a path ending
 * in '/', to their handlers (built in: /health and /metrics), answers 404 for
 * unknown paths and 405 (with Allow, RFC 9110 §15.5.6) for other methods.
 * It runs on the proxy's event loop, so handlers read counters without locks. */
#include "admin/admin.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define ADMIN_MAX_ROUTES 16
#define ADMIN_PATH_MAX	 64

struct admin_route {
	char path[ADMIN_PATH_MAX];
	bool post;   /* POST (an action), else GET (a page) */
	bool prefix; /* path ends with '/': matches everything under it */
	admin_handler_fn fn;
	admin_upload_fn upload; /* a POST that reads its body */
	void *arg;
};

struct admin {
	struct evhttp *http;
	struct evhttp_bound_socket *sock;
	struct admin_sources src;
	char name[64];
	bool draining;
	uint16_t port;
	struct admin_route routes[ADMIN_MAX_ROUTES];
	size_t n_routes;
};

static const char *reason_for(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 409: return "Conflict";
	case 405: return "Method Not Allowed";
	case 503: return "Service Unavailable";
	default: return status < 400 ? "OK" : "Error";
	}
}

void admin_json_str(struct evbuffer *out, struct str s)
{
	evbuffer_add(out, "\"", 1);
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c == '"' || c == '\\')
			evbuffer_add_printf(out, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			evbuffer_add_printf(out, "\\u%04x", c);
		else
			evbuffer_add(out, &s.p[i], 1);
	}
	evbuffer_add(out, "\"", 1);
}

static int page_health(void *arg, const char *path, const char *query, struct evbuffer *out,
		       const char **content_type)
{
	struct admin *a = arg;
	time_t now = time(NULL);
	long long up = now > a->src.start_time ? (long long)(now - a->src.start_time) : 0;
	*content_type = "application/json";
	evbuffer_add_printf(out, "{\"status\":\"%s\",\"name\":", a->draining ? "draining" : "ok");
	admin_json_str(out, str_cstr(a->name));
	evbuffer_add_printf(out, ",\"uptime_s\":%lld}\n", up);
	return a->draining ? 503 : 200;
}

static int page_metrics(void *arg, const char *path, const char *query, struct evbuffer *out,
			const char **content_type)
{
	struct admin *a = arg;
	/* Both are large (per-code arrays); keep them off the stack. */
	struct proxy_stats *ps = calloc(1, sizeof(*ps));
	struct tp_stats ts = {0};
	if (!ps)
		return 500;
	if (a->src.proxy_stats)
		a->src.proxy_stats(a->src.proxy_arg, ps);
	if (a->src.tp_stats)
		a->src.tp_stats(a->src.tp_arg, &ts);
	*content_type = "text/plain; version=0.0.4; charset=utf-8";
	metrics_format(out, ps, &ts);
	if (a->src.extra_metrics)
		a->src.extra_metrics(a->src.extra_arg, out);
	free(ps);
	return 200;
}

static void send_text(struct evhttp_request *req, int status, const char *text)
{
	struct evbuffer *body = evbuffer_new();
	if (!body) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evbuffer_add_printf(body, "%s\n", text);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; charset=utf-8");
	evhttp_send_reply(req, status, reason_for(status), body);
	evbuffer_free(body);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct admin *a = arg;
	struct evkeyvalq *hdrs = evhttp_request_get_output_headers(req);
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	if (!path || !*path)
		path = "/";
	const struct admin_route *r = NULL;
	for (size_t i = 0; i < a->n_routes && !r; i++) {
		const struct admin_route *x = &a->routes[i];
		bool match = x->prefix ? strncmp(x->path, path, strlen(x->path)) == 0
				       : strcmp(x->path, path) == 0;
		if (match)
			r = x;
	}
	if (!r) {
		send_text(req, 404, "not found");
		return;
	}
	if (cmd != (r->post ? EVHTTP_REQ_POST : EVHTTP_REQ_GET)) {
		evhttp_add_header(hdrs, "Allow", r->post ? "POST" : "GET");
		send_text(req, 405, "method not allowed");
		return;
	}
	struct evbuffer *body = evbuffer_new();
	if (!body) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	const char *ctype = "text/plain; charset=utf-8";
	int status;
	if (r->upload) {
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		size_t len = in ? evbuffer_get_length(in) : 0;
		char *text = malloc(len + 1);
		if (!text) {
			evbuffer_free(body);
			evhttp_send_error(req, 500, NULL);
			return;
		}
		if (len)
			evbuffer_remove(in, text, len);
		text[len] = '\0';
		status = r->upload(r->arg, path, text, len, body, &ctype);
		free(text);
	} else {
		status = r->fn(r->arg, path, query, body, &ctype);
	}
	if (status < 100 || status > 599)
		status = 500;
	evhttp_add_header(hdrs, "Content-Type", ctype);
	evhttp_add_header(hdrs, "Cache-Control", "no-store");
	evhttp_send_reply(req, status, reason_for(status), body);
	evbuffer_free(body);
}

static int route_add(struct admin *a, const char *path, bool post, admin_handler_fn fn,
		     admin_upload_fn upload, void *arg)
{
	if (!path || path[0] != '/' || strlen(path) >= ADMIN_PATH_MAX || (!fn && !upload))
		return -1;
	if (a->n_routes >= ADMIN_MAX_ROUTES)
		return -1;
	for (size_t i = 0; i < a->n_routes; i++)
		if (strcmp(a->routes[i].path, path) == 0)
			return -1;
	struct admin_route *r = &a->routes[a->n_routes++];
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->post = post;
	r->prefix = path[strlen(path) - 1] == '/' && path[1];
	r->fn = fn;
	r->upload = upload;
	r->arg = arg;
	return 0;
}

int admin_upload_add(struct admin *a, const char *path, admin_upload_fn fn, void *arg)
{
	return route_add(a, path, true, NULL, fn, arg);
}

int admin_route_add(struct admin *a, const char *path, admin_handler_fn fn, void *arg)
{
	return route_add(a, path, false, fn, NULL, arg);
}

int admin_action_add(struct admin *a, const char *path, admin_handler_fn fn, void *arg)
{
	return route_add(a, path, true, fn, NULL, arg);
}

struct admin *admin_new(struct event_base *base, const char *address, uint16_t port,
			const struct admin_sources *src)
{
	struct admin *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	if (src)
		a->src = *src;
	snprintf(a->name, sizeof(a->name), "%s", a->src.name ? a->src.name : "");
	a->src.name = a->name;
	if (a->src.start_time == 0)
		a->src.start_time = time(NULL);
	a->http = evhttp_new(base);
	if (!a->http)
		goto fail;
	/* Accept every method so that we, not evhttp, answer 405 with Allow. */
	evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
						EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
						EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
						EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	/* Small limits: the endpoint only serves short GETs to local tools. */
	evhttp_set_max_headers_size(a->http, 8192);
	evhttp_set_max_body_size(a->http, ADMIN_MAX_BODY);
	evhttp_set_timeout(a->http, 10);
	evhttp_set_gencb(a->http, on_request, a);
	a->sock = evhttp_bind_socket_with_handle(a->http, address, port);
	if (!a->sock)
		goto fail;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	evutil_socket_t fd = evhttp_bound_socket_get_fd(a->sock);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		a->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
						   : ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (admin_route_add(a, "/health", page_health, a) < 0 ||
	    admin_route_add(a, "/metrics", page_metrics, a) < 0)
		goto fail;
	return a;
fail:
	admin_free(a);
	return NULL;
}

void admin_free(struct admin *a)
{
	if (!a)
		return;
	if (a->http)
		evhttp_free(a->http);
	free(a);
}

void admin_set_draining(struct admin *a, bool draining)
{
	a->draining = draining;
}

uint16_t admin_port(const struct admin *a)
{
	return a->port;
}
