/* store_tiers.h - what the ABC classification reads: every live customer
 * with its won revenue over a window. Part of the storage seam (store.h):
 * our structs and dg_err codes only. Any connection, inside a (read or
 * write) transaction for one snapshot.
 */
#ifndef DG_STORE_TIERS_H
#define DG_STORE_TIERS_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

typedef struct dg_tier_row {
    int64_t customer_id;
    int64_t owner_id; /* 0: nobody */
    int64_t revenue;  /* minor units of the window's currency */
    int tier;         /* dangan.v1.Tier: 0 none, 1 A, 2 B, 3 C */
    int suggested;    /* filled by the ranking (tiers.h) */
} dg_tier_row;

/* What counts as revenue: deals at one of `won` (stage names), in
 * `currency`, with at_ms in [from_ms, to_ms], not archived. */
typedef struct dg_revenue_window {
    const char *const *won;
    size_t n_won; /* at most 12 */
    const char *currency;
    int64_t from_ms, to_ms;
} dg_revenue_window;

/* Every live (not archived) customer in id order with its revenue over `w`
 * (0 without any): *out is a new array of *n rows (free with free(); NULL
 * when *n is 0). DG_OK, DG_ENOMEM, DG_ECORRUPT (a tier that is not a Tier
 * name) or a store error. */
int dg_store_tier_rows(dg_store *st, const dg_revenue_window *w, dg_tier_row **out, size_t *n);

#endif
