/*
 * regfile.c — reading a regular file without blocking (see regfile.h).
 */
#include "base/regfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *regfile_kind(mode_t mode)
{
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISSOCK(mode))
        return "a socket";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    return "of an unknown type";
}

/* 0 if `st` is a regular file of at most `max` bytes, else -1 and why. */
static int regfile_check(const char *path, const struct stat *st, size_t max, char *err,
                         size_t errsz)
{
    if (!S_ISREG(st->st_mode)) {
        snprintf(err, errsz, "%s: not a regular file (%s)", path, regfile_kind(st->st_mode));
        return -1;
    }
    if ((unsigned long long)st->st_size > max) {
        snprintf(err, errsz, "%s: larger than %zu bytes", path, max);
        return -1;
    }
    return 0;
}

/* Reads up to max + 1 bytes: the file may have grown since fstat. */
static char *regfile_slurp(int fd, const char *path, size_t max, size_t *len, char *err,
                           size_t errsz)
{
    char *text = malloc(max + 2);
    size_t got = 0;
    while (text && got <= max) {
        ssize_t n = read(fd, text + got, max + 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errsz, "%s: %s", path, strerror(errno));
            free(text);
            return NULL;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    if (!text)
        snprintf(err, errsz, "%s: out of memory", path);
    else if (got > max) {
        snprintf(err, errsz, "%s: larger than %zu bytes", path, max);
        free(text);
        return NULL;
    } else {
        text[got] = '\0';
        *len = got;
    }
    return text;
}

char *sg_regfile_read(const char *path, size_t max, size_t *len, char *err, size_t errsz)
{
    /* stat first, so that a device is never opened (opening some has
     * effects) and a socket, which open(2) refuses with ENXIO, is named. */
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errsz, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (regfile_check(path, &st, max, err, errsz) != 0)
        return NULL;
    /* O_NONBLOCK: the path may have become a FIFO since the stat, and
     * opening a FIFO for reading would wait for a writer. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        snprintf(err, errsz, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *text = NULL;
    if (fstat(fd, &st) != 0)
        snprintf(err, errsz, "%s: %s", path, strerror(errno));
    else if (regfile_check(path, &st, max, err, errsz) == 0)
        text = regfile_slurp(fd, path, max, len, err, errsz); /* a regular file never blocks */
    close(fd);
    return text;
}
