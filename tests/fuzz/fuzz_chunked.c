/*
 * fuzz_chunked.c — libFuzzer target for the chunked decoder.
 *
 * Two checks per input:
 *  1. The input as a chunked body: per-call invariants (consumed <= len,
 *     DATA spans non-empty and inside the consumed input, NEED_MORE uses
 *     everything), and the same result (status, decoded bytes, bytes used)
 *     whether it is fed whole, byte by byte, or split at any boundary.
 *  2. The input as a payload: encoded with chunk sizes taken from the
 *     payload itself, it must decode to exactly the payload.
 */
#include "http/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_ASSERT(cond)                                                      \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond,         \
                    __FILE__, __LINE__);                                     \
            abort();                                                         \
        }                                                                    \
    } while (0)

/* Every split is O(n^2); past this size only a few splits are tried. */
#define FZ_FULL_SPLIT_MAX 1024

typedef struct {
    http_chunk_status status;
    char *out;     /* capacity: the total input size, decoding never grows */
    size_t out_len;
    size_t used;
} fz_result;

static void fz_feed(http_chunked *c, const char *in, size_t len, fz_result *r)
{
    size_t pos = 0;
    for (;;) {
        size_t used = (size_t)-1, n = (size_t)-1;
        const char *span = (const char *)1;
        http_chunk_status st = http_chunked_step(c, in + pos, len - pos, &used, &span, &n);
        FZ_ASSERT(used <= len - pos);
        r->status = st;
        if (st == HTTP_CHUNK_DATA) {
            FZ_ASSERT(n > 0 && span >= in + pos && span + n == in + pos + used);
            memcpy(r->out + r->out_len, span, n);
            r->out_len += n;
        } else {
            FZ_ASSERT(span == NULL && n == 0);
        }
        if (st == HTTP_CHUNK_NEED_MORE)
            FZ_ASSERT(used == len - pos);
        pos += used;
        r->used += used;
        if (st != HTTP_CHUNK_DATA)
            return;
    }
}

static int fz_ended(const fz_result *r)
{
    return r->status == HTTP_CHUNK_DONE || r->status == HTTP_CHUNK_ERROR;
}

/* Feed in[0..len) in pieces ending at the given cut points. */
static void fz_decode_cuts(const char *in, size_t len, const size_t *cuts,
                           size_t ncuts, fz_result *r)
{
    http_chunked c;
    http_chunked_init(&c);
    size_t from = 0;
    r->out_len = r->used = 0;
    r->status = HTTP_CHUNK_NEED_MORE;
    for (size_t i = 0; i <= ncuts && !fz_ended(r); i++) {
        size_t to = i < ncuts ? cuts[i] : len;
        fz_feed(&c, in + from, to - from, r);
        from = to;
    }
}

static void fz_same(const fz_result *a, const fz_result *b)
{
    FZ_ASSERT(a->status == b->status);
    FZ_ASSERT(a->used == b->used);
    FZ_ASSERT(a->out_len == b->out_len && memcmp(a->out, b->out, a->out_len) == 0);
}

static void fz_check_body(const char *in, size_t len)
{
    fz_result whole = {0}, other = {0};
    whole.out = malloc(len + 1);
    other.out = malloc(len + 1);
    FZ_ASSERT(whole.out != NULL && other.out != NULL);
    fz_decode_cuts(in, len, NULL, 0, &whole);
    FZ_ASSERT(whole.used <= len && whole.out_len <= whole.used);
    if (whole.status == HTTP_CHUNK_NEED_MORE)
        FZ_ASSERT(whole.used == len);

    size_t step = len <= FZ_FULL_SPLIT_MAX ? 1 : len / 16 + 1;
    for (size_t k = 0; k <= len; k += step) {
        fz_decode_cuts(in, len, &k, 1, &other);
        fz_same(&whole, &other);
    }
    /* byte by byte */
    size_t *cuts = malloc((len + 1) * sizeof *cuts);
    FZ_ASSERT(cuts != NULL);
    for (size_t i = 0; i < len; i++)
        cuts[i] = i + 1;
    fz_decode_cuts(in, len, cuts, len, &other);
    fz_same(&whole, &other);
    free(cuts);
    free(whole.out);
    free(other.out);
}

/* Encode payload with chunk sizes derived from its own bytes, decode it
 * fed in 7-byte pieces, and expect the payload back. */
static void fz_check_roundtrip(const uint8_t *p, size_t len)
{
    size_t cap = len * 40 + 64, off = 0;
    char *enc = malloc(cap);
    FZ_ASSERT(enc != NULL);
    for (size_t i = 0; i < len;) {
        size_t n = (size_t)p[i] % 13 + 1;
        if (n > len - i)
            n = len - i;
        off += (size_t)snprintf(enc + off, cap - off, (p[i] & 1) ? "%zx\r\n" : "%zX\r\n", n);
        memcpy(enc + off, p + i, n);
        off += n;
        memcpy(enc + off, "\r\n", 2);
        off += 2;
        i += n;
    }
    off += (size_t)snprintf(enc + off, cap - off, "0\r\n%s\r\n",
                            len && p[0] & 2 ? "X-Trailer: v\r\n" : "");
    size_t ncuts = off / 7;
    size_t *cuts = malloc((ncuts + 1) * sizeof *cuts);
    FZ_ASSERT(cuts != NULL);
    for (size_t i = 0; i < ncuts; i++)
        cuts[i] = (i + 1) * 7;
    fz_result r = {0};
    r.out = malloc(off + 1);
    FZ_ASSERT(r.out != NULL);
    fz_decode_cuts(enc, off, cuts, ncuts, &r);
    FZ_ASSERT(r.status == HTTP_CHUNK_DONE && r.used == off);
    FZ_ASSERT(r.out_len == len && memcmp(r.out, p, len) == 0);
    free(r.out);
    free(cuts);
    free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* exact-size copy so ASan sees any read past the end */
    char *in = malloc(size ? size : 1);
    FZ_ASSERT(in != NULL);
    memcpy(in, data, size);
    fz_check_body(in, size);
    free(in);
    if (size <= 4096)
        fz_check_roundtrip(data, size);
    return 0;
}
