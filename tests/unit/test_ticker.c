/*
 * test_ticker.c — sg_ticker: periodic callbacks on timerfds run by a real
 * libuv loop; a one-shot tick, a repeating one, stop, restart, unref and
 * close, and a ticker that could not be made.
 */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/ticker.h"
#include "unit.h"

typedef struct {
    int ticks;
    int stop_after; /* stop the ticker at this tick; 0: never */
    int closed;
} tick_log;

static void on_tick(sg_ticker *t)
{
    tick_log *log = t->data;
    log->ticks++;
    if (log->ticks == log->stop_after)
        sg_ticker_stop(t);
}

static void on_closed(uv_handle_t *h)
{
    sg_ticker *t = h->data;
    ((tick_log *)t->data)->closed++;
}

static void on_guard(uv_timer_t *guard) { uv_stop(guard->loop); }

/* Run loop for timeout_ms: the ticker's poll, still active, keeps it
 * running until then. */
static void run_for(uv_loop_t *loop, uint64_t timeout_ms)
{
    uv_timer_t guard;
    uv_timer_init(loop, &guard);
    uv_timer_start(&guard, on_guard, timeout_ms, 0);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
}

static void close_loop(uv_loop_t *loop)
{
    uv_run(loop, UV_RUN_NOWAIT);
    CHECK_INT(uv_loop_close(loop), 0);
}

TEST(a_one_shot_tick_runs_once)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    sg_ticker t;
    tick_log log = {.stop_after = 0};
    CHECK_INT(sg_ticker_init(&loop, &t), 0);
    t.data = &log;
    CHECK_INT(sg_ticker_start(&t, on_tick, 5, 0), 0);
    run_for(&loop, 60); /* twelve times the delay: one tick, no more */
    CHECK_INT(log.ticks, 1);
    sg_ticker_close(&t, on_closed);
    close_loop(&loop);
    CHECK_INT(log.closed, 1);
    CHECK_INT(t.fd, -1);
}

TEST(a_repeating_tick_runs_until_stopped)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    sg_ticker t;
    tick_log log = {.stop_after = 3};
    CHECK_INT(sg_ticker_init(&loop, &t), 0);
    t.data = &log;
    CHECK_INT(sg_ticker_start(&t, on_tick, 0, 2), 0);
    /* Stopped at its third tick, nothing keeps the loop alive: uv_run
     * returns long before the guard. */
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(log.ticks, 3);
    /* Restarting replaces the schedule. */
    log.stop_after = 5;
    CHECK_INT(sg_ticker_start(&t, on_tick, 1, 1), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(log.ticks, 5);
    sg_ticker_close(&t, on_closed);
    close_loop(&loop);
    CHECK_INT(log.closed, 1);
}

TEST(an_unrefd_ticker_does_not_keep_the_loop_alive)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    sg_ticker t;
    tick_log log = {0};
    CHECK_INT(sg_ticker_init(&loop, &t), 0);
    t.data = &log;
    CHECK_INT(sg_ticker_start(&t, on_tick, 10000, 10000), 0);
    sg_ticker_unref(&t);
    CHECK_INT(uv_run(&loop, UV_RUN_DEFAULT), 0); /* returns at once */
    CHECK_INT(log.ticks, 0);
    sg_ticker_close(&t, NULL);
    sg_ticker_close(&t, NULL); /* a second close is harmless */
    close_loop(&loop);
    CHECK_INT(t.fd, -1);
}

/* Out of file descriptors (the server's start-up failure path): init
 * fails, start fails, close does nothing and calls nothing. */
TEST(a_ticker_that_could_not_be_made)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct rlimit was, low;
    CHECK_INT(getrlimit(RLIMIT_NOFILE, &was), 0);
    int fds[64], n = 0;
    low = was;
    low.rlim_cur = 32;
    CHECK_INT(setrlimit(RLIMIT_NOFILE, &low), 0);
    while (n < 64 && (fds[n] = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
        n++;
    sg_ticker t;
    memset(&t, 0, sizeof t);
    tick_log log = {0};
    int rc = sg_ticker_init(&loop, &t);
    while (n > 0)
        close(fds[--n]);
    CHECK_INT(setrlimit(RLIMIT_NOFILE, &was), 0);
    CHECK(rc < 0);
    CHECK_INT(t.fd, -1);
    t.data = &log;
    CHECK(sg_ticker_start(&t, on_tick, 1, 0) < 0);
    sg_ticker_close(&t, on_closed);
    close_loop(&loop);
    CHECK_INT(log.closed, 0);
    CHECK_INT(log.ticks, 0);
}

int main(void)
{
    RUN(a_one_shot_tick_runs_once);
    RUN(a_repeating_tick_runs_until_stopped);
    RUN(an_unrefd_ticker_does_not_keep_the_loop_alive);
    RUN(a_ticker_that_could_not_be_made);
    return UNIT_DONE();
}
