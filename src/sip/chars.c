/* chars.c — the character-class table behind sip_chars.h (RFC 3261 §25.1
 * token, reserved/unreserved, user/param/header URI characters, Call-ID word).
 * Built at compile time from the class predicates below, so the table and the
 * grammar cannot drift apart. */
#include "sip/sip_chars.h"

#define CH_ALPHA(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define CH_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define CH_ALNUM(c) (CH_ALPHA(c) || CH_DIGIT(c))
#define CH_HEX(c)   (CH_DIGIT(c) || ((c) >= 'a' && (c) <= 'f') || ((c) >= 'A' && (c) <= 'F'))
/* mark = "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")" */
#define CH_MARK(c)                                                                                 \
	((c) == '-' || (c) == '_' || (c) == '.' || (c) == '!' || (c) == '~' || (c) == '*' ||       \
	 (c) == '\'' || (c) == '(' || (c) == ')')
#define CH_UNRES(c) (CH_ALNUM(c) || CH_MARK(c))
#define CH_TOKEN(c)                                                                                \
	(CH_ALNUM(c) || (c) == '-' || (c) == '.' || (c) == '!' || (c) == '%' || (c) == '*' ||      \
	 (c) == '_' || (c) == '+' || (c) == '`' || (c) == '\'' || (c) == '~')
#define CH_WS(c) ((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n')
#define CH_USER(c)                                                                                 \
	(CH_UNRES(c) || (c) == '&' || (c) == '=' || (c) == '+' || (c) == '$' || (c) == ',' ||      \
	 (c) == ';' || (c) == '?' || (c) == '/')
#define CH_PASS(c)                                                                                 \
	(CH_UNRES(c) || (c) == '&' || (c) == '=' || (c) == '+' || (c) == '$' || (c) == ',')
#define CH_PARAM(c)                                                                                \
	(CH_UNRES(c) || (c) == '[' || (c) == ']' || (c) == '/' || (c) == ':' || (c) == '&' ||      \
	 (c) == '+' || (c) == '$')
#define CH_HNV(c)                                                                                  \
	(CH_UNRES(c) || (c) == '[' || (c) == ']' || (c) == '/' || (c) == '?' || (c) == ':' ||      \
	 (c) == '+' || (c) == '$')
#define CH_HOST(c) (CH_ALNUM(c) || (c) == '-' || (c) == '.' || (c) == '_')
#define CH_WORD(c)                                                                                 \
	(CH_TOKEN(c) || (c) == '(' || (c) == ')' || (c) == '<' || (c) == '>' || (c) == ':' ||      \
	 (c) == '\\' || (c) == '"' || (c) == '/' || (c) == '[' || (c) == ']' || (c) == '?' ||      \
	 (c) == '{' || (c) == '}')
#define CH_RESERVED(c)                                                                             \
	((c) == ';' || (c) == '/' || (c) == '?' || (c) == ':' || (c) == '@' || (c) == '&' ||       \
	 (c) == '=' || (c) == '+' || (c) == '$' || (c) == ',')
#define CH_URIC(c)   (CH_RESERVED(c) || CH_UNRES(c) || (c) == '%' || (c) == '[' || (c) == ']')
#define CH_SCHEME(c) (CH_ALNUM(c) || (c) == '+' || (c) == '-' || (c) == '.')
#define CH_GVAL(c)   (CH_TOKEN(c) || (c) == ':' || (c) == '[' || (c) == ']')

#define CLS(c)                                                                                     \
	(uint16_t)((CH_TOKEN(c) ? SC_TOKEN : 0) | (CH_WS(c) ? SC_WS : 0) |                         \
		   (CH_DIGIT(c) ? SC_DIGIT : 0) | (CH_HEX(c) ? SC_HEX : 0) |                       \
		   (CH_USER(c) ? SC_USER : 0) | (CH_PASS(c) ? SC_PASS : 0) |                       \
		   (CH_PARAM(c) ? SC_PARAM : 0) | (CH_HNV(c) ? SC_HNV : 0) |                       \
		   (CH_HOST(c) ? SC_HOST : 0) | (CH_WORD(c) ? SC_WORD : 0) |                       \
		   (CH_URIC(c) ? SC_URIC : 0) | (CH_ALPHA(c) ? SC_ALPHA : 0) |                     \
		   (CH_SCHEME(c) ? SC_SCHEME : 0) | (CH_GVAL(c) ? SC_GVAL : 0))

#define R4(n)  CLS(n), CLS((n) + 1), CLS((n) + 2), CLS((n) + 3)
#define R16(n) R4(n), R4((n) + 4), R4((n) + 8), R4((n) + 12)
#define R64(n) R16(n), R16((n) + 16), R16((n) + 32), R16((n) + 48)

const uint16_t sip_char_class[256] = {R64(0), R64(64), R64(128), R64(192)};
