/* test_pool.c - worker pools: never more jobs at once than threads (the
 * hasher pool's "one argon2 per core"), a bounded queue that refuses with
 * DG_EFULL and no callback, every done() once on the loop thread. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "dg.h"
#include "pool.h"

struct counters {
    pthread_mutex_t mu;
    int running;
    int max_running;
    int n_done;
    int n_wrong_thread;
};

struct slow_job {
    dg_job job;
    struct counters *c;
};

static void slow_run(dg_job *job, void *ctx)
{
    struct counters *c = ((struct slow_job *)job)->c;

    (void)ctx;
    pthread_mutex_lock(&c->mu);
    if (++c->running > c->max_running)
        c->max_running = c->running;
    pthread_mutex_unlock(&c->mu);
    usleep(5000); /* long enough for overlaps to show if the pool allowed them */
    pthread_mutex_lock(&c->mu);
    c->running--;
    pthread_mutex_unlock(&c->mu);
    job->rc = DG_OK;
}

static void slow_done(dg_job *job)
{
    struct counters *c = ((struct slow_job *)job)->c;

    if (dg_thread_current() != DG_THREAD_LOOP)
        c->n_wrong_thread++;
    c->n_done++;
}

static void run_pool(unsigned n_threads, int n_jobs, size_t max_queued, struct counters *c,
                     int *n_refused)
{
    dg_pool_opts o = {.name = "test", .n_threads = n_threads, .max_queued = max_queued};
    struct slow_job jobs[64];
    dg_completions *done;
    dg_pool *p;
    uv_loop_t loop;
    int n_accepted = 0;

    dg_thread_set_role(DG_THREAD_LOOP);
    uv_loop_init(&loop);
    assert_int_equal(dg_completions_new(&loop, NULL, NULL, &done), DG_OK);
    assert_int_equal(dg_pool_new(&o, done, &p), DG_OK);
    *n_refused = 0;
    for (int i = 0; i < n_jobs; i++) {
        jobs[i] = (struct slow_job){.job = {.run = slow_run, .done = slow_done}, .c = c};
        if (dg_pool_submit(p, &jobs[i].job) == DG_OK)
            n_accepted++;
        else
            (*n_refused)++;
    }
    while (c->n_done < n_accepted)
        uv_run(&loop, UV_RUN_ONCE);
    dg_pool_free(p);
    dg_completions_close(done);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_pool_never_runs_more_jobs_than_threads(void **state)
{
    for (unsigned n = 1; n <= 3; n++) {
        struct counters c = {.mu = PTHREAD_MUTEX_INITIALIZER};
        int refused;

        (void)state;
        run_pool(n, 24, 100, &c, &refused);
        assert_int_equal(refused, 0);
        assert_int_equal(c.n_done, 24);
        assert_true(c.max_running <= (int)n);
        assert_int_equal(c.n_wrong_thread, 0);
    }
}

static void test_pool_with_several_threads_does_run_in_parallel(void **state)
{
    struct counters c = {.mu = PTHREAD_MUTEX_INITIALIZER};
    int refused;

    (void)state;
    run_pool(2, 24, 100, &c, &refused);
    assert_int_equal(c.max_running, 2); /* the bound is not just "one at a time" */
}

static void test_pool_refuses_beyond_its_queue_bound(void **state)
{
    struct counters c = {.mu = PTHREAD_MUTEX_INITIALIZER};
    int refused;

    (void)state;
    /* One thread, room for 4 waiting: of 40 submitted at once most are refused. */
    run_pool(1, 40, 4, &c, &refused);
    assert_true(refused >= 40 - 4 - 1 - 1);
    assert_int_equal(c.n_done, 40 - refused); /* refused jobs never call back */
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
