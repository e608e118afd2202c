/*
 * commands.h — the commandList: which Engine API routes each docker CLI
 * command uses, and what an allow or deny list of commands lets through on
 * the restricted socket (docs/DESIGN.md section 4).
 *
 * The command → route table is data (command_table.def), generated from
 * spec/cli-api-map.tsv by tools/gen-command-table and checked by make test.
 * Each route a command uses is an *effect* (what the command is for) or a
 * *support* route (handshakes, look-ups, progress):
 *   deny   blocks the effect routes of each denied command, and every route
 *          of a denied group (image*: all of /images/…, known or future,
 *          plus /build and /commit …);
 *   allow  passes the effect and support routes of the allowed commands and
 *          groups (but not a support route that is another command's
 *          write, like the pull inside `run`), and /_ping; everything else,
 *          unknown routes included, is blocked.
 */
#ifndef SG_COMMANDS_H
#define SG_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "http/http.h"
#include "route/route_table.h"

typedef enum { SG_NAME_UNKNOWN, SG_NAME_COMMAND, SG_NAME_GROUP, SG_NAME_UNSUPPORTED } sg_name_kind;

/* What a commandList name is; for commands *canonical gets the canonical
 * name ("container list" → "container ls"). */
sg_name_kind sg_commands_classify(const char *name, const char **canonical);

typedef struct {
    bool deny;                       /* type: deny (else allow)          */
    unsigned char route_hit[ROUTE_COUNT]; /* route matched by the list    */
    const char *groups[6];           /* groups named, for unknown routes */
    size_t n_groups;
} sg_command_policy;

/* Build from validated names (unknown and unsupported ones are skipped). */
void sg_commands_compile(sg_command_policy *p, bool deny, char *const *names, size_t n);

/* Is a request blocked? route is ROUTE_NONE for a path no route matches;
 * route_path is the path after any /v{version} prefix. */
bool sg_commands_blocked(const sg_command_policy *p, route_id route, const char *route_path);

/* `sockgate explain`: the commands and groups a route belongs to. */
void sg_commands_describe_route(FILE *out, route_id route, const char *route_path);
/* `sockgate explain --commands`: the whole table. */
void sg_commands_print_table(FILE *out);

#endif
