/* tiers.h - the ABC classification (docs/protocol.md, "ABC
 * classification"): the customers a user may see ranked by their won
 * revenue over the trailing twelve months, split into A, B and C by the
 * team's shares; and applying that suggestion as ordinary customer updates.
 *
 * The window is [start of the day 365 days before today, now], days in the
 * team's time zone; revenue is the sum of the amounts of the deals at a won
 * stage of the team's pipeline, in the team's currency, not archived.
 * Ranking: revenue high to low, ties by customer id (older first). With n
 * customers ranked, the first round(n * A%) are A and the first
 * round(n * (A% + B%)) A or B (halves round up); a customer whose revenue
 * equals the one ranked just before it gets that one's tier, so equal
 * revenue never straddles a boundary (the better tier wins); customers
 * without revenue are C.
 * Runs on: a reader thread (dg_tiers_compute) or the writer (both).
 */
#ifndef DG_TIERS_H
#define DG_TIERS_H

#include <stdint.h>

#include "perm.h"
#include "records.h"
#include "store_tiers.h"
#include "team.h"

typedef struct dg_tiers {
    dg_tier_row *rows; /* the customers ranked, best first; rows[i].suggested set */
    size_t n;
    int64_t from_ms, to_ms;            /* the revenue window, both ends included */
    uint32_t current[DG_TIER_SLOTS];   /* customers per tier now ([0]: none) */
    uint32_t suggested[DG_TIER_SLOTS]; /* customers per suggested tier */
    int64_t revenue[DG_TIER_SLOTS];    /* revenue of the customers suggested per tier */
    uint32_t changes;                  /* customers whose suggested tier differs */
} dg_tiers;

/* Reads every live customer `who` may see (perm.c) with its revenue and
 * ranks them for team `t` at time `now` (unix ms). *out owns its rows: free
 * with dg_tiers_fini. DG_OK, DG_EINVAL (the team's zone is unusable),
 * DG_ENOMEM, or a store error. Inside the caller's transaction. */
int dg_tiers_compute(dg_store *st, const dg_team *t, const dg_perm_who *who, int64_t now,
                     dg_tiers *out);
void dg_tiers_fini(dg_tiers *t);

/* Computes the suggestion in the writer's transaction (c->team, c->now, the
 * actor's view) and updates the tier of every customer whose suggestion
 * differs, through dg_rec_update: a version, field version, change row and
 * audit record each. *changed and *ranked get the counts. DG_OK, or the
 * first failure (m says which customer). Writer thread. */
int dg_tiers_apply(dg_rec_ctx *c, uint32_t *changed, uint32_t *ranked, dg_mutation *m);

#endif
