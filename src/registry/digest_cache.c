/*
 * digest_cache.c — registry answers kept in memory and in the state
 * directory (see digest_cache.h).
 *
 * The file is JSON: {"docker.io/library/docker:cli": {"digest": "sha256:…",
 * "fetched": 1764350000}, …}, written to a temporary file and renamed, so a
 * crash never leaves half a file. Only positive answers are kept: a "not
 * found" must be asked again next time.
 */
#include "registry/digest_cache.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/ticker.h"

struct sg_digest_cache {
    uv_loop_t *loop;
    const sg_registry_config *cfg;
    char *state_file;
    unsigned ttl;
    json_t *entries;   /* key → {"digest", "fetched"} */
    sg_image_ref *watched; /* tags refreshed in the background */
    size_t n_watched;
    sg_ticker ticker;    /* the refresh (base/ticker.h)               */
    int in_flight;     /* thread-pool jobs not yet completed */
    bool closing;
};

typedef struct {
    uv_work_t work;
    sg_digest_cache *cache;
    char key[1024];
    char domain[256], path[256], reference[160];
    sg_registry_status st;
    char digest[80];
    char err[512];
    sg_digest_cb cb;
    void *arg;
} digest_job;

static void cache_key(char *out, size_t n, const char *domain, const char *path,
                      const char *reference)
{
    bool is_digest = strchr(reference, ':') != NULL;
    snprintf(out, n, "%s/%s%s%s", domain, path, is_digest ? "@" : ":", reference);
}

static void cache_load(sg_digest_cache *c)
{
    if (!c->state_file)
        return;
    json_error_t jerr;
    json_t *j = json_load_file(c->state_file, 0, &jerr);
    if (!j)
        return; /* first start, or unreadable: start empty */
    if (json_is_object(j)) {
        json_decref(c->entries);
        c->entries = j;
        sg_info("digest cache: %zu answer(s) loaded from %s", json_object_size(j),
                c->state_file);
        return;
    }
    json_decref(j);
}

static void cache_save(sg_digest_cache *c)
{
    if (!c->state_file)
        return;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", c->state_file);
    if (json_dump_file(c->entries, tmp, JSON_INDENT(1) | JSON_SORT_KEYS) != 0 ||
        rename(tmp, c->state_file) != 0)
        sg_warn("digest cache: cannot write %s", c->state_file);
}

static void job_run(uv_work_t *w)
{
    digest_job *j = w->data;
    j->st = sg_registry_manifest_digest(j->cache->cfg, j->domain, j->path, j->reference,
                                        j->digest, j->err, sizeof j->err);
}

static void cache_store(sg_digest_cache *c, const char *key, const char *digest)
{
    json_t *e = json_pack("{s:s,s:I}", "digest", digest, "fetched", (json_int_t)time(NULL));
    json_t *old = json_object_get(c->entries, key);
    bool changed = !old || strcmp(json_string_value(json_object_get(old, "digest")) ?
                                      json_string_value(json_object_get(old, "digest")) : "",
                                  digest) != 0;
    json_object_set_new(c->entries, key, e);
    if (changed)
        sg_info("digest cache: %s is %s", key, digest);
    cache_save(c);
}

static void job_done(uv_work_t *w, int status)
{
    digest_job *j = w->data;
    sg_digest_cache *c = j->cache;
    c->in_flight--;
    if (status == 0 && j->st == SG_REGISTRY_OK)
        cache_store(c, j->key, j->digest);
    if (j->cb) {
        json_t *e = json_object_get(c->entries, j->key);
        const char *cached = json_string_value(json_object_get(e, "digest"));
        bool unreachable = j->st == SG_REGISTRY_UNREACHABLE || j->st == SG_REGISTRY_ERROR;
        if (j->st == SG_REGISTRY_OK)
            j->cb(j->arg, SG_REGISTRY_OK, j->digest, false, NULL);
        else if (unreachable && cached)
            j->cb(j->arg, SG_REGISTRY_OK, cached, true, NULL);
        else
            j->cb(j->arg, j->st, NULL, false, j->err);
    } else if (j->st != SG_REGISTRY_OK) {
        sg_warn("digest cache: refreshing %s: %s", j->key, j->err);
    }
    free(j);
}

static void cache_fetch(sg_digest_cache *c, const char *domain, const char *path,
                        const char *reference, const char *key, sg_digest_cb cb, void *arg)
{
    digest_job *j = calloc(1, sizeof *j);
    if (!j) {
        if (cb)
            cb(arg, SG_REGISTRY_ERROR, NULL, false, "out of memory");
        return;
    }
    j->cache = c;
    j->cb = cb;
    j->arg = arg;
    snprintf(j->key, sizeof j->key, "%s", key);
    snprintf(j->domain, sizeof j->domain, "%s", domain);
    snprintf(j->path, sizeof j->path, "%s", path);
    snprintf(j->reference, sizeof j->reference, "%s", reference);
    j->work.data = j;
    c->in_flight++;
    if (uv_queue_work(c->loop, &j->work, job_run, job_done) != 0) {
        c->in_flight--;
        free(j);
        if (cb)
            cb(arg, SG_REGISTRY_ERROR, NULL, false, "cannot queue the registry look-up");
    }
}

void sg_digest_cache_lookup(sg_digest_cache *c, const char *domain, const char *path,
                            const char *reference, sg_digest_cb cb, void *arg)
{
    char key[1024];
    cache_key(key, sizeof key, domain, path, reference);
    json_t *e = json_object_get(c->entries, key);
    json_int_t fetched = json_integer_value(json_object_get(e, "fetched"));
    const char *digest = json_string_value(json_object_get(e, "digest"));
    if (digest && time(NULL) - fetched < (json_int_t)c->ttl) {
        cb(arg, SG_REGISTRY_OK, digest, false, NULL);
        return;
    }
    cache_fetch(c, domain, path, reference, key, cb, arg);
}

static void cache_refresh(sg_ticker *t)
{
    sg_digest_cache *c = t->data;
    for (size_t i = 0; i < c->n_watched; i++) {
        const sg_image_ref *r = &c->watched[i];
        char key[1024];
        cache_key(key, sizeof key, r->domain, r->path, r->tag);
        cache_fetch(c, r->domain, r->path, r->tag, key, NULL, NULL);
    }
}

void sg_digest_cache_watch(sg_digest_cache *c, const sg_image_ref *refs, size_t n)
{
    free(c->watched);
    c->watched = n ? malloc(n * sizeof *refs) : NULL;
    c->n_watched = c->watched ? n : 0;
    if (c->n_watched)
        memcpy(c->watched, refs, n * sizeof *refs);
    if (c->n_watched > 0) {
        uint64_t every = (uint64_t)(c->ttl > 2 ? c->ttl / 2 : 1) * 1000;
        sg_ticker_start(&c->ticker, cache_refresh, 0, every);
    } else {
        sg_ticker_stop(&c->ticker);
    }
}

sg_digest_cache *sg_digest_cache_new(uv_loop_t *loop, const sg_registry_config *cfg,
                                     const char *state_file, unsigned ttl_seconds)
{
    sg_digest_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->loop = loop;
    c->cfg = cfg;
    c->ttl = ttl_seconds;
    c->state_file = state_file ? strdup(state_file) : NULL;
    c->entries = json_object();
    if (sg_ticker_init(loop, &c->ticker) != 0) {
        json_decref(c->entries);
        free(c->state_file);
        free(c);
        return NULL;
    }
    c->ticker.data = c;
    sg_ticker_unref(&c->ticker); /* never keeps the loop alive alone */
    cache_load(c);
    return c;
}

static void cache_on_ticker_closed(uv_handle_t *h)
{
    sg_digest_cache *c = ((sg_ticker *)h->data)->data;
    json_decref(c->entries);
    free(c->watched);
    free(c->state_file);
    free(c);
}

/* Jobs still on the thread pool hold a pointer to the cache: the caller
 * frees it only after the loop has run dry (they are done by then). */
void sg_digest_cache_free(sg_digest_cache *c)
{
    if (!c)
        return;
    sg_ticker_close(&c->ticker, cache_on_ticker_closed);
}

json_t *sg_digest_cache_snapshot(const sg_digest_cache *c)
{
    return c ? json_deep_copy(c->entries) : json_object();
}
