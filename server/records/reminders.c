/* reminders.c - reminders due and notices, written into the change feed:
 * see reminders.h. A reminder is a change row of entity "reminder" (its
 * payload in table reminders) with the customer's view as it is now, and a
 * row of reminders_sent, both in the same savepoint.
 *
 * When each comes due (the team's settings, in its zone): a task at its due
 * time less task_remind_before_minutes, to its assignee or else the
 * customer's owner; a note's follow-up date at follow_up_remind_minute of
 * that day, to the owner; a contract contract_remind_before_days before it
 * expires, at the same minute, to the owner. A pass looks at what comes due
 * after the mark it left ("reminders_through") and up to now: a task whose
 * due time is still after the mark (a task created or moved so that its
 * reminder time has passed is reminded at once, one already overdue is not),
 * a date not yet over at the mark.
 * Runs on: the writer thread.
 */
#include "reminders.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "dangan.pb-c.h"
#include "dg.h"
#include "log.h"
#include "perm.h"
#include "tz.h"

#define DUE_LIMIT 256 /* reminders per kind per pass; more: another pass at once */
#define PRUNE_MAX 1000
#define DAY_MS 86400000LL
#define PASS_BUDGET (8u << 20)

static int append(dg_wtx *tx, const dg_reminder *r, int64_t customer_id, const dg_visibility *v,
                  int64_t at)
{
    dg_change c = {
        .at = at,
        .entity = "reminder",
        .entity_id = r->record_id,
        .customer_id = customer_id,
        .op = "reminded",
        .vis_after = *v,
        .reminder = r,
    };
    int64_t seq;

    return dg_wtx_change_append(tx, &c, &seq);
}

int dg_remind_notice(dg_wtx *tx, int64_t recipient_id, int kind, int64_t customer_id, int64_t at_ms,
                     const char *text, const char *time_zone)
{
    dg_arena *a;
    dg_reminder r = {0};
    dg_visibility v;
    int rc;

    DG_ASSERT_THREAD(DG_THREAD_WRITER);
    if (recipient_id <= 0 ||
        !protobuf_c_enum_descriptor_get_value(&dangan__v1__reminder_kind__descriptor, kind) ||
        kind == DANGAN__V1__REMINDER_KIND__REMINDER_KIND_UNSPECIFIED)
        return DG_EINVAL;
    if (!(a = dg_arena_new(1u << 16)))
        return DG_ENOMEM;
    rc = dg_store_customer_brief(tx->store, customer_id, a, &r.customer_code, &r.customer_name, &v);
    if (rc == DG_OK) {
        r.recipient_id = recipient_id;
        r.kind = kind;
        r.record_kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
        r.record_id = customer_id;
        r.due_at_ms = r.remind_at_ms = at_ms;
        r.due_on = "";
        r.title = text ? text : "";
        r.time_zone = time_zone ? time_zone : "";
        rc = append(tx, &r, customer_id, &v, at_ms);
    }
    dg_arena_free(a);
    return rc;
}

/* May the recipient of `d` still see its customer? Disabled users and
 * those perm.c keeps out get nothing. */
static bool recipient_sees(dg_wtx *tx, const dg_remind_pass *p, const dg_remind_due *d)
{
    dg_user u;
    dg_perm_who who;

    if (d->recipient_id <= 0 || dg_store_user_by_id(tx->store, d->recipient_id, &u) != DG_OK ||
        u.is_disabled)
        return false;
    who = (dg_perm_who){u.id, u.role, p->restricted};
    return dg_perm_sees(&who, d->view.owner_id, d->view.tier);
}

/* When the reminder of a date kind comes due: `lead_days` before `date`, at
 * the team's minute, in its zone. -1 when the date is not one. */
static int64_t date_remind_at(const dg_remind_pass *p, const char *date, int lead_days)
{
    char day[DG_DATE_LEN];
    int64_t start;

    if (dg_date_add_days(date, -lead_days, day) != DG_OK ||
        dg_tz_day_start(p->team.time_zone, day, &start) != DG_OK)
        return -1;
    return start + (int64_t)p->team.follow_up_remind_minute * 60000;
}

/* Writes the reminder of `d` due at `at` (or only marks it, for a
 * recipient who may not see it) and marks it sent. */
static int write_one(dg_wtx *tx, dg_remind_pass *p, const dg_remind_due *d, int64_t at)
{
    dg_reminder r = {
        .recipient_id = d->recipient_id,
        .kind = d->kind,
        .record_kind = d->record_kind,
        .record_id = d->record_id,
        .due_at_ms = d->due_at_ms,
        .remind_at_ms = at,
        .due_on = d->due_on,
        .title = d->title,
        .customer_code = d->customer_code,
        .customer_name = d->customer_name,
        .time_zone = p->team.time_zone,
    };
    int rc;

    if (d->kind != DANGAN__V1__REMINDER_KIND__REMINDER_KIND_TASK_DUE &&
        dg_tz_day_start(p->team.time_zone, d->due_on, &r.due_at_ms) != DG_OK)
        r.due_at_ms = 0;
    if ((rc = dg_store_remind_mark(tx->store, d, p->now)) != DG_OK)
        return rc;
    if (!recipient_sees(tx, p, d)) {
        p->n_skipped++;
        return DG_OK;
    }
    p->n_sent++;
    return append(tx, &r, d->customer_id, &d->view, p->now);
}

static int64_t read_through(dg_wtx *tx, int64_t now)
{
    char v[32];
    char *end;
    long long t;

    if (dg_store_meta_get(tx->store, DG_REMIND_META_THROUGH, v, sizeof v) != DG_OK)
        return now; /* the first pass: nothing before it is reminded */
    t = strtoll(v, &end, 10);
    return *end || t <= 0 ? now : (int64_t)t;
}

/* The next time the daily minute comes, after `now`. */
static int64_t next_daily(const dg_remind_pass *p)
{
    char today[DG_DATE_LEN];
    int64_t at;

    if (dg_tz_date(p->team.time_zone, p->now, today) != DG_OK ||
        (at = date_remind_at(p, today, 0)) < 0)
        return p->now + 60000;
    if (at <= p->now) {
        char tomorrow[DG_DATE_LEN];

        if (dg_date_add_days(today, 1, tomorrow) != DG_OK ||
            (at = date_remind_at(p, tomorrow, 0)) < 0)
            return p->now + 60000;
    }
    return at;
}

static int pass(dg_wtx *tx, dg_remind_pass *p, dg_arena *a, int64_t through, bool *more)
{
    int64_t lead = (int64_t)p->team.task_remind_before_minutes * 60000;
    int64_t minute = (int64_t)p->team.follow_up_remind_minute * 60000;
    int lead_days = p->team.contract_remind_before_days;
    char from[DG_DATE_LEN], to[DG_DATE_LEN], last[DG_DATE_LEN];
    dg_remind_due *due;
    size_t n;
    int rc;

    /* tasks: due after the mark, and their reminder time has come */
    if ((rc = dg_store_remind_tasks(tx->store, through, p->now + lead, DUE_LIMIT, a, &due, &n)) !=
        DG_OK)
        return rc;
    *more = n == DUE_LIMIT;
    for (size_t i = 0; i < n; i++) {
        int64_t at = due[i].due_at_ms - lead;

        if ((rc = write_one(tx, p, &due[i], at < through ? p->now : at)) != DG_OK)
            return rc;
    }
    /* dates not over at the mark whose minute has come: the last date that
     * can be is the one of now less the minute (the row's own time is
     * checked too, for a zone whose days are not 24 hours) */
    if ((rc = dg_tz_date(p->team.time_zone, through, from)) != DG_OK ||
        (rc = dg_tz_date(p->team.time_zone, p->now - minute, last)) != DG_OK)
        return rc;
    if (strcmp(last, from) >= 0) {
        if ((rc = dg_store_remind_follow_ups(tx->store, from, last, DUE_LIMIT, a, &due, &n)) !=
            DG_OK)
            return rc;
        *more = *more || n == DUE_LIMIT;
        for (size_t i = 0; i < n; i++) {
            int64_t at = date_remind_at(p, due[i].due_on, 0);

            if (at >= 0 && at <= p->now && (rc = write_one(tx, p, &due[i], at)) != DG_OK)
                return rc;
        }
    }
    if ((rc = dg_date_add_days(last, lead_days, to)) != DG_OK)
        return rc;
    if (strcmp(to, from) >= 0) {
        if ((rc = dg_store_remind_contracts(tx->store, from, to, DUE_LIMIT, a, &due, &n)) != DG_OK)
            return rc;
        *more = *more || n == DUE_LIMIT;
        for (size_t i = 0; i < n; i++) {
            int64_t at = date_remind_at(p, due[i].due_on, lead_days);

            if (at >= 0 && at <= p->now && (rc = write_one(tx, p, &due[i], at)) != DG_OK)
                return rc;
        }
    }
    return DG_OK;
}

int dg_remind_run(dg_wtx *tx, dg_remind_pass *p)
{
    int64_t lead = (int64_t)p->team.task_remind_before_minutes * 60000;
    int64_t through = read_through(tx, p->now), next_task;
    dg_arena *a = dg_arena_new(PASS_BUDGET);
    char v[32];
    bool more = false;
    int rc;

    DG_ASSERT_THREAD(DG_THREAD_WRITER);
    p->n_sent = p->n_skipped = 0;
    if (!a)
        return DG_ENOMEM;
    if (through > p->now) /* the clock went back: nothing is due twice */
        through = p->now;
    rc = pass(tx, p, a, through, &more);
    dg_arena_free(a);
    if (rc != DG_OK)
        return rc;
    if (more) { /* a long time down: the rest in the next pass, at once */
        p->next = p->now;
        return DG_OK;
    }
    snprintf(v, sizeof v, "%" PRId64, p->now);
    if ((rc = dg_store_meta_put(tx->store, DG_REMIND_META_THROUGH, v)) != DG_OK ||
        (rc = dg_store_remind_prune(tx->store, through - 3 * DAY_MS, PRUNE_MAX)) != DG_OK ||
        (rc = dg_store_remind_next_task(tx->store, p->now + lead, &next_task)) != DG_OK)
        return rc;
    p->next = next_daily(p);
    if (next_task && next_task - lead < p->next)
        p->next = next_task - lead;
    return DG_OK;
}
