/*
 * conn.c — one client connection: accept → parse → route → decide →
 * forward/stream, one exchange at a time.
 *
 * The connection is a small state machine (sg_conn_state in gate.h) driven
 * by sg_conn_process(), which runs after every event (client bytes, dockerd
 * bytes, a write completing) and advances as far as the buffered bytes
 * allow. Requests on a keep-alive or pipelined connection are handled
 * strictly in order: the next head is not even parsed until the previous
 * response is complete, so every request reaches the decision point and
 * none can ride in the body or the tail of another.
 *
 * Reading is switched on and off by sg_conn_update_flow() alone, from the
 * state and both write queues: that single function is the backpressure.
 */
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "gate/gate.h"

/* ---- lifetime ---------------------------------------------------------- */

static void exchange_free(sg_exchange *ex)
{
    if (!ex)
        return;
    free(ex->target);
    free(ex->head);
    free(ex->match);
    sg_settings_unref(ex->policy);
    sg_iobuf_free(&ex->inspect);
    free(ex);
}

static void conn_on_closed(uv_handle_t *h)
{
    sg_conn *c = h->data;
    if (--c->open_handles > 0)
        return;
    sg_server *srv = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    srv->n_conns--;
    exchange_free(c->ex);
    sg_iobuf_free(&c->in);
    free(c->linger);
    free(c);
    sg_server_conn_closed(srv);
}

static void conn_close_handles(sg_conn *c)
{
    if (uv_is_closing((uv_handle_t *)&c->pipe))
        return;
    if (c->linger) {
        c->open_handles++;
        uv_close((uv_handle_t *)c->linger, conn_on_closed);
    }
    uv_close((uv_handle_t *)&c->pipe, conn_on_closed);
}

static void conn_detach_upstream(sg_conn *c, bool reusable)
{
    sg_upstream *up = c->up;
    if (!up)
        return;
    c->up = NULL;
    if (!up->connected)
        sg_upstream_abandon(up);
    else
        sg_upstream_release(up, reusable);
}

void sg_conn_abort(sg_conn *c, const char *why)
{
    if (c->closing)
        return;
    sg_debug("conn %llu: closing: %s", (unsigned long long)c->id, why);
    c->closing = true;
    conn_detach_upstream(c, false);
    conn_close_handles(c);
}

/*
 * Lingering close. Closing a socket while unread client bytes sit in its
 * receive queue makes the kernel reset the connection, and the reset can
 * destroy the error answer we just wrote before the client reads it (a
 * 431 for an oversized head is the classic case). So after our write side
 * is shut down, read and discard for a short while, then close.
 */
#define CONN_LINGER_MS 2000
#define CONN_LINGER_MAX_BYTES (1024 * 1024)

static void conn_linger_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    static char sink[SG_READ_CHUNK]; /* discarded bytes: contents never read */
    *buf = uv_buf_init(sink, sizeof sink);
}

static void conn_linger_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    sg_conn *c = s->data;
    if (nread > 0)
        c->linger_discarded += (size_t)nread;
    if (nread < 0 || c->linger_discarded > CONN_LINGER_MAX_BYTES)
        conn_close_handles(c);
}

static void conn_linger_timeout(uv_timer_t *t) { conn_close_handles(t->data); }

static void conn_linger(sg_conn *c)
{
    c->linger = malloc(sizeof *c->linger);
    if (!c->client_eof && c->linger && uv_timer_init(c->srv->loop, c->linger) == 0) {
        c->linger->data = c;
        uv_timer_start(c->linger, conn_linger_timeout, CONN_LINGER_MS, 0);
        if (uv_read_start((uv_stream_t *)&c->pipe, conn_linger_alloc,
                          conn_linger_read) == 0)
            return;
    } else {
        free(c->linger);
        c->linger = NULL;
    }
    conn_close_handles(c);
}

static void conn_on_shutdown(uv_shutdown_t *req, int status)
{
    sg_conn *c = req->data;
    free(req);
    if (status < 0 || uv_is_closing((uv_handle_t *)&c->pipe))
        conn_close_handles(c);
    else
        conn_linger(c);
}

/* Close after everything queued for the client has been written. */
void sg_conn_close_gracefully(sg_conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    conn_detach_upstream(c, false);
    if (c->reading) {
        uv_read_stop((uv_stream_t *)&c->pipe);
        c->reading = false;
    }
    uv_shutdown_t *req = malloc(sizeof *req);
    if (req) {
        req->data = c;
        if (uv_shutdown(req, (uv_stream_t *)&c->pipe, conn_on_shutdown) == 0)
            return;
        free(req);
    }
    conn_close_handles(c);
}

/* Server is shutting down: idle connections go now, busy ones after their
 * current exchange (see conn_finish_exchange). */
void sg_conn_drain(sg_conn *c)
{
    if (c->state == CONN_READ_HEAD && !c->ex && c->in.len == 0)
        sg_conn_close_gracefully(c);
}

/* ---- flow control ------------------------------------------------------ */

static void conn_on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf);
static void conn_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static bool conn_wants_client_bytes(const sg_conn *c)
{
    if (c->closing || c->client_eof || c->state == CONN_CONNECTING)
        return false;
    if (c->in.len >= SG_IN_LIMIT)
        return false;
    bool body_pending = c->ex && !c->ex->req_done;
    if (c->state == CONN_RELAY || (c->state == CONN_EXCHANGE && body_pending))
        return c->up && sg_stream_queued((uv_stream_t *)&c->up->pipe) < SG_WRITE_HIGH;
    return true;
}

static void conn_set_reading(sg_conn *c, bool on)
{
    if (c->reading == on)
        return;
    if (on) {
        if (uv_read_start((uv_stream_t *)&c->pipe, conn_on_alloc, conn_on_read) != 0)
            return;
    } else {
        uv_read_stop((uv_stream_t *)&c->pipe);
    }
    c->reading = on;
}

void sg_conn_update_flow(sg_conn *c)
{
    if (c->closing)
        return;
    conn_set_reading(c, conn_wants_client_bytes(c));
    if (c->up && c->up->connected) {
        bool want = (c->state == CONN_EXCHANGE || c->state == CONN_RELAY) &&
                    c->up->in.len < SG_IN_LIMIT &&
                    sg_stream_queued((uv_stream_t *)&c->pipe) < SG_WRITE_HIGH;
        sg_upstream_set_reading(c->up, want);
    }
}

static void conn_on_client_written(uv_stream_t *s, int status)
{
    sg_conn *c = s->data;
    if (status < 0)
        sg_conn_abort(c, "client write failed");
    else
        sg_conn_process(c);
}

static int conn_write_client(sg_conn *c, const char *data, size_t len)
{
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    if (c->ex)
        c->ex->resp_started = true;
    return sg_stream_write((uv_stream_t *)&c->pipe, &b, 1, conn_on_client_written);
}

/* ---- reading from the client ------------------------------------------- */

static void conn_on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    sg_conn *c = h->data;
    size_t avail;
    char *p = sg_iobuf_reserve(&c->in, SG_READ_CHUNK, SG_IN_LIMIT, &avail);
    *buf = uv_buf_init(p, (unsigned)avail);
}

static void conn_on_client_eof(sg_conn *c)
{
    bool gone = sg_stream_peer_gone((uv_stream_t *)&c->pipe);
    c->client_eof = true;
    conn_set_reading(c, false);
    if (c->state == CONN_RELAY) {
        sg_relay_on_client_eof(c, gone);
        return;
    }
    if (!c->ex) {
        /* Between requests (a partial head counts as nothing): done. */
        sg_conn_close_gracefully(c);
        return;
    }
    if (gone || !c->ex->req_done) {
        /* Nobody is left to read the answer, or the body was cut short. */
        sg_conn_abort(c, gone ? "client went away" : "client closed mid-body");
        return;
    }
    /* Half-close after a complete request: answer it, then close. */
    c->close_after = true;
}

static void conn_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    sg_conn *c = s->data;
    if (nread > 0) {
        c->in.len += (size_t)nread;
        sg_conn_process(c);
    } else if (nread == UV_EOF) {
        conn_on_client_eof(c);
        if (!c->closing)
            sg_conn_process(c);
    } else if (nread == UV_ENOBUFS) {
        conn_set_reading(c, false);
    } else if (nread < 0) {
        sg_conn_abort(c, "client read error");
    }
}

/* ---- starting an exchange ---------------------------------------------- */

static void conn_log_request(const sg_conn *c, const sg_verdict *v)
{
    if (v->kind != SG_VERDICT_DENY)
        return;
    json_t *f = json_pack("{s:I,s:s,s:s,s:s,s:i}", "conn", (json_int_t)c->id,
                          "socket", sg_socket_kind_name(c->kind), "target",
                          c->ex->target, "rule", v->rule ? v->rule : "",
                          "status", v->status);
    sg_log_event(SG_LOG_INFO, "request denied", f);
}

static sg_exchange *exchange_new(const http_request *req)
{
    sg_exchange *ex = calloc(1, sizeof *ex);
    if (!ex)
        return NULL;
    ex->target = strndup(req->target, req->target_len);
    if (!ex->target) {
        free(ex);
        return NULL;
    }
    ex->method = req->method;
    ex->http10 = req->version_minor == 0;
    ex->client_keep_alive = req->keep_alive;
    ex->req_body = req->body;
    ex->req_remaining = req->body == HTTP_BODY_LENGTH ? req->content_length : 0;
    ex->req_done = req->body == HTTP_BODY_NONE ||
                   (req->body == HTTP_BODY_LENGTH && req->content_length == 0);
    http_chunked_init(&ex->req_chunked);
    http_chunked_init(&ex->resp_chunked);
    const http_header *up = http_find_header(req->headers, req->n_headers, "upgrade");
    if (req->upgrade && up && up->value_len < sizeof ex->upgrade_proto) {
        ex->upgrade = true;
        memcpy(ex->upgrade_proto, up->value, up->value_len);
    }
    return ex;
}

/* A request that fails before it reaches dockerd: answer and maybe close.
 * The connection stays usable only if no body bytes are left unread. */
static void conn_refuse(sg_conn *c, int status, const char *message)
{
    bool close = !c->ex || !c->ex->req_done || !c->ex->client_keep_alive ||
                 c->client_eof || c->srv->draining;
    conn_detach_upstream(c, false);
    sg_reply_error(c, status, close, "%s", message);
    if (!close) {
        exchange_free(c->ex);
        c->ex = NULL;
        c->state = CONN_READ_HEAD;
    }
}

static void conn_reply_redirect(sg_conn *c, const router_match *m)
{
    size_t len = strlen(m->clean_path);
    size_t room = len * 3 + 2 + (m->query ? m->query_len + 1 : 0);
    char *loc = malloc(room);
    if (!loc) {
        sg_conn_abort(c, "out of memory");
        return;
    }
    size_t n = router_encode_path(m->clean_path, len, loc, room);
    if (m->query) {
        loc[n++] = '?';
        memcpy(loc + n, m->query, m->query_len);
        n += m->query_len;
    }
    loc[n] = '\0';
    bool close = !c->ex->req_done || !c->ex->client_keep_alive;
    sg_reply_redirect(c, loc, close);
    free(loc);
    if (!close) {
        exchange_free(c->ex);
        c->ex = NULL;
    }
}

/* Parse a head from c->in, route and decide it. Returns true if the
 * connection moved on and processing should continue. */
static bool conn_read_head(sg_conn *c)
{
    if (c->in.len == 0)
        return false;
    http_request req;
    http_error err;
    http_parse_status st = http_parse_request(c->in.data, c->in.len, &req, &err);
    if (st == HTTP_PARSE_INCOMPLETE) {
        if (c->in.len >= SG_IN_LIMIT)
            sg_reply_error(c, 431, true, "request header section too large");
        return false;
    }
    if (st == HTTP_PARSE_ERROR) {
        sg_reply_error(c, err.status, true, "malformed request: %s", err.message);
        return false;
    }
    c->ex = exchange_new(&req);
    if (!c->ex) {
        sg_conn_abort(c, "out of memory");
        return false;
    }
    /* router_match is large (it holds the decoded path): keep it off the
     * connection, it is only needed until the head is rebuilt. */
    router_match *m = malloc(sizeof *m);
    if (!m) {
        sg_conn_abort(c, "out of memory");
        return false;
    }
    router_status rs = router_route(req.method, req.target, req.target_len, m);
    c->ex->route = rs == ROUTER_MATCH ? m->route : ROUTE_NONE;
    if (rs == ROUTER_MATCH || rs == ROUTER_UNKNOWN)
        return sg_conn_begin(c, &req, m, rs); /* takes m */
    bool more = false;
    if (rs == ROUTER_BAD) {
        sg_iobuf_consume(&c->in, req.head_len);
        c->ex->req_done = false; /* force close: we do not know the body */
        conn_refuse(c, 400, m->error ? m->error : "malformed request target");
    } else if (rs == ROUTER_REDIRECT) {
        sg_iobuf_consume(&c->in, req.head_len);
        conn_reply_redirect(c, m);
        more = !c->closing;
        if (more)
            c->state = CONN_READ_HEAD;
    }
    free(m);
    return more;
}

static bool conn_refused(sg_conn *c) { return c->closing || !c->ex; }

/* Decide a routed request; takes ownership of m. */
bool sg_conn_begin(sg_conn *c, const http_request *req, router_match *m,
                   router_status rs)
{
    sg_exchange *ex = c->ex;
    ex->policy = sg_settings_ref(c->srv->policy);
    sg_request_ctx ctx = {.socket = c->kind, .method = req->method,
                          .target = ex->target, .route_status = rs, .match = m};
    sg_verdict v;
    sg_decide_request(ex->policy, &ctx, &v);
    if (v.kind != SG_VERDICT_DENY) {
        bool inspect = v.kind == SG_VERDICT_INSPECT_BODY;
        ex->head = sg_forward_head(req, m, inspect, &ex->head_len);
        if (inspect) {
            ex->match = m;
            m = NULL;
        }
    }
    free(m);
    /* The parsed head points into c->in: nothing may use req after this. */
    sg_iobuf_consume(&c->in, req->head_len);
    if (v.kind == SG_VERDICT_DENY) {
        conn_log_request(c, &v);
        conn_refuse(c, v.status, v.message);
        return !conn_refused(c);
    }
    if (!ex->head) {
        sg_conn_abort(c, "out of memory");
        return false;
    }
    if (v.kind == SG_VERDICT_INSPECT_BODY) {
        if (ex->req_body == HTTP_BODY_LENGTH && ex->req_remaining > SG_MAX_INSPECT_BODY) {
            conn_refuse(c, 413, "request body too large to inspect");
            return false;
        }
        if (req->expect_continue) /* we read the body before dockerd does */
            conn_write_client(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
        c->state = CONN_INSPECT_BODY;
        return true;
    }
    c->state = CONN_CONNECTING;
    sg_upstream_acquire(c->srv, c);
    return true;
}

/* Move body bytes from c->in into ex->inspect, decoding chunked framing.
 * Returns false on a framing error (already answered). */
static bool conn_buffer_body(sg_conn *c)
{
    sg_exchange *ex = c->ex;
    while (!ex->req_done && c->in.len > 0) {
        size_t used = 0;
        if (ex->req_body == HTTP_BODY_LENGTH) {
            used = c->in.len < ex->req_remaining ? c->in.len : (size_t)ex->req_remaining;
            sg_iobuf_append(&ex->inspect, c->in.data, used);
            ex->req_remaining -= used;
            ex->req_done = ex->req_remaining == 0;
        } else {
            const char *data;
            size_t dlen = 0;
            http_chunk_status st = http_chunked_step(&ex->req_chunked, c->in.data,
                                                     c->in.len, &used, &data, &dlen);
            if (st == HTTP_CHUNK_ERROR) {
                conn_refuse(c, 400, "malformed request: bad chunked body");
                return false;
            }
            if (st == HTTP_CHUNK_DATA)
                sg_iobuf_append(&ex->inspect, data, dlen);
            ex->req_done = st == HTTP_CHUNK_DONE;
        }
        sg_iobuf_consume(&c->in, used);
        if (ex->inspect.len > SG_MAX_INSPECT_BODY) {
            conn_refuse(c, 413, "request body too large to inspect");
            return false;
        }
    }
    return true;
}

static bool conn_inspect_body(sg_conn *c)
{
    sg_exchange *ex = c->ex;
    if (!conn_buffer_body(c) || !ex->req_done)
        return false;
    sg_request_ctx ctx = {.socket = c->kind, .method = ex->method,
                          .target = ex->target, .route_status = ROUTER_MATCH,
                          .match = ex->match};
    sg_verdict v;
    char *replacement = NULL;
    size_t replacement_len = 0;
    sg_decide_body(ex->policy, &ctx, ex->inspect.data ? ex->inspect.data : "",
                   ex->inspect.len, &v, &replacement, &replacement_len);
    free(ex->match);
    ex->match = NULL;
    if (v.kind == SG_VERDICT_DENY) {
        free(replacement);
        conn_log_request(c, &v);
        conn_refuse(c, v.status, v.message);
        return !conn_refused(c);
    }
    if (replacement) {
        sg_iobuf_free(&ex->inspect);
        ex->inspect.data = replacement;
        ex->inspect.len = ex->inspect.cap = replacement_len;
    }
    ex->inspected = true;
    c->state = CONN_CONNECTING;
    sg_upstream_acquire(c->srv, c);
    return true;
}

/* ---- the upstream side ------------------------------------------------- */

static bool conn_can_retry(const sg_conn *c);
static void conn_retry(sg_conn *c);

void sg_conn_on_upstream_ready(sg_conn *c, int status)
{
    if (c->closing)
        return;
    sg_exchange *ex = c->ex;
    if (status != 0) {
        sg_warn("cannot reach the Docker Engine at %s: %s", c->srv->cfg.engine_path,
                uv_strerror(status));
        char msg[512];
        snprintf(msg, sizeof msg, "sockgate: cannot reach the Docker Engine at %s: %s",
                 c->srv->cfg.engine_path, uv_strerror(status));
        conn_refuse(c, 502, msg);
        if (!c->closing)
            sg_conn_process(c);
        return;
    }
    c->state = CONN_EXCHANGE;
    int rc;
    if (ex->inspected) {
        rc = sg_forward_send_head(c, HTTP_BODY_LENGTH, ex->inspect.len);
        if (rc == 0 && ex->inspect.len)
            rc = sg_forward_bytes((uv_stream_t *)&c->up->pipe, ex->inspect.data,
                                  ex->inspect.len);
    } else {
        rc = sg_forward_send_head(c, ex->req_body, ex->req_remaining);
    }
    /* The head (and an inspected body) are kept until dockerd starts to
     * answer, in case a pooled connection turns out to be closed. */
    if (rc < 0) {
        sg_conn_abort(c, "engine write failed");
        return;
    }
    sg_conn_process(c);
}

void sg_conn_on_upstream_read(sg_conn *c) { sg_conn_process(c); }

void sg_conn_on_upstream_error(sg_conn *c, int status)
{
    sg_debug("conn %llu: engine connection error: %s", (unsigned long long)c->id,
             uv_strerror(status));
    if (c->ex && c->state == CONN_EXCHANGE && !c->ex->resp_started &&
        conn_can_retry(c)) {
        conn_retry(c);
        return;
    }
    if (c->ex && !c->ex->resp_started && c->state == CONN_EXCHANGE) {
        c->ex->req_done = false; /* the body may be half sent: close after */
        conn_refuse(c, 502, "sockgate: the Docker Engine connection failed");
        return;
    }
    sg_conn_abort(c, "engine connection error");
}

void sg_conn_on_upstream_eof(sg_conn *c)
{
    if (c->state == CONN_RELAY) {
        sg_relay_on_upstream_eof(c);
        return;
    }
    sg_conn_process(c); /* consumes what is buffered, then sees the EOF */
}

/* Forward request body bytes from c->in to dockerd, re-framed. */
static bool conn_pump_request_body(sg_conn *c)
{
    sg_exchange *ex = c->ex;
    uv_stream_t *up = (uv_stream_t *)&c->up->pipe;
    while (!ex->req_done && c->in.len > 0 && sg_stream_queued(up) < SG_WRITE_HIGH) {
        size_t used = 0;
        int rc = 0;
        if (ex->req_body == HTTP_BODY_LENGTH) {
            used = c->in.len < ex->req_remaining ? c->in.len : (size_t)ex->req_remaining;
            rc = sg_forward_bytes(up, c->in.data, used);
            ex->req_sent_body = ex->req_sent_body || used > 0;
            ex->req_remaining -= used;
            ex->req_done = ex->req_remaining == 0;
        } else {
            const char *data;
            size_t dlen = 0;
            http_chunk_status st = http_chunked_step(&ex->req_chunked, c->in.data,
                                                     c->in.len, &used, &data, &dlen);
            if (st == HTTP_CHUNK_ERROR) {
                if (ex->resp_started)
                    sg_conn_abort(c, "bad chunked body");
                else
                    conn_refuse(c, 400, "malformed request: bad chunked body");
                return false;
            }
            if (st == HTTP_CHUNK_DATA && dlen > 0)
                rc = sg_forward_chunk(up, data, dlen);
            else if (st == HTTP_CHUNK_DONE) {
                rc = sg_forward_last_chunk(up);
                ex->req_done = true;
            }
        }
        sg_iobuf_consume(&c->in, used);
        if (rc < 0) {
            sg_conn_abort(c, "engine write failed");
            return false;
        }
    }
    return true;
}

/* Is this a response after which the connection carries raw streams?
 * dockerd confirms a hijack with 101, or (attach without Upgrade, and
 * older clients) with 200 and a docker raw-stream media type. */
static bool response_switches(const sg_exchange *ex, const http_response *r)
{
    if (r->status == 101)
        return ex->upgrade;
    return r->status == 200 && r->raw_stream &&
           (ex->upgrade || ex->route == ROUTE_CONTAINER_ATTACH ||
            ex->route == ROUTE_EXEC_START);
}

/*
 * A pooled connection can be closed by dockerd just as a request is sent
 * on it. If nothing of the answer arrived and the whole request is still
 * at hand (no streamed body), send it again once on a fresh connection.
 */
static bool conn_can_retry(const sg_conn *c)
{
    const sg_exchange *ex = c->ex;
    return c->up->reused && ex->head && !ex->resp_head_done &&
           c->up->in.len == 0 &&
           (ex->inspected || ex->req_body == HTTP_BODY_NONE ||
            (ex->req_body == HTTP_BODY_LENGTH && ex->req_done &&
             ex->req_remaining == 0 && c->in.len == 0 && !ex->req_sent_body));
}

static void conn_retry(sg_conn *c)
{
    sg_debug("conn %llu: pooled engine connection was closed, retrying",
             (unsigned long long)c->id);
    conn_detach_upstream(c, false);
    c->state = CONN_CONNECTING;
    sg_upstream_acquire(c->srv, c);
}

/* The answer has begun: the retry copies are no longer needed. */
static void conn_drop_retry_copies(sg_exchange *ex)
{
    free(ex->head);
    ex->head = NULL;
    sg_iobuf_free(&ex->inspect);
}

/* Parse dockerd's response head in c->up->in and pass it on. */
static bool conn_response_head(sg_conn *c)
{
    sg_exchange *ex = c->ex;
    sg_upstream *up = c->up;
    http_response r;
    http_error err;
    http_parse_status st = http_parse_response(up->in.data, up->in.len, ex->method,
                                               &r, &err);
    if (st == HTTP_PARSE_INCOMPLETE) {
        if (up->in.len >= SG_IN_LIMIT) {
            sg_error("engine sent an oversized response head");
            conn_refuse(c, 502, "sockgate: invalid response from the Docker Engine");
        }
        return false;
    }
    if (st == HTTP_PARSE_ERROR) {
        sg_error("engine sent a malformed response: %s", err.message);
        conn_refuse(c, 502, "sockgate: invalid response from the Docker Engine");
        return false;
    }
    conn_drop_retry_copies(ex);
    if (conn_write_client(c, up->in.data, r.head_len) < 0) {
        sg_conn_abort(c, "client write failed");
        return false;
    }
    sg_iobuf_consume(&up->in, r.head_len);
    if (r.status >= 100 && r.status < 200 && r.status != 101)
        return true; /* interim (100 Continue): the final head follows */
    if (response_switches(ex, &r)) {
        sg_relay_start(c);
        return false;
    }
    if (r.status == 101) {
        sg_conn_abort(c, "engine switched protocols unasked");
        return false;
    }
    ex->status = r.status;
    ex->resp_head_done = true;
    ex->resp_body = r.body;
    ex->resp_remaining = r.content_length;
    ex->resp_keep_alive = r.keep_alive;
    ex->resp_done = r.body == HTTP_BODY_NONE ||
                    (r.body == HTTP_BODY_LENGTH && r.content_length == 0);
    return true;
}

/* Pass response body bytes through, tracking where the body ends. dockerd
 * is the trusted side: its framing is checked, its bytes are relayed. */
static bool conn_response_body(sg_conn *c)
{
    sg_exchange *ex = c->ex;
    sg_iobuf *in = &c->up->in;
    size_t used = 0;
    if (ex->resp_body == HTTP_BODY_LENGTH) {
        used = in->len < ex->resp_remaining ? in->len : (size_t)ex->resp_remaining;
        ex->resp_remaining -= used;
        ex->resp_done = ex->resp_remaining == 0;
    } else if (ex->resp_body == HTTP_BODY_CHUNKED) {
        while (used < in->len && !ex->resp_done) {
            size_t n = 0, dlen;
            const char *data;
            http_chunk_status st = http_chunked_step(&ex->resp_chunked, in->data + used,
                                                     in->len - used, &n, &data, &dlen);
            used += n;
            if (st == HTTP_CHUNK_ERROR) {
                sg_conn_abort(c, "engine sent a malformed chunked body");
                return false;
            }
            ex->resp_done = st == HTTP_CHUNK_DONE;
            if (st == HTTP_CHUNK_NEED_MORE)
                break;
        }
    } else {
        used = in->len; /* until dockerd closes */
    }
    if (used && conn_write_client(c, in->data, used) < 0) {
        sg_conn_abort(c, "client write failed");
        return false;
    }
    sg_iobuf_consume(in, used);
    return true;
}

static void conn_pump_response(sg_conn *c)
{
    sg_exchange *ex = c->ex;
    while (!c->closing && c->state == CONN_EXCHANGE && !ex->resp_done &&
           c->up->in.len > 0 &&
           sg_stream_queued((uv_stream_t *)&c->pipe) < SG_WRITE_HIGH) {
        bool ok = ex->resp_head_done ? conn_response_body(c) : conn_response_head(c);
        if (!ok)
            return;
    }
    if (c->closing || c->state != CONN_EXCHANGE || ex->resp_done || !c->up->eof ||
        c->up->in.len > 0)
        return;
    /* dockerd closed and everything it sent has been passed on. */
    if (ex->resp_head_done && ex->resp_body == HTTP_BODY_EOF) {
        ex->resp_done = true;
        ex->resp_keep_alive = false;
    } else if (!ex->resp_started && conn_can_retry(c)) {
        conn_retry(c);
    } else if (!ex->resp_started) {
        ex->req_done = ex->req_done && ex->req_body == HTTP_BODY_NONE;
        conn_refuse(c, 502, "sockgate: the Docker Engine closed the connection");
    } else {
        sg_conn_abort(c, "engine closed mid-response");
    }
}

static void conn_log_exchange(const sg_conn *c)
{
    sg_debug("conn %llu: %s -> %d", (unsigned long long)c->id, c->ex->target,
             c->ex->status);
}

/* Both halves of the exchange are complete: hand back the upstream and
 * either wait for the next request or close. */
static void conn_finish_exchange(sg_conn *c)
{
    sg_exchange *ex = c->ex;
    conn_log_exchange(c);
    bool reusable = ex->resp_keep_alive && !ex->http10 && ex->req_done;
    conn_detach_upstream(c, reusable);
    bool close = c->close_after || !ex->client_keep_alive || c->client_eof ||
                 c->srv->draining || !ex->req_done;
    exchange_free(ex);
    c->ex = NULL;
    c->state = CONN_READ_HEAD;
    if (close)
        sg_conn_close_gracefully(c);
}

static bool conn_exchange_step(sg_conn *c)
{
    sg_exchange *ex = c->ex;
    if (!ex->req_done && !conn_pump_request_body(c))
        return false;
    if (c->closing)
        return false;
    conn_pump_response(c);
    if (c->closing || c->state != CONN_EXCHANGE)
        return false;
    if (ex->resp_done && !ex->req_done) {
        /* dockerd answered before reading the whole body: the rest of the
         * body can no longer be framed for it, so this connection ends. */
        c->close_after = true;
        ex->req_done = true;
        ex->resp_keep_alive = false;
    }
    if (ex->resp_done && sg_stream_queued((uv_stream_t *)&c->pipe) == 0) {
        conn_finish_exchange(c);
        return !c->closing;
    }
    if (ex->resp_done) {
        /* Wait for the client to take the last bytes before reusing the
         * upstream; keeps ordering simple and memory bounded. */
        return false;
    }
    return false;
}

/* Advance as far as the buffered bytes allow. Re-entrant calls (a callback
 * fired from inside) just ask the outer loop to go around once more. */
void sg_conn_process(sg_conn *c)
{
    if (c->in_process) {
        c->process_again = true;
        return;
    }
    c->in_process = true;
    do {
        c->process_again = false;
        bool more = true;
        while (more && !c->closing) {
            switch (c->state) {
            case CONN_READ_HEAD: more = conn_read_head(c); break;
            case CONN_INSPECT_BODY: more = conn_inspect_body(c); break;
            case CONN_CONNECTING: more = false; break;
            case CONN_EXCHANGE: more = conn_exchange_step(c); break;
            case CONN_RELAY: sg_relay_pump(c); more = false; break;
            }
        }
    } while (c->process_again && !c->closing);
    c->in_process = false;
    sg_conn_update_flow(c);
}

void sg_conn_accept(sg_listener *l)
{
    sg_server *srv = l->srv;
    sg_conn *c = calloc(1, sizeof *c);
    if (!c || uv_pipe_init(srv->loop, &c->pipe, 0) != 0) {
        free(c);
        sg_error("out of memory accepting a connection");
        return;
    }
    c->pipe.data = c;
    c->open_handles = 1;
    c->srv = srv;
    c->kind = l->kind;
    c->id = ++srv->next_conn_id;
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    srv->n_conns++;
    if (uv_accept((uv_stream_t *)&l->pipe, (uv_stream_t *)&c->pipe) != 0) {
        sg_conn_abort(c, "accept failed");
        return;
    }
    sg_conn_update_flow(c);
}
