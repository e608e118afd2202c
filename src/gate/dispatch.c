/*
 * dispatch.c — the front half of an exchange: parse the next request head,
 * route it, decide it, and either answer it here (malformed, redirected,
 * denied) or prepare what will be forwarded and ask for an upstream.
 *
 * Bodies that can expose the Docker socket are buffered and decided here
 * too (CONN_INSPECT_BODY) before a single byte of them reaches dockerd.
 * So are the bodies of routes that dockerd hijacks: they are cut to what
 * dockerd reads before the switch, so that none of their bytes can become
 * stream data (a container's stdin).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "body/gojson.h"
#include "gate/gate.h"
#include "tunnel/h2_inspect.h"

/* ---- starting an exchange ---------------------------------------------- */

/* One block for the exchange, its target and room for the head it will
 * forward (malloc, not calloc: glibc's calloc skips the per-thread cache
 * that makes a small malloc cheap). */
static sg_exchange *exchange_new(const http_request *req)
{
    size_t head_room = sg_forward_head_room(req);
    sg_exchange *ex = malloc(sizeof *ex + req->target_len + 1 + head_room);
    if (!ex)
        return NULL;
    memset(ex, 0, sizeof *ex);
    ex->target = (char *)(ex + 1);
    memcpy(ex->target, req->target, req->target_len);
    ex->target[req->target_len] = '\0';
    ex->head_buf = ex->target + req->target_len + 1;
    ex->head_cap = head_room - SG_FRAMING_MAX;
    ex->method = req->method;
    ex->http10 = req->version_minor == 0;
    ex->client_keep_alive = req->keep_alive;
    ex->req_body = req->body;
    ex->req_remaining = req->body == HTTP_BODY_LENGTH ? req->content_length : 0;
    ex->req_done = req->body == HTTP_BODY_NONE ||
                   (req->body == HTTP_BODY_LENGTH && req->content_length == 0);
    http_chunked_init(&ex->req_chunked);
    http_chunked_init(&ex->resp_chunked);
    const http_header *up = req->fields.n_upgrade ? &req->headers[req->fields.upgrade] : NULL;
    if (req->upgrade && up && up->value_len < sizeof ex->upgrade_proto) {
        ex->upgrade = true;
        memcpy(ex->upgrade_proto, up->value, up->value_len);
    }
    return ex;
}

static void conn_reply_redirect(sg_conn *c, const router_match *m)
{
    size_t len = strlen(m->clean_path);
    size_t room = len * 3 + 2 + (m->query ? m->query_len + 1 : 0);
    char *loc = malloc(room);
    if (!loc) {
        sg_conn_abort(c, "out of memory");
        return;
    }
    size_t n = router_encode_path(m->clean_path, len, loc, room);
    if (m->query) {
        loc[n++] = '?';
        memcpy(loc + n, m->query, m->query_len);
        n += m->query_len;
    }
    loc[n] = '\0';
    bool close = !c->ex->req_done || !c->ex->client_keep_alive;
    sg_reply_redirect(c, loc, close);
    free(loc);
    if (!close) {
        sg_exchange_free(c->ex);
        c->ex = NULL;
    }
}

/*
 * router_match is large (it holds the decoded path, 16 KiB) and needed only
 * while a head is decided, or kept while a body is inspected: the server
 * keeps one spare, so that routing a request costs no allocation.
 */
static router_match *match_take(sg_server *srv)
{
    router_match *m = srv->spare_match;
    srv->spare_match = NULL;
    return m ? m : malloc(sizeof *m);
}

static void match_put(sg_server *srv, router_match *m)
{
    if (!srv->spare_match)
        srv->spare_match = m;
    else
        free(m);
}

/* Parse a head from c->in, route and decide it. Returns true if the
 * connection moved on and processing should continue. */
bool sg_conn_read_head(sg_conn *c)
{
    if (c->in.len == 0)
        return false;
    http_request req;
    http_error err;
    http_parse_status st = http_parse_request(c->in.data, c->in.len, &req, &err);
    if (st == HTTP_PARSE_INCOMPLETE) {
        if (c->in.len >= SG_IN_LIMIT)
            sg_reply_error(c, 431, true, "request header section too large");
        return false;
    }
    if (st == HTTP_PARSE_ERROR && c->served == 0 && sg_h2_prior_knowledge(c->in.data, c->in.len)) {
        sg_info("HTTP/2 with prior knowledge on a new connection: answered GOAWAY "
                "(HTTP_1_1_REQUIRED); clients fall back to POST /grpc");
        sg_reply_h2_refusal(c);
        return false;
    }
    if (st == HTTP_PARSE_ERROR) {
        sg_reply_error(c, err.status, true, "malformed request: %s", err.message);
        return false;
    }
    c->srv->stats.requests++;
    c->served++;
    c->ex = exchange_new(&req);
    if (!c->ex) {
        sg_conn_abort(c, "out of memory");
        return false;
    }
    /* Off the connection: only needed until the head is rebuilt. */
    router_match *m = match_take(c->srv);
    if (!m) {
        sg_conn_abort(c, "out of memory");
        return false;
    }
    router_status rs = router_route(req.method, req.target, req.target_len, m);
    c->ex->route = rs == ROUTER_MATCH ? m->route : ROUTE_NONE;
    if (rs == ROUTER_MATCH || rs == ROUTER_UNKNOWN)
        return sg_conn_begin(c, &req, m, rs); /* takes m */
    bool more = false;
    if (rs == ROUTER_BAD) {
        sg_iobuf_consume(&c->in, req.head_len);
        c->ex->req_done = false; /* force close: we do not know the body */
        sg_conn_refuse(c, 400, m->error ? m->error : "malformed request target");
    } else if (rs == ROUTER_REDIRECT) {
        conn_reply_redirect(c, m); /* m->query points into c->in: answer first */
        sg_iobuf_consume(&c->in, req.head_len);
        more = !c->closing;
        if (more)
            c->state = CONN_READ_HEAD;
    }
    match_put(c->srv, m);
    return more;
}


/*
 * The routes whose dockerd handler hijacks the connection, and what it reads
 * of the body first (moby 20.10 api/server/router: postContainersAttach and
 * the websocket attach never touch r.Body; buildkit's session manager and
 * the /grpc handler neither; postContainerExecStart decodes one JSON value
 * with a json.Decoder and hijacks). Every other handler reads its body or
 * never hijacks, and Go's server discards what a non-hijacking handler left.
 */
static sg_body_use body_use_of(route_id route)
{
    switch (route) {
    case ROUTE_CONTAINER_ATTACH:
    case ROUTE_CONTAINER_ATTACH_WS:
    case ROUTE_SESSION:
    case ROUTE_GRPC:
        return SG_BODY_UNREAD;
    case ROUTE_EXEC_START:
        return SG_BODY_ONE_VALUE;
    default:
        return SG_BODY_STREAMED;
    }
}

static void conn_on_decided(void *arg, const sg_verdict *v, char *body, size_t len);
static bool conn_take_body_budget(sg_conn *c, uint64_t total);

/* The decision's look-up answers are held like its body's tree: taken from
 * the budget as they arrive, given back when the decision ends. */
static int conn_meter_take(void *arg, uint64_t bytes, const char **why)
{
    sg_conn *c = arg;
    int status = sg_budget_take(&c->srv->budget, &c->ex->hold, &c->caller,
                                (sg_budget_cost){bytes, 0}, why);
    if (status == 0)
        c->ex->decision_cost += bytes;
    return status;
}

/* The request context the decision code sees. */
static sg_request_ctx conn_request_ctx(sg_conn *c, const router_match *m, router_status rs)
{
    const sg_exchange *ex = c->ex;
    return (sg_request_ctx){.caller = c->caller, .method = ex->method, .target = ex->target,
                            .route_status = rs, .match = m,
                            .content_type = ex->content_type,
                            .body_chunked = ex->req_body == HTTP_BODY_CHUNKED,
                            .meter = {conn_meter_take, c},
                            .tenant = c->identity && c->caller.container.state ==
                                                         SG_CONTAINER_KNOWN
                                          ? &c->identity->tenant
                                          : NULL};
}

/* The head to forward, with the verdict's query when it has one (a scoped
 * tenant's narrowed list): then in a block of its own, as it may be longer
 * than the room the exchange kept. */
static size_t conn_forward_head(sg_exchange *ex, const http_request *req, const router_match *m,
                                const sg_verdict *v)
{
    if (!v->query[0])
        return sg_forward_head(req, m, ex->buffered, ex->head_buf);
    size_t qlen = strlen(v->query), room = sg_forward_head_room(req) + qlen;
    if (!(ex->head_heap = malloc(room)))
        return 0;
    ex->head_buf = ex->head_heap;
    ex->head_cap = room - SG_FRAMING_MAX;
    router_match narrowed = *m;
    narrowed.query = v->query;
    narrowed.query_len = qlen;
    return sg_forward_head(req, &narrowed, ex->buffered, ex->head_buf);
}

static void conn_keep_content_type(sg_exchange *ex, const http_request *req)
{
    const http_header *h =
        req->fields.n_content_type ? &req->headers[req->fields.content_type] : NULL;
    if (h)
        ex->content_type = strndup(h->value, h->value_len);
}

/*
 * A decision in flight, and the tree its body will be parsed into, are
 * taken from the budget before the parse: the body's values are counted
 * first (one pass, no allocation), so a body whose tree would be too big is
 * refused without being built. Returns false when the request was answered.
 */
static bool conn_take_decision_budget(sg_conn *c, const char *body, size_t len)
{
    sg_exchange *ex = c->ex;
    uint64_t tree = 0;
    if (body) {
        size_t values = sg_gojson_count_values(body, len);
        if (values > SG_GOJSON_MAX_VALUES) {
            char msg[160];
            snprintf(msg, sizeof msg, SG_GOJSON_TOO_LARGE_FMT, SG_GOJSON_MAX_VALUES);
            sg_conn_refuse(c, 413, msg);
            return false;
        }
        tree = (uint64_t)values * SG_GOJSON_VALUE_COST;
    }
    const char *why = NULL;
    int status = sg_budget_take(&c->srv->budget, &ex->hold, &c->caller,
                                (sg_budget_cost){tree, 1}, &why);
    if (status != 0) {
        sg_conn_refuse(c, status, why);
        return false;
    }
    ex->decision_cost = tree;
    return true;
}

/* Start the asynchronous decision; conn_on_decided() moves the connection
 * on, and counts how long the request was held (`sockgate status`: the time
 * the policy adds, look-ups included). */
static void conn_start_decision(sg_conn *c, const sg_request_ctx *ctx, const sg_verdict *first,
                                const char *body, size_t len)
{
    sg_exchange *ex = c->ex;
    if (!conn_take_decision_budget(c, body, len))
        return;
    c->state = CONN_DECIDING;
    ex->decide_started_ns = uv_hrtime();
    sg_decision *d = sg_decision_start(&c->srv->env, ex->policy, ctx, first, body, len,
                                       conn_on_decided, c);
    if (d)
        c->decision = d;
}

/* Decide before forwarding, on what the request acts on; a body that is
 * not buffered stays in c->in and streams once the verdict allows it. */
static void conn_check_target(sg_conn *c, const sg_verdict *v, const router_match *m)
{
    sg_request_ctx ctx = conn_request_ctx(c, m, ROUTER_MATCH);
    conn_start_decision(c, &ctx, v, NULL, 0);
}

/* Keep what a decision made after the body is read needs. */
static bool conn_keep_for_later(sg_exchange *ex, router_match **m, const sg_verdict *v)
{
    ex->match = *m;
    *m = NULL;
    ex->pending = malloc(sizeof *ex->pending);
    if (ex->pending)
        *ex->pending = *v;
    return ex->pending != NULL;
}

/* Decide a routed request; takes ownership of m. */
bool sg_conn_begin(sg_conn *c, const http_request *req, router_match *m,
                   router_status rs)
{
    sg_exchange *ex = c->ex;
    ex->policy = sg_settings_ref(c->srv->policy);
    ex->body_use = rs == ROUTER_MATCH ? body_use_of(ex->route) : SG_BODY_STREAMED;
    conn_keep_content_type(ex, req);
    sg_request_ctx ctx = conn_request_ctx(c, m, rs);
    sg_verdict v;
    sg_decide_request(ex->policy, &ctx, &v);
    /* A body is read in full before anything is forwarded when the policy
     * decides on it, or when dockerd would hijack without reading it all:
     * only then can the gate tell the body from the stream that follows. */
    ex->decide_body = v.kind == SG_VERDICT_INSPECT_BODY;
    bool check_target = v.kind == SG_VERDICT_CHECK_TARGET;
    ex->buffered = ex->decide_body || (ex->body_use != SG_BODY_STREAMED && !ex->req_done);
    bool kept = true;
    if (v.kind != SG_VERDICT_DENY) {
        ex->head_len = conn_forward_head(ex, req, m, &v);
        ex->head = ex->head_len ? ex->head_buf : NULL;
        if (ex->decide_body || (check_target && ex->buffered))
            kept = conn_keep_for_later(ex, &m, &v);
    }
    bool expect_continue = req->expect_continue;
    /* The parsed head points into c->in: nothing may use req after this. */
    sg_iobuf_consume(&c->in, req->head_len);
    if (v.kind == SG_VERDICT_DENY) {
        match_put(c->srv, m);
        sg_conn_log_decision(c, &v, NULL);
        sg_conn_refuse(c, v.status, v.message);
        return !c->closing; /* kept alive: go on with a pipelined request */
    }
    if (!ex->head || !kept) {
        match_put(c->srv, m);
        sg_conn_abort(c, ex->head ? "out of memory" : "request head cannot be re-encoded");
        return false;
    }
    if (check_target && !ex->buffered) {
        conn_check_target(c, &v, m);
        match_put(c->srv, m);
        return !c->closing && c->state != CONN_DECIDING;
    }
    match_put(c->srv, m);
    if (ex->buffered) {
        bool keep = ex->decide_body || ex->body_use == SG_BODY_ONE_VALUE;
        if (keep && ex->req_body == HTTP_BODY_LENGTH && !conn_take_body_budget(c, ex->req_remaining))
            return false;
        if (expect_continue) /* we read the body before dockerd does */
            sg_conn_write_client(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
        c->state = CONN_INSPECT_BODY;
        return true;
    }
    c->state = CONN_CONNECTING;
    sg_conn_connect_upstream(c);
    return true;
}

/*
 * How much of a body the gate reads for inspection, by what dockerd does
 * with it: exec start takes three small fields (Detach, Tty, ConsoleSize);
 * the others carry a container's or service's whole configuration, whose
 * environment, labels and command lines can be long.
 */
static uint64_t inspect_limit(route_id route)
{
    return route == ROUTE_EXEC_START ? 64 * 1024 : SG_MAX_INSPECT_BODY;
}

/* Grow what the exchange holds of the budget to total bytes of body (a
 * Content-Length at once, a chunked body as it grows). Returns false when
 * the request was answered: too large (413), or over budget (429/503). */
static bool conn_take_body_budget(sg_conn *c, uint64_t total)
{
    sg_exchange *ex = c->ex;
    if (total > inspect_limit(ex->route)) {
        sg_conn_refuse(c, 413, "request body too large to inspect");
        return false;
    }
    uint64_t held = ex->hold.held.bytes - ex->decision_cost;
    if (total <= held)
        return true;
    const char *why = NULL;
    int status = sg_budget_take(&c->srv->budget, &ex->hold, &c->caller,
                                (sg_budget_cost){total - held, 0}, &why);
    if (status != 0) {
        sg_conn_refuse(c, status, why);
        return false;
    }
    return true;
}

/* Move body bytes from c->in into ex->inspect, decoded from their framing;
 * a body dockerd would not read is consumed and dropped. Returns false on
 * a framing error (already answered). */
static bool conn_buffer_body(sg_conn *c)
{
    sg_exchange *ex = c->ex;
    bool keep = ex->decide_body || ex->body_use != SG_BODY_UNREAD;
    while (!ex->req_done && c->in.len > 0) {
        const char *data;
        size_t len, used;
        if (sg_request_body_next(ex, &c->in, &data, &len, &used) != 0) {
            sg_conn_refuse(c, 400, "malformed request: bad chunked body");
            return false;
        }
        /* A chunked body's size is learnt as it comes: taken chunk by chunk. */
        if (keep && len > 0 && ex->req_body == HTTP_BODY_CHUNKED &&
            !conn_take_body_budget(c, ex->inspect.len + len))
            return false;
        if (keep)
            sg_iobuf_append(&ex->inspect, data, len);
        sg_iobuf_consume(&c->in, used);
    }
    return true;
}

static bool json_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/*
 * Cut a buffered body down to what dockerd reads of it before it hijacks
 * (sg_body_use), so that no byte of it can turn into stream data. Returns
 * false when the request was answered here instead.
 */
static bool conn_trim_unread_body(sg_conn *c)
{
    sg_exchange *ex = c->ex;
    if (ex->body_use == SG_BODY_UNREAD) {
        sg_iobuf_free(&ex->inspect);
    } else if (ex->body_use == SG_BODY_ONE_VALUE) {
        size_t i = 0;
        while (i < ex->inspect.len && json_space(ex->inspect.data[i]))
            i++;
        size_t end = sg_gojson_object_end(ex->inspect.data, ex->inspect.len);
        if (end > 0) {
            ex->inspect.len = end; /* what follows the object is never read */
        } else if (i < ex->inspect.len && ex->inspect.data[i] != '{') {
            /* dockerd would decode `null` and hijack, leaving the rest. */
            sg_conn_refuse(c, 400, "malformed request: the exec start body must be a JSON object");
            return false;
        } /* else empty or unterminated: dockerd answers 400 and keeps it */
    }
    return true;
}

/* The whole body is at hand and allowed: forward it. */
static void conn_forward_buffered(sg_conn *c)
{
    if (!conn_trim_unread_body(c))
        return;
    c->ex->inspected = true;
    c->state = CONN_CONNECTING;
    sg_conn_connect_upstream(c);
}

static void conn_on_decided(void *arg, const sg_verdict *v, char *body, size_t len)
{
    sg_conn *c = arg;
    sg_exchange *ex = c->ex;
    c->decision = NULL;
    sg_budget_give(&ex->hold, (sg_budget_cost){ex->decision_cost, 1}); /* the tree is gone */
    ex->decision_cost = 0;
    c->srv->stats.decisions++;
    c->srv->stats.decision_us += (uv_hrtime() - ex->decide_started_ns) / 1000;
    sg_conn_log_decision(c, v, NULL);
    if (v->kind == SG_VERDICT_DENY) {
        free(body);
        sg_conn_refuse(c, v->status, v->message);
    } else if (v->kind == SG_VERDICT_ANSWER) {
        sg_conn_answer(c, body ? body : "null");
        free(body);
    } else if (sg_forward_head_pin(ex->head, &ex->head_len, ex->head_cap, v) != 0) {
        free(body); /* fail closed: never forward a name the check did not pin */
        sg_conn_refuse(c, 500, "sockgate: cannot name the checked container by its ID");
    } else if (ex->buffered) {
        if (body || v->drop_body) { /* forward what was checked, never the bytes as received */
            sg_iobuf_free(&ex->inspect);
            ex->inspect.data = body;
            ex->inspect.len = ex->inspect.cap = body ? len : 0;
        }
        conn_forward_buffered(c);
    } else {
        free(body); /* a target check: the body streams as it comes */
        c->state = CONN_CONNECTING;
        sg_conn_connect_upstream(c);
    }
    if (!c->closing)
        sg_conn_process(c);
}

bool sg_conn_inspect_body(sg_conn *c)
{
    sg_exchange *ex = c->ex;
    if (!conn_buffer_body(c) || !ex->req_done)
        return false;
    if (!ex->pending) { /* a hijack route's body, nothing to decide */
        conn_forward_buffered(c);
        return !c->closing;
    }
    /* The match is only needed while the decision starts; the decision may
     * also end at once, and the callback may free the exchange. */
    router_match *m = ex->match;
    sg_verdict *first = ex->pending;
    ex->match = NULL;
    ex->pending = NULL;
    sg_request_ctx ctx = conn_request_ctx(c, m, ROUTER_MATCH);
    if (ex->decide_body)
        conn_start_decision(c, &ctx, first, ex->inspect.data ? ex->inspect.data : "",
                            ex->inspect.len);
    else
        conn_start_decision(c, &ctx, first, NULL, 0);
    match_put(c->srv, m);
    free(first);
    /* conn_on_decided moves the connection on, unless it was refused here */
    return !c->closing && c->state == CONN_READ_HEAD;
}

/* ---- the request path, as the connection sees it --------------------------- */

static void path_accepted(sg_conn *c)
{
    if (c->kind == SG_SOCKET_RESTRICTED)
        sg_identify_start(c); /* requests are read once it is known who calls */
}

const sg_conn_stages sg_request_path = {
    .read_head = sg_conn_read_head,
    .inspect_body = sg_conn_inspect_body,
    .exchange = sg_conn_exchange_step,
    .relay = sg_relay_pump,
    .relay_client_eof = sg_relay_on_client_eof,
    .accepted = path_accepted,
    .cancel = sg_identify_cancel,
    .refuse = sg_conn_refuse,
};
