/*
 * engine_client.h — the real engine (engine.h) on dockerd's socket: each
 * look-up is one GET on a keep-alive connection (the last one is kept for
 * the next look-up), fully asynchronous on the event loop, bounded in time
 * and size, its answer parsed with sockgate's strict response parser and
 * jansson.
 */
#ifndef SG_ENGINE_CLIENT_H
#define SG_ENGINE_CLIENT_H

#include <uv.h>

#include "engine/engine.h"

#define SG_ENGINE_TIMEOUT_MS 10000
#define SG_ENGINE_MAX_BODY (16 * 1024 * 1024)

/* An engine on the socket at engine_path (copied), requests on loop. */
sg_engine *sg_engine_socket_new(uv_loop_t *loop, const char *engine_path);
/*
 * GET path?query: path is encoded as get() encodes it; query is sent as it
 * is and must be encoded already (only the bytes a query carries raw, and
 * %XX escapes). Returns NULL, and cb is never called, for any other byte
 * or when out of memory. For the admin commands, whose look-ups (lists
 * with label filters) have a query; the decision code never needs one.
 */
sg_engine_req *sg_engine_socket_get_query(sg_engine *e, const char *path, const char *query,
                                          sg_engine_cb cb, void *arg);
/* Keep no connection from now on, and close the kept one (shutdown). */
void sg_engine_socket_close_idle(sg_engine *e);
/* Closes the kept connection too; look-ups must be over (or cancelled). */
void sg_engine_socket_free(sg_engine *e);

#endif
