/* redis_reply.c — bounded reply objects for hiredis's reader (redis_reply.h).
 * Same layout as hiredis's (so freeReplyObject frees them), same linking of
 * a child into its parent's element array, but every size and index a peer
 * sends is checked first. */
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
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

static void *create_string(const redisReadTask *task, char *str, size_t len)
{
	if (task->type != REDIS_REPLY_ERROR && task->type != REDIS_REPLY_STATUS &&
	    task->type != REDIS_REPLY_STRING)
		return NULL;
	redisReply *r = calloc(1, sizeof(*r));
	char *buf = r ? malloc(len + 1) : NULL;
	if (!buf) {
		free(r);
		return NULL;
	}
	memcpy(buf, str, len);
	buf[len] = '\0';
	r->type = task->type;
	r->str = buf;
	r->len = len;
	return finish(task, r);
}

static void *create_array(const redisReadTask *task, int elements)
{
	if (elements < 0 || elements > REDIS_MAX_ELEMENTS)
		return NULL;
	redisReply *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->type = REDIS_REPLY_ARRAY;
	if (elements > 0) {
		r->element = calloc((size_t)elements, sizeof(*r->element));
		if (!r->element) {
			free(r);
			return NULL;
		}
	}
	r->elements = (size_t)elements;
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

static redisReplyObjectFunctions bounded = {
    create_string, create_array, create_integer, create_nil, freeReplyObject,
};

redisReader *redis_reply_reader(void)
{
	return redisReaderCreateWithFunctions(&bounded);
}
