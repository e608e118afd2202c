/*
 * bulk.c — what a socket does differently while it carries a large stream
 * (docker cp, save, load, export, logs, attach): a wider send buffer, and,
 * where the framing lets the bytes pass unread, a splice lane (below).
 *
 * On a small host the gate's cost per GiB is wake-ups and system calls
 * more than copies (docs/BENCHMARKS.md, "Large streams: where the time
 * goes"). With the default send buffer (net.core.wmem_default, about
 * 208 KiB of accounting, less of data) a 256 KiB read from dockerd does
 * not fit into one write to the client: the rest waits for the client to
 * read, for an EPOLLOUT, for libuv's write queue, and every such round
 * wakes both sides once more. A send buffer a few times the read size lets
 * one write take each read whole.
 *
 * The price is kernel memory: a reader that stops reading leaves up to the
 * send buffer queued in the kernel, charged to the gate. So a socket is
 * widened only once it is known to carry a large stream (SG_BULK_MIN), at
 * most SG_BULK_MAX_WIDE sockets at once server-wide, and narrowed back when
 * its exchange ends: SG_BULK_MAX_WIDE × twice SG_BULK_SNDBUF is the most
 * this adds, whatever the clients do. Widening is an optimisation only: if
 * the kernel refuses, the stream flows as before.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gate/gate.h"

/* The socket's fd, or -1. */
static int bulk_fd(uv_stream_t *s)
{
    uv_os_fd_t fd;
    return uv_fileno((uv_handle_t *)s, &fd) == 0 ? fd : -1;
}

/* SO_SNDBUF is capped by net.core.wmem_max, which is often the default
 * itself; SO_SNDBUFFORCE is not, and root (sockgate's usual user) may. */
static bool bulk_set_sndbuf(int fd, int bytes)
{
    return setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) == 0 ||
           setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes) == 0;
}

void sg_bulk_widen(sg_server *srv, uv_stream_t *s, sg_sndbuf *sb)
{
    if (sb->wide || srv->n_wide >= SG_BULK_MAX_WIDE)
        return;
    int fd = bulk_fd(s), narrow = 0;
    socklen_t len = sizeof narrow;
    /* getsockopt reports the doubled figure the kernel keeps; setting half
     * of it restores it. */
    if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &narrow, &len) != 0 ||
        narrow / 2 >= SG_BULK_SNDBUF || !bulk_set_sndbuf(fd, SG_BULK_SNDBUF))
        return;
    sb->wide = true;
    sb->narrow = narrow / 2;
    srv->n_wide++;
}

void sg_bulk_narrow(sg_server *srv, uv_stream_t *s, sg_sndbuf *sb)
{
    if (!sb->wide)
        return;
    int fd = bulk_fd(s);
    if (fd >= 0)
        bulk_set_sndbuf(fd, sb->narrow);
    sg_bulk_forget(srv, sb);
}

void sg_bulk_forget(sg_server *srv, sg_sndbuf *sb)
{
    if (!sb->wide)
        return;
    sb->wide = false;
    srv->n_wide--;
}

void sg_bulk_count(sg_server *srv, uv_stream_t *s, sg_sndbuf *sb, uint64_t *carried,
                   size_t n)
{
    *carried += n;
    if (*carried >= SG_BULK_MIN && !sb->wide)
        sg_bulk_widen(srv, s, sb);
}

/* ---- splice lanes ------------------------------------------------------------
 *
 * Where the gate need not look at the bytes (a body framed by its length or
 * by dockerd's close, either direction of a relay) they move from one socket
 * to the other through a pipe with splice(2): the kernel passes page
 * references, and neither the read nor the write copies. The length of a
 * body is the splice's limit, so a lane never takes a byte past the end of
 * its message: framing is still the gate's. A lane is started only once the
 * user-space path for its direction is empty (nothing buffered, nothing
 * queued in libuv), and the owner stops using user-space writes to its
 * destination while bytes are in the pipe, so order is kept.
 *
 * A pipe costs two descriptors and up to SG_LANE_PIPE bytes of pinned
 * pages, so at most SG_BULK_MAX_LANES exist at once; without one a stream
 * takes the copying path, as before.
 */
bool sg_lane_start(sg_server *srv, sg_lane *l, int src, int dst, uint64_t limit)
{
    if (l->active)
        return true;
    if (!l->piped) {
        int p[2];
        if (srv->n_lanes >= SG_BULK_MAX_LANES || pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0)
            return false;
        /* A bigger pipe takes a whole read of dockerd's (its send buffer's
         * worth) in one splice; the default holds 16 pages. */
        fcntl(p[1], F_SETPIPE_SZ, SG_LANE_PIPE);
        l->rd = p[0];
        l->wr = p[1];
        l->piped = true;
        srv->n_lanes++;
    }
    l->src = src;
    l->dst = dst;
    l->limit = limit;
    l->active = true;
    return true;
}

void sg_lane_drain(sg_lane *l)
{
    while (l->held > 0 && l->error == 0) {
        ssize_t n = splice(l->rd, NULL, l->dst, NULL, l->held, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n > 0)
            l->held -= (size_t)n;
        else if (n < 0 && errno == EINTR)
            continue;
        else if (n < 0 && errno != EAGAIN)
            l->error = -errno;
        else
            return; /* the destination is full: wait until it is writable */
    }
}

void sg_lane_fill(sg_lane *l)
{
    if (!l->active || l->held > 0 || l->limit == 0 || l->src_eof || l->error)
        return;
    size_t want = l->limit < SG_LANE_PIPE ? (size_t)l->limit : SG_LANE_PIPE;
    ssize_t n;
    do
        n = splice(l->src, NULL, l->wr, NULL, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    while (n < 0 && errno == EINTR);
    if (n == 0) {
        l->src_eof = true;
    } else if (n > 0) {
        l->held += (size_t)n;
        l->moved += (uint64_t)n;
        if (l->limit != SG_LANE_UNLIMITED)
            l->limit -= (uint64_t)n;
        sg_lane_drain(l);
    } else if (errno != EAGAIN) {
        l->error = -errno;
    }
}

uint64_t sg_lane_take_moved(sg_lane *l)
{
    uint64_t n = l->moved;
    l->moved = 0;
    return n;
}

void sg_lane_stop(sg_lane *l) { l->active = false; }

void sg_lane_free(sg_server *srv, sg_lane *l)
{
    if (l->piped) {
        close(l->rd);
        close(l->wr);
        srv->n_lanes--;
    }
    *l = (sg_lane){0};
}
