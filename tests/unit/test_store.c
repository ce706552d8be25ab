/* test_store.c - the storage seam against real SQLite files: creation with
 * private modes, the settings it insists on, schema versions, users,
 * sessions and audit rows, savepoints. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "fixture.h"
#include "store.h"

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

    remove(path);
    assert_int_equal(dg_store_create(path, &st, err, sizeof err), DG_OK);
    return st;
}

static void raw_exec(const char *sql)
{
    sqlite3 *db;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void test_store_creates_a_private_wal_database(void **state)
{
    dg_store *st = create();
    struct stat sb;

    (void)state;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    dg_store_close(st);
}

static void test_store_create_refuses_an_existing_file(void **state)
{
    dg_store *st = create(), *again;
    char err[256];

    (void)state;
    dg_store_close(st);
    assert_int_equal(dg_store_create(path, &again, err, sizeof err), DG_EEXIST);
}

static void test_store_refuses_a_schema_newer_than_the_program(void **state)
{
    dg_store *st = create();
    char err[256];

    (void)state;
    dg_store_close(st);
    raw_exec("PRAGMA user_version = 99");
    assert_int_equal(dg_store_open(path, true, &st, err, sizeof err), DG_ENOTSUP);
    assert_non_null(strstr(err, "newer"));
}

static void test_read_connection_refuses_a_database_not_in_wal_mode(void **state)
{
    dg_store *st = create();
    char err[256];

    (void)state;
    dg_store_close(st);
    raw_exec("PRAGMA journal_mode = DELETE");
    assert_int_equal(dg_store_open(path, false, &st, err, sizeof err), DG_ECORRUPT);
    assert_non_null(strstr(err, "wal"));
    /* the writer restores WAL itself */
    assert_int_equal(dg_store_open(path, true, &st, err, sizeof err), DG_OK);
    dg_store_close(st);
    assert_int_equal(dg_store_open(path, false, &st, err, sizeof err), DG_OK);
    dg_store_close(st);
}

static void test_store_refuses_a_file_that_is_not_a_database(void **state)
{
    FILE *f = fopen(path, "w");
    char err[256];
    dg_store *st;

    (void)state;
    fputs("this is not SQLite, just text long enough to be a header of sorts........", f);
    fclose(f);
    assert_int_not_equal(dg_store_open(path, true, &st, err, sizeof err), DG_OK);
    assert_null(st);
}

static void test_audit_rows_cannot_be_changed_or_deleted(void **state)
{
    dg_store *st = create();
    sqlite3 *db;
    uint8_t hash[32] = {1};
    dg_audit_rec r = {.seq = 1,
                      .at = 1,
                      .username = "u",
                      .peer = "p",
                      .action = "a",
                      .entity = "e",
                      .outcome = "ok",
                      .detail = "{}"};

    (void)state;
    assert_int_equal(dg_store_audit_insert(st, &r, hash), DG_OK);
    dg_store_close(st);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "UPDATE audit_log SET outcome='x'", NULL, NULL, NULL),
                         SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "DELETE FROM audit_log", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void test_users_round_trip_and_names_are_unique(void **state)
{
    dg_store *st = create();
    dg_user u = {0}, got, dup = {0};

    (void)state;
    snprintf(u.username, sizeof u.username, "zhang");
    snprintf(u.display_name, sizeof u.display_name, "张三");
    snprintf(u.password_hash, sizeof u.password_hash, "$argon2id$x");
    u.role = DG_ROLE_SALES;
    u.created_at = 1000;
    assert_int_equal(dg_store_user_insert(st, &u, 0), DG_OK);
    assert_true(u.id > 0);
    assert_int_equal(dg_store_user_by_name(st, "zhang", &got), DG_OK);
    assert_string_equal(got.display_name, "张三");
    assert_int_equal(got.role, DG_ROLE_SALES);
    assert_int_equal(dg_store_user_by_id(st, u.id, &got), DG_OK);
    assert_int_equal(dg_store_user_by_name(st, "nobody", &got), DG_ENOTFOUND);
    dup = u;
    assert_int_equal(dg_store_user_insert(st, &dup, 0), DG_EEXIST);
    assert_int_equal(dg_store_user_set_password(st, u.id, "$argon2id$y", true, 2000, u.id), DG_OK);
    assert_int_equal(dg_store_user_by_id(st, u.id, &got), DG_OK);
    assert_string_equal(got.password_hash, "$argon2id$y");
    assert_true(got.must_change_password);
    assert_int_equal(got.version, 2);
    dg_store_close(st);
}

static void test_sessions_revoke_one_or_all_of_a_user(void **state)
{
    dg_store *st = create();
    dg_user u = {0};
    dg_session_row a = {0}, b = {0}, got;
    int n;

    (void)state;
    snprintf(u.username, sizeof u.username, "li");
    snprintf(u.password_hash, sizeof u.password_hash, "h");
    u.role = DG_ROLE_VIEWER;
    assert_int_equal(dg_store_user_insert(st, &u, 0), DG_OK);
    a.user_id = b.user_id = u.id;
    a.token_hash[0] = 1;
    b.token_hash[0] = 2;
    a.expires_at = b.expires_at = 99999;
    assert_int_equal(dg_store_session_insert(st, &a), DG_OK);
    assert_int_equal(dg_store_session_insert(st, &b), DG_OK);
    assert_int_equal(dg_store_session_revoke(st, a.id, 5, "logout"), DG_OK);
    assert_int_equal(dg_store_session_by_hash(st, a.token_hash, &got), DG_OK);
    assert_int_equal(got.revoked_at, 5);
    assert_int_equal(dg_store_session_revoke_user(st, u.id, 6, "password_change", &n), DG_OK);
    assert_int_equal(n, 1); /* only b was still live */
    assert_int_equal(dg_store_session_touch(st, b.id, 50), DG_OK);
    assert_int_equal(dg_store_session_by_hash(st, b.token_hash, &got), DG_OK);
    assert_int_equal(got.last_seen_at, 50);
    dg_store_close(st);
}

static void test_rollback_to_savepoint_undoes_only_that_part(void **state)
{
    dg_store *st = create();
    dg_user u = {0}, v = {0}, got;

    (void)state;
    snprintf(u.username, sizeof u.username, "kept");
    snprintf(v.username, sizeof v.username, "undone");
    snprintf(u.password_hash, sizeof u.password_hash, "h");
    snprintf(v.password_hash, sizeof v.password_hash, "h");
    u.role = v.role = DG_ROLE_SALES;
    assert_int_equal(dg_store_begin(st), DG_OK);
    assert_int_equal(dg_store_savepoint(st), DG_OK);
    assert_int_equal(dg_store_user_insert(st, &u, 0), DG_OK);
    assert_int_equal(dg_store_release(st), DG_OK);
    assert_int_equal(dg_store_savepoint(st), DG_OK);
    assert_int_equal(dg_store_user_insert(st, &v, 0), DG_OK);
    dg_store_rollback_to(st);
    assert_true(dg_store_in_transaction(st));
    assert_int_equal(dg_store_commit(st), DG_OK);
    assert_int_equal(dg_store_user_by_name(st, "kept", &got), DG_OK);
    assert_int_equal(dg_store_user_by_name(st, "undone", &got), DG_ENOTFOUND);
    dg_store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_store_creates_a_private_wal_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_create_refuses_an_existing_file, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_refuses_a_schema_newer_than_the_program, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_read_connection_refuses_a_database_not_in_wal_mode,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_refuses_a_file_that_is_not_a_database, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_audit_rows_cannot_be_changed_or_deleted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_users_round_trip_and_names_are_unique, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sessions_revoke_one_or_all_of_a_user, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_to_savepoint_undoes_only_that_part, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
