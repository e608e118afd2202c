/*
 * check.c — `sockgate check FILE [--engine PATH] [--daemon-json PATH]`:
 * validate a settings file and print the policy it makes, the way sockgate
 * will enforce it, with what sockgate learns from the engine (user
 * namespaces, default runtime) and from dockerd's daemon.json (builder
 * entitlements, image store, listeners that go around the gate).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli_env.h"
#include "cli/commands.h"
#include "cli/daemon_json.h"
#include "policy/settings.h"
#include "route/route_table.h"

static void check_images(const sg_settings *s)
{
    printf("images that may mount the Docker socket:%s\n", s->n_images ? "" : " none");
    for (size_t i = 0; i < s->n_images; i++) {
        char norm[SG_REF_MAX];
        if (s->images[i].everyone)
            snprintf(norm, sizeof norm, "every image, local-only ones included");
        else
            sg_image_ref_string(&s->images[i].ref, norm, sizeof norm);
        printf("  %-40s %s\n", s->images[i].text, norm);
    }
    printf("derived images (allowDerivedImages): %s\n", s->allow_derived ? "allowed" : "denied");
}

static void check_commands(const sg_settings *s)
{
    printf("command list: %s", s->commands.type == SG_COMMANDS_NONE    ? "none\n"
                               : s->commands.type == SG_COMMANDS_ALLOW ? "allow"
                                                                       : "deny");
    for (size_t i = 0; i < s->commands.n; i++)
        printf(" %s", s->commands.names[i]);
    if (s->commands.type == SG_COMMANDS_NONE)
        return;
    printf("\n  routes it %s on the restricted socket:\n",
           s->commands.type == SG_COMMANDS_DENY ? "blocks" : "lets through");
    for (size_t r = 1; r < ROUTE_COUNT; r++) {
        const route_info *ri = route_lookup((route_id)r);
        if (s->commands.compiled.route_hit[r])
            printf("    %-7s %s\n", http_method_name(ri->method), ri->pattern);
    }
    if (s->commands.type == SG_COMMANDS_ALLOW)
        printf("    HEAD/GET /_ping (always)\n");
}

static void check_isolation(const sg_settings *s)
{
    printf("isolation rules (docs/DESIGN.md section 7): everyone on the restricted socket; on the "
           "public socket everyone but root");
    if (s->n_exempt_uids || s->n_exempt_gids) {
        printf(" and (sockgate.exemptFromIsolation)");
        for (size_t i = 0; i < s->n_exempt_uids; i++)
            printf(" uid %u", (unsigned)s->exempt_uids[i]);
        for (size_t i = 0; i < s->n_exempt_gids; i++)
            printf(" gid %u", (unsigned)s->exempt_gids[i]);
    }
    printf("\n  refused: privileged, host namespaces, capabilities beyond Docker's defaults, "
           "devices,\n  unconfined profiles and unmasked paths, cgroup parents, other runtimes, "
           "engine-wide changes\n");
    printf("  host paths only inside (filesharingAllowedDirectories):");
    if (!s->shares_set)
        printf(" $HOME (the key is absent: Docker Desktop's default)");
    for (size_t i = 0; i < s->n_shares; i++)
        printf(" %s", s->shares[i].path);
    printf("\n  ($HOME is the caller's home for non-root callers on the public socket, nothing "
           "otherwise; $TMP and $TEMP are /tmp)\n");
}

static void check_engine(const char *engine_path)
{
    uv_loop_t loop;
    sg_policy_env env;
    bool reached = false;
    uv_loop_init(&loop);
    if (sg_cli_env_open(&loop, engine_path, SG_DEFAULT_RESTRICTED, &env, &reached) == 0) {
        char line[256];
        sg_engine_info_describe(&env.info, line, sizeof line);
        printf("engine at %s: %s\n", engine_path, reached ? line : "not reachable");
    }
    sg_cli_env_close(&env);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
}

int sg_cmd_check(int argc, char **argv)
{
    const char *engine = SG_DEFAULT_ENGINE, *file = NULL, *daemon = "/etc/docker/daemon.json";
    bool bad = false;
    for (int i = 1; i < argc && !bad; i++) {
        if (strcmp(argv[i], "--engine") == 0 && i + 1 < argc)
            engine = argv[++i];
        else if (strcmp(argv[i], "--daemon-json") == 0 && i + 1 < argc)
            daemon = argv[++i];
        else if (!file && argv[i][0] != '-')
            file = argv[i];
        else
            bad = true;
    }
    if (!file || bad) {
        fputs("usage: sockgate check FILE [--engine PATH] [--daemon-json PATH]\n", stderr);
        return 2;
    }
    char err[1024];
    sg_settings *s = sg_settings_load(file, err, sizeof err);
    if (!s) {
        fprintf(stderr, "sockgate check: %s\n", err);
        return 1;
    }
    if (s->warnings[0])
        fprintf(stderr, "warning: %s\n", s->warnings);
    printf("%s: valid\n", file);
    printf("enhanced container isolation: %s%s\n", s->eci_enabled ? "on" : "off",
           s->locked ? " (locked)" : "");
    if (s->eci_enabled) {
        check_images(s);
        check_commands(s);
        check_isolation(s);
    }
    printf("port binding (portBindingBehavior): %s\n", sg_port_behavior_name(s->ports));
    printf("docker load (blockDockerLoad): %s\n", s->block_load ? "blocked" : "allowed");
    check_engine(engine);
    sg_settings_unref(s);
    /* dockerd's side: what the gate cannot change but should be told. */
    return sg_daemon_json_report(daemon, stdout) < 0 ? 1 : 0;
}
