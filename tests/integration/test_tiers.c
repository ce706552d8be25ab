/* test_tiers.c - the ABC classification against a real dangand-test over
 * TLS, on fixed data whose suggestion is computed by hand: ten customers,
 * won revenue with ties at both share boundaries, customers without
 * revenue, a deal outside the twelve-month window, one in another currency,
 * an open deal and an archived won one. Then TiersApply: exactly the
 * expected customers change, one change event each, one audit record; and
 * the window moving with the driven clock.
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
#define N_CUST 10
#define A DANGAN__V1__TIER__TIER_A
#define B DANGAN__V1__TIER__TIER_B
#define C DANGAN__V1__TIER__TIER_C

static dgt_server srv;
static dg_client *admin, *mgr, *s1;
static int64_t ids[N_CUST];
static char cfg[300];
static dgt_run run;

#define CLI(input, ...)                                                                            \
    do {                                                                                           \
        const char *argv_[] = {__VA_ARGS__, NULL};                                                 \
        dgt_cli(&run, cfg, input, argv_);                                                          \
    } while (0)

/* Each customer's tier now, and what the rule suggests (tiers.h): n = 10,
 * A the first round(2.0) = 2, A or B the first round(6.0) = 6. By revenue:
 * c1 1000 A; c2 900 A; c3 900 A (tied with c2 across the A boundary);
 * c4 500, c5 400, c6 300 B; c7 300 B (tied with c6 across the B boundary);
 * c8 100 C; c9 (its only won deal is 400 days old) and c10 (USD) 0: C. */
static const Dangan__V1__Tier current[N_CUST] = {B, C, C, C, C, C, C, C, A, C};
static const Dangan__V1__Tier expected[N_CUST] = {A, A, A, B, B, B, B, C, C, C};
static const int64_t revenue_yuan[N_CUST] = {1000, 900, 900, 500, 400, 300, 300, 100, 0, 0};

static int64_t make_customer(int i)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__CreateRequest m = DANGAN__V1__CREATE_REQUEST__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
    char name[64];
    dg_reply *r;
    int64_t id;

    snprintf(name, sizeof name, "分级测试客户%02d", i + 1);
    cu.name = name;
    cu.tier = current[i];
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

/* A deal of customer i: yuan in `currency`, at `stage`, days ago. */
static int64_t deal(int i, int64_t yuan, const char *currency, const char *stage, int days_ago)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__CreateRequest m = DANGAN__V1__CREATE_REQUEST__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Deal d = DANGAN__V1__DEAL__INIT;
    Dangan__V1__Money amount = DANGAN__V1__MONEY__INIT;
    dg_reply *r;
    int64_t id;

    amount.amount_minor = yuan * 100;
    amount.currency = (char *)currency;
    d.customer_id = ids[i];
    d.amount = &amount;
    d.stage = (char *)stage;
    d.at_ms = dg_now_ms() - days_ago * DAY_MS;
    rec.kind_case = DANGAN__V1__RECORD__KIND_DEAL;
    rec.deal = &d;
    m.record = &rec;
    req.body_case = DANGAN__V1__REQUEST__BODY_CREATE;
    req.create = &m;
    r = dgt_call(admin, &req);
    if (dgt_code(r) != 0)
        fail_msg("deal: %s", dg_reply_response(r)->status->message);
    id = dg_reply_response(r)->create->record->deal->id;
    dg_reply_free(r);
    return id;
}

static void archive_deal(int64_t id)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__ArchiveRequest m = DANGAN__V1__ARCHIVE_REQUEST__INIT;
    dg_reply *r;

    m.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_DEAL;
    m.id = id;
    req.body_case = DANGAN__V1__REQUEST__BODY_ARCHIVE;
    req.archive = &m;
    r = dgt_call(admin, &req);
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);
}

static int setup(void **state)
{
    dgt_run login;

    (void)state;
    dgt_server_start_prog(&srv, NULL, DANGAND_TEST_PATH);
    dgt_make_user(&srv, "s1", DANGAN__V1__ROLE__ROLE_SALES, "sales-one-password-1");
    dgt_make_user(&srv, "mgr", DANGAN__V1__ROLE__ROLE_MANAGER, "manager-password-1");
    admin = dgt_login(&srv, "admin", srv.admin_password);
    mgr = dgt_login(&srv, "mgr", "manager-password-1");
    s1 = dgt_login(&srv, "s1", "sales-one-password-1");
    for (int i = 0; i < N_CUST; i++)
        ids[i] = make_customer(i);
    deal(0, 1000, "CNY", "won", 10);
    deal(1, 600, "CNY", "won", 20);
    deal(1, 300, "CNY", "won", 300);
    deal(2, 900, "CNY", "won", 100);
    deal(3, 500, "CNY", "won", 1);
    deal(4, 400, "CNY", "won", 2);
    deal(5, 300, "CNY", "won", 3);
    deal(6, 300, "CNY", "won", 4);
    deal(7, 100, "CNY", "won", 5);
    deal(7, 5000, "CNY", "proposal", 5);          /* open: no revenue */
    archive_deal(deal(7, 9999, "CNY", "won", 5)); /* archived: none either */
    deal(8, 2000, "CNY", "won", 400);             /* outside the window */
    deal(9, 3000, "USD", "won", 5);               /* another currency */
    snprintf(cfg, sizeof cfg, "%s/cli", srv.root);
    dgt_cli_login(&login, cfg, &srv, "mgr", "manager-password-1");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dg_client_close(s1);
    dg_client_close(mgr);
    dg_client_close(admin);
    dgt_server_stop(&srv);
    return 0;
}

static dg_reply *tiers(dg_client *c, bool changes_only)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__TiersRequest m = DANGAN__V1__TIERS_REQUEST__INIT;

    m.changes_only = changes_only;
    m.limit = 1000;
    req.body_case = DANGAN__V1__REQUEST__BODY_TIERS;
    req.tiers = &m;
    return dgt_call(c, &req);
}

static dg_reply *apply(dg_client *c, const char *key)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__TiersApplyRequest m = DANGAN__V1__TIERS_APPLY_REQUEST__INIT;

    m.idempotency_key = (char *)key;
    req.body_case = DANGAN__V1__REQUEST__BODY_TIERS_APPLY;
    req.tiers_apply = &m;
    return dgt_call(c, &req);
}

static int index_of(int64_t id)
{
    for (int i = 0; i < N_CUST; i++)
        if (ids[i] == id)
            return i;
    fail_msg("customer %lld is not one of the test's", (long long)id);
    return -1;
}

static size_t audit_count(const char *action)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__AuditQueryRequest m = DANGAN__V1__AUDIT_QUERY_REQUEST__INIT;
    dg_reply *r;
    size_t n;

    m.action = (char *)action;
    m.outcome = "ok";
    m.limit = 1000;
    req.body_case = DANGAN__V1__REQUEST__BODY_AUDIT_QUERY;
    req.audit_query = &m;
    r = dgt_call(admin, &req);
    assert_int_equal(dgt_code(r), 0);
    n = dg_reply_response(r)->audit_query->n_records;
    dg_reply_free(r);
    return n;
}

/* ------------------------------------------------------------ the suggestion */

static void test_the_suggestion_matches_the_hand_computed_shares(void **state)
{
    dg_reply *r = tiers(mgr, false);
    const Dangan__V1__TiersResponse *t;

    (void)state;
    assert_int_equal(dgt_code(r), 0);
    t = dg_reply_response(r)->tiers;
    assert_int_equal(t->ranked, N_CUST);
    assert_int_equal(t->n_customers, N_CUST);
    assert_int_equal(t->changes, 8);
    assert_string_equal(t->currency, "CNY");
    for (size_t k = 0; k < t->n_customers; k++) {
        const Dangan__V1__TierSuggestion *s = t->customers[k];
        int i = index_of(s->customer_id);

        assert_int_equal(s->rank, k + 1);
        assert_int_equal(s->current, current[i]);
        if (s->suggested != expected[i])
            fail_msg("customer %d: suggested %d, expected %d", i + 1, s->suggested, expected[i]);
        assert_int_equal(s->revenue->amount_minor, revenue_yuan[i] * 100);
    }
    /* ties by id: c2 before c3 */
    assert_int_equal(t->customers[1]->customer_id, ids[1]);
    assert_int_equal(t->customers[2]->customer_id, ids[2]);
    assert_int_equal(t->n_totals, 3);
    assert_int_equal(t->totals[0]->current, 1);
    assert_int_equal(t->totals[0]->suggested, 3);
    assert_int_equal(t->totals[0]->revenue->amount_minor, 280000);
    assert_int_equal(t->totals[1]->current, 1);
    assert_int_equal(t->totals[1]->suggested, 4);
    assert_int_equal(t->totals[2]->current, 8);
    assert_int_equal(t->totals[2]->suggested, 3);
    assert_true(t->window_end_ms - t->window_start_ms >= 365 * DAY_MS);
    assert_true(t->window_end_ms - t->window_start_ms <= 366 * DAY_MS);
    dg_reply_free(r);
}

static void test_pages_and_changes_only(void **state)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__TiersRequest m = DANGAN__V1__TIERS_REQUEST__INIT;
    dg_reply *r = tiers(mgr, true);
    size_t seen = 0;
    char cursor[64] = "";

    (void)state;
    assert_int_equal(dg_reply_response(r)->tiers->n_customers, 8);
    dg_reply_free(r);
    m.limit = 3;
    m.cursor = cursor;
    req.body_case = DANGAN__V1__REQUEST__BODY_TIERS;
    req.tiers = &m;
    for (int page = 0; page < 10; page++) {
        r = dgt_call(mgr, &req);
        assert_int_equal(dgt_code(r), 0);
        seen += dg_reply_response(r)->tiers->n_customers;
        snprintf(cursor, sizeof cursor, "%s", dg_reply_response(r)->tiers->next_cursor);
        dg_reply_free(r);
        if (!cursor[0])
            break;
    }
    assert_int_equal(seen, N_CUST);
}

static void test_sales_may_not_classify(void **state)
{
    dg_reply *r = tiers(s1, false);

    (void)state;
    assert_int_equal(dgt_code(r), 7); /* PERMISSION_DENIED */
    dg_reply_free(r);
    r = apply(s1, "");
    assert_int_equal(dgt_code(r), 7);
    dg_reply_free(r);
}

static void test_cli_shows_the_suggestion_and_asks_before_applying(void **state)
{
    (void)state;
    CLI(NULL, "tiers", "--changes-only");
    assert_int_equal(run.status, 0);
    assert_non_null(strstr(run.out, "分级测试客户01"));
    assert_non_null(strstr(run.out, "b → a"));
    assert_non_null(strstr(run.out, "a → c"));
    assert_null(strstr(run.out, "分级测试客户08")); /* c stays c */
    CLI(NULL, "--json", "tiers");
    assert_int_equal(run.status, 0);
    assert_non_null(strstr(run.out, "\"changes\": 8"));
    CLI(NULL, "tiers", "apply");
    assert_int_equal(run.status, 2); /* no terminal: --yes is needed */
    assert_non_null(strstr(run.err, "--yes"));
}

/* ------------------------------------------------------------ applying it */

struct seen {
    int n_tier[N_CUST];
    int n;
};

static void on_event(dg_client *c, const Dangan__V1__Event *ev, void *user)
{
    struct seen *s = user;

    (void)c;
    if (ev->body_case != DANGAN__V1__EVENT__BODY_CHANGE ||
        ev->change->kind != DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER)
        return;
    s->n++;
    for (int i = 0; i < N_CUST; i++)
        if (ids[i] == ev->change->id && ev->change->n_fields == 1 &&
            !strcmp(ev->change->fields[0], "tier"))
            s->n_tier[i]++;
}

static void test_apply_changes_exactly_the_suggested_customers_once(void **state)
{
    struct seen seen = {0};
    dg_client_opts o = {.server = srv.addr, .fingerprint = srv.fingerprint};
    Dangan__V1__SubscribeFilter f = DANGAN__V1__SUBSCRIBE_FILTER__INIT;
    size_t audits = audit_count("record.tiers_apply");
    dg_client *w;
    uint64_t sub;
    dg_reply *r;

    (void)state;
    o.on_event = on_event;
    o.user = &seen;
    assert_int_equal(dg_client_open(&o, &w), DG_OK);
    assert_int_equal(dg_client_login(w, "admin", srv.admin_password, NULL), DG_OK);
    assert_int_equal(dg_client_subscribe(w, &f, NULL, false, &sub), DG_OK);
    r = apply(mgr, "apply-once");
    assert_int_equal(dgt_code(r), 0);
    assert_int_equal(dg_reply_response(r)->tiers_apply->changed, 8);
    assert_int_equal(dg_reply_response(r)->tiers_apply->ranked, N_CUST);
    dg_reply_free(r);
    r = apply(mgr, "apply-once"); /* a retry: the same answer, nothing applied again */
    assert_int_equal(dgt_code(r), 0);
    assert_int_equal(dg_reply_response(r)->tiers_apply->changed, 8);
    dg_reply_free(r);
    for (int64_t until = dg_mono_ms() + 5000; seen.n < 8 && dg_mono_ms() < until;)
        dg_client_poll(w, 50);
    /* the retry made none: a ping's round trip lets anything pending arrive */
    dg_client_poll(w, 200);
    assert_int_equal(seen.n, 8);
    for (int i = 0; i < N_CUST; i++)
        assert_int_equal(seen.n_tier[i], current[i] != expected[i]);
    dg_client_close(w);
    assert_int_equal(audit_count("record.tiers_apply"), audits + 1);
    r = tiers(mgr, false);
    assert_int_equal(dg_reply_response(r)->tiers->changes, 0);
    for (size_t k = 0; k < N_CUST; k++) {
        const Dangan__V1__TierSuggestion *s = dg_reply_response(r)->tiers->customers[k];

        assert_int_equal(s->current, expected[index_of(s->customer_id)]);
    }
    dg_reply_free(r);
}

static void test_the_window_moves_with_the_clock(void **state)
{
    dg_reply *r;

    (void)state;
    dgt_clock_advance(&srv, 366 * DAY_MS); /* a year on: every deal is older than the window */
    dg_client_close(mgr);                  /* the session ended meanwhile */
    mgr = dgt_login(&srv, "mgr", "manager-password-1");
    r = tiers(mgr, false);
    assert_int_equal(dgt_code(r), 0);
    assert_int_equal(dg_reply_response(r)->tiers->totals[2]->suggested, N_CUST);
    assert_int_equal(dg_reply_response(r)->tiers->totals[0]->revenue->amount_minor, 0);
    dg_reply_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_suggestion_matches_the_hand_computed_shares),
        cmocka_unit_test(test_pages_and_changes_only),
        cmocka_unit_test(test_sales_may_not_classify),
        cmocka_unit_test(test_cli_shows_the_suggestion_and_asks_before_applying),
        cmocka_unit_test(test_apply_changes_exactly_the_suggested_customers_once),
        cmocka_unit_test(test_the_window_moves_with_the_clock),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
