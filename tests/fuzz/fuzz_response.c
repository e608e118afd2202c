/*
 * fuzz_response.c — libFuzzer target for http_parse_response.
 *
 * The first input byte picks the method of the request being answered;
 * the rest is the response. Checked invariants: head bounds, pointers
 * inside the head, status range, RFC 9112 6.3 framing against an
 * independent reading of the status and method, keep-alive never with an
 * EOF body, 502 on every error, and independence from bytes after the head.
 */
#include "http/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_ASSERT(cond)                                                      \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond,         \
                    __FILE__, __LINE__);                                     \
            abort();                                                         \
        }                                                                    \
    } while (0)

static int fz_inside(const char *p, size_t n, const char *buf, size_t len)
{
    return p >= buf && p <= buf + len && n <= (size_t)(buf + len - p);
}

static size_t fz_count(const http_response *r, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_headers; i++)
        n += r->headers[i].name_len == strlen(name) &&
             strncasecmp(r->headers[i].name, name, r->headers[i].name_len) == 0;
    return n;
}

static void fz_check_ok(const http_response *r, const char *buf, size_t len,
                        http_method m)
{
    size_t hl = r->head_len;
    FZ_ASSERT(hl >= 4 && hl <= len && hl <= HTTP_MAX_HEAD_BYTES);
    FZ_ASSERT(memcmp(buf + hl - 4, "\r\n\r\n", 4) == 0);
    FZ_ASSERT(memcmp(buf, "HTTP/1.", 7) == 0);
    FZ_ASSERT(r->version_minor == buf[7] - '0');
    FZ_ASSERT(r->status >= 100 && r->status <= 599);
    FZ_ASSERT(r->status == (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0'));
    FZ_ASSERT(r->n_headers <= HTTP_MAX_HEADERS);
    for (size_t i = 0; i < r->n_headers; i++) {
        const http_header *h = &r->headers[i];
        FZ_ASSERT(fz_inside(h->name, h->name_len, buf, hl) && h->name_len > 0);
        FZ_ASSERT(fz_inside(h->value, h->value_len, buf, hl));
        FZ_ASSERT(memchr(h->value, '\r', h->value_len) == NULL);
        FZ_ASSERT(memchr(h->value, '\n', h->value_len) == NULL);
        FZ_ASSERT(memchr(h->name, ':', h->name_len) == NULL);
    }
    int no_body = m == HTTP_METHOD_HEAD || r->status < 200 || r->status == 204 ||
                  r->status == 304;
    size_t cl = fz_count(r, "content-length"), te = fz_count(r, "transfer-encoding");
    FZ_ASSERT(cl <= 1 && te <= 1 && !(cl && te));
    if (no_body)
        FZ_ASSERT(r->body == HTTP_BODY_NONE);
    else if (te)
        FZ_ASSERT(r->body == HTTP_BODY_CHUNKED);
    else if (cl)
        FZ_ASSERT(r->body == HTTP_BODY_LENGTH);
    else
        FZ_ASSERT(r->body == HTTP_BODY_EOF);
    FZ_ASSERT(r->body == HTTP_BODY_LENGTH || r->content_length == 0);
    FZ_ASSERT(!(r->keep_alive && r->body == HTTP_BODY_EOF));
    FZ_ASSERT(!(r->keep_alive && r->status == 101));
    FZ_ASSERT(!r->raw_stream || fz_count(r, "content-type") > 0);
}

static void fz_check_head_alone(const http_response *r, const char *buf, http_method m)
{
    http_response *again = malloc(sizeof *again);
    http_error err;
    char *copy = malloc(r->head_len);
    FZ_ASSERT(again != NULL && copy != NULL);
    memcpy(copy, buf, r->head_len);
    FZ_ASSERT(http_parse_response(copy, r->head_len, m, again, &err) == HTTP_PARSE_OK);
    FZ_ASSERT(again->head_len == r->head_len && again->status == r->status &&
              again->body == r->body && again->content_length == r->content_length &&
              again->keep_alive == r->keep_alive && again->raw_stream == r->raw_stream);
    FZ_ASSERT(http_parse_response(copy, r->head_len - 1, m, again, &err) ==
              HTTP_PARSE_INCOMPLETE);
    free(copy);
    free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const http_method methods[] = {
        HTTP_METHOD_GET, HTTP_METHOD_HEAD, HTTP_METHOD_POST,
        HTTP_METHOD_PUT, HTTP_METHOD_DELETE, HTTP_METHOD_OPTIONS,
    };
    http_method m = methods[data[0] % 6];
    const char *buf = (const char *)data + 1;
    size_t len = size - 1;
    http_response *resp = malloc(sizeof *resp);
    http_error err = {0, NULL};
    FZ_ASSERT(resp != NULL);
    switch (http_parse_response(buf, len, m, resp, &err)) {
    case HTTP_PARSE_OK:
        fz_check_ok(resp, buf, len, m);
        fz_check_head_alone(resp, buf, m);
        break;
    case HTTP_PARSE_INCOMPLETE:
        FZ_ASSERT(len <= HTTP_MAX_HEAD_BYTES);
        break;
    case HTTP_PARSE_ERROR:
        FZ_ASSERT(err.status == 502 && err.message != NULL && err.message[0] != '\0');
        break;
    default:
        FZ_ASSERT(!"unknown status");
    }
    free(resp);
    return 0;
}
