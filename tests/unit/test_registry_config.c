/*
 * test_registry_config.c — the registry client's offline parts: endpoint
 * and insecure configuration, base URL rules, loopback and redirect policy,
 * the WWW-Authenticate parser, base64, config.json look-up, token answers
 * and the token cache. (The network parts: tests/registry.)
 */
#include "registry/auth.h"
#include "registry/registry.h"
#include "unit.h"

#include <stdlib.h>
#include <unistd.h>

static const char *base_of(const sg_registry_config *cfg, const char *name)
{
    static char out[512];
    if (sg_registry_base_url(cfg, name, out, sizeof out) != 0)
        return "(refused)";
    return out;
}

TEST(endpoints)
{
    sg_registry_config cfg = {0};
    const char *why = NULL;
    CHECK_INT(sg_registry_config_add_endpoint(&cfg, "docker.io=http://127.0.0.1:5000/", &why), 0);
    CHECK_INT(cfg.n_endpoints, 1);
    CHECK_STR(cfg.endpoints[0].base_url, "http://127.0.0.1:5000");
    CHECK_INT(sg_registry_config_add_endpoint(&cfg, "docker.io=https://mirror.example/v", &why), 0);
    CHECK_INT(cfg.n_endpoints, 1); /* replaced, not added */
    CHECK_STR(cfg.endpoints[0].base_url, "https://mirror.example/v");
    CHECK_INT(sg_registry_config_add_endpoint(&cfg, "ghcr.io=https://[::1]:8443", &why), 0);
    CHECK_INT(cfg.n_endpoints, 2);
    static const char *const bad[] = {
        "docker.io", "=http://x", "docker.io=", "docker.io=ftp://x", "docker.io=x",
        "docker.io=http://u:p@x", "docker.io=http://x/?q=1", "docker.io=http://x/#f",
        "bad/name=http://x", "a b=http://x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why = NULL;
        CHECK_INT(sg_registry_config_add_endpoint(&cfg, bad[i], &why), -1);
        CHECK(why != NULL);
    }
    CHECK_INT(cfg.n_endpoints, 2);
    CHECK_INT(sg_registry_config_add_insecure(&cfg, "reg.lan:5000"), 0);
    CHECK_INT(sg_registry_config_add_insecure(&cfg, "x/y"), -1);
    sg_registry_config_free(&cfg);
    CHECK_INT(cfg.n_endpoints, 0);
    CHECK(cfg.endpoints == NULL);
}

TEST(base_urls)
{
    sg_registry_config cfg = {0};
    const char *why;
    CHECK_STR(base_of(&cfg, "docker.io"), "https://registry-1.docker.io");
    CHECK_STR(base_of(&cfg, "ghcr.io"), "https://ghcr.io");
    CHECK_STR(base_of(&cfg, "localhost:5000"), "http://localhost:5000");
    CHECK_STR(base_of(&cfg, "127.0.0.1:5000"), "http://127.0.0.1:5000");
    CHECK_STR(base_of(&cfg, "127.9.9.9"), "http://127.9.9.9");
    CHECK_STR(base_of(&cfg, "[::1]:5000"), "http://[::1]:5000");
    CHECK_STR(base_of(&cfg, "reg.lan:5000"), "https://reg.lan:5000");
    CHECK_STR(base_of(&cfg, "evil.com/x@y"), "(refused)");
    CHECK_STR(base_of(&cfg, ""), "(refused)");
    CHECK_STR(base_of(NULL, "docker.io"), "https://registry-1.docker.io");

    CHECK_INT(sg_registry_config_add_endpoint(&cfg, "docker.io=http://127.0.0.1:5000", &why), 0);
    CHECK_INT(sg_registry_config_add_endpoint(&cfg, "reg.lan:5000=http://10.0.0.5:5000", &why), 0);
    CHECK_INT(sg_registry_config_add_endpoint(&cfg, "corp.io=https://10.0.0.6", &why), 0);
    CHECK_STR(base_of(&cfg, "docker.io"), "http://127.0.0.1:5000");
    CHECK_STR(base_of(&cfg, "DOCKER.IO"), "http://127.0.0.1:5000");
    CHECK_STR(base_of(&cfg, "corp.io"), "https://10.0.0.6");
    /* plain HTTP to a non-loopback host: only once the name is insecure */
    CHECK_STR(base_of(&cfg, "reg.lan:5000"), "(refused)");
    CHECK_INT(sg_registry_config_add_insecure(&cfg, "reg.lan:5000"), 0);
    CHECK_STR(base_of(&cfg, "reg.lan:5000"), "http://10.0.0.5:5000");
    CHECK_INT(sg_registry_config_add_insecure(&cfg, "other.lan"), 0);
    CHECK_STR(base_of(&cfg, "other.lan"), "http://other.lan");
    CHECK_STR(base_of(&cfg, "other.lan:8080"), "http://other.lan:8080");
    CHECK_STR(base_of(&cfg, "other.land"), "https://other.land");
    sg_registry_config_free(&cfg);
}

TEST(loopback)
{
    static const char *const yes[] = {"localhost", "LOCALHOST:5000", "127.0.0.1", "127.1.2.3:80",
                                      "[::1]", "[::1]:5000", "::1"};
    static const char *const no[] = {"localhost.evil.com", "128.0.0.1", "10.0.0.1:5000",
                                     "[::2]:5000", "0.0.0.0", "", "127.0.0.1.nip.io", "[::1"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        CHECK(sg_host_is_loopback(yes[i]));
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        CHECK(!sg_host_is_loopback(no[i]));
}

static bool insecure_lan(const char *host, void *arg)
{
    (void)arg;
    return strcmp(host, "reg.lan") == 0;
}

TEST(redirects)
{
    bool same = true;
    CHECK(sg_redirect_allowed("https://a.io/v2/x", "https://a.io/other", NULL, NULL, &same));
    CHECK(same);
    CHECK(sg_redirect_allowed("https://a.io/v2/x", "https://cdn.io/blob", NULL, NULL, &same));
    CHECK(!same);
    CHECK(sg_redirect_allowed("https://a.io/v2/x", "https://a.io:8443/x", NULL, NULL, &same));
    CHECK(!same);
    /* never https → http, not even to loopback */
    CHECK(!sg_redirect_allowed("https://a.io/", "http://a.io/", NULL, NULL, &same));
    CHECK(!sg_redirect_allowed("https://a.io/", "http://127.0.0.1/", NULL, NULL, &same));
    CHECK(sg_redirect_allowed("http://127.0.0.1:5000/", "http://localhost:6000/", NULL, NULL, &same));
    CHECK(!same);
    CHECK(sg_redirect_allowed("http://127.0.0.1:5000/", "https://cdn.io/", NULL, NULL, &same));
    CHECK(!sg_redirect_allowed("http://127.0.0.1:5000/", "http://cdn.io/", NULL, NULL, &same));
    CHECK(sg_redirect_allowed("http://127.0.0.1:5000/", "http://reg.lan/", insecure_lan, NULL, &same));
    CHECK(!sg_redirect_allowed("http://127.0.0.1/", "ftp://127.0.0.1/", NULL, NULL, &same));
    CHECK(!sg_redirect_allowed("http://127.0.0.1/", "file:///etc/passwd", NULL, NULL, &same));
    CHECK(!sg_redirect_allowed("http://127.0.0.1/", "not a url", NULL, NULL, &same));
}

static int chal(const char *s, sg_challenge *c)
{
    return sg_www_authenticate_parse(s, strlen(s), c);
}

TEST(www_authenticate_bearer)
{
    sg_challenge c;
    CHECK_INT(chal("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
                   "scope=\"repository:library/docker:pull\"", &c), 0);
    CHECK_INT(c.scheme, SG_CHAL_BEARER);
    CHECK_STR(c.realm, "https://auth.docker.io/token");
    CHECK_STR(c.service, "registry.docker.io");
    CHECK_STR(c.scope, "repository:library/docker:pull");
    /* case-insensitive names, token values, spaces, escapes, unknown params */
    CHECK_INT(chal("bearer  REALM = \"http://h/t?a=\\\"b\\\\\" , Service=reg,x-y=\"z\", "
                   "error=\"insufficient_scope\"", &c), 0);
    CHECK_STR(c.realm, "http://h/t?a=\"b\\");
    CHECK_STR(c.service, "reg");
    CHECK_STR(c.scope, "");
    CHECK_STR(c.error, "insufficient_scope");
    /* several challenges: Bearer preferred wherever it is */
    CHECK_INT(chal("Basic realm=\"r\", Bearer realm=\"https://t\",scope=\"s\"", &c), 0);
    CHECK_INT(c.scheme, SG_CHAL_BEARER);
    CHECK_STR(c.realm, "https://t");
    CHECK_STR(c.scope, "s");
    CHECK_INT(chal("Negotiate abc==, Bearer realm=\"https://t\"", &c), 0);
    CHECK_INT(c.scheme, SG_CHAL_BEARER);
    CHECK_INT(chal("Negotiate, Bearer realm=\"https://t\"", &c), 0);
    CHECK_INT(c.scheme, SG_CHAL_BEARER);
}

TEST(www_authenticate_basic_and_malformed)
{
    sg_challenge c;
    CHECK_INT(chal("Basic realm=\"Registry Realm\"", &c), 0);
    CHECK_INT(c.scheme, SG_CHAL_BASIC);
    CHECK_STR(c.realm, "Registry Realm");
    CHECK_INT(chal("Basic", &c), 0);
    CHECK_INT(c.scheme, SG_CHAL_BASIC);
    /* Bearer without realm is unusable: the Basic one is taken */
    CHECK_INT(chal("Bearer service=\"x\", Basic realm=\"b\"", &c), 0);
    CHECK_INT(c.scheme, SG_CHAL_BASIC);
    static const char *const bad[] = {
        "", "   ", "Bearer service=\"x\"", "Digest realm=\"x\"", "Bearer realm=\"unterminated",
        "Bearer realm=\"a\", realm=\"b\"", "Bearer realm=\"a\nb\"", "Bearer realm=",
        "Bearer realm=\"x\" junk", "Bearer realm=a b=c", "=x", "Bearer, realm=\"x\"",
        "Bearer realm=\"\\", "Bearer foo bar", "Bearer realm=\"x\",,scope=\"a\" \"b\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (chal(bad[i], &c) != -1)
            fprintf(stderr, "  accepted: [%s]\n", bad[i]);
        CHECK_INT(chal(bad[i], &c), -1);
    }
    /* a NUL byte inside is not text */
    CHECK_INT(sg_www_authenticate_parse("Bearer realm=\"a\0b\"", 18, &c), -1);
    /* a realm longer than the buffer is refused, not truncated */
    char longv[1200] = "Bearer realm=\"";
    memset(longv + 14, 'a', 1100);
    strcpy(longv + 1114, "\"");
    CHECK_INT(chal(longv, &c), -1);
}

TEST(base64)
{
    unsigned char out[64];
    CHECK_INT(sg_base64_decode("YWxpY2U6czNjcmV0", 16, out, sizeof out), 12);
    CHECK(memcmp(out, "alice:s3cret", 12) == 0);
    CHECK_INT(sg_base64_decode("YQ==", 4, out, sizeof out), 1);
    CHECK_INT(sg_base64_decode("YQ", 2, out, sizeof out), 1);
    CHECK_INT(sg_base64_decode("YWI=", 4, out, sizeof out), 2);
    CHECK_INT(sg_base64_decode("", 0, out, sizeof out), 0);
    CHECK_INT(sg_base64_decode("Y", 1, out, sizeof out), -1);
    CHECK_INT(sg_base64_decode("YR==", 4, out, sizeof out), -1); /* stray bits */
    CHECK_INT(sg_base64_decode("Y Q=", 4, out, sizeof out), -1);
    CHECK_INT(sg_base64_decode("YWxpY2U6czNjcmV0", 16, out, 11), -1);
    CHECK_INT(sg_base64_decode("+/+/", 4, out, sizeof out), 3);
    CHECK(out[0] == 0xfb && out[1] == 0xff && out[2] == 0xbf);
}

static char cfg_path[64];

static void write_cfg(const char *json)
{
    FILE *f = fopen(cfg_path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(json, f);
        fclose(f);
    }
}

static sg_cred_status lookup(const char *name, const char *want_user, const char *want_pass)
{
    char *u = NULL, *p = NULL, why[512] = "";
    sg_cred_status st = sg_auth_config_lookup(cfg_path, name, &u, &p, why, sizeof why);
    if (want_user) {
        CHECK_STR(u, want_user);
        CHECK_STR(p, want_pass);
    } else {
        CHECK(u == NULL && p == NULL);
    }
    if (st == SG_CRED_HELPER || st == SG_CRED_ERROR)
        CHECK(why[0] != '\0');
    free(u);
    free(p);
    return st;
}

TEST(config_json)
{
    snprintf(cfg_path, sizeof cfg_path, "/tmp/sg-test-config-%d.json", (int)getpid());
    /* alice:pw, bob:p:w (the password may hold ':'), carol:x */
    write_cfg("{\"auths\": {\"https://index.docker.io/v1/\": {\"auth\": \"YWxpY2U6cHc=\"},"
              "\"https://ghcr.io\": {\"auth\": \"Ym9iOnA6dw==\"},"
              "\"reg.lan:5000\": {\"username\": \"carol\", \"password\": \"x\"},"
              "\"empty.io\": {}}}");
    CHECK_INT(lookup("docker.io", "alice", "pw"), SG_CRED_FOUND);
    CHECK_INT(lookup("ghcr.io", "bob", "p:w"), SG_CRED_FOUND);
    CHECK_INT(lookup("reg.lan:5000", "carol", "x"), SG_CRED_FOUND);
    CHECK_INT(lookup("reg.lan", NULL, NULL), SG_CRED_NONE);
    CHECK_INT(lookup("empty.io", NULL, NULL), SG_CRED_NONE);
    CHECK_INT(lookup("quay.io", NULL, NULL), SG_CRED_NONE);
    write_cfg("{\"auths\": {\"docker.io\": {}}, \"credsStore\": \"desktop\"}");
    CHECK_INT(lookup("docker.io", NULL, NULL), SG_CRED_HELPER);
    write_cfg("{\"auths\": {\"ghcr.io\": {\"auth\": \"Ym9iOnA6dw==\"}},"
              "\"credHelpers\": {\"gcr.io\": \"gcloud\"}, \"credsStore\": \"\"}");
    CHECK_INT(lookup("gcr.io", NULL, NULL), SG_CRED_HELPER);
    CHECK_INT(lookup("ghcr.io", "bob", "p:w"), SG_CRED_FOUND);
    write_cfg("{\"auths\": {\"docker.io\": {\"auth\": \"bm9jb2xvbg==\"}}}"); /* "nocolon" */
    CHECK_INT(lookup("docker.io", NULL, NULL), SG_CRED_ERROR);
    write_cfg("{\"auths\": {\"docker.io\": {\"auth\": \"!!!\"}}}");
    CHECK_INT(lookup("docker.io", NULL, NULL), SG_CRED_ERROR);
    write_cfg("{\"auths\": ");
    CHECK_INT(lookup("docker.io", NULL, NULL), SG_CRED_ERROR);
    write_cfg("[]");
    CHECK_INT(lookup("docker.io", NULL, NULL), SG_CRED_ERROR);
    unlink(cfg_path);
    CHECK_INT(lookup("docker.io", NULL, NULL), SG_CRED_ERROR); /* missing file */
    char *u = NULL, *p = NULL, why[64];
    CHECK_INT(sg_auth_config_lookup(NULL, "docker.io", &u, &p, why, sizeof why), SG_CRED_NONE);
}

TEST(token_responses)
{
    char *tok = NULL;
    long ex = 0;
    const char *a = "{\"token\":\"abc.def\",\"expires_in\":300}";
    CHECK_INT(sg_token_response_parse(a, strlen(a), &tok, &ex), 0);
    CHECK_STR(tok, "abc.def");
    CHECK_INT(ex, 300);
    free(tok);
    const char *b = "{\"access_token\":\"xyz\"}";
    CHECK_INT(sg_token_response_parse(b, strlen(b), &tok, &ex), 0);
    CHECK_STR(tok, "xyz");
    CHECK_INT(ex, 60);
    free(tok);
    const char *c = "{\"token\":\"\",\"access_token\":\"y\",\"expires_in\":5}";
    CHECK_INT(sg_token_response_parse(c, strlen(c), &tok, &ex), 0);
    CHECK_STR(tok, "y");
    CHECK_INT(ex, 60);
    free(tok);
    static const char *const bad[] = {"{}", "[]", "{\"token\":5}", "not json",
                                      "{\"token\":\"a b\"}", "{\"token\":\"a\\r\\nX: y\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tok = NULL;
        CHECK_INT(sg_token_response_parse(bad[i], strlen(bad[i]), &tok, &ex), -1);
        CHECK(tok == NULL);
    }
}

TEST(token_cache)
{
    sg_token_cache_clear();
    CHECK(sg_token_cache_get("k1") == NULL);
    sg_token_cache_put("k1", "t1", 300);
    sg_token_cache_put("k2", "t2", 300);
    sg_token_cache_put("k1", "t1b", 300); /* replaces */
    char *t = sg_token_cache_get("k1");
    CHECK_STR(t, "t1b");
    free(t);
    t = sg_token_cache_get("k2");
    CHECK_STR(t, "t2");
    free(t);
    sg_token_cache_drop("k2");
    CHECK(sg_token_cache_get("k2") == NULL);
    /* a token this short-lived is already past its safety margin */
    sg_token_cache_put("k3", "t3", 1);
    CHECK(sg_token_cache_get("k3") == NULL);
    /* bounded: many keys never grow it without limit, and it still works */
    char key[32];
    for (int i = 0; i < 600; i++) {
        snprintf(key, sizeof key, "many-%d", i);
        sg_token_cache_put(key, "x", 300);
    }
    t = sg_token_cache_get("many-599");
    CHECK_STR(t, "x");
    free(t);
    sg_token_cache_clear();
    CHECK(sg_token_cache_get("k1") == NULL);
}

TEST(manifest_digest_refuses_bad_input_offline)
{
    char d[80], err[256];
    static const char *const paths[] = {"", "/x", "x/", "a//b", "A/b", "a/../b", "a/./b",
                                        "./a", "a/.", "-a/b", "a_/b", "a b", "a?b", "a%2fb"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        CHECK_INT(sg_registry_manifest_digest(NULL, "127.0.0.1:1", paths[i], "latest", d, err,
                                              sizeof err), SG_REGISTRY_ERROR);
        CHECK(err[0] != '\0' && d[0] == '\0');
    }
    static const char *const refs[] = {"", "-x", "a/b", "sha256:abc", "md5:00", "a?b", "a#b"};
    for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++)
        CHECK_INT(sg_registry_manifest_digest(NULL, "127.0.0.1:1", "a/b", refs[i], d, err,
                                              sizeof err), SG_REGISTRY_ERROR);
    sg_registry_config cfg = {0};
    const char *why;
    CHECK_INT(sg_registry_config_add_endpoint(&cfg, "docker.io=http://192.0.2.1", &why), 0);
    CHECK_INT(sg_registry_manifest_digest(&cfg, "docker.io", "library/x", "1", d, err, sizeof err),
              SG_REGISTRY_ERROR);
    CHECK(strstr(err, "plain HTTP") != NULL);
    sg_registry_config_free(&cfg);
    CHECK_STR(sg_registry_status_name(SG_REGISTRY_NOT_FOUND), "NOT_FOUND");
    CHECK_STR(sg_registry_status_name(SG_REGISTRY_UNREACHABLE), "UNREACHABLE");
    CHECK_STR(sg_registry_status_name(SG_REGISTRY_UNAUTHORIZED), "UNAUTHORIZED");
}

int main(void)
{
    if (sg_registry_global_init() != 0)
        return 1;
    RUN(endpoints);
    RUN(base_urls);
    RUN(loopback);
    RUN(redirects);
    RUN(www_authenticate_bearer);
    RUN(www_authenticate_basic_and_malformed);
    RUN(base64);
    RUN(config_json);
    RUN(token_responses);
    RUN(token_cache);
    RUN(manifest_digest_refuses_bad_input_offline);
    sg_registry_global_cleanup();
    return UNIT_DONE();
}
