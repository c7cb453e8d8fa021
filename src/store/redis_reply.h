/* redis_reply.h — the reply objects hiredis's reader builds for the Redis
 * link (redis_link.c): hiredis's own redisReply, freed with redis_reply_free
 * (each is one allocation), made by functions that refuse what no Redis answer of ours holds — an
 * array of more than REDIS_MAX_ELEMENTS or of a negative size (hiredis 0.14
 * would calloc whatever a peer announces, or cut it to an int) — and that
 * check a child's place in its parent instead of asserting. A refusal makes
 * the reader fail, and the link closes the connection. Internal to the store
 * layer. */
#ifndef SIPPROXY_STORE_REDIS_REPLY_H
#define SIPPROXY_STORE_REDIS_REPLY_H

#include <hiredis/hiredis.h>

/* Far above the largest answer we ask for (a bucket's groups, a log batch
 * of every partition). */
#define REDIS_MAX_ELEMENTS (1 << 20)

/* A reader using those functions; NULL when out of memory. */
redisReader *redis_reply_reader(void);
/* Frees a reply the reader made, its elements too; NULL is nothing. */
void redis_reply_free(void *reply);

#endif
