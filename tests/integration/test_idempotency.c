/* test_idempotency.c - retries with an idempotency key over real TLS.
 *
 * A retry answers what the first attempt answered without doing the work
 * again: a 1,000-op batch gets its 1,000 records back, a merge and a
 * hand-over their counts. The same key with another request, or another
 * kind of request with the same body (archive, then restore), is refused.
 * A stored answer that is damaged answers DATA_LOSS and the server goes on.
 * Keys stored by a schema v4 server (the database in
 * tests/integration/data/idempotency_v4.sql) still answer their retries
 * after the migration.
 *
 * That database was made by the v4 dangand (git main before schema v5)
 * running this file's make_v4_history: build this test against it and run
 *   DGT_MAKE_V4_DUMP=/path/idempotency_v4.sql ./test_idempotency
 * which runs the history on a fresh server and dumps its database.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "fixture.h"

#define MGR_PASSWORD "manager-password-1"

static dgt_server srv;
static dg_client *mgr;

static int setup(void **state)
{
    (void)state;
    dgt_server_start(&srv, NULL);
    dgt_make_user(&srv, "s1", DANGAN__V1__ROLE__ROLE_SALES, "sales-one-password-1");
    dgt_make_user(&srv, "mgr", DANGAN__V1__ROLE__ROLE_MANAGER, MGR_PASSWORD);
    mgr = dgt_login(&srv, "mgr", MGR_PASSWORD);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dg_client_close(mgr);
    dgt_server_stop(&srv);
    return 0;
}

/* ------------------------------------------------------------ requests */

/* A batch being built: protobuf structs for up to `cap` ops, freed together. */
struct batch {
    Dangan__V1__BatchRequest m;
    Dangan__V1__BatchOp **ptrs, *ops;
    Dangan__V1__CreateRequest *creates;
    Dangan__V1__Record *recs;
    Dangan__V1__Customer *customers;
    Dangan__V1__Contact *contacts;
    Dangan__V1__Task *tasks;
    Dangan__V1__UserRef *users;
    char (*texts)[64];
    size_t cap;
};

static void batch_init(struct batch *b, size_t cap, const char *key)
{
    memset(b, 0, sizeof *b);
    dangan__v1__batch_request__init(&b->m);
    b->ptrs = calloc(cap, sizeof *b->ptrs);
    b->ops = calloc(cap, sizeof *b->ops);
    b->creates = calloc(cap, sizeof *b->creates);
    b->recs = calloc(cap, sizeof *b->recs);
    b->customers = calloc(cap, sizeof *b->customers);
    b->contacts = calloc(cap, sizeof *b->contacts);
    b->tasks = calloc(cap, sizeof *b->tasks);
    b->users = calloc(cap, sizeof *b->users);
    b->texts = calloc(cap, sizeof *b->texts);
    assert_non_null(b->texts);
    b->cap = cap;
    b->m.ops = b->ptrs;
    b->m.idempotency_key = (char *)key;
}

static void batch_fini(struct batch *b)
{
    free(b->ptrs);
    free(b->ops);
    free(b->creates);
    free(b->recs);
    free(b->customers);
    free(b->contacts);
    free(b->tasks);
    free(b->users);
    free(b->texts);
}

/* The next op: a create of the record being returned for the caller to fill. */
static Dangan__V1__Record *batch_create(struct batch *b)
{
    size_t i = b->m.n_ops++;

    assert_true(i < b->cap);
    dangan__v1__batch_op__init(&b->ops[i]);
    dangan__v1__create_request__init(&b->creates[i]);
    dangan__v1__record__init(&b->recs[i]);
    b->creates[i].record = &b->recs[i];
    b->creates[i].allow_duplicate = true;
    b->ops[i].op_case = DANGAN__V1__BATCH_OP__OP_CREATE;
    b->ops[i].create = &b->creates[i];
    b->ptrs[i] = &b->ops[i];
    return &b->recs[i];
}

static void batch_customer(struct batch *b, const char *name, const char *owner)
{
    size_t i = b->m.n_ops;
    Dangan__V1__Record *rec = batch_create(b);

    dangan__v1__customer__init(&b->customers[i]);
    snprintf(b->texts[i], sizeof b->texts[i], "%s", name);
    b->customers[i].name = b->texts[i];
    if (owner) {
        dangan__v1__user_ref__init(&b->users[i]);
        b->users[i].username = (char *)owner;
        b->customers[i].owner = &b->users[i];
    }
    rec->kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
    rec->customer = &b->customers[i];
}

/* customer_id -N: the customer op N (1-based) of this batch creates. */
static void batch_contact(struct batch *b, int64_t customer_id, const char *name)
{
    size_t i = b->m.n_ops;
    Dangan__V1__Record *rec = batch_create(b);

    dangan__v1__contact__init(&b->contacts[i]);
    b->contacts[i].customer_id = customer_id;
    b->contacts[i].name = (char *)name;
    rec->kind_case = DANGAN__V1__RECORD__KIND_CONTACT;
    rec->contact = &b->contacts[i];
}

static void batch_task(struct batch *b, int64_t customer_id, const char *title,
                       const char *assignee)
{
    size_t i = b->m.n_ops;
    Dangan__V1__Record *rec = batch_create(b);

    dangan__v1__task__init(&b->tasks[i]);
    dangan__v1__user_ref__init(&b->users[i]);
    b->tasks[i].customer_id = customer_id;
    b->tasks[i].title = (char *)title;
    b->users[i].username = (char *)assignee;
    b->tasks[i].assignee = &b->users[i];
    rec->kind_case = DANGAN__V1__RECORD__KIND_TASK;
    rec->task = &b->tasks[i];
}

static dg_reply *batch_send(dg_client *c, struct batch *b)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;

    req.body_case = DANGAN__V1__REQUEST__BODY_BATCH;
    req.batch = &b->m;
    return dgt_call(c, &req);
}

static dg_reply *merge(dg_client *c, int64_t keep, int64_t drop, const char *key)
{
    Dangan__V1__MergeRequest m = DANGAN__V1__MERGE_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;

    m.keep_id = keep;
    m.drop_id = drop;
    m.idempotency_key = (char *)key;
    req.body_case = DANGAN__V1__REQUEST__BODY_MERGE;
    req.merge = &m;
    return dgt_call(c, &req);
}

static dg_reply *reassign(dg_client *c, int64_t customer, const char *to, const char *key)
{
    Dangan__V1__ReassignRequest m = DANGAN__V1__REASSIGN_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;

    m.customer_ids = &customer;
    m.n_customer_ids = 1;
    m.to_user = (char *)to;
    m.idempotency_key = (char *)key;
    req.body_case = DANGAN__V1__REQUEST__BODY_REASSIGN;
    req.reassign = &m;
    return dgt_call(c, &req);
}

static dg_reply *create_customer(dg_client *c, const char *name, const char *key)
{
    Dangan__V1__CreateRequest m = DANGAN__V1__CREATE_REQUEST__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;

    cu.name = (char *)name;
    rec.kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
    rec.customer = &cu;
    m.record = &rec;
    m.allow_duplicate = true;
    m.idempotency_key = (char *)key;
    req.body_case = DANGAN__V1__REQUEST__BODY_CREATE;
    req.create = &m;
    return dgt_call(c, &req);
}

static dg_reply *archive_or_restore(dg_client *c, int64_t customer, bool restore, const char *key)
{
    Dangan__V1__ArchiveRequest a = DANGAN__V1__ARCHIVE_REQUEST__INIT;
    Dangan__V1__RestoreRequest rs = DANGAN__V1__RESTORE_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;

    if (restore) {
        rs.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
        rs.id = customer;
        rs.idempotency_key = (char *)key;
        req.body_case = DANGAN__V1__REQUEST__BODY_RESTORE;
        req.restore = &rs;
    } else {
        a.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
        a.id = customer;
        a.idempotency_key = (char *)key;
        req.body_case = DANGAN__V1__REQUEST__BODY_ARCHIVE;
        req.archive = &a;
    }
    return dgt_call(c, &req);
}

static int64_t count_rows(const char *sql)
{
    char path[512];
    sqlite3 *db;
    sqlite3_stmt *st;
    int64_t n = -1;

    dgt_db_path(&srv, path, sizeof path);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* The server still answers on a new connection and on `c`. */
static void assert_serving(dg_client *c)
{
    dg_client *other = dgt_login(&srv, "mgr", MGR_PASSWORD);
    dg_reply *r = create_customer(c, "仍在服务的客户", NULL);

    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);
    dg_client_close(other);
}

/* ------------------------------------------------------------ retries */

static void test_a_1000_op_batch_retried_gets_the_same_records(void **state)
{
    int64_t before = count_rows("SELECT count(*) FROM customers"), *ids;
    struct batch b;
    dg_reply *r;
    char name[64];

    (void)state;
    batch_init(&b, 1000, "import-file-7");
    for (int i = 0; i < 500; i++) {
        snprintf(name, sizeof name, "重试批次客户%04d", i);
        batch_customer(&b, name, NULL);
        batch_contact(&b, -(int64_t)b.m.n_ops, "联系人"); /* the customer just above */
    }
    r = batch_send(mgr, &b);
    assert_int_equal(dgt_code(r), 0);
    assert_int_equal(dg_reply_response(r)->batch->n_records, 1000);
    ids = calloc(1000, sizeof *ids);
    for (size_t i = 0; i < 1000; i++)
        ids[i] = dgt_record_id(dg_reply_response(r)->batch->records[i]);
    dg_reply_free(r);

    r = batch_send(mgr, &b); /* the retry after a lost answer */
    assert_int_equal(dgt_code(r), 0);
    assert_int_equal(dg_reply_response(r)->batch->n_records, 1000);
    for (size_t i = 0; i < 1000; i++) {
        const Dangan__V1__Record *rec = dg_reply_response(r)->batch->records[i];

        assert_int_equal(rec->kind_case, i % 2 ? DANGAN__V1__RECORD__KIND_CONTACT
                                               : DANGAN__V1__RECORD__KIND_CUSTOMER);
        assert_int_equal(dgt_record_id(rec), ids[i]);
    }
    dg_reply_free(r);
    assert_int_equal(count_rows("SELECT count(*) FROM customers"), before + 500);
    free(ids);
    batch_fini(&b);
}

static void test_a_merge_retried_answers_as_the_first_time(void **state)
{
    struct batch b;
    int64_t keep, drop;
    dg_reply *r;

    (void)state;
    batch_init(&b, 4, "");
    batch_customer(&b, "重试合并保留公司", NULL);
    batch_customer(&b, "重试合并重复公司", NULL);
    batch_contact(&b, -2, "孙经理");
    batch_task(&b, -2, "回访", "mgr");
    r = batch_send(mgr, &b);
    assert_int_equal(dgt_code(r), 0);
    keep = dgt_record_id(dg_reply_response(r)->batch->records[0]);
    drop = dgt_record_id(dg_reply_response(r)->batch->records[1]);
    dg_reply_free(r);
    batch_fini(&b);

    for (int attempt = 0; attempt < 2; attempt++) {
        r = merge(mgr, keep, drop, "merge-ticket-88");
        assert_int_equal(dgt_code(r), 0);
        assert_int_equal(dg_reply_response(r)->merge->moved, 2);
        assert_int_equal(dg_reply_response(r)->merge->keep->customer->id, keep);
        dg_reply_free(r);
    }
    /* without the key the merge is refused: it was applied once, above */
    r = merge(mgr, keep, drop, "");
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__FAILED_PRECONDITION);
    dg_reply_free(r);
}

static void test_a_reassign_retried_answers_as_the_first_time(void **state)
{
    struct batch b;
    int64_t customer;
    dg_reply *r;

    (void)state;
    batch_init(&b, 2, "");
    batch_customer(&b, "重试交接公司", "mgr");
    batch_task(&b, -1, "交接回访", "mgr");
    r = batch_send(mgr, &b);
    assert_int_equal(dgt_code(r), 0);
    customer = dgt_record_id(dg_reply_response(r)->batch->records[0]);
    dg_reply_free(r);
    batch_fini(&b);

    for (int attempt = 0; attempt < 2; attempt++) {
        r = reassign(mgr, customer, "s1", "handover-3");
        assert_int_equal(dgt_code(r), 0);
        assert_int_equal(dg_reply_response(r)->reassign->customers, 1);
        assert_int_equal(dg_reply_response(r)->reassign->tasks, 1);
        dg_reply_free(r);
    }
    /* done again for real there is nothing left to move */
    r = reassign(mgr, customer, "s1", "");
    assert_int_equal(dgt_code(r), 0);
    assert_int_equal(dg_reply_response(r)->reassign->customers, 0);
    dg_reply_free(r);
}

/* Archive and Restore have the same body: a key is bound to its request too. */
static void test_a_key_of_an_archive_does_not_answer_a_restore(void **state)
{
    dg_reply *r = create_customer(mgr, "先归档后恢复公司", NULL);
    int64_t id = dg_reply_response(r)->create->record->customer->id;

    (void)state;
    dg_reply_free(r);
    r = archive_or_restore(mgr, id, false, "same-key-twice");
    assert_int_equal(dgt_code(r), 0);
    assert_true(dg_reply_response(r)->archive->record->customer->archived);
    dg_reply_free(r);
    r = archive_or_restore(mgr, id, true, "same-key-twice");
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__FAILED_PRECONDITION);
    assert_string_equal(dgt_reason(r), "idempotency_key_reused");
    dg_reply_free(r);
}

/* ------------------------------------------------------------ damage */

static void restart_with_sql(const char *sql)
{
    dg_client_close(mgr);
    assert_int_equal(dgt_server_stop_keep(&srv), 0);
    dgt_sql(&srv, sql);
    dgt_server_restart(&srv, NULL);
    mgr = dgt_login(&srv, "mgr", MGR_PASSWORD);
}

static void assert_damaged(dg_reply *r)
{
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__DATA_LOSS);
    assert_string_equal(dgt_reason(r), "idempotency_result_damaged");
    dg_reply_free(r);
}

static void test_a_damaged_stored_answer_is_data_loss_and_the_server_goes_on(void **state)
{
    int64_t before;
    struct batch b;
    dg_reply *r;
    char name[64];

    (void)state;
    batch_init(&b, 60, "damaged-batch");
    for (int i = 0; i < 60; i++) {
        snprintf(name, sizeof name, "损坏记录客户%02d", i);
        batch_customer(&b, name, NULL);
    }
    r = batch_send(mgr, &b);
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);
    r = merge(mgr, 999999, 999998, "damaged-merge"); /* refused: nothing stored */
    assert_int_not_equal(dgt_code(r), 0);
    dg_reply_free(r);
    before = count_rows("SELECT count(*) FROM customers");

    /* a record row lost: 59 records for 60 ops */
    restart_with_sql("DELETE FROM idempotency_records WHERE key = 'damaged-batch' AND op = 41");
    assert_damaged(batch_send(mgr, &b));
    assert_serving(mgr);
    /* the count says 61: more than the ops of the request */
    restart_with_sql("INSERT INTO idempotency_records(user_id, key, op, kind, id) SELECT user_id,"
                     " key, 41, 1, 1 FROM idempotency WHERE key = 'damaged-batch';"
                     "UPDATE idempotency SET n_records = 61 WHERE key = 'damaged-batch';"
                     "INSERT INTO idempotency_records(user_id, key, op, kind, id) SELECT user_id,"
                     " key, 60, 1, 1 FROM idempotency WHERE key = 'damaged-batch'");
    assert_damaged(batch_send(mgr, &b));
    /* a record of a kind that does not exist, or that is not there */
    restart_with_sql("DELETE FROM idempotency_records WHERE key = 'damaged-batch' AND op = 60;"
                     "UPDATE idempotency SET n_records = 60 WHERE key = 'damaged-batch';"
                     "UPDATE idempotency_records SET kind = 99 WHERE key = 'damaged-batch'"
                     " AND op = 7");
    assert_damaged(batch_send(mgr, &b));
    restart_with_sql("UPDATE idempotency_records SET kind = 1, id = 987654321"
                     " WHERE key = 'damaged-batch' AND op = 7");
    assert_damaged(batch_send(mgr, &b));
    assert_serving(mgr);
    /* nothing was applied again (assert_serving created one each time) */
    assert_int_equal(count_rows("SELECT count(*) FROM customers"), before + 2);
    assert_true(dgt_log_has(&srv, "stored idempotency result is damaged"));
    batch_fini(&b);
}

/* ------------------------------------------------------------ schema v4 */

/* What the v4 server was asked, with keys; a retry sends the same bodies. */
static void v4_batch(struct batch *b)
{
    batch_init(b, 6, "v4-batch");
    batch_customer(b, "迁移前甲公司", "mgr");
    batch_contact(b, -1, "甲联系人");
    batch_customer(b, "迁移前乙公司", "mgr");
    batch_contact(b, -3, "乙联系人");
    batch_customer(b, "迁移前丙公司", "mgr");
    batch_task(b, -5, "丙回访", "mgr");
}

/* The ids the v4 server gave the batch's records, then the single create's. */
static const int64_t v4_ids[] = {1, 1, 2, 2, 3, 1};
static const int64_t v4_single_id = 4;

/* Generator: runs the keyed requests on a fresh server and dumps its
 * database to `out` (run against the v4 dangand; see the file header). */
static void make_v4_history(const char *out)
{
    struct batch b;
    dg_reply *r;
    char db[512], cmd[2048];

    setup(NULL);
    v4_batch(&b);
    r = batch_send(mgr, &b);
    assert_int_equal(dgt_code(r), 0);
    for (size_t i = 0; i < DG_ARRAY_LEN(v4_ids); i++)
        assert_int_equal(dgt_record_id(dg_reply_response(r)->batch->records[i]), v4_ids[i]);
    dg_reply_free(r);
    batch_fini(&b);
    r = create_customer(mgr, "迁移前丁公司", "v4-create");
    assert_int_equal(dg_reply_response(r)->create->record->customer->id, v4_single_id);
    dg_reply_free(r);
    r = merge(mgr, v4_ids[0], v4_ids[2], "v4-merge");
    assert_int_equal(dg_reply_response(r)->merge->moved, 1);
    dg_reply_free(r);
    r = reassign(mgr, v4_ids[4], "s1", "v4-reassign");
    assert_int_equal(dg_reply_response(r)->reassign->customers, 1);
    assert_int_equal(dg_reply_response(r)->reassign->tasks, 1);
    dg_reply_free(r);
    dg_client_close(mgr);
    assert_int_equal(dgt_server_stop_keep(&srv), 0);
    dgt_db_path(&srv, db, sizeof db);
    snprintf(cmd, sizeof cmd,
             "(sqlite3 '%s' .dump && sqlite3 '%s' 'PRAGMA user_version' |"
             " sed 's/^/PRAGMA user_version = /; s/$/;/') > '%s'",
             db, db, out);
    assert_int_equal(system(cmd), 0);
    dgt_rmtree(srv.root);
}

static void test_keys_stored_by_schema_v4_answer_their_retries(void **state)
{
    struct batch b;
    int64_t before;
    dg_reply *r;

    (void)state;
    dg_client_close(mgr);
    assert_int_equal(dgt_server_stop_keep(&srv), 0);
    dgt_load_database(&srv, SOURCE_DIR "/tests/integration/data/idempotency_v4.sql");
    assert_int_equal(count_rows("PRAGMA user_version"), 4);
    /* keys are kept a day: made young again, so no sweep prunes them here */
    dgt_sql(&srv, "UPDATE idempotency SET created_at ="
                  " CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)");
    /* a v4 text that is not what v4 wrote: converted without records */
    dgt_sql(&srv, "INSERT INTO idempotency SELECT user_id, 'v4-garbled', request_hash, '1:5,2:x',"
                  " created_at FROM idempotency WHERE key = 'v4-create'");
    dgt_server_restart(&srv, NULL);
    assert_true(dgt_log_has(&srv, "schema migrated\" version=5"));
    assert_int_equal(count_rows("SELECT count(*) FROM idempotency_records"), 7);
    assert_int_equal(count_rows("SELECT n_records FROM idempotency WHERE key = 'v4-garbled'"
                                " AND request IS NULL"),
                     0);
    mgr = dgt_login(&srv, "mgr", MGR_PASSWORD); /* the v4 database's own user */
    before = count_rows("SELECT count(*) FROM customers");

    v4_batch(&b);
    r = batch_send(mgr, &b);
    assert_int_equal(dgt_code(r), 0);
    assert_int_equal(dg_reply_response(r)->batch->n_records, DG_ARRAY_LEN(v4_ids));
    for (size_t i = 0; i < DG_ARRAY_LEN(v4_ids); i++)
        assert_int_equal(dgt_record_id(dg_reply_response(r)->batch->records[i]), v4_ids[i]);
    assert_int_equal(dg_reply_response(r)->batch->records[5]->kind_case,
                     DANGAN__V1__RECORD__KIND_TASK);
    dg_reply_free(r);
    r = create_customer(mgr, "迁移前丁公司", "v4-create");
    assert_int_equal(dgt_code(r), 0);
    assert_int_equal(dg_reply_response(r)->create->record->customer->id, v4_single_id);
    dg_reply_free(r);
    r = merge(mgr, v4_ids[0], v4_ids[2], "v4-merge");
    assert_int_equal(dgt_code(r), 0);
    assert_int_equal(dg_reply_response(r)->merge->moved, 1);
    dg_reply_free(r);
    r = reassign(mgr, v4_ids[4], "s1", "v4-reassign");
    assert_int_equal(dgt_code(r), 0);
    assert_int_equal(dg_reply_response(r)->reassign->customers, 1);
    assert_int_equal(dg_reply_response(r)->reassign->tasks, 1);
    dg_reply_free(r);
    assert_int_equal(count_rows("SELECT count(*) FROM customers"), before);

    /* a v4 key with another body is still refused */
    r = create_customer(mgr, "另一家公司", "v4-create");
    assert_string_equal(dgt_reason(r), "idempotency_key_reused");
    dg_reply_free(r);
    batch_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_1000_op_batch_retried_gets_the_same_records),
        cmocka_unit_test(test_a_merge_retried_answers_as_the_first_time),
        cmocka_unit_test(test_a_reassign_retried_answers_as_the_first_time),
        cmocka_unit_test(test_a_key_of_an_archive_does_not_answer_a_restore),
        cmocka_unit_test(test_a_damaged_stored_answer_is_data_loss_and_the_server_goes_on),
        cmocka_unit_test(test_keys_stored_by_schema_v4_answer_their_retries),
    };
    const char *dump = getenv("DGT_MAKE_V4_DUMP");

    if (dump) {
        make_v4_history(dump);
        return 0;
    }
    return cmocka_run_group_tests(tests, setup, teardown);
}
