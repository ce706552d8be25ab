/* walbuf.c - an SQLite VFS that coalesces writes to WAL files.
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
 * Threads: a file is used by one connection at a time (SQLite's rule), so
 * its buffer needs no lock.
 */
#include "walbuf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "dg.h"

/* Flushed when full. The unix VFS writes at most 128 KiB - 1 per call
 * (seekAndWriteFd masks the length with 0x1ffff), so stay well below. */
#define BUF_CAP (64 * 1024)

typedef struct wb_file {
    sqlite3_file base; /* our methods */
    bool is_wal;
    uint8_t *buf; /* is_wal: the pending bytes, at file offset `off` */
    size_t len;
    sqlite3_int64 off;
    bool is_commit_frame; /* the last write was a commit frame's header */
    sqlite3_int64 end;    /* the end of the frames written since the WAL (re)started */
    sqlite3_file real[];  /* the default VFS's file object, szOsFile bytes */
} wb_file;

static sqlite3_vfs *real_vfs;

static sqlite3_file *real_of(sqlite3_file *f)
{
    return ((wb_file *)f)->real;
}

/* Hands the pending bytes to the real file. */
static int flush(wb_file *w)
{
    sqlite3_file *r = w->real;
    int rc;

    if (w->len == 0)
        return SQLITE_OK;
    rc = r->pMethods->xWrite(r, w->buf, (int)w->len, w->off);
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
    return rc != SQLITE_OK ? rc : rc2;
}

static int wb_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
    wb_file *w = (wb_file *)f;
    int rc = flush(w);

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

static int wb_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
    wb_file *w = (wb_file *)f;
    bool ends_commit = w->is_wal && w->is_commit_frame, is_rewrite;
    int rc;

    if (!w->is_wal)
        return w->real->pMethods->xWrite(w->real, p, n, off);
    if (off == 0) /* the WAL header: the log starts (over) here */
        w->end = 0;
    is_rewrite = off + n <= w->end;
    w->is_commit_frame = is_commit_frame_header(p, n, off) && !is_rewrite;
    rc = buffer_write(w, p, n, off);
    if (off + n > w->end)
        w->end = off + n;
    if (rc != SQLITE_OK)
        return rc;
    /* A commit's frames are all written: out they go before SQLite
     * publishes them in the WAL index. A commit frame's header written
     * again (SQLite rewrites checksums when a page spilled to the WAL early
     * changed again before the commit) is the last write of its commit: no
     * page follows it, so it goes out at once, or a commit without a sync
     * would leave it in memory, and a killed process would leave the WAL
     * with a stale checksum that recovery throws the transaction away for. */
    if (ends_commit || (is_rewrite && is_commit_frame_header(p, n, off)))
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
        return w->real->pMethods->xWrite(w->real, p, n, off);
    if (!w->buf && !(w->buf = malloc(BUF_CAP)))
        return w->real->pMethods->xWrite(w->real, p, n, off); /* unbuffered, still right */
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

static int wb_sync(sqlite3_file *f, int flags)
{
    wb_file *w = (wb_file *)f;
    int rc = flush(w);

    return rc != SQLITE_OK ? rc : w->real->pMethods->xSync(w->real, flags);
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
    return rc;
}

static int wb_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    DG_UNUSED(vfs);
    return real_vfs->xDelete(real_vfs, name, sync_dir);
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
    .zName = DG_WALBUF_VFS,
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

int dg_walbuf_register(void)
{
    if (real_vfs)
        return SQLITE_OK;
    if (!(real_vfs = sqlite3_vfs_find(NULL)))
        return SQLITE_ERROR;
    wb_vfs.szOsFile = (int)sizeof(wb_file) + real_vfs->szOsFile;
    wb_vfs.mxPathname = real_vfs->mxPathname;
    return sqlite3_vfs_register(&wb_vfs, 0);
}
