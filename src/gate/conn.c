/*
 * conn.c — one client connection: its lifetime, reading, writing and
 * backpressure; the request path's stages (accept → parse → route →
 * decide → forward/stream) move it on, one exchange at a time.
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
 *
 * What each state does with the bytes is the request path's (dispatch.c,
 * exchange.c, relay.c, identify.c), reached through srv->stages only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/log.h"
#include "gate/gate.h"

/* ---- the request body ------------------------------------------------------ */

/*
 * The next piece of the request body in `in`, decoded from its framing:
 * data and len give body data (len may be 0), used the bytes of `in` taken.
 * Updates ex->req_remaining and ex->req_done. -1 on a chunked framing error.
 * Both the inspecting (dispatch.c) and the forwarding (exchange.c) paths
 * read bodies through this one function.
 */
int sg_request_body_next(sg_exchange *ex, const sg_iobuf *in, const char **data,
                         size_t *len, size_t *used)
{
    *data = in->data;
    *len = *used = 0;
    if (ex->req_body == HTTP_BODY_LENGTH) {
        *len = *used = in->len < ex->req_remaining ? in->len : (size_t)ex->req_remaining;
        ex->req_remaining -= *used;
        ex->req_done = ex->req_remaining == 0;
        return 0;
    }
    http_chunk_status st = http_chunked_step(&ex->req_chunked, in->data, in->len, used,
                                             data, len);
    if (st == HTTP_CHUNK_ERROR)
        return -1;
    if (st != HTTP_CHUNK_DATA)
        *len = 0;
    ex->req_done = st == HTTP_CHUNK_DONE;
    return 0;
}

/* ---- lifetime ---------------------------------------------------------- */

void sg_exchange_free(sg_exchange *ex)
{
    if (!ex)
        return;
    /* the target and the head share the exchange's block */
    free(ex->match);
    free(ex->head_heap);
    free(ex->pending);
    free(ex->content_type);
    sg_settings_unref(ex->policy);
    sg_iobuf_free(&ex->inspect);
    sg_budget_hold_release(&ex->hold);
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
    sg_bulk_forget(srv, &c->sndbuf);
    sg_conn_lanes_free(c);
    sg_exchange_free(c->ex);
    sg_iobuf_free(&c->in);
    sg_h2_inspect_free(c->h2);
    free(c->identity);
    free(c->linger);
    free(c);
    if (srv->conn_closed)
        srv->conn_closed(srv);
}

static void conn_close_handles(sg_conn *c)
{
    if (uv_is_closing((uv_handle_t *)&c->pipe))
        return;
    sg_io_watch_write(&c->srv->io, &c->watch, false);
    sg_io_watch_read(&c->srv->io, &c->watch, false);
    if (c->linger) {
        c->open_handles++;
        uv_close((uv_handle_t *)c->linger, conn_on_closed);
    }
    uv_close((uv_handle_t *)&c->pipe, conn_on_closed);
}

void sg_conn_detach_upstream(sg_conn *c, bool reusable)
{
    sg_upstream *up = c->up;
    if (!up)
        return;
    sg_conn_lanes_free(c); /* they splice to and from this upstream */
    c->up = NULL;
    if (!up->connected)
        sg_upstream_abandon(up);
    else
        sg_upstream_release(up, reusable);
}

static void conn_cancel_pending(sg_conn *c)
{
    c->srv->stages->cancel(c);
    if (c->decision) {
        sg_decision_cancel(c->decision);
        c->decision = NULL;
    }
}

void sg_conn_abort(sg_conn *c, const char *why)
{
    if (c->closing) {
        if (c->linger) /* the shutdown timeout cuts a lingering close short */
            conn_close_handles(c);
        return;
    }
    conn_cancel_pending(c);
    sg_debug("conn %llu: closing: %s", (unsigned long long)c->id, why);
    c->closing = true;
    sg_conn_detach_upstream(c, false);
    conn_close_handles(c);
}

/*
 * Lingering close. Closing a socket while unread client bytes sit in its
 * receive queue makes the kernel reset the connection, and the reset can
 * destroy the error answer we just wrote before the client reads it (a
 * 431 for an oversized head is the classic case). A client refused while
 * it still sends a body (`docker load` of a blocked image: megabytes)
 * needs the answer after its last write, or it reports only a broken pipe.
 * So after our write side is shut down, read and discard until the client
 * closes, goes quiet for CONN_LINGER_IDLE_MS, or CONN_LINGER_MAX_MS have
 * passed in all (nginx's lingering_timeout and lingering_time).
 */
#define CONN_LINGER_IDLE_MS 2000
#define CONN_LINGER_MAX_MS 30000

static void conn_linger_timeout(uv_timer_t *t) { conn_close_handles(t->data); }

/* libuv's clock, refreshed: the lingering close runs on the request path,
 * outside libuv's iteration (see base/ioloop.h). */
static uint64_t conn_clock_ms(sg_conn *c)
{
    uv_update_time(c->srv->loop);
    return uv_now(c->srv->loop);
}

/* Wait for more from the client: at most the idle time, and never past
 * the deadline. */
static void conn_linger_wait(sg_conn *c, uint64_t now)
{
    uint64_t left = c->linger_deadline > now ? c->linger_deadline - now : 0;
    uv_timer_start(c->linger, conn_linger_timeout,
                   left < CONN_LINGER_IDLE_MS ? left : CONN_LINGER_IDLE_MS, 0);
}

/* The client's bytes while lingering: read into the shared buffer (free
 * between read callbacks, see base/iobuf.h) and dropped. */
static void conn_linger_read(sg_conn *c)
{
    ssize_t nread = sg_io_watch_recv(&c->watch, sg_iobuf_shared(), SG_READ_CHUNK);
    if (nread < 0)
        conn_close_handles(c);
    else if (nread > 0)
        conn_linger_wait(c, conn_clock_ms(c));
}

static void conn_linger(sg_conn *c)
{
    c->linger = malloc(sizeof *c->linger);
    if (!c->client_eof && c->linger && uv_timer_init(c->srv->loop, c->linger) == 0) {
        c->linger->data = c;
        uint64_t now = conn_clock_ms(c);
        c->linger_deadline = now + CONN_LINGER_MAX_MS;
        conn_linger_wait(c, now);
        if (sg_io_watch_read(&c->srv->io, &c->watch, true) == 0)
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
    conn_cancel_pending(c);
    sg_conn_detach_upstream(c, false);
    sg_io_watch_read(&c->srv->io, &c->watch, false);
    uv_shutdown_t *req = malloc(sizeof *req);
    if (req) {
        req->data = c;
        if (uv_shutdown(req, (uv_stream_t *)&c->pipe, conn_on_shutdown) == 0)
            return;
        free(req);
    }
    conn_close_handles(c);
}

/*
 * Server is shutting down: idle keep-alive connections go now, busy ones
 * after their current exchange (see conn_finish_exchange). A connection
 * whose request bytes are already waiting in the kernel is not idle, and
 * neither is one that has not sent its first request yet: closing either
 * would drop a request no successor could answer. Those are served (and
 * then closed), or ended by the shutdown timeout.
 */
void sg_conn_drain(sg_conn *c)
{
    if (c->state == CONN_READ_HEAD && !c->ex && c->in.len == 0 && c->served > 0 &&
        !sg_stream_readable((uv_stream_t *)&c->pipe))
        sg_conn_close_gracefully(c);
}

/* ---- splice lanes (gate/bulk.c) ------------------------------------------ */

/*
 * Where order is kept: a direction is spliced only when nothing of it is
 * buffered in the gate (the source's queue) or queued in libuv (the
 * destination's), and its lane is wired to the upstream (which reads for
 * it, or tells of room for it) in this one place. The destination gets the
 * wide send buffer a large stream has.
 */
bool sg_conn_lane_start(sg_conn *c, sg_direction d, uint64_t limit)
{
    sg_upstream *up = c->up;
    bool out = d == SG_TO_CLIENT;
    uv_stream_t *dst = out ? (uv_stream_t *)&c->pipe : (uv_stream_t *)&up->pipe;
    sg_lane **wire = out ? &up->feeds : &up->drains;
    if (*wire || (out ? up->in.len : c->in.len) > 0 || sg_stream_queued(dst) > 0)
        return false;
    if (!c->lanes && !(c->lanes = calloc(1, sizeof *c->lanes)))
        return false;
    sg_lane *l = out ? &c->lanes->to_client : &c->lanes->to_engine;
    if (!sg_lane_start(c->srv, l, out ? up->watch.fd : c->watch.fd,
                       out ? c->watch.fd : up->watch.fd, limit))
        return false;
    *wire = l;
    sg_bulk_widen(c->srv, dst, out ? &c->sndbuf : &up->sndbuf);
    return true;
}

void sg_conn_lane_stop(sg_conn *c, sg_direction d)
{
    if (!c->lanes)
        return;
    sg_lane_stop(d == SG_TO_CLIENT ? &c->lanes->to_client : &c->lanes->to_engine);
    if (c->up)
        *(d == SG_TO_CLIENT ? &c->up->feeds : &c->up->drains) = NULL;
}

void sg_conn_lanes_free(sg_conn *c)
{
    if (!c->lanes)
        return;
    if (c->up)
        sg_upstream_unwire_lanes(c->up);
    sg_lane_free(c->srv, &c->lanes->to_client);
    sg_lane_free(c->srv, &c->lanes->to_engine);
    free(c->lanes);
    c->lanes = NULL;
}

uint64_t sg_conn_lane_take(sg_conn *c, sg_direction d)
{
    if (!c->lanes)
        return 0;
    sg_lane *l = d == SG_TO_CLIENT ? &c->lanes->to_client : &c->lanes->to_engine;
    uint64_t n = sg_lane_take_moved(l);
    c->srv->stats.spliced += n;
    if (l->limit == 0 && l->held == 0) /* its message is through */
        sg_conn_lane_stop(c, d);
    return n;
}

bool sg_conn_lanes_hold(const sg_conn *c)
{
    return c->lanes && (c->lanes->to_client.held > 0 || c->lanes->to_engine.held > 0);
}

/* ---- flow control ------------------------------------------------------ */

/* Are the client's bytes streamed to dockerd as they come (a body being
 * forwarded, a relay)? Those are read in pieces as large as dockerd's
 * answers: a request head never is, its cap is SG_IN_LIMIT. */
static bool conn_streams_body(const sg_conn *c)
{
    return c->state == CONN_RELAY ||
           (c->state == CONN_EXCHANGE && c->ex && !c->ex->req_done);
}

/* May a lane's source be read (spliced from) now? Not while its last
 * bytes wait for room, and not past its end. */
static bool conn_lane_wants_source(const sg_lane *l)
{
    return l->held == 0 && l->limit > 0 && !l->src_eof && l->error == 0;
}

static bool conn_wants_client_bytes(const sg_conn *c)
{
    if (c->closing || c->client_eof)
        return false;
    if (c->lanes && c->lanes->to_engine.active)
        return conn_lane_wants_source(&c->lanes->to_engine);
    if (conn_streams_body(c))
        return c->in.len < SG_UP_IN_LIMIT && c->up &&
               sg_stream_queued((uv_stream_t *)&c->up->pipe) < SG_WRITE_HIGH;
    return c->in.len < SG_IN_LIMIT;
}

static void conn_set_reading(sg_conn *c, bool on)
{
    /* A socket that cannot join the epoll set (out of memory, or the
     * max_user_watches limit) would never be read again: close it. */
    if (sg_io_watch_read(&c->srv->io, &c->watch, on) != 0)
        sg_conn_abort(c, "cannot watch the client socket");
}

void sg_conn_update_flow(sg_conn *c)
{
    if (c->closing)
        return;
    conn_set_reading(c, conn_wants_client_bytes(c));
    const sg_lanes *ls = c->lanes;
    if (!c->closing && sg_io_watch_write(&c->srv->io, &c->watch,
                                         ls && ls->to_client.held > 0) != 0)
        sg_conn_abort(c, "cannot watch the client socket");
    if (c->closing || !c->up || !c->up->connected)
        return;
    bool want = (c->state == CONN_EXCHANGE || c->state == CONN_RELAY);
    if (ls && ls->to_client.active)
        want = want && conn_lane_wants_source(&ls->to_client);
    else
        want = want && c->up->in.len < SG_UP_IN_LIMIT &&
               sg_stream_queued((uv_stream_t *)&c->pipe) < SG_WRITE_HIGH;
    sg_upstream_set_reading(c->up, want);
    sg_upstream_set_writing(c->up, ls && ls->to_engine.held > 0);
}

static void conn_on_client_written(uv_stream_t *s, int status)
{
    sg_conn *c = s->data;
    if (status < 0)
        sg_conn_abort(c, "client write failed");
    else
        sg_conn_process(c);
}

int sg_conn_write_client(sg_conn *c, const char *data, size_t len)
{
    uv_buf_t b = sg_buf((char *)data, len);
    if (c->ex)
        c->ex->resp_started = true;
    return sg_stream_write((uv_stream_t *)&c->pipe, &b, 1, conn_on_client_written);
}

/* ---- reading from the client ------------------------------------------- */

static void conn_on_client_eof(sg_conn *c)
{
    bool gone = sg_stream_peer_gone((uv_stream_t *)&c->pipe);
    c->client_eof = true;
    conn_set_reading(c, false);
    if (c->state == CONN_RELAY) {
        c->srv->stages->relay_client_eof(c, gone);
        return;
    }
    if (c->state == CONN_IDENTIFYING && c->in.len > 0) {
        c->close_after = true; /* a request came before the half-close: answer it */
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

/* nread bytes (or an error) from a read to p (sg_iobuf_read_room). */
static void conn_on_read(sg_conn *c, ssize_t nread, const char *p)
{
    if (nread > 0) {
        sg_iobuf_took(&c->in, p, (size_t)nread);
        sg_conn_process(c);
        /* Whatever is left (a partial head, pipelined requests, body bytes
         * held back by backpressure) moves out of the shared buffer. */
        if (c->closing)
            sg_iobuf_free(&c->in);
        else if (sg_iobuf_settle(&c->in) != 0)
            sg_conn_abort(c, "out of memory");
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

/* The client's socket is readable (or at EOF, or failed): one read, or,
 * while a lane takes its bytes, one splice (bulk.c). */
static void conn_on_readable(sg_io_watch *w)
{
    sg_conn *c = w->data;
    if (c->linger) {
        conn_linger_read(c);
        return;
    }
    if (c->lanes && c->lanes->to_engine.active) {
        sg_lane_fill(&c->lanes->to_engine);
        sg_conn_process(c);
        return;
    }
    size_t room;
    bool bulk = conn_streams_body(c);
    char *p = sg_iobuf_read_room(&c->in, bulk ? SG_UP_READ_CHUNK : SG_READ_CHUNK,
                                 bulk ? SG_UP_IN_LIMIT : SG_IN_LIMIT, &room);
    ssize_t nread = p ? sg_io_watch_recv(w, p, room) : UV_ENOBUFS;
    if (nread != 0)
        conn_on_read(c, nread, p);
}

/* Room in the client's socket for a lane's bytes (bulk.c). */
static void conn_on_writable(sg_io_watch *w)
{
    sg_conn *c = w->data;
    if (c->lanes)
        sg_lane_drain(&c->lanes->to_client);
    sg_conn_process(c);
}

/*
 * What the lanes saw that a read would have reported: a failed splice ends
 * the connection; a source's end, once its last bytes are through, is the
 * end of stream a read of 0 would have been, and is handled as one.
 */
static void conn_lane_news(sg_conn *c)
{
    sg_lanes *ls = c->lanes;
    if (!ls)
        return;
    if (ls->to_client.error || ls->to_engine.error) {
        sg_conn_abort(c, "splice failed");
        return;
    }
    sg_lane *in = &ls->to_engine, *out = &ls->to_client;
    if (in->active && in->src_eof && in->held == 0 && !c->client_eof) {
        sg_conn_lane_stop(c, SG_TO_ENGINE);
        conn_on_client_eof(c);
    }
    if (out->active && out->src_eof && out->held == 0 && c->up && !c->up->eof) {
        sg_conn_lane_stop(c, SG_TO_CLIENT);
        sg_upstream_saw_eof(c->up);
    }
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
    const sg_conn_stages *stages = c->srv->stages;
    do {
        c->process_again = false;
        conn_lane_news(c);
        bool more = true;
        while (more && !c->closing) {
            switch (c->state) {
            case CONN_READ_HEAD: more = stages->read_head(c); break;
            case CONN_INSPECT_BODY: more = stages->inspect_body(c); break;
            case CONN_IDENTIFYING:
            case CONN_CONNECTING:
            case CONN_DECIDING: more = false; break;
            case CONN_EXCHANGE: more = stages->exchange(c); break;
            case CONN_RELAY: stages->relay(c); more = false; break;
            }
        }
    } while (c->process_again && !c->closing);
    c->in_process = false;
    sg_conn_update_flow(c);
}

/* Who is on the other end: for the isolation rules and the audit log. */
static void conn_read_peer(sg_conn *c)
{
    sg_caller_from_socket(c->watch.fd, c->kind, &c->caller);
}

/*
 * Called once a second by the server. A request head that has been arriving
 * for longer than the header timeout (a slowloris client trickling bytes)
 * is answered 408 and the connection closed; so is a body being read for
 * inspection after the body timeout, since it holds its part of the budget
 * while it trickles. Idle keep-alive connections, with nothing buffered, are
 * left alone: clients keep them on purpose. A body that streams to dockerd
 * is dockerd's to time.
 */
void sg_conn_sweep(sg_conn *c, uint64_t now_ms, uint64_t head_ms, uint64_t body_ms)
{
    bool slow_head = c->state == CONN_READ_HEAD && c->in.len > 0;
    bool slow_body = c->state == CONN_INSPECT_BODY;
    if (c->closing || !(slow_head || slow_body)) {
        c->head_since = c->body_since = 0;
        return;
    }
    uint64_t *since = slow_head ? &c->head_since : &c->body_since;
    if (*since == 0) {
        *since = now_ms;
        return;
    }
    if (now_ms - *since < (slow_head ? head_ms : body_ms))
        return;
    sg_debug("conn %llu: request %s too slow", (unsigned long long)c->id,
             slow_head ? "head" : "body");
    if (slow_body) {
        c->srv->stats.slow_bodies++;
        c->ex->req_done = false; /* the rest of the body is never read */
        c->srv->stages->refuse(c, 408, "sockgate: the request body took too long to arrive");
    } else {
        c->srv->stages->refuse(c, 408, "sockgate: the request head took too long to arrive");
    }
}

/* Past the connection limit, a client is told so and closed: an answer it
 * can print, instead of a refused connect() it cannot explain. */
static bool conn_over_limit(sg_conn *c)
{
    sg_server *srv = c->srv;
    if (srv->n_conns <= srv->max_conns)
        return false;
    srv->stats.refused_connections++;
    char msg[96];
    snprintf(msg, sizeof msg, "sockgate: too many connections (limit %zu); retry shortly",
             srv->max_conns);
    srv->stages->refuse(c, 503, msg); /* no request yet: answered, then closed */
    return true;
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
    srv->stats.connections++;
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    srv->n_conns++;
    uv_os_fd_t fd;
    if (uv_accept((uv_stream_t *)&l->pipe, (uv_stream_t *)&c->pipe) != 0 ||
        uv_fileno((uv_handle_t *)&c->pipe, &fd) != 0) {
        sg_conn_abort(c, "accept failed");
        return;
    }
    sg_io_watch_init(&c->watch, fd, conn_on_readable, c);
    sg_io_watch_on_writable(&c->watch, conn_on_writable);
    conn_read_peer(c);
    if (conn_over_limit(c))
        return;
    srv->stages->accepted(c); /* the restricted socket: who calls, first */
    sg_conn_update_flow(c);
}
