/* store_tiers.c - the rows the ABC classification ranks (store_tiers.h):
 * live customers in id order, with the won revenue of each, each read by
 * one walk of a covering index (customers_live_tier, deals_won).
 * Runs on: the thread that owns the connection.
 */
#include "store_tiers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg.h"
#include "store_int.h"

/* INDEXED BY: without statistics the planner takes customers_report
 * (archived_at first) and sorts every live customer by id (1.0 s at a
 * million); the partial index is already in id order (0.15 s). */
static const char SQL_LIVE_CUSTOMERS[] =
    "SELECT id, coalesce(owner_id, 0), tier FROM customers INDEXED BY customers_live_tier"
    " WHERE archived_at IS NULL ORDER BY id";

/* The Tier value of a stored tier name; -1 for none of them. */
static int tier_value(const char *s)
{
    if (!s || !s[0])
        return 0;
    if (!s[1] && s[0] >= 'a' && s[0] <= 'c')
        return s[0] - 'a' + 1;
    return -1;
}

static int read_customers(dg_store *st, dg_tier_row **out, size_t *n)
{
    sqlite3_stmt *s = store_stmt(st, SQL_LIVE_CUSTOMERS);
    size_t cap = 1024;
    dg_tier_row *rows = malloc(cap * sizeof *rows);
    int rc = DG_OK, step = SQLITE_DONE;

    *out = NULL;
    *n = 0;
    if (!s || !rows) {
        free(rows);
        return s ? DG_ENOMEM : DG_EIO;
    }
    while (rc == DG_OK && (step = sqlite3_step(s)) == SQLITE_ROW) {
        const char *tier_name = (const char *)sqlite3_column_text(s, 2);
        int tier = tier_value(tier_name);

        if (*n == cap) {
            dg_tier_row *grown = realloc(rows, 2 * cap * sizeof *rows);

            if (!grown) {
                rc = DG_ENOMEM;
                break;
            }
            rows = grown;
            cap *= 2;
        }
        if (tier < 0) {
            snprintf(st->err, sizeof st->err, "customer %lld has the tier \"%s\"",
                     (long long)sqlite3_column_int64(s, 0), tier_name);
            rc = DG_ECORRUPT;
            break;
        }
        rows[(*n)++] = (dg_tier_row){.customer_id = sqlite3_column_int64(s, 0),
                                     .owner_id = sqlite3_column_int64(s, 1),
                                     .tier = tier};
    }
    if (rc == DG_OK && step != SQLITE_DONE)
        rc = store_err(st, step);
    sqlite3_reset(s);
    if (rc != DG_OK) {
        free(rows);
        *n = 0;
        return rc;
    }
    *out = rows;
    return DG_OK;
}

/* The row of customer `id` in rows (id order), or NULL. */
static dg_tier_row *row_of(dg_tier_row *rows, size_t n, int64_t id)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (rows[mid].customer_id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && rows[lo].customer_id == id ? &rows[lo] : NULL;
}

/* Adds each won deal's amount to its customer's row (rows in id order;
 * deals of customers not among them, archived ones, are skipped). The sums
 * are made here rather than by GROUP BY, which would sort every deal of the
 * window in a temporary b-tree: the index walk alone is what it costs. */
static int add_revenue(dg_store *st, const dg_revenue_window *w, dg_tier_row *rows, size_t n)
{
    char sql[STORE_SQL_MAX] = "";
    struct store_params ps = {.n = 0};
    sqlite3_stmt *s;
    int rc;

    if (w->n_won == 0)
        return DG_OK; /* a pipeline without a won stage: nobody has revenue */
    store_sql_append(sql, "SELECT customer_id, amount FROM deals WHERE stage IN (");
    for (size_t k = 0; k < w->n_won && k < 12; k++)
        store_sql_append(sql, "%s?%d", k ? ", " : "", store_param_text(&ps, w->won[k]));
    store_sql_append(sql,
                     ") AND amount_currency = ?%d AND at_ms >= ?%d AND at_ms <= ?%d"
                     " AND archived_at IS NULL",
                     store_param_text(&ps, w->currency), store_param_int(&ps, w->from_ms),
                     store_param_int(&ps, w->to_ms));
    if (!(s = store_stmt_text(st, sql)))
        return DG_EIO;
    store_params_bind(s, &ps);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        dg_tier_row *row = row_of(rows, n, sqlite3_column_int64(s, 0));

        if (row)
            row->revenue += sqlite3_column_int64(s, 1);
    }
    store_stmt_release(st, s);
    return rc == SQLITE_DONE ? DG_OK : store_err(st, rc);
}

int dg_store_tier_rows(dg_store *st, const dg_revenue_window *w, dg_tier_row **out, size_t *n)
{
    int rc = read_customers(st, out, n);

    if (rc == DG_OK && (rc = add_revenue(st, w, *out, *n)) != DG_OK) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}
