/* worker.h - one connection's load: picks operations by the mix, keeps up to
 * `pipeline` requests in flight, checks every answer, and keeps per-operation
 * counts, errors and a latency histogram.
 *
 * Owns: its share of customers for updates (id, last known version, a hash
 * of the current phone, whether an update of it is in flight), its ring of
 * in-flight requests, its statistics. Borrows: the options, the list of every customer id (shared
 * read-only by all workers), and during dg_worker_run the client.
 * Invariants: at most one update per customer in flight, so the version it
 * sends is always the one the server last answered; an update never writes
 * the phone a customer already has (that would be a no-op without a new
 * version); no two workers share a customer for updates. Threads: one worker belongs to one thread.
 */
#ifndef DG_BENCH_WORKER_H
#define DG_BENCH_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "bench.h"
#include "dangan.h"

typedef struct dg_worker dg_worker;

typedef struct dg_worker_cfg {
    const dg_bench_opts *o;
    const int64_t *ids; /* every customer id, for gets; borrowed, read-only */
    size_t n_ids;
    uint64_t stream; /* random stream number: the connection index */
} dg_worker_cfg;

/* A new worker; free with dg_worker_free. */
dg_worker *dg_worker_new(const dg_worker_cfg *cfg);
/* Accepts NULL. */
void dg_worker_free(dg_worker *w);
/* Gives the worker a customer to update, at `version`, whose phone has
 * dg_worker_phone_hash `phone_hash`. Before dg_worker_run. */
void dg_worker_add_customer(dg_worker *w, int64_t id, int64_t version, uint64_t phone_hash);
/* A 64-bit hash of a phone number (FNV-1a). Any thread. */
uint64_t dg_worker_phone_hash(const char *phone);
/* Runs the mix on `c` until `until_us` (dg_mono_us clock), then waits for
 * the requests still in flight. Operations completing in [from_us, until_us)
 * are counted. Returns early if the connection fails (see dg_worker_lost). */
void dg_worker_run(dg_worker *w, dg_client *c, int64_t from_us, int64_t until_us);
/* dg_worker_run for n workers on one thread, each with its connection
 * cs[i], driven from one epoll set (as pgbench -j drives its clients):
 * a connection whose answer has come is served while the others wait
 * for theirs. Answers still missing 30 s after the window count as errors. */
void dg_workers_run(dg_worker *const *ws, dg_client *const *cs, size_t n, int64_t from_us,
                    int64_t until_us);
/* Why the connection was lost, or NULL if it was not. */
const char *dg_worker_lost(const dg_worker *w);
/* Adds the worker's statistics to `into` (whose histograms must exist). */
void dg_worker_merge(const dg_worker *w, dg_bench_result *into);

#endif
