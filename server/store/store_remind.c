/* store_remind.c - reminders in SQL: which come due (open tasks by due
 * time, notes' follow-up dates, contracts' expiry dates, each not yet sent),
 * marking them sent, the next task due, a customer's code, name and view.
 * Runs on: the writer thread (the reminder job reads and writes in one
 * transaction).
 */
#include "store_int.h"

#include <stdio.h>
#include <string.h>

#include "dg.h"
#include "dangan.pb-c.h"

#define K_TASK DANGAN__V1__REMINDER_KIND__REMINDER_KIND_TASK_DUE
#define K_FOLLOW_UP DANGAN__V1__REMINDER_KIND__REMINDER_KIND_FOLLOW_UP
#define K_CONTRACT DANGAN__V1__REMINDER_KIND__REMINDER_KIND_CONTRACT_EXPIRING

/* The customer's view in columns owner, owner + 1 (the tier's stored name). */
static dg_visibility view_of(sqlite3_stmt *s, int col)
{
    const dg_entity *e = dg_entity_get(DG_KIND_CUSTOMER);
    const char *tier = (const char *)sqlite3_column_text(s, col + 1);
    int value =
        tier ? dg_enum_value(e->fields[dg_entity_field_index(e, "tier")].enum_desc, tier) : -1;
    dg_visibility v = {.is_set = true, .owner_id = sqlite3_column_int64(s, col)};

    v.tier = value > 0 ? value : 0;
    return v;
}

/* Every due query selects: record id, customer id, title, due time (a
 * task's) or date, recipient, code, name, owner, tier. Each walks the
 * range of its index (due time, follow-up date, expiry date) and looks its
 * customers up: left to itself the planner walks every live customer and
 * seeks their tasks (a second a pass at 100,000 customers, with the writer
 * held all along). */
static int read_due(dg_store *st, sqlite3_stmt *s, int kind, int record_kind, uint32_t limit,
                    dg_arena *a, dg_remind_due **out, size_t *n)
{
    int rc;

    *n = 0;
    if (!(*out = dg_arena_calloc(a, limit ? limit : 1, sizeof **out))) {
        sqlite3_reset(s);
        return DG_ENOMEM;
    }
    while (*n < limit && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        dg_remind_due *d = &(*out)[*n];

        d->kind = kind;
        d->record_kind = record_kind;
        d->record_id = sqlite3_column_int64(s, 0);
        d->customer_id = sqlite3_column_int64(s, 1);
        d->title = store_col_dup(s, 2, a);
        if (kind == K_TASK) {
            d->due_at_ms = sqlite3_column_int64(s, 3);
            d->due_on = "";
        } else {
            d->due_on = store_col_dup(s, 3, a);
        }
        d->recipient_id = sqlite3_column_int64(s, 4);
        d->customer_code = store_col_dup(s, 5, a);
        d->customer_name = store_col_dup(s, 6, a);
        d->view = view_of(s, 7);
        if (!d->title || !d->due_on || !d->customer_code || !d->customer_name) {
            sqlite3_reset(s);
            return DG_ENOMEM;
        }
        (*n)++;
    }
    sqlite3_reset(s);
    if (*n < limit && rc != SQLITE_DONE)
        return store_err(st, rc);
    return DG_OK;
}

static const char SQL_DUE_TASKS[] =
    "SELECT t.id, t.customer_id, t.title, t.due_at_ms, coalesce(t.assignee_id, c.owner_id, 0),"
    " c.code, c.name, coalesce(c.owner_id, 0), c.tier"
    " FROM tasks AS t INDEXED BY tasks_by_due CROSS JOIN customers AS c ON c.id = t.customer_id"
    " WHERE t.due_at_ms > ?1 AND t.due_at_ms <= ?2 AND t.done = 0 AND t.archived_at IS NULL"
    "   AND c.archived_at IS NULL"
    "   AND NOT EXISTS (SELECT 1 FROM reminders_sent AS s"
    "                   WHERE s.kind = 1 AND s.record_id = t.id AND s.due_ms = t.due_at_ms)"
    " ORDER BY t.due_at_ms, t.id LIMIT ?3";

int dg_store_remind_tasks(dg_store *st, int64_t after_ms, int64_t upto_ms, uint32_t limit,
                          dg_arena *a, dg_remind_due **out, size_t *n)
{
    sqlite3_stmt *s = store_stmt(st, SQL_DUE_TASKS);

    *n = 0;
    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, after_ms);
    sqlite3_bind_int64(s, 2, upto_ms);
    sqlite3_bind_int64(s, 3, limit);
    return read_due(st, s, K_TASK, DANGAN__V1__ENTITY_KIND__ENTITY_KIND_TASK, limit, a, out, n);
}

static const char SQL_DUE_FOLLOW_UPS[] =
    "SELECT i.id, i.customer_id, i.summary, i.next_follow_up, coalesce(c.owner_id, 0),"
    " c.code, c.name, coalesce(c.owner_id, 0), c.tier"
    " FROM interactions AS i INDEXED BY interactions_by_follow_up CROSS JOIN customers AS c"
    " ON c.id = i.customer_id"
    " WHERE i.next_follow_up != '' AND i.next_follow_up >= ?1 AND i.next_follow_up <= ?2"
    "   AND i.archived_at IS NULL AND c.archived_at IS NULL"
    "   AND NOT EXISTS (SELECT 1 FROM reminders_sent AS s"
    "                   WHERE s.kind = 2 AND s.record_id = i.id"
    "                     AND s.due_ms = unixepoch(i.next_follow_up) * 1000)"
    " ORDER BY i.next_follow_up, i.id LIMIT ?3";

int dg_store_remind_follow_ups(dg_store *st, const char *from, const char *to, uint32_t limit,
                               dg_arena *a, dg_remind_due **out, size_t *n)
{
    sqlite3_stmt *s = store_stmt(st, SQL_DUE_FOLLOW_UPS);

    *n = 0;
    if (!s)
        return DG_EIO;
    sqlite3_bind_text(s, 1, from, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, to, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 3, limit);
    return read_due(st, s, K_FOLLOW_UP, DANGAN__V1__ENTITY_KIND__ENTITY_KIND_INTERACTION, limit, a,
                    out, n);
}

static const char SQL_DUE_CONTRACTS[] =
    "SELECT d.id, d.customer_id, d.title, d.expires_on, coalesce(c.owner_id, 0),"
    " c.code, c.name, coalesce(c.owner_id, 0), c.tier"
    " FROM documents AS d INDEXED BY documents_contract_expiry CROSS JOIN customers AS c"
    " ON c.id = d.customer_id"
    " WHERE d.kind = 'contract' AND d.expires_on != '' AND d.archived = 0"
    "   AND d.expires_on >= ?1 AND d.expires_on <= ?2 AND c.archived_at IS NULL"
    "   AND NOT EXISTS (SELECT 1 FROM reminders_sent AS s"
    "                   WHERE s.kind = 3 AND s.record_id = d.id"
    "                     AND s.due_ms = unixepoch(d.expires_on) * 1000)"
    " ORDER BY d.expires_on, d.id LIMIT ?3";

int dg_store_remind_contracts(dg_store *st, const char *from, const char *to, uint32_t limit,
                              dg_arena *a, dg_remind_due **out, size_t *n)
{
    sqlite3_stmt *s = store_stmt(st, SQL_DUE_CONTRACTS);

    *n = 0;
    if (!s)
        return DG_EIO;
    sqlite3_bind_text(s, 1, from, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, to, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 3, limit);
    return read_due(st, s, K_CONTRACT, DANGAN__V1__ENTITY_KIND__ENTITY_KIND_DOCUMENT, limit, a, out,
                    n);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil), as SQLite's unixepoch() counts them. */
static int64_t days_from_civil(int y, int m, int d)
{
    int64_t era, yoe, doy;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

int64_t dg_store_remind_key(const dg_remind_due *d)
{
    int y, m, day;

    if (d->kind == K_TASK || sscanf(d->due_on, "%4d-%2d-%2d", &y, &m, &day) != 3)
        return d->due_at_ms;
    return days_from_civil(y, m, day) * 86400000;
}

static const char SQL_MARK[] = "INSERT OR IGNORE INTO reminders_sent(kind, record_id, due_ms,"
                               " sent_at) VALUES (?1, ?2, ?3, ?4)";

int dg_store_remind_mark(dg_store *st, const dg_remind_due *d, int64_t at)
{
    sqlite3_stmt *s = store_stmt(st, SQL_MARK);

    if (!s)
        return DG_EIO;
    sqlite3_bind_int(s, 1, d->kind);
    sqlite3_bind_int64(s, 2, d->record_id);
    sqlite3_bind_int64(s, 3, dg_store_remind_key(d));
    sqlite3_bind_int64(s, 4, at);
    return store_exec_stmt(st, s);
}

static const char SQL_PRUNE[] =
    "DELETE FROM reminders_sent WHERE (kind, record_id, due_ms) IN"
    " (SELECT kind, record_id, due_ms FROM reminders_sent WHERE due_ms < ?1 LIMIT ?2)";

int dg_store_remind_prune(dg_store *st, int64_t before, int max)
{
    sqlite3_stmt *s = store_stmt(st, SQL_PRUNE);

    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, before);
    sqlite3_bind_int(s, 2, max);
    return store_exec_stmt(st, s);
}

static const char SQL_NEXT_TASK[] =
    "SELECT due_at_ms FROM tasks WHERE due_at_ms > ?1 AND done = 0 AND archived_at IS NULL"
    " ORDER BY due_at_ms LIMIT 1";

int dg_store_remind_next_task(dg_store *st, int64_t after_ms, int64_t *due)
{
    sqlite3_stmt *s = store_stmt(st, SQL_NEXT_TASK);
    int rc;

    *due = 0;
    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, after_ms);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *due = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? DG_OK : store_err(st, rc);
}

static const char SQL_BRIEF[] =
    "SELECT code, name, coalesce(owner_id, 0), tier FROM customers WHERE id = ?1";

int dg_store_customer_brief(dg_store *st, int64_t id, dg_arena *a, const char **code,
                            const char **name, dg_visibility *view)
{
    sqlite3_stmt *s = store_stmt(st, SQL_BRIEF);
    int rc;

    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, id);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *code = store_col_dup(s, 0, a);
        *name = store_col_dup(s, 1, a);
        *view = view_of(s, 2);
        rc = *code && *name ? DG_OK : DG_ENOMEM;
    } else {
        rc = rc == SQLITE_DONE ? DG_ENOTFOUND : store_err(st, rc);
    }
    sqlite3_reset(s);
    return rc;
}
