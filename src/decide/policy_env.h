/*
 * policy_env.h — what the decision code needs from the outside world: the
 * loop, the engine (look-ups, behind engine.h), what sockgate has learned
 * about the engine, the protected sockets, the path of the restricted
 * socket (what allowed containers get), and the registry client with its
 * digest cache. Built by the server at start; the decision code only reads
 * it.
 */
#ifndef SG_POLICY_ENV_H
#define SG_POLICY_ENV_H

#include <stdbool.h>
#include <uv.h>

#include "decide/exposure.h"
#include "engine/engine.h"
#include "engine/engine_info.h"
#include "registry/digest_cache.h"
#include "registry/registry.h"

typedef struct {
    uv_loop_t *loop;
    sg_engine *engine;
    sg_engine_info info;        /* GET /info, at start and every minute   */
    sg_protected_set protected;
    char *restricted_path;      /* host path bound into allowed containers */
    sg_registry_config registry;
    sg_digest_cache *digests;
} sg_policy_env;

#endif
