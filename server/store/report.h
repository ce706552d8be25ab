/* report.h - the manager's reports, computed in SQL over the customers a
 * caller may see (restricted tiers left out inside the query, as in List:
 * store_rec_filter), answered as generic tables: sections of typed columns,
 * rows of cells and total rows. What each report counts is in
 * docs/customer-file.md ("Reports").
 *
 * The caller (the Report handler) works out the periods as UTC ranges of
 * local days in the team's time zone (common/tz.h) and the thresholds in
 * UTC ms; the store only compares instants. Any connection, inside a read
 * transaction (dg_store_read_begin); cells live in the arena.
 */
#ifndef DG_REPORT_H
#define DG_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "team.h"
#include "tz.h"

typedef enum dg_report_kind {
    DG_REPORT_NONE = 0,
    DG_REPORT_SUMMARY,
    DG_REPORT_REVENUE,
    DG_REPORT_PIPELINE,
    DG_REPORT_ACTIVITY,
    DG_REPORT_CHURN,
    DG_REPORT_SATISFACTION,
} dg_report_kind;

/* Same numbers as dangan.v1.ReportType. */
typedef enum dg_rtype {
    DG_RT_TEXT = 1,
    DG_RT_INT = 2,
    DG_RT_MONEY = 3,   /* num minor units of currency */
    DG_RT_DECIMAL = 4, /* num hundredths */
    DG_RT_DATE = 5,    /* text YYYY-MM-DD, "" none */
} dg_rtype;

typedef struct dg_rcol {
    const char *name, *label;
    dg_rtype type;
} dg_rcol;

typedef struct dg_rcell {
    const char *text; /* NULL: "" */
    int64_t num;
    const char *currency;
    bool is_empty;
} dg_rcell;

#define DG_REPORT_SECTIONS_MAX 6
#define DG_REPORT_LIST_MAX 200 /* rows of a list of customers (at risk, win-back) */
#define DG_REPORT_PERIODS_MAX 160

typedef struct dg_rsection {
    const char *name, *title;
    const dg_rcol *cols;
    size_t n_cols;
    dg_rcell *rows; /* n_rows × n_cols */
    size_t n_rows, cap_rows;
    dg_rcell *totals; /* n_totals × n_cols */
    size_t n_totals, cap_totals;
} dg_rsection;

typedef struct dg_report {
    dg_rsection sections[DG_REPORT_SECTIONS_MAX];
    size_t n_sections;
} dg_report;

/* A period: local days from..to (inclusive) as the UTC range [lo, hi). */
typedef struct dg_report_period {
    char label[24]; /* "2026-01", "2026-Q1", "2026-01-26" (a week's Monday) */
    char from[DG_DATE_LEN], to[DG_DATE_LEN];
    int64_t lo, hi;
    int days;
} dg_report_period;

typedef struct dg_report_query {
    dg_report_kind kind;
    const char *by; /* "" or the grouping asked for (validated by the caller) */
    const dg_report_period *periods;
    size_t n_periods;
    int64_t owner_id; /* 0: every owner (activity: every rep) */
    /* visibility (perm.c): customers of these tiers are left out unless
     * owned by viewer_id */
    const char *restricted[3];
    size_t n_restricted;
    int64_t viewer_id;
    const dg_team *team;
    const char *today; /* in the team's zone */
    int64_t now_ms;
    int64_t at_risk_before; /* last contact before this: at risk (dormancy nears) */
    int64_t dormant_before; /* ... before this: past the dormancy threshold */
} dg_report_query;

typedef struct dg_store dg_store;

/* Computes q into *out. DG_OK, DG_ENOMEM or a store error. */
int dg_store_report(dg_store *st, const dg_report_query *q, dg_arena *a, dg_report *out);

#endif
