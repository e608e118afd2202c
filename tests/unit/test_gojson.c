/*
 * test_gojson.c — sg_gojson_parse/get/fold against the way dockerd (Go's
 * encoding/json) reads a request body: grammar, string decoding, key
 * folding and ambiguity, numbers, depth, error positions, round trips.
 */
#include <stdint.h>
#include <stdlib.h>

#include "body/gojson.h"
#include "unit.h"

static sg_gojson_error E;

static json_t *parse_n(const char *s, size_t n)
{
    return sg_gojson_parse(s, n, &E);
}

static json_t *parse(const char *s)
{
    return parse_n(s, strlen(s));
}

/* Parses must fail with `status`; returns 1 if so. */
static int fails_n(const char *s, size_t n, sg_gojson_status status)
{
    json_t *j = parse_n(s, n);
    int ok = j == NULL && E.status == status && E.message[0] != '\0';
    if (!ok)
        fprintf(stderr, "  input \"%.*s\": status %d (%s)\n", (int)n, s,
                (int)E.status, E.message);
    json_decref(j);
    return ok;
}

static int fails(const char *s, sg_gojson_status status)
{
    return fails_n(s, strlen(s), status);
}

/* The decoded value of the one-string document s, compared as bytes. */
static int string_is(const char *doc, const char *want, size_t want_len)
{
    json_t *j = parse(doc);
    int ok = json_is_string(j) && json_string_length(j) == want_len &&
             memcmp(json_string_value(j), want, want_len) == 0;
    if (!ok)
        fprintf(stderr, "  decoding %s gave status %d (%s)\n", doc,
                (int)E.status, E.message);
    json_decref(j);
    return ok;
}

#define STRING_IS(doc, want) CHECK(string_is(doc, want, sizeof(want) - 1))

TEST(dockerd_create_body)
{
    const char *body =
        "{\n"
        "  \"Hostname\": \"\", \"User\": \"\", \"Tty\": false,\n"
        "  \"Env\": [\"A=1\", \"PATH=/usr/bin\"],\n"
        "  \"Cmd\": [\"sh\", \"-c\", \"echo hi\"],\n"
        "  \"Image\": \"alpine:3.19\",\n"
        "  \"Labels\": {\"com.example\": \"x\"},\n"
        "  \"HostConfig\": {\n"
        "    \"Binds\": [\"/var/run/docker.sock:/var/run/docker.sock\"],\n"
        "    \"Privileged\": false, \"NanoCpus\": 1500000000,\n"
        "    \"Memory\": 0, \"Mounts\": null\n"
        "  },\n"
        "  \"NetworkingConfig\": {\"EndpointsConfig\": {}}\n"
        "}\n";
    json_t *j = parse(body);
    CHECK(j != NULL);
    CHECK_INT(E.status, SG_GOJSON_OK);
    CHECK_STR(json_string_value(sg_gojson_get(j, "Image", NULL)),
              "alpine:3.19");
    json_t *hc = sg_gojson_get(j, "HostConfig", NULL);
    json_t *binds = sg_gojson_get(hc, "Binds", NULL);
    CHECK_INT(json_array_size(binds), 1);
    CHECK_STR(json_string_value(json_array_get(binds, 0)),
              "/var/run/docker.sock:/var/run/docker.sock");
    CHECK_INT(json_integer_value(sg_gojson_get(hc, "NanoCpus", NULL)),
              1500000000);
    CHECK(json_is_null(sg_gojson_get(hc, "Mounts", NULL)));
    CHECK(json_is_false(sg_gojson_get(hc, "Privileged", NULL)));
    CHECK_INT(json_array_size(sg_gojson_get(j, "Cmd", NULL)), 3);
    /* Insertion order is kept, so the re-serialised body reads the same. */
    CHECK_STR(json_object_iter_key(json_object_iter(j)), "Hostname");
    json_decref(j);
}

/* Each spelling must reach HostConfig.Binds via get(obj, "HostConfig"). */
static void check_hostconfig_spelling(const char *json_key, const char *decoded)
{
    char doc[256];
    snprintf(doc, sizeof doc,
             "{\"Image\":\"x\",\"%s\":{\"Binds\":[\"/:/host\"]}}", json_key);
    json_t *j = parse(doc);
    CHECK(j != NULL);
    const char *spelled = NULL;
    json_t *hc = sg_gojson_get(j, "HostConfig", &spelled);
    CHECK(hc != NULL);
    CHECK_STR(spelled, decoded);
    json_t *b = sg_gojson_get(hc, "Binds", NULL);
    CHECK_STR(json_string_value(json_array_get(b, 0)), "/:/host");
    json_decref(j);
}

TEST(get_case_insensitive_spellings)
{
    check_hostconfig_spelling("HostConfig", "HostConfig");
    check_hostconfig_spelling("hostconfig", "hostconfig");
    check_hostconfig_spelling("HOSTCONFIG", "HOSTCONFIG");
    check_hostconfig_spelling("Ho\\u0073tConfig", "HostConfig");
    check_hostconfig_spelling("HostConfi\\u0067", "HostConfig");
    check_hostconfig_spelling("ho\\u017ftconfig", "ho\xc5\xbftconfig");
    check_hostconfig_spelling("ho\xc5\xbftconfig", "ho\xc5\xbftconfig");
    check_hostconfig_spelling("HOST\\u0043ONFIG", "HOSTCONFIG");
}

TEST(get_kelvin_sign_matches_k)
{
    json_t *j = parse("{\"\\u212Aey\": 1}");
    const char *spelled = NULL;
    CHECK_INT(json_integer_value(sg_gojson_get(j, "key", &spelled)), 1);
    CHECK_STR(spelled, "\xe2\x84\xaa" "ey");
    CHECK(sg_gojson_get(j, "Key", NULL) != NULL);
    json_decref(j);
    CHECK(fails("{\"\\u212Aey\": 1, \"key\": 2}", SG_GOJSON_AMBIGUOUS));
    CHECK(fails("{\"KEY\": 1, \"\xe2\x84\xaa" "ey\": 2}", SG_GOJSON_AMBIGUOUS));
}

TEST(get_non_matches)
{
    /* U+0131 dotless i and U+0130 do not fold to ASCII i in Go. */
    json_t *j = parse("{\"B\\u0131nds\": 1, \"B\\u0130NDS\": 2, \"Bind\": 3,"
                      " \"Bindss\": 4, \"Binds\\u0000\": 5}");
    CHECK(j != NULL);
    CHECK(sg_gojson_get(j, "Binds", NULL) == NULL);
    CHECK(sg_gojson_get(j, "Bind", NULL) != NULL);
    json_decref(j);
    json_t *arr = parse("[1]");
    CHECK(sg_gojson_get(arr, "0", NULL) == NULL);
    CHECK(sg_gojson_get(NULL, "x", NULL) == NULL);
    json_decref(arr);
}

TEST(get_prefers_exact_key)
{
    /* Not producible by the parser (ambiguous), but get() must still pick
     * the exact spelling first, as Go does. */
    json_t *o = json_object();
    json_object_set_new(o, "binds", json_integer(1));
    json_object_set_new(o, "Binds", json_integer(2));
    const char *k = NULL;
    CHECK_INT(json_integer_value(sg_gojson_get(o, "Binds", &k)), 2);
    CHECK_STR(k, "Binds");
    CHECK_INT(json_integer_value(sg_gojson_get(o, "binds", &k)), 1);
    CHECK_STR(k, "binds");
    CHECK(sg_gojson_get(o, "BINDS", NULL) != NULL);
    json_decref(o);
}

TEST(ambiguous_keys_refused)
{
    CHECK(fails("{\"Binds\":[],\"binds\":[]}", SG_GOJSON_AMBIGUOUS));
    CHECK(strstr(E.message, "\"binds\"") != NULL);
    CHECK(strstr(E.message, "\"Binds\"") != NULL);
    CHECK_INT(E.offset, 12);
    CHECK_INT(E.line, 1);
    CHECK(fails("{\"a\":1,\"a\":2}", SG_GOJSON_AMBIGUOUS));
    CHECK(fails("{\"a\":1,\"\\u0061\":2}", SG_GOJSON_AMBIGUOUS));
    CHECK(fails("{\"Binds\":[],\"Bind\\u017f\":[]}", SG_GOJSON_AMBIGUOUS));
    CHECK(fails("{\"x\":{\"HostConfig\":{},\"hostCONFIG\":{}}}",
                SG_GOJSON_AMBIGUOUS));
    /* Keys with embedded NUL are distinct from their prefix... */
    json_t *j = parse("{\"a\":1,\"a\\u0000\":2}");
    CHECK(j != NULL);
    CHECK_INT(json_object_size(j), 2);
    CHECK_INT(json_integer_value(json_object_getn(j, "a\0", 2)), 2);
    json_decref(j);
    /* ...and the same name in different objects is fine. */
    j = parse("{\"a\":{\"x\":1},\"b\":{\"X\":1},\"c\":[{\"x\":1},{\"x\":2}]}");
    CHECK(j != NULL);
    json_decref(j);
}

TEST(ambiguous_message_names_line_and_is_sanitised)
{
    const char *doc = "{\n\"HostConfig\": {\n \"Binds\": [],\n"
                      " \"BINDS\": []\n}}";
    CHECK(fails(doc, SG_GOJSON_AMBIGUOUS));
    CHECK_INT(E.line, 4);
    CHECK_INT(E.offset, (size_t)(strstr(doc, "\"BINDS\"") - doc));
    CHECK(strstr(E.message, "line 4") != NULL);
    CHECK(strstr(E.message, "BINDS") != NULL);
    CHECK(fails("{\"a\\n\\u001b[31m\":1,\"A\\n\\u001b[31m\":2}",
                SG_GOJSON_AMBIGUOUS));
    CHECK(strchr(E.message, '\n') == NULL);
    CHECK(strchr(E.message, 0x1b) == NULL);
    CHECK(strstr(E.message, "\\x0a") != NULL);
}

TEST(escapes_decoded)
{
    STRING_IS("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t");
    STRING_IS("\"\\u0041\\u00e9\\u20AC\"", "A\xc3\xa9\xe2\x82\xac");
    STRING_IS("\"a\\u0000b\"", "a\0b");
    STRING_IS("\"\x7f\"", "\x7f");
    CHECK(fails("\"\\'\"", SG_GOJSON_SYNTAX));
    CHECK(fails("\"\\x41\"", SG_GOJSON_SYNTAX));
    CHECK(fails("\"\\a\"", SG_GOJSON_SYNTAX));
    CHECK(fails("\"\\u12\"", SG_GOJSON_SYNTAX));
    CHECK(fails("\"\\uZZZZ\"", SG_GOJSON_SYNTAX));
    CHECK(fails("\"\\U0041\"", SG_GOJSON_SYNTAX));
    CHECK(fails("\"\\", SG_GOJSON_SYNTAX));
    CHECK(fails_n("\"\\\0\"", 4, SG_GOJSON_SYNTAX));
    CHECK(fails("\"abc", SG_GOJSON_SYNTAX));
}

TEST(surrogates)
{
    STRING_IS("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80");
    STRING_IS("\"\\uD800\\uDC00\"", "\xf0\x90\x80\x80");
    STRING_IS("\"\\udbff\\udfff\"", "\xf4\x8f\xbf\xbf");
}

TEST(lone_surrogates_become_fffd)
{
    STRING_IS("\"\\ud800\"", "\xef\xbf\xbd");
    STRING_IS("\"\\udc00\"", "\xef\xbf\xbd");
    STRING_IS("\"\\ud800x\"", "\xef\xbf\xbdx");
    /* The escape after a lone high surrogate is decoded on its own. */
    STRING_IS("\"\\ud800\\u0041\"", "\xef\xbf\xbd" "A");
    STRING_IS("\"\\ud800\\ud800\"", "\xef\xbf\xbd\xef\xbf\xbd");
    STRING_IS("\"\\udc00\\ud800\\udc00\"", "\xef\xbf\xbd\xf0\x90\x80\x80");
    STRING_IS("\"\\ud800\\n\"", "\xef\xbf\xbd\n");
    CHECK(fails("\"\\ud800\\u12\"", SG_GOJSON_SYNTAX));
}

TEST(invalid_utf8_becomes_fffd_per_byte)
{
    STRING_IS("\"\xff\"", "\xef\xbf\xbd");
    STRING_IS("\"a\xc3\"", "a\xef\xbf\xbd");
    STRING_IS("\"\xe2\x82\"", "\xef\xbf\xbd\xef\xbf\xbd");
    STRING_IS("\"\xc0\xaf\"", "\xef\xbf\xbd\xef\xbf\xbd");     /* overlong */
    STRING_IS("\"\xe0\x80\xaf\"",
              "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");          /* overlong */
    STRING_IS("\"\xed\xa0\x80\"",
              "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");          /* surrogate */
    STRING_IS("\"\xf4\x90\x80\x80\"",
              "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* >10FFFF */
    STRING_IS("\"\x80x\"", "\xef\xbf\xbdx");
    STRING_IS("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xef\xbf\xbd\"",
              "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xef\xbf\xbd");
    /* In keys too: "Bind\xff" is not "Binds" and is valid UTF-8 after. */
    json_t *j = parse("{\"Bind\xff\":1}");
    CHECK(j != NULL);
    CHECK(json_object_get(j, "Bind\xef\xbf\xbd") != NULL);
    CHECK(sg_gojson_get(j, "Binds", NULL) == NULL);
    json_decref(j);
}

TEST(control_characters_rejected)
{
    CHECK(fails("\"a\nb\"", SG_GOJSON_SYNTAX));
    CHECK(fails("\"a\tb\"", SG_GOJSON_SYNTAX));
    CHECK(fails("\"\x01\"", SG_GOJSON_SYNTAX));
    CHECK(fails("\"\x1f\"", SG_GOJSON_SYNTAX));
    CHECK(fails_n("\"a\0\"", 4, SG_GOJSON_SYNTAX));
    CHECK(fails("{\"k\x01\":1}", SG_GOJSON_SYNTAX));
}

TEST(trailing_garbage_rejected)
{
    CHECK(fails("{} x", SG_GOJSON_SYNTAX));
    CHECK(fails("{}}", SG_GOJSON_SYNTAX));
    CHECK(fails("{} ]", SG_GOJSON_SYNTAX));
    CHECK(fails("{}{}", SG_GOJSON_SYNTAX));
    CHECK(fails("1 2", SG_GOJSON_SYNTAX));
    CHECK(fails_n("{}\0", 3, SG_GOJSON_SYNTAX));
    CHECK_INT(E.offset, 2);
    CHECK(fails("{}\f", SG_GOJSON_SYNTAX));
    json_t *j = parse(" \t\r\n{} \r\n\t ");
    CHECK(json_is_object(j));
    json_decref(j);
}

TEST(grammar_strict)
{
    static const char *const bad[] = {
        "{\"a\":1,}", "[1,]", "[,1]", "{,}", "[1 2]", "{\"a\" 1}",
        "{\"a\"}", "{a:1}", "{'a':1}", "['a']", "// c\n{}", "/* c */{}",
        "{}/**/", "# c\n{}", "NaN", "Infinity", "-Infinity", "nan",
        "01", "-01", "00", "-", "+1", ".5", "1.", "1.e3", "1e", "1e+",
        "-a", "0x10", "tru", "nul", "nulls", "True", "\xef\xbb\xbf{}",
        "\x0b{}", "[", "{", "{\"a\":", "[1", "]", "}", ":", "\"a\":1",
        "{\"a\":1 \"b\":2}", "[\"a\" , ]", "{\"a\":1}x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(fails(bad[i], SG_GOJSON_SYNTAX));
}

TEST(scalars_at_top_level)
{
    json_t *j = parse("true");
    CHECK(json_is_true(j));
    j = parse(" false ");
    CHECK(json_is_false(j));
    j = parse("null");
    CHECK(json_is_null(j));
    j = parse("\"x\"");
    CHECK_STR(json_string_value(j), "x");
    json_decref(j);
    j = parse("[]");
    CHECK(json_is_array(j) && json_array_size(j) == 0);
    json_decref(j);
    j = parse("{ }");
    CHECK(json_is_object(j) && json_object_size(j) == 0);
    json_decref(j);
}

TEST(empty_strings_and_keys)
{
    json_t *j = parse("\"\"");
    CHECK(json_is_string(j) && json_string_length(j) == 0);
    json_decref(j);
    j = parse("{\"\":\"\"}");
    CHECK(json_is_object(j) && json_object_size(j) == 1);
    CHECK_STR(json_string_value(json_object_get(j, "")), "");
    CHECK(sg_gojson_get(j, "", NULL) != NULL);
    json_decref(j);
    CHECK(fails("{\"\":1,\"\":2}", SG_GOJSON_AMBIGUOUS));
}

static json_t *nested(char open, char close, const char *inner, int depth)
{
    size_t n = strlen(inner), len = (size_t)depth * (open == '{' ? 6 : 2) + n;
    char *s = malloc(len + 1), *w = s;
    for (int i = 0; i < depth; i++) {
        if (open == '{') {
            memcpy(w, "{\"k\":", 5);
            w += 5;
        } else {
            *w++ = open;
        }
    }
    memcpy(w, inner, n);
    w += n;
    for (int i = 0; i < depth; i++)
        *w++ = close;
    json_t *j = parse_n(s, (size_t)(w - s));
    free(s);
    return j;
}

TEST(deep_nesting)
{
    json_t *j = nested('[', ']', "1", SG_GOJSON_MAX_DEPTH);
    CHECK(j != NULL);
    json_decref(j);
    j = nested('[', ']', "1", SG_GOJSON_MAX_DEPTH + 1);
    CHECK(j == NULL && E.status == SG_GOJSON_TOO_DEEP);
    CHECK_INT(E.offset, SG_GOJSON_MAX_DEPTH);
    j = nested('{', '}', "1", SG_GOJSON_MAX_DEPTH);
    CHECK(j != NULL);
    json_decref(j);
    j = nested('{', '}', "1", SG_GOJSON_MAX_DEPTH + 1);
    CHECK(j == NULL && E.status == SG_GOJSON_TOO_DEEP);
    /* A huge unbalanced prefix is refused without deep recursion. */
    j = nested('[', ']', "", 200000);
    CHECK(j == NULL && E.status == SG_GOJSON_TOO_DEEP);
}

static int integer_is(const char *doc, json_int_t want)
{
    json_t *j = parse(doc);
    int ok = json_is_integer(j) && json_integer_value(j) == want;
    json_decref(j);
    return ok;
}

static int real_is(const char *doc, double want)
{
    json_t *j = parse(doc);
    int ok = json_is_real(j) && json_real_value(j) == want;
    json_decref(j);
    return ok;
}

TEST(numbers)
{
    CHECK(integer_is("0", 0));
    CHECK(integer_is("-0", 0));
    CHECK(integer_is("42", 42));
    CHECK(integer_is("-17", -17));
    CHECK(integer_is("9223372036854775807", INT64_MAX));
    CHECK(integer_is("-9223372036854775808", INT64_MIN));
    CHECK(real_is("1e3", 1000.0));
    CHECK(real_is("1E+2", 100.0));
    CHECK(real_is("1.5", 1.5));
    CHECK(real_is("-2.5e-3", -2.5e-3));
    CHECK(real_is("0.0", 0.0));
    CHECK(real_is("-0.0", 0.0));
    CHECK(real_is("1e-400", 0.0)); /* underflow is not an error in Go */
    CHECK(real_is("9223372036854775808.0", 9223372036854775808.0));
    CHECK(fails("9223372036854775808", SG_GOJSON_NUMBER));
    CHECK(fails("-9223372036854775809", SG_GOJSON_NUMBER));
    CHECK(fails("[1, 123456789012345678901234567890]", SG_GOJSON_NUMBER));
    CHECK_INT(E.offset, 4);
    CHECK(fails("1e400", SG_GOJSON_NUMBER));
    CHECK(fails("-1.7e309", SG_GOJSON_NUMBER));
    json_t *j = parse("{\"Memory\": 1e3}");
    CHECK(json_is_real(sg_gojson_get(j, "memory", NULL)));
    json_decref(j);
}

TEST(empty_and_whitespace_only)
{
    CHECK(fails("", SG_GOJSON_SYNTAX));
    CHECK(fails(" \t\r\n", SG_GOJSON_SYNTAX));
    CHECK_INT(E.offset, 4);
    CHECK_INT(E.line, 2);
    json_t *j = sg_gojson_parse(NULL, 0, &E);
    CHECK(j == NULL && E.status == SG_GOJSON_SYNTAX);
    /* err may be omitted. */
    CHECK(sg_gojson_parse("x", 1, NULL) == NULL);
}

TEST(error_positions)
{
    const char *doc = "{\n  \"a\": 1,\n  \"b\": tru\n}";
    CHECK(fails(doc, SG_GOJSON_SYNTAX));
    CHECK_INT(E.line, 3);
    CHECK_INT(E.offset, (size_t)(strstr(doc, "tru\n") - doc) + 3);
    CHECK(fails("[1,\n\n\"a\x01\"]", SG_GOJSON_SYNTAX));
    CHECK_INT(E.line, 3);
    CHECK_INT(E.offset, 7);
    CHECK(strstr(E.message, "\\x01") != NULL);
    /* A successful parse leaves err zeroed with status OK. */
    json_t *j = parse("[]");
    CHECK_INT(E.status, SG_GOJSON_OK);
    json_decref(j);
}

TEST(fold_function)
{
    char out[64];
    CHECK_INT(sg_gojson_fold("HostConfig", 10, out, sizeof out), 10);
    CHECK_STR(out, "hostconfig");
    CHECK_INT(sg_gojson_fold("Bind\xc5\xbf", 6, out, sizeof out), 5);
    CHECK_STR(out, "binds");
    CHECK_INT(sg_gojson_fold("\xe2\x84\xaa" "EY", 5, out, sizeof out), 3);
    CHECK_STR(out, "key");
    /* Other non-ASCII runes are kept as they are (U+00C9, U+0131). */
    CHECK_INT(sg_gojson_fold("\xc3\x89x\xc4\xb1", 5, out, sizeof out), 5);
    CHECK_STR(out, "\xc3\x89x\xc4\xb1");
    CHECK_INT(sg_gojson_fold("a\0B", 3, out, sizeof out), 3);
    CHECK(memcmp(out, "a\0b", 4) == 0);
    CHECK_INT(sg_gojson_fold("", 0, out, sizeof out), 0);
    CHECK_STR(out, "");
    /* Exactly enough room (length + NUL) works; one byte less does not. */
    CHECK_INT(sg_gojson_fold("ABC", 3, out, 4), 3);
    CHECK_INT(sg_gojson_fold("ABC", 3, out, 3), -1);
    CHECK_INT(sg_gojson_fold("", 0, out, 0), -1);
    CHECK_INT(sg_gojson_fold("\xc5\xbf\xc5\xbf", 4, out, 3), 2);
}

/*
 * Deep equality that honours key lengths: jansson 2.14's json_equal()
 * looks keys up with strlen(), so "a\0b" never matches itself there.
 */
static int tree_equal(json_t *a, json_t *b)
{
    if (!a || !b)
        return a == b;
    if (json_typeof(a) != json_typeof(b))
        return 0;
    switch (json_typeof(a)) {
    case JSON_OBJECT: {
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
    case JSON_ARRAY:
        if (json_array_size(a) != json_array_size(b))
            return 0;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!tree_equal(json_array_get(a, i), json_array_get(b, i)))
                return 0;
        return 1;
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b),
                      json_string_length(a)) == 0;
    default:
        return json_equal(a, b);
    }
}

static int round_trips(const char *doc, size_t n)
{
    json_t *a = parse_n(doc, n);
    if (!a)
        return 0;
    char *text = json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY);
    json_t *b = text ? parse(text) : NULL;
    int ok = b != NULL && tree_equal(a, b);
    if (!ok)
        fprintf(stderr, "  round trip of %s failed (%s)\n", text ? text : "?",
                E.message);
    free(text);
    json_decref(a);
    json_decref(b);
    return ok;
}

TEST(round_trip)
{
    static const char doc[] =
        "{\"Image\":\"alpine\",\"hostconfig\":{\"Binds\":[\"/a:/b\"],"
        "\"NanoCpus\":-9223372036854775808,\"CpuShares\":1e3,\"x\":-0.0,"
        "\"r\":1.7976931348623157e308,\"t\":5e-324},"
        "\"a\\u0000b\":\"c\\u0000d\",\"bad\":\"\xff\\ud800\","
        "\"emoji\\ud83d\\ude00\":[true,false,null,[],{}],"
        "\"ctl\":\"\\u0001\\u001f\\\"\\\\\\/\"}";
    CHECK(round_trips(doc, sizeof doc - 1));
    CHECK(round_trips("[0.1,1e-7,123456789.125,3]", 26));
    CHECK(round_trips("\"\\u2028\\u2029\"", 14));
}

TEST(too_many_values_refused_and_counted_before_parsing)
{
    /* [[],[],…]: the shape whose tree costs 44 times its size */
    size_t n = SG_GOJSON_MAX_VALUES + 1, len = 2 + n * 3;
    char *body = malloc(len + 1);
    CHECK(body != NULL);
    if (!body)
        return;
    size_t k = 0;
    body[k++] = '[';
    for (size_t i = 0; i < n; i++) {
        body[k++] = '[';
        body[k++] = ']';
        body[k++] = i + 1 < n ? ',' : ']';
    }
    body[k] = '\0';
    CHECK(sg_gojson_count_values(body, k) > SG_GOJSON_MAX_VALUES);
    sg_gojson_error err;
    json_t *j = sg_gojson_parse(body, k, &err);
    CHECK(j == NULL);
    CHECK_INT(err.status, SG_GOJSON_TOO_LARGE);
    json_decref(j);
    free(body);
    /* the count never falls short of what the parser makes */
    const char *small = "{\"a\":[1,\"x,y:{\",{\"b\":null}],\"c\":{}}";
    CHECK(sg_gojson_count_values(small, strlen(small)) >= 7);
    CHECK_INT(sg_gojson_count_values("[]", 2), 2);
}

TEST(object_end_is_where_go_stops_reading)
{
    const char *b = " {\"Detach\":false,\"x\":\"}\\\"{\",\"y\":[{}]}tail";
    CHECK_INT(sg_gojson_object_end(b, strlen(b)), strlen(b) - 4);
    CHECK_INT(sg_gojson_object_end("[1]", 3), 0);     /* not an object */
    CHECK_INT(sg_gojson_object_end("{\"a\":1", 6), 0);  /* not whole */
    CHECK_INT(sg_gojson_object_end("  ", 2), 0);
}

int main(void)
{
    RUN(dockerd_create_body);
    RUN(get_case_insensitive_spellings);
    RUN(get_kelvin_sign_matches_k);
    RUN(get_non_matches);
    RUN(get_prefers_exact_key);
    RUN(ambiguous_keys_refused);
    RUN(ambiguous_message_names_line_and_is_sanitised);
    RUN(escapes_decoded);
    RUN(surrogates);
    RUN(lone_surrogates_become_fffd);
    RUN(invalid_utf8_becomes_fffd_per_byte);
    RUN(control_characters_rejected);
    RUN(trailing_garbage_rejected);
    RUN(grammar_strict);
    RUN(scalars_at_top_level);
    RUN(empty_strings_and_keys);
    RUN(deep_nesting);
    RUN(numbers);
    RUN(empty_and_whitespace_only);
    RUN(error_positions);
    RUN(fold_function);
    RUN(round_trip);
    RUN(too_many_values_refused_and_counted_before_parsing);
    RUN(object_end_is_where_go_stops_reading);
    return UNIT_DONE();
}
