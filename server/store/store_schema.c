/* store_schema.c - the schema: every migration since the first, and the
 * step that brings a database to the current version.
 *
 * migrations[i] takes user_version i to i + 1, as a NULL-terminated list of
 * SQL texts applied in one transaction. Never edit a shipped migration; add
 * the next one (and bump DG_SCHEMA_VERSION in store.h).
 * Runs on: the thread that opens the connection.
 */
#include "store_int.h"

#include <stdio.h>

#include "dg.h"
#include "log.h"

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
     * server/store/entity.c; MONEY fields add NAME_currency, USER fields are NAME_id. */
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

static const char *const migration_v7[] = {
    /* v7: documents attached to a customer. Content is kept once per SHA-256
     * (doc_contents) in chunks of BLOBs inside the database, so backup,
     * restore, WAL durability and the integrity checks cover it like any
     * other row (docs/operations.md, "Documents"). A content row with no
     * sha256 is an upload in progress; it gets its hash when the upload is
     * finished and verified. */
    "CREATE TABLE doc_contents ("
    "  id INTEGER PRIMARY KEY,"
    "  sha256 BLOB UNIQUE CHECK (sha256 IS NULL OR length(sha256) = 32),"
    "  size INTEGER NOT NULL CHECK (size >= 0),"
    "  chunk_size INTEGER NOT NULL CHECK (chunk_size > 0),"
    "  created_at INTEGER NOT NULL"
    ") STRICT;"
    "CREATE TABLE doc_chunks ("
    "  content_id INTEGER NOT NULL REFERENCES doc_contents(id) ON DELETE CASCADE,"
    "  idx INTEGER NOT NULL," /* offset / chunk_size */
    "  data BLOB NOT NULL,"
    "  PRIMARY KEY (content_id, idx)"
    ") STRICT;"
    "CREATE TABLE documents ("
    "  id INTEGER PRIMARY KEY,"
    "  customer_id INTEGER NOT NULL REFERENCES customers(id),"
    "  kind TEXT NOT NULL," /* DocKind's stored name: 'contract', ... */
    "  title TEXT NOT NULL,"
    "  doc_date TEXT NOT NULL," /* YYYY-MM-DD */
    "  expires_on TEXT NOT NULL DEFAULT '',"
    "  notes TEXT NOT NULL DEFAULT '',"
    "  file_name TEXT NOT NULL DEFAULT '',"
    "  content_id INTEGER NOT NULL REFERENCES doc_contents(id),"
    "  version INTEGER NOT NULL,"
    "  archived INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL,"
    "  created_by INTEGER,"
    "  archived_at INTEGER NOT NULL DEFAULT 0,"
    "  archived_by INTEGER"
    ") STRICT;"
    "CREATE INDEX documents_filed ON documents(customer_id, kind, doc_date, id);"
    "CREATE INDEX documents_by_content ON documents(content_id);"
    "CREATE TABLE doc_uploads ("
    "  id INTEGER PRIMARY KEY,"
    "  user_id INTEGER NOT NULL,"
    "  customer_id INTEGER NOT NULL,"
    "  content_id INTEGER NOT NULL REFERENCES doc_contents(id),"
    "  kind TEXT NOT NULL,"
    "  title TEXT NOT NULL,"
    "  doc_date TEXT NOT NULL,"
    "  expires_on TEXT NOT NULL,"
    "  notes TEXT NOT NULL,"
    "  file_name TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  sha256 BLOB NOT NULL," /* as the client declared it */
    "  received INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL,"
    "  document_id INTEGER REFERENCES documents(id)" /* set once finished */
    ") STRICT;"
    "CREATE INDEX doc_uploads_by_content ON doc_uploads(content_id);",
    NULL,
};

static const char *const migration_v8[] = {
    /* v8: duplicate keys by new rules (common/dupkey.c: places, brackets,
     * legal forms, extensions) and a "similar name" key, each with an index
     * of the live customers that have one, so that a probe on create is one
     * lookup and the duplicate scan walks each index once. The keys are C
     * code: the server recomputes them at start (dg_rec_dupkeys_if_needed)
     * since meta 'dup_keys' is gone; until then they are empty, so the
     * indexes start small. */
    "DROP INDEX customers_dup_name;"
    "DROP INDEX customers_dup_phone;"
    "DROP INDEX customers_dup_email;"
    "ALTER TABLE customers ADD COLUMN dup_stem TEXT NOT NULL DEFAULT '';"
    "UPDATE customers SET dup_name = '', dup_phone = '', dup_email = '';"
    "CREATE INDEX customers_dupkey_name ON customers(dup_name)"
    "  WHERE dup_name != '' AND archived_at IS NULL;"
    "CREATE INDEX customers_dupkey_email ON customers(dup_email)"
    "  WHERE dup_email != '' AND archived_at IS NULL;"
    "CREATE INDEX customers_dupkey_phone ON customers(dup_phone)"
    "  WHERE dup_phone != '' AND archived_at IS NULL;"
    "CREATE INDEX customers_dupkey_stem ON customers(dup_stem)"
    "  WHERE dup_stem != '' AND archived_at IS NULL;"
    "DELETE FROM meta WHERE key = 'dup_keys';",
    NULL,
};

static const char *const migration_v9[] = {
    /* v9: the deal pipeline and churn. A deal gets a stage of the team's
     * pipeline (team.h), a probability, an expected close date and the
     * reason it was lost; the deals recorded before were transactions that
     * took place, so they are won. A customer gets the reason it was lost. */
    "ALTER TABLE deals ADD COLUMN stage TEXT NOT NULL DEFAULT 'won';"
    "ALTER TABLE deals ADD COLUMN probability INTEGER NOT NULL DEFAULT 100;"
    "ALTER TABLE deals ADD COLUMN expected_close_on TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE deals ADD COLUMN lost_reason TEXT NOT NULL DEFAULT '';"
    "CREATE INDEX deals_by_stage ON deals(stage, at_ms, id);"
    "ALTER TABLE customers ADD COLUMN churn_reason TEXT NOT NULL DEFAULT '';",
    NULL,
};

static const char *const migration_v10[] = {
    /* v10: the team's settings (team.h): one row, the settings as a JSON
     * document (store_team.c), a version raised by every change (a change
     * names the version it was based on), who changed them and when. No row:
     * the defaults. */
    "CREATE TABLE team_settings ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  body TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  updated_by INTEGER REFERENCES users(id)"
    ") STRICT;",
    NULL,
};

static const char *const migration_v11[] = {
    /* v11: the deal pipeline's moves and the ABC classification. Idempotency
     * keys learn two more requests (the table is rebuilt for its CHECK); the
     * classification reads every live customer and the won deals of a window
     * through covering indexes of their own. */
    "CREATE TABLE idempotency_v10 ("
    "  user_id INTEGER NOT NULL,"
    "  key TEXT NOT NULL,"
    "  request_hash BLOB NOT NULL,"
    "  request TEXT CHECK (request IN ('create','update','archive','restore','batch','merge',"
    "    'reassign','deal_move','tiers_apply')),"
    "  n_records INTEGER NOT NULL DEFAULT 0,"
    "  moved INTEGER NOT NULL DEFAULT 0,"     /* merge; tiers_apply: customers ranked */
    "  customers INTEGER NOT NULL DEFAULT 0," /* reassign; tiers_apply: customers changed */
    "  tasks INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (user_id, key)"
    ") STRICT, WITHOUT ROWID;"
    "INSERT INTO idempotency_v10(user_id, key, request_hash, request, n_records, moved,"
    "                            customers, tasks, created_at)"
    "  SELECT user_id, key, request_hash, request, n_records, moved, customers, tasks,"
    "         created_at FROM idempotency;"
    "DROP TABLE idempotency;"
    "ALTER TABLE idempotency_v10 RENAME TO idempotency;"
    "CREATE INDEX idempotency_by_age ON idempotency(created_at);"
    "CREATE INDEX customers_live_tier ON customers(id, tier, owner_id)"
    "  WHERE archived_at IS NULL;"
    "CREATE INDEX deals_won ON deals(stage, amount_currency, at_ms, customer_id, amount)"
    "  WHERE archived_at IS NULL;",
    NULL,
};

static const char *const migration_v12[] = {
    /* v12: the reports (store_reports.c). The summary reads every customer
     * once in this index's order, the visibility columns included, without
     * touching the wide rows; the at-risk count and list walk the customers
     * not lost by when they were last in touch (the expression the queries
     * use: their newest interaction, or their creation). */
    "CREATE INDEX customers_report ON customers(archived_at, tier, owner_id, status, intention,"
    "  industry, region);"
    "CREATE INDEX customers_at_risk ON customers("
    "  (CASE WHEN last_contact_at > 0 THEN last_contact_at ELSE created_at END), tier, owner_id)"
    "  WHERE archived_at IS NULL AND status != 'lost';"
    /* The deals, interactions and feedback of a period, and the visibility
     * of their customers, read from indexes alone (the joins name
     * customers_visibility: the planner would read the wide rows). */
    "CREATE INDEX customers_visibility ON customers(id, archived_at, tier, owner_id);"
    "CREATE INDEX deals_report ON deals(stage, at_ms, archived_at, customer_id, amount_currency,"
    "  amount, probability);"
    "CREATE INDEX interactions_report ON interactions(at_ms, archived_at, channel, created_by,"
    "  customer_id);"
    "CREATE INDEX feedback_report ON feedback(at_ms, archived_at, customer_id, kind, satisfaction,"
    "  status);",
    NULL,
};

/* v13: what the day's list (server/store/store_today.c) reads without
 * walking the interaction log. Each customer keeps its last call (channel
 * phone) and last visit (visit or meeting) and its open follow-up: the
 * next_follow_up of its newest interaction, which a later interaction
 * answers. Triggers keep them whatever writes an interaction (create, edit,
 * archive, restore, a merge moving it, an import): each recomputes the
 * customer's three from its live interactions (interactions_by_customer).
 * The indexes serve one owner's customers due by tier, follow-ups due, the
 * dormancy window, contracts by expiry, and a user's open tasks by due time
 * with, for counting them, whether their customer is live and who may see
 * it (owner, tier) without reading the customer's row. */
#define TODAY_RECOUNT(X)                                                                           \
    "UPDATE customers SET"                                                                         \
    " last_call_at = COALESCE((SELECT MAX(at_ms) FROM interactions WHERE customer_id = " X         \
    " AND archived_at IS NULL AND channel = 'phone'), 0),"                                         \
    " last_visit_at = COALESCE((SELECT MAX(at_ms) FROM interactions WHERE customer_id = " X        \
    " AND archived_at IS NULL AND channel IN ('visit', 'meeting')), 0),"                           \
    " follow_up_id = COALESCE((SELECT CASE WHEN next_follow_up != '' THEN id ELSE 0 END"           \
    " FROM interactions WHERE customer_id = " X " AND archived_at IS NULL"                         \
    " ORDER BY at_ms DESC, id DESC LIMIT 1), 0),"                                                  \
    " follow_up_on = COALESCE((SELECT next_follow_up FROM interactions WHERE customer_id = " X     \
    " AND archived_at IS NULL ORDER BY at_ms DESC, id DESC LIMIT 1), '')"                          \
    " WHERE id = " X
static const char *const migration_v13[] = {
    "ALTER TABLE customers ADD COLUMN last_call_at INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE customers ADD COLUMN last_visit_at INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE customers ADD COLUMN follow_up_on TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE customers ADD COLUMN follow_up_id INTEGER NOT NULL DEFAULT 0;",
    "CREATE TRIGGER interactions_today_insert AFTER INSERT ON interactions BEGIN " TODAY_RECOUNT(
        "NEW.customer_id") "; END;"
    "CREATE TRIGGER interactions_today_update AFTER UPDATE OF customer_id, at_ms, channel,"
    " next_follow_up, archived_at ON interactions BEGIN " TODAY_RECOUNT(
        "OLD.customer_id") "; " TODAY_RECOUNT("NEW.customer_id") " AND NEW.customer_id != "
                                                               "OLD.customer_id; END;",
    "CREATE TRIGGER interactions_today_delete AFTER DELETE ON interactions BEGIN " TODAY_RECOUNT(
        "OLD.customer_id") "; END;",
    TODAY_RECOUNT("customers.id") ";",
    "CREATE INDEX customers_today_call ON customers(owner_id, tier, last_call_at, name_key)"
    "  WHERE archived_at IS NULL;"
    "CREATE INDEX customers_today_visit ON customers(owner_id, tier, last_visit_at, name_key)"
    "  WHERE archived_at IS NULL;"
    "CREATE INDEX customers_today_follow_up ON customers(owner_id, follow_up_on)"
    "  WHERE archived_at IS NULL AND follow_up_on != '';"
    "CREATE INDEX customers_today_contact ON customers(owner_id, last_contact_at)"
    "  WHERE archived_at IS NULL;"
    "CREATE INDEX documents_contract_expiry ON documents(expires_on, customer_id)"
    "  WHERE kind = 'contract' AND archived = 0 AND expires_on != '';"
    "CREATE INDEX tasks_today_open ON tasks(assignee_id, due_at_ms, id, customer_id)"
    "  WHERE done = 0 AND archived_at IS NULL;"
    "CREATE INDEX customers_today_seen ON customers(id, owner_id, tier)"
    "  WHERE archived_at IS NULL;",
    NULL,
};
#undef TODAY_RECOUNT

static const char *const migration_v14[] = {
    /* v14: the public pool. claimed_from_pool_at: when the current owner
     * claimed the customer from the pool (NULL: not a pool claim), what
     * counts against the team's pool_max_claims. owner_active_at: when the
     * current owner last got the customer or logged an interaction on it,
     * which auto-return compares with the team's pool_return_after_days.
     * Triggers keep both in every write path (records, merges, imports,
     * demo data): a new owner starts the clock and frees the pool slot; an
     * interaction its customer's owner creates restarts the clock. Customers
     * owned before the upgrade start at their newest interaction by the
     * owner, or when they were created. */
    "ALTER TABLE customers ADD COLUMN claimed_from_pool_at INTEGER;"
    "ALTER TABLE customers ADD COLUMN owner_active_at INTEGER NOT NULL DEFAULT 0;"
    "UPDATE customers SET owner_active_at = max(created_at, coalesce((SELECT max(i.created_at)"
    "  FROM interactions i WHERE i.customer_id = customers.id"
    "  AND i.created_by = customers.owner_id), 0)) WHERE owner_id IS NOT NULL;"
    "CREATE INDEX customers_pool ON customers(id) WHERE owner_id IS NULL AND archived_at IS NULL;"
    "CREATE INDEX customers_pool_claims ON customers(owner_id)"
    "  WHERE claimed_from_pool_at IS NOT NULL AND archived_at IS NULL;"
    "CREATE INDEX customers_owner_active ON customers(owner_active_at, id)"
    "  WHERE owner_id IS NOT NULL AND archived_at IS NULL;"
    "CREATE TRIGGER customers_owner_new AFTER INSERT ON customers WHEN NEW.owner_id IS NOT NULL"
    " BEGIN UPDATE customers SET owner_active_at = NEW.created_at WHERE id = NEW.id; END;"
    "CREATE TRIGGER customers_owner_changed AFTER UPDATE OF owner_id ON customers"
    " WHEN NEW.owner_id IS NOT OLD.owner_id BEGIN UPDATE customers SET owner_active_at ="
    " NEW.updated_at, claimed_from_pool_at = NULL WHERE id = NEW.id; END;"
    "CREATE TRIGGER interactions_owner_active AFTER INSERT ON interactions BEGIN"
    " UPDATE customers SET owner_active_at = max(owner_active_at, NEW.created_at)"
    " WHERE id = NEW.customer_id AND owner_id = NEW.created_by; END;",
    NULL,
};

static const char *const migration_v15[] = {
    /* v15: reminders. A reminder (or a notice) addressed to one user is a
     * change row of entity 'reminder' whose payload is a row of reminders;
     * it goes with its change when the feed is pruned. reminders_sent says
     * which reminders were written, by what they remind of (kind, record)
     * and the due time they were for (a task's due_at_ms; for a date, its
     * UTC midnight): written in the transaction that writes the reminder, so
     * none is sent twice, also across a restart. */
    "CREATE TABLE reminders ("
    "  seq INTEGER PRIMARY KEY REFERENCES changes(seq) ON DELETE CASCADE,"
    "  recipient_id INTEGER NOT NULL,"
    "  kind INTEGER NOT NULL," /* dangan.v1.ReminderKind */
    "  record_kind INTEGER NOT NULL," /* dangan.v1.EntityKind */
    "  record_id INTEGER NOT NULL,"
    "  due_at_ms INTEGER NOT NULL,"
    "  remind_at_ms INTEGER NOT NULL,"
    "  due_on TEXT NOT NULL DEFAULT ''," /* YYYY-MM-DD */
    "  title TEXT NOT NULL,"
    "  customer_code TEXT NOT NULL,"
    "  customer_name TEXT NOT NULL,"
    "  time_zone TEXT NOT NULL"
    ") STRICT;"
    "CREATE TABLE reminders_sent ("
    "  kind INTEGER NOT NULL,"
    "  record_id INTEGER NOT NULL,"
    "  due_ms INTEGER NOT NULL,"
    "  sent_at INTEGER NOT NULL,"
    "  PRIMARY KEY (kind, record_id, due_ms)"
    ") STRICT, WITHOUT ROWID;"
    /* contracts by expiry date: the reminder's due query is a range of
     * documents_contract_expiry (v13) */
    "CREATE INDEX reminders_sent_by_due ON reminders_sent(due_ms);",
    NULL,
};

static const char *const migration_v16[] = {
    /* v16: change events as sentences. A change keeps its customer's name
     * and code at the time, and each changed item its value before and
     * after as text (NULL: not kept; rows written before have none). */
    "ALTER TABLE changes ADD COLUMN customer_name TEXT;"
    "ALTER TABLE changes ADD COLUMN customer_code TEXT;"
    "ALTER TABLE change_fields ADD COLUMN old_value TEXT;"
    "ALTER TABLE change_fields ADD COLUMN new_value TEXT;",
    NULL,
};

/* v17: the day's list at a million customers without a seek per row. Each
 * customer keeps the latest expiry of its live contracts (contract_until)
 * and how many expire that day (contract_n): a contract no later one
 * renewed, by owner and date from one index. Each task keeps its customer's
 * owner, tier and whether it is live, so that a user's open tasks are
 * counted, visibility included, from one index. Triggers keep both whatever
 * writes a document, a task or a customer. */
#define CONTRACT_LIVE(X)                                                                           \
    " FROM documents WHERE customer_id = " X " AND kind = 'contract' AND archived = 0"             \
    " AND expires_on != ''"
#define CONTRACT_UNTIL(X) "COALESCE((SELECT MAX(expires_on)" CONTRACT_LIVE(X) "), '')"
#define CONTRACT_N(X) "(SELECT count(*)" CONTRACT_LIVE(X) " AND expires_on = " CONTRACT_UNTIL(X) ")"
#define CONTRACT_RECOUNT(X)                                                                        \
    "UPDATE customers SET contract_until = " CONTRACT_UNTIL(X) ", contract_n = " CONTRACT_N(       \
        X) " WHERE id = " X
#define CONTRACT_TRIGGER(NAME, EVENT, X)                                                           \
    "CREATE TRIGGER " NAME " AFTER " EVENT " ON documents BEGIN " CONTRACT_RECOUNT(X) "; END;"
#define CONTRACT_MOVED                                                                             \
    "CREATE TRIGGER documents_today_update AFTER UPDATE OF customer_id, kind, archived,"           \
    " expires_on ON documents BEGIN " CONTRACT_RECOUNT("OLD.customer_id") "; " CONTRACT_RECOUNT(   \
        "NEW.customer_id") " AND NEW.customer_id != OLD.customer_id; END;"
#define TASK_CUSTOMER(X)                                                                           \
    "UPDATE tasks SET (customer_owner_id, customer_tier, customer_live) = (SELECT owner_id,"       \
    " tier, archived_at IS NULL FROM customers WHERE id = " X ".customer_id) WHERE id = " X ".id"
#define TASK_TRIGGER(NAME, EVENT, WHEN)                                                            \
    "CREATE TRIGGER " NAME " AFTER " EVENT " ON tasks" WHEN " BEGIN " TASK_CUSTOMER("NEW") "; "    \
                                                                                           "END;"
static const char *const migration_v17[] = {
    "ALTER TABLE customers ADD COLUMN contract_until TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE customers ADD COLUMN contract_n INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE tasks ADD COLUMN customer_owner_id INTEGER;"
    "ALTER TABLE tasks ADD COLUMN customer_tier TEXT;"
    "ALTER TABLE tasks ADD COLUMN customer_live INTEGER NOT NULL DEFAULT 0;",
    CONTRACT_TRIGGER("documents_today_insert", "INSERT", "NEW.customer_id"),
    CONTRACT_MOVED,
    CONTRACT_TRIGGER("documents_today_delete", "DELETE", "OLD.customer_id"),
    TASK_TRIGGER("tasks_today_insert", "INSERT", ""),
    TASK_TRIGGER("tasks_today_moved", "UPDATE OF customer_id",
                 " WHEN NEW.customer_id != OLD.customer_id"),
    "CREATE TRIGGER customers_today_tasks AFTER UPDATE OF owner_id, tier, archived_at"
    " ON customers WHEN NEW.owner_id IS NOT OLD.owner_id OR NEW.tier IS NOT OLD.tier"
    " OR (NEW.archived_at IS NULL) != (OLD.archived_at IS NULL) BEGIN UPDATE tasks SET"
    " customer_owner_id = NEW.owner_id, customer_tier = NEW.tier,"
    " customer_live = NEW.archived_at IS NULL WHERE customer_id = NEW.id; END;",
    CONTRACT_RECOUNT("customers.id") " AND id IN (SELECT customer_id FROM documents"
                                     " WHERE kind = 'contract');",
    "UPDATE tasks SET (customer_owner_id, customer_tier, customer_live) = (SELECT owner_id, tier,"
    " archived_at IS NULL FROM customers WHERE id = tasks.customer_id);",
    "CREATE INDEX customers_today_contract ON customers(owner_id, contract_until, name_key, tier,"
    "  contract_n) WHERE archived_at IS NULL AND contract_until != '';"
    "CREATE INDEX tasks_today_due ON tasks(assignee_id, due_at_ms, id, customer_owner_id,"
    "  customer_tier) WHERE done = 0 AND archived_at IS NULL AND customer_live = 1;"
    "DROP INDEX tasks_today_open;"
    "DROP INDEX customers_today_seen;",
    NULL,
};
#undef CONTRACT_LIVE
#undef CONTRACT_UNTIL
#undef CONTRACT_N
#undef CONTRACT_RECOUNT
#undef CONTRACT_TRIGGER
#undef CONTRACT_MOVED
#undef TASK_CUSTOMER
#undef TASK_TRIGGER

static const char *const *const migrations[] = {
    migration_v1,  migration_v2,  migration_v3,  migration_v4,  migration_v5,  migration_v6,
    migration_v7,  migration_v8,  migration_v9,  migration_v10, migration_v11, migration_v12,
    migration_v13, migration_v14, migration_v15, migration_v16, migration_v17, store_migration_totals,
    store_migration_search_queue};

_Static_assert(DG_ARRAY_LEN(migrations) == DG_SCHEMA_VERSION, "DG_SCHEMA_VERSION is stale");

int store_migrate(dg_store *st, char *err, size_t err_len)
{
    int64_t version = 0;
    int rc = store_pragma_int(st, "PRAGMA user_version", &version);

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
        rc = store_exec_sql(st, "BEGIN IMMEDIATE");
        for (const char *const *sql = migrations[v]; rc == DG_OK && *sql; sql++)
            rc = store_exec_sql(st, *sql);
        if (rc == DG_OK)
            rc = store_exec_sql(st, set_version);
        if (rc == DG_OK)
            rc = store_exec_sql(st, "COMMIT");
        if (rc != DG_OK) {
            snprintf(err, err_len, "schema migration to v%zu failed: %s", v + 1, st->err);
            (void)store_exec_sql(st, "ROLLBACK"); /* the error above is what matters */
            return rc;
        }
        dg_log_info("store", "msg=\"schema migrated\" version=%zu", v + 1);
    }
    return DG_OK;
}
