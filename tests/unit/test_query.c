/*
 * test_query.c — query values read the way Go's url.ParseQuery and
 * Form.Get read them for dockerd.
 */
#include <string.h>

#include "http/query.h"
#include "unit.h"

static http_query_status get(const char *q, const char *key, char *out)
{
    return http_query_get(q, strlen(q), key, out, 128);
}

TEST(first_value_decoded)
{
    char v[128];
    CHECK_INT(get("a=1&container=web&container=db", "container", v), HTTP_QUERY_FOUND);
    CHECK_STR(v, "web");
    CHECK_INT(get("networkmode=ho%73t", "networkmode", v), HTTP_QUERY_FOUND);
    CHECK_STR(v, "host");
    CHECK_INT(get("c%6fntainer=x+y", "container", v), HTTP_QUERY_FOUND);
    CHECK_STR(v, "x y");
    CHECK_INT(get("flag", "flag", v), HTTP_QUERY_FOUND);
    CHECK_STR(v, "");
    CHECK_INT(get("&&a=&", "a", v), HTTP_QUERY_FOUND);
}

TEST(absent_and_case_sensitive)
{
    char v[128];
    CHECK_INT(get("Container=x", "container", v), HTTP_QUERY_ABSENT);
    CHECK_INT(get("", "container", v), HTTP_QUERY_ABSENT);
    CHECK_INT(http_query_get(NULL, 0, "a", v, sizeof v), HTTP_QUERY_ABSENT);
}

TEST(malformed_like_go)
{
    char v[128];
    CHECK_INT(get("networkmode=bridge;networkmode=host", "networkmode", v), HTTP_QUERY_MALFORMED);
    CHECK_INT(get("a=%zz&networkmode=host", "networkmode", v), HTTP_QUERY_MALFORMED);
    CHECK_INT(get("a=%4", "a", v), HTTP_QUERY_MALFORMED);
    CHECK_INT(get("a=%00", "a", v), HTTP_QUERY_MALFORMED);
    char small[4];
    CHECK_INT(http_query_get("a=12345", 7, "a", small, sizeof small), HTTP_QUERY_MALFORMED);
}

int main(void)
{
    RUN(first_value_decoded);
    RUN(absent_and_case_sensitive);
    RUN(malformed_like_go);
    return UNIT_DONE();
}
