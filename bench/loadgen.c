/*
 * bench/loadgen.c — sockgate's own HTTP/1.1 load generator over unix sockets.
 *
 * Owns the four measurements bench/run makes:
 *   rps    N keep-alive connections, one request in flight on each (no
 *          pipelining), for a fixed duration after a warm-up; prints
 *          requests/s, p50 and p99 latency (microseconds) and errors.
 *   idle   K connections, each completes one GET /_ping (so the server has
 *          accepted and served it), then all are held open until SIGTERM /
 *          SIGINT, or until stdin reaches EOF when --wait-stdin is given.
 *   stream one request whose body is read and discarded as fast as possible;
 *          prints body bytes and MiB/s.
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
};

static _Noreturn void lg_usage(void)
{
    fprintf(stderr,
        "usage: loadgen rps    --socket S [--conns N] [--duration SEC] [--warmup SEC]\n"
        "                      [--method M] [--path P] [--cpu-pid PID[,PID...]]\n"
        "       loadgen pairs  --socket A --socket-b B [--conns N] [--pairs K] [--block-ms MS]\n"
        "                      [--path P] [--cpu-pid PID[,...]] [--cpu-pid-b PID[,...]]\n"
        "       loadgen idle   --socket S --conns K [--wait-stdin] [--timeout SEC]\n"
        "       loadgen stream --socket S --path P [--method M] [--timeout SEC]\n");
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
        if (strcmp(a, "--wait-stdin") == 0) {
            o->wait_stdin = true;
            continue;
        }
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
        else lg_usage();
    }
    if (!o->sock || o->conns < 1)
        lg_usage();
    if (strcmp(o->mode, "pairs") == 0 && (!o->sock_b || o->pairs < 1 || o->block_ms < 1))
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
static size_t lg_resp_skip_body(struct lg_resp *r, size_t n)
{
    size_t take = n;
    if (r->state != RS_UNTIL_CLOSE && r->remaining < take)
        take = (size_t)r->remaining;
    r->body_bytes += take;
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
            off += lg_resp_skip_body(r, n - off);
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

/* ---- stream mode -------------------------------------------------------- */

static int lg_mode_stream(const struct lg_opts *o)
{
    int fd = lg_connect(o->sock);
    if (fd < 0) {
        fprintf(stderr, "loadgen: connect %s: %s\n", o->sock, strerror(errno));
        return 1;
    }
    struct timeval tv = { .tv_sec = (time_t)o->timeout };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char req[4096];
    size_t req_len = (size_t)lg_request_fmt(req, sizeof req, o->method, o->path);
    struct lg_resp *r = malloc(sizeof *r);
    char *buf = malloc(4 * LG_READ_BUF);   /* big reads: fewer syscalls */
    if (!r || !buf)
        return 1;
    lg_resp_reset(r, strcmp(o->method, "HEAD") == 0);
    uint64_t t0 = lg_now_ns();
    int err = lg_send_all(fd, req, req_len);
    while (!err && r->state != RS_DONE) {
        ssize_t n = read(fd, buf, 4 * LG_READ_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 && r->state == RS_UNTIL_CLOSE)
            break;
        if (n <= 0 || lg_resp_feed(r, buf, (size_t)n) != n)
            err = 1;
    }
    double secs = (double)(lg_now_ns() - t0) / 1e9;
    printf("bytes=%" PRIu64 " seconds=%.3f mib_s=%.1f status=%d errors=%d\n",
           r->body_bytes, secs, (double)r->body_bytes / 1048576.0 / secs, r->status, err);
    int rc = err || r->status / 100 != 2 ? 3 : 0;
    free(r);
    free(buf);
    close(fd);
    return rc;
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
    lg_usage();
}
