/* test_writer.c - group commit: jobs queued together commit together, a
 * failing job rolls back only itself (rows, audit record and change rows
 * handed to the feed), the audit chain stays gap-free, results come back on
 * the loop thread. */
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
    dg_writer *w;           /* sync_done: whose syncs to count */
    uint64_t syncs_at_done; /* sync_done: WAL syncs made when the reply came back */
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

/* Notes how many WAL syncs the writer had made when its reply came back. */
static void nothing_run(dg_job *job, void *ctx)
{
    (void)ctx;
    job->rc = DG_OK;
}

static void sync_done(dg_job *job)
{
    struct user_job *j = (struct user_job *)job;
    dg_writer_stats st;

    dg_writer_get_stats(j->w, &st);
    j->syncs_at_done = st.n_syncs;
    j->is_done = true;
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
    assert_int_equal(dg_writer_new(st, r->done, max_queued, NULL, &r->w), DG_OK);
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

/* A batch of nothing but records of reads goes back after its commit, with
 * no sync of the WAL; one other job in it, and the whole batch comes back
 * only after a sync. */
static void test_only_a_batch_of_records_of_reads_skips_the_fsync(void **state)
{
    static struct rig r;
    struct user_job reads[2] = {{.job = {.run = nothing_run, .done = sync_done}},
                                {.job = {.run = nothing_run, .done = sync_done}}};
    struct user_job mixed_read = {.job = {.run = nothing_run, .done = sync_done}};
    struct user_job change = {.job = {.run = user_run, .done = sync_done}, .name = "delta"};
    dg_writer_stats st;

    (void)state;
    rig_open(&r, 100);
    reads[0].w = reads[1].w = mixed_read.w = change.w = r.w;
    r.gate.job.is_record_of_read = true; /* the gate's batches need no sync either */
    rig_hold(&r);                        /* two records of reads alone */
    for (int i = 0; i < 2; i++) {
        reads[i].job.is_record_of_read = true;
        assert_int_equal(dg_writer_submit(r.w, &reads[i].job), DG_OK);
    }
    rig_release(&r);
    while (!(r.gate.is_done && reads[0].is_done && reads[1].is_done))
        uv_run(&r.loop, UV_RUN_ONCE);
    dg_writer_get_stats(r.w, &st);
    assert_int_equal(st.n_syncs, 0);
    rig_hold(&r); /* a record of a read with a change */
    mixed_read.job.is_record_of_read = true;
    assert_int_equal(dg_writer_submit(r.w, &mixed_read.job), DG_OK);
    assert_int_equal(dg_writer_submit(r.w, &change.job), DG_OK);
    rig_release(&r);
    while (!(r.gate.is_done && mixed_read.is_done && change.is_done))
        uv_run(&r.loop, UV_RUN_ONCE);
    /* both came back after the sync that covers their commit */
    assert_int_equal(mixed_read.syncs_at_done, 1);
    assert_int_equal(change.syncs_at_done, 1);
    assert_int_equal(change.job.rc, DG_OK);
    rig_close(&r);
    dgt_rmtree(dir);
}

/* Records the order in which replies come back. */
static int n_replies;

struct order_job {
    dg_job job;
    const char *name;
    int reply_no; /* 1-based; 0 until it came back */
};

static void order_done(dg_job *job)
{
    ((struct order_job *)job)->reply_no = ++n_replies;
}

static void order_user_run(dg_job *job, void *ctx)
{
    struct order_job *o = (struct order_job *)job;
    dg_wtx *tx = ctx;
    dg_user user = {0};

    snprintf(user.username, sizeof user.username, "%s", o->name);
    snprintf(user.password_hash, sizeof user.password_hash, "h");
    user.role = DG_ROLE_SALES;
    job->rc = dg_store_user_insert(tx->store, &user, 0);
}

/* A batch of records of reads needs no sync, yet it never comes back before
 * a change committed ahead of it whose sync is still running: replies leave
 * in commit order. Each round commits a change, then (batches of their own)
 * two records of reads; the writer finishes those long before the change's
 * fdatasync returns. */
static void test_records_of_reads_never_overtake_an_unsynced_change(void **state)
{
    static struct rig r;
    enum { ROUNDS = 20 };

    (void)state;
    rig_open(&r, 100);
    for (int round = 0; round < ROUNDS; round++) {
        char name[32];
        struct order_job change = {.job = {.run = order_user_run, .done = order_done}, .name = name};
        struct order_job reads[2] = {{.job = {.run = nothing_run, .done = order_done}},
                                     {.job = {.run = nothing_run, .done = order_done}}};

        snprintf(name, sizeof name, "u%d", round);
        assert_int_equal(dg_writer_submit(r.w, &change.job), DG_OK);
        for (int i = 0; i < 2; i++) {
            reads[i].job.is_record_of_read = true;
            reads[i].job.is_alone = true; /* a batch of its own, after the change's */
            assert_int_equal(dg_writer_submit(r.w, &reads[i].job), DG_OK);
        }
        while (!(change.reply_no && reads[0].reply_no && reads[1].reply_no))
            uv_run(&r.loop, UV_RUN_ONCE);
        assert_int_equal(change.job.rc, DG_OK);
        assert_true(change.reply_no < reads[0].reply_no);
        assert_true(reads[0].reply_no < reads[1].reply_no);
    }
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

/* Appends `n` change rows for entity `id`, then fails if told to. */
struct change_job {
    dg_job job;
    int64_t id;
    int n;
    bool is_failing;
    bool is_past_capture; /* writes its rows straight to the store */
    bool is_done;
};

static void change_run(dg_job *job, void *ctx)
{
    static const char *const fields[] = {"name", "tier"};
    struct change_job *c = (struct change_job *)job;
    dg_change ch = {.at = 1000 + c->id,
                    .actor_id = 7,
                    .entity = "customer",
                    .entity_id = c->id,
                    .customer_id = c->id,
                    .op = "updated",
                    .version = 2,
                    .fields = fields,
                    .n_fields = DG_ARRAY_LEN(fields),
                    .vis_before = {.is_set = true, .owner_id = 7, .tier = 2}};
    dg_wtx *tx = ctx;
    int64_t seq;

    job->rc = DG_OK;
    for (int i = 0; i < c->n && job->rc == DG_OK; i++)
        job->rc = c->is_past_capture ? dg_store_change_append(tx->store, &ch, &seq)
                                     : dg_wtx_change_append(tx, &ch, &seq);
    if (job->rc == DG_OK && c->is_failing)
        job->rc = DG_EINVAL;
}

static void change_done(dg_job *job)
{
    ((struct change_job *)job)->is_done = true;
}

/* Runs `jobs` as one batch and returns what the commit handed the feed. */
static dg_committed *commit_changes(struct rig *r, struct change_job *jobs, int n)
{
    bool is_all_done = false;

    rig_hold(r);
    for (int i = 0; i < n; i++) {
        jobs[i].job = (dg_job){.run = change_run, .done = change_done};
        assert_int_equal(dg_writer_submit(r->w, &jobs[i].job), DG_OK);
    }
    rig_release(r);
    while (!(r->gate.is_done && is_all_done)) {
        uv_run(&r->loop, UV_RUN_ONCE);
        is_all_done = true;
        for (int i = 0; i < n; i++)
            is_all_done = is_all_done && jobs[i].is_done;
    }
    return dg_writer_take_committed(r->w);
}

/* The writer hands the feed each commit's change rows as the table holds
 * them: not a rolled-back job's, and none (the feed reads them) when a
 * commit wrote more than it keeps or a row it did not see. */
static void test_a_commit_hands_the_feed_exactly_its_change_rows(void **state)
{
    static struct rig r;
    struct change_job jobs[3] = {
        {.id = 1, .n = 2}, {.id = 2, .n = 1, .is_failing = true}, {.id = 3, .n = 1}};
    struct change_job big = {.id = 4, .n = DG_WRITER_CAPTURE_ROWS + 1},
                      after_big = {.id = 5, .n = 1};
    struct change_job unseen[2] = {{.id = 6, .n = 1, .is_past_capture = true}, {.id = 7, .n = 1}};
    dg_committed *c, *c_big, *c_after, *c_unseen;
    dg_change_row *rows;
    dg_store *st;
    dg_arena *a = dg_arena_new(1u << 20);
    size_t n;
    int64_t oldest;
    char err[256];

    (void)state;
    rig_open(&r, 100);
    c = commit_changes(&r, jobs, 3);
    assert_non_null(c);
    assert_null(c->next);
    assert_int_equal(jobs[1].job.rc, DG_EINVAL);
    assert_int_equal(c->after, 0);
    assert_int_equal(c->head, 3);
    assert_non_null(c->rows);
    assert_int_equal(c->n, 3);

    c_big = commit_changes(&r, &big, 1);
    assert_int_equal(c_big->after, 3);
    assert_int_equal(c_big->head, 3 + DG_WRITER_CAPTURE_ROWS + 1);
    assert_null(c_big->rows); /* too many: the feed reads them */

    c_after = commit_changes(&r, &after_big, 1);
    assert_int_equal(c_after->after, c_big->head);
    assert_int_equal(c_after->n, 1);
    assert_non_null(c_after->rows);
    assert_int_equal(c_after->rows[0].c.entity_id, 5);

    c_unseen = commit_changes(&r, unseen, 2);
    assert_int_equal(c_unseen->after, c_after->head);
    assert_int_equal(c_unseen->head, c_after->head + 2);
    assert_null(c_unseen->rows); /* the last row seen, not the first: the feed reads them */
    rig_close(&r);

    /* the first commit's rows are the table's, field by field */
    assert_int_equal(dg_store_open(path, true, &st, err, sizeof err), DG_OK);
    assert_int_equal(dg_store_changes_after(st, 0, 3, a, &rows, &n, &oldest), DG_OK);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) {
        const dg_change *got = &c->rows[i].c, *want = &rows[i].c;

        assert_int_equal(c->rows[i].seq, rows[i].seq);
        assert_int_equal(got->entity_id, i < 2 ? 1 : 3); /* not job 2's */
        assert_int_equal(got->at, want->at);
        assert_int_equal(got->actor_id, want->actor_id);
        assert_string_equal(got->entity, want->entity);
        assert_int_equal(got->entity_id, want->entity_id);
        assert_int_equal(got->customer_id, want->customer_id);
        assert_string_equal(got->op, want->op);
        assert_int_equal(got->version, want->version);
        assert_int_equal(got->n_fields, 2);
        assert_int_equal(want->n_fields, 2);
        for (size_t k = 0; k < got->n_fields; k++)
            assert_string_equal(got->fields[k], want->fields[k]);
        assert_true(got->vis_before.is_set && want->vis_before.is_set);
        assert_int_equal(got->vis_before.owner_id, want->vis_before.owner_id);
        assert_int_equal(got->vis_before.tier, want->vis_before.tier);
        assert_int_equal(want->vis_before.tier, 2);
        assert_false(got->vis_after.is_set || want->vis_after.is_set);
    }
    dg_store_close(st);
    dg_arena_free(a);
    dg_committed_free(c);
    dg_committed_free(c_big);
    dg_committed_free(c_after);
    dg_committed_free(c_unseen);
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
        cmocka_unit_test(test_records_of_reads_never_overtake_an_unsynced_change),
        cmocka_unit_test(test_submissions_beyond_the_queue_bound_are_refused),
        cmocka_unit_test(test_a_commit_hands_the_feed_exactly_its_change_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
