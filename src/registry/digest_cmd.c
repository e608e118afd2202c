/*
 * digest_cmd.c — `sockgate digest [options] IMAGE`: parses the registry
 * options, normalises IMAGE like Docker does and prints the digest the
 * registry serves for it, or one line saying why not.
 */
#include "registry/digest_cmd.h"

#include "policy/image_ref.h"
#include "registry/registry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void dg_usage(FILE *to)
{
    fprintf(to,
            "usage: sockgate digest [--registry-endpoint NAME=URL]... "
            "[--insecure-registry NAME]...\n"
            "                       [--registry-config FILE] [--connect-timeout-ms N] "
            "[--timeout-ms N] IMAGE\n"
            "Prints the digest the registry serves for IMAGE (e.g. docker:cli).\n"
            "  --registry-endpoint NAME=URL  reach registry NAME at URL "
            "(e.g. docker.io=http://127.0.0.1:5000)\n"
            "  --insecure-registry NAME      allow plain HTTP to NAME\n"
            "  --registry-config FILE        Docker config.json with \"auths\" credentials\n"
            "  --connect-timeout-ms N        connect timeout (default 5000)\n"
            "  --timeout-ms N                total time limit (default 15000)\n");
}

/* "--opt VALUE" or "--opt=VALUE"; advances *i past what it used. */
static const char *dg_value(int argc, char **argv, int *i, const char *opt)
{
    size_t n = strlen(opt);
    const char *a = argv[*i];
    if (strncmp(a, opt, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != '\0' || *i + 1 >= argc)
        return NULL;
    return argv[++*i];
}

static int dg_ms(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v <= 0 || v > 3600000)
        return -1;
    *out = v;
    return 0;
}

static int dg_bad(const char *what, const char *arg)
{
    fprintf(stderr, "sockgate digest: %s: %s\n", what, arg);
    dg_usage(stderr);
    return 2;
}

/* Fills cfg and *image from argv; 0, or an exit status (2) on misuse. */
static int dg_parse(int argc, char **argv, sg_registry_config *cfg, const char **image)
{
    *image = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v, *why;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            dg_usage(stdout);
            return -1;
        } else if ((v = dg_value(argc, argv, &i, "--registry-endpoint"))) {
            if (sg_registry_config_add_endpoint(cfg, v, &why) != 0)
                return dg_bad(why, v);
        } else if ((v = dg_value(argc, argv, &i, "--insecure-registry"))) {
            if (sg_registry_config_add_insecure(cfg, v) != 0)
                return dg_bad("invalid registry name", v);
        } else if ((v = dg_value(argc, argv, &i, "--registry-config"))) {
            free(cfg->auth_config_path);
            if (!(cfg->auth_config_path = strdup(v)))
                return dg_bad("out of memory", v);
        } else if ((v = dg_value(argc, argv, &i, "--connect-timeout-ms"))) {
            if (dg_ms(v, &cfg->connect_timeout_ms) != 0)
                return dg_bad("invalid --connect-timeout-ms", v);
        } else if ((v = dg_value(argc, argv, &i, "--timeout-ms"))) {
            if (dg_ms(v, &cfg->total_timeout_ms) != 0)
                return dg_bad("invalid --timeout-ms", v);
        } else if (a[0] == '-') {
            return dg_bad("unknown option or missing value", a);
        } else if (*image) {
            return dg_bad("more than one IMAGE", a);
        } else {
            *image = a;
        }
    }
    if (!*image) {
        dg_usage(stderr);
        return 2;
    }
    return 0;
}

static int dg_lookup(const sg_registry_config *cfg, const char *image)
{
    sg_image_ref ref;
    const char *why = NULL;
    if (sg_image_ref_parse(image, SG_REF_DEFAULT_TAG, &ref, &why) != 0) {
        fprintf(stderr, "sockgate digest: invalid image reference \"%s\": %s\n", image,
                why ? why : "invalid");
        return 1;
    }
    if (sg_registry_global_init() != 0) {
        fprintf(stderr, "sockgate digest: cannot initialise libcurl\n");
        return 1;
    }
    char digest[80], err[1024];
    const char *reference = ref.digest[0] ? ref.digest : ref.tag;
    sg_registry_status st = sg_registry_manifest_digest(cfg, ref.domain, ref.path, reference,
                                                        digest, err, sizeof err);
    sg_registry_global_cleanup();
    if (st != SG_REGISTRY_OK) {
        fprintf(stderr, "sockgate digest: %s: %s\n", sg_registry_status_name(st), err);
        return 1;
    }
    printf("%s\n", digest);
    return 0;
}

int sg_cmd_digest(int argc, char **argv)
{
    sg_registry_config cfg = {0};
    const char *image;
    int rc = dg_parse(argc, argv, &cfg, &image);
    if (rc == 0)
        rc = dg_lookup(&cfg, image);
    else if (rc < 0)
        rc = 0; /* --help */
    sg_registry_config_free(&cfg);
    return rc;
}
