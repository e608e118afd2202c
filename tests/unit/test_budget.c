/*
 * test_budget.c — the process-wide and per-caller budget (gate/budget.c):
 * shares, exhaustion, give-back, and that a refusal takes nothing.
 */
#include "gate/budget.h"

#include "unit.h"

static sg_caller caller(sg_socket_kind socket, uid_t uid)
{
    return (sg_caller){.socket = socket, .pid = -1, .uid = uid, .gid = uid};
}

TEST(caller_over_its_share_gets_429_others_go_on)
{
    sg_budget b;
    sg_budget_init(&b, 400, 8); /* a share: 100 bytes, 2 decisions */
    sg_caller alice = caller(SG_SOCKET_PUBLIC, 1000), bob = caller(SG_SOCKET_PUBLIC, 1001);
    sg_budget_hold a1 = {0}, a2 = {0}, b1 = {0};
    const char *why = NULL;
    CHECK_INT(sg_budget_take(&b, &a1, &alice, (sg_budget_cost){60, 1}, &why), 0);
    CHECK_INT(sg_budget_take(&b, &a2, &alice, (sg_budget_cost){60, 0}, &why), 429);
    CHECK(why && strstr(why, "this caller"));
    CHECK_INT(a2.held.bytes, 0); /* a refusal takes nothing */
    CHECK(a2.budget == NULL);
    CHECK_INT(sg_budget_take(&b, &b1, &bob, (sg_budget_cost){100, 2}, &why), 0);
    CHECK_INT(b.used.bytes, 160);
    CHECK_INT(b.refused_caller, 1);
    sg_budget_hold_release(&a1);
    CHECK_INT(sg_budget_take(&b, &a2, &alice, (sg_budget_cost){100, 0}, &why), 0);
    sg_budget_hold_release(&a2);
    sg_budget_hold_release(&b1);
    CHECK_INT(b.used.bytes, 0);
    CHECK_INT(b.used.decisions, 0);
    CHECK_INT(b.n_callers, 0);
    sg_budget_free(&b);
}

TEST(process_budget_exhausted_by_many_callers_gets_503)
{
    sg_budget b;
    sg_budget_init(&b, 400, 1000);
    sg_budget_hold h[5] = {{0}};
    const char *why = NULL;
    for (uid_t u = 0; u < 4; u++) {
        sg_caller who = caller(SG_SOCKET_PUBLIC, 2000 + u);
        CHECK_INT(sg_budget_take(&b, &h[u], &who, (sg_budget_cost){100, 1}, &why), 0);
    }
    sg_caller fifth = caller(SG_SOCKET_PUBLIC, 3000);
    CHECK_INT(sg_budget_take(&b, &h[4], &fifth, (sg_budget_cost){1, 0}, &why), 503);
    CHECK(why && strstr(why, "busy"));
    CHECK_INT(b.refused_total, 1);
    sg_budget_hold_release(&h[2]);
    CHECK_INT(sg_budget_take(&b, &h[4], &fifth, (sg_budget_cost){1, 0}, &why), 0);
    for (int i = 0; i < 5; i++)
        sg_budget_hold_release(&h[i]);
    CHECK_INT(b.used.bytes, 0);
    CHECK_INT(b.n_callers, 0);
    sg_budget_free(&b);
}

TEST(restricted_callers_pay_by_container_unknown_ones_together)
{
    sg_budget b;
    sg_budget_init(&b, 400, 1000);
    sg_caller u1 = caller(SG_SOCKET_RESTRICTED, 0), u2 = caller(SG_SOCKET_RESTRICTED, 100000);
    u1.container.state = u2.container.state = SG_CONTAINER_UNKNOWN;
    sg_caller k1 = u1, k2 = u1;
    k1.container.state = k2.container.state = SG_CONTAINER_KNOWN;
    memset(k1.container.id, 'a', 64);
    memset(k2.container.id, 'b', 64);
    sg_budget_hold h1 = {0}, h2 = {0}, h3 = {0}, h4 = {0}, h5 = {0};
    const char *why = NULL;
    CHECK_INT(sg_budget_take(&b, &h1, &u1, (sg_budget_cost){80, 0}, &why), 0);
    CHECK_INT(sg_budget_take(&b, &h2, &u2, (sg_budget_cost){80, 0}, &why), 429); /* one share */
    CHECK_INT(sg_budget_take(&b, &h3, &k1, (sg_budget_cost){80, 0}, &why), 0);
    CHECK_INT(sg_budget_take(&b, &h4, &k2, (sg_budget_cost){80, 0}, &why), 0);  /* its own */
    CHECK_INT(sg_budget_take(&b, &h5, &k1, (sg_budget_cost){80, 0}, &why), 429);
    CHECK_INT(b.n_callers, 3);
    sg_budget_hold_release(&h1);
    sg_budget_hold_release(&h3);
    sg_budget_hold_release(&h4);
    CHECK_INT(b.n_callers, 0);
    sg_budget_free(&b);
}

TEST(partial_give_and_growing_hold)
{
    sg_budget b;
    sg_budget_init(&b, 4000, 8);
    sg_caller who = caller(SG_SOCKET_PUBLIC, 42);
    sg_budget_hold h = {0};
    const char *why = NULL;
    CHECK_INT(sg_budget_take(&b, &h, &who, (sg_budget_cost){100, 0}, &why), 0);
    CHECK_INT(sg_budget_take(&b, &h, &who, (sg_budget_cost){300, 1}, &why), 0);
    CHECK_INT(h.held.bytes, 400);
    CHECK_INT(h.held.decisions, 1);
    sg_budget_give(&h, (sg_budget_cost){300, 1});
    CHECK_INT(h.held.bytes, 100);
    CHECK_INT(b.used.bytes, 100);
    sg_budget_give(&h, (sg_budget_cost){500, 5}); /* never more than held */
    CHECK_INT(b.used.bytes, 0);
    CHECK_INT(b.used.decisions, 0);
    CHECK_INT(b.n_callers, 0);
    sg_budget_hold_release(&h); /* twice is harmless */
    sg_budget_free(&b);
}

int main(void)
{
    RUN(caller_over_its_share_gets_429_others_go_on);
    RUN(process_budget_exhausted_by_many_callers_gets_503);
    RUN(restricted_callers_pay_by_container_unknown_ones_together);
    RUN(partial_give_and_growing_hold);
    return UNIT_DONE();
}
