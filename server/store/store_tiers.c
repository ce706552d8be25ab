/* store_tiers.c - the rows the ABC classification ranks (store_tiers.h):
 * live customers in id order, merged with the won revenue per customer,
 * each read by one index walk.
 * Runs on: the thread that owns the connection.
 */
#include "store_tiers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg.h"
#include "store_int.h"

static const char SQL_LIVE_CUSTOMERS[] =
    "SELECT id, coalesce(owner_id, 0), tier FROM customers WHERE archived_at IS NULL ORDER BY id";

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

/* Adds each customer's revenue to its row (rows in id order; customers not
 * among them, archived ones, are skipped). */
static int add_revenue(dg_store *st, const dg_revenue_window *w, dg_tier_row *rows, size_t n)
{
    char sql[STORE_SQL_MAX] = "";
    struct store_params ps = {.n = 0};
    sqlite3_stmt *s;
    size_t i = 0;
    int rc;

    if (w->n_won == 0)
        return DG_OK; /* a pipeline without a won stage: nobody has revenue */
    store_sql_append(sql, "SELECT customer_id, sum(amount) FROM deals WHERE stage IN (");
    for (size_t k = 0; k < w->n_won && k < 12; k++)
        store_sql_append(sql, "%s?%d", k ? ", " : "", store_param_text(&ps, w->won[k]));
    store_sql_append(sql,
                     ") AND at_ms >= ?%d AND at_ms <= ?%d AND amount_currency = ?%d"
                     " AND archived_at IS NULL GROUP BY customer_id ORDER BY customer_id",
                     store_param_int(&ps, w->from_ms), store_param_int(&ps, w->to_ms),
                     store_param_text(&ps, w->currency));
    if (!(s = store_stmt_text(st, sql)))
        return DG_EIO;
    store_params_bind(s, &ps);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(s, 0);

        while (i < n && rows[i].customer_id < id)
            i++;
        if (i < n && rows[i].customer_id == id)
            rows[i].revenue = sqlite3_column_int64(s, 1);
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
