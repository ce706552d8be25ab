/* store_idem.c - idempotency keys: what the first request with a key
 * answered, as a row per key (request, hash, counts) and a row per record it
 * produced, read back whole or refused as damaged.
 * Runs on: the writer connection's thread.
 */
#include <stdio.h>
#include <string.h>

#include "dg.h"
#include "store_int.h"

static const char *const idem_requests[] = {
    [DG_IDEM_CREATE] = "create",     [DG_IDEM_UPDATE] = "update", [DG_IDEM_ARCHIVE] = "archive",
    [DG_IDEM_RESTORE] = "restore",   [DG_IDEM_BATCH] = "batch",   [DG_IDEM_MERGE] = "merge",
    [DG_IDEM_REASSIGN] = "reassign", [DG_IDEM_DEAL_MOVE] = "deal_move",
    [DG_IDEM_TIERS_APPLY] = "tiers_apply",
};

static const char SQL_IDEM_GET[] =
    "SELECT request_hash, request, n_records, moved, customers, tasks FROM idempotency"
    " WHERE user_id = ?1 AND key = ?2";
static const char SQL_IDEM_GET_RECORDS[] =
    "SELECT op, kind, id FROM idempotency_records WHERE user_id = ?1 AND key = ?2 ORDER BY op";
static const char SQL_IDEM_PUT[] =
    "INSERT INTO idempotency(user_id, key, request_hash, request, n_records, moved, customers,"
    " tasks, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
static const char SQL_IDEM_PUT_RECORD[] =
    "INSERT INTO idempotency_records(user_id, key, op, kind, id) VALUES (?1, ?2, ?3, ?4, ?5)";
/* The oldest expired keys, at most ?2 of them, while the records of the
 * keys before each stay under ?3: the same keys for both deletes (the order
 * is total), the records first. */
#define IDEM_PRUNE_KEYS                                                                            \
    "SELECT user_id, key FROM (SELECT user_id, key, sum(n_records) OVER (ORDER BY created_at,"     \
    " user_id, key ROWS UNBOUNDED PRECEDING) - n_records AS before_it FROM (SELECT user_id, key,"  \
    " n_records, created_at FROM idempotency WHERE created_at < ?1 ORDER BY created_at, user_id,"  \
    " key LIMIT ?2)) WHERE before_it < ?3"
static const char SQL_IDEM_PRUNE_RECORDS[] =
    "DELETE FROM idempotency_records WHERE (user_id, key) IN (" IDEM_PRUNE_KEYS ")";
static const char SQL_IDEM_PRUNE[] =
    "DELETE FROM idempotency WHERE (user_id, key) IN (" IDEM_PRUNE_KEYS ")";
#define IDEM_PRUNE_MAX_RECORDS 20000

/* Fails a read of a damaged result, saying what is wrong for the log. */
static int idem_corrupt(dg_store *st, const char *what)
{
    snprintf(st->err, sizeof st->err, "idempotency result damaged: %s", what);
    return DG_ECORRUPT;
}

static int idem_request_parse(sqlite3_stmt *s, int col, enum dg_idem_request *out)
{
    const char *text = (const char *)sqlite3_column_text(s, col);

    if (sqlite3_column_type(s, col) == SQLITE_NULL) {
        *out = DG_IDEM_ANY_RECORDS;
        return DG_OK;
    }
    for (size_t i = 1; text && i < DG_ARRAY_LEN(idem_requests); i++)
        if (!strcmp(text, idem_requests[i])) {
            *out = (enum dg_idem_request)i;
            return DG_OK;
        }
    return DG_ECORRUPT;
}

/* A 32-bit count read back: anything else is damage. */
static bool idem_count(sqlite3_stmt *s, int col, uint32_t *out)
{
    int64_t v = sqlite3_column_int64(s, col);

    *out = (uint32_t)v;
    return sqlite3_column_type(s, col) == SQLITE_INTEGER && v >= 0 && v <= UINT32_MAX;
}

/* The key's row into *out; *n_records gets its stored count. */
static int idem_get_row(dg_store *st, int64_t user_id, const char *key, dg_idem_result *out,
                        int64_t *n_records)
{
    sqlite3_stmt *s = store_stmt(st, SQL_IDEM_GET);
    int rc;

    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, user_id);
    sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(s);
        return rc == SQLITE_DONE ? DG_ENOTFOUND : store_err(st, rc);
    }
    rc = DG_OK;
    if (sqlite3_column_bytes(s, 0) != 32)
        rc = idem_corrupt(st, "request hash");
    else
        memcpy(out->request_hash, sqlite3_column_blob(s, 0), 32);
    if (rc == DG_OK && idem_request_parse(s, 1, &out->request) != DG_OK)
        rc = idem_corrupt(st, "unknown request");
    *n_records = sqlite3_column_int64(s, 2);
    if (rc == DG_OK && (*n_records < 0 || *n_records > DG_IDEM_MAX_RECORDS))
        rc = idem_corrupt(st, "record count");
    if (rc == DG_OK && (!idem_count(s, 3, &out->moved) || !idem_count(s, 4, &out->customers) ||
                        !idem_count(s, 5, &out->tasks)))
        rc = idem_corrupt(st, "counts");
    sqlite3_reset(s);
    return rc;
}

/* The key's record rows: exactly n, numbered 0 .. n-1, of known kinds. */
static int idem_get_records(dg_store *st, int64_t user_id, const char *key, size_t n, dg_arena *a,
                            dg_idem_result *out)
{
    sqlite3_stmt *s = store_stmt(st, SQL_IDEM_GET_RECORDS);
    dg_idem_ref *refs = dg_arena_calloc(a, n ? n : 1, sizeof *refs);
    size_t i = 0;
    int rc = DG_OK;

    if (!s)
        return DG_EIO;
    if (!refs)
        return DG_ENOMEM;
    sqlite3_bind_int64(s, 1, user_id);
    sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
    while (rc == DG_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        rc = DG_OK;
        if (i >= n || sqlite3_column_int64(s, 0) != (int64_t)i)
            rc = idem_corrupt(st, i >= n ? "more records than its count" : "a record is missing");
        else if (!dg_entity_get((enum dg_kind)sqlite3_column_int(s, 1)) ||
                 sqlite3_column_int64(s, 2) <= 0)
            rc = idem_corrupt(st, "a record's kind or id");
        else
            refs[i++] =
                (dg_idem_ref){(enum dg_kind)sqlite3_column_int(s, 1), sqlite3_column_int64(s, 2)};
    }
    if (rc == SQLITE_DONE)
        rc = i == n ? DG_OK : idem_corrupt(st, "fewer records than its count");
    else if (rc != DG_OK && rc != DG_ECORRUPT)
        rc = store_err(st, rc);
    sqlite3_reset(s);
    out->records = refs;
    out->n_records = i;
    return rc;
}

int dg_store_idem_get(dg_store *st, int64_t user_id, const char *key, dg_arena *a,
                      dg_idem_result *out)
{
    int64_t n = 0;
    int rc;

    memset(out, 0, sizeof *out);
    if ((rc = idem_get_row(st, user_id, key, out, &n)) != DG_OK)
        return rc;
    return idem_get_records(st, user_id, key, (size_t)n, a, out);
}

static int idem_put_record(dg_store *st, int64_t user_id, const char *key, size_t op,
                           const dg_idem_ref *ref)
{
    sqlite3_stmt *s = store_stmt(st, SQL_IDEM_PUT_RECORD);

    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, user_id);
    sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, (int64_t)op);
    sqlite3_bind_int(s, 4, (int)ref->kind);
    sqlite3_bind_int64(s, 5, ref->id);
    return store_exec_stmt(st, s);
}

int dg_store_idem_put(dg_store *st, int64_t user_id, const char *key, const dg_idem_result *r,
                      int64_t at)
{
    sqlite3_stmt *s;
    int rc;

    if (r->request <= DG_IDEM_ANY_RECORDS || r->request >= (int)DG_ARRAY_LEN(idem_requests) ||
        r->n_records > DG_IDEM_MAX_RECORDS)
        return DG_EINVAL;
    if (!(s = store_stmt(st, SQL_IDEM_PUT)))
        return DG_EIO;
    sqlite3_bind_int64(s, 1, user_id);
    sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, r->request_hash, 32, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, idem_requests[r->request], -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, (int64_t)r->n_records);
    sqlite3_bind_int64(s, 6, r->moved);
    sqlite3_bind_int64(s, 7, r->customers);
    sqlite3_bind_int64(s, 8, r->tasks);
    sqlite3_bind_int64(s, 9, at);
    rc = store_exec_stmt(st, s);
    for (size_t i = 0; rc == DG_OK && i < r->n_records; i++)
        rc = idem_put_record(st, user_id, key, i, &r->records[i]);
    return rc;
}

static int idem_prune_step(dg_store *st, const char *sql, int64_t before, int max)
{
    sqlite3_stmt *s = store_stmt(st, sql);

    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, before);
    sqlite3_bind_int(s, 2, max);
    sqlite3_bind_int(s, 3, IDEM_PRUNE_MAX_RECORDS);
    return store_exec_stmt(st, s);
}

int dg_store_idem_prune(dg_store *st, int64_t before, int max)
{
    int rc = idem_prune_step(st, SQL_IDEM_PRUNE_RECORDS, before, max);

    return rc != DG_OK ? rc : idem_prune_step(st, SQL_IDEM_PRUNE, before, max);
}
