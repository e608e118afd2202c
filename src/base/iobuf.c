/*
 * iobuf.c — lazily allocated byte queue, and the shared read buffer it may
 * borrow from (see iobuf.h).
 */
#include "base/iobuf.h"

#include <stdlib.h>
#include <string.h>

static char shared[SG_IOBUF_SHARED];

char *sg_iobuf_shared(void) { return shared; }

void sg_iobuf_lend(sg_iobuf *b, size_t n)
{
    b->data = shared;
    b->len = n;
    b->cap = n;
    b->borrowed = true;
}

char *sg_iobuf_read_room(sg_iobuf *b, size_t chunk, size_t limit, size_t *avail)
{
    if (b->len == 0) {
        *avail = chunk < SG_IOBUF_SHARED ? chunk : SG_IOBUF_SHARED;
        return shared;
    }
    return sg_iobuf_reserve(b, chunk, limit, avail);
}

void sg_iobuf_took(sg_iobuf *b, const char *p, size_t n)
{
    if (p == shared)
        sg_iobuf_lend(b, n);
    else
        b->len += n;
}

int sg_iobuf_settle(sg_iobuf *b)
{
    if (!b->borrowed)
        return 0;
    sg_iobuf borrowed = *b;
    *b = (sg_iobuf){0};
    return sg_iobuf_append(b, borrowed.data, borrowed.len);
}

char *sg_iobuf_reserve(sg_iobuf *b, size_t want, size_t limit, size_t *avail)
{
    if (b->borrowed && sg_iobuf_settle(b) != 0) {
        *avail = 0;
        return NULL;
    }
    if (b->len >= limit) {
        *avail = 0;
        return NULL;
    }
    if (b->cap - b->len < want && b->cap < limit) {
        size_t ncap = b->cap ? b->cap : 4096;
        while (ncap - b->len < want && ncap < limit)
            ncap *= 2;
        if (ncap > limit)
            ncap = limit;
        char *n = realloc(b->data, ncap);
        if (!n) {
            *avail = 0;
            return NULL;
        }
        b->data = n;
        b->cap = ncap;
    }
    *avail = b->cap - b->len;
    return *avail ? b->data + b->len : NULL;
}

void sg_iobuf_consume(sg_iobuf *b, size_t n)
{
    if (n >= b->len) {
        sg_iobuf_free(b);
        return;
    }
    if (b->borrowed) { /* the shared buffer is not ours to compact */
        b->data += n;
        b->len -= n;
        b->cap -= n;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

int sg_iobuf_append(sg_iobuf *b, const char *p, size_t n)
{
    size_t avail;
    char *dst = sg_iobuf_reserve(b, n, b->len + n, &avail);
    if (n && (!dst || avail < n))
        return -1;
    if (n)
        memcpy(dst, p, n);
    b->len += n;
    return 0;
}

void sg_iobuf_free(sg_iobuf *b)
{
    if (!b->borrowed)
        free(b->data);
    *b = (sg_iobuf){0};
}
