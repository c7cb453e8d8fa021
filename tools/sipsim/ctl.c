/* ctl.c — `sipsim ctl HOST:PORT COMMAND...`: the control socket's client, so
 * that shell tests need no netcat. Sends the words as one datagram, waits up to
 * 2 s for the one-line reply, prints it; exits 0 on "ok ...", 1 on any other
 * reply or none, 2 on bad usage. Grammar: control.c. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sipsim.h"

#define CTL_WAIT_MS 2000

int sim_ctl_main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: sipsim ctl HOST:PORT COMMAND...  (role active|backup|dead, "
				"call AOR [...], stats, reset)\n");
		return 2;
	}
	struct sockaddr_storage to;
	socklen_t tlen;
	if (sim_addr_parse(argv[0], &to, &tlen) != 0) {
		fprintf(stderr, "sipsim ctl: bad address %s\n", argv[0]);
		return 2;
	}
	char cmd[1024];
	size_t n = 0;
	for (int i = 1; i < argc; i++) {
		int w = snprintf(cmd + n, sizeof(cmd) - n, "%s%s", i > 1 ? " " : "", argv[i]);
		if (w < 0 || (size_t)w >= sizeof(cmd) - n) {
			fprintf(stderr, "sipsim ctl: command too long\n");
			return 2;
		}
		n += (size_t)w;
	}
	int fd = socket(to.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	/* Connected: only the control socket's answer is read (and a refusal
	 * shows as ECONNREFUSED). */
	if (fd < 0 || connect(fd, (struct sockaddr *)&to, tlen) != 0 || send(fd, cmd, n, 0) < 0) {
		fprintf(stderr, "sipsim ctl: send to %s: %s\n", argv[0], strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char reply[2048];
	ssize_t r = -1;
	int rc = poll(&p, 1, CTL_WAIT_MS);
	if (rc > 0)
		r = recv(fd, reply, sizeof(reply) - 1, 0);
	int err = errno;
	close(fd);
	if (rc == 0) {
		fprintf(stderr, "sipsim ctl: no reply from %s within %d ms\n", argv[0],
			CTL_WAIT_MS);
		return 1;
	}
	if (r < 0) {
		fprintf(stderr, "sipsim ctl: %s: %s\n", argv[0], strerror(err));
		return 1;
	}
	reply[r] = '\0';
	reply[strcspn(reply, "\r\n")] = '\0';
	printf("%s\n", reply);
	return strncmp(reply, "ok", 2) == 0 && (reply[2] == ' ' || reply[2] == '\0') ? 0 : 1;
}
