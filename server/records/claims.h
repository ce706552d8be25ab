/* claims.h - the public pool (公海): claiming a customer without an owner,
 * returning one to the pool, and returning those whose owner logged nothing
 * for too long. Each is an ordinary owner change through dg_rec_update
 * (version, field history, change row and audit record), decided by perm.c
 * and made inside the writer's transaction, which is what makes a claim
 * race-free: of two claims of one customer the writer runs one after the
 * other, and the second finds an owner.
 * Runs on: the writer thread.
 */
#ifndef DG_CLAIMS_H
#define DG_CLAIMS_H

#include "records.h"

/* Makes the actor the owner of pool customer `id`. DG_OK (also when the
 * actor owns it already: m->seq 0), DG_ENOTFOUND (none, or hidden from the
 * actor: m->is_hidden), DG_ESTATE with m->reason "already_claimed" (someone
 * else owns it: *holder their id), "pool_limit" (a sales user holding
 * `max_claims` pool claims; 0: no limit) or "archived", or a store error.
 * *claimed: the actor's pool claims afterwards. */
int dg_pool_claim(dg_rec_ctx *c, int64_t id, int max_claims, dg_mutation *m, int64_t *holder,
                  int64_t *claimed);
/* Returns customer `id` to the pool: its owner, or a manager or admin.
 * DG_OK, DG_ENOTFOUND, DG_EDENIED (someone else's), DG_ESTATE (m->reason
 * "in_pool": it has no owner; "archived"), or a store error. */
int dg_pool_release(dg_rec_ctx *c, int64_t id, dg_mutation *m);

/* Called for each customer auto-return took from `former_owner`, inside the
 * same transaction (the notice to the former owner hangs here). */
typedef int (*dg_pool_returned_fn)(dg_rec_ctx *c, const dg_record *customer, int64_t former_owner,
                                   void *ud);
/* Returns to the pool up to `max` live customers whose owner got them or
 * last logged an interaction on them before `before` (unix ms), oldest
 * first; the actor is whoever c->who is (the server). *n: how many. */
int dg_pool_return_stale(dg_rec_ctx *c, int64_t before, size_t max, dg_pool_returned_fn fn,
                         void *ud, size_t *n);

#endif
