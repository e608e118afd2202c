/*
 * iobuf.h — a growable byte queue whose storage exists only while it holds
 * bytes.
 *
 * Idle keep-alive connections are the common case (CI agents, SDK pools,
 * 10,000 of them in the benchmark), so a connection's buffers must cost
 * nothing while empty: storage is allocated when a read arrives and freed
 * when the queue drains.
 */
#ifndef SG_IOBUF_H
#define SG_IOBUF_H

#include <stddef.h>

typedef struct {
    char *data;
    size_t len; /* bytes queued, starting at data[0] */
    size_t cap;
} sg_iobuf;

/* Make room for at least `want` more bytes (up to `limit` in total);
 * returns the free tail and its size via *avail, or NULL when full. */
char *sg_iobuf_reserve(sg_iobuf *b, size_t want, size_t limit, size_t *avail);
/* Drop the first n bytes; frees the storage once empty. */
void sg_iobuf_consume(sg_iobuf *b, size_t n);
/* Append bytes (used when handing leftovers between connections). */
int sg_iobuf_append(sg_iobuf *b, const char *p, size_t n);
void sg_iobuf_free(sg_iobuf *b);

#endif
