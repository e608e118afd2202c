/*
 * fuzz_gojson.c — libFuzzer target for sg_gojson_parse() / sg_gojson_get().
 *
 * Input: the raw request body. Invariants checked (abort on violation):
 *   - an error has a status, a non-empty message free of control bytes,
 *     an offset inside the input and a line >= 1;
 *   - on success every string and key is well-formed UTF-8;
 *   - json_dumps() of the tree parses again to an equal tree (what sockgate
 *     forwards means what it checked);
 *   - every key is found by sg_gojson_get() under its own spelling and,
 *     when its fold is plain ASCII, under that fold too (keys are unique
 *     up to folding);
 *   - input with a raw NUL byte anywhere is refused;
 *   - sg_gojson_count_values() never counts fewer values than the tree has
 *     (the budget takes the tree's cost from it before the parse);
 *   - differential against jansson's own parser: whatever jansson accepts
 *     (valid UTF-8, paired surrogates) is accepted here too, to an equal
 *     tree, unless it is ambiguous or deeper than SG_GOJSON_MAX_DEPTH.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "body/gojson.h"

static void require(int cond)
{
    if (!cond)
        abort();
}

/* An independent well-formedness check: decode, then test the range. */
static int utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i], need, cp;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xE0) == 0xC0)
            need = 1, cp = c & 0x1F;
        else if ((c & 0xF0) == 0xE0)
            need = 2, cp = c & 0x0F;
        else if ((c & 0xF8) == 0xF0)
            need = 3, cp = c & 0x07;
        else
            return 0;
        if (n - i <= need)
            return 0;
        for (unsigned k = 1; k <= need; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        static const unsigned min[4] = {0, 0x80, 0x800, 0x10000};
        if (cp < min[need] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += need + 1;
    }
    return 1;
}

/* Deep equality honouring key lengths (json_equal() uses strlen()). */
static int tree_equal(json_t *a, json_t *b)
{
    if (!a || !b)
        return a == b;
    if (json_typeof(a) != json_typeof(b))
        return 0;
    if (json_is_object(a)) {
        const char *k;
        size_t klen;
        json_t *v;
        if (json_object_size(a) != json_object_size(b))
            return 0;
        json_object_keylen_foreach(a, k, klen, v) {
            if (!tree_equal(v, json_object_getn(b, k, klen)))
                return 0;
        }
        return 1;
    }
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b))
            return 0;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!tree_equal(json_array_get(a, i), json_array_get(b, i)))
                return 0;
        return 1;
    }
    if (json_is_string(a))
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b),
                      json_string_length(a)) == 0;
    return json_equal(a, b);
}

static void check_key(json_t *obj, const char *k, size_t klen, json_t *v)
{
    static char fold[70001];
    require(utf8_ok((const unsigned char *)k, klen));
    if (memchr(k, '\0', klen))
        return; /* get() takes a C string */
    const char *spelled = NULL;
    require(sg_gojson_get(obj, k, &spelled) == v && strcmp(spelled, k) == 0);
    int flen = sg_gojson_fold(k, klen, fold, sizeof fold);
    require(flen >= 0 && (size_t)flen <= klen);
    for (int i = 0; i < flen; i++)
        if ((unsigned char)fold[i] >= 0x80)
            return;
    require(sg_gojson_get(obj, fold, &spelled) == v && spelled == k);
}

static void check_tree(json_t *j)
{
    if (json_is_object(j)) {
        const char *k;
        size_t klen;
        json_t *v;
        json_object_keylen_foreach(j, k, klen, v) {
            check_key(j, k, klen, v);
            check_tree(v);
        }
    } else if (json_is_array(j)) {
        for (size_t i = 0; i < json_array_size(j); i++)
            check_tree(json_array_get(j, i));
    } else if (json_is_string(j)) {
        require(utf8_ok((const unsigned char *)json_string_value(j),
                        json_string_length(j)));
    }
}

static void check_error(const sg_gojson_error *e, size_t size)
{
    require(e->status != SG_GOJSON_OK);
    require(e->offset <= size && e->line >= 1);
    size_t n = strnlen(e->message, sizeof e->message);
    require(n > 0 && n < sizeof e->message);
    for (size_t i = 0; i < n; i++)
        require((unsigned char)e->message[i] >= 0x20 &&
                (unsigned char)e->message[i] < 0x7f);
}

static void check_round_trip(json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    require(text != NULL);
    sg_gojson_error e2;
    json_t *again = sg_gojson_parse(text, strlen(text), &e2);
    require(again != NULL && tree_equal(j, again));
    json_decref(again);
    free(text);
}

/* Every value of the tree, containers included (keys are not values). */
static size_t tree_values(json_t *j)
{
    size_t n = 1;
    if (json_is_array(j)) {
        for (size_t i = 0; i < json_array_size(j); i++)
            n += tree_values(json_array_get(j, i));
    } else if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v)
            n += tree_values(v);
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sg_gojson_error err;
    json_t *j = sg_gojson_parse((const char *)data, size, &err);
    if (j) {
        require(err.status == SG_GOJSON_OK);
        require(sg_gojson_count_values((const char *)data, size) >= tree_values(j));
        check_tree(j);
        check_round_trip(j);
    } else {
        check_error(&err, size);
    }

    /* A raw NUL byte is never JSON (Go: "invalid character '\x00'"), but
     * jansson takes it for the end of input: no comparison then. */
    if (memchr(data, '\0', size)) {
        require(j == NULL);
        return 0;
    }
    json_error_t jerr;
    json_t *ref = json_loadb((const char *)data, size,
                             JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (ref) {
        require(j ? tree_equal(j, ref)
                  : err.status == SG_GOJSON_AMBIGUOUS ||
                        err.status == SG_GOJSON_TOO_DEEP ||
                        err.status == SG_GOJSON_TOO_LARGE);
        json_decref(ref);
    }
    json_decref(j);
    return 0;
}
