/* store.h - the storage seam. Everything above it works with the structs of
 * model.h and dg_err codes; no sqlite3 type, SQL text or SQLite error code
 * appears outside server/store*.c (docs/architecture.md). A replicated backend could
 * implement this header later.
 *
 * A dg_store is one database connection. The writer thread owns the only
 * write connection; each reader thread owns one read-only connection. A
 * connection is used by one thread at a time. Callers supply timestamps and
 * tokens: no clock or randomness in SQL.
 *
 * Durability: WAL, synchronous=FULL, foreign keys, defensive mode, untrusted
 * schema; dg_store_open refuses a database where these do not hold.
 */
#ifndef DG_STORE_H
#define DG_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "entity.h"
#include "model.h"
#include "team.h"

typedef struct dg_store dg_store;

#define DG_SCHEMA_VERSION 19

/* Creates a new database at `path` (must not exist; file mode 0600), applies
 * the schema and opens it as the write connection. */
int dg_store_create(const char *path, dg_store **out, char *err, size_t err_len);
/* Opens an existing database. The write connection migrates an older schema
 * forward; a read connection requires the current schema. DG_OK, DG_EIO,
 * DG_ECORRUPT (not a dangan database, or weak settings), DG_ENOTSUP (schema
 * newer than this program). `err` explains. */
int dg_store_open(const char *path, bool is_writer, dg_store **out, char *err, size_t err_len);
/* Finalizes statements and closes; a clean close checkpoints the WAL. Accepts NULL. */
void dg_store_close(dg_store *st);
/* Text of the last SQLite failure on this connection, for logs. */
const char *dg_store_errmsg(const dg_store *st);
/* Sets this connection's page cache to `mib` MiB (SQLite's default: 2).
 * For offline bulk loads (dangand demo-data): transactions of thousands of
 * records then neither spill pages to the WAL nor read them back, which
 * halves the pages written. Durability settings are not touched. DG_OK or a
 * store error. */
int dg_store_set_cache_mib(dg_store *st, int mib);
/* A read connection that never sleeps on a lock (busy timeout 0): a lock it
 * would have waited for is DG_EBUSY at once. For the loop thread's own
 * connection, which must not stall the connections it serves. */
void dg_store_never_wait(dg_store *st);

/* Bulk loads (store_bulk.c): dg_store_bulk_indexes_drop, inside the
 * caller's write transaction, drops the secondary indexes of the record
 * tables that a load would fill in random key order, keeping their SQL in
 * meta; *n gets how many. dg_store_bulk_indexes_restore, outside any
 * transaction, makes again whatever such a list names and is missing (one
 * transaction each; a load that was interrupted leaves its list), then
 * removes the list; *n gets how many it made. Writer only. DG_OK or a
 * store error. */
int dg_store_bulk_indexes_drop(dg_store *st, int *n);
int dg_store_bulk_indexes_restore(dg_store *st, int *n);

/* Write transactions (writer connection only): BEGIN IMMEDIATE ... COMMIT,
 * one level of savepoint inside for per-job rollback in a group commit.
 * Search documents are queued and written by dg_store_search_flush, which
 * dg_store_commit calls first if the caller has not. Each returns DG_OK, or
 * a store error: DG_EBUSY (another writer holds the lock), DG_ENOSPC (the
 * disk is full: nothing was written), DG_EIO (a write or fsync failed: the
 * caller must stop writing), DG_ECORRUPT. After a failed commit the
 * transaction may still be open: dg_store_rollback ends it. */
int dg_store_begin(dg_store *st);
int dg_store_commit(dg_store *st);
/* Whether the next commits skip their fsync (synchronous=NORMAL) or wait
 * for it (FULL, the default). Only for transactions that record reads and
 * refusals, never a change of data: a skipped commit is in the WAL (a
 * killed process keeps it) and the next durable commit or checkpoint syncs
 * it; a power cut may lose it. Call between transactions. */
int dg_store_skip_sync(dg_store *st, bool skip);

/* Backup and restore (backup.c). Copies the database as of one moment into
 * a new file at `path` with SQLite's online backup (the server may be
 * writing meanwhile), then syncs it. The copy is a WAL database like ours. */
int dg_store_backup_to(dg_store *st, const char *path, char *err, size_t err_len);
/* The bytes the database's pages of tables and indexes whose names begin
 * with `prefix` take (SQLite's dbstat), in *bytes; 0 when there are none.
 * Reads every page of them: a reader's job. DG_OK or DG_EIO. */
int dg_store_bytes_of(dg_store *st, const char *prefix, int64_t *bytes);
/* The sizes of the database file and its WAL (0 when there is none). */
void dg_store_file_bytes(dg_store *st, int64_t *db_bytes, int64_t *wal_bytes);
/* PRAGMA quick_check: DG_OK when the file's structure is sound, else
 * DG_ECORRUPT with SQLite's first complaint in `err`. */
int dg_store_quick_check(dg_store *st, char *err, size_t err_len);
/* PRAGMA integrity_check (also every index against its table: slower than
 * quick_check), the same way. */
int dg_store_integrity_check(dg_store *st, char *err, size_t err_len);
/* Opens the database at `path` only to look at it (dangand check, the
 * start-up check, verifying a copy), read-only, with no settings enforced
 * and nothing migrated. `with_wal` false: as an immutable file, so SQLite
 * reads DB alone, creates no -wal or -shm file and takes no lock (nothing
 * may change DB meanwhile: hold the data directory's lock, or own the file).
 * `with_wal` true: through DB-wal, whose recovery rebuilds only the -shm
 * index; call it only for a WAL known to be this database's. DG_OK, or a
 * store error with `err` explaining. */
int dg_store_open_inspect(const char *path, bool with_wal, dg_store **out, char *err,
                          size_t err_len);
/* The schema version (PRAGMA user_version): DG_OK or a store error. */
int dg_store_schema_version(dg_store *st, int64_t *version);
/* Whether the open transaction skips its fsync (dg_store_skip_sync). */
bool dg_store_sync_skipped(const dg_store *st);
/* Writes the search documents queued in memory (still uncommitted): as rows
 * of the search_queue table when the connection defers them
 * (dg_store_search_defer), else into the index, after whatever rows
 * search_queue holds. DG_OK or a store error; a failure leaves the
 * transaction to be rolled back. */
int dg_store_search_flush(dg_store *st);
/* Writer connection, between transactions. `defer` true: from now on the
 * search documents of each commit go to search_queue, in the same
 * transaction as the records they follow, and reach the index only with
 * dg_store_search_apply (docs/architecture.md, "The search index"). Also
 * counts the rows already queued. DG_OK or a store error. */
int dg_store_search_defer(dg_store *st, bool defer);
/* Writer connection: the rows of search_queue, as of its open transaction
 * (or of its last commit). */
int64_t dg_store_search_queued(const dg_store *st);
/* Writes the rows of search_queue into the index and deletes them, in the
 * open transaction or job savepoint; documents queued in memory (newer)
 * stay queued. DG_OK or a store error (then roll back). */
int dg_store_search_apply(dg_store *st);
/* Ends the open write or read transaction, dropping what it wrote and the
 * queued search documents. Harmless when none is open. */
void dg_store_rollback(dg_store *st);
/* A job's savepoint inside a write transaction (one level: "SAVEPOINT job").
 * dg_store_savepoint: DG_OK or a store error. dg_store_release keeps what
 * the job wrote: DG_OK or a store error (then roll back the transaction).
 * dg_store_rollback_to drops it, and the search documents it queued, and
 * closes the savepoint; the transaction goes on. */
int dg_store_savepoint(dg_store *st);
int dg_store_release(dg_store *st);
void dg_store_rollback_to(dg_store *st);
/* Read transactions (any connection): a consistent snapshot across
 * statements until dg_store_read_end. DG_OK or a store error (DG_EBUSY). */
int dg_store_read_begin(dg_store *st);
/* A passive WAL checkpoint: copies committed pages into the database file
 * without blocking the writer or readers. *wal_frames / *done_frames get the
 * WAL size and how much of it is now in the database. Any connection opened
 * as a writer (the checkpointer has its own). */
int dg_store_checkpoint(dg_store *st, int *wal_frames, int *done_frames);
/* Syncs the database file's data (fdatasync) through this connection's own
 * SQLite file handle. A descriptor opened beside SQLite's would, when closed,
 * drop every POSIX lock the process holds on the file (SQLite's included). */
int dg_store_sync_db_file(dg_store *st);
/* The write connection's WAL as SQLite's own file object, for
 * dg_store_sync_wal on another thread; NULL while no WAL is open (before
 * the first transaction). Writer thread. */
typedef struct sqlite3_file dg_wal_file;
dg_wal_file *dg_store_wal_file(dg_store *st);
/* Syncs (fdatasync) that WAL from any thread while the writer goes on
 * writing: when it returns DG_OK, every commit that returned before the call
 * is on disk. Once a sync of that WAL failed (this or one SQLite made on the
 * writer's thread), every later one fails: DG_EIO. `why` gets the error. */
int dg_store_sync_wal(dg_wal_file *wal, char *why, size_t why_len);
/* Frames in the WAL after this writer connection's last commit. */
int dg_store_wal_frames(const dg_store *st);
/* Copies the rest of the WAL into the database and makes the next write
 * start the WAL over (SQLITE_CHECKPOINT_RESTART), waiting at most `wait_ms`
 * for readers of older snapshots. Between transactions only. DG_OK, DG_EBUSY
 * (readers still busy: try later) or a store error. */
int dg_store_checkpoint_restart(dg_store *st, int wait_ms);
/* False when no transaction is open (e.g. SQLite rolled it back after an I/O error). */
bool dg_store_in_transaction(dg_store *st);
/* Ends a read transaction of dg_store_read_begin (none open: nothing). */
void dg_store_read_end(dg_store *st);

/* meta: server identity and feed epoch. dg_store_meta_get copies the value
 * into `out` (NUL-terminated, cut at out_len - 1 bytes): DG_OK, DG_ENOTFOUND,
 * or a store error. dg_store_meta_put inserts or replaces (writer): DG_OK or
 * a store error. */
int dg_store_meta_get(dg_store *st, const char *key, char *out, size_t out_len);
int dg_store_meta_put(dg_store *st, const char *key, const char *value);
/* settings: admin-tunable policy values (integers). *out = dflt when absent.
 * DG_OK or a store error; put inserts or replaces (writer). */
int dg_store_setting_int(dg_store *st, const char *key, int64_t dflt, int64_t *out);
int dg_store_setting_put_int(dg_store *st, const char *key, int64_t value);

/* The team's settings (team.h, store_team.c): one stored row, or none
 * (the defaults). get fills `t` (the defaults under what is stored) and
 * `meta`: DG_OK, DG_ENOTFOUND (nothing stored: defaults, version 0) or a
 * store error. put stores `t` with `meta` (writer). deals_in_stage counts the
 * deals (archived ones too) whose stage is `stage`. */
int dg_store_team_get(dg_store *st, dg_team *t, dg_team_meta *meta);
int dg_store_team_put(dg_store *st, const dg_team *t, const dg_team_meta *meta);
int dg_store_deals_in_stage(dg_store *st, const char *stage, int64_t *n);

/* users. Lookups fill `out` (the caller's storage): DG_OK, DG_ENOTFOUND or a
 * store error. Insert (writer) sets u->id: DG_OK, DG_EEXIST for a taken
 * name, or a store error. */
int dg_store_user_by_name(dg_store *st, const char *username, dg_user *out);
int dg_store_user_by_id(dg_store *st, int64_t id, dg_user *out);
int dg_store_user_insert(dg_store *st, dg_user *u, int64_t by_user_id);
/* Calls fn for every user in id order; stops at the first error fn returns. */
int dg_store_user_each(dg_store *st, int (*fn)(const dg_user *u, void *ud), void *ud);
/* Role and disabled flag (version + 1). DG_ENOTFOUND when there is no such user. */
int dg_store_user_set_access(dg_store *st, int64_t id, enum dg_role role, bool is_disabled,
                             int64_t at, int64_t by_user_id);
/* How many admins are enabled: DG_OK or a store error. */
int dg_store_user_active_admins(dg_store *st, int64_t *n);
/* A new password hash (PHC string, copied) and whether it must be changed at
 * the next login; version + 1 (writer). DG_OK, DG_ENOTFOUND, or a store error. */
int dg_store_user_set_password(dg_store *st, int64_t id, const char *hash, bool must_change,
                               int64_t at, int64_t by_user_id);

/* sessions (rows hold the token's hash, never the token). Insert (writer)
 * sets s->id: DG_OK or a store error. By hash: fills `out`, revoked rows
 * included (the caller checks revoked_at and expiry): DG_OK, DG_ENOTFOUND or
 * a store error. Revoke (writer): DG_OK (also when already revoked) or a
 * store error. Touch records the last activity (writer): DG_OK or a store
 * error. */
int dg_store_session_insert(dg_store *st, dg_session_row *s);
int dg_store_session_by_hash(dg_store *st, const uint8_t hash[DG_TOKEN_HASH_LEN],
                             dg_session_row *out);
int dg_store_session_revoke(dg_store *st, int64_t id, int64_t at, const char *reason);
/* Revokes every live session of a user; *n gets how many. DG_OK or a store error. */
int dg_store_session_revoke_user(dg_store *st, int64_t user_id, int64_t at, const char *reason,
                                 int *n);
int dg_store_session_touch(dg_store *st, int64_t id, int64_t at);

/* ------------------------------------------------------------ audit_log (store_audit.c)
 * Append-only: nothing here updates or deletes a row. */
int dg_store_audit_insert(dg_store *st, const dg_audit_rec *rec, const uint8_t hash[32]);
/* The newest record's seq and hash; DG_ENOTFOUND when the log is empty. */
int dg_store_audit_last(dg_store *st, int64_t *seq, uint8_t hash[32]);

/* A record as stored, hash included. `hash_len` is what the row holds
 * (32 unless someone edited the database). */
typedef struct dg_audit_row {
    dg_audit_rec rec;
    uint8_t hash[32];
    size_t hash_len;
} dg_audit_row;

/* Calls fn(ctx, row) for every record in seq order, the row's strings valid
 * only during the call, until fn returns false. DG_OK or a store error. */
int dg_store_audit_each(dg_store *st, bool (*fn)(void *ctx, const dg_audit_row *row), void *ctx);
/* The same from record `from_seq` on (0: from the first). */
int dg_store_audit_each_from(dg_store *st, int64_t from_seq,
                             bool (*fn)(void *ctx, const dg_audit_row *row), void *ctx);

/* Filters of dg_store_audit_query; empty strings and zeros mean any. */
typedef struct dg_audit_filter {
    const char *username;
    const char *action; /* exact, or a prefix when it ends in '.' */
    const char *entity;
    int64_t entity_id;
    int64_t since, until; /* at >= since, at < until (unix ms) */
    const char *outcome;
    int64_t before_seq; /* seq < before_seq; 0: from the newest */
    uint32_t limit;     /* 1 .. */
} dg_audit_filter;

/* Newest first, at most f->limit rows (strings in `a`). */
int dg_store_audit_query(dg_store *st, const dg_audit_filter *f, dg_arena *a, dg_audit_row **out,
                         size_t *n);

/* change feed: the newest committed seq (0 when empty). */
int dg_store_feed_head(dg_store *st, int64_t *seq);

/* ------------------------------------------------------------ records (store_records.c)
 * Records are read into `a` (the caller's arena; DG_ENOMEM when it is out of
 * budget). Writes are for the writer connection inside a transaction. */

/* Derived columns of a customer, computed by the writer (ICU, text folding). */
typedef struct dg_customer_keys {
    const uint8_t *name_key; /* ICU zh sort key of the name */
    size_t name_key_len;
    /* duplicate keys (dupkey.h); "" for none */
    const char *dup_name, *dup_phone, *dup_email, *dup_stem;
} dg_customer_keys;

/* One record by id (archived ones too). DG_OK or DG_ENOTFOUND. */
int dg_store_rec_get(dg_store *st, enum dg_kind kind, int64_t id, dg_arena *a, dg_record **out);
/* A customer by its code. */
int dg_store_customer_by_code(dg_store *st, const char *code, dg_arena *a, dg_record **out);
/* Inserts `r` (version, times and users set by the caller); sets r->id.
 * Customers: also tags and custom values (by name; DG_EINVAL if a name is
 * not defined). DG_EEXIST for a taken customer code. */
int dg_store_rec_insert(dg_store *st, dg_record *r, const dg_customer_keys *keys);
/* Writes record r->id: its version, updated time and user, its archived
 * state when `changed` has DG_REC_ARCHIVED_CHANGED, and only the fields
 * marked in `changed` (bit i = field i)
 * with the customer keys derived from them (name: name_key, dup_name and
 * dup_stem; phone: dup_phone; email: dup_email) — so the indexes of untouched columns
 * are not rewritten. Customers' tags / custom values are replaced when
 * r->has_tags / r->has_custom. */
int dg_store_rec_update(dg_store *st, const dg_record *r, uint64_t changed,
                        const dg_customer_keys *keys);
#define DG_REC_ARCHIVED_CHANGED (UINT64_C(1) << 63)
/* Field versions, for conflict detection: the version at which an item of
 * a record last changed, named as an update mask names it (a field name,
 * "tags", "custom.NAME") or "archived". Only items changed after the
 * record's creation have one; any other item last changed at version 1. */
typedef struct dg_field_version {
    const char *field;
    int64_t version;
} dg_field_version;
/* The field versions of record (kind, id), in `a`, in no particular order;
 * none (*n = 0) for a record never updated, or one that does not exist.
 * DG_OK, DG_ENOMEM or a store error. */
int dg_store_rec_field_versions(dg_store *st, enum dg_kind kind, int64_t id, dg_arena *a,
                                dg_field_version **out, size_t *n);
/* Records that `fields` of record (kind, id) changed at `version`, keeping
 * the versions of the others: one row written per item named. Inside the
 * caller's transaction; DG_OK or a store error. */
int dg_store_rec_field_versions_put(dg_store *st, enum dg_kind kind, int64_t id,
                                    const char *const *fields, size_t n, int64_t version);
/* Calls fn(id, name) for customers with id > after_id in id order, at most
 * `limit` of them (for recomputing derived columns in batches). */
int dg_store_customer_names(dg_store *st, int64_t after_id, int limit,
                            int (*fn)(int64_t id, const char *name, void *ud), void *ud);
/* Replaces a customer's name sort key. */
int dg_store_customer_set_name_key(dg_store *st, int64_t id, const uint8_t *key, size_t len);
/* Sets a customer's last_contact_at to `at` if that is newer. */
int dg_store_customer_touch_contact(dg_store *st, int64_t customer_id, int64_t at);
/* The next free generated customer code ("C-000124"). */
int dg_store_next_customer_code(dg_store *st, char *out, size_t out_len);

/* Search documents: one per customer, contact and interaction. The index
 * keeps no copy of the text, so replacing a document needs the old one
 * exactly as it was indexed (`old`; NULL for a new record). Queued (copied)
 * until the transaction commits: see dg_store_search_flush. */
typedef struct dg_search_doc {
    const char *name, *people, *phones, *emails, *address, *notes;
} dg_search_doc;
int dg_store_search_put(dg_store *st, enum dg_kind kind, int64_t id, const dg_search_doc *old,
                        const dg_search_doc *doc);
/* Empties the search index (in the open transaction), for a rebuild. */
int dg_store_search_clear(dg_store *st);
/* The layout of the index's documents and the tokenizer's output: when the
 * "search_index" meta value differs, the index is rebuilt at startup
 * (dg_rec_reindex_if_needed). Bump it whenever either changes. */
#define DG_SEARCH_INDEX_VERSION "2"

/* Who may see a record's dossier at one moment: its customer's owner and
 * tier, as perm.c takes them. */
typedef struct dg_visibility {
    bool is_set;      /* false: no view (before a create, or not a record) */
    int64_t owner_id; /* user id; 0: nobody's */
    int tier;         /* dangan.v1.Tier value; 0: unspecified */
} dg_visibility;

/* A reminder or notice addressed to one user (dangan.v1.Reminder): the
 * payload of a change row whose entity is "reminder" (table reminders). */
typedef struct dg_reminder {
    int64_t recipient_id;
    int kind;        /* dangan.v1.ReminderKind */
    int record_kind; /* dangan.v1.EntityKind */
    int64_t record_id;
    int64_t due_at_ms, remind_at_ms;
    const char *due_on; /* YYYY-MM-DD or "" */
    const char *title;
    const char *customer_code, *customer_name;
    const char *time_zone;
} dg_reminder;

/* Change feed row; *seq gets its seq. The changed items are named as an
 * update mask names them: field names, "tags", "custom.NAME", "archived". */
typedef struct dg_change {
    int64_t at;
    int64_t actor_id;
    const char *entity; /* "customer", ... */
    int64_t entity_id;
    int64_t customer_id;
    const char *op; /* "created", "updated", "archived", "restored" */
    int64_t version;
    const char *const *fields; /* the changed items, in the order given */
    size_t n_fields;
    /* Per changed item, its value before and after as text (the form
     * `--set` takes, cut to DG_CHANGE_VALUE_MAX bytes; user fields as the
     * user's id): NULL arrays, or NULL entries, where no value is kept. */
    const char *const *old_values, *const *new_values;
    const char *customer_name, *customer_code; /* at the change; NULL: none */
    dg_visibility vis_before, vis_after;       /* the dossier's view before and after */
    const dg_reminder *reminder;               /* entity "reminder": its payload; else NULL */
} dg_change;
/* Longest value text a change keeps, in bytes (then "…": 3 more), and how
 * many of its items get values: enough to say what changed in a line. */
#define DG_CHANGE_VALUE_MAX 160
#define DG_CHANGE_VALUES_MAX 16
/* Appends `c` and its field list and sets *seq. Inside the caller's
 * transaction; DG_OK or a store error. */
int dg_store_change_append(dg_store *st, const dg_change *c, int64_t *seq);

/* Deletes up to `max` of the oldest changes that are both older than `before`
 * (unix ms) and not among the newest `keep` (retention): always a prefix,
 * stopping at the first row to keep. *n gets how many. */
int dg_store_changes_prune(dg_store *st, int64_t before, int64_t keep, int max, int *n);

/* A change row as read back for the feed. */
typedef struct dg_change_row {
    int64_t seq;
    dg_change c;          /* strings and the field list in the caller's arena */
    int64_t committed_us; /* when its transaction committed (Unix µs), as the writer
                           * hands it over; 0 when read back from the table */
} dg_change_row;
/* Up to `limit` change rows after `after_seq`, in seq order (strings and
 * field lists in `a`), and the oldest seq the table still holds (0 when
 * empty). A view whose stored tier is not a Tier name reads as no view: the
 * change then reaches nobody who could not see the record before. DG_OK,
 * DG_ENOMEM (`a` is out of budget) or a store error. */
int dg_store_changes_after(dg_store *st, int64_t after_seq, uint32_t limit, dg_arena *a,
                           dg_change_row **out, size_t *n, int64_t *oldest);

/* Idempotency keys: a retried mutation finds what the first attempt
 * answered, typed (a row per key and a row per record an op produced), so a
 * retry answers the same without doing the work again. */
enum dg_idem_request {
    /* Only read back: a key stored before the request was recorded (schema
     * v4); it answered one of create, update, archive, restore or batch. */
    DG_IDEM_ANY_RECORDS = 0,
    DG_IDEM_CREATE,
    DG_IDEM_UPDATE,
    DG_IDEM_ARCHIVE,
    DG_IDEM_RESTORE,
    DG_IDEM_BATCH,
    DG_IDEM_MERGE,
    DG_IDEM_REASSIGN,
    DG_IDEM_DEAL_MOVE,   /* one record: the deal */
    DG_IDEM_TIERS_APPLY, /* customers: changed; moved: ranked */
};
/* A record an op produced: the retry answers with it as it is then. */
typedef struct dg_idem_ref {
    enum dg_kind kind;
    int64_t id;
} dg_idem_ref;
typedef struct dg_idem_result {
    uint8_t request_hash[32]; /* SHA-256 of the request body the key came with */
    enum dg_idem_request request;
    const dg_idem_ref *records; /* create .. batch: one per op, in op order */
    size_t n_records;
    uint32_t moved;            /* merge: child records moved */
    uint32_t customers, tasks; /* reassign: what changed owner */
} dg_idem_result;
/* At most this many records per key (a batch's op limit). */
#define DG_IDEM_MAX_RECORDS 10000

/* The stored result for (user_id, key), its records in `a`. DG_OK,
 * DG_ENOTFOUND, DG_ECORRUPT (the row and its records disagree: a count that
 * is not the number of record rows, a gap in their order, an unknown kind
 * or request; `dg_store_errmsg` says which), DG_ENOMEM (`a` is out of
 * budget) or a store error. Writer connection. */
int dg_store_idem_get(dg_store *st, int64_t user_id, const char *key, dg_arena *a,
                      dg_idem_result *out);
/* Stores `r` (r->request is not DG_IDEM_ANY_RECORDS; at most
 * DG_IDEM_MAX_RECORDS records) for (user_id, key), created at `at` (unix
 * ms). DG_EINVAL for a result that breaks those rules, DG_EEXIST if the key
 * is stored already, or a store error. Inside the caller's transaction. */
int dg_store_idem_put(dg_store *st, int64_t user_id, const char *key, const dg_idem_result *r,
                      int64_t at);
/* Deletes keys created before `before`, oldest first, with their records:
 * at most `max` keys, and no more keys once 20,000 records are reached (at
 * least one key goes, however many records it has) so that the writer is
 * never held up long. */
int dg_store_idem_prune(dg_store *st, int64_t before, int max);

/* ---- duplicates (store_dups.c) */

/* The kinds of duplicate key, in the order the scan reports a pair under
 * (the first one it shares). */
enum dg_dup_reason { DG_DUP_NAME, DG_DUP_EMAIL, DG_DUP_PHONE, DG_DUP_STEM, DG_DUP_N };
/* "name", "email", "phone", "similar_name". */
const char *dg_store_dup_reason_name(enum dg_dup_reason r);

/* Likely duplicates of a new customer: live customers sharing its name,
 * e-mail or phone key, whoever may see them. `out` gets up to `cap`, oldest
 * first per key. */
typedef struct dg_dup {
    int64_t customer_id;
    const char *matched_on; /* "name", "phone", "email" (static strings) */
    char code[32];
    char name[200 * 4 + 1];
    int64_t owner_id;
    char tier[8]; /* stored tier name ("a"), for who may see it */
} dg_dup;
int dg_store_find_duplicates(dg_store *st, const dg_customer_keys *keys, dg_dup *out, size_t cap,
                             size_t *n);

/* What a customer's duplicate keys are made from (strings borrowed for the
 * callback). */
typedef struct dg_dup_source {
    int64_t id;
    const char *name, *phone, *email;
} dg_dup_source;
/* Calls fn for up to `limit` customers after `after_id`, by id (archived
 * ones too); a non-DG_OK return stops and is returned. */
int dg_store_customer_dup_sources(dg_store *st, int64_t after_id, int limit,
                                  int (*fn)(const dg_dup_source *src, void *ud), void *ud);
/* Rewrites customer id's duplicate keys (name_key is left alone). Writer. */
int dg_store_customer_set_dup_keys(dg_store *st, int64_t id, const dg_customer_keys *k);

/* One customer of a candidate pair (strings in the scan's arena). */
typedef struct dg_dup_customer {
    int64_t id;
    const char *code, *name;
    int64_t owner_id;
    const char *tier; /* stored tier name */
} dg_dup_customer;

typedef struct dg_dup_pair {
    dg_dup_customer keep; /* the group's oldest customer (smallest id) */
    dg_dup_customer drop;
    enum dg_dup_reason found_by;
    unsigned reasons; /* bit 1 << r for every key kind the two share */
    int score;        /* 0..100 */
} dg_dup_pair;

/* Where a scan goes on: the key kind, and the last (key, id) walked. The
 * start is {DG_DUP_NAME, "", 0}; kind DG_DUP_N is the end. */
typedef struct dg_dup_cursor {
    enum dg_dup_reason kind;
    const char *key;
    int64_t after_id;
} dg_dup_cursor;

/* Candidate pairs of live customers, from `from` on, at most `limit` (>= 1):
 * each group of customers sharing a key gives (its oldest, each other one),
 * reported once, under the first kind in enum order the two share, with
 * every kind they share and a score. Walks each key's index once in key
 * order (no pairwise comparison); a page ends after `limit` pairs. *next is
 * where the following page starts (its key in `a`; kind DG_DUP_N: the scan
 * is complete). Inside a read transaction. DG_OK, DG_ENOMEM (`a` out of
 * budget) or a store error. */
int dg_store_dup_scan(dg_store *st, const dg_dup_cursor *from, size_t limit, dg_arena *a,
                      dg_dup_pair **out, size_t *n, dg_dup_cursor *next);

/* ---- lists */

/* A sort key of a keyset cursor, with its SQLite storage class: SQLite orders
 * every integer before every text before every blob, so a key compared as
 * another class than its column's would fall before or after every row. */
enum dg_key_type {
    DG_KEY_INT,
    DG_KEY_TEXT, /* UTF-8 bytes, not NUL-terminated */
    DG_KEY_BLOB,
};

typedef struct dg_sort_key {
    enum dg_key_type type;
    int64_t i;           /* DG_KEY_INT */
    const uint8_t *data; /* DG_KEY_TEXT, DG_KEY_BLOB */
    size_t len;
} dg_sort_key;

typedef struct dg_list_query {
    enum dg_kind kind;
    const char *const *tiers; /* stored enum names */
    size_t n_tiers;
    const char *const *statuses;
    size_t n_statuses;
    const char *const *intentions;
    size_t n_intentions;
    const char *const *values;
    size_t n_values;
    const char *industry, *region, *tag; /* NULL: no filter */
    int64_t owner_id;                    /* 0: any */
    bool pool_only;                      /* customers without an owner (the pool) */
    const dg_custom_value *custom;
    size_t n_custom;
    int64_t customer_id; /* children of one customer; 0: any */
    /* visibility (perm.c): customers of these tiers, and their dossiers, are
     * left out unless owned by viewer_id */
    const char *restricted[3]; /* stored tier names */
    size_t n_restricted;
    int64_t viewer_id;
    bool include_archived;
    bool open_only;
    int64_t assignee_id, due_before;
    /* deals: at one of these stages (at most 8); owner_id filters deals by
     * their customer's owner */
    const char *const *stages;
    size_t n_stages;
    /* order: a column of the kind's table, ties broken by id */
    const char *sort_column;
    bool is_desc;
    /* keyset cursor: rows strictly after (after_key, after_id) in this order;
     * sorted by id, after_id alone (after_key is ignored) */
    bool has_after;
    dg_sort_key after_key; /* borrowed */
    int64_t after_id;
    uint32_t limit;
} dg_list_query;

typedef struct dg_list_page {
    dg_record **records;
    size_t n;
    bool has_more;
    dg_sort_key last_key; /* of records[n - 1], in the arena; set when has_more */
} dg_list_page;

/* One page of q->kind's rows passing q's filter, in q's order, after q's
 * cursor (q->limit rows at most; out->has_more tells whether more follow);
 * records and last_key live in `a`. DG_OK, DG_ENOMEM (`a` out of budget),
 * DG_ECORRUPT (a sort column holding a value that is no integer, text or
 * blob), or a store error. Any connection (lists/pages: store_lists.c). */
int dg_store_rec_list(dg_store *st, const dg_list_query *q, dg_arena *a, dg_list_page *out);

/* ---- search (store_search.c) */

typedef struct dg_search_hit {
    dg_record *customer;
    double score;
    const char *matched; /* "name", "contact", "phone", "email", "address", "notes" */
} dg_search_hit;

/* Customers whose search documents match the FTS5 expression (see
 * dg_text_search_expr), best first: matches in names before contacts,
 * phones, e-mails, addresses and notes; newer before older. `filter` applies
 * the list filters (its sort and cursor are ignored). At most `limit` hits;
 * scans at most `max_scan` candidates. */
int dg_store_search(dg_store *st, const char *expr, const dg_list_query *filter, uint32_t limit,
                    uint32_t max_scan, dg_arena *a, dg_search_hit **out, size_t *n);

/* ---- dossier */

typedef struct dg_money_total {
    const char *currency;
    int64_t amount;
    uint32_t count;
} dg_money_total;

typedef struct dg_dossier {
    dg_record **contacts;
    size_t n_contacts;
    dg_record **interactions; /* newest first */
    size_t n_interactions;
    uint32_t interaction_count;
    dg_record **deals;
    size_t n_deals;
    dg_money_total *totals;
    size_t n_totals;
    dg_record **open_tasks;
    size_t n_open_tasks;
    dg_record **feedback; /* newest first */
    size_t n_feedback;
    uint32_t fb_total, fb_open, fb_complaints, fb_suggestions, fb_praise, fb_surveys;
    double fb_average;
} dg_dossier;

/* The dossier of a customer in one read: its live contacts, the newest
 * `recent_interactions` interactions and their count, deals with totals per
 * currency, open tasks, recent feedback and its summary; everything in `a`
 * (the customer record itself is the caller's to read). DG_OK, DG_ENOMEM, or
 * a store error. Any connection, inside a read transaction for one snapshot. */
int dg_store_dossier(dg_store *st, int64_t customer_id, uint32_t recent_interactions, dg_arena *a,
                     dg_dossier *out);

/* ---- custom fields */

typedef struct dg_custom_field {
    int64_t id;
    const char *name, *label, *type; /* type: "text", "number", "date", "choice" */
    const char *choices;             /* newline-separated */
    int64_t created_at;
} dg_custom_field;

/* Defines a custom field (writer; sets f->id): DG_OK, DG_EEXIST for a taken
 * name, or a store error. */
int dg_store_field_define(dg_store *st, dg_custom_field *f, int64_t by_user);
/* One definition by name, its strings in `a`: DG_OK, DG_ENOTFOUND, DG_ENOMEM
 * or a store error. */
int dg_store_field_get(dg_store *st, const char *name, dg_arena *a, dg_custom_field *out);
/* Every definition in name order, in `a`: DG_OK, DG_ENOMEM or a store error. */
int dg_store_field_list(dg_store *st, dg_arena *a, dg_custom_field **out, size_t *n);

/* ---- the public pool (store_pool.c; writer connection) */

/* How many live customers `user_id` holds that were claimed from the pool. */
int dg_store_pool_claims(dg_store *st, int64_t user_id, int64_t *n);
/* Marks a customer as claimed from the pool at `at` (after its owner was
 * set: a new owner clears the mark, schema v14's trigger). */
int dg_store_pool_mark_claimed(dg_store *st, int64_t customer_id, int64_t at);
/* Live owned customers whose owner_active_at (when the owner got it or last
 * logged an interaction on it) is before `before`, oldest first: at most
 * `max` ids into `ids`, *n of them. */
int dg_store_pool_stale(dg_store *st, int64_t before, int64_t *ids, size_t max, size_t *n);

/* ---- lifecycle suggestions (store_life.c; any connection) */

typedef struct dg_life_query {
    int64_t owner_id;       /* 0: every owner */
    int64_t recent_since;   /* meetings/visits and contacts since this count as recent */
    int64_t dormant_before; /* active customers last contacted before this */
    int64_t lost_before;    /* dormant customers last contacted before this */
    const char *const *won_stages;
    size_t n_won;
    size_t limit;
} dg_life_query;

typedef struct dg_life_fact {
    int64_t id, owner_id, version;
    const char *code, *name;
    char status[16]; /* stored name: "potential", "active", "dormant", "lost" */
    int64_t last_contact_at, created_at, last_won_at; /* unix ms; 0: none */
    bool recent_meeting;                              /* a meeting or visit since recent_since */
} dg_life_fact;

/* The live customers (of q->owner_id) a lifecycle rule applies to, in id
 * order: potential ones with a won deal or a meeting or visit since
 * recent_since, active ones not contacted (never: created) since
 * dormant_before, dormant ones not contacted since lost_before or contacted
 * since recent_since, lost ones contacted since recent_since. At most
 * limit + 1 into *out (in `a`), *n of them. */
int dg_store_lifecycle_facts(dg_store *st, const dg_life_query *q, dg_arena *a, dg_life_fact **out,
                             size_t *n);

/* ---- reminders (store_remind.c): what comes due, what was sent */

/* A reminder that may be due: what it reminds of, whom, and the customer's
 * view now. Strings in the caller's arena. */
typedef struct dg_remind_due {
    int kind;        /* dangan.v1.ReminderKind */
    int record_kind; /* dangan.v1.EntityKind */
    int64_t record_id;
    int64_t customer_id;
    int64_t recipient_id; /* a task's assignee, else the customer's owner; 0: nobody */
    int64_t due_at_ms;    /* a task's due time; 0 for a date */
    const char *due_on;   /* a follow-up date, a contract's expiry; "" for a task */
    const char *title, *customer_code, *customer_name;
    dg_visibility view;
} dg_remind_due;

/* At most `limit` reminders not yet sent, live records of live customers:
 * open tasks due in (after_ms, upto_ms]; follow-up dates of notes and
 * expiry dates of contracts in [from, to] (YYYY-MM-DD). */
int dg_store_remind_tasks(dg_store *st, int64_t after_ms, int64_t upto_ms, uint32_t limit,
                          dg_arena *a, dg_remind_due **out, size_t *n);
int dg_store_remind_follow_ups(dg_store *st, const char *from, const char *to, uint32_t limit,
                               dg_arena *a, dg_remind_due **out, size_t *n);
int dg_store_remind_contracts(dg_store *st, const char *from, const char *to, uint32_t limit,
                              dg_arena *a, dg_remind_due **out, size_t *n);
/* The key a sent reminder of `d` is kept under: a task's due time, or the
 * UTC midnight of its date (zone-free). */
int64_t dg_store_remind_key(const dg_remind_due *d);
/* Marks `d` sent at `at`, inside the caller's transaction. */
int dg_store_remind_mark(dg_store *st, const dg_remind_due *d, int64_t at);
/* Forgets sent reminders keyed before `before` (no query looks at them). */
int dg_store_remind_prune(dg_store *st, int64_t before, int max);
/* The earliest due time after `after_ms` of an open, live task; 0: none. */
int dg_store_remind_next_task(dg_store *st, int64_t after_ms, int64_t *due);
/* A customer's code, name (in `a`) and view. DG_ENOTFOUND when missing. */
int dg_store_customer_brief(dg_store *st, int64_t id, dg_arena *a, const char **code,
                            const char **name, dg_visibility *view);

#endif
