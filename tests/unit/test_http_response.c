/*
 * test_http_response.c — unit tests of http_parse_response: status-line
 * forms, body framing per RFC 9112 6.3 (HEAD, 1xx, 101, 204, 304, chunked,
 * length, EOF), keep-alive, docker raw streams and rejections (502).
 */
#include "http/http.h"
#include "unit.h"

#include <stdlib.h>

static http_response resp;
static http_error err;

static http_parse_status parse_for(const char *s, http_method m)
{
    err.status = 0;
    err.message = NULL;
    return http_parse_response(s, strlen(s), m, &resp, &err);
}

static http_parse_status parse(const char *s)
{
    return parse_for(s, HTTP_METHOD_GET);
}

static int rejects(const char *s)
{
    http_parse_status st = parse(s);
    if (st != HTTP_PARSE_ERROR || err.status != 502 || err.message == NULL) {
        fprintf(stderr, "  input %.50s...: st=%d status=%d, expected 502\n",
                s, (int)st, err.status);
        return 0;
    }
    return 1;
}

TEST(ok_with_length)
{
    const char *s = "HTTP/1.1 200 OK\r\nApi-Version: 1.47\r\nContent-Type: application/json\r\n"
                    "Docker-Experimental: false\r\nOstype: linux\r\nServer: Docker/27.5.1 (linux)\r\n"
                    "Date: Tue, 01 Jul 2025 10:00:00 GMT\r\nContent-Length: 2\r\n\r\n[]";
    CHECK_INT(parse(s), HTTP_PARSE_OK);
    CHECK_INT(resp.status, 200);
    CHECK_INT(resp.version_minor, 1);
    CHECK_INT(resp.n_headers, 7);
    CHECK_INT(resp.body, HTTP_BODY_LENGTH);
    CHECK_INT(resp.content_length, 2);
    CHECK(resp.keep_alive);
    CHECK(!resp.raw_stream);
    CHECK_INT(resp.head_len, strlen(s) - 2);
}

TEST(status_line_forms)
{
    CHECK_INT(parse("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n"), HTTP_PARSE_OK);
    CHECK_INT(resp.status, 200);
    CHECK_INT(parse("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"), HTTP_PARSE_OK);
    CHECK_INT(resp.status, 200);
    CHECK_INT(parse("HTTP/1.1 404 Not  Found\t(really) \xe9\r\nContent-Length: 0\r\n\r\n"),
              HTTP_PARSE_OK);
    CHECK_INT(resp.status, 404);
    CHECK_INT(parse("HTTP/1.0 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"),
              HTTP_PARSE_OK);
    CHECK_INT(resp.version_minor, 0);
}

TEST(status_line_rejections)
{
    CHECK(rejects("HTTP/2.0 200 OK\r\n\r\n"));
    CHECK(rejects("HTTP/1.2 200 OK\r\n\r\n"));
    CHECK(rejects("http/1.1 200 OK\r\n\r\n"));
    CHECK(rejects("HTTP/1.1  200 OK\r\n\r\n"));
    CHECK(rejects("HTTP/1.1 20 OK\r\n\r\n"));
    CHECK(rejects("HTTP/1.1 2000 OK\r\n\r\n"));
    CHECK(rejects("HTTP/1.1 099 X\r\n\r\n"));
    CHECK(rejects("HTTP/1.1 600 X\r\n\r\n"));
    CHECK(rejects("HTTP/1.1 2x0 OK\r\n\r\n"));
    CHECK(rejects("HTTP/1.1 200 O\x01K\r\n\r\n"));
    CHECK(rejects("HTTP/1.1 200 O\x7fK\r\n\r\n"));
    CHECK(rejects("HTTP/1.1\r\n\r\n"));
    CHECK(rejects("\r\nHTTP/1.1 200 OK\r\n\r\n"));
}

TEST(field_rules_apply)
{
    CHECK(rejects("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n"));
    CHECK(rejects("HTTP/1.1 200 OK\r\nContent-Length: 0\n\n"));
    CHECK(rejects("HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n"));
    CHECK(rejects("HTTP/1.1 200 OK\r\nA : b\r\n\r\n"));
    CHECK(rejects("HTTP/1.1 200 OK\r\nA: b\x01\r\n\r\n"));
    CHECK(rejects("HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n"));
}

TEST(framing_rejections)
{
    CHECK(rejects("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"));
    CHECK(rejects("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n"));
    CHECK(rejects("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"));
    CHECK(rejects("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"));
    CHECK(rejects("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"));
    /* checked even where the fields would be ignored */
    CHECK(rejects("HTTP/1.1 204 No Content\r\nContent-Length: x\r\n\r\n"));
}

TEST(chunked_body)
{
    CHECK_INT(parse("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n"),
              HTTP_PARSE_OK);
    CHECK_INT(resp.body, HTTP_BODY_CHUNKED);
    CHECK(resp.keep_alive);
}

TEST(eof_body)
{
    CHECK_INT(parse("HTTP/1.1 200 OK\r\nContent-Type: application/x-tar\r\n\r\n"), HTTP_PARSE_OK);
    CHECK_INT(resp.body, HTTP_BODY_EOF);
    CHECK(!resp.keep_alive);
    CHECK_INT(parse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n"), HTTP_PARSE_OK);
    CHECK_INT(resp.body, HTTP_BODY_EOF);
    CHECK(!resp.keep_alive);
}

TEST(head_response_has_no_body)
{
    const char *s = "HTTP/1.1 200 OK\r\nApi-Version: 1.47\r\nContent-Length: 2\r\n"
                    "Content-Type: text/plain; charset=utf-8\r\n\r\n";
    CHECK_INT(parse_for(s, HTTP_METHOD_HEAD), HTTP_PARSE_OK);
    CHECK_INT(resp.body, HTTP_BODY_NONE);
    CHECK(resp.keep_alive);
    CHECK_INT(parse_for("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                        HTTP_METHOD_HEAD), HTTP_PARSE_OK);
    CHECK_INT(resp.body, HTTP_BODY_NONE);
    /* The same head answering a GET has a body. */
    CHECK_INT(parse(s), HTTP_PARSE_OK);
    CHECK_INT(resp.body, HTTP_BODY_LENGTH);
}

TEST(no_content_and_not_modified)
{
    CHECK_INT(parse_for("HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n",
                        HTTP_METHOD_POST), HTTP_PARSE_OK);
    CHECK_INT(resp.body, HTTP_BODY_NONE);
    CHECK_INT(resp.content_length, 0);
    CHECK(resp.keep_alive);
    CHECK_INT(parse("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"), HTTP_PARSE_OK);
    CHECK_INT(resp.body, HTTP_BODY_NONE);
    CHECK_INT(parse("HTTP/1.1 304 Not Modified\r\n\r\n"), HTTP_PARSE_OK);
    CHECK_INT(resp.body, HTTP_BODY_NONE);
    CHECK(resp.keep_alive);
}

TEST(continue_100)
{
    const char *s = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n"
                    "Content-Length: 2\r\n\r\n{}";
    size_t len = strlen(s);
    CHECK_INT(http_parse_response(s, len, HTTP_METHOD_POST, &resp, &err), HTTP_PARSE_OK);
    CHECK_INT(resp.status, 100);
    CHECK_INT(resp.body, HTTP_BODY_NONE);
    CHECK_INT(resp.head_len, 25);
    size_t off = resp.head_len;
    CHECK_INT(http_parse_response(s + off, len - off, HTTP_METHOD_POST, &resp, &err),
              HTTP_PARSE_OK);
    CHECK_INT(resp.status, 201);
    CHECK_INT(resp.body, HTTP_BODY_LENGTH);
    CHECK_INT(resp.content_length, 2);
}

TEST(upgrade_101_raw_stream)
{
    CHECK_INT(parse_for("HTTP/1.1 101 UPGRADED\r\n"
                        "Content-Type: application/vnd.docker.raw-stream\r\n"
                        "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n", HTTP_METHOD_POST),
              HTTP_PARSE_OK);
    CHECK_INT(resp.status, 101);
    CHECK_INT(resp.body, HTTP_BODY_NONE);
    CHECK(resp.raw_stream);
    CHECK(!resp.keep_alive);
    CHECK_INT(parse_for("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                        "Upgrade: h2c\r\n\r\n", HTTP_METHOD_POST),
              HTTP_PARSE_OK);
    CHECK_INT(resp.body, HTTP_BODY_NONE);
    CHECK(!resp.raw_stream);
}

TEST(raw_stream_200)
{
    /* attach without Upgrade (old clients): 200 + raw stream, EOF body */
    CHECK_INT(parse_for("HTTP/1.1 200 OK\r\n"
                        "Content-Type: application/vnd.docker.multiplexed-stream\r\n\r\n",
                        HTTP_METHOD_POST),
              HTTP_PARSE_OK);
    CHECK(resp.raw_stream);
    CHECK_INT(resp.body, HTTP_BODY_EOF);
    CHECK_INT(parse("HTTP/1.1 200 OK\r\nContent-Type: Application/VND.Docker.Raw-Stream ; x=y\r\n\r\n"),
              HTTP_PARSE_OK);
    CHECK(resp.raw_stream);
    CHECK_INT(parse("HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-streams\r\n\r\n"),
              HTTP_PARSE_OK);
    CHECK(!resp.raw_stream);
    CHECK_INT(parse("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n"), HTTP_PARSE_OK);
    CHECK(!resp.raw_stream);
    CHECK_INT(parse("HTTP/1.1 200 OK\r\nX-Content-Type: application/vnd.docker.raw-stream\r\n\r\n"),
              HTTP_PARSE_OK);
    CHECK(!resp.raw_stream);
}

TEST(keep_alive_rules)
{
    CHECK_INT(parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"),
              HTTP_PARSE_OK);
    CHECK(!resp.keep_alive);
    CHECK_INT(parse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"), HTTP_PARSE_OK);
    CHECK(!resp.keep_alive);
    CHECK_INT(parse("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n"),
              HTTP_PARSE_OK);
    CHECK(resp.keep_alive);
}

TEST(incomplete_prefixes_and_size)
{
    const char *s = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n";
    size_t len = strlen(s);
    for (size_t i = 0; i < len; i++) {
        char *p = malloc(i ? i : 1);
        CHECK(p != NULL);
        if (p == NULL)
            return;
        memcpy(p, s, i);
        CHECK_INT(http_parse_response(p, i, HTTP_METHOD_GET, &resp, &err),
                  HTTP_PARSE_INCOMPLETE);
        free(p);
    }
    size_t big = HTTP_MAX_HEAD_BYTES + 1;
    char *b = malloc(big);
    CHECK(b != NULL);
    if (b == NULL)
        return;
    memcpy(b, "HTTP/1.1 200 OK\r\nX: ", 20);
    memset(b + 20, 'a', big - 20);
    CHECK_INT(http_parse_response(b, big, HTTP_METHOD_GET, &resp, &err), HTTP_PARSE_ERROR);
    CHECK_INT(err.status, 502);
    free(b);
}

int main(void)
{
    RUN(ok_with_length);
    RUN(status_line_forms);
    RUN(status_line_rejections);
    RUN(field_rules_apply);
    RUN(framing_rejections);
    RUN(chunked_body);
    RUN(eof_body);
    RUN(head_response_has_no_body);
    RUN(no_content_and_not_modified);
    RUN(continue_100);
    RUN(upgrade_101_raw_stream);
    RUN(raw_stream_200);
    RUN(keep_alive_rules);
    RUN(incomplete_prefixes_and_size);
    return UNIT_DONE();
}
