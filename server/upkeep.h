/* upkeep.h - periodic bookkeeping the sweep runs (upkeep.c). Loop thread. */
#ifndef DG_UPKEEP_H
#define DG_UPKEEP_H

#include "server.h"
#include "session.h"

/* How often, at most, bookkeeping of this kind reaches the store (ms): a
 * session's last activity is persisted once it is this far behind, and the
 * sweep prunes idempotency keys this often. */
#define DG_UPKEEP_EVERY_MS 60000

/* Persists a session's last activity when the store is DG_UPKEEP_EVERY_MS
 * behind, so idle expiry survives a reconnect. No audit record: bookkeeping,
 * not a change of user data. */
void dg_upkeep_session(dg_server *srv, dg_session *s);
/* Drops idempotency keys older than 24 hours, a batch at a time. */
void dg_upkeep_prune_idempotency_keys(dg_server *srv);
/* Drops change-feed rows past [feed] retention_days and retention_changes, a
 * batch at a time. */
void dg_upkeep_prune_feed(dg_server *srv);

#endif
