/* test_faults.c - I/O fault injection against a real server over real TLS
 * (dangand-faulty: the storage VFS with its fault hooks, the spec read from
 * DANGAN_FAULT_FILE). As SQLite's ioerr tests do, each kind of fault is
 * injected at the 1st, 2nd, ... operation of a workload until one run hits
 * none:
 *   - a failed WAL write or fsync: no request is answered OK for what is not
 *     durable (after a kill -9 and a restart every acknowledged write is
 *     there), the writer turns read-only, reads and sign-ins go on;
 *   - a full disk (SQLITE_FULL): that request alone gets RESOURCE_EXHAUSTED
 *     disk_full and the writes after it succeed by themselves.
 * A failed fsync of the database file (a checkpoint) loses nothing. And a
 * disk that stays full for a while: writes refused, reads, existing
 * sessions and new sign-ins go on (their audit records wait), then writes
 * resume with no restart and the waiting records reach the audit log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "fixture.h"

#define WORKLOAD 4  /* creates per run */
#define MAX_RUNS 16 /* per kind: far more operations than the workload does */
/* The search index catches up only when a search asks (and at start): a
 * background apply would take the faults meant for the requests. */
#define ON_DEMAND "[store]\nsearch_apply_ops = 1000000000\nsearch_idle_ms = 86400000\n"

static dgt_server srv;
static char fault_file[400];

static void set_fault(const char *spec)
{
    static int serial;
    char tmp[420];
    FILE *f;

    snprintf(tmp, sizeof tmp, "%s.tmp", fault_file);
    assert_non_null(f = fopen(tmp, "w"));
    /* the serial makes every spec a new file for the server to notice */
    fprintf(f, "%s # %d\n", spec, ++serial);
    fclose(f);
    assert_int_equal(rename(tmp, fault_file), 0);
}

static dg_reply *create_one(dg_client *c, const char *name)
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
    req.body_case = DANGAN__V1__REQUEST__BODY_CREATE;
    req.create = &m;
    return dgt_call(c, &req);
}

/* One run: the fault armed, WORKLOAD creates, what each got. Returns
 * whether the fault was hit; the names answered OK go to acked[]. */
static bool run_workload(const char *kind, int nth, char acked[][48], int *n_acked)
{
    int n_hits_before = dgt_log_count(&srv, "msg=\"fault injected\"");
    int n_readonly_before = dgt_log_count(&srv, "refusing writes until restart");
    dg_client *admin = dgt_login(&srv, "admin", srv.admin_password), *late;
    bool is_hit = false, is_full = strcmp(kind, "full") == 0;
    char spec[64];

    snprintf(spec, sizeof spec, "%s %d 1", kind, nth);
    set_fault(spec);
    for (int i = 0; i < WORKLOAD; i++) {
        char name[48];
        dg_reply *r;

        snprintf(name, sizeof name, "故障%s%02d次%d", kind, nth, i);
        r = create_one(admin, name);
        if (dgt_code(r) == 0) {
            /* after a write or fsync error nothing more is acknowledged */
            if (is_hit && !is_full)
                fail_msg("%s %d: create %d answered OK after the writer failed", kind, nth, i);
            snprintf(acked[(*n_acked)++], 48, "%s", name);
        } else if (!is_hit) {
            is_hit = true;
            if (is_full) {
                assert_int_equal(dgt_code(r), DANGAN__V1__CODE__RESOURCE_EXHAUSTED);
                assert_string_equal(dgt_reason(r), "disk_full");
            } else {
                assert_int_equal(dgt_code(r), DANGAN__V1__CODE__INTERNAL);
                assert_string_equal(dgt_reason(r), "storage_error");
            }
        } else {
            /* the writer is read-only now: every later write says so */
            assert_false(is_full);
            assert_int_equal(dgt_code(r), DANGAN__V1__CODE__UNAVAILABLE);
            assert_string_equal(dgt_reason(r), "read_only");
        }
        dg_reply_free(r);
    }
    if (is_hit != (dgt_log_count(&srv, "msg=\"fault injected\"") > n_hits_before))
        fail_msg("%s %d: a request failed: %d; the server injected a fault: %d", kind, nth, is_hit,
                 !is_hit);
    if (is_hit) {
        /* reads go on, on the old session and on a new one */
        if (*n_acked)
            assert_int_equal(dgt_count_named(admin, acked[*n_acked - 1]), 1);
        late = dgt_login(&srv, "admin", srv.admin_password);
        assert_int_equal(dgt_count_named(late, "no such company"), 0);
        dg_client_close(late);
        assert_int_equal(dgt_log_count(&srv, "refusing writes until restart") - n_readonly_before,
                         !is_full);
    }
    dg_client_close(admin);
    return is_hit;
}

/* Every name acknowledged so far is there, once, after a kill -9. */
static void assert_acked_present(char acked[][48], int n_acked)
{
    dg_client *c;

    set_fault("");
    dgt_server_kill(&srv);
    dgt_server_restart(&srv, ON_DEMAND);
    c = dgt_login(&srv, "admin", srv.admin_password);
    for (int i = 0; i < n_acked; i++)
        if (dgt_count_named(c, acked[i]) != 1)
            fail_msg("acknowledged write %s is missing after the restart", acked[i]);
    dg_client_close(c);
}

static void loop_over_n(const char *kind)
{
    static char acked[MAX_RUNS * WORKLOAD][48];
    int n_acked = 0, nth, n_hit = 0;

    for (nth = 1; nth <= MAX_RUNS; nth++) {
        bool is_hit = run_workload(kind, nth, acked, &n_acked);

        assert_acked_present(acked, n_acked);
        if (!is_hit)
            break;
        n_hit++;
    }
    print_message("%s: hit at 1..%d, acknowledged writes checked %d\n", kind, n_hit, n_acked);
    assert_true(n_hit >= WORKLOAD - 1); /* each create writes and syncs at least once */
    assert_true(nth <= MAX_RUNS);       /* and the loop ran out of operations to fail */
}

static void test_a_failed_wal_write_never_acknowledges_and_turns_read_only(void **state)
{
    (void)state;
    loop_over_n("write");
}

static void test_a_failed_fsync_never_acknowledges_and_turns_read_only(void **state)
{
    (void)state;
    loop_over_n("sync");
}

static void test_a_full_disk_fails_one_request_and_writes_resume(void **state)
{
    (void)state;
    loop_over_n("full");
}

/* The database file's fsync fails (the checkpointer copies the WAL into it
 * and syncs): checkpoints stop, the WAL keeps every commit, and nothing
 * acknowledged is lost. */
static void test_a_failed_checkpoint_sync_loses_nothing(void **state)
{
    static char acked[WORKLOAD][48];
    int n_hits = dgt_log_count(&srv, "msg=\"fault injected\"");
    dg_client *admin = dgt_login(&srv, "admin", srv.admin_password);
    int64_t until;

    (void)state;
    set_fault("dbsync 1 0");
    for (int i = 0; i < WORKLOAD; i++) {
        dg_reply *r;

        snprintf(acked[i], sizeof acked[i], "检查点故障%d", i);
        r = create_one(admin, acked[i]);
        assert_int_equal(dgt_code(r), 0);
        dg_reply_free(r);
    }
    for (until = dg_mono_ms() + 10000;
         dgt_log_count(&srv, "msg=\"fault injected\"") == n_hits && dg_mono_ms() < until;)
        usleep(50000);
    assert_true(dgt_log_count(&srv, "msg=\"fault injected\"") > n_hits);
    assert_true(dgt_log_has(&srv, "checkpoints stop until restart"));
    dg_client_close(admin);
    assert_acked_present(acked, WORKLOAD);
}

/* The disk stays full for a while, then space comes back. */
static void test_while_the_disk_is_full_reads_and_sign_ins_go_on(void **state)
{
    dg_client *admin, *late;
    dg_reply *r;
    bool is_resumed = false;
    int64_t until;

    (void)state;
    int n_readonly = dgt_log_count(&srv, "refusing writes until restart");

    admin = dgt_login(&srv, "admin", srv.admin_password);
    /* created, answered, and not yet in the search index (the queue is
     * applied on demand only here): a search on the full disk must still
     * find them */
    dgt_create_customers(admin, 2, "满盘之前", NULL, NULL);
    set_fault("full 1 0"); /* every WAL write from now on */

    r = create_one(admin, "满盘之时");
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__RESOURCE_EXHAUSTED);
    assert_string_equal(dgt_reason(r), "disk_full");
    assert_true(dg_reply_response(r)->status->retry_after_ms > 0);
    dg_reply_free(r);
    assert_int_equal(dgt_count_named(admin, "满盘之前00001"), 1); /* an existing session reads */

    /* a new sign-in works; its session lives in memory, its record waits */
    late = dgt_login(&srv, "admin", srv.admin_password);
    assert_int_equal(dgt_count_named(late, "满盘之前00000"), 1);
    assert_true(dgt_log_has(&srv, "session=memory_only"));
    assert_true(dgt_log_has(&srv, "audit record kept in memory until writes resume"));
    {
        dg_client *bad = dgt_connect(&srv);

        assert_int_equal(dg_client_login(bad, "admin", "wrong password here", NULL), DG_EAUTH);
        dg_client_close(bad);
    }
    r = create_one(late, "满盘之时");
    assert_string_equal(dgt_reason(r), "disk_full");
    dg_reply_free(r);

    /* space comes back: writes resume without a restart */
    set_fault("");
    for (until = dg_mono_ms() + 10000; !is_resumed && dg_mono_ms() < until;) {
        r = create_one(late, "满盘之后");
        is_resumed = dgt_code(r) == 0;
        dg_reply_free(r);
        if (!is_resumed)
            usleep(50000);
    }
    assert_true(is_resumed);
    assert_int_equal(dgt_count_named(admin, "满盘之后"), 1);
    /* the waiting records reach the audit log (the sweep, once a second) */
    for (until = dg_mono_ms() + 10000;
         !dgt_log_has(&srv, "audit records appended after writes resumed") && dg_mono_ms() < until;)
        usleep(50000);
    assert_true(dgt_log_has(&srv, "audit records appended after writes resumed"));
    assert_int_equal(dgt_log_count(&srv, "refusing writes until restart"), n_readonly);
    {
        const char *argv[] = {"audit-verify", "--data", srv.data, NULL};
        static dgt_run run;

        dgt_dangand(&run, argv); /* reads while the server runs */
        assert_int_equal(run.status, 0);
    }
    dg_client_close(late);
    dg_client_close(admin);
}

static int setup(void **state)
{
    char dir[256];

    (void)state;
    dgt_tempdir(dir, sizeof dir);
    snprintf(fault_file, sizeof fault_file, "%s/fault", dir);
    set_fault("");
    setenv("DANGAN_FAULT_FILE", fault_file, 1);
    dgt_server_start_prog(&srv, ON_DEMAND, DANGAND_FAULTY_PATH);
    return 0;
}

static int teardown(void **state)
{
    char dir[400], *slash;

    (void)state;
    set_fault("");
    dgt_server_stop_keep(&srv);
    dgt_rmtree(srv.root);
    snprintf(dir, sizeof dir, "%s", fault_file);
    if ((slash = strrchr(dir, '/')))
        *slash = '\0';
    dgt_rmtree(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_failed_wal_write_never_acknowledges_and_turns_read_only),
        cmocka_unit_test(test_a_failed_fsync_never_acknowledges_and_turns_read_only),
        cmocka_unit_test(test_a_full_disk_fails_one_request_and_writes_resume),
        cmocka_unit_test(test_a_failed_checkpoint_sync_loses_nothing),
        cmocka_unit_test(test_while_the_disk_is_full_reads_and_sign_ins_go_on),
    };

    return cmocka_run_group_tests_name("faults", tests, setup, teardown);
}
