/* vfs.h - an SQLite VFS ("dangan") that writes a WAL commit to the file
 * in one system call instead of two per page, records which WAL belongs to
 * which database (walid.h), and (in test builds) injects I/O faults. See
 * vfs.c. */
#ifndef DG_VFS_H
#define DG_VFS_H

#define DG_VFS_NAME "dangan"

/* Registers the VFS (not as the default) over SQLite's default one. Once,
 * before opening connections that name it. An SQLite result code. */
int dg_vfs_register(void);

typedef struct sqlite3_file sqlite3_file;
/* Syncs (fdatasync) a WAL file object of this VFS, as SQLite's own sync of
 * it would, from any thread, while its connection goes on writing: every
 * byte of the commits that returned before the call is on disk when it
 * returns SQLITE_OK. Once a sync of that file object failed (this one or
 * one SQLite made), every later one fails. An SQLite result code. */
int dg_vfs_wal_sync(sqlite3_file *f);

#ifdef DG_VFS_FAULTS
/* Test builds only (dangand-faulty, unit tests that compile vfs.c with
 * DG_VFS_FAULTS): sets the fault to inject, counted from now.
 *   "KIND N [COUNT]"   the Nth operation of KIND and the COUNT-1 after it
 *                      fail (COUNT 0: every one from the Nth on); "" clears.
 *   KIND: write, sync, full (a WAL write answers SQLITE_FULL, nothing
 *   written), dbwrite, dbsync, dbfull (the same on database files).
 * Writes count those that reach the file (a buffered commit is one); syncs
 * count only files the same connection wrote. dangand-faulty reads the spec
 * from the file named by DANGAN_FAULT_FILE whenever that file changes.
 * DG_OK or DG_EINVAL. Any thread. */
int dg_vfs_fault_set(const char *spec);
/* How many operations the current spec has failed so far. */
long dg_vfs_fault_hits(void);
#endif

#endif
