/* admin_test.h — the admin tests' client: a real evhttp server on 127.0.0.1
 * (port 0: the kernel picks, admin_port reads it back) on an event base the
 * test runs itself, fetched with a plain socket on the same loop. */
#ifndef SIPPROXY_TESTS_ADMIN_TEST_H
#define SIPPROXY_TESTS_ADMIN_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "admin/admin.h"

struct fixture {
	struct event_base *base;
	struct admin *admin;
	uint16_t port; /* where the admin endpoint listens */
	char resp[65536];
	int status;
	const char *body;
};

/* A fixture with its endpoint open, fed by src. */
static inline struct fixture *admin_test_open(const struct admin_sources *src)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->base = event_base_new();
	assert_non_null(f->base);
	f->admin = admin_new(f->base, "127.0.0.1", 0, src);
	assert_non_null(f->admin);
	f->port = admin_port(f->admin);
	assert_true(f->port != 0);
	return f;
}

static inline void admin_test_close(struct fixture *f)
{
	admin_free(f->admin);
	event_base_free(f->base);
	free(f);
}

/* Sends one raw HTTP/1.0 request and runs the loop until the server closes. */
static inline void http_raw(struct fixture *f, const char *request)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(f->port)};
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(send(fd, request, strlen(request), 0), (ssize_t)strlen(request));
	size_t got = 0;
	bool closed = false;
	/* Iteration cap only guards against a hang; it is not a timing check. */
	for (int i = 0; i < 10000 && !closed; i++) {
		event_base_loop(f->base, EVLOOP_NONBLOCK);
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 5) <= 0)
			continue;
		ssize_t n = recv(fd, f->resp + got, sizeof(f->resp) - 1 - got, 0);
		if (n <= 0)
			closed = true;
		else
			got += (size_t)n;
	}
	close(fd);
	assert_true(closed);
	f->resp[got] = '\0';
	f->status = 0;
	sscanf(f->resp, "HTTP/1.%*d %d", &f->status);
	char *sep = strstr(f->resp, "\r\n\r\n");
	f->body = sep ? sep + 4 : "";
}

static inline void http_get(struct fixture *f, const char *path)
{
	char req[256];
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
	http_raw(f, req);
}

static inline void http_post(struct fixture *f, const char *path)
{
	char req[256];
	snprintf(req, sizeof(req),
		 "POST %s HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n", path);
	http_raw(f, req);
}

/* Does the response carry header line "Name: value"? */
static inline bool http_has_header(const struct fixture *f, const char *line)
{
	char want[256];
	snprintf(want, sizeof(want), "\r\n%s\r\n", line);
	return strstr(f->resp, want) != NULL;
}

/* line must appear as a whole line of text. */
static inline void assert_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return;
	print_error("line not found: %s\n", line);
	fail();
}

#endif
