/* contact_index.c — which AOR a registered Contact URI belongs to, so that a
 * request from a SIP Server addressed straight to a contact (Request-URI = the
 * Contact it was given, RFC 3261 §16.5) still reaches the endpoint through the
 * binding's flow. Kept up to date from the store's change events (store_watch),
 * so it works the same over any store backend; rebuilt from the store at start. */
#include "registrar/contact_index.h"

#include <stdlib.h>
#include <string.h>

struct ci_entry {
	struct ci_entry *next;
	uint32_t hash;
	uint16_t contact_len, aor_len;
	char data[]; /* contact, then aor */
};

struct contact_index {
	struct ci_entry **b;
	size_t size, count;
};

struct contact_index *contact_index_new(void)
{
	struct contact_index *ci = calloc(1, sizeof(*ci));
	if (!ci)
		return NULL;
	ci->size = 1024;
	ci->b = calloc(ci->size, sizeof(*ci->b));
	if (!ci->b) {
		free(ci);
		return NULL;
	}
	return ci;
}

void contact_index_free(struct contact_index *ci)
{
	if (!ci)
		return;
	for (size_t i = 0; i < ci->size; i++)
		for (struct ci_entry *e = ci->b[i], *n; e; e = n) {
			n = e->next;
			free(e);
		}
	free(ci->b);
	free(ci);
}

static struct ci_entry **find(struct contact_index *ci, struct str contact, uint32_t h)
{
	struct ci_entry **pp = &ci->b[h & (ci->size - 1)];
	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && (*pp)->contact_len == contact.len &&
		    memcmp((*pp)->data, contact.p, contact.len) == 0)
			return pp;
	return pp;
}

static void grow(struct contact_index *ci)
{
	size_t nsize = ci->size * 2;
	struct ci_entry **nb = calloc(nsize, sizeof(*nb));
	if (!nb)
		return; /* keep the longer chains */
	for (size_t i = 0; i < ci->size; i++)
		for (struct ci_entry *e = ci->b[i], *n; e; e = n) {
			n = e->next;
			e->next = nb[e->hash & (nsize - 1)];
			nb[e->hash & (nsize - 1)] = e;
		}
	free(ci->b);
	ci->b = nb;
	ci->size = nsize;
}

int contact_index_set(struct contact_index *ci, struct str contact, struct str aor)
{
	if (contact.len > UINT16_MAX || aor.len > UINT16_MAX)
		return -1;
	uint32_t h = str_hash(contact);
	struct ci_entry **pp = find(ci, contact, h);
	if (*pp && (*pp)->aor_len == aor.len &&
	    memcmp((*pp)->data + (*pp)->contact_len, aor.p, aor.len) == 0)
		return 0;
	struct ci_entry *e = malloc(sizeof(*e) + contact.len + aor.len);
	if (!e)
		return -1;
	e->hash = h;
	e->contact_len = (uint16_t)contact.len;
	e->aor_len = (uint16_t)aor.len;
	memcpy(e->data, contact.p, contact.len);
	memcpy(e->data + contact.len, aor.p, aor.len);
	if (*pp) { /* the contact moved to another AOR: last registration wins */
		e->next = (*pp)->next;
		free(*pp);
		*pp = e;
		return 0;
	}
	e->next = NULL;
	*pp = e;
	if (++ci->count > ci->size)
		grow(ci);
	return 0;
}

void contact_index_remove(struct contact_index *ci, struct str contact, struct str aor)
{
	struct ci_entry **pp = find(ci, contact, str_hash(contact));
	struct ci_entry *e = *pp;
	if (!e || e->aor_len != aor.len || memcmp(e->data + e->contact_len, aor.p, aor.len) != 0)
		return;
	*pp = e->next;
	free(e);
	ci->count--;
}

bool contact_index_get(const struct contact_index *ci, struct str contact, struct str *aor)
{
	struct ci_entry **pp = find((struct contact_index *)ci, contact, str_hash(contact));
	if (!*pp)
		return false;
	*aor = str_make((*pp)->data + (*pp)->contact_len, (*pp)->aor_len);
	return true;
}

size_t contact_index_count(const struct contact_index *ci) { return ci->count; }
