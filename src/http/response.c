/*
 * response.c — strict parser for response heads from dockerd
 * (http_parse_response): status line, fields, and the body framing of
 * RFC 9112 section 6.3 given the method of the request being answered.
 *
 * dockerd is the trusted side, but the gate still must agree with the
 * client on where each response ends, so the same field rules apply. Every
 * error is reported as 502: the client is answered "bad gateway" because
 * the upstream, not the client, sent something unusable.
 */
#include "http/fields.h"

#include <stddef.h>
#include <string.h>

#define RESP_BAD_GATEWAY 502

static http_parse_status resp_fail(http_error *err, const char *message)
{
    err->status = RESP_BAD_GATEWAY;
    err->message = message;
    return HTTP_PARSE_ERROR;
}

static bool resp_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* HTTP-version SP 3DIGIT [SP reason-phrase]; the SP before an empty reason
 * is optional because servers disagree about it. */
static http_parse_status resp_parse_line(const char *line, size_t len,
                                         http_response *resp, http_error *err)
{
    if (len < 12 || memcmp(line, "HTTP/1.", 7) != 0 ||
        (line[7] != '0' && line[7] != '1') || line[8] != ' ')
        return resp_fail(err, "malformed or unsupported status line version");
    if (!resp_is_digit(line[9]) || !resp_is_digit(line[10]) ||
        !resp_is_digit(line[11]))
        return resp_fail(err, "malformed status code");
    int status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    if (status < 100 || status > 599)
        return resp_fail(err, "status code out of range");
    if (len > 12 && line[12] != ' ')
        return resp_fail(err, "malformed status line");
    if (len > 13 && !http_field_bytes_ok(line + 13, len - 13))
        return resp_fail(err, "control character in reason phrase");
    resp->version_minor = line[7] - '0';
    resp->status = status;
    return HTTP_PARSE_OK;
}

/* Content-Type media type (before any ';') names a docker hijack stream. */
static bool resp_is_raw_stream(const http_response *resp)
{
    if (resp->fields.n_content_type == 0)
        return false;
    const http_header *ct = &resp->headers[resp->fields.content_type];
    const char *semi = memchr(ct->value, ';', ct->value_len);
    size_t n = semi ? (size_t)(semi - ct->value) : ct->value_len;
    while (n > 0 && (ct->value[n - 1] == ' ' || ct->value[n - 1] == '\t'))
        n--;
    return http_ieq(ct->value, n, "application/vnd.docker.raw-stream") ||
           http_ieq(ct->value, n, "application/vnd.docker.multiplexed-stream");
}

/* RFC 9112 6.3, in its order: no body first, then chunked, length, EOF. */
static http_body_kind resp_body_kind(const http_response *resp,
                                     http_method request_method,
                                     const http_framing *fr)
{
    if (request_method == HTTP_METHOD_HEAD || resp->status < 200 ||
        resp->status == 204 || resp->status == 304)
        return HTTP_BODY_NONE;
    if (fr->chunked)
        return HTTP_BODY_CHUNKED;
    if (fr->has_length)
        return HTTP_BODY_LENGTH;
    return HTTP_BODY_EOF;
}

static http_parse_status resp_check_semantics(http_response *resp,
                                              http_method request_method,
                                              http_error *err)
{
    http_framing fr;
    http_connection conn;
    http_index_fields(resp->headers, resp->n_headers, &resp->fields);
    /* Framing fields are checked even where they are ignored (HEAD, 204,
     * 304): a malformed one means dockerd is not what we think it is. */
    if (!http_check_framing(resp->headers, &resp->fields, resp->version_minor, &fr, err) ||
        !http_check_connection(resp->headers, resp->n_headers, &resp->fields, &conn, err))
        return resp_fail(err, err->message);

    resp->body = resp_body_kind(resp, request_method, &fr);
    resp->content_length = resp->body == HTTP_BODY_LENGTH ? fr.content_length : 0;
    /* After a 101 the connection no longer carries HTTP, and an
     * EOF-delimited body ends with the connection. */
    resp->keep_alive = resp->status != 101 && resp->body != HTTP_BODY_EOF &&
                       http_connection_persists(&conn, resp->version_minor);
    resp->raw_stream = resp_is_raw_stream(resp);
    return HTTP_PARSE_OK;
}

/* Every field but the header array, which is valid up to n_headers:
 * zeroing its 100 entries (3 KiB) would cost more than the parse. */
static void resp_reset(http_response *resp)
{
    memset(resp, 0, offsetof(http_response, headers));
    memset(&resp->n_headers, 0, sizeof *resp - offsetof(http_response, n_headers));
}

/* The full parse, after the scan. */
static http_parse_status resp_parse_head(const char *buf, size_t head_len,
                                         http_method request_method,
                                         http_response *resp, http_error *err)
{
    resp_reset(resp);
    const char *eol = memchr(buf, '\r', head_len);
    http_parse_status st = resp_parse_line(buf, (size_t)(eol - buf), resp, err);
    if (st != HTTP_PARSE_OK)
        return st;
    if (!http_parse_fields(eol + 2, buf + head_len - 2, resp->headers,
                           &resp->n_headers, err))
        return resp_fail(err, err->message);
    if ((st = resp_check_semantics(resp, request_method, err)) != HTTP_PARSE_OK)
        return st;
    resp->head_len = head_len;
    return HTTP_PARSE_OK;
}

/* A plain head in one pass, as for requests (request.c). */
static bool resp_parse_plain(const char *buf, size_t len, http_method request_method,
                             http_response *resp)
{
    size_t line_len, head_len;
    http_error ignored;
    resp_reset(resp);
    if (!http_parse_plain_head(buf, len, &line_len, resp->headers, &resp->n_headers,
                               &head_len) ||
        resp_parse_line(buf, line_len, resp, &ignored) != HTTP_PARSE_OK ||
        resp_check_semantics(resp, request_method, &ignored) != HTTP_PARSE_OK)
        return false;
    resp->head_len = head_len;
    return true;
}

http_parse_status http_parse_response(const char *buf, size_t len,
                                      http_method request_method,
                                      http_response *resp, http_error *err)
{
    if (resp_parse_plain(buf, len, request_method, resp))
        return HTTP_PARSE_OK;
    size_t head_len = 0;
    http_parse_status st = http_scan_head(buf, len, &head_len, err);
    if (st == HTTP_PARSE_ERROR)
        return resp_fail(err, err->status == 431
                                  ? "response header section too large"
                                  : err->message);
    if (st != HTTP_PARSE_OK)
        return st;
    return resp_parse_head(buf, head_len, request_method, resp, err);
}
