/*
 * fuzz_query.c — the query string reader (http/query.c) on arbitrary bytes:
 * the first byte picks the key. Invariants: no crash; a FOUND value is
 * NUL-terminated within the buffer and holds no NUL before its end; any
 * ";" in the query is MALFORMED whatever the key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const keys[] = {"container", "networkmode", "cgroupparent", "rollback",
                                       "", "a"};
    if (size == 0)
        return 0;
    const char *key = keys[data[0] % (sizeof keys / sizeof *keys)];
    const char *q = (const char *)data + 1;
    size_t len = size - 1;
    char out[64];
    memset(out, 'X', sizeof out);
    http_query_status st = http_query_get(q, len, key, out, sizeof out);
    if (memchr(q, ';', len) && st != HTTP_QUERY_MALFORMED)
        abort();
    if (st == HTTP_QUERY_FOUND && !memchr(out, '\0', sizeof out))
        abort();
    return 0;
}
