/*
 * bench/unix_addr.h — the one helper the bench's single-file relays share:
 * a unix socket path into a sockaddr_un, refused when it does not fit.
 */
#ifndef BENCH_UNIX_ADDR_H
#define BENCH_UNIX_ADDR_H

#include <string.h>
#include <sys/un.h>

static inline int unix_addr(const char *path, struct sockaddr_un *sa)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa->sun_path)
        return -1;
    strcpy(sa->sun_path, path);
    return 0;
}

#endif
