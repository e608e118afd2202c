/*
 * commands.h — sockgate's commands for people (main.c dispatches):
 *   check    validate an admin-settings.json, print the effective policy
 *   explain  how a request (and its body) is routed and decided
 *   status   what a running sockgate says on its status socket
 */
#ifndef SG_COMMANDS_CLI_H
#define SG_COMMANDS_CLI_H

int sg_cmd_check(int argc, char **argv);
int sg_cmd_explain(int argc, char **argv);
int sg_cmd_status(int argc, char **argv);

/* Where `serve` expects dockerd and its restricted socket by default. */
#define SG_DEFAULT_ENGINE "/run/docker-engine.sock"
#define SG_DEFAULT_RESTRICTED "/run/sockgate/restricted.sock"

#endif
