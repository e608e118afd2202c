/*
 * status_client.c — `sockgate status`: connect to a running sockgate's
 * root-only status socket (gate/status.c) and print what it says.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/commands.h"

int sg_cmd_status(int argc, char **argv)
{
    char path[4096];
    snprintf(path, sizeof path, "/var/lib/sockgate/status.sock");
    if (argc == 3 && strcmp(argv[1], "--socket") == 0)
        snprintf(path, sizeof path, "%s", argv[2]);
    else if (argc == 3 && strcmp(argv[1], "--state-dir") == 0)
        snprintf(path, sizeof path, "%s/status.sock", argv[2]);
    else if (argc != 1) {
        fputs("usage: sockgate status [--state-dir DIR | --socket PATH]\n", stderr);
        return 2;
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        fprintf(stderr, "sockgate status: socket path too long: %s\n", path);
        return 1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        fprintf(stderr, "sockgate status: cannot connect to %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return 1;
    }
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        fwrite(buf, 1, (size_t)n, stdout);
    close(fd);
    putchar('\n');
    return n < 0 ? 1 : 0;
}

