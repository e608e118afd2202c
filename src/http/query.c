/*
 * query.c — Go-compatible query value look-up (see query.h).
 */
#include "http/query.h"

#include <string.h>

#include "base/hex.h"

/* Decode a key or value (%XX, "+" as space) into out; false if malformed
 * or too long. A decoded NUL is malformed too: C could not hold it. */
static bool query_unescape(const char *s, size_t n, char *out, size_t outsz)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return false;
            int h = sg_hex_value(s[i + 1]), l = sg_hex_value(s[i + 2]);
            if (h < 0 || l < 0)
                return false;
            c = h * 16 + l;
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (c == 0 || w + 1 >= outsz)
            return false;
        out[w++] = (char)c;
    }
    out[w] = '\0';
    return true;
}

http_query_status http_query_get(const char *q, size_t len, const char *key, char *out,
                                  size_t outsz)
{
    if (!q)
        return HTTP_QUERY_ABSENT;
    if (memchr(q, ';', len))
        return HTTP_QUERY_MALFORMED;
    http_query_status st = HTTP_QUERY_ABSENT;
    char name[256];
    for (size_t pos = 0; pos <= len;) {
        const char *seg = q + pos;
        const char *amp = memchr(seg, '&', len - pos);
        size_t n = amp ? (size_t)(amp - seg) : len - pos;
        pos += n + 1;
        if (n == 0)
            continue;
        const char *eq = memchr(seg, '=', n);
        size_t kn = eq ? (size_t)(eq - seg) : n;
        char value[4096];
        if (!query_unescape(seg, kn, name, sizeof name) ||
            !query_unescape(eq ? eq + 1 : "", eq ? n - kn - 1 : 0, value, sizeof value))
            return HTTP_QUERY_MALFORMED; /* Go refuses the whole form */
        if (st == HTTP_QUERY_ABSENT && strcmp(name, key) == 0) {
            if (strlen(value) + 1 > outsz)
                return HTTP_QUERY_MALFORMED;
            memcpy(out, value, strlen(value) + 1);
            st = HTTP_QUERY_FOUND;
        }
    }
    return st;
}
