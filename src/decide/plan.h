/*
 * plan.h — what a request's decision looks at beyond its request line: the
 * plan decide.c chooses by route, decision.c reads the body by, and each
 * entry of the rule table (rules.h) names the plans it applies to. Its own
 * header so that the rules need not know the gate's side of decide.h.
 */
#ifndef SG_PLAN_H
#define SG_PLAN_H

/* What the asynchronous decision looks at (decision.c). */
typedef enum {
    SG_PLAN_NONE,
    SG_PLAN_CREATE,           /* container create body                       */
    SG_PLAN_START,            /* container start: its container; no body     */
    SG_PLAN_EXISTING,         /* an existing container must be isolated      */
    SG_PLAN_EXEC_CREATE,      /* exec config body, and its container         */
    SG_PLAN_EXEC_START,       /* the exec instance, and its container        */
    SG_PLAN_UPDATE,           /* container update body                       */
    SG_PLAN_SERVICE,          /* service create/update body                  */
    SG_PLAN_NETWORK_CREATE,   /* network create body (driver)                */
    SG_PLAN_NETWORK_CONNECT,  /* the network a container joins               */
    SG_PLAN_VOLUME_CREATE,    /* volume create body (a local device)         */
    SG_PLAN_OWNED,            /* scope "own": the object in the path (and a
                                 network connect's container) is the tenant's */
    SG_PLAN_ANSWER,           /* scope "own": the gate answers itself from
                                 dockerd's answer, cut to the tenant's objects */
} sg_plan;

#endif
