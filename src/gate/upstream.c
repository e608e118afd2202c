/*
 * upstream.c — connections to dockerd's socket.
 *
 * A connection that ended a response cleanly (keep-alive on both sides, no
 * hijack, nothing unread) goes back to a small LIFO pool and is handed to
 * the next request of any client: connecting to a unix socket is cheap, but
 * not free, and the benchmark's 1-connection figure is dominated by it. An
 * idle pooled connection keeps reading so that a close by dockerd, or any
 * stray byte, retires it at once instead of failing a later request.
 */
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "gate/gate.h"

static void upstream_on_closed(uv_handle_t *h)
{
    sg_upstream *up = h->data;
    sg_iobuf_free(&up->in);
    free(up);
}

static void upstream_close(sg_upstream *up)
{
    if (up->closing)
        return;
    up->closing = true;
    up->conn = NULL;
    sg_io_watch_read(&up->srv->io, &up->watch, false);
    uv_close((uv_handle_t *)&up->pipe, upstream_on_closed);
}

static void upstream_pool_remove(sg_server *srv, sg_upstream *up)
{
    for (sg_upstream **pp = &srv->idle; *pp; pp = &(*pp)->next_idle) {
        if (*pp == up) {
            *pp = up->next_idle;
            up->next_idle = NULL;
            srv->n_idle--;
            return;
        }
    }
}

static void upstream_handle_read(sg_upstream *up, ssize_t nread);

/* dockerd's socket is readable (or at EOF, or failed): one read. */
static void upstream_on_readable(sg_io_watch *w)
{
    sg_upstream *up = w->data;
    size_t room;
    char *p = sg_iobuf_read_room(&up->in, SG_UP_READ_CHUNK, SG_UP_IN_LIMIT, &room);
    ssize_t nread = p ? sg_io_watch_recv(w, p, room) : UV_ENOBUFS;
    if (nread == 0)
        return;
    if (nread > 0)
        sg_iobuf_took(&up->in, p, (size_t)nread);
    upstream_handle_read(up, nread);
    /* Bytes the client could not take yet move out of the shared buffer. */
    if (up->closing)
        sg_iobuf_free(&up->in);
    else if (sg_iobuf_settle(&up->in) != 0 && up->conn)
        sg_conn_abort(up->conn, "out of memory");
}

static void upstream_handle_read(sg_upstream *up, ssize_t nread)
{
    if (!up->conn) {
        /* Idle in the pool: dockerd closed it or sent something unasked. */
        upstream_pool_remove(up->srv, up);
        upstream_close(up);
        return;
    }
    if (nread > 0) {
        sg_conn_on_upstream_read(up->conn);
    } else if (nread == UV_EOF) {
        up->eof = true;
        sg_upstream_set_reading(up, false);
        sg_conn_on_upstream_eof(up->conn);
    } else if (nread == UV_ENOBUFS) {
        sg_upstream_set_reading(up, false);
    } else {
        sg_upstream_set_reading(up, false); /* an error is reported once */
        sg_conn_on_upstream_error(up->conn, (int)nread);
    }
}

void sg_upstream_set_reading(sg_upstream *up, bool on)
{
    /* Stopping is always allowed: at EOF the watch must leave the set, or
     * a level-triggered EOF would be reported on every wait. */
    if (on && (up->closing || up->eof || !up->connected))
        return;
    if (sg_io_watch_read(&up->srv->io, &up->watch, on) == 0)
        return;
    /* Never to be read again: the exchange on it fails, an idle one goes. */
    if (up->conn) {
        sg_conn_abort(up->conn, "cannot watch the engine socket");
    } else {
        upstream_pool_remove(up->srv, up);
        upstream_close(up);
    }
}

static void upstream_on_connect(uv_connect_t *req, int status)
{
    sg_upstream *up = req->data;
    sg_conn *c = up->conn;
    uv_os_fd_t fd;
    if (status == 0 && uv_fileno((uv_handle_t *)&up->pipe, &fd) != 0)
        status = UV_EBADF;
    if (status == 0) {
        up->connected = true;
        sg_io_watch_init(&up->watch, fd, upstream_on_readable, up);
    }
    if (!c) { /* the client went away while we were connecting */
        upstream_close(up);
        return;
    }
    if (status != 0) {
        c->up = NULL;
        upstream_close(up);
    }
    sg_conn_on_upstream_ready(c, status);
}

void sg_upstream_acquire(sg_server *srv, sg_conn *c)
{
    sg_upstream *up = srv->idle;
    if (up) {
        srv->idle = up->next_idle;
        up->next_idle = NULL;
        srv->n_idle--;
        up->conn = c;
        up->reused = true;
        c->up = up;
        sg_conn_on_upstream_ready(c, 0);
        return;
    }
    up = calloc(1, sizeof *up);
    if (!up || uv_pipe_init(srv->loop, &up->pipe, 0) != 0) {
        free(up);
        sg_conn_on_upstream_ready(c, UV_ENOMEM);
        return;
    }
    up->srv = srv;
    up->pipe.data = up;
    up->conn = c;
    c->up = up;
    up->connect_req.data = up;
    uv_pipe_connect(&up->connect_req, &up->pipe, srv->cfg.engine_path,
                    upstream_on_connect);
}

void sg_upstream_release(sg_upstream *up, bool reusable)
{
    sg_server *srv = up->srv;
    up->conn = NULL;
    if (!reusable || up->eof || up->in.len > 0 || srv->draining ||
        srv->n_idle >= SG_MAX_IDLE_UPSTREAMS) {
        upstream_close(up);
        return;
    }
    sg_iobuf_free(&up->in);
    up->next_idle = srv->idle;
    srv->idle = up;
    srv->n_idle++;
    sg_upstream_set_reading(up, true);
}

/* Closing an upstream that is still connecting is safe: libuv cancels the
 * connect request and upstream_on_connect sees conn == NULL. */
void sg_upstream_abandon(sg_upstream *up) { upstream_close(up); }

void sg_upstream_pool_close(sg_server *srv)
{
    while (srv->idle) {
        sg_upstream *up = srv->idle;
        srv->idle = up->next_idle;
        srv->n_idle--;
        upstream_close(up);
    }
}
