/* sipproxyctl.c — command-line client of the admin HTTP endpoint:
 *   sipproxyctl [-a HOST:PORT] health | metrics | registrations [AOR] | get PATH
 *               | nodes [--json] | node NAME out|in | reload | store | calls [CALL-ID]
 *               | cluster publish FILE
 * Prints the response body; exit 0 on 2xx, 1 on any other status, 2 when the
 * endpoint cannot be reached. A blocking HTTP/1.0 GET is enough: the endpoint
 * is local and answers with Content-Length or closes (RFC 9112 §6.3). */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CTL_DEFAULT_ADDR "127.0.0.1:8060"
#define CTL_TIMEOUT_MS	 10000
#define CTL_MAX_RESPONSE (64u << 20)
#define CTL_MAX_PUBLISH	 (1u << 20) /* the admin endpoint's body limit */

static void usage(FILE *out)
{
	fprintf(out, "usage: sipproxyctl [-a HOST:PORT] COMMAND\n"
		     "commands:\n"
		     "  health               GET /health\n"
		     "  metrics              GET /metrics (Prometheus text)\n"
		     "  registrations [AOR]  GET /registrations[?aor=AOR]\n"
		     "  get PATH             GET PATH\n"
		     "  nodes [--json]       GET /nodes: SIP Server nodes, member roles, probes\n"
		     "  node NAME out|in     take node NAME out of service / put it back\n"
		     "  reload               apply the changed cluster definition (as SIGHUP)\n"
		     "  store                GET /store: the registration store, Redis state\n"
		     "  calls [CALL-ID]      GET /calls[/CALL-ID]: the cluster's calls\n"
		     "  cluster publish FILE check a cluster definition and store it: every\n"
		     "                       proxy applies it (needs store.backend \"redis\")\n"
		     "HOST:PORT defaults to $SIPPROXY_ADMIN, else " CTL_DEFAULT_ADDR
		     " ([::1]:PORT for IPv6).\n");
}

/* "host:port" or "[v6]:port" into host and port strings. */
static int split_addr(const char *addr, char *host, size_t hcap, char *port, size_t pcap)
{
	const char *colon;
	if (addr[0] == '[') {
		const char *end = strchr(addr, ']');
		if (!end || end[1] != ':')
			return -1;
		snprintf(host, hcap, "%.*s", (int)(end - addr - 1), addr + 1);
		colon = end + 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon)
			return -1;
		snprintf(host, hcap, "%.*s", (int)(colon - addr), addr);
	}
	snprintf(port, pcap, "%s", colon + 1);
	return host[0] && port[0] ? 0 : -1;
}

static int connect_to(const char *addr)
{
	char host[256], port[16];
	if (split_addr(addr, host, sizeof(host), port, sizeof(port)) < 0) {
		fprintf(stderr, "sipproxyctl: bad address \"%s\" (want HOST:PORT)\n", addr);
		return -1;
	}
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		fprintf(stderr, "sipproxyctl: %s: %s\n", addr, gai_strerror(rc));
		return -1;
	}
	int fd = -1, err = 0;
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			err = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		fprintf(stderr, "sipproxyctl: cannot connect to %s: %s\n", addr, strerror(err));
	return fd;
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads until the server closes; *out is NUL-terminated. -1 on error or timeout. */
static int recv_all(int fd, char **out, size_t *out_len)
{
	size_t cap = 8192, len = 0;
	char *buf = malloc(cap);
	if (!buf)
		return -1;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int pr = poll(&p, 1, CTL_TIMEOUT_MS);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			break;
		if (len + 4096 + 1 > cap) {
			if (cap >= CTL_MAX_RESPONSE)
				break;
			char *nb = realloc(buf, cap * 2);
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		ssize_t n = recv(fd, buf + len, cap - len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (n == 0) {
			buf[len] = '\0';
			*out = buf;
			*out_len = len;
			return 0;
		}
		len += (size_t)n;
	}
	free(buf);
	return -1;
}

/* Percent-encodes a query value (RFC 3986 §2.1): unreserved characters stay. */
static void url_encode(const char *in, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (; *in && o + 4 < cap; in++) {
		unsigned char c = (unsigned char)*in;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

static int http_request_body(const char *addr, const char *method, const char *path,
			     const char *body_out, size_t body_len)
{
	int fd = connect_to(addr);
	if (fd < 0)
		return 2;
	char req[4096];
	int n = snprintf(req, sizeof(req),
			 "%s %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: sipproxyctl\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
			 method, path, addr, body_len);
	if (n < 0 || (size_t)n >= sizeof(req)) {
		fprintf(stderr, "sipproxyctl: path too long\n");
		close(fd);
		return 1;
	}
	char *resp = NULL;
	size_t len = 0;
	if (send_all(fd, req, (size_t)n) < 0 ||
	    (body_len && send_all(fd, body_out, body_len) < 0) || recv_all(fd, &resp, &len) < 0) {
		fprintf(stderr, "sipproxyctl: %s: no complete response\n", addr);
		close(fd);
		return 2;
	}
	close(fd);
	int status = 0;
	char *body = strstr(resp, "\r\n\r\n");
	if (sscanf(resp, "HTTP/%*d.%*d %d", &status) != 1 || !body) {
		fprintf(stderr, "sipproxyctl: %s: malformed HTTP response\n", addr);
		free(resp);
		return 1;
	}
	body += 4;
	fwrite(body, 1, len - (size_t)(body - resp), stdout);
	free(resp);
	if (status < 200 || status > 299) {
		fprintf(stderr, "sipproxyctl: %s %s: HTTP status %d\n", addr, path, status);
		return 1;
	}
	return 0;
}

static int http_request(const char *addr, const char *method, const char *path)
{
	return http_request_body(addr, method, path, NULL, 0);
}

/* POST /cluster with the file's text. */
static int publish_file(const char *addr, const char *file)
{
	FILE *f = fopen(file, "rb");
	if (!f) {
		fprintf(stderr, "sipproxyctl: %s: %s\n", file, strerror(errno));
		return 1;
	}
	char *buf = malloc(CTL_MAX_PUBLISH + 1);
	size_t n = buf ? fread(buf, 1, CTL_MAX_PUBLISH + 1, f) : 0;
	fclose(f);
	if (!buf || n > CTL_MAX_PUBLISH) {
		fprintf(stderr, "sipproxyctl: %s: larger than %u bytes\n", file, CTL_MAX_PUBLISH);
		free(buf);
		return 1;
	}
	int rc = http_request_body(addr, "POST", "/cluster", buf, n);
	free(buf);
	return rc;
}

int main(int argc, char **argv)
{
	const char *addr = getenv("SIPPROXY_ADMIN");
	if (!addr || !*addr)
		addr = CTL_DEFAULT_ADDR;
	int opt;
	while ((opt = getopt(argc, argv, "+a:h")) != -1) {
		switch (opt) {
		case 'a': addr = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 1;
	}
	const char *cmd = argv[optind];
	int rest = argc - optind - 1;
	char path[2048];
	if (strcmp(cmd, "health") == 0 && rest == 0) {
		snprintf(path, sizeof(path), "/health");
	} else if (strcmp(cmd, "metrics") == 0 && rest == 0) {
		snprintf(path, sizeof(path), "/metrics");
	} else if (strcmp(cmd, "registrations") == 0 && rest <= 1) {
		if (rest == 1) {
			char enc[1536];
			url_encode(argv[optind + 1], enc, sizeof(enc));
			snprintf(path, sizeof(path), "/registrations?aor=%s", enc);
		} else {
			snprintf(path, sizeof(path), "/registrations");
		}
	} else if (strcmp(cmd, "get") == 0 && rest == 1 && argv[optind + 1][0] == '/') {
		snprintf(path, sizeof(path), "%s", argv[optind + 1]);
	} else if (strcmp(cmd, "nodes") == 0 &&
		   (rest == 0 || (rest == 1 && strcmp(argv[optind + 1], "--json") == 0))) {
		snprintf(path, sizeof(path), "/nodes%s", rest ? "?format=json" : "");
	} else if (strcmp(cmd, "node") == 0 && rest == 2 &&
		   (strcmp(argv[optind + 2], "out") == 0 || strcmp(argv[optind + 2], "in") == 0)) {
		char enc[512];
		url_encode(argv[optind + 1], enc, sizeof(enc));
		snprintf(path, sizeof(path), "/nodes/%s/%s", enc, argv[optind + 2]);
		return http_request(addr, "POST", path);
	} else if (strcmp(cmd, "store") == 0 && rest == 0) {
		snprintf(path, sizeof(path), "/store");
	} else if (strcmp(cmd, "calls") == 0 && rest <= 1) {
		char enc[1536] = "";
		if (rest == 1)
			url_encode(argv[optind + 1], enc, sizeof(enc));
		snprintf(path, sizeof(path), "/calls%s%s", rest ? "/" : "", enc);
	} else if (strcmp(cmd, "cluster") == 0 && rest == 2 &&
		   strcmp(argv[optind + 1], "publish") == 0) {
		return publish_file(addr, argv[optind + 2]);
	} else if (strcmp(cmd, "reload") == 0 && rest == 0) {
		return http_request(addr, "POST", "/reload");
	} else {
		usage(stderr);
		return 1;
	}
	return http_request(addr, "GET", path);
}
