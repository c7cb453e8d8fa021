/* config_load.c — reads one libconfig file (or string) into a struct config:
 * starts from the embedded defaults, walks every setting so that unknown keys
 * are errors (typos must not silently fall back to a default), dispatches each
 * to the option table or a list loader, then derives the listeners and adds
 * this proxy to the cluster list. Nothing is printed; errors go to err. */
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

/* Seed: this proxy must be one of cluster.proxies; if the file leaves it out,
 * it is added with its own address rather than refused. */
static int add_self(struct config *cfg, const config_t *cf, struct cfg_err *e)
{
	for (size_t i = 0; i < cfg->n_proxies; i++)
		if (strcmp(cfg->proxies[i].name, cfg->name) == 0)
			return 0;
	if (cfg->n_proxies >= CFG_MAX_PROXIES)
		return cfg_fail(e, cf ? config_lookup(cf, "cluster.proxies") : NULL,
				"cluster.proxies", "full, cannot add proxy.name \"%s\"", cfg->name);
	struct cfg_proxy *p = &cfg->proxies[cfg->n_proxies++];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", cfg->name);
	snprintf(p->sip_address, sizeof(p->sip_address), "%s", cfg->sip_address);
	p->sip_port = cfg->sip_port;
	snprintf(p->geo_location, sizeof(p->geo_location), "%s", cfg->geo_location);
	return 0;
}

static int finish(struct config *cfg, const config_t *cf, struct cfg_err *e)
{
	/* RFC 3261 §17.1.2.2: intervals double from T1 up to T2, so T2 < T1 is nonsense. */
	if (cfg->t2_ms < cfg->t1_ms)
		return cfg_fail(e, cf ? config_lookup(cf, "sip.t2") : NULL, "sip.t2",
				"%u is less than sip.t1 (%u)", cfg->t2_ms, cfg->t1_ms);
	if (derive_listeners(cfg, cf, e) < 0)
		return -1;
	return add_self(cfg, cf, e);
}

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->path, sizeof(cfg->path), "(embedded default)");
	for (size_t i = 0; i < cfg_options_count; i++)
		cfg_option_default(&cfg_options[i], cfg);
	/* One SIP Server: the simulator of the quick start. */
	const struct cfg_list *servers = list_find("cluster.sip-servers");
	struct cfg_node *nd = &cfg->nodes[0];
	for (size_t i = 0; servers && i < servers->n_fields; i++)
		cfg_option_default(&servers->fields[i], nd);
	snprintf(nd->name, sizeof(nd->name), "sipserver-1");
	snprintf(nd->sip_address, sizeof(nd->sip_address), "127.0.0.1");
	nd->sip_port = 5090;
	nd->transport = TP_UDP;
	cfg->n_nodes = 1;
	char err[8];
	struct cfg_err e = {err, sizeof(err), NULL};
	(void)finish(cfg, NULL, &e); /* cannot fail on the defaults */
}

/* cf has been read (or failed to) from text; fills out on success. */
static int load_parsed(config_t *cf, int read_ok, const char *text, size_t text_len,
		       const char *name, struct config *out, char *err, size_t errlen)
{
	if (!err)
		errlen = 0;
	struct cfg_err e = {err, errlen, name};
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
	if (!path || !cfg) {
		if (err && errlen)
			snprintf(err, errlen, "-:0: file: no path given");
		return -1;
	}
	config_t cf;
	config_init(&cf);
	errno = 0;
	int ok = config_read_file(&cf, path) == CONFIG_TRUE;
	int saved = errno;
	size_t len = 0;
	char *text = ok ? read_text(path, &len) : NULL;
	errno = saved;
	int rc = load_parsed(&cf, ok, text, len, path, cfg, err, errlen);
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
	int rc =
	    load_parsed(&cf, ok, text, strlen(text), name ? name : "(string)", cfg, err, errlen);
	config_destroy(&cf);
	return rc;
}
