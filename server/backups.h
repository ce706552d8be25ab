/* backups.h - scheduled backups ([backup] in dangand.conf): once a day at
 * `time`, a verified backup into `dir` (encrypted when `key_file` is set),
 * the copies beyond `keep` removed, each run logged and audited. See
 * backups.c and docs/operations.md. Loop thread. */
#ifndef DG_BACKUPS_H
#define DG_BACKUPS_H

#include "server.h"

typedef struct dg_backups dg_backups;

/* The schedule of `srv`'s settings, its first run at the next `time` after
 * now; NULL when scheduled backups are off. Free with dg_backups_free. */
dg_backups *dg_backups_new(dg_server *srv);
/* Called by the sweep: starts the backup that is due, on the background
 * thread (dg_server_background). A run still going when the next is due
 * makes that one skipped (logged). */
void dg_backups_sweep(dg_backups *b, dg_server *srv);
/* Accepts NULL. Only when no run is in flight (shutdown waits for jobs). */
void dg_backups_free(dg_backups *b);

#endif
