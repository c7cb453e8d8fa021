/* redis_test.h — helpers shared by the Redis store's unit tests: a real
 * redis-server on a private unix socket (no TCP port: --port 0) in a fresh
 * /tmp directory, killed and restarted on the same socket where a test needs
 * Redis to go away; a synchronous hiredis client to look at (or spoil) what
 * Redis holds; store_redis instances on libevent bases driven until a
 * condition holds, with a generous deadline (never a timed assertion); and
 * bindings to save and compare. */
#ifndef SIPPROXY_TESTS_REDIS_TEST_H
#define SIPPROXY_TESTS_REDIS_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <event2/event.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/binding_codec.h"
#include "store/repl.h"
#include "store/store.h"
#include "util/log.h"

#define RT_DEADLINE_MS 10000 /* a condition that takes longer is a failure */
#define RT_PREFIX      "sp"
#define RT_MAX_BASES   4

struct rt {
	/* the server */
	pid_t pid;
	char dir[64];
	char sock[128];
	char addr[140]; /* "unix:<sock>" */
	redisContext *rc;
	/* the loops: bases[0] is the shared one, the others run only when listed
	 * in active[] (a proxy whose loop stalls) */
	struct event_base *bases[RT_MAX_BASES];
	bool active[RT_MAX_BASES];
	struct event *tick;
	unsigned partitions;
};

static inline int64_t rt_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void rt_pause_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* ---- redis-server ---- */

static inline void rt_disconnect(struct rt *h)
{
	if (h->rc)
		redisFree(h->rc);
	h->rc = NULL;
}

/* The synchronous client (reconnected after a restart). */
static inline redisContext *rt_rc(struct rt *h)
{
	if (!h->rc) {
		h->rc = redisConnectUnix(h->sock);
		if (!h->rc || h->rc->err) {
			print_error("redisConnectUnix %s: %s\n", h->sock,
				    h->rc ? h->rc->errstr : "out of memory");
			fail();
		}
	}
	return h->rc;
}

/* Starts redis-server on h->sock, empty; returns once it answers PING. */
static inline void rt_redis_start(struct rt *h)
{
	char log[160];
	snprintf(log, sizeof(log), "%s/redis.log", h->dir);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open("/dev/null", O_RDONLY);
		if (fd >= 0)
			dup2(fd, 0);
		execl("/usr/bin/redis-server", "redis-server", "--port", "0", "--unixsocket",
		      h->sock, "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
		      "--dir", h->dir, "--logfile", log, "--daemonize", "no", (char *)NULL);
		_exit(127);
	}
	h->pid = pid;
	int64_t deadline = rt_mono_ms() + RT_DEADLINE_MS;
	for (;;) {
		redisContext *c = redisConnectUnix(h->sock);
		if (c && !c->err) {
			redisReply *r = redisCommand(c, "PING");
			bool ok = r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;
			if (r)
				freeReplyObject(r);
			if (ok) {
				h->rc = c;
				return;
			}
		}
		if (c)
			redisFree(c);
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			h->pid = 0;
			print_error("redis-server exited (see %s)\n", log);
			fail();
		}
		if (rt_mono_ms() > deadline) {
			print_error("redis-server did not answer on %s\n", h->sock);
			fail();
		}
		rt_pause_ms(5); /* polling for the socket, not a timed assertion */
	}
}

/* Kills it at once (a crash: no shutdown, nothing saved). */
static inline void rt_redis_kill(struct rt *h)
{
	rt_disconnect(h);
	if (h->pid > 0) {
		kill(h->pid, SIGKILL);
		waitpid(h->pid, NULL, 0);
	}
	h->pid = 0;
}

/* A command on the synchronous client; the reply is the caller's. */
static inline redisReply *rt_cmd(struct rt *h, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	redisReply *r = redisvCommand(rt_rc(h), fmt, ap);
	va_end(ap);
	if (!r) {
		print_error("redis command \"%s\": %s\n", fmt, h->rc->errstr);
		fail();
	}
	return r;
}

static inline redisReply *rt_cmd_argv(struct rt *h, int argc, const char **argv, const size_t *len)
{
	redisReply *r = redisCommandArgv(rt_rc(h), argc, argv, len);
	if (!r) {
		print_error("redis command %s: %s\n", argv[0], h->rc->errstr);
		fail();
	}
	return r;
}

/* A command whose answer does not matter beyond not being an error. */
static inline void rt_do(struct rt *h, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	redisReply *r = redisvCommand(rt_rc(h), fmt, ap);
	va_end(ap);
	if (!r || r->type == REDIS_REPLY_ERROR) {
		print_error("redis command \"%s\": %s\n", fmt, r ? r->str : h->rc->errstr);
		fail();
	}
	freeReplyObject(r);
}

/* ---- the data model as repl.h documents it, computed independently ---- */

static inline uint32_t rt_fnv(const char *s)
{
	uint32_t x = 2166136261u;
	for (const char *p = s; *p; p++) {
		x ^= (unsigned char)*p;
		x *= 16777619u;
	}
	return x;
}

static inline unsigned rt_partition(const struct rt *h, const char *aor)
{
	return rt_fnv(aor) % h->partitions;
}

/* aor's bucket: a hash, field = the AOR, value = its records. */
static inline void rt_key(const struct rt *h, const char *aor, char *out, size_t cap)
{
	snprintf(out, cap, "%s:{%u}:r:%u", RT_PREFIX, rt_partition(h, aor),
		 (rt_fnv(aor) / h->partitions) % 64);
}

static inline void rt_log_key(unsigned part, char *out, size_t cap)
{
	snprintf(out, cap, "%s:{%u}:log", RT_PREFIX, part);
}

/* One record's frame "<key len> <value len>\n<key><value>" at out; its length. */
static inline size_t rt_frame(char *out, size_t cap, const char *k, size_t kl, const void *v,
			      size_t vl)
{
	int n = snprintf(out, cap, "%zu %zu\n", kl, vl);
	assert_true(n > 0 && (size_t)n + kl + vl <= cap);
	memcpy(out + n, k, kl);
	memcpy(out + n + kl, v, vl);
	return (size_t)n + kl + vl;
}

/* A group's records (value g of length n): fn for each (key, value); the
 * count, or -1 when a frame is broken. */
typedef void (*rt_record_fn)(void *arg, const char *k, size_t kl, const char *v, size_t vl);
static inline long long rt_records(const char *g, size_t n, rt_record_fn fn, void *arg)
{
	const char *p = memchr(g, '\n', n), *end = g + n;
	long long count = 0;
	if (!p)
		return -1;
	for (p++; p < end; count++) {
		char *e;
		unsigned long kl = strtoul(p, &e, 10);
		if (*e != ' ')
			return -1;
		unsigned long vl = strtoul(e + 1, &e, 10);
		if (*e != '\n' || (size_t)(end - e - 1) < kl + vl)
			return -1;
		if (fn)
			fn(arg, e + 1, kl, e + 1 + kl, vl);
		p = e + 1 + kl + vl;
	}
	return count;
}

/* Records of aor's group in Redis. */
static inline long long rt_redis_hlen(struct rt *h, const char *aor)
{
	char key[512];
	rt_key(h, aor, key, sizeof(key));
	redisReply *r = rt_cmd(h, "HGET %s %s", key, aor);
	long long n = r->type == REDIS_REPLY_STRING ? rt_records(r->str, r->len, NULL, NULL) : 0;
	freeReplyObject(r);
	return n;
}

struct rt_find {
	const char *key;
	size_t klen;
	char *out; /* the record's value, NUL-terminated, or "" */
	size_t cap;
	bool found;
};

static inline void rt_record_match(void *arg, const char *k, size_t kl, const char *v, size_t vl)
{
	struct rt_find *f = arg;
	if (kl != f->klen || memcmp(k, f->key, kl) != 0)
		return;
	f->found = true;
	size_t n = vl < f->cap - 1 ? vl : f->cap - 1;
	memcpy(f->out, v, n);
	f->out[n] = '\0';
}

/* The value of aor's record whose key is field, into out; false if none. */
static inline bool rt_redis_record(struct rt *h, const char *aor, const char *field, size_t flen,
				   char *out, size_t cap)
{
	char key[512];
	rt_key(h, aor, key, sizeof(key));
	struct rt_find f = {field, flen, out, cap, false};
	out[0] = '\0';
	redisReply *r = rt_cmd(h, "HGET %s %s", key, aor);
	if (r->type == REDIS_REPLY_STRING)
		rt_records(r->str, r->len, rt_record_match, &f);
	freeReplyObject(r);
	return f.found;
}

/* Whether aor's group has b's record (binding_key); *ver = its version. */
static inline bool rt_redis_has(struct rt *h, const struct store_binding *b, uint64_t *ver)
{
	char field[BINDING_KEY_MAX], aor[256], val[2048];
	str_copy(aor, sizeof(aor), b->aor);
	size_t flen = binding_key(b, field, sizeof(field));
	assert_true(flen > 0);
	bool has = rt_redis_record(h, aor, field, flen, val, sizeof(val));
	if (has && ver)
		*ver = strtoull(val, NULL, 10);
	return has;
}

/* Every registration record Redis holds (SCAN over the buckets). */
static inline long long rt_redis_fields(struct rt *h)
{
	long long n = 0;
	char cursor[32] = "0";
	do {
		redisReply *r =
		    rt_cmd(h, "SCAN %s MATCH %s:{*}:r:* COUNT 1000 TYPE hash", cursor, RT_PREFIX);
		assert_int_equal(r->type, REDIS_REPLY_ARRAY);
		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
		for (size_t i = 0; i < r->element[1]->elements; i++) {
			redisReply *l = rt_cmd(h, "HVALS %s", r->element[1]->element[i]->str);
			for (size_t j = 0; j < l->elements; j++) {
				long long c =
				    rt_records(l->element[j]->str, l->element[j]->len, NULL, NULL);
				assert_true(c >= 0);
				n += c;
			}
			freeReplyObject(l);
		}
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0);
	return n;
}

/* ---- loops ---- */

static void rt_on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/* One round: the shared loop until an event or a 5 ms tick, the other
 * active ones without waiting. */
static inline void rt_pump(struct rt *h)
{
	event_base_loop(h->bases[0], EVLOOP_ONCE);
	for (int i = 1; i < RT_MAX_BASES; i++)
		if (h->bases[i] && h->active[i])
			event_base_loop(h->bases[i], EVLOOP_NONBLOCK);
}

/* Drives the loops until expr holds; past RT_DEADLINE_MS the test fails. */
#define RT_WAIT(h, expr)                                                                           \
	do {                                                                                       \
		int64_t rt_dl_ = rt_mono_ms() + RT_DEADLINE_MS;                                    \
		while (!(expr)) {                                                                  \
			if (rt_mono_ms() > rt_dl_) {                                               \
				print_error("%s:%d: still not true after %d ms: %s\n", __FILE__,   \
					    __LINE__, RT_DEADLINE_MS, #expr);                      \
				fail();                                                            \
			}                                                                          \
			rt_pump(h);                                                                \
		}                                                                                  \
	} while (0)

/* Drives the loops for ms of wall time (to let things happen that must
 * then be shown not to have happened: never an assertion on speed). */
static inline void rt_run_for(struct rt *h, unsigned ms)
{
	int64_t end = rt_mono_ms() + ms;
	while (rt_mono_ms() < end)
		rt_pump(h);
}

/* ---- set-up ---- */

static inline int rt_setup(void **state)
{
	log_set_level(LOG_LEVEL_ERROR);
	signal(SIGPIPE, SIG_IGN);
	struct rt *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	snprintf(h->dir, sizeof(h->dir), "/tmp/sp-redis-XXXXXX");
	assert_non_null(mkdtemp(h->dir));
	snprintf(h->sock, sizeof(h->sock), "%s/redis.sock", h->dir);
	snprintf(h->addr, sizeof(h->addr), "unix:%s", h->sock);
	h->partitions = 8;
	h->bases[0] = event_base_new();
	assert_non_null(h->bases[0]);
	h->tick = event_new(h->bases[0], -1, EV_PERSIST, rt_on_tick, NULL);
	struct timeval tv = {0, 5000};
	event_add(h->tick, &tv);
	rt_redis_start(h);
	*state = h;
	return 0;
}

static inline int rt_teardown(void **state)
{
	struct rt *h = *state;
	rt_redis_kill(h);
	event_free(h->tick);
	for (int i = 0; i < RT_MAX_BASES; i++)
		if (h->bases[i])
			event_base_free(h->bases[i]);
	const char *files[] = {"redis.sock", "redis.log", "dump.rdb"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char p[200];
		snprintf(p, sizeof(p), "%s/%s", h->dir, files[i]);
		unlink(p);
	}
	rmdir(h->dir);
	free(h);
	return 0;
}

/* A base of its own (a proxy whose loop can stall), running. */
static inline struct event_base *rt_base(struct rt *h, int i)
{
	assert_true(i > 0 && i < RT_MAX_BASES);
	if (!h->bases[i])
		h->bases[i] = event_base_new();
	assert_non_null(h->bases[i]);
	h->active[i] = true;
	return h->bases[i];
}

struct rt_opts {
	unsigned log_length, queue_max, sweep_ms;
	int base; /* index into h->bases */
};

static inline struct store *rt_store_opts(struct rt *h, const char *owner, const struct rt_opts *o)
{
	struct store_redis_config cfg = {
	    .address = h->addr,
	    .prefix = RT_PREFIX,
	    .partitions = h->partitions,
	    .log_length = o && o->log_length ? o->log_length : 10000,
	    .queue_max = o && o->queue_max ? o->queue_max : 100000,
	    .timeout_ms = 2000,
	    /* the sweep only where a test asks: one dropping a group a test is
	     * about to expire by hand would change what is logged */
	    .sweep_ms = o && o->sweep_ms ? o->sweep_ms : 3600000,
	    .owner = owner,
	};
	char err[256] = "";
	struct event_base *base = h->bases[o ? o->base : 0];
	assert_non_null(base);
	struct store *s = store_redis_new(base, &cfg, err, sizeof(err));
	if (!s)
		print_error("store_redis_new: %s\n", err);
	assert_non_null(s);
	store_redis_start(s);
	return s;
}

static inline struct store *rt_store(struct rt *h, const char *owner)
{
	return rt_store_opts(h, owner, NULL);
}

static inline struct repl_stats rt_stats(struct store *s)
{
	struct repl_stats st;
	assert_true(store_redis_stats(s, &st, NULL));
	return st;
}

static inline uint64_t rt_unstorable(struct store *s)
{
	struct repl_stats st;
	uint64_t u = 0;
	assert_true(store_redis_stats(s, &st, &u));
	return u;
}

static inline bool rt_live(struct store *s)
{
	return rt_stats(s).state == REPL_LIVE;
}

/* Live with nothing left to write. */
static inline bool rt_idle(struct store *s)
{
	struct repl_stats st = rt_stats(s);
	return st.state == REPL_LIVE && st.queued == 0 && st.in_flight == 0;
}

/* ---- bindings ---- */

/* A binding of aor to contact owned by owner, expiring in_ms from now; the
 * strings must outlive its use (the store copies them). */
static inline struct store_binding rt_mk(const char *aor, const char *contact, const char *call_id,
					 uint32_t cseq, int64_t in_ms, const char *owner)
{
	struct store_binding b = {
	    .aor = str_cstr(aor),
	    .contact = str_cstr(contact),
	    .call_id = str_cstr(call_id),
	    .cseq = cseq,
	    .q = 1000,
	    .expires_at = repl_now_ms() + in_ms,
	    .proto = TP_UDP,
	    .owner = str_cstr(owner),
	};
	b.source.in4.sin_family = AF_INET;
	b.source.in4.sin_port = htons(5060);
	inet_pton(AF_INET, "192.0.2.1", &b.source.in4.sin_addr);
	return b;
}

/* A copy of one binding as a store shows it. */
struct rt_got {
	bool found;
	char contact[256], instance[128], call_id[128], path[256], owner[64], node[64];
	uint32_t cseq, reg_id;
	uint16_t q;
	int64_t expires_at;
	enum tp_proto proto;
	union tp_sockaddr source;
	uint64_t conn_id, version;
};

struct rt_find_ctx {
	const struct store_binding *want;
	struct rt_got *got;
};

static int rt_find_one(void *arg, const struct store_binding *b)
{
	struct rt_find_ctx *c = arg;
	char k1[BINDING_KEY_MAX], k2[BINDING_KEY_MAX];
	size_t n1 = binding_key(b, k1, sizeof(k1)), n2 = binding_key(c->want, k2, sizeof(k2));
	if (!str_eq(b->aor, c->want->aor) || !n1 || n1 != n2 || memcmp(k1, k2, n1) != 0)
		return 0;
	struct rt_got *g = c->got;
	g->found = true;
	str_copy(g->contact, sizeof(g->contact), b->contact);
	str_copy(g->instance, sizeof(g->instance), b->instance);
	str_copy(g->call_id, sizeof(g->call_id), b->call_id);
	str_copy(g->path, sizeof(g->path), b->path);
	str_copy(g->owner, sizeof(g->owner), b->owner);
	str_copy(g->node, sizeof(g->node), b->node);
	g->cseq = b->cseq;
	g->reg_id = b->reg_id;
	g->q = b->q;
	g->expires_at = b->expires_at;
	g->proto = b->proto;
	g->source = b->source;
	g->conn_id = b->conn_id;
	g->version = b->version;
	return 1;
}

/* b's binding (same AOR and key) in s, live or not yet swept. */
static inline struct rt_got rt_get(struct store *s, const struct store_binding *b)
{
	struct rt_got g;
	memset(&g, 0, sizeof(g));
	struct rt_find_ctx c = {b, &g};
	store_iterate(s, rt_find_one, &c);
	return g;
}

static inline bool rt_has(struct store *s, const struct store_binding *b)
{
	return rt_get(s, b).found;
}

/* b is in s with this Call-ID and CSeq, and confirmed by Redis. */
static inline bool rt_has_at(struct store *s, const struct store_binding *b, const char *call_id,
			     uint32_t cseq)
{
	struct rt_got g = rt_get(s, b);
	return g.found && g.cseq == cseq && strcmp(g.call_id, call_id) == 0 && g.version > 0;
}

static inline int rt_count_aor(struct store *s, const char *aor)
{
	return store_lookup(s, str_cstr(aor), repl_now_ms(), NULL, NULL);
}

/* A store's whole content as one line per binding, sorted, for comparing
 * two stores (version included: they must agree on it too). */
struct rt_dump {
	char **v;
	size_t n, cap;
};

static int rt_dump_one(void *arg, const struct store_binding *b)
{
	struct rt_dump *d = arg;
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 64;
		d->v = realloc(d->v, d->cap * sizeof(*d->v));
		assert_non_null(d->v);
	}
	char key[BINDING_KEY_MAX], line[2048];
	size_t kn = binding_key(b, key, sizeof(key));
	snprintf(line, sizeof(line), "%.*s|%.*s|%.*s|%u|%lld|%.*s|%.*s|%llu", STR_FMT(b->aor),
		 (int)kn, key, STR_FMT(b->call_id), (unsigned)b->cseq, (long long)b->expires_at,
		 STR_FMT(b->owner), STR_FMT(b->contact), (unsigned long long)b->version);
	d->v[d->n] = strdup(line);
	assert_non_null(d->v[d->n]);
	d->n++;
	return 0;
}

static int rt_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static inline struct rt_dump rt_dump(struct store *s)
{
	struct rt_dump d = {0};
	store_iterate(s, rt_dump_one, &d);
	if (d.n)
		qsort(d.v, d.n, sizeof(*d.v), rt_cmp_str);
	return d;
}

static inline void rt_dump_free(struct rt_dump *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i]);
	free(d->v);
	memset(d, 0, sizeof(*d));
}

/* Whether two stores hold the same bindings (same versions). */
static inline bool rt_same(struct store *a, struct store *b)
{
	struct rt_dump x = rt_dump(a), y = rt_dump(b);
	bool same = x.n == y.n;
	for (size_t i = 0; same && i < x.n; i++)
		same = strcmp(x.v[i], y.v[i]) == 0;
	rt_dump_free(&x);
	rt_dump_free(&y);
	return same;
}

/* Prints where two stores differ (after a failed rt_same). */
static inline void rt_diff(struct store *a, struct store *b)
{
	struct rt_dump x = rt_dump(a), y = rt_dump(b);
	size_t i = 0, j = 0;
	while (i < x.n || j < y.n) {
		int c = i == x.n ? 1 : j == y.n ? -1 : strcmp(x.v[i], y.v[j]);
		if (c < 0)
			print_error("  only in first:  %s\n", x.v[i++]);
		else if (c > 0)
			print_error("  only in second: %s\n", y.v[j++]);
		else
			i++, j++;
	}
	rt_dump_free(&x);
	rt_dump_free(&y);
}

#endif
