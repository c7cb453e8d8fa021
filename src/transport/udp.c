/* udp.c — SIP over UDP (RFC 3261 §18.1.1, §18.2.1): non-blocking IPv4/IPv6
 * sockets, batched receive with recvmmsg into a per-tp ring of buffers, one
 * upward callback per datagram; STUN keep-alives (RFC 5626 §8) are split off
 * to stun.c first. Sends go out of the listener socket of the destination's
 * family so the source address is the one in our Via. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transport/stun.h"
#include "transport/transport_internal.h"
#include "util/log.h"

#define UDP_SOCKBUF		  (4 << 20)
#define UDP_MAX_BATCHES_PER_EVENT 8 /* fairness towards other sockets */

struct udp_rx {
	struct mmsghdr *msgs;
	struct iovec *iov;
	union tp_sockaddr *src;
};

static int udp_rx_init(struct tp *tp)
{
	if (tp->udp_msgs)
		return 0;
	size_t n = TP_UDP_BATCH;
	struct udp_rx *rx = calloc(1, sizeof(*rx));
	if (!rx)
		return -ENOMEM;
	rx->msgs = calloc(n, sizeof(*rx->msgs));
	rx->iov = calloc(n, sizeof(*rx->iov));
	rx->src = calloc(n, sizeof(*rx->src));
	tp->udp_ring = malloc(n * TP_UDP_SLOT);
	tp->udp_msgs = rx;
	if (!rx->msgs || !rx->iov || !rx->src || !tp->udp_ring) {
		tp_udp_fini(tp);
		return -ENOMEM;
	}
	return 0;
}

void tp_udp_fini(struct tp *tp)
{
	struct udp_rx *rx = tp->udp_msgs;
	if (rx) {
		free(rx->msgs);
		free(rx->iov);
		free(rx->src);
		free(rx);
	}
	free(tp->udp_ring);
	tp->udp_msgs = NULL;
	tp->udp_ring = NULL;
}

/* Reads up to udp_batch datagrams per syscall; each is handed up while the
 * ring slot still holds it, and the caller copies what it keeps. */
static void udp_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct tp_lis *l = arg;
	struct tp *tp = l->tp;
	struct udp_rx *rx = tp->udp_msgs;
	unsigned n = TP_UDP_BATCH;

	for (int round = 0; round < UDP_MAX_BATCHES_PER_EVENT; round++) {
		for (unsigned i = 0; i < n; i++) {
			rx->iov[i].iov_base = tp->udp_ring + (size_t)i * TP_UDP_SLOT;
			rx->iov[i].iov_len = TP_UDP_SLOT;
			memset(&rx->msgs[i].msg_hdr, 0, sizeof(rx->msgs[i].msg_hdr));
			rx->msgs[i].msg_hdr.msg_iov = &rx->iov[i];
			rx->msgs[i].msg_hdr.msg_iovlen = 1;
			rx->msgs[i].msg_hdr.msg_name = &rx->src[i];
			rx->msgs[i].msg_hdr.msg_namelen = sizeof(rx->src[i]);
		}
		int got = recvmmsg(fd, rx->msgs, n, MSG_DONTWAIT, NULL);
		if (got <= 0) {
			if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				LOG_WARN("udp_recv_error", "errno=%d", errno);
			return;
		}
		for (int i = 0; i < got; i++) {
			if (rx->msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
				continue;
			const char *buf = rx->iov[i].iov_base;
			size_t len = rx->msgs[i].msg_len;
			/* RFC 5626 §8: STUN shares the SIP port; it is answered or
			 * dropped here and never reaches the SIP layer. */
			if (tp_stun_shaped(buf, len)) {
				tp_stun_answer(tp, fd, buf, len, &rx->src[i]);
				continue;
			}
			tp->stats.udp_rx++;
			struct tp_packet pkt = {
			    .buf = buf,
			    .len = len,
			    .proto = TP_UDP,
			    .src = rx->src[i],
			    .listener = &l->pub,
			    .conn_id = 0,
			};
			if (pkt.len > 0 && tp->recv)
				tp->recv(tp->arg, &pkt);
		}
		if ((unsigned)got < n)
			return;
	}
}

static int udp_listen(struct tp *tp, struct tp_lis *l)
{
	int rc = udp_rx_init(tp);
	if (rc < 0)
		return rc;
	int fam = l->pub.local.sa.sa_family;
	int fd = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	l->pub.fd = fd;
	int one = 1, sz = UDP_SOCKBUF;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Large buffers absorb bursts; the kernel caps them at rmem_max silently. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	tp_socket_tos(tp, fd, fam);
	if (fam == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		return -errno;
	if (bind(fd, &l->pub.local.sa, tp_addr_len(&l->pub.local)) < 0)
		return -errno;
	l->ev = event_new(tp->base, fd, EV_READ | EV_PERSIST, udp_on_read, l);
	if (!l->ev || event_add(l->ev, NULL) < 0)
		return -ENOMEM;
	return 0;
}

/* A full socket buffer (EAGAIN) drops this datagram: it is counted as a send
 * error, and SIP's own retransmissions (RFC 3261 §17.1.1.2) recover it. */
static int64_t udp_send(struct tp *tp, const struct tp_dest *d, const char *buf, size_t len)
{
	int fam = d->addr.sa.sa_family;
	const struct tp_listener *l = NULL;
	for (size_t i = 0; i < tp->nlis; i++) {
		if (tp->lis[i].pub.proto == TP_UDP && tp->lis[i].pub.fd >= 0 &&
		    tp->lis[i].pub.local.sa.sa_family == fam) {
			l = &tp->lis[i].pub;
			break;
		}
	}
	if (!l)
		return -EAFNOSUPPORT;
	ssize_t n = sendto(l->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL, &d->addr.sa,
			   tp_addr_len(&d->addr));
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EMSGSIZE;
	tp->stats.udp_tx++;
	return 0;
}

const struct tp_proto_ops tp_udp_ops = {
    .listen = udp_listen,
    .send = udp_send,
    .destroy = NULL,
};
