/* registrations.h — the /registrations admin page over a registration store. */
#ifndef SIPPROXY_ADMIN_REGISTRATIONS_H
#define SIPPROXY_ADMIN_REGISTRATIONS_H

struct evbuffer;

/* admin_handler_fn for admin_route_add; arg is the struct store *. */
int admin_registrations_page(void *arg, const char *path, const char *query, struct evbuffer *out,
			     const char **content_type);

#endif
