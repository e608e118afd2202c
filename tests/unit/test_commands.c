/*
 * test_commands.c — commandList semantics: deny blocks effect routes and
 * whole groups (future routes included), allow passes effect and support
 * routes and /_ping only, BuildKit tunnels belong to build.
 */
#include "policy/commands.h"
#include "unit.h"

static sg_command_policy policy(bool deny, char *names[], size_t n)
{
    sg_command_policy p;
    sg_commands_compile(&p, deny, names, n);
    return p;
}

#define BLOCKED(p, route, path) sg_commands_blocked(&(p), route, path)

TEST(deny_push_blocks_only_its_effect)
{
    char *names[] = {"push"};
    sg_command_policy p = policy(true, names, 1);
    CHECK(BLOCKED(p, ROUTE_IMAGE_PUSH, "/images/x/push"));
    CHECK(!BLOCKED(p, ROUTE_PING_HEAD, "/_ping"));          /* push's support route */
    CHECK(!BLOCKED(p, ROUTE_CONTAINER_LIST, "/containers/json"));
    CHECK(!BLOCKED(p, ROUTE_IMAGE_CREATE, "/images/create"));
    CHECK(!BLOCKED(p, ROUTE_NONE, "/images/something-new"));
}

TEST(management_form_and_alias)
{
    char *names[] = {"image push", "container list"};
    sg_command_policy p = policy(true, names, 2);
    CHECK(BLOCKED(p, ROUTE_IMAGE_PUSH, "/images/x/push"));
    CHECK(BLOCKED(p, ROUTE_CONTAINER_LIST, "/containers/json"));
}

TEST(deny_group_covers_future_routes)
{
    char *names[] = {"image*"};
    sg_command_policy p = policy(true, names, 1);
    CHECK(BLOCKED(p, ROUTE_IMAGE_PUSH, "/images/x/push"));
    CHECK(BLOCKED(p, ROUTE_IMAGE_LIST, "/images/json"));
    CHECK(BLOCKED(p, ROUTE_BUILD, "/build"));
    CHECK(BLOCKED(p, ROUTE_COMMIT, "/commit"));
    CHECK(BLOCKED(p, ROUTE_NONE, "/images/x/some-future-route"));
    CHECK(!BLOCKED(p, ROUTE_CONTAINER_LIST, "/containers/json"));
    CHECK(!BLOCKED(p, ROUTE_NONE, "/containers/x/future"));
}

TEST(deny_build_blocks_buildkit_tunnels)
{
    char *names[] = {"build"};
    sg_command_policy p = policy(true, names, 1);
    CHECK(BLOCKED(p, ROUTE_BUILD, "/build"));
    CHECK(BLOCKED(p, ROUTE_GRPC, "/grpc"));
    CHECK(BLOCKED(p, ROUTE_SESSION, "/session"));
    CHECK(!BLOCKED(p, ROUTE_IMAGE_PUSH, "/images/x/push"));
}

TEST(allow_passes_effect_support_and_ping_only)
{
    char *names[] = {"ps", "container*", "volume*"};
    sg_command_policy p = policy(false, names, 3);
    CHECK(!BLOCKED(p, ROUTE_CONTAINER_LIST, "/containers/json"));
    CHECK(!BLOCKED(p, ROUTE_CONTAINER_CREATE, "/containers/create"));
    CHECK(!BLOCKED(p, ROUTE_VOLUME_LIST, "/volumes"));
    CHECK(!BLOCKED(p, ROUTE_PING_HEAD, "/_ping"));
    CHECK(!BLOCKED(p, ROUTE_PING_GET, "/_ping"));
    CHECK(BLOCKED(p, ROUTE_IMAGE_CREATE, "/images/create"));    /* docker pull */
    CHECK(BLOCKED(p, ROUTE_IMAGE_PUSH, "/images/x/push"));
    CHECK(BLOCKED(p, ROUTE_NONE, "/unknown"));                  /* unknown: blocked */
    CHECK(BLOCKED(p, ROUTE_GRPC, "/grpc"));
}

TEST(allow_nothing_blocks_everything_but_ping)
{
    sg_command_policy p = policy(false, NULL, 0);
    CHECK(BLOCKED(p, ROUTE_CONTAINER_LIST, "/containers/json"));
    CHECK(!BLOCKED(p, ROUTE_PING_HEAD, "/_ping"));
}

TEST(classify_names)
{
    const char *canonical = NULL;
    CHECK_INT(sg_commands_classify("push", &canonical), SG_NAME_COMMAND);
    CHECK_STR(canonical, "push");
    CHECK_INT(sg_commands_classify("container list", &canonical), SG_NAME_COMMAND);
    CHECK_STR(canonical, "container ls");
    CHECK_INT(sg_commands_classify("image*", NULL), SG_NAME_GROUP);
    CHECK_INT(sg_commands_classify("scout", NULL), SG_NAME_UNSUPPORTED);
    CHECK_INT(sg_commands_classify("compose up", NULL), SG_NAME_UNSUPPORTED);
    CHECK_INT(sg_commands_classify("frobnicate", NULL), SG_NAME_UNKNOWN);
    CHECK_INT(sg_commands_classify("images*", NULL), SG_NAME_UNKNOWN);
}

int main(void)
{
    RUN(deny_push_blocks_only_its_effect);
    RUN(management_form_and_alias);
    RUN(deny_group_covers_future_routes);
    RUN(deny_build_blocks_buildkit_tunnels);
    RUN(allow_passes_effect_support_and_ping_only);
    RUN(allow_nothing_blocks_everything_but_ping);
    RUN(classify_names);
    return UNIT_DONE();
}
