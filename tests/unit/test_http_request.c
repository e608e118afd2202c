/*
 * test_http_request.c — unit tests of http_parse_request and
 * http_find_header: real docker CLI heads, every rejection rule with its
 * status, framing, Connection/Upgrade/Expect, pipelining and prefixes.
 */
#include "http/http.h"
#include "unit.h"

#include <stdlib.h>

static http_request req;
static http_error err;

static http_parse_status parse(const char *s)
{
    err.status = 0;
    err.message = NULL;
    return http_parse_request(s, strlen(s), &req, &err);
}

/* Parse s, expect ERROR with status; returns 1 if it matched. */
static int rejects(const char *s, int status)
{
    http_parse_status st = parse(s);
    if (st != HTTP_PARSE_ERROR || err.status != status || err.message == NULL) {
        fprintf(stderr, "  input %.60s...: st=%d status=%d, expected error %d\n",
                s, (int)st, err.status, status);
        return 0;
    }
    return 1;
}

static int span_is(const char *p, size_t n, const char *want)
{
    return n == strlen(want) && memcmp(p, want, n) == 0;
}

static const char *header_value(const char *name, size_t *n)
{
    const http_header *h = http_find_header(req.headers, req.n_headers, name);
    if (h == NULL)
        return NULL;
    *n = h->value_len;
    return h->value;
}

#define PING "HEAD /_ping HTTP/1.1\r\nHost: api.moby.localhost\r\n" \
             "User-Agent: Docker-Client/28.2.2 (linux)\r\n\r\n"

TEST(docker_ping)
{
    CHECK_INT(parse(PING), HTTP_PARSE_OK);
    CHECK_INT(req.method, HTTP_METHOD_HEAD);
    CHECK(span_is(req.method_str, req.method_len, "HEAD"));
    CHECK(span_is(req.target, req.target_len, "/_ping"));
    CHECK_INT(req.version_minor, 1);
    CHECK_INT(req.n_headers, 2);
    CHECK(span_is(req.headers[0].name, req.headers[0].name_len, "Host"));
    CHECK(span_is(req.headers[0].value, req.headers[0].value_len,
                  "api.moby.localhost"));
    CHECK(span_is(req.headers[1].value, req.headers[1].value_len,
                  "Docker-Client/28.2.2 (linux)"));
    CHECK_INT(req.body, HTTP_BODY_NONE);
    CHECK(req.keep_alive);
    CHECK(!req.upgrade);
    CHECK(!req.expect_continue);
    CHECK_INT(req.head_len, strlen(PING));
}

TEST(docker_create_with_json_body)
{
    const char *s = "POST /v1.41/containers/create?name=web HTTP/1.1\r\n"
                    "Host: docker\r\nUser-Agent: Docker-Client/28.2.2 (linux)\r\n"
                    "Content-Length: 26\r\nContent-Type: application/json\r\n\r\n"
                    "{\"Image\":\"busybox:latest\"}";
    CHECK_INT(parse(s), HTTP_PARSE_OK);
    CHECK_INT(req.method, HTTP_METHOD_POST);
    CHECK(span_is(req.target, req.target_len, "/v1.41/containers/create?name=web"));
    CHECK_INT(req.body, HTTP_BODY_LENGTH);
    CHECK_INT(req.content_length, 26);
    CHECK_INT(strlen(s) - req.head_len, 26);
    CHECK(s[req.head_len] == '{');
}

TEST(docker_build_chunked)
{
    CHECK_INT(parse("POST /v1.41/build?t=img&dockerfile=Dockerfile HTTP/1.1\r\n"
                    "Host: api.moby.localhost\r\nContent-Type: application/x-tar\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n"),
              HTTP_PARSE_OK);
    CHECK_INT(req.body, HTTP_BODY_CHUNKED);
    CHECK_INT(parse("POST /build HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: CHUNKED\r\n\r\n"),
              HTTP_PARSE_OK);
    CHECK_INT(req.body, HTTP_BODY_CHUNKED);
}

TEST(docker_attach_upgrade)
{
    CHECK_INT(parse("POST /v1.41/containers/abc/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\n"
                    "Host: api.moby.localhost\r\nContent-Type: text/plain\r\n"
                    "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n"),
              HTTP_PARSE_OK);
    CHECK(req.upgrade);
    CHECK(req.keep_alive);
    /* "upgrade" token without an Upgrade header is no upgrade */
    CHECK_INT(parse("POST /a HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n\r\n"),
              HTTP_PARSE_OK);
    CHECK(!req.upgrade);
    /* Upgrade header without the Connection token is no upgrade either */
    CHECK_INT(parse("POST /a HTTP/1.1\r\nHost: x\r\nUpgrade: tcp\r\n\r\n"), HTTP_PARSE_OK);
    CHECK(!req.upgrade);
    CHECK_INT(parse("POST /grpc HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, upgrade\r\n"
                    "Upgrade: h2c\r\n\r\n"),
              HTTP_PARSE_OK);
    CHECK(req.upgrade);
}

TEST(all_methods)
{
    static const struct { const char *s; http_method m; } cases[] = {
        {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_METHOD_GET},
        {"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_METHOD_HEAD},
        {"POST / HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_METHOD_POST},
        {"PUT / HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_METHOD_PUT},
        {"DELETE / HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_METHOD_DELETE},
        {"OPTIONS / HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_METHOD_OPTIONS},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_INT(parse(cases[i].s), HTTP_PARSE_OK);
        CHECK_INT(req.method, cases[i].m);
    }
}

TEST(unknown_method_501)
{
    CHECK(rejects("PATCH / HTTP/1.1\r\nHost: x\r\n\r\n", 501));
    CHECK(rejects("CONNECT / HTTP/1.1\r\nHost: x\r\n\r\n", 501));
    CHECK(rejects("get / HTTP/1.1\r\nHost: x\r\n\r\n", 501));
    CHECK(rejects("GETX / HTTP/1.1\r\nHost: x\r\n\r\n", 501));
}

TEST(method_not_token_400)
{
    CHECK(rejects("GE(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400));
    CHECK(rejects(" GET / HTTP/1.1\r\nHost: x\r\n\r\n", 400));
    CHECK(rejects("G\x80T / HTTP/1.1\r\nHost: x\r\n\r\n", 400));
}

TEST(version_505_and_400)
{
    CHECK(rejects("GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505));
    CHECK(rejects("GET / HTTP/1.2\r\nHost: x\r\n\r\n", 505));
    CHECK(rejects("GET / HTTP/0.9\r\nHost: x\r\n\r\n", 505));
    CHECK(rejects("GET / HTTP/1.10\r\nHost: x\r\n\r\n", 400));
    CHECK(rejects("GET / http/1.1\r\nHost: x\r\n\r\n", 400));
    CHECK(rejects("GET / HTTP/1\r\nHost: x\r\n\r\n", 400));
    CHECK(rejects("GET / HTTP/1.1 \r\nHost: x\r\n\r\n", 400));
    CHECK(rejects("GET /\r\nHost: x\r\n\r\n", 400));
    CHECK(rejects("GET / FOO\r\nHost: x\r\n\r\n", 400));
}

TEST(http10)
{
    CHECK_INT(parse("GET /info HTTP/1.0\r\n\r\n"), HTTP_PARSE_OK);
    CHECK_INT(req.version_minor, 0);
    CHECK(!req.keep_alive);
    CHECK_INT(parse("GET /info HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), HTTP_PARSE_OK);
    CHECK(req.keep_alive);
    CHECK(rejects("POST /a HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400));
    /* HTTP/1.0 clients cannot take a 100 Continue */
    CHECK_INT(parse("POST /a HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n"),
              HTTP_PARSE_OK);
    CHECK(!req.expect_continue);
}

TEST(single_space_only)
{
    CHECK(rejects("GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400));
    CHECK(rejects("GET /  HTTP/1.1\r\nHost: x\r\n\r\n", 400));
    CHECK(rejects("GET\t/ HTTP/1.1\r\nHost: x\r\n\r\n", 400));
    CHECK(rejects("GET /\tHTTP/1.1\r\nHost: x\r\n\r\n", 400));
    CHECK(rejects("GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n", 400));
}

TEST(target_forms)
{
    CHECK(rejects("GET http://docker/info HTTP/1.1\r\nHost: x\r\n\r\n", 400));
    CHECK(rejects("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 400));
    CHECK(rejects("GET docker:2375 HTTP/1.1\r\nHost: x\r\n\r\n", 400));
    CHECK(rejects("GET /info#frag HTTP/1.1\r\nHost: x\r\n\r\n", 400));
    CHECK(rejects("GET /in\x7f HTTP/1.1\r\nHost: x\r\n\r\n", 400));
    CHECK(rejects("GET /\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n", 400));
    CHECK_INT(parse("GET /v1.41/images/localhost:5000/a/b:1/json?x=%2F HTTP/1.1\r\nHost: x\r\n\r\n"),
              HTTP_PARSE_OK);
    CHECK(span_is(req.target, req.target_len, "/v1.41/images/localhost:5000/a/b:1/json?x=%2F"));
}

TEST(bare_lf_and_cr)
{
    CHECK(rejects("GET / HTTP/1.1\nHost: x\r\n\r\n", 400));
    CHECK(rejects("GET / HTTP/1.1\r\nHost: x\n\r\n", 400));
    CHECK(rejects("GET / HTTP/1.1\r\nHost: x\r\n\n", 400));
    CHECK(rejects("GET / HTTP/1.1\r\nHost: x\n\n", 400));
    CHECK(rejects("GET / HTTP/1.1\r\nHost: x\r\nA: b\rc\r\n\r\n", 400));
    CHECK(rejects("GET / HTTP/1.1\rHost: x\r\n\r\n", 400));
    /* bare LF is rejected even before the head is complete */
    CHECK(rejects("GET / HTTP/1.1\n", 400));
    CHECK(rejects("\n", 400));
}

TEST(leading_empty_line_rejected)
{
    CHECK(rejects("\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", 400));
    CHECK(rejects("\r\n\r\n", 400));
}

TEST(header_syntax)
{
    CHECK(rejects("GET / HTTP/1.1\r\nHost: x\r\nX-A : b\r\n\r\n", 400));
    CHECK(rejects("GET / HTTP/1.1\r\nHost: x\r\nX-A\t: b\r\n\r\n", 400));
    CHECK(rejects("GET / HTTP/1.1\r\nHost: x\r\n: b\r\n\r\n", 400));
    CHECK(rejects("GET / HTTP/1.1\r\nHost: x\r\nno colon\r\n\r\n", 400));
    CHECK(rejects("GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", 400));
    CHECK(rejects("GET / HTTP/1.1\r\nHost: x\r\nX(a): b\r\n\r\n", 400));
    CHECK(rejects("GET / HTTP/1.1\r\nHost: x\r\nX\xc3\xa9: b\r\n\r\n", 400));
}

TEST(obs_fold)
{
    CHECK(rejects("GET / HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n", 400));
    CHECK(rejects("GET / HTTP/1.1\r\nHost: x\r\nX-A: b\r\n\tc\r\n\r\n", 400));
    CHECK(rejects("GET / HTTP/1.1\r\n Host: x\r\n\r\n", 400));
}

TEST(value_control_chars)
{
    static const char bad[] = {0x01, 0x08, 0x0b, 0x0c, 0x1f, 0x7f};
    char buf[64];
    for (size_t i = 0; i < sizeof bad; i++) {
        snprintf(buf, sizeof buf, "GET / HTTP/1.1\r\nHost: x\r\nX-A: a%cb\r\n\r\n", bad[i]);
        CHECK(rejects(buf, 400));
    }
    /* NUL cannot go through strlen */
    static const char nul[] = "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n";
    CHECK_INT(http_parse_request(nul, sizeof nul - 1, &req, &err), HTTP_PARSE_ERROR);
    CHECK_INT(err.status, 400);
}

TEST(value_allowed_bytes_and_ows)
{
    CHECK_INT(parse("GET / HTTP/1.1\r\nHost: x\r\nX-A: \t a\tb \xff\x80 c \t\r\n"
                    "X-Empty:\r\nX-Spaces:   \r\n\r\n"),
              HTTP_PARSE_OK);
    size_t n = 0;
    const char *v = header_value("x-a", &n);
    CHECK(v != NULL && span_is(v, n, "a\tb \xff\x80 c"));
    v = header_value("X-EMPTY", &n);
    CHECK(v != NULL && n == 0);
    v = header_value("x-spaces", &n);
    CHECK(v != NULL && n == 0);
}

TEST(find_header)
{
    CHECK_INT(parse("GET / HTTP/1.1\r\nHost: x\r\nX-Dup: 1\r\nx-dup: 2\r\n\r\n"), HTTP_PARSE_OK);
    const http_header *h = http_find_header(req.headers, req.n_headers, "X-DUP");
    CHECK(h == &req.headers[1]);
    CHECK(http_find_header(req.headers, req.n_headers, "X-Du") == NULL);
    CHECK(http_find_header(req.headers, req.n_headers, "X-Dupe") == NULL);
    CHECK(http_find_header(req.headers, 0, "host") == NULL);
}

TEST(head_too_large_431)
{
    size_t big = HTTP_MAX_HEAD_BYTES + 100;
    char *s = malloc(big + 1);
    CHECK(s != NULL);
    if (s == NULL)
        return;
    /* One enormous header, no end in sight: 431 before the head ends. */
    size_t off = (size_t)sprintf(s, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(s + off, 'a', big - off);
    s[big] = '\0';
    CHECK_INT(http_parse_request(s, HTTP_MAX_HEAD_BYTES, &req, &err), HTTP_PARSE_INCOMPLETE);
    CHECK_INT(http_parse_request(s, HTTP_MAX_HEAD_BYTES + 1, &req, &err), HTTP_PARSE_ERROR);
    CHECK_INT(err.status, 431);
    /* A complete head that is one byte over. */
    memcpy(s + HTTP_MAX_HEAD_BYTES - 3, "\r\n\r\n", 4);
    CHECK_INT(http_parse_request(s, HTTP_MAX_HEAD_BYTES + 1, &req, &err), HTTP_PARSE_ERROR);
    CHECK_INT(err.status, 431);
    /* Exactly at the limit is fine. */
    memcpy(s + HTTP_MAX_HEAD_BYTES - 4, "\r\n\r\n", 4);
    CHECK_INT(http_parse_request(s, big, &req, &err), HTTP_PARSE_OK);
    CHECK_INT(req.head_len, HTTP_MAX_HEAD_BYTES);
    free(s);
}

static char *many_headers(size_t count)
{
    char *s = malloc(64 + count * 16);
    if (s == NULL)
        return NULL;
    size_t off = (size_t)sprintf(s, "GET / HTTP/1.1\r\n");
    for (size_t i = 0; i < count; i++)
        off += (size_t)sprintf(s + off, i == 0 ? "Host: x\r\n" : "X-%zu: v\r\n", i);
    strcpy(s + off, "\r\n");
    return s;
}

TEST(too_many_headers_431)
{
    char *s = many_headers(HTTP_MAX_HEADERS);
    CHECK(s != NULL && parse(s) == HTTP_PARSE_OK);
    CHECK_INT(req.n_headers, HTTP_MAX_HEADERS);
    free(s);
    s = many_headers(HTTP_MAX_HEADERS + 1);
    CHECK(s != NULL && rejects(s, 431));
    free(s);
}

TEST(content_length_values)
{
    CHECK_INT(parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"), HTTP_PARSE_OK);
    CHECK_INT(req.body, HTTP_BODY_LENGTH);
    CHECK_INT(req.content_length, 0);
    CHECK_INT(parse("POST / HTTP/1.1\r\nHost: x\r\ncontent-length:  007 \r\n\r\n"),
              HTTP_PARSE_OK);
    CHECK_INT(req.content_length, 7);
    CHECK_INT(parse("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 4611686018427387904\r\n\r\n"),
              HTTP_PARSE_OK);
    CHECK(req.content_length == (UINT64_C(1) << 62));
    CHECK(rejects("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 4611686018427387905\r\n\r\n", 400));
    CHECK(rejects("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551616\r\n\r\n", 400));
    CHECK(rejects("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400));
    CHECK(rejects("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n", 400));
    CHECK(rejects("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400));
    CHECK(rejects("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 1 2\r\n\r\n", 400));
    CHECK(rejects("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n", 400));
    CHECK(rejects("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n", 400));
    CHECK(rejects("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 5,5\r\n\r\n", 400));
    CHECK(rejects("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\n", 400));
}

TEST(duplicate_content_length)
{
    CHECK(rejects("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", 400));
    CHECK(rejects("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\ncontent-length: 6\r\n\r\n", 400));
}

TEST(transfer_encoding_rules)
{
    CHECK(rejects("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                  "Content-Length: 5\r\n\r\n", 400));
    CHECK(rejects("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n", 400));
    CHECK(rejects("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 400));
    CHECK(rejects("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400));
    CHECK(rejects("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n", 400));
    CHECK(rejects("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 400));
    CHECK(rejects("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n", 400));
    CHECK(rejects("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked;q=1\r\n\r\n", 400));
    CHECK(rejects("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n\r\n", 400));
    CHECK(rejects("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \"chunked\"\r\n\r\n", 400));
}

TEST(no_framing_is_none)
{
    CHECK_INT(parse("GET /containers/json HTTP/1.1\r\nHost: x\r\n\r\n"), HTTP_PARSE_OK);
    CHECK_INT(req.body, HTTP_BODY_NONE);
    CHECK_INT(parse("POST /containers/x/start HTTP/1.1\r\nHost: x\r\n\r\n"), HTTP_PARSE_OK);
    CHECK_INT(req.body, HTTP_BODY_NONE);
    CHECK_INT(req.content_length, 0);
}

TEST(connection_tokens)
{
    CHECK_INT(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), HTTP_PARSE_OK);
    CHECK(!req.keep_alive);
    CHECK_INT(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: foo, CLOSE\r\n\r\n"), HTTP_PARSE_OK);
    CHECK(!req.keep_alive);
    CHECK_INT(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: foo\r\nConnection: close\r\n\r\n"),
              HTTP_PARSE_OK);
    CHECK(!req.keep_alive);
    CHECK_INT(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: closed\r\n\r\n"), HTTP_PARSE_OK);
    CHECK(req.keep_alive);
    CHECK_INT(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: ,, keep-alive ,\r\n\r\n"),
              HTTP_PARSE_OK);
    CHECK(req.keep_alive);
    CHECK_INT(parse("GET / HTTP/1.0\r\nConnection: upgrade\r\nConnection: keep-alive\r\n\r\n"),
              HTTP_PARSE_OK);
    CHECK(req.keep_alive);
    CHECK_INT(parse("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"), HTTP_PARSE_OK);
    CHECK(!req.keep_alive);
    CHECK(rejects("GET / HTTP/1.1\r\nHost: x\r\nConnection: clo se\r\n\r\n", 400));
    CHECK(rejects("GET / HTTP/1.1\r\nHost: x\r\nConnection: \"close\"\r\n\r\n", 400));
}

TEST(expect_header)
{
    CHECK_INT(parse("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\n"
                    "Content-Length: 3\r\n\r\n"),
              HTTP_PARSE_OK);
    CHECK(req.expect_continue);
    CHECK(rejects("POST / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n\r\n", 417));
    CHECK(rejects("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue, foo\r\n\r\n", 417));
    CHECK(rejects("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nExpect: x\r\n\r\n", 417));
    CHECK(rejects("POST / HTTP/1.1\r\nHost: x\r\nExpect:\r\n\r\n", 417));
}

TEST(host_rules)
{
    CHECK(rejects("GET / HTTP/1.1\r\nUser-Agent: x\r\n\r\n", 400));
    CHECK(rejects("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400));
    CHECK(rejects("GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", 400));
    CHECK(rejects("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400));
    CHECK(rejects("GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", 400));
    CHECK(rejects("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400));
    CHECK_INT(parse("GET / HTTP/1.1\r\nHost: docker\r\n\r\n"), HTTP_PARSE_OK);
    CHECK_INT(parse("GET / HTTP/1.1\r\nHost: 127.0.0.1:2375\r\n\r\n"), HTTP_PARSE_OK);
    CHECK_INT(parse("GET / HTTP/1.1\r\nHost: [::1]:2375\r\n\r\n"), HTTP_PARSE_OK);
    CHECK_INT(parse("GET / HTTP/1.1\r\nHost: %2Fvar%2Frun%2Fdocker.sock\r\n\r\n"), HTTP_PARSE_OK);
    CHECK_INT(parse("GET / HTTP/1.1\r\nHost:\r\n\r\n"), HTTP_PARSE_OK);
    CHECK_INT(parse("GET / HTTP/1.0\r\n\r\n"), HTTP_PARSE_OK);
}

TEST(pipelined_heads)
{
    const char *s = "POST /v1.41/containers/create HTTP/1.1\r\nHost: docker\r\n"
                    "Content-Length: 2\r\n\r\n{}"
                    "GET /v1.41/containers/json HTTP/1.1\r\nHost: docker\r\n\r\n"
                    "GET /ver";
    size_t len = strlen(s);
    CHECK_INT(http_parse_request(s, len, &req, &err), HTTP_PARSE_OK);
    CHECK_INT(req.method, HTTP_METHOD_POST);
    size_t off = req.head_len + (size_t)req.content_length;
    CHECK_INT(http_parse_request(s + off, len - off, &req, &err), HTTP_PARSE_OK);
    CHECK_INT(req.method, HTTP_METHOD_GET);
    CHECK(span_is(req.target, req.target_len, "/v1.41/containers/json"));
    off += req.head_len;
    CHECK_INT(http_parse_request(s + off, len - off, &req, &err), HTTP_PARSE_INCOMPLETE);
}

TEST(incomplete_at_every_prefix)
{
    const char *heads[] = {
        PING,
        ("POST /v1.41/build HTTP/1.1\r\nHost: docker\r\nTransfer-Encoding: chunked\r\n"
         "X-Registry-Config: e30=\r\n\r\n"),
        "GET / HTTP/1.0\r\n\r\n",
    };
    for (size_t h = 0; h < sizeof heads / sizeof heads[0]; h++) {
        size_t len = strlen(heads[h]);
        for (size_t i = 0; i < len; i++) {
            /* exact-size copy so ASan catches any read past the prefix */
            char *p = malloc(i ? i : 1);
            CHECK(p != NULL);
            if (p == NULL)
                return;
            memcpy(p, heads[h], i);
            http_parse_status st = http_parse_request(p, i, &req, &err);
            if (st != HTTP_PARSE_INCOMPLETE)
                fprintf(stderr, "  head %zu prefix %zu: %d\n", h, i, (int)st);
            CHECK_INT(st, HTTP_PARSE_INCOMPLETE);
            free(p);
        }
        CHECK_INT(http_parse_request(heads[h], len, &req, &err), HTTP_PARSE_OK);
        CHECK_INT(req.head_len, len);
    }
}

TEST(garbage_inputs)
{
    CHECK(rejects("\x16\x03\x01\x02\x01\xfc\x03\x03\r\n\r\n", 400));
    CHECK(rejects("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505));
    CHECK(rejects("GET\r\n\r\n", 400));
    CHECK(rejects("GET /\r\n\r\n", 400));
    CHECK(rejects("/ HTTP/1.1\r\n\r\n", 400));
}

int main(void)
{
    RUN(docker_ping);
    RUN(docker_create_with_json_body);
    RUN(docker_build_chunked);
    RUN(docker_attach_upgrade);
    RUN(all_methods);
    RUN(unknown_method_501);
    RUN(method_not_token_400);
    RUN(version_505_and_400);
    RUN(http10);
    RUN(single_space_only);
    RUN(target_forms);
    RUN(bare_lf_and_cr);
    RUN(leading_empty_line_rejected);
    RUN(header_syntax);
    RUN(obs_fold);
    RUN(value_control_chars);
    RUN(value_allowed_bytes_and_ows);
    RUN(find_header);
    RUN(head_too_large_431);
    RUN(too_many_headers_431);
    RUN(content_length_values);
    RUN(duplicate_content_length);
    RUN(transfer_encoding_rules);
    RUN(no_framing_is_none);
    RUN(connection_tokens);
    RUN(expect_header);
    RUN(host_rules);
    RUN(pipelined_heads);
    RUN(incomplete_at_every_prefix);
    RUN(garbage_inputs);
    return UNIT_DONE();
}
