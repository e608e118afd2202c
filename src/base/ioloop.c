/*
 * ioloop.c — the process's event loop (see ioloop.h for why it exists).
 *
 * One turn: work out how long libuv may wait (its own answer, which is 0
 * whenever it has callbacks pending or file descriptors still to register,
 * and -1 when only our watches are alive), wait on the set, call the
 * watches that are ready, and let libuv run one non-blocking iteration if
 * its backend fd was ready or its wait ran out.
 */
#include "base/ioloop.h"

#include "base/rawio.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

/* Events handled per wait; more just wait for the next turn. */
#define IOLOOP_BATCH 64

int sg_ioloop_init(sg_ioloop *io, uv_loop_t *uv)
{
    io->uv = uv;
    io->n_reading = 0;
    io->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (io->epfd < 0)
        return -errno;
    /* data.ptr NULL marks libuv's own epoll fd. */
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(io->epfd, EPOLL_CTL_ADD, uv_backend_fd(uv), &ev) != 0) {
        int err = -errno;
        close(io->epfd);
        io->epfd = -1;
        return err;
    }
    return 0;
}

void sg_ioloop_close(sg_ioloop *io)
{
    if (io->epfd >= 0)
        close(io->epfd);
    io->epfd = -1;
}

void sg_io_watch_init(sg_io_watch *w, int fd, sg_io_ready_fn ready, void *data)
{
    w->fd = fd;
    w->reading = w->writing = false;
    w->ready = ready;
    w->writable = NULL;
    w->data = data;
}

void sg_io_watch_on_writable(sg_io_watch *w, sg_io_ready_fn writable)
{
    w->writable = writable;
}

/* Put the set's view of w to (reading, writing): one epoll_ctl. */
static int ioloop_watch_set(sg_ioloop *io, sg_io_watch *w, bool reading, bool writing)
{
    bool was_in = w->reading || w->writing, in = reading || writing;
    struct epoll_event ev = {.events = (reading ? EPOLLIN : 0u) | (writing ? EPOLLOUT : 0u),
                             .data.ptr = w};
    int op = !in ? EPOLL_CTL_DEL : was_in ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    /* Removing cannot fail in a way that matters: an fd the set does not
     * hold (ENOENT) or no longer open (EBADF) is not reported either. */
    if (epoll_ctl(io->epfd, op, w->fd, &ev) != 0 && in)
        return -errno;
    if (in && !was_in)
        io->n_reading++;
    else if (!in && was_in)
        io->n_reading--;
    w->reading = reading;
    w->writing = writing;
    return 0;
}

int sg_io_watch_read(sg_ioloop *io, sg_io_watch *w, bool on)
{
    return w->reading == on ? 0 : ioloop_watch_set(io, w, on, w->writing);
}

int sg_io_watch_write(sg_ioloop *io, sg_io_watch *w, bool on)
{
    return w->writing == on ? 0 : ioloop_watch_set(io, w, w->reading, on);
}

ssize_t sg_io_watch_recv(const sg_io_watch *w, char *buf, size_t len)
{
    ssize_t n = sg_raw_read(w->fd, buf, len);
    if (n > 0)
        return n;
    if (n == 0)
        return UV_EOF;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return 0;
    return -errno;
}

/*
 * How long the next wait may block. libuv's clock is not read on every
 * turn (that is half of what this loop saves), so its answer is computed
 * from a stale "now" and would be too long; when a libuv timer is pending
 * (a positive answer) the clock is refreshed and libuv asked again.
 */
static int ioloop_timeout(sg_ioloop *io)
{
    int timeout = uv_backend_timeout(io->uv);
    if (timeout > 0) {
        uv_update_time(io->uv);
        timeout = uv_backend_timeout(io->uv);
    }
    /* 0 also means "nothing alive": then only the watches can wake us. */
    if (timeout == 0 && !uv_loop_alive(io->uv))
        return -1;
    return timeout;
}

int sg_ioloop_run(sg_ioloop *io)
{
    struct epoll_event ev[IOLOOP_BATCH];
    for (;;) {
        int timeout = ioloop_timeout(io);
        if (timeout < 0 && io->n_reading == 0 && !uv_loop_alive(io->uv))
            return 0; /* nothing left on either side */
        int n = 0;
        if (timeout != 0) {
            n = sg_raw_epoll_wait(io->epfd, ev, IOLOOP_BATCH, timeout);
            if (n < 0 && errno != EINTR)
                return -errno;
        }
        bool run_uv = n <= 0; /* its wait ran out, or it had work pending */
        for (int i = 0; i < n; i++) {
            sg_io_watch *w = ev[i].data.ptr;
            uint32_t e = ev[i].events;
            if (!w) {
                run_uv = true;
                continue;
            }
            /* Each only if not stopped earlier in this batch. An error or
             * hang-up is news to both. */
            if (w->reading && (e & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                w->ready(w);
            if (w->writing && w->writable && (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)))
                w->writable(w);
        }
        if (run_uv)
            uv_run(io->uv, UV_RUN_NOWAIT);
    }
}
