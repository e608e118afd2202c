/*
 * fuzz_body_inspector.c — the create/service body inspector: a body read
 * like dockerd reads it (gojson), every mount found (mounts.c), and the
 * rewrites an allowed request gets. Invariants: no crash, every mount has a
 * source and a target string, rewrites keep the tree serialisable, and the
 * re-serialised body parses back to the same mounts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "body/gojson.h"
#include "body/mounts.h"

static void check_list(const sg_mount_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (!l->items[i].source || !l->items[i].target)
            abort();
}

static size_t count_mounts(json_t *body, int service)
{
    sg_mount_list l = {0};
    char err[256];
    int rc = service ? sg_mounts_of_service(body, &l, err, sizeof err)
                     : sg_mounts_of_create(body, &l, err, sizeof err);
    size_t n = rc == 0 ? l.n : (size_t)-1;
    sg_mount_list_free(&l);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sg_gojson_error err;
    json_t *body = sg_gojson_parse((const char *)data, size, &err);
    if (!body)
        return 0;
    for (int service = 0; service < 2; service++) {
        sg_mount_list l = {0};
        char e[256];
        int rc = service ? sg_mounts_of_service(body, &l, e, sizeof e)
                         : sg_mounts_of_create(body, &l, e, sizeof e);
        if (rc == 0) {
            check_list(&l);
            size_t before = l.n;
            for (size_t i = 0; i < l.n; i++)
                if (l.items[i].binds || l.items[i].mount)
                    sg_mount_set_source(&l.items[i], "/run/sockgate/restricted.sock");
            if (!service && json_is_object(body))
                sg_mounts_add_bind(body, "/run/sockgate/restricted.sock", "/x/docker.sock");
            char *out = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
            if (!out)
                abort();
            json_t *again = sg_gojson_parse(out, strlen(out), &err);
            /* An added bind may only add mounts, never lose one. */
            if (again && count_mounts(again, service) != (size_t)-1 &&
                count_mounts(again, service) < before)
                abort();
            json_decref(again);
            free(out);
        }
        sg_mount_list_free(&l);
    }
    json_decref(body);
    return 0;
}
