/*
 * test_http_chunked.c — unit tests of the chunked decoder: valid bodies
 * fed whole, byte by byte and split at every boundary; every rejection
 * (extensions, whitespace, bare LF, missing CRLF, size overflow, bad or
 * oversized trailers); one DATA span per call; stopping after DONE.
 */
#include "http/http.h"
#include "unit.h"

#include <stdlib.h>

typedef struct {
    http_chunk_status status; /* last status: NEED_MORE, DONE or ERROR */
    char out[4096];
    size_t out_len;
    size_t used;              /* input bytes consumed in total */
} decoded;

/* Feed in[0..len) to c with the caller loop the proxy uses. */
static void feed(http_chunked *c, const char *in, size_t len, decoded *d)
{
    size_t pos = 0;
    for (;;) {
        size_t used = 0, n = 0;
        const char *data = NULL;
        http_chunk_status st = http_chunked_step(c, in + pos, len - pos, &used, &data, &n);
        pos += used;
        d->used += used;
        d->status = st;
        if (st != HTTP_CHUNK_DATA)
            return;
        if (d->out_len + n <= sizeof d->out) {
            memcpy(d->out + d->out_len, data, n);
            d->out_len += n;
        }
    }
}

static decoded decode_whole(const char *s, size_t len)
{
    decoded d = {0};
    http_chunked c;
    http_chunked_init(&c);
    feed(&c, s, len, &d);
    return d;
}

static decoded decode_bytewise(const char *s, size_t len)
{
    decoded d = {0};
    http_chunked c;
    http_chunked_init(&c);
    for (size_t i = 0; i < len && d.status != HTTP_CHUNK_DONE &&
                       d.status != HTTP_CHUNK_ERROR; i++)
        feed(&c, s + i, 1, &d);
    return d;
}

static int same(const decoded *a, const decoded *b)
{
    return a->status == b->status && a->out_len == b->out_len &&
           a->used == b->used && memcmp(a->out, b->out, a->out_len) == 0;
}

/* Whole, byte-wise and every two-way split must agree. */
static int consistent(const char *s)
{
    size_t len = strlen(s);
    decoded whole = decode_whole(s, len);
    decoded bytes = decode_bytewise(s, len);
    if (!same(&whole, &bytes))
        return 0;
    for (size_t k = 0; k <= len; k++) {
        decoded d = {0};
        http_chunked c;
        http_chunked_init(&c);
        feed(&c, s, k, &d);
        if (d.status != HTTP_CHUNK_DONE && d.status != HTTP_CHUNK_ERROR)
            feed(&c, s + k, len - k, &d);
        if (!same(&whole, &d))
            return 0;
    }
    return 1;
}

static int decodes_to(const char *s, const char *body)
{
    decoded d = decode_whole(s, strlen(s));
    return d.status == HTTP_CHUNK_DONE && d.out_len == strlen(body) &&
           memcmp(d.out, body, d.out_len) == 0 && d.used == strlen(s) &&
           consistent(s);
}

static int fails(const char *s)
{
    decoded d = decode_whole(s, strlen(s));
    if (d.status != HTTP_CHUNK_ERROR) {
        fprintf(stderr, "  input \"%s\": status %d, expected ERROR\n", s, (int)d.status);
        return 0;
    }
    return consistent(s);
}

static int needs_more(const char *s)
{
    decoded d = decode_whole(s, strlen(s));
    return d.status == HTTP_CHUNK_NEED_MORE && d.used == strlen(s);
}

TEST(valid_bodies)
{
    CHECK(decodes_to("0\r\n\r\n", ""));
    CHECK(decodes_to("5\r\nhello\r\n0\r\n\r\n", "hello"));
    CHECK(decodes_to("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world"));
    CHECK(decodes_to("a\r\n0123456789\r\nA\r\nabcdefghij\r\n0\r\n\r\n",
                     "0123456789abcdefghij"));
    CHECK(decodes_to("0005\r\nhe\r\nl\r\n000\r\n\r\n", "he\r\nl"));
    CHECK(decodes_to("1\r\n\n\r\n0\r\n\r\n", "\n"));
}

TEST(binary_data)
{
    static const char in[] = "3\r\n\0\xff\r\r\n0\r\n\r\n";
    decoded d = decode_whole(in, sizeof in - 1);
    CHECK_INT(d.status, HTTP_CHUNK_DONE);
    CHECK_INT(d.out_len, 3);
    CHECK(memcmp(d.out, "\0\xff\r", 3) == 0);
}

TEST(trailers)
{
    CHECK(decodes_to("2\r\nhi\r\n0\r\nX-Checksum: abc\r\n\r\n", "hi"));
    CHECK(decodes_to("0\r\nA: 1\r\nB:\r\nC: \t x \xff\r\n\r\n", ""));
    CHECK(fails("0\r\nA : 1\r\n\r\n"));
    CHECK(fails("0\r\n: 1\r\n\r\n"));
    CHECK(fails("0\r\nA\r\n\r\n"));
    CHECK(fails("0\r\nA: 1\r\n b\r\n\r\n"));
    CHECK(fails("0\r\n\tA: 1\r\n\r\n"));
    CHECK(fails("0\r\nA: 1\n\r\n"));
    CHECK(fails("0\r\nA: 1\rXB: 2\r\n\r\n"));
    CHECK(fails("0\r\nA: 1\r\n\n"));
    CHECK(fails("0\r\nA: \x01\r\n\r\n"));
    CHECK(fails("0\r\nA: \x7f\r\n\r\n"));
    CHECK(fails("0\r\n\n"));
    CHECK(fails("0\r\n\rX"));
}

/* "0\r\n" then a trailer section of exactly total bytes (total >= 7). */
static http_chunk_status trailer_of(size_t total)
{
    char *s = malloc(total + 4);
    if (s == NULL)
        return HTTP_CHUNK_NEED_MORE;
    memcpy(s, "0\r\nX: ", 6);
    memset(s + 6, 'a', total - 7);
    memcpy(s + 6 + total - 7, "\r\n\r\n", 4);
    decoded d = decode_whole(s, total + 3);
    free(s);
    return d.status;
}

TEST(trailer_size_limit)
{
    CHECK_INT(trailer_of(8192), HTTP_CHUNK_DONE);
    CHECK_INT(trailer_of(8193), HTTP_CHUNK_ERROR);
    CHECK_INT(trailer_of(60000), HTTP_CHUNK_ERROR);
}

TEST(size_line_rejections)
{
    CHECK(fails("5;ext=1\r\nhello\r\n0\r\n\r\n"));
    CHECK(fails("5;\r\nhello\r\n0\r\n\r\n"));
    CHECK(fails("0;x\r\n\r\n"));
    CHECK(fails(" 5\r\nhello\r\n0\r\n\r\n"));
    CHECK(fails("5 \r\nhello\r\n0\r\n\r\n"));
    CHECK(fails("5\t\r\nhello\r\n0\r\n\r\n"));
    CHECK(fails("\r\nhello\r\n0\r\n\r\n"));
    CHECK(fails("5\nhello\r\n0\r\n\r\n"));
    CHECK(fails("-5\r\nhello\r\n0\r\n\r\n"));
    CHECK(fails("+5\r\nhello\r\n0\r\n\r\n"));
    CHECK(fails("0x5\r\nhello\r\n0\r\n\r\n"));
    CHECK(fails("g\r\n"));
    CHECK(fails("5\rhello"));
}

TEST(size_limits)
{
    /* 16 hex digits is the limit; 17 fail even with leading zeros */
    CHECK(fails("00000000000000001\r\nx\r\n0\r\n\r\n"));
    CHECK(fails("10000000000000000\r\n"));
    CHECK(decodes_to("0000000000000001\r\nx\r\n0\r\n\r\n", "x"));
    CHECK(needs_more("ffffffffffffffff\r\nabc"));
    CHECK(needs_more("FFFFFFFFFFFFFFFF\r\n"));
}

TEST(data_crlf_rejections)
{
    CHECK(fails("5\r\nhelloX\r\n0\r\n\r\n"));
    CHECK(fails("5\r\nhelloX\n0\r\n\r\n"));
    CHECK(fails("5\r\nhello\rX0\r\n\r\n"));
    CHECK(fails("5\r\nhello\n\n0\r\n\r\n"));
    CHECK(fails("5\r\nhello\n0\r\n\r\n"));
    CHECK(fails("5\r\nhello\r0\r\n\r\n"));
    CHECK(fails("5\r\nhello0\r\n\r\n"));
    CHECK(fails("5\r\nhello\r\n\r\n"));
    CHECK(fails("0\r\n\r\r"));
}

TEST(need_more)
{
    CHECK(needs_more(""));
    CHECK(needs_more("5"));
    CHECK(needs_more("5\r"));
    CHECK(needs_more("5\r\nhel"));
    CHECK(needs_more("5\r\nhello\r"));
    CHECK(needs_more("5\r\nhello\r\n"));
    CHECK(needs_more("0\r\n"));
    CHECK(needs_more("0\r\nX: y\r\n"));
    CHECK(needs_more("0\r\n\r"));
}

TEST(one_span_per_call_and_pointers)
{
    const char *s = "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
    http_chunked c;
    http_chunked_init(&c);
    size_t used = 0, n = 0;
    const char *data = NULL;
    CHECK_INT(http_chunked_step(&c, s, strlen(s), &used, &data, &n), HTTP_CHUNK_DATA);
    CHECK(data == s + 3);
    CHECK_INT(n, 3);
    CHECK_INT(used, 6);
    s += used;
    CHECK_INT(http_chunked_step(&c, s, strlen(s), &used, &data, &n), HTTP_CHUNK_DATA);
    CHECK(data == s + 5);
    CHECK_INT(n, 2);
    CHECK_INT(used, 7);
    s += used;
    CHECK_INT(http_chunked_step(&c, s, strlen(s), &used, &data, &n), HTTP_CHUNK_DONE);
    CHECK_INT(used, 7);
    CHECK(data == NULL && n == 0);
}

TEST(stops_after_done)
{
    /* bytes after the body belong to the next message and are not used */
    const char *s = "1\r\nx\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
    decoded d = decode_whole(s, strlen(s));
    CHECK_INT(d.status, HTTP_CHUNK_DONE);
    CHECK_INT(d.used, 11);
    http_chunked c;
    http_chunked_init(&c);
    decoded d2 = {0};
    feed(&c, s, 11, &d2);
    CHECK_INT(d2.status, HTTP_CHUNK_DONE);
    size_t used = 99, n = 0;
    const char *data = NULL;
    CHECK_INT(http_chunked_step(&c, s + 11, 5, &used, &data, &n), HTTP_CHUNK_DONE);
    CHECK_INT(used, 0);
}

TEST(error_is_sticky)
{
    http_chunked c;
    http_chunked_init(&c);
    size_t used = 0, n = 0;
    const char *data = NULL;
    CHECK_INT(http_chunked_step(&c, "z", 1, &used, &data, &n), HTTP_CHUNK_ERROR);
    CHECK_INT(used, 0);
    CHECK_INT(http_chunked_step(&c, "0\r\n\r\n", 5, &used, &data, &n), HTTP_CHUNK_ERROR);
    http_chunked_init(&c);
    CHECK_INT(http_chunked_step(&c, "0\r\n\r\n", 5, &used, &data, &n), HTTP_CHUNK_DONE);
}

TEST(large_chunk_in_pieces)
{
    /* a 1 MiB chunk fed 1000 bytes at a time comes out intact */
    size_t size = 1 << 20;
    char head[] = "100000\r\n";
    char *body = malloc(size);
    CHECK(body != NULL);
    if (body == NULL)
        return;
    for (size_t i = 0; i < size; i++)
        body[i] = (char)(i * 7);
    http_chunked c;
    http_chunked_init(&c);
    size_t used = 0, n = 0, got = 0;
    const char *data = NULL;
    CHECK_INT(http_chunked_step(&c, head, strlen(head), &used, &data, &n), HTTP_CHUNK_NEED_MORE);
    int ok = 1;
    for (size_t off = 0; off < size; off += 1000) {
        size_t piece = size - off < 1000 ? size - off : 1000;
        http_chunk_status st = http_chunked_step(&c, body + off, piece, &used, &data, &n);
        if (st != HTTP_CHUNK_DATA || used != piece || n != piece || data != body + off ||
            memcmp(data, body + off, n) != 0)
            ok = 0;
        got += n;
    }
    CHECK(ok);
    CHECK_INT(got, size);
    CHECK_INT(http_chunked_step(&c, "\r\n0\r\n\r\n", 7, &used, &data, &n), HTTP_CHUNK_DONE);
    free(body);
}

int main(void)
{
    RUN(valid_bodies);
    RUN(binary_data);
    RUN(trailers);
    RUN(trailer_size_limit);
    RUN(size_line_rejections);
    RUN(size_limits);
    RUN(data_crlf_rejections);
    RUN(need_more);
    RUN(one_span_per_call_and_pointers);
    RUN(stops_after_done);
    RUN(error_is_sticky);
    RUN(large_chunk_in_pieces);
    return UNIT_DONE();
}
