/*
 * engine.h — what the decision code may ask dockerd, behind an interface.
 *
 * Deciding a request sometimes needs the engine's view of the world: the
 * container a request acts on, the volumes and networks it names, the image
 * it runs. The decision code only sees this interface, so that each rule
 * can be unit-tested against a fake engine that answers from a table
 * (tests/unit/fake_engine.c) as well as end-to-end against the real one
 * (engine_client.c, the engine socket).
 *
 * Contract of every implementation:
 *   - get() never calls cb before it returns; cb is called exactly once,
 *     later, on the loop, unless the request is cancelled first;
 *   - status is the HTTP status dockerd answered, or a negative libuv error
 *     (refused, timed out, malformed answer) with body NULL; callers treat
 *     anything but an expected status as "cannot tell" and fail closed;
 *   - body is the parsed JSON answer or NULL; the callback owns it.
 */
#ifndef SG_ENGINE_H
#define SG_ENGINE_H

#include <jansson.h>

typedef struct sg_engine sg_engine;
typedef struct sg_engine_req sg_engine_req;

typedef void (*sg_engine_cb)(void *arg, int status, json_t *body);

typedef struct {
    /* GET path (decoded; the implementation encodes it). NULL only when the
     * request cannot be started (out of memory): cb is then never called. */
    sg_engine_req *(*get)(sg_engine *e, const char *path, sg_engine_cb cb, void *arg);
    /* The caller no longer wants the answer: cb will not be called. */
    void (*cancel)(sg_engine *e, sg_engine_req *req);
} sg_engine_ops;

struct sg_engine {
    const sg_engine_ops *ops;
};

static inline sg_engine_req *sg_engine_get(sg_engine *e, const char *path, sg_engine_cb cb,
                                           void *arg)
{
    return e->ops->get(e, path, cb, arg);
}

static inline void sg_engine_cancel(sg_engine *e, sg_engine_req *req)
{
    e->ops->cancel(e, req);
}

#endif
