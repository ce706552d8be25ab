/* test_demo_data.c - `dangand demo-data`: a loaded directory serves its
 * customers (list, Chinese search, dossiers, the demo accounts), the load is
 * audited once and follows the ABC shares of docs/customer-file.md, the same seed gives
 * the same data, and the command refuses a directory a server is using or
 * that was never initialised. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "audit.h"
#include "clock.h"
#include "fixture.h"
#include "tz.h"

#define N_CUSTOMERS 500

static dgt_server srv; /* loaded with 500 customers, seed 7, by the group setup */
static char load_out[65536];

/* ------------------------------------------------------------ helpers */

static void read_file(const char *path, char *out, size_t len)
{
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(out, 1, len - 1, f) : 0;

    if (f)
        fclose(f);
    out[n] = '\0';
}

static void wait_for_customers(const char *data, pid_t pid);

#define INDEX_COUNT "SELECT count(*) FROM sqlite_schema WHERE type = 'index'"
#define BULK_LIST "SELECT count(*) FROM meta WHERE key = 'bulk_load_indexes'"

/* Runs dangand with argv (without the program), stdout and stderr captured;
 * With `loading` (a data directory), signal `sig` is sent as soon as
 * customers are committed there. Returns the exit status, or 128 + signal. */
static int run_dangand_sig(const char *const *argv, char *out, size_t out_len, char *err,
                           size_t err_len, const char *loading, int sig)
{
    const char *args[16];
    char dir[256], out_path[300], err_path[300];
    size_t n = 0;
    int status;
    pid_t pid;

    dgt_tempdir(dir, sizeof dir);
    snprintf(out_path, sizeof out_path, "%s/out", dir);
    snprintf(err_path, sizeof err_path, "%s/err", dir);
    args[n++] = DANGAND_PATH;
    while (*argv && n < DG_ARRAY_LEN(args) - 1)
        args[n++] = *argv++;
    args[n] = NULL;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (!freopen(out_path, "w", stdout) || !freopen(err_path, "w", stderr))
            _exit(126);
        execv(DANGAND_PATH, (char *const *)args);
        _exit(127);
    }
    if (loading) {
        wait_for_customers(loading, pid);
        kill(pid, sig);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    read_file(out_path, out, out_len);
    read_file(err_path, err, err_len);
    dgt_rmtree(dir);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int run_dangand(const char *const *argv, char *out, size_t out_len, char *err,
                       size_t err_len)
{
    return run_dangand_sig(argv, out, out_len, err, err_len, NULL, 0);
}

/* `dangand init` + `demo-data` into a fresh DIR under root; asserts success. */
static void init_and_load(const char *root, const char *name, const char *seed, const char *n,
                          char *data, size_t data_len)
{
    static char out[65536], err[65536];
    const char *init[] = {"init", "--data", data, NULL};
    const char *demo[] = {"demo-data", "--data", data,          "--customers", n,
                          "--seed",    seed,     "--base-date", "2026-11-23",  NULL};

    snprintf(data, data_len, "%s/%s", root, name);
    assert_int_equal(run_dangand(init, out, sizeof out, err, sizeof err), 0);
    if (run_dangand(demo, out, sizeof out, err, sizeof err) != 0)
        fail_msg("demo-data failed:\n%s\n%s", out, err);
}

/* Every row of `sql` on the database in DIR, as "a|b\n" lines (malloc'd). */
static char *query_rows(const char *data, const char *sql)
{
    char path[512];
    sqlite3 *db;
    sqlite3_stmt *st;
    size_t len = 0, cap = 4096;
    char *text = malloc(cap);

    snprintf(path, sizeof path, "%s/dangan.db", data);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    text[0] = '\0';
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            const char *v = (const char *)sqlite3_column_text(st, i);
            size_t need = strlen(v ? v : "") + 2;

            while (len + need + 1 > cap)
                text = realloc(text, cap *= 2);
            len += (size_t)sprintf(text + len, "%s%c", v ? v : "",
                                   i + 1 < sqlite3_column_count(st) ? '|' : '\n');
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return text;
}

static long query_int(const char *data, const char *sql)
{
    char *rows = query_rows(data, sql);
    long v = atol(rows);

    free(rows);
    return v;
}

/* Waits until a load into `data` by process `pid` has committed customers
 * (a load that exits first, or three minutes without any, fails the test:
 * the first transaction holds 40,000 records, a few seconds on an idle
 * machine). */
static void wait_for_customers(const char *data, pid_t pid)
{
    int64_t guard = dg_mono_ms() + 180000;

    while (query_int(data, "SELECT count(*) FROM customers") == 0) {
        if (waitpid(pid, NULL, WNOHANG) != 0)
            fail_msg("demo-data ended before it committed anything");
        if (dg_mono_ms() > guard)
            fail_msg("demo-data committed nothing in three minutes");
        usleep(10000);
    }
}

static dg_reply *list_customers(dg_client *c, uint32_t limit, const char *cursor)
{
    Dangan__V1__ListRequest m = DANGAN__V1__LIST_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;

    m.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
    m.limit = limit;
    m.cursor = (char *)(cursor ? cursor : "");
    req.body_case = DANGAN__V1__REQUEST__BODY_LIST;
    req.list = &m;
    return dgt_call(c, &req);
}

static dg_reply *search(dg_client *c, const char *q)
{
    Dangan__V1__SearchRequest m = DANGAN__V1__SEARCH_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;

    m.query = (char *)q;
    m.limit = 50;
    req.body_case = DANGAN__V1__REQUEST__BODY_SEARCH;
    req.search = &m;
    return dgt_call(c, &req);
}

static dg_reply *get_dossier(dg_client *c, int64_t id)
{
    Dangan__V1__GetRequest m = DANGAN__V1__GET_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;

    m.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
    m.id = id;
    m.dossier = true;
    req.body_case = DANGAN__V1__REQUEST__BODY_GET;
    req.get = &m;
    return dgt_call(c, &req);
}

/* Customers visible to `c`, paging through List. */
static size_t count_customers(dg_client *c)
{
    char cursor[512] = "";
    size_t n = 0;

    for (;;) {
        dg_reply *r = list_customers(c, 200, cursor);
        const Dangan__V1__ListResponse *l;

        assert_int_equal(dgt_code(r), DANGAN__V1__CODE__OK);
        l = dg_reply_response(r)->list;
        n += l->n_records;
        snprintf(cursor, sizeof cursor, "%s", l->next_cursor);
        dg_reply_free(r);
        if (!cursor[0])
            return n;
    }
}

/* ------------------------------------------------------------ group: one loaded server */

static int setup(void **state)
{
    char err[65536];
    const char *demo[] = {"demo-data", "--data", srv.data, "--customers",
                          "500",       "--seed", "7",      NULL};

    (void)state;
    dgt_server_start(&srv, NULL);
    assert_int_equal(dgt_server_stop_keep(&srv), 0);
    if (run_dangand(demo, load_out, sizeof load_out, err, sizeof err) != 0)
        fail_msg("demo-data failed:\n%s\n%s", load_out, err);
    dgt_server_restart(&srv, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dgt_server_stop(&srv);
    return 0;
}

static void test_summary_names_counts_and_new_accounts(void **state)
{
    (void)state;
    assert_non_null(strstr(load_out, "seed 7"));
    assert_non_null(strstr(load_out, " 500   C-000001 .. C-000500\n"));
    assert_non_null(strstr(load_out, "interactions"));
    for (const char *u = "li.na"; u; u = strcmp(u, "li.na") == 0 ? "chen.jing" : NULL) {
        char pw[64];

        dgt_demo_password(load_out, u, pw, sizeof pw);
        assert_int_equal(strlen(pw), 24);
    }
    assert_non_null(strstr(load_out, "chen.jing  manager"));
}

static void test_server_lists_all_loaded_customers(void **state)
{
    dg_client *c = dgt_login(&srv, "admin", srv.admin_password);

    (void)state;
    assert_int_equal(count_customers(c), N_CUSTOMERS);
    dg_client_close(c);
}

static void test_chinese_search_finds_demo_customers(void **state)
{
    static const char *const queries[] = {"有限公司", "科技", "王", "深圳"};
    dg_client *c = dgt_login(&srv, "admin", srv.admin_password);

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(queries); i++) {
        dg_reply *r = search(c, queries[i]);

        assert_int_equal(dgt_code(r), DANGAN__V1__CODE__OK);
        if (dg_reply_response(r)->search->n_hits == 0)
            fail_msg("no hit for %s", queries[i]);
        dg_reply_free(r);
    }
    dg_client_close(c);
}

static void test_dossiers_have_contacts_and_interactions(void **state)
{
    dg_client *c = dgt_login(&srv, "admin", srv.admin_password);
    size_t with_interactions = 0, with_deals = 0;

    (void)state;
    for (int64_t id = 1; id <= 40; id++) {
        dg_reply *r = get_dossier(c, id);
        const Dangan__V1__Dossier *d;

        assert_int_equal(dgt_code(r), DANGAN__V1__CODE__OK);
        d = dg_reply_response(r)->get->dossier;
        assert_true(d->n_contacts >= 1 && d->n_contacts <= 4);
        assert_true(d->interaction_count <= 20);
        with_interactions += d->interaction_count > 0;
        with_deals += d->n_deals > 0;
        dg_reply_free(r);
    }
    assert_true(with_interactions >= 25);
    assert_true(with_deals >= 10);
    dg_client_close(c);
}

static void test_demo_sales_rep_can_log_in(void **state)
{
    char pw[64];
    dg_client *c;
    dg_reply *r;

    (void)state;
    dgt_demo_password(load_out, "li.na", pw, sizeof pw);
    c = dgt_login(&srv, "li.na", pw);
    assert_int_equal(dg_client_whoami(c, &r), DG_OK);
    assert_int_equal(dg_reply_response(r)->whoami->session->user->role,
                     DANGAN__V1__ROLE__ROLE_SALES);
    assert_string_equal(dg_reply_response(r)->whoami->session->user->username, "li.na");
    dg_reply_free(r);
    assert_true(count_customers(c) > 0);
    dg_client_close(c);
}

static void test_load_is_audited_once_with_counts_and_seed(void **state)
{
    char *detail;

    (void)state;
    assert_int_equal(query_int(srv.data, "SELECT count(*) FROM audit_log"
                                         " WHERE action = 'system.demo_data'"),
                     1);
    detail = query_rows(srv.data, "SELECT detail FROM audit_log WHERE action = 'system.demo_data'");
    assert_non_null(strstr(detail, "\"seed\":7"));
    assert_non_null(strstr(detail, "\"customers\":500"));
    assert_non_null(strstr(detail, "\"interrupted\":false"));
    free(detail);
    /* and the chain still verifies across it */
    {
        char path[512];
        sqlite3 *db;
        sqlite3_stmt *st;
        uint8_t prev[32] = {0};

        dgt_db_path(&srv, path, sizeof path);
        assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db,
                                            "SELECT seq, at, coalesce(user_id,0), username, peer,"
                                            " action, entity, coalesce(entity_id,0), outcome,"
                                            " detail, hash FROM audit_log ORDER BY seq",
                                            -1, &st, NULL),
                         SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW) {
            dg_audit_rec r = {.seq = sqlite3_column_int64(st, 0),
                              .at = sqlite3_column_int64(st, 1),
                              .user_id = sqlite3_column_int64(st, 2),
                              .username = (const char *)sqlite3_column_text(st, 3),
                              .peer = (const char *)sqlite3_column_text(st, 4),
                              .action = (const char *)sqlite3_column_text(st, 5),
                              .entity = (const char *)sqlite3_column_text(st, 6),
                              .entity_id = sqlite3_column_int64(st, 7),
                              .outcome = (const char *)sqlite3_column_text(st, 8),
                              .detail = (const char *)sqlite3_column_text(st, 9)};
            uint8_t h[32];

            dg_audit_hash(prev, &r, h);
            assert_memory_equal(h, sqlite3_column_blob(st, 10), 32);
            memcpy(prev, h, 32);
        }
        sqlite3_finalize(st);
        sqlite3_close(db);
    }
}

static void test_tiers_follow_abc_shares(void **state)
{
    long a = query_int(srv.data, "SELECT count(*) FROM customers WHERE tier = 'a'");
    long b = query_int(srv.data, "SELECT count(*) FROM customers WHERE tier = 'b'");
    long companies = query_int(srv.data, "SELECT count(*) FROM customers WHERE kind = 'company'");

    (void)state;
    /* docs/customer-file.md: A 20%, B 40%, C 40%; 500 draws stay well within these */
    assert_in_range(a, 60, 140);
    assert_in_range(b, 150, 250);
    assert_in_range(N_CUSTOMERS - a - b, 150, 250);
    assert_in_range(companies, 380, 470); /* ~85% */
}

/* The base day the group's load used: its summary says. */
static void base_day(char out[DG_DATE_LEN])
{
    const char *p = strstr(load_out, "base day ");

    assert_non_null(p);
    snprintf(out, DG_DATE_LEN, "%.10s", p + strlen("base day "));
}

static void test_base_date_defaults_to_today_in_shanghai(void **state)
{
    char base[DG_DATE_LEN], today[DG_DATE_LEN], earlier[DG_DATE_LEN];

    (void)state;
    base_day(base);
    /* the machine runs in UTC; the day is Shanghai's (the load ran minutes ago) */
    assert_int_equal(dg_tz_date("Asia/Shanghai", dg_now_ms(), today), DG_OK);
    assert_int_equal(dg_tz_date("Asia/Shanghai", dg_now_ms() - 15 * 60000, earlier), DG_OK);
    if (strcmp(base, today) != 0 && strcmp(base, earlier) != 0)
        fail_msg("base day %s, today in Shanghai %s", base, today);
}

/* SQL with every "BASE" replaced by the group's base day, as an integer. */
static long query_on_base(const char *sql)
{
    char base[DG_DATE_LEN], text[2048];
    const char *p;
    size_t n = 0;

    base_day(base);
    while ((p = strstr(sql, "BASE"))) {
        n += (size_t)snprintf(text + n, sizeof text - n, "%.*s'%s'", (int)(p - sql), sql, base);
        sql = p + 4;
    }
    snprintf(text + n, sizeof text - n, "%s", sql);
    return query_int(srv.data, text);
}

#define BASE_MS "((unixepoch(BASE) - 8 * 3600) * 1000)" /* 00:00 of the base day, Shanghai */
#define DAYS(n) "(" #n " * 86400000)"

static void test_data_for_the_teams_day(void **state)
{
    static const char *const open_stages[] = {"lead", "qualified", "proposal", "negotiation"};
    long n_pool = query_int(srv.data, "SELECT count(*) FROM customers WHERE owner_id IS NULL");

    (void)state;
    /* lost customers, and only they, say why */
    assert_true(query_int(srv.data, "SELECT count(*) FROM customers WHERE status = 'lost'") > 10);
    assert_int_equal(query_int(srv.data, "SELECT count(*) FROM customers WHERE (status = 'lost')"
                                         " != (churn_reason != '')"),
                     0);
    /* the public pool: about 5%, never a restricted tier, nobody's tasks */
    assert_in_range(n_pool, 10, 45);
    assert_int_equal(query_int(srv.data, "SELECT count(*) FROM customers WHERE owner_id IS NULL"
                                         " AND tier = 'a'"),
                     0);
    assert_int_equal(query_int(srv.data, "SELECT count(*) FROM tasks t JOIN customers c"
                                         " ON c.id = t.customer_id WHERE c.owner_id IS NULL"),
                     0);
    /* open deals in every open stage, expected to close around the base day */
    for (size_t i = 0; i < DG_ARRAY_LEN(open_stages); i++) {
        char sql[256];

        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM deals WHERE stage = '%s' AND probability > 0"
                 " AND probability < 100",
                 open_stages[i]);
        assert_true(query_int(srv.data, sql) > 0);
    }
    assert_int_equal(query_on_base("SELECT count(*) FROM deals WHERE stage NOT IN ('won', 'lost')"
                                   " AND (expected_close_on < date(BASE, '-10 days')"
                                   " OR expected_close_on > date(BASE, '+90 days'))"),
                     0);
    /* won deals close within the last 18 months; lost ones have a reason */
    assert_true(query_int(srv.data, "SELECT count(*) FROM deals WHERE stage = 'won'") > 100);
    assert_int_equal(query_on_base("SELECT count(*) FROM deals WHERE stage = 'won' AND"
                                   " (at_ms < " BASE_MS " - " DAYS(549) " OR at_ms > " BASE_MS ")"),
                     0);
    assert_int_equal(query_int(srv.data, "SELECT count(*) FROM deals WHERE stage = 'lost'"
                                         " AND lost_reason = ''"),
                     0);
    /* active customers: some called within a week, some due (two weeks and more) */
    assert_true(query_on_base("SELECT count(*) FROM customers c WHERE status = 'active' AND"
                              " (SELECT max(at_ms) FROM interactions i WHERE i.customer_id = c.id"
                              " AND channel = 'phone') >= " BASE_MS " - " DAYS(7)) > 10);
    assert_true(query_on_base("SELECT count(*) FROM customers c WHERE status = 'active' AND"
                              " (SELECT max(at_ms) FROM interactions i WHERE i.customer_id = c.id"
                              " AND channel = 'phone') < " BASE_MS " - " DAYS(14)) > 10);
    /* dormant customers were last heard of at least 90 days ago */
    assert_int_equal(query_on_base("SELECT count(*) FROM interactions i JOIN customers c"
                                   " ON c.id = i.customer_id WHERE c.status = 'dormant'"
                                   " AND i.at_ms > " BASE_MS " - " DAYS(89)),
                     0);
    /* open tasks due before, on and after the base day */
    assert_true(
        query_on_base("SELECT count(*) FROM tasks WHERE done = 0 AND due_at_ms < " BASE_MS) > 0);
    assert_true(query_on_base("SELECT count(*) FROM tasks WHERE done = 0 AND due_at_ms >= " BASE_MS
                              " AND due_at_ms < " BASE_MS " + " DAYS(1)) > 0);
    assert_true(query_on_base("SELECT count(*) FROM tasks WHERE done = 0 AND due_at_ms >= " BASE_MS
                              " + " DAYS(1)) > 0);
    /* contracts expiring around the base day, sharing one stored file */
    assert_true(query_on_base("SELECT count(*) FROM documents WHERE kind = 'contract'"
                              " AND expires_on BETWEEN date(BASE, '-30 days')"
                              " AND date(BASE, '+120 days')") > 10);
    assert_int_equal(query_int(srv.data, "SELECT count(DISTINCT content_id) FROM documents"), 1);
}

/* ------------------------------------------------------------ tests of their own */

static void test_same_seed_gives_same_data(void **state)
{
    static const char *const queries[] = {
        "SELECT code, name, phone, email, address, tier, owner_id FROM customers ORDER BY id",
        "SELECT customer_id, name, mobile FROM contacts ORDER BY id",
        "SELECT customer_id, at_ms, channel, summary FROM interactions ORDER BY id",
        "SELECT customer_id, number, amount FROM deals ORDER BY id",
    };
    char root[256], one[512], two[512], other[512];

    (void)state;
    dgt_tempdir(root, sizeof root);
    init_and_load(root, "one", "7", "300", one, sizeof one);
    init_and_load(root, "two", "7", "300", two, sizeof two);
    init_and_load(root, "other", "8", "300", other, sizeof other);
    /* keys made with this ICU, recorded: a first server start rebuilds none */
    assert_int_equal(query_int(one, "SELECT count(*) FROM meta WHERE key = 'collation'"), 1);
    for (size_t i = 0; i < DG_ARRAY_LEN(queries); i++) {
        char *x = query_rows(one, queries[i]), *y = query_rows(two, queries[i]);

        assert_true(strlen(x) > 1000);
        assert_string_equal(x, y);
        free(x);
        free(y);
    }
    {
        char *x = query_rows(one, queries[0]), *z = query_rows(other, queries[0]);

        assert_string_not_equal(x, z);
        free(x);
        free(z);
    }
    dgt_rmtree(root);
}

static void test_refuses_while_server_runs(void **state)
{
    static char out[65536], err[65536];
    dgt_server s;
    const char *demo[] = {"demo-data", "--data", s.data, "--customers", "10", NULL};

    (void)state;
    dgt_server_start(&s, NULL);
    assert_int_equal(run_dangand(demo, out, sizeof out, err, sizeof err), 1);
    assert_non_null(strstr(err, "in use by a running dangand"));
    assert_string_equal(out, "");
    assert_int_equal(query_int(s.data, "SELECT count(*) FROM customers"), 0);
    assert_int_equal(query_int(s.data, "SELECT count(*) FROM users"), 1);
    dgt_server_stop(&s);
}

static void test_refuses_uninitialised_dir(void **state)
{
    static char out[65536], err[65536];
    char root[256], lock[320];
    const char *demo[] = {"demo-data", "--data", root, "--customers", "10", NULL};

    (void)state;
    dgt_tempdir(root, sizeof root);
    assert_int_equal(run_dangand(demo, out, sizeof out, err, sizeof err), 1);
    assert_non_null(strstr(err, "dangand init"));
    snprintf(lock, sizeof lock, "%s/dangand.lock", root);
    assert_int_equal(access(lock, F_OK), -1); /* nothing left behind */
    dgt_rmtree(root);
}

static void test_usage_errors_exit_2(void **state)
{
    static char out[65536], err[65536];
    const char *no_count[] = {"demo-data", "--data", "/nonexistent", NULL};
    const char *zero[] = {"demo-data", "--data", "/nonexistent", "--customers", "0", NULL};
    const char *bad_seed[] = {"demo-data", "--data", "/x", "--customers",
                              "5",         "--seed", "-1", NULL};

    (void)state;
    assert_int_equal(run_dangand(no_count, out, sizeof out, err, sizeof err), 2);
    assert_int_equal(run_dangand(zero, out, sizeof out, err, sizeof err), 2);
    assert_int_equal(run_dangand(bad_seed, out, sizeof out, err, sizeof err), 2);
}

/* SIGINT, sent once the first customers are committed, ends the run after
 * the current transaction: exit 130, and what was committed is exactly what
 * the one audit record says. */
static void test_interrupt_keeps_committed_part_audited(void **state)
{
    static char out[65536], err[65536];
    char root[256], data[512], *init_out;
    const char *init[] = {"init", "--data", data, NULL};
    const char *demo[] = {"demo-data", "--data", data, "--customers", "1000000", NULL};
    long loaded, audited, n_indexes;
    char *detail, *p;

    (void)state;
    dgt_tempdir(root, sizeof root);
    snprintf(data, sizeof data, "%s/data", root);
    init_out = malloc(65536);
    assert_int_equal(run_dangand(init, init_out, 65536, err, sizeof err), 0);
    free(init_out);
    n_indexes = query_int(data, INDEX_COUNT);
    assert_int_equal(run_dangand_sig(demo, out, sizeof out, err, sizeof err, data, SIGINT), 130);
    assert_non_null(strstr(err, "interrupted after"));
    assert_non_null(strstr(out, "Interrupted"));
    loaded = query_int(data, "SELECT count(*) FROM customers");
    assert_true(loaded > 0 && loaded < 1000000);
    detail = query_rows(data, "SELECT detail FROM audit_log WHERE action = 'system.demo_data'");
    assert_non_null(strstr(detail, "\"interrupted\":true"));
    p = strstr(detail, "\"customers\":");
    assert_non_null(p);
    audited = atol(p + strlen("\"customers\":"));
    assert_int_equal(audited, loaded);
    free(detail);
    /* the indexes set aside for the load were made again */
    assert_int_equal(query_int(data, INDEX_COUNT), n_indexes);
    assert_int_equal(query_int(data, BULK_LIST), 0);
    dgt_rmtree(root);
}

/* A load killed outright (SIGKILL: no chance to make the indexes it set
 * aside) leaves their list in the database; the next run makes them before
 * it loads, from the same SQL, and the directory checks clean. */
static void test_killed_load_leaves_indexes_to_the_next_run(void **state)
{
    static char out[65536], err[65536];
    char root[256], data[512], *schema;
    const char *init[] = {"init", "--data", data, NULL};
    const char *demo[] = {"demo-data", "--data", data, "--customers", "1000000", NULL};
    const char *again[] = {"demo-data", "--data", data, "--customers", "1", NULL};
    const char *check[] = {"check", "--data", data, NULL};
    long n_indexes;

    (void)state;
    dgt_tempdir(root, sizeof root);
    snprintf(data, sizeof data, "%s/data", root);
    assert_int_equal(run_dangand(init, out, sizeof out, err, sizeof err), 0);
    n_indexes = query_int(data, INDEX_COUNT);
    schema = query_rows(data, "SELECT name, sql FROM sqlite_schema ORDER BY name");
    assert_int_equal(run_dangand_sig(demo, out, sizeof out, err, sizeof err, data, SIGKILL),
                     128 + SIGKILL);
    assert_true(query_int(data, INDEX_COUNT) < n_indexes - 10);
    assert_int_equal(query_int(data, BULK_LIST), 1);
    assert_int_equal(run_dangand(again, out, sizeof out, err, sizeof err), 0);
    assert_int_equal(query_int(data, INDEX_COUNT), n_indexes);
    assert_int_equal(query_int(data, BULK_LIST), 0);
    {
        char *now = query_rows(data, "SELECT name, sql FROM sqlite_schema ORDER BY name");

        assert_string_equal(now, schema);
        free(now);
    }
    free(schema);
    if (run_dangand(check, out, sizeof out, err, sizeof err) != 0)
        fail_msg("check after the repaired load:\n%s\n%s", out, err);
    dgt_rmtree(root);
}

int main(void)
{
    const struct CMUnitTest loaded[] = {
        cmocka_unit_test(test_summary_names_counts_and_new_accounts),
        cmocka_unit_test(test_server_lists_all_loaded_customers),
        cmocka_unit_test(test_chinese_search_finds_demo_customers),
        cmocka_unit_test(test_dossiers_have_contacts_and_interactions),
        cmocka_unit_test(test_demo_sales_rep_can_log_in),
        cmocka_unit_test(test_load_is_audited_once_with_counts_and_seed),
        cmocka_unit_test(test_tiers_follow_abc_shares),
        cmocka_unit_test(test_base_date_defaults_to_today_in_shanghai),
        cmocka_unit_test(test_data_for_the_teams_day),
    };
    const struct CMUnitTest own[] = {
        cmocka_unit_test(test_same_seed_gives_same_data),
        cmocka_unit_test(test_refuses_while_server_runs),
        cmocka_unit_test(test_refuses_uninitialised_dir),
        cmocka_unit_test(test_usage_errors_exit_2),
        cmocka_unit_test(test_interrupt_keeps_committed_part_audited),
        cmocka_unit_test(test_killed_load_leaves_indexes_to_the_next_run),
    };
    int failed = cmocka_run_group_tests_name("demo_data_loaded", loaded, setup, teardown);

    return failed + cmocka_run_group_tests_name("demo_data", own, NULL, NULL);
}
