/* watcher.h - dangan-bench --watchers: subscribers that time how long a
 * change takes from its commit to their screen.
 *
 * A dg_watchers is one thread's share of the subscribers: each on a
 * connection of its own, subscribed from now, all driven by one epoll set
 * over their libdangan descriptors (dg_client_fd), the way a client program
 * with many subscriptions would run them, and the way pgbench drives its
 * connections from a few threads. For every change event received inside
 * the window it records now - the change's time (the server's clock when
 * the write was made, so it includes the writer queue and the commit; client
 * and server share this machine's clock). Owns its clients and histogram.
 */
#ifndef DG_BENCH_WATCHER_H
#define DG_BENCH_WATCHER_H

#include "bench.h"

/* Subscribers per watcher thread. */
#define DG_WATCHERS_PER_THREAD 256

typedef struct dg_watchers dg_watchers;

dg_watchers *dg_watchers_new(int n);
/* Accepts NULL. */
void dg_watchers_free(dg_watchers *w);
/* Resumes the session on n connections and subscribes each. */
int dg_watchers_open(dg_watchers *w, const dg_bench_opts *o, const char *token, char *err,
                     size_t err_len);
/* Runs them until until_us (monotonic), counting events from from_us on. */
void dg_watchers_run(dg_watchers *w, int64_t from_us, int64_t until_us);
/* Adds its counts and latencies to `into` (whose histogram must exist). */
void dg_watchers_merge(const dg_watchers *w, dg_bench_op_result *into);

#endif
