/* store_pool.c - the public pool's bookkeeping columns (schema v14): who
 * holds how many pool claims, the mark of a claim, the customers whose owner
 * logged nothing for too long. Writer connection, inside its transaction,
 * except where said.
 */
#include "dg.h"
#include "store_int.h"

static const char SQL_CLAIMS[] = "SELECT count(*) FROM customers WHERE owner_id = ?1"
                                 " AND claimed_from_pool_at IS NOT NULL AND archived_at IS NULL";

int dg_store_pool_claims(dg_store *st, int64_t user_id, int64_t *n)
{
    sqlite3_stmt *s = store_stmt(st, SQL_CLAIMS);
    int rc;

    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, user_id);
    rc = sqlite3_step(s);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? DG_OK : store_err(st, rc);
}

static const char SQL_MARK[] = "UPDATE customers SET claimed_from_pool_at = ?2 WHERE id = ?1";

int dg_store_pool_mark_claimed(dg_store *st, int64_t customer_id, int64_t at)
{
    sqlite3_stmt *s = store_stmt(st, SQL_MARK);

    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, customer_id);
    sqlite3_bind_int64(s, 2, at);
    return store_exec_stmt(st, s);
}

static const char SQL_STALE[] = "SELECT id FROM customers WHERE owner_id IS NOT NULL"
                                " AND archived_at IS NULL AND owner_active_at < ?1"
                                " ORDER BY owner_active_at, id LIMIT ?2";

int dg_store_pool_stale(dg_store *st, int64_t before, int64_t *ids, size_t max, size_t *n)
{
    sqlite3_stmt *s = store_stmt(st, SQL_STALE);
    int rc;

    *n = 0;
    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, before);
    sqlite3_bind_int64(s, 2, (int64_t)max);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        ids[(*n)++] = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? DG_OK : store_err(st, rc);
}
