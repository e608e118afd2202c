/*
 * request.c — strict parser for request heads from untrusted clients
 * (http_parse_request) and the header lookup shared by all callers
 * (http_find_header_n).
 *
 * Order of checks, so that every input has one well-defined answer:
 *   1. line endings and size of the head (400 bare CR/LF, 431)
 *   2. request-line syntax (400), then the version (505)
 *   3. field lines (400, 431 for too many)
 *   4. request target form (400), then the method (501)
 *   5. Host, framing, Connection and Expect rules (400, 417)
 * Any Transfer-Encoding other than a lone "chunked" is a 400, also for a
 * well-formed coding such as "gzip": dockerd's clients never send one and
 * one answer for all of them keeps the gate simple.
 */
#include "http/fields.h"

#include <stddef.h>
#include <string.h>

static http_parse_status req_fail(http_error *err, int status,
                                  const char *message)
{
    err->status = status;
    err->message = message;
    return HTTP_PARSE_ERROR;
}

static const struct {
    const char *name;
    http_method method;
} req_methods[] = {
    {"GET", HTTP_METHOD_GET},       {"HEAD", HTTP_METHOD_HEAD},
    {"POST", HTTP_METHOD_POST},     {"PUT", HTTP_METHOD_PUT},
    {"DELETE", HTTP_METHOD_DELETE}, {"OPTIONS", HTTP_METHOD_OPTIONS},
};

/* Methods are case-sensitive (RFC 9110 9.1): "get" is not GET. */
bool http_method_parse(const char *s, size_t n, http_method *out)
{
    for (size_t i = 0; i < sizeof req_methods / sizeof req_methods[0]; i++) {
        if (strlen(req_methods[i].name) == n &&
            memcmp(req_methods[i].name, s, n) == 0) {
            *out = req_methods[i].method;
            return true;
        }
    }
    return false;
}

const char *http_method_name(http_method m)
{
    for (size_t i = 0; i < sizeof req_methods / sizeof req_methods[0]; i++)
        if (req_methods[i].method == m)
            return req_methods[i].name;
    return "?";
}

/*
 * "HTTP/" DIGIT "." DIGIT. Returns 0 for garbage, 505 for a well-formed
 * version we do not speak, 200 (and *minor) for 1.0 and 1.1.
 */
static int req_version(const char *s, size_t n, int *minor)
{
    if (n != 8 || memcmp(s, "HTTP/", 5) != 0 || s[6] != '.' ||
        s[5] < '0' || s[5] > '9' || s[7] < '0' || s[7] > '9')
        return 0;
    if (s[5] != '1' || (s[7] != '0' && s[7] != '1'))
        return 505;
    *minor = s[7] - '0';
    return 200;
}

/* METHOD SP request-target SP HTTP-version, exactly one SP each. */
static http_parse_status req_parse_line(const char *line, size_t len,
                                        http_request *req, http_error *err)
{
    size_t m = 0;
    while (m < len && http_is_tchar((unsigned char)line[m]))
        m++;
    if (m == 0 || m == len || line[m] != ' ')
        return req_fail(err, 400, "malformed request line");

    size_t t = m + 1, te = t;
    while (te < len && line[te] >= 0x21 && line[te] <= 0x7e)
        te++;
    if (te == t || te == len || line[te] != ' ')
        return req_fail(err, 400, "malformed request target");

    int minor = 0;
    int v = req_version(line + te + 1, len - te - 1, &minor);
    if (v == 0)
        return req_fail(err, 400, "malformed HTTP version");
    if (v == 505)
        return req_fail(err, 505, "HTTP version not supported");

    req->method_str = line;
    req->method_len = m;
    req->target = line + t;
    req->target_len = te - t;
    req->version_minor = minor;
    return HTTP_PARSE_OK;
}

/* Only origin-form ("/path?query") reaches dockerd's router. */
static http_parse_status req_check_target(const http_request *req,
                                          http_error *err)
{
    if (req->target[0] != '/')
        return req_fail(err, 400, "request target must be origin-form");
    if (memchr(req->target, '#', req->target_len) != NULL)
        return req_fail(err, 400, "fragment in request target");
    return HTTP_PARSE_OK;
}

/* uri-host [":" port]: reg-name, IPv4 or IP-literal characters only. */
static bool req_host_value_ok(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                  (c >= 'A' && c <= 'Z') ||
                  (c != '\0' && strchr("-._~%!$&'()*+,;=:[]", c) != NULL);
        if (!ok)
            return false;
    }
    return true;
}

static http_parse_status req_check_host(const http_request *req,
                                        http_error *err)
{
    size_t hosts = req->fields.n_host;
    if (hosts > 1)
        return req_fail(err, 400, "multiple Host headers");
    if (hosts == 0) {
        if (req->version_minor == 1)
            return req_fail(err, 400, "missing Host header");
        return HTTP_PARSE_OK;
    }
    const http_header *h = &req->headers[req->fields.host];
    if (!req_host_value_ok(h->value, h->value_len))
        return req_fail(err, 400, "invalid Host header");
    return HTTP_PARSE_OK;
}

/* Only "100-continue" exists (RFC 9110 10.1.1); anything else is a 417. */
static http_parse_status req_check_expect(http_request *req, http_error *err)
{
    bool continue_seen = false;
    for (size_t i = 0; req->fields.n_expect && i < req->n_headers; i++) {
        const http_header *h = &req->headers[i];
        if (!http_ieq(h->name, h->name_len, "expect"))
            continue;
        if (!http_ieq(h->value, h->value_len, "100-continue"))
            return req_fail(err, 417, "unsupported expectation in Expect header");
        continue_seen = true;
    }
    /* An HTTP/1.0 client cannot understand a 100 response (RFC 9110 10.1.1). */
    req->expect_continue = continue_seen && req->version_minor == 1;
    return HTTP_PARSE_OK;
}

static http_parse_status req_check_semantics(http_request *req,
                                             http_error *err)
{
    http_index_fields(req->headers, req->n_headers, &req->fields);
    http_parse_status st = req_check_target(req, err);
    if (st != HTTP_PARSE_OK)
        return st;
    if (!http_method_parse(req->method_str, req->method_len, &req->method))
        return req_fail(err, 501, "method not implemented");
    if ((st = req_check_host(req, err)) != HTTP_PARSE_OK)
        return st;

    http_framing fr;
    if (!http_check_framing(req->headers, &req->fields, req->version_minor, &fr, err))
        return HTTP_PARSE_ERROR;
    req->body = fr.chunked      ? HTTP_BODY_CHUNKED
                : fr.has_length ? HTTP_BODY_LENGTH
                                : HTTP_BODY_NONE;
    req->content_length = fr.has_length ? fr.content_length : 0;

    http_connection conn;
    if (!http_check_connection(req->headers, req->n_headers, &req->fields, &conn, err))
        return HTTP_PARSE_ERROR;
    req->keep_alive = http_connection_persists(&conn, req->version_minor);
    req->upgrade = conn.upgrade && req->fields.n_upgrade > 0;

    return req_check_expect(req, err);
}

/* Every field but the header array, which is valid up to n_headers:
 * zeroing its 100 entries (3 KiB) would cost more than the parse. */
static void req_reset(http_request *req)
{
    memset(req, 0, offsetof(http_request, headers));
    memset(&req->n_headers, 0, sizeof *req - offsetof(http_request, n_headers));
}

/* The full parse, after the scan, in the order of the checks above. */
static http_parse_status req_parse_head(const char *buf, size_t head_len,
                                        http_request *req, http_error *err)
{
    req_reset(req);
    /* The scan proved the head is CRLF-terminated lines; line one ends at
     * the first CR. */
    const char *eol = memchr(buf, '\r', head_len);
    http_parse_status st = req_parse_line(buf, (size_t)(eol - buf), req, err);
    if (st != HTTP_PARSE_OK)
        return st;
    if (!http_parse_fields(eol + 2, buf + head_len - 2, req->headers,
                           &req->n_headers, err))
        return HTTP_PARSE_ERROR;
    if ((st = req_check_semantics(req, err)) != HTTP_PARSE_OK)
        return st;
    req->head_len = head_len;
    return HTTP_PARSE_OK;
}

/* A plain head (http_parse_plain_head) in one pass; false sends the head
 * to the full parse, which alone decides what is wrong with it. */
static bool req_parse_plain(const char *buf, size_t len, http_request *req)
{
    size_t line_len, head_len;
    http_error ignored;
    req_reset(req);
    if (!http_parse_plain_head(buf, len, &line_len, req->headers, &req->n_headers,
                               &head_len) ||
        req_parse_line(buf, line_len, req, &ignored) != HTTP_PARSE_OK ||
        req_check_semantics(req, &ignored) != HTTP_PARSE_OK)
        return false;
    req->head_len = head_len;
    return true;
}

http_parse_status http_parse_request(const char *buf, size_t len,
                                     http_request *req, http_error *err)
{
    if (req_parse_plain(buf, len, req))
        return HTTP_PARSE_OK;
    size_t head_len = 0;
    http_parse_status st = http_scan_head(buf, len, &head_len, err);
    if (st != HTTP_PARSE_OK)
        return st;
    return req_parse_head(buf, head_len, req, err);
}

const http_header *http_find_header_n(const http_header *headers, size_t n,
                                      const char *name, size_t name_len)
{
    for (size_t i = 0; i < n; i++)
        if (http_ieqn(headers[i].name, headers[i].name_len, name, name_len))
            return &headers[i];
    return NULL;
}
