/* config_internal.h — what the config files share: the option descriptor used by
 * both the scalar table (options.c) and the per-item tables (config_cluster.c),
 * the "FILE:LINE: KEY: problem" error sink, and the value checks. Private to
 * src/config/; the rest of the proxy sees only config.h. */
#ifndef SIPPROXY_CONFIG_CONFIG_INTERNAL_H
#define SIPPROXY_CONFIG_CONFIG_INTERNAL_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

enum cfg_opt_type {
	CFG_OPT_UINT,	 /* integer in [min, max], stored in a field of 1, 2, 4 or 8 bytes */
	CFG_OPT_BOOL,	 /* true / false */
	CFG_OPT_STRING,	 /* any text that fits the char[] field */
	CFG_OPT_IP,	 /* numeric IPv4 or IPv6 address (something we bind to) */
	CFG_OPT_HOST,	 /* numeric address or DNS host name (something we send to) */
	CFG_OPT_ENUM,	 /* one name of choices[], stored as its int value */
	CFG_OPT_PROTOS,	 /* array of transport names; sets struct config udp/tcp */
	CFG_OPT_STRLIST, /* array of domain names into a struct cfg_strlist (lower-cased) */
	CFG_OPT_ADDRS,	 /* array of "host:port" / "[v6]:port", at most max, in a cfg_strlist */
};

struct cfg_choice {
	const char *name;
	int value;
};

/* One option: key, type, default, check, where it goes, one line of doc. */
struct cfg_option {
	const char *key; /* "sip.t1" in the main table, "sip-port" in items */
	enum cfg_opt_type type;
	size_t offset, size;		  /* field in the target struct */
	long long def;			  /* UINT / BOOL / ENUM default */
	const char *def_str;		  /* STRING / IP / HOST default (NULL = empty) */
	long long min, max;		  /* UINT bounds */
	const struct cfg_choice *choices; /* ENUM names, NULL-terminated */
	bool required;			  /* must be present (items only) */
	const char *doc;
};

/* Where errors go; file stands in when libconfig has no file (string input). */
struct cfg_err {
	char *buf;
	size_t cap;
	const char *file;
	/* what a definition without this proxy means: "refusing to start"
	 * (NULL) for the proxy's own file, "not applied" for a published one */
	const char *refusal;
};

/* A list of groups (cluster.proxies, ...): its item table and its loader. */
struct cfg_list {
	const char *key;
	const char *doc;
	const struct cfg_option *fields;
	size_t n_fields;
	int (*load)(const struct cfg_list *l, const config_setting_t *list, struct config *cfg,
		    struct cfg_err *e);
};

/* The tables (read-only). */
extern const struct cfg_option cfg_options[];
extern const size_t cfg_options_count;
extern const struct cfg_list cfg_lists[];
extern const size_t cfg_lists_count;
extern const struct cfg_choice cfg_transport_choices[];

/* Writes "FILE:LINE: KEY: problem" (line of s, 0 if s is NULL); returns -1. */
int cfg_fail(struct cfg_err *e, const config_setting_t *s, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

void cfg_option_default(const struct cfg_option *o, void *base);
/* Checks the value of s against o and stores it; key is the full name for errors. */
int cfg_option_set(const struct cfg_option *o, const config_setting_t *s, void *base,
		   const char *key, struct cfg_err *e);
const struct cfg_option *cfg_option_find(const struct cfg_option *tab, size_t n, const char *key);
/* Applies the members of group to base through tab (defaults first, then the
 * values, then the required check); prefix names the group in errors. */
int cfg_group_apply(const struct cfg_option *tab, size_t n, const config_setting_t *group,
		    void *base, const char *prefix, struct cfg_err *e);

/* Closest of cands to word within a small edit distance, or NULL. */
const char *cfg_suggest(const char *word, const char *const *cands, size_t n);

/* Refuses integer literals that libconfig 1.5 would truncate to 32 bits. */
int cfg_scan_ints(const char *text, size_t len, struct cfg_err *e);

bool cfg_is_ip(const char *s);
bool cfg_is_hostname(const char *s);
/* "host:port" or "[v6]:port": an IPv4 address or host name (an IPv6 address
 * in brackets) and a port 1-65535. */
bool cfg_is_hostport(const char *s);
const char *cfg_choice_name(const struct cfg_choice *c, int value);

#endif
