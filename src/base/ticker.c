/*
 * ticker.c — periodic callbacks on timerfds polled by the loop (see
 * ticker.h for why not libuv timers).
 */
#include "base/ticker.h"

#include <errno.h>
#include <sys/timerfd.h>
#include <unistd.h>

static void ticker_on_readable(uv_poll_t *p, int status, int events)
{
    sg_ticker *t = p->data;
    uint64_t expirations;
    if (status < 0 || read(t->fd, &expirations, sizeof expirations) != sizeof expirations)
        return; /* EAGAIN: a restart raced the tick */
    if (t->fn)
        t->fn(t);
}

int sg_ticker_init(uv_loop_t *loop, sg_ticker *t)
{
    t->fn = NULL;
    t->closed = NULL;
    t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (t->fd < 0)
        return -errno;
    int rc = uv_poll_init(loop, &t->poll, t->fd);
    if (rc != 0) {
        close(t->fd);
        t->fd = -1;
        return rc;
    }
    t->poll.data = t;
    return 0;
}

static struct timespec ms_to_ts(uint64_t ms)
{
    return (struct timespec){.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000};
}

int sg_ticker_start(sg_ticker *t, sg_ticker_fn fn, uint64_t first_ms, uint64_t every_ms)
{
    struct itimerspec its = {.it_value = ms_to_ts(first_ms), .it_interval = ms_to_ts(every_ms)};
    if (first_ms == 0)
        its.it_value.tv_nsec = 1; /* 0 would disarm it: "now" is the next iteration */
    t->fn = fn;
    if (timerfd_settime(t->fd, 0, &its, NULL) != 0)
        return -errno;
    return uv_poll_start(&t->poll, UV_READABLE, ticker_on_readable);
}

void sg_ticker_stop(sg_ticker *t)
{
    struct itimerspec off = {0};
    timerfd_settime(t->fd, 0, &off, NULL);
    uv_poll_stop(&t->poll);
}

void sg_ticker_unref(sg_ticker *t) { uv_unref((uv_handle_t *)&t->poll); }

static void ticker_on_closed(uv_handle_t *h)
{
    sg_ticker *t = h->data;
    close(t->fd);
    t->fd = -1;
    if (t->closed)
        t->closed(h);
}

void sg_ticker_close(sg_ticker *t, uv_close_cb closed)
{
    /* fd < 0: init failed (no handle was made) or it is closed already */
    if (t->fd < 0 || uv_is_closing((uv_handle_t *)&t->poll))
        return;
    t->closed = closed;
    uv_close((uv_handle_t *)&t->poll, ticker_on_closed);
}
