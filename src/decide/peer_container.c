/*
 * peer_container.c — the peer's container and PID namespace from /proc
 * (see peer_container.h).
 */
#include "decide/peer_container.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77 /* Linux 6.5; Debian 12's headers predate it */
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

static bool is_hex_id(const char *s, size_t n)
{
    if (n != SG_CONTAINER_ID_LEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* A path component that is an ID, or one wrapped by a prefix ending in '-'
 * and an optional ".scope" (systemd's cgroup driver). */
static bool component_id(const char *s, size_t n, char out[SG_CONTAINER_ID_LEN + 1])
{
    if (n > 6 && memcmp(s + n - 6, ".scope", 6) == 0)
        n -= 6;
    if (n > SG_CONTAINER_ID_LEN && s[n - SG_CONTAINER_ID_LEN - 1] == '-') {
        s += n - SG_CONTAINER_ID_LEN;
        n = SG_CONTAINER_ID_LEN;
    }
    if (!is_hex_id(s, n))
        return false;
    memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

/* The deepest ID in one cgroup path. */
static bool path_id(const char *p, size_t n, char out[SG_CONTAINER_ID_LEN + 1])
{
    bool found = false;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || p[i] == '/') {
            if (i > start && component_id(p + start, i - start, out))
                found = true;
            start = i + 1;
        }
    }
    return found;
}

bool sg_cgroup_container_id(const char *text, size_t len, char out[SG_CONTAINER_ID_LEN + 1])
{
    char first[SG_CONTAINER_ID_LEN + 1] = "";
    size_t line = 0;
    while (line < len) {
        const char *nl = memchr(text + line, '\n', len - line);
        size_t end = nl ? (size_t)(nl - text) : len;
        const char *l = text + line;
        size_t n = end - line;
        /* hierarchy-ID:controllers:path — the path may itself hold ':' */
        const char *c1 = memchr(l, ':', n);
        const char *c2 = c1 ? memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - l)) : NULL;
        if (c2) {
            char id[SG_CONTAINER_ID_LEN + 1];
            const char *path = c2 + 1;
            bool unified = c1 - l == 1 && l[0] == '0' && c2 == c1 + 1;
            if (path_id(path, (size_t)(l + n - path), id)) {
                if (unified) {
                    memcpy(out, id, sizeof id);
                    return true;
                }
                if (!first[0])
                    memcpy(first, id, sizeof id);
            }
        }
        line = end + 1;
    }
    if (!first[0])
        return false;
    memcpy(out, first, sizeof first);
    return true;
}

static bool pidns_at(const char *path, uint64_t *dev, uint64_t *ino)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return false;
    *dev = st.st_dev;
    *ino = st.st_ino;
    return true;
}

bool sg_pidns_of(pid_t pid, uint64_t *dev, uint64_t *ino)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/pid", (int)pid);
    return pid > 0 && pidns_at(path, dev, ino);
}

bool sg_pidns_self(uint64_t *dev, uint64_t *ino)
{
    return pidns_at("/proc/self/ns/pid", dev, ino);
}

int sg_peer_pidfd(int sock_fd)
{
    int pidfd = -1;
    socklen_t len = sizeof pidfd;
    if (getsockopt(sock_fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) != 0)
        return -1;
    return pidfd;
}

/* The process behind pidfd still exists (so its PID was not reused). */
static bool pidfd_alive(int pidfd)
{
    return syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0;
}

bool sg_peer_container_read(pid_t pid, int pidfd, sg_peer_container *out)
{
    memset(out, 0, sizeof *out);
    if (pid <= 0)
        return false;
    char path[64], text[8192];
    snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, text, sizeof text);
    close(fd);
    if (n <= 0 || (size_t)n == sizeof text) /* a cgroup file never fills 8 KiB */
        return false;
    if (!sg_cgroup_container_id(text, (size_t)n, out->id) ||
        !sg_pidns_of(pid, &out->pidns_dev, &out->pidns_ino))
        return false;
    return pidfd < 0 || pidfd_alive(pidfd);
}
