/* tiers.c - the ABC classification: see tiers.h for the rule.
 * Runs on: a reader thread or the writer.
 */
#include "tiers.h"

#include <stdlib.h>
#include <string.h>

#include "dg.h"
#include "tz.h"
#include "records_int.h"

#define SCRATCH_BUDGET (4u << 20) /* one customer's update */

/* Revenue high to low, then id low to high: a total order. */
static int by_rank(const void *pa, const void *pb)
{
    const dg_tier_row *a = pa, *b = pb;

    if (a->revenue != b->revenue)
        return a->revenue > b->revenue ? -1 : 1;
    return (a->customer_id > b->customer_id) - (a->customer_id < b->customer_id);
}

/* The window: [start of the local day 365 days before today, now]. */
static int window(const dg_team *t, int64_t now, int64_t *from, int64_t *to)
{
    char today[DG_DATE_LEN], first[DG_DATE_LEN];

    if (dg_tz_date(t->time_zone, now, today) != DG_OK ||
        dg_date_add_days(today, -365, first) != DG_OK ||
        dg_tz_day_start(t->time_zone, first, from) != DG_OK)
        return DG_EINVAL;
    *to = now;
    return DG_OK;
}

/* Suggests a tier for each row, the rows in rank order (tiers.h). */
static void rank(dg_tiers *r, const dg_team *t)
{
    uint64_t n = r->n;
    uint64_t n_a = (n * (uint64_t)t->tier_share_pct[1] + 50) / 100;
    uint64_t n_ab = (n * (uint64_t)(t->tier_share_pct[1] + t->tier_share_pct[2]) + 50) / 100;

    qsort(r->rows, r->n, sizeof *r->rows, by_rank);
    for (size_t i = 0; i < r->n; i++) {
        dg_tier_row *row = &r->rows[i];

        if (row->revenue <= 0)
            row->suggested = 3;
        else if (i > 0 && row->revenue == r->rows[i - 1].revenue)
            row->suggested = r->rows[i - 1].suggested;
        else
            row->suggested = i < n_a ? 1 : i < n_ab ? 2 : 3;
        r->current[row->tier]++;
        r->suggested[row->suggested]++;
        r->revenue[row->suggested] += row->revenue;
        r->changes += row->suggested != row->tier;
    }
}

int dg_tiers_compute(dg_store *st, const dg_team *t, const dg_perm_who *who, int64_t now,
                     dg_tiers *out)
{
    const char *won[DG_STAGES_MAX];
    dg_revenue_window w = {.won = won, .currency = t->currency};
    size_t kept = 0;
    int rc;

    memset(out, 0, sizeof *out);
    for (int i = 0; i < t->n_stages; i++)
        if (t->stages[i].kind == DG_STAGE_WON)
            won[w.n_won++] = t->stages[i].name;
    if ((rc = window(t, now, &w.from_ms, &w.to_ms)) != DG_OK)
        return rc;
    out->from_ms = w.from_ms;
    out->to_ms = w.to_ms;
    if ((rc = dg_store_tier_rows(st, &w, &out->rows, &out->n)) != DG_OK)
        return rc;
    for (size_t i = 0; i < out->n; i++) /* restricted tiers follow perm.c */
        if (dg_perm_sees(who, out->rows[i].owner_id, out->rows[i].tier))
            out->rows[kept++] = out->rows[i];
    out->n = kept;
    rank(out, t);
    return DG_OK;
}

void dg_tiers_fini(dg_tiers *t)
{
    free(t->rows);
    memset(t, 0, sizeof *t);
}

/* Sets one customer's tier, with a scratch arena of its own: an apply of
 * many customers must not pile up their records. */
static int set_tier(dg_rec_ctx *job_ctx, int64_t id, int tier, bool *changed, dg_mutation *m)
{
    static const char *const mask[] = {"tier"};
    dg_rec_ctx c = *job_ctx;
    dg_record *cur, *patch;
    int rc;

    c.arena = dg_arena_new(SCRATCH_BUDGET);
    rc = dg_store_rec_get(c.tx->store, DG_KIND_CUSTOMER, id, c.arena, &cur);
    if (rc == DG_OK && !(patch = dg_record_new(c.arena, DG_KIND_CUSTOMER)))
        rc = DG_ENOMEM;
    if (rc == DG_OK) {
        patch->id = id;
        patch->v[rec_field_ix(DG_KIND_CUSTOMER, "tier")].i = tier;
        rc = dg_rec_update(&c, patch, mask, 1, cur->version, m);
        *changed = rc == DG_OK && m->seq != 0;
        m->record = NULL; /* it lived in the scratch arena */
        m->conflicts = NULL;
    }
    dg_arena_free(c.arena);
    return rc;
}

int dg_tiers_apply(dg_rec_ctx *c, uint32_t *changed, uint32_t *ranked, dg_mutation *m)
{
    dg_perm_who who = {c->who->user_id, c->who->role, c->who->restricted};
    dg_tiers t;
    int rc;

    DG_ASSERT_THREAD(DG_THREAD_WRITER);
    *changed = *ranked = 0;
    if ((rc = dg_tiers_compute(c->tx->store, c->team, &who, c->now, &t)) != DG_OK)
        return rc;
    *ranked = (uint32_t)t.n;
    for (size_t i = 0; i < t.n && rc == DG_OK; i++) {
        bool is_changed = false;

        if (t.rows[i].suggested == t.rows[i].tier)
            continue;
        memset(m, 0, sizeof *m);
        rc = set_tier(c, t.rows[i].customer_id, t.rows[i].suggested, &is_changed, m);
        *changed += is_changed;
    }
    dg_tiers_fini(&t);
    return rc;
}
