/* test_checkpoint.c - the checkpointer thread copies the WAL into the
 * database file and, once the WAL has grown past its restart point, starts
 * it over itself (off the writer's path). */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "checkpoint.h"
#include "fixture.h"
#include "store.h"

#define RESTART_FRAMES 16384 /* checkpoint.c */

/* Commits small transactions (at least one) until the WAL holds at least
 * `frames` frames. */
static void grow_wal(dg_store *st, int frames)
{
    static int n_users;

    for (bool once = false; !once || dg_store_wal_frames(st) < frames; once = true) {
        dg_user u = {0};

        snprintf(u.username, sizeof u.username, "user.%d", n_users++);
        snprintf(u.password_hash, sizeof u.password_hash, "h");
        u.role = DG_ROLE_VIEWER;
        assert_int_equal(dg_store_skip_sync(st, true), DG_OK);
        assert_int_equal(dg_store_begin(st), DG_OK);
        assert_int_equal(dg_store_user_insert(st, &u, 0), DG_OK);
        assert_int_equal(dg_store_commit(st), DG_OK);
    }
}

/* Frames in the WAL as another connection sees them (a passive checkpoint
 * that finds nothing left to copy reports the log's size). */
static int frames_in_log(const char *path)
{
    sqlite3 *db;
    int n_log = -1, n_done = -1;

    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    /* a connection is in WAL mode once it has read the database */
    assert_int_equal(sqlite3_exec(db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(
        sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &n_log, &n_done), SQLITE_OK);
    sqlite3_close(db);
    return n_log;
}

static void test_a_long_wal_is_started_over_by_the_checkpointer(void **state)
{
    char dir[256], path[320], err[256];
    dg_store *st;
    dg_checkpointer *c;

    (void)state;
    dgt_tempdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/c.db", dir);
    assert_int_equal(dg_store_create(path, &st, err, sizeof err), DG_OK);

    /* below the restart point: copied, not started over */
    assert_int_equal(dg_checkpointer_start(path, &c), DG_OK);
    grow_wal(st, 1000);
    dg_checkpointer_round(c);
    assert_int_equal(dg_checkpointer_restarts(c), 0);
    assert_true(frames_in_log(path) >= 1000);

    /* past it: copied, and started over */
    grow_wal(st, RESTART_FRAMES + 100);
    dg_checkpointer_round(c);
    assert_int_equal(dg_checkpointer_restarts(c), 1);
    dg_checkpointer_stop(c);

    /* and the writer goes on from its beginning, nothing lost */
    grow_wal(st, 0);
    assert_true(dg_store_wal_frames(st) < 100);
    {
        dg_user u;

        assert_int_equal(dg_store_user_by_name(st, "user.0", &u), DG_OK);
    }
    dg_store_close(st);
    dgt_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_long_wal_is_started_over_by_the_checkpointer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
