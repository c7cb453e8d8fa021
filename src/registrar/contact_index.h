/* contact_index.h — registered Contact URI -> address-of-record. */
#ifndef SIPPROXY_REGISTRAR_CONTACT_INDEX_H
#define SIPPROXY_REGISTRAR_CONTACT_INDEX_H

#include <stdbool.h>
#include <stddef.h>

#include "util/str.h"

struct contact_index;

struct contact_index *contact_index_new(void);
void contact_index_free(struct contact_index *ci);
/* Records that contact is bound to aor (copies both). 0 or -1. */
int contact_index_set(struct contact_index *ci, struct str contact, struct str aor);
/* Forgets contact if it is bound to aor. */
void contact_index_remove(struct contact_index *ci, struct str contact, struct str aor);
/* The AOR of contact; the slice lives until the entry changes. */
bool contact_index_get(const struct contact_index *ci, struct str contact, struct str *aor);
size_t contact_index_count(const struct contact_index *ci);

#endif
