/* schema_undo.c - databases of an older schema for migration tests: each
 * migration of server/store/store_schema.c undone, so that a test takes the
 * database a server made back to the schema an older dangand had, and the
 * next start migrates it forward again (fixture.h: dgt_schema_back_to).
 * A new migration adds its undo here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "fixture.h"

/* What undoes each migration (server/store/store_schema.c): undo[v] takes a
 * database of schema v back to v - 1. Data the later schema added goes with
 * its tables and columns; what an earlier migration rebuilt in place (v11's
 * idempotency table) stays, since that migration applies again on it. */
static const char *const undo[] = {
    [7] = "DROP TABLE doc_uploads; DROP TABLE documents; DROP TABLE doc_chunks;"
          " DROP TABLE doc_contents;",
    [8] = "DROP INDEX customers_dupkey_name; DROP INDEX customers_dupkey_email;"
          " DROP INDEX customers_dupkey_phone; DROP INDEX customers_dupkey_stem;"
          " ALTER TABLE customers DROP COLUMN dup_stem;"
          " CREATE INDEX customers_dup_name ON customers(dup_name) WHERE dup_name != '';"
          " CREATE INDEX customers_dup_phone ON customers(dup_phone) WHERE dup_phone != '';"
          " CREATE INDEX customers_dup_email ON customers(dup_email) WHERE dup_email != '';",
    [9] = "DROP INDEX deals_by_stage; ALTER TABLE deals DROP COLUMN stage;"
          " ALTER TABLE deals DROP COLUMN probability;"
          " ALTER TABLE deals DROP COLUMN expected_close_on;"
          " ALTER TABLE deals DROP COLUMN lost_reason;"
          " ALTER TABLE customers DROP COLUMN churn_reason;",
    [10] = "DROP TABLE team_settings;",
    [11] = "DROP INDEX deals_won; DROP INDEX customers_live_tier;",
    [12] = "DROP INDEX customers_report; DROP INDEX customers_at_risk;"
           " DROP INDEX customers_visibility; DROP INDEX deals_report;"
           " DROP INDEX interactions_report; DROP INDEX feedback_report;",
    [13] = "DROP TRIGGER interactions_today_insert; DROP TRIGGER interactions_today_update;"
           " DROP TRIGGER interactions_today_delete; DROP INDEX customers_today_call;"
           " DROP INDEX customers_today_visit; DROP INDEX customers_today_follow_up;"
           " DROP INDEX customers_today_contact; DROP INDEX tasks_today_open;"
           " DROP INDEX customers_today_seen; DROP INDEX documents_contract_expiry;"
           " ALTER TABLE customers DROP COLUMN last_call_at;"
           " ALTER TABLE customers DROP COLUMN last_visit_at;"
           " ALTER TABLE customers DROP COLUMN follow_up_on;"
           " ALTER TABLE customers DROP COLUMN follow_up_id;",
    [14] = "DROP TRIGGER customers_owner_new; DROP TRIGGER customers_owner_changed;"
           " DROP TRIGGER interactions_owner_active; DROP INDEX customers_pool;"
           " DROP INDEX customers_pool_claims; DROP INDEX customers_owner_active;"
           " ALTER TABLE customers DROP COLUMN claimed_from_pool_at;"
           " ALTER TABLE customers DROP COLUMN owner_active_at;",
    [15] = "DROP TABLE reminders; DROP TABLE reminders_sent;",
    [16] = "ALTER TABLE changes DROP COLUMN customer_name;"
           " ALTER TABLE changes DROP COLUMN customer_code;"
           " ALTER TABLE change_fields DROP COLUMN old_value;"
           " ALTER TABLE change_fields DROP COLUMN new_value;",
    [17] = "DROP TRIGGER documents_today_insert; DROP TRIGGER documents_today_update;"
           " DROP TRIGGER documents_today_delete; DROP TRIGGER tasks_today_insert;"
           " DROP TRIGGER tasks_today_moved; DROP TRIGGER customers_today_tasks;"
           " DROP INDEX customers_today_contract; DROP INDEX tasks_today_due;"
           " ALTER TABLE customers DROP COLUMN contract_until;"
           " ALTER TABLE customers DROP COLUMN contract_n;"
           " ALTER TABLE tasks DROP COLUMN customer_owner_id;"
           " ALTER TABLE tasks DROP COLUMN customer_tier;"
           " ALTER TABLE tasks DROP COLUMN customer_live;"
           " CREATE INDEX tasks_today_open ON tasks(assignee_id, due_at_ms, id, customer_id)"
           "  WHERE done = 0 AND archived_at IS NULL;"
           " CREATE INDEX customers_today_seen ON customers(id, owner_id, tier)"
           "  WHERE archived_at IS NULL;",
    [18] = "DROP TRIGGER deal_totals_insert; DROP TRIGGER deal_totals_delete;"
           " DROP TRIGGER deal_totals_update; DROP TRIGGER interaction_totals_insert;"
           " DROP TRIGGER interaction_totals_delete; DROP TRIGGER interaction_totals_update;"
           " DROP TRIGGER customers_totals; DROP TABLE deal_totals; DROP TABLE interaction_totals;"
           " DROP TRIGGER customer_totals_insert; DROP TRIGGER customer_totals_delete;"
           " DROP TRIGGER customer_totals_update; DROP TABLE customer_totals;"
           " DROP INDEX customers_at_risk_by_id; DROP INDEX customers_lost_by_reason;"
           " DROP INDEX customers_lost_by_contact;"
           " CREATE INDEX customers_at_risk ON customers("
           " (CASE WHEN last_contact_at > 0 THEN last_contact_at ELSE created_at END), tier,"
           " owner_id) WHERE archived_at IS NULL AND status != 'lost';",
    [19] = "DROP TABLE search_queue;",
};

/* The database's schema version (PRAGMA user_version). */
static int schema_version(const dgt_server *s)
{
    char path[512];
    sqlite3 *db;
    sqlite3_stmt *st;
    int v = -1;

    dgt_db_path(s, path, sizeof path);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        fail_msg("cannot open the database of %s", s->data);
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

void dgt_schema_back_to(const dgt_server *s, int version)
{
    char pragma[64];
    int v = schema_version(s);

    if (version < 6)
        fail_msg("dgt_schema_back_to: schemas before v6 come from tests/integration/data");
    for (; v > version; v--) {
        if (v >= (int)(sizeof undo / sizeof undo[0]) || !undo[v])
            fail_msg("dgt_schema_back_to: no undo of schema v%d: add it to tests/lib/schema_undo.c",
                     v);
        dgt_sql(s, undo[v]);
    }
    snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d;", version);
    dgt_sql(s, pragma);
}
