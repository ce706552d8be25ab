/* test_vfs.c - the storage VFS with its fault hooks compiled in
 * (DG_VFS_FAULTS): a commit that failed for want of space leaves the
 * writer able to commit again, and the next commit is readable at once and
 * survives a killed process; injected write and sync errors fail the commit
 * they hit; every WAL generation is named in the owner records before its
 * header is written, and the records go with the WAL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "store.h"
#include "vfs.h"
#include "walid.h"

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
    assert_int_equal(dg_vfs_fault_set(""), DG_OK);
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

static int add_user(dg_store *st, const char *name)
{
    dg_user u = {.role = DG_ROLE_SALES};
    int rc;

    snprintf(u.username, sizeof u.username, "%s", name);
    snprintf(u.password_hash, sizeof u.password_hash, "h");
    if ((rc = dg_store_begin(st)) != DG_OK)
        return rc;
    if ((rc = dg_store_user_insert(st, &u, 0)) == DG_OK && (rc = dg_store_commit(st)) == DG_OK)
        return DG_OK;
    dg_store_rollback(st);
    return rc;
}

/* A full disk fails one commit; the writer keeps writing. the VFS once told
 * a commit frame from a rewrite by the frames written before: the failed
 * transaction's frames made the next commit look like a rewrite, its last
 * page stayed in memory, and without a sync (synchronous=NORMAL) readers
 * read past the end of the WAL. */
static void test_after_a_full_disk_the_next_commit_is_readable_at_once(void **state)
{
    dg_store *st = create(), *rd;
    dg_user got;
    char err[256];

    (void)state;
    assert_int_equal(add_user(st, "before"), DG_OK);
    assert_int_equal(dg_store_open(path, false, &rd, err, sizeof err), DG_OK);
    assert_int_equal(dg_store_skip_sync(st, true), DG_OK);
    assert_int_equal(dg_vfs_fault_set("full 1"), DG_OK);
    assert_int_equal(add_user(st, "lost"), DG_ENOSPC);
    assert_int_equal(dg_vfs_fault_hits(), 1);
    for (int i = 0; i < 5; i++) {
        char name[32];

        snprintf(name, sizeof name, "after%d", i);
        assert_int_equal(add_user(st, name), DG_OK);
        assert_int_equal(dg_store_user_by_name(rd, name, &got), DG_OK);
    }
    assert_int_equal(dg_store_user_by_name(rd, "lost", &got), DG_ENOTFOUND);
    dg_store_close(rd);
    dg_store_close(st);
}

/* The same, then the process dies without closing: the commit made without
 * fsync after the failed one is in the WAL (a killed process keeps it). */
static void test_after_a_full_disk_the_next_commit_survives_a_killed_process(void **state)
{
    dg_store *st;
    dg_user got;
    char err[256];
    pid_t pid;
    int status;

    (void)state;
    dg_store_close(create());
    if ((pid = fork()) == 0) {
        if (dg_store_open(path, true, &st, err, sizeof err) != DG_OK ||
            add_user(st, "before") != DG_OK || dg_store_skip_sync(st, true) != DG_OK ||
            dg_vfs_fault_set("full 1") != DG_OK || add_user(st, "lost") != DG_ENOSPC ||
            add_user(st, "kept") != DG_OK)
            _exit(1);
        _exit(0); /* no close, no checkpoint: as if killed */
    }
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(dg_store_open(path, false, &st, err, sizeof err), DG_OK);
    assert_int_equal(dg_store_user_by_name(st, "kept", &got), DG_OK);
    assert_int_equal(dg_store_user_by_name(st, "lost", &got), DG_ENOTFOUND);
    dg_store_close(st);
}

/* Injected write and fsync errors fail the commit they hit, as an I/O
 * error (the writer then turns read-only: writer.c). */
static void test_injected_write_and_sync_errors_fail_the_commit(void **state)
{
    static const char *const specs[] = {"write 1", "sync 1"};
    dg_store *st;

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        st = create();
        assert_int_equal(add_user(st, "before"), DG_OK);
        assert_int_equal(dg_vfs_fault_set(specs[i]), DG_OK);
        assert_int_equal(add_user(st, "hit"), DG_EIO);
        assert_int_equal(dg_vfs_fault_hits(), 1);
        assert_int_equal(dg_vfs_fault_set(""), DG_OK);
        dg_store_close(st);
    }
    assert_int_equal(dg_vfs_fault_set("nonsense 1"), DG_EINVAL);
    assert_int_equal(dg_vfs_fault_set("write 0"), DG_EINVAL);
}

/* The writer's syncer syncs the WAL through SQLite's own file object
 * (dg_store_sync_wal) while the writer goes on. Linux reports a writeback
 * error once per open file: when a sync SQLite itself made on that file (a
 * checkpoint's) failed, every later sync of it must fail too, or the
 * syncer's next one would succeed over frames that never reached the
 * disk. */
static void test_after_a_failed_wal_sync_every_later_one_fails(void **state)
{
    dg_store *st = create();
    dg_wal_file *wal;
    dg_wal_info wi;
    char why[128];

    (void)state;
    assert_int_equal(dg_store_skip_sync(st, true), DG_OK);
    assert_int_equal(add_user(st, "unsynced"), DG_OK);
    assert_non_null(wal = dg_store_wal_file(st));
    assert_int_equal(dg_store_sync_wal(wal, why, sizeof why), DG_OK);
    assert_int_equal(dg_vfs_fault_set("sync 1"), DG_OK); /* the syncer's own sync */
    assert_int_equal(dg_store_sync_wal(wal, why, sizeof why), DG_EIO);
    assert_non_null(strstr(why, "cannot sync the WAL"));
    assert_int_equal(dg_vfs_fault_hits(), 1);
    dg_store_close(st);

    st = create();
    assert_int_equal(dg_store_skip_sync(st, true), DG_OK);
    assert_int_equal(add_user(st, "unsynced"), DG_OK);
    assert_non_null(wal = dg_store_wal_file(st));
    /* a checkpoint on the writer's thread syncs the WAL first: it fails */
    assert_int_equal(dg_vfs_fault_set("sync 1"), DG_OK);
    assert_int_equal(dg_store_checkpoint_restart(st, 100), DG_EIO);
    assert_int_equal(dg_vfs_fault_hits(), 1);
    /* and the WAL did not start over: the unsynced commit is still in it */
    assert_int_equal(dg_wal_inspect(path, &wi), 0);
    assert_true(wi.exists && wi.n_commits >= 1);
    assert_int_equal(dg_vfs_fault_set(""), DG_OK);
    assert_int_equal(dg_store_sync_wal(wal, why, sizeof why), DG_EIO);
    assert_int_equal(dg_store_sync_wal(wal, why, sizeof why), DG_EIO);
    dg_store_close(st);
}

static uint32_t app_id_of(const char *db)
{
    unsigned char h[100];
    FILE *f = fopen(db, "rb");

    assert_non_null(f);
    assert_int_equal(fread(h, 1, sizeof h, f), sizeof h);
    fclose(f);
    return (uint32_t)h[68] << 24 | (uint32_t)h[69] << 16 | (uint32_t)h[70] << 8 | h[71];
}

static bool names_salts(const dg_wal_info *wi)
{
    for (int i = 0; i < wi->n_owners; i++)
        if (wi->owners[i].salt[0] == wi->salt[0] && wi->owners[i].salt[1] == wi->salt[1])
            return true;
    return false;
}

/* Every WAL generation is named in DB-walid with the database's application
 * id, and the records leave with the WAL. */
static void test_owner_records_name_every_wal_generation(void **state)
{
    char walid[400], err[256];
    dg_wal_info wi;
    dg_store *st;
    struct stat sb;
    uint64_t gen;

    (void)state;
    dg_store_close(create()); /* the last close checkpoints and deletes the WAL */
    snprintf(walid, sizeof walid, "%s-walid", path);
    assert_int_equal(stat(walid, &sb), -1);
    assert_true(app_id_of(path) != 0);

    assert_int_equal(dg_store_open(path, true, &st, err, sizeof err), DG_OK);
    assert_int_equal(add_user(st, "one"), DG_OK);
    assert_int_equal(dg_wal_inspect(path, &wi), 0);
    assert_true(wi.exists && wi.has_header);
    assert_true(wi.n_committed > 0);
    assert_int_equal(wi.n_commits, 1);
    assert_true(names_salts(&wi));
    assert_int_equal(wi.n_owners, 1);
    assert_int_equal(wi.owners[0].app_id, app_id_of(path));
    assert_int_equal(stat(walid, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    gen = wi.owners[0].generation;

    /* the WAL starts over: a new generation, the previous one still named */
    assert_int_equal(dg_store_checkpoint_restart(st, 1000), DG_OK);
    assert_int_equal(add_user(st, "two"), DG_OK);
    assert_int_equal(dg_wal_inspect(path, &wi), 0);
    assert_int_equal(wi.n_commits, 1);
    assert_true(names_salts(&wi));
    assert_int_equal(wi.n_owners, 2);
    assert_true(wi.owners[0].generation == gen + 1 || wi.owners[1].generation == gen + 1);
    dg_store_close(st);
    assert_int_equal(stat(walid, &sb), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_after_a_full_disk_the_next_commit_is_readable_at_once,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_after_a_full_disk_the_next_commit_survives_a_killed_process, setup, teardown),
        cmocka_unit_test_setup_teardown(test_after_a_failed_wal_sync_every_later_one_fails, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_injected_write_and_sync_errors_fail_the_commit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_owner_records_name_every_wal_generation, setup,
                                        teardown),
    };

    return cmocka_run_group_tests_name("vfs", tests, NULL, NULL);
}
