/*
 * main.c — sockgate's entry point: dispatches its commands.
 *
 *   sockgate serve [options]           run the gate (see cli/options.c)
 *   sockgate check FILE                validate an admin-settings.json (cli/check.c)
 *   sockgate explain METHOD TARGET     how a request is decided (cli/explain.c)
 *   sockgate status                    ask a running gate (cli/status_client.c)
 *   sockgate digest IMAGE              ask a registry (registry/digest_cmd.c)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/log_writer.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "registry/digest_cmd.h"
#include "registry/registry.h"

static void usage(FILE *to)
{
    fputs("usage: sockgate COMMAND [args]\n"
          "\n"
          "A policy gate in front of the Docker Engine API socket.\n"
          "\n"
          "commands:\n"
          "  serve [options]          run the gate (sockgate serve --help)\n"
          "  check FILE [--engine PATH] [--daemon-json PATH]\n"
          "                           validate an admin-settings.json file, show the policy\n"
          "                           and what dockerd's daemon.json means for it\n"
          "  explain [--settings FILE] [--body FILE|-] [--engine PATH] [--uid N] [--image REF]\n"
          "          METHOD TARGET    route, commands, findings and verdict of a request\n"
          "  explain [--settings FILE] [--image REF] [--uid N]\n"
          "                           the tenant, image policy, scope and command list of a\n"
          "                           socket-mounting container of REF, or of uid N\n"
          "  explain --commands       the command → route table\n"
          "  digest [options] IMAGE   the digest a registry serves for IMAGE\n"
          "  status [--state-dir DIR] [--engine PATH]\n"
          "                           policy in force, digest cache, counters, and the\n"
          "                           tenants on the engine with their objects\n"
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

/*
 * The gate's log goes through the writer thread, so that a stalled stderr
 * costs log lines, never the event loop; at exit what is queued gets
 * SG_LOG_FLUSH_MS to be written. The thread starts after, and ends before,
 * curl's global state, which wants no other thread running. The other
 * commands write their few lines at once.
 */
static int serve(sg_serve_options *o)
{
    if (ensure_state_dir(o->server.state_dir) != 0 || sg_registry_global_init() != 0)
        return 1;
    if (sg_log_writer_start(STDERR_FILENO, SG_LOG_QUEUE_BYTES) != 0)
        sg_warn("no log writer thread: log lines are written on the event loop");
    int rc = sg_server_run(&o->server);
    sg_log_writer_stop(SG_LOG_FLUSH_MS);
    sg_registry_global_cleanup();
    return rc;
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
    rc = serve(&o);
    sg_registry_config_free(&o.server.registry);
    return rc;
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
        return sg_cmd_check(argc - 1, argv + 1);
    if (strcmp(cmd, "explain") == 0)
        return sg_cmd_explain(argc - 1, argv + 1);
    if (strcmp(cmd, "status") == 0)
        return sg_cmd_status(argc - 1, argv + 1);
    if (strcmp(cmd, "digest") == 0)
        return sg_cmd_digest(argc - 1, argv + 1);
    fprintf(stderr, "sockgate: unknown command %s\n\n", cmd);
    usage(stderr);
    return 2;
}
