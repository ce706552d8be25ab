/* upkeep.c - the server's periodic bookkeeping, as write jobs: sessions'
 * last activity, idempotency keys past their 24 hours, change-feed rows past
 * their retention. Each is small and best effort: a job the writer cannot
 * take now is tried again at the next sweep.
 * Runs on: the loop thread (jobs on the writer thread).
 */
#include "upkeep.h"

#include <stdlib.h>

#include "alloc.h"
#include "clock.h"
#include "dg.h"
#include "documents.h"
#include "log.h"
#include "store.h"
#include "writer.h"

struct touch_job {
    dg_job job;
    int64_t session_id;
    int64_t at;
};

static void touch_run(dg_job *job, void *ctx)
{
    struct touch_job *t = (struct touch_job *)job;
    dg_wtx *tx = ctx;

    job->rc = dg_store_session_touch(tx->store, t->session_id, t->at);
}

static void touch_done(dg_job *job)
{
    if (job->rc != DG_OK && job->rc != DG_EREADONLY && job->rc != DG_ENOSPC)
        dg_log_warn("server", "msg=\"cannot record session activity\" error=\"%s\"",
                    dg_strerror(job->rc));
    free(job);
}

/* Persists a session's last activity when the store is more than a minute
 * behind, so idle expiry survives a reconnect. Bookkeeping, not a change of
 * user data: no audit record. */
void dg_upkeep_session(dg_server *srv, dg_session *s)
{
    int64_t active = dg_session_last_active(s);
    struct touch_job *t;

    DG_ASSERT_LOOP_THREAD();
    /* id 0: a session that was never stored (see h_login.c) */
    if (active - s->persisted_seen_at < DG_UPKEEP_EVERY_MS || dg_session_is_revoked(s) ||
        s->id == 0)
        return;
    s->persisted_seen_at = active;
    t = dg_xcalloc(1, sizeof *t);
    t->session_id = s->id;
    t->at = active;
    t->job.run = touch_run;
    t->job.done = touch_done;
    if (dg_server_write(srv, &t->job) != DG_OK)
        free(t); /* best effort: the next touch or the next login catches up */
}

/* Idempotency keys are kept 24 hours (proto/dangan.proto); drop older ones
 * in small batches so the writer is never held up. */
#define IDEM_KEEP_MS (24 * 3600 * 1000LL)

/* An upload of a document not finished within a week is abandoned: its
 * bytes go, a few uploads per sweep (docs/protocol.md, "Documents"). */
#define UPLOAD_KEEP_MS (7 * 24 * 3600 * 1000LL)

struct prune_job {
    dg_job job;
    int64_t before, now;
};

static void prune_run(dg_job *job, void *ctx)
{
    struct prune_job *p = (struct prune_job *)job;
    dg_wtx *tx = ctx;
    int n;

    job->rc = dg_store_idem_prune(tx->store, p->before, 1000);
    if (job->rc == DG_OK)
        job->rc = dg_doc_prune_uploads(tx->store, p->now, UPLOAD_KEEP_MS, 4, &n);
}

static void prune_done(dg_job *job)
{
    if (job->rc != DG_OK && job->rc != DG_EREADONLY && job->rc != DG_ENOSPC)
        dg_log_warn("server",
                    "msg=\"cannot prune idempotency keys or abandoned uploads\" error=\"%s\"",
                    dg_strerror(job->rc));
    free(job);
}

void dg_upkeep_prune_idempotency_keys(dg_server *srv)
{
    struct prune_job *p = dg_xcalloc(1, sizeof *p);

    DG_ASSERT_LOOP_THREAD();
    p->now = dg_now_ms();
    p->before = p->now - IDEM_KEEP_MS;
    p->job.run = prune_run;
    p->job.done = prune_done;
    if (dg_server_write(srv, &p->job) != DG_OK)
        free(p); /* the next sweep tries again */
}

/* Change-feed retention, a small batch per sweep: a client away longer than
 * that gets ResyncRequired, never a silent jump (docs/protocol.md). */
#define PRUNE_BATCH 1000

struct feed_prune {
    dg_job job;
    int64_t before, keep;
    int n;
};

static void feed_prune_run(dg_job *job, void *ctx)
{
    struct feed_prune *p = (struct feed_prune *)job;
    dg_wtx *tx = ctx;

    job->rc = dg_store_changes_prune(tx->store, p->before, p->keep, PRUNE_BATCH, &p->n);
}

static void feed_prune_done(dg_job *job)
{
    struct feed_prune *p = (struct feed_prune *)job;

    if (job->rc != DG_OK && job->rc != DG_EREADONLY && job->rc != DG_ENOSPC)
        dg_log_warn("feed", "msg=\"cannot prune the change feed\" error=\"%s\"",
                    dg_strerror(job->rc));
    else if (p->n)
        dg_log_debug("feed", "msg=\"pruned the change feed\" rows=%d", p->n);
    free(p);
}

void dg_upkeep_prune_feed(dg_server *srv)
{
    struct feed_prune *p = dg_xcalloc(1, sizeof *p);

    DG_ASSERT_LOOP_THREAD();
    p->before = dg_now_ms() - (int64_t)dg_server_config(srv)->feed_retention_days * 86400000;
    p->keep = dg_server_config(srv)->feed_retention_changes;
    p->job.run = feed_prune_run;
    p->job.done = feed_prune_done;
    if (dg_server_write(srv, &p->job) != DG_OK)
        free(p); /* the next sweep tries again */
}
