/* watcher.c - see watcher.h. Runs on its connection's thread. */
#include "watcher.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "alloc.h"
#include "clock.h"
#include "dg.h"

struct dg_watcher {
    dg_client *client;
    dg_bench_op_result res;
    bool is_counting;
};

static int64_t wall_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void on_event(dg_client *c, const Dangan__V1__Event *ev, void *user)
{
    dg_watcher *w = user;
    int64_t lat;

    (void)c;
    if (!w->is_counting || ev->body_case != DANGAN__V1__EVENT__BODY_CHANGE)
        return;
    lat = wall_us() - ev->change->at_ms * 1000;
    dg_hist_record(w->res.hist, lat > 0 ? lat : 0);
    w->res.count++;
}

dg_watcher *dg_watcher_new(void)
{
    dg_watcher *w = dg_xcalloc(1, sizeof *w);

    w->res.hist = dg_hist_new();
    return w;
}

void dg_watcher_free(dg_watcher *w)
{
    if (!w)
        return;
    dg_client_close(w->client);
    dg_hist_free(w->res.hist);
    free(w);
}

int dg_watcher_open(dg_watcher *w, const dg_bench_opts *o, const char *token, char *err,
                    size_t err_len)
{
    Dangan__V1__SubscribeRequest m = DANGAN__V1__SUBSCRIBE_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    dg_reply *r;
    int rc = dg_bench_resume_ev(o, token, on_event, w, &w->client, err, err_len);

    if (rc != DG_OK)
        return rc;
    req.body_case = DANGAN__V1__REQUEST__BODY_SUBSCRIBE;
    req.subscribe = &m; /* everything, from now */
    if ((rc = dg_client_call(w->client, &req, &r)) != DG_OK) {
        snprintf(err, err_len, "cannot subscribe: %s", dg_client_errmsg(w->client));
        return rc;
    }
    if (!dg_reply_response(r)->status ||
        dg_reply_response(r)->status->code != DANGAN__V1__CODE__OK) {
        snprintf(err, err_len, "cannot subscribe: %s",
                 dg_reply_response(r)->status ? dg_reply_response(r)->status->message : "?");
        rc = DG_EPROTO;
    }
    dg_reply_free(r);
    return rc;
}

void dg_watcher_run(dg_watcher *w, int64_t from_us, int64_t until_us)
{
    int64_t now;

    while ((now = dg_mono_us()) < until_us) {
        w->is_counting = now >= from_us;
        if (dg_client_poll(w->client, 50) == DG_ECLOSED) {
            w->res.errors++;
            dg_bench_note_error(&w->res, "connection lost");
            return;
        }
    }
}

void dg_watcher_merge(const dg_watcher *w, dg_bench_op_result *into)
{
    into->count += w->res.count;
    into->errors += w->res.errors;
    dg_hist_merge(into->hist, w->res.hist);
    for (size_t i = 0; i < w->res.n_messages; i++)
        dg_bench_note_error(into, w->res.messages[i]);
}
