/* store_life.c - what lifecycle suggestions are made from: per customer
 * its status, last contact, newest won deal and recent meetings or visits,
 * for the customers a suggestion could concern. Any connection, inside the
 * caller's read transaction.
 */
#include <stdio.h>
#include <string.h>

#include "dg.h"
#include "store_int.h"

#define LIFE_SQL_MAX 4096
/* the last contact, or for one never contacted its creation */
#define SINCE "(CASE WHEN c.last_contact_at > 0 THEN c.last_contact_at ELSE c.created_at END)"

/* Only customers a rule applies to are read (the rules of h_lifecycle.c in
 * SQL), so LIMIT counts suggestions. The won-deal subqueries go by the
 * deal's customer (+stage: not by the stage index, which would scan every
 * won deal per customer); one owner's customers by the owner index,
 * everyone's in id order (NOT INDEXED: the scan stops at the limit instead
 * of sorting every match). */

int dg_store_lifecycle_facts(dg_store *st, const dg_life_query *q, dg_arena *a, dg_life_fact **out,
                             size_t *n)
{
    char sql[LIFE_SQL_MAX], won[512] = "''";
    sqlite3_stmt *s;
    size_t cap = q->limit + 1;
    int rc, p = 6;

    *n = 0;
    for (size_t i = 0; i < q->n_won && i < 12; i++)
        snprintf(won + (i ? strlen(won) : 0), sizeof won - (i ? strlen(won) : 0), "%s?%d",
                 i ? ", " : "", p + (int)i);
    snprintf(
        sql, sizeof sql,
        "SELECT c.id, c.code, c.name, coalesce(c.owner_id, 0), c.status, c.version,"
        " c.last_contact_at, c.created_at,"
        " (SELECT max(d.at_ms) FROM deals d WHERE d.customer_id = c.id"
        "  AND d.archived_at IS NULL AND +d.stage IN (%s)),"
        " EXISTS (SELECT 1 FROM interactions i WHERE i.customer_id = c.id"
        "  AND i.archived_at IS NULL AND i.channel IN ('meeting', 'visit')"
        "  AND i.at_ms >= ?2)"
        " FROM customers c %s WHERE c.archived_at IS NULL AND %s AND ("
        " (c.status = 'potential' AND (EXISTS (SELECT 1 FROM deals d"
        "  WHERE d.customer_id = c.id AND d.archived_at IS NULL AND +d.stage IN (%s))"
        "  OR EXISTS (SELECT 1 FROM interactions i WHERE i.customer_id = c.id"
        "  AND i.archived_at IS NULL AND i.channel IN ('meeting', 'visit') AND i.at_ms >= ?2)))"
        " OR (c.status = 'active' AND " SINCE " < ?3)"
        " OR (c.status = 'dormant' AND (" SINCE " < ?5 OR c.last_contact_at >= ?2))"
        " OR (c.status = 'lost' AND c.last_contact_at >= ?2))"
        " ORDER BY c.id LIMIT ?4",
        won, q->owner_id ? "" : "NOT INDEXED", q->owner_id ? "c.owner_id = ?1" : "?1 = 0", won);
    if (!(s = store_stmt_text(st, sql)))
        return DG_EIO;
    sqlite3_bind_int64(s, 1, q->owner_id);
    sqlite3_bind_int64(s, 2, q->recent_since);
    sqlite3_bind_int64(s, 3, q->dormant_before);
    sqlite3_bind_int64(s, 4, (int64_t)cap);
    sqlite3_bind_int64(s, 5, q->lost_before);
    for (size_t i = 0; i < q->n_won && i < 12; i++)
        sqlite3_bind_text(s, p + (int)i, q->won_stages[i], -1, SQLITE_STATIC);
    if (!(*out = dg_arena_calloc(a, cap, sizeof **out))) {
        store_stmt_release(st, s);
        return DG_ENOMEM;
    }
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        dg_life_fact *f = &(*out)[(*n)++];

        f->id = sqlite3_column_int64(s, 0);
        f->code = store_col_dup(s, 1, a);
        f->name = store_col_dup(s, 2, a);
        f->owner_id = sqlite3_column_int64(s, 3);
        store_col_text(s, 4, f->status, sizeof f->status);
        f->version = sqlite3_column_int64(s, 5);
        f->last_contact_at = sqlite3_column_int64(s, 6);
        f->created_at = sqlite3_column_int64(s, 7);
        f->last_won_at = sqlite3_column_int64(s, 8);
        f->recent_meeting = sqlite3_column_int(s, 9) != 0;
        if (!f->code || !f->name) {
            rc = SQLITE_NOMEM;
            break;
        }
    }
    store_stmt_release(st, s);
    if (rc == SQLITE_NOMEM)
        return DG_ENOMEM;
    return rc == SQLITE_DONE ? DG_OK : store_err(st, rc);
}
