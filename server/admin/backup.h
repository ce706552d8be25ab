/* backup.h - dangand backup (online, verified) and dangand restore
 * (offline, verified, new change-feed epoch). See backup.c. */
#ifndef DG_BACKUP_H
#define DG_BACKUP_H

#include <stdint.h>
#include <stdio.h>

#include "backup_seal.h"

/* What a backup wrote. */
typedef struct dg_backup_result {
    int64_t bytes;     /* the file's size */
    int64_t feed_head; /* the newest change it holds */
} dg_backup_result;

/* Copies DIR's database into the new file `to` while the server may run,
 * verifies the copy (structure and audit chain), encrypts it with a key
 * derived from `secret` unless that is NULL (and checks that the sealed
 * file opens again), writes TO.sha256, fills `res` (may be NULL) and prints
 * a summary to `out` (may be NULL). DG_OK or an error with `err` saying
 * why; nothing named `to` is left behind on failure. Any thread: the
 * scheduled backups run it on a worker. */
int dg_backup_run(const char *data_dir, const char *to, const dg_backup_secret *secret,
                  dg_backup_result *res, FILE *out, char *err, size_t err_len);

/* Replaces DIR's database with the backup `from` (the server stopped):
 * opens it with `secret` when it is encrypted (NULL: refused, DG_EAUTH;
 * a wrong secret: DG_EAUTH too), verifies it first, keeps the replaced
 * database in DIR/before-restore-*, sets a new change-feed epoch and
 * audits the restore. DG_OK or an error
 * with `err` saying why; on a bad backup DIR is left as it was. */
int dg_restore_run(const char *data_dir, const char *from, const dg_backup_secret *secret,
                   FILE *out, char *err, size_t err_len);

#endif
