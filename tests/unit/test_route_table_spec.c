/*
 * test_route_table_spec.c — the route table against the Engine API spec.
 *
 * Every "METHOD /path" line of spec/engine-api-endpoints.txt (the swagger's
 * operations) must have a route with the same method and the same pattern
 * once variable names are ignored ("{id}" vs "{name:.*}"), and the router
 * must actually reach that route for a sample path. Conversely every route
 * the spec lacks must be one of the known extras dockerd registers outside
 * the swagger. The spec directory is $SG_SPEC_DIR, else tests/spec (tests
 * run from the repo root). A spec that cannot be read fails the test.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "route/router.h"
#include "unit.h"

#define SPEC_MAX_LINES 512

typedef struct {
    http_method method;
    char shape[256]; /* pattern with every "{...}" replaced by "{}" */
} spec_op;

static spec_op spec_ops[SPEC_MAX_LINES];
static size_t n_spec_ops;
static bool spec_loaded;

/* Routes dockerd registers that the swagger does not document. */
static const route_id known_extras[] = {
    ROUTE_CHECKPOINT_LIST,     ROUTE_CHECKPOINT_CREATE,
    ROUTE_CHECKPOINT_DELETE,   ROUTE_OPTIONS,
    ROUTE_BUILD_CANCEL,        ROUTE_NETWORK_LIST_SLASH,
    ROUTE_DEBUG_VARS,          ROUTE_DEBUG_PPROF_INDEX,
    ROUTE_DEBUG_PPROF_CMDLINE, ROUTE_DEBUG_PPROF_PROFILE,
    ROUTE_DEBUG_PPROF_SYMBOL,  ROUTE_DEBUG_PPROF_TRACE,
    ROUTE_DEBUG_PPROF_NAME,    ROUTE_GRPC,
};

static bool parse_method(const char *s, http_method *out)
{
    static const char *const names[] = {"GET", "HEAD", "POST", "PUT", "DELETE",
                                        "OPTIONS"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (http_method)((int)HTTP_METHOD_GET + (int)i);
            return true;
        }
    }
    return false;
}

/* "/a/{id}/b" and "/a/{name:.*}/b" both become "/a/{}/b". */
static void shape_of(const char *pattern, char *out, size_t outsz)
{
    size_t o = 0;
    for (const char *p = pattern; *p && o + 3 < outsz; p++) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            if (!close)
                break;
            out[o++] = '{';
            out[o++] = '}';
            p = close;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
}

/* "{}" becomes "sgvar", giving a path that should reach the route. */
static void sample_of(const char *shape, char *out, size_t outsz)
{
    size_t o = 0;
    for (const char *p = shape; *p && o + 6 < outsz; p++) {
        if (p[0] == '{' && p[1] == '}') {
            memcpy(out + o, "sgvar", 5);
            o += 5;
            p++;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
}

static void load_spec(void)
{
    if (spec_loaded)
        return;
    spec_loaded = true;
    const char *dir = getenv("SG_SPEC_DIR");
    char file[1024];
    snprintf(file, sizeof file, "%s/engine-api-endpoints.txt",
             dir && *dir ? dir : "tests/spec");
    FILE *f = fopen(file, "r");
    if (!f) {
        fprintf(stderr, "  cannot read %s (set SG_SPEC_DIR)\n", file);
        unit_failed_checks++;
        return;
    }
    char line[512];
    while (fgets(line, sizeof line, f) && n_spec_ops < SPEC_MAX_LINES) {
        char meth[16], path[300];
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (sscanf(line, "%15s %299s", meth, path) != 2) {
            fprintf(stderr, "  unparsable spec line: %s", line);
            unit_failed_checks++;
            continue;
        }
        spec_op *op = &spec_ops[n_spec_ops];
        if (!parse_method(meth, &op->method)) {
            fprintf(stderr, "  unknown method in spec line: %s", line);
            unit_failed_checks++;
            continue;
        }
        shape_of(path, op->shape, sizeof op->shape);
        n_spec_ops++;
    }
    fclose(f);
}

/* Without the spec every later test fails once, not once per route. */
static bool spec_missing(void)
{
    load_spec();
    if (n_spec_ops > 0)
        return false;
    CHECK(n_spec_ops > 0);
    return true;
}

static const route_info *find_route(http_method method, const char *shape)
{
    const route_info *t = route_table();
    for (size_t i = 0; i < route_count(); i++) {
        char s[256];
        shape_of(t[i].pattern, s, sizeof s);
        if (t[i].method == method && strcmp(s, shape) == 0)
            return &t[i];
    }
    return NULL;
}

TEST(spec_file_is_readable)
{
    load_spec();
    /* the swagger for API 1.56 lists 108 operations; a short read is a bug */
    CHECK(n_spec_ops >= 100);
}

TEST(every_spec_operation_has_a_route)
{
    if (spec_missing())
        return;
    for (size_t i = 0; i < n_spec_ops; i++) {
        const route_info *r = find_route(spec_ops[i].method, spec_ops[i].shape);
        if (!r)
            fprintf(stderr, "  no route for method %d %s\n",
                    (int)spec_ops[i].method, spec_ops[i].shape);
        CHECK(r != NULL);
    }
}

TEST(every_spec_operation_routes_to_its_route)
{
    static router_match m;
    if (spec_missing())
        return;
    for (size_t i = 0; i < n_spec_ops; i++) {
        const route_info *r = find_route(spec_ops[i].method, spec_ops[i].shape);
        char sample[300], target[320];
        sample_of(spec_ops[i].shape, sample, sizeof sample);
        snprintf(target, sizeof target, "/v1.56%s", sample);
        router_status st = router_route(spec_ops[i].method, target,
                                        strlen(target), &m);
        CHECK_INT(st, ROUTER_MATCH);
        if (!r || m.route != r->id)
            fprintf(stderr, "  %s routed to %d\n", target, (int)m.route);
        CHECK(r && m.route == r->id);
    }
}

TEST(every_route_is_in_spec_or_a_known_extra)
{
    if (spec_missing())
        return;
    const route_info *t = route_table();
    size_t extras = 0;
    for (size_t i = 0; i < route_count(); i++) {
        char s[256];
        shape_of(t[i].pattern, s, sizeof s);
        bool in_spec = false;
        for (size_t j = 0; j < n_spec_ops && !in_spec; j++)
            in_spec = spec_ops[j].method == t[i].method &&
                      strcmp(spec_ops[j].shape, s) == 0;
        bool extra = false;
        for (size_t k = 0; k < sizeof known_extras / sizeof known_extras[0]; k++)
            extra = extra || known_extras[k] == t[i].id;
        if (in_spec == extra)
            fprintf(stderr, "  %s: in spec %d, known extra %d\n", t[i].id_name,
                    in_spec, extra);
        CHECK(in_spec != extra);
        extras += extra;
    }
    CHECK_INT(extras, sizeof known_extras / sizeof known_extras[0]);
}

int main(void)
{
    RUN(spec_file_is_readable);
    RUN(every_spec_operation_has_a_route);
    RUN(every_spec_operation_routes_to_its_route);
    RUN(every_route_is_in_spec_or_a_known_extra);
    return UNIT_DONE();
}
