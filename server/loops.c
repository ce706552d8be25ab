/* loops.c - the server's event loops and their threads: see loops.h.
 *
 * Owns: each loop's uv loop, thread, wake-up handle, inbox and hand-over
 * queue, and the wiring of its connections to the dispatcher and its feed.
 * Threads: dg_loops_new, _open_*, _serve, _start_threads, _accept, _drain,
 * _close_conns, _sweep_now, _others_done, _abort and _free on loop 0;
 * everything a loop's callbacks do on that loop's thread.
 */
#include "loops.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "clock.h"
#include "conn.h"
#include "dg.h"
#include "dispatch.h"
#include "feed.h"
#include "log.h"
#include "remind.h"
#include "store.h"
#include "tls.h"

#define DRAIN_TICK_MS 20
#define SWEEP_MS 1000

/* Commands to a loop (struct dg_loop.command, bits). */
enum { LOOP_DRAIN = 1, LOOP_CLOSE_ALL = 2, LOOP_SWEEP = 4 };

/* Connections loop 0 accepted for a loop, under srv->inbox_lock. */
struct loop_handover {
    dg_conn_ticket *tickets;
    size_t n, cap;
};

/* ------------------------------------------------------------ jobs and commits */

/* What the writer committed since, and what other loops took for this one:
 * into this loop's feed (and, on loop 0, the reminders), in commit order. */
static void take_inbox(struct dg_loop *l)
{
    dg_server *srv = l->srv;
    struct dg_inbox_item *it;

    if (srv->writer)
        dg_server_take_commits(srv);
    uv_mutex_lock(&srv->inbox_lock);
    it = l->inbox;
    l->inbox = NULL;
    l->inbox_end = &l->inbox;
    uv_mutex_unlock(&srv->inbox_lock);
    while (it) {
        struct dg_inbox_item *next = it->next;

        if (l->index == 0 && srv->remind)
            dg_remind_committed(srv->remind, it->c);
        if (l->feed)
            dg_feed_committed(l->feed, it->c); /* takes the reference */
        else
            dg_committed_free(it->c);
        free(it);
        it = next;
    }
}

/* Before a loop runs the completions it woke for: the commits whose replies
 * they are reach its feed first. */
static void jobs_woke(void *ud)
{
    take_inbox(ud);
}

static void job_done(void *ud)
{
    struct dg_loop *l = ud;

    dg_assert(l->n_jobs > 0);
    l->n_jobs--;
    take_inbox(l); /* a commit may have added changes */
}

/* ------------------------------------------------------------ the layers' hooks */

static void conn_request(dg_req *req, void *ud)
{
    DG_UNUSED(ud);
    dg_dispatch(req);
}

static void conn_gone(dg_conn *c, void *ud)
{
    struct dg_loop *l = ud;

    if (l->feed)
        dg_feed_conn_gone(l->feed, c);
}

static void conn_drained(dg_conn *c, void *ud)
{
    struct dg_loop *l = ud;

    if (l->feed)
        dg_feed_conn_drained(l->feed, c);
}

/* ------------------------------------------------------------ wake-ups */

static void drain_cb(uv_timer_t *t);

static void drain_start(struct dg_loop *l, uv_timer_cb cb)
{
    if (l->is_draining)
        return;
    l->is_draining = true;
    l->drain_started_ms = dg_mono_ms();
    if (l->index == 0)
        uv_close((uv_handle_t *)&l->listener, NULL);
    uv_timer_stop(&l->sweep);
    dg_feed_stop(l->feed);
    dg_conns_pause_all(l->conns);
    uv_timer_start(&l->drain, cb, 0, DRAIN_TICK_MS);
}

static void wake_cb(uv_async_t *wake)
{
    struct dg_loop *l = wake->data;
    dg_server *srv = l->srv;
    int cmd = __atomic_exchange_n(&l->command, 0, __ATOMIC_ACQ_REL);
    struct loop_handover *h = l->handover;
    dg_conn_ticket t[16];
    size_t n;

    do { /* the connections handed over, in the order they came */
        uv_mutex_lock(&srv->inbox_lock);
        if ((n = DG_MIN(h->n, DG_ARRAY_LEN(t)))) {
            memcpy(t, h->tickets, n * sizeof *t);
            memmove(h->tickets, h->tickets + n, (h->n - n) * sizeof *t);
            h->n -= n;
        }
        uv_mutex_unlock(&srv->inbox_lock);
        for (size_t i = 0; i < n; i++) {
            if (l->is_draining)
                dg_conns_drop_ticket(l->conns, &t[i]);
            else
                dg_conns_adopt(l->conns, &t[i]);
        }
    } while (n);
    if (cmd & LOOP_DRAIN)
        drain_start(l, drain_cb);
    if (cmd & LOOP_CLOSE_ALL)
        dg_conns_close_all(l->conns);
    if (cmd & LOOP_SWEEP) {
        if (!l->is_draining)
            dg_conns_sweep(l->conns);
        uv_sem_post(&srv->swept);
    }
    take_inbox(l);
}

/* Asks loop `l` to do `cmd`; false when it has closed. */
static bool post(struct dg_loop *l, int cmd)
{
    bool is_open;

    uv_mutex_lock(&l->srv->inbox_lock);
    if ((is_open = !l->is_closed)) {
        __atomic_or_fetch(&l->command, cmd, __ATOMIC_ACQ_REL);
        uv_async_send(&l->wake);
    }
    uv_mutex_unlock(&l->srv->inbox_lock);
    return is_open;
}

static void sweep_cb(uv_timer_t *t)
{
    struct dg_loop *l = t->data;

    dg_conns_sweep(l->conns);
}

/* ------------------------------------------------------------ making them */

int dg_loops_new(dg_server *srv, unsigned n)
{
    srv->loops = dg_xcalloc(n, sizeof *srv->loops);
    for (unsigned i = 0; i < n; i++) {
        struct dg_loop *l = &srv->loops[i];
        int rc;

        l->srv = srv;
        l->index = i;
        l->inbox_end = &l->inbox;
        l->handover = dg_xcalloc(1, sizeof *l->handover);
        if (uv_loop_init(&l->uv) != 0)
            return DG_EIO;
        srv->n_loops = i + 1; /* dg_loops_abort closes the ones made */
        dg_server_enter_loop(&srv->loops[0]);
        if ((rc = dg_completions_new(&l->uv, job_done, l, &l->done)) != DG_OK ||
            (rc = dg_server_records_init(l)) != DG_OK)
            return rc;
        dg_completions_on_wake(l->done, jobs_woke);
        uv_async_init(&l->uv, &l->wake, wake_cb);
        uv_timer_init(&l->uv, &l->sweep);
        uv_timer_init(&l->uv, &l->drain);
        l->wake.data = l->sweep.data = l->drain.data = l;
    }
    dg_server_enter_loop(&srv->loops[0]);
    return DG_OK;
}

int dg_loops_open_store(dg_server *srv, const char *path)
{
    for (unsigned i = 0; i < srv->n_loops; i++) {
        char err[512];
        int rc = dg_store_open(path, false, &srv->loops[i].store, err, sizeof err);

        if (rc != DG_OK) {
            dg_log_error("server", "msg=\"cannot open a read connection\" error=\"%s\"", err);
            return rc;
        }
        /* the reads a loop runs itself never sleep on a lock (dg_server_read_here) */
        dg_store_never_wait(srv->loops[i].store);
    }
    return DG_OK;
}

int dg_loops_open_tls(dg_server *srv, const char *cert, const char *key)
{
    for (unsigned i = 0; i < srv->n_loops; i++) {
        char err[512];
        int rc = dg_tls_conf_new_server(cert, key, &srv->loops[i].tls, err, sizeof err);

        if (rc != DG_OK) {
            dg_log_error("server", "msg=\"cannot load TLS certificate and key\" error=\"%s\"", err);
            return rc;
        }
    }
    return DG_OK;
}

void dg_loops_serve(dg_server *srv, int64_t head, uint32_t max_conns, uv_stream_t *listener,
                    uv_timer_cb sweep0)
{
    for (unsigned i = 0; i < srv->n_loops; i++) {
        struct dg_loop *l = &srv->loops[i];

        dg_server_enter_loop(l); /* what the feed and the table make is this loop's */
        l->feed = dg_feed_new(srv, head);
        l->conns = dg_conns_new(srv, i == 0 ? listener : NULL, max_conns,
                                &(dg_conn_hooks){conn_request, conn_gone, conn_drained, l});
        uv_timer_start(&l->sweep, i == 0 ? sweep0 : sweep_cb, SWEEP_MS, SWEEP_MS);
    }
    dg_server_enter_loop(&srv->loops[0]);
}

static void loop_main(void *arg)
{
    struct dg_loop *l = arg;
    char name[16];

    dg_thread_set_role(DG_THREAD_LOOP);
    dg_server_enter_loop(l);
    snprintf(name, sizeof name, "dg-loop%u", l->index);
    pthread_setname_np(pthread_self(), name);
    uv_run(&l->uv, UV_RUN_DEFAULT);
    __atomic_store_n(&l->is_done, 1, __ATOMIC_RELEASE);
}

int dg_loops_start_threads(dg_server *srv)
{
    for (unsigned i = 1; i < srv->n_loops; i++) {
        struct dg_loop *l = &srv->loops[i];

        if (uv_thread_create(&l->thread, loop_main, l) != 0) {
            dg_log_error("server", "msg=\"cannot start a loop thread\" loop=%u", i);
            return DG_EIO;
        }
        l->has_thread = true;
    }
    return DG_OK;
}

/* ------------------------------------------------------------ serving */

void dg_loops_accept(dg_server *srv)
{
    struct dg_loop *l0 = &srv->loops[0], *l = &srv->loops[srv->next_loop++ % srv->n_loops];
    struct loop_handover *h = l->handover;
    dg_conn_ticket t;

    if (l == l0) {
        dg_conns_accept(l0->conns);
        return;
    }
    if (!dg_conns_hand_over(l0->conns, &t))
        return;
    uv_mutex_lock(&srv->inbox_lock);
    if (l->is_closed) {
        uv_mutex_unlock(&srv->inbox_lock);
        dg_conns_drop_ticket(l0->conns, &t);
        return;
    }
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 16;
        h->tickets = dg_xrealloc(h->tickets, h->cap * sizeof *h->tickets);
    }
    h->tickets[h->n++] = t;
    uv_async_send(&l->wake);
    uv_mutex_unlock(&srv->inbox_lock);
}

void dg_loops_sweep_now(dg_server *srv)
{
    unsigned n = 0;

    for (unsigned i = 1; i < srv->n_loops; i++)
        n += post(&srv->loops[i], LOOP_SWEEP);
    while (n--) /* they never wait for loop 0: a short block */
        uv_sem_wait(&srv->swept);
}

/* ------------------------------------------------------------ shutdown */

void dg_loops_drain(dg_server *srv, uv_timer_cb drain0)
{
    drain_start(&srv->loops[0], drain0);
    for (unsigned i = 1; i < srv->n_loops; i++)
        post(&srv->loops[i], LOOP_DRAIN);
}

void dg_loops_close_conns(dg_server *srv)
{
    dg_conns_close_all(srv->loops[0].conns);
    for (unsigned i = 1; i < srv->n_loops; i++)
        post(&srv->loops[i], LOOP_CLOSE_ALL);
}

bool dg_loop_drained(struct dg_loop *l)
{
    int64_t waited = dg_mono_ms() - l->drain_started_ms;
    uint64_t n_requests = dg_conns_requests(l->conns);

    if (dg_conns_count(l->conns) && (n_requests == 0 || waited > l->srv->cfg.shutdown_grace_ms)) {
        if (n_requests)
            dg_log_warn("server",
                        "msg=\"shutdown grace period over; closing connections\" loop=%u "
                        "requests_in_flight=%" PRIu64,
                        l->index, n_requests);
        dg_conns_close_all(l->conns);
    }
    return dg_conns_count(l->conns) == 0 && dg_conns_requests(l->conns) == 0 && l->n_jobs == 0;
}

static void drain_cb(uv_timer_t *t)
{
    struct dg_loop *l = t->data;

    if (!dg_loop_drained(l))
        return;
    uv_timer_stop(t);
    dg_loop_close(l); /* the loop runs out, its thread ends */
}

bool dg_loops_others_done(dg_server *srv)
{
    for (unsigned i = 1; i < srv->n_loops; i++)
        if (srv->loops[i].has_thread && !__atomic_load_n(&srv->loops[i].is_done, __ATOMIC_ACQUIRE))
            return false;
    for (unsigned i = 1; i < srv->n_loops; i++) {
        if (srv->loops[i].has_thread)
            uv_thread_join(&srv->loops[i].thread);
        srv->loops[i].has_thread = false;
    }
    return true;
}

static void closed_noop(uv_handle_t *h)
{
    DG_UNUSED(h);
}

void dg_loop_close(struct dg_loop *l)
{
    dg_server *srv = l->srv;
    struct dg_inbox_item *it;

    dg_server_records_close(l);
    dg_store_close(l->store);
    l->store = NULL;
    dg_completions_close(l->done); /* the last completions */
    l->done = NULL;
    uv_mutex_lock(&srv->inbox_lock);
    l->is_closed = true;
    it = l->inbox;
    l->inbox = NULL;
    l->inbox_end = &l->inbox;
    while (l->handover->n) /* none can come after the drain: kept for the contract */
        dg_conns_drop_ticket(l->conns, &l->handover->tickets[--l->handover->n]);
    uv_mutex_unlock(&srv->inbox_lock);
    while (it) {
        struct dg_inbox_item *next = it->next;

        dg_committed_free(it->c);
        free(it);
        it = next;
    }
    dg_feed_free(l->feed);
    l->feed = NULL;
    uv_close((uv_handle_t *)&l->wake, closed_noop);
    uv_close((uv_handle_t *)&l->sweep, closed_noop);
    uv_close((uv_handle_t *)&l->drain, closed_noop);
}

static void close_walk_cb(uv_handle_t *h, void *arg)
{
    DG_UNUSED(arg);
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

void dg_loops_abort(dg_server *srv)
{
    for (unsigned i = 0; i < srv->n_loops; i++) {
        struct dg_loop *l = &srv->loops[i];

        dg_server_enter_loop(l);
        dg_store_close(l->store);
        l->store = NULL;
        if (l->done)
            dg_completions_close(l->done);
        l->done = NULL;
        /* The feed frees itself in its handles' close callbacks: it closes
         * them here, before the walk below closes whatever is left without one. */
        dg_feed_free(l->feed);
        l->feed = NULL;
        uv_mutex_lock(&srv->inbox_lock);
        l->is_closed = true;
        uv_mutex_unlock(&srv->inbox_lock);
        uv_walk(&l->uv, close_walk_cb, NULL);
        uv_run(&l->uv, UV_RUN_DEFAULT);
    }
    if (srv->n_loops)
        dg_server_enter_loop(&srv->loops[0]);
}

bool dg_loops_free(dg_server *srv)
{
    bool is_ok = true;

    for (unsigned i = 0; i < srv->n_loops; i++) {
        struct dg_loop *l = &srv->loops[i];

        if (uv_loop_close(&l->uv) != 0) {
            dg_log_error("server", "msg=\"event loop still had open handles at exit\" loop=%u", i);
            is_ok = false;
        }
        dg_conns_free(l->conns);
        dg_tls_conf_free(l->tls);
        if (l->handover)
            free(l->handover->tickets);
        free(l->handover);
    }
    free(srv->loops);
    srv->loops = NULL;
    srv->n_loops = 0;
    return is_ok;
}
