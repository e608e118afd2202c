/*
 * engine_client.c — the engine of engine.h on dockerd's socket: asynchronous
 * GET requests (see engine_client.h).
 *
 * Life of a request: connect → write the head → read until dockerd closes
 * (we asked for "Connection: close") → parse → callback → close. A timer
 * bounds the whole exchange. The object is freed only when both of its
 * handles are closed, and the callback is called at most once.
 */
#include "engine/engine_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/iobuf.h"
#include "http/http.h"
#include "route/router.h"

typedef struct {
    sg_engine base;      /* first: an sg_engine * is an engine_socket *   */
    uv_loop_t *loop;
    char *path;
} engine_socket;

struct sg_engine_req {
    uv_pipe_t pipe;
    uv_timer_t timer;
    uv_connect_t connect;
    uv_write_t write;
    char *head;
    sg_iobuf in;
    sg_engine_cb cb;
    void *arg;
    int open_handles;
    bool done;
};

static void engine_on_closed(uv_handle_t *h)
{
    sg_engine_req *r = h->data;
    if (--r->open_handles > 0)
        return;
    free(r->head);
    sg_iobuf_free(&r->in);
    free(r);
}

static void engine_finish(sg_engine_req *r, int status, json_t *body)
{
    if (r->done) {
        json_decref(body);
        return;
    }
    r->done = true;
    if (r->cb)
        r->cb(r->arg, status, body);
    else
        json_decref(body);
    uv_timer_stop(&r->timer);
    uv_close((uv_handle_t *)&r->pipe, engine_on_closed);
    uv_close((uv_handle_t *)&r->timer, engine_on_closed);
}

/* Body bytes of the answer, decoded from its framing, into out. */
static int engine_body(const http_response *resp, const char *p, size_t len,
                       sg_iobuf *out)
{
    if (resp->body == HTTP_BODY_LENGTH) {
        if (len < resp->content_length)
            return -1;
        return sg_iobuf_append(out, p, (size_t)resp->content_length);
    }
    if (resp->body != HTTP_BODY_CHUNKED)
        return resp->body == HTTP_BODY_EOF ? sg_iobuf_append(out, p, len) : 0;
    http_chunked ch;
    http_chunked_init(&ch);
    size_t off = 0;
    for (;;) {
        size_t used, dlen;
        const char *data;
        http_chunk_status st = http_chunked_step(&ch, p + off, len - off, &used, &data, &dlen);
        off += used;
        if (st == HTTP_CHUNK_DONE)
            return 0;
        if (st != HTTP_CHUNK_DATA || sg_iobuf_append(out, data, dlen) != 0)
            return -1;
    }
}

static void engine_parse(sg_engine_req *r)
{
    http_response resp;
    http_error err;
    if (http_parse_response(r->in.data, r->in.len, HTTP_METHOD_GET, &resp, &err) !=
        HTTP_PARSE_OK) {
        engine_finish(r, UV_EPROTO, NULL);
        return;
    }
    sg_iobuf body = {0};
    if (engine_body(&resp, r->in.data + resp.head_len, r->in.len - resp.head_len,
                    &body) != 0) {
        sg_iobuf_free(&body);
        engine_finish(r, UV_EPROTO, NULL);
        return;
    }
    json_t *json = body.len ? json_loadb(body.data, body.len, 0, NULL) : NULL;
    sg_iobuf_free(&body);
    engine_finish(r, resp.status, json);
}

static void engine_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    sg_engine_req *r = h->data;
    size_t avail;
    char *p = sg_iobuf_reserve(&r->in, 64 * 1024, SG_ENGINE_MAX_BODY, &avail);
    *buf = uv_buf_init(p, (unsigned)avail);
}

static void engine_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    sg_engine_req *r = s->data;
    if (nread > 0) {
        r->in.len += (size_t)nread;
        return;
    }
    if (nread == UV_EOF)
        engine_parse(r);
    else if (nread < 0)
        engine_finish(r, (int)nread, NULL);
}

static void engine_written(uv_write_t *w, int status)
{
    sg_engine_req *r = w->data;
    if (status < 0)
        engine_finish(r, status, NULL);
}

static void engine_connected(uv_connect_t *c, int status)
{
    sg_engine_req *r = c->data;
    if (status < 0) {
        engine_finish(r, status, NULL);
        return;
    }
    uv_buf_t b = uv_buf_init(r->head, (unsigned)strlen(r->head));
    r->write.data = r;
    if (uv_write(&r->write, (uv_stream_t *)&r->pipe, &b, 1, engine_written) != 0 ||
        uv_read_start((uv_stream_t *)&r->pipe, engine_alloc, engine_read) != 0)
        engine_finish(r, UV_EIO, NULL);
}

static void engine_timeout(uv_timer_t *t) { engine_finish(t->data, UV_ETIMEDOUT, NULL); }

static char *engine_head(const char *path)
{
    size_t room = strlen(path) * 3 + 1;
    char *enc = malloc(room);
    size_t n = enc ? router_encode_path(path, strlen(path), enc, room) : 0;
    if (!n) {
        free(enc);
        return NULL;
    }
    size_t hsz = n + 96;
    char *head = malloc(hsz);
    if (head)
        snprintf(head, hsz, "GET %.*s HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n",
                 (int)n, enc);
    free(enc);
    return head;
}

static sg_engine_req *engine_socket_get(sg_engine *e, const char *path, sg_engine_cb cb,
                                        void *arg)
{
    engine_socket *es = (engine_socket *)e;
    sg_engine_req *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->head = engine_head(path);
    if (!r->head) {
        free(r);
        return NULL;
    }
    r->cb = cb;
    r->arg = arg;
    uv_pipe_init(es->loop, &r->pipe, 0);
    uv_timer_init(es->loop, &r->timer);
    r->pipe.data = r->timer.data = r->connect.data = r;
    r->open_handles = 2;
    uv_timer_start(&r->timer, engine_timeout, SG_ENGINE_TIMEOUT_MS, 0);
    uv_pipe_connect(&r->connect, &r->pipe, es->path, engine_connected);
    return r;
}

static void engine_socket_cancel(sg_engine *e, sg_engine_req *req)
{
    req->cb = NULL;
    engine_finish(req, UV_ECANCELED, NULL);
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

void sg_engine_socket_free(sg_engine *e)
{
    engine_socket *es = (engine_socket *)e;
    if (es)
        free(es->path);
    free(es);
}
