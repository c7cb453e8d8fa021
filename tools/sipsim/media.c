/* media.c — the calls' media: an RTP echo. Each call (one we answered, one we
 * placed) gets its own UDP socket on the listen IP, an even port when the
 * kernel gives one with the next port free for an RTCP sink (RFC 3550 §11);
 * every RTP packet is sent back to where it came from, so a softphone hears
 * itself and one call's echo never reaches another call. A session ends at BYE,
 * CANCEL or the call's end, and an answered one after --media-timeout seconds
 * without RTP or SIP (a call whose BYE never came). Dead members echo nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "sipsim.h"
#include "util/log.h"

#define MEDIA_BUCKETS 256

struct sim_media {
	struct sim *s;
	char *call_id;
	bool uac;
	int fd, rtcp_fd;
	uint16_t port;
	struct event *ev, *rtcp_ev;
	unsigned version; /* o= version of the last SDP we sent (RFC 4566 §5.2) */
	time_t last;
	struct sim_media *next;
};

static struct sim_media **media_bucket(struct sim *s, struct str call_id)
{
	if (!s->media) {
		s->media = calloc(MEDIA_BUCKETS, sizeof(*s->media));
		if (!s->media)
			return NULL;
	}
	return &s->media[str_hash(call_id) % MEDIA_BUCKETS];
}

/* A UDP socket on the listen IP at port (0: the kernel's choice). */
static int media_bind(const struct sim *s, uint16_t port)
{
	struct sockaddr_storage a = s->laddr;
	if (a.ss_family == AF_INET)
		((struct sockaddr_in *)&a)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&a)->sin6_port = htons(port);
	int fd = socket(a.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, s->laddr_len) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static uint16_t media_local_port(int fd)
{
	struct sockaddr_storage a;
	socklen_t len = sizeof(a);
	if (getsockname(fd, (struct sockaddr *)&a, &len) != 0)
		return 0;
	return ntohs(a.ss_family == AF_INET ? ((struct sockaddr_in *)&a)->sin_port
					    : ((struct sockaddr_in6 *)&a)->sin6_port);
}

/* RTP on an even port, RTCP on the next one; else RTP alone. */
static void media_open_sockets(struct sim_media *m)
{
	for (int tries = 0; tries < 32; tries++) {
		int fd = media_bind(m->s, 0);
		if (fd < 0)
			return;
		uint16_t p = media_local_port(fd);
		int rtcp = p && p % 2 == 0 && p < 65535 ? media_bind(m->s, (uint16_t)(p + 1)) : -1;
		if (rtcp >= 0 || tries == 31) {
			m->fd = fd;
			m->rtcp_fd = rtcp;
			m->port = p;
			return;
		}
		close(fd);
	}
}

static void media_rtp_read(evutil_socket_t fd, short what, void *arg)
{
	struct sim_media *m = arg;
	char buf[2048];
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
		if (n < 0)
			return;
		if (m->s->role == SIM_ROLE_DEAD)
			continue;
		m->last = time(NULL);
		if (sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, flen) == n)
			m->s->stats.rtp_echoed++;
	}
}

/* RTCP reports are absorbed: echoing them would only confuse the sender. */
static void media_rtcp_read(evutil_socket_t fd, short what, void *arg)
{
	char buf[2048];
	for (int i = 0; i < 64; i++)
		if (recv(fd, buf, sizeof(buf), 0) < 0)
			return;
}

static void media_free(struct sim_media *m)
{
	if (m->ev)
		event_free(m->ev);
	if (m->rtcp_ev)
		event_free(m->rtcp_ev);
	if (m->fd >= 0)
		close(m->fd);
	if (m->rtcp_fd >= 0)
		close(m->rtcp_fd);
	m->s->media_count--;
	free(m->call_id);
	free(m);
}

static struct sim_media *media_new(struct sim *s, struct str call_id, bool uac)
{
	struct sim_media *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->s = s;
	m->uac = uac;
	m->fd = m->rtcp_fd = -1;
	s->media_count++;
	m->call_id = malloc(call_id.len + 1);
	if (m->call_id) {
		memcpy(m->call_id, call_id.p, call_id.len);
		m->call_id[call_id.len] = '\0';
		media_open_sockets(m);
	}
	if (m->fd >= 0)
		m->ev = event_new(s->base, m->fd, EV_READ | EV_PERSIST, media_rtp_read, m);
	if (m->rtcp_fd >= 0)
		m->rtcp_ev =
		    event_new(s->base, m->rtcp_fd, EV_READ | EV_PERSIST, media_rtcp_read, m);
	if (!m->ev || event_add(m->ev, NULL) != 0 || (m->rtcp_ev && event_add(m->rtcp_ev, NULL))) {
		LOG_WARN("sipsim_media", "error=no_socket call_id=%.*s", STR_FMT(call_id));
		media_free(m);
		return NULL;
	}
	LOG_INFO("sipsim_media", "open port=%u call_id=%.*s", m->port, STR_FMT(call_id));
	return m;
}

struct sim_media *sim_media_find(struct sim *s, struct str call_id, bool uac)
{
	if (!s->media)
		return NULL;
	for (struct sim_media *m = *media_bucket(s, call_id); m; m = m->next)
		if (m->uac == uac && str_eq(str_cstr(m->call_id), call_id))
			return m;
	return NULL;
}

struct sim_media *sim_media_get(struct sim *s, struct str call_id, bool uac)
{
	struct sim_media *m = sim_media_find(s, call_id, uac);
	if (m) {
		m->last = time(NULL);
		return m;
	}
	struct sim_media **b = media_bucket(s, call_id);
	if (!b)
		return NULL;
	m = media_new(s, call_id, uac);
	if (!m)
		return NULL;
	m->last = time(NULL);
	m->next = *b;
	*b = m;
	return m;
}

uint16_t sim_media_port(const struct sim_media *m)
{
	return m->port;
}

unsigned sim_media_next_version(struct sim_media *m)
{
	return ++m->version;
}

void sim_media_touch(struct sim_media *m)
{
	m->last = time(NULL);
}

void sim_media_close(struct sim *s, struct str call_id, bool uac)
{
	if (!s->media)
		return;
	for (struct sim_media **pp = media_bucket(s, call_id); *pp; pp = &(*pp)->next) {
		struct sim_media *m = *pp;
		if (m->uac == uac && str_eq(str_cstr(m->call_id), call_id)) {
			*pp = m->next;
			LOG_INFO("sipsim_media", "close port=%u call_id=%s", m->port, m->call_id);
			media_free(m);
			return;
		}
	}
}

void sim_media_sweep(struct sim *s, bool all)
{
	if (!s->media)
		return;
	time_t now = time(NULL);
	for (unsigned b = 0; b < MEDIA_BUCKETS; b++) {
		struct sim_media **pp = &s->media[b];
		while (*pp) {
			struct sim_media *m = *pp;
			/* The calls we place end by themselves (uac.c). */
			if (all || (!m->uac && now - m->last > (time_t)s->o.media_timeout)) {
				*pp = m->next;
				if (!all)
					LOG_INFO("sipsim_media", "timeout port=%u call_id=%s",
						 m->port, m->call_id);
				media_free(m);
			} else {
				pp = &m->next;
			}
		}
	}
	if (all) {
		free(s->media);
		s->media = NULL;
	}
}
