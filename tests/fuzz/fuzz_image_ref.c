/*
 * fuzz_image_ref.c — libFuzzer target for sg_image_ref_parse() and the
 * printers of policy/image_ref.
 *
 * Input: first byte's low two bits are the parse flags, the rest is the
 * reference (cut at the first NUL, as a C string would be). Invariants
 * checked (abort on violation):
 *   - failure: a reason is given and the output is zeroed;
 *   - success: the normalised string parses back to the identical struct
 *     (normalisation is idempotent), the familiar form parses back to the
 *     same struct too (so the same repository), the repository string is
 *     the normalised string without tag and digest;
 *   - the wildcard marks exactly the ":*" tag and needs its flag; a
 *     repository wildcard comes only with the tag wildcard;
 *   - SG_REF_DEFAULT_TAG changes nothing but the empty tag of an
 *     undigested reference.
 *
 * Conformance with Docker itself is checked by test_image_ref.c.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/image_ref.h"

#define MAX_INPUT 4096

static char input[MAX_INPUT + 1];

static void require(int cond)
{
    if (!cond)
        abort();
}

static void check_failure(const sg_image_ref *r, const char *why)
{
    static const sg_image_ref zero;
    require(why != NULL && why[0] != '\0');
    require(memcmp(r, &zero, sizeof(zero)) == 0);
}

static void check_reparse(const sg_image_ref *r, int flags)
{
    char s[SG_REF_MAX], f[SG_REF_MAX], repo[SG_REF_MAX];
    sg_image_ref back;
    const char *why = NULL;

    sg_image_ref_string(r, s, sizeof(s));
    require(s[0] != '\0');
    require(sg_image_ref_parse(s, flags, &back, &why) == 0);
    require(memcmp(r, &back, sizeof(back)) == 0);

    sg_image_ref_familiar(r, f, sizeof(f));
    require(f[0] != '\0' && strlen(f) <= strlen(s));
    require(sg_image_ref_parse(f, flags, &back, &why) == 0);
    require(sg_image_ref_same_repo(r, &back));
    require(memcmp(r, &back, sizeof(back)) == 0);

    sg_image_ref_repository(r, repo, sizeof(repo));
    size_t n = strlen(repo);
    require(n > 0 && strncmp(s, repo, n) == 0);
    require(s[n] == '\0' || s[n] == ':' || s[n] == '@');
}

static void check_success(const sg_image_ref *r, int flags)
{
    require(r->path[0] != '\0');
    require(strlen(r->path) <= 255);
    require(r->tag_is_wildcard == (strcmp(r->tag, "*") == 0));
    require(!r->tag_is_wildcard || (flags & SG_REF_ALLOW_WILDCARD));
    require(!r->tag_is_wildcard || r->digest[0] == '\0');
    require(!r->path_is_wildcard || r->tag_is_wildcard);
    require(!(flags & SG_REF_DEFAULT_TAG) || r->tag[0] || r->digest[0]);
    require(sg_image_ref_same_repo(r, r));
    check_reparse(r, flags);
}

/* The default tag only fills an empty tag of a reference without digest. */
static void check_default_tag(const char *s, int flags, const sg_image_ref *r)
{
    sg_image_ref t;
    int rc = sg_image_ref_parse(s, flags | SG_REF_DEFAULT_TAG, &t, NULL);
    require(rc == 0);
    require(sg_image_ref_same_repo(r, &t));
    require(strcmp(r->digest, t.digest) == 0);
    if (r->tag[0] || r->digest[0])
        require(strcmp(r->tag, t.tag) == 0);
    else
        require(strcmp(t.tag, "latest") == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    int flags = data[0] & (SG_REF_DEFAULT_TAG | SG_REF_ALLOW_WILDCARD);
    size_t n = size - 1 > MAX_INPUT ? MAX_INPUT : size - 1;
    memcpy(input, data + 1, n);
    input[n] = '\0';

    sg_image_ref r;
    const char *why = NULL;
    memset(&r, 0xa5, sizeof(r));
    if (sg_image_ref_parse(input, flags, &r, &why) != 0) {
        check_failure(&r, why);
        return 0;
    }
    check_success(&r, flags);
    check_default_tag(input, flags, &r);
    return 0;
}
