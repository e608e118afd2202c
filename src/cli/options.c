/*
 * options.c — `sockgate serve` flags: defaults, parsing, validation.
 *
 * Every flag is documented in serve_usage() below, in the README and in the
 * man page; keep the three in step.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/options.h"

enum {
    OPT_LISTEN = 256, OPT_RESTRICTED, OPT_ENGINE, OPT_SETTINGS, OPT_STATE_DIR,
    OPT_SOCKET_GROUP, OPT_SOCKET_MODE, OPT_LOG_FORMAT, OPT_LOG_LEVEL,
    OPT_SHUTDOWN_TIMEOUT, OPT_REGISTRY_ENDPOINT, OPT_INSECURE_REGISTRY,
    OPT_REGISTRY_CONFIG, OPT_REGISTRY_TIMEOUT, OPT_PROTECT, OPT_DIGEST_TTL,
    OPT_HEADER_TIMEOUT, OPT_STATUS_SOCKET, OPT_HELP,
    OPT_BODY_TIMEOUT, OPT_INSPECT_BUDGET, OPT_DECISION_BUDGET, OPT_MAX_CONNECTIONS,
};

static const struct option serve_long_options[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"restricted", required_argument, NULL, OPT_RESTRICTED},
    {"engine", required_argument, NULL, OPT_ENGINE},
    {"settings", required_argument, NULL, OPT_SETTINGS},
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
    {"socket-group", required_argument, NULL, OPT_SOCKET_GROUP},
    {"socket-mode", required_argument, NULL, OPT_SOCKET_MODE},
    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"shutdown-timeout", required_argument, NULL, OPT_SHUTDOWN_TIMEOUT},
    {"registry-endpoint", required_argument, NULL, OPT_REGISTRY_ENDPOINT},
    {"insecure-registry", required_argument, NULL, OPT_INSECURE_REGISTRY},
    {"registry-config", required_argument, NULL, OPT_REGISTRY_CONFIG},
    {"registry-timeout", required_argument, NULL, OPT_REGISTRY_TIMEOUT},
    {"protect", required_argument, NULL, OPT_PROTECT},
    {"digest-ttl", required_argument, NULL, OPT_DIGEST_TTL},
    {"header-timeout", required_argument, NULL, OPT_HEADER_TIMEOUT},
    {"status-socket", required_argument, NULL, OPT_STATUS_SOCKET},
    {"body-timeout", required_argument, NULL, OPT_BODY_TIMEOUT},
    {"inspect-budget", required_argument, NULL, OPT_INSPECT_BUDGET},
    {"decision-budget", required_argument, NULL, OPT_DECISION_BUDGET},
    {"max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

void sg_serve_usage(FILE *to)
{
    fputs(
        "usage: sockgate serve [options]\n"
        "\n"
        "Serve the Docker Engine API on a public and a restricted socket and\n"
        "forward every request, parsed and decided, to dockerd's socket.\n"
        "\n"
        "  --listen PATH            public socket to create (default /run/docker.sock)\n"
        "  --restricted PATH        socket for containers allowed to mount the Docker\n"
        "                           socket (default /run/sockgate/restricted.sock;\n"
        "                           \"none\" to serve no restricted socket)\n"
        "  --engine PATH            dockerd's own socket (default /run/docker-engine.sock)\n"
        "  --settings FILE          admin-settings.json with the policy (default: none,\n"
        "                           nothing is enforced)\n"
        "  --state-dir DIR          persistent state (default /var/lib/sockgate)\n"
        "  --socket-group NAME      group owning the sockets sockgate creates\n"
        "  --socket-mode MODE       octal mode of those sockets (default 0660)\n"
        "  --log-format text|json   log line format on stderr (default text)\n"
        "  --log-level LEVEL        debug, info, warn or error (default info)\n"
        "  --shutdown-timeout SEC   on SIGTERM, how long busy requests may finish\n"
        "                           (default 10)\n"
        "  --registry-endpoint NAME=URL\n"
        "                           look digests up for registry NAME at URL (a mirror;\n"
        "                           repeatable), e.g. docker.io=https://mirror.example\n"
        "  --insecure-registry NAME allow plain HTTP to registry NAME (repeatable;\n"
        "                           loopback registries always may)\n"
        "  --registry-config FILE   Docker config.json with registry credentials\n"
        "  --registry-timeout SEC   the longest a registry look-up may take, and the\n"
        "                           longest a request waits for one (default 15)\n"
        "  --protect PATH           one more socket no container may mount (repeatable)\n"
        "  --digest-ttl SEC         how long a registry digest is trusted before it is\n"
        "                           asked again (default 300)\n"
        "  --header-timeout SEC     close connections whose request head takes longer\n"
        "                           (slow clients; default 30)\n"
        "  --body-timeout SEC       answer 408 and close when a body read for inspection\n"
        "                           takes longer (default 60)\n"
        "  --inspect-budget MIB     memory all requests being inspected may hold: bodies\n"
        "                           and their parsed trees (default 64; a caller gets a\n"
        "                           quarter: 429 beyond it, 503 when all is in use)\n"
        "  --decision-budget N      decisions waiting for look-ups at once (default 1024;\n"
        "                           a caller gets a quarter)\n"
        "  --max-connections N      client connections at once; more are answered 503\n"
        "                           (default: the open-file limit less 512, at most\n"
        "                           65536)\n"
        "  --status-socket PATH     root-only socket for `sockgate status` (default\n"
        "                           STATE-DIR/status.sock; \"none\" for none)\n"
        "\n"
        "Under systemd socket activation (LISTEN_FDS) the passed sockets are used\n"
        "instead of --listen/--restricted; one named \"restricted\" in\n"
        "LISTEN_FDNAMES is the restricted socket.\n"
        "Signals: SIGTERM/SIGINT drain and exit, SIGHUP reloads --settings (so\n"
        "does a change of the file).\n",
        to);
}

static int parse_mode(const char *s, unsigned *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 8);
    if (*s == '\0' || *end != '\0' || v > 0777)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static int parse_log_level(const char *s, sg_log_level *out)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (sg_log_level)i;
            return 0;
        }
    }
    return -1;
}

/* A positive whole number no larger than max. */
static int parse_count(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*s < '1' || *s > '9' || *end != '\0' || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_seconds(const char *s, unsigned *ms)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v > 3600)
        return -1;
    *ms = (unsigned)v * 1000;
    return 0;
}

static void serve_defaults(sg_serve_options *o)
{
    memset(o, 0, sizeof *o);
    o->server.listen_path = "/run/docker.sock";
    o->server.restricted_path = "/run/sockgate/restricted.sock";
    o->server.engine_path = "/run/docker-engine.sock";
    o->server.state_dir = "/var/lib/sockgate";
    o->server.socket_mode = 0660;
    o->server.shutdown_timeout_ms = 10000;
    o->server.digest_ttl_s = 300;
    o->server.header_timeout_s = 30;
    o->server.body_timeout_s = 60;
    o->server.inspect_budget = SG_BUDGET_BYTES_DEFAULT;
    o->server.decision_budget = SG_BUDGET_DECISIONS_DEFAULT;
    o->server.status_path = ""; /* derived from --state-dir */
    o->server.registry.connect_timeout_ms = 5000;
    o->server.registry.total_timeout_ms = 15000;
    o->log_format = SG_LOG_TEXT;
    o->log_level = SG_LOG_INFO;
}

static int serve_bad(const char *flag, const char *value, const char *want)
{
    fprintf(stderr, "sockgate serve: %s %s: %s\n", flag, value, want);
    return 1;
}

static int serve_apply(sg_serve_options *o, int opt, const char *arg)
{
    sg_server_config *s = &o->server;
    switch (opt) {
    case OPT_LISTEN: s->listen_path = arg; return 0;
    case OPT_RESTRICTED:
        s->restricted_path = strcmp(arg, "none") == 0 ? NULL : arg;
        return 0;
    case OPT_ENGINE: s->engine_path = arg; return 0;
    case OPT_SETTINGS: s->settings_path = arg; return 0;
    case OPT_STATE_DIR: s->state_dir = arg; return 0;
    case OPT_SOCKET_GROUP: s->socket_group = arg; return 0;
    case OPT_SOCKET_MODE:
        return parse_mode(arg, &s->socket_mode) == 0
                   ? 0 : serve_bad("--socket-mode", arg, "want an octal mode like 0660");
    case OPT_LOG_FORMAT:
        if (strcmp(arg, "text") == 0 || strcmp(arg, "json") == 0) {
            o->log_format = arg[0] == 'j' ? SG_LOG_JSON : SG_LOG_TEXT;
            return 0;
        }
        return serve_bad("--log-format", arg, "want text or json");
    case OPT_LOG_LEVEL:
        return parse_log_level(arg, &o->log_level) == 0
                   ? 0 : serve_bad("--log-level", arg, "want debug, info, warn or error");
    case OPT_SHUTDOWN_TIMEOUT:
        return parse_seconds(arg, &s->shutdown_timeout_ms) == 0
                   ? 0 : serve_bad("--shutdown-timeout", arg, "want seconds, 0 to 3600");
    case OPT_REGISTRY_ENDPOINT: {
        const char *why = NULL;
        return sg_registry_config_add_endpoint(&s->registry, arg, &why) == 0
                   ? 0 : serve_bad("--registry-endpoint", arg, why ? why : "want NAME=URL");
    }
    case OPT_INSECURE_REGISTRY:
        return sg_registry_config_add_insecure(&s->registry, arg) == 0
                   ? 0 : serve_bad("--insecure-registry", arg, "invalid registry name");
    case OPT_REGISTRY_CONFIG:
        free(s->registry.auth_config_path);
        s->registry.auth_config_path = strdup(arg);
        return 0;
    case OPT_REGISTRY_TIMEOUT: {
        unsigned ms;
        if (parse_seconds(arg, &ms) != 0 || ms == 0)
            return serve_bad("--registry-timeout", arg, "want seconds, 1 to 3600");
        s->registry.total_timeout_ms = ms;
        return 0;
    }
    case OPT_PROTECT:
        if (s->n_protect >= sizeof s->protect / sizeof *s->protect)
            return serve_bad("--protect", arg, "too many protected paths");
        s->protect[s->n_protect++] = arg;
        return 0;
    case OPT_DIGEST_TTL: {
        unsigned ms;
        if (parse_seconds(arg, &ms) != 0)
            return serve_bad("--digest-ttl", arg, "want seconds, 0 to 3600");
        s->digest_ttl_s = ms / 1000;
        return 0;
    }
    case OPT_STATUS_SOCKET:
        s->status_path = strcmp(arg, "none") == 0 ? NULL : arg;
        return 0;
    case OPT_HEADER_TIMEOUT: {
        unsigned ms;
        if (parse_seconds(arg, &ms) != 0 || ms == 0)
            return serve_bad("--header-timeout", arg, "want seconds, 1 to 3600");
        s->header_timeout_s = ms / 1000;
        return 0;
    }
    case OPT_BODY_TIMEOUT: {
        unsigned ms;
        if (parse_seconds(arg, &ms) != 0 || ms == 0)
            return serve_bad("--body-timeout", arg, "want seconds, 1 to 3600");
        s->body_timeout_s = ms / 1000;
        return 0;
    }
    case OPT_INSPECT_BUDGET: {
        unsigned long mib;
        if (parse_count(arg, 65536, &mib) != 0)
            return serve_bad("--inspect-budget", arg, "want MiB, 1 to 65536");
        s->inspect_budget = (uint64_t)mib << 20;
        return 0;
    }
    case OPT_DECISION_BUDGET: {
        unsigned long n;
        if (parse_count(arg, 1u << 20, &n) != 0)
            return serve_bad("--decision-budget", arg, "want a count, 1 to 1048576");
        s->decision_budget = (unsigned)n;
        return 0;
    }
    case OPT_MAX_CONNECTIONS: {
        unsigned long n;
        if (parse_count(arg, 1u << 20, &n) != 0)
            return serve_bad("--max-connections", arg, "want a count, 1 to 1048576");
        s->max_connections = (unsigned)n;
        return 0;
    }
    default: return 1;
    }
}

int sg_serve_options_parse(int argc, char **argv, sg_serve_options *o)
{
    serve_defaults(o);
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "", serve_long_options, NULL)) != -1) {
        if (opt == OPT_HELP) {
            sg_serve_usage(stdout);
            return 2;
        }
        if (opt == '?' || opt == ':') {
            fprintf(stderr, "sockgate serve: unknown or incomplete option %s\n",
                    argv[optind - 1]);
            return 1;
        }
        if (serve_apply(o, opt, optarg) != 0)
            return 1;
    }
    if (optind < argc) {
        fprintf(stderr, "sockgate serve: unexpected argument %s\n", argv[optind]);
        return 1;
    }
    return 0;
}
