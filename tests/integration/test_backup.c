/* test_backup.c - dangand backup and restore against a real server over real
 * TLS: a backup taken while the server runs is verified and private; it
 * never overwrites a file; restore refuses while the server runs and
 * refuses a damaged backup, leaving the data as it was; a restore brings
 * back the state of the backup, keeps the replaced database, records itself
 * in an intact audit log, and gives the change feed a new epoch, so a
 * client resuming its subscription is told to resynchronise. */
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

#include "clock.h"
#include "fixture.h"

static dgt_server srv;
static char backup[400];

/* Entries of the data directory whose names start with `prefix`. */
static int count_in_data_dir(const char *prefix)
{
    DIR *d = opendir(srv.data);
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)))
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

static void run_dangand(dgt_run *r, const char *cmd, const char *file_opt, const char *file)
{
    const char *argv[] = {cmd, "--data", srv.data, file_opt, file, NULL};

    dgt_dangand(r, argv);
}

/* The events a resumable subscription brought. */
struct seen {
    int changes, resyncs;
    char reason[64];
};

static void on_event(dg_client *c, const Dangan__V1__Event *ev, void *user)
{
    struct seen *s = user;

    (void)c;
    if (ev->body_case == DANGAN__V1__EVENT__BODY_CHANGE)
        s->changes++;
    if (ev->body_case == DANGAN__V1__EVENT__BODY_RESYNC_REQUIRED) {
        s->resyncs++;
        snprintf(s->reason, sizeof s->reason, "%s", ev->resync_required->reason);
    }
}

static void test_backup_restore_round_trip(void **state)
{
    static dgt_run r;
    static struct seen seen;
    dg_client_opts o = {.server = NULL, .on_event = on_event, .user = &seen};
    dg_client *admin = dgt_login(&srv, "admin", srv.admin_password), *watcher;
    char db[400], kept_db[600], token[DG_CLIENT_TOKEN_LEN + 1];
    struct stat sb;
    uint64_t sub;

    (void)state;
    dgt_create_customers(admin, 3, "备份之前公司", NULL, NULL);
    /* a subscriber whose cursor will belong to the history before the restore */
    o.server = srv.addr;
    o.fingerprint = srv.fingerprint;
    assert_int_equal(dg_client_open(&o, &watcher), DG_OK);
    assert_int_equal(dg_client_login(watcher, "admin", srv.admin_password, token), DG_OK);
    assert_int_equal(dg_client_subscribe(watcher, NULL, NULL, false, &sub), DG_OK);

    /* online backup: verified, private */
    snprintf(backup, sizeof backup, "%s/backup.db", srv.root);
    run_dangand(&r, "backup", "--to", backup);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "verified"));
    assert_int_equal(stat(backup, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    {
        char cmd[1000];

        snprintf(cmd, sizeof cmd, "cd %s && sha256sum --quiet -c backup.db.sha256", srv.root);
        assert_int_equal(system(cmd), 0); /* the checksum file is sha256sum's */
    }
    /* never over an existing file */
    run_dangand(&r, "backup", "--to", backup);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "already exists"));
    /* restore is offline */
    run_dangand(&r, "restore", "--from", backup);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "stop the server first"));

    /* a change after the backup, seen live by the subscriber */
    dgt_create_customers(admin, 1, "备份之后公司", NULL, NULL);
    for (int64_t until = dg_mono_ms() + 5000; seen.changes < 1 && dg_mono_ms() < until;)
        dg_client_poll(watcher, 50);
    assert_int_equal(seen.changes, 1);
    assert_int_equal(dgt_count_named(admin, "备份之后公司00000"), 1);
    dg_client_close(admin);

    assert_int_equal(dgt_server_stop_keep(&srv), 0);
    run_dangand(&r, "restore", "--from", backup);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "new feed epoch"));
    assert_non_null(strstr(r.out, "before-restore-"));
    assert_int_equal(count_in_data_dir("dangan.db.restoring"), 0); /* nothing left over */
    /* the replaced database is kept, not destroyed */
    {
        const char *p = strstr(r.out, "previous database in");
        char dir[400];

        assert_non_null(p);
        assert_int_equal(sscanf(p, "previous database in %399s", dir), 1);
        snprintf(kept_db, sizeof kept_db, "%s/dangan.db", dir);
        assert_int_equal(stat(kept_db, &sb), 0);
    }
    {
        const char *argv[] = {"audit-verify", "--data", srv.data, NULL};

        dgt_dangand(&r, argv);
        assert_int_equal(r.status, 0);
    }
    dgt_server_restart_same_port(&srv);

    /* the state of the backup: before, yes; after, gone */
    admin = dgt_login(&srv, "admin", srv.admin_password);
    assert_int_equal(dgt_count_named(admin, "备份之前公司00002"), 1);
    assert_int_equal(dgt_count_named(admin, "备份之后公司00000"), 0);
    {
        Dangan__V1__AuditQueryRequest q = DANGAN__V1__AUDIT_QUERY_REQUEST__INIT;
        Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
        dg_reply *ar;

        q.action = "system.restore";
        req.body_case = DANGAN__V1__REQUEST__BODY_AUDIT_QUERY;
        req.audit_query = &q;
        ar = dgt_call(admin, &req);
        assert_int_equal(dgt_code(ar), 0);
        assert_int_equal(dg_reply_response(ar)->audit_query->n_records, 1);
        dg_reply_free(ar);
    }
    dg_client_close(admin);

    /* the subscriber comes back by itself and is told to resynchronise */
    for (int64_t until = dg_mono_ms() + 10000; seen.resyncs == 0 && dg_mono_ms() < until;)
        dg_client_poll(watcher, 50);
    assert_int_equal(seen.resyncs, 1);
    assert_string_equal(seen.reason, "epoch_changed");
    dg_client_close(watcher);
    dgt_db_path(&srv, db, sizeof db);
    assert_int_equal(stat(db, &sb), 0);
}

/* A backup changed after it was taken is refused (SQLite's own checks pass
 * a flipped byte inside a stored text; the SHA-256 does not), and the data
 * directory stays as it was. */
static void test_restore_refuses_a_damaged_backup(void **state)
{
    static dgt_run r;
    char damaged[450];
    dg_client *admin;
    FILE *f;

    (void)state;
    admin = dgt_login(&srv, "admin", srv.admin_password);
    dgt_create_customers(admin, 1, "损坏备份后仍在公司", NULL, NULL);
    dg_client_close(admin);
    snprintf(damaged, sizeof damaged, "%s/damaged.db", srv.root);
    run_dangand(&r, "backup", "--to", damaged);
    assert_int_equal(r.status, 0);
    /* overwrite a stretch in the middle of the file */
    assert_non_null(f = fopen(damaged, "r+b"));
    assert_int_equal(fseek(f, 8192 + 100, SEEK_SET), 0);
    for (int i = 0; i < 3000; i++)
        fputc(0x5a, f);
    fclose(f);
    assert_int_equal(dgt_server_stop_keep(&srv), 0);
    run_dangand(&r, "restore", "--from", damaged);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "does not match its checksum"));
    /* without its checksum file it is not trusted either */
    {
        char sum[500];

        snprintf(sum, sizeof sum, "%s.sha256", damaged);
        assert_int_equal(unlink(sum), 0);
    }
    run_dangand(&r, "restore", "--from", damaged);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "sha256sum"));
    /* a file that is no database at all, with a checksum that matches it */
    {
        char junk[500], cmd[1200];

        snprintf(junk, sizeof junk, "%s/junk.db", srv.root);
        snprintf(cmd, sizeof cmd,
                 "cd %s && head -c 20000 /dev/urandom > junk.db && sha256sum junk.db > "
                 "junk.db.sha256",
                 srv.root);
        assert_int_equal(system(cmd), 0);
        run_dangand(&r, "restore", "--from", junk);
        assert_int_equal(r.status, 1);
        assert_non_null(strstr(r.err, "is not a dangan database"));
    }
    /* not a file at all */
    run_dangand(&r, "restore", "--from", "/nonexistent/backup.db");
    assert_int_equal(r.status, 1);
    assert_int_equal(count_in_data_dir("before-restore-"), 1); /* the first test's, only */
    assert_int_equal(count_in_data_dir("dangan.db.restoring"), 0);
    dgt_server_restart_same_port(&srv);
    admin = dgt_login(&srv, "admin", srv.admin_password);
    assert_int_equal(dgt_count_named(admin, "损坏备份后仍在公司00000"), 1);
    dg_client_close(admin);
}

/* The disaster case: the database file is gone. Restore needs no database
 * to replace; the certificate and settings of DIR stay. */
static void test_restore_into_a_directory_that_lost_its_database(void **state)
{
    static dgt_run r;
    char db[400], lost[450];
    dg_client *admin;

    (void)state;
    assert_int_equal(dgt_server_stop_keep(&srv), 0);
    dgt_db_path(&srv, db, sizeof db);
    snprintf(lost, sizeof lost, "%s/lost.db", srv.root);
    assert_int_equal(rename(db, lost), 0); /* the disk it was on died */
    run_dangand(&r, "restore", "--from", backup);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "there was none"));
    assert_int_equal(count_in_data_dir("dangan.db.restoring"), 0);
    dgt_server_restart_same_port(&srv);
    admin = dgt_login(&srv, "admin", srv.admin_password);
    assert_int_equal(dgt_count_named(admin, "备份之前公司00002"), 1);
    dg_client_close(admin);
}

/* A backup leaves exactly two files: the copy and its checksum. It once
 * left FILE.part-wal and FILE.part-shm beside every backup (the copy was
 * verified through a read connection, which creates them and may not
 * remove them). */
static void test_backup_leaves_only_the_copy_and_its_checksum(void **state)
{
    static dgt_run r;
    char dir[400], file[450];
    struct dirent *e;
    int n = 0;
    DIR *d;

    (void)state;
    snprintf(dir, sizeof dir, "%s/only-two", srv.root);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(file, sizeof file, "%s/b.db", dir);
    run_dangand(&r, "backup", "--to", file);
    assert_int_equal(r.status, 0);
    assert_non_null(d = opendir(dir));
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (strcmp(e->d_name, "b.db") != 0 && strcmp(e->d_name, "b.db.sha256") != 0)
            fail_msg("dangand backup left %s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    assert_int_equal(n, 2);
}

static void test_usage_errors_exit_2(void **state)
{
    static dgt_run r;
    const char *no_file[] = {"backup", "--data", srv.data, NULL};
    const char *no_data[] = {"restore", "--from", "x.db", NULL};

    (void)state;
    dgt_dangand(&r, no_file);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "--to FILE"));
    dgt_dangand(&r, no_data);
    assert_int_equal(r.status, 2);
}

/* A backup made by an older dangand (here a schema v6 database, the admin's
 * password of that time) is migrated on the way in: restore brings the copy
 * to this program's schema before it checks and installs it, so upgrading
 * dangand never strands the backups taken before. */
#define V6_ADMIN_PASSWORD "mYzRshY4Q64WjpykD37Gxqzv"

static void test_a_backup_of_an_older_schema_is_migrated_on_restore(void **state)
{
    static dgt_run r;
    dgt_server old;
    char old_db[400], cmd[900];
    dg_client *admin;

    (void)state;
    dgt_server_start(&old, NULL);
    assert_int_equal(dgt_server_stop_keep(&old), 0);
    dgt_load_database(&old, SOURCE_DIR "/tests/integration/data/schema_v6_dupkeys.sql");
    dgt_db_path(&old, old_db, sizeof old_db);
    /* its checksum, as that dangand's backup wrote it beside the copy */
    snprintf(cmd, sizeof cmd, "sha256sum %s > %s.sha256", old_db, old_db);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(dgt_server_stop_keep(&srv), 0);
    run_dangand(&r, "restore", "--from", old_db);
    if (r.status != 0)
        fail_msg("restore of a v6 backup: %s%s", r.out, r.err);
    dgt_server_restart_same_port(&srv);
    admin = dgt_login(&srv, "admin", V6_ADMIN_PASSWORD);
    assert_int_equal(dgt_count_named(admin, "北京市迪金自动化设备有限公司"), 1);
    assert_int_equal(dgt_count_named(admin, "备份之前公司00002"), 0); /* the old world is gone */
    dg_client_close(admin);
    dgt_rmtree(old.root);
}

static int setup(void **state)
{
    (void)state;
    dgt_server_start(&srv, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dgt_server_stop(&srv);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backup_restore_round_trip),
        cmocka_unit_test(test_restore_refuses_a_damaged_backup),
        cmocka_unit_test(test_restore_into_a_directory_that_lost_its_database),
        cmocka_unit_test(test_backup_leaves_only_the_copy_and_its_checksum),
        cmocka_unit_test(test_usage_errors_exit_2),
        cmocka_unit_test(test_a_backup_of_an_older_schema_is_migrated_on_restore),
    };

    return cmocka_run_group_tests_name("backup", tests, setup, teardown);
}
