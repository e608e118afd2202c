/*
 * bench/loadgen.c — sockgate's own HTTP/1.1 load generator over unix sockets.
 *
 * Owns the measurements bench/run makes:
 *   rps    N keep-alive connections, one request in flight on each (no
 *          pipelining), for a fixed duration after a warm-up; prints
 *          requests/s, p50 and p99 latency (microseconds) and errors.
 *   idle   K connections, each completes one GET /_ping (so the server has
 *          accepted and served it), then all are held open until SIGTERM /
 *          SIGINT, or until stdin reaches EOF when --wait-stdin is given.
 *   stream one request whose body is read and discarded as fast as possible;
 *          prints body bytes, MiB/s and the sizes of the body's chunks
 *          (--demux: the payload of Docker's stdcopy frames, apart).
 *   upload one request whose body is a file, sent chunked the way the docker
 *          CLI (Go's net/http) sends `docker cp` and `docker load` bodies.
 *   attach one hijacked attach to a container running `cat`: N bytes to its
 *          stdin and its stdout read back at once, then half-close and EOF.
 *   pairs  two servers in alternating blocks of tens of milliseconds, the
 *          rps measurement on each in turn; prints the median and quartiles
 *          of the pairs' request-rate and CPU-per-request ratios.
 *
 * It is single-threaded (epoll), so that a run measures the server, not lock
 * contention in the client. Responses are framed by Content-Length, chunked
 * encoding or connection close, which is all dockerd and the proxies send.
 * It is a benchmark tool, not part of sockgate: it trusts its peers to speak
 * HTTP and only validates framing well enough to find where a response ends.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LG_HEAD_MAX   8192          /* response head larger than this = error */
#define LG_READ_BUF   (256 * 1024)
#define LG_IDLE_WINDOW 128          /* idle mode: pings outstanding at once */

/* ---- options ------------------------------------------------------------ */

struct lg_opts {
    const char *mode;
    const char *sock;
    const char *method;
    const char *path;
    int conns;
    double duration;
    double warmup;
    double timeout;
    bool wait_stdin;
    const char *cpu_pids;    /* rps: processes whose CPU time is measured */
    const char *sock_b;      /* pairs: the second server, and its processes */
    const char *cpu_pids_b;
    int pairs;
    double block_ms;
    bool demux;              /* stream: count stdcopy payload, not frame headers */
    const char *body;        /* upload: the file sent as the request body */
    bool tar_chunks;         /* upload: chunked as `docker cp` chunks a tar */
    const char *ctype;       /* upload: Content-Type */
    const char *expect;      /* upload: the answer must hold this */
    double send_bytes;       /* attach: bytes sent to the container's stdin */
};

static _Noreturn void lg_usage(void)
{
    fprintf(stderr,
        "usage: loadgen rps    --socket S [--conns N] [--duration SEC] [--warmup SEC]\n"
        "                      [--method M] [--path P] [--cpu-pid PID[,PID...]]\n"
        "       loadgen pairs  --socket A --socket-b B [--conns N] [--pairs K] [--block-ms MS]\n"
        "                      [--path P] [--cpu-pid PID[,...]] [--cpu-pid-b PID[,...]]\n"
        "       loadgen idle   --socket S --conns K [--wait-stdin] [--timeout SEC]\n"
        "       loadgen stream --socket S --path P [--method M] [--timeout SEC] [--demux]\n"
        "                      [--cpu-pid PID[,...]]\n"
        "       loadgen upload --socket S --path P --body FILE [--method M (PUT)] [--tar-chunks]\n"
        "                      [--content-type T] [--expect TEXT] [--timeout SEC] [--cpu-pid PID[,...]]\n"
        "       loadgen attach --socket S --path P --send-bytes N [--timeout SEC] [--cpu-pid PID[,...]]\n");
    exit(2);
}

static double lg_num(const char *s, const char *what)
{
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || v < 0) {
        fprintf(stderr, "loadgen: bad %s: %s\n", what, s);
        exit(2);
    }
    return v;
}

/* A flag without a value: sets *on when arg is name. */
static bool lg_flag(const char *arg, const char *name, bool *on)
{
    if (strcmp(arg, name) != 0)
        return false;
    *on = true;
    return true;
}

static void lg_parse_opts(int argc, char **argv, struct lg_opts *o)
{
    *o = (struct lg_opts){ .method = "GET", .path = "/_ping", .conns = 1,
                           .duration = 5, .warmup = 1, .timeout = 60,
                           .pairs = 100, .block_ms = 50 };
    if (argc < 2)
        lg_usage();
    o->mode = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (lg_flag(a, "--wait-stdin", &o->wait_stdin) || lg_flag(a, "--demux", &o->demux) ||
            lg_flag(a, "--tar-chunks", &o->tar_chunks))
            continue;
        if (i + 1 >= argc)
            lg_usage();
        const char *v = argv[++i];
        if (strcmp(a, "--socket") == 0) o->sock = v;
        else if (strcmp(a, "--method") == 0) o->method = v;
        else if (strcmp(a, "--path") == 0) o->path = v;
        else if (strcmp(a, "--conns") == 0) o->conns = (int)lg_num(v, a);
        else if (strcmp(a, "--duration") == 0) o->duration = lg_num(v, a);
        else if (strcmp(a, "--warmup") == 0) o->warmup = lg_num(v, a);
        else if (strcmp(a, "--timeout") == 0) o->timeout = lg_num(v, a);
        else if (strcmp(a, "--cpu-pid") == 0) o->cpu_pids = v;
        else if (strcmp(a, "--socket-b") == 0) o->sock_b = v;
        else if (strcmp(a, "--cpu-pid-b") == 0) o->cpu_pids_b = v;
        else if (strcmp(a, "--pairs") == 0) o->pairs = (int)lg_num(v, a);
        else if (strcmp(a, "--block-ms") == 0) o->block_ms = lg_num(v, a);
        else if (strcmp(a, "--body") == 0) o->body = v;
        else if (strcmp(a, "--content-type") == 0) o->ctype = v;
        else if (strcmp(a, "--expect") == 0) o->expect = v;
        else if (strcmp(a, "--send-bytes") == 0) o->send_bytes = lg_num(v, a);
        else lg_usage();
    }
    if (!o->sock || o->conns < 1)
        lg_usage();
    if (strcmp(o->mode, "pairs") == 0 && (!o->sock_b || o->pairs < 1 || o->block_ms < 1))
        lg_usage();
    if (strcmp(o->mode, "upload") == 0 && !o->body)
        lg_usage();
    if (strcmp(o->mode, "attach") == 0 && o->send_bytes < 1)
        lg_usage();
}

/* ---- time --------------------------------------------------------------- */

static uint64_t lg_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t lg_sec_to_ns(double s)
{
    return (uint64_t)(s * 1e9);
}

/* ---- CPU time of other processes ----------------------------------------- */

/*
 * utime + stime of one process (all its threads), in clock ticks, from
 * /proc/PID/stat; -1 if it cannot be read. The command name is skipped by
 * its last ')', since it may hold spaces and parentheses.
 */
static long long lg_proc_ticks(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    unsigned long long ut, st;
    /* fields 3 (state) to 13 are skipped; 14 is utime, 15 stime */
    if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                     &ut, &st) != 2)
        return -1;
    return (long long)(ut + st);
}

/* Nanoseconds on a CPU of every thread of pid, from the scheduler's
 * /proc/PID/task/TID/schedstat (first field); -1 if unreadable. */
static long long lg_proc_cpu_ns(long pid)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/%ld/task", pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    long long sum = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        char *end;
        long tid = strtol(e->d_name, &end, 10);
        if (end == e->d_name || *end) /* "." and ".." */
            continue;
        snprintf(path, sizeof path, "/proc/%ld/task/%ld/schedstat", pid, tid);
        FILE *f = fopen(path, "r");
        unsigned long long ns;
        if (f && fscanf(f, "%llu", &ns) == 1)
            sum += (long long)ns;
        if (f)
            fclose(f);
    }
    closedir(d);
    return sum;
}

/* per_pid summed over a comma-separated list of PIDs; -1 if any fails. */
static long long lg_sum_pids(const char *pids, long long (*per_pid)(long))
{
    long long sum = 0;
    for (const char *p = pids; *p;) {
        char *end;
        long pid = strtol(p, &end, 10);
        long long t = end == p ? -1 : per_pid(pid);
        if (t < 0 || (*end && *end != ','))
            return -1;
        sum += t;
        p = *end == ',' ? end + 1 : end;
    }
    return sum;
}

static long long lg_cpu_ticks(const char *pids) { return lg_sum_pids(pids, lg_proc_ticks); }
static long long lg_cpu_ns(const char *pids) { return lg_sum_pids(pids, lg_proc_cpu_ns); }

/* ---- what a streamed body holds ------------------------------------------ */

/*
 * Why: the streams section checks every byte count and reports the chunk
 * sizes each side uses, so the body the parser skips can be shown to sinks:
 * a chunk-size census (dockerd's and the gates' framing), a demultiplexer of
 * Docker's 8-byte stdcopy frames (logs and attach of a container without a
 * tty: the payload is what the container wrote, the headers are not), and a
 * kept copy of a short answer (a JSON progress stream that may say "error").
 */

#define LG_CHUNK_TOP 8               /* distinct chunk sizes counted */
#define LG_KEEP_MAX  (64 * 1024)     /* bytes of a body kept for checks */

struct lg_chunks {
    uint64_t n;
    uint64_t other;                  /* chunks whose size fell off the table */
    struct { uint64_t size, count; } top[LG_CHUNK_TOP];
};

static void lg_chunks_add(struct lg_chunks *c, uint64_t size)
{
    c->n++;
    for (int i = 0; i < LG_CHUNK_TOP; i++) {
        if (c->top[i].count == 0)
            c->top[i].size = size;
        if (c->top[i].size == size) {
            c->top[i].count++;
            return;
        }
    }
    c->other++;
}

/* "chunks=N chunk_sizes=SIZExCOUNT,..." (the three most frequent sizes). */
static void lg_chunks_print(const struct lg_chunks *c)
{
    printf(" chunks=%" PRIu64 " chunk_sizes=", c->n);
    bool used[LG_CHUNK_TOP] = {0};
    for (int k = 0; k < 3; k++) {
        int best = -1;
        for (int i = 0; i < LG_CHUNK_TOP; i++)
            if (!used[i] && c->top[i].count &&
                (best < 0 || c->top[i].count > c->top[best].count))
                best = i;
        if (best < 0)
            break;
        used[best] = true;
        printf("%s%" PRIu64 "x%" PRIu64, k ? "," : "", c->top[best].size, c->top[best].count);
    }
    if (c->n == 0)
        printf("-");
    if (c->other)
        printf(",otherx%" PRIu64, c->other);
}

/* Docker's stdcopy framing: [stream, 0, 0, 0, size (4 bytes, big-endian)]. */
struct lg_demux {
    unsigned char hdr[8];
    int hlen;
    uint64_t left;                   /* payload bytes left in this frame */
    int stream;
    uint64_t bytes[3];               /* stdin, stdout, stderr */
    uint64_t frames;
    bool bad;
};

static size_t lg_demux_header(struct lg_demux *d, const unsigned char *p, size_t n)
{
    size_t take = 0;
    while (d->hlen < 8 && take < n)
        d->hdr[d->hlen++] = p[take++];
    if (d->hlen < 8)
        return take;
    d->hlen = 0;
    d->stream = d->hdr[0];
    if (d->stream > 2 || d->hdr[1] || d->hdr[2] || d->hdr[3])
        d->bad = true;
    d->left = (uint64_t)d->hdr[4] << 24 | (uint64_t)d->hdr[5] << 16 |
              (uint64_t)d->hdr[6] << 8 | d->hdr[7];
    d->frames++;
    return take;
}

static void lg_demux_feed(void *ctx, const char *buf, size_t n)
{
    struct lg_demux *d = ctx;
    const unsigned char *p = (const unsigned char *)buf;
    while (n && !d->bad) {
        size_t used;
        if (d->left == 0) {
            used = lg_demux_header(d, p, n);
        } else {
            used = n < d->left ? n : (size_t)d->left;
            d->bytes[d->stream] += used;
            d->left -= used;
        }
        p += used;
        n -= used;
    }
}

/* A frame cut off by the end of the stream is an error too. */
static bool lg_demux_ok(const struct lg_demux *d)
{
    return !d->bad && d->hlen == 0 && d->left == 0;
}

static void lg_demux_print(const struct lg_demux *d)
{
    printf(" payload=%" PRIu64 " stdout=%" PRIu64 " stderr=%" PRIu64 " frames=%" PRIu64
           " demux_ok=%d", d->bytes[1] + d->bytes[2], d->bytes[1], d->bytes[2], d->frames,
           lg_demux_ok(d));
}

struct lg_keep {
    char buf[LG_KEEP_MAX + 1];
    size_t len;
};

static void lg_keep_feed(void *ctx, const char *buf, size_t n)
{
    struct lg_keep *k = ctx;
    size_t room = LG_KEEP_MAX - k->len;
    size_t take = n < room ? n : room;
    memcpy(k->buf + k->len, buf, take);
    k->len += take;
    k->buf[k->len] = '\0';
}

/* ---- response framing --------------------------------------------------- */

enum lg_rstate {
    RS_HEAD, RS_BODY_LEN, RS_UNTIL_CLOSE,
    RS_CHUNK_SIZE, RS_CHUNK_EXT, RS_CHUNK_DATA, RS_CHUNK_CRLF, RS_TRAILER,
    RS_DONE
};

struct lg_resp {
    enum lg_rstate state;
    bool head_only;          /* request was HEAD: no body whatever the headers */
    int status;
    bool close_after;        /* server said Connection: close (or HTTP/1.0) */
    uint64_t remaining;      /* bytes left in this body or chunk */
    uint64_t body_bytes;     /* decoded body bytes seen so far */
    uint64_t chunk_size;
    int chunk_digits;
    size_t line_len;         /* trailer: length of the current line */
    struct lg_chunks *chunks;  /* if set: the body's chunk sizes are counted */
    void (*sink)(void *ctx, const char *buf, size_t n); /* if set: sees the body */
    void *sink_ctx;
    size_t head_len;
    char head[LG_HEAD_MAX];
};

static void lg_resp_reset(struct lg_resp *r, bool head_only)
{
    r->state = RS_HEAD;
    r->head_only = head_only;
    r->status = 0;
    r->close_after = false;
    r->remaining = 0;
    r->body_bytes = 0;
    r->chunk_size = 0;
    r->chunk_digits = 0;
    r->line_len = 0;
    r->head_len = 0;
}

/* Case-insensitive "does this header line start with NAME:" ; returns value. */
static const char *lg_header_value(const char *line, const char *name)
{
    size_t n = strlen(name);
    if (strncasecmp(line, name, n) != 0 || line[n] != ':')
        return NULL;
    const char *v = line + n + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    return v;
}

/* Token search limited to the header's own line. */
static bool lg_has_token(const char *v, const char *token)
{
    size_t n = strlen(token);
    for (const char *p = v; *p && *p != '\r'; p++)
        if (strncasecmp(p, token, n) == 0)
            return true;
    return false;
}

/* Parses the complete head (NUL-terminated, lines end in CRLF). */
static int lg_resp_parse_head(struct lg_resp *r)
{
    int minor = 0;
    if (sscanf(r->head, "HTTP/1.%d %3d", &minor, &r->status) != 2)
        return -1;
    r->close_after = (minor == 0);
    bool chunked = false, have_len = false;
    uint64_t len = 0;
    for (char *line = strstr(r->head, "\r\n"); line && line[2]; line = strstr(line + 2, "\r\n")) {
        const char *v, *l = line + 2;
        if ((v = lg_header_value(l, "Content-Length"))) {
            len = strtoull(v, NULL, 10);
            have_len = true;
        } else if ((v = lg_header_value(l, "Transfer-Encoding"))) {
            chunked = lg_has_token(v, "chunked");
        } else if ((v = lg_header_value(l, "Connection"))) {
            if (lg_has_token(v, "close"))
                r->close_after = true;
        }
    }
    if (r->head_only || r->status == 204 || r->status == 304 || r->status / 100 == 1)
        r->state = RS_DONE;
    else if (chunked)
        r->state = RS_CHUNK_SIZE;
    else if (have_len && len == 0)
        r->state = RS_DONE;
    else if (have_len) {
        r->state = RS_BODY_LEN;
        r->remaining = len;
    } else {
        r->state = RS_UNTIL_CLOSE;
        r->close_after = true;
    }
    return 0;
}

/* Accumulates head bytes; returns bytes consumed or -1. */
static ssize_t lg_resp_feed_head(struct lg_resp *r, const char *buf, size_t n)
{
    size_t room = sizeof r->head - 1 - r->head_len;
    size_t take = n < room ? n : room;
    size_t from = r->head_len > 3 ? r->head_len - 3 : 0;
    memcpy(r->head + r->head_len, buf, take);
    r->head_len += take;
    r->head[r->head_len] = '\0';
    char *end = strstr(r->head + from, "\r\n\r\n");
    if (!end)
        return take < n || r->head_len == sizeof r->head - 1 ? -1 : (ssize_t)take;
    size_t head_end = (size_t)(end - r->head) + 4;
    size_t used = take - (r->head_len - head_end);
    r->head[head_end - 2] = '\0';   /* keep the final header's CRLF for parsing */
    r->head_len = head_end;
    return lg_resp_parse_head(r) < 0 ? -1 : (ssize_t)used;
}

static int lg_hex(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* One byte of chunk framing (size line, CRLF after data, trailer). */
static int lg_resp_chunk_byte(struct lg_resp *r, char c)
{
    switch (r->state) {
    case RS_CHUNK_SIZE: {
        int d = lg_hex(c);
        if (d >= 0) {
            if (++r->chunk_digits > 15)
                return -1;
            r->chunk_size = r->chunk_size * 16 + (uint64_t)d;
            return 0;
        }
        if (r->chunk_digits == 0)
            return -1;
        r->state = RS_CHUNK_EXT;   /* extension or end of the size line */
        return lg_resp_chunk_byte(r, c);
    }
    case RS_CHUNK_EXT:
        if (c != '\n')
            return 0;
        r->remaining = r->chunk_size;
        r->state = r->chunk_size ? RS_CHUNK_DATA : RS_TRAILER;
        if (r->chunk_size && r->chunks)
            lg_chunks_add(r->chunks, r->chunk_size);
        r->chunk_size = 0;
        r->chunk_digits = 0;
        r->line_len = 0;
        return 0;
    case RS_CHUNK_CRLF:
        if (c == '\n')
            r->state = RS_CHUNK_SIZE;
        else if (c != '\r')
            return -1;
        return 0;
    case RS_TRAILER:
        if (c == '\n') {
            if (r->line_len == 0)
                r->state = RS_DONE;
            r->line_len = 0;
        } else if (c != '\r') {
            r->line_len++;
        }
        return 0;
    default:
        return -1;
    }
}

/* Body bytes are skipped in bulk: that is what makes stream mode fast. */
static size_t lg_resp_skip_body(struct lg_resp *r, const char *buf, size_t n)
{
    size_t take = n;
    if (r->state != RS_UNTIL_CLOSE && r->remaining < take)
        take = (size_t)r->remaining;
    r->body_bytes += take;
    if (r->sink)
        r->sink(r->sink_ctx, buf, take);
    if (r->state == RS_UNTIL_CLOSE)
        return take;
    r->remaining -= take;
    if (r->remaining == 0)
        r->state = r->state == RS_BODY_LEN ? RS_DONE : RS_CHUNK_CRLF;
    return take;
}

/*
 * Feeds bytes read from the connection. Returns the number consumed; stops at
 * the end of the response (state RS_DONE). Returns -1 on a framing error.
 */
static ssize_t lg_resp_feed(struct lg_resp *r, const char *buf, size_t n)
{
    size_t off = 0;
    while (off < n && r->state != RS_DONE) {
        if (r->state == RS_HEAD) {
            ssize_t used = lg_resp_feed_head(r, buf + off, n - off);
            if (used < 0)
                return -1;
            off += (size_t)used;
        } else if (r->state == RS_BODY_LEN || r->state == RS_CHUNK_DATA ||
                   r->state == RS_UNTIL_CLOSE) {
            off += lg_resp_skip_body(r, buf + off, n - off);
        } else {
            if (lg_resp_chunk_byte(r, buf[off]) < 0)
                return -1;
            off++;
        }
    }
    return (ssize_t)off;
}

/* ---- sockets ------------------------------------------------------------ */

static int lg_connect(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path) {
        fprintf(stderr, "loadgen: socket path too long: %s\n", path);
        exit(2);
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    /* Blocking connect: on a unix socket it waits for backlog room instead of
     * failing with EAGAIN, which is what we want when opening thousands. */
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void lg_nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static int lg_request_fmt(char *buf, size_t cap, const char *method, const char *path)
{
    int n = snprintf(buf, cap, "%s %s HTTP/1.1\r\nHost: docker\r\n"
                     "User-Agent: sockgate-loadgen\r\n\r\n", method, path);
    if (n < 0 || (size_t)n >= cap) {
        fprintf(stderr, "loadgen: request too long\n");
        exit(2);
    }
    return n;
}

/* Writes the whole (small) request; the socket buffer always has room for it
 * because there is never more than one request outstanding. */
static int lg_send_all(int fd, const char *buf, size_t n)
{
    while (n) {
        ssize_t w = write(fd, buf, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

static void lg_raise_nofile(rlim_t want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return;
    if (rl.rlim_max < want) {
        struct rlimit up = { want, want };
        if (setrlimit(RLIMIT_NOFILE, &up) == 0)
            return;
    }
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
}

/* ---- rps mode ----------------------------------------------------------- */

struct lg_conn {
    int fd;
    uint64_t t_start;
    struct lg_resp resp;
};

struct lg_rps {
    const struct lg_opts *o;
    const char *sock;        /* the server this state's connections go to */
    char req[4096];
    size_t req_len;
    bool head_only;
    int ep;
    uint64_t t_measure, t_stop;
    uint64_t *lat;           /* latencies (ns) of requests inside the window */
    size_t nlat, caplat;
    uint64_t errors, non2xx, reconnects;
    bool draining;           /* pairs mode: a block's time is up, send no more */
    int inflight;            /* pairs mode: requests not yet answered        */
};

static void lg_rps_record(struct lg_rps *s, uint64_t ns)
{
    if (s->nlat == s->caplat) {
        s->caplat = s->caplat ? s->caplat * 2 : 65536;
        s->lat = realloc(s->lat, s->caplat * sizeof *s->lat);
        if (!s->lat) {
            perror("loadgen: realloc");
            exit(1);
        }
    }
    s->lat[s->nlat++] = ns;
}

static int lg_rps_open(struct lg_rps *s, struct lg_conn *c)
{
    c->fd = lg_connect(s->sock);
    if (c->fd < 0)
        return -1;
    lg_nonblock(c->fd);
    struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = c };
    return epoll_ctl(s->ep, EPOLL_CTL_ADD, c->fd, &ev);
}

static int lg_rps_send(struct lg_rps *s, struct lg_conn *c)
{
    lg_resp_reset(&c->resp, s->head_only);
    c->t_start = lg_now_ns();
    return lg_send_all(c->fd, s->req, s->req_len);
}

/* A broken connection counts one error and is replaced by a fresh one. */
static void lg_rps_fail(struct lg_rps *s, struct lg_conn *c)
{
    s->errors++;
    close(c->fd);
    c->fd = -1;
    for (int tries = 0; tries < 50; tries++) {
        if (lg_rps_open(s, c) == 0 && lg_rps_send(s, c) == 0)
            return;
        if (c->fd >= 0)
            close(c->fd);
        c->fd = -1;
        s->errors++;
        usleep(20000);
    }
    fprintf(stderr, "loadgen: cannot reconnect to %s: %s\n", s->sock, strerror(errno));
    exit(1);
}

static void lg_rps_complete(struct lg_rps *s, struct lg_conn *c)
{
    uint64_t now = lg_now_ns();
    if (c->t_start >= s->t_measure && now <= s->t_stop) {
        lg_rps_record(s, now - c->t_start);
        if (c->resp.status / 100 != 2)
            s->non2xx++;
    }
    if (s->draining) {
        /* Pairs mode: nothing more until the next block, which reopens a
         * connection the server closed. */
        s->inflight--;
        if (c->resp.close_after) {
            close(c->fd);
            c->fd = -1;
            s->reconnects++;
        }
        return;
    }
    if (c->resp.close_after) {
        /* The server ends keep-alive: reconnecting is part of the cost. */
        close(c->fd);
        c->fd = -1;
        s->reconnects++;
        if (lg_rps_open(s, c) < 0 || lg_rps_send(s, c) < 0)
            lg_rps_fail(s, c);
        return;
    }
    if (lg_rps_send(s, c) < 0)
        lg_rps_fail(s, c);
}

static void lg_rps_readable(struct lg_rps *s, struct lg_conn *c, char *buf)
{
    for (;;) {
        ssize_t n = read(c->fd, buf, LG_READ_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n == 0 && c->resp.state == RS_UNTIL_CLOSE) {
            c->resp.state = RS_DONE;
            lg_rps_complete(s, c);
            return;
        }
        if (n <= 0) {
            lg_rps_fail(s, c);
            return;
        }
        ssize_t used = lg_resp_feed(&c->resp, buf, (size_t)n);
        /* Bytes after the end of a response we did not pipeline = broken. */
        if (used < 0 || (c->resp.state == RS_DONE && used != n)) {
            lg_rps_fail(s, c);
            return;
        }
        if (c->resp.state == RS_DONE) {
            lg_rps_complete(s, c);
            return;
        }
    }
}

static int lg_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static double lg_pct_us(const uint64_t *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)(p * (double)n);
    if (i >= n)
        i = n - 1;
    return (double)sorted[i] / 1000.0;
}

/* State for o->conns connections to sock, none open yet; -1 when out of
 * memory or descriptors. */
static int lg_rps_init(struct lg_rps *s, const struct lg_opts *o, const char *sock,
                       struct lg_conn **conns)
{
    *s = (struct lg_rps){ .o = o, .sock = sock, .head_only = strcmp(o->method, "HEAD") == 0 };
    s->req_len = (size_t)lg_request_fmt(s->req, sizeof s->req, o->method, o->path);
    s->ep = epoll_create1(EPOLL_CLOEXEC);
    *conns = calloc((size_t)o->conns, sizeof **conns);
    if (s->ep < 0 || !*conns)
        return -1;
    for (int i = 0; i < o->conns; i++)
        (*conns)[i].fd = -1;
    return 0;
}

static int lg_mode_rps(const struct lg_opts *o)
{
    struct lg_rps s;
    struct lg_conn *conns;
    lg_raise_nofile((rlim_t)o->conns + 64);
    char *buf = malloc(LG_READ_BUF);
    if (lg_rps_init(&s, o, o->sock, &conns) < 0 || !buf) {
        perror("loadgen");
        return 1;
    }
    uint64_t t0 = lg_now_ns();
    s.t_measure = t0 + lg_sec_to_ns(o->warmup);
    s.t_stop = s.t_measure + lg_sec_to_ns(o->duration);
    for (int i = 0; i < o->conns; i++) {
        if (lg_rps_open(&s, &conns[i]) < 0 || lg_rps_send(&s, &conns[i]) < 0) {
            fprintf(stderr, "loadgen: connect %s: %s\n", o->sock, strerror(errno));
            return 1;
        }
    }
    /* The servers' CPU time is read when the measured window opens and when
     * it closes, so it covers the same interval as the counted requests. */
    long long cpu0 = -1, cpu1 = -1;
    bool cpu_started = false;
    struct epoll_event evs[256];
    for (uint64_t now = lg_now_ns(); now < s.t_stop; now = lg_now_ns()) {
        if (o->cpu_pids && !cpu_started && now >= s.t_measure) {
            cpu0 = lg_cpu_ticks(o->cpu_pids);
            cpu_started = true;
        }
        int ms = (int)((s.t_stop - now) / 1000000u) + 1;
        int n = epoll_wait(s.ep, evs, 256, ms);
        if (n < 0 && errno != EINTR) {
            perror("loadgen: epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++)
            lg_rps_readable(&s, evs[i].data.ptr, buf);
    }
    if (o->cpu_pids && cpu_started)
        cpu1 = lg_cpu_ticks(o->cpu_pids);
    qsort(s.lat, s.nlat, sizeof *s.lat, lg_cmp_u64);
    printf("rps=%.1f p50_us=%.1f p99_us=%.1f requests=%zu errors=%" PRIu64
           " non2xx=%" PRIu64 " reconnects=%" PRIu64 " conns=%d duration=%.2f",
           (double)s.nlat / o->duration, lg_pct_us(s.lat, s.nlat, 0.50),
           lg_pct_us(s.lat, s.nlat, 0.99), s.nlat, s.errors, s.non2xx,
           s.reconnects, o->conns, o->duration);
    if (o->cpu_pids) {
        /* CPU microseconds the measured processes spent per counted request. */
        if (cpu0 < 0 || cpu1 < 0 || s.nlat == 0) {
            printf(" cpu_us_per_req=-");
            s.errors++;
            fprintf(stderr, "loadgen: cannot read the CPU time of %s\n", o->cpu_pids);
        } else {
            double us = (double)(cpu1 - cpu0) * 1e6 / (double)sysconf(_SC_CLK_TCK);
            printf(" cpu_us_per_req=%.2f cpu_ticks=%lld", us / (double)s.nlat, cpu1 - cpu0);
        }
    }
    printf("\n");
    for (int i = 0; i < o->conns; i++)
        if (conns[i].fd >= 0)
            close(conns[i].fd);
    free(conns);
    free(buf);
    free(s.lat);
    close(s.ep);
    return s.errors || s.non2xx || s.nlat == 0 ? 3 : 0;
}

/* ---- pairs mode ----------------------------------------------------------- */

/*
 * Two servers, A and B, measured in alternating short blocks: a block on A,
 * then one on B (the next pair B first), each block its own request rate.
 * A block lasts tens of milliseconds, so both halves of a pair meet nearly
 * the same host: on a shared VM other tenants' load moves back-to-back runs
 * of a second each by several percent, and a second apart is already too far.
 * Single pairs still scatter; the result is the median of hundreds of pairs'
 * ratios A/B with its quartiles, for the request rate and for the servers'
 * CPU time per request (exact, from the scheduler's run-time counters).
 *
 * A block ends when its time is up and its last request is answered: no
 * request crosses into the other server's block.
 */

struct lg_side {
    struct lg_rps s;
    struct lg_conn *conns;
    const char *cpu_pids;
    long long cpu_ns;        /* of this side's blocks, summed  */
    uint64_t requests;       /* answered in this side's blocks */
    double block_rps, block_cpu;
};

static int lg_side_init(struct lg_side *side, const struct lg_opts *o, const char *sock,
                        const char *cpu_pids)
{
    side->cpu_pids = cpu_pids;
    return lg_rps_init(&side->s, o, sock, &side->conns);
}

/* One block on one side: sets block_rps and block_cpu (ns per request). */
static int lg_side_block(struct lg_side *side, uint64_t block_ns, char *buf)
{
    struct lg_rps *s = &side->s;
    int conns = s->o->conns;
    long long cpu0 = side->cpu_pids ? lg_cpu_ns(side->cpu_pids) : 0;
    size_t before = s->nlat;
    uint64_t t0 = lg_now_ns();
    s->t_measure = t0;
    s->t_stop = UINT64_MAX;
    s->draining = false;
    for (int i = 0; i < conns; i++) {
        struct lg_conn *c = &side->conns[i];
        if ((c->fd < 0 && lg_rps_open(s, c) < 0) || lg_rps_send(s, c) < 0) {
            fprintf(stderr, "loadgen: connect %s: %s\n", s->sock, strerror(errno));
            return -1;
        }
    }
    s->inflight = conns;
    struct epoll_event evs[256];
    while (s->inflight > 0) {
        uint64_t now = lg_now_ns();
        if (!s->draining && now >= t0 + block_ns)
            s->draining = true;
        int ms = s->draining ? 1000 : (int)((t0 + block_ns - now) / 1000000u) + 1;
        int n = epoll_wait(s->ep, evs, 256, ms);
        if (n < 0 && errno != EINTR) {
            perror("loadgen: epoll_wait");
            return -1;
        }
        for (int i = 0; i < n; i++)
            lg_rps_readable(s, evs[i].data.ptr, buf);
    }
    uint64_t t1 = lg_now_ns();
    long long cpu1 = side->cpu_pids ? lg_cpu_ns(side->cpu_pids) : 0;
    uint64_t done = s->nlat - before;
    if (cpu0 < 0 || cpu1 < 0 || done == 0) {
        fprintf(stderr, "loadgen: a block on %s: no requests or no CPU time\n", s->sock);
        return -1;
    }
    side->block_rps = (double)done * 1e9 / (double)(t1 - t0);
    side->block_cpu = (double)(cpu1 - cpu0) / (double)done;
    side->cpu_ns += cpu1 - cpu0;
    side->requests += done;
    return 0;
}

static int lg_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median and quartiles of v[0..n), which it sorts. */
static void lg_quartiles(double *v, size_t n, double q[3])
{
    qsort(v, n, sizeof *v, lg_cmp_double);
    q[0] = v[(n - 1) / 4];
    q[1] = v[(n - 1) / 2];
    q[2] = v[(3 * (n - 1)) / 4];
}

static int lg_mode_pairs(const struct lg_opts *o)
{
    struct lg_side a = {0}, b = {0};
    size_t pairs = (size_t)o->pairs, warm = 2;
    double *rps_ratio = calloc(pairs, sizeof *rps_ratio);
    double *cpu_ratio = calloc(pairs, sizeof *cpu_ratio);
    char *buf = malloc(LG_READ_BUF);
    lg_raise_nofile(2 * (rlim_t)o->conns + 64);
    if (!rps_ratio || !cpu_ratio || !buf || lg_side_init(&a, o, o->sock, o->cpu_pids) < 0 ||
        lg_side_init(&b, o, o->sock_b, o->cpu_pids_b) < 0) {
        perror("loadgen");
        return 1;
    }
    uint64_t block_ns = lg_sec_to_ns(o->block_ms / 1000.0);
    for (size_t i = 0; i < warm + pairs; i++) {
        struct lg_side *first = i % 2 ? &b : &a, *second = i % 2 ? &a : &b;
        if (lg_side_block(first, block_ns, buf) < 0 || lg_side_block(second, block_ns, buf) < 0)
            return 1;
        if (i < warm) { /* connections opened, code and caches warm */
            a.cpu_ns = b.cpu_ns = 0;
            a.requests = b.requests = 0;
            continue;
        }
        rps_ratio[i - warm] = a.block_rps / b.block_rps;
        cpu_ratio[i - warm] = a.block_cpu / b.block_cpu;
    }
    double rq[3], cq[3];
    lg_quartiles(rps_ratio, pairs, rq);
    lg_quartiles(cpu_ratio, pairs, cq);
    uint64_t errors = a.s.errors + b.s.errors, non2xx = a.s.non2xx + b.s.non2xx;
    printf("pairs=%zu block_ms=%.0f conns=%d rps_ratio=%.3f rps_q1=%.3f rps_q3=%.3f", pairs,
           o->block_ms, o->conns, rq[1], rq[0], rq[2]);
    if (o->cpu_pids && o->cpu_pids_b)
        printf(" cpu_ratio=%.3f cpu_q1=%.3f cpu_q3=%.3f cpu_us_a=%.2f cpu_us_b=%.2f", cq[1], cq[0],
               cq[2], (double)a.cpu_ns / 1e3 / (double)a.requests,
               (double)b.cpu_ns / 1e3 / (double)b.requests);
    else
        printf(" cpu_ratio=- cpu_q1=- cpu_q3=-"); /* no --cpu-pid and --cpu-pid-b: no CPU */
    printf(" requests_a=%" PRIu64 " requests_b=%" PRIu64 " errors=%" PRIu64 " non2xx=%" PRIu64 "\n",
           a.requests, b.requests, errors, non2xx);
    return errors || non2xx ? 3 : 0;
}

/* ---- idle mode ---------------------------------------------------------- */

/* Reads one whole response on a blocking-style loop over a non-blocking fd;
 * returns 1 done, 0 need more, -1 error. */
static int lg_idle_read(int fd, struct lg_resp *r, char *buf)
{
    for (;;) {
        ssize_t n = read(fd, buf, LG_READ_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return 0;
        if (n <= 0)
            return -1;
        ssize_t used = lg_resp_feed(r, buf, (size_t)n);
        if (used < 0 || (r->state == RS_DONE && used != n))
            return -1;
        if (r->state == RS_DONE)
            return r->status == 200 && !r->close_after ? 1 : -1;
    }
}

/* Waits for pings until at most `keep` are outstanding. */
static int lg_idle_drain(int ep, int *outstanding, int keep, struct lg_resp *resp,
                         int *fds, char *buf, uint64_t deadline)
{
    struct epoll_event evs[LG_IDLE_WINDOW];
    while (*outstanding > keep) {
        if (lg_now_ns() > deadline) {
            fprintf(stderr, "loadgen: timed out waiting for /_ping responses\n");
            return -1;
        }
        int n = epoll_wait(ep, evs, LG_IDLE_WINDOW, 100);
        for (int i = 0; i < n; i++) {
            int idx = evs[i].data.fd;
            int rc = lg_idle_read(fds[idx], &resp[idx], buf);
            if (rc < 0) {
                fprintf(stderr, "loadgen: connection %d: bad /_ping response (status %d)\n",
                        idx, resp[idx].status);
                return -1;
            }
            if (rc == 1) {
                epoll_ctl(ep, EPOLL_CTL_DEL, fds[idx], NULL);
                (*outstanding)--;
            }
        }
    }
    return 0;
}

/* Blocks until SIGTERM/SIGINT/SIGHUP, or stdin EOF when asked to watch it. */
static void lg_idle_hold(const struct lg_opts *o)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = sfd };
    epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
    if (o->wait_stdin) {
        ev.data.fd = STDIN_FILENO;
        epoll_ctl(ep, EPOLL_CTL_ADD, STDIN_FILENO, &ev);
    }
    for (;;) {
        int n = epoll_wait(ep, &ev, 1, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || ev.data.fd == sfd)
            break;
        char b[256];
        if (read(STDIN_FILENO, b, sizeof b) <= 0)
            break;
    }
    close(ep);
    close(sfd);
}

static int lg_mode_idle(const struct lg_opts *o)
{
    int k = o->conns;
    lg_raise_nofile((rlim_t)k + 64);
    /* Signals are taken through signalfd while holding; block them now so an
     * early SIGTERM is not lost (nor fatal) while connections are opened. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int *fds = calloc((size_t)k, sizeof *fds);
    struct lg_resp *resp = calloc((size_t)k, sizeof *resp);
    char *buf = malloc(LG_READ_BUF);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (!fds || !resp || !buf || ep < 0) {
        perror("loadgen");
        return 1;
    }
    char req[4096];
    size_t req_len = (size_t)lg_request_fmt(req, sizeof req, "GET", "/_ping");
    uint64_t deadline = lg_now_ns() + lg_sec_to_ns(o->timeout);
    int outstanding = 0;
    for (int i = 0; i < k; i++) {
        fds[i] = lg_connect(o->sock);
        if (fds[i] < 0) {
            fprintf(stderr, "loadgen: connection %d: connect: %s\n", i, strerror(errno));
            return 1;
        }
        lg_nonblock(fds[i]);
        lg_resp_reset(&resp[i], false);
        struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.fd = i };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) < 0 ||
            lg_send_all(fds[i], req, req_len) < 0) {
            fprintf(stderr, "loadgen: connection %d: %s\n", i, strerror(errno));
            return 1;
        }
        outstanding++;
        if (lg_idle_drain(ep, &outstanding, LG_IDLE_WINDOW - 1, resp, fds, buf, deadline) < 0)
            return 1;
    }
    if (lg_idle_drain(ep, &outstanding, 0, resp, fds, buf, deadline) < 0)
        return 1;
    printf("ready=%d\n", k);
    fflush(stdout);
    lg_idle_hold(o);
    for (int i = 0; i < k; i++)
        close(fds[i]);
    printf("closed=%d\n", k);
    free(fds);
    free(resp);
    free(buf);
    close(ep);
    return 0;
}

/* ---- helpers of the one-transfer modes ----------------------------------- */

/* A blocking connection with the transfer's timeout on reads and writes. */
static int lg_connect_timed(const struct lg_opts *o)
{
    int fd = lg_connect(o->sock);
    if (fd < 0) {
        fprintf(stderr, "loadgen: connect %s: %s\n", o->sock, strerror(errno));
        return -1;
    }
    struct timeval tv = { .tv_sec = (time_t)o->timeout };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}

/* Reads one response to its end (0), or fails on a read error, a timeout or
 * a framing error (-1). */
static int lg_read_response(int fd, struct lg_resp *r, char *buf, size_t cap)
{
    while (r->state != RS_DONE) {
        ssize_t n = read(fd, buf, cap);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 && r->state == RS_UNTIL_CLOSE)
            return 0;
        if (n <= 0 || lg_resp_feed(r, buf, (size_t)n) != n)
            return -1;
    }
    return 0;
}

/* The measured processes' utime+stime so far, in ticks (-1: none asked). */
static long long lg_cpu_start(const struct lg_opts *o)
{
    return o->cpu_pids ? lg_cpu_ticks(o->cpu_pids) : -1;
}

/* " cpu_ticks=N cpu_s=S": what they spent since cpu0; -1 if unreadable. */
static int lg_cpu_print(const struct lg_opts *o, long long cpu0)
{
    if (!o->cpu_pids)
        return 0;
    long long cpu1 = lg_cpu_ticks(o->cpu_pids);
    if (cpu0 < 0 || cpu1 < 0) {
        printf(" cpu_ticks=- cpu_s=-");
        fprintf(stderr, "loadgen: cannot read the CPU time of %s\n", o->cpu_pids);
        return -1;
    }
    printf(" cpu_ticks=%lld cpu_s=%.3f", cpu1 - cpu0,
           (double)(cpu1 - cpu0) / (double)sysconf(_SC_CLK_TCK));
    return 0;
}

static double lg_mib_s(uint64_t bytes, double secs)
{
    return secs > 0 ? (double)bytes / 1048576.0 / secs : 0;
}

/* ---- stream mode -------------------------------------------------------- */

/*
 * One request, its body read with 1 MiB reads and discarded. Counts dockerd's
 * (or a gate's) chunk sizes; with --demux the body is Docker's stdcopy
 * stream (logs of a container without a tty) and the payload is counted
 * apart from the frame headers, which is then what MiB/s is of.
 */
static int lg_mode_stream(const struct lg_opts *o)
{
    int fd = lg_connect_timed(o);
    if (fd < 0)
        return 1;
    char req[4096];
    size_t req_len = (size_t)lg_request_fmt(req, sizeof req, o->method, o->path);
    struct lg_resp *r = calloc(1, sizeof *r);
    struct lg_chunks chunks = {0};
    struct lg_demux dm = {0};
    char *buf = malloc(4 * LG_READ_BUF);   /* big reads: fewer syscalls */
    if (!r || !buf)
        return 1;
    lg_resp_reset(r, strcmp(o->method, "HEAD") == 0);
    r->chunks = &chunks;
    if (o->demux) {
        r->sink = lg_demux_feed;
        r->sink_ctx = &dm;
    }
    long long cpu0 = lg_cpu_start(o);
    uint64_t t0 = lg_now_ns();
    int err = lg_send_all(fd, req, req_len) < 0 || lg_read_response(fd, r, buf, 4 * LG_READ_BUF) < 0;
    double secs = (double)(lg_now_ns() - t0) / 1e9;
    if (o->demux && !lg_demux_ok(&dm))
        err = 1;
    uint64_t counted = o->demux ? dm.bytes[1] + dm.bytes[2] : r->body_bytes;
    printf("bytes=%" PRIu64 " seconds=%.3f mib_s=%.1f status=%d errors=%d", r->body_bytes, secs,
           lg_mib_s(counted, secs), r->status, err);
    lg_chunks_print(&chunks);
    if (o->demux)
        lg_demux_print(&dm);
    if (lg_cpu_print(o, cpu0) < 0)
        err = 1;
    printf("\n");
    int rc = err || r->status / 100 != 2 ? 3 : 0;
    free(r);
    free(buf);
    close(fd);
    return rc;
}

/* ---- upload mode -------------------------------------------------------- */

/*
 * Why: `docker cp` into a container (PUT /containers/{id}/archive) and
 * `docker load` (POST /images/load) send a body of unknown length, which Go's
 * net/http client sends chunked; a gate must carry it at the engine's speed,
 * so it is sent here the way the CLI sends it. Go's net/http/transfer.go
 * (transferWriter.writeBody) writes each Write of io.Copy as one chunk through
 * the connection's 4 KiB bufio.Writer and flushes after each chunk; io.Copy's
 * 32 KiB buffer sets the chunk size. strace of both CLIs here (28.2.2 and
 * 28.5.2) showed it: the head in a write of its own, then per chunk a write of
 * 4,096 bytes ("8000\r\n" and the first 4,090 data bytes, the buffer's fill),
 * one of the other 28,678 and one of "\r\n"; "0\r\n\r\n" at the end.
 * `docker load -i FILE` chunks the file by 32 KiB reads (the last chunk the
 * rest). `docker cp` chunks the tar it writes into a pipe: the 512-byte header
 * alone, the data in 32 KiB chunks, the two 512-byte end blocks one chunk
 * each (--tar-chunks: a tar of one file whose size is a multiple of 512).
 * The time runs from the first byte sent to the end of the answer, which
 * dockerd sends when it has taken the whole body in.
 */

#define LG_GO_COPY (32 * 1024)       /* io.Copy's buffer: the CLI's chunk size */

struct lg_bufw {                     /* Go's bufio.Writer of 4 KiB over a socket */
    int fd;
    int err;
    size_t n;
    uint64_t writes;
    char buf[4096];
};

static void lg_bufw_send(struct lg_bufw *w, const char *p, size_t len)
{
    if (!w->err && lg_send_all(w->fd, p, len) < 0)
        w->err = errno ? errno : EPIPE;
    w->writes++;
}

static void lg_bufw_flush(struct lg_bufw *w)
{
    if (w->n)
        lg_bufw_send(w, w->buf, w->n);
    w->n = 0;
}

/* bufio.Writer.Write: while p does not fit, a large p meeting an empty buffer
 * is written directly, else the buffer is filled from p and flushed. */
static void lg_bufw_write(struct lg_bufw *w, const char *p, size_t len)
{
    while (len > sizeof w->buf - w->n && !w->err) {
        size_t k = sizeof w->buf - w->n;
        if (w->n == 0) {
            k = len;
            lg_bufw_send(w, p, len);
        } else {
            memcpy(w->buf + w->n, p, k);
            w->n += k;
            lg_bufw_flush(w);
        }
        p += k;
        len -= k;
    }
    if (w->err)
        return;
    memcpy(w->buf + w->n, p, len);
    w->n += len;
}

/* net/http's chunkedWriter.Write, then the flush that follows each chunk. */
static void lg_chunk_write(struct lg_bufw *w, const char *data, size_t len)
{
    char hex[24];
    int h = snprintf(hex, sizeof hex, "%zx\r\n", len);
    lg_bufw_write(w, hex, (size_t)h);
    lg_bufw_write(w, data, len);
    lg_bufw_write(w, "\r\n", 2);
    lg_bufw_flush(w);
}

/* The length of the chunk at offset off of a body of total bytes. */
static size_t lg_chunk_len(const struct lg_opts *o, uint64_t off, uint64_t total)
{
    uint64_t end = total;
    if (o->tar_chunks && total >= 1536) {
        if (off < 512)
            return (size_t)(512 - off);
        if (off >= total - 1024)
            return total - off < 512 ? (size_t)(total - off) : 512;
        end = total - 1024;
    }
    return end - off < LG_GO_COPY ? (size_t)(end - off) : LG_GO_COPY;
}

/* Reads exactly len bytes of the file (0), or fails (-1). */
static int lg_read_full(int fd, char *buf, size_t len)
{
    while (len) {
        ssize_t n = read(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Sends the file as the chunked body; returns the data bytes sent. */
static uint64_t lg_upload_body(const struct lg_opts *o, struct lg_bufw *w, int file,
                               uint64_t total, uint64_t *chunks)
{
    char *buf = malloc(LG_GO_COPY);
    uint64_t off = 0;
    while (buf && off < total && !w->err) {
        size_t len = lg_chunk_len(o, off, total);
        if (lg_read_full(file, buf, len) < 0) {
            fprintf(stderr, "loadgen: reading %s: %s\n", o->body, strerror(errno));
            w->err = EIO;
            break;
        }
        lg_chunk_write(w, buf, len);
        off += w->err ? 0 : len;
        (*chunks)++;
    }
    lg_bufw_write(w, "0\r\n\r\n", 5);
    lg_bufw_flush(w);
    free(buf);
    return off;
}

/* The answer is a short one, or a JSON progress stream (docker load): it must
 * hold o->expect, and no "errorDetail". */
static int lg_upload_answer_ok(const struct lg_opts *o, const struct lg_resp *r,
                               const struct lg_keep *k)
{
    if (r->status / 100 != 2 || strstr(k->buf, "\"errorDetail\""))
        return 0;
    return !o->expect || strstr(k->buf, o->expect) != NULL;
}

static int lg_mode_upload(const struct lg_opts *o)
{
    int file = open(o->body, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (file < 0 || fstat(file, &st) < 0) {
        fprintf(stderr, "loadgen: %s: %s\n", o->body, strerror(errno));
        return 1;
    }
    int fd = lg_connect_timed(o);
    struct lg_resp *r = calloc(1, sizeof *r);
    struct lg_keep *k = calloc(1, sizeof *k);
    struct lg_bufw *w = calloc(1, sizeof *w);
    char *buf = malloc(LG_READ_BUF);
    if (fd < 0 || !r || !k || !w || !buf)
        return 1;
    char head[4096];   /* the method: PUT unless --method names another than GET */
    int hl = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: docker\r\n"
                      "User-Agent: sockgate-loadgen\r\nTransfer-Encoding: chunked\r\n"
                      "Content-Type: %s\r\n\r\n", strcmp(o->method, "GET") ? o->method : "PUT",
                      o->path, o->ctype ? o->ctype : "application/x-tar");
    lg_resp_reset(r, false);
    r->sink = lg_keep_feed;
    r->sink_ctx = k;
    w->fd = fd;
    uint64_t chunks = 0, total = (uint64_t)st.st_size;
    long long cpu0 = lg_cpu_start(o);
    uint64_t t0 = lg_now_ns();
    lg_bufw_send(w, head, (size_t)hl);
    uint64_t sent = lg_upload_body(o, w, file, total, &chunks);
    /* An answer sent early (a refusal) is read even after a failed write. */
    int err = lg_read_response(fd, r, buf, LG_READ_BUF) < 0 || w->err || sent != total;
    double secs = (double)(lg_now_ns() - t0) / 1e9;
    int ok = lg_upload_answer_ok(o, r, k);
    printf("sent=%" PRIu64 " body=%" PRIu64 " seconds=%.3f mib_s=%.1f status=%d errors=%d"
           " answer_ok=%d chunks_sent=%" PRIu64 " writes=%" PRIu64, sent, total, secs,
           lg_mib_s(sent, secs), r->status, err, ok, chunks, w->writes);
    if (lg_cpu_print(o, cpu0) < 0)
        err = 1;
    printf("\n");
    if (err || !ok)
        fprintf(stderr, "loadgen: upload: %s; answer: %.300s\n",
                w->err ? strerror(w->err) : "sent", k->buf);
    close(fd);
    close(file);
    free(r);
    free(k);
    free(w);
    free(buf);
    return err || !ok ? 3 : 0;
}

/* ---- attach mode -------------------------------------------------------- */

/*
 * Why: `docker run -i` and `docker attach` carry stdin and stdout on one
 * hijacked connection: POST /containers/{id}/attach?stream=1&stdin=1&stdout=1
 * with Connection: Upgrade and Upgrade: tcp, answered 101, then raw bytes
 * both ways, stdout in stdcopy frames (no tty). Here N bytes go to a
 * container running `cat` in 32 KiB writes (the CLI's io.Copy from its
 * stdin) while its stdout is read back; when all is sent the write side is
 * half-closed (the CLI does so at stdin's end) and the connection read to
 * its EOF. The time runs from the first byte sent to the last payload byte
 * received; MiB/s is N over it, each way.
 */

struct lg_attach {
    int fd;
    uint64_t want, sent;
    uint64_t t0, t_last;     /* first byte sent, last payload byte received */
    bool shut, eof;
    struct lg_demux dm;
};

/* Request, then the 101 head; bytes after it are the stream's. */
static int lg_attach_open(const struct lg_opts *o, struct lg_attach *a, char *buf, size_t cap)
{
    char req[4096];
    int n = snprintf(req, sizeof req, "POST %s HTTP/1.1\r\nHost: docker\r\n"
                     "User-Agent: sockgate-loadgen\r\nContent-Type: text/plain\r\n"
                     "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n", o->path);
    struct lg_resp *r = calloc(1, sizeof *r);
    if (!r || n < 0 || (size_t)n >= sizeof req || lg_send_all(a->fd, req, (size_t)n) < 0)
        return -1;
    lg_resp_reset(r, false);
    int status = -1;
    while (r->state == RS_HEAD) {
        ssize_t got = read(a->fd, buf, cap);
        ssize_t used = got > 0 ? lg_resp_feed(r, buf, (size_t)got) : -1;
        if (used < 0)
            break;
        if (r->state != RS_HEAD) {
            status = r->status;
            lg_demux_feed(&a->dm, buf + used, (size_t)(got - used));
        }
    }
    free(r);
    if (status != 101)
        fprintf(stderr, "loadgen: attach answered %d, not 101\n", status);
    return status == 101 ? 0 : -1;
}

/* Writes 32 KiB at a time until the socket is full or all is sent. */
static int lg_attach_send(struct lg_attach *a, const char *zeros)
{
    while (a->sent < a->want) {
        size_t len = a->want - a->sent < LG_GO_COPY ? (size_t)(a->want - a->sent) : LG_GO_COPY;
        if (a->t0 == 0)
            a->t0 = lg_now_ns();
        ssize_t n = write(a->fd, zeros, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return 0;
        if (n <= 0)
            return -1;
        a->sent += (uint64_t)n;
    }
    if (!a->shut && shutdown(a->fd, SHUT_WR) < 0)
        return -1;
    a->shut = true;
    return 0;
}

static int lg_attach_recv(struct lg_attach *a, char *buf, size_t cap)
{
    for (;;) {
        ssize_t n = read(a->fd, buf, cap);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return 0;
        if (n < 0)
            return -1;
        if (n == 0) {
            a->eof = true;
            return 0;
        }
        lg_demux_feed(&a->dm, buf, (size_t)n);
        if (a->t_last == 0 && a->dm.bytes[1] + a->dm.bytes[2] >= a->want)
            a->t_last = lg_now_ns();
    }
}

/* Until EOF, an error, or the timeout. */
static int lg_attach_pump(const struct lg_opts *o, struct lg_attach *a, char *buf, size_t cap)
{
    char *zeros = calloc(1, LG_GO_COPY);
    uint64_t deadline = lg_now_ns() + lg_sec_to_ns(o->timeout);
    int rc = zeros ? 0 : -1;
    lg_nonblock(a->fd);
    while (!rc && !a->eof) {
        struct pollfd p = { .fd = a->fd, .events = POLLIN | (a->shut ? 0 : POLLOUT) };
        uint64_t now = lg_now_ns();
        if (now >= deadline) {
            fprintf(stderr, "loadgen: attach timed out (sent %" PRIu64 ", received %" PRIu64 ")\n",
                    a->sent, a->dm.bytes[1]);
            rc = -1;
            break;
        }
        int n = poll(&p, 1, (int)((deadline - now) / 1000000u) + 1);
        if (n < 0 && errno != EINTR)
            rc = -1;
        if (n > 0 && (p.revents & POLLOUT))
            rc = lg_attach_send(a, zeros);
        if (!rc && n > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)))
            rc = lg_attach_recv(a, buf, cap);
    }
    free(zeros);
    return rc;
}

static int lg_mode_attach(const struct lg_opts *o)
{
    struct lg_attach a = { .want = (uint64_t)o->send_bytes };
    char *buf = malloc(4 * LG_READ_BUF);
    a.fd = lg_connect_timed(o);
    if (a.fd < 0 || !buf)
        return 1;
    long long cpu0 = lg_cpu_start(o);
    int err = lg_attach_open(o, &a, buf, 4 * LG_READ_BUF) < 0 ||
              lg_attach_pump(o, &a, buf, 4 * LG_READ_BUF) < 0;
    uint64_t t_eof = lg_now_ns(), t1 = a.t_last ? a.t_last : t_eof;
    double secs = a.t0 ? (double)(t1 - a.t0) / 1e9 : 0;
    uint64_t got = a.dm.bytes[1] + a.dm.bytes[2];
    if (a.sent != a.want || got != a.want || a.dm.bytes[2] || !lg_demux_ok(&a.dm) || !a.eof)
        err = 1;
    /* eof_s: from the last payload byte to the end of the stream (teardown) */
    printf("sent=%" PRIu64 " seconds=%.3f mib_s=%.1f status=101 eof=%d eof_s=%.3f errors=%d",
           a.sent, secs, lg_mib_s(a.want, secs), a.eof, (double)(t_eof - t1) / 1e9, err);
    lg_demux_print(&a.dm);
    if (lg_cpu_print(o, cpu0) < 0)
        err = 1;
    printf("\n");
    close(a.fd);
    free(buf);
    return err ? 3 : 0;
}

int main(int argc, char **argv)
{
    struct lg_opts o;
    lg_parse_opts(argc, argv, &o);
    signal(SIGPIPE, SIG_IGN);
    if (strcmp(o.mode, "rps") == 0)
        return lg_mode_rps(&o);
    if (strcmp(o.mode, "idle") == 0)
        return lg_mode_idle(&o);
    if (strcmp(o.mode, "pairs") == 0)
        return lg_mode_pairs(&o);
    if (strcmp(o.mode, "stream") == 0)
        return lg_mode_stream(&o);
    if (strcmp(o.mode, "upload") == 0)
        return lg_mode_upload(&o);
    if (strcmp(o.mode, "attach") == 0)
        return lg_mode_attach(&o);
    lg_usage();
}
