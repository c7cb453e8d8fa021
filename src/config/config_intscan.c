/* config_intscan.c — a lexical pre-scan for integer literals too big for 32
 * bits. libconfig 1.5 parses "t1 = 4294967796;" as a plain int and silently
 * truncates it to 500, which would pass every range check; so before trusting
 * the parse we look at the text and refuse such literals (an "L" suffix makes a
 * 64-bit value, which libconfig keeps intact). Skips strings and comments. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config/config_internal.h"

static bool ident_start(char c)
{
	return isalpha((unsigned char)c) || c == '*';
}

static bool ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '*';
}

/* Reads a number at *pp (sign already consumed); returns false if it is an
 * integer without L suffix that does not fit in 32 bits. */
static bool number_fits(const char **pp, bool negative)
{
	const char *p = *pp;
	uint64_t v = 0;
	bool overflow = false, hex = false;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		hex = true;
		for (p += 2; isxdigit((unsigned char)*p); p++) {
			unsigned d = isdigit((unsigned char)*p)
					 ? (unsigned)(*p - '0')
					 : (unsigned)(tolower(*p) - 'a' + 10);
			overflow = overflow || v > (UINT64_MAX >> 4);
			v = v * 16 + d;
		}
	} else {
		for (; isdigit((unsigned char)*p); p++) {
			overflow = overflow || v > (UINT64_MAX - 9) / 10;
			v = v * 10 + (uint64_t)(*p - '0');
		}
		/* A float: libconfig stores it as a double, not our concern here. */
		if (*p == '.' || *p == 'e' || *p == 'E') {
			while (isalnum((unsigned char)*p) || *p == '.' || *p == '-' || *p == '+')
				p++;
			*pp = p;
			return true;
		}
	}
	bool suffix = *p == 'L';
	while (*p == 'L')
		p++;
	*pp = p;
	if (suffix)
		return true;
	if (overflow)
		return false;
	if (hex)
		return v <= UINT32_MAX;
	return negative ? v <= (uint64_t)INT32_MAX + 1 : v <= INT32_MAX;
}

int cfg_scan_ints(const char *text, size_t len, struct cfg_err *e)
{
	const char *p = text, *end = text + len;
	unsigned line = 1;
	char key[64] = "";
	while (p < end && *p) {
		char c = *p;
		if (c == '\n') {
			line++;
			p++;
		} else if (c == '#' || (c == '/' && p[1] == '/')) {
			while (p < end && *p && *p != '\n')
				p++;
		} else if (c == '/' && p[1] == '*') {
			for (p += 2; p < end && *p && !(p[0] == '*' && p[1] == '/'); p++)
				line += *p == '\n';
			if (p < end && *p)
				p += 2;
		} else if (c == '"') {
			for (p++; p < end && *p && *p != '"'; p++) {
				line += *p == '\n';
				if (*p == '\\' && p[1])
					p++;
			}
			if (p < end && *p)
				p++;
		} else if (ident_start(c)) {
			const char *s = p;
			while (p < end && ident_char(*p))
				p++;
			size_t n = (size_t)(p - s);
			if (n < sizeof(key)) {
				memcpy(key, s, n);
				key[n] = '\0';
			}
		} else if (isdigit((unsigned char)c) ||
			   ((c == '-' || c == '+') && isdigit((unsigned char)p[1]))) {
			bool neg = c == '-';
			const char *s = p;
			if (!isdigit((unsigned char)c))
				p++;
			if (!number_fits(&p, neg)) {
				if (!e->buf || e->cap == 0)
					return -1;
				char msg[128];
				size_t n = (size_t)(p - s) < 40 ? (size_t)(p - s) : 40;
				snprintf(msg, sizeof(msg), "%.*s", (int)n, s);
				snprintf(
				    e->buf, e->cap,
				    "%s:%u: %s: %s does not fit in 32 bits (add an L suffix for a "
				    "64-bit value)",
				    e->file, line, key[0] ? key : "(value)", msg);
				return -1;
			}
		} else {
			p++;
		}
	}
	return 0;
}
