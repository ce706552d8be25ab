/* checkpoint.c - a thread that runs passive WAL checkpoints four times a second.
 *
 * A passive checkpoint that does not catch up with the writer (under steady
 * writes, none does) copies pages into the database file but leaves them to
 * the kernel: SQLite syncs the file only when a checkpoint is complete. The
 * writer's WAL restart (writer.c, bound_wal) then waited for every page
 * copied since the last one: 70-90 ms of fdatasync every second or two at
 * 1,000 updates/s, during which no commit went out. So after each
 * checkpoint that copied pages this thread syncs the database file itself,
 * off the writer's path, and the restart finds little left (about 30 ms in
 * all). What is durable when does not change: the WAL holds every page
 * until a restart, which syncs again.
 *
 * Owns: its database connection (opened read-write; it never writes rows), a
 * read-only descriptor of the database file, and the thread.
 * Runs on: its own thread; start/stop on the loop thread.
 */
#include "checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "dg.h"
#include "log.h"
#include "store.h"

#define PERIOD_MS 250

struct dg_checkpointer {
    dg_store *st;
    int db_fd;       /* the database file, to sync; -1: none */
    int done_frames; /* WAL frames copied as of the last checkpoint */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool is_stopping;
};

static void run_once(dg_checkpointer *c)
{
    int wal = 0, done = 0;

    if (dg_store_checkpoint(c->st, &wal, &done) != DG_OK) {
        dg_log_warn("checkpoint", "msg=\"WAL checkpoint failed\" error=\"%s\"",
                    dg_store_errmsg(c->st));
        return;
    }
    /* A failure here is not swallowed for SQLite: Linux reports a writeback
     * error to every open description of the file, so SQLite's own sync
     * fails too and the frames are copied again. */
    if (done != c->done_frames && done > 0 && c->db_fd >= 0 && fdatasync(c->db_fd) != 0)
        dg_log_error("checkpoint", "msg=\"cannot sync the database file\" error=\"%s\"",
                     strerror(errno));
    c->done_frames = done;
}

static void *checkpoint_main(void *arg)
{
    dg_checkpointer *c = arg;

    dg_thread_set_role(DG_THREAD_WORKER);
    pthread_setname_np(pthread_self(), "dg-checkpoint");
    pthread_mutex_lock(&c->mu);
    while (!c->is_stopping) {
        struct timespec until;

        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += PERIOD_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        if (pthread_cond_timedwait(&c->cond, &c->mu, &until) == ETIMEDOUT) {
            pthread_mutex_unlock(&c->mu);
            run_once(c);
            pthread_mutex_lock(&c->mu);
        }
    }
    pthread_mutex_unlock(&c->mu);
    run_once(c);
    return NULL;
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
    c->db_fd = open(db_path, O_RDONLY | O_CLOEXEC); /* none: the restart syncs it all */
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cond, NULL);
    if (pthread_create(&c->thread, NULL, checkpoint_main, c) != 0) {
        if (c->db_fd >= 0)
            close(c->db_fd);
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
    if (c->db_fd >= 0)
        close(c->db_fd);
    dg_store_close(c->st);
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->mu);
    free(c);
}
