/* pool.c - worker threads, bounded job queues and the completion queue.
 *
 * Owns: the threads, their contexts, the pending queue (mutex + condvar) and,
 * for dg_completions, the uv_async_t and the finished list.
 * Threads: dg_pool_submit and dg_completions_drain on the loop; workers run
 * jobs and post them; dg_pool_free on the loop after the loop stopped using
 * the pool.
 */
#include "pool.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "alloc.h"
#include "dg.h"
#include "log.h"

struct dg_completions {
    uv_async_t async;
    pthread_mutex_t mu;
    dg_job *head, *tail;
    void (*on_done)(void *ud);
    void (*on_wake)(void *ud);
    void *ud;
};

static void completions_cb(uv_async_t *h)
{
    dg_completions_drain(h->data);
}

int dg_completions_new(uv_loop_t *loop, void (*on_done)(void *ud), void *ud, dg_completions **out)
{
    dg_completions *c = dg_xcalloc(1, sizeof *c);

    pthread_mutex_init(&c->mu, NULL);
    c->on_done = on_done;
    c->ud = ud;
    if (uv_async_init(loop, &c->async, completions_cb) != 0) {
        pthread_mutex_destroy(&c->mu);
        free(c);
        return DG_EIO;
    }
    c->async.data = c;
    *out = c;
    return DG_OK;
}

void dg_completions_on_wake(dg_completions *c, void (*fn)(void *ud))
{
    c->on_wake = fn;
}

void dg_completions_post(dg_completions *c, dg_job *job)
{
    job->next = NULL;
    pthread_mutex_lock(&c->mu);
    if (c->tail)
        c->tail->next = job;
    else
        c->head = job;
    c->tail = job;
    pthread_mutex_unlock(&c->mu);
    uv_async_send(&c->async); /* coalesces: one wakeup may carry many jobs */
}

void dg_completions_drain(dg_completions *c)
{
    dg_job *job;

    DG_ASSERT_LOOP_THREAD();
    pthread_mutex_lock(&c->mu);
    job = c->head;
    c->head = c->tail = NULL;
    pthread_mutex_unlock(&c->mu);
    if (job && c->on_wake)
        c->on_wake(c->ud);
    while (job) {
        dg_job *next = job->next;

        job->done(job); /* may free the job */
        if (c->on_done)
            c->on_done(c->ud);
        job = next;
    }
}

static void completions_closed_cb(uv_handle_t *h)
{
    dg_completions *c = h->data;

    pthread_mutex_destroy(&c->mu);
    free(c);
}

void dg_completions_close(dg_completions *c)
{
    if (!c)
        return;
    dg_completions_drain(c);
    uv_close((uv_handle_t *)&c->async, completions_closed_cb);
}

struct worker {
    dg_pool *pool;
    pthread_t thread;
    void *ctx;
    bool is_started;
};

struct dg_pool {
    const char *name;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    dg_job *head, *tail;
    size_t n_queued;
    size_t max_queued;
    unsigned n_sleeping; /* workers in cond_wait */
    unsigned n_woken;    /* of those, signalled and not yet awake */
    bool is_stopping;
    dg_completions *done;
    void (*ctx_close)(void *ctx);
    unsigned n_workers;
    struct worker *workers;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    dg_pool *p = w->pool;
    char name[16];

    dg_thread_set_role(DG_THREAD_WORKER);
    snprintf(name, sizeof name, "dg-%s", p->name); /* dg-reader, dg-hasher */
    pthread_setname_np(pthread_self(), name);
    for (;;) {
        dg_job *job;

        pthread_mutex_lock(&p->mu);
        while (!p->head && !p->is_stopping) {
            p->n_sleeping++;
            pthread_cond_wait(&p->cond, &p->mu);
            p->n_sleeping--;
            if (p->n_woken)
                p->n_woken--;
        }
        job = p->head;
        if (!job) { /* stopping and the queue is empty */
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        p->head = job->next;
        if (!p->head)
            p->tail = NULL;
        p->n_queued--;
        pthread_mutex_unlock(&p->mu);
        job->run(job, w->ctx);
        dg_completions_post(job->back ? job->back : p->done, job);
    }
}

int dg_pool_new(const dg_pool_opts *o, dg_completions *done, dg_pool **out)
{
    dg_pool *p = dg_xcalloc(1, sizeof *p);
    int rc = DG_OK;

    dg_assert(o->n_threads >= 1);
    *out = NULL;
    p->name = o->name;
    p->max_queued = o->max_queued;
    p->done = done;
    p->ctx_close = o->ctx_close;
    p->n_workers = o->n_threads;
    p->workers = dg_xcalloc(o->n_threads, sizeof *p->workers);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cond, NULL);
    for (unsigned i = 0; i < o->n_threads; i++) {
        p->workers[i].pool = p;
        if (o->ctx_open && (rc = o->ctx_open(o->ud, &p->workers[i].ctx)) != DG_OK)
            goto fail;
    }
    for (unsigned i = 0; i < o->n_threads; i++) {
        if (pthread_create(&p->workers[i].thread, NULL, worker_main, &p->workers[i]) != 0) {
            dg_log_error("pool", "pool=%s msg=\"cannot start thread\"", p->name);
            rc = DG_EIO;
            goto fail;
        }
        p->workers[i].is_started = true;
    }
    *out = p;
    return DG_OK;
fail:
    dg_pool_free(p);
    return rc;
}

int dg_pool_submit(dg_pool *p, dg_job *job)
{
    DG_ASSERT_LOOP_THREAD();
    job->next = NULL;
    pthread_mutex_lock(&p->mu);
    if (p->n_queued >= p->max_queued) {
        pthread_mutex_unlock(&p->mu);
        return DG_EFULL;
    }
    if (p->tail)
        p->tail->next = job;
    else
        p->head = job;
    p->tail = job;
    p->n_queued++;
    /* Wake a sleeper only if none is already on its way: an awake worker
     * empties the queue before it sleeps, so a burst of submits (one loop
     * iteration's requests) costs at most one wake-up per worker, not one
     * per job. */
    if (p->n_sleeping > p->n_woken) {
        p->n_woken++;
        pthread_cond_signal(&p->cond);
    }
    pthread_mutex_unlock(&p->mu);
    return DG_OK;
}

size_t dg_pool_queued(dg_pool *p)
{
    size_t n;

    pthread_mutex_lock(&p->mu);
    n = p->n_queued;
    pthread_mutex_unlock(&p->mu);
    return n;
}

void dg_pool_free(dg_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->is_stopping = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->n_workers; i++) {
        if (p->workers[i].is_started)
            pthread_join(p->workers[i].thread, NULL);
        if (p->workers[i].ctx && p->ctx_close)
            p->ctx_close(p->workers[i].ctx);
    }
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->mu);
    free(p->workers);
    free(p);
}
