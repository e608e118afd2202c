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

/* Why a query is malformed, naming the parameter as sent (at most 64 bytes
 * of it, escapes kept), into why (when the caller wants it). */
static void query_why(char *why, size_t whysz, const char *k, size_t kn, const char *what)
{
    if (why)
        snprintf(why, whysz, "malformed query: parameter \"%.*s%s\" %s",
                 (int)(kn > 64 ? 64 : kn), k, kn > 64 ? "…" : "", what);
}

/* One key=value pair decoded into the store; false if malformed. */
static bool query_pair(http_query *out, char *store, size_t *used, const char *k, size_t kn,
                       const char *v, size_t vn, char *why, size_t whysz)
{
    char *key = store + *used;
    long klen = query_unescape(k, kn, key);
    if (klen < 0) {
        query_why(why, whysz, k, kn, "has a bad %-escape or a NUL in its name");
        return false;
    }
    char *value = key + klen + 1;
    long vlen = query_unescape(v, vn, value);
    if (vlen < 0) {
        query_why(why, whysz, k, kn, "has a bad %-escape or a NUL in its value");
        return false;
    }
    *used += (size_t)klen + 1 + (size_t)vlen + 1;
    out->params[out->n++] = (http_query_param){key, value};
    return true;
}

/* The one reader behind both entry points: the router's validation, which
 * wants to know why, and the decision's parse, which keeps the values. */
static http_query_status query_read(const char *q, size_t len, http_query *out, char *why,
                                    size_t whysz)
{
    out->params = NULL;
    out->n = 0;
    if (!q || len == 0)
        return HTTP_QUERY_OK;
    const char *semi = memchr(q, ';', len);
    if (semi) { /* Go: "invalid semicolon separator in query" */
        const char *start = semi;
        while (start > q && start[-1] != '&')
            start--;
        size_t kn = (size_t)(semi - start);
        if (why)
            snprintf(why, whysz, "malformed query: \";\" in parameter \"%.*s\" (Go refuses it)",
                     (int)(kn > 64 ? 64 : kn), start);
        return HTTP_QUERY_MALFORMED;
    }
    size_t pairs = 1;
    for (size_t i = 0; i < len; i++)
        pairs += q[i] == '&';
    /* The pairs, then every key and value decoded with its NUL: a pair of n
     * raw bytes decodes to at most n + 2 bytes with both NULs. */
    size_t head = pairs * sizeof(http_query_param);
    void *block = malloc(head + len + 2 * pairs);
    if (!block) {
        if (why)
            snprintf(why, whysz, "out of memory reading the query");
        return HTTP_QUERY_NOMEM;
    }
    out->params = block;
    char *store = (char *)block + head;
    size_t used = 0;
    for (size_t pos = 0; pos < len;) {
        const char *seg = q + pos;
        const char *amp = memchr(seg, '&', len - pos);
        size_t n = amp ? (size_t)(amp - seg) : len - pos;
        pos += n + 1;
        if (n == 0)
            continue;
        const char *eq = memchr(seg, '=', n);
        size_t kn = eq ? (size_t)(eq - seg) : n;
        if (!query_pair(out, store, &used, seg, kn, eq ? eq + 1 : seg + n,
                        eq ? n - kn - 1 : 0, why, whysz)) {
            http_query_free(out);
            return HTTP_QUERY_MALFORMED; /* Go refuses the whole form */
        }
    }
    return HTTP_QUERY_OK;
}

bool http_query_valid(const char *q, size_t len, char *why, size_t whysz)
{
    http_query parsed;
    if (query_read(q, len, &parsed, why, whysz) != HTTP_QUERY_OK)
        return false;
    http_query_free(&parsed);
    return true;
}

http_query_status http_query_parse(const char *q, size_t len, http_query *out)
{
    return query_read(q, len, out, NULL, 0);
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
