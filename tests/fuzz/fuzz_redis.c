/* fuzz_redis.c — libFuzzer target for the other receive path: what Redis (or
 * anything that answers on its port) sends the proxy. A real store_redis
 * connects to a Unix socket this harness listens on; the harness answers
 * each connection's first command (ROLE) as a master would, then writes
 * the input's bytes: the first byte splits the rest between the command
 * connection (SCRIPT LOAD, XINFO, SCAN/HGETALL of the full load, the write
 * script's answers) and the log connection (XREAD). The store meanwhile
 * saves and removes a few bindings of its own, so write answers meet queued
 * writes. The proxy must neither crash nor leak (ASan/UBSan/LSan), whatever
 * arrives: garbage, errors, replies nobody asked for, huge lengths, a
 * connection closed half-way. Seeds: make_redis_seeds.py (conversations a
 * real Redis 7 would have). */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "store/store.h"

static char sock_path[108];
static int listen_fd = -1;

static void cleanup_socket(void)
{
	if (sock_path[0])
		unlink(sock_path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	signal(SIGPIPE,
	       SIG_IGN); /* as sipproxy's main does: a closed peer is an error, not a death */
	snprintf(sock_path, sizeof(sock_path), "/tmp/fuzz_redis.%d.sock", (int)getpid());
	unlink(sock_path);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	memcpy(a.sun_path, sock_path, strlen(sock_path) + 1);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(listen_fd, 16) < 0) {
		perror("fuzz_redis: listen");
		abort();
	}
	atexit(cleanup_socket);
	return 0;
}

static void drain(int fd)
{
	char buf[65536];
	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static void put(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			return; /* the proxy closed it: fine */
		p += w;
		n -= (size_t)w;
	}
}

static struct store_binding binding(const char *aor, const char *contact, uint32_t cseq)
{
	struct store_binding b = {
	    .aor = str_cstr(aor),
	    .contact = str_cstr(contact),
	    .call_id = STR_LIT("fz-call"),
	    .cseq = cseq,
	    .q = 1000,
	    .expires_at = 4102444800000LL, /* 2100 */
	    .proto = TP_UDP,
	    .owner = STR_LIT("fz"),
	};
	b.source.in4.sin_family = AF_INET;
	b.source.in4.sin_port = htons(5060);
	inet_pton(AF_INET, "127.0.0.2", &b.source.in4.sin_addr);
	return b;
}

static void spin(struct event_base *base, int rounds)
{
	for (int i = 0; i < rounds; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t split = 1 + (size_t)data[0] * (size - 1) / 255;
	struct event_base *base = event_base_new();
	char addr[128], err[256];
	snprintf(addr, sizeof(addr), "unix:%s", sock_path);
	struct store_redis_config cfg = {
	    .address = addr,
	    .prefix = "sp",
	    .partitions = 2,
	    .log_length = 100,
	    .queue_max = 64,
	    .timeout_ms = 100,
	    .owner = "fz",
	};
	struct store *s = store_redis_new(base, &cfg, err, sizeof(err));
	if (!s)
		abort();
	store_redis_start(s);
	struct store_binding b1 = binding("sip:a@example.com", "sip:a@127.0.0.2:5060", 1);
	struct store_binding b2 = binding("sip:b@example.com", "sip:b@127.0.0.2:5062", 1);
	store_save(s, &b1);
	store_save(s, &b2);
	/* The link opens the command connection, then the log's. */
	int fds[2] = {-1, -1};
	for (int round = 0; round < 200 && (fds[0] < 0 || fds[1] < 0); round++) {
		spin(base, 1);
		int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0)
			fds[fds[0] < 0 ? 0 : 1] = fd;
	}
	static const char role[] = "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n";
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			put(fds[i], (const uint8_t *)role, sizeof(role) - 1);
	spin(base, 4);
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			drain(fds[i]);
	if (fds[0] >= 0)
		put(fds[0], data + 1, split - 1);
	if (fds[1] >= 0)
		put(fds[1], data + split, size - split);
	for (int round = 0; round < 8; round++) {
		spin(base, 2);
		for (int i = 0; i < 2; i++)
			if (fds[i] >= 0)
				drain(fds[i]);
		if (round == 3) {
			/* a change of our own while the answers are being read */
			b1.cseq = 2;
			store_save(s, &b1);
			store_remove(s, &b2);
		}
	}
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	spin(base, 4);
	store_free(s);
	event_base_free(base);
	/* A connection the link opened after the others closed (a retry). */
	int fd;
	while ((fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK)) >= 0)
		close(fd);
	return 0;
}
