/*
 * explain.c — `sockgate explain`: how one request is routed, which
 * commands it belongs to, and how it is decided for each kind of caller,
 * with its body (--body) decided by the same code as `serve`: every
 * finding and every edit is printed.
 *
 *   sockgate explain [--settings FILE] [--body FILE|-] [--engine PATH]
 *                    [--uid N] METHOD TARGET
 *   sockgate explain --commands
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_env.h"
#include "cli/commands.h"
#include "decide/decide.h"
#include "policy/commands.h"
#include "route/router.h"

typedef struct {
    const char *settings, *body_file, *engine;
    unsigned uid;
    const char *method, *target;
} explain_args;

static int explain_usage(void)
{
    fputs("usage: sockgate explain [--settings FILE] [--body FILE|-] [--engine PATH] "
          "[--uid N] METHOD TARGET\n"
          "       sockgate explain --commands\n",
          stderr);
    return 2;
}

static bool explain_parse(int argc, char **argv, explain_args *a)
{
    *a = (explain_args){.engine = SG_DEFAULT_ENGINE, .uid = 1000};
    int pos = 0;
    for (int i = 1; i < argc; i++) {
        bool has = i + 1 < argc;
        if (strcmp(argv[i], "--settings") == 0 && has)
            a->settings = argv[++i];
        else if (strcmp(argv[i], "--body") == 0 && has)
            a->body_file = argv[++i];
        else if (strcmp(argv[i], "--engine") == 0 && has)
            a->engine = argv[++i];
        else if (strcmp(argv[i], "--uid") == 0 && has)
            a->uid = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (pos == 0 && argv[i][0] != '-')
            a->method = argv[i], pos++;
        else if (pos == 1)
            a->target = argv[i], pos++;
        else
            return false;
    }
    return a->method && a->target;
}

/* The whole of a file, or of stdin for "-". */
static char *explain_read_body(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap || cap >= SG_MAX_INSPECT_BODY)
            break;
        char *bigger = realloc(buf, cap *= 2);
        if (!bigger)
            free(buf);
        buf = bigger;
    }
    if (f != stdin)
        fclose(f);
    *len = n;
    return buf;
}

static void explain_route(const explain_args *a, router_status st, const router_match *m)
{
    printf("request: %s %s\n", a->method, a->target);
    switch (st) {
    case ROUTER_MATCH: {
        const route_info *ri = route_lookup(m->route);
        printf("route:   %s %s (%s)\n", a->method, ri->pattern, ri->id_name);
        printf("version: %s\n", m->has_version ? m->version : "(none: daemon default)");
        sg_commands_describe_route(stdout, m->route, m->route_path);
        break;
    }
    case ROUTER_UNKNOWN:
        printf("route:   none (dockerd answers 404 page not found)\n");
        sg_commands_describe_route(stdout, ROUTE_NONE, m->route_path ? m->route_path : m->path);
        break;
    case ROUTER_REDIRECT:
        printf("route:   none: dockerd redirects (301) to %s; sockgate answers the same\n",
               m->clean_path);
        break;
    case ROUTER_BAD:
        printf("route:   rejected with 400: %s\n", m->error ? m->error : "malformed target");
        break;
    }
}

/* One caller: the request-line verdict, then the body or target decision. */
static void explain_caller(sg_policy_env *env, const sg_settings *s, sg_request_ctx *ctx,
                           const char *who, const char *body, size_t len, bool have_body)
{
    sg_verdict v;
    sg_decide_request(s, ctx, &v);
    printf("\nas %s (%s):\n", who, v.isolated ? "isolated" : "not isolated");
    if (v.kind == SG_VERDICT_DENY) {
        printf("verdict: denied %d: %s\n  rule: %s\n", v.status, v.message, v.rule);
        return;
    }
    if (v.kind == SG_VERDICT_ALLOW) {
        printf("verdict: allowed (%s)\n", v.rule);
        return;
    }
    if (v.kind == SG_VERDICT_INSPECT_BODY && !have_body) {
        printf("verdict: decided on the body (%s); give it with --body FILE\n", v.rule);
        return;
    }
    sg_decision_explain(env, s, ctx, &v, body, len, stdout);
}

static int explain_run(const explain_args *a, http_method method)
{
    static router_match m;
    router_status st = router_route(method, a->target, strlen(a->target), &m);
    explain_route(a, st, &m);
    if (st == ROUTER_REDIRECT || st == ROUTER_BAD)
        return st == ROUTER_BAD;
    char err[1024];
    sg_settings *s = a->settings ? sg_settings_load(a->settings, err, sizeof err)
                                 : sg_settings_default();
    size_t len = 0;
    char *body = a->body_file ? explain_read_body(a->body_file, &len) : NULL;
    if (!s || (a->body_file && !body)) {
        fprintf(stderr, "sockgate explain: %s\n", !s ? err : "cannot read the body");
        sg_settings_unref(s);
        free(body);
        return 1;
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    sg_policy_env env;
    bool reached = false;
    if (sg_cli_env_open(&loop, a->engine, SG_DEFAULT_RESTRICTED, &env, &reached) == 0) {
        if (!reached)
            printf("engine at %s: not reachable; look-ups will fail (and refuse)\n", a->engine);
        sg_request_ctx ctx = {.method = method, .target = a->target, .route_status = st,
                              .match = &m, .content_type = "application/json"};
        sg_caller_from_socket(-1, SG_SOCKET_RESTRICTED, &ctx.caller);
        ctx.caller.uid = 0;
        explain_caller(&env, s, &ctx, "a container on the restricted socket", body, len,
                       a->body_file != NULL);
        sg_caller_from_socket(-1, SG_SOCKET_PUBLIC, &ctx.caller);
        ctx.caller.uid = 0;
        ctx.caller.gid = 0;
        ctx.caller.host_pidns = true; /* a host user, not a process in a container */
        explain_caller(&env, s, &ctx, "root on the public socket", body, len,
                       a->body_file != NULL);
        char who[64];
        snprintf(who, sizeof who, "uid %u on the public socket", a->uid);
        ctx.caller.uid = (uid_t)a->uid;
        ctx.caller.gid = (gid_t)a->uid;
        explain_caller(&env, s, &ctx, who, body, len, a->body_file != NULL);
    }
    sg_cli_env_close(&env);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    sg_settings_unref(s);
    free(body);
    return 0;
}

int sg_cmd_explain(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--commands") == 0) {
        sg_commands_print_table(stdout);
        return 0;
    }
    explain_args a;
    http_method method;
    if (!explain_parse(argc, argv, &a) || !http_method_parse(a.method, strlen(a.method), &method))
        return explain_usage();
    return explain_run(&a, method);
}
