/* checkpoint.c - a thread that runs passive WAL checkpoints four times a
 * second, and starts the WAL over when it has grown past RESTART_FRAMES.
 *
 * A passive checkpoint that does not catch up with the writer (under steady
 * writes, none does) copies pages into the database file but leaves them to
 * the kernel: SQLite syncs the file only when a checkpoint is complete. The
 * writer's WAL restart (writer.c, bound_wal) then waited for every page
 * copied since the last one: 70-90 ms of fdatasync every second or two at
 * 1,000 updates/s, during which no commit went out. So after each
 * checkpoint that copied pages this thread syncs the database file itself,
 * off the writer's path, and the restart finds little left (about 30 ms in
 * all).
 *
 * This sync only moves work earlier; durability does not rest on it. A
 * passive checkpoint records the frames it copied as done before anything
 * is synced, so a failed sync here is not retried by SQLite: what keeps the
 * data is the WAL, which holds every frame until the writer's restart, and
 * the restart syncs the database file before it lets the WAL start over
 * (and fails, keeping the WAL, when that sync fails). Linux reports a
 * writeback error once to each open description of the file, so after a
 * failed sync this thread checkpoints no more: its next, "complete"
 * checkpoint would sync cleanly on a descriptor that has had its error, and
 * let the WAL go. The writer's restarts, on their own descriptor, see it.
 *
 * Owns: its database connection (opened read-write; it never writes rows)
 * and the thread. It syncs through that connection's own file handle: a
 * second descriptor of its own, once closed, would drop SQLite's POSIX locks.
 * Runs on: its own thread; start/stop on the loop thread.
 */
#include "checkpoint.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "alloc.h"
#include "dg.h"
#include "log.h"
#include "store.h"

#define PERIOD_MS 250
/* The WAL starts over (next commit from its beginning) past this many frames
 * (64 MiB of 4 KiB pages), once passes have left at most RESTART_LAG_FRAMES
 * to copy; the writer's own restart (writer.c) is the backstop, further on. */
#define RESTART_FRAMES 16384
#define RESTART_LAG_FRAMES 512
#define RESTART_PASSES 8
#define RESTART_WAIT_MS 20 /* for the writer's lock, then for readers of the old log */

struct dg_checkpointer {
    dg_store *st;
    int wal_frames;  /* the WAL's size at the last checkpoint */
    int done_frames; /* and how much of it was copied then */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool is_stopping;
    bool is_failed;           /* a sync failed: no more checkpoints until restart */
    bool is_disk_full;        /* the last checkpoint found no room to grow the file */
    atomic_uint n_restarts;   /* WAL restarts made here (dg_checkpointer_restarts) */
    uint64_t n_asked, n_done; /* under mu: rounds asked for (dg_checkpointer_round), done */
};

/* One passive checkpoint and, when it copied pages, a sync of the database
 * file. False when checkpoints must wait (disk full) or stop (failed). */
static bool pass(dg_checkpointer *c, int *wal, int *done)
{
    int rc;
    bool copied;

    if ((rc = dg_store_checkpoint(c->st, wal, done)) == DG_ENOSPC) {
        /* The database file could not grow: nothing is lost (the WAL keeps
         * every frame) and the next round tries again. Said once. */
        if (!c->is_disk_full)
            dg_log_warn("checkpoint", "msg=\"disk full: WAL checkpoints wait for space\"");
        c->is_disk_full = true;
        return false;
    }
    c->is_disk_full = false;
    if (rc != DG_OK) {
        /* SQLite's own sync, ending a complete checkpoint, failed */
        c->is_failed = rc == DG_EIO;
        dg_log_error("checkpoint", "msg=\"WAL checkpoint failed%s\" error=\"%s\"",
                     c->is_failed ? "; checkpoints stop until restart, the WAL keeps the data" : "",
                     dg_store_errmsg(c->st));
        return false;
    }
    /* Copied something since last time: more done, or a WAL that started
     * over (smaller) and has been copied from again. */
    copied = *done > 0 && (*done != c->done_frames || *wal < c->wal_frames);
    if (copied && dg_store_sync_db_file(c->st) != DG_OK) {
        dg_log_error("checkpoint",
                     "msg=\"checkpoints stop until restart, the WAL keeps the data\" error=\"%s\"",
                     dg_store_errmsg(c->st));
        c->is_failed = true;
    }
    c->wal_frames = *wal;
    c->done_frames = *done;
    return !c->is_failed;
}

/* A WAL past RESTART_FRAMES starts over here, off the writer's path: passes
 * until what is left to copy is small (each copies what the writer added
 * during the one before, so they shrink), then a RESTART checkpoint, which
 * holds the writer's lock only for that little copy and a short sync. */
static void run_once(dg_checkpointer *c)
{
    int wal = 0, done = 0, rc;

    if (c->is_failed || !pass(c, &wal, &done) || wal < RESTART_FRAMES)
        return;
    for (int i = 0; i < RESTART_PASSES && wal - done > RESTART_LAG_FRAMES; i++)
        if (!pass(c, &wal, &done))
            return;
    if (wal - done > RESTART_LAG_FRAMES)
        return; /* the writer outruns the copying: its own restart bounds the WAL */
    rc = dg_store_checkpoint_restart(c->st, RESTART_WAIT_MS);
    if (rc == DG_OK) {
        c->wal_frames = c->done_frames = 0;
        atomic_fetch_add(&c->n_restarts, 1);
    } else if (rc == DG_EIO)
        c->is_failed = true; /* as a failed sync: the writer's restarts see it */
    if (rc != DG_OK && rc != DG_EBUSY && rc != DG_ENOSPC)
        dg_log_error("checkpoint", "msg=\"WAL restart failed\" error=\"%s\"",
                     dg_store_errmsg(c->st));
}

static void *checkpoint_main(void *arg)
{
    dg_checkpointer *c = arg;

    dg_thread_set_role(DG_THREAD_WORKER);
    pthread_setname_np(pthread_self(), "dg-checkpoint");
    pthread_mutex_lock(&c->mu);
    while (!c->is_stopping) {
        struct timespec until;
        int rc = 0;

        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += PERIOD_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        while (!c->is_stopping && c->n_asked == c->n_done && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&c->cond, &c->mu, &until);
        if (c->is_stopping)
            break;
        uint64_t asked = c->n_asked;

        pthread_mutex_unlock(&c->mu);
        run_once(c);
        pthread_mutex_lock(&c->mu);
        c->n_done = asked;
        pthread_cond_broadcast(&c->cond);
    }
    pthread_mutex_unlock(&c->mu);
    run_once(c);
    return NULL;
}

void dg_checkpointer_round(dg_checkpointer *c)
{
    pthread_mutex_lock(&c->mu);
    uint64_t want = ++c->n_asked;

    pthread_cond_broadcast(&c->cond);
    while (c->n_done < want && !c->is_stopping)
        pthread_cond_wait(&c->cond, &c->mu);
    pthread_mutex_unlock(&c->mu);
}

int dg_checkpointer_start(const char *db_path, dg_checkpointer **out)
{
    dg_checkpointer *c = dg_xcalloc(1, sizeof *c);
    char err[512];
    int rc;

    *out = NULL;
    if ((rc = dg_store_open(db_path, true, &c->st, err, sizeof err)) != DG_OK) {
        dg_log_error("checkpoint", "msg=\"cannot open the database\" error=\"%s\"", err);
        free(c);
        return rc;
    }
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cond, NULL);
    if (pthread_create(&c->thread, NULL, checkpoint_main, c) != 0) {
        dg_store_close(c->st);
        pthread_cond_destroy(&c->cond);
        pthread_mutex_destroy(&c->mu);
        free(c);
        return DG_EIO;
    }
    *out = c;
    return DG_OK;
}

void dg_checkpointer_stop(dg_checkpointer *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->is_stopping = true;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    dg_store_close(c->st);
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

unsigned dg_checkpointer_restarts(dg_checkpointer *c)
{
    return atomic_load(&c->n_restarts);
}
