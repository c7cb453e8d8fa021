/* redis_link.h — the proxy's connections to the Redis master, asynchronous on
 * its event loop: one for commands (writes, the full load) and one for the
 * change log's blocking reads. The link writes the commands (RESP) and
 * hiredis parses the replies; the sockets are libevent's, so that an unexpected reply (hiredis
 * 0.14's own async layer asserts on one), a stalled server or an endless
 * reply closes the connection instead of the proxy. The master is either
 * configured or found through Redis Sentinel, whose "+switch-master" the link
 * follows; every loss (refused, reset, a replica answering, a timeout the
 * owner noticed) drops both and reconnects with backoff. Internal to the
 * store layer. */
#ifndef SIPPROXY_STORE_REDIS_LINK_H
#define SIPPROXY_STORE_REDIS_LINK_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct redisReply;

#define REDIS_LINK_MAX_SENTINELS 8

struct redis_link_config {
	/* "host:port", "[v6]:port" or "unix:/path"; used when no sentinel is set */
	const char *address;
	const char *sentinels[REDIS_LINK_MAX_SENTINELS]; /* "host:port" */
	size_t n_sentinels;
	const char *master_name; /* the sentinels' name for the master */
	const char *password;	 /* AUTH; NULL or empty = none */
	unsigned timeout_ms;	 /* connect and answer timeout */
};

struct redis_link_ops {
	/* Both connections are up on a verified master. */
	void (*up)(void *arg);
	/* They are gone (pending commands already answered with NULL). */
	void (*down)(void *arg, const char *why);
};

struct redis_link;

struct redis_link *redis_link_new(struct event_base *base, const struct redis_link_config *cfg,
				  const struct redis_link_ops *ops, void *arg);
void redis_link_start(struct redis_link *l);
enum redis_chan { REDIS_CHAN_CMD, REDIS_CHAN_TAIL };

/* A command's answer; r is NULL when the connection was lost first (every
 * pending command is answered so, in order, before ops.down). r is freed
 * after the call. */
typedef void (*redis_reply_fn)(void *priv, struct redisReply *r);

/* Sends a command on one connection (only while up). It must be answered
 * within the timeout plus extra_ms (a blocking read's own wait), or the link
 * is dropped. Returns false when not up or out of memory. */
bool redis_link_command(struct redis_link *l, enum redis_chan ch, unsigned extra_ms,
			redis_reply_fn fn, void *priv, int argc, const char **argv,
			const size_t *argvlen);
/* Commands sent on ch and not answered yet. */
size_t redis_link_pending(const struct redis_link *l, enum redis_chan ch);
bool redis_link_up(const struct redis_link *l);
/* The owner saw the master fail (a READONLY reply, a timeout): drop both
 * connections and find the master again. */
void redis_link_fail(struct redis_link *l, const char *why);
/* "host:port" of the master in use or being tried, "" before any. */
const char *redis_link_master(const struct redis_link *l);
/* Times the link came up, and master changes seen (sentinel). */
unsigned long redis_link_connects(const struct redis_link *l);
void redis_link_free(struct redis_link *l);

#endif
