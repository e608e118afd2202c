/*
 * ticker.h — timers for the loop's periodic work, on kernel timer fds.
 *
 * libuv turns its nearest pending timer into the timeout of every
 * epoll_wait, and the kernel arms an hrtimer for each wait that has one:
 * with a once-a-second sweep pending, every request paid for arming and
 * cancelling a timer twice (once per wake-up), in a virtual machine a
 * costly operation. A ticker is a timerfd the loop polls like a socket:
 * with only tickers pending, epoll_wait blocks without a timeout, and the
 * kernel arms one timer per tick, not per wait. For periodic work
 * (sweeps, refreshes); one-shot timeouts stay libuv timers.
 */
#ifndef SG_TICKER_H
#define SG_TICKER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

typedef struct sg_ticker sg_ticker;
typedef void (*sg_ticker_fn)(sg_ticker *t);

struct sg_ticker {
    uv_poll_t poll;      /* on fd                                   */
    int fd;              /* the timerfd, -1 once closed             */
    sg_ticker_fn fn;
    void *data;          /* the owner's                             */
    uv_close_cb closed;  /* the owner's, after sg_ticker_close      */
};

/* A stopped ticker on loop. 0, or a negative libuv error. */
int sg_ticker_init(uv_loop_t *loop, sg_ticker *t);
/* Call fn after first_ms (0: on the next loop iteration), then every
 * every_ms (0: once). Restarting replaces the schedule. */
int sg_ticker_start(sg_ticker *t, sg_ticker_fn fn, uint64_t first_ms, uint64_t every_ms);
void sg_ticker_stop(sg_ticker *t);
/* Like uv_unref: a ticker alone does not keep the loop alive. */
void sg_ticker_unref(sg_ticker *t);
/* Close (the timerfd too); closed, if not NULL, is called with the poll
 * handle once libuv is done with it. A ticker whose init failed has
 * nothing to close: nothing happens, closed is not called. */
void sg_ticker_close(sg_ticker *t, uv_close_cb closed);

#endif
