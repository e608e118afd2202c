/*
 * settings.c — admin-settings.json loader (see settings.h).
 *
 * Docker Desktop's file carries many unrelated settings; only the keys
 * sockgate enforces are read, and everything else is ignored on purpose so
 * that one file can be shared with Docker Desktop installs. The keys that
 * are read are validated strictly: a wrong type is an error, never a
 * default. Errors name the key path and its line, so that an administrator
 * can fix the file without guessing.
 */
#include "policy/settings.h"

#include "base/regfile.h"

#include <errno.h>
#include <grp.h>
#include <jansson.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Real files are a few KiB; the bound keeps a wrong path (a log, an image)
 * from being read whole on the event loop. */
#define SETTINGS_MAX_BYTES (4 * 1024 * 1024)

typedef struct {
    const char *name; /* file name for messages */
    const char *text; /* the file, for locating keys */
    size_t len;
    char *err;
    size_t errsz;
} settings_reader;

static sg_settings *settings_new(const char *source)
{
    sg_settings *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->refs = 1;
    s->allow_derived = true;
    s->source = source ? strdup(source) : NULL;
    return s;
}

sg_settings *sg_settings_default(void) { return settings_new(NULL); }

sg_settings *sg_settings_ref(sg_settings *s)
{
    s->refs++;
    return s;
}

static void command_list_free(sg_command_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->names[i]);
    free(l->names);
}

void sg_settings_unref(sg_settings *s)
{
    if (!s || --s->refs > 0)
        return;
    for (size_t i = 0; i < s->n_images; i++)
        free(s->images[i].text);
    free(s->images);
    command_list_free(&s->commands);
    for (size_t i = 0; i < s->n_image_policies; i++) {
        free(s->image_policies[i].pattern);
        command_list_free(&s->image_policies[i].commands);
        sg_settings_unref(s->image_policies[i].match);
    }
    free(s->image_policies);
    for (size_t i = 0; i < s->n_shares; i++)
        free(s->shares[i].path);
    free(s->shares);
    json_decref(s->exempt_written);
    free(s->source);
    free(s);
}

/*
 * jansson does not keep positions, so find the line of a key path in the
 * text: each key of the dotted path is searched as "key" followed by ':'
 * after the previous one. Good enough to point at the right line of a
 * hand-written file; 0 when not found.
 */
static int settings_line_of(const settings_reader *r, const char *keypath)
{
    const char *pos = r->text, *end = r->text + r->len;
    char key[128];
    const char *p = keypath;
    const char *found = NULL;
    while (*p) {
        size_t n = strcspn(p, ".[");
        if (n == 0 || n >= sizeof key - 2)
            break;
        snprintf(key, sizeof key, "\"%.*s\"", (int)n, p);
        const char *hit = memmem(pos, (size_t)(end - pos), key, strlen(key));
        if (!hit)
            break;
        found = hit;
        pos = hit + strlen(key);
        p += n;
        while (*p == '.' || *p == '[' || *p == ']' || (*p >= '0' && *p <= '9'))
            p++;
    }
    if (!found)
        return 0;
    int line = 1;
    for (const char *q = r->text; q < found; q++)
        line += *q == '\n';
    return line;
}

__attribute__((format(printf, 3, 4)))
static bool settings_fail(const settings_reader *r, const char *keypath,
                          const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    int line = settings_line_of(r, keypath);
    if (line > 0)
        snprintf(r->err, r->errsz, "%s: line %d: %s: %s", r->name, line, keypath, what);
    else
        snprintf(r->err, r->errsz, "%s: %s: %s", r->name, keypath, what);
    return false;
}

static bool settings_bool(const settings_reader *r, json_t *obj, const char *key,
                          const char *keypath, bool *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return true;
    if (!json_is_boolean(v))
        return settings_fail(r, keypath, "must be true or false");
    *out = json_is_true(v);
    return true;
}

static bool settings_object(const settings_reader *r, json_t *obj, const char *key,
                            const char *keypath, json_t **out)
{
    *out = json_object_get(obj, key);
    if (*out && !json_is_object(*out))
        return settings_fail(r, keypath, "must be an object");
    return true;
}

static bool settings_image_entry(const settings_reader *r, const char *kp, const char *text,
                                 sg_image_entry *e);

static bool settings_images(const settings_reader *r, json_t *list, sg_settings *s)
{
    const char *kp = "enhancedContainerIsolation.dockerSocketMount.imageList.images";
    if (!json_is_array(list))
        return settings_fail(r, kp, "must be an array of image names");
    s->images = calloc(json_array_size(list) + 1, sizeof *s->images);
    if (!s->images)
        return settings_fail(r, kp, "out of memory");
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        if (!json_is_string(v))
            return settings_fail(r, kp, "entry %zu must be a string", i + 1);
        char ekp[128];
        snprintf(ekp, sizeof ekp, "%s[%zu]", kp, i);
        if (!settings_image_entry(r, ekp, json_string_value(v), &s->images[s->n_images++]))
            return false;
    }
    return true;
}

/* commandList.type; absent means "deny", Docker Desktop's default. kp is
 * the list's key path ("….commandList"), for messages. */
static bool settings_command_type(const settings_reader *r, json_t *type, const char *kp,
                                  sg_command_list *l)
{
    char tkp[256];
    snprintf(tkp, sizeof tkp, "%s.type", kp);
    const char *t = type ? json_string_value(type) : "deny";
    if (!t)
        return settings_fail(r, tkp, "must be \"allow\" or \"deny\"");
    if (strcmp(t, "allow") == 0)
        l->type = SG_COMMANDS_ALLOW;
    else if (strcmp(t, "deny") == 0)
        l->type = SG_COMMANDS_DENY;
    else
        return settings_fail(r, tkp, "must be \"allow\" or \"deny\", not \"%s\"", t);
    return true;
}

/* One commandList name: unknown is an error, unsupported a warning. */
static bool settings_command_name(const settings_reader *r, const char *name, const char *kp,
                                  sg_command_list *l, sg_settings *s)
{
    sg_name_kind kind = sg_commands_classify(name, NULL);
    if (kind == SG_NAME_UNKNOWN)
        return settings_fail(r, kp, "unknown command \"%s\" (see `sockgate explain --commands`)",
                             name);
    if (kind == SG_NAME_UNSUPPORTED) {
        size_t used = strlen(s->warnings);
        snprintf(s->warnings + used, sizeof s->warnings - used,
                 "%s%s: commandList: \"%s\" is not supported in a command list and is "
                 "ignored", used ? "\n" : "", r->name, name);
    }
    if (!(l->names[l->n] = strdup(name)))
        return settings_fail(r, kp, "out of memory");
    l->n++;
    return true;
}

/* A commandList object at key path kp into l (the global one, or an image
 * policy's). */
static bool settings_command_list(const settings_reader *r, json_t *cl, const char *kp,
                                  sg_command_list *l, sg_settings *s)
{
    char ckp[256];
    snprintf(ckp, sizeof ckp, "%s.commands", kp);
    if (!settings_command_type(r, json_object_get(cl, "type"), kp, l))
        return false;
    json_t *list = json_object_get(cl, "commands");
    if (list && !json_is_array(list))
        return settings_fail(r, ckp, "must be an array of command names");
    l->names = calloc(json_array_size(list) + 1, sizeof *l->names);
    if (!l->names)
        return settings_fail(r, ckp, "out of memory");
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        if (!json_is_string(v))
            return settings_fail(r, ckp, "entry %zu must be a string", i + 1);
        if (!settings_command_name(r, json_string_value(v), ckp, l, s))
            return false;
    }
    sg_commands_compile(&l->compiled, l->type == SG_COMMANDS_DENY, l->names, l->n);
    return true;
}

static bool settings_socket_mount(const settings_reader *r, json_t *dsm, sg_settings *s)
{
    json_t *il, *cl;
    if (!settings_object(r, dsm, "imageList",
                         "enhancedContainerIsolation.dockerSocketMount.imageList", &il) ||
        !settings_object(r, dsm, "commandList",
                         "enhancedContainerIsolation.dockerSocketMount.commandList", &cl))
        return false;
    if (il) {
        json_t *images = json_object_get(il, "images");
        if (images && !settings_images(r, images, s))
            return false;
        if (!settings_bool(r, il, "allowDerivedImages",
                           "enhancedContainerIsolation.dockerSocketMount.imageList.allowDerivedImages",
                           &s->allow_derived))
            return false;
    }
    return !cl || settings_command_list(r, cl, "enhancedContainerIsolation.dockerSocketMount."
                                               "commandList", &s->commands, s);
}

static bool settings_eci(const settings_reader *r, json_t *eci, sg_settings *s)
{
    json_t *dsm;
    if (!settings_bool(r, eci, "value", "enhancedContainerIsolation.value", &s->eci_enabled) ||
        !settings_bool(r, eci, "locked", "enhancedContainerIsolation.locked", &s->locked) ||
        !settings_object(r, eci, "dockerSocketMount",
                         "enhancedContainerIsolation.dockerSocketMount", &dsm))
        return false;
    /* value:true without dockerSocketMount: no image may mount the socket. */
    return !dsm || settings_socket_mount(r, dsm, s);
}

/* ---- Docker Desktop settings beside enhancedContainerIsolation ----------- */

/*
 * Settings Management writes most keys as {"locked": …, "value": …}; a bare
 * value is taken too. NULL when the key is absent.
 */
static bool settings_value(const settings_reader *r, json_t *root, const char *key,
                           json_t **out)
{
    json_t *v = json_object_get(root, key);
    *out = NULL;
    if (!v)
        return true;
    if (json_is_object(v)) {
        json_t *locked = json_object_get(v, "locked");
        if (locked && !json_is_boolean(locked)) {
            char kp[128];
            snprintf(kp, sizeof kp, "%s.locked", key);
            return settings_fail(r, kp, "must be true or false");
        }
        v = json_object_get(v, "value");
        if (!v) {
            char kp[128];
            snprintf(kp, sizeof kp, "%s.value", key);
            return settings_fail(r, kp, "is missing");
        }
    }
    *out = v;
    return true;
}

static bool settings_ports(const settings_reader *r, json_t *root, sg_settings *s)
{
    json_t *v;
    if (!settings_value(r, root, "portBindingBehavior", &v))
        return false;
    if (!v)
        return true;
    const char *t = json_string_value(v);
    if (t && strcmp(t, "default-port-binding") == 0)
        s->ports = SG_PORTS_DEFAULT;
    else if (t && strcmp(t, "default-local-port-binding") == 0)
        s->ports = SG_PORTS_DEFAULT_LOCAL;
    else if (t && strcmp(t, "local-only-port-binding") == 0)
        s->ports = SG_PORTS_LOCAL_ONLY;
    else
        return settings_fail(r, "portBindingBehavior",
                             "must be \"default-port-binding\", \"default-local-port-binding\" "
                             "or \"local-only-port-binding\"");
    return true;
}

static bool settings_block_load(const settings_reader *r, json_t *root, sg_settings *s)
{
    json_t *v;
    if (!settings_value(r, root, "blockDockerLoad", &v))
        return false;
    if (!v)
        return true;
    if (!json_is_boolean(v))
        return settings_fail(r, "blockDockerLoad", "must be true or false");
    s->block_load = json_is_true(v);
    return true;
}

/* "$HOME", "$TMP", "$TEMP" or an absolute path. */
static bool settings_share_path(const char *p)
{
    return strcmp(p, "$HOME") == 0 || strcmp(p, "$TMP") == 0 || strcmp(p, "$TEMP") == 0 ||
           p[0] == '/';
}

static bool settings_shares(const settings_reader *r, json_t *root, sg_settings *s)
{
    const char *kp = "filesharingAllowedDirectories";
    json_t *list;
    if (!settings_value(r, root, kp, &list))
        return false;
    if (!list)
        return true;
    if (!json_is_array(list))
        return settings_fail(r, kp, "must be an array of {\"path\": …, \"sharedByDefault\": …}");
    s->shares_set = true;
    s->shares = calloc(json_array_size(list) + 1, sizeof *s->shares);
    if (!s->shares)
        return settings_fail(r, kp, "out of memory");
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        json_t *path = json_object_get(e, "path");
        json_t *dflt = json_object_get(e, "sharedByDefault");
        if (!json_is_object(e) || !json_is_string(path))
            return settings_fail(r, kp, "entry %zu must be an object with a \"path\" string",
                                 i + 1);
        if (dflt && !json_is_boolean(dflt))
            return settings_fail(r, kp, "entry %zu: sharedByDefault must be true or false",
                                 i + 1);
        const char *p = json_string_value(path);
        if (!settings_share_path(p) || strlen(p) != json_string_length(path))
            return settings_fail(r, kp,
                                 "entry %zu: path \"%s\" must be absolute, or $HOME, $TMP or "
                                 "$TEMP",
                                 i + 1, p);
        sg_share_entry *se = &s->shares[s->n_shares++];
        se->path = strdup(p);
        se->shared_by_default = json_is_true(dflt);
        if (!se->path)
            return settings_fail(r, kp, "out of memory");
    }
    return true;
}

/* A user or group of sockgate.exemptFromIsolation: a name or a number. */
static bool settings_exempt_id(const settings_reader *r, json_t *v, bool group, size_t i,
                               sg_settings *s)
{
    const char *kp = group ? "sockgate.exemptFromIsolation.groups"
                           : "sockgate.exemptFromIsolation.users";
    long long id = -1;
    if (json_is_integer(v)) {
        id = json_integer_value(v);
    } else if (json_is_string(v) && group) {
        struct group *g = getgrnam(json_string_value(v));
        id = g ? (long long)g->gr_gid : -1;
    } else if (json_is_string(v)) {
        struct passwd *pw = getpwnam(json_string_value(v));
        id = pw ? (long long)pw->pw_uid : -1;
    } else {
        return settings_fail(r, kp, "entry %zu must be a name or a number", i + 1);
    }
    if (id < 0 || id > 0x7fffffffLL)
        return settings_fail(r, kp, "entry %zu: no such %s \"%s\"", i + 1,
                             group ? "group" : "user",
                             json_is_string(v) ? json_string_value(v) : "(number)");
    if (group)
        s->exempt_gids[s->n_exempt_gids++] = (gid_t)id;
    else
        s->exempt_uids[s->n_exempt_uids++] = (uid_t)id;
    return true;
}

static bool settings_exempt_list(const settings_reader *r, json_t *ex, bool group,
                                 sg_settings *s)
{
    const char *name = group ? "groups" : "users";
    char kp[64];
    snprintf(kp, sizeof kp, "sockgate.exemptFromIsolation.%s", name);
    json_t *list = json_object_get(ex, name);
    if (!list)
        return true;
    if (!json_is_array(list))
        return settings_fail(r, kp, "must be an array of names or numbers");
    if (json_array_size(list) > SG_MAX_EXEMPT)
        return settings_fail(r, kp, "more than %d entries", SG_MAX_EXEMPT);
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        if (!settings_exempt_id(r, v, group, i, s))
            return false;
    }
    return true;
}

/* How specific an image pattern is: a digest, a tag, "name:*", a
 * repository wildcard, "*". The most specific pattern that matches wins. */
static int image_pattern_specificity(const sg_image_entry *e)
{
    if (e->everyone)
        return 0;
    if (e->ref.path_is_wildcard)
        return 1;
    if (e->ref.tag_is_wildcard)
        return 2;
    return e->ref.digest[0] ? 4 : 3;
}

/* An image pattern with the imageList's syntax into e. */
static bool settings_image_entry(const settings_reader *r, const char *kp, const char *text,
                                 sg_image_entry *e)
{
    if (!(e->text = strdup(text)))
        return settings_fail(r, kp, "out of memory");
    if (strcmp(text, "*") == 0) {
        e->everyone = true;
        return true;
    }
    const char *why = NULL;
    if (sg_image_ref_parse(text, SG_REF_DEFAULT_TAG | SG_REF_ALLOW_WILDCARD, &e->ref, &why) != 0)
        return settings_fail(r, kp, "\"%s\" is not a valid image reference: %s", text,
                             why ? why : "invalid");
    return true;
}

/* "all" (the default) or "own". */
static bool settings_scope(const settings_reader *r, json_t *v, const char *kp, sg_scope *out)
{
    const char *t = v ? json_string_value(v) : "all";
    if (t && strcmp(t, "all") == 0)
        *out = SG_SCOPE_ALL;
    else if (t && strcmp(t, "own") == 0)
        *out = SG_SCOPE_OWN;
    else
        return settings_fail(r, kp, "must be \"all\" or \"own\"");
    return true;
}

/* One sockgate.imagePolicies entry: its pattern, which is also a one-entry
 * image list (match) for the registry proof, its commandList and scope. */
static bool settings_image_policy(const settings_reader *r, const char *pattern, json_t *v,
                                  sg_image_policy *p, sg_settings *s)
{
    char kp[700];
    snprintf(kp, sizeof kp, "sockgate.imagePolicies.%s", pattern);
    if (!json_is_object(v))
        return settings_fail(r, kp, "must be an object with \"commandList\" and/or \"scope\"");
    const char *key;
    json_t *x;
    json_object_foreach(v, key, x)
    {
        if (strcmp(key, "commandList") != 0 && strcmp(key, "scope") != 0)
            return settings_fail(r, kp, "unknown key \"%s\" (known: commandList, scope)", key);
    }
    if (!(p->pattern = strdup(pattern)) || !(p->match = settings_new(NULL)) ||
        !(p->match->images = calloc(1, sizeof *p->match->images)))
        return settings_fail(r, kp, "out of memory");
    p->match->n_images = 1;
    p->match->allow_derived = s->allow_derived;
    if (!settings_image_entry(r, kp, pattern, &p->match->images[0]))
        return false;
    p->specificity = image_pattern_specificity(&p->match->images[0]);
    char skp[720];
    snprintf(skp, sizeof skp, "%s.scope", kp);
    if (!settings_scope(r, json_object_get(v, "scope"), skp, &p->scope))
        return false;
    json_t *cl;
    snprintf(skp, sizeof skp, "%s.commandList", kp);
    if (!settings_object(r, v, "commandList", skp, &cl))
        return false;
    return !cl || settings_command_list(r, cl, skp, &p->commands, s);
}

/* Most specific first; among equals, the file's order (a stable sort). */
static void image_policies_sort(sg_image_policy *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        sg_image_policy p = v[i];
        size_t j = i;
        for (; j > 0 && v[j - 1].specificity < p.specificity; j--)
            v[j] = v[j - 1];
        v[j] = p;
    }
}

static bool settings_image_policies(const settings_reader *r, json_t *ip, sg_settings *s)
{
    if (!json_is_object(ip))
        return settings_fail(r, "sockgate.imagePolicies",
                             "must be an object of image patterns");
    s->image_policies = calloc(json_object_size(ip) + 1, sizeof *s->image_policies);
    if (!s->image_policies)
        return settings_fail(r, "sockgate.imagePolicies", "out of memory");
    const char *key;
    json_t *v;
    json_object_foreach(ip, key, v)
    {
        if (!settings_image_policy(r, key, v, &s->image_policies[s->n_image_policies++], s))
            return false;
    }
    image_policies_sort(s->image_policies, s->n_image_policies);
    return true;
}

/* sockgate's own key: what Docker Desktop's format has no word for. */
static bool settings_sockgate(const settings_reader *r, json_t *root, sg_settings *s)
{
    json_t *sg;
    if (!settings_object(r, root, "sockgate", "sockgate", &sg))
        return false;
    if (!sg)
        return true;
    const char *key;
    json_t *v;
    json_object_foreach(sg, key, v)
    {
        if (strcmp(key, "exemptFromIsolation") != 0 && strcmp(key, "allowUrlFetches") != 0 &&
            strcmp(key, "imagePolicies") != 0 && strcmp(key, "publicSocketScope") != 0)
            return settings_fail(r, "sockgate",
                                 "unknown key \"%s\" (known: exemptFromIsolation, "
                                 "allowUrlFetches, imagePolicies, publicSocketScope)",
                                 key);
    }
    json_t *fetches = json_object_get(sg, "allowUrlFetches");
    if (fetches && !json_is_boolean(fetches))
        return settings_fail(r, "sockgate.allowUrlFetches", "must be true or false");
    s->allow_url_fetches = json_is_true(fetches);
    json_t *ip = json_object_get(sg, "imagePolicies");
    if (ip && !settings_image_policies(r, ip, s))
        return false;
    json_t *ps = json_object_get(sg, "publicSocketScope");
    if (!settings_scope(r, ps, "sockgate.publicSocketScope", &s->public_scope))
        return false;
    /* Once either is written, what is created is marked with its tenant. */
    s->tenants = ip != NULL || ps != NULL;
    json_t *ex;
    if (!settings_object(r, sg, "exemptFromIsolation", "sockgate.exemptFromIsolation", &ex))
        return false;
    if (!ex)
        return true;
    json_object_foreach(ex, key, v)
    {
        if (strcmp(key, "users") != 0 && strcmp(key, "groups") != 0)
            return settings_fail(r, "sockgate.exemptFromIsolation",
                                 "unknown key \"%s\" (known: users, groups)", key);
    }
    s->exempt_written = json_incref(ex);
    return settings_exempt_list(r, ex, false, s) && settings_exempt_list(r, ex, true, s);
}

static bool settings_root(const settings_reader *r, json_t *root, sg_settings *s)
{
    if (!json_is_object(root))
        return settings_fail(r, "(top level)", "must be a JSON object");
    json_t *version = json_object_get(root, "configurationFileVersion");
    if (version && !json_is_integer(version))
        return settings_fail(r, "configurationFileVersion", "must be a number");
    if (version && json_integer_value(version) != 2 && json_integer_value(version) != 1)
        return settings_fail(r, "configurationFileVersion", "must be 2 (or 1), not %lld",
                             (long long)json_integer_value(version));
    json_t *eci;
    if (!settings_object(r, root, "enhancedContainerIsolation", "enhancedContainerIsolation",
                         &eci))
        return false;
    if (eci && !settings_eci(r, eci, s))
        return false;
    return settings_shares(r, root, s) && settings_ports(r, root, s) &&
           settings_block_load(r, root, s) && settings_sockgate(r, root, s);
}

sg_settings *sg_settings_parse(const char *text, size_t len, const char *name,
                               char *err, size_t errsz)
{
    settings_reader r = {.name = name, .text = text, .len = len, .err = err, .errsz = errsz};
    json_error_t jerr;
    /* Duplicate keys make the administrator's intent ambiguous. */
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(err, errsz, "%s: line %d column %d: %s", name, jerr.line, jerr.column,
                 jerr.text);
        return NULL;
    }
    sg_settings *s = settings_new(name);
    bool ok = s && settings_root(&r, root, s);
    json_decref(root);
    if (!ok) {
        sg_settings_unref(s);
        return NULL;
    }
    return s;
}

sg_settings *sg_settings_load(const char *path, char *err, size_t errsz)
{
    /* Read without blocking: a FIFO or a device at the path is refused at
     * once instead of holding the event loop (see base/regfile.h). */
    size_t len = 0;
    char *text = sg_regfile_read(path, SETTINGS_MAX_BYTES, &len, err, errsz);
    if (!text)
        return NULL;
    sg_settings *s = sg_settings_parse(text, len, path, err, errsz);
    free(text);
    return s;
}

const char *sg_port_behavior_name(sg_port_behavior b)
{
    switch (b) {
    case SG_PORTS_DEFAULT_LOCAL: return "default-local-port-binding";
    case SG_PORTS_LOCAL_ONLY: return "local-only-port-binding";
    case SG_PORTS_DEFAULT: break;
    }
    return "default-port-binding";
}

const char *sg_commands_type_name(sg_commands_type t)
{
    return t == SG_COMMANDS_NONE ? "none" : t == SG_COMMANDS_ALLOW ? "allow" : "deny";
}

/* A commandList's names as written, as a JSON array. */
static json_t *command_names(const sg_command_list *l)
{
    json_t *names = json_array();
    for (size_t i = 0; i < l->n; i++)
        json_array_append_new(names, json_string(l->names[i]));
    return names;
}

static json_t *settings_describe_base(const sg_settings *p)
{
    json_t *images = json_array(), *commands = command_names(&p->commands),
           *shares = json_array();
    for (size_t i = 0; i < p->n_images; i++)
        json_array_append_new(images, json_string(p->images[i].text));
    for (size_t i = 0; i < p->n_shares; i++)
        json_array_append_new(shares, json_string(p->shares[i].path));
    if (!p->shares_set)
        json_array_append_new(shares, json_string("$HOME"));
    json_t *exempt = p->exempt_written ? json_deep_copy(p->exempt_written) : json_object();
    return json_pack("{s:s,s:b,s:b,s:o,s:b,s:s,s:o,s:o,s:o,s:b,s:s,s:b}", "source",
                     p->source ? p->source : "(none: no policy)", "eci", p->eci_enabled,
                     "locked", p->locked, "images", images, "allowDerivedImages",
                     p->allow_derived, "commandList", sg_commands_type_name(p->commands.type),
                     "commands", commands, "filesharingAllowedDirectories", shares,
                     "exemptFromIsolation", exempt, "allowUrlFetches", p->allow_url_fetches,
                     "portBindingBehavior",
                     sg_port_behavior_name(p->ports), "blockDockerLoad", p->block_load);
}

static json_t *command_list_describe(const sg_command_list *l)
{
    return json_pack("{s:s,s:o}", "type", sg_commands_type_name(l->type), "commands",
                     command_names(l));
}

/* sockgate.imagePolicies as they apply: most specific first. */
static json_t *image_policies_describe(const sg_settings *p)
{
    json_t *out = json_array();
    for (size_t i = 0; i < p->n_image_policies; i++) {
        const sg_image_policy *ip = &p->image_policies[i];
        json_t *o = json_pack("{s:s,s:s}", "image", ip->pattern, "scope",
                              sg_scope_name(ip->scope));
        if (ip->commands.type != SG_COMMANDS_NONE)
            json_object_set_new(o, "commandList", command_list_describe(&ip->commands));
        json_array_append_new(out, o);
    }
    return out;
}

const char *sg_scope_name(sg_scope scope) { return scope == SG_SCOPE_OWN ? "own" : "all"; }

json_t *sg_settings_describe(const sg_settings *p)
{
    json_t *d = settings_describe_base(p);
    if (d && p->tenants) {
        json_object_set_new(d, "imagePolicies", image_policies_describe(p));
        json_object_set_new(d, "publicSocketScope", json_string(sg_scope_name(p->public_scope)));
    }
    return d;
}
