/* h_report.c - Report: the manager's reports (summary, revenue, pipeline,
 * activity, churn, satisfaction) as generic tables.
 *
 * The loop checks the request, copies the team's settings, and works out
 * in the team's time zone (common/tz.h) what the report needs as instants:
 * each period's local days as a UTC range, "today", the at-risk and dormancy
 * thresholds. A reader computes the report in SQL (store_reports.c) over
 * the customers the caller may see, as List would show them; the loop turns
 * the tables into the reply, audited with what was asked.
 * Runs on: the loop thread; report_run on a reader thread.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dg.h"
#include "h_common.h"
#include "handlers.h"
#include "report.h"
#include "server.h"
#include "store.h"
#include "users.h"

#define AT_RISK_WARN_DAYS 14 /* at risk this many days before turning dormant */

struct report_job {
    dg_job job;
    dg_req *req;
    dg_team team;
    dg_report_query q;
    dg_report_period periods[DG_REPORT_PERIODS_MAX];
    char today[DG_DATE_LEN], from[DG_DATE_LEN], to[DG_DATE_LEN];
    char by[16];
    dg_report out;
};

static const struct {
    const char *name;
    dg_report_kind kind;
    const char *bys; /* accepted groupings, the default first ("" none) */
    bool has_period;
} kinds[] = {
    {"summary", DG_REPORT_SUMMARY, ",tier,status,intention,industry,region,owner", false},
    {"revenue", DG_REPORT_REVENUE, "month,quarter,week,owner", true},
    {"pipeline", DG_REPORT_PIPELINE, ",owner", false},
    {"activity", DG_REPORT_ACTIVITY, "week,month", true},
    {"churn", DG_REPORT_CHURN, "", false},
    {"satisfaction", DG_REPORT_SATISFACTION, "month,quarter,week", true},
};

/* ------------------------------------------------------------ dates */

static bool valid_date(const char *s)
{
    char back[DG_DATE_LEN];

    return strlen(s) == 10 && dg_date_add_days(s, 0, back) == DG_OK && strcmp(back, s) == 0;
}

/* The first day of the month `months` after date's month (may be negative). */
static void month_start(const char *date, int months, char out[DG_DATE_LEN])
{
    int y = 0, m = 0, k;

    sscanf(date, "%d-%d", &y, &m);
    k = y * 12 + (m - 1) + months;
    if (k < 0)
        k = 0;
    snprintf(out, DG_DATE_LEN, "%04u-%02u-01", (unsigned)(k / 12) % 10000u,
             (unsigned)(k % 12) + 1u);
}

/* The Monday of date's week. */
static void week_start(const char *date, char out[DG_DATE_LEN])
{
    int days = 0;

    dg_date_diff_days("1970-01-05", date, &days); /* a Monday */
    dg_date_add_days(date, -(((days % 7) + 7) % 7), out);
}

/* Where the period holding `date` starts (month, quarter or week) and its label. */
static void period_start(const char *by, const char *date, char start[DG_DATE_LEN], char *label,
                         size_t len)
{
    int y = 0, m = 0;

    sscanf(date, "%d-%d", &y, &m);
    if (!strcmp(by, "week")) {
        week_start(date, start);
        snprintf(label, len, "%s", start);
    } else if (!strcmp(by, "quarter")) {
        month_start(date, -((m - 1) % 3), start);
        snprintf(label, len, "%04d-Q%d", y, (m - 1) / 3 + 1);
    } else {
        month_start(date, 0, start);
        snprintf(label, len, "%04d-%02d", y, m);
    }
}

static void period_next(const char *by, const char *start, char out[DG_DATE_LEN])
{
    if (!strcmp(by, "week"))
        dg_date_add_days(start, 7, out);
    else
        month_start(start, !strcmp(by, "quarter") ? 3 : 1, out);
}

/* Local days a..b (inclusive) as the UTC range of the team's zone. */
static int fill_period(dg_report_period *p, const char *zone, const char *a, const char *b)
{
    char after[DG_DATE_LEN];
    int rc;

    snprintf(p->from, sizeof p->from, "%s", a);
    snprintf(p->to, sizeof p->to, "%s", b);
    if ((rc = dg_date_diff_days(a, b, &p->days)) != DG_OK ||
        (rc = dg_date_add_days(b, 1, after)) != DG_OK ||
        (rc = dg_tz_day_start(zone, a, &p->lo)) != DG_OK)
        return rc;
    p->days++;
    return dg_tz_day_start(zone, after, &p->hi);
}

/* The periods from..to cut at month, quarter or week boundaries (or one
 * period for "owner"); false (and answered) when there are too many. */
static bool make_periods(dg_req *req, struct report_job *j)
{
    const char *zone = j->team.time_zone, *by = j->by;
    char start[DG_DATE_LEN], next[DG_DATE_LEN], last[DG_DATE_LEN];
    size_t n = 0;

    if (!strcmp(by, "owner")) {
        fill_period(&j->periods[0], zone, j->from, j->to);
        j->q.n_periods = 1;
        return true;
    }
    period_start(by, j->from, start, j->periods[0].label, sizeof j->periods[0].label);
    while (strcmp(start, j->to) <= 0) {
        dg_report_period *p = &j->periods[n];
        char cur[DG_DATE_LEN];

        if (n == DG_REPORT_PERIODS_MAX) {
            dg_req_violation(req, "from", "too many periods: a shorter range or a longer --by");
            dg_req_fail(req, DG_EINVAL, "invalid_argument",
                        "from: at most %d periods: a shorter range or a longer grouping",
                        DG_REPORT_PERIODS_MAX);
            return false;
        }
        snprintf(cur, sizeof cur, "%s", start);
        period_start(by, cur, start, p->label, sizeof p->label);
        period_next(by, start, next);
        dg_date_add_days(next, -1, last);
        fill_period(p, zone, strcmp(start, j->from) < 0 ? j->from : start,
                    strcmp(last, j->to) > 0 ? j->to : last);
        snprintf(start, sizeof start, "%s", next);
        n++;
    }
    j->q.n_periods = n;
    return true;
}

/* ------------------------------------------------------------ checks */

static bool in_list(const char *list, const char *s)
{
    size_t n = strlen(s);

    for (const char *p = list;; p++) {
        size_t k = strcspn(p, ",");

        if (k == n && !strncmp(p, s, n))
            return true;
        p += k;
        if (!*p)
            return false;
    }
}

/* Fills j from the request; false (answered INVALID_ARGUMENT) on bad input. */
static bool check(dg_req *req, struct report_job *j)
{
    const Dangan__V1__ReportRequest *m = req->msg->report;
    size_t k = 0;

    while (k < DG_ARRAY_LEN(kinds) && strcmp(kinds[k].name, m->kind) != 0)
        k++;
    if (k == DG_ARRAY_LEN(kinds)) {
        dg_req_violation(req, "kind",
                         "summary, revenue, pipeline, activity, churn or satisfaction");
    } else {
        j->q.kind = kinds[k].kind;
        if (!m->by[0])
            snprintf(j->by, sizeof j->by, "%.*s", (int)strcspn(kinds[k].bys, ","), kinds[k].bys);
        else if (strlen(m->by) < sizeof j->by && in_list(kinds[k].bys, m->by))
            snprintf(j->by, sizeof j->by, "%s", m->by);
        else
            dg_req_violation(
                req, "by",
                dg_req_strdup(req, kinds[k].bys[0] ? kinds[k].bys : "no grouping for this report"));
        if (!kinds[k].has_period && (m->from[0] || m->to[0]))
            dg_req_violation(req, m->from[0] ? "from" : "to",
                             "this report is of the present, not of a period");
    }
    if (m->from[0] && !valid_date(m->from))
        dg_req_violation(req, "from", "a date, YYYY-MM-DD");
    if (m->to[0] && !valid_date(m->to))
        dg_req_violation(req, "to", "a date, YYYY-MM-DD");
    if (m->from[0] && m->to[0] && valid_date(m->from) && valid_date(m->to) &&
        strcmp(m->to, m->from) < 0)
        dg_req_violation(req, "to", "before from");
    if (m->owner[0]) {
        const dg_user_info *u =
            !strcmp(m->owner, "me")
                ? dg_users_by_id(dg_server_users(req->srv), dg_conn_session(req->conn)->user_id)
                : dg_users_by_name(dg_server_users(req->srv), m->owner);

        if (!u)
            dg_req_violation(req, "owner", "no such user");
        else
            j->q.owner_id = u->id;
    }
    if (req->status.n_field_violations) {
        dg_req_fail(req, DG_EINVAL, "invalid_argument", "%s: %s",
                    req->status.field_violations[0]->field,
                    req->status.field_violations[0]->description);
        return false;
    }
    return true;
}

/* Today, the period and the thresholds, in the team's zone. */
static bool settle_dates(dg_req *req, struct report_job *j)
{
    const Dangan__V1__ReportRequest *m = req->msg->report;
    const char *zone = j->team.time_zone;
    char day[DG_DATE_LEN];
    int64_t now = dg_now_ms();

    dg_tz_date(zone, now, j->today);
    j->q.now_ms = now;
    snprintf(j->to, sizeof j->to, "%s", m->to[0] ? m->to : j->today);
    if (m->from[0]) {
        snprintf(j->from, sizeof j->from, "%s", m->from);
    } else if (j->q.kind == DG_REPORT_ACTIVITY) {
        week_start(j->to, day); /* this week and the three before */
        dg_date_add_days(day, -21, j->from);
    } else {
        month_start(j->to, -11, j->from); /* this month and the eleven before */
    }
    if (strcmp(j->to, j->from) < 0) {
        dg_req_violation(req, "to", "before from");
        dg_req_fail(req, DG_EINVAL, "invalid_argument", "to: before from (%s)", j->from);
        return false;
    }
    /* a customer last in touch before the start of (today - N days) */
    dg_date_add_days(j->today, -j->team.dormant_after_days, day);
    dg_tz_day_start(zone, day, &j->q.dormant_before);
    dg_date_add_days(j->today, -(j->team.dormant_after_days - AT_RISK_WARN_DAYS), day);
    dg_tz_day_start(zone, day, &j->q.at_risk_before);
    j->q.today = j->today;
    j->q.periods = j->periods;
    return j->q.kind == DG_REPORT_SUMMARY || j->q.kind == DG_REPORT_PIPELINE ||
           j->q.kind == DG_REPORT_CHURN || make_periods(req, j);
}

/* ------------------------------------------------------------ reply */

static Dangan__V1__ReportRow *rows_pb(dg_req *req, const dg_rcell *cells, size_t n_cols)
{
    Dangan__V1__ReportRow *r = dg_req_alloc(req, sizeof *r);

    dangan__v1__report_row__init(r);
    r->cells = dg_req_alloc(req, (n_cols ? n_cols : 1) * sizeof *r->cells);
    r->n_cells = n_cols;
    for (size_t i = 0; i < n_cols; i++) {
        Dangan__V1__ReportCell *c = dg_req_alloc(req, sizeof *c);

        dangan__v1__report_cell__init(c);
        /* copies: cells may point into the job, freed before the audited reply is sent */
        c->text = dg_req_strdup(req, cells[i].text ? cells[i].text : "");
        c->number = cells[i].num;
        c->currency = dg_req_strdup(req, cells[i].currency ? cells[i].currency : "");
        c->is_empty = cells[i].is_empty;
        r->cells[i] = c;
    }
    return r;
}

static Dangan__V1__ReportSection *section_pb(dg_req *req, const dg_rsection *s)
{
    Dangan__V1__ReportSection *p = dg_req_alloc(req, sizeof *p);

    dangan__v1__report_section__init(p);
    p->name = (char *)s->name;
    p->title = (char *)s->title;
    p->n_columns = s->n_cols;
    p->columns = dg_req_alloc(req, (s->n_cols ? s->n_cols : 1) * sizeof *p->columns);
    for (size_t i = 0; i < s->n_cols; i++) {
        Dangan__V1__ReportColumn *c = dg_req_alloc(req, sizeof *c);

        dangan__v1__report_column__init(c);
        c->name = (char *)s->cols[i].name;
        c->label = (char *)s->cols[i].label;
        c->type = (Dangan__V1__ReportType)s->cols[i].type;
        p->columns[i] = c;
    }
    p->n_rows = s->n_rows;
    p->rows = dg_req_alloc(req, (s->n_rows ? s->n_rows : 1) * sizeof *p->rows);
    for (size_t i = 0; i < s->n_rows; i++)
        p->rows[i] = rows_pb(req, &s->rows[i * s->n_cols], s->n_cols);
    p->n_totals = s->n_totals;
    p->totals = dg_req_alloc(req, (s->n_totals ? s->n_totals : 1) * sizeof *p->totals);
    for (size_t i = 0; i < s->n_totals; i++)
        p->totals[i] = rows_pb(req, &s->totals[i * s->n_cols], s->n_cols);
    return p;
}

static void report_run(dg_job *job, void *ctx)
{
    struct report_job *j = (struct report_job *)job;
    int rc;

    if ((rc = dg_store_read_begin(ctx)) == DG_OK) {
        rc = dg_store_report(ctx, &j->q, j->req->arena, &j->out);
        dg_store_read_end(ctx);
    }
    job->rc = rc;
}

static void report_done(dg_job *job)
{
    struct report_job *j = (struct report_job *)job;
    dg_req *req = j->req;
    const Dangan__V1__ReportRequest *m = req->msg->report;
    Dangan__V1__ReportResponse *r;
    bool has_period = j->q.n_periods > 0;

    if (job->rc != DG_OK) {
        dg_h_fail_job(req, job->rc);
        free(j);
        return;
    }
    r = dg_req_alloc(req, sizeof *r);
    dangan__v1__report_response__init(r);
    r->kind = m->kind;
    r->from = dg_req_strdup(req, has_period ? j->from : "");
    r->to = dg_req_strdup(req, has_period ? j->to : "");
    r->by = dg_req_strdup(req, j->by);
    r->time_zone = dg_req_strdup(req, j->team.time_zone);
    r->today = dg_req_strdup(req, j->today);
    r->n_sections = j->out.n_sections;
    r->sections = dg_req_alloc(req, (r->n_sections ? r->n_sections : 1) * sizeof *r->sections);
    for (size_t i = 0; i < r->n_sections; i++)
        r->sections[i] = section_pb(req, &j->out.sections[i]);
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_REPORT;
    req->resp.report = r;
    dg_h_audit_then_reply(req, "report", 0,
                          json_pack("{s:s,s:s,s:s,s:s,s:s}", "kind", m->kind, "from", r->from, "to",
                                    r->to, "by", r->by, "owner", m->owner));
    free(j);
}

void dg_h_report(dg_req *req)
{
    struct report_job *j = dg_xcalloc(1, sizeof *j);
    dg_perm_who who = dg_h_who(req);
    int rc;

    j->req = req;
    dg_server_team(req->srv, &j->team);
    j->q.team = &j->team;
    j->q.by = j->by;
    if (!check(req, j) || !settle_dates(req, j)) {
        free(j);
        return;
    }
    if (!dg_perm_sees_all(who.role)) { /* as List: restricted tiers out unless owned */
        j->q.n_restricted = dg_perm_restricted_names(who.restricted, j->q.restricted);
        j->q.viewer_id = who.user_id;
    }
    j->job.run = report_run;
    j->job.done = report_done;
    if ((rc = dg_server_read(req->srv, &j->job)) != DG_OK) {
        free(j);
        dg_h_fail_job(req, rc);
    }
}
