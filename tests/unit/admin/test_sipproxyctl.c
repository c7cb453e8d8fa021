/* test_sipproxyctl.c — the sipproxyctl client against a real admin endpoint on
 * 127.0.0.1 (port 0: the kernel picks, admin_port reads it back): its output
 * and its exit codes (0 on 2xx, 1 on another status, 2 when it cannot
 * connect). The tool's source is compiled in and run in a forked child while
 * the parent serves the event loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "admin/admin.h"

int sipproxyctl_main(int argc, char **argv);
#define main sipproxyctl_main
#include "../../../tools/sipproxyctl/sipproxyctl.c"
#undef main

#define CTL_DEAD_ADDR "127.0.0.1:15512" /* nothing listens here */

static void fake_proxy_stats(void *arg, struct proxy_stats *out)
{
	(void)arg;
	memset(out, 0, sizeof(*out));
	out->req_in[SIP_METHOD_OPTIONS] = 21;
}

static int page_regs(void *arg, const char *path, const char *query, struct evbuffer *out,
		     const char **content_type)
{
	evbuffer_add_printf(out, "query=%s\n", query ? query : "(none)");
	return 200;
}

struct fixture {
	struct event_base *base;
	struct admin *admin;
	char addr[32]; /* "127.0.0.1:PORT" of the admin endpoint */
	char out[65536];
	int rc;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->base = event_base_new();
	struct admin_sources src = {.proxy_stats = fake_proxy_stats, .name = "ctl-test"};
	f->admin = admin_new(f->base, "127.0.0.1", 0, &src);
	assert_non_null(f->admin);
	snprintf(f->addr, sizeof(f->addr), "127.0.0.1:%u", admin_port(f->admin));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	admin_free(f->admin);
	event_base_free(f->base);
	free(f);
	return 0;
}

/* Runs sipproxyctl with args in a child (stdout to a temp file) while this
 * process serves the admin endpoint; collects exit code and output. */
static void run_ctl(struct fixture *f, int argc, const char **args)
{
	char path[] = "/tmp/sipproxyctl-test-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	fflush(stdout);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fd, STDOUT_FILENO);
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0)
			dup2(devnull, STDERR_FILENO);
		char *argv[8] = {"sipproxyctl"};
		for (int i = 0; i < argc && i < 6; i++)
			argv[i + 1] = (char *)args[i];
		optind = 1;
		int rc = sipproxyctl_main(argc + 1, argv);
		fflush(stdout);
		_exit(rc);
	}
	int status = 0;
	/* Iteration cap only guards against a hang; it is not a timing check. */
	for (int i = 0; i < 100000; i++) {
		event_base_loop(f->base, EVLOOP_NONBLOCK);
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		usleep(1000);
	}
	assert_true(WIFEXITED(status));
	f->rc = WEXITSTATUS(status);
	ssize_t n = pread(fd, f->out, sizeof(f->out) - 1, 0);
	f->out[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
}

static void test_ctl_health(void **state)
{
	struct fixture *f = *state;
	const char *args[] = {"-a", f->addr, "health"};
	run_ctl(f, 3, args);
	assert_int_equal(f->rc, 0);
	assert_true(strncmp(f->out, "{\"status\":\"ok\",\"name\":\"ctl-test\",\"uptime_s\":", 44) ==
		    0);
}

static void test_ctl_health_draining_exit_1(void **state)
{
	struct fixture *f = *state;
	admin_set_draining(f->admin, true);
	const char *args[] = {"-a", f->addr, "health"};
	run_ctl(f, 3, args);
	assert_int_equal(f->rc, 1); /* 503 is not 2xx */
	assert_non_null(strstr(f->out, "\"status\":\"draining\""));
}

static void test_ctl_metrics(void **state)
{
	struct fixture *f = *state;
	const char *args[] = {"-a", f->addr, "metrics"};
	run_ctl(f, 3, args);
	assert_int_equal(f->rc, 0);
	assert_non_null(
	    strstr(f->out, "\nsipproxy_sip_requests_in_total{method=\"OPTIONS\"} 21\n"));
}

static void test_ctl_registrations(void **state)
{
	struct fixture *f = *state;
	const char *args[] = {"-a", f->addr, "registrations", "sip:bob@example.com"};
	run_ctl(f, 4, args);
	assert_int_equal(f->rc, 1); /* no /registrations page yet: 404 */
	assert_int_equal(admin_route_add(f->admin, "/registrations", page_regs, NULL), 0);
	run_ctl(f, 4, args);
	assert_int_equal(f->rc, 0);
	/* RFC 3986 §2.1: the AOR travels percent-encoded. */
	assert_string_equal(f->out, "query=aor=sip%3Abob%40example.com\n");
}

static void test_ctl_get_404_exit_1(void **state)
{
	struct fixture *f = *state;
	const char *args[] = {"-a", f->addr, "get", "/nope"};
	run_ctl(f, 4, args);
	assert_int_equal(f->rc, 1);
}

static void test_ctl_unreachable_exit_2(void **state)
{
	struct fixture *f = *state;
	const char *args[] = {"-a", CTL_DEAD_ADDR, "health"};
	run_ctl(f, 3, args);
	assert_int_equal(f->rc, 2);
	assert_string_equal(f->out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_ctl_health, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ctl_health_draining_exit_1, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ctl_metrics, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ctl_registrations, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ctl_get_404_exit_1, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ctl_unreachable_exit_2, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
