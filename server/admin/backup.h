/* backup.h - dangand backup (online, verified) and dangand restore
 * (offline, verified, new change-feed epoch). See backup.c. */
#ifndef DG_BACKUP_H
#define DG_BACKUP_H

#include <stdio.h>

/* Copies DIR's database into the new file `to` while the server may run,
 * verifies the copy (structure and audit chain) and prints a summary to
 * `out`. DG_OK or an error with `err` saying why; nothing named `to` is
 * left behind on failure. */
int dg_backup_run(const char *data_dir, const char *to, FILE *out, char *err, size_t err_len);

/* Replaces DIR's database with the backup `from` (the server stopped):
 * verifies it first, keeps the replaced database in DIR/before-restore-*,
 * sets a new change-feed epoch and audits the restore. DG_OK or an error
 * with `err` saying why; on a bad backup DIR is left as it was. */
int dg_restore_run(const char *data_dir, const char *from, FILE *out, char *err, size_t err_len);

#endif
