/* str.c — helpers on zero-copy slices: comparison, trimming, numbers, hashing. */
#include "util/str.h"

static inline unsigned char lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

bool str_eq(struct str a, struct str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

bool str_case_eq(struct str a, struct str b)
{
	if (a.len != b.len)
		return false;
	for (size_t i = 0; i < a.len; i++)
		if (lower((unsigned char)a.p[i]) != lower((unsigned char)b.p[i]))
			return false;
	return true;
}

bool str_case_eq_cstr(struct str a, const char *c)
{
	return str_case_eq(a, str_cstr(c));
}

bool str_case_prefix(struct str s, const char *prefix)
{
	size_t n = strlen(prefix);
	return s.len >= n && str_case_eq(str_make(s.p, n), str_make(prefix, n));
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct str str_trim(struct str s)
{
	while (s.len && is_ws(s.p[0])) {
		s.p++;
		s.len--;
	}
	while (s.len && is_ws(s.p[s.len - 1]))
		s.len--;
	return s;
}

int str_to_u32(struct str s, uint32_t max, uint32_t *out)
{
	if (s.len == 0)
		return -1;
	uint64_t v = 0;
	for (size_t i = 0; i < s.len; i++) {
		char c = s.p[i];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (uint64_t)(c - '0');
		if (v > max)
			return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

uint32_t str_hash(struct str s)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < s.len; i++) {
		h ^= (unsigned char)s.p[i];
		h *= 16777619u;
	}
	return h;
}

uint32_t str_case_hash(struct str s)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < s.len; i++) {
		h ^= lower((unsigned char)s.p[i]);
		h *= 16777619u;
	}
	return h;
}

size_t str_copy(char *out, size_t cap, struct str s)
{
	if (cap == 0)
		return s.len;
	size_t n = s.len < cap - 1 ? s.len : cap - 1;
	if (n)
		memcpy(out, s.p, n);
	out[n] = '\0';
	return s.len;
}
