/*
 * forward.c — what sockgate sends to dockerd.
 *
 * Nothing a client wrote reaches dockerd as raw bytes: the request head is
 * rebuilt from the parsed request (method, the decoded path re-encoded,
 * the query, the end-to-end header fields) and given exactly one framing
 * chosen here. Hop-by-hop fields (Connection and the fields it names,
 * Keep-Alive, TE, Transfer-Encoding, Content-Length, Upgrade, Trailer,
 * Proxy-Connection) are dropped and re-created from the parse, so two
 * HTTP readers can never disagree about where this request ends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gate/gate.h"

static const char *const hop_by_hop[] = {
    "connection", "keep-alive", "proxy-connection", "te",
    "transfer-encoding", "content-length", "upgrade", "trailer",
};

static bool name_is(const http_header *h, const char *name, size_t len)
{
    return h->name_len == len && strncasecmp(h->name, name, len) == 0;
}

/* Is header h named as a token in any Connection field? */
static bool named_by_connection(const http_request *req, const http_header *h)
{
    for (size_t i = 0; i < req->n_headers; i++) {
        const http_header *c = &req->headers[i];
        if (!name_is(c, "connection", 10))
            continue;
        const char *p = c->value, *end = c->value + c->value_len;
        while (p < end) {
            while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
                p++;
            const char *tok = p;
            while (p < end && *p != ',' && *p != ' ' && *p != '\t')
                p++;
            if ((size_t)(p - tok) == h->name_len &&
                strncasecmp(tok, h->name, h->name_len) == 0)
                return true;
        }
    }
    return false;
}

static bool header_is_forwarded(const http_request *req, const http_header *h,
                                bool drop_expect)
{
    if (drop_expect && name_is(h, "expect", 6))
        return false;
    for (size_t i = 0; i < sizeof hop_by_hop / sizeof *hop_by_hop; i++)
        if (name_is(h, hop_by_hop[i], strlen(hop_by_hop[i])))
            return false;
    return !named_by_connection(req, h);
}

static bool head_append(char **buf, size_t *len, size_t *cap, const char *p,
                        size_t n)
{
    if (*len + n > *cap) {
        size_t ncap = (*cap ? *cap : 1024);
        while (ncap < *len + n)
            ncap *= 2;
        char *nb = realloc(*buf, ncap);
        if (!nb)
            return false;
        *buf = nb;
        *cap = ncap;
    }
    memcpy(*buf + *len, p, n);
    *len += n;
    return true;
}

static bool head_append_target(char **buf, size_t *len, size_t *cap,
                               const router_match *m)
{
    /* Worst case every byte becomes %XX. */
    size_t room = m->path_len * 3 + 1;
    char *enc = malloc(room);
    if (!enc)
        return false;
    size_t n = router_encode_path(m->path, m->path_len, enc, room);
    bool ok = n > 0 && head_append(buf, len, cap, enc, n);
    free(enc);
    if (ok && m->query)
        ok = head_append(buf, len, cap, "?", 1) &&
             head_append(buf, len, cap, m->query, m->query_len);
    return ok;
}

char *sg_forward_head(const http_request *req, const router_match *m,
                      bool drop_expect, size_t *out_len)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    bool ok = head_append(&buf, &len, &cap, req->method_str, req->method_len) &&
              head_append(&buf, &len, &cap, " ", 1) &&
              head_append_target(&buf, &len, &cap, m) &&
              head_append(&buf, &len, &cap,
                          req->version_minor == 0 ? " HTTP/1.0\r\n"
                                                  : " HTTP/1.1\r\n", 11);
    for (size_t i = 0; ok && i < req->n_headers; i++) {
        const http_header *h = &req->headers[i];
        if (!header_is_forwarded(req, h, drop_expect))
            continue;
        ok = head_append(&buf, &len, &cap, h->name, h->name_len) &&
             head_append(&buf, &len, &cap, ": ", 2) &&
             head_append(&buf, &len, &cap, h->value, h->value_len) &&
             head_append(&buf, &len, &cap, "\r\n", 2);
    }
    if (!ok) {
        free(buf);
        return NULL;
    }
    *out_len = len;
    return buf;
}

/* head = head[0, at) + insert + head[at + cut, len) */
static int head_splice(char **head, size_t *len, size_t at, size_t cut, const char *insert)
{
    size_t n = strlen(insert), nlen = *len - cut + n;
    char *out = malloc(nlen);
    if (!out)
        return -1;
    memcpy(out, *head, at);
    memcpy(out + at, insert, n);
    memcpy(out + at + n, *head + at + cut, *len - at - cut);
    free(*head);
    *head = out;
    *len = nlen;
    return 0;
}

int sg_forward_head_pin(char **head, size_t *len, const sg_verdict *v)
{
    const char *line_end = memchr(*head, '\r', *len);
    const char *target = memchr(*head, ' ', *len);
    if (!v->pin[0])
        return 0;
    if (!target || !line_end || target > line_end)
        return -1;
    target++;
    size_t target_at = (size_t)(target - *head), line = (size_t)(line_end - *head);
    if (v->subject_in_query) {
        const char *q = memchr(target, '?', line - target_at);
        char insert[128];
        snprintf(insert, sizeof insert, "container=%s&", v->pin);
        return q ? head_splice(head, len, (size_t)(q + 1 - *head), 0, insert) : -1;
    }
    /* The path is re-encoded from the decoded one; a subject the engine
     * knew by name has nothing to encode, so it sits at the same offset. */
    size_t at = target_at + v->subject_at, n = strlen(v->subject);
    if (at + n >= line || memcmp(*head + at, v->subject, n) != 0 ||
        !strchr("/? ", (*head)[at + n]))
        return -1;
    return head_splice(head, len, at, n, v->pin);
}

static size_t forward_framing(const sg_exchange *ex, http_body_kind body,
                              uint64_t length, char *out, size_t outsz)
{
    int n = 0;
    if (body == HTTP_BODY_LENGTH)
        n = snprintf(out, outsz, "Content-Length: %llu\r\n",
                     (unsigned long long)length);
    else if (body == HTTP_BODY_CHUNKED)
        n = snprintf(out, outsz, "Transfer-Encoding: chunked\r\n");
    if (ex->upgrade)
        n += snprintf(out + n, outsz - (size_t)n,
                      "Connection: Upgrade\r\nUpgrade: %s\r\n",
                      ex->upgrade_proto);
    n += snprintf(out + n, outsz - (size_t)n, "\r\n");
    return (size_t)n;
}

static void forward_on_upstream_written(uv_stream_t *s, int status)
{
    sg_upstream *up = s->data;
    if (!up->conn)
        return;
    if (status < 0)
        sg_conn_on_upstream_error(up->conn, status);
    else /* body bytes may be waiting for room in the queue: pump them */
        sg_conn_process(up->conn);
}

int sg_forward_send_head(sg_conn *c, http_body_kind body, uint64_t length)
{
    char framing[256];
    size_t flen = forward_framing(c->ex, body, length, framing, sizeof framing);
    uv_buf_t bufs[2] = {uv_buf_init(c->ex->head, (unsigned)c->ex->head_len),
                        uv_buf_init(framing, (unsigned)flen)};
    return sg_stream_write((uv_stream_t *)&c->up->pipe, bufs, 2,
                           forward_on_upstream_written);
}

/* Write raw body bytes (used for Content-Length bodies and relays). */
int sg_forward_bytes(uv_stream_t *s, const char *data, size_t len)
{
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    return sg_stream_write(s, &b, 1, forward_on_upstream_written);
}

int sg_forward_chunk(uv_stream_t *s, const char *data, size_t len)
{
    char size_line[32];
    int n = snprintf(size_line, sizeof size_line, "%zx\r\n", len);
    uv_buf_t bufs[3] = {uv_buf_init(size_line, (unsigned)n),
                        uv_buf_init((char *)data, (unsigned)len),
                        uv_buf_init("\r\n", 2)};
    return sg_stream_write(s, bufs, 3, forward_on_upstream_written);
}

int sg_forward_last_chunk(uv_stream_t *s)
{
    uv_buf_t b = uv_buf_init("0\r\n\r\n", 5);
    return sg_stream_write(s, &b, 1, forward_on_upstream_written);
}
