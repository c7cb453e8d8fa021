/* publish.h — one cluster definition, live: with the Redis store, a
 * definition published to any proxy (POST /cluster, sipproxyctl cluster
 * publish FILE) is checked as this proxy would load it, stored in Redis, and
 * applied by every proxy as it arrives through the change log, the same way
 * as a reload. */
#ifndef SIPPROXY_APP_PUBLISH_H
#define SIPPROXY_APP_PUBLISH_H

#include <stddef.h>

#include "config/config.h"

struct app;
struct cluster;
struct evbuffer;
struct publish;
struct repl;

struct publish *publish_new(const struct config *base, struct cluster *cluster, struct repl *r);
void publish_free(struct publish *pb);
/* admin_upload_fn for POST /cluster; arg is the struct publish *. */
int publish_upload(void *arg, const char *path, const char *body, size_t len, struct evbuffer *out,
		   const char **content_type);

#endif
