/*
 * status_client.c — `sockgate status`: connect to a running sockgate's
 * root-only status socket (gate/status.c), add the tenants found on the
 * engine, and print the document.
 *
 *   sockgate status [--state-dir DIR | --socket PATH] [--engine PATH]
 *
 * The tenants are counted here, not by the gate. The status socket is
 * answered by the gate's event loop, which must never wait; an answer made
 * of three engine look-ups would be state kept in the gate, and the time of
 * a slow dockerd spent on its loop, for a read-only report that needs
 * nothing only the gate knows: a tenant and its policy are labels on
 * dockerd's own objects (decide/tenant.h). So this command asks dockerd
 * itself, at the engine socket the gate reports (engine.socket) or the one
 * --engine names, with dockerd's label filter, and groups the answers
 * (tenant_census.c). Whoever may read the status socket is root, and may
 * open the engine socket anyway. The look-ups are the gate's own engine
 * client: bounded in time and size, answers parsed strictly.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/tenant_census.h"
#include "engine/engine_client.h"

/* A status document is a few KiB to a few MiB (the digest cache). */
#define STATUS_MAX (64u * 1024 * 1024)

static int status_usage(void)
{
    fputs("usage: sockgate status [--state-dir DIR | --socket PATH] [--engine PATH]\n", stderr);
    return 2;
}

/* The whole document from the status socket at path, NUL-terminated. */
static char *status_read(const char *path, size_t *len)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        fprintf(stderr, "sockgate status: socket path too long: %s\n", path);
        return NULL;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        fprintf(stderr, "sockgate status: cannot connect to %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    ssize_t got = 0;
    while (buf) {
        if (n + 1 == cap) {
            char *bigger = cap < STATUS_MAX ? realloc(buf, cap * 2) : NULL;
            if (!bigger) {
                fprintf(stderr, "sockgate status: the answer is larger than %u bytes\n",
                        STATUS_MAX);
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        got = read(fd, buf + n, cap - n - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    if (buf && got < 0) {
        fprintf(stderr, "sockgate status: reading %s: %s\n", path, strerror(errno));
        free(buf);
        buf = NULL;
    }
    close(fd);
    if (buf)
        buf[n] = '\0';
    *len = n;
    return buf;
}

/* ---- the tenants, from dockerd ------------------------------------------ */

typedef struct census_run census_run;

typedef struct {
    census_run *run;
    const char *path, *query;
    bool (*take)(sg_census *c, json_t *answer);
} census_list;

struct census_run {
    sg_census *census;
    const char *engine;
    int pending;
    char error[512]; /* the first failure */
};

static void census_fail(census_run *r, const census_list *l, const char *why)
{
    if (!r->error[0])
        snprintf(r->error, sizeof r->error, "engine at %s: GET %s: %s", r->engine, l->path, why);
}

static void census_on_answer(void *arg, int status, json_t *body)
{
    census_list *l = arg;
    census_run *r = l->run;
    r->pending--;
    char why[64];
    if (status < 0)
        census_fail(r, l, uv_strerror(status));
    else if (status != 200)
        census_fail(r, l, (snprintf(why, sizeof why, "status %d", status), why));
    else if (!l->take(r->census, body))
        census_fail(r, l, "not the list dockerd answers");
    json_decref(body);
}

/* The tenants on the engine at engine_path into doc: "tenants", or
 * "tenants_error" when any list could not be had (a partial count would
 * mislead). */
static void status_tenants(const char *engine_path, json_t *doc)
{
    census_run r = {.census = sg_census_new(), .engine = engine_path};
    census_list lists[] = {
        {&r, "/containers/json", SG_CENSUS_QUERY_CONTAINERS, sg_census_containers},
        {&r, "/volumes", SG_CENSUS_QUERY, sg_census_volumes},
        {&r, "/networks", SG_CENSUS_QUERY, sg_census_networks},
    };
    uv_loop_t loop;
    uv_loop_init(&loop);
    sg_engine *e = sg_engine_socket_new(&loop, engine_path);
    for (size_t i = 0; i < sizeof lists / sizeof *lists && e && r.census; i++) {
        if (sg_engine_socket_get_query(e, lists[i].path, lists[i].query, census_on_answer,
                                       &lists[i]))
            r.pending++;
        else
            census_fail(&r, &lists[i], "out of memory");
    }
    while (r.pending > 0 && uv_run(&loop, UV_RUN_ONCE))
        ;
    if (!e || !r.census)
        snprintf(r.error, sizeof r.error, "out of memory");
    if (r.error[0])
        json_object_set_new(doc, "tenants_error", json_string(r.error));
    else
        sg_census_describe(r.census, doc);
    if (e)
        sg_engine_socket_free(e);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    sg_census_free(r.census);
}

int sg_cmd_status(int argc, char **argv)
{
    char path[4096];
    const char *engine = NULL;
    snprintf(path, sizeof path, "/var/lib/sockgate/status.sock");
    for (int i = 1; i < argc; i++) {
        if (i + 1 == argc)
            return status_usage();
        if (strcmp(argv[i], "--socket") == 0)
            snprintf(path, sizeof path, "%s", argv[++i]);
        else if (strcmp(argv[i], "--state-dir") == 0)
            snprintf(path, sizeof path, "%s/status.sock", argv[++i]);
        else if (strcmp(argv[i], "--engine") == 0)
            engine = argv[++i];
        else
            return status_usage();
    }
    size_t len;
    char *text = status_read(path, &len);
    if (!text)
        return 1;
    json_t *doc = json_loadb(text, len, 0, NULL);
    if (!json_is_object(doc)) { /* not what this version writes: as it came */
        fwrite(text, 1, len, stdout);
        putchar('\n');
        json_decref(doc);
        free(text);
        return 0;
    }
    free(text);
    if (!engine)
        engine = json_string_value(json_object_get(json_object_get(doc, "engine"), "socket"));
    char engine_path[4096];
    snprintf(engine_path, sizeof engine_path, "%s", engine ? engine : SG_DEFAULT_ENGINE);
    status_tenants(engine_path, doc);
    const char *error = json_string_value(json_object_get(doc, "tenants_error"));
    if (error)
        fprintf(stderr, "sockgate status: tenants not counted: %s\n", error);
    char *out = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (!out) {
        fputs("sockgate status: out of memory\n", stderr);
        return 1;
    }
    puts(out);
    free(out);
    return 0;
}
