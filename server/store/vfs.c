/* vfs.c - the storage VFS: an SQLite VFS that coalesces writes to WAL files.
 *
 * SQLite appends a commit to the WAL as two pwrite()s per page (a 24-byte
 * frame header, then the page), then fsyncs. A group commit of a dozen
 * updates is ~50 pages: ~100 system calls, which on a virtual machine cost
 * more than the SQL. This shim keeps a WAL file's consecutive writes in
 * memory and hands them to the real file in one write: before a sync (so
 * durability is exactly SQLite's), before any other operation that could
 * see the file's content or size, and when the buffer is full. Every other
 * file, and every other method, goes straight to the default VFS.
 *
 * Visibility: other connections read a frame only after the writer has
 * published it in the WAL index, which happens after the commit frame is
 * written: so the buffer is flushed when the last frame of a commit (its
 * header's "database size after commit" is not zero) has been written,
 * whether a sync follows (synchronous=FULL) or not (NORMAL, which the
 * writer uses for batches that only record reads).
 *
 * Ownership: SQLite applies any WAL it finds beside a database, whatever
 * database wrote it. So whenever a WAL (re)starts, before its new header
 * reaches the file, this VFS records the header's salts and the database's
 * application id in DB-walid (walid.h), synced. A WAL whose salts are not
 * there was not written over this database by dangand (server/admin/check.c
 * refuses it before SQLite opens anything).
 *
 * Fault injection (builds with DG_VFS_FAULTS only, never dangand
 * itself): fail the Nth write or sync of a WAL or database file, or report
 * it full (see vfs.h).
 *
 * Threads: a file is used by one connection at a time (SQLite's rule), so
 * its buffer needs no lock. The one exception is dg_vfs_wal_sync: the
 * writer's syncer thread syncs the writer's WAL while the writer appends
 * the next commit. It never touches the buffer (a commit is in the file
 * before SQLite publishes it, see wb_write), only the real file's sync, and
 * every sync of a WAL file object takes that object's sync_mu: Linux
 * reports a writeback error once per open file description, so whichever
 * sync of the description sees it marks the file (is_sync_failed) under
 * the lock, and every later sync of it fails too. Otherwise a sync SQLite
 * made on the writer's thread (the WAL header when the log starts over, a
 * checkpoint) could take the error and the syncer's next one succeed over
 * frames that never reached the disk.
 */
#include "vfs.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "dg.h"
#include "log.h"
#include "walid.h"

#ifdef DG_VFS_FAULTS
static int fault_hit(int op);
#else
#define fault_hit(op) SQLITE_OK
#endif
/* What a fault may hit (vfs.h: DG_VFS_FAULTS). */
enum { OP_WAL_WRITE, OP_WAL_SYNC, OP_DB_WRITE, OP_DB_SYNC };

/* Flushed when full. The unix VFS writes at most 128 KiB - 1 per call
 * (seekAndWriteFd masks the length with 0x1ffff), so stay well below. */
#define BUF_CAP (64 * 1024)

typedef struct wb_file {
    sqlite3_file base; /* our methods */
    bool is_wal;
    bool has_written; /* a write reached this file object (faults count its syncs) */
    const char *name; /* SQLite's, valid while open; NULL for temporary files */
    uint8_t *buf;     /* is_wal: the pending bytes, at file offset `off` */
    size_t len;
    sqlite3_int64 off;
    sqlite3_int64 commit_header_at; /* a new commit frame's header was written here; or -1 */
    sqlite3_int64 read_at;          /* the last operation read from here; or -1 */
    pthread_mutex_t sync_mu;        /* is_wal: around every sync of the real file */
    bool is_sync_failed;            /* is_wal, under sync_mu: a sync failed; all later ones do */
    sqlite3_file real[];            /* the default VFS's file object, szOsFile bytes */
} wb_file;

static sqlite3_vfs *real_vfs;

static sqlite3_file *real_of(sqlite3_file *f)
{
    return ((wb_file *)f)->real;
}

/* Every write that reaches the real file: where faults are injected. */
static int real_write(wb_file *w, const void *p, int n, sqlite3_int64 off)
{
    int rc = fault_hit(w->is_wal ? OP_WAL_WRITE : OP_DB_WRITE);

    w->has_written = true;
    return rc != SQLITE_OK ? rc : w->real->pMethods->xWrite(w->real, p, n, off);
}

/* Hands the pending bytes to the real file. */
static int flush(wb_file *w)
{
    int rc;

    if (w->len == 0)
        return SQLITE_OK;
    rc = real_write(w, w->buf, (int)w->len, w->off);
    w->len = 0; /* on failure SQLite fails the transaction; nothing to retry */
    return rc;
}

/* ------------------------------------------------------------ io methods */

static int wb_close(sqlite3_file *f)
{
    wb_file *w = (wb_file *)f;
    int rc = flush(w), rc2 = w->real->pMethods ? w->real->pMethods->xClose(w->real) : SQLITE_OK;

    free(w->buf);
    w->buf = NULL;
    if (w->is_wal)
        pthread_mutex_destroy(&w->sync_mu);
    return rc != SQLITE_OK ? rc : rc2;
}

static int wb_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
    wb_file *w = (wb_file *)f;
    int rc = flush(w);

    w->read_at = off;
    return rc != SQLITE_OK ? rc : w->real->pMethods->xRead(w->real, p, n, off);
}

/* SQLite writes a WAL frame as its 24-byte header, then the page; bytes 4-7
 * of the header (big-endian) are the database size after a commit, zero in
 * frames that do not end one. The file's own header is 32 bytes at 0. */
#define WAL_HEADER_LEN 32
#define FRAME_HEADER_LEN 24

static bool is_commit_frame_header(const uint8_t *p, int n, sqlite3_int64 off)
{
    return n == FRAME_HEADER_LEN && off >= WAL_HEADER_LEN && (p[4] | p[5] | p[6] | p[7]) != 0;
}

static int buffer_write(wb_file *w, const void *p, int n, sqlite3_int64 off);
static int walid_write(wb_file *w, const uint8_t *wal_header);

/* A commit must be in the file before SQLite publishes it in the WAL index
 * (other connections then read it) and, without a sync, before a killed
 * process could lose it. SQLite writes a commit's last frame as its header
 * then its page: the page goes out with everything before it. When a page
 * that spilled to the WAL early changed again, SQLite rewrites the frame
 * headers (checksums) of the transaction at commit, reading each frame back
 * before writing its header: a commit frame's header written right after a
 * read of that frame is such a rewrite, the last write of its commit, and
 * goes out at once. Both are recognised from the write itself, never from
 * what was written before: a transaction that failed (a full disk) leaves
 * frames SQLite then writes over as new ones. */
static int wb_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
    wb_file *w = (wb_file *)f;
    bool is_page_of_commit, is_header_rewrite, is_commit_header;
    int rc;

    if (!w->is_wal)
        return real_write(w, p, n, off);
    if (off == 0 && n >= WAL_HEADER_LEN && (rc = walid_write(w, p)) != SQLITE_OK)
        return rc; /* the log starts (over): its owner record first */
    is_commit_header = is_commit_frame_header(p, n, off);
    is_header_rewrite = n == FRAME_HEADER_LEN && off == w->read_at;
    is_page_of_commit = w->commit_header_at >= 0 && off == w->commit_header_at + FRAME_HEADER_LEN;
    w->read_at = -1;
    w->commit_header_at = is_commit_header && !is_header_rewrite ? off : -1;
    if ((rc = buffer_write(w, p, n, off)) != SQLITE_OK)
        return rc;
    if (is_page_of_commit || (is_header_rewrite && is_commit_header))
        return flush(w);
    return SQLITE_OK;
}

static int buffer_write(wb_file *w, const void *p, int n, sqlite3_int64 off)
{
    int rc;

    if (w->len > 0 && (off != w->off + (sqlite3_int64)w->len || w->len + (size_t)n > BUF_CAP)) {
        if ((rc = flush(w)) != SQLITE_OK)
            return rc;
    }
    if ((size_t)n > BUF_CAP)
        return real_write(w, p, n, off);
    if (!w->buf && !(w->buf = malloc(BUF_CAP)))
        return real_write(w, p, n, off); /* unbuffered, still right */
    if (w->len == 0)
        w->off = off;
    memcpy(w->buf + w->len, p, (size_t)n);
    w->len += (size_t)n;
    return SQLITE_OK;
}

static int wb_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    wb_file *w = (wb_file *)f;
    int rc = flush(w);

    return rc != SQLITE_OK ? rc : w->real->pMethods->xTruncate(w->real, size);
}

/* A WAL's sync, on any thread: under sync_mu, failing for good once one
 * failed. `is_counted`: a fault may hit it. */
static int wal_sync(wb_file *w, int flags, bool is_counted)
{
    int rc;

    pthread_mutex_lock(&w->sync_mu);
    rc = is_counted ? fault_hit(OP_WAL_SYNC) : SQLITE_OK;
    if (rc == SQLITE_OK)
        rc = w->real->pMethods->xSync(w->real, flags);
    if (rc != SQLITE_OK)
        w->is_sync_failed = true;
    else if (w->is_sync_failed)
        rc = SQLITE_IOERR_FSYNC;
    pthread_mutex_unlock(&w->sync_mu);
    return rc;
}

static int wb_sync(sqlite3_file *f, int flags)
{
    wb_file *w = (wb_file *)f;
    int rc = flush(w);

    if (rc != SQLITE_OK)
        return rc;
    /* Faults count the syncs of files this connection wrote: the
     * checkpointer also syncs the WAL it only reads. */
    if (w->is_wal)
        return wal_sync(w, flags, w->has_written);
    if (w->has_written && (rc = fault_hit(OP_DB_SYNC)) != SQLITE_OK)
        return rc;
    return w->real->pMethods->xSync(w->real, flags);
}

static int wb_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
    wb_file *w = (wb_file *)f;
    int rc = flush(w);

    return rc != SQLITE_OK ? rc : w->real->pMethods->xFileSize(w->real, size);
}

static int wb_lock(sqlite3_file *f, int level)
{
    return real_of(f)->pMethods->xLock(real_of(f), level);
}

static int wb_unlock(sqlite3_file *f, int level)
{
    return real_of(f)->pMethods->xUnlock(real_of(f), level);
}

static int wb_check_reserved_lock(sqlite3_file *f, int *out)
{
    return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}

static int wb_file_control(sqlite3_file *f, int op, void *arg)
{
    wb_file *w = (wb_file *)f;
    int rc = flush(w); /* whatever the operation, it sees the file as SQLite wrote it */

    return rc != SQLITE_OK ? rc : w->real->pMethods->xFileControl(w->real, op, arg);
}

static int wb_sector_size(sqlite3_file *f)
{
    return real_of(f)->pMethods->xSectorSize(real_of(f));
}

static int wb_device_characteristics(sqlite3_file *f)
{
    return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
}

static int wb_shm_map(sqlite3_file *f, int page, int page_size, int extend, void volatile **pp)
{
    return real_of(f)->pMethods->xShmMap(real_of(f), page, page_size, extend, pp);
}

static int wb_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
    return real_of(f)->pMethods->xShmLock(real_of(f), offset, n, flags);
}

static void wb_shm_barrier(sqlite3_file *f)
{
    real_of(f)->pMethods->xShmBarrier(real_of(f));
}

static int wb_shm_unmap(sqlite3_file *f, int delete_flag)
{
    return real_of(f)->pMethods->xShmUnmap(real_of(f), delete_flag);
}

static int wb_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
    wb_file *w = (wb_file *)f;
    int rc = flush(w);

    *pp = NULL;
    return rc != SQLITE_OK ? rc : w->real->pMethods->xFetch(w->real, off, n, pp);
}

static int wb_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
    return real_of(f)->pMethods->xUnfetch(real_of(f), off, p);
}

static const sqlite3_io_methods wb_methods = {
    .iVersion = 3,
    .xClose = wb_close,
    .xRead = wb_read,
    .xWrite = wb_write,
    .xTruncate = wb_truncate,
    .xSync = wb_sync,
    .xFileSize = wb_file_size,
    .xLock = wb_lock,
    .xUnlock = wb_unlock,
    .xCheckReservedLock = wb_check_reserved_lock,
    .xFileControl = wb_file_control,
    .xSectorSize = wb_sector_size,
    .xDeviceCharacteristics = wb_device_characteristics,
    .xShmMap = wb_shm_map,
    .xShmLock = wb_shm_lock,
    .xShmBarrier = wb_shm_barrier,
    .xShmUnmap = wb_shm_unmap,
    .xFetch = wb_fetch,
    .xUnfetch = wb_unfetch,
};

int dg_vfs_wal_sync(sqlite3_file *f)
{
    if (!f || !f->pMethods)
        return SQLITE_OK; /* no WAL open: nothing written to sync */
    if (f->pMethods != &wb_methods || !((wb_file *)f)->is_wal)
        return SQLITE_MISUSE;
    /* Only the writer's WAL is synced this way: it has written. */
    return wal_sync((wb_file *)f, SQLITE_SYNC_NORMAL, true);
}

/* ------------------------------------------------------------ WAL owner records */

/* The application id in the database's header, read through the default VFS:
 * closing a descriptor of our own would drop the POSIX locks SQLite holds on
 * the file, while the unix VFS keeps such a descriptor until they are gone.
 * 0 while the file is still empty (a new database). */
static int read_app_id(const char *db_name, uint32_t *app_id)
{
    sqlite3_file *f = calloc(1, (size_t)real_vfs->szOsFile);
    uint8_t hdr[100];
    int out, rc;

    *app_id = 0;
    if (!f)
        return SQLITE_NOMEM;
    rc = real_vfs->xOpen(real_vfs, db_name, f, SQLITE_OPEN_READONLY | SQLITE_OPEN_MAIN_DB, &out);
    if (rc == SQLITE_OK) {
        rc = f->pMethods->xRead(f, hdr, sizeof hdr, 0);
        if (rc == SQLITE_OK)
            *app_id = (uint32_t)hdr[68] << 24 | (uint32_t)hdr[69] << 16 | (uint32_t)hdr[70] << 8 |
                      hdr[71];
        else if (rc == SQLITE_IOERR_SHORT_READ)
            rc = SQLITE_OK; /* fewer than 100 bytes: no header yet */
    }
    if (f->pMethods)
        f->pMethods->xClose(f);
    free(f);
    return rc;
}

/* Records the generation that `wal_header` starts (walid.h), before the
 * header is written. Only for WAL files SQLite named (never temporary ones). */
static int walid_write(wb_file *w, const uint8_t *wal_header)
{
    const char *db_name;
    uint32_t app_id;
    int rc;

    if (!w->name || !(db_name = sqlite3_filename_database(w->name)))
        return SQLITE_OK;
    if ((rc = read_app_id(db_name, &app_id)) != SQLITE_OK)
        return rc;
    rc = dg_walid_record(w->name, wal_header, app_id);
    return rc == DG_OK ? SQLITE_OK : rc == DG_ENOSPC ? SQLITE_FULL : SQLITE_IOERR_WRITE;
}

/* ------------------------------------------------------------ vfs methods */

static int wb_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags)
{
    wb_file *w = (wb_file *)f;
    int rc;

    DG_UNUSED(vfs);
    memset(w, 0, sizeof *w);
    rc = real_vfs->xOpen(real_vfs, name, w->real, flags, out_flags);
    /* The real file's methods are what say whether it is open: ours wrap
     * them, so SQLite calls xClose exactly when it must. */
    w->base.pMethods = w->real->pMethods ? &wb_methods : NULL;
    w->is_wal = (flags & SQLITE_OPEN_WAL) != 0;
    w->name = name;
    w->commit_header_at = w->read_at = -1;
    if (w->is_wal)
        pthread_mutex_init(&w->sync_mu, NULL);
    return rc;
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);

    return n >= k && strcmp(s + n - k, tail) == 0;
}

static int wb_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    int rc;

    DG_UNUSED(vfs);
    rc = real_vfs->xDelete(real_vfs, name, sync_dir);
    /* The last connection deleted the WAL: its owner records go with it
     * (left behind they would only be stale, never wrong). */
    if (rc == SQLITE_OK && ends_with(name, "-wal"))
        dg_walid_forget(name);
    return rc;
}

static int wb_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    DG_UNUSED(vfs);
    return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int wb_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    DG_UNUSED(vfs);
    return real_vfs->xFullPathname(real_vfs, name, n, out);
}

static int wb_randomness(sqlite3_vfs *vfs, int n, char *out)
{
    DG_UNUSED(vfs);
    return real_vfs->xRandomness(real_vfs, n, out);
}

static int wb_sleep(sqlite3_vfs *vfs, int us)
{
    DG_UNUSED(vfs);
    return real_vfs->xSleep(real_vfs, us);
}

static int wb_current_time(sqlite3_vfs *vfs, double *out)
{
    DG_UNUSED(vfs);
    return real_vfs->xCurrentTime(real_vfs, out);
}

static int wb_get_last_error(sqlite3_vfs *vfs, int n, char *out)
{
    DG_UNUSED(vfs);
    return real_vfs->xGetLastError(real_vfs, n, out);
}

static int wb_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    DG_UNUSED(vfs);
    return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

static sqlite3_vfs wb_vfs = {
    .iVersion = 2,
    .zName = DG_VFS_NAME,
    .mxPathname = 0, /* set from the real VFS */
    .xOpen = wb_open,
    .xDelete = wb_delete,
    .xAccess = wb_access,
    .xFullPathname = wb_full_pathname,
    .xRandomness = wb_randomness,
    .xSleep = wb_sleep,
    .xCurrentTime = wb_current_time,
    .xGetLastError = wb_get_last_error,
    .xCurrentTimeInt64 = wb_current_time_int64,
};

#ifdef DG_VFS_FAULTS
/* ------------------------------------------------------------ fault injection */

#include <pthread.h>

static const char *const fault_kinds[] = {"write", "sync", "dbwrite", "dbsync", "full", "dbfull"};

static struct {
    pthread_mutex_t mu;
    int op;          /* OP_*, or -1: none */
    int rc;          /* what the failing operations answer */
    long nth, count; /* fail operations nth .. nth+count-1 (count 0: all from nth) */
    long seen, hits;
    struct timespec file_mtime; /* of DANGAN_FAULT_FILE when last read */
    off_t file_size;
    ino_t file_ino;
    bool has_read_file;
} faults = {PTHREAD_MUTEX_INITIALIZER, -1, SQLITE_OK, 0, 0, 0, 0, {0, 0}, 0, 0, false};

/* Under faults.mu. */
static int parse_spec(const char *spec)
{
    char kind[16];
    long nth = 0, count = 1;
    int n = sscanf(spec, "%15s %ld %ld", kind, &nth, &count);
    size_t k;

    faults.seen = faults.hits = 0;
    if (n <= 0) { /* empty: no fault */
        faults.op = -1;
        return DG_OK;
    }
    for (k = 0; k < DG_ARRAY_LEN(fault_kinds) && strcmp(kind, fault_kinds[k]) != 0; k++)
        ;
    if (k == DG_ARRAY_LEN(fault_kinds) || n < 2 || nth < 1 || count < 0) {
        faults.op = -1;
        return DG_EINVAL;
    }
    faults.op = k == 4 ? OP_WAL_WRITE : k == 5 ? OP_DB_WRITE : (int)k;
    faults.rc = k >= 4                               ? SQLITE_FULL
                : faults.op == OP_WAL_SYNC || k == 3 ? SQLITE_IOERR_FSYNC
                                                     : SQLITE_IOERR_WRITE;
    faults.nth = nth;
    faults.count = count;
    return DG_OK;
}

int dg_vfs_fault_set(const char *spec)
{
    int rc;

    pthread_mutex_lock(&faults.mu);
    rc = parse_spec(spec);
    pthread_mutex_unlock(&faults.mu);
    return rc;
}

long dg_vfs_fault_hits(void)
{
    long n;

    pthread_mutex_lock(&faults.mu);
    n = faults.hits;
    pthread_mutex_unlock(&faults.mu);
    return n;
}

/* Under faults.mu: takes up a changed DANGAN_FAULT_FILE. */
static void reload_file(void)
{
    const char *path = getenv("DANGAN_FAULT_FILE");
    char spec[128] = "";
    struct stat sb;
    FILE *f;

    if (!path || stat(path, &sb) != 0)
        return;
    if (faults.has_read_file && sb.st_mtim.tv_sec == faults.file_mtime.tv_sec &&
        sb.st_mtim.tv_nsec == faults.file_mtime.tv_nsec && sb.st_size == faults.file_size &&
        sb.st_ino == faults.file_ino)
        return;
    faults.has_read_file = true;
    faults.file_mtime = sb.st_mtim;
    faults.file_size = sb.st_size;
    faults.file_ino = sb.st_ino;
    if ((f = fopen(path, "r"))) {
        if (!fgets(spec, sizeof spec, f))
            spec[0] = '\0';
        fclose(f);
    }
    if (parse_spec(spec) != DG_OK)
        dg_log_warn("vfs", "msg=\"bad fault spec\" spec=\"%s\"", spec);
}

static int fault_hit(int op)
{
    int rc = SQLITE_OK;

    pthread_mutex_lock(&faults.mu);
    reload_file();
    if (faults.op == op) {
        faults.seen++;
        if (faults.seen >= faults.nth &&
            (faults.count == 0 || faults.seen < faults.nth + faults.count)) {
            faults.hits++;
            rc = faults.rc;
        }
    }
    pthread_mutex_unlock(&faults.mu);
    if (rc != SQLITE_OK)
        dg_log_warn("vfs", "msg=\"fault injected\" op=%d rc=%d", op, rc);
    return rc;
}
#endif

int dg_vfs_register(void)
{
    if (real_vfs)
        return SQLITE_OK;
    if (!(real_vfs = sqlite3_vfs_find(NULL)))
        return SQLITE_ERROR;
    wb_vfs.szOsFile = (int)sizeof(wb_file) + real_vfs->szOsFile;
    wb_vfs.mxPathname = real_vfs->mxPathname;
    return sqlite3_vfs_register(&wb_vfs, 0);
}
