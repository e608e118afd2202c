/*
 * policy_env.h — what the policy needs from the outside world to decide:
 * the loop, the engine socket (look-ups), the protected sockets, the path of
 * the restricted socket (what allowed containers get), and the registry
 * client with its digest cache. Built by the server at start; the policy
 * code only reads it.
 */
#ifndef SG_POLICY_ENV_H
#define SG_POLICY_ENV_H

#include <uv.h>

#include "decide/exposure.h"
#include "registry/digest_cache.h"
#include "registry/registry.h"

typedef struct {
    uv_loop_t *loop;
    const char *engine_path;
    sg_protected_set protected;
    char *restricted_path;      /* host path bound into allowed containers */
    sg_registry_config registry;
    sg_digest_cache *digests;
} sg_policy_env;

#endif
