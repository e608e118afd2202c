/*
 * http.h — sockgate's own strict HTTP/1.1 message model.
 *
 * This header owns the types shared by the three parsers that read
 * untrusted (or semi-trusted) bytes:
 *   request.c   request heads from clients         (http_parse_request)
 *   response.c  response heads from dockerd        (http_parse_response)
 *   chunked.c   chunked transfer-coding decoder    (http_chunked_step)
 *
 * The parsers never allocate and never copy: every string in a parsed head
 * points into the caller's buffer, which must outlive the parsed struct.
 * They are pure functions of their input so they can be fuzzed and unit
 * tested without an event loop.
 *
 * Strictness is the point: a security gate must reject anything two HTTP
 * implementations could read differently (see docs/ARCHITECTURE.md, "HTTP").
 */
#ifndef SG_HTTP_H
#define SG_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Largest header section (request line + fields + final CRLF) accepted. */
#define HTTP_MAX_HEAD_BYTES (64 * 1024)
/* Most header fields accepted in one head. */
#define HTTP_MAX_HEADERS 100

typedef enum {
    HTTP_METHOD_GET,
    HTTP_METHOD_HEAD,
    HTTP_METHOD_POST,
    HTTP_METHOD_PUT,
    HTTP_METHOD_DELETE,
    HTTP_METHOD_OPTIONS,
} http_method;

typedef enum {
    HTTP_BODY_NONE,    /* no body at all                                   */
    HTTP_BODY_LENGTH,  /* exactly content_length bytes (may be 0)          */
    HTTP_BODY_CHUNKED, /* chunked transfer-coding                          */
    HTTP_BODY_EOF,     /* responses only: body runs until the peer closes  */
} http_body_kind;

typedef struct {
    const char *name;  /* as received (case preserved), not NUL-terminated */
    size_t name_len;
    const char *value; /* leading/trailing OWS stripped                    */
    size_t value_len;
} http_header;

/*
 * Where the fields the parsers and the gate act on are, found in one pass
 * over the parsed fields (indexes into headers[], valid when the count is
 * not 0): a look-up by name is then a count and an index, not a search.
 */
typedef struct {
    unsigned char n_host, n_content_length, n_transfer_encoding, n_connection,
        n_expect, n_upgrade, n_content_type;
    unsigned char host, content_length, content_length2, transfer_encoding,
        transfer_encoding2, connection, upgrade, content_type;
} http_field_index;

typedef enum {
    HTTP_PARSE_OK,         /* a full head was parsed; head_len is set      */
    HTTP_PARSE_INCOMPLETE, /* need more bytes; nothing is wrong so far     */
    HTTP_PARSE_ERROR,      /* reject; see http_error                       */
} http_parse_status;

typedef struct {
    int status;          /* requests: 400, 417, 431, 501, 505; responses: 502 */
    const char *message; /* static English text, e.g. "bare LF in header"  */
} http_error;

typedef struct {
    http_method method;
    const char *method_str;  /* points into buffer */
    size_t method_len;
    const char *target;      /* origin-form request target, raw            */
    size_t target_len;
    int version_minor;       /* HTTP/1.<minor>: 0 or 1                     */

    http_header headers[HTTP_MAX_HEADERS];
    size_t n_headers;
    http_field_index fields; /* where Host, framing, Connection, … are     */

    http_body_kind body;     /* NONE, LENGTH or CHUNKED (never EOF)        */
    uint64_t content_length; /* valid when body == HTTP_BODY_LENGTH        */
    bool keep_alive;         /* 1.1 unless "Connection: close"; 1.0 only with "Connection: keep-alive" */
    bool expect_continue;    /* "Expect: 100-continue" (other expectations are a 417 error... see request.c) */
    bool upgrade;            /* Connection has token "upgrade" and an Upgrade header is present */
    size_t head_len;         /* bytes of the head, including the final CRLFCRLF */
} http_request;

typedef struct {
    int status;              /* 100..599                                   */
    int version_minor;
    http_header headers[HTTP_MAX_HEADERS];
    size_t n_headers;
    http_field_index fields; /* where framing, Connection, Content-Type are */
    http_body_kind body;     /* framing of the body, given the request     */
    uint64_t content_length;
    bool keep_alive;         /* connection reusable after this response    */
    bool raw_stream;         /* Content-Type is application/vnd.docker.raw-stream
                                or application/vnd.docker.multiplexed-stream */
    size_t head_len;
} http_response;

/*
 * Parse one request head from buf[0..len). On OK, fills *req (pointers into
 * buf) and req->head_len. On ERROR fills *err. Never reads past len.
 */
http_parse_status http_parse_request(const char *buf, size_t len,
                                     http_request *req, http_error *err);

/*
 * Parse one response head from buf[0..len). request_method is the method of
 * the request this answers (HEAD responses have no body). Body framing
 * follows RFC 9112 section 6.3: 1xx/204/304 and HEAD have none.
 */
http_parse_status http_parse_response(const char *buf, size_t len,
                                      http_method request_method,
                                      http_response *resp, http_error *err);

/* A method's name ("GET"), and the method a name is (case-sensitive, as
 * RFC 9110 wants: "get" is not GET); false if dockerd takes no such method. */
const char *http_method_name(http_method m);
bool http_method_parse(const char *s, size_t n, http_method *out);

/* Case-insensitive lookup of the first header named name (name_len
 * bytes); NULL if absent. */
const http_header *http_find_header_n(const http_header *headers, size_t n,
                                      const char *name, size_t name_len);
/* The same for a C string; inline, so that a literal's length is known
 * when compiling and costs nothing per call. */
static inline const http_header *http_find_header(const http_header *headers, size_t n,
                                                  const char *name)
{
    return http_find_header_n(headers, n, name, strlen(name));
}

/* ---- chunked decoder --------------------------------------------------- */

typedef struct {
    int state;          /* private */
    uint64_t remaining; /* private: bytes left in the current chunk */
    size_t line_len;    /* private: bytes of the current size/trailer line */
} http_chunked;

typedef enum {
    HTTP_CHUNK_DATA,      /* data, data_len: a span of body bytes      */
    HTTP_CHUNK_NEED_MORE, /* all input consumed, body not finished         */
    HTTP_CHUNK_DONE,      /* last chunk and trailer section consumed       */
    HTTP_CHUNK_ERROR,     /* malformed: bad size, extension, CRLF, trailer */
} http_chunk_status;

void http_chunked_init(http_chunked *c);

/*
 * Decode from in[0..len). Always sets *consumed (bytes of input used, which
 * may be less than len). Returns at most one DATA span per call; the caller
 * loops until NEED_MORE, DONE or ERROR. DATA spans point into in.
 */
http_chunk_status http_chunked_step(http_chunked *c, const char *in, size_t len,
                                    size_t *consumed, const char **data,
                                    size_t *data_len);

#endif
