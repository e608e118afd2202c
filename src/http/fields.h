/*
 * fields.h — field-syntax helpers shared by request.c, response.c and
 * chunked.c: character classes of RFC 9110/9112, the header-section
 * scanner, field-line parsing and the framing/Connection rules that
 * requests and responses have in common.
 *
 * Errors are reported with request-side statuses (400, 431); response.c
 * maps them to its own status because dockerd, not the client, is at fault.
 */
#ifndef SG_HTTP_FIELDS_H
#define SG_HTTP_FIELDS_H

#include <string.h>

#include "http/http.h"

/* Largest Content-Length accepted: big enough for any image tarball, small
 * enough that offset arithmetic on it can never overflow. */
#define HTTP_MAX_CONTENT_LENGTH (UINT64_C(1) << 62)

/* Character classes by table (fields.c): they run on every byte of a head. */
#define HTTP_CLASS_TCHAR 1u
#define HTTP_CLASS_FIELD 2u
extern const unsigned char http_char_class[256];

/* RFC 9110 tchar. */
static inline bool http_is_tchar(unsigned char c)
{
    return (http_char_class[c] & HTTP_CLASS_TCHAR) != 0;
}
/* Byte allowed inside a field value: VCHAR, SP, HTAB or obs-text. */
static inline bool http_is_field_byte(unsigned char c)
{
    return (http_char_class[c] & HTTP_CLASS_FIELD) != 0;
}
/* 1*tchar. */
bool http_is_token(const char *s, size_t n);
/* Every byte of p[0..n) is a field byte (checked a word at a time). */
bool http_field_bytes_ok(const char *p, size_t n);

/* ASCII lower case, by table (fields.c): no branch per byte. */
extern const unsigned char http_lower_table[256];
static inline unsigned char http_lower(unsigned char c) { return http_lower_table[c]; }

/* ASCII case-insensitive comparison of s[0..n) with the C string lit.
 * Inline, so that strlen of a literal is a constant and a name of another
 * length costs one comparison. */
static inline bool http_ieqn(const char *s, size_t n, const char *lit, size_t lit_len)
{
    if (n != lit_len)
        return false;
    for (size_t i = 0; i < n; i++)
        if (http_lower((unsigned char)s[i]) != http_lower((unsigned char)lit[i]))
            return false;
    return true;
}

static inline bool http_ieq(const char *s, size_t n, const char *lit)
{
    return http_ieqn(s, n, lit, strlen(lit));
}

/*
 * Find the end of the header section in buf[0..len) and check line endings
 * on the way: every LF must follow a CR and every CR must precede a LF.
 * OK sets *head_len (up to and including CRLFCRLF). Heads over
 * HTTP_MAX_HEAD_BYTES fail with 431 as soon as that is certain.
 */
http_parse_status http_scan_head(const char *buf, size_t len, size_t *head_len,
                                 http_error *err);

/*
 * The fast path of a head parse, in one pass: a complete head of plain
 * lines within HTTP_MAX_HEAD_BYTES — a first line of field bytes, field
 * lines of 1*tchar ":" field bytes, each line ended by CRLF, then an empty
 * line. Fills *line_len (the first line, without CRLF), hdrs[0..*n) (values
 * trimmed as http_parse_field_line trims them) and *head_len. Returns
 * false for anything else, without saying why: the caller then parses in
 * the full order (http_scan_head, then line by line), which gives every
 * input its one answer. A head accepted here is accepted there with the
 * same lines and fields, since every byte the scan and the field checks
 * would refuse (a bare CR or LF, a control, a bad name) is refused here.
 */
bool http_parse_plain_head(const char *buf, size_t len, size_t *line_len, http_header *hdrs,
                           size_t *n, size_t *head_len);

/*
 * Parse the field lines in [p, end): each "name: value" CRLF, with end
 * just past the CRLF of the last field line. Line endings must already be
 * checked by http_scan_head. Appends to hdrs[*n].
 */
bool http_parse_fields(const char *p, const char *end, http_header *hdrs,
                       size_t *n, http_error *err);

/* One field line without its CRLF. */
bool http_parse_field_line(const char *line, size_t len, http_header *out,
                           http_error *err);

/* Content-Length value: 1*DIGIT, at most HTTP_MAX_CONTENT_LENGTH. */
bool http_parse_content_length(const char *v, size_t n, uint64_t *out);

/* Message framing as declared by the header fields alone. */
typedef struct {
    bool has_length;         /* one valid Content-Length field            */
    uint64_t content_length;
    bool chunked;            /* one "Transfer-Encoding: chunked" field    */
} http_framing;

/* Index the fields hdrs[0..n) (n <= HTTP_MAX_HEADERS): one pass. */
void http_index_fields(const http_header *hdrs, size_t n, http_field_index *ix);

/*
 * Apply the framing rules common to requests and responses: at most one
 * Content-Length (1*DIGIT), at most one Transfer-Encoding and only
 * "chunked", never both, no Transfer-Encoding in HTTP/1.0. A duplicate is
 * reported as the first one in field order would be.
 */
bool http_check_framing(const http_header *hdrs, const http_field_index *ix,
                        int version_minor, http_framing *out, http_error *err);

/* Tokens of interest in the (combined) Connection fields. */
typedef struct {
    bool close;
    bool keep_alive;
    bool upgrade;
} http_connection;

/* Read every Connection field as one comma-separated token list. */
bool http_check_connection(const http_header *hdrs, size_t n, const http_field_index *ix,
                           http_connection *out, http_error *err);

/* keep-alive default of HTTP/1.1 and opt-in of HTTP/1.0. */
bool http_connection_persists(const http_connection *conn, int version_minor);

#endif
