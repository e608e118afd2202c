/*
 * test_host_paths.c — filesharingAllowedDirectories and the resolution of
 * host paths the way dockerd and the kernel resolve them, on a scratch
 * tree with symlinks and hard links; and who the isolation rules bind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decide/caller.h"
#include "decide/host_paths.h"
#include "unit.h"

static char root[128];

static void at(char *out, const char *rel)
{
    snprintf(out, PATH_MAX, "%s/%s", root, rel);
}

static sg_settings *settings(const char *text)
{
    char err[256];
    sg_settings *s = sg_settings_parse(text, strlen(text), "t", err, sizeof err);
    if (!s)
        fprintf(stderr, "  %s\n", err);
    return s;
}

static sg_path_verdict check(const sg_allowed_dirs *d, const char *rel)
{
    char p[PATH_MAX];
    at(p, rel);
    return sg_host_path_check(d, p, NULL);
}

TEST(resolve_cleans_before_following_links)
{
    char in[PATH_MAX], out[PATH_MAX], want[PATH_MAX];
    /* dockerd cleans "link/.." to nothing before the kernel sees the link */
    at(in, "allowed/link-out/../../outside/x");
    CHECK(sg_host_path_resolve(in, out));
    at(want, "outside/x");
    CHECK_STR(out, want);
    at(in, "allowed/link-out/secret");
    CHECK(sg_host_path_resolve(in, out));
    at(want, "outside/secret");
    CHECK_STR(out, want);
    CHECK(sg_host_path_resolve("//tmp/./nonexistent/../x/", out));
    CHECK_STR(out, "/tmp/x");
    CHECK(sg_host_path_resolve("/..", out));
    CHECK_STR(out, "/");
    CHECK(!sg_host_path_resolve("relative/x", out));
}

TEST(allowed_directories)
{
    char text[512];
    snprintf(text, sizeof text,
             "{\"filesharingAllowedDirectories\":[{\"path\":\"%s/allowed\"},{\"path\":\"$TMP\"},"
             "{\"path\":\"/does/not/exist\"}]}",
             root);
    sg_settings *s = settings(text);
    sg_caller c = {.socket = SG_SOCKET_PUBLIC, .uid = 0};
    sg_allowed_dirs d;
    sg_allowed_dirs_for(s, &c, &d);
    CHECK_INT(d.n, 2); /* the missing directory shares nothing */
    CHECK_INT(check(&d, "allowed/sub/new"), SG_PATH_ALLOWED);
    CHECK_INT(check(&d, "allowed"), SG_PATH_ALLOWED);
    CHECK_INT(check(&d, "outside/x"), SG_PATH_OUTSIDE);
    CHECK_INT(check(&d, "allowed/link-out"), SG_PATH_OUTSIDE);
    CHECK_INT(check(&d, "allowed/link-out/new"), SG_PATH_OUTSIDE);
    CHECK_INT(check(&d, "allowed/../outside"), SG_PATH_OUTSIDE);
    CHECK_INT(check(&d, "allowed/hard"), SG_PATH_HARD_LINKED);
    CHECK_INT(check(&d, "outside-link/x"), SG_PATH_ALLOWED); /* a link into allowed/ */
    CHECK_INT(sg_host_path_check(&d, "/tmp", NULL), SG_PATH_ALLOWED);
    CHECK_INT(sg_host_path_check(&d, "/etc/shadow", NULL), SG_PATH_OUTSIDE);
    CHECK_INT(sg_host_path_check(&d, "etc", NULL), SG_PATH_RELATIVE);
    sg_settings_unref(s);
}

TEST(home_is_the_callers_and_only_theirs)
{
    sg_settings *s = settings("{}"); /* the key absent: $HOME */
    sg_allowed_dirs d;
    sg_caller root_c = {.socket = SG_SOCKET_PUBLIC, .uid = 0};
    sg_allowed_dirs_for(s, &root_c, &d);
    CHECK_INT(d.n, 0); /* root has no $HOME to share */
    sg_caller res = {.socket = SG_SOCKET_RESTRICTED, .uid = 1000};
    sg_allowed_dirs_for(s, &res, &d);
    CHECK_INT(d.n, 0); /* nor has anything on the restricted socket */
    char home[PATH_MAX];
    sg_caller nobody = {.socket = SG_SOCKET_PUBLIC, .uid = 65534};
    /* nobody's home is "/nonexistent" (or "/"): either way nothing is shared */
    sg_allowed_dirs_for(s, &nobody, &d);
    CHECK(d.n == 0 || (sg_caller_home(&nobody, home, sizeof home) && strcmp(home, "/") != 0));
    sg_settings_unref(s);
}

TEST(who_is_isolated)
{
    sg_settings *s = settings("{\"enhancedContainerIsolation\":{\"value\":true},"
                              "\"sockgate\":{\"exemptFromIsolation\":{\"users\":[1001],"
                              "\"groups\":[2002]}}}");
    sg_caller c = {.socket = SG_SOCKET_PUBLIC, .uid = 0, .gid = 0, .host_pidns = true};
    CHECK(!sg_caller_isolated(s, &c));
    c.host_pidns = false;
    CHECK(sg_caller_isolated(s, &c)); /* uid 0 in a container is not the host's root */
    c.host_pidns = true;
    c.uid = 1000;
    CHECK(sg_caller_isolated(s, &c));
    c.uid = 1001;
    CHECK(!sg_caller_isolated(s, &c));
    c.uid = 1000;
    c.gid = 2002;
    CHECK(!sg_caller_isolated(s, &c));
    c.gid = 1000;
    c.groups[0] = 2002;
    c.n_groups = 1;
    CHECK(!sg_caller_isolated(s, &c));
    c.socket = SG_SOCKET_RESTRICTED;
    c.uid = 0;
    CHECK(sg_caller_isolated(s, &c)); /* nobody on the restricted socket is exempt */
    c = (sg_caller){.socket = SG_SOCKET_PUBLIC, .uid = (uid_t)-1, .host_pidns = true};
    CHECK(sg_caller_isolated(s, &c)); /* unknown is never exempt */
    sg_settings_unref(s);
    s = settings("{\"enhancedContainerIsolation\":{\"value\":false}}");
    c.socket = SG_SOCKET_RESTRICTED;
    CHECK(!sg_caller_isolated(s, &c));
    sg_settings_unref(s);
}

int main(void)
{
    snprintf(root, sizeof root, "/var/tmp/sg-unit-paths.XXXXXX");
    if (!mkdtemp(root))
        return 1;
    char p[PATH_MAX], q[PATH_MAX];
    at(p, "allowed"); mkdir(p, 0700);
    at(p, "allowed/sub"); mkdir(p, 0700);
    at(p, "outside"); mkdir(p, 0700);
    at(p, "outside/secret"); fclose(fopen(p, "w"));
    at(q, "allowed/hard"); link(p, q);
    at(p, "outside"); at(q, "allowed/link-out"); symlink(p, q);
    at(p, "allowed"); at(q, "outside-link"); symlink(p, q);
    RUN(resolve_cleans_before_following_links);
    RUN(allowed_directories);
    RUN(home_is_the_callers_and_only_theirs);
    RUN(who_is_isolated);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        return 1;
    return UNIT_DONE();
}
