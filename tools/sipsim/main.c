/* main.c — sipsim: the SIP Server simulator's options, event loop, signals and
 * role control. The role (active answers OPTIONS 200, backup 503) flips on
 * SIGUSR1, or is set by a datagram "role=active" / "role=backup" sent to the
 * UDP control socket --control-port on the --listen address. SIGTERM/SIGINT
 * end the loop cleanly. */
#include <arpa/inet.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <event2/event.h>

#include "sipsim.h"
#include "util/log.h"

static void usage(void)
{
	fprintf(
	    stderr,
	    "usage: sipsim [--listen ADDR:PORT] [--role active|backup] [--control-port N]\n"
	    "              [--realm R] [--users FILE] [--max-expires S] [--answer-delay-ms MS]\n"
	    "              [--call AOR --via-proxy HOST:PORT [--calls N] [--hold-ms MS]\n"
	    "               [--transport udp|tcp]] [--verbose]\n");
}

void sim_log_msg(const struct sim *s, const char *dir, const struct sim_peer *peer, const char *buf,
		 size_t len)
{
	if (!s->o.verbose)
		return;
	char p[96];
	sim_peer_text(peer, p, sizeof(p));
	const char *eol = memchr(buf, '\r', len);
	size_t fl = eol ? (size_t)(eol - buf) : (len > 80 ? 80 : len);
	LOG_INFO("sipsim_msg", "dir=%s peer=%s len=%zu first=\"%.*s\"", dir, p, len, (int)fl, buf);
}

static void set_role(struct sim *s, bool active)
{
	s->active = active;
	LOG_INFO("sipsim_role", "role=%s", active ? "active" : "backup");
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct sim *s = arg;
	if (sig == SIGUSR1)
		set_role(s, !s->active);
	else
		event_base_loopexit(s->base, NULL);
}

static void on_control(evutil_socket_t fd, short what, void *arg)
{
	struct sim *s = arg;
	char buf[128];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return;
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (strcmp(buf, "role=active") == 0)
		set_role(s, true);
	else if (strcmp(buf, "role=backup") == 0)
		set_role(s, false);
	else
		LOG_WARN("sipsim_control", "bad=\"%s\"", buf);
}

static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
	sim_txn_sweep(arg, false);
}

static int control_start(struct sim *s)
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

static int parse_opts(struct sim *s, int argc, char **argv)
{
	static const struct option longs[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"role", required_argument, NULL, 'r'},
	    {"control-port", required_argument, NULL, 'C'},
	    {"realm", required_argument, NULL, 'R'},
	    {"users", required_argument, NULL, 'u'},
	    {"max-expires", required_argument, NULL, 'x'},
	    {"answer-delay-ms", required_argument, NULL, 'd'},
	    {"call", required_argument, NULL, 'c'},
	    {"via-proxy", required_argument, NULL, 'p'},
	    {"calls", required_argument, NULL, 'n'},
	    {"hold-ms", required_argument, NULL, 'h'},
	    {"transport", required_argument, NULL, 't'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, '?'},
	    {NULL, 0, NULL, 0},
	};
	struct sim_opts *o = &s->o;
	*o = (struct sim_opts){.listen = "127.0.0.1:5090",
			       .role = "active",
			       .realm = "sipproxy.test",
			       .max_expires = 3600,
			       .calls = 1,
			       .hold_ms = 500};
	int c;
	while ((c = getopt_long(argc, argv, "v", longs, NULL)) != -1) {
		switch (c) {
		case 'l': o->listen = optarg; break;
		case 'r': o->role = optarg; break;
		case 'C': o->control_port = atoi(optarg); break;
		case 'R': o->realm = optarg; break;
		case 'u': o->users_file = optarg; break;
		case 'x': o->max_expires = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'd': o->answer_delay_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'c': o->call_aor = optarg; break;
		case 'p': o->via_proxy = optarg; break;
		case 'n': o->calls = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'h': o->hold_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 't':
			if (strcmp(optarg, "udp") && strcmp(optarg, "tcp"))
				return -1;
			o->call_proto = strcmp(optarg, "tcp") == 0 ? SIM_TCP : SIM_UDP;
			break;
		case 'v': o->verbose = true; break;
		default: return -1;
		}
	}
	if (optind != argc || (strcmp(o->role, "active") && strcmp(o->role, "backup")))
		return -1;
	if (o->call_aor && !o->via_proxy)
		return -1;
	if (o->control_port < 0 || o->control_port > 65535)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct sim s;
	memset(&s, 0, sizeof(s));
	s.udp_fd = s.ctl_fd = -1;
	if (parse_opts(&s, argc, argv) != 0) {
		usage();
		return 2;
	}
	log_setup(s.o.verbose ? LOG_LEVEL_INFO : LOG_LEVEL_WARN, false, "sipsim");
	s.active = strcmp(s.o.role, "active") == 0;
	if (sim_addr_parse(s.o.listen, &s.laddr, &s.laddr_len) != 0) {
		fprintf(stderr, "sipsim: bad --listen %s\n", s.o.listen);
		return 2;
	}
	if (s.laddr.ss_family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&s.laddr;
		inet_ntop(AF_INET, &a->sin_addr, s.host, sizeof(s.host));
		s.port = ntohs(a->sin_port);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&s.laddr;
		inet_ntop(AF_INET6, &a->sin6_addr, s.host, sizeof(s.host));
		s.port = ntohs(a->sin6_port);
	}
	if (s.o.users_file && sim_users_load(&s, s.o.users_file) != 0) {
		fprintf(stderr, "sipsim: cannot read --users %s\n", s.o.users_file);
		return 2;
	}
	int rc = 1;
	if (getrandom(s.nonce_key, sizeof(s.nonce_key), 0) != (ssize_t)sizeof(s.nonce_key))
		goto out;
	signal(SIGPIPE, SIG_IGN);
	s.base = event_base_new();
	if (!s.base || sim_net_start(&s) != 0)
		goto out;
	if (s.o.control_port && control_start(&s) != 0)
		goto out;
	const int sigs[3] = {SIGTERM, SIGINT, SIGUSR1};
	for (int i = 0; i < 3; i++) {
		s.sig_ev[i] = evsignal_new(s.base, sigs[i], on_signal, &s);
		if (!s.sig_ev[i] || event_add(s.sig_ev[i], NULL) != 0)
			goto out;
	}
	s.sweep_ev = event_new(s.base, -1, EV_PERSIST, on_sweep, &s);
	struct timeval one = {1, 0};
	if (!s.sweep_ev || event_add(s.sweep_ev, &one) != 0)
		goto out;
	LOG_INFO("sipsim_start", "listen=%s role=%s", s.o.listen, s.o.role);
	if (s.o.call_aor && sim_uac_start(&s) != 0) {
		rc = 2;
		goto out;
	}
	event_base_dispatch(s.base);
	rc = s.exit_code;
out:
	sim_uac_free(&s);
	sim_txn_sweep(&s, true);
	sim_net_stop(&s);
	for (int i = 0; i < 3; i++)
		if (s.sig_ev[i])
			event_free(s.sig_ev[i]);
	if (s.sweep_ev)
		event_free(s.sweep_ev);
	if (s.ctl_ev)
		event_free(s.ctl_ev);
	if (s.ctl_fd >= 0)
		close(s.ctl_fd);
	sim_users_free(&s);
	if (s.base)
		event_base_free(s.base);
	LOG_INFO("sipsim_stop", "exit=%d", rc);
	return rc;
}
