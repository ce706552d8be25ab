/* server.c - the server's shared state as others may see it: read-only
 * accessors, and the job queues (readers, hashers, writer) with each loop's
 * count of jobs in flight that shutdown waits for; cheap reads run on the
 * loop's own connection, and records of reads go to the writer a loop
 * iteration's worth at a time; commits go to every loop's feed. serve.c
 * makes and runs the server and its loops.
 * Runs on: any loop thread, for that thread's loop (tl_loop), except the team
 * settings (any thread) and records_run (the writer).
 */
#include "server.h"

#include <stdlib.h>

#include "alloc.h"
#include "dg.h"
#include "server_int.h"
#include "store.h"

#define RECORDS_MAX 256 /* records of reads in one writer job */

static _Thread_local struct dg_loop *tl_loop; /* the loop this thread runs */

void dg_server_enter_loop(struct dg_loop *l)
{
    tl_loop = l;
}

struct dg_loop *dg_server_current_loop(void)
{
    dg_assert(tl_loop);
    return tl_loop;
}

const dg_config *dg_server_config(const dg_server *srv)
{
    return &srv->cfg;
}

uv_loop_t *dg_server_loop(dg_server *srv)
{
    DG_UNUSED(srv);
    return &dg_server_current_loop()->uv;
}

unsigned dg_server_loop_index(dg_server *srv)
{
    DG_UNUSED(srv);
    return dg_server_current_loop()->index;
}

unsigned dg_server_n_loops(const dg_server *srv)
{
    return srv->n_loops;
}

const char *dg_server_id(const dg_server *srv)
{
    return srv->server_id;
}

uint64_t dg_server_feed_epoch(const dg_server *srv)
{
    return srv->feed_epoch;
}

uint32_t dg_server_password_min_len(const dg_server *srv)
{
    return srv->password_min_len;
}

uint32_t dg_server_restricted_tiers(const dg_server *srv)
{
    return srv->restricted_tiers;
}

void dg_server_team(dg_server *srv, dg_team *out)
{
    uv_mutex_lock(&srv->team_lock);
    *out = srv->team;
    uv_mutex_unlock(&srv->team_lock);
}

void dg_server_set_team(dg_server *srv, const dg_team *team)
{
    uv_mutex_lock(&srv->team_lock);
    srv->team = *team;
    uv_mutex_unlock(&srv->team_lock);
}

void dg_server_team_meta(dg_server *srv, dg_team *out, dg_team_meta *meta)
{
    uv_mutex_lock(&srv->team_lock);
    *out = srv->team;
    *meta = srv->team_meta;
    uv_mutex_unlock(&srv->team_lock);
}

void dg_server_set_team_meta(dg_server *srv, const dg_team *team, const dg_team_meta *meta)
{
    uv_mutex_lock(&srv->team_lock);
    srv->team = *team;
    srv->team_meta = *meta;
    uv_mutex_unlock(&srv->team_lock);
}

const char *dg_server_dummy_hash(const dg_server *srv)
{
    return srv->dummy_hash;
}

bool dg_server_is_draining(const dg_server *srv)
{
    return __atomic_load_n(&srv->is_draining, __ATOMIC_ACQUIRE);
}

bool dg_server_is_read_only(const dg_server *srv)
{
    return dg_writer_is_readonly(srv->writer);
}

dg_sessions *dg_server_sessions(dg_server *srv)
{
    return srv->sessions;
}

struct dg_throttle *dg_server_throttle(dg_server *srv)
{
    return srv->throttle;
}

struct dg_peers *dg_server_peers(dg_server *srv)
{
    return srv->peers;
}

struct dg_users *dg_server_users(dg_server *srv)
{
    return srv->users;
}

struct dg_feed *dg_server_feed(dg_server *srv)
{
    DG_UNUSED(srv);
    return dg_server_current_loop()->feed;
}

int64_t dg_server_feed_head(const dg_server *srv)
{
    return __atomic_load_n(&srv->feed_head, __ATOMIC_ACQUIRE);
}

struct dg_audit_later *dg_server_audit_later(dg_server *srv)
{
    return srv->audit_later;
}

struct dg_tls_conf *dg_server_tls(dg_server *srv)
{
    DG_UNUSED(srv);
    return dg_server_current_loop()->tls;
}

struct dg_conns *dg_server_conns(dg_server *srv)
{
    DG_UNUSED(srv);
    return dg_server_current_loop()->conns;
}

dg_conns_total *dg_server_conns_total(dg_server *srv)
{
    return &srv->conns_total;
}

uint32_t dg_server_connections(dg_server *srv)
{
    return __atomic_load_n(&srv->conns_total.n, __ATOMIC_RELAXED);
}

int64_t dg_server_started_at(const dg_server *srv)
{
    return srv->started_at;
}

void dg_server_last_backup(dg_server *srv, dg_backup_status *out)
{
    uv_mutex_lock(&srv->state_lock);
    *out = srv->last_backup;
    uv_mutex_unlock(&srv->state_lock);
}

void dg_server_set_last_backup(dg_server *srv, const dg_backup_status *st)
{
    uv_mutex_lock(&srv->state_lock);
    srv->last_backup = *st;
    uv_mutex_unlock(&srv->state_lock);
}

/* A job leaving this loop: it comes back to this loop, counted there. */
static struct dg_loop *leaving(dg_job *job)
{
    struct dg_loop *l = dg_server_current_loop();

    job->back = l->done;
    return l;
}

int dg_server_background(dg_server *srv, dg_job *job)
{
    struct dg_loop *l = leaving(job);
    int rc = dg_pool_submit(srv->background, job);

    DG_ASSERT_LOOP_THREAD();
    if (rc == DG_OK)
        l->n_jobs++;
    return rc;
}

int dg_server_read(dg_server *srv, dg_job *job)
{
    struct dg_loop *l = leaving(job);
    int rc = dg_pool_submit(srv->readers, job);

    DG_ASSERT_LOOP_THREAD();
    if (rc == DG_OK)
        l->n_jobs++;
    return rc;
}

int dg_server_hash(dg_server *srv, dg_job *job)
{
    struct dg_loop *l = leaving(job);
    int rc = dg_pool_submit(srv->hashers, job);

    DG_ASSERT_LOOP_THREAD();
    if (rc == DG_OK)
        l->n_jobs++;
    return rc;
}

int dg_server_read_here(dg_server *srv, dg_job *job)
{
    struct dg_loop *l = dg_server_current_loop();

    DG_ASSERT_LOOP_THREAD();
    if (!l->store)
        return dg_server_read(srv, job);
    job->rc = DG_OK;
    job->run(job, l->store);
    if (job->rc == DG_EBUSY) /* a reader may wait for the lock; the loop does not */
        return dg_server_read(srv, job);
    job->done(job); /* may free the job */
    return DG_OK;
}

static int submit_write(dg_server *srv, dg_job *job, bool is_record_of_read, bool is_derived)
{
    struct dg_loop *l = leaving(job);
    int rc;

    job->is_record_of_read = is_record_of_read;
    job->is_derived = is_derived;
    if (!is_derived && dg_writer_is_readonly(srv->writer))
        return DG_EREADONLY;
    rc = dg_writer_submit(srv->writer, job);
    if (rc == DG_OK)
        l->n_jobs++;
    return rc;
}

int dg_server_write(dg_server *srv, dg_job *job)
{
    DG_ASSERT_LOOP_THREAD();
    return submit_write(srv, job, false, false);
}

int dg_server_write_record_of_read(dg_server *srv, dg_job *job)
{
    DG_ASSERT_LOOP_THREAD();
    return submit_write(srv, job, true, false);
}

/* Writer thread: the index takes in search_queue inside the batch (the job's
 * own savepoint); the search documents of the batch's other jobs stay
 * queued for later. */
static void search_catch_up_run(dg_job *job, void *ctx)
{
    const dg_wtx *tx = ctx;

    job->rc = dg_store_search_apply(tx->store);
}

bool dg_server_search_is_behind(dg_server *srv)
{
    return dg_writer_search_queued(srv->writer) > 0;
}

int dg_server_search_catch_up(dg_server *srv, dg_job *job)
{
    DG_ASSERT_LOOP_THREAD();
    job->run = search_catch_up_run;
    /* derived data from committed rows: no fsync to wait for, and it runs
     * on a read-only writer too, since the records it indexes are there
     * for every other read */
    return submit_write(srv, job, false, true);
}

int dg_server_read_in_writer(dg_server *srv, dg_job *job)
{
    DG_ASSERT_LOOP_THREAD();
    job->is_alone = true; /* no other job's uncommitted rows in its transaction */
    return submit_write(srv, job, false, true);
}

/* ------------------------------------------------------------ records of reads, batched */

/* One writer job carrying the records of reads taken in one loop iteration,
 * linked through their own `next`. */
struct read_records {
    dg_job job;
    dg_job *head, *tail;
    size_t n;
};

/* Writer thread: every record in the job's one savepoint; the first that
 * fails (only the storage can fail an audit record) fails the job, and the
 * savepoint takes the others with it. */
static void records_run(dg_job *job, void *ctx)
{
    struct read_records *b = (struct read_records *)job;

    job->rc = DG_OK;
    for (dg_job *j = b->head; j && job->rc == DG_OK; j = j->next) {
        j->rc = DG_OK;
        j->run(j, ctx);
        job->rc = j->rc;
    }
}

static void records_done(dg_job *job)
{
    struct read_records *b = (struct read_records *)job;
    dg_job *j = b->head;
    int rc = job->rc;

    free(b);
    while (j) {
        dg_job *next = j->next;

        if (rc != DG_OK) /* rolled back with the batch, or never written */
            j->rc = rc;
        j->done(j); /* may free the job */
        j = next;
    }
}

static void records_flush(struct dg_loop *l)
{
    struct read_records *b = l->records;
    dg_server *srv = l->srv;
    int rc;

    if (!b)
        return;
    l->records = NULL;
    uv_check_stop(&l->records_check);
    uv_idle_stop(&l->records_idle);
    b->job.back = l->done;
    rc = dg_writer_is_readonly(srv->writer) ? DG_EREADONLY : dg_writer_submit(srv->writer, &b->job);
    if (rc != DG_OK) {
        l->n_jobs--;
        b->job.rc = rc;
        records_done(&b->job);
    }
}

static void records_check_cb(uv_check_t *h)
{
    records_flush(h->data);
}

static void records_idle_cb(uv_idle_t *h)
{
    DG_UNUSED(h); /* only there so that the poll does not block while a batch is open */
}

int dg_server_write_audit_only(dg_server *srv, dg_job *job)
{
    struct dg_loop *l = dg_server_current_loop();
    struct read_records *b = l->records;

    DG_ASSERT_LOOP_THREAD();
    job->is_record_of_read = true;
    job->next = NULL;
    if (dg_writer_is_readonly(srv->writer))
        return DG_EREADONLY;
    if (!b) {
        b = l->records = dg_xcalloc(1, sizeof *b);
        b->job.run = records_run;
        b->job.done = records_done;
        b->job.is_record_of_read = true;
        l->n_jobs++; /* shutdown waits for it from now on */
        uv_check_start(&l->records_check, records_check_cb);
        uv_idle_start(&l->records_idle, records_idle_cb);
    }
    if (b->tail)
        b->tail->next = job;
    else
        b->head = job;
    b->tail = job;
    if (++b->n >= RECORDS_MAX)
        records_flush(l);
    return DG_OK;
}

int dg_server_records_init(struct dg_loop *l)
{
    if (uv_check_init(&l->uv, &l->records_check) != 0 ||
        uv_idle_init(&l->uv, &l->records_idle) != 0)
        return DG_EIO;
    l->records_check.data = l->records_idle.data = l;
    return DG_OK;
}

static void records_closed_cb(uv_handle_t *h)
{
    DG_UNUSED(h);
}

void dg_server_records_close(struct dg_loop *l)
{
    records_flush(l); /* none is open once no job is left; keeps the contract if one is */
    uv_close((uv_handle_t *)&l->records_check, records_closed_cb);
    uv_close((uv_handle_t *)&l->records_idle, records_closed_cb);
}

/* ------------------------------------------------------------ commits to every loop */

void dg_server_take_commits(dg_server *srv)
{
    /* Under the lock from the take to the last post: two loops taking at
     * once would otherwise post their commits out of order. */
    uv_mutex_lock(&srv->inbox_lock);
    for (dg_committed *c = dg_writer_take_committed(srv->writer), *next; c; c = next) {
        next = c->next;
        c->next = NULL;
        if (c->head > srv->feed_head)
            __atomic_store_n(&srv->feed_head, c->head, __ATOMIC_RELEASE);
        for (unsigned i = 0; i < srv->n_loops; i++) {
            struct dg_loop *l = &srv->loops[i];
            struct dg_inbox_item *it;

            if (l->is_closed)
                continue;
            it = dg_xcalloc(1, sizeof *it);
            dg_committed_ref(c);
            it->c = c;
            *l->inbox_end = it;
            l->inbox_end = &it->next;
            if (l != tl_loop)
                uv_async_send(&l->wake); /* coalesces: one wake-up may carry several */
        }
        dg_committed_free(c); /* the taker's reference */
    }
    uv_mutex_unlock(&srv->inbox_lock);
}
