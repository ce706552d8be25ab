/* walid.h - which WAL belongs to which database: the owner records of
 * DB-walid, and reading a WAL as SQLite's recovery would.
 *
 * SQLite applies any DB-wal it finds beside DB, whatever database wrote it.
 * So before a WAL generation's header reaches the file, the VFS (vfs.c)
 * records the header's salts and the database's application id here,
 * synced; a WAL whose salts no record names was not written over this
 * database by dangand, and server/admin/check.c refuses it before SQLite opens
 * anything. Plain file I/O, no SQLite. Any thread; one writer at a time
 * per database (SQLite's write lock, or the data directory's lock).
 */
#ifndef DG_WALID_H
#define DG_WALID_H

#include <stdbool.h>
#include <stdint.h>

#define DG_WAL_HEADER_LEN 32

/* One owner record: a WAL generation started over the database. */
typedef struct dg_walid {
    uint64_t generation;
    uint32_t salt[2];   /* the WAL header's salts */
    uint32_t app_id;    /* the database's application id then (0: not set yet) */
    uint32_t page_size; /* the WAL's */
} dg_walid;

/* What is beside the database at `db_path`: DB-wal as SQLite's recovery
 * would see it, and the owner records of DB-walid. */
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

/* Records the generation that `wal_header` (the WAL's first 32 bytes, about
 * to be written to the WAL at `wal_path`) starts over the database with
 * application id `app_id`, in WAL_PATH + "id", synced (the file's directory
 * too when the file is new). DG_OK, DG_ENOSPC (no room) or DG_EIO. */
int dg_walid_record(const char *wal_path, const uint8_t wal_header[DG_WAL_HEADER_LEN],
                    uint32_t app_id);
/* Removes the owner records of the WAL at `wal_path` (it was deleted). */
void dg_walid_forget(const char *wal_path);
/* Fills `wi` for the database at `db_path`, with plain reads (nothing is
 * written, no lock taken). DG_OK, or DG_EIO when a file exists but cannot be
 * read. */
int dg_wal_inspect(const char *db_path, dg_wal_info *wi);

#endif
