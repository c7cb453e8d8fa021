/* str.h — zero-copy string slices (pointer + length into a buffer someone else owns).
 * Every parsed SIP element is a struct str into the message buffer; nothing is
 * NUL-terminated, so use STR_FMT with "%.*s" to print one. */
#ifndef SIPPROXY_UTIL_STR_H
#define SIPPROXY_UTIL_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct str {
	const char *p;
	size_t len;
};

#define STR_LIT(s) ((struct str){(s), sizeof(s) - 1})
#define STR_NULL   ((struct str){NULL, 0})
#define STR_FMT(s) (int)(s).len, ((s).p ? (s).p : "")

static inline struct str str_make(const char *p, size_t len)
{
	return (struct str){p, len};
}

static inline struct str str_cstr(const char *c)
{
	return (struct str){c, c ? strlen(c) : 0};
}

static inline bool str_empty(struct str s)
{
	return s.len == 0;
}

/* A slice that points somewhere, even at zero length ("tag=" vs no tag). */
static inline bool str_present(struct str s)
{
	return s.p != NULL;
}

bool str_eq(struct str a, struct str b);
bool str_case_eq(struct str a, struct str b);
bool str_case_eq_cstr(struct str a, const char *c);
bool str_case_prefix(struct str s, const char *prefix);

/* Strips SP, HTAB, CR and LF from both ends. */
struct str str_trim(struct str s);

/* Decimal digits only (no sign, no spaces); fails on overflow of max. */
int str_to_u32(struct str s, uint32_t max, uint32_t *out);

/* FNV-1a; the case variant folds ASCII letters, for case-insensitive keys. */
uint32_t str_hash(struct str s);
uint32_t str_case_hash(struct str s);

/* Copies into out (always NUL-terminated when cap > 0); returns s.len. */
size_t str_copy(char *out, size_t cap, struct str s);

#endif
