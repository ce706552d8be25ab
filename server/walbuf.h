/* walbuf.h - an SQLite VFS ("dangan") that writes a WAL commit to the file
 * in one system call instead of two per page, records which WAL belongs to
 * which database, and (in test builds) injects I/O faults. See walbuf.c. */
#ifndef DG_WALBUF_H
#define DG_WALBUF_H

#include <stdbool.h>
#include <stdint.h>

#define DG_WALBUF_VFS "dangan"

/* Registers the VFS (not as the default) over SQLite's default one. Once,
 * before opening connections that name it. An SQLite result code. */
int dg_walbuf_register(void);

/* One owner record of DB-walid: a WAL generation this VFS started over the
 * database, written (and synced) before that generation's WAL header. */
typedef struct dg_walid {
    uint64_t generation;
    uint32_t salt[2];   /* the WAL header's salts */
    uint32_t app_id;    /* the database's application id then (0: not set yet) */
    uint32_t page_size; /* the WAL's */
} dg_walid;

/* What is beside the database at `db_path`, read with plain reads (no
 * SQLite, no locks, nothing written): DB-wal as SQLite's recovery would see
 * it, and the owner records of DB-walid. */
typedef struct dg_wal_info {
    bool exists;          /* DB-wal is there */
    int64_t size;         /* its bytes */
    bool has_header;      /* a valid WAL header (else SQLite ignores the file) */
    uint32_t page_size;   /* from the header */
    uint32_t salt[2];     /* from the header */
    uint32_t n_frames;    /* frames whose salts and checksum chain are valid */
    uint32_t n_committed; /* frames up to the last commit: what recovery applies */
    uint32_t n_commits;   /* transactions among them */
    dg_walid owners[2];   /* the valid owner records */
    int n_owners;
} dg_wal_info;

/* Fills `wi`. SQLITE_OK, or an SQLite I/O result code when a file exists but
 * cannot be read. Any thread; the caller keeps writers away (the lock). */
int dg_walbuf_inspect(const char *db_path, dg_wal_info *wi);

#ifdef DG_WALBUF_FAULTS
/* Test builds only (dangand-faulty, unit tests that compile walbuf.c with
 * DG_WALBUF_FAULTS): sets the fault to inject, counted from now.
 *   "KIND N [COUNT]"   the Nth operation of KIND and the COUNT-1 after it
 *                      fail (COUNT 0: every one from the Nth on); "" clears.
 *   KIND: write, sync, full (a WAL write answers SQLITE_FULL, nothing
 *   written), dbwrite, dbsync, dbfull (the same on database files).
 * Writes count those that reach the file (a buffered commit is one); syncs
 * count only files the same connection wrote. dangand-faulty reads the spec
 * from the file named by DANGAN_FAULT_FILE whenever that file changes.
 * DG_OK or DG_EINVAL. Any thread. */
int dg_walbuf_fault_set(const char *spec);
/* How many operations the current spec has failed so far. */
long dg_walbuf_fault_hits(void);
#endif

#endif
