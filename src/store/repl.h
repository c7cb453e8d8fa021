/* repl.h — records shared by every proxy of the cluster through Redis: the
 * engine under the Redis registration store (store_redis.c) and, with its
 * own kind, the dialog records. Each proxy keeps every record in memory and
 * never waits on Redis to read one; Redis orders the changes and keeps the
 * proxies in step.
 *
 * Data model (keys shard by group: a Redis Cluster can take them later):
 *   <prefix>:{<P>}:<kind>:<B>  hash, a bucket: field = group, value = the
 *                              group's records: "<max expires_ms>\n", then per
 *                              record "<key len> <value len>\n<key><value>";
 *                              a record's value is
 *                              "<version> <expires_ms> <cseq> <call-id>\n" payload
 *   <prefix>:{<P>}:log         stream, the change log of partition P
 *   <prefix>:{<P>}:ver         counter, the versions of partition P
 * h = FNV-1a(group), P = h mod partitions, B = (h / partitions) mod
 * REPL_BUCKETS. Buckets, not a key per group: a full load is a few thousand
 * HGETALLs of large hashes, not one per group (Redis's CPU went to looking up
 * each key). One Lua script (repl_script.c) makes each change atomic: the
 * §10.3 step 7 Call-ID/CSeq check, a new version, the group's records and
 * the log entry, so two proxies writing one group at once never lose a
 * record. A group with no live record left is dropped when next written or
 * by the sweep (repl_sweep.c), which does what a key's expiry would.
 *
 * Every proxy tails all partitions' logs from its last position; one that
 * starts, fell behind the trimmed log (seen on connecting, or while tailing:
 * each entry names the version before it), or finds Redis has gone back in
 * time (its log behind ours, or another server process: a new run_id)
 * loads everything (every bucket's HGETALL, pipelined) and tails from where the load
 * began. Writes made while Redis is away wait in a bounded queue; when it
 * overflows, or Redis lost data, the kinds write back what they own (the
 * write-back itself is not bounded by the queue). */
#ifndef SIPPROXY_STORE_REPL_H
#define SIPPROXY_STORE_REPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/redis_link.h"
#include "util/str.h"

struct event_base;

#define REPL_MAX_KINDS	    4
#define REPL_MAX_PARTITIONS 1024
/* Buckets per partition and kind (the data model above): few large hashes,
 * so a full load of a million records is a few thousand HGETALLs. Every
 * proxy of a cluster must use the same. */
#define REPL_BUCKETS 64u

struct repl_config {
	struct redis_link_config link;
	const char *prefix;  /* key prefix; [A-Za-z0-9_.-] */
	unsigned partitions; /* 1 .. REPL_MAX_PARTITIONS */
	unsigned log_length; /* entries kept per partition's log (approximate) */
	unsigned queue_max;  /* writes held while Redis is away */
	unsigned sweep_ms;   /* between bucket sweeps; 0 = REPL_SWEEP_MS */
	const char *origin;  /* this proxy's name, on every change it makes */
};

enum repl_op {
	REPL_SAVE = 's',
	REPL_REMOVE = 'r',
	REPL_EXPIRE = 'x',     /* drops the group's lapsed records */
	REPL_REMOVE_ALL = 'a', /* the whole group */
};

/* A change to apply: from the log, the full load, or Redis's answer that a
 * write of ours was stale (the current record). */
struct repl_change {
	char kind;
	enum repl_op op;
	struct str group, field;
	uint64_t version;
	int64_t expires_at;
	uint32_t cseq;
	struct str call_id;
	struct str payload; /* REPL_SAVE */
	struct str origin;  /* the proxy that made it (log only) */
	int64_t logged_ms;  /* when Redis logged it (log only), else 0 */
};

/* A change this proxy makes. */
struct repl_write {
	char kind;
	enum repl_op op;
	struct str group, field;
	struct str call_id;
	uint32_t cseq;
	int64_t expires_at;
	struct str payload;
};

enum repl_outcome {
	REPL_WRITTEN, /* stored; version is its version */
	REPL_STALE,   /* refused by the Call-ID/CSeq rule (the current record was applied) */
	REPL_ABSENT,  /* a removal of nothing */
	REPL_FAILED,  /* refused for good (a key of the wrong type, a script error) */
};

struct repl_kind {
	char kind; /* one letter */
	void *arg;
	/* A change that turns out not to be one of this kind's records (its
	 * payload does not decode) is reported with repl_change_refused. */
	void (*apply)(void *arg, const struct repl_change *c);
	/* A full load starts: every record it finds is applied; at its end,
	 * records it did not find are gone. Unless lost is set: then Redis went
	 * back in time (restarted empty, a failover lost writes, our queue
	 * overflowed), so at the start the kind writes back what it owns (its
	 * writes go before the load's reads) and at the end it drops nothing. */
	void (*load_begin)(void *arg, bool lost);
	void (*load_end)(void *arg, bool lost);
	/* Optional: how many groups the load expects to find (its first bucket
	 * holding any, times the buckets), so the kind can size its tables
	 * once instead of growing them through the load. */
	void (*load_size)(void *arg, size_t groups);
	/* What became of one of our writes. */
	void (*written)(void *arg, const struct repl_write *w, enum repl_outcome o,
			uint64_t version);
};

enum repl_state {
	REPL_DOWN,    /* Redis unreachable: writes queue up */
	REPL_SYNCING, /* connected, checking where the logs are */
	REPL_LOADING, /* full load in progress */
	REPL_LIVE,    /* tailing the logs */
};

struct repl_stats {
	enum repl_state state;
	const char *master;
	uint64_t connects;
	uint64_t writes; /* sent and answered */
	uint64_t writes_stale;
	uint64_t write_errors;	 /* error answers (retried or failed) */
	uint64_t writes_failed;	 /* refused for good: held in this proxy only */
	uint64_t queue_overflow; /* writes dropped from a full queue (written back later) */
	size_t queued, in_flight;
	uint64_t changes_applied; /* log entries and loaded records applied */
	uint64_t changes_bad;	  /* log entries or records that did not decode */
	uint64_t full_loads;
	uint64_t lost_data; /* times Redis was found to have gone back in time */
	uint64_t last_load_ms, last_load_records;
	uint64_t swept; /* lapsed groups the sweep deleted from Redis */
	/* replication lag of other proxies' changes (log time to applied), ms */
	uint64_t lag_count, lag_sum_ms;
	uint64_t lag_buckets[12]; /* <= 1,2,5,10,20,50,100,200,500,1000,5000,+inf */
};
extern const unsigned repl_lag_bounds_ms[11];

struct repl;

struct repl *repl_new(struct event_base *base, const struct repl_config *cfg, char *err,
		      size_t errlen);
int repl_add_kind(struct repl *r, const struct repl_kind *k);
void repl_start(struct repl *r);
/* From a kind's apply: the change does not decode, nothing was applied;
 * counted in changes_bad instead of changes_applied. */
void repl_change_refused(struct repl *r);
/* Queues w (copied); false when the queue is full (counted, and a write-back
 * follows the next connection). */
bool repl_write(struct repl *r, const struct repl_write *w);
enum repl_state repl_state(const struct repl *r);
const char *repl_state_name(enum repl_state s);
void repl_get_stats(const struct repl *r, struct repl_stats *out);
const char *repl_origin(const struct repl *r);
/* Wall clock, ms since the epoch (records' expiries are in it). */
int64_t repl_now_ms(void);
/* Writes the partition of group: its keys' hash tag. */
unsigned repl_partition(const struct repl *r, struct str group);
void repl_free(struct repl *r);

#endif
