/*
 * verdict.c — findings and edits (see verdict.h).
 */
#include "decide/verdict.h"

#include <arpa/inet.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "body/gojson.h"

static void findings_push(sg_findings *f, sg_finding x)
{
    if (!x.message || !(x.rule = strdup(x.rule))) {
        f->lost = true; /* sticky: the request is refused all the same */
        free(x.message);
        return;
    }
    if (f->n == SG_MAX_FINDINGS) {
        f->dropped++;
        free(x.rule);
        free(x.message);
        return;
    }
    f->items[f->n++] = x;
}

void sg_findings_add(sg_findings *f, int status, const char *rule, const char *fmt, ...)
{
    char text[1600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    char *m = NULL;
    if (asprintf(&m, "%s%s%s", SG_ECI_PREFIX, f->context, text) < 0)
        m = NULL;
    findings_push(f, (sg_finding){.status = status, .rule = (char *)rule, .message = m,
                                  .text_at = strlen(SG_ECI_PREFIX) + strlen(f->context)});
}

void sg_findings_add_raw(sg_findings *f, int status, const char *rule, const char *message)
{
    findings_push(f, (sg_finding){.status = status, .rule = (char *)rule,
                                  .message = strdup(message), .raw = true});
}

bool sg_findings_refuse(const sg_findings *f)
{
    return f->n > 0 || f->dropped > 0 || f->lost;
}

const char *sg_finding_text(const sg_finding *f)
{
    return f->message + f->text_at;
}

void sg_findings_free(sg_findings *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->items[i].rule);
        free(f->items[i].message);
    }
    f->n = 0;
    f->dropped = 0;
    f->lost = false;
}

/* ---- edits ------------------------------------------------------------- */

static sg_edit *edits_new(sg_edits *e)
{
    if (e->n == e->cap) {
        size_t ncap = e->cap ? e->cap * 2 : 8;
        sg_edit *v = realloc(e->items, ncap * sizeof *v);
        if (!v)
            return NULL;
        e->items = v;
        e->cap = ncap;
    }
    sg_edit *x = &e->items[e->n];
    memset(x, 0, sizeof *x);
    return x;
}

static char *dup_or_null(const char *s, bool *failed)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *failed = true;
    return d;
}

static void edit_free(sg_edit *x)
{
    free(x->key);
    free(x->value);
    free(x->target);
    free(x->why);
}

int sg_edits_add(sg_edits *e, sg_edit_kind kind, json_t *obj, const char *key,
                 const char *value, const char *target, const char *why)
{
    sg_edit *x = edits_new(e);
    if (!x) {
        e->failed = true;
        return -1;
    }
    bool failed = false;
    x->kind = kind;
    x->obj = obj;
    x->key = dup_or_null(key, &failed);
    x->value = dup_or_null(value, &failed);
    x->target = dup_or_null(target, &failed);
    x->why = dup_or_null(why, &failed);
    if (failed) {
        edit_free(x);
        e->failed = true;
        return -1;
    }
    e->n++;
    return 0;
}

int sg_edits_add_mount_source(sg_edits *e, sg_mount *m, const char *path, const char *why)
{
    if (sg_edits_add(e, SG_EDIT_MOUNT_SOURCE, NULL, NULL, path, m->target, why) != 0)
        return -1;
    e->items[e->n - 1].mount = m;
    return 0;
}

int sg_edits_add_array_string(sg_edits *e, json_t *array, size_t index, const char *value,
                               const char *why)
{
    if (sg_edits_add(e, SG_EDIT_ARRAY_STRING, array, NULL, value, NULL, why) != 0)
        return -1;
    e->items[e->n - 1].index = index;
    return 0;
}

/* obj[from] becomes obj[to]; refused if obj already has `to` (the body
 * named one thing twice, in two spellings). */
static int edit_rename_key(json_t *obj, const char *from, const char *to)
{
    json_t *v = json_object_get(obj, from);
    if (!v || json_object_get(obj, to))
        return -1;
    json_incref(v);
    json_object_del(obj, from);
    return json_object_set_new(obj, to, v);
}

/* {"HostIp": ip, "HostPort": port} */
static json_t *port_binding(const char *ip, const char *port)
{
    return json_pack("{s:s,s:s}", "HostIp", ip, "HostPort", port ? port : "");
}

/* A binding's host address and port, as dockerd reads them. */
static void binding_of(json_t *b, const char **ip, const char **port)
{
    json_t *i = sg_gojson_get(b, "HostIp", NULL);
    json_t *p = sg_gojson_get(b, "HostPort", NULL);
    *ip = json_is_string(i) ? json_string_value(i) : "";
    *port = json_is_string(p) ? json_string_value(p) : "";
}

/* Append b to out unless out binds the same address and port already:
 * "-p 127.0.0.1::80 -p 80" would otherwise ask for 127.0.0.1 twice, which
 * Docker 28 refuses (it gives every binding of a port the same host port). */
static int append_binding(json_t *out, json_t *b)
{
    if (!b)
        return -1;
    const char *ip, *port;
    binding_of(b, &ip, &port);
    for (size_t i = 0; i < json_array_size(out); i++) {
        const char *oip, *oport;
        binding_of(json_array_get(out, i), &oip, &oport);
        if (strcmp(ip, oip) == 0 && strcmp(port, oport) == 0) {
            json_decref(b);
            return 0;
        }
    }
    return json_array_append_new(out, b);
}

/*
 * Every binding without a host IP in a PortBindings map becomes two, on
 * 127.0.0.1 and ::1, with the same host port: Docker's "no host IP" means
 * every address, which is what the setting is there to prevent. A binding
 * that is there already is not added twice.
 */
static int edit_ports_local(json_t *bindings)
{
    const char *port;
    json_t *list;
    json_object_foreach(bindings, port, list)
    {
        json_t *out = json_array();
        if (!out)
            return -1;
        int rc = 0;
        for (size_t i = 0; rc == 0 && i < json_array_size(list); i++) {
            json_t *b = json_array_get(list, i);
            const char *addr, *host_port;
            binding_of(b, &addr, &host_port);
            unsigned char a[16];
            if (inet_pton(AF_INET, addr, a) == 1 || inet_pton(AF_INET6, addr, a) == 1)
                rc = append_binding(out, json_incref(b));
            else
                rc = append_binding(out, port_binding("127.0.0.1", host_port)) ||
                     append_binding(out, port_binding("::1", host_port));
        }
        if (rc == 0 && json_array_size(list) == 0)
            rc = append_binding(out, port_binding("127.0.0.1", "")) ||
                 append_binding(out, port_binding("::1", ""));
        if (rc != 0 || json_object_set_new(bindings, port, out) != 0) {
            if (rc != 0)
                json_decref(out);
            return -1;
        }
    }
    return 0;
}

/* obj[key], as Go would find the key, made an empty object if absent or
 * null; NULL if it holds something else. */
static json_t *edit_object_at(json_t *obj, const char *key)
{
    const char *k = key;
    json_t *v = sg_gojson_get(obj, key, &k);
    if (json_is_object(v))
        return v;
    if (v && !json_is_null(v))
        return NULL; /* the rule refused such a body already */
    v = json_object();
    return v && json_object_set_new(obj, k, v) == 0 ? v : NULL;
}

/* obj's Labels gets label = value (Labels made if absent or null). */
static int edit_set_label(json_t *obj, const char *label, const char *value)
{
    json_t *labels = edit_object_at(obj, "Labels");
    return labels ? json_object_set_new(labels, label, json_string(value)) : -1;
}

static int edit_volume_label(json_t *mount, const char *label, const char *value)
{
    json_t *vo = edit_object_at(mount, "VolumeOptions");
    return vo ? edit_set_label(vo, label, value) : -1;
}

/* HostConfig (x->obj) Binds[index] (x->key: Binds as spelled),
 * "name:/target[:opts]", as a Mounts[] entry of type volume. */
static int edit_bind_to_mount(const sg_edit *x)
{
    json_t *hc = x->obj;
    const char *spec = json_string_value(json_array_get(json_object_get(hc, x->key), x->index));
    char name[256], target[4096], opts[64] = "";
    if (!spec || sscanf(spec, "%255[^:]:%4095[^:]:%63s", name, target, opts) < 2)
        return -1;
    const char *mk = "Mounts";
    json_t *mounts = sg_gojson_get(hc, "Mounts", &mk);
    if (mounts && !json_is_array(mounts) && !json_is_null(mounts))
        return -1;
    if (!json_is_array(mounts) &&
        (!(mounts = json_array()) || json_object_set_new(hc, mk, mounts) != 0))
        return -1;
    json_t *m = json_pack("{s:s,s:s,s:s,s:b,s:{s:b,s:{s:s}}}", "Type", "volume", "Source", name,
                          "Target", target, "ReadOnly", strstr(opts, "ro") != NULL,
                          "VolumeOptions", "NoCopy", strstr(opts, "nocopy") != NULL, "Labels",
                          x->target, x->value);
    return m ? json_array_append_new(mounts, m) : -1;
}

static int edit_apply(const sg_edit *x, json_t *body)
{
    switch (x->kind) {
    case SG_EDIT_MOUNT_SOURCE:
        return sg_mount_set_source(x->mount, x->value);
    case SG_EDIT_ADD_BIND:
        return sg_mounts_add_bind(body, x->value, x->target);
    case SG_EDIT_SET_STRING:
        return json_object_set_new(x->obj, x->key, json_string(x->value));
    case SG_EDIT_ARRAY_STRING:
        return json_array_set_new(x->obj, x->index, json_string(x->value));
    case SG_EDIT_RENAME_KEY:
        return edit_rename_key(x->obj, x->key, x->value);
    case SG_EDIT_SET_FALSE:
        return json_object_set_new(x->obj, x->key, json_false());
    case SG_EDIT_SET_LABEL:
        return edit_set_label(x->obj, x->target, x->value);
    case SG_EDIT_VOLUME_LABEL:
        return edit_volume_label(x->obj, x->target, x->value);
    case SG_EDIT_BIND_TO_MOUNT:
        return edit_bind_to_mount(x);
    case SG_EDIT_PORTS_LOCAL:
        return edit_ports_local(x->obj);
    case SG_EDIT_EXPOSE_LOCAL: {
        /* obj is the HostConfig; its PortBindings may not exist yet. */
        const char *key = "PortBindings";
        json_t *pb = sg_gojson_get(x->obj, "PortBindings", &key);
        if (!json_is_object(pb)) {
            pb = json_object();
            if (!pb || json_object_set_new(x->obj, key, pb) != 0)
                return -1;
        }
        json_t *list = json_pack("[oo]", port_binding("127.0.0.1", ""), port_binding("::1", ""));
        return list ? json_object_set_new(pb, x->target, list) : -1;
    }
    }
    return -1;
}

/* The Binds entries that became Mounts go last, highest index first, so
 * that no index another edit used has moved before it was used. */
static int edits_remove_converted_binds(const sg_edits *e)
{
    size_t last = SIZE_MAX; /* indices removed so far are all >= last */
    for (;;) {
        const sg_edit *hi = NULL;
        for (size_t i = 0; i < e->n; i++) {
            const sg_edit *x = &e->items[i];
            if (x->kind == SG_EDIT_BIND_TO_MOUNT && x->index < last && (!hi || x->index > hi->index))
                hi = x;
        }
        if (!hi)
            return 0;
        if (json_array_remove(json_object_get(hi->obj, hi->key), hi->index) != 0)
            return -1;
        last = hi->index;
    }
}

int sg_edits_apply(const sg_edits *e, json_t *body)
{
    if (e->failed)
        return -1;
    for (size_t i = 0; i < e->n; i++)
        if (edit_apply(&e->items[i], body) != 0)
            return -1;
    return edits_remove_converted_binds(e);
}

void sg_edits_free(sg_edits *e)
{
    for (size_t i = 0; i < e->n; i++)
        edit_free(&e->items[i]);
    free(e->items);
    memset(e, 0, sizeof *e);
}
