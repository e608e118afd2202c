/*
 * digest_cache.h — what the registries said about tags and digests, in
 * memory and on disk.
 *
 * A socket-mounting container is allowed only if its image is provably the
 * registry's content; asking the registry at every `docker run` would make
 * every run as slow and as fragile as the registry. So answers are kept:
 * fresh ones (younger than the TTL) are used as they are, older ones are
 * refreshed, and when a registry cannot be reached a persisted answer keeps
 * working (a restart without registry access keeps working too). Tags the
 * policy names are refreshed in the background.
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
 * registry could not be asked. err: a one-line reason on failure.
 */
typedef void (*sg_digest_cb)(void *arg, sg_registry_status st, const char *digest,
                             bool stale, const char *err);

/* state_file may be NULL (nothing persisted). cfg must outlive the cache. */
sg_digest_cache *sg_digest_cache_new(uv_loop_t *loop, const sg_registry_config *cfg,
                                     const char *state_file, unsigned ttl_seconds);
void sg_digest_cache_free(sg_digest_cache *c);

/* Tag or digest of domain/path. May call cb before returning (cache hit). */
void sg_digest_cache_lookup(sg_digest_cache *c, const char *domain, const char *path,
                            const char *reference, sg_digest_cb cb, void *arg);

/* Keep the tags of these references fresh in the background (copied;
 * replaces the previous list; n == 0 stops refreshing). */
void sg_digest_cache_watch(sg_digest_cache *c, const sg_image_ref *refs, size_t n);

/* For `sockgate status`: a copy of every cached answer. */
json_t *sg_digest_cache_snapshot(const sg_digest_cache *c);

#endif
