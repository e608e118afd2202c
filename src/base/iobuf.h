/*
 * iobuf.h — a growable byte queue whose storage exists only while it holds
 * bytes.
 *
 * Idle keep-alive connections are the common case (CI agents, SDK pools,
 * 10,000 of them in the benchmark), so a connection's buffers must cost
 * nothing while empty: storage is allocated when a read arrives and freed
 * when the queue drains.
 *
 * A queue may also lend itself bytes it does not own: sockets are read into
 * one shared buffer (sg_iobuf_lend), the bytes are consumed in place, and
 * only what is left when the read has been handled is copied into storage
 * of the queue's own (sg_iobuf_settle). A request and its answer then cost
 * no allocation and no copy; any call that must grow or free the storage
 * settles first, so a borrowed queue behaves like any other.
 */
#ifndef SG_IOBUF_H
#define SG_IOBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *data;
    size_t len;    /* bytes queued, starting at data[0] */
    size_t cap;
    bool borrowed; /* data belongs to the shared read buffer, not to us */
} sg_iobuf;

/* Make room for at least `want` more bytes (up to `limit` in total);
 * returns the free tail and its size via *avail, or NULL when full. */
char *sg_iobuf_reserve(sg_iobuf *b, size_t want, size_t limit, size_t *avail);
/* Drop the first n bytes; frees the storage once empty. */
void sg_iobuf_consume(sg_iobuf *b, size_t n);
/* Append bytes (used when handing leftovers between connections). */
int sg_iobuf_append(sg_iobuf *b, const char *p, size_t n);
void sg_iobuf_free(sg_iobuf *b);

/* The shared read buffer: SG_IOBUF_SHARED bytes, one per process (the
 * event loop's thread). Only a read callback may hand it out, and it must
 * settle the queue it lent to before it returns. */
#define SG_IOBUF_SHARED (256 * 1024)
char *sg_iobuf_shared(void);
/* b is empty; its next n bytes are the first n of the shared buffer. */
void sg_iobuf_lend(sg_iobuf *b, size_t n);
/* Where a socket read for b goes: into the shared buffer (chunk bytes at
 * most) when b is empty, so that what is handled within the read callback
 * is never copied; else into b's own free tail, b holding limit bytes at
 * most. NULL (*avail 0) when b is full or out of memory. */
char *sg_iobuf_read_room(sg_iobuf *b, size_t chunk, size_t limit, size_t *avail);
/* n bytes were read to p, which sg_iobuf_read_room gave for b: lent when
 * p is the shared buffer, else appended. */
void sg_iobuf_took(sg_iobuf *b, const char *p, size_t n);
/* Copy borrowed bytes that are still queued into b's own storage (-1 when
 * out of memory: the bytes are then dropped and b is empty). */
int sg_iobuf_settle(sg_iobuf *b);

#endif
