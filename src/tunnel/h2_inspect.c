/*
 * h2_inspect.c — the HTTP/2 reader of BuildKit's /grpc tunnel (see
 * h2_inspect.h). Frames per RFC 9113 section 4; gRPC over HTTP/2 per
 * grpc/grpc doc/PROTOCOL-HTTP2.md (a message is a 1-byte compressed flag,
 * a 4-byte big-endian length, the bytes).
 */
#include "tunnel/h2_inspect.h"

#include <nghttp2/nghttp2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide/verdict.h"
#include "tunnel/grpc_solve.h"

#define H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_PREFACE_LEN 24

enum { F_DATA = 0, F_HEADERS = 1, F_RST_STREAM = 3, F_SETTINGS = 4, F_GOAWAY = 7, F_CONTINUATION = 9 };
enum { FL_END_STREAM = 0x1, FL_END_HEADERS = 0x4, FL_PADDED = 0x8, FL_PRIORITY = 0x20 };
enum { H2_CANCEL = 0x8 };
enum { GRPC_PERMISSION_DENIED = 7 };

/* Bounds: a header block, one Solve message (dockerd's own receive limit
 * is 16 MiB), the streams followed at once. */
#define H2_MAX_BLOCK (1u << 20)
#define H2_MAX_SOLVE (16u << 20)
#define H2_MAX_FOLLOWED 64

#define SOLVE_PATH "/moby.buildkit.v1.Control/Solve"
#define GATEWAY_SOLVE_PATH "/moby.buildkit.v1.frontend.LLBBridge/Solve"

/* Undecided requests at once, per connection: the messages are copied to
 * be read, so their bytes count against H2_MAX_SOLVE together. */
#define H2_MAX_UNDECIDED 16
/* Builds this connection started, as the gate decided them. */
#define H2_MAX_REFS 32
#define H2_REF_MAX 96
#define BUILDID_HEADER "buildkit-controlapi-buildid"
#define GATEWAY_SERVICE "/moby.buildkit.v1.frontend.LLBBridge/"

/* The services BuildKit's clients call on dockerd's /grpc: its Control
 * service (Solve is read; the others carry no entitlement), the frontend
 * gateway that buildx's client-side builds talk to (its Solve is read; it
 * solves under the entitlements of the build it belongs to), health checks
 * and traces. */
static const char *const allowed_services[] = {
    "/moby.buildkit.v1.Control/",
    "/moby.buildkit.v1.frontend.LLBBridge/",
    "/grpc.health.v1.Health/",
    "/opentelemetry.proto.collector.trace.v1.TraceService/",
};

/* Refused although in an allowed service: the build history lists every
 * build's ID, and a build's ID is what lets a gateway call act inside that
 * build, under its entitlements — someone else's build included. */
static const char *const refused_methods[] = {
    "/moby.buildkit.v1.Control/ListenBuildHistory",
    "/moby.buildkit.v1.Control/UpdateBuildHistory",
};

/*
 * SOLVE     its first message is collected and held by its last byte;
 * WAITING   a gateway call whose message is read, held until the build it
 *           names is one this connection started and the gate allowed;
 * REFUSED   nothing more of it reaches dockerd.
 */
typedef enum { STREAM_SOLVE, STREAM_WAITING, STREAM_REFUSED } stream_kind;

typedef enum {
    CALL_SOLVE,         /* Control/Solve: read, its Ref remembered        */
    CALL_GATEWAY_SOLVE, /* LLBBridge/Solve: read, and bound to its build  */
    CALL_GATEWAY,       /* any other LLBBridge call: bound to its build   */
} call_kind;

/* A stream the inspector still acts on; every other one passes. */
typedef struct h2_stream {
    uint32_t id;
    stream_kind kind;
    call_kind call;
    char buildid[H2_REF_MAX]; /* gateway calls: the build they act in    */
    int buildids;             /* how many such headers came (one, or it
                                 is refused)                              */
    sg_h2_buf msg;            /* SOLVE: the message so far, prefix included */
    uint8_t held, held_flags; /* WAITING: the message's last byte, END_STREAM */
    sg_h2_buf after;          /* WAITING: its later frames, as they came  */
    size_t after_payload;     /* … their payload bytes (flow control)     */
    struct h2_stream *next;
} h2_stream;

struct sg_h2_inspect {
    /* client → dockerd */
    size_t preface;               /* bytes of the preface seen           */
    uint8_t hdr[9];
    size_t hdr_len;
    uint32_t f_len, f_stream;
    uint8_t f_type, f_flags;
    size_t f_left;                /* payload bytes still to come         */
    bool f_forward;               /* payload goes on as it comes         */
    bool f_collect;               /* payload is kept (frame_end reads it) */
    sg_h2_buf payload;
    sg_h2_buf block;              /* a header block being assembled      */
    uint32_t block_stream;
    bool block_end_stream;        /* its HEADERS ended the stream        */
    bool in_block;
    uint32_t max_stream;          /* the highest stream a request opened */
    nghttp2_hd_inflater *inflater;
    h2_stream *streams;
    size_t n_streams;
    size_t undecided;             /* SOLVE streams                       */
    size_t undecided_bytes;       /* their (and WAITING ones') bytes     */
    char allowed[H2_MAX_REFS][H2_REF_MAX]; /* Refs of allowed Solves      */
    size_t n_allowed;
    char refused[H2_MAX_REFS][H2_REF_MAX]; /* … and of refused ones       */
    size_t n_refused;
    char hdr_buildid[H2_REF_MAX]; /* block_decode's finds               */
    int hdr_buildids;
    /* dockerd → client: frame boundaries only */
    uint8_t ehdr[9];
    size_t ehdr_len;
    size_t e_left;
    bool e_in_block;
    bool e_started;               /* dockerd's first frame is in         */
    sg_h2_buf pending;            /* the gate's answers, for a boundary  */
    char tail[256];
    char error[256];
    char last[600];
    unsigned refusals;
};

/* ---- bytes ---------------------------------------------------------------- */

static int buf_put(sg_h2_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *d = realloc(b->data, cap);
        if (!d)
            return -1;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

void sg_h2_buf_free(sg_h2_buf *b)
{
    free(b->data);
    *b = (sg_h2_buf){0};
}

static void frame_header(uint8_t out[9], uint32_t len, uint8_t type, uint8_t flags,
                         uint32_t stream)
{
    out[0] = (uint8_t)(len >> 16);
    out[1] = (uint8_t)(len >> 8);
    out[2] = (uint8_t)len;
    out[3] = type;
    out[4] = flags;
    out[5] = (uint8_t)((stream >> 24) & 0x7f);
    out[6] = (uint8_t)(stream >> 16);
    out[7] = (uint8_t)(stream >> 8);
    out[8] = (uint8_t)stream;
}

static int put_frame(sg_h2_buf *b, uint8_t type, uint8_t flags, uint32_t stream,
                     const void *payload, size_t len)
{
    uint8_t h[9];
    frame_header(h, (uint32_t)len, type, flags, stream);
    return buf_put(b, h, 9) || buf_put(b, payload, len) ? -1 : 0;
}

/* ---- prior knowledge: refused ------------------------------------------------ */

/* The preface's first 18 bytes are what an HTTP/1.1 parser takes for a
 * whole head ("PRI * HTTP/2.0" and an empty line): enough to know. */
#define H2_PREFACE_HEAD_LEN 18

int sg_h2_prior_knowledge(const char *in, size_t n)
{
    return n >= H2_PREFACE_HEAD_LEN && memcmp(in, H2_PREFACE, H2_PREFACE_HEAD_LEN) == 0;
}

int sg_h2_refuse_connection(sg_h2_buf *out, const char *why)
{
    enum { HTTP_1_1_REQUIRED = 0xd };
    size_t why_len = strlen(why);
    uint8_t goaway[8] = {0, 0, 0, 0, 0, 0, 0, HTTP_1_1_REQUIRED}; /* last stream 0 */
    uint8_t h[9];
    frame_header(h, (uint32_t)(sizeof goaway + why_len), F_GOAWAY, 0, 0);
    return put_frame(out, F_SETTINGS, 0, 0, NULL, 0) || buf_put(out, h, 9) ||
           buf_put(out, goaway, sizeof goaway) || buf_put(out, why, why_len) ? -1 : 0;
}

static int fail(sg_h2_inspect *h, const char *why)
{
    if (!h->error[0])
        snprintf(h->error, sizeof h->error, "%s", why);
    return -1;
}

/* ---- streams --------------------------------------------------------------- */

static h2_stream *stream_find(sg_h2_inspect *h, uint32_t id)
{
    for (h2_stream *s = h->streams; s; s = s->next)
        if (s->id == id)
            return s;
    return NULL;
}

static h2_stream *stream_add(sg_h2_inspect *h, uint32_t id, stream_kind kind)
{
    if (h->n_streams >= H2_MAX_FOLLOWED ||
        (kind == STREAM_SOLVE && h->undecided >= H2_MAX_UNDECIDED))
        return NULL;
    h2_stream *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->id = id;
    s->kind = kind;
    s->next = h->streams;
    h->streams = s;
    h->n_streams++;
    h->undecided += kind == STREAM_SOLVE;
    return s;
}

/* A SOLVE or WAITING stream is decided: the bytes it held are given back;
 * returns the payload bytes it held that dockerd never got. */
static size_t stream_decided(sg_h2_inspect *h, h2_stream *s)
{
    size_t held = 0;
    if (s->kind == STREAM_SOLVE) {
        h->undecided--;
        h->undecided_bytes -= s->msg.len;
    } else if (s->kind == STREAM_WAITING) {
        h->undecided_bytes -= s->after.len;
        held = 1 + s->after_payload;
    }
    sg_h2_buf_free(&s->msg);
    sg_h2_buf_free(&s->after);
    s->kind = STREAM_REFUSED; /* until dropped: nothing more passes */
    return held;
}

static void stream_drop(sg_h2_inspect *h, uint32_t id)
{
    for (h2_stream **p = &h->streams; *p; p = &(*p)->next) {
        if ((*p)->id == id) {
            h2_stream *s = *p;
            stream_decided(h, s);
            *p = s->next;
            free(s);
            h->n_streams--;
            return;
        }
    }
}

/* ---- the gate's answers ------------------------------------------------------- */

/* An HPACK integer with an n-bit prefix (RFC 7541 5.1), first byte's high
 * bits given. */
static int hpack_int(sg_h2_buf *b, uint8_t high, unsigned n, size_t v)
{
    size_t max = (1u << n) - 1;
    uint8_t c;
    if (v < max) {
        c = (uint8_t)(high | v);
        return buf_put(b, &c, 1);
    }
    c = (uint8_t)(high | max);
    if (buf_put(b, &c, 1) != 0)
        return -1;
    for (v -= max; v >= 128; v >>= 7) {
        c = (uint8_t)(0x80 | (v & 0x7f));
        if (buf_put(b, &c, 1) != 0)
            return -1;
    }
    c = (uint8_t)v;
    return buf_put(b, &c, 1);
}

/* A literal field without indexing and with a literal name: it leaves the
 * client's dynamic table as it was, which dockerd's encoder relies on. */
static int hpack_literal(sg_h2_buf *b, const char *name, const char *value)
{
    return buf_put(b, "\0", 1) || hpack_int(b, 0, 7, strlen(name)) ||
                   buf_put(b, name, strlen(name)) || hpack_int(b, 0, 7, strlen(value)) ||
                   buf_put(b, value, strlen(value))
               ? -1
               : 0;
}

/* grpc-message is percent-encoded: bytes outside 0x20-0x7e, and '%'. */
static void grpc_message_encode(const char *in, char *out, size_t outsz)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 4 < outsz; p++) {
        if (*p >= 0x20 && *p <= 0x7e && *p != '%') {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
}

/* Refuse stream id: cancelled towards dockerd, a PermissionDenied error
 * (trailers only) for the client, queued for the next frame boundary. */
static int refuse_stream(sg_h2_inspect *h, uint32_t id, const char *why, sg_h2_buf *to_engine)
{
    snprintf(h->last, sizeof h->last, SG_ECI_PREFIX "%s%s", why, h->tail);
    h->refusals++;
    uint8_t code[4] = {0, 0, 0, H2_CANCEL};
    char msg[1400];
    grpc_message_encode(h->last, msg, sizeof msg);
    char status[8];
    snprintf(status, sizeof status, "%d", GRPC_PERMISSION_DENIED);
    sg_h2_buf block = {0};
    int rc = hpack_literal(&block, ":status", "200") ||
             hpack_literal(&block, "content-type", "application/grpc") ||
             hpack_literal(&block, "grpc-status", status) ||
             hpack_literal(&block, "grpc-message", msg) ||
             put_frame(&h->pending, F_HEADERS, FL_END_STREAM | FL_END_HEADERS, id, block.data,
                       block.len) ||
             put_frame(to_engine, F_RST_STREAM, 0, id, code, sizeof code);
    sg_h2_buf_free(&block);
    return rc ? fail(h, "out of memory") : 0;
}

/* Payload bytes the client sent that never reach dockerd: dockerd will not
 * give their flow-control credit back, so the gate does, for the whole
 * connection, or the client's window would shrink with every refusal. */
static int credit(sg_h2_inspect *h, size_t n)
{
    if (n == 0)
        return 0;
    uint8_t inc[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    return put_frame(&h->pending, 8 /* WINDOW_UPDATE */, 0, 0, inc, 4) ? fail(h, "out of memory")
                                                                         : 0;
}

/* ---- header blocks --------------------------------------------------------------- */

/*
 * dockerd routes a gRPC call by the decoded path (x/net/http2 parses :path
 * with url.ParseRequestURI; grpc-go's handler takes URL.Path): "%53olve"
 * is Solve, and a query is cut off. A method name holds only these bytes,
 * so a path with any other (a '%', a '?') is not one the gate can vouch
 * for.
 */
static bool path_plain(const char *p)
{
    if (p[0] != '/')
        return false;
    for (; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '/'))
            return false;
    return true;
}

static bool path_allowed(const char *p)
{
    for (size_t i = 0; i < sizeof refused_methods / sizeof *refused_methods; i++)
        if (strcmp(p, refused_methods[i]) == 0)
            return false;
    size_t n = strlen(p);
    for (size_t i = 0; i < sizeof allowed_services / sizeof *allowed_services; i++) {
        size_t l = strlen(allowed_services[i]);
        if (n > l && memcmp(p, allowed_services[i], l) == 0)
            return true;
    }
    return false;
}

/* Decode the whole block (keeping the table in step) and find :path. */
static int block_decode(sg_h2_inspect *h, char *path, size_t pathsz)
{
    path[0] = '\0';
    h->hdr_buildid[0] = '\0';
    h->hdr_buildids = 0;
    const uint8_t *in = h->block.len ? h->block.data : (const uint8_t *)""; /* NULL when empty */
    size_t left = h->block.len;
    for (;;) {
        nghttp2_nv nv;
        int flags = 0;
        ssize_t rv = nghttp2_hd_inflate_hd2(h->inflater, &nv, &flags, in, left, 1);
        if (rv < 0)
            return fail(h, "an HTTP/2 header block sockgate cannot decode");
        in += rv;
        left -= (size_t)rv;
        if ((flags & NGHTTP2_HD_INFLATE_EMIT) && nv.namelen == 5 &&
            memcmp(nv.name, ":path", 5) == 0) /* too long: "", which no rule allows */
            snprintf(path, pathsz, "%.*s", nv.valuelen < pathsz ? (int)nv.valuelen : 0,
                     (const char *)nv.value);
        if ((flags & NGHTTP2_HD_INFLATE_EMIT) && nv.namelen == strlen(BUILDID_HEADER) &&
            memcmp(nv.name, BUILDID_HEADER, nv.namelen) == 0) {
            h->hdr_buildids++;
            snprintf(h->hdr_buildid, sizeof h->hdr_buildid, "%.*s",
                     nv.valuelen < sizeof h->hdr_buildid ? (int)nv.valuelen : 0,
                     (const char *)nv.value);
        }
        if (flags & NGHTTP2_HD_INFLATE_FINAL) {
            nghttp2_hd_inflate_end_headers(h->inflater);
            return 0;
        }
        if (!(flags & NGHTTP2_HD_INFLATE_EMIT) && left == 0)
            return fail(h, "an HTTP/2 header block that does not end");
    }
}

/* A whole header block of stream id: a new request opens a stream the
 * inspector may follow; anything else (trailers) only keeps HPACK in step. */
static int block_done(sg_h2_inspect *h, uint32_t id, bool end_stream, sg_h2_buf *to_engine)
{
    char path[512];
    if (block_decode(h, path, sizeof path) != 0)
        return -1;
    h->block.len = 0;
    h->in_block = false;
    if (id <= h->max_stream || !(id & 1))
        return 0;
    h->max_stream = id;
    bool plain = path_plain(path);
    /* What is held and read: Solve, and every call of the frontend
     * gateway, which acts inside the build its header names. */
    bool solve = plain && (strcmp(path, SOLVE_PATH) == 0 ||
                           strncmp(path, GATEWAY_SERVICE, strlen(GATEWAY_SERVICE)) == 0);
    if (solve && !end_stream) {
        h2_stream *s = stream_add(h, id, STREAM_SOLVE);
        if (s) {
            s->call = strcmp(path, SOLVE_PATH) == 0          ? CALL_SOLVE
                      : strcmp(path, GATEWAY_SOLVE_PATH) == 0 ? CALL_GATEWAY_SOLVE
                                                              : CALL_GATEWAY;
            memcpy(s->buildid, h->hdr_buildid, sizeof s->buildid);
            s->buildids = h->hdr_buildids;
            return 0;
        }
        /* the client's own doing: this request is refused, its others go on */
        if (!stream_add(h, id, STREAM_REFUSED))
            return fail(h, "too many BuildKit requests at once to follow");
        return refuse_stream(h, id, "too many build requests at once", to_engine);
    }
    if (plain && !solve && path_allowed(path))
        return 0;
    if (!end_stream && !stream_add(h, id, STREAM_REFUSED))
        return fail(h, "too many BuildKit requests at once to follow");
    char why[600];
    snprintf(why, sizeof why,
             "the BuildKit call \"%.200s\" is not allowed: sockgate cannot check what it does",
             path[0] ? path : "(a path that is not a plain method name)");
    return refuse_stream(h, id, why, to_engine);
}

/* HEADERS: the fragment without padding and priority fields. */
static int headers_fragment(sg_h2_inspect *h, const uint8_t **p, size_t *n)
{
    size_t pad = 0;
    if (h->f_flags & FL_PADDED) {
        if (*n < 1)
            return fail(h, "a malformed HTTP/2 HEADERS frame");
        pad = (*p)[0];
        (*p)++;
        (*n)--;
    }
    if (h->f_flags & FL_PRIORITY) {
        if (*n < 5)
            return fail(h, "a malformed HTTP/2 HEADERS frame");
        *p += 5;
        *n -= 5;
    }
    if (pad > *n)
        return fail(h, "a malformed HTTP/2 HEADERS frame");
    *n -= pad;
    return 0;
}

static int headers_end(sg_h2_inspect *h, sg_h2_buf *to_engine)
{
    const uint8_t *p = h->payload.data;
    size_t n = h->payload.len;
    if (h->f_type == F_HEADERS) {
        if (h->in_block || headers_fragment(h, &p, &n) != 0)
            return fail(h, h->error[0] ? h->error : "HEADERS inside a header block");
        h->block_stream = h->f_stream;
        h->in_block = true;
    } else if (!h->in_block || h->f_stream != h->block_stream) {
        return fail(h, "an HTTP/2 CONTINUATION out of place");
    }
    if (h->block.len + n > H2_MAX_BLOCK || buf_put(&h->block, p, n) != 0)
        return fail(h, "an HTTP/2 header block too large to follow");
    if (h->f_type == F_HEADERS)
        h->block_end_stream = h->f_flags & FL_END_STREAM;
    if (h->f_flags & FL_END_HEADERS)
        return block_done(h, h->block_stream, h->block_end_stream, to_engine);
    return 0;
}

/* ---- a Solve request's message ------------------------------------------------------ */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A Solve stream refused: nothing more of it reaches dockerd; the payload
 * of this frame that did not go on is credited back to the client. */
static int solve_refuse(sg_h2_inspect *h, h2_stream *s, const char *why, size_t dropped,
                        sg_h2_buf *to_engine)
{
    uint32_t id = s->id;
    stream_decided(h, s);
    if (h->f_flags & FL_END_STREAM)
        stream_drop(h, id); /* nothing more will come on it */
    return credit(h, dropped) || refuse_stream(h, id, why, to_engine) ? -1 : 0;
}

/* ---- builds, and the gateway calls bound to them ------------------------------ */

static bool ref_in(char list[][H2_REF_MAX], size_t n, const char *ref)
{
    for (size_t i = 0; ref[0] && i < n; i++)
        if (strcmp(list[i], ref) == 0)
            return true;
    return false;
}

static void ref_add(char list[][H2_REF_MAX], size_t *n, const char *ref)
{
    if (!ref[0] || ref_in(list, *n, ref))
        return;
    if (*n == H2_MAX_REFS) { /* the oldest goes: its build is long done */
        memmove(list[0], list[1], (H2_MAX_REFS - 1) * H2_REF_MAX);
        (*n)--;
    }
    snprintf(list[(*n)++], H2_REF_MAX, "%s", ref);
}

/* A held stream goes on: its last byte, then what came after it. */
static int release(sg_h2_inspect *h, h2_stream *s, uint8_t last, uint8_t flags,
                   sg_h2_buf *to_engine)
{
    uint32_t id = s->id;
    int rc = put_frame(to_engine, F_DATA, flags, id, &last, 1) ||
             buf_put(to_engine, s->after.data, s->after.len);
    stream_drop(h, id);
    return rc ? fail(h, "out of memory") : 0;
}

/* A build was decided: the gateway calls waiting for it follow. */
static int builds_changed(sg_h2_inspect *h, sg_h2_buf *to_engine)
{
    for (h2_stream *s = h->streams, *next; s; s = next) {
        next = s->next;
        if (s->kind != STREAM_WAITING)
            continue;
        if (ref_in(h->allowed, h->n_allowed, s->buildid)) {
            if (release(h, s, s->held, s->held_flags, to_engine) != 0)
                return -1;
        } else if (ref_in(h->refused, h->n_refused, s->buildid)) {
            size_t held = stream_decided(h, s);
            if (credit(h, held) ||
                refuse_stream(h, s->id, "the build this call belongs to was refused", to_engine))
                return -1;
        }
    }
    return 0;
}

/* The first message of a stream is whole and held by its last byte. */
static int solve_decide(sg_h2_inspect *h, h2_stream *s, size_t whole, uint8_t last,
                        uint8_t end, sg_h2_buf *to_engine)
{
    char why[600], ref[H2_REF_MAX] = "";
    const uint8_t *m = s->msg.data + 5;
    sg_solve_verdict v = s->call == CALL_SOLVE ? sg_solve_check(m, whole - 5, why, sizeof why)
                         : s->call == CALL_GATEWAY_SOLVE
                             ? sg_gateway_solve_check(m, whole - 5, why, sizeof why)
                             : SG_SOLVE_ALLOW;
    if (s->call == CALL_SOLVE) {
        sg_solve_ref(m, whole - 5, ref, sizeof ref);
        ref_add(v == SG_SOLVE_ALLOW ? h->allowed : h->refused,
                v == SG_SOLVE_ALLOW ? &h->n_allowed : &h->n_refused, ref);
    }
    if (v != SG_SOLVE_ALLOW)
        return solve_refuse(h, s, why, 1, to_engine) || builds_changed(h, to_engine) ? -1 : 0;
    if (s->call == CALL_SOLVE)
        return release(h, s, last, end, to_engine) || builds_changed(h, to_engine) ? -1 : 0;
    /* A gateway call acts inside the build it names: only one of the
     * builds this connection started, as the gate allowed them. */
    if (s->buildids != 1 || ref_in(h->refused, h->n_refused, s->buildid))
        return solve_refuse(h, s,
                            "a BuildKit gateway call outside the builds of this connection",
                            1, to_engine);
    if (ref_in(h->allowed, h->n_allowed, s->buildid))
        return release(h, s, last, end, to_engine);
    /* Its Solve has not been read yet (buildx sends both at once). */
    h->undecided--;
    h->undecided_bytes -= s->msg.len;
    sg_h2_buf_free(&s->msg);
    s->kind = STREAM_WAITING;
    s->held = last;
    s->held_flags = end;
    return 0;
}

/* A frame of a WAITING stream: kept, in order, for its release. */
static int waiting_data(sg_h2_inspect *h, h2_stream *s, sg_h2_buf *to_engine)
{
    size_t n = h->payload.len;
    if (h->undecided_bytes + n + 9 > H2_MAX_SOLVE + 5) {
        size_t held = stream_decided(h, s);
        return solve_refuse(h, s, "the build request is too large to check", n + held,
                            to_engine);
    }
    if (put_frame(&s->after, F_DATA, h->f_flags, s->id, h->payload.data, n) != 0)
        return fail(h, "out of memory");
    h->undecided_bytes += n + 9;
    s->after_payload += n;
    return 0;
}

/* A whole DATA frame of a Solve stream still undecided (h->payload). */
static int solve_data(sg_h2_inspect *h, h2_stream *s, sg_h2_buf *to_engine)
{
    const uint8_t *p = h->payload.data;
    size_t n = h->payload.len;
    uint32_t id = s->id;
    if (h->f_flags & FL_PADDED)
        return solve_refuse(h, s, "a padded build request cannot be read", n, to_engine);
    if (h->undecided_bytes + n > H2_MAX_SOLVE + 5 || buf_put(&s->msg, p, n) != 0)
        return solve_refuse(h, s, "the build request is too large to check", n, to_engine);
    h->undecided_bytes += n;
    if (s->msg.len >= 1 && s->msg.data[0] != 0)
        return solve_refuse(h, s, "a compressed build request cannot be checked", n, to_engine);
    size_t whole = s->msg.len >= 5 ? 5 + (size_t)be32(s->msg.data + 1) : 0;
    if (whole > H2_MAX_SOLVE + 5)
        return solve_refuse(h, s, "the build request is too large to check", n, to_engine);
    if (whole == 0 || s->msg.len < whole) { /* not whole yet: the frame goes on */
        if (put_frame(to_engine, F_DATA, h->f_flags, id, p, n) != 0)
            return fail(h, "out of memory");
        if (h->f_flags & FL_END_STREAM) /* it never will be: dockerd refuses it */
            stream_drop(h, id);
        return 0;
    }
    if (s->msg.len > whole)
        return solve_refuse(h, s, "a build request with more than one message", n, to_engine);
    /* The frame ends the message: all of it but its last byte goes on
     * now, the last byte once the request is read. */
    uint8_t end = h->f_flags & FL_END_STREAM;
    if (n > 1 && put_frame(to_engine, F_DATA, 0, id, p, n - 1) != 0)
        return fail(h, "out of memory");
    return solve_decide(h, s, whole, p[n - 1], end, to_engine);
}

/* ---- the client's frames -------------------------------------------------------------- */

/* A frame's header is read: decide what happens to its payload. */
static int frame_start(sg_h2_inspect *h, sg_h2_buf *to_engine)
{
    const uint8_t *x = h->hdr;
    h->f_len = (uint32_t)x[0] << 16 | (uint32_t)x[1] << 8 | x[2];
    h->f_type = x[3];
    h->f_flags = x[4];
    h->f_stream = be32(x + 5) & 0x7fffffff;
    h->f_left = h->f_len;
    h->payload.len = 0;
    if (h->in_block && h->f_type != F_CONTINUATION)
        return fail(h, "an HTTP/2 header block interrupted by another frame");
    h2_stream *s = h->f_type == F_DATA ? stream_find(h, h->f_stream) : NULL;
    bool header = h->f_type == F_HEADERS || h->f_type == F_CONTINUATION;
    bool drop = s && s->kind == STREAM_REFUSED;
    /* A refused stream's data never reaches dockerd; a Solve's is re-framed
     * by solve_data; header blocks are read and passed on unchanged. */
    bool held = s && (s->kind == STREAM_SOLVE || s->kind == STREAM_WAITING);
    h->f_collect = header || held;
    h->f_forward = !drop && !held;
    if (h->f_collect && h->f_len > (header ? H2_MAX_BLOCK : H2_MAX_SOLVE))
        return fail(h, "an HTTP/2 frame too large to follow");
    if (h->f_forward && buf_put(to_engine, h->hdr, 9) != 0)
        return fail(h, "out of memory");
    return 0;
}

static int frame_end(sg_h2_inspect *h, sg_h2_buf *to_engine)
{
    h->hdr_len = 0;
    if (h->f_type == F_HEADERS || h->f_type == F_CONTINUATION)
        return headers_end(h, to_engine);
    h2_stream *s = stream_find(h, h->f_stream);
    if (!s)
        return 0;
    if (h->f_type == F_DATA && s->kind == STREAM_SOLVE)
        return solve_data(h, s, to_engine);
    if (h->f_type == F_DATA && s->kind == STREAM_WAITING)
        return waiting_data(h, s, to_engine);
    if (h->f_type == F_RST_STREAM) { /* the client gave the request up */
        stream_drop(h, h->f_stream);
        return 0;
    }
    if (h->f_type == F_DATA) { /* a refused stream's data: dropped, credited */
        if (h->f_flags & FL_END_STREAM)
            stream_drop(h, h->f_stream);
        return credit(h, h->f_len);
    }
    return 0;
}

/* Between two of dockerd's frames, after its first (its SETTINGS: the
 * connection preface a client waits for before any other frame). */
static bool engine_at_boundary(const sg_h2_inspect *h)
{
    return h->e_started && h->ehdr_len == 0 && h->e_left == 0 && !h->e_in_block;
}

static int flush_pending(sg_h2_inspect *h, sg_h2_buf *to_client)
{
    if (h->pending.len == 0 || !engine_at_boundary(h))
        return 0;
    if (buf_put(to_client, h->pending.data, h->pending.len) != 0)
        return fail(h, "out of memory");
    h->pending.len = 0;
    return 0;
}

int sg_h2_from_client(sg_h2_inspect *h, const uint8_t *in, size_t n, sg_h2_buf *to_engine,
                      sg_h2_buf *to_client)
{
    if (h->error[0])
        return -1;
    while (n > 0) {
        if (h->preface < H2_PREFACE_LEN) {
            size_t k = H2_PREFACE_LEN - h->preface < n ? H2_PREFACE_LEN - h->preface : n;
            if (memcmp(in, &H2_PREFACE[h->preface], k) != 0)
                return fail(h, "the /grpc tunnel does not start with the HTTP/2 preface");
            if (buf_put(to_engine, in, k) != 0)
                return fail(h, "out of memory");
            h->preface += k;
            in += k;
            n -= k;
            continue;
        }
        if (h->hdr_len < 9) {
            h->hdr[h->hdr_len++] = *in++;
            n--;
            if (h->hdr_len == 9 && (frame_start(h, to_engine) != 0 ||
                                    (h->f_left == 0 && frame_end(h, to_engine) != 0)))
                return -1;
            continue;
        }
        size_t k = h->f_left < n ? h->f_left : n;
        if ((h->f_forward && buf_put(to_engine, in, k) != 0) ||
            (h->f_collect && buf_put(&h->payload, in, k) != 0))
            return fail(h, "out of memory");
        h->f_left -= k;
        in += k;
        n -= k;
        if (h->f_left == 0 && frame_end(h, to_engine) != 0)
            return -1;
    }
    return flush_pending(h, to_client);
}

/* ---- dockerd's frames: boundaries only --------------------------------------------------- */

int sg_h2_from_engine(sg_h2_inspect *h, const uint8_t *in, size_t n, sg_h2_buf *to_client)
{
    if (h->error[0])
        return -1;
    while (n > 0) {
        if (flush_pending(h, to_client) != 0)
            return -1;
        size_t k;
        if (h->ehdr_len < 9) {
            k = 1;
            h->ehdr[h->ehdr_len++] = *in;
            if (h->ehdr_len == 9) {
                const uint8_t *x = h->ehdr;
                h->e_started = true;
                h->e_left = (size_t)x[0] << 16 | (size_t)x[1] << 8 | x[2];
                if (x[3] == F_HEADERS || x[3] == F_CONTINUATION)
                    h->e_in_block = !(x[4] & FL_END_HEADERS);
                else if (h->e_in_block)
                    return fail(h, "dockerd interrupted a header block");
                if (h->e_left == 0)
                    h->ehdr_len = 0;
            }
        } else {
            k = h->e_left < n ? h->e_left : n;
            h->e_left -= k;
            if (h->e_left == 0)
                h->ehdr_len = 0;
        }
        if (buf_put(to_client, in, k) != 0)
            return fail(h, "out of memory");
        in += k;
        n -= k;
    }
    return flush_pending(h, to_client);
}

/* ---- lifetime ------------------------------------------------------------------------------ */

sg_h2_inspect *sg_h2_inspect_new(const char *tail)
{
    sg_h2_inspect *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    if (nghttp2_hd_inflate_new(&h->inflater) != 0) {
        free(h);
        return NULL;
    }
    snprintf(h->tail, sizeof h->tail, "%s", tail ? tail : "");
    return h;
}

void sg_h2_inspect_free(sg_h2_inspect *h)
{
    if (!h)
        return;
    while (h->streams)
        stream_drop(h, h->streams->id);
    nghttp2_hd_inflate_del(h->inflater);
    sg_h2_buf_free(&h->payload);
    sg_h2_buf_free(&h->block);
    sg_h2_buf_free(&h->pending);
    free(h);
}

const char *sg_h2_error(const sg_h2_inspect *h) { return h->error; }
unsigned sg_h2_refusals(const sg_h2_inspect *h) { return h->refusals; }
const char *sg_h2_last_refusal(const sg_h2_inspect *h) { return h->last; }
