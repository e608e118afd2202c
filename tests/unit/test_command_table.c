/*
 * test_command_table.c — the generated commandList table, as C sees it.
 *
 * src/policy/command_table.def is included here with the same X-macros the
 * policy code uses, so this checks what actually compiles: the route ids of
 * well-known commands and their roles, alias resolution, and the table's
 * internal consistency (every canonical name has its COMMAND line, no
 * duplicate COMMAND or USES lines, every id is a real route).
 * tools/gen-command-table --check covers the TSV side and route coverage.
 */
#include <stdbool.h>
#include <stddef.h>

#include "route/route_table.h"
#include "unit.h"

/* Local role tokens: the .def only names them. */
#define EFFECT 1
#define SUPPORT 0

typedef struct {
    const char *name;
    const char *canonical;
} ct_command;

typedef struct {
    const char *canonical;
    route_id route;
    int effect;
} ct_use;

static const ct_command ct_commands[] = {
#define COMMAND(name, canonical) {name, canonical},
#define USES(canonical, route, role)
#include "policy/command_table.def"
#undef COMMAND
#undef USES
};

static const ct_use ct_uses[] = {
#define COMMAND(name, canonical)
#define USES(canonical, route, role) {canonical, route, role},
#include "policy/command_table.def"
#undef COMMAND
#undef USES
};

#define N_COMMANDS (sizeof ct_commands / sizeof ct_commands[0])
#define N_USES (sizeof ct_uses / sizeof ct_uses[0])

/* Canonical name for what a user typed, NULL if the table lacks it. */
static const char *ct_canonical(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(ct_commands[i].name, name) == 0)
            return ct_commands[i].canonical;
    return NULL;
}

/* Role of route in canonical command: 1 effect, 0 support, -1 not used.
 * A command may list a route in both roles; effect then wins. */
static int ct_role(const char *canonical, route_id route)
{
    int role = -1;
    for (size_t i = 0; i < N_USES; i++)
        if (ct_uses[i].route == route &&
            strcmp(ct_uses[i].canonical, canonical) == 0 &&
            ct_uses[i].effect > role)
            role = ct_uses[i].effect;
    return role;
}

static size_t ct_count_uses(const char *canonical)
{
    size_t n = 0;
    for (size_t i = 0; i < N_USES; i++)
        n += strcmp(ct_uses[i].canonical, canonical) == 0;
    return n;
}

TEST(push_pushes_after_a_ping)
{
    CHECK_INT(ct_role("push", ROUTE_IMAGE_PUSH), EFFECT);
    CHECK_INT(ct_role("push", ROUTE_PING_HEAD), SUPPORT);
    CHECK_INT(ct_role("image push", ROUTE_IMAGE_PUSH), EFFECT);
    CHECK_INT(ct_count_uses("push"), 2);
    CHECK_INT(ct_role("push", ROUTE_IMAGE_CREATE), -1);
}

TEST(listing_containers)
{
    CHECK_INT(ct_role("ps", ROUTE_CONTAINER_LIST), EFFECT);
    CHECK_INT(ct_role("container ls", ROUTE_CONTAINER_LIST), EFFECT);
    CHECK_INT(ct_role("ps", ROUTE_CONTAINER_DELETE), -1);
}

TEST(run_creates_starts_and_attaches)
{
    CHECK_INT(ct_role("run", ROUTE_CONTAINER_CREATE), EFFECT);
    CHECK_INT(ct_role("run", ROUTE_CONTAINER_START), EFFECT);
    CHECK_INT(ct_role("run", ROUTE_CONTAINER_ATTACH), EFFECT);
    /* pull-on-missing and the exit-code wait only serve the run */
    CHECK_INT(ct_role("run", ROUTE_IMAGE_CREATE), SUPPORT);
    CHECK_INT(ct_role("run", ROUTE_CONTAINER_WAIT), SUPPORT);
    CHECK_INT(ct_role("container run", ROUTE_CONTAINER_START), EFFECT);
}

TEST(build_legacy_and_buildkit)
{
    CHECK_INT(ct_role("build", ROUTE_BUILD), EFFECT);
    CHECK_INT(ct_role("build", ROUTE_GRPC), EFFECT);
    CHECK_INT(ct_role("build", ROUTE_SESSION), SUPPORT);
    CHECK_INT(ct_role("buildx build", ROUTE_GRPC), EFFECT);
    CHECK_INT(ct_role("buildx build", ROUTE_BUILD), -1);
    /* builder prune: in-tree legacy pruner or BuildKit gRPC */
    CHECK_INT(ct_role("builder prune", ROUTE_BUILD_PRUNE), EFFECT);
    CHECK_INT(ct_role("builder prune", ROUTE_GRPC), EFFECT);
}

TEST(support_is_not_effect)
{
    /* stats watches events and lists containers only to follow them */
    CHECK_INT(ct_role("stats", ROUTE_EVENTS), SUPPORT);
    CHECK_INT(ct_role("stats", ROUTE_CONTAINER_STATS), EFFECT);
    CHECK_INT(ct_role("events", ROUTE_EVENTS), EFFECT);
    CHECK_INT(ct_role("network rm", ROUTE_NETWORK_INSPECT), SUPPORT);
    CHECK_INT(ct_role("network rm", ROUTE_NETWORK_DELETE), EFFECT);
}

TEST(aliases_resolve_to_canonical)
{
    CHECK_STR(ct_canonical("container list"), "container ls");
    CHECK_STR(ct_canonical("container ps"), "container ls");
    CHECK_STR(ct_canonical("container remove"), "container rm");
    CHECK_STR(ct_canonical("image list"), "image ls");
    CHECK_STR(ct_canonical("image rmi"), "image rm");
    CHECK_STR(ct_canonical("stack up"), "stack deploy");
    CHECK_STR(ct_canonical("stack down"), "stack rm");
    CHECK_STR(ct_canonical("volume remove"), "volume rm");
    /* legacy top-level forms are commands of their own, not aliases */
    CHECK_STR(ct_canonical("images"), "images");
    CHECK_STR(ct_canonical("ps"), "ps");
    CHECK_STR(ct_canonical("rmi"), "rmi");
    CHECK(ct_canonical("compose") == NULL);
    CHECK(ct_canonical("image*") == NULL);
}

TEST(client_only_commands_have_no_routes)
{
    CHECK_STR(ct_canonical("logout"), "logout");
    CHECK_INT(ct_count_uses("logout"), 0);
    CHECK_STR(ct_canonical("context list"), "context ls");
    CHECK_INT(ct_count_uses("context ls"), 0);
    CHECK_INT(ct_count_uses("manifest push"), 0);
}

TEST(every_canonical_has_its_command_line)
{
    for (size_t i = 0; i < N_COMMANDS; i++) {
        const char *c = ct_commands[i].canonical;
        if (!ct_canonical(c) || strcmp(ct_canonical(c), c) != 0) {
            fprintf(stderr, "  no COMMAND(\"%s\", \"%s\")\n", c, c);
            CHECK(0);
        }
    }
    for (size_t i = 0; i < N_USES; i++) {
        const char *c = ct_uses[i].canonical;
        if (!ct_canonical(c) || strcmp(ct_canonical(c), c) != 0) {
            fprintf(stderr, "  USES of \"%s\" without its COMMAND\n", c);
            CHECK(0);
        }
    }
    CHECK(N_COMMANDS > 150);
}

TEST(no_duplicates)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        for (size_t j = i + 1; j < N_COMMANDS; j++)
            if (strcmp(ct_commands[i].name, ct_commands[j].name) == 0) {
                fprintf(stderr, "  duplicate COMMAND \"%s\"\n",
                        ct_commands[i].name);
                CHECK(0);
            }
    for (size_t i = 0; i < N_USES; i++)
        for (size_t j = i + 1; j < N_USES; j++)
            if (ct_uses[i].route == ct_uses[j].route &&
                ct_uses[i].effect == ct_uses[j].effect &&
                strcmp(ct_uses[i].canonical, ct_uses[j].canonical) == 0) {
                fprintf(stderr, "  duplicate USES \"%s\" %d\n",
                        ct_uses[i].canonical, (int)ct_uses[i].route);
                CHECK(0);
            }
}

TEST(every_route_id_is_a_route)
{
    for (size_t i = 0; i < N_USES; i++) {
        const route_info *ri = route_lookup(ct_uses[i].route);
        CHECK(ct_uses[i].route > ROUTE_NONE && ct_uses[i].route < ROUTE_COUNT);
        CHECK(ri != NULL && ri->id == ct_uses[i].route);
        CHECK(ct_uses[i].effect == EFFECT || ct_uses[i].effect == SUPPORT);
    }
    /* the route behind push really is POST /images/{name}/push */
    const route_info *push = route_lookup(ROUTE_IMAGE_PUSH);
    CHECK(push != NULL && push->method == HTTP_METHOD_POST);
    CHECK_STR(push ? push->pattern : NULL, "/images/{name:.*}/push");
}

int main(void)
{
    RUN(push_pushes_after_a_ping);
    RUN(listing_containers);
    RUN(run_creates_starts_and_attaches);
    RUN(build_legacy_and_buildkit);
    RUN(support_is_not_effect);
    RUN(aliases_resolve_to_canonical);
    RUN(client_only_commands_have_no_routes);
    RUN(every_canonical_has_its_command_line);
    RUN(no_duplicates);
    RUN(every_route_id_is_a_route);
    return UNIT_DONE();
}
