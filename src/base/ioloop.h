/*
 * ioloop.h — the process's event loop: one epoll set for the sockets of the
 * request path, with libuv's loop nested in it.
 *
 * A keep-alive request through the gate wakes it twice (the client's bytes,
 * then dockerd's answer). Under uv_run each wake-up also paid for a full
 * libuv iteration: two clock reads (a rdtsc-backed vDSO call, slow in a
 * VM), the timer, idle, prepare, check and close phases, and the stream
 * layer's read dispatch. The floor relay of bench/ pays none of that, and
 * at one connection on a small host it was most of what sockgate cost
 * beyond the floor. So the client and engine sockets are read from here
 * directly (sg_io_watch), and libuv runs only when it has something to do:
 * its backend fd is a member of this set, and its own timeout bounds the
 * wait.
 *
 * Everything else stays libuv's: accepting, connecting, writing (and the
 * write queues), shutdown, close, timers, signals, the engine look-ups,
 * the thread pool. Watch callbacks run outside uv_run, so:
 *   - libuv's clock (uv_now) is only as fresh as its last iteration: code
 *     on the request path that starts a libuv timer calls uv_update_time
 *     first;
 *   - objects are still freed only in libuv close callbacks, which run
 *     after a batch of watch callbacks, never during one, so a watch stays
 *     valid for the whole batch it was reported in.
 */
#ifndef SG_IOLOOP_H
#define SG_IOLOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <uv.h>

typedef struct sg_ioloop sg_ioloop;
typedef struct sg_io_watch sg_io_watch;
typedef void (*sg_io_ready_fn)(sg_io_watch *w);

struct sg_ioloop {
    int epfd;
    uv_loop_t *uv;
    size_t n_reading; /* watches in the set: the loop lives while any is */
};

/* A socket watched for reading and, while a splice waits for room in it
 * (gate/bulk.c), for writing. Level-triggered: ready is called after every
 * wait that finds bytes (or EOF, or an error) pending, writable after every
 * wait that finds room (or an error). Writes that go through libuv are
 * libuv's to watch: a socket is never written both ways at once. */
struct sg_io_watch {
    int fd;
    bool reading;     /* EPOLLIN in the set                          */
    bool writing;     /* EPOLLOUT in the set                         */
    sg_io_ready_fn ready;
    sg_io_ready_fn writable; /* NULL until sg_io_watch_on_writable   */
    void *data;       /* the owner's                                 */
};

/* 0, or a negative errno. */
int sg_ioloop_init(sg_ioloop *io, uv_loop_t *uv);
void sg_ioloop_close(sg_ioloop *io);

/* Run until libuv has nothing alive and no watch is reading. 0, or a
 * negative errno if epoll_wait fails. */
int sg_ioloop_run(sg_ioloop *io);

/* Prepare a watch for fd (not yet reading). */
void sg_io_watch_init(sg_io_watch *w, int fd, sg_io_ready_fn ready, void *data);

/* Start or stop reading. Stopping removes fd from the set (a hung-up
 * socket would otherwise be reported on every wait) and always succeeds.
 * 0, or a negative errno when starting failed (the watch is unchanged). */
int sg_io_watch_read(sg_ioloop *io, sg_io_watch *w, bool on);

/* The same for writing (the callback is set with sg_io_watch_on_writable). */
void sg_io_watch_on_writable(sg_io_watch *w, sg_io_ready_fn writable);
int sg_io_watch_write(sg_ioloop *io, sg_io_watch *w, bool on);

/*
 * One read(2) from the watch's socket, in libuv's terms: the byte count,
 * 0 when nothing is there (EAGAIN, EINTR), UV_EOF at end of stream, or a
 * negative errno.
 */
ssize_t sg_io_watch_recv(const sg_io_watch *w, char *buf, size_t len);

#endif
