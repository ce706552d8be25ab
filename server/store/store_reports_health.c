/* store_reports_health.c - the reports on customers' health: churn (lost
 * customers by reason, the at-risk and win-back lists) and satisfaction
 * (feedback scores and complaints by period). See report.h; the helpers are
 * store_reports.c's.
 * Runs on: the thread that owns the connection (a reader).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg.h"
#include "store_reports_int.h"

/* ------------------------------------------------------------ churn */

static const dg_rcol AT_RISK_COLS[] = {
    {"code", "Code", DG_RT_TEXT},
    {"name", "Customer", DG_RT_TEXT},
    {"owner", "Owner", DG_RT_TEXT},
    {"tier", "Tier", DG_RT_TEXT},
    {"status", "Status", DG_RT_TEXT},
    {"last_contact", "Last contact", DG_RT_DATE},
    {"days", "Days without contact", DG_RT_INT},
    {"state", "State", DG_RT_TEXT},
};
static const dg_rcol WIN_BACK_COLS[] = {
    {"code", "Code", DG_RT_TEXT},           {"name", "Customer", DG_RT_TEXT},
    {"owner", "Owner", DG_RT_TEXT},         {"tier", "Tier", DG_RT_TEXT},
    {"reason", "Churn reason", DG_RT_TEXT}, {"last_contact", "Last contact", DG_RT_DATE},
};

/* When a customer was last in touch: its newest interaction, or its
 * creation when it has none. */
#define SINCE "(CASE WHEN c.last_contact_at > 0 THEN c.last_contact_at ELSE c.created_at END)"

static int at_risk(struct rctx *x)
{
    const dg_report_query *q = x->q;
    dg_rsection *sec =
        rpt_section(x, "at_risk", "At risk: nearing or past dormancy, most overdue first",
                    AT_RISK_COLS, DG_ARRAY_LEN(AT_RISK_COLS));
    char sql[SQL_MAX] = "";
    struct store_params ps = {.n = 0};
    sqlite3_stmt *s;
    bool oom = false;
    int rc;

    store_sql_append(sql,
                     "SELECT c.code, c.name, coalesce(u.username, ''), c.tier, c.status,"
                     " c.last_contact_at, " SINCE " FROM customers c INDEXED BY customers_at_risk_by_id"
                     " LEFT JOIN users u ON u.id = c.owner_id"
                     " WHERE c.status != 'lost' AND " SINCE " < ?%d",
                     store_param_int(&ps, q->at_risk_before));
    rpt_visible(sql, &ps, q, true);
    store_sql_append(sql, " ORDER BY " SINCE ", c.id LIMIT %d", DG_REPORT_LIST_MAX);
    if (!(s = rpt_prepare(x, sql, &ps)))
        return DG_EIO;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        dg_rcell *c = rpt_add_row(x, sec);
        int64_t since = sqlite3_column_int64(s, 6);
        int days = 0;

        if (!c) {
            oom = true;
            break;
        }
        for (int k = 0; k < 5; k++)
            c[k].text = rpt_col_text(x, s, k);
        c[5].text = rpt_local_date(x, sqlite3_column_int64(s, 5));
        if (dg_date_diff_days(rpt_local_date(x, since), q->today, &days) != DG_OK)
            days = 0;
        c[6].num = days;
        c[7].text = since < q->dormant_before ? "past" : "nearing";
    }
    return rpt_finish(x, s, rc, oom);
}

static int win_back(struct rctx *x)
{
    dg_rsection *sec = rpt_section(x, "win_back", "Win-back: lost customers, latest contact first",
                                   WIN_BACK_COLS, DG_ARRAY_LEN(WIN_BACK_COLS));
    char sql[SQL_MAX] = "";
    struct store_params ps = {.n = 0};
    sqlite3_stmt *s;
    bool oom = false;
    int rc;

    store_sql_append(sql, "SELECT c.code, c.name, coalesce(u.username, ''), c.tier,"
                          " c.churn_reason, c.last_contact_at FROM customers c"
                          " INDEXED BY customers_lost_by_contact"
                          " LEFT JOIN users u ON u.id = c.owner_id WHERE c.status = 'lost'");
    rpt_visible(sql, &ps, x->q, true);
    store_sql_append(sql, " ORDER BY c.last_contact_at DESC, c.id LIMIT %d", DG_REPORT_LIST_MAX);
    if (!(s = rpt_prepare(x, sql, &ps)))
        return DG_EIO;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        dg_rcell *c = rpt_add_row(x, sec);

        if (!c) {
            oom = true;
            break;
        }
        for (int k = 0; k < 5; k++)
            c[k].text = rpt_col_text(x, s, k);
        c[5].text = rpt_local_date(x, sqlite3_column_int64(s, 5));
    }
    return rpt_finish(x, s, rc, oom);
}

/* How many customers the caller may see are not lost and were last in
 * touch before `before`: a count of customers_at_risk_by_id's entries alone
 * (the customers' rows are not read). */
static int count_since(struct rctx *x, int64_t before, int64_t *n)
{
    char sql[SQL_MAX] = "";
    struct store_params ps = {.n = 0};
    sqlite3_stmt *s;
    int rc;

    store_sql_append(sql,
                     "SELECT count(*) FROM customers c INDEXED BY customers_at_risk_by_id"
                     " WHERE c.status != 'lost' AND " SINCE " < ?%d",
                     store_param_int(&ps, before));
    rpt_visible(sql, &ps, x->q, true);
    if (!(s = rpt_prepare(x, sql, &ps)))
        return DG_EIO;
    if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        *n = sqlite3_column_int64(s, 0);
        rc = sqlite3_step(s);
    }
    return rpt_finish(x, s, rc, false);
}

static const dg_rcol RISK_COLS[] = {
    {"value", "Value", DG_RT_TEXT},
    {"customers", "Customers", DG_RT_INT},
    {"share", "Share %", DG_RT_DECIMAL},
};

/* Customers at risk: past the dormancy threshold, then nearing it (a row
 * only where there are some), each with its share. */
static int risk(struct rctx *x)
{
    dg_rsection *sec = rpt_section(x, "risk", "Customers at risk", RISK_COLS,
                                   DG_ARRAY_LEN(RISK_COLS));
    const dg_report_query *q = x->q;
    int64_t all = 0, past = 0, v[2];
    const char *names[2] = {"past", "nearing"};
    dg_rcell *c;
    int rc;

    if ((rc = count_since(x, q->at_risk_before, &all)) != DG_OK ||
        (rc = count_since(x, q->dormant_before < q->at_risk_before ? q->dormant_before
                                                                    : q->at_risk_before,
                          &past)) != DG_OK)
        return rc;
    v[0] = past;
    v[1] = all - past;
    for (int k = 0; k < 2; k++) {
        if (v[k] == 0)
            continue;
        if (!(c = rpt_add_row(x, sec)))
            return DG_ENOMEM;
        c[0].text = names[k];
        c[1].num = v[k];
        c[2].num = (v[k] * 10000 * 2 + all) / (2 * all);
    }
    if (!(c = rpt_add_total(x, sec)))
        return DG_ENOMEM;
    c[0].text = "Total";
    c[1].num = all;
    c[2].num = all ? 10000 : 0;
    return DG_OK;
}

int rpt_churn(struct rctx *x)
{
    int rc;

    rc = rpt_count_section(x, "by_reason", "Lost customers by churn reason", "c.churn_reason",
                           "INDEXED BY customers_lost_by_reason", " AND c.status = 'lost'",
                           "c.churn_reason", "c.churn_reason = '', count(*) DESC, c.churn_reason");
    if (rc == DG_OK)
        rc = risk(x);
    if (rc == DG_OK)
        rc = at_risk(x);
    return rc == DG_OK ? win_back(x) : rc;
}

/* ------------------------------------------------------------ satisfaction */

static const dg_rcol SATISFACTION_COLS[] = {
    {"period", "Period", DG_RT_TEXT},
    {"from", "From", DG_RT_DATE},
    {"to", "To", DG_RT_DATE},
    {"feedback", "Feedback", DG_RT_INT},
    {"rated", "Rated", DG_RT_INT},
    {"satisfaction", "Avg satisfaction", DG_RT_DECIMAL},
    {"complaints", "Complaints", DG_RT_INT},
    {"open", "Open", DG_RT_INT},
    {"resolved", "Resolved", DG_RT_INT},
};

static void average(dg_rcell *c, int64_t sum, int64_t n)
{
    c->is_empty = n == 0;
    c->num = n ? (sum * 100 * 2 + n) / (2 * n) : 0;
}

int rpt_satisfaction(struct rctx *x)
{
    const dg_report_query *q = x->q;
    dg_rsection *sec = rpt_section(x, "satisfaction", "Feedback and complaints by period",
                                   SATISFACTION_COLS, DG_ARRAY_LEN(SATISFACTION_COLS));
    int64_t tot[6] = {0, 0, 0, 0, 0, 0}; /* feedback rated sum complaints open resolved */
    char sql[SQL_MAX] = "";
    struct store_params ps = {.n = 0};
    int lo, hi, rc = DG_OK;
    dg_rcell *c;

    store_sql_append(sql,
                     "SELECT count(*), coalesce(sum(f.satisfaction > 0), 0),"
                     " coalesce(sum(f.satisfaction), 0), coalesce(sum(f.kind = 'complaint'), 0),"
                     " coalesce(sum(f.kind = 'complaint' AND f.status IN ('resolved', 'closed')),"
                     " 0) FROM feedback f JOIN customers c INDEXED BY customers_visibility"
                     " ON c.id = f.customer_id"
                     " WHERE f.archived_at IS NULL AND f.at_ms >= ?%d AND f.at_ms < ?%d",
                     lo = store_param_int(&ps, 0), hi = store_param_int(&ps, 0));
    rpt_visible(sql, &ps, q, true);
    for (size_t p = 0; p < q->n_periods && rc == DG_OK; p++) {
        const dg_report_period *per = &q->periods[p];
        sqlite3_stmt *s;
        int64_t v[5] = {0, 0, 0, 0, 0};

        ps.v[lo - 1].i = per->lo;
        ps.v[hi - 1].i = per->hi;
        if (!(s = rpt_prepare(x, sql, &ps)))
            return DG_EIO;
        if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            for (int k = 0; k < 5; k++)
                v[k] = sqlite3_column_int64(s, k);
            rc = sqlite3_step(s);
        }
        if ((rc = rpt_finish(x, s, rc, false)) != DG_OK)
            return rc;
        if (!(c = rpt_add_row(x, sec)))
            return DG_ENOMEM;
        c[0].text = per->label;
        c[1].text = per->from;
        c[2].text = per->to;
        c[3].num = v[0];
        c[4].num = v[1];
        average(&c[5], v[2], v[1]);
        c[6].num = v[3];
        c[7].num = v[3] - v[4];
        c[8].num = v[4];
        tot[0] += v[0], tot[1] += v[1], tot[2] += v[2], tot[3] += v[3], tot[4] += v[3] - v[4];
        tot[5] += v[4];
    }
    if (!(c = rpt_add_total(x, sec)))
        return DG_ENOMEM;
    c[0].text = "Total";
    c[3].num = tot[0];
    c[4].num = tot[1];
    average(&c[5], tot[2], tot[1]);
    c[6].num = tot[3];
    c[7].num = tot[4];
    c[8].num = tot[5];
    return DG_OK;
}
