/*
 * stream_io.c — writing to sockets without blocking and without unbounded
 * buffering.
 *
 * Every write first tries to go out directly (one write or writev on the
 * socket: no copy, no allocation, the common case when the peer keeps
 * up; libuv's uv_try_write does the same behind three layers of checks
 * that this path has already made). Whatever the kernel
 * does not take is copied into one heap block queued with uv_write, so the
 * caller may reuse or free its buffer at once. The queue length is what
 * backpressure looks at (sg_stream_queued): callers stop reading the other
 * side above SG_WRITE_HIGH, so the copies stay bounded.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "base/rawio.h"
#include "gate/gate.h"

typedef struct {
    uv_write_t req;
    sg_write_done_fn done;
    size_t len;
    char data[];
} stream_write_block;

static void stream_on_written(uv_write_t *req, int status)
{
    stream_write_block *b = (stream_write_block *)req;
    uv_stream_t *s = req->handle;
    sg_write_done_fn done = b->done;
    free(b);
    /* ECANCELED: the handle is closing, its owner no longer cares. */
    if (done && status != UV_ECANCELED)
        done(s, status);
}

static int stream_queue_copy(uv_stream_t *s, const uv_buf_t *bufs,
                             unsigned nbufs, size_t skip, size_t total,
                             sg_write_done_fn done)
{
    stream_write_block *b = malloc(sizeof *b + (total - skip));
    if (!b)
        return UV_ENOMEM;
    b->done = done;
    b->len = 0;
    for (unsigned i = 0; i < nbufs; i++) {
        size_t blen = bufs[i].len;
        const char *p = bufs[i].base;
        if (skip >= blen) {
            skip -= blen;
            continue;
        }
        memcpy(b->data + b->len, p + skip, blen - skip);
        b->len += blen - skip;
        skip = 0;
    }
    uv_buf_t one = sg_buf(b->data, b->len);
    int rc = uv_write(&b->req, s, &one, 1, stream_on_written);
    if (rc < 0)
        free(b);
    return rc;
}

/* What the kernel takes of bufs now: a byte count, 0, or a negative errno.
 * On unix a uv_buf_t is laid out as a struct iovec (libuv relies on it). */
static ssize_t stream_try_write(uv_stream_t *s, const uv_buf_t *bufs, unsigned nbufs)
{
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)s, &fd) != 0)
        return UV_EBADF;
    ssize_t n;
    do
        n = nbufs == 1 ? sg_raw_write(fd, bufs[0].base, bufs[0].len)
                       : sg_raw_writev(fd, (const struct iovec *)(const void *)bufs, (int)nbufs);
    while (n < 0 && errno == EINTR);
    if (n >= 0)
        return n;
    return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
}

int sg_stream_write(uv_stream_t *s, const uv_buf_t *bufs, unsigned nbufs,
                    sg_write_done_fn done)
{
    size_t total = 0;
    for (unsigned i = 0; i < nbufs; i++)
        total += bufs[i].len;
    if (total == 0)
        return 0;
    size_t sent = 0;
    if (s->write_queue_size == 0) { /* else the queue's bytes go first */
        ssize_t n = stream_try_write(s, bufs, nbufs);
        if (n < 0)
            return (int)n;
        sent = (size_t)n;
    }
    if (sent == total)
        return 0;
    return stream_queue_copy(s, bufs, nbufs, sent, total, done);
}

size_t sg_stream_queued(const uv_stream_t *s) { return s->write_queue_size; }

/*
 * After a read returned EOF: did the peer only shut down its write side
 * (a client that half-closes after its request, or stdin EOF during attach),
 * or is it gone entirely? Linux reports POLLHUP on a unix stream socket only
 * when both directions are shut, which is what a closed peer looks like.
 */
bool sg_stream_peer_gone(uv_stream_t *s)
{
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)s, &fd) != 0)
        return true;
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
    if (poll(&p, 1, 0) < 0)
        return true;
    return (p.revents & (POLLHUP | POLLERR)) != 0;
}

/* Are bytes waiting to be read (without reading them)? */
bool sg_stream_readable(uv_stream_t *s)
{
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)s, &fd) != 0)
        return false;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}
