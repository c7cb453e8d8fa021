/* log.h — one line per event, key=value, to stderr or syslog.
 * Usage: LOG_INFO("txn_timeout", "branch=%.*s code=%d", STR_FMT(b), 408);
 * prints: ts=... level=info event=txn_timeout branch=z9hG4bK... code=408 */
#ifndef SIPPROXY_UTIL_LOG_H
#define SIPPROXY_UTIL_LOG_H

#include <stdbool.h>

enum log_level { LOG_LEVEL_ERROR = 0, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* The only process-wide mutable state besides the config: set once at start-up. */
void log_setup(enum log_level level, bool to_syslog, const char *ident);
void log_set_level(enum log_level level);
bool log_enabled(enum log_level level);
int log_level_parse(const char *name, enum log_level *out);
const char *log_level_name(enum log_level level);

void log_event(enum log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define LOG_AT(lvl, event, ...)                                                                    \
	do {                                                                                       \
		if (log_enabled(lvl))                                                              \
			log_event(lvl, event, __VA_ARGS__);                                        \
	} while (0)
#define LOG_ERROR(event, ...) LOG_AT(LOG_LEVEL_ERROR, event, __VA_ARGS__)
#define LOG_WARN(event, ...)  LOG_AT(LOG_LEVEL_WARN, event, __VA_ARGS__)
#define LOG_INFO(event, ...)  LOG_AT(LOG_LEVEL_INFO, event, __VA_ARGS__)
#define LOG_DEBUG(event, ...) LOG_AT(LOG_LEVEL_DEBUG, event, __VA_ARGS__)

#endif
