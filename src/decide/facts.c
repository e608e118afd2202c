/*
 * facts.c — engine look-ups for a decision (see facts.h).
 */
#include "decide/facts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body/gojson.h"

static const char *const kind_names[] = {
    [SG_FACT_CONTAINER] = "container", [SG_FACT_VOLUME] = "volume",
    [SG_FACT_NETWORK] = "network",     [SG_FACT_IMAGE] = "image",
    [SG_FACT_EXEC] = "exec instance", [SG_FACT_LISTING] = "listing",
};

const char *sg_fact_kind_name(sg_fact_kind kind) { return kind_names[kind]; }

void sg_facts_init(sg_facts *fs, sg_engine *engine, sg_fact_arrived_fn arrived,
                   sg_facts_done_fn done, void *arg)
{
    memset(fs, 0, sizeof *fs);
    fs->engine = engine;
    fs->arrived = arrived;
    fs->done = done;
    fs->arg = arg;
}

static void facts_maybe_done(sg_facts *fs)
{
    if (fs->pending == 0 && fs->holds == 0 && fs->done)
        fs->done(fs->arg);
}

void sg_facts_hold(sg_facts *fs) { fs->holds++; }

void sg_facts_release(sg_facts *fs)
{
    fs->holds--;
    facts_maybe_done(fs);
}

void sg_facts_meter(sg_facts *fs, sg_facts_meter_fn meter, void *arg)
{
    fs->meter = meter;
    fs->meter_arg = arg;
}

/*
 * What a parsed answer costs while it is kept: a node per value (and key)
 * and the strings' bytes. Callers control what dockerd says about their
 * containers (labels, environment, command lines), so a decision's 64
 * answers of up to 16 MiB each are paid for like the request's own body.
 */
static uint64_t facts_tree_cost(const json_t *j)
{
    uint64_t cost = SG_GOJSON_VALUE_COST;
    if (json_is_string(j)) {
        cost += json_string_length(j);
    } else if (json_is_array(j)) {
        for (size_t i = 0; i < json_array_size(j); i++)
            cost += facts_tree_cost(json_array_get(j, i));
    } else if (json_is_object(j)) {
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)j, key, v)
            cost += SG_GOJSON_VALUE_COST + strlen(key) + facts_tree_cost(v);
    }
    return cost;
}

/* Keep an answer only if the budget holds it; otherwise the fact has no
 * answer (cannot tell) and the decision fails closed on over_budget. */
static bool facts_afford(sg_facts *fs, const json_t *body)
{
    if (!fs->meter || fs->over_budget)
        return !fs->over_budget;
    const char *why = NULL;
    int status = fs->meter(fs->meter_arg, facts_tree_cost(body), &why);
    if (status == 0)
        return true;
    fs->over_budget = status;
    fs->over_budget_why = why;
    return false;
}

static void facts_on_answer(void *arg, int status, json_t *body)
{
    sg_fact *f = arg;
    sg_facts *fs = f->owner;
    f->req = NULL;
    if (status == 200 && !facts_afford(fs, body))
        status = -1;
    f->status = status == 0 ? -1 : status;
    if (status == 200) {
        f->json = body;
        body = NULL;
    }
    if (f->kind == SG_FACT_CONTAINER && f->status == 200) {
        sg_jx r = {0};
        if (sg_spec_from_inspect(f->json, &f->spec, &r) != 0)
            fs->oom = true;
        else if (r.failed)
            f->status = SG_FACT_UNREADABLE;
        else
            f->has_spec = true;
    }
    json_decref(body);
    fs->pending--;
    sg_facts_hold(fs); /* what `arrived` wants is part of this round */
    if (fs->arrived)
        fs->arrived(fs->arg, f);
    sg_facts_release(fs);
}

static void facts_path(sg_fact_kind kind, const char *name, char *out, size_t n)
{
    switch (kind) {
    case SG_FACT_CONTAINER: snprintf(out, n, "/containers/%s/json", name); break;
    case SG_FACT_VOLUME: snprintf(out, n, "/volumes/%s", name); break;
    case SG_FACT_NETWORK: snprintf(out, n, "/networks/%s", name); break;
    case SG_FACT_IMAGE: snprintf(out, n, "/images/%s/json", name); break;
    case SG_FACT_EXEC: snprintf(out, n, "/exec/%s/json", name); break;
    case SG_FACT_LISTING: snprintf(out, n, "%s", name); break;
    }
}

const sg_fact *sg_facts_find(const sg_facts *fs, sg_fact_kind kind, const char *name)
{
    for (const sg_fact *f = fs->list; f; f = f->next)
        if (f->kind == kind && strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

void sg_facts_want(sg_facts *fs, sg_fact_kind kind, const char *name)
{
    if (!name || !name[0] || sg_facts_find(fs, kind, name))
        return;
    if (fs->count >= SG_MAX_FACTS) {
        fs->overflow = true;
        return;
    }
    sg_fact *f = calloc(1, sizeof *f);
    char path[1200];
    if (!f || !(f->name = strdup(name)) || strlen(name) > 1000) {
        if (f)
            free(f->name);
        free(f);
        fs->oom = true;
        return;
    }
    f->kind = kind;
    f->owner = fs;
    f->next = fs->list;
    fs->list = f;
    fs->count++;
    facts_path(kind, name, path, sizeof path);
    fs->pending++;
    f->req = sg_engine_get(fs->engine, path, facts_on_answer, f);
    if (!f->req) {
        fs->pending--;
        f->status = -1;
        fs->oom = true;
    }
}

void sg_facts_free(sg_facts *fs)
{
    for (sg_fact *f = fs->list, *next; f; f = next) {
        next = f->next;
        if (f->req)
            sg_engine_cancel(fs->engine, f->req);
        json_decref(f->json);
        sg_spec_free(&f->spec);
        free(f->name);
        free(f);
    }
    fs->list = NULL;
    fs->pending = 0;
}
