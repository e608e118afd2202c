/*
 * upstream.c — connections to dockerd's socket.
 *
 * A connection that ended a response cleanly (keep-alive on both sides, no
 * hijack, nothing unread) goes back to a small LIFO pool and is handed to
 * the next request of any client: connecting to a unix socket is cheap, but
 * not free, and the benchmark's 1-connection figure is dominated by it. An
 * idle pooled connection keeps reading so that a close by dockerd, or any
 * stray byte, retires it at once instead of failing a later request.
 *
 * An upstream in use tells its owner what happens through the owner's
 * sg_upstream_ops (gate.h); nothing here knows what a client connection is.
 */
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "gate/gate.h"

static void upstream_on_closed(uv_handle_t *h)
{
    sg_upstream *up = h->data;
    sg_bulk_forget(up->srv, &up->sndbuf);
    sg_iobuf_free(&up->in);
    free(up);
}

static void upstream_close(sg_upstream *up)
{
    if (up->closing)
        return;
    up->closing = true;
    up->owner = NULL;
    sg_upstream_unwire_lanes(up);
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

/* dockerd's socket is readable (or at EOF, or failed): one read, or,
 * while the owner's lane takes its bytes, one splice (bulk.c). */
static void upstream_on_readable(sg_io_watch *w)
{
    sg_upstream *up = w->data;
    if (up->feeds && up->feeds->active && up->owner) {
        sg_lane_fill(up->feeds);
        up->ops->readable(up->owner);
        return;
    }
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
    else if (sg_iobuf_settle(&up->in) != 0 && up->owner)
        up->ops->abort(up->owner, "out of memory");
}

static void upstream_handle_read(sg_upstream *up, ssize_t nread)
{
    if (!up->owner) {
        /* Idle in the pool: dockerd closed it or sent something unasked. */
        upstream_pool_remove(up->srv, up);
        upstream_close(up);
        return;
    }
    if (nread > 0) {
        up->ops->readable(up->owner);
    } else if (nread == UV_EOF) {
        sg_upstream_saw_eof(up);
    } else if (nread == UV_ENOBUFS) {
        sg_upstream_set_reading(up, false);
    } else {
        sg_upstream_set_reading(up, false); /* an error is reported once */
        up->ops->error(up->owner, (int)nread);
    }
}

void sg_upstream_saw_eof(sg_upstream *up)
{
    up->eof = true;
    sg_upstream_set_reading(up, false);
    if (up->owner)
        up->ops->eof(up->owner);
}

/* Room in dockerd's socket for a lane's bytes: pass them on, and tell the
 * owner as for any completed write. */
static void upstream_on_writable(sg_io_watch *w)
{
    sg_upstream *up = w->data;
    if (up->drains)
        sg_lane_drain(up->drains);
    if (up->owner)
        up->ops->written(up->owner, 0);
}

void sg_upstream_set_writing(sg_upstream *up, bool on)
{
    if (on && (up->closing || !up->connected))
        return;
    /* Failing to watch for room would stall the lane for good. */
    if (sg_io_watch_write(&up->srv->io, &up->watch, on) != 0 && up->owner)
        up->ops->abort(up->owner, "cannot watch the engine socket");
}

void sg_upstream_unwire_lanes(sg_upstream *up)
{
    up->feeds = up->drains = NULL;
    /* Stopping cannot fail (ioloop.c); a watch never started is left as is. */
    sg_io_watch_write(&up->srv->io, &up->watch, false);
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
    if (up->owner) {
        up->ops->abort(up->owner, "cannot watch the engine socket");
    } else {
        upstream_pool_remove(up->srv, up);
        upstream_close(up);
    }
}

static void upstream_on_connect(uv_connect_t *req, int status)
{
    sg_upstream *up = req->data;
    void *owner = up->owner;
    const sg_upstream_ops *ops = up->ops;
    uv_os_fd_t fd;
    if (status == 0 && uv_fileno((uv_handle_t *)&up->pipe, &fd) != 0)
        status = UV_EBADF;
    if (status == 0) {
        up->connected = true;
        sg_io_watch_init(&up->watch, fd, upstream_on_readable, up);
        sg_io_watch_on_writable(&up->watch, upstream_on_writable);
    }
    if (!owner) { /* the owner let go while we were connecting */
        upstream_close(up);
        return;
    }
    if (status != 0)
        upstream_close(up);
    ops->ready(owner, status);
}

void sg_upstream_acquire(sg_server *srv, const sg_upstream_ops *ops, void *owner)
{
    sg_upstream *up = srv->idle;
    if (up) {
        srv->idle = up->next_idle;
        up->next_idle = NULL;
        srv->n_idle--;
        up->owner = owner;
        up->ops = ops;
        up->reused = true;
        ops->attached(owner, up);
        ops->ready(owner, 0);
        return;
    }
    up = calloc(1, sizeof *up);
    if (!up || uv_pipe_init(srv->loop, &up->pipe, 0) != 0) {
        free(up);
        ops->ready(owner, UV_ENOMEM);
        return;
    }
    up->srv = srv;
    up->pipe.data = up;
    up->owner = owner;
    up->ops = ops;
    ops->attached(owner, up);
    up->connect_req.data = up;
    uv_pipe_connect(&up->connect_req, &up->pipe, srv->cfg.engine_path,
                    upstream_on_connect);
}

void sg_upstream_release(sg_upstream *up, bool reusable)
{
    sg_server *srv = up->srv;
    up->owner = NULL;
    sg_upstream_unwire_lanes(up);
    if (!reusable || up->eof || up->in.len > 0 || srv->draining ||
        srv->n_idle >= SG_MAX_IDLE_UPSTREAMS) {
        upstream_close(up);
        return;
    }
    sg_iobuf_free(&up->in);
    sg_bulk_narrow(srv, (uv_stream_t *)&up->pipe, &up->sndbuf);
    up->next_idle = srv->idle;
    srv->idle = up;
    srv->n_idle++;
    sg_upstream_set_reading(up, true);
}

void sg_upstream_on_written(uv_stream_t *s, int status)
{
    sg_upstream *up = s->data;
    if (up->owner)
        up->ops->written(up->owner, status);
}

/* Closing an upstream that is still connecting is safe: libuv cancels the
 * connect request and upstream_on_connect sees owner == NULL. */
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
