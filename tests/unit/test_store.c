/* test_store.c - the storage seam against real SQLite files: creation with
 * private modes, the settings it insists on, schema versions, users,
 * sessions and audit rows, savepoints, search documents queued to the
 * commit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* Appends changes at the given times (unix ms) in one transaction, each of
 * fields "name" and "phone". */
static void append_changes(dg_store *st, const int64_t *at, size_t n)
{
    static const char *const fields[] = {"name", "phone"};

    assert_int_equal(dg_store_begin(st), DG_OK);
    for (size_t i = 0; i < n; i++) {
        dg_change c = {.at = at[i],
                       .entity = "customer",
                       .entity_id = 1,
                       .customer_id = 1,
                       .op = "updated",
                       .version = (int64_t)i + 1,
                       .fields = fields,
                       .n_fields = DG_ARRAY_LEN(fields)};
        int64_t seq;

        assert_int_equal(dg_store_change_append(st, &c, &seq), DG_OK);
    }
    assert_int_equal(dg_store_commit(st), DG_OK);
}

/* The first change's seq; every change read has its two fields. */
static int64_t oldest_change(dg_store *st)
{
    dg_arena *a = dg_arena_new(1 << 20);
    dg_change_row *rows;
    size_t n;
    int64_t oldest = -1, first;

    assert_int_equal(dg_store_read_begin(st), DG_OK);
    assert_int_equal(dg_store_changes_after(st, 0, 100, a, &rows, &n, &oldest), DG_OK);
    dg_store_read_end(st);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(rows[i].c.n_fields, 2);
        assert_string_equal(rows[i].c.fields[0], "name");
        assert_string_equal(rows[i].c.fields[1], "phone");
        assert_false(rows[i].c.vis_before.is_set || rows[i].c.vis_after.is_set);
    }
    first = n ? rows[0].seq : 0;
    dg_arena_free(a);
    return first;
}

/* The first column of the first row of `sql` on a connection of its own. */
static int64_t raw_int(const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    int64_t v;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

static int prune(dg_store *st, int64_t before, int64_t keep, int max)
{
    int n = -1;

    assert_int_equal(dg_store_begin(st), DG_OK);
    assert_int_equal(dg_store_changes_prune(st, before, keep, max, &n), DG_OK);
    assert_int_equal(dg_store_commit(st), DG_OK);
    return n;
}

/* Retention removes a prefix of the feed, never a row in the middle (a
 * cursor past the oldest row must find every later one), within `keep` and
 * `max`. Seqs 1..8, times: 10 20 30 90 40 50 60 70. */
static void test_change_pruning_removes_only_a_prefix(void **state)
{
    static const int64_t at[] = {10, 20, 30, 90, 40, 50, 60, 70};
    dg_store *st = create();

    (void)state;
    append_changes(st, at, 8);
    assert_int_equal(prune(st, 25, 0, 100), 2); /* 10, 20 */
    assert_int_equal(oldest_change(st), 3);
    /* 30 goes; seq 4 (at 90) stops it, though 40..70 are older than 80 */
    assert_int_equal(prune(st, 80, 0, 100), 1);
    assert_int_equal(oldest_change(st), 4);
    assert_int_equal(prune(st, 80, 0, 100), 0);
    assert_int_equal(prune(st, 1000, 3, 2), 2);   /* at most max: seqs 4, 5 */
    assert_int_equal(prune(st, 1000, 3, 100), 0); /* the newest 3 are kept */
    assert_int_equal(oldest_change(st), 6);
    /* a pruned change's fields went with it */
    assert_int_equal(raw_int("SELECT count(*) FROM change_fields"), 3 * 2);
    assert_int_equal(raw_int("SELECT min(seq) FROM change_fields"), 6);
    dg_store_close(st);
}

/* Stores key `key` for user 7 at `at` with n customer records 1..n. */
static void put_key(dg_store *st, const char *key, int64_t at, size_t n)
{
    dg_idem_ref *refs = calloc(n ? n : 1, sizeof *refs);
    dg_idem_result r = {.request = DG_IDEM_BATCH, .records = refs, .n_records = n};

    for (size_t i = 0; i < n; i++)
        refs[i] = (dg_idem_ref){DG_KIND_CUSTOMER, (int64_t)i + 1};
    memset(r.request_hash, 0xab, sizeof r.request_hash);
    assert_int_equal(dg_store_idem_put(st, 7, key, &r, at), DG_OK);
    free(refs);
}

static bool has_key(dg_store *st, const char *key)
{
    dg_arena *a = dg_arena_new(1 << 20);
    dg_idem_result r;
    int rc = dg_store_idem_get(st, 7, key, a, &r);

    dg_arena_free(a);
    assert_true(rc == DG_OK || rc == DG_ENOTFOUND);
    return rc == DG_OK;
}

static void test_idempotency_results_round_trip_typed(void **state)
{
    static const dg_idem_ref refs[] = {{DG_KIND_CUSTOMER, 12}, {DG_KIND_CONTACT, 40}};
    dg_idem_result in = {.request = DG_IDEM_REASSIGN, .customers = 3, .tasks = 4000000000u};
    dg_idem_result out;
    dg_store *st = create();
    dg_arena *a = dg_arena_new(1 << 20);

    (void)state;
    memset(in.request_hash, 0x5a, sizeof in.request_hash);
    assert_int_equal(dg_store_idem_put(st, 7, "handover", &in, 100), DG_OK);
    assert_int_equal(dg_store_idem_put(st, 7, "handover", &in, 100), DG_EEXIST);
    in = (dg_idem_result){.request = DG_IDEM_BATCH, .records = refs, .n_records = 2};
    assert_int_equal(dg_store_idem_put(st, 7, "batch", &in, 100), DG_OK);
    in.request = DG_IDEM_ANY_RECORDS; /* only ever read back */
    assert_int_equal(dg_store_idem_put(st, 7, "any", &in, 100), DG_EINVAL);

    assert_int_equal(dg_store_idem_get(st, 7, "handover", a, &out), DG_OK);
    assert_int_equal(out.request, DG_IDEM_REASSIGN);
    assert_int_equal(out.customers, 3);
    assert_int_equal(out.tasks, 4000000000u);
    assert_int_equal(out.n_records, 0);
    assert_int_equal(out.request_hash[31], 0x5a);
    assert_int_equal(dg_store_idem_get(st, 7, "batch", a, &out), DG_OK);
    assert_int_equal(out.request, DG_IDEM_BATCH);
    assert_int_equal(out.n_records, 2);
    assert_int_equal(out.records[1].kind, DG_KIND_CONTACT);
    assert_int_equal(out.records[1].id, 40);
    assert_int_equal(dg_store_idem_get(st, 8, "batch", a, &out), DG_ENOTFOUND); /* per user */
    dg_arena_free(a);
    dg_store_close(st);
}

/* Expired keys go oldest first with their records, and one prune stops
 * once the keys before the next hold 20,000 records. */
static void test_idempotency_pruning_is_bounded_by_keys_and_records(void **state)
{
    dg_store *st = create();

    (void)state;
    assert_int_equal(dg_store_begin(st), DG_OK);
    put_key(st, "k1", 10, 8000);
    put_key(st, "k2", 20, 8000);
    put_key(st, "k3", 30, 5000);
    put_key(st, "k4", 40, 1);
    put_key(st, "k5", 50, 1);
    put_key(st, "young", 1000, 3);
    assert_int_equal(dg_store_commit(st), DG_OK);

    /* k1..k3: before k3 there are 16,000 records, before k4 21,000 */
    assert_int_equal(dg_store_idem_prune(st, 500, 1000), DG_OK);
    assert_false(has_key(st, "k1"));
    assert_false(has_key(st, "k2"));
    assert_false(has_key(st, "k3"));
    assert_true(has_key(st, "k4"));
    assert_int_equal(dg_store_idem_prune(st, 500, 1), DG_OK); /* at most one key */
    assert_false(has_key(st, "k4"));
    assert_true(has_key(st, "k5"));
    assert_int_equal(dg_store_idem_prune(st, 500, 1000), DG_OK);
    assert_false(has_key(st, "k5"));
    assert_true(has_key(st, "young"));
    dg_store_close(st);

    /* no record rows are left behind by the keys that went */
    sqlite3 *db;
    sqlite3_stmt *s;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT count(*) FROM idempotency_records", -1, &s, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(s, 0), 3);
    sqlite3_finalize(s);
    sqlite3_close(db);
}

static void put_doc(dg_store *st, int64_t id, const char *old_name, const char *name)
{
    dg_search_doc old = {.name = old_name}, doc = {.name = name};

    assert_int_equal(dg_store_search_put(st, DG_KIND_CUSTOMER, id, old_name ? &old : NULL, &doc),
                     DG_OK);
}

/* The widest filter a request can carry (every list at its cap, every
 * optional condition, restricted tiers, a text cursor) still fits the SQL
 * text of a list and of a search. */
static void test_the_widest_filter_fits_a_list_and_a_search(void **state)
{
    static const char *const eight[] = {"a", "b", "c", "d", "e", "f", "g", "h"};
    static const dg_custom_value custom[] = {
        {"field_one", "v"}, {"field_two", "v"}, {"field_three", "v"}, {"field_four", "v"}};
    dg_store *st = create();
    dg_list_query q = {.kind = DG_KIND_CUSTOMER,
                       .tiers = eight,
                       .n_tiers = 8,
                       .statuses = eight,
                       .n_statuses = 8,
                       .intentions = eight,
                       .n_intentions = 8,
                       .values = eight,
                       .n_values = 8,
                       .industry = "i",
                       .region = "r",
                       .tag = "t",
                       .owner_id = 1,
                       .custom = custom,
                       .n_custom = 4,
                       .restricted = {"a", "b", "c"},
                       .n_restricted = 3,
                       .viewer_id = 1,
                       .sort_column = "code",
                       .is_desc = true,
                       .has_after = true,
                       .after_key = {.type = DG_KEY_TEXT, .data = (const uint8_t *)"C-1", .len = 3},
                       .after_id = 1,
                       .limit = 10};
    dg_arena *a = dg_arena_new(1 << 20);
    dg_search_hit *hits;
    dg_list_page page;
    char expr[64];
    size_t n;

    (void)state;
    assert_int_equal(dg_store_rec_list(st, &q, a, &page), DG_OK);
    assert_int_equal(page.n, 0);
    assert_int_equal(dg_text_search_expr("长城", expr, sizeof expr), DG_OK);
    assert_int_equal(dg_store_search(st, expr, &q, 10, 1000, a, &hits, &n), DG_OK);
    assert_int_equal(n, 0);
    dg_arena_free(a);
    dg_store_close(st);
}

/* Search documents wait for the commit (one index flush per group commit),
 * so a job rolled back to its savepoint must take its documents with it. */
static void test_search_documents_follow_savepoints_and_commit(void **state)
{
    dg_store *st = create();
    char ids[64];

    (void)state;
    raw_exec("INSERT INTO customers(id, version, code, name, created_at, updated_at) VALUES"
             " (1, 1, 'C-1', 'a', 0, 0), (2, 1, 'C-2', 'b', 0, 0), (3, 1, 'C-3', 'c', 0, 0)");
    assert_int_equal(dg_store_begin(st), DG_OK);
    assert_int_equal(dg_store_savepoint(st), DG_OK);
    put_doc(st, 1, NULL, "长城贸易");
    assert_int_equal(dg_store_release(st), DG_OK);
    assert_int_equal(dg_store_savepoint(st), DG_OK);
    put_doc(st, 2, NULL, "长城电子");
    dg_store_rollback_to(st);
    assert_int_equal(dg_store_savepoint(st), DG_OK);
    put_doc(st, 3, NULL, "长城物流");
    assert_int_equal(dg_store_release(st), DG_OK);
    assert_int_equal(dg_store_commit(st), DG_OK);
    dgt_search_ids(st, "长城", ids, sizeof ids);
    assert_string_equal(ids, "1,3");

    /* replaced: the old words no longer find it; a rolled-back transaction
     * leaves nothing behind */
    assert_int_equal(dg_store_begin(st), DG_OK);
    put_doc(st, 1, "长城贸易", "黄河贸易");
    assert_int_equal(dg_store_commit(st), DG_OK);
    assert_int_equal(dg_store_begin(st), DG_OK);
    put_doc(st, 3, "长城物流", "黄河物流");
    dg_store_rollback(st);
    dgt_search_ids(st, "长城", ids, sizeof ids);
    assert_string_equal(ids, "3");
    dgt_search_ids(st, "黄河", ids, sizeof ids);
    assert_string_equal(ids, "1");
    dg_store_close(st);
}

static void add_user(dg_store *st, const char *name)
{
    dg_user u = {0};

    snprintf(u.username, sizeof u.username, "%s", name);
    snprintf(u.password_hash, sizeof u.password_hash, "h");
    u.role = DG_ROLE_SALES;
    assert_int_equal(dg_store_begin(st), DG_OK);
    assert_int_equal(dg_store_user_insert(st, &u, 0), DG_OK);
    assert_int_equal(dg_store_commit(st), DG_OK);
}

/* ---- search while the statement cache turns over */

/* The customers of the search test, and what each filter shape lets through. */
static const struct test_customer {
    int64_t id;
    const char *tier, *status, *industry;
    int64_t owner_id;
    bool is_archived;
} search_customers[] = {
    {1, "a", "active", "制造", 1, false}, /* restricted tier, owned by user 1 */
    {2, "b", "active", "制造", 0, false}, {3, "b", "lost", "物流", 0, false},
    {4, "b", "active", "制造", 0, true},  {5, "c", "active", "物流", 0, false},
};

/* Search rank for "长城": names (newest first) 4, 2, 1; then 3 through its
 * contact; then 5 through an interaction's notes. */
static const int64_t search_rank[] = {4, 2, 1, 3, 5};

static void make_search_data(dg_store *st)
{
    char sql[512];

    for (size_t i = 0; i < DG_ARRAY_LEN(search_customers); i++) {
        const struct test_customer *c = &search_customers[i];

        snprintf(sql, sizeof sql,
                 "INSERT INTO customers(id, version, code, name, tier, status, industry, owner_id,"
                 " archived_at, created_at, updated_at) VALUES (%lld, 1, 'C-%lld', 'n', '%s',"
                 " '%s', '%s', %s, %s, 0, 0)",
                 (long long)c->id, (long long)c->id, c->tier, c->status, c->industry,
                 c->owner_id ? "1" : "NULL", c->is_archived ? "5" : "NULL");
        raw_exec(sql);
    }
    raw_exec("INSERT INTO contacts(id, version, customer_id, name, created_at, updated_at)"
             " VALUES (1, 1, 3, '长城王五', 0, 0);"
             "INSERT INTO interactions(id, version, customer_id, at_ms, channel, summary,"
             " created_at, updated_at) VALUES (1, 1, 5, 0, 'visit', '长城会议', 0, 0)");
    assert_int_equal(dg_store_begin(st), DG_OK);
    put_doc(st, 1, NULL, "长城贸易");
    put_doc(st, 2, NULL, "长城电子");
    put_doc(st, 3, NULL, "黄河物流");
    put_doc(st, 4, NULL, "长城旧档");
    put_doc(st, 5, NULL, "泰山");
    assert_int_equal(
        dg_store_search_put(st, DG_KIND_CONTACT, 1, NULL, &(dg_search_doc){.people = "长城王五"}),
        DG_OK);
    assert_int_equal(dg_store_search_put(st, DG_KIND_INTERACTION, 1, NULL,
                                         &(dg_search_doc){.notes = "长城会议"}),
                     DG_OK);
    assert_int_equal(dg_store_commit(st), DG_OK);
}

static bool in_names(const char *v, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v, names[i]) == 0)
            return true;
    return n == 0; /* no list: no condition */
}

static bool passes(const struct test_customer *c, const dg_list_query *q)
{
    if (q->n_restricted && strcmp(c->tier, "a") == 0 && c->owner_id != q->viewer_id)
        return false;
    if (c->is_archived && !q->include_archived)
        return false;
    if (q->industry && strcmp(c->industry, q->industry) != 0)
        return false;
    return in_names(c->tier, q->tiers, q->n_tiers) &&
           in_names(c->status, q->statuses, q->n_statuses);
}

/* Filter shape k: the counts of listed values and the optional conditions
 * differ, so each k below N_SHAPES writes SQL text of its own. */
enum { N_SHAPES = 4 * 9 * 2 * 2 * 2 };

static dg_list_query filter_shape(int k)
{
    static const char *const tiers[] = {"b", "a", "c"};
    static const char *const statuses[] = {"active", "lost", "active", "lost",
                                           "active", "lost", "active", "lost"};
    dg_list_query q = {.kind = DG_KIND_CUSTOMER, .tiers = tiers, .statuses = statuses};

    q.n_tiers = (size_t)(k % 4);
    q.n_statuses = (size_t)(k / 4 % 9);
    q.industry = k / 36 % 2 ? "制造" : NULL;
    q.n_restricted = (size_t)(k / 72 % 2);
    q.restricted[0] = "a";
    q.viewer_id = k % 3 == 0 ? 1 : 2;
    q.include_archived = k / 144 % 2;
    return q;
}

/* A search runs its query statement while the store prepares others; the
 * cache of statements built at run time must never finalize a statement
 * that is running. A read connection goes through more filter shapes than
 * the cache holds, each listed and searched, and every answer is checked. */
static void test_search_and_lists_through_more_filter_shapes_than_the_cache_holds(void **state)
{
    dg_store *st = create(), *rd;
    char err[256], expr[128];

    (void)state;
    add_user(st, "owner");
    make_search_data(st);
    assert_int_equal(dg_text_search_expr("长城", expr, sizeof expr), DG_OK);
    assert_int_equal(dg_store_open(path, false, &rd, err, sizeof err), DG_OK);
    for (int k = 0; k < N_SHAPES; k++) {
        dg_list_query q = filter_shape(k);
        dg_arena *a = dg_arena_new(1 << 20);
        dg_search_hit *hits;
        dg_list_page page;
        size_t n, want = 0;

        assert_int_equal(dg_store_read_begin(rd), DG_OK);
        q.sort_column = "id";
        q.limit = 10;
        assert_int_equal(dg_store_rec_list(rd, &q, a, &page), DG_OK);
        for (size_t i = 0; i < DG_ARRAY_LEN(search_customers); i++)
            if (passes(&search_customers[i], &q)) {
                if (want >= page.n || page.records[want]->id != search_customers[i].id)
                    fail_msg("shape %d: list lacks customer %lld", k,
                             (long long)search_customers[i].id);
                want++;
            }
        assert_int_equal(page.n, want);

        assert_int_equal(dg_store_search(rd, expr, &q, 10, 1000, a, &hits, &n), DG_OK);
        want = 0;
        for (size_t r = 0; r < DG_ARRAY_LEN(search_rank); r++) {
            const struct test_customer *c = &search_customers[search_rank[r] - 1];

            if (!passes(c, &q))
                continue;
            if (want >= n || hits[want].customer->id != c->id)
                fail_msg("shape %d: search hit %zu is not customer %lld", k, want,
                         (long long)c->id);
            want++;
        }
        assert_int_equal(n, want);
        dg_store_read_end(rd);
        dg_arena_free(a);
    }
    dg_store_close(rd);
    dg_store_close(st);
}

/* The writer bounds the WAL with a RESTART checkpoint: afterwards the next
 * commit writes at the start of the WAL again, and nothing is lost. */
static void test_checkpoint_restart_starts_the_wal_over(void **state)
{
    dg_store *st = create();
    dg_user got;
    char name[32], err[256];
    int grown;

    (void)state;
    for (int i = 0; i < 50; i++) {
        snprintf(name, sizeof name, "u%02d", i);
        add_user(st, name);
    }
    grown = dg_store_wal_frames(st);
    assert_true(grown >= 50);
    assert_int_equal(dg_store_checkpoint_restart(st, 100), DG_OK);
    add_user(st, "after");
    assert_in_range(dg_store_wal_frames(st), 1, 10);
    dg_store_close(st);
    assert_int_equal(dg_store_open(path, false, &st, err, sizeof err), DG_OK);
    assert_int_equal(dg_store_user_by_name(st, "u00", &got), DG_OK);
    assert_int_equal(dg_store_user_by_name(st, "after", &got), DG_OK);
    dg_store_close(st);
}

/* A commit that skips its fsync (dg_store_skip_sync) is published to readers
 * at once: the storage VFS must have handed its frames to the file by then,
 * or another connection reads past the end of the WAL (an I/O error). */
static void test_a_commit_without_fsync_is_readable_at_once(void **state)
{
    dg_store *st = create(), *rd;
    char err[256];

    (void)state;
    assert_int_equal(dg_store_open(path, false, &rd, err, sizeof err), DG_OK);
    for (int i = 0; i < 20; i++) {
        dg_user u = {0}, got;

        snprintf(u.username, sizeof u.username, "lazy%02d", i);
        snprintf(u.password_hash, sizeof u.password_hash, "h");
        u.role = DG_ROLE_SALES;
        assert_int_equal(dg_store_skip_sync(st, i % 3 != 0), DG_OK); /* mixed, as in a server */
        assert_true(dg_store_sync_skipped(st) == (i % 3 != 0));
        assert_int_equal(dg_store_begin(st), DG_OK);
        assert_int_equal(dg_store_user_insert(st, &u, 0), DG_OK);
        assert_int_equal(dg_store_commit(st), DG_OK);
        assert_int_equal(dg_store_user_by_name(rd, u.username, &got), DG_OK);
    }
    dg_store_close(rd);
    dg_store_close(st);
}

/* A commit without fsync survives the process being killed right after it.
 * The transaction is bigger than the page cache, so pages spill to the WAL
 * early; the first one is then changed again, and SQLite rewrites frame
 * checksums, the commit frame's header last. the VFS once kept that header
 * in memory (no page follows it, and no sync came), and recovery then
 * threw the whole transaction away. */
static void test_a_commit_without_fsync_survives_a_killed_process(void **state)
{
    dg_store *st;
    dg_user got;
    char err[256];
    pid_t pid;
    int status;

    (void)state;
    st = create();
    dg_store_close(st);
    if ((pid = fork()) == 0) { /* the server, killed right after its commit */
        dg_user first = {.role = DG_ROLE_SALES};

        snprintf(first.username, sizeof first.username, "first");
        snprintf(first.password_hash, sizeof first.password_hash, "h");
        /* not the WAL's first transaction: that one SQLite trims the WAL
         * after (journal_size_limit), which flushed the VFS by chance */
        if (dg_store_open(path, true, &st, err, sizeof err) != DG_OK ||
            dg_store_begin(st) != DG_OK || dg_store_user_insert(st, &first, 0) != DG_OK ||
            dg_store_commit(st) != DG_OK)
            _exit(1);
        if (dg_store_set_cache_mib(st, 1) != DG_OK || dg_store_skip_sync(st, true) != DG_OK ||
            dg_store_begin(st) != DG_OK)
            _exit(2);
        for (int i = 0; i < 20000; i++) { /* ~2 MB of rows: beyond the 1 MiB cache */
            dg_user u = {0};

            snprintf(u.username, sizeof u.username, "spill%05d", i);
            memset(u.password_hash, 'h', sizeof u.password_hash - 1);
            u.role = DG_ROLE_SALES;
            if (dg_store_user_insert(st, &u, 0) != DG_OK)
                _exit(3);
        }
        if (dg_store_user_by_name(st, "spill00000", &got) != DG_OK ||
            dg_store_user_set_access(st, got.id, DG_ROLE_VIEWER, false, 1, 0) != DG_OK ||
            dg_store_commit(st) != DG_OK)
            _exit(4);
        _exit(0); /* no close, no checkpoint: as if killed */
    }
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(dg_store_open(path, false, &st, err, sizeof err), DG_OK); /* recovers */
    assert_int_equal(dg_store_user_by_name(st, "spill19999", &got), DG_OK);
    assert_int_equal(dg_store_user_by_name(st, "spill00000", &got), DG_OK);
    assert_int_equal(got.role, DG_ROLE_VIEWER);
    dg_store_close(st);
}

/* Writes to the WAL go through the storage VFS, which coalesces them: a
 * transaction far bigger than its buffer (and than the unix VFS's largest
 * single write) must land whole, readable by another connection and intact
 * after a reopen. */
static void test_a_large_transaction_lands_whole(void **state)
{
    dg_store *st = create(), *rd;
    dg_user got;
    char err[256];
    sqlite3 *db;
    sqlite3_stmt *s;

    (void)state;
    assert_int_equal(dg_store_begin(st), DG_OK);
    for (int i = 0; i < 3000; i++) {
        dg_user u = {0};

        snprintf(u.username, sizeof u.username, "bulk%04d", i);
        memset(u.password_hash, 'h', sizeof u.password_hash - 1); /* ~100 bytes a row */
        u.role = DG_ROLE_SALES;
        assert_int_equal(dg_store_user_insert(st, &u, 0), DG_OK);
    }
    assert_int_equal(dg_store_commit(st), DG_OK);
    assert_true(dg_store_wal_frames(st) > 64); /* > 256 KiB of WAL in one commit */
    assert_int_equal(dg_store_open(path, false, &rd, err, sizeof err), DG_OK);
    assert_int_equal(dg_store_user_by_name(rd, "bulk2999", &got), DG_OK);
    dg_store_close(rd);
    dg_store_close(st);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT (SELECT count(*) FROM users WHERE username LIKE"
                                        " 'bulk%'), (SELECT integrity_check FROM"
                                        " pragma_integrity_check)",
                                        -1, &s, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(s, 0), 3000);
    assert_string_equal((const char *)sqlite3_column_text(s, 1), "ok");
    sqlite3_finalize(s);
    sqlite3_close(db);
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
        cmocka_unit_test_setup_teardown(
            test_search_and_lists_through_more_filter_shapes_than_the_cache_holds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_the_widest_filter_fits_a_list_and_a_search, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_search_documents_follow_savepoints_and_commit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_restart_starts_the_wal_over, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_large_transaction_lands_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_commit_without_fsync_is_readable_at_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_commit_without_fsync_survives_a_killed_process,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_change_pruning_removes_only_a_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotency_results_round_trip_typed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotency_pruning_is_bounded_by_keys_and_records,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
