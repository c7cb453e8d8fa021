/* redis_link.c — connecting to the Redis master (redis_link.h): discovery
 * through the sentinels (SENTINEL get-master-addr-by-name, then a
 * subscription to +switch-master on the same connection), the master
 * connections verified with ROLE (a sentinel's answer may be stale: a
 * replica is never written to), command timeouts, and reconnection with
 * backoff. Each connection is a libevent bufferevent feeding a hiredis reply
 * reader; replies are matched to commands in order, and anything that does
 * not fit (a reply nobody asked for, a protocol error, a reply larger than
 * REDIS_MAX_PENDING_BYTES) closes the connection. */
#include "store/redis_link.h"
#include "store/redis_reply.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "util/log.h"

/* Unparsed input one connection may hold: far above any reply we ask for
 * (a page of the full load, a batch of the change log). */
#define REDIS_MAX_PENDING_BYTES (64u << 20)
#define REDIS_WATCH_MS		250

enum rl_role { RL_SENTINEL, RL_CMD, RL_TAIL, RL_NCONN };
enum rl_state { RL_IDLE, RL_DISCOVER, RL_CONNECT, RL_UP, RL_WAIT };

struct rl_cmd {
	struct rl_cmd *next;
	redis_reply_fn fn;
	void *priv;
	int64_t deadline_ms;
};

struct rl_conn {
	struct redis_link *l;
	enum rl_role role;
	struct bufferevent *bev;
	redisReader *reader;
	struct rl_cmd *head, *tail; /* commands awaiting their reply, in order */
	size_t npending;
	bool connected;
	bool ready;	  /* connected and its checks answered */
	bool subscribed;  /* replies without a command are messages */
	bool dispatching; /* inside the read loop: close after it */
	bool closing;
};

struct redis_link {
	struct event_base *base;
	struct redis_link_config cfg;
	struct redis_link_ops ops;
	void *arg;
	enum rl_state state;
	struct rl_conn conn[RL_NCONN];
	struct event *timer; /* connect deadline, then the retry backoff */
	struct event *watch; /* command deadlines */
	unsigned backoff_ms;
	size_t sentinel_idx;
	char master[300]; /* host:port */
	char master_host[256];
	int master_port;
	unsigned long connects;
	bool freeing;
};

static const char *const role_name[RL_NCONN] = {"sentinel", "cmd", "tail"};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void arm(struct redis_link *l, unsigned ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	event_add(l->timer, &tv);
}

/* "host:port", "[v6]:port" -> host, port; false when malformed. */
static bool split_hostport(const char *s, char *host, size_t cap, int *port)
{
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s)
		return false;
	const char *h = s;
	size_t hl = (size_t)(colon - s);
	if (s[0] == '[') {
		if (hl < 2 || s[hl - 1] != ']')
			return false;
		h++;
		hl -= 2;
	}
	char *end;
	long p = strtol(colon + 1, &end, 10);
	if (*end || p < 1 || p > 65535 || hl == 0 || hl >= cap)
		return false;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (int)p;
	return true;
}

/* ---- one connection ---- */

static void conn_free_now(struct rl_conn *c)
{
	if (c->bev)
		bufferevent_free(c->bev);
	if (c->reader)
		redisReaderFree(c->reader);
	c->bev = NULL;
	c->reader = NULL;
	c->closing = false;
}

/* Closes c; every pending command is answered with NULL, in order. */
static void conn_close(struct rl_conn *c)
{
	if (!c->bev && !c->head)
		return;
	c->connected = c->ready = c->subscribed = false;
	struct rl_cmd *cmd = c->head;
	c->head = c->tail = NULL;
	c->npending = 0;
	if (c->bev)
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	if (c->dispatching)
		c->closing = true;
	else
		conn_free_now(c);
	while (cmd) {
		struct rl_cmd *next = cmd->next;
		if (cmd->fn)
			cmd->fn(cmd->priv, NULL);
		free(cmd);
		cmd = next;
	}
}

static void link_down(struct redis_link *l, const char *why);

static void conn_lost(struct rl_conn *c, const char *what)
{
	struct redis_link *l = c->l;
	if (c->role == RL_SENTINEL && l->state == RL_UP) {
		/* The master is fine; without its sentinel a failover is still
		 * seen, later, as a READONLY answer or a closed connection. */
		LOG_WARN("redis_sentinel_lost", "master=%s reason=\"%s\"", l->master, what);
		conn_close(c);
		l->sentinel_idx++;
		return;
	}
	if (c->role == RL_SENTINEL && l->state == RL_DISCOVER)
		l->sentinel_idx++;
	char why[200];
	snprintf(why, sizeof(why), "%s connection: %s", role_name[c->role], what);
	link_down(l, why);
}

static void on_message(struct rl_conn *c, redisReply *r);

static void conn_read(struct bufferevent *bev, void *arg)
{
	struct rl_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	c->dispatching = true;
	while (!c->closing && evbuffer_get_length(in)) {
		struct evbuffer_iovec v;
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		if (redisReaderFeed(c->reader, v.iov_base, v.iov_len) != REDIS_OK) {
			evbuffer_drain(in, v.iov_len);
			c->dispatching = false;
			conn_lost(c, "out of memory");
			goto out;
		}
		evbuffer_drain(in, v.iov_len);
		for (;;) {
			void *reply = NULL;
			if (redisReaderGetReply(c->reader, &reply) != REDIS_OK) {
				char why[160];
				snprintf(why, sizeof(why), "protocol error: %s", c->reader->errstr);
				c->dispatching = false;
				conn_lost(c, why);
				goto out;
			}
			if (!reply)
				break;
			struct rl_cmd *cmd = c->head;
			if (!cmd) {
				if (c->subscribed) {
					on_message(c, reply);
					redis_reply_free(reply);
					if (c->closing)
						break;
					continue;
				}
				redis_reply_free(reply);
				c->dispatching = false;
				conn_lost(c, "a reply nobody asked for");
				goto out;
			}
			c->head = cmd->next;
			if (!c->head)
				c->tail = NULL;
			c->npending--;
			if (cmd->fn)
				cmd->fn(cmd->priv, reply);
			redis_reply_free(reply);
			free(cmd);
			if (c->closing)
				break;
		}
		if (!c->closing && c->reader->len - c->reader->pos > REDIS_MAX_PENDING_BYTES) {
			c->dispatching = false;
			conn_lost(c, "reply too large");
			goto out;
		}
	}
	c->dispatching = false;
out:
	if (c->closing)
		conn_free_now(c);
}

static void on_connected(struct rl_conn *c);

static void conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct rl_conn *c = arg;
	if (what & BEV_EVENT_CONNECTED) {
		c->connected = true;
		on_connected(c);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		char why[160];
		int e = EVUTIL_SOCKET_ERROR();
		snprintf(why, sizeof(why), "%s",
			 (what & BEV_EVENT_EOF) ? "closed by the server"
						: evutil_socket_error_to_string(e));
		conn_lost(c, why);
	}
}

/* Decimal digits of v. */
static size_t resp_digits(size_t v)
{
	size_t n = 1;
	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

/* "<type><v>\r\n" at p; returns the end. */
static char *resp_put_len(char *p, char type, size_t v)
{
	char tmp[24];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	*p++ = type;
	while (n)
		*p++ = tmp[--n];
	*p++ = '\r';
	*p++ = '\n';
	return p;
}

/* One command in RESP ("*<argc>", then "$<len>" and the bytes per argument,
 * each line ending in CRLF) straight into the connection's output buffer.
 * Not hiredis's redisFormatCommandArgv: it prints every length with sprintf,
 * a third of a proxy's CPU per write (16 arguments) and a sixth of the full
 * load's per record (bench/shared_store.sh, callgrind). */
static bool resp_write(struct bufferevent *bev, int argc, const char **argv, const size_t *argvlen)
{
	size_t total = 1 + resp_digits((size_t)argc) + 2;
	for (int i = 0; i < argc; i++) {
		size_t n = argvlen ? argvlen[i] : strlen(argv[i]);
		total += 1 + resp_digits(n) + 2 + n + 2;
	}
	struct evbuffer *out = bufferevent_get_output(bev);
	struct evbuffer_iovec v;
	if (total > EV_SSIZE_MAX || evbuffer_reserve_space(out, (ev_ssize_t)total, &v, 1) != 1)
		return false;
	char *p = v.iov_base;
	p = resp_put_len(p, '*', (size_t)argc);
	for (int i = 0; i < argc; i++) {
		size_t n = argvlen ? argvlen[i] : strlen(argv[i]);
		p = resp_put_len(p, '$', n);
		if (n)
			memcpy(p, argv[i], n);
		p += n;
		*p++ = '\r';
		*p++ = '\n';
	}
	v.iov_len = total;
	return evbuffer_commit_space(out, &v, 1) == 0;
}

static bool conn_send_raw(struct rl_conn *c, unsigned timeout_ms, redis_reply_fn fn, void *priv,
			  int argc, const char **argv, const size_t *argvlen)
{
	if (!c->bev || c->closing)
		return false;
	struct rl_cmd *cmd = calloc(1, sizeof(*cmd));
	if (!cmd || argc < 1 || !resp_write(c->bev, argc, argv, argvlen)) {
		free(cmd);
		return false;
	}
	/* Into the kernel now, not at the loop's next turn: the registrar's
	 * write must be out of the process before the endpoint's 200 is. */
	if (c->connected)
		evbuffer_write(bufferevent_get_output(c->bev), bufferevent_getfd(c->bev));
	cmd->fn = fn;
	cmd->priv = priv;
	cmd->deadline_ms = mono_ms() + timeout_ms;
	if (c->tail)
		c->tail->next = cmd;
	else
		c->head = cmd;
	c->tail = cmd;
	c->npending++;
	return true;
}

static bool conn_send(struct rl_conn *c, redis_reply_fn fn, void *priv, int argc,
		      const char *const *argv)
{
	return conn_send_raw(c, c->l->cfg.timeout_ms, fn, priv, argc, (const char **)argv, NULL);
}

static bool conn_open(struct redis_link *l, enum rl_role role, const char *host, int port)
{
	struct rl_conn *c = &l->conn[role];
	conn_close(c);
	c->l = l;
	c->role = role;
	union {
		struct sockaddr sa;
		struct sockaddr_storage ss;
		struct sockaddr_un un;
	} addr;
	memset(&addr, 0, sizeof(addr));
	socklen_t alen;
	if (strncmp(host, "unix:", 5) == 0) {
		if (strlen(host + 5) >= sizeof(addr.un.sun_path))
			return false;
		addr.un.sun_family = AF_UNIX;
		strcpy(addr.un.sun_path, host + 5);
		alen = sizeof(addr.un);
	} else {
		/* Numeric addresses (what sentinels answer) resolve at once. */
		struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
		char ps[8];
		snprintf(ps, sizeof(ps), "%d", port);
		if (getaddrinfo(host, ps, &hints, &res) != 0 || !res)
			return false;
		memcpy(&addr.ss, res->ai_addr, res->ai_addrlen);
		alen = (socklen_t)res->ai_addrlen;
		freeaddrinfo(res);
	}
	c->reader = redis_reply_reader();
	c->bev = bufferevent_socket_new(l->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!c->reader || !c->bev) {
		conn_free_now(c);
		return false;
	}
	bufferevent_setcb(c->bev, conn_read, NULL, conn_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(c->bev, &addr.sa, (int)alen) != 0) {
		conn_free_now(c);
		return false;
	}
	return true;
}

/* ---- the link ---- */

static void begin(struct redis_link *l);

/* Drops everything and tries again after the backoff. */
static void link_down(struct redis_link *l, const char *why)
{
	bool was_up = l->state == RL_UP;
	if (l->state == RL_WAIT || l->state == RL_IDLE)
		return;
	l->state = RL_WAIT;
	for (int i = 0; i < RL_NCONN; i++)
		conn_close(&l->conn[i]);
	if (was_up)
		LOG_WARN("redis_down", "master=%s reason=\"%s\"", l->master, why);
	else
		LOG_DEBUG("redis_retry", "master=%s reason=\"%s\"", l->master, why);
	if (was_up && l->ops.down)
		l->ops.down(l->arg, why);
	if (l->freeing)
		return;
	/* Straight after a loss, one quick try (a failover is usually over by
	 * then); after that, backoff up to 2 s. */
	unsigned ms = was_up ? 100 : l->backoff_ms;
	l->backoff_ms = l->backoff_ms ? l->backoff_ms * 2 : 200;
	if (l->backoff_ms > 2000)
		l->backoff_ms = 2000;
	arm(l, ms);
}

void redis_link_fail(struct redis_link *l, const char *why)
{
	link_down(l, why);
}

static bool is_text(const redisReply *r)
{
	return r && (r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_STRING);
}

static void maybe_up(struct redis_link *l)
{
	if (l->state != RL_CONNECT || !l->conn[RL_CMD].ready || !l->conn[RL_TAIL].ready)
		return;
	l->state = RL_UP;
	l->backoff_ms = 0;
	l->connects++;
	event_del(l->timer);
	LOG_INFO("redis_up", "master=%s%s", l->master, l->cfg.n_sentinels ? " via=sentinel" : "");
	if (l->ops.up)
		l->ops.up(l->arg);
}

static void on_auth(void *priv, redisReply *r)
{
	struct rl_conn *c = priv;
	if (r && r->type == REDIS_REPLY_ERROR) {
		char why[200];
		snprintf(why, sizeof(why), "AUTH refused: %.150s", r->str);
		link_down(c->l, why);
	}
}

/* ROLE's first element says what the server is now. */
static void on_role(void *priv, redisReply *r)
{
	struct rl_conn *c = priv;
	if (!r)
		return;
	if (r->type == REDIS_REPLY_ERROR) {
		char why[200];
		snprintf(why, sizeof(why), "ROLE: %.150s", r->str);
		link_down(c->l, why);
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 || !is_text(r->element[0]) ||
	    strcmp(r->element[0]->str, "master") != 0) {
		link_down(c->l, "not a master (ROLE)");
		return;
	}
	c->ready = true;
	maybe_up(c->l);
}

static void on_master_addr(void *priv, redisReply *r);
static void on_subscribed(void *priv, redisReply *r)
{
	(void)priv;
	(void)r;
}

static void on_connected(struct rl_conn *c)
{
	struct redis_link *l = c->l;
	if (c->role == RL_SENTINEL) {
		const char *ask[] = {"SENTINEL", "get-master-addr-by-name", l->cfg.master_name};
		const char *sub[] = {"SUBSCRIBE", "+switch-master"};
		if (!conn_send(c, on_master_addr, c, 3, ask) ||
		    !conn_send(c, on_subscribed, c, 2, sub))
			conn_lost(c, "cannot send");
		c->subscribed = true; /* its first reply answers "subscribe" */
		return;
	}
	if (l->cfg.password && l->cfg.password[0]) {
		const char *auth[] = {"AUTH", l->cfg.password};
		conn_send(c, on_auth, c, 2, auth);
	}
	const char *role[] = {"ROLE"};
	if (!conn_send(c, on_role, c, 1, role))
		conn_lost(c, "cannot send");
}

static void on_message(struct rl_conn *c, redisReply *r)
{
	if (c->role != RL_SENTINEL || r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    r->element[2]->type != REDIS_REPLY_STRING)
		return;
	/* "message" "+switch-master" "<name> <old-ip> <old-port> <new-ip> <new-port>" */
	struct redis_link *l = c->l;
	const char *m = r->element[2]->str;
	size_t n = strlen(l->cfg.master_name);
	if (strncmp(m, l->cfg.master_name, n) != 0 || m[n] != ' ')
		return;
	LOG_INFO("redis_switch_master", "name=%s event=\"%.200s\"", l->cfg.master_name, m);
	if (l->state == RL_UP || l->state == RL_CONNECT)
		link_down(l, "sentinel: +switch-master");
}

static void connect_master(struct redis_link *l)
{
	l->state = RL_CONNECT;
	if (l->cfg.n_sentinels)
		snprintf(l->master, sizeof(l->master), "%s:%d", l->master_host, l->master_port);
	if (!conn_open(l, RL_CMD, l->master_host, l->master_port) ||
	    !conn_open(l, RL_TAIL, l->master_host, l->master_port)) {
		link_down(l, "cannot open a connection");
		return;
	}
	arm(l, l->cfg.timeout_ms);
}

static void on_master_addr(void *priv, redisReply *r)
{
	struct rl_conn *c = priv;
	struct redis_link *l = c->l;
	if (!r || l->state != RL_DISCOVER)
		return;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || !is_text(r->element[0]) ||
	    !is_text(r->element[1]) || r->element[0]->len == 0 ||
	    r->element[0]->len >= sizeof(l->master_host)) {
		l->sentinel_idx++;
		link_down(l, "the sentinel does not know the master");
		return;
	}
	char *end;
	long port = strtol(r->element[1]->str, &end, 10);
	if (*end || port < 1 || port > 65535) {
		l->sentinel_idx++;
		link_down(l, "the sentinel gave a bad port");
		return;
	}
	memcpy(l->master_host, r->element[0]->str, r->element[0]->len + 1);
	l->master_port = (int)port;
	connect_master(l);
}

static void discover(struct redis_link *l)
{
	l->state = RL_DISCOVER;
	const char *addr = l->cfg.sentinels[l->sentinel_idx % l->cfg.n_sentinels];
	char host[256];
	int port;
	snprintf(l->master, sizeof(l->master), "(sentinel %s)", addr);
	if (!split_hostport(addr, host, sizeof(host), &port) ||
	    !conn_open(l, RL_SENTINEL, host, port)) {
		l->sentinel_idx++;
		link_down(l, "cannot reach the sentinel");
		return;
	}
	arm(l, l->cfg.timeout_ms);
}

static void begin(struct redis_link *l)
{
	if (l->freeing)
		return;
	if (l->cfg.n_sentinels)
		discover(l);
	else
		connect_master(l);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct redis_link *l = arg;
	if (l->state == RL_WAIT) {
		begin(l);
		return;
	}
	if (l->state == RL_DISCOVER) {
		l->sentinel_idx++;
		link_down(l, "the sentinel did not answer in time");
	} else if (l->state == RL_CONNECT) {
		link_down(l, "connect timed out");
	}
}

/* A command unanswered past its deadline: the server is gone or stuck. */
static void on_watch(evutil_socket_t fd, short what, void *arg)
{
	struct redis_link *l = arg;
	int64_t now = mono_ms();
	for (int i = 0; i < RL_NCONN; i++) {
		struct rl_conn *c = &l->conn[i];
		if (c->head && c->head->deadline_ms < now) {
			conn_lost(c, "no answer in time");
			return;
		}
	}
}

bool redis_link_command(struct redis_link *l, enum redis_chan ch, unsigned extra_ms,
			redis_reply_fn fn, void *priv, int argc, const char **argv,
			const size_t *argvlen)
{
	if (l->state != RL_UP)
		return false;
	struct rl_conn *c = &l->conn[ch == REDIS_CHAN_TAIL ? RL_TAIL : RL_CMD];
	return conn_send_raw(c, l->cfg.timeout_ms + extra_ms, fn, priv, argc, argv, argvlen);
}

size_t redis_link_pending(const struct redis_link *l, enum redis_chan ch)
{
	return l->conn[ch == REDIS_CHAN_TAIL ? RL_TAIL : RL_CMD].npending;
}

struct redis_link *redis_link_new(struct event_base *base, const struct redis_link_config *cfg,
				  const struct redis_link_ops *ops, void *arg)
{
	struct redis_link *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->base = base;
	l->cfg = *cfg;
	if (!l->cfg.timeout_ms)
		l->cfg.timeout_ms = 2000;
	if (ops)
		l->ops = *ops;
	l->arg = arg;
	l->timer = event_new(base, -1, 0, on_timer, l);
	l->watch = event_new(base, -1, EV_PERSIST, on_watch, l);
	if (!l->timer || !l->watch)
		goto fail;
	if (!cfg->n_sentinels) {
		const char *a = cfg->address ? cfg->address : "";
		snprintf(l->master, sizeof(l->master), "%s", a);
		if (strncmp(a, "unix:", 5) == 0)
			snprintf(l->master_host, sizeof(l->master_host), "%s", a);
		else if (!split_hostport(a, l->master_host, sizeof(l->master_host),
					 &l->master_port))
			goto fail;
	} else if (!cfg->master_name || !cfg->master_name[0]) {
		goto fail;
	}
	return l;
fail:
	if (l->timer)
		event_free(l->timer);
	if (l->watch)
		event_free(l->watch);
	free(l);
	return NULL;
}

void redis_link_start(struct redis_link *l)
{
	if (l->state != RL_IDLE)
		return;
	struct timeval tv = {0, REDIS_WATCH_MS * 1000};
	event_add(l->watch, &tv);
	begin(l);
}

bool redis_link_up(const struct redis_link *l)
{
	return l->state == RL_UP;
}

const char *redis_link_master(const struct redis_link *l)
{
	return l->master;
}

unsigned long redis_link_connects(const struct redis_link *l)
{
	return l->connects;
}

void redis_link_free(struct redis_link *l)
{
	if (!l)
		return;
	l->freeing = true;
	event_del(l->timer);
	event_del(l->watch);
	for (int i = 0; i < RL_NCONN; i++)
		conn_close(&l->conn[i]);
	event_free(l->timer);
	event_free(l->watch);
	free(l);
}
