/*
 * testbed/reaper.c — the test bed's stand-in for Testcontainers' Ryuk: a
 * static program that testbed/up packs into an image and publishes in the
 * test bed's registry as docker.io/testcontainers/ryuk:<tag>, because the
 * real image cannot be pulled here. Written for sockgate from the protocol
 * Testcontainers speaks, not from Ryuk's code:
 *
 *   * it listens on TCP RYUK_PORT (8080) and prints "Started" (Testcontainers
 *     waits for that log line);
 *   * each client sends lines of label filters, `label=k=v&label=k2=v2`
 *     (URL query syntax); every line is answered "ACK\n" and its filter set
 *     remembered;
 *   * when the last client has gone and none came back within
 *     RYUK_RECONNECTION_TIMEOUT (10s), or when nobody connected within
 *     RYUK_CONNECTION_TIMEOUT (60s), it removes, through the Docker socket it
 *     was given (/var/run/docker.sock), every container (forced, with its
 *     anonymous volumes), network, volume and image that matches a filter
 *     set, skipping reaper containers (label org.testcontainers.ryuk=true),
 *     and exits.
 *
 * Through sockgate that socket is the restricted one, so everything the
 * reaper does is subject to the command list: that is what the client tests
 * exercise. Single-threaded, poll(2), no dependencies beyond libc.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/hex.h"

#define MAX_CLIENTS 64
#define MAX_FILTERS 64
#define LINE_MAX_BYTES 4096
#define RYUK_LABEL "\"org.testcontainers.ryuk\""

static const char *docker_socket = "/var/run/docker.sock";
static bool verbose;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    /* One write per line: the log is read live by Testcontainers. */
    ssize_t w = write(STDOUT_FILENO, line, (size_t)n);
    (void)w;
}

/* Go-style durations as Ryuk reads them: "10s", "500ms", "1m", or seconds. */
static long duration_ms(const char *env, long fallback)
{
    const char *v = getenv(env);
    if (!v || !*v)
        return fallback;
    char *end;
    double n = strtod(v, &end);
    if (end == v || n < 0)
        return fallback;
    if (strcmp(end, "ms") == 0)
        return (long)n;
    if (strcmp(end, "m") == 0)
        return (long)(n * 60000);
    if (strcmp(end, "s") == 0 || *end == '\0')
        return (long)(n * 1000);
    return fallback;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* ---- filters ------------------------------------------------------------- */

/* One client line, decoded into the Engine API's filter JSON:
 * {"label":["k=v","k2=v2"]}. Kept as the JSON text. */
static char *filters[MAX_FILTERS];
static size_t n_filters;

/* URL query component decoding (`+` is a space, %XX a byte). */
static bool url_decode(const char *p, size_t len, char *out, size_t outsz)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (i + 2 >= len)
                return false;
            int h = sg_hex_value((unsigned char)p[i + 1]);
            int l = sg_hex_value((unsigned char)p[i + 2]);
            if (h < 0 || l < 0)
                return false;
            c = (char)(h * 16 + l);
            i += 2;
        }
        if (o + 1 >= outsz)
            return false;
        out[o++] = c;
    }
    out[o] = '\0';
    return true;
}

/* Appends s as a JSON string. */
static bool json_append_string(char *out, size_t outsz, size_t *o, const char *s)
{
    if (*o + 1 >= outsz)
        return false;
    out[(*o)++] = '"';
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        int n;
        if (c == '"' || c == '\\')
            n = snprintf(esc, sizeof esc, "\\%c", c);
        else if (c < 0x20)
            n = snprintf(esc, sizeof esc, "\\u%04x", c);
        else
            n = snprintf(esc, sizeof esc, "%c", c);
        if (*o + (size_t)n + 1 >= outsz)
            return false;
        memcpy(out + *o, esc, (size_t)n);
        *o += (size_t)n;
    }
    out[(*o)++] = '"';
    return true;
}

/* `label=a=b&label=c=d&name=x` → {"label":["a=b","c=d"],"name":["x"]}.
 * Pairs are grouped by key in order of first appearance. */
static char *filter_json(const char *line)
{
    char keys[16][128];
    size_t n_keys = 0;
    char json[LINE_MAX_BYTES * 2];
    size_t o = 0;
    json[o++] = '{';
    /* Pass 1: the distinct keys. */
    for (const char *p = line; *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        char key[128];
        if (len > 0 && url_decode(p, eq ? (size_t)(eq - p) : len, key, sizeof key)) {
            bool seen = false;
            for (size_t k = 0; k < n_keys; k++)
                seen = seen || strcmp(keys[k], key) == 0;
            if (!seen && n_keys < 16)
                memcpy(keys[n_keys++], key, sizeof key);
        } else if (len > 0) {
            return NULL;
        }
        p = amp ? amp + 1 : p + len;
    }
    if (n_keys == 0)
        return NULL;
    /* Pass 2: each key with its values. */
    for (size_t k = 0; k < n_keys; k++) {
        if (k > 0)
            json[o++] = ',';
        if (!json_append_string(json, sizeof json, &o, keys[k]) || o + 3 >= sizeof json)
            return NULL;
        json[o++] = ':';
        json[o++] = '[';
        bool first = true;
        for (const char *p = line; *p;) {
            const char *amp = strchr(p, '&');
            size_t len = amp ? (size_t)(amp - p) : strlen(p);
            const char *eq = memchr(p, '=', len);
            char key[128], value[LINE_MAX_BYTES];
            if (len > 0 && url_decode(p, eq ? (size_t)(eq - p) : len, key, sizeof key) &&
                strcmp(key, keys[k]) == 0) {
                if (!url_decode(eq ? eq + 1 : p + len, eq ? len - (size_t)(eq - p) - 1 : 0,
                                value, sizeof value))
                    return NULL;
                if (!first)
                    json[o++] = ',';
                first = false;
                if (!json_append_string(json, sizeof json, &o, value) || o + 3 >= sizeof json)
                    return NULL;
            }
            p = amp ? amp + 1 : p + len;
        }
        json[o++] = ']';
    }
    json[o++] = '}';
    json[o] = '\0';
    return strdup(json);
}

static void add_filter(const char *line)
{
    char *json = filter_json(line);
    if (!json) {
        say("ignoring malformed filter: %s", line);
        return;
    }
    for (size_t i = 0; i < n_filters; i++) {
        if (strcmp(filters[i], json) == 0) {
            free(json);
            return;
        }
    }
    if (n_filters == MAX_FILTERS) {
        say("too many filters; ignoring %s", line);
        free(json);
        return;
    }
    filters[n_filters++] = json;
    say("adding filter %s", json);
}

/* ---- the Engine API, over the mounted socket ---------------------------- */

/* One HTTP/1.0 request (dockerd answers without chunking and closes).
 * Returns the status, the body in *body (malloc'd), or -1. */
static int engine(const char *method, const char *target, char **body)
{
    *body = NULL;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", docker_socket);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        say("cannot connect to %s: %s", docker_socket, strerror(errno));
        close(fd);
        return -1;
    }
    char req[8192];
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.0\r\nHost: docker\r\n\r\n", method, target);
    if (n < 0 || (size_t)n >= sizeof req || write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    size_t len = 0, cap = 65536;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (!buf)
            break;
        if (len == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    if (!buf)
        return -1;
    buf[len] = '\0';
    int status = -1;
    char *sep = strstr(buf, "\r\n\r\n");
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1 || !sep) {
        free(buf);
        return -1;
    }
    *body = strdup(sep + 4);
    free(buf);
    return status;
}

/* Percent-encodes s for a query string. */
static void query_escape(const char *s, char *out, size_t outsz)
{
    size_t o = 0;
    for (; *s && o + 4 < outsz; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, outsz - o, "%%%02X", c);
    }
    out[o] = '\0';
}

/* ---- just enough JSON to read list answers ------------------------------ */

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

/* Skips one JSON string starting at '"'; returns the byte after it. */
static const char *skip_string(const char *p)
{
    for (p++; *p && *p != '"'; p++)
        if (*p == '\\' && p[1])
            p++;
    return *p ? p + 1 : p;
}

/* Skips one JSON value; returns the byte after it (or the NUL). */
static const char *skip_value(const char *p)
{
    p = skip_ws(p);
    if (*p == '"')
        return skip_string(p);
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (*p) {
            if (*p == '"') {
                p = skip_string(p);
                continue;
            }
            if (*p == '{' || *p == '[')
                depth++;
            else if ((*p == '}' || *p == ']') && --depth == 0)
                return p + 1;
            p++;
        }
        return p;
    }
    while (*p && *p != ',' && *p != '}' && *p != ']')
        p++;
    return p;
}

/* Copies a JSON string without escapes (IDs and names have none). */
static bool copy_plain_string(const char *p, char *out, size_t outsz)
{
    const char *end = skip_string(p);
    size_t len = (size_t)(end - p);
    if (*p != '"' || len < 2 || len - 2 >= outsz || memchr(p + 1, '\\', len - 2))
        return false;
    memcpy(out, p + 1, len - 2);
    out[len - 2] = '\0';
    return true;
}

/* Is `"org.testcontainers.ryuk":"true"` a member of the object at p? */
static bool labels_mark_reaper(const char *p)
{
    p = skip_ws(p);
    if (*p != '{')
        return false;
    p = skip_ws(p + 1);
    while (*p == '"') {
        const char *key = p;
        p = skip_ws(skip_string(p));
        if (*p != ':')
            return false;
        const char *value = skip_ws(p + 1);
        if (strncmp(key, RYUK_LABEL, strlen(RYUK_LABEL)) == 0 &&
            strncmp(value, "\"true\"", 6) == 0)
            return true;
        p = skip_ws(skip_value(value));
        if (*p == ',')
            p = skip_ws(p + 1);
    }
    return false;
}

static char own_hostname[65];
static const char KIND_CONTAINER[] = "container", KIND_NETWORK[] = "network",
                  KIND_VOLUME[] = "volume", KIND_IMAGE[] = "image";

/* For each object of the JSON array at p (or of the array that is the
 * member `within` of the object at p), calls fn with the string member
 * `field`, unless the object's Labels mark a reaper. */
static void each_listed(const char *p, const char *within, const char *field,
                        void (*fn)(const char *kind, const char *id), const char *kind)
{
    p = skip_ws(p);
    if (within) { /* {"Volumes":[…], …} */
        if (*p != '{')
            return;
        p = skip_ws(p + 1);
        char key[64];
        while (*p == '"') {
            bool match = copy_plain_string(p, key, sizeof key) && strcmp(key, within) == 0;
            p = skip_ws(skip_string(p));
            if (*p != ':')
                return;
            p = skip_ws(p + 1);
            if (match)
                break;
            p = skip_ws(skip_value(p));
            if (*p == ',')
                p = skip_ws(p + 1);
        }
    }
    if (*p != '[')
        return;
    p = skip_ws(p + 1);
    while (*p == '{') {
        const char *q = skip_ws(p + 1);
        char id[256] = "", key[64];
        bool reaper = false;
        while (*q == '"') {
            bool ok = copy_plain_string(q, key, sizeof key);
            q = skip_ws(skip_string(q));
            if (*q != ':')
                return;
            q = skip_ws(q + 1);
            if (ok && strcmp(key, field) == 0)
                copy_plain_string(q, id, sizeof id);
            else if (ok && strcmp(key, "Labels") == 0)
                reaper = labels_mark_reaper(q);
            q = skip_ws(skip_value(q));
            if (*q == ',')
                q = skip_ws(q + 1);
        }
        /* A reaper never removes itself, labelled or not: its container's
         * ID starts with its host name (Docker's default). */
        bool self = kind == KIND_CONTAINER && *own_hostname &&
                    strncmp(id, own_hostname, strlen(own_hostname)) == 0;
        if (*id && !reaper && !self)
            fn(kind, id);
        p = skip_ws(skip_value(p));
        if (*p == ',')
            p = skip_ws(p + 1);
    }
}

/* ---- pruning ------------------------------------------------------------- */

#define MAX_DOOMED 1024
static struct {
    const char *kind;
    char id[256];
} doomed[MAX_DOOMED];
static size_t n_doomed;

static void doom(const char *kind, const char *id)
{
    for (size_t i = 0; i < n_doomed; i++)
        if (doomed[i].kind == kind && strcmp(doomed[i].id, id) == 0)
            return;
    if (n_doomed < MAX_DOOMED) {
        doomed[n_doomed].kind = kind;
        snprintf(doomed[n_doomed].id, sizeof doomed[n_doomed].id, "%s", id);
        n_doomed++;
    }
}

static void list_matching(const char *filter)
{
    char esc[LINE_MAX_BYTES * 3], target[LINE_MAX_BYTES * 3 + 64], *body;
    query_escape(filter, esc, sizeof esc);
    static const struct {
        const char *kind, *path, *within, *field;
    } lists[] = {
        {KIND_CONTAINER, "/containers/json?all=1&filters=", NULL, "Id"},
        {KIND_NETWORK, "/networks?filters=", NULL, "Id"},
        {KIND_VOLUME, "/volumes?filters=", "Volumes", "Name"},
        {KIND_IMAGE, "/images/json?filters=", NULL, "Id"},
    };
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
        snprintf(target, sizeof target, "%s%s", lists[i].path, esc);
        int st = engine("GET", target, &body);
        if (st == 200 && body)
            each_listed(body, lists[i].within, lists[i].field, doom, lists[i].kind);
        else
            say("listing %ss failed: status %d %s", lists[i].kind, st, body ? body : "");
        free(body);
    }
}

static bool remove_one(const char *kind, const char *id)
{
    char target[512], *body;
    if (kind == KIND_CONTAINER)
        snprintf(target, sizeof target, "/containers/%s?force=1&v=1", id);
    else if (kind == KIND_NETWORK)
        snprintf(target, sizeof target, "/networks/%s", id);
    else if (kind == KIND_VOLUME)
        snprintf(target, sizeof target, "/volumes/%s?force=1", id);
    else
        snprintf(target, sizeof target, "/images/%s?noprune=0", id);
    int st = engine("DELETE", target, &body);
    bool ok = st == 200 || st == 204 || st == 404;
    if (!ok || verbose)
        say("removing %s %s: status %d %s", kind, id, st, body ? body : "");
    free(body);
    return ok;
}

static void prune(void)
{
    for (size_t f = 0; f < n_filters; f++)
        list_matching(filters[f]);
    /* Containers first: networks, volumes and images are in use until then. */
    static const char *const order[] = {KIND_CONTAINER, KIND_NETWORK, KIND_VOLUME, KIND_IMAGE};
    size_t removed[4] = {0}, failed[4] = {0};
    for (size_t k = 0; k < 4; k++) {
        for (size_t i = 0; i < n_doomed; i++) {
            if (doomed[i].kind != order[k])
                continue;
            bool ok = false;
            for (int attempt = 0; attempt < 5 && !(ok = remove_one(order[k], doomed[i].id));
                 attempt++)
                sleep(1);
            ok ? removed[k]++ : failed[k]++;
        }
    }
    say("removed %zu containers, %zu networks, %zu volumes, %zu images (%zu failed)",
        removed[0], removed[1], removed[2], removed[3],
        failed[0] + failed[1] + failed[2] + failed[3]);
}

/* ---- clients --------------------------------------------------------------- */

typedef struct {
    int fd;
    char buf[LINE_MAX_BYTES];
    size_t len;
} client;

static client clients[MAX_CLIENTS];
static size_t n_clients;

/* Handles the complete lines in c->buf; false when the client must go. */
static bool client_lines(client *c)
{
    char *nl;
    while ((nl = memchr(c->buf, '\n', c->len))) {
        size_t len = (size_t)(nl - c->buf);
        size_t line_len = len > 0 && c->buf[len - 1] == '\r' ? len - 1 : len;
        c->buf[line_len] = '\0';
        if (line_len > 0) {
            add_filter(c->buf);
            if (write(c->fd, "ACK\n", 4) != 4)
                return false;
        }
        c->len -= len + 1;
        memmove(c->buf, nl + 1, c->len);
    }
    return c->len < sizeof c->buf - 1;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    /* Only Docker's default host name (12 hex digits) says who we are. */
    if (gethostname(own_hostname, sizeof own_hostname - 1) != 0 ||
        strlen(own_hostname) != 12 || strspn(own_hostname, "0123456789abcdef") != 12)
        own_hostname[0] = '\0';
    const char *host = getenv("DOCKER_HOST");
    if (host && strncmp(host, "unix://", 7) == 0)
        docker_socket = host + 7;
    verbose = getenv("RYUK_VERBOSE") && strcmp(getenv("RYUK_VERBOSE"), "true") == 0;
    long connection_timeout = duration_ms("RYUK_CONNECTION_TIMEOUT", 60000);
    long reconnection_timeout = duration_ms("RYUK_RECONNECTION_TIMEOUT", 10000);
    const char *port_env = getenv("RYUK_PORT");
    int port = port_env ? atoi(port_env) : 8080;

    char *ping;
    int st = engine("GET", "/_ping", &ping);
    free(ping);
    if (st != 200) {
        say("cannot reach the Docker Engine at %s (status %d)", docker_socket, st);
        return 1;
    }

    int lfd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int off = 0, on = 1;
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
                              .sin6_addr = IN6ADDR_ANY_INIT};
    if (lfd >= 0) { /* dual-stack when the container has IPv6, else IPv4 */
        setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
        setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        if (bind(lfd, (struct sockaddr *)&a6, sizeof a6) != 0) {
            close(lfd);
            lfd = -1;
        }
    }
    if (lfd < 0) {
        struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                 .sin_addr = {htonl(INADDR_ANY)}};
        lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        if (lfd < 0 || bind(lfd, (struct sockaddr *)&a4, sizeof a4) != 0) {
            say("cannot listen on port %d: %s", port, strerror(errno));
            return 1;
        }
    }
    if (listen(lfd, 16) != 0) {
        say("listen: %s", strerror(errno));
        return 1;
    }
    say("Started: listening on port %d, connection timeout %ldms, reconnection timeout %ldms",
        port, connection_timeout, reconnection_timeout);

    long deadline = now_ms() + connection_timeout;
    bool ever_connected = false;
    for (;;) {
        struct pollfd pfds[MAX_CLIENTS + 1];
        pfds[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
        for (size_t i = 0; i < n_clients; i++)
            pfds[i + 1] = (struct pollfd){.fd = clients[i].fd, .events = POLLIN};
        long wait = n_clients > 0 ? -1 : deadline - now_ms();
        if (n_clients == 0 && wait <= 0)
            break;
        int n = poll(pfds, n_clients + 1, (int)(wait > 1000000 ? 1000000 : wait));
        if (n < 0 && errno != EINTR)
            break;
        if (n <= 0)
            continue;
        for (size_t i = n_clients; i-- > 0;) {
            if (!pfds[i + 1].revents)
                continue;
            client *c = &clients[i];
            ssize_t r = read(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len);
            if (r > 0) {
                c->len += (size_t)r;
                if (client_lines(c))
                    continue;
            } else if (r < 0 && errno == EINTR) {
                continue;
            }
            close(c->fd);
            clients[i] = clients[--n_clients];
            say("client disconnected (%zu left)", n_clients);
            if (n_clients == 0)
                deadline = now_ms() + reconnection_timeout;
        }
        if (pfds[0].revents & POLLIN) {
            int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0 && n_clients == MAX_CLIENTS) {
                close(fd);
            } else if (fd >= 0) {
                clients[n_clients++] = (client){.fd = fd};
                ever_connected = true;
                say("client connected (%zu)", n_clients);
            }
        }
    }
    close(lfd);
    say("%s; pruning", ever_connected ? "all clients gone" : "nobody connected");
    prune();
    return 0;
}
