/*
 * fake_engine.h — an engine (src/engine/engine.h) that answers from a
 * table, for the decision and rule tests.
 *
 * It keeps the real engine's contract: an answer never comes before get()
 * returns (it is delivered by a zero-delay timer on the loop), at most one
 * callback per request, none after cancel. Paths not in the table are
 * answered 404, as dockerd answers for what does not exist; an entry with
 * a negative status is an engine that does not answer (the fail-closed
 * cases). Every path asked is recorded, so a test can check which look-ups
 * a decision made.
 */
#ifndef SG_FAKE_ENGINE_H
#define SG_FAKE_ENGINE_H

#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "engine/engine.h"

typedef struct {
    const char *path;
    int status;
    const char *json;
} fake_answer;

#define FAKE_MAX_ASKED 128

typedef struct {
    sg_engine base; /* first: an sg_engine * is a fake_engine * */
    uv_loop_t *loop;
    const fake_answer *answers;
    size_t n;
    int asked;
    char paths[FAKE_MAX_ASKED][256];
    int open; /* requests not yet answered or cancelled */
} fake_engine;

struct sg_engine_req {
    uv_timer_t timer;
    fake_engine *fe;
    sg_engine_cb cb;
    void *arg;
    int status;
    const char *json;
};

static void fake_closed(uv_handle_t *h) { free(h->data); }

static void fake_fire(uv_timer_t *t)
{
    sg_engine_req *r = t->data;
    r->fe->open--;
    json_t *body = r->json ? json_loads(r->json, 0, NULL) : NULL;
    sg_engine_cb cb = r->cb;
    void *arg = r->arg;
    uv_close((uv_handle_t *)&r->timer, fake_closed);
    cb(arg, r->status, body);
}

static sg_engine_req *fake_get(sg_engine *e, const char *path, sg_engine_cb cb, void *arg)
{
    fake_engine *fe = (fake_engine *)e;
    sg_engine_req *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    if (fe->asked < FAKE_MAX_ASKED)
        snprintf(fe->paths[fe->asked], sizeof fe->paths[0], "%s", path);
    fe->asked++;
    r->fe = fe;
    r->cb = cb;
    r->arg = arg;
    r->status = 404;
    r->json = "{\"message\":\"not found\"}";
    for (size_t i = 0; i < fe->n; i++)
        if (strcmp(fe->answers[i].path, path) == 0) {
            r->status = fe->answers[i].status;
            r->json = fe->answers[i].status < 0 ? NULL : fe->answers[i].json;
        }
    uv_timer_init(fe->loop, &r->timer);
    r->timer.data = r;
    uv_timer_start(&r->timer, fake_fire, 0, 0);
    fe->open++;
    return r;
}

static void fake_cancel(sg_engine *e, sg_engine_req *r)
{
    r->fe->open--;
    uv_timer_stop(&r->timer);
    uv_close((uv_handle_t *)&r->timer, fake_closed);
}

static const sg_engine_ops fake_ops = {.get = fake_get, .cancel = fake_cancel};

static inline void fake_engine_init(fake_engine *fe, uv_loop_t *loop, const fake_answer *a,
                                    size_t n)
{
    memset(fe, 0, sizeof *fe);
    fe->base.ops = &fake_ops;
    fe->loop = loop;
    fe->answers = a;
    fe->n = n;
}

/* Was path asked for? */
static inline int fake_asked(const fake_engine *fe, const char *path)
{
    for (int i = 0; i < fe->asked && i < FAKE_MAX_ASKED; i++)
        if (strcmp(fe->paths[i], path) == 0)
            return 1;
    return 0;
}

#endif
