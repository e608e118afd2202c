/*
 * main.c — sockgate's commands: serve, check, explain.
 *
 *   sockgate serve [options]           run the gate (see cli/options.c)
 *   sockgate check FILE                validate an admin-settings.json
 *   sockgate explain METHOD TARGET     how a request is routed and decided
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/log.h"
#include "cli/options.h"
#include "policy/commands.h"
#include "decide/decide.h"
#include "registry/digest_cmd.h"
#include "registry/registry.h"
#include "route/router.h"

static void usage(FILE *to)
{
    fputs("usage: sockgate COMMAND [args]\n"
          "\n"
          "A policy gate in front of the Docker Engine API socket.\n"
          "\n"
          "commands:\n"
          "  serve [options]          run the gate (sockgate serve --help)\n"
          "  check FILE               validate an admin-settings.json file\n"
          "  explain [--settings FILE] METHOD TARGET\n"
          "                           route, commands and verdict of a request\n"
          "  explain --commands       the command → route table\n"
          "  digest [options] IMAGE   the digest a registry serves for IMAGE\n"
          "  status [--state-dir DIR] policy in force, digest cache, counters\n"
          "  --help                   this text\n"
          "  --version                print the version\n",
          to);
}

static int ensure_state_dir(const char *dir)
{
    if (mkdir(dir, 0700) == 0 || errno == EEXIST)
        return 0;
    sg_error("--state-dir %s: %s", dir, strerror(errno));
    return -1;
}

static int cmd_serve(int argc, char **argv)
{
    sg_serve_options o;
    int rc = sg_serve_options_parse(argc, argv, &o);
    if (rc != 0) {
        sg_registry_config_free(&o.server.registry);
        return rc == 2 ? 0 : 2;
    }
    sg_log_setup(o.log_format, o.log_level);
    if (ensure_state_dir(o.server.state_dir) != 0 || sg_registry_global_init() != 0) {
        sg_registry_config_free(&o.server.registry);
        return 1;
    }
    rc = sg_server_run(&o.server);
    sg_registry_config_free(&o.server.registry);
    sg_registry_global_cleanup();
    return rc;
}

static int cmd_check(int argc, char **argv)
{
    if (argc != 2) {
        fputs("usage: sockgate check FILE\n", stderr);
        return 2;
    }
    char err[1024];
    sg_settings *s = sg_settings_load(argv[1], err, sizeof err);
    if (!s) {
        fprintf(stderr, "sockgate check: %s\n", err);
        return 1;
    }
    if (s->warnings[0])
        fprintf(stderr, "warning: %s\n", s->warnings);
    printf("%s: valid\n", argv[1]);
    printf("enhanced container isolation: %s%s\n", s->eci_enabled ? "on" : "off",
           s->locked ? " (locked)" : "");
    if (s->eci_enabled) {
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
        printf("command list: %s", s->commands_type == SG_COMMANDS_NONE ? "none\n"
                                   : s->commands_type == SG_COMMANDS_ALLOW ? "allow"
                                                                           : "deny");
        for (size_t i = 0; i < s->n_commands; i++)
            printf(" %s", s->commands[i]);
        if (s->commands_type != SG_COMMANDS_NONE) {
            printf("\n  routes it %s on the restricted socket:\n",
                   s->commands_type == SG_COMMANDS_DENY ? "blocks" : "lets through");
            for (size_t r = 1; r < ROUTE_COUNT; r++) {
                const route_info *ri = route_lookup((route_id)r);
                bool hit = s->command_policy.route_hit[r];
                if (hit)
                    printf("    %-7s %s\n", http_method_name(ri->method), ri->pattern);
            }
            if (s->commands_type == SG_COMMANDS_ALLOW)
                printf("    HEAD/GET /_ping (always)\n");
        }
    }
    sg_settings_unref(s);
    return 0;
}


/* The verdict on the restricted socket under a settings file. */
static void explain_verdict(const char *settings_path, http_method method, const char *target,
                            router_status st, const router_match *m)
{
    char err[1024];
    sg_settings *s = settings_path ? sg_settings_load(settings_path, err, sizeof err)
                                   : sg_settings_default();
    if (!s) {
        printf("verdict: cannot read the settings: %s\n", err);
        return;
    }
    sg_request_ctx ctx = {.socket = SG_SOCKET_RESTRICTED, .method = method, .target = target,
                          .route_status = st, .match = m};
    sg_verdict v;
    sg_decide_request(s, &ctx, &v);
    if (v.kind == SG_VERDICT_DENY)
        printf("verdict on the restricted socket: blocked (%s)\n  %d %s\n", v.rule, v.status,
               v.message);
    else if (v.kind == SG_VERDICT_INSPECT_BODY)
        printf("verdict on the restricted socket: allowed by the command list; the body is "
               "checked for Docker socket mounts\n");
    else
        printf("verdict on the restricted socket: allowed (%s)\n", v.rule);
    printf("verdict on the public socket: the command list does not apply\n");
    sg_settings_unref(s);
}

static int cmd_explain(int argc, char **argv)
{
    const char *settings_path = NULL;
    int i = 1;
    if (argc == 2 && strcmp(argv[1], "--commands") == 0) {
        sg_commands_print_table(stdout);
        return 0;
    }
    if (argc > 2 && strcmp(argv[1], "--settings") == 0) {
        settings_path = argv[2];
        i = 3;
    }
    http_method method;
    if (argc - i != 2 || !http_method_parse(argv[i], strlen(argv[i]), &method)) {
        fputs("usage: sockgate explain [--settings FILE] METHOD TARGET\n"
              "       sockgate explain --commands\n", stderr);
        return 2;
    }
    const char *target = argv[i + 1];
    static router_match m;
    router_status st = router_route(method, target, strlen(target), &m);
    printf("request: %s %s\n", argv[i], target);
    switch (st) {
    case ROUTER_MATCH: {
        const route_info *ri = route_lookup(m.route);
        printf("route:   %s %s (%s)\n", argv[i], ri->pattern, ri->id_name);
        printf("version: %s\n", m.has_version ? m.version : "(none: daemon default)");
        sg_commands_describe_route(stdout, m.route, m.route_path);
        break;
    }
    case ROUTER_UNKNOWN:
        printf("route:   none (dockerd answers 404 page not found)\n");
        sg_commands_describe_route(stdout, ROUTE_NONE, m.route_path ? m.route_path : m.path);
        break;
    case ROUTER_REDIRECT:
        printf("route:   none: dockerd redirects (301) to %s; sockgate answers the same\n",
               m.clean_path);
        return 0;
    case ROUTER_BAD:
        printf("route:   rejected with 400: %s\n", m.error ? m.error : "malformed target");
        return 1;
    }
    explain_verdict(settings_path, method, target, st, &m);
    return 0;
}

/* `sockgate status`: print what the admin socket says. */
static int cmd_status(int argc, char **argv)
{
    char path[4096];
    snprintf(path, sizeof path, "/var/lib/sockgate/status.sock");
    if (argc == 3 && strcmp(argv[1], "--socket") == 0)
        snprintf(path, sizeof path, "%s", argv[2]);
    else if (argc == 3 && strcmp(argv[1], "--state-dir") == 0)
        snprintf(path, sizeof path, "%s/status.sock", argv[2]);
    else if (argc != 1) {
        fputs("usage: sockgate status [--state-dir DIR | --socket PATH]\n", stderr);
        return 2;
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        fprintf(stderr, "sockgate status: socket path too long: %s\n", path);
        return 1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        fprintf(stderr, "sockgate status: cannot connect to %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return 1;
    }
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        fwrite(buf, 1, (size_t)n, stdout);
    close(fd);
    putchar('\n');
    return n < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("sockgate %s\n", SG_VERSION);
        return 0;
    }
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "check") == 0)
        return cmd_check(argc - 1, argv + 1);
    if (strcmp(cmd, "explain") == 0)
        return cmd_explain(argc - 1, argv + 1);
    if (strcmp(cmd, "status") == 0)
        return cmd_status(argc - 1, argv + 1);
    if (strcmp(cmd, "digest") == 0)
        return sg_cmd_digest(argc - 1, argv + 1);
    fprintf(stderr, "sockgate: unknown command %s\n\n", cmd);
    usage(stderr);
    return 2;
}
