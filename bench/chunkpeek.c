/*
 * bench/chunkpeek.c — what zero-copy chunk data would cost. Not part of
 * sockgate; bench/profile-stream puts it beside sockgate, the floor relay and
 * the splicing floor relay for one chunked answer (GET …/archive).
 *
 *   chunkpeek LISTEN_PATH ENGINE_PATH
 *
 * A chunked answer's framing is in its data: a relay that checks it must see
 * every size line and the CRLF after every chunk, but not the chunk data.
 * This relay sees only those. For each chunk it sets the engine socket's
 * peek offset (SO_PEEK_OFF) to where the size line must be, peeks it, checks
 * it (the CRLF that ends the chunk before, lowercase hex, no extension), and
 * counts the chunk as checked; then it moves the checked bytes, size lines
 * included, from the engine socket into a pipe and on to the client with
 * splice(2). No data byte enters user space. That costs two system calls a
 * chunk where a copying relay spends two a read; dockerd's chunks are 32 KiB
 * and its reads about 200 KB, which is what this tool is for measuring.
 *
 * It is an experiment, not a relay to use: one connection at a time,
 * blocking, requests without a body, `Connection: close` added to each so
 * that the answer ends with the engine's close, chunked answers only, no
 * trailers. A framing error or any failure ends the connection.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "unix_addr.h"

#define PEEK_PIPE (256 * 1024) /* the pipe, and the most checked before a move */
#define PEEK_HEAD 8192

static int peek_pipe[2];

static bool write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Move n bytes from the engine to the client through the pipe. */
static bool splice_on(int engine, int client, size_t n)
{
    while (n > 0) {
        size_t want = n < PEEK_PIPE ? n : PEEK_PIPE;
        ssize_t in = splice(engine, NULL, peek_pipe[1], NULL, want, SPLICE_F_MOVE);
        if (in <= 0)
            return false;
        for (ssize_t left = in; left > 0;) {
            ssize_t out = splice(peek_pipe[0], NULL, client, NULL, (size_t)left, SPLICE_F_MOVE);
            if (out <= 0)
                return false;
            left -= out;
        }
        n -= (size_t)in;
    }
    return true;
}

/* One size line at the front of p[0, n), with the CRLF that ends the chunk
 * before it unless first. Returns its length and sets *size, 0 when the line
 * is not all there yet, -1 when it is not a size line this relay passes. */
static int size_line(const char *p, size_t n, bool first, size_t *size)
{
    size_t i = 0, digits = 0;
    if (!first) {
        if (n < 2)
            return 0;
        if (p[0] != '\r' || p[1] != '\n')
            return -1;
        i = 2;
    }
    *size = 0;
    for (; i < n && digits < 8; i++, digits++) {
        char c = p[i];
        if (c >= '0' && c <= '9')
            *size = *size * 16 + (size_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            *size = *size * 16 + (size_t)(c - 'a' + 10);
        else
            break;
    }
    if (i + 1 >= n)
        return 0;
    if (!digits || p[i] != '\r' || p[i + 1] != '\n')
        return -1;
    return (int)(i + 2);
}

static bool peek_from(int engine, int off)
{
    return setsockopt(engine, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof off) == 0;
}

/* Block until the engine holds a byte not yet moved. A peek does not wait
 * for more than that (unix_stream_read_generic ends a peek at the queue's
 * end, MSG_WAITALL or not): a size line cut in two is carried instead. */
static bool wait_for(int engine)
{
    char c;
    return peek_from(engine, -1) && recv(engine, &c, 1, MSG_PEEK) == 1;
}

/* A size line that is not all there yet (the engine's write cut it): read it
 * a byte at a time as it comes, check it, write it on, and splice its chunk.
 * Rare (dockerd writes a size line with the data before it), so slow. */
static bool carry_line(int engine, int client, bool *first, bool *last)
{
    char line[24];
    size_t n = 0, size = 0;
    int len = 0;
    while (len == 0) {
        if (n == sizeof line || read(engine, line + n, 1) != 1)
            return false;
        len = size_line(line, ++n, *first, &size);
    }
    if (len < 0)
        return false;
    if (size == 0) { /* the last chunk's final CRLF */
        for (; n < (size_t)len + 2; n++)
            if (read(engine, line + n, 1) != 1)
                return false;
        if (line[len] != '\r' || line[len + 1] != '\n')
            return false;
        *last = true;
    }
    *first = false;
    return write_all(client, line, n) && (size == 0 || splice_on(engine, client, size));
}

/* Check up to PEEK_PIPE bytes' worth of chunks ahead by their size lines;
 * returns how many bytes that is, 0 when the next line is not all there,
 * -1 on a framing error. *last is set when the last chunk is among them. */
static ssize_t check_ahead(int engine, bool *first, bool *last, size_t *have)
{
    size_t checked = 0;
    while (!*last && checked < PEEK_PIPE) {
        char line[24];
        if (!peek_from(engine, (int)checked))
            return -1;
        ssize_t n = recv(engine, line, sizeof line, MSG_PEEK | MSG_DONTWAIT);
        if (n <= 0)
            break;
        size_t size;
        int len = size_line(line, (size_t)n, *first, &size);
        if (len < 0)
            return -1;
        if (len == 0) {
            *have = (size_t)n;
            break;
        }
        if (size == 0) { /* the last chunk: its size line and the final CRLF */
            if ((size_t)n < (size_t)len + 2) {
                *have = (size_t)n;
                break;
            }
            if (line[len] != '\r' || line[len + 1] != '\n')
                return -1;
            *last = true;
            return (ssize_t)(checked + (size_t)len + 2);
        }
        *first = false;
        checked += (size_t)len + size;
    }
    return (ssize_t)checked;
}

/* The chunked body: check ahead, move what was checked, until the last
 * chunk has passed. */
static bool body(int engine, int client)
{
    bool first = true, last = false;
    while (!last) {
        size_t have = 0; /* bytes of a size line that is not all there */
        if (!wait_for(engine))
            return false;
        ssize_t checked = check_ahead(engine, &first, &last, &have);
        if (checked < 0)
            return false;
        if (checked > 0 && !splice_on(engine, client, (size_t)checked))
            return false;
        if (checked == 0 && have > 0 && !carry_line(engine, client, &first, &last))
            return false;
    }
    return true;
}

/* One exchange: the request with `Connection: close` added, the answer's
 * head byte for byte, its chunked body by peek and splice. */
static void exchange(int client, const struct sockaddr_un *engine_addr)
{
    char head[PEEK_HEAD + 1];
    size_t n = 0;
    char *end = NULL;
    while (!end && n < PEEK_HEAD) {
        ssize_t r = read(client, head + n, PEEK_HEAD - n);
        if (r <= 0)
            return;
        n += (size_t)r;
        head[n] = '\0';
        end = strstr(head, "\r\n\r\n");
    }
    if (!end || (size_t)(end - head) + 4 != n) /* a body, or a pipelined request */
        return;
    int engine = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (engine < 0)
        return;
    size_t line_end = (size_t)(end - head) + 2;
    if (connect(engine, (const struct sockaddr *)engine_addr, sizeof *engine_addr) == 0 &&
        write_all(engine, head, line_end) && write_all(engine, "Connection: close\r\n\r\n", 21)) {
        ssize_t p = recv(engine, head, PEEK_HEAD, MSG_PEEK);
        head[p > 0 ? p : 0] = '\0';
        end = strstr(head, "\r\n\r\n");
        size_t len = end ? (size_t)(end - head) + 4 : 0;
        if (end && read(engine, head, len) == (ssize_t)len && write_all(client, head, len) &&
            strcasestr(head, "\r\ntransfer-encoding: chunked\r\n"))
            body(engine, client);
    }
    close(engine);
}

int main(int argc, char **argv)
{
    struct sockaddr_un la, ea;
    if (argc != 3 || unix_addr(argv[1], &la) < 0 || unix_addr(argv[2], &ea) < 0) {
        fprintf(stderr, "usage: chunkpeek LISTEN_PATH ENGINE_PATH\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    unlink(argv[1]);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&la, sizeof la) < 0 || listen(lfd, 16) < 0 ||
        pipe2(peek_pipe, O_CLOEXEC) < 0) {
        perror("chunkpeek");
        return 1;
    }
    fcntl(peek_pipe[1], F_SETPIPE_SZ, PEEK_PIPE);
    for (;;) {
        int client = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (client < 0)
            continue;
        exchange(client, &ea);
        close(client);
    }
}
