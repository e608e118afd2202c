/*
 * server.c — the gate's lifetime: start, reload, draining shutdown.
 *
 * SIGTERM/SIGINT: stop accepting and remove the sockets at once (a
 * restarting service manager may already be binding them again), close
 * idle connections, let busy ones finish their current exchange for at most
 * --shutdown-timeout, then close whatever is left. The loop ends when no
 * handle is left, and everything is freed, so leak checkers see a clean exit.
 *
 * SIGHUP: reload the settings file; a file that does not validate leaves the
 * running policy in force and says why.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "base/log.h"
#include "gate/gate.h"

static void server_close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void server_finish(sg_server *srv)
{
    sg_upstream_pool_close(srv);
    server_close_handle((uv_handle_t *)&srv->sig_term);
    server_close_handle((uv_handle_t *)&srv->sig_int);
    server_close_handle((uv_handle_t *)&srv->sig_hup);
    server_close_handle((uv_handle_t *)&srv->drain_timer);
}

void sg_server_conn_closed(sg_server *srv)
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
    sg_info("policy reloaded from %s: enhanced container isolation %s",
            next->source, next->eci_enabled ? "on" : "off");
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
    return 0;
}

static void server_init_handles(sg_server *srv)
{
    uv_signal_init(srv->loop, &srv->sig_term);
    uv_signal_init(srv->loop, &srv->sig_int);
    uv_signal_init(srv->loop, &srv->sig_hup);
    uv_timer_init(srv->loop, &srv->drain_timer);
    srv->sig_term.data = srv->sig_int.data = srv->sig_hup.data = srv;
    srv->drain_timer.data = srv;
    uv_signal_start(&srv->sig_term, server_on_stop_signal, SIGTERM);
    uv_signal_start(&srv->sig_int, server_on_stop_signal, SIGINT);
    uv_signal_start(&srv->sig_hup, server_on_hup, SIGHUP);
}

static void server_close_all(uv_handle_t *h, void *arg)
{
    server_close_handle(h);
}

int sg_server_run(const sg_server_config *cfg)
{
    sg_server srv;
    memset(&srv, 0, sizeof srv);
    srv.cfg = *cfg;
    srv.loop = uv_default_loop();
    signal(SIGPIPE, SIG_IGN);
    server_raise_fd_limit();
    if (server_load_policy(&srv) != 0)
        return 1;
    server_init_handles(&srv);
    if (sg_listeners_open(&srv) != 0) {
        srv.exit_code = 1;
        server_begin_drain(&srv);
    } else {
        sg_info("sockgate %s forwarding to %s", SG_VERSION, cfg->engine_path);
    }
    uv_run(srv.loop, UV_RUN_DEFAULT);
    /* Anything still open (only on error paths) is closed before exit. */
    uv_walk(srv.loop, server_close_all, NULL);
    uv_run(srv.loop, UV_RUN_DEFAULT);
    uv_loop_close(srv.loop);
    sg_settings_unref(srv.policy);
    sg_info("stopped");
    return srv.exit_code;
}
