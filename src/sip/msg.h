/* msg.h — a parsed SIP message (RFC 3261 §7) as zero-copy slices into its own
 * copy of the received bytes, plus the parse entry point and its limits.
 *
 * The parser splits every header into name/value and fully parses only what a
 * proxy and registrar act on: Via, From, To, Call-ID, CSeq, Max-Forwards,
 * Content-Length, Route, Record-Route, Contact, Path, Expires, Proxy-Require,
 * Require, Date (syntax only). All other headers stay name/value. Every slice
 * points into m->buf, which the message owns; everything lives in m->arena and
 * dies with sip_msg_free(). */
#ifndef SIPPROXY_SIP_MSG_H
#define SIPPROXY_SIP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sip/uri.h"
#include "util/str.h"

struct arena;

enum sip_method {
	SIP_METHOD_UNKNOWN = 0, /* any extension method: see method_name */
	SIP_METHOD_INVITE,
	SIP_METHOD_ACK,
	SIP_METHOD_BYE,
	SIP_METHOD_CANCEL,
	SIP_METHOD_OPTIONS,
	SIP_METHOD_REGISTER,
	SIP_METHOD_PRACK,
	SIP_METHOD_SUBSCRIBE,
	SIP_METHOD_NOTIFY,
	SIP_METHOD_PUBLISH,
	SIP_METHOD_INFO,
	SIP_METHOD_REFER,
	SIP_METHOD_MESSAGE,
	SIP_METHOD_UPDATE,
	SIP_METHOD_COUNT
};

/* Headers the parser recognises (long and compact forms, case-insensitive). */
enum sip_hdr_id {
	SIP_HDR_OTHER = 0,
	SIP_HDR_VIA,	 /* v */
	SIP_HDR_FROM,	 /* f */
	SIP_HDR_TO,	 /* t */
	SIP_HDR_CALL_ID, /* i */
	SIP_HDR_CSEQ,
	SIP_HDR_MAX_FORWARDS,
	SIP_HDR_CONTENT_LENGTH, /* l */
	SIP_HDR_CONTENT_TYPE,	/* c */
	SIP_HDR_ROUTE,
	SIP_HDR_RECORD_ROUTE,
	SIP_HDR_CONTACT, /* m */
	SIP_HDR_PATH,
	SIP_HDR_EXPIRES,
	SIP_HDR_PROXY_REQUIRE,
	SIP_HDR_REQUIRE,
	SIP_HDR_SUPPORTED, /* k */
	SIP_HDR_UNSUPPORTED,
	SIP_HDR_DATE,
	SIP_HDR_AUTHORIZATION,
	SIP_HDR_PROXY_AUTHORIZATION,
	SIP_HDR_WWW_AUTHENTICATE,
	SIP_HDR_PROXY_AUTHENTICATE,
	SIP_HDR_CONTENT_ENCODING, /* e */
	SIP_HDR_SUBJECT,	  /* s */
	SIP_HDR_EVENT,		  /* o */
	SIP_HDR_COUNT
};

/* One header field as it appears in the message (folded lines included). */
struct sip_hdr {
	enum sip_hdr_id id;
	struct str name;	 /* as written, e.g. "v" or "Via" */
	struct str value;	 /* trimmed; may contain folding (CRLF + WSP) */
	struct str raw;		 /* from name to the CRLF that ends the field, inclusive */
	struct sip_hdr *next;	 /* next header in message order */
	struct sip_hdr *next_id; /* next header with the same id */
};

/* One Via value (RFC 3261 §20.42, §18.2.1; rport RFC 3581). */
struct sip_via {
	struct str raw;	      /* this via-parm, without separating comma/LWS */
	struct str proto;     /* "SIP/2.0" */
	struct str transport; /* "UDP", "TCP", "TLS", "WS", ... as written */
	struct str host;      /* IPv6 keeps its brackets */
	uint16_t port;	      /* 0 when absent */
	struct str params;    /* everything after the sent-by, starting at ';' */
	struct str branch;    /* NULL p when absent */
	struct str received;
	struct str rport; /* value; p != NULL but len 0 for a bare ";rport" */
	bool has_rport;
	struct str maddr;
	struct sip_hdr *hdr;  /* the header field holding this value */
	struct sip_via *next; /* in message order (top first) */
};

/* name-addr / addr-spec with header params (From, To, Contact, Route,
 * Record-Route, Path): RFC 3261 §20, §25.1. */
struct sip_addr {
	struct str raw;	    /* this value, without separating comma/LWS */
	struct str display; /* without quotes; may be empty */
	struct str uri_str; /* the URI text, without <> */
	struct sip_uri uri; /* parsed uri_str */
	bool angle;	    /* URI was enclosed in <> */
	struct str params;  /* header params after the URI, starting at ';' */
	struct str tag;	    /* From/To */
	struct str expires; /* Contact expires= */
	struct str q;	    /* Contact q= */
	bool star;	    /* Contact: * */
	struct sip_hdr *hdr;
	struct sip_addr *next;
};

/* Outcome of a parse. A request failing with status >= 400 should be answered
 * with that status (when enough of it was read to build a response: see
 * sip_msg_can_reply); a response that fails is dropped. */
struct sip_parse_error {
	int status;	    /* 400, 413, 505, 513, 416...; 0 when parse succeeded */
	const char *reason; /* static text, e.g. "Bad CSeq" */
};

struct sip_limits {
	size_t max_message;   /* whole message (default 65536) -> 513 */
	size_t max_body;      /* body alone (default 65536) -> 413 */
	unsigned max_headers; /* header fields (default 128) -> 400 */
	size_t max_line;      /* one header field, folded lines included (default 8192) -> 400 */
};

#define SIP_LIMITS_DEFAULT ((struct sip_limits){65536, 65536, 128, 8192})

struct sip_msg {
	struct arena *arena;
	const char *buf; /* owned copy of the message bytes */
	size_t len;	 /* bytes of the message (body included, trailing octets excluded) */

	bool is_request;
	/* request line */
	enum sip_method method;
	struct str method_str;
	struct str ruri_str;
	struct sip_uri ruri;
	/* status line */
	int status;
	struct str reason;
	struct str version;    /* "SIP/2.0" */
	struct str start_line; /* first line without CRLF */

	struct sip_hdr *hdrs;		      /* message order */
	struct sip_hdr *first[SIP_HDR_COUNT]; /* first of each id (then ->next_id) */
	unsigned hdr_count;
	const char *hdrs_end; /* where the empty line (CRLF CRLF's second CRLF) starts */

	struct sip_via *via; /* all Via values, top first */
	struct sip_addr *from, *to;
	struct str call_id;
	uint32_t cseq;
	enum sip_method cseq_method;
	struct str cseq_method_str;
	int max_forwards;	       /* -1 when absent */
	long content_length;	       /* -1 when absent */
	struct sip_addr *route;	       /* all Route values, top first */
	struct sip_addr *record_route; /* all Record-Route values */
	struct sip_addr *contact;      /* all Contact values */
	struct sip_addr *path;	       /* all Path values */
	long expires;		       /* Expires header, -1 when absent */

	struct str body;

	struct sip_parse_error error;
};

/* Copies len bytes into a new message (one allocation for small messages). */
struct sip_msg *sip_msg_new(const char *data, size_t len);
void sip_msg_free(struct sip_msg *m);

/* Parses m->buf. For a datagram, bytes after Content-Length are dropped (m->len
 * shrinks); a Content-Length larger than what arrived is an error. On a stream,
 * the transport has already framed the message (see sip_frame_length).
 * Returns 0, or -1 with m->error set. */
int sip_msg_parse(struct sip_msg *m, const struct sip_limits *lim);

/* After a failed parse: is there enough to answer with m->error.status (a
 * request with a Via field; the other fields are copied as they are)? */
bool sip_msg_can_reply(const struct sip_msg *m);

/* Header lookup by id (first one) and by name (case-insensitive, compact forms
 * match their long names). */
struct sip_hdr *sip_msg_hdr(const struct sip_msg *m, enum sip_hdr_id id);
struct sip_hdr *sip_msg_hdr_by_name(const struct sip_msg *m, struct str name);

enum sip_method sip_method_from_str(struct str s);
const char *sip_method_name(enum sip_method m); /* "INVITE"; "UNKNOWN" */
const char *sip_reason_phrase(int status);	/* default phrase for a code */

/* Splits a comma-separated token list (Proxy-Require, Require, Supported) over
 * every header of that id: calls fn for each token; stops when fn returns non-0. */
int sip_msg_tokens(const struct sip_msg *m, enum sip_hdr_id id,
		   int (*fn)(void *arg, struct str token), void *arg);

/* A Via's sent-by port, or the default port of its transport (§18.2.2). */
uint16_t sip_via_port(const struct sip_via *v);

/* Finds a parameter in a ";a=b;c" list (leading ';' optional). Returns true if
 * present; *value is the value (len 0 when valueless). */
bool sip_param_find(struct str params, const char *name, struct str *value);

/* Stream framing (RFC 3261 §18.3): given the bytes received so far on a
 * connection, returns the length of the first complete message (> 0), 0 if more
 * bytes are needed, or -1 if the stream is broken (no Content-Length within the
 * headers, header block over max_message, message over max_message). Leading
 * CRLFs must be consumed by the caller (keep-alives). */
long sip_frame_length(const char *buf, size_t len, size_t max_message);

#endif
