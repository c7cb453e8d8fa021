/* cluster_test.h — helpers shared by the cluster's unit tests: a cluster
 * built from config text (no proxy: no probing, clock 0), requests to ask it
 * about, and its routing hooks (cluster_routing) called the way the proxy
 * calls them. State is driven through the hooks (server_result,
 * server_request, call_delta) or cluster_set_out. */
#ifndef SIPPROXY_TESTS_CLUSTER_TEST_H
#define SIPPROXY_TESTS_CLUSTER_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/cluster.h"
#include "sip/msg.h"
#include "util/log.h"

/* Big: one per test file, off the stack. */
static struct config ct_cfg;

/* cfg loaded from text, or the test fails with the loader's message. */
static inline void ct_config(const char *text, struct config *cfg)
{
	char err[512];
	if (config_load_string(text, "cluster-test.conf", cfg, err, sizeof(err)) != 0) {
		print_error("config: %s\n", err);
		fail();
	}
}

/* A cluster of text's definition, quiet below warnings. */
static inline struct cluster *ct_cluster(const char *text)
{
	log_set_level(LOG_LEVEL_WARN);
	ct_config(text, &ct_cfg);
	char err[256];
	struct cluster *c = cluster_new(&ct_cfg, err, sizeof(err));
	if (!c)
		print_error("cluster_new: %s\n", err);
	assert_non_null(c);
	return c;
}

static inline struct proxy_routing ct_hooks(struct cluster *c)
{
	struct proxy_routing r;
	memset(&r, 0, sizeof(r));
	cluster_routing(c, &r);
	return r;
}

/* A request from endpoint user "from" to to_uri with Call-ID call_id. */
static inline struct sip_msg *ct_request(const char *method, const char *from, const char *to_uri,
					 const char *call_id)
{
	static unsigned branch;
	char text[1024];
	snprintf(text, sizeof(text),
		 "%s sip:service@example.com SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK%u\r\n"
		 "Max-Forwards: 70\r\n"
		 "To: <%s>\r\nFrom: <sip:%s@example.com>;tag=1\r\nCall-ID: %s\r\n"
		 "CSeq: 1 %s\r\nContent-Length: 0\r\n\r\n",
		 method, ++branch, to_uri, from, call_id, method);
	struct sip_msg *m = sip_msg_new(text, strlen(text));
	assert_non_null(m);
	assert_int_equal(sip_msg_parse(m, NULL), 0);
	return m;
}

/* pick_server for req; in-dialog when node (name) or hop is given, a retry
 * when failed is. Returns the hook's answer, with *q filled. */
static inline int ct_pick_q(struct cluster *c, const struct sip_msg *req, const char *node,
			    const union tp_sockaddr *hop, const struct proxy_node_ref *failed,
			    struct proxy_pick *q)
{
	struct proxy_routing r = ct_hooks(c);
	memset(q, 0, sizeof(*q));
	q->req = req;
	q->node = node ? str_cstr(node) : STR_NULL;
	q->hop = hop;
	q->failed = failed;
	return r.pick_server(r.arg, q);
}

/* The node name a new request of method goes to ("" when none). */
static inline const char *ct_pick(struct cluster *c, const char *method, const char *from,
				  const char *call_id)
{
	static char name[CFG_NAME_MAX];
	struct sip_msg *m = ct_request(method, from, "sip:someone@example.com", call_id);
	struct proxy_pick q;
	name[0] = '\0';
	if (ct_pick_q(c, m, NULL, NULL, NULL, &q) == 0) {
		assert_true(q.out.id != 0);
		snprintf(name, sizeof(name), "%s", q.out.name);
	}
	sip_msg_free(m);
	return name;
}

/* The node a REGISTER of aor (its To) goes to ("" when none). */
static inline const char *ct_pick_register(struct cluster *c, const char *aor)
{
	static char name[CFG_NAME_MAX];
	struct sip_msg *m = ct_request("REGISTER", "someone", aor, "reg-call");
	struct proxy_pick q;
	name[0] = '\0';
	if (ct_pick_q(c, m, NULL, NULL, NULL, &q) == 0)
		snprintf(name, sizeof(name), "%s", q.out.name);
	sip_msg_free(m);
	return name;
}

/* node's handle and current target, as the proxy holds it for a request
 * sent there (an in-dialog pick by name). */
static inline struct proxy_node_ref ct_ref(struct cluster *c, const char *node)
{
	struct sip_msg *m = ct_request("INFO", "someone", "sip:someone@example.com", "ref-call");
	struct proxy_pick q;
	assert_int_equal(ct_pick_q(c, m, node, NULL, NULL, &q), 0);
	sip_msg_free(m);
	assert_string_equal(q.out.name, node);
	return q.out;
}

static inline union tp_sockaddr ct_addr(const char *ip, uint16_t port)
{
	union tp_sockaddr a;
	assert_int_equal(tp_addr_from_ip(str_cstr(ip), port, &a), 0);
	return a;
}

static inline bool ct_is_addr(const struct tp_dest *d, const char *ip, uint16_t port)
{
	union tp_sockaddr a = ct_addr(ip, port);
	return tp_addr_equal(&d->addr, &a);
}

/* A request arrived from ip:port (the server_request hook). */
static inline bool ct_request_from(struct cluster *c, const char *ip, uint16_t port,
				   struct proxy_node_ref *out)
{
	struct proxy_routing r = ct_hooks(c);
	struct tp_packet pkt;
	memset(&pkt, 0, sizeof(pkt));
	pkt.proto = TP_UDP;
	pkt.src = ct_addr(ip, port);
	struct sip_msg *m = ct_request("INVITE", "agent", "sip:caller@example.com", "from-server");
	bool known = r.server_request(r.arg, &pkt, m, out);
	sip_msg_free(m);
	return known;
}

/* Passive detection: the member ref names did what with a request. */
static inline void ct_result(struct cluster *c, const struct proxy_node_ref *ref,
			     enum proxy_server_outcome o)
{
	struct proxy_routing r = ct_hooks(c);
	r.server_result(r.arg, ref, o);
}

/* node's view (/nodes), or the test fails. */
static inline struct cluster_node_view ct_view(struct cluster *c, const char *node)
{
	struct cluster_node_view *v = calloc(CFG_MAX_NODES, sizeof(*v));
	assert_non_null(v);
	size_t n = cluster_view(c, v, CFG_MAX_NODES);
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, node) == 0) {
			struct cluster_node_view one = v[i];
			free(v);
			return one;
		}
	free(v);
	print_error("no node %s in the view\n", node);
	fail();
	struct cluster_node_view none;
	memset(&none, 0, sizeof(none));
	return none;
}

/* Three nodes of this proxy's data center (a and b HA pairs, c alone). */
#define CT_THREE_NODES                                                                             \
	"  sip-servers = (\n"                                                                      \
	"    { name = \"a\"; sip-address = \"127.0.0.11\"; sip-port = 5090;\n"                     \
	"      backup-sip-address = \"127.0.0.21\"; },\n"                                          \
	"    { name = \"b\"; sip-address = \"127.0.0.12\"; sip-port = 5090;\n"                     \
	"      backup-sip-address = \"127.0.0.22\"; },\n"                                          \
	"    { name = \"c\"; sip-address = \"127.0.0.13\"; sip-port = 5090; } );\n"

static inline struct cluster *ct_three_nodes(const char *balance)
{
	char text[2048];
	snprintf(text, sizeof(text),
		 "proxy = { geo-location = \"dc1\"; };\n"
		 "cluster = { balance = \"%s\";\n" CT_THREE_NODES "};\n",
		 balance);
	return ct_cluster(text);
}

/* "a".. "f" as 0..5 (the tests' node names). */
static inline int ct_node_index(const char *name)
{
	assert_int_equal(strlen(name), 1);
	assert_true(name[0] >= 'a' && name[0] <= 'f');
	return name[0] - 'a';
}

#endif
