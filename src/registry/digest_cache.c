/*
 * digest_cache.c — registry answers kept in memory and in the state
 * directory, the look-up entry point and the cache's lifetime (see
 * digest_cache.h; look-ups in flight: digest_flight.c; the background
 * refresh: digest_refresh.c).
 *
 * The file is JSON: {"docker.io/library/docker:cli": {"digest": "sha256:…",
 * "fetched": 1764350000}, …}, written to a temporary file and renamed, so a
 * crash never leaves half a file. Only positive answers are kept: a "not
 * found" must be asked again next time.
 */
#include "registry/digest_cache_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "base/log.h"
#include "base/regfile.h"

void sg_dc_key(char *out, size_t n, const char *domain, const char *path,
               const char *reference)
{
    bool is_digest = strchr(reference, ':') != NULL;
    snprintf(out, n, "%s/%s%s%s", domain, path, is_digest ? "@" : ":", reference);
}

/* The persisted answers: a few hundred bytes per listed tag. */
#define SG_DIGEST_STATE_MAX (4u << 20)

static void cache_load(sg_digest_cache *c)
{
    if (!c->state_file)
        return;
    if (access(c->state_file, F_OK) != 0)
        return; /* first start: nothing persisted yet */
    /* Read at start, on the loop: a FIFO or a device put at the path must
     * not hold it (base/regfile.h). Unreadable: start empty, and say so. */
    char err[512];
    size_t len;
    char *text = sg_regfile_read(c->state_file, SG_DIGEST_STATE_MAX, &len, err, sizeof err);
    json_error_t jerr;
    json_t *j = text ? json_loadb(text, len, 0, &jerr) : NULL;
    if (text && !j)
        snprintf(err, sizeof err, "%s: %s", c->state_file, jerr.text);
    free(text);
    if (!j) {
        sg_warn("digest cache: starting empty: %s", err);
        return;
    }
    if (json_is_object(j)) {
        json_decref(c->entries);
        c->entries = j;
        sg_info("digest cache: %zu answer(s) loaded from %s", json_object_size(j),
                c->state_file);
        return;
    }
    json_decref(j);
}

static void cache_save(sg_digest_cache *c)
{
    if (!c->state_file)
        return;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", c->state_file);
    if (json_dump_file(c->entries, tmp, JSON_INDENT(1) | JSON_SORT_KEYS) != 0 ||
        rename(tmp, c->state_file) != 0)
        sg_warn("digest cache: cannot write %s", c->state_file);
}

static const char *cache_digest(const sg_digest_cache *c, const char *key)
{
    return json_string_value(json_object_get(json_object_get(c->entries, key), "digest"));
}

bool sg_dc_persisted(const sg_digest_cache *c, const char *key, char out[80])
{
    const char *d = cache_digest(c, key);
    if (!d)
        return false;
    snprintf(out, 80, "%s", d);
    return true;
}

bool sg_dc_fresh(const sg_digest_cache *c, const char *key, unsigned margin_s)
{
    json_t *e = json_object_get(c->entries, key);
    json_int_t fetched = json_integer_value(json_object_get(e, "fetched"));
    return cache_digest(c, key) &&
           time(NULL) - fetched + (json_int_t)margin_s < (json_int_t)c->ttl;
}

void sg_dc_store(sg_digest_cache *c, const char *key, const char *digest)
{
    const char *old = cache_digest(c, key);
    bool changed = !old || strcmp(old, digest) != 0;
    json_t *e = json_pack("{s:s,s:I}", "digest", digest, "fetched", (json_int_t)time(NULL));
    json_object_set_new(c->entries, key, e);
    if (changed)
        sg_info("digest cache: %s is %s", key, digest);
    cache_save(c);
}

void sg_digest_cache_lookup(sg_digest_cache *c, const char *domain, const char *path,
                            const char *reference, sg_digest_cb cb, void *arg)
{
    char key[SG_DC_KEY_MAX], digest[80];
    sg_dc_key(key, sizeof key, domain, path, reference);
    if (c->closing) {
        sg_dc_tell(c, key, SG_REGISTRY_ERROR, NULL, "sockgate is shutting down", cb, arg);
        return;
    }
    if (sg_dc_fresh(c, key, 0) && sg_dc_persisted(c, key, digest)) {
        cb(arg, SG_REGISTRY_OK, digest, false, NULL);
        return;
    }
    sg_dc_ask(c, domain, path, reference, key, cb, arg);
}

sg_digest_cache *sg_digest_cache_new(uv_loop_t *loop, const sg_registry_config *cfg,
                                     const char *state_file, unsigned ttl_seconds)
{
    sg_digest_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->loop = loop;
    c->cfg = cfg;
    c->fetch = sg_registry_manifest_digest;
    c->ttl = ttl_seconds;
    c->state_file = state_file ? strdup(state_file) : NULL;
    c->entries = json_object();
    c->asked = json_object();
    if ((state_file && !c->state_file) || !c->entries || !c->asked ||
        sg_dc_refresh_init(c) != 0) {
        json_decref(c->entries);
        json_decref(c->asked);
        free(c->state_file);
        free(c);
        return NULL;
    }
    cache_load(c);
    return c;
}

void sg_digest_cache_set_fetcher(sg_digest_cache *c, sg_digest_fetch_fn fn)
{
    c->fetch = fn;
}

void sg_dc_release(sg_digest_cache *c)
{
    if (!c->closing || !c->ticker_closed || c->jobs || c->n_timers > 0)
        return;
    json_decref(c->entries);
    json_decref(c->asked);
    free(c->watched);
    free(c->state_file);
    free(c);
}

/* closing first: a callback run by the flight's close that looks up again
 * is answered at once, and no job is started for it. */
void sg_digest_cache_free(sg_digest_cache *c)
{
    if (!c || c->closing)
        return;
    c->closing = true;
    sg_dc_flight_close(c);
    sg_dc_refresh_close(c);
}

json_t *sg_digest_cache_snapshot(const sg_digest_cache *c)
{
    return c ? json_deep_copy(c->entries) : json_object();
}
