/* store_int.h - private to server/store*.c: the connection struct, the
 * statement cache, the SQLite → dg_err translation, and the pieces of list
 * SQL that the search query shares. Nothing else includes it.
 */
#ifndef DG_STORE_INT_H
#define DG_STORE_INT_H

#include <mbedtls/sha256.h>
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

/* Statements built at run time (list and search SQL varies with the filter's
 * shape), cached by their text. At most STORE_DYN_STMTS idle ones are kept;
 * the least recently used idle one makes room. A statement a caller holds
 * (between store_stmt_text and store_stmt_release) or that is running is
 * never finalized: eviction skips it, and the cache may exceed the bound by
 * the statements in use at once (bounded by the callers' nesting). */
#define STORE_DYN_STMTS 256

struct dyn_stmt {
    sqlite3_stmt *stmt;
    struct dyn_stmt *newer, *older; /* recency list, st->dyn_newest first */
    bool is_held;                   /* handed out and not yet released */
};

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
    /* Writer: flushes go to search_queue (dg_store_search_defer), whose
     * rows this connection counts, as of its open transaction; with the
     * counts to go back to when it or its savepoint rolls back. */
    bool is_search_deferred;
    int64_t n_search_queued, search_queued_at_begin, search_queued_mark;
    int wal_frames;        /* frames in the WAL after the last commit (writers) */
    int busy_wait_ms;      /* how long a statement waits for a lock (store_busy) */
    int64_t busy_until_us; /* the running wait's end */
    struct stmt_slot slots[STORE_STMT_SLOTS];
    dg_map *dyn; /* SQL text → struct dyn_stmt *, for statements built per request */
    struct dyn_stmt *dyn_newest, *dyn_oldest;
    size_t n_dyn;
    char err[256];
    /* Writer: the running SHA-256 of the uploads being received, so that
     * finishing one need not read it back (store_docs.c). An entry follows
     * one upload from its first chunk on, and is dropped when a chunk comes
     * at another offset (a retry after a failed commit). */
    struct store_doc_hash {
        int64_t upload_id; /* 0: free */
        int64_t next;      /* bytes hashed: the offset the next chunk has */
        uint64_t used;     /* st->doc_hash_tick when last used: the oldest is replaced */
        mbedtls_sha256_context ctx;
    } doc_hashes[8];
    uint64_t doc_hash_tick;
};

/* The cached prepared statement for `sql` (a static string: its address is
 * the cache key), reset and with bindings cleared. NULL on a prepare error
 * (st->err says why). */
sqlite3_stmt *store_stmt(dg_store *st, const char *sql);
/* The cached statement for SQL text built at run time (list filters): keyed
 * by the text itself. Reset, bindings cleared, and held by the caller until
 * store_stmt_release: the cache never finalizes it meanwhile, so the caller
 * may run other statements (and build other texts) while stepping it. If the
 * same text is already held (nested use), a private statement is prepared
 * and the release finalizes it. NULL on a prepare error (st->err says why). */
sqlite3_stmt *store_stmt_text(dg_store *st, const char *sql);
/* Ends the caller's hold on a statement from store_stmt_text: resets it and
 * makes it idle (evictable). Accepts NULL. */
void store_stmt_release(dg_store *st, sqlite3_stmt *s);
/* Process-wide SQLite settings and the storage VFS, once (store.c); the
 * SQLite result of registering the VFS. */
int store_configure(void);
/* Registers the "dangan" FTS5 tokenizer on a connection (store_search.c). */
int store_search_register(dg_store *st);
/* Drops queued search writes from index `from` on (a rollback), or all. */
void store_search_discard(dg_store *st, size_t from);
/* Translates a SQLite result code into a dg_err, recording the message. */
int store_err(dg_store *st, int sqlite_rc);
/* Runs one SQL text (several statements, no cache): DG_OK or a translated
 * error, with SQLite's message in st->err. */
int store_exec_sql(dg_store *st, const char *sql);
/* The integer a PRAGMA (or any one-row query) answers. */
int store_pragma_int(dg_store *st, const char *sql, int64_t *out);
/* Brings the schema to DG_SCHEMA_VERSION (writer connections); a reader
 * requires it. DG_OK, DG_ENOTSUP (newer than this program), DG_ECORRUPT or a
 * store error; `err` explains (store_schema.c). */
int store_migrate(dg_store *st, char *err, size_t err_len);
/* Runs a statement that returns no rows: DG_OK or a translated error. */
int store_exec_stmt(dg_store *st, sqlite3_stmt *s);
/* Copies column `col` as text into out (truncating to out_len - 1 bytes). */
void store_col_text(sqlite3_stmt *s, int col, char *out, size_t out_len);
/* Column `col` as a new string in `a` ("" for NULL); NULL over budget. */
const char *store_col_dup(sqlite3_stmt *s, int col, dg_arena *a);
/* Binds text, or NULL when `text` is NULL. */
int store_bind_text(sqlite3_stmt *s, int idx, const char *text);
/* Binds an integer, or NULL when value == 0 and the column uses NULL for "none". */
int store_bind_id(sqlite3_stmt *s, int idx, int64_t id);

/* ---- SQL built at run time (store_records.c): list queries and the search
 * query share the filter, the select list and the reading of a record. */

#define STORE_SQL_MAX 4096 /* a statement's text: the widest select list plus a filter */
#define STORE_MAX_PARAMS 64

/* The parameters of a statement whose text is being written: each
 * store_param_* call returns the number of its ?N. Values are borrowed until
 * the statement is released. */
struct store_params {
    struct store_param {
        enum dg_key_type type;
        int64_t i;
        const void *p;
        size_t len;
    } v[STORE_MAX_PARAMS];
    int n;
};

int store_param_int(struct store_params *ps, int64_t v);
int store_param_text(struct store_params *ps, const char *v);
/* A value of the storage class the key says (a sort key, from a row or a cursor). */
int store_param_key(struct store_params *ps, const dg_sort_key *k);
void store_params_bind(sqlite3_stmt *s, const struct store_params *ps);
/* Appends to sql the select list of kind k, each column qualified "c.", as
 * store_rec_read reads it from column 0 on. `sql` holds STORE_SQL_MAX bytes
 * in all; going past it is a bug (asserted). */
void store_rec_select(char *sql, enum dg_kind k);
/* Appends q's filter, including the visibility of restricted tiers, as
 * conditions " AND ..." on the row alias c, adding their parameters to ps.
 * The same code writes the WHERE of every list. Same room as above. */
void store_rec_filter(char *sql, struct store_params *ps, const dg_list_query *q);
/* The same conditions for a page of a list: no index is chosen for the
 * archived test (without statistics the planner takes customers_report for
 * it and sorts every live row) and, when is_by_order, none for the enums
 * and the owner either (terms of few distinct values), so that the index
 * of the list's order walks it and a page costs the rows it passes. */
void store_rec_filter_list(char *sql, struct store_params *ps, const dg_list_query *q,
                           bool is_by_order);

/* Schema v18, the reports' running totals (store_schema_totals.c): its
 * statements, NULL-terminated, as each migration of store_schema.c. */
extern const char *const store_migration_totals[];
/* The schema migration that adds search_queue (store_search.c). */
extern const char *const store_migration_search_queue[];
/* Reads the current row of s (store_rec_select's columns from 0 on) into a
 * new record in `a`, a customer's tags and custom values included. */
int store_rec_read(dg_store *st, sqlite3_stmt *s, enum dg_kind k, dg_arena *a, dg_record **out);
/* The same in two steps, for a caller still stepping `s`: the row alone,
 * then (after the statement is done) its tags and custom values. */
int store_rec_read_row(sqlite3_stmt *s, enum dg_kind k, dg_arena *a, dg_record **out);
int store_rec_complete(dg_store *st, dg_record *r, dg_arena *a);
/* The select list of kind k, its columns qualified "c." or not. */
const char *store_rec_columns(enum dg_kind k, bool is_qualified);
/* Appends printf text to `buf` (STORE_SQL_MAX bytes in all; going past it is
 * a bug: asserted). */
void store_sql_append(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
