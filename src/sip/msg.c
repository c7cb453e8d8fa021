/* msg.c — the message object around the parser: allocation in one arena,
 * header lookup by id or name (compact forms, RFC 3261 §7.3.3), method and
 * reason-phrase tables (§7.1, §21), token lists (§20.29, §20.32) and the
 * generic-param finder used on Via, Contact and To/From parameters. */
#include <string.h>

#include "sip/parse_int.h"
#include "util/arena.h"

struct sip_msg *sip_msg_new(const char *data, size_t len)
{
	/* One block holds the copy plus the parsed structs of a typical message
	 * (headers, Vias, name-addrs with their URIs): no second malloc. Sized
	 * from measurement: a 519-byte INVITE uses 3.2 KB, a 310-byte BYE 2.8 KB. */
	struct arena *a = arena_new(sizeof(struct sip_msg) + len * 2 + 2048);
	if (!a)
		return NULL;
	struct sip_msg *m = arena_zalloc(a, sizeof(*m));
	char *buf = m ? arena_alloc(a, len + 1) : NULL;
	if (!buf) {
		arena_free(a);
		return NULL;
	}
	if (len)
		memcpy(buf, data, len);
	buf[len] = '\0'; /* never relied on: slices carry lengths */
	m->arena = a;
	m->buf = buf;
	m->len = len;
	m->max_forwards = -1;
	m->content_length = -1;
	m->expires = -1;
	return m;
}

void sip_msg_free(struct sip_msg *m)
{
	if (m)
		arena_free(m->arena);
}

/* §8.2.6.2: a response copies Via, From, To, Call-ID and CSeq, verbatim when
 * present, so a malformed or missing value still gets its 400, as RFC 4475 asks
 * (§3.1.2.4, §3.1.2.6, §3.1.2.14-15, §3.3.1). A Via field must be there (the
 * client matches the answer by it) but need not parse: the answer then goes
 * to the packet's source (RFC 4475 §3.1.2.8 "badinv01"). */
bool sip_msg_can_reply(const struct sip_msg *m)
{
	return m && m->is_request && m->first[SIP_HDR_VIA];
}

struct sip_hdr *sip_msg_hdr(const struct sip_msg *m, enum sip_hdr_id id)
{
	if ((unsigned)id >= SIP_HDR_COUNT)
		return NULL;
	return m->first[id];
}

struct sip_hdr *sip_msg_hdr_by_name(const struct sip_msg *m, struct str name)
{
	enum sip_hdr_id id = sip_hdr_name_id(name.p, name.len);
	if (id != SIP_HDR_OTHER)
		return m->first[id];
	for (struct sip_hdr *h = m->first[SIP_HDR_OTHER]; h; h = h->next_id)
		if (str_case_eq(h->name, name))
			return h;
	return NULL;
}

static const char *const method_names[SIP_METHOD_COUNT] = {
    [SIP_METHOD_UNKNOWN] = "UNKNOWN",
    [SIP_METHOD_INVITE] = "INVITE",
    [SIP_METHOD_ACK] = "ACK",
    [SIP_METHOD_BYE] = "BYE",
    [SIP_METHOD_CANCEL] = "CANCEL",
    [SIP_METHOD_OPTIONS] = "OPTIONS",
    [SIP_METHOD_REGISTER] = "REGISTER",
    [SIP_METHOD_PRACK] = "PRACK",
    [SIP_METHOD_SUBSCRIBE] = "SUBSCRIBE",
    [SIP_METHOD_NOTIFY] = "NOTIFY",
    [SIP_METHOD_PUBLISH] = "PUBLISH",
    [SIP_METHOD_INFO] = "INFO",
    [SIP_METHOD_REFER] = "REFER",
    [SIP_METHOD_MESSAGE] = "MESSAGE",
    [SIP_METHOD_UPDATE] = "UPDATE",
};

/* Methods are case-sensitive (§7.1). Switch on the first octet, then compare. */
enum sip_method sip_method_from_str(struct str s)
{
	if (!s.p || s.len < 3)
		return SIP_METHOD_UNKNOWN;
	enum sip_method c1 = SIP_METHOD_UNKNOWN, c2 = SIP_METHOD_UNKNOWN;
	switch (s.p[0]) {
	case 'I':
		c1 = SIP_METHOD_INVITE;
		c2 = SIP_METHOD_INFO;
		break;
	case 'A': c1 = SIP_METHOD_ACK; break;
	case 'B': c1 = SIP_METHOD_BYE; break;
	case 'C': c1 = SIP_METHOD_CANCEL; break;
	case 'O': c1 = SIP_METHOD_OPTIONS; break;
	case 'R':
		c1 = SIP_METHOD_REGISTER;
		c2 = SIP_METHOD_REFER;
		break;
	case 'P':
		c1 = SIP_METHOD_PRACK;
		c2 = SIP_METHOD_PUBLISH;
		break;
	case 'S': c1 = SIP_METHOD_SUBSCRIBE; break;
	case 'N': c1 = SIP_METHOD_NOTIFY; break;
	case 'M': c1 = SIP_METHOD_MESSAGE; break;
	case 'U': c1 = SIP_METHOD_UPDATE; break;
	default: return SIP_METHOD_UNKNOWN;
	}
	if (str_eq(s, str_cstr(method_names[c1])))
		return c1;
	if (c2 != SIP_METHOD_UNKNOWN && str_eq(s, str_cstr(method_names[c2])))
		return c2;
	return SIP_METHOD_UNKNOWN;
}

const char *sip_method_name(enum sip_method m)
{
	if ((unsigned)m >= SIP_METHOD_COUNT)
		return "UNKNOWN";
	return method_names[m];
}

/* §21 (and RFC 3265, 3903, 4412, 5079 codes a proxy may send or relay). */
const char *sip_reason_phrase(int status)
{
	switch (status) {
	case 100: return "Trying";
	case 180: return "Ringing";
	case 181: return "Call Is Being Forwarded";
	case 182: return "Queued";
	case 183: return "Session Progress";
	case 200: return "OK";
	case 202: return "Accepted";
	case 300: return "Multiple Choices";
	case 301: return "Moved Permanently";
	case 302: return "Moved Temporarily";
	case 305: return "Use Proxy";
	case 380: return "Alternative Service";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 407: return "Proxy Authentication Required";
	case 408: return "Request Timeout";
	case 410: return "Gone";
	case 413: return "Request Entity Too Large";
	case 414: return "Request-URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Unsupported URI Scheme";
	case 420: return "Bad Extension";
	case 421: return "Extension Required";
	case 423: return "Interval Too Brief";
	case 430: return "Flow Failed"; /* RFC 5626 §11.5 */
	case 480: return "Temporarily Unavailable";
	case 481: return "Call/Transaction Does Not Exist";
	case 482: return "Loop Detected";
	case 483: return "Too Many Hops";
	case 484: return "Address Incomplete";
	case 485: return "Ambiguous";
	case 486: return "Busy Here";
	case 487: return "Request Terminated";
	case 488: return "Not Acceptable Here";
	case 489: return "Bad Event";
	case 491: return "Request Pending";
	case 493: return "Undecipherable";
	case 500: return "Server Internal Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Server Time-out";
	case 505: return "Version Not Supported";
	case 513: return "Message Too Large";
	case 600: return "Busy Everywhere";
	case 603: return "Decline";
	case 604: return "Does Not Exist Anywhere";
	case 606: return "Not Acceptable";
	default: break;
	}
	/* §21: an unknown code is treated as x00 of its class. */
	if (status >= 100 && status < 200)
		return "Trying";
	if (status >= 200 && status < 300)
		return "OK";
	if (status >= 300 && status < 400)
		return "Multiple Choices";
	if (status >= 400 && status < 500)
		return "Bad Request";
	if (status >= 500 && status < 600)
		return "Server Internal Error";
	if (status >= 600 && status < 700)
		return "Busy Everywhere";
	return "Unknown";
}

/* option-tag lists (§20.29 Proxy-Require, §20.32 Require, §20.37 Supported):
 * tokens separated by COMMA = SWS "," SWS, over every field of the id. */
int sip_msg_tokens(const struct sip_msg *m, enum sip_hdr_id id,
		   int (*fn)(void *arg, struct str token), void *arg)
{
	if ((unsigned)id >= SIP_HDR_COUNT)
		return 0;
	for (const struct sip_hdr *h = m->first[id]; h; h = h->next_id) {
		const char *p = h->value.p, *e = p + h->value.len;
		while (p < e) {
			const char *c = memchr(p, ',', (size_t)(e - p));
			const char *te = c ? c : e;
			struct str t = str_trim(str_make(p, (size_t)(te - p)));
			if (t.len) {
				int r = fn(arg, t);
				if (r)
					return r;
			}
			p = c ? c + 1 : e;
		}
	}
	return 0;
}

uint16_t sip_via_port(const struct sip_via *v)
{
	return v->port ? v->port : sip_default_port(v->transport, false);
}

bool sip_param_find(struct str params, const char *name, struct str *value)
{
	if (!params.p || !name)
		return false;
	struct str want = str_cstr(name);
	const char *p = params.p, *e = params.p + params.len;
	p = sp_skip_ws(p, e);
	if (p < e && *p == ';')
		p++;
	while (p < e) {
		struct str n, v;
		const char *q = sp_param_next(p, e, &n, &v);
		if (!q)
			return false;
		if (str_case_eq(n, want)) {
			if (value)
				*value = v.p ? v : str_make(q, 0);
			return true;
		}
		p = sp_skip_ws(q, e);
		if (p >= e || *p != ';')
			return false;
		p++;
	}
	return false;
}
