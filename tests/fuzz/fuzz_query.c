/*
 * fuzz_query.c — the query reader (http/query.c) on arbitrary bytes.
 * Invariants: no crash; validation and parsing agree (a query is valid
 * exactly when it parses); any ";" is invalid; every parsed key and value
 * is NUL-terminated, NUL-free, and no longer than the raw query; the first
 * value of the first key is found again by look-up.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *q = (const char *)data;
    char why[256];
    bool valid = http_query_valid(q, size, why, sizeof why);
    http_query p;
    http_query_status st = http_query_parse(q, size, &p);
    if (st == HTTP_QUERY_NOMEM)
        return 0;
    if (valid != (st == HTTP_QUERY_OK))
        abort();
    if (memchr(q, ';', size) && valid)
        abort();
    if (st != HTTP_QUERY_OK)
        return 0;
    for (size_t i = 0; i < p.n; i++)
        if (strlen(p.params[i].key) > size || strlen(p.params[i].value) > size)
            abort();
    if (p.n > 0 && http_query_first(&p, p.params[0].key) != p.params[0].value)
        abort();
    http_query_free(&p);
    return 0;
}
