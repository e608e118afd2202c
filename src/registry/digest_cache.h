/*
 * digest_cache.h — what the registries said about tags and digests, in
 * memory and on disk, and the look-ups that ask them.
 *
 * A socket-mounting container is allowed only if its image is provably the
 * registry's content; asking the registry at every `docker run` would make
 * every run as slow and as fragile as the registry. So answers are kept:
 * fresh ones (younger than the TTL) are used as they are, older ones are
 * asked again, and when a registry cannot be asked a persisted answer
 * keeps working (a restart without registry access keeps working too).
 * Tags the policy names are refreshed in the background.
 *
 * Look-ups cannot pile up:
 *   - one look-up per key (domain/path:tag or domain/path@digest) is in
 *     flight at a time; every caller asking for that key meanwhile, and
 *     every background refresh of it, waits for that one and gets its
 *     answer;
 *   - each caller waits at most the registry's total timeout (--registry-
 *     timeout) from the moment it asked, however many look-ups are queued
 *     before its own on the thread pool: then it is answered as if the
 *     registry were unreachable (a persisted digest if there is one, else
 *     the failure), and the look-up goes on; its answer still updates the
 *     cache;
 *   - a reload asks only about tags it adds, the periodic refresh keeps its
 *     cadence, and no reload makes a tag be asked about twice within a few
 *     seconds (digest_refresh.c).
 *
 * Look-ups run on libuv's thread pool; callbacks run on the loop thread.
 */
#ifndef SG_DIGEST_CACHE_H
#define SG_DIGEST_CACHE_H

#include <jansson.h>
#include <stdbool.h>
#include <uv.h>

#include "policy/image_ref.h"
#include "registry/registry.h"

typedef struct sg_digest_cache sg_digest_cache;

/*
 * st: OK with digest set (for a digest reference: it exists), or the
 * failure; stale is true when a persisted answer was used because the
 * registry could not be asked (or did not answer in time). err: a
 * one-line reason on failure.
 */
typedef void (*sg_digest_cb)(void *arg, sg_registry_status st, const char *digest,
                             bool stale, const char *err);

/* The registry look-up the cache runs on the thread pool:
 * sg_registry_manifest_digest, or a unit test's stand-in. */
typedef sg_registry_status (*sg_digest_fetch_fn)(const sg_registry_config *cfg,
                                                 const char *domain, const char *path,
                                                 const char *reference, char digest_out[80],
                                                 char *err, size_t errsz);

/* state_file may be NULL (nothing persisted). cfg must outlive the cache. */
sg_digest_cache *sg_digest_cache_new(uv_loop_t *loop, const sg_registry_config *cfg,
                                     const char *state_file, unsigned ttl_seconds);

/*
 * Every caller still waiting is answered now, before anything is torn
 * down (as if the registry were unreachable: "sockgate is shutting
 * down"), and so is a look-up those callbacks make; no callback runs once
 * this returns. Look-ups queued on the thread pool are cancelled, running
 * ones left to finish: the memory goes when the last of them and the
 * timers have come back, so the loop must run again afterwards (uv_run
 * until it is dry), as the server and the admin commands do.
 */
void sg_digest_cache_free(sg_digest_cache *c);

/* Tag or digest of domain/path. cb is called exactly once: before this
 * returns for a fresh answer, else within the registry's total timeout. */
void sg_digest_cache_lookup(sg_digest_cache *c, const char *domain, const char *path,
                            const char *reference, sg_digest_cb cb, void *arg);

/* Keep the tags of these references fresh in the background (copied;
 * replaces the previous list; n == 0 stops refreshing). Tags not in the
 * previous list are asked about now unless their answer stays fresh until
 * the next periodic refresh. */
void sg_digest_cache_watch(sg_digest_cache *c, const sg_image_ref *refs, size_t n);

/* For `sockgate status`: a copy of every cached answer. */
json_t *sg_digest_cache_snapshot(const sg_digest_cache *c);

/* For tests: run fn on the thread pool instead of the registry client. */
void sg_digest_cache_set_fetcher(sg_digest_cache *c, sg_digest_fetch_fn fn);

#endif
