/* edit.h — changes to a parsed message, serialised without reparsing.
 * An edit is a sorted list of (offset, bytes to delete, bytes to insert) over
 * the original buffer; sip_edit_write copies the untouched runs and the inserts
 * in one pass. Ops must not overlap; two inserts at one offset keep call order.
 * This is how the proxy adds/removes Via, Route and Record-Route and rewrites
 * the Request-URI and Max-Forwards (RFC 3261 §16.6). */
#ifndef SIPPROXY_SIP_EDIT_H
#define SIPPROXY_SIP_EDIT_H

#include <stddef.h>

#include "sip/msg.h"

#define SIP_EDIT_MAX_OPS 32
#define SIP_EDIT_SCRATCH 2048

struct sip_edit_op {
	size_t off;	 /* in m->buf */
	size_t del;	 /* bytes of the original removed at off */
	const char *ins; /* bytes inserted at off (in scratch or caller-owned) */
	size_t ins_len;
	unsigned seq; /* call order, to keep equal offsets stable */
};

struct sip_edit {
	const struct sip_msg *m;
	unsigned nops;
	struct sip_edit_op ops[SIP_EDIT_MAX_OPS];
	size_t scratch_used;
	char scratch[SIP_EDIT_SCRATCH]; /* inserted text is copied here */
	int failed;			/* set when an op did not fit / overlapped */
};

void sip_edit_init(struct sip_edit *e, const struct sip_msg *m);

/* Low level: replace del bytes at ptr (inside m->buf) with ins (copied). */
int sip_edit_replace(struct sip_edit *e, const char *at, size_t del, struct str ins);

/* Request-URI (request line) replaced by uri. */
int sip_edit_ruri(struct sip_edit *e, struct str uri);
/* Max-Forwards set to value; added after the last Via when absent (§16.6 step 3). */
int sip_edit_max_forwards(struct sip_edit *e, unsigned value);
/* A new topmost Via: "Via: <value>\r\n" before the first Via field. */
int sip_edit_via_push(struct sip_edit *e, struct str value);
/* Removes the top Via value (its whole field if it is the only value there). */
int sip_edit_via_pop(struct sip_edit *e);
/* Removes one Route value (the whole field if it is the only value there). */
int sip_edit_route_remove(struct sip_edit *e, const struct sip_addr *route);
/* Appends "Route: <value>\r\n" after the last Route (or where Route would go). */
int sip_edit_route_append(struct sip_edit *e, struct str value);
/* Inserts "Route: <value>\r\n" above every existing Route. */
int sip_edit_route_push(struct sip_edit *e, struct str value);
/* A new topmost Record-Route value; called twice, the second lands above the first. */
int sip_edit_record_route_push(struct sip_edit *e, struct str value);
/* "Name: value\r\n" just before the empty line that ends the headers. */
int sip_edit_header_add(struct sip_edit *e, struct str name, struct str value);
int sip_edit_header_remove(struct sip_edit *e, const struct sip_hdr *h);
/* Makes Content-Length present and equal to the body length (required on TCP). */
int sip_edit_content_length(struct sip_edit *e);

/* Exact size of the result; 0 if an op failed. */
size_t sip_edit_size(const struct sip_edit *e);
/* Writes the result; returns bytes written, 0 if it does not fit or an op failed. */
size_t sip_edit_write(const struct sip_edit *e, char *out, size_t cap);
/* The result in a new malloc'd buffer (*len set), NULL if an op failed or
 * out of memory. */
char *sip_edit_serialize(const struct sip_edit *e, size_t *len);

#endif
