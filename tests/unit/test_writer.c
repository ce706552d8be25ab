/* test_writer.c - group commit: jobs queued together commit together, a
 * failing job rolls back only itself (rows and audit record), the audit
 * chain stays gap-free, results come back on the loop thread. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "audit.h"
#include "fixture.h"
#include "writer.h"

static char dir[256], path[320];

struct user_job {
    dg_job job;
    const char *name;
    bool is_done;
};

/* Blocks the writer until released, so the next jobs queue up as one batch. */
struct gate_job {
    dg_job job;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool is_running;
    bool is_open;
    bool is_done;
};

static void user_run(dg_job *job, void *ctx)
{
    struct user_job *u = (struct user_job *)job;
    dg_wtx *tx = ctx;
    dg_user user = {0};
    dg_audit_rec rec = {.at = 1,
                        .username = u->name,
                        .peer = "test",
                        .action = "user.create",
                        .entity = "user",
                        .outcome = "ok",
                        .detail = "{}"};

    snprintf(user.username, sizeof user.username, "%s", u->name);
    snprintf(user.password_hash, sizeof user.password_hash, "h");
    user.role = DG_ROLE_SALES;
    /* Audit first: if the insert then fails, the record must vanish with it. */
    job->rc = dg_audit_append(tx->store, tx->audit, &rec);
    if (job->rc == DG_OK)
        job->rc = dg_store_user_insert(tx->store, &user, 0);
}

static void user_done(dg_job *job)
{
    ((struct user_job *)job)->is_done = true;
}

static void gate_run(dg_job *job, void *ctx)
{
    struct gate_job *g = (struct gate_job *)job;

    (void)ctx;
    pthread_mutex_lock(&g->mu);
    g->is_running = true;
    pthread_cond_broadcast(&g->cond);
    while (!g->is_open)
        pthread_cond_wait(&g->cond, &g->mu);
    pthread_mutex_unlock(&g->mu);
    job->rc = DG_OK;
}

static void gate_done(dg_job *job)
{
    ((struct gate_job *)job)->is_done = true;
}

/* Notes whether its commit will skip the fsync. */
struct sync_job {
    dg_job job;
    bool is_skipped;
    bool is_done;
};

static void sync_run(dg_job *job, void *ctx)
{
    ((struct sync_job *)job)->is_skipped = dg_store_sync_skipped(((dg_wtx *)ctx)->store);
    job->rc = DG_OK;
}

static void sync_done(dg_job *job)
{
    ((struct sync_job *)job)->is_done = true;
}

/* Waits until the writer thread is inside the gate job (the queue is empty). */
static void wait_gate_running(struct gate_job *g)
{
    pthread_mutex_lock(&g->mu);
    while (!g->is_running)
        pthread_cond_wait(&g->cond, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

/* A writer on a new database, its loop, and a gate job to hold it. */
struct rig {
    uv_loop_t loop;
    dg_completions *done;
    dg_writer *w;
    struct gate_job gate;
};

static void rig_open(struct rig *r, size_t max_queued)
{
    dg_store *st;
    char err[256];

    memset(r, 0, sizeof *r);
    r->gate.job = (dg_job){.run = gate_run, .done = gate_done};
    dg_thread_set_role(DG_THREAD_LOOP);
    dgt_tempdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/w.db", dir);
    assert_int_equal(dg_store_create(path, &st, err, sizeof err), DG_OK);
    uv_loop_init(&r->loop);
    assert_int_equal(dg_completions_new(&r->loop, NULL, NULL, &r->done), DG_OK);
    assert_int_equal(dg_writer_new(st, r->done, max_queued, &r->w), DG_OK);
    pthread_mutex_init(&r->gate.mu, NULL);
    pthread_cond_init(&r->gate.cond, NULL);
}

/* Submits the gate and waits until the writer is inside it: what is
 * submitted next queues up as one batch. */
static void rig_hold(struct rig *r)
{
    r->gate.is_running = r->gate.is_open = r->gate.is_done = false;
    assert_int_equal(dg_writer_submit(r->w, &r->gate.job), DG_OK);
    wait_gate_running(&r->gate);
}

static void rig_release(struct rig *r)
{
    pthread_mutex_lock(&r->gate.mu);
    r->gate.is_open = true;
    pthread_cond_signal(&r->gate.cond);
    pthread_mutex_unlock(&r->gate.mu);
}

/* Stops the writer (it closes the store); the database file stays. */
static void rig_close(struct rig *r)
{
    dg_writer_free(r->w);
    dg_completions_close(r->done);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&r->loop), 0);
    pthread_cond_destroy(&r->gate.cond);
    pthread_mutex_destroy(&r->gate.mu);
}

/* A batch of nothing but records of reads commits without waiting for the
 * disk; one other job in it, and the whole batch waits. */
static void test_only_a_batch_of_records_of_reads_skips_the_fsync(void **state)
{
    static struct rig r;
    struct sync_job reads[2] = {{.job = {.run = sync_run, .done = sync_done}},
                                {.job = {.run = sync_run, .done = sync_done}}};
    struct sync_job mixed_read = {.job = {.run = sync_run, .done = sync_done}};
    struct user_job change = {.job = {.run = user_run, .done = user_done}, .name = "delta"};

    (void)state;
    rig_open(&r, 100);
    rig_hold(&r); /* two records of reads alone */
    for (int i = 0; i < 2; i++) {
        reads[i].job.is_record_of_read = true;
        assert_int_equal(dg_writer_submit(r.w, &reads[i].job), DG_OK);
    }
    rig_release(&r);
    while (!(r.gate.is_done && reads[0].is_done && reads[1].is_done))
        uv_run(&r.loop, UV_RUN_ONCE);
    rig_hold(&r); /* a record of a read with a change */
    mixed_read.job.is_record_of_read = true;
    assert_int_equal(dg_writer_submit(r.w, &mixed_read.job), DG_OK);
    assert_int_equal(dg_writer_submit(r.w, &change.job), DG_OK);
    rig_release(&r);
    while (!(r.gate.is_done && mixed_read.is_done && change.is_done))
        uv_run(&r.loop, UV_RUN_ONCE);
    assert_true(reads[0].is_skipped && reads[1].is_skipped);
    assert_false(mixed_read.is_skipped);
    assert_int_equal(change.job.rc, DG_OK);
    rig_close(&r);
    dgt_rmtree(dir);
}

static void test_a_failing_job_does_not_roll_back_its_batch_neighbours(void **state)
{
    static struct rig r;
    dg_store *st;
    char err[256];
    struct user_job jobs[3] = {
        {.job = {.run = user_run, .done = user_done}, .name = "alpha"},
        {.job = {.run = user_run, .done = user_done}, .name = "alpha"}, /* duplicate: fails */
        {.job = {.run = user_run, .done = user_done}, .name = "gamma"},
    };
    dg_writer_stats stats;
    dg_audit_chain chain;
    dg_user u;

    (void)state;
    rig_open(&r, 100);
    rig_hold(&r);
    for (int i = 0; i < 3; i++)
        assert_int_equal(dg_writer_submit(r.w, &jobs[i].job), DG_OK);
    rig_release(&r);
    while (!(r.gate.is_done && jobs[0].is_done && jobs[1].is_done && jobs[2].is_done))
        uv_run(&r.loop, UV_RUN_ONCE);

    assert_int_equal(jobs[0].job.rc, DG_OK);
    assert_int_equal(jobs[1].job.rc, DG_EEXIST);
    assert_int_equal(jobs[2].job.rc, DG_OK);
    dg_writer_get_stats(r.w, &stats);
    assert_int_equal(stats.n_batches, 2); /* the gate, then the three together */
    assert_int_equal(stats.n_jobs, 4);
    assert_int_equal(stats.n_failed_jobs, 1);
    rig_close(&r);

    assert_int_equal(dg_store_open(path, true, &st, err, sizeof err), DG_OK);
    assert_int_equal(dg_store_user_by_name(st, "alpha", &u), DG_OK);
    assert_int_equal(dg_store_user_by_name(st, "gamma", &u), DG_OK);
    /* Two audit records, seq 1 and 2: the failed job's record was rolled
     * back and the chain continued from the right head. */
    assert_int_equal(dg_audit_chain_load(st, &chain), DG_OK);
    assert_int_equal(chain.seq, 2);
    dg_audit_rec first = {.seq = 1,
                          .at = 1,
                          .username = "alpha",
                          .peer = "test",
                          .action = "user.create",
                          .entity = "user",
                          .outcome = "ok",
                          .detail = "{}"};
    dg_audit_rec second = first;
    uint8_t zero[32] = {0}, h1[32], h2[32];
    second.seq = 2;
    second.username = "gamma";
    dg_audit_hash(zero, &first, h1);
    dg_audit_hash(h1, &second, h2);
    assert_memory_equal(chain.hash, h2, 32);
    dg_store_close(st);
    dgt_rmtree(dir);
}

static void test_submissions_beyond_the_queue_bound_are_refused(void **state)
{
    static struct rig r;
    struct user_job jobs[3] = {
        {.job = {.run = user_run, .done = user_done}, .name = "one"},
        {.job = {.run = user_run, .done = user_done}, .name = "two"},
        {.job = {.run = user_run, .done = user_done}, .name = "three"},
    };

    (void)state;
    rig_open(&r, 2);
    rig_hold(&r);
    assert_int_equal(dg_writer_submit(r.w, &jobs[0].job), DG_OK);
    assert_int_equal(dg_writer_submit(r.w, &jobs[1].job), DG_OK);
    assert_int_equal(dg_writer_submit(r.w, &jobs[2].job), DG_EFULL); /* no callback for it */
    rig_release(&r);
    while (!(r.gate.is_done && jobs[0].is_done && jobs[1].is_done))
        uv_run(&r.loop, UV_RUN_ONCE);
    assert_false(jobs[2].is_done);
    rig_close(&r);
    dgt_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_failing_job_does_not_roll_back_its_batch_neighbours),
        cmocka_unit_test(test_only_a_batch_of_records_of_reads_skips_the_fsync),
        cmocka_unit_test(test_submissions_beyond_the_queue_bound_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
