/*
 * bench/floor.c — the floor of a relay: what any gate in front of dockerd's
 * socket must pay, and nothing else. Not part of sockgate; bench/run puts it
 * beside sockgate so that the cost sockgate adds per request shows.
 *
 *   floor [--splice] LISTEN_PATH UPSTREAM_PATH
 *
 * One thread, level-triggered epoll. Each accepted client is paired with a
 * connection of its own to the upstream; bytes read from one side are written
 * to the other at once: no parsing, no policy, one read and one write per
 * wake-up, no epoll_ctl while the peer keeps up. A write the peer does not
 * take in full is kept, the source is not read until it is gone, and the
 * peer is watched for room (backpressure). EOF on one side is passed on as a
 * write shutdown of the other (half-close); the pair ends when both ended or
 * on any error. Runs until killed.
 *
 * --splice: the bytes never enter user space. Each side reads into a pipe of
 * its own with splice(2) and the pipe is spliced into the peer: the cheapest
 * relay Linux allows, and one that could not check a byte of framing. It is
 * the bound beside which a checking relay's large streams are read.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "unix_addr.h"

#define FLOOR_BUF (256 * 1024)

struct side {
    int fd;
    struct side *peer;
    char *buf;         /* bytes read from this side, for the peer */
    int pipe[2];       /* --splice: the pipe that holds them instead */
    size_t off, len;   /* buf[off, len) (or the pipe's len - off bytes) not yet written to the peer */
    unsigned events;   /* what epoll watches on fd */
    bool eof;
};

static int ep;
static bool use_splice;

/* Read s while nothing of its own waits for the peer; watch for room while
 * the peer's bytes wait for s. Only a change costs an epoll_ctl. */
static void watch(struct side *s)
{
    unsigned want = (!s->eof && s->off == s->len ? EPOLLIN : 0u) |
                    (s->peer->off < s->peer->len ? EPOLLOUT : 0u);
    if (want == s->events)
        return;
    struct epoll_event ev = {.events = want, .data.ptr = s};
    epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
    s->events = want;
}

static void pair_close(struct side *s)
{
    struct side *a = s < s->peer ? s : s->peer; /* the pair is one allocation */
    for (int i = 0; i < 2; i++) {
        close(a[i].fd);
        free(a[i].buf);
        if (a[i].pipe[0] >= 0) {
            close(a[i].pipe[0]);
            close(a[i].pipe[1]);
        }
    }
    free(a);
}

/* Write what s holds to its peer: 1 all written, 0 the peer is full, -1 error. */
static int flush(struct side *s)
{
    while (s->off < s->len) {
        ssize_t n = use_splice ? splice(s->pipe[0], NULL, s->peer->fd, NULL, s->len - s->off,
                                        SPLICE_F_MOVE | SPLICE_F_NONBLOCK)
                               : write(s->peer->fd, s->buf + s->off, s->len - s->off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN ? 0 : -1;
        s->off += (size_t)n;
    }
    s->off = s->len = 0;
    return 1;
}

/* One event on side s. Returns false when the pair was closed. */
static bool on_event(struct side *s, unsigned events)
{
    bool ok = true;
    if ((events & (EPOLLHUP | EPOLLERR)) && !(s->events & EPOLLIN))
        ok = false; /* gone, and nothing left to read */
    if (ok && (events & EPOLLOUT)) /* room for what the peer read earlier */
        ok = flush(s->peer) >= 0;
    if (ok && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && (s->events & EPOLLIN)) {
        ssize_t n = use_splice ? splice(s->fd, NULL, s->pipe[1], NULL, FLOOR_BUF,
                                        SPLICE_F_MOVE | SPLICE_F_NONBLOCK)
                               : read(s->fd, s->buf, FLOOR_BUF);
        if (n < 0) {
            ok = errno == EAGAIN || errno == EINTR;
        } else if (n == 0) {
            s->eof = true;
            shutdown(s->peer->fd, SHUT_WR);
            ok = !s->peer->eof;
        } else {
            s->off = 0;
            s->len = (size_t)n;
            ok = flush(s) >= 0;
        }
    }
    if (!ok) {
        pair_close(s);
        return false;
    }
    watch(s);
    watch(s->peer);
    return true;
}

static void on_accept(int lfd, const struct sockaddr_un *up)
{
    int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (cfd < 0)
        return;
    int ufd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct side *s = calloc(2, sizeof *s);
    /* A unix-socket connect completes at once or fails (EAGAIN: backlog
     * full); the benchmark's few connections never fill it. */
    if (ufd < 0 || !s || connect(ufd, (const struct sockaddr *)up, sizeof *up) < 0) {
        close(cfd);
        if (ufd >= 0)
            close(ufd);
        free(s);
        return;
    }
    s[0] = (struct side){.fd = cfd, .peer = &s[1], .pipe = {-1, -1}, .events = EPOLLIN};
    s[1] = (struct side){.fd = ufd, .peer = &s[0], .pipe = {-1, -1}, .events = EPOLLIN};
    bool held = true;
    for (int i = 0; i < 2; i++) {
        if (!use_splice) {
            s[i].buf = malloc(FLOOR_BUF);
            held = held && s[i].buf;
        } else if (pipe2(s[i].pipe, O_CLOEXEC | O_NONBLOCK) == 0) {
            fcntl(s[i].pipe[1], F_SETPIPE_SZ, FLOOR_BUF); /* else the default 64 KiB */
        } else {
            s[i].pipe[0] = s[i].pipe[1] = -1;
            held = false;
        }
    }
    struct epoll_event e0 = {.events = EPOLLIN, .data.ptr = &s[0]};
    struct epoll_event e1 = {.events = EPOLLIN, .data.ptr = &s[1]};
    if (!held || epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &e0) < 0 ||
        epoll_ctl(ep, EPOLL_CTL_ADD, ufd, &e1) < 0)
        pair_close(&s[0]);
}

int main(int argc, char **argv)
{
    struct sockaddr_un la, ua;
    use_splice = argc == 4 && strcmp(argv[1], "--splice") == 0;
    argv += use_splice;
    argc -= use_splice;
    if (argc != 3 || unix_addr(argv[1], &la) < 0 || unix_addr(argv[2], &ua) < 0) {
        fprintf(stderr, "usage: floor [--splice] LISTEN_PATH UPSTREAM_PATH\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    unlink(argv[1]);
    ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&la, sizeof la) < 0 || listen(lfd, 1024) < 0 ||
        ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev) < 0) {
        perror("floor");
        return 1;
    }
    struct epoll_event evs[64];
    for (;;) {
        int n = epoll_wait(ep, evs, 64, -1);
        if (n < 0 && errno != EINTR) {
            perror("floor: epoll_wait");
            return 1;
        }
        /* A pair closed by one event may have a second event in this batch:
         * drop the events of pairs closed in this round. */
        for (int i = 0; i < n; i++) {
            struct side *s = evs[i].data.ptr, *peer;
            if (!s) {
                on_accept(lfd, &ua);
                continue;
            }
            if (s == (struct side *)&ep)
                continue;
            peer = s->peer;
            if (!on_event(s, evs[i].events))
                for (int j = i + 1; j < n; j++)
                    if (evs[j].data.ptr == s || evs[j].data.ptr == peer)
                        evs[j].data.ptr = &ep; /* marks a closed pair's event */
        }
    }
}
