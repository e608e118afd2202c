/*
 * cli_env.h — a decision environment for the admin commands (`check`,
 * `explain`): the engine socket for look-ups, what the engine says of
 * itself, the usual protected sockets, a digest cache in memory only. The
 * same code decides as in `serve`; only the environment is built here.
 */
#ifndef SG_CLI_ENV_H
#define SG_CLI_ENV_H

#include <stdbool.h>

#include "decide/policy_env.h"

/* Build env on loop; asks the engine at engine_path for /info (false in
 * *reached if it did not answer). restricted_path: the restricted socket
 * sockgate would give allowed containers. */
int sg_cli_env_open(uv_loop_t *loop, const char *engine_path, const char *restricted_path,
                    sg_policy_env *env, bool *reached);
void sg_cli_env_close(sg_policy_env *env);

#endif
