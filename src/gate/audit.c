/*
 * audit.c — the decision line: one JSON (or text) line per decision worth
 * auditing, with who asked (uid, socket, the calling container on the
 * restricted socket), what, the rule and the verdict. Decisions are made in
 * dispatch.c and, for BuildKit's requests, in relay.c; both log here, so
 * that an audit line has one shape and the counters one place.
 */
#include "base/log.h"
#include "gate/gate.h"

/* One line per decision worth auditing: denials, rewrites, pins. detail,
 * if any, is logged as its message (the BuildKit reader's refusals, whose
 * rule alone does not say what the build asked for). */
void sg_conn_log_decision(sg_conn *c, const sg_verdict *v, const char *detail)
{
    if (v->kind == SG_VERDICT_DENY)
        c->srv->stats.denied++;
    else if (v->rewritten)
        c->srv->stats.rewritten++;
    if (!v->log)
        return;
    const char *verdict = v->kind == SG_VERDICT_DENY     ? "denied"
                          : v->kind == SG_VERDICT_ANSWER ? "answered by sockgate"
                          : v->rewritten                 ? "allowed, rewritten"
                                                     : "allowed";
    const sg_caller *who = &c->caller;
    json_t *f = json_pack("{s:I,s:i,s:i,s:i,s:s,s:b,s:s,s:s,s:s,s:s,s:s,s:i}", "conn",
                          (json_int_t)c->id, "pid", (int)who->pid, "uid", (int)who->uid, "gid",
                          (int)who->gid, "socket", sg_socket_kind_name(who->socket), "isolated",
                          v->isolated, "method", http_method_name(c->ex->method), "target",
                          c->ex->target, "image", v->image, "rule", v->rule, "verdict", verdict,
                          "status", v->kind == SG_VERDICT_DENY ? v->status : 0);
    if (who->socket == SG_SOCKET_RESTRICTED) /* which container asked (identify.c) */
        json_object_update_new(f, who->container.state == SG_CONTAINER_KNOWN
                                      ? json_pack("{s:s,s:s,s:s}", "container",
                                                  c->identity->name, "container_id",
                                                  who->container.id, "container_image",
                                                  c->identity->image)
                                      : json_pack("{s:s}", "container", "(unidentified)"));
    if (who->socket == SG_SOCKET_RESTRICTED && who->container.state == SG_CONTAINER_KNOWN &&
        c->identity->tenant.id[0]) /* and whose tenant it is in (decide/tenant.h) */
        json_object_set_new(f, "tenant", json_string(c->identity->tenant.id));
    if (detail)
        json_object_set_new(f, "message", json_string(detail));
    sg_log_audit(SG_LOG_INFO, "decision", f);
}
