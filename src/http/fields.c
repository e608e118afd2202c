/*
 * fields.c — field syntax shared by the request and response parsers:
 * character classes, the header-section scanner, field lines, and the
 * Content-Length / Transfer-Encoding / Connection rules.
 *
 * Everything here is strict on purpose: whatever two HTTP implementations
 * could read differently (bare LF, obs-fold, duplicate framing fields) is
 * an error, so the gate and dockerd can never disagree on message bounds.
 */
#include "http/fields.h"

#include <string.h>

static void fields_fail(http_error *err, int status, const char *message)
{
    err->status = status;
    err->message = message;
}

bool http_is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
        (c >= 'A' && c <= 'Z'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

bool http_is_token(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!http_is_tchar((unsigned char)s[i]))
            return false;
    return true;
}

bool http_is_field_byte(unsigned char c)
{
    /* SP, VCHAR and obs-text; of the controls only HTAB. DEL is out. */
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static unsigned char fields_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

bool http_ieq(const char *s, size_t n, const char *lit)
{
    size_t m = strlen(lit);
    if (n != m)
        return false;
    for (size_t i = 0; i < n; i++)
        if (fields_lower((unsigned char)s[i]) != fields_lower((unsigned char)lit[i]))
            return false;
    return true;
}

http_parse_status http_scan_head(const char *buf, size_t len, size_t *head_len,
                                 http_error *err)
{
    for (size_t i = 0; i < len; i++) {
        /* i bytes scanned and no end yet: the head is certainly too big. */
        if (i >= HTTP_MAX_HEAD_BYTES) {
            fields_fail(err, 431, "request header section too large");
            return HTTP_PARSE_ERROR;
        }
        if (buf[i] == '\n') {
            if (i == 0 || buf[i - 1] != '\r') {
                fields_fail(err, 400, "bare LF in message head");
                return HTTP_PARSE_ERROR;
            }
            if (i >= 3 && buf[i - 2] == '\n' && buf[i - 3] == '\r') {
                *head_len = i + 1;
                return HTTP_PARSE_OK;
            }
        } else if (buf[i] == '\r' && i + 1 < len && buf[i + 1] != '\n') {
            fields_fail(err, 400, "bare CR in message head");
            return HTTP_PARSE_ERROR;
        }
    }
    return HTTP_PARSE_INCOMPLETE;
}

bool http_parse_field_line(const char *line, size_t len, http_header *out,
                           http_error *err)
{
    if (len > 0 && (line[0] == ' ' || line[0] == '\t')) {
        fields_fail(err, 400, "obsolete line folding in header");
        return false;
    }
    size_t i = 0;
    while (i < len && http_is_tchar((unsigned char)line[i]))
        i++;
    if (i == len) {
        fields_fail(err, 400, "header line without colon");
        return false;
    }
    if (line[i] != ':') {
        fields_fail(err, 400, (line[i] == ' ' || line[i] == '\t')
                                  ? "whitespace before colon in header"
                                  : "invalid character in header name");
        return false;
    }
    if (i == 0) {
        fields_fail(err, 400, "empty header name");
        return false;
    }
    for (size_t k = i + 1; k < len; k++) {
        if (!http_is_field_byte((unsigned char)line[k])) {
            fields_fail(err, 400, "control character in header value");
            return false;
        }
    }
    size_t vs = i + 1, ve = len;
    while (vs < ve && (line[vs] == ' ' || line[vs] == '\t'))
        vs++;
    while (ve > vs && (line[ve - 1] == ' ' || line[ve - 1] == '\t'))
        ve--;
    out->name = line;
    out->name_len = i;
    out->value = line + vs;
    out->value_len = ve - vs;
    return true;
}

bool http_parse_fields(const char *p, const char *end, http_header *hdrs,
                       size_t *n, http_error *err)
{
    while (p < end) {
        /* http_scan_head guarantees every CR in the head starts a CRLF. */
        const char *cr = memchr(p, '\r', (size_t)(end - p));
        if (cr == NULL || cr + 1 >= end || cr[1] != '\n') {
            fields_fail(err, 400, "malformed header line");
            return false;
        }
        if (*n >= HTTP_MAX_HEADERS) {
            fields_fail(err, 431, "too many header fields");
            return false;
        }
        if (!http_parse_field_line(p, (size_t)(cr - p), &hdrs[*n], err))
            return false;
        (*n)++;
        p = cr + 2;
    }
    return true;
}

bool http_parse_content_length(const char *v, size_t n, uint64_t *out)
{
    if (n == 0)
        return false;
    uint64_t value = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
        uint64_t d = (uint64_t)(v[i] - '0');
        /* Checked before multiplying, so leading zeros cost nothing and
         * no digit string can wrap around. */
        if (value > (HTTP_MAX_CONTENT_LENGTH - d) / 10)
            return false;
        value = value * 10 + d;
    }
    *out = value;
    return true;
}

size_t http_count_headers(const http_header *hdrs, size_t n, const char *name)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (http_ieq(hdrs[i].name, hdrs[i].name_len, name))
            count++;
    return count;
}

bool http_check_framing(const http_header *hdrs, size_t n, int version_minor,
                        http_framing *out, http_error *err)
{
    const http_header *cl = NULL, *te = NULL;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        const http_header *h = &hdrs[i];
        if (http_ieq(h->name, h->name_len, "content-length")) {
            if (cl != NULL) {
                fields_fail(err, 400, "multiple Content-Length headers");
                return false;
            }
            cl = h;
        } else if (http_ieq(h->name, h->name_len, "transfer-encoding")) {
            if (te != NULL) {
                fields_fail(err, 400, "multiple Transfer-Encoding headers");
                return false;
            }
            te = h;
        }
    }
    if (cl != NULL && te != NULL) {
        fields_fail(err, 400, "both Content-Length and Transfer-Encoding");
        return false;
    }
    if (cl != NULL) {
        if (!http_parse_content_length(cl->value, cl->value_len,
                                       &out->content_length)) {
            fields_fail(err, 400, "invalid Content-Length");
            return false;
        }
        out->has_length = true;
    }
    if (te != NULL) {
        if (version_minor == 0) {
            fields_fail(err, 400, "Transfer-Encoding in HTTP/1.0 message");
            return false;
        }
        /* Only a lone "chunked": a list or another coding would need a
         * decoder we do not have, and is never sent by Docker clients. */
        if (!http_ieq(te->value, te->value_len, "chunked")) {
            fields_fail(err, 400, "unsupported Transfer-Encoding");
            return false;
        }
        out->chunked = true;
    }
    return true;
}

/* One element of a Connection list, already trimmed. */
static bool fields_connection_token(const char *s, size_t n,
                                    http_connection *out, http_error *err)
{
    if (n == 0)
        return true; /* RFC 9110 5.6.1: empty list elements are ignored */
    if (!http_is_token(s, n)) {
        fields_fail(err, 400, "malformed Connection header");
        return false;
    }
    if (http_ieq(s, n, "close"))
        out->close = true;
    else if (http_ieq(s, n, "keep-alive"))
        out->keep_alive = true;
    else if (http_ieq(s, n, "upgrade"))
        out->upgrade = true;
    return true;
}

static bool fields_connection_value(const char *v, size_t n,
                                    http_connection *out, http_error *err)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && v[i] != ',')
            continue;
        size_t s = start, e = i;
        while (s < e && (v[s] == ' ' || v[s] == '\t'))
            s++;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (!fields_connection_token(v + s, e - s, out, err))
            return false;
        start = i + 1;
    }
    return true;
}

bool http_check_connection(const http_header *hdrs, size_t n,
                           http_connection *out, http_error *err)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        if (!http_ieq(hdrs[i].name, hdrs[i].name_len, "connection"))
            continue;
        if (!fields_connection_value(hdrs[i].value, hdrs[i].value_len, out, err))
            return false;
    }
    return true;
}

bool http_connection_persists(const http_connection *conn, int version_minor)
{
    if (conn->close)
        return false;
    return version_minor == 1 || conn->keep_alive;
}
