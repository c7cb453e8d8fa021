/* admin.h — the local admin HTTP endpoint (GET /health, GET /metrics, and pages
 * and actions later features add with admin_route_add / admin_action_add), served by libevent's
 * evhttp on the proxy's own event loop. Admin reads the other layers only through the getter
 * callbacks in struct admin_sources, so it links none of them directly. */
#ifndef SIPPROXY_ADMIN_ADMIN_H
#define SIPPROXY_ADMIN_ADMIN_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "proxy/stats.h"
#include "transport/transport.h"
#include "util/str.h"

struct event_base;
struct evbuffer;

struct admin_sources {
	/* Each getter may be NULL (its metrics then read as zero). */
	void (*proxy_stats)(void *arg, struct proxy_stats *out);
	void *proxy_arg;
	void (*tp_stats)(void *arg, struct tp_stats *out);
	void *tp_arg;
	/* More metric families appended to /metrics (the cluster's). */
	void (*extra_metrics)(void *arg, struct evbuffer *out);
	void *extra_arg;
	const char *name;  /* instance name (proxy.name); copied */
	time_t start_time; /* time(NULL) at start-up; 0 = when admin_new runs */
};

/* Writes the page body into out and returns the HTTP status; may set
 * *content_type (default "text/plain; charset=utf-8"). query is the raw query
 * string without '?', or NULL. */
typedef int (*admin_handler_fn)(void *arg, const char *path, const char *query,
				struct evbuffer *out, const char **content_type);

struct admin;

/* Binds address:port (numeric, meant to be loopback) on base. NULL on failure. */
struct admin *admin_new(struct event_base *base, const char *address, uint16_t port,
			const struct admin_sources *src);
void admin_free(struct admin *a);
/* While draining, /health answers 503 {"status":"draining",...} so a load
 * balancer stops sending new work (SIGTERM drain). */
void admin_set_draining(struct admin *a, bool draining);
/* Adds a GET page at exactly path ("/registrations"). 0, or -1 if the table is
 * full or path is taken. */
int admin_route_add(struct admin *a, const char *path, admin_handler_fn fn, void *arg);
/* Adds a POST action at path; a path ending in '/' ("/nodes/") takes every
 * path under it. Same returns. */
int admin_action_add(struct admin *a, const char *path, admin_handler_fn fn, void *arg);
/* A POST action that reads its body (a file being published), at most
 * ADMIN_MAX_BODY bytes, NUL-terminated. Same returns. */
#define ADMIN_MAX_BODY (1u << 20)
typedef int (*admin_upload_fn)(void *arg, const char *path, const char *body, size_t len,
			       struct evbuffer *out, const char **content_type);
int admin_upload_add(struct admin *a, const char *path, admin_upload_fn fn, void *arg);
/* The port actually bound (useful when admin_new was given port 0). */
uint16_t admin_port(const struct admin *a);

/* s as a JSON string (RFC 8259 §7): quote, backslash, control and non-ASCII
 * bytes escaped; for every page that writes JSON. */
void admin_json_str(struct evbuffer *out, struct str s);

/* Prometheus text exposition format 0.0.4 of the counters; pure (unit-testable). */
void metrics_format(struct evbuffer *out, const struct proxy_stats *ps, const struct tp_stats *ts);

#endif
