/* hist.c - the log-linear latency histogram of hist.h.
 *
 * Bucket layout: values 0..127 have a bucket each. A larger value whose
 * highest set bit is b (7 <= b <= 35) is shifted right by s = b - 6, which
 * leaves a mantissa m in 64..127; its bucket is s * 64 + m. So bucket i >= 64
 * covers [m << s, (m + 1) << s) with s = i / 64 - 1 and m = i - 64 * s, and
 * the buckets of consecutive powers of two follow each other without gaps.
 */
#include "hist.h"

#include <stdlib.h>

#include "alloc.h"
#include "dg.h"

static int highest_bit(uint64_t v)
{
    return 63 - __builtin_clzll(v);
}

static size_t bucket_of(int64_t us)
{
    int shift;

    if (us < 2 * DG_HIST_SUB)
        return (size_t)us;
    shift = highest_bit((uint64_t)us) - 6;
    return (size_t)shift * DG_HIST_SUB + (size_t)((uint64_t)us >> shift);
}

/* The middle of bucket i: what a percentile falling in it reports. */
static int64_t bucket_value(size_t i)
{
    int shift;
    int64_t m;

    if (i < 2 * DG_HIST_SUB)
        return (int64_t)i;
    shift = (int)(i / DG_HIST_SUB) - 1;
    m = (int64_t)(i - (size_t)shift * DG_HIST_SUB);
    return (m << shift) + ((INT64_C(1) << shift) - 1) / 2;
}

dg_hist *dg_hist_new(void)
{
    return dg_xcalloc(1, sizeof(dg_hist));
}

void dg_hist_free(dg_hist *h)
{
    free(h);
}

void dg_hist_record(dg_hist *h, int64_t us)
{
    if (us < 0)
        us = 0;
    if (us > DG_HIST_MAX_US)
        us = DG_HIST_MAX_US;
    dg_assert(bucket_of(us) < DG_HIST_N_BUCKETS);
    h->counts[bucket_of(us)]++;
    h->n++;
    h->sum_us += us;
    if (us > h->max_us)
        h->max_us = us;
}

void dg_hist_merge(dg_hist *into, const dg_hist *from)
{
    for (size_t i = 0; i < DG_HIST_N_BUCKETS; i++)
        into->counts[i] += from->counts[i];
    into->n += from->n;
    into->sum_us += from->sum_us;
    if (from->max_us > into->max_us)
        into->max_us = from->max_us;
}

int64_t dg_hist_percentile(const dg_hist *h, double p)
{
    uint64_t rank, seen = 0;

    if (h->n == 0)
        return 0;
    /* The smallest value with at least p % of the values at or below it. */
    rank = (uint64_t)((p / 100.0) * (double)h->n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > h->n)
        rank = h->n;
    for (size_t i = 0; i < DG_HIST_N_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank)
            return DG_MIN(bucket_value(i), h->max_us);
    }
    return h->max_us;
}

double dg_hist_mean(const dg_hist *h)
{
    return h->n ? (double)h->sum_us / (double)h->n : 0.0;
}
