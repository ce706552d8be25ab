/* claims.c - the public pool: claims, releases and auto-return. See claims.h. */
#include "claims.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "dg.h"
#include "perm.h"

static int refuse_as(dg_mutation *m, int rc, const char *reason, const char *why)
{
    m->reason = reason;
    snprintf(m->field, sizeof m->field, "customer_id");
    snprintf(m->why, sizeof m->why, "%s", why);
    return rc;
}

/* The live customer `id` the actor sees, or why not. */
static int load(dg_rec_ctx *c, int64_t id, dg_record **out, dg_mutation *m)
{
    dg_perm_who who = {c->who->user_id, c->who->role, c->who->restricted};
    int rc = dg_store_rec_get(c->tx->store, DG_KIND_CUSTOMER, id, c->arena, out);

    if (rc == DG_OK && !dg_perm_sees(&who, dg_customer_owner(*out), dg_customer_tier(*out))) {
        m->is_hidden = true;
        rc = DG_ENOTFOUND;
    }
    if (rc == DG_ENOTFOUND)
        return refuse_as(m, DG_ENOTFOUND, "not_found", "no such customer");
    if (rc == DG_OK && (*out)->is_archived)
        return refuse_as(m, DG_ESTATE, "archived", "the customer is archived; restore it first");
    return rc;
}

/* Sets the owner of `cur` to `owner` through dg_rec_update. */
static int set_owner(dg_rec_ctx *c, const dg_record *cur, int64_t owner, dg_mutation *m)
{
    static const char *const mask[] = {"owner"};
    dg_rec_ctx pc = *c;
    dg_record *patch = dg_record_new(c->arena, DG_KIND_CUSTOMER);

    if (!patch)
        return DG_ENOMEM;
    patch->id = cur->id;
    patch->v[dg_entity_field_index(dg_entity_get(DG_KIND_CUSTOMER), "owner")].i = owner;
    pc.owner_by_pool = true;
    return dg_rec_update(&pc, patch, mask, 1, cur->version, m);
}

int dg_pool_claim(dg_rec_ctx *c, int64_t id, int max_claims, dg_mutation *m, int64_t *holder,
                  int64_t *claimed)
{
    dg_record *cur;
    int64_t owner;
    int rc;

    DG_ASSERT_THREAD(DG_THREAD_WRITER);
    memset(m, 0, sizeof *m);
    *holder = 0;
    *claimed = 0;
    if ((rc = load(c, id, &cur, m)) != DG_OK)
        return rc;
    owner = dg_customer_owner(cur);
    if (owner == c->who->user_id) {
        m->record = cur;
        *holder = owner;
        return dg_store_pool_claims(c->tx->store, c->who->user_id, claimed);
    }
    if (owner != 0) {
        *holder = owner;
        return refuse_as(m, DG_ESTATE, "already_claimed", "someone else claimed it first");
    }
    if ((rc = dg_store_pool_claims(c->tx->store, c->who->user_id, claimed)) != DG_OK)
        return rc;
    if (c->who->role == DG_ROLE_SALES && max_claims > 0 && *claimed >= max_claims) {
        char why[160];

        snprintf(why, sizeof why,
                 "you hold %lld customers claimed from the pool, the team's limit is %d: "
                 "release one first",
                 (long long)*claimed, max_claims);
        return refuse_as(m, DG_ESTATE, "pool_limit", why);
    }
    if ((rc = set_owner(c, cur, c->who->user_id, m)) != DG_OK ||
        (rc = dg_store_pool_mark_claimed(c->tx->store, id, c->now)) != DG_OK)
        return rc;
    *holder = c->who->user_id;
    (*claimed)++;
    return DG_OK;
}

int dg_pool_release(dg_rec_ctx *c, int64_t id, dg_mutation *m)
{
    dg_record *cur;
    int64_t owner;
    int rc;

    DG_ASSERT_THREAD(DG_THREAD_WRITER);
    memset(m, 0, sizeof *m);
    if ((rc = load(c, id, &cur, m)) != DG_OK)
        return rc;
    owner = dg_customer_owner(cur);
    if (owner == 0)
        return refuse_as(m, DG_ESTATE, "in_pool", "the customer is in the pool already");
    if (owner != c->who->user_id && !dg_perm_may_manage(c->who->role))
        return refuse_as(m, DG_EDENIED, "permission_denied",
                         "only its owner, a manager or an admin returns a customer to the pool");
    return set_owner(c, cur, 0, m);
}

int dg_pool_return_stale(dg_rec_ctx *c, int64_t before, size_t max, dg_pool_returned_fn fn,
                         void *ud, size_t *n)
{
    int64_t *ids = dg_xcalloc(max ? max : 1, sizeof *ids);
    size_t found = 0;
    int rc;

    DG_ASSERT_THREAD(DG_THREAD_WRITER);
    *n = 0;
    rc = dg_store_pool_stale(c->tx->store, before, ids, max, &found);
    for (size_t i = 0; i < found && rc == DG_OK; i++) {
        dg_mutation m;
        dg_record *cur;
        int64_t former;

        memset(&m, 0, sizeof m);
        if ((rc = dg_store_rec_get(c->tx->store, DG_KIND_CUSTOMER, ids[i], c->arena, &cur)))
            break;
        former = dg_customer_owner(cur);
        if ((rc = set_owner(c, cur, 0, &m)) != DG_OK)
            break;
        (*n)++;
        if (fn)
            rc = fn(c, m.record, former, ud);
    }
    free(ids);
    return rc;
}
