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
#include "http/fields.h"

/* Hop-by-hop fields, by length: one comparison for most names. */
static bool is_hop_by_hop(const http_header *h)
{
    const char *n = h->name;
    switch (h->name_len) {
    case 2: return http_ieqn(n, 2, "te", 2);
    case 7: return http_ieqn(n, 7, "upgrade", 7) || http_ieqn(n, 7, "trailer", 7);
    case 10: return http_ieqn(n, 10, "connection", 10) || http_ieqn(n, 10, "keep-alive", 10);
    case 14: return http_ieqn(n, 14, "content-length", 14);
    case 16: return http_ieqn(n, 16, "proxy-connection", 16);
    case 17: return http_ieqn(n, 17, "transfer-encoding", 17);
    default: return false;
    }
}

/* Is header h named as a token in any Connection field? */
static bool named_by_connection(const http_request *req, const http_header *h)
{
    for (size_t i = 0; i < req->n_headers; i++) {
        const http_header *c = &req->headers[i];
        if (!http_ieqn(c->name, c->name_len, "connection", 10))
            continue;
        const char *p = c->value, *end = c->value + c->value_len;
        while (p < end) {
            while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
                p++;
            const char *tok = p;
            while (p < end && *p != ',' && *p != ' ' && *p != '\t')
                p++;
            if (http_ieqn(tok, (size_t)(p - tok), h->name, h->name_len))
                return true;
        }
    }
    return false;
}

/* has_connection: the request has a Connection field (which may name more
 * fields to drop); without one, no field needs the search. */
static bool header_is_forwarded(const http_request *req, const http_header *h,
                                bool drop_expect, bool has_connection)
{
    if (drop_expect && http_ieqn(h->name, h->name_len, "expect", 6))
        return false;
    if (is_hop_by_hop(h))
        return false;
    return !has_connection || !named_by_connection(req, h);
}

static char *put(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

/*
 * The most the head of req can take once rebuilt: the request line with the
 * path re-encoded (at most three bytes a byte, and the decoded path and the
 * query are parts of the target), then every field, then what the pin and
 * the framing add. The exchange reserves
 * it in its own block, so the head costs no allocation of its own.
 */
size_t sg_forward_head_room(const http_request *req)
{
    size_t room = req->method_len + 1 + req->target_len * 3 + 1 + 11 +
                  SG_FORWARD_PIN_ROOM + SG_FRAMING_MAX;
    for (size_t i = 0; i < req->n_headers; i++)
        room += req->headers[i].name_len + 2 + req->headers[i].value_len + 2;
    return room;
}

/* The head written into out (sg_forward_head_room bytes): its length, or 0
 * if the path cannot be re-encoded. The framing is added when it is sent. */
size_t sg_forward_head(const http_request *req, const router_match *m, bool drop_expect,
                       char *out)
{
    bool has_connection = req->fields.n_connection > 0;
    char *p = put(out, req->method_str, req->method_len);
    *p++ = ' ';
    size_t enc = router_encode_path(m->path, m->path_len, p, m->path_len * 3 + 1);
    if (enc == 0)
        return 0;
    p += enc;
    if (m->query) {
        *p++ = '?';
        p = put(p, m->query, m->query_len);
    }
    p = put(p, req->version_minor == 0 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n", 11);
    for (size_t i = 0; i < req->n_headers; i++) {
        const http_header *h = &req->headers[i];
        if (!header_is_forwarded(req, h, drop_expect, has_connection))
            continue;
        p = put(p, h->name, h->name_len);
        p = put(p, ": ", 2);
        p = put(p, h->value, h->value_len);
        p = put(p, "\r\n", 2);
    }
    return (size_t)(p - out);
}

/* head[at, at + cut) becomes insert, in place: -1 if it does not fit cap. */
static int head_splice(char *head, size_t *len, size_t cap, size_t at, size_t cut,
                       const char *insert)
{
    size_t n = strlen(insert);
    if (*len - cut + n > cap)
        return -1;
    memmove(head + at + n, head + at + cut, *len - at - cut);
    memcpy(head + at, insert, n);
    *len = *len - cut + n;
    return 0;
}

int sg_forward_head_pin(char *head, size_t *len, size_t cap, const sg_verdict *v)
{
    if (!v->pin[0])
        return 0;
    if (!head)
        return -1;
    const char *line_end = memchr(head, '\r', *len);
    const char *target = memchr(head, ' ', *len);
    if (!target || !line_end || target > line_end)
        return -1;
    target++;
    size_t target_at = (size_t)(target - head), line = (size_t)(line_end - head);
    if (v->subject_in_query) {
        const char *q = memchr(target, '?', line - target_at);
        char insert[128];
        snprintf(insert, sizeof insert, "container=%s&", v->pin);
        return q ? head_splice(head, len, cap, (size_t)(q + 1 - head), 0, insert) : -1;
    }
    /* The path is re-encoded from the decoded one; a subject the engine
     * knew by name has nothing to encode, so it sits at the same offset. */
    size_t at = target_at + v->subject_at, n = strlen(v->subject);
    if (at + n >= line || memcmp(head + at, v->subject, n) != 0 ||
        !strchr("/? ", head[at + n]))
        return -1;
    return head_splice(head, len, cap, at, n, v->pin);
}

/* Decimal digits of v at p; returns the end. */
static char *put_u64(char *p, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

/* The framing sockgate gives the request, and the end of the head. */
static size_t forward_framing(const sg_exchange *ex, http_body_kind body,
                              uint64_t length, char *out)
{
    char *p = out;
    if (body == HTTP_BODY_LENGTH) {
        p = put(p, "Content-Length: ", 16);
        p = put_u64(p, length);
        p = put(p, "\r\n", 2);
    } else if (body == HTTP_BODY_CHUNKED) {
        p = put(p, "Transfer-Encoding: chunked\r\n", 28);
    }
    if (ex->upgrade) {
        p = put(p, "Connection: Upgrade\r\nUpgrade: ", 30);
        p = put(p, ex->upgrade_proto, strlen(ex->upgrade_proto));
        p = put(p, "\r\n", 2);
    }
    p = put(p, "\r\n", 2);
    return (size_t)(p - out);
}

/* Head, framing and the first body bytes (if any are at hand) leave in
 * one write: one syscall, one wake-up of dockerd. The framing is written
 * right after the head, in the room the exchange keeps for it, so a
 * request without a body is one buffer: a write, not a writev. */
int sg_forward_send_head(sg_conn *c, http_body_kind body, uint64_t length,
                         const char *data, size_t len)
{
    sg_exchange *ex = c->ex;
    size_t flen = forward_framing(ex, body, length, ex->head + ex->head_len);
    uv_buf_t bufs[2] = {sg_buf(ex->head, ex->head_len + flen), sg_buf(data, len)};
    return sg_stream_write((uv_stream_t *)&c->up->pipe, bufs, len ? 2 : 1,
                           sg_upstream_on_written);
}

/*
 * Request body bytes leave in batches: every piece of body that one read
 * brought (a chunked body from the docker CLI comes in 32 KiB chunks, eight
 * to a read) goes out in one writev, each chunk re-framed with a size line
 * of our own. One write a read, not one a chunk: on a small host the
 * system calls, not the copies, are most of what a byte costs.
 */
void sg_forward_batch_init(sg_forward_batch *b, http_body_kind kind)
{
    b->kind = kind;
    b->n_bufs = b->n_pieces = 0;
    b->bytes = 0;
}

bool sg_forward_batch_full(const sg_forward_batch *b)
{
    return b->n_pieces == SG_FORWARD_BATCH;
}

void sg_forward_batch_add(sg_forward_batch *b, const char *data, size_t len)
{
    if (len == 0 || sg_forward_batch_full(b))
        return;
    if (b->kind == HTTP_BODY_CHUNKED) {
        char *line = b->lines[b->n_pieces];
        int n = snprintf(line, sizeof b->lines[0], "%zx\r\n", len);
        b->bufs[b->n_bufs++] = sg_buf(line, (size_t)n);
    }
    b->bufs[b->n_bufs++] = sg_buf(data, len);
    if (b->kind == HTTP_BODY_CHUNKED)
        b->bufs[b->n_bufs++] = sg_buf("\r\n", 2);
    b->n_pieces++;
    b->bytes += len;
}

/* The chunked body ended: its last chunk, with no trailer (dockerd reads
 * none, and a client's trailer fields are not ours to pass on). */
void sg_forward_batch_end(sg_forward_batch *b)
{
    if (b->kind == HTTP_BODY_CHUNKED)
        b->bufs[b->n_bufs++] = sg_buf("0\r\n\r\n", 5);
}

int sg_forward_batch_send(uv_stream_t *s, const sg_forward_batch *b)
{
    if (b->n_bufs == 0)
        return 0;
    return sg_stream_write(s, b->bufs, b->n_bufs, sg_upstream_on_written);
}
