/* control.c — run-time control of one HA pair member: its role (active, backup,
 * dead; SIGUSR1 in main.c flips active/backup) and the UDP control socket on the
 * listen address (--control-port). One command a datagram, words separated by
 * blanks; one reply line goes back to the sender, "ok ..." or "err WHY":
 *   role active|backup|dead      (or "role=NAME")   -> ok role=NAME
 *   call AOR [count N] [hold MS] [rate CPS] [via HOST:PORT] [transport udp|tcp]
 *                                                    -> ok calls=N
 *   stats -> ok role=R invites=N byes=N registers=N options=N calls_placed=N
 *            calls_ok=N calls_failed=N active_calls=N acks=N cancels=N others=N
 *            media=N rtp_echoed=N
 *   reset -> ok reset     (zeroes the counters; active_calls and media are gauges)
 * The request counters count new requests received (not retransmissions), the
 * call counters the calls this member placed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "sipsim.h"
#include "util/log.h"

#define CALL_MAX_COUNT 1000000
#define CALL_MAX_RATE  1000

static const char *const role_names[] = {"active", "backup", "dead"};

const char *sim_role_name(enum sim_role r)
{
	return role_names[r];
}

int sim_role_parse(const char *name, enum sim_role *out)
{
	for (unsigned i = 0; i < 3; i++)
		if (strcmp(name, role_names[i]) == 0) {
			*out = (enum sim_role)i;
			return 0;
		}
	return -1;
}

void sim_role_set(struct sim *s, enum sim_role r)
{
	s->role = r;
	LOG_INFO("sipsim_role", "role=%s", sim_role_name(r));
	/* A backup never sends requests: the calls it placed are over. (Dead keeps
	 * them: it is silent, its timers run out.) */
	if (r == SIM_ROLE_BACKUP)
		sim_uac_abort(s);
}

/* A decimal in [lo, hi]. */
static int parse_uint(const char *v, unsigned long lo, unsigned long hi, unsigned *out)
{
	char *end;
	if (!v || !*v || *v == '-')
		return -1;
	unsigned long n = strtoul(v, &end, 10);
	if (*end || n < lo || n > hi)
		return -1;
	*out = (unsigned)n;
	return 0;
}

static void cmd_call(struct sim *s, char **w, int nw, char *out, size_t cap)
{
	if (nw < 2) {
		snprintf(out, cap,
			 "err usage: call AOR [count N] [hold MS] [rate CPS] "
			 "[via HOST:PORT] [transport udp|tcp]");
		return;
	}
	if (s->role != SIM_ROLE_ACTIVE) {
		/* A backup never sends requests; a dead member sends nothing. */
		snprintf(out, cap, "err role=%s", sim_role_name(s->role));
		return;
	}
	struct sim_call_req req = {.aor = w[1], .count = 1, .hold_ms = s->o.hold_ms};
	req.via.proto = s->o.call_proto;
	const char *via = s->o.via_proxy;
	for (int i = 2; i < nw; i += 2) {
		const char *k = w[i], *v = i + 1 < nw ? w[i + 1] : NULL;
		int bad = 0;
		if (!v)
			bad = 1;
		else if (strcmp(k, "count") == 0)
			bad = parse_uint(v, 1, CALL_MAX_COUNT, &req.count);
		else if (strcmp(k, "hold") == 0)
			bad = parse_uint(v, 0, 86400000, &req.hold_ms);
		else if (strcmp(k, "rate") == 0)
			bad = parse_uint(v, 0, CALL_MAX_RATE, &req.rate);
		else if (strcmp(k, "via") == 0)
			via = v;
		else if (strcmp(k, "transport") == 0 && strcmp(v, "udp") == 0)
			req.via.proto = SIM_UDP;
		else if (strcmp(k, "transport") == 0 && strcmp(v, "tcp") == 0)
			req.via.proto = SIM_TCP;
		else
			bad = 1;
		if (bad) {
			snprintf(out, cap, "err bad %s %s", k, v ? v : "(missing value)");
			return;
		}
	}
	if (!via) {
		snprintf(out, cap, "err no via HOST:PORT (and no --via-proxy)");
		return;
	}
	if (sim_addr_parse(via, &req.via.addr, &req.via.alen) != 0) {
		snprintf(out, cap, "err bad via %s", via);
		return;
	}
	if (sim_uac_place(s, &req) != 0) {
		snprintf(out, cap, "err cannot place calls");
		return;
	}
	snprintf(out, cap, "ok calls=%u", req.count);
}

static void cmd_stats(const struct sim *s, char *out, size_t cap)
{
	const struct sim_stats *st = &s->stats;
	snprintf(out, cap,
		 "ok role=%s invites=%lu byes=%lu registers=%lu options=%lu calls_placed=%lu "
		 "calls_ok=%lu calls_failed=%lu active_calls=%u acks=%lu cancels=%lu others=%lu "
		 "media=%u rtp_echoed=%lu",
		 sim_role_name(s->role), st->invites, st->byes, st->registers, st->options,
		 st->calls_placed, st->calls_ok, st->calls_failed, sim_uac_active(s), st->acks,
		 st->cancels, st->others, s->media_count, st->rtp_echoed);
}

void sim_control_exec(struct sim *s, char *line, char *out, size_t cap)
{
	char *w[16], *save = NULL;
	int nw = 0;
	for (char *t = strtok_r(line, " \t\r\n", &save); t && nw < 16;
	     t = strtok_r(NULL, " \t\r\n", &save))
		w[nw++] = t;
	enum sim_role r;
	if (nw == 0) {
		snprintf(out, cap, "err empty command");
	} else if (strncmp(w[0], "role=", 5) == 0 && nw == 1) {
		/* The first control grammar, kept: "role=active". */
		if (sim_role_parse(w[0] + 5, &r) != 0) {
			snprintf(out, cap, "err bad role %s", w[0] + 5);
			return;
		}
		sim_role_set(s, r);
		snprintf(out, cap, "ok role=%s", sim_role_name(r));
	} else if (strcmp(w[0], "role") == 0) {
		if (nw != 2 || sim_role_parse(w[1], &r) != 0) {
			snprintf(out, cap, "err usage: role active|backup|dead");
			return;
		}
		sim_role_set(s, r);
		snprintf(out, cap, "ok role=%s", sim_role_name(r));
	} else if (strcmp(w[0], "call") == 0) {
		cmd_call(s, w, nw, out, cap);
	} else if (strcmp(w[0], "stats") == 0 && nw == 1) {
		cmd_stats(s, out, cap);
	} else if (strcmp(w[0], "reset") == 0 && nw == 1) {
		memset(&s->stats, 0, sizeof(s->stats));
		snprintf(out, cap, "ok reset");
	} else {
		snprintf(out, cap, "err unknown command %s (role, call, stats, reset)", w[0]);
	}
}

static void on_control(evutil_socket_t fd, short what, void *arg)
{
	struct sim *s = arg;
	for (int i = 0; i < 16; i++) {
		char buf[1024], reply[1024];
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from, &flen);
		if (n < 0)
			return;
		buf[n] = '\0';
		char cmd[1024];
		snprintf(cmd, sizeof(cmd), "%s", buf);
		cmd[strcspn(cmd, "\r\n")] = '\0';
		sim_control_exec(s, buf, reply, sizeof(reply));
		LOG_INFO("sipsim_control", "cmd=\"%s\" reply=\"%s\"", cmd, reply);
		size_t rl = strlen(reply);
		reply[rl++] = '\n';
		sendto(fd, reply, rl, 0, (struct sockaddr *)&from, flen);
	}
}

int sim_control_start(struct sim *s)
{
	struct sockaddr_storage a = s->laddr;
	if (a.ss_family == AF_INET)
		((struct sockaddr_in *)&a)->sin_port = htons((uint16_t)s->o.control_port);
	else
		((struct sockaddr_in6 *)&a)->sin6_port = htons((uint16_t)s->o.control_port);
	s->ctl_fd = socket(a.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->ctl_fd < 0 || bind(s->ctl_fd, (struct sockaddr *)&a, s->laddr_len) != 0) {
		fprintf(stderr, "sipsim: cannot bind control port %d\n", s->o.control_port);
		return -1;
	}
	s->ctl_ev = event_new(s->base, s->ctl_fd, EV_READ | EV_PERSIST, on_control, s);
	return s->ctl_ev ? event_add(s->ctl_ev, NULL) : -1;
}

void sim_control_stop(struct sim *s)
{
	if (s->ctl_ev)
		event_free(s->ctl_ev);
	if (s->ctl_fd >= 0)
		close(s->ctl_fd);
	s->ctl_ev = NULL;
	s->ctl_fd = -1;
}
