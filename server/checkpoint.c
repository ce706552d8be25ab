/* checkpoint.c - a thread that runs passive WAL checkpoints four times a second.
 *
 * Owns: its database connection (opened read-write; it never writes rows) and
 * the thread. Runs on: its own thread; start/stop on the loop thread.
 */
#include "checkpoint.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "alloc.h"
#include "dg.h"
#include "log.h"
#include "store.h"

#define PERIOD_MS 250

struct dg_checkpointer {
    dg_store *st;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool is_stopping;
};

static void run_once(dg_checkpointer *c)
{
    int wal = 0, done = 0;

    if (dg_store_checkpoint(c->st, &wal, &done) != DG_OK)
        dg_log_warn("checkpoint", "msg=\"WAL checkpoint failed\" error=\"%s\"",
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
