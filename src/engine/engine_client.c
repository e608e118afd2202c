/*
 * engine_client.c — the engine of engine.h on dockerd's socket: asynchronous
 * GET requests (see engine_client.h).
 *
 * Life of a request: take the idle keep-alive connection or connect →
 * write the head → read until the answer is complete (its Content-Length,
 * its last chunk, or dockerd's close) → parse → callback. A timer bounds
 * the whole exchange; the callback is called at most once.
 *
 * A connection whose answer ended cleanly (keep-alive, nothing unread) is
 * kept for the next look-up: a container start by an isolated caller looks
 * the container up right after its attach did, and a fresh connection is
 * a connect, an accept and a new goroutine in dockerd each time. While
 * idle it keeps reading, so dockerd's close (or any stray byte) retires it
 * at once; a look-up that finds its reused connection closed before any
 * byte of the answer arrived is sent again once on a fresh connection.
 *
 * Ownership: a request is freed when its timer handle is closed and its
 * write (if any) has completed, a connection when its pipe is closed; each
 * refers to the other only while the request is in flight on it.
 */
#include "engine/engine_client.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/iobuf.h"
#include "http/http.h"
#include "route/router.h"

/* Idle connections kept: look-ups mostly come one after another. */
#define ENGINE_MAX_IDLE 1

typedef struct engine_conn engine_conn;

typedef struct {
    sg_engine base;      /* first: an sg_engine * is an engine_socket *   */
    uv_loop_t *loop;
    char *path;
    engine_conn *idle;   /* kept connections, most recent first           */
    size_t n_idle;
    bool closing;        /* no more keeping: sg_engine_socket_close_idle   */
} engine_socket;

struct engine_conn {
    uv_pipe_t pipe;
    uv_connect_t connect;
    engine_socket *es;   /* NULL once the engine object is gone           */
    sg_engine_req *req;  /* the look-up in flight, if any                 */
    sg_iobuf in;
    bool connected, reused, closing;
    engine_conn *next_idle;
};

struct sg_engine_req {
    uv_timer_t timer;
    uv_write_t write;
    engine_socket *es;
    engine_conn *conn;
    char *head;
    size_t head_len;
    sg_engine_cb cb;
    void *arg;
    int holds;           /* the timer handle, and a write in progress     */
    bool done, retried;
};

static void engine_send(sg_engine_req *r);

/* ---- connections ------------------------------------------------------ */

static void conn_on_closed(uv_handle_t *h)
{
    engine_conn *c = h->data;
    sg_iobuf_free(&c->in);
    free(c);
}

static void conn_idle_remove(engine_conn *c)
{
    engine_socket *es = c->es;
    if (!es)
        return;
    for (engine_conn **pp = &es->idle; *pp; pp = &(*pp)->next_idle) {
        if (*pp == c) {
            *pp = c->next_idle;
            es->n_idle--;
            return;
        }
    }
}

static void conn_close(engine_conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    conn_idle_remove(c);
    c->req = NULL;
    uv_close((uv_handle_t *)&c->pipe, conn_on_closed);
}

/* A look-up is over: keep its connection if the answer ended cleanly. */
static void conn_release(engine_conn *c, bool reusable)
{
    c->req = NULL;
    engine_socket *es = c->es;
    if (!reusable || c->in.len > 0 || !es || es->closing || es->n_idle >= ENGINE_MAX_IDLE) {
        conn_close(c);
        return;
    }
    sg_iobuf_free(&c->in);
    c->next_idle = es->idle;
    es->idle = c;
    es->n_idle++;
}

/* ---- requests --------------------------------------------------------- */

static void req_release(sg_engine_req *r)
{
    if (--r->holds > 0)
        return;
    free(r->head);
    free(r);
}

static void req_on_closed(uv_handle_t *h) { req_release(h->data); }

/* The look-up ends: one callback, then the request is freed. `reusable`
 * says whether its connection may carry another look-up. */
static void req_finish(sg_engine_req *r, int status, json_t *body, bool reusable)
{
    if (r->done) {
        json_decref(body);
        return;
    }
    r->done = true;
    engine_conn *c = r->conn;
    r->conn = NULL;
    if (c)
        conn_release(c, reusable && status >= 0);
    if (r->cb)
        r->cb(r->arg, status, body);
    else
        json_decref(body);
    uv_timer_stop(&r->timer);
    uv_close((uv_handle_t *)&r->timer, req_on_closed);
}

/*
 * Where the answer in c->in ends, with its body decoded from its framing
 * into out (one walk over a chunked body does both): the answer's length in
 * bytes, 0 while it is not complete (or, for a body that runs until close,
 * until eof), -1 if it is malformed. out is left empty unless the answer is
 * complete.
 */
static long long answer_take(const engine_conn *c, const http_response *resp, bool eof,
                             sg_iobuf *out)
{
    const char *body = c->in.data + resp->head_len;
    size_t avail = c->in.len - resp->head_len;
    switch (resp->body) {
    case HTTP_BODY_NONE:
        return (long long)resp->head_len;
    case HTTP_BODY_LENGTH:
        if (avail < resp->content_length)
            return 0;
        if (sg_iobuf_append(out, body, (size_t)resp->content_length) != 0)
            return -1;
        return (long long)(resp->head_len + resp->content_length);
    case HTTP_BODY_EOF:
        if (!eof)
            return 0;
        return sg_iobuf_append(out, body, avail) == 0 ? (long long)c->in.len : -1;
    case HTTP_BODY_CHUNKED:
        break;
    }
    http_chunked ch;
    http_chunked_init(&ch);
    size_t off = 0;
    for (;;) {
        size_t used, dlen;
        const char *data;
        http_chunk_status st = http_chunked_step(&ch, body + off, avail - off, &used, &data,
                                                 &dlen);
        off += used;
        if (st == HTTP_CHUNK_DONE)
            return (long long)(resp->head_len + off);
        if (st == HTTP_CHUNK_ERROR)
            return -1;
        if (st == HTTP_CHUNK_NEED_MORE) {
            sg_iobuf_free(out); /* decoded again, whole, once the rest is here */
            return 0;
        }
        if (st == HTTP_CHUNK_DATA && sg_iobuf_append(out, data, dlen) != 0)
            return -1;
    }
}

/* Try to finish the look-up on c with what has arrived. */
static void engine_try_answer(engine_conn *c, bool eof)
{
    sg_engine_req *r = c->req;
    http_response resp;
    http_error err;
    http_parse_status st = http_parse_response(c->in.data, c->in.len, HTTP_METHOD_GET, &resp,
                                               &err);
    if (st == HTTP_PARSE_INCOMPLETE && !eof)
        return;
    sg_iobuf body = {0};
    long long end = st == HTTP_PARSE_OK ? answer_take(c, &resp, eof, &body) : -1;
    if (end == 0 && !eof)
        return;
    if (end <= 0) {
        sg_iobuf_free(&body);
        req_finish(r, UV_EPROTO, NULL, false);
        return;
    }
    json_t *json = body.len ? json_loadb(body.data, body.len, 0, NULL) : NULL;
    sg_iobuf_free(&body);
    sg_iobuf_consume(&c->in, (size_t)end);
    req_finish(r, resp.status, json, resp.keep_alive && !eof);
}

/* A reused connection that dockerd closed before answering anything:
 * the GET is sent again, once, on a fresh connection. */
static bool engine_retry(engine_conn *c)
{
    sg_engine_req *r = c->req;
    if (!c->reused || c->in.len > 0 || r->retried)
        return false;
    r->retried = true;
    r->conn = NULL;
    conn_close(c);
    engine_send(r);
    return true;
}

/* An empty queue reads into the shared buffer (base/iobuf.h): an answer
 * that arrives in one read is parsed where it landed. */
static void conn_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    engine_conn *c = h->data;
    size_t chunk = c->in.len == 0 ? SG_IOBUF_SHARED : 64 * 1024, avail;
    char *p = sg_iobuf_read_room(&c->in, chunk, SG_ENGINE_MAX_BODY, &avail);
    *buf = uv_buf_init(p, (unsigned)avail);
}

static void conn_handle_read(engine_conn *c, ssize_t nread)
{
    if (!c->req) { /* idle: dockerd closed it, or sent something unasked */
        conn_close(c);
        return;
    }
    if (nread > 0)
        engine_try_answer(c, false);
    else if (nread == UV_EOF && !engine_retry(c))
        engine_try_answer(c, true);
    else if (nread != UV_EOF)
        req_finish(c->req, (int)nread, NULL, false);
}

static void conn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    engine_conn *c = s->data;
    if (nread == 0)
        return;
    if (nread > 0)
        sg_iobuf_took(&c->in, buf->base, (size_t)nread);
    conn_handle_read(c, nread);
    /* The rest of an answer that has not all arrived leaves the shared
     * buffer before the next read can reuse it. */
    if (c->closing)
        sg_iobuf_free(&c->in);
    else if (sg_iobuf_settle(&c->in) != 0 && c->req)
        req_finish(c->req, UV_ENOMEM, NULL, false);
}

static void engine_written(uv_write_t *w, int status)
{
    sg_engine_req *r = w->data;
    /* The request may be over already (a timeout, a cancel, or an answer
     * read in the same loop iteration): then only its hold goes. */
    if (status < 0 && !r->done && r->conn && !engine_retry(r->conn))
        req_finish(r, status, NULL, false);
    req_release(r);
}

static void engine_write_head(sg_engine_req *r)
{
    uv_buf_t b = uv_buf_init(r->head, (unsigned)r->head_len);
    r->write.data = r;
    r->holds++;
    if (uv_write(&r->write, (uv_stream_t *)&r->conn->pipe, &b, 1, engine_written) != 0) {
        r->holds--;
        req_finish(r, UV_EIO, NULL, false);
    }
}

static void conn_connected(uv_connect_t *cr, int status)
{
    engine_conn *c = cr->data;
    sg_engine_req *r = c->req;
    if (status == UV_ECANCELED || c->closing)
        return;
    if (status == 0) {
        c->connected = true;
        status = uv_read_start((uv_stream_t *)&c->pipe, conn_alloc, conn_read);
    }
    if (status < 0 || !r) {
        if (r)
            req_finish(r, status, NULL, false);
        else
            conn_close(c);
        return;
    }
    engine_write_head(r);
}

/* Put r on the idle connection, or on a new one. */
static void engine_send(sg_engine_req *r)
{
    engine_socket *es = r->es;
    engine_conn *c = es->idle;
    if (c) {
        es->idle = c->next_idle;
        es->n_idle--;
        c->next_idle = NULL;
        c->reused = true;
        c->req = r;
        r->conn = c;
        engine_write_head(r);
        return;
    }
    c = calloc(1, sizeof *c);
    if (!c || uv_pipe_init(es->loop, &c->pipe, 0) != 0) {
        free(c);
        req_finish(r, UV_ENOMEM, NULL, false);
        return;
    }
    c->pipe.data = c->connect.data = c;
    c->es = es;
    c->req = r;
    r->conn = c;
    uv_pipe_connect(&c->connect, &c->pipe, es->path, conn_connected);
}

static void engine_timeout(uv_timer_t *t) { req_finish(t->data, UV_ETIMEDOUT, NULL, false); }

/* May q go into a request target as it is? Only what a query carries
 * unencoded (RFC 3986 unreserved, sub-delims, ':', '@', '/', '?') and '%'
 * escapes: no space, CR, LF or '#' can end up in the request line. */
static bool engine_query_clean(const char *q)
{
    for (const unsigned char *p = (const unsigned char *)q; *p; p++) {
        unsigned char c = *p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("-._~!$&'()*+,;=:@/?", c))
            continue;
        if (c == '%' && isxdigit(p[1]) && isxdigit(p[2]))
            continue;
        return false;
    }
    return true;
}

static char *engine_head(const char *path, const char *query, size_t *len)
{
    size_t room = strlen(path) * 3 + 1;
    char *enc = malloc(room);
    size_t n = enc ? router_encode_path(path, strlen(path), enc, room) : 0;
    if (!n || (query && !engine_query_clean(query))) {
        free(enc);
        return NULL;
    }
    size_t hsz = n + (query ? strlen(query) + 1 : 0) + 64;
    char *head = malloc(hsz);
    if (head)
        *len = (size_t)snprintf(head, hsz, "GET %.*s%s%s HTTP/1.1\r\nHost: docker\r\n\r\n",
                                (int)n, enc, query ? "?" : "", query ? query : "");
    free(enc);
    return head;
}

static sg_engine_req *engine_request(sg_engine *e, const char *path, const char *query,
                                     sg_engine_cb cb, void *arg)
{
    engine_socket *es = (engine_socket *)e;
    sg_engine_req *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->head = engine_head(path, query, &r->head_len);
    if (!r->head) {
        free(r);
        return NULL;
    }
    r->es = es;
    r->cb = cb;
    r->arg = arg;
    r->holds = 1; /* the timer */
    uv_timer_init(es->loop, &r->timer);
    r->timer.data = r;
    /* Look-ups start on the request path, where libuv's clock can be stale
     * (base/ioloop.h): the timeout counts from now, not from then. */
    uv_update_time(es->loop);
    uv_timer_start(&r->timer, engine_timeout, SG_ENGINE_TIMEOUT_MS, 0);
    engine_send(r);
    return r;
}

static sg_engine_req *engine_socket_get(sg_engine *e, const char *path, sg_engine_cb cb,
                                        void *arg)
{
    return engine_request(e, path, NULL, cb, arg);
}

sg_engine_req *sg_engine_socket_get_query(sg_engine *e, const char *path, const char *query,
                                          sg_engine_cb cb, void *arg)
{
    return engine_request(e, path, query, cb, arg);
}

static void engine_socket_cancel(sg_engine *e, sg_engine_req *req)
{
    req->cb = NULL;
    req_finish(req, UV_ECANCELED, NULL, false);
}

static const sg_engine_ops engine_socket_ops = {
    .get = engine_socket_get,
    .cancel = engine_socket_cancel,
};

sg_engine *sg_engine_socket_new(uv_loop_t *loop, const char *engine_path)
{
    engine_socket *es = calloc(1, sizeof *es);
    if (!es || !(es->path = strdup(engine_path))) {
        free(es);
        return NULL;
    }
    es->base.ops = &engine_socket_ops;
    es->loop = loop;
    return &es->base;
}

void sg_engine_socket_close_idle(sg_engine *e)
{
    engine_socket *es = (engine_socket *)e;
    if (!es)
        return;
    es->closing = true;
    while (es->idle)
        conn_close(es->idle);
}

void sg_engine_socket_free(sg_engine *e)
{
    engine_socket *es = (engine_socket *)e;
    if (!es)
        return;
    sg_engine_socket_close_idle(e);
    free(es->path);
    free(es);
}
