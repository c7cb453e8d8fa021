/* main.c — sipsim, the SIP Server simulator: one member of a SIP Server HA pair
 * (an HA pair = two sipsims on two loopback addresses). Options, the event loop,
 * signals: SIGUSR1 flips the role active <-> backup, SIGTERM/SIGINT end the
 * loop cleanly. Run-time control (roles, calls, counters) is control.c's, on the
 * UDP control socket --control-port; `sipsim ctl` is its client (ctl.c). */
#include <arpa/inet.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>

#include "sipsim.h"
#include "util/log.h"

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: sipsim [--listen ADDR:PORT] [--role active|backup|dead] [--control-port N]\n"
	    "              [--realm R] [--users FILE] [--max-expires S] [--nonce-ttl S]\n"
	    "              [--answer-delay-ms MS] [--media-timeout S] [--via-proxy HOST:PORT]\n"
	    "              [--call AOR [--calls N] [--hold-ms MS] [--rate CPS]]\n"
	    "              [--transport udp|tcp] [--verbose]\n"
	    "       sipsim ctl HOST:PORT COMMAND...\n"
	    "\n"
	    "A SIP Server (one member of an HA pair) on --listen, UDP and TCP (default\n"
	    "127.0.0.1:5090). Roles: active serves (OPTIONS 200, REGISTER with digest against\n"
	    "--users, INVITE answered with SDP and an RTP echo); backup answers every request\n"
	    "503 and sends none; dead answers nothing (drops every datagram and TCP byte,\n"
	    "sockets stay open). SIGUSR1 flips active/backup. With --call, places --calls\n"
	    "calls (INVITE, ACK, hold, BYE) to AOR via the proxy, prints one line per call and\n"
	    "exits (1 if one failed). Requests leave from the listen address.\n"
	    "\n"
	    "Control socket (UDP, --control-port on the listen address), one command per\n"
	    "datagram, one reply line ('ok ...' or 'err ...'):\n"
	    "  role active|backup|dead                        -> ok role=R\n"
	    "  call AOR [count N] [hold MS] [rate CPS] [via HOST:PORT] [transport udp|tcp]\n"
	    "                          -> ok calls=N (they run in the background: see stats)\n"
	    "  stats   -> ok role=R invites=N byes=N registers=N options=N calls_placed=N\n"
	    "             calls_ok=N calls_failed=N active_calls=N acks=N cancels=N others=N\n"
	    "             media=N rtp_echoed=N\n"
	    "  reset   -> ok reset\n"
	    "sipsim ctl sends one command and prints the reply (2 s timeout; exit 0 on ok).\n");
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

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct sim *s = arg;
	if (sig == SIGUSR1)
		sim_role_set(s, s->role == SIM_ROLE_ACTIVE ? SIM_ROLE_BACKUP : SIM_ROLE_ACTIVE);
	else
		event_base_loopexit(s->base, NULL);
}

static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
	sim_txn_sweep(arg, false);
	sim_media_sweep(arg, false);
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
	    {"nonce-ttl", required_argument, NULL, 'N'},
	    {"answer-delay-ms", required_argument, NULL, 'd'},
	    {"media-timeout", required_argument, NULL, 'M'},
	    {"call", required_argument, NULL, 'c'},
	    {"via-proxy", required_argument, NULL, 'p'},
	    {"calls", required_argument, NULL, 'n'},
	    {"hold-ms", required_argument, NULL, 'h'},
	    {"rate", required_argument, NULL, 'a'},
	    {"transport", required_argument, NULL, 't'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'H'},
	    {NULL, 0, NULL, 0},
	};
	struct sim_opts *o = &s->o;
	*o = (struct sim_opts){.listen = "127.0.0.1:5090",
			       .role = "active",
			       .realm = "sipproxy.test",
			       .max_expires = 3600,
			       .nonce_ttl = 300,
			       .media_timeout = 120,
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
		case 'N': o->nonce_ttl = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'd': o->answer_delay_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'M': o->media_timeout = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'c': o->call_aor = optarg; break;
		case 'p': o->via_proxy = optarg; break;
		case 'n': o->calls = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'h': o->hold_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'a': o->rate = (unsigned)strtoul(optarg, NULL, 10); break;
		case 't':
			if (strcmp(optarg, "udp") && strcmp(optarg, "tcp"))
				return -1;
			o->call_proto = strcmp(optarg, "tcp") == 0 ? SIM_TCP : SIM_UDP;
			break;
		case 'v': o->verbose = true; break;
		case 'H': return 1;
		default: return -1;
		}
	}
	if (optind != argc || sim_role_parse(o->role, &s->role) != 0)
		return -1;
	if (o->call_aor && (!o->via_proxy || o->calls == 0))
		return -1;
	if (o->control_port < 0 || o->control_port > 65535 || o->rate > 1000)
		return -1;
	return 0;
}

static int listen_addr(struct sim *s)
{
	if (sim_addr_parse(s->o.listen, &s->laddr, &s->laddr_len) != 0)
		return -1;
	if (s->laddr.ss_family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&s->laddr;
		inet_ntop(AF_INET, &a->sin_addr, s->host, sizeof(s->host));
		s->port = ntohs(a->sin_port);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&s->laddr;
		inet_ntop(AF_INET6, &a->sin6_addr, s->host, sizeof(s->host));
		s->port = ntohs(a->sin6_port);
	}
	return 0;
}

/* --call at start-up: one batch; the process ends with it. */
static int start_calls(struct sim *s)
{
	struct sim_call_req req = {.aor = s->o.call_aor,
				   .count = s->o.calls,
				   .hold_ms = s->o.hold_ms,
				   .rate = s->o.rate,
				   .exit_when_done = true};
	req.via.proto = s->o.call_proto;
	if (sim_addr_parse(s->o.via_proxy, &req.via.addr, &req.via.alen) != 0) {
		fprintf(stderr, "sipsim: bad --via-proxy %s\n", s->o.via_proxy);
		return -1;
	}
	return sim_uac_place(s, &req);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "ctl") == 0)
		return sim_ctl_main(argc - 2, argv + 2);
	struct sim s;
	memset(&s, 0, sizeof(s));
	s.udp_fd = s.ctl_fd = -1;
	int prc = parse_opts(&s, argc, argv);
	if (prc != 0) {
		usage(prc > 0 ? stdout : stderr);
		return prc > 0 ? 0 : 2;
	}
	/* A server logs its start, stop, role changes and control commands, and
	 * with --verbose every message (sim_log_msg); --call alone is a one-shot
	 * client whose output is its call lines, so only warnings there. */
	log_setup(s.o.call_aor && !s.o.verbose ? LOG_LEVEL_WARN : LOG_LEVEL_INFO, false, "sipsim");
	if (listen_addr(&s) != 0) {
		fprintf(stderr, "sipsim: bad --listen %s\n", s.o.listen);
		return 2;
	}
	if (s.o.users_file && sim_users_load(&s, s.o.users_file) != 0) {
		fprintf(stderr, "sipsim: cannot read --users %s\n", s.o.users_file);
		return 2;
	}
	/* Two sockets per call's echo: take every descriptor we may. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	int rc = 1;
	if (getrandom(s.nonce_key, sizeof(s.nonce_key), 0) != (ssize_t)sizeof(s.nonce_key))
		goto out;
	signal(SIGPIPE, SIG_IGN);
	s.base = event_base_new();
	if (!s.base || sim_net_start(&s) != 0)
		goto out;
	if (s.o.control_port && sim_control_start(&s) != 0)
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
	LOG_INFO("sipsim_start", "listen=%s role=%s control_port=%d", s.o.listen,
		 sim_role_name(s.role), s.o.control_port);
	if (s.o.call_aor && start_calls(&s) != 0) {
		rc = 2;
		goto out;
	}
	event_base_dispatch(s.base);
	rc = s.exit_code;
out:
	sim_uac_free(&s);
	sim_txn_sweep(&s, true);
	sim_media_sweep(&s, true);
	sim_net_stop(&s);
	for (int i = 0; i < 3; i++)
		if (s.sig_ev[i])
			event_free(s.sig_ev[i]);
	if (s.sweep_ev)
		event_free(s.sweep_ev);
	sim_control_stop(&s);
	sim_users_free(&s);
	if (s.base)
		event_base_free(s.base);
	LOG_INFO("sipsim_stop", "exit=%d", rc);
	return rc;
}
