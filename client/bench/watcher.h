/* watcher.h - dangan-bench --watchers: subscribers that time how long a
 * change takes from its commit to their screen.
 *
 * Each watcher is one connection on its own thread, subscribed from now; it
 * polls until the window ends and records, for every change event received
 * inside the window, now - the change's time (the server's clock when the
 * write was made, so it includes the writer queue and the commit; client and
 * server share this machine's clock). Owns its histogram.
 */
#ifndef DG_BENCH_WATCHER_H
#define DG_BENCH_WATCHER_H

#include "bench.h"

typedef struct dg_watcher dg_watcher;

dg_watcher *dg_watcher_new(void);
/* Accepts NULL. */
void dg_watcher_free(dg_watcher *w);
/* Resumes the session on a connection of its own and subscribes. */
int dg_watcher_open(dg_watcher *w, const dg_bench_opts *o, const char *token, char *err,
                    size_t err_len);
/* Polls until until_us (monotonic), counting events from from_us on. */
void dg_watcher_run(dg_watcher *w, int64_t from_us, int64_t until_us);
/* Adds its counts and latencies to `into` (whose histogram must exist). */
void dg_watcher_merge(const dg_watcher *w, dg_bench_op_result *into);

#endif
