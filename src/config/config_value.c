/* config_value.c — checks and stores one option value as its table row says
 * (type, range, choices, field size), applies item tables to a group, and
 * formats the "FILE:LINE: KEY: problem" errors with a "did you mean" for typos.
 * Table-driven in the nginx way: no per-option code here. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"

int cfg_fail(struct cfg_err *e, const config_setting_t *s, const char *key, const char *fmt, ...)
{
	if (!e->buf || e->cap == 0)
		return -1;
	const char *file =
	    s && config_setting_source_file(s) ? config_setting_source_file(s) : e->file;
	unsigned line = s ? config_setting_source_line(s) : 0;
	int n = snprintf(e->buf, e->cap, "%s:%u: %s: ", file ? file : "-", line, key);
	if (n < 0 || (size_t)n >= e->cap)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->buf + n, e->cap - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Stores v in a field of 1, 2, 4 or 8 bytes (bool, uint16_t, unsigned/int/enum, size_t);
 * memcpy keeps it free of aliasing assumptions. */
static void store_num(void *p, size_t size, long long v)
{
	switch (size) {
	case 1: {
		uint8_t x = (uint8_t)v;
		memcpy(p, &x, 1);
		break;
	}
	case 2: {
		uint16_t x = (uint16_t)v;
		memcpy(p, &x, 2);
		break;
	}
	case 4: {
		uint32_t x = (uint32_t)v;
		memcpy(p, &x, 4);
		break;
	}
	default: {
		uint64_t x = (uint64_t)v;
		memcpy(p, &x, sizeof(x) < size ? sizeof(x) : size);
		break;
	}
	}
}

static void store_str(void *p, size_t size, const char *v)
{
	char *dst = p;
	snprintf(dst, size, "%s", v ? v : "");
}

void cfg_option_default(const struct cfg_option *o, void *base)
{
	char *field = (char *)base + o->offset;
	switch (o->type) {
	case CFG_OPT_UINT:
	case CFG_OPT_BOOL:
	case CFG_OPT_ENUM: store_num(field, o->size, o->def); break;
	case CFG_OPT_STRING:
	case CFG_OPT_IP:
	case CFG_OPT_HOST: store_str(field, o->size, o->def_str); break;
	case CFG_OPT_STRLIST:
	case CFG_OPT_ADDRS: ((struct cfg_strlist *)(void *)field)->n = 0; break;
	case CFG_OPT_PROTOS: {
		/* Only in the main table: udp and tcp are both on by default. */
		struct config *cfg = base;
		cfg->udp = true;
		cfg->tcp = true;
		break;
	}
	}
}

const char *cfg_choice_name(const struct cfg_choice *c, int value)
{
	for (; c && c->name; c++)
		if (c->value == value)
			return c->name;
	return "?";
}

static int choice_list(const struct cfg_choice *c, char *out, size_t cap)
{
	size_t used = 0;
	out[0] = '\0';
	for (; c->name; c++) {
		int n = snprintf(out + used, cap - used, "%s%s", used ? ", " : "", c->name);
		if (n < 0 || (size_t)n >= cap - used)
			break;
		used += (size_t)n;
	}
	return 0;
}

static int choice_parse(const struct cfg_option *o, const config_setting_t *s, const char *key,
			struct cfg_err *e, int *out)
{
	const char *v = config_setting_get_string(s);
	for (const struct cfg_choice *c = o->choices; c->name; c++)
		if (strcmp(c->name, v) == 0) {
			*out = c->value;
			return 0;
		}
	char names[256];
	choice_list(o->choices, names, sizeof(names));
	return cfg_fail(e, s, key, "unknown value \"%s\" (expected one of: %s)", v, names);
}

static int set_protos(const struct cfg_option *o, const config_setting_t *s, void *base,
		      const char *key, struct cfg_err *e)
{
	struct config *cfg = base;
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST)
		return cfg_fail(e, s, key, "must be an array of transport names");
	int n = config_setting_length(s);
	if (n == 0)
		return cfg_fail(e, s, key, "at least one transport is needed");
	cfg->udp = cfg->tcp = false;
	struct cfg_option one = {
	    .key = key, .type = CFG_OPT_ENUM, .choices = cfg_transport_choices};
	for (int i = 0; i < n; i++) {
		const config_setting_t *el = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(el) != CONFIG_TYPE_STRING)
			return cfg_fail(e, el, key, "must be an array of transport names");
		int p;
		if (choice_parse(&one, el, key, e, &p) < 0)
			return -1;
		if (p == TP_UDP)
			cfg->udp = true;
		else
			cfg->tcp = true;
	}
	return 0;
}

int cfg_option_set(const struct cfg_option *o, const config_setting_t *s, void *base,
		   const char *key, struct cfg_err *e)
{
	char *field = (char *)base + o->offset;
	int t = config_setting_type(s);
	switch (o->type) {
	case CFG_OPT_UINT: {
		if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
			return cfg_fail(e, s, key, "must be an integer");
		long long v = config_setting_get_int64(s);
		if (v < o->min || v > o->max)
			return cfg_fail(e, s, key, "%lld is out of range (%lld..%lld)", v, o->min,
					o->max);
		store_num(field, o->size, v);
		return 0;
	}
	case CFG_OPT_BOOL:
		if (t != CONFIG_TYPE_BOOL)
			return cfg_fail(e, s, key, "must be true or false");
		store_num(field, o->size, config_setting_get_bool(s) ? 1 : 0);
		return 0;
	case CFG_OPT_ENUM: {
		if (t != CONFIG_TYPE_STRING)
			return cfg_fail(e, s, key, "must be a string");
		int v;
		if (choice_parse(o, s, key, e, &v) < 0)
			return -1;
		store_num(field, o->size, v);
		return 0;
	}
	case CFG_OPT_STRING:
	case CFG_OPT_IP:
	case CFG_OPT_HOST: {
		if (t != CONFIG_TYPE_STRING)
			return cfg_fail(e, s, key, "must be a string");
		const char *v = config_setting_get_string(s);
		if (o->min > 0 && v[0] == '\0')
			return cfg_fail(e, s, key, "must not be empty");
		if (strlen(v) >= o->size)
			return cfg_fail(e, s, key, "longer than %zu characters", o->size - 1);
		if (o->type == CFG_OPT_IP && !cfg_is_ip(v))
			return cfg_fail(e, s, key, "\"%s\" is not a numeric IPv4 or IPv6 address",
					v);
		if (o->type == CFG_OPT_HOST && !cfg_is_ip(v) && !cfg_is_hostname(v))
			return cfg_fail(e, s, key, "\"%s\" is not an IP address or host name", v);
		store_str(field, o->size, v);
		return 0;
	}
	case CFG_OPT_PROTOS: return set_protos(o, s, base, key, e);
	case CFG_OPT_STRLIST:
	case CFG_OPT_ADDRS: {
		if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST)
			return cfg_fail(e, s, key, "must be an array of strings [ \"a\", \"b\" ]");
		struct cfg_strlist *l = (struct cfg_strlist *)(void *)field;
		bool hp = o->type == CFG_OPT_ADDRS;
		int n = config_setting_length(s), max = hp ? (int)o->max : CFG_MAX_DOMAINS;
		if (n > max)
			return cfg_fail(e, s, key, "at most %d entries", max);
		l->n = 0;
		for (int k = 0; k < n; k++) {
			const config_setting_t *x = config_setting_get_elem(s, (unsigned)k);
			if (config_setting_type(x) != CONFIG_TYPE_STRING)
				return cfg_fail(e, x, key, "entry %d must be a string", k + 1);
			const char *sv = config_setting_get_string(x);
			if (!sv[0] || strlen(sv) >= CFG_HOST_MAX ||
			    !(hp ? cfg_is_hostport(sv) : cfg_is_hostname(sv)))
				return cfg_fail(e, x, key, "\"%s\" is not %s", sv,
						hp ? "\"host:port\"" : "a domain name");
			size_t j = 0;
			for (; sv[j]; j++)
				l->v[l->n][j] =
				    (char)((sv[j] >= 'A' && sv[j] <= 'Z') ? sv[j] + 32 : sv[j]);
			l->v[l->n][j] = '\0';
			l->n++;
		}
		return 0;
	}
	}
	return cfg_fail(e, s, key, "unsupported option type");
}

const struct cfg_option *cfg_option_find(const struct cfg_option *tab, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(tab[i].key, key) == 0)
			return &tab[i];
	return NULL;
}

int cfg_group_apply(const struct cfg_option *tab, size_t n, const config_setting_t *group,
		    void *base, const char *prefix, struct cfg_err *e)
{
	char key[256];
	if (!config_setting_is_group(group))
		return cfg_fail(e, group, prefix, "must be a group { ... }");
	for (size_t i = 0; i < n; i++)
		cfg_option_default(&tab[i], base);
	int len = config_setting_length(group);
	for (int i = 0; i < len; i++) {
		const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(s);
		snprintf(key, sizeof(key), "%s.%s", prefix, name);
		const struct cfg_option *o = cfg_option_find(tab, n, name);
		if (!o) {
			const char *cands[32];
			size_t nc = 0;
			for (size_t j = 0; j < n && nc < 32; j++)
				cands[nc++] = tab[j].key;
			const char *hint = cfg_suggest(name, cands, nc);
			if (hint)
				return cfg_fail(e, s, key, "unknown option (did you mean \"%s\"?)",
						hint);
			return cfg_fail(e, s, key, "unknown option");
		}
		if (cfg_option_set(o, s, base, key, e) < 0)
			return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (tab[i].required && !config_setting_get_member(group, tab[i].key)) {
			snprintf(key, sizeof(key), "%s.%s", prefix, tab[i].key);
			return cfg_fail(e, group, key, "missing (required)");
		}
	return 0;
}

/* Levenshtein distance, bounded to short keys (config keys are < 64 chars). */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 63 || lb > 63)
		return 99;
	size_t row[64];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost =
			    tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1])
				? 0
				: 1;
			size_t best = diag + cost;
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

const char *cfg_suggest(const char *word, const char *const *cands, size_t n)
{
	/* Close enough to be a typo: 2 edits, or 3 for long names ("sip-adress" ~ "sip-address").
	 */
	size_t limit = strlen(word) >= 10 ? 3 : 2;
	const char *best = NULL;
	size_t best_d = limit + 1;
	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(word, cands[i]);
		if (d < best_d) {
			best_d = d;
			best = cands[i];
		}
	}
	return best;
}

bool cfg_is_ip(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* RFC 1123 §2.1 host names: labels of letters, digits and hyphens, 1..63 chars,
 * not starting or ending with a hyphen; 253 chars at most. */
bool cfg_is_hostname(const char *s)
{
	size_t len = strlen(s), label = 0;
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i <= len; i++) {
		char c = s[i];
		if (c == '.' || c == '\0') {
			/* A trailing dot (fully qualified name) leaves an empty last label. */
			if (label == 0)
				return c == '\0' && i > 1;
			if (s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)c) && c != '-')
			return false;
		if (c == '-' && label == 0)
			return false;
		if (++label > 63)
			return false;
	}
	return true;
}

bool cfg_is_hostport(const char *s)
{
	const char *colon = strrchr(s, ':'), *p;
	if (!colon || colon == s || !colon[1] || strlen(colon + 1) > 5)
		return false;
	for (p = colon + 1; *p; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	long port = strtol(colon + 1, NULL, 10);
	size_t n = (size_t)(colon - s);
	char host[CFG_HOST_MAX];
	if (port < 1 || port > 65535 || n >= sizeof(host))
		return false;
	if (s[0] == '[') {
		unsigned char buf[16];
		if (n < 3 || s[n - 1] != ']')
			return false;
		memcpy(host, s + 1, n - 2);
		host[n - 2] = '\0';
		return inet_pton(AF_INET6, host, buf) == 1;
	}
	memcpy(host, s, n);
	host[n] = '\0';
	return (cfg_is_ip(host) && !strchr(host, ':')) || cfg_is_hostname(host);
}
