/* test_reassign.c - hand-over (离职交接) and merge over real TLS.
 *
 * Hand-over: a manager gives
 * everything a sales user owns to a colleague in one transaction, open tasks
 * assigned to the old owner moving along (done ones and others' stay);
 * archived customers stay; chosen customers only; each changed record gets
 * its audit record, the hand-over one of its own; an idempotent retry
 * applies once; sales may not do it; bad names are refused naming the
 * field; and `dangan customer reassign`.
 * Merge: every child record of the dropped file moves into the kept one,
 * which keeps its fields; the dropped one is archived; one audit record per
 * moved record plus the merge's; only managers; `dangan customer merge`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

static dgt_server srv;
static dg_client *admin, *mgr;
static dgt_run run;

static int setup(void **state)
{
    (void)state;
    dgt_server_start(&srv, NULL);
    dgt_make_user(&srv, "s1", DANGAN__V1__ROLE__ROLE_SALES, "sales-one-password-1");
    dgt_make_user(&srv, "s2", DANGAN__V1__ROLE__ROLE_SALES, "sales-two-password-1");
    dgt_make_user(&srv, "mgr", DANGAN__V1__ROLE__ROLE_MANAGER, "manager-password-1");
    admin = dgt_login(&srv, "admin", srv.admin_password);
    mgr = dgt_login(&srv, "mgr", "manager-password-1");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dg_client_close(mgr);
    dg_client_close(admin);
    dgt_server_stop(&srv);
    return 0;
}

/* ------------------------------------------------------------ helpers */

static dg_reply *create(Dangan__V1__Record *rec)
{
    Dangan__V1__CreateRequest m = DANGAN__V1__CREATE_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;

    m.record = rec;
    m.allow_duplicate = true;
    req.body_case = DANGAN__V1__REQUEST__BODY_CREATE;
    req.create = &m;
    return dgt_call(admin, &req);
}

static int64_t customer_of(const char *name, const char *owner)
{
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
    Dangan__V1__UserRef o = DANGAN__V1__USER_REF__INIT;
    dg_reply *r;
    int64_t id;

    cu.name = (char *)name;
    o.username = (char *)owner;
    cu.owner = &o;
    rec.kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
    rec.customer = &cu;
    r = create(&rec);
    assert_int_equal(dgt_code(r), 0);
    id = dg_reply_response(r)->create->record->customer->id;
    dg_reply_free(r);
    return id;
}

static int64_t task_of(int64_t customer, const char *assignee, bool done)
{
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Task t = DANGAN__V1__TASK__INIT;
    Dangan__V1__UserRef a = DANGAN__V1__USER_REF__INIT;
    dg_reply *r;
    int64_t id;

    t.customer_id = customer;
    t.title = "回访";
    a.username = (char *)assignee;
    t.assignee = &a;
    t.done = done;
    rec.kind_case = DANGAN__V1__RECORD__KIND_TASK;
    rec.task = &t;
    r = create(&rec);
    assert_int_equal(dgt_code(r), 0);
    id = dg_reply_response(r)->create->record->task->id;
    dg_reply_free(r);
    return id;
}

static dg_reply *get(int kind, int64_t id)
{
    Dangan__V1__GetRequest m = DANGAN__V1__GET_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;

    m.kind = kind;
    m.id = id;
    req.body_case = DANGAN__V1__REQUEST__BODY_GET;
    req.get = &m;
    return dgt_call(admin, &req);
}

static const char *owner_of(int64_t customer)
{
    static char name[64];
    dg_reply *r = get(DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER, customer);

    snprintf(name, sizeof name, "%s", dg_reply_response(r)->get->record->customer->owner->username);
    dg_reply_free(r);
    return name;
}

static const char *assignee_of(int64_t task)
{
    static char name[64];
    dg_reply *r = get(DANGAN__V1__ENTITY_KIND__ENTITY_KIND_TASK, task);

    snprintf(name, sizeof name, "%s", dg_reply_response(r)->get->record->task->assignee->username);
    dg_reply_free(r);
    return name;
}

static void archive(int64_t customer)
{
    Dangan__V1__ArchiveRequest m = DANGAN__V1__ARCHIVE_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    dg_reply *r;

    m.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
    m.id = customer;
    req.body_case = DANGAN__V1__REQUEST__BODY_ARCHIVE;
    req.archive = &m;
    r = dgt_call(admin, &req);
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);
}

static dg_reply *reassign(dg_client *c, const int64_t *ids, size_t n, const char *from,
                          const char *to, bool keep_tasks, const char *idem)
{
    Dangan__V1__ReassignRequest m = DANGAN__V1__REASSIGN_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;

    m.customer_ids = (int64_t *)ids;
    m.n_customer_ids = n;
    m.from_user = (char *)(from ? from : "");
    m.to_user = (char *)to;
    m.keep_tasks = keep_tasks;
    m.idempotency_key = (char *)(idem ? idem : "");
    req.body_case = DANGAN__V1__REQUEST__BODY_REASSIGN;
    req.reassign = &m;
    return dgt_call(c, &req);
}

static size_t audit_count(const char *action)
{
    Dangan__V1__AuditQueryRequest q = DANGAN__V1__AUDIT_QUERY_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    dg_reply *r;
    size_t n;

    q.action = (char *)action;
    q.username = "mgr";
    q.outcome = "ok";
    q.limit = 1000;
    req.body_case = DANGAN__V1__REQUEST__BODY_AUDIT_QUERY;
    req.audit_query = &q;
    r = dgt_call(admin, &req);
    assert_int_equal(dgt_code(r), 0);
    n = dg_reply_response(r)->audit_query->n_records;
    dg_reply_free(r);
    return n;
}

/* ------------------------------------------------------------ tests */

static void test_everything_a_leaver_owns_goes_over_with_open_tasks(void **state)
{
    int64_t a = customer_of("离职交接甲公司", "s2"), b = customer_of("离职交接乙公司", "s2");
    int64_t gone = customer_of("离职交接已归档", "s2"), mine = customer_of("s1 自己的", "s1");
    int64_t open1 = task_of(a, "s2", false), open2 = task_of(b, "s2", false);
    int64_t done = task_of(a, "s2", true), others = task_of(a, "mgr", false);
    size_t customer_updates = audit_count("customer.update");
    size_t task_updates = audit_count("task.update");
    dg_reply *r;

    (void)state;
    archive(gone);
    r = reassign(mgr, NULL, 0, "s2", "s1", false, NULL);
    assert_int_equal(dgt_code(r), 0);
    assert_int_equal(dg_reply_response(r)->reassign->customers, 2);
    assert_int_equal(dg_reply_response(r)->reassign->tasks, 2);
    dg_reply_free(r);

    assert_string_equal(owner_of(a), "s1");
    assert_string_equal(owner_of(b), "s1");
    assert_string_equal(owner_of(gone), "s2"); /* archived: unchanged */
    assert_string_equal(owner_of(mine), "s1");
    assert_string_equal(assignee_of(open1), "s1");
    assert_string_equal(assignee_of(open2), "s1");
    assert_string_equal(assignee_of(done), "s2");    /* history stays */
    assert_string_equal(assignee_of(others), "mgr"); /* not the leaver's */
    /* each changed record audited, the hand-over once */
    assert_int_equal(audit_count("customer.update"), customer_updates + 2);
    assert_int_equal(audit_count("task.update"), task_updates + 2);
    assert_int_equal(audit_count("record.reassign"), 1);
}

static void test_a_disabled_leaver_and_thousands_of_customers(void **state)
{
    enum { N = 5000 };
    Dangan__V1__UserSetDisabledRequest dis = DANGAN__V1__USER_SET_DISABLED_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    dg_reply *r;

    (void)state;
    dgt_make_user(&srv, "leaver", DANGAN__V1__ROLE__ROLE_SALES, "leaver-password-123");
    dgt_create_customers(admin, N, "交接批量公司", "leaver", NULL);
    /* the leaver is disabled first, as happens */
    dis.username = "leaver";
    dis.disabled = true;
    req.body_case = DANGAN__V1__REQUEST__BODY_USER_SET_DISABLED;
    req.user_set_disabled = &dis;
    r = dgt_call(admin, &req);
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);

    r = reassign(mgr, NULL, 0, "leaver", "s1", false, NULL);
    assert_int_equal(dgt_code(r), 0);
    assert_int_equal(dg_reply_response(r)->reassign->customers, N);
    dg_reply_free(r);
}

static void test_chosen_customers_only_and_keep_tasks(void **state)
{
    int64_t x = customer_of("选定丙公司", "s1"), y = customer_of("选定丁公司", "s1");
    int64_t t = task_of(x, "s1", false);
    int64_t ids[] = {x};
    dg_reply *r;

    (void)state;
    r = reassign(mgr, ids, 1, NULL, "s2", true, NULL);
    assert_int_equal(dgt_code(r), 0);
    assert_int_equal(dg_reply_response(r)->reassign->customers, 1);
    assert_int_equal(dg_reply_response(r)->reassign->tasks, 0);
    dg_reply_free(r);
    assert_string_equal(owner_of(x), "s2");
    assert_string_equal(owner_of(y), "s1");
    assert_string_equal(assignee_of(t), "s1");
}

static void test_a_retry_with_the_same_key_applies_once(void **state)
{
    int64_t z = customer_of("幂等戊公司", "s1");
    int64_t ids[] = {z};
    size_t handovers;
    dg_reply *r;

    (void)state;
    r = reassign(mgr, ids, 1, NULL, "s2", false, "handover-42");
    assert_int_equal(dg_reply_response(r)->reassign->customers, 1);
    dg_reply_free(r);
    handovers = audit_count("record.reassign");
    r = reassign(mgr, ids, 1, NULL, "s2", false, "handover-42");
    assert_int_equal(dgt_code(r), 0);
    assert_int_equal(dg_reply_response(r)->reassign->customers, 1); /* the first answer */
    dg_reply_free(r);
    assert_int_equal(audit_count("record.reassign"), handovers);
    /* the same key for another request is a client bug */
    r = reassign(mgr, ids, 1, NULL, "s1", false, "handover-42");
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__FAILED_PRECONDITION);
    dg_reply_free(r);
}

static void test_sales_may_not_and_bad_requests_name_the_field(void **state)
{
    int64_t w = customer_of("拒绝己公司", "s1");
    int64_t ids[] = {w};
    dg_client *s1 = dgt_login(&srv, "s1", "sales-one-password-1");
    dg_reply *r;

    (void)state;
    r = reassign(s1, ids, 1, NULL, "s2", false, NULL);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__PERMISSION_DENIED);
    dg_reply_free(r);
    dg_client_close(s1);
    assert_string_equal(owner_of(w), "s1");

    r = reassign(mgr, ids, 1, NULL, "nobody", false, NULL);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__INVALID_ARGUMENT);
    assert_string_equal(dg_reply_response(r)->status->field_violations[0]->field, "to_user");
    dg_reply_free(r);
    r = reassign(mgr, ids, 1, "s1", "s2", false, NULL);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__INVALID_ARGUMENT);
    dg_reply_free(r);
    r = reassign(mgr, NULL, 0, NULL, "s2", false, NULL);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__INVALID_ARGUMENT);
    dg_reply_free(r);
    {
        int64_t missing[] = {999999};

        r = reassign(mgr, missing, 1, NULL, "s2", false, NULL);
        assert_int_equal(dgt_code(r), DANGAN__V1__CODE__NOT_FOUND);
        dg_reply_free(r);
    }
}

static void test_cli_reassign(void **state)
{
    char cfg[256];
    int64_t v = customer_of("命令行庚公司", "s2");

    (void)state;
    dgt_tempdir(cfg, sizeof cfg);
    dgt_cli_login(&run, cfg, &srv, "mgr", "manager-password-1");
    {
        const char *argv[] = {"customer", "reassign", "--from", "s2", "--to", "s1", NULL};

        dgt_cli(&run, cfg, NULL, argv);
        assert_int_equal(run.status, 0);
        assert_non_null(strstr(run.out, "over to s1"));
    }
    assert_string_equal(owner_of(v), "s1");
    {
        char ref[32];
        const char *argv[] = {"customer", "history", ref, NULL};

        snprintf(ref, sizeof ref, "%lld", (long long)v);
        dgt_cli(&run, cfg, NULL, argv);
        assert_int_equal(run.status, 0);
        assert_non_null(strstr(run.out, "customer.update"));
        assert_non_null(strstr(run.out, "owner"));
        assert_non_null(strstr(run.out, "customer.create"));
    }
    {
        const char *argv[] = {"customer", "reassign", "--to", "s1", NULL};

        dgt_cli(&run, cfg, NULL, argv);
        assert_int_equal(run.status, 2);
    }
    dgt_rmtree(cfg);
}

static dg_reply *merge(dg_client *c, int64_t keep, int64_t drop)
{
    Dangan__V1__MergeRequest m = DANGAN__V1__MERGE_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;

    m.keep_id = keep;
    m.drop_id = drop;
    req.body_case = DANGAN__V1__REQUEST__BODY_MERGE;
    req.merge = &m;
    return dgt_call(c, &req);
}

static int64_t contact_of(int64_t customer, const char *name)
{
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Contact co = DANGAN__V1__CONTACT__INIT;
    dg_reply *r;
    int64_t id;

    co.customer_id = customer;
    co.name = (char *)name;
    rec.kind_case = DANGAN__V1__RECORD__KIND_CONTACT;
    rec.contact = &co;
    r = create(&rec);
    assert_int_equal(dgt_code(r), 0);
    id = dg_reply_response(r)->create->record->contact->id;
    dg_reply_free(r);
    return id;
}

static void test_merge_moves_the_whole_dossier_and_archives_the_duplicate(void **state)
{
    int64_t keep = customer_of("合并保留公司", "s1"), drop = customer_of("合并重复公司", "s1");
    int64_t c1 = contact_of(drop, "赵总"), c2 = contact_of(drop, "钱经理");
    int64_t t1 = task_of(drop, "s1", false);
    size_t moves = audit_count("contact.move") + audit_count("task.move");
    dg_reply *r;

    (void)state;
    r = merge(mgr, keep, drop);
    assert_int_equal(dgt_code(r), 0);
    assert_int_equal(dg_reply_response(r)->merge->moved, 3);
    assert_string_equal(dg_reply_response(r)->merge->keep->customer->name, "合并保留公司");
    dg_reply_free(r);
    r = get(DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CONTACT, c1);
    assert_int_equal(dg_reply_response(r)->get->record->contact->customer_id, keep);
    dg_reply_free(r);
    r = get(DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CONTACT, c2);
    assert_int_equal(dg_reply_response(r)->get->record->contact->customer_id, keep);
    dg_reply_free(r);
    r = get(DANGAN__V1__ENTITY_KIND__ENTITY_KIND_TASK, t1);
    assert_int_equal(dg_reply_response(r)->get->record->task->customer_id, keep);
    dg_reply_free(r);
    r = get(DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER, drop);
    assert_true(dg_reply_response(r)->get->record->customer->archived);
    dg_reply_free(r);
    assert_int_equal(audit_count("contact.move") + audit_count("task.move"), moves + 3);
    assert_int_equal(audit_count("record.merge"), 1);

    /* again: the duplicate is archived now */
    r = merge(mgr, keep, drop);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__FAILED_PRECONDITION);
    dg_reply_free(r);
    /* into itself, or by a sales user: refused */
    r = merge(mgr, keep, keep);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__INVALID_ARGUMENT);
    dg_reply_free(r);
    {
        dg_client *s1 = dgt_login(&srv, "s1", "sales-one-password-1");
        int64_t other = customer_of("合并被拒公司", "s1");

        r = merge(s1, keep, other);
        assert_int_equal(dgt_code(r), DANGAN__V1__CODE__PERMISSION_DENIED);
        dg_reply_free(r);
        dg_client_close(s1);
    }
}

/* The change-feed position a List answer reflects: read from the database. */
static uint64_t snapshot_seq(void)
{
    Dangan__V1__ListRequest m = DANGAN__V1__LIST_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    dg_reply *r;
    uint64_t seq;

    m.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
    m.limit = 1;
    req.body_case = DANGAN__V1__REQUEST__BODY_LIST;
    req.list = &m;
    r = dgt_call(admin, &req);
    assert_int_equal(dgt_code(r), 0);
    seq = dg_reply_response(r)->list->snapshot->seq;
    dg_reply_free(r);
    return seq;
}

/* What a newly connected client learns from Hello. */
static uint64_t hello_head(void)
{
    dg_client *c = dgt_connect(&srv);
    uint64_t seq = dg_client_hello(c)->feed_head->seq;

    dg_client_close(c);
    return seq;
}

static void test_hello_reports_the_head_after_a_merge_and_a_reassign(void **state)
{
    int64_t keep = customer_of("头部保留公司", "s1"), drop = customer_of("头部重复公司", "s1");
    int64_t ids[] = {keep};
    uint64_t before;
    dg_reply *r;

    (void)state;
    contact_of(drop, "孙经理");
    before = snapshot_seq();
    assert_int_equal(hello_head(), before);

    r = merge(mgr, keep, drop);
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);
    assert_true(snapshot_seq() > before);
    assert_int_equal(hello_head(), snapshot_seq());

    before = snapshot_seq();
    r = reassign(mgr, ids, 1, NULL, "s2", false, NULL);
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);
    assert_true(snapshot_seq() > before);
    assert_int_equal(hello_head(), snapshot_seq());
}

static void test_cli_merge(void **state)
{
    char cfg[256], keep[24], drop[24];
    int64_t k = customer_of("命令行合并甲", "s2"), d = customer_of("命令行合并乙", "s2");

    (void)state;
    contact_of(d, "孙经理");
    snprintf(keep, sizeof keep, "%lld", (long long)k);
    snprintf(drop, sizeof drop, "%lld", (long long)d);
    dgt_tempdir(cfg, sizeof cfg);
    dgt_cli_login(&run, cfg, &srv, "mgr", "manager-password-1");
    {
        const char *argv[] = {"customer", "merge", keep, drop, NULL};
        const char *bad[] = {"customer", "merge", keep, NULL};

        dgt_cli(&run, cfg, NULL, argv);
        assert_int_equal(run.status, 0);
        assert_non_null(strstr(run.out, "1 record moved"));
        dgt_cli(&run, cfg, NULL, bad);
        assert_int_equal(run.status, 2);
    }
    dgt_rmtree(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_everything_a_leaver_owns_goes_over_with_open_tasks),
        cmocka_unit_test(test_chosen_customers_only_and_keep_tasks),
        cmocka_unit_test(test_a_disabled_leaver_and_thousands_of_customers),
        cmocka_unit_test(test_a_retry_with_the_same_key_applies_once),
        cmocka_unit_test(test_sales_may_not_and_bad_requests_name_the_field),
        cmocka_unit_test(test_cli_reassign),
        cmocka_unit_test(test_merge_moves_the_whole_dossier_and_archives_the_duplicate),
        cmocka_unit_test(test_cli_merge),
        cmocka_unit_test(test_hello_reports_the_head_after_a_merge_and_a_reassign),
    };

    return cmocka_run_group_tests_name("reassign", tests, setup, teardown);
}
