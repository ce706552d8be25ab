/* store_reports_int.h - what the report files share (store_reports.c: the
 * tables and the query helpers; store_reports_health.c: churn and
 * satisfaction). Internal to server/store. */
#ifndef DG_STORE_REPORTS_INT_H
#define DG_STORE_REPORTS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "report.h"
#include "store_int.h"

#define SQL_MAX STORE_SQL_MAX

/* One report being computed: its query, the arena its cells go in, the answer. */
struct rctx {
    dg_store *st;
    const dg_report_query *q;
    dg_arena *a;
    dg_report *out;
};

dg_rsection *rpt_section(struct rctx *x, const char *name, const char *title, const dg_rcol *cols,
                         size_t n_cols);
dg_rcell *rpt_add_row(struct rctx *x, dg_rsection *s);
dg_rcell *rpt_add_total(struct rctx *x, dg_rsection *s);
const char *rpt_col_text(struct rctx *x, sqlite3_stmt *s, int col);
const char *rpt_local_date(struct rctx *x, int64_t ms);
void rpt_visible(char *sql, struct store_params *ps, const dg_report_query *q, bool with_owner);
sqlite3_stmt *rpt_prepare(struct rctx *x, const char *sql, const struct store_params *ps);
int rpt_finish(struct rctx *x, sqlite3_stmt *s, int rc, bool is_oom);

int rpt_count_section(struct rctx *x, const char *name, const char *title, const char *expr,
                      const char *join, const char *where, const char *group, const char *order);

/* The churn and satisfaction reports (store_reports_health.c). */
int rpt_churn(struct rctx *x);
int rpt_satisfaction(struct rctx *x);

#endif
