/*
 * rawio.h — the request path's read, write, writev and epoll wait, made
 * through syscall(2) instead of glibc's wrappers.
 *
 * glibc makes read, write, writev and epoll_wait thread-cancellation
 * points: in a process with more than one thread (libuv's thread pool,
 * which runs the registry look-ups, makes sockgate one) every call
 * switches the calling thread's cancellation state on and off around the
 * system call, two atomic updates of its thread block. sockgate never
 * cancels a thread, and a keep-alive request makes six of these calls;
 * perf put the switching at about a tenth of the gate's own user time per
 * /_ping. syscall(2) is not a cancellation point and otherwise the same:
 * -1 and errno on failure.
 */
#ifndef SG_RAWIO_H
#define SG_RAWIO_H

#include <signal.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static inline ssize_t sg_raw_read(int fd, void *buf, size_t len)
{
    return (ssize_t)syscall(SYS_read, fd, buf, len);
}

static inline ssize_t sg_raw_write(int fd, const void *buf, size_t len)
{
    return (ssize_t)syscall(SYS_write, fd, buf, len);
}

static inline ssize_t sg_raw_writev(int fd, const struct iovec *iov, int n)
{
    return (ssize_t)syscall(SYS_writev, fd, iov, n);
}

/* epoll_pwait with no signal mask is epoll_wait, and exists on every
 * Linux architecture (epoll_wait does not on arm64). */
static inline int sg_raw_epoll_wait(int epfd, struct epoll_event *ev, int n, int timeout)
{
    return (int)syscall(SYS_epoll_pwait, epfd, ev, n, timeout, NULL, _NSIG / 8);
}

#endif
