/* store_fill.c — the shared (Redis) registration store's write path and full
 * load, measured outside the proxy (bench/shared_store.sh). It links the store
 * library and runs a real event loop, so every binding goes through what a
 * proxy runs: store_redis's encoding, the write queue and window (repl.c), the
 * Lua script (repl_script.c) — hash, version, expiry and log entry per write.
 *   store_fill fill --redis HOST:PORT [--prefix P] [--partitions N] [--from I] --count N
 *     saves bindings I .. I+N-1 (AOR sip:fl<I>@sipproxy.test, one binding each,
 *     sizes as in store_bench.c: contact ~55 B, Call-ID 40, owner "store-fill";
 *     every other one with an RFC 5626 instance of 47 B, keyed by it, the rest
 *     by their Contact, so both kinds of binding_key are exercised) and waits
 *     until Redis has answered each write; prints
 *     writes/s through the script and the heap this process's store grew by
 *     per binding.
 *   store_fill load --redis HOST:PORT [--prefix P] [--partitions N]
 *     a fresh store's full load (SCAN + pipelined HGETALL, repl_load.c) until
 *     it is live: its duration, records, heap per binding and CPU time — the
 *     proxy's load without the rest of the proxy (for perf record).
 * One line of key=value results on stdout; exit 1 on failure. */
#include <arpa/inet.h>
#include <event2/event.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "store/repl.h"
#include "store/store.h"
#include "util/log.h"

#define FILL_WINDOW  8192 /* writes queued or in flight at once (the queue is bounded) */
#define WAIT_LIVE_MS 120000

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Small blocks plus large mmapped ones, as store_bench.c counts them. */
static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

static struct repl_stats stats_of(struct store *st)
{
	struct repl_stats s;
	store_redis_stats(st, &s, NULL);
	return s;
}

/* Runs the loop until the store is live; false after WAIT_LIVE_MS. */
static bool wait_live(struct event_base *base, struct store *st)
{
	double end = mono_s() + WAIT_LIVE_MS / 1000.0;
	struct timeval tick = {0, 50000};
	while (stats_of(st).state != REPL_LIVE) {
		if (mono_s() > end)
			return false;
		event_base_loopexit(base, &tick);
		event_base_loop(base, EVLOOP_ONCE);
	}
	return true;
}

/* Binding i, in bufs that outlive the save (the store copies it). */
static void make_binding(size_t i, int64_t now_ms, char *aor, char *contact, char *inst, char *cid,
			 struct store_binding *b)
{
	int al = snprintf(aor, 40, "sip:fl%07zu@sipproxy.test", i);
	int cl =
	    snprintf(contact, 80, "sip:fl%07zu@198.51.100.%zu:5060;transport=tcp;ob", i, i % 250);
	int il = snprintf(inst, 64, "<urn:uuid:%08zx-7dec-11d0-a765-00a0c91e6bf6>", i);
	int ll = snprintf(cid, 64, "%016zx-a84b4c76e667@pc33.example", i);
	*b = (struct store_binding){
	    .aor = str_make(aor, (size_t)al),
	    .contact = str_make(contact, (size_t)cl),
	    .instance = i % 2 ? STR_NULL : str_make(inst, (size_t)il),
	    .reg_id = i % 2 ? 0 : 1,
	    .call_id = str_make(cid, (size_t)ll),
	    .cseq = 1,
	    .q = 1000,
	    /* two hours and more: nothing lapses during a bench */
	    .expires_at = now_ms + 7200000 + (int64_t)(i % 3600) * 1000,
	    .proto = TP_TCP,
	    .conn_id = i + 1,
	    .owner = STR_LIT("store-fill"),
	    .node = STR_LIT("bench-uas"),
	};
	b->source.in4.sin_family = AF_INET;
	b->source.in4.sin_port = htons(5060);
	b->source.in4.sin_addr.s_addr = htonl(0xc6336400u | (uint32_t)(i % 250)); /* 198.51.100.x */
}

static int fill(struct event_base *base, struct store *st, size_t from, size_t count)
{
	if (!wait_live(base, st)) {
		fprintf(stderr, "store_fill: Redis not live within %d s\n", WAIT_LIVE_MS / 1000);
		return 1;
	}
	struct repl_stats s0 = stats_of(st);
	size_t heap0 = heap_in_use();
	double t0 = mono_s(), c0 = cpu_s();
	int64_t now_ms = repl_now_ms();
	char aor[40], contact[80], inst[64], cid[64];
	size_t saved = 0, refused = 0;
	struct repl_stats s = s0;
	for (;;) {
		while (saved < count && s.queued + s.in_flight < FILL_WINDOW) {
			struct store_binding b;
			make_binding(from + saved, now_ms, aor, contact, inst, cid, &b);
			if (store_save(st, &b) != STORE_OK)
				refused++;
			saved++;
			s = stats_of(st);
		}
		if (saved == count && s.queued == 0 && s.in_flight == 0)
			break;
		if (s.state == REPL_DOWN) {
			fprintf(stderr, "store_fill: Redis went away after %zu writes\n", saved);
			return 1;
		}
		event_base_loop(base, EVLOOP_ONCE);
		s = stats_of(st);
	}
	double secs = mono_s() - t0, cpu = cpu_s() - c0;
	size_t heap1 = heap_in_use();
	uint64_t writes = s.writes - s0.writes;
	printf("mode=fill from=%zu count=%zu written=%llu stale=%llu failed=%llu refused=%zu "
	       "secs=%.3f writes_per_s=%.0f cpu_us_per_write=%.1f heap_bytes_per_binding=%.1f\n",
	       from, count, (unsigned long long)writes,
	       (unsigned long long)(s.writes_stale - s0.writes_stale),
	       (unsigned long long)(s.writes_failed - s0.writes_failed), refused, secs,
	       secs > 0 ? (double)writes / secs : 0.0, writes ? cpu * 1e6 / (double)writes : 0.0,
	       count ? ((double)heap1 - (double)heap0) / (double)count : 0.0);
	return s.writes_failed != s0.writes_failed || refused ? 1 : 0;
}

static int load(struct event_base *base, struct store *st, size_t heap0)
{
	double t0 = mono_s(), c0 = cpu_s();
	if (!wait_live(base, st)) {
		fprintf(stderr, "store_fill: not live within %d s\n", WAIT_LIVE_MS / 1000);
		return 1;
	}
	double secs = mono_s() - t0, cpu = cpu_s() - c0;
	struct repl_stats s = stats_of(st);
	size_t n = store_count(st), heap1 = heap_in_use();
	printf("mode=load bindings=%zu last_load_ms=%llu last_load_records=%llu changes_bad=%llu "
	       "secs_to_live=%.3f cpu_s=%.3f heap_bytes_per_binding=%.1f\n",
	       n, (unsigned long long)s.last_load_ms, (unsigned long long)s.last_load_records,
	       (unsigned long long)s.changes_bad, secs, cpu,
	       n ? ((double)heap1 - (double)heap0) / (double)n : 0.0);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: store_fill fill|load --redis HOST:PORT [--prefix P] "
			"[--partitions N] [--from I] [--count N]\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2 || (strcmp(argv[1], "fill") != 0 && strcmp(argv[1], "load") != 0))
		return usage();
	bool do_fill = strcmp(argv[1], "fill") == 0;
	const char *addr = NULL, *prefix = "sp";
	unsigned partitions = 16;
	size_t from = 0, count = 0;
	for (int i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--redis") == 0)
			addr = argv[i + 1];
		else if (strcmp(argv[i], "--prefix") == 0)
			prefix = argv[i + 1];
		else if (strcmp(argv[i], "--partitions") == 0)
			partitions = (unsigned)strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--from") == 0)
			from = (size_t)strtoull(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--count") == 0)
			count = (size_t)strtoull(argv[i + 1], NULL, 10);
		else
			return usage();
	}
	if (!addr || (do_fill && !count))
		return usage();
	log_setup(LOG_LEVEL_WARN, false, "store_fill");
	struct event_base *base = event_base_new();
	if (!base)
		return 1;
	size_t heap0 = heap_in_use();
	struct store_redis_config cfg = {
	    .address = addr,
	    .master_name = "sipproxy",
	    .prefix = prefix,
	    .partitions = partitions,
	    .log_length = 10000,
	    .queue_max = 2 * FILL_WINDOW,
	    .timeout_ms = 10000,
	    .owner = "store-fill",
	};
	char err[256];
	struct store *st = store_redis_new(base, &cfg, err, sizeof(err));
	if (!st) {
		fprintf(stderr, "store_fill: %s\n", err);
		return 1;
	}
	store_redis_start(st);
	int rc = do_fill ? fill(base, st, from, count) : load(base, st, heap0);
	store_free(st);
	event_base_free(base);
	return rc;
}
