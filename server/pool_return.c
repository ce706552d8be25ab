/* pool_return.c - the daily auto-return to the pool. See pool_return.h.
 *
 * "Logged no interaction" is measured by customers.owner_active_at (schema
 * v14, kept by triggers): when the current owner got the customer, or the
 * newest interaction on it that the owner created, whichever is later.
 * Counted in whole days of the team's zone: last activity on local day L,
 * threshold N, the customer returns on day L + N (not before), i.e. once
 * owner_active_at < start of (today - N + 1). The index on owner_active_at
 * (owned, live customers) keeps the daily query a range scan.
 */
#include "pool_return.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "claims.h"
#include "clock.h"
#include "dangan.pb-c.h"
#include "dg.h"
#include "log.h"
#include "reminders.h"
#include "team.h"
#include "writer.h"

#define RETURN_BATCH 1000 /* customers per write job; more wait for the next sweep */
#define RETURN_ARENA (64u << 20)

struct pool_return {
    dg_job job;
    char today[DG_DATE_LEN];
    char time_zone[DG_TZ_NAME_MAX]; /* the team's: the notice's times are shown in it */
    int after_days;
    int64_t before, now;
    uint32_t restricted;
    size_t n;
};

static char done_day[DG_DATE_LEN]; /* the team's date auto-return last completed */
static bool in_flight;

/* The one place a customer's return reaches its former owner, inside the
 * returning transaction: besides the change event (the former owner saw the
 * customer before, and now gets Hidden or its update), a notice addressed
 * to them alone (reminders.h), so `dangan watch` says why it went. */
static int pool_notify_former_owner(dg_rec_ctx *c, const dg_record *customer, int64_t former_owner,
                                    void *ud)
{
    const struct pool_return *p = ud;
    char text[160];

    dg_log_info("pool", "msg=\"returned to the pool\" customer_id=%lld former_owner=%lld",
                (long long)customer->id, (long long)former_owner);
    snprintf(text, sizeof text, "no interaction of yours for %d days",
             p->after_days);
    return dg_remind_notice(c->tx, former_owner, DANGAN__V1__REMINDER_KIND__REMINDER_KIND_POOL_RETURNED,
                            customer->id, c->now, text, p->time_zone);
}

static void return_run(dg_job *job, void *ctx)
{
    struct pool_return *p = (struct pool_return *)job;
    dg_wtx *tx = ctx;
    dg_actor server = {0, "server", "", DG_ROLE_ADMIN, p->restricted};
    dg_rec_ctx c = {tx, tx->collator, &server, dg_arena_new(RETURN_ARENA), p->now, NULL, false};

    job->rc =
        dg_pool_return_stale(&c, p->before, RETURN_BATCH, pool_notify_former_owner, p, &p->n);
    dg_arena_free(c.arena);
}

static void return_done(dg_job *job)
{
    struct pool_return *p = (struct pool_return *)job;

    in_flight = false;
    if (job->rc != DG_OK) {
        if (job->rc != DG_EREADONLY && job->rc != DG_ENOSPC)
            dg_log_warn("pool", "msg=\"cannot return customers to the pool\" error=\"%s\"",
                        dg_strerror(job->rc));
    } else {
        if (p->n)
            dg_log_info("pool", "msg=\"auto-return\" day=%s customers=%zu", p->today, p->n);
        if (p->n < RETURN_BATCH) /* a full batch: more may wait, the next sweep goes on */
            snprintf(done_day, sizeof done_day, "%s", p->today);
    }
    free(p);
}

void dg_pool_return_sweep(dg_server *srv)
{
    struct pool_return *p;
    char first[DG_DATE_LEN];
    dg_team team;

    DG_ASSERT_LOOP_THREAD();
    dg_server_team(srv, &team);
    if (team.pool_return_after_days <= 0 || in_flight)
        return;
    p = dg_xcalloc(1, sizeof *p);
    p->now = dg_now_ms();
    /* the first day that does not return: today - N + 1; before it, all do */
    if (dg_tz_date(team.time_zone, p->now, p->today) != DG_OK || strcmp(p->today, done_day) == 0 ||
        dg_date_add_days(p->today, 1 - team.pool_return_after_days, first) != DG_OK ||
        dg_tz_day_start(team.time_zone, first, &p->before) != DG_OK) {
        free(p);
        return;
    }
    p->restricted = dg_server_restricted_tiers(srv);
    p->after_days = team.pool_return_after_days;
    snprintf(p->time_zone, sizeof p->time_zone, "%s", team.time_zone);
    p->job.run = return_run;
    p->job.done = return_done;
    if (dg_server_write(srv, &p->job) != DG_OK) {
        free(p); /* the next sweep tries again */
        return;
    }
    in_flight = true;
}
