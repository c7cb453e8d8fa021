/* repl_internal.h — the replication engine's state shared by its files:
 * repl.c (connection life cycle), repl_write.c (the write queue), repl_log.c (tailing the
 * change logs, decoding entries and records), repl_load.c (the full load),
 * repl_script.c (the Lua script). Not for use outside src/store/. */
#ifndef SIPPROXY_STORE_REPL_INTERNAL_H
#define SIPPROXY_STORE_REPL_INTERNAL_H

#include <event2/util.h>
#include <hiredis/hiredis.h>

#include "store/repl.h"

#define REPL_ID_MAX	 48    /* "<ms>-<seq>" */
#define REPL_MAX_FLIGHT	 1024  /* writes sent and unanswered */
#define REPL_LOAD_WINDOW 8     /* bucket HGETALLs of the full load in flight */
#define REPL_SWEEP_MS	 100u  /* a slice of a bucket swept of lapsed groups this often */
#define REPL_SWEEP_COUNT "100" /* groups per slice (HSCAN COUNT) */
#define REPL_LOG_BATCH	 "500" /* entries per XREAD */
#define REPL_LOG_BLOCK	 1000u /* ms an XREAD waits for news */

extern const char repl_script_src[];

/* One queued write: the struct repl_write's strings packed after it. */
struct repl_qent {
	struct repl_qent *next;
	bool wb; /* a write-back (repl_load_begin): not bounded by queue_max */
	struct repl_write w;
	char data[];
};

struct repl_partition {
	char last_id[REPL_ID_MAX]; /* last log entry applied; "" = none yet */
	uint64_t last_ver;	   /* that entry's version; 0 = not known */
	char key_log[128];
	char key_ver[128];
	bool log_bad; /* the log key holds another type: left out of the tail's XREAD */
};

struct repl {
	struct event_base *base;
	struct redis_link *link;
	char prefix[64];
	char origin[64];
	char maxlen[16];
	unsigned partitions;
	unsigned queue_max;
	struct repl_kind kinds[REPL_MAX_KINDS];
	size_t nkinds;
	enum repl_state state;
	char sha[48];
	struct repl_partition *part;
	/* writes: queued (not sent) and in flight (sent, in order) */
	struct repl_qent *q_head, *q_tail, *f_head, *f_tail;
	size_t queued, in_flight;
	size_t wb_pending; /* write-backs among them */
	bool writing_back; /* inside the kinds' load_begin of a lost load */
	bool overflowed;   /* dropped writes: write back once connected */
	bool paused;	   /* a transient error: wait before sending more */
	/* bumped when the writes in flight are sent again: answers to the
	 * earlier sending are ignored */
	unsigned long wgen;
	struct event *pause_timer;
	/* syncing */
	unsigned info_pending;
	bool need_load, lost;
	char run_id[48]; /* the Redis server last synced with ("" before any) */
	/* full load: buckets asked for (of nkinds x partitions x REPL_BUCKETS), answered */
	size_t load_next;
	size_t load_pending;
	unsigned load_sized; /* kinds (bit per index) told their load_size */
	uint64_t load_records;
	int64_t load_start_ms;
	bool refused; /* the kind's apply called repl_change_refused */
	bool tail_running;
	bool gap;		  /* the tail missed entries (trimmed): a full load follows */
	struct event *tail_timer; /* retry after an XREAD error */
	unsigned probes_pending;  /* TYPE of each log key, after a WRONGTYPE */
	size_t logs_bad;	  /* partitions whose log key is of another type */
	int64_t probe_ms;	  /* when the log keys were last probed */
	struct event *sweep_timer;
	bool sweeping;	       /* a sweep in flight */
	char sweep_cursor[24]; /* HSCAN's in the bucket being swept; "0" = its start */
	unsigned sweep_ms;
	size_t sweep_next; /* the next bucket to sweep (of nkinds x partitions x REPL_BUCKETS) */
	bool closing;
	unsigned long gen; /* connections so far: answers of an older one are ignored */
	struct repl_stats st;
};

const struct repl_kind *repl_find_kind(const struct repl *r, char kind);
/* The bucket of group within its partition. */
unsigned repl_bucket(const struct repl *r, struct str group);
/* "<prefix>:{<P>}:<kind>:<bucket>" into out (fits in 96 bytes). */
void repl_bucket_key(const struct repl *r, char kind, unsigned part, unsigned bucket, char *out,
		     size_t cap);
/* Buckets of every kind and partition: nkinds x partitions x REPL_BUCKETS. */
size_t repl_bucket_count(const struct repl *r);
/* The i-th of them (i < repl_bucket_count): its key into out, its kind and
 * partition; returns the partition. */
unsigned repl_bucket_key_nth(const struct repl *r, size_t i, char *kind, char *out, size_t cap);
int64_t repl_wall_ms(void);
/* Compares two stream ids "<ms>-<seq>" numerically; "" is below all. */
int repl_id_cmp(const char *a, const char *b);

/* repl_log.c */
/* Decodes a stored value "<ver> <exp> <cseq> <call-id>\n<payload>". */
bool repl_decode_value(struct str v, struct repl_change *c);
void repl_apply(struct repl *r, const struct repl_change *c);
void repl_tail_start(struct repl *r);

/* repl_load.c */
void repl_load_begin(struct repl *r);

/* repl_sweep.c */
/* Starts sweeping the buckets of lapsed groups (once live; stops on its own when not). */
void repl_sweep_start(struct repl *r);

/* repl_write.c */
/* In-flight writes go back to the front of the queue, in order (link lost). */
void repl_flight_requeue(struct repl *r);
/* After an overflow, once everything queued is through: a full load that
 * ends with each kind writing back what it owns. */
void repl_check_write_back(struct repl *r);
/* The pause after a transient error is over (event callback). */
void repl_pause_end(evutil_socket_t fd, short what, void *arg);

/* repl.c */
void repl_went_live(struct repl *r);
void repl_flush(struct repl *r);

#endif
