/* test_search_queue_store.c - search documents deferred to search_queue against
 * real SQLite files: a deferring connection commits them as queue rows that
 * the index does not have yet; applying them empties the queue and leaves
 * the index as a rebuild from the final documents would; a connection that
 * writes the index directly first applies what a deferring one left. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "fixture.h"
#include "search_ids.h"
#include "alloc.h"
#include "store.h"
#include "text.h"

static char dir[256], path[320];

static int setup(void **state)
{
    (void)state;
    dgt_tempdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/t.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dgt_rmtree(dir);
    return 0;
}

static dg_store *create(void)
{
    char err[256];
    dg_store *st;
    sqlite3 *db;

    remove(path);
    assert_int_equal(dg_store_create(path, &st, err, sizeof err), DG_OK);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "INSERT INTO customers(id, version, code, name, created_at, updated_at) VALUES"
                     " (1, 1, 'C-1', 'a', 0, 0), (2, 1, 'C-2', 'b', 0, 0),"
                     " (3, 1, 'C-3', 'c', 0, 0), (4, 1, 'C-4', 'd', 0, 0)",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    return st;
}

/* The rows of search_queue, read through a connection of its own. */
static int queue_rows(void)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    int n = -1;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM search_queue", -1, &s, NULL),
                     SQLITE_OK);
    if (sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

static void put(dg_store *st, int64_t id, const char *old_name, const char *name, const char *phone)
{
    dg_search_doc old = {.name = old_name}, doc = {.name = name, .phones = phone};

    assert_int_equal(dg_store_search_put(st, DG_KIND_CUSTOMER, id, old_name ? &old : NULL, &doc),
                     DG_OK);
}

static const char *const queries[] = {"长城", "黄河", "贸易", "物流", "电子", "珠江", "13800"};

/* Every query's hits, one line each. */
static void all_found(dg_store *st, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        char ids[64];

        dgt_search_ids(st, queries[i], ids, sizeof ids);
        snprintf(out + strlen(out), cap - strlen(out), "%s: %s\n", queries[i], ids);
    }
}

static void apply(dg_store *st)
{
    assert_int_equal(dg_store_begin(st), DG_OK);
    assert_int_equal(dg_store_search_apply(st), DG_OK);
    assert_int_equal(dg_store_commit(st), DG_OK);
}

static void test_applied_queue_equals_a_rebuild(void **state)
{
    dg_store *st = create();
    char ids[64], applied[512], rebuilt[512];

    (void)state;
    assert_int_equal(dg_store_search_defer(st, true), DG_OK);
    assert_int_equal(dg_store_begin(st), DG_OK);
    put(st, 1, NULL, "长城贸易", "13800001111");
    put(st, 2, NULL, "长城电子", NULL);
    put(st, 3, NULL, "黄河物流", NULL);
    assert_int_equal(dg_store_commit(st), DG_OK);
    /* committed as queue rows: the index has none of it yet */
    assert_int_equal(dg_store_search_queued(st), 4);
    assert_int_equal(queue_rows(), 4);
    dgt_search_ids(st, "长城", ids, sizeof ids);
    assert_string_equal(ids, "");

    /* a rename (delete + insert), and a job rolled back with its rows */
    assert_int_equal(dg_store_begin(st), DG_OK);
    assert_int_equal(dg_store_savepoint(st), DG_OK);
    put(st, 1, "长城贸易", "黄河贸易", NULL);
    assert_int_equal(dg_store_release(st), DG_OK);
    assert_int_equal(dg_store_savepoint(st), DG_OK);
    put(st, 4, NULL, "长城物流", NULL);
    dg_store_rollback_to(st);
    assert_int_equal(dg_store_commit(st), DG_OK);
    assert_int_equal(dg_store_search_queued(st), 6);
    /* a rolled-back transaction takes its rows and its count back */
    assert_int_equal(dg_store_begin(st), DG_OK);
    put(st, 4, NULL, "长城物流", NULL);
    assert_int_equal(dg_store_search_flush(st), DG_OK);
    assert_int_equal(dg_store_search_queued(st), 7);
    dg_store_rollback(st);
    assert_int_equal(dg_store_search_queued(st), 6);
    assert_int_equal(queue_rows(), 6);

    apply(st);
    assert_int_equal(dg_store_search_queued(st), 0);
    assert_int_equal(queue_rows(), 0);
    all_found(st, applied, sizeof applied);
    dgt_search_ids(st, "长城", ids, sizeof ids);
    assert_string_equal(ids, "2");
    dgt_search_ids(st, "黄河", ids, sizeof ids);
    assert_string_equal(ids, "1,3");
    dgt_search_ids(st, "13800", ids, sizeof ids);
    assert_string_equal(ids, "1");

    /* the index a rebuild from the final documents makes */
    assert_int_equal(dg_store_search_defer(st, false), DG_OK);
    assert_int_equal(dg_store_begin(st), DG_OK);
    assert_int_equal(dg_store_search_clear(st), DG_OK);
    put(st, 1, NULL, "黄河贸易", "13800001111");
    put(st, 2, NULL, "长城电子", NULL);
    put(st, 3, NULL, "黄河物流", NULL);
    assert_int_equal(dg_store_commit(st), DG_OK);
    all_found(st, rebuilt, sizeof rebuilt);
    assert_string_equal(applied, rebuilt);
    dg_store_close(st);
}

/* What a deferring writer left queued (a crash before it applied them) is
 * older than what a direct writer writes: it goes into the index first. */
static void test_direct_writes_apply_the_queue_first(void **state)
{
    dg_store *st = create();
    char ids[64];

    (void)state;
    assert_int_equal(dg_store_begin(st), DG_OK);
    put(st, 2, NULL, "长城电子", NULL);
    assert_int_equal(dg_store_commit(st), DG_OK);
    assert_int_equal(dg_store_search_defer(st, true), DG_OK);
    assert_int_equal(dg_store_begin(st), DG_OK);
    put(st, 2, "长城电子", "长江电子", NULL);
    assert_int_equal(dg_store_commit(st), DG_OK);
    assert_int_equal(queue_rows(), 2);
    dg_store_close(st);

    char err[256];

    assert_int_equal(dg_store_open(path, true, &st, err, sizeof err), DG_OK);
    assert_int_equal(dg_store_begin(st), DG_OK);
    put(st, 2, "长江电子", "珠江电子", NULL);
    assert_int_equal(dg_store_commit(st), DG_OK);
    assert_int_equal(queue_rows(), 0);
    dgt_search_ids(st, "长城", ids, sizeof ids);
    assert_string_equal(ids, "");
    dgt_search_ids(st, "长江", ids, sizeof ids);
    assert_string_equal(ids, "");
    dgt_search_ids(st, "珠江", ids, sizeof ids);
    assert_string_equal(ids, "2");
    dg_store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_applied_queue_equals_a_rebuild, setup, teardown),
        cmocka_unit_test_setup_teardown(test_direct_writes_apply_the_queue_first, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
