/*
 * gate.h — the objects of the request path and how they refer to each other.
 *
 *   listener.c  accept: the public and restricted sockets (or systemd's)
 *   conn.c      one client connection: lifetime, reading, backpressure,
 *               one exchange (request + response) at a time, in order
 *   identify.c  restricted socket: which container is calling
 *   dispatch.c  parse → route → decide one request; body inspection
 *   exchange.c  forward the request, stream the response, finish
 *   forward.c   the re-framed request head sockgate sends to dockerd
 *   upstream.c  connections to dockerd's socket and the keep-alive pool
 *   relay.c     raw two-way relay after dockerd confirms a hijack
 *   reply.c     sockgate's own answers (Engine-style JSON errors)
 *   audit.c     the decision line of every decision worth auditing
 *   stream_io.c writes with backpressure, peer-gone checks
 *   bulk.c      large streams: wider send buffers and splice lanes, bounded
 *   server.c    start, signals, reload, draining shutdown
 *   status.c    the read-only admin socket of `sockgate status`
 *
 * Ownership: the server owns listeners, connections and idle upstreams. A
 * connection owns its current exchange and, while one is in flight, one
 * upstream. Objects are freed only in libuv close callbacks, so a pointer
 * taken in one callback stays valid until the end of that callback.
 */
#ifndef SG_GATE_H
#define SG_GATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "base/iobuf.h"
#include "base/ioloop.h"
#include "base/ticker.h"
#include "http/http.h"
#include "decide/decide.h"
#include "decide/peer_container.h"
#include "decide/policy_env.h"
#include "gate/budget.h"
#include "policy/settings.h"
#include "route/router.h"
#include "tunnel/h2_inspect.h"

/* One read from a socket at most; also the cap of a buffered request head. */
#define SG_READ_CHUNK (64 * 1024)
/* Bytes a side may buffer before the head or body is consumed. */
#define SG_IN_LIMIT (HTTP_MAX_HEAD_BYTES + 1024)
/* dockerd's side reads bigger pieces: responses are where the volume is
 * (save, export, logs), and fewer, larger reads cut syscalls per GiB. */
#define SG_UP_READ_CHUNK (256 * 1024)
#define SG_UP_IN_LIMIT (SG_UP_READ_CHUNK + 1024)
/* Backpressure: stop reading a side when its peer's write queue is above
 * HIGH; resume below LOW. Bounds memory per streaming connection. */
#define SG_WRITE_HIGH (256 * 1024)
#define SG_WRITE_LOW (64 * 1024)
/* Idle keep-alive connections kept open to dockerd. */
#define SG_MAX_IDLE_UPSTREAMS 64
/* Large streams (bulk.c): a body this large, or a stream that has carried
 * this much, is bulk; its sending socket is widened to SG_BULK_SNDBUF
 * (the kernel keeps twice that), at most SG_BULK_MAX_WIDE sockets at once. */
#define SG_BULK_MIN (1024 * 1024)
#define SG_BULK_SNDBUF (1024 * 1024)
#define SG_BULK_MAX_WIDE 32

/* Splice lanes (bulk.c): at most this many pipes at once, each this big. */
#define SG_BULK_MAX_LANES 32
#define SG_LANE_PIPE (256 * 1024)
#define SG_LANE_UNLIMITED UINT64_MAX

/* One direction of a stream moved by splice(2) through a pipe (bulk.c). */
typedef struct {
    int rd, wr;        /* the pipe's ends, when piped                    */
    int src, dst;      /* the sockets, while active                      */
    size_t held;       /* in the pipe, not yet taken by dst              */
    uint64_t limit;    /* src may give this much more (or UNLIMITED)     */
    uint64_t moved;    /* taken from src since the owner last looked     */
    int error;         /* 0, or a negative errno of either socket        */
    bool piped, active, src_eof;
} sg_lane;

/* A connection's two lanes, allocated at its first large stream. */
typedef struct {
    sg_lane to_client; /* dockerd's answer, or its side of a relay */
    sg_lane to_engine; /* a request body, or the client's side      */
} sg_lanes;

/* Which way a connection's bytes go. */
typedef enum { SG_TO_CLIENT, SG_TO_ENGINE } sg_direction;

/* A socket's send buffer while it carries a large stream (bulk.c). */
typedef struct {
    bool wide;   /* widened: counts against SG_BULK_MAX_WIDE */
    int narrow;  /* what to set back                         */
} sg_sndbuf;

typedef struct sg_server sg_server;
typedef struct sg_conn sg_conn;
typedef struct sg_upstream sg_upstream;
typedef struct sg_listener sg_listener;

/* The restricted socket's caller, beyond sg_caller.container: what the
 * kernel said, dockerd's look-up while it is pending, and the container's
 * name and image for the audit line. Allocated for restricted connections
 * only, so that an idle public connection costs none of it. */
typedef struct {
    sg_peer_container peer;  /* its cgroup's container, its PID namespace */
    sg_engine_req *req;      /* CONN_IDENTIFYING: dockerd asked            */
    char name[128];          /* without the leading '/'                    */
    char image[256];         /* Config.Image, as the container was created */
    sg_tenant tenant;        /* from its labels (decide/tenant.h)          */
} sg_identity;

typedef struct {
    const char *engine_path;
    const char *listen_path;
    const char *restricted_path;
    const char *settings_path;
    const char *state_dir;
    const char *socket_group;
    unsigned socket_mode;
    unsigned shutdown_timeout_ms;
    sg_registry_config registry; /* --registry-endpoint, --insecure-registry … */
    const char *protect[8];      /* --protect: more protected socket paths     */
    size_t n_protect;
    unsigned digest_ttl_s;       /* --digest-ttl                               */
    unsigned header_timeout_s;   /* --header-timeout: slow request heads       */
    const char *status_path;     /* --status-socket: root-only, read-only      */
    unsigned body_timeout_s;     /* --body-timeout: slow bodies being inspected */
    uint64_t inspect_budget;     /* --inspect-budget: bytes held, all callers  */
    unsigned decision_budget;    /* --decision-budget: decisions in flight     */
    unsigned max_connections;    /* --max-connections (0: from RLIMIT_NOFILE)  */
} sg_server_config;

struct sg_listener {
    uv_pipe_t pipe;
    sg_server *srv;
    sg_socket_kind kind;
    char *created_path; /* unlinked at shutdown; NULL if systemd owns it */
    dev_t dev;
    ino_t ino;
    sg_listener *next;
};

/*
 * The stages of the request path above conn.c. conn.c owns a connection's
 * lifetime, reading, writing and backpressure, and moves it on only through
 * this table (sg_request_path, in dispatch.c), never by calling a stage by
 * name: the request path depends on the connection, not the other way
 * round. A step returns true to go on with the next at once.
 */
typedef struct {
    bool (*read_head)(sg_conn *c);                 /* CONN_READ_HEAD      */
    bool (*inspect_body)(sg_conn *c);              /* CONN_INSPECT_BODY   */
    bool (*exchange)(sg_conn *c);                  /* CONN_EXCHANGE       */
    void (*relay)(sg_conn *c);                     /* CONN_RELAY          */
    void (*relay_client_eof)(sg_conn *c, bool peer_gone);
    void (*accepted)(sg_conn *c);                  /* before any request  */
    void (*cancel)(sg_conn *c);                    /* what waits on look-ups */
    void (*refuse)(sg_conn *c, int status, const char *message); /* answer, maybe close */
} sg_conn_stages;

struct sg_server {
    uv_loop_t *loop;
    sg_ioloop io;        /* reads the client and engine sockets (base/ioloop.h) */
    sg_server_config cfg;
    sg_settings *policy;
    sg_policy_env env;   /* what the policy may use to decide */
    sg_listener *listeners;
    sg_upstream *idle;   /* idle upstream pool, most recent first */
    router_match *spare_match; /* one, reused by every request (dispatch.c) */
    size_t n_idle;
    size_t n_wide;       /* sockets widened for a large stream (bulk.c) */
    size_t n_lanes;      /* splice pipes open (bulk.c)                  */
    const sg_conn_stages *stages; /* the request path (sg_request_path) */
    void (*conn_closed)(sg_server *srv); /* after each close (server.c: drain) */
    sg_conn *conns;      /* every open client connection */
    size_t n_conns;
    size_t max_conns;    /* beyond it, new connections are answered 503 */
    sg_budget budget;    /* what requests hold while inspected (budget.h) */
    uint64_t next_conn_id;
    bool draining;
    uv_signal_t sig_term, sig_int, sig_hup;
    uv_timer_t drain_timer;
    sg_ticker sweep_ticker;  /* once a second: slow heads (base/ticker.h)  */
    uv_fs_event_t settings_watch; /* the settings file's directory        */
    uv_timer_t reload_timer; /* debounces file-change reloads             */
    sg_ticker info_ticker;   /* GET /info every minute (engine_info.h)    */
    sg_engine_req *info_req; /* while one is in flight                    */
    bool watching;
    uv_pipe_t status_pipe;   /* `sockgate status` (status.c)             */
    bool status_open;
    char status_path_buf[4096];
    uint64_t started_ms;
    struct {                 /* for `sockgate status` and the log         */
        uint64_t connections, requests, denied, rewritten;
        uint64_t decisions;    /* requests held for an asynchronous decision */
        uint64_t decision_us;  /* how long, in all                           */
        uint64_t refused_connections; /* over max_conns                      */
        uint64_t slow_bodies;  /* cut by the body timeout                    */
        uint64_t spliced;      /* bytes moved by splice lanes (bulk.c)       */
    } stats;
    int exit_code;
};

typedef enum {
    CONN_READ_HEAD,    /* waiting for the next request head (first: a
                          zeroed connection starts here)               */
    CONN_IDENTIFYING,  /* restricted socket: asking who the caller is  */
    CONN_INSPECT_BODY, /* buffering a body: policy or hijack route     */
    CONN_DECIDING,     /* waiting for sg_decision_start()'s verdict    */
    CONN_CONNECTING,   /* head decided, waiting for an upstream        */
    CONN_EXCHANGE,     /* forwarding request body and/or response      */
    CONN_RELAY,        /* hijacked: raw bytes both ways                */
} sg_conn_state;

/*
 * What dockerd does with the body of a request, for the routes whose handler
 * hijacks the connection. Go's server hands a hijacking handler the raw
 * connection and drops its read buffer: a body dockerd did not read is
 * either lost (if it arrived with the head) or becomes the first bytes of the
 * stream, i.e. a container's stdin (if it arrived later). Which one happens
 * depends on timing; the gate makes it deterministic by never letting such
 * bytes reach dockerd (see body_use_of in dispatch.c).
 */
typedef enum {
    SG_BODY_STREAMED,  /* dockerd reads the body: forward it as it comes   */
    SG_BODY_UNREAD,    /* attach, attach/ws, /session, /grpc: read, drop   */
    SG_BODY_ONE_VALUE, /* exec start: one JSON object is read, then hijack */
} sg_body_use;

/* One request and its response. Freed when both are complete. */
typedef struct {
    http_method method;
    char *target;            /* raw request target, for logs and errors
                                (in the exchange's own block)           */
    route_id route;
    bool http10;
    bool client_keep_alive;
    bool upgrade;
    char *head;              /* forwarded head without framing/final CRLF,
                                until dockerd answers (retry); NULL after */
    char *head_buf;          /* its room, in the exchange's block         */
    char *head_heap;         /* or here, when the query was rewritten     */
    size_t head_len;
    size_t head_cap;         /* room for the head before its framing      */
    uint64_t decide_started_ns; /* uv_hrtime() as its decision started    */
    char upgrade_proto[64];  /* value of Upgrade: when upgrade            */

    http_body_kind req_body;
    uint64_t req_remaining;
    http_chunked req_chunked;
    uint64_t req_carried;    /* body bytes forwarded (bulk.c)             */
    bool req_done;
    bool req_sent_body;      /* streamed body bytes went to dockerd      */
    sg_iobuf inspect;        /* CONN_INSPECT_BODY: the decoded body       */
    bool inspected;          /* body was buffered (and decided upon)      */
    bool decide_body;        /* the policy decides on the buffered body   */
    bool buffered;           /* the body is read in full before forwarding */
    sg_body_use body_use;    /* what dockerd does with the body           */
    router_match *match;     /* kept only while a body is inspected       */
    sg_verdict *pending;     /* the first verdict, while a decision waits */
    char *content_type;      /* Content-Type, for the decision            */
    sg_settings *policy;     /* the policy this request is decided under  */
    sg_budget_hold hold;     /* what it holds of the server's budget      */
    uint64_t decision_cost;  /* of that, what its decision holds (the body's tree,
                                look-up answers): given back when decided */

    bool resp_head_done;
    bool resp_started;       /* any response byte reached the client     */
    http_body_kind resp_body;
    uint64_t resp_remaining;
    http_chunked resp_chunked;
    uint64_t resp_carried;   /* body bytes relayed (bulk.c)               */
    bool resp_keep_alive;
    bool resp_done;
    int status;
} sg_exchange;

struct sg_conn {
    uv_pipe_t pipe;          /* the client; pipe.data == this            */
    sg_server *srv;
    sg_socket_kind kind;
    sg_conn_state state;
    uint64_t id;
    sg_iobuf in;             /* client bytes not yet consumed            */
    sg_exchange *ex;
    sg_upstream *up;
    sg_decision *decision;   /* CONN_DECIDING: the pending decision      */
    sg_caller caller;        /* who the client is (SO_PEERCRED), its socket */
    sg_identity *identity;   /* restricted socket only (identify.c)      */
    sg_io_watch watch;       /* reading the client (base/ioloop.h)       */
    bool client_eof;
    bool close_after;        /* close once the current exchange ends    */
    bool closing;
    bool in_process, process_again;
    bool shut_client_sent;   /* relay: write side to client shut down   */
    bool shut_up_sent;       /* relay: write side to dockerd shut down  */
    sg_h2_inspect *h2;       /* relay of an isolated caller's /grpc: the
                                BuildKit requests are read (tunnel/)     */
    sg_sndbuf sndbuf;        /* the client socket's, for large streams   */
    sg_lanes *lanes;         /* splice lanes, once a stream was large    */
    uint64_t relayed_out;    /* relay: bytes to the client (bulk.c)      */
    uint64_t relayed_in;     /* relay: bytes to dockerd                  */
    uv_timer_t *linger;      /* lingering close: see conn_linger()       */
    uint64_t head_since;     /* when a partial request head started (ms) */
    uint64_t body_since;     /* when an inspected body started (ms)      */
    uint64_t served;         /* request heads read on this connection     */
    uint64_t linger_deadline; /* lingering close: when it ends at the latest (ms) */
    int open_handles;        /* freed when the last one is closed        */
    sg_conn *prev, *next;
};

/*
 * What an upstream tells whoever holds it: the upstream layer knows its
 * owner only through these (it never calls a connection by name), so the
 * request path above it and the pool below stay one-way. owner is the
 * value given to sg_upstream_acquire.
 */
typedef struct {
    /* The upstream is the owner's from now on (pooled, or connecting). */
    void (*attached)(void *owner, sg_upstream *up);
    /* Connected (status 0), or failed: then the upstream is already gone. */
    void (*ready)(void *owner, int status);
    void (*readable)(void *owner);             /* bytes in up->in          */
    void (*eof)(void *owner);
    void (*error)(void *owner, int status);    /* reported once            */
    void (*written)(void *owner, int status);  /* a request write is done  */
    void (*abort)(void *owner, const char *why); /* cannot go on           */
} sg_upstream_ops;

struct sg_upstream {
    uv_pipe_t pipe;          /* pipe.data == this                        */
    uv_connect_t connect_req;
    sg_server *srv;
    void *owner;             /* while in use; NULL when idle             */
    const sg_upstream_ops *ops; /* the owner's                           */
    sg_iobuf in;             /* dockerd bytes not yet consumed           */
    sg_io_watch watch;       /* reading dockerd, once connected          */
    sg_sndbuf sndbuf;        /* widened for a large request body         */
    sg_lane *feeds;          /* the owner's lane this socket is read by  */
    sg_lane *drains;         /* the owner's lane that writes to it       */
    bool connected;
    bool eof;
    bool closing;
    bool reused;             /* taken from the idle pool                 */
    sg_upstream *next_idle;
};

/* ---- listener.c ---- */
#define SG_LISTENER_PATH_MAX 110 /* sun_path and its NUL */
int sg_listeners_open(sg_server *srv);
void sg_listeners_close(sg_server *srv);
bool sg_listener_path(const sg_listener *l, char *out, size_t outsz);
void sg_listeners_own_restricted(sg_server *srv, uid_t uid);

/* ---- conn.c ---- */
void sg_conn_accept(sg_listener *l);
int sg_request_body_next(sg_exchange *ex, const sg_iobuf *in, const char **data,
                         size_t *len, size_t *used);
void sg_exchange_free(sg_exchange *ex);
void sg_conn_detach_upstream(sg_conn *c, bool reusable);
int sg_conn_write_client(sg_conn *c, const char *data, size_t len);
void sg_conn_process(sg_conn *c);
void sg_conn_update_flow(sg_conn *c);
void sg_conn_abort(sg_conn *c, const char *why);
void sg_conn_close_gracefully(sg_conn *c);
void sg_conn_drain(sg_conn *c);
/* The connection's splice lanes (bulk.c), freed with the upstream they
 * splice to and from. Start: from now on direction d is spliced, limit
 * bytes at most; false (not started: the direction copies on) unless
 * nothing of it is buffered in the gate or queued in libuv. Stop: back to
 * reads and writes, its pipe kept until the exchange ends. */
bool sg_conn_lane_start(sg_conn *c, sg_direction d, uint64_t limit);
void sg_conn_lane_stop(sg_conn *c, sg_direction d);
void sg_conn_lanes_free(sg_conn *c);
/* What direction d's lane moved since the last look, counted in the
 * server's spliced bytes; a lane whose limit is spent and whose pipe is
 * empty is stopped (a relay's lanes have no limit). */
uint64_t sg_conn_lane_take(sg_conn *c, sg_direction d);
/* Bytes in either lane's pipe, not yet at their destination. */
bool sg_conn_lanes_hold(const sg_conn *c);

/* ---- audit.c ---- */
void sg_conn_log_decision(sg_conn *c, const sg_verdict *v, const char *detail);

/* ---- identify.c ---- */
void sg_identify_start(sg_conn *c);
void sg_identify_cancel(sg_conn *c);

/* ---- dispatch.c ---- */
extern const sg_conn_stages sg_request_path;
bool sg_conn_read_head(sg_conn *c);
bool sg_conn_begin(sg_conn *c, const http_request *req, router_match *m,
                   router_status rs);
bool sg_conn_inspect_body(sg_conn *c);

/* ---- exchange.c ---- */
bool sg_conn_exchange_step(sg_conn *c);
/* Take an upstream for the decided request (CONN_CONNECTING). */
void sg_conn_connect_upstream(sg_conn *c);

/* ---- upstream.c ---- */
void sg_upstream_acquire(sg_server *srv, const sg_upstream_ops *ops, void *owner);
/* The write callback for what is sent to dockerd: tells the owner. */
void sg_upstream_on_written(uv_stream_t *s, int status);
void sg_upstream_release(sg_upstream *up, bool reusable);
void sg_upstream_set_reading(sg_upstream *up, bool on);
/* Watch for room while a lane's bytes wait for dockerd (bulk.c). */
void sg_upstream_set_writing(sg_upstream *up, bool on);
/* Its lanes leave it: nothing spliced to or from it, no watch for room. */
void sg_upstream_unwire_lanes(sg_upstream *up);
/* dockerd's end of stream, seen by a lane instead of a read. */
void sg_upstream_saw_eof(sg_upstream *up);
void sg_upstream_pool_close(sg_server *srv);
void sg_upstream_abandon(sg_upstream *up);

/* ---- forward.c ---- */
/* The framing sockgate adds to a head: Content-Length (16 + 20 + 2 bytes)
 * or Transfer-Encoding (28), the upgrade (30 + 63 + 2), the final CRLF. */
#define SG_FRAMING_MAX 160
/* What naming the subject by its ID can add: 64 hex digits for a name of
 * one byte, or "container=" + ID + "&" put first in commit's query. */
#define SG_FORWARD_PIN_ROOM 96
size_t sg_forward_head_room(const http_request *req);
/* Name the request's subject by the ID the decision pinned it to
 * (sg_verdict.pin), in place: in the path, or first in the query (commit's
 * ?container=, which dockerd reads first). -1 if the head does not name
 * the subject where the decision saw it, or the ID does not fit in cap. */
int sg_forward_head_pin(char *head, size_t *len, size_t cap, const sg_verdict *v);
size_t sg_forward_head(const http_request *req, const router_match *m, bool drop_expect,
                       char *out);
int sg_forward_send_head(sg_conn *c, http_body_kind body, uint64_t length,
                         const char *data, size_t len);
/* Request body bytes for one write to dockerd, re-framed (forward.c). */
#define SG_FORWARD_BATCH 32 /* pieces of body: three buffers each, chunked */
typedef struct {
    http_body_kind kind;     /* LENGTH: as they are; CHUNKED: a chunk each */
    uv_buf_t bufs[3 * SG_FORWARD_BATCH + 1];
    char lines[SG_FORWARD_BATCH][20]; /* the chunks' size lines */
    unsigned n_bufs, n_pieces;
    size_t bytes;            /* body bytes in it                           */
} sg_forward_batch;
void sg_forward_batch_init(sg_forward_batch *b, http_body_kind kind);
bool sg_forward_batch_full(const sg_forward_batch *b);
/* One piece of body (no-op when len is 0 or the batch is full). */
void sg_forward_batch_add(sg_forward_batch *b, const char *data, size_t len);
void sg_forward_batch_end(sg_forward_batch *b);
int sg_forward_batch_send(uv_stream_t *s, const sg_forward_batch *b);

/* ---- relay.c ---- */
void sg_relay_start(sg_conn *c);
void sg_relay_pump(sg_conn *c);
void sg_relay_on_client_eof(sg_conn *c, bool peer_gone);
void sg_relay_on_upstream_eof(sg_conn *c);

/* ---- reply.c ---- */
void sg_reply_error(sg_conn *c, int status, bool close, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void sg_reply_redirect(sg_conn *c, const char *location, bool close);
/* HTTP/2 with prior knowledge: GOAWAY (HTTP_1_1_REQUIRED), then close. */
void sg_reply_h2_refusal(sg_conn *c);
/* A request that fails before it reaches dockerd: answer, and close unless
 * the connection can go on with the next request. */
void sg_conn_refuse(sg_conn *c, int status, const char *message);
/* Answer 200 with a JSON body of the gate's own making (a scoped tenant's
 * cut answer, decide/rule_scope.c), then go on like sg_conn_refuse. */
void sg_conn_answer(sg_conn *c, const char *json);

/* ---- stream_io.c ---- */
/* A uv_buf_t without a call into libuv (uv_buf_init is not inline). */
static inline uv_buf_t sg_buf(const void *base, size_t len)
{
    uv_buf_t b;
    b.base = (char *)base;
    b.len = len;
    return b;
}
typedef void (*sg_write_done_fn)(uv_stream_t *s, int status);
int sg_stream_write(uv_stream_t *s, const uv_buf_t *bufs, unsigned nbufs,
                    sg_write_done_fn done);
bool sg_stream_peer_gone(uv_stream_t *s);
bool sg_stream_readable(uv_stream_t *s);
size_t sg_stream_queued(const uv_stream_t *s);

/* ---- bulk.c ---- */
void sg_bulk_widen(sg_server *srv, uv_stream_t *s, sg_sndbuf *sb);
/* Set back, and give up the slot. */
void sg_bulk_narrow(sg_server *srv, uv_stream_t *s, sg_sndbuf *sb);
/* The socket is closing: give up the slot only. */
void sg_bulk_forget(sg_server *srv, sg_sndbuf *sb);
/* n more bytes of a stream went to s: widen once *carried passes SG_BULK_MIN. */
void sg_bulk_count(sg_server *srv, uv_stream_t *s, sg_sndbuf *sb, uint64_t *carried,
                   size_t n);
/* Move src's next limit bytes to dst by splice from now on; false when no
 * pipe can be had (then the caller copies, as without a lane). */
bool sg_lane_start(sg_server *srv, sg_lane *l, int src, int dst, uint64_t limit);
/* src is readable: one splice in, then as much out as dst takes. */
void sg_lane_fill(sg_lane *l);
/* dst is writable: as much out as it takes. */
void sg_lane_drain(sg_lane *l);
/* The bytes taken from src since the last call. */
uint64_t sg_lane_take_moved(sg_lane *l);
/* Back to reads and writes (the pipe is kept): only when nothing is held. */
void sg_lane_stop(sg_lane *l);
/* Close the pipe; the lane is zeroed. */
void sg_lane_free(sg_server *srv, sg_lane *l);

/* ---- server.c ---- */
int sg_server_run(const sg_server_config *cfg);
void sg_conn_sweep(sg_conn *c, uint64_t now_ms, uint64_t head_ms, uint64_t body_ms);

/* ---- status.c ---- */
int sg_status_open(sg_server *srv);
void sg_status_close(sg_server *srv);

#endif
