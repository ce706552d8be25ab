/* store_audit.c - the rows of the audit log: append, newest, scan, query.
 *
 * Plain row access: the chain's hashing and verification live in audit.c,
 * who may read the log in the handlers. Nothing here updates or deletes a
 * row (and the schema's triggers refuse it). Runs on: the thread that owns
 * the connection.
 */
#include <stdio.h>
#include <string.h>

#include "dg.h"
#include "store_int.h"

static const char SQL_AUDIT_INSERT[] =
    "INSERT INTO audit_log(seq, at, user_id, username, peer, action, entity, entity_id, outcome,"
    " detail, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
static const char SQL_AUDIT_LAST[] = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1";
static const char SQL_AUDIT_ALL[] =
    "SELECT seq, at, user_id, username, peer, action, entity, entity_id, outcome, detail, hash"
    " FROM audit_log ORDER BY seq";
static const char SQL_AUDIT_FROM[] =
    "SELECT seq, at, user_id, username, peer, action, entity, entity_id, outcome, detail, hash"
    " FROM audit_log WHERE seq >= ?1 ORDER BY seq";

int dg_store_audit_insert(dg_store *st, const dg_audit_rec *r, const uint8_t hash[32])
{
    sqlite3_stmt *s = store_stmt(st, SQL_AUDIT_INSERT);

    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, r->seq);
    sqlite3_bind_int64(s, 2, r->at);
    store_bind_id(s, 3, r->user_id);
    sqlite3_bind_text(s, 4, r->username, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, r->peer, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, r->action, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 7, r->entity, -1, SQLITE_STATIC);
    store_bind_id(s, 8, r->entity_id);
    sqlite3_bind_text(s, 9, r->outcome, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 10, r->detail, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 11, hash, 32, SQLITE_STATIC);
    return store_exec_stmt(st, s);
}

int dg_store_audit_last(dg_store *st, int64_t *seq, uint8_t hash[32])
{
    sqlite3_stmt *s = store_stmt(st, SQL_AUDIT_LAST);
    int rc;

    if (!s)
        return DG_EIO;
    rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(s);
        return rc == SQLITE_DONE ? DG_ENOTFOUND : store_err(st, rc);
    }
    *seq = sqlite3_column_int64(s, 0);
    if (sqlite3_column_bytes(s, 1) != 32) {
        sqlite3_reset(s);
        return DG_ECORRUPT;
    }
    memcpy(hash, sqlite3_column_blob(s, 1), 32);
    sqlite3_reset(s);
    return DG_OK;
}

static const char *col_text(sqlite3_stmt *s, int col)
{
    const unsigned char *t = sqlite3_column_text(s, col);

    return t ? (const char *)t : "";
}

/* The row under the statement's cursor; strings point into the statement. */
static void read_row(sqlite3_stmt *s, dg_audit_row *row)
{
    int n = sqlite3_column_bytes(s, 10);

    row->rec = (dg_audit_rec){
        .seq = sqlite3_column_int64(s, 0),
        .at = sqlite3_column_int64(s, 1),
        .user_id = sqlite3_column_int64(s, 2),
        .username = col_text(s, 3),
        .peer = col_text(s, 4),
        .action = col_text(s, 5),
        .entity = col_text(s, 6),
        .entity_id = sqlite3_column_int64(s, 7),
        .outcome = col_text(s, 8),
        .detail = col_text(s, 9),
    };
    row->hash_len = n < 0 ? 0 : (size_t)n;
    memset(row->hash, 0, sizeof row->hash);
    if (n > 0)
        memcpy(row->hash, sqlite3_column_blob(s, 10), n < 32 ? (size_t)n : 32);
}

int dg_store_audit_each(dg_store *st, bool (*fn)(void *ctx, const dg_audit_row *row), void *ctx)
{
    return dg_store_audit_each_from(st, 0, fn, ctx);
}

int dg_store_audit_each_from(dg_store *st, int64_t from_seq,
                             bool (*fn)(void *ctx, const dg_audit_row *row), void *ctx)
{
    sqlite3_stmt *s = store_stmt(st, from_seq > 0 ? SQL_AUDIT_FROM : SQL_AUDIT_ALL);
    dg_audit_row row;
    int rc;

    if (!s)
        return DG_EIO;
    if (from_seq > 0)
        sqlite3_bind_int64(s, 1, from_seq);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        read_row(s, &row);
        if (!fn(ctx, &row)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? DG_OK : store_err(st, rc);
}

/* Appends " AND <clause>" for each filter that is set; binds follow in the
 * same order in bind_filter(). */
static void where(const dg_audit_filter *f, char *sql, size_t len)
{
    size_t at = strlen(sql);

#define CLAUSE(cond, text)                                                                         \
    do {                                                                                           \
        if ((cond) && at < len)                                                                    \
            at += (size_t)snprintf(sql + at, len - at, " AND %s", (text));                         \
    } while (0)
    CLAUSE(f->before_seq > 0, "seq < ?");
    CLAUSE(f->username && *f->username, "username = ?");
    if (f->action && *f->action && f->action[strlen(f->action) - 1] == '.')
        CLAUSE(true, "substr(action, 1, ?) = ?");
    else
        CLAUSE(f->action && *f->action, "action = ?");
    CLAUSE(f->entity && *f->entity, "entity = ?");
    CLAUSE(f->entity_id != 0, "entity_id = ?");
    CLAUSE(f->since != 0, "at >= ?");
    CLAUSE(f->until != 0, "at < ?");
    CLAUSE(f->outcome && *f->outcome, "outcome = ?");
#undef CLAUSE
}

/* Returns the next free parameter index. */
static int bind_filter(sqlite3_stmt *s, const dg_audit_filter *f)
{
    int i = 1;

    if (f->before_seq > 0)
        sqlite3_bind_int64(s, i++, f->before_seq);
    if (f->username && *f->username)
        sqlite3_bind_text(s, i++, f->username, -1, SQLITE_STATIC);
    if (f->action && *f->action) {
        if (f->action[strlen(f->action) - 1] == '.')
            sqlite3_bind_int64(s, i++, (int64_t)strlen(f->action));
        sqlite3_bind_text(s, i++, f->action, -1, SQLITE_STATIC);
    }
    if (f->entity && *f->entity)
        sqlite3_bind_text(s, i++, f->entity, -1, SQLITE_STATIC);
    if (f->entity_id != 0)
        sqlite3_bind_int64(s, i++, f->entity_id);
    if (f->since != 0)
        sqlite3_bind_int64(s, i++, f->since);
    if (f->until != 0)
        sqlite3_bind_int64(s, i++, f->until);
    if (f->outcome && *f->outcome)
        sqlite3_bind_text(s, i++, f->outcome, -1, SQLITE_STATIC);
    return i;
}

static int copy_row(dg_arena *a, const dg_audit_row *in, dg_audit_row *out)
{
    *out = *in;
    out->rec.username = dg_arena_strdup(a, in->rec.username);
    out->rec.peer = dg_arena_strdup(a, in->rec.peer);
    out->rec.action = dg_arena_strdup(a, in->rec.action);
    out->rec.entity = dg_arena_strdup(a, in->rec.entity);
    out->rec.outcome = dg_arena_strdup(a, in->rec.outcome);
    out->rec.detail = dg_arena_strdup(a, in->rec.detail);
    if (!out->rec.username || !out->rec.peer || !out->rec.action || !out->rec.entity ||
        !out->rec.outcome || !out->rec.detail)
        return DG_ENOMEM;
    return DG_OK;
}

int dg_store_audit_query(dg_store *st, const dg_audit_filter *f, dg_arena *a, dg_audit_row **out,
                         size_t *n)
{
    char sql[768] = "SELECT seq, at, user_id, username, peer, action, entity, entity_id, outcome,"
                    " detail, hash FROM audit_log WHERE 1";
    size_t len;
    sqlite3_stmt *s;
    dg_audit_row row;
    int rc = SQLITE_DONE;

    where(f, sql, sizeof sql);
    len = strlen(sql);
    snprintf(sql + len, sizeof sql - len, " ORDER BY seq DESC LIMIT ?");
    *n = 0;
    if (!(*out = dg_arena_calloc(a, f->limit ? f->limit : 1, sizeof **out)))
        return DG_ENOMEM;
    if (!(s = store_stmt_text(st, sql)))
        return DG_EIO;
    sqlite3_bind_int64(s, bind_filter(s, f), f->limit);
    while (*n < f->limit && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        read_row(s, &row);
        if (copy_row(a, &row, &(*out)[*n]) != DG_OK) {
            store_stmt_release(st, s);
            return DG_ENOMEM;
        }
        (*n)++;
    }
    store_stmt_release(st, s);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? DG_OK : store_err(st, rc);
}
