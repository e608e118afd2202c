/*
 * fuzz_router.c — libFuzzer target for router_route() / router_encode_path().
 *
 * Input: first byte picks the method (modulo the number of methods), the
 * rest is the raw request target. Invariants checked (abort on violation):
 *   - a match names a route whose method is the request's method;
 *   - variables, route_path and version lie inside the decoded path;
 *   - the decoded path is NUL-free and within ROUTER_MAX_PATH;
 *   - encode(path) routes to the same decoded path and the same decision
 *     (what sockgate forwards is what it checked);
 *   - a redirect target is clean: routing it never redirects again;
 *   - the route index answers as router_route_scan, the full scan in table
 *     order, does.
 *
 * The reference for what dockerd does is docs/ROUTING.md; this target
 * checks self-consistency, test_router.c checks the behaviour.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "route/router.h"

#define N_METHODS ((int)HTTP_METHOD_OPTIONS + 1)

static router_match m1, m2;
static char enc[3 * ROUTER_MAX_PATH + 1];

static void require(int cond)
{
    if (!cond)
        abort();
}

static int inside(const char *p, size_t len, const router_match *m)
{
    return p >= m->path && p + len <= m->path + m->path_len;
}

static void check_match(http_method method, const router_match *m)
{
    const route_info *r = route_lookup(m->route);
    require(r != NULL && r->id == m->route && r->method == method);
    require(m->n_vars <= ROUTER_MAX_VARS);
    for (size_t i = 0; i < m->n_vars; i++)
        require(inside(m->vars[i].start, m->vars[i].len, m));
    require(inside(m->route_path, strlen(m->route_path), m));
    if (m->has_version) {
        size_t v = strlen(m->version);
        require(v > 0 && v < sizeof m->version);
        require(m->path[0] == '/' && m->path[1] == 'v');
        require(memcmp(m->path + 2, m->version, v) == 0);
        require(m->route_path == m->path + 2 + v);
    } else {
        require(m->route_path == m->path);
    }
}

/* Same decision for the same decoded path: vars at the same offsets. */
static void check_same(const router_match *a, router_status sa,
                       const router_match *b, router_status sb)
{
    require(sa == sb && a->route == b->route && a->n_vars == b->n_vars);
    require(a->path_len == b->path_len);
    require(memcmp(a->path, b->path, a->path_len) == 0);
    for (size_t i = 0; i < a->n_vars; i++) {
        require(a->vars[i].start - a->path == b->vars[i].start - b->path);
        require(a->vars[i].len == b->vars[i].len);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    http_method method = (http_method)(data[0] % N_METHODS);
    const char *target = (const char *)data + 1;
    size_t len = size - 1;

    router_status st = router_route(method, target, len, &m1);
    /* The index finds what trying every route in table order finds. */
    router_status st_scan = router_route_scan(method, target, len, &m2);
    require(st_scan == st);
    if (st != ROUTER_BAD) {
        check_same(&m1, st, &m2, st_scan);
        require(m1.has_version == m2.has_version && m1.route_path - m1.path == m2.route_path - m2.path);
    }
    if (st == ROUTER_BAD) {
        require(m1.error != NULL && m1.route == ROUTE_NONE);
        return 0;
    }
    require(m1.path_len <= ROUTER_MAX_PATH);
    require(m1.path[m1.path_len] == '\0' && strlen(m1.path) == m1.path_len);
    if (m1.query)
        require(m1.query > target && m1.query + m1.query_len == target + len);
    if (st == ROUTER_MATCH)
        check_match(method, &m1);
    else
        require(m1.route == ROUTE_NONE);

    size_t e = router_encode_path(m1.path, m1.path_len, enc, sizeof enc);
    require(e >= m1.path_len && enc[e] == '\0');
    router_status st2 = router_route(method, enc, e, &m2);
    check_same(&m1, st, &m2, st2);

    if (st == ROUTER_REDIRECT) {
        size_t cl = strlen(m1.clean_path);
        require(cl > 0 && cl <= m1.path_len && m1.clean_path[0] == '/');
        e = router_encode_path(m1.clean_path, cl, enc, sizeof enc);
        require(e > 0);
        st2 = router_route(method, enc, e, &m2);
        /* BAD is possible (an over-long version hidden behind "//") */
        require(st2 != ROUTER_REDIRECT);
        if (st2 != ROUTER_BAD)
            require(m2.path_len == cl &&
                    memcmp(m2.path, m1.clean_path, cl) == 0);
    }
    return 0;
}
