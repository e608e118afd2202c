/*
 * facts.h — what the engine knows that a decision needs, looked up once.
 *
 * Rules are pure functions of the request and of facts: the container a
 * request acts on, the volumes and networks it names, the containers it
 * joins or takes volumes from, its image. The decision framework asks for
 * every fact the rules will read (sg_facts_want), all at once and in
 * parallel, follows what the answers name in turn (a volumes-from
 * container's volumes), and runs the rules only when every answer is in.
 * Look-ups are deduplicated and bounded (SG_MAX_FACTS).
 *
 * Fail closed: a fact whose look-up failed (no answer, timeout, an
 * unexpected status) is kept with its status, and rules treat it as
 * "cannot tell", never as "nothing there".
 */
#ifndef SG_FACTS_H
#define SG_FACTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "body/spec.h"
#include "engine/engine.h"

#define SG_MAX_FACTS 64

typedef enum {
    SG_FACT_CONTAINER, /* GET /containers/{name}/json */
    SG_FACT_VOLUME,    /* GET /volumes/{name}         */
    SG_FACT_NETWORK,   /* GET /networks/{name}        */
    SG_FACT_IMAGE,     /* GET /images/{name}/json     */
    SG_FACT_EXEC,      /* GET /exec/{id}/json         */
    SG_FACT_LISTING,   /* GET {name}: a list the gate answers from
                          (/networks, /system/df)    */
} sg_fact_kind;

typedef struct sg_fact sg_fact;
typedef struct sg_facts sg_facts;

struct sg_fact {
    sg_fact_kind kind;
    char *name;
    int status;          /* HTTP status; negative: no answer, or
                            SG_FACT_UNREADABLE; 0: pending                 */
    json_t *json;        /* the answer when status is 200 (kept, for the
                            log, when UNREADABLE)                          */
    bool has_spec;       /* CONTAINER answered 200: spec is its spec       */
    sg_spec spec;
    sg_engine_req *req;  /* while pending                                  */
    sg_facts *owner;
    sg_fact *next;
};

/* A container answered 200 with something the gate cannot fully read (a
 * field of the wrong type, a mount of a type it does not know): it counts
 * as "cannot tell", like no answer at all, never as "nothing there". */
#define SG_FACT_UNREADABLE (-2)

/* A fact arrived (f->status set); the callee may want more facts. */
typedef void (*sg_fact_arrived_fn)(void *arg, sg_fact *f);
/* Every fact wanted so far has arrived. */
typedef void (*sg_facts_done_fn)(void *arg);

/* Asked before an answer's tree is kept: 0, or the HTTP status refusing it
 * (decide.h, sg_decision_meter) with *why. */
typedef int (*sg_facts_meter_fn)(void *arg, uint64_t bytes, const char **why);

struct sg_facts {
    sg_engine *engine;
    sg_facts_meter_fn meter; /* NULL: answers are not metered              */
    void *meter_arg;
    int over_budget;     /* the meter's refusal (429/503): sticky          */
    const char *over_budget_why;
    sg_fact *list;
    size_t count;
    int pending;
    int holds;           /* sg_facts_hold(): `done` waits for release      */
    bool overflow;       /* more than SG_MAX_FACTS were wanted             */
    bool oom;
    sg_fact_arrived_fn arrived;
    sg_facts_done_fn done;
    void *arg;
};

void sg_facts_init(sg_facts *fs, sg_engine *engine, sg_fact_arrived_fn arrived,
                   sg_facts_done_fn done, void *arg);
/* Meter every answer's tree from now on (the gate's budget). */
void sg_facts_meter(sg_facts *fs, sg_facts_meter_fn meter, void *arg);
/* Ask for a fact (once; later calls for the same one do nothing). */
void sg_facts_want(sg_facts *fs, sg_fact_kind kind, const char *name);
/* Hold `done` back while a batch of wants is being made; release calls it
 * if nothing is pending any more. */
void sg_facts_hold(sg_facts *fs);
void sg_facts_release(sg_facts *fs);
/* The fact, or NULL if it was never wanted. */
const sg_fact *sg_facts_find(const sg_facts *fs, sg_fact_kind kind, const char *name);
/* Cancel what is pending (no callback follows) and free everything. */
void sg_facts_free(sg_facts *fs);

const char *sg_fact_kind_name(sg_fact_kind kind);

#endif
