/* test_backup_schedule.c - scheduled backups and `dangan server stats`
 * against a real dangand-test over real TLS, whose clock the test drives
 * (common/clock.h): nothing runs before [backup] time; when the clock has
 * passed it, the sweep starts a backup that is encrypted with the key file,
 * verified, audited and logged; only `keep` copies stay; a failed run is
 * audited as an error and costs no earlier copy; `dangan server stats`
 * shows the server's figures and the last backup to an admin (with the
 * size of tables of documents) and is refused to a sales user. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"

#define DAY_MS (24 * 3600 * 1000LL)
#define RECORDED "msg=\"scheduled backup recorded\""

static dgt_server srv;
static char tmp[256], dir[400], key[400], cfg_dir[400];

/* Files in the backup directory ending in `suffix`. */
static int count_files(const char *suffix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (!d)
        return 0;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name), s = strlen(suffix);

        n += l > s && strcmp(e->d_name + l - s, suffix) == 0;
    }
    closedir(d);
    return n;
}

/* The outcomes of the system.backup audit records, oldest first. */
static void backup_outcomes(char *out, size_t len)
{
    Dangan__V1__AuditQueryRequest q = DANGAN__V1__AUDIT_QUERY_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    dg_client *admin = dgt_login(&srv, "admin", srv.admin_password);
    const Dangan__V1__AuditQueryResponse *ar;
    dg_reply *r;
    size_t n = 0;

    q.action = "system.backup";
    req.body_case = DANGAN__V1__REQUEST__BODY_AUDIT_QUERY;
    req.audit_query = &q;
    r = dgt_call(admin, &req);
    assert_int_equal(dgt_code(r), 0);
    ar = dg_reply_response(r)->audit_query;
    out[0] = '\0';
    for (size_t i = ar->n_records; i-- > 0;) /* newest first on the wire */
        n += (size_t)snprintf(out + n, len - n, "%s%s", n ? "," : "", ar->records[i]->outcome);
    dg_reply_free(r);
    dg_client_close(admin);
}

/* Moves the clock a day on, runs the sweep and waits for the run's record. */
static void next_day(void)
{
    int n = dgt_log_count(&srv, RECORDED);

    dgt_clock_advance(&srv, DAY_MS);
    dgt_server_sweep(&srv);
    dgt_log_wait(&srv, RECORDED, n);
}

static void stats(dgt_run *r, const char *user_dir, bool json)
{
    const char *text[] = {"server", "stats", NULL};
    const char *js[] = {"--json", "server", "stats", NULL};

    dgt_cli(r, user_dir, NULL, json ? js : text);
}

static void test_nothing_runs_before_its_time(void **state)
{
    (void)state;
    dgt_server_sweep(&srv);
    assert_false(dgt_log_has(&srv, "scheduled backup started"));
    assert_int_equal(count_files(".dgbk"), 0);
}

static void test_a_backup_runs_when_the_clock_passes_its_time(void **state)
{
    static char outcomes[256];
    char path[700];
    struct dirent *e;
    DIR *d;
    FILE *f;
    char head[8] = "";

    (void)state;
    next_day();
    assert_int_equal(count_files(".dgbk"), 1);
    assert_int_equal(count_files(".dgbk.sha256"), 1);
    assert_true(dgt_log_has(&srv, "scheduled backup written and verified"));
    backup_outcomes(outcomes, sizeof outcomes);
    assert_string_equal(outcomes, "ok");
    /* encrypted with the key file: the sealed file's magic, no SQLite header */
    assert_non_null(d = opendir(dir));
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".dgbk") && !strstr(e->d_name, ".sha256"))
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    closedir(d);
    assert_non_null(f = fopen(path, "rb"));
    assert_int_equal(fread(head, 1, 7, f), 7);
    fclose(f);
    assert_memory_equal(head, "DGENCBK", 7);
}

static void test_only_keep_copies_stay(void **state)
{
    static char outcomes[256];

    (void)state;
    next_day();
    next_day();
    assert_int_equal(count_files(".dgbk"), 2); /* keep = 2 */
    assert_int_equal(count_files(".dgbk.sha256"), 2);
    backup_outcomes(outcomes, sizeof outcomes);
    assert_string_equal(outcomes, "ok,ok,ok");
}

static void test_a_failed_run_is_audited_and_costs_no_copy(void **state)
{
    static char outcomes[256];
    static dgt_run r;
    char aside[450];

    (void)state;
    snprintf(aside, sizeof aside, "%s.gone", dir);
    assert_int_equal(rename(dir, aside), 0); /* the backup disk is not mounted */
    next_day();
    assert_int_equal(rename(aside, dir), 0);
    assert_true(dgt_log_has(&srv, "scheduled backup failed"));
    assert_int_equal(count_files(".dgbk"), 2);
    backup_outcomes(outcomes, sizeof outcomes);
    assert_string_equal(outcomes, "ok,ok,ok,error");
    dgt_cli_login(&r, cfg_dir, &srv, "admin", srv.admin_password);
    stats(&r, cfg_dir, false);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "FAILED"));
}

static void test_stats_for_an_admin(void **state)
{
    static dgt_run r;

    (void)state;
    next_day(); /* a good one again */
    dgt_cli_login(&r, cfg_dir, &srv, "admin", srv.admin_password);
    stats(&r, cfg_dir, false);
    assert_int_equal(r.status, 0);
    for (const char *const *w =
             (const char *const[]){"Server up", "connections", "sessions", "change seq", "database",
                                   "WAL", "documents", "last backup", "next backup", "encrypted",
                                   NULL};
         *w; w++)
        if (!strstr(r.out, *w))
            fail_msg("no \"%s\" in:\n%s", *w, r.out);
    stats(&r, cfg_dir, true);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "\"database_bytes\""));
    assert_non_null(strstr(r.out, "\"change_seq\""));
    assert_non_null(strstr(r.out, "\"ok\": true"));
    assert_non_null(strstr(r.out, "\"sessions\""));
}

static void test_stats_refused_to_sales(void **state)
{
    static dgt_run r;
    char sales_dir[450];

    (void)state;
    snprintf(sales_dir, sizeof sales_dir, "%s/sales-cli", tmp);
    dgt_make_user(&srv, "s1", DANGAN__V1__ROLE__ROLE_SALES, "sales-password-1");
    dgt_cli_login(&r, sales_dir, &srv, "s1", "sales-password-1");
    stats(&r, sales_dir, false);
    assert_int_equal(r.status, 6); /* denied */
    assert_null(strstr(r.out, "connections"));
}

/* A table of documents counts in documents_bytes (its pages, by dbstat). */
static void test_stats_counts_document_tables(void **state)
{
    static dgt_run r;
    const char *p;

    (void)state;
    assert_int_equal(dgt_server_stop_keep(&srv), 0);
    dgt_sql(&srv, "CREATE TABLE documents_probe(content BLOB);"
                  "INSERT INTO documents_probe VALUES (zeroblob(300000));");
    dgt_server_restart_same_port(&srv);
    dgt_cli_login(&r, cfg_dir, &srv, "admin", srv.admin_password);
    stats(&r, cfg_dir, true);
    assert_int_equal(r.status, 0);
    assert_non_null(p = strstr(r.out, "\"documents_bytes\": "));
    assert_true(strtoll(p + strlen("\"documents_bytes\": "), NULL, 10) >= 300000);
}

static int setup(void **state)
{
    char ini[1400], cmd[1000];

    (void)state;
    setenv("TZ", "Asia/Shanghai", 1); /* the team's time; the server inherits it */
    dgt_tempdir(tmp, sizeof tmp);
    snprintf(dir, sizeof dir, "%s/backups", tmp);
    snprintf(key, sizeof key, "%s/backup.key", tmp);
    snprintf(cfg_dir, sizeof cfg_dir, "%s/admin-cli", tmp);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(cmd, sizeof cmd, "head -c 32 /dev/urandom | base64 > %s && chmod 600 %s", key, key);
    assert_int_equal(system(cmd), 0);
    snprintf(ini, sizeof ini, "[backup]\ntime = 02:30\ndir = %s\nkeep = 2\nkey_file = %s\n", dir,
             key);
    dgt_server_start_prog(&srv, ini, DANGAND_TEST_PATH);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dgt_server_stop(&srv);
    dgt_rmtree(tmp);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_runs_before_its_time),
        cmocka_unit_test(test_a_backup_runs_when_the_clock_passes_its_time),
        cmocka_unit_test(test_only_keep_copies_stay),
        cmocka_unit_test(test_a_failed_run_is_audited_and_costs_no_copy),
        cmocka_unit_test(test_stats_for_an_admin),
        cmocka_unit_test(test_stats_refused_to_sales),
        cmocka_unit_test(test_stats_counts_document_tables),
    };

    return cmocka_run_group_tests_name("backup_schedule", tests, setup, teardown);
}
