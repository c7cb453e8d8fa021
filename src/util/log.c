/* log.c — key=value event lines to stderr (with a timestamp) or to syslog. */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static struct {
	enum log_level level;
	bool syslog;
} log_state = {LOG_LEVEL_INFO, false};

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void log_setup(enum log_level level, bool to_syslog, const char *ident)
{
	log_state.level = level;
	if (to_syslog && !log_state.syslog)
		openlog(ident ? ident : "sipproxy", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	else if (!to_syslog && log_state.syslog)
		closelog();
	log_state.syslog = to_syslog;
}

void log_set_level(enum log_level level)
{
	log_state.level = level;
}

bool log_enabled(enum log_level level)
{
	return level <= log_state.level;
}

const char *log_level_name(enum log_level level)
{
	return (unsigned)level < 4 ? level_names[level] : "unknown";
}

int log_level_parse(const char *name, enum log_level *out)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return -1;
}

void log_event(enum log_level level, const char *event, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (log_state.syslog) {
		static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
		syslog(prio[level], "level=%s event=%s %s", level_names[level], event, line);
		return;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s event=%s %s\n",
		tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		ts.tv_nsec / 1000000, level_names[level], event, line);
}
