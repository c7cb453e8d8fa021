/* config_load.c — reads one libconfig file (or string) into a struct config:
 * starts from the embedded defaults, walks every setting so that unknown keys
 * are errors (typos must not silently fall back to a default), dispatches each
 * to the option table or a list loader, then checks this proxy against the
 * cluster definition (or adds it as the only proxy) and derives the
 * listeners. The cluster definition is usually its own file, @include'd.
 * Nothing is printed; errors go to err. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"

static const struct cfg_list *list_find(const char *key)
{
	for (size_t i = 0; i < cfg_lists_count; i++)
		if (strcmp(cfg_lists[i].key, key) == 0)
			return &cfg_lists[i];
	return NULL;
}

static bool has_prefix_dot(const char *key, const char *path)
{
	size_t n = strlen(path);
	return strncmp(key, path, n) == 0 && key[n] == '.';
}

/* A section is a group some key lives under ("sip" for "sip.t1"). */
static bool is_section(const char *path)
{
	for (size_t i = 0; i < cfg_options_count; i++)
		if (has_prefix_dot(cfg_options[i].key, path))
			return true;
	for (size_t i = 0; i < cfg_lists_count; i++)
		if (has_prefix_dot(cfg_lists[i].key, path))
			return true;
	return false;
}

static int unknown_key(const config_setting_t *s, const char *full, struct cfg_err *e)
{
	/* Candidates: every option, list and section name, as full paths. */
	const char *cands[128];
	char sections[16][32];
	size_t nc = 0, ns = 0;
	for (size_t i = 0; i < cfg_options_count && nc < 100; i++)
		cands[nc++] = cfg_options[i].key;
	for (size_t i = 0; i < cfg_lists_count && nc < 110; i++)
		cands[nc++] = cfg_lists[i].key;
	for (size_t i = 0; i < cfg_options_count && ns < 16; i++) {
		const char *dot = strchr(cfg_options[i].key, '.');
		if (!dot || (size_t)(dot - cfg_options[i].key) >= sizeof(sections[0]))
			continue;
		snprintf(sections[ns], sizeof(sections[0]), "%.*s", (int)(dot - cfg_options[i].key),
			 cfg_options[i].key);
		bool seen = false;
		for (size_t j = 0; j < ns; j++)
			seen = seen || strcmp(sections[j], sections[ns]) == 0;
		if (!seen)
			cands[nc++] = sections[ns++];
	}
	const char *hint = cfg_suggest(full, cands, nc);
	if (hint)
		return cfg_fail(e, s, full, "unknown option (did you mean \"%s\"?)", hint);
	return cfg_fail(e, s, full, "unknown option");
}

static int walk(const config_setting_t *group, const char *path, struct config *cfg,
		struct cfg_err *e)
{
	int n = config_setting_length(group);
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		char full[256];
		if (path[0])
			snprintf(full, sizeof(full), "%s.%s", path, config_setting_name(s));
		else
			snprintf(full, sizeof(full), "%s", config_setting_name(s));
		const struct cfg_option *o = cfg_option_find(cfg_options, cfg_options_count, full);
		const struct cfg_list *l;
		int rc;
		if (o)
			rc = cfg_option_set(o, s, cfg, full, e);
		else if ((l = list_find(full)))
			rc = l->load(l, s, cfg, e);
		else if (is_section(full))
			rc = config_setting_is_group(s)
				 ? walk(s, full, cfg, e)
				 : cfg_fail(e, s, full, "must be a group { ... }");
		else
			rc = unknown_key(s, full, e);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static bool same_ip(const char *a, const char *b)
{
	unsigned char x[16] = {0}, y[16] = {0};
	if (inet_pton(AF_INET, a, x) == 1 && inet_pton(AF_INET, b, y) == 1)
		return memcmp(x, y, 4) == 0;
	if (inet_pton(AF_INET6, a, x) == 1 && inet_pton(AF_INET6, b, y) == 1)
		return memcmp(x, y, 16) == 0;
	return strcmp(a, b) == 0;
}

/* proxy.sip-address:sip-port on each of proxy.transports comes first, then the
 * explicit proxy.listen entries (port 0 there means proxy.sip-port). */
static int derive_listeners(struct config *cfg, const config_t *cf, struct cfg_err *e)
{
	struct cfg_listen explicit[CFG_MAX_LISTEN];
	size_t n_explicit = cfg->n_listen;
	memcpy(explicit, cfg->listen, n_explicit * sizeof(explicit[0]));
	size_t n = 0;
	bool on[2] = {cfg->udp, cfg->tcp};
	enum tp_proto protos[2] = {TP_UDP, TP_TCP};
	for (int i = 0; i < 2; i++) {
		if (!on[i])
			continue;
		struct cfg_listen *l = &cfg->listen[n++];
		memset(l, 0, sizeof(*l));
		l->proto = protos[i];
		snprintf(l->address, sizeof(l->address), "%s", cfg->sip_address);
		l->port = cfg->sip_port;
	}
	for (size_t i = 0; i < n_explicit; i++) {
		struct cfg_listen *l = &cfg->listen[n];
		*l = explicit[i];
		if (l->port == 0)
			l->port = cfg->sip_port;
		for (size_t j = 0; j < n; j++) {
			const struct cfg_listen *o = &cfg->listen[j];
			if (o->proto == l->proto && o->port == l->port &&
			    same_ip(o->address, l->address)) {
				const config_setting_t *ls =
				    cf ? config_lookup(cf, "proxy.listen") : NULL;
				const config_setting_t *el =
				    ls ? config_setting_get_elem(ls, (unsigned)i) : NULL;
				char key[64];
				snprintf(key, sizeof(key), "proxy.listen[%zu]", i);
				return cfg_fail(
				    e, el ? el : ls, key, "duplicate listener %s %s port %u",
				    cfg_choice_name(cfg_transport_choices, (int)l->proto),
				    l->address, l->port);
			}
		}
		n++;
	}
	cfg->n_listen = n;
	return 0;
}

/* Seed/vendor: a proxy whose own name or address is not in the cluster's
 * list refuses to start. Its entry gives its address, port and data center,
 * so one definition serves every proxy; settings of its own must agree.
 * Without a list it is the cluster's only proxy. */
static const char *refusal(const struct cfg_err *e)
{
	return e->refusal ? e->refusal : "refusing to start";
}

static int check_self(struct config *cfg, const config_t *cf, struct cfg_err *e)
{
	const config_setting_t *list = cf ? config_lookup(cf, "cluster.proxies") : NULL;
	if (cfg->n_proxies == 0) {
		struct cfg_proxy *p = &cfg->proxies[cfg->n_proxies++];
		memset(p, 0, sizeof(*p));
		snprintf(p->name, sizeof(p->name), "%s", cfg->name);
		snprintf(p->sip_address, sizeof(p->sip_address), "%s", cfg->sip_address);
		p->sip_port = cfg->sip_port;
		snprintf(p->geo_location, sizeof(p->geo_location), "%s", cfg->geo_location);
		return 0;
	}
	const struct cfg_proxy *me = NULL;
	for (size_t i = 0; i < cfg->n_proxies && !me; i++)
		if (strcmp(cfg->proxies[i].name, cfg->name) == 0)
			me = &cfg->proxies[i];
	if (!me)
		return cfg_fail(e, list, "cluster.proxies",
				"this proxy \"%s\" is not in the cluster definition; %s", cfg->name,
				refusal(e));
	const config_setting_t *own = cf ? config_lookup(cf, "proxy.sip-address") : NULL;
	if (own) {
		/* A host name in the entry is what the others use to reach us; the
		 * address we listen on is proxy.sip-address (no DNS at load). */
		if (cfg_is_ip(me->sip_address) && !same_ip(cfg->sip_address, me->sip_address))
			return cfg_fail(
			    e, own, "proxy.sip-address",
			    "%s is not the address of \"%s\" in cluster.proxies (%s); %s",
			    cfg->sip_address, me->name, me->sip_address, refusal(e));
	} else {
		if (!cfg_is_ip(me->sip_address))
			return cfg_fail(e, list, "proxy.sip-address",
					"\"%s\" is a host name in cluster.proxies; set the "
					"numeric address to listen on",
					me->sip_address);
		snprintf(cfg->sip_address, sizeof(cfg->sip_address), "%s", me->sip_address);
	}
	const config_setting_t *port = cf ? config_lookup(cf, "proxy.sip-port") : NULL;
	if (port && cfg->sip_port != me->sip_port)
		return cfg_fail(e, port, "proxy.sip-port",
				"%u is not the port of \"%s\" in cluster.proxies (%u); %s",
				cfg->sip_port, me->name, me->sip_port, refusal(e));
	cfg->sip_port = me->sip_port;
	const config_setting_t *geo = cf ? config_lookup(cf, "proxy.geo-location") : NULL;
	if (geo && me->geo_location[0] && strcmp(cfg->geo_location, me->geo_location) != 0)
		return cfg_fail(e, geo, "proxy.geo-location",
				"\"%s\" differs from \"%s\"'s geo-location in cluster.proxies "
				"(\"%s\")",
				cfg->geo_location, me->name, me->geo_location);
	if (me->geo_location[0])
		snprintf(cfg->geo_location, sizeof(cfg->geo_location), "%s", me->geo_location);
	return 0;
}

/* The proxies tell each other apart in flow tokens by a hash of their names
 * (str_hash): two names with one hash would take each other's flows. And a
 * shared key too short to resist guessing is refused. */
static int check_peers(struct config *cfg, const config_t *cf, struct cfg_err *e)
{
	size_t slen = strlen(cfg->cluster_secret);
	if (slen && slen < 16)
		return cfg_fail(e, cf ? config_lookup(cf, "cluster.secret") : NULL,
				"cluster.secret", "%zu characters; at least 16", slen);
	for (size_t i = 0; i < cfg->n_proxies; i++)
		for (size_t k = 0; k < i; k++)
			if (str_hash(str_cstr(cfg->proxies[i].name)) ==
			    str_hash(str_cstr(cfg->proxies[k].name)))
				return cfg_fail(e, cf ? config_lookup(cf, "cluster.proxies") : NULL,
						"cluster.proxies",
						"\"%s\" and \"%s\" have the same hash; rename one",
						cfg->proxies[k].name, cfg->proxies[i].name);
	return 0;
}

bool cfg_codes_match(const struct cfg_codes *codes, int status)
{
	for (size_t i = 0; i < codes->n; i++)
		if (status >= codes->lo[i] && status <= codes->hi[i])
			return true;
	return false;
}

/* "200-299,405": codes and ranges within 100-699; a 503 may not count as
 * active (a backup or an overloaded server answers it). */
static int parse_codes(struct config *cfg, const config_t *cf, struct cfg_err *e)
{
	const char *key = "cluster.active-codes";
	const config_setting_t *s = cf ? config_lookup(cf, key) : NULL;
	struct cfg_codes *c = &cfg->active_codes;
	c->n = 0;
	const char *p = cfg->active_codes_text;
	while (*p) {
		char *end;
		long lo = strtol(p, &end, 10), hi = lo;
		if (end == p)
			return cfg_fail(e, s, key, "\"%s\": expected codes like 200-299,405",
					cfg->active_codes_text);
		p = end;
		if (*p == '-') {
			hi = strtol(p + 1, &end, 10);
			if (end == p + 1)
				return cfg_fail(e, s, key, "\"%s\": range without an end",
						cfg->active_codes_text);
			p = end;
		}
		if (lo < 100 || hi > 699 || lo > hi)
			return cfg_fail(e, s, key, "%ld-%ld is not a range of status codes", lo,
					hi);
		if (lo <= 503 && hi >= 503)
			return cfg_fail(e, s, key, "503 cannot mean active (a backup answers 503)");
		if (c->n == CFG_MAX_CODE_RANGES)
			return cfg_fail(e, s, key, "more than %d ranges", CFG_MAX_CODE_RANGES);
		c->lo[c->n] = (uint16_t)lo;
		c->hi[c->n++] = (uint16_t)hi;
		while (*p == ',' || *p == ' ')
			p++;
	}
	if (c->n == 0)
		return cfg_fail(e, s, key, "empty: no answer would mean active");
	return 0;
}

static int finish(struct config *cfg, const config_t *cf, struct cfg_err *e)
{
	/* RFC 3261 §17.1.2.2: intervals double from T1 up to T2, so T2 < T1 is nonsense. */
	if (cfg->t2_ms < cfg->t1_ms)
		return cfg_fail(e, cf ? config_lookup(cf, "sip.t2") : NULL, "sip.t2",
				"%u is less than sip.t1 (%u)", cfg->t2_ms, cfg->t1_ms);
	if (check_self(cfg, cf, e) < 0 || parse_codes(cfg, cf, e) < 0 ||
	    check_peers(cfg, cf, e) < 0)
		return -1;
	return derive_listeners(cfg, cf, e);
}

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->path, sizeof(cfg->path), "(embedded default)");
	for (size_t i = 0; i < cfg_options_count; i++)
		cfg_option_default(&cfg_options[i], cfg);
	/* One SIP Server node: the quick start's HA pair of simulators,
	 * primary 127.0.0.1:5090, backup 127.0.0.1:5092. */
	const struct cfg_list *servers = list_find("cluster.sip-servers");
	struct cfg_node *nd = &cfg->nodes[0];
	for (size_t i = 0; servers && i < servers->n_fields; i++)
		cfg_option_default(&servers->fields[i], nd);
	snprintf(nd->name, sizeof(nd->name), "sipserver-1");
	snprintf(nd->sip_address, sizeof(nd->sip_address), "127.0.0.1");
	nd->sip_port = 5090;
	snprintf(nd->backup_sip_address, sizeof(nd->backup_sip_address), "127.0.0.1");
	nd->backup_sip_port = 5092;
	nd->transport = TP_UDP;
	cfg->n_nodes = 1;
	char err[8];
	struct cfg_err e = {err, sizeof(err), NULL, NULL};
	(void)finish(cfg, NULL, &e); /* cannot fail on the defaults */
}

/* cf has been read (or failed to) from text; fills out on success. */
static int load_parsed(config_t *cf, int read_ok, const char *text, size_t text_len,
		       const char *name, const char *self, const char *refusal, struct config *out,
		       char *err, size_t errlen)
{
	if (!err)
		errlen = 0;
	struct cfg_err e = {err, errlen, name, refusal};
	if (errlen)
		err[0] = '\0';
	if (!read_ok) {
		if (config_error_type(cf) == CONFIG_ERR_FILE_IO)
			return cfg_fail(&e, NULL, "file", "cannot read: %s", strerror(errno));
		if (errlen)
			snprintf(err, errlen, "%s:%d: syntax: %s",
				 config_error_file(cf) ? config_error_file(cf) : name,
				 config_error_line(cf),
				 config_error_text(cf) ? config_error_text(cf) : "parse error");
		return -1;
	}
	if (text && cfg_scan_ints(text, text_len, &e) < 0)
		return -1;
	struct config *cfg = malloc(sizeof(*cfg));
	if (!cfg)
		return cfg_fail(&e, NULL, "file", "out of memory");
	config_defaults(cfg);
	/* Lists in the file replace the default ones. */
	cfg->n_listen = 0;
	if (config_lookup(cf, "cluster.sip-servers"))
		cfg->n_nodes = 0;
	cfg->n_proxies = 0;
	snprintf(cfg->path, sizeof(cfg->path), "%s", name);
	int rc = walk(config_root_setting(cf), "", cfg, &e);
	if (rc == 0 && self) {
		if (!self[0] || strlen(self) >= sizeof(cfg->name))
			rc = cfg_fail(&e, NULL, "--name", "\"%s\" is not a proxy name", self);
		else
			snprintf(cfg->name, sizeof(cfg->name), "%s", self);
	}
	if (rc == 0)
		rc = finish(cfg, cf, &e);
	if (rc == 0)
		*out = *cfg;
	free(cfg);
	return rc;
}

/* The whole file, for the integer pre-scan; NULL if unreadable or huge (then
 * libconfig reports the I/O error itself). */
static char *read_text(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	long size = -1;
	if (fseek(f, 0, SEEK_END) == 0)
		size = ftell(f);
	rewind(f);
	/* 4 MiB is far beyond any sane configuration. */
	char *buf = size >= 0 && size <= (4L << 20) ? malloc((size_t)size + 1) : NULL;
	size_t n = buf ? fread(buf, 1, (size_t)size, f) : 0;
	fclose(f);
	if (!buf)
		return NULL;
	buf[n] = '\0';
	*len = n;
	return buf;
}

int config_load(const char *path, struct config *cfg, char *err, size_t errlen)
{
	return config_load_as(path, NULL, cfg, err, errlen);
}

int config_load_as(const char *path, const char *name, struct config *cfg, char *err, size_t errlen)
{
	if (!path || !cfg) {
		if (err && errlen)
			snprintf(err, errlen, "-:0: file: no path given");
		return -1;
	}
	config_t cf;
	config_init(&cf);
	/* @include "cluster.conf" is relative to the including file. */
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		config_set_include_dir(&cf, dir[0] ? dir : "/");
	}
	errno = 0;
	int ok = config_read_file(&cf, path) == CONFIG_TRUE;
	int saved = errno;
	size_t len = 0;
	char *text = ok ? read_text(path, &len) : NULL;
	errno = saved;
	int rc = load_parsed(&cf, ok, text, len, path, name, NULL, cfg, err, errlen);
	free(text);
	config_destroy(&cf);
	return rc;
}

int config_load_string(const char *text, const char *name, struct config *cfg, char *err,
		       size_t errlen)
{
	if (!text || !cfg) {
		if (err && errlen)
			snprintf(err, errlen, "%s:0: file: no text given", name ? name : "-");
		return -1;
	}
	config_t cf;
	config_init(&cf);
	int ok = config_read_string(&cf, text) == CONFIG_TRUE;
	int rc = load_parsed(&cf, ok, text, strlen(text), name ? name : "(string)", NULL, NULL, cfg,
			     err, errlen);
	config_destroy(&cf);
	return rc;
}

/* The cluster's fields of src into dst: every "cluster." option (the table
 * knows where each lives), what is derived from them, and the lists. */
static void copy_cluster(struct config *dst, const struct config *src)
{
	for (size_t i = 0; i < cfg_options_count; i++) {
		const struct cfg_option *o = &cfg_options[i];
		if (strncmp(o->key, "cluster.", 8) == 0)
			memcpy((char *)dst + o->offset, (const char *)src + o->offset, o->size);
	}
	dst->active_codes = src->active_codes;
	memcpy(dst->proxies, src->proxies, sizeof(dst->proxies));
	dst->n_proxies = src->n_proxies;
	memcpy(dst->nodes, src->nodes, sizeof(dst->nodes));
	dst->n_nodes = src->n_nodes;
	memcpy(dst->sbcs, src->sbcs, sizeof(dst->sbcs));
	dst->n_sbcs = src->n_sbcs;
	snprintf(dst->geo_location, sizeof(dst->geo_location), "%s", src->geo_location);
}

int config_load_cluster(const char *text, const char *label, const struct config *base,
			struct config *out, char *err, size_t errlen)
{
	struct cfg_err e = {err, err ? errlen : 0, label, "not applied"};
	if (!text || !base || !out)
		return cfg_fail(&e, NULL, "cluster", "no definition given");
	config_t cf;
	config_init(&cf);
	int ok = config_read_string(&cf, text) == CONFIG_TRUE;
	int rc = 0;
	const config_setting_t *root = ok ? config_root_setting(&cf) : NULL;
	for (int i = 0; root && i < config_setting_length(root) && rc == 0; i++) {
		const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
		if (strcmp(config_setting_name(s), "cluster") != 0)
			rc = cfg_fail(&e, s, config_setting_name(s),
				      "a published definition holds the cluster group only");
	}
	if (rc == 0 && root && !config_lookup(&cf, "cluster"))
		rc = cfg_fail(&e, NULL, "cluster", "no cluster group");
	struct config *pub = rc == 0 ? malloc(sizeof(*pub)) : NULL;
	if (rc == 0 && !pub)
		rc = cfg_fail(&e, NULL, "file", "out of memory");
	if (rc == 0)
		rc = load_parsed(&cf, ok, text, strlen(text), label, base->name, "not applied", pub,
				 err, errlen);
	config_destroy(&cf);
	if (rc == 0 &&
	    (!same_ip(pub->sip_address, base->sip_address) || pub->sip_port != base->sip_port))
		rc = cfg_fail(&e, NULL, "cluster.proxies",
			      "\"%s\" would move to %s:%u (it runs on %s:%u): restart it for that",
			      base->name, pub->sip_address, pub->sip_port, base->sip_address,
			      base->sip_port);
	if (rc == 0) {
		*out = *base;
		copy_cluster(out, pub);
	}
	free(pub);
	return rc;
}
