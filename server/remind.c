/* remind.c - the reminders' timer and passes: see remind.h. One pass at a
 * time runs as a write job (dg_remind_run: the due reminders, their marks
 * and the next time, in one transaction); a reason for another that comes
 * meanwhile (a commit that touched tasks, notes or documents, the timer)
 * runs one more when it is back.
 * Runs on: the loop thread (the pass on the writer thread).
 */
#include "remind.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "clock.h"
#include "dg.h"
#include "log.h"
#include "reminders.h"

/* Longest the timer waits: a setting or a clock that moved is seen by then
 * anyway through the sweep; this bounds what a lost wake-up could cost. */
#define MAX_WAIT_MS (3600 * 1000LL)
#define RETRY_MS 1000 /* after a failed pass (a full disk, the writer busy) */
#define DRIVEN_WAIT_MS 100

struct dg_remind {
    dg_server *srv;
    uv_timer_t timer;
    int64_t next_ms; /* unix ms of the next pass; 0: one is due now */
    bool is_running, is_wanted, is_stopping;
};

struct pass_job {
    dg_job job;
    dg_remind *r;
    dg_remind_pass pass;
};

static void start_pass(dg_remind *r);

static void arm(dg_remind *r);

/* The timer runs by the monotonic clock, the reminders by the wall clock:
 * it looks whether the time has come, and waits again if not. */
static void timer_cb(uv_timer_t *t)
{
    dg_remind *r = t->data;

    if (dg_now_ms() >= r->next_ms)
        start_pass(r);
    else
        arm(r);
}

static void pass_run(dg_job *job, void *ctx)
{
    struct pass_job *p = (struct pass_job *)job;

    job->rc = dg_remind_run(ctx, &p->pass);
}

static void arm(dg_remind *r)
{
    int64_t wait = r->next_ms - dg_now_ms();

    if (r->is_stopping)
        return;
    if (wait < 0)
        wait = 0;
    if (wait > MAX_WAIT_MS)
        wait = MAX_WAIT_MS;
    /* a driven clock (clock.h, the tests) jumps: a jump is seen within this */
    if (dg_clock_is_driven() && wait > DRIVEN_WAIT_MS)
        wait = DRIVEN_WAIT_MS;
    uv_timer_start(&r->timer, timer_cb, (uint64_t)wait, 0);
}

static void pass_done(dg_job *job)
{
    struct pass_job *p = (struct pass_job *)job;
    dg_remind *r = p->r;

    r->is_running = false;
    if (job->rc == DG_OK) {
        r->next_ms = p->pass.next;
        dg_log_debug("remind", "msg=\"pass\" now=%lld next=%lld", (long long)p->pass.now,
                     (long long)r->next_ms);
        if (p->pass.n_sent || p->pass.n_skipped)
            dg_log_info("remind", "msg=\"reminders written\" sent=%d skipped=%d", p->pass.n_sent,
                        p->pass.n_skipped);
    } else {
        r->next_ms = dg_now_ms() + RETRY_MS;
        if (job->rc != DG_EREADONLY && job->rc != DG_ENOSPC)
            dg_log_warn("remind", "msg=\"cannot write reminders\" error=\"%s\"",
                        dg_strerror(job->rc));
    }
    free(p);
    if (r->is_wanted && !r->is_stopping) {
        r->is_wanted = false;
        start_pass(r);
        return;
    }
    arm(r);
}

static void start_pass(dg_remind *r)
{
    struct pass_job *p;

    if (r->is_stopping)
        return;
    if (r->is_running) {
        r->is_wanted = true;
        return;
    }
    p = dg_xcalloc(1, sizeof *p);
    p->r = r;
    dg_server_team(r->srv, &p->pass.team);
    p->pass.restricted = dg_server_restricted_tiers(r->srv);
    p->pass.now = dg_now_ms();
    p->job.run = pass_run;
    p->job.done = pass_done;
    uv_timer_stop(&r->timer);
    if (dg_server_write(r->srv, &p->job) != DG_OK) {
        free(p);
        r->next_ms = dg_now_ms() + RETRY_MS;
        arm(r);
        return;
    }
    r->is_running = true;
}

dg_remind *dg_remind_new(dg_server *srv)
{
    dg_remind *r = dg_xcalloc(1, sizeof *r);

    DG_ASSERT_LOOP_THREAD();
    r->srv = srv;
    uv_timer_init(dg_server_loop(srv), &r->timer);
    r->timer.data = r;
    /* the first pass when the loop runs, not before: a start that fails
     * after this closes the timer and has no pass to wait for */
    arm(r);
    return r;
}

void dg_remind_sweep(dg_remind *r)
{
    DG_ASSERT_LOOP_THREAD();
    if (r && !r->is_running && dg_now_ms() >= r->next_ms)
        start_pass(r);
}

void dg_remind_committed(dg_remind *r, const dg_committed *c)
{
    bool touched = !c->rows;

    DG_ASSERT_LOOP_THREAD();
    if (!r)
        return;
    for (size_t i = 0; i < c->n && !touched; i++) {
        const char *e = c->rows[i].c.entity;

        touched =
            strcmp(e, "task") == 0 || strcmp(e, "interaction") == 0 || strcmp(e, "document") == 0;
    }
    if (touched)
        start_pass(r);
}

void dg_remind_stop(dg_remind *r)
{
    DG_ASSERT_LOOP_THREAD();
    if (!r)
        return;
    r->is_stopping = true;
    uv_timer_stop(&r->timer);
}

static void closed_cb(uv_handle_t *h)
{
    free(h->data);
}

void dg_remind_free(dg_remind *r)
{
    DG_ASSERT_LOOP_THREAD();
    if (r)
        uv_close((uv_handle_t *)&r->timer, closed_cb);
}
