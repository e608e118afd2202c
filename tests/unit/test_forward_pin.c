/*
 * test_forward_pin.c — sg_forward_head_pin(): an allowed request's head
 * names the container the decision checked by its ID, in the path or first
 * in commit's query, and a head that does not name the subject where the
 * decision saw it is refused rather than forwarded.
 */
#include <stdlib.h>
#include <string.h>

#include "gate/gate.h"
#include "unit.h"

#define ID "c0ffee00"

/* Pin `head` in a buffer of cap bytes as verdict v says; the new head, or
 * NULL when refused. */
static char *pin_in(const char *head, size_t cap, const char *subject, size_t at,
                    bool in_query)
{
    sg_verdict v = {.kind = SG_VERDICT_ALLOW, .subject_at = at, .subject_in_query = in_query};
    snprintf(v.subject, sizeof v.subject, "%s", subject);
    snprintf(v.pin, sizeof v.pin, "%s", ID);
    size_t len = strlen(head);
    char *h = malloc(cap);
    memcpy(h, head, len);
    if (sg_forward_head_pin(h, &len, cap, &v) != 0) {
        free(h);
        return NULL;
    }
    char *out = strndup(h, len);
    free(h);
    return out;
}

static char *pin(const char *head, const char *subject, size_t at, bool in_query)
{
    return pin_in(head, strlen(head) + SG_FORWARD_PIN_ROOM, subject, at, in_query);
}

static bool pinned_to(char *got, const char *want)
{
    bool ok = got && strcmp(got, want) == 0;
    if (!ok)
        fprintf(stderr, "    got: %s\n", got ? got : "(refused)");
    free(got);
    return ok;
}

TEST(subject_in_the_path)
{
    const char *h = "POST /v1.43/containers/web/exec HTTP/1.1\r\nHost: x\r\n";
    CHECK(pinned_to(pin(h, "web", strlen("/v1.43/containers/"), false),
                    "POST /v1.43/containers/" ID "/exec HTTP/1.1\r\nHost: x\r\n"));
    h = "POST /containers/web/start HTTP/1.1\r\n";
    CHECK(pinned_to(pin(h, "web", strlen("/containers/"), false),
                    "POST /containers/" ID "/start HTTP/1.1\r\n"));
    h = "PUT /containers/web?path=/ HTTP/1.1\r\n"; /* ends the path with ? */
    CHECK(pinned_to(pin(h, "web", strlen("/containers/"), false),
                    "PUT /containers/" ID "?path=/ HTTP/1.1\r\n"));
}

TEST(subject_first_in_the_query)
{
    const char *h = "POST /v1.43/commit?repo=x&container=web HTTP/1.1\r\n";
    CHECK(pinned_to(pin(h, "web", 0, true),
                    "POST /v1.43/commit?container=" ID "&repo=x&container=web HTTP/1.1\r\n"));
    CHECK(pin("POST /commit HTTP/1.1\r\n", "web", 0, true) == NULL);
}

TEST(a_head_that_does_not_name_the_subject_is_refused)
{
    const char *h = "POST /containers/web/start HTTP/1.1\r\n";
    CHECK(pin(h, "wes", strlen("/containers/"), false) == NULL);
    CHECK(pin(h, "we", strlen("/containers/"), false) == NULL);     /* a prefix of it */
    CHECK(pin(h, "web", strlen("/containers/") + 40, false) == NULL); /* past the line */
    CHECK(pin("garbage", "web", 0, false) == NULL);
}

TEST(an_id_that_does_not_fit_the_room_is_refused)
{
    const char *h = "POST /containers/w/start HTTP/1.1\r\n";
    size_t at = strlen("/containers/");
    CHECK(pin_in(h, strlen(h) + strlen(ID) - 2, "w", at, false) == NULL);
    CHECK(pinned_to(pin_in(h, strlen(h) + strlen(ID) - 1, "w", at, false),
                    "POST /containers/" ID "/start HTTP/1.1\r\n"));
}

TEST(the_longest_pin_fits_the_room_reserved)
{
    sg_verdict v = {.kind = SG_VERDICT_ALLOW, .subject_in_query = true};
    memset(v.pin, 'a', sizeof v.pin - 1);
    v.pin[sizeof v.pin - 1] = '\0';
    const char *head = "POST /commit?container=w HTTP/1.1\r\n";
    size_t len = strlen(head), cap = len + SG_FORWARD_PIN_ROOM;
    char *h = malloc(cap);
    memcpy(h, head, len);
    CHECK_INT(sg_forward_head_pin(h, &len, cap, &v), 0);
    free(h);
}

TEST(no_pin_leaves_the_head_alone)
{
    sg_verdict v = {.kind = SG_VERDICT_ALLOW};
    char h[] = "POST /containers/web/start HTTP/1.1\r\n";
    size_t len = strlen(h);
    CHECK_INT(sg_forward_head_pin(h, &len, len, &v), 0);
    CHECK_INT(len, strlen(h));
    CHECK(strncmp(h, "POST /containers/web/start", 26) == 0);
}

int main(void)
{
    RUN(subject_in_the_path);
    RUN(subject_first_in_the_query);
    RUN(a_head_that_does_not_name_the_subject_is_refused);
    RUN(an_id_that_does_not_fit_the_room_is_refused);
    RUN(the_longest_pin_fits_the_room_reserved);
    RUN(no_pin_leaves_the_head_alone);
    return UNIT_DONE();
}
