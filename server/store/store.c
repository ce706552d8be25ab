/* store.c - opening, settings checks, the statement cache, transactions,
 * meta and settings. The schema is store_schema.c's, the change feed's SQL
 * store_feed.c's.
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
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "clock.h"
#include "dg.h"
#include "log.h"
#include "vfs.h"

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

const char *store_col_dup(sqlite3_stmt *s, int col, dg_arena *a)
{
    const unsigned char *t = sqlite3_column_text(s, col);

    return dg_arena_strdup(a, t ? (const char *)t : "");
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
int store_exec_sql(dg_store *st, const char *sql)
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

int store_pragma_int(dg_store *st, const char *sql, int64_t *out)
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

/* Waits for a lock as SQLite's busy timeout does, but looks again every
 * 100 us rather than after sleeps of 1, 2, 5, 10, 15... ms: the locks met
 * here (the writer's, held for a commit or the last step of a checkpoint; a
 * reader's snapshot, held for a cheap read) last from microseconds to a few
 * milliseconds, and the growing sleeps turned a 3 ms wait into 8 and held
 * every commit behind a WAL restart for tens of milliseconds. */
static int store_busy(void *arg, int n)
{
    dg_store *st = arg;
    int64_t now = dg_mono_us();
    struct timespec pause = {0, 100 * 1000};

    if (n == 0)
        st->busy_until_us = now + (int64_t)st->busy_wait_ms * 1000;
    if (now >= st->busy_until_us)
        return 0;
    nanosleep(&pause, NULL);
    return 1;
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
    st->busy_wait_ms = BUSY_TIMEOUT_MS;
    sqlite3_busy_handler(st->db, store_busy, st);
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
    rc = store_exec_sql(st, st->is_writer
                                ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
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
    if ((rc = store_pragma_int(st, "PRAGMA synchronous", &v)) != DG_OK)
        return rc;
    if (v < 2) {
        snprintf(err, err_len, "database synchronous=%lld is weaker than FULL", (long long)v);
        return DG_ECORRUPT;
    }
    if ((rc = store_pragma_int(st, "PRAGMA foreign_keys", &v)) != DG_OK)
        return rc;
    if (v != 1) {
        snprintf(err, err_len, "database foreign_keys cannot be enabled");
        return DG_ECORRUPT;
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
    int rc = store_pragma_int(st, "PRAGMA application_id", &id);

    if (rc != DG_OK || id != 0)
        return rc;
    while (fresh == 0)
        dg_random(&fresh, sizeof fresh);
    snprintf(sql, sizeof sql, "PRAGMA application_id=%d", (int32_t)fresh);
    return store_exec_sql(st, sql);
}

/* Process-wide SQLite settings, before its first use: no memory statistics
 * (they take a global mutex on every allocation, which every connection's
 * thread then contends for), and the VFS that coalesces WAL writes. */
static int vfs_rc = SQLITE_OK;

static void configure_sqlite(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); /* MISUSE if already initialised: fine */
    vfs_rc = dg_vfs_register();
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
    rc = vfs_rc != SQLITE_OK ? vfs_rc : sqlite3_open_v2(path, &st->db, flags, DG_VFS_NAME);
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
    if ((rc = store_migrate(st, err, err_len)) != DG_OK)
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
    return store_exec_sql(st, sql);
}

void dg_store_never_wait(dg_store *st)
{
    sqlite3_busy_timeout(st->db, 0);
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
    st->search_queued_at_begin = st->n_search_queued;
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
    rc = store_exec_sql(st, skip ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL");
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
    return store_pragma_int(st, "PRAGMA user_version", version);
}

bool dg_store_sync_skipped(const dg_store *st)
{
    return st->is_sync_skipped;
}

void dg_store_rollback(dg_store *st)
{
    store_search_discard(st, 0);
    /* The queue's rows go with the transaction, also when SQLite already
     * rolled it back itself (a COMMIT that failed on a full disk): callers
     * roll back only what their dg_store_begin opened. */
    st->n_search_queued = st->search_queued_at_begin;
    /* Fails only when no transaction is open, which is what we want then. */
    (void)store_exec_stmt(st, store_stmt(st, SQL_ROLLBACK));
}

int dg_store_savepoint(dg_store *st)
{
    st->search_ops_mark = st->n_search_ops;
    st->search_queued_mark = st->n_search_queued;
    return store_exec_stmt(st, store_stmt(st, SQL_SAVEPOINT));
}

int dg_store_release(dg_store *st)
{
    return store_exec_stmt(st, store_stmt(st, SQL_RELEASE));
}

void dg_store_rollback_to(dg_store *st)
{
    store_search_discard(st, st->search_ops_mark);
    st->n_search_queued = st->search_queued_mark;
    /* ROLLBACK TO keeps the savepoint open; RELEASE closes it. */
    (void)store_exec_stmt(st, store_stmt(st, SQL_ROLLBACK_TO));
    (void)store_exec_stmt(st, store_stmt(st, SQL_RELEASE));
}

dg_wal_file *dg_store_wal_file(dg_store *st)
{
    sqlite3_file *f = NULL;

    dg_assert(st->is_writer);
    if (sqlite3_file_control(st->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &f) != SQLITE_OK)
        return NULL;
    return f && f->pMethods ? f : NULL;
}

int dg_store_sync_wal(dg_wal_file *wal, char *why, size_t why_len)
{
    int rc = dg_vfs_wal_sync(wal);

    if (rc == SQLITE_OK)
        return DG_OK;
    snprintf(why, why_len, "cannot sync the WAL: %s", sqlite3_errstr(rc));
    return DG_EIO;
}

int dg_store_wal_frames(const dg_store *st)
{
    return st->wal_frames;
}

int dg_store_checkpoint_restart(dg_store *st, int wait_ms)
{
    int rc;

    st->busy_wait_ms = wait_ms;
    rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
    st->busy_wait_ms = BUSY_TIMEOUT_MS;
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
