/* publish.c — a published cluster definition (publish.h) is a replicated
 * record of kind 'c' (store/repl.h): group "definition", field "current",
 * payload the file's text, a fresh Call-ID per publish so the script never
 * takes a newer one for stale. Every proxy, the publisher too, applies it
 * when it arrives (the change log, or the full load at start: a published
 * definition then wins over the local file), unless it is the text already
 * applied. A definition this proxy cannot load is refused before it is
 * stored, with its line, and one that arrives and does not fit here (this
 * proxy is not in it, say) is logged and counted, the running one kept. */
#include "app/publish.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "sip/build.h"
#include "store/repl.h"
#include "util/log.h"

#define KIND_DEF  'c'
#define DEF_LABEL "published"

struct publish {
	const struct config *base;
	struct cluster *cluster;
	struct repl *repl;
	char *applied; /* text of the definition last applied */
};

/* Loads text against this proxy's config; NULL with err when it does not fit. */
static struct config *load(struct publish *pb, const char *text, char *err, size_t errlen)
{
	struct config *next = malloc(sizeof(*next));
	if (!next) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (config_load_cluster(text, DEF_LABEL, pb->base, next, err, errlen) < 0) {
		free(next);
		return NULL;
	}
	return next;
}

static void apply(struct publish *pb, struct str payload)
{
	char *text = malloc(payload.len + 1);
	if (!text)
		return;
	memcpy(text, payload.p, payload.len);
	text[payload.len] = '\0';
	if (pb->applied && strcmp(pb->applied, text) == 0) {
		free(text);
		return;
	}
	char err[1024];
	struct config *next = load(pb, text, err, sizeof(err));
	if (!next || cluster_apply(pb->cluster, next, err, sizeof(err)) < 0) {
		if (!next)
			cluster_reload_rejected(pb->cluster);
		LOG_ERROR("publish", "result=rejected reason=\"%s\": the running definition stays",
			  err);
		free(next);
		free(text);
		return;
	}
	LOG_INFO("publish", "result=applied nodes=%zu proxies=%zu", next->n_nodes, next->n_proxies);
	free(next);
	free(pb->applied);
	pb->applied = text;
}

static void on_change(void *arg, const struct repl_change *c)
{
	if (c->op == REPL_SAVE && str_eq(c->field, STR_LIT("current")))
		apply(arg, c->payload);
}

struct publish *publish_new(const struct config *base, struct cluster *cluster, struct repl *r)
{
	struct publish *pb = calloc(1, sizeof(*pb));
	if (!pb)
		return NULL;
	pb->base = base;
	pb->cluster = cluster;
	pb->repl = r;
	struct repl_kind k = {.kind = KIND_DEF, .arg = pb, .apply = on_change};
	if (r && repl_add_kind(r, &k) < 0) {
		free(pb);
		return NULL;
	}
	return pb;
}

void publish_free(struct publish *pb)
{
	if (!pb)
		return;
	free(pb->applied);
	free(pb);
}

int publish_upload(void *arg, const char *path, const char *body, size_t len, struct evbuffer *out,
		   const char **content_type)
{
	(void)path;
	(void)content_type;
	struct publish *pb = arg;
	if (!pb->repl) {
		evbuffer_add_printf(out,
				    "refused: no shared store (store.backend is not \"redis\"); "
				    "change the file and reload each proxy instead\n");
		return 409;
	}
	if (strlen(body) != len) {
		evbuffer_add_printf(out, "refused: the definition holds a NUL byte\n");
		return 400;
	}
	char err[1024];
	struct config *next = load(pb, body, err, sizeof(err));
	if (!next) {
		LOG_WARN("publish", "result=refused reason=\"%s\"", err);
		evbuffer_add_printf(out, "refused: %s\n", err);
		return 409;
	}
	free(next);
	char cid[24];
	sip_random_token(cid, 20);
	cid[20] = '\0';
	struct repl_write w = {
	    .kind = KIND_DEF,
	    .op = REPL_SAVE,
	    .group = STR_LIT("definition"),
	    .field = STR_LIT("current"),
	    .call_id = str_cstr(cid),
	    .cseq = 1,
	    .expires_at = repl_now_ms() + 10LL * 365 * 24 * 3600 * 1000,
	    .payload = str_make(body, len),
	};
	if (!repl_write(pb->repl, &w)) {
		evbuffer_add_printf(out, "refused: the store's write queue is full\n");
		return 503;
	}
	bool live = repl_state(pb->repl) == REPL_LIVE;
	LOG_INFO("publish", "result=stored bytes=%zu%s", len, live ? "" : " (queued: Redis away)");
	evbuffer_add_printf(out, "stored%s: every proxy applies it as it arrives\n",
			    live ? "" : " (queued until Redis is back)");
	return 200;
}
