/*
 * test_state_files.c — files sockgate reads besides its settings are read
 * without blocking too: a FIFO at the digest cache's state file or at the
 * registry credentials' path (--registry-config) is refused at once, never
 * waited on (an alarm fails the test instead of hanging it).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "registry/auth.h"
#include "registry/digest_cache.h"
#include "unit.h"

static char dir[] = "/tmp/sg-state-files.XXXXXX";

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "  a read blocked on a FIFO\n";
    write(2, msg, sizeof msg - 1);
    _exit(1);
}

static const char *fifo_path(const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path);
    CHECK(mkfifo(path, 0600) == 0);
    return path;
}

TEST(digest_state_fifo_starts_empty)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    sg_registry_config cfg = {0};
    alarm(10);
    sg_digest_cache *c = sg_digest_cache_new(&loop, &cfg, fifo_path("digests.json"), 300);
    alarm(0);
    CHECK(c != NULL);
    json_t *snap = sg_digest_cache_snapshot(c);
    CHECK_INT(json_object_size(snap), 0);
    json_decref(snap);
    sg_digest_cache_free(c);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
}

TEST(registry_config_fifo_is_an_error)
{
    char *user = NULL, *pass = NULL, why[512] = "";
    alarm(10);
    sg_cred_status st = sg_auth_config_lookup(fifo_path("config.json"), "docker.io", &user, &pass,
                                              why, sizeof why);
    alarm(0);
    CHECK_INT(st, SG_CRED_ERROR);
    CHECK(strstr(why, "not a regular file (a FIFO)") != NULL);
    CHECK(user == NULL && pass == NULL);
}

int main(void)
{
    signal(SIGALRM, on_alarm);
    if (!mkdtemp(dir))
        return 1;
    RUN(digest_state_fifo_starts_empty);
    RUN(registry_config_fifo_is_an_error);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return UNIT_DONE();
}
