/*
 * test_ioloop.c — sg_ioloop: watches on real socket pairs and a real libuv
 * loop nested in the epoll set. Bytes, EOF and "nothing yet" as a watch
 * reads them; a stopped watch is not called again, even later in the batch
 * it was reported in; a libuv timer started from a watch after a quiet
 * spell fires, after its full time; a socket epoll refuses is reported;
 * the loop ends when neither side has anything left; a watch for room is
 * called when a full socket drains, and not for reading.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/ioloop.h"
#include "unit.h"

typedef struct {
    sg_ioloop *io;
    int calls;
    int stop_after; /* stop reading at this call; 0: at EOF or error */
    char got[64];
    size_t len;
    ssize_t last;   /* what the last recv returned */
    sg_io_watch *other; /* stop this one too, at the first call */
} watch_log;

static void on_ready(sg_io_watch *w)
{
    watch_log *log = w->data;
    log->calls++;
    size_t room = sizeof log->got - log->len;
    log->last = sg_io_watch_recv(w, log->got + log->len, room);
    if (log->last > 0)
        log->len += (size_t)log->last;
    if (log->other)
        sg_io_watch_read(log->io, log->other, false);
    if (log->last < 0 || log->calls == log->stop_after)
        sg_io_watch_read(log->io, w, false);
}

static void pair(int sv[2])
{
    CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
}

/* A libuv loop and the epoll set it is nested in. */
static void loops_open(uv_loop_t *loop, sg_ioloop *io)
{
    uv_loop_init(loop);
    CHECK_INT(sg_ioloop_init(io, loop), 0);
}

static void loops_close(uv_loop_t *loop, sg_ioloop *io)
{
    sg_ioloop_close(io);
    CHECK_INT(io->epfd, -1);
    CHECK_INT(uv_loop_close(loop), 0);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

TEST(a_watch_reads_bytes_then_eof_and_the_loop_ends)
{
    uv_loop_t loop;
    sg_ioloop io;
    loops_open(&loop, &io);
    int sv[2];
    pair(sv);
    sg_io_watch w;
    watch_log log = {.io = &io};
    sg_io_watch_init(&w, sv[0], on_ready, &log);
    CHECK_INT(sg_io_watch_read(&io, &w, true), 0);
    CHECK_INT(sg_io_watch_recv(&w, log.got, sizeof log.got), 0); /* nothing yet */
    CHECK_INT(write(sv[1], "hello", 5), 5);
    shutdown(sv[1], SHUT_WR);
    CHECK_INT(sg_ioloop_run(&io), 0); /* ends: EOF stopped the only watch */
    CHECK_INT((int)log.len, 5);
    CHECK(memcmp(log.got, "hello", 5) == 0);
    CHECK_INT(log.last, UV_EOF);
    CHECK_INT(log.calls, 2);
    CHECK(!w.reading);
    CHECK_INT((int)io.n_reading, 0);
    close(sv[0]);
    close(sv[1]);
    loops_close(&loop, &io);
}

TEST(a_stopped_watch_is_not_called_again)
{
    uv_loop_t loop;
    sg_ioloop io;
    loops_open(&loop, &io);
    int a[2], b[2];
    pair(a);
    pair(b);
    sg_io_watch wa, wb;
    watch_log la = {.io = &io, .stop_after = 1, .other = &wb};
    watch_log lb = {.io = &io, .stop_after = 1, .other = &wa};
    sg_io_watch_init(&wa, a[0], on_ready, &la);
    sg_io_watch_init(&wb, b[0], on_ready, &lb);
    CHECK_INT(sg_io_watch_read(&io, &wa, true), 0);
    CHECK_INT(sg_io_watch_read(&io, &wb, true), 0);
    /* Both readable before the first wait: one batch reports both, and
     * whichever runs first stops the other. */
    CHECK_INT(write(a[1], "x", 1), 1);
    CHECK_INT(write(b[1], "y", 1), 1);
    CHECK_INT(sg_ioloop_run(&io), 0);
    CHECK_INT(la.calls + lb.calls, 1);
    CHECK_INT(sg_io_watch_read(&io, &wa, false), 0); /* stopping twice is fine */
    int fds[] = {a[0], a[1], b[0], b[1]};
    for (int i = 0; i < 4; i++)
        close(fds[i]);
    loops_close(&loop, &io);
}

typedef struct {
    sg_ioloop *io;
    uv_timer_t timer;
    uint64_t started, fired;
} timer_log;

static void on_timer(uv_timer_t *t)
{
    timer_log *log = t->data;
    log->fired = now_ms();
    uv_close((uv_handle_t *)t, NULL);
}

/* The byte arrives after the loop sat in epoll_wait with libuv idle (its
 * clock not read since): the timer started here, with the clock refreshed
 * first as the request path does, must fire and wait its full time. */
static void on_ready_start_timer(sg_io_watch *w)
{
    timer_log *log = w->data;
    char c;
    ssize_t n = sg_io_watch_recv(w, &c, 1);
    if (n < 0) {
        sg_io_watch_read(log->io, w, false);
        return;
    }
    if (n == 1 && log->started == 0) {
        uv_update_time(log->timer.loop);
        log->started = now_ms();
        uv_timer_start(&log->timer, on_timer, 50, 0);
    }
}

TEST(a_libuv_timer_started_from_a_watch_fires_after_its_time)
{
    uv_loop_t loop;
    sg_ioloop io;
    loops_open(&loop, &io);
    int sv[2];
    pair(sv);
    timer_log log = {.io = &io};
    uv_timer_init(&loop, &log.timer);
    log.timer.data = &log;
    sg_io_watch w;
    sg_io_watch_init(&w, sv[0], on_ready_start_timer, &log);
    CHECK_INT(sg_io_watch_read(&io, &w, true), 0);
    uint64_t t0 = now_ms();
    pid_t child = fork();
    if (child == 0) { /* the peer: one byte after 120 ms, then EOF */
        struct timespec pause = {0, 120 * 1000 * 1000};
        nanosleep(&pause, NULL);
        _exit(write(sv[1], "z", 1) == 1 ? 0 : 1);
    }
    CHECK(child > 0);
    close(sv[1]);
    CHECK_INT(sg_ioloop_run(&io), 0); /* ends after EOF and the timer */
    int status = -1;
    CHECK_INT(waitpid(child, &status, 0), child);
    CHECK_INT(status, 0);
    CHECK(log.started >= t0 + 100);
    CHECK(log.fired >= log.started + 45); /* not early (5 ms: clock grain) */
    CHECK(log.fired < log.started + 1000);
    close(sv[0]);
    loops_close(&loop, &io);
}

TEST(a_socket_that_cannot_join_the_set_is_reported)
{
    uv_loop_t loop;
    sg_ioloop io;
    loops_open(&loop, &io);
    FILE *f = tmpfile(); /* a regular file: epoll refuses it (EPERM) */
    CHECK(f != NULL);
    sg_io_watch w;
    watch_log log = {.io = &io};
    sg_io_watch_init(&w, fileno(f), on_ready, &log);
    CHECK(sg_io_watch_read(&io, &w, true) < 0);
    CHECK(!w.reading);
    CHECK_INT((int)io.n_reading, 0);
    CHECK_INT(sg_io_watch_read(&io, &w, false), 0); /* stopping always works */
    fclose(f);
    loops_close(&loop, &io);
}

TEST(with_nothing_to_watch_the_loop_returns_at_once)
{
    uv_loop_t loop;
    sg_ioloop io;
    loops_open(&loop, &io);
    CHECK_INT(sg_ioloop_run(&io), 0);
    loops_close(&loop, &io);
}

typedef struct {
    sg_ioloop *io;
    int reads, writes;
} room_log;

static void room_on_ready(sg_io_watch *w) { ((room_log *)w->data)->reads++; }

static void room_on_writable(sg_io_watch *w)
{
    room_log *log = w->data;
    log->writes++;
    sg_io_watch_write(log->io, w, false);
}

/* Fill fd's send buffer until the kernel takes no more. */
static void fill(int fd)
{
    static char junk[65536];
    while (write(fd, junk, sizeof junk) > 0)
        ;
}

TEST(a_watch_for_room_is_called_once_the_peer_drains)
{
    uv_loop_t loop;
    sg_ioloop io;
    loops_open(&loop, &io);
    int sv[2];
    pair(sv);
    fill(sv[0]);
    sg_io_watch w;
    room_log log = {.io = &io};
    sg_io_watch_init(&w, sv[0], room_on_ready, &log);
    sg_io_watch_on_writable(&w, room_on_writable);
    CHECK_INT(sg_io_watch_write(&io, &w, true), 0);
    CHECK_INT((int)io.n_reading, 1); /* in the set: the loop lives */
    /* Nothing is readable on sv[0], and no room yet: drain from a child
     * so that the loop waits first. */
    pid_t pid = fork();
    if (pid == 0) {
        char buf[65536];
        usleep(50 * 1000);
        while (read(sv[1], buf, sizeof buf) > 0)
            ;
        _exit(0);
    }
    CHECK_INT(sg_ioloop_run(&io), 0); /* ends: the only watch stopped */
    CHECK_INT(log.writes, 1);
    CHECK_INT(log.reads, 0);
    CHECK(!w.writing);
    CHECK_INT((int)io.n_reading, 0);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(sv[0]);
    close(sv[1]);
    loops_close(&loop, &io);
}

TEST(reading_and_writing_share_one_entry_in_the_set)
{
    uv_loop_t loop;
    sg_ioloop io;
    loops_open(&loop, &io);
    int sv[2];
    pair(sv);
    sg_io_watch w;
    room_log log = {.io = &io};
    sg_io_watch_init(&w, sv[0], room_on_ready, &log);
    sg_io_watch_on_writable(&w, room_on_writable);
    CHECK_INT(sg_io_watch_read(&io, &w, true), 0);
    CHECK_INT(sg_io_watch_write(&io, &w, true), 0);
    CHECK_INT((int)io.n_reading, 1);
    CHECK_INT(sg_io_watch_read(&io, &w, false), 0); /* still writing: stays */
    CHECK_INT((int)io.n_reading, 1);
    CHECK_INT(sg_io_watch_write(&io, &w, false), 0);
    CHECK_INT((int)io.n_reading, 0);
    close(sv[0]);
    close(sv[1]);
    loops_close(&loop, &io);
}

int main(void)
{
    RUN(a_watch_reads_bytes_then_eof_and_the_loop_ends);
    RUN(a_stopped_watch_is_not_called_again);
    RUN(a_libuv_timer_started_from_a_watch_fires_after_its_time);
    RUN(a_socket_that_cannot_join_the_set_is_reported);
    RUN(with_nothing_to_watch_the_loop_returns_at_once);
    RUN(a_watch_for_room_is_called_once_the_peer_drains);
    RUN(reading_and_writing_share_one_entry_in_the_set);
    return UNIT_DONE();
}
