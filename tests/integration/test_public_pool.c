/* test_public_pool.c - the public pool (公海) and the customer lifecycle, against a
 * real dangand-test over real TLS whose clock the test drives: two sales
 * users claiming one pool customer at the same moment, round after round
 * (exactly one wins, the other is told who); the claim limit; releases;
 * the pool as each role sees it; auto-return at the threshold and not a day
 * before, counted in the team's zone (Asia/Shanghai) while the machine runs
 * in UTC; a lost customer needs a churn reason; lifecycle suggestions on
 * hand-made data, applied through the CLI.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "fixture.h"

#define DAY_MS (24 * 3600 * 1000LL)
#define MIN_MS (60 * 1000LL)
#define ROUNDS 100
#define FAILED_PRECONDITION 9
#define INVALID_ARGUMENT 3

static dgt_server srv;
static dg_client *admin;
static char tmp[256], dir_s1[400], dir_s2[400], dir_mgr[400];

/* ------------------------------------------------------------ helpers */

static int64_t create_customer(dg_client *c, const char *name, int tier, int status,
                               const char *churn_reason, int *code)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__CreateRequest cr = DANGAN__V1__CREATE_REQUEST__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
    int64_t id = 0;
    dg_reply *r;

    cu.name = (char *)name;
    cu.tier = tier;
    cu.status = status;
    if (churn_reason)
        cu.churn_reason = (char *)churn_reason;
    rec.kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
    rec.customer = &cu;
    cr.record = &rec;
    cr.allow_duplicate = true;
    req.body_case = DANGAN__V1__REQUEST__BODY_CREATE;
    req.create = &cr;
    r = dgt_call(c, &req);
    *code = dgt_code(r);
    if (*code == 0)
        id = dgt_record_id(dg_reply_response(r)->create->record);
    dg_reply_free(r);
    return id;
}

static int64_t new_customer(const char *name, int tier)
{
    int code;
    int64_t id = create_customer(admin, name, tier, 0, NULL, &code);

    assert_int_equal(code, 0);
    return id;
}

static Dangan__V1__Request *claim_req(Dangan__V1__Request *req, Dangan__V1__PoolClaimRequest *m,
                                      int64_t id)
{
    dangan__v1__request__init(req);
    dangan__v1__pool_claim_request__init(m);
    m->customer_id = id;
    req->body_case = DANGAN__V1__REQUEST__BODY_POOL_CLAIM;
    req->pool_claim = m;
    return req;
}

static dg_reply *claim(dg_client *c, int64_t id)
{
    Dangan__V1__Request req;
    Dangan__V1__PoolClaimRequest m;

    return dgt_call(c, claim_req(&req, &m, id));
}

static int release(dg_client *c, int64_t id)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__PoolReleaseRequest m = DANGAN__V1__POOL_RELEASE_REQUEST__INIT;
    dg_reply *r;
    int code;

    m.customer_id = id;
    req.body_case = DANGAN__V1__REQUEST__BODY_POOL_RELEASE;
    req.pool_release = &m;
    r = dgt_call(c, &req);
    code = dgt_code(r);
    dg_reply_free(r);
    return code;
}

/* The owner's user name of customer `id` ("" in the pool), read as `c`;
 * its version. */
static int64_t owner_by(dg_client *c, int64_t id, char *out, size_t len)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__GetRequest g = DANGAN__V1__GET_REQUEST__INIT;
    const Dangan__V1__Customer *cu;
    int64_t version;
    dg_reply *r;

    g.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
    g.id = id;
    req.body_case = DANGAN__V1__REQUEST__BODY_GET;
    req.get = &g;
    r = dgt_call(c, &req);
    assert_int_equal(dgt_code(r), 0);
    cu = dg_reply_response(r)->get->record->customer;
    snprintf(out, len, "%s", cu->owner && cu->owner->username ? cu->owner->username : "");
    version = cu->version;
    dg_reply_free(r);
    return version;
}

static void owner_of(int64_t id, char *out, size_t len)
{
    (void)owner_by(admin, id, out, len);
}

/* The same after a clock move (sessions have expired): a fresh login. */
static void owner_now(int64_t id, char *out, size_t len)
{
    dg_client *a = dgt_login(&srv, "admin", srv.admin_password);

    (void)owner_by(a, id, out, len);
    dg_client_close(a);
}

/* Whether customer `id` is in the pool as `c` lists it. */
static bool in_pool_list(dg_client *c, int64_t id)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__PoolListRequest m = DANGAN__V1__POOL_LIST_REQUEST__INIT;
    const Dangan__V1__ListResponse *l;
    bool found = false;
    dg_reply *r;

    m.limit = 1000;
    req.body_case = DANGAN__V1__REQUEST__BODY_POOL_LIST;
    req.pool_list = &m;
    r = dgt_call(c, &req);
    assert_int_equal(dgt_code(r), 0);
    l = dg_reply_response(r)->pool_list;
    for (size_t i = 0; i < l->n_records; i++)
        found |= l->records[i]->customer->id == id;
    dg_reply_free(r);
    return found;
}

/* ------------------------------------------------------------ claims */

static void test_two_claims_at_once_have_exactly_one_winner_each_round(void **state)
{
    dg_client *c[2] = {dgt_login(&srv, "s1", "sales-one-pass-1"),
                       dgt_login(&srv, "s2", "sales-two-pass-1")};
    const char *names[2] = {"s1", "s2"};
    int64_t id = new_customer("公海争抢测试公司", DANGAN__V1__TIER__TIER_B);
    int wins[2] = {0, 0};

    (void)state;
    for (int round = 0; round < ROUNDS; round++) {
        Dangan__V1__Request req[2];
        Dangan__V1__PoolClaimRequest m[2];
        uint64_t rid[2];
        dg_reply *r[2];
        int winner = -1;
        char owner[64];

        assert_int_equal(release(admin, id), 0);
        /* both requests on the wire before either reply is read */
        for (int i = 0; i < 2; i++) { /* who sends first alternates */
            int k = (round + i) % 2;

            assert_int_equal(dg_client_send(c[k], claim_req(&req[k], &m[k], id), &rid[k]), 0);
        }
        for (int i = 0; i < 2; i++)
            (void)dg_client_poll(c[(round + i) % 2], 0);
        for (int k = 0; k < 2; k++)
            assert_int_equal(dg_client_wait(c[k], rid[k], &r[k]), 0);
        for (int k = 0; k < 2; k++) {
            if (dgt_code(r[k]) == 0) {
                assert_int_equal(winner, -1); /* never two winners */
                winner = k;
            }
        }
        assert_int_not_equal(winner, -1);
        {
            const dg_reply *lost = r[1 - winner];
            const char *msg = dg_reply_response(lost)->status->message;

            assert_int_equal(dgt_code(lost), FAILED_PRECONDITION);
            assert_string_equal(dgt_reason(lost), "already_claimed");
            if (!strstr(msg, names[winner]))
                fail_msg("round %d: the loser was not told who won: \"%s\"", round, msg);
        }
        owner_of(id, owner, sizeof owner);
        assert_string_equal(owner, names[winner]);
        wins[winner]++;
        dg_reply_free(r[0]);
        dg_reply_free(r[1]);
    }
    assert_int_equal(wins[0] + wins[1], ROUNDS);
    print_message("claims won: s1 %d, s2 %d of %d rounds\n", wins[0], wins[1], ROUNDS);
    dg_client_close(c[0]);
    dg_client_close(c[1]);
}

static void test_claim_limit_and_release_frees_a_place(void **state)
{
    dg_client *s3 = dgt_login(&srv, "s3", "sales-three-pass-1");
    int64_t ids[21];
    char name[64];
    dg_reply *r;

    (void)state;
    for (int i = 0; i < 21; i++) {
        snprintf(name, sizeof name, "公海上限%02d", i);
        ids[i] = new_customer(name, DANGAN__V1__TIER__TIER_C);
        assert_int_equal(release(admin, ids[i]), 0);
    }
    for (int i = 0; i < 20; i++) {
        r = claim(s3, ids[i]);
        assert_int_equal(dgt_code(r), 0);
        assert_int_equal(dg_reply_response(r)->pool_claim->claimed, (uint32_t)i + 1);
        assert_int_equal(dg_reply_response(r)->pool_claim->max_claims, 20);
        dg_reply_free(r);
    }
    r = claim(s3, ids[20]);
    assert_int_equal(dgt_code(r), FAILED_PRECONDITION);
    assert_string_equal(dgt_reason(r), "pool_limit");
    assert_non_null(strstr(dg_reply_response(r)->status->message, "20"));
    dg_reply_free(r);
    /* claiming one's own customer again changes nothing and is not refused */
    r = claim(s3, ids[0]);
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);
    /* releasing one frees its place */
    assert_int_equal(release(s3, ids[3]), 0);
    assert_true(in_pool_list(s3, ids[3]));
    r = claim(s3, ids[20]);
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);
    /* a customer released by its owner is nobody's: releasing again is refused */
    assert_int_equal(release(s3, ids[3]), FAILED_PRECONDITION);
    dg_client_close(s3);
}

static void test_pool_as_each_role_sees_it(void **state)
{
    dg_client *s1 = dgt_login(&srv, "s1", "sales-one-pass-1");
    dg_client *mgr = dgt_login(&srv, "mgr", "manager-pass-one");
    dg_client *view = dgt_login(&srv, "view", "viewer-pass-one1");
    int64_t b = new_customer("公海可见乙公司", DANGAN__V1__TIER__TIER_B);
    int64_t a = new_customer("公海保密甲公司", DANGAN__V1__TIER__TIER_A);
    const char *list[] = {"pool", "list", NULL};
    const char *claim_a[] = {"pool", "claim", NULL, NULL};
    char ref[32];
    dgt_run run;
    dg_reply *r;

    (void)state;
    assert_int_equal(release(admin, b), 0);
    assert_int_equal(release(admin, a), 0);
    assert_true(in_pool_list(s1, b));
    assert_false(in_pool_list(s1, a)); /* a restricted tier: not listed to sales */
    assert_true(in_pool_list(mgr, a));
    assert_true(in_pool_list(view, b));
    assert_false(in_pool_list(view, a));
    r = claim(s1, a);
    assert_int_equal(dgt_code(r), 5); /* NOT_FOUND: it does not exist for them */
    dg_reply_free(r);
    r = claim(view, b);
    assert_int_equal(dgt_code(r), 7); /* PERMISSION_DENIED: viewers own nothing */
    dg_reply_free(r);
    /* the CLI's list shows names and codes; restricted ones stay out */
    dgt_cli(&run, dir_s1, NULL, list);
    assert_int_equal(run.status, 0);
    assert_non_null(strstr(run.out, "公海可见乙公司"));
    assert_null(strstr(run.out, "公海保密甲公司"));
    /* a manager claims the restricted one; s1 still may not know it exists */
    snprintf(ref, sizeof ref, "%lld", (long long)a);
    claim_a[2] = ref;
    dgt_cli(&run, dir_mgr, NULL, claim_a);
    assert_int_equal(run.status, 0);
    assert_non_null(strstr(run.out, "Claimed"));
    /* s2 claims b by the CLI, then s1's attempt names s2 */
    snprintf(ref, sizeof ref, "%lld", (long long)b);
    claim_a[2] = ref;
    dgt_cli(&run, dir_s2, NULL, claim_a);
    assert_int_equal(run.status, 0);
    dgt_cli(&run, dir_s1, NULL, claim_a);
    assert_int_not_equal(run.status, 0);
    assert_non_null(strstr(run.err, "s2"));
    /* only its owner or a manager returns it */
    assert_int_equal(release(s1, b), 7);
    assert_int_equal(release(mgr, b), 0);
    dg_client_close(s1);
    dg_client_close(mgr);
    dg_client_close(view);
}

/* ------------------------------------------------------------ churn reason */

static int set_status(dg_client *c, int64_t id, int status, const char *reason, bool in_batch)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__UpdateRequest u = DANGAN__V1__UPDATE_REQUEST__INIT;
    Dangan__V1__BatchRequest b = DANGAN__V1__BATCH_REQUEST__INIT;
    Dangan__V1__BatchOp op = DANGAN__V1__BATCH_OP__INIT, *ops[] = {&op};
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
    char *mask[] = {"status", "churn_reason"}, owner[64];
    dg_reply *r;
    int code;

    u.expected_version = owner_by(c, id, owner, sizeof owner);
    cu.id = id;
    cu.status = status;
    cu.churn_reason = (char *)(reason ? reason : "");
    rec.kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
    rec.customer = &cu;
    u.record = &rec;
    u.update_mask = mask;
    u.n_update_mask = reason ? 2 : 1;
    if (in_batch) {
        op.op_case = DANGAN__V1__BATCH_OP__OP_UPDATE;
        op.update = &u;
        b.ops = ops;
        b.n_ops = 1;
        req.body_case = DANGAN__V1__REQUEST__BODY_BATCH;
        req.batch = &b;
    } else {
        req.body_case = DANGAN__V1__REQUEST__BODY_UPDATE;
        req.update = &u;
    }
    r = dgt_call(c, &req);
    code = dgt_code(r);
    if (code == INVALID_ARGUMENT && strcmp(dgt_reason(r), "churn_reason_required") != 0)
        fail_msg("%s: %s", dgt_reason(r), dg_reply_response(r)->status->message);
    dg_reply_free(r);
    return code;
}

static void test_lost_needs_a_churn_reason(void **state)
{
    const int lost = DANGAN__V1__CUSTOMER_STATUS__CUSTOMER_STATUS_LOST;
    int64_t id = new_customer("流失原因测试公司", DANGAN__V1__TIER__TIER_C);
    const char *edit[] = {"customer", "edit", NULL, "--set", "status=lost", NULL, NULL, NULL};
    char ref[32];
    dgt_run run;
    int code;

    (void)state;
    assert_int_equal(set_status(admin, id, lost, NULL, false), INVALID_ARGUMENT);
    assert_int_equal(set_status(admin, id, lost, NULL, true), INVALID_ARGUMENT);
    (void)create_customer(admin, "流失无因公司", DANGAN__V1__TIER__TIER_C, lost, NULL, &code);
    assert_int_equal(code, INVALID_ARGUMENT);
    (void)create_customer(admin, "流失有因公司", DANGAN__V1__TIER__TIER_C, lost, "价格", &code);
    assert_int_equal(code, 0);
    /* the CLI without a terminal: refused, naming the field */
    snprintf(ref, sizeof ref, "%lld", (long long)id);
    edit[2] = ref;
    dgt_cli(&run, dir_mgr, NULL, edit);
    assert_int_not_equal(run.status, 0);
    assert_non_null(strstr(run.err, "churn_reason"));
    edit[5] = "--reason";
    edit[6] = "被竞争对手抢走";
    dgt_cli(&run, dir_mgr, NULL, edit);
    assert_int_equal(run.status, 0);
    /* lost with its reason; changing other fields later needs no new reason */
    assert_int_equal(
        set_status(admin, id, DANGAN__V1__CUSTOMER_STATUS__CUSTOMER_STATUS_DORMANT, NULL, false),
        0);
    assert_int_equal(set_status(admin, id, lost, "经营不善", true), 0);
}

/* ------------------------------------------------------------ lifecycle */

static void note(const char *dir, const char *ref, const char *channel, int days_ago)
{
    const char *argv[] = {"note",      "add",  ref,    "--channel", channel,
                          "--summary", "回访", "--at", NULL,        NULL};
    char at[32];
    time_t t = time(NULL) - (time_t)days_ago * 86400;
    dgt_run run;

    strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    argv[8] = at;
    dgt_cli(&run, dir, NULL, argv);
    if (run.status != 0)
        fail_msg("note add: %s", run.err);
}

/* A customer of s1 by the CLI (as the manager), its code into out. */
static void life_customer(const char *name, const char *status, char *out, size_t len)
{
    char set[64];
    const char *argv[] = {
        "--json", "customer",          "add", "--name", name, "--set", set, "--set", "owner=s1",
        "--set",  "churn_reason=旧因", NULL};
    dgt_run run;
    const char *p;

    snprintf(set, sizeof set, "status=%s", status);
    dgt_cli(&run, dir_mgr, NULL, argv);
    if (run.status != 0)
        fail_msg("customer add %s: %s", name, run.err);
    p = strstr(run.out, "\"code\"");
    assert_non_null(p);
    sscanf(p, "\"code\": \"%31[^\"]\"", out);
    (void)len;
}

static void test_lifecycle_suggestions_and_apply(void **state)
{
    char won[32], quiet[32], gone[32], back[32], fine[32], lost_back[32];
    const char *show[] = {"--json", "lifecycle", "--owner", "s1", NULL};
    const char *apply[] = {"lifecycle", "apply", "--owner", "s1", NULL, NULL, NULL};
    const char *deal[] = {"deal", "add", won, "--amount", "50000", "--set", "stage=won", NULL};
    char reason[64];
    dgt_run run;

    (void)state;
    life_customer("生命周期成交公司", "potential", won, sizeof won);
    life_customer("生命周期沉寂公司", "active", quiet, sizeof quiet);
    life_customer("生命周期久休公司", "dormant", gone, sizeof gone);
    life_customer("生命周期复苏公司", "dormant", back, sizeof back);
    life_customer("生命周期正常公司", "active", fine, sizeof fine);
    life_customer("生命周期回归公司", "lost", lost_back, sizeof lost_back);
    dgt_cli(&run, dir_mgr, NULL, deal);
    if (run.status != 0)
        fail_msg("deal add: %s", run.err);
    note(dir_mgr, quiet, "phone", 100); /* 90 days makes dormant */
    note(dir_mgr, gone, "phone", 200);  /* 180 makes lost */
    note(dir_mgr, back, "visit", 5);
    note(dir_mgr, fine, "phone", 10);
    note(dir_mgr, lost_back, "meeting", 1);
    dgt_cli(&run, dir_mgr, NULL, show);
    assert_int_equal(run.status, 0);
    /* one suggestion each, with its rule and evidence */
#define HAS(code, text)                                                                            \
    do {                                                                                           \
        const char *p = strstr(run.out, code);                                                     \
        const char *e = p ? strstr(p, "}") : NULL;                                                 \
        const char *q = p ? strstr(p, text) : NULL;                                                \
        if (!q || q > e)                                                                           \
            fail_msg("%s: no %s in %s", code, text, run.out);                                      \
    } while (0)
    HAS(won, "\"won_deal\"");
    HAS(quiet, "\"days_since_contact\": 100");
    HAS(quiet, "\"suggested\": \"dormant\"");
    HAS(gone, "\"suggested\": \"lost\"");
    HAS(back, "\"new_activity\"");
    HAS(lost_back, "\"new_activity\"");
    if (strstr(run.out, fine))
        fail_msg("%s was contacted 10 days ago: nothing to suggest", fine);
    /* apply: all but the lost one, which waits for its reason */
    dgt_cli(&run, dir_mgr, NULL, apply);
    assert_int_equal(run.status, 0);
    assert_non_null(strstr(run.out, "Applied 4 status changes"));
    assert_non_null(strstr(run.out, gone));
    snprintf(reason, sizeof reason, "%s=长期无联系", gone);
    apply[4] = "--reason";
    apply[5] = reason;
    dgt_cli(&run, dir_mgr, NULL, apply);
    assert_int_equal(run.status, 0);
    assert_non_null(strstr(run.out, "Applied 1 status change"));
    dgt_cli(&run, dir_mgr, NULL, show);
    assert_null(strstr(run.out, "\"customer_id\""));
}

/* ------------------------------------------------------------ schema */

/* A v13 database (this one without v14's pool columns, indexes and
 * triggers) is migrated at start: its customers keep their owners, none
 * counts as a pool claim, and the pool works on it. */
static void test_a_v13_database_migrates_to_the_pool(void **state)
{
    dg_client *s3;
    int64_t id = new_customer("迁移前的公海公司", DANGAN__V1__TIER__TIER_C);
    char owner[64];
    dg_reply *r;

    (void)state;
    assert_int_equal(release(admin, id), 0);
    dg_client_close(admin);
    assert_int_equal(dgt_server_stop_keep(&srv), 0);
    dgt_schema_back_to(&srv, 13);
    dgt_server_restart_same_port(&srv);
    assert_true(dgt_log_has(&srv, "msg=\"schema migrated\" version=14"));
    admin = dgt_login(&srv, "admin", srv.admin_password);
    owner_of(id, owner, sizeof owner);
    assert_string_equal(owner, "");
    /* s3 held 20 pool claims before: after the upgrade they are plain owners */
    s3 = dgt_login(&srv, "s3", "sales-three-pass-1");
    r = claim(s3, id);
    assert_int_equal(dgt_code(r), 0);
    assert_int_equal(dg_reply_response(r)->pool_claim->claimed, 1);
    dg_reply_free(r);
    dg_client_close(s3);
}

/* ------------------------------------------------------------ setup */

static int setup(void **state)
{
    dgt_run run;

    (void)state;
    setenv("TZ", "UTC", 1); /* the machine's zone; the team's is Asia/Shanghai */
    dgt_server_start_prog(&srv, NULL, DANGAND_TEST_PATH);
    dgt_make_user(&srv, "s1", DANGAN__V1__ROLE__ROLE_SALES, "sales-one-pass-1");
    dgt_make_user(&srv, "s2", DANGAN__V1__ROLE__ROLE_SALES, "sales-two-pass-1");
    dgt_make_user(&srv, "s3", DANGAN__V1__ROLE__ROLE_SALES, "sales-three-pass-1");
    dgt_make_user(&srv, "mgr", DANGAN__V1__ROLE__ROLE_MANAGER, "manager-pass-one");
    dgt_make_user(&srv, "view", DANGAN__V1__ROLE__ROLE_VIEWER, "viewer-pass-one1");
    admin = dgt_login(&srv, "admin", srv.admin_password);
    dgt_tempdir(tmp, sizeof tmp);
    snprintf(dir_s1, sizeof dir_s1, "%s/s1", tmp);
    snprintf(dir_s2, sizeof dir_s2, "%s/s2", tmp);
    snprintf(dir_mgr, sizeof dir_mgr, "%s/mgr", tmp);
    dgt_cli_login(&run, dir_s1, &srv, "s1", "sales-one-pass-1");
    dgt_cli_login(&run, dir_s2, &srv, "s2", "sales-two-pass-1");
    dgt_cli_login(&run, dir_mgr, &srv, "mgr", "manager-pass-one");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dg_client_close(admin);
    dgt_server_stop(&srv);
    dgt_rmtree(tmp);
    return 0;
}

/* ------------------------------------------------------------ auto-return */

/* Moves the driven clock to the next instant at UTC hh:mm (at least a
 * minute ahead). */
static void advance_to_utc(int hh, int mm)
{
    int64_t now = (int64_t)time(NULL) * 1000, day = now - now % DAY_MS;
    int64_t at = day + hh * 3600 * 1000LL + mm * MIN_MS;

    while (at < now + MIN_MS)
        at += DAY_MS;
    dgt_clock_advance(&srv, at - now);
}

static void sweep(void)
{
    dgt_server_sweep(&srv);
}

static bool in_pool_now(int64_t id)
{
    dg_client *s1 = dgt_login(&srv, "s1", "sales-one-pass-1");
    bool in = in_pool_list(s1, id);

    dg_client_close(s1);
    return in;
}

static void test_auto_return_at_the_threshold_in_the_teams_days(void **state)
{
    dg_client *s1;
    int64_t x, y;
    char owner[64], ref[32];
    const char *argv[] = {"note", "add", ref, "--channel", "phone", "--summary", "还在跟进", NULL};
    const char *watch[] = {"watch", "--once", NULL};
    dgt_run run;
    dg_reply *r;

    (void)state;
    /* Shanghai 23:30 of day D is 15:30 UTC of the same day */
    advance_to_utc(15, 30);
    admin = dgt_login(&srv, "admin", srv.admin_password);
    s1 = dgt_login(&srv, "s1", "sales-one-pass-1");
    x = new_customer("自动回收甲公司", DANGAN__V1__TIER__TIER_C);
    y = new_customer("自动回收乙公司", DANGAN__V1__TIER__TIER_C);
    assert_int_equal(release(admin, x), 0);
    assert_int_equal(release(admin, y), 0);
    r = claim(s1, x);
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);
    r = claim(s1, y);
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);
    dg_client_close(s1);
    sweep(); /* day D: nothing is due */
    owner_now(x, owner, sizeof owner);
    assert_string_equal(owner, "s1");
    /* day D+1: s1 logs a call on y, which restarts y's days */
    dgt_clock_advance(&srv, DAY_MS);
    snprintf(ref, sizeof ref, "%lld", (long long)y);
    dgt_cli_login(&run, dir_s1, &srv, "s1", "sales-one-pass-1");
    dgt_cli(&run, dir_s1, NULL, watch); /* from here on, s1's watch says what happened */
    assert_int_equal(run.status, 0);
    dgt_cli(&run, dir_s1, NULL, argv);
    assert_int_equal(run.status, 0);
    sweep();
    /* Shanghai D+2 23:59: not yet */
    dgt_clock_advance(&srv, DAY_MS + 29 * MIN_MS);
    sweep();
    owner_now(x, owner, sizeof owner);
    assert_string_equal(owner, "s1");
    assert_false(in_pool_now(x));
    /* Shanghai D+3 00:30 (still D+2 in UTC, 2 days and 61 minutes after the
     * claim): the third day in the team's zone has begun, x returns */
    dgt_clock_advance(&srv, 31 * MIN_MS);
    sweep();
    owner_now(x, owner, sizeof owner);
    assert_string_equal(owner, "");
    assert_true(in_pool_now(x));
    owner_now(y, owner, sizeof owner);
    assert_string_equal(owner, "s1");
    assert_int_equal(dgt_log_count(&srv, "msg=\"returned to the pool\""), 1);
    /* the former owner is told, by a notice addressed to them (the session
     * lapsed while the clock moved: logging in again keeps the saved cursor) */
    dgt_cli_login(&run, dir_s1, &srv, "s1", "sales-one-pass-1");
    dgt_cli(&run, dir_s1, NULL, watch);
    assert_int_equal(run.status, 0);
    if (!strstr(run.out, "自动回收甲公司") ||
        !strstr(run.out, "went back to the pool: no interaction of yours for 3 days") ||
        !strstr(run.out, "the server changed 自动回收甲公司 (C-000001): owner s1 → (none)") ||
        strstr(run.out, "自动回收乙公司 (C-000002) went back"))
        fail_msg("s1's watch:\nout: %s\nerr: %s", run.out, run.err);
    /* its history names the server as who returned it */
    {
        Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
        Dangan__V1__HistoryRequest h = DANGAN__V1__HISTORY_REQUEST__INIT;
        const Dangan__V1__HistoryResponse *hr;
        dg_client *a = dgt_login(&srv, "admin", srv.admin_password);

        h.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
        h.id = x;
        req.body_case = DANGAN__V1__REQUEST__BODY_HISTORY;
        req.history = &h;
        r = dgt_call(a, &req);
        assert_int_equal(dgt_code(r), 0);
        hr = dg_reply_response(r)->history;
        assert_true(hr->n_entries > 0);
        assert_string_equal(hr->entries[0]->username, "server");
        dg_reply_free(r);
        dg_client_close(a);
    }
    /* a day later y's three days are up too */
    dgt_clock_advance(&srv, DAY_MS);
    sweep();
    owner_now(y, owner, sizeof owner);
    assert_string_equal(owner, "");
    assert_int_equal(dgt_log_count(&srv, "msg=\"returned to the pool\""), 2);
}

static int setup_return(void **state)
{
    dgt_run run;
    char dir_admin[PATH_MAX];
    const char *const set[] = {"settings", "set", "pool.return_after_days=3", NULL};

    (void)state;
    setenv("TZ", "UTC", 1);
    dgt_server_start_prog(&srv, NULL, DANGAND_TEST_PATH);
    dgt_make_user(&srv, "s1", DANGAN__V1__ROLE__ROLE_SALES, "sales-one-pass-1");
    dgt_tempdir(tmp, sizeof tmp);
    snprintf(dir_s1, sizeof dir_s1, "%s/s1", tmp);
    snprintf(dir_admin, sizeof dir_admin, "%s/admin", tmp);
    /* auto-return is off by default: the admin turns it on, as a team would */
    dgt_cli_login(&run, dir_admin, &srv, "admin", srv.admin_password);
    dgt_cli(&run, dir_admin, NULL, set);
    if (run.status != 0)
        fail_msg("settings set: %s%s", run.out, run.err);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_claims_at_once_have_exactly_one_winner_each_round),
        cmocka_unit_test(test_claim_limit_and_release_frees_a_place),
        cmocka_unit_test(test_pool_as_each_role_sees_it),
        cmocka_unit_test(test_lost_needs_a_churn_reason),
        cmocka_unit_test(test_lifecycle_suggestions_and_apply),
        cmocka_unit_test(test_a_v13_database_migrates_to_the_pool),
    };
    const struct CMUnitTest returns[] = {
        cmocka_unit_test(test_auto_return_at_the_threshold_in_the_teams_days),
    };
    int failed = cmocka_run_group_tests_name("pool", tests, setup, teardown);

    return failed +
           cmocka_run_group_tests_name("pool auto-return", returns, setup_return, teardown);
}
