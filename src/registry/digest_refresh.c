/*
 * digest_refresh.c — keeping the tags the policy names fresh in the
 * background (see digest_cache.h): the periodic refresh, and the tags a
 * reload adds.
 *
 * Reloads come in storms (a config manager rewriting the file, a loop of
 * SIGHUPs), and each one used to ask the registry about every listed tag
 * at once and restart the periodic refresh: 1,000 SIGHUPs made 1,368
 * requests, and against a registry that never answers they filled the
 * thread pool. So:
 *   - a reload asks only about tags that were not in the previous list,
 *     and only those whose answer would go stale before the next periodic
 *     refresh could renew it;
 *   - the periodic refresh is started when the first tag is listed and
 *     keeps its cadence across reloads (its period depends on the TTL
 *     alone);
 *   - a reload never asks about a tag within DC_REFRESH_MIN_MS of the last
 *     time a reload did (a tag removed and listed again, back and forth),
 *     and the period is never shorter than that either;
 *   - every refresh joins the look-up in flight for its key, if there is
 *     one (digest_flight.c).
 */
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "registry/digest_cache_int.h"

/*
 * The shortest time between two refreshes of a tag that reloads cause,
 * and the shortest period of the periodic refresh (--digest-ttl 0 would
 * otherwise ask every tag every half second). A storm's reloads come
 * milliseconds apart, so this folds a whole storm into one look-up per
 * tag; a refresh that the periodic one misses by 5 s costs nothing, a
 * look-up on the request path refreshes a stale tag anyway.
 */
#define DC_REFRESH_MIN_MS 5000

/* Half the TTL, so that a tag refreshed at one tick is still fresh when
 * the next tick renews it (with a registry that answers within the other
 * half), but never more often than DC_REFRESH_MIN_MS. */
static uint64_t refresh_period_ms(const sg_digest_cache *c)
{
    uint64_t half = (uint64_t)c->ttl * 1000 / 2;
    return half > DC_REFRESH_MIN_MS ? half : DC_REFRESH_MIN_MS;
}

static void refresh_tag(sg_digest_cache *c, const sg_image_ref *r)
{
    char key[SG_DC_KEY_MAX];
    sg_dc_key(key, sizeof key, r->domain, r->path, r->tag);
    if (!sg_dc_asking(c, key)) /* else: joined, the answer is on its way */
        sg_dc_ask(c, r->domain, r->path, r->tag, key, NULL, NULL);
}

static void refresh_on_tick(sg_ticker *t)
{
    sg_digest_cache *c = t->data;
    for (size_t i = 0; i < c->n_watched; i++)
        refresh_tag(c, &c->watched[i]);
}

static bool refresh_was_watched(const sg_digest_cache *c, const sg_image_ref *r)
{
    for (size_t i = 0; i < c->n_watched; i++) {
        const sg_image_ref *w = &c->watched[i];
        if (strcmp(w->domain, r->domain) == 0 && strcmp(w->path, r->path) == 0 &&
            strcmp(w->tag, r->tag) == 0)
            return true;
    }
    return false;
}

/* Forget reload refreshes older than the minimum interval: they no longer
 * hold anything back. */
static void refresh_forget_old(sg_digest_cache *c, uint64_t now)
{
    const char *key;
    json_t *v, *tmp;
    json_object_foreach_safe(c->asked, tmp, key, v)
    {
        if (now - (uint64_t)json_integer_value(v) >= DC_REFRESH_MIN_MS)
            json_object_del(c->asked, key);
    }
}

/* A tag a reload adds: asked about now unless its answer stays fresh until
 * the next tick, or a reload asked about it a moment ago. */
static void refresh_added_tag(sg_digest_cache *c, const sg_image_ref *r, uint64_t now)
{
    char key[SG_DC_KEY_MAX];
    sg_dc_key(key, sizeof key, r->domain, r->path, r->tag);
    if (sg_dc_fresh(c, key, (unsigned)(refresh_period_ms(c) / 1000)) ||
        json_object_get(c->asked, key))
        return;
    json_object_set_new(c->asked, key, json_integer((json_int_t)now));
    refresh_tag(c, r);
}

/* Started with the first tag, stopped with the last; in between, the
 * period never changes, so the ticker is left alone. */
static void refresh_schedule(sg_digest_cache *c)
{
    uint64_t every = c->n_watched ? refresh_period_ms(c) : 0;
    if (every == c->every_ms)
        return;
    c->every_ms = every;
    if (every)
        sg_ticker_start(&c->ticker, refresh_on_tick, every, every);
    else
        sg_ticker_stop(&c->ticker);
}

void sg_digest_cache_watch(sg_digest_cache *c, const sg_image_ref *refs, size_t n)
{
    if (c->closing)
        return;
    sg_image_ref *next = n ? malloc(n * sizeof *refs) : NULL;
    if (n && !next) {
        sg_warn("digest cache: out of memory; the refreshed tags stay as they were");
        return;
    }
    if (n)
        memcpy(next, refs, n * sizeof *refs);
    uv_update_time(c->loop);
    uint64_t now = uv_now(c->loop);
    refresh_forget_old(c, now);
    for (size_t i = 0; i < n; i++)
        if (!refresh_was_watched(c, &refs[i]))
            refresh_added_tag(c, &refs[i], now);
    free(c->watched);
    c->watched = next;
    c->n_watched = n;
    refresh_schedule(c);
}

int sg_dc_refresh_init(sg_digest_cache *c)
{
    if (sg_ticker_init(c->loop, &c->ticker) != 0)
        return -1;
    c->ticker.data = c;
    sg_ticker_unref(&c->ticker); /* never keeps the loop alive alone */
    return 0;
}

static void refresh_on_ticker_closed(uv_handle_t *h)
{
    sg_digest_cache *c = ((sg_ticker *)h->data)->data;
    c->ticker_closed = true;
    sg_dc_release(c);
}

void sg_dc_refresh_close(sg_digest_cache *c)
{
    sg_ticker_close(&c->ticker, refresh_on_ticker_closed);
}
