/*
 * chunked.c — incremental decoder for the chunked transfer coding
 * (RFC 9112 section 7.1), used on request bodies from clients and on
 * response bodies from dockerd.
 *
 * The decoder is a byte-level state machine whose whole state lives in
 * struct http_chunked, so input may arrive split at any byte. Body bytes
 * are never copied: a DATA result is a span of the caller's input.
 *
 * Strict subset: no chunk extensions, no whitespace around the size, at
 * most 16 hex digits, CRLF only, and a trailer section of at most
 * CHUNK_MAX_TRAILER bytes whose lines must be valid field lines.
 *
 * Private field use: remaining = bytes left in the current chunk while
 * reading a size or data, and the trailer byte count in the trailer;
 * line_len = hex digits of the current size line.
 */
#include "base/hex.h"
#include "http/fields.h"

#define CHUNK_MAX_SIZE_DIGITS 16
#define CHUNK_MAX_TRAILER (8 * 1024)

enum {
    CHUNK_SIZE,        /* reading hex digits of chunk-size              */
    CHUNK_SIZE_LF,     /* CR seen after the size                        */
    CHUNK_DATA,        /* remaining bytes of chunk-data                 */
    CHUNK_DATA_CR,     /* CRLF that ends chunk-data                     */
    CHUNK_DATA_LF,
    CHUNK_TRAILER,     /* start of a trailer line or of the final CRLF  */
    CHUNK_TR_NAME,     /* inside a trailer field name                   */
    CHUNK_TR_VALUE,    /* inside a trailer field value                  */
    CHUNK_TR_LF,       /* CR seen at the end of a trailer line          */
    CHUNK_FINAL_LF,    /* CR of the final CRLF seen                     */
    CHUNK_DONE,
    CHUNK_ERROR,
};

void http_chunked_init(http_chunked *c)
{
    c->state = CHUNK_SIZE;
    c->remaining = 0;
    c->line_len = 0;
}

static int chunk_size_byte(http_chunked *c, unsigned char ch)
{
    int d = sg_hex_value(ch);
    if (d >= 0) {
        /* 16 digits always fit in 64 bits, so the limit is the check. */
        if (c->line_len >= CHUNK_MAX_SIZE_DIGITS)
            return CHUNK_ERROR;
        c->line_len++;
        c->remaining = c->remaining * 16 + (uint64_t)d;
        return CHUNK_SIZE;
    }
    /* ';' (extension), whitespace, bare LF and anything else end here. */
    if (ch != '\r' || c->line_len == 0)
        return CHUNK_ERROR;
    return CHUNK_SIZE_LF;
}

static int chunk_size_lf(http_chunked *c, unsigned char ch)
{
    if (ch != '\n')
        return CHUNK_ERROR;
    c->line_len = 0;
    if (c->remaining == 0)
        return CHUNK_TRAILER; /* last-chunk; remaining now counts trailer */
    return CHUNK_DATA;
}

/* Trailer lines are checked like header field lines, one byte at a time. */
static int chunk_trailer_byte(int state, unsigned char ch)
{
    switch (state) {
    case CHUNK_TRAILER:
        if (ch == '\r')
            return CHUNK_FINAL_LF;
        /* obs-fold, an empty name or a non-token byte */
        return http_is_tchar(ch) ? CHUNK_TR_NAME : CHUNK_ERROR;
    case CHUNK_TR_NAME:
        if (ch == ':')
            return CHUNK_TR_VALUE;
        return http_is_tchar(ch) ? CHUNK_TR_NAME : CHUNK_ERROR;
    case CHUNK_TR_VALUE:
        if (ch == '\r')
            return CHUNK_TR_LF;
        return http_is_field_byte(ch) ? CHUNK_TR_VALUE : CHUNK_ERROR;
    case CHUNK_TR_LF:
        return ch == '\n' ? CHUNK_TRAILER : CHUNK_ERROR;
    case CHUNK_FINAL_LF:
        return ch == '\n' ? CHUNK_DONE : CHUNK_ERROR;
    default:
        return CHUNK_ERROR;
    }
}

/* Advance over one framing byte (anything but chunk-data). */
static int chunk_framing_byte(http_chunked *c, unsigned char ch)
{
    switch (c->state) {
    case CHUNK_SIZE:
        return chunk_size_byte(c, ch);
    case CHUNK_SIZE_LF:
        return chunk_size_lf(c, ch);
    case CHUNK_DATA_CR:
        return ch == '\r' ? CHUNK_DATA_LF : CHUNK_ERROR;
    case CHUNK_DATA_LF:
        return ch == '\n' ? CHUNK_SIZE : CHUNK_ERROR;
    default:
        if (++c->remaining > CHUNK_MAX_TRAILER)
            return CHUNK_ERROR;
        return chunk_trailer_byte(c->state, ch);
    }
}

static http_chunk_status chunk_emit(http_chunked *c, const char *in, size_t len,
                                    size_t pos, size_t *consumed,
                                    const char **data, size_t *data_len)
{
    size_t avail = len - pos;
    size_t n = c->remaining < avail ? (size_t)c->remaining : avail;
    c->remaining -= n;
    if (c->remaining == 0)
        c->state = CHUNK_DATA_CR;
    *data = in + pos;
    *data_len = n;
    *consumed = pos + n;
    return HTTP_CHUNK_DATA;
}

http_chunk_status http_chunked_step(http_chunked *c, const char *in, size_t len,
                                    size_t *consumed, const char **data,
                                    size_t *data_len)
{
    *data = NULL;
    *data_len = 0;
    size_t pos = 0;
    while (c->state != CHUNK_DONE && c->state != CHUNK_ERROR) {
        if (pos == len) {
            *consumed = pos;
            return HTTP_CHUNK_NEED_MORE;
        }
        if (c->state == CHUNK_DATA)
            return chunk_emit(c, in, len, pos, consumed, data, data_len);
        c->state = chunk_framing_byte(c, (unsigned char)in[pos]);
        if (c->state != CHUNK_ERROR)
            pos++;
    }
    *consumed = pos;
    return c->state == CHUNK_DONE ? HTTP_CHUNK_DONE : HTTP_CHUNK_ERROR;
}
