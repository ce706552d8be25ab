/* test_deals.c - the deal pipeline against a real dangand-test over TLS:
 * stages of the team's pipeline (the defaults: lead, qualified, proposal,
 * negotiation, won, lost), their probabilities, the won date, the lost
 * reason, DealMove with its version check, history and change events of a
 * move, deal lists by stage and by the customer's owner, and the CLI's
 * `deal move` and `deal list`. Time moves by the driven clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"
#include "fixture.h"

#define DAY_MS (24LL * 3600 * 1000)

static dgt_server srv;
static dg_client *admin, *s1;
static int64_t cust_s1, cust_s2; /* customers owned by s1 and s2 */
static char cfg[300];            /* the CLI's config dir, logged in as s1 */
static dgt_run run;

#define CLI(input, ...)                                                                            \
    do {                                                                                           \
        const char *argv_[] = {__VA_ARGS__, NULL};                                                 \
        dgt_cli(&run, cfg, input, argv_);                                                          \
    } while (0)

static int64_t make_customer(const char *name, const char *owner)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__CreateRequest m = DANGAN__V1__CREATE_REQUEST__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
    Dangan__V1__UserRef o = DANGAN__V1__USER_REF__INIT;
    dg_reply *r;
    int64_t id;

    cu.name = (char *)name;
    o.username = (char *)owner;
    cu.owner = &o;
    cu.tier = DANGAN__V1__TIER__TIER_B;
    rec.kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
    rec.customer = &cu;
    m.record = &rec;
    m.allow_duplicate = true;
    req.body_case = DANGAN__V1__REQUEST__BODY_CREATE;
    req.create = &m;
    r = dgt_call(admin, &req);
    assert_int_equal(dgt_code(r), 0);
    id = dg_reply_response(r)->create->record->customer->id;
    dg_reply_free(r);
    return id;
}

static int setup(void **state)
{
    dgt_run login;

    (void)state;
    dgt_server_start_prog(&srv, NULL, DANGAND_TEST_PATH);
    dgt_make_user(&srv, "s1", DANGAN__V1__ROLE__ROLE_SALES, "sales-one-password-1");
    dgt_make_user(&srv, "s2", DANGAN__V1__ROLE__ROLE_SALES, "sales-two-password-1");
    admin = dgt_login(&srv, "admin", srv.admin_password);
    s1 = dgt_login(&srv, "s1", "sales-one-password-1");
    cust_s1 = make_customer("管道测试一号公司", "s1");
    cust_s2 = make_customer("管道测试二号公司", "s2");
    snprintf(cfg, sizeof cfg, "%s/cli", srv.root);
    dgt_cli_login(&login, cfg, &srv, "s1", "sales-one-password-1");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dg_client_close(s1);
    dg_client_close(admin);
    dgt_server_stop(&srv);
    return 0;
}

/* ------------------------------------------------------------ helpers */

/* Creates a deal of `customer` as `c`: stage "" for the default, prob 0
 * for the stage's. */
static dg_reply *create_deal(dg_client *c, int64_t customer, const char *stage, int prob,
                             const char *lost_reason, int64_t at_ms)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__CreateRequest m = DANGAN__V1__CREATE_REQUEST__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Deal d = DANGAN__V1__DEAL__INIT;
    Dangan__V1__Money amount = DANGAN__V1__MONEY__INIT;

    amount.amount_minor = 100000;
    d.customer_id = customer;
    d.amount = &amount;
    d.stage = (char *)stage;
    d.probability = prob;
    d.lost_reason = (char *)(lost_reason ? lost_reason : "");
    d.at_ms = at_ms;
    rec.kind_case = DANGAN__V1__RECORD__KIND_DEAL;
    rec.deal = &d;
    m.record = &rec;
    req.body_case = DANGAN__V1__REQUEST__BODY_CREATE;
    req.create = &m;
    return dgt_call(c, &req);
}

static const Dangan__V1__Deal *deal_of(const dg_reply *r)
{
    return dg_reply_response(r)->create->record->deal;
}

/* A new deal at the default stage; its id. */
static int64_t new_deal(dg_client *c, int64_t customer)
{
    dg_reply *r = create_deal(c, customer, "", 0, NULL, 0);
    int64_t id;

    assert_int_equal(dgt_code(r), 0);
    id = deal_of(r)->id;
    dg_reply_free(r);
    return id;
}

static dg_reply *move(dg_client *c, int64_t id, const char *stage, int64_t version,
                      const char *reason)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__DealMoveRequest m = DANGAN__V1__DEAL_MOVE_REQUEST__INIT;

    m.deal_id = id;
    m.stage = (char *)stage;
    m.expected_version = version;
    m.lost_reason = (char *)(reason ? reason : "");
    req.body_case = DANGAN__V1__REQUEST__BODY_DEAL_MOVE;
    req.deal_move = &m;
    return dgt_call(c, &req);
}

static const Dangan__V1__Deal *moved(const dg_reply *r)
{
    return dg_reply_response(r)->deal_move->record->deal;
}

static const char *message(const dg_reply *r)
{
    return dg_reply_response(r)->status->message;
}

/* ------------------------------------------------------------ stages on create */

static void test_a_new_deal_starts_at_the_first_stage_with_its_probability(void **state)
{
    dg_reply *r = create_deal(s1, cust_s1, "", 0, NULL, 0);

    (void)state;
    assert_int_equal(dgt_code(r), 0);
    assert_string_equal(deal_of(r)->stage, "lead");
    assert_int_equal(deal_of(r)->probability, 10);
    dg_reply_free(r);
    r = create_deal(s1, cust_s1, "proposal", 0, NULL, 0);
    assert_string_equal(deal_of(r)->stage, "proposal");
    assert_int_equal(deal_of(r)->probability, 50);
    dg_reply_free(r);
    r = create_deal(s1, cust_s1, "proposal", 35, NULL, 0);
    assert_int_equal(deal_of(r)->probability, 35); /* given: kept */
    dg_reply_free(r);
}

static void test_an_unknown_stage_is_refused_with_the_list_of_stages(void **state)
{
    dg_reply *r = create_deal(s1, cust_s1, "closed", 0, NULL, 0);
    int64_t id = new_deal(s1, cust_s1);

    (void)state;
    assert_int_equal(dgt_code(r), 3); /* INVALID_ARGUMENT */
    assert_string_equal(dgt_reason(r), "unknown_stage");
    assert_non_null(strstr(message(r), "lead, qualified, proposal, negotiation, won, lost"));
    dg_reply_free(r);
    r = move(s1, id, "signed", 1, NULL);
    assert_int_equal(dgt_code(r), 3);
    assert_string_equal(dgt_reason(r), "unknown_stage");
    assert_non_null(strstr(message(r), "lead, qualified"));
    dg_reply_free(r);
}

static void test_a_lost_deal_needs_a_reason(void **state)
{
    int64_t id = new_deal(s1, cust_s1);
    dg_reply *r = move(s1, id, "lost", 1, NULL);

    (void)state;
    assert_int_equal(dgt_code(r), 3);
    assert_string_equal(dgt_reason(r), "lost_reason_required");
    dg_reply_free(r);
    r = create_deal(s1, cust_s1, "lost", 0, NULL, 0);
    assert_string_equal(dgt_reason(r), "lost_reason_required");
    dg_reply_free(r);
    r = move(s1, id, "lost", 1, "价格太高");
    assert_int_equal(dgt_code(r), 0);
    assert_string_equal(moved(r)->stage, "lost");
    assert_string_equal(moved(r)->lost_reason, "价格太高");
    assert_int_equal(moved(r)->probability, 0);
    assert_int_equal(moved(r)->version, 2);
    dg_reply_free(r);
}

static void test_a_won_deal_is_dated_when_it_was_won(void **state)
{
    int64_t id = new_deal(s1, cust_s1), before;
    dg_reply *r;

    (void)state;
    dgt_clock_advance(&srv, 3 * DAY_MS); /* won three days after it was made */
    dg_client_close(s1);                 /* the session ended meanwhile */
    s1 = dgt_login(&srv, "s1", "sales-one-password-1");
    before = dg_now_ms() + 3 * DAY_MS;
    r = move(s1, id, "won", 1, NULL);
    assert_int_equal(dgt_code(r), 0);
    assert_int_equal(moved(r)->probability, 100);
    assert_true(moved(r)->at_ms >= before - 1000);
    assert_true(moved(r)->at_ms <= dg_now_ms() + 3 * DAY_MS + 1000);
    dg_reply_free(r);
}

/* ------------------------------------------------------------ moves */

static void test_a_move_from_an_old_version_conflicts(void **state)
{
    int64_t id = new_deal(s1, cust_s1);
    dg_reply *r = move(admin, id, "qualified", 1, NULL);

    (void)state;
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);
    r = move(s1, id, "proposal", 1, NULL); /* s1 saw version 1: the stage moved since */
    assert_int_equal(dgt_code(r), 10);     /* ABORTED */
    assert_string_equal(dgt_reason(r), "version_conflict");
    assert_string_equal(dg_reply_response(r)->status->conflicting_fields[0], "stage");
    assert_string_equal(moved(r)->stage, "qualified");
    dg_reply_free(r);
    r = move(s1, id, "proposal", 2, NULL);
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);
}

static void test_a_move_is_refused_on_someone_elses_deal(void **state)
{
    int64_t id = new_deal(admin, cust_s2);
    dg_reply *r = move(s1, id, "qualified", 1, NULL);

    (void)state;
    assert_int_equal(dgt_code(r), 7); /* PERMISSION_DENIED */
    dg_reply_free(r);
}

struct seen {
    int64_t id;
    int n;
    bool has_stage, has_probability;
};

static void on_event(dg_client *c, const Dangan__V1__Event *ev, void *user)
{
    struct seen *s = user;

    (void)c;
    if (ev->body_case != DANGAN__V1__EVENT__BODY_CHANGE || ev->change->id != s->id ||
        ev->change->kind != DANGAN__V1__ENTITY_KIND__ENTITY_KIND_DEAL ||
        strcmp(ev->change->op, "updated") != 0)
        return;
    s->n++;
    for (size_t i = 0; i < ev->change->n_fields; i++) {
        s->has_stage |= !strcmp(ev->change->fields[i], "stage");
        s->has_probability |= !strcmp(ev->change->fields[i], "probability");
    }
}

static void test_a_move_is_in_the_history_and_the_change_feed(void **state)
{
    struct seen seen = {0};
    dg_client_opts o = {.server = srv.addr, .fingerprint = srv.fingerprint};
    Dangan__V1__SubscribeFilter f = DANGAN__V1__SUBSCRIBE_FILTER__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__HistoryRequest h = DANGAN__V1__HISTORY_REQUEST__INIT;
    const Dangan__V1__HistoryEntry *e;
    dg_client *w;
    uint64_t sub;
    dg_reply *r;
    bool found = false;

    (void)state;
    o.on_event = on_event;
    o.user = &seen;
    assert_int_equal(dg_client_open(&o, &w), DG_OK);
    assert_int_equal(dg_client_login(w, "admin", srv.admin_password, NULL), DG_OK);
    assert_int_equal(dg_client_subscribe(w, &f, NULL, false, &sub), DG_OK);
    seen.id = new_deal(s1, cust_s1);
    r = move(s1, seen.id, "negotiation", 1, NULL);
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);
    for (int64_t until = dg_mono_ms() + 5000; seen.n < 1 && dg_mono_ms() < until;)
        dg_client_poll(w, 50);
    assert_int_equal(seen.n, 1);
    assert_true(seen.has_stage);
    assert_true(seen.has_probability); /* the stage's probability came with it */
    dg_client_close(w);

    h.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_DEAL;
    h.id = seen.id;
    req.body_case = DANGAN__V1__REQUEST__BODY_HISTORY;
    req.history = &h;
    r = dgt_call(admin, &req);
    assert_int_equal(dgt_code(r), 0);
    e = dg_reply_response(r)->history->entries[0]; /* newest first: the move */
    assert_string_equal(e->username, "s1");
    for (size_t i = 0; i < e->n_changes; i++) {
        if (strcmp(e->changes[i]->field, "stage") != 0)
            continue;
        found = true;
        assert_string_equal(e->changes[i]->before, "\"lead\"");
        assert_string_equal(e->changes[i]->after, "\"negotiation\"");
    }
    assert_true(found);
    dg_reply_free(r);
}

/* ------------------------------------------------------------ lists */

static size_t list_count(dg_client *c, char **stages, size_t n_stages, const char *owner)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__ListRequest m = DANGAN__V1__LIST_REQUEST__INIT;
    Dangan__V1__ListFilter f = DANGAN__V1__LIST_FILTER__INIT;
    dg_reply *r;
    size_t n;

    f.stages = stages;
    f.n_stages = n_stages;
    f.owner = (char *)(owner ? owner : "");
    m.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_DEAL;
    m.filter = &f;
    m.limit = 1000;
    req.body_case = DANGAN__V1__REQUEST__BODY_LIST;
    req.list = &m;
    r = dgt_call(c, &req);
    if (dgt_code(r) != 0)
        fail_msg("list: %s", message(r));
    n = dg_reply_response(r)->list->n_records;
    for (size_t i = 0; i < n; i++) {
        const Dangan__V1__Deal *d = dg_reply_response(r)->list->records[i]->deal;
        bool is_in = n_stages == 0;

        for (size_t k = 0; k < n_stages; k++)
            is_in |= strcmp(d->stage, stages[k]) == 0;
        assert_true(is_in);
    }
    dg_reply_free(r);
    return n;
}

static void test_deal_lists_filter_by_stage_and_by_the_customers_owner(void **state)
{
    int64_t a = make_customer("列表测试甲", "s1"), b = make_customer("列表测试乙", "s2");
    char *negotiation[] = {"negotiation"}, *two[] = {"negotiation", "won"};
    size_t base_neg = list_count(admin, negotiation, 1, NULL);
    size_t base_two = list_count(admin, two, 2, NULL);
    size_t base_s2 = list_count(admin, negotiation, 1, "s2");
    dg_reply *r;

    (void)state;
    for (int i = 0; i < 3; i++) {
        dg_reply_free(create_deal(admin, a, "negotiation", 0, NULL, 0));
        dg_reply_free(create_deal(admin, b, i ? "won" : "negotiation", 0, NULL, 0));
    }
    assert_int_equal(list_count(admin, negotiation, 1, NULL), base_neg + 4);
    assert_int_equal(list_count(admin, two, 2, NULL), base_two + 6);
    assert_int_equal(list_count(admin, negotiation, 1, "s2"), base_s2 + 1);
    assert_int_equal(list_count(admin, NULL, 0, "s2"), list_count(admin, two, 2, "s2") + 1);

    r = NULL;
    {
        Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
        Dangan__V1__ListRequest m = DANGAN__V1__LIST_REQUEST__INIT;
        Dangan__V1__ListFilter f = DANGAN__V1__LIST_FILTER__INIT;
        char *bad[] = {"closed"};

        f.stages = bad;
        f.n_stages = 1;
        m.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_DEAL;
        m.filter = &f;
        req.body_case = DANGAN__V1__REQUEST__BODY_LIST;
        req.list = &m;
        r = dgt_call(admin, &req);
    }
    assert_string_equal(dgt_reason(r), "unknown_stage");
    assert_non_null(strstr(message(r), "lead, qualified"));
    dg_reply_free(r);
}

/* ------------------------------------------------------------ the CLI */

static void test_cli_moves_and_lists_deals(void **state)
{
    int64_t id = new_deal(s1, cust_s1);
    char ids[32], id_json[48], owner[] = "me";

    (void)state;
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    snprintf(id_json, sizeof id_json, "\"id\": %lld,", (long long)id); /* as --json prints it */
    CLI(NULL, "deal", "move", ids, "lost");
    assert_int_equal(run.status, 2); /* no terminal to ask on */
    assert_non_null(strstr(run.err, "--reason"));
    CLI(NULL, "deal", "move", ids, "closed");
    assert_int_equal(run.status, 9);
    assert_non_null(strstr(run.err, "lead, qualified, proposal, negotiation, won, lost"));
    CLI(NULL, "deal", "move", ids, "proposal", "--probability", "42", "--expected-close",
        "2027-03-31");
    assert_int_equal(run.status, 0);
    assert_non_null(strstr(run.out, "proposal (42%)"));
    CLI(NULL, "deal", "list", "--stage", "proposal", "--owner", owner);
    assert_int_equal(run.status, 0);
    assert_non_null(strstr(run.out, ids));
    assert_non_null(strstr(run.out, "管道测试一号公司"));
    assert_non_null(strstr(run.out, "2027-03-31"));
    assert_non_null(strstr(run.out, "42"));
    CLI(NULL, "--json", "deal", "list", "--stage", "lost,won", "--owner", "me");
    assert_int_equal(run.status, 0);
    assert_non_null(strstr(run.out, "\"records\""));
    assert_null(strstr(run.out, id_json));
    CLI(NULL, "deal", "move", ids, "lost", "--reason", "预算取消");
    assert_int_equal(run.status, 0);
    CLI(NULL, "--json", "deal", "list", "--stage", "lost", "--owner", "me");
    assert_non_null(strstr(run.out, "预算取消"));
    assert_non_null(strstr(run.out, id_json));
    CLI(NULL, "deal", "list", "--stage", "nope");
    assert_int_equal(run.status, 9);
    assert_non_null(strstr(run.err, "lead, qualified"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_new_deal_starts_at_the_first_stage_with_its_probability),
        cmocka_unit_test(test_an_unknown_stage_is_refused_with_the_list_of_stages),
        cmocka_unit_test(test_a_lost_deal_needs_a_reason),
        cmocka_unit_test(test_a_move_from_an_old_version_conflicts),
        cmocka_unit_test(test_a_move_is_refused_on_someone_elses_deal),
        cmocka_unit_test(test_a_move_is_in_the_history_and_the_change_feed),
        cmocka_unit_test(test_deal_lists_filter_by_stage_and_by_the_customers_owner),
        cmocka_unit_test(test_cli_moves_and_lists_deals),
        cmocka_unit_test(test_a_won_deal_is_dated_when_it_was_won), /* last: it moves the clock */
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
