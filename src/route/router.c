/*
 * router.c — decide which dockerd route a request target reaches.
 *
 * Owns router_route() and router_encode_path(). The rules reproduce what
 * dockerd does with gorilla/mux v1.8.1 (StrictSlash, SkipClean and
 * UseEncodedPath all off), because a gate that routes differently from the
 * daemon can be walked around (see docs/ROUTING.md):
 *
 *   1. split the target at the first '?';
 *   2. percent-decode the path once, like Go's url.PathUnescape (mux matches
 *      the decoded URL.Path, so "%2F" is a real separator);
 *   3. if mux's cleanPath() would change the path, dockerd answers 301 and
 *      never runs a handler: report ROUTER_REDIRECT;
 *   4. try the routes in registration order, each first as
 *      "/v{version:[0-9.]+}" + pattern and then bare; the first route whose
 *      method and (anchored) pattern match wins.
 */
#include "route/router.h"

#include <string.h>

#include "base/hex.h"
#include "http/query.h"

/* ---- percent-decoding ---------------------------------------------------- */


/* Go's net/url refuses these anywhere in a request target (CTL bytes). */
static bool is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

/* A half-decoded path must not look like a valid one to a careless caller. */
static router_status decode_fail(router_match *m, const char *why)
{
    m->path[0] = '\0';
    m->path_len = 0;
    m->error = why;
    return ROUTER_BAD;
}

/*
 * Decode raw[0..len) into m->path. Like url.PathUnescape: "%" must be
 * followed by two hex digits and "+" stays "+". Stricter than Go in one
 * way: a decoded control byte is refused, since no legitimate Engine API
 * path has one and downstream code treats paths as C strings.
 */
static router_status decode_path(const char *raw, size_t len, router_match *m)
{
    size_t out = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c == '%') {
            int hi = i + 2 < len ? sg_hex_value((unsigned char)raw[i + 1]) : -1;
            int lo = i + 2 < len ? sg_hex_value((unsigned char)raw[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return decode_fail(m, "invalid percent-escape in path");
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        }
        if (is_ctl(c))
            return decode_fail(m, "control character in decoded path");
        if (out == ROUTER_MAX_PATH)
            return decode_fail(m, "path too long");
        m->path[out++] = (char)c;
    }
    m->path[out] = '\0';
    m->path_len = out;
    return ROUTER_MATCH;
}

/* ---- mux cleanPath ------------------------------------------------------- */

/*
 * Go's path.Clean for a rooted path, plus mux's rule that a trailing slash
 * survives. Writes into out (at least len + 1 bytes) and returns its length.
 * The result is never longer than the input: it only drops bytes, and the
 * trailing slash it re-adds was in the input.
 */
static size_t clean_path(const char *p, size_t len, char *out)
{
    size_t o = 0;
    size_t i = 0;
    while (i < len) {
        while (i < len && p[i] == '/')
            i++;
        size_t start = i;
        while (i < len && p[i] != '/')
            i++;
        size_t seg = i - start;
        if (seg == 0 || (seg == 1 && p[start] == '.'))
            continue;
        if (seg == 2 && p[start] == '.' && p[start + 1] == '.') {
            /* ".." removes the previous element; at the root it is dropped */
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
            continue;
        }
        out[o++] = '/';
        memcpy(out + o, p + start, seg);
        o += seg;
    }
    if (o == 0 || (len > 0 && p[len - 1] == '/'))
        out[o++] = '/';
    out[o] = '\0';
    return o;
}

/*
 * Only an empty segment ("//") or a dot segment ("/." or "/..") can make
 * cleanPath change a rooted path, and both begin with "/" followed by "/"
 * or ".": a path without either is clean as it is.
 */
static bool may_need_cleaning(const char *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++)
        if (p[i] == '/' && (p[i + 1] == '/' || p[i + 1] == '.'))
            return true;
    return false;
}

/* ---- pattern matching ---------------------------------------------------- */

typedef enum {
    VAR_SEGMENT, /* {x}      [^/]+ */
    VAR_ANY,     /* {x:.*}   .*    */
    VAR_SOME,    /* {x:.+}   .+    */
    VAR_INVALID, /* anything else: never matches (the table uses none) */
} var_kind;

typedef struct {
    const char *s; /* the path being matched (after any version prefix) */
    size_t len;
    router_span vars[ROUTER_MAX_VARS];
    size_t n_vars;
} match_ctx;

/* Parse "{name}" / "{name:re}" at pat; return the text after '}' or NULL. */
static const char *parse_var(const char *pat, var_kind *kind)
{
    const char *close = strchr(pat, '}');
    if (!close)
        return NULL;
    const char *colon = memchr(pat, ':', (size_t)(close - pat));
    if (!colon) {
        *kind = VAR_SEGMENT;
    } else {
        size_t n = (size_t)(close - colon - 1);
        if (n == 2 && memcmp(colon + 1, ".*", 2) == 0)
            *kind = VAR_ANY;
        else if (n == 2 && memcmp(colon + 1, ".+", 2) == 0)
            *kind = VAR_SOME;
        else
            *kind = VAR_INVALID;
    }
    return close + 1;
}

static bool match_from(match_ctx *c, const char *pat, size_t pos);

/*
 * Match a variable at s[pos..] and then the rest of the pattern. Go's
 * regexp prefers the longest capture for a greedy operator (leftmost-first
 * semantics), so lengths are tried from the longest down. When only
 * literal text follows, the anchored match leaves exactly one candidate.
 */
static bool match_var(match_ctx *c, var_kind kind, const char *rest, size_t pos)
{
    if (kind == VAR_INVALID || c->n_vars == ROUTER_MAX_VARS)
        return false;
    size_t avail = c->len - pos;
    size_t hi = avail;
    if (kind == VAR_SEGMENT) {
        const char *slash = memchr(c->s + pos, '/', avail);
        if (slash)
            hi = (size_t)(slash - (c->s + pos));
    }
    size_t lo = kind == VAR_ANY ? 0 : 1;
    if (!strchr(rest, '{')) {
        size_t tail = strlen(rest);
        if (tail > avail)
            return false;
        size_t only = avail - tail;
        if (only > hi || only < lo)
            return false;
        hi = lo = only;
    }
    if (hi < lo)
        return false;
    size_t idx = c->n_vars++;
    for (size_t l = hi;; l--) {
        c->vars[idx] = (router_span){c->s + pos, l};
        if (match_from(c, rest, pos + l))
            return true;
        if (l == lo)
            break;
    }
    c->n_vars = idx;
    return false;
}

/* Anchored match of pat against s[pos..len). */
static bool match_from(match_ctx *c, const char *pat, size_t pos)
{
    while (*pat && *pat != '{') {
        if (pos >= c->len || c->s[pos] != *pat)
            return false;
        pat++;
        pos++;
    }
    if (!*pat)
        return pos == c->len;
    var_kind kind;
    const char *rest = parse_var(pat, &kind);
    if (!rest)
        return false;
    return match_var(c, kind, rest, pos);
}

static bool match_pattern(const char *pattern, const char *s, size_t len,
                          match_ctx *c)
{
    c->s = s;
    c->len = len;
    c->n_vars = 0;
    return match_from(c, pattern, 0);
}

/* ---- routing ------------------------------------------------------------- */

/*
 * The table by method and first path character (the one after the leading
 * '/'), each bucket in registration order, and beside them each method's
 * routes that start with a variable (only OPTIONS "/{anyroute:.*}" does).
 * A route whose first character differs from the path's cannot match, so a
 * request tries the routes of one bucket (a handful, /_ping's is one) and
 * those starting with a variable, merged back into table order: the first
 * match is the full scan's (router_route_scan, which fuzz_router compares
 * against on every input). Built on the first call.
 */
#define ROUTER_METHODS (HTTP_METHOD_OPTIONS + 1)
#define ROUTER_FIRSTS 128 /* route patterns are ASCII */

static struct {
    bool built;
    /* bucket c of method m: by_first[start[m][c] .. start[m][c + 1]) */
    unsigned short start[ROUTER_METHODS][ROUTER_FIRSTS + 1];
    unsigned short by_first[ROUTE_COUNT];
    /* method m's variable-first routes: var[var_start[m] .. var_start[m + 1]) */
    unsigned short var_start[ROUTER_METHODS + 1];
    unsigned short var[ROUTE_COUNT];
} route_index;

static bool route_starts_with_var(const route_info *r) { return r->pattern[1] == '{'; }

static void build_route_index(void)
{
    const route_info *routes = route_table();
    size_t n = route_count(), k = 0, v = 0;
    for (unsigned meth = 0; meth < ROUTER_METHODS; meth++) {
        route_index.var_start[meth] = (unsigned short)v;
        for (unsigned c = 0; c < ROUTER_FIRSTS; c++) {
            route_index.start[meth][c] = (unsigned short)k;
            for (size_t i = 0; i < n; i++)
                if ((unsigned)routes[i].method == meth && !route_starts_with_var(&routes[i]) &&
                    (unsigned char)routes[i].pattern[1] == c)
                    route_index.by_first[k++] = (unsigned short)i;
        }
        route_index.start[meth][ROUTER_FIRSTS] = (unsigned short)k;
        for (size_t i = 0; i < n; i++)
            if ((unsigned)routes[i].method == meth && route_starts_with_var(&routes[i]))
                route_index.var[v++] = (unsigned short)i;
    }
    route_index.var_start[ROUTER_METHODS] = (unsigned short)v;
    route_index.built = true;
}

/* A run of table indexes, ascending. */
typedef struct {
    const unsigned short *at, *end;
} route_run;

#define ROUTE_RUN_END 0xffffu

static unsigned run_head(const route_run *r) { return r->at < r->end ? *r->at : ROUTE_RUN_END; }

/* Advance r past i when i is its head; whether it was. */
static bool run_take(route_run *r, unsigned i)
{
    if (run_head(r) != i)
        return false;
    r->at++;
    return true;
}

/* The bucket of method meth for a path whose second byte is c. */
static route_run bucket_of(unsigned meth, char c)
{
    unsigned u = (unsigned char)c;
    if (u >= ROUTER_FIRSTS)
        return (route_run){NULL, NULL};
    const unsigned short *base = route_index.by_first;
    return (route_run){base + route_index.start[meth][u], base + route_index.start[meth][u + 1]};
}

/*
 * Length of a "/v[0-9.]+" prefix that is followed by '/', or 0. Only such a
 * prefix can satisfy dockerd's "/v{version:[0-9.]+}" + route (every route
 * starts with '/', and '/' is not in [0-9.]).
 */
static size_t version_prefix_len(const char *p, size_t len)
{
    if (len < 3 || p[0] != '/' || p[1] != 'v')
        return 0;
    size_t i = 2;
    while (i < len && ((p[i] >= '0' && p[i] <= '9') || p[i] == '.'))
        i++;
    if (i == 2 || i == len || p[i] != '/')
        return 0;
    return i;
}

static void reset_match(router_match *m)
{
    m->route = ROUTE_NONE;
    m->has_version = false;
    m->version[0] = '\0';
    m->path[0] = '\0';
    m->path_len = 0;
    m->route_path = m->path;
    m->n_vars = 0;
    m->query = NULL;
    m->query_len = 0;
    m->clean_path[0] = '\0';
    m->error = NULL;
}

static void set_match(router_match *m, const route_info *r, const match_ctx *c,
                      bool versioned)
{
    m->route = r->id;
    m->route_path = c->s;
    if (!versioned) {
        m->has_version = false;
        m->version[0] = '\0';
    }
    m->n_vars = c->n_vars;
    for (size_t i = 0; i < c->n_vars; i++)
        m->vars[i] = c->vars[i];
}

/*
 * What one pass over the target found: where the query starts, and whether
 * it holds a control byte, or its path part a '%'.
 */
typedef struct {
    size_t path_len; /* up to the first '?', or the whole target */
    bool ctl, pct;
} target_scan;

static target_scan scan_target(const char *target, size_t len)
{
    target_scan t = {len, false, false};
    size_t i = 0;
    for (; i < len; i++) {
        unsigned char c = (unsigned char)target[i];
        if (c == '?')
            break;
        t.ctl |= is_ctl(c);
        t.pct |= c == '%';
    }
    t.path_len = i;
    for (; i < len; i++) /* the query: only controls matter */
        t.ctl |= is_ctl((unsigned char)target[i]);
    return t;
}

/* Steps 1-3: split, decode, detect redirects. */
static router_status prepare(const char *target, size_t target_len,
                             router_match *m)
{
    if (!target || target_len == 0 || target[0] != '/') {
        m->error = "request target is not origin-form";
        return ROUTER_BAD;
    }
    target_scan t = scan_target(target, target_len);
    if (t.ctl) {
        m->error = "control character in request target";
        return ROUTER_BAD;
    }
    size_t raw_len = t.path_len;
    if (raw_len < target_len) {
        m->query = target + raw_len + 1;
        m->query_len = target_len - raw_len - 1;
    }
    router_status st;
    if (raw_len <= ROUTER_MAX_PATH && !t.pct) {
        /* Nothing to decode (and no control byte, checked above). */
        memcpy(m->path, target, raw_len);
        m->path[raw_len] = '\0';
        m->path_len = raw_len;
    } else if ((st = decode_path(target, raw_len, m)) != ROUTER_MATCH) {
        return st;
    }
    if (!may_need_cleaning(m->path, m->path_len))
        return ROUTER_MATCH;
    size_t clen = clean_path(m->path, m->path_len, m->clean_path);
    if (clen != m->path_len || memcmp(m->clean_path, m->path, clen) != 0)
        return ROUTER_REDIRECT;
    m->clean_path[0] = '\0';
    return ROUTER_MATCH;
}

/* Steps 1-4: split, decode, detect redirects, take the version prefix. */
static router_status route_prepare(const char *target, size_t target_len, router_match *m,
                                   size_t *vlen)
{
    reset_match(m);
    router_status st = prepare(target, target_len, m);
    if (st != ROUTER_MATCH)
        return st;
    /* The query is validated once, here: whatever reads it later (the
     * decision code) sees only queries with one meaning. A redirect is
     * answered before, as dockerd answers it without reading the query. */
    if (m->query && !http_query_valid(m->query, m->query_len, m->error_buf,
                                      sizeof m->error_buf)) {
        m->error = m->error_buf;
        return ROUTER_BAD;
    }
    *vlen = version_prefix_len(m->path, m->path_len);
    if (*vlen) {
        if (*vlen - 2 >= sizeof m->version) {
            m->error = "API version too long";
            return ROUTER_BAD;
        }
        memcpy(m->version, m->path + 2, *vlen - 2);
        m->version[*vlen - 2] = '\0';
        m->has_version = true;
        m->route_path = m->path + *vlen;
    }
    return ROUTER_MATCH;
}

/* Route i of the table against the path with its version prefix stripped
 * (when there is one), then against the whole path: dockerd registers each
 * route under "/v{version}" first and then bare. */
static bool route_try(size_t i, bool versioned, bool bare, size_t vlen, router_match *m)
{
    const route_info *r = &route_table()[i];
    match_ctx c;
    if (versioned && vlen && match_pattern(r->pattern, m->path + vlen, m->path_len - vlen, &c)) {
        set_match(m, r, &c, true);
        return true;
    }
    if (bare && match_pattern(r->pattern, m->path, m->path_len, &c)) {
        set_match(m, r, &c, false);
        return true;
    }
    return false;
}

router_status router_route(http_method method, const char *target,
                           size_t target_len, router_match *m)
{
    size_t vlen = 0;
    router_status st = route_prepare(target, target_len, m, &vlen);
    if (st != ROUTER_MATCH)
        return st;
    if (!route_index.built)
        build_route_index();
    unsigned meth = (unsigned)method;
    if (meth >= ROUTER_METHODS)
        return ROUTER_UNKNOWN;
    /* The candidates of the versioned path, of the bare one, and the
     * variable-first routes (candidates of both), merged in table order. */
    route_run ver = vlen ? bucket_of(meth, m->path[vlen + 1]) : (route_run){NULL, NULL};
    route_run bare = bucket_of(meth, m->path[1]);
    route_run var = {route_index.var + route_index.var_start[meth],
                     route_index.var + route_index.var_start[meth + 1]};
    for (;;) {
        unsigned i = run_head(&ver), h;
        if ((h = run_head(&bare)) < i)
            i = h;
        if ((h = run_head(&var)) < i)
            i = h;
        if (i == ROUTE_RUN_END)
            return ROUTER_UNKNOWN;
        bool any = run_take(&var, i);
        bool v = run_take(&ver, i) || any, b = run_take(&bare, i) || any;
        if (route_try(i, v, b, vlen, m))
            return ROUTER_MATCH;
    }
}

router_status router_route_scan(http_method method, const char *target, size_t target_len,
                                router_match *m)
{
    size_t vlen = 0;
    router_status st = route_prepare(target, target_len, m, &vlen);
    if (st != ROUTER_MATCH)
        return st;
    const route_info *routes = route_table();
    for (size_t i = 0, n = route_count(); i < n; i++)
        if (routes[i].method == method && route_try(i, true, true, vlen, m))
            return ROUTER_MATCH;
    return ROUTER_UNKNOWN;
}

/* ---- encoding ------------------------------------------------------------ */

/*
 * Bytes forwarded as they are: RFC 3986 unreserved characters, '/', and the
 * sub-delims plus ':' and '@' that may appear raw in a path segment. Go's
 * PathUnescape leaves all of them untouched ('+' is not a space in a path),
 * so dockerd decodes the result to exactly the path that was checked, and
 * names like "alpine:3.20" or "img@sha256:..." reach it as the CLI sends
 * them. '%', '?', '#' and everything else are escaped.
 */
#define KEEP(c)                                                                  \
    (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z') ||                  \
     ((c) >= '0' && (c) <= '9') || (c) == '-' || (c) == '.' || (c) == '_' ||      \
     (c) == '~' || (c) == '/' || (c) == ':' || (c) == '@' || (c) == '!' ||        \
     (c) == '$' || (c) == '&' || (c) == '\'' || (c) == '(' || (c) == ')' ||       \
     (c) == '*' || (c) == '+' || (c) == ',' || (c) == ';' || (c) == '=')
#define KEEP4(c) KEEP(c), KEEP((c) + 1), KEEP((c) + 2), KEEP((c) + 3)
#define KEEP16(c) KEEP4(c), KEEP4((c) + 4), KEEP4((c) + 8), KEEP4((c) + 12)
#define KEEP64(c) KEEP16(c), KEEP16((c) + 16), KEEP16((c) + 32), KEEP16((c) + 48)

/* The same set as a table (every forwarded path goes through it). */
static const bool encode_kept[256] = {KEEP64(0), KEEP64(64), KEEP64(128), KEEP64(192)};

static bool encode_keeps(unsigned char c) { return encode_kept[c]; }

size_t router_encode_path(const char *path, size_t len, char *out, size_t outsz)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)path[i];
        size_t need = encode_keeps(c) ? 1 : 3;
        if (o + need >= outsz) /* keep room for the NUL */
            return 0;
        if (need == 1) {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    if (o >= outsz)
        return 0;
    out[o] = '\0';
    return o;
}
