/* loops.h - the server's event loops: `[server] loops` of them (default:
 * one per core), each on its own thread with the connections it was handed.
 *
 * Loop 0 runs on the thread of dg_serve_run: it owns the listener, the
 * signals, the once-a-second upkeep, the reminders and the backups, and
 * hands every accepted socket to the loops in turn (itself included). Each
 * loop owns its connections, their feed subscriptions, its completion queue
 * (a job comes back to the loop that submitted it), its read-only database
 * connection for cheap reads, its batch of records of reads and its TLS
 * configuration. Commits reach every loop's feed through its inbox: one
 * wake-up per loop for what one take from the writer brought.
 *
 * serve.c makes the loops, starts their threads and, at shutdown, drains
 * them: dg_loops_drain tells every loop to stop reading requests; each waits
 * for its own requests and jobs, closes its connections and handles, and its
 * thread ends; loop 0 waits for them all (dg_loops_others_done) before it
 * stops what they share. Loop 0 only, except where noted.
 */
#ifndef DG_LOOPS_H
#define DG_LOOPS_H

#include <stdbool.h>
#include <stdint.h>

#include "server_int.h"

/* Makes `n` loops (uv loops, completion queues, batches of records, wake-up
 * handles) and enters loop 0 on the calling thread. */
int dg_loops_new(dg_server *srv, unsigned n);
/* Each loop's own read-only database connection (`path`) and TLS
 * configuration (`cert`, `key`). */
int dg_loops_open_store(dg_server *srv, const char *path);
int dg_loops_open_tls(dg_server *srv, const char *cert, const char *key);
/* Each loop's feed (starting at change seq `head`), connection table and
 * timers; loop 0's connections accept from `listener`. */
void dg_loops_serve(dg_server *srv, int64_t head, uint32_t max_conns, uv_stream_t *listener,
                    uv_timer_cb sweep0);
/* Starts the threads of loops 1..n-1. */
int dg_loops_start_threads(dg_server *srv);
/* A connection waits on the listener: to the next loop in turn. */
void dg_loops_accept(dg_server *srv);
/* Loops 1..n-1 run their connections' sweep now (loop 0's is the
 * caller's); returns once they all have. */
void dg_loops_sweep_now(dg_server *srv);
/* Shutdown: every loop stops reading requests and waits for what is in
 * flight; loop 0's drain ticks call `drain0`. */
void dg_loops_drain(dg_server *srv, uv_timer_cb drain0);
/* Shutdown, a second signal: every loop closes its connections now. */
void dg_loops_close_conns(dg_server *srv);
/* A loop's drain tick: closes its connections once its requests are done
 * (or the grace period is over); true when nothing of it is left in flight.
 * The loop's thread. */
bool dg_loop_drained(struct dg_loop *l);
/* True once loops 1..n-1 have ended (their threads are joined then). */
bool dg_loops_others_done(dg_server *srv);
/* Closes a drained loop's handles, feed, store and completions (loop 0's
 * after the writer and the pools stopped). The loop's thread. */
void dg_loop_close(struct dg_loop *l);
/* After a failed start: closes every loop's handles and runs them out. */
void dg_loops_abort(dg_server *srv);
/* Frees the loops once they are closed; false when one still had handles. */
bool dg_loops_free(dg_server *srv);

#endif
