/* test_search_queue.c - the search documents of answered writes over real
 * TLS, when the writer applies search_queue only when it must (the [store]
 * search_apply_ops and search_idle_ms below keep it from doing so on its
 * own): a search issued right after a reply finds the new words and not the
 * old; what a killed server left queued is in the index once it is back;
 * past search_apply_ops the writer applies after the batch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "fixture.h"

/* never on its own: only for a search, or at start-up */
#define ON_DEMAND "[store]\nsearch_apply_ops = 1000000000\nsearch_idle_ms = 86400000\n"

static dgt_server srv;
static dg_client *cli;

static void start(const char *ini)
{
    dgt_server_start(&srv, ini);
    cli = dgt_login(&srv, "admin", srv.admin_password);
}

static int teardown(void **state)
{
    (void)state;
    dg_client_close(cli);
    dgt_server_stop(&srv);
    return 0;
}

static int64_t queue_rows(void)
{
    char path[512];
    sqlite3 *db;
    sqlite3_stmt *st;
    int64_t n = -1;

    dgt_db_path(&srv, path, sizeof path);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM search_queue", -1, &st, NULL),
                     SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* Creates a customer (duplicates allowed); its id and version. */
static int64_t create(const char *name, int64_t *version)
{
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__CreateRequest m = DANGAN__V1__CREATE_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    dg_reply *r;
    int64_t id;

    cu.name = (char *)name;
    rec.kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
    rec.customer = &cu;
    m.record = &rec;
    m.allow_duplicate = true;
    req.body_case = DANGAN__V1__REQUEST__BODY_CREATE;
    req.create = &m;
    r = dgt_call(cli, &req);
    if (dgt_code(r) != 0)
        fail_msg("create %s: %s", name, dgt_reason(r));
    id = dg_reply_response(r)->create->record->customer->id;
    *version = dg_reply_response(r)->create->record->customer->version;
    dg_reply_free(r);
    return id;
}

static void rename_customer(int64_t id, int64_t version, const char *name)
{
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__UpdateRequest m = DANGAN__V1__UPDATE_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    char *mask[] = {"name"};
    dg_reply *r;

    cu.id = id;
    cu.name = (char *)name;
    rec.kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
    rec.customer = &cu;
    m.record = &rec;
    m.expected_version = version;
    m.update_mask = mask;
    m.n_update_mask = 1;
    req.body_case = DANGAN__V1__REQUEST__BODY_UPDATE;
    req.update = &m;
    r = dgt_call(cli, &req);
    if (dgt_code(r) != 0)
        fail_msg("rename to %s: %s", name, dgt_reason(r));
    dg_reply_free(r);
}

/* Whether a search for `q` finds customer `id`. */
static bool finds(const char *q, int64_t id)
{
    Dangan__V1__SearchRequest m = DANGAN__V1__SEARCH_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    const Dangan__V1__SearchResponse *s;
    bool is_found = false;
    dg_reply *r;

    m.query = (char *)q;
    m.limit = 50;
    req.body_case = DANGAN__V1__REQUEST__BODY_SEARCH;
    req.search = &m;
    r = dgt_call(cli, &req);
    assert_int_equal(dgt_code(r), 0);
    s = dg_reply_response(r)->search;
    for (size_t i = 0; i < s->n_hits; i++)
        is_found = is_found || s->hits[i]->customer->id == id;
    dg_reply_free(r);
    return is_found;
}

static void test_a_search_right_after_a_reply_sees_the_write(void **state)
{
    int64_t version, id;

    (void)state;
    start(ON_DEMAND);
    id = create("黄鹤楼茶社", &version);
    rename_customer(id, version, "岳阳楼书店");
    assert_true(queue_rows() > 0); /* committed, not yet in the index */
    assert_true(finds("岳阳楼", id));
    assert_false(finds("黄鹤楼", id));
    assert_int_equal(queue_rows(), 0);
    /* and again, with the index already holding the customer */
    rename_customer(id, version + 1, "滕王阁饭庄");
    assert_true(finds("滕王阁", id));
    assert_false(finds("岳阳楼", id));
}

static void test_what_a_killed_server_left_queued_is_indexed_at_start(void **state)
{
    int64_t version, id;

    (void)state;
    start(ON_DEMAND);
    id = create("鹳雀楼酒家", &version);
    rename_customer(id, version, "蓬莱阁客栈");
    assert_true(queue_rows() > 0);
    dg_client_close(cli);
    cli = NULL;
    dgt_server_kill(&srv);
    dgt_server_restart(&srv, ON_DEMAND);
    /* applied before the server answered anything: no search asked for it */
    assert_int_equal(queue_rows(), 0);
    assert_true(dgt_log_has(&srv, "applied the search queue"));
    cli = dgt_login(&srv, "admin", srv.admin_password);
    assert_true(finds("蓬莱阁", id));
    assert_false(finds("鹳雀楼", id));
}

static void test_past_the_threshold_the_writer_applies_after_the_batch(void **state)
{
    int64_t version, id;

    (void)state;
    start("[store]\nsearch_apply_ops = 6\nsearch_idle_ms = 86400000\n");
    /* a customer's documents: its name and its address (never empty) */
    id = create("大观楼茶馆", &version);
    assert_int_equal(queue_rows(), 2);
    rename_customer(id, version, "天一阁书局"); /* the name's delete and insert */
    assert_int_equal(queue_rows(), 4);
    rename_customer(id, version + 1, "黄鹤楼书局"); /* 6: applied after this batch */
    /* the writer applies before it takes the next job: after this reply
     * only this rename's documents wait */
    rename_customer(id, version + 2, "岳阳楼书局");
    assert_int_equal(queue_rows(), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_a_search_right_after_a_reply_sees_the_write, teardown),
        cmocka_unit_test_teardown(test_what_a_killed_server_left_queued_is_indexed_at_start,
                                  teardown),
        cmocka_unit_test_teardown(test_past_the_threshold_the_writer_applies_after_the_batch,
                                  teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
