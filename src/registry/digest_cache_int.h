/*
 * digest_cache_int.h — the digest cache's insides, shared by its three
 * files and by nobody else (users include digest_cache.h):
 *
 *   digest_cache.c    the answers (memory and state file), the look-up
 *                     entry point, the cache's lifetime
 *   digest_flight.c   look-ups in flight: one thread-pool job per key, each
 *                     waiting caller answered by it or by its own deadline
 *   digest_refresh.c  the background refresh of the tags the policy names
 *
 * Lifetime: sg_digest_cache_free sets closing, answers every waiter and
 * closes the ticker; the memory is released (sg_dc_release) only when the
 * ticker is closed, no job is left and every waiter's timer is closed,
 * whichever comes last.
 */
#ifndef SG_DIGEST_CACHE_INT_H
#define SG_DIGEST_CACHE_INT_H

#include <stdint.h>

#include "base/ticker.h"
#include "registry/digest_cache.h"

typedef struct sg_dc_job sg_dc_job;

/* Room for a key: domain (255) + path (255) + reference (159) and marks. */
#define SG_DC_KEY_MAX 1024

struct sg_digest_cache {
    uv_loop_t *loop;
    const sg_registry_config *cfg;
    sg_digest_fetch_fn fetch;
    char *state_file;
    unsigned ttl;            /* seconds                                    */
    json_t *entries;         /* key → {"digest", "fetched"}                */
    bool closing;            /* sg_digest_cache_free has begun             */
    /* digest_flight.c */
    sg_dc_job *jobs;         /* in flight (and those answering)            */
    size_t n_timers;         /* waiters' timers not yet closed             */
    /* digest_refresh.c */
    sg_image_ref *watched;   /* tags refreshed in the background           */
    size_t n_watched;
    json_t *asked;           /* key → uv_now() of its last reload refresh  */
    uint64_t every_ms;       /* the ticker's period; 0 while stopped       */
    sg_ticker ticker;
    bool ticker_closed;
};

/* digest_cache.c */
void sg_dc_key(char *out, size_t n, const char *domain, const char *path,
               const char *reference);
/* The persisted digest for key into out[80]; false when there is none. */
bool sg_dc_persisted(const sg_digest_cache *c, const char *key, char out[80]);
/* Is key's answer younger than the TTL, and still will be in margin_s? */
bool sg_dc_fresh(const sg_digest_cache *c, const char *key, unsigned margin_s);
void sg_dc_store(sg_digest_cache *c, const char *key, const char *digest);
/* Free c if it is closing and nothing of it is left on the loop. */
void sg_dc_release(sg_digest_cache *c);

/* digest_flight.c */
/* Ask the registry about key, or join the look-up in flight for it. cb
 * NULL: a background refresh, nobody waits. */
void sg_dc_ask(sg_digest_cache *c, const char *domain, const char *path,
               const char *reference, const char *key, sg_digest_cb cb, void *arg);
bool sg_dc_asking(const sg_digest_cache *c, const char *key);
/* What a caller is told for a registry answer (see digest_cache.h). */
void sg_dc_tell(const sg_digest_cache *c, const char *key, sg_registry_status st,
                const char *digest, const char *err, sg_digest_cb cb, void *arg);
/* At free: answer every waiter, cancel the jobs not started yet. */
void sg_dc_flight_close(sg_digest_cache *c);

/* digest_refresh.c */
int sg_dc_refresh_init(sg_digest_cache *c);
/* At free: stop refreshing; ticker_closed is set once libuv is done. */
void sg_dc_refresh_close(sg_digest_cache *c);

#endif
