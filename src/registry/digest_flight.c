/*
 * digest_flight.c — registry look-ups in flight (see digest_cache.h): one
 * thread-pool job per key, and the callers waiting for it, each with a
 * deadline of its own.
 *
 * Why both. The registry client blocks a thread of libuv's pool (four) for
 * up to the registry's total timeout, so against a registry that accepts
 * and never answers, eight look-ups for one image took two rounds of that
 * timeout and the last ones waited behind the first; a reload that
 * refreshed every listed tag filled the pool for as long. Merging makes
 * one job per key whatever the number of callers; the deadline makes a
 * caller's wait the timeout counted from its own request, not from
 * whenever the pool gets to its job. A caller whose deadline passes is
 * answered as if the registry were unreachable (a persisted digest if
 * there is one) and forgotten by the job, which goes on: its answer still
 * updates the cache, and answers whoever joined since.
 *
 * Each waiter owns a libuv timer, freed in its close callback; the cache
 * counts those timers so that it outlives them (digest_cache_int.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "registry/digest_cache_int.h"

typedef struct dc_waiter dc_waiter;

struct sg_dc_job {
    uv_work_t work;
    sg_digest_cache *cache;
    sg_dc_job *next;
    dc_waiter *waiters;      /* not answered yet, in the order they came   */
    bool answering;          /* its waiters are being told: joins start anew */
    bool told_late;          /* a waiter's deadline passed (logged once)   */
    /* read by the pool thread; set before it is queued */
    const sg_registry_config *cfg;
    sg_digest_fetch_fn fetch;
    char key[SG_DC_KEY_MAX];
    char domain[256], path[256], reference[160];
    /* written by the pool thread; read after job_done */
    sg_registry_status st;
    char digest[80];
    char err[512];
};

struct dc_waiter {
    uv_timer_t deadline;
    sg_digest_cache *cache;
    sg_dc_job *job;          /* NULL once answered                         */
    dc_waiter *next;
    sg_digest_cb cb;
    void *arg;
};

void sg_dc_tell(const sg_digest_cache *c, const char *key, sg_registry_status st,
                const char *digest, const char *err, sg_digest_cb cb, void *arg)
{
    char cached[80];
    bool unreachable = st == SG_REGISTRY_UNREACHABLE || st == SG_REGISTRY_ERROR;
    if (st == SG_REGISTRY_OK)
        cb(arg, SG_REGISTRY_OK, digest, false, NULL);
    else if (unreachable && sg_dc_persisted(c, key, cached))
        cb(arg, SG_REGISTRY_OK, cached, true, NULL);
    else
        cb(arg, st, NULL, false, err);
}

/* ---- waiters ------------------------------------------------------------ */

static void waiter_closed(uv_handle_t *h)
{
    dc_waiter *w = h->data;
    sg_digest_cache *c = w->cache;
    free(w);
    c->n_timers--;
    sg_dc_release(c);
}

static void waiter_detach(dc_waiter *w)
{
    dc_waiter **p = &w->job->waiters;
    while (*p != w)
        p = &(*p)->next;
    *p = w->next;
    w->job = NULL;
}

/* Tell w once and let it go. key is the job's (the job outlives this). */
static void waiter_answer(dc_waiter *w, const char *key, sg_registry_status st,
                          const char *digest, const char *err)
{
    sg_digest_cb cb = w->cb;
    void *arg = w->arg;
    waiter_detach(w);
    uv_close((uv_handle_t *)&w->deadline, waiter_closed); /* stops it too */
    sg_dc_tell(w->cache, key, st, digest, err, cb, arg);
}

static void waiter_on_deadline(uv_timer_t *t)
{
    dc_waiter *w = t->data;
    sg_dc_job *j = w->job;
    long ms = sg_registry_total_timeout_ms(w->cache->cfg);
    char err[160];
    snprintf(err, sizeof err, "timed out: no answer from registry %.100s within %ld %s",
             j->domain, ms % 1000 ? ms : ms / 1000, ms % 1000 ? "ms" : "s");
    if (!j->told_late) {
        j->told_late = true;
        sg_warn("digest cache: %s: %s; answered as unreachable, the look-up goes on", j->key,
                err);
    }
    waiter_answer(w, j->key, SG_REGISTRY_UNREACHABLE, NULL, err);
}

/* A caller waits for j until j answers or its own deadline passes. */
static void waiter_add(sg_dc_job *j, sg_digest_cb cb, void *arg)
{
    sg_digest_cache *c = j->cache;
    dc_waiter *w = calloc(1, sizeof *w);
    if (!w) {
        sg_dc_tell(c, j->key, SG_REGISTRY_ERROR, NULL, "out of memory", cb, arg);
        return;
    }
    *w = (dc_waiter){.cache = c, .job = j, .cb = cb, .arg = arg};
    uv_timer_init(c->loop, &w->deadline);
    w->deadline.data = w;
    c->n_timers++;
    dc_waiter **p = &j->waiters;
    while (*p)
        p = &(*p)->next;
    *p = w;
    /* Called from the request path, outside uv_run: libuv's clock may be
     * a whole wait behind (base/ioloop.h). */
    uv_update_time(c->loop);
    uv_timer_start(&w->deadline, waiter_on_deadline,
                   (uint64_t)sg_registry_total_timeout_ms(c->cfg), 0);
}

/* ---- jobs --------------------------------------------------------------- */

static void job_run(uv_work_t *work)
{
    sg_dc_job *j = work->data;
    j->st = j->fetch(j->cfg, j->domain, j->path, j->reference, j->digest, j->err,
                     sizeof j->err);
}

static void job_unlink(sg_dc_job *j)
{
    sg_dc_job **p = &j->cache->jobs;
    while (*p != j)
        p = &(*p)->next;
    *p = j->next;
}

/* The answer goes into the cache first, so that every waiter — and any
 * look-up a waiter's callback makes — sees it. */
static void job_record(sg_dc_job *j, int status)
{
    sg_digest_cache *c = j->cache;
    if (status != 0) { /* cancelled by sg_dc_flight_close before it ran */
        j->st = SG_REGISTRY_ERROR;
        snprintf(j->err, sizeof j->err, "sockgate is shutting down");
        return;
    }
    if (c->closing)
        return;
    if (j->st == SG_REGISTRY_OK)
        sg_dc_store(c, j->key, j->digest);
    else if (!j->waiters) /* nobody to tell: say it here */
        sg_warn("digest cache: asking about %s: %s", j->key, j->err);
}

static void job_done(uv_work_t *work, int status)
{
    sg_dc_job *j = work->data;
    sg_digest_cache *c = j->cache;
    job_record(j, status);
    j->answering = true;
    while (j->waiters)
        waiter_answer(j->waiters, j->key, j->st, j->digest, j->err);
    job_unlink(j);
    free(j);
    sg_dc_release(c);
}

static sg_dc_job *job_find(const sg_digest_cache *c, const char *key)
{
    for (sg_dc_job *j = c->jobs; j; j = j->next)
        if (!j->answering && strcmp(j->key, key) == 0)
            return j;
    return NULL;
}

static sg_dc_job *job_start(sg_digest_cache *c, const char *domain, const char *path,
                            const char *reference, const char *key)
{
    sg_dc_job *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->cache = c;
    j->cfg = c->cfg;
    j->fetch = c->fetch;
    snprintf(j->key, sizeof j->key, "%s", key);
    snprintf(j->domain, sizeof j->domain, "%s", domain);
    snprintf(j->path, sizeof j->path, "%s", path);
    snprintf(j->reference, sizeof j->reference, "%s", reference);
    j->work.data = j;
    if (uv_queue_work(c->loop, &j->work, job_run, job_done) != 0) {
        free(j);
        return NULL;
    }
    j->next = c->jobs;
    c->jobs = j;
    return j;
}

bool sg_dc_asking(const sg_digest_cache *c, const char *key)
{
    return job_find(c, key) != NULL;
}

void sg_dc_ask(sg_digest_cache *c, const char *domain, const char *path,
               const char *reference, const char *key, sg_digest_cb cb, void *arg)
{
    sg_dc_job *j = job_find(c, key);
    if (!j)
        j = job_start(c, domain, path, reference, key);
    if (!j && cb)
        sg_dc_tell(c, key, SG_REGISTRY_ERROR, NULL, "cannot queue the registry look-up", cb,
                   arg);
    else if (!j)
        sg_warn("digest cache: cannot queue the refresh of %s", key);
    else if (cb)
        waiter_add(j, cb, arg);
}

void sg_dc_flight_close(sg_digest_cache *c)
{
    for (sg_dc_job *j = c->jobs; j; j = j->next) {
        while (j->waiters)
            waiter_answer(j->waiters, j->key, SG_REGISTRY_ERROR, NULL,
                          "sockgate is shutting down");
        uv_cancel((uv_req_t *)&j->work); /* fails, harmlessly, once it runs */
    }
}
