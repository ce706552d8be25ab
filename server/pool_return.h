/* pool_return.h - auto-return to the public pool: once a day in the team's
 * time zone (at start, then after each local midnight; the sweep asks),
 * customers whose owner got them or last logged an interaction on them
 * pool_return_after_days or more local days ago go back to the pool,
 * through the writer with the server as the actor (claims.h). Off while
 * the team's pool_return_after_days is 0. Loop thread. */
#ifndef DG_POOL_RETURN_H
#define DG_POOL_RETURN_H

#include "server.h"

/* Runs the day's auto-return unless it ran for the team's today already. */
void dg_pool_return_sweep(dg_server *srv);

#endif
