/*
 * test_digest_cache.c — look-ups that cannot pile up (issue 19), on real
 * libuv loops and libuv's real thread pool (four threads):
 *
 *   - look-ups of one key share one registry request, background refreshes
 *     included, and every caller is answered by it;
 *   - each caller has a deadline of its own: a registry that never answers
 *     costs a caller the registry timeout from its own request, however
 *     deep the queue on the pool (the real registry client against a
 *     loopback listener that reads and never answers), with a persisted
 *     digest used as when the registry is unreachable; the late answer
 *     still updates the cache and answers nobody twice;
 *   - a storm of watch() calls asks at most once per tag it adds, and the
 *     periodic refresh keeps its cadence through it;
 *   - freeing the cache answers every waiter once, cancels queued jobs and
 *     is safe with jobs still running (ASan watches).
 *
 * The stand-in registry (fake_fetch) runs on the pool like the real client
 * and blocks until the test releases it.
 */
#include "registry/digest_cache.h"
#include "unit.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define DIGEST_A "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DIGEST_B "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

/* ---- the stand-in registry --------------------------------------------- */

static struct {
    uv_mutex_t mu;
    uv_cond_t cv;
    bool hold;              /* fetches wait until released                */
    sg_registry_status st;  /* then answer this                           */
    const char *digest;
    int calls;
    char asked[4096][64];   /* path:reference of each call                */
} fake;

static void fake_reset(bool hold, sg_registry_status st, const char *digest)
{
    uv_mutex_lock(&fake.mu);
    fake.hold = hold;
    fake.st = st;
    fake.digest = digest;
    fake.calls = 0;
    uv_mutex_unlock(&fake.mu);
}

static void fake_release(void)
{
    uv_mutex_lock(&fake.mu);
    fake.hold = false;
    uv_cond_broadcast(&fake.cv);
    uv_mutex_unlock(&fake.mu);
}

static int fake_calls(void)
{
    uv_mutex_lock(&fake.mu);
    int n = fake.calls;
    uv_mutex_unlock(&fake.mu);
    return n;
}

static int fake_calls_for(const char *what)
{
    int n = 0;
    uv_mutex_lock(&fake.mu);
    for (int i = 0; i < fake.calls && i < 4096; i++)
        n += strcmp(fake.asked[i], what) == 0;
    uv_mutex_unlock(&fake.mu);
    return n;
}

static sg_registry_status fake_fetch(const sg_registry_config *cfg, const char *domain,
                                     const char *path, const char *reference,
                                     char digest_out[80], char *err, size_t errsz)
{
    uv_mutex_lock(&fake.mu);
    if (fake.calls < 4096)
        snprintf(fake.asked[fake.calls], sizeof fake.asked[0], "%.40s:%.20s", path, reference);
    fake.calls++;
    while (fake.hold)
        uv_cond_wait(&fake.cv, &fake.mu);
    sg_registry_status st = fake.st;
    const char *digest = fake.digest;
    uv_mutex_unlock(&fake.mu);
    if (st == SG_REGISTRY_OK)
        snprintf(digest_out, 80, "%s", digest);
    else
        snprintf(err, errsz, "fake registry: %s", sg_registry_status_name(st));
    return st;
}

/* ---- answers ------------------------------------------------------------ */

typedef struct {
    int calls;              /* must end at exactly 1                      */
    sg_registry_status st;
    char digest[80];
    bool stale;
    char err[256];
    double at;              /* seconds since the test's start             */
} answer;

static uint64_t t0;
static int answered;

static double since_t0(void) { return (double)(uv_hrtime() - t0) / 1e9; }

static void on_answer(void *arg, sg_registry_status st, const char *digest, bool stale,
                      const char *err)
{
    answer *a = arg;
    a->calls++;
    a->st = st;
    snprintf(a->digest, sizeof a->digest, "%s", digest ? digest : "");
    a->stale = stale;
    snprintf(a->err, sizeof a->err, "%s", err ? err : "");
    a->at = since_t0();
    answered++;
}

static void on_guard(uv_timer_t *t) { *(bool *)t->data = true; }

/* Run loop until `answered` reaches want, or ms have passed. */
static void run_until(uv_loop_t *loop, int want, uint64_t ms)
{
    bool expired = false;
    uv_timer_t guard;
    uv_timer_init(loop, &guard);
    guard.data = &expired;
    uv_timer_start(&guard, on_guard, ms, 0);
    while (answered < want && !expired)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
}

static void run_for(uv_loop_t *loop, uint64_t ms) { run_until(loop, INT32_MAX, ms); }

/* The fake released, the cache freed: the loop runs dry (every job and
 * timer back) and closes. */
static void finish(uv_loop_t *loop, sg_digest_cache *c)
{
    fake_release();
    sg_digest_cache_free(c);
    uv_run(loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(loop), 0);
}

static sg_digest_cache *fake_cache(uv_loop_t *loop, sg_registry_config *cfg, long timeout_ms,
                                   const char *state, unsigned ttl)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->total_timeout_ms = timeout_ms;
    uv_loop_init(loop);
    sg_digest_cache *c = sg_digest_cache_new(loop, cfg, state, ttl);
    sg_digest_cache_set_fetcher(c, fake_fetch);
    answered = 0;
    t0 = uv_hrtime();
    return c;
}

static sg_image_ref ref_of(const char *s)
{
    sg_image_ref r;
    const char *why;
    memset(&r, 0, sizeof r);
    CHECK_INT(sg_image_ref_parse(s, SG_REF_DEFAULT_TAG, &r, &why), 0);
    return r;
}

/* ---- merging ------------------------------------------------------------ */

TEST(concurrent_lookups_of_one_key_make_one_request)
{
    uv_loop_t loop;
    sg_registry_config cfg;
    sg_digest_cache *c = fake_cache(&loop, &cfg, 5000, NULL, 300);
    fake_reset(true, SG_REGISTRY_OK, DIGEST_A);
    answer a[6] = {{0}};
    for (int i = 0; i < 5; i++)
        sg_digest_cache_lookup(c, "docker.io", "library/docker", "cli", on_answer, &a[i]);
    run_for(&loop, 100); /* four idle pool threads: unmerged, four would run */
    CHECK_INT(fake_calls(), 1);
    CHECK_INT(answered, 0);
    fake_release();
    run_until(&loop, 5, 2000);
    for (int i = 0; i < 5; i++) {
        CHECK_INT(a[i].calls, 1);
        CHECK_INT(a[i].st, SG_REGISTRY_OK);
        CHECK_STR(a[i].digest, DIGEST_A);
        CHECK(!a[i].stale);
    }
    /* Now fresh: answered before the call returns, nobody asked. */
    sg_digest_cache_lookup(c, "docker.io", "library/docker", "cli", on_answer, &a[5]);
    CHECK_INT(a[5].calls, 1);
    CHECK_STR(a[5].digest, DIGEST_A);
    CHECK_INT(fake_calls(), 1);
    finish(&loop, c);
}

TEST(a_background_refresh_and_lookups_share_one_request)
{
    uv_loop_t loop;
    sg_registry_config cfg;
    sg_digest_cache *c = fake_cache(&loop, &cfg, 5000, NULL, 300);
    fake_reset(true, SG_REGISTRY_OK, DIGEST_A);
    sg_image_ref r = ref_of("docker:cli");
    sg_digest_cache_watch(c, &r, 1); /* new tag, nothing cached: asked now */
    run_for(&loop, 50);
    CHECK_INT(fake_calls(), 1);
    answer a[3] = {{0}};
    for (int i = 0; i < 3; i++)
        sg_digest_cache_lookup(c, "docker.io", "library/docker", "cli", on_answer, &a[i]);
    sg_digest_cache_watch(c, &r, 1); /* the same list: nothing new */
    run_for(&loop, 50);
    CHECK_INT(fake_calls(), 1);
    fake_release();
    run_until(&loop, 3, 2000);
    for (int i = 0; i < 3; i++) {
        CHECK_INT(a[i].calls, 1);
        CHECK_STR(a[i].digest, DIGEST_A);
    }
    CHECK_INT(fake_calls(), 1);
    finish(&loop, c);
}

/* ---- deadlines ---------------------------------------------------------- */

static char state_path[64];

static void write_state(const char *key, const char *digest)
{
    FILE *f = fopen(state_path, "w");
    CHECK(f != NULL);
    if (f) {
        fprintf(f, "{\"%s\": {\"digest\": \"%s\", \"fetched\": 1}}", key, digest);
        fclose(f);
    }
}

TEST(each_waiter_has_its_own_deadline_and_the_late_answer_still_counts)
{
    snprintf(state_path, sizeof state_path, "/tmp/sg-test-digests-%d.json", (int)getpid());
    write_state("docker.io/library/docker:cli", DIGEST_A); /* persisted, long stale */
    uv_loop_t loop;
    sg_registry_config cfg;
    sg_digest_cache *c = fake_cache(&loop, &cfg, 300, state_path, 300);
    fake_reset(true, SG_REGISTRY_OK, DIGEST_B);
    answer first = {0}, second = {0}, unknown = {0};
    sg_digest_cache_lookup(c, "docker.io", "library/docker", "cli", on_answer, &first);
    sg_digest_cache_lookup(c, "docker.io", "library/other", "1", on_answer, &unknown);
    run_for(&loop, 150);
    sg_digest_cache_lookup(c, "docker.io", "library/docker", "cli", on_answer, &second);
    run_until(&loop, 3, 2000);
    CHECK_INT(fake_calls(), 2); /* second joined first's look-up */
    /* The persisted digest, as when the registry is unreachable. */
    CHECK_INT(first.st, SG_REGISTRY_OK);
    CHECK_STR(first.digest, DIGEST_A);
    CHECK(first.stale);
    CHECK(first.at >= 0.29 && first.at < 0.6);
    /* Its own deadline: 300 ms after it asked, not when first's passed. */
    CHECK_INT(second.calls, 1);
    CHECK(second.stale);
    CHECK(second.at >= 0.44 && second.at < 0.8);
    /* Nothing persisted: unreachable, timed out. */
    CHECK_INT(unknown.st, SG_REGISTRY_UNREACHABLE);
    CHECK(strstr(unknown.err, "timed out") != NULL);
    CHECK(strstr(unknown.err, "docker.io") != NULL);
    /* The registry answers after all: the cache has it, nobody is told twice. */
    fake_release();
    run_for(&loop, 200);
    CHECK_INT(first.calls + second.calls + unknown.calls, 3);
    answer after = {0};
    sg_digest_cache_lookup(c, "docker.io", "library/docker", "cli", on_answer, &after);
    CHECK_INT(after.calls, 1); /* fresh: at once */
    CHECK_STR(after.digest, DIGEST_B);
    CHECK(!after.stale);
    CHECK_INT(fake_calls(), 2);
    finish(&loop, c);
    unlink(state_path);
}

/* ---- the real registry client against a registry that never answers ---- */

typedef struct {
    uv_tcp_t tcp;
    char buf[4096];
} hang_conn;

static struct {
    uv_tcp_t listener;
    int port;
    int conns;
    int requests;   /* "HEAD /v2/" seen */
} hang;

static void hang_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    hang_conn *c = h->data;
    *buf = uv_buf_init(c->buf, sizeof c->buf - 1);
}

static void hang_conn_closed(uv_handle_t *h) { free(h->data); }

static void hang_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    hang_conn *c = s->data;
    if (n < 0) {
        uv_close((uv_handle_t *)&c->tcp, hang_conn_closed);
        return;
    }
    buf->base[n] = '\0';
    for (const char *p = buf->base; (p = strstr(p, "HEAD /v2/")); p++)
        hang.requests++;
}

static void hang_on_connection(uv_stream_t *l, int status)
{
    hang_conn *c = calloc(1, sizeof *c);
    uv_tcp_init(l->loop, &c->tcp);
    c->tcp.data = c;
    if (status != 0 || uv_accept(l, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, hang_conn_closed);
        return;
    }
    hang.conns++;
    uv_read_start((uv_stream_t *)&c->tcp, hang_alloc, hang_read); /* never answers */
}

static void hang_start(uv_loop_t *loop)
{
    struct sockaddr_in a;
    struct sockaddr_storage got;
    int len = sizeof got;
    memset(&hang, 0, sizeof hang);
    uv_ip4_addr("127.0.0.1", 0, &a);
    uv_tcp_init(loop, &hang.listener);
    CHECK_INT(uv_tcp_bind(&hang.listener, (const struct sockaddr *)&a, 0), 0);
    CHECK_INT(uv_listen((uv_stream_t *)&hang.listener, 64, hang_on_connection), 0);
    uv_tcp_getsockname(&hang.listener, (struct sockaddr *)&got, &len);
    hang.port = ntohs(((struct sockaddr_in *)&got)->sin_port);
}

static void hang_close_one(uv_handle_t *h, void *arg)
{
    if (!uv_is_closing(h) && h->type == UV_TCP)
        uv_close(h, h == (uv_handle_t *)&hang.listener ? NULL : hang_conn_closed);
}

TEST(a_hanging_registry_costs_each_caller_one_timeout_however_deep_the_queue)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    hang_start(&loop);
    sg_registry_config cfg = {0};
    char spec[64];
    const char *why;
    snprintf(spec, sizeof spec, "docker.io=http://127.0.0.1:%d", hang.port);
    CHECK_INT(sg_registry_config_add_endpoint(&cfg, spec, &why), 0);
    cfg.total_timeout_ms = 1000;
    sg_digest_cache *c = sg_digest_cache_new(&loop, &cfg, NULL, 300);
    answered = 0;
    t0 = uv_hrtime();
    /* Six callers, one key: one request. */
    answer one[6] = {{0}};
    for (int i = 0; i < 6; i++)
        sg_digest_cache_lookup(c, "docker.io", "library/docker", "cli", on_answer, &one[i]);
    run_until(&loop, 6, 3000);
    CHECK_INT(hang.conns, 1);
    CHECK_INT(hang.requests, 1);
    for (int i = 0; i < 6; i++) {
        CHECK_INT(one[i].st, SG_REGISTRY_UNREACHABLE);
        CHECK(one[i].at < 1.8);
    }
    run_for(&loop, 300); /* that job ends (curl's own timeout) */
    /* Eight keys on four threads: four wait in the queue, and still every
     * caller is answered one timeout after it asked, not two. */
    answered = 0;
    t0 = uv_hrtime();
    answer eight[8] = {{0}};
    char tag[16];
    for (int i = 0; i < 8; i++) {
        snprintf(tag, sizeof tag, "t%d", i);
        sg_digest_cache_lookup(c, "docker.io", "library/docker", tag, on_answer, &eight[i]);
    }
    run_until(&loop, 8, 5000);
    double latest = 0;
    for (int i = 0; i < 8; i++) {
        CHECK_INT(eight[i].calls, 1);
        CHECK_INT(eight[i].st, SG_REGISTRY_UNREACHABLE);
        latest = eight[i].at > latest ? eight[i].at : latest;
    }
    /* Waiting for the pool, the queued four would be answered at ~2 s;
     * the rest is slack for a loaded machine. */
    if (latest >= 1.8)
        fprintf(stderr, "  the last of eight answered after %.2f s\n", latest);
    CHECK(latest >= 0.95 && latest < 1.8);
    run_for(&loop, 1500); /* the queued four run now, answer nobody */
    CHECK_INT(hang.conns, 1 + 8);
    for (int i = 0; i < 8; i++)
        CHECK_INT(eight[i].calls, 1);
    sg_digest_cache_free(c);
    uv_walk(&loop, hang_close_one, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&loop), 0);
    sg_registry_config_free(&cfg);
}

/* ---- reloads ------------------------------------------------------------ */

TEST(a_watch_storm_asks_at_most_once_per_tag_it_adds)
{
    uv_loop_t loop;
    sg_registry_config cfg;
    /* A registry that fails at once: nothing ever becomes fresh, and no
     * look-up stays in flight to merge with. */
    sg_digest_cache *c = fake_cache(&loop, &cfg, 5000, NULL, 300);
    fake_reset(false, SG_REGISTRY_UNREACHABLE, NULL);
    sg_image_ref list[3] = {ref_of("docker:cli"), ref_of("busybox:1"), ref_of("alpine:3")};
    for (int i = 0; i < 1000; i++) {
        sg_digest_cache_watch(c, list, i % 2 ? 3 : 2); /* alpine:3 comes and goes */
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    for (int i = 0; i < 1000; i++)
        sg_digest_cache_watch(c, list, 3);
    run_for(&loop, 100);
    CHECK_INT(fake_calls_for("library/docker:cli"), 1);
    CHECK_INT(fake_calls_for("library/busybox:1"), 1);
    CHECK_INT(fake_calls_for("library/alpine:3"), 1);
    CHECK_INT(fake_calls(), 3);
    finish(&loop, c);
}

TEST(a_listed_tag_with_a_fresh_answer_is_not_asked_on_reload)
{
    snprintf(state_path, sizeof state_path, "/tmp/sg-test-digests-%d.json", (int)getpid());
    FILE *f = fopen(state_path, "w");
    CHECK(f != NULL);
    if (f) {
        fprintf(f, "{\"docker.io/library/docker:cli\": {\"digest\": \"%s\", \"fetched\": %lld}}",
                DIGEST_A, (long long)time(NULL));
        fclose(f);
    }
    uv_loop_t loop;
    sg_registry_config cfg;
    sg_digest_cache *c = fake_cache(&loop, &cfg, 5000, state_path, 300);
    fake_reset(false, SG_REGISTRY_OK, DIGEST_B);
    sg_image_ref list[2] = {ref_of("docker:cli"), ref_of("busybox:1")};
    sg_digest_cache_watch(c, list, 2);
    run_for(&loop, 100);
    CHECK_INT(fake_calls_for("library/docker:cli"), 0); /* fresh till the next tick */
    CHECK_INT(fake_calls_for("library/busybox:1"), 1);
    finish(&loop, c);
    unlink(state_path);
}

TEST(the_periodic_refresh_keeps_its_cadence_through_reloads)
{
    uv_loop_t loop;
    sg_registry_config cfg;
    /* TTL 10 s: a tick every 5 s (half the TTL, and the minimum). */
    sg_digest_cache *c = fake_cache(&loop, &cfg, 5000, NULL, 10);
    fake_reset(false, SG_REGISTRY_UNREACHABLE, NULL);
    sg_image_ref r = ref_of("docker:cli");
    sg_digest_cache_watch(c, &r, 1); /* asked now */
    /* A reload every 50 ms for 5.6 s: restarting the ticker at each would
     * never let it tick (or, with delay 0, tick at every reload). */
    for (int i = 0; i < 112; i++) {
        run_for(&loop, 50);
        sg_digest_cache_watch(c, &r, 1);
    }
    CHECK_INT(fake_calls_for("library/docker:cli"), 2);
    sg_digest_cache_watch(c, NULL, 0); /* stops it */
    finish(&loop, c);
}

/* ---- freeing ------------------------------------------------------------ */

static sg_digest_cache *freed_from_cb;

static void on_answer_free(void *arg, sg_registry_status st, const char *digest, bool stale,
                           const char *err)
{
    on_answer(arg, st, digest, stale, err);
    sg_digest_cache_free(freed_from_cb); /* the first one frees; the rest: no-ops */
}

TEST(free_answers_every_waiter_once_and_leaves_running_jobs_safe)
{
    uv_loop_t loop;
    sg_registry_config cfg;
    sg_digest_cache *c = fake_cache(&loop, &cfg, 5000, NULL, 300);
    fake_reset(true, SG_REGISTRY_OK, DIGEST_A);
    /* Six keys on four threads: four running (held), two queued. */
    answer a[6] = {{0}};
    char tag[16];
    for (int i = 0; i < 6; i++) {
        snprintf(tag, sizeof tag, "t%d", i);
        sg_digest_cache_lookup(c, "docker.io", "library/docker", tag, on_answer, &a[i]);
    }
    run_for(&loop, 100);
    CHECK_INT(fake_calls(), 4);
    sg_digest_cache_free(c);
    CHECK_INT(answered, 6);
    for (int i = 0; i < 6; i++) {
        CHECK_INT(a[i].calls, 1);
        CHECK_INT(a[i].st, SG_REGISTRY_ERROR);
        CHECK(strstr(a[i].err, "shutting down") != NULL);
    }
    fake_release();
    uv_run(&loop, UV_RUN_DEFAULT); /* the four come back; nobody is told */
    CHECK_INT(answered, 6);
    CHECK_INT(fake_calls(), 4); /* the queued two were cancelled */
    CHECK_INT(uv_loop_close(&loop), 0);

    /* Freed from inside a callback, while the job answers its waiters. */
    c = fake_cache(&loop, &cfg, 5000, NULL, 300);
    fake_reset(true, SG_REGISTRY_OK, DIGEST_A);
    freed_from_cb = c;
    answer b[3] = {{0}};
    for (int i = 0; i < 3; i++)
        sg_digest_cache_lookup(c, "docker.io", "library/docker", "cli", on_answer_free, &b[i]);
    run_for(&loop, 50);
    fake_release();
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(answered, 3);
    CHECK_INT(b[0].st, SG_REGISTRY_OK);
    for (int i = 0; i < 3; i++)
        CHECK_INT(b[i].calls, 1);
    CHECK_INT(uv_loop_close(&loop), 0);
}

int main(void)
{
    if (sg_registry_global_init() != 0)
        return 1;
    uv_mutex_init(&fake.mu);
    uv_cond_init(&fake.cv);
    RUN(concurrent_lookups_of_one_key_make_one_request);
    RUN(a_background_refresh_and_lookups_share_one_request);
    RUN(each_waiter_has_its_own_deadline_and_the_late_answer_still_counts);
    RUN(a_hanging_registry_costs_each_caller_one_timeout_however_deep_the_queue);
    RUN(a_watch_storm_asks_at_most_once_per_tag_it_adds);
    RUN(a_listed_tag_with_a_fresh_answer_is_not_asked_on_reload);
    RUN(the_periodic_refresh_keeps_its_cadence_through_reloads);
    RUN(free_answers_every_waiter_once_and_leaves_running_jobs_safe);
    sg_registry_global_cleanup();
    return UNIT_DONE();
}
