/* store_feed.c - the change feed in SQL: appending a committed change with
 * its view and fields, reading the changes after a cursor, the head, and
 * pruning past the retention.
 * Runs on: the thread that owns the connection (appends: the writer).
 */
#include "store_int.h"

#include <stdio.h>
#include <string.h>

#include "dg.h"

static const char SQL_FEED_HEAD[] = "SELECT coalesce(max(seq), 0) FROM changes";

int dg_store_feed_head(dg_store *st, int64_t *seq)
{
    sqlite3_stmt *s = store_stmt(st, SQL_FEED_HEAD);
    int rc;

    if (!s)
        return DG_EIO;
    rc = sqlite3_step(s);
    *seq = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? DG_OK : store_err(st, rc);
}

static const char SQL_CHANGE[] =
    "INSERT INTO changes(at, actor_id, entity, entity_id, customer_id, op, version,"
    " vis_before_owner, vis_before_tier, vis_after_owner, vis_after_tier, customer_name,"
    " customer_code) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
static const char SQL_CHANGE_FIELD[] =
    "INSERT INTO change_fields(seq, pos, field, old_value, new_value) VALUES (?1, ?2, ?3, ?4, ?5)";
static const char SQL_REMINDER[] =
    "INSERT INTO reminders(seq, recipient_id, kind, record_kind, record_id, due_at_ms,"
    " remind_at_ms, due_on, title, customer_code, customer_name, time_zone)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";

static int append_reminder(dg_store *st, int64_t seq, const dg_reminder *r)
{
    sqlite3_stmt *s = store_stmt(st, SQL_REMINDER);

    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, seq);
    sqlite3_bind_int64(s, 2, r->recipient_id);
    sqlite3_bind_int(s, 3, r->kind);
    sqlite3_bind_int(s, 4, r->record_kind);
    sqlite3_bind_int64(s, 5, r->record_id);
    sqlite3_bind_int64(s, 6, r->due_at_ms);
    sqlite3_bind_int64(s, 7, r->remind_at_ms);
    sqlite3_bind_text(s, 8, r->due_on, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 9, r->title, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 10, r->customer_code, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 11, r->customer_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 12, r->time_zone, -1, SQLITE_STATIC);
    return store_exec_stmt(st, s);
}

/* Binds view `v` as an owner at `p` and a tier name at p + 1 (NULL, NULL: none). */
static void bind_visibility(sqlite3_stmt *s, int p, const dg_visibility *v)
{
    const dg_entity *e = dg_entity_get(DG_KIND_CUSTOMER);
    const dg_field *tier = &e->fields[dg_entity_field_index(e, "tier")];
    char name[16];
    const char *n;

    if (!v->is_set) {
        sqlite3_bind_null(s, p);
        sqlite3_bind_null(s, p + 1);
        return;
    }
    n = dg_enum_name(tier->enum_desc, v->tier, name, sizeof name);
    /* from a record: the wire validator refused tiers the enum lacks, and
     * the store reads a stored name it does not know as unspecified */
    dg_assert(n);
    sqlite3_bind_int64(s, p, v->owner_id);
    sqlite3_bind_text(s, p + 1, n, -1, SQLITE_TRANSIENT);
}

int dg_store_change_append(dg_store *st, const dg_change *c, int64_t *seq)
{
    sqlite3_stmt *s = store_stmt(st, SQL_CHANGE);
    int rc;

    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, c->at);
    store_bind_id(s, 2, c->actor_id);
    sqlite3_bind_text(s, 3, c->entity, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, c->entity_id);
    store_bind_id(s, 5, c->customer_id);
    sqlite3_bind_text(s, 6, c->op, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, c->version);
    bind_visibility(s, 8, &c->vis_before);
    bind_visibility(s, 10, &c->vis_after);
    store_bind_text(s, 12, c->customer_name);
    store_bind_text(s, 13, c->customer_code);
    if ((rc = store_exec_stmt(st, s)) != DG_OK)
        return rc;
    *seq = sqlite3_last_insert_rowid(st->db);
    if (c->reminder && (rc = append_reminder(st, *seq, c->reminder)) != DG_OK)
        return rc;
    for (size_t i = 0; i < c->n_fields; i++) {
        if (!(s = store_stmt(st, SQL_CHANGE_FIELD)))
            return DG_EIO;
        sqlite3_bind_int64(s, 1, *seq);
        sqlite3_bind_int64(s, 2, (int64_t)i);
        sqlite3_bind_text(s, 3, c->fields[i], -1, SQLITE_STATIC);
        store_bind_text(s, 4, c->old_values ? c->old_values[i] : NULL);
        store_bind_text(s, 5, c->new_values ? c->new_values[i] : NULL);
        if ((rc = store_exec_stmt(st, s)) != DG_OK)
            return rc;
    }
    return DG_OK;
}

static const char SQL_CHANGES_AFTER[] =
    "SELECT seq, at, coalesce(actor_id, 0), entity, entity_id, coalesce(customer_id, 0), op,"
    " version, vis_before_owner, vis_before_tier, vis_after_owner, vis_after_tier,"
    " customer_name, customer_code FROM changes WHERE seq > ?1 ORDER BY seq LIMIT ?2";
static const char SQL_CHANGES_OLDEST[] = "SELECT coalesce(min(seq), 0) FROM changes";
static const char SQL_CHANGE_FIELDS[] =
    "SELECT seq, field, old_value, new_value FROM change_fields WHERE seq >= ?1 AND seq <= ?2 "
    "ORDER BY seq, pos";

/* The view in columns owner, owner + 1 (the tier's stored name). */
static dg_visibility col_visibility(sqlite3_stmt *s, int col)
{
    const dg_entity *e = dg_entity_get(DG_KIND_CUSTOMER);
    const char *tier = (const char *)sqlite3_column_text(s, col + 1);
    dg_visibility v = {0};
    int value;

    if (sqlite3_column_type(s, col) == SQLITE_NULL || !tier)
        return v;
    value = dg_enum_value(e->fields[dg_entity_field_index(e, "tier")].enum_desc, tier);
    if (value < 0)
        return v; /* not a tier this program knows: no view, so nobody new sees it */
    v.is_set = true;
    v.owner_id = sqlite3_column_int64(s, col);
    v.tier = value;
    return v;
}

/* Column `col` as a new string in `a`, NULL for NULL; *is_oom when over budget. */
static const char *col_dup_or_null(sqlite3_stmt *s, int col, dg_arena *a, bool *is_oom)
{
    const char *t;

    if (sqlite3_column_type(s, col) == SQLITE_NULL)
        return NULL;
    if (!(t = store_col_dup(s, col, a)))
        *is_oom = true;
    return t;
}

/* The changed items of a range of rows, in one array each (names, values
 * before and after) handed out to the rows as slices. */
struct items {
    const char **names, **olds, **news;
    size_t len, cap;
};

static bool items_grow(struct items *it, dg_arena *a)
{
    const char **arrays[3] = {it->names, it->olds, it->news};
    size_t cap = it->cap ? it->cap * 2 : 64;

    for (int k = 0; k < 3; k++) {
        const char **grown = dg_arena_calloc(a, cap, sizeof *grown);

        if (!grown)
            return false;
        if (it->len)
            memcpy(grown, arrays[k], it->len * sizeof *grown);
        arrays[k] = grown;
    }
    it->names = arrays[0];
    it->olds = arrays[1];
    it->news = arrays[2];
    it->cap = cap;
    return true;
}

/* Gives rows[0 .. n) (in seq order, no NULL fields) their changed fields
 * and values from the table, in `a`. */
static int read_change_fields(dg_store *st, dg_change_row *rows, size_t n, dg_arena *a)
{
    sqlite3_stmt *s;
    size_t i = 0;
    size_t *first; /* by row: the index in `it` of its first field */
    struct items it = {0};
    bool is_oom = false;
    int rc;

    if (n == 0)
        return DG_OK;
    if (!(first = dg_arena_calloc(a, n, sizeof *first)))
        return DG_ENOMEM;
    if (!(s = store_stmt(st, SQL_CHANGE_FIELDS)))
        return DG_EIO;
    sqlite3_bind_int64(s, 1, rows[0].seq);
    sqlite3_bind_int64(s, 2, rows[n - 1].seq);
    /* Both in seq order: each row's fields are the next run of the result. */
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(s, 0);

        while (i < n && rows[i].seq < seq)
            i++;
        if (i == n || rows[i].seq != seq)
            continue; /* cannot be: rows holds every change in the range */
        if (it.len == it.cap && !items_grow(&it, a)) {
            rc = SQLITE_NOMEM;
            break;
        }
        it.names[it.len] = store_col_dup(s, 1, a);
        it.olds[it.len] = col_dup_or_null(s, 2, a, &is_oom);
        it.news[it.len] = col_dup_or_null(s, 3, a, &is_oom);
        if (!it.names[it.len] || is_oom) {
            rc = SQLITE_NOMEM;
            break;
        }
        if (rows[i].c.n_fields++ == 0)
            first[i] = it.len;
        it.len++;
    }
    sqlite3_reset(s);
    if (rc == SQLITE_NOMEM)
        return DG_ENOMEM; /* the arena's budget, not SQLite's memory */
    if (rc != SQLITE_DONE)
        return store_err(st, rc);
    for (size_t k = 0; k < n; k++) {
        if (!rows[k].c.n_fields)
            continue;
        rows[k].c.fields = &it.names[first[k]];
        rows[k].c.old_values = &it.olds[first[k]];
        rows[k].c.new_values = &it.news[first[k]];
    }
    return DG_OK;
}

static const char SQL_REMINDERS[] =
    "SELECT seq, recipient_id, kind, record_kind, record_id, due_at_ms, remind_at_ms, due_on,"
    " title, customer_code, customer_name, time_zone"
    " FROM reminders WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq";

/* Gives the reminder rows among rows[0 .. n) (in seq order) their payload;
 * one without (it cannot be: they are written together) keeps none and
 * reaches nobody. */
static int read_reminders(dg_store *st, dg_change_row *rows, size_t n, dg_arena *a)
{
    sqlite3_stmt *s;
    size_t i = 0;
    bool any = false;
    int rc;

    for (size_t k = 0; k < n && !any; k++)
        any = strcmp(rows[k].c.entity, "reminder") == 0;
    if (!any)
        return DG_OK;
    if (!(s = store_stmt(st, SQL_REMINDERS)))
        return DG_EIO;
    sqlite3_bind_int64(s, 1, rows[0].seq);
    sqlite3_bind_int64(s, 2, rows[n - 1].seq);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(s, 0);
        dg_reminder *r;

        while (i < n && rows[i].seq < seq)
            i++;
        if (i == n || rows[i].seq != seq)
            continue;
        if (!(r = dg_arena_calloc(a, 1, sizeof *r))) {
            rc = SQLITE_NOMEM;
            break;
        }
        r->recipient_id = sqlite3_column_int64(s, 1);
        r->kind = sqlite3_column_int(s, 2);
        r->record_kind = sqlite3_column_int(s, 3);
        r->record_id = sqlite3_column_int64(s, 4);
        r->due_at_ms = sqlite3_column_int64(s, 5);
        r->remind_at_ms = sqlite3_column_int64(s, 6);
        r->due_on = store_col_dup(s, 7, a);
        r->title = store_col_dup(s, 8, a);
        r->customer_code = store_col_dup(s, 9, a);
        r->customer_name = store_col_dup(s, 10, a);
        r->time_zone = store_col_dup(s, 11, a);
        if (!r->due_on || !r->title || !r->customer_code || !r->customer_name || !r->time_zone) {
            rc = SQLITE_NOMEM;
            break;
        }
        rows[i].c.reminder = r;
    }
    sqlite3_reset(s);
    if (rc == SQLITE_NOMEM)
        return DG_ENOMEM;
    return rc == SQLITE_DONE ? DG_OK : store_err(st, rc);
}

int dg_store_changes_after(dg_store *st, int64_t after_seq, uint32_t limit, dg_arena *a,
                           dg_change_row **out, size_t *n, int64_t *oldest)
{
    static const char *const no_fields[1];
    sqlite3_stmt *s = store_stmt(st, SQL_CHANGES_OLDEST);
    bool is_oom = false;
    int rc;

    *n = 0;
    if (!s)
        return DG_EIO;
    rc = sqlite3_step(s);
    *oldest = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_reset(s);
    if (rc != SQLITE_ROW)
        return store_err(st, rc);
    if (!(*out = dg_arena_calloc(a, limit ? limit : 1, sizeof **out)))
        return DG_ENOMEM;
    if (!(s = store_stmt(st, SQL_CHANGES_AFTER)))
        return DG_EIO;
    sqlite3_bind_int64(s, 1, after_seq);
    sqlite3_bind_int64(s, 2, limit);
    while (*n < limit && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        dg_change_row *r = &(*out)[*n];

        r->seq = sqlite3_column_int64(s, 0);
        r->c = (dg_change){
            .at = sqlite3_column_int64(s, 1),
            .actor_id = sqlite3_column_int64(s, 2),
            .entity = store_col_dup(s, 3, a),
            .entity_id = sqlite3_column_int64(s, 4),
            .customer_id = sqlite3_column_int64(s, 5),
            .op = store_col_dup(s, 6, a),
            .version = sqlite3_column_int64(s, 7),
            .fields = no_fields,
            .vis_before = col_visibility(s, 8),
            .vis_after = col_visibility(s, 10),
        };
        r->c.customer_name = col_dup_or_null(s, 12, a, &is_oom);
        r->c.customer_code = col_dup_or_null(s, 13, a, &is_oom);
        if (!r->c.entity || !r->c.op || is_oom) {
            sqlite3_reset(s);
            return DG_ENOMEM;
        }
        (*n)++;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_err(st, rc);
    if ((rc = read_change_fields(st, *out, *n, a)) != DG_OK)
        return rc;
    return read_reminders(st, *out, *n, a);
}

/* Pruning removes a prefix of the feed, never rows in the middle: a cursor
 * older than the oldest row left is told to resync, and any other cursor
 * must find every later row still there. The oldest rows are read in seq
 * order (the rowid: no scan of the table) up to the first one to keep. */
static const char SQL_CHANGES_HEAD[] = "SELECT seq, at FROM changes ORDER BY seq LIMIT ?1";
static const char SQL_CHANGES_MAX[] = "SELECT coalesce(max(seq), 0) FROM changes";
static const char SQL_CHANGES_PRUNE[] = "DELETE FROM changes WHERE seq <= ?1";

int dg_store_changes_prune(dg_store *st, int64_t before, int64_t keep, int max, int *n)
{
    sqlite3_stmt *s = store_stmt(st, SQL_CHANGES_MAX);
    int64_t newest, last = 0;
    int rc;

    *n = 0;
    if (!s)
        return DG_EIO;
    if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
        sqlite3_reset(s);
        return store_err(st, rc);
    }
    newest = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    if (!(s = store_stmt(st, SQL_CHANGES_HEAD)))
        return DG_EIO;
    sqlite3_bind_int(s, 1, max);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(s, 0);

        if (seq > newest - keep || sqlite3_column_int64(s, 1) >= before)
            break; /* the first row to keep */
        last = seq;
        (*n)++;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_err(st, rc);
    if (last == 0)
        return DG_OK;
    if (!(s = store_stmt(st, SQL_CHANGES_PRUNE)))
        return DG_EIO;
    sqlite3_bind_int64(s, 1, last);
    return store_exec_stmt(st, s);
}
