/* calls.h — GET /calls and /calls/CALL-ID: the cluster's calls (dialog
 * records, cluster/calls.h) as JSON: every proxy's calls when the store is
 * shared. */
#ifndef SIPPROXY_ADMIN_CALLS_H
#define SIPPROXY_ADMIN_CALLS_H

struct evbuffer;

/* admin_handler_fn for "/calls" and "/calls/"; arg is the struct calls *. */
int admin_calls_page(void *arg, const char *path, const char *query, struct evbuffer *out,
		     const char **content_type);

#endif
