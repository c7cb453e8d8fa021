/* store.c — GET /store and the store's metrics (store.h): what an operator
 * asks when proxies disagree about an endpoint: is Redis reachable, which
 * master, how many writes wait, when the last full load ran and how long it
 * took, how far behind the other proxies' changes arrive. */
#include "admin/store.h"

#include <event2/buffer.h>

#include "admin/admin.h"
#include "store/repl.h"
#include "store/store.h"

int admin_store_page(void *arg, const char *path, const char *query, struct evbuffer *out,
		     const char **content_type)
{
	struct store *s = arg;
	struct repl_stats st;
	uint64_t unstorable = 0;
	*content_type = "application/json";
	if (!store_redis_stats(s, &st, &unstorable)) {
		evbuffer_add_printf(out, "{\"backend\":\"memory\",\"bindings\":%zu}\n",
				    store_count(s));
		return 200;
	}
	evbuffer_add_printf(
	    out, "{\"backend\":\"redis\",\"state\":\"%s\",\"master\":", repl_state_name(st.state));
	admin_json_str(out, str_cstr(st.master ? st.master : ""));
	evbuffer_add_printf(
	    out,
	    ",\"bindings\":%zu,\"connects\":%llu,\"queued\":%zu,\"in_flight\":%zu,"
	    "\"writes\":%llu,\"writes_stale\":%llu,\"write_errors\":%llu,\"writes_failed\":%llu,"
	    "\"queue_overflow\":%llu,\"unstorable\":%llu,\"changes_applied\":%llu,"
	    "\"changes_bad\":%llu,\"full_loads\":%llu,\"lost_data\":%llu,"
	    "\"last_load_ms\":%llu,\"last_load_records\":%llu,\"swept\":%llu,\"lag_count\":%llu,"
	    "\"lag_avg_ms\":%.2f}\n",
	    store_count(s), (unsigned long long)st.connects, st.queued, st.in_flight,
	    (unsigned long long)st.writes, (unsigned long long)st.writes_stale,
	    (unsigned long long)st.write_errors, (unsigned long long)st.writes_failed,
	    (unsigned long long)st.queue_overflow, (unsigned long long)unstorable,
	    (unsigned long long)st.changes_applied, (unsigned long long)st.changes_bad,
	    (unsigned long long)st.full_loads, (unsigned long long)st.lost_data,
	    (unsigned long long)st.last_load_ms, (unsigned long long)st.last_load_records,
	    (unsigned long long)st.swept, (unsigned long long)st.lag_count,
	    st.lag_count ? (double)st.lag_sum_ms / (double)st.lag_count : 0.0);
	return 200;
}

void admin_store_metrics(void *arg, struct evbuffer *out)
{
	struct store *s = arg;
	struct repl_stats st;
	uint64_t unstorable = 0;
	evbuffer_add_printf(out,
			    "# HELP sipproxy_store_bindings Bindings in this proxy's memory.\n"
			    "# TYPE sipproxy_store_bindings gauge\n"
			    "sipproxy_store_bindings %zu\n",
			    store_count(s));
	if (!store_redis_stats(s, &st, &unstorable))
		return;
	evbuffer_add_printf(
	    out,
	    "# HELP sipproxy_store_redis_up 1 while the shared store is in step (live).\n"
	    "# TYPE sipproxy_store_redis_up gauge\n"
	    "sipproxy_store_redis_up %d\n"
	    "# HELP sipproxy_store_connects_total Connections to a Redis master.\n"
	    "# TYPE sipproxy_store_connects_total counter\n"
	    "sipproxy_store_connects_total %llu\n"
	    "# HELP sipproxy_store_queued Writes waiting for Redis.\n"
	    "# TYPE sipproxy_store_queued gauge\n"
	    "sipproxy_store_queued %zu\n"
	    "# HELP sipproxy_store_writes_total Writes Redis answered, by outcome.\n"
	    "# TYPE sipproxy_store_writes_total counter\n"
	    "sipproxy_store_writes_total{result=\"ok\"} %llu\n"
	    "sipproxy_store_writes_total{result=\"stale\"} %llu\n"
	    "sipproxy_store_writes_total{result=\"error\"} %llu\n"
	    "sipproxy_store_writes_total{result=\"failed\"} %llu\n"
	    "# HELP sipproxy_store_queue_overflow_total Writes dropped from a full queue.\n"
	    "# TYPE sipproxy_store_queue_overflow_total counter\n"
	    "sipproxy_store_queue_overflow_total %llu\n"
	    "# HELP sipproxy_store_unstorable_total Bindings Redis could not take (held here "
	    "only).\n"
	    "# TYPE sipproxy_store_unstorable_total counter\n"
	    "sipproxy_store_unstorable_total %llu\n"
	    "# HELP sipproxy_store_changes_total Changes from Redis, applied or unreadable.\n"
	    "# TYPE sipproxy_store_changes_total counter\n"
	    "sipproxy_store_changes_total{result=\"applied\"} %llu\n"
	    "sipproxy_store_changes_total{result=\"bad\"} %llu\n"
	    "# HELP sipproxy_store_full_loads_total Full loads from Redis.\n"
	    "# TYPE sipproxy_store_full_loads_total counter\n"
	    "sipproxy_store_full_loads_total %llu\n"
	    "# HELP sipproxy_store_lost_data_total Times Redis had lost data this proxy wrote.\n"
	    "# TYPE sipproxy_store_lost_data_total counter\n"
	    "sipproxy_store_lost_data_total %llu\n"
	    "# HELP sipproxy_store_last_load_seconds Duration of the last full load.\n"
	    "# TYPE sipproxy_store_last_load_seconds gauge\n"
	    "sipproxy_store_last_load_seconds %.3f\n"
	    "# HELP sipproxy_store_replication_lag_seconds From another proxy's change being "
	    "logged in Redis to its being applied here.\n"
	    "# TYPE sipproxy_store_replication_lag_seconds histogram\n",
	    st.state == REPL_LIVE, (unsigned long long)st.connects, st.queued,
	    (unsigned long long)st.writes - st.writes_stale, (unsigned long long)st.writes_stale,
	    (unsigned long long)st.write_errors, (unsigned long long)st.writes_failed,
	    (unsigned long long)st.queue_overflow, (unsigned long long)unstorable,
	    (unsigned long long)st.changes_applied, (unsigned long long)st.changes_bad,
	    (unsigned long long)st.full_loads, (unsigned long long)st.lost_data,
	    (double)st.last_load_ms / 1000.0);
	uint64_t cum = 0;
	for (size_t i = 0; i < 11; i++) {
		cum += st.lag_buckets[i];
		evbuffer_add_printf(
		    out, "sipproxy_store_replication_lag_seconds_bucket{le=\"%.3f\"} %llu\n",
		    repl_lag_bounds_ms[i] / 1000.0, (unsigned long long)cum);
	}
	cum += st.lag_buckets[11];
	evbuffer_add_printf(out,
			    "sipproxy_store_replication_lag_seconds_bucket{le=\"+Inf\"} %llu\n"
			    "sipproxy_store_replication_lag_seconds_sum %.3f\n"
			    "sipproxy_store_replication_lag_seconds_count %llu\n",
			    (unsigned long long)cum, (double)st.lag_sum_ms / 1000.0,
			    (unsigned long long)st.lag_count);
}
