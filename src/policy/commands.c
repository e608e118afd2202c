/*
 * commands.c — commandList semantics over the generated command table (see
 * commands.h).
 */
#include "policy/commands.h"

#include <string.h>

#define EFFECT 1
#define SUPPORT 0

typedef struct {
    const char *name, *canonical;
} command_name;

typedef struct {
    const char *command;
    route_id route;
    int effect;
} command_use;

static const command_name command_names[] = {
#define COMMAND(name, canonical) {name, canonical},
#define USES(command, route, role)
#include "policy/command_table.def"
#undef COMMAND
#undef USES
};

static const command_use command_uses[] = {
#define COMMAND(name, canonical)
#define USES(command, route, role) {command, route, role},
#include "policy/command_table.def"
#undef COMMAND
#undef USES
};

#define N_NAMES (sizeof command_names / sizeof *command_names)
#define N_USES (sizeof command_uses / sizeof *command_uses)

/* The six group wildcards: the commands of a management group, and path
 * prefixes that cover its routes, known or future. */
typedef struct {
    const char *name;           /* "image*"                          */
    const char *command_prefix; /* "image " (management subcommands) */
    const char *extra_commands[4];
    const char *paths[6];       /* route path prefixes                */
} command_group;

static const command_group groups[] = {
    {"container*", "container ", {NULL}, {"/containers/", "/exec/", "/commit", NULL}},
    {"image*", "image ", {"build", "builder prune", NULL}, {"/images/", "/build", "/commit", NULL}},
    {"volume*", "volume ", {NULL}, {"/volumes", NULL}},
    {"network*", "network ", {NULL}, {"/networks", NULL}},
    {"build*", "builder ", {"build", "buildx build", "image build", NULL},
     {"/build", "/grpc", "/session", NULL}},
    {"system*", "system ", {"events", "info", "version", NULL},
     {"/system/", "/events", "/info", "/version", NULL}},
};

/* Names Docker Desktop documents as not supported in a command list: the
 * seed page says "plugins", the current one "plugin" (subcommands such as
 * "plugin ls" are real commands and are found in the table first). */
static const char *const unsupported[] = {
    "compose", "dev", "extension", "feedback", "init", "manifest",
    "plugin", "plugins", "sbom", "scan", "scout", "trust",
};

static const command_group *group_named(const char *name)
{
    for (size_t i = 0; i < sizeof groups / sizeof *groups; i++)
        if (strcmp(groups[i].name, name) == 0)
            return &groups[i];
    return NULL;
}

sg_name_kind sg_commands_classify(const char *name, const char **canonical)
{
    for (size_t i = 0; i < N_NAMES; i++) {
        if (strcmp(command_names[i].name, name) == 0) {
            if (canonical)
                *canonical = command_names[i].canonical;
            return SG_NAME_COMMAND;
        }
    }
    if (group_named(name))
        return SG_NAME_GROUP;
    size_t first = strcspn(name, " ");
    for (size_t i = 0; i < sizeof unsupported / sizeof *unsupported; i++)
        if (strlen(unsupported[i]) == first && strncmp(unsupported[i], name, first) == 0)
            return SG_NAME_UNSUPPORTED;
    return SG_NAME_UNKNOWN;
}

static bool path_has_prefix(const char *path, const char *prefix)
{
    return path && strncmp(path, prefix, strlen(prefix)) == 0;
}

static bool group_has_command(const command_group *g, const char *canonical)
{
    if (strncmp(canonical, g->command_prefix, strlen(g->command_prefix)) == 0)
        return true;
    for (size_t i = 0; i < 4 && g->extra_commands[i]; i++)
        if (strcmp(g->extra_commands[i], canonical) == 0)
            return true;
    return false;
}

static bool group_has_path(const command_group *g, const char *route_path)
{
    for (size_t i = 0; i < 6 && g->paths[i]; i++)
        if (path_has_prefix(route_path, g->paths[i]))
            return true;
    return false;
}

/* Is route the effect of some command? */
static bool route_is_an_effect(route_id route)
{
    for (size_t i = 0; i < N_USES; i++)
        if (command_uses[i].route == route && command_uses[i].effect)
            return true;
    return false;
}

/*
 * Which routes a list entry claims. deny: effect routes only. allow: effect
 * and support routes, except a support route that changes something and is
 * another command's purpose (POST /images/create is `pull`; `run` only uses
 * it to pull a missing image): allowing `run` must not allow `pull`. Reads
 * (GET, HEAD) are always part of a command.
 */
static void claim(sg_command_policy *p, const command_use *u)
{
    if (u->effect) {
        p->route_hit[u->route] = 1;
        return;
    }
    if (p->deny)
        return;
    const route_info *ri = route_lookup(u->route);
    bool reads = ri && (ri->method == HTTP_METHOD_GET || ri->method == HTTP_METHOD_HEAD);
    if (reads || !route_is_an_effect(u->route))
        p->route_hit[u->route] = 1;
}

static void compile_command(sg_command_policy *p, const char *canonical)
{
    bool builds = false;
    for (size_t i = 0; i < N_USES; i++) {
        if (strcmp(command_uses[i].command, canonical) != 0)
            continue;
        builds |= command_uses[i].route == ROUTE_BUILD || command_uses[i].route == ROUTE_GRPC;
        claim(p, &command_uses[i]);
    }
    /* BuildKit's tunnels carry builds whatever the table calls them: a
     * command that builds owns both, in deny and in allow mode. */
    if (builds)
        p->route_hit[ROUTE_GRPC] = p->route_hit[ROUTE_SESSION] = 1;
}

static void compile_group(sg_command_policy *p, const command_group *g)
{
    if (p->n_groups < sizeof p->groups / sizeof *p->groups)
        p->groups[p->n_groups++] = g->name;
    for (size_t i = 0; i < N_USES; i++)
        if (group_has_command(g, command_uses[i].command))
            claim(p, &command_uses[i]);
    for (size_t r = 1; r < ROUTE_COUNT; r++) {
        const route_info *ri = route_lookup((route_id)r);
        if (ri && group_has_path(g, ri->pattern))
            p->route_hit[r] = 1;
    }
}

void sg_commands_compile(sg_command_policy *p, bool deny, char *const *names, size_t n)
{
    memset(p, 0, sizeof *p);
    p->deny = deny;
    for (size_t i = 0; i < n; i++) {
        const char *canonical = NULL;
        switch (sg_commands_classify(names[i], &canonical)) {
        case SG_NAME_COMMAND: compile_command(p, canonical); break;
        case SG_NAME_GROUP: compile_group(p, group_named(names[i])); break;
        default: break; /* reported by validation, ignored here */
        }
    }
}

static bool is_ping(route_id route)
{
    const route_info *ri = route_lookup(route);
    return ri && strcmp(ri->pattern, "/_ping") == 0;
}

bool sg_commands_blocked(const sg_command_policy *p, route_id route, const char *route_path)
{
    bool hit = route != ROUTE_NONE && p->route_hit[route];
    if (!hit && route == ROUTE_NONE) {
        /* A route sockgate does not know: only a group can claim it. */
        for (size_t i = 0; i < p->n_groups; i++)
            hit |= group_has_path(group_named(p->groups[i]), route_path);
    }
    if (p->deny)
        return hit;
    return !hit && !is_ping(route);
}

void sg_commands_describe_route(FILE *out, route_id route, const char *route_path)
{
    size_t n = 0;
    for (size_t i = 0; i < N_USES; i++) {
        if (command_uses[i].route != route || route == ROUTE_NONE)
            continue;
        fprintf(out, "%s%s (%s)", n++ ? ", " : "  commands: ", command_uses[i].command,
                command_uses[i].effect ? "effect" : "support");
    }
    fprintf(out, "%s", n ? "\n" : "  commands: none\n");
    n = 0;
    const route_info *ri = route_lookup(route);
    for (size_t g = 0; g < sizeof groups / sizeof *groups; g++)
        if (group_has_path(&groups[g], ri ? ri->pattern : route_path))
            fprintf(out, "%s%s", n++ ? ", " : "  groups:   ", groups[g].name);
    fprintf(out, "%s", n ? "\n" : "  groups:   none\n");
}

void sg_commands_print_table(FILE *out)
{
    const char *last = "";
    for (size_t i = 0; i < N_USES; i++) {
        const command_use *u = &command_uses[i];
        const route_info *ri = route_lookup(u->route);
        if (strcmp(last, u->command) != 0)
            fprintf(out, "%s\n", u->command);
        last = u->command;
        fprintf(out, "    %-7s %-8s %s\n", u->effect ? "effect" : "support",
                ri ? http_method_name(ri->method) : "?",
                ri ? ri->pattern : "?");
    }
    fprintf(out, "\ngroups:\n");
    for (size_t g = 0; g < sizeof groups / sizeof *groups; g++) {
        fprintf(out, "  %-11s commands \"%s…\"", groups[g].name, groups[g].command_prefix);
        for (size_t i = 0; i < 4 && groups[g].extra_commands[i]; i++)
            fprintf(out, ", %s", groups[g].extra_commands[i]);
        fprintf(out, "; every route under");
        for (size_t i = 0; i < 6 && groups[g].paths[i]; i++)
            fprintf(out, " %s", groups[g].paths[i]);
        fprintf(out, "\n");
    }
}
