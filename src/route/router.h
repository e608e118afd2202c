/*
 * router.h — match a request the way dockerd's router (gorilla/mux) does.
 *
 * Given the method and the raw origin-form target of a parsed request, the
 * router decodes the path exactly once, detects paths dockerd would redirect
 * (containing "//", "/./", "/../" or ending in "/." or "/.." after decoding),
 * strips an optional "/v{version}" prefix ([0-9.]+, lowercase v) and finds the
 * first route of the table (route_table.c, dockerd's registration order) that
 * matches, case-sensitively, with dockerd's variable patterns (".*" greedy
 * names that may contain slashes, "[^/]+" elsewhere).
 *
 * The route id is what every later decision (policy, command list) keys on.
 */
#ifndef SG_ROUTER_H
#define SG_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "http/http.h"
#include "route/route_table.h"

#define ROUTER_MAX_PATH 8192  /* decoded path limit; longer => ROUTER_BAD */
#define ROUTER_MAX_VARS 2

typedef enum {
    ROUTER_MATCH,     /* a known route matched: m->route is set              */
    ROUTER_UNKNOWN,   /* well-formed path no route matches (dockerd: 404)    */
    ROUTER_REDIRECT,  /* dockerd would answer 301 to m->clean_path           */
    ROUTER_BAD,       /* malformed: bad %-escape, NUL/control after decode,
                         path too long, not origin-form, a query Go's
                         url.ParseQuery refuses (http/query.h)               */
} router_status;

typedef struct {
    const char *start; /* points into m->path */
    size_t len;
} router_span;

typedef struct {
    route_id route;                 /* ROUTE_NONE unless ROUTER_MATCH       */
    bool has_version;
    char version[32];               /* "1.41" when has_version              */
    char path[ROUTER_MAX_PATH + 1]; /* decoded path, version prefix kept    */
    size_t path_len;
    const char *route_path;         /* into path: after the version prefix  */
    router_span vars[ROUTER_MAX_VARS]; /* {id}/{name} etc, in pattern order */
    size_t n_vars;
    const char *query;              /* raw query after '?', NUL-free, into
                                       the caller's target; NULL if none    */
    size_t query_len;
    char clean_path[ROUTER_MAX_PATH + 1]; /* ROUTER_REDIRECT: cleaned path  */
    const char *error;              /* ROUTER_BAD: the reason (static, or
                                       error_buf)                           */
    char error_buf[192];            /* a reason that names a parameter      */
} router_match;

router_status router_route(http_method method, const char *target,
                           size_t target_len, router_match *m);

/* The same answer found the slow way, trying every route of the table in
 * order: the reference fuzz_router holds router_route's index to. */
router_status router_route_scan(http_method method, const char *target, size_t target_len,
                                router_match *m);

/*
 * Percent-encode a decoded path for forwarding, so that dockerd decodes it
 * back to exactly m->path. Unreserved characters, "/" and the sub-delims
 * and ":@" that Go's PathUnescape leaves alone are kept as they are (so an
 * image name arrives spelled as the CLI sends it); everything else is %XX.
 * Writes a terminating NUL; returns the length without it, or 0 if out is
 * too small.
 */
size_t router_encode_path(const char *path, size_t len, char *out, size_t outsz);

#endif
