/* test_pool.c - worker pools: never more jobs at once than threads (the
 * hasher pool's "one argon2 per core"), a bounded queue that refuses with
 * DG_EFULL and no callback, every done() once on the loop thread.
 *
 * The jobs hold their thread until the test releases them, one at a time:
 * how many run at once is then the pool's doing alone, never a matter of
 * how long a job happens to take on a loaded machine. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include <cmocka.h>
#include <uv.h>

#include "dg.h"
#include "pool.h"

#define N_JOBS 24
#define GUARD_S 30 /* a wait this long means the pool is broken: fail, do not hang */

/* What the jobs share with the test; every field under `mu`. */
struct gate {
    pthread_mutex_t mu;
    pthread_cond_t changed; /* broadcast whenever a field below changes */
    int running;            /* jobs inside run() now */
    int max_running;
    int n_tokens;   /* releases not yet taken: a job takes one to finish */
    int n_finished; /* jobs whose run() returned */
};

static void gate_init(struct gate *g)
{
    *g = (struct gate){0};
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->changed, NULL);
}

static void gate_fini(struct gate *g)
{
    pthread_cond_destroy(&g->changed);
    pthread_mutex_destroy(&g->mu);
}

struct gated_job {
    dg_job job;
    struct gate *g;
    int *n_done, *n_wrong_thread; /* loop thread only */
};

static void gated_run(dg_job *job, void *ctx)
{
    struct gate *g = ((struct gated_job *)job)->g;

    (void)ctx;
    pthread_mutex_lock(&g->mu);
    if (++g->running > g->max_running)
        g->max_running = g->running;
    pthread_cond_broadcast(&g->changed);
    while (g->n_tokens == 0)
        pthread_cond_wait(&g->changed, &g->mu);
    g->n_tokens--;
    g->running--;
    g->n_finished++;
    pthread_cond_broadcast(&g->changed);
    pthread_mutex_unlock(&g->mu);
    job->rc = DG_OK;
}

static void gated_done(dg_job *job)
{
    struct gated_job *j = (struct gated_job *)job;

    if (dg_thread_current() != DG_THREAD_LOOP)
        (*j->n_wrong_thread)++;
    (*j->n_done)++;
}

/* Waits until `running` jobs are inside run() and asserts that no more are
 * (fails after GUARD_S if fewer ever are). */
static void wait_running(struct gate *g, int running)
{
    struct timespec until;
    int rc = 0, now;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += GUARD_S;
    pthread_mutex_lock(&g->mu);
    while (g->running < running && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&g->changed, &g->mu, &until);
    now = g->running;
    pthread_mutex_unlock(&g->mu);
    if (rc == ETIMEDOUT)
        fail_msg("%d jobs never ran at once", running);
    assert_int_equal(now, running);
}

/* Lets one job finish and waits until it has. */
static void release_one(struct gate *g)
{
    pthread_mutex_lock(&g->mu);
    int finished = g->n_finished;

    g->n_tokens++;
    pthread_cond_broadcast(&g->changed);
    while (g->n_finished == finished)
        pthread_cond_wait(&g->changed, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static int finished(struct gate *g)
{
    pthread_mutex_lock(&g->mu);
    int n = g->n_finished;
    pthread_mutex_unlock(&g->mu);
    return n;
}

/* A pool of `n_threads` with room for `max_queued` waiting jobs, on a loop
 * of its own; the test thread is its loop thread. */
struct rig {
    uv_loop_t loop;
    dg_completions *done;
    dg_pool *p;
    struct gate g;
    struct gated_job jobs[64];
    int n_submitted, n_accepted, n_done, n_wrong_thread;
};

static void rig_open(struct rig *r, unsigned n_threads, size_t max_queued)
{
    dg_pool_opts o = {.name = "test", .n_threads = n_threads, .max_queued = max_queued};

    dg_thread_set_role(DG_THREAD_LOOP);
    r->n_submitted = r->n_accepted = r->n_done = r->n_wrong_thread = 0;
    gate_init(&r->g);
    uv_loop_init(&r->loop);
    assert_int_equal(dg_completions_new(&r->loop, NULL, NULL, &r->done), DG_OK);
    assert_int_equal(dg_pool_new(&o, r->done, &r->p), DG_OK);
}

/* Submits n more gated jobs; returns how many were refused. */
static int rig_submit(struct rig *r, int n)
{
    int n_refused = 0;

    for (int i = 0; i < n; i++) {
        struct gated_job *j = &r->jobs[r->n_submitted++];

        *j = (struct gated_job){.job = {.run = gated_run, .done = gated_done},
                                .g = &r->g,
                                .n_done = &r->n_done,
                                .n_wrong_thread = &r->n_wrong_thread};
        if (dg_pool_submit(r->p, &j->job) == DG_OK)
            r->n_accepted++;
        else
            n_refused++;
    }
    return n_refused;
}

/* Releases every job still held, collects every done() and closes. */
static void rig_close(struct rig *r)
{
    while (finished(&r->g) < r->n_accepted)
        release_one(&r->g);
    while (r->n_done < r->n_accepted)
        uv_run(&r->loop, UV_RUN_ONCE);
    dg_pool_free(r->p);
    dg_completions_close(r->done);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&r->loop), 0);
    assert_int_equal(r->n_wrong_thread, 0);
    gate_fini(&r->g);
}

/* With every thread held, the rest wait in the queue; each release lets
 * exactly one more start. */
static void test_pool_never_runs_more_jobs_than_threads(void **state)
{
    (void)state;
    for (int n = 1; n <= 3; n++) {
        struct rig r;

        rig_open(&r, (unsigned)n, 100);
        assert_int_equal(rig_submit(&r, N_JOBS), 0);
        for (int done = 0; done < N_JOBS; done++) {
            int busy = DG_MIN(n, N_JOBS - done);

            wait_running(&r.g, busy);
            assert_int_equal(dg_pool_queued(r.p), (size_t)(N_JOBS - done - busy));
            release_one(&r.g);
        }
        assert_int_equal(r.g.max_running, n);
        rig_close(&r);
        assert_int_equal(r.n_done, N_JOBS);
    }
}

/* Two threads run two jobs at once: the bound is not "one at a time". */
static void test_pool_with_several_threads_does_run_in_parallel(void **state)
{
    struct rig r;

    (void)state;
    rig_open(&r, 2, 100);
    assert_int_equal(rig_submit(&r, 2), 0);
    wait_running(&r.g, 2); /* the first holds its thread until released */
    rig_close(&r);
}

/* One thread busy, room for 4 waiting: of 39 more, exactly 4 are taken; the
 * refused ones never call back. */
static void test_pool_refuses_beyond_its_queue_bound(void **state)
{
    struct rig r;

    (void)state;
    rig_open(&r, 1, 4);
    assert_int_equal(rig_submit(&r, 1), 0);
    wait_running(&r.g, 1);
    assert_int_equal(rig_submit(&r, 39), 39 - 4);
    assert_int_equal(dg_pool_queued(r.p), 4);
    rig_close(&r);
    assert_int_equal(r.n_done, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_never_runs_more_jobs_than_threads),
        cmocka_unit_test(test_pool_with_several_threads_does_run_in_parallel),
        cmocka_unit_test(test_pool_refuses_beyond_its_queue_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
