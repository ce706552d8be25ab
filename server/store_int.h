/* store_int.h - private to server/store*.c: the connection struct, the
 * statement cache and the SQLite → dg_err translation. Nothing else includes it.
 */
#ifndef DG_STORE_INT_H
#define DG_STORE_INT_H

#include <sqlite3.h>

#include "buf.h"
#include "map.h"
#include "store.h"

#define STORE_STMT_SLOTS 512
#define BUSY_TIMEOUT_MS 5000

struct stmt_slot {
    const char *sql; /* identity: the address of a static SQL string */
    sqlite3_stmt *stmt;
};

#define STORE_DYN_STMTS 256

/* A search-index write waiting for the transaction's end (store_search.c). */
struct search_op;

struct dg_store {
    sqlite3 *db;
    bool is_writer;
    bool is_read_tx;
    bool is_sync_skipped; /* writer: synchronous=NORMAL for now (see dg_store_skip_sync) */
    /* Search documents written in the open transaction, applied just before
     * COMMIT: FTS5 flushes its pending terms at every SAVEPOINT, so writing
     * them per job would cut one tiny index segment per job. */
    struct search_op *search_ops;
    size_t n_search_ops, cap_search_ops;
    size_t search_ops_mark; /* n_search_ops at the open job savepoint */
    int wal_frames;         /* frames in the WAL after the last commit (writers) */
    struct stmt_slot slots[STORE_STMT_SLOTS];
    dg_map *dyn; /* SQL text → sqlite3_stmt*, for statements built per request */
    size_t n_dyn;
    char err[256];
};

/* The cached prepared statement for `sql` (a static string: its address is
 * the cache key), reset and with bindings cleared. NULL on a prepare error
 * (st->err says why). */
sqlite3_stmt *store_stmt(dg_store *st, const char *sql);
/* The cached statement for SQL text built at run time (list filters): keyed
 * by the text itself, at most STORE_DYN_STMTS kept. Reset, bindings cleared.
 * NULL on a prepare error. */
sqlite3_stmt *store_stmt_text(dg_store *st, const char *sql);
/* Process-wide SQLite settings and the walbuf VFS, once (store.c); the
 * SQLite result of registering the VFS. */
int store_configure(void);
/* Registers the "dangan" FTS5 tokenizer on a connection (store_search.c). */
int store_search_register(dg_store *st);
/* Drops queued search writes from index `from` on (a rollback), or all. */
void store_search_discard(dg_store *st, size_t from);
/* Translates a SQLite result code into a dg_err, recording the message. */
int store_err(dg_store *st, int sqlite_rc);
/* Runs a statement that returns no rows: DG_OK or a translated error. */
int store_exec_stmt(dg_store *st, sqlite3_stmt *s);
/* Copies column `col` as text into out (truncating to out_len - 1 bytes). */
void store_col_text(sqlite3_stmt *s, int col, char *out, size_t out_len);
/* Binds text, or NULL when `text` is NULL. */
int store_bind_text(sqlite3_stmt *s, int idx, const char *text);
/* Binds an integer, or NULL when value == 0 and the column uses NULL for "none". */
int store_bind_id(sqlite3_stmt *s, int idx, int64_t id);

#endif
