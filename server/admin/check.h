/* check.h - is a data directory fit to serve? `dangand check`, and the check
 * `dangand serve` (and `dangand demo-data`) run before they write anything.
 *
 * The checks, in order; a failed one makes those that need it "skipped":
 *   data directory   exists, is a directory, mode 0700
 *   file modes       the key and the database files not open to group or
 *                    others, dangand.conf not writable by them
 *   settings         dangand.conf parses and its values are consistent
 *   database file    the SQLite header read with plain reads: not empty, not
 *                    cut short, an SQLite database, a schema this program
 *                    knows
 *   write-ahead log  dangan.db-wal, if it holds transactions, was written over
 *                    this database (vfs.h: owner records) and is recovered
 *   structure        PRAGMA integrity_check, or quick_check when bounded
 *   schema           version and the server's identity rows
 *   audit chain      the hash chain: whole, or its newest records when bounded
 *   documents        every stored document's bytes against its SHA-256 (full
 *                    check only)
 * Nothing here writes to a file of the data directory. The SQLite checks
 * read the database as an immutable file when there is no WAL to recover;
 * with this database's own WAL they read through it (SQLite's recovery then
 * rebuilds the -shm index, which holds no data).
 *
 * Clean shutdowns: `dangand serve` ends by writing DIR/dangand.clean with
 * the database file's identity (device, inode, size, times). At the next
 * start, when that file matches and no WAL holds transactions, the database
 * is as dangand left it and the bounded check skips structure and audit
 * chain; otherwise (a crash, a change made while stopped, a copied-in file)
 * it runs them. The marker goes once the check has passed, so a crash from
 * then on is seen as one.
 *
 * Single-threaded; the caller holds the data directory's lock.
 */
#ifndef DG_CHECK_H
#define DG_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define DG_CLEAN_FILE "dangand.clean"

typedef enum dg_check_status {
    DG_CHECK_OK,
    DG_CHECK_FAIL,
    DG_CHECK_SKIPPED,
    DG_CHECK_WARN, /* found wrong, but no reason not to serve (the start-up check only) */
} dg_check_status;

typedef struct dg_check_item {
    const char *name; /* "write-ahead log" */
    dg_check_status status;
    char message[600]; /* what was found */
    char fix[700];     /* when failed: what an operator does about it */
} dg_check_item;

#define DG_CHECK_MAX_ITEMS 9

typedef enum dg_check_depth {
    DG_CHECK_FULL,    /* dangand check: integrity_check, the whole audit chain */
    DG_CHECK_BOUNDED, /* quick_check, the newest DG_CHECK_AUDIT_TAIL audit records */
    DG_CHECK_STARTUP, /* BOUNDED after an unclean shutdown; else without those two. A
                       * broken audit chain only warns: the server runs and reports it
                       * (AuditVerify), as it would find it broken while running. */
} dg_check_depth;

#define DG_CHECK_AUDIT_TAIL 10000

typedef struct dg_check_report {
    dg_check_item items[DG_CHECK_MAX_ITEMS];
    size_t n_items;
    bool ok;        /* no item failed */
    bool was_clean; /* the last run shut down cleanly and nothing changed since */
    bool has_wal;   /* dangan.db-wal holds transactions to recover */
    int64_t elapsed_ms;
} dg_check_report;

/* Runs the checks on `data_dir`. Fills `r` whatever it finds; returns DG_OK
 * when every check passed, else DG_ECORRUPT (r says which and why). */
int dg_check_run(const char *data_dir, dg_check_depth depth, dg_check_report *r);
/* The report for people (one line per check, the fix under a failure) or
 * as one JSON object. */
void dg_check_print(const dg_check_report *r, const char *data_dir, bool json, FILE *out);
/* The first failed item, or NULL. */
const dg_check_item *dg_check_first_failure(const dg_check_report *r);

/* After the database was closed cleanly (its WAL checkpointed and gone):
 * writes DIR/dangand.clean, synced. DG_OK or DG_EIO (`err` says why). */
int dg_check_mark_clean(const char *data_dir, char *err, size_t err_len);
/* Before the first write of a run: removes DIR/dangand.clean, synced (a
 * crash from now on is unclean). DG_OK or DG_EIO. */
int dg_check_unmark_clean(const char *data_dir, char *err, size_t err_len);

#endif
