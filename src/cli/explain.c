/*
 * explain.c — `sockgate explain`: how one request is routed, which
 * commands it belongs to, and how it is decided for each kind of caller,
 * with its body (--body) decided by the same code as `serve`: every
 * finding and every edit is printed.
 *
 *   sockgate explain [--settings FILE] [--body FILE|-] [--engine PATH]
 *                    [--uid N] [--image REF] METHOD TARGET
 *   sockgate explain [--settings FILE] [--image REF] [--uid N]
 *   sockgate explain --commands
 *
 * Without METHOD TARGET, --image and --uid name a caller, and explain shows
 * the tenant, policy, scope and command list that apply to it, decided by
 * the gate's own code (tenant.c): a container of image REF that the host
 * starts with the Docker socket, or uid N on the public socket.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_env.h"
#include "cli/commands.h"
#include "decide/decide.h"
#include "decide/tenant.h"
#include "policy/commands.h"
#include "route/router.h"

typedef struct {
    const char *settings, *body_file, *engine;
    unsigned uid;
    bool uid_given;
    const char *image;  /* --image: a socket-mounting container of it   */
    const char *method, *target;
} explain_args;

static int explain_usage(void)
{
    fputs("usage: sockgate explain [--settings FILE] [--body FILE|-] [--engine PATH] "
          "[--uid N] [--image REF] METHOD TARGET\n"
          "       sockgate explain [--settings FILE] [--image REF] [--uid N]\n"
          "       sockgate explain --commands\n",
          stderr);
    return 2;
}

/* A uid as the kernel reports one: decimal, below (uid_t)-1. */
static bool explain_uid(const char *text, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-' || v >= (unsigned long)(uid_t)-1)
        return false;
    *out = (unsigned)v;
    return true;
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
        else if (strcmp(argv[i], "--uid") == 0 && has) {
            if (!explain_uid(argv[++i], &a->uid))
                return false;
            a->uid_given = true;
        } else if (strcmp(argv[i], "--image") == 0 && has && argv[i + 1][0])
            a->image = argv[++i];
        else if (pos == 0 && argv[i][0] != '-')
            a->method = argv[i], pos++;
        else if (pos == 1)
            a->target = argv[i], pos++;
        else
            return false;
    }
    if (pos == 0) /* a caller alone: --image and/or --uid, no request */
        return (a->image || a->uid_given) && !a->body_file;
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

/* ---- a caller alone: its tenant, policy, scope and command list --------- */

static const char *explain_scope_words(sg_scope scope)
{
    return scope == SG_SCOPE_OWN
               ? "own: only the containers, exec instances, volumes and networks its tenant "
                 "created (images and builds stay shared)"
               : "all: everything on the engine, as without tenants";
}

static void explain_command_list(const sg_settings *s, const sg_command_list *l)
{
    const char *whose = l == &s->commands ? "the global commandList" : "the policy's commandList";
    if (!s->eci_enabled) {
        printf("commands: none restricted (enhancedContainerIsolation is off)\n");
        return;
    }
    if (l->type == SG_COMMANDS_NONE) {
        printf("commands: none restricted (%s is not written)\n", whose);
        return;
    }
    printf("commands: %s, %s", whose, sg_commands_type_name(l->type));
    for (size_t i = 0; i < l->n; i++)
        printf(" %s", l->names[i]);
    putchar('\n');
}

/* Whether the imageList lets a container of image mount the socket at all;
 * false when it never does. */
static bool explain_image_list(const sg_settings *s, const char *image)
{
    const sg_image_entry *named = NULL, *tried = NULL;
    for (size_t i = 0; i < s->n_images; i++) {
        sg_pattern_fit fit = sg_image_pattern_fit(&s->images[i], image);
        if (fit == SG_PATTERN_NAMES && !named)
            named = &s->images[i];
        else if (fit == SG_PATTERN_TRIED && !tried)
            tried = &s->images[i];
    }
    if (named)
        printf("imageList: %s names it; the gate proves it against the registry at create\n",
               named->text);
    else if (tried)
        printf("imageList: no entry names it as written; %s holds only if the image's digest "
               "is the one the registry has for it\n",
               tried->text);
    else
        printf("imageList: no entry names it: the socket mount is refused%s\n",
               s->allow_derived ? ", unless the image is built on an allowed one "
                                  "(allowDerivedImages); if it is:"
                                : "");
    return named || tried || s->allow_derived;
}

/* The image policies the gate tries for image at create, in its order, and
 * the one that applies when the registry proves it. */
static const sg_image_policy *explain_image_policies(const sg_settings *s, const char *image)
{
    const sg_image_policy *applies = sg_image_policy_naming(s, image);
    bool any = false, passed = false;
    for (size_t i = 0; i < s->n_image_policies; i++) {
        const sg_image_policy *p = &s->image_policies[i];
        sg_pattern_fit fit = sg_image_pattern_fit(&p->match->images[0], image);
        if (fit == SG_PATTERN_OTHER)
            continue;
        if (!any)
            printf("image policies tried at create, most specific first:\n");
        any = true;
        const char *how;
        if (fit == SG_PATTERN_NAMES)
            how = p == applies ? "names it: applies once the registry proves it"
                               : "names it: applies if the ones above are not proven";
        else if (passed)
            how = "tried if the ones above are not proven: applies if the image's digest is "
                  "the one it proves";
        else
            how = applies ? "tried first: applies instead if the image's digest is the one it "
                            "proves"
                          : "tried: applies if the image's digest is the one it proves";
        printf("  %-40s %s\n", p->pattern, how);
        passed = passed || p == applies;
    }
    if (!any)
        printf("image policies tried at create: none (no pattern covers its repository)\n");
    if (applies)
        printf("policy:   %s, the most specific pattern naming it\n"
               "          (the gate proves it against the registry at create and records it in "
               "the container's %s label)\n",
               applies->pattern, SG_POLICY_LABEL);
    else
        printf("policy:   none names it\n");
    return applies;
}

static int explain_image(const sg_settings *s, const char *image)
{
    sg_image_ref ref;
    const char *why = NULL;
    char norm[SG_REF_MAX] = "";
    if (sg_image_ref_is_id(image))
        snprintf(norm, sizeof norm, "an image ID: could be any repository");
    else if (sg_image_ref_parse(image, SG_REF_DEFAULT_TAG, &ref, &why) == 0)
        sg_image_ref_string(&ref, norm, sizeof norm);
    else {
        fprintf(stderr, "sockgate explain: --image %s: not an image reference: %s\n", image,
                why ? why : "invalid");
        return 1;
    }
    printf("caller:   a container of %s (%s) that the host starts with the Docker socket\n",
           image, norm);
    if (!s->eci_enabled) {
        printf("enhancedContainerIsolation is off: no socket mount is proven or rewritten, so "
               "it gets no tenant\nscope:    %s\n",
               explain_scope_words(SG_SCOPE_ALL));
        return 0;
    }
    if (!explain_image_list(s, image))
        return 0;
    sg_tenant tenant = {.id = "t(new)"};
    if (s->tenants) {
        const sg_image_policy *p = explain_image_policies(s, image);
        snprintf(tenant.policy, sizeof tenant.policy, "%s", p ? p->pattern : "");
        printf("tenant:   a new one at create (%s=t and 24 random hex digits), kept by "
               "everything it starts through the socket\n",
               SG_TENANT_LABEL);
    } else {
        printf("tenants:  none configured (no sockgate.imagePolicies or publicSocketScope)\n");
    }
    /* The gate's own resolution, for a container it has identified. */
    sg_caller c;
    sg_caller_from_socket(-1, SG_SOCKET_RESTRICTED, &c);
    c.uid = 0;
    c.container.state = SG_CONTAINER_KNOWN;
    sg_tenancy t;
    sg_tenancy_resolve(s, &c, &tenant, &t);
    if (t.refused) {
        printf("refused:  %s\n", t.refused);
        return 0;
    }
    printf("scope:    %s\n", explain_scope_words(t.scope));
    explain_command_list(s, t.commands);
    return 0;
}

/* uid's groups as a login session of it has them (the gate reads the
 * connecting process's own, SO_PEERGROUPS). */
static void explain_user(sg_caller *c, char *desc, size_t descsz)
{
    struct passwd *pw = getpwuid(c->uid);
    if (!pw) {
        c->gid = (gid_t)-1;
        snprintf(desc, descsz, "not in the user database: no groups");
        return;
    }
    c->gid = pw->pw_gid;
    int n = SG_CALLER_MAX_GROUPS;
    if (getgrouplist(pw->pw_name, pw->pw_gid, c->groups, &n) < 0)
        n = SG_CALLER_MAX_GROUPS; /* more than fit: the first ones */
    c->n_groups = (size_t)n;
    size_t at = (size_t)snprintf(desc, descsz, "%s, groups", pw->pw_name);
    for (size_t i = 0; i < c->n_groups && at < descsz; i++)
        at += (size_t)snprintf(desc + at, descsz - at, " %u", (unsigned)c->groups[i]);
}

static int explain_uid_caller(const sg_settings *s, unsigned uid)
{
    sg_caller c;
    sg_caller_from_socket(-1, SG_SOCKET_PUBLIC, &c);
    c.uid = (uid_t)uid;
    c.host_pidns = true; /* a host user, not a process in a container */
    char desc[512];
    explain_user(&c, desc, sizeof desc);
    printf("caller:   uid %u (%s) on the public socket\n", uid, desc);
    bool isolated = sg_caller_isolated(s, &c);
    printf("isolated: %s\n", isolated              ? "yes"
                            : !s->eci_enabled      ? "no (enhancedContainerIsolation is off)"
                            : uid == 0             ? "no (root)"
                                                   : "no (sockgate.exemptFromIsolation)");
    sg_tenancy t;
    sg_tenancy_resolve(s, &c, NULL, &t);
    if (t.refused) {
        printf("refused:  %s\n", t.refused);
        return 0;
    }
    if (t.id)
        printf("tenant:   %s (publicSocketScope \"own\": what it creates carries %s=%s)\n",
               t.id, SG_TENANT_LABEL, t.id);
    else
        printf("tenant:   none (%s)\n",
               !s->tenants                      ? "no tenants configured"
               : s->public_scope != SG_SCOPE_OWN ? "publicSocketScope is \"all\""
                                                 : "root and exempt users see everything");
    printf("scope:    %s\n", explain_scope_words(t.scope));
    printf("commands: the command list applies only on the restricted socket\n");
    return 0;
}

static int explain_callers(const explain_args *a)
{
    char err[1024];
    sg_settings *s = a->settings ? sg_settings_load(a->settings, err, sizeof err)
                                 : sg_settings_default();
    if (!s) {
        fprintf(stderr, "sockgate explain: %s\n", err);
        return 1;
    }
    int rc = 0;
    if (a->image)
        rc = explain_image(s, a->image);
    if (a->image && a->uid_given && rc == 0)
        putchar('\n');
    if (a->uid_given && rc == 0)
        rc = explain_uid_caller(s, a->uid);
    sg_settings_unref(s);
    return rc;
}

/* ---- a request ---------------------------------------------------------- */

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
        if (v.query[0])
            printf("  forwarded with the query: %s\n", v.query);
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
        /* An identified container: with --image, one of that image, in a
         * tenant of its own under the policy that names it. */
        sg_caller_from_socket(-1, SG_SOCKET_RESTRICTED, &ctx.caller);
        ctx.caller.uid = 0;
        ctx.caller.container.state = SG_CONTAINER_KNOWN;
        sg_tenant tenant = {.id = ""};
        char who[SG_REF_MAX + 128];
        snprintf(who, sizeof who, "a container on the restricted socket");
        if (a->image && s->tenants) {
            const sg_image_policy *p = sg_image_policy_naming(s, a->image);
            snprintf(tenant.id, sizeof tenant.id, "t(new)");
            snprintf(tenant.policy, sizeof tenant.policy, "%s", p ? p->pattern : "");
            snprintf(who, sizeof who, "a container of %s on the restricted socket, policy %s",
                     a->image, p ? p->pattern : "none");
        }
        ctx.tenant = &tenant;
        explain_caller(&env, s, &ctx, who, body, len, a->body_file != NULL);
        sg_caller_from_socket(-1, SG_SOCKET_PUBLIC, &ctx.caller);
        ctx.caller.uid = 0;
        ctx.caller.gid = 0;
        ctx.caller.host_pidns = true; /* a host user, not a process in a container */
        explain_caller(&env, s, &ctx, "root on the public socket", body, len,
                       a->body_file != NULL);
        ctx.tenant = NULL;
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
    if (!explain_parse(argc, argv, &a))
        return explain_usage();
    if (!a.method)
        return explain_callers(&a);
    if (!http_method_parse(a.method, strlen(a.method), &method))
        return explain_usage();
    return explain_run(&a, method);
}
