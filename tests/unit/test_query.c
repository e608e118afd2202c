/*
 * test_query.c — queries read the way Go's url.ParseQuery and Form.Get read
 * them for dockerd: validated once, then parsed into values that can only
 * be present or absent.
 */
#include <stdlib.h>
#include <string.h>

#include "http/query.h"
#include "unit.h"

/* The first value of key in q, copied (or "<absent>"); q must parse. */
static const char *first(const char *q, const char *key)
{
    static char out[8192];
    http_query p;
    if (http_query_parse(q, strlen(q), &p) != HTTP_QUERY_OK)
        return "<malformed>";
    const char *v = http_query_first(&p, key);
    snprintf(out, sizeof out, "%s", v ? v : "<absent>");
    http_query_free(&p);
    return out;
}

static bool valid(const char *q)
{
    char why[200];
    return http_query_valid(q, strlen(q), why, sizeof why);
}

TEST(first_value_decoded)
{
    CHECK_STR(first("a=1&container=web&container=db", "container"), "web");
    CHECK_STR(first("networkmode=ho%73t", "networkmode"), "host");
    CHECK_STR(first("c%6fntainer=x+y", "container"), "x y");
    CHECK_STR(first("flag", "flag"), "");
    CHECK_STR(first("&&a=&", "a"), "");
    CHECK_STR(first("a=b=c", "a"), "b=c");
}

TEST(absent_and_case_sensitive)
{
    CHECK_STR(first("Container=x", "container"), "<absent>");
    CHECK_STR(first("", "container"), "<absent>");
    http_query p;
    CHECK_INT(http_query_parse(NULL, 0, &p), HTTP_QUERY_OK);
    CHECK(http_query_first(&p, "a") == NULL);
    http_query_free(&p);
}

TEST(malformed_like_go)
{
    static const char *const bad[] = {"networkmode=bridge;networkmode=host",
                                      "a=%zz&networkmode=host", "a=%4", "a=%00", "%00=1",
                                      "x=%00&container=victim", "a%=1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK(!valid(bad[i]));
        CHECK_STR(first(bad[i], "a"), "<malformed>");
    }
    CHECK(valid("a=1&b=%41&c=+&&"));
}

/* Issue 17: lengths are no reason to call a query malformed, nor to read a
 * value as absent: a 300-byte key and a 6000-byte value are read whole. */
TEST(long_keys_and_values_are_read_whole)
{
    char q[8000];
    memset(q, 'k', 300);
    strcpy(q + 300, "=1&container=victim&cgroupparent=");
    size_t n = strlen(q);
    memset(q + n, 'v', 6000);
    q[n + 6000] = '\0';
    CHECK(valid(q));
    CHECK_STR(first(q, "container"), "victim");
    CHECK_INT((long)strlen(first(q, "cgroupparent")), 6000);
}

TEST(malformed_names_the_parameter)
{
    char why[200];
    CHECK(!http_query_valid("ok=1&x=%00", 10, why, sizeof why));
    CHECK(strstr(why, "\"x\"") != NULL);
    CHECK(!http_query_valid("ok=1&bad;=1", 11, why, sizeof why));
    CHECK(strstr(why, "bad") != NULL);
}

int main(void)
{
    RUN(first_value_decoded);
    RUN(absent_and_case_sensitive);
    RUN(malformed_like_go);
    RUN(long_keys_and_values_are_read_whole);
    RUN(malformed_names_the_parameter);
    return UNIT_DONE();
}
