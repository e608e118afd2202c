/*
 * digest_refresh.c — keeping the tags the policy names fresh in the
 * background (see digest_cache.h): every listed tag is asked about when
 * the list is set and then every half TTL. Each refresh joins the look-up
 * in flight for its key, if there is one (digest_flight.c).
 */
#include <stdlib.h>
#include <string.h>

#include "registry/digest_cache_int.h"

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

void sg_digest_cache_watch(sg_digest_cache *c, const sg_image_ref *refs, size_t n)
{
    if (c->closing)
        return;
    free(c->watched);
    c->watched = n ? malloc(n * sizeof *refs) : NULL;
    c->n_watched = c->watched ? n : 0;
    if (c->n_watched)
        memcpy(c->watched, refs, n * sizeof *refs);
    if (c->n_watched > 0) {
        uint64_t every = (uint64_t)(c->ttl > 2 ? c->ttl / 2 : 1) * 1000;
        sg_ticker_start(&c->ticker, refresh_on_tick, 0, every);
    } else {
        sg_ticker_stop(&c->ticker);
    }
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
