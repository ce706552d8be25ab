/* pool.h - jobs that run off the loop thread and come back to it.
 *
 * A dg_job runs on a worker thread (`run`), then its `done` runs on the loop
 * thread exactly once. A job is owned by whoever holds it: the submitter until
 * dg_pool_submit succeeds, then the pool, then the loop again in `done`
 * (which usually frees it). A synchronous submit failure means no callback.
 *
 * dg_completions: the way back. Any thread posts finished jobs; a uv_async
 * wakes the loop, which calls each job's `done` in posting order.
 *
 * dg_pool: N threads with one bounded FIFO. Each thread may own a context
 * (e.g. a read-only database connection), opened on the calling thread by
 * dg_pool_new and passed to `run`.
 */
#ifndef DG_POOL_H
#define DG_POOL_H

#include <stddef.h>

#include <stdbool.h>

#include <uv.h>

typedef struct dg_job dg_job;

struct dg_job {
    dg_job *next;                        /* queue link, owned by whichever queue holds the job */
    void (*run)(dg_job *job, void *ctx); /* worker thread; sets rc */
    void (*done)(dg_job *job);           /* loop thread, exactly once */
    /* The loop it goes back to (each loop has its own completions); NULL:
     * the pool's or the writer's own. Set by the submitter (server.c). */
    struct dg_completions *back;
    int rc;
    /* writer: the job only records a read or a refusal (an audit record);
     * a batch of nothing else commits without waiting for fsync */
    bool is_record_of_read;
    /* writer: the job writes only derived data (the search index catching
     * up with rows already committed): it needs no sync and claims nothing
     * durable, so it runs even when the writer is read-only */
    bool is_derived;
    /* writer: the job changes thousands of records (TiersApply): it runs in
     * a transaction of its own, without a savepoint, since SQLite's
     * in-memory statement journal makes each statement inside a savepoint
     * cost in proportion to everything the savepoint changed so far */
    bool is_alone;
};

typedef struct dg_completions dg_completions;

/* `on_done` (may be NULL) runs on the loop after each job's done, with `ud`. */
int dg_completions_new(uv_loop_t *loop, void (*on_done)(void *ud), void *ud, dg_completions **out);
/* `fn` runs on the loop, with the same `ud`, each time it wakes to run
 * completions, before the first of them (the feed takes commits there). */
void dg_completions_on_wake(dg_completions *c, void (*fn)(void *ud));
/* Any thread. */
void dg_completions_post(dg_completions *c, dg_job *job);
/* Loop thread: runs `done` for everything posted so far (used at shutdown). */
void dg_completions_drain(dg_completions *c);
/* Loop thread: closes the async handle; memory is freed in its close callback.
 * Nothing may be posted afterwards. Accepts NULL. */
void dg_completions_close(dg_completions *c);

typedef struct dg_pool dg_pool;

typedef struct dg_pool_opts {
    const char *name;   /* for logs: "reader", "hasher" */
    unsigned n_threads; /* >= 1 */
    size_t max_queued;  /* jobs waiting beyond this are refused with DG_EFULL */
    /* Opens one thread's context (may be NULL for context-free pools). */
    int (*ctx_open)(void *ud, void **ctx);
    void (*ctx_close)(void *ctx);
    void *ud;
} dg_pool_opts;

/* Opens n contexts, then starts the threads. DG_OK or the ctx_open error. */
int dg_pool_new(const dg_pool_opts *opts, dg_completions *done, dg_pool **out);
/* Loop thread. DG_OK, or DG_EFULL when the queue is at its bound (no callback). */
int dg_pool_submit(dg_pool *p, dg_job *job);
/* Runs every queued job, joins the threads, closes the contexts. Accepts NULL. */
void dg_pool_free(dg_pool *p);
/* Jobs waiting (not yet running). Any thread. */
size_t dg_pool_queued(dg_pool *p);

#endif
