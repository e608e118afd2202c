/*
 * reply.c — answers sockgate gives itself instead of forwarding, and the
 * refusal of a request that will not reach dockerd (sg_conn_refuse: answer,
 * then go on with the next request or close).
 *
 * They look like dockerd's own errors (`{"message":"..."}` with an
 * application/json type), because that is what every Engine client prints
 * to its user: `Error response from daemon: <message>`. A client that opens
 * with HTTP/2's preface reads no HTTP/1.1: it is answered in HTTP/2.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate/gate.h"
#include "tunnel/h2_inspect.h"

static const char *reply_reason(int status)
{
    switch (status) {
    case 301: return "Moved Permanently";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
    }
}

static void reply_on_written(uv_stream_t *s, int status)
{
    sg_conn *c = s->data;
    if (status < 0)
        sg_conn_abort(c, "client write failed");
    else
        sg_conn_update_flow(c);
}

/*
 * The head is built to its size: extra_headers (a redirect's Location) can
 * be as long as a request target, and a head written into a fixed buffer
 * and sent with the length snprintf would have written sends whatever lies
 * past the buffer.
 */
static void reply_send(sg_conn *c, int status, const char *extra_headers,
                       const char *body, bool close)
{
    bool head_only = c->ex && c->ex->method == HTTP_METHOD_HEAD;
    size_t body_len = strlen(body);
    char *head = NULL;
    int n = asprintf(&head,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n%s%s\r\n",
                     status, reply_reason(status), body_len, extra_headers,
                     close ? "Connection: close\r\n" : "");
    if (n < 0) {
        sg_conn_abort(c, "out of memory");
        return;
    }
    uv_buf_t bufs[2] = {uv_buf_init(head, (unsigned)n),
                        uv_buf_init((char *)body, (unsigned)body_len)};
    /* sg_stream_write copies what it leaves queued: head is ours to free. */
    int rc = sg_stream_write((uv_stream_t *)&c->pipe, bufs, head_only ? 1 : 2,
                             reply_on_written);
    free(head);
    if (rc < 0) {
        sg_conn_abort(c, "client write failed");
        return;
    }
    if (c->ex)
        c->ex->resp_started = true;
    if (close)
        sg_conn_close_gracefully(c);
}

void sg_reply_error(sg_conn *c, int status, bool close, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *obj = json_pack("{s:s}", "message", msg);
    char *body = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    reply_send(c, status, "", body ? body : "{\"message\":\"error\"}", close);
    free(body);
}

void sg_reply_redirect(sg_conn *c, const char *location, bool close)
{
    /* Location is a path we cleaned ourselves: no CR/LF can be in it. */
    char *hdr = NULL;
    if (asprintf(&hdr, "Location: %s\r\n", location) < 0) {
        sg_conn_abort(c, "out of memory");
        return;
    }
    reply_send(c, 301, hdr, "{\"message\":\"moved permanently\"}", close);
    free(hdr);
}

void sg_reply_h2_refusal(sg_conn *c)
{
    sg_h2_buf out = {0};
    if (sg_h2_refuse_connection(&out, "sockgate: HTTP/2 with prior knowledge is not served; "
                                      "use HTTP/1.1 (POST /grpc with Upgrade: h2c)") != 0) {
        sg_h2_buf_free(&out);
        sg_conn_abort(c, "out of memory");
        return;
    }
    uv_buf_t buf = uv_buf_init((char *)out.data, (unsigned)out.len);
    int rc = sg_stream_write((uv_stream_t *)&c->pipe, &buf, 1, reply_on_written);
    sg_h2_buf_free(&out);
    if (rc < 0) {
        sg_conn_abort(c, "client write failed");
        return;
    }
    sg_conn_close_gracefully(c);
}

/* After a reply of the gate's own: close, or go on with the next request. */
static void conn_after_reply(sg_conn *c, bool close)
{
    if (close && c->ex) { /* a lingering close holds none of the budget */
        sg_iobuf_free(&c->ex->inspect);
        sg_budget_hold_release(&c->ex->hold);
    }
    if (!close) {
        sg_exchange_free(c->ex);
        c->ex = NULL;
        c->state = CONN_READ_HEAD;
    }
}

static bool conn_reply_closes(const sg_conn *c)
{
    return !c->ex || !c->ex->req_done || !c->ex->client_keep_alive || c->client_eof ||
           c->srv->draining;
}

/* A request that fails before it reaches dockerd: answer and maybe close.
 * The connection stays usable only if no body bytes are left unread. */
void sg_conn_refuse(sg_conn *c, int status, const char *message)
{
    bool close = conn_reply_closes(c);
    sg_conn_detach_upstream(c, false);
    sg_reply_error(c, status, close, "%s", message);
    conn_after_reply(c, close);
}

void sg_conn_answer(sg_conn *c, const char *json)
{
    bool close = conn_reply_closes(c);
    sg_conn_detach_upstream(c, false);
    reply_send(c, 200, "", json, close);
    conn_after_reply(c, close);
}
