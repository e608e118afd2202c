/*
 * test_engine_client.c — the engine client (engine_client.c) against a
 * scripted server on a unix socket in the same loop: answers framed by
 * Content-Length, chunked and close; the kept connection reused by the
 * next look-up (one accept for two look-ups); a kept connection that the
 * server closed, or that it drops as the request arrives, replaced by a
 * fresh one without failing the look-up; no reuse after "Connection:
 * close", after a cancel or after a timeout-free failure; no callback
 * after a cancel; and a query sent as it was encoded, nothing else.
 */
#include "engine/engine_client.h"
#include "unit.h"

#include <stdlib.h>
#include <unistd.h>

/* ---- the scripted server ------------------------------------------------ */

typedef enum {
    SERVE_ANSWER,   /* answer each request by its path                  */
    SERVE_DROP,     /* close a connection as soon as a request arrives  */
} serve_mode;

typedef struct srv_conn {
    uv_pipe_t pipe;
    char buf[4096];
    size_t len;
} srv_conn;

static struct {
    uv_pipe_t listener;
    serve_mode mode;
    int accepts;
    int requests;
    srv_conn *last;   /* the most recent connection, for closing it */
    char path[108];
} srv;

static void srv_closed(uv_handle_t *h) { free(h->data); }

/* Everything still open at the end: the server's own connections. */
static void close_leftover(uv_handle_t *h, void *arg)
{
    if (!uv_is_closing(h))
        uv_close(h, h == (uv_handle_t *)&srv.listener ? NULL : srv_closed);
}

static void srv_close(srv_conn *c)
{
    if (srv.last == c)
        srv.last = NULL;
    if (!uv_is_closing((uv_handle_t *)&c->pipe))
        uv_close((uv_handle_t *)&c->pipe, srv_closed);
}

static void srv_write_done(uv_write_t *w, int status)
{
    free(w);
}

static void srv_send(srv_conn *c, const char *text)
{
    uv_write_t *w = malloc(sizeof *w + strlen(text));
    char *copy = (char *)(w + 1);
    memcpy(copy, text, strlen(text));
    uv_buf_t b = uv_buf_init(copy, (unsigned)strlen(text));
    uv_write(w, (uv_stream_t *)&c->pipe, &b, 1, srv_write_done);
}

static void srv_answer(srv_conn *c, const char *request)
{
    srv.requests++;
    if (srv.mode == SERVE_DROP) {
        srv_close(c);
        return;
    }
    if (strstr(request, "GET /length "))
        srv_send(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    "Content-Length: 8\r\n\r\n{\"a\": 1}");
    else if (strstr(request, "GET /chunked "))
        srv_send(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "4\r\n{\"b\"\r\n4\r\n: 2}\r\n0\r\n\r\n");
    else if (strstr(request, "GET /close ")) {
        srv_send(c, "HTTP/1.1 200 OK\r\nConnection: close\r\n"
                    "Content-Length: 8\r\n\r\n{\"c\": 3}");
        srv_close(c);
    } else if (strstr(request, "GET /list%3F?all=1&filters=%7B%22label%22%3A%5B%22x%22%5D%7D "))
        srv_send(c, "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n{\"q\": 4}");
    else if (strstr(request, "GET /missing "))
        srv_send(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}");
    /* anything else (/never): no answer */
}

static void srv_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    srv_conn *c = h->data;
    *buf = uv_buf_init(c->buf + c->len, (unsigned)(sizeof c->buf - c->len - 1));
}

static void srv_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    srv_conn *c = s->data;
    if (n < 0) {
        srv_close(c);
        return;
    }
    c->len += (size_t)n;
    c->buf[c->len] = '\0';
    char *end;
    while ((end = strstr(c->buf, "\r\n\r\n"))) {
        size_t used = (size_t)(end + 4 - c->buf);
        char req[4096];
        memcpy(req, c->buf, used);
        req[used] = '\0';
        memmove(c->buf, c->buf + used, c->len - used + 1);
        c->len -= used;
        srv_answer(c, req);
        if (uv_is_closing((uv_handle_t *)&c->pipe))
            return;
    }
}

static void srv_on_connection(uv_stream_t *l, int status)
{
    srv_conn *c = calloc(1, sizeof *c);
    uv_pipe_init(l->loop, &c->pipe, 0);
    c->pipe.data = c;
    uv_accept(l, (uv_stream_t *)&c->pipe);
    uv_read_start((uv_stream_t *)&c->pipe, srv_alloc, srv_read);
    srv.accepts++;
    srv.last = c;
}

static uv_loop_t loop;

static void srv_start(void)
{
    snprintf(srv.path, sizeof srv.path, "/tmp/sg-unit-engine.%d.sock", (int)getpid());
    unlink(srv.path);
    uv_pipe_init(&loop, &srv.listener, 0);
    CHECK_INT(uv_pipe_bind(&srv.listener, srv.path), 0);
    CHECK_INT(uv_listen((uv_stream_t *)&srv.listener, 16, srv_on_connection), 0);
}

/* ---- look-ups ------------------------------------------------------------ */

typedef struct {
    int calls;
    int status;
    json_t *body;
} answer;

static void on_answer(void *arg, int status, json_t *body)
{
    answer *a = arg;
    a->calls++;
    a->status = status;
    json_decref(a->body);
    a->body = body;
}

/* Run the loop until a has its answer (or nothing is left to run). */
static void wait_for(answer *a)
{
    while (a->calls == 0 && uv_run(&loop, UV_RUN_ONCE))
        ;
}

/* Let pending reads and closes happen. */
static void settle(void)
{
    for (int i = 0; i < 20; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
}

static answer get(sg_engine *e, const char *path)
{
    answer a = {0};
    CHECK(sg_engine_get(e, path, on_answer, &a) != NULL);
    wait_for(&a);
    return a;
}

static int json_int(const json_t *o, const char *key)
{
    return (int)json_integer_value(json_object_get(o, key));
}

TEST(framings_and_reuse)
{
    sg_engine *e = sg_engine_socket_new(&loop, srv.path);
    srv.mode = SERVE_ANSWER;
    int accepts = srv.accepts;
    answer a = get(e, "/length");
    CHECK_INT(a.status, 200);
    CHECK_INT(json_int(a.body, "a"), 1);
    answer b = get(e, "/chunked");
    CHECK_INT(b.status, 200);
    CHECK_INT(json_int(b.body, "b"), 2);
    answer c = get(e, "/missing");
    CHECK_INT(c.status, 404);
    /* three look-ups, one connection */
    CHECK_INT(srv.accepts - accepts, 1);
    CHECK_INT(a.calls + b.calls + c.calls, 3);
    json_decref(a.body);
    json_decref(b.body);
    json_decref(c.body);
    sg_engine_socket_free(e);
    settle();
}

TEST(no_reuse_after_connection_close)
{
    sg_engine *e = sg_engine_socket_new(&loop, srv.path);
    srv.mode = SERVE_ANSWER;
    int accepts = srv.accepts;
    answer a = get(e, "/close");
    CHECK_INT(a.status, 200);
    CHECK_INT(json_int(a.body, "c"), 3);
    settle();
    answer b = get(e, "/length");
    CHECK_INT(b.status, 200);
    CHECK_INT(srv.accepts - accepts, 2);
    json_decref(a.body);
    json_decref(b.body);
    sg_engine_socket_free(e);
    settle();
}

TEST(kept_connection_closed_by_the_server)
{
    sg_engine *e = sg_engine_socket_new(&loop, srv.path);
    srv.mode = SERVE_ANSWER;
    int accepts = srv.accepts;
    answer a = get(e, "/length");
    CHECK_INT(a.status, 200);
    /* the server closes the idle connection; the client notices and drops it */
    CHECK(srv.last != NULL);
    if (srv.last)
        srv_close(srv.last);
    settle();
    answer b = get(e, "/length");
    CHECK_INT(b.status, 200);
    CHECK_INT(b.calls, 1);
    CHECK_INT(srv.accepts - accepts, 2);
    json_decref(a.body);
    json_decref(b.body);
    sg_engine_socket_free(e);
    settle();
}

TEST(kept_connection_dropped_as_the_request_arrives)
{
    sg_engine *e = sg_engine_socket_new(&loop, srv.path);
    srv.mode = SERVE_ANSWER;
    int accepts = srv.accepts, requests = srv.requests;
    answer a = get(e, "/length");
    CHECK_INT(a.status, 200);
    /* the next request finds its kept connection closed without an answer:
     * sent again once, on a fresh connection (which is dropped too) */
    srv.mode = SERVE_DROP;
    answer b = get(e, "/length");
    CHECK_INT(b.calls, 1);
    CHECK(b.status < 0);
    CHECK_INT(srv.requests - requests, 3);   /* the first, then two tries */
    CHECK_INT(srv.accepts - accepts, 2);
    /* a fresh connection dropped is not retried */
    srv.mode = SERVE_DROP;
    requests = srv.requests;
    answer c = get(e, "/length");
    CHECK(c.status < 0);
    CHECK_INT(srv.requests - requests, 1);
    json_decref(a.body);
    sg_engine_socket_free(e);
    settle();
}

TEST(cancel_means_no_callback_and_no_reuse)
{
    sg_engine *e = sg_engine_socket_new(&loop, srv.path);
    srv.mode = SERVE_ANSWER;
    int accepts = srv.accepts;
    answer a = {0};
    sg_engine_req *r = sg_engine_get(e, "/never", on_answer, &a);
    CHECK(r != NULL);
    settle(); /* connected and sent; no answer comes */
    sg_engine_cancel(e, r);
    settle();
    CHECK_INT(a.calls, 0);
    /* the cancelled connection had an answer owing: it is not reused */
    answer b = get(e, "/length");
    CHECK_INT(b.status, 200);
    CHECK_INT(srv.accepts - accepts, 2);
    json_decref(b.body);
    sg_engine_socket_free(e);
    settle();
}

TEST(a_query_goes_as_it_is_encoded)
{
    sg_engine *e = sg_engine_socket_new(&loop, srv.path);
    srv.mode = SERVE_ANSWER;
    answer a = {0};
    /* the path is encoded ('?' in a name stays in the path); the query not */
    CHECK(sg_engine_socket_get_query(e, "/list?", "all=1&filters=%7B%22label%22%3A%5B%22x%22%5D%7D",
                                     on_answer, &a) != NULL);
    wait_for(&a);
    CHECK_INT(a.status, 200);
    CHECK_INT(json_int(a.body, "q"), 4);
    json_decref(a.body);
    /* nothing that could end the request line or the target */
    int requests = srv.requests;
    const char *bad[] = {"a=b c", "a=b\r\nX: y", "a=%zz", "a=%4", "a#b", "a=\"b\""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(sg_engine_socket_get_query(e, "/length", bad[i], on_answer, &a) == NULL);
    settle();
    CHECK_INT(srv.requests, requests);
    sg_engine_socket_free(e);
    settle();
}

TEST(nothing_listening)
{
    sg_engine *e = sg_engine_socket_new(&loop, "/nonexistent/sg-unit.sock");
    answer a = get(e, "/length");
    CHECK_INT(a.calls, 1);
    CHECK(a.status < 0);
    sg_engine_socket_free(e);
    settle();
}

int main(void)
{
    uv_loop_init(&loop);
    srv_start();
    RUN(framings_and_reuse);
    RUN(no_reuse_after_connection_close);
    RUN(kept_connection_closed_by_the_server);
    RUN(kept_connection_dropped_as_the_request_arrives);
    RUN(cancel_means_no_callback_and_no_reuse);
    RUN(a_query_goes_as_it_is_encoded);
    RUN(nothing_listening);
    uv_walk(&loop, close_leftover, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    unlink(srv.path);
    uv_loop_close(&loop);
    return UNIT_DONE();
}
