/*
 * fuzz_request.c — libFuzzer target for http_parse_request.
 *
 * Besides "no crash, no sanitizer report", it checks invariants with its
 * own independent code: head bounds, pointers inside the head, header
 * syntax of what was accepted, framing rules, a known error status, and
 * that the answer depends on the head alone (no peeking past head_len,
 * every shorter prefix is INCOMPLETE), and that the one-pass head parse
 * agrees with the strict path on every head it accepts.
 */
#include "http/fields.h"
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

static int fz_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int fz_inside(const char *p, size_t n, const char *buf, size_t len)
{
    return p >= buf && p <= buf + len && n <= (size_t)(buf + len - p);
}

static int fz_name_is(const http_header *h, const char *name)
{
    return h->name_len == strlen(name) && strncasecmp(h->name, name, h->name_len) == 0;
}

static size_t fz_count(const http_request *r, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_headers; i++)
        n += fz_name_is(&r->headers[i], name);
    return n;
}

static void fz_check_header(const http_header *h, const char *buf, size_t len)
{
    FZ_ASSERT(fz_inside(h->name, h->name_len, buf, len));
    FZ_ASSERT(fz_inside(h->value, h->value_len, buf, len));
    FZ_ASSERT(h->name_len > 0);
    for (size_t k = 0; k < h->name_len; k++)
        FZ_ASSERT(fz_tchar((unsigned char)h->name[k]));
    FZ_ASSERT(h->name + h->name_len < h->value || h->value_len == 0);
    for (size_t k = 0; k < h->value_len; k++) {
        unsigned char c = (unsigned char)h->value[k];
        FZ_ASSERT(c == '\t' || (c >= 0x20 && c != 0x7f));
    }
    if (h->value_len > 0) {
        FZ_ASSERT(h->value[0] != ' ' && h->value[0] != '\t');
        FZ_ASSERT(h->value[h->value_len - 1] != ' ' && h->value[h->value_len - 1] != '\t');
    }
}

static void fz_check_ok(const http_request *r, const char *buf, size_t len)
{
    size_t hl = r->head_len;
    FZ_ASSERT(hl >= 4 && hl <= len && hl <= HTTP_MAX_HEAD_BYTES);
    FZ_ASSERT(memcmp(buf + hl - 4, "\r\n\r\n", 4) == 0);
    for (size_t i = 0; i < hl; i++) {
        if (buf[i] == '\n')
            FZ_ASSERT(i > 0 && buf[i - 1] == '\r');
        if (buf[i] == '\r')
            FZ_ASSERT(buf[i + 1] == '\n');
    }
    FZ_ASSERT(r->method_str == buf && r->method_len > 0);
    FZ_ASSERT(fz_inside(r->target, r->target_len, buf, hl));
    FZ_ASSERT(r->target_len > 0 && r->target[0] == '/');
    for (size_t i = 0; i < r->target_len; i++)
        FZ_ASSERT(r->target[i] > 0x20 && r->target[i] < 0x7f && r->target[i] != '#');
    FZ_ASSERT(r->version_minor == 0 || r->version_minor == 1);
    FZ_ASSERT(r->n_headers <= HTTP_MAX_HEADERS);
    for (size_t i = 0; i < r->n_headers; i++)
        fz_check_header(&r->headers[i], buf, hl);

    size_t cl = fz_count(r, "content-length"), te = fz_count(r, "transfer-encoding");
    FZ_ASSERT(cl <= 1 && te <= 1 && !(cl && te));
    FZ_ASSERT(r->body != HTTP_BODY_EOF);
    FZ_ASSERT((r->body == HTTP_BODY_CHUNKED) == (te == 1));
    FZ_ASSERT((r->body == HTTP_BODY_LENGTH) == (cl == 1));
    FZ_ASSERT(r->body == HTTP_BODY_LENGTH || r->content_length == 0);
    FZ_ASSERT(r->content_length <= (UINT64_C(1) << 62));
    FZ_ASSERT(!(te && r->version_minor == 0));
    FZ_ASSERT(fz_count(r, "host") == 1 || (r->version_minor == 0 && fz_count(r, "host") == 0));
    FZ_ASSERT(!r->upgrade || fz_count(r, "upgrade") > 0);
    FZ_ASSERT(!r->expect_continue || fz_count(r, "expect") > 0);
}

/* The parse of a head must not depend on anything after it. */
static void fz_check_head_alone(const http_request *r, const char *buf)
{
    size_t hl = r->head_len;
    http_request *again = malloc(sizeof *again);
    http_error err;
    char *copy = malloc(hl);
    FZ_ASSERT(again != NULL && copy != NULL);
    memcpy(copy, buf, hl);
    FZ_ASSERT(http_parse_request(copy, hl, again, &err) == HTTP_PARSE_OK);
    FZ_ASSERT(again->head_len == hl && again->body == r->body &&
              again->content_length == r->content_length &&
              again->keep_alive == r->keep_alive && again->upgrade == r->upgrade &&
              again->n_headers == r->n_headers && again->method == r->method);
    /* every proper prefix is INCOMPLETE; exact-size copy for ASan */
    for (size_t cut = hl - 1; cut > 0 && cut + 16 >= hl; cut--) {
        char *p = malloc(cut);
        FZ_ASSERT(p != NULL);
        memcpy(p, buf, cut);
        FZ_ASSERT(http_parse_request(p, cut, again, &err) == HTTP_PARSE_INCOMPLETE);
        free(p);
    }
    free(copy);
    free(again);
}

/*
 * The one-pass head (http_parse_plain_head, vectorised where the target has
 * SSE2) against the strict path it stands in for: whatever it accepts, the
 * scan and the line-by-line parse accept with the same head, first line and
 * fields.
 */
static void fz_check_plain_head(const char *buf, size_t size)
{
    static http_header fast[HTTP_MAX_HEADERS], slow[HTTP_MAX_HEADERS];
    size_t line_len, n_fast, head_len;
    if (!http_parse_plain_head(buf, size, &line_len, fast, &n_fast, &head_len))
        return;
    size_t scanned = 0, n_slow = 0;
    http_error err;
    FZ_ASSERT(http_scan_head(buf, size, &scanned, &err) == HTTP_PARSE_OK);
    FZ_ASSERT(scanned == head_len);
    const char *cr = memchr(buf, '\r', head_len);
    FZ_ASSERT(cr != NULL && (size_t)(cr - buf) == line_len);
    FZ_ASSERT(http_parse_fields(cr + 2, buf + head_len - 2, slow, &n_slow, &err));
    FZ_ASSERT(n_slow == n_fast);
    for (size_t i = 0; i < n_fast; i++)
        FZ_ASSERT(fast[i].name == slow[i].name && fast[i].name_len == slow[i].name_len &&
                  fast[i].value == slow[i].value && fast[i].value_len == slow[i].value_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_check_plain_head((const char *)data, size);
    const char *buf = (const char *)data;
    http_request *req = malloc(sizeof *req);
    http_error err = {0, NULL};
    FZ_ASSERT(req != NULL);
    http_parse_status st = http_parse_request(buf, size, req, &err);
    switch (st) {
    case HTTP_PARSE_OK:
        fz_check_ok(req, buf, size);
        fz_check_head_alone(req, buf);
        break;
    case HTTP_PARSE_INCOMPLETE:
        FZ_ASSERT(size <= HTTP_MAX_HEAD_BYTES);
        for (size_t i = 0; i < size; i++)
            FZ_ASSERT(buf[i] != '\n' || (i > 0 && buf[i - 1] == '\r'));
        break;
    case HTTP_PARSE_ERROR:
        FZ_ASSERT(err.message != NULL && err.message[0] != '\0');
        FZ_ASSERT(err.status == 400 || err.status == 417 || err.status == 431 ||
                  err.status == 501 || err.status == 505);
        break;
    default:
        FZ_ASSERT(!"unknown status");
    }
    free(req);
    return 0;
}
