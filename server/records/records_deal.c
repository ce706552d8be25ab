/* records_deal.c - the deal pipeline's rules, applied to a deal being
 * created or updated inside the writer's transaction, with the team's
 * settings the request started with (c->team): a stage is one of the
 * pipeline's, a new deal starts at the first, a stage reached brings its
 * default probability and (won) its close time, a lost deal says why.
 * Stage changes are ordinary field changes: the caller writes their field
 * versions, change row and audit record like any other.
 * Runs on: the writer thread.
 */
#include <stdio.h>
#include <string.h>

#include "dg.h"
#include "records_int.h"

static bool in_mask(const char *const *mask, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(mask[i], name) == 0)
            return true;
    return false;
}

/* Refuses the stage `name`, naming the pipeline's stages. */
static int refuse_stage(const dg_team *t, const char *name, dg_mutation *m)
{
    size_t n =
        (size_t)snprintf(m->why, sizeof m->why, "unknown stage \"%s\"; the stages are: ", name);

    for (int i = 0; i < t->n_stages && n < sizeof m->why; i++)
        n += (size_t)snprintf(m->why + n, sizeof m->why - n, "%s%s", i ? ", " : "",
                              t->stages[i].name);
    snprintf(m->field, sizeof m->field, "stage");
    m->reason = "unknown_stage";
    return DG_EINVAL;
}

/* Sets integer item `name` of `next` to v, noting it as changed when it
 * differs from `cur` (an update) - a derived change is a change like any. */
static void derive_int(dg_record *next, const dg_record *cur, const char *name, int64_t v,
                       const char **changed, size_t *n_changed)
{
    next->v[rec_field_ix(DG_KIND_DEAL, name)].i = v;
    if (cur && rec_fint(cur, name) != v && !in_mask(changed, *n_changed, name))
        changed[(*n_changed)++] = name;
}

int rec_deal_pipeline(dg_rec_ctx *c, dg_record *next, const dg_record *cur, const char *const *mask,
                      size_t n_mask, const char **changed, size_t *n_changed, dg_mutation *m)
{
    const dg_team *t = c->team;
    const char *stage;
    const dg_stage *st;
    bool is_new_stage, gives_probability, gives_at;

    DG_ASSERT_THREAD(DG_THREAD_WRITER);
    if (!t || next->kind != DG_KIND_DEAL)
        return DG_OK;
    stage = rec_fstr(next, "stage");
    if (!cur && !stage[0] && t->n_stages > 0) {
        if (!(stage = dg_arena_strdup(c->arena, t->stages[0].name)))
            return DG_ENOMEM;
        next->v[rec_field_ix(DG_KIND_DEAL, "stage")].s = stage;
    }
    is_new_stage = !cur || strcmp(rec_fstr(cur, "stage"), stage) != 0;
    st = dg_team_stage(t, stage);
    if (is_new_stage && !st)
        return refuse_stage(t, stage, m);
    /* A deal whose stage the pipeline no longer has keeps it until moved. */
    if (!st)
        return DG_OK;
    /* Given: named by the update, or (a create) not left empty. A create
     * cannot ask for probability 0 at an open stage: it gets the stage's. */
    gives_probability =
        cur ? in_mask(mask, n_mask, "probability") : rec_fint(next, "probability") != 0;
    gives_at = cur ? in_mask(mask, n_mask, "at_ms") : true; /* a create's at_ms defaults to now */
    if (is_new_stage && !gives_probability)
        derive_int(next, cur, "probability", st->probability, changed, n_changed);
    if (is_new_stage && st->kind == DG_STAGE_WON && !gives_at)
        derive_int(next, cur, "at_ms", c->now, changed, n_changed);
    if (st->kind == DG_STAGE_LOST && !rec_fstr(next, "lost_reason")[0] &&
        (is_new_stage || in_mask(mask, n_mask, "lost_reason"))) {
        snprintf(m->field, sizeof m->field, "lost_reason");
        snprintf(m->why, sizeof m->why, "a deal moved to \"%s\" needs a reason why it was lost",
                 st->name);
        m->reason = "lost_reason_required";
        return DG_EINVAL;
    }
    return DG_OK;
}
