/* writer.c - group commit on a dedicated thread, its fsync on another.
 *
 * The writer commits each batch with synchronous=NORMAL (the commit is in
 * the WAL file, not yet on disk) and hands it to the syncer thread, which
 * fdatasyncs the WAL through SQLite's own file object (dg_store_sync_wal)
 * while the writer runs the next batch. A batch's change rows and replies
 * are released only after a sync that began after its commit returned, in
 * commit order; one sync releases every batch committed before it began.
 * A failed sync fails the jobs of every batch it would have released (and
 * of all later ones) with DG_EIO and turns the writer read-only. A batch
 * that needs no sync (only records of reads) is released by the writer
 * itself when no earlier batch is still unreleased. The search documents of
 * a batch go to search_queue with it; the writer writes them into the index
 * in bulk between batches, in a transaction that needs no sync
 * (apply_search, docs/architecture.md "The search index").
 *
 * Owns: the write connection (dg_store), the audit chain head, the pending
 * queue (mutex + condvar), the queue of committed batches waiting for their
 * sync, and the two threads.
 * Invariants: only the writer thread touches the store after dg_writer_new,
 * except the WAL sync of the syncer thread; chain reflects exactly the
 * committed rows plus those of the open transaction's released savepoints.
 */
#include "writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "clock.h"
#include "dg.h"
#include "log.h"

#define MAX_BATCH 1024
/* 128 MiB of 4 KiB pages; see bound_wal: twice the checkpointer's own
 * restart point (checkpoint.c), which normally starts the WAL over first */
#define WAL_RESTART_FRAMES 32768
#define WAL_RESTART_WAIT_MS 20

/* The open batch's change rows, kept for the feed as they are appended. */
struct dg_wcapture {
    dg_arena *arena;     /* their strings; handed over with the commit */
    dg_change_row *rows; /* grows; reused from batch to batch */
    size_t n, cap;
    bool is_lost; /* one was not kept: the feed reads this commit's rows */
};

/* A batch done on the writer thread, waiting for the syncer to release it. */
struct dg_wsync {
    struct dg_wsync *next; /* the next batch committed */
    dg_job *jobs;
    dg_committed *committed; /* its change rows for the feed; or NULL */
    dg_wal_file *wal;        /* the WAL to sync before it goes out */
    bool needs_sync;         /* it committed writes (not only records of reads) */
};

struct dg_writer {
    dg_store *store;
    dg_collator *collator;
    dg_audit_chain chain;
    dg_completions *done;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    dg_job *head, *tail;
    size_t n_queued, max_queued;
    bool is_stopping;
    bool is_readonly;  /* under mu: set by the writer or the syncer, read by all */
    bool is_disk_full; /* the last batch failed for want of space; writer thread only */
    dg_writer_stats stats;
    int wal_restart_at;         /* WAL frames; writer thread only */
    int64_t published_seq;      /* the change seq up to which commits were taken for the
                                 * feed (which owns the head); writer thread only */
    struct dg_wcapture capture; /* the open batch's change rows; writer thread */
    dg_committed *committed, **committed_end; /* for the loop, under mu */
    pthread_t syncer;
    pthread_cond_t sync_cond;                /* under mu: a batch to release, or stop */
    struct dg_wsync *sync_head, **sync_tail; /* under mu: committed, not yet released */
    size_t n_unreleased;   /* under mu: batches queued for the syncer or in its hands */
    bool is_sync_stopping; /* under mu */
    bool is_sync_failed;   /* syncer thread: a sync failed, none is OK */
    dg_writer_search search;
    /* search_queue's rows as of the last commit (dg_store_search_queued):
     * written by the writer thread before that commit's replies go out,
     * read by any (dg_writer_search_queued) */
    int64_t n_search_queued;
};

static void fail_all(dg_job *batch, int rc)
{
    for (dg_job *j = batch; j; j = j->next)
        if (j->rc == DG_OK)
            j->rc = rc;
}

static void go_readonly(dg_writer *w, const char *why)
{
    pthread_mutex_lock(&w->mu);
    bool was_readonly = w->is_readonly;

    w->is_readonly = true;
    pthread_mutex_unlock(&w->mu);
    if (!was_readonly) /* a derived-only batch may fail again afterwards (run_batch) */
        dg_log_error("writer",
                     "msg=\"database write failed; refusing writes until restart\" error=\"%s\"",
                     why);
}

/* A full disk is not a broken disk: SQLite failed the transaction before
 * publishing any of it, so the writer stays writable and every batch tries
 * again; the first to succeed ends the episode. Logged once each way. */
static void note_disk_full(dg_writer *w, bool is_full)
{
    if (is_full == w->is_disk_full)
        return;
    w->is_disk_full = is_full;
    if (is_full) /* warn: the environment failed us; reads and sign-ins go on */
        dg_log_warn("writer",
                    "msg=\"disk full: writes are refused with disk_full until space is freed; "
                    "reads go on\" error=\"%s\"",
                    dg_store_errmsg(w->store));
    else
        dg_log_info("writer", "msg=\"disk space available again: writes resumed\"");
}

/* ------------------------------------------------------------ change capture */

#define CAPTURE_BUDGET (4u << 20)

static dg_reminder *copy_reminder(dg_arena *a, const dg_reminder *from)
{
    dg_reminder *r = dg_arena_alloc(a, sizeof *r);

    if (!r)
        return NULL;
    *r = *from;
    r->due_on = dg_arena_strdup(a, from->due_on);
    r->title = dg_arena_strdup(a, from->title);
    r->customer_code = dg_arena_strdup(a, from->customer_code);
    r->customer_name = dg_arena_strdup(a, from->customer_name);
    r->time_zone = dg_arena_strdup(a, from->time_zone);
    if (!r->due_on || !r->title || !r->customer_code || !r->customer_name || !r->time_zone)
        return NULL;
    return r;
}

/* A copy of `s` in `a`; NULL stays NULL. False when out of budget. */
static bool dup_or_null(dg_arena *a, const char *s, const char **out)
{
    *out = s ? dg_arena_strdup(a, s) : NULL;
    return !s || *out;
}

/* A copy of the values of `n` items, or NULL for none. */
static bool dup_values(dg_arena *a, const char *const *in, size_t n, const char *const **out)
{
    const char **v;

    *out = NULL;
    if (!in)
        return true;
    if (!(v = dg_arena_calloc(a, n + 1, sizeof *v)))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!dup_or_null(a, in[i], &v[i]))
            return false;
    *out = v;
    return true;
}

static bool capture_row(struct dg_wcapture *cap, int64_t seq, const dg_change *c)
{
    dg_change_row *r;
    const char **fields;

    if (cap->is_lost || cap->n == DG_WRITER_CAPTURE_ROWS)
        return false;
    if (!cap->arena)
        cap->arena = dg_arena_new(CAPTURE_BUDGET);
    if (cap->n == cap->cap) {
        cap->cap = cap->cap ? cap->cap * 2 : 64;
        cap->rows = dg_xrealloc(cap->rows, cap->cap * sizeof *cap->rows);
    }
    r = &cap->rows[cap->n];
    /* as dg_store_changes_after reads it back: no NULL strings or lists */
    r->seq = seq;
    r->c = *c;
    r->committed_us = 0; /* release() sets it */
    r->c.entity = dg_arena_strdup(cap->arena, c->entity);
    r->c.op = dg_arena_strdup(cap->arena, c->op);
    if (!r->c.entity || !r->c.op ||
        !(fields = dg_arena_calloc(cap->arena, c->n_fields + 1, sizeof *fields)))
        return false;
    for (size_t i = 0; i < c->n_fields; i++)
        if (!(fields[i] = dg_arena_strdup(cap->arena, c->fields[i])))
            return false;
    r->c.fields = fields;
    if ((c->reminder && !(r->c.reminder = copy_reminder(cap->arena, c->reminder))) ||
        !dup_values(cap->arena, c->old_values, c->n_fields, &r->c.old_values) ||
        !dup_values(cap->arena, c->new_values, c->n_fields, &r->c.new_values) ||
        !dup_or_null(cap->arena, c->customer_name, &r->c.customer_name) ||
        !dup_or_null(cap->arena, c->customer_code, &r->c.customer_code))
        return false;
    cap->n++;
    return true;
}

int dg_wtx_change_append(dg_wtx *tx, const dg_change *c, int64_t *seq)
{
    int rc = dg_store_change_append(tx->store, c, seq);

    DG_ASSERT_THREAD(DG_THREAD_WRITER);
    if (rc == DG_OK && tx->changes && !capture_row(tx->changes, *seq, c))
        tx->changes->is_lost = true;
    return rc;
}

void dg_committed_ref(dg_committed *c)
{
    __atomic_add_fetch(&c->n_refs, 1, __ATOMIC_RELAXED);
}

void dg_committed_free(dg_committed *c)
{
    if (!c || __atomic_sub_fetch(&c->n_refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    dg_arena_free(c->arena);
    free(c);
}

/* After a commit that took the feed from `after` to `head`: the batch's
 * rows for the loop, or none (rows NULL) to tell it to read them when some
 * were not kept. The rows of (after, head] are all there when they are as
 * many as the seqs between: a job that rolled back took its row and its seq
 * back. NULL when the commit wrote no change row. The syncer stamps them
 * and hands them over after the sync (release). */
static dg_committed *take_captured(dg_writer *w, int64_t after, int64_t head)
{
    struct dg_wcapture *cap = &w->capture;
    dg_committed *c;

    if (head == after)
        return NULL;
    c = dg_xcalloc(1, sizeof *c);
    c->n_refs = 1;
    c->after = after;
    c->head = head;
    if (!cap->is_lost && cap->n == (size_t)(head - after) && cap->rows[cap->n - 1].seq == head &&
        (c->rows = dg_arena_alloc(cap->arena, cap->n * sizeof *c->rows))) {
        memcpy(c->rows, cap->rows, cap->n * sizeof *c->rows);
        c->n = cap->n;
        c->arena = cap->arena;
        cap->arena = NULL;
    }
    return c;
}

static void capture_reset(struct dg_wcapture *cap)
{
    if (cap->arena)
        dg_arena_reset(cap->arena, CAPTURE_BUDGET);
    cap->n = 0;
    cap->is_lost = false;
}

dg_committed *dg_writer_take_committed(dg_writer *w)
{
    dg_committed *c;

    DG_ASSERT_LOOP_THREAD();
    pthread_mutex_lock(&w->mu);
    c = w->committed;
    w->committed = NULL;
    w->committed_end = &w->committed;
    pthread_mutex_unlock(&w->mu);
    return c;
}

/* ------------------------------------------------------------ batches */

/* Runs one job inside its own savepoint, or a job alone in its batch
 * (is_alone, writer_main) in the transaction itself: failed, it is rolled
 * back whole and an empty transaction takes its place. Returns false if
 * SQLite rolled back the whole transaction underneath us (after an I/O
 * error or OOM). */
static bool run_job(dg_writer *w, dg_job *job, dg_wtx *tx)
{
    dg_audit_chain saved = w->chain;
    size_t n_captured = w->capture.n;

    if (job->is_alone) {
        job->run(job, tx);
        if (job->rc == DG_OK)
            return true;
        dg_store_rollback(w->store);
        w->chain = saved;
        w->capture.n = n_captured;
        return dg_store_begin(w->store) == DG_OK;
    }
    job->rc = dg_store_savepoint(w->store);
    if (job->rc != DG_OK)
        return false;
    job->run(job, tx);
    if (job->rc == DG_OK && (job->rc = dg_store_release(w->store)) == DG_OK)
        return true;
    dg_store_rollback_to(w->store);
    w->chain = saved;
    w->capture.n = n_captured; /* its change rows are gone with it */
    return dg_store_in_transaction(w->store);
}

static void release(dg_writer *w, struct dg_wsync *b, int rc);

static void run_batch(dg_writer *w, dg_job *batch, size_t n)
{
    dg_audit_chain before = w->chain;
    dg_wtx tx = {
        .store = w->store, .audit = &w->chain, .collator = w->collator, .changes = &w->capture};
    struct dg_wsync *sync = dg_xcalloc(1, sizeof *sync);
    int rc;

    bool is_reads_only = true, has_derived = false;

    pthread_mutex_lock(&w->mu);
    bool is_readonly = w->is_readonly;
    pthread_mutex_unlock(&w->mu);
    /* Read-only, only the jobs that write derived data run: the others
     * fail with DG_EREADONLY here. */
    for (dg_job *j = batch; j; j = j->next) {
        j->rc = is_readonly && !j->is_derived ? DG_EREADONLY : DG_OK;
        is_reads_only = is_reads_only && (j->is_record_of_read || j->is_derived || is_readonly);
        has_derived = has_derived || j->is_derived;
    }
    if (is_readonly && !has_derived) {
        fail_all(batch, DG_EREADONLY);
    } else if ((rc = dg_store_skip_sync(w->store, true)) != DG_OK ||
               (rc = dg_store_begin(w->store)) != DG_OK) {
        fail_all(batch, rc);
        if (rc == DG_EIO || rc == DG_ECORRUPT)
            go_readonly(w, dg_store_errmsg(w->store));
    } else {
        bool is_tx_alive = true;
        dg_job *last = NULL;

        for (dg_job *j = batch; j && is_tx_alive; j = j->next) {
            if (j->rc != DG_OK)
                continue; /* refused above */
            is_tx_alive = run_job(w, j, &tx);
            last = j;
        }
        bool is_commit_failure = false;

        /* The search index is written once for the whole batch (see store.h).
         * A job that lost the whole transaction says why: a full disk is
         * the one cause that leaves the writer writable. */
        rc = is_tx_alive             ? dg_store_search_flush(w->store)
             : last->rc == DG_ENOSPC ? DG_ENOSPC
                                     : DG_EIO;
        if (rc == DG_OK) {
            rc = dg_store_commit(w->store);
            is_commit_failure = rc != DG_OK;
        }
        if (rc == DG_OK) { /* for the change feed, before the completions go out */
            int64_t head;

            /* Synced before anything of it is answered, unless it only
             * recorded reads: their answers wait for the commit, not the
             * disk (dg_server_write_record_of_read). */
            sync->needs_sync = !is_reads_only;
            sync->wal = dg_store_wal_file(w->store);
            if (dg_store_feed_head(w->store, &head) == DG_OK) {
                sync->committed = take_captured(w, w->published_seq, head);
                w->published_seq = head;
            } else {
                /* cannot tell what it wrote: the feed reads from where it was */
                dg_log_warn("writer", "msg=\"cannot read the change feed head\" error=\"%s\"",
                            dg_store_errmsg(w->store));
            }
        }
        if (rc == DG_ENOSPC)
            note_disk_full(w, true);
        else if (rc == DG_OK)
            note_disk_full(w, false);
        if (rc != DG_OK) {
            char why[256];

            snprintf(why, sizeof why, "%s", dg_store_errmsg(w->store));
            dg_store_rollback(w->store);
            w->chain = before;
            fail_all(batch, rc == DG_EBUSY || rc == DG_ENOMEM || rc == DG_ENOSPC ? rc : DG_EIO);
            /* After a failed write or fsync the kernel may have dropped
             * pages a retry would not notice; only a full disk is known to
             * have written nothing that could be mistaken for data. */
            if (rc != DG_EBUSY && rc != DG_ENOSPC &&
                (is_commit_failure || rc == DG_EIO || rc == DG_ECORRUPT))
                go_readonly(w, why);
        }
    }
    capture_reset(&w->capture);
    /* before any reply of this batch goes out: a search asked after one
     * sees the search documents it queued (dg_writer_search_queued) */
    __atomic_store_n(&w->n_search_queued, dg_store_search_queued(w->store), __ATOMIC_RELEASE);
    sync->jobs = batch;
    pthread_mutex_lock(&w->mu);
    w->stats.n_batches++;
    w->stats.n_jobs += n;
    /* A batch that needs no sync, with none before it still unreleased, goes
     * out from here: handing it to the syncer would cost one more thread
     * wake-up (tens of microseconds here) on the path of a restricted read. */
    bool is_release_here = !sync->needs_sync && w->n_unreleased == 0;
    if (!is_release_here) {
        *w->sync_tail = sync;
        w->sync_tail = &sync->next;
        w->n_unreleased++;
        pthread_cond_signal(&w->sync_cond);
    }
    pthread_mutex_unlock(&w->mu);
    if (is_release_here)
        release(w, sync, DG_OK);
}

/* ------------------------------------------------------------ the syncer */

/* Hands one batch to the loop: its change rows, then its replies. `rc`: how
 * the sync that covers it ended (DG_OK when it needed none). */
static void release(dg_writer *w, struct dg_wsync *b, int rc)
{
    dg_committed *c = b->committed;
    size_t n_failed = 0;

    if (rc != DG_OK) {
        fail_all(b->jobs, rc); /* committed, never synced: not one is OK */
        dg_committed_free(c);  /* no event for what its writers were told failed */
        c = NULL;
    } else if (c) {
        int64_t now = dg_now_us(); /* the commit is durable now */

        for (size_t i = 0; i < c->n; i++)
            c->rows[i].committed_us = now;
    }
    pthread_mutex_lock(&w->mu);
    if (c) {
        *w->committed_end = c;
        w->committed_end = &c->next;
    }
    pthread_mutex_unlock(&w->mu);
    for (dg_job *batch = b->jobs; batch;) {
        dg_job *next = batch->next;

        if (batch->rc != DG_OK)
            n_failed++;
        dg_completions_post(batch->back ? batch->back : w->done, batch);
        batch = next;
    }
    pthread_mutex_lock(&w->mu);
    w->stats.n_failed_jobs += n_failed;
    pthread_mutex_unlock(&w->mu);
    free(b);
}

/* Takes every batch committed so far; one fdatasync of the WAL covers them
 * all (each commit was in the file when it returned), then releases them
 * in commit order. After a failed sync none needing one is released OK. */
static void *syncer_main(void *arg)
{
    dg_writer *w = arg;

    dg_thread_set_role(DG_THREAD_WORKER);
    pthread_setname_np(pthread_self(), "dg-syncer");
    for (;;) {
        struct dg_wsync *list;
        dg_wal_file *wal = NULL;

        pthread_mutex_lock(&w->mu);
        while (!w->sync_head && !w->is_sync_stopping)
            pthread_cond_wait(&w->sync_cond, &w->mu);
        list = w->sync_head;
        w->sync_head = NULL;
        w->sync_tail = &w->sync_head;
        pthread_mutex_unlock(&w->mu);
        if (!list)
            return NULL; /* stopping, and nothing left */
        bool needs_sync = false;

        for (struct dg_wsync *b = list; b; b = b->next) {
            needs_sync = needs_sync || b->needs_sync;
            wal = b->wal ? b->wal : wal;
        }
        if (needs_sync && !w->is_sync_failed) {
            char why[256] = "no WAL to sync";

            if (!wal || dg_store_sync_wal(wal, why, sizeof why) != DG_OK) {
                w->is_sync_failed = true;
                go_readonly(w, why);
            }
            pthread_mutex_lock(&w->mu);
            w->stats.n_syncs++;
            pthread_mutex_unlock(&w->mu);
        }
        while (list) {
            struct dg_wsync *next = list->next;

            release(w, list, list->needs_sync && w->is_sync_failed ? DG_EIO : DG_OK);
            pthread_mutex_lock(&w->mu);
            w->n_unreleased--;
            pthread_mutex_unlock(&w->mu);
            list = next;
        }
    }
}

/* Writes search_queue into the search index in a transaction of its own.
 * Its commit waits for no fsync and releases nothing: the index is derived
 * from rows already durable with the queue, which a crash before the next
 * sync simply keeps (and the next start applies); the next batch's sync
 * covers it. */
static void apply_search(dg_writer *w)
{
    int rc;

    if (dg_store_search_queued(w->store) == 0 || dg_writer_is_readonly(w))
        return;
    if ((rc = dg_store_skip_sync(w->store, true)) == DG_OK &&
        (rc = dg_store_begin(w->store)) == DG_OK && (rc = dg_store_search_apply(w->store)) == DG_OK)
        rc = dg_store_commit(w->store);
    if (rc != DG_OK) {
        char why[256];

        snprintf(why, sizeof why, "%s", dg_store_errmsg(w->store));
        dg_store_rollback(w->store);
        /* as after a batch's failed commit; a full disk or a busy lock
         * leaves the queue for the next try */
        if (rc == DG_EIO || rc == DG_ECORRUPT)
            go_readonly(w, why);
        else
            dg_log_warn("writer", "msg=\"cannot apply the search queue\" error=\"%s\"", why);
    }
    __atomic_store_n(&w->n_search_queued, dg_store_search_queued(w->store), __ATOMIC_RELEASE);
}

/* Waits for jobs (w->mu held). While search documents are queued, the
 * writer applies them once it has had no job for search.idle_ms. */
static void wait_for_jobs(dg_writer *w)
{
    while (!w->head && !w->is_stopping) {
        struct timespec until;

        if (dg_store_search_queued(w->store) == 0) {
            pthread_cond_wait(&w->cond, &w->mu);
            continue;
        }
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += w->search.idle_ms / 1000;
        until.tv_nsec += (long)(w->search.idle_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        if (pthread_cond_timedwait(&w->cond, &w->mu, &until) == ETIMEDOUT && !w->head &&
            !w->is_stopping) {
            pthread_mutex_unlock(&w->mu);
            apply_search(w);
            pthread_mutex_lock(&w->mu);
        }
    }
}

/* The checkpointer copies the WAL into the database in the background, but
 * the WAL file only starts over when a checkpoint catches up with the writer,
 * which under steady writes it never does. Past WAL_RESTART_FRAMES the
 * writer finishes the job itself, between transactions: the little the
 * checkpointer left plus one fsync of the database file, short because the
 * checkpointer syncs what it copies (checkpoint.c). */
static void bound_wal(dg_writer *w)
{
    int frames = dg_store_wal_frames(w->store), rc;

    if (frames < w->wal_restart_at)
        return;
    rc = dg_store_checkpoint_restart(w->store, WAL_RESTART_WAIT_MS);
    /* Readers of an older snapshot kept it from finishing: try again after
     * a little more has been written rather than after every commit. */
    w->wal_restart_at = rc == DG_OK ? WAL_RESTART_FRAMES : frames + WAL_RESTART_FRAMES / 16;
    if (rc != DG_OK && rc != DG_EBUSY && !(rc == DG_ENOSPC && w->is_disk_full))
        dg_log_warn("writer", "msg=\"WAL checkpoint failed\" error=\"%s\"",
                    dg_store_errmsg(w->store));
}

static void *writer_main(void *arg)
{
    dg_writer *w = arg;

    dg_thread_set_role(DG_THREAD_WRITER);
    pthread_setname_np(pthread_self(), "dg-writer"); /* for top -H, perf, gdb */
    for (;;) {
        dg_job *batch, *last;
        size_t n = 0;

        pthread_mutex_lock(&w->mu);
        wait_for_jobs(w);
        if (!w->head) {
            pthread_mutex_unlock(&w->mu);
            return NULL;
        }
        /* Take everything pending, up to MAX_BATCH: one fsync for all of it;
         * a job that must be alone is a batch of its own. */
        batch = last = w->head;
        for (n = 1; !batch->is_alone && last->next && !last->next->is_alone && n < MAX_BATCH; n++)
            last = last->next;
        w->head = last->next;
        if (!w->head)
            w->tail = NULL;
        last->next = NULL;
        w->n_queued -= n;
        pthread_mutex_unlock(&w->mu);
        run_batch(w, batch, n);
        if (dg_store_search_queued(w->store) >= w->search.apply_ops)
            apply_search(w);
        bound_wal(w);
    }
}

/* Releases what is left (the writer has stopped) and joins the syncer. */
static void stop_syncer(dg_writer *w)
{
    pthread_mutex_lock(&w->mu);
    w->is_sync_stopping = true;
    pthread_cond_signal(&w->sync_cond);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->syncer, NULL);
}

int dg_writer_new(dg_store *st, dg_completions *done, size_t max_queued,
                  const dg_writer_search *search, dg_writer **out)
{
    dg_writer *w = dg_xcalloc(1, sizeof *w);
    pthread_condattr_t monotonic;
    int rc;

    *out = NULL;
    w->search =
        search ? *search : (dg_writer_search){DG_WRITER_SEARCH_APPLY_OPS, DG_WRITER_SEARCH_IDLE_MS};
    w->store = st;
    w->wal_restart_at = WAL_RESTART_FRAMES;
    w->done = done;
    w->max_queued = max_queued;
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_init(&monotonic); /* the idle wait (wait_for_jobs) */
    pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cond, &monotonic);
    pthread_condattr_destroy(&monotonic);
    if ((rc = dg_collator_new(&w->collator)) != DG_OK) {
        dg_log_error("writer", "msg=\"ICU has no zh collation data\"");
        goto fail;
    }
    w->committed_end = &w->committed;
    w->sync_tail = &w->sync_head;
    pthread_cond_init(&w->sync_cond, NULL);
    if ((rc = dg_store_feed_head(st, &w->published_seq)) != DG_OK) {
        dg_log_error("writer", "msg=\"cannot read the change feed head\" error=\"%s\"",
                     dg_store_errmsg(st));
        goto fail;
    }
    if ((rc = dg_store_search_defer(st, true)) != DG_OK) {
        dg_log_error("writer", "msg=\"cannot read the search queue\" error=\"%s\"",
                     dg_store_errmsg(st));
        goto fail;
    }
    w->n_search_queued = dg_store_search_queued(st);
    if ((rc = dg_audit_chain_load(st, &w->chain)) != DG_OK) {
        dg_log_error("writer", "msg=\"cannot read the audit chain head\" error=\"%s\"",
                     dg_store_errmsg(st));
        goto fail;
    }
    if (pthread_create(&w->syncer, NULL, syncer_main, w) != 0) {
        rc = DG_EIO;
        goto fail;
    }
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        stop_syncer(w);
        rc = DG_EIO;
        goto fail;
    }
    *out = w;
    return DG_OK;
fail:
    dg_collator_free(w->collator);
    pthread_cond_destroy(&w->sync_cond);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->mu);
    free(w); /* the store stays with the caller when we fail */
    return rc;
}

int dg_writer_submit(dg_writer *w, dg_job *job)
{
    DG_ASSERT_LOOP_THREAD();
    DG_ASSERT_LOOP_THREAD();
    job->next = NULL;
    pthread_mutex_lock(&w->mu);
    if (w->n_queued >= w->max_queued) {
        pthread_mutex_unlock(&w->mu);
        return DG_EFULL;
    }
    if (w->tail)
        w->tail->next = job;
    else
        w->head = job;
    w->tail = job;
    w->n_queued++;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->mu);
    return DG_OK;
}

int64_t dg_writer_search_queued(dg_writer *w)
{
    return __atomic_load_n(&w->n_search_queued, __ATOMIC_ACQUIRE);
}

bool dg_writer_is_readonly(dg_writer *w)
{
    bool ro;

    pthread_mutex_lock(&w->mu);
    ro = w->is_readonly;
    pthread_mutex_unlock(&w->mu);
    return ro;
}

void dg_writer_get_stats(dg_writer *w, dg_writer_stats *out)
{
    pthread_mutex_lock(&w->mu);
    *out = w->stats;
    pthread_mutex_unlock(&w->mu);
}

void dg_writer_free(dg_writer *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->is_stopping = true;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    stop_syncer(w); /* before the store closes: it syncs the store's WAL */
    while (w->committed) {
        dg_committed *next = w->committed->next;

        dg_committed_free(w->committed);
        w->committed = next;
    }
    dg_arena_free(w->capture.arena);
    free(w->capture.rows);
    dg_store_close(w->store);
    dg_collator_free(w->collator);
    pthread_cond_destroy(&w->sync_cond);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
