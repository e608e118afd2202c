/*
 * test_exposure.c — host-path exposure checks against real sockets, links
 * and directories made in a scratch directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "decide/exposure.h"
#include "unit.h"

static char root[PATH_MAX / 2];
static char sock_path[PATH_MAX];
static sg_protected_set set;

static void path_of(char *out, const char *rel)
{
    snprintf(out, PATH_MAX, "%s/%.*s", root, (int)(PATH_MAX / 4), rel);
}

static int make_socket(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    return bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 ? fd : -1;
}

static size_t check(const char *rel, sg_exposure *e)
{
    char p[PATH_MAX];
    path_of(p, rel);
    return sg_exposure_check(&set, p, e, 4, NULL);
}

TEST(socket_itself)
{
    sg_exposure e[4];
    CHECK_INT(check("run/docker.sock", e), 1);
    CHECK_INT(e[0].kind, SG_EXPOSES_SOCKET);
}

TEST(odd_spellings)
{
    sg_exposure e[4];
    CHECK_INT(check("run//./docker.sock", e), 1);
    CHECK_INT(check("run/../run/docker.sock", e), 1);
    CHECK_INT(check("var/run/docker.sock", e), 1); /* var/run -> ../run */
    CHECK_INT(e[0].kind, SG_EXPOSES_SOCKET);
}

TEST(symlink_and_hard_link)
{
    sg_exposure e[4];
    CHECK_INT(check("link.sock", e), 1);
    CHECK_INT(e[0].kind, SG_EXPOSES_SOCKET);
    CHECK_INT(check("hard.sock", e), 1);
    CHECK_INT(e[0].kind, SG_EXPOSES_SOCKET);
}

TEST(parent_directories)
{
    sg_exposure e[4];
    CHECK_INT(check("run", e), 1);
    CHECK_INT(e[0].kind, SG_EXPOSES_DIRECTORY);
    CHECK_STR(e[0].inner, "docker.sock");
    CHECK_INT(check("var/run", e), 1);
    CHECK_STR(e[0].inner, "docker.sock");
    CHECK_INT(check("", e), 1);
    CHECK_STR(e[0].inner, "run/docker.sock");
    sg_exposure_check(&set, "/", e, 4, NULL);
    CHECK_INT(e[0].kind, SG_EXPOSES_DIRECTORY);
    CHECK(strstr(e[0].inner, "run/docker.sock") != NULL);
}

TEST(unrelated_paths)
{
    sg_exposure e[4];
    CHECK_INT(check("other", e), 0);
    CHECK_INT(check("run/other.sock", e), 0);
    CHECK_INT(check("does-not-exist", e), 0);
    CHECK_INT(sg_exposure_check(&set, "/etc", e, 4, NULL), 0);
}

TEST(same_socket_listed_twice_reported_once)
{
    sg_protected_set two = {0};
    char p[PATH_MAX];
    path_of(p, "var/run/docker.sock");
    sg_protected_add(&two, sock_path);
    sg_protected_add(&two, p);
    sg_exposure e[4];
    path_of(p, "run");
    CHECK_INT(sg_exposure_check(&two, p, e, 4, NULL), 1);
    sg_protected_free(&two);
}

TEST(resolved_path_returned)
{
    char p[PATH_MAX], resolved[PATH_MAX];
    sg_exposure e[4];
    path_of(p, "var/run/docker.sock");
    sg_exposure_check(&set, p, e, 4, resolved);
    CHECK_STR(resolved, sock_path);
}

int main(void)
{
    char tmpl[] = "/tmp/sg-exposure-XXXXXX";
    char *dir = mkdtemp(tmpl);
    char rootbuf[PATH_MAX];
    if (!dir || !realpath(dir, rootbuf) || strlen(rootbuf) >= sizeof root)
        return 1;
    memcpy(root, rootbuf, strlen(rootbuf) + 1);
    char p[PATH_MAX], q[PATH_MAX];
    path_of(p, "run");
    mkdir(p, 0755);
    path_of(p, "var");
    mkdir(p, 0755);
    path_of(p, "other");
    mkdir(p, 0755);
    path_of(sock_path, "run/docker.sock");
    int fd = make_socket(sock_path);
    path_of(p, "run/other.sock");
    int fd2 = make_socket(p);
    path_of(p, "var/run");
    CHECK(symlink("../run", p) == 0);
    path_of(p, "link.sock");
    CHECK(symlink(sock_path, p) == 0);
    path_of(q, "hard.sock");
    CHECK(link(sock_path, q) == 0);
    sg_protected_add(&set, sock_path);

    RUN(socket_itself);
    RUN(odd_spellings);
    RUN(symlink_and_hard_link);
    RUN(parent_directories);
    RUN(unrelated_paths);
    RUN(same_socket_listed_twice_reported_once);
    RUN(resolved_path_returned);

    sg_protected_free(&set);
    close(fd);
    close(fd2);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", root);
    return UNIT_DONE();
}
