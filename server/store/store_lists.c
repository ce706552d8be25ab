/* store_lists.c - pages of records in an order with a keyset cursor, a
 * customer's dossier in one read, and custom field definitions. The filter
 * and the reading of a record are store_records.c's (store_int.h).
 * Runs on: the thread that owns the connection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg.h"
#include "store_int.h"

#define SQL_MAX STORE_SQL_MAX

/* Copies column `col` of the current row of `s` into *key, keeping its
 * storage class. DG_ECORRUPT for a NULL or REAL: no sort column holds one. */
static int read_key(dg_store *st, sqlite3_stmt *s, int col, dg_arena *a, dg_sort_key *key)
{
    int type = sqlite3_column_type(s, col);
    const void *p;
    uint8_t *copy;

    if (type == SQLITE_INTEGER) {
        *key = (dg_sort_key){.type = DG_KEY_INT, .i = sqlite3_column_int64(s, col)};
        return DG_OK;
    }
    if (type != SQLITE_TEXT && type != SQLITE_BLOB) {
        snprintf(st->err, sizeof st->err, "sort column %s holds a %s", sqlite3_column_name(s, col),
                 type == SQLITE_NULL ? "NULL" : "REAL");
        return DG_ECORRUPT;
    }
    p = type == SQLITE_TEXT ? (const void *)sqlite3_column_text(s, col)
                            : sqlite3_column_blob(s, col);
    *key = (dg_sort_key){.type = type == SQLITE_TEXT ? DG_KEY_TEXT : DG_KEY_BLOB,
                         .len = (size_t)sqlite3_column_bytes(s, col)};
    if (!(copy = dg_arena_alloc(a, key->len ? key->len : 1)))
        return DG_ENOMEM;
    if (key->len)
        memcpy(copy, p, key->len);
    key->data = copy;
    return DG_OK;
}

/* Steps the list statement `s` into out (the sort key is its last column). */
static int list_rows(dg_store *st, sqlite3_stmt *s, const dg_list_query *q, dg_arena *a,
                     dg_list_page *out)
{
    size_t cap = q->limit ? q->limit : 1;
    int key_col = sqlite3_column_count(s) - 1;
    int rc;

    if (!(out->records = dg_arena_calloc(a, cap, sizeof *out->records)))
        return DG_ENOMEM;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        dg_record *r;

        if (out->n == q->limit) {
            out->has_more = true;
            return DG_OK;
        }
        if ((rc = store_rec_read_row(s, q->kind, a, &r)) != DG_OK)
            return rc;
        out->records[out->n++] = r;
        /* the next cursor's key: only the full page's last row can need one */
        if (out->n == q->limit && (rc = read_key(st, s, key_col, a, &out->last_key)) != DG_OK)
            return rc;
    }
    return rc == SQLITE_DONE ? DG_OK : store_err(st, rc);
}

/* Whether the index of a customer list's order should walk it with the
 * enum and owner filters checked row by row: the orders with an index of
 * their own but none per filter (name has customers_by_owner, _by_tier and
 * _by_status). A page is then what the walk meets until it is full: 101
 * rows of the code index for the newest customers (0.44 s at 100,000 when
 * the planner sorted every live customer), a few hundred for a filter
 * keeping a third (0.2-0.5 s sorting the rows of the filter's index), one
 * pass of the index at worst. The pool has its own partial index. */
static bool walks_order(const dg_list_query *q, const char *col)
{
    static const char *const own_index[] = {"id", "code", "updated_at", "last_contact_at"};

    if (q->kind != DG_KIND_CUSTOMER || q->pool_only)
        return false;
    for (size_t i = 0; i < DG_ARRAY_LEN(own_index); i++)
        if (strcmp(col, own_index[i]) == 0)
            return true;
    return false;
}

int dg_store_rec_list(dg_store *st, const dg_list_query *q, dg_arena *a, dg_list_page *out)
{
    const dg_entity *e = dg_entity_get(q->kind);
    const char *col = q->sort_column ? q->sort_column : "id";
    bool is_id = strcmp(col, "id") == 0;
    const char *cmp = q->is_desc ? "<" : ">", *dir = q->is_desc ? " DESC" : "";
    char sql[SQL_MAX] = "";
    struct store_params ps = {.n = 0};
    sqlite3_stmt *s;
    int rc, limit_param;

    memset(out, 0, sizeof *out);
    store_sql_append(sql, "SELECT %s, c.%s FROM %s c WHERE 1", store_rec_columns(q->kind, true),
                     col, e->table);
    store_rec_filter_list(sql, &ps, q, walks_order(q, col));
    if (q->has_after && is_id) {
        store_sql_append(sql, " AND c.id %s ?%d", cmp, store_param_int(&ps, q->after_id));
    } else if (q->has_after) {
        /* The key is bound with the storage class it was read with: a text
         * key bound as a blob sorts after every text, and paging breaks. */
        int pk = store_param_key(&ps, &q->after_key);

        store_sql_append(sql, " AND (c.%s, c.id) %s (?%d, ?%d)", col, cmp, pk,
                         store_param_int(&ps, q->after_id));
    }
    if (is_id)
        store_sql_append(sql, " ORDER BY c.id%s", dir);
    else
        store_sql_append(sql, " ORDER BY c.%s%s, c.id%s", col, dir, dir);
    limit_param = store_param_int(&ps, (int64_t)q->limit + 1); /* one more: is there a next page */
    store_sql_append(sql, " LIMIT ?%d", limit_param);
    if (!(s = store_stmt_text(st, sql)))
        return DG_EIO;
    store_params_bind(s, &ps);
    rc = list_rows(st, s, q, a, out);
    store_stmt_release(st, s);
    for (size_t i = 0; i < out->n && rc == DG_OK; i++)
        rc = store_rec_complete(st, out->records[i], a);
    return rc;
}

/* ------------------------------------------------------------ dossier */

/* Children of one customer: `where` and `order` follow "WHERE customer_id = ?1". */
static int children(dg_store *st, enum dg_kind k, int64_t customer_id, const char *more,
                    uint32_t limit, dg_arena *a, dg_record ***out, size_t *n)
{
    char sql[SQL_MAX + 512];
    sqlite3_stmt *s;
    int rc;

    snprintf(sql, sizeof sql,
             "SELECT %s FROM %s WHERE customer_id = ?1 AND archived_at IS NULL"
             " %s LIMIT ?2",
             store_rec_columns(k, false), dg_entity_get(k)->table, more);
    if (!(s = store_stmt_text(st, sql)))
        return DG_EIO;
    sqlite3_bind_int64(s, 1, customer_id);
    sqlite3_bind_int64(s, 2, limit);
    *n = 0;
    if (!(*out = dg_arena_calloc(a, limit ? limit : 1, sizeof **out))) {
        store_stmt_release(st, s);
        return DG_ENOMEM;
    }
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if ((rc = store_rec_read_row(s, k, a, &(*out)[*n])) != DG_OK) {
            store_stmt_release(st, s);
            return rc;
        }
        (*n)++;
    }
    store_stmt_release(st, s);
    return rc == SQLITE_DONE ? DG_OK : store_err(st, rc);
}

static const char SQL_COUNT_INTERACTIONS[] =
    "SELECT count(*) FROM interactions WHERE customer_id = ?1 AND archived_at IS NULL";
static const char SQL_DEAL_TOTALS[] =
    "SELECT amount_currency, sum(amount), count(*) FROM deals"
    " WHERE customer_id = ?1 AND archived_at IS NULL GROUP BY amount_currency"
    " ORDER BY amount_currency";
static const char SQL_FEEDBACK_SUMMARY[] =
    "SELECT count(*), coalesce(sum(status IN ('', 'open', 'in_progress')), 0),"
    " coalesce(avg(CASE WHEN satisfaction > 0 THEN satisfaction END), 0),"
    " coalesce(sum(kind = 'complaint'), 0), coalesce(sum(kind = 'suggestion'), 0),"
    " coalesce(sum(kind = 'praise'), 0), coalesce(sum(kind = 'survey'), 0)"
    " FROM feedback WHERE customer_id = ?1 AND archived_at IS NULL";

static int dossier_counts(dg_store *st, int64_t id, dg_arena *a, dg_dossier *d)
{
    sqlite3_stmt *s;
    size_t cap = 4;
    int rc;

    if (!(s = store_stmt(st, SQL_COUNT_INTERACTIONS)))
        return DG_EIO;
    sqlite3_bind_int64(s, 1, id);
    if ((rc = sqlite3_step(s)) == SQLITE_ROW)
        d->interaction_count = (uint32_t)sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    if (!(s = store_stmt(st, SQL_DEAL_TOTALS)))
        return DG_EIO;
    sqlite3_bind_int64(s, 1, id);
    d->totals = dg_arena_calloc(a, cap, sizeof *d->totals);
    while (d->totals && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (d->n_totals == cap) {
            dg_money_total *grown = dg_arena_calloc(a, cap * 2, sizeof *grown);

            if (!grown)
                break;
            memcpy(grown, d->totals, cap * sizeof *grown);
            d->totals = grown;
            cap *= 2;
        }
        d->totals[d->n_totals].currency = store_col_dup(s, 0, a);
        d->totals[d->n_totals].amount = sqlite3_column_int64(s, 1);
        d->totals[d->n_totals++].count = (uint32_t)sqlite3_column_int64(s, 2);
    }
    sqlite3_reset(s);
    if (!d->totals)
        return DG_ENOMEM;
    if (!(s = store_stmt(st, SQL_FEEDBACK_SUMMARY)))
        return DG_EIO;
    sqlite3_bind_int64(s, 1, id);
    if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        d->fb_total = (uint32_t)sqlite3_column_int64(s, 0);
        d->fb_open = (uint32_t)sqlite3_column_int64(s, 1);
        d->fb_average = sqlite3_column_double(s, 2);
        d->fb_complaints = (uint32_t)sqlite3_column_int64(s, 3);
        d->fb_suggestions = (uint32_t)sqlite3_column_int64(s, 4);
        d->fb_praise = (uint32_t)sqlite3_column_int64(s, 5);
        d->fb_surveys = (uint32_t)sqlite3_column_int64(s, 6);
    }
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? DG_OK : store_err(st, rc);
}

int dg_store_dossier(dg_store *st, int64_t customer_id, uint32_t recent_interactions, dg_arena *a,
                     dg_dossier *d)
{
    int rc;

    memset(d, 0, sizeof *d);
    if ((rc = children(st, DG_KIND_CONTACT, customer_id, "ORDER BY id", 200, a, &d->contacts,
                       &d->n_contacts)) != DG_OK ||
        (rc = children(st, DG_KIND_INTERACTION, customer_id, "ORDER BY at_ms DESC, id DESC",
                       recent_interactions, a, &d->interactions, &d->n_interactions)) != DG_OK ||
        (rc = children(st, DG_KIND_DEAL, customer_id, "ORDER BY at_ms DESC, id DESC", 100, a,
                       &d->deals, &d->n_deals)) != DG_OK ||
        (rc = children(st, DG_KIND_TASK, customer_id,
                       "AND done = 0 ORDER BY due_at_ms = 0, due_at_ms, id", 100, a, &d->open_tasks,
                       &d->n_open_tasks)) != DG_OK ||
        (rc = children(st, DG_KIND_FEEDBACK, customer_id, "ORDER BY at_ms DESC, id DESC", 10, a,
                       &d->feedback, &d->n_feedback)) != DG_OK)
        return rc;
    return dossier_counts(st, customer_id, a, d);
}

/* ------------------------------------------------------------ custom fields */

static const char SQL_FIELD_INSERT[] =
    "INSERT INTO custom_fields(name, label, type, choices, created_at, created_by)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char SQL_FIELD_GET[] =
    "SELECT id, name, label, type, choices, created_at FROM custom_fields WHERE name = ?1";
static const char SQL_FIELD_LIST[] =
    "SELECT id, name, label, type, choices, created_at FROM custom_fields ORDER BY name";

int dg_store_field_define(dg_store *st, dg_custom_field *f, int64_t by_user)
{
    sqlite3_stmt *s = store_stmt(st, SQL_FIELD_INSERT);
    int rc;

    if (!s)
        return DG_EIO;
    sqlite3_bind_text(s, 1, f->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, f->label, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, f->type, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, f->choices, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, f->created_at);
    store_bind_id(s, 6, by_user);
    if ((rc = store_exec_stmt(st, s)) == DG_OK)
        f->id = sqlite3_last_insert_rowid(st->db);
    return rc;
}

static int read_field(sqlite3_stmt *s, dg_arena *a, dg_custom_field *f)
{
    f->id = sqlite3_column_int64(s, 0);
    f->name = store_col_dup(s, 1, a);
    f->label = store_col_dup(s, 2, a);
    f->type = store_col_dup(s, 3, a);
    f->choices = store_col_dup(s, 4, a);
    f->created_at = sqlite3_column_int64(s, 5);
    return f->name && f->label && f->type && f->choices ? DG_OK : DG_ENOMEM;
}

int dg_store_field_get(dg_store *st, const char *name, dg_arena *a, dg_custom_field *out)
{
    sqlite3_stmt *s = store_stmt(st, SQL_FIELD_GET);
    int rc;

    if (!s)
        return DG_EIO;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        rc = read_field(s, a, out);
    else
        rc = rc == SQLITE_DONE ? DG_ENOTFOUND : store_err(st, rc);
    sqlite3_reset(s);
    return rc;
}

int dg_store_field_list(dg_store *st, dg_arena *a, dg_custom_field **out, size_t *n)
{
    sqlite3_stmt *s = store_stmt(st, SQL_FIELD_LIST);
    size_t cap = 16;
    int rc;

    *n = 0;
    if (!s)
        return DG_EIO;
    if (!(*out = dg_arena_calloc(a, cap, sizeof **out)))
        return DG_ENOMEM;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            dg_custom_field *grown = dg_arena_calloc(a, cap * 2, sizeof *grown);

            if (!grown) {
                sqlite3_reset(s);
                return DG_ENOMEM;
            }
            memcpy(grown, *out, cap * sizeof *grown);
            *out = grown;
            cap *= 2;
        }
        if ((rc = read_field(s, a, &(*out)[(*n)++])) != DG_OK) {
            sqlite3_reset(s);
            return rc;
        }
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? DG_OK : store_err(st, rc);
}
