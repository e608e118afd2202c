/*
 * budget.c — the process-wide and per-caller budget of what requests hold
 * while they are inspected and decided (see budget.h).
 *
 * Callers holding something are kept in a small unordered array: there are
 * as many as distinct uids with a request in inspection at one moment, a
 * handful, and an entry leaves the array as soon as it holds nothing.
 */
#include "gate/budget.h"

#include <stdlib.h>
#include <string.h>

void sg_budget_init(sg_budget *b, uint64_t bytes, uint32_t decisions)
{
    *b = (sg_budget){0};
    b->limit = (sg_budget_cost){bytes, decisions};
    b->share = (sg_budget_cost){bytes / SG_BUDGET_SHARE_DIVISOR,
                                decisions / SG_BUDGET_SHARE_DIVISOR};
    if (b->share.decisions == 0)
        b->share.decisions = 1;
}

void sg_budget_free(sg_budget *b)
{
    free(b->callers);
    b->callers = NULL;
    b->n_callers = b->cap_callers = 0;
}

static sg_budget_key budget_key_of(const sg_caller *who)
{
    sg_budget_key k = {.socket = who->socket};
    if (who->socket == SG_SOCKET_PUBLIC)
        k.uid = who->uid;
    else if (who->container.state == SG_CONTAINER_KNOWN)
        memcpy(k.container, who->container.id, sizeof k.container);
    return k;
}

static bool budget_key_eq(const sg_budget_key *a, const sg_budget_key *b)
{
    return a->socket == b->socket && a->uid == b->uid && strcmp(a->container, b->container) == 0;
}

static sg_budget_caller *budget_find(sg_budget *b, const sg_budget_key *key)
{
    for (size_t i = 0; i < b->n_callers; i++)
        if (budget_key_eq(&b->callers[i].key, key))
            return &b->callers[i];
    return NULL;
}

static sg_budget_caller *budget_add(sg_budget *b, const sg_budget_key *key)
{
    if (b->n_callers == b->cap_callers) {
        size_t cap = b->cap_callers ? b->cap_callers * 2 : 8;
        sg_budget_caller *n = realloc(b->callers, cap * sizeof *n);
        if (!n)
            return NULL;
        b->callers = n;
        b->cap_callers = cap;
    }
    sg_budget_caller *e = &b->callers[b->n_callers++];
    *e = (sg_budget_caller){.key = *key};
    return e;
}

static bool cost_fits(sg_budget_cost used, sg_budget_cost add, sg_budget_cost limit)
{
    return used.bytes + add.bytes <= limit.bytes &&
           used.decisions + add.decisions <= limit.decisions;
}

int sg_budget_take(sg_budget *b, sg_budget_hold *h, const sg_caller *who, sg_budget_cost cost,
                   const char **why)
{
    sg_budget_key key = budget_key_of(who);
    if (h->budget && !budget_key_eq(&h->key, &key)) {
        *why = "sockgate: internal error: one request charged to two callers";
        return 503;
    }
    sg_budget_caller *e = budget_find(b, &key);
    sg_budget_cost mine = e ? e->used : (sg_budget_cost){0};
    if (!cost_fits(mine, cost, b->share)) {
        b->refused_caller++;
        *why = "sockgate: too many requests from this caller are being inspected at once; "
               "retry when they are done";
        return 429;
    }
    if (!cost_fits(b->used, cost, b->limit)) {
        b->refused_total++;
        *why = "sockgate: busy: the memory for requests being inspected is in use; retry shortly";
        return 503;
    }
    if (!e && !(e = budget_add(b, &key))) {
        *why = "sockgate: out of memory";
        return 503;
    }
    e->used.bytes += cost.bytes;
    e->used.decisions += cost.decisions;
    b->used.bytes += cost.bytes;
    b->used.decisions += cost.decisions;
    *h = (sg_budget_hold){.budget = b, .key = key,
                          .held = {h->held.bytes + cost.bytes,
                                   h->held.decisions + cost.decisions}};
    return 0;
}

void sg_budget_give(sg_budget_hold *h, sg_budget_cost cost)
{
    sg_budget *b = h->budget;
    if (!b)
        return;
    if (cost.bytes > h->held.bytes)
        cost.bytes = h->held.bytes;
    if (cost.decisions > h->held.decisions)
        cost.decisions = h->held.decisions;
    h->held.bytes -= cost.bytes;
    h->held.decisions -= cost.decisions;
    b->used.bytes -= cost.bytes;
    b->used.decisions -= cost.decisions;
    sg_budget_caller *e = budget_find(b, &h->key);
    if (!e)
        return;
    e->used.bytes -= cost.bytes;
    e->used.decisions -= cost.decisions;
    if (e->used.bytes == 0 && e->used.decisions == 0)
        *e = b->callers[--b->n_callers]; /* unordered: the last takes its place */
}

void sg_budget_hold_release(sg_budget_hold *h)
{
    sg_budget_give(h, h->held);
    h->budget = NULL;
}

json_t *sg_budget_describe(const sg_budget *b)
{
    return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "bytes_limit",
                     (json_int_t)b->limit.bytes, "bytes_held", (json_int_t)b->used.bytes,
                     "caller_bytes_limit", (json_int_t)b->share.bytes, "decisions_limit",
                     (json_int_t)b->limit.decisions, "decisions_in_flight",
                     (json_int_t)b->used.decisions, "callers_holding",
                     (json_int_t)b->n_callers, "refused_caller_over_share",
                     (json_int_t)b->refused_caller, "refused_budget_exhausted",
                     (json_int_t)b->refused_total);
}
