/* watcher.c - see watcher.h. Runs on its thread. */
#include "watcher.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "alloc.h"
#include "clock.h"
#include "dg.h"

#define SWEEP_US 500000 /* every client polled at least this often */
#define MAX_READY 64

struct dg_watchers {
    int n;
    dg_client **clients;
    dg_bench_op_result res;
    bool is_counting;
};

static void on_event(dg_client *c, const Dangan__V1__Event *ev, void *user)
{
    dg_watchers *w = user;
    int64_t lat;

    (void)c;
    if (!w->is_counting || ev->body_case != DANGAN__V1__EVENT__BODY_CHANGE)
        return;
    /* From the commit; an event without its commit time (read back from
     * the table) counts from when the server took the change: longer. */
    lat = dg_now_us() - (ev->change->committed_at_us ? ev->change->committed_at_us
                                                   : ev->change->at_ms * 1000);
    dg_hist_record(w->res.hist, lat > 0 ? lat : 0);
    w->res.count++;
}

dg_watchers *dg_watchers_new(int n)
{
    dg_watchers *w = dg_xcalloc(1, sizeof *w);

    w->n = n;
    w->clients = dg_xcalloc((size_t)n, sizeof *w->clients);
    w->res.hist = dg_hist_new();
    return w;
}

void dg_watchers_free(dg_watchers *w)
{
    if (!w)
        return;
    for (int i = 0; i < w->n; i++)
        dg_client_close(w->clients[i]);
    free(w->clients);
    dg_hist_free(w->res.hist);
    free(w);
}

static int subscribe(dg_client *c, char *err, size_t err_len)
{
    Dangan__V1__SubscribeRequest m = DANGAN__V1__SUBSCRIBE_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    const Dangan__V1__Response *resp;
    dg_reply *r;
    int rc;

    req.body_case = DANGAN__V1__REQUEST__BODY_SUBSCRIBE;
    req.subscribe = &m; /* everything, from now */
    if ((rc = dg_client_call(c, &req, &r)) != DG_OK) {
        snprintf(err, err_len, "cannot subscribe: %s", dg_client_errmsg(c));
        return rc;
    }
    resp = dg_reply_response(r);
    if (!resp->status || resp->status->code != DANGAN__V1__CODE__OK) {
        snprintf(err, err_len, "cannot subscribe: %s",
                 resp->status ? resp->status->message : "no status");
        rc = DG_EPROTO;
    }
    dg_reply_free(r);
    return rc;
}

int dg_watchers_open(dg_watchers *w, const dg_bench_opts *o, const char *token, char *err,
                     size_t err_len)
{
    for (int i = 0; i < w->n; i++) {
        int rc = dg_bench_resume_ev(o, token, on_event, w, &w->clients[i], err, err_len);

        if (rc == DG_OK)
            rc = subscribe(w->clients[i], err, err_len);
        if (rc != DG_OK)
            return rc;
    }
    return DG_OK;
}

static void lost(dg_watchers *w, int i)
{
    w->res.errors++;
    dg_bench_note_error(&w->res, "connection lost");
    dg_client_close(w->clients[i]);
    w->clients[i] = NULL;
}

static void poll_one(dg_watchers *w, int i)
{
    if (w->clients[i] && dg_client_poll(w->clients[i], 0) == DG_ECLOSED)
        lost(w, i);
}

void dg_watchers_run(dg_watchers *w, int64_t from_us, int64_t until_us)
{
    struct epoll_event ready[MAX_READY];
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int64_t now, next_sweep = 0;

    if (ep < 0) {
        dg_bench_note_error(&w->res, "epoll_create1 failed");
        w->res.errors++;
        return;
    }
    for (int i = 0; i < w->n; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};

        if (epoll_ctl(ep, EPOLL_CTL_ADD, dg_client_fd(w->clients[i]), &ev) != 0)
            lost(w, i);
    }
    while ((now = dg_mono_us()) < until_us) {
        int n = epoll_wait(ep, ready, MAX_READY, 50);

        w->is_counting = now >= from_us;
        for (int k = 0; k < n; k++)
            poll_one(w, (int)ready[k].data.u32);
        if (n < 0 && errno != EINTR)
            break;
        if (now >= next_sweep) { /* timers: keepalive, reconnects */
            for (int i = 0; i < w->n; i++)
                poll_one(w, i);
            next_sweep = now + SWEEP_US;
        }
    }
    close(ep);
}

void dg_watchers_merge(const dg_watchers *w, dg_bench_op_result *into)
{
    into->count += w->res.count;
    into->errors += w->res.errors;
    dg_hist_merge(into->hist, w->res.hist);
    for (size_t i = 0; i < w->res.n_messages; i++)
        dg_bench_note_error(into, w->res.messages[i]);
}
