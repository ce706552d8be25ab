/* hist.h - a latency histogram for dangan-bench, HDR style: exact below
 * 128 µs, then 64 sub-buckets per power of two, so any recorded value is
 * reported within 1/64 (1.6 %) of itself, up to 2^36 µs (19 hours; larger
 * values are clamped). Fixed size, no allocation after _new, merged by
 * adding counts. Mean and max are exact.
 *
 * A histogram belongs to one thread at a time: each worker records into its
 * own, and the main thread merges them after joining the workers.
 */
#ifndef DG_BENCH_HIST_H
#define DG_BENCH_HIST_H

#include <stdint.h>

#define DG_HIST_SUB 64                                     /* sub-buckets per power of two */
#define DG_HIST_MAX_US ((INT64_C(1) << 36) - 1)            /* larger values are clamped */
#define DG_HIST_N_BUCKETS (DG_HIST_SUB * 30 + DG_HIST_SUB) /* see bucket_of() */

typedef struct dg_hist {
    uint64_t n;     /* values recorded */
    int64_t sum_us; /* for the exact mean */
    int64_t max_us;
    uint64_t counts[DG_HIST_N_BUCKETS];
} dg_hist;

/* A new empty histogram; free with dg_hist_free. Never NULL (aborts on OOM). */
dg_hist *dg_hist_new(void);
/* Accepts NULL. */
void dg_hist_free(dg_hist *h);
/* Records one latency in µs (negative values count as 0). */
void dg_hist_record(dg_hist *h, int64_t us);
/* Adds every value of `from` to `into`. */
void dg_hist_merge(dg_hist *into, const dg_hist *from);
/* The value at percentile p (0 < p <= 100) in µs, within 1.6 %, never above
 * the exact maximum; 0 when empty. */
int64_t dg_hist_percentile(const dg_hist *h, double p);
/* Mean in µs; 0 when empty. */
double dg_hist_mean(const dg_hist *h);

#endif
