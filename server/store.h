/* store.h - the storage seam. Everything above it works with the structs of
 * model.h and dg_err codes; no sqlite3 type, SQL text or SQLite error code
 * appears outside server/store*.c (DESIGN §4). A replicated backend could
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

#include "model.h"

typedef struct dg_store dg_store;

#define DG_SCHEMA_VERSION 1

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

/* Write transactions (writer connection only). BEGIN IMMEDIATE ... COMMIT;
 * savepoints nest inside for per-job rollback in a group commit. */
int dg_store_begin(dg_store *st);
int dg_store_commit(dg_store *st);
void dg_store_rollback(dg_store *st);
int dg_store_savepoint(dg_store *st);
int dg_store_release(dg_store *st);
void dg_store_rollback_to(dg_store *st);
/* Read transactions (any connection): a consistent snapshot across statements. */
int dg_store_read_begin(dg_store *st);
/* False when no transaction is open (e.g. SQLite rolled it back after an I/O error). */
bool dg_store_in_transaction(dg_store *st);
void dg_store_read_end(dg_store *st);

/* meta: server identity and feed epoch. `out` gets a NUL-terminated value. */
int dg_store_meta_get(dg_store *st, const char *key, char *out, size_t out_len);
int dg_store_meta_put(dg_store *st, const char *key, const char *value);
/* settings: admin-tunable policy values (integers). *out = dflt when absent. */
int dg_store_setting_int(dg_store *st, const char *key, int64_t dflt, int64_t *out);
int dg_store_setting_put_int(dg_store *st, const char *key, int64_t value);

/* users. Lookups: DG_OK or DG_ENOTFOUND. Insert: DG_EEXIST for a taken name. */
int dg_store_user_by_name(dg_store *st, const char *username, dg_user *out);
int dg_store_user_by_id(dg_store *st, int64_t id, dg_user *out);
int dg_store_user_insert(dg_store *st, dg_user *u, int64_t by_user_id);
int dg_store_user_set_password(dg_store *st, int64_t id, const char *hash, bool must_change,
                               int64_t at, int64_t by_user_id);

/* sessions. */
int dg_store_session_insert(dg_store *st, dg_session_row *s);
int dg_store_session_by_hash(dg_store *st, const uint8_t hash[DG_TOKEN_HASH_LEN],
                             dg_session_row *out);
int dg_store_session_revoke(dg_store *st, int64_t id, int64_t at, const char *reason);
/* Revokes every live session of a user; *n gets how many. */
int dg_store_session_revoke_user(dg_store *st, int64_t user_id, int64_t at, const char *reason,
                                 int *n);
int dg_store_session_touch(dg_store *st, int64_t id, int64_t at);

/* audit_log: append-only. */
int dg_store_audit_insert(dg_store *st, const dg_audit_rec *rec, const uint8_t hash[32]);
/* The newest record's seq and hash; DG_ENOTFOUND when the log is empty. */
int dg_store_audit_last(dg_store *st, int64_t *seq, uint8_t hash[32]);

/* change feed: the newest committed seq (0 when empty). */
int dg_store_feed_head(dg_store *st, int64_t *seq);

#endif
