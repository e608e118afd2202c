/*
 * query.c — Go-compatible query parsing (see query.h).
 */
#include "http/query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"

/* Decode a key or value (%XX, "+" as space) into out, which has room for
 * n + 1 bytes (decoding never lengthens). Returns the decoded length, or
 * -1 if malformed: a bad escape, or a decoded NUL. */
static long query_unescape(const char *s, size_t n, char *out)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int h = sg_hex_value(s[i + 1]), l = sg_hex_value(s[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            c = h * 16 + l;
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (c == 0)
            return -1;
        out[w++] = (char)c;
    }
    out[w] = '\0';
    return (long)w;
}

/* Walk the "&"-separated pairs of q; for each non-empty one call fn with
 * the raw key and value spans. Stops at the first fn that returns false. */
typedef bool (*pair_fn)(void *arg, const char *k, size_t kn, const char *v, size_t vn);

static bool query_pairs(const char *q, size_t len, pair_fn fn, void *arg)
{
    for (size_t pos = 0; pos < len;) {
        const char *seg = q + pos;
        const char *amp = memchr(seg, '&', len - pos);
        size_t n = amp ? (size_t)(amp - seg) : len - pos;
        pos += n + 1;
        if (n == 0)
            continue;
        const char *eq = memchr(seg, '=', n);
        size_t kn = eq ? (size_t)(eq - seg) : n;
        if (!fn(arg, seg, kn, eq ? eq + 1 : seg + n, eq ? n - kn - 1 : 0))
            return false;
    }
    return true;
}

typedef struct {
    char *why;
    size_t whysz;
    char *scratch; /* room for the longest pair, decoded */
} check_ctx;

static bool check_pair(void *arg, const char *k, size_t kn, const char *v, size_t vn)
{
    check_ctx *c = arg;
    bool key_ok = query_unescape(k, kn, c->scratch) >= 0;
    if (key_ok && query_unescape(v, vn, c->scratch) >= 0)
        return true;
    /* Name the parameter as sent (at most 64 bytes of it, escapes kept). */
    snprintf(c->why, c->whysz,
             "malformed query: parameter \"%.*s%s\" has a bad %%-escape or a NUL in its %s",
             (int)(kn > 64 ? 64 : kn), k, kn > 64 ? "…" : "", key_ok ? "value" : "name");
    return false;
}

bool http_query_valid(const char *q, size_t len, char *why, size_t whysz)
{
    if (!q || len == 0)
        return true;
    const char *semi = memchr(q, ';', len);
    if (semi) {
        /* Go: "invalid semicolon separator in query" */
        size_t start = 0;
        for (size_t i = (size_t)(semi - q); i > 0; i--)
            if (q[i - 1] == '&') {
                start = i;
                break;
            }
        snprintf(why, whysz, "malformed query: \";\" in parameter \"%.*s\" (Go refuses it)",
                 (int)((size_t)(semi - q) - start > 64 ? 64 : (size_t)(semi - q) - start),
                 q + start);
        return false;
    }
    char *scratch = malloc(len + 1);
    if (!scratch) {
        snprintf(why, whysz, "out of memory reading the query");
        return false;
    }
    check_ctx c = {why, whysz, scratch};
    bool ok = query_pairs(q, len, check_pair, &c);
    free(scratch);
    return ok;
}

/* ---- the parsed form ------------------------------------------------------ */

typedef struct {
    http_query *out;
    char *store;    /* decoded bytes, NUL-separated */
    size_t used;
    bool malformed;
} parse_ctx;

static bool parse_pair(void *arg, const char *k, size_t kn, const char *v, size_t vn)
{
    parse_ctx *c = arg;
    char *key = c->store + c->used;
    long klen = query_unescape(k, kn, key);
    if (klen < 0)
        return !(c->malformed = true);
    c->used += (size_t)klen + 1;
    char *value = c->store + c->used;
    long vlen = query_unescape(v, vn, value);
    if (vlen < 0)
        return !(c->malformed = true);
    c->used += (size_t)vlen + 1;
    c->out->params[c->out->n++] = (http_query_param){key, value};
    return true;
}

http_query_status http_query_parse(const char *q, size_t len, http_query *out)
{
    out->params = NULL;
    out->n = 0;
    if (!q || len == 0)
        return HTTP_QUERY_OK;
    if (memchr(q, ';', len))
        return HTTP_QUERY_MALFORMED;
    size_t pairs = 1;
    for (size_t i = 0; i < len; i++)
        pairs += q[i] == '&';
    /* The pairs, then every key and value decoded with its NUL: a pair of n
     * raw bytes decodes to at most n + 2 bytes with both NULs. */
    size_t head = pairs * sizeof(http_query_param);
    void *block = malloc(head + len + 2 * pairs);
    if (!block)
        return HTTP_QUERY_NOMEM;
    out->params = block;
    parse_ctx c = {out, (char *)block + head, 0, false};
    query_pairs(q, len, parse_pair, &c);
    if (c.malformed) {
        http_query_free(out);
        return HTTP_QUERY_MALFORMED;
    }
    return HTTP_QUERY_OK;
}

const char *http_query_first(const http_query *q, const char *key)
{
    for (size_t i = 0; i < q->n; i++)
        if (strcmp(q->params[i].key, key) == 0)
            return q->params[i].value;
    return NULL;
}

void http_query_free(http_query *q)
{
    free(q->params);
    q->params = NULL;
    q->n = 0;
}
