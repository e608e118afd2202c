/*
 * test_image_ref.c — unit tests for policy/image_ref: normalisation like
 * distribution/reference's ParseNormalizedNamed, sockgate's flags
 * (default tag, ":*" wildcard), the printed forms and the error cases.
 *
 * Expected values were cross-checked against the Go package itself
 * (ParseNormalizedNamed / FamiliarString), not derived from this code.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "policy/image_ref.h"
#include "unit.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DIGEST "sha256:" HEX64

static sg_image_ref r;
static const char *why;
static char buf[SG_REF_MAX];

static int parse(const char *s, int flags)
{
    why = NULL;
    return sg_image_ref_parse(s, flags, &r, &why);
}

/* Parses s and checks every field of the result. */
static void expect(const char *s, int flags, const char *domain, const char *path,
                   const char *tag, const char *digest)
{
    int rc = parse(s, flags);
    CHECK_INT(rc, 0);
    if (rc != 0) {
        fprintf(stderr, "  parsing \"%s\": %s\n", s, why ? why : "(no reason)");
        return;
    }
    CHECK_STR(r.domain, domain);
    CHECK_STR(r.path, path);
    CHECK_STR(r.tag, tag);
    CHECK_STR(r.digest, digest);
}

/* Parsing s must fail with a reason and leave *out zeroed. */
static void expect_error(const char *s, int flags)
{
    memset(&r, 0x5a, sizeof(r));
    int rc = parse(s, flags);
    CHECK_INT(rc, -1);
    if (rc == 0)
        fprintf(stderr, "  \"%s\" parsed, expected an error\n", s);
    CHECK(why != NULL && why[0] != '\0');
    CHECK(r.domain[0] == '\0' && r.path[0] == '\0' && r.tag[0] == '\0');
    CHECK(!r.tag_is_wildcard);
}

static const char *full(void)
{
    sg_image_ref_string(&r, buf, sizeof(buf));
    return buf;
}

static const char *familiar(void)
{
    sg_image_ref_familiar(&r, buf, sizeof(buf));
    return buf;
}

static const char *repository(void)
{
    sg_image_ref_repository(&r, buf, sizeof(buf));
    return buf;
}

static char *repeat(char *dst, char c, size_t n)
{
    memset(dst, c, n);
    dst[n] = '\0';
    return dst;
}

TEST(official_with_tag)
{
    expect("docker:cli", 0, "docker.io", "library/docker", "cli", "");
    CHECK_STR(full(), "docker.io/library/docker:cli");
    CHECK_STR(familiar(), "docker:cli");
    CHECK_STR(repository(), "docker.io/library/docker");
    CHECK(!r.tag_is_wildcard);
}

TEST(bare_name_without_default_tag)
{
    expect("docker", 0, "docker.io", "library/docker", "", "");
    CHECK_STR(full(), "docker.io/library/docker");
}

TEST(bare_name_with_default_tag)
{
    expect("docker", SG_REF_DEFAULT_TAG, "docker.io", "library/docker", "latest", "");
    CHECK_STR(full(), "docker.io/library/docker:latest");
    CHECK_STR(familiar(), "docker:latest");
}

TEST(default_tag_keeps_explicit_tag)
{
    expect("docker:cli", SG_REF_DEFAULT_TAG, "docker.io", "library/docker", "cli", "");
}

TEST(library_prefix_given)
{
    expect("library/docker", 0, "docker.io", "library/docker", "", "");
    CHECK_STR(familiar(), "docker");
}

TEST(fully_qualified_hub)
{
    expect("docker.io/library/docker:cli", 0, "docker.io", "library/docker", "cli", "");
    CHECK_STR(familiar(), "docker:cli");
    expect("docker.io/docker", 0, "docker.io", "library/docker", "", "");
}

TEST(legacy_index_domain)
{
    expect("index.docker.io/library/docker", 0, "docker.io", "library/docker", "", "");
    expect("index.docker.io/docker:1", 0, "docker.io", "library/docker", "1", "");
    expect("index.docker.io/localstack/localstack", 0, "docker.io",
           "localstack/localstack", "", "");
}

TEST(hub_user_repository)
{
    expect("localstack/localstack:3.0", 0, "docker.io", "localstack/localstack", "3.0", "");
    CHECK_STR(full(), "docker.io/localstack/localstack:3.0");
    CHECK_STR(familiar(), "localstack/localstack:3.0");
    expect("library/a/b", 0, "docker.io", "library/a/b", "", "");
    CHECK_STR(familiar(), "library/a/b"); /* nested: "library/" stays */
}

TEST(wildcard_tag_with_flag)
{
    expect("localstack/localstack:*", SG_REF_ALLOW_WILDCARD, "docker.io",
           "localstack/localstack", "*", "");
    CHECK(r.tag_is_wildcard);
    CHECK_STR(full(), "docker.io/localstack/localstack:*");
    CHECK_STR(familiar(), "localstack/localstack:*");
    CHECK_STR(repository(), "docker.io/localstack/localstack");
    expect("docker.io/testcontainers/ryuk:*",
           SG_REF_ALLOW_WILDCARD | SG_REF_DEFAULT_TAG, "docker.io", "testcontainers/ryuk",
           "*", "");
    CHECK(r.tag_is_wildcard);
    expect("localhost:*", SG_REF_ALLOW_WILDCARD, "docker.io", "library/localhost", "*", "");
}

TEST(wildcard_tag_rejected)
{
    expect_error("localstack/localstack:*", 0);
    expect_error("localstack/localstack:*", SG_REF_DEFAULT_TAG);
    expect_error("x:1:*", SG_REF_ALLOW_WILDCARD);
    expect_error("x@" DIGEST ":*", SG_REF_ALLOW_WILDCARD);
    expect_error("x:*@" DIGEST, SG_REF_ALLOW_WILDCARD);
    expect_error(":*", SG_REF_ALLOW_WILDCARD);
    expect_error("x:**", SG_REF_ALLOW_WILDCARD);
    expect_error("x*", SG_REF_ALLOW_WILDCARD);
}

TEST(star_alone_is_the_callers)
{
    expect_error("*", 0);
    expect_error("*", SG_REF_ALLOW_WILDCARD);
    expect_error("*", SG_REF_ALLOW_WILDCARD | SG_REF_DEFAULT_TAG);
}

TEST(localhost_domain)
{
    expect("localhost/x", 0, "localhost", "x", "", "");
    CHECK_STR(familiar(), "localhost/x");
    expect("localhost:5000/x:1", 0, "localhost:5000", "x", "1", "");
    CHECK_STR(full(), "localhost:5000/x:1");
    CHECK_STR(familiar(), "localhost:5000/x:1");
}

TEST(bare_hostlike_names_are_hub_images)
{
    /* Without a '/', "host:port" is name:tag (splitDockerDomain fast path). */
    expect("localhost:5000", 0, "docker.io", "library/localhost", "5000", "");
    expect("localhost", 0, "docker.io", "library/localhost", "", "");
    expect("example.com", 0, "docker.io", "library/example.com", "", "");
    expect("docker.io", 0, "docker.io", "library/docker.io", "", "");
}

TEST(ip_domain_with_port)
{
    expect("127.0.0.1:5000/library/docker:cli", 0, "127.0.0.1:5000", "library/docker",
           "cli", "");
    CHECK_STR(full(), "127.0.0.1:5000/library/docker:cli");
    CHECK_STR(familiar(), "127.0.0.1:5000/library/docker:cli");
    expect("127.0.0.1:5000/docker", 0, "127.0.0.1:5000", "docker", "", ""); /* no library/ */
}

TEST(other_registry_nested_path)
{
    expect("ghcr.io/a/b/c:tag", 0, "ghcr.io", "a/b/c", "tag", "");
    CHECK_STR(full(), "ghcr.io/a/b/c:tag");
    CHECK_STR(familiar(), "ghcr.io/a/b/c:tag");
    expect("a.b-c.d/x", 0, "a.b-c.d", "x", "", "");
}

TEST(ipv6_domain)
{
    expect("[::1]:5000/x", 0, "[::1]:5000", "x", "", "");
    CHECK_STR(full(), "[::1]:5000/x");
    expect("[::1]/x:2", 0, "[::1]", "x", "2", "");
    expect("[2001:DB8::1]:443/a/b", 0, "[2001:DB8::1]:443", "a/b", "", "");
    expect_error("[fe80::1%25eth0]/x", 0); /* zone identifiers are excluded */
    expect_error("[::ffff:1.2.3.4]/x", 0); /* IPv4-mapped is excluded      */
    expect_error("[]/x", 0);
    expect_error("[::1]:/x", 0);
    expect_error("[::1]", 0); /* no '/': a (bad) hub name */
}

TEST(uppercase_first_component_is_a_domain)
{
    /* Newer reference versions: uppercase namespaces do not exist, so an
     * uppercase first component can only be a registry host. */
    expect("Foo/bar", 0, "Foo", "bar", "", "");
    expect("LOCALHOST/x", 0, "LOCALHOST", "x", "", "");
    expect("DOCKER.IO/x", 0, "DOCKER.IO", "x", "", ""); /* not Docker Hub */
    expect_error("Foo_Bar/x", 0);
}

TEST(invalid_domain_becomes_path)
{
    /* Parse's optional domain group does not match "my_reg.example", but
     * it is a valid path component: Docker yields an empty domain. */
    expect("my_reg.example/x:1", 0, "", "my_reg.example/x", "1", "");
    CHECK_STR(full(), "my_reg.example/x:1");
    CHECK_STR(familiar(), "my_reg.example/x:1");
    CHECK_STR(repository(), "my_reg.example/x");
    expect_error("a.-b/x", 0);
    expect_error("a:b/x", 0);
}

TEST(digest_only)
{
    expect("x@" DIGEST, 0, "docker.io", "library/x", "", DIGEST);
    CHECK_STR(full(), "docker.io/library/x@" DIGEST);
    CHECK_STR(familiar(), "x@" DIGEST);
    CHECK_STR(repository(), "docker.io/library/x");
    /* A digest is a reference: no "latest" is added. */
    expect("x@" DIGEST, SG_REF_DEFAULT_TAG, "docker.io", "library/x", "", DIGEST);
}

TEST(tag_and_digest_kept)
{
    expect("x:t@" DIGEST, 0, "docker.io", "library/x", "t", DIGEST);
    CHECK_STR(full(), "docker.io/library/x:t@" DIGEST);
    CHECK_STR(familiar(), "x:t@" DIGEST);
    expect("localhost:5000/a/b:t@" DIGEST, 0, "localhost:5000", "a/b", "t", DIGEST);
}

TEST(tag_grammar)
{
    expect("x:Latest", 0, "docker.io", "library/x", "Latest", "");
    expect("x:_a.b-C", 0, "docker.io", "library/x", "_a.b-C", "");
    char tag[200], s[220];
    snprintf(s, sizeof(s), "x:%s", repeat(tag, 't', 128));
    expect(s, 0, "docker.io", "library/x", tag, "");
    snprintf(s, sizeof(s), "x:%s", repeat(tag, 't', 129));
    expect_error(s, 0);
    expect_error("x:.a", 0);
    expect_error("x:-a", 0);
    expect_error("x:a/b", 0);
    expect_error("x:a b", 0);
}

TEST(path_separators)
{
    expect("a__b", 0, "docker.io", "library/a__b", "", "");
    expect("a-----b", 0, "docker.io", "library/a-----b", "", "");
    expect("a.b_c-d", 0, "docker.io", "library/a.b_c-d", "", "");
    expect("0/x", 0, "docker.io", "0/x", "", "");
    expect_error("a___b", 0);
    expect_error("a._b", 0);
    expect_error("a.-b", 0);
    expect_error("a..b", 0);
    expect_error("a-_b", 0);
    expect_error("-a", 0);
    expect_error("a-", 0);
    expect_error("_a", 0);
}

TEST(error_uppercase_path)
{
    expect_error("Docker", 0);
    expect_error("library/Docker", 0);
    expect_error("localhost/Foo", 0);
    expect_error("ghcr.io/a/B", 0);
}

TEST(error_empty_and_missing_parts)
{
    expect_error("", 0);
    expect_error(":tag", 0);
    expect_error("x:", 0);
    expect_error("x@", 0);
    expect_error("@" DIGEST, 0);
    expect_error("x::y", 0);
    expect_error("a//b", 0);
    expect_error("a/-b", 0);
    expect_error("a/", 0);
    expect_error("/a", 0);
    expect_error("localhost/", 0);
    expect_error("ghcr.io/", 0);
    expect_error("x y", 0);
}

TEST(error_bad_digest)
{
    expect_error("x@sha256:short", 0);
    expect_error("x@sha256:" HEX64 "0", 0);
    expect_error("x@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", 0);
    expect_error("x@sha256:" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg", 0);
    expect_error("x@md5:0123456789abcdef0123456789abcdef", 0);
    /* sha512 is valid in Docker but does not fit sg_image_ref.digest */
    expect_error("x@sha512:" HEX64 HEX64, 0);
    expect_error("x@" HEX64, 0);
}

TEST(error_image_id)
{
    expect_error(HEX64, 0);
    expect_error(HEX64, SG_REF_DEFAULT_TAG | SG_REF_ALLOW_WILDCARD);
    /* Only the whole input is an ID: with a tag it is a hub name. */
    expect(HEX64 ":t", 0, "docker.io", "library/" HEX64, "t", "");
    /* ...and its familiar form must not read back as an ID. */
    CHECK_STR(familiar(), "docker.io/library/" HEX64 ":t");
}

TEST(path_length_limit)
{
    char comp[300], s[600], want[600];
    /* 255 is the limit of the path, "library/" included */
    snprintf(s, sizeof(s), "%s", repeat(comp, 'a', 247));
    snprintf(want, sizeof(want), "library/%s", comp);
    expect(s, 0, "docker.io", want, "", "");
    CHECK_INT(strlen(r.path), 255);
    snprintf(s, sizeof(s), "%s", repeat(comp, 'a', 248));
    expect_error(s, 0);
    snprintf(s, sizeof(s), "ghcr.io/%s", repeat(comp, 'b', 255));
    CHECK_INT(parse(s, 0), 0);
    snprintf(s, sizeof(s), "ghcr.io/%s", repeat(comp, 'b', 256));
    expect_error(s, 0);
    snprintf(s, sizeof(s), "u/%s", repeat(comp, 'c', 254));
    expect_error(s, 0);
}

TEST(domain_and_total_length_limits)
{
    char host[300], s[900];
    /* sockgate's own limits (Docker has none for the domain) */
    snprintf(s, sizeof(s), "%s.io/x", repeat(host, 'h', 252));
    CHECK_INT(parse(s, 0), 0);
    CHECK_INT(strlen(r.domain), 255);
    snprintf(s, sizeof(s), "%s.io/x", repeat(host, 'h', 253));
    expect_error(s, 0);
    char path[300];
    snprintf(s, sizeof(s), "%s.io/%s", repeat(host, 'h', 252), repeat(path, 'p', 248));
    CHECK_INT(parse(s, 0), 0); /* 504 characters: ":latest" still fits */
    CHECK_INT(parse(s, SG_REF_DEFAULT_TAG), 0);
    CHECK_INT(strlen(full()), SG_REF_MAX - 1);
    snprintf(s, sizeof(s), "%s.io/%s", host, repeat(path, 'p', 249));
    expect_error(s, 0); /* fine for Docker, too long with a default tag */
    snprintf(s, sizeof(s), "%s.io/%s:t", host, repeat(path, 'p', 255));
    expect_error(s, 0);
}

TEST(printers_never_truncate)
{
    expect("docker:cli", 0, "docker.io", "library/docker", "cli", "");
    char small[20];
    memset(small, 'z', sizeof(small));
    sg_image_ref_string(&r, small, sizeof(small));
    CHECK_STR(small, ""); /* "docker.io/library/d" would be another name */
    sg_image_ref_repository(&r, small, sizeof(small));
    CHECK_STR(small, "");
    sg_image_ref_familiar(&r, small, 11);
    CHECK_STR(small, "docker:cli");
    sg_image_ref_familiar(&r, small, 10);
    CHECK_STR(small, "");
    sg_image_ref_repository(&r, small, 0); /* must not write */
}

TEST(familiar_is_never_ambiguous)
{
    /* Docker prints "foo.bar/x", which reads back as registry foo.bar. */
    expect("docker.io/foo.bar/x:1", 0, "docker.io", "foo.bar/x", "1", "");
    CHECK_STR(familiar(), "docker.io/foo.bar/x:1");
    expect("docker.io/localhost/x", 0, "docker.io", "localhost/x", "", "");
    CHECK_STR(familiar(), "docker.io/localhost/x");
    expect("docker.io/library/foo.bar", 0, "docker.io", "library/foo.bar", "", "");
    CHECK_STR(familiar(), "foo.bar");
}

TEST(same_repo)
{
    sg_image_ref a, b;
    CHECK_INT(sg_image_ref_parse("docker:cli", 0, &a, NULL), 0);
    CHECK_INT(sg_image_ref_parse("docker.io/library/docker@" DIGEST, 0, &b, NULL), 0);
    CHECK(sg_image_ref_same_repo(&a, &b));
    CHECK_INT(sg_image_ref_parse("index.docker.io/docker:*", SG_REF_ALLOW_WILDCARD, &b, NULL),
              0);
    CHECK(sg_image_ref_same_repo(&a, &b));
    CHECK_INT(sg_image_ref_parse("localhost/docker:cli", 0, &b, NULL), 0);
    CHECK(!sg_image_ref_same_repo(&a, &b));
    CHECK_INT(sg_image_ref_parse("docker/docker:cli", 0, &b, NULL), 0);
    CHECK(!sg_image_ref_same_repo(&a, &b));
    CHECK_INT(sg_image_ref_parse("ghcr.io/library/docker", 0, &b, NULL), 0);
    CHECK(!sg_image_ref_same_repo(&a, &b));
}

TEST(string_form_reparses_identically)
{
    static const char *const inputs[] = {
        "docker:cli", "docker", "localstack/localstack:*", "[::1]:5000/x",
        "127.0.0.1:5000/library/docker:cli", "my_reg.example/x", "Foo/bar:Tag",
        "x:t@" DIGEST, "docker.io/foo.bar/x", "library/a/b",
    };
    int flags = SG_REF_ALLOW_WILDCARD | SG_REF_DEFAULT_TAG;
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        sg_image_ref a, b, c;
        char s[SG_REF_MAX], f[SG_REF_MAX];
        CHECK_INT(sg_image_ref_parse(inputs[i], flags, &a, NULL), 0);
        sg_image_ref_string(&a, s, sizeof(s));
        CHECK_INT(sg_image_ref_parse(s, flags, &b, NULL), 0);
        CHECK(memcmp(&a, &b, sizeof(a)) == 0);
        sg_image_ref_familiar(&a, f, sizeof(f));
        CHECK_INT(sg_image_ref_parse(f, flags, &c, NULL), 0);
        CHECK(sg_image_ref_same_repo(&a, &c));
        CHECK(memcmp(&a, &c, sizeof(a)) == 0);
    }
}

TEST(null_arguments)
{
    why = NULL;
    CHECK_INT(sg_image_ref_parse(NULL, 0, &r, &why), -1);
    CHECK(why != NULL);
    CHECK_INT(sg_image_ref_parse("docker", 0, &r, NULL), 0); /* why optional */
    CHECK_INT(sg_image_ref_parse("Docker", 0, &r, NULL), -1);
}

TEST(image_ids_are_not_names)
{
    const char *hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    char id[80];
    snprintf(id, sizeof id, "sha256:%s", hex);
    CHECK(sg_image_ref_is_id(id));
    CHECK(sg_image_ref_is_id(hex));
    CHECK(!sg_image_ref_is_id("sha256:abc"));
    CHECK(!sg_image_ref_is_id("docker:cli"));
    id[10] = 'G';
    CHECK(!sg_image_ref_is_id(id));
}

/* Issue 17: Docker's current ECI examples name every repository directly
 * under a path (a star as the last component, with the tag wildcard). */
TEST(repository_wildcards)
{
    expect("testcontainers/*:*", SG_REF_ALLOW_WILDCARD, "docker.io", "testcontainers", "*", "");
    CHECK(r.path_is_wildcard && r.tag_is_wildcard);
    CHECK_STR(full(), "docker.io/testcontainers/*:*");
    CHECK_STR(repository(), "docker.io/testcontainers/*");
    sg_image_ref entry = r;
    expect("your-registry.com/ci-tools/*:*", SG_REF_ALLOW_WILDCARD, "your-registry.com",
           "ci-tools", "*", "");
    CHECK(r.path_is_wildcard);
    sg_image_ref ci = r;
    /* covers: one component directly under the path, same registry */
    static const struct {
        const char *name;
        bool covered;
    } cases[] = {{"testcontainers/ryuk", true},
                 {"docker.io/testcontainers/sshd:1.2", true},
                 {"testcontainers", false},
                 {"testcontainers/a/b", false},
                 {"library/testcontainers", false},
                 {"testcontainersx/ryuk", false},
                 {"ghcr.io/testcontainers/ryuk", false}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        CHECK_INT(parse(cases[i].name, 0), 0);
        CHECK_INT(sg_image_ref_covers(&entry, &r), cases[i].covered);
    }
    CHECK_INT(parse("your-registry.com/ci-tools/lint", 0), 0);
    CHECK(sg_image_ref_covers(&ci, &r));
    CHECK(!sg_image_ref_covers(&entry, &r));
    /* an exact entry covers only itself */
    CHECK_INT(parse("testcontainers/ryuk:*", SG_REF_ALLOW_WILDCARD), 0);
    sg_image_ref exact = r;
    CHECK_INT(parse("testcontainers/ryuk", 0), 0);
    CHECK(sg_image_ref_covers(&exact, &r));
    /* only the last component, only with the tag wildcard, only in entries */
    expect_error("testcontainers/*", SG_REF_ALLOW_WILDCARD);
    expect_error("testcontainers/*:1.0", SG_REF_ALLOW_WILDCARD);
    expect_error("testcontainers/*@sha256:" "0000000000000000000000000000000000000000000000000000000000000000",
                 SG_REF_ALLOW_WILDCARD);
    expect_error("*/ryuk:*", SG_REF_ALLOW_WILDCARD);
    expect_error("test*/ryuk:*", SG_REF_ALLOW_WILDCARD);
    expect_error("testcontainers/*:*", 0);
    expect_error("*:*", SG_REF_ALLOW_WILDCARD);
}

int main(void)
{
    RUN(official_with_tag);
    RUN(bare_name_without_default_tag);
    RUN(bare_name_with_default_tag);
    RUN(default_tag_keeps_explicit_tag);
    RUN(library_prefix_given);
    RUN(fully_qualified_hub);
    RUN(legacy_index_domain);
    RUN(hub_user_repository);
    RUN(wildcard_tag_with_flag);
    RUN(wildcard_tag_rejected);
    RUN(star_alone_is_the_callers);
    RUN(localhost_domain);
    RUN(bare_hostlike_names_are_hub_images);
    RUN(ip_domain_with_port);
    RUN(other_registry_nested_path);
    RUN(ipv6_domain);
    RUN(uppercase_first_component_is_a_domain);
    RUN(invalid_domain_becomes_path);
    RUN(digest_only);
    RUN(tag_and_digest_kept);
    RUN(tag_grammar);
    RUN(path_separators);
    RUN(error_uppercase_path);
    RUN(error_empty_and_missing_parts);
    RUN(error_bad_digest);
    RUN(error_image_id);
    RUN(path_length_limit);
    RUN(domain_and_total_length_limits);
    RUN(printers_never_truncate);
    RUN(familiar_is_never_ambiguous);
    RUN(same_repo);
    RUN(string_form_reparses_identically);
    RUN(null_arguments);
    RUN(image_ids_are_not_names);
    RUN(repository_wildcards);
    return UNIT_DONE();
}
