/* writer.h - the writer thread: the only write connection, group commit.
 *
 * It takes every pending write job, runs them in one transaction with a
 * SAVEPOINT each (one job's failure rolls back only that job), commits once
 * with synchronous=NORMAL, and runs the next batch while its syncer thread
 * fdatasyncs the WAL; the jobs go back to the loop (and their change rows to
 * the feed) only after that sync returned, in commit order. Other
 * connections may read a committed batch during its sync. A batch of
 * nothing but records of reads (dg_job.is_record_of_read) needs no sync: it
 * goes back after its commit, still in order. A job's `run` receives a
 * dg_wtx and must write its rows, its audit record and its change row
 * through it, so all land or none does.
 *
 * After a failed COMMIT (a write error) or a failed sync of the WAL the writer
 * goes read-only; the jobs of every batch that sync would have released
 * fail with DG_EIO although SQLite committed them (readers may have seen
 * them; a restart may or may not find them), and their change rows never
 * reach the feed's subscribers live:
 * every later job fails with DG_EREADONLY until restart (docs/operations.md: a
 * retried fsync can lie), except one that writes only derived data
 * (dg_job.is_derived: a search's catch-up of the index, which claims nothing
 * durable). Reads go on. A full disk (DG_ENOSPC) is different:
 * the batch fails with DG_ENOSPC, nothing of it was published, and the next
 * batch simply tries again, so writes resume by themselves once there is
 * room.
 */
#ifndef DG_WRITER_H
#define DG_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "audit.h"
#include "collate.h"
#include "pool.h"
#include "store.h"

struct dg_wcapture;

/* What a write job's run() gets as its context. */
typedef struct dg_wtx {
    dg_store *store;
    dg_audit_chain *audit;       /* append with dg_audit_append(tx->store, tx->audit, &rec) */
    dg_collator *collator;       /* the writer's: pinyin sort keys of names */
    struct dg_wcapture *changes; /* the batch's change rows, for the feed */
} dg_wtx;

/* Appends a change row: every change row goes through here, so the feed
 * gets it with the commit (dg_writer_take_committed) instead of reading it
 * back. *seq gets its seq. */
int dg_wtx_change_append(dg_wtx *tx, const dg_change *c, int64_t *seq);

/* The change rows one commit wrote, in seq order: every change with
 * after < seq <= head, or rows NULL when they were not all kept (over
 * DG_WRITER_CAPTURE_ROWS, or out of memory): the feed then reads them. */
typedef struct dg_committed {
    struct dg_committed *next; /* the next commit's */
    int64_t after, head;
    dg_change_row *rows; /* in `arena` */
    size_t n;
    dg_arena *arena;
    /* Every loop's feed reads the same rows (never changes them): each
     * holds a reference; dg_committed_free drops one. */
    int n_refs;
} dg_committed;
#define DG_WRITER_CAPTURE_ROWS 1024
void dg_committed_ref(dg_committed *c);
void dg_committed_free(dg_committed *c); /* drops one reference; accepts NULL */

typedef struct dg_writer dg_writer;

typedef struct dg_writer_stats {
    uint64_t n_batches;
    uint64_t n_jobs;
    uint64_t n_failed_jobs;
    uint64_t n_syncs; /* WAL syncs by the syncer (one may release many batches) */
} dg_writer_stats;

/* When the writer writes search_queue into the search index (the batches'
 * search documents go to the queue, docs/architecture.md): after a batch
 * that leaves at least apply_ops queued, and after idle_ms without a job
 * while any is queued. A search asks for the rest (dg_writer_search_queued). */
typedef struct dg_writer_search {
    uint32_t apply_ops;
    uint32_t idle_ms;
} dg_writer_search;
/* Writing the index once per 512 queued search documents instead of once per
 * batch took a durable update from 21-33 WAL pages (the index's merges vary)
 * to ~16, of which the index and its queue take under 1 (dangan-bench
 * update=100 at 1 connection, 100k customers; 128 and 2048 gave the same
 * within the noise, and fewer bound what a search may wait for). */
#define DG_WRITER_SEARCH_APPLY_OPS 512
#define DG_WRITER_SEARCH_IDLE_MS 20

/* Takes ownership of `st` (the write connection), makes it defer its search
 * documents (dg_store_search_defer) and starts the thread. `search` NULL:
 * the defaults above. DG_OK, or a store error (loading the audit chain
 * head, counting the search queue). */
int dg_writer_new(dg_store *st, dg_completions *done, size_t max_queued,
                  const dg_writer_search *search, dg_writer **out);
/* Any thread: the search documents committed but not yet in the index, as
 * of the last commit whose replies went out. 0: a search sees every
 * answered write. */
int64_t dg_writer_search_queued(dg_writer *w);
/* Loop thread. DG_OK, or DG_EFULL at the queue bound (no callback then). */
int dg_writer_submit(dg_writer *w, dg_job *job);
bool dg_writer_is_readonly(dg_writer *w);
/* Loop thread: what the commits since the last call wrote, oldest first
 * (a list through ->next; NULL if none). The caller frees each. A commit's
 * rows are there before its jobs' completions are posted. */
dg_committed *dg_writer_take_committed(dg_writer *w);
void dg_writer_get_stats(dg_writer *w, dg_writer_stats *out);
/* Runs what is queued, joins the thread and closes the store. Accepts NULL. */
void dg_writer_free(dg_writer *w);

#endif
