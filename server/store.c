/* store.c - opening, settings checks, schema migrations, transactions, meta.
 *
 * Owns: the sqlite3 connection and its statement cache.
 * Invariants: the write connection passed refuse_weak_settings(); statements
 * in the cache are reset before each use. Runs on: the thread that owns the
 * connection (writer or one reader; init and offline commands use it alone).
 */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "dg.h"
#include "log.h"
#include "walbuf.h"

/* Schema migrations: migrations[i] takes user_version i to i + 1, as a
 * NULL-terminated list of SQL texts applied in one transaction. Never edit
 * a shipped migration; add the next one. */
static const char *const migration_v1[] = {
    /* v1: identity, users, sessions, audit trail, change feed. */
    "CREATE TABLE meta ("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL"
    ") STRICT;"
    "CREATE TABLE settings ("
    "  key TEXT PRIMARY KEY,"
    "  value INTEGER NOT NULL"
    ") STRICT;"
    "CREATE TABLE users ("
    "  id INTEGER PRIMARY KEY,"
    "  username TEXT NOT NULL UNIQUE,"
    "  display_name TEXT NOT NULL DEFAULT '',"
    "  role TEXT NOT NULL CHECK (role IN ('admin','manager','sales','viewer','auditor')),"
    "  password_hash TEXT NOT NULL,"
    "  must_change_password INTEGER NOT NULL DEFAULT 0,"
    "  is_disabled INTEGER NOT NULL DEFAULT 0,"
    "  version INTEGER NOT NULL DEFAULT 1,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  created_by INTEGER REFERENCES users(id),"
    "  updated_by INTEGER REFERENCES users(id),"
    "  password_changed_at INTEGER NOT NULL"
    ") STRICT;"
    "CREATE TABLE sessions ("
    "  id INTEGER PRIMARY KEY,"
    "  token_hash BLOB NOT NULL UNIQUE,"
    "  user_id INTEGER NOT NULL REFERENCES users(id),"
    "  created_at INTEGER NOT NULL,"
    "  last_seen_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  peer TEXT NOT NULL,"
    "  revoked_at INTEGER,"
    "  revoke_reason TEXT"
    ") STRICT;"
    "CREATE INDEX sessions_live_by_user ON sessions(user_id) WHERE revoked_at IS NULL;"
    "CREATE TABLE audit_log ("
    "  seq INTEGER PRIMARY KEY,"
    "  at INTEGER NOT NULL,"
    "  user_id INTEGER,"
    "  username TEXT NOT NULL,"
    "  peer TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  entity TEXT NOT NULL,"
    "  entity_id INTEGER,"
    "  outcome TEXT NOT NULL,"
    "  detail TEXT NOT NULL,"
    "  hash BLOB NOT NULL"
    ") STRICT;"
    "CREATE INDEX audit_log_by_user ON audit_log(user_id, seq);"
    "CREATE INDEX audit_log_by_action ON audit_log(action, seq);"
    /* Defence in depth: the server never updates or deletes audit rows. */
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log"
    "  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;"
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log"
    "  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;"
    "CREATE TABLE changes ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  at INTEGER NOT NULL,"
    "  actor_id INTEGER,"
    "  entity TEXT NOT NULL,"
    "  entity_id INTEGER NOT NULL,"
    "  customer_id INTEGER,"
    "  op TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  fields TEXT NOT NULL DEFAULT '',"
    "  vis_before TEXT,"
    "  vis_after TEXT"
    ") STRICT;",
    NULL,
};

static const char *const migration_v2[] = {
    /* v2: customer dossiers. Column names are the field names of
     * server/entity.c; MONEY fields add NAME_currency, USER fields are NAME_id. */
    "CREATE TABLE customers ("
    "  id INTEGER PRIMARY KEY,"
    "  version INTEGER NOT NULL,"
    "  code TEXT NOT NULL UNIQUE,"
    "  kind TEXT NOT NULL DEFAULT '',"
    "  name TEXT NOT NULL,"
    "  short_name TEXT NOT NULL DEFAULT '',"
    "  industry TEXT NOT NULL DEFAULT '',"
    "  region TEXT NOT NULL DEFAULT '',"
    "  address TEXT NOT NULL DEFAULT '',"
    "  postcode TEXT NOT NULL DEFAULT '',"
    "  phone TEXT NOT NULL DEFAULT '',"
    "  fax TEXT NOT NULL DEFAULT '',"
    "  email TEXT NOT NULL DEFAULT '',"
    "  website TEXT NOT NULL DEFAULT '',"
    "  founded_on TEXT NOT NULL DEFAULT '',"
    "  registered_capital INTEGER NOT NULL DEFAULT 0,"
    "  registered_capital_currency TEXT NOT NULL DEFAULT '',"
    "  shareholders TEXT NOT NULL DEFAULT '',"
    "  bank_name TEXT NOT NULL DEFAULT '',"
    "  bank_account TEXT NOT NULL DEFAULT '',"
    "  nature TEXT NOT NULL DEFAULT '',"
    "  size TEXT NOT NULL DEFAULT '',"
    "  staff_count INTEGER NOT NULL DEFAULT 0,"
    "  staff_domestic INTEGER NOT NULL DEFAULT 0,"
    "  staff_foreign INTEGER NOT NULL DEFAULT 0,"
    "  standing TEXT NOT NULL DEFAULT '',"
    "  main_business TEXT NOT NULL DEFAULT '',"
    "  side_business TEXT NOT NULL DEFAULT '',"
    "  sales_history TEXT NOT NULL DEFAULT '',"
    "  source TEXT NOT NULL DEFAULT '',"
    "  status TEXT NOT NULL DEFAULT '',"
    "  stage TEXT NOT NULL DEFAULT '',"
    "  tier TEXT NOT NULL DEFAULT '',"
    "  intention TEXT NOT NULL DEFAULT '',"
    "  value TEXT NOT NULL DEFAULT '',"
    "  credit_rating TEXT NOT NULL DEFAULT '',"
    "  our_advantages TEXT NOT NULL DEFAULT '',"
    "  our_weaknesses TEXT NOT NULL DEFAULT '',"
    "  owner_id INTEGER REFERENCES users(id),"
    "  notes TEXT NOT NULL DEFAULT '',"
    "  archived_at INTEGER,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  created_by INTEGER REFERENCES users(id),"
    "  updated_by INTEGER REFERENCES users(id),"
    "  last_contact_at INTEGER NOT NULL DEFAULT 0,"
    "  fver TEXT NOT NULL DEFAULT '',"      /* field:version of changed fields */
    "  name_key BLOB NOT NULL DEFAULT x''," /* ICU zh (pinyin) sort key of name */
    "  dup_name TEXT NOT NULL DEFAULT '',"  /* duplicate-detection keys */
    "  dup_phone TEXT NOT NULL DEFAULT '',"
    "  dup_email TEXT NOT NULL DEFAULT ''"
    ") STRICT;"
    "CREATE INDEX customers_by_name ON customers(name_key, id);"
    "CREATE INDEX customers_by_owner ON customers(owner_id, name_key, id);"
    "CREATE INDEX customers_by_tier ON customers(tier, name_key, id);"
    "CREATE INDEX customers_by_status ON customers(status, name_key, id);"
    "CREATE INDEX customers_by_industry ON customers(industry, name_key, id);"
    "CREATE INDEX customers_by_region ON customers(region, name_key, id);"
    "CREATE INDEX customers_by_updated ON customers(updated_at, id);"
    "CREATE INDEX customers_by_last_contact ON customers(last_contact_at, id);"
    "CREATE INDEX customers_dup_name ON customers(dup_name) WHERE dup_name != '';"
    "CREATE INDEX customers_dup_phone ON customers(dup_phone) WHERE dup_phone != '';"
    "CREATE INDEX customers_dup_email ON customers(dup_email) WHERE dup_email != '';",
    "CREATE TABLE customer_tags ("
    "  customer_id INTEGER NOT NULL REFERENCES customers(id),"
    "  tag TEXT NOT NULL,"
    "  PRIMARY KEY (customer_id, tag)"
    ") STRICT, WITHOUT ROWID;"
    "CREATE INDEX customer_tags_by_tag ON customer_tags(tag, customer_id);"
    "CREATE TABLE custom_fields ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  label TEXT NOT NULL DEFAULT '',"
    "  type TEXT NOT NULL CHECK (type IN ('text','number','date','choice')),"
    "  choices TEXT NOT NULL DEFAULT ''," /* newline-separated */
    "  created_at INTEGER NOT NULL,"
    "  created_by INTEGER REFERENCES users(id)"
    ") STRICT;"
    "CREATE TABLE custom_values ("
    "  customer_id INTEGER NOT NULL REFERENCES customers(id),"
    "  field_id INTEGER NOT NULL REFERENCES custom_fields(id),"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY (customer_id, field_id)"
    ") STRICT, WITHOUT ROWID;"
    "CREATE INDEX custom_values_by_value ON custom_values(field_id, value, customer_id);"
    "CREATE TABLE contacts ("
    "  id INTEGER PRIMARY KEY,"
    "  version INTEGER NOT NULL,"
    "  customer_id INTEGER NOT NULL REFERENCES customers(id),"
    "  role TEXT NOT NULL DEFAULT '',"
    "  name TEXT NOT NULL,"
    "  title TEXT NOT NULL DEFAULT '',"
    "  mobile TEXT NOT NULL DEFAULT '',"
    "  office_phone TEXT NOT NULL DEFAULT '',"
    "  personal_phone TEXT NOT NULL DEFAULT '',"
    "  email TEXT NOT NULL DEFAULT '',"
    "  im TEXT NOT NULL DEFAULT '',"
    "  birthday TEXT NOT NULL DEFAULT '',"
    "  education TEXT NOT NULL DEFAULT '',"
    "  hobbies TEXT NOT NULL DEFAULT '',"
    "  family TEXT NOT NULL DEFAULT '',"
    "  id_number TEXT NOT NULL DEFAULT '',"
    "  notes TEXT NOT NULL DEFAULT '',"
    "  archived_at INTEGER,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  created_by INTEGER REFERENCES users(id),"
    "  updated_by INTEGER REFERENCES users(id),"
    "  fver TEXT NOT NULL DEFAULT ''"
    ") STRICT;"
    "CREATE INDEX contacts_by_customer ON contacts(customer_id, id);"
    "CREATE INDEX contacts_by_updated ON contacts(updated_at, id);"
    "CREATE TABLE interactions ("
    "  id INTEGER PRIMARY KEY,"
    "  version INTEGER NOT NULL,"
    "  customer_id INTEGER NOT NULL REFERENCES customers(id),"
    "  contact_id INTEGER REFERENCES contacts(id),"
    "  at_ms INTEGER NOT NULL,"
    "  channel TEXT NOT NULL,"
    "  place TEXT NOT NULL DEFAULT '',"
    "  participants TEXT NOT NULL DEFAULT '',"
    "  summary TEXT NOT NULL,"
    "  content TEXT NOT NULL DEFAULT '',"
    "  next_follow_up TEXT NOT NULL DEFAULT '',"
    "  archived_at INTEGER,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  created_by INTEGER REFERENCES users(id),"
    "  updated_by INTEGER REFERENCES users(id),"
    "  fver TEXT NOT NULL DEFAULT ''"
    ") STRICT;"
    "CREATE INDEX interactions_by_customer ON interactions(customer_id, at_ms, id);"
    "CREATE INDEX interactions_by_at ON interactions(at_ms, id);"
    "CREATE INDEX interactions_by_follow_up ON interactions(next_follow_up)"
    "  WHERE next_follow_up != '';",
    "CREATE TABLE deals ("
    "  id INTEGER PRIMARY KEY,"
    "  version INTEGER NOT NULL,"
    "  customer_id INTEGER NOT NULL REFERENCES customers(id),"
    "  number TEXT NOT NULL DEFAULT '',"
    "  at_ms INTEGER NOT NULL,"
    "  place TEXT NOT NULL DEFAULT '',"
    "  amount INTEGER NOT NULL,"
    "  amount_currency TEXT NOT NULL,"
    "  content TEXT NOT NULL DEFAULT '',"
    "  person_in_charge TEXT NOT NULL DEFAULT '',"
    "  breach INTEGER NOT NULL DEFAULT 0,"
    "  notes TEXT NOT NULL DEFAULT '',"
    "  archived_at INTEGER,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  created_by INTEGER REFERENCES users(id),"
    "  updated_by INTEGER REFERENCES users(id),"
    "  fver TEXT NOT NULL DEFAULT ''"
    ") STRICT;"
    "CREATE INDEX deals_by_customer ON deals(customer_id, at_ms, id);"
    "CREATE INDEX deals_by_at ON deals(at_ms, id);"
    "CREATE TABLE feedback ("
    "  id INTEGER PRIMARY KEY,"
    "  version INTEGER NOT NULL,"
    "  customer_id INTEGER NOT NULL REFERENCES customers(id),"
    "  kind TEXT NOT NULL,"
    "  satisfaction INTEGER NOT NULL DEFAULT 0,"
    "  text TEXT NOT NULL,"
    "  status TEXT NOT NULL DEFAULT '',"
    "  resolution TEXT NOT NULL DEFAULT '',"
    "  at_ms INTEGER NOT NULL,"
    "  archived_at INTEGER,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  created_by INTEGER REFERENCES users(id),"
    "  updated_by INTEGER REFERENCES users(id),"
    "  fver TEXT NOT NULL DEFAULT ''"
    ") STRICT;"
    "CREATE INDEX feedback_by_customer ON feedback(customer_id, at_ms, id);"
    "CREATE INDEX feedback_by_at ON feedback(at_ms, id);"
    "CREATE TABLE tasks ("
    "  id INTEGER PRIMARY KEY,"
    "  version INTEGER NOT NULL,"
    "  customer_id INTEGER NOT NULL REFERENCES customers(id),"
    "  title TEXT NOT NULL,"
    "  notes TEXT NOT NULL DEFAULT '',"
    "  due_at_ms INTEGER NOT NULL DEFAULT 0,"
    "  assignee_id INTEGER REFERENCES users(id),"
    "  done INTEGER NOT NULL DEFAULT 0,"
    "  done_at_ms INTEGER NOT NULL DEFAULT 0,"
    "  archived_at INTEGER,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  created_by INTEGER REFERENCES users(id),"
    "  updated_by INTEGER REFERENCES users(id),"
    "  fver TEXT NOT NULL DEFAULT ''"
    ") STRICT;"
    "CREATE INDEX tasks_by_customer ON tasks(customer_id, due_at_ms, id);"
    "CREATE INDEX tasks_open_by_assignee ON tasks(assignee_id, due_at_ms, id) WHERE done = 0;"
    "CREATE INDEX tasks_by_due ON tasks(due_at_ms, id);"
    "CREATE TABLE idempotency ("
    "  user_id INTEGER NOT NULL,"
    "  key TEXT NOT NULL,"
    "  request_hash BLOB NOT NULL,"
    "  result TEXT NOT NULL," /* "kind:id" of the record, or "batch:ids" */
    "  created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (user_id, key)"
    ") STRICT, WITHOUT ROWID;"
    "CREATE INDEX idempotency_by_age ON idempotency(created_at);"
    /* Search documents: one per searched column of each customer, contact
     * and interaction (layout: store_search.c, doc_rowid). The tokenizer
     * indexes every character position.
     * Contentless (the text lives in the record tables; deletes give the old
     * values) and without column sizes (no bm25): every page an update does
     * not dirty is one the WAL does not write. */
    "CREATE VIRTUAL TABLE search USING fts5("
    "  name, people, phones, emails, address, notes,"
    "  content = '', columnsize = 0, tokenize = 'dangan', prefix = '1 2');",
    NULL,
};

/* FTS5 merges index segments once 8 of a size exist, not 4: each search
 * term is rewritten at half as many levels, which made durable updates
 * ~1.4x faster (dangan-bench update=100, 100k customers) with no change in
 * search latency. */
static const char *const migration_v3[] = {
    "INSERT INTO search(search, rank) VALUES ('automerge', 8);",
    NULL,
};

static const char *const migration_v4[] = {
    /* v4: a record's history (AuditQuery by entity, HistoryRequest) without a scan. */
    "CREATE INDEX audit_log_by_entity ON audit_log(entity, entity_id, seq);",
    NULL,
};

static const char *const migration_v5[] = {
    /* v5: idempotency results typed. A key's row says which request it
     * answered and its counts; the records its ops produced are rows of
     * their own, in op order. v4 kept one text ("1:12,2:40", "moved=3",
     * "customers=2;tasks=5"); its rows are converted. */
    "CREATE TABLE idempotency_v5 ("
    "  user_id INTEGER NOT NULL,"
    "  key TEXT NOT NULL,"
    "  request_hash BLOB NOT NULL,"
    /* NULL: converted from v4, one of create, update, archive, restore, batch */
    "  request TEXT CHECK (request IN"
    "    ('create','update','archive','restore','batch','merge','reassign')),"
    "  n_records INTEGER NOT NULL DEFAULT 0," /* rows in idempotency_records */
    "  moved INTEGER NOT NULL DEFAULT 0,"     /* merge */
    "  customers INTEGER NOT NULL DEFAULT 0," /* reassign */
    "  tasks INTEGER NOT NULL DEFAULT 0,"     /* reassign */
    "  created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (user_id, key)"
    ") STRICT, WITHOUT ROWID;"
    "CREATE TABLE idempotency_records ("
    "  user_id INTEGER NOT NULL,"
    "  key TEXT NOT NULL,"
    "  op INTEGER NOT NULL,"   /* 0-based index of the op in its request */
    "  kind INTEGER NOT NULL," /* dangan.v1.EntityKind */
    "  id INTEGER NOT NULL,"
    "  PRIMARY KEY (user_id, key, op)"
    ") STRICT, WITHOUT ROWID;"
    /* "K:ID,K:ID" becomes the JSON [[K,ID],[K,ID]], read in one pass. A text
     * that is not well-formed gets no record rows, so that a retry of it
     * answers DATA_LOSS rather than something invented. */
    "INSERT INTO idempotency_records(user_id, key, op, kind, id)"
    "  SELECT i.user_id, i.key, CAST(j.key AS INTEGER),"
    "         json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]')"
    "  FROM (SELECT user_id, key,"
    "          '[[' || replace(replace(result, ',', '],['), ':', ',') || ']]' AS doc"
    "        FROM idempotency"
    "        WHERE result GLOB '[0-9]*:[0-9]*' AND result NOT GLOB '*[^0-9:,]*') AS i,"
    "       json_each(CASE WHEN json_valid(i.doc) THEN i.doc ELSE '[]' END) AS j"
    "  WHERE json_type(j.value, '$[0]') = 'integer' AND json_type(j.value, '$[1]') = 'integer'"
    "    AND json_array_length(j.value) = 2;",
    "INSERT INTO idempotency_v5(user_id, key, request_hash, request, n_records, moved,"
    "                           customers, tasks, created_at)"
    "  SELECT user_id, key, request_hash,"
    "         CASE WHEN result GLOB 'moved=*' THEN 'merge'"
    "              WHEN result GLOB 'customers=*;tasks=*' THEN 'reassign' END,"
    "         (SELECT count(*) FROM idempotency_records r"
    "          WHERE r.user_id = i.user_id AND r.key = i.key),"
    "         CASE WHEN result GLOB 'moved=*' THEN CAST(substr(result, 7) AS INTEGER) ELSE 0 END,"
    "         CASE WHEN result GLOB 'customers=*;tasks=*'"
    "              THEN CAST(substr(result, 11) AS INTEGER) ELSE 0 END,"
    "         CASE WHEN result GLOB 'customers=*;tasks=*'"
    "              THEN CAST(substr(result, instr(result, ';tasks=') + 7) AS INTEGER) ELSE 0 END,"
    "         created_at"
    "  FROM idempotency AS i;"
    "DROP TABLE idempotency;"
    "ALTER TABLE idempotency_v5 RENAME TO idempotency;"
    "CREATE INDEX idempotency_by_age ON idempotency(created_at);",
    NULL,
};

static const char *const migration_v6[] = {
    /* v6: field versions, a change's view and its changed fields typed. v5
     * kept them as text ("name:3,phone:9" in each record table's fver,
     * "owner=7;tier=a" in changes.vis_before / vis_after, "name,phone" in
     * changes.fields); the text is converted and its columns dropped. */
    "CREATE TABLE field_versions ("
    "  kind INTEGER NOT NULL," /* dangan.v1.EntityKind */
    "  record_id INTEGER NOT NULL,"
    "  field TEXT NOT NULL," /* a field name, 'tags', 'custom.NAME' or 'archived' */
    "  version INTEGER NOT NULL,"
    "  PRIMARY KEY (kind, record_id, field)"
    ") STRICT, WITHOUT ROWID;"
    /* "name:3,phone:9" becomes the JSON {"name":3,"phone":9}, read in one
     * pass. Only text made of what v5 wrote (names of a-z 0-9 _ . and
     * versions) is read; an item named twice keeps its newest version. */
    "INSERT INTO field_versions(kind, record_id, field, version)"
    "  SELECT r.kind, r.id, j.key, max(j.value)"
    "  FROM (SELECT kind, id,"
    "          '{\"' || replace(replace(fver, ',', ',\"'), ':', '\":') || '}' AS doc"
    "        FROM (SELECT 1 AS kind, id, fver FROM customers"
    "              UNION ALL SELECT 2, id, fver FROM contacts"
    "              UNION ALL SELECT 3, id, fver FROM interactions"
    "              UNION ALL SELECT 4, id, fver FROM deals"
    "              UNION ALL SELECT 5, id, fver FROM feedback"
    "              UNION ALL SELECT 6, id, fver FROM tasks)"
    "        WHERE fver != '' AND fver NOT GLOB '*[^a-z0-9_.:,]*') AS r,"
    "       json_each(CASE WHEN json_valid(r.doc) THEN r.doc ELSE '{}' END) AS j"
    "  WHERE j.type = 'integer' AND j.key != ''"
    "  GROUP BY r.kind, r.id, j.key;"
    "ALTER TABLE customers DROP COLUMN fver;"
    "ALTER TABLE contacts DROP COLUMN fver;"
    "ALTER TABLE interactions DROP COLUMN fver;"
    "ALTER TABLE deals DROP COLUMN fver;"
    "ALTER TABLE feedback DROP COLUMN fver;"
    "ALTER TABLE tasks DROP COLUMN fver;",
    /* A view is an owner (user id, 0: nobody's) and a tier (its stored name,
     * as customers.tier: 'a', '' unspecified); both NULL: no view. */
    "ALTER TABLE changes ADD COLUMN vis_before_owner INTEGER;"
    "ALTER TABLE changes ADD COLUMN vis_before_tier TEXT"
    "  CHECK ((vis_before_tier IS NULL) = (vis_before_owner IS NULL));"
    "ALTER TABLE changes ADD COLUMN vis_after_owner INTEGER;"
    "ALTER TABLE changes ADD COLUMN vis_after_tier TEXT"
    "  CHECK ((vis_after_tier IS NULL) = (vis_after_owner IS NULL));"
    /* v5 wrote "owner=ID;tier=NAME"; any other text was no view to the feed
     * and stays none. */
    "UPDATE changes"
    "  SET vis_before_owner = CAST(substr(vis_before, 7, instr(vis_before, ';tier=') - 7)"
    "                              AS INTEGER),"
    "      vis_before_tier = substr(vis_before, instr(vis_before, ';tier=') + 6)"
    "  WHERE vis_before GLOB 'owner=[0-9]*;tier=*'"
    "    AND substr(vis_before, 7, instr(vis_before, ';tier=') - 7) NOT GLOB '*[^0-9]*'"
    "    AND substr(vis_before, instr(vis_before, ';tier=') + 6) NOT GLOB '*[^a-z]*';"
    "UPDATE changes"
    "  SET vis_after_owner = CAST(substr(vis_after, 7, instr(vis_after, ';tier=') - 7)"
    "                             AS INTEGER),"
    "      vis_after_tier = substr(vis_after, instr(vis_after, ';tier=') + 6)"
    "  WHERE vis_after GLOB 'owner=[0-9]*;tier=*'"
    "    AND substr(vis_after, 7, instr(vis_after, ';tier=') - 7) NOT GLOB '*[^0-9]*'"
    "    AND substr(vis_after, instr(vis_after, ';tier=') + 6) NOT GLOB '*[^a-z]*';",
    /* A change's changed items, one row each in the order the change named
     * them; they go with their change when the feed is pruned. */
    "CREATE TABLE change_fields ("
    "  seq INTEGER NOT NULL REFERENCES changes(seq) ON DELETE CASCADE,"
    "  pos INTEGER NOT NULL," /* 0-based */
    "  field TEXT NOT NULL,"  /* a field name, 'tags', 'custom.NAME' or 'archived' */
    "  PRIMARY KEY (seq, pos)"
    ") STRICT, WITHOUT ROWID;"
    /* "code,name" becomes the JSON ["code","name"]; only text made of names
     * of a-z 0-9 _ . is read. */
    "INSERT INTO change_fields(seq, pos, field)"
    "  SELECT c.seq, j.key, j.value"
    "  FROM (SELECT seq, '[\"' || replace(fields, ',', '\",\"') || '\"]' AS doc"
    "        FROM changes WHERE fields != '' AND fields NOT GLOB '*[^a-z0-9_.,]*') AS c,"
    "       json_each(CASE WHEN json_valid(c.doc) THEN c.doc ELSE '[]' END) AS j"
    "  WHERE j.value != '';"
    "ALTER TABLE changes DROP COLUMN fields;"
    "ALTER TABLE changes DROP COLUMN vis_before;"
    "ALTER TABLE changes DROP COLUMN vis_after;",
    NULL,
};

static const char *const *const migrations[] = {migration_v1, migration_v2, migration_v3,
                                                migration_v4, migration_v5, migration_v6};

_Static_assert(DG_ARRAY_LEN(migrations) == DG_SCHEMA_VERSION, "DG_SCHEMA_VERSION is stale");

int store_err(dg_store *st, int rc)
{
    snprintf(st->err, sizeof st->err, "%s", st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return DG_OK;
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
            return DG_EEXIST;
        return DG_EINVAL;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return DG_EBUSY;
    case SQLITE_NOMEM:
        return DG_ENOMEM;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return DG_ECORRUPT;
    case SQLITE_READONLY:
        return DG_EREADONLY;
    case SQLITE_TOOBIG:
        return DG_ETOOBIG;
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
        return DG_EINVAL;
    case SQLITE_FULL:
        /* ENOSPC on a write: SQLite fails the transaction before anything of
         * it is published, so nothing acknowledged is at risk and the same
         * connection may write again once there is room (unlike an fsync
         * error, after which the kernel may have dropped pages). */
        return DG_ENOSPC;
    case SQLITE_IOERR:
        /* Growing the -shm file (the WAL index, rebuilt from the WAL at every
         * start) writes to it; on a full disk that fails as SHMSIZE. The WAL
         * index is not durable data: the same reasoning as SQLITE_FULL. */
        return rc == SQLITE_IOERR_SHMSIZE ? DG_ENOSPC : DG_EIO;
    default: /* SQLITE_CANTOPEN, SQLITE_ERROR, ... */
        return DG_EIO;
    }
}

/* dg_map_sweep visitor for dg_store_close: every cached statement goes. */
static bool finalize_dyn(const void *key, size_t key_len, void *value, void *ud)
{
    struct dyn_stmt *e = value;

    DG_UNUSED(key);
    DG_UNUSED(key_len);
    DG_UNUSED(ud);
    sqlite3_finalize(e->stmt);
    free(e);
    return true;
}

sqlite3_stmt *store_stmt(dg_store *st, const char *sql)
{
    size_t h = (size_t)(((uintptr_t)sql >> 3) % STORE_STMT_SLOTS);

    for (size_t i = 0; i < STORE_STMT_SLOTS; i++) {
        struct stmt_slot *slot = &st->slots[(h + i) % STORE_STMT_SLOTS];

        if (slot->sql == sql) {
            sqlite3_reset(slot->stmt);
            sqlite3_clear_bindings(slot->stmt);
            return slot->stmt;
        }
        if (!slot->sql) {
            int rc =
                sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &slot->stmt, NULL);
            if (rc != SQLITE_OK) {
                store_err(st, rc);
                dg_log_error("store", "msg=\"cannot prepare statement\" error=\"%s\"", st->err);
                slot->stmt = NULL;
                return NULL;
            }
            slot->sql = sql;
            return slot->stmt;
        }
    }
    dg_assert(!"statement cache full: raise STORE_STMT_SLOTS");
    return NULL;
}

static void dyn_unlink(dg_store *st, struct dyn_stmt *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        st->dyn_newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        st->dyn_oldest = e->newer;
    e->newer = e->older = NULL;
}

static void dyn_push_newest(dg_store *st, struct dyn_stmt *e)
{
    e->older = st->dyn_newest;
    e->newer = NULL;
    if (st->dyn_newest)
        st->dyn_newest->newer = e;
    else
        st->dyn_oldest = e;
    st->dyn_newest = e;
}

/* Finalizes idle statements, least recently used first, until there is room
 * for one more. A held or running statement is never touched: if every
 * cached statement is in use, the cache grows past its bound until they are
 * released. */
static void dyn_make_room(dg_store *st)
{
    struct dyn_stmt *e = st->dyn_oldest;

    while (st->n_dyn >= STORE_DYN_STMTS && e) {
        struct dyn_stmt *newer = e->newer;

        if (!e->is_held && !sqlite3_stmt_busy(e->stmt)) {
            const char *sql = sqlite3_sql(e->stmt); /* the key: the text as prepared */

            dg_map_remove(st->dyn, sql, strlen(sql));
            dyn_unlink(st, e);
            sqlite3_finalize(e->stmt);
            free(e);
            st->n_dyn--;
        }
        e = newer;
    }
}

static sqlite3_stmt *dyn_prepare(dg_store *st, const char *sql, unsigned flags)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v3(st->db, sql, -1, flags, &s, NULL);

    if (rc != SQLITE_OK) {
        store_err(st, rc);
        dg_log_error("store", "msg=\"cannot prepare statement\" error=\"%s\"", st->err);
        sqlite3_finalize(s);
        return NULL;
    }
    return s;
}

sqlite3_stmt *store_stmt_text(dg_store *st, const char *sql)
{
    struct dyn_stmt *e = dg_map_get(st->dyn, sql, strlen(sql));
    sqlite3_stmt *s;

    if (e && e->is_held) /* nested use of the same text: a statement of its own */
        return dyn_prepare(st, sql, 0);
    if (e) {
        sqlite3_reset(e->stmt);
        sqlite3_clear_bindings(e->stmt);
        dyn_unlink(st, e);
        dyn_push_newest(st, e);
        e->is_held = true;
        return e->stmt;
    }
    dyn_make_room(st);
    if (!(s = dyn_prepare(st, sql, SQLITE_PREPARE_PERSISTENT)))
        return NULL;
    e = dg_xcalloc(1, sizeof *e);
    e->stmt = s;
    e->is_held = true;
    dg_map_put(st->dyn, sql, strlen(sql), e, NULL);
    dyn_push_newest(st, e);
    st->n_dyn++;
    return s;
}

void store_stmt_release(dg_store *st, sqlite3_stmt *s)
{
    const char *sql;
    struct dyn_stmt *e;

    if (!s)
        return;
    sql = sqlite3_sql(s);
    e = dg_map_get(st->dyn, sql, strlen(sql));
    if (!e || e->stmt != s) { /* the private statement of a nested use */
        sqlite3_finalize(s);
        return;
    }
    dg_assert(e->is_held);
    sqlite3_reset(s);
    e->is_held = false;
}

int store_exec_stmt(dg_store *st, sqlite3_stmt *s)
{
    int rc;

    if (!s)
        return DG_EIO;
    rc = sqlite3_step(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        int err = store_err(st, rc);

        sqlite3_reset(s);
        return err;
    }
    sqlite3_reset(s);
    return DG_OK;
}

void store_col_text(sqlite3_stmt *s, int col, char *out, size_t out_len)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    size_t n = t ? (size_t)sqlite3_column_bytes(s, col) : 0;

    if (n >= out_len)
        n = out_len - 1;
    if (n)
        memcpy(out, t, n);
    out[n] = '\0';
}

int store_bind_text(sqlite3_stmt *s, int idx, const char *text)
{
    if (!text)
        return sqlite3_bind_null(s, idx);
    return sqlite3_bind_text(s, idx, text, -1, SQLITE_STATIC);
}

int store_bind_id(sqlite3_stmt *s, int idx, int64_t id)
{
    if (id == 0)
        return sqlite3_bind_null(s, idx);
    return sqlite3_bind_int64(s, idx, id);
}

/* Runs one SQL text (possibly several statements) without caching. */
static int exec_sql(dg_store *st, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(st->db, sql, NULL, NULL, &msg);

    if (rc != SQLITE_OK) {
        int err = store_err(st, rc);

        if (msg)
            snprintf(st->err, sizeof st->err, "%s", msg);
        sqlite3_free(msg);
        return err;
    }
    return DG_OK;
}

static int pragma_int(dg_store *st, const char *sql, int64_t *out)
{
    sqlite3_stmt *s;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);

    if (rc != SQLITE_OK)
        return store_err(st, rc);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? DG_OK : store_err(st, rc);
}

static int pragma_text(dg_store *st, const char *sql, char *out, size_t out_len)
{
    sqlite3_stmt *s;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);

    if (rc != SQLITE_OK)
        return store_err(st, rc);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        store_col_text(s, 0, out, out_len);
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? DG_OK : store_err(st, rc);
}

/* Acknowledged means durable (docs/architecture.md), and a crafted schema cannot run
 * functions. Set what we need, then read it back and refuse anything weaker. */
static int apply_and_check_settings(dg_store *st, char *err, size_t err_len)
{
    int on = 0;
    int64_t v = 0;
    char mode[16] = "";
    int rc;

    sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, &on);
    if (!on) {
        snprintf(err, err_len, "SQLite defensive mode cannot be enabled");
        return DG_ECORRUPT;
    }
    sqlite3_db_config(st->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, &on);
    if (on) {
        snprintf(err, err_len, "SQLite trusted_schema cannot be turned off");
        return DG_ECORRUPT;
    }
    sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
    /* Speed without weakening durability: statement journals (one per
     * savepoint) stay in memory instead of temp files; WAL checkpoints run
     * on the checkpointer thread (checkpoint.c), not inside the writer's
     * commits; the WAL file is trimmed back to 64 MiB after it starts over.
     * Page caches are small on purpose (dangan-bench, 100k customers): a
     * reader drops its whole cache whenever the WAL moved, and the writer
     * spends time in proportion to its cache at every commit: 64 MiB
     * was slower than 8. No
     * mmap: the checkpointer keeps growing the file and every reader then
     * remapped it (2x slower gets under writes), and an I/O error on a
     * mapped page is a SIGBUS instead of an error. */
    rc = exec_sql(st, st->is_writer ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                                      " PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;"
                                      " PRAGMA cache_size=-8192; PRAGMA wal_autocheckpoint=0;"
                                      " PRAGMA journal_size_limit=67108864; PRAGMA mmap_size=0;"
                                    : "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                                      " PRAGMA query_only=ON; PRAGMA temp_store=MEMORY;"
                                      " PRAGMA cache_size=-4096;"
                                      " PRAGMA mmap_size=0;");
    if (rc != DG_OK) {
        snprintf(err, err_len, "cannot apply database settings: %s", st->err);
        return rc;
    }
    if ((rc = pragma_text(st, "PRAGMA journal_mode", mode, sizeof mode)) != DG_OK)
        return rc;
    if (strcmp(mode, "wal") != 0) {
        snprintf(err, err_len, "database journal_mode is %s, not wal", mode);
        return DG_ECORRUPT;
    }
    if ((rc = pragma_int(st, "PRAGMA synchronous", &v)) != DG_OK)
        return rc;
    if (v < 2) {
        snprintf(err, err_len, "database synchronous=%lld is weaker than FULL", (long long)v);
        return DG_ECORRUPT;
    }
    if ((rc = pragma_int(st, "PRAGMA foreign_keys", &v)) != DG_OK)
        return rc;
    if (v != 1) {
        snprintf(err, err_len, "database foreign_keys cannot be enabled");
        return DG_ECORRUPT;
    }
    return DG_OK;
}

static int migrate(dg_store *st, char *err, size_t err_len)
{
    int64_t version = 0;
    int rc = pragma_int(st, "PRAGMA user_version", &version);

    if (rc != DG_OK) {
        snprintf(err, err_len, "cannot read the schema version: %s", st->err);
        return rc;
    }
    if (version > (int64_t)DG_ARRAY_LEN(migrations)) {
        snprintf(err, err_len, "database schema v%lld is newer than this dangand (v%zu)",
                 (long long)version, DG_ARRAY_LEN(migrations));
        return DG_ENOTSUP;
    }
    if (!st->is_writer) {
        if (version != (int64_t)DG_ARRAY_LEN(migrations)) {
            snprintf(err, err_len, "database schema v%lld, expected v%zu", (long long)version,
                     DG_ARRAY_LEN(migrations));
            return DG_ECORRUPT;
        }
        return DG_OK;
    }
    for (size_t v = (size_t)version; v < DG_ARRAY_LEN(migrations); v++) {
        char set_version[64];

        snprintf(set_version, sizeof set_version, "PRAGMA user_version=%zu", v + 1);
        rc = exec_sql(st, "BEGIN IMMEDIATE");
        for (const char *const *sql = migrations[v]; rc == DG_OK && *sql; sql++)
            rc = exec_sql(st, *sql);
        if (rc == DG_OK)
            rc = exec_sql(st, set_version);
        if (rc == DG_OK)
            rc = exec_sql(st, "COMMIT");
        if (rc != DG_OK) {
            snprintf(err, err_len, "schema migration to v%zu failed: %s", v + 1, st->err);
            (void)exec_sql(st, "ROLLBACK"); /* the error above is what matters */
            return rc;
        }
        dg_log_info("store", "msg=\"schema migrated\" version=%zu", v + 1);
    }
    return DG_OK;
}

/* A database's identity in its own header (offset 68, PRAGMA
 * application_id): random, never 0 once set, never changed. The WAL owner
 * records (walid.h) hold it, so a WAL is tied to one database even when
 * its owner records came along with it. Not a schema change: no migration. */
static int ensure_app_id(dg_store *st)
{
    int64_t id = 0;
    uint32_t fresh = 0;
    char sql[64];
    int rc = pragma_int(st, "PRAGMA application_id", &id);

    if (rc != DG_OK || id != 0)
        return rc;
    while (fresh == 0)
        dg_random(&fresh, sizeof fresh);
    snprintf(sql, sizeof sql, "PRAGMA application_id=%d", (int32_t)fresh);
    return exec_sql(st, sql);
}

/* Process-wide SQLite settings, before its first use: no memory statistics
 * (they take a global mutex on every allocation, which every connection's
 * thread then contends for), and the VFS that coalesces WAL writes. */
static int vfs_rc = SQLITE_OK;

static void configure_sqlite(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); /* MISUSE if already initialised: fine */
    vfs_rc = dg_walbuf_register();
}

static pthread_once_t configure_once = PTHREAD_ONCE_INIT;

int store_configure(void)
{
    pthread_once(&configure_once, configure_sqlite);
    return vfs_rc;
}

/* After each commit on a writer connection: how many frames the WAL holds. */
static int note_wal_size(void *ud, sqlite3 *db, const char *name, int frames)
{
    dg_store *st = ud;

    DG_UNUSED(db);
    DG_UNUSED(name);
    st->wal_frames = frames;
    return SQLITE_OK;
}

static int open_conn(const char *path, bool is_writer, dg_store **out, char *err, size_t err_len)
{
    dg_store *st = dg_xcalloc(1, sizeof *st);
    int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE |
                (is_writer ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY);
    int rc;

    *out = NULL;
    pthread_once(&configure_once, configure_sqlite);
    st->is_writer = is_writer;
    st->dyn = dg_map_new();
    rc = vfs_rc != SQLITE_OK ? vfs_rc : sqlite3_open_v2(path, &st->db, flags, DG_WALBUF_VFS);
    if (rc != SQLITE_OK) {
        snprintf(err, err_len, "cannot open database %s: %s", path,
                 st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
        rc = store_err(st, rc);
        goto fail;
    }
    if ((rc = apply_and_check_settings(st, err, err_len)) != DG_OK)
        goto fail;
    if (is_writer) /* after the settings: wal_autocheckpoint=0 clears any hook */
        sqlite3_wal_hook(st->db, note_wal_size, st);
    if ((rc = store_search_register(st)) != DG_OK) {
        snprintf(err, err_len, "cannot register the search tokenizer: %s", st->err);
        goto fail;
    }
    if ((rc = migrate(st, err, err_len)) != DG_OK)
        goto fail;
    if (is_writer && (rc = ensure_app_id(st)) != DG_OK) {
        snprintf(err, err_len, "cannot give the database its application id: %s", st->err);
        goto fail;
    }
    *out = st;
    return DG_OK;
fail:
    dg_store_close(st);
    return rc;
}

int dg_store_open(const char *path, bool is_writer, dg_store **out, char *err, size_t err_len)
{
    struct stat sb;

    if (stat(path, &sb) != 0) {
        snprintf(err, err_len, "cannot open database %s: %s", path, strerror(errno));
        *out = NULL;
        return errno == ENOENT ? DG_ENOTFOUND : DG_EIO;
    }
    return open_conn(path, is_writer, out, err, err_len);
}

int dg_store_create(const char *path, dg_store **out, char *err, size_t err_len)
{
    /* Create the file ourselves so it is 0600 from the first byte; SQLite
     * gives the -wal and -shm files the same mode. */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

    *out = NULL;
    if (fd < 0) {
        snprintf(err, err_len, "cannot create database %s: %s", path, strerror(errno));
        return errno == EEXIST ? DG_EEXIST : DG_EIO;
    }
    close(fd);
    return open_conn(path, true, out, err, err_len);
}

void dg_store_close(dg_store *st)
{
    if (!st)
        return;
    store_search_discard(st, 0);
    free(st->search_ops);
    for (size_t i = 0; i < STORE_STMT_SLOTS; i++)
        sqlite3_finalize(st->slots[i].stmt);
    if (st->dyn) {
        dg_map_sweep(st->dyn, finalize_dyn, NULL);
        dg_map_free(st->dyn);
    }
    if (st->db && sqlite3_close(st->db) != SQLITE_OK)
        dg_log_error("store", "msg=\"database did not close cleanly\" error=\"%s\"",
                     sqlite3_errmsg(st->db));
    free(st);
}

const char *dg_store_errmsg(const dg_store *st)
{
    return st->err;
}

int dg_store_set_cache_mib(dg_store *st, int mib)
{
    char sql[64];

    dg_assert(mib > 0);
    snprintf(sql, sizeof sql, "PRAGMA cache_size=-%d", mib * 1024); /* negative: KiB */
    return exec_sql(st, sql);
}

static const char SQL_BEGIN[] = "BEGIN IMMEDIATE";
static const char SQL_COMMIT[] = "COMMIT";
static const char SQL_ROLLBACK[] = "ROLLBACK";
static const char SQL_SAVEPOINT[] = "SAVEPOINT job";
static const char SQL_RELEASE[] = "RELEASE job";
static const char SQL_ROLLBACK_TO[] = "ROLLBACK TO job";
static const char SQL_READ_BEGIN[] = "BEGIN";

int dg_store_begin(dg_store *st)
{
    dg_assert(st->is_writer);
    return store_exec_stmt(st, store_stmt(st, SQL_BEGIN));
}

int dg_store_commit(dg_store *st)
{
    int rc = dg_store_search_flush(st);

    return rc != DG_OK ? rc : store_exec_stmt(st, store_stmt(st, SQL_COMMIT));
}

int dg_store_skip_sync(dg_store *st, bool skip)
{
    int rc;

    if (skip == st->is_sync_skipped)
        return DG_OK;
    rc = exec_sql(st, skip ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL");
    if (rc == DG_OK)
        st->is_sync_skipped = skip;
    return rc;
}

int dg_store_backup_to(dg_store *st, const char *path, char *err, size_t err_len)
{
    sqlite3 *dst = NULL;
    sqlite3_backup *b;
    int rc = sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);

    if (rc == SQLITE_OK && (b = sqlite3_backup_init(dst, "main", st->db, "main"))) {
        /* one step: a consistent copy of one moment, however big */
        rc = sqlite3_backup_step(b, -1);
        rc = sqlite3_backup_finish(b) == SQLITE_OK && rc == SQLITE_DONE ? SQLITE_OK : rc;
    } else if (rc == SQLITE_OK) {
        rc = sqlite3_errcode(dst);
    }
    if (rc == SQLITE_OK) /* out of the copy's own WAL into its file, and synced */
        rc = sqlite3_exec(dst, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        snprintf(err, err_len, "%s", dst ? sqlite3_errmsg(dst) : sqlite3_errstr(rc));
    if (sqlite3_close(dst) != SQLITE_OK && rc == SQLITE_OK) {
        snprintf(err, err_len, "cannot close the copy");
        rc = SQLITE_IOERR;
    }
    return rc == SQLITE_OK ? DG_OK : DG_EIO;
}

int dg_store_schema_version(dg_store *st, int64_t *version)
{
    return pragma_int(st, "PRAGMA user_version", version);
}

bool dg_store_sync_skipped(const dg_store *st)
{
    return st->is_sync_skipped;
}

void dg_store_rollback(dg_store *st)
{
    store_search_discard(st, 0);
    /* Fails only when no transaction is open, which is what we want then. */
    (void)store_exec_stmt(st, store_stmt(st, SQL_ROLLBACK));
}

int dg_store_savepoint(dg_store *st)
{
    st->search_ops_mark = st->n_search_ops;
    return store_exec_stmt(st, store_stmt(st, SQL_SAVEPOINT));
}

int dg_store_release(dg_store *st)
{
    return store_exec_stmt(st, store_stmt(st, SQL_RELEASE));
}

void dg_store_rollback_to(dg_store *st)
{
    store_search_discard(st, st->search_ops_mark);
    /* ROLLBACK TO keeps the savepoint open; RELEASE closes it. */
    (void)store_exec_stmt(st, store_stmt(st, SQL_ROLLBACK_TO));
    (void)store_exec_stmt(st, store_stmt(st, SQL_RELEASE));
}

int dg_store_wal_frames(const dg_store *st)
{
    return st->wal_frames;
}

int dg_store_checkpoint_restart(dg_store *st, int wait_ms)
{
    int rc;

    sqlite3_busy_timeout(st->db, wait_ms);
    rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
    sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
    if (rc == SQLITE_OK)
        st->wal_frames = 0;
    return rc == SQLITE_OK ? DG_OK : store_err(st, rc);
}

int dg_store_checkpoint(dg_store *st, int *wal_frames, int *done_frames)
{
    int rc =
        sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_PASSIVE, wal_frames, done_frames);

    return rc == SQLITE_OK || rc == SQLITE_BUSY ? DG_OK : store_err(st, rc);
}

int dg_store_sync_db_file(dg_store *st)
{
    sqlite3_file *f = NULL;
    int rc = sqlite3_file_control(st->db, "main", SQLITE_FCNTL_FILE_POINTER, &f);

    if (rc != SQLITE_OK)
        return store_err(st, rc);
    if (!f || !f->pMethods)
        return DG_OK; /* not open yet: nothing written through it */
    rc = f->pMethods->xSync(f, SQLITE_SYNC_NORMAL | SQLITE_SYNC_DATAONLY);
    if (rc != SQLITE_OK) {
        int err = store_err(st, rc);

        /* sqlite3_errmsg() knows nothing of a call made past the API */
        snprintf(st->err, sizeof st->err, "cannot sync the database file: %s", sqlite3_errstr(rc));
        return err;
    }
    return DG_OK;
}

bool dg_store_in_transaction(dg_store *st)
{
    return !sqlite3_get_autocommit(st->db);
}

int dg_store_read_begin(dg_store *st)
{
    int rc = store_exec_stmt(st, store_stmt(st, SQL_READ_BEGIN));

    st->is_read_tx = rc == DG_OK;
    return rc;
}

void dg_store_read_end(dg_store *st)
{
    if (st->is_read_tx)
        (void)store_exec_stmt(st, store_stmt(st, SQL_COMMIT)); /* read-only: cannot fail usefully */
    st->is_read_tx = false;
}

static const char SQL_META_GET[] = "SELECT value FROM meta WHERE key = ?1";
static const char SQL_META_PUT[] = "INSERT INTO meta(key, value) VALUES (?1, ?2)"
                                   " ON CONFLICT(key) DO UPDATE SET value = excluded.value";
static const char SQL_SETTING_GET[] = "SELECT value FROM settings WHERE key = ?1";
static const char SQL_SETTING_PUT[] = "INSERT INTO settings(key, value) VALUES (?1, ?2)"
                                      " ON CONFLICT(key) DO UPDATE SET value = excluded.value";
static const char SQL_FEED_HEAD[] = "SELECT coalesce(max(seq), 0) FROM changes";

int dg_store_meta_get(dg_store *st, const char *key, char *out, size_t out_len)
{
    sqlite3_stmt *s = store_stmt(st, SQL_META_GET);
    int rc;

    if (!s)
        return DG_EIO;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        store_col_text(s, 0, out, out_len);
        sqlite3_reset(s);
        return DG_OK;
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? DG_ENOTFOUND : store_err(st, rc);
}

int dg_store_meta_put(dg_store *st, const char *key, const char *value)
{
    sqlite3_stmt *s = store_stmt(st, SQL_META_PUT);

    if (!s)
        return DG_EIO;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
    return store_exec_stmt(st, s);
}

int dg_store_setting_int(dg_store *st, const char *key, int64_t dflt, int64_t *out)
{
    sqlite3_stmt *s = store_stmt(st, SQL_SETTING_GET);
    int rc;

    if (!s)
        return DG_EIO;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : dflt;
    sqlite3_reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? DG_OK : store_err(st, rc);
}

int dg_store_setting_put_int(dg_store *st, const char *key, int64_t value)
{
    sqlite3_stmt *s = store_stmt(st, SQL_SETTING_PUT);

    if (!s)
        return DG_EIO;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, value);
    return store_exec_stmt(st, s);
}

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

static const char SQL_CHANGES_AFTER[] =
    "SELECT seq, at, coalesce(actor_id, 0), entity, entity_id, coalesce(customer_id, 0), op,"
    " version, vis_before_owner, vis_before_tier, vis_after_owner, vis_after_tier"
    " FROM changes WHERE seq > ?1 ORDER BY seq LIMIT ?2";
static const char SQL_CHANGES_OLDEST[] = "SELECT coalesce(min(seq), 0) FROM changes";
static const char SQL_CHANGE_FIELDS[] =
    "SELECT seq, field FROM change_fields WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq, pos";

static const char *col_dup(sqlite3_stmt *s, int col, dg_arena *a)
{
    const unsigned char *t = sqlite3_column_text(s, col);

    return dg_arena_strdup(a, t ? (const char *)t : "");
}

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

/* Gives rows[0 .. n) (in seq order, no NULL fields) their changed fields
 * from the table, in `a`. */
static int read_change_fields(dg_store *st, dg_change_row *rows, size_t n, dg_arena *a)
{
    sqlite3_stmt *s;
    size_t i = 0, cap = 0, len = 0;
    size_t *first; /* by row: the index in `names` of its first field */
    const char **names = NULL;
    int rc;

    if (n == 0)
        return DG_OK;
    if (!(first = dg_arena_calloc(a, n, sizeof *first)))
        return DG_ENOMEM;
    if (!(s = store_stmt(st, SQL_CHANGE_FIELDS)))
        return DG_EIO;
    sqlite3_bind_int64(s, 1, rows[0].seq);
    sqlite3_bind_int64(s, 2, rows[n - 1].seq);
    /* Both in seq order: each row's fields are the next run of the result,
     * collected in one array and handed out as slices of it at the end. */
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(s, 0);

        while (i < n && rows[i].seq < seq)
            i++;
        if (i == n || rows[i].seq != seq)
            continue; /* cannot be: rows holds every change in the range */
        if (len == cap) {
            const char **grown;

            cap = cap ? cap * 2 : 64;
            if (!(grown = dg_arena_alloc(a, cap * sizeof *grown))) {
                rc = SQLITE_NOMEM;
                break;
            }
            if (len)
                memcpy(grown, names, len * sizeof *grown);
            names = grown;
        }
        if (!(names[len] = col_dup(s, 1, a))) {
            rc = SQLITE_NOMEM;
            break;
        }
        if (rows[i].c.n_fields++ == 0)
            first[i] = len;
        len++;
    }
    sqlite3_reset(s);
    if (rc == SQLITE_NOMEM)
        return DG_ENOMEM; /* the arena's budget, not SQLite's memory */
    if (rc != SQLITE_DONE)
        return store_err(st, rc);
    for (size_t k = 0; k < n; k++)
        if (rows[k].c.n_fields)
            rows[k].c.fields = &names[first[k]];
    return DG_OK;
}

int dg_store_changes_after(dg_store *st, int64_t after_seq, uint32_t limit, dg_arena *a,
                           dg_change_row **out, size_t *n, int64_t *oldest)
{
    static const char *const no_fields[1];
    sqlite3_stmt *s = store_stmt(st, SQL_CHANGES_OLDEST);
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
            .entity = col_dup(s, 3, a),
            .entity_id = sqlite3_column_int64(s, 4),
            .customer_id = sqlite3_column_int64(s, 5),
            .op = col_dup(s, 6, a),
            .version = sqlite3_column_int64(s, 7),
            .fields = no_fields,
            .vis_before = col_visibility(s, 8),
            .vis_after = col_visibility(s, 10),
        };
        if (!r->c.entity || !r->c.op) {
            sqlite3_reset(s);
            return DG_ENOMEM;
        }
        (*n)++;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_err(st, rc);
    return read_change_fields(st, *out, *n, a);
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
