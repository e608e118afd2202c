/*
 * server.c — the gate's lifetime: start, reload, draining shutdown.
 *
 * SIGTERM/SIGINT: stop accepting and remove the sockets at once (a
 * restarting service manager may already be binding them again), close
 * idle connections, let busy ones finish their current exchange for at most
 * --shutdown-timeout, then close whatever is left. The loop ends when no
 * handle is left and no registry look-up is still running (queued ones are
 * dropped), and everything is freed, so leak checkers see a clean exit.
 *
 * SIGHUP, or a change of the settings file: reload it; a file that does not
 * validate leaves the running policy in force and says why. Requests already
 * decided keep the policy they were decided under; the next request on any
 * connection gets the new one.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "base/log.h"
#include "engine/engine_client.h"
#include "gate/gate.h"

static void server_watch_digests(sg_server *srv);

static void server_close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void server_finish(sg_server *srv)
{
    sg_upstream_pool_close(srv);
    sg_ticker_close(&srv->sweep_ticker, NULL);
    server_close_handle((uv_handle_t *)&srv->reload_timer);
    if (srv->watching)
        server_close_handle((uv_handle_t *)&srv->settings_watch);
    server_close_handle((uv_handle_t *)&srv->sig_term);
    server_close_handle((uv_handle_t *)&srv->sig_int);
    server_close_handle((uv_handle_t *)&srv->sig_hup);
    server_close_handle((uv_handle_t *)&srv->drain_timer);
    sg_ticker_close(&srv->info_ticker, NULL);
    if (srv->info_req) {
        sg_engine_cancel(srv->env.engine, srv->info_req);
        srv->info_req = NULL;
    }
    sg_engine_socket_close_idle(srv->env.engine);
    /* No request is left to ask the registry: look-ups still queued on
     * the thread pool are dropped, so the exit waits for the running ones
     * only (one registry timeout at most), not for every queued refresh. */
    sg_digest_cache_free(srv->env.digests);
    srv->env.digests = NULL;
}

static void server_conn_closed(sg_server *srv)
{
    if (srv->draining && srv->n_conns == 0)
        server_finish(srv);
}

static void server_on_drain_timeout(uv_timer_t *t)
{
    sg_server *srv = t->data;
    sg_warn("shutdown timeout: closing %zu busy connection(s)", srv->n_conns);
    for (sg_conn *c = srv->conns; c; c = c->next)
        sg_conn_abort(c, "shutdown timeout");
}

static void server_begin_drain(sg_server *srv)
{
    if (srv->draining)
        return;
    srv->draining = true;
    sg_info("shutting down: %zu connection(s) open", srv->n_conns);
    sg_listeners_close(srv);
    sg_status_close(srv);
    sg_upstream_pool_close(srv);
    for (sg_conn *c = srv->conns, *next; c; c = next) {
        next = c->next;
        sg_conn_drain(c);
    }
    if (srv->n_conns == 0) {
        server_finish(srv);
        return;
    }
    uv_timer_start(&srv->drain_timer, server_on_drain_timeout,
                   srv->cfg.shutdown_timeout_ms, 0);
}

static void server_on_stop_signal(uv_signal_t *s, int signum)
{
    sg_info("received %s", strsignal(signum));
    server_begin_drain(s->data);
}

/* The effective policy, as one structured line (startup and reloads). */
static void server_log_policy(const sg_settings *p, const char *why)
{
    json_t *f = json_pack("{s:s}", "why", why);
    json_object_update_new(f, sg_settings_describe(p));
    sg_log_event(SG_LOG_INFO, "policy", f);
    if (p->warnings[0])
        sg_warn("%s", p->warnings);
}

static void server_reload(sg_server *srv)
{
    if (!srv->cfg.settings_path) {
        sg_info("SIGHUP: no --settings file, nothing to reload");
        return;
    }
    char err[1024];
    sg_settings *next = sg_settings_load(srv->cfg.settings_path, err, sizeof err);
    if (!next) {
        sg_error("reload failed, keeping the running policy: %s", err);
        return;
    }
    sg_settings_unref(srv->policy);
    srv->policy = next;
    server_watch_digests(srv);
    sg_info("policy reloaded from %s: enhanced container isolation %s",
            next->source, next->eci_enabled ? "on" : "off");
    server_log_policy(next, "reload");
}

static void server_on_hup(uv_signal_t *s, int signum) { server_reload(s->data); }

/* 10,000 idle clients need 10,000 descriptors; the soft limit is often 1024. */
static void server_raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/*
 * Connections past the limit are answered 503. Without --max-connections,
 * the limit is what the descriptors allow after a reserve: for the
 * listeners, the idle pool, the registry, the log, the splice pipes of
 * large streams (2 × SG_BULK_MAX_LANES) and the engine connections of
 * requests in flight, so that accept() itself never runs out. Idle
 * keep-alive clients hold one descriptor each, busy ones two; a busy
 * request that finds no descriptor for dockerd is answered 502.
 */
#define SG_FD_RESERVE 512

static size_t server_max_connections(const sg_server_config *cfg)
{
    struct rlimit rl;
    size_t by_fds = 16384;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        by_fds = rl.rlim_cur > 2 * SG_FD_RESERVE ? (size_t)rl.rlim_cur - SG_FD_RESERVE
                                                 : (size_t)rl.rlim_cur / 2;
    if (by_fds == 0)
        by_fds = 1;
    if (cfg->max_connections)
        return cfg->max_connections < by_fds ? cfg->max_connections : by_fds;
    return by_fds < 65536 ? by_fds : 65536;
}

static int server_load_policy(sg_server *srv)
{
    if (!srv->cfg.settings_path) {
        srv->policy = sg_settings_default();
        sg_warn("no --settings file: no policy is enforced, every request is forwarded");
        return srv->policy ? 0 : -1;
    }
    char err[1024];
    srv->policy = sg_settings_load(srv->cfg.settings_path, err, sizeof err);
    if (!srv->policy) {
        sg_error("%s", err);
        return -1;
    }
    sg_info("policy from %s: enhanced container isolation %s", srv->policy->source,
            srv->policy->eci_enabled ? "on" : "off");
    server_log_policy(srv->policy, "start");
    return 0;
}

static void server_on_sweep(sg_ticker *t)
{
    sg_server *srv = t->data;
    uint64_t now = uv_now(srv->loop);
    uint64_t head_ms = (uint64_t)srv->cfg.header_timeout_s * 1000;
    uint64_t body_ms = (uint64_t)srv->cfg.body_timeout_s * 1000;
    for (sg_conn *c = srv->conns, *next; c; c = next) {
        next = c->next;
        sg_conn_sweep(c, now, head_ms, body_ms);
    }
}

/*
 * Reload when the settings file changes. The directory is watched, not the
 * file: editors and config managers replace files by rename, which a watch
 * on the old inode would never see. Bursts of events are folded into one
 * reload after a short quiet time.
 */
static void server_on_reload_timer(uv_timer_t *t)
{
    sg_info("settings file changed: reloading");
    server_reload(t->data);
}

static void server_on_settings_event(uv_fs_event_t *h, const char *name, int events, int status)
{
    sg_server *srv = h->data;
    const char *base = strrchr(srv->cfg.settings_path, '/');
    base = base ? base + 1 : srv->cfg.settings_path;
    if (status == 0 && (!name || strcmp(name, base) == 0))
        uv_timer_start(&srv->reload_timer, server_on_reload_timer, 200, 0);
}

static void server_watch_settings(sg_server *srv)
{
    if (!srv->cfg.settings_path)
        return;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", srv->cfg.settings_path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    uv_fs_event_init(srv->loop, &srv->settings_watch);
    srv->settings_watch.data = srv;
    srv->watching = true;
    if (uv_fs_event_start(&srv->settings_watch, server_on_settings_event, dir, 0) != 0)
        sg_warn("cannot watch %s for changes; reload with SIGHUP", dir);
}

/* -1 when a ticker cannot be made: without the sweep, slow request heads
 * would never be cut off, so sockgate does not serve without it. Every
 * handle is initialised either way, for the drain to close. */
static int server_init_handles(sg_server *srv)
{
    /* Periodic work runs on tickers, not libuv timers: with no timer
     * pending, the loop waits without a timeout (see base/ticker.h). */
    int sweep = sg_ticker_init(srv->loop, &srv->sweep_ticker);
    int info = sg_ticker_init(srv->loop, &srv->info_ticker);
    uv_timer_init(srv->loop, &srv->reload_timer);
    srv->info_ticker.data = srv->sweep_ticker.data = srv->reload_timer.data = srv;
    if (sweep == 0)
        sweep = sg_ticker_start(&srv->sweep_ticker, server_on_sweep, 1000, 1000);
    server_watch_settings(srv);
    uv_signal_init(srv->loop, &srv->sig_term);
    uv_signal_init(srv->loop, &srv->sig_int);
    uv_signal_init(srv->loop, &srv->sig_hup);
    uv_timer_init(srv->loop, &srv->drain_timer);
    srv->sig_term.data = srv->sig_int.data = srv->sig_hup.data = srv;
    srv->drain_timer.data = srv;
    uv_signal_start(&srv->sig_term, server_on_stop_signal, SIGTERM);
    uv_signal_start(&srv->sig_int, server_on_stop_signal, SIGINT);
    uv_signal_start(&srv->sig_hup, server_on_hup, SIGHUP);
    if (sweep != 0 || info != 0) {
        sg_error("cannot create a timer fd: %s", uv_strerror(sweep != 0 ? sweep : info));
        return -1;
    }
    return 0;
}

/* The restricted socket's path on the host: what allowed containers get
 * bound in place of the socket they asked for. */
static char *server_restricted_path(sg_server *srv)
{
    char path[SG_LISTENER_PATH_MAX];
    for (sg_listener *l = srv->listeners; l; l = l->next)
        if (l->kind == SG_SOCKET_RESTRICTED && sg_listener_path(l, path, sizeof path))
            return strdup(path);
    return NULL;
}

/* Every socket that gives control of dockerd: ours, dockerd's, the
 * well-known paths, and what the operator adds. */
static void server_protect(sg_server *srv)
{
    sg_protected_set *p = &srv->env.protected;
    char path[SG_LISTENER_PATH_MAX];
    for (sg_listener *l = srv->listeners; l; l = l->next)
        if (sg_listener_path(l, path, sizeof path))
            sg_protected_add(p, path);
    sg_protected_add(p, srv->cfg.engine_path);
    sg_protected_add(p, "/run/docker.sock");
    sg_protected_add(p, "/var/run/docker.sock");
    for (size_t i = 0; i < srv->cfg.n_protect; i++)
        sg_protected_add(p, srv->cfg.protect[i]);
}

/* Background refresh of the tags the imageList names. */
static void server_watch_digests(sg_server *srv)
{
    const sg_settings *s = srv->policy;
    sg_image_ref *refs = calloc(s->n_images + 1, sizeof *refs);
    size_t n = 0;
    for (size_t i = 0; refs && s->eci_enabled && i < s->n_images; i++) {
        const sg_image_ref *r = &s->images[i].ref;
        if (!s->images[i].everyone && !r->tag_is_wildcard && !r->digest[0] && r->tag[0])
            refs[n++] = *r;
    }
    /* With the policy off (n == 0) nothing is refreshed any more. */
    sg_digest_cache_watch(srv->env.digests, refs, n);
    free(refs);
}

/*
 * What the engine says of itself (user namespaces, default runtime),
 * asked at start and every minute: the isolation rules read the default
 * runtime, and whether dockerd remaps users is worth saying at start and
 * whenever it changes.
 */
#define SERVER_INFO_EVERY_MS 60000

static void server_on_info(void *arg, int status, json_t *body)
{
    sg_server *srv = arg;
    srv->info_req = NULL;
    sg_engine_info was = srv->env.info, now = was;
    if (status == 200 && sg_engine_info_read(body, &now)) {
        srv->env.info = now;
        char line[256];
        sg_engine_info_describe(&now, line, sizeof line);
        bool changed = !was.known || was.userns != now.userns ||
                       strcmp(was.default_runtime, now.default_runtime) != 0;
        if (now.remap_known && (!was.remap_known || was.remap_uid != now.remap_uid))
            sg_listeners_own_restricted(srv, (uid_t)now.remap_uid);
        if (changed && now.userns)
            sg_info("engine: %s", line);
        else if (changed)
            sg_warn("engine: %s", line);
    }
    json_decref(body);
}

static void server_on_info_timer(sg_ticker *t)
{
    sg_server *srv = t->data;
    if (!srv->info_req && !srv->draining)
        srv->info_req = sg_engine_get(srv->env.engine, "/info", server_on_info, srv);
}

static int server_init_env(sg_server *srv)
{
    sg_policy_env *env = &srv->env;
    env->loop = srv->loop;
    env->engine = sg_engine_socket_new(srv->loop, srv->cfg.engine_path);
    if (!env->engine)
        return -1;
    sg_ticker_start(&srv->info_ticker, server_on_info_timer, 0, SERVER_INFO_EVERY_MS);
    env->registry = srv->cfg.registry;
    env->restricted_path = server_restricted_path(srv);
    server_protect(srv);
    char file[4096];
    snprintf(file, sizeof file, "%s/digests.json", srv->cfg.state_dir);
    env->digests = sg_digest_cache_new(srv->loop, &env->registry, file, srv->cfg.digest_ttl_s);
    if (!env->digests)
        return -1;
    server_watch_digests(srv);
    return 0;
}

static void server_free_env(sg_server *srv)
{
    sg_protected_free(&srv->env.protected);
    free(srv->env.restricted_path);
    sg_engine_socket_free(srv->env.engine);
}

static void server_close_all(uv_handle_t *h, void *arg)
{
    server_close_handle(h);
}

int sg_server_run(const sg_server_config *cfg)
{
    sg_server srv;
    memset(&srv, 0, sizeof srv);
    srv.stages = &sg_request_path;
    srv.conn_closed = server_conn_closed;
    srv.cfg = *cfg;
    srv.loop = uv_default_loop();
    if (sg_ioloop_init(&srv.io, srv.loop) != 0) {
        sg_error("cannot create the event loop's epoll set");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    server_raise_fd_limit();
    srv.max_conns = server_max_connections(cfg);
    sg_budget_init(&srv.budget, cfg->inspect_budget, cfg->decision_budget);
    if (server_load_policy(&srv) != 0) {
        sg_ioloop_close(&srv.io);
        return 1;
    }
    srv.started_ms = uv_now(srv.loop);
    if (server_init_handles(&srv) != 0 || sg_listeners_open(&srv) != 0 ||
        server_init_env(&srv) != 0 ||
        sg_status_open(&srv) != 0) {
        srv.exit_code = 1;
        server_begin_drain(&srv);
    } else {
        sg_info("sockgate %s forwarding to %s", SG_VERSION, cfg->engine_path);
    }
    if (sg_ioloop_run(&srv.io) != 0) {
        sg_error("event loop: epoll_wait failed");
        srv.exit_code = 1;
    }
    /* Anything still open (only on error paths) is closed before exit. */
    sg_digest_cache_free(srv.env.digests);
    uv_walk(srv.loop, server_close_all, NULL);
    uv_run(srv.loop, UV_RUN_DEFAULT);
    server_free_env(&srv);
    free(srv.spare_match);
    sg_budget_free(&srv.budget);
    uv_loop_close(srv.loop);
    sg_ioloop_close(&srv.io);
    sg_settings_unref(srv.policy);
    sg_info("stopped");
    return srv.exit_code;
}
