/* test_config_identity.c — which proxy this is (config_load_as, sipproxy
 * --name): when the definition lists cluster.proxies this proxy must be in
 * it, or it refuses to start, naming the list's file and line; its entry
 * gives its address, port and geo-location, and settings of its own that
 * disagree are errors; without the list it is the only proxy. And the
 * cluster definition in its own file, @include'd relative to the including
 * file, with errors naming the included file and its line. Files are
 * written in a mkdtemp directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"

static struct config cfg_buf; /* big; keep it off the test stack */
static char err[1024];

struct dir {
	char path[64];
	char files[4][128];
	size_t n;
};

static int setup(void **state)
{
	static struct dir d;
	memset(&d, 0, sizeof(d));
	snprintf(d.path, sizeof(d.path), "/tmp/sipproxy-cfgid-XXXXXX");
	assert_non_null(mkdtemp(d.path));
	*state = &d;
	return 0;
}

static int teardown(void **state)
{
	struct dir *d = *state;
	for (size_t i = 0; i < d->n; i++)
		unlink(d->files[i]);
	rmdir(d->path);
	return 0;
}

/* Writes name in the directory; returns its path (valid until teardown). */
static const char *put(struct dir *d, const char *name, const char *text)
{
	assert_true(d->n < 4);
	char *path = d->files[d->n++];
	char dir[sizeof(d->path)];
	memcpy(dir, d->path, sizeof(dir));
	snprintf(path, sizeof(d->files[0]), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	fclose(f);
	return path;
}

/* Loads path as name, expects failure with exactly want. */
static void expect_error_want(const char *path, const char *name, const char *want)
{
	int rc = config_load_as(path, name, &cfg_buf, err, sizeof(err));
	if (rc == 0 || strcmp(err, want) != 0)
		print_error("rc=%d\n got: %s\nwant: %s\n", rc, err, want);
	assert_int_equal(rc, -1);
	assert_string_equal(err, want);
}

/* The same for "<file>:<rest>", file being the directory's file of that
 * name (as the proxy was given it). */
static void expect_error_as(struct dir *d, const char *path, const char *name, const char *file,
			    const char *rest)
{
	char want[1024];
	snprintf(want, sizeof(want), "%s/%s:%s", d->path, file, rest);
	expect_error_want(path, name, want);
}

static void load_as_ok(const char *path, const char *name)
{
	int rc = config_load_as(path, name, &cfg_buf, err, sizeof(err));
	if (rc)
		print_error("%s\n", err);
	assert_int_equal(rc, 0);
}

/* The cluster definition every proxy shares. */
static const char *cluster_conf =
    "# the cluster\n"
    "cluster = {\n"
    "  proxies = (\n"
    "    { name = \"p1\"; sip-address = \"10.0.0.1\"; sip-port = 5060; geo-location = \"dc1\"; },\n"
    "    { name = \"p2\"; sip-address = \"10.0.0.2\"; sip-port = 5070; geo-location = \"dc2\"; },\n"
    "    { name = \"p3\"; sip-address = \"fd00::3\"; },\n"
    "    { name = \"p4\"; sip-address = \"p4.example.com\"; } );\n"
    "  sip-servers = (\n"
    "    { name = \"s1\"; sip-address = \"10.0.1.1\"; backup-sip-address = \"10.0.1.2\";\n"
    "      oos-check = 5; oos-force = 2; } );\n"
    "};\n";

/* Seed/vendor: a proxy not in the cluster definition refuses to start. */
static void test_not_in_definition_refused(void **state)
{
	struct dir *d = *state;
	const char *path = put(d, "sipproxy.conf", cluster_conf);
	expect_error_as(d, path, "p9", "sipproxy.conf",
			"3: cluster.proxies: this proxy \"p9\" is not in the cluster definition; "
			"refusing to start");
	/* proxy.name of the file counts the same when --name is not given. */
	path = put(d, "named.conf", "proxy = { name = \"nobody\"; };\n");
	FILE *f = fopen(path, "a");
	assert_non_null(f);
	fputs(cluster_conf, f);
	fclose(f);
	expect_error_as(d, path, NULL, "named.conf",
			"4: cluster.proxies: this proxy \"nobody\" is not in the cluster "
			"definition; refusing to start");
	/* The default name is no exception. */
	expect_error_as(d, put(d, "default.conf", cluster_conf), NULL, "default.conf",
			"3: cluster.proxies: this proxy \"sipproxy-1\" is not in the cluster "
			"definition; refusing to start");
}

/* Its entry gives its address, port and data center; so the listeners. */
static void test_identity_from_entry(void **state)
{
	struct dir *d = *state;
	const char *path = put(d, "sipproxy.conf", cluster_conf);
	load_as_ok(path, "p2");
	struct config *c = &cfg_buf;
	assert_string_equal(c->name, "p2");
	assert_string_equal(c->sip_address, "10.0.0.2");
	assert_int_equal(c->sip_port, 5070);
	assert_string_equal(c->geo_location, "dc2");
	assert_int_equal(c->n_proxies, 4); /* not added a second time */
	assert_int_equal(c->n_listen, 2);
	assert_string_equal(c->listen[0].address, "10.0.0.2");
	assert_int_equal(c->listen[0].port, 5070);
	assert_string_equal(c->path, path);
	/* An entry without port or data center: 5060, none. */
	load_as_ok(path, "p3");
	assert_string_equal(c->sip_address, "fd00::3");
	assert_int_equal(c->sip_port, 5060);
	assert_string_equal(c->geo_location, "");
	/* --name wins over proxy.name. */
	path = put(d, "named.conf", "proxy = { name = \"p2\"; };\n");
	FILE *f = fopen(path, "a");
	assert_non_null(f);
	fputs(cluster_conf, f);
	fclose(f);
	load_as_ok(path, "p1");
	assert_string_equal(c->name, "p1");
	assert_string_equal(c->sip_address, "10.0.0.1");
}

/* Settings of its own must agree with its entry (the same address spelled
 * otherwise does). */
static void test_conflicting_settings_refused(void **state)
{
	struct dir *d = *state;
	char text[2048];
	snprintf(text, sizeof(text), "proxy = {\n  sip-address = \"10.0.0.9\";\n};\n%s",
		 cluster_conf);
	const char *path = put(d, "addr.conf", text);
	expect_error_as(d, path, "p1", "addr.conf",
			"2: proxy.sip-address: 10.0.0.9 is not the address of \"p1\" in "
			"cluster.proxies (10.0.0.1); refusing to start");
	snprintf(text, sizeof(text),
		 "proxy = {\n  sip-address = \"fd00:0::3\";\n  sip-port = 5061;\n};\n%s",
		 cluster_conf);
	path = put(d, "port.conf", text);
	expect_error_as(d, path, "p3", "port.conf",
			"3: proxy.sip-port: 5061 is not the port of \"p3\" in cluster.proxies "
			"(5060); refusing to start");
	snprintf(text, sizeof(text), "proxy = {\n  geo-location = \"dc2\";\n};\n%s", cluster_conf);
	path = put(d, "geo.conf", text);
	expect_error_as(d, path, "p1", "geo.conf",
			"2: proxy.geo-location: \"dc2\" differs from \"p1\"'s geo-location in "
			"cluster.proxies (\"dc1\")");
	/* Agreeing settings are fine; a geo-location the entry lacks is kept. */
	load_as_ok(path, "p2");
	load_as_ok(path, "p3");
	assert_string_equal(cfg_buf.geo_location, "dc2");
}

/* An entry with a host name: the proxy cannot listen on a name, so it needs
 * proxy.sip-address, the numeric address to listen on. */
static void test_hostname_entry(void **state)
{
	struct dir *d = *state;
	const char *path = put(d, "sipproxy.conf", cluster_conf);
	expect_error_as(d, path, "p4", "sipproxy.conf",
			"3: proxy.sip-address: \"p4.example.com\" is a host name in "
			"cluster.proxies; set the numeric address to listen on");
	char text[2048];
	snprintf(text, sizeof(text), "proxy = { sip-address = \"10.0.0.4\"; };\n%s", cluster_conf);
	load_as_ok(put(d, "numeric.conf", text), "p4");
	assert_string_equal(cfg_buf.sip_address, "10.0.0.4");
	assert_string_equal(cfg_buf.listen[0].address, "10.0.0.4");
}

/* Without cluster.proxies this proxy is the only one. */
static void test_no_proxies_list(void **state)
{
	struct dir *d = *state;
	const char *path = put(d, "alone.conf",
			       "proxy = { name = \"me\"; sip-address = \"10.0.0.1\"; sip-port = "
			       "5070;\n  geo-location = \"dc2\"; };\n");
	load_as_ok(path, NULL);
	assert_int_equal(cfg_buf.n_proxies, 1);
	assert_string_equal(cfg_buf.proxies[0].name, "me");
	assert_string_equal(cfg_buf.proxies[0].sip_address, "10.0.0.1");
	assert_int_equal(cfg_buf.proxies[0].sip_port, 5070);
	assert_string_equal(cfg_buf.proxies[0].geo_location, "dc2");
	load_as_ok(path, "other");
	assert_string_equal(cfg_buf.name, "other");
	assert_string_equal(cfg_buf.proxies[0].name, "other");
	/* A name that is no name. */
	char want[256];
	snprintf(want, sizeof(want), "%s:0: --name: \"\" is not a proxy name", path);
	assert_int_equal(config_load_as(path, "", &cfg_buf, err, sizeof(err)), -1);
	assert_string_equal(err, want);
	char longname[100];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(config_load_as(path, longname, &cfg_buf, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ": --name: "));
}

/* The cluster definition in its own file: @include is relative to the
 * including file (not the working directory). */
static void test_include_cluster_file(void **state)
{
	struct dir *d = *state;
	put(d, "cluster.conf", cluster_conf);
	const char *path = put(d, "sipproxy.conf",
			       "proxy = { name = \"p2\"; };\n"
			       "@include \"cluster.conf\"\n"
			       "sip = { t1 = 400; };\n");
	char cwd[1024];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir("/"), 0);
	int rc = config_load(path, &cfg_buf, err, sizeof(err));
	assert_int_equal(chdir(cwd), 0);
	if (rc)
		print_error("%s\n", err);
	assert_int_equal(rc, 0);
	assert_int_equal(cfg_buf.n_proxies, 4);
	assert_int_equal(cfg_buf.n_nodes, 1);
	assert_string_equal(cfg_buf.nodes[0].backup_sip_address, "10.0.1.2");
	assert_int_equal(cfg_buf.nodes[0].oos_force, 2);
	assert_string_equal(cfg_buf.sip_address, "10.0.0.2");
	assert_int_equal(cfg_buf.t1_ms, 400);
	/* Not in the included definition: the included file (named as the
	 * @include names it) and its line. */
	expect_error_want(
	    path, "p7",
	    "cluster.conf:3: cluster.proxies: this proxy \"p7\" is not in the cluster "
	    "definition; refusing to start");
}

/* An error inside the included file names that file and its line. */
static void test_include_error_names_included_file(void **state)
{
	struct dir *d = *state;
	put(d, "cluster.conf",
	    "cluster = {\n"
	    "  sip-servers = (\n"
	    "    { name = \"s1\"; sip-address = \"10.0.1.1\";\n"
	    "      oos-check = 400; } );\n"
	    "};\n");
	const char *path = put(d, "sipproxy.conf",
			       "# main file\n"
			       "proxy = { name = \"p1\"; };\n"
			       "@include \"cluster.conf\"\n");
	expect_error_want(path, NULL,
			  "cluster.conf:4: cluster.sip-servers[0].oos-check: 400 is out of range "
			  "(0..300)");
	/* A syntax error there too. */
	put(d, "broken.conf", "cluster = {\n  balance = ;\n};\n");
	path = put(d, "main2.conf", "proxy = { name = \"p1\"; };\n@include \"broken.conf\"\n");
	expect_error_want(path, NULL, "broken.conf:2: syntax: syntax error");
}

/* An include that is not there: an error at the @include line. */
static void test_include_missing(void **state)
{
	struct dir *d = *state;
	const char *path = put(d, "sipproxy.conf", "# main\n@include \"nowhere.conf\"\n");
	expect_error_as(d, path, NULL, "sipproxy.conf", "2: syntax: cannot open include file");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_not_in_definition_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_identity_from_entry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_conflicting_settings_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostname_entry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_proxies_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_include_cluster_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_include_error_names_included_file, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_include_missing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
