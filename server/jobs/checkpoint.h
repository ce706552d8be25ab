/* checkpoint.h - the checkpointer thread: moves committed pages from the WAL
 * into the database file in the background, so the writer's group commits
 * never pay for a checkpoint (the writer runs with wal_autocheckpoint=0).
 * Passive checkpoints never block the writer or readers. Past 64 MiB it
 * starts the WAL over: passes until little is left to copy, then a RESTART
 * checkpoint that holds the writer's lock only for that (checkpoint.c); the
 * writer does it itself past 128 MiB (writer.c, bound_wal).
 */
#ifndef DG_CHECKPOINT_H
#define DG_CHECKPOINT_H

typedef struct dg_checkpointer dg_checkpointer;

/* Opens its own connection to `db_path` and starts the thread. DG_OK or a store error. */
int dg_checkpointer_start(const char *db_path, dg_checkpointer **out);
/* Stops the thread (one last checkpoint first) and closes its connection. Accepts NULL. */
void dg_checkpointer_stop(dg_checkpointer *c);
/* Runs a round now (as the period would) and returns when it is done. */
void dg_checkpointer_round(dg_checkpointer *c);
/* How many times it started the WAL over (any thread). */
unsigned dg_checkpointer_restarts(dg_checkpointer *c);

#endif
