/*
 * fuzz_h2_inspect.c — the /grpc tunnel reader (tunnel/h2_inspect.c) on
 * arbitrary bytes: the HTTP/2 preface, then the input as the client's
 * frames, fed in pieces whose size the first byte picks, with the input's
 * tail also fed as dockerd's bytes in between.
 *
 * Invariants: no crash or sanitizer report; once a call fails every later
 * one fails too; what goes to dockerd starts with the preface; no Solve
 * request's message reaches dockerd whole before it was read (checked by
 * construction in test_h2_inspect.c; here: the reader never emits more
 * bytes to dockerd than it was given plus its own frame headers).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/h2_inspect.h"

#define PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = (size_t)(data[0] % 64) + 1;
    data++;
    size--;
    sg_h2_inspect *h = sg_h2_inspect_new("; t");
    if (!h)
        return 0;
    sg_h2_buf e = {0}, c = {0};
    int rc = sg_h2_from_client(h, (const uint8_t *)PREFACE, 24, &e, &c);
    size_t given = 24, frames = 0;
    for (size_t off = 0; off < size && rc == 0; off += step) {
        size_t k = size - off < step ? size - off : step;
        rc = sg_h2_from_client(h, data + off, k, &e, &c);
        given += k;
        frames += k / 9 + 2;
        if (rc == 0 && (off / step) % 3 == 2)
            rc = sg_h2_from_engine(h, data + off, k, &c);
    }
    if (rc != 0 && sg_h2_from_client(h, data, size ? 1 : 0, &e, &c) == 0 && size)
        abort(); /* a failed reader stays failed */
    if (e.len < 24 || memcmp(e.data, PREFACE, 24) != 0)
        abort();
    if (e.len > given + 22 * frames)
        abort();
    sg_h2_buf_free(&e);
    sg_h2_buf_free(&c);
    sg_h2_inspect_free(h);
    return 0;
}
