/*
 * cli_env.c — the admin commands' decision environment (see cli_env.h).
 */
#include "cli/cli_env.h"

#include <stdlib.h>
#include <string.h>

#include "engine/engine_client.h"

typedef struct {
    bool done;
    sg_engine_info *info;
} info_wait;

static void cli_on_info(void *arg, int status, json_t *body)
{
    info_wait *w = arg;
    w->done = true;
    if (status == 200)
        sg_engine_info_read(body, w->info);
    json_decref(body);
}

int sg_cli_env_open(uv_loop_t *loop, const char *engine_path, const char *restricted_path,
                    sg_policy_env *env, bool *reached)
{
    memset(env, 0, sizeof *env);
    env->loop = loop;
    env->engine = sg_engine_socket_new(loop, engine_path);
    env->restricted_path = strdup(restricted_path);
    env->digests = sg_digest_cache_new(loop, &env->registry, NULL, 300);
    if (!env->engine || !env->restricted_path || !env->digests)
        return -1;
    sg_protected_add(&env->protected, engine_path);
    sg_protected_add(&env->protected, restricted_path);
    sg_protected_add(&env->protected, "/run/docker.sock");
    sg_protected_add(&env->protected, "/var/run/docker.sock");
    info_wait w = {.info = &env->info};
    if (sg_engine_get(env->engine, "/info", cli_on_info, &w))
        while (!w.done && uv_run(loop, UV_RUN_ONCE))
            ;
    *reached = env->info.known;
    return 0;
}

void sg_cli_env_close(sg_policy_env *env)
{
    sg_digest_cache_free(env->digests);
    sg_protected_free(&env->protected);
    free(env->restricted_path);
    sg_engine_socket_free(env->engine);
    memset(env, 0, sizeof *env);
}
