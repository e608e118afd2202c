/*
 * budget.h — what requests may hold while they are inspected and decided,
 * for the whole process and per caller.
 *
 * One client must not take Docker away from everyone else: a request body
 * buffered for inspection, the JSON tree parsed from it and a decision
 * waiting for look-ups all cost memory for as long as they last. Per-request
 * caps bound one request, not forty at once; so every such cost is taken
 * from a process-wide budget and from the caller's own share of it before it
 * is incurred, and given back when the request lets go of it. A caller that
 * would exceed its share is answered 429; when the process budget is
 * exhausted by everyone together, 503. Either way the request is refused
 * before it costs anything, and everyone else goes on.
 *
 * A caller is the peer's uid on the public socket, and the calling container
 * on the restricted socket (gate/identify.c); the restricted socket's
 * callers that cannot be identified share one share.
 *
 * Pure bookkeeping, no I/O: unit-tested in tests/unit/test_budget.c.
 */
#ifndef SG_BUDGET_H
#define SG_BUDGET_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "decide/caller.h"

/* Defaults of the limits (--inspect-budget, --decision-budget). */
#define SG_BUDGET_BYTES_DEFAULT (64u << 20)
#define SG_BUDGET_DECISIONS_DEFAULT 1024u
/* A caller's share: a quarter of the whole, so that at least four callers
 * always find room while one of them is abusive. */
#define SG_BUDGET_SHARE_DIVISOR 4

typedef struct {
    uint64_t bytes;
    uint32_t decisions;
} sg_budget_cost;

/* Who pays: a uid on the public socket, a container on the restricted one. */
typedef struct {
    sg_socket_kind socket;
    uid_t uid;
    char container[65];           /* restricted: the ID, "" if unknown      */
} sg_budget_key;

typedef struct {
    sg_budget_key key;
    sg_budget_cost used;
} sg_budget_caller;

typedef struct {
    sg_budget_cost limit, share;  /* the whole, and one caller's part      */
    sg_budget_cost used;
    sg_budget_caller *callers;    /* those holding something, unordered    */
    size_t n_callers, cap_callers;
    uint64_t refused_caller;      /* 429s: a caller over its share          */
    uint64_t refused_total;       /* 503s: the process budget exhausted     */
} sg_budget;

/* What one request holds, given back by sg_budget_hold_release. */
typedef struct {
    sg_budget *budget;            /* NULL: nothing held yet                 */
    sg_budget_key key;
    sg_budget_cost held;
} sg_budget_hold;

void sg_budget_init(sg_budget *b, uint64_t bytes, uint32_t decisions);
void sg_budget_free(sg_budget *b);

/*
 * Take cost for the request behind h (its caller: who). 0 when granted;
 * otherwise 429 or 503 with *why set to a message for the client, and
 * nothing taken.
 */
int sg_budget_take(sg_budget *b, sg_budget_hold *h, const sg_caller *who, sg_budget_cost cost,
                   const char **why);
/* Give part of what h holds back (no more than it holds). */
void sg_budget_give(sg_budget_hold *h, sg_budget_cost cost);
/* Give back everything h holds. */
void sg_budget_hold_release(sg_budget_hold *h);

/* For `sockgate status`. */
json_t *sg_budget_describe(const sg_budget *b);

#endif
