/*
 * engine_client.h — sockgate's own look-ups at dockerd (inspect an image,
 * a container, a volume) while it decides a request.
 *
 * Each look-up is one short connection to the engine socket ("Connection:
 * close"), fully asynchronous on the event loop, bounded in time and size.
 * The answer is parsed with sockgate's strict response parser and jansson.
 */
#ifndef SG_ENGINE_CLIENT_H
#define SG_ENGINE_CLIENT_H

#include <jansson.h>
#include <uv.h>

#define SG_ENGINE_TIMEOUT_MS 10000
#define SG_ENGINE_MAX_BODY (16 * 1024 * 1024)

typedef struct sg_engine_req sg_engine_req;

/*
 * status: the HTTP status dockerd answered, or a negative libuv error
 * (connection refused, timeout) with body NULL. body: the parsed JSON answer
 * (NULL if it was not JSON); the callback owns the reference.
 */
typedef void (*sg_engine_cb)(void *arg, int status, json_t *body);

/*
 * GET path (decoded; it is percent-encoded here) from the engine socket.
 * Returns NULL only if the request could not be started (out of memory),
 * in which case cb is not called.
 */
sg_engine_req *sg_engine_get(uv_loop_t *loop, const char *engine_path,
                             const char *path, sg_engine_cb cb, void *arg);

/* The caller no longer wants the answer: cb will not be called. */
void sg_engine_cancel(sg_engine_req *req);

#endif
