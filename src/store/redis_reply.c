/* redis_reply.c — bounded reply objects for hiredis's reader (redis_reply.h).
 * hiredis's redisReply, and the same linking of a child into its parent's
 * element array, but every size and index a peer sends is checked first, and
 * each object is one allocation: a string's bytes or an array's element
 * pointers follow the struct (a full load makes two strings per group it
 * reads), so redis_reply_free, not freeReplyObject, frees them. */
#include "store/redis_reply.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Links r into its parent's array; false when the place does not exist. */
static bool link_child(const redisReadTask *task, redisReply *r)
{
	if (!task->parent)
		return true;
	redisReply *parent = task->parent->obj;
	if (!parent || parent->type != REDIS_REPLY_ARRAY || !parent->element || task->idx < 0 ||
	    (size_t)task->idx >= parent->elements)
		return false;
	parent->element[task->idx] = r;
	return true;
}

static void *finish(const redisReadTask *task, redisReply *r)
{
	if (!link_child(task, r)) {
		redis_reply_free(r);
		return NULL;
	}
	return r;
}

static void *create_string(const redisReadTask *task, char *str, size_t len)
{
	if (task->type != REDIS_REPLY_ERROR && task->type != REDIS_REPLY_STATUS &&
	    task->type != REDIS_REPLY_STRING)
		return NULL;
	if (len > SIZE_MAX - sizeof(redisReply) - 1)
		return NULL;
	redisReply *r = malloc(sizeof(*r) + len + 1);
	if (!r)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->str = (char *)(r + 1);
	memcpy(r->str, str, len);
	r->str[len] = '\0';
	r->type = task->type;
	r->len = len;
	return finish(task, r);
}

static void *create_array(const redisReadTask *task, int elements)
{
	if (elements < 0 || elements > REDIS_MAX_ELEMENTS)
		return NULL;
	size_t n = (size_t)elements;
	redisReply *r = calloc(1, sizeof(*r) + n * sizeof(*r->element));
	if (!r)
		return NULL;
	r->type = REDIS_REPLY_ARRAY;
	if (n > 0)
		r->element = (redisReply **)(r + 1);
	r->elements = n;
	return finish(task, r);
}

static void *create_integer(const redisReadTask *task, long long value)
{
	redisReply *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->type = REDIS_REPLY_INTEGER;
	r->integer = value;
	return finish(task, r);
}

static void *create_nil(const redisReadTask *task)
{
	redisReply *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->type = REDIS_REPLY_NIL;
	return finish(task, r);
}

void redis_reply_free(void *reply)
{
	redisReply *r = reply;
	if (!r)
		return;
	if (r->type == REDIS_REPLY_ARRAY)
		for (size_t i = 0; i < r->elements; i++)
			redis_reply_free(r->element[i]);
	free(r);
}

static redisReplyObjectFunctions bounded = {
    create_string, create_array, create_integer, create_nil, redis_reply_free,
};

redisReader *redis_reply_reader(void)
{
	return redisReaderCreateWithFunctions(&bounded);
}
