/*
 * test_daemon_json.c — `sockgate check`'s report of dockerd's daemon.json:
 * defaults when it is absent, what the file says when it is there, a TCP
 * listener flagged, and a file that is not a regular JSON object refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/daemon_json.h"
#include "unit.h"

static char dir[64];

/* The report for a daemon.json holding text (NULL: no file). */
static const char *report(const char *text, int *rc)
{
    static char out[8192];
    char path[128];
    snprintf(path, sizeof path, "%s/daemon.json", dir);
    unlink(path);
    if (text) {
        FILE *f = fopen(path, "w");
        fputs(text, f);
        fclose(f);
    }
    FILE *o = fmemopen(out, sizeof out, "w");
    *rc = sg_daemon_json_report(path, o);
    fclose(o);
    return out;
}

TEST(absent_means_dockerds_defaults)
{
    int rc;
    const char *t = report(NULL, &rc);
    CHECK_INT(rc, 0);
    CHECK(strstr(t, "absent, dockerd's defaults apply"));
    CHECK(strstr(t, "network-host       granted (dockerd's default)"));
    CHECK(strstr(t, "security-insecure  refused (dockerd's default)"));
    CHECK(strstr(t, "user namespaces: off"));
}

TEST(what_the_file_says)
{
    int rc;
    const char *t = report("{\"builder\":{\"entitlements\":{\"network-host\":false,"
                           "\"security-insecure\":true}},\"userns-remap\":\"default\","
                           "\"features\":{\"containerd-snapshotter\":true},"
                           "\"hosts\":[\"fd://\",\"tcp://127.0.0.1:2375\"]}",
                           &rc);
    CHECK_INT(rc, 1);
    CHECK(strstr(t, "network-host       refused: "));
    CHECK(strstr(t, "security-insecure  granted: "));
    CHECK(strstr(t, "user namespaces: on (userns-remap default)"));
    CHECK(strstr(t, "image store: containerd"));
    CHECK(strstr(t, "WARNING: dockerd listens on tcp://127.0.0.1:2375"));
    CHECK(strstr(t, "listens on fd://"));
}

TEST(not_a_json_object_or_not_a_file)
{
    int rc;
    report("[1,2]", &rc);
    CHECK_INT(rc, -1);
    report("{\"a\":1,\"a\":2}", &rc);
    CHECK_INT(rc, -1);
    char fifo[128];
    snprintf(fifo, sizeof fifo, "%s/daemon.json", dir);
    unlink(fifo);
    CHECK_INT(mkfifo(fifo, 0600), 0);
    FILE *o = fopen("/dev/null", "w");
    CHECK_INT(sg_daemon_json_report(fifo, o), -1); /* and it did not block */
    fclose(o);
    unlink(fifo);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/sg-unit-daemon.XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    RUN(absent_means_dockerds_defaults);
    RUN(what_the_file_says);
    RUN(not_a_json_object_or_not_a_file);
    char path[128];
    snprintf(path, sizeof path, "%s/daemon.json", dir);
    unlink(path);
    rmdir(dir);
    return UNIT_DONE();
}
