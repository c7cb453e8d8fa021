/* edit.c — the message editor: a sorted list of (offset, delete, insert) ops over
 * a parsed message's buffer, serialised in one pass without reparsing. Owns the
 * proxy's header surgery of RFC 3261 §16.6 (Request-URI, Max-Forwards, Record-
 * Route, Route, Via push) and §16.7 step 3 / §16.4 (Via and Route value removal
 * that keeps the other comma-separated values of a field intact). */
#include "sip/edit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sip_edit_init(struct sip_edit *e, const struct sip_msg *m)
{
	e->m = m;
	e->nops = 0;
	e->scratch_used = 0;
	e->failed = 0;
}

static int edit_fail(struct sip_edit *e)
{
	e->failed = 1;
	return -1;
}

/* Copies the concatenation of parts into scratch; NULL when it does not fit. */
static const char *edit_scratch_cat(struct sip_edit *e, const struct str *parts, unsigned n,
				    size_t *len)
{
	size_t total = 0;
	for (unsigned i = 0; i < n; i++)
		total += parts[i].len;
	if (total > SIP_EDIT_SCRATCH - e->scratch_used)
		return NULL;
	char *dst = e->scratch + e->scratch_used;
	size_t at = 0;
	for (unsigned i = 0; i < n; i++) {
		if (parts[i].len)
			memcpy(dst + at, parts[i].p, parts[i].len);
		at += parts[i].len;
	}
	e->scratch_used += total;
	*len = total;
	return dst;
}

/* Ops sort by offset; at one offset pure inserts come before a deletion (so the
 * insert lands in front of the removed bytes), then by call order. */
static bool op_before(const struct sip_edit_op *a, const struct sip_edit_op *b)
{
	if (a->off != b->off)
		return a->off < b->off;
	if ((a->del > 0) != (b->del > 0))
		return a->del == 0;
	return a->seq < b->seq;
}

/* Two ops conflict when their deleted ranges share a byte, or when an insertion
 * point falls strictly inside another op's deleted range. */
static bool op_overlaps(const struct sip_edit_op *a, const struct sip_edit_op *b)
{
	if (a->del > 0 && b->del > 0)
		return a->off < b->off + b->del && b->off < a->off + a->del;
	if (a->del == 0 && b->del > 0)
		return a->off > b->off && a->off < b->off + b->del;
	if (b->del == 0 && a->del > 0)
		return b->off > a->off && b->off < a->off + a->del;
	return false;
}

/* Adds one op whose inserted bytes already live in scratch (or are static). */
static int edit_op_add(struct sip_edit *e, size_t off, size_t del, const char *ins, size_t ins_len)
{
	if (e->failed)
		return -1;
	if (!e->m || off > e->m->len || del > e->m->len - off)
		return edit_fail(e);
	if (e->nops >= SIP_EDIT_MAX_OPS)
		return edit_fail(e);
	struct sip_edit_op op = {off, del, ins, ins_len, e->nops};
	unsigned pos = e->nops;
	for (unsigned i = 0; i < e->nops; i++) {
		if (op_overlaps(&op, &e->ops[i]))
			return edit_fail(e);
		if (pos == e->nops && op_before(&op, &e->ops[i]))
			pos = i;
	}
	memmove(&e->ops[pos + 1], &e->ops[pos], (e->nops - pos) * sizeof(op));
	e->ops[pos] = op;
	e->nops++;
	return 0;
}

/* Adds an op whose inserted text is the concatenation of parts (copied). */
static int edit_add_parts(struct sip_edit *e, size_t off, size_t del, const struct str *parts,
			  unsigned n)
{
	if (e->failed)
		return -1;
	size_t len = 0;
	const char *ins = edit_scratch_cat(e, parts, n, &len);
	if (!ins)
		return edit_fail(e);
	return edit_op_add(e, off, del, ins, len);
}

static size_t edit_off(const struct sip_edit *e, const char *p)
{
	return (size_t)(p - e->m->buf);
}

int sip_edit_replace(struct sip_edit *e, const char *at, size_t del, struct str ins)
{
	if (!e->m || !at || at < e->m->buf || at > e->m->buf + e->m->len)
		return edit_fail(e);
	return edit_add_parts(e, edit_off(e, at), del, &ins, 1);
}

/* Inserts "Name: value\r\n" as a whole new field at p. */
static int edit_field_insert(struct sip_edit *e, const char *p, const char *name, struct str value)
{
	struct str parts[4] = {str_cstr(name), STR_LIT(": "), value, STR_LIT("\r\n")};
	if (!e->m || !p)
		return edit_fail(e);
	return edit_add_parts(e, edit_off(e, p), 0, parts, 4);
}

/* Where a new field goes when no field of its kind exists: the first header
 * line (right after the start line), or the empty line if there are none. */
static const char *edit_top_of_headers(const struct sip_msg *m)
{
	return m->hdrs ? m->hdrs->raw.p : m->hdrs_end;
}

static const struct sip_hdr *edit_last_of(const struct sip_msg *m, enum sip_hdr_id id)
{
	const struct sip_hdr *h = m->first[id];
	while (h && h->next_id)
		h = h->next_id;
	return h;
}

int sip_edit_ruri(struct sip_edit *e, struct str uri)
{
	if (!e->m || !e->m->is_request || !e->m->ruri_str.p)
		return edit_fail(e);
	return sip_edit_replace(e, e->m->ruri_str.p, e->m->ruri_str.len, uri);
}

int sip_edit_max_forwards(struct sip_edit *e, unsigned value)
{
	char num[16];
	int n = snprintf(num, sizeof(num), "%u", value);
	struct str v = str_make(num, (size_t)n);
	if (!e->m)
		return edit_fail(e);
	const struct sip_hdr *h = e->m->first[SIP_HDR_MAX_FORWARDS];
	if (h)
		return sip_edit_replace(e, h->value.p, h->value.len, v);
	/* RFC 3261 §16.6 step 3: absent -> add one; after the last Via keeps the
	 * routing headers together at the top. */
	const struct sip_hdr *via = edit_last_of(e->m, SIP_HDR_VIA);
	const char *at = via ? via->raw.p + via->raw.len : e->m->hdrs_end;
	return edit_field_insert(e, at, "Max-Forwards", v);
}

int sip_edit_via_push(struct sip_edit *e, struct str value)
{
	if (!e->m)
		return edit_fail(e);
	/* RFC 3261 §16.6 step 8: the proxy's Via goes above every existing one. */
	const struct sip_hdr *h = e->m->first[SIP_HDR_VIA];
	return edit_field_insert(e, h ? h->raw.p : edit_top_of_headers(e->m), "Via", value);
}

static bool is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Removes one value from a (possibly multi-valued) header field. A lone value
 * takes its whole field with it; otherwise the value goes with one adjacent
 * comma and the LWS around it, so "a, b, c" minus b is "a, c" (RFC 3261 §7.3.1:
 * the field stays a valid comma-separated list). */
static int edit_value_remove(struct sip_edit *e, const struct sip_hdr *h, struct str raw)
{
	const char *buf = e->m->buf;
	if (!h || !raw.p || raw.p < h->raw.p || raw.p + raw.len > h->raw.p + h->raw.len)
		return edit_fail(e);
	const char *vbeg = h->value.p, *vend = h->value.p + h->value.len;
	const char *rbeg = raw.p, *rend = raw.p + raw.len;
	/* Nothing but LWS around the value inside the field value: only value. */
	const char *a = vbeg, *b = vend;
	while (a < rbeg && is_lws(*a))
		a++;
	while (b > rend && is_lws(b[-1]))
		b--;
	if (a == rbeg && b == rend)
		return sip_edit_replace(e, h->raw.p, h->raw.len, STR_NULL);
	if (a == rbeg) {
		/* First of several: drop the value, its comma and the LWS after. */
		const char *q = rend;
		while (q < vend && is_lws(*q))
			q++;
		if (q >= vend || *q != ',')
			return edit_fail(e);
		q++;
		while (q < vend && is_lws(*q))
			q++;
		return edit_op_add(e, (size_t)(rbeg - buf), (size_t)(q - rbeg), NULL, 0);
	}
	/* Middle or last: drop the preceding comma (and LWS) with the value. */
	const char *q = rbeg;
	while (q > vbeg && is_lws(q[-1]))
		q--;
	if (q <= vbeg || q[-1] != ',')
		return edit_fail(e);
	q--;
	while (q > vbeg && is_lws(q[-1]))
		q--;
	return edit_op_add(e, (size_t)(q - buf), (size_t)(rend - q), NULL, 0);
}

int sip_edit_via_pop(struct sip_edit *e)
{
	if (!e->m || !e->m->via)
		return edit_fail(e);
	/* RFC 3261 §16.7 step 3: a proxy removes the topmost Via from a response. */
	return edit_value_remove(e, e->m->via->hdr, e->m->via->raw);
}

int sip_edit_route_remove(struct sip_edit *e, const struct sip_addr *route)
{
	if (!e->m || !route)
		return edit_fail(e);
	/* RFC 3261 §16.4: the top Route naming us; §16.6 step 6 / §16.12.1.2: the
	 * last value when the next hop is a strict router. */
	return edit_value_remove(e, route->hdr, route->raw);
}

int sip_edit_route_append(struct sip_edit *e, struct str value)
{
	if (!e->m)
		return edit_fail(e);
	const struct sip_hdr *h = edit_last_of(e->m, SIP_HDR_ROUTE);
	return edit_field_insert(e, h ? h->raw.p + h->raw.len : e->m->hdrs_end, "Route", value);
}

int sip_edit_route_push(struct sip_edit *e, struct str value)
{
	if (!e->m)
		return edit_fail(e);
	const struct sip_hdr *h = e->m->first[SIP_HDR_ROUTE];
	if (!h)
		return sip_edit_route_append(e, value);
	return edit_field_insert(e, h->raw.p, "Route", value);
}

#define RR_PREFIX "Record-Route: "

int sip_edit_record_route_push(struct sip_edit *e, struct str value)
{
	if (!e->m || e->failed)
		return edit_fail(e);
	/* RFC 3261 §16.6 step 4: our Record-Route goes above the existing ones. */
	const struct sip_hdr *h = e->m->first[SIP_HDR_RECORD_ROUTE];
	size_t off = edit_off(e, h ? h->raw.p : edit_top_of_headers(e->m));
	/* A second push in the same edit (a proxy changing transport records
	 * twice, RFC 5658) must land above the first: prepend to that op's text
	 * rather than queue behind it in call order. */
	for (unsigned i = 0; i < e->nops; i++) {
		struct sip_edit_op *op = &e->ops[i];
		if (op->off != off || op->del != 0 || op->ins_len < sizeof(RR_PREFIX) - 1 ||
		    memcmp(op->ins, RR_PREFIX, sizeof(RR_PREFIX) - 1) != 0)
			continue;
		struct str parts[4] = {STR_LIT(RR_PREFIX), value, STR_LIT("\r\n"),
				       str_make(op->ins, op->ins_len)};
		size_t len = 0;
		const char *ins = edit_scratch_cat(e, parts, 4, &len);
		if (!ins)
			return edit_fail(e);
		op->ins = ins;
		op->ins_len = len;
		return 0;
	}
	return edit_field_insert(e, e->m->buf + off, "Record-Route", value);
}

int sip_edit_header_add(struct sip_edit *e, struct str name, struct str value)
{
	if (!e->m || !e->m->hdrs_end)
		return edit_fail(e);
	struct str parts[4] = {name, STR_LIT(": "), value, STR_LIT("\r\n")};
	return edit_add_parts(e, edit_off(e, e->m->hdrs_end), 0, parts, 4);
}

int sip_edit_header_remove(struct sip_edit *e, const struct sip_hdr *h)
{
	if (!e->m || !h)
		return edit_fail(e);
	return sip_edit_replace(e, h->raw.p, h->raw.len, STR_NULL);
}

int sip_edit_content_length(struct sip_edit *e)
{
	if (!e->m || !e->m->hdrs_end)
		return edit_fail(e);
	const struct sip_msg *m = e->m;
	/* The body is whatever follows the empty line (for a datagram the parser
	 * already cut it to Content-Length). */
	const char *body = m->hdrs_end + 2;
	size_t body_len = body <= m->buf + m->len ? (size_t)(m->buf + m->len - body) : 0;
	char num[24];
	int n = snprintf(num, sizeof(num), "%zu", body_len);
	struct str v = str_make(num, (size_t)n);
	const struct sip_hdr *h = m->first[SIP_HDR_CONTENT_LENGTH];
	/* RFC 3261 §18.3 / §20.14: mandatory on streams and must be exact. */
	if (!h)
		return sip_edit_header_add(e, STR_LIT("Content-Length"), v);
	if (str_eq(h->value, v))
		return 0;
	return sip_edit_replace(e, h->value.p, h->value.len, v);
}

size_t sip_edit_size(const struct sip_edit *e)
{
	if (e->failed || !e->m)
		return 0;
	size_t n = e->m->len;
	for (unsigned i = 0; i < e->nops; i++)
		n = n - e->ops[i].del + e->ops[i].ins_len;
	return n;
}

size_t sip_edit_write(const struct sip_edit *e, char *out, size_t cap)
{
	size_t total = sip_edit_size(e);
	if (total == 0 || total > cap)
		return 0;
	const char *src = e->m->buf;
	size_t pos = 0, w = 0;
	for (unsigned i = 0; i < e->nops; i++) {
		const struct sip_edit_op *op = &e->ops[i];
		if (op->off < pos)
			return 0; /* cannot happen: ops were checked for overlap */
		memcpy(out + w, src + pos, op->off - pos);
		w += op->off - pos;
		if (op->ins_len) {
			memcpy(out + w, op->ins, op->ins_len);
			w += op->ins_len;
		}
		pos = op->off + op->del;
	}
	memcpy(out + w, src + pos, e->m->len - pos);
	w += e->m->len - pos;
	return w;
}

char *sip_edit_serialize(const struct sip_edit *e, size_t *len)
{
	size_t n = sip_edit_size(e);
	char *buf = n ? malloc(n) : NULL;
	if (!buf)
		return NULL;
	if (sip_edit_write(e, buf, n) != n) {
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}
